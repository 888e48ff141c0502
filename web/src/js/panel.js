// SPDX-License-Identifier: BSD-2-Clause
// panel.js: the connection list (like TCPView), its filters and sort, and the details pane.
//
// DESIGN: the list is virtual: one spacer as tall as all rows, and only the rows in view (plus a
// margin) exist in the DOM, so 50,000 flows scroll as smoothly as 50. It is an ARIA listbox with
// aria-activedescendant; arrows, Page Up/Down, Home/End move, Enter opens details, Escape closes
// them. Row highlights (green new, red closed, yellow changed) are CSS animations started with a
// negative delay, so a row re-rendered mid-animation carries on where it was.
import { state, emit, on, CHIP_LEVELS, placeKey, levelCounts, severity, levelOf, rank, rebuildPlaces, shownFlows } from './state.js';
import {
	fmtBytes, fmtInt, fmtTime, esc, flagHtml, verdictBadge, levelBadge, levelIcon, LEVEL_WORDS, signalWords, signalsOf,
	remoteName, placeName, distanceKm,
} from './util.js';
import { fetchFlow } from './stream.js';
import { apiFetch } from './api.js';
import { actionsHtml, wireActions } from './actions.js';
import { initGroups } from './groups.js';

const HIGHLIGHT_MS = 2000;
const OVERSCAN = 8;

const $ = (id) => document.getElementById(id);
let rows = [];			// filtered, sorted flows
let active = -1;		// index in rows of the keyboard cursor
let rowH = 52;
let renderQueued = false;
let optionsSig = '';

// Wire the panel to the page: filters, list, details, sheet.
export function initPanel() {
	const f = state.ui.filters;
	// Attention chips select: one level at a time (click it again, or "all", to see every level).
	const chips = $('f-levels');
	chips.innerHTML = '<button type="button" data-v="" aria-pressed="true"><span>all</span></button>' + CHIP_LEVELS.map((v) =>
		`<button type="button" data-v="${v}" aria-pressed="false" title="Show only: ${LEVEL_WORDS[v]}">${levelIcon(v)}<span>${v}</span> <span class="n" id="n-${v}">0</span></button>`).join('');
	chips.addEventListener('click', (e) => {
		const b = e.target.closest('button[data-v]');
		if (!b) return;
		const v = b.dataset.v;
		f.level = !v || f.level === v ? '' : v;
		chips.querySelectorAll('button[data-v]').forEach((c) => c.setAttribute('aria-pressed', String(c.dataset.v === f.level)));
		// Choosing "unanswered" draws those attempts on the globe too.
		rebuildPlaces();
		filtersChanged();
		emit('flows', { snapshot: false, count: 0 });
	});
	// The free text is the daemon's filter grammar (docs/api.md): sent as typed, so the list, the
	// groups and the CSV export hold the same flows.
	$('f-text').addEventListener('input', (e) => { f.text = e.target.value.trim(); filtersChanged(); askServer(); });
	on('flows', () => { if (f.text) askServerSoon(); });
	$('f-proto').addEventListener('change', (e) => { f.proto = e.target.value; filtersChanged(); });
	$('f-country').addEventListener('change', (e) => { f.country = e.target.value; filtersChanged(); });
	$('f-process').addEventListener('change', (e) => { f.process = e.target.value; filtersChanged(); });
	$('f-active').addEventListener('change', (e) => { f.active = e.target.checked; filtersChanged(); });
	$('f-sort').addEventListener('change', (e) => { state.ui.sort.key = e.target.value; refresh(); });
	$('f-dir').addEventListener('click', (e) => {
		state.ui.sort.dir = -state.ui.sort.dir;
		e.currentTarget.textContent = state.ui.sort.dir < 0 ? '↓' : '↑';
		e.currentTarget.setAttribute('aria-label', state.ui.sort.dir < 0 ? 'Sort descending' : 'Sort ascending');
		refresh();
	});
	$('f-more').addEventListener('click', (e) => {
		const box = document.querySelector('.filters');
		const open = !box.classList.contains('open');
		box.classList.toggle('open', open);
		e.currentTarget.setAttribute('aria-expanded', String(open));
		// On a phone the sheet grows to full height with the filters, so the list stays in view under them.
		if (open && state.ui.layout === 'phone' && snap < 2) setSnap(2);
	});

	const list = $('list');
	list.addEventListener('scroll', queueRender, { passive: true });
	// While the mouse is over the list, rows keep their places (new ones go at the end), so the row
	// about to be clicked never slides away; leaving the list lets the order catch up.
	list.addEventListener('pointerenter', (e) => { if (e.pointerType === 'mouse') holdOrder(true); });
	list.addEventListener('pointerleave', () => { if (hold) { holdOrder(false); refresh(); } });
	list.addEventListener('click', (e) => {
		const r = e.target.closest('.row');
		if (!r) return;
		const i = Number(r.dataset.i);
		setActive(i);
		openFlow(rows[i].id);
	});
	list.addEventListener('keydown', onListKey);
	list.addEventListener('focus', () => { if (active < 0 && rows.length) setActive(0); });
	new ResizeObserver(queueRender).observe(list);

	$('details-close').addEventListener('click', closeDetails);
	$('details').addEventListener('keydown', (e) => { if (e.key === 'Escape') closeDetails(); });
	document.addEventListener('keydown', (e) => {
		if (e.key === 'Escape' && !$('details').hidden) closeDetails();
	});

	// A change the person just made (a trust, an undo) is drawn at once, not at the next frame.
	on('flows', (d) => { refresh(); if (d && d.now) renderRows(); });
	on('ui', refresh);
	on('ui', updateExportLink);
	updateExportLink();
	initGroups(serverQuery, openFlow);
	initSheet();
	refresh();
	setInterval(tickHighlights, 500);
}

