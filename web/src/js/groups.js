// SPDX-License-Identifier: BSD-2-Clause
// groups.js: the list by destination or by program: one row per group with its totals each way,
// first and last seen, the highest attention and a sparkline of activity; a row expands to its flows.
//
// DESIGN: the daemon groups (GET /flows?group=destination|process, docs/api.md "Groups") with the
// same selection as the list (serverQuery: the typed filter, the chip and the selects; at=T for a
// moment of the past), so a group's totals are the sums of the flows the list would show. The page
// asks again when the flows change (at most every REFRESH_MS) and keeps which groups are open.
import { state, on, emit, shownFlows, levelOf } from './state.js';
import { apiJson } from './api.js';
import { esc, fmtBytes, fmtInt, fmtTime, levelIcon, LEVEL_WORDS, remoteName } from './util.js';
import { trust } from './actions.js';

const REFRESH_MS = 2000;
const $ = (id) => document.getElementById(id);
let doc = null;			// the last group answer
let open = new Set();		// keys of expanded groups
let timer = 0;
let lastAsk = 0;
let serverQuery = null;
let openFlowFn = null;

// Wire the "Flows / By destination / By program" switch. sq: the list's serverQuery; openFlow: opens a flow's details.
export function initGroups(sq, openFlow) {
	serverQuery = sq;
	openFlowFn = openFlow;
	const seg = $('group-by');
	seg.addEventListener('click', (e) => {
		const b = e.target.closest('button[data-g]');
		if (!b) return;
		setView(b.dataset.g);
	});
	$('groups-list').addEventListener('click', onClick);
	on('flows', () => soon());
	on('filters', () => soon(true));
	on('ui', () => soon(true));
}

