#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pcapgen.sh: the capture generator is deterministic, and what it writes is what its --truth says,
# as read back by an independent decoder (tshark): flows, packet and byte counts each way, times,
# DNS answers, TLS SNI, HTTP Host, verdicts (recomputed here from the packets), day files, flood,
# garbage and corrupt files.
set -u
gen=${NG_BUILD:-build}/tools/pcapgen
if [ ! -x "$gen" ]; then
	echo "FAIL: $gen is not built (make builds every tests/tools/*.c)"
	exit 1
fi
if ! command -v tshark > /dev/null 2>&1; then
	echo "needs tshark (Debian package tshark; make deps installs it)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

fail() {
	echo "FAIL: $*"
	exit 1
}

# 1. Determinism: the same arguments give the same bytes; another seed gives others.
"$gen" -q --packets 20000 --flows 500 --seed 7 -o "$tmp/a.pcap" --truth "$tmp/a.jsonl" || fail "pcapgen bench"
"$gen" -q --packets 20000 --flows 500 --seed 7 -o "$tmp/b.pcap" --truth "$tmp/b.jsonl" || fail "pcapgen bench (again)"
"$gen" -q --packets 20000 --flows 500 --seed 8 -o "$tmp/c.pcap" || fail "pcapgen bench --seed 8"
sa=$(sha256sum < "$tmp/a.pcap")
[ "$sa" = "$(sha256sum < "$tmp/b.pcap")" ] || fail "same arguments gave different captures"
[ "$(sha256sum < "$tmp/a.jsonl")" = "$(sha256sum < "$tmp/b.jsonl")" ] || fail "same arguments gave different truth"
[ "$sa" != "$(sha256sum < "$tmp/c.pcap")" ] || fail "--seed 8 gave the same capture as --seed 7"
echo "ok: deterministic ($(echo "$sa" | cut -c1-16))"

# 2. tshark reads it without malformed packets or errors.
bad=$(tshark -n -r "$tmp/a.pcap" -Y '_ws.malformed || _ws.expert.severity == error' 2>/dev/null | wc -l)
[ "$bad" -eq 0 ] || fail "tshark finds $bad malformed or erroneous packets: $(tshark -n -r "$tmp/a.pcap" -Y '_ws.malformed || _ws.expert.severity == error' 2>/dev/null | head -3)"
echo "ok: no malformed packets"

# 3. Days: one file and the same split per day; a schedule whose expectations are wrong is refused.
"$gen" -q days -o "$tmp/days.pcap" --truth "$tmp/days.jsonl" || fail "pcapgen days"
"$gen" -q days --split-days -o "$tmp/split.pcap" || fail "pcapgen days --split-days"
for d in 1 2 3; do
	[ -f "$tmp/split-day$d.pcap" ] || fail "--split-days wrote no split-day$d.pcap"
done
printf 'host A 93.184.215.14\nat 01:00 A tcp expect=normal/normal\n' > "$tmp/wrong.sched"
if "$gen" -q days --schedule "$tmp/wrong.sched" -o "$tmp/wrong.pcap" 2> "$tmp/wrong.err"; then
	fail "a schedule expecting a first contact to be normal was accepted"
fi
grep -q "schedule line 2" "$tmp/wrong.err" || fail "wrong schedule error does not name line 2: $(cat "$tmp/wrong.err")"

# 4. Flood with real flows; garbage; corrupt files.
"$gen" -q flood --packets 20000 --real-flows 5 --duration 20s -o "$tmp/flood.pcap" --truth "$tmp/flood.jsonl" ||
	fail "pcapgen flood"
"$gen" -q garbage --bytes 100000 -o "$tmp/garbage.bin" || fail "pcapgen garbage"
[ "$(wc -c < "$tmp/garbage.bin")" -eq 100000 ] || fail "garbage is not 100000 bytes"
if tshark -r "$tmp/garbage.bin" -q > /dev/null 2>&1; then
	fail "tshark accepted the garbage file as a capture"
fi
for d in truncate header caplen magic; do
	"$gen" -q corrupt --damage $d -o "$tmp/corrupt-$d.pcap" || fail "pcapgen corrupt --damage $d"
	if tshark -r "$tmp/corrupt-$d.pcap" -q > /dev/null 2>&1; then
		fail "tshark read corrupt --damage $d without an error"
	fi
done
echo "ok: garbage and corrupt files are refused by tshark"

# 5. The truth against tshark, packet by packet.
python3 - "$tmp" << 'EOF' || exit 1
import ipaddress, json, subprocess, sys

tmp = sys.argv[1]
DAY = 86400 * 10**6
WINDOW = 48 * 3600 * 10**6

def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)

