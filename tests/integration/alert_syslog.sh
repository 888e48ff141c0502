#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# alert_syslog.sh: --alert-syslog sends every alert of alerts.jsonl as one RFC 5424 message, to sockets this
# test listens on itself: UDP (RFC 5426) and a local datagram socket (as /dev/log is). Each message is checked
# field by field against RFC 5424 6: <PRI> with facility daemon and severity warning (error when blocklisted),
# version 1, an RFC 3339 timestamp, this host's name, APP-NAME netglobe, the pid, MSGID alert, the
# [netglobe@32473 ...] structured data naming the alert, and the alert itself as the message (the alert object,
# or with --alert-format ecs its ECS document). A receiver that never reads does not stall the capture: its
# alerts are dropped and counted. The option's default target is unix:/dev/log; bad targets are refused.
. "$(dirname "$0")/../lib/common.sh"
need python3
PCAP=$PCAPS/slips-test7-malicious.pcap

# A datagram listener: ADDR is udp:PORT or unix:PATH; it writes each message as a JSON string per line
# to OUT until STOP exists. With "deaf" it binds with a tiny buffer and never reads.
cat > "$TMP/listen.py" << 'PY'
import json, os, socket, sys, time
kind, where, out, stop = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
deaf = len(sys.argv) > 5
if kind == 'udp':
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if deaf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind(where)
    port = 0
