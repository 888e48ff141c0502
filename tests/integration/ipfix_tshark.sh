#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# ipfix_tshark.sh: Wireshark's IPFIX dissector is an independent reader of our enterprise elements. The
# exporter's datagrams are captured on lo while netglobe --dump exports a test capture; tshark -V must show
# both templates with the documented fields (PEN 32473, element ids, lengths, variable-length strings, as
# in docs/ipfix.md), and for every record of every flow the values --dump printed: addresses, ports,
# flowDirection, flowId, AS numbers, verdicts per direction and overall, initiator, remote domain and its
# source, process id and country (for example the DNS-named NTP servers of the capture), and the Community ID.
. "$(dirname "$0")/../lib/common.sh"
need python3 tshark tcpdump
is_root || skip "needs root to capture on the loopback interface"
PCAP=$PCAPS/slips-test7-malicious.pcap
PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')

# A collector that reads and forgets, so the kernel never answers "port unreachable".
python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").close()
while True:
    s.recv(65535)
' "$PORT" "$TMP/ready" &
NG_PIDS="$NG_PIDS $!"
tcpdump -i lo --immediate-mode -U -n -w "$TMP/ipfix.pcap" "udp port $PORT" 2> "$TMP/tcpdump.err" &
tpid=$!
NG_PIDS="$NG_PIDS $tpid"
i=0
until grep -q "listening on" "$TMP/tcpdump.err" 2> /dev/null && [ -f "$TMP/ready" ]; do
	i=$((i + 1))
	[ $i -le 100 ] || { cat "$TMP/tcpdump.err"; skip "tcpdump cannot capture on lo here"; }
	sleep 0.05
done

"$NG_BIN" -r "$PCAP" --dump --state-dir "$TMP/state" --ipfix "127.0.0.1:$PORT" > "$TMP/dump.jsonl" 2> "$TMP/dump.err" ||
	{ cat "$TMP/dump.err"; fail "netglobe --dump --ipfix failed"; }
grep -q "0 dropped" "$TMP/dump.err" || { cat "$TMP/dump.err"; fail "the exporter dropped records"; }
sleep 1
kill -INT "$tpid"
wait "$tpid" 2> /dev/null
tshark -r "$TMP/ipfix.pcap" -d "udp.port==$PORT,cflow" -V > "$TMP/ipfix.txt" 2> "$TMP/tshark.err" ||
	{ cat "$TMP/tshark.err"; fail "tshark could not read the capture"; }

python3 - "$TMP/dump.jsonl" "$TMP/ipfix.txt" << 'PY' || fail "tshark's view of the records disagrees with --dump"
import json, re, sys

PEN_NAME = '(Example Enterprise Number for Documentation Use)'
# docs/ipfix.md, "Templates": (element id, length, PEN or 0) after the two addresses.
COMMON = [(7, 2, 0), (11, 2, 0), (4, 1, 0), (60, 1, 0), (61, 1, 0), (136, 1, 0), (1, 8, 0), (2, 8, 0),
          (152, 8, 0), (153, 8, 0), (148, 8, 0), (16, 4, 0), (17, 4, 0),
          (1, 1, 32473), (2, 1, 32473), (8, 1, 32473), (9, 1, 32473), (4, 1, 32473), (6, 4, 32473),
          (7, 2, 32473), (3, 65535, 32473), (5, 65535, 32473), (10, 1, 32473), (11, 4, 32473), (12, 30, 32473)]
WANT_TMPL = {256: [(8, 4, 0), (12, 4, 0)] + COMMON, 257: [(27, 16, 0), (28, 16, 0)] + COMMON}
VERDICT = {None: 0, 'local': 1, 'normal': 2, 'anomalous': 3, 'blocklisted': 4}
DSRC = {None: 0, 'dns': 1, 'http': 2, 'sni': 3}
ATTENTION = {'none': 0, 'low': 1, 'high': 2}
SIGNAL_BIT = {n: i for i, n in enumerate(('blocklisted', 'beacon', 'dns_tunnel', 'scan', 'large_upload', 'first_contact',
                                          'no_dns', 'long_connection', 'known_service', 'unanswered'))}

flows = {}
for line in open(sys.argv[1]):
    if line.startswith('{"id"'):
        f = json.loads(line)
        flows[f['id']] = f
text = open(sys.argv[2]).read().split('\n')
bad = []

# Templates: every field specifier, in order.
tmpls, cur, field = {}, None, None
for line in text:
    m = re.match(r'\s+Template \(Id = (\d+), Count = (\d+)\)', line)
    if m:
        cur = int(m.group(1))
        tmpls.setdefault(cur, [])
        if len(tmpls[cur]) > 0:
            cur = None		# seen already (a refresh)
        continue
    if cur is None:
        continue
    if re.match(r'\s+Field \(\d+/\d+\)', line):
        field = [None, None, 0]
        tmpls[cur].append(field)
    elif field is not None:
        m = re.search(r'= Type: .*\((\d+)\)$', line) or re.search(r'= Type: (\d+) \[pen', line)
        if m and field[0] is None:
            field[0] = int(m.group(1))
        m = re.match(r'\s+Length: (\d+)', line)
        if m:
            field[1] = int(m.group(1))
        m = re.match(r'\s+PEN: .*\((\d+)\)$', line)
        if m:
            field[2] = int(m.group(1))
    if re.match(r'\s+Set \d+ \[id=', line) and not line.strip().startswith('Set 1 [id=2]'):
        cur = None
