#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# http_api.sh: the JSON API of a daemon replaying a capture: /flows equals --dump for the same capture, every
# filter, sort and limit equals what python computes from the full list, CSV (format=csv and Accept) parses
# with the csv module and has the same rows, /flows/{id} is the flow plus its history, 404s, 400s, 405s,
# headers, the embedded page (bytes, gzip, ETag), and trust/forget reaching state_dir/trusted.txt.
. "$(dirname "$0")/../lib/common.sh"
need python3 curl
PCAP=$PCAPS/slips-test7-malicious.pcap

"$NG_BIN" --help 2>&1 | grep -q -- '--listen' || fail "$NG_BIN --help does not list --listen (the HTTP mode)"

# start_daemon NAME ARGS...: run the daemon in the background, wait until /api/stats answers and the replay
# is done; sets PORT. Fails when the daemon exits before it answers or does not finish within 60 s.
start_daemon() {
	name=$1
	shift
	PORT=$(free_port)
	"$NG_BIN" "$@" --listen "127.0.0.1:$PORT" > "$TMP/$name.out" 2> "$TMP/$name.err" &
	pid=$!
	NG_PIDS="$NG_PIDS $pid"
	python3 - "$PORT" "$pid" <<'PY' || { rc=$?; cat "$TMP/$name.err"; [ $rc -eq 2 ] && fail "$name: the daemon exited before it answered"; fail "$name: the daemon did not come up"; }
import json, os, sys, time, urllib.request
port, pid = int(sys.argv[1]), int(sys.argv[2])
deadline = time.time() + 60
last = None
same = 0
served = False
while time.time() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1 if served else 2)
    try:
        st = json.load(urllib.request.urlopen('http://127.0.0.1:%d/api/stats' % port, timeout=5))
        served = True
        if (st.get('replay') or {}).get('done'):
            time.sleep(0.6)		# one more tick publishes the last changes
            sys.exit(0)
        if 'replay' not in st:	# before the replay field existed: wait until packets stop changing
            same = same + 1 if st.get('packets') == last else 0
            last = st.get('packets')
            if same >= 4:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.25)
sys.exit(1)
PY
}

"$NG_BIN" -q -r "$PCAP" --dump --state-dir "$TMP/dumpstate" > "$TMP/dump.jsonl" 2> "$TMP/dump.err" ||
	{ cat "$TMP/dump.err"; fail "--dump failed"; }
start_daemon api -r "$PCAP" --state-dir "$TMP/state"
echo "daemon on port $PORT"

python3 - "$PORT" "$TMP/dump.jsonl" "$NG_BUILD/web" "$TMP/state" <<'PY' || fail "API checks failed"
import csv, gzip, io, ipaddress, json, os, sys, urllib.error, urllib.parse, urllib.request
from datetime import timedelta, timezone
from datetime import datetime

port, dumpfile, webdir, statedir = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
base = 'http://127.0.0.1:%d' % port
failures = 0


def check(cond, what):
    global failures
    if cond:
        print('ok', what)
    else:
        print('FAIL', what)
        failures += 1


