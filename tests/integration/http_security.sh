#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# http_security.sh: hostile clients against the real daemon. Loopback listener: a foreign Host gets 403 (DNS
# rebinding), a cross-origin or origin-less POST gets 403 (CSRF), a same-origin POST works; traversal in
# every encoding gets 404; long URLs 414, big bodies 413; a slowloris client is cut off while others are
# served; connection and stream caps hold. LAN listener (0.0.0.0): the token is required (401) for data,
# only in the Authorization header (never a cookie or the query), every guess counts, wrong tokens are
# slowed to 429 per client. As root, a client in
# a network namespace meets the token and the 64-connections-per-address cap. Start-up errors (port in use,
# bad addresses, an unusable token file or state directory) give one clear line.
. "$(dirname "$0")/../lib/common.sh"
need python3 curl
PCAP=$PCAPS/slips-test7-malicious.pcap

"$NG_BIN" --help 2>&1 | grep -q -- '--listen' || fail "$NG_BIN --help does not list --listen (the HTTP mode)"

# start_daemon NAME LISTEN ARGS...: replay $PCAP with --listen LISTEN (on 127.0.0.1) and wait until it answers.
start_daemon() {
	name=$1
	listen=$2
	shift 2
	port=${listen##*:}
	NG_START_TRIES=150 ng_start "$name" "$NG_BIN" -r "$PCAP" --listen "$listen" "$@"
}

# expect_error WHAT PATTERN ARGS...: the daemon exits non-zero (not by a signal) with one line matching PATTERN.
expect_error() {
	what=$1
	pattern=$2
	shift 2
	timeout 30 "$NG_BIN" -q -r "$PCAP" "$@" > "$TMP/out" 2> "$TMP/err"
	rc=$?
	[ $rc -ne 0 ] || fail "$what: exit status 0"
	[ $rc -lt 124 ] || fail "$what: exit $rc (timeout or signal)"
	lines=$(grep -c . "$TMP/err")
	[ "$lines" -eq 1 ] || { cat "$TMP/err"; fail "$what: $lines lines on stderr, want 1"; }
	grep -q -- "$pattern" "$TMP/err" || { cat "$TMP/err"; fail "$what: message lacks '$pattern'"; }
	echo "ok $what: $(cat "$TMP/err")"
}

LPORT=$(free_port)
start_daemon loop "127.0.0.1:$LPORT" --state-dir "$TMP/loopstate" --max-clients 400
echo "loopback daemon on $LPORT"

# A page of another site: it may link to the page, but not call the API or open event streams.
for target in /flows /events /api/stats; do
	code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -H 'Sec-Fetch-Site: cross-site' -H 'Sec-Fetch-Mode: cors' \
		"http://127.0.0.1:$LPORT$target")
	[ "$code" = 403 ] || fail "cross-site fetch of $target answered $code, want 403"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Sec-Fetch-Site: cross-site' -H 'Sec-Fetch-Mode: navigate' \
	"http://127.0.0.1:$LPORT/")
[ "$code" = 200 ] || fail "a cross-site link to the page answered $code, want 200"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Sec-Fetch-Site: same-origin' "http://127.0.0.1:$LPORT/flows")
[ "$code" = 200 ] || fail "a same-origin fetch of /flows answered $code, want 200"
echo "ok fetch metadata: cross-site API and stream requests 403, cross-site navigation and same-origin 200"

python3 - "$LPORT" <<'PY' || fail "loopback checks failed"
import json, socket, sys, threading, time, urllib.error, urllib.request

port = int(sys.argv[1])
base = 'http://127.0.0.1:%d' % port
failures = 0


def check(cond, what):
    global failures
    print(('ok ' if cond else 'FAIL ') + what)
    failures += 0 if cond else 1


def raw(request, timeout=10):
    """Send raw bytes, return (status, headers+body bytes)."""
    s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    s.sendall(request)
    data = b''
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
            if b'\r\n\r\n' in data:
                head, _, body = data.partition(b'\r\n\r\n')
                cl = [l for l in head.split(b'\r\n') if l.lower().startswith(b'content-length:')]
                if cl and len(body) >= int(cl[0].split(b':')[1]):
                    break
    except socket.timeout:
        pass
    s.close()
    try:
        return int(data.split(b' ', 2)[1]), data
    except (IndexError, ValueError):
        return 0, data


def get(path, host=None, headers=None):
    h = ''.join('%s: %s\r\n' % kv for kv in (headers or {}).items())
    return raw(('GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s\r\n' %
                (path, host or '127.0.0.1:%d' % port, h)).encode('latin-1'))


