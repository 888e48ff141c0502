#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run.sh BUILD: the `make bench` entry. Builds nothing (make did): generates or reuses the cached benchmark
# capture, then runs every section tests/bench/NN-name.sh in order and keeps every "BENCH name=value"
# line they print in BUILD/bench/results.txt.
#
# Settings (environment):
#	BENCH_PACKETS, BENCH_FLOWS	size of the main capture (5000000, 100000)
#	BENCH_SNAPLEN			bytes kept per frame (512; 262144 keeps whole frames, a 4.4 GB file)
#	BENCH_RUNS			runs per measurement, the median is reported (3)
#	BENCH_ONLY			run only the sections whose file name contains this word
#	BENCH_CACHE			where captures are kept between runs (tests/bench/cache)
# A section gets BENCH_BUILD, BENCH_PCAP (the capture), BENCH_TRUTH (its pcapgen truth file),
# BENCH_PACKETS and BENCH_FLOWS (and NG_BUILD, and BUILD as its first argument), sources lib.sh, and exits
# 0 when it ran, 77 when a tool it needs is missing (its last line says which), anything else on failure.
set -u
BENCH_BUILD=${1:-build}
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
BENCH_PACKETS=${BENCH_PACKETS:-5000000}
BENCH_FLOWS=${BENCH_FLOWS:-100000}
BENCH_SNAPLEN=${BENCH_SNAPLEN:-512}
BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_BUILD/bench/results.txt}
NG_BUILD=$BENCH_BUILD
export BENCH_BUILD BENCH_DIR BENCH_PACKETS BENCH_FLOWS BENCH_SNAPLEN BENCH_RESULTS NG_BUILD
. "$BENCH_DIR/lib.sh"

if [ ! -x "$BENCH_GEN" ]; then
	echo "bench: $BENCH_GEN is not built (make bench builds it; or run make BUILD=$BENCH_BUILD first)"
	exit 1
fi
mkdir -p "$(dirname "$BENCH_RESULTS")"
: > "$BENCH_RESULTS"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2> /dev/null)
echo "bench: $(nproc) cores ($cpu), $(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo 2> /dev/null) GB," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg); median of $BENCH_RUNS runs"
[ -n "$BENCH_TIME" ] || echo "bench: /usr/bin/time is missing (Debian package time): wall time only, no CPU or memory"
{
	bench_line machine.cores "$(nproc)"
	bench_line machine.load1 "$(cut -d' ' -f1 /proc/loadavg)"
} | tee -a "$BENCH_RESULTS"

BENCH_PCAP=$(bench_capture "bench-$BENCH_PACKETS" --packets "$BENCH_PACKETS" --flows "$BENCH_FLOWS" --ipv6-percent 20 \
	--seed 1 --snaplen "$BENCH_SNAPLEN") || exit 1
BENCH_TRUTH=${BENCH_PCAP%.pcap}.truth.jsonl
export BENCH_PCAP BENCH_TRUTH
echo "bench: capture $BENCH_PCAP ($(du -m "$BENCH_PCAP" | cut -f1) MB, $BENCH_PACKETS packets, $BENCH_FLOWS flows)"

failed=0
for s in "$BENCH_DIR"/[0-9][0-9]-*.sh; do
	[ -f "$s" ] || continue
	case $(basename "$s") in
	*"${BENCH_ONLY:-}"*) ;;
	*) continue ;;
	esac
	echo "== $(basename "$s" .sh)"
	# Output streams as it comes; the exit status travels through a file because of the pipe.
	{
		sh "$s" "$BENCH_BUILD"
		echo $? > "$tmp/rc"
	} 2>&1 | tee "$tmp/out"
	rc=$(cat "$tmp/rc")
	grep '^BENCH ' "$tmp/out" >> "$BENCH_RESULTS"
	if [ "$rc" -eq 77 ]; then
		echo "bench: section $(basename "$s" .sh) skipped"
	elif [ "$rc" -ne 0 ]; then
		echo "bench: section $(basename "$s" .sh) failed (exit $rc)"
		failed=$((failed + 1))
	fi
done
echo "bench: results in $BENCH_RESULTS"
[ "$failed" -eq 0 ]
