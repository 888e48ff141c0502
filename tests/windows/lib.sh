# SPDX-License-Identifier: BSD-2-Clause
# lib.sh: helpers for the Wine tests (sourced after tests/lib/common.sh): run netglobe.exe, Windows paths.
: "${NG_WINDIR:?run through tests/windows/run.sh}"
NG_EXE=$NG_WINDIR/netglobe.exe

# winpath FILE: the Windows name Wine gives a Unix path (drive Z: is /).
winpath() {
	printf 'Z:%s' "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" | tr / '\\'
}

# ngw ARGS...: netglobe.exe under Wine.
ngw() {
	"$NG_WINE" "$NG_EXE" "$@"
}

# norm FILE: a --dump output, one object per line with sorted keys, so both builds compare byte for byte.
norm() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    print(json.dumps(json.loads(line), sort_keys=True))' "$1"
}
