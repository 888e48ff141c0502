#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# proc_bpf.sh: 1,000 short connections from four programs in a namespace get the right pid and exe (BPF >= 99%).
#
# The daemon captures on one end of a veth pair in a namespace of its own; the test host (a TCP server) is in a
# second namespace. One launching script starts the programs (in parallel batches) and records, for every connection, the pid it got
# from `$!` (the oracle) and the local port the program reports: python3 (450 TCP connections, each closed right after
# its connect: the longest is printed; 300 one-shot UDP datagrams from fresh sockets), curl (100 runs) and conn_once (150 runs: 100
# TCP, 50 UDP, each exiting right after its connection). Every flow to the test host is matched on (proto, local
# port, remote port) against that record. The same run with --no-bpf reports its figure (the /proc path misses short sockets
# by design: no threshold). Then a flood of unanswered SYNs from 65,536 spoofed source addresses must keep
# `process.memory_bytes` under the bound docs/process.md gives. NG_SYNS sets the flood's size (default 100000).
. "$(dirname "$0")/../lib/common.sh"

is_root || skip "needs root (namespaces, live capture, BPF)"
need ip python3 curl
[ -r /sys/kernel/btf/vmlinux ] || skip "needs a kernel with BTF (/sys/kernel/btf/vmlinux) for BPF attribution"
conn_once=$NG_BUILD/tools/conn_once
[ -x "$conn_once" ] || fail "$conn_once is not built (make $conn_once)"
syns=${NG_SYNS:-100000}
# docs/process.md: attribution's memory with BPF stays under 40 MiB (fixed tables, then the capped queues).
bound=$((40 * 1024 * 1024))

. "$(dirname "$0")/../lib/netns.sh"
A=$NSA
B=$NSB
trap 'ng_cleanup; netns_cleanup' EXIT
netns_create || fail "cannot create network namespaces $A, $B and a veth pair"

cp "$conn_once" "$TMP/conn_once"
chmod 755 "$TMP" "$TMP/conn_once"
# Debian's python3, not a wrapper on PATH (pyenv's shim is a shell script that execs another python).
py=/usr/bin/python3
[ -x $py ] || skip "needs /usr/bin/python3"
exe_python=$(readlink -f $py)
exe_curl=$(readlink -f "$(command -v curl)")
exe_conn=$(readlink -f "$TMP/conn_once")

# The test host: answers each connection with a minimal HTTP response and closes it.
cat > "$TMP/server.py" << 'EOF'
import select, socket
ls = []
for port in (8080, 8081, 8082):    # one port per program: no 5-tuple is ever used by two programs
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("198.51.100.7", port))
    s.listen(4096)
    ls.append(s)
while True:
    for s in select.select(ls, [], [])[0]:
        c, _ = s.accept()
        c.settimeout(0.2)
        try:
            c.recv(4096)
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            pass
        c.close()
EOF
ip netns exec $B $py "$TMP/server.py" &
NG_PIDS="$NG_PIDS $!"
i=0
until [ "$(ip netns exec $B ss -ltnH | grep -c LISTEN)" -ge 3 ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "the test host's server did not listen"
	sleep 0.1
done

# The programs: python3 prints "tcp|udp LPORT" per connection (and the longest TCP connection in ms on stderr).
cat > "$TMP/client.py" << 'EOF'
import socket, sys, time
mode, n = sys.argv[1], int(sys.argv[2])
longest = 0.0
for i in range(n):
    if mode == "tcp":
        t0 = time.monotonic()
        s = socket.create_connection(("198.51.100.7", 8080))
        port = s.getsockname()[1]
        s.close()
        longest = max(longest, time.monotonic() - t0)
        print("tcp", port, 8080, flush=True)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"x", ("198.51.100.7", 20000 + i))    # a new 5-tuple for each datagram
        print("udp", s.getsockname()[1], 20000 + i, flush=True)
        s.close()
if mode == "tcp":
    sys.stderr.write("the longest python3 TCP connection lasted %.1f ms\n" % (longest * 1000))