def post(path, body, headers):
    h = ''.join('%s: %s\r\n' % kv for kv in headers.items())
    return raw(('POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\nContent-Length: %d\r\n%s\r\n' %
                (path, port, len(body), h)).encode('latin-1') + body)


# DNS rebinding: only loopback names with our port.
for host, want in (('evil.example:%d' % port, 403), ('evil.example', 403), ('127.0.0.1:%d' % (port + 1), 403),
                   ('127.0.0.1.nip.io:%d' % port, 403), ('localhost.evil.example:%d' % port, 403),
                   ('127.0.0.1', 403), ('user@127.0.0.1:%d' % port, 403),
                   ('localhost:%d' % port, 200), ('LOCALHOST:%d' % port, 200), ('app.localhost:%d' % port, 200),
                   ('[::1]:%d' % port, 200), ('127.0.0.1:%d' % port, 200), ('127.1.2.3:%d' % port, 200)):
    for path in ('/flows?limit=1', '/', '/api/stats'):
        st, _ = get(path, host)
        check(st == want, 'Host %s on %s -> %d (want %d)' % (host, path, st, want))
st, data = get('/events', 'evil.example:%d' % port)
check(st == 403, 'Host evil.example on /events -> %d' % st)

# CSRF: a POST needs Origin (or Referer) naming us, and a JSON body.
body = json.dumps({'domain': 'trusted.example'}).encode()
J = {'Content-Type': 'application/json'}
for extra, want, what in (({}, 403, 'no Origin, no Referer'),
                          ({'Origin': 'http://evil.example'}, 403, 'Origin evil.example'),
                          ({'Origin': 'null'}, 403, 'Origin null'),
                          ({'Origin': 'http://127.0.0.1:%d.evil.example' % port}, 403, 'Origin with our name as prefix'),
                          ({'Referer': 'http://evil.example/x'}, 403, 'Referer evil.example'),
                          ({'Referer': 'http://127.0.0.1:%d.evil.example/' % port}, 403, 'Referer with our name as prefix'),
                          ({'Origin': 'http://127.0.0.1:%d' % port}, 200, 'same Origin'),
                          ({'Referer': 'http://127.0.0.1:%d/index.html' % port}, 200, 'same-origin Referer')):
    st, data = post('/api/trust', body, dict(J, **extra))
    check(st == want, 'POST /api/trust with %s -> %d (want %d)' % (what, st, want))
st, data = post('/api/trust', body, {'Content-Type': 'text/plain', 'Origin': 'http://127.0.0.1:%d' % port})
check(st == 415, 'POST with text/plain (what a cross-site form sends) -> %d' % st)
st, data = post('/api/trust', b'{"domain": "' + b'a' * 5000 + b'"}', dict(J, Origin='http://127.0.0.1:%d' % port))
check(st == 413, 'POST body over 4 KiB -> %d' % st)

# Path traversal, in every spelling: 404 (or 400 for %00), never a file from outside.
for path in ('/../etc/passwd', '/../../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/%2E%2E/etc/passwd',
             '/js/..%2f..%2f..%2fetc%2fpasswd', '/%252e%252e/%252e%252e/etc/passwd', '/..%5c..%5cetc%5cpasswd',
             '/vendor/../../../../../etc/passwd', '//etc/passwd', '/.%2e/.%2e/etc/passwd', '/%c0%ae%c0%ae/etc/passwd',
             '/js/../index.html', '/./index.html', '/index.html/', '/etc/passwd', '/proc/self/environ'):
    st, data = get(path)
    check(st == 404 and b'root:' not in data, '%s -> %d' % (path, st))
st, data = get('/index.html%00.js')
check(st == 400, '/index.html%%00.js -> %d' % st)

# Sizes: a long target 414, a huge one refused without harm, a huge header refused.
st, _ = get('/flows?q=' + 'a' * 3000)
check(st == 414, '3000-byte query -> %d' % st)
st, _ = get('/' + 'a' * 3000)
check(st == 414, '3000-byte path -> %d' % st)
st, _ = get('/' + 'a' * 200000)
check(st in (0, 400, 414, 431), '200 KB target -> %d (refused by libmicrohttpd)' % st)
st, _ = get('/', headers={'X-Big': 'b' * 100000})
check(st in (0, 400, 413, 431), '100 KB header -> %d' % st)
st, _ = get('/api/stats')
check(st == 200, 'still serving after the oversize requests')

