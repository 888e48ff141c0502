// SPDX-License-Identifier: BSD-2-Clause
// stream.js: loads /flows and follows /events, keeping state.flows in step with the daemon.
//
// DESIGN: the stream opens first and buffers events; then /flows is fetched, and only buffered
// events with an id above the snapshot's last_event_id are applied. Upserts by flow id are
// idempotent, so an event seen twice does no harm, and none falls in the gap between snapshot and
// stream. The stream is read with fetch() through api.js (so a LAN token goes in a header, never in
// a URL); a dropped connection reconnects after the server's retry delay with Last-Event-ID; a
// refusal (HTTP error, wrong content type) reconnects with backoff and resyncs through /flows. A `reset` event
// refetches /flows. Changes are applied in batches at most every BATCH_MS, so a burst of events
// costs one rebuild of the arcs and the list.
import { state, emit, mark, rebuildPlaces, noteTraffic, noteEnded, noteEndedAtLoad } from './state.js';
import { apiJson, apiPost, apiEvents } from './api.js';

const BATCH_MS = 250;
const BACKOFF_S = [1, 2, 4, 8, 15, 30];
const STALE_MS = 45000;
const MAX_FLOWS = 50000;

let es = null; // the open stream (api.js apiEvents)
const EVENT_TYPES = new Set(['flow-new', 'flow-update', 'flow-closed', 'alert', 'stats', 'reset']);
let buffering = true;
let buffer = [];
let pending = [];
let flushTimer = 0;
let retry = 0;
let retryTimer = 0;
let lastMessageAt = 0;
let refetching = null;

// Start: open the stream, fetch the snapshot, then keep going forever.
export function startStream() {
	connect();
	resync();
	setInterval(watchdog, 5000);
	// Without a stats stream, fetch /api/stats now and then so the header has numbers.
	setInterval(() => { if (!state.conn.connected) fetchStats(); }, 10000);
	fetchStats();
}

// GET a JSON document from our own origin (with the token, if any), or throw with the status.
function getJson(url) {
	return apiJson(url);
}

// GET /api/stats into state.stats.
async function fetchStats() {
	try {
		takeStats(await getJson('/api/stats'));
	} catch (e) {
		/* the header shows what it has */
	}
}

// Keep a /api/stats document (or stats event); its learning state is newer than the snapshot's.
function takeStats(doc) {
	state.stats = doc;
	if (doc && doc.learning && typeof doc.learning === 'object') {
		state.learning = doc.learning;
		state.learningAt = performance.now();
	}
	emit('stats');
}

// Replace the flows with a fresh /flows snapshot, then apply what the stream buffered meanwhile.
export function resync() {
	if (refetching) return refetching;
	buffering = true;
	refetching = (async () => {
		for (let attempt = 0; ; attempt++) {
			try {
				const doc = await getJson('/flows');
				applySnapshot(doc);
				break;
			} catch (e) {
				state.conn.error = `cannot load /flows: ${e.message}`;
				emit('status');
				await new Promise((r) => setTimeout(r, 1000 * BACKOFF_S[Math.min(attempt, BACKOFF_S.length - 1)]));
			}
		}
		const snapId = state.lastEventId;
		const later = buffer.filter((ev) => !(ev.id > 0) || ev.id > snapId);
		buffer = [];
		buffering = false;
		refetching = null;
		later.forEach(handle);
		flushSoon();
	})();
	return refetching;
}

// Take a /flows document as the whole truth.
function applySnapshot(doc) {
	const first = state.flows.size === 0;
	const old = state.flows;
	state.home = doc.home || state.home;
	state.learning = doc.learning || null;
	state.learningAt = performance.now();
	state.capture = doc.capture || state.capture;
	state.generated = doc.generated || null;
	if (typeof doc.last_event_id === 'number') state.lastEventId = doc.last_event_id;
	const flows = new Map();
	const live = !!(doc.capture && doc.capture.live);
	const generatedMs = Date.parse(doc.generated);
	const ended = new Map();
	for (const f of doc.flows || []) {
		flows.set(f.id, f);
		const o = old.get(f.id);
		if (state.ended.has(f.id)) ended.set(f.id, state.ended.get(f.id));
		if (!first) {
			if (!o) mark(f.id, 'new');
			else if (o.active && !f.active) mark(f.id, 'closed');
			else if (meaningfulChange(o, f)) mark(f.id, 'changed');
		}
	}
	// Only flows still held keep an end time; flows new to the page get one estimated.
	state.ended = ended;
	for (const f of flows.values()) {
		const o = old.get(f.id);
		if (o) noteEnded(f, o);
		else noteEndedAtLoad(f, live, generatedMs);
	}
	state.flows = flows;
	state.conn.error = '';
	state.conn.lastUpdate = Date.now();
	rebuildPlaces();
	emit('home');
	emit('flows', { snapshot: true });
	emit('status');
}

/*
 * Did a flow change in a way worth a flash of its row? Its level, verdict, signals, name or
 * program, or trust: yes. More bytes and a later last_seen (every active flow, every second): no,
 * or a busy list would flash all over.
 */
export function meaningfulChange(o, f) {
	const sig = (x) => (Array.isArray(x.signals) ? x.signals.map((s) => s && s.name).join() : '');
	return o.attention !== f.attention || o.verdict !== f.verdict || sig(o) !== sig(f) || o.remote_domain !== f.remote_domain ||
		((o.process && o.process.name) || '') !== ((f.process && f.process.name) || '') || !!o.trusted_by_user !== !!f.trusted_by_user;
}

