// SPDX-License-Identifier: BSD-2-Clause
// actions.js: what a person can do about a flow: trust (its address, domain with or without
// subdomains, program, network) with a visible result and an undo, confirm a broad trust that
// names how many addresses it covers, and download the evidence pcap.
//
// DESIGN: the daemon judges every held flow again when a rule changes and streams the changes
// (docs/api.md "Trust that acts at once"); the page also reloads /flows as soon as the answer
// comes, so the rows, counts and arcs change within a second even if the stream lags. A broad
// trust (a network, everything seen while learning) answers 409 with `would_affect`; the page
// shows that number and sends the trust again with "confirm": true only when the person says so.
import { apiPost, apiDownload } from './api.js';
import { applyChanged, pullChanged } from './stream.js';
import { esc, fmtInt } from './util.js';

const $ = (id) => document.getElementById(id);

// The trust actions a flow offers: [{id, label, body}] (body as POST /api/trust takes it).
export function trustChoices(f) {
	const out = [{ id: 'ip', label: 'Trust this address', body: { address: f.remote_ip } }];
	if (f.remote_domain) {
		out.push({ id: 'domain', label: 'Trust this domain', body: { domain: f.remote_domain } });
		const reg = registrable(f.remote_domain);
		out.push({ id: 'subdomains', label: `Trust ${reg} and its subdomains`, body: { domain: reg, subdomains: true } });
	}
	if (f.process && f.process.exe) {
		const body = { exe: f.process.exe };
		if (f.process.sha256) body.sha256 = f.process.sha256;
		out.push({ id: 'exe', label: `Trust the program ${f.process.name || f.process.exe}`, body });
	}
	if (f.asn != null) out.push({ id: 'asn', label: `Trust its network (AS${f.asn})`, body: { asn: f.asn } });
	return out;
}

// A rough registrable domain (the last two labels; three for a short second-level label like co.uk).
export function registrable(d) {
	const p = String(d).toLowerCase().replace(/\.$/, '').split('.');
	if (p.length <= 2) return p.join('.');
	const two = p.slice(-2);
	return (two[0].length <= 3 && two[1].length === 2 ? p.slice(-3) : two).join('.');
}

// The HTML of the action buttons for a flow (wired by wireActions).
export function actionsHtml(f) {
	const trusted = f.trusted_by_user ?
		`<div class="reason trusted-mark" id="d-trusted">✓ <b>Trusted by you</b>${f.trust_rule ? ` (rule <code>${esc(f.trust_rule)}</code>)` : ''} ` +
		`<button type="button" class="btn" id="d-untrust">Undo this trust</button></div>` : '';
	const ev = f.evidence && f.evidence_url ?
		`<button type="button" class="btn" id="d-pcap" data-url="${esc(f.evidence_url)}">Download pcap (evidence)</button>` : '';
	return trusted + `<div class="actions">${trustChoices(f).map((c) =>
		`<button type="button" class="btn" data-trust="${c.id}">${esc(c.label)}</button>`).join('')}${ev}` +
		'<button type="button" class="btn" id="d-copy">Copy as text</button></div>';
}

// Wire the buttons that actionsHtml made, for flow f.
export function wireActions(f) {
	const choices = new Map(trustChoices(f).map((c) => [c.id, c]));
	document.querySelectorAll('#details-body [data-trust]').forEach((b) => {
		b.addEventListener('click', () => trust(choices.get(b.dataset.trust).body, $('d-result')));
	});
	const un = $('d-untrust');
	if (un) un.addEventListener('click', () => undo({ rule: f.trust_rule }, $('d-result')));
	const pc = $('d-pcap');
	if (pc) pc.addEventListener('click', () => download(pc.dataset.url, `netglobe-flow-${f.id}.pcap`, $('d-result')));
}

