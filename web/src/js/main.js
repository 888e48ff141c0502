// SPDX-License-Identifier: BSD-2-Clause
// main.js: starts the page: picks the globe or the flat map, wires state, stream, panel and header,
// runs the frame loop, and exposes the read-only test hook window.netglobe.
//
// URL parameters (for tests and benchmarks): ?bench=N draws N synthetic places and talks to no
// server; ?webgl=0 forces the flat map; ?rotate=0 stops the auto-rotation; ?fade=S sets how long an
// ended flow keeps colouring its place (default FADE_S). #token=... is the LAN access token: api.js
// moves it into sessionStorage and out of the address bar and history before anything else runs.
import { state, on, emit, PALETTES, placeKey, PLACE_DECIMALS, rebuildPlaces, levelOf, shownFlows } from './state.js';
import { widthForBytes, esc, fmtBytes, fmtInt, flagHtml, levelBadge, LEVEL_WORDS, placeName } from './util.js';
import { chooseLabels, drawLabels, drawnLabels, drawInset, insetPick, insetPlaces } from './labels.js';
import { resolveHome, parseLatLon, saveHome } from './home.js';
import { initHistory, showAt, goLive } from './history.js';
import { shownGroups } from './groups.js';
import { startStream } from './stream.js';
import { hasToken, onAuthNeeded, interceptDownloads, onDownloadError } from './api.js';
import { initPanel, openPlace, openFlow, matches, listIds } from './panel.js';
import { initStatus } from './status.js';
import { FlatView } from './flatmap.js';
import { synthesize } from './bench.js';

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const phoneQuery = window.matchMedia('(max-width: 600px)');
const motionQuery = window.matchMedia('(prefers-reduced-motion: reduce)');
// A phone held sideways (style.css has the same query): globe left, list right, compact.
const landscapeQuery = window.matchMedia('(max-height: 500px) and (orientation: landscape) and (max-width: 1000px)');
let view = null;
let dirty = true;
let aimed = 0;		// 1: aimed at home alone, 2: aimed with places
const frameTimes = [];
const renderTimes = [];
const onePixel = new Uint8Array(4);

// The daemon wants the LAN token: say where it comes from (once).
function showTokenNeeded() {
	const n = $('view-note');
	if (!n || n.dataset.token) return;
	n.dataset.token = '1';
	n.hidden = false;
	n.textContent = hasToken()
		? 'netglobe refused this tab\'s access token. Open the link netglobe printed at start (it ends in #token=...) again, or scan its QR code.'
		: 'This netglobe needs its access token. Open the link netglobe printed at start (it ends in #token=...), or scan the QR code it shows on its terminal with your phone.';
}

// True when a WebGL context can be made here.
function webglAvailable() {
	if (params.get('webgl') === '0') return false;
	try {
		const c = document.createElement('canvas');
		return !!(c.getContext('webgl2') || c.getContext('webgl'));
	} catch (e) {
		return false;
	}
}

// The globe when WebGL works, else the flat map; starts loading the world map.
async function makeView() {
	const container = $('view');
	const small = phoneQuery.matches;
	if (webglAvailable()) {
		try {
			const { GlobeView } = await import('./globe.js');
			const v = new GlobeView(container, { rotate: params.get('rotate') !== '0' && !motionQuery.matches });
			state.render.webgl = true;
			state.render.mode = 'globe';
			v.loadEarth(small).then(() => { state.render.earth = true; dirty = true; }).catch((e) => console.error('netglobe: world map:', e));
			return v;
		} catch (e) {
			console.warn('netglobe: WebGL failed, using the flat map:', e);
			container.querySelectorAll('canvas').forEach((c) => c.remove());
		}
	}
	const v = new FlatView(container);
	state.render.webgl = false;
	state.render.mode = 'flat';
	$('view-note').hidden = false;
	$('view-note').textContent = 'WebGL is not available here: flat map';
	v.loadEarth(small).then(() => { state.render.earth = true; dirty = true; }).catch((e) => console.error('netglobe: world map:', e));
	return v;
}

// How much a place's arc is dimmed: the selection wins, then the list's filters.
function dimOf(p) {
	const sel = state.ui.selectedPlace;
	if (sel) return p.key === sel ? 1 : 0.22;
	if (!filtersActive()) return 1;
	for (const id of p.ids) {
		const f = shownFlows().get(id);
		if (f && matches(f)) return 1;
	}
	return 0.18;
}

