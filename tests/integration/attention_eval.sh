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
echo "PASS"
