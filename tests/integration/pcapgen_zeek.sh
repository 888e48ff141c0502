#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pcapgen_zeek.sh: `pcapgen zeek` turns the shared Zeek logs (a benign host's whole day, a Simda DGA
# infection) into captures that tshark reads without malformed packets and that hold what the logs
# say: every conn.log row a conversation with its 5-tuple starting at its ts; S0, REJ and SF shapes
# (SYN, SYN-ACK, RST, FIN counts); IP byte totals within tolerance; every ssl.log server_name as the
# SNI and every http.log host as http.host on its connection; every dns.log answer as dns.a/dns.aaaa
# with the row's rcode. Also: garbage lines are skipped and counted, never fatal; generating the day
# takes seconds; beacon and merge keep timestamps sorted.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
data=${NG_TESTDATA:-$repo/tests/data}/zeek
[ -f "$data/normal-host-conn.log" ] || data=$repo/tests/data/zeek
gen=${NG_BUILD:-build}/tools/pcapgen
fail() {
	echo "FAIL: $*"
	exit 1
}
[ -x "$gen" ] || fail "$gen is not built (make builds every tests/tools/*.c)"
[ -f "$data/normal-host-conn.log" ] || fail "no Zeek logs in $data (tests/data/zeek)"
command -v tshark > /dev/null 2>&1 || { echo "needs tshark (Debian package tshark; make deps installs it)"; exit 77; }
command -v python3 > /dev/null 2>&1 || { echo "needs python3"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# 1. Both log sets, timed; the same logs give the same bytes.
start=$(date +%s)
"$gen" zeek --conn "$data/normal-host-conn.log" --ssl "$data/normal-host-ssl.log" --dns "$data/normal-host-dns.log" \
	--http "$data/normal-host-http.log" -o "$tmp/normal.pcap" 2> "$tmp/normal.err" || fail "pcapgen zeek (normal host): $(cat "$tmp/normal.err")"
secs=$(($(date +%s) - start))
cat "$tmp/normal.err"
[ "$secs" -le 20 ] || fail "a day of Zeek logs took $secs s to turn into a capture (should be seconds)"
"$gen" zeek --conn "$data/simda-dga-conn.log" --dns "$data/simda-dga-dns.log" --http "$data/simda-dga-http.log" \
	-o "$tmp/simda.pcap" 2> "$tmp/simda.err" || fail "pcapgen zeek (simda): $(cat "$tmp/simda.err")"
cat "$tmp/simda.err"
"$gen" zeek -q --conn "$data/simda-dga-conn.log" --dns "$data/simda-dga-dns.log" --http "$data/simda-dga-http.log" \
	-o "$tmp/simda2.pcap" || fail "pcapgen zeek (simda, again)"
cmp -s "$tmp/simda.pcap" "$tmp/simda2.pcap" || fail "the same logs gave different captures"
echo "ok: normal host's day in ${secs}s; deterministic"

# 2. Hostile lines: skipped with a count, never a crash; a log without #fields is all skipped.
{
	head -n 8 "$data/simda-dga-conn.log"
	printf 'garbage\n\t\t\t\n1.5\tX\t999.1.1.1\t1\t2.2.2.2\t2\ttcp\n'
	printf '%s\tC1\t10.0.0.1\t99999\t10.0.0.2\t80\ttcp\t-\t1\t1\t1\tSF\n' 20
	printf '%s\tC2\t10.0.0.1\t1000\t::1\t80\ttcp\t-\t1\t1\t1\tSF\n' 21
	printf '%s\tC3\t10.0.0.1\t1000\t10.0.0.2\t80\tsctp\t-\t1\t1\t1\tSF\n' 22
	printf -- '-5\tC4\t10.0.0.1\t1000\t10.0.0.2\t80\ttcp\n'
	head -c 3000 /dev/urandom | tr -d '\000' ; printf '\n'
	printf '30.5\tC5\t10.0.0.1\t1000\t10.0.0.2\t80\ttcp\t-\t(empty)\t-\t-\tS0\tT\tF\t0\tS\t1\t-\t0\t-\t(empty)\textra\tcolumns\n'
} > "$tmp/hostile-conn.log"
: > "$tmp/empty.log"	# an empty log (netglobe reads regular files only: not /dev/null)
"$gen" zeek --conn "$tmp/hostile-conn.log" --dns "$tmp/hostile-conn.log" --http "$tmp/empty.log" -o "$tmp/hostile.pcap" \
	2> "$tmp/hostile.err" || fail "pcapgen zeek crashed or failed on hostile lines: $(cat "$tmp/hostile.err")"
grep -q 'conn [0-9]* rows ([1-9][0-9]* skipped)' "$tmp/hostile.err" || fail "hostile lines not counted: $(cat "$tmp/hostile.err")"
[ "$(tshark -r "$tmp/hostile.pcap" 2> /dev/null | wc -l)" -ge 1 ] || fail "the good line of the hostile log wrote no packet"
echo "ok: hostile lines: $(grep -o 'conn [0-9]* rows ([0-9]* skipped)' "$tmp/hostile.err")"

# 3. tshark reads them without malformed packets; the records are in time order.
for f in normal simda; do
	bad=$(tshark -n -r "$tmp/$f.pcap" -Y '_ws.malformed || _ws.expert.severity == error' 2> /dev/null | wc -l)
	[ "$bad" -eq 0 ] || fail "$f: tshark finds $bad malformed packets: $(tshark -n -r "$tmp/$f.pcap" -Y _ws.malformed 2> /dev/null | head -3)"
	tshark -r "$tmp/$f.pcap" -q -z expert 2> /dev/null | grep -q 'Malformed' && fail "$f: tshark -z expert lists malformed packets"
done
echo "ok: no malformed packets"

# 4. Against the logs, conversation by conversation.
for f in normal simda; do
	tshark -n -r "$tmp/$f.pcap" -T fields -E separator=/t -E occurrence=f \
		-e frame.time_epoch -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e ip.proto -e ipv6.nxt \
		-e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport -e icmp.type -e icmpv6.type \
		-e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.reset -e tcp.flags.fin -e ip.len -e ipv6.plen \
		-e tls.handshake.extensions_server_name -e http.host -e dns.flags.response -e dns.id -e dns.flags.rcode \
		> "$tmp/$f.tsv" 2> /dev/null || fail "$f: tshark -T fields failed"
	# Answers: every one of a packet, not only the first.
	tshark -n -r "$tmp/$f.pcap" -Y 'dns.flags.response == 1' -T fields -E separator=/t -E occurrence=a \
		-e frame.time_epoch -e dns.id -e dns.a -e dns.aaaa > "$tmp/$f.ans" 2> /dev/null || fail "$f: tshark dns"
done
python3 - "$tmp" "$data" << 'EOF2' || exit 1
import collections, sys

tmp, data = sys.argv[1], sys.argv[2]
CAP, LIMIT = 4, 1 << 20
DATA_STATES = {"S1", "SF", "S2", "S3", "RSTO", "RSTR"}

def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)

