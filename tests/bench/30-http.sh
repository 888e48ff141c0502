#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# 30-http.sh: the HTTP server under load, on loopback.
#  1. wrk against GET /flows (and a few lighter URLs) of a daemon holding 10,000 flows: requests per second.
#  2. A capture replayed at full speed with and without 200 event-stream clients reading /events: the
#     capture's packets per second (wall and CPU) and their ratio; the target is less than 10% slower.
#     A third run beside a busy process instead of the clients shows what the neighbour alone costs (on a
#     2-vCPU VM it is most of the difference: the clients need a CPU too).
#  3. Event delay, packet time to receipt: the daemon captures UDP on lo (root only) while 200 clients
#     stream; a sender opens new flows, one client times each flow-new against the packet's own time;
#     the target is under 1 s.
# Settings: HTTP_BENCH_PCAP (the replay of part 2; default the main bench capture), HTTP_BENCH_CLIENTS (200),
# HTTP_BENCH_SECONDS (wrk duration, 10), HTTP_BENCH_PARTS (which of 1 2 3 to run, default all).
set -u
. "${BENCH_DIR:-$(dirname "$0")}/lib.sh"
sec=http
ng=$BENCH_BUILD/netglobe
clients=${HTTP_BENCH_CLIENTS:-200}
secs=${HTTP_BENCH_SECONDS:-10}
parts=${HTTP_BENCH_PARTS:-123}
if [ ! -x "$ng" ]; then
	echo "$sec: netglobe is not built ($ng)"
	exit 1
fi
if ! "$ng" --help 2>&1 | grep -q -- '--listen'; then
	echo "$sec: this netglobe has no HTTP server yet"
	exit 77
fi
bench_have python3 || { echo "$sec: python3 is missing"; exit 77; }
tmp=$(mktemp -d)
pids=
trap 'for p in $pids; do kill "$p" 2> /dev/null; done; rm -rf "$tmp"' EXIT INT TERM
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The stream clients and the replay timer, shared by parts 2 and 3.
cat > "$tmp/sse.py" <<'PY'
"""sse.py PORT N [measure]: N event-stream clients on one selector; prints totals on SIGTERM. With
`measure`, client 0 parses flow-new events and records (receipt wall time - first_seen) per flow."""
import json, selectors, signal, socket, sys, time
from datetime import datetime

port, n = int(sys.argv[1]), int(sys.argv[2])
measure = len(sys.argv) > 3
sel = selectors.DefaultSelector()
state = {'bytes': 0, 'resets': 0, 'closed': 0, 'delays': []}
for i in range(n):
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(b'GET /events HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n' % port)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, {'i': i, 'buf': b''})
print('ready', flush=True)


