#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# http_refusals.sh: requests that will be refused are answered before their bodies are read, and POST
# bodies are strict. A LAN listener (0.0.0.0, reached through 127.0.0.1): a 100 MB PUT or POST without
# the token, a chunked GET, and a chunked POST over 4 KiB with the token are answered at once and the
# daemon reads less than 64 KiB of them (its recv calls, traced with strace); a request with both Content-Length and
# Transfer-Encoding gets 400 and the connection closes (the request pipelined behind it is never
# answered). A loopback listener: NUL (raw or \u0000) and text after the JSON object are refused; a
# catch-all (0.0.0.0/0, ::/0, a /8, *.com) is refused with 409 and would_affect equal to the learnt rows
# `netglobe history` lists in that range (the independent oracle), and goes ahead with "confirm": true;
# a forget of 0.0.0.0/0 without it erases nothing. 1,000 query parameters in a short URL and an HTTP/1.1
# request without Host get JSON errors with the documented headers, not libmicrohttpd's HTML. The most
# listeners allowed (32) all answer at once (each is polled).
. "$(dirname "$0")/../lib/common.sh"
need python3 curl strace

# start NAME LISTEN ARGS...: a daemon replaying a capture; sets $pid.
start() {
	name=$1
	shift
	"$NG_BIN" -r "$PCAPS/slips-test7-malicious.pcap" --listen "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" &
	pid=$!
	NG_PIDS="$NG_PIDS $pid"
}

LPORT=$(free_port)
mkdir -m 700 "$TMP/lan"
start lan "0.0.0.0:$LPORT" --state-dir "$TMP/lan"
i=0
until curl -s -o /dev/null "http://127.0.0.1:$LPORT/"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$TMP/lan.err"; fail "the LAN daemon did not start"; }
	sleep 0.1
done
python3 - "$LPORT" "$pid" "$(cat "$TMP/lan/http-token")" <<'PY' || fail "refusals before bodies"
import os, re, signal, socket, subprocess, sys, time

port, pid, token = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
failures = 0


def check(cond, what):
    global failures
    print(('ok ' if cond else 'FAIL ') + what)
    failures += 0 if cond else 1


class Reads:
    """Bytes the daemon takes from sockets (recvfrom/recvmsg/read results), traced with strace while active.
    /proc/PID/io's rchar does not count recv(2), which libmicrohttpd uses."""

    def __enter__(self):
        self.log = '/tmp/ng-refusals-strace.%d' % os.getpid()
        self.p = subprocess.Popen(['strace', '-qq', '-e', 'trace=recvfrom,recvmsg,read', '-e', 'signal=none',
                                   '-p', str(pid), '-o', self.log])
        time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        time.sleep(0.2)
        self.p.send_signal(signal.SIGINT)
        self.p.wait()
        self.bytes = 0
        for line in open(self.log):
            m = re.search(r'^(recvfrom|recvmsg|read)\((\d+),.*= (\d+)$', line.strip())
            if m:
                self.bytes += int(m.group(3))
        os.unlink(self.log)


def attempt(head, total):
    """Send head, then up to total body bytes as fast as the daemon takes them; return (status, seconds)."""
    s = socket.create_connection(('127.0.0.1', port))
    s.sendall(head.encode())
    s.setblocking(False)
    chunk, sent, answer, t0 = b'x' * 65536, 0, b'', time.time()
    while sent < total and time.time() - t0 < 10 and b'\r\n' not in answer:
        try:
            sent += s.send(chunk)
        except BlockingIOError:
            time.sleep(0.005)
        except OSError:
            break
        try:
            d = s.recv(4096)
            if not d:
                break
            answer += d
        except BlockingIOError:
            pass
        except OSError:
            break
    s.settimeout(3)
    try:
        while b'\r\n' not in answer:
            d = s.recv(4096)
            if not d:
                break
            answer += d
    except OSError:
        pass
    dt = time.time() - t0
    s.close()
    return (answer.split(b' ')[1].decode() if answer.startswith(b'HTTP/1.1 ') else '?'), dt