for tid, want in WANT_TMPL.items():
    got = [tuple(f) for f in tmpls.get(tid, [])]
    if got != want:
        bad.append('template %d: tshark shows %s, docs say %s' % (tid, got, want))

# Data records: "Flow N" blocks.
records, rec = [], None
for line in text:
    if re.match(r'\s+Flow \d+$', line):
        rec = {'pen': {}}
        records.append(rec)
        continue
    if rec is None:
        continue
    if re.match(r'\s*(Set \d+|Frame \d+|Cisco NetFlow)', line):
        rec = None
        continue
    m = re.match(r'\s+Enterprise Private entry: (\(.*\)) Type (\d+): Value \(hex bytes\): ([0-9a-f ]+?)( \u2026)?$', line)
    if m:
        if m.group(1) != PEN_NAME:
            bad.append('an enterprise entry under %s' % m.group(1))
        rec['pen'][int(m.group(2))] = bytes.fromhex(m.group(3))
        if m.group(4):		# tshark shows 24 bytes of a longer value, then an ellipsis
            rec.setdefault('cut', set()).add(int(m.group(2)))
        continue
    m = re.match(r'\s+(SrcAddr|DstAddr|SrcPort|DstPort|Direction|Flow Id|SrcAS|DstAS|Packets|Octets): (.*)$', line)
    if m:
        rec[m.group(1)] = m.group(2)

named = 0
seen = set()
for r in records:
    fid = int(r.get('Flow Id', -1))
    f = flows.get(fid)
    if not f:
        bad.append('record with flow id %s not in --dump' % fid)
        continue
    sent = r['Direction'].startswith('Egress')
    seen.add((fid, sent))
    d = 'sent' if sent else 'received'
    src, sp, dst, dp = ((f['local_ip'], f['local_port'], f['remote_ip'], f['remote_port']) if sent else
                        (f['remote_ip'], f['remote_port'], f['local_ip'], f['local_port']))
    asn = f['asn'] or 0
    country = (f['geo'] or {}).get('country') or ''
    want = {
        'SrcAddr': src, 'DstAddr': dst, 'SrcPort': str(sp), 'DstPort': str(dp),
        'Packets': str(f['packets_' + d]), 'Octets': str(f['bytes_' + d]),
        'SrcAS': str(0 if sent else asn), 'DstAS': str(asn if sent else 0),
    }
    for k, v in want.items():
        if r.get(k) != v:
            bad.append('flow %d %s: %s is %r, --dump says %r' % (fid, d, k, r.get(k), v))
    pen = r['pen']
    wpen = {
        1: bytes([VERDICT[f['verdict_sent']]]), 2: bytes([VERDICT[f['verdict_received']]]),
        8: bytes([VERDICT[f['verdict']]]), 9: bytes([1 if f['initiator'] == 'local' else 2]),
        4: bytes([DSRC[f['remote_domain_source']] if f['remote_domain'] else 0]),
        6: ((f['process'] or {}).get('pid') or 0).to_bytes(4, 'big'),
        7: country.encode() if country else b'\0\0',
        10: bytes([ATTENTION[f['attention']]]),
        11: sum(1 << SIGNAL_BIT[s['name']] for s in f['signals']).to_bytes(4, 'big'),
        12: f['community_id'].encode(),
    }
    if f['remote_domain']:
        wpen[3] = f['remote_domain'].encode()
        named += 1
    if (f['process'] or {}).get('name'):
        wpen[5] = f['process']['name'].encode()
    for k in r.get('cut', ()):
        wpen[k] = wpen.get(k, b'')[:len(pen[k])] if len(pen[k]) == 24 else wpen.get(k)
    # tshark leaves out empty strings: exactly the elements above must be there.
    if pen != wpen:
        bad.append('flow %d %s: enterprise elements %s, want %s' % (fid, d, pen, wpen))
for fid, f in flows.items():
    for sent in (True, False):
        if f['packets_' + ('sent' if sent else 'received')] and (fid, sent) not in seen:
            bad.append('flow %d %s: no record in the capture' % (fid, 'sent' if sent else 'received'))
for b in bad[:25]:
    print('MISMATCH', b)
if not bad:
    print('tshark: templates as documented; %d records of %d flows agree with --dump, %d with a remote domain'
          % (len(records), len(flows), named))
sys.exit(1 if bad or named == 0 else 0)
PY
