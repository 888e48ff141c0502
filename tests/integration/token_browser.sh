#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# token_browser.sh: the LAN access token in a real browser (headless Chromium; tests/e2e/token.test.mjs):
# the page takes it from #token=, keeps it in sessionStorage, sends it as a header (API, event stream,
# CSV download through a Blob), sets no cookie, and a second local server on another port receives
# no token. The daemon listens on 0.0.0.0 (a LAN listener) and is reached through 127.0.0.1.
. "$(dirname "$0")/../lib/common.sh"
need node curl python3
chromium=${NG_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || skip "chromium is missing at $chromium (run make deps)"
[ -d web/node_modules/playwright-core ] || skip "web/node_modules/playwright-core is missing (run make deps)"

port=$(free_port)
mkdir -m 700 "$TMP/state"
"$NG_BIN" -r "$PCAPS/slips-test7-malicious.pcap" --listen "0.0.0.0:$port" --state-dir "$TMP/state" \
	> "$TMP/out" 2> "$TMP/err" &
NG_PIDS="$NG_PIDS $!"
i=0
until [ -s "$TMP/state/http-token" ] && curl -s -o /dev/null "http://127.0.0.1:$port/"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$TMP/err"; fail "the daemon did not start"; }
	sleep 0.1
done
token=$(cat "$TMP/state/http-token")
grep -q "http://[^ ]*:$port/#token=$token" "$TMP/err" || { cat "$TMP/err"; fail "no #token= URL printed"; }
echo "ok the printed URL carries the token in the fragment"
NG_URL="http://127.0.0.1:$port/" NG_TOKEN=$token NG_CHROMIUM=$chromium node tests/e2e/token.test.mjs || fail "token.test.mjs"
echo "PASS token_browser"
