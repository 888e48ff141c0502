#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# whitelist_crash.sh: kill -9 the daemon at random moments while it ingests, five times; after
# each kill the SQLite store must pass PRAGMA integrity_check and hold at least every row the
# daemon had reported as committed ("whitelist.stored" in /api/stats) before the kill, so
# nothing older than one batch is lost. Each restart reopens the same state directory.
. "$(dirname "$0")/../lib/common.sh"
need python3 sqlite3 curl
S=$TMP/state
for round in 1 2 3 4 5; do
	# A capture of its own per round (another seed: other remote addresses), so rows accumulate.
	"$NG_BUILD/tools/pcapgen" bench -o "$TMP/traffic.pcap" --packets 200000 --flows 20000 --duration 40s \
		--seed "$round" -q || fail "pcapgen failed"
	port=$(free_port)
	"$NG_BIN" -r "$TMP/traffic.pcap" --speed 4 --listen "127.0.0.1:$port" --state-dir "$S" --no-geoip \
		> "$TMP/run$round.log" 2>&1 &
	pid=$!
	NG_PIDS="$NG_PIDS $pid"
	# Sample the committed row count every 100 ms for a random 1.5 to 4.5 s, then kill -9.
	stored=$(python3 - "$port" "$round" <<'PY'
import json, random, sys, time, urllib.request
port, rnd = sys.argv[1], int(sys.argv[2])
random.seed(rnd * 7919)
end = time.time() + 1.5 + 3 * random.random()
best = 0
while time.time() < end:
    try:
        with urllib.request.urlopen('http://127.0.0.1:%s/api/stats' % port, timeout=1) as r:
            best = max(best, json.load(r)['whitelist']['stored'])
    except Exception:
        pass
    time.sleep(0.1)
print(best)
PY
)
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	[ -f "$S/netglobe.db" ] || fail "round $round: no database after the kill"
	check=$(sqlite3 "$S/netglobe.db" 'PRAGMA integrity_check')
	[ "$check" = ok ] || fail "round $round: integrity_check says: $check"
	rows=$(sqlite3 "$S/netglobe.db" 'SELECT count(*) FROM seen')
	[ "$rows" -ge "$stored" ] || fail "round $round: $rows rows in the database, $stored were reported committed"
	echo "ok round $round: integrity ok, $rows rows >= $stored reported committed before kill -9"
done
