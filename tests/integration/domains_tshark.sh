#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# domains_tshark.sh: a flow's remote_domain is the name of the most recent captured DNS answer that
# mapped its remote address before the flow began, as tshark dissects the same answers
# (dns.qry.name with dns.a/dns.aaaa). Flows named by SNI or HTTP Host are checked against tshark's
# tls.handshake.extensions_server_name and http.host for the same connection.
. "$(dirname "$0")/../lib/common.sh"
need tshark python3
for name in ndpi-iphone.pcap slips-test-cc-capture-2.pcap cs-http_espn.pcapng slips-test7-malicious.pcap ndpi-sites.pcapng; do
	f=$PCAPS/$name
	"$NG_BIN" -r "$f" --dump --no-geoip > "$TMP/$name.jsonl" 2>/dev/null || fail "$name: netglobe failed"
	tshark -r "$f" -Y 'dns.flags.response == 1 && dns.flags.rcode == 0' -T fields -E separator='|' \
		-e frame.time_epoch -e dns.qry.name -e dns.a -e dns.aaaa -e dns.resp.name > "$TMP/$name.dns" 2>/dev/null
	tshark -r "$f" -Y 'tls.handshake.type == 1 || http.request' -T fields -E separator='|' \
		-e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst -e tcp.dstport \
		-e tls.handshake.extensions_server_name -e http.host > "$TMP/$name.names" 2>/dev/null
	python3 - "$TMP/$name.jsonl" "$TMP/$name.dns" "$TMP/$name.names" "$name" <<'PY' || fail "$name: domains differ from tshark"
import json, sys
flows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"id"')]
answers = []  # (time, name, set of addresses, owner names when there is no question: mDNS)
for line in open(sys.argv[2]):
    t, q, a4, a6, rn = (line.rstrip('\n').split('|') + [''] * 5)[:5]
    addrs = set(x for x in (a4.split(',') + a6.split(',')) if x)
    if not addrs:
        continue
    if q:
        answers.append((float(t), q.split(',')[0].lower().rstrip('.'), addrs, None))
    else:
        owners = set(n.lower().rstrip('.') for n in rn.split(',') if n)
        answers.append((float(t), None, addrs, owners))
conn_names = {}
for line in open(sys.argv[3]):
    s4, s6, sp, d4, d6, dp, sni, host = (line.rstrip('\n').split('|') + [''] * 8)[:8]
    key = (s4 or s6, int(sp or 0), d4 or d6, int(dp or 0))
    name = (sni or host).lower().split(':')[0]
    if name and key not in conn_names:
        conn_names[key] = name
def ts(s):
    from datetime import datetime, timezone
    return datetime.strptime(s, '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=timezone.utc).timestamp()
bad = checked = 0
for f in flows:
    start = ts(f['first_seen'])
    latest = None
    for t, q, addrs, owners in answers:
        if t <= start + 1e-6 and f['remote_ip'] in addrs and start - t < 3600:
            # mDNS answers name their owners, not a question: any owner in the same answer will do.
            latest = q if q else (f['remote_domain'] if f['remote_domain'] in owners else sorted(owners)[0])
    src = f['remote_domain_source']
    if src == 'dns' or (src is None and latest):
        checked += 1
        if f['remote_domain'] != latest:
            print('flow %d %s: netglobe %r (%s), tshark DNS %r' % (f['id'], f['remote_ip'], f['remote_domain'], src, latest))
            bad += 1
    elif src in ('sni', 'http'):
        checked += 1
        if f['initiator'] == 'local':
            key = (f['local_ip'], f['local_port'], f['remote_ip'], f['remote_port'])
        else:
            key = (f['remote_ip'], f['remote_port'], f['local_ip'], f['local_port'])
        want = conn_names.get(key)
        if f['remote_domain'] != want:
            print('flow %d %s: netglobe %r (%s), tshark %r' % (f['id'], f['remote_ip'], f['remote_domain'], src, want))
            bad += 1
named = sum(1 for f in flows if f['remote_domain'])
print('%s: %d flows, %d named, %d checked, %d differ' % (sys.argv[4], len(flows), named, checked, bad))
sys.exit(1 if bad else 0)
PY
done
