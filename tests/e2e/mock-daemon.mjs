#!/usr/bin/env node
// SPDX-License-Identifier: BSD-2-Clause
// mock-daemon.mjs: a stand-in for netglobe's HTTP API (docs/api.md) serving a built page, for
// developing the page and checking the e2e test itself without the C daemon.
//
//   node tests/e2e/mock-daemon.mjs --web build/web [--port 8099] [--world mixed|quiet] [--no-events] [--csp]
//
// Flow objects are built from the documented schema: tests/e2e/schema.mjs reads the flow example
// and the field table of docs/api.md at start, every flow starts as a copy of that example, and
// every flow served or streamed is checked against the table (documented keys only, null only where
// allowed, enumerations such as attention, documented signal names). A flow that does not conform
// stops the mock with the reason, so docs/api.md and the mock cannot drift apart unnoticed.
//
// Worlds (home in Tokyo; public places with geo; LAN, multicast and unlocated flows):
//   mixed (default): high attention (first contact, beacon, blocklist, large upload), low (known
//     services' new addresses, a lone no_dns), none, and unanswered inbound attempts (three places
//     with nothing else, two beside normal traffic); learning (3 h of 48 h).
//   quiet: only low and none attention (unanswered attempts too, with anomalous verdicts that must
//     still not show red); learning done.
// /events: stats every second; a new flow, an update and a close every 4 s (only flows of no
// attention, so the levels the tests look at stay put). --no-events answers /events with 404.
// Test controls (not part of netglobe's API): GET /mock/info says {"mock": true, ...};
// POST /mock/end?id=N ends flow N now (a flow-closed event). Node built-ins only.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { loadSchema, newFlow, checkFlow } from './schema.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const flag = (name) => args.includes(name);
const webRoot = path.resolve(opt('--web', 'build/web'));
const port = Number(opt('--port', '8099'));
const world = opt('--world', 'mixed');
if (!['mixed', 'quiet'].includes(world)) {
	console.error(`mock-daemon: unknown world '${world}' (use --world mixed or --world quiet)`);
	process.exit(2);
}
const quiet = world === 'quiet';
const noEvents = flag('--no-events');
// --home-unknown: the daemon could not tell where home is (its time zone names no city).
const homeUnknown = flag('--home-unknown');
// --csp: send the strict Content-Security-Policy the page is written to work under.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const csp = flag('--csp');

let schema;
try {
	schema = loadSchema();
} catch (e) {
	console.error(`mock-daemon: ${e.message}`);
	process.exit(1);
}

// Stop when a flow does not match docs/api.md: the mock must serve only what the API documents.
function conform(f) {
	const errs = checkFlow(schema, f);
	if (errs.length) {
		console.error(`mock-daemon: a flow does not match docs/api.md:\n  ${errs.join('\n  ')}`);
		process.exit(1);
	}
	return f;
}

// Fill a flow from the documented example: only documented fields may be set.
function fill(f, values) {
	for (const [k, v] of Object.entries(values)) {
		if (!schema.fields.has(k)) throw new Error(`mock-daemon: field ${k} is not in docs/api.md`);
		f[k] = v;
	}
	return f;
}

