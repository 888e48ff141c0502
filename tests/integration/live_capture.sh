#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# live_capture.sh (root): live capture between two network namespaces. Host A talks to host B
# over TCP (IPv4 and IPv6) and UDP while netglobe captures on A's interface and tcpdump records
# the same interface as the oracle; the flows must match tshark's conversations of that
# recording, and the TCP flow opened by a known process carries that process's pid and name.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/netns.sh"
need tshark tcpdump python3
trap 'ng_cleanup; netns_cleanup' EXIT INT TERM
netns_setup

ip netns exec "$NSB" python3 -m http.server 8080 --bind :: > "$TMP/httpd.log" 2>&1 &
NG_PIDS="$NG_PIDS $!"
ip netns exec "$NSA" tcpdump -i "$VA" -U -n -w "$TMP/oracle.pcap" 2> "$TMP/tcpdump.err" &
TCPDUMP=$!
ip netns exec "$NSA" "$NG_BIN" -i "$VA" --dump --public-net 198.51.100.0/24 --public-net 2001:db8::/32 \
	> "$TMP/live.jsonl" 2> "$TMP/live.err" &
NG=$!
NG_PIDS="$NG_PIDS $NG $TCPDUMP"
# Wait until both capture and the server answer.
for i in $(seq 1 50); do
	inA python3 -c 'import socket; socket.create_connection(("198.51.100.7", 8080), 0.2).close()' 2>/dev/null && break
	sleep 0.1
done

# A known process: it connects, holds the socket for a while, and prints its pid and port.
cat > "$TMP/client.py" <<'PY'
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], 8080))
print(os.getpid(), s.getsockname()[1], flush=True)
time.sleep(1.5)
s.sendall(b"GET / HTTP/1.0\r\nHost: b.test\r\n\r\n")
while s.recv(65536):
    pass
s.close()
PY
timeout 20 ip netns exec "$NSA" python3 "$TMP/client.py" 198.51.100.7 > "$TMP/client4.out" || fail "IPv4 client failed"
timeout 20 ip netns exec "$NSA" python3 "$TMP/client.py" 2001:db8:a::7 > "$TMP/client6.out" || fail "IPv6 client failed"
inA python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); [s.sendto(b"x"*100, ("198.51.100.7", 9999)) for _ in range(5)]'
sleep 1
kill -TERM "$NG"
wait "$NG"
rc=$?
kill -TERM "$TCPDUMP"
wait "$TCPDUMP" 2>/dev/null
[ $rc -eq 0 ] || { cat "$TMP/live.err"; fail "netglobe exited $rc"; }

tshark -r "$TMP/oracle.pcap" -q -z conv,tcp -z conv,udp > "$TMP/oracle.conv" 2>/dev/null
python3 tests/lib/conv_compare.py "$TMP/live.jsonl" "$TMP/oracle.conv" || fail "live flows differ from tshark on the same interface"

python3 - "$TMP/live.jsonl" "$TMP/client4.out" "$TMP/client6.out" <<'PY' || fail "process attribution"
import json, sys
flows = [json.loads(l) for l in open(sys.argv[1]) if '"id"' in l]
for out in sys.argv[2:]:
    pid, port = map(int, open(out).read().split())
    f = [f for f in flows if f['proto'] == 'tcp' and f['local_port'] == port]
    assert f, 'no flow from local port %d' % port
    f = f[0]
    assert f['local_ip'] in ('203.0.113.1', '2001:db8:a::1'), f
    assert f['initiator'] == 'local' and f['remote_port'] == 8080, f
    # The readiness probes talked to B's IPv4 address first, so by now it is normal; its IPv6
    # address is another remote, met for the first time.
    if f['ip_version'] == 4:
        assert f['verdict'] == 'normal' and f['reason'].startswith('seen '), f
    else:
        assert f['verdict'] == 'anomalous' and 'first contact' in f['reason'], f
    p = f['process']
    assert p is not None, 'flow %s has no process' % f['id']
    assert p['pid'] == pid and p['name'].startswith('python3'), (p, pid)
    print('ok process: %s:%d -> pid %d %s' % (f['local_ip'], port, pid, p['name']))
first = min((f for f in flows if f['remote_ip'] == '198.51.100.7' and f['proto'] == 'tcp'), key=lambda f: f['id'])
assert first['verdict'] == 'anomalous' and 'first contact' in first['reason'], first
print('ok verdicts: first contact anomalous, later flows normal')
PY
echo "ok live capture on $VA: $(grep -c '"id"' "$TMP/live.jsonl") flows agree with tshark"