def req(path, method='GET', headers=None, body=None):
    r = urllib.request.Request(base + path, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def flows(query=''):
    st, h, b = req('/flows' + query)
    assert st == 200, (query, st, b[:200])
    return json.loads(b)['flows']


dump = [json.loads(l) for l in open(dumpfile) if l.startswith('{"id"')]
st, h, body = req('/flows')
doc = json.loads(body)
all_flows = doc['flows']
check(st == 200 and h['Content-Type'].startswith('application/json'), '/flows is JSON')
for k in ('generated', 'home', 'learning', 'capture', 'last_event_id', 'flows'):
    check(k in doc, '/flows has "%s"' % k)
check(h.get('Cache-Control') == 'no-store', '/flows says Cache-Control: no-store')
D = {d['id']: d for d in dump}
A = {a['id']: a for a in all_flows}
check(len(dump) > 100, '--dump gave %d flows' % len(dump))
check(set(D) == set(A), 'same flow ids in /flows (%d) and --dump (%d)' % (len(A), len(D)))
diff = [(i, k) for i in D if i in A for k in set(D[i]) | set(A[i]) if D[i].get(k) != A[i].get(k)]
check(not diff, 'every field of every flow equals --dump (%d differences, first %s)' % (len(diff), diff[:3]))
check([f['id'] for f in all_flows] == sorted(A), 'default order is by id')

# Filters, each against the same selection made here.
ids = lambda fl: [f['id'] for f in fl]
VORDER = {None: 0, 'local': 1, 'normal': 2, 'anomalous': 3, 'blocklisted': 4}
verdicts = sorted({f['verdict'] for f in all_flows if f['verdict']})
check(len(verdicts) >= 2, 'the capture has several verdicts: %s' % verdicts)
for v in verdicts + [','.join(verdicts[:2])]:
    want = [f['id'] for f in all_flows if f['verdict'] in v.split(',')]
    check(ids(flows('?verdict=' + v)) == want, 'verdict=%s: %d flows' % (v, len(want)))
protos = sorted({f['proto'] for f in all_flows})
for p in protos + ['tcp,udp']:
    want = [f['id'] for f in all_flows if f['proto'] in p.split(',')]
    check(ids(flows('?proto=' + p)) == want, 'proto=%s: %d flows' % (p, len(want)))
check(ids(flows('?proto=6')) == ids(flows('?proto=tcp')), 'proto=6 is proto=tcp')
countries = sorted({f['geo']['country'] for f in all_flows if f['geo'] and f['geo'].get('country')})
check(len(countries) >= 2, 'the capture has several countries: %s' % countries[:8])
for c in countries[:4] + [countries[0].lower()]:
    want = [f['id'] for f in all_flows if f['geo'] and (f['geo'].get('country') or '') == c.upper()]
    check(ids(flows('?country=' + c)) == want, 'country=%s: %d flows' % (c, len(want)))
want = [f['id'] for f in all_flows if f['process'] and f['process'].get('name') == 'curl']
check(ids(flows('?process=curl')) == want, 'process=curl: %d flows (a file has no processes)' % len(want))
for act in ('1', '0'):
    want = [f['id'] for f in all_flows if f['active'] == (act == '1')]
    check(ids(flows('?active=' + act)) == want, 'active=%s: %d flows' % (act, len(want)))
domains = [f['remote_domain'] for f in all_flows if f['remote_domain']]
orgs = [f['as_org'] for f in all_flows if f['as_org']]
qs = ['192.168', domains[0][-7:].upper() if domains else 'x', orgs[0].split()[0] if orgs else 'y', '::', 'zzzz-none']
for q in qs:
    ql = q.lower()
    want = [f['id'] for f in all_flows if any(ql in (s or '').lower() for s in
            (f['remote_ip'], f['remote_domain'], f['as_org'], (f['process'] or {}).get('name')))]
    check(ids(flows('?q=' + urllib.parse.quote(q))) == want, 'q=%s: %d flows' % (q, len(want)))
times = sorted(f['last_seen'] for f in all_flows)
mid = times[len(times) // 2]
ts = lambda s: datetime.fromisoformat(s.replace('Z', '+00:00'))
want = [f['id'] for f in all_flows if ts(f['last_seen']) > ts(mid)]
check(ids(flows('?since=' + mid)) == want, 'since=%s (a time): %d flows' % (mid, len(want)))
plus1 = ts(mid).astimezone(timezone(timedelta(hours=1)))
check(ids(flows('?since=' + urllib.parse.quote(plus1.isoformat()))) == want, 'since= with a +01:00 offset')
check(ids(flows('?since=0')) == ids(all_flows), 'since=0 (an event id): every published flow')
check(flows('?since=%d' % doc['last_event_id']) == [], 'since=last_event_id: nothing newer')
check(ids(flows('?verdict=anomalous&proto=udp&active=1')) ==
      [f['id'] for f in all_flows if f['verdict'] == 'anomalous' and f['proto'] == 'udp' and f['active']],
      'filters combine')

# Sorting: the key, ties by ascending id; a leading - reverses the key only.
def rkey(f):
    a = ipaddress.ip_address(f['remote_ip'])
    return (a.version, a.packed, f['remote_port'])
KEYS = {
    'id': lambda f: f['id'],
    'bytes': lambda f: f['bytes_sent'] + f['bytes_received'],
    'sent': lambda f: f['bytes_sent'],
    'received': lambda f: f['bytes_received'],
    'packets': lambda f: f['packets_sent'] + f['packets_received'],
    'first_seen': lambda f: ts(f['first_seen']),
    'last_seen': lambda f: ts(f['last_seen']),
    'remote': rkey,
    'port': lambda f: f['remote_port'],
    'verdict': lambda f: VORDER[f['verdict']],
    'country': lambda f: (f['geo'] or {}).get('country') or '',
    'process': lambda f: (f['process'] or {}).get('name') or '',
    'domain': lambda f: f['remote_domain'] or '',
    'proto': lambda f: f['proto_num'],
}
for name, key in KEYS.items():
    for desc in (False, True):
        # Python's sort is stable, also with reverse=True: ties keep ascending ids.
        srt = sorted(sorted(all_flows, key=lambda f: f['id']), key=key, reverse=desc)
        got = ids(flows('?sort=%s%s' % ('-' if desc else '', name)))
        check(got == ids(srt), 'sort=%s%s' % ('-' if desc else '', name))
top = sorted(all_flows, key=lambda f: (-(f['bytes_sent'] + f['bytes_received']), f['id']))[:5]
check(ids(flows('?sort=-bytes&limit=5')) == ids(top), 'sort=-bytes&limit=5: the five biggest')
check(flows('?limit=0') == [], 'limit=0: none')
check(ids(flows('?limit=3')) == sorted(A)[:3], 'limit=3: the first three ids')

# CSV, by parameter and by Accept, with the same rows.
st, h, b = req('/flows?format=csv')
check(st == 200 and h['Content-Type'].startswith('text/csv'), 'format=csv is text/csv')
rows = list(csv.DictReader(io.StringIO(b.decode('utf-8'), newline='')))
check(len(rows) == len(all_flows), 'CSV has one row per flow (%d)' % len(rows))
unq = lambda s: s[1:] if s[:1] == "'" and s[1:2] in ('=', '+', '-', '@') else s
bad = []
for r, f in zip(rows, all_flows):
    exp = {'id': str(f['id']), 'proto': f['proto'], 'local_ip': f['local_ip'], 'local_port': str(f['local_port']),
           'remote_ip': f['remote_ip'], 'remote_port': str(f['remote_port']),
           'remote_domain': f['remote_domain'] or '', 'packets_sent': str(f['packets_sent']),
           'bytes_received': str(f['bytes_received']), 'first_seen': f['first_seen'], 'last_seen': f['last_seen'],
           'state': f['state'], 'active': 'true' if f['active'] else 'false', 'verdict': f['verdict'] or '',
           'country': (f['geo'] or {}).get('country') or '', 'reason': f['reason'] or ''}
    for k, v in exp.items():
        if unq(r[k]) != v:
            bad.append((f['id'], k, r[k], v))
check(not bad, 'CSV rows equal the JSON flows (%d differences, first %s)' % (len(bad), bad[:2]))
st2, h2, b2 = req('/flows', headers={'Accept': 'text/csv'})
check(st2 == 200 and h2['Content-Type'].startswith('text/csv') and b2 == b, 'Accept: text/csv gives the same CSV')
st, h, b = req('/flows?format=csv&verdict=anomalous')
check(len(list(csv.DictReader(io.StringIO(b.decode(), newline='')))) ==
      len([f for f in all_flows if f['verdict'] == 'anomalous']), 'CSV with a filter')

# One flow: the object plus its whitelist history.
sample = [all_flows[0], all_flows[len(all_flows) // 2], all_flows[-1]]
sample += [f for f in all_flows if f['bytes_sent'] and f['bytes_received'] and f['remote_scope'] == 'public'][:2]
for f in sample:
    st, h, b = req('/flows/%d' % f['id'])
    one = json.loads(b)
    hist = one.pop('history', None)
    check(st == 200 and one == f, '/flows/%d equals its /flows entry' % f['id'])
    ok = isinstance(hist, dict) and all(isinstance(hist.get(d), dict) and
                                        {'known', 'first_seen', 'last_seen', 'flows', 'packets', 'bytes'} <= set(hist[d])
                                        for d in ('sent', 'received'))
    check(ok, '/flows/%d has history.sent and history.received' % f['id'])
    if ok and f['bytes_sent'] and f['verdict'] != 'local':
        s = hist['sent']
        check(s['known'] and s['flows'] >= 1 and s['bytes'] >= f['bytes_sent'],
              '/flows/%d: history counts this flow (%s)' % (f['id'], s))

# Errors: 404, 400 naming the parameter, 405, all JSON {"error": ...}.
for path in ('/flows/999999', '/flows/0', '/flows/abc', '/flows/1x', '/nope', '/api/nope', '/flows/', '/index.htm'):
    st, h, b = req(path)
    check(st == 404 and 'error' in json.loads(b), '%s -> 404 with an error' % path)
for q, name in (('verdict=bogus', 'verdict'), ('proto=nope', 'proto'), ('country=xyz', 'country'),
                ('limit=x', 'limit'), ('limit=-1', 'limit'), ('limit=99999999999999999999999', 'limit'),
                ('since=yesterday', 'since'), ('since=99999999999999999999999', 'since'), ('sort=nope', 'sort'),
                ('active=maybe', 'active'), ('format=xml', 'format'), ('frobnicate=1', 'frobnicate'),
                ('limit=1&limit=2', 'limit'), ('q=a%00b', 'NUL'), ('verdict=', 'verdict'), ('verdict=normal,,local', 'verdict'),
                ('%00=1', 'NUL'), ('q=' + 'x' * 300, 'q')):
    st, h, b = req('/flows?' + q)
    try:
        err = json.loads(b)['error']
    except Exception:
        err = ''
    check(st == 400 and name in err, '/flows?%s -> 400 naming %s (%s)' % (q[:40], name, err[:80]))
st, h, b = req('/flows', method='POST', headers={'Content-Type': 'application/json', 'Origin': base}, body=b'{}')
check(st == 405 and h.get('Allow') == 'GET, HEAD', 'POST /flows -> 405, Allow: GET, HEAD')
st, h, b = req('/api/trust')
check(st == 405 and h.get('Allow') == 'POST', 'GET /api/trust -> 405, Allow: POST')
st, h, b = req('/flows', method='OPTIONS')
check(st == 405, 'OPTIONS -> 405')
st, h, b = req('/flows?limit=2', method='HEAD')
check(st == 200 and b == b'' and h['Content-Type'].startswith('application/json'), 'HEAD /flows: headers, no body')
for path in ('/flows', '/nope', '/', '/api/stats'):
    st, h, b = req(path)
    check(h.get('X-Content-Type-Options') == 'nosniff' and h.get('X-Frame-Options') == 'DENY' and
          h.get('Referrer-Policy') == 'no-referrer' and "default-src 'self'" in (h.get('Content-Security-Policy') or ''),
          '%s carries the security headers' % path)

# Stats: the daemon's numbers and ours.
st, h, b = req('/api/stats')
s = json.loads(b)
check(st == 200 and isinstance(s.get('http'), dict) and
      {'connections', 'sse_clients', 'requests', 'rejected'} <= set(s['http']) and s['http']['requests'] > 50,
      '/api/stats has http counters (%s)' % s.get('http'))

# The embedded page: bytes as built, gzip, ETag.
index = open(os.path.join(webdir, 'index.html'), 'rb').read()
st, h, b = req('/')
check(st == 200 and b == index and h['Content-Type'].startswith('text/html'), '/ is web/index.html as built')
etag = h.get('ETag')
check(bool(etag) and h.get('Vary') == 'Accept-Encoding', '/ has an ETag and Vary: Accept-Encoding')
st, h, b = req('/index.html', headers={'If-None-Match': etag})
check(st == 304 and b == b'', 'If-None-Match with the ETag -> 304')
js = sorted(os.path.relpath(os.path.join(d, n), webdir) for d, _, ns in os.walk(webdir) for n in ns if n.endswith('.js'))
check(bool(js), 'the page has scripts: %s' % js[:3])
for rel in js[:3]:
    raw = open(os.path.join(webdir, rel), 'rb').read()
    st, h, b = req('/' + rel, headers={'Accept-Encoding': 'gzip'})
    got = gzip.decompress(b) if h.get('Content-Encoding') == 'gzip' else b
    check(st == 200 and got == raw and h['Content-Type'].startswith('text/javascript'),
          '/%s (%s) is the built file' % (rel, h.get('Content-Encoding') or 'identity'))
    st2, h2, b2 = req('/' + rel)
    check(b2 == raw and h2.get('Content-Encoding') is None, '/%s without gzip is identity' % rel)

# Trust and forget reach the whitelist's trusted.txt.
rem = next(f['remote_ip'] for f in all_flows if f['verdict'] == 'anomalous' and ':' not in f['remote_ip'])
hdr = {'Content-Type': 'application/json', 'Origin': base}
st, h, b = req('/api/trust', 'POST', hdr, json.dumps({'address': rem}).encode())
check(st == 200 and json.loads(b) == {'ok': True, 'rule': rem}, 'trust %s -> {"ok": true, ...} (%s)' % (rem, b[:80]))
trusted = open(os.path.join(statedir, 'trusted.txt')).read() if os.path.exists(os.path.join(statedir, 'trusted.txt')) else ''
check(rem in trusted, 'trusted.txt holds %s' % rem)
st, h, b = req('/api/forget', 'POST', hdr, json.dumps({'address': rem}).encode())
trusted = open(os.path.join(statedir, 'trusted.txt')).read() if os.path.exists(os.path.join(statedir, 'trusted.txt')) else ''
check(st == 200 and rem not in trusted, 'forget %s removes it' % rem)
for body, why in ((b'{}', 'empty'), (b'[1]', 'array'), (b'{"address": "999.1.1.1"}', 'bad address'),
                  (b'{"address": 5}', 'number'), (b'{"domain": "a.b", "address": "1.1.1.1"}', 'both'),
                  (b'{"color": "red"}', 'unknown'), (b'not json', 'garbage')):
    st, h, b = req('/api/trust', 'POST', hdr, body)
    d = json.loads(b)
    check(st == 400 and d.get('ok') is False and d.get('error'), 'trust with %s body -> 400 %s' % (why, d.get('error', '')[:60]))

print('%d failures' % failures)
sys.exit(1 if failures else 0)
PY
echo "PASS http_api"
