#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# wine_page.sh: the globe page in headless Chromium (tests/e2e/page.test.mjs, as tests/integration/page_e2e.sh
# runs it against the Linux build) against netglobe.exe under Wine replaying the same capture with a fresh
# state: WebGL arcs at the places /flows gives, red for high attention, the legend, the flat map, the phone
# layout, no request to another host, no page error, nothing refused by the Content-Security-Policy. Before
# the browser looks, /flows must hold the Linux build's flows with the same places (so the page is judged on
# the same data). Screenshots go to $NG_ARTIFACTS/windows (default $NG_BUILD/artifacts/windows).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"
need curl python3
command -v node > /dev/null 2>&1 || skip "needs node (make deps)"
chromium=${NG_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || skip "needs chromium at $chromium (make deps)"
root=$(cd "$(dirname "$0")/../.." && pwd)
[ -d "$root/web/node_modules/playwright-core" ] || skip "needs web/node_modules/playwright-core (make deps)"
PCAP=$PCAPS/slips-test7-malicious.pcap
artifacts=${NG_ARTIFACTS:-$NG_BUILD/artifacts}/windows

"$NG_BIN" -r "$PCAP" --dump --home 50.08,14.42 > "$TMP/lin.json" 2>/dev/null || fail "the Linux build failed on $PCAP"
port=$(free_port)
mkdir -p "$TMP/state"
# --home: the capture is from Prague (CTU), as in page_e2e.sh.
NG_START_TRIES=600 ng_start wine "$NG_WINE" "$NG_EXE" -r "$(winpath "$PCAP")" --listen "127.0.0.1:$port" \
	--state-dir "$(winpath "$TMP/state")" --home 50.08,14.42
url=http://127.0.0.1:$port/
i=0
until curl -sf "${url}api/stats" | python3 -c 'import json,sys; sys.exit(0 if (json.load(sys.stdin).get("replay") or {}).get("done") else 1)'; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "the replay did not finish in 30 s"
	sleep 0.1
done
curl -sf "${url}flows" -o "$TMP/flows.json" || fail "GET /flows failed"
python3 - "$TMP/lin.json" "$TMP/flows.json" <<'PY' || fail "/flows under Wine differs from the Linux build"
import json, sys
lin = {f["id"]: f for f in map(json.loads, open(sys.argv[1])) if "id" in f}
win = {f["id"]: f for f in json.load(open(sys.argv[2]))["flows"]}
assert set(lin) == set(win), sorted(set(lin) ^ set(win))[:5]
geo = lambda f: f["geo"] and (f["geo"].get("lat"), f["geo"].get("lon"))
for i, f in lin.items():
    assert geo(f) == geo(win[i]), (i, f["geo"], win[i]["geo"])
    assert f["attention"] == win[i]["attention"], (i, f["attention"], win[i]["attention"])
placed = sum(1 for f in lin.values() if f["geo"])
assert placed > 0, "no flow has a place: GeoIP data missing"
print("ok /flows: %d flows, %d with a place, %d high, as the Linux build" %
      (len(lin), placed, sum(1 for f in lin.values() if f["attention"] == "high")))
PY
NG_URL=$url NG_EXPECT_RED=1 NG_REQUIRE_ATTENTION=1 NG_ARTIFACTS=$artifacts NG_CHROMIUM=$chromium \
	node "$root/tests/e2e/page.test.mjs" > "$TMP/page.log" 2>&1
rc=$?
cat "$TMP/page.log"
[ $rc -eq 0 ] || fail "page.test.mjs against netglobe.exe (exit $rc)"
grep -q '^PASS the page requested nothing from another host' "$TMP/page.log" || fail "page.test did not check the hosts"
echo "PASS"
