// SPDX-License-Identifier: BSD-2-Clause
// history.js: the time bar: look at the globe and the list as they were at a moment of the daemon's
// history (GET /flows?at=T), back to live with one button; and "while you were away", a summary of
// what happened since this browser last looked (GET /api/history/summary).
//
// DESIGN: a moment of the past is a second set of flows (state.history.flows) that the globe, the
// list, the chips and the groups show instead of the live ones (state.shownFlows); the live flows
// keep following the stream underneath, so "Live" is instant. Times are the daemon's packet times
// (a replayed file keeps its own). The bar spans from the oldest stored flow to the newest packet;
// it appears only when the daemon keeps a history (the summary answers).
import { state, on, emit, rebuildPlaces } from './state.js';
import { apiJson, apiFetch } from './api.js';
import { esc, fmtTime } from './util.js';

const $ = (id) => document.getElementById(id);
const SEEN_KEY = 'netglobe.seenUntil';
const range = { from: NaN, to: NaN };
let timer = 0;

// Start: find the history's span, show the bar, and say what happened while this browser was away.
export function initHistory() {
	const r = $('t-range');
	r.addEventListener('input', () => {
		clearTimeout(timer);
		showAtLabel(timeOf(Number(r.value)));
		timer = setTimeout(() => pick(Number(r.value)), 250);
	});
	$('t-live').addEventListener('click', () => goLive());
	on('flows', (d) => { if (d && d.snapshot && !d.past) probe(); noteSeen(); });
	setInterval(probe, 30000);
}

// The newest packet time the page knows (ms), from the live flows.
function newestPacket() {
	let t = NaN;
	for (const f of state.flows.values()) {
		const s = Date.parse(f.last_seen);
		if (isFinite(s) && !(s <= t)) t = s;
	}
	return t;
}

let probed = false;
// Ask for the summary of the whole store: its span sets the bar's range (404: no history kept).
async function probe() {
	try {
		const r = await apiFetch('/api/history/summary', { headers: { Accept: 'application/json' } });
		if (!r.ok) { $('timebar').hidden = true; return; }
		const s = await r.json();
		const to = Math.max(Date.parse(s.to) || 0, newestPacket() || 0);
		let from = Date.parse(s.from);
		if (!isFinite(from)) {
			// The whole store's summary names no bounds: its oldest flow starts the bar.
			const h = await apiJson('/api/history?limit=1');
			from = h.flows && h.flows.length ? Date.parse(h.flows[0].first_seen) : NaN;
		}
		if (!isFinite(from) || !(to > from)) return;
		range.from = from;
		range.to = to;
		$('timebar').hidden = false;
		if (!probed) { probed = true; away(); }
	} catch (e) {
		/* no history: the bar stays hidden */
	}
}

// Slider position (0..1000) to a time (ms), and back.
function timeOf(v) { return range.from + (range.to - range.from) * v / 1000; }
function posOf(t) { return Math.round(1000 * (t - range.from) / (range.to - range.from)); }

// Say which moment the bar points at.
function showAtLabel(t, snap) {
	const live = !state.history.at;
	const text = live ? 'now (live)' : `${fmtTime(new Date(t).toISOString())}${snap ? ` · snapshot ${fmtTime(snap).slice(11)}` : ''}`;
	$('t-at').textContent = text;
	$('t-range').setAttribute('aria-valuetext', text);
}

// The slider moved: the live view at the right end, else the moment it points at.
function pick(v) {
	if (v >= 1000) { goLive(); return; }
	showAt(new Date(timeOf(v)).toISOString());
}

/*
 * Show the moment iso (RFC 3339): the flows of the latest snapshot at or before it. Resolves to the
 * document shown, or null when the daemon has none (the bar then says so).
 */
export async function showAt(iso) {
	let doc;
	try {
		doc = await apiJson(`/flows?at=${encodeURIComponent(iso)}`);
	} catch (e) {
		$('t-at').textContent = `nothing kept for then (${e.message})`;
		return null;
	}
	state.history.at = iso;
	state.history.doc = doc;
	state.history.flows = new Map((doc.flows || []).map((f) => [f.id, f]));
	document.documentElement.classList.add('past');
	$('t-live').setAttribute('aria-pressed', 'false');
	if (isFinite(range.from)) $('t-range').value = String(Math.max(0, Math.min(999, posOf(Date.parse(iso)))));
	showAtLabel(Date.parse(iso), doc.snapshot);
	rebuildPlaces();
	emit('flows', { snapshot: true, past: true });
	emit('ui');
	return doc;
}

// Back to the live flows.
export function goLive() {
	const was = !!state.history.at;
	state.history.at = null;
	state.history.doc = null;
	state.history.flows = null;
	document.documentElement.classList.remove('past');
	$('t-live').setAttribute('aria-pressed', 'true');
	$('t-range').value = '1000';
	showAtLabel(0);
	if (was) {
		rebuildPlaces();
		emit('flows', { snapshot: true });
		emit('ui');
	}
}

// Remember how far this browser has seen (packet time), for the next visit's summary.
function noteSeen() {
	const t = newestPacket();
	if (isFinite(t) && !state.history.at) {
		try { localStorage.setItem(SEEN_KEY, new Date(t).toISOString()); } catch (e) { /* private mode */ }
	}
}

let seenAtLoad;
try { seenAtLoad = localStorage.getItem(SEEN_KEY); } catch (e) { seenAtLoad = null; }

// "While you were away": the summary since this browser last looked, with a way to see that moment.
async function away() {
	const since = seenAtLoad;
	if (!since || !(Date.parse(since) < range.to)) return;
	let s;
	try {
		s = await apiJson(`/api/history/summary?from=${encodeURIComponent(since)}&to=${encodeURIComponent(new Date(range.to).toISOString())}`);
	} catch (e) {
		return;
	}
	const box = $('away');
	box.innerHTML = `<span><b>While you were away</b> (since ${esc(fmtTime(since))}): ${esc(s.text || `${s.new_destinations} new destinations, ${s.need_a_look} need a look`)}.</span>` +
		'<button type="button" class="btn" id="away-then">Show then</button><button type="button" class="btn" id="away-close">Dismiss</button>';
	box.hidden = false;
	box.dataset.text = s.text || '';
	$('away-then').addEventListener('click', () => showAt(since));
	$('away-close').addEventListener('click', () => { box.hidden = true; });
}
