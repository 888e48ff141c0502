#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run.sh FUZZBUILD SECONDS SRC...: run each libFuzzer harness for SECONDS, seeded from its corpus.
set -eu
build=$1
secs=$2
shift 2
for src in "$@"; do
	name=$(basename "$src" .c)
	corpus=tests/fuzz/corpus/${name%_fuzzer}
	work=$build/corpus/$name
	mkdir -p "$work"
	[ -d "$corpus" ] && cp -R "$corpus/." "$work/" 2>/dev/null || true
	dict=""
	[ -f "tests/fuzz/${name%_fuzzer}.dict" ] && dict="-dict=tests/fuzz/${name%_fuzzer}.dict"
	echo "fuzz: $name for ${secs}s"
	"$build/$name" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=1024 $dict "$work" \
		> "$build/$name.log" 2>&1 || { tail -n 40 "$build/$name.log"; echo "fuzz: $name FAILED"; exit 1; }
	grep -E 'stat::number_of_executed_units|Done' "$build/$name.log" | head -n 2 | sed "s/^/fuzz: $name: /"
done
echo "fuzz: all harnesses ran without a crash"
