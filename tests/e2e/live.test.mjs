#!/usr/bin/env node
// SPDX-License-Identifier: BSD-2-Clause
// live.test.mjs: the page follows the daemon live. Run while netglobe is still replaying a capture
// (for example --speed 20): the page must end with exactly the flows and places of /flows, having
// received them over /events, flash new rows green, and, once the daemon is killed, say that the
// live stream is disconnected.
//
//   NG_URL=http://127.0.0.1:PORT/ NG_DAEMON_PID=1234 node tests/e2e/live.test.mjs
//
// NG_DAEMON_PID is the daemon this test may stop (by its id) for the disconnect check; without it
// that check is left out. Prints PASS/FAIL lines; exits 1 when anything failed.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.resolve(here, '../../web/package.json'));
const base = process.env.NG_URL;
if (!base) {
	console.error('live.test: set NG_URL');
	process.exit(2);
}
let failures = 0;
function result(ok, name, detail = '') {
	console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
	if (!ok) failures++;
}

// Flows and places of the daemon's /flows now (place rule: docs/page.md), and whether its replay
// has finished (/api/stats replay.done; null when the daemon does not say).
async function snapshot(page) {
	return page.evaluate(async () => {
		const s = await (await fetch('/api/stats', { cache: 'no-store' })).json().catch(() => ({}));
		const d = await (await fetch('/flows', { cache: 'no-store' })).json();
		const keys = new Set();
		for (const f of d.flows) {
			// Unanswered inbound attempts (signal `unanswered`) are not places until the page is asked to show them.
			if (Array.isArray(f.signals) && f.signals.some((x) => x && x.name === 'unanswered')) continue;
			const g = f.geo;
			if (g && typeof g.lat === 'number' && typeof g.lon === 'number') keys.add(`${Math.round(g.lat * 10) / 10},${Math.round(g.lon * 10) / 10}`);
		}
		return { flows: d.flows.length, places: keys.size, done: s.replay ? !!s.replay.done : null };
	});
}

const { chromium } = require('playwright-core');
const browser = await chromium.launch({
	executablePath: process.env.NG_CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox', '--enable-unsafe-swiftshader', '--disable-quic', '--no-first-run', '--disable-background-networking',
		'--disable-component-update', '--disable-sync'],
});
try {
	const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
	const u = new URL(base);
	u.searchParams.set('rotate', '0');
	await page.goto(u.toString());
	await page.waitForFunction(() => window.netglobe && window.netglobe.stats().ready, null, { timeout: 60000 });
	const atLoad = await snapshot(page);
	const pageAtLoad = await page.evaluate(() => window.netglobe.stats().flows);
	let sawNew = false, prev = null, done = false, last = null, st = null;
	const t0 = Date.now();
	while (Date.now() - t0 < 120000) {
		sawNew = sawNew || await page.evaluate(() => !!document.querySelector('#list .row.hl-new'));
		last = await snapshot(page);
		st = await page.evaluate(() => window.netglobe.stats());
		const stable = last.done === null ? prev && prev.flows === last.flows && prev.places === last.places : last.done;
		if (stable && st.flows === last.flows && st.arcs === last.places) { done = true; break; }
		prev = last;
		await page.waitForTimeout(1500);
	}
	console.log(`info: /flows at page load ${atLoad.flows} (page ${pageAtLoad}), at the end ${last.flows} flows ${last.places} places`);
	result(done, 'live: the page ends with the flows and places of /flows', `page flows=${st.flows} arcs=${st.arcs}; /flows ${last.flows} flows, ${last.places} places`);
	result(st.connected && st.lastEventId > 0, 'live: the event stream is connected', `connected=${st.connected} lastEventId=${st.lastEventId}`);
	if (last.flows > atLoad.flows) {
		result(sawNew, 'live: flows that arrived after loading flashed as new rows');
	} else {
		console.log('info: the replay ended before the page loaded; the live-arrival check is left out');
	}
	const pid = Number(process.env.NG_DAEMON_PID);
	if (pid > 0) {
		process.kill(pid, 'SIGTERM');
		const warned = await page.waitForFunction(() => {
			const w = document.getElementById('warn-stream');
			return w && w.offsetParent && !window.netglobe.stats().connected;
		}, null, { timeout: 20000 }).then(() => true, () => false);
		const text = warned ? await page.$eval('#warn-stream', (e) => e.textContent) : '';
		result(warned, 'live: a stopped daemon shows "live stream disconnected"', text);
	}
} finally {
	await browser.close();
}
console.log(failures ? `live.test: ${failures} failed` : 'live.test: all passed');
process.exit(failures ? 1 : 0);