def tshark(pcap, *args):
    r = subprocess.run(["tshark", "-n", "-r", pcap] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        fail("tshark %s %s: %s" % (pcap, " ".join(args), r.stderr.strip()[-300:]))
    return r.stdout

def norm(a):
    return ipaddress.ip_address(a).compressed

def usec(epoch):
    s, _, f = epoch.partition(".")
    return int(s) * 10**6 + int((f + "000000")[:6])

def load_truth(path):
    flows, summary = [], None
    for line in open(path):
        d = json.loads(line)
        if "summary" in d:
            summary = d["summary"]
        else:
            d["local_ip"], d["remote_ip"] = norm(d["local_ip"]), norm(d["remote_ip"])
            flows.append(d)
    if summary is None:
        fail(path + " has no summary line")
    return flows, summary

PROTO = {"1": "icmp", "6": "tcp", "17": "udp", "58": "icmpv6"}

def packets(pcap):
    """Every IP packet as (time_us, proto, src, sport, dst, dport, ip_bytes), from tshark."""
    out = tshark(pcap, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f",
                 "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst",
                 "-e", "ip.proto", "-e", "ipv6.nxt", "-e", "tcp.srcport", "-e", "tcp.dstport",
                 "-e", "udp.srcport", "-e", "udp.dstport", "-e", "ip.len", "-e", "ipv6.plen")
    res = []
    for line in out.splitlines():
        t, s4, d4, s6, d6, p4, p6, ts, td, us, ud, l4, l6 = line.split("\t")
        proto = PROTO.get(p4 or p6, "ip-" + (p4 or p6))
        sport, dport = (ts, td) if proto == "tcp" else (us, ud) if proto == "udp" else ("0", "0")
        res.append((usec(t), proto, norm(s4 or s6), int(sport), norm(d4 or d6), int(dport),
                    int(l4) if l4 else 40 + int(l6)))
    return res

def aggregate(pkts, locals_):
    """Flows keyed like netglobe's: (proto, local ip, local port, remote ip, remote port)."""
    flows = {}
    for t, proto, src, sp, dst, dp, n in pkts:
        if src in locals_:
            key, d = (proto, src, sp, dst, dp), 0
        elif dst in locals_:
            key, d = (proto, dst, dp, src, sp), 1
        else:
            fail("packet %s -> %s has no local end" % (src, dst))
        f = flows.setdefault(key, {"pk": [0, 0], "by": [0, 0], "first": t, "last": t})
        f["pk"][d] += 1
        f["by"][d] += n
        f["last"] = t
    return flows

def tkey(f):
    return (f["proto"], f["local_ip"], f["local_port"], f["remote_ip"], f["remote_port"])

def compare(name, truth, seen, only_truth=False):
    tk = {tkey(f): f for f in truth}
    if len(tk) != len(truth):
        fail("%s: the truth lists a flow twice" % name)
    if not only_truth and set(tk) != set(seen):
        extra, missing = set(seen) - set(tk), set(tk) - set(seen)
        fail("%s: tshark sees %d flows the truth lacks (%s), truth has %d tshark lacks (%s)"
             % (name, len(extra), list(extra)[:2], len(missing), list(missing)[:2]))
    for k, f in tk.items():
        s = seen.get(k)
        if s is None:
            fail("%s: truth flow %s not in the capture" % (name, k))
        got = (s["pk"][0], s["pk"][1], s["by"][0], s["by"][1], s["first"], s["last"])
        want = (f["packets_sent"], f["packets_received"], f["bytes_sent"], f["bytes_received"],
                f["first_seen_us"], f["last_seen_us"])
        if got != want:
            fail("%s: flow %s: tshark %s, truth %s" % (name, k, got, want))

def verdicts(name, truth, pkts, locals_):
    """Recompute the whitelist rule from the packets: normal iff that direction was seen within 48 h before."""
    events = {}
    for t, proto, src, sp, dst, dp, n in pkts:
        remote, d = (dst, 0) if src in locals_ else (src, 1)
        events.setdefault((remote, d), []).append(t)
    for f in truth:
        want = []
        for d in (0, 1):
            if not ipaddress.ip_address(f["remote_ip"]).is_global:
                want.append("local")
                continue
            times = events.get((f["remote_ip"], d), [])
            seen = any(f["first_seen_us"] - WINDOW <= t < f["first_seen_us"] for t in times)
            want.append("normal" if seen else "anomalous")
        if want != [f["verdict_sent"], f["verdict_received"]]:
            fail("%s: flow %s: verdicts %s/%s, the packets say %s/%s"
                 % (name, tkey(f), f["verdict_sent"], f["verdict_received"], want[0], want[1]))

def conversations(name, pcap, truth):
    """tshark's own conversation tables: same TCP and UDP conversations, same frames each way."""
    out = tshark(pcap, "-q", "-z", "conv,tcp", "-z", "conv,udp")
    section, convs = None, {}
    for line in out.splitlines():
        if line.startswith("TCP Conversations"):
            section = "tcp"
        elif line.startswith("UDP Conversations"):
            section = "udp"
        elif "<->" in line:
            tok = line.split()
            a, b = tok[0].rsplit(":", 1), tok[2].rsplit(":", 1)
            ka, kb = (norm(a[0]), int(a[1])), (norm(b[0]), int(b[1]))
            # columns: "<-" frames (B to A), bytes, unit; "->" frames (A to B), bytes, unit
            convs[(section,) + tuple(sorted([ka, kb]))] = {ka: int(tok[6]), kb: int(tok[3])}
    want = {}
    for f in truth:
        if f["proto"] in ("tcp", "udp"):
            l, r = (f["local_ip"], f["local_port"]), (f["remote_ip"], f["remote_port"])
            want[(f["proto"],) + tuple(sorted([l, r]))] = {l: f["packets_sent"], r: f["packets_received"]}
    if set(want) != set(convs):
        fail("%s: tshark conv,tcp/conv,udp has %d conversations, the truth %d (only in tshark: %s; only in truth: %s)"
             % (name, len(convs), len(want), list(set(convs) - set(want))[:2], list(set(want) - set(convs))[:2]))
    for k in want:
        if want[k] != convs[k]:
            fail("%s: conversation %s: tshark frames %s, truth %s" % (name, k, convs[k], want[k]))
    return len(convs)

# --- bench ---------------------------------------------------------------------------------------
pcap = tmp + "/a.pcap"
truth, summary = load_truth(tmp + "/a.jsonl")
locals_ = {norm(a) for a in summary["local"]}
pkts = packets(pcap)
if len(pkts) != 20000 or summary["packets"] != 20000:
    fail("bench: tshark counts %d packets, truth %d, asked for 20000" % (len(pkts), summary["packets"]))
if len(truth) != 500:
    fail("bench: %d flows in the truth, asked for 500" % len(truth))
if any(pkts[i][0] > pkts[i + 1][0] for i in range(len(pkts) - 1)):
    fail("bench: timestamps go backwards")
v6 = sum(f["ip_version"] == 6 for f in truth)
if abs(v6 - 100) > 3:
    fail("bench: %d of 500 flows are IPv6, asked for 20%%" % v6)
compare("bench", truth, aggregate(pkts, locals_))
nconv = conversations("bench", pcap, truth)
verdicts("bench", truth, pkts, locals_)
kinds = {}
for f in truth:
    kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
    if f["kind"] != "dns" and not ipaddress.ip_address(f["remote_ip"]).is_global:
        fail("bench: remote %s of a %s flow is not a global address" % (f["remote_ip"], f["kind"]))
for k in ("tls", "http", "dns", "udp", "ntp", "icmp", "tcp-in", "refused"):
    if not kinds.get(k):
        fail("bench: no %s flow in 500 flows (%s)" % (k, kinds))
print("ok: bench flows, counts, times and verdicts match tshark (%d flows, %d tcp/udp conversations, %s)"
      % (len(truth), nconv, kinds))

# DNS answers: what tshark decodes is what the truth says was asked and answered.
dns = {}
out = tshark(pcap, "-Y", "dns.flags.response == 1", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
             "-E", "aggregator=,", "-e", "frame.time_epoch", "-e", "udp.dstport", "-e", "ip.src", "-e", "ipv6.src",
             "-e", "dns.qry.name", "-e", "dns.cname", "-e", "dns.a", "-e", "dns.aaaa")
answers = []
for line in out.splitlines():
    t, port, s4, s6, qname, cnames, a4, a6 = line.split("\t")
    addrs = [norm(x) for x in (a4 + "," + a6).split(",") if x]
    dns[(norm(s4 or s6), int(port))] = (qname, [c for c in cnames.split(",") if c], addrs)
    answers.append((usec(t), qname, addrs))
for f in truth:
    if f["kind"] != "dns":
        continue
    got = dns.get((f["remote_ip"], f["local_port"]))
    want = (f["query"], f["cnames"], [norm(a) for a in f["answers"]])
    if got != want:
        fail("bench: DNS answer to port %d: tshark %s, truth %s" % (f["local_port"], got, want))
# Names: a flow has dns_name exactly when an answer naming its remote came before it, and it is that answer's name.
for f in truth:
    if f["kind"] == "dns":
        continue
    before = [(t, q) for t, q, addrs in answers if f["remote_ip"] in addrs and t <= f["first_seen_us"]]
    if not before:
        if f["dns_name"] is not None:
            fail("bench: flow %s has dns_name %s but no answer named it before it began" % (tkey(f), f["dns_name"]))
        continue
    t, q = max(before)
    if (f["dns_name"], f["dns_answer_us"]) != (q, t):
        fail("bench: flow %s: dns_name %s at %s, tshark's last earlier answer %s at %d"
             % (tkey(f), f["dns_name"], f["dns_answer_us"], q, t))
print("ok: %d DNS answers and every flow's dns_name agree with tshark" % len(dns))

# TLS ClientHellos (SNI) and HTTP requests (Host), per flow.
sni = {}
out = tshark(pcap, "-Y", "tls.handshake.type == 1", "-T", "fields", "-E", "separator=\t", "-e", "tcp.srcport",
             "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tls.handshake.extensions_server_name")
for line in out.splitlines():
    port, d4, d6, name = line.split("\t")
    key = (norm(d4 or d6), int(port))
    if key in sni:
        fail("bench: two ClientHellos on %s" % (key,))
    sni[key] = name or None
hosts = {}
out = tshark(pcap, "-Y", "http.request", "-T", "fields", "-E", "separator=\t", "-e", "tcp.srcport", "-e", "ip.dst",
             "-e", "ipv6.dst", "-e", "http.host")
for line in out.splitlines():
    port, d4, d6, host = line.split("\t")
    hosts.setdefault((norm(d4 or d6), int(port)), set()).add(host)
for f in truth:
    key = (f["remote_ip"], f["local_port"])
    if f["kind"] == "tls":
        if key not in sni or sni[key] != f["sni"]:
            fail("bench: TLS flow %s: tshark's ClientHello SNI %s, truth %s" % (tkey(f), sni.get(key, "(no hello)"), f["sni"]))
    elif f["kind"] == "http":
        if hosts.get(key) != {f["http_host"]}:
            fail("bench: HTTP flow %s: tshark's Host %s, truth %s" % (tkey(f), hosts.get(key), f["http_host"]))
ntls = sum(f["kind"] == "tls" for f in truth)
if len(sni) != ntls:
    fail("bench: tshark sees %d ClientHellos for %d TLS flows" % (len(sni), ntls))
print("ok: %d ClientHellos (SNI) and %d HTTP flows (Host) agree with tshark" % (len(sni), len(hosts)))

# --- days ----------------------------------------------------------------------------------------
truth, summary = load_truth(tmp + "/days.jsonl")
locals_ = {norm(a) for a in summary["local"]}
pkts = packets(tmp + "/days.pcap")
compare("days", truth, aggregate(pkts, locals_))
verdicts("days", truth, pkts, locals_)
start = min(f["first_seen_us"] for f in truth)
start -= start % DAY
whole = [(p[0], p[6]) for p in pkts]
parts = []
for d in (1, 2, 3):
    part = packets(tmp + "/split-day%d.pcap" % d)
    lo, hi = start + (d - 1) * DAY, start + d * DAY
    if not part or any(not lo <= p[0] < hi for p in part):
        fail("days: split-day%d.pcap is empty or holds packets outside day %d" % (d, d))
    parts += [(p[0], p[6]) for p in part]
if parts != whole:
    fail("days: the three day files together differ from the single file")
for f in truth:
    if f["day"] != (f["first_seen_us"] - start) // DAY + 1:
        fail("days: flow %s says day %d" % (tkey(f), f["day"]))
an = sum(f["verdict"] == "anomalous" for f in truth)
print("ok: days: %d flows over 3 days, verdicts recomputed from the packets agree (%d anomalous), day files split right"
      % (len(truth), an))

# --- flood ---------------------------------------------------------------------------------------
truth, summary = load_truth(tmp + "/flood.jsonl")
locals_ = {norm(a) for a in summary["local"]}
pkts = packets(tmp + "/flood.pcap")
real = sum(f["packets_sent"] + f["packets_received"] for f in truth)
if len(truth) != 5 or len(pkts) != 20000 + real or summary["flood_packets"] != 20000:
    fail("flood: %d real flows, %d packets; want 5 and 20000 + %d" % (len(truth), len(pkts), real))
compare("flood", truth, aggregate(pkts, locals_), only_truth=True)
reals = {f["remote_ip"] for f in truth}
spoofed = [p[2] for p in pkts if p[2] not in locals_ and p[2] not in reals]
if len(spoofed) != 20000 or not all(ipaddress.ip_address(a).is_global for a in spoofed):
    fail("flood: %d spoofed packets, or some sources are not global" % len(spoofed))
if len(set(spoofed)) < 19900:
    fail("flood: only %d distinct sources in 20000 packets" % len(set(spoofed)))
print("ok: flood: 20000 spoofed packets from %d sources, the 5 real flows intact" % len(set(spoofed)))
EOF
echo "ok: all"
