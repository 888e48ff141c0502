#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# wine_interfaces.sh: -D and -i under Wine. The test wpcap.dll has no capture module, so it lists no
# interface: -D says so in one line that names Npcap, and -i by number finds none. -i by an adapter's
# friendly name resolves through GetAdaptersAddresses (Wine names adapters after the host's interfaces,
# so `ip link` is the oracle for the names) to Npcap's \Device\NPF_{GUID}; the GUID with or without
# braces, in any case, and the whole \Device name resolve to that same adapter; an unknown name gives one
# line pointing at netglobe -D. Each resolved name then reaches libpcap, which refuses live capture.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib.sh"
need ip

ngw -D > "$TMP/D.out" 2> "$TMP/D.err"
rc=$?
[ $rc -eq 1 ] || fail "-D: exit status $rc with no interface, want 1 ($(cat "$TMP/D.out" "$TMP/D.err"))"
[ -s "$TMP/D.out" ] && fail "-D printed interfaces the test wpcap.dll cannot list: $(cat "$TMP/D.out")"
[ "$(wc -l < "$TMP/D.err")" -eq 1 ] && grep -q '^netglobe: no capture interfaces found: is Npcap installed (https://npcap.com/#download)' "$TMP/D.err" ||
	fail "-D: not one line naming Npcap: $(cat "$TMP/D.err")"
echo "ok -D: $(cat "$TMP/D.err")"

ngw -i NoSuchAdapter --dump > "$TMP/bad.out" 2> "$TMP/bad.err"
rc=$?
[ $rc -eq 1 ] || fail "-i NoSuchAdapter: exit status $rc, want 1"
[ "$(wc -l < "$TMP/bad.err")" -eq 1 ] && grep -q "^netglobe: no capture interface 'NoSuchAdapter' (list them with: netglobe -D)" "$TMP/bad.err" ||
	fail "-i NoSuchAdapter: not one line pointing at netglobe -D: $(cat "$TMP/bad.err")"
echo "ok unknown name: $(cat "$TMP/bad.err")"
ngw -i 1 --dump > /dev/null 2> "$TMP/num.err" && fail "-i 1 succeeded with no interface listed"
grep -q "^netglobe: no capture interface number 1 (0 listed; see them with: netglobe -D)" "$TMP/num.err" ||
	fail "-i 1: $(cat "$TMP/num.err")"
echo "ok number: $(cat "$TMP/num.err")"

# resolved ARG: the \Device\NPF_{GUID} that -i ARG chose ("" when it was refused as unknown).
resolved() {
	ngw -i "$1" --dump > /dev/null 2> "$TMP/r.err"
	grep -q "no capture interface" "$TMP/r.err" && return 0
	grep -q "live packet capture not supported" "$TMP/r.err" ||
		fail "-i $1: resolved, but libpcap's refusal is missing: $(cat "$TMP/r.err")"
	sed -n "s/^netglobe: cannot capture on '\(.*\)': .*/\1/p" "$TMP/r.err"
}

names=$(ip -o link show | sed 's/^[0-9]*: \([^:@]*\).*/\1/')
seen=""
count=0
for name in $names; do
	dev=$(resolved "$name")
	case $dev in
	'\Device\NPF_{'*'}') ;;
	*) fail "-i $name (an adapter of ip link) resolved to '$dev', not \\Device\\NPF_{GUID}" ;;
	esac
	grep -q "^netglobe: capturing on .* (-i $name)" "$TMP/r.err" || fail "-i $name: no 'capturing on' line"
	case " $seen " in *" $dev "*) fail "two adapters resolve to $dev" ;; esac
	seen="$seen $dev"
	count=$((count + 1))
	echo "ok -i $name: $dev"
	last=$name
done
# The other spellings of one adapter (each Wine start costs about a second: one adapter is enough).
guid=${dev#'\Device\NPF_'}
bare=${guid#'{'}
bare=${bare%'}'}
upper=$(printf '%s' "$last" | tr '[:lower:]' '[:upper:]')
for alias in "$guid" "$(printf '%s' "$bare" | tr '[:upper:]' '[:lower:]')" "$dev" "$upper"; do
	[ "$(resolved "$alias")" = "$dev" ] || fail "-i $alias did not resolve to $dev as -i $last did"
done
echo "ok -i $last = $guid = $bare (any case) = $dev = $upper"
[ $count -gt 0 ] || fail "ip link listed no interface"
echo "ok $count adapters resolve by friendly name and GUID"
echo "PASS"