H = 'Host: 192.0.2.1:%d\r\n' % port
cases = [
    ('PUT /api/stats without the token', 'PUT /api/stats HTTP/1.1\r\n%sContent-Length: 104857600\r\n\r\n' % H, '401'),
    ('POST /api/trust without the token', 'POST /api/trust HTTP/1.1\r\n%sContent-Type: application/json\r\n'
     'Content-Length: 104857600\r\n\r\n' % H, '401'),
    ('PUT /api/stats with the token', 'PUT /api/stats HTTP/1.1\r\n%sAuthorization: Bearer %s\r\n'
     'Content-Length: 104857600\r\n\r\n' % (H, token), '405'),
    ('a chunked GET without the token', 'GET /flows HTTP/1.1\r\n%sTransfer-Encoding: chunked\r\n\r\n' % H, '401'),
    ('a chunked POST over 4 KiB with the token', 'POST /api/trust HTTP/1.1\r\n%sAuthorization: Bearer %s\r\n'
     'Content-Type: application/json\r\nOrigin: http://192.0.2.1:%d\r\nTransfer-Encoding: chunked\r\n\r\n'
     '10000\r\n' % (H, token, port), '413'),
]
for name, head, want in cases:
    with Reads() as r:
        st, dt = attempt(head, 100 << 20)
    read = r.bytes
    check(st == want and dt < 2 and read < 64 * 1024,
          '%s: %s (want %s) in %.2f s, the daemon read %d bytes (< 64 KiB)' % (name, st, want, dt, read))

# Content-Length and Transfer-Encoding together (request smuggling): 400, closed, the next request unanswered.
s = socket.create_connection(('127.0.0.1', port), timeout=5)
s.sendall(('POST /api/trust HTTP/1.1\r\n%sAuthorization: Bearer %s\r\nContent-Type: application/json\r\n'
           'Origin: http://192.0.2.1:%d\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
           'GET /api/stats HTTP/1.1\r\n%sAuthorization: Bearer %s\r\n\r\n' % (H, token, port, H, token)).encode())
out = b''
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except OSError:
    pass
s.close()
check(out.startswith(b'HTTP/1.1 400') and out.count(b'\r\nContent-Type:') == 1 and b'"pid"' not in out,
      'Content-Length with Transfer-Encoding: one answer, %r, then closed' % out.split(b'\r\n')[0])
sys.exit(1 if failures else 0)
PY
echo "ok refusals before bodies"

PORT=$(free_port)
mkdir -m 700 "$TMP/lo"
start lo "127.0.0.1:$PORT" --state-dir "$TMP/lo"
# Wait until the replay is in the store (history lists rows, and their number holds still).
prev=
i=0
while [ $i -lt 60 ]; do
	cur=$("$NG_BIN" history --state-dir "$TMP/lo" --format json 2> /dev/null | wc -l)
	[ "$cur" -gt 0 ] && [ "$cur" = "$prev" ] && break
	prev=$cur
	i=$((i + 1))
	sleep 1
done
[ "${cur:-0}" -gt 0 ] || { cat "$TMP/lo.err"; fail "the store never listed rows"; }
"$NG_BIN" history --state-dir "$TMP/lo" --format json > "$TMP/history.json"
echo "ok $(wc -l < "$TMP/history.json") learnt rows in the store"
python3 - "$PORT" "$TMP/history.json" "$TMP/lo" "$NG_BIN" <<'PY' || fail "strict POST bodies"
import ipaddress, json, socket, subprocess, sys

port, history, state, binary = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
rows = [json.loads(l) for l in open(history)]
failures = 0


def check(cond, what):
    global failures
    print(('ok ' if cond else 'FAIL ') + what)
    failures += 0 if cond else 1


def raw(data):
    s = socket.create_connection(('127.0.0.1', port), timeout=5)
    s.sendall(data)
    out = b''
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    s.close()
    head, _, body = out.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    hdrs = {l.split(':', 1)[0].lower(): l.split(':', 1)[1].strip() for l in lines[1:] if ':' in l}
    return (int(lines[0].split()[1]) if lines[0] else 0), hdrs, body


def post(what, body):
    if isinstance(body, str):
        body = body.encode()
    return raw(('POST /api/%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: http://127.0.0.1:%d\r\n'
                'Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' %
                (what, port, port, len(body))).encode() + body)


def covered(net):
    n = ipaddress.ip_network(net)
    return sum(1 for r in rows if ipaddress.ip_address(r['address']).version == n.version and
               ipaddress.ip_address(r['address']) in n)


def trusted():
    try:
        return open(state + '/trusted.txt').read()
    except OSError:
        return ''


st, h, b = post('trust', '{"domain":"a.example\\u0000.evil.example"}')
check(st == 400 and 'a.example' not in trusted(), 'a \\u0000 in a domain -> %d, nothing trusted' % st)
st, h, b = post('trust', b'{"domain":"b.example"}\x00')
check(st == 400 and 'b.example' not in trusted(), 'a raw NUL after the object -> %d' % st)
st, h, b = post('trust', '{"domain":"c.example"} {"domain":"d.example"}')
check(st == 400 and 'c.example' not in trusted(), 'text after the object -> %d' % st)
st, h, b = post('trust', '{"domain":"e\\\\u0000.example"}')
check(st == 400 and b'NUL' not in b, 'an escaped backslash before u0000 is not a NUL (refused as a bad name) -> %d' % st)
for net, kind in (('0.0.0.0/0', 'address'), ('::/0', 'address'), ('10.0.0.0/8', 'address'), ('2001::/16', 'address')):
    st, h, b = post('trust', json.dumps({kind: net}))
    doc = json.loads(b) if b else {}
    check(st == 409 and doc.get('would_affect') == covered(net) and doc.get('confirm') == 'resend with "confirm": true'
          and doc.get('ok') is False and net not in trusted() and h.get('content-type') == 'application/json',
          'trust %s without confirm -> %d, would_affect %s (history says %d)' % (net, st, doc.get('would_affect'), covered(net)))