if not deaf:
    # Room for a replay's burst of alerts: a full queue drops (by design, see part 3), which would miscount here.
    try:
        s.setsockopt(socket.SOL_SOCKET, getattr(socket, 'SO_RCVBUFFORCE', 33), 16 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
s.settimeout(0.2)
with open(out + '.ready', 'w') as f:
    f.write(str(port))
with open(out, 'w') as f:
    while not os.path.exists(stop):
        if deaf:
            time.sleep(0.1)
            continue
        try:
            f.write(json.dumps(s.recv(70000).decode('utf-8')) + '\n')
            f.flush()
        except socket.timeout:
            pass
PY

# Start a listener and wait until it is bound; OUT.ready then holds the UDP port (0 for unix).
listen() {
	rm -f "$TMP/stop"
	python3 "$TMP/listen.py" "$@" "$TMP/stop" > /dev/null &
	NG_PIDS="$NG_PIDS $!"
	i=0
	until [ -f "$3.ready" ] && [ -s "$3.ready" ]; do
		i=$((i + 1))
		[ $i -le 100 ] || fail "the test's own listener did not start"
		sleep 0.05
	done
}

# Check the messages in $1 against the alerts file $2; $3 is "json" or "ecs".
check() {
	python3 - "$@" << 'PY'
import datetime, json, os, re, socket, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
alerts = [l.rstrip('\n') for l in open(sys.argv[2])]
fmt = sys.argv[3]
assert alerts, 'no alerts were raised: the test cannot check anything'
assert len(msgs) == len(alerts), '%d syslog messages for %d alerts' % (len(msgs), len(alerts))
host = socket.gethostname()
rx = re.compile(r'<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[netglobe@32473(?: [a-z_]+="(?:[^"\\\]]|\\.)*")*\]) (.*)$', re.S)
sevs = {}
for m, line in zip(msgs, alerts):
    g = rx.match(m)
    assert g, 'not RFC 5424 framing: %r' % m[:200]
    pri, ts, h, app, procid, msgid, sd, body = g.groups()
    pri = int(pri)
    assert pri // 8 == 3, 'facility %d, not daemon (3)' % (pri // 8)
    datetime.datetime.strptime(ts, '%Y-%m-%dT%H:%M:%S.%fZ')
    assert h == host, 'HOSTNAME %r, not %r' % (h, host)
    assert app == 'netglobe' and msgid == 'alert' and procid.isdigit(), (app, procid, msgid)
    params = dict(re.findall(r' ([a-z_]+)="((?:[^"\\\]]|\\.)*)"', sd))
    assert body == line, 'the message is not the alerts.jsonl line:\n%s\n%s' % (body[:300], line[:300])
    a = json.loads(body)
    if fmt == 'ecs':
        aid, fid, verdict = a['netglobe']['alert_id'], a['netglobe']['flow_id'], a['rule']['name']
        cid = a['network']['community_id']
        assert a['event']['kind'] == 'alert', a['event']
    else:
        aid, fid, verdict, cid = a['id'], a['flow_id'], a['verdict'], a['community_id']
    assert params['id'] == str(aid) and params['flow_id'] == str(fid) and params['community_id'] == cid, (params, aid)
    assert params['verdict'] == (verdict or 'none') or fmt == 'ecs', (params, verdict)
    sev = pri % 8
    assert sev == (3 if params['verdict'] == 'blocklisted' else 4), (sev, params)
    sevs[sev] = sevs.get(sev, 0) + 1
print('%d messages, one per alert, RFC 5424 fields as documented (severities %s)' % (len(msgs), sevs))
PY
}

# 1. UDP, the alert objects.
listen udp - "$TMP/udp.msgs"
port=$(cat "$TMP/udp.msgs.ready")
"$NG_BIN" -r "$PCAP" --dump --state-dir "$TMP/s1" --alert-syslog "udp:127.0.0.1:$port" > /dev/null 2> "$TMP/s1.err" ||
	{ cat "$TMP/s1.err"; fail "netglobe --alert-syslog udp: failed"; }
sleep 0.5
touch "$TMP/stop"
sleep 0.4
check "$TMP/udp.msgs" "$TMP/s1/alerts.jsonl" json || fail "UDP syslog messages are wrong"

# 2. A local datagram socket (as /dev/log), ECS documents; blocklisted remotes give severity error.
python3 -c '
import json, sys
ips = []
for l in open(sys.argv[1]):
    a = json.loads(l)
    ips.append(a["remote_ip"])
print("\n".join(ips[:3]))' "$TMP/s1/alerts.jsonl" > "$TMP/block.txt"
listen unix "$TMP/log.sock" "$TMP/unix.msgs"
"$NG_BIN" -r "$PCAP" --dump --state-dir "$TMP/s2" --alert-syslog "unix:$TMP/log.sock" --alert-format ecs \
	--blocklist "$TMP/block.txt" > /dev/null 2> "$TMP/s2.err" || { cat "$TMP/s2.err"; fail "netglobe --alert-syslog unix: failed"; }
sleep 0.5
touch "$TMP/stop"
sleep 0.4
check "$TMP/unix.msgs" "$TMP/s2/alerts.jsonl" ecs || fail "local syslog messages are wrong"
grep -q '^<27>1 ' "$TMP/unix.msgs" || grep -q '"<27>1 ' "$TMP/unix.msgs" || fail "no blocklisted alert came with severity error (<27>)"

# 3. A receiver that never reads, under the daemon (a replay at full speed: the capture path, no --dump waits):
# the replay is not slowed; what the socket cannot take is dropped and counted in /api/stats.
listen unix "$TMP/deaf.sock" "$TMP/deaf.msgs" deaf
HPORT=$(free_port)
start=$(date +%s)
"$NG_BIN" -r "$PCAP" --listen "127.0.0.1:$HPORT" --state-dir "$TMP/s3" --alert-syslog "unix:$TMP/deaf.sock" \
	> /dev/null 2> "$TMP/s3.err" &
NG_PIDS="$NG_PIDS $!"
python3 - "$HPORT" << 'PY' || { cat "$TMP/s3.err"; fail "a syslog receiver that never reads stalled the daemon"; }
import json, sys, time, urllib.request
end = time.time() + 30
while time.time() < end:
    try:
        st = json.load(urllib.request.urlopen('http://127.0.0.1:%s/api/stats' % sys.argv[1], timeout=5))
        if (st.get('replay') or {}).get('done'):
            a = st['alerts']
            assert a['raised'] > 50 and a['syslog_dropped'] > 0, a
            assert a['syslog_sent'] + a['syslog_dropped'] == a['raised'], a
            print('ok: a receiver that never reads: %d alerts, %d sent, %d dropped and counted'
                  % (a['raised'], a['syslog_sent'], a['syslog_dropped']))
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit('the replay did not finish within 30 s')
PY
touch "$TMP/stop"
grep -q "did not take an alert (dropped and counted" "$TMP/s3.err" || { cat "$TMP/s3.err"; fail "drops were not logged"; }

# 4. The default target and bad ones.
"$NG_BIN" --alert-syslog --print-config 2>&1 | grep -qx 'alert-syslog unix:/dev/log' || fail "--alert-syslog alone does not mean unix:/dev/log"
"$NG_BIN" --alert-syslog udp:[::1]:514 --print-config 2>&1 | grep -qx 'alert-syslog udp:\[::1\]:514' || fail "--alert-syslog TARGET is not taken"
for bad in tcp:host:514 unix:relative udp:nohostport; do
	out=$("$NG_BIN" -r "$PCAP" --dump --state-dir "$TMP/s4" --alert-syslog "$bad" 2>&1 > /dev/null) && fail "--alert-syslog $bad was accepted"
	echo "$out" | grep -q -- "--alert-syslog" || fail "--alert-syslog $bad: the error does not name the option: $out"
done
echo "PASS: syslog alerts as RFC 5424 over UDP and a local socket"
