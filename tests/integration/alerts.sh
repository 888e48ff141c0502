#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# alerts.sh: by default an alert is a flow whose attention became high, once per remote and direction per
# window, never an unanswered inbound attempt, and it carries the flow's signals (part 5). With
# --alert-on anomalous (the first version's rule, parts 1-4): --on-alert gets exactly one call per new
# anomalous or blocklisted remote and direction, computed
# independently from the --dump flows (the rules of docs/alerts.md), each with the documented JSON on stdin and
# its id in the environment; a blocklisted remote with several flows is one alert per direction; a command that
# hangs is killed at --alert-timeout and the dump still ends promptly; the daemon appends the same alerts to
# state_dir/alerts.jsonl, streams them as `alert` events (byte for byte the same JSON) and counts them in
# /api/stats.
. "$(dirname "$0")/../lib/common.sh"
need python3 curl
PCAP=$PCAPS/cs-ek_to_cryptowall4.pcapng

cat > "$TMP/record.sh" <<'EOF'
# Append the alert (stdin) as one line, after the id the environment gave, and the argument count.
line=$(cat)
printf '%s\t%s\t%s\n' "${NETGLOBE_ALERT_ID:-}" "$#" "$line" >> "$CALLS"
EOF

# The oracle and the checks, shared by every part: alerts expected from the dump's flows.
cat > "$TMP/check.py" <<'PY'
import datetime, json, re, sys

RFC3339 = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$')
KEYS = {'id': int, 'time': str, 'flow_id': int, 'direction': str, 'verdict': str, 'reason': str,
        'remote_ip': str, 'remote_port': int, 'remote_domain': (str, type(None)),
        'remote_domain_source': (str, type(None)), 'proto': str, 'local_ip': str, 'local_port': int,
        'initiator': str, 'process': (dict, type(None)), 'geo': (dict, type(None)),
        'blocklist': (dict, type(None)), 'learning': bool, 'repeats': int}
GEO = ('country', 'country_name', 'region', 'city', 'lat', 'lon', 'asn', 'as_org')


def flows(path):
    out = {}
    summary = None
    for line in open(path):
        o = json.loads(line)
        if 'summary' in o:
            summary = o['summary']
        else:
            out[o['id']] = o
    return out, summary


def expected(fl):
    """The alert keys (remote, direction, verdict) the rules of docs/alerts.md give for these flows."""
    exp = set()
    for f in fl.values():
        exchanged = (f['packets_sent'] > 0 and f['packets_received'] > 0 and
                     (f['proto'] != 'tcp' or f['state'] != 'syn_sent'))
        for d in ('sent', 'received'):
            v = f['verdict_' + d]
            if v not in ('anomalous', 'blocklisted') or f['packets_' + d] == 0:
                continue	# a good verdict, or a direction that carried nothing
            if v == 'anomalous' and not exchanged and not (d == 'sent' and f['initiator'] == 'local'):
                continue	# unanswered inbound traffic (scans, spoofing) alerts only when blocklisted
            exp.add((f['remote_ip'], d, v))
    return exp


def check_alert(a, fl, learning):
    for k, t in KEYS.items():
        assert k in a, 'alert %s lacks %s' % (a.get('id'), k)
        assert isinstance(a[k], t) and not (t is int and isinstance(a[k], bool)), (k, a[k])
    assert RFC3339.match(a['time']), a['time']
    assert a['direction'] in ('sent', 'received') and a['verdict'] in ('anomalous', 'blocklisted'), a
    assert a['initiator'] in ('local', 'remote') and a['reason'], a
    f = fl[a['flow_id']]
    for k in ('remote_ip', 'remote_port', 'local_ip', 'local_port', 'proto', 'initiator'):
        assert a[k] == f[k], (k, a[k], f[k])
    assert a['verdict'] == f['verdict_' + a['direction']], (a, f)
    assert f['first_seen'] <= a['time'] <= f['last_seen'], (a['time'], f['first_seen'], f['last_seen'])
    assert a['learning'] is learning, a
    assert a['repeats'] == 0, a
    if a['geo'] is not None:
        assert sorted(a['geo']) == sorted(GEO), a['geo']
    if a['verdict'] == 'blocklisted':
        assert a['blocklist'] and a['blocklist']['list'] == 'block.txt', a
        assert a['remote_ip'] in a['reason'], a
    else:
        assert a['blocklist'] is None, a


