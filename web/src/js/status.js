// SPDX-License-Identifier: BSD-2-Clause
// status.js: the header: capture source, packets/s, active flows, attention counts, warnings; the
// learning banner under it; and the count of unanswered inbound attempts over the globe.
import { state, on, emit, LEVELS, levelCounts } from './state.js';
import { fmtInt, fmtRate, fmtHours, esc, levelIcon, LEVEL_WORDS, fmtClock } from './util.js';

const $ = (id) => document.getElementById(id);
const DISCONNECT_GRACE_MS = 2500;
let disconnectedSince = 0;

// Keep the header in step with state.
export function initStatus() {
	on('stats', render);
	on('flows', render);
	on('status', render);
	on('home', render);
	setInterval(render, 1000);
	render();
}

// Rewrite the header from state.
function render() {
	const st = state.stats || {};
	const cap = state.capture;
	const src = (cap && cap.source) || st.source || '';
	const live = cap ? cap.live : /interface/.test(src);
	// A replayed file shows its base name; the full path is in the tooltip.
	const shown = src.replace(/^file (.*\/)?([^/]+)$/, 'file $2');
	$('st-source').innerHTML = src ? `<span class="${live ? 'live' : 'file'}" aria-hidden="true"></span>${esc(shown)}` : '–';
	$('st-source').title = src ? `Capture source: ${src}${live ? ' (live)' : ' (replayed file)'}` : 'Capture source';
	const counts = levelCounts();
	$('st-rate').querySelector('b').textContent = st.packets_per_sec != null ? fmtRate(st.packets_per_sec) : '–';
	$('st-active').querySelector('b').textContent = fmtInt(st.flows_active != null ? st.flows_active : state.flows.size ? [...state.flows.values()].filter((f) => f.active).length : 0);
	const lv = LEVELS.map((v) =>
		`<span class="attn a-${v}" title="${LEVEL_WORDS[v]}: ${counts[v]} flows">${levelIcon(v)}<span class="vl">${v}</span><b>${fmtInt(counts[v])}</b></span>`).join('');
	const box = $('st-levels');
	if (box.dataset.html !== lv) { box.dataset.html = lv; box.innerHTML = lv; }
	$('st-levels').setAttribute('aria-label', LEVELS.map((v) => `${counts[v]} ${LEVEL_WORDS[v]}`).join(', '));

	renderLearning();
	renderUnanswered(counts.unanswered);

	// Warnings: the stream (after a short grace, so a quick reconnect does not flash) and drops.
	const warns = [];
	const now = performance.now();
	if (!state.conn.connected) {
		if (!disconnectedSince) disconnectedSince = now;
	} else disconnectedSince = 0;
	// Stale: the stream has been down past the grace period. The view freezes and greys (main.js),
	// the header says when the page last heard from the daemon, and the retries go on.
	const stale = !!(disconnectedSince && now - disconnectedSince > DISCONNECT_GRACE_MS && !state.benchMode);
	if (stale !== !!state.conn.stale) {
		state.conn.stale = stale;
		if (stale) state.conn.staleAt = performance.now();
		document.documentElement.classList.toggle('stale', stale);
		emit('stale');
	}
	const up = $('st-updated');
	const upText = state.conn.lastUpdate ? `${stale ? 'last update' : 'updated'} ${fmtClock(state.conn.lastUpdate)}` : '';
	if (up.textContent !== upText) up.textContent = upText;
	up.classList.toggle('old', stale);
	if (stale) {
		const secs = state.conn.retryAt ? Math.max(0, Math.ceil((state.conn.retryAt - Date.now()) / 1000)) : 0;
		warns.push(`<span class="warn" id="warn-stream">⚠ live stream disconnected${state.conn.state === 'closed' && secs ? ` · retrying in ${secs} s` : ' · reconnecting'}</span>`);
	}
	// While the stream is down, a failed /flows says nothing new (the daemon is out of reach): one warning,
	// so the header keeps its height and the frozen view does not move.
	if (state.conn.error && !stale) warns.push(`<span class="warn">⚠ ${esc(state.conn.error)}</span>`);
	if (st.drops > 0) {
		warns.push(`<span class="warn" id="warn-drops" title="The kernel dropped packets before netglobe could read them">⚠ capture dropped ${fmtInt(st.drops)} packets</span>`);
	}
	const html = warns.join('');
	const w = $('warnings');
	if (w.innerHTML !== html) w.innerHTML = html;
}

/*
 * While the whitelist learns (the first 48 h), nearly every destination is a first contact, so
 * nearly everything is red: say so in words under the header, with the progress.
 */
function renderLearning() {
	const L = state.learning;
	const el = $('learning-banner');
	if (!(L && L.learning)) {
		el.hidden = true;
		return;
	}
	// The clock stops with the stream: a frozen view must not count on.
	const upTo = state.conn.stale ? state.conn.staleAt : performance.now();
	const elapsed = Math.min(L.window_s, (L.elapsed_s || 0) + Math.max(0, upTo - state.learningAt) / 1000);
	const pct = Math.max(0, Math.min(100, 100 * elapsed / (L.window_s || 1)));
	const text = `Learning what this computer normally talks to (${fmtHours(elapsed)} of ${fmtHours(L.window_s)}). ` +
		'Until then red marks every destination seen for the first time; known services are blue.';
	if (el.dataset.text !== text) {
		el.dataset.text = text;
		el.innerHTML = `<span class="bar" aria-hidden="true"><i></i></span><span class="txt">${esc(text)}</span>`;
	}
	el.querySelector('.bar i').style.width = `${pct.toFixed(1)}%`;
	el.hidden = false;
}

/*
 * Unanswered inbound attempts (scans of this host) draw nothing by default; say how many in words,
 * from /api/stats `unanswered` (which counts beyond the flows the page holds), else from the flows
 * held. The button beside it shows them in grey.
 */
function renderUnanswered(held) {
	const u = state.stats && state.stats.unanswered;
	const flows = u && typeof u.flows === 'number' ? u.flows : held;
	const addrs = u && typeof u.addresses === 'number' ? u.addresses : null;
	const box = $('unanswered');
	if (!flows && !held) {
		box.hidden = true;
		return;
	}
	const text = `${fmtInt(flows)} unanswered connection attempt${flows === 1 ? '' : 's'}` +
		(addrs != null ? ` from ${fmtInt(addrs)} address${addrs === 1 ? '' : 'es'}` : '');
	const t = $('unanswered-text');
	if (t.textContent !== text) t.textContent = text;
	box.hidden = false;
}
