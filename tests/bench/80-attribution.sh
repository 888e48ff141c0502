#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# 80-attribution.sh: the daemon's CPU time per new connection spent on process attribution, live (root only).
# The daemon captures on one end of a veth pair in a network namespace of its own; a test host (conn_rate serve)
# listens in a second one. tests/tools/conn_rate opens and closes short TCP connections at 1,000 and 10,000 a
# second for BENCH_ATTRIBUTION_SECONDS (5) while the daemon runs with BPF attribution (the default), with --no-bpf
# (sock_diag + /proc) and with --no-process (the baseline: capture and flows without attribution). The daemon's
# CPU time is utime+stime from /proc/PID/stat, read before the load and after it has settled. Printed per
# connection, per mode: the daemon's CPU microseconds, the part above --no-process (attribution's own cost), the
# ratios, the load generator's own CPU (BPF's programs run in the connecting task's context, so their cost lands
# there, not in the daemon), and how many flows got the generator's pid. Settings: BENCH_ATTRIBUTION_RATES
# ("1000 10000"), BENCH_ATTRIBUTION_SECONDS (5), BENCH_ATTRIBUTION_RUNS (BENCH_RUNS: runs per mode and rate,
# the median is reported).
set -u
. "${BENCH_DIR:-$(dirname "$0")}/lib.sh"
sec=attribution
ng=$BENCH_BUILD/netglobe
gen=$BENCH_BUILD/tools/conn_rate
rates=${BENCH_ATTRIBUTION_RATES:-1000 10000}
secs=${BENCH_ATTRIBUTION_SECONDS:-5}
runs=${BENCH_ATTRIBUTION_RUNS:-$BENCH_RUNS}
[ -x "$ng" ] || { echo "$sec: netglobe is not built ($ng)"; exit 1; }
[ -x "$gen" ] || { echo "$sec: $gen is not built (make builds tests/tools/conn_rate.c)"; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
	bench_skip $sec "the whole section:" "needs root (network namespaces, live capture, BPF); run make bench as root"
	exit 77
fi
for t in ip python3 curl; do
	bench_have $t || { bench_skip $sec "the whole section:" "$t is missing"; exit 77; }
done
bpf=1
if [ ! -r /sys/kernel/btf/vmlinux ]; then
	bench_skip $sec "BPF mode:" "the kernel has no BTF (/sys/kernel/btf/vmlinux); only --no-bpf and --no-process run"
	bpf=0
fi

. "${BENCH_DIR:-$(dirname "$0")}/../lib/netns.sh"
A=$NSA
B=$NSB
tmp=$(mktemp -d)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2> /dev/null; done
	wait 2> /dev/null
	netns_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
netns_create || {
	echo "$sec: cannot create network namespaces and a veth pair"
	exit 1
}
# 50,000 connections in 5 s leave as many client sockets in TIME_WAIT: widen the namespace's port range, and give
# every run ports of its own on the test host, so no 5-tuple is used twice.
ip netns exec $A sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
ip netns exec $B sysctl -qw net.core.somaxconn=4096
# Two ports a run: runs x rates x 3 modes x 2 (at most 1,024).
nports=$((runs * $(echo $rates | wc -w) * 6))
[ $nports -le 1024 ] || { echo "$sec: too many runs for the test host's 1,024 ports: lower BENCH_ATTRIBUTION_RUNS"; exit 1; }
ip netns exec $B "$gen" serve 198.51.100.7 9000 $nports > "$tmp/serve.out" 2>&1 &
pids="$pids $!"
i=0
until grep -q listening "$tmp/serve.out"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "$sec: the test host did not listen: $(cat "$tmp/serve.out")"; exit 1; }
	sleep 0.1
done

hz=$(getconf CLK_TCK)
# cpu_s PID: the process's user+system CPU seconds.
cpu_s() {
	awk -v hz="$hz" '{ sub(/.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$1/stat"
}

api() {
	ip netns exec $A curl -s "http://127.0.0.1:8080$1"
}