let hold = null;		// place of each row id while the order is held, or null

// Hold (or release) the rows' order; the note says so.
function holdOrder(on) {
	hold = on ? new Map(rows.map((f, i) => [f.id, i])) : null;
	$('hold-note').hidden = !hold;
}

// A filter changed: new export link, new rows, dimmed arcs.
function filtersChanged() {
	if (hold) hold = null, $('hold-note').hidden = true;
	updateExportLink();
	refresh();
	emit('filters');
}

/*
 * The query that selects, on the server, exactly the flows the list shows: the typed text, plus a
 * term for the chip (unanswered attempts are listed only under their own chip, or when shown),
 * plus the selects. Used for the CSV export and the groups.
 */
export function serverQuery(extra = {}) {
	const f = state.ui.filters;
	const q = new URLSearchParams(extra);
	const terms = [];
	if (f.text) terms.push(f.text);
	if (f.level === 'unanswered') terms.push('signal:unanswered');
	else if (f.level || !state.ui.showUnanswered) terms.push('-signal:unanswered');
	if (terms.length) q.set('q', terms.join(' '));
	// Only a daemon that sends `attention` knows the attention= parameter (others answer 400).
	if (['high', 'low', 'none'].includes(f.level) && daemonHasAttention()) q.set('attention', f.level);
	if (f.proto) q.set('proto', f.proto);
	if (f.country) q.set('country', f.country);
	if (f.process) q.set('process', f.process);
	if (f.active) q.set('active', '1');
	return q;
}

// The CSV export carries the same selection as the list.
function updateExportLink() {
	$('export').href = `/flows?${serverQuery({ format: 'csv' })}`;
}

/*
 * The typed text, judged by the daemon: the ids of the flows that pass it (live, or at the moment
 * the time bar shows). Until the answer comes, a plain substring test stands in.
 */
const textMatch = { text: '', at: null, ids: null, error: '' };
let askTimer = 0;
let asking = false;
// Ask again a little later (the flows changed while a text filter is on).
function askServerSoon() {
	if (!askTimer) askTimer = setTimeout(() => { askTimer = 0; askServer(); }, 1000);
}
// GET /flows?q=TEXT (at=T in the past) and keep the ids that pass.
export async function askServer() {
	const text = state.ui.filters.text;
	const at = state.history.at;
	if (!text) { textMatch.text = ''; textMatch.ids = null; textMatch.error = ''; showFilterError(); return; }
	if (asking) { askServerSoon(); return; }
	asking = true;
	try {
		const q = new URLSearchParams({ q: text });
		if (at) q.set('at', at);
		const r = await apiFetch(`/flows?${q}`, { headers: { Accept: 'application/json' } });
		const doc = await r.json().catch(() => ({}));
		if (text !== state.ui.filters.text || at !== state.history.at) return;
		textMatch.text = text;
		textMatch.at = at;
		textMatch.error = r.ok ? '' : (doc.error || `HTTP ${r.status}`);
		textMatch.ids = r.ok ? new Set((doc.flows || []).map((x) => x.id)) : new Set();
		showFilterError();
		refresh();
		emit('filters');
	} catch (e) {
		/* keep the stand-in */
	} finally {
		asking = false;
	}
}
// Say under the filter box why the daemon refused the text (its message names the term).
function showFilterError() {
	const el = $('f-error');
	el.textContent = textMatch.error;
	el.hidden = !textMatch.error;
}
// True when the daemon's answer for the text shown now is in.
export function textJudged() {
	return !!state.ui.filters.text && textMatch.text === state.ui.filters.text && textMatch.at === state.history.at && !!textMatch.ids;
}

// The flows the list shows (live, or of the moment the time bar points at).
function listedFlows() {
	return [...shownFlows().values()];
}

