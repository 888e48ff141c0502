#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# attention_eval.sh: attention levels judged on a real benign Windows host's day (Zeek logs of the
# Stratosphere Laboratory, tests/data/zeek, turned into packets by pcapgen zeek), with the whitelist
# learnt over the first 12 hours (--window 12h) and judged on the second:
#   - at most 10% of outbound public remote addresses at high attention (the plain address rule gives
#     about 60%), with the signals that raised them and how many addresses a network alone explained;
#   - a synthetic command-and-control server on a NEW address inside an ASN this host used that day
#     (Amazon AS14618), nameless, beaconing every 30 s +-10%, is high from at most its 10th connection;
#   - a synthetic named beacon every 10 s +-10% is flagged (beacon signal, high) from at most its 10th
#     connection on, for as long as it goes on;
#   - no ordinary remote address carries a beacon signal at high attention, and no unanswered inbound
#     attempt (the day holds thousands of scans of this host) is high or raises an alert.
# The figures are printed; `make bench` prints the same report (tests/bench/70-attention.sh).
. "$(dirname "$0")/../lib/common.sh"
need python3
repo=$(cd "$(dirname "$0")/../.." && pwd)
data=${NG_TESTDATA:-$repo/tests/data}/zeek
gen=$NG_BUILD/tools/pcapgen
[ -x "$gen" ] || fail "$gen is not built (make builds every tests/tools/*.c)"
[ -f "$data/normal-host-conn.log" ] || fail "missing $data/normal-host-conn.log (the repository's test data)"

host=147.32.83.234
"$gen" zeek --conn "$data/normal-host-conn.log" --ssl "$data/normal-host-ssl.log" --dns "$data/normal-host-dns.log" \
	--http "$data/normal-host-http.log" -o "$TMP/day.pcap" -q || fail "pcapgen zeek failed"
# The day starts at its first connection; the split is 12 hours later.
t0=$(awk -F'\t' '!/^#/ { print int($1); exit }' "$data/normal-host-conn.log")
split=$((t0 + 12 * 3600))
"$gen" beacon --remote 34.225.77.77 --port 443 --period 30 --jitter 10 --count 40 --start $((split + 7200)) \
	--local "$host" --seed 1 -o "$TMP/c2.pcap" || fail "pcapgen beacon (c2) failed"
"$gen" beacon --remote 45.33.32.156 --port 8443 --period 10 --jitter 10 --count 60 --start $((split + 18000)) \
	--local "$host" --name sync.update-check.info --seed 2 -o "$TMP/beacon.pcap" || fail "pcapgen beacon failed"
"$gen" merge "$TMP/day.pcap" "$TMP/c2.pcap" "$TMP/beacon.pcap" -o "$TMP/eval.pcap" || fail "pcapgen merge failed"

"$NG_BIN" -r "$TMP/eval.pcap" --dump --window 12h --local-net "$host/32" > "$TMP/dump.jsonl" 2> "$TMP/err" ||
	{ cat "$TMP/err"; fail "netglobe --dump failed on the evaluation capture"; }
python3 "$repo/tests/lib/attention_eval.py" --dump "$TMP/dump.jsonl" --split "$split" --max-share 0.10 \
	--c2 34.225.77.77 --beacon 45.33.32.156 --max-connection 10 || fail "attention targets missed (above)"

# The same beacon among pcapgen's ordinary (irregular) traffic: flagged by its 10th connection, and no
# ordinary remote address carries a beacon signal at all.
echo "--- a beacon every 20 s +-10% among 4,000 synthetic ordinary flows"
"$gen" bench --packets 200000 --flows 4000 --duration 30m --start 2026-11-16T08:00:00Z -o "$TMP/ord.pcap" > /dev/null 2>&1 ||
	fail "pcapgen bench failed"
"$gen" beacon --remote 45.33.32.156 --port 443 --period 20 --jitter 10 --count 60 --start 2026-11-16T08:05:00Z \
	--local 192.168.1.10 --seed 3 -o "$TMP/b2.pcap" || fail "pcapgen beacon failed"
"$gen" merge "$TMP/ord.pcap" "$TMP/b2.pcap" -o "$TMP/ord-beacon.pcap" || fail "pcapgen merge failed"
"$NG_BIN" -r "$TMP/ord-beacon.pcap" --dump --local-net 192.168.1.10/32 --local-net fd00::10/128 > "$TMP/dump2.jsonl" 2> "$TMP/err" ||
	{ cat "$TMP/err"; fail "netglobe --dump failed on the synthetic capture"; }
