#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# evidence.sh: the evidence pcaps of a replayed capture open with tshark and hold exactly the packets of its
# anomalous and blocklisted flows (the first 64 of each, from the packet that made the flow suspect), byte for
# byte (MD5 per frame), with the original link type, and nothing else: the oracle is tshark on the original
# capture, split into flows by the 5-tuples and times of the --dump output. --dump without --state-dir and
# --evidence=no write nothing. The daemon writes the same evidence, and GET /flows/{id}/pcap returns each
# suspect flow's packets (skipped with a message while the route does not exist) and 404 for the others.
. "$(dirname "$0")/../lib/common.sh"
need python3 curl tshark

FIELDS="-e frame.time_epoch -e frame.md5_hash -e frame.len -e frame.cap_len -e frame.encap_type -e ip.src -e ip.dst
 -e ipv6.src -e ipv6.dst -e ip.proto -e ipv6.nxt -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport"

# fields FILE OUT: one line per frame of FILE (innermost headers), or fail when tshark cannot read it.
fields() {
	# shellcheck disable=SC2086
	tshark -r "$1" -o frame.generate_md5_hash:TRUE -T fields -E occurrence=l $FIELDS > "$2" 2> "$2.err" ||
		{ cat "$2.err"; fail "tshark cannot read $1"; }
}

cat > "$TMP/oracle.py" <<'PY'
"""oracle.py ORIG_FIELDS DUMP EVIDENCE_FIELDS [FLOW_ID]: compare the evidence with what the rules say it holds."""
import collections, datetime, json, sys

PROTO = {'tcp': 6, 'udp': 17, 'icmp': 1, 'icmpv6': 58, 'sctp': 132}
RANK = {'local': 1, 'normal': 2, 'anomalous': 3, 'blocklisted': 4}
MAX_PACKETS, MAX_BYTES = 64, 256 * 1024


def usec(rfc3339):
    t = datetime.datetime.fromisoformat(rfc3339.replace('Z', '+00:00'))
    return int(t.timestamp()) * 1000000 + t.microsecond


def frames(path):
    out = []
    for line in open(path):
        c = line.rstrip('\n').split('\t')
        secs, _, frac = c[0].partition('.')
        t = int(secs) * 1000000 + int((frac + '000000')[:6])
        src, dst = (c[5], c[6]) if c[5] else (c[7], c[8])
        proto = int(c[9] or c[10] or 0)
        sport, dport = (c[11], c[12]) if c[11] else (c[13], c[14])
        out.append({'t': t, 'md5': c[1], 'len': int(c[2]), 'caplen': int(c[3]), 'encap': c[4], 'src': src,
                    'dst': dst, 'proto': proto, 'sport': int(sport or 0), 'dport': int(dport or 0)})
    return out


def key(p):
    return (p['t'], p['md5'], p['len'], p['caplen'])


def expected(orig, dump, only=None):
    """Per suspect flow id, the frames the evidence must hold, in capture order."""
    flows = [json.loads(l) for l in open(dump)]
    flows = [f for f in flows if 'summary' not in f]
    exp = {}
    for f in flows:
        if RANK.get(f['verdict']) is None or RANK[f['verdict']] < 3 or (only and f['id'] != only):
            continue
        lo, hi = usec(f['first_seen']), usec(f['last_seen'])
        a, b = (f['local_ip'], f['local_port']), (f['remote_ip'], f['remote_port'])
        mine = [p for p in orig if p['proto'] == PROTO.get(f['proto'], f['proto_num']) and lo <= p['t'] <= hi and
                {(p['src'], p['sport']), (p['dst'], p['dport'])} == {a, b}]
        assert len(mine) == f['packets_sent'] + f['packets_received'], \
            'flow %d: tshark finds %d packets, the dump %d' % (f['id'], len(mine), f['packets_sent'] + f['packets_received'])
        seen, kept, nbytes = set(), [], 0
        for p in mine:
            d = 'sent' if (p['src'], p['sport']) == a else 'received'
            seen.add(d)
            # The flow is suspect from the packet after which a direction that carried traffic is bad.
            if max(RANK.get(f['verdict_' + x], 0) for x in seen) < 3:
                continue
            if len(kept) >= MAX_PACKETS or nbytes >= MAX_BYTES:
                break
            kept.append(p)
            nbytes += p['caplen']
        exp[f['id']] = kept
    return exp