// Does the daemon send attention levels (not only verdicts)?
function daemonHasAttention() {
	for (const fl of state.flows.values()) return 'attention' in fl;
	return false;
}

// Does a flow pass the filters? Unanswered attempts pass "all" only while they are shown.
export function matches(fl) {
	const f = state.ui.filters;
	const lvl = levelOf(fl);
	if (f.level ? lvl !== f.level : lvl === 'unanswered' && !state.ui.showUnanswered) return false;
	if (f.proto && fl.proto !== f.proto) return false;
	if (f.country && ((fl.geo && fl.geo.country) || '') !== f.country) return false;
	if (f.process && ((fl.process && fl.process.name) || '') !== f.process) return false;
	if (f.active && !fl.active) return false;
	if (f.text && textJudged()) {
		if (!textMatch.ids.has(fl.id)) return false;
	} else if (f.text) {
		const g = fl.geo || {};
		const hay = [fl.remote_ip, fl.remote_domain, fl.as_org, fl.process && fl.process.name, g.city, g.country,
			g.country_name, String(fl.remote_port), fl.proto, fl.local_ip].join(' ').toLowerCase();
		if (!hay.includes(f.text.toLowerCase())) return false;
	}
	return true;
}

const SORTERS = {
	attention: (a, b) => rank(levelOf(a)) - rank(levelOf(b)) || cmp(a.last_seen, b.last_seen),
	last: (a, b) => cmp(a.last_seen, b.last_seen),
	first: (a, b) => cmp(a.first_seen, b.first_seen) || a.id - b.id,
	bytes: (a, b) => (a.bytes_sent + a.bytes_received) - (b.bytes_sent + b.bytes_received),
	sent: (a, b) => a.bytes_sent - b.bytes_sent,
	received: (a, b) => a.bytes_received - b.bytes_received,
	verdict: (a, b) => severity(a.verdict) - severity(b.verdict) || cmp(a.last_seen, b.last_seen),
	remote: (a, b) => cmp(remoteName(a), remoteName(b)),
	country: (a, b) => cmp((a.geo && a.geo.country) || '', (b.geo && b.geo.country) || ''),
	process: (a, b) => cmp((a.process && a.process.name) || '', (b.process && b.process.name) || ''),
	port: (a, b) => a.remote_port - b.remote_port,
};
function cmp(a, b) { return a < b ? -1 : a > b ? 1 : 0; }

// Recompute the rows and redraw the visible part.
function refresh() {
	const selId = active >= 0 && rows[active] ? rows[active].id : state.ui.selected;
	const s = SORTERS[state.ui.sort.key] || SORTERS.last;
	const dir = state.ui.sort.dir;
	rows = listedFlows().filter(matches).sort((a, b) => dir * s(a, b) || b.id - a.id);
	if (hold) {
		// Held: known rows where they were, new ones after them.
		const kept = rows.filter((f) => hold.has(f.id)).sort((a, b) => hold.get(a.id) - hold.get(b.id));
		rows = kept.concat(rows.filter((f) => !hold.has(f.id)));
	}
	active = selId != null ? rows.findIndex((r) => r.id === selId) : -1;
	const counts = levelCounts();
	for (const v of CHIP_LEVELS) { const n = $(`n-${v}`); if (n) n.textContent = fmtInt(counts[v]); }
	$('list-count').textContent = rows.length === shownFlows().size ? `(${fmtInt(rows.length)})` : `(${fmtInt(rows.length)} of ${fmtInt(shownFlows().size)})`;
	$('sheet-summary').textContent = `${fmtInt(shownFlows().size)} connections · ${fmtInt(counts.high)} high · ${fmtInt(counts.low)} low attention`;
	const empty = $('list-empty');
	empty.hidden = rows.length > 0;
	const emptyText = state.flows.size === 0 ? (state.generated ? 'No connections yet: netglobe has seen no traffic since it started.' : 'Loading…')
		: 'No connection matches these filters.';
	if (empty.textContent !== emptyText) empty.textContent = emptyText;
	updateOptions();
	queueRender();
	// Details of a flow that changed: refresh its numbers (not the history).
	if (!$('details').hidden && state.ui.selected != null && shownFlows().has(state.ui.selected) && detailsKind === 'flow') {
		renderFlowFacts(shownFlows().get(state.ui.selected));
	}
}

// The ids of the rows the list holds now, top to bottom (the test hook).
export function listIds() {
	return rows.map((f) => f.id);
}

