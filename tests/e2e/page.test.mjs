#!/usr/bin/env node
// SPDX-License-Identifier: BSD-2-Clause
// page.test.mjs: end-to-end test of the globe page in headless Chromium (playwright-core).
//
//   NG_URL=http://127.0.0.1:8080/ node tests/e2e/page.test.mjs
//
// Environment: NG_URL (required: the page, served by netglobe or by tests/e2e/mock-daemon.mjs),
// NG_ARTIFACTS (screenshots; default build/artifacts), NG_EXPECT_RED (1: red must show, 0: none
// may show, auto (default): decided from /flows), NG_CHROMIUM (default /usr/bin/chromium),
// NG_PHONE=0 skips the phone run. Prints PASS/FAIL lines; exits 1 when anything failed.
//
// The oracle is /flows itself, read by this script with the rule docs/page.md states: a place is a
// flow's geo (lat, lon) rounded to one decimal; flows without numeric lat/lon are not places; each
// place's sent (received) arc takes the worst verdict_sent (verdict_received) of its flows that
// carried traffic that way (blocklisted > anomalous > normal > local).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePng, countRed } from './png.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const require = createRequire(path.join(repo, 'web/package.json'));

const base = process.env.NG_URL;
if (!base) {
	console.error('page.test: set NG_URL to the page, e.g. http://127.0.0.1:8080/');
	process.exit(2);
}
const artifacts = process.env.NG_ARTIFACTS || path.join(repo, 'build/artifacts');
const expectRedEnv = process.env.NG_EXPECT_RED || 'auto';
const chromiumPath = process.env.NG_CHROMIUM || '/usr/bin/chromium';
const origin = new URL(base).origin;
const TIMEOUT = Number(process.env.NG_TIMEOUT_MS || 60000);

let failures = 0;
function result(ok, name, detail = '') {
	console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
	if (!ok) failures++;
	return ok;
}

// A URL of our origin with the page's query (the token, if any) kept and extra parameters added.
function pageUrl(extra) {
	const u = new URL(base);
	for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v);
	return u.toString();
}

const SEV = { local: 1, normal: 2, anomalous: 3, blocklisted: 4 };
const worse = (a, b) => (!a ? b : !b ? a : (SEV[a] || 0) >= (SEV[b] || 0) ? a : b);

// Places and arc colours computed from a /flows document (the independent oracle).
function oracle(doc) {
	const places = new Map();
	for (const f of doc.flows || []) {
		const g = f.geo;
		if (!g || typeof g.lat !== 'number' || typeof g.lon !== 'number') continue;
		const key = `${Math.round(g.lat * 10) / 10},${Math.round(g.lon * 10) / 10}`;
		const p = places.get(key) || { sent: null, received: null, any: null };
		if (f.bytes_sent > 0 || f.packets_sent > 0) p.sent = worse(p.sent, f.verdict_sent || f.verdict);
		if (f.bytes_received > 0 || f.packets_received > 0) p.received = worse(p.received, f.verdict_received || f.verdict);
		p.any = worse(p.any, f.verdict);
		places.set(key, p);
	}
	let red = false;
	for (const p of places.values()) {
		if (!p.sent && !p.received) p.sent = p.any;
		if (p.sent === 'anomalous' || p.received === 'anomalous') red = true;
	}
	return { keys: new Set(places.keys()), red, flows: (doc.flows || []).length };
}

async function getFlows(page) {
	// Through the browser, so the token cookie (LAN) applies exactly as it does for the page.
	return page.evaluate(async () => (await fetch('/flows', { credentials: 'same-origin', cache: 'no-store' })).json());
}

// Red pixels inside the map, leaving out the legend, toasts and the tooltip (which may show red by design).
async function redInView(page, png) {
	const boxes = await page.evaluate(() => {
		const r = (id) => { const e = document.getElementById(id); if (!e || e.hidden || !e.offsetParent) return null; const b = e.getBoundingClientRect(); return { x: b.x, y: b.y, w: b.width, h: b.height }; };
		return { view: r('view'), skip: ['legend', 'toast', 'tooltip'].map(r).filter(Boolean) };
	});
	const img = decodePng(png);
	let n = countRed(img, boxes.view);
	for (const s of boxes.skip) n -= countRed(img, s);
	return n;
}

