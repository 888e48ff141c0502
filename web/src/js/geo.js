// SPDX-License-Identifier: BSD-2-Clause
// geo.js: loads the world (Natural Earth via world-atlas TopoJSON) and draws it on 2D canvases.
//
// DESIGN: the globe's texture and the flat-map fallback are the same equirectangular drawing.
// world-atlas rings are in plain lon/lat and some cross the antimeridian (Russia, Fiji) or wrap a
// pole (Antarctica), so each ring is "unwrapped" (longitudes made continuous), closed through the
// pole when it winds around it, and drawn three times shifted by -360, 0 and +360 degrees; the
// canvas clips what falls outside. topojson-client is its UMD build (window.topojson).

let worldPromise = null;

// Fetch and decode the atlas once: {land: MultiPolygon rings, borders: line strings, coast: line strings}.
export function loadWorld(detail = '50m') {
	if (worldPromise) return worldPromise;
	worldPromise = (async () => {
		const topojson = window.topojson;
		if (!topojson) throw new Error('topojson-client did not load');
		const [countriesRes, landRes] = await Promise.all([
			fetch(`vendor/countries-${detail}.json`), fetch(`vendor/land-${detail}.json`),
		]);
		if (!countriesRes.ok || !landRes.ok) throw new Error('world atlas files are missing');
		const countries = await countriesRes.json();
		const landTopo = await landRes.json();
		const land = topojson.feature(landTopo, landTopo.objects.land);
		// Borders: arcs shared by two different countries; coastlines: arcs used once.
		const borders = topojson.mesh(countries, countries.objects.countries, (a, b) => a !== b);
		const coast = topojson.mesh(landTopo, landTopo.objects.land);
		return { land: polygonsOf(land), borders: borders.coordinates, coast: coast.coordinates };
	})();
	return worldPromise;
}

// A list of polygons (each a list of rings) from a GeoJSON Feature/FeatureCollection.
function polygonsOf(gj) {
	const out = [];
	const add = (g) => {
		if (!g) return;
		if (g.type === 'Polygon') out.push(g.coordinates);
		else if (g.type === 'MultiPolygon') out.push(...g.coordinates);
		else if (g.type === 'GeometryCollection') g.geometries.forEach(add);
	};
	if (gj.type === 'FeatureCollection') gj.features.forEach((f) => add(f.geometry));
	else if (gj.type === 'Feature') add(gj.geometry);
	else add(gj);
	return out;
}

// Make a ring's longitudes continuous; close it over a pole when it winds once around the globe.
function unwrapRing(ring) {
	const pts = [];
	let off = 0;
	let prev = null;
	for (const [lon, lat] of ring) {
		if (prev !== null) {
			const d = lon + off - prev;
			if (d > 180) off -= 360;
			else if (d < -180) off += 360;
		}
		prev = lon + off;
		pts.push([prev, lat]);
	}
	const span = pts.length ? pts[pts.length - 1][0] - pts[0][0] : 0;
	if (Math.abs(span) > 180) {
		// Winds around a pole: go down (or up) to the pole along the last and first meridians.
		const last = pts[pts.length - 1];
		const pole = pts.reduce((s, p) => s + p[1], 0) / pts.length < 0 ? -90 : 90;
		pts.push([last[0], pole], [pts[0][0], pole]);
	}
	return pts;
}

// Fill the land and stroke coastlines/borders into a 2D context; project(lon, lat) -> [x, y].
// `lonShift` is the width in pixels of 360 degrees (for the three copies); opts gives colours.
export function drawWorld(g, world, project, lonShift, opts) {
	g.save();
	g.fillStyle = opts.land;
	g.beginPath();
	for (const poly of world.land) {
		for (const ring of poly) {
			const pts = unwrapRing(ring).map(([lo, la]) => project(lo, la));
			for (const k of [-1, 0, 1]) {
				const dx = k * lonShift;
				pts.forEach(([x, y], i) => (i ? g.lineTo(x + dx, y) : g.moveTo(x + dx, y)));
				g.closePath();
			}
		}
	}
	g.fill('evenodd');
	const stroke = (lines, style, width) => {
		if (!style || !width) return;
		g.strokeStyle = style;
		g.lineWidth = width;
		g.lineJoin = 'round';
		g.beginPath();
		for (const line of lines) {
			let prevLon = null;
			for (const [lo, la] of line) {
				const [x, y] = project(lo, la);
				if (prevLon === null || Math.abs(lo - prevLon) > 180) g.moveTo(x, y);
				else g.lineTo(x, y);
				prevLon = lo;
			}
		}
		g.stroke();
	};
	stroke(world.coast, opts.coast, opts.coastWidth);
	stroke(world.borders, opts.border, opts.borderWidth);
	g.restore();
}

// Great-circle graticule lines every `step` degrees as lists of [lon, lat] (for the globe's lines).
export function graticule(step = 15, res = 2) {
	const lines = [];
	for (let lon = -180; lon < 180; lon += step) {
		const l = [];
		for (let lat = -80; lat <= 80; lat += res) l.push([lon, lat]);
		lines.push(l);
	}
	for (let lat = -75; lat <= 75; lat += step) {
		const l = [];
		for (let lon = -180; lon <= 180; lon += res) l.push([lon, lat]);
		lines.push(l);
	}
	return lines;
}