def main():
    orig, dump, ev = frames(sys.argv[1]), sys.argv[2], frames(sys.argv[3])
    only = int(sys.argv[4]) if len(sys.argv) > 4 else None
    exp = expected(orig, dump, only)
    want = collections.Counter(key(p) for kept in exp.values() for p in kept)
    got = collections.Counter(key(p) for p in ev)
    assert sum(want.values()) > 0, 'the oracle expects no evidence at all'
    missing, extra = want - got, got - want
    assert not missing and not extra, 'missing %d frames %s, extra %d frames %s' % (
        sum(missing.values()), sorted(missing)[:3], sum(extra.values()), sorted(extra)[:3])
    encaps = set(p['encap'] for p in ev) | set(p['encap'] for p in orig)
    assert len(encaps) == 1, 'link types differ: %s' % encaps
    if only:
        assert [key(p) for p in ev] == [key(p) for p in exp[only]], 'flow %d: frames out of order' % only
    print('%d frames of %d suspect flows (%s), as the oracle says' % (sum(got.values()), len(exp),
          ', '.join('%d: %d' % (i, len(k)) for i, k in sorted(exp.items()))))


try:
    main()
except AssertionError as e:
    print('FAIL:', e)
    sys.exit(1)
PY

# check_dir NAME ORIG DUMP DIR: every evidence file opens with tshark; together they hold what the oracle
# says, from ORIG (the capture's fields) and DUMP (netglobe's flows).
check_dir() {
	ls "$4"/evidence-*.pcap > /dev/null 2>&1 || fail "$1: no evidence files in $4"
	: > "$TMP/$1.ev"
	for f in "$4"/evidence-*.pcap; do
		fields "$f" "$TMP/$1.one"
		cat "$TMP/$1.one" >> "$TMP/$1.ev"
	done
	printf '%s: ' "$1"
	python3 "$TMP/oracle.py" "$2" "$3" "$TMP/$1.ev" || fail "$1: the evidence differs from the oracle"
}

# 1. --dump --state-dir: a capture with anomalous flows, one remote blocklisted (a flow of 103 packets).
PCAP=$PCAPS/cs-ek_to_cryptowall4.pcapng
echo 45.32.238.202 > "$TMP/block.txt"
fields "$PCAP" "$TMP/ek.orig"
"$NG_BIN" -r "$PCAP" --dump --state-dir "$TMP/ek" --blocklist "$TMP/block.txt" > "$TMP/ek.jsonl" 2> "$TMP/ek.err" ||
	{ cat "$TMP/ek.err"; fail "--dump --state-dir failed"; }
