#!/usr/bin/env node
// SPDX-License-Identifier: BSD-2-Clause
// make-icons.mjs: draws netglobe's app icons (a globe with a blue and a red arc from home) and writes
// web/src/icons/icon-192.png, icon-512.png and icon-maskable-512.png. Node built-ins only (zlib for
// PNG); run it again after changing the drawing (it takes a minute or more: 4x4 supersampling in
// plain JS), and commit the PNGs (build.sh only copies them).
import zlib from 'node:zlib';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/icons');

const hex = (h) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];
const BG = hex('#05070d'), OCEAN = hex('#0b2a4f'), RIM = hex('#8fb8d8'), GRID = hex('#2f577c');
const BLUE = hex('#3d9bff'), RED = hex('#ff2d2d'), HOME = hex('#58f0b0');

// Points of a quadratic Bezier curve.
function bezier(p0, p1, p2, n = 96) {
	const pts = [];
	for (let i = 0; i <= n; i++) {
		const t = i / n, u = 1 - t;
		pts.push([u * u * p0[0] + 2 * u * t * p1[0] + t * t * p2[0], u * u * p0[1] + 2 * u * t * p1[1] + t * t * p2[1]]);
	}
	return pts;
}

// Distance from (x, y) to a polyline.
function distPoly(x, y, pts) {
	let best = Infinity;
	for (let i = 1; i < pts.length; i++) {
		const [ax, ay] = pts[i - 1], [bx, by] = pts[i];
		const dx = bx - ax, dy = by - ay;
		const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy || 1)));
		const d = Math.hypot(x - ax - t * dx, y - ay - t * dy);
		if (d < best) best = d;
	}
	return best;
}

// The colour at (x, y) in unit coordinates, or null outside the icon.
function scene(x, y, maskable) {
	const s = maskable ? 0.82 : 1;	// maskable icons keep their content in the middle 80 %
	const cx = 0.5, cy = 0.5, r = 0.34 * s;
	if (!maskable) {
		// Rounded square.
		const k = 0.2, qx = Math.max(Math.abs(x - 0.5) - (0.5 - k), 0), qy = Math.max(Math.abs(y - 0.5) - (0.5 - k), 0);
		if (Math.hypot(qx, qy) > k) return null;
	}
	let c = BG;
	const dx = x - cx, dy = y - cy, d = Math.hypot(dx, dy);
	const w = 0.012 * s;
	if (d < r) {
		c = OCEAN;
		// Graticule: two parallels and three meridians (ellipses).
		for (const f of [-0.5, 0, 0.5]) if (Math.abs(dy - f * r) < w * 0.5) c = GRID;
		for (const k of [0.45, 0.85]) {
			const e = Math.hypot(dx / (r * k), dy / r);
			if (Math.abs(e - 1) * r * k < w * 0.5) c = GRID;
		}
		if (Math.abs(dx) < w * 0.5) c = GRID;
	}
	if (Math.abs(d - r) < w * 0.8) c = RIM;
	const home = [cx - 0.17 * s, cy + 0.14 * s];
	const blue = bezier(home, [cx - 0.02 * s, cy - 0.42 * s], [cx + 0.24 * s, cy - 0.12 * s]);
	const red = bezier(home, [cx + 0.1 * s, cy - 0.06 * s], [cx + 0.23 * s, cy + 0.2 * s]);
	if (distPoly(x, y, blue) < 0.028 * s) c = BLUE;
	if (distPoly(x, y, red) < 0.028 * s) c = RED;
	for (const [p, col] of [[blue[blue.length - 1], BLUE], [red[red.length - 1], RED]]) if (Math.hypot(x - p[0], y - p[1]) < 0.035 * s) c = col;
	if (Math.hypot(x - home[0], y - home[1]) < 0.05 * s) c = HOME;
	return c;
}

// Render with 4x4 supersampling into RGBA.
function render(size, maskable) {
	const px = Buffer.alloc(size * size * 4);
	const S = 4;
	for (let j = 0; j < size; j++) {
		for (let i = 0; i < size; i++) {
			let r = 0, g = 0, b = 0, a = 0;
			for (let sj = 0; sj < S; sj++) {
				for (let si = 0; si < S; si++) {
					const c = scene((i + (si + 0.5) / S) / size, (j + (sj + 0.5) / S) / size, maskable);
					if (c) { r += c[0]; g += c[1]; b += c[2]; a++; }
				}
			}
			const o = (j * size + i) * 4;
			if (a) { px[o] = r / a; px[o + 1] = g / a; px[o + 2] = b / a; }
			px[o + 3] = Math.round(255 * a / (S * S));
		}
	}
	return px;
}

const CRC = new Int32Array(256).map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c; });
function crc32(buf) { let c = -1; for (const b of buf) c = CRC[(c ^ b) & 255] ^ (c >>> 8); return (c ^ -1) >>> 0; }
function chunk(type, body) {
	const len = Buffer.alloc(4); len.writeUInt32BE(body.length);
	const tb = Buffer.concat([Buffer.from(type, 'latin1'), body]);
	const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(tb));
	return Buffer.concat([len, tb, crc]);
}

// An RGBA PNG (filter 0 on every row; zlib does the rest).
function png(size, rgba) {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4);
	ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
	const raw = Buffer.alloc(size * (size * 4 + 1));
	for (let y = 0; y < size; y++) rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
	return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
		chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

fs.mkdirSync(out, { recursive: true });
for (const [name, size, maskable] of [['icon-192.png', 192, false], ['icon-512.png', 512, false], ['icon-maskable-512.png', 512, true]]) {
	const file = path.join(out, name);
	fs.writeFileSync(file, png(size, render(size, maskable)));
	console.log(`wrote ${file}`);
}