# Slowloris: headers one byte a second; cut off within the header deadline while others are served.
s = socket.create_connection(('127.0.0.1', port))
s.sendall(b'GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n' % port)
t0 = time.time()
closed = None
served = 0
slow = [0.0]
for i in range(40):
    try:
        s.sendall(b'X')
        s.settimeout(0.05)
        try:
            if s.recv(100) == b'':
                closed = time.time() - t0
                break
        except socket.timeout:
            pass
    except OSError:
        closed = time.time() - t0
        break
    t1 = time.time()
    st, _ = get('/api/stats')
    slow.append(time.time() - t1)
    served += st == 200
    time.sleep(max(0, 1 - (time.time() - t1)))
s.close()
check(closed is not None and closed < 20, 'slowloris connection cut after %s s' % (closed and round(closed, 1)))
check(served >= 5 and max(slow) < 1.0, '%d requests served meanwhile, slowest %.3f s' % (served, max(slow)))

# Stream cap: 256 streams, the next gets 503; connections come back when they go.
socks = []
for i in range(256):
    c = socket.create_connection(('127.0.0.1', port))
    c.sendall(b'GET /events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n' % port)
    socks.append(c)
ok = 0
for c in socks:
    c.settimeout(5)
    d = b''
    while b'retry:' not in d:
        x = c.recv(4096)
        if not x:
            break
        d += x
    ok += d.startswith(b'HTTP/1.1 200') and b'text/event-stream' in d
check(ok == 256, '256 event streams open (%d)' % ok)
st, data = get('/events')
check(st == 503 and b'Retry-After' in data, 'stream 257 -> %d with Retry-After' % st)
st, _ = get('/api/stats')
check(st == 200, 'plain requests still served with 256 streams')
for c in socks:
    c.close()
time.sleep(1)
sse = None
for i in range(40):	# suspended streams notice the close at their next heartbeat or event
    d = json.loads(urllib.request.urlopen(base + '/api/stats').read())['http']
    sse = d['sse_clients']
    if sse == 0:
        break
    time.sleep(0.5)
check(sse == 0, 'closed streams are let go (%s left)' % sse)

# Connection cap (--max-clients 400): the server takes 400 connections; the rest wait in the kernel's
# backlog until slots free up (here: when the idle ones pass the header deadline or close).
import select
socks = [socket.create_connection(('127.0.0.1', port)) for i in range(420)]
time.sleep(1)
for c in socks:
    c.sendall(b'GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n' % port)
answered = set()
t0 = time.time()
while time.time() - t0 < 2:
    r, _, _ = select.select([c for c in socks if c not in answered], [], [], 0.2)
    answered.update(r)
check(380 <= len(answered) <= 400, '%d of 420 connections served at --max-clients 400' % len(answered))
for c in socks:
    c.close()
time.sleep(0.5)
st, _ = get('/api/stats')
check(st == 200, 'served again once they closed')

print('%d failures' % failures)
sys.exit(1 if failures else 0)
PY

# The same on IPv6 loopback, when this host has it.
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	P6=$(free_port)
	"$NG_BIN" -r "$PCAP" --listen "[::1]:$P6" --state-dir "$TMP/v6state" > "$TMP/v6.out" 2> "$TMP/v6.err" &
	NG_PIDS="$NG_PIDS $!"
	i=0
	until curl -s -o /dev/null "http://[::1]:$P6/api/stats"; do
		i=$((i + 1))
		[ $i -lt 150 ] || fail "[::1]: no answer"
		sleep 0.1
	done
	st=$(curl -s -o /dev/null -w '%{http_code}' "http://[::1]:$P6/api/stats")
	[ "$st" = 200 ] || fail "[::1]:$P6 /api/stats -> $st"
	st=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: evil.example:$P6" "http://[::1]:$P6/api/stats")
	[ "$st" = 403 ] || fail "[::1] with a foreign Host -> $st"
	echo "ok [::1] listener: loopback Host 200, foreign Host 403"
fi

# A LAN listener: 0.0.0.0 is not loopback, so the token is required even through 127.0.0.1.
NPORT=$(free_port)
start_daemon lan "0.0.0.0:$NPORT" --state-dir "$TMP/lanstate"
[ -f "$TMP/lanstate/http-token" ] || fail "no token file in the state directory"
mode=$(stat -c %a "$TMP/lanstate/http-token")
[ "$mode" = 600 ] || fail "token file mode $mode, want 600"
TOKEN=$(cat "$TMP/lanstate/http-token")
echo "$TOKEN" | grep -Eq '^[0-9a-f]{64}$' || fail "token is not 64 hex digits"
grep -q "/#token=$TOKEN" "$TMP/lan.err" || { cat "$TMP/lan.err"; fail "the start-up log does not print the token URL (#token=)"; }
echo "ok LAN listener: token file 0600, URL printed"

