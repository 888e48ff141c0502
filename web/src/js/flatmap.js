// SPDX-License-Identifier: BSD-2-Clause
// flatmap.js: the 2D canvas fallback when WebGL is missing: a flat world map with the same arcs.
//
// DESIGN: an equirectangular map centred on home's longitude, so every place is within 180 degrees
// of home and no arc has to wrap around the edge. Land and arcs are painted into an offscreen layer
// when data or size change; each frame only copies that layer and draws the moving pulses. It offers
// the same methods as GlobeView (update, pick, frame, ...) so main.js and the tests need not care.
import { drawWorld, loadWorld } from './geo.js';
import { distanceKm } from './util.js';
import { higher } from './state.js';

const SEA = '#0a2340', LAND = '#2d4a5e', COAST = '#7fa7c4', BORDER = '#4f7390';

export class FlatView {
	// Make the 2D canvas in container.
	constructor(container) {
		this.container = container;
		this.canvas = document.createElement('canvas');
		this.canvas.id = 'flat-canvas';
		this.canvas.setAttribute('role', 'img');
		this.canvas.setAttribute('aria-label', 'World map: arcs from home to every place this host talks with');
		container.appendChild(this.canvas);
		this.g = this.canvas.getContext('2d');
		this.layer = document.createElement('canvas');
		this.world = null;
		this.home = { lat: 0, lon: 0 };
		this.homeColor = '#58f0b0';
		this.places = new Map();
		this.opts = null;
		this.arcs = { instances: [] };
		this.pixelRatio = Math.min(window.devicePixelRatio || 1, 2);
		this.resize();
		new ResizeObserver(() => this.resize()).observe(container);
	}

	// Load the atlas (110m on small screens) and paint.
	async loadEarth(small) {
		this.world = await loadWorld(small ? '110m' : '50m');
		this.paint();
	}

	// Centre the map on home.
	setHome(lat, lon, color) {
		this.home = { lat, lon };
		this.homeColor = color;
		this.paint();
	}

	// Redraw the arcs; returns the number of places with an arc.
	update(places, opts) {
		this.places = places;
		this.opts = opts;
		this.paint();
		return new Set(this.arcs.instances.map((a) => a.key)).size;
	}

	// Fit the canvases to the container, keeping the map at 2:1.
	resize() {
		const r = this.container.getBoundingClientRect();
		this.w = Math.max(1, Math.round(r.width));
		this.h = Math.max(1, Math.round(r.height));
		for (const c of [this.canvas, this.layer]) {
			c.width = Math.round(this.w * this.pixelRatio);
			c.height = Math.round(this.h * this.pixelRatio);
		}
		this.canvas.style.width = `${this.w}px`;
		this.canvas.style.height = `${this.h}px`;
		// The map keeps 2:1 and fits the box.
		const mw = Math.min(this.w, this.h * 2) * 0.96;
		this.mw = mw;
		this.mh = mw / 2;
		this.ox = (this.w - mw) / 2;
		this.oy = (this.h - this.mh) / 2;
		this.paint();
		// A resized canvas is blank until drawn again (even while the view is frozen).
		if (this.onResize) this.onResize();
	}

	// CSS px of a lon/lat on the home-centred map.
	xy(lon, lat) {
		let d = lon - this.home.lon;
		d = ((d + 540) % 360) - 180;
		return [this.ox + (d + 180) / 360 * this.mw, this.oy + (90 - lat) / 180 * this.mh];
	}

	// Quadratic arc from home to a place: [x0, y0, cx, cy, x1, y1].
	curve(p, lift) {
		const [x0, y0] = this.xy(this.home.lon, this.home.lat);
		const [x1, y1] = this.xy(p.lon, p.lat);
		const km = distanceKm(this.home.lat, this.home.lon, p.lat, p.lon);
		const up = (0.04 + 0.5 * km / 20000) * this.mh * lift;
		return [x0, y0, (x0 + x1) / 2, Math.min(y0, y1) - up, x1, y1];
	}

