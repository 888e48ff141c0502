#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# http_sse.sh: GET /events while a capture replays at 60x its recorded pace. A client that opens the
# stream, then takes the /flows snapshot, and applies every flow event after the snapshot's last_event_id
# ends with exactly the final /flows (every field); event ids are contiguous; /flows?since=ID is exactly the
# flows that had events after ID. A reconnect with Last-Event-ID (header or ?last_event_id=) from the middle
# gets exactly the events it missed, byte for byte; one from before a gap in the ring, or from the future,
# gets a `reset` first. A client that never reads does not slow the replay or the other clients.
. "$(dirname "$0")/../lib/common.sh"
need python3 curl
PCAP=$PCAPS/slips-test7-malicious.pcap

"$NG_BIN" --help 2>&1 | grep -q -- '--listen' || fail "$NG_BIN --help does not list --listen (the HTTP mode)"

PORT=$(free_port)
# Start the stream clients first (they retry until the daemon answers), so they see the replay from its start.
python3 - "$PORT" "$TMP/events.json" > "$TMP/client.log" 2>&1 <<'PY' &
import json, socket, sys, time

port, out = int(sys.argv[1]), sys.argv[2]


def connect():
    while True:
        try:
            return socket.create_connection(('127.0.0.1', port), timeout=60)
        except OSError:
            time.sleep(0.02)


# A client that asks for the stream and never reads a byte (with a small receive buffer).
lazy = socket.socket()
lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
while True:
    try:
        lazy.connect(('127.0.0.1', port))
        break
    except OSError:
        time.sleep(0.02)
lazy.sendall(b'GET /events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n' % port)

s = connect()
s.sendall(b'GET /events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n' % port)
buf = b''
while b'\r\n\r\n' not in buf:
    buf += s.recv(65536)
head, _, buf = buf.partition(b'\r\n\r\n')
t_open = time.time()
# The snapshot, taken after the stream is open (as the page does).
h = socket.create_connection(('127.0.0.1', port))
h.sendall(b'GET /flows HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n' % port)
resp = b''
while True:
    d = h.recv(1 << 20)
    if not d:
        break
    resp += d
snapshot = json.loads(resp.partition(b'\r\n\r\n')[2])
events = []
raw = b''
done_at = None
body = b''


def chunks(data):
    """Undo chunked transfer coding incrementally: returns (payload, rest)."""
    out = b''
    while True:
        line, sep, rest = data.partition(b'\r\n')
        if not sep:
            return out, data
        n = int(line.split(b';')[0], 16)
        if len(rest) < n + 2:
            return out, data
        out += rest[:n]
        data = rest[n + 2:]


pending = buf
s.settimeout(0.5)
while True:
    try:
        d = s.recv(1 << 20)
        if not d:
            break
        pending += d
    except socket.timeout:
        pass
    payload, pending = chunks(pending)
    raw += payload
    while b'\n\n' in raw:
        block, _, raw = raw.partition(b'\n\n')
        ev = {'text': block.decode() + '\n\n'}
        for line in block.decode().split('\n'):
            k, _, v = line.partition(': ')
            if k in ('id', 'event', 'data'):
                ev[k] = v
        if 'event' in ev:
            events.append(ev)
            if ev['event'] == 'stats' and (json.loads(ev['data']).get('replay') or {}).get('done') and not done_at:
                done_at = time.time()
    if done_at and time.time() - done_at > 1.5:
        break
    if time.time() - t_open > 120:
        break
json.dump({'head': head.decode(), 'snapshot': snapshot, 'events': events, 'opened': t_open,
           'done_after': (done_at or 0) - t_open}, open(out, 'w'))
lazy.close()
PY
client=$!

"$NG_BIN" -r "$PCAP" --speed 60 --listen "127.0.0.1:$PORT" --state-dir "$TMP/state" > "$TMP/daemon.out" 2> "$TMP/daemon.err" &
daemon=$!
NG_PIDS="$NG_PIDS $daemon $client"
wait $client
if [ ! -s "$TMP/events.json" ]; then
	cat "$TMP/client.log" "$TMP/daemon.err"
	kill -0 $daemon 2>/dev/null || fail "the daemon exited before the stream client got anything"
	fail "the stream client got nothing"
fi
kill -0 $daemon 2>/dev/null || { cat "$TMP/daemon.err"; fail "the daemon died"; }

python3 - "$PORT" "$TMP/events.json" <<'PY' || { tail -n 5 "$TMP/daemon.err"; fail "SSE checks failed"; }
import json, socket, sys, time, urllib.request

port, path = int(sys.argv[1]), sys.argv[2]
rec = json.load(open(path))
failures = 0


def check(cond, what):
    global failures
    print(('ok ' if cond else 'FAIL ') + what)
    failures += 0 if cond else 1


def get(p):
    return json.loads(urllib.request.urlopen('http://127.0.0.1:%d%s' % (port, p), timeout=30).read())