def us(s):
    sec, _, frac = s.partition(".")
    return int(sec) * 1000000 + int((frac + "000000")[:6])

def read_log(path):
    rows, names = [], None
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("#fields"):
            names = line.split("\t")[1:]
        elif line and not line.startswith("#") and names:
            v = line.split("\t")
            rows.append({n: (v[i] if i < len(v) and v[i] not in ("-", "(empty)", "") else None) for i, n in enumerate(names)})
    return rows

def proto_num(p, v6):
    return {"tcp": 6, "udp": 17, "icmp": 58 if v6 else 1}[p]

for name, logs in (("normal", ("conn", "ssl", "dns", "http")), ("simda", ("conn", "dns", "http"))):
    conns = read_log(f"{data}/{'normal-host' if name == 'normal' else 'simda-dga'}-conn.log")
    byuid = {c["uid"]: c for c in conns}
    pk = collections.defaultdict(list)   # (proto, {a,b}) -> packets
    for line in open(f"{tmp}/{name}.tsv"):
        f = (line.rstrip("\n").split("\t") + [""] * 24)[:24]
        src, dst = f[1] or f[2], f[3] or f[4]
        proto = int(f[5] or f[6] or 0)
        sp, dp = f[7] or f[9] or f[11] or f[12], f[8] or f[10] or "0"
        if proto in (1, 58):
            sp, dp = f[11] or f[12], "0"
        p = dict(t=us(f[0]), src=src, dst=dst, sp=int(sp or 0), dp=int(dp or 0), syn=f[13] in ("1", "True"),
                 ack=f[14] in ("1", "True"), rst=f[15] in ("1", "True"), fin=f[16] in ("1", "True"),
                 iplen=int(f[17]) if f[17] else int(f[18] or 0) + 40, sni=f[19], host=f[20],
                 resp=f[21], dnsid=f[22], rcode=f[23])
        if proto in (1, 58):
            key = (proto, frozenset(((src, 0), (dst, 0))))
        else:
            key = (proto, frozenset(((src, p["sp"]), (dst, p["dp"]))))
        pk[key].append(p)

    def conv(c):
        v6 = ":" in c["id.orig_h"]
        pr = proto_num(c["proto"], v6)
        if pr in (1, 58):
            return pr, pk.get((pr, frozenset(((c["id.orig_h"], 0), (c["id.resp_h"], 0)))), [])
        return pr, pk.get((pr, frozenset(((c["id.orig_h"], int(c["id.orig_p"])), (c["id.resp_h"], int(c["id.resp_p"]))))), [])

    # Conversations: one starting at each row's ts with its 5-tuple, first packet as Zeek says.
    found = 0
    bytuple = collections.defaultdict(list)
    for c in conns:
        pr, ps = conv(c)
        ts = us(c["ts"])
        bytuple[(pr, c["id.orig_h"], c["id.orig_p"], c["id.resp_h"], c["id.resp_p"])].append(c)
        at = [p for p in ps if p["t"] == ts]
        if not at:
            fail(f"{name}: conn {c['uid']} {c['proto']} {c['id.orig_h']}:{c['id.orig_p']} -> {c['id.resp_h']}:{c['id.resp_p']} "
                 f"({c['conn_state']}): no packet at ts {c['ts']}")
        first = at[0]
        if pr in (1, 58):
            if first["src"] != c["id.orig_h"] or first["sp"] != int(c["id.orig_p"]):
                fail(f"{name}: ICMP conn {c['uid']}: first packet is not type {c['id.orig_p']} from the originator")
        elif c["conn_state"] not in ("RSTRH", "SHR") and int(c["orig_pkts"] or 1) > 0 and (first["src"], first["sp"]) != (c["id.orig_h"], int(c["id.orig_p"])):
            fail(f"{name}: conn {c['uid']} ({c['conn_state']}): first packet is not from the originator")
        found += 1

    # Shapes and bytes, for connections alone on their 5-tuple (port reuse would mix their packets).
    shapes = collections.Counter()
    bytes_ok = bytes_n = capped = 0
    for tup, cs in bytuple.items():
        if len(cs) != 1 or tup[0] != 6:
            continue
        c = cs[0]
        _, ps = conv(c)
        o = (c["id.orig_h"], int(c["id.orig_p"]))
        frm = lambda p: (p["src"], p["sp"]) == o
        syn_o = sum(1 for p in ps if frm(p) and p["syn"] and not p["ack"])
        synack = sum(1 for p in ps if not frm(p) and p["syn"] and p["ack"])
        rst_r = sum(1 for p in ps if not frm(p) and p["rst"])
        fin_o = sum(1 for p in ps if frm(p) and p["fin"])
        fin_r = sum(1 for p in ps if not frm(p) and p["fin"])
        st = c["conn_state"]
        opk = int(c["orig_pkts"] or 1)
        if st == "S0":
            if (syn_o, synack, len(ps)) != (min(opk, CAP), 0, min(opk, CAP)):
                fail(f"{name}: S0 conn {c['uid']}: {syn_o} SYNs, {synack} SYN-ACKs, {len(ps)} packets (want {min(opk, CAP)} SYNs only)")
        elif st == "REJ":
            if syn_o < 1 or rst_r != 1 or synack:
                fail(f"{name}: REJ conn {c['uid']}: {syn_o} SYNs, {rst_r} RSTs from the responder, {synack} SYN-ACKs")
        elif st == "SF":
            if (syn_o, synack, fin_o, fin_r) != (1, 1, 1, 1) or any(p["rst"] for p in ps):
                fail(f"{name}: SF conn {c['uid']}: SYN {syn_o}, SYN-ACK {synack}, FIN {fin_o}/{fin_r}, RST {sum(p['rst'] for p in ps)}")
            # IP bytes each way: Zeek's orig_ip_bytes / resp_ip_bytes, exact up to the byte limit
            # (tolerance: 2 % or 1500 bytes, for a ClientHello or request larger than the bytes).
            for d, col, pcol in ((True, "orig_ip_bytes", "orig_bytes"), (False, "resp_ip_bytes", "resp_bytes")):
                want = int(c[col] or 0)
                got = sum(p["iplen"] for p in ps if frm(p) == d)
                if int(c[pcol] or 0) == 0 or want > LIMIT - 1500:
                    capped += want > LIMIT - 1500
                    continue
                bytes_n += 1
                if abs(got - want) <= max(want // 50, 1500):
                    bytes_ok += 1
                else:
                    fail(f"{name}: SF conn {c['uid']} {'orig' if d else 'resp'}: {got} IP bytes written, Zeek counted {want}")
        else:
            continue
        shapes[st] += 1

    # SNI, Host.
    sni_n = sni_skip = 0
    if "ssl" in logs:
        for r in read_log(f"{data}/normal-host-ssl.log"):
            c = byuid.get(r["uid"])
            if not r["server_name"] or not c or c["conn_state"] not in DATA_STATES:
                sni_skip += 1
                continue
            _, ps = conv(c)
            if not any(p["sni"] == r["server_name"] for p in ps):
                fail(f"{name}: ssl {r['uid']}: no ClientHello with SNI {r['server_name']}")
            sni_n += 1
    host_n = host_skip = 0
    hcount = collections.Counter()
    for r in read_log(f"{data}/{'normal-host' if name == 'normal' else 'simda-dga'}-http.log"):
        c = byuid.get(r["uid"])
        hcount[r["uid"]] += 1
        if not r["host"] or not c or c["conn_state"] not in DATA_STATES or hcount[r["uid"]] > 8:
            host_skip += 1
            continue
        _, ps = conv(c)
        if not any(p["host"] == r["host"] for p in ps):
            fail(f"{name}: http {r['uid']}: no request with Host {r['host']}")
        host_n += 1

    # DNS: each answered row's response (id, endpoints, rcode) with its A/AAAA answers.
    answers = collections.defaultdict(list)
    for line in open(f"{tmp}/{name}.ans"):
        f = (line.rstrip("\n").split("\t") + [""] * 4)[:4]
        ips = set(x for x in (f[2].split(",") + f[3].split(",")) if x)
        answers[int(f[1], 16) if f[1].startswith("0x") else int(f[1] or 0)].append((us(f[0]), ips))
    resp = {}
    for ps in pk.values():
        for p in ps:
            if p["resp"] in ("1", "True"):
                resp.setdefault((p["src"], p["sp"], p["dst"], p["dp"], int(p["dnsid"], 0)), []).append(p)
    dns_n = dns_ans = dns_skip = 0
    rcodes = collections.Counter()
    for r in read_log(f"{data}/{'normal-host' if name == 'normal' else 'simda-dga'}-dns.log"):
        if r["rcode"] is None or not r["query"] or r["proto"] != "udp":
            dns_skip += 1
            continue
        tid = int(r["trans_id"])
        rs = resp.get((r["id.resp_h"], int(r["id.resp_p"]), r["id.orig_h"], int(r["id.orig_p"]), tid), [])
        if not any(int(p["rcode"] or 0) == int(r["rcode"]) for p in rs):
            fail(f"{name}: dns {r['uid']} {r['query']}: no response with id {tid} and rcode {r['rcode']}")
        ips = set(a for a in (r["answers"] or "").split(",") if a and (a.count(".") == 3 and a.replace(".", "").isdigit() or ":" in a))
        if ips and not any(ips <= got for _, got in answers.get(tid, [])):
            fail(f"{name}: dns {r['uid']} {r['query']}: answers {sorted(ips)} not all in a response with id {tid}")
        dns_n += 1
        dns_ans += len(ips)
        rcodes[r["rcode"]] += 1
    print(f"ok {name}: {found}/{len(conns)} conn rows have their conversation at ts; shapes checked "
          f"{dict(shapes)}; IP bytes within tolerance {bytes_ok}/{bytes_n} SF directions ({capped} over the "
          f"{LIMIT}-byte limit, not compared); SNI {sni_n} (skipped {sni_skip}: no name, no conn or no data); "
          f"http.host {host_n} (skipped {host_skip}); DNS {dns_n} responses with rcodes {dict(rcodes)}, "
          f"{dns_ans} A/AAAA answers (skipped {dns_skip}: unanswered or no query)")
EOF2

# 5. Beacon inside the benign day, merged: sorted, all there, the beacon's period.
"$gen" beacon -q --remote 147.32.80.9 --port 443 --period 300 --jitter 10 --count 30 --start 1655190000 --name upd.example.com \
	--local 147.32.83.234 -o "$tmp/beacon.pcap" || fail "pcapgen beacon"
"$gen" merge -q "$tmp/normal.pcap" "$tmp/beacon.pcap" -o "$tmp/merged.pcap" || fail "pcapgen merge"
n1=$(tshark -r "$tmp/normal.pcap" -T fields -e frame.number 2> /dev/null | wc -l)
n2=$(tshark -r "$tmp/beacon.pcap" -T fields -e frame.number 2> /dev/null | wc -l)
tshark -r "$tmp/merged.pcap" -T fields -e frame.time_epoch 2> /dev/null > "$tmp/merged.t"
[ "$(wc -l < "$tmp/merged.t")" -eq $((n1 + n2)) ] || fail "merge wrote $(wc -l < "$tmp/merged.t") packets, the inputs hold $((n1 + n2))"
sort -n -c "$tmp/merged.t" 2> /dev/null || fail "merged timestamps are not sorted"
syns=$(tshark -r "$tmp/merged.pcap" -Y 'ip.dst == 147.32.80.9 && tcp.flags.syn == 1 && tcp.flags.ack == 0' -T fields -e frame.time_epoch 2> /dev/null)
[ "$(echo "$syns" | wc -l)" -eq 30 ] || fail "the merged beacon has $(echo "$syns" | wc -l) connections, not 30"
echo "$syns" | python3 -c '
import sys
t = [float(x) for x in sys.stdin.read().split()]
gaps = [b - a for a, b in zip(t, t[1:])]
assert all(240 <= g <= 360 for g in gaps), gaps   # 300 s +-10 % each end (plus the DNS lookup before each)
print("ok: beacon merged into the day: 30 check-ins, gaps %.1f..%.1f s" % (min(gaps), max(gaps)))
' || fail "beacon gaps are not 300 s +-10 %"
[ "$(tshark -r "$tmp/merged.pcap" -Y 'tls.handshake.extensions_server_name == "upd.example.com"' 2> /dev/null | wc -l)" -eq 30 ] ||
	fail "the beacon's ClientHellos do not carry SNI upd.example.com"
[ "$(tshark -r "$tmp/merged.pcap" -Y 'dns.a == 147.32.80.9' 2> /dev/null | wc -l)" -eq 30 ] || fail "no DNS answer before each check-in"
echo "PASS"