const RECENT_MS = 10000;
let recentUntil = 0;
// Did bytes move between home and this place, in this direction, in the last RECENT_MS?
function recentTraffic(key, dir) {
	const t = state.traffic.get(key);
	const at = t ? t[dir] : 0;
	if (!at || performance.now() - at > RECENT_MS) return false;
	recentUntil = Math.max(recentUntil, at + RECENT_MS);
	return true;
}

// Is any list filter narrowing the flows?
function filtersActive() {
	const f = state.ui.filters;
	return f.level || f.proto || f.country || f.process || f.text || f.active;
}

// Rebuild arcs from state.places (called at most once per frame).
function updateView() {
	dirty = false;
	if (!view) return;
	const pal = PALETTES[state.ui.palette] || PALETTES.standard;
	const home = state.benchMode ? state.home : resolveHome(state.home);
	state.homeShown = home;
	if (home) view.setHome(home.lat, home.lon, pal.home);
	// Point the camera at home as soon as it is known, and once more when the first places arrive.
	if (home && view.aim && aimed < 2 && (state.generated || state.benchMode) && (!aimed || state.places.size)) {
		aimed = state.places.size || state.benchMode ? 2 : 1;
		view.aim(home, state.places);
	}
	// No home, no arcs: an arc from 0,0 would be a lie; the prompt asks where home is instead.
	const drawn = view.update(home ? state.places : new Map(), {
		direction: state.ui.direction,
		colorOf: (v) => pal[v] || pal.none,
		widthOf: widthForBytes,
		dimOf,
		recentTraffic,
		pulses: !state.ui.reducedMotion,
		now: performance.now() / 1000,
		selected: state.ui.selectedPlace,
	});
	if (view.arcs && view.arcs.setLocal) view.arcs.setLocal(state.localFlows, pal.local);
	state.render.drawnArcs = drawn;
	state.render.instances = view.arcs ? view.arcs.instances.length : 0;
	renderLegend();
	renderEmpty(home);
	drawInset($('inset'), home, pal, phoneQuery.matches);
}

/* ---------- Labels and empty states ---------- */

const labelCanvas = document.createElement('canvas');
labelCanvas.className = 'labels';

/*
 * Say over the map why it is empty, and where home is: no traffic yet, no public remote (only the
 * local network), or public remotes without a place (GeoIP off or without data); and, when home is
 * not known, ask for it.
 */
function renderEmpty(home) {
	const el = $('empty-note');
	let html = '';
	const flows = [...state.flows.values()];
	const pub = flows.filter((f) => f.remote_scope === 'public');
	const src = (state.capture && state.capture.source) || '';
	if (state.benchMode || !state.generated) html = '';
	else if (!flows.length) {
		html = `<b>No traffic yet.</b> netglobe has seen no connection${src ? ` on ${esc(src)}` : ''} since it started. ` +
			'Arcs from home appear here as soon as this computer talks to another.';
	} else if (!pub.length) {
		html = `<b>No public remote yet.</b> All ${fmtInt(flows.length)} connection${flows.length === 1 ? '' : 's'} stay on this network ` +
			'(LAN, multicast, loopback): they are the grey ring at home and are listed beside the map.';
	} else if (!pub.some((f) => f.geo && typeof f.geo.lat === 'number')) {
		html = `<b>GeoIP is off or has no data.</b> ${fmtInt(pub.length)} connection${pub.length === 1 ? '' : 's'} to public addresses have no place to draw. ` +
			'Start netglobe without <code>--no-geoip</code> (and run <code>make deps</code> for the database) to see them on the map; they are listed beside it.';
	}
	if (html && home) html += ' <span class="muted">The green dot is home.</span>';
	if (el.dataset.html !== html) {
		el.dataset.html = html;
		el.innerHTML = html;
		el.hidden = !html;
	}
	const ask = $('home-prompt');
	const need = !home && !state.benchMode && !!state.generated;
	if (ask.hidden === need) ask.hidden = !need;
}

