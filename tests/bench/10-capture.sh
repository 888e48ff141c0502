#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# 10-capture.sh: reading a capture into flows. netglobe -r FILE --dump beside the plain libpcap read
# (tcpdump -r FILE -w /dev/null) and the flow tools of FACTS.md, on the same file; ratios to tcpdump.
# The target: netglobe within 2x of tcpdump, that is a ratio of at least 0.5.
set -u
. "${BENCH_DIR:-$(dirname "$0")}/lib.sh"
sec=capture
pcap=$BENCH_PCAP
pkts=$BENCH_PACKETS
ng=$BENCH_BUILD/netglobe

# The reference: libpcap reads every record and tcpdump writes it to /dev/null.
if ! bench_have tcpdump; then
	bench_skip $sec tcpdump "not installed (Debian package tcpdump): no reference, section skipped"
	exit 0
fi
bench_time tcpdump -n -r "$pcap" -w /dev/null
if [ "$BT_RC" -ne 0 ]; then
	echo "$sec: tcpdump failed (exit $BT_RC): $BT_ERR"
	exit 1
fi
ref=$BT_WALL
refcpu=$BT_CPU
bench_report $sec "tcpdump -r -w /dev/null" "$pkts"

# netglobe's flow dump. BENCH_NG_ARGS adds flags (for example --local-net 192.168.1.10/32).
if [ ! -x "$ng" ]; then
	echo "$sec: netglobe: not built yet ($ng)"
else
	# shellcheck disable=SC2086
	bench_time "$ng" -r "$pcap" --dump ${BENCH_NG_ARGS:-}
	if [ "$BT_RC" -ne 0 ]; then
		echo "$sec: netglobe --dump failed (exit $BT_RC): $BT_ERR"
	else
		bench_report $sec "netglobe --dump" "$pkts" "$ref" "$refcpu" 0.5
		# One more run, untimed, to check it did the work: every packet and every flow of the truth.
		# shellcheck disable=SC2086
		"$ng" -r "$pcap" --dump ${BENCH_NG_ARGS:-} 2> /dev/null | tail -n 1 | python3 -c '
import json, sys
want_p, want_f = int(sys.argv[1]), int(sys.argv[2])
try:
    s = json.loads(sys.stdin.read())["summary"]
except Exception as e:
    print("capture: netglobe --dump: no summary line at the end (%s)" % e)
    sys.exit(0)
p, f = s.get("packets"), s.get("flows")
ok = "agrees" if (p, f) == (want_p, want_f) else "DISAGREES"
print("capture: netglobe --dump saw %s packets and %s flows; pcapgen wrote %d and %d: %s" % (p, f, want_p, want_f, ok))
' "$pkts" "$BENCH_FLOWS"
	fi
fi

# Peers (FACTS.md, "Peers for benchmarks").
if bench_have softflowd; then
	# -m raises the flow table so it does not evict; no -c (it would wait forever at the end of the file).
	bench_time softflowd -r "$pcap" -n 127.0.0.1:9995 -v 9 -m 2000000 -d
	if [ "$BT_RC" -ne 0 ]; then
		echo "$sec: softflowd failed (exit $BT_RC): $BT_ERR"
	else
		bench_report $sec "softflowd (NetFlow v9 export)" "$pkts" "$ref" "$refcpu"
	fi
else
	bench_skip $sec softflowd "not installed (Debian package softflowd)"
fi
if bench_have argus; then
	bench_time argus -X -r "$pcap" -w /dev/null
	if [ "$BT_RC" -ne 0 ]; then
		echo "$sec: argus failed (exit $BT_RC): $BT_ERR"
	else
		bench_report $sec "argus -X -w /dev/null" "$pkts" "$ref" "$refcpu"
	fi
else
	bench_skip $sec argus "not installed (Debian package argus-server)"
fi
if bench_have ndpiReader; then
	bench_time ndpiReader -i "$pcap" -q
	if [ "$BT_RC" -ne 0 ]; then
		echo "$sec: ndpiReader failed (exit $BT_RC): $BT_ERR"
	else
		bench_report $sec "ndpiReader (nDPI, full DPI)" "$pkts" "$ref" "$refcpu"
	fi
else
	bench_skip $sec ndpiReader "not installed (Debian package libndpi-bin)"
fi

# tshark dissects every layer and keeps per-packet state: minutes and gigabytes on the main capture, so it
# runs on a 10x smaller one with the same mix, against tcpdump on that same file.
if bench_have tshark; then
	spk=$((pkts / 10))
	sfl=$((BENCH_FLOWS / 10))
	small=$(bench_capture "bench-small-$spk" --packets "$spk" --flows "$sfl" --ipv6-percent 20 --seed 1 \
		--snaplen "${BENCH_SNAPLEN:-512}") || exit 1
	bench_time tcpdump -n -r "$small" -w /dev/null
	sref=$BT_WALL
	srefcpu=$BT_CPU
	bench_report capture_small "tcpdump -r -w /dev/null (1/10 file)" "$spk"
	bench_time tshark -n -r "$small" -q -z conv,tcp
	if [ "$BT_RC" -ne 0 ]; then
		echo "$sec: tshark failed (exit $BT_RC): $BT_ERR"
	else
		bench_report capture_small "tshark -z conv,tcp (1/10 file)" "$spk" "$sref" "$srefcpu"
	fi
else
	bench_skip $sec tshark "not installed (Debian package tshark)"
fi
exit 0