def done(*a):
    d = sorted(state['delays'])
    out = dict(state)
    out['delays'] = len(d)
    if d:
        out['delay_median'] = d[len(d) // 2]
        out['delay_p95'] = d[min(len(d) - 1, int(len(d) * 0.95))]
        out['delay_max'] = d[-1]
    print(json.dumps(out), flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, done)
while True:
    for key, _ in sel.select(1):
        try:
            d = key.fileobj.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            d = b''
        if not d:
            sel.unregister(key.fileobj)
            state['closed'] += 1
            continue
        state['bytes'] += len(d)
        state['resets'] += d.count(b'event: reset')
        if measure and key.data['i'] == 0:
            now = time.time()
            buf = key.data['buf'] + d
            blocks = buf.split(b'\n\n')
            key.data['buf'] = blocks.pop()
            for b in blocks:
                if b'event: flow-new' not in b:
                    continue
                for line in b.split(b'\n'):
                    if line.startswith(b'data: '):
                        f = json.loads(line[6:])
                        if f.get('proto') == 'udp' and 9 in (f.get('remote_port'), f.get('local_port')):
                            t = datetime.fromisoformat(f['first_seen'].replace('Z', '+00:00')).timestamp()
                            state['delays'].append(now - t)
PY

cat > "$tmp/replay.py" <<'PY'
"""replay.py NG PCAP PORT STATEDIR CLIENTS SSE_PY: start the daemon on PCAP, optionally CLIENTS stream clients,
wait for the replay to finish; print JSON: packets replayed, wall seconds, daemon CPU seconds, client totals."""
import json, os, subprocess, sys, time, urllib.request

ng, pcap, port, statedir, nclients, ssepy = sys.argv[1:7]
port, nclients = int(port), int(nclients)
d = subprocess.Popen([ng, '-q', '-r', pcap, '--listen', '127.0.0.1:%d' % port, '--state-dir', statedir],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
hz = os.sysconf('SC_CLK_TCK')


def cpu():
    f = open('/proc/%d/stat' % d.pid).read().rsplit(')', 1)[1].split()
    return (int(f[11]) + int(f[12])) / hz


def stats():
    return json.loads(urllib.request.urlopen('http://127.0.0.1:%d/api/stats' % port, timeout=30).read())


cl = None
burner = None
try:
    if nclients < 0:
        # No clients, but a process keeping another CPU busy as the clients would: on a small VM the
        # neighbour alone slows the daemon, and this run tells that apart from the streams' own cost.
        burner = subprocess.Popen([sys.executable, '-c', 'while True: pass'])
    if nclients > 0:
        # The clients connect as soon as the port answers, before most of the replay.
        while True:
            if d.poll() is not None:
                sys.exit('daemon exited: ' + d.stderr.read().decode()[-300:])
            try:
                stats()
                break
            except OSError:
                time.sleep(0.002)
        cmd = [sys.executable, ssepy] if ssepy.endswith('.py') else [ssepy]
        cl = subprocess.Popen(cmd + [str(port), str(nclients)], stdout=subprocess.PIPE)
        assert cl.stdout.readline().strip() == b'ready'
    while True:
        if d.poll() is not None:
            sys.exit('daemon exited: ' + d.stderr.read().decode()[-300:])
        try:
            s0 = stats()
            break
        except OSError:
            time.sleep(0.002)
    t0, c0 = time.time(), cpu()
    while True:
        s = stats()
        if s['replay']['done']:
            t1, c1 = time.time(), cpu()
            break
        time.sleep(0.1)
    out = {'packets': s['packets'] - s0['packets'], 'wall': t1 - t0, 'cpu': c1 - c0}
    if cl:
        time.sleep(1)
        cl.terminate()
        out['clients'] = json.loads(cl.communicate()[0].decode().strip().splitlines()[-1])
    print(json.dumps(out))
finally:
    if cl and cl.poll() is None:
        cl.kill()
    if burner:
        burner.kill()
    d.terminate()
    d.wait()
PY

# 1. wrk against /flows with 10,000 flows.
if ! bench_have wrk; then
	bench_skip $sec wrk "not installed (Debian package wrk)"
elif [ "${parts#*1}" != "$parts" ]; then
	# Same name and arguments as the 1/10 capture of 10-capture.sh at the default size, so the file is shared.
	pcap10k=$(bench_capture bench-small-500000 --packets 500000 --flows 10000 --ipv6-percent 20 --seed 1 \
		--snaplen 512) || exit 1
	port=$(free_port)
	"$ng" -q -r "$pcap10k" --listen "127.0.0.1:$port" --state-dir "$tmp/st-wrk" > /dev/null 2> "$tmp/wrk-daemon.err" &
	pids="$pids $!"
	python3 - "$port" <<'PY' || { cat "$tmp/wrk-daemon.err"; exit 1; }
import json, sys, time, urllib.request
for i in range(1200):
    try:
        s = json.loads(urllib.request.urlopen('http://127.0.0.1:%s/api/stats' % sys.argv[1], timeout=30).read())
        if s['replay']['done']:
            time.sleep(0.6)
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
PY
	nflows=$(curl -s "http://127.0.0.1:$port/flows" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["flows"]))')
	size=$(curl -s "http://127.0.0.1:$port/flows" | wc -c)
	echo "$sec: daemon holds $nflows flows; GET /flows is $((size / 1024)) KiB"
	bench_line "$sec.flows_loaded" "$nflows"
	for spec in "flows:/flows:4" "flows_limit100:/flows?limit=100&sort=-bytes:16" "flows_csv:/flows?format=csv:4" \
		"stats:/api/stats:16" "static:/index.html:16"; do
		key=${spec%%:*}
		rest=${spec#*:}
		url=${rest%:*}
		conns=${rest##*:}
		wrk -t 2 -c "$conns" -d "${secs}s" --latency "http://127.0.0.1:$port$url" > "$tmp/wrk.out" 2>&1
		rps=$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/wrk.out")
		p99=$(awk '$1 == "99%" { print $2 }' "$tmp/wrk.out")
		errs=$(awk '/Non-2xx|Socket errors/' "$tmp/wrk.out" | tr -s ' ' | tr '\n' ' ')
		printf '%s: wrk %-34s %9s req/s  p99 %8s  (%s connections)%s\n' "$sec" "$url" "${rps:-?}" "${p99:-?}" "$conns" \
			"${errs:+  $errs}"
		bench_line "$sec.wrk.$key.rps" "${rps:-0}"
		bench_line "$sec.wrk.$key.p99" "${p99:-?}"
	done
	kill $pids 2> /dev/null
	wait 2> /dev/null
	pids=
fi

# 2. Full-speed replay with and without the stream clients (alternating runs, medians).
if [ "${parts#*2}" != "$parts" ]; then
pcap=${HTTP_BENCH_PCAP:-${BENCH_PCAP:-}}
if [ -z "$pcap" ] || [ ! -f "$pcap" ]; then
	echo "$sec: no capture for the replay (set HTTP_BENCH_PCAP or run through tests/bench/run.sh)"
	exit 1
fi
# The C clients (tests/tools/sse_clients.c) cost far less CPU than python's, which would compete with the daemon.
ssecl=$BENCH_BUILD/tools/sse_clients
[ -x "$ssecl" ] || ssecl=$tmp/sse.py
echo "$sec: replaying $(basename "$pcap") at full speed, $BENCH_RUNS times without, with $clients stream clients and beside a busy process" \
	"($(basename "$ssecl"))"
pps0=
pps1=
ppsb=
cpps0=
cpps1=
i=0
while [ $i -lt "$BENCH_RUNS" ]; do
	i=$((i + 1))
	for n in 0 "$clients" -1; do
		port=$(free_port)
		rm -rf "$tmp/st-replay"
		if ! python3 "$tmp/replay.py" "$ng" "$pcap" "$port" "$tmp/st-replay" "$n" "$ssecl" > "$tmp/r.json" \
			2> "$tmp/r.err"; then
			echo "$sec: replay run failed: $(tail -n 1 "$tmp/r.err")"
			exit 1
		fi
		# Packets per second of wall and of the daemon's CPU time, from the moment the clients were connected.
		read -r pw pc extra << EOF
$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
c = r.get("clients", {})
print("%.0f %.0f %s" % (r["packets"] / r["wall"], r["packets"] / max(r["cpu"], 0.01),
      "%d packets in %.2f s wall, %.2f s CPU; clients got %d bytes, %d resets, %d closed" %
      (r["packets"], r["wall"], r["cpu"], c["bytes"], c["resets"], c["closed"]) if c else "-"))' "$tmp/r.json")
EOF
		if [ "$n" = 0 ]; then
			pps0="$pps0 $pw"
			cpps0="$cpps0 $pc"
		elif [ "$n" = -1 ]; then
			ppsb="$ppsb $pw"
		else
			pps1="$pps1 $pw"
			cpps1="$cpps1 $pc"
			echo "$sec:   run $i with $n clients: $extra"
		fi
	done
done
# shellcheck disable=SC2086
p0=$(bench_median $pps0)
# shellcheck disable=SC2086
p1=$(bench_median $pps1)
# shellcheck disable=SC2086
pb=$(bench_median $ppsb)
# shellcheck disable=SC2086
q0=$(bench_median $cpps0)
# shellcheck disable=SC2086
q1=$(bench_median $cpps1)
awk -v s="$sec" -v p0="$p0" -v p1="$p1" -v pb="$pb" -v q0="$q0" -v q1="$q1" -v n="$clients" 'BEGIN {
	printf "%s: replay without clients           %6.2f Mpps wall, %6.2f Mpps per CPU second\n", s, p0 / 1e6, q0 / 1e6
	printf "%s: replay with %d clients          %6.2f Mpps wall, %6.2f Mpps per CPU second\n", s, n, p1 / 1e6, q1 / 1e6
	printf "%s: replay beside a busy process      %6.2f Mpps wall (no clients; the CPU neighbour alone)\n", s, pb / 1e6
	r = p1 / p0; rc = q1 / q0
	printf "%s: with/without = %.2fx by wall, %.2fx by CPU (target >= 0.90x: %s); with/busy neighbour = %.2fx\n", s,
		r, rc, (r >= 0.9 ? "met" : "NOT MET"), p1 / pb
}'
bench_line "$sec.replay.pps_without" "$p0"
bench_line "$sec.replay.pps_with" "$p1"
bench_line "$sec.replay.pps_busy_neighbour" "$pb"
bench_line "$sec.replay.cpu_pps_without" "$q0"
bench_line "$sec.replay.cpu_pps_with" "$q1"
bench_line "$sec.replay.ratio" "$(awk -v a="$p1" -v b="$p0" 'BEGIN { printf "%.2f", a / b }')"
bench_line "$sec.replay.cpu_ratio" "$(awk -v a="$q1" -v b="$q0" 'BEGIN { printf "%.2f", a / b }')"
bench_line "$sec.replay.ratio_to_busy" "$(awk -v a="$p1" -v b="$pb" 'BEGIN { printf "%.2f", a / b }')"
fi
[ "${parts#*3}" != "$parts" ] || exit 0

# 3. Event delay on a live capture of lo (needs root to capture).
if [ "$(id -u)" -ne 0 ]; then
	bench_skip $sec "event delay" "needs root to capture on lo"
	exit 0
fi
port=$(free_port)
"$ng" -q -i lo -f "udp and dst port 9" --no-process --listen "127.0.0.1:$port" --state-dir "$tmp/st-live" \
	> /dev/null 2> "$tmp/live.err" &
pids="$pids $!"
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/api/stats"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "$sec: live daemon did not start: $(tail -n 1 "$tmp/live.err")"; exit 1; }
	sleep 0.1
done
python3 "$tmp/sse.py" "$port" "$clients" measure > "$tmp/delay.json" &
spid=$!
pids="$pids $spid"
sleep 2
python3 - <<'PY'
import socket, time
# 20 new flows a second for 10 s, each from its own source port to 127.0.0.1:9.
for i in range(200):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b'netglobe bench %d' % i, ('127.0.0.1', 9))
    s.close()
    time.sleep(0.05)
PY
sleep 2
kill "$spid"
wait "$spid" 2> /dev/null
python3 - "$tmp/delay.json" "$sec" "$clients" "$tmp/delay.lines" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
sec, n = sys.argv[2], sys.argv[3]
if not r.get('delays'):
    print('%s: event delay: no flow-new events for the test flows arrived (%s)' % (sec, r))
    sys.exit(0)
met = 'met' if r['delay_p95'] < 1 else 'NOT MET'
print('%s: event delay (packet time to flow-new at a client, %s clients, %d flows): median %.0f ms, p95 %.0f ms, '
      'max %.0f ms (target p95 < 1 s: %s)' % (sec, n, r['delays'], r['delay_median'] * 1e3, r['delay_p95'] * 1e3,
                                                r['delay_max'] * 1e3, met))
with open(sys.argv[4], 'w') as f:
    for k in ('delay_median', 'delay_p95', 'delay_max'):
        f.write('%s.event.delay_%s_ms %.0f\n' % (sec, k.split('_')[1], r[k] * 1e3))
PY
if [ -f "$tmp/delay.lines" ]; then
	while read -r k v; do
		bench_line "$k" "$v"
	done < "$tmp/delay.lines"
fi
