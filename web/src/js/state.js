// SPDX-License-Identifier: BSD-2-Clause
// state.js: the page's one state object, the rules that turn flows into places, and a tiny change bus.
//
// DESIGN: every module reads `state` and announces what it changed with emit(topic); nobody keeps a
// private copy of the flows. A "place" is the remote end of one or more flows that have a location:
// flows whose geo has numeric lat and lon, grouped by (lat, lon) rounded to PLACE_DECIMALS decimals.
// Each place gets one merged arc (per direction). Flows without a location (LAN, multicast, unknown
// to the GeoIP database) are not places: they are counted in a ring at home. window.netglobe.stats()
// and the end-to-end test use this same rule (placeKey), so their numbers must agree.
//
// Colour comes from the daemon's attention level per flow (high, low, none), not from the verdict:
// a place takes the highest level among its CURRENT flows (active ones, and ended ones for FADE_S
// after the page saw them end), so a place turns blue again once its last high flow has ended and
// faded. Unanswered inbound attempts (signal `unanswered`: scans of this host) are neither places
// nor part of the ring unless the person asks to see them, and then they are grey, never red.

export const PLACE_DECIMALS = 1;

export const VERDICTS = ['normal', 'anomalous', 'blocklisted', 'local'];
// Higher is worse; the worst verdict wins when flows merge into one arc.
const SEVERITY = { local: 1, normal: 2, anomalous: 3, blocklisted: 4 };

// Attention levels, highest first, as the daemon sends them in `attention`.
export const LEVELS = ['high', 'low', 'none'];
// What the list's chips select: the three levels and the unanswered inbound attempts.
export const CHIP_LEVELS = ['high', 'low', 'none', 'unanswered'];
// Higher is more urgent; the highest level wins when flows merge into one arc.
const RANK = { unanswered: 0, none: 1, low: 2, high: 3 };

// How long an ended flow keeps colouring its place (?fade=S overrides; the tests use a few seconds).
export const FADE_S = 60;

export const PALETTES = {
	standard: {
		high: '#ff2d2d', low: '#c0e0ff', none: '#3d9bff', unanswered: '#c8c8c8',
		normal: '#3d9bff', anomalous: '#ff2d2d', blocklisted: '#d64dff', local: '#9aa6b5', home: '#58f0b0',
	},
	// Okabe-Ito colours: safe for the common colour-vision deficiencies. Low is a lighter sky blue
	// and also carries a shape (dashed arc end, hollow dot), so it never depends on hue alone.
	colorblind: {
		high: '#e69f00', low: '#bde5fa', none: '#56b4e9', unanswered: '#c8c8c8',
		normal: '#56b4e9', anomalous: '#e69f00', blocklisted: '#cc79a7', local: '#a0a0a0', home: '#f0e442',
	},
};

