# SPDX-License-Identifier: BSD-2-Clause
# lib.sh: helpers every tests/bench section sources: cached captures, median-of-N timing, ratios, BENCH lines.
#
# A section starts with
#	. "${BENCH_DIR:-$(dirname "$0")}/lib.sh"
# and then uses, in POSIX sh:
#	path=$(bench_capture NAME PCAPGEN-ARGS...)	generate once into tests/bench/cache, reuse after
#	bench_time CMD ARGS...				run BENCH_RUNS times (stdout to /dev/null); sets
#							BT_WALL BT_CPU BT_RSS (medians) and BT_RC, BT_ERR
#	bench_report SECTION LABEL PACKETS [REF_WALL [TARGET]]	print "SECTION: LABEL 2.10 Mpps = 0.62x ..." and
#							the machine-readable BENCH lines
#	bench_line KEY VALUE				print "BENCH KEY=VALUE" (run.sh keeps these lines)
#	bench_skip SECTION WHAT WHY			print "SECTION: skipped: WHAT WHY"
# Settings (environment): BENCH_BUILD (build directory), BENCH_RUNS (3), BENCH_CACHE (tests/bench/cache).

BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "$0")" && pwd)}
BENCH_BUILD=${BENCH_BUILD:-build}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_CACHE=${BENCH_CACHE:-$BENCH_DIR/cache}
BENCH_GEN=${BENCH_GEN:-$BENCH_BUILD/tools/pcapgen}
if [ -x /usr/bin/time ]; then
	BENCH_TIME=/usr/bin/time
else
	BENCH_TIME=
fi

# bench_line KEY VALUE: one machine-readable result (run.sh collects every "BENCH " line into the results file).
bench_line() {
	echo "BENCH $1=$2"
}

# bench_skip SECTION WHAT WHY
bench_skip() {
	echo "$1: skipped: $2 $3"
}

# bench_have CMD: true when CMD is installed.
bench_have() {
	command -v "$1" > /dev/null 2>&1
}

# bench_median V...: the middle value (the lower middle for an even count).
bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# bench_capture NAME ARGS...: path of the cached capture pcapgen makes from ARGS, NAME.HASH.pcap (its
# truth file is NAME.HASH.truth.jsonl). HASH covers the generator's version and the arguments, so a new
# generator or new arguments make a new file; older files of the same NAME are removed (so put the size
# in NAME when several sizes should stay cached). Progress goes to stderr, the path to stdout.
bench_capture() {
	bc_name=$1
	shift
	if [ ! -x "$BENCH_GEN" ]; then
		echo "bench: $BENCH_GEN is not built (run make, which builds tests/tools/pcapgen.c)" >&2
		return 1
	fi
	bc_key=$(printf '%s|%s' "$("$BENCH_GEN" --version)" "$*" | sha256sum | cut -c1-12)
	bc_base=$BENCH_CACHE/$bc_name.$bc_key
	if [ -f "$bc_base.pcap" ] && [ -f "$bc_base.truth.jsonl" ]; then
		echo "$bc_base.pcap"
		return 0
	fi
	mkdir -p "$BENCH_CACHE"
	for bc_old in "$BENCH_CACHE/$bc_name".*.pcap "$BENCH_CACHE/$bc_name".*.truth.jsonl; do
		[ -e "$bc_old" ] && rm -f "$bc_old"
	done
	echo "bench: generating $bc_name capture (pcapgen $*) into $BENCH_CACHE" >&2
	bc_t0=$(date +%s%N)
	if ! "$BENCH_GEN" "$@" -o "$bc_base.pcap.tmp" --truth "$bc_base.truth.jsonl.tmp" 2> "$bc_base.log"; then
		echo "bench: pcapgen failed: $(tail -n 1 "$bc_base.log")" >&2
		rm -f "$bc_base.pcap.tmp" "$bc_base.truth.jsonl.tmp"
		return 1
	fi
	bc_t1=$(date +%s%N)
	sed 's/^/bench: /' "$bc_base.log" >&2
	rm -f "$bc_base.log"
	mv "$bc_base.truth.jsonl.tmp" "$bc_base.truth.jsonl"
	mv "$bc_base.pcap.tmp" "$bc_base.pcap"
	echo "bench: generated $bc_name in $(awk -v a="$bc_t0" -v b="$bc_t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s," \
		"$(du -m "$bc_base.pcap" | cut -f1) MB" >&2
	echo "$bc_base.pcap"
}

