/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decode.c: link layer, IPv4, IPv6 and transport headers, bounds-checked.
 *
 * DESIGN. Every read goes through a length check against the captured bytes
 * (`cap`); lengths the headers claim are checked against the frame's wire
 * length (`wire`), so a packet cut short by the snap length is still counted
 * with its real size, while a header that claims more than the frame holds is
 * malformed. Nothing is cast to a header struct: fields are assembled from
 * bytes, as tcpdump's EXTRACT_ macros do, so alignment and endianness never
 * matter. Tunnels that carry IP directly in IP (RFC 2003, RFC 4213) are
 * unwrapped so the flow is the inner conversation.
 */
#include "decode.h"

#include <pcap/dlt.h>
#include <string.h>

#include "util.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETHERTYPE_PPPOE_SESSION 0x8864
#define ETHERTYPE_MPLS 0x8847
#define ETHERTYPE_MPLS_MCAST 0x8848

#define MAX_VLAN_TAGS 4
#define MAX_MPLS_LABELS 8
#define MAX_IPV6_EXT 12
#define MAX_TUNNEL_DEPTH 2

/* A window on the frame: `cap` bytes readable at p, `wire` bytes on the wire from p. */
struct span {
	const uint8_t *p;
	uint32_t cap;
	uint32_t wire;
};

/* Move the window forward by n bytes; false when fewer than n are captured. */
static bool span_skip(struct span *s, uint32_t n)
{
	if (s->cap < n)
		return false;
	s->p += n;
	s->cap -= n;
	s->wire = s->wire >= n ? s->wire - n : 0;
	return true;
}

static enum decode_result decode_ip(struct span s, struct pkt *out, int depth);

/*
 * TCP (RFC 9293 3.1), UDP (RFC 768), SCTP (RFC 9260 3.1), ICMP and ICMPv6
 * headers. Sets *inner when the payload is a whole IP packet to unwrap.
 */
static enum decode_result decode_transport(struct span s, uint8_t proto, struct pkt *out, bool *inner)
{
	*inner = false;
	out->proto = proto;
	if (out->frag == PKT_FRAG_LATER)
		return DECODE_OK;	/* no transport header in this fragment */

	switch (proto) {
	case NG_PROTO_TCP: {
		uint32_t doff;

		if (s.cap < 20)
			return DECODE_MALFORMED;
		doff = (uint32_t)(s.p[12] >> 4) * 4;
		if (doff < 20 || (out->frag == PKT_FRAG_NONE && doff > s.wire))
			return DECODE_MALFORMED;
		out->sport = ng_rd16(s.p);
		out->dport = ng_rd16(s.p + 2);
		out->tcp_seq = ng_rd32(s.p + 4);
		out->tcp_flags = s.p[13];
		out->has_ports = true;
		if (doff <= s.cap) {
			out->payload = s.p + doff;
			out->payload_len = s.cap - doff;
		}
		out->payload_wire = s.wire > doff ? s.wire - doff : 0;
		return DECODE_OK;
	}
	case NG_PROTO_UDP:
	case 136: {	/* UDP-Lite (RFC 3828) has the same header layout */
		uint32_t ulen;

		if (s.cap < 8)
			return DECODE_MALFORMED;
		out->sport = ng_rd16(s.p);
		out->dport = ng_rd16(s.p + 2);
		out->has_ports = true;
		ulen = ng_rd16(s.p + 4);
		out->payload = s.p + 8;
		out->payload_len = s.cap - 8;
		out->payload_wire = s.wire > 8 ? s.wire - 8 : 0;
		/* The UDP length bounds the payload; in a first fragment it covers the whole datagram. */
		if (proto == NG_PROTO_UDP && out->frag == PKT_FRAG_NONE && ulen >= 8) {
			if (ulen > s.wire)
				return DECODE_MALFORMED;
			out->payload_wire = ulen - 8;
			if (out->payload_len > ulen - 8)
				out->payload_len = ulen - 8;
		}
		return DECODE_OK;
	}
	case 132:	/* SCTP: ports like TCP/UDP */
		if (s.cap < 12)
			return DECODE_MALFORMED;
		out->sport = ng_rd16(s.p);
		out->dport = ng_rd16(s.p + 2);
		out->has_ports = true;
		return DECODE_OK;
	case NG_PROTO_ICMP:
	case NG_PROTO_ICMPV6:
		if (s.cap < 4)
			return DECODE_MALFORMED;
		out->icmp_type = s.p[0];
		out->icmp_code = s.p[1];
		out->payload = s.p + 4;
		out->payload_len = s.cap - 4;
		return DECODE_OK;
	case 4:		/* IPv4 in IP (RFC 2003) */
	case 41:	/* IPv6 in IP (RFC 4213) */
		if (out->frag == PKT_FRAG_NONE && s.cap > 0) {
			uint8_t v = s.p[0] >> 4;

			*inner = (proto == 4 && v == 4) || (proto == 41 && v == 6);
		}
		return DECODE_OK;
	default:
		return DECODE_OK;	/* other protocols: a protocol-only flow */
	}
}

