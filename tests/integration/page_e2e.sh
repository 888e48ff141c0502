#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# page_e2e.sh: the globe page end to end: the real daemon replays a capture and serves the page,
# headless Chromium (playwright-core) checks WebGL, arcs = places in /flows, red for anomalous
# traffic, details on click, the phone bottom sheet and that no other host is contacted
# (tests/e2e/page.test.mjs). A second run with an allow-everything rule must show no red. A third
# opens the page during a paced replay and checks the live stream (tests/e2e/live.test.mjs).
# Screenshots go to $NG_ARTIFACTS (default $NG_BUILD/artifacts): desktop.png, phone.png.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
bin=${NG_BIN:-build/netglobe}
build=${NG_BUILD:-build}
testdata=${NG_TESTDATA:-$root/tests/data}
pcap=$testdata/pcaps/slips-test7-malicious.pcap
artifacts=${NG_ARTIFACTS:-$build/artifacts}

if [ ! -x "$bin" ]; then
	echo "no daemon binary at $bin"
	exit 1
fi
if ! "$bin" --help 2>&1 | grep -q -- '--listen'; then
	echo "FAIL: $bin --help does not list --listen (the HTTP mode)"
	exit 1
fi
if ! command -v node >/dev/null 2>&1; then
	echo "node is missing (run make deps)"
	exit 77
fi
chromium=${NG_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
	echo "chromium is missing at $chromium (run make deps)"
	exit 77
fi
if [ ! -d web/node_modules/playwright-core ]; then
	echo "web/node_modules/playwright-core is missing (run make deps)"
	exit 77
fi
if [ ! -r "$pcap" ]; then
	echo "FAIL: test capture $pcap is missing (tests/data of the checkout, or NG_TESTDATA)"
	exit 1
fi

tmp=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	pid=
}
trap 'cleanup; rm -rf "$tmp"' EXIT INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME [--no-settle] ARGS...: run the daemon on a free port with a fresh state dir; sets $url.
start() {
	name=$1
	shift
	settle=1
	if [ "${1:-}" = --no-settle ]; then
		settle=0
		shift
	fi
	port=$(free_port)
	mkdir -m 700 "$tmp/state-$name"
	"$bin" -r "$pcap" --listen "127.0.0.1:$port" --state-dir "$tmp/state-$name" "$@" > "$tmp/daemon-$name.log" 2>&1 &
	pid=$!
	url=http://127.0.0.1:$port/
	# Wait for /flows, then until the replay has settled (two equal reads a second apart).
	prev=
	i=0
	while [ $i -lt 60 ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "daemon ($name) exited early; its log:"
			cat "$tmp/daemon-$name.log"
			exit 1
		fi
		cur=$(curl -sf "${url}flows" 2>/dev/null | python3 -c 'import json, sys; d = json.load(sys.stdin); print(len(d["flows"]), sum(1 for f in d["flows"] if f.get("geo")))' 2>/dev/null)
		if [ -n "$cur" ] && { [ "$cur" = "$prev" ] || [ $settle -eq 0 ]; }; then
			prev=$cur
			break
		fi
		prev=$cur
		i=$((i + 1))
		sleep 1
	done
	if [ -z "$prev" ]; then
		echo "daemon ($name) never served /flows at $url; its log:"
		cat "$tmp/daemon-$name.log"
		exit 1
	fi
	echo "daemon ($name) at $url: flows, flows with geo = $prev"
	case $settle$prev in
	1*" 0")
		echo "no flow has a location: the default GeoIP data is not installed (run make deps)"
		exit 77
		;;
	esac
}

rc=0
# 1. A fresh state dir: first contacts are anomalous, so red must show.
start malicious
NG_URL=$url NG_EXPECT_RED=1 NG_ARTIFACTS=$artifacts NG_CHROMIUM=$chromium node tests/e2e/page.test.mjs || rc=1
cleanup

# 2. An allow rule that trusts every address: everything normal, no red anywhere on the globe.
printf '0.0.0.0/0\n::/0\n' > "$tmp/allow-all.txt"
start normal --allow "$tmp/allow-all.txt"
NG_URL=$url NG_EXPECT_RED=0 NG_PHONE=0 NG_ARTIFACTS=$tmp/artifacts-normal NG_CHROMIUM=$chromium node tests/e2e/page.test.mjs || rc=1
cleanup

# 3. Live: the page opens while the capture still replays (20 times its recorded pace, about 30 s),
# follows /events to the same end state as /flows, then sees the daemon go away.
start live --no-settle --speed 20
NG_URL=$url NG_DAEMON_PID=$pid NG_CHROMIUM=$chromium node tests/e2e/live.test.mjs || rc=1
cleanup

if [ $rc -ne 0 ]; then
	echo "page_e2e: FAILED (screenshots in $artifacts)"
	exit 1
fi
echo "page_e2e: passed (screenshots in $artifacts)"
exit 0
