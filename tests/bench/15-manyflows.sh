#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# 15-manyflows.sh: a million flows of one packet each (a port scan, a flood or a busy P2P client), where
# the cost is per flow rather than per packet. netglobe -r FILE --dump with everything on and with GeoIP,
# passive DNS and names off, beside tcpdump -r -w /dev/null, softflowd and argus on the same file; ratios
# to tcpdump and to softflowd (the target: netglobe with everything on faster than softflowd, a ratio
# above 1.0), and memory per flow: peak RSS beyond the GeoIP data the run maps, and /api/stats'
# flow_memory_bytes from a daemon that holds every flow (targets: <= 400 and <= 200 bytes a flow); and
# GET /flows with 100,000 flows, per flow (target: <= 1 us).
# Settings: MANY_PACKETS (1000000; also the number of flows), MANY_IPV6 (20 percent).
set -u
. "${BENCH_DIR:-$(dirname "$0")}/lib.sh"
sec=manyflows
ng=$BENCH_BUILD/netglobe
pkts=${MANY_PACKETS:-1000000}
[ -x "$ng" ] || { echo "$sec: netglobe is not built ($ng)"; exit 1; }
bench_have tcpdump || { echo "$sec: tcpdump is missing (Debian package tcpdump): no reference"; exit 77; }
bench_have python3 || { echo "$sec: python3 is missing"; exit 77; }
# pcapgen's flood mode without real flows: every packet comes from a fresh random public address and port.
pcap=$(bench_capture "flood-$pkts" flood --packets "$pkts" --real-flows 0 --ipv6-percent "${MANY_IPV6:-20}" \
	--seed 1) || exit 1
echo "$sec: capture $pcap ($(du -m "$pcap" | cut -f1) MB, $pkts packets, one flow each)"
local="--local-net 192.168.1.10 --local-net fd00::10"
tmp=$(mktemp -d)
dpid=
trap '[ -n "$dpid" ] && kill "$dpid" 2> /dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

bench_time tcpdump -n -r "$pcap" -w /dev/null
[ "$BT_RC" -eq 0 ] || { echo "$sec: tcpdump failed (exit $BT_RC): $BT_ERR"; exit 1; }
ref=$BT_WALL
refcpu=$BT_CPU
bench_report $sec "tcpdump -r -w /dev/null" "$pkts"

# The peers first, so netglobe's lines can quote softflowd as well.
sf=
sfcpu=
if bench_have softflowd; then
	# -m keeps the whole capture's flows (the default 8192 evicts); no -c (it would wait at the end of the file).
	bench_time softflowd -r "$pcap" -n 127.0.0.1:9995 -v 9 -m 2000000 -d
	if [ "$BT_RC" -ne 0 ]; then
		echo "$sec: softflowd failed (exit $BT_RC): $BT_ERR"
	else
		sf=$BT_WALL
		sfcpu=$BT_CPU
		bench_report $sec "softflowd (NetFlow v9 export)" "$pkts" "$ref" "$refcpu"
		bench_line "$sec.softflowd.bytes_per_flow" "$(awk -v r="$BT_RSS" -v n="$pkts" 'BEGIN { printf "%.0f", r * 1024 / n }')"
	fi
else
	bench_skip $sec softflowd "not installed (Debian package softflowd)"
fi
if bench_have argus; then
	bench_time argus -X -r "$pcap" -w /dev/null
	if [ "$BT_RC" -ne 0 ]; then
		echo "$sec: argus failed (exit $BT_RC): $BT_ERR"
	else
		bench_report $sec "argus -X -w /dev/null" "$pkts" "$ref" "$refcpu"
	fi
else
	bench_skip $sec argus "not installed (Debian package argus-server)"
fi

# The daemon on the same capture (it keeps serving after the end of the file): /api/stats' flow counts and
# flow_memory_bytes, its peak RSS (VmHWM) and how much of it is the GeoIP files it maps (their resident
# pages in /proc/PID/smaps), which the --dump runs below subtract from their peak RSS.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# shellcheck disable=SC2086
"$ng" -q -r "$pcap" $local --listen "127.0.0.1:$port" --state-dir "$tmp/state" > /dev/null 2> "$tmp/daemon.err" &
dpid=$!
python3 - "$port" "$dpid" "$pkts" > "$tmp/daemon.txt" <<'PY' || { echo "$sec: the daemon run failed:"; tail -n 3 "$tmp/daemon.err"; }
import json, re, sys, time, urllib.request
port, pid, pkts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0 = time.time()
s = None
while time.time() - t0 < 600:
    try:
        s = json.loads(urllib.request.urlopen('http://127.0.0.1:%s/api/stats' % port, timeout=60).read())
        if s['replay']['done']:
            break
    except OSError:
        pass
    time.sleep(0.2)
