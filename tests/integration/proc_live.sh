#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# proc_live.sh: process attribution on live sockets: proc_probe must name the same pid and program as ss does.
#
# A curl download from a local `python3 -m http.server` (IPv4 and IPv6) is kept open with --limit-rate;
# `ss -tnpH` (iproute2: its own sock_diag + /proc walk) is the independent oracle for both ends. Also
# checked: the /proc/net fallback, an unconnected UDP socket, and least privilege (as nobody: nothing
# without capabilities, the owner with CAP_SYS_PTRACE + CAP_DAC_READ_SEARCH). When the daemon can
# capture, the lead adds the same check on the flow objects of `netglobe -i lo`.
set -u

if [ "$(id -u)" != 0 ]; then
	echo "needs root for live capture"
	exit 77
fi
for tool in ss python3 curl; do
	if ! command -v "$tool" > /dev/null 2>&1; then
		echo "needs $tool (ss is the independent oracle; apt-get install iproute2 curl python3)"
		exit 77
	fi
done
build=${NG_BUILD:-build}
probe=$build/tools/proc_probe
if [ ! -x "$probe" ]; then
	echo "FAIL: $probe is not built (make BUILD=$build $probe)"
	exit 1
fi

tmp=$(mktemp -d)
chmod 755 "$tmp"
bgpids=""
cleanup() {
	for p in $bgpids; do
		kill "$p" 2> /dev/null
	done
	wait 2> /dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
cp "$probe" "$tmp/proc_probe"	# readable by nobody, wherever the build dir is
chmod 755 "$tmp/proc_probe"
mkdir "$tmp/www"
head -c 8388608 /dev/zero > "$tmp/www/big"

failed=0
pass() { echo "PASS $*"; }
fail() {
	echo "FAIL $*"
	failed=$((failed + 1))
}

# free_port ADDR: a port nothing listens on now (TCP and UDP).
free_port() {
	python3 -c 'import socket,sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$1"
}

# wait_for CMD...: retry a command for up to 10 s.
wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		if "$@" > /dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# ss_line FLAGS FILTER: the first socket `ss -FLAGSnpH FILTER` lists with its process (t: connected TCP,
# ua: all UDP), as "LOCAL LPORT REMOTE RPORT PID NAME".
ss_line() {
	ss -"$1"npH "$2" | python3 -c 'import re, sys
for line in sys.stdin:
    m = re.search(r"users:\(\(\"([^\"]*)\",pid=(\d+)", line)
    ends = re.findall(r"(\[[^\]]*\]|[0-9.*]+):(\d+|\*)", line)
    if not m or len(ends) < 2:
        continue
    (l, lp), (r, rp) = ends[0], ends[1]
    print(l.strip("[]"), lp, r.strip("[]"), rp.replace("*", "0"), m.group(2), m.group(1))
    break'
}

# json_field FILE KEY: a field of proc_probe's JSON answer ("null" when the answer is null).
json_field() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print("null" if d is None else d.get(sys.argv[2]))' "$1" "$2"
}

# check LABEL PROTO "L LP R RP PID NAME" [RUNNER...]: proc_probe (run under RUNNER) must find PID and NAME.
check() {
	label=$1
	proto=$2
	read -r l lp r rp want_pid want_name <<EOF
$3
EOF
	shift 3
	out=$tmp/out.json
	"$@" "$tmp/proc_probe" $extra "$proto" "$l" "$lp" "$r" "$rp" > "$out" 2> "$tmp/err"
	got_pid=$(json_field "$out" pid)
	got_name=$(json_field "$out" name)
	if [ "$got_pid" = "$want_pid" ] && [ "$got_name" = "$want_name" ]; then
		pass "$label: $proto $l:$lp -> $r:$rp is pid $got_pid ($got_name), as ss says"
	else
		fail "$label: $proto $l:$lp -> $r:$rp: proc_probe says pid $got_pid ($got_name), ss says pid $want_pid ($want_name)"
		sed 's/^/    /' "$out" "$tmp/err"
	fi
}