nextport=9000
# run_one MODE RATE: one daemon, one load; appends "MODE RATE conns daemon_cpu gen_cpu attributed flows rate" to
# $tmp/runs and prints a line.
run_one() {
	mode=$1
	rate=$2
	case $mode in
	bpf) opt= ;;
	nobpf) opt=--no-bpf ;;
	*) opt=--no-process ;;
	esac
	rm -rf "$tmp/st"
	# shellcheck disable=SC2086
	ip netns exec $A "$ng" -i $VA --listen 127.0.0.1:8080 --state-dir "$tmp/st" --no-geoip --no-signals \
		--public-net 198.51.100.0/24 --max-flows 200000 $opt > /dev/null 2> "$tmp/d.err" &
	dpid=$!
	pids="$pids $dpid"
	i=0
	until [ -n "$(api /api/stats 2> /dev/null)" ]; do
		kill -0 $dpid 2> /dev/null || { echo "$sec: the daemon ($mode) exited: $(tail -n 2 "$tmp/d.err")"; exit 1; }
		i=$((i + 1))
		[ $i -lt 300 ] || { echo "$sec: no answer from the daemon ($mode)"; exit 1; }
		sleep 0.1
	done
	if [ "$mode" = bpf ] && ! grep -q 'attribution: BPF' "$tmp/d.err"; then
		echo "$sec: the daemon did not use BPF: $(grep -i 'attribution' "$tmp/d.err" | head -n 1)"
		exit 1
	fi
	sleep 1
	c0=$(cpu_s $dpid)
	ip netns exec $A "$gen" 198.51.100.7 $nextport 2 "$rate" "$secs" > "$tmp/gen.out" 2> "$tmp/gen.err" || {
		echo "$sec: the load generator failed: $(cat "$tmp/gen.err" "$tmp/gen.out")"
		exit 1
	}
	nextport=$((nextport + 2))
	# Settle: the /proc path answers a socket it cannot find after 2 s; the last flows are then published.
	sleep 3
	c1=$(cpu_s $dpid)
	api /api/stats > "$tmp/stats.json"
	api '/flows?format=csv&q=ip:198.51.100.7&limit=10000000' > "$tmp/flows.csv"
	kill $dpid
	wait $dpid 2> /dev/null
	python3 - "$tmp/gen.out" "$tmp/flows.csv" "$tmp/stats.json" "$mode" "$rate" "$c0" "$c1" >> "$tmp/runs" << 'EOF'
import csv, json, sys
g = open(sys.argv[1]).read().split()
gen = dict(zip(g[0::2], g[1::2]))
rows = list(csv.DictReader(open(sys.argv[2], newline='')))
mine = sum(1 for r in rows if r['process_pid'] == gen['pid'])
p = json.load(open(sys.argv[3])).get('process') or {}
print(sys.argv[4], sys.argv[5], gen['connections'], '%.3f' % (float(sys.argv[7]) - float(sys.argv[6])), gen['cpu_s'],
      mine, len(rows), gen['rate'], p.get('pending', 0))
EOF
	tail -n 1 "$tmp/runs" | awk -v s=$sec '{
		m = "--no-process"
		if ($1 == "bpf") m = "BPF"
		if ($1 == "nobpf") m = "--no-bpf"
		printf "%s:   run %-12s %6d/s: %6d connections (%5.0f/s achieved), daemon %6.2f s cpu = %6.1f us/conn; ", s, m,
			$2, $3, $8, $4, $4 * 1e6 / $3
		printf "%d of %d flows with the generator pid%s\n", $6, $7, ($9 > 0 ? "; " $9 " still pending" : "")
	}'
}

modes="none nobpf"
[ $bpf -eq 1 ] && modes="bpf $modes"
echo "$sec: $secs s of short TCP connections at each of $rates/s, live on a veth pair, $runs run(s) per mode" \
	"(BPF, --no-bpf, --no-process), in turn"
