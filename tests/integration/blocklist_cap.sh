#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# blocklist_cap.sh: a blocklist costs memory in proportion to the entries kept, and at most
# --blocklist-max of them are kept per file. A 600,000-line list with --blocklist-max 200000: one warning
# line naming the file, the cap, the ignored count and the option; the daemon's peak memory (VmHWM) grows
# by less than 128 bytes per kept entry, and its resident memory after loading (VmRSS) by less than 64
# (docs/operations.md gives the figures). Without the cap option every entry is kept (default 2,000,000).
. "$(dirname "$0")/../lib/common.sh"
need python3 curl
ng_sanitized && skip "memory per entry cannot be judged under AddressSanitizer"
PCAP=$PCAPS/ndpi-iphone.pcap
python3 - "$TMP/list.txt" <<'PY'
import random, sys
r = random.Random(7)
with open(sys.argv[1], 'w') as f:
    f.write('# a synthetic blocklist of unique public IPv4 addresses\n')
    seen = set()
    while len(seen) < 600000:
        a = '%d.%d.%d.%d' % (r.randint(11, 99), r.randint(0, 255), r.randint(0, 255), r.randint(1, 254))
        if a not in seen:
            seen.add(a)
            f.write(a + '\n')
PY

# mem NAME ARGS...: start the daemon, wait until it serves, print "HWM RSS" in kB, stop it.
mem() {
	name=$1
	shift
	port=$(free_port)
	mkdir -m 700 "$TMP/state-$name"
	"$NG_BIN" -r "$PCAP" --listen "127.0.0.1:$port" --state-dir "$TMP/state-$name" "$@" > /dev/null 2> "$TMP/$name.err" &
	p=$!
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$port/api/stats"; do
		i=$((i + 1))
		[ $i -lt 300 ] || { cat "$TMP/$name.err"; kill $p; fail "$name: the daemon did not start"; }
		sleep 0.1
	done
	sleep 1
	echo "$(awk '/VmHWM/ {print $2}' /proc/$p/status) $(awk '/VmRSS/ {print $2}' /proc/$p/status)"
	kill $p
	wait $p 2> /dev/null
}

set -- $(mem none)
hwm0=$1 rss0=$2
set -- $(mem capped --blocklist "$TMP/list.txt" --blocklist-max 200000)
hwm1=$1 rss1=$2
grep -q "blocklist $TMP/list.txt: kept the first 200000 entries and ignored 400000 more (the cap; raise --blocklist-max N)" \
	"$TMP/capped.err" || { cat "$TMP/capped.err"; fail "no line about the cap"; }
[ "$(grep -c 'the cap; raise' "$TMP/capped.err")" -eq 1 ] || fail "the cap was reported more than once"
peak=$(( (hwm1 - hwm0) * 1024 / 200000 ))
kept=$(( (rss1 - rss0) * 1024 / 200000 ))
echo "200,000 kept entries: peak +$((hwm1 - hwm0)) kB ($peak bytes each), resident +$((rss1 - rss0)) kB ($kept bytes each)"
[ "$peak" -lt 128 ] || fail "peak memory $peak bytes per kept entry (want < 128)"
[ "$kept" -lt 64 ] || fail "resident memory $kept bytes per kept entry (want < 64)"
mem full --blocklist "$TMP/list.txt" > /dev/null
grep -q "blocklist $TMP/list.txt: 600000 entries" "$TMP/full.err" || { cat "$TMP/full.err"; fail "the default cap dropped entries"; }
echo "PASS blocklist_cap"
