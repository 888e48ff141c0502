#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# wine_service.sh: netglobe service install|uninstall under Wine's service manager. install registers the
# service "netglobe" (read back from the registry: the quoted path of this netglobe.exe, "service run" and
# the options, automatic start, LocalSystem) and refuses a second install and a bad option; sc start runs it
# (the manager reports RUNNING, the daemon serves the capture's flows, its log goes to STATE_DIR\netglobe.log);
# sc stop goes through the daemon's own stop path (the log's last line) to STOPPED with exit code 0;
# uninstall removes it (the registry key and sc query), and a second uninstall says there is none.
# `service run` outside the manager is refused in one line.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"
need curl python3
KEY='HKLM\System\CurrentControlSet\Services\netglobe'
PCAP=$PCAPS/cs-http_espn.pcapng
STATE=$TMP/state
mkdir -p "$STATE"
# A service left behind by an earlier, interrupted run.
ngw service uninstall > /dev/null 2>&1
trap 'ngw service uninstall > /dev/null 2>&1; ng_cleanup' EXIT INT TERM

# state NAME: the service's state as sc query prints it (RUNNING, STOPPED, ...), "" when there is none.
state() {
	"$NG_WINE" sc query netglobe 2>/dev/null | sed -n 's/^ *STATE *: [0-9]* *\([A-Z_]*\).*/\1/p'
}

# wait_state STATE TENTHS WHAT: poll the service manager every 0.1 s until the service is in STATE; fail with
# WHAT (and the state it is in) after TENTHS tries.
wait_state() {
	ws_i=0
	until [ "$(state)" = "$1" ]; do
		ws_i=$((ws_i + 1))
		[ $ws_i -lt "$2" ] || fail "$3 (it is '$(state)')"
		sleep 0.1
	done
}

ngw service install --bogus > /dev/null 2> "$TMP/bogus.err"
rc=$?
[ $rc -eq 2 ] || fail "service install --bogus: exit status $rc, want 2"
grep -q "^netglobe: service install: unknown option '--bogus'" "$TMP/bogus.err" || fail "service install --bogus: $(cat "$TMP/bogus.err")"
"$NG_WINE" reg query "$KEY" > /dev/null 2>&1 && fail "service install --bogus registered a service"
echo "ok a bad option is refused at install: $(cat "$TMP/bogus.err")"

port=$(free_port)
ngw service install -r "$(winpath "$PCAP")" --listen "127.0.0.1:$port" --state-dir "$(winpath "$STATE")" \
	> "$TMP/install.out" 2> "$TMP/install.err" || fail "service install: $(cat "$TMP/install.err")"
grep -q '^netglobe: service netglobe installed' "$TMP/install.err" || fail "service install said: $(cat "$TMP/install.err")"
"$NG_WINE" reg query "$KEY" > "$TMP/reg.txt" 2>&1 || fail "no registry key $KEY after install"
python3 - "$TMP/reg.txt" "$(winpath "$NG_EXE")" "$(winpath "$PCAP")" "$port" "$(winpath "$STATE")" <<'PY' || fail "the registered service"
import sys
reg, exe, pcap, port, state = sys.argv[1:]
vals = {}
for line in open(reg, encoding="utf-8", errors="replace"):
    parts = line.strip().split(None, 2)
    if len(parts) == 3 and parts[1].startswith("REG_"):
        vals[parts[0]] = parts[2]
want = '"%s" service run -r %s --listen 127.0.0.1:%s --state-dir %s' % (exe, pcap, port, state)
assert vals.get("ImagePath") == want, (vals.get("ImagePath"), want)
assert vals.get("Start") == "0x2", vals.get("Start")          # SERVICE_AUTO_START
assert vals.get("Type") == "0x10", vals.get("Type")           # SERVICE_WIN32_OWN_PROCESS
assert vals.get("ObjectName") == "LocalSystem", vals.get("ObjectName")
print("ok registered: ImagePath", vals["ImagePath"])
PY
# (A fresh prefix's service manager may take a moment to answer sc query: ask for up to 5 s.)
wait_state STOPPED 50 "after install the service is not STOPPED"
ngw service install --no-geoip > /dev/null 2> "$TMP/again.err" && fail "a second install succeeded"
grep -q "exists already" "$TMP/again.err" || fail "second install: $(cat "$TMP/again.err")"
echo "ok a second install: $(cat "$TMP/again.err")"

ngw service run > /dev/null 2> "$TMP/run.err" && fail "service run outside the manager succeeded"
grep -q '^netglobe: service run: only the service manager starts this' "$TMP/run.err" || fail "service run: $(cat "$TMP/run.err")"
echo "ok $(cat "$TMP/run.err")"

"$NG_WINE" sc start netglobe > "$TMP/start.txt" 2>&1 || fail "sc start netglobe: $(cat "$TMP/start.txt")"
want=$("$NG_BIN" -r "$PCAP" --dump 2>/dev/null | grep -c '^{"id":')
i=0
until [ "$(curl -s "http://127.0.0.1:$port/flows" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["flows"]))' 2>/dev/null)" = "$want" ]; do
	i=$((i + 1))
	[ $i -lt 300 ] || fail "the service does not serve the capture's $want flows on port $port (state $(state))"
	sleep 0.1
done
[ "$(state)" = RUNNING ] || fail "serving, but the manager says '$(state)'"
grep -q "HTTP: open http://127.0.0.1:$port/" "$STATE/netglobe.log" || fail "no log in the state directory: $(ls "$STATE")"
echo "ok sc start: RUNNING, serving the capture's $want flows, logging to the state directory's netglobe.log"

"$NG_WINE" sc stop netglobe > "$TMP/stop.txt" 2>&1 || fail "sc stop netglobe: $(cat "$TMP/stop.txt")"
wait_state STOPPED 150 "sc stop: not STOPPED after 15 s"
"$NG_WINE" sc query netglobe | grep -q 'WIN32_EXIT_CODE *: 0 ' || fail "stopped with an error: $("$NG_WINE" sc query netglobe)"
tail -n 1 "$STATE/netglobe.log" | grep -q 'stopping: committing the whitelist' ||
	fail "the daemon did not take its stop path: $(tail -n 3 "$STATE/netglobe.log")"
curl -s -o /dev/null "http://127.0.0.1:$port/api/stats" && fail "still answering after sc stop"
echo "ok sc stop: STOPPED with exit code 0 through the daemon's stop path ($(tail -n 1 "$STATE/netglobe.log"))"

ngw service uninstall > /dev/null 2> "$TMP/un.err" || fail "service uninstall: $(cat "$TMP/un.err")"
"$NG_WINE" reg query "$KEY" > /dev/null 2>&1 && fail "the registry key is still there after uninstall"
[ -z "$(state)" ] || fail "sc query still knows netglobe after uninstall"
ngw service uninstall > /dev/null 2> "$TMP/un2.err" && fail "a second uninstall succeeded"
grep -q '^netglobe: service uninstall: no service named netglobe is installed' "$TMP/un2.err" || fail "second uninstall: $(cat "$TMP/un2.err")"
echo "ok uninstall: $(cat "$TMP/un.err"); again: $(cat "$TMP/un2.err")"
echo "PASS"
