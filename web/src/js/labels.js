// SPDX-License-Identifier: BSD-2-Clause
// labels.js: the words drawn over the map: place names with their flow count and volume on the
// busiest places, the selected place's label, and the inset map of the places near home.
//
// DESIGN: labels are drawn on a 2D canvas laid over the globe (or flat map) every frame, because
// the globe turns; they are chosen only when the flows change (busiest first: most bytes, then
// most flows). A label that would overlap one already drawn is left out. Places within
// INSET_KM of home sit under the home marker on a globe seen whole, so an inset map (its own
// canvas, land from the same atlas) shows them spread out, with names; clicking one opens it.
import { state } from './state.js';
import { fmtBytes, fmtInt, distanceKm } from './util.js';
import { loadWorld, drawWorld } from './geo.js';

const MAX_LABELS = 16;
export const INSET_KM = 600;

let chosen = [];		// place keys that get a name label, busiest first
let drawn = [];			// what the last frame drew: {key, text, x, y, selected}
let world = null;

// A place's short name: its city, else its country, else its key.
export function placeLabel(p) {
	const g = p.geo || {};
	return g.city || g.country_name || g.country || p.key;
}

// The label text of a place: "Frankfurt ×5 · 30 MB" (×N only for merged places).
export function labelText(p) {
	const n = p.flows > 1 ? ` ×${fmtInt(p.flows)}` : '';
	return `${placeLabel(p)}${n} · ${fmtBytes(p.bytesSent + p.bytesReceived)}`;
}

// The elements drawn over the map, by id.
const OVER_MAP = ['legend', 'unanswered', 'inset', 'view-note', 'direction', 'palette', 'toast'];

// Pick the places that get a label: the busiest by volume, then by number of flows.
export function chooseLabels() {
	chosen = [...state.places.values()]
		.sort((a, b) => (b.bytesSent + b.bytesReceived) - (a.bytesSent + a.bytesReceived) || b.flows - a.flows)
		.slice(0, MAX_LABELS).map((p) => p.key);
}

// Draw the labels on canvas c over the view (every frame); view gives placeScreenPoint().
export function drawLabels(c, box, view) {
	const pr = Math.min(window.devicePixelRatio || 1, 2);
	const W = Math.round(box.width * pr), H = Math.round(box.height * pr);
	if (c.width !== W || c.height !== H) {
		c.width = W; c.height = H;
		c.style.width = `${box.width}px`; c.style.height = `${box.height}px`;
	}
	const g = c.getContext('2d');
	g.setTransform(pr, 0, 0, pr, 0, 0);
	g.clearRect(0, 0, box.width, box.height);
	g.textBaseline = 'middle';
	drawn = [];
	// The boxes over the map (the legend, the unanswered note, the inset, the direction buttons...) are
	// taken too: a label under one would be unreadable.
	const taken = [];
	for (const id of OVER_MAP) {
		const e = document.getElementById(id);
		if (!e || e.hidden || !e.offsetParent) continue;
		const r = e.getBoundingClientRect();
		if (r.right < box.left || r.left > box.right || r.bottom < box.top || r.top > box.bottom) continue;
		taken.push({ x: r.left - box.left, y: r.top - box.top, w: r.width, h: r.height });
	}
	const sel = state.ui.selectedPlace;
	const keys = sel ? [sel, ...chosen.filter((k) => k !== sel)] : chosen;
	for (const key of keys) {
		const p = state.places.get(key);
		if (!p) continue;
		const s = view.placeScreenPoint(p.lat, p.lon);
		if (!s || s.hidden) continue;
		const selected = key === sel;
		const text = selected ? `${labelText(p)} · ↑ ${fmtBytes(p.bytesSent)} ↓ ${fmtBytes(p.bytesReceived)}` : labelText(p);
		g.font = selected ? '700 13px system-ui, "DejaVu Sans", sans-serif' : '600 11px system-ui, "DejaVu Sans", sans-serif';
		const w = g.measureText(text).width + 10;
		const hgt = selected ? 20 : 16;
		let x = s.x + 8, y = s.y - 10;
		if (x + w > box.width - 4) x = s.x - 8 - w;
		// Busiest first; a label that would overlap one already drawn or a box over the map is left out
		// (the selected never is).
		const top = y - hgt / 2;
		if (!selected && taken.some((t) => x < t.x + t.w + 2 && t.x < x + w + 2 && top < t.y + t.h + 2 && t.y < top + hgt + 2)) continue;
		taken.push({ x, y: top, w, h: hgt });
		g.globalAlpha = selected ? 0.95 : 0.82;
		g.fillStyle = '#0a101d';
		g.beginPath();
		g.roundRect ? g.roundRect(x, y - hgt / 2, w, hgt, hgt / 2) : g.rect(x, y - hgt / 2, w, hgt);
		g.fill();
		if (selected) {
			g.strokeStyle = '#ffffff';
			g.lineWidth = 1.5;
			g.stroke();
		}
		g.globalAlpha = 1;
		g.fillStyle = selected ? '#ffffff' : '#e8eef7';
		g.fillText(text, x + 5, y);
		drawn.push({ key, text, x, y: y - hgt / 2, w, h: hgt, selected });
	}
}

