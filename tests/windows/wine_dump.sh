#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# wine_dump.sh: netglobe.exe -r CAPTURE --dump under Wine prints exactly what the Linux build prints, on
# every capture in tests/data/pcaps: the same flows, counts, names, GeoIP and ASN fields, verdicts,
# attention and signals. Nothing is dropped before comparing: with -r no field depends on the system
# ("process" is null on both, since a file has no live sockets). The GeoIP data is the checkout's.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"
need python3
n=0
for f in "$PCAPS"/*.pcap "$PCAPS"/*.pcapng; do
	[ -f "$f" ] || continue
	name=$(basename "$f")
	"$NG_BIN" -r "$f" --dump > "$TMP/lin.json" 2> "$TMP/lin.err" || fail "$name: the Linux build failed: $(cat "$TMP/lin.err")"
	ngw -r "$(winpath "$f")" --dump > "$TMP/win.json" 2> "$TMP/win.err" ||
		fail "$name: netglobe.exe failed: $(cat "$TMP/win.err")"
	# Byte for byte first (line ends, number formatting), then field by field for a readable difference.
	cmp -s "$TMP/lin.json" "$TMP/win.json" || echo "note $name: the bytes differ ($(cmp "$TMP/lin.json" "$TMP/win.json" | head -n 1))"
	norm "$TMP/lin.json" > "$TMP/lin.norm"
	norm "$TMP/win.json" > "$TMP/win.norm"
	[ -s "$TMP/lin.norm" ] || fail "$name: the Linux build printed no flows"
	if ! cmp -s "$TMP/lin.norm" "$TMP/win.norm"; then
		diff "$TMP/lin.norm" "$TMP/win.norm" | head -n 6 | cut -c 1-400
		fail "$name: netglobe.exe --dump differs from the Linux build ($(wc -l < "$TMP/lin.norm") vs $(wc -l < "$TMP/win.norm") flows)"
	fi
	# The start-up lines name the same local host and GeoIP data.
	grep -q 'local host' "$TMP/lin.err" && { grep -q 'local host' "$TMP/win.err" || fail "$name: no local-host line on Windows"; }
	n=$((n + 1))
	echo "ok $name: $(wc -l < "$TMP/lin.norm") flows identical"
done
[ $n -ge 10 ] || fail "only $n captures compared"
echo "PASS: $n captures, identical --dump output"