// Keep the protocol/country/process choices in step with the data.
function updateOptions() {
	const protos = new Set(), countries = new Map(), procs = new Set();
	for (const f of shownFlows().values()) {
		protos.add(f.proto);
		if (f.geo && f.geo.country) countries.set(f.geo.country, f.geo.country_name || f.geo.country);
		if (f.process && f.process.name) procs.add(f.process.name);
	}
	const sig = `${[...protos].sort()}|${[...countries.keys()].sort()}|${[...procs].sort()}`;
	if (sig === optionsSig) return;
	optionsSig = sig;
	const fill = (sel, items, cur) => {
		sel.innerHTML = '<option value="">all</option>' + items.map(([v, l]) =>
			`<option value="${esc(v)}"${v === cur ? ' selected' : ''}>${esc(l)}</option>`).join('');
	};
	const f = state.ui.filters;
	fill($('f-proto'), [...protos].sort().map((p) => [p, p]), f.proto);
	fill($('f-country'), [...countries].sort((a, b) => cmp(a[1], b[1])).map(([c, n]) => [c, `${c} ${n}`]), f.country);
	fill($('f-process'), [...procs].sort().map((p) => [p, p]), f.process);
}

// Redraw the visible rows at the next animation frame (once, however often asked).
function queueRender() {
	if (renderQueued) return;
	renderQueued = true;
	requestAnimationFrame(renderRows);
}

// Draw the rows that are in view.
function renderRows() {
	renderQueued = false;
	const list = $('list');
	rowH = parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--row-h')) || 52;
	$('list-spacer').style.height = `${rows.length * rowH}px`;
	const top = list.scrollTop;
	const h = list.clientHeight || 400;
	const first = Math.max(0, Math.floor(top / rowH) - OVERSCAN);
	const last = Math.min(rows.length, Math.ceil((top + h) / rowH) + OVERSCAN);
	const now = performance.now();
	const keep = new Map();
	for (const el of list.querySelectorAll('.row')) keep.set(el.dataset.id, el);
	const frag = document.createDocumentFragment();
	const used = new Set();
	for (let i = first; i < last; i++) {
		const f = rows[i];
		const id = String(f.id);
		let el = keep.get(id);
		const sig = rowSig(f, i);
		if (!el) {
			el = document.createElement('div');
			el.className = 'row';
			el.setAttribute('role', 'option');
			el.id = `row-${id}`;
			el.dataset.id = id;
			frag.appendChild(el);
		}
		used.add(id);
		el.dataset.i = String(i);
		el.style.top = `${i * rowH}px`;
		el.setAttribute('aria-posinset', String(i + 1));
		el.setAttribute('aria-setsize', String(rows.length));
		el.setAttribute('aria-selected', String(i === active));
		if (el.dataset.sig !== sig) {
			el.dataset.sig = sig;
			const lvl = levelOf(f);
			el.innerHTML = rowHtml(f, lvl);
			el.dataset.level = lvl;
			el.style.setProperty('--vc', `var(--c-${lvl})`);
			el.classList.toggle('closed-flow', !f.active);
			el.setAttribute('aria-label', rowLabel(f));
		}
		applyHighlight(el, f.id, now);
	}
	for (const [id, el] of keep) if (!used.has(id)) el.remove();
	list.appendChild(frag);
	list.setAttribute('aria-activedescendant', active >= 0 && rows[active] ? `row-${rows[active].id}` : '');
}

// What a row shows, as a string: the row is rebuilt only when this changes.
function rowSig(f) {
	return `${f.last_seen}|${f.verdict}|${f.attention}|${signalsOf(f).map((s) => s.name).join()}|${f.active}|${f.bytes_sent}|${f.bytes_received}|${f.remote_domain}|${f.process && f.process.name}|${!!f.trusted_by_user}`;
}

// Start (or continue) the flash of a row that changed lately.
function applyHighlight(el, id, now) {
	const m = state.marks.get(id);
	const want = m && now - m.at < HIGHLIGHT_MS ? `hl-${m.kind}` : '';
	const had = el.dataset.hl || '';
	if (want === had && (!want || el.dataset.hlAt === String(m.at))) return;
	el.classList.remove('hl-new', 'hl-closed', 'hl-changed');
	el.dataset.hl = want;
	if (want) {
		el.dataset.hlAt = String(m.at);
		el.style.animationDelay = `${-(now - m.at)}ms`;
		void el.offsetWidth;
		el.classList.add(want);
	}
}

// Drop expired highlight marks now and then.
function tickHighlights() {
	const now = performance.now();
	let changed = false;
	for (const [id, m] of state.marks) if (now - m.at > HIGHLIGHT_MS) { state.marks.delete(id); changed = true; }
	if (changed) queueRender();
}