export const state = {
	home: null,			// {lat, lon, source}
	learning: null,			// {learning, since, elapsed_s, window_s, progress}
	learningAt: 0,			// performance.now() when `learning` arrived
	capture: null,			// {source, live}
	generated: null,
	lastEventId: 0,
	flows: new Map(),		// id -> flow object as the API sends it
	ended: new Map(),		// id -> performance.now() when the page saw the flow end (-Infinity: long ago)
	nextFade: Infinity,		// performance.now() when the next ended flow stops colouring its place
	unanswered: 0,			// flows held that are unanswered inbound attempts
	marks: new Map(),		// id -> {kind: 'new'|'closed'|'changed', at: ms}
	traffic: new Map(),		// place key -> {sent: ms, received: ms}: when bytes last moved that way
	places: new Map(),		// key -> place (see rebuildPlaces)
	localFlows: 0,			// flows without a location
	stats: null,			// last /api/stats object
	alerts: [],			// last alerts, newest first
	conn: { connected: false, state: 'connecting', retryAt: 0, error: '', stale: false, lastUpdate: 0 },
	homeShown: null,		// the home drawn: {lat, lon, source, from: 'daemon'|'browser'|'page'} or null (home.js)
	trusted: new Map(),		// flow id -> {rule, kind, value}: flows the person trusted from this page (undo)
	history: { at: null, flows: null, doc: null },	// the moment the time bar shows (flows: a Map), or at null: live
	ui: {
		direction: 'both',	// 'sent' | 'received' | 'both'
		palette: 'standard',
		filters: { level: '', proto: '', country: '', process: '', text: '', active: false },
		sort: { key: 'attention', dir: -1 },
		showUnanswered: false,	// draw unanswered inbound attempts (grey) and list them under "all"
		fadeS: FADE_S,
		reducedMotion: false,	// prefers-reduced-motion: no rotation, no travelling pulses
		selected: null,		// flow id shown in details
		selectedPlace: null,	// place key highlighted on the globe
		layout: 'desktop',
		view: 'flows',		// the list: 'flows', 'destination' or 'process' (groups)
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

// The attention level of a flow: the daemon's `attention`, or, from a daemon that does not send it
// yet, one derived from the verdict (anomalous or blocklisted: high; anything else: none).
export function attentionOf(f) {
	const a = f && f.attention;
	if (a === 'high' || a === 'low' || a === 'none') return a;
	return f && (f.verdict === 'anomalous' || f.verdict === 'blocklisted') ? 'high' : 'none';
}

// True for an inbound connection attempt this host never answered (signal `unanswered`).
export function isUnanswered(f) {
	return !!(f && Array.isArray(f.signals) && f.signals.some((s) => s && s.name === 'unanswered'));
}

// The level the list shows and its chips select: 'unanswered' or the attention level.
export function levelOf(f) {
	return isUnanswered(f) ? 'unanswered' : attentionOf(f);
}

// Rank of a level for sorting and merging (high 3, low 2, none 1, unanswered 0).
export function rank(level) { return RANK[level] || 0; }

// The higher of two levels (null counts as nothing).
export function higher(a, b) {
	if (!a) return b || null;
	if (!b) return a;
	return rank(a) >= rank(b) ? a : b;
}

// The level a flow gives its place now: ended flows count only while they fade (FADE_S).
function currentLevel(f, now, fadeMs) {
	if (isUnanswered(f)) return 'unanswered';
	if (f.active) return attentionOf(f);
	const at = state.ended.has(f.id) ? state.ended.get(f.id) : -Infinity;
	if (now - at < fadeMs) {
		const a = attentionOf(f);
		if (a !== 'none') state.nextFade = Math.min(state.nextFade, at + fadeMs);
		return a;
	}
	return 'none';
}

// Note when flow f (new or changed) ended, as far as the page can tell; prev is its previous copy.
export function noteEnded(f, prev, now = performance.now()) {
	if (f.active) { state.ended.delete(f.id); return; }
	if (prev && !prev.active) return;		// ended before: keep the time we have
	if (!state.ended.has(f.id)) state.ended.set(f.id, now);
}

/*
 * Note the end of a flow that was already over when a /flows snapshot first showed it: in a live
 * capture it ended about when its last packet was seen (generated - last_seen, both the daemon's
 * clocks); a replayed file has no common clock with the page, so its ended flows count as faded
 * (the globe shows what is still going on at the end of the replay).
 */
export function noteEndedAtLoad(f, live, generatedMs, now = performance.now()) {
	if (f.active || state.ended.has(f.id)) return;
	const seen = Date.parse(f.last_seen);
	const age = live && isFinite(generatedMs) && isFinite(seen) ? Math.max(0, generatedMs - seen) : Infinity;
	state.ended.set(f.id, now - age);
}

// The flows the page shows: the live ones, or those of the moment the time bar points at.
export function shownFlows() {
	return state.history.flows || state.flows;
}

// Recompute state.places, state.localFlows and state.unanswered from the flows shown; cheap enough for 50,000 flows.
export function rebuildPlaces() {
	const places = new Map();
	const now = performance.now();
	const fadeMs = Math.max(0, state.ui.fadeS) * 1000;
	const showUn = state.ui.showUnanswered || state.ui.filters.level === 'unanswered';
	let local = 0, unanswered = 0;
	state.nextFade = Infinity;
	for (const f of shownFlows().values()) {
		const un = isUnanswered(f);
		if (un) {
			unanswered++;
			if (!showUn) continue;	// scans of this host draw nothing unless asked for
		}
		const key = placeKey(f);
		if (key === null) { local++; continue; }
		let p = places.get(key);
		if (!p) {
			const [la, lo] = key.split(',').map(Number);
			p = {
				key, lat: la, lon: lo, geo: f.geo, flows: 0, active: 0,
				bytesSent: 0, bytesReceived: 0, packetsSent: 0, packetsReceived: 0,
				verdictSent: null, verdictReceived: null, verdict: null,
				attentionSent: null, attentionReceived: null, attention: null,
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
		const lvl = currentLevel(f, now, fadeMs);
		if ((f.bytes_sent || f.packets_sent)) {
			p.verdictSent = worse(p.verdictSent, f.verdict_sent || f.verdict);
			p.attentionSent = higher(p.attentionSent, lvl);
		}
		if ((f.bytes_received || f.packets_received)) {
			p.verdictReceived = worse(p.verdictReceived, f.verdict_received || f.verdict);
			p.attentionReceived = higher(p.attentionReceived, lvl);
		}
		p.verdict = worse(p.verdict, f.verdict);
		p.attention = higher(p.attention, lvl);
		if (f.first_seen < p.firstSeen) p.firstSeen = f.first_seen;
		if (f.last_seen > p.lastSeen) p.lastSeen = f.last_seen;
		p.ids.push(f.id);
	}
	for (const p of places.values()) {
		// A place always has at least one direction to draw: fall back to the overall level.
		if (!p.verdictSent && !p.verdictReceived) p.verdictSent = p.verdict || 'normal';
		if (!p.attentionSent && !p.attentionReceived) p.attentionSent = p.attention || 'none';
		const old = state.places.get(p.key);
		p.birth = old ? old.birth : performance.now() / 1000;
	}
	state.places = places;
	state.localFlows = local;
	state.unanswered = unanswered;
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

// Counts of flows per attention level (unanswered attempts apart), from the flows the page holds.
export function levelCounts() {
	const c = { high: 0, low: 0, none: 0, unanswered: 0 };
	for (const f of shownFlows().values()) c[levelOf(f)]++;
	return c;
}

// The colour of a verdict in the palette in use.
export function colorOf(verdict) {
	const pal = PALETTES[state.ui.palette] || PALETTES.standard;
	return pal[verdict] || pal.normal;
}