// The home prompt: "lat,lon" typed in is remembered and used until the daemon knows better.
function initHomePrompt() {
	$('home-form').addEventListener('submit', (e) => {
		e.preventDefault();
		const h = parseLatLon($('home-input').value);
		const msg = $('home-msg');
		if (!h) { msg.textContent = 'Type latitude and longitude in degrees, such as 48.86, 2.35.'; return; }
		saveHome(h);
		msg.textContent = '';
		dirty = true;
	});
}

/* ---------- Legend ---------- */

// Where home comes from, when not from the daemon (the browser's time zone, or typed on this page).
function homeNote() {
	const h = state.homeShown;
	if (!h || h.from === 'daemon' || !h.source) return '';
	return ` (from ${esc(h.source)})`;
}

// The legend in the corner of the map (rewritten only when it changes).
function renderLegend() {
	const pal = PALETTES[state.ui.palette] || PALETTES.standard;
	const row = (color, label, long, dashed) => `<div class="lrow"><span class="sw${dashed ? ' dash' : ''}" data-c="${color}"></span>${label}<span class="long">${long}</span></div>`;
	const dirNote = { both: 'upper arc: sent · lower arc: received', sent: 'showing traffic sent from here', received: 'showing traffic received here' }[state.ui.direction];
	const shownUn = state.ui.showUnanswered || state.ui.filters.level === 'unanswered';
	const html = row(pal.high, 'high', ': look here (never seen before, odd behaviour, blocklist)') +
		row(pal.low, 'low', ': known service, new address (dashed end, ring)', true) +
		row(pal.none, 'known', '') +
		(shownUn ? row(pal.unanswered, 'unanswered', ': inbound attempts never answered') : '') +
		row(pal.home, 'home', `${homeNote()} · grey ring: ${fmtInt(state.localFlows)} local/unlocated`) +
		`<div class="note">${dirNote}; a place shows its current flows; width grows with bytes; pulses move with the traffic; dim arcs are closed flows.</div>`;
	const el = $('legend');
	if (el.dataset.html !== html) {
		el.dataset.html = html;
		// Swatch colours are set through the CSSOM (no inline style attributes, so a strict CSP holds).
		el.innerHTML = html;
		el.querySelectorAll('[data-c]').forEach((s) => {
			const c = s.dataset.c;
			s.style.background = s.classList.contains('dash') ? `linear-gradient(90deg, ${c} 0 55%, transparent 55% 65%, ${c} 65% 80%, transparent 80% 88%, ${c} 88%)` : c;
		});
	}
}

/* ---------- Pointer: hover tooltip and click to open ---------- */

// Hover shows a place's numbers; a click (not a drag) opens its details.
function initPointer() {
	const el = $('view');
	const tip = $('tooltip');
	let down = null;
	let lastMove = 0;
	// Only presses on the map itself count: a tap on a button, the legend, a toast or the inset that
	// floats over the map must never also open whatever arc lies under it.
	const onMap = (e) => e.target && e.target.tagName === 'CANVAS' && !e.target.closest('#inset');
	el.addEventListener('pointerdown', (e) => { down = onMap(e) ? { x: e.clientX, y: e.clientY, t: performance.now() } : null; });
	el.addEventListener('pointerup', (e) => {
		if (!down || !onMap(e)) { down = null; return; }
		const moved = Math.hypot(e.clientX - down.x, e.clientY - down.y);
		const quick = performance.now() - down.t < 600;
		down = null;
		if (moved > 6 || !quick) return;
		const r = el.getBoundingClientRect();
		const key = view.pick(e.clientX - r.left, e.clientY - r.top, e.pointerType === 'touch' ? 22 : 10);
		if (key) openPlace(key);
	});
	el.addEventListener('pointermove', (e) => {
		if (e.pointerType !== 'mouse' || e.buttons || !onMap(e)) { tip.hidden = true; return; }
		const now = performance.now();
		if (now - lastMove < 50) return;
		lastMove = now;
		const r = el.getBoundingClientRect();
		const x = e.clientX - r.left, y = e.clientY - r.top;
		const key = view.pick(x, y, 9);
		const p = key && state.places.get(key);
		if (!p) { tip.hidden = true; el.style.cursor = ''; return; }
		el.style.cursor = 'pointer';
		tip.hidden = false;
		tip.innerHTML = `<b>${flagHtml(p.geo && p.geo.country)} ${esc(placeName(p.geo) || key)}</b><br>` +
			`${fmtInt(p.flows)} flow${p.flows > 1 ? 's' : ''} (${fmtInt(p.active)} active) · ${levelBadge(p.attention, LEVEL_WORDS[p.attention])}<br>` +
			`↑ ${fmtBytes(p.bytesSent)} · ↓ ${fmtBytes(p.bytesReceived)}<br><span class="muted">click for details</span>`;
		tip.style.left = `${Math.min(x + 14, r.width - 290)}px`;
		tip.style.top = `${Math.min(y + 14, r.height - 100)}px`;
	});
	el.addEventListener('pointerleave', () => { tip.hidden = true; });
	$('inset').addEventListener('click', (e) => {
		const r = e.currentTarget.querySelector('canvas').getBoundingClientRect();
		const key = insetPick(e.clientX - r.left, e.clientY - r.top);
		if (key) openPlace(key);
	});
}