st, h, b = post('trust', '{"domain":"*.com"}')
doc = json.loads(b) if b else {}
check(st == 409 and 'would_affect' in doc, 'trust *.com without confirm -> %d (%s)' % (st, doc.get('error')))
st, h, b = post('trust', '{"address":"192.0.2.0/24"}')
check(st == 200, 'a /24 needs no confirmation -> %d' % st)
st, h, b = post('trust', '{"address":"0.0.0.0/0","confirm":"yes"}')
check(st == 400, 'confirm must be a boolean -> %d' % st)
n4 = covered('0.0.0.0/0')
st, h, b = post('forget', '{"address":"0.0.0.0/0"}')
doc = json.loads(b) if b else {}
left = subprocess.run([binary, 'history', '--state-dir', state, '--format', 'json'], capture_output=True).stdout.count(b'\n')
check(st == 409 and doc.get('would_affect') == n4 and left == len(rows),
      'forget 0.0.0.0/0 without confirm -> %d, would_affect %s, %d of %d rows left' % (st, doc.get('would_affect'), left, len(rows)))
st, h, b = post('trust', '{"address":"0.0.0.0/0","confirm":true}')
check(st == 200 and '0.0.0.0/0' in trusted(), 'trust 0.0.0.0/0 with confirm -> %d' % st)
st, h, b = post('forget', '{"address":"0.0.0.0/0","confirm":true}')
left = subprocess.run([binary, 'history', '--state-dir', state, '--format', 'json'], capture_output=True).stdout.decode()
left4 = sum(1 for l in left.splitlines() if ':' not in json.loads(l)['address'])
check(st == 200 and left4 == 0 and '0.0.0.0/0' not in trusted(), 'forget 0.0.0.0/0 with confirm -> %d, %d IPv4 rows left' % (st, left4))

# Errors libmicrohttpd would write itself, answered by netglobe in JSON with the documented headers.
for name, req in (('1,000 query parameters in a short URL',
                   'GET /api/stats?%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n' % ('&'.join(['a'] * 1000), port)),
                  ('an HTTP/1.1 request without Host', 'GET /api/stats HTTP/1.1\r\nConnection: close\r\n\r\n')):
    st, h, b = raw(req.encode())
    ok = st in (400, 414) and h.get('content-type') == 'application/json' and 'error' in json.loads(b or b'{}')
    for k in ('content-security-policy', 'x-content-type-options', 'x-frame-options', 'referrer-policy'):
        ok = ok and k in h
    check(ok, '%s -> %d, JSON with the common headers' % (name, st))
sys.exit(1 if failures else 0)
PY

# The most listeners allowed (32): every one is polled, so every one answers at once.
MPORT=$(free_port)
many=
for i in $(seq 1 32); do many="$many --listen 127.0.0.$i:$MPORT"; done
mkdir -m 700 "$TMP/many"
"$NG_BIN" -r "$PCAPS/slips-test7-malicious.pcap" $many --state-dir "$TMP/many" > "$TMP/many.out" 2> "$TMP/many.err" &
NG_PIDS="$NG_PIDS $!"
i=0
until curl -s -o /dev/null "http://127.0.0.32:$MPORT/api/stats"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$TMP/many.err"; fail "32 listeners: no answer"; }
	sleep 0.1
done
python3 - "$MPORT" <<'PY' || fail "32 listeners"
import socket, sys, time
port, worst, ok = int(sys.argv[1]), 0, 0
for i in range(1, 33):
    t0 = time.time()
    s = socket.create_connection(('127.0.0.%d' % i, port), timeout=5)
    s.sendall(b'GET /api/stats HTTP/1.1\r\nHost: 127.0.0.%d:%d\r\nConnection: close\r\n\r\n' % (i, port))
    ok += s.recv(16).startswith(b'HTTP/1.1 200')
    s.close()
    worst = max(worst, time.time() - t0)
print('%s 32 listeners: %d answered, the slowest in %.3f s' % ('ok' if ok == 32 and worst < 0.5 else 'FAIL', ok, worst))
sys.exit(0 if ok == 32 and worst < 0.5 else 1)
PY
echo "PASS http_refusals"