def stream(headers, path='/events', until_id=None, seconds=5):
    """Open a stream, return its events until until_id (or for `seconds`)."""
    s = socket.create_connection(('127.0.0.1', port), timeout=10)
    s.sendall(('GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n%s\r\n' %
               (path, port, ''.join('%s: %s\r\n' % kv for kv in headers.items()))).encode())
    data = b''
    evs = []
    t0 = time.time()
    s.settimeout(0.3)
    while time.time() - t0 < seconds:
        try:
            d = s.recv(1 << 20)
            if not d:
                break
            data += d
        except socket.timeout:
            pass
        body = data.partition(b'\r\n\r\n')[2]
        evs = []
        for block in body.decode().split('\n\n')[:-1]:
            ev = {'text': block + '\n\n'}
            for line in block.split('\n'):
                k, _, v = line.partition(': ')
                if k in ('id', 'event', 'data'):
                    ev[k] = v
            if 'event' in ev:
                evs.append(ev)
        if until_id and evs and int(evs[-1].get('id', 0)) >= until_id:
            break
    s.close()
    return data.partition(b'\r\n\r\n')[0].decode(), evs


head, snap, events = rec['head'], rec['snapshot'], rec['events']
check(' 200 ' in head.split('\r\n')[0] and 'text/event-stream' in head, 'the stream is 200 text/event-stream')
check('no-store' in head, 'the stream says Cache-Control: no-store')
ids = [int(e['id']) for e in events]
check(len(events) > 100, '%d events received during the replay' % len(events))
check(all(b == a + 1 for a, b in zip(ids, ids[1:])), 'event ids are contiguous (%d..%d)' % (ids[0], ids[-1]))
types = {}
for e in events:
    types[e['event']] = types.get(e['event'], 0) + 1
check(types.get('flow-new', 0) > 50 and types.get('stats', 0) >= 3, 'event types: %s' % types)
check('reset' not in types, 'no reset for a client that keeps up')
check(rec['done_after'] > 2, 'the replay took %.1f s at 60x (events arrived while it ran)' % rec['done_after'])

# Snapshot + every flow event after its last_event_id = the final /flows.
L = snap['last_event_id']
state = {f['id']: f for f in snap['flows']}
touched = set()
new_after = set()
for e in events:
    if int(e['id']) <= L or not e['event'].startswith('flow-'):
        continue
    f = json.loads(e['data'])
    state[f['id']] = f
    touched.add(f['id'])
    if e['event'] == 'flow-new':
        new_after.add(f['id'])
final = get('/flows')
F = {f['id']: f for f in final['flows']}
check(set(state) == set(F), 'snapshot + events has the flows of the final /flows (%d vs %d)' % (len(state), len(F)))
diff = [(i, k) for i in F if i in state for k in F[i] if F[i][k] != state[i].get(k)]
check(not diff, 'and every field of every flow (%d differences, first %s)' % (len(diff), diff[:3]))
check(set(F) - set(f['id'] for f in snap['flows']) <= new_after,
      'every flow missing from the snapshot came as flow-new (%d of them)' % len(new_after))
since = {f['id'] for f in get('/flows?since=%d' % L)['flows']}
check(since == touched, '/flows?since=%d is exactly the %d flows with events after it' % (L, len(touched)))
for M in (ids[len(ids) // 2], ids[len(ids) * 3 // 4], ids[-1]):
    want = {json.loads(e['data'])['id'] for e in events if int(e['id']) > M and e['event'].startswith('flow-')}
    got = {f['id'] for f in get('/flows?since=%d' % M)['flows']}
    check(got == want, '/flows?since=%d is exactly the %d flows with events after it' % (M, len(want)))

# Resume from the middle: exactly the missed events, byte for byte.
mid = ids[len(ids) // 2]
last = ids[-1]
want = [e for e in events if mid < int(e['id']) <= last]
for how, hdrs, p in (('Last-Event-ID header', {'Last-Event-ID': str(mid)}, '/events'),
                     ('?last_event_id=', {}, '/events?last_event_id=%d' % mid)):
    h, got = stream(hdrs, p, until_id=last)
    got = [e for e in got if int(e['id']) <= last]
    check([e['text'] for e in got] == [e['text'] for e in want],
          'resume with %s %d: the %d missed events, identical (got %d)' % (how, mid, len(want), len(got)))
# Before the stream began the daemon kept only ids (nobody listened): resuming from there is a reset.
first = ids[0]
h, got = stream({'Last-Event-ID': '1'}, until_id=None, seconds=1.5)
check(bool(got) and got[0]['event'] == 'reset' and json.loads(got[0]['data'])['last_event_id'] >= last,
      'Last-Event-ID 1 (before a gap): reset first (%s)' % (got[0]['text'].strip().replace('\n', ' | ') if got else None))
h, got = stream({'Last-Event-ID': '999999999999'}, seconds=1.5)
check(bool(got) and got[0]['event'] == 'reset', 'Last-Event-ID from the future: reset first')
h, got = stream({'Last-Event-ID': 'banana'}, seconds=1)
check(' 400 ' in h.split('\r\n')[0], 'Last-Event-ID banana -> 400')
h, got = stream({}, seconds=2.5)
check(' 200 ' in h and all(e['event'] == 'stats' for e in got) and len(got) >= 1,
      'a fresh stream starts at the newest event: only stats now (%d)' % len(got))
st = get('/api/stats')
check(st['http']['sse_clients'] <= 2, 'streams are counted (%d)' % st['http']['sse_clients'])
print('%d failures' % failures)
sys.exit(1 if failures else 0)
PY
echo "PASS http_sse"
