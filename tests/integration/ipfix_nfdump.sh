#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# ipfix_nfdump.sh: nfdump is an independent decoder of our IPFIX. Debian's nfcapd listens on loopback while
# netglobe exports a test capture (--dump, then the daemon replaying it with a short active timeout);
# nfdump -r must show every flow of --dump, one record per direction that carried packets, with the right
# addresses, ports, protocol, packet and byte counts, times, flowDirection and AS numbers, and no
# sequence errors. In the daemon run, long flows are split into active-timeout records whose deltas sum up.
. "$(dirname "$0")/../lib/common.sh"
need python3 curl
command -v nfcapd > /dev/null 2>&1 && command -v nfdump > /dev/null 2>&1 ||
	skip "needs nfcapd and nfdump (Debian package nfdump, installed by make deps)"
PCAP=$PCAPS/slips-test7-malicious.pcap

# A free UDP port on loopback.
free_udp_port() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_nfcapd DIR: nfcapd on 127.0.0.1, files into DIR; sets NFPORT and NFPID once it listens.
start_nfcapd() {
	mkdir -p "$1"
	NFPORT=$(free_udp_port)
	nfcapd -b 127.0.0.1 -p "$NFPORT" -w "$1" -t 3600 > "$1.log" 2>&1 &
	NFPID=$!
	NG_PIDS="$NG_PIDS $NFPID"
	i=0
	while ! grep -q "Startup" "$1.log" 2> /dev/null; do
		i=$((i + 1))
		[ $i -le 100 ] || { cat "$1.log"; fail "nfcapd did not start"; }
		kill -0 "$NFPID" 2> /dev/null || { cat "$1.log"; fail "nfcapd exited"; }
		sleep 0.05
	done
}

# stop_nfcapd DIR: let nfcapd take the last datagrams, stop it (it writes its file), print its records as JSON.
stop_nfcapd() {
	sleep 0.5
	kill -TERM "$NFPID"
	wait "$NFPID" 2> /dev/null
	grep -q "Sequence Errors: 0," "$1.log" || { cat "$1.log"; fail "nfcapd saw sequence errors or no flows"; }
	TZ=UTC nfdump -R "$1" -o json > "$1.json" 2> "$1.nferr" || { cat "$1.nferr"; fail "nfdump -R $1 failed"; }
}

cat > "$TMP/compare.py" << 'PY'
# compare.py DUMP NFDUMP_JSON MODE: the records nfdump decoded against the flows of --dump.
# MODE exact: one record per direction with packets, matched one to one (a multiset).
# MODE sum: records of the same direction of the same 5-tuple are summed first (active-timeout splits).
import json, sys
from collections import Counter
from datetime import datetime, timezone

def ms(t):
    d = datetime.strptime(t.rstrip('Z')[:23], '%Y-%m-%dT%H:%M:%S.%f').replace(tzinfo=timezone.utc)
    return int(round(d.timestamp() * 1000))

dump_path, nf_path, mode = sys.argv[1], sys.argv[2], sys.argv[3]
flows = [json.loads(l) for l in open(dump_path) if l.startswith('{"id"')]
recs = json.load(open(nf_path))
want, ends = Counter(), {}
for f in flows:
    asn = f['asn'] or 0
    for d, src, sp, dst, dp in (('sent', f['local_ip'], f['local_port'], f['remote_ip'], f['remote_port']),
                                ('received', f['remote_ip'], f['remote_port'], f['local_ip'], f['local_port'])):
        p, b = f['packets_' + d], f['bytes_' + d]
        if p == 0:
            continue
        key = (src, sp, dst, dp, f['proto_num'], 1 if d == 'sent' else 0,
               0 if d == 'sent' else asn, asn if d == 'sent' else 0)
        want[key + (p, b)] += 1
        ends.setdefault(key, []).append((ms(f['first_seen']), ms(f['last_seen'])))
got = Counter()
bad = []
for r in recs:
    src = r.get('src4_addr') or r.get('src6_addr')
    dst = r.get('dst4_addr') or r.get('dst6_addr')
    key = (src, r.get('src_port', 0), dst, r.get('dst_port', 0), r['proto'], r['direction'], r['src_as'], r['dst_as'])
    got[key + (r['in_packets'], r['in_bytes'])] += 1
    # Times: within the flow's first and last packet (nfdump keeps milliseconds).
    first, last = ms(r['first']), ms(r['last'])
    if key not in ends or not any(a <= first <= last <= b for a, b in ends[key]):
        bad.append('times of %s outside every flow with that key: %s .. %s' % (key, r['first'], r['last']))
if mode == 'sum':
    def summed(c):
        tot = {}
        for k, n in c.items():
            p, b = tot.get(k[:8], (0, 0))
            tot[k[:8]] = (p + k[8] * n, b + k[9] * n)
        return tot
    gw, gg = summed(want), summed(got)
    for k in sorted(set(gw) | set(gg), key=str):
        if gw.get(k) != gg.get(k):
            bad.append('%s: want packets/bytes %s, nfdump %s' % (k, gw.get(k), gg.get(k)))
    splits = len(recs) - sum(want.values())
    print('records: %d for %d directions of %d flows (%d more from active timeouts)' % (
        len(recs), sum(want.values()), len(flows), splits))
    if splits <= 0:
        bad.append('no active-timeout records although the capture has flows of several minutes')