/* IPv4 (RFC 791): header, options, fragments. */
static enum decode_result decode_ipv4(struct span s, struct pkt *out, int depth)
{
	uint32_t ihl, total;
	uint16_t fragw;
	uint8_t proto;
	bool inner;
	enum decode_result r;

	if (s.cap < 20 || (s.p[0] >> 4) != 4)
		return DECODE_MALFORMED;
	ihl = (uint32_t)(s.p[0] & 0x0f) * 4;
	total = ng_rd16(s.p + 2);
	if (total == 0)		/* TCP segmentation offload: the length is not filled in */
		total = s.wire;
	if (ihl < 20 || ihl > s.cap || total < ihl || total > s.wire)
		return DECODE_MALFORMED;
	if (depth == 0)
		out->ip_len = total;
	out->ip_version = 4;
	out->src = addr_from_v4(s.p + 12);
	out->dst = addr_from_v4(s.p + 16);
	out->frag_id = ng_rd16(s.p + 4);
	fragw = ng_rd16(s.p + 6);
	if ((fragw & 0x1fff) != 0)
		out->frag = PKT_FRAG_LATER;
	else if (fragw & 0x2000)
		out->frag = PKT_FRAG_FIRST;
	else
		out->frag = PKT_FRAG_NONE;

	/* The transport sees only this packet's bytes, not Ethernet padding. */
	s.wire = total;
	if (s.cap > total)
		s.cap = total;
	proto = s.p[9];
	span_skip(&s, ihl);
	r = decode_transport(s, proto, out, &inner);
	if (r == DECODE_OK && inner && depth < MAX_TUNNEL_DEPTH)
		return decode_ip(s, out, depth + 1);
	return r;
}

/* True for IPv6 extension headers with the generic (next, length in 8-octet units) layout. */
static bool ipv6_generic_ext(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 60 || nh == 135 || nh == 139 || nh == 140;
}

/* IPv6 (RFC 8200): fixed header, extension header chain, fragment header. */
static enum decode_result decode_ipv6(struct span s, struct pkt *out, int depth)
{
	uint32_t total;
	uint8_t nh;
	bool inner;
	enum decode_result r;

	if (s.cap < 40 || (s.p[0] >> 4) != 6)
		return DECODE_MALFORMED;
	total = 40 + (uint32_t)ng_rd16(s.p + 4);
	if (total == 40 && s.wire > 40)	/* jumbogram or offload: trust the frame */
		total = s.wire;
	if (total > s.wire)
		return DECODE_MALFORMED;
	if (depth == 0)
		out->ip_len = total;
	out->ip_version = 6;
	out->src = addr_from_v6(s.p + 8);
	out->dst = addr_from_v6(s.p + 24);
	out->frag = PKT_FRAG_NONE;
	nh = s.p[6];
	s.wire = total;
	if (s.cap > total)
		s.cap = total;
	span_skip(&s, 40);

	for (int i = 0; i < MAX_IPV6_EXT; i++) {
		uint32_t hlen;

		if (ipv6_generic_ext(nh)) {
			if (s.cap < 2)
				return DECODE_MALFORMED;
			hlen = ((uint32_t)s.p[1] + 1) * 8;
		} else if (nh == 51) {	/* AH, RFC 4302: length in 4-octet units minus 2 */
			if (s.cap < 2)
				return DECODE_MALFORMED;
			hlen = ((uint32_t)s.p[1] + 2) * 4;
		} else if (nh == 44) {	/* Fragment header, RFC 8200 4.5 */
			uint16_t offw;

			if (s.cap < 8)
				return DECODE_MALFORMED;
			offw = ng_rd16(s.p + 2);
			out->frag_id = ng_rd32(s.p + 4);
			if ((offw & 0xfff8) != 0)
				out->frag = PKT_FRAG_LATER;
			else if (offw & 1)
				out->frag = PKT_FRAG_FIRST;
			hlen = 8;
		} else {
			break;
		}
		nh = s.p[0];
		if (!span_skip(&s, hlen))
			return DECODE_MALFORMED;
		if (out->frag == PKT_FRAG_LATER)
			break;	/* what follows is a later piece of the payload */
	}
	if (ipv6_generic_ext(nh) || nh == 51 || nh == 44) {
		if (out->frag != PKT_FRAG_LATER)
			return DECODE_MALFORMED;	/* extension chain too long */
	}
	r = decode_transport(s, nh, out, &inner);
	if (r == DECODE_OK && inner && depth < MAX_TUNNEL_DEPTH)
		return decode_ip(s, out, depth + 1);
	return r;
}