// The two lines of a row, after the attention marker (its shape tells the level without colour).
function rowHtml(f, lvl) {
	const g = f.geo;
	const where = g ? `${flagHtml(g.country)} ${esc(g.city || g.country_name || g.country || '')}` : `<span class="muted">${esc(f.remote_scope || 'no location')}</span>`;
	const parts = [];
	if (f.process && f.process.name) parts.push(`<span class="proc">${esc(f.process.name)}</span>`);
	parts.push(where);
	if (f.as_org) parts.push(esc(f.as_org));
	const port = f.remote_port ? `:${f.remote_port}` : '';
	const sig = signalsOf(f)[0];
	return `<div class="mk" title="${esc(LEVEL_WORDS[lvl])}">${levelIcon(lvl)}</div>` +
		`<div class="r1"><b>${esc(remoteName(f))}</b><span class="port">${port} ${esc(f.proto)}</span>${f.trusted_by_user ? '<span class="trusted">trusted by you</span>' : ''}</div>` +
		`<div class="v">${levelBadge(lvl, sig && lvl !== 'none' ? signalWords(sig.name) : lvl)}</div>` +
		`<div class="r2">${parts.join(' · ')}</div>` +
		`<div class="b"><span title="sent">↑ ${fmtBytes(f.bytes_sent)}</span><span title="received">↓ ${fmtBytes(f.bytes_received)}</span></div>`;
}

// A row read out in one sentence (screen readers).
function rowLabel(f) {
	const g = f.geo;
	const sig = signalsOf(f)[0];
	return `${remoteName(f)} port ${f.remote_port} ${f.proto}, ${LEVEL_WORDS[levelOf(f)]}${sig ? ` (${signalWords(sig.name)})` : ''}, ` +
		`${g ? placeName(g) + ', ' : ''}${f.as_org ? f.as_org + ', ' : ''}sent ${fmtBytes(f.bytes_sent)}, received ${fmtBytes(f.bytes_received)}` +
		`${f.active ? '' : ', closed'}`;
}

// Move the keyboard cursor to row i and keep it in view.
function setActive(i) {
	if (!rows.length) { active = -1; return; }
	active = Math.max(0, Math.min(rows.length - 1, i));
	const list = $('list');
	const top = active * rowH;
	if (top < list.scrollTop) list.scrollTop = top;
	else if (top + rowH > list.scrollTop + list.clientHeight) list.scrollTop = top + rowH - list.clientHeight;
	queueRender();
}

// Keyboard use of the list: arrows, pages, Home/End, Enter or Space.
function onListKey(e) {
	const page = Math.max(1, Math.floor($('list').clientHeight / rowH) - 1);
	const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
	if (e.key in moves) { setActive((active < 0 ? -1 : active) + moves[e.key]); e.preventDefault(); }
	else if (e.key === 'Home') { setActive(0); e.preventDefault(); }
	else if (e.key === 'End') { setActive(rows.length - 1); e.preventDefault(); }
	else if ((e.key === 'Enter' || e.key === ' ') && active >= 0) { openFlow(rows[active].id); e.preventDefault(); }
}

/* ---------- Details ---------- */

let detailsKind = null;
let returnFocus = null;

// Show the details pane with a title and move focus into it.
function showDetails(title) {
	const d = $('details');
	if (d.hidden) returnFocus = document.activeElement;
	d.hidden = false;
	$('details-title').textContent = title;
	$('details-title').focus({ preventScroll: true });
	document.body.classList.add('details-open');
	expandSheetFor('details');
}

// Close the details and give focus back to where it was.
export function closeDetails() {
	$('details').hidden = true;
	detailsKind = null;
	state.ui.selected = null;
	state.ui.selectedPlace = null;
	document.body.classList.remove('details-open');
	emit('selection');
	if (returnFocus && document.contains(returnFocus)) returnFocus.focus({ preventScroll: true });
	else $('list').focus({ preventScroll: true });
}

// Open a flow's details: what we hold now, then its whitelist history from /flows/{id}.
export function openFlow(id) {
	const f = shownFlows().get(id);
	if (!f) return;
	detailsKind = 'flow';
	state.ui.selected = id;
	state.ui.selectedPlace = placeKey(f);
	emit('selection', { focus: true });
	showDetails(`${remoteName(f)}${f.remote_port ? ':' + f.remote_port : ''}`);
	const body = $('details-body');
	body.innerHTML = `<div id="d-facts"></div>
		<h3>Whitelist history of ${esc(f.remote_ip)}</h3><div id="d-history" class="muted">loading…</div>
		<div id="d-actions"></div>
		<div class="result" id="d-result" role="status" aria-live="polite"></div>`;
	renderFlowFacts(f);
	lastHistory = null;
	fetchFlow(id).then((doc) => {
		if (state.ui.selected !== id) return;
		lastHistory = doc.history || null;
		$('d-history').classList.remove('muted');
		$('d-history').innerHTML = historyHtml(doc.history);
	}).catch((e) => {
		if (state.ui.selected !== id) return;
		$('d-history').textContent = `not available (${e.message})`;
	});
}
let lastHistory = null;

