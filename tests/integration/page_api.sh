#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# page_api.sh: the page's server side on a real capture: CSV rows equal JSON rows for the same q= filter,
# a group's totals equal the sums of its flows from /flows, trust turns the covered flows normal (and the
# event stream says so) and undo turns them back, AS trust needs confirmation (409), and the history's
# /flows?at=T equals what /flows answered when the packet clock stood at T (the capture cut in two at T).
. "$(dirname "$0")/../lib/common.sh"
need python3 curl editcap
PCAP=$PCAPS/slips-test7-malicious.pcap
CUT=2018-03-09T20:55:00Z

# start NAME ARGS...: a daemon replaying a file; waits until the replay is done. Sets PORT.
start() {
	name=$1
	shift
	PORT=$(free_port)
	port=$PORT
	ng_start "$name" "$NG_BIN" "$@" --listen "127.0.0.1:$PORT"
	python3 - "$PORT" <<'PY' || fail "$name: the replay did not finish"
import json, sys, time, urllib.request
for _ in range(240):
    st = json.load(urllib.request.urlopen('http://127.0.0.1:%s/api/stats' % sys.argv[1], timeout=5))
    if (st.get('replay') or {}).get('done'):
        time.sleep(0.6)
        sys.exit(0)
    time.sleep(0.25)
sys.exit(1)
PY
}

# The first part: every packet before the cut (packet time), read by a daemon of its own.
editcap -B "2018-03-09 20:54:59.999999" "$PCAP" "$TMP/first.pcap" 2>/dev/null ||
	editcap -B "2018-03-09T20:54:59.999999Z" "$PCAP" "$TMP/first.pcap" || fail "editcap could not cut the capture"
TZ=UTC0 start first -r "$TMP/first.pcap" --state-dir "$TMP/st1"
curl -s "http://127.0.0.1:$PORT/flows" > "$TMP/first.json" || fail "no /flows from the first part"
start full -r "$PCAP" --state-dir "$TMP/st2"
echo "daemon on port $PORT"

python3 - "$PORT" "$TMP/first.json" "$CUT" <<'PY' || fail "page API checks failed"
import csv, io, json, sys, threading, time, urllib.error, urllib.parse, urllib.request
port, first_file, cut = sys.argv[1], sys.argv[2], sys.argv[3]
base = 'http://127.0.0.1:%s' % port
bad = 0

def check(ok, what):
    global bad
    print(('ok   ' if ok else 'FAIL ') + what)
    if not ok:
        bad += 1

def get(path):
    return urllib.request.urlopen(base + path, timeout=30).read()

def flows(q=''):
    return json.loads(get('/flows' + q))['flows']

def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method='POST',
                                 headers={'Content-Type': 'application/json', 'Origin': base})
    try:
        r = urllib.request.urlopen(req, timeout=30)
        return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())

all_flows = flows()
check(len(all_flows) > 100, '%d flows' % len(all_flows))
check(all(k in all_flows[0] for k in ('trusted_by_user', 'trust_rule', 'evidence', 'evidence_url')),
      'flows carry trusted_by_user, trust_rule, evidence, evidence_url')
ev = [f for f in all_flows if f['evidence']]
check(ev and all(f['evidence_url'] == '/flows/%d/pcap' % f['id'] for f in ev), '%d flows say evidence' % len(ev))
if ev:
    r = urllib.request.urlopen(base + ev[0]['evidence_url'], timeout=30)
    check(r.status == 200 and r.read(4) in (b'\xd4\xc3\xb2\xa1', b'\xa1\xb2\xc3\xd4'), 'evidence_url serves a pcap')

# CSV rows == JSON rows for the same filter; the city word matches as the page's box does.
cities = sorted({f['geo']['city'] for f in all_flows if f['geo'] and f['geo'].get('city')})
word = cities[0].split()[0][:4].lower()
for q in (word, 'attention:high -proto:udp', 'port:443', 'verdict:anomalous dir:sent', '-attention:high country:US,DE',
          'proto:udp port:53,123', 'zzzz-none'):
    js = flows('?q=' + urllib.parse.quote(q))
    rows = list(csv.DictReader(io.StringIO(get('/flows?format=csv&q=' + urllib.parse.quote(q)).decode())))
    check([int(r['id']) for r in rows] == [f['id'] for f in js], 'q=%s: CSV rows equal JSON rows (%d)' % (q, len(js)))
