#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# abuse.sh: hostile input the daemon must survive with bounded memory and a responsive API.
#
#   - a DNS answer flood: 150,000 responses, each with 8 distinct A records (1.2 million addresses): the passive
#     DNS cache stays at --dns-max entries, memory under the cap of docs/operations.md;
#   - fragments that never complete: 200,000 IPv4 and IPv6 first fragments from random sources and 50,000 later
#     fragments without a first: all counted, flows capped by --max-flows, memory bounded (the fragment table
#     is fixed-size);
#   - a valid pcap of 50,000 random-byte frames: counted as malformed or not IP, nothing crashes;
#   - a file of random bytes and four damaged captures (pcapgen garbage/corrupt): one clear line, exit 1, or
#     (damage after valid packets) the daemon keeps serving what it read and says where the file broke;
#   - 10,000 idle HTTP connections from 200 loopback addresses (tests/tools/idle_conns): the daemon holds at
#     most --max-clients of them, /api/stats answers another client every time (median under 1 s, slowest
#     under 30 s: a client queued behind idle connections waits for their header timeout), and its
#     descriptors come back to the count before the attack once the connections go.
# Every stage prints what it measured. Loopback only; the captures are written by the script below.
. "$(dirname "$0")/../lib/common.sh"
need python3 curl
IDLE=$NG_BUILD/tools/idle_conns
PCAPGEN=$NG_BUILD/tools/pcapgen
[ -x "$IDLE" ] || fail "$IDLE is not built (make BUILD=$NG_BUILD all)"
[ -x "$PCAPGEN" ] || fail "$PCAPGEN is not built (make BUILD=$NG_BUILD all)"

cat > "$TMP/mkpcap.py" <<'PY'
# mkpcap.py KIND OUT N [SEED]: hostile captures for abuse.sh (classic pcap, Ethernet, microsecond times).
#   dnsflood   N DNS queries from 192.168.1.10 to 9.9.9.9:53, each answered with 8 distinct A records
#   fragments  N first fragments that never complete (IPv4 MF=1 offset 0 and IPv6 fragment headers, random
#              public sources), plus N/4 later fragments that have no first
#   randframes N frames of random bytes (0 to 1514 bytes) in a valid pcap
import random, struct, sys

kind, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 7)
FIRST = [o for o in range(1, 224) if o not in (10, 100, 127, 169, 172, 192, 198)]
LOCAL4, LOCAL6 = bytes([192, 168, 1, 10]), bytes.fromhex('fd000000000000000000000000000010')
ETH4 = bytes.fromhex('020000000001' '020000000002' '0800')
ETH6 = bytes.fromhex('020000000001' '020000000002' '86dd')
t0 = 1794816000


def pub4():
    return bytes([rng.choice(FIRST), rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)])


def pub6():
    return bytes([0x26, rng.randrange(256)]) + rng.randbytes(14)


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip4(src, dst, proto, payload, ident=0, frag=0):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return ETH4 + h + payload


def name(s):
    return b''.join(bytes([len(p)]) + p.encode() for p in s.split('.')) + b'\0'


