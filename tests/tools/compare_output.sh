#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# compare_output.sh OLD NEW [PCAP...]: checks that two netglobe binaries write the same bytes. For every
# capture in tests/data (and the PCAPs given), both write `--dump` (JSON Lines), and both, as daemons on
# the same capture, answer GET /flows, /flows?format=csv and /flows/{id} of a few flows; the outputs must
# be identical. Prints PASS/FAIL; for a change that must not alter output (formatters, memory layout,
# streaming), run it with the binary of the commit before (git worktree add /tmp/old HEAD~1; make there).
# Both binaries must find the same GeoIP data (they look beside themselves: keep both inside a checkout).
set -u
old=${1:?usage: compare_output.sh OLD_NETGLOBE NEW_NETGLOBE [PCAP...]}
new=${2:?usage: compare_output.sh OLD_NETGLOBE NEW_NETGLOBE [PCAP...]}
shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ngcmp.XXXXXX")
pids=
trap 'for p in $pids; do kill "$p" 2> /dev/null; done; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
bad=0
n=0

# serve BIN PCAP OUTPREFIX: run BIN as a daemon on PCAP until the replay is done, keep /flows (JSON, CSV)
# and /flows/{id} of the first, the middle and the last flow.
serve() {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	rm -rf "$tmp/state"
	"$1" -q -r "$2" --listen "127.0.0.1:$port" --state-dir "$tmp/state" > /dev/null 2> "$3.err" &
	spid=$!
	pids="$pids $spid"
	python3 - "$port" "$3" <<'PY'
import json, sys, time, urllib.request
port, out = sys.argv[1], sys.argv[2]
base = 'http://127.0.0.1:%s' % port
for i in range(3000):
    try:
        s = json.loads(urllib.request.urlopen(base + '/api/stats', timeout=60).read())
        if s['replay']['done']:
            break
    except OSError:
        pass
    time.sleep(0.05)
else:
    sys.exit('the replay did not end')
def get(path):
    return urllib.request.urlopen(base + path, timeout=120).read()
j = get('/flows')
open(out + '.flows.json', 'wb').write(j)
open(out + '.flows.csv', 'wb').write(get('/flows?format=csv'))
open(out + '.flows.limit.json', 'wb').write(get('/flows?limit=7&sort=-bytes'))
ids = [f['id'] for f in json.loads(j)['flows']]
with open(out + '.byid.json', 'wb') as w:
    for i in ids[:1] + ids[len(ids) // 2:len(ids) // 2 + 1] + ids[-1:]:
        w.write(get('/flows/%d' % i) + b'\n')
PY
	src=$?
	kill "$spid" 2> /dev/null
	wait "$spid" 2> /dev/null
	return $src
}

for p in $(find "$root/tests/data" -name '*.pcap' -o -name '*.pcapng' | sort) "$@"; do
	n=$((n + 1))
	name=$(basename "$p")
	"$old" -r "$p" --dump > "$tmp/old.dump" 2> /dev/null
	"$new" -r "$p" --dump > "$tmp/new.dump" 2> /dev/null
	if ! cmp -s "$tmp/old.dump" "$tmp/new.dump"; then
		echo "FAIL: $name: --dump differs: $(cmp "$tmp/old.dump" "$tmp/new.dump" 2>&1 | head -n 1)"
		bad=$((bad + 1))
		continue
	fi
	if ! serve "$old" "$p" "$tmp/old" || ! serve "$new" "$p" "$tmp/new"; then
		echo "FAIL: $name: a daemon did not serve its flows"
		bad=$((bad + 1))
		continue
	fi
	for k in flows.json flows.csv flows.limit.json byid.json; do
		# The answer's own time and how far the event stream got by then are the fields that may differ.
		for w in old new; do
			sed 's/"generated":"[^"]*"/"generated":""/g; s/"last_event_id":[0-9]*/"last_event_id":0/' "$tmp/$w.$k" > "$tmp/$w.$k.n" && mv "$tmp/$w.$k.n" "$tmp/$w.$k"
		done
		if ! cmp -s "$tmp/old.$k" "$tmp/new.$k"; then
			echo "FAIL: $name: $k differs: $(python3 -c '
import sys
a, b = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
i = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
print("at byte %d: old ...%r... new ...%r..." % (i, a[max(0, i - 40):i + 40], b[max(0, i - 40):i + 40]))
' "$tmp/old.$k" "$tmp/new.$k")"
			bad=$((bad + 1))
		fi
	done
	echo "same: $name ($(wc -l < "$tmp/new.dump") dump lines, $(wc -c < "$tmp/new.flows.csv") CSV bytes)"
done
if [ "$bad" -ne 0 ]; then
	echo "FAIL: $bad differences in $n captures"
	exit 1
fi
echo "PASS: $n captures, the same --dump, /flows JSON and CSV"
