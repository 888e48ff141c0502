/* SPDX-License-Identifier: BSD-2-Clause */
/* decode.h: turn one captured frame into the few facts a flow needs, never reading past its end. */
#ifndef NG_DECODE_H
#define NG_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

enum decode_result {
	DECODE_OK = 0,		/* an IP packet; struct pkt is filled */
	DECODE_NOT_IP,		/* a frame with no IP in it (ARP, LLDP, ...): not an error */
	DECODE_MALFORMED,	/* truncated or inconsistent: count it and skip it */
};

/* Where a packet stands among IP fragments. */
enum pkt_frag {
	PKT_FRAG_NONE = 0,
	PKT_FRAG_FIRST,		/* offset 0, more fragments follow: has the transport header */
	PKT_FRAG_LATER,		/* offset > 0: no transport header */
};

/* IP protocol numbers used by name. */
#define NG_PROTO_ICMP 1
#define NG_PROTO_TCP 6
#define NG_PROTO_UDP 17
#define NG_PROTO_ICMPV6 58

/* TCP flag bits (RFC 9293 3.1). */
#define NG_TCP_FIN 0x01
#define NG_TCP_SYN 0x02
#define NG_TCP_RST 0x04
#define NG_TCP_PSH 0x08
#define NG_TCP_ACK 0x10

/* What decode_packet found. Pointers point into the caller's frame buffer. */
struct pkt {
	ng_addr src, dst;	/* innermost IP header's addresses (tunnels are unwrapped) */
	uint16_t sport, dport;	/* 0 when the protocol has no ports or they are unknown */
	uint8_t proto;		/* transport protocol after IPv6 extension headers */
	uint8_t ip_version;	/* 4 or 6 (of the innermost header) */
	uint8_t tcp_flags;
	uint8_t frag;		/* enum pkt_frag */
	bool has_ports;		/* TCP/UDP/SCTP header was decoded */
	uint8_t icmp_type, icmp_code;
	uint32_t frag_id;	/* IPv4 identification or IPv6 fragment identification */
	uint32_t ip_len;	/* bytes of this packet: the outermost IP header's total length */
	uint32_t tcp_seq;
	const uint8_t *payload;	/* transport payload, captured part only */
	uint32_t payload_len;	/* captured payload bytes at `payload` */
	uint32_t payload_wire;	/* payload bytes the headers claim (may exceed payload_len) */
};

/*
 * Decode one frame of libpcap link type `dlt` (DLT_EN10MB with VLAN/QinQ,
 * DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP, DLT_RAW, DLT_IPV4/IPV6).
 * `caplen` bytes are readable at `frame`; `wirelen` is the frame's length on
 * the wire. Pure: no state, no allocation, safe on any bytes.
 */
enum decode_result decode_packet(int dlt, const uint8_t *frame, uint32_t caplen, uint32_t wirelen, struct pkt *out);

/* True when libpcap link type `dlt` is one decode_packet understands. */
bool decode_supports_dlt(int dlt);

#endif
