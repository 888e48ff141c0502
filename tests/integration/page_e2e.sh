#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# page_e2e.sh: the globe page end to end in headless Chromium (playwright-core; tests/e2e/page.test.mjs):
# WebGL, arcs = places in /flows, red only for high attention (per direction view), attention
# chips that select, signals in details, unanswered attempts counted in words and drawn only on
# request (grey), the learning banner, the phone bottom sheet, and that no other host is contacted.
# First against the mock daemon (tests/e2e/mock-daemon.mjs, whose flows follow docs/api.md): its
# mixed world (every check, including a place turning blue after its high flow ends) and its quiet
# world (low and none only: no red anywhere). Then the real daemon replays a capture: a fresh state
# (red must show), an allow-everything rule (no red), and a paced replay that the page follows live
# (tests/e2e/live.test.mjs). The real daemon must send the flow fields `attention` and `signals`
# (NG_REQUIRE_ATTENTION=0 turns the checks that need them into SKIP lines, for an older daemon).
# Screenshots go to $NG_ARTIFACTS (default $NG_BUILD/artifacts): desktop.png, phone.png (real
# daemon), mock-mixed/ and mock-quiet/ (mock).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
bin=${NG_BIN:-build/netglobe}
build=${NG_BUILD:-build}
testdata=${NG_TESTDATA:-$root/tests/data}
pcap=$testdata/pcaps/slips-test7-malicious.pcap
artifacts=${NG_ARTIFACTS:-$build/artifacts}
# The daemon sends `attention` and `signals`: the real-daemon runs require them.
require_attention=${NG_REQUIRE_ATTENTION:-1}

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
cap=
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
	# --home: the capture is from Prague (CTU); a machine whose time zone names no city gives none.
	"$bin" -r "${cap:-$pcap}" --listen "127.0.0.1:$port" --state-dir "$tmp/state-$name" --home 50.08,14.42 "$@" > "$tmp/daemon-$name.log" 2>&1 &
	pid=$!
	url=http://127.0.0.1:$port/
	# Wait for /flows, then until the replay has settled (done, and two equal reads a second apart).
	prev=
	i=0
	while [ $i -lt 60 ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "daemon ($name) exited early; its log:"
			cat "$tmp/daemon-$name.log"
			exit 1
		fi
		cur=$(curl -sf "${url}flows" 2>/dev/null | python3 -c 'import json, sys; d = json.load(sys.stdin); print(len(d["flows"]), sum(1 for f in d["flows"] if f.get("geo")))' 2>/dev/null)
		# Settled: the daemon says the replay is done, and two reads agree (a loaded machine may pause a replay).
		done=$(curl -sf "${url}api/stats" 2>/dev/null | python3 -c 'import json, sys; print((json.load(sys.stdin).get("replay") or {}).get("done"))' 2>/dev/null)
		if [ -n "$cur" ] && { { [ "$cur" = "$prev" ] && [ "$done" = True ]; } || [ $settle -eq 0 ]; }; then
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
	# The test capture (not an empty or other one) must have places: without them GeoIP is missing.
	if [ $settle -eq 1 ] && [ -z "${cap:-}" ] && [ "${prev#* }" = 0 ]; then
		echo "FAIL no flow has a location: the default GeoIP data is not installed (run make deps)"
		exit 1
	fi
}

# start_mock NAME ARGS...: run tests/e2e/mock-daemon.mjs on a free port; sets $url.
start_mock() {
	name=$1
	shift
	port=$(free_port)
	node tests/e2e/mock-daemon.mjs --web "$build/web" --port "$port" --csp "$@" > "$tmp/mock-$name.log" 2>&1 &
	pid=$!
	url=http://127.0.0.1:$port/
	i=0
	until curl -sf "${url}mock/info" > /dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 50 ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "mock daemon ($name) did not start; its log:"
			cat "$tmp/mock-$name.log"
			exit 1
		fi
		sleep 0.2
	done
	echo "mock daemon ($name) at $url"
}

