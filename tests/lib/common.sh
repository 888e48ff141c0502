# SPDX-License-Identifier: BSD-2-Clause
# common.sh: helpers for integration scripts (sourced). Exit 77 = skipped, with the reason as the last line.
set -u
: "${NG_BIN:=build/netglobe}"
: "${NG_BUILD:=build}"
# The test data: NG_TESTDATA, else the tests/data of the checkout the script ($0, tests/integration/NAME.sh) is in.
: "${NG_TESTDATA:=$(cd "$(dirname "$0")/.." && pwd)/data}"
PCAPS=$NG_TESTDATA/pcaps
MMDB=$NG_TESTDATA/mmdb
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ngtest.XXXXXX")
trap 'ng_cleanup' EXIT INT TERM
NG_PIDS=""

ng_cleanup() {
	for p in $NG_PIDS; do kill "$p" 2>/dev/null; done
	for p in $NG_PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}

fail() {
	echo "FAIL: $*"
	exit 1
}

skip() {
	echo "$*"
	exit 77
}

need() {
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "needs $c (installed by make deps)"
	done
}

is_root() {
	[ "$(id -u)" -eq 0 ]
}

# The test data is part of the checkout: its absence is a failure, not a reason to skip.
[ -d "$PCAPS" ] && [ -d "$MMDB" ] || fail "no test data in $NG_TESTDATA (the checkout's tests/data, or NG_TESTDATA=DIR)"

# True when the netglobe under test is built with AddressSanitizer (make asan sets NG_SANITIZED=1): its
# shadow memory and quarantine multiply the resident size, so memory caps cannot be judged there.
ng_sanitized() {
	[ "${NG_SANITIZED:-0}" = 1 ]
}

# A TCP port free on every address, IPv4 and IPv6 (a port free only on 127.0.0.1 may be taken on 0.0.0.0).
free_port() {
	python3 -c '
import socket
for _ in range(100):
    s = socket.socket()
    s.bind(("0.0.0.0", 0))
    port = s.getsockname()[1]
    try:
        t = socket.socket(socket.AF_INET6)
        t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        t.bind(("::", port))
        t.close()
    except OSError as e:
        s.close()
        if getattr(e, "errno", 0) in (97, 99):  # no IPv6 here: the IPv4 check is all there is
            print(port)
            break
        continue
    s.close()
    print(port)
    break'
}

# ng_start NAME CMD...: run CMD (the daemon, with its own --listen 127.0.0.1:$port) in the background,
# logging to $TMP/NAME.out and .err, and wait until /api/stats answers on $port (set port=$(free_port)
# first). Sets pid. Waits NG_START_TRIES tenths of a second at most (default 300).
ng_start() {
	ng_name=$1
	shift
	"$@" > "$TMP/$ng_name.out" 2> "$TMP/$ng_name.err" &
	pid=$!
	NG_PIDS="$NG_PIDS $pid"
	ng_i=0
	until curl -s -o /dev/null "http://127.0.0.1:$port/api/stats"; do
		kill -0 "$pid" 2>/dev/null || { cat "$TMP/$ng_name.err"; fail "$ng_name: the daemon exited"; }
		ng_i=$((ng_i + 1))
		[ $ng_i -lt "${NG_START_TRIES:-300}" ] || fail "$ng_name: no answer on port $port"
		sleep 0.1
	done
}
