#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# conn_state.sh: the flow's Zeek-style conn_state against two oracles.
# 1. Real Zeek logs (tests/data/zeek: a benign host's day, a Simda infection) turned into packets by
#    `pcapgen zeek`, which shapes each connection by the conn_state Zeek recorded: every TCP and UDP row whose
#    5-tuple is its own must get Zeek's conn_state, when netglobe's initiator is Zeek's originator (a one-sided
#    UDP exchange can be seen from the other end: those rows are counted, and must stay rare).
# 2. Real captures read by tshark: TCP streams whose shape is unambiguous (SYN only: S0; SYN answered by RST: REJ;
#    SYN, SYN-ACK and a FIN each way without RST: SF) must get that code.
. "$(dirname "$0")/../lib/common.sh"
need python3 tshark
DATA=$NG_TESTDATA/zeek
GEN=$NG_BUILD/tools/pcapgen
[ -x "$GEN" ] || fail "$GEN is not built (make builds every tests/tools/*.c)"

for b in normal-host simda-dga; do
	"$GEN" zeek -q --byte-limit 30000 --conn "$DATA/$b-conn.log" -o "$TMP/$b.pcap" 2> "$TMP/gen.err" ||
		fail "pcapgen zeek $b: $(cat "$TMP/gen.err")"
	"$NG_BIN" -r "$TMP/$b.pcap" --dump --no-geoip --no-dns --state-dir "$TMP/state" > "$TMP/$b.dump" 2> "$TMP/$b.err" ||
		{ cat "$TMP/$b.err"; fail "netglobe --dump on the $b capture failed"; }
done
python3 - "$DATA/normal-host-conn.log" "$TMP/normal-host.dump" "$DATA/simda-dga-conn.log" "$TMP/simda-dga.dump" << 'PY' ||
import collections, json, sys


def rows(path):
    fields = None
    for line in open(path):
        line = line.rstrip('\n')
        if line.startswith('#fields'):
            fields = line.split('\t')[1:]
        elif not line.startswith('#') and fields:
            yield dict(zip(fields, line.split('\t')))


agree, other_orig, bad = collections.Counter(), 0, []
for log, dump in zip(sys.argv[1::2], sys.argv[2::2]):
    flows = collections.defaultdict(list)
    for line in open(dump):
        if line.startswith('{"id"'):
            f = json.loads(line)
            flows[(f['proto'], frozenset([(f['local_ip'], f['local_port']), (f['remote_ip'], f['remote_port'])]))].append(f)
    rs = [r for r in rows(log) if r['proto'] in ('tcp', 'udp')]
    key = lambda r: (r['proto'], frozenset([(r['id.orig_h'], int(r['id.orig_p'])), (r['id.resp_h'], int(r['id.resp_p']))]))
    uses = collections.Counter(map(key, rs))
    for r in rs:
        k = key(r)
        if uses[k] != 1 or len(flows.get(k, ())) != 1:
            continue	# a 5-tuple several rows (or flows) share: which is which is not the point here
        f = flows[k][0]
        orig_local = f['local_ip'] == r['id.orig_h'] and f['local_port'] == int(r['id.orig_p'])
        if orig_local != (f['initiator'] == 'local'):
            other_orig += 1
            continue
        if f['conn_state'] == r['conn_state']:
            agree[(r['proto'], r['conn_state'])] += 1
        else:
            bad.append('%s %s (history %s): netglobe says %s (flow %d)' % (r['uid'], r['conn_state'],
                                                                          r.get('history'), f['conn_state'], f['id']))
for b in bad[:20]:
    print('MISMATCH', b)
total = sum(agree.values())
print('Zeek logs: %d rows agree (%s); %d seen from the other end' % (
    total, ', '.join('%s %s %d' % (p, s, n) for (p, s), n in sorted(agree.items())), other_orig))
