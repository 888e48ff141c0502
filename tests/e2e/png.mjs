// SPDX-License-Identifier: BSD-2-Clause
// png.mjs: a small PNG decoder (8-bit RGB/RGBA/grey, non-interlaced, as Chromium writes screenshots)
// and pixel counters for the page tests. Node built-ins only.
import zlib from 'node:zlib';

// Decode a PNG buffer to {width, height, data: RGBA Uint8Array}; throws on what it does not handle.
export function decodePng(buf) {
	const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
	for (let i = 0; i < 8; i++) if (buf[i] !== sig[i]) throw new Error('not a PNG');
	let off = 8, width = 0, height = 0, depth = 0, ctype = 0, interlace = 0;
	const idat = [];
	while (off + 8 <= buf.length) {
		const len = buf.readUInt32BE(off);
		const type = buf.toString('latin1', off + 4, off + 8);
		const body = buf.subarray(off + 8, off + 8 + len);
		if (type === 'IHDR') {
			width = body.readUInt32BE(0); height = body.readUInt32BE(4);
			depth = body[8]; ctype = body[9]; interlace = body[12];
		} else if (type === 'IDAT') idat.push(body);
		else if (type === 'IEND') break;
		off += 12 + len;
	}
	const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[ctype];
	if (depth !== 8 || !channels || interlace) throw new Error(`PNG kind not handled (depth ${depth}, colour type ${ctype}, interlace ${interlace})`);
	const raw = zlib.inflateSync(Buffer.concat(idat));
	const stride = width * channels;
	const out = new Uint8Array(width * height * 4);
	let prev = new Uint8Array(stride);
	let p = 0;
	for (let y = 0; y < height; y++) {
		const filter = raw[p++];
		const line = new Uint8Array(raw.subarray(p, p + stride));
		p += stride;
		for (let x = 0; x < stride; x++) {
			const a = x >= channels ? line[x - channels] : 0;
			const b = prev[x];
			const c = x >= channels ? prev[x - channels] : 0;
			let v = line[x];
			if (filter === 1) v += a;
			else if (filter === 2) v += b;
			else if (filter === 3) v += (a + b) >> 1;
			else if (filter === 4) {
				const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
				v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
			}
			line[x] = v & 255;
		}
		for (let x = 0; x < width; x++) {
			const o = (y * width + x) * 4;
			const s = x * channels;
			if (channels >= 3) { out[o] = line[s]; out[o + 1] = line[s + 1]; out[o + 2] = line[s + 2]; }
			else { out[o] = out[o + 1] = out[o + 2] = line[s]; }
			out[o + 3] = channels === 4 ? line[s + 3] : channels === 2 ? line[s + 1] : 255;
		}
		prev = line;
	}
	return { width, height, data: out };
}

// True for a clearly red pixel: strong red, little green and blue (the anomalous arc colour, blended).
export function isRed(r, g, b) {
	return r >= 150 && g <= 90 && b <= 100 && r - Math.max(g, b) >= 90;
}

// Count red pixels in a decoded image, optionally inside a rectangle {x, y, w, h}.
export function countRed(img, rect) {
	const x0 = rect ? Math.max(0, Math.floor(rect.x)) : 0;
	const y0 = rect ? Math.max(0, Math.floor(rect.y)) : 0;
	const x1 = rect ? Math.min(img.width, Math.ceil(rect.x + rect.w)) : img.width;
	const y1 = rect ? Math.min(img.height, Math.ceil(rect.y + rect.h)) : img.height;
	let n = 0;
	for (let y = y0; y < y1; y++) {
		for (let x = x0; x < x1; x++) {
			const o = (y * img.width + x) * 4;
			if (isRed(img.data[o], img.data[o + 1], img.data[o + 2])) n++;
		}
	}
	return n;
}