// The labels the last frame drew (the test hook): {key, text, x, y (top left, view px), w, h, selected}.
export function drawnLabels() {
	return drawn.map((d) => ({ ...d }));
}

/* ---------- Inset: places near home ---------- */

let insetKeys = [];
let insetSig = '';
let insetPts = [];

// The places within INSET_KM of home (not home's own spot), nearest first.
export function nearPlaces(home) {
	if (!home) return [];
	return [...state.places.values()].map((p) => ({ p, km: distanceKm(home.lat, home.lon, p.lat, p.lon) }))
		.filter((x) => x.km <= INSET_KM).sort((a, b) => a.km - b.km).map((x) => x.p);
}

// Redraw the inset (when the flows, home or palette change); hidden when no place is near home.
export function drawInset(el, home, pal, small) {
	const near = nearPlaces(home);
	insetKeys = near.map((p) => p.key);
	if (!near.length) { el.hidden = true; insetPts = []; insetSig = ''; return; }
	el.hidden = false;
	const c = el.querySelector('canvas');
	const r = c.getBoundingClientRect();
	// Redrawn only when what it shows changes (drawing the land costs more than a frame).
	const sig = `${home.lat},${home.lon}|${near.map((p) => `${p.key}:${p.attention}`).join()}|${pal.home}|${r.width}x${r.height}|${!!world}`;
	if (sig === insetSig) return;
	insetSig = sig;
	const pr = Math.min(window.devicePixelRatio || 1, 2);
	const w = Math.max(1, Math.round(r.width)), h = Math.max(1, Math.round(r.height));
	c.width = w * pr; c.height = h * pr;
	const g = c.getContext('2d');
	g.setTransform(pr, 0, 0, pr, 0, 0);
	// The box: home in the middle, wide enough for the farthest near place (at least 150 km each way).
	const far = Math.max(150, ...near.map((p) => distanceKm(home.lat, home.lon, p.lat, p.lon))) * 1.25;
	const dLat = far / 111;
	const kx = Math.max(0.2, Math.cos(home.lat * Math.PI / 180));
	const dLon = Math.max(dLat * w / h / kx, far / (111 * kx));
	const sc = Math.min(h / (2 * dLat), w / (2 * dLon * kx));
	const project = (lo, la) => [w / 2 + (lo - home.lon) * kx * sc, h / 2 - (la - home.lat) * sc];
	g.fillStyle = '#071b36';
	g.fillRect(0, 0, w, h);
	if (world) drawWorld(g, world, project, 360 * kx * sc, { land: '#3d6072', coast: '#9cc3dd', coastWidth: 0.8, border: '#6d92ad', borderWidth: 0.6 });
	else loadWorld(small ? '110m' : '50m').then((wd) => { world = wd; drawInset(el, home, pal, small); }).catch(() => {});
	const [hx, hy] = project(home.lon, home.lat);
	insetPts = [];
	g.font = '600 11px system-ui, "DejaVu Sans", sans-serif';
	g.textBaseline = 'middle';
	for (const p of near) {
		const [x, y] = project(p.lon, p.lat);
		const col = pal[p.attention] || pal.none;
		g.strokeStyle = col;
		g.globalAlpha = 0.9;
		g.lineWidth = 1.5;
		g.beginPath();
		g.moveTo(hx, hy);
		g.quadraticCurveTo((hx + x) / 2, Math.min(hy, y) - 12, x, y);
		g.stroke();
		g.fillStyle = col;
		g.beginPath();
		g.arc(x, y, 4, 0, Math.PI * 2);
		g.fill();
		insetPts.push({ key: p.key, x, y });
	}
	g.globalAlpha = 1;
	g.fillStyle = pal.home;
	g.beginPath();
	g.arc(hx, hy, 4.5, 0, Math.PI * 2);
	g.fill();
	// Names last, on a dark backing, so they stay readable over the arcs.
	const taken = [];
	for (const p of near) {
		const pt = insetPts.find((q) => q.key === p.key);
		const text = placeLabel(p);
		const tw = g.measureText(text).width + 6;
		let x = pt.x + 6;
		if (x + tw > w - 2) x = pt.x - 6 - tw;
		const y = pt.y - 8;
		if (taken.some((t) => Math.abs(t[1] - y) < 13 && x < t[0] + t[2] && t[0] < x + tw)) continue;
		taken.push([x, y, tw]);
		g.fillStyle = 'rgba(5, 8, 16, 0.8)';
		g.fillRect(x, y - 7, tw, 14);
		g.fillStyle = '#e8eef7';
		g.fillText(text, x + 3, y);
	}
}

// The place key of the inset dot nearest (x, y) in the inset's CSS px, within 14 px, or null.
export function insetPick(x, y) {
	let best = null, bd = 14 * 14;
	for (const q of insetPts) {
		const d = (q.x - x) ** 2 + (q.y - y) ** 2;
		if (d < bd) { bd = d; best = q.key; }
	}
	return best;
}

// The keys the inset shows (the test hook).
export function insetPlaces() {
	return [...insetKeys];
}
