// SPDX-License-Identifier: BSD-2-Clause
// util.js: small formatting helpers shared by the panel, the header and the globe's tooltip.

// "12.3 kB" style, decimal units as network tools print them.
export function fmtBytes(n) {
	if (n == null || !isFinite(n)) return '–';
	if (n < 1000) return `${n} B`;
	const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
	let v = n, i = -1;
	do { v /= 1000; i++; } while (v >= 1000 && i < units.length - 1);
	return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

// "1,234" with the reader's grouping.
export function fmtInt(n) {
	if (n == null || !isFinite(n)) return '–';
	return Math.round(n).toLocaleString('en-US');
}

// A rate such as 1.2k or 340 (per second values in the header).
export function fmtRate(x) {
	if (x == null || !isFinite(x)) return '–';
	if (x >= 1e6) return `${(x / 1e6).toFixed(1)}M`;
	if (x >= 1e4) return `${Math.round(x / 1e3)}k`;
	if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
	return x >= 10 ? `${Math.round(x)}` : x.toFixed(1);
}

// Whole hours ("13 h"), or minutes under an hour.
export function fmtHours(s) {
	if (s == null || !isFinite(s)) return '–';
	if (s < 3600) return `${Math.floor(s / 60)} min`;
	return `${Math.floor(s / 3600)} h`;
}

// RFC 3339 UTC -> "2020-06-08 10:15:46" in the reader's time zone.
export function fmtTime(iso) {
	if (!iso) return '–';
	const d = new Date(iso);
	if (isNaN(d)) return iso;
	const p = (x) => String(x).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// Escape text for innerHTML.
export function esc(s) {
	return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

let flagSupport = null;
// True when this browser draws regional-indicator pairs as flags (Windows and fontless Linux do not).
export function flagsSupported() {
	if (flagSupport !== null) return flagSupport;
	try {
		const c = document.createElement('canvas');
		c.width = c.height = 32;
		const g = c.getContext('2d', { willReadFrequently: true });
		g.font = '24px sans-serif';
		g.textBaseline = 'top';
		g.fillText('\u{1F1EF}\u{1F1F5}', 0, 0);
		const px = g.getImageData(0, 0, 32, 32).data;
		let colour = 0;
		for (let i = 0; i < px.length; i += 4) {
			if (px[i + 3] > 0 && (Math.abs(px[i] - px[i + 1]) > 40 || Math.abs(px[i + 1] - px[i + 2]) > 40)) colour++;
		}
		flagSupport = colour > 10;
	} catch (e) {
		flagSupport = false;
	}
	return flagSupport;
}

// HTML for a country: a flag emoji where the browser draws one, else the ISO code in a small badge.
export function flagHtml(cc) {
	if (!cc || !/^[A-Za-z]{2}$/.test(cc)) return '<span class="cc cc-none" aria-hidden="true">··</span>';
	const up = cc.toUpperCase();
	if (flagsSupported()) {
		const flag = String.fromCodePoint(...[...up].map((ch) => 0x1f1e6 + ch.charCodeAt(0) - 65));
		return `<span class="flag" role="img" aria-label="${up}">${flag}</span>`;
	}
	return `<span class="cc" aria-hidden="true">${up}</span>`;
}

// Shapes that tell verdicts apart without colour: circle, triangle, octagon, house.
const ICONS = {
	normal: '<circle cx="8" cy="8" r="6" fill="currentColor"/><path d="M5 8.2l2 2 4-4.2" stroke="#0b1220" stroke-width="1.8" fill="none" stroke-linecap="round" stroke-linejoin="round"/>',
	anomalous: '<path d="M8 1.5l7 12.5H1z" fill="currentColor"/><path d="M8 6v4" stroke="#0b1220" stroke-width="1.8" stroke-linecap="round"/><circle cx="8" cy="12" r="1" fill="#0b1220"/>',
	blocklisted: '<path d="M5.1 1h5.8L15 5.1v5.8L10.9 15H5.1L1 10.9V5.1z" fill="currentColor"/><path d="M5.3 5.3l5.4 5.4M10.7 5.3l-5.4 5.4" stroke="#0b1220" stroke-width="1.8" stroke-linecap="round"/>',
	local: '<path d="M8 1.8L15 8h-2v6H3V8H1z" fill="currentColor"/>',
};
export const VERDICT_LABEL = { normal: 'normal', anomalous: 'anomalous', blocklisted: 'blocklisted', local: 'local' };

// An inline SVG icon for a verdict (decorative: the label next to it carries the meaning).
export function verdictIcon(v) {
	const body = ICONS[v] || ICONS.normal;
	return `<svg class="vi v-${esc(v || 'normal')}" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">${body}</svg>`;
}

// Icon plus label, the way the list and details show a verdict.
export function verdictBadge(v) {
	const name = v || 'unknown';
	return `<span class="verdict v-${esc(name)}">${verdictIcon(v)}<span class="vl">${esc(VERDICT_LABEL[v] || name)}</span></span>`;
}

// Shapes that tell attention levels apart without colour: a triangle (look here), a hollow ring
// (known service, new address: the same ring marks such a place on the globe), a filled circle with
// a tick (known), and a dashed circle (an unanswered inbound attempt).
const LEVEL_ICONS = {
	high: '<path d="M8 1.5l7 12.5H1z" fill="currentColor"/><path d="M8 6v4" stroke="#0b1220" stroke-width="1.8" stroke-linecap="round"/><circle cx="8" cy="12" r="1" fill="#0b1220"/>',
	low: '<circle cx="8" cy="8" r="5.2" fill="none" stroke="currentColor" stroke-width="2.2"/>',
	none: '<circle cx="8" cy="8" r="6" fill="currentColor"/><path d="M5 8.2l2 2 4-4.2" stroke="#0b1220" stroke-width="1.8" fill="none" stroke-linecap="round" stroke-linejoin="round"/>',
	unanswered: '<circle cx="8" cy="8" r="5.5" fill="none" stroke="currentColor" stroke-width="1.6" stroke-dasharray="2.6 2"/>',
};
export const LEVEL_LABEL = { high: 'high', low: 'low', none: 'none', unanswered: 'unanswered' };
// Longer words for the legend, tooltips and screen readers.
export const LEVEL_WORDS = {
	high: 'high attention',
	low: 'low attention',
	none: 'no attention needed',
	unanswered: 'unanswered inbound attempt',
	new_program: 'first flow of this program',
	exe_changed: 'program changed (new SHA-256)',
};

// An inline SVG icon for an attention level (decorative: a label or aria-label carries the meaning).
export function levelIcon(level) {
	const body = LEVEL_ICONS[level] || LEVEL_ICONS.none;
	return `<svg class="li a-${esc(level || 'none')}" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">${body}</svg>`;
}

// Icon plus label for an attention level (label defaults to the level's name).
export function levelBadge(level, label) {
	const l = level || 'none';
	return `<span class="attn a-${esc(l)}">${levelIcon(l)}<span class="vl">${esc(label || LEVEL_LABEL[l] || l)}</span></span>`;
}

// Signal names in words (docs/api.md lists the names the daemon sends).
const SIGNAL_WORDS = {
	first_contact: 'first contact',
	known_service: 'known service, new address',
	beacon: 'beacon (regular timing)',
	long_connection: 'long connection',
	dns_tunnel: 'DNS tunnel',
	no_dns: 'no DNS lookup before it',
	scan: 'scan',
	large_upload: 'large upload',
	blocklisted: 'blocklisted',
	unanswered: 'unanswered inbound attempt',
	new_program: 'first flow of this program',
	exe_changed: 'program changed (new SHA-256)',
};

// A signal name in words ("beacon (regular timing)"); unknown names are shown with spaces.
export function signalWords(name) {
	return SIGNAL_WORDS[name] || String(name || 'signal').replace(/_/g, ' ');
}

// The signals of a flow that are well formed ({name, value, reason}), in the daemon's order.
export function signalsOf(f) {
	return f && Array.isArray(f.signals) ? f.signals.filter((s) => s && typeof s.name === 'string') : [];
}

// Great-circle distance in km between two lat/lon points.
export function distanceKm(lat1, lon1, lat2, lon2) {
	const r = Math.PI / 180;
	const a = Math.sin((lat2 - lat1) * r / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin((lon2 - lon1) * r / 2) ** 2;
	return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(a)));
}

// The name a person recognises for the remote end: the domain, else the address.
export function remoteName(f) {
	return f.remote_domain || f.remote_ip || '?';
}

// "Cupertino, US" or "United States" or "" from a geo object.
export function placeName(g) {
	if (!g) return '';
	const parts = [];
	if (g.city) parts.push(g.city);
	if (g.country) parts.push(g.country);
	else if (g.country_name) parts.push(g.country_name);
	return parts.join(', ');
}

// Width in pixels of an arc carrying `bytes`: one px per decade above 100 B (1 px at 100 B, 1.6 px
// at 400 B, 6.5 px at 30 MB, 8 px from 1 GB), so a bulk transfer and a few packets look different.
export function widthForBytes(bytes) {
	if (!bytes || bytes <= 0) return 0;
	return Math.min(8, Math.max(1, 1 + (Math.log10(bytes) - 2) * 1.0));
}

// "HH:MM:SS" of a Date (or ms since the epoch) in the reader's time zone.
export function fmtClock(t) {
	const d = new Date(t);
	if (isNaN(d)) return '–';
	const p = (x) => String(x).padStart(2, '0');
	return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
