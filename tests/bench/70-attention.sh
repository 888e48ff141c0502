#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# 70-attention.sh: what the attention levels and behaviour signals cost, and what they decide.
#   1. netglobe --dump on the bench capture with the signals on, against the same run with --no-signals,
#      in back-to-back pairs (alternating which goes first); the ratio is the plain time over the time
#      with signals (issue 13's target: within 10% of --dump's time, >= 0.9).
#   2. The evaluation on a real host's day (tests/integration/attention_eval.sh): the share of outbound
#      addresses at high attention, the signals that raised them, and the connection at which the
#      synthetic beacons turn high.
set -u
. "${BENCH_DIR:-$(dirname "$0")}/lib.sh"
sec=attention
ng=$BENCH_BUILD/netglobe
[ -x "$ng" ] || { echo "$sec: netglobe is not built"; exit 1; }
local="--local-net 192.168.1.10 --local-net fd00::10"

# shellcheck disable=SC2086
bench_time "$ng" -r "$BENCH_PCAP" --dump $local --no-signals
[ "$BT_RC" -eq 0 ] || { echo "$sec: netglobe --no-signals failed: $BT_ERR"; exit 1; }
plain=$BT_WALL
plaincpu=$BT_CPU
bench_report $sec "no signals" "$BENCH_PACKETS"
# shellcheck disable=SC2086
bench_time "$ng" -r "$BENCH_PCAP" --dump $local
[ "$BT_RC" -eq 0 ] || { echo "$sec: netglobe failed: $BT_ERR"; exit 1; }
bench_report $sec "signals (attention, detectors)" "$BENCH_PACKETS" "$plain" "$plaincpu" "" "no signals"

pairs=${BENCH_ATTENTION_PAIRS:-5}
ratios=
i=0
while [ "$i" -lt "$pairs" ]; do
	i=$((i + 1))
	if [ $((i % 2)) -eq 0 ]; then
		# shellcheck disable=SC2086
		BENCH_RUNS=1 bench_time "$ng" -r "$BENCH_PCAP" --dump $local
		sw=$BT_WALL
	fi
	# shellcheck disable=SC2086
	BENCH_RUNS=1 bench_time "$ng" -r "$BENCH_PCAP" --dump $local --no-signals
	pw=$BT_WALL
	if [ $((i % 2)) -eq 1 ]; then
		# shellcheck disable=SC2086
		BENCH_RUNS=1 bench_time "$ng" -r "$BENCH_PCAP" --dump $local
		sw=$BT_WALL
	fi
	ratios="$ratios $(awk -v a="$pw" -v b="$sw" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')"
done
# shellcheck disable=SC2086
ratio=$(bench_median $ratios)
verdict=$(awk -v r="$ratio" 'BEGIN { print ((r + 0 >= 0.9) ? "met" : "NOT MET") }')
echo "$sec: signals vs none, $pairs back-to-back pairs, median ratio ${ratio}x (target >= 0.9x: $verdict)"
echo "$sec:   pair ratios:$ratios"
bench_line "$sec.paired.ratio" "$ratio"

# The evaluation: its report, as the test prints it.
out=$(NG_BIN=$ng NG_BUILD=$BENCH_BUILD sh "$BENCH_DIR/../integration/attention_eval.sh" 2>&1)
rc=$?
echo "$out" | grep -v '^pcapgen' | sed "s/^/$sec: /"
share=$(echo "$out" | sed -n 's/^  high attention: [0-9]* (\([0-9.]*\)%).*/\1/p' | head -n 1)
bench_line "$sec.benign_day.high_share_percent" "${share:--}"
[ "$rc" -eq 0 ] || { echo "$sec: the evaluation missed a target (above)"; exit 1; }