extra=""
for fam in 4 6; do
	if [ $fam = 4 ]; then
		addr=127.0.0.1 url_host=127.0.0.1
	else
		addr=::1 url_host="[::1]"
		if ! python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2> /dev/null; then
			echo "SKIP IPv6: no ::1 here"
			continue
		fi
	fi
	port=$(free_port $addr)
	python3 -m http.server --bind $addr --directory "$tmp/www" "$port" > "$tmp/http$fam.log" 2>&1 &
	bgpids="$bgpids $!"
	if ! wait_for sh -c "ss -tlnH 'sport = :$port' | grep -q LISTEN"; then
		fail "IPv$fam: http.server did not listen on $addr port $port"
		continue
	fi
	curl -s -g --limit-rate 1k -o /dev/null "http://$url_host:$port/big" &
	bgpids="$bgpids $!"
	if ! wait_for sh -c "ss -tnpH 'dport = :$port' | grep -q curl"; then
		fail "IPv$fam: no curl connection to port $port"
		continue
	fi
	client=$(ss_line t "dport = :$port")
	server=$(ss_line t "sport = :$port")	# without -l, ss lists no listener
	echo "ss: client $client; server $server"
	check "IPv$fam client end" tcp "$client"
	check "IPv$fam server end" tcp "$server"
	extra=--procnet
	check "IPv$fam client end, /proc/net fallback" tcp "$client"
	check "IPv$fam server end, /proc/net fallback" tcp "$server"
	extra=""
	[ $fam = 4 ] && client_v4=$client
done

# An unconnected UDP socket: matched on its local port, whatever the remote end.
python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
open("'"$tmp"'/udp.port", "w").write(str(s.getsockname()[1])); time.sleep(120)' &
bgpids="$bgpids $!"
if wait_for test -s "$tmp/udp.port"; then
	uport=$(cat "$tmp/udp.port")
	set -- $(ss_line ua "sport = :$uport")
	if [ $# -eq 6 ]; then
		check "UDP unconnected" udp "127.0.0.1 $uport 127.0.0.1 5353 $5 $6"
	else
		fail "UDP: ss does not list port $uport with its process"
	fi
else
	fail "UDP: the python3 socket did not start"
fi

# Least privilege: as nobody, root's curl is invisible without capabilities and found with both.
set -- ${client_v4:-}
if [ $# -ne 6 ]; then
	fail "privileges: no curl connection left to test with"
elif ! command -v setpriv > /dev/null 2>&1 || ! id nobody > /dev/null 2>&1; then
	echo "SKIP privileges: needs setpriv (util-linux) and user nobody"
else
	curl_tuple="$1 $2 $3 $4 $5 $6"
	ng=$(id -g nobody)
	setpriv --reuid nobody --regid "$ng" --clear-groups --inh-caps=-all --bounding-set=-all \
		"$tmp/proc_probe" tcp $1 $2 $3 $4 > "$tmp/out.json" 2> "$tmp/err"
	if [ "$(cat "$tmp/out.json")" = null ] && grep -q '"no_process":1' "$tmp/err"; then
		pass "privileges: as nobody without capabilities, root's curl is null and counted as no_process"
	else
		fail "privileges: as nobody without capabilities, expected null/no_process"
		sed 's/^/    /' "$tmp/out.json" "$tmp/err"
	fi
	for one in sys_ptrace dac_read_search; do
		setpriv --reuid nobody --regid "$ng" --clear-groups --inh-caps=+$one --ambient-caps=+$one \
			"$tmp/proc_probe" tcp $1 $2 $3 $4 > "$tmp/out.json" 2> "$tmp/err"
		if [ "$(cat "$tmp/out.json")" = null ]; then
			pass "privileges: CAP_$(echo $one | tr a-z A-Z) alone is not enough"
		else
			fail "privileges: CAP_$one alone found the process; docs/process.md says both are needed"
		fi
	done
	check "privileges: as nobody with CAP_SYS_PTRACE + CAP_DAC_READ_SEARCH" tcp "$curl_tuple" \
		setpriv --reuid nobody --regid "$ng" --clear-groups --inh-caps=+sys_ptrace,+dac_read_search \
		--ambient-caps=+sys_ptrace,+dac_read_search
fi

if [ $failed -ne 0 ]; then
	echo "proc_live: $failed check(s) failed"
	exit 1
fi
echo "proc_live: all checks passed"
exit 0
