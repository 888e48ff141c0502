#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flowlog.sh: the JSON Lines flow log round-trips. With --dump, every line of --flow-log parses and the
# set of flows equals --dump's, every field. The daemon replaying the same capture logs ended flows as
# they end and the still-active ones at SIGTERM; a logrotate-style move plus SIGHUP in between splits the
# log across the two files without losing or repeating a flow, and the union equals --dump again.
# Bad values fail at start with one clear line.
. "$(dirname "$0")/../lib/common.sh"
need python3
PCAP=$PCAPS/slips-test7-malicious.pcap

cat > "$TMP/same.py" << 'PY'
# same.py DUMP LOG...: the flows of the logs (concatenated) equal the flows of --dump, field by field.
import json, sys
def load(paths, dump):
    out = {}
    for p in paths:
        for n, line in enumerate(open(p), 1):
            if not line.endswith('\n'):
                sys.exit('%s:%d: the line does not end in a newline' % (p, n))
            o = json.loads(line)		# every line parses, or this fails
            if dump and 'summary' in o:
                continue
            if o['id'] in out:
                sys.exit('%s:%d: flow %d is there twice' % (p, n, o['id']))
            out[o['id']] = o
    return out
want = load([sys.argv[1]], True)
got = load(sys.argv[2:], False)
bad = ['flow %s missing from the log' % i for i in sorted(set(want) - set(got))]
bad += ['flow %s is not in --dump' % i for i in sorted(set(got) - set(want))]
for i in sorted(set(want) & set(got)):
    if want[i] != got[i]:
        keys = sorted(k for k in set(want[i]) | set(got[i]) if want[i].get(k) != got[i].get(k))
        bad.append('flow %d differs in %s: dump %s, log %s' % (i, keys, [want[i].get(k) for k in keys],
                                                                   [got[i].get(k) for k in keys]))
for b in bad[:20]:
    print('MISMATCH', b)
if bad:
    sys.exit(1)
print('%d flows, every field equal' % len(want))
PY

# 1. --dump and --flow-log in one run.
"$NG_BIN" -r "$PCAP" --dump --state-dir "$TMP/s1" --flow-log "$TMP/flows.jsonl" > "$TMP/dump.jsonl" 2> "$TMP/dump.err" ||
	{ cat "$TMP/dump.err"; fail "netglobe --dump --flow-log failed"; }
python3 "$TMP/same.py" "$TMP/dump.jsonl" "$TMP/flows.jsonl" || fail "--dump: the flow log differs from --dump"
# The log appends: a second run doubles it.
"$NG_BIN" -q -r "$PCAP" --dump --state-dir "$TMP/s1b" --flow-log "$TMP/flows.jsonl" > /dev/null 2>&1 || fail "second run failed"
[ "$(wc -l < "$TMP/flows.jsonl")" -eq $((2 * $(grep -c '^{"id"' "$TMP/dump.jsonl"))) ] || fail "the second run did not append"
echo "ok --dump: the flow log equals --dump"

# 2. The daemon: replay paced (about 6 s) so flows end while it runs; move the log and SIGHUP half-way.
"$NG_BIN" -q -r "$PCAP" --dump --state-dir "$TMP/s2ref" > "$TMP/dump2.jsonl" 2> /dev/null || fail "reference --dump failed"
PORT=$(free_port)
"$NG_BIN" -r "$PCAP" --speed 100 --state-dir "$TMP/s2" --listen "127.0.0.1:$PORT" --flow-log "$TMP/d.jsonl" \
	> "$TMP/daemon.out" 2> "$TMP/daemon.err" &
dpid=$!
NG_PIDS="$NG_PIDS $dpid"
python3 - "$PORT" "$dpid" "$TMP/d.jsonl" << 'PY' || { cat "$TMP/daemon.err"; fail "daemon: rotation by SIGHUP or stats failed"; }
import json, os, signal, sys, time, urllib.request
port, pid, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def stats():
    return json.load(urllib.request.urlopen('http://127.0.0.1:%d/api/stats' % port, timeout=5))
deadline, moved = time.time() + 60, False
while time.time() < deadline:
    os.kill(pid, 0)
    try:
        st = stats()
    except OSError:
        time.sleep(0.1)
        continue
    ex = st['export']
    if not moved and ex['flowlog_lines'] >= 20:
        os.rename(path, path + '.1')	# what logrotate does, then it sends SIGHUP
        os.kill(pid, signal.SIGHUP)
        moved = True
        print('moved the log after %d lines' % ex['flowlog_lines'])
    if st['replay']['done']:
        time.sleep(0.8)
        ex = stats()['export']
        lines = sum(1 for p in (path, path + '.1') if os.path.exists(p) for _ in open(p))
        print('export stats:', ex)
        if not moved or not os.path.exists(path):
            sys.exit('SIGHUP did not reopen the log')
        if ex['flowlog_lines'] != lines or ex['flowlog_dropped'] or ex['flowlog_errors']:
            sys.exit('stats say %d lines, the files hold %d' % (ex['flowlog_lines'], lines))
        sys.exit(0)
    time.sleep(0.1)
sys.exit('the replay did not finish')
PY
kill -TERM "$dpid"
wait "$dpid" || fail "the daemon exited with $? on SIGTERM"
[ -s "$TMP/d.jsonl.1" ] && [ -s "$TMP/d.jsonl" ] || fail "the log was not split by the move and SIGHUP"
python3 "$TMP/same.py" "$TMP/dump2.jsonl" "$TMP/d.jsonl.1" "$TMP/d.jsonl" || fail "daemon: the flow log differs from --dump"
echo "ok daemon: moved log + reopened log = --dump ($(wc -l < "$TMP/d.jsonl.1") + $(wc -l < "$TMP/d.jsonl") lines)"

# 3. Start-up errors: one line naming the problem and the option.
"$NG_BIN" -r "$PCAP" --dump --flow-log - > /dev/null 2> "$TMP/e1" && fail "--dump --flow-log - was accepted"
grep -q -- "--flow-log" "$TMP/e1" || { cat "$TMP/e1"; fail "no clear error for --flow-log - with --dump"; }
"$NG_BIN" -r "$PCAP" --dump --flow-log "$TMP/no/such/dir/f.jsonl" > /dev/null 2> "$TMP/e2" && fail "a missing directory was accepted"
grep -q "cannot open flow log $TMP/no/such/dir/f.jsonl" "$TMP/e2" || { cat "$TMP/e2"; fail "no clear error for a bad --flow-log path"; }
"$NG_BIN" -r "$PCAP" --dump --ipfix "2001:db8::1:4739" > /dev/null 2> "$TMP/e3" && fail "a bad --ipfix value was accepted"
grep -q "bad --ipfix value" "$TMP/e3" || { cat "$TMP/e3"; fail "no clear error for a bad --ipfix value"; }
[ "$(grep -c . "$TMP/e3")" -le 2 ] || { cat "$TMP/e3"; fail "more than one line for a bad --ipfix value"; }
echo "ok start-up errors"