grep -q '"verdict":"blocklisted"' "$TMP/ek.jsonl" || fail "expected blocklisted flows"
check_dir ek "$TMP/ek.orig" "$TMP/ek.jsonl" "$TMP/ek/evidence"
[ "$(stat -c %a "$TMP/ek/evidence")" = 700 ] || fail "the evidence directory is not mode 0700"
for f in "$TMP"/ek/evidence/*.pcap; do
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f is not mode 0600"
done

# 2. Another capture (UDP and TCP, other remotes), no blocklist.
PCAP2=$PCAPS/ndpi-emotet.pcap
fields "$PCAP2" "$TMP/em.orig"
"$NG_BIN" -r "$PCAP2" --dump --state-dir "$TMP/em" > "$TMP/em.jsonl" 2> "$TMP/em.err" ||
	{ cat "$TMP/em.err"; fail "--dump --state-dir failed on $PCAP2"; }
check_dir em "$TMP/em.orig" "$TMP/em.jsonl" "$TMP/em/evidence"

# 3. Nothing without --state-dir (--dump stays side-effect free), nothing with --evidence=no.
export XDG_STATE_HOME="$TMP/xdg" HOME="$TMP/home"
before=$(ls -lR /var/lib/netglobe 2>/dev/null | md5sum)
"$NG_BIN" -q -r "$PCAP" --dump > /dev/null 2>&1 || fail "--dump failed"
[ "$before" = "$(ls -lR /var/lib/netglobe 2>/dev/null | md5sum)" ] || fail "--dump without --state-dir changed /var/lib/netglobe"
[ ! -e "$TMP/xdg" ] && [ ! -e "$TMP/home" ] || fail "--dump without --state-dir wrote a state directory"
"$NG_BIN" -q -r "$PCAP" --dump --state-dir "$TMP/off" --evidence=no > /dev/null 2>&1 || fail "--evidence=no failed"
[ ! -e "$TMP/off/evidence" ] || fail "--evidence=no still wrote $TMP/off/evidence"

# 4. The daemon: the same evidence, and GET /flows/{id}/pcap.
"$NG_BIN" --help 2>&1 | grep -q -- '--listen' || fail "$NG_BIN --help does not list --listen (the HTTP mode)"
PORT=$(free_port)
"$NG_BIN" -r "$PCAP" --listen "127.0.0.1:$PORT" --state-dir "$TMP/d" --blocklist "$TMP/block.txt" \
	> "$TMP/d.out" 2> "$TMP/d.err" &
daemon=$!
NG_PIDS="$NG_PIDS $daemon"
python3 - "$PORT" "$daemon" <<'PY' || { cat "$TMP/d.err"; fail "the daemon did not finish the replay"; }
import json, os, sys, time, urllib.request
port, pid = int(sys.argv[1]), int(sys.argv[2])
end = time.time() + 60
while time.time() < end:
    os.kill(pid, 0)
    try:
        st = json.load(urllib.request.urlopen('http://127.0.0.1:%d/api/stats' % port, timeout=5))
        if (st.get('replay') or {}).get('done'):
            time.sleep(0.6)	# one more tick flushes the evidence files
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(1)
PY
curl -sf "http://127.0.0.1:$PORT/api/stats" > "$TMP/stats.json" || fail "GET /api/stats failed"
# Flushed by the tick: the files are complete while the daemon runs.
check_dir daemon "$TMP/ek.orig" "$TMP/ek.jsonl" "$TMP/d/evidence"
python3 - "$TMP/stats.json" "$TMP/daemon.ev" <<'PY' || fail "evidence stats are wrong"
import json, sys
ev = json.load(open(sys.argv[1]))['evidence']
frames = sum(1 for _ in open(sys.argv[2]))
assert ev['enabled'] is True and ev['packets'] == frames and ev['dropped'] == 0, (ev, frames)
assert ev['files'] >= 1 and ev['flows'] >= 1 and ev['bytes'] > 0, ev
print('stats: %s' % ev)
PY

suspect=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    f = json.loads(l)
    if f.get("verdict") in ("anomalous", "blocklisted"):
        print(f["id"])' "$TMP/ek.jsonl")
normal=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    f = json.loads(l)
    if f.get("verdict") == "normal":
        print(f["id"]); break' "$TMP/ek.jsonl")
served=0
for id in $suspect; do
	code=$(curl -s -o "$TMP/flow$id.pcap" -D "$TMP/flow$id.h" -w '%{http_code}' "http://127.0.0.1:$PORT/flows/$id/pcap")
	[ "$code" = 404 ] && continue
	[ "$code" = 200 ] || fail "GET /flows/$id/pcap: HTTP $code"
	grep -qi '^content-type: application/vnd.tcpdump.pcap' "$TMP/flow$id.h" || fail "/flows/$id/pcap: wrong Content-Type"
	# The file name: the flow id and its Community ID's hex form (the base64 one of --dump, decoded here).
	hex=$(python3 -c '
import base64, json, sys
for l in open(sys.argv[1]):
    f = json.loads(l)
    if f.get("id") == int(sys.argv[2]):
        print("1_" + base64.b64decode(f["community_id"][2:]).hex())' "$TMP/ek.jsonl" "$id")
	grep -qi "^content-disposition: .*filename=\"\{0,1\}netglobe-flow-$id-$hex.pcap" "$TMP/flow$id.h" ||
		fail "/flows/$id/pcap: no Content-Disposition filename netglobe-flow-$id-$hex.pcap: $(grep -i disposition "$TMP/flow$id.h")"
	fields "$TMP/flow$id.pcap" "$TMP/flow$id.ev"
	printf 'flow %s: ' "$id"
	python3 "$TMP/oracle.py" "$TMP/ek.orig" "$TMP/ek.jsonl" "$TMP/flow$id.ev" "$id" ||
		fail "/flows/$id/pcap differs from the oracle"
	served=$((served + 1))
done
if [ "$served" -eq 0 ]; then
	echo "GET /flows/{id}/pcap answers 404 for every suspect flow: the route is not there yet (part skipped)"
else
	[ "$served" -eq "$(echo "$suspect" | wc -w)" ] || fail "only $served suspect flows had a pcap"
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/flows/$normal/pcap")
	[ "$code" = 404 ] || fail "GET /flows/$normal/pcap of a normal flow: HTTP $code, not 404"
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/flows/999999/pcap")
	[ "$code" = 404 ] || fail "GET /flows/999999/pcap: HTTP $code, not 404"
fi
kill "$daemon"
wait "$daemon" || fail "the daemon did not exit 0 on SIGTERM"
echo "PASS"
