#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# names_tshark.sh: the DNS, SNI and Host parsers against tshark's dissection of the same payloads.
#
# For each non-malware capture, tshark prints every DNS response payload (UDP 53, mDNS 5353, LLMNR 5355,
# and TCP 53 with its RFC 7766 length prefix); build/tools/dns_extract feeds them to dns_parse/dns_learn
# and prints the address -> name pairs. The expected pairs come from tshark's own dissection (-T json):
# every class-IN A/AAAA in the answer section maps to the question name through the CNAME records, or,
# in a response without questions (mDNS), to its owner's chain head. Glue in the authority and additional
# sections of unicast answers is not expected (the parser ignores it on purpose; tshark's dns.a lists it).
# Names with bytes other than letters, digits, '-' and '_' are expected to be skipped.
# Then the same for TLS SNI (tls.handshake.extensions_server_name) and the HTTP Host header (http.host),
# on tcp.reassembled.data when tshark reassembled the message, else tcp.payload.
set -u
: "${NG_BUILD:=build}"
: "${NG_TESTDATA:=$(cd "$(dirname "$0")/.." && pwd)/data}"
tool=$NG_BUILD/tools/dns_extract
pcaps=$NG_TESTDATA/pcaps
if ! command -v tshark > /dev/null 2>&1; then
	echo "needs tshark (apt-get install tshark)"
	exit 77
fi
if ! command -v python3 > /dev/null 2>&1; then
	echo "needs python3"
	exit 77
fi
if [ ! -x "$tool" ]; then
	echo "FAIL: $tool is missing (make BUILD=$NG_BUILD all builds it)"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

TOOL=$tool PCAPS=$pcaps TMP=$tmp python3 - << 'EOF'
import ipaddress, json, os, re, subprocess, sys

tool, pcaps, tmp = os.environ["TOOL"], os.environ["PCAPS"], os.environ["TMP"]
HOST = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")
failed = 0

def tshark(args):
    return subprocess.run(["tshark", "-n"] + args, check=True, capture_output=True, text=True).stdout

def pairs_hook(pairs):
    # tshark's JSON repeats keys when two records print alike: keep every one.
    out = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out

def values(section):
    for v in section.values():
        for x in v:
            yield x

def one(rec, key, default=None):
    v = rec.get(key)
    return v[0] if v else default

def norm(a):
    return str(ipaddress.ip_address(a))

def expected_dns(pcap, filt):
    exp = set()
    stats = {"responses": 0, "unlinked": 0}
    data = json.loads(tshark(["-r", pcap, "-Y", filt, "-T", "json"]), object_pairs_hook=pairs_hook)
    for pkt in data:
        layers = one(one(pkt, "_source"), "layers")
        frame = one(one(layers, "frame"), "frame.number")
        for layer in (layers.get("dns", []) + layers.get("mdns", [])):
            flags = one(layer, "dns.flags_tree", {})
            if one(flags, "dns.flags.response") != "1" or one(flags, "dns.flags.opcode") != "0" \
                    or one(flags, "dns.flags.rcode") != "0":
                continue
            stats["responses"] += 1
            qs = [one(q, "dns.qry.name", "").lower() for q in values(one(layer, "Queries", {}))]
            recs = list(values(one(layer, "Answers", {})))
            if not qs:
                recs += list(values(one(layer, "Additional records", {})))
            cnames = [(one(r, "dns.resp.name", "").lower(), one(r, "dns.cname", "").lower())
                      for r in recs if one(r, "dns.resp.type") == "5"]
            for r in recs:
                t = one(r, "dns.resp.type")
                if t not in ("1", "28") or int(one(r, "dns.resp.class", "0"), 16) & 0x7fff != 1:
                    continue
                addr = one(r, "dns.a") if t == "1" else one(r, "dns.aaaa")
                cur, name = one(r, "dns.resp.name", "").lower(), None
                for _ in range(17):
                    if cur in qs:
                        name = cur
                        break
                    prev = [o for o, tgt in cnames if tgt == cur]
                    if not prev:
                        if not qs:
                            name = cur
                        break
                    cur = prev[0]
                if name is None:
                    stats["unlinked"] += 1
                    continue
                if HOST.match(name):
                    exp.add((frame, norm(addr), name))
    return exp, stats

