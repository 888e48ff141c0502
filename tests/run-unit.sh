#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run-unit.sh BIN...: run each unit-test binary; print PASS/FAIL per binary, keep logs only for failures.
passed=0
failed=0
# The test data: NG_TESTDATA, else this checkout's tests/data.
NG_TESTDATA=${NG_TESTDATA:-$(cd "$(dirname "$0")" && pwd)/data}
export NG_TESTDATA
if [ ! -d "$NG_TESTDATA/mmdb" ]; then
	echo "unit: warning: no test data in $NG_TESTDATA (NG_TESTDATA names another copy); tests that read it will fail"
fi
logdir=${TMPDIR:-/tmp}/netglobe-unit-logs
mkdir -p "$logdir"
for t in "$@"; do
	name=$(basename "$t")
	if "$t" > "$logdir/$name.log" 2>&1; then
		echo "PASS unit/$name"
		rm -f "$logdir/$name.log"
		passed=$((passed + 1))
	else
		echo "FAIL unit/$name (log follows)"
		sed 's/^/    /' "$logdir/$name.log"
		failed=$((failed + 1))
	fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