python3 - "$NPORT" "$TOKEN" <<'PY' || fail "LAN checks failed"
import json, socket, subprocess, sys, time

port, token = int(sys.argv[1]), sys.argv[2]
failures = 0


def check(cond, what):
    global failures
    print(('ok ' if cond else 'FAIL ') + what)
    failures += 0 if cond else 1


def req(method, path, headers=None, body=b'', source='127.0.0.1'):
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(10)
    s.connect(('127.0.0.1', port))
    h = {'Host': '192.0.2.10:%d' % port, 'Connection': 'close'}
    h.update(headers or {})
    if body:
        h['Content-Length'] = str(len(body))
    s.sendall(('%s %s HTTP/1.1\r\n' % (method, path) + ''.join('%s: %s\r\n' % kv for kv in h.items()) +
               '\r\n').encode() + body)
    data = b''
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    head, _, body = data.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(':')
        hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    return int(lines[0].split()[1]), hdrs, body


for path in ('/flows', '/api/stats', '/events'):
    st, h, b = req('GET', path)
    check(st == 401, 'no token: %s -> %d' % (path, st))
# The page's files hold no data: served without the token (the page brings the token to the API).
for path in ('/', '/index.html'):
    st, h, b = req('GET', path)
    check(st == 200, 'no token: the page file %s -> %d' % (path, st))
# A browser navigating to the API without the token: a page that explains the token and the QR code.
st, h, b = req('GET', '/flows', {'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Site': 'none', 'Accept': 'text/html'})
check(st == 401 and h.get('content-type', [''])[0].startswith('text/html') and b'QR code' in b and
      b'#token=' in b, 'a navigation without the token -> %d, an HTML page about the token and the QR code' % st)
for name in ('content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy'):
    check(name in h, 'that page has %s' % name)
# The token is never taken from the query or a cookie (cookies ignore ports: another service would get it).
st, h, b = req('GET', '/?token=%s&view=list' % token, {'Accept': 'text/html'})
check(st == 401 and token.encode() not in b and b'#token=' in b and not h.get('set-cookie'),
      '?token= on / -> %d, a page that names the #token= form, no cookie' % st)
st, h, b = req('GET', '/flows?limit=1&token=%s' % token)
check(st == 401 and not h.get('set-cookie') and 'Authorization' in json.loads(b)['error'],
      '?token= on /flows -> %d, no data, no cookie' % st)
C = {'Cookie': 'netglobe_token=%s' % token}
st, h, b = req('GET', '/api/stats', C)
cookie = (h.get('set-cookie') or [''])[0]
check(st == 401 and 'Max-Age=0' in cookie, 'the right token as a cookie -> %d, and the cookie is expired (%s)' % (st, cookie))
A = {'Authorization': 'Bearer %s' % token}
for path in ('/flows?limit=2', '/api/stats'):
    st, h, b = req('GET', path, A)
    check(st == 200 and not h.get('set-cookie'), 'Authorization: Bearer: %s -> %d, no cookie' % (path, st))
# POSTs still need a matching Origin, even with the token.
J = dict(A, **{'Content-Type': 'application/json'})
st, h, b = req('POST', '/api/trust', J, b'{"domain": "lan.example"}')
check(st == 403, 'POST with the token but no Origin -> %d' % st)
st, h, b = req('POST', '/api/trust', dict(J, Origin='http://192.0.2.10:%d' % port), b'{"domain": "lan.example"}')
check(st == 200, 'POST with the token and its Origin -> %d' % st)
# Wrong tokens, from 127.0.0.3: 401 until the limit, then 429 for everything from there, even the right token.
codes = [req('GET', '/api/stats', {'Authorization': 'Bearer %064x' % i}, source='127.0.0.3')[0] for i in range(7)]
check(codes[:5] == [401] * 5 and codes[5:] == [429, 429], 'wrong tokens: %s' % codes)
st, h, b = req('GET', '/api/stats', A, source='127.0.0.3')
check(st == 429 and int(h.get('retry-after', ['0'])[0]) > 0, 'the right token while blocked -> %d, Retry-After %s' %
      (st, h.get('retry-after')))
