// SPDX-License-Identifier: BSD-2-Clause
// api.js: the one place the page talks to the daemon: the LAN token, requests, downloads, the event stream.
//
// DESIGN (docs/security.md, docs/api.md "The token"): a LAN listener needs the access token. It
// arrives once in the URL fragment (#token=..., never sent to any server), moves into sessionStorage
// (this tab only), and leaves the address bar and the history entry through history.replaceState.
// Every request sends it as "Authorization: Bearer TOKEN"; no cookie exists, so no other service on
// the same host (cookies ignore ports) ever receives it. The event stream is read with fetch() (an
// EventSource cannot send headers), and downloads are fetched and saved from a Blob, so no URL holding
// the token reaches the history or the download list. On a loopback listener no token is needed and
// none is sent.

const KEY = 'netglobe-token';
const TOKEN_RE = /^[0-9a-f]{64}$/;
let token = '';
const authListeners = [];

// Move a #token= from the URL into sessionStorage and drop it (and any old ?token=) from the URL and history.
function takeToken() {
	try { token = sessionStorage.getItem(KEY) || ''; } catch (e) { token = ''; }
	const u = new URL(location.href);
	const frag = new URLSearchParams(u.hash.replace(/^#/, ''));
	const t = frag.get('token');
	let changed = false;
	if (t !== null) {
		if (TOKEN_RE.test(t)) {
			token = t;
			try { sessionStorage.setItem(KEY, t); } catch (e) { /* private mode: memory only */ }
		}
		frag.delete('token');
		const rest = frag.toString();
		u.hash = rest ? `#${rest}` : '';
		changed = true;
	}
	if (u.searchParams.has('token')) {
		u.searchParams.delete('token');
		changed = true;
	}
	if (changed) history.replaceState(history.state, '', u.pathname + u.search + u.hash);
}
takeToken();

// True when this tab holds a token.
export function hasToken() {
	return token !== '';
}

// Call cb() when the daemon answers 401 (the token is missing or wrong).
export function onAuthNeeded(cb) {
	authListeners.push(cb);
}

// Headers for a request to the daemon: extra ones plus the token's Authorization, if any.
export function apiHeaders(extra) {
	const h = new Headers(extra || {});
	if (token) h.set('Authorization', `Bearer ${token}`);
	return h;
}

// Tell the listeners about a 401.
function noteStatus(r) {
	if (r.status === 401) for (const cb of authListeners) cb();
}

// fetch() a path of our own origin with the token header; resolves to the Response (any status).
export async function apiFetch(path, opts = {}) {
	const o = { cache: 'no-store', credentials: 'omit', ...opts, headers: apiHeaders(opts.headers) };
	const r = await fetch(path, o);
	noteStatus(r);
	return r;
}

// GET a JSON document, or throw with the status.
export async function apiJson(path) {
	const r = await apiFetch(path, { headers: { Accept: 'application/json' } });
	if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
	return r.json();
}

// POST a JSON body; resolves to { status, doc } (doc null when the answer is not JSON).
export async function apiPost(path, body) {
	const r = await apiFetch(path, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
		body: JSON.stringify(body),
	});
	let doc = null;
	try { doc = await r.json(); } catch (e) { doc = null; }
	return { status: r.status, doc };
}

// Download a path as a file named filename (fetch + Blob: no URL with a token in the download history).
export async function apiDownload(path, filename) {
	const r = await apiFetch(path);
	if (!r.ok) {
		let msg = `HTTP ${r.status}`;
		try { msg = (await r.json()).error || msg; } catch (e) { /* not JSON */ }
		throw new Error(msg);
	}
	const blob = await r.blob();
	const href = URL.createObjectURL(blob);
	const a = document.createElement('a');
	a.href = href;
	a.download = filename;
	a.rel = 'noopener';
	a.style.display = 'none';
	document.body.appendChild(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(href), 10000);
}

// Feed text to an SSE parser state, calling onEvent(type, id, data) per complete event (HTML "server-sent events").
function sseFeed(p, text, onEvent) {
	p.buf += text;
	for (;;) {
		const m = /\r\n|\r|\n/.exec(p.buf);
		if (!m) break;
		// A lone \r at the end may be the first half of \r\n: wait for more.
		if (m[0] === '\r' && m.index === p.buf.length - 1) break;
		const line = p.buf.slice(0, m.index);
		p.buf = p.buf.slice(m.index + m[0].length);
		if (line === '') {
			if (p.data.length) onEvent(p.event || 'message', p.id, p.data.join('\n'));
			p.data = [];
			p.event = '';
			continue;
		}
		if (line[0] === ':') continue;
		const c = line.indexOf(':');
		const field = c < 0 ? line : line.slice(0, c);
		let value = c < 0 ? '' : line.slice(c + 1);
		if (value[0] === ' ') value = value.slice(1);
		if (field === 'data') p.data.push(value);
		else if (field === 'event') p.event = value;
		else if (field === 'id' && !value.includes('\0')) p.id = value;
		else if (field === 'retry' && /^\d+$/.test(value)) p.retry = Number(value);
	}
}

// Open an event stream with the token header. handlers: onOpen(), onEvent(type, id, data),
// onEnd(httpError, retryMs) once when it ends (httpError: true for a refusal, false for a dropped
// connection). lastEventId (optional) goes in Last-Event-ID. Returns { close() }.
export function apiEvents(path, handlers, lastEventId) {
	const ctl = new AbortController();
	const p = { buf: '', data: [], event: '', id: lastEventId ? String(lastEventId) : '', retry: 3000 };
	let ended = false;
	const end = (httpError) => {
		if (ended) return;
		ended = true;
		if (!ctl.signal.aborted && handlers.onEnd) handlers.onEnd(httpError, p.retry);
	};
	(async () => {
		const h = { Accept: 'text/event-stream' };
		if (lastEventId) h['Last-Event-ID'] = String(lastEventId);
		let r;
		try {
			r = await apiFetch(path, { headers: h, signal: ctl.signal });
		} catch (e) {
			end(false);
			return;
		}
		if (!r.ok || !(r.headers.get('Content-Type') || '').startsWith('text/event-stream') || !r.body) {
			end(true);
			return;
		}
		if (handlers.onOpen) handlers.onOpen();
		const reader = r.body.getReader();
		const dec = new TextDecoder();
		try {
			for (;;) {
				const { value, done } = await reader.read();
				if (done) break;
				sseFeed(p, dec.decode(value, { stream: true }), handlers.onEvent);
			}
		} catch (e) {
			/* dropped */
		}
		end(false);
	})();
	return {
		close() { ended = true; ctl.abort(); },
		lastEventId() { return p.id; },
	};
}

// Route clicks on same-origin <a download> links (the CSV export, evidence pcaps) through apiDownload.
export function interceptDownloads() {
	document.addEventListener('click', (ev) => {
		const a = ev.target && ev.target.closest ? ev.target.closest('a[download]') : null;
		if (!a || ev.defaultPrevented || ev.button !== 0) return;
		const u = new URL(a.href, location.href);
		if (u.origin !== location.origin || u.protocol === 'blob:') return;
		ev.preventDefault();
		apiDownload(u.pathname + u.search, a.getAttribute('download') || 'netglobe-download').catch((e) => {
			console.error('netglobe: download failed:', e);
			for (const cb of downloadErrorListeners) cb(e);
		});
	});
}

const downloadErrorListeners = [];
// Call cb(error) when a download fails.
export function onDownloadError(cb) {
	downloadErrorListeners.push(cb);
}