/* ---------- Alerts ---------- */

let toastTimer = 0;
// Show an alert event for 8 s; clicking it opens the flow. Alerts of flows that the daemon says need
// no or low attention (a known service's new address, a scan nobody answered) do not pop up.
function showAlert(a) {
	const f = a && a.flow_id != null ? state.flows.get(a.flow_id) : null;
	if (f && levelOf(f) !== 'high') return;
	const t = $('toast');
	const who = a.remote_domain || a.remote_ip;
	const where = a.geo ? placeName(a.geo) : '';
	t.innerHTML = `${levelBadge('high', a.verdict)} <b>${esc(who)}</b> ${where ? `(${esc(where)})` : ''} · ${esc(a.direction)}<br><span class="muted">${esc(a.reason || '')}</span>`;
	t.hidden = false;
	t.onclick = () => { if (a.flow_id != null) openFlow(a.flow_id); t.hidden = true; };
	clearTimeout(toastTimer);
	toastTimer = setTimeout(() => { t.hidden = true; }, 8000);
}

/* ---------- Controls ---------- */

// The direction and palette buttons (remembered), and the layout switch.
function initControls() {
	const saved = localStorage.getItem('netglobe.palette');
	if (saved && PALETTES[saved]) state.ui.palette = saved;
	const savedDir = localStorage.getItem('netglobe.direction');
	if (['sent', 'received', 'both'].includes(savedDir)) state.ui.direction = savedDir;
	const pal = $('palette');
	const applyPalette = () => {
		document.documentElement.classList.toggle('pal-cb', state.ui.palette === 'colorblind');
		pal.setAttribute('aria-pressed', String(state.ui.palette === 'colorblind'));
		pal.title = state.ui.palette === 'colorblind' ? 'Colour-blind-safe palette (on)' : 'Colour-blind-safe palette (off)';
	};
	pal.addEventListener('click', () => {
		state.ui.palette = state.ui.palette === 'colorblind' ? 'standard' : 'colorblind';
		localStorage.setItem('netglobe.palette', state.ui.palette);
		applyPalette();
		dirty = true;
	});
	applyPalette();
	const seg = $('direction');
	const applyDir = () => seg.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.dir === state.ui.direction)));
	seg.addEventListener('click', (e) => {
		const b = e.target.closest('button[data-dir]');
		if (!b) return;
		state.ui.direction = b.dataset.dir;
		localStorage.setItem('netglobe.direction', state.ui.direction);
		applyDir();
		dirty = true;
	});
	applyDir();
	// Unanswered inbound attempts: hidden unless asked for (then grey arcs and listed under "all").
	const un = $('unanswered-toggle');
	const applyUn = () => {
		un.setAttribute('aria-pressed', String(state.ui.showUnanswered));
		// (On a phone the words in .long are left out: "Show in grey", "Hide".)
		un.innerHTML = state.ui.showUnanswered ? 'Hide<span class="long"> them</span>' : 'Show<span class="long"> them</span> in grey';
	};
	un.addEventListener('click', () => {
		state.ui.showUnanswered = !state.ui.showUnanswered;
		applyUn();
		rebuildPlaces();
		emit('flows', { snapshot: false, count: 0 });
		emit('ui');
	});
	applyUn();
	const applyMotion = () => { state.ui.reducedMotion = motionQuery.matches; dirty = true; };
	motionQuery.addEventListener('change', applyMotion);
	applyMotion();
	const controls = document.querySelector('.controls');
	const setLayout = () => {
		state.ui.layout = phoneQuery.matches ? 'phone' : landscapeQuery.matches ? 'landscape' : 'desktop';
		document.documentElement.dataset.layout = state.ui.layout;
		// On a phone the direction and palette buttons float over the globe, saving a header row.
		(state.ui.layout === 'phone' ? $('view') : $('status')).appendChild(controls);
	};
	phoneQuery.addEventListener('change', setLayout);
	landscapeQuery.addEventListener('change', setLayout);
	setLayout();
}

