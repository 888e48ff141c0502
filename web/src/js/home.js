// SPDX-License-Identifier: BSD-2-Clause
// home.js: where home is on the map: the daemon's home when it knows it, else the browser's time
// zone, else a place the person typed in (remembered), else nothing and a clear prompt. Never 0,0.
//
// DESIGN: the daemon says where home is (`home` in /flows) and how it knows (`source`); when it
// could not tell (its time zone names no city, or there is none) it says so with "use --home" in
// the source and sends 0,0, which is a spot in the sea off Africa, not a home. The page then tries
// this browser's IANA time zone against a small table of zone cities, then a home typed into the
// prompt (localStorage), and otherwise draws no arcs and asks.

// IANA zone -> [lat, lon] of its city (the zones most people are in; others fall through to the prompt).
const ZONES = {
	'Europe/London': [51.51, -0.13], 'Europe/Dublin': [53.35, -6.26], 'Europe/Lisbon': [38.72, -9.14],
	'Europe/Paris': [48.86, 2.35], 'Europe/Madrid': [40.42, -3.7], 'Europe/Brussels': [50.85, 4.35],
	'Europe/Amsterdam': [52.37, 4.9], 'Europe/Berlin': [52.52, 13.4], 'Europe/Zurich': [47.37, 8.54],
	'Europe/Rome': [41.9, 12.5], 'Europe/Vienna': [48.21, 16.37], 'Europe/Prague': [50.08, 14.42],
	'Europe/Warsaw': [52.23, 21.01], 'Europe/Stockholm': [59.33, 18.07], 'Europe/Oslo': [59.91, 10.75],
	'Europe/Copenhagen': [55.68, 12.57], 'Europe/Helsinki': [60.17, 24.94], 'Europe/Athens': [37.98, 23.73],
	'Europe/Bucharest': [44.43, 26.1], 'Europe/Kyiv': [50.45, 30.52], 'Europe/Kiev': [50.45, 30.52],
	'Europe/Istanbul': [41.01, 28.98], 'Europe/Moscow': [55.76, 37.62], 'Europe/Budapest': [47.5, 19.04],
	'America/New_York': [40.71, -74.01], 'America/Chicago': [41.88, -87.63], 'America/Denver': [39.74, -104.99],
	'America/Los_Angeles': [34.05, -118.24], 'America/Phoenix': [33.45, -112.07], 'America/Anchorage': [61.22, -149.9],
	'America/Toronto': [43.65, -79.38], 'America/Vancouver': [49.28, -123.12], 'America/Mexico_City': [19.43, -99.13],
	'America/Sao_Paulo': [-23.55, -46.63], 'America/Argentina/Buenos_Aires': [-34.6, -58.38], 'America/Bogota': [4.71, -74.07],
	'America/Lima': [-12.05, -77.04], 'America/Santiago': [-33.45, -70.67], 'Pacific/Honolulu': [21.31, -157.86],
	'Asia/Tokyo': [35.69, 139.69], 'Asia/Seoul': [37.57, 126.98], 'Asia/Shanghai': [31.23, 121.47],
	'Asia/Hong_Kong': [22.32, 114.17], 'Asia/Taipei': [25.03, 121.57], 'Asia/Singapore': [1.35, 103.82],
	'Asia/Bangkok': [13.76, 100.5], 'Asia/Jakarta': [-6.21, 106.85], 'Asia/Manila': [14.6, 120.98],
	'Asia/Kolkata': [22.57, 88.36], 'Asia/Calcutta': [22.57, 88.36], 'Asia/Dubai': [25.2, 55.27],
	'Asia/Jerusalem': [31.77, 35.21], 'Asia/Tehran': [35.69, 51.39], 'Asia/Karachi': [24.86, 67.0],
	'Africa/Cairo': [30.04, 31.24], 'Africa/Lagos': [6.52, 3.38], 'Africa/Nairobi': [-1.29, 36.82],
	'Africa/Johannesburg': [-26.2, 28.05], 'Australia/Sydney': [-33.87, 151.21], 'Australia/Melbourne': [-37.81, 144.96],
	'Australia/Perth': [-31.95, 115.86], 'Pacific/Auckland': [-36.85, 174.76],
};

// Did the daemon say it does not know where home is?
export function daemonHomeUnknown(h) {
	return !h || typeof h.lat !== 'number' || typeof h.lon !== 'number' || /use --home|no system time zone|has no city/i.test(h.source || '');
}

// This browser's IANA time zone, or ''.
function browserZone() {
	try {
		return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
	} catch (e) {
		return '';
	}
}

// A home the person typed in before ({lat, lon, source}), or null.
function savedHome() {
	try {
		const s = JSON.parse(localStorage.getItem('netglobe.home') || 'null');
		if (s && Number.isFinite(s.lat) && Number.isFinite(s.lon)) return { lat: s.lat, lon: s.lon, source: 'set on this page' };
	} catch (e) { /* none */ }
	return null;
}

/*
 * The home the page draws: the daemon's when it knows, else the time zone of this browser, else a
 * home typed on this page; null when none of them says (the page then asks, and draws no arc).
 * `why` says why the daemon's was not used (for the prompt), `from` where the home came from.
 */
export function resolveHome(daemonHome) {
	if (!daemonHomeUnknown(daemonHome)) return { ...daemonHome, from: 'daemon' };
	const saved = savedHome();
	if (saved) return { ...saved, from: 'page' };
	const z = browserZone();
	if (ZONES[z]) return { lat: ZONES[z][0], lon: ZONES[z][1], source: `this browser's time zone ${z}`, from: 'browser' };
	return null;
}

// Parse "LAT,LON" typed by a person; {lat, lon} or null.
export function parseLatLon(text) {
	const m = /^\s*(-?\d+(?:\.\d+)?)\s*[, ]\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text || '');
	if (!m) return null;
	const lat = Number(m[1]), lon = Number(m[2]);
	if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
	return { lat, lon };
}

// Remember a home typed on this page.
export function saveHome(h) {
	localStorage.setItem('netglobe.home', JSON.stringify({ lat: h.lat, lon: h.lon }));
}
