#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# interfaces.sh: netglobe -D lists the capture interfaces exactly as tcpdump -D does (the same libpcap
# list, numbered and flagged the same way), and every interface `ip link` shows is among them; -i takes
# -D's number (root: a capture on host A's interface chosen by its number sees a flow to host B); an
# unknown name or number gives one line that points at netglobe -D and a non-zero exit.
. "$(dirname "$0")/../lib/common.sh"
need tcpdump ip python3

# -D against tcpdump -D; interfaces can come and go between the two calls, so allow one retry.
same=0
for try in 1 2; do
	"$NG_BIN" -D > "$TMP/ng.D" 2> "$TMP/ng.D.err" || { cat "$TMP/ng.D.err"; fail "netglobe -D exited non-zero"; }
	tcpdump -D > "$TMP/tcpdump.D" 2>/dev/null || fail "tcpdump -D failed"
	if cmp -s "$TMP/ng.D" "$TMP/tcpdump.D"; then
		same=1
		break
	fi
done
[ $same -eq 1 ] || { diff "$TMP/tcpdump.D" "$TMP/ng.D"; fail "netglobe -D differs from tcpdump -D"; }
[ -s "$TMP/ng.D" ] || fail "netglobe -D listed nothing"
echo "ok -D: $(wc -l < "$TMP/ng.D") interfaces, the same lines as tcpdump -D"

# Every kernel interface (ip link) is listed by -D.
ip -o link show | sed 's/^[0-9]*: \([^:@]*\).*/\1/' | sort -u > "$TMP/iplink"
sed 's/^[0-9]*\.\([^ ]*\).*/\1/' "$TMP/ng.D" | sort -u > "$TMP/ngnames"
missing=$(comm -23 "$TMP/iplink" "$TMP/ngnames")
[ -z "$missing" ] || fail "ip link shows interfaces netglobe -D does not list: $missing"
grep -q '^[0-9]*\.lo \[.*Loopback' "$TMP/ng.D" || fail "lo is not listed as Loopback"
echo "ok -D lists all $(wc -l < "$TMP/iplink") interfaces of ip link"

# An unknown name and a number past the list: one line naming it, pointing at -D, non-zero exit.
n=$(wc -l < "$TMP/ng.D")
"$NG_BIN" -i ngNoSuchIf0 --dump > "$TMP/bad.out" 2> "$TMP/bad.err" && fail "-i ngNoSuchIf0 succeeded"
[ "$(wc -l < "$TMP/bad.err")" -eq 1 ] && grep -q "ngNoSuchIf0.*netglobe -D" "$TMP/bad.err" ||
	{ cat "$TMP/bad.err"; fail "-i ngNoSuchIf0: not one line pointing at netglobe -D"; }
[ -s "$TMP/bad.out" ] && fail "-i ngNoSuchIf0 printed flows"
"$NG_BIN" -i $((n + 1)) --dump > "$TMP/bad.out" 2> "$TMP/bad.err" && fail "-i $((n + 1)) succeeded"
[ "$(wc -l < "$TMP/bad.err")" -eq 1 ] && grep -q "number $((n + 1)).*netglobe -D" "$TMP/bad.err" ||
	{ cat "$TMP/bad.err"; fail "-i $((n + 1)): not one line pointing at netglobe -D"; }
echo "ok unknown interfaces: $(cat "$TMP/bad.err")"

is_root || skip "the capture by number needs root (network namespaces)"
. "$(dirname "$0")/../lib/netns.sh"
trap 'ng_cleanup; netns_cleanup' EXIT INT TERM
netns_setup

# In host A's namespace, -D lists lo and A's end of the veth pair; capture on the latter by its number.
inA "$NG_BIN" -D > "$TMP/nsA.D" || fail "netglobe -D in the namespace failed"
num=$(sed -n "s/^\([0-9]*\)\.$VA .*/\1/p" "$TMP/nsA.D")
[ -n "$num" ] || { cat "$TMP/nsA.D"; fail "$VA is not in -D inside its namespace"; }
lonum=$(sed -n 's/^\([0-9]*\)\.lo .*/\1/p' "$TMP/nsA.D")
[ "$num" != "$lonum" ] || fail "lo and $VA share a number"
ip netns exec "$NSA" "$NG_BIN" -i "$num" --dump --no-process --public-net 198.51.100.0/24 > "$TMP/live.jsonl" 2> "$TMP/live.err" &
NG=$!
NG_PIDS="$NG_PIDS $NG"
for i in $(seq 1 50); do
	grep -q "capturing on $VA (-i $num)" "$TMP/live.err" && break
	sleep 0.1
done
grep -q "capturing on $VA (-i $num)" "$TMP/live.err" || { cat "$TMP/live.err"; fail "no 'capturing on $VA (-i $num)'"; }
sleep 0.5
inA python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); [s.sendto(b"x"*60, ("198.51.100.7", 9911)) for _ in range(3)]'
sleep 0.5
kill -TERM "$NG"
wait "$NG" || { cat "$TMP/live.err"; fail "netglobe -i $num exited non-zero"; }
python3 - "$TMP/live.jsonl" <<'PY' || fail "the capture on -i NUMBER did not see the flow"
import json, sys
flows = [json.loads(l) for l in open(sys.argv[1]) if '"id"' in l]
f = [f for f in flows if f['proto'] == 'udp' and f['remote_ip'] == '198.51.100.7' and f['remote_port'] == 9911]
assert f and f[0]['packets_sent'] == 3, flows
PY
echo "ok -i $num captured on $VA (3 UDP packets to 198.51.100.7:9911)"
