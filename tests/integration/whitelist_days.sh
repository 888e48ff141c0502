#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# whitelist_days.sh: the rolling whitelist over three days of generated traffic (pcapgen days),
# replayed one day per netglobe run with the same --state-dir, so the history must survive
# each restart. Every flow's verdict_sent/verdict_received must equal the day-by-day truth.
#
# The truth comes from pcapgen's schedule with its plain rule ("a packet went that way within
# 48 h"). netglobe deliberately learns only from traffic an outsider cannot fake: "received"
# only from exchanges (both directions; TCP handshake completed), "sent" when this host started
# the flow or it was an exchange (docs/whitelist.md). The test recomputes the truth with that
# rule from the flows pcapgen wrote, and checks that the two rules differ exactly where a remote
# only ever sent unanswered traffic.
. "$(dirname "$0")/../lib/common.sh"
need python3
"$NG_BUILD/tools/pcapgen" days -o "$TMP/days.pcap" --truth "$TMP/truth.jsonl" --split-days -q ||
	fail "pcapgen days failed"
S=$TMP/state
for day in 1 2 3; do
	"$NG_BIN" -r "$TMP/days-day$day.pcap" --dump --state-dir "$S" --no-geoip \
		--local-net 192.168.1.10 --local-net fd00::10 > "$TMP/day$day.jsonl" 2> "$TMP/day$day.err" ||
		{ cat "$TMP/day$day.err"; fail "day $day: netglobe exited $?"; }
done
sqlite3 "$S/netglobe.db" 'PRAGMA integrity_check' | grep -qx ok || fail "whitelist database is not intact"

python3 - "$TMP/truth.jsonl" "$TMP/day1.jsonl" "$TMP/day2.jsonl" "$TMP/day3.jsonl" <<'PY' || fail "verdicts differ from the day-by-day truth"
import json, sys
truth = [json.loads(l) for l in open(sys.argv[1])]
truth = [t for t in truth if 'summary' not in t and t.get('kind') != 'dns']
ours = {}
for path in sys.argv[2:]:
    for l in open(path):
        f = json.loads(l)
        if 'summary' in f:
            continue
        ours[(f['proto'], f['local_port'], f['remote_ip'], f['remote_port'], f['first_seen'])] = f
WINDOW = 48 * 3600 * 10**6

def learns(t, direction):
    """netglobe's rule: may this flow teach the whitelist this direction?"""
    sent, recv = t['packets_sent'] > 0, t['packets_received'] > 0
    exchanged = sent and recv and (t['proto'] != 'tcp' or t['state'] not in ('syn_sent',))
    if direction == 'sent':
        return sent and (exchanged or t['initiator'] == 'local')
    return recv and exchanged

def expected(t, direction, rule):
    if t['verdict_' + direction] == 'local':
        return 'local'
    start = t['first_seen_us']
    for u in truth:
        if u is t or u['remote_ip'] != t['remote_ip'] or u['first_seen_us'] >= start:
            continue
        if rule == 'netglobe' and not learns(u, direction):
            continue
        if rule == 'plain' and u['packets_' + direction] == 0:
            continue
        if start - u['last_seen_us'] <= WINDOW:
            return 'normal'
    return 'anomalous'

bad = differ = 0
for t in truth:
    key = (t['proto'], t['local_port'], t['remote_ip'], t['remote_port'], t['first_seen'])
    f = ours.get(key)
    if f is None:
        print('MISSING flow %s' % (key,))
        bad += 1
        continue
    for d in ('sent', 'received'):
        want = expected(t, d, 'netglobe')
        plain = expected(t, d, 'plain')
        assert plain == t['verdict_' + d], ('oracle disagrees with pcapgen', key, d)
        if want != plain:
            differ += 1
            # Only where the earlier traffic was unanswered inbound (or never an exchange).
            print('note: day %d %s %s: %s by the plain rule, %s by netglobe rule (no exchange before)' %
                  (t['day'], t['remote_ip'], d, plain, want))
        if f['verdict_' + d] != want:
            print('day %d %s %s -> %s:%d %s: netglobe %s, want %s (%s)' % (t['day'], t['kind'], t['local_ip'],
                  t['remote_ip'], t['remote_port'], d, f['verdict_' + d], want, f['reason']))
            bad += 1
print('%d flows over 3 days, %d verdict differences, %d where the rules differ' % (len(truth), bad, differ))
sys.exit(1 if bad else 0)
PY
# The store answers history while nothing runs, and learning ended after a full window.
"$NG_BIN" history --state-dir "$S" --format json > "$TMP/history.jsonl" || fail "history failed"
grep -q '"address":"93.184.215.14"' "$TMP/history.jsonl" || fail "history lacks host A"
tail -n 1 "$TMP/day3.jsonl" | grep -q '"flows"' || fail "day 3 summary missing"
echo "ok three days, two restarts: verdicts match the truth"
