#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# soak.sh: a flood of spoofed sources, replayed at full speed, must leave the daemon responsive, bounded and
# right.
#
# pcapgen writes a flood capture (NG_SOAK_PACKETS, default 5,000,000 spoofed SYN/UDP packets from random
# public sources, plus 20 real TLS connections listed in its --truth file). netglobe replays it as fast as it
# can with --max-flows 100000 while a poller asks /api/stats every 100 ms and samples VmRSS:
#   - every /api/stats answer arrives within 100 ms (max, p99, p90, p50 are printed); on a machine whose CPUs
#     are contended by other work (Linux PSI cpu "some" over 25%) only p90 < 100 ms and max < 2 s are enforced,
#     unless NG_SOAK_STRICT=1;
#   - VmRSS stays under the cap of docs/operations.md:
#       48 MiB + GeoIP files + (max-flows + keep-ended) x 768 B + dns-max x 512 B
#   - after SIGTERM (exit 0), the whitelist store (read with the sqlite3 CLI, else `netglobe history`) holds
#     both directions of every real remote, and no other address: spoofed sources never answered, and the
#     engine learns only from exchanges.
# SIGTERM after the replay (200,000 flows in memory) and SIGINT in the middle of a full-speed replay end the
# daemon with status 0 within a second, with an intact store; and (root) kernel drops on a live capture are
# logged within a minute or so.
# Runtime here: about 2-3 minutes. NG_SOAK_PACKETS=1000000 runs a smaller flood.
. "$(dirname "$0")/../lib/common.sh"
need python3 curl
PCAPGEN=$NG_BUILD/tools/pcapgen
[ -x "$PCAPGEN" ] || fail "$PCAPGEN is not built (make BUILD=$NG_BUILD all)"
PACKETS=${NG_SOAK_PACKETS:-5000000}
MAXFLOWS=100000
KEEPENDED=100000
DNSMAX=16384	# the flood carries no DNS: a small cache keeps the memory cap tight
[ "$PACKETS" -ge 5000000 ] || echo "NOTE: NG_SOAK_PACKETS=$PACKETS: a smaller flood than the 5,000,000 packets the memory bounds are checked against"

FLOOD=$TMP/flood.pcap
t0=$(date +%s)
"$PCAPGEN" flood -o "$FLOOD" --truth "$TMP/flood.truth" --packets "$PACKETS" -q || fail "pcapgen flood failed"
echo "flood: $PACKETS spoofed packets + 20 real flows, $(($(stat -c %s "$FLOOD") / 1048576)) MiB, written in $(($(date +%s) - t0)) s"

# start NAME ARGS...: the daemon replaying the flood; sets pid and port once /api/stats answers.
start() {
	name=$1
	shift
	port=$(free_port)
	NG_START_TRIES=600 ng_start "$name" "$NG_BIN" -r "$FLOOD" --listen "127.0.0.1:$port" --max-flows $MAXFLOWS \
		--keep-ended $KEEPENDED --dns-max $DNSMAX "$@"
}

# stop_timed [SIGNAL]: SIGTERM (or SIGNAL); prints the milliseconds until the process has exited.
stop_timed() {
	python3 - "$pid" "${1:-SIGTERM}" <<'PY'
import os, signal, sys, time
pid = int(sys.argv[1])
t = time.monotonic()
os.kill(pid, getattr(signal, sys.argv[2]))
while os.path.exists('/proc/%d' % pid):
    with open('/proc/%d/stat' % pid) as f:
        if f.read().split(') ')[-1].startswith('Z'):
            break               # exited; the shell reaps it
    time.sleep(0.002)
print(int((time.monotonic() - t) * 1000))
PY
}

# 1. The flood, with the poller.
start soak --state-dir "$TMP/state"
python3 - "$port" "$pid" "$TMP/soak.err" "$MAXFLOWS" "$KEEPENDED" "$DNSMAX" > "$TMP/poll.txt" <<'PY'
import json, os, re, sys, time, urllib.request

