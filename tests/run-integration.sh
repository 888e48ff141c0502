#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run-integration.sh BUILD: run every tests/integration/*.sh against BUILD/netglobe.
# Each script exits 0 (pass), 77 (skipped, with its reason on stdout) or anything else (fail).
# Output is kept only for failures; set NG_TEST=name to run one script.
build=${1:-build}
export NG_BUILD=$build
export NG_BIN=$build/netglobe
# The test data: NG_TESTDATA, else this checkout's tests/data.
export NG_TESTDATA=${NG_TESTDATA:-$(cd "$(dirname "$0")" && pwd)/data}
passed=0
failed=0
skipped=0
logdir=${TMPDIR:-/tmp}/netglobe-integration-logs
mkdir -p "$logdir"
for t in tests/integration/*.sh; do
	name=$(basename "$t" .sh)
	if [ -n "${NG_TEST:-}" ] && [ "$NG_TEST" != "$name" ]; then
		continue
	fi
	start=$(date +%s)
	sh "$t" > "$logdir/$name.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		echo "PASS integration/$name (${secs}s)"
		passed=$((passed + 1))
	elif [ $rc -eq 77 ]; then
		echo "SKIP integration/$name: $(tail -n 1 "$logdir/$name.log")"
		skipped=$((skipped + 1))
	else
		echo "FAIL integration/$name (exit $rc, ${secs}s; log follows)"
		sed 's/^/    /' "$logdir/$name.log" | tail -n 60
		failed=$((failed + 1))
	fi
done
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