st, h, b = req('GET', '/api/stats', {'Authorization': 'Bearer ' + 'f' * 64}, source='127.0.0.4')
check(st == 401, 'a wrong token -> %d' % st)
st, h, b = req('GET', '/api/stats', A)
check(st == 200, 'other clients are not blocked -> %d' % st)
for bad in ('', 'x', token[:-1], token + '0', token.upper()):
    st, h, b = req('GET', '/api/stats', {'Authorization': 'Bearer ' + bad}, source='127.0.0.5')
    check(st in (401, 429), 'token %r -> %d' % (bad[:8], st))
# Every guess a request carries counts: five Authorization headers in one request block at once.
s = socket.socket()
s.bind(('127.0.0.6', 0))
s.connect(('127.0.0.1', port))
s.sendall(('GET /api/stats HTTP/1.1\r\nHost: 192.0.2.10:%d\r\nConnection: close\r\n' % port +
           ''.join('Authorization: Bearer %064x\r\n' % (i + 100) for i in range(5)) + '\r\n').encode())
first = s.recv(100).split(b' ', 2)[1]
s.close()
st, h, b = req('GET', '/api/stats', A, source='127.0.0.6')
check(first == b'401' and st == 429, 'five guesses in one request: %s, then the right token -> %d' % (first, st))
print('%d failures' % failures)
sys.exit(1 if failures else 0)
PY

# The token survives a restart; a token file readable by others is made private again.
kill "$pid"
wait "$pid" 2>/dev/null
chmod 644 "$TMP/lanstate/http-token"
start_daemon lan2 "0.0.0.0:$NPORT" --state-dir "$TMP/lanstate"
[ "$(cat "$TMP/lanstate/http-token")" = "$TOKEN" ] || fail "the token changed across a restart"
[ "$(stat -c %a "$TMP/lanstate/http-token")" = 600 ] || fail "the token file stayed readable by others"
st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$NPORT/api/stats")
[ "$st" = 200 ] || fail "the token after a restart -> $st"
echo "ok the token survives a restart; a 0644 token file is made 0600"

# A real LAN client (root: two network namespaces joined by a veth pair): the per-address connection cap,
# and the token from a non-loopback address.
if is_root && command -v ip > /dev/null && ip netns add "ngsA$$" 2> /dev/null; then
	nsa=ngsA$$
	nsb=ngsB$$
	trap 'ip netns del "$nsa" 2> /dev/null; ip netns del "$nsb" 2> /dev/null; ng_cleanup' EXIT INT TERM
	ip netns add "$nsb"
	ip link add "ngva$$" type veth peer name "ngvb$$"
	ip link set "ngva$$" netns "$nsa"
	ip link set "ngvb$$" netns "$nsb"
	ip -n "$nsa" link set lo up
	ip -n "$nsb" link set lo up
	ip -n "$nsa" addr add 203.0.113.1/24 dev "ngva$$"
	ip -n "$nsb" addr add 203.0.113.7/24 dev "ngvb$$"
	ip -n "$nsa" link set "ngva$$" up
	ip -n "$nsb" link set "ngvb$$" up
	ip netns exec "$nsa" "$NG_BIN" -r "$PCAP" --listen 203.0.113.1:8080 --state-dir "$TMP/nsstate" \
		> "$TMP/ns.out" 2> "$TMP/ns.err" &
	NG_PIDS="$NG_PIDS $!"
	i=0
	until ip netns exec "$nsb" curl -s -o /dev/null http://203.0.113.1:8080/api/stats; do
		i=$((i + 1))
		[ $i -lt 150 ] || { cat "$TMP/ns.err"; fail "namespace daemon: no answer"; }
		sleep 0.1
	done
	NSTOKEN=$(cat "$TMP/nsstate/http-token")
	ip netns exec "$nsb" python3 - "$NSTOKEN" <<'PY' || fail "LAN namespace checks failed"
import socket, sys, time

token = sys.argv[1]
failures = 0


def check(cond, what):
    global failures
    print(('ok ' if cond else 'FAIL ') + what)
    failures += 0 if cond else 1


def get(path, headers=''):
    s = socket.create_connection(('203.0.113.1', 8080), timeout=10)
    s.sendall(('GET %s HTTP/1.1\r\nHost: 203.0.113.1:8080\r\nConnection: close\r\n%s\r\n' % (path, headers)).encode())
    d = b''
    while True:
        x = s.recv(65536)
        if not x:
            break
        d += x
    s.close()
    return int(d.split(b' ', 2)[1]) if d else 0


