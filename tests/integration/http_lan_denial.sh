#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# http_lan_denial.sh: a LAN client cannot cut off this host's dashboard. As root, the daemon runs in a
# network namespace with a loopback listener and two LAN listeners (203.0.113.1 and [2001:db8:a::1]);
# from a second namespace, joined by a veth pair, 10 IPv4 addresses and 10 IPv6 addresses of one /64
# hold as many connections as they are given, each sending a header byte every 0.5 s and reconnecting
# when cut (slowloris, 20 s). Meanwhile the loopback /api/stats must answer every one of 40 requests
# (limits per listener, a reserve for loopback), the IPv6 attackers together hold at most 64
# connections (the per-address cap counts an IPv6 /64 as one client), so a client of another /64 with
# the token is still served, and the IPv4 LAN listener takes no more than --max-clients less the
# loopback reserve. Bounded: about 30 s.
. "$(dirname "$0")/../lib/common.sh"
need python3 curl
is_root || skip "needs root (network namespaces)"
command -v ip > /dev/null || skip "needs ip (iproute2)"
ns_s=ngdS$$
ns_c=ngdC$$
ip netns add "$ns_s" 2> /dev/null || skip "cannot create network namespaces here"
trap 'ip netns del "$ns_s" 2> /dev/null; ip netns del "$ns_c" 2> /dev/null; ng_cleanup' EXIT INT TERM
ip netns add "$ns_c"
ip link add "ngds$$" type veth peer name "ngdc$$"
ip link set "ngds$$" netns "$ns_s"
ip link set "ngdc$$" netns "$ns_c"
ip -n "$ns_s" link set lo up
ip -n "$ns_c" link set lo up
ip -n "$ns_s" addr add 203.0.113.1/24 dev "ngds$$"
ip -n "$ns_s" addr add 2001:db8:a::1/64 dev "ngds$$" nodad
ip -n "$ns_s" addr add 2001:db8:c::1/64 dev "ngds$$" nodad
for i in 0 1 2 3 4 5 6 7 8 9; do
	ip -n "$ns_c" addr add "203.0.113.1$i/24" dev "ngdc$$"
	ip -n "$ns_c" addr add "2001:db8:a::1$i/64" dev "ngdc$$" nodad
done
ip -n "$ns_c" addr add 2001:db8:c::7/64 dev "ngdc$$" nodad
ip -n "$ns_s" link set "ngds$$" up
ip -n "$ns_c" link set "ngdc$$" up

mkdir -m 700 "$TMP/state"
ip netns exec "$ns_s" "$NG_BIN" -r "$PCAPS/slips-test7-malicious.pcap" --listen 127.0.0.1:8080 \
	--listen 203.0.113.1:8080 --listen "[2001:db8:a::1]:8080" --state-dir "$TMP/state" > "$TMP/out" 2> "$TMP/err" &
NG_PIDS="$NG_PIDS $!"
i=0
until ip netns exec "$ns_c" curl -s -o /dev/null "http://[2001:db8:a::1]:8080/" &&
	ip netns exec "$ns_s" curl -s -o /dev/null http://127.0.0.1:8080/api/stats; do
	i=$((i + 1))
	[ $i -lt 150 ] || { cat "$TMP/err"; fail "the daemon did not start in the namespace"; }
	sleep 0.1
done
token=$(cat "$TMP/state/http-token")

# The attack, in the background: slow connections from 20 addresses, reconnecting when cut.
cat > "$TMP/attack.py" <<'PY'
import errno, resource, selectors, socket, sys, time

resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
PER = 64 + 10          # more than the per-address cap asks for
DURATION = float(sys.argv[1])
targets = [(socket.AF_INET, '203.0.113.1%d' % i, '203.0.113.1') for i in range(10)] + \
          [(socket.AF_INET6, '2001:db8:a::1%d' % i, '2001:db8:a::1') for i in range(10)]
sel = selectors.DefaultSelector()
live = {}
opened = 0


def connect(t):
    global opened
    fam, src, dst = t
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setblocking(False)
    s.bind((src, 0))
    try:
        s.connect((dst, 8080))
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        return
    live[s] = [t, 0]
    opened += 1


for t in targets:
    for _ in range(PER):
        connect(t)
line = b'GET /api/stats HTTP/1.1\r\nHost: x\r\nX-Slow: ' + b'a' * 100000
end = time.time() + DURATION
while time.time() < end:
    for s in list(live):
        t, pos = live[s]
        try:
            s.send(line[pos:pos + 1])
            live[s][1] = pos + 1
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            s.close()
            del live[s]
            connect(t)      # cut: come back at once
            continue
        try:
            if s.recv(4096, socket.MSG_DONTWAIT) == b'':
                s.close()
                del live[s]
                connect(t)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            s.close()
            del live[s]
            connect(t)
    time.sleep(0.5)