// Places: [city, region, cc, country name, lat, lon, domain, org, asn].
const PLACES = [
	['Tokyo', 'Tokyo', 'JP', 'Japan', 35.6895, 139.6917, 'www.nhk.or.jp', 'NHK', 2907],
	['Osaka', 'Osaka', 'JP', 'Japan', 34.6937, 135.5023, 'static.line-scdn.net', 'LINE Corporation', 38631],
	['Seoul', 'Seoul', 'KR', 'South Korea', 37.5665, 126.978, 'dn.kakao.com', 'Kakao Corp', 10158],
	['Singapore', null, 'SG', 'Singapore', 1.3521, 103.8198, 'sg.cdn.example-cdn.net', 'Akamai Technologies', 20940],
	['Sydney', 'New South Wales', 'AU', 'Australia', -33.8688, 151.209, 'one.one.one.one', 'Cloudflare, Inc.', 13335],
	['Mountain View', 'California', 'US', 'United States', 37.386, -122.0838, 'dns.google', 'Google LLC', 15169],
	['Cupertino', 'California', 'US', 'United States', 37.323, -122.0322, 'gateway.icloud.com', 'Apple Inc.', 714],
	['Seattle', 'Washington', 'US', 'United States', 47.6062, -122.3321, 'd1.awsstatic.com', 'Amazon.com, Inc.', 16509],
	['Ashburn', 'Virginia', 'US', 'United States', 39.0438, -77.4874, 'api.github.com', 'GitHub, Inc.', 36459],
	['New York', 'New York', 'US', 'United States', 40.7128, -74.006, 'www.nytimes.com', 'Fastly, Inc.', 54113],
	['Dallas', 'Texas', 'US', 'United States', 32.7767, -96.797, null, 'Linode, LLC', 63949],
	['Toronto', 'Ontario', 'CA', 'Canada', 43.6532, -79.3832, 'cdn.shopify.com', 'Shopify, Inc.', 62679],
	['São Paulo', 'São Paulo', 'BR', 'Brazil', -23.5505, -46.6333, 'www.globo.com', 'Globo Comunicação', 28604],
	['London', 'England', 'GB', 'United Kingdom', 51.5074, -0.1278, 'www.bbc.co.uk', 'BBC', 2818],
	['Amsterdam', 'North Holland', 'NL', 'Netherlands', 52.3676, 4.9041, 'ams.ntp.pool.example', 'Leaseweb Netherlands', 60781],
	['Frankfurt', 'Hesse', 'DE', 'Germany', 50.1109, 8.6821, 'deb.debian.org', 'Fastly, Inc.', 54113],
	['Paris', 'Île-de-France', 'FR', 'France', 48.8566, 2.3522, 'www.lemonde.fr', 'OVH SAS', 16276],
	['Stockholm', 'Stockholm', 'SE', 'Sweden', 59.3293, 18.0686, 'audio-ak.spotifycdn.com', 'Spotify AB', 8403],
	['Moscow', 'Moscow', 'RU', 'Russia', 55.7558, 37.6173, null, 'JSC Selectel', 49505],
	['Kyiv', 'Kyiv City', 'UA', 'Ukraine', 50.4501, 30.5234, 'update.example.ua', 'Hetzner Online GmbH', 24940],
	['Bucharest', 'Bucharest', 'RO', 'Romania', 44.4268, 26.1025, null, 'M247 Europe SRL', 9009],
	['Mumbai', 'Maharashtra', 'IN', 'India', 19.076, 72.8777, 'api.razorpay.com', 'Amazon.com, Inc.', 16509],
	['Hong Kong', null, 'HK', 'Hong Kong', 22.3193, 114.1694, null, 'Alibaba (US) Technology', 45102],
	['Shenzhen', 'Guangdong', 'CN', 'China', 22.5431, 114.0579, 'mmbiz.qpic.cn', 'Tencent Cloud', 132203],
	['Johannesburg', 'Gauteng', 'ZA', 'South Africa', -26.2041, 28.0473, null, 'Afrihost', 37611],
	['Lagos', 'Lagos', 'NG', 'Nigeria', 6.5244, 3.3792, null, 'MainOne Cable', 37282],
	['Dubai', 'Dubai', 'AE', 'United Arab Emirates', 25.2048, 55.2708, 'cdn.example.ae', 'Emirates Telecom', 5384],
	['Auckland', 'Auckland', 'NZ', 'New Zealand', -36.8485, 174.7633, 'www.stuff.co.nz', 'Spark New Zealand', 4771],
	['Buenos Aires', 'Buenos Aires', 'AR', 'Argentina', -34.6037, -58.3816, null, 'Telecom Argentina', 7303],
	['Mexico City', 'CDMX', 'MX', 'Mexico', 19.4326, -99.1332, 'www.unam.mx', 'UNAM', 278],
	['Reykjavik', null, 'IS', 'Iceland', 64.1466, -21.9426, null, 'Advania Island', 44735],
	['Nairobi', null, 'KE', 'Kenya', -1.2921, 36.8219, null, 'Safaricom', 33771],
];

// Deterministic pseudo-random numbers.
let seed = 42;
const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296);
const t0 = Date.parse('2026-11-21T08:00:00Z');
const iso = (ms) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
const sig = (name, value, reason) => ({ name, value, reason });

// A flow to place pi (PLACES index) of no attention; extra overrides documented fields.
function makeFlow(id, pi, extra = {}) {
	const [city, region, cc, cname, lat, lon, domain, org, asn] = PLACES[pi];
	const bs = Math.floor(300 * 10 ** (rnd() * 4));
	const br = Math.floor(300 * 10 ** (rnd() * 4.5));
	const start = t0 + id * 37000;
	const active = rnd() < 0.45;
	const tcp = rnd() < 0.8;
	const f = fill(newFlow(schema), {
		id, proto: tcp ? 'tcp' : 'udp', proto_num: tcp ? 6 : 17, ip_version: 4,
		local_ip: '192.168.2.17', local_port: 49152 + id, remote_ip: `${20 + pi}.${(pi * 7) % 250}.${id % 250}.${(id * 13) % 250}`,
		remote_port: tcp ? (rnd() < 0.8 ? 443 : 80) : (rnd() < 0.5 ? 53 : 123), initiator: 'local',
		packets_sent: Math.ceil(bs / 500), packets_received: Math.ceil(br / 900), bytes_sent: bs, bytes_received: br,
		first_seen: iso(start), last_seen: iso(start + Math.floor(rnd() * 60000)),
		state: active ? (tcp ? 'established' : 'open') : (tcp ? 'closed' : 'open'), active, end_reason: active ? null : (tcp ? 'closed' : 'idle'),
		fragments: 0, remote_scope: 'public',
		geo: { lat, lon, accuracy_km: 20, country: cc, country_name: cname, region, city },
		asn, as_org: org, remote_domain: domain, remote_domain_source: domain ? 'dns' : null,
		process: rnd() < 0.6 ? { pid: 1000 + pi * 3, name: ['firefox', 'curl', 'spotify', 'apt', 'ssh'][pi % 5], exe: `/usr/bin/${['firefox', 'curl', 'spotify', 'apt', 'ssh'][pi % 5]}`, user: 'alice', cmdline: null } : null,
		verdict_sent: 'normal', verdict_received: 'normal', verdict: 'normal',
		reason: 'seen 41 times since 2026-11-19 08:14', attention: 'none', signals: [],
	});
	return fill(f, extra);
}

