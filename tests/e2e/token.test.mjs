#!/usr/bin/env node
// SPDX-License-Identifier: BSD-2-Clause
// token.test.mjs: the LAN access token stays with netglobe, in headless Chromium (playwright-core).
//
//   NG_URL=http://127.0.0.1:P/ NG_TOKEN=... node tests/e2e/token.test.mjs
//
// NG_URL is a netglobe LAN listener (for example --listen 0.0.0.0:P reached through 127.0.0.1).
// The browser opens NG_URL#token=TOKEN, as the printed URL and QR code say, in a profile of its own.
// Checks: the page gets its data (flows, and events through the fetch-based stream), the address bar
// and the session history entry lose the token, the token is in sessionStorage and in no cookie, the
// CSV export is a Blob download, and a second local server on another port (another user's service
// on the same host: cookies ignore ports) receives no token in any URL, header or cookie when the
// same browser visits it, fetches from it with credentials, and is linked from it. A new tab without
// the fragment explains that the token is needed. After the browser closes, the profile's Cookies
// file holds no token and the download list holds no URL with it. Prints PASS/FAIL lines; exits 1
// when anything failed. Chromium's history database keeps the first visited URL, fragment included
// (docs/security.md, Limits): printed as INFO, not judged.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const require = createRequire(path.join(repo, 'web/package.json'));
const { chromium } = require('playwright-core');

const base = process.env.NG_URL;
const token = process.env.NG_TOKEN || '';
if (!base || !/^[0-9a-f]{64}$/.test(token)) {
	console.error('token.test: set NG_URL (a LAN listener) and NG_TOKEN (its 64-hex token)');
	process.exit(2);
}
const chromiumPath = process.env.NG_CHROMIUM || '/usr/bin/chromium';

let failures = 0;
function result(ok, name, detail = '') {
	console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
	if (!ok) failures++;
	return ok;
}