/* An IP packet of either version, told apart by its first nibble. */
static enum decode_result decode_ip(struct span s, struct pkt *out, int depth)
{
	if (s.cap < 1)
		return DECODE_MALFORMED;
	/* An inner packet starts fresh: ports, flags and payload belong to it. */
	out->sport = out->dport = 0;
	out->has_ports = false;
	out->tcp_flags = 0;
	out->payload = NULL;
	out->payload_len = out->payload_wire = 0;
	switch (s.p[0] >> 4) {
	case 4:
		return decode_ipv4(s, out, depth);
	case 6:
		return decode_ipv6(s, out, depth);
	default:
		return depth == 0 ? DECODE_NOT_IP : DECODE_MALFORMED;
	}
}

/* Dispatch on an EtherType, skipping VLAN tags, PPPoE and MPLS labels. */
static enum decode_result decode_ethertype(struct span s, uint16_t type, struct pkt *out)
{
	for (int tags = 0;; tags++) {
		switch (type) {
		case ETHERTYPE_IPV4:
		case ETHERTYPE_IPV6:
			return decode_ip(s, out, 0);
		case ETHERTYPE_VLAN:
		case ETHERTYPE_QINQ:
		case ETHERTYPE_QINQ_OLD:
			if (tags >= MAX_VLAN_TAGS || s.cap < 4)
				return DECODE_MALFORMED;
			type = ng_rd16(s.p + 2);
			span_skip(&s, 4);
			continue;
		case ETHERTYPE_PPPOE_SESSION: {
			uint16_t ppp;

			if (s.cap < 8)
				return DECODE_MALFORMED;
			ppp = ng_rd16(s.p + 6);
			span_skip(&s, 8);
			if (ppp == 0x0021 || ppp == 0x0057)
				return decode_ip(s, out, 0);
			return DECODE_NOT_IP;
		}
		case ETHERTYPE_MPLS:
		case ETHERTYPE_MPLS_MCAST:
			for (int i = 0; i < MAX_MPLS_LABELS; i++) {
				bool bottom;

				if (s.cap < 4)
					return DECODE_MALFORMED;
				bottom = s.p[2] & 1;
				span_skip(&s, 4);
				if (bottom)
					return decode_ip(s, out, 0);
			}
			return DECODE_MALFORMED;
		default:
			return DECODE_NOT_IP;
		}
	}
}

bool decode_supports_dlt(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
#endif
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
#endif
		return true;
	default:
		return false;
	}
}

enum decode_result decode_packet(int dlt, const uint8_t *frame, uint32_t caplen, uint32_t wirelen, struct pkt *out)
{
	struct span s = {frame, caplen, wirelen < caplen ? caplen : wirelen};

	memset(out, 0, sizeof *out);
	switch (dlt) {
	case DLT_EN10MB:
		if (s.cap < 14)
			return DECODE_MALFORMED;
		span_skip(&s, 14);
		return decode_ethertype(s, ng_rd16(s.p - 2), out);
	case DLT_LINUX_SLL:	/* 16-byte cooked header, protocol last */
		if (s.cap < 16)
			return DECODE_MALFORMED;
		span_skip(&s, 16);
		return decode_ethertype(s, ng_rd16(s.p - 2), out);
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:	/* 20-byte cooked header, protocol first */
		if (s.cap < 20)
			return DECODE_MALFORMED;
		span_skip(&s, 20);
		return decode_ethertype(s, ng_rd16(s.p - 20), out);
#endif
	case DLT_NULL:
	case DLT_LOOP: {
		uint32_t fam;

		if (s.cap < 4)
			return DECODE_MALFORMED;
		/* DLT_NULL is in the writer's byte order, DLT_LOOP in network order. */
		fam = ng_rd32(s.p);
		if (dlt == DLT_NULL && (fam & 0xffff) == 0)
			fam = fam >> 24 | (fam >> 8 & 0xff00);
		span_skip(&s, 4);
		if (fam == 2)
			return decode_ip(s, out, 0);
		if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
			return decode_ip(s, out, 0);
		return DECODE_NOT_IP;
	}
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
#endif
		return decode_ip(s, out, 0);
	default:
		return DECODE_NOT_IP;
	}
}