// Make flow f active (the places the tests look at must be current, not faded).
function activate(f) {
	return fill(f, { active: true, state: f.proto === 'tcp' ? 'established' : 'open', end_reason: null });
}

// An inbound attempt from place pi this host never answered (a scan of this host).
function unanswered(id, pi, port) {
	const f = makeFlow(id, pi);
	return fill(f, {
		proto: 'tcp', proto_num: 6, initiator: 'remote', local_port: port, remote_port: 40000 + id,
		packets_sent: 0, bytes_sent: 0, packets_received: 1 + (id % 3), bytes_received: 60 * (1 + (id % 3)),
		state: 'syn_sent', active: id % 2 === 0, end_reason: id % 2 === 0 ? null : 'idle', process: null, remote_domain: null, remote_domain_source: null,
		verdict_sent: 'normal', verdict_received: 'anomalous', verdict: 'anomalous',
		reason: 'received from this address for the first time in the 48 h window',
		attention: 'none', signals: [sig('unanswered', 1 + (id % 3), `inbound SYN to port ${port} never answered (${1 + (id % 3)} tries)`)],
	});
}

// Attention of the places by index (PLACES): what the daemon would say about them.
const LOW = {
	7: (f) => [sig('known_service', 41, 'new address of amazonaws.com, seen 41 times since 2026-11-19 08:14')],
	15: (f) => [sig('known_service', 212, 'new address of debian.org, seen 212 times since 2026-11-12 06:02')],
	17: (f) => [sig('known_service', 88, 'new address of spotifycdn.com, seen 88 times since 2026-11-18 19:40')],
	10: (f) => [sig('no_dns', 1, `no DNS answer named ${f.remote_ip} before the connection`)],
};
const HIGH = {
	18: (f) => [sig('first_contact', 1, `${f.remote_ip} (JSC Selectel, RU) never seen before`)],
	20: (f) => [sig('beacon', 0.93, 'every 5.0 s +- 0.3 s, 86 connections'), sig('first_contact', 1, `${f.remote_ip} never seen before`)],
	22: (f) => [sig('blocklisted', 1, `in blocklist feodo.txt (${f.remote_ip.split('.').slice(0, 3).join('.')}.0/24)`)],
	30: (f) => [sig('blocklisted', 1, `in blocklist feodo.txt (${f.remote_ip})`)],
	24: (f) => [sig('large_upload', 48.2, 'sent 48.2 MB, 40 times this host\'s usual upload'), sig('first_contact', 1, `${f.remote_ip} never seen before`)],
};
// Places where nothing but unanswered attempts arrive (no arc unless asked for).
const SCANNERS = [25, 28, 31];
// Mexico City: one high flow beside normal ones (the tests end it and watch the place turn blue).
const MIXED_PLACE = 29;

function makeWorld() {
	const flows = [];
	let id = 1;
	PLACES.forEach((_, pi) => {
		if (SCANNERS.includes(pi)) return;
		const n = 1 + Math.floor(rnd() * (pi < 10 ? 6 : 3));
		for (let k = 0; k < n; k++) {
			const f = makeFlow(id++, pi);
			const high = !quiet && HIGH[pi];
			const low = LOW[pi];
			if (high) {
				const blocked = pi === 22 || pi === 30;
				fill(f, {
					verdict_sent: blocked ? 'blocklisted' : pi === 18 ? 'anomalous' : 'normal',
					verdict_received: blocked ? 'blocklisted' : 'anomalous', verdict: blocked ? 'blocklisted' : 'anomalous',
					reason: blocked ? `in blocklist feodo.txt (${f.remote_ip})` : 'first contact in the 48 h window',
					attention: 'high', signals: high(f), evidence: true, evidence_url: `/flows/${f.id}/pcap`,
				});
			} else if (low) {
				fill(f, {
					verdict_received: pi === 10 ? 'normal' : 'anomalous', verdict: pi === 10 ? 'normal' : 'anomalous',
					reason: pi === 10 ? 'seen 12 times since 2026-11-20 10:00' : 'received from this address for the first time in the 48 h window',
					attention: 'low', signals: low(f),
				});
			}
			if (k === 0 && (high || low)) activate(f);
			flows.push(f);
		}
		if (pi === MIXED_PLACE) {
			flows.push(activate(makeFlow(id++, pi)));
			if (!quiet) {
				const f = activate(makeFlow(id++, pi));
				fill(f, {
					verdict_sent: 'anomalous', verdict: 'anomalous', reason: 'first contact in the 48 h window',
					attention: 'high', signals: [sig('first_contact', 1, `${f.remote_ip} (UNAM, MX) never seen before`)],
				});
				flows.push(f);
			}
		}
	});
	// Scans of this host: places with nothing else, and two beside normal traffic in Amsterdam.
	for (const pi of SCANNERS) for (let k = 0; k < 2; k++) flows.push(unanswered(id++, pi, [22, 3389, 445][k % 3]));
	flows.push(unanswered(id++, 14, 23), unanswered(id++, 14, 8080));
	// Flows with no location: LAN, multicast, and a public address the database does not know.
	const local = [
		['192.168.2.1', 53, 'udp', 'lan'], ['192.168.2.1', 53, 'udp', 'lan'], ['224.0.0.251', 5353, 'udp', 'multicast'],
		['192.168.2.40', 8009, 'tcp', 'lan'], ['239.255.255.250', 1900, 'udp', 'multicast'],
	];
	for (const [ip, p, proto, scope] of local) {
		flows.push(makeFlow(id++, 0, {
			remote_ip: ip, remote_port: p, proto, proto_num: proto === 'tcp' ? 6 : 17, remote_scope: scope, geo: null,
			asn: null, as_org: null, remote_domain: null, remote_domain_source: null,
			verdict_sent: 'local', verdict_received: 'local', verdict: 'local', reason: `local address (${scope})`,
		}));
	}
	const unk = makeFlow(id++, 0, { remote_ip: '203.0.113.77', geo: null, asn: null, as_org: null, remote_domain: null, remote_domain_source: null });
	if (!quiet) {
		fill(unk, { verdict_sent: 'anomalous', verdict: 'anomalous', reason: 'first contact in the 48 h window', attention: 'high',
			signals: [sig('first_contact', 1, '203.0.113.77 never seen before')] });
	}
	flows.push(unk);
	return flows.map(conform);
}