check(get('/api/stats') == 401, 'from 203.0.113.7 without the token: 401')
check(get('/api/stats', 'Authorization: Bearer %s\r\n' % token) == 200, 'from 203.0.113.7 with the token: 200')
# 70 idle connections from one address: 64 are taken, the rest closed at once.
socks = [socket.create_connection(('203.0.113.1', 8080)) for i in range(70)]
time.sleep(1)
closed = 0
for c in socks:
    c.settimeout(0.05)
    try:
        closed += c.recv(1) == b''
    except socket.timeout:
        pass
    except OSError:
        closed += 1
check(closed == 6, '70 connections from one address: %d closed at once (the cap is 64)' % closed)
for c in socks:
    c.close()
time.sleep(0.5)
check(get('/api/stats', 'Authorization: Bearer %s\r\n' % token) == 200, 'served again once they closed')
sys.exit(1 if failures else 0)
PY
	echo "ok LAN client in a network namespace"
fi

# Start-up errors: one line each.
expect_error "port in use" "cannot listen on 0.0.0.0:$NPORT: Address already in use" \
	--listen "0.0.0.0:$NPORT" --state-dir "$TMP/other"
expect_error "bad address" "bad address '999.1.1.1'" --listen 999.1.1.1:80 --state-dir "$TMP/other"
expect_error "bad port" "bad port 'notaport'" --listen localhost:notaport --state-dir "$TMP/other"
expect_error "IPv6 without brackets" "in brackets" --listen ::1:8080 --state-dir "$TMP/other"
expect_error "no port" "want" --listen 127.0.0.1 --state-dir "$TMP/other"
expect_error "foreign address" "Cannot assign requested address" --listen 192.0.2.254:8080 --state-dir "$TMP/other"
mkdir -p "$TMP/dirtoken/http-token"
expect_error "token file is a directory" "http-token" --listen "0.0.0.0:$(free_port)" --state-dir "$TMP/dirtoken"
mkdir -p "$TMP/linktoken"
ln -s /etc/hostname "$TMP/linktoken/http-token"
expect_error "token file is a symbolic link" "http-token" --listen "0.0.0.0:$(free_port)" --state-dir "$TMP/linktoken"
if is_root; then
	# A token someone else planted (here: uid 65534) is refused, not trusted.
	mkdir -m 700 "$TMP/planted"
	printf '%064d\n' 0 > "$TMP/planted/http-token"
	chown 65534 "$TMP/planted/http-token"
	expect_error "planted token file" "belongs to uid 65534" --listen "0.0.0.0:$(free_port)" --state-dir "$TMP/planted"
	mkdir -m 1777 "$TMP/sticky"
	expect_error "world-writable state directory" "writable by everyone" --listen "0.0.0.0:$(free_port)" --state-dir "$TMP/sticky"
fi
if ! is_root; then
	mkdir -p "$TMP/locked"
	chmod 000 "$TMP/locked"
	expect_error "unreadable state directory" "$TMP/locked" --listen "0.0.0.0:$(free_port)" --state-dir "$TMP/locked"
	chmod 700 "$TMP/locked"
elif command -v setpriv > /dev/null; then
	# As root nothing is unreadable: run as nobody against a root-only directory.
	mkdir -p "$TMP/pub" "$TMP/locked"
	chmod 755 "$TMP" "$TMP/pub"
	cp "$PCAP" "$TMP/pub/c.pcap"
	chmod 644 "$TMP/pub/c.pcap"
	chmod 700 "$TMP/locked"
	cp "$NG_BIN" "$TMP/pub/netglobe"
	chmod 755 "$TMP/pub/netglobe"
	timeout 30 setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/pub/netglobe" -q --no-geoip -r "$TMP/pub/c.pcap" \
		--listen "0.0.0.0:$(free_port)" --state-dir "$TMP/locked" > "$TMP/out" 2> "$TMP/err"
	rc=$?
	lines=$(grep -c . "$TMP/err")
	{ [ $rc -ne 0 ] && [ $rc -lt 124 ] && [ "$lines" -eq 1 ] && grep -q "$TMP/locked" "$TMP/err"; } ||
		{ cat "$TMP/err"; fail "unreadable state directory: exit $rc, $lines lines"; }
	echo "ok unreadable state directory (as nobody): $(cat "$TMP/err")"
fi
echo "PASS http_security"
