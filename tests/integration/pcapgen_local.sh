#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pcapgen_local.sh: a replayed capture's local host is the private address that opens connections.
# For every shared capture, tshark finds the private (RFC 1918, ULA, CGNAT, documentation) addresses
# that send a TCP SYN or a UDP datagram from a high port to one below 1024; when there are some,
# netglobe --dump must infer one of them for that IP version, else (the old rule) any address.
# Then captures made by pcapgen (one beacon from a LAN host to one public server; and that beacon
# merged into a public host's day) must infer the LAN host.
. "$(dirname "$0")/../lib/common.sh"
need tshark python3
gen=$NG_BUILD/tools/pcapgen
[ -x "$gen" ] || fail "$gen is not built (make builds every tests/tools/*.c)"

# The inferred addresses, one per line, from netglobe's log line
# "local host inferred from the capture: A (in N of M conversations, opened K), B (...)".
inferred() {
	"$NG_BIN" -r "$1" --dump --no-geoip 2>&1 > /dev/null |
		sed -n 's/.*local host inferred from the capture: //p' |
		sed 's/ (give --local-net.*//; s/ ([^)]*)//g; s/, /\n/g'
}

# Private openers per IP version from tshark: lines "4 ADDR" / "6 ADDR".
openers() {
	tshark -n -r "$1" -T fields -E separator=/t -e ip.src -e ipv6.src -e tcp.flags.syn -e tcp.flags.ack \
		-e udp.srcport -e udp.dstport 2> /dev/null | python3 -c '
import ipaddress, sys
PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "fc00::/7", "fec0::/10", "2001:db8::/32", "3fff::/20")]
seen = set()
for line in sys.stdin:
    f = (line.rstrip("\n").split("\t") + [""] * 6)[:6]
    # innermost header: the last of a comma list (tunnels)
    v4, v6 = f[0].split(",")[-1], f[1].split(",")[-1]
    src = v6 or v4
    if not src:
        continue
    syn, ack = f[2].split(",")[-1], f[3].split(",")[-1]
    sp, dp = f[4].split(",")[-1], f[5].split(",")[-1]
    opens = (syn in ("1", "True") and ack in ("0", "False")) or \
        (sp and dp and int(sp) >= 1024 and 0 < int(dp) < 1024)
    a = ipaddress.ip_address(src)
    if opens and any(a in n for n in PRIVATE if n.version == a.version):
        seen.add((a.version, str(a)))
for v, a in sorted(seen):
    print(v, a)
'
}

# is_v6 ADDR: true for an IPv6 address.
is_v6() {
	case $1 in *:*) return 0 ;; *) return 1 ;; esac
}

n=0
for f in "$PCAPS"/*.pcap "$PCAPS"/*.pcapng; do
	name=$(basename "$f")
	inferred "$f" > "$TMP/inf"
	openers "$f" > "$TMP/open"
	[ -s "$TMP/inf" ] || fail "$name: netglobe inferred no local host"
	for v in 4 6; do
		got=""
		while read -r a; do
			if [ "$v" = 6 ] && is_v6 "$a"; then got=$a; fi
			if [ "$v" = 4 ] && ! is_v6 "$a"; then got=$a; fi
		done < "$TMP/inf"
		want=$(awk -v v="$v" '$1 == v { print $2 }' "$TMP/open" | tr '\n' ' ')
		if [ -n "$want" ]; then
			[ -n "$got" ] || fail "$name: private IPv$v openers ($want) but no IPv$v local host inferred"
			case " $want" in
			*" $got "*) ;;
			*) fail "$name: inferred IPv$v $got, but the private openers are: $want" ;;
			esac
			echo "ok $name: IPv$v $got (a private opener; openers: $want)"
		elif [ -n "$got" ]; then
			echo "ok $name: IPv$v $got (no private opener: the busiest address)"
		fi
	done
	n=$((n + 1))
done
[ "$n" -ge 13 ] || fail "only $n captures found in $PCAPS"
echo "ok: $n shared captures"

# A capture whose only conversations are a LAN host's check-ins with one public server (and its
# lookups at a LAN resolver, which never opens anything): the LAN host, in IPv4 and in IPv6.
"$gen" beacon -q --remote 185.53.178.9 --local 192.168.1.10 --count 3 --name c2.example.com -o "$TMP/b4.pcap" ||
	fail "pcapgen beacon (IPv4)"
"$gen" beacon -q --remote 2a00:1450:4001::5 --local fd00::10 --count 1 --port 8443 -o "$TMP/b6.pcap" ||
	fail "pcapgen beacon (IPv6)"
for f in b4 b6; do
	got=$(inferred "$TMP/$f.pcap" | tr '\n' ' ')
	case $f in b4) want="192.168.1.10 " ;; b6) want="fd00::10 " ;; esac
	[ "$got" = "$want" ] || fail "beacon capture $f: inferred '$got', want '$want'"
	echo "ok: one-server beacon capture ($f): $got"
done
echo "PASS"