# bench_time CMD ARGS...: run the command BENCH_RUNS times with stdout to /dev/null. Sets the medians
# BT_WALL (s), BT_CPU (user+system s, "-" without /usr/bin/time), BT_RSS (max resident KB, or "-"),
# BT_RC (exit status of the last run that failed, else 0) and BT_ERR (its last stderr line).
bench_time() {
	bt_dir=$(mktemp -d)
	bt_walls=
	bt_cpus=
	bt_rsss=
	BT_RC=0
	BT_ERR=
	bt_i=0
	while [ "$bt_i" -lt "$BENCH_RUNS" ]; do
		bt_i=$((bt_i + 1))
		if [ -n "$BENCH_TIME" ]; then
			"$BENCH_TIME" -f '%e %U %S %M' -o "$bt_dir/time" "$@" > /dev/null 2> "$bt_dir/err"
			bt_rc=$?
			# GNU time writes "Command exited with non-zero status N" first when the command fails.
			bt_tl=$(tail -n 1 "$bt_dir/time")
			bt_w=$(echo "$bt_tl" | awk '{ print $1 + 0 }')
			bt_m=$(echo "$bt_tl" | awk '{ print $4 + 0 }')
			bt_walls="$bt_walls $bt_w"
			bt_cpus="$bt_cpus $(echo "$bt_tl" | awk '{ print $2 + $3 }')"
			bt_rsss="$bt_rsss $bt_m"
		else
			bt_t0=$(date +%s%N)
			"$@" > /dev/null 2> "$bt_dir/err"
			bt_rc=$?
			bt_t1=$(date +%s%N)
			bt_walls="$bt_walls $(awk -v a="$bt_t0" -v b="$bt_t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
		fi
		if [ "$bt_rc" -ne 0 ]; then
			BT_RC=$bt_rc
			BT_ERR=$(grep -v '^Command exited' "$bt_dir/err" | tail -n 1)
		fi
	done
	# shellcheck disable=SC2086
	BT_WALL=$(bench_median $bt_walls)
	if [ -n "$BENCH_TIME" ]; then
		# shellcheck disable=SC2086
		BT_CPU=$(bench_median $bt_cpus)
		# shellcheck disable=SC2086
		BT_RSS=$(bench_median $bt_rsss)
	else
		BT_CPU=-
		BT_RSS=-
	fi
	rm -rf "$bt_dir"
}

# bench_report SECTION LABEL PACKETS [REF_WALL REF_CPU [TARGET [REF_NAME]]]: print the last bench_time
# result as packets per second, its ratio to a reference run REF_NAME (default tcpdump; 1.0 = as fast as
# the reference, higher is faster) by wall time and by CPU time, whether the wall ratio meets TARGET, and
# the BENCH lines SECTION.KEY.{pps,wall_s,cpu_s,rss_kb,ratio,cpu_ratio} where KEY is LABEL's first word.
bench_report() {
	br_sec=$1
	br_label=$2
	br_pkts=$3
	br_ref=${4:-}
	br_refcpu=${5:-}
	br_target=${6:-}
	br_refname=${7:-tcpdump}
	br_key=$(echo "$br_label" | awk '{ print $1 }' | tr -c 'A-Za-z0-9_\n' '_')
	br_pps=$(awk -v p="$br_pkts" -v w="$BT_WALL" 'BEGIN { printf "%.0f", (w > 0 ? p / w : 0) }')
	br_line=$(awk -v pps="$br_pps" -v w="$BT_WALL" -v c="$BT_CPU" -v r="$BT_RSS" -v l="$br_label" 'BEGIN {
		printf "%-34s %6.2f Mpps  wall %7.2f s  cpu %7s s  rss %6s MB", l, pps / 1e6, w,
			(c == "-" ? "-" : sprintf("%.2f", c)), (r == "-" ? "-" : sprintf("%.0f", r / 1024)) }')
	if [ -n "$br_ref" ]; then
		br_ratio=$(awk -v a="$br_ref" -v b="$BT_WALL" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
		br_line="$br_line  = ${br_ratio}x $br_refname"
		if [ -n "$br_refcpu" ] && [ "$br_refcpu" != "-" ] && [ "$BT_CPU" != "-" ]; then
			br_cratio=$(awk -v a="$br_refcpu" -v b="$BT_CPU" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
			br_line="$br_line (cpu ${br_cratio}x)"
		fi
		if [ -n "$br_target" ]; then
			br_verdict=$(awk -v r="$br_ratio" -v t="$br_target" 'BEGIN { print ((r + 0 >= t + 0) ? "met" : "NOT MET") }')
			br_line="$br_line (target >= ${br_target}x: $br_verdict)"
		fi
	fi
	echo "$br_sec: $br_line"
	bench_line "$br_sec.$br_key.pps" "$br_pps"
	bench_line "$br_sec.$br_key.wall_s" "$BT_WALL"
	bench_line "$br_sec.$br_key.cpu_s" "$BT_CPU"
	bench_line "$br_sec.$br_key.rss_kb" "$BT_RSS"
	if [ -n "$br_ref" ]; then
		bench_line "$br_sec.$br_key.ratio" "$br_ratio"
		[ -n "${br_cratio:-}" ] && bench_line "$br_sec.$br_key.cpu_ratio" "$br_cratio"
	fi
	br_cratio=
}