def main(mode, dump, calls, learning):
    fl, summary = flows(dump)
    first, last = summary['first_packet'], summary['last_packet']
    # The oracle ignores the one-hour repeat period: the capture must be shorter.
    span = datetime.datetime.fromisoformat(last[:-1]) - datetime.datetime.fromisoformat(first[:-1])
    assert span < datetime.timedelta(hours=1), 'capture spans %s' % span
    exp = expected(fl)
    got = []
    for line in open(calls):
        if mode == 'calls':
            env_id, argc, text = line.rstrip('\n').split('\t', 2)
            a = json.loads(text)
            assert env_id == str(a['id']), 'NETGLOBE_ALERT_ID %s for alert %d' % (env_id, a['id'])
            assert argc == '0', 'the command got %s arguments' % argc
        else:
            a = json.loads(line)
        check_alert(a, fl, learning == 'true')
        got.append(a)
    keys = [(a['remote_ip'], a['direction'], a['verdict']) for a in got]
    dup = sorted(k for k in set(keys) if keys.count(k) > 1)
    assert not dup, 'repeated alerts: %s' % dup
    assert set(keys) == exp, 'missing %s, extra %s' % (sorted(exp - set(keys)), sorted(set(keys) - exp))
    assert sorted(a['id'] for a in got) == list(range(1, len(got) + 1)), [a['id'] for a in got]
    print('%s: %d alerts, as expected from %d flows (%s .. %s)' % (mode, len(got), len(fl), first, last))


if __name__ == '__main__':
    try:
        main(*sys.argv[1:])
    except AssertionError as e:
        print('FAIL:', e)
        sys.exit(1)
PY

# 1. --dump --on-alert: one call per new remote and direction, the documented JSON on stdin.
export CALLS="$TMP/calls.txt"
: > "$CALLS"
"$NG_BIN" -r "$PCAP" --dump --alert-on anomalous --on-alert "sh $TMP/record.sh" > "$TMP/dump.jsonl" 2> "$TMP/dump.err" ||
	{ cat "$TMP/dump.err"; fail "--dump --on-alert failed"; }
[ -s "$CALLS" ] || { cat "$TMP/dump.err"; fail "the --on-alert command was never called"; }
python3 "$TMP/check.py" calls "$TMP/dump.jsonl" "$CALLS" true || fail "--on-alert calls differ from the oracle"
[ "$(wc -l < "$CALLS")" -ge 4 ] || fail "the test capture should give several alerts"
# A capture with unanswered inbound traffic from a new remote (which must not alert), UDP and TCP.
: > "$CALLS"
XDG_STATE_HOME="$TMP/xdg" HOME="$TMP/home" "$NG_BIN" -r "$PCAPS/ndpi-KakaoTalk_chat.pcap" --dump \
	--alert-on anomalous --on-alert "sh $TMP/record.sh" > "$TMP/dump-kt.jsonl" 2> "$TMP/dump-kt.err" ||
	{ cat "$TMP/dump-kt.err"; fail "--dump --on-alert failed on the second capture"; }
python3 "$TMP/check.py" calls "$TMP/dump-kt.jsonl" "$CALLS" true || fail "--on-alert calls differ from the oracle (2)"
# Without --state-dir the dump writes nothing anywhere: not even the default state directory appears.
[ ! -e "$TMP/xdg" ] && [ ! -e "$TMP/home" ] || fail "a --dump without --state-dir wrote a state directory"

# 2. A blocklisted remote with four flows: one alert per direction, marked with its list.
remote=45.32.238.202
echo "$remote" > "$TMP/block.txt"
: > "$CALLS"
"$NG_BIN" -r "$PCAP" --dump --alert-on anomalous --blocklist "$TMP/block.txt" --on-alert "sh $TMP/record.sh" \
	> "$TMP/dump-bl.jsonl" 2> "$TMP/dump-bl.err" || { cat "$TMP/dump-bl.err"; fail "--dump --blocklist failed"; }
[ "$(grep -c "\"remote_ip\":\"$remote\"" "$TMP/dump-bl.jsonl")" -ge 3 ] || fail "expected several flows to $remote"
python3 "$TMP/check.py" calls "$TMP/dump-bl.jsonl" "$CALLS" true || fail "blocklisted alerts differ from the oracle"
[ "$(grep -c "\"verdict\":\"blocklisted\"" "$CALLS")" -eq 2 ] || fail "expected exactly 2 blocklisted alerts"