def run_tool(mode, lines):
    r = subprocess.run([tool, mode], input="".join(lines), capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("FAIL: dns_extract %s exited %d: %s" % (mode, r.returncode, r.stderr.strip()))
    return r.stdout.splitlines()

def check_dns(name):
    global failed
    pcap = os.path.join(pcaps, name)
    got = set()
    for mode, filt, field in (("dns", "udp.port==53 || udp.port==5353 || udp.port==5355", "udp.payload"),
                              ("dnstcp", "tcp.port==53", "tcp.payload")):
        rows = tshark(["-r", pcap, "-Y", "(%s) && dns.flags.response==1" % filt, "-T", "fields",
                       "-e", "frame.number", "-e", "frame.time_epoch", "-e", field])
        lines = [l + "\n" for l in rows.splitlines() if len(l.split("\t")) == 3 and l.split("\t")[2]]
        for l in run_tool(mode, lines):
            f, a, n = l.split(" ")
            got.add((f, norm(a), n))
    exp, st = expected_dns(pcap, "(udp.port==53 || udp.port==5353 || udp.port==5355 || tcp.port==53)")
    miss, extra = exp - got, got - exp
    print("dns %-30s responses %3d expected %3d got %3d missing %d extra %d (tshark unlinked %d)" %
          (name, st["responses"], len(exp), len(got), len(miss), len(extra), st["unlinked"]))
    for m in sorted(miss)[:10]:
        print("   missing", *m)
    for m in sorted(extra)[:10]:
        print("   extra  ", *m)
    if miss or extra or not exp:
        failed += 1

def host_of(h):
    h = h.strip().lower()
    if h.startswith("["):
        return None
    h = h.split(":")[0].rstrip(".")
    if not HOST.match(h) or h.split(".")[-1].isdigit():
        return None
    return h

def check_names(name, mode):
    global failed
    pcap = os.path.join(pcaps, name)
    if mode == "sni":
        filt, field = "tcp && tls.handshake.type==1", "tls.handshake.extensions_server_name"
    else:
        filt, field = "http.request", "http.host"
    rows = tshark(["-r", pcap, "-Y", filt, "-T", "fields", "-e", "frame.number", "-e", "tcp.reassembled.data",
                   "-e", "tcp.payload", "-e", field, "-e", "http.request.method", "-e", "http.request.uri"])
    lines, exp = [], {}
    for l in rows.splitlines():
        f, reas, pay, want, method, uri = (l.split("\t") + [""] * 6)[:6]
        data = reas or pay
        if not data:
            continue
        lines.append("%s %s\n" % (f, data.split(",")[0]))
        if mode == "http" and method == "CONNECT":
            want = uri
        exp[f] = host_of(want.split(",")[0]) if want else None
    got = {}
    for l in run_tool(mode, lines):
        f, n = l.split(" ")
        got[f] = None if n.startswith("-") else n
    bad = [(f, exp[f], got.get(f)) for f in exp if exp[f] != got.get(f)]
    named = sum(1 for f in exp if exp[f])
    print("%-4s %-30s messages %3d with a name %3d mismatches %d" % (mode, name, len(exp), named, len(bad)))
    for b in bad[:10]:
        print("   frame %s: tshark %s, parser %s" % b)
    if bad or not named:
        failed += 1

for p in ("ndpi-iphone.pcap", "ndpi-dns_fragmented.pcap", "slips-test-cc-capture-2.pcap", "cs-http_espn.pcapng"):
    check_dns(p)
for p in ("ndpi-sites.pcapng", "ndpi-iphone.pcap", "slips-test-cc-capture-2.pcap", "ndpi-http_ipv6.pcap",
          "ndpi-KakaoTalk_chat.pcap", "ndpi-gaijin_mobile_mixed.pcap"):
    check_names(p, "sni")
for p in ("cs-http_espn.pcapng", "ndpi-iphone.pcap", "ndpi-sites.pcapng", "ndpi-KakaoTalk_chat.pcap"):
    check_names(p, "http")
print("names_tshark: %s" % ("FAIL" if failed else "PASS"))
sys.exit(1 if failed else 0)
EOF