async function main() {
	fs.mkdirSync(artifacts, { recursive: true });
	let chromium;
	try {
		({ chromium } = require('playwright-core'));
	} catch (e) {
		console.log('SKIP page.test: playwright-core is not installed (run make deps)');
		process.exit(77);
	}
	const browser = await chromium.launch({
		executablePath: chromiumPath,
		args: ['--no-sandbox', '--enable-unsafe-swiftshader', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync'],
	});
	const requests = [];
	const pageErrors = [];
	const cspErrors = [];
	try {
		/* ---------- desktop ---------- */
		const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
		const page = await ctx.newPage();
		page.on('request', (r) => requests.push(r.url()));
		page.on('pageerror', (e) => pageErrors.push(e.message));
		page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) cspErrors.push(m.text()); });
		await page.goto(pageUrl({ rotate: '0' }), { waitUntil: 'load', timeout: TIMEOUT });
		const ready = await page.waitForFunction(() => window.netglobe && window.netglobe.stats().ready, null, { timeout: TIMEOUT })
			.then(() => true, () => false);
		result(ready, 'desktop: the page reports ready (globe drawn, /flows loaded)');

		const webgl = await page.evaluate(() => {
			const c = document.getElementById('globe-canvas');
			if (!c) return { canvas: false };
			const gl = c.getContext('webgl2') || c.getContext('webgl');
			return { canvas: true, gl: !!gl && !gl.isContextLost(), hook: window.netglobe.stats().webgl };
		});
		result(webgl.canvas && webgl.gl && webgl.hook, 'desktop: the globe canvas has a WebGL context', JSON.stringify(webgl));

		// Arcs = distinct remote places in /flows; retried while the daemon's world may still move.
		let arcsOk = false, detail = '', want = null;
		const t0 = Date.now();
		while (Date.now() - t0 < 30000) {
			const doc = await getFlows(page);
			want = oracle(doc);
			const got = await page.evaluate(() => ({ s: window.netglobe.stats(), keys: window.netglobe.places().map((p) => p.key) }));
			const gotKeys = new Set(got.keys);
			const missing = [...want.keys].filter((k) => !gotKeys.has(k));
			const extra = [...gotKeys].filter((k) => !want.keys.has(k));
			detail = `page arcs=${got.s.arcs} places=${got.s.places} flows=${got.s.flows}; /flows places=${want.keys.size} flows=${want.flows}` +
				(missing.length ? `; missing ${missing.slice(0, 5).join(' ')}` : '') + (extra.length ? `; extra ${extra.slice(0, 5).join(' ')}` : '');
			if (got.s.arcs === want.keys.size && !missing.length && !extra.length) { arcsOk = true; break; }
			await page.waitForTimeout(1000);
		}
		result(arcsOk, 'desktop: arcs drawn equal the distinct remote places in /flows', detail);
		if (want && want.keys.size === 0) result(false, 'desktop: /flows has places to draw', 'no flow has a location: is the GeoIP data installed (make deps)?');

		// Let arcs finish growing and fading in, then look for red.
		await page.waitForTimeout(2500);
		const shot = await page.screenshot({ path: path.join(artifacts, 'desktop.png') });
		const expectRed = expectRedEnv === 'auto' ? want && want.red : expectRedEnv === '1';
		if (expectRedEnv === '1' && want && !want.red) result(false, 'desktop: /flows has anomalous traffic (NG_EXPECT_RED=1)', 'no place has an anomalous direction');
		const red = await redInView(page, shot);
		if (expectRed) result(red >= 150, 'desktop: red pixels show the anomalous arcs', `${red} red pixels`);
		else result(red < 10, 'desktop: no red pixels when nothing is anomalous', `${red} red pixels`);

		// Clicking a list row opens its details (with the whitelist history from /flows/{id}).
		const row = await page.$('#list .row');
		if (result(!!row, 'desktop: the list has rows')) {
			const name = await row.$eval('.r1 b', (e) => e.textContent);
			await row.click();
			const opened = await page.waitForFunction(() => !document.getElementById('details').hidden, null, { timeout: 5000 }).then(() => true, () => false);
			const title = opened ? await page.$eval('#details-title', (e) => e.textContent) : '';
			result(opened && title.startsWith(name), 'desktop: clicking a row opens its details', `row "${name}", details "${title}"`);
			const hist = await page.waitForFunction(() => {
				const h = document.getElementById('d-history');
				return h && !/loading/.test(h.textContent) ? h.textContent : null;
			}, null, { timeout: 10000 }).then((h) => h.jsonValue(), () => 'still loading');
			result(!/not available|still loading/.test(hist), 'desktop: details show the whitelist history from /flows/{id}', hist.replace(/\s+/g, ' ').slice(0, 100));
			await page.click('#details-close');
			await page.waitForFunction(() => document.getElementById('details').hidden, null, { timeout: 5000 }).catch(() => {});
		}

		// Clicking an arc opens details too (the hook gives a visible point of an arc).
		const pt = await page.evaluate(() => {
			// A point of some arc that no overlay (legend, toast, tooltip, labels) covers.
			const covers = ['legend', 'toast', 'tooltip'].map((id) => document.getElementById(id))
				.filter((e) => e && !e.hidden).map((e) => e.getBoundingClientRect());
			for (const p of window.netglobe.places()) {
				const s = window.netglobe.arcPoint(p.key);
				if (!s || covers.some((r) => s.x >= r.left - 4 && s.x <= r.right + 4 && s.y >= r.top - 4 && s.y <= r.bottom + 4)) continue;
				const top = document.elementFromPoint(s.x, s.y);
				if (top && top.closest('#view')) return s;
			}
			return null;
		});
		if (pt) {
			await page.mouse.click(pt.x, pt.y);
			const opened = await page.waitForFunction(() => !document.getElementById('details').hidden, null, { timeout: 5000 }).then(() => true, () => false);
			result(opened, 'desktop: clicking an arc opens details', `at ${Math.round(pt.x)},${Math.round(pt.y)}`);
		} else if (want && want.keys.size) {
			result(false, 'desktop: some arc is visible to click');
		}

		// Keyboard: focus the list, arrow down, Enter opens details.
		await page.keyboard.press('Escape');
		await page.focus('#list');
		await page.keyboard.press('ArrowDown');
		await page.keyboard.press('Enter');
		const kb = await page.waitForFunction(() => !document.getElementById('details').hidden, null, { timeout: 5000 }).then(() => true, () => false);
		result(kb, 'desktop: the list works from the keyboard (arrow, Enter)');
		const stats = await page.evaluate(() => window.netglobe.stats());
		console.log(`info: desktop stats ${JSON.stringify(stats)}`);

		// Without WebGL (?webgl=0 stands in for a browser that has none): the flat map, same arcs.
		await page.goto(pageUrl({ webgl: '0' }), { waitUntil: 'load', timeout: TIMEOUT });
		const flat = await page.waitForFunction(() => window.netglobe && window.netglobe.stats().ready && window.netglobe.stats(), null, { timeout: TIMEOUT })
			.then((h) => h.jsonValue(), () => null);
		result(!!flat && flat.mode === 'flat' && !flat.webgl && flat.arcs === flat.places && flat.places > 0,
			'desktop: without WebGL a flat map draws the same arcs', flat ? `mode=${flat.mode} arcs=${flat.arcs} places=${flat.places}` : 'not ready');
		await ctx.close();

		/* ---------- phone ---------- */
		if (process.env.NG_PHONE !== '0') {
			const pctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
			const ph = await pctx.newPage();
			ph.on('request', (r) => requests.push(r.url()));
			ph.on('pageerror', (e) => pageErrors.push(e.message));
			await ph.goto(pageUrl({ rotate: '0' }), { waitUntil: 'load', timeout: TIMEOUT });
			const pready = await ph.waitForFunction(() => window.netglobe && window.netglobe.stats().ready, null, { timeout: TIMEOUT }).then(() => true, () => false);
			result(pready, 'phone: the page reports ready');
			await ph.waitForTimeout(2500);
			const lay = await ph.evaluate(() => {
				const b = (id) => { const r = document.getElementById(id).getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height, bottom: r.bottom }; };
				const small = [...document.querySelectorAll('#sheet-handle, #direction button, #palette, #export, #f-more')]
					.filter((e) => e.offsetParent).map((e) => [e.id || e.textContent.trim(), Math.round(e.getBoundingClientRect().height)]).filter(([, h]) => h < 44);
				return { layout: window.netglobe.stats().layout, sheet: b('panel'), view: b('view'), small, visible: getComputedStyle(document.getElementById('panel')).visibility };
			});
			result(lay.layout === 'phone', 'phone: the hook reports the phone layout', lay.layout);
			const s = lay.sheet;
			result(lay.visible === 'visible' && s.h > 100 && s.y > 844 * 0.3 && Math.abs(s.bottom - 844) <= 2 && s.w >= 380,
				'phone: the list is a bottom sheet', `sheet at y=${Math.round(s.y)} h=${Math.round(s.h)} w=${Math.round(s.w)}`);
			result(lay.view.y < s.y && lay.view.h > 200, 'phone: the globe is above the sheet', `view y=${Math.round(lay.view.y)} h=${Math.round(lay.view.h)}`);
			result(lay.small.length === 0, 'phone: touch targets are at least 44 px tall', JSON.stringify(lay.small));
			// Tapping the handle expands the sheet.
			await ph.tap('#sheet-handle');
			await ph.waitForTimeout(600);
			const grown = await ph.evaluate(() => document.getElementById('panel').getBoundingClientRect().height);
			result(grown > s.h + 100, 'phone: tapping the handle expands the sheet', `${Math.round(s.h)} -> ${Math.round(grown)} px`);
			await ph.tap('#sheet-handle');
			await ph.waitForTimeout(600);
			await ph.screenshot({ path: path.join(artifacts, 'phone.png') });
			await pctx.close();
		}
	} finally {
		await browser.close();
	}

	// Only our own origin may be asked for anything.
	const foreign = [...new Set(requests.filter((u) => !/^(data|blob):/.test(u) && new URL(u).origin !== origin))];
	result(foreign.length === 0, 'the page requested nothing from another host', foreign.length ? foreign.slice(0, 5).join(' ') : `${requests.length} requests, all to ${origin}`);
	result(pageErrors.length === 0, 'no uncaught errors in the page', pageErrors.slice(0, 3).join(' | '));
	result(cspErrors.length === 0, 'nothing was refused by the Content-Security-Policy', cspErrors.slice(0, 2).join(' | '));
	console.log(`info: screenshots in ${artifacts}`);
	console.log(failures ? `page.test: ${failures} failed` : 'page.test: all passed');
	process.exit(failures ? 1 : 0);
}

main().catch((e) => {
	console.log(`FAIL page.test crashed: ${e.stack || e}`);
	process.exit(1);
});