EOF
# The launching script: one line "PID PROTO LPORT RPORT EXE" per connection, PID from `$!` of the job that made it.
# The two python3 clients run beside the curl and conn_once runs, which start in batches of NG_BATCH (10) at a time;
# each job writes its own record file, read after `wait PID` with the PID `$!` gave for that job.
cat > "$TMP/launch.sh" << 'EOF'
rec=$1 py=$2 client=$3 conn_once=$4 exe_python=$5 exe_curl=$6 exe_conn=$7 batch=$8
# add FILE PID EXE: the job's lines, prefixed with its pid (conn_once prints its own pid first: replaced by $!).
add() {
	sed -E "s#^([0-9]+ )?(tcp|udp) #$2 \2 #; s#\$# $3#" "$1" >> "$rec"
}
echo "launch: start $(date +%s.%N)" >&2
$py "$client" tcp 450 > "$rec.py1" 2> "$rec.tcpms" &
p1=$!
$py "$client" udp 300 > "$rec.py2" &
p2=$!
# job KIND I: one curl (KIND c) or conn_once (KIND o) run in the background; adds "PID:I" to jobs_now.
job() {
	if [ "$1" = c ]; then
		curl -s -o /dev/null -w 'tcp %{local_port} 8081\n' http://198.51.100.7:8081/ > "$rec.c.$2" &
	elif [ "$2" -lt 100 ]; then
		"$conn_once" tcp 198.51.100.7 8082 > "$rec.o.$2" &
	else
		"$conn_once" udp 198.51.100.7 $((30000 + $2)) > "$rec.o.$2" &
	fi
	jobs_now="$jobs_now $!:$2"
}
# batches KIND N: N runs of KIND, NG_BATCH at a time; each run's record read once it has exited.
batches() {
	i=0
	while [ $i -lt "$2" ]; do
		jobs_now=
		j=0
		while [ $j -lt "$batch" ] && [ $i -lt "$2" ]; do
			job "$1" $i
			i=$((i + 1))
			j=$((j + 1))
		done
		for e in $jobs_now; do
			p=${e%%:*}
			k=${e#*:}
			wait "$p"
			if [ "$1" = c ]; then
				add "$rec.c.$k" "$p" "$exe_curl"
			else
				# conn_once prints "PID PROTO LPORT": the remote port is the run's (8082 for TCP, 30000 + K for UDP).
				if [ "$k" -lt 100 ]; then rport=8082; else rport=$((30000 + k)); fi
				sed "s|\$| $rport|" "$rec.o.$k" > "$rec.o.$k.l"
				# Its own getpid() must be the pid $! gave: the record is exact, or the test fails.
				[ "$(cut -d' ' -f1 "$rec.o.$k")" = "$p" ] || echo "conn_once run $k: \$! $p, getpid $(cat "$rec.o.$k")" \
					>> "$rec.mismatch"
				add "$rec.o.$k.l" "$p" "$exe_conn"
			fi
		done
	done
}
echo "launch: curl $(date +%s.%N)" >&2
batches c 100
echo "launch: conn_once $(date +%s.%N)" >&2
batches o 150
wait $p1
add "$rec.py1" $p1 "$exe_python"
wait $p2
add "$rec.py2" $p2 "$exe_python"
echo "launch: end $(date +%s.%N)" >&2
EOF

api() {
	ip netns exec $A curl -s "http://127.0.0.1:8080$1"
}

# run_one LABEL [OPTIONS...]: the daemon on vA, the launching script, then the score on stdout's last line.
run_one() {
	label=$1
	shift
	rm -rf "$TMP/st" "$TMP/rec.$label"*
	ip netns exec $A "$NG_BIN" -i $VA --listen 127.0.0.1:8080 --state-dir "$TMP/st" --no-geoip \
		--public-net 198.51.100.0/24 --public-net 10.200.0.0/16 "$@" > "$TMP/$label.out" 2> "$TMP/$label.err" &
	dpid=$!
	NG_PIDS="$NG_PIDS $dpid"
	i=0
	until api /api/stats > /dev/null 2>&1 && [ -n "$(api /api/stats)" ]; do
		kill -0 $dpid 2> /dev/null || { cat "$TMP/$label.err"; fail "$label: the daemon exited"; }
		i=$((i + 1))
		[ $i -lt 300 ] || fail "$label: no answer from the daemon"
		sleep 0.1
	done
	sleep 0.5
	rm -f "$TMP/rec.$label.mismatch"
	ip netns exec $A sh "$TMP/launch.sh" "$TMP/rec.$label" $py "$TMP/client.py" "$TMP/conn_once" "$exe_python" \
		"$exe_curl" "$exe_conn" "${NG_BATCH:-10}"
	i=0
	while [ $i -lt 60 ]; do
		api /api/stats > "$TMP/stats.$label.json"
		$py - "$TMP/stats.$label.json" << 'EOF' && break
import json, sys
p = json.load(open(sys.argv[1]))["process"]
sys.exit(0 if p["requests"] >= 1000 and p["pending"] == 0 else 1)
EOF
		sleep 0.5
		i=$((i + 1))
	done
	api '/flows?limit=100000' > "$TMP/flows.$label.json"
	kill $dpid
	wait $dpid 2> /dev/null
	$py - "$TMP/rec.$label" "$TMP/flows.$label.json" "$TMP/stats.$label.json" "$TMP/rec.$label.tcpms" \
		"$label" << 'EOF'
import hashlib, json, sys
rec = {}
sums = {}
lines = 0
for line in open(sys.argv[1]):
    pid, proto, port, rport, exe = line.split()
    lines += 1
    k = (proto, int(port), int(rport))
    if k in rec:
        print("    the same 5-tuple twice (not a test of attribution: left out):", k, rec[k], (pid, exe))
    rec[k] = (int(pid), exe)
flows = {}
for f in json.load(open(sys.argv[2]))["flows"]:
    if f["remote_ip"] == "198.51.100.7":
        flows[(f["proto"], f["local_port"], f["remote_port"])] = f
st = json.load(open(sys.argv[3]))["process"]
ok = seen = hashed = 0
wrong = []
for k, (pid, exe) in rec.items():
    f = flows.get(k)
    if f is None:
        wrong.append("%s %d -> %d: no flow" % k)
        continue
    seen += 1
    p = f.get("process")
    if p and p["pid"] == pid and p["exe"] == exe:
        ok += 1
        if exe not in sums:
            sums[exe] = hashlib.sha256(open(exe, "rb").read()).hexdigest()
        hashed += p.get("sha256") == sums[exe]
    else:
        wrong.append("%s %d -> %d: want pid %d %s, got %s" % (k + (pid, exe, p and (p["pid"], p["exe"]))))
print("%s: %d connections launched, %d flows captured, %d with the right pid and exe; %s" %
      (sys.argv[5], len(rec), seen, ok, open(sys.argv[4]).read().strip()))
print("%s: stats %s" % (sys.argv[5], json.dumps(st)))
for w in wrong[:10]:
    print("   ", w)
print("%s: %d of the %d right ones carry the executable's SHA-256 (Python's hashlib agrees)" %
      (sys.argv[5], hashed, ok))
print("SCORE %d %d %d %d %d" % (len(rec), seen, ok, hashed, lines))
EOF
}

t0=$(date +%s)
run_one bpf > "$TMP/bpf.score" || fail "bpf run"
echo "bpf run: $(($(date +%s) - t0)) s"
cat "$TMP/bpf.score"
[ -s "$TMP/rec.bpf.mismatch" ] && { cat "$TMP/rec.bpf.mismatch"; fail "bpf: the launching script's pid record is not exact"; }
grep -q 'attribution: BPF' "$TMP/bpf.err" || { cat "$TMP/bpf.err"; fail "BPF attribution did not start"; }
set -- $(grep '^SCORE' "$TMP/bpf.score")
[ "$6" -ge 1000 ] || fail "bpf: the launching script recorded $6 connections, not 1000"
[ "$3" -ge 990 ] || fail "bpf: $3 of $2 connections were captured (the capture lost some: no score)"
[ $(($4 * 100)) -ge $(($2 * 99)) ] || fail "bpf: $4 of $2 flows got the right pid and exe (< 99%)"
echo "PASS bpf: $4 of $2 flows with the right pid and exe"
[ "$5" -eq "$4" ] || fail "bpf: only $5 of $4 attributed flows carry their executable's SHA-256"
echo "PASS bpf: every attributed flow carries its executable's SHA-256"

t0=$(date +%s)
run_one nobpf --no-bpf > "$TMP/nobpf.score" || fail "--no-bpf run"
echo "--no-bpf run: $(($(date +%s) - t0)) s"
cat "$TMP/nobpf.score"
[ -s "$TMP/rec.nobpf.mismatch" ] && { cat "$TMP/rec.nobpf.mismatch"; fail "--no-bpf: the launching script's pid record is not exact"; }
grep -q 'attribution: BPF' "$TMP/nobpf.err" && fail "--no-bpf: the daemon used BPF anyway"
set -- $(grep '^SCORE' "$TMP/nobpf.score")
echo "PASS --no-bpf: $4 of $2 flows with the right pid and exe (reported, no threshold)"

# The SYN flood: unanswered SYNs from 10.200.0.0/16 (random source ports) to a closed port of vA's address.
rm -rf "$TMP/st"
ip netns exec $A "$NG_BIN" -i $VA --listen 127.0.0.1:8080 --state-dir "$TMP/st" --no-geoip \
	--public-net 10.200.0.0/16 --buffer-mb 64 > "$TMP/flood.out" 2> "$TMP/flood.err" &
dpid=$!
NG_PIDS="$NG_PIDS $dpid"
i=0
until [ -n "$(api /api/stats)" ]; do
	kill -0 $dpid 2> /dev/null || { cat "$TMP/flood.err"; fail "flood: the daemon exited"; }
	i=$((i + 1))
	[ $i -lt 300 ] || fail "flood: no answer from the daemon"
	sleep 0.1
done
cat > "$TMP/flood.py" << 'EOF'
import random, socket, struct, sys
n = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
dst = socket.inet_aton("203.0.113.1")
for i in range(n):
    src = bytes((10, 200, (i >> 8) & 255, i & 255))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xffff, 0, 64, 6, 0, src, dst)
    tcp = struct.pack("!HHIIBBHHH", 1024 + random.randrange(60000), 9, i, 0, 5 << 4, 0x02, 65535, 0, 0)
    s.sendto(ip + tcp, ("203.0.113.1", 0))
