#!/usr/bin/env node
// SPDX-License-Identifier: BSD-2-Clause
// bench.mjs: frame time of the globe page with N synthetic arcs vs an empty globe, in headless
// Chromium (software WebGL here). NG_URL is the served page; prints BENCH lines.
//
//   NG_URL=http://127.0.0.1:PORT/ node tests/e2e/bench.mjs [N=5000] [seconds=8]
//
// The page's ?bench=N mode draws N places (each with traffic both ways: 2N arc instances in one
// instanced draw call) without any server. Two numbers per run: the median interval between
// animation frames (what a person sees; vsync and the frame-rate limit are turned off so an empty
// globe is not capped at 16.7 ms) and the median CPU+GPU time of one render (the page reads back one
// pixel after each render in bench mode, which waits for the GPU).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.resolve(here, '../../web/package.json'));
const { chromium } = require('playwright-core');

const base = process.env.NG_URL;
const n = Number(process.argv[2] || 5000);
const secs = Number(process.argv[3] || 8);

async function measure(browser, count) {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
	const page = await ctx.newPage();
	const u = new URL(base);
	u.searchParams.set('bench', String(count));
	await page.goto(u.toString());
	await page.waitForFunction(() => window.netglobe && window.netglobe.stats().ready, null, { timeout: 120000 });
	await page.waitForTimeout(3000);	// arcs grow in, textures upload
	await page.evaluate(() => window.netglobe.resetFrameTimes());
	await page.waitForTimeout(secs * 1000);
	const s = await page.evaluate(() => window.netglobe.stats());
	const raw = await page.evaluate(() => window.netglobe.frameSamples());
	s.frameMinMs = Math.min(...raw.frame);
	s.renderMinMs = Math.min(...raw.render);
	await ctx.close();
	return s;
}

const browser = await chromium.launch({
	executablePath: process.env.NG_CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox', '--enable-unsafe-swiftshader', '--disable-quic', '--no-first-run', '--disable-background-networking',
		'--disable-component-update', '--disable-sync', '--disable-gpu-vsync', '--disable-frame-rate-limit'],
});
try {
	const empty = await measure(browser, 0);
	const full = await measure(browser, n);
	if (full.arcs < n * 0.99) throw new Error(`the page drew ${full.arcs} arcs, wanted ${n}`);
	console.log(`BENCH page_frame_ms_empty=${empty.frameTimeMs}`);
	console.log(`BENCH page_frame_ms_${n}=${full.frameTimeMs}`);
	console.log(`BENCH page_frame_ratio_${n}_vs_empty=${(full.frameTimeMs / empty.frameTimeMs).toFixed(2)}`);
	console.log(`BENCH page_render_ms_empty=${empty.renderMs}`);
	console.log(`BENCH page_render_ms_${n}=${full.renderMs}`);
	console.log(`BENCH page_render_ratio_${n}_vs_empty=${(full.renderMs / empty.renderMs).toFixed(2)}`);
	// The fastest frame of each run: less disturbed by whatever else the machine is doing.
	console.log(`BENCH page_render_min_ms_empty=${empty.renderMinMs.toFixed(1)}`);
	console.log(`BENCH page_render_min_ms_${n}=${full.renderMinMs.toFixed(1)}`);
	console.log(`BENCH page_render_min_ratio_${n}_vs_empty=${(full.renderMinMs / empty.renderMinMs).toFixed(2)}`);
	console.log(`info: ${n} places drawn as ${full.instances} arc instances in one draw call; ${full.frames} frames sampled (${empty.frames} empty); webgl=${full.webgl}`);
} finally {
	await browser.close();
}