port, pid, errlog = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
maxflows, keepended, dnsmax = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
url = 'http://127.0.0.1:%d/api/stats' % port
lat, rss, failures, done_at, last, psi = [], [], 0, None, {}, []
start = time.monotonic()
while time.monotonic() - start < 900:
    t = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            last = json.loads(r.read())
        lat.append((time.monotonic() - t) * 1000)
    except Exception as e:
        failures += 1
        print('request failed: %s' % e)
    with open('/proc/%d/status' % pid) as f:
        rss.append(int(re.search(r'VmRSS:\s+(\d+)', f.read()).group(1)))
    try:
        with open('/proc/pressure/cpu') as f:
            psi.append(float(re.search(r'some avg10=([\d.]+)', f.read()).group(1)))
    except OSError:
        pass
    if done_at is None and last.get('replay', {}).get('done'):
        done_at = time.monotonic()
    if done_at is not None and time.monotonic() - done_at > 2:
        break
    time.sleep(max(0, 0.1 - (time.monotonic() - t)))
geo = 0
for path in set(re.findall(r'(/[^ ;()]+\.(?:mmdb|ngasn)) \(', open(errlog).read())):
    geo += os.path.getsize(path)
cap = 48 * 2**20 + geo + (maxflows + keepended) * 768 + dnsmax * 512
lat.sort()
with open(os.path.join(os.path.dirname(errlog), 'lat.txt'), 'w') as f:
    f.write('\n'.join('%.1f' % x for x in lat) + '\n')