EOF
t0=$(date +%s)
ip netns exec $B $py "$TMP/flood.py" "$syns" &
fpid=$!
max=0
while :; do
	api /api/stats > "$TMP/flood.json"
	m=$($py -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["process"]["memory_bytes"]))' "$TMP/flood.json" 2>/dev/null || echo 0)
	[ "$m" -gt "$max" ] && max=$m
	if ! kill -0 $fpid 2> /dev/null; then
		[ "${done_at:-0}" -ge 6 ] && break	# 3 s after the sender: the last answers are out
		done_at=$((${done_at:-0} + 1))
	fi
	sleep 0.5
done
$py - "$TMP/flood.json" "$syns" "$max" "$bound" << 'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["process"]
print("flood: %s SYNs sent; the daemon saw %d packets (%d dropped), %d flows; process: requests %d, "
      "dropped %d, pending %d, memory_bytes now %d, at most %s (bound %s)" %
      (sys.argv[2], d["packets"], d.get("drops", 0), d["flows_total"], p["requests"], p["dropped"], p["pending"],
       p["memory_bytes"], sys.argv[3], sys.argv[4]))
EOF
echo "flood: $(($(date +%s) - t0)) s"
[ "$max" -gt 0 ] || fail "flood: no process.memory_bytes read during the flood"
[ "$max" -le "$bound" ] || fail "flood: process.memory_bytes reached $max, over the documented $bound"
kill -0 $dpid 2> /dev/null || fail "flood: the daemon died"
echo "PASS flood: attribution memory stayed at most $max bytes (bound $bound)"
exit 0
