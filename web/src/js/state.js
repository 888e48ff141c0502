// SPDX-License-Identifier: BSD-2-Clause
// state.js: the page's one state object, the rules that turn flows into places, and a tiny change bus.
//
// DESIGN: every module reads `state` and announces what it changed with emit(topic); nobody keeps a
// private copy of the flows. A "place" is the remote end of one or more flows that have a location:
// flows whose geo has numeric lat and lon, grouped by (lat, lon) rounded to PLACE_DECIMALS decimals.
// Each place gets one merged arc (per direction). Flows without a location (LAN, multicast, unknown
// to the GeoIP database) are not places: they are counted in a ring at home. window.netglobe.stats()
// and the end-to-end test use this same rule (placeKey), so their numbers must agree.

export const PLACE_DECIMALS = 1;

export const VERDICTS = ['normal', 'anomalous', 'blocklisted', 'local'];
// Higher is worse; the worst verdict wins when flows merge into one arc.
const SEVERITY = { local: 1, normal: 2, anomalous: 3, blocklisted: 4 };

export const PALETTES = {
	standard: { normal: '#3d9bff', anomalous: '#ff2d2d', blocklisted: '#d64dff', local: '#9aa6b5', home: '#58f0b0' },
	// Okabe-Ito colours: safe for the common colour-vision deficiencies.
	colorblind: { normal: '#56b4e9', anomalous: '#e69f00', blocklisted: '#cc79a7', local: '#a0a0a0', home: '#f0e442' },
};

export const state = {
	home: null,			// {lat, lon, source}
	learning: null,			// {learning, since, elapsed_s, window_s, progress}
	learningAt: 0,			// performance.now() when `learning` arrived
	capture: null,			// {source, live}
	generated: null,
	lastEventId: 0,
	flows: new Map(),		// id -> flow object as the API sends it
	marks: new Map(),		// id -> {kind: 'new'|'closed'|'changed', at: ms}
	traffic: new Map(),		// place key -> {sent: ms, received: ms}: when bytes last moved that way
	places: new Map(),		// key -> place (see rebuildPlaces)
	localFlows: 0,			// flows without a location
	stats: null,			// last /api/stats object
	alerts: [],			// last alerts, newest first
	conn: { connected: false, state: 'connecting', retryAt: 0, error: '' },
	ui: {
		direction: 'both',	// 'sent' | 'received' | 'both'
		palette: 'standard',
		filters: { verdicts: new Set(VERDICTS), proto: '', country: '', process: '', text: '', active: false },
		sort: { key: 'last', dir: -1 },
		selected: null,		// flow id shown in details
		selectedPlace: null,	// place key highlighted on the globe
		layout: 'desktop',
	},
	render: { webgl: false, mode: 'none', fps: 0, frameTimeMs: 0, renderMs: 0, ready: false, drawnArcs: 0, instances: 0 },
	bench: 0,			// ?bench=N: synthetic flows, no server
	benchMode: false,
};

const listeners = new Map();

// Call fn(detail) whenever topic is emitted; returns an unsubscribe function.
export function on(topic, fn) {
	if (!listeners.has(topic)) listeners.set(topic, new Set());
	listeners.get(topic).add(fn);
	return () => listeners.get(topic).delete(fn);
}

// Tell every listener of topic that something changed.
export function emit(topic, detail) {
	const set = listeners.get(topic);
	if (!set) return;
	for (const fn of set) {
		try { fn(detail); } catch (e) { console.error('netglobe: listener for', topic, 'failed:', e); }
	}
}

// The key of the place a flow's remote end is at, or null when the flow has no location.
export function placeKey(flow) {
	const g = flow && flow.geo;
	if (!g || typeof g.lat !== 'number' || typeof g.lon !== 'number' || !isFinite(g.lat) || !isFinite(g.lon)) return null;
	const f = 10 ** PLACE_DECIMALS;
	return `${Math.round(g.lat * f) / f},${Math.round(g.lon * f) / f}`;
}

// The worse of two verdict names (null counts as nothing).
export function worse(a, b) {
	if (!a) return b || null;
	if (!b) return a;
	return (SEVERITY[a] || 0) >= (SEVERITY[b] || 0) ? a : b;
}

export function severity(v) { return SEVERITY[v] || 0; }

// Recompute state.places and state.localFlows from state.flows; cheap enough for 50,000 flows.
export function rebuildPlaces() {
	const places = new Map();
	let local = 0;
	for (const f of state.flows.values()) {
		const key = placeKey(f);
		if (key === null) { local++; continue; }
		let p = places.get(key);
		if (!p) {
			const [la, lo] = key.split(',').map(Number);
			p = {
				key, lat: la, lon: lo, geo: f.geo, flows: 0, active: 0,
				bytesSent: 0, bytesReceived: 0, packetsSent: 0, packetsReceived: 0,
				verdictSent: null, verdictReceived: null, verdict: null,
				firstSeen: f.first_seen, lastSeen: f.last_seen, ids: [], birth: Infinity,
			};
			places.set(key, p);
		}
		p.flows++;
		if (f.active) p.active++;
		p.bytesSent += f.bytes_sent || 0;
		p.bytesReceived += f.bytes_received || 0;
		p.packetsSent += f.packets_sent || 0;
		p.packetsReceived += f.packets_received || 0;
		if ((f.bytes_sent || f.packets_sent)) p.verdictSent = worse(p.verdictSent, f.verdict_sent || f.verdict);
		if ((f.bytes_received || f.packets_received)) p.verdictReceived = worse(p.verdictReceived, f.verdict_received || f.verdict);
		p.verdict = worse(p.verdict, f.verdict);
		if (f.first_seen < p.firstSeen) p.firstSeen = f.first_seen;
		if (f.last_seen > p.lastSeen) p.lastSeen = f.last_seen;
		p.ids.push(f.id);
	}
	for (const p of places.values()) {
		// A place always has at least one direction to draw: fall back to the overall verdict.
		if (!p.verdictSent && !p.verdictReceived) p.verdictSent = p.verdict || 'normal';
		const old = state.places.get(p.key);
		p.birth = old ? old.birth : performance.now() / 1000;
	}
	state.places = places;
	state.localFlows = local;
}

// Note that flow id changed in a way the list should flash for a moment.
export function mark(id, kind) {
	state.marks.set(id, { kind, at: performance.now() });
}

// Remember that bytes moved between home and a flow's place just now (live pulses).
export function noteTraffic(old, f) {
	const key = placeKey(f);
	if (key === null) return;
	const t = state.traffic.get(key) || { sent: 0, received: 0 };
	const now = performance.now();
	if ((f.bytes_sent || 0) > ((old && old.bytes_sent) || 0)) t.sent = now;
	if ((f.bytes_received || 0) > ((old && old.bytes_received) || 0)) t.received = now;
	state.traffic.set(key, t);
}

// Counts of flows per verdict (overall verdict), from the flows the page holds.
export function verdictCounts() {
	const c = { normal: 0, anomalous: 0, blocklisted: 0, local: 0, active: 0 };
	for (const f of state.flows.values()) {
		if (f.verdict in c) c[f.verdict]++;
		if (f.active) c.active++;
	}
	return c;
}

// The colour of a verdict in the palette in use.
export function colorOf(verdict) {
	const pal = PALETTES[state.ui.palette] || PALETTES.standard;
	return pal[verdict] || pal.normal;
}