/* ---------- Frame loop ---------- */

// Median of an array of numbers (0 when empty).
function median(a) {
	if (!a.length) return 0;
	const s = [...a].sort((x, y) => x - y);
	return s[s.length >> 1];
}

let last = 0;
let renders = 0;		// frames drawn (a frozen view draws none)
let frozenFrames = 0;
let frozenAt = 0;
// One animation frame: rebuild arcs if needed, render, time it.
function loop(now) {
	requestAnimationFrame(loop);
	const dt = last ? now - last : 16;
	last = now;
	frameTimes.push(dt);
	if (frameTimes.length > 240) frameTimes.shift();
	// The stream stopped: one last frame in grey, then nothing moves (no rotation, no pulses, no fades:
	// the view holds the last state known) until it is back, so a dead view never passes for a live one.
	const stale = !!state.conn.stale && !state.benchMode;
	// Arcs whose traffic went quiet slow their pulses down again.
	if (!stale && recentUntil && now > recentUntil) { recentUntil = 0; dirty = true; }
	// An ended flow stopped colouring its place: recompute the places' levels.
	if (!stale && now >= state.nextFade && !state.benchMode) { rebuildPlaces(); emit('flows', { snapshot: false, count: 0, fade: true }); }
	const changed = dirty;
	if (dirty) updateView();
	if (stale && frozenFrames > 1 && !changed) return;
	frozenFrames = stale ? frozenFrames + 1 : 0;
	renders++;
	let ms = view.frame(stale ? frozenAt || (frozenAt = now) : (frozenAt = 0, now), stale ? 0 : Math.min(0.1, dt / 1000));
	if (state.benchMode && view.gl) {
		// Benchmarks time the whole frame, GPU included: reading one pixel waits for the drawing
		// (gl.finish() does not, in Chromium).
		const t0 = performance.now();
		view.gl.readPixels(0, 0, 1, 1, view.gl.RGBA, view.gl.UNSIGNED_BYTE, onePixel);
		ms += performance.now() - t0;
	}
	renderTimes.push(ms);
	if (renderTimes.length > 240) renderTimes.shift();
	drawLabels(labelCanvas, $('view').getBoundingClientRect(), view);
	if (!state.render.ready && state.render.earth && (state.flows.size || state.benchMode || state.generated)) {
		state.render.ready = true;
		document.documentElement.dataset.ready = '1';
	}
}

/* ---------- Test hook ---------- */