with open(out, 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))

    def rec(i, frame):
        t = t0 * 1000000 + i * 200
        f.write(struct.pack('<IIII', t // 1000000, t % 1000000, len(frame), len(frame)) + frame)

    for i in range(n):
        if kind == 'dnsflood':
            # Each answer follows its query (netglobe learns only answers to queries it saw), so every one
            # of them reaches the cache: the hardest case for its bound.
            q = name('h%d.z%d.flood.example' % (i, i % 97))
            txid, port = rng.randrange(65536), rng.randrange(1024, 65536)
            query = struct.pack('!HHHHHH', txid, 0x0100, 1, 0, 0, 0) + q + struct.pack('!HH', 1, 1)
            rec(i, ip4(LOCAL4, bytes([9, 9, 9, 9]), 17, struct.pack('!HHHH', port, 53, 8 + len(query), 0) + query))
            dns = struct.pack('!HHHHHH', txid, 0x8180, 1, 8, 0, 0) + q + struct.pack('!HH', 1, 1)
            for _ in range(8):
                dns += struct.pack('!HHHIH', 0xc00c, 1, 1, 300, 4) + pub4()
            udp = struct.pack('!HHHH', 53, port, 8 + len(dns), 0) + dns
            rec(i, ip4(bytes([9, 9, 9, 9]), LOCAL4, 17, udp))
        elif kind == 'fragments':
            if i % 2 == 0:
                udp = struct.pack('!HHHH', rng.randrange(1024, 65536), 443, 8 + 1400, 0) + bytes(200)
                rec(i, ip4(pub4(), LOCAL4, 17, udp, ident=rng.randrange(65536), frag=0x2000))
            else:
                fh = struct.pack('!BBHI', 17, 0, 0x0001, rng.randrange(1 << 32))   # offset 0, M=1
                udp = struct.pack('!HHHH', rng.randrange(1024, 65536), 443, 8 + 1400, 0) + bytes(200)
                pl = fh + udp
                rec(i, ETH6 + struct.pack('!IHBB16s16s', 0x60000000, len(pl), 44, 64, pub6(), LOCAL6) + pl)
            if i % 4 == 0:
                rec(i, ip4(pub4(), LOCAL4, 17, bytes(300), ident=rng.randrange(65536), frag=0x2000 | 185))
        elif kind == 'randframes':
            rec(i, rng.randbytes(rng.randrange(0, 1515)))
        else:
            sys.exit('unknown kind ' + kind)
PY

# start NAME ARGS...: the daemon; sets pid and port once /api/stats answers.
start() {
	name=$1
	shift
	port=$(free_port)
	ng_start "$name" "$NG_BIN" --listen "127.0.0.1:$port" --no-geoip "$@"
}

# replay_check NAME MAXFLOWS KEEPENDED DNSMAX PYEXPR: wait for the replay (sampling VmRSS), then check the
# stats document `d` with PYEXPR, VmRSS against the cap (no GeoIP), and that SIGTERM gives 0.
replay_check() {
	python3 - "$port" "$pid" "$2" "$3" "$4" "$5" "$1" <<'PY' || fail "$1"
import json, os, re, sys, time, urllib.request

port, pid, maxflows, keepended, dnsmax, expr, name = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7]
url = 'http://127.0.0.1:%d/api/stats' % port
rss, worst, d = 0, 0.0, {}
for _ in range(3000):
    t = time.monotonic()
    d = json.loads(urllib.request.urlopen(url, timeout=10).read())
    worst = max(worst, time.monotonic() - t)
    with open('/proc/%d/status' % pid) as f:
        rss = max(rss, int(re.search(r'VmRSS:\s+(\d+)', f.read()).group(1)))
    if d['replay']['done']:
        break
    time.sleep(0.1)
cap = (48 * 2**20 + (maxflows + keepended) * 768 + dnsmax * 512) // 1024
ok = eval(expr, {'d': d})
print('%s: packets %d, malformed %d, not IP %d, fragments %d, flows active %d, DNS entries %s, '
      'VmRSS max %d KiB (cap %d), slowest /api/stats %.0f ms, replay error %s' % (
          name, d['packets'], d['malformed'], d['not_ip'], d['fragments'], d['flows_active'],
          (d.get('dns') or {}).get('entries'), rss, cap, worst * 1000, d['replay'].get('error')))
if not d['replay']['done']:
    print('FAIL %s: the replay did not finish' % name)
if not ok:
    print('FAIL %s: %s is false' % (name, expr))
sanitized = os.environ.get('NG_SANITIZED') == '1'
if rss >= cap and sanitized:
    print('NOTE %s: VmRSS not judged: AddressSanitizer build (shadow memory and quarantine)' % name)
elif rss >= cap:
    print('FAIL %s: VmRSS over the cap' % name)
sys.exit(0 if d['replay']['done'] and ok and (rss < cap or sanitized) else 1)
PY
	kill -TERM "$pid"
	wait "$pid" || fail "$1: exit status $? after SIGTERM"
}

# 1. DNS answer flood.
python3 "$TMP/mkpcap.py" dnsflood "$TMP/dns.pcap" 150000 || fail "cannot write the DNS flood"
start dns -r "$TMP/dns.pcap" --local-net 192.168.1.10/32 --state-dir "$TMP/s1" --dns-max 20000 \
	--max-flows 65536 --keep-ended 1000
replay_check "DNS answer flood" 65536 1000 20000 \
	"d['dns']['messages'] == 150000 and d['dns']['answers'] == 1200000 and d['dns']['entries'] == 20000"
echo "ok DNS answer flood: 1.2 million answers, the cache held at --dns-max 20000"

# 2. Fragments that never complete.
python3 "$TMP/mkpcap.py" fragments "$TMP/frag.pcap" 200000 || fail "cannot write the fragments"
start frag -r "$TMP/frag.pcap" --local-net 192.168.1.10/32 --local-net fd00::10/128 --state-dir "$TMP/s2" \
	--max-flows 10000 --keep-ended 10000 --dns-max 1000
replay_check "incomplete fragments" 10000 10000 1000 \
	"d['fragments'] == 250000 and d['flows_active'] <= 10000 and d['packets'] == 250000"
echo "ok incomplete fragments: 250,000 counted, flows capped, memory bounded"

# 3. Random-byte frames in a valid capture.
python3 "$TMP/mkpcap.py" randframes "$TMP/rand.pcap" 50000 || fail "cannot write the random frames"
start rand -r "$TMP/rand.pcap" --local-net 192.168.1.10/32 --state-dir "$TMP/s3" --max-flows 1000 \
	--keep-ended 1000 --dns-max 1000
replay_check "random frames" 1000 1000 1000 \
	"d['packets'] == 50000 and d['malformed'] + d['not_ip'] > 40000 and d['replay']['error'] is None"
echo "ok random frames: every frame counted, none crashed the decoder"

# 4. Files that are not captures, or damaged ones.
"$PCAPGEN" garbage -o "$TMP/garbage.pcap" --bytes 1048576 -q || fail "pcapgen garbage"
for damage in truncate header caplen magic; do
	"$PCAPGEN" corrupt -o "$TMP/corrupt-$damage.pcap" --damage $damage -q || fail "pcapgen corrupt $damage"
done
for f in garbage corrupt-magic; do
	timeout 30 "$NG_BIN" -r "$TMP/$f.pcap" --no-geoip --listen "127.0.0.1:$(free_port)" --state-dir "$TMP/s4" \
		> /dev/null 2> "$TMP/$f.err"
	rc=$?
	[ $rc -eq 1 ] || { cat "$TMP/$f.err"; fail "$f: exit status $rc, want 1"; }
	[ "$(grep -c . "$TMP/$f.err")" -eq 1 ] || { cat "$TMP/$f.err"; fail "$f: want one line"; }
	grep -q "cannot read capture file .*$f.pcap: unknown file format (is it a pcap or pcapng file?)" "$TMP/$f.err" ||
		{ cat "$TMP/$f.err"; fail "$f: unclear message"; }
	echo "ok $f: $(cat "$TMP/$f.err")"
done
for damage in truncate header caplen; do
	start "corrupt-$damage" -r "$TMP/corrupt-$damage.pcap" --state-dir "$TMP/s5-$damage" --max-flows 1000 \
		--keep-ended 1000 --dns-max 1000
	replay_check "damaged capture ($damage)" 1000 1000 1000 \
		"d['packets'] > 0 and 'truncated or corrupt after packet' in (d['replay']['error'] or '')"
	grep -q "is truncated or corrupt after packet [0-9]*: .*(the packets before it were used)" \
		"$TMP/corrupt-$damage.err" || { cat "$TMP/corrupt-$damage.err"; fail "$damage: no clear log line"; }
	echo "ok damaged capture ($damage): served what it read; $(grep -o 'truncated or corrupt after packet [0-9]*' "$TMP/corrupt-$damage.err")"
done

# 5. 10,000 idle HTTP connections.
start idle -r "$PCAPS/slips-test7-malicious.pcap" --state-dir "$TMP/s6"
sleep 1
fds_before=$(ls /proc/$pid/fd | wc -l)
"$IDLE" 127.0.0.1 "$port" 10000 25 --sources 200 > "$TMP/idle.json" 2> "$TMP/idle.err" &
ipid=$!
sleep 3
fds_during=$(ls /proc/$pid/fd | wc -l)
# Another client (another loopback address) asks /api/stats every second while the connections are held.
python3 - "$port" > "$TMP/other.txt" <<'PY'
import subprocess, sys, time
port = sys.argv[1]
for i in range(15):
    t = time.monotonic()
    r = subprocess.run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '20', '--interface', '127.0.0.2',
                        'http://127.0.0.1:%s/api/stats' % port], capture_output=True, text=True)
    print('%s %.2f' % (r.stdout.strip() or '000', time.monotonic() - t))
    time.sleep(max(0, 1 - (time.monotonic() - t)))