else:
    sys.exit('no end of replay in 600 s')
geo = 0
cur = None
for line in open('/proc/%d/smaps' % pid):
    if re.match(r'^[0-9a-f]+-[0-9a-f]+ ', line):
        path = line.split()[-1] if len(line.split()) >= 6 else ''
        cur = path.endswith('.mmdb') or path.endswith('.ngasn')
    elif cur and line.startswith('Rss:'):
        geo += int(line.split()[1]) * 1024
hwm = 0
for line in open('/proc/%d/status' % pid):
    if line.startswith('VmHWM:'):
        hwm = int(line.split()[1]) * 1024
flows = s['flows_active'] + s['flows_kept_ended']
print('flows=%d' % flows)
print('flow_memory_bytes=%d' % s['flow_memory_bytes'])
print('geoip_rss=%d' % geo)
print('hwm=%d' % hwm)
PY
kill "$dpid" 2> /dev/null
wait "$dpid" 2> /dev/null
dpid=
dflows=$(sed -n 's/^flows=//p' "$tmp/daemon.txt")
fmem=$(sed -n 's/^flow_memory_bytes=//p' "$tmp/daemon.txt")
geo=$(sed -n 's/^geoip_rss=//p' "$tmp/daemon.txt")
hwm=$(sed -n 's/^hwm=//p' "$tmp/daemon.txt")
if [ -n "$dflows" ] && [ "$dflows" -gt 0 ]; then
	fpf=$(awk -v m="$fmem" -v n="$dflows" 'BEGIN { printf "%.0f", m / n }')
	dpf=$(awk -v h="$hwm" -v g="$geo" -v n="$dflows" 'BEGIN { printf "%.0f", (h - g) / n }')
	echo "$sec: daemon holds $dflows flows: flow_memory_bytes $((fmem / 1048576)) MB = $fpf B/flow" \
		"(target <= 200: $([ "$fpf" -le 200 ] && echo met || echo NOT MET));" \
		"peak RSS $((hwm / 1048576)) MB, GeoIP files resident $((geo / 1048576)) MB, the rest $dpf B/flow"
	bench_line "$sec.daemon.flows" "$dflows"
	bench_line "$sec.daemon.flow_memory_bytes" "$fmem"
	bench_line "$sec.daemon.flow_bytes_per_flow" "$fpf"
	bench_line "$sec.daemon.geoip_rss_bytes" "$geo"
	bench_line "$sec.daemon.rss_bytes_per_flow" "$dpf"
else
	geo=0
fi

# GET /flows from a daemon holding 100,000 flows (the same kind of capture, a tenth of it): wall time with curl
# reading to /dev/null and the daemon's CPU time, per flow (the target: at most 1 us a flow), as JSON and CSV.
hpkts=$((pkts / 10))
hpcap=$(bench_capture "flood-$hpkts" flood --packets "$hpkts" --real-flows 0 --ipv6-percent "${MANY_IPV6:-20}" \
	--seed 1) || exit 1
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# shellcheck disable=SC2086
"$ng" -q -r "$hpcap" $local --listen "127.0.0.1:$port" --state-dir "$tmp/state2" > /dev/null 2> "$tmp/daemon2.err" &
dpid=$!
python3 - "$port" "$dpid" "${BENCH_RUNS:-3}" > "$tmp/flows.txt" <<'PY' || { echo "$sec: the /flows run failed:"; tail -n 3 "$tmp/daemon2.err"; }
import json, os, subprocess, sys, time, urllib.request
port, pid, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
base = 'http://127.0.0.1:%s' % port
t0 = time.time()
while time.time() - t0 < 600:
    try:
        s = json.loads(urllib.request.urlopen(base + '/api/stats', timeout=60).read())
        if s['replay']['done']:
            break
    except OSError:
        pass
    time.sleep(0.2)
else:
    sys.exit('no end of replay in 600 s')
