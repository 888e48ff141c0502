#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# community_id.sh: netglobe's Community IDs against the specification's own reference implementation
# (tests/data/community-id/community-id.py, run with Debian's python3-dpkt through tests/lib/communityid_ref.py)
# on the specification's captures and on every shared Ethernet capture (pcapng converted with editcap -F pcap):
# every flow's ID is one the reference gives a packet of that capture; every TCP and UDP conversation the
# reference sees (its fragments past the first aside) has a flow with that ID; TCP, UDP, ICMP, ICMPv6 and SCTP
# flows all occur. --community-id-seed 1 gives the IDs of the specification's baseline_seed1.json, the default
# seed those of baseline_deflt.json; /flows?community_id= finds a flow by either form of its ID.
. "$(dirname "$0")/../lib/common.sh"
need editcap curl
REFPY=/usr/bin/python3
CID=$NG_TESTDATA/community-id
[ -f "$CID/community-id.py" ] || fail "no $CID/community-id.py (the specification's test material belongs in tests/data)"
"$REFPY" -c 'import dpkt' 2> /dev/null || skip "needs Debian's python3-dpkt for $REFPY (make deps installs it)"
ORACLE=$(dirname "$0")/../lib/communityid_ref.py

# Every Ethernet capture as classic pcap: the specification's, then the shared ones.
mkdir -p "$TMP/pcap"
for f in "$CID"/pcaps/*.pcap "$PCAPS"/*.pcap "$PCAPS"/*.pcapng; do
	b=$(basename "$f")
	editcap -F pcap "$f" "$TMP/pcap/${b%.pcap*}.pcap" 2> "$TMP/editcap.err" || fail "editcap -F pcap $f: $(cat "$TMP/editcap.err")"
	"$REFPY" -c 'import sys, dpkt; sys.exit(dpkt.pcap.Reader(open(sys.argv[1], "rb")).datalink() != 1)' \
		"$TMP/pcap/${b%.pcap*}.pcap" || { rm -f "$TMP/pcap/${b%.pcap*}.pcap"; echo "not Ethernet, left out: $b"; }
done
n=0
for f in "$TMP"/pcap/*.pcap; do
	b=$(basename "$f" .pcap)
	"$REFPY" -W ignore "$ORACLE" "$CID/community-id.py" 0 "$f" > "$TMP/$b.ref" 2> "$TMP/ref.err" ||
		fail "the reference failed on $b: $(tail -n 3 "$TMP/ref.err")"
	"$NG_BIN" -r "$f" --dump --no-geoip --no-process --state-dir "$TMP/state" > "$TMP/$b.flows" 2> "$TMP/$b.err" ||
		{ cat "$TMP/$b.err"; fail "netglobe --dump $b failed"; }
	n=$((n + 1))
done
[ "$n" -ge 15 ] || fail "only $n Ethernet captures (the specification's 8 and the shared Ethernet ones expected)"

python3 - "$TMP" << 'PY' || fail "Community IDs disagree with the reference"
import glob, json, os, sys
tmp = sys.argv[1]
bad, protos, flows_total, convs_total = [], {}, 0, 0
NAMES = {6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmpv6', 132: 'sctp'}
for ref in sorted(glob.glob(os.path.join(tmp, '*.ref'))):
    name = os.path.basename(ref)[:-4]
    pkts = [json.loads(l) for l in open(ref)]
    ids = {p['id'] for p in pkts}
    flows = [json.loads(l) for l in open(os.path.join(tmp, name + '.flows')) if l.startswith('{"id"')]
    flow_ids = {f['community_id'] for f in flows}
    for f in flows:
        flows_total += 1
        if f['community_id'] not in ids:
            bad.append('%s: flow %d (%s %s:%s - %s:%s) has %s, which the reference gives no packet' % (
                name, f['id'], f['proto'], f['local_ip'], f['local_port'], f['remote_ip'], f['remote_port'],
                f['community_id']))
        else:
            protos[f['proto']] = protos.get(f['proto'], 0) + 1
    convs = {p['id']: p['tuple'] for p in pkts if p['proto'] in (6, 17) and not p['frag']}
    convs_total += len(convs)
    for cid, tup in sorted(convs.items()):
        if cid not in flow_ids:
            bad.append('%s: the reference\'s conversation %s (%s) has no flow' % (name, cid, tup))
for b in bad[:20]:
    print('MISMATCH', b)
missing = [p for p in NAMES.values() if not protos.get(p)]
if missing:
    print('MISSING: no %s flow was checked' % ', '.join(missing))
print('%d flows agree with the reference (%s); %d TCP/UDP conversations of the reference each have their flow'
      % (flows_total, ', '.join('%s %d' % kv for kv in sorted(protos.items())), convs_total))
sys.exit(1 if bad or missing else 0)
PY

# The specification's baselines: seed 0 and seed 1, on its own captures.
for seed in 0 1; do
	base=$CID/baseline_deflt.json
	[ "$seed" = 1 ] && base=$CID/baseline_seed1.json
	: > "$TMP/seed$seed.flows"
	for f in "$CID"/pcaps/*.pcap; do
		"$NG_BIN" -r "$f" --dump --no-geoip --no-process --state-dir "$TMP/state" --community-id-seed "$seed" \
			>> "$TMP/seed$seed.flows" 2> "$TMP/seed.err" || { cat "$TMP/seed.err"; fail "--community-id-seed $seed failed"; }
	done
	python3 - "$TMP/seed$seed.flows" "$base" << 'PY' || fail "--community-id-seed $seed disagrees with $(basename "$base")"
import json, sys
flows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"id"')]
base = json.load(open(sys.argv[2]))
want = {e['communityid'] for e in base}
got = {f['community_id'] for f in flows}
extra = got - want
# Every baseline entry has its flow, but for ICMP: one netglobe flow holds all ICMP between two addresses and
# carries its first packet's ID (docs/api.md), so a later neighbour solicitation the other way has none.
lost = {e['communityid'] for e in base if e['proto'] not in (1, 58)} - got
print('%s: %d flows, %d distinct IDs; %d IDs in the baseline' % (sys.argv[2].rsplit('/', 1)[-1], len(flows), len(got), len(want)))
if extra or lost:
    print('not in the baseline: %s; baseline IDs without a flow: %s' % (sorted(extra), sorted(lost)))
sys.exit(1 if extra or lost or not flows else 0)
PY
done

# /flows?community_id=: base64 (with + encoded, and unencoded) and hex find the same flow; a bad one is a 400.
PORT=$(free_port)
"$NG_BIN" -r "$TMP/pcap/tcp.pcap" --listen "127.0.0.1:$PORT" --state-dir "$TMP/d" --no-geoip > "$TMP/d.out" 2> "$TMP/d.err" &
NG_PIDS="$NG_PIDS $!"
python3 - "$PORT" << 'PY' || { cat "$TMP/d.err"; fail "/flows?community_id= does not find the flow"; }
import base64, json, sys, time, urllib.error, urllib.parse, urllib.request
base = 'http://127.0.0.1:%s' % sys.argv[1]
for _ in range(100):
    try:
        flows = json.load(urllib.request.urlopen(base + '/flows', timeout=5))['flows']
        if flows:
            break
    except OSError:
        pass
    time.sleep(0.1)
f = flows[0]
cid = f['community_id']
hexid = '1:' + base64.b64decode(cid[2:]).hex()
for q in (urllib.parse.quote(cid, safe=''), cid, hexid, hexid.upper().replace('1:', '1:', 1)):
    got = json.load(urllib.request.urlopen(base + '/flows?community_id=' + q, timeout=5))['flows']
    assert [g['id'] for g in got] == [g['id'] for g in flows if g['community_id'] == cid], (q, got)
got = json.load(urllib.request.urlopen(base + '/flows?community_id=1:' + 'A' * 27 + '%3D', timeout=5))['flows']
assert got == [], got
try:
    urllib.request.urlopen(base + '/flows?community_id=2:abc', timeout=5)
    sys.exit('a malformed community_id was accepted')
except urllib.error.HTTPError as e:
    assert e.code == 400 and 'community_id' in e.read().decode(), e
print('/flows?community_id=: %s and %s find flow %d' % (cid, hexid, f['id']))
PY
echo "PASS: Community IDs agree with the specification's reference"