print('attack: %d connections opened in all, %d open at the end' % (opened, len(live)))
PY
ip netns exec "$ns_c" python3 "$TMP/attack.py" 20 > "$TMP/attack.out" 2>&1 &
attack=$!
NG_PIDS="$NG_PIDS $attack"
sleep 3

# During the attack: this host's dashboard (loopback), a token holder of another /64, and the counts.
ip netns exec "$ns_s" python3 - > "$TMP/loop.out" 2>&1 <<'PY' &
import socket, time
ok, slow = 0, []
for i in range(40):
    t0 = time.time()
    try:
        s = socket.create_connection(('127.0.0.1', 8080), timeout=2)
        s.settimeout(2)
        s.sendall(b'GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n')
        d = s.recv(64)
        s.close()
        ok += d.startswith(b'HTTP/1.1 200')
    except OSError:
        pass
    slow.append(time.time() - t0)
    time.sleep(max(0, 0.35 - (time.time() - t0)))
print('loopback %d of 40 answered, slowest %.2f s' % (ok, max(slow)))
PY
loopjob=$!
ip netns exec "$ns_c" python3 - "$token" > "$TMP/v6.out" 2>&1 <<'PY' &
import socket, sys, time
ok = 0
for i in range(18):
    try:
        s = socket.socket(socket.AF_INET6)
        s.settimeout(2)
        s.bind(('2001:db8:c::7', 0))
        s.connect(('2001:db8:a::1', 8080))
        s.sendall(b'GET /api/stats HTTP/1.1\r\nHost: [2001:db8:a::1]:8080\r\nAuthorization: Bearer %s\r\n'
                  b'Connection: close\r\n\r\n' % sys.argv[1].encode())
        ok += s.recv(64).startswith(b'HTTP/1.1 200')
        s.close()
    except OSError:
        pass
    time.sleep(0.6)
print('IPv6 token holder of another /64: %d of 18 answered' % ok)
PY
v6job=$!
# Look 7 s into the attack: every attacker connection is open, and none has yet met the 10 s header
# timeout, which cuts them all at once (looking at 11 s, a quiet machine once saw 0 held).
# Only connections the daemon accepted count (ss -p names their owner): the kernel also completes the
# attackers' reconnections (hundreds each half second), which wait in the listen queue, owned by no one,
# until the daemon refuses them. The least of five looks, 0.2 s apart.
sleep 4
v6held=100000
v4held=100000
for look in 1 2 3 4 5; do
	conns=$(ip netns exec "$ns_s" ss -Htnp state established '( sport = :8080 )' | grep 'users:')
	n=$(echo "$conns" | grep -c '\[2001:db8:a::1[0-9]\]')
	[ "$n" -lt "$v6held" ] && v6held=$n
	n=$(echo "$conns" | grep -c '203\.0\.113\.1[0-9]:')
	[ "$n" -lt "$v4held" ] && v4held=$n
	sleep 0.2
done
wait "$loopjob"
wait "$v6job"
wait "$attack"
cat "$TMP/attack.out" "$TMP/loop.out" "$TMP/v6.out"
echo "held by the attackers mid-attack: $v4held IPv4, $v6held IPv6 (one /64)"
grep -q '^attack: ' "$TMP/attack.out" || fail "the attack did not run"
grep -q 'loopback 40 of 40' "$TMP/loop.out" || fail "loopback /api/stats failed during the LAN attack"
n6=$(sed -n 's/.*another \/64: \([0-9]*\) of 18.*/\1/p' "$TMP/v6.out")
[ "${n6:-0}" -ge 17 ] || fail "a token holder of another /64 was served ${n6:-0} of 18 times"
# The caps are the daemon's; ss also sees the few connections over a cap that the daemon is closing at
# that instant: SLACK of them.
SLACK=8
[ "$v6held" -le $((64 + SLACK)) ] || fail "ten IPv6 addresses of one /64 held $v6held connections (cap 64 per /64)"
[ "$v6held" -ge 32 ] || fail "the IPv6 attack held only $v6held connections: did it run?"
[ "$v4held" -le $((448 + SLACK)) ] || fail "the IPv4 LAN listener held $v4held connections (512 less the loopback reserve of 64)"
[ "$v4held" -ge 300 ] || fail "the IPv4 attack held only $v4held connections: did it run?"
kill -0 "$(echo $NG_PIDS | cut -d' ' -f1)" || fail "the daemon died"
echo "PASS http_lan_denial"
