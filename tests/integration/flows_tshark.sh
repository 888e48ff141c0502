#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flows_tshark.sh: for every test capture, netglobe --dump agrees with tshark's TCP and UDP
# conversation tables (the same conversations, the same packet counts), and its summary
# counts every frame of the file.
. "$(dirname "$0")/../lib/common.sh"
need tshark python3
n=0
for f in "$PCAPS"/*.pcap "$PCAPS"/*.pcapng; do
	name=$(basename "$f")
	"$NG_BIN" -r "$f" --dump > "$TMP/$name.jsonl" 2> "$TMP/$name.err" || fail "$name: netglobe exited $? ($(cat "$TMP/$name.err"))"
	tshark -r "$f" -q -z conv,tcp -z conv,udp > "$TMP/$name.conv" 2>/dev/null || fail "$name: tshark failed"
	if ! python3 tests/lib/conv_compare.py "$TMP/$name.jsonl" "$TMP/$name.conv" > "$TMP/$name.cmp"; then
		cat "$TMP/$name.cmp"
		fail "$name: flows differ from tshark"
	fi
	grep '^note' "$TMP/$name.cmp" | sed "s/^/$name: /"
	frames=$(tshark -r "$f" -T fields -e frame.number 2>/dev/null | wc -l)
	ours=$(tail -n 1 "$TMP/$name.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["packets"])')
	[ "$frames" -eq "$ours" ] || fail "$name: summary counts $ours packets, tshark $frames frames"
	echo "ok $name: $(tail -n 1 "$TMP/$name.cmp"), $ours packets"
	n=$((n + 1))
done
[ "$n" -ge 13 ] || fail "only $n captures found in $PCAPS"