codes = {s for _, s in agree}
missing = {'S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH'} - codes
if missing:
    print('MISSING: no row checked for %s' % sorted(missing))
sys.exit(1 if bad or missing or total < 5000 or other_orig * 100 > total else 0)
PY
	fail "conn_state disagrees with the Zeek logs"

for c in slips-test7-malicious.pcap cs-http_espn.pcapng ndpi-iphone.pcap ndpi-emotet.pcap; do
	"$NG_BIN" -r "$PCAPS/$c" --dump --no-geoip --state-dir "$TMP/state" > "$TMP/$c.dump" 2> /dev/null || fail "netglobe on $c failed"
	tshark -n -r "$PCAPS/$c" -Y tcp -T fields -e tcp.stream -e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst \
		-e tcp.dstport -e tcp.flags > "$TMP/$c.tcp" 2> /dev/null || fail "tshark on $c failed"
done
python3 - "$TMP" slips-test7-malicious.pcap cs-http_espn.pcapng ndpi-iphone.pcap ndpi-emotet.pcap << 'PY' ||
import collections, json, os, sys
tmp, n, bad = sys.argv[1], collections.Counter(), []
for c in sys.argv[2:]:
    streams = collections.OrderedDict()
    for line in open(os.path.join(tmp, c + '.tcp')):
        s, s4, s6, sp, d4, d6, dp, fl = line.rstrip('\n').split('\t')
        if not fl or ',' in line:
            continue	# a TCP header quoted in an ICMP error, or tunnelled twice
        src, dst, fl = (s4 or s6, int(sp)), (d4 or d6, int(dp)), int(fl, 16)
        st = streams.setdefault(s, {'first': src, 'ends': frozenset([src, dst]), 'pk': []})
        st['pk'].append((src, fl))
    flows = collections.defaultdict(list)
    for line in open(os.path.join(tmp, c + '.dump')):
        if line.startswith('{"id"'):
            f = json.loads(line)
            if f['proto'] == 'tcp':
                flows[frozenset([(f['local_ip'], f['local_port']), (f['remote_ip'], f['remote_port'])])].append(f)
    uses = collections.Counter(st['ends'] for st in streams.values())
    for sid, st in streams.items():
        if uses[st['ends']] != 1 or len(flows.get(st['ends'], ())) != 1:
            continue
        o = st['first']
        syn = [fl for src, fl in st['pk'] if src == o and fl & 0x12 == 0x02]
        synack = [fl for src, fl in st['pk'] if src != o and fl & 0x12 == 0x12]
        rst_o = [fl for src, fl in st['pk'] if src == o and fl & 0x04]
        rst_r = [fl for src, fl in st['pk'] if src != o and fl & 0x04]
        fin_o = [fl for src, fl in st['pk'] if src == o and fl & 0x01]
        fin_r = [fl for src, fl in st['pk'] if src != o and fl & 0x01]
        from_r = [fl for src, fl in st['pk'] if src != o]
        if not syn or st['pk'][0][1] & 0x12 != 0x02:
            continue
        if len(syn) == len(st['pk']):
            want = 'S0'
        elif not synack and rst_r and len(from_r) == len(rst_r) and not rst_o and not fin_o:
            want = 'REJ'
        elif synack and fin_o and fin_r and not rst_o and not rst_r:
            want = 'SF'
        else:
            continue
        f = flows[st['ends']][0]
        n[want] += 1
        if f['conn_state'] != want:
            bad.append('%s stream %s: tshark shows %s, netglobe says %s (flow %d)' % (c, sid, want, f['conn_state'], f['id']))
for b in bad[:20]:
    print('MISMATCH', b)
print('tshark: %s streams of unambiguous shape agree' % dict(n))
sys.exit(1 if bad or not (n['SF'] and n['S0'] and n['REJ']) else 0)
PY
	fail "conn_state disagrees with tshark's view of real captures"
echo "PASS: conn_state as Zeek and tshark say"