print('requests %d failed %d' % (len(lat), failures))
print('latency_ms max %.1f p99 %.1f p90 %.1f p50 %.1f' % (lat[-1], lat[int(len(lat) * 0.99)], lat[int(len(lat) * 0.9)],
                                                         lat[len(lat) // 2]))
print('rss_kib max %d cap %d (geoip files %d MiB)' % (max(rss), cap // 1024, geo // 2**20))
print('replay_s %.1f packets %d flows_total %d evictions %d pps_last %s' % (
    (done_at or time.monotonic()) - start, last.get('packets', 0), last.get('flows_total', 0),
    last.get('evictions', 0), last.get('packets_per_sec')))
print('done %s' % (done_at is not None))
print('cpu_pressure %.0f' % (sum(psi) / len(psi) if psi else 0))
PY
cat "$TMP/poll.txt"
grep -q '^done True' "$TMP/poll.txt" || fail "the replay did not finish within 15 minutes"
grep -q '^requests [0-9]* failed 0$' "$TMP/poll.txt" || fail "some /api/stats requests failed"
# The 100 ms bound measures the daemon only on a machine that gives it a CPU: when other work kept runnable
# tasks waiting for a CPU most of the time (Linux PSI "some" over 25%), waits for the CPU dominate and only
# the looser bounds apply (NG_SOAK_STRICT=1 insists on 100 ms anyway).
psi=$(awk '/^cpu_pressure/ { print $2 }' "$TMP/poll.txt")
if [ "${NG_SOAK_STRICT:-0}" = 1 ] || [ "$psi" -lt 25 ]; then
	awk '/^latency_ms/ { exit !($3 < 100) }' "$TMP/poll.txt" || fail "an /api/stats answer took 100 ms or more"
	echo "ok responsive: every /api/stats answer within 100 ms (CPU pressure ${psi}%)"
else
	echo "NOTE: the CPU was contended (PSI cpu some ${psi}% on average): the 100 ms bound is not enforced; p90 under 100 ms and max under 2 s are"
	awk '/^latency_ms/ { exit !($3 < 2000) }' "$TMP/poll.txt" || fail "an /api/stats answer took 2 s or more"
	python3 -c 'import sys
lat = sorted(float(x) for x in open(sys.argv[1]).read().split())
sys.exit(0 if lat[int(len(lat) * 0.9)] < 100 else 1)' "$TMP/lat.txt" || fail "p90 of /api/stats latency is 100 ms or more"
fi
if ng_sanitized; then
	echo "NOTE: VmRSS not judged: AddressSanitizer build (shadow memory and quarantine)"
else
	awk '/^rss_kib/ { exit !($3 < $5) }' "$TMP/poll.txt" || fail "resident memory went over the cap"
	echo "ok bounded: VmRSS under the cap"
fi
ms=$(stop_timed)
wait "$pid"
rc=$?
[ $rc -eq 0 ] || { tail -5 "$TMP/soak.err"; fail "exit status $rc after SIGTERM"; }
[ "$ms" -lt 1000 ] || fail "SIGTERM after the replay: $ms ms to exit, want under 1000"
echo "ok SIGTERM after the replay: exit 0 in $ms ms"

# 2. The store: both directions of every real remote, nothing else.
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3 "$TMP/state/netglobe.db" "SELECT addr, dir FROM seen ORDER BY addr, dir" > "$TMP/store.txt" ||
		fail "sqlite3 cannot read the store"
	how="sqlite3"
else
	"$NG_BIN" history --state-dir "$TMP/state" --format json > "$TMP/history.json" || fail "netglobe history failed"
	python3 -c 'import json, sys
rows = json.load(open(sys.argv[1]))
rows = rows.get("rows", rows) if isinstance(rows, dict) else rows
for r in rows:
    print("%s|%d" % (r["address"], 0 if r["direction"] == "sent" else 1))' "$TMP/history.json" | sort > "$TMP/store.txt"
	how="netglobe history"
fi
python3 - "$TMP/flood.truth" "$TMP/store.txt" <<'PY' || fail "the whitelist store is wrong"
import ipaddress, json, sys

real = set()
for line in open(sys.argv[1]):
    d = json.loads(line)
    if 'remote_ip' in d:
        real.add(ipaddress.ip_address(d['remote_ip']))
rows = set()
for line in open(sys.argv[2]):
    addr, d = line.strip().rsplit('|', 1)
    rows.add((ipaddress.ip_address(addr), int(d)))
want = {(a, d) for a in real for d in (0, 1)}
missing = want - rows
extra = {a for a, d in rows} - real
print('store: %d rows for %d addresses; real remotes %d, missing rows %d, other addresses %d' % (
    len(rows), len({a for a, d in rows}), len(real), len(missing), len(extra)))
for a, d in sorted(missing, key=str)[:10]:
    print('  missing %s %s' % (a, 'sent' if d == 0 else 'received'))
for a in sorted(extra, key=str)[:10]:
    print('  spoofed or unknown address in the store: %s' % a)
sys.exit(1 if missing or extra or not real else 0)
PY
echo "ok store ($how): every real remote in both directions, no spoofed source"

# 3. SIGINT (as from a terminal) in the middle of a full-speed replay: exit 0 within a second, store intact.
start midway --state-dir "$TMP/state2"
i=0
until [ "$(curl -s "http://127.0.0.1:$port/api/stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["packets"])')" -gt 300000 ]; do
	i=$((i + 1))
	[ $i -lt 600 ] || fail "midway: the replay does not progress"
	sleep 0.1
done
curl -s "http://127.0.0.1:$port/api/stats" | grep -q '"done":false' || echo "NOTE: the replay had already finished"
ms=$(stop_timed SIGINT)
wait "$pid"
rc=$?
[ $rc -eq 0 ] || fail "SIGINT during the replay: exit status $rc"
[ "$ms" -lt 1000 ] || fail "SIGINT during the replay: $ms ms to exit, want under 1000"
if command -v sqlite3 >/dev/null 2>&1; then
	[ "$(sqlite3 "$TMP/state2/netglobe.db" 'PRAGMA integrity_check')" = ok ] || fail "the store is damaged after SIGINT"
fi
echo "ok SIGINT during a full-speed replay: exit 0 in $ms ms, store intact"
rm -f "$FLOOD"

# 4. Kernel drops on a live capture are reported (root: capture on lo with a 1 MiB buffer, stopped while
#    100,000 datagrams pass, so the kernel must drop). The report comes at most once a minute.
if ! is_root; then
	echo "skip drop report: needs root for a live capture"
	echo "PASS soak"
	exit 0
fi
port=$(free_port)
NG_START_TRIES=100 ng_start drops "$NG_BIN" -i lo --buffer-mb 1 --no-process --listen "127.0.0.1:$port" \
	--state-dir "$TMP/state3"
kill -STOP "$pid"
python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(100000):
    s.sendto(b"x" * 1000, ("127.0.0.1", 9))'
kill -CONT "$pid"
sleep 1
drops=$(curl -s "http://127.0.0.1:$port/api/stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["drops"])')
[ "$drops" -gt 0 ] || fail "no kernel drops happened (the test could not provoke any)"
i=0
until grep -q "capture: [0-9]* packets dropped by the kernel in the last minute (raise --buffer-mb)" "$TMP/drops.err"; do
	i=$((i + 1))
	[ $i -lt 80 ] || { cat "$TMP/drops.err"; fail "no drop report within 80 s"; }
	sleep 1
done
echo "ok drop report ($drops dropped per /api/stats): $(grep 'dropped by the kernel' "$TMP/drops.err" | sed 's/^netglobe: //')"
[ "$(grep -c 'dropped by the kernel' "$TMP/drops.err")" -eq 1 ] || fail "more than one drop report for one burst"
kill -TERM "$pid"
wait "$pid" || fail "live daemon: exit status $? after SIGTERM"
echo "PASS soak"