// Download the evidence pcap through api.js (the token header, no URL left behind).
async function download(url, name, out) {
	say(out, '', 'downloading…');
	try {
		await apiDownload(url, name);
		say(out, 'ok', `Saved ${name}.`);
	} catch (e) {
		say(out, 'err', `No evidence to download: ${e.message}`);
	}
}

// Put a message under the actions.
function say(out, kind, text, html) {
	if (!out) return;
	out.className = `result ${kind}`;
	if (html) out.innerHTML = html;
	else out.textContent = text;
}

// The flows an answer says were judged again: from the answer itself, or (more than it carries) from /flows.
function takeChanged(d) {
	if (Array.isArray(d.flows)) applyChanged(d.flows);
	if (!Array.isArray(d.flows) || d.flows_complete === false) pullChanged();
}

/*
 * POST /api/trust with body, and show what happened in out: the rules added and how many flows
 * were judged again, with an undo; a 409 shows how many addresses the trust would cover and asks.
 */
export async function trust(body, out) {
	say(out, '', 'asking the daemon…');
	let r;
	try {
		// "detail": the full answer (rules, flows judged again, the undo id) for plain address and domain trusts too.
		r = await apiPost('/api/trust', { ...body, detail: true });
	} catch (e) {
		say(out, 'err', `Not trusted: ${e.message}`);
		return null;
	}
	const d = r.doc || {};
	if (r.status === 409) {
		const n = Number(d.would_affect) || 0;
		say(out, '', '', `<div class="confirm" role="alertdialog" aria-labelledby="d-confirm-q"><p id="d-confirm-q"><b>This covers ${fmtInt(n)} address${n === 1 ? '' : 'es'}.</b> ` +
			`${esc(d.error || '')}. Every flow to ${n === 1 ? 'it' : 'them'} will be judged normal (behaviour signals and blocklists still count).</p>` +
			`<button type="button" class="btn" id="d-confirm">Trust ${fmtInt(n)} address${n === 1 ? '' : 'es'}</button> ` +
			'<button type="button" class="btn" id="d-cancel">Cancel</button></div>');
		$('d-confirm').addEventListener('click', () => trust({ ...body, confirm: true }, out));
		$('d-cancel').addEventListener('click', () => say(out, '', 'Nothing was trusted.'));
		return { confirm: n };
	}
	if (!d.ok) {
		say(out, 'err', `Not trusted: ${d.error || `HTTP ${r.status}`}`);
		return null;
	}
	const rules = d.rules || [d.rule];
	const changed = d.flows_changed != null ? ` ${fmtInt(d.flows_changed)} flow${d.flows_changed === 1 ? '' : 's'} judged again.` : '';
	say(out, 'ok', '', `Trusted: <code>${esc(rules.slice(0, 3).join(', '))}</code>${rules.length > 3 ? ` and ${fmtInt(rules.length - 3)} more` : ''}.${esc(changed)} ` +
		(d.undo != null ? '<button type="button" class="btn" id="d-undo">Undo</button>' : ''));
	const u = $('d-undo');
	if (u) u.addEventListener('click', () => undo({ undo: d.undo }, out));
	takeChanged(d);
	return d;
}

// POST /api/trust/undo ({undo: id} or {rule: text}) and say what was taken back.
export async function undo(body, out) {
	say(out, '', 'asking the daemon…');
	let r;
	try {
		r = await apiPost('/api/trust/undo', body);
	} catch (e) {
		say(out, 'err', `Not undone: ${e.message}`);
		return null;
	}
	const d = r.doc || {};
	if (!d.ok) {
		say(out, 'err', `Not undone: ${d.error || `HTTP ${r.status}`}`);
		return null;
	}
	say(out, 'ok', `Undone: ${(d.removed || []).join(', ') || 'nothing left to take back'}.` +
		(d.flows_changed != null ? ` ${fmtInt(d.flows_changed)} flow${d.flows_changed === 1 ? '' : 's'} judged again.` : ''));
	takeChanged(d);
	return d;
}