: > "$tmp/runs"
r=0
while [ $r -lt "$runs" ]; do
	r=$((r + 1))
	for rate in $rates; do
		for mode in $modes; do
			run_one $mode "$rate"
		done
	done
done

# Medians per mode and rate, then the ratios.
for rate in $rates; do
	for mode in $modes; do
		us=$(awk -v m=$mode -v r="$rate" '$1 == m && $2 == r { print $4 * 1e6 / $3 }' "$tmp/runs")
		gus=$(awk -v m=$mode -v r="$rate" '$1 == m && $2 == r { print $5 * 1e6 / $3 }' "$tmp/runs")
		att=$(awk -v m=$mode -v r="$rate" '$1 == m && $2 == r { print $6 / ($7 > 0 ? $7 : 1) * 100 }' "$tmp/runs")
		ach=$(awk -v m=$mode -v r="$rate" '$1 == m && $2 == r { print $8 }' "$tmp/runs")
		# shellcheck disable=SC2086
		eval "us_$mode=$(bench_median $us) gus_$mode=$(bench_median $gus) att_$mode=$(bench_median $att)" \
			"ach_$mode=$(bench_median $ach)"
	done
	# shellcheck disable=SC2154
	awk -v s=$sec -v r="$rate" -v bpf=$bpf -v ub="${us_bpf:-0}" -v up="$us_nobpf" -v u0="$us_none" \
		-v gb="${gus_bpf:-0}" -v gp="$gus_nobpf" -v g0="$gus_none" -v ab="${att_bpf:-0}" -v ap="$att_nobpf" \
		-v a0="$att_none" -v xb="${ach_bpf:-0}" -v xp="$ach_nobpf" -v x0="$ach_none" 'BEGIN {
		f = "%s: %6d/s %-13s daemon %6.1f us/conn, attribution %6.1f us/conn, generator %5.1f us/conn, " \
			"%5.1f%% of flows with their pid (%5.0f/s achieved)\n"
		if (bpf) printf f, s, r, "BPF", ub, ub - u0, gb, ab, xb
		printf f, s, r, "--no-bpf", up, up - u0, gp, ap, xp
		printf f, s, r, "--no-process", u0, 0, g0, a0, x0
		if (bpf) printf "%s: %6d/s ratios: BPF / --no-bpf %.2fx (daemon total), %.2fx (attribution only); " \
			"over --no-process: BPF %.2fx, --no-bpf %.2fx\n", s, r, ub / up, (up - u0 > 0 ? (ub - u0) / (up - u0) : 0),
			ub / u0, up / u0
		else printf "%s: %6d/s ratio over --no-process: --no-bpf %.2fx\n", s, r, up / u0
	}'
	for mode in $modes; do
		eval "bench_line $sec.r$rate.$mode.cpu_us_per_conn \$us_$mode"
		eval "bench_line $sec.r$rate.$mode.generator_cpu_us_per_conn \$gus_$mode"
		eval "bench_line $sec.r$rate.$mode.attributed_percent \$att_$mode"
		eval "bench_line $sec.r$rate.$mode.achieved_rate \$ach_$mode"
	done
	bench_line "$sec.r$rate.nobpf.ratio_over_none" "$(awk -v a="$us_nobpf" -v b="$us_none" 'BEGIN { printf "%.2f", a / b }')"
	if [ $bpf -eq 1 ]; then
		bench_line "$sec.r$rate.bpf.ratio_over_none" "$(awk -v a="$us_bpf" -v b="$us_none" 'BEGIN { printf "%.2f", a / b }')"
		bench_line "$sec.r$rate.bpf_over_nobpf" "$(awk -v a="$us_bpf" -v b="$us_nobpf" 'BEGIN { printf "%.2f", a / b }')"
		bench_line "$sec.r$rate.bpf_over_nobpf_attribution" "$(awk -v a="$us_bpf" -v b="$us_nobpf" -v c="$us_none" \
			'BEGIN { printf "%.2f", (b - c > 0 ? (a - c) / (b - c) : 0) }')"
	fi
done
exit 0