want = [f['id'] for f in all_flows if f['geo'] and word in ' '.join(str(f['geo'].get(k) or '') for k in ('city', 'country', 'country_name')).lower()
        or word in ' '.join(str(f.get(k) or '') for k in ('remote_ip', 'remote_domain', 'as_org', 'proto')).lower()]
check([f['id'] for f in flows('?q=' + word)] == want, 'q=%s (a city) finds the %d flows python finds' % (word, len(want)))
try:
    get('/flows?q=attention:urgent')
    check(False, 'a bad term answers 400')
except urllib.error.HTTPError as e:
    check(e.code == 400 and 'term 1' in json.loads(e.read())['error'], 'a bad term answers 400 naming it')

# Groups: totals equal the sums of their flows.
for kind, q in (('destination', ''), ('destination', 'attention:high'), ('process', '')):
    doc = json.loads(get('/flows?group=%s&q=%s' % (kind, urllib.parse.quote(q))))
    byid = {f['id']: f for f in flows('?q=' + urllib.parse.quote(q))}
    ok = sum(g['flows'] for g in doc['groups']) == len(byid)
    for g in doc['groups']:
        fs = [byid[i] for i in g['ids']]
        for k in ('packets_sent', 'packets_received', 'bytes_sent', 'bytes_received'):
            ok &= g[k] == sum(f[k] for f in fs)
        ok &= g['flows'] == len(fs) and g['first_seen'] == min(f['first_seen'] for f in fs)
        ok &= g['last_seen'] == max(f['last_seen'] for f in fs) and len(g['activity']) == doc['activity']['buckets']
        ok &= g['addresses'] == len({f['remote_ip'] for f in fs})
    check(ok, 'group=%s q=%r: %d groups, totals equal the sums of their flows' % (kind, q, len(doc['groups'])))

# Trust acts at once: covered flows turn normal and are republished; undo turns them back.
high = [f for f in all_flows if f['attention'] == 'high' and f['remote_domain'] and not f['signals'][1:]
        and [s['name'] for s in f['signals']] == ['first_contact']]
check(len(high) > 0, '%d high flows with a name and only first_contact' % len(high))
events = []
def follow():
    try:
        r = urllib.request.urlopen(base + '/events', timeout=10)
        for line in r:
            events.append(line.decode())
    except Exception:
        pass
threading.Thread(target=follow, daemon=True).start()
time.sleep(0.5)
target = high[0]['remote_domain']
st_, res = post('/api/trust', {'domain': target, 'detail': True})
check(st_ == 200 and res['rules'] == [target] and res['flows_changed'] >= 1, 'trust %s: %s' % (target, res))
t0 = time.time()
now = {f['id']: f for f in flows('?q=' + urllib.parse.quote('domain:' + target))}
covered = [now[i] for i in now if now[i]['remote_domain'] == target]
check(covered and all(f['verdict'] == 'normal' and f['trusted_by_user'] and f['trust_rule'] == target for f in covered),
      'the %d covered flows are normal and trusted_by_user at once' % len(covered))
check(all(f['attention'] == 'none' or f['signals'] for f in covered), 'their attention drops unless a signal remains')
ids = {f['id'] for f in covered}
# The answer carries the flows it changed, as /flows has them now (the page applies them at once).
check(res['flows_complete'] and {f['id'] for f in res['flows']} == ids and len(res['flows']) == res['flows_changed']
      and all(f == now[f['id']] for f in res['flows']),
      'the answer carries the %d changed flows, each equal to its /flows object' % len(res['flows']))
while time.time() - t0 < 1.5 and not ids <= {json.loads(e[6:])['id'] for e in events if e.startswith('data: {"id"')} :
    time.sleep(0.05)