# 3. A command that hangs is killed at --alert-timeout; the dump still ends promptly, leaving nothing behind.
marker="600.$$"
start=$(date +%s)
"$NG_BIN" -r "$PCAP" --dump --alert-on anomalous --on-alert "sleep $marker" --alert-timeout 1s > "$TMP/dump-hang.jsonl" \
	2> "$TMP/dump-hang.err" || { cat "$TMP/dump-hang.err"; fail "--dump with a hanging command failed"; }
secs=$(($(date +%s) - start))
echo "hanging commands: the dump took ${secs}s"
[ "$secs" -le 20 ] || fail "the dump took ${secs}s with a hanging --on-alert command"
n=$(grep -c "still running after 1 s: terminated" "$TMP/dump-hang.err")
[ "$n" -ge 1 ] || { cat "$TMP/dump-hang.err"; fail "no command was reported killed"; }
if pgrep -f "sleep $marker" > /dev/null; then
	pkill -f "sleep $marker"
	fail "a hanging --on-alert command outlived the daemon"
fi
cmp -s "$TMP/dump.jsonl" "$TMP/dump-hang.jsonl" || fail "the command changed the dump output"

# 4. The daemon: alerts.jsonl in the state dir, the same JSON as SSE `alert` events, counts in /api/stats.
"$NG_BIN" --help 2>&1 | grep -q -- '--listen' || fail "$NG_BIN --help does not list --listen (the HTTP mode)"
PORT=$(free_port)
# The stream client starts first and retries until the daemon answers, so it sees the replay from its start;
# the daemon starts only once the client runs (on a loaded machine Python alone can take a second to start).
python3 - "$PORT" "$TMP/sse.txt" > "$TMP/sse.log" 2>&1 <<'PY' &
import socket, sys, time
port, out = int(sys.argv[1]), sys.argv[2]
open(out + '.ready', 'w').close()
end = time.time() + 60
while True:
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=2)
        break
    except OSError:
        if time.time() > end:
            sys.exit(1)
        time.sleep(0.02)
s.sendall(b'GET /events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: text/event-stream\r\n\r\n' % port)
s.settimeout(1)
data = b''
while time.time() < end:
    try:
        d = s.recv(65536)
        if not d:
            break
        data += d
        open(out, 'wb').write(data)
    except socket.timeout:
        pass
PY
client=$!
i=0
until [ -f "$TMP/sse.txt.ready" ]; do
	i=$((i + 1))
	[ $i -le 300 ] || fail "the stream client did not start"
	sleep 0.05
done
: > "$CALLS"
"$NG_BIN" -r "$PCAP" --speed 20 --listen "127.0.0.1:$PORT" --state-dir "$TMP/state" --alert-on anomalous --on-alert "sh $TMP/record.sh" \
	> "$TMP/daemon.out" 2> "$TMP/daemon.err" &
daemon=$!
NG_PIDS="$NG_PIDS $daemon $client"
python3 - "$PORT" "$daemon" "$TMP/stats.json" <<'PY' || { cat "$TMP/daemon.err"; fail "the daemon did not finish the replay"; }
import json, os, sys, time, urllib.request
port, pid, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
end = time.time() + 90
while time.time() < end:
    os.kill(pid, 0)
    try:
        st = json.load(urllib.request.urlopen('http://127.0.0.1:%d/api/stats' % port, timeout=5))
        if (st.get('replay') or {}).get('done'):
            time.sleep(1.0)	# a tick or two more: the last events and commands
            st = json.load(urllib.request.urlopen('http://127.0.0.1:%d/api/stats' % port, timeout=5))
            json.dump(st, open(out, 'w'))
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(1)
PY
kill "$daemon"
wait "$daemon" || fail "the daemon did not exit 0 on SIGTERM"
kill "$client" 2>/dev/null
wait "$client" 2>/dev/null
[ -s "$TMP/state/alerts.jsonl" ] || fail "no alerts.jsonl in the state dir"
[ "$(stat -c %a "$TMP/state/alerts.jsonl")" = 600 ] || fail "alerts.jsonl is not mode 0600"
# The daemon's flows are the dump's (a state dir that was empty judges like --dump).
python3 "$TMP/check.py" file "$TMP/dump.jsonl" "$TMP/state/alerts.jsonl" true || fail "alerts.jsonl differs from the oracle"
python3 "$TMP/check.py" calls "$TMP/dump.jsonl" "$CALLS" true || fail "the daemon's --on-alert calls differ"
python3 - "$TMP/state/alerts.jsonl" "$TMP/sse.txt" "$TMP/stats.json" "$TMP/dump.jsonl" <<'PY' || fail "SSE alert events or stats differ"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
byid = {json.loads(l)['id']: l for l in lines}
raw = open(sys.argv[2], 'rb').read().decode('utf-8', 'replace')
# The stream is chunked: only SSE field lines are read (chunk-size lines are ignored).
events = []
for block in raw.replace('\r\n', '\n').split('\n\n'):
    ev = {}
    for l in block.split('\n'):
        k, _, v = l.partition(': ')
        if k in ('event', 'data', 'id'):
            ev[k] = v
    if ev.get('event') == 'alert':
        events.append(ev)
