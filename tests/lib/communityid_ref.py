# SPDX-License-Identifier: BSD-2-Clause
# communityid_ref.py: the Community ID specification's reference implementation (tests/data/community-id/
# community-id.py, unchanged, imported as a module) applied to every packet of classic Ethernet pcaps.
# Prints one JSON object per IP packet: {"file", "id", "proto", "tuple", "frag", "inner"}. The reference reads
# only the outermost IP header; netglobe unwraps IP-in-IP (RFC 2003) and IPv6-in-IPv4 (RFC 4213), so for such a
# packet the inner packet, put in an Ethernet frame of its own, goes through the same reference code too
# ("inner": true). "frag" marks a fragment past the first (no transport header: the reference reads its payload
# as one). Usage: communityid_ref.py REFERENCE.py SEED PCAP... (run with Debian's python3 and python3-dpkt).
import importlib.util
import json
import struct
import sys

import dpkt

spec = importlib.util.spec_from_file_location('community_id_ref', sys.argv[1])
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
hasher = ref.CommunityIDHasher(int(sys.argv[2]), True, False)


def later_fragment(ip):
    """True for an IPv4 fragment with a non-zero offset or an IPv6 one (fragment header 44, offset > 0)."""
    if isinstance(ip, dpkt.ip.IP):
        return ip.offset != 0
    frag = getattr(ip, 'extension_hdrs', {}).get(44)
    return bool(frag is not None and getattr(frag, 'frag_off', 0))


def one(name, frame, inner):
    """The reference's ID of one Ethernet frame, then of the packet it tunnels (if any)."""
    pkt = hasher._packet_parse(frame)
    if not pkt:
        return
    try:
        key = hasher._packet_get_key(pkt)
        cid = hasher._packet_get_comm_id(pkt, key) if key else None
    except (KeyError, AttributeError, struct.error):
        cid = None		# the reference's own limits (IPv6 without a known transport)
    ip = pkt.get(ref.IP) or pkt.get(ref.IP6)
    if cid:
        print(json.dumps({'file': name, 'id': cid, 'proto': struct.unpack('B', key.proto)[0],
                          'tuple': hasher._packet_to_str(pkt), 'frag': later_fragment(ip), 'inner': inner}))
    p = ip.p if isinstance(ip, dpkt.ip.IP) else ip.nxt
    if p in (4, 41) and not later_fragment(ip) and isinstance(ip.data, (dpkt.ip.IP, dpkt.ip6.IP6)):
        etype = 0x0800 if isinstance(ip.data, dpkt.ip.IP) else 0x86dd
        one(name, bytes(dpkt.ethernet.Ethernet(dst=b'\0' * 6, src=b'\0' * 6, type=etype, data=bytes(ip.data))),
            True)


for path in sys.argv[3:]:
    with open(path, 'rb') as fp:
        reader = dpkt.pcap.Reader(fp)
        if reader.datalink() != dpkt.pcap.DLT_EN10MB:
            sys.exit('%s: not an Ethernet capture' % path)
        for _, frame in reader:
            one(path, frame, False)