// Open (or reopen) the event stream.
function connect() {
	clearTimeout(retryTimer);
	if (es) es.close();
	const last = (es && es.lastEventId()) || state.lastEventId || 0;
	const url = last ? `/events?last_event_id=${encodeURIComponent(last)}` : '/events';
	const me = apiEvents(url, {
		onOpen() {
			if (es !== me) return;
			retry = 0;
			lastMessageAt = performance.now();
			state.conn.lastUpdate = Date.now();
			state.conn.connected = true;
			state.conn.state = 'open';
			emit('status');
		},
		onEnd(refused, retryMs) {
			if (es !== me) return;
			state.conn.connected = false;
			if (refused) {
				// Refused (for example a 401 or 503): back off, reconnect and resync ourselves.
				const wait = BACKOFF_S[Math.min(retry, BACKOFF_S.length - 1)];
				retry++;
				state.conn.state = 'closed';
				state.conn.retryAt = Date.now() + wait * 1000;
				retryTimer = setTimeout(() => { connect(); resync(); }, wait * 1000);
			} else {
				// Dropped: come back after the server's retry delay with Last-Event-ID, as EventSource does.
				state.conn.state = 'reconnecting';
				retryTimer = setTimeout(connect, retryMs);
			}
			emit('status');
		},
		onEvent(type, id, text) {
			if (es !== me || !EVENT_TYPES.has(type)) return;
			lastMessageAt = performance.now();
			state.conn.lastUpdate = Date.now();
			if (!state.conn.connected) {
				state.conn.connected = true;
				state.conn.state = 'open';
				emit('status');
			}
			let data = null;
			try { data = text ? JSON.parse(text) : {}; } catch (e) { return; }
			const ev = { type, id: Number(id) || 0, data };
			if (buffering && type !== 'stats') buffer.push(ev);
			else handle(ev);
		},
	}, last);
	es = me;
	state.conn.state = 'connecting';
	emit('status');
}

// Reconnect a stream that went quiet (no event, not even stats, for STALE_MS).
function watchdog() {
	if (state.conn.connected && performance.now() - lastMessageAt > STALE_MS) {
		state.conn.connected = false;
		state.conn.state = 'reconnecting';
		emit('status');
		connect();
	}
}

// Apply one event (flows are batched, the rest is immediate).
function handle(ev) {
	if (ev.id > state.lastEventId) state.lastEventId = ev.id;
	switch (ev.type) {
	case 'flow-new':
	case 'flow-update':
	case 'flow-closed':
		if (ev.data && ev.data.id != null) pending.push(ev);
		flushSoon();
		break;
	case 'stats':
		takeStats(ev.data);
		break;
	case 'alert':
		state.alerts.unshift(ev.data);
		state.alerts.length = Math.min(state.alerts.length, 50);
		emit('alert', ev.data);
		break;
	case 'reset':
		resync();
		break;
	}
}

// Apply pending flow events after BATCH_MS (one timer at a time).
function flushSoon() {
	if (!flushTimer) flushTimer = setTimeout(flush, BATCH_MS);
}

// Apply the batched flow events, then rebuild places once and tell everyone.
function flush(now) {
	flushTimer = 0;
	if (!pending.length) return;
	const batch = pending;
	pending = [];
	for (const ev of batch) {
		const f = ev.data;
		const old = state.flows.get(f.id);
		state.flows.set(f.id, f);
		noteTraffic(old, f);
		noteEnded(f, old);
		if (ev.type === 'flow-new' || !old) mark(f.id, 'new');
		else if (ev.type === 'flow-closed' || (old.active && !f.active)) mark(f.id, 'closed');
		else if (meaningfulChange(old, f)) mark(f.id, 'changed');
	}
	if (state.flows.size > MAX_FLOWS) trim();
	rebuildPlaces();
	emit('flows', { snapshot: false, count: batch.length, now: !!now });
}

/*
 * Take at once the flows a trust or an undo changed (the stream follows within its next batch), so
 * the rows and arcs change without waiting for it. Only flows the page holds whose judgement
 * changed are applied (as updates): the rest stays as the stream has it.
 */
export function applyChanged(flows) {
	for (const f of flows) {
		const o = state.flows.get(f.id);
		if (o && meaningfulChange(o, f)) pending.push({ type: 'flow-update', id: 0, data: f });
	}
	clearTimeout(flushTimer);
	flushTimer = 0;
	flush(true);
}

// The same from the whole /flows, when the daemon's answer did not carry every changed flow.
export async function pullChanged() {
	try {
		applyChanged((await getJson('/flows')).flows || []);
	} catch (e) {
		resync();
	}
}

// Forget the oldest closed flows when the page holds too many.
function trim() {
	const closed = [...state.flows.values()].filter((f) => !f.active).sort((a, b) => (a.last_seen < b.last_seen ? -1 : 1));
	for (const f of closed.slice(0, state.flows.size - MAX_FLOWS)) {
		state.flows.delete(f.id);
		state.marks.delete(f.id);
		state.ended.delete(f.id);
	}
}

// One flow with its whitelist history (GET /flows/{id}).
export function fetchFlow(id) {
	return getJson(`/flows/${encodeURIComponent(id)}`);
}

// POST /api/trust or /api/forget; resolves to the server's {ok, rule|error} (a 409 adds
// would_affect and confirm: resend with confirm: true; docs/api.md).
export async function postRule(what, body) {
	const { status, doc } = await apiPost(`/api/${what}`, body);
	if (!doc) return { ok: false, error: `HTTP ${status}` };
	if (status === 409) doc.needsConfirm = true;
	return doc;
}
