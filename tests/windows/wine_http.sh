#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# wine_http.sh: netglobe.exe -r CAPTURE under Wine serves the page, /flows and the event stream to curl,
# and /flows holds the same flows as the Linux build's --dump of that capture (ids and byte counts).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"
need curl python3
PCAP=$PCAPS/cs-http_espn.pcapng
"$NG_BIN" -r "$PCAP" --dump > "$TMP/lin.json" 2>/dev/null || fail "the Linux build failed"
port=$(free_port)
mkdir -p "$TMP/state"
NG_START_TRIES=600 ng_start wine "$NG_WINE" "$NG_EXE" -r "$(winpath "$PCAP")" --listen "127.0.0.1:$port" --state-dir "$(winpath "$TMP/state")"
curl -sf "http://127.0.0.1:$port/" -o "$TMP/page.html" || fail "GET / failed"
grep -qi '<html' "$TMP/page.html" || fail "GET / is not the page"
# The replay has ended once /flows holds every flow the Linux build saw.
want=$(grep -c '^{"id":' "$TMP/lin.json")
i=0
while :; do
	curl -sf "http://127.0.0.1:$port/flows" -o "$TMP/flows.json" || fail "GET /flows failed"
	got=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["flows"]))' "$TMP/flows.json")
	[ "$got" -ge "$want" ] && break
	i=$((i + 1))
	[ $i -lt 100 ] || fail "/flows has $got flows, the capture has $want"
	sleep 0.2
done
python3 - "$TMP/lin.json" "$TMP/flows.json" <<'PY' || fail "/flows differs from the Linux --dump"
import json, sys
lin = {f["id"]: f for f in map(json.loads, open(sys.argv[1])) if "id" in f}
win = {f["id"]: f for f in json.load(open(sys.argv[2]))["flows"]}
assert set(lin) == set(win), (sorted(set(lin) ^ set(win))[:5])
for i, f in lin.items():
    for k in ("remote_ip", "remote_port", "bytes_sent", "bytes_received", "packets_sent", "packets_received",
              "remote_domain", "verdict"):
        assert f[k] == win[i][k], (i, k, f[k], win[i][k])
print("flows identical:", len(lin))
PY
# The event stream answers with text/event-stream and sends at least one event.
curl -s -N --max-time 3 -D "$TMP/ev.head" "http://127.0.0.1:$port/events" -o "$TMP/ev.body"
grep -qi '^content-type: text/event-stream' "$TMP/ev.head" || fail "/events is not an event stream: $(cat "$TMP/ev.head")"
grep -q '^data: ' "$TMP/ev.body" || grep -q '^: ' "$TMP/ev.body" || grep -q '^event: ' "$TMP/ev.body" ||
	fail "/events sent nothing in 3 s"
curl -sf "http://127.0.0.1:$port/api/stats" -o /dev/null || fail "GET /api/stats failed"
echo "PASS"