time.sleep(1)
n = s['flows_active'] + s['flows_kept_ended']
hz = os.sysconf('SC_CLK_TCK')
def cpu():
    # The daemon's time on a CPU in nanoseconds (schedstat): a request of 0.07 s is 7 clock ticks of stat.
    try:
        return int(open('/proc/%d/schedstat' % pid).read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        f = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
        return (int(f[11]) + int(f[12])) / hz
for key, path in (('json', '/flows'), ('csv', '/flows?format=csv')):
    walls, cpus = [], []
    for i in range(runs):
        c0 = cpu()
        out = subprocess.run(['curl', '-s', '-o', '/dev/null', '-w', '%{time_total} %{size_download}', base + path],
                             capture_output=True, text=True).stdout.split()
        cpus.append(cpu() - c0)
        walls.append(float(out[0]))
        size = int(out[1])
    walls.sort()
    cpus.sort()
    print('%s %d %.6f %.6f %d' % (key, n, walls[len(walls) // 2], cpus[len(cpus) // 2], size))
PY
kill "$dpid" 2> /dev/null
wait "$dpid" 2> /dev/null
dpid=
while read -r key n wall cpu size; do
	awk -v k="$key" -v n="$n" -v w="$wall" -v c="$cpu" -v s="$size" 'BEGIN {
		printf "manyflows: GET /flows%s of %d flows (%d MB): wall %.3f s = %.2f us a flow, daemon cpu %.3f s = %.2f us a flow (target <= 1 us: %s)\n",
			(k == "csv" ? "?format=csv" : ""), n, s / 1048576, w, w * 1e6 / n, c, c * 1e6 / n, (w * 1e6 / n <= 1 ? "met" : "NOT MET") }'
	bench_line "$sec.flows_$key.us_per_flow" "$(awk -v n="$n" -v w="$wall" 'BEGIN { printf "%.2f", w * 1e6 / n }')"
	bench_line "$sec.flows_$key.cpu_us_per_flow" "$(awk -v n="$n" -v c="$cpu" 'BEGIN { printf "%.2f", c * 1e6 / n }')"
done < "$tmp/flows.txt"

# netglobe_run LABEL FLAGS: time netglobe --dump and report it against tcpdump and softflowd, with peak RSS
# beyond the GeoIP files per flow (runs without GeoIP map none of them).
netglobe_run() {
	nr_label=$1
	nr_geo=$2
	shift 2
	bench_time "$ng" -r "$pcap" --dump "$@"
	if [ "$BT_RC" -ne 0 ]; then
		echo "$sec: netglobe $* failed (exit $BT_RC): $BT_ERR"
		return 1
	fi
	bench_report $sec "$nr_label" "$pkts" "$ref" "$refcpu"
	nr_key=$(echo "$nr_label" | awk '{ print $1 }' | tr -c 'A-Za-z0-9_\n' '_')
	nr_bpf=$(awk -v r="$BT_RSS" -v g="$nr_geo" -v n="$pkts" 'BEGIN { printf "%.0f", (r * 1024 - g) / n }')
	nr_line="$sec:   $nr_bpf B/flow of peak RSS beyond GeoIP (target <= 400: $([ "$nr_bpf" -le 400 ] && echo met || echo NOT MET))"
	if [ -n "$sf" ]; then
		nr_sr=$(awk -v a="$sf" -v b="$BT_WALL" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
		nr_sc=$(awk -v a="$sfcpu" -v b="$BT_CPU" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
		nr_line="$nr_line; ${nr_sr}x softflowd (cpu ${nr_sc}x) (target > 1.0x: $(awk -v r="$nr_sr" 'BEGIN { print (r + 0 > 1.0 ? "met" : "NOT MET") }'))"
		bench_line "$sec.$nr_key.softflowd_ratio" "$nr_sr"
		bench_line "$sec.$nr_key.softflowd_cpu_ratio" "$nr_sc"
	fi
	echo "$nr_line"
	bench_line "$sec.$nr_key.rss_bytes_per_flow" "$nr_bpf"
}
# shellcheck disable=SC2086
netglobe_run "netglobe --dump (everything on)" "$geo" $local
# shellcheck disable=SC2086
netglobe_run "plain (no GeoIP, DNS, names)" 0 $local --no-geoip --no-dns --no-names

# It did the work: one flow per packet.
# shellcheck disable=SC2086
"$ng" -r "$pcap" --dump $local 2> /dev/null | tail -n 1 | python3 -c '
import json, sys
want = int(sys.argv[1])
try:
    s = json.loads(sys.stdin.read())["summary"]
except Exception as e:
    print("manyflows: netglobe --dump: no summary line at the end (%s)" % e)
    sys.exit(1)
ok = "agrees" if (s.get("packets"), s.get("flows")) == (want, want) else "DISAGREES"
print("manyflows: netglobe --dump saw %s packets and %s flows; pcapgen wrote %d of each: %s" % (s.get("packets"), s.get("flows"), want, ok))
sys.exit(0 if ok == "agrees" else 1)
' "$pkts" || exit 1
exit 0
