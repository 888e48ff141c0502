// SPDX-License-Identifier: BSD-2-Clause
// status.js: the header: capture source, packets/s, active flows, verdict counts, learning, warnings.
import { state, on, VERDICTS, verdictCounts } from './state.js';
import { fmtInt, fmtRate, fmtHours, esc, verdictIcon } from './util.js';

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
	const counts = verdictCounts();
	$('st-rate').querySelector('b').textContent = st.packets_per_sec != null ? fmtRate(st.packets_per_sec) : '–';
	$('st-active').querySelector('b').textContent = fmtInt(st.flows_active != null ? st.flows_active : counts.active);
	$('st-verdicts').innerHTML = VERDICTS.map((v) =>
		`<span class="verdict v-${v}" title="${v}: ${counts[v]} flows">${verdictIcon(v)}<span class="vl">${v}</span><b>${fmtInt(counts[v])}</b></span>`).join('');
	$('st-verdicts').setAttribute('aria-label', VERDICTS.map((v) => `${counts[v]} ${v}`).join(', '));

	const L = state.learning;
	const el = $('st-learning');
	if (L && L.learning) {
		const elapsed = Math.min(L.window_s, (L.elapsed_s || 0) + (performance.now() - state.learningAt) / 1000);
		const pct = Math.max(0, Math.min(100, 100 * elapsed / (L.window_s || 1)));
		el.hidden = false;
		el.innerHTML = `<span>learning: ${fmtHours(elapsed)} of ${fmtHours(L.window_s)}</span><span class="bar" aria-hidden="true"><i></i></span>`;
		el.querySelector('.bar i').style.width = `${pct.toFixed(1)}%`;
		el.title = 'The first 48 h build the whitelist: until then, many first contacts are marked anomalous.';
	} else {
		el.hidden = true;
	}

	// Warnings: the stream (after a short grace, so a quick reconnect does not flash) and drops.
	const warns = [];
	const now = performance.now();
	if (!state.conn.connected) {
		if (!disconnectedSince) disconnectedSince = now;
	} else disconnectedSince = 0;
	if (disconnectedSince && now - disconnectedSince > DISCONNECT_GRACE_MS && !state.benchMode) {
		const secs = state.conn.retryAt ? Math.max(0, Math.ceil((state.conn.retryAt - Date.now()) / 1000)) : 0;
		warns.push(`<span class="warn" id="warn-stream">⚠ live stream disconnected${state.conn.state === 'closed' && secs ? ` · retrying in ${secs} s` : ' · reconnecting'}</span>`);
	}
	if (state.conn.error) warns.push(`<span class="warn">⚠ ${esc(state.conn.error)}</span>`);
	if (st.drops > 0) {
		warns.push(`<span class="warn" id="warn-drops" title="The kernel dropped packets before netglobe could read them">⚠ capture dropped ${fmtInt(st.drops)} packets</span>`);
	}
	const html = warns.join('');
	const w = $('warnings');
	if (w.innerHTML !== html) w.innerHTML = html;
}