else:
    for k in sorted(set(want) | set(got), key=str):
        if want[k] != got[k]:
            bad.append('%s: want %d record(s), nfdump has %d' % (k, want[k], got[k]))
    print('records: %d for %d flows, every one matched' % (len(recs), len(flows)) if not bad else '')
for b in bad[:20]:
    print('MISMATCH', b)
sys.exit(1 if bad else 0)
PY

# 1. --dump: every flow exported at its end or, still active, at the end of the file.
start_nfcapd "$TMP/nf1"
"$NG_BIN" -r "$PCAP" --dump --state-dir "$TMP/state1" --ipfix "127.0.0.1:$NFPORT" > "$TMP/dump.jsonl" 2> "$TMP/dump.err" ||
	{ cat "$TMP/dump.err"; fail "netglobe --dump --ipfix failed"; }
grep -q "0 dropped" "$TMP/dump.err" || { cat "$TMP/dump.err"; fail "the exporter dropped records"; }
stop_nfcapd "$TMP/nf1"
python3 "$TMP/compare.py" "$TMP/dump.jsonl" "$TMP/nf1.json" exact || fail "--dump: nfdump disagrees with --dump"
nflows=$(grep -c '^{"id"' "$TMP/dump.jsonl")
[ "$nflows" -gt 300 ] || fail "only $nflows flows in --dump"
# nfdump's own totals: every IP packet of the capture is in some record.
ip_packets=$(tail -n 1 "$TMP/dump.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["ip_packets"])')
nf_packets=$(python3 -c 'import json,sys; print(sum(r["in_packets"] for r in json.load(open(sys.argv[1]))))' "$TMP/nf1.json")
[ "$ip_packets" -eq "$nf_packets" ] || fail "nfdump counts $nf_packets packets, the capture has $ip_packets IP packets"
echo "ok --dump: $nflows flows, $nf_packets packets, all decoded by nfdump"

# 2. The daemon replaying the file 100 times faster than recorded (6.4 s) with a 30 s active timeout, so long
# flows get interim records between packets; SIGTERM exports what is still active ("forced end").
start_nfcapd "$TMP/nf2"
PORT=$(free_port)
"$NG_BIN" -r "$PCAP" --speed 100 --state-dir "$TMP/state2" --listen "127.0.0.1:$PORT" --ipfix "127.0.0.1:$NFPORT" \
	--ipfix-active-timeout 30s > "$TMP/daemon.out" 2> "$TMP/daemon.err" &
dpid=$!
NG_PIDS="$NG_PIDS $dpid"
python3 - "$PORT" "$dpid" "$TMP/interim" << 'PY' || { cat "$TMP/daemon.err"; fail "daemon: replay did not finish or no export stats"; }
import json, os, sys, time, urllib.request
port, pid = int(sys.argv[1]), int(sys.argv[2])
deadline = time.time() + 60
while time.time() < deadline:
    os.kill(pid, 0)
    try:
        st = json.load(urllib.request.urlopen('http://127.0.0.1:%d/api/stats' % port, timeout=5))
        if (st.get('replay') or {}).get('done'):
            time.sleep(0.8)
            st = json.load(urllib.request.urlopen('http://127.0.0.1:%d/api/stats' % port, timeout=5))
            ex = st['export']
            print('daemon export stats:', {k: v for k, v in ex.items() if k.startswith('ipfix')})
            open(sys.argv[3], 'w').write('%d\n' % ex['ipfix_interim'])
            sys.exit(0 if ex['ipfix_records'] > 0 and ex['ipfix_interim'] > 0 and ex['ipfix_dropped'] == 0 else 1)
    except OSError:
        pass
    time.sleep(0.25)
sys.exit(1)
PY
kill -TERM "$dpid"
wait "$dpid" || fail "the daemon exited with $? on SIGTERM"
stop_nfcapd "$TMP/nf2"
python3 "$TMP/compare.py" "$TMP/dump.jsonl" "$TMP/nf2.json" sum || fail "daemon: nfdump's sums disagree with --dump"
# nfdump's raw output shows flowEndReason: as many "active timeout" records as /api/stats counted.
TZ=UTC nfdump -R "$TMP/nf2" -o raw > "$TMP/nf2.raw" || fail "nfdump -o raw failed"
active=$(grep -c 'end reason *= *0x02' "$TMP/nf2.raw")
forced=$(grep -c 'end reason *= *0x04' "$TMP/nf2.raw")
[ "$active" -eq "$(cat "$TMP/interim")" ] || fail "nfdump shows $active active-timeout records, /api/stats said $(cat "$TMP/interim")"
[ "$forced" -gt 0 ] || fail "no forced-end records for the flows active at SIGTERM"
echo "ok daemon replay: $active active-timeout and $forced forced-end records sum to every flow of --dump"
