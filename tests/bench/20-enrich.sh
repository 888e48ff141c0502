#!/bin/sh
# 20-enrich.sh: the cost of enrichment. netglobe --dump on the bench capture with GeoIP (the bundled
# DB-IP City Lite and ASN table), passive DNS and SNI/Host names, against the same run with all three
# off; the ratio is the enriched speed over the plain one (issue 3's target: under 10% slower, >= 0.9).
set -u
. "${BENCH_DIR:-$(dirname "$0")}/lib.sh"
sec=enrich
ng=$BENCH_BUILD/netglobe
[ -x "$ng" ] || { echo "$sec: netglobe is not built"; exit 1; }
local="--local-net 192.168.1.10 --local-net fd00::10"
# shellcheck disable=SC2086
bench_time "$ng" -r "$BENCH_PCAP" --dump $local --no-geoip --no-dns --no-names
[ "$BT_RC" -eq 0 ] || { echo "$sec: netglobe failed: $BT_ERR"; exit 1; }
plain=$BT_WALL
plaincpu=$BT_CPU
bench_report $sec "plain (no GeoIP, DNS, names)" "$BENCH_PACKETS"
for variant in "--no-dns --no-names:geoip" "--no-geoip --no-names:dns" "--no-geoip --no-dns:names" ":all"; do
	flags=${variant%:*}
	label=${variant#*:}
	# shellcheck disable=SC2086
	bench_time "$ng" -r "$BENCH_PCAP" --dump $local $flags
	[ "$BT_RC" -eq 0 ] || { echo "$sec: netglobe $flags failed: $BT_ERR"; exit 1; }
	if [ "$label" = all ]; then
		bench_report $sec "$label (GeoIP + DNS + names)" "$BENCH_PACKETS" "$plain" "$plaincpu" 0.9 "plain"
	else
		bench_report $sec "$label only" "$BENCH_PACKETS" "$plain" "$plaincpu" "" "plain"
	fi
done