PY
wait "$ipid" || { cat "$TMP/idle.err"; fail "idle_conns failed"; }
kill -0 "$pid" 2>/dev/null || fail "the daemon died under 10,000 idle connections"
echo "idle connections: $(cat "$TMP/idle.json")"
echo "daemon descriptors: $fds_before before, $fds_during during (--max-clients 512)"
[ "$fds_during" -le $((fds_before + 512 + 8)) ] || fail "the daemon holds $fds_during descriptors, more than --max-clients allows"
python3 - "$TMP/other.txt" <<'PY' || fail "/api/stats did not answer the other client"
import sys
rows = [l.split() for l in open(sys.argv[1])]
ok = [float(t) for code, t in rows if code == '200']
times = sorted(float(t) for code, t in rows)
print('other client: %d of %d requests answered 200; slowest %.2f s, median %.2f s, all: %s' % (
    len(ok), len(rows), times[-1], times[len(times) // 2], ' '.join('%.2f' % t for t in times)))
# Every request is answered, most at once; one that lands behind the attacker's connections in the listen
# queue (or whose SYN is dropped while the queue is full) waits for idle ones to time out, within 30 s.
sys.exit(0 if len(ok) == len(rows) and times[-1] < 30 and times[len(times) // 2] < 1 else 1)
PY
i=0
while [ "$(ls /proc/$pid/fd | wc -l)" -gt $((fds_before + 2)) ]; do
	i=$((i + 1))
	[ $i -lt 150 ] || fail "descriptors leaked: $(ls /proc/$pid/fd | wc -l) open, $fds_before before the attack"
	sleep 0.1
done
t=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/api/stats")
echo "ok 10,000 idle connections: held at most --max-clients, descriptors back to $(ls /proc/$pid/fd | wc -l), /api/stats now in ${t}s"
kill -TERM "$pid"
wait "$pid" || fail "exit status $? after SIGTERM"
echo "PASS abuse"
