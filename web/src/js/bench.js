// SPDX-License-Identifier: BSD-2-Clause
// bench.js: synthetic flows for ?bench=N (N places, each with traffic both ways), no server needed.
import { state } from './state.js';

// Fill state with n places (deterministic: the same n always gives the same world).
export function synthesize(n) {
	let seed = 20261121;
	const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296);
	state.home = { lat: 35.65, lon: 139.73, source: 'bench' };
	state.capture = { source: `bench: ${n} synthetic places`, live: false };
	state.learning = { learning: false, since: null, elapsed_s: 172800, window_s: 172800, progress: 1 };
	const t = new Date('2026-11-21T10:00:00Z').getTime();
	const iso = (ms) => new Date(ms).toISOString();
	for (let i = 0; i < n; i++) {
		// Uniform on the sphere, with latitudes kept off the poles.
		const lat = Math.max(-70, Math.min(75, Math.asin(rnd() * 2 - 1) * 180 / Math.PI));
		const lon = rnd() * 360 - 180;
		const r = rnd();
		const verdict = r < 0.86 ? 'normal' : r < 0.97 ? 'anomalous' : 'blocklisted';
		const bs = Math.floor(200 * 10 ** (rnd() * 5));
		const br = Math.floor(200 * 10 ** (rnd() * 5));
		state.flows.set(i + 1, {
			id: i + 1, proto: rnd() < 0.8 ? 'tcp' : 'udp', proto_num: 6, ip_version: 4,
			local_ip: '192.0.2.10', local_port: 40000 + (i % 20000),
			remote_ip: `198.18.${(i >> 8) & 255}.${i & 255}`, remote_port: rnd() < 0.7 ? 443 : 53,
			initiator: 'local', packets_sent: Math.ceil(bs / 600), packets_received: Math.ceil(br / 600),
			bytes_sent: bs, bytes_received: br, first_seen: iso(t + i * 1000), last_seen: iso(t + i * 1000 + 5000),
			state: 'established', active: rnd() < 0.5, end_reason: null, fragments: 0, remote_scope: 'public',
			geo: { lat: Math.round(lat * 1e4) / 1e4, lon: Math.round(lon * 1e4) / 1e4, accuracy_km: null, country: 'ZZ', country_name: 'Benchland', region: null, city: `Place ${i + 1}` },
			asn: 64500 + (i % 100), as_org: 'Benchmark Networks', remote_domain: `host${i + 1}.bench.invalid`, remote_domain_source: 'dns',
			process: null, verdict_sent: verdict, verdict_received: verdict === 'anomalous' && rnd() < 0.5 ? 'normal' : verdict,
			verdict, reason: 'synthetic',
		});
	}
}
