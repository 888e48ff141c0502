#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# wine_state.sh: without --state-dir, netglobe.exe (an administrator under Wine) keeps its state in
# %ProgramData%\netglobe: the daemon creates that folder in the Wine prefix's ProgramData with its private
# ACL (Wine keeps it as Unix mode bits here: nothing for others), writes its databases there, and
# `netglobe history` finds them there too. Opened to everyone afterwards (mode 0777, which Wine reports as an
# Everyone ACE), the folder is refused in one line.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"
need curl python3
: "${WINEPREFIX:?run through tests/windows/run.sh}"
PD=$WINEPREFIX/drive_c/ProgramData
DIR=$PD/netglobe
[ -d "$PD" ] || fail "the Wine prefix has no ProgramData ($PD)"
rm -rf "$DIR"
trap 'ng_cleanup; rm -rf "$DIR"' EXIT INT TERM
PCAP=$PCAPS/cs-http_espn.pcapng

port=$(free_port)
NG_START_TRIES=600 ng_start wine "$NG_WINE" "$NG_EXE" -r "$(winpath "$PCAP")" --listen "127.0.0.1:$port"
[ -d "$DIR" ] || fail "no $DIR after starting without --state-dir"
for f in netglobe.db history.db; do
	[ -f "$DIR/$f" ] || fail "$f is not in %ProgramData%\\netglobe: $(ls "$DIR")"
done
mode=$(stat -c %a "$DIR")
case $mode in
*0) ;;
*) fail "%ProgramData%\\netglobe has mode $mode under Wine: its ACL lets others in" ;;
esac
printf 'ok the daemon created %%ProgramData%%\\netglobe (mode %s under Wine) and keeps %s\n' "$mode" "$(ls "$DIR" | tr '\n' ' ')"

# The whitelist learnt the capture's remotes; history without --state-dir reads the same folder.
i=0
until [ "$(curl -s "http://127.0.0.1:$port/api/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("flows_total", 0))')" -ge 39 ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "the replay did not finish"
	sleep 0.2
done
kill "$pid"
wait "$pid" 2>/dev/null
ngw history --format csv > "$TMP/hist.csv" 2> "$TMP/hist.err" || fail "history without --state-dir: $(cat "$TMP/hist.err")"
ngw history --format csv --state-dir 'C:\ProgramData\netglobe' > "$TMP/hist2.csv" 2>&1 || fail "history --state-dir C:\\ProgramData\\netglobe failed"
[ "$(wc -l < "$TMP/hist.csv")" -gt 1 ] || fail "history without --state-dir is empty: $(cat "$TMP/hist.csv" "$TMP/hist.err")"
cmp -s "$TMP/hist.csv" "$TMP/hist2.csv" || fail "history without --state-dir differs from --state-dir C:\\ProgramData\\netglobe"
printf 'ok history without --state-dir reads %%ProgramData%%\\netglobe: %s rows\n' "$(($(wc -l < "$TMP/hist.csv") - 1))"

# Opened to everyone, the default folder is refused.
chmod 0777 "$DIR"
ngw -r "$(winpath "$PCAP")" --listen "127.0.0.1:$port" > "$TMP/open.out" 2> "$TMP/open.err"
rc=$?
[ $rc -eq 1 ] || fail "a world-writable %ProgramData%\\netglobe: exit status $rc, want 1"
grep -q '^netglobe: state directory C:\\ProgramData\\netglobe is writable by .*choose a private --state-dir DIR' "$TMP/open.err" ||
	fail "a world-writable %ProgramData%\\netglobe: $(cat "$TMP/open.err")"
printf 'ok opened to everyone: %s\n' "$(grep 'state directory' "$TMP/open.err")"
echo "PASS"