const flows = makeWorld();
let nextId = flows.length + 1;
let eventId = 100;
const events = [];	// ring of {id, type, data}
const clients = new Set();
const startMs = Date.now();

function publish(type, data) {
	if (type.startsWith('flow-')) conform(data);
	const ev = { id: ++eventId, type, data };
	events.push(ev);
	if (events.length > 500) events.shift();
	for (const res of clients) res.write(`id: ${ev.id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}

const isUnanswered = (f) => f.signals.some((s) => s.name === 'unanswered');
// Older unanswered attempts the daemon counted but no longer holds (its table evicts them first).
const EVICTED_UNANSWERED = { flows: 1190, addresses: 805 };

function learningDoc() {
	return quiet ? { learning: false, since: iso(t0 - 3 * 86400e3), elapsed_s: 259200, window_s: 172800, progress: 1 }
		: { learning: true, since: iso(t0), elapsed_s: 10800, window_s: 172800, progress: 0.0625 };
}

function statsDoc() {
	const v = { normal: 0, anomalous: 0, blocklisted: 0, local: 0 };
	const a = { none: 0, low: 0, high: 0 };
	const unAddrs = new Set();
	let un = 0;
	for (const f of flows) {
		v[f.verdict]++;
		a[f.attention]++;
		if (isUnanswered(f)) { un++; unAddrs.add(f.remote_ip); }
	}
	const doc = {
		generated: new Date().toISOString(), packets: 182345, bytes: 93455123, drops: 0, malformed: 2,
		flows_active: flows.filter((f) => f.active).length, flows_total: flows.length, evictions: 0, clients: clients.size,
		uptime_s: Math.round((Date.now() - startMs) / 1000), source: 'interface eth0', live: true,
		packets_per_sec: 120 + Math.round(30 * Math.sin(Date.now() / 3000)), verdicts: v, attention: a,
		unanswered: { flows: un + EVICTED_UNANSWERED.flows, addresses: unAddrs.size + EVICTED_UNANSWERED.addresses },
		learning: learningDoc(), last_event_id: eventId,
	};
	const odd = Object.keys(doc).filter((k) => schema.statsKeys.size && !schema.statsKeys.has(k));
	if (odd.length) {
		console.error(`mock-daemon: /api/stats keys not in docs/api.md: ${odd.join(', ')}`);
		process.exit(1);
	}
	return doc;
}

// End flow f now, as the daemon does when a connection closes.
function endFlow(f) {
	fill(f, { active: false, state: f.proto === 'tcp' ? 'closed' : 'open', end_reason: f.proto === 'tcp' ? 'closed' : 'idle', last_seen: iso(Date.now()) });
	publish('flow-closed', f);
}

// Live world: stats every second; a new flow, an update and a close every 4 s (no attention only).
setInterval(() => publish('stats', statsDoc()), 1000);
let step = 0;
const calm = (x) => x.active && x.geo && x.attention === 'none' && !isUnanswered(x) && x.geo.lat !== PLACES[MIXED_PLACE][4];
setInterval(() => {
	step++;
	if (step % 3 === 1) {
		const pi = Math.floor(rnd() * PLACES.length);
		if (SCANNERS.includes(pi) || HIGH[pi] || LOW[pi]) return;
		const f = activate(makeFlow(nextId++, pi));
		f.last_seen = iso(Date.now());
		flows.push(f);
		publish('flow-new', f);
	} else if (step % 3 === 2) {
		const f = flows.find(calm);
		if (f) { f.bytes_received += 50000; f.packets_received += 40; f.last_seen = iso(Date.now()); publish('flow-update', f); }
	} else {
		const f = flows.find(calm);
		if (f) endFlow(f);
	}
}, 4000);

/* ---------- The filter grammar (a subset of docs/api.md's: words, field:value, -, comma lists, quotes) ---------- */

const FIELDS = {
	attention: (f, v) => f.attention === v, verdict: (f, v) => f.verdict === v, proto: (f, v) => f.proto === v,
	port: (f, v) => { const [a, b = a] = v.split('-').map(Number); return f.remote_port >= a && f.remote_port <= b; },
	ip: (f, v) => f.remote_ip.includes(v), domain: (f, v) => (f.remote_domain || '').toLowerCase().includes(v),
	org: (f, v) => (f.as_org || '').toLowerCase().includes(v), process: (f, v) => ((f.process && f.process.name) || '').toLowerCase().includes(v),
	country: (f, v) => !!f.geo && (f.geo.country.toLowerCase() === v || f.geo.country_name.toLowerCase().includes(v)),
	city: (f, v) => !!(f.geo && f.geo.city && f.geo.city.toLowerCase().includes(v)),
	signal: (f, v) => f.signals.some((x) => x.name === v), trusted: (f, v) => f.trusted_by_user === (v === 'yes'),
	evidence: (f, v) => f.evidence === (v === 'yes'), state: (f, v) => (v === 'active' ? f.active : v === 'ended' ? !f.active : f.state === v),
};
// Terms of a query: [{neg, field, values}] (field null: a plain word).
function parseQuery(q) {
	const terms = [];
	const re = /\s*(-?)(?:([a-z]+):)?("(?:[^"\\]|\\.)*"|[^\s"]+)?/gy;
	let m;
	while (re.lastIndex < q.length && (m = re.exec(q)) && m[0].length) {
		let [, neg, field, val] = m;
		if (field && !FIELDS[field]) { val = `${field}:${val || ''}`; field = null; }
		if (val === undefined) throw new Error(`empty term ${terms.length + 1}`);
		const unq = (x) => (x.startsWith('"') ? x.slice(1, -1).replace(/\\"/g, '"') : x).toLowerCase();
		const values = field ? val.split(',').map(unq) : [unq(val)];
		const ENUM = { attention: ['high', 'low', 'none'], verdict: ['normal', 'anomalous', 'blocklisted', 'local', 'none'], trusted: ['yes', 'no'], evidence: ['yes', 'no'] };
		const badv = field && ENUM[field] && values.find((v) => !ENUM[field].includes(v));
		if (badv) throw new Error(`bad ${field} '${badv}' in term ${terms.length + 1} (use ${ENUM[field].join(', ')})`);
		terms.push({ neg: !!neg, field: field || null, values });
	}
	return terms;
}
// Does flow f pass every term?
function qMatch(f, terms) {
	return terms.every((t) => {
		const g = f.geo || {};
		const hay = [f.remote_ip, f.remote_domain, f.as_org, f.process && f.process.name, g.city, g.country, g.country_name, f.proto].join(' ').toLowerCase();
		const ok = t.values.some((v) => (t.field ? FIELDS[t.field](f, v) : hay.includes(v) || (/^\d+$/.test(v) && f.remote_port === Number(v))));
		return t.neg ? !ok : ok;
	});
}

/* ---------- Groups, history and trust, as docs/api.md describes them ---------- */

const RANKS = { none: 0, low: 1, high: 2 };
const SEV = { local: 0, normal: 1, anomalous: 2, blocklisted: 3 };
// GET /flows?group=KIND of the flows given.
function groupDoc(list, kind) {
	const reg = (d) => d.split('.').slice(-2).join('.');
	const keyOf = (f) => (kind === 'destination' ? (f.remote_domain ? reg(f.remote_domain) : f.remote_ip) : (f.process ? (f.process.exe || f.process.name) : ''));
	const t0 = Math.min(...list.map((f) => Date.parse(f.first_seen))), t1 = Math.max(...list.map((f) => Date.parse(f.last_seen)));
	const B = 24, span = Math.max(1, t1 - t0);
	const map = new Map();
	for (const f of list) {
		const k = keyOf(f);
		let g = map.get(k);
		if (!g) {
			g = { key: k, label: kind === 'destination' ? k : (f.process ? f.process.name : ''), kind: kind === 'destination' ? (f.remote_domain ? 'domain' : 'address') : (f.process ? (f.process.exe ? 'exe' : 'name') : 'none'),
				flows: 0, active: 0, packets_sent: 0, packets_received: 0, bytes_sent: 0, bytes_received: 0, first_seen: f.first_seen, last_seen: f.last_seen,
				attention: 'none', verdict: 'local', addresses: new Set(), countries: new Set(), places: [], places_count: 0,
				process: kind === 'process' && f.process ? { name: f.process.name, exe: f.process.exe, sha256: null } : null, activity: new Array(B).fill(0), ids: [] };
			map.set(k, g);
		}
		g.flows++; if (f.active) g.active++;
		for (const c of ['packets_sent', 'packets_received', 'bytes_sent', 'bytes_received']) g[c] += f[c];
		if (f.first_seen < g.first_seen) g.first_seen = f.first_seen;
		if (f.last_seen > g.last_seen) g.last_seen = f.last_seen;
		if (RANKS[f.attention] > RANKS[g.attention]) g.attention = f.attention;
		if (SEV[f.verdict] > SEV[g.verdict]) g.verdict = f.verdict;
		g.addresses.add(f.remote_ip);
		if (f.geo) g.countries.add(f.geo.country);
		const a = Date.parse(f.first_seen), z = Date.parse(f.last_seen);
		for (let i = 0; i < B; i++) if (a < t0 + span * (i + 1) / B && z >= t0 + span * i / B) g.activity[i]++;
		g.ids.push(f.id);
	}
	const groups = [...map.values()].map((g) => ({ ...g, addresses: g.addresses.size, countries: [...g.countries], places_count: g.countries.size, ids: g.ids.sort((x, y) => x - y) }))
		.sort((x, y) => RANKS[y.attention] - RANKS[x.attention] || (y.bytes_sent + y.bytes_received) - (x.bytes_sent + x.bytes_received) || (x.key < y.key ? -1 : 1));
	return { generated: new Date().toISOString(), group: kind, last_event_id: eventId,
		activity: { from: iso(t0), to: iso(t1), buckets: B, bucket_s: Math.round(span / B / 1000) }, groups };
}

// Snapshots of the flows (POST /mock/snapshot takes one now: {at, flows}); /flows?at=T serves them.
const snapshots = [];
function takeSnapshot() {
	const snap = { at: iso(Date.now()), flows: structuredClone(flows) };
	snapshots.push(snap);
	return snap;
}

// Trust: rules added by POST /api/trust, each with the flows it changed (and their copies before).
const trusts = new Map();
let undoId = 0;
let alertId = 0;
let paused = false;
const BEHAVIOUR = new Set(['beacon', 'dns_tunnel', 'scan', 'large_upload', 'no_dns', 'long_connection', 'blocklisted']);
function trustRule(j) {
	const reg = (d) => d.split('.').slice(-2).join('.');
	let covers, rules;
	if (j.address) { covers = (f) => f.remote_ip === j.address; rules = [j.address]; }
	else if (j.domain) {
		const d = j.domain.toLowerCase();
		covers = (f) => !!f.remote_domain && (f.remote_domain === d || (j.subdomains && (f.remote_domain.endsWith(`.${d}`) || reg(f.remote_domain) === d)));
		rules = j.subdomains ? [d, `*.${d}`] : [d];
	} else if (j.exe) { covers = (f) => !!f.process && f.process.exe === j.exe; rules = null; }
	else if (j.asn != null) { covers = (f) => f.asn === j.asn; rules = null; }
	else if (j.learning) { covers = (f) => f.verdict === 'anomalous' && f.remote_scope === 'public'; rules = null; }
	else return [400, { ok: false, error: 'give address, domain, exe, asn or learning' }];
	const hit = flows.filter(covers);
	const addrs = [...new Set(hit.map((f) => f.remote_ip))];
	if (!rules) rules = addrs;
	if (!hit.length && j.exe) return [400, { ok: false, error: `no flow held of ${j.exe}` }];
	if ((j.asn != null || j.learning) && !j.confirm) {
		return [409, { ok: false, error: `trusting ${j.asn != null ? `AS${j.asn}` : 'everything seen while learning'} covers ${addrs.length} addresses: confirm it`, would_affect: addrs.length, confirm: 'resend with "confirm": true' }];
	}
	const before = hit.map((f) => structuredClone(f));
	let changed = 0;
	const out = [];
	for (const f of hit) {
		const keep = f.signals.filter((x) => BEHAVIOUR.has(x.name));
		const blocked = f.verdict === 'blocklisted';
		const was = `${f.verdict}|${f.attention}`;
		fill(f, { trusted_by_user: true, trust_rule: rules[0],
			verdict_sent: blocked ? f.verdict_sent : (f.verdict_sent === 'local' ? 'local' : 'normal'),
			verdict_received: blocked ? f.verdict_received : (f.verdict_received === 'local' ? 'local' : 'normal'),
			verdict: blocked ? f.verdict : 'normal', reason: blocked ? f.reason : `trusted by you (${rules[0]})`,
			attention: keep.length ? f.attention : 'none', signals: keep });
		if (was !== `${f.verdict}|${f.attention}`) { changed++; out.push(f); }
		publish('flow-update', f);
	}
	const id = ++undoId;
	trusts.set(id, { rules, before });
	return [200, { ok: true, rule: rules[0], rules, added: rules.length, addresses: addrs.length, flows_changed: changed, undo: id, flows: out, flows_complete: true }];
}
function undoRule(j) {
	let id = j.undo;
	if (j.rule) id = [...trusts].find(([, t]) => t.rules.includes(j.rule))?.[0];
	const t = trusts.get(id);
	if (!t) return [404, { ok: false, error: 'no such trust' }];
	trusts.delete(id);
	const back = [];
	for (const old of t.before) {
		const f = flows.find((x) => x.id === old.id);
		if (!f) continue;
		for (const k of ['trusted_by_user', 'trust_rule', 'verdict_sent', 'verdict_received', 'verdict', 'reason', 'attention', 'signals']) f[k] = old[k];
		publish('flow-update', f);
		back.push(f);
	}
	return [200, { ok: true, removed: t.rules, flows_changed: back.length, flows: back, flows_complete: true }];
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
	'.json': 'application/json', '.webmanifest': 'application/manifest+json', '.svg': 'image/svg+xml', '.png': 'image/png', '.txt': 'text/plain' };

function send(res, code, type, body) {
	res.writeHead(code, { 'Content-Type': type, 'Cache-Control': 'no-store', ...(csp ? { 'Content-Security-Policy': CSP } : {}) });
	res.end(body);
}

const server = http.createServer((req, res) => {
	const u = new URL(req.url, 'http://x');
	const p = u.pathname;
	if (p === '/mock/info') return send(res, 200, 'application/json', JSON.stringify({ mock: true, world, flows: flows.length }));
	if (p === '/mock/end' && req.method === 'POST') {
		const f = flows.find((x) => x.id === Number(u.searchParams.get('id')));
		if (!f) return send(res, 404, 'application/json', '{"error":"no such flow"}');
		if (f.active) endFlow(f);
		return send(res, 200, 'application/json', JSON.stringify({ ok: true, id: f.id }));
	}
	if (p === '/mock/snapshot' && req.method === 'POST') return send(res, 200, 'application/json', JSON.stringify(takeSnapshot()));
	if (p === '/mock/alert' && req.method === 'POST') {
		const f = flows.find((x) => x.id === Number(u.searchParams.get('id')));
		if (!f) return send(res, 404, 'application/json', '{"error":"no such flow"}');
		publish('alert', { id: ++alertId, flow_id: f.id, remote_ip: f.remote_ip, remote_domain: f.remote_domain, geo: f.geo, direction: 'sent', verdict: f.verdict, reason: f.reason });
		return send(res, 200, 'application/json', '{"ok":true}');
	}
	if (p === '/mock/touch' && req.method === 'POST') {
		const f = flows.find((x) => x.id === Number(u.searchParams.get('id')));
		if (!f) return send(res, 404, 'application/json', '{"error":"no such flow"}');
		f.last_seen = iso(Date.now());
		f.bytes_received += 1000;
		publish('flow-update', f);
		return send(res, 200, 'application/json', '{"ok":true}');
	}
	if ((p === '/mock/pause' || p === '/mock/resume') && req.method === 'POST') {
		paused = p === '/mock/pause';
		if (paused) for (const c of clients) c.destroy();
		return send(res, 200, 'application/json', '{"ok":true}');
	}
	// Paused: a stopped daemon (behind a proxy that still answers): every request of the page fails.
	if (paused && !p.startsWith('/mock/')) return send(res, 503, 'application/json', '{"error":"paused by /mock/pause"}');
	if (p === '/flows') {
		const levels = u.searchParams.get('attention');
		const bad = levels && levels.split(',').find((l) => !schema.fields.get('attention').values.includes(l));
		if (bad) return send(res, 400, 'application/json', JSON.stringify({ error: `bad attention '${bad}' (use none, low or high)` }));
		let base = flows;
		const at = u.searchParams.get('at');
		let snap = null;
		if (at) {
			snap = [...snapshots].reverse().find((x) => Date.parse(x.at) <= Date.parse(at));
			if (!snap) return send(res, 404, 'application/json', JSON.stringify({ error: `no snapshot at or before ${at}` }));
			base = snap.flows;
		}
		let list = levels ? base.filter((f) => levels.split(',').includes(f.attention)) : base;
		let terms;
		try { terms = parseQuery(u.searchParams.get('q') || ''); } catch (e) { return send(res, 400, 'application/json', JSON.stringify({ error: `q=: ${e.message}` })); }
		const sel = (k, fn) => { const v = u.searchParams.get(k); if (v) list = list.filter((f) => v.split(',').some((x) => fn(f, x))); };
		sel('proto', (f, x) => f.proto === x);
		sel('country', (f, x) => ((f.geo && f.geo.country) || '').toLowerCase() === x.toLowerCase());
		sel('process', (f, x) => ((f.process && f.process.name) || '') === x);
		if (u.searchParams.get('active') === '1') list = list.filter((f) => f.active);
		list = list.filter((f) => qMatch(f, terms));
		if (u.searchParams.get('group')) return send(res, 200, 'application/json', JSON.stringify(groupDoc(list, u.searchParams.get('group'))));
		if (u.searchParams.get('format') === 'csv') {
			const cols = ['id', 'proto', 'local_ip', 'local_port', 'remote_ip', 'remote_port', 'bytes_sent', 'bytes_received', 'verdict'];
			return send(res, 200, 'text/csv', [cols.join(','), ...list.map((f) => cols.map((c) => f[c]).join(','))].join('\r\n') + '\r\n');
		}
		return send(res, 200, 'application/json', JSON.stringify({
			generated: new Date().toISOString(), home: homeUnknown ? { lat: 0, lon: 0, source: 'time zone Etc/UTC has no city (use --home LAT,LON)' } : { lat: 35.65, lon: 139.73, source: 'time zone Asia/Tokyo' },
			learning: learningDoc(), capture: { source: 'interface eth0', live: true }, last_event_id: eventId, flows: list,
			...(snap ? { at, snapshot: snap.at, run: 1 } : {}),
		}));
	}
	if (p === '/api/history/summary') {
		if (!snapshots.length) return send(res, 404, 'application/json', '{"error":"no history yet"}');
		const from = u.searchParams.get('from') || snapshots[0].at;
		const to = u.searchParams.get('to') || iso(Date.now());
		const inRange = flows.filter((f) => f.last_seen >= from && f.first_seen <= to);
		const dest = (f) => f.remote_domain || f.remote_ip;
		const fresh = new Set(inRange.filter((f) => f.verdict_sent === 'anomalous' || f.verdict_received === 'anomalous').map(dest));
		const look = inRange.filter((f) => f.attention === 'high');
		const text = `${fresh.size} new destinations, ${new Set(look.map(dest)).size} need a look`;
		return send(res, 200, 'application/json', JSON.stringify({ from, to, flows: inRange.length, new_destinations: fresh.size,
			need_a_look: new Set(look.map(dest)).size, need_a_look_flows: look.length, text }));
	}
	const pc = /^\/flows\/(\d+)\/pcap$/.exec(p);
	if (pc) {
		const f = flows.find((x) => x.id === Number(pc[1]));
		if (!f || !f.evidence) return send(res, 404, 'application/json', '{"error":"no evidence kept for that flow"}');
		// A classic pcap header (no frames): enough for a download test.
		const b = Buffer.alloc(24);
		b.writeUInt32LE(0xa1b2c3d4, 0); b.writeUInt16LE(2, 4); b.writeUInt16LE(4, 6); b.writeUInt32LE(65535, 16); b.writeUInt32LE(1, 20);
		res.writeHead(200, { 'Content-Type': 'application/vnd.tcpdump.pcap', 'Content-Disposition': `attachment; filename="netglobe-flow-${f.id}.pcap"` });
		return res.end(b);
	}
	const m = /^\/flows\/(\d+)$/.exec(p);
	if (m) {
		const f = flows.find((x) => x.id === Number(m[1]));
		if (!f) return send(res, 404, 'application/json', '{"error":"no such flow"}');
		const known = f.verdict === 'normal';
		const h = { known, first_seen: known ? '2026-11-19T08:14:00Z' : null, last_seen: known ? f.first_seen : null, flows: known ? 41 : 0, packets: known ? 900 : 0, bytes: known ? 1234567 : 0 };
		return send(res, 200, 'application/json', JSON.stringify({ ...f, history: { sent: h, received: h } }));
	}
	if (p === '/api/stats') return send(res, 200, 'application/json', JSON.stringify(statsDoc()));
	if (p === '/events') {
		if (noEvents) return send(res, 404, 'text/plain', 'not here\n');
		if (paused) return send(res, 503, 'application/json', '{"error":"paused by /mock/pause"}');
		res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
		const last = Number(req.headers['last-event-id'] || u.searchParams.get('last_event_id') || 0);
		if (last && events.length && last < events[0].id - 1) res.write('event: reset\ndata: {}\n\n');
		else for (const ev of events) if (ev.id > last) res.write(`id: ${ev.id}\nevent: ${ev.type}\ndata: ${JSON.stringify(ev.data)}\n\n`);
		clients.add(res);
		const hb = setInterval(() => res.write(': hb\n\n'), 15000);
		req.on('close', () => { clients.delete(res); clearInterval(hb); });
		return;
	}
	if ((p === '/api/trust' || p === '/api/forget' || p === '/api/trust/undo') && req.method === 'POST') {
		let body = '';
		req.on('data', (c) => { body += c; });
		req.on('end', () => {
			let j;
			try { j = JSON.parse(body); } catch (e) { return send(res, 400, 'application/json', JSON.stringify({ ok: false, error: e.message })); }
			const [code, doc] = p === '/api/trust' ? trustRule(j) : p === '/api/trust/undo' ? undoRule(j) : [200, { ok: true, rule: j.address || j.domain, flows_changed: 0 }];
			send(res, code, 'application/json', JSON.stringify(doc));
		});
		return;
	}
	// Static files from the built page (a fixed root; no path may leave it).
	const rel = p === '/' ? 'index.html' : decodeURIComponent(p).replace(/^\/+/, '');
	const file = path.resolve(webRoot, rel);
	if (!file.startsWith(webRoot + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return send(res, 404, 'text/plain', 'not found\n');
	send(res, 200, TYPES[path.extname(file)] || 'application/octet-stream', fs.readFileSync(file));
});

server.listen(port, '127.0.0.1', () => console.log(`mock-daemon: http://127.0.0.1:${port}/ (web ${webRoot}, world ${world}${noEvents ? ', no /events' : ''})`));