seen = {json.loads(e[6:])['id'] for e in events if e.startswith('data: {"id"') and '"trusted_by_user":true' in e}
check(ids <= seen, 'the event stream republished them trusted within %.2f s' % (time.time() - t0))
st_, res2 = post('/api/trust/undo', {'undo': res['undo']})
check(st_ == 200 and res2['removed'] == [target], 'undo: %s' % {k: v for k, v in res2.items() if k != 'flows'})
back = {f['id']: f for f in flows()}
check({f['id'] for f in res2['flows']} == ids and all(f == back[f['id']] for f in res2['flows']),
      'the undo answer carries the flows it changed back, each equal to its /flows object')
check(all(back[i]['verdict'] == 'anomalous' and not back[i]['trusted_by_user'] for i in ids), 'undo made them anomalous again')
st_, res3 = post('/api/trust/undo', {'undo': res['undo']})
check(st_ == 200 and res3['removed'] == [], 'a second undo removes nothing')
asn = next(f['asn'] for f in all_flows if f['asn'])
n_addr = len({f['remote_ip'] for f in all_flows if f['asn'] == asn and f['remote_scope'] == 'public'})
st_, res4 = post('/api/trust', {'asn': asn})
check(st_ == 409 and res4['would_affect'] == n_addr and 'confirm' in res4, 'AS%d without confirm: 409, would_affect %d' % (asn, n_addr))
# A blocklist hit or a signal is never cleared: a flow with a behaviour signal stays high when trusted.
sig = [f for f in all_flows if f['attention'] == 'high' and any(s['name'] not in ('first_contact', 'known_service') for s in f['signals'])]
if sig:
    st_, r5 = post('/api/trust', {'address': sig[0]['remote_ip'], 'detail': True})
    f = json.loads(get('/flows/%d' % sig[0]['id']))
    kept = [s['name'] for s in sig[0]['signals'] if s['name'] not in ('first_contact', 'known_service')]
    check(all(k in [s['name'] for s in f['signals']] for k in kept) and f['attention'] != 'none',
          'trusting flow %d keeps its signals %s and attention %s' % (f['id'], kept, f['attention']))
    post('/api/trust/undo', {'undo': r5['undo']})

# The scrubber's oracle: /flows?at=CUT equals /flows of a daemon that read only the packets before CUT.
first = json.load(open(first_file))['flows']
at = json.loads(get('/flows?at=' + cut))
check(at['snapshot'] == cut.replace('Z', '.000000Z'), 'at=%s uses the snapshot at %s' % (cut, at['snapshot']))
keys = ('id', 'proto', 'remote_ip', 'remote_port', 'local_port', 'packets_sent', 'packets_received', 'bytes_sent',
        'bytes_received', 'first_seen', 'last_seen', 'state', 'active', 'end_reason', 'verdict', 'verdict_sent',
        'verdict_received')
a = [tuple(f[k] for k in keys) for f in first]
b = [tuple(f[k] for k in keys) for f in at['flows']]
check(len(a) > 10 and a == b, '/flows?at= equals the saved /flows: %d flows, %d differ' % (len(a), len(set(a) ^ set(b))))
att = sum(1 for x, y in zip(first, at['flows']) if x['attention'] != y['attention'])
check(att == 0, 'attention equal too (%d differ)' % att)
grp = json.loads(get('/flows?at=%s&group=destination' % cut))
check(sum(g['flows'] for g in grp['groups']) == len(first), 'group= of the past list covers its %d flows' % len(first))
# History pages and the summary.
seen_ids, cursor, pages = [], None, 0
while pages < 100:
    d = json.loads(get('/api/history?limit=7' + ('&cursor=' + cursor if cursor else '')))
    seen_ids += [(f['run'], f['id']) for f in d['flows']]
    pages += 1
    cursor = d['next_cursor']
    if not cursor:
        break
check(len(seen_ids) == len(set(seen_ids)) and len(seen_ids) > 7, '/api/history: %d flows in %d pages, none twice' % (len(seen_ids), pages))
s = json.loads(get('/api/history/summary'))
check(s['flows'] == len(seen_ids) and 'new destination' in s['text'], 'summary: %s' % s['text'])
sys.exit(1 if bad else 0)
PY
echo "PASS: page_api"
