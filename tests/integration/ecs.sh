#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# ecs.sh: --flow-log-format ecs and --alert-format ecs write documents whose every field (outside netglobe.*) is
# in ECS's published field list (tests/data/ecs/fields.csv) with a JSON value of its type, and the ECS flow log
# reads back into the very flows --dump printed: ends, ports, counts, times, Community ID, Zeek's conn_state,
# verdicts, attention, signals, domain, place and AS. The default --flow-log format stays the flow object.
. "$(dirname "$0")/../lib/common.sh"
need python3
FIELDS=$NG_TESTDATA/ecs/fields.csv
[ -f "$FIELDS" ] || fail "no $FIELDS (ECS's field list belongs in tests/data/ecs)"
LIB=$(dirname "$0")/../lib

for c in cs-http_espn.pcapng slips-test7-malicious.pcap ndpi-iphone.pcap ndpi-http_ipv6.pcap; do
	b=${c%.pcap*}
	"$NG_BIN" -r "$PCAPS/$c" --dump --state-dir "$TMP/$b" --flow-log "$TMP/$b.ecs" --flow-log-format ecs \
		--alert-format ecs > "$TMP/$b.dump" 2> "$TMP/$b.err" || { cat "$TMP/$b.err"; fail "netglobe on $c failed"; }
	# The default format is unchanged: the flow object of --dump, line for line.
	"$NG_BIN" -r "$PCAPS/$c" --dump --state-dir "$TMP/plain/$b" --flow-log "$TMP/$b.json" > /dev/null 2>&1 ||
		fail "netglobe --flow-log on $c failed"
	python3 - "$TMP/$b.json" "$TMP/$b.dump" << 'PY' || fail "the default --flow-log is no longer the flow object"
import json, sys
log = sorted(json.loads(l)['id'] for l in open(sys.argv[1]))
dump = sorted(json.loads(l)['id'] for l in open(sys.argv[2]) if l.startswith('{"id"'))
assert log == dump and log and 'community_id' in json.loads(open(sys.argv[1]).readline()), (len(log), len(dump))
PY
done

python3 "$LIB/ecs_check.py" "$FIELDS" "$TMP"/*.ecs "$TMP"/*/alerts.jsonl || fail "documents that are not ECS"
[ "$(cat "$TMP"/*/alerts.jsonl | wc -l)" -ge 1 ] || fail "no ECS alerts were written (nothing to check)"

python3 - "$TMP" << 'PY' || fail "the ECS flow log does not read back into --dump's flows"
import glob, json, os, sys
tmp = sys.argv[1]
bad, n, geo = [], 0, 0


def back(d):
    """A flow object (the fields ECS carries) rebuilt from an ECS document."""
    ng = d['netglobe']
    local_is_source = ng['initiator'] == 'local'
    loc, rem = (d['source'], d['destination']) if local_is_source else (d['destination'], d['source'])
    g, a = rem.get('geo', {}), rem.get('as', {})
    return {
        'id': ng['flow_id'], 'proto': d['network']['transport'], 'proto_num': int(d['network']['iana_number']),
        'ip_version': 6 if d['network']['type'] == 'ipv6' else 4,
        'local_ip': loc['ip'], 'local_port': loc.get('port', 0), 'remote_ip': rem['ip'], 'remote_port': rem.get('port', 0),
        'initiator': ng['initiator'], 'packets_sent': loc['packets'], 'packets_received': rem['packets'],
        'bytes_sent': loc['bytes'], 'bytes_received': rem['bytes'], 'first_seen': d['event']['start'],
        'last_seen': d['event']['end'], 'community_id': d['network']['community_id'], 'state': ng['state'],
        'conn_state': ng['conn_state'], 'active': 'end' not in d['event']['type'], 'end_reason': ng.get('end_reason'),
        'fragments': ng['fragments'], 'remote_scope': ng['remote_scope'], 'remote_domain': rem.get('domain'),
        'remote_domain_source': ng.get('remote_domain_source'), 'verdict': ng.get('verdict'),
        'verdict_sent': ng.get('verdict_sent'), 'verdict_received': ng.get('verdict_received'),
        'reason': ng.get('reason'), 'attention': ng['attention'], 'signals': ng['signals'],
        'country': g.get('country_iso_code'), 'city': g.get('city_name'), 'region': g.get('region_name'),
        'lat': g.get('location', {}).get('lat'), 'lon': g.get('location', {}).get('lon'),
        'asn': a.get('number'), 'as_org': a.get('organization', {}).get('name'),
        'bytes': d['network']['bytes'], 'packets': d['network']['packets'],
    }


for ecs in sorted(glob.glob(os.path.join(tmp, '*.ecs'))):
    flows = {f['id']: f for f in map(json.loads, open(ecs[:-4] + '.dump')) if 'id' in f}
    docs = [json.loads(l) for l in open(ecs)]
    got = {}
    for d in docs:
        r = back(d)
        got[r['id']] = r
        f = flows.get(r['id'])
        if not f:
            bad.append('%s: flow %s is not in --dump' % (ecs, r['id']))
            continue
        g = f['geo'] or {}
        want = dict(f, country=g.get('country'), city=g.get('city'), region=g.get('region'), lat=g.get('lat'),
                    lon=g.get('lon'), bytes=f['bytes_sent'] + f['bytes_received'],
                    packets=f['packets_sent'] + f['packets_received'])
        if f['proto'] not in ('tcp', 'udp', 'sctp'):
            want['local_port'] = want['remote_port'] = 0
        for k, v in r.items():
            if want.get(k) != v:
                bad.append('%s: flow %s %s: ECS says %r, --dump %r' % (os.path.basename(ecs), r['id'], k, v, want.get(k)))
        n += 1
        geo += r['country'] is not None
    missing = set(flows) - set(got)
    if missing:
        bad.append('%s: %d flows of --dump have no ECS document (%s)' % (ecs, len(missing), sorted(missing)[:5]))
for b in bad[:20]:
    print('MISMATCH', b)
print('%d ECS flow documents read back into their flows (%d with a place)' % (n, geo))
sys.exit(1 if bad or n == 0 else 0)
PY
echo "PASS: ECS documents as the schema says, and they read back into the flows"