// The actions of a flow (rewritten when its trust or evidence changes).
function renderActions(f) {
	const box = $('d-actions');
	if (!box) return;
	const sig = `${f.id}|${!!f.trusted_by_user}|${f.trust_rule}|${f.evidence_url}|${!!state.history.flows}`;
	if (box.dataset.sig === sig) return;
	box.dataset.sig = sig;
	// A moment of the past is looked at, not acted on (its flows may be gone): only copying then.
	box.innerHTML = state.history.flows ? '<div class="actions"><button type="button" class="btn" id="d-copy">Copy as text</button></div>' : actionsHtml(f);
	if (!state.history.flows) wireActions(f);
	$('d-copy').addEventListener('click', () => copyText(flowText(shownFlows().get(f.id) || f, lastHistory)));
}

// Everything the flow object says, as a definition list.
function renderFlowFacts(f) {
	renderActions(f);
	const box = $('d-facts');
	if (!box) return;
	const g = f.geo || {};
	const p = f.process || {};
	const kv = (rows_) => `<dl class="kv">${rows_.filter((r) => r).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
	const t = (s) => esc(s ?? '–');
	const home = state.home;
	const dist = f.geo && home && typeof g.lat === 'number' ? `${fmtInt(distanceKm(home.lat, home.lon, g.lat, g.lon))} km from home` : null;
	const lvl = levelOf(f);
	const sigs = signalsOf(f);
	box.innerHTML = `<div class="reason vc-${esc(lvl)}">${levelBadge(lvl, LEVEL_WORDS[lvl])}` +
		(sigs.length ? `<ul class="signals">${sigs.map((s) =>
			`<li data-signal="${esc(s.name)}"><b>${esc(signalWords(s.name))}</b>${s.reason ? `: ${esc(s.reason)}` : ''}</li>`).join('')}</ul>` :
			`<div class="muted">${'signals' in f ? 'no signal' : esc(f.attention ? '' : 'from the verdict (this daemon sends no attention level)')}</div>`) +
		'</div>' +
		kv([
			['verdict', `${verdictBadge(f.verdict)} ${t(f.reason)}`],
			['sent', `${verdictBadge(f.verdict_sent)} ${fmtBytes(f.bytes_sent)} in ${fmtInt(f.packets_sent)} packets`],
			['received', `${verdictBadge(f.verdict_received)} ${fmtBytes(f.bytes_received)} in ${fmtInt(f.packets_received)} packets`],
		]) +
		'<h3>Remote end</h3>' + kv([
			['address', t(f.remote_ip)],
			['port', `${t(f.remote_port)} (${t(f.proto)}, IPv${t(f.ip_version)})`],
			['domain', f.remote_domain ? `${t(f.remote_domain)} <span class="muted">(from ${t(f.remote_domain_source)})</span>` : '–'],
			['scope', t(f.remote_scope)],
			['place', f.geo ? `${flagHtml(g.country)} ${t([g.city, g.region, g.country_name || g.country].filter(Boolean).join(', '))}` : '–'],
			f.geo ? ['coordinates', `${t(g.lat)}, ${t(g.lon)}${g.accuracy_km != null ? ` (±${t(g.accuracy_km)} km)` : ''}${dist ? ` · ${dist}` : ''}`] : null,
			['network', f.asn != null || f.as_org ? `${f.asn != null ? 'AS' + t(f.asn) : ''} ${t(f.as_org || '')}` : '–'],
		]) +
		'<h3>This host</h3>' + kv([
			['address', `${t(f.local_ip)}${f.local_port ? ':' + t(f.local_port) : ''}`],
			['process', f.process ? `${t(p.name)} (pid ${t(p.pid)}${p.user ? ', ' + t(p.user) : ''})` : '–'],
			f.process && p.exe ? ['executable', t(p.exe)] : null,
			f.process && p.cmdline ? ['command', t(p.cmdline)] : null,
			['opened by', t(f.initiator)],
		]) +
		'<h3>Flow</h3>' + kv([
			['id', t(f.id)],
			['state', `${t(f.state)}${f.active ? ' (active)' : ` (ended: ${t(f.end_reason)})`}`],
			['first seen', t(fmtTime(f.first_seen))],
			['last seen', t(fmtTime(f.last_seen))],
			f.fragments ? ['fragments', t(f.fragments)] : null,
		]);
}

// The whitelist history of /flows/{id} as a definition list.
function historyHtml(h) {
	if (!h) return '<span class="muted">none recorded</span>';
	const one = (name, d) => {
		if (!d || !d.known) return `<dt>${name}</dt><dd class="muted">never before</dd>`;
		return `<dt>${name}</dt><dd>${fmtInt(d.flows)} flows, ${fmtInt(d.packets)} packets, ${fmtBytes(d.bytes)}<br>` +
			`<span class="muted">first ${esc(fmtTime(d.first_seen))}, last ${esc(fmtTime(d.last_seen))}</span></dd>`;
	};
	return `<dl class="kv">${one('sent', h.sent)}${one('received', h.received)}</dl>`;
}

// Open a place's details: its numbers and the flows there (one flow opens directly).
export function openPlace(key) {
	const p = state.places.get(key);
	if (!p) return;
	if (p.ids.length === 1) { openFlow(p.ids[0]); return; }
	detailsKind = 'place';
	state.ui.selected = null;
	state.ui.selectedPlace = key;
	emit('selection');
	const g = p.geo || {};
	showDetails(`${g.city || g.country_name || key} · ${p.flows} flows`);
	const flows = p.ids.map((id) => shownFlows().get(id)).filter(Boolean)
		.sort((a, b) => rank(levelOf(b)) - rank(levelOf(a)) || severity(b.verdict) - severity(a.verdict) ||
			(b.bytes_sent + b.bytes_received) - (a.bytes_sent + a.bytes_received));
	const home = state.home;
	$('details-body').innerHTML =
		`<div class="reason vc-${esc(p.attention || 'none')}">${levelBadge(p.attention, LEVEL_WORDS[p.attention])} <b>${flagHtml(g.country)} ${esc([g.city, g.region, g.country_name].filter(Boolean).join(', '))}</b>` +
		`<div class="muted">the level of its current flows (active, or ended in the last ${fmtInt(state.ui.fadeS)} s)</div></div>` +
		`<dl class="kv"><dt>flows</dt><dd>${fmtInt(p.flows)} (${fmtInt(p.active)} active)</dd>` +
		`<dt>sent</dt><dd>${p.attentionSent ? levelBadge(p.attentionSent) : ''} ${fmtBytes(p.bytesSent)}</dd>` +
		`<dt>received</dt><dd>${p.attentionReceived ? levelBadge(p.attentionReceived) : ''} ${fmtBytes(p.bytesReceived)}</dd>` +
		`<dt>distance</dt><dd>${home ? fmtInt(distanceKm(home.lat, home.lon, p.lat, p.lon)) + ' km' : '–'}</dd>` +
		`<dt>seen</dt><dd>${esc(fmtTime(p.firstSeen))} – ${esc(fmtTime(p.lastSeen))}</dd></dl>` +
		`<h3>Flows to this place</h3><ul class="placeflows">${flows.slice(0, 200).map((f) =>
			`<li><button type="button" data-id="${f.id}"><span>${levelIcon(levelOf(f))} ${esc(remoteName(f))}:${esc(f.remote_port)} <span class="muted">${esc(f.proto)}</span></span>` +
			`<span class="muted">↑ ${fmtBytes(f.bytes_sent)} ↓ ${fmtBytes(f.bytes_received)}</span></button></li>`).join('')}</ul>` +
		`<div class="actions"><button type="button" class="btn" id="d-copy">Copy as text</button></div>`;
	$('details-body').querySelector('.placeflows').addEventListener('click', (e) => {
		const b = e.target.closest('button[data-id]');
		if (b) openFlow(Number(b.dataset.id));
	});
	$('d-copy').addEventListener('click', () => copyText(flows.map((f) => flowText(f, null)).join('\n\n')));
}

// A flow as plain text (for the clipboard).
export function flowText(f, history) {
	const g = f.geo || {};
	const lines = [
		`${f.proto} ${f.local_ip}:${f.local_port} -> ${f.remote_ip}:${f.remote_port}${f.remote_domain ? ` (${f.remote_domain})` : ''}`,
		`attention: ${levelOf(f)}${f.attention ? '' : ' (from the verdict)'}`,
		...signalsOf(f).map((s) => `  signal ${s.name} (${signalWords(s.name)}) ${s.value}: ${s.reason || ''}`),
		`verdict: ${f.verdict} (sent: ${f.verdict_sent}, received: ${f.verdict_received}): ${f.reason || ''}`,
		`place: ${[g.city, g.region, g.country_name || g.country].filter(Boolean).join(', ') || '-'}${f.geo ? ` (${g.lat}, ${g.lon})` : ''}`,
		`network: ${f.asn != null ? 'AS' + f.asn : '-'} ${f.as_org || ''}`,
		`process: ${f.process ? `${f.process.name} pid ${f.process.pid}${f.process.exe ? ' ' + f.process.exe : ''}` : '-'}`,
		`sent: ${f.bytes_sent} bytes in ${f.packets_sent} packets; received: ${f.bytes_received} bytes in ${f.packets_received} packets`,
		`first seen: ${f.first_seen}; last seen: ${f.last_seen}; state: ${f.state}${f.active ? ' (active)' : ` (ended: ${f.end_reason})`}`,
	];
	if (history) {
		for (const d of ['sent', 'received']) {
			const h = history[d];
			lines.push(h && h.known ? `history ${d}: ${h.flows} flows, ${h.bytes} bytes, ${h.first_seen} .. ${h.last_seen}` : `history ${d}: never before`);
		}
	}
	return lines.join('\n');
}

// Copy to the clipboard; over plain http on a LAN address the API is missing, so fall back to a box.
async function copyText(text) {
	const out = $('d-result') || $('details-body');
	try {
		if (navigator.clipboard && window.isSecureContext) {
			await navigator.clipboard.writeText(text);
			say(out, 'Copied.');
			return;
		}
		const ta = document.createElement('textarea');
		ta.value = text;
		ta.setAttribute('readonly', '');
		ta.style.position = 'fixed';
		ta.style.opacity = '0';
		document.body.appendChild(ta);
		ta.select();
		const ok = document.execCommand && document.execCommand('copy');
		ta.remove();
		if (ok) { say(out, 'Copied.'); return; }
	} catch (e) { /* fall through to the manual box */ }
	const box = document.createElement('textarea');
	box.className = 'copybox';
	box.value = text;
	box.setAttribute('aria-label', 'Flow as text: select and copy');
	$('details-body').appendChild(box);
	box.select();
	say(out, 'Select the text below and copy it.');
}

// A short confirmation under the actions.
function say(el, msg) {
	if (!el) return;
	el.className = 'result ok';
	el.textContent = msg;
}

/* ---------- Bottom sheet (phone) ---------- */

const SNAPS = [0.1, 0.45, 0.9];	// of the viewport height below the header
let snap = 1;

// The bottom sheet handle: drag, tap and arrow keys.
function initSheet() {
	const panel = $('panel');
	const handle = $('sheet-handle');
	let startY = 0, startH = 0, dragging = false, moved = false;
	const avail = () => window.innerHeight - $('status').getBoundingClientRect().height;
	handle.addEventListener('pointerdown', (e) => {
		dragging = true; moved = false;
		startY = e.clientY;
		startH = panel.getBoundingClientRect().height;
		panel.classList.add('dragging');
		handle.setPointerCapture(e.pointerId);
	});
	handle.addEventListener('pointermove', (e) => {
		if (!dragging) return;
		const dy = startY - e.clientY;
		if (Math.abs(dy) > 4) moved = true;
		const h = Math.max(56, Math.min(avail(), startH + dy));
		panel.style.setProperty('--sheet-h', `${h}px`);
	});
	const end = (e) => {
		if (!dragging) return;
		dragging = false;
		panel.classList.remove('dragging');
		if (!moved) { setSnap(snap === 2 ? 1 : 2); return; }
		const frac = panel.getBoundingClientRect().height / avail();
		let best = 0;
		SNAPS.forEach((s, i) => { if (Math.abs(s - frac) < Math.abs(SNAPS[best] - frac)) best = i; });
		setSnap(best);
		void e;
	};
	handle.addEventListener('pointerup', end);
	handle.addEventListener('pointercancel', end);
	handle.addEventListener('keydown', (e) => {
		if (e.key === 'ArrowUp') { setSnap(Math.min(2, snap + 1)); e.preventDefault(); }
		if (e.key === 'ArrowDown') { setSnap(Math.max(0, snap - 1)); e.preventDefault(); }
	});
	window.addEventListener('resize', () => setSnap(snap));
	new ResizeObserver(() => setSnap(snap)).observe($('status'));
	setSnap(1);
}

// Snap the sheet to one of its three heights; the globe takes the space above it.
function setSnap(i) {
	snap = i;
	const panel = $('panel');
	const header = $('status').getBoundingClientRect().height;
	const avail = window.innerHeight - header;
	const h = Math.round(SNAPS[i] * avail);
	panel.style.setProperty('--sheet-h', `${Math.max(56, h)}px`);
	// The globe keeps the part above the sheet (at least 45% when the sheet covers it).
	const viewH = Math.max(avail - Math.max(56, h), Math.round(avail * 0.45));
	document.documentElement.style.setProperty('--view-h', `${i === 2 ? Math.round(avail * 0.45) : viewH}px`);
	const handle = $('sheet-handle');
	handle.setAttribute('aria-expanded', String(i === 2));
	handle.setAttribute('aria-label', i === 2 ? 'Collapse the connection list' : 'Expand the connection list');
	queueRender();
}

// On a phone, details get the whole sheet.
function expandSheetFor() {
	if (state.ui.layout === 'phone' && snap < 2) setSnap(2);
}