// Show the flat list ('flows') or groups ('destination', 'process').
export function setView(v) {
	state.ui.view = v;
	document.querySelectorAll('#group-by button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.g === v)));
	const grouped = v !== 'flows';
	$('list').hidden = grouped;
	$('groups').hidden = !grouped;
	open = new Set();
	doc = null;
	if (grouped) { $('groups-list').innerHTML = '<p class="muted pad">loading…</p>'; load(); }
	emit('view');
}

// Ask again soon (now when forced), at most every REFRESH_MS.
function soon(force) {
	if (state.ui.view === 'flows') return;
	clearTimeout(timer);
	const wait = force ? 0 : Math.max(0, REFRESH_MS - (performance.now() - lastAsk));
	timer = setTimeout(load, wait);
}

// GET /flows?group=... with the list's selection, then draw.
async function load() {
	const v = state.ui.view;
	if (v === 'flows') return;
	lastAsk = performance.now();
	const q = serverQuery({ group: v });
	if (state.history.at) q.set('at', state.history.at);
	try {
		const d = await apiJson(`/flows?${q}`);
		if (state.ui.view !== v) return;
		// Redraw only when the groups changed (a redraw would drop a trust's answer under a group).
		const sig = JSON.stringify(d.groups);
		if (doc && doc.sig === sig) return;
		doc = d;
		doc.sig = sig;
		render();
	} catch (e) {
		$('groups-list').innerHTML = `<p class="muted pad">Groups are not available: ${esc(e.message)}</p>`;
	}
}

// A sparkline of counts as an inline SVG (decorative: the totals beside it carry the numbers).
function spark(counts) {
	const n = counts.length || 1;
	const max = Math.max(1, ...counts);
	const W = 72, H = 16;
	const pts = counts.map((c, i) => `${(i / Math.max(1, n - 1) * W).toFixed(1)},${(H - 1 - c / max * (H - 2)).toFixed(1)}`).join(' ');
	return `<svg class="spark" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" aria-hidden="true" focusable="false">` +
		`<polyline points="${pts}" fill="none" stroke="currentColor" stroke-width="1.4" stroke-linejoin="round"/></svg>`;
}

// The groups as rows (open ones with their flows).
function render() {
	const box = $('groups-list');
	const groups = (doc && doc.groups) || [];
	if (!groups.length) { box.innerHTML = '<p class="muted pad">No connection matches these filters.</p>'; return; }
	const what = state.ui.view === 'process' ? 'program' : 'destination';
	box.innerHTML = groups.map((g, i) => {
		const lvl = g.attention || 'none';
		const isOpen = open.has(g.key);
		const name = g.label || g.key || (state.ui.view === 'process' ? 'no program known' : '?');
		const sub = state.ui.view === 'process' ?
			`${esc((g.process && g.process.exe) || (g.kind === 'none' ? 'flows without a known program (files, or not attributed)' : g.key))}` :
			`${fmtInt(g.addresses)} address${g.addresses === 1 ? '' : 'es'}${g.countries && g.countries.length ? ` · ${esc(g.countries.slice(0, 4).join(', '))}` : ''}`;
		return `<div class="group" role="listitem" data-i="${i}" data-level="${esc(lvl)}">` +
			`<button type="button" class="gh vc-${esc(lvl)}" aria-expanded="${isOpen}" data-key="${esc(g.key)}" ` +
			`aria-label="${esc(`${what} ${name}: ${g.flows} flows, ${LEVEL_WORDS[lvl]}, sent ${fmtBytes(g.bytes_sent)}, received ${fmtBytes(g.bytes_received)}`)}">` +
			`<span class="mk">${levelIcon(lvl)}</span>` +
			`<span class="gname">${esc(name)}</span>` +
			`<span class="gtot"><span class="gn">${fmtInt(g.flows)} flow${g.flows === 1 ? '' : 's'}</span> · <span class="gs" title="sent">↑ ${fmtBytes(g.bytes_sent)}</span> <span class="gr" title="received">↓ ${fmtBytes(g.bytes_received)}</span></span>` +
			`<span class="gsub">${sub} · ${esc(fmtTime(g.first_seen))} – ${esc(fmtTime(g.last_seen).slice(11))}</span>` +
			`${spark(g.activity || [])}</button>` +
			(isOpen ? groupBody(g) : '') + '</div>';
	}).join('');
}

// An open group: its actions and its flows (as the page holds them).
function groupBody(g) {
	const flows = (g.ids || []).map((id) => shownFlows().get(id)).filter(Boolean);
	const acts = [];
	if (!state.history.flows) {
		if (g.kind === 'domain') acts.push(`<button type="button" class="btn" data-gtrust="domain">Trust ${esc(g.key)} and its subdomains</button>`);
		if (g.kind === 'exe' && g.process && g.process.exe) acts.push(`<button type="button" class="btn" data-gtrust="exe">Trust the program ${esc(g.process.name || g.process.exe)}</button>`);
	}
	return (acts.length ? `<div class="gacts">${acts.join('')}</div>` : '') +
		`<ul class="gflows">${flows.slice(0, 300).map((f) =>
			`<li><button type="button" data-id="${f.id}"><span>${levelIcon(levelOf(f))} ${esc(remoteName(f))}:${esc(f.remote_port)} <span class="muted">${esc(f.proto)}</span>` +
			`${f.trusted_by_user ? ' <span class="trusted">trusted by you</span>' : ''}</span>` +
			`<span class="muted">↑ ${fmtBytes(f.bytes_sent)} ↓ ${fmtBytes(f.bytes_received)}</span></button></li>`).join('')}` +
		(flows.length < (g.ids || []).length ? `<li class="muted">${fmtInt((g.ids || []).length - flows.length)} more not held by the page</li>` : '') + '</ul>';
}

// Clicks: a group's head opens or closes it; a flow opens its details; a trust button trusts.
function onClick(e) {
	const fl = e.target.closest('.gflows button[data-id]');
	if (fl) { openFlowFn(Number(fl.dataset.id)); return; }
	const t = e.target.closest('[data-gtrust]');
	if (t) {
		const g = doc.groups[Number(t.closest('.group').dataset.i)];
		const body = t.dataset.gtrust === 'domain' ? { domain: g.key, subdomains: true } :
			{ exe: g.process.exe, ...(g.process.sha256 ? { sha256: g.process.sha256 } : {}) };
		// The answer (and its Undo) goes above the groups, which are redrawn as the trust changes them.
		trust(body, $('g-result'));
		return;
	}
	const h = e.target.closest('button.gh');
	if (!h) return;
	const key = h.dataset.key;
	if (open.has(key)) open.delete(key); else open.add(key);
	render();
}

// The groups shown (the test hook): the daemon's objects as drawn.
export function shownGroups() {
	return doc && state.ui.view !== 'flows' ? doc.groups.map((g) => ({ ...g })) : [];
}