	// Paint land, arcs, dots and home into the offscreen layer.
	paint() {
		const g = this.layer.getContext('2d');
		const pr = this.pixelRatio;
		g.setTransform(pr, 0, 0, pr, 0, 0);
		g.clearRect(0, 0, this.w, this.h);
		g.fillStyle = SEA;
		g.fillRect(this.ox, this.oy, this.mw, this.mh);
		if (this.world) {
			g.save();
			g.beginPath();
			g.rect(this.ox, this.oy, this.mw, this.mh);
			g.clip();
			const project = (lo, la) => [this.ox + (lo - this.home.lon + 180) / 360 * this.mw, this.oy + (90 - la) / 180 * this.mh];
			drawWorld(g, this.world, project, this.mw, { land: LAND, coast: COAST, coastWidth: 0.8, border: BORDER, borderWidth: 0.5 });
			g.restore();
		}
		const inst = [];
		if (this.opts) {
			for (const p of this.places.values()) {
				const hasSent = p.bytesSent > 0 || p.packetsSent > 0;
				const hasRecv = p.bytesReceived > 0 || p.packetsReceived > 0;
				const dirs = [];
				if (this.opts.direction !== 'received' && (hasSent || !hasRecv)) dirs.push('sent');
				if (this.opts.direction !== 'sent' && hasRecv) dirs.push('received');
				for (const d of dirs) {
					const lift = d === 'received' && this.opts.direction === 'both' ? 0.78 : 1;
					const level = (d === 'sent' ? p.attentionSent : p.attentionReceived) || p.attention || 'none';
					const c = this.curve(p, lift);
					inst.push({ key: p.key, dir: d, c, live: p.active > 0, level, width: Math.max(1.1, this.opts.widthOf(d === 'sent' ? p.bytesSent : p.bytesReceived)) });
					g.strokeStyle = this.opts.colorOf(level);
					g.globalAlpha = (p.active > 0 ? 0.9 : 0.4) * this.opts.dimOf(p);
					const sel = this.opts.selected === p.key;
					g.lineWidth = Math.max(1.1, this.opts.widthOf(d === 'sent' ? p.bytesSent : p.bytesReceived)) * (sel ? 1.7 : 1) + (sel ? 1.5 : 0);
					// Low attention: solid to 70 %, then dashed to the place (as on the globe).
					const split = level === 'low' ? 0.7 : 1;
					g.beginPath();
					g.moveTo(c[0], c[1]);
					for (let k = 1; k <= 24; k++) g.lineTo(...this.point(c, split * k / 24));
					g.stroke();
					if (split < 1) {
						g.setLineDash([4, 3]);
						g.beginPath();
						g.moveTo(...this.point(c, split));
						for (let k = 1; k <= 8; k++) g.lineTo(...this.point(c, split + (1 - split) * k / 8));
						g.stroke();
						g.setLineDash([]);
					}
				}
				if (!dirs.length) continue;
				// The dot takes the highest level of the arcs drawn for it in this view.
				const level = dirs.map((d) => (d === 'sent' ? p.attentionSent : p.attentionReceived) || p.attention || 'none')
					.reduce((a, b) => higher(a, b));
				g.globalAlpha = this.opts.dimOf(p);
				const col = this.opts.colorOf(level);
				const [x, y] = this.xy(p.lon, p.lat);
				g.beginPath();
				if (level === 'low') {
					// A hollow ring marks a known service's new address.
					g.strokeStyle = col;
					g.lineWidth = 1.5;
					g.arc(x, y, 3, 0, Math.PI * 2);
					g.stroke();
				} else {
					g.fillStyle = col;
					g.arc(x, y, 2.5, 0, Math.PI * 2);
					g.fill();
				}
			}
			g.globalAlpha = 1;
		}
		this.arcs.instances = inst;
		const [hx, hy] = this.xy(this.home.lon, this.home.lat);
		g.fillStyle = this.homeColor;
		g.beginPath();
		g.arc(hx, hy, 4, 0, Math.PI * 2);
		g.fill();
	}

	// One frame: copy the layer, draw the pulses and home's ring; returns ms spent.
	frame(nowMs) {
		const t0 = performance.now();
		const g = this.g;
		const pr = this.pixelRatio;
		g.setTransform(1, 0, 0, 1, 0, 0);
		g.clearRect(0, 0, this.canvas.width, this.canvas.height);
		g.drawImage(this.layer, 0, 0);
		g.setTransform(pr, 0, 0, pr, 0, 0);
		// Pulses: a bright dot travelling along each live arc in the direction of its traffic.
		g.fillStyle = '#ffffff';
		const s = (nowMs / 1000 * 0.35) % 1;
		let n = 0;
		for (const a of this.arcs.instances) {
			if (!a.live || (this.opts && this.opts.pulses === false) || n++ > 3000) continue;
			const t = a.dir === 'sent' ? s : 1 - s;
			const [x0, y0, cx, cy, x1, y1] = a.c;
			const u = 1 - t;
			g.globalAlpha = 0.85;
			g.fillRect(u * u * x0 + 2 * u * t * cx + t * t * x1 - 1.5, u * u * y0 + 2 * u * t * cy + t * t * y1 - 1.5, 3, 3);
		}
		g.globalAlpha = 1;
		const [hx, hy] = this.xy(this.home.lon, this.home.lat);
		g.strokeStyle = this.homeColor;
		g.lineWidth = 1.5;
		g.beginPath();
		g.arc(hx, hy, 8 + 2 * Math.sin(nowMs / 400), 0, Math.PI * 2);
		g.stroke();
		return performance.now() - t0;
	}

	// Points along an arc's curve.
	point(c, t) {
		const u = 1 - t;
		return [u * u * c[0] + 2 * u * t * c[2] + t * t * c[4], u * u * c[1] + 2 * u * t * c[3] + t * t * c[5]];
	}

	// The place key of the arc nearest (x, y) within radius, or null.
	pick(x, y, radius = 10) {
		let best = null;
		let bestD = radius * radius;
		for (const a of this.arcs.instances) {
			for (let k = 1; k <= 14; k++) {
				const [px, py] = this.point(a.c, k / 14);
				const d = (px - x) ** 2 + (py - y) ** 2;
				if (d < bestD) { bestD = d; best = a.key; }
			}
		}
		return best;
	}

	// The middle of a place's arc (or its point at t).
	arcScreenPoint(key, at) {
		const a = this.arcs.instances.find((i) => i.key === key);
		if (!a) return null;
		const [x, y] = this.point(a.c, at != null ? at : 0.5);
		return { x, y };
	}

	// Where a place is on the map.
	placeScreenPoint(lat, lon) {
		const [x, y] = this.xy(lon, lat);
		return { x, y, hidden: false };
	}

	focus() { /* the flat map shows everything at once */ }
}