# Say plainly whether the daemon at $url sends the attention fields (else page.test skips what needs them).
note_attention() {
	if curl -sf "${url}flows?limit=1" | grep -q '"attention"'; then
		echo "the daemon sends attention and signals: every check runs"
	elif [ "$require_attention" = 1 ]; then
		echo "the daemon sends no attention field, and NG_REQUIRE_ATTENTION=1: the checks that need it fail"
	else
		echo "NOTE: the daemon sends no attention field yet: page.test skips (SKIP lines) the checks that need attention or signals"
	fi
}

# use_test NAME ENV...: tests/e2e/use.test.mjs against $url (acting, groups, history, map, states, phone, contrast).
use_test() {
	name=$1
	shift
	env NG_URL="$url" NG_ARTIFACTS="$artifacts/use-$name" NG_CHROMIUM="$chromium" "$@" node tests/e2e/use.test.mjs || rc=1
}

rc=0
# 0. The mock daemon: attention and signals as docs/api.md documents them. Mixed world: every
# check, including ending a high flow and watching its place turn blue; quiet world (low and none
# only, unanswered attempts with anomalous verdicts): no red pixel in any view.
if [ -f "$build/web/vendor/three.module.js" ]; then
	start_mock mixed
	NG_URL=$url NG_EXPECT_RED=1 NG_REQUIRE_ATTENTION=1 NG_ARTIFACTS=$artifacts/mock-mixed NG_CHROMIUM=$chromium node tests/e2e/page.test.mjs || rc=1
	cleanup
	# A fresh mixed world for acting on flows (trust, groups, the time bar, a stopped stream, the phone).
	start_mock use
	use_test mock
	cleanup
	# A daemon that does not know where home is: the browser's time zone, else a prompt (never 0,0).
	start_mock home --home-unknown
	use_test home NG_EXPECT_HOME=unknown
	cleanup
	start_mock quiet --world quiet
	NG_URL=$url NG_EXPECT_RED=0 NG_REQUIRE_ATTENTION=1 NG_PHONE=0 NG_ARTIFACTS=$artifacts/mock-quiet NG_CHROMIUM=$chromium node tests/e2e/page.test.mjs || rc=1
	cleanup
else
	echo "FAIL the built page $build/web lacks vendor/three.module.js (web/node_modules missing: run make deps)"
	rc=1
fi

# 1. A fresh state dir: first contacts are high attention (anomalous, for a daemon without attention), so red must show.
start malicious
note_attention
NG_URL=$url NG_EXPECT_RED=1 NG_REQUIRE_ATTENTION=$require_attention NG_ARTIFACTS=$artifacts NG_CHROMIUM=$chromium node tests/e2e/page.test.mjs || rc=1
cleanup

# 1b. The same daemon through tests/e2e/use.test.mjs: the filter grammar and CSV, groups, trust that
# acts at once, evidence, the time bar over the history store, a readable map, contrast.
start use
use_test daemon
cleanup

# 1c. Empty states: a capture without packets, and one without GeoIP.
printf '\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000\377\377\000\000\001\000\000\000' > "$tmp/empty.pcap"
# ($cap set: another capture, and no location is expected.)
cap=$tmp/empty.pcap
start empty
use_test empty NG_EXPECT_EMPTY=traffic
cleanup
cap=$pcap
start nogeo --no-geoip
use_test nogeo NG_EXPECT_EMPTY=geoip
cleanup
cap=

# 2. An allow rule that trusts every address: nothing high, no red anywhere on the globe.
printf '0.0.0.0/0\n::/0\n' > "$tmp/allow-all.txt"
start normal --allow "$tmp/allow-all.txt"
NG_URL=$url NG_EXPECT_RED=0 NG_PHONE=0 NG_REQUIRE_ATTENTION=$require_attention NG_ARTIFACTS=$tmp/artifacts-normal NG_CHROMIUM=$chromium node tests/e2e/page.test.mjs || rc=1
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
