#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""attention_eval.py: judge netglobe's attention levels on a replayed day of a real host.

Reads the JSON Lines of `netglobe -r DAY.pcap --dump` and reports, for flows that start at or after
--split (the second half of the day, judged with a window learnt over the first half):
  - the share of outbound public remote addresses at high attention (an address counts when any of its
    flows that start after the split is high), beside the plain address rule's share (verdict_sent
    anomalous), and which signals raised them (including how many were explained by a network alone);
  - for each --beacon/--c2 address: the connection (1-based) from which every later one is high, and from
    which the beacon signal holds;
  - that no unanswered inbound attempt is high;
  - that no ordinary flow (every remote but the synthetic ones) carries the beacon signal, when asked.
Exit 1 with a FAIL line for each target missed; prints the figures either way.
"""
import argparse
import collections
import json
import sys
from datetime import datetime


def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def first_of_run(flags):
    """1-based index from which every flag is True (None when the last one is False)."""
    if not flags or not flags[-1]:
        return None
    i = len(flags)
    while i > 0 and flags[i - 1]:
        i -= 1
    return i + 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True)
    ap.add_argument("--split", type=float, required=True, help="epoch seconds: flows from here on are judged")
    ap.add_argument("--max-share", type=float, default=0.10)
    ap.add_argument("--beacon", action="append", default=[], help="a synthetic beacon's remote address")
    ap.add_argument("--c2", action="append", default=[], help="a synthetic C2's remote address (new, in a known ASN)")
    ap.add_argument("--max-connection", type=int, default=10)
    ap.add_argument("--no-beacon-elsewhere", action="store_true")
    args = ap.parse_args()

    flows = []
    with open(args.dump) as fh:
        for line in fh:
            line = line.strip()
            if line.startswith("{") and '"id"' in line:
                o = json.loads(line)
                if "remote_ip" in o:
                    flows.append(o)
    if not flows:
        print("FAIL: no flows in the dump")
        return 1

    synthetic = set(args.beacon) | set(args.c2)
    failures = []

    # Outbound public remotes in the second half.
    addr_high = {}
    addr_plain = {}
    addr_signals = collections.defaultdict(set)
    addr_known_by = {}
    for f in flows:
        if f["remote_ip"] in synthetic or ts(f["first_seen"]) < args.split:
            continue
        if f["initiator"] != "local" or f["remote_scope"] != "public":
            continue
        a = f["remote_ip"]
        high = f["attention"] == "high"
        addr_high[a] = addr_high.get(a, False) or high
        addr_plain[a] = addr_plain.get(a, False) or f["verdict_sent"] in ("anomalous", "blocklisted")
        names = {s["name"] for s in f["signals"]}
        if high:
            addr_signals[a] |= names
        for s in f["signals"]:
            if s["name"] == "known_service":
                addr_known_by.setdefault(a, "network" if s["reason"].startswith("new address in AS") else "domain")
    total = len(addr_high)
    if total == 0:
        print("FAIL: no outbound public remote address after the split")
        return 1
    nhigh = sum(addr_high.values())
    nplain = sum(addr_plain.values())
    print(f"outbound public remote addresses after the split: {total}")
    print(f"  plain address rule (first contact in the window): {nplain} ({100.0 * nplain / total:.1f}%)")
    print(f"  high attention: {nhigh} ({100.0 * nhigh / total:.1f}%)")
    why = collections.Counter()
    for a, names in addr_signals.items():
        for n in names:
            why[n] += 1
    for n, c in why.most_common():
        print(f"    raised by {n}: {c} addresses")
    explained = collections.Counter(v for a, v in addr_known_by.items() if not addr_high[a])
    print(f"  new addresses of known services (low): by domain {explained['domain']}, by network (ASN) alone {explained['network']}")
    if nhigh > args.max_share * total:
        failures.append(f"{100.0 * nhigh / total:.1f}% of outbound addresses are high (target <= {100 * args.max_share:.0f}%)")

    # Flows of all halves by attention, for the record.
    levels = collections.Counter(f["attention"] for f in flows if ts(f["first_seen"]) >= args.split)
    nflows = sum(levels.values())
    print(f"flows after the split: {nflows}: " + ", ".join(f"{k} {v} ({100.0 * v / nflows:.1f}%)" for k, v in sorted(levels.items())))

    # Unanswered inbound attempts are never high.
    unanswered = [f for f in flows if any(s["name"] == "unanswered" for s in f["signals"])]
    bad = [f for f in unanswered if f["attention"] == "high"]
    print(f"unanswered inbound attempts: {len(unanswered)} flows from {len({f['remote_ip'] for f in unanswered})} addresses, {len(bad)} high")
    if bad:
        failures.append(f"{len(bad)} unanswered inbound attempts are high (flow {bad[0]['id']})")

    # Synthetic beacons and C2s: from which connection on are they high / beacon.
    for kind, addrs in (("beacon", args.beacon), ("c2", args.c2)):
        for a in addrs:
            conns = sorted((f for f in flows if f["remote_ip"] == a and f["initiator"] == "local"), key=lambda f: (ts(f["first_seen"]), f["id"]))
            if not conns:
                failures.append(f"{kind} {a}: no flows")
                continue
            high_from = first_of_run([f["attention"] == "high" for f in conns])
            beacon_from = first_of_run([any(s["name"] == "beacon" for s in f["signals"]) for f in conns])
            first = conns[0]
            print(f"{kind} {a}: {len(conns)} connections; high from connection {high_from}, beacon signal from {beacon_from}; "
                  f"first connection: attention {first['attention']}, signals {[s['name'] for s in first['signals']]}")
            reasons = [s["reason"] for s in conns[-1]["signals"] if s["name"] == "beacon"]
            if reasons:
                print(f"  last connection's beacon reason: {reasons[0]}")
            if high_from is None or high_from > args.max_connection:
                failures.append(f"{kind} {a}: high from connection {high_from} (target <= {args.max_connection})")
            if kind == "beacon" and (beacon_from is None or beacon_from > args.max_connection):
                failures.append(f"beacon {a}: beacon signal from connection {beacon_from} (target <= {args.max_connection})")

    # Ordinary traffic with a beacon signal: real pollers are listed with their level and reason. A beacon
    # counts as high on a flow that is high with no other signal that makes flows high.
    others_high = {"blocklisted", "first_contact", "dns_tunnel", "scan", "large_upload"}
    pollers = {}
    for f in flows:
        if f["remote_ip"] in synthetic:
            continue
        names = {s["name"] for s in f["signals"]}
        for s in f["signals"]:
            if s["name"] == "beacon":
                high = f["attention"] == "high" and not (names & others_high)
                p = pollers.setdefault(f["remote_ip"], {"high": False, "reason": "", "name": None})
                p["high"] |= high
                p["reason"] = s["reason"]
                p["name"] = p["name"] or f["remote_domain"]
    nhighpoll = sum(1 for p in pollers.values() if p["high"])
    print(f"ordinary remote addresses with a beacon signal: {len(pollers)}, {nhighpoll} of them high by it")
    for a, p in sorted(pollers.items()):
        print(f"  {a} ({p['name'] or 'no name'}): {'high' if p['high'] else 'low'}: {p['reason']}")
    if args.no_beacon_elsewhere and pollers:
        failures.append(f"{len(pollers)} ordinary remote addresses carry the beacon signal")

    for m in failures:
        print(f"FAIL: {m}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