assert events, 'no alert event on the stream'
for ev in events:
    a = json.loads(ev['data'])
    assert byid.get(a['id']) == ev['data'], 'SSE alert %d is not the alerts.jsonl line' % a['id']
# Every alert from half a second of wall time (10 s of packet time) into the replay was streamed.
summary = [json.loads(l) for l in open(sys.argv[4]) if l.startswith('{"summary"')][0]['summary']
first = summary['first_packet']
import datetime
t0 = datetime.datetime.fromisoformat(first.replace('Z', '+00:00'))
late = [i for i, l in byid.items()
        if datetime.datetime.fromisoformat(json.loads(l)['time'].replace('Z', '+00:00')) - t0 > datetime.timedelta(seconds=10)]
seen = set(json.loads(ev['data'])['id'] for ev in events)
assert late and set(late) <= seen, 'alerts %s not streamed (streamed %s)' % (sorted(set(late) - seen), sorted(seen))
st = json.load(open(sys.argv[3]))['alerts']
assert isinstance(st, dict), st
assert st['raised'] == len(lines), (st, len(lines))
assert st['commands_run'] == len(lines) and st['command_failures'] == 0 and st['commands_killed'] == 0, st
for k in ('raised', 'suppressed', 'repeats', 'commands_run', 'commands_killed', 'command_failures'):
    assert isinstance(st[k], int), (k, st)
print('daemon: %d alerts in alerts.jsonl, %d streamed as SSE events (all after the first half second)' % (len(lines), len(events)))
PY

# 5. By attention (the default): one alert per remote and direction among the flows that are high, none for
# a flow that is not (an unanswered inbound attempt, a known service's new address), each carrying the
# flow's attention and signals. Captures with fewer high flows than the global cap of 100 alerts a minute.
for cap in "$PCAP" "$PCAPS/ndpi-KakaoTalk_chat.pcap" "$PCAPS/cs-http_espn.pcapng"; do
	: > "$CALLS"
	"$NG_BIN" -r "$cap" --dump --on-alert "sh $TMP/record.sh" > "$TMP/dump-at.jsonl" 2> "$TMP/dump-at.err" ||
		{ cat "$TMP/dump-at.err"; fail "--dump --on-alert failed on $cap"; }
	python3 - "$TMP/dump-at.jsonl" "$CALLS" "$(basename "$cap")" <<'PY' || fail "attention alerts differ from the oracle on $cap"
import json, sys
flows = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    if 'id' in o:
        flows[o['id']] = o
exp = set()
for f in flows.values():
    if f['attention'] == 'high':
        d = 'sent' if f['initiator'] == 'local' else 'received'
        if f['packets_' + d] == 0:
            d = 'received' if d == 'sent' else 'sent'
        exp.add((f['remote_ip'], d))
got = []
for line in open(sys.argv[2]):
    env_id, argc, text = line.rstrip('\n').split('\t', 2)
    a = json.loads(text)
    f = flows[a['flow_id']]
    assert f['attention'] == 'high' and a['attention'] == 'high', ('alert for a flow that is not high', a)
    assert not any(s['name'] == 'unanswered' for s in f['signals']), ('alert for an unanswered attempt', a)
    assert a['signals'] and [s['name'] for s in a['signals']] == [s['name'] for s in f['signals']], (a['signals'], f['signals'])
    got.append((a['remote_ip'], a['direction']))
assert len(got) == len(set(got)), 'repeated alerts: %s' % sorted(k for k in set(got) if got.count(k) > 1)
assert set(got) == exp, 'missing %s, extra %s' % (sorted(exp - set(got))[:5], sorted(set(got) - exp)[:5])
unans = sum(1 for f in flows.values() if any(s['name'] == 'unanswered' for s in f['signals']))
print('%s: %d attention alerts for %d high flows of %d; %d unanswered attempts, none alerted' % (
    sys.argv[3], len(got), sum(1 for f in flows.values() if f['attention'] == 'high'), len(flows), unans))
PY
done
echo "PASS"
