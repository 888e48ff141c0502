#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# 40-whitelist.sh: verdict lookups per second with 1,000,000 learnt addresses and a 1,000,000-entry
# blocklist (tests/tools/wl_bench), and end-to-end --dump speed with the whitelist kept in SQLite
# (--state-dir: batched writes) beside the in-memory whitelist of a plain --dump, and beside tcpdump.
set -u
. "${BENCH_DIR:-$(dirname "$0")}/lib.sh"
sec=whitelist
ng=$BENCH_BUILD/netglobe
tool=$BENCH_BUILD/tools/wl_bench
if [ -x "$tool" ]; then
	"$tool" 2>&1 | tee "$BENCH_BUILD/bench/wl_bench.txt" | sed "s/^/$sec: /"
	grep -oE '[a-z_]*per_(cpu_)?sec=[0-9.]*' "$BENCH_BUILD/bench/wl_bench.txt" | while IFS== read -r k v; do
		bench_line "$sec.$k" "$v"
	done
else
	echo "$sec: $tool is not built"
fi
[ -x "$ng" ] || { echo "$sec: netglobe is not built"; exit 1; }
bench_time tcpdump -n -r "$BENCH_PCAP" -w /dev/null
ref=$BT_WALL
refcpu=$BT_CPU
bench_time "$ng" -r "$BENCH_PCAP" --dump
[ "$BT_RC" -eq 0 ] || { echo "$sec: netglobe failed: $BT_ERR"; exit 1; }
mem=$BT_WALL
bench_report $sec "in-memory whitelist (plain --dump)" "$BENCH_PACKETS" "$ref" "$refcpu"
state=$(mktemp -d)
# A fresh store each run, so every run writes the same rows.
bench_time sh -c 'rm -rf "$1"/*; exec "$2" -r "$3" --dump --state-dir "$1"' sh "$state" "$ng" "$BENCH_PCAP"
[ "$BT_RC" -eq 0 ] || { echo "$sec: netglobe --state-dir failed: $BT_ERR"; rm -rf "$state"; exit 1; }
bench_report $sec "SQLite whitelist (--state-dir)" "$BENCH_PACKETS" "$ref" "$refcpu"
echo "$sec: SQLite store vs in-memory: $(awk -v a="$mem" -v b="$BT_WALL" 'BEGIN { printf "%.2f", a / b }')x;" \
	"$(sqlite3 "$state/netglobe.db" 'SELECT count(*) FROM seen' 2>/dev/null) rows written"
rm -rf "$state"
