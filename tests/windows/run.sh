#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# run.sh BUILD: the Windows build's tests under Wine (make windows-test). Prepares BUILD/windows/wine-test
# (netglobe.exe, its DLLs, and a test wpcap.dll: Debian's libpcap cross-built without a capture module, since
# Wine's own wpcap.dll leaves pcap_open_offline unimplemented) and a Wine prefix under BUILD/windows, then runs
# every tests/windows/wine_*.sh like tests/run-integration.sh does (PASS/FAIL/SKIP, logs only for failures).
build=${1:-build}
win=$build/windows
export NG_BUILD=$build
export NG_BIN=$build/netglobe
export NG_TESTDATA=${NG_TESTDATA:-$(cd "$(dirname "$0")/.." && pwd)/data}
export NG_WINDIR=$(cd "$win" && pwd)/wine-test
export WINEPREFIX=$(cd "$win" && pwd)/wineprefix
export WINEDEBUG=-all
# Load the wpcap.dll beside netglobe.exe (as Npcap's would be), not Wine's builtin one.
export WINEDLLOVERRIDES="wpcap=n;mscoree,mshtml="
export NG_WINE=/usr/lib/wine/wine64

[ -x "$NG_WINE" ] || { echo "FAIL windows: $NG_WINE is missing (make windows-test installs wine64)"; exit 1; }
mkdir -p "$NG_WINDIR"
cp "$win"/netglobe.exe "$win"/*.dll "$win"/public_suffix_list.dafsa "$NG_WINDIR"/
cp "$win"/deps/test-wpcap/wpcap.dll "$NG_WINDIR"/wpcap.dll
if [ ! -f "$WINEPREFIX/system.reg" ]; then
	start=$(date +%s)
	"$NG_WINE" wineboot -i >/dev/null 2>&1
	# wineboot returns before the new prefix's first-run work (services, registry) ends: wait for it.
	/usr/lib/wine/wineserver -w 2>/dev/null || true
	echo "windows: new Wine prefix in $(($(date +%s) - start)) s"
fi

# One wineserver for all the runs (each netglobe.exe start then takes about a second, not several).
/usr/lib/wine/wineserver -p60 2>/dev/null || true

passed=0 failed=0 skipped=0
logdir=${TMPDIR:-/tmp}/netglobe-windows-logs
mkdir -p "$logdir"
for t in tests/windows/wine_*.sh; do
	name=$(basename "$t" .sh)
	start=$(date +%s)
	sh "$t" > "$logdir/$name.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		echo "PASS windows/$name (${secs}s)"
		passed=$((passed + 1))
	elif [ $rc -eq 77 ]; then
		echo "SKIP windows/$name: $(tail -n 1 "$logdir/$name.log")"
		skipped=$((skipped + 1))
	else
		echo "FAIL windows/$name (exit $rc, ${secs}s; log follows)"
		sed 's/^/    /' "$logdir/$name.log" | tail -n 60
		failed=$((failed + 1))
	fi
done
/usr/lib/wine/wineserver -k 2>/dev/null || true
echo "windows: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