// window.netglobe: the read-only test hook (docs/page.md).
function installHook() {
	const hook = {
		version: 1,
		placeDecimals: PLACE_DECIMALS,
		// Numbers for tests and benchmarks; see docs/page.md.
		stats() {
			const ft = median(frameTimes);
			return {
				webgl: state.render.webgl,
				mode: state.render.mode,
				ready: state.render.ready,
				arcs: state.render.drawnArcs,
				instances: state.render.instances,
				places: state.places.size,
				flows: state.flows.size,
				localFlows: state.localFlows,
				fps: ft ? Math.round(1000 / ft * 10) / 10 : 0,
				frameTimeMs: Math.round(ft * 100) / 100,
				renderMs: Math.round(median(renderTimes) * 100) / 100,
				frames: frameTimes.length,
				layout: state.ui.layout,
				connected: state.conn.connected,
				direction: state.ui.direction,
				palette: state.ui.palette,
				lastEventId: state.lastEventId,
				detailsOpen: !$('details').hidden,
				selected: state.ui.selected,
				level: state.ui.filters.level || 'all',
				showUnanswered: state.ui.showUnanswered,
				unansweredFlows: state.unanswered,
				fadeS: state.ui.fadeS,
				learningBanner: !$('learning-banner').hidden,
				stale: !!state.conn.stale,
				renders,
				lastUpdate: state.conn.lastUpdate || 0,
				home: state.homeShown ? { lat: state.homeShown.lat, lon: state.homeShown.lon, from: state.homeShown.from } : null,
				view: state.ui.view,
				history: state.history.at || null,
			};
		},
		// Every place (merged arc) with its numbers.
		places() {
			return [...state.places.values()].map((p) => ({
				key: p.key, lat: p.lat, lon: p.lon, flows: p.flows, active: p.active, verdict: p.verdict,
				verdictSent: p.verdictSent, verdictReceived: p.verdictReceived, attention: p.attention,
				attentionSent: p.attentionSent, attentionReceived: p.attentionReceived, bytesSent: p.bytesSent,
				bytesReceived: p.bytesReceived, country: p.geo && p.geo.country, city: p.geo && p.geo.city,
			}));
		},
		placeKey,
		// CSS px (relative to the page) of the middle of a place's arc (or of its point at t in [0, 1]), or null when hidden.
		arcPoint(key, t) {
			const s = view && view.arcScreenPoint(key, typeof t === 'number' ? t : undefined);
			if (!s) return null;
			const r = $('view').getBoundingClientRect();
			return { x: r.left + s.x, y: r.top + s.y };
		},
		// The labels drawn over the map in the last frame: {key, text, x, y, w, h, selected} (view px, top left).
		labels: drawnLabels,
		// The places the inset near home shows.
		inset: insetPlaces,
		// The groups listed (By destination / By program), as the daemon gave them.
		groups: shownGroups,
		// The ids of the list's rows (all of them, not only those in view), top to bottom.
		listIds,
		// Show the moment iso of the history (as the time bar does), or live again.
		showAt,
		goLive,
		// Every drawn arc: {key, dir, height (globe radii), width (px), level}.
		arcs() { return view ? view.arcs.instances.map((a) => ({ key: a.key, dir: a.dir, height: a.h, width: a.width, level: a.level })) : []; },
		resetFrameTimes() { frameTimes.length = 0; renderTimes.length = 0; },
		// The raw samples behind frameTimeMs and renderMs (the last 240 frames), for benchmarks.
		frameSamples() { return { frame: [...frameTimes], render: [...renderTimes] }; },
	};
	Object.defineProperty(window, 'netglobe', { value: Object.freeze(hook), writable: false, configurable: false });
}

/* ---------- Start ---------- */

// Start everything.
async function main() {
	onAuthNeeded(showTokenNeeded);
	interceptDownloads();
	onDownloadError((e) => {
		const n = $('view-note');
		n.hidden = false;
		n.textContent = `The download failed: ${e.message}`;
	});
	const fade = Number(params.get('fade'));
	if (params.has('fade') && Number.isFinite(fade) && fade >= 0) state.ui.fadeS = fade;
	initControls();
	installHook();
	view = await makeView();
	view.onResize = () => { dirty = true; };
	if (params.has('debug')) window.__ngview = view;
	$('view').appendChild(labelCanvas);
	initPanel();
	initStatus();
	initPointer();
	initHomePrompt();
	on('flows', () => { dirty = true; chooseLabels(); });
	on('stale', () => { dirty = true; });
	on('home', () => { dirty = true; });
	on('filters', () => { dirty = true; });
	on('selection', (d) => {
		dirty = true;
		const p = state.ui.selectedPlace && state.places.get(state.ui.selectedPlace);
		if (p && d && d.focus) {
			const s = view.placeScreenPoint(p.lat, p.lon);
			if (!s || s.hidden) view.focus(p.lat, p.lon);
		}
	});
	on('alert', showAlert);
	const bench = Number(params.get('bench'));
	if (params.has('bench') && Number.isFinite(bench) && bench >= 0) {
		state.bench = bench;
		state.benchMode = true;
		synthesize(bench);
		state.generated = new Date().toISOString();
		rebuildPlaces();
		emit('home');
		emit('flows', { snapshot: true });
	} else {
		startStream();
		initHistory();
	}
	requestAnimationFrame(loop);
}

main().catch((e) => {
	console.error('netglobe: start failed', e);
	const n = $('view-note');
	n.hidden = false;
	n.textContent = `The page failed to start: ${e.message}`;
});
