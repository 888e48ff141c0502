#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# wine_errors.sh: bad input under Wine behaves as on Linux: a missing capture file, a file that is not a
# capture, a truncated capture and an unknown option each end with exit status 1 (2 for usage) and one
# "netglobe:" line saying what to do; a truncated capture is read up to the damage, never a crash.
# What Windows lacks is refused in one line: syslog to a local (unix:) socket.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"
printf 'this is not a capture\n' > "$TMP/text.pcap"
head -c 3000 "$PCAPS/cs-http_espn.pcapng" > "$TMP/cut.pcapng"
for case in missing text cut opt; do
	case $case in
	missing) lin="-r $TMP/none.pcap"; win="-r $(winpath "$TMP")\\none.pcap" ;;
	text) lin="-r $TMP/text.pcap"; win="-r $(winpath "$TMP/text.pcap")" ;;
	cut) lin="-r $TMP/cut.pcapng"; win="-r $(winpath "$TMP/cut.pcapng")" ;;
	opt) lin="--no-such-option"; win="--no-such-option" ;;
	esac
	# shellcheck disable=SC2086
	"$NG_BIN" $lin --dump > "$TMP/l.out" 2> "$TMP/l.err"
	lrc=$?
	# shellcheck disable=SC2086
	ngw $win --dump > "$TMP/w.out" 2> "$TMP/w.err"
	wrc=$?
	[ $wrc -eq $lrc ] || fail "$case: exit status $wrc on Windows, $lrc on Linux ($(cat "$TMP/w.err"))"
	[ $wrc -lt 128 ] || fail "$case: netglobe.exe crashed (status $wrc)"
	if [ $lrc -ne 0 ]; then
		grep -q '^netglobe: ' "$TMP/w.err" || fail "$case: no 'netglobe:' line on Windows: $(cat "$TMP/w.err")"
	fi
	# The summary's error names the file as it was given: the one field that must differ.
	python3 -c 'import json, sys
w, u, f = sys.argv[1:]
s = open(f).read().replace(json.dumps(w + "\\")[1:-1], u + "/")
open(f, "w").write(s)' "$(winpath "$TMP")" "$TMP" "$TMP/w.out"
	if ! cmp -s "$TMP/l.out" "$TMP/w.out"; then diff "$TMP/l.out" "$TMP/w.out" | head -n 4 | cut -c 1-300; cat "$TMP/l.err" "$TMP/w.err"; fail "$case: standard output differs"; fi
	printf "ok %s: status %s: %s\n" "$case" "$wrc" "$(head -n 1 "$TMP/w.err")"
done
# Windows has no local syslog datagram socket: unix: is refused (Linux starts and retries instead).
"$NG_BIN" -r "$PCAPS/cs-http_espn.pcapng" --dump --alert-syslog=unix:/nonexistent > /dev/null 2> "$TMP/l.err" ||
	fail "syslog: the Linux build refused unix:/nonexistent ($(cat "$TMP/l.err"))"
ngw -r "$(winpath "$PCAPS/cs-http_espn.pcapng")" --dump --alert-syslog=unix:/nonexistent > /dev/null 2> "$TMP/w.err"
wrc=$?
[ $wrc -eq 1 ] || fail "syslog: exit status $wrc on Windows for unix:, want 1 ($(cat "$TMP/w.err"))"
grep -q '^netglobe: .*--alert-syslog unix:/nonexistent: this system has no local syslog socket; use udp:HOST:PORT' "$TMP/w.err" ||
	fail "syslog: no one-line refusal on Windows: $(cat "$TMP/w.err")"
echo "ok syslog unix: refused: $(grep -- '--alert-syslog' "$TMP/w.err" | head -n 1)"
echo "PASS"