// The second server: records everything it receives, serves a page that tries to get credentials sent.
const seen = [];
const spy = http.createServer((q, r) => {
	let body = '';
	q.on('data', (d) => { body += d; });
	q.on('end', () => {
		seen.push({ url: q.url, headers: JSON.stringify(q.headers), body });
		if (q.url === '/') {
			r.setHeader('Content-Type', 'text/html');
			r.end('<!doctype html><title>spy</title><img src="/pixel.png"><script src="/spy.js"></script>');
		} else if (q.url === '/spy.js') {
			r.setHeader('Content-Type', 'text/javascript');
			r.end("fetch('/probe', { credentials: 'include' }).then(() => { document.title = 'probed'; });");
		} else {
			r.statusCode = 404;
			r.end();
		}
	});
}).listen(0, '127.0.0.1');
await new Promise((r) => spy.on('listening', r));
const spyUrl = `http://127.0.0.1:${spy.address().port}/`;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ng-token-profile-'));
const downloads = fs.mkdtempSync(path.join(os.tmpdir(), 'ng-token-dl-'));
const ctx = await chromium.launchPersistentContext(profile, {
	executablePath: chromiumPath,
	headless: true,
	acceptDownloads: true,
	downloadsPath: downloads,
	args: ['--no-sandbox', '--enable-unsafe-swiftshader', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const toDaemon = [];
ctx.on('request', (rq) => { if (rq.url().startsWith(new URL(base).origin)) toDaemon.push(rq); });
try {
	const page = await ctx.newPage();
	await page.goto(`${base}#token=${token}`);
	await page.waitForFunction(() => window.netglobe && window.netglobe.stats().flows > 0 && window.netglobe.stats().connected,
		null, { timeout: 30000 }).catch(() => {});
	const st = await page.evaluate(() => window.netglobe.stats());
	result(st.flows > 0, 'the page loads /flows with the token from #token=', `${st.flows} flows`);
	result(st.connected === true, 'the event stream is open (fetch with the Authorization header)');
	const href = await page.evaluate(() => location.href);
	result(!href.includes(token) && !href.includes('token='), 'the address bar has no token', href);
	const stored = await page.evaluate(() => sessionStorage.getItem('netglobe-token'));
	result(stored === token, 'the token is in sessionStorage (this tab only)');
	const docCookie = await page.evaluate(() => document.cookie);
	const cookies = await ctx.cookies();
	result(docCookie === '' && !cookies.some((c) => c.value.includes(token)), 'no cookie holds the token',
		JSON.stringify(cookies.map((c) => c.name)));
	const leaky = toDaemon.filter((rq) => rq.url().includes(token));
	result(leaky.length === 0, 'no request URL to the daemon holds the token', leaky.map((r) => r.url()).join(' '));
	const authed = toDaemon.filter((rq) => (rq.headers().authorization || '') === `Bearer ${token}`).map((r) => new URL(r.url()).pathname);
	result(authed.includes('/flows') && authed.includes('/events'), 'the API and the stream carry Authorization: Bearer',
		[...new Set(authed)].join(' '));

	// The CSV export: fetched with the header and saved from a Blob.
	const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 15000 }), page.click('#export')]);
	const file = path.join(downloads, 'flows.csv');
	await dl.saveAs(file);
	const csv = fs.readFileSync(file, 'utf8');
	result(dl.url().startsWith('blob:'), 'the CSV export is a Blob download', dl.url());
	result(/^[a-z_]+,/.test(csv) && csv.split('\n').length > 2, 'the CSV file has a header row and rows', csv.slice(0, 40));

	// A service of another user on another port of the same host.
	await page.goto(spyUrl);
	await page.waitForFunction(() => document.title === 'probed', null, { timeout: 10000 }).catch(() => {});
	const other = await ctx.newPage();
	await other.goto(spyUrl);
	await other.waitForFunction(() => document.title === 'probed', null, { timeout: 10000 }).catch(() => {});
	const got = seen.filter((s) => (s.url + s.headers + s.body).includes(token));
	result(seen.length >= 4, 'the second server was visited and probed', `${seen.length} requests`);
	result(got.length === 0, 'the second server received no token (URL, headers, cookies)', got.map((s) => s.url).join(' '));
	await page.goBack();
	const back = await page.evaluate(() => location.href);
	result(!back.includes(token), 'going back: the session history entry has no token', back);

	// A new tab without the fragment: the page says a token is needed.
	const fresh = await ctx.newPage();
	await fresh.goto(base);
	const note = await fresh.waitForFunction(() => {
		const n = document.getElementById('view-note');
		return n && !n.hidden && /access token/.test(n.textContent) ? n.textContent : null;
	}, null, { timeout: 45000 }).then((h) => h.jsonValue()).catch(() => null);
	result(!!note, 'a tab without the token explains how to get it', note || 'no note');
} finally {
	await ctx.close();
	spy.close();
}

// What the profile kept on disk.
const cookieDb = path.join(profile, 'Default', 'Cookies');
const inCookies = fs.existsSync(cookieDb) && fs.readFileSync(cookieDb).includes(token);
result(!inCookies, 'the profile\'s Cookies file holds no token');
const historyDb = path.join(profile, 'Default', 'History');
if (fs.existsSync(historyDb)) {
	const q = (sql) => {
		try {
			return execFileSync('python3', ['-c', 'import sqlite3, sys\nfor r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print(r[0])', historyDb, sql]).toString();
		} catch (e) {
			return `(cannot read: ${e.message})`;
		}
	};
	const dls = q('select url from downloads_url_chains') + q('select tab_url from downloads');
	result(!dls.includes(token), 'the download list holds no URL with the token', dls.trim().split('\n').join(' '));
	const urls = q('select url from urls').trim().split('\n').filter((u) => u.includes(token));
	console.log(`INFO Chromium's history database keeps ${urls.length} URL(s) with the token: the first visit of the #token= URL (docs/security.md, Limits)`);
}
fs.rmSync(profile, { recursive: true, force: true });
fs.rmSync(downloads, { recursive: true, force: true });
console.log(failures ? `token.test: ${failures} failed` : 'token.test: all passed');
process.exit(failures ? 1 : 0);