python3 "$repo/tests/lib/attention_eval.py" --dump "$TMP/dump2.jsonl" --split 0 --max-share 1 --beacon 45.33.32.156 \
	--max-connection 10 --no-beacon-elsewhere || fail "beacon targets missed among synthetic traffic (above)"
# A client may write any name into its ClientHello. Six connections to a real Google address named by DNS
# teach google.com (AS15169); then a server in another network (45.77.12.34, AS20473) is sent the same SNI,
# with no DNS answer: it must not pass as "a new address of google.com" (first contact, high).
echo "--- a ClientHello naming www.google.com, sent to a server in another network"
"$gen" beacon --remote 142.250.74.36 --port 443 --period 30 --jitter 10 --count 6 --start 2026-11-16T08:00:00Z \
	--local 192.168.1.10 --name www.google.com --dns each --seed 4 -o "$TMP/g1.pcap" || fail "pcapgen beacon failed"
"$gen" beacon --remote 45.77.12.34 --port 443 --period 60 --jitter 10 --count 2 --start 2026-11-16T08:05:00Z \
	--local 192.168.1.10 --name www.google.com --dns none --seed 5 -o "$TMP/g2.pcap" || fail "pcapgen beacon failed"
"$gen" merge "$TMP/g1.pcap" "$TMP/g2.pcap" -o "$TMP/g.pcap" || fail "pcapgen merge failed"
"$NG_BIN" -r "$TMP/g.pcap" --dump --local-net 192.168.1.10/32 > "$TMP/g.jsonl" 2> "$TMP/err" ||
	{ cat "$TMP/err"; fail "netglobe --dump failed on the SNI capture"; }
python3 - "$TMP/g.jsonl" <<'PY' || fail "a ClientHello's name made a server in another network a known service"
import json, sys
fl = [json.loads(l) for l in open(sys.argv[1]) if '"remote_ip"' in l]
real = [f for f in fl if f['remote_ip'] == '142.250.74.36' and f['remote_port'] == 443]
spoof = [f for f in fl if f['remote_ip'] == '45.77.12.34']
assert real and spoof, (len(real), len(spoof))
first = min(spoof, key=lambda f: f['first_seen'])
names = [s['name'] for s in first['signals']]
print('spoofed SNI www.google.com at 45.77.12.34 (AS%s): attention %s, signals %s' % (first['asn'], first['attention'], names))
assert first['remote_domain'] == 'www.google.com' and first['remote_domain_source'] == 'sni', first
assert first['attention'] == 'high' and 'first_contact' in names and 'known_service' not in names, first['signals']
PY
# A large upload: 150 MB sent to a new, nameless destination in one connection (a Zeek conn.log row turned
# into packets) is high with large_upload; the same bytes received are not an upload.
echo "--- 150 MB sent to a new destination"
printf '#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n' > "$TMP/up.log"
printf '1763280000.0\tCup1\t192.168.1.10\t45000\t45.77.12.34\t443\ttcp\t-\t300.0\t150000000\t100000\tSF\tT\tF\t0\tShADadFf\t100000\t155000000\t5000\t300000\t-\n' >> "$TMP/up.log"
printf '1763290000.0\tCup2\t192.168.1.10\t45001\t45.77.12.35\t443\ttcp\t-\t300.0\t100000\t150000000\tSF\tT\tF\t0\tShADadFf\t5000\t300000\t100000\t155000000\t-\n' >> "$TMP/up.log"
"$gen" zeek --conn "$TMP/up.log" --byte-limit 200000000 -o "$TMP/up.pcap" -q || fail "pcapgen zeek (upload) failed"
"$NG_BIN" -r "$TMP/up.pcap" --dump --local-net 192.168.1.10/32 > "$TMP/up.jsonl" 2> "$TMP/err" ||
	{ cat "$TMP/err"; fail "netglobe --dump failed on the upload capture"; }
python3 - "$TMP/up.jsonl" <<'PY' || fail "the large upload was not flagged, or a large download was"
import json, sys
fl = {f['remote_ip']: f for f in (json.loads(l) for l in open(sys.argv[1])) if 'remote_ip' in f}
up, down = fl['45.77.12.34'], fl['45.77.12.35']
names = lambda f: [s['name'] for s in f['signals']]
print('upload: %d bytes sent, attention %s, %s' % (up['bytes_sent'], up['attention'], [s['reason'] for s in up['signals'] if s['name'] == 'large_upload']))
assert up['bytes_sent'] > 140000000 and 'large_upload' in names(up) and up['attention'] == 'high', up['signals']
assert 'large_upload' not in names(down), down['signals']
PY
echo "PASS"
