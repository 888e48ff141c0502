// SPDX-License-Identifier: BSD-2-Clause
// schema.mjs: the flow object as docs/api.md documents it, read from the document itself, so the
// mock daemon (and any test that wants it) follows the documented schema instead of a copy of it.
//
// DESIGN: docs/api.md's section "The flow object" holds one JSON example and a table with a row per
// field. The example is the template (every field, with a value of the right type); the table gives
// the set of field names (they must match the example's keys, or the document contradicts itself),
// which fields may be null ("... or null"), and enumerations (a type written as backticked values,
// such as `local` or `remote`). The `signals` row lists the signal names after "names:". The
// /api/stats key table gives the documented top-level keys of /api/stats. Node built-ins only.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const API_DOC = path.resolve(here, '../../docs/api.md');

// The backticked tokens of a table cell, in order.
function ticks(cell) {
	return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

// Split a Markdown table row into its cells (no escaped pipes occur in these tables).
function cells(line) {
	return line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
}

/*
 * Read docs/api.md (or text given) and return {template, fields, signalNames, statsKeys}: template is
 * the example flow object; fields maps a name to {nullable, values (enumeration or null), type
 * (the cell's text)}. Throws with a message naming what is missing or inconsistent.
 */
export function loadSchema(text = fs.readFileSync(API_DOC, 'utf8')) {
	const sec = text.indexOf('## The flow object');
	if (sec < 0) throw new Error(`${API_DOC}: no "## The flow object" section`);
	const open = text.indexOf('```json', sec);
	const close = text.indexOf('```', open + 7);
	if (open < 0 || close < 0) throw new Error(`${API_DOC}: no JSON example under "The flow object"`);
	const template = JSON.parse(text.slice(open + 7, close));
	const fields = new Map();
	let signalNames = [];
	const lines = text.slice(close).split('\n');
	let i = lines.findIndex((l) => /^\|\s*field\s*\|/.test(l));
	if (i < 0) throw new Error(`${API_DOC}: no field table under "The flow object"`);
	for (i += 2; i < lines.length && lines[i].startsWith('|'); i++) {
		const [names, type, meaning = ''] = cells(lines[i]);
		const values = /^(`[^`]+`)(\s*(,|or)\s*`[^`]+`)*$/.test(type) ? ticks(type) : null;
		for (const name of ticks(names)) fields.set(name, { type, nullable: /\bnull\b/.test(type), values });
		if (ticks(names).includes('signals')) {
			const after = meaning.split(/names:/)[1] || '';
			signalNames = ticks(after.split(';')[0]).filter((n) => /^[a-z_]+$/.test(n));
		}
	}
	const keys = Object.keys(template);
	const undocumented = keys.filter((k) => !fields.has(k));
	const missing = [...fields.keys()].filter((k) => !(k in template));
	if (undocumented.length || missing.length) {
		throw new Error(`${API_DOC}: the flow example and its table disagree` +
			(undocumented.length ? `; in the example only: ${undocumented.join(', ')}` : '') +
			(missing.length ? `; in the table only: ${missing.join(', ')}` : ''));
	}
	// /api/stats: the first column of the key table under "### `GET /api/stats`".
	const statsKeys = new Set();
	const st = text.indexOf('### `GET /api/stats`');
	if (st >= 0) {
		const sl = text.slice(st).split('\n');
		let j = sl.findIndex((l) => /^\|\s*key\s*\|/.test(l));
		if (j >= 0) for (j += 2; j < sl.length && sl[j].startsWith('|'); j++) for (const k of ticks(cells(sl[j])[0])) statsKeys.add(k);
	}
	return { template, fields, signalNames, statsKeys };
}

// A deep copy of the documented example flow, to fill in.
export function newFlow(schema) {
	return structuredClone(schema.template);
}

/*
 * Problems of a flow object against the schema, as sentences (an empty array when it conforms):
 * exactly the documented keys, null only where allowed, enumerated values, the example's JSON type,
 * and well-formed signals with documented names.
 */
export function checkFlow(schema, f) {
	const errs = [];
	const where = `flow ${f && f.id}`;
	for (const k of Object.keys(f)) if (!schema.fields.has(k)) errs.push(`${where}: undocumented field ${k}`);
	for (const [k, spec] of schema.fields) {
		if (!(k in f)) { errs.push(`${where}: missing field ${k}`); continue; }
		const v = f[k];
		const ex = schema.template[k];
		if (v === null) {
			if (!spec.nullable && ex !== null) errs.push(`${where}: ${k} is null but docs/api.md says ${spec.type}`);
			continue;
		}
		if (spec.values && !spec.values.includes(String(v))) errs.push(`${where}: ${k} is ${JSON.stringify(v)}, not one of ${spec.values.join(', ')}`);
		if (ex !== null && Array.isArray(ex) !== Array.isArray(v)) errs.push(`${where}: ${k} should ${Array.isArray(ex) ? '' : 'not '}be an array`);
		else if (ex !== null && typeof ex !== typeof v) errs.push(`${where}: ${k} is a ${typeof v}, the example has a ${typeof ex}`);
	}
	if (Array.isArray(f.signals)) {
		for (const s of f.signals) {
			if (!s || typeof s.name !== 'string' || typeof s.value !== 'number' || typeof s.reason !== 'string') errs.push(`${where}: a signal is not {name, value, reason}: ${JSON.stringify(s)}`);
			else if (schema.signalNames.length && !schema.signalNames.includes(s.name)) errs.push(`${where}: undocumented signal ${s.name}`);
		}
	}
	return errs;
}
