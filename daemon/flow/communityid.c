/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * communityid.c: Community ID v1, the flow hash Zeek, Suricata and Elastic share.
 *
 * DESIGN. The specification hashes, with SHA-1 (Nettle's), the seed (2
 * bytes), the two addresses (4 or 16 bytes each), the protocol, a zero byte
 * and, for TCP, UDP, SCTP, ICMP and ICMPv6, two 16-bit ports, all in network
 * order, the lower (address, port) end first. ICMP has no ports: its type
 * stands for the source port and, for a request/reply pair, the counterpart
 * type for the destination port, so a request and its reply share one ID;
 * any other type is "one way": type and code, in the order the packet went.
 * Nothing is stored per flow but the first ICMP header (struct flow): the ID
 * is computed when a flow is written, which costs one SHA-1 block (about a
 * microsecond) per flow written, never anything per packet.
 */
#include "communityid.h"

#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <string.h>

#include "decode.h"
#include "flow.h"

#define PROTO_SCTP 132

static uint16_t cid_seed;

void communityid_set_seed(uint16_t seed)
{
	cid_seed = seed;
}

uint16_t communityid_seed(void)
{
	return cid_seed;
}

void communityid_digest(uint16_t seed, uint8_t proto, const ng_addr *src, const ng_addr *dst, bool ports,
			uint16_t sport, uint16_t dport, uint8_t out[20])
{
	struct sha1_ctx ctx;
	uint8_t buf[2 + 16 + 16 + 2 + 4];
	size_t alen = src->v == 6 ? 16 : 4, n = 0;

	buf[n++] = (uint8_t)(seed >> 8);
	buf[n++] = (uint8_t)seed;
	memcpy(buf + n, src->a, alen);
	n += alen;
	memcpy(buf + n, dst->a, alen);
	n += alen;
	buf[n++] = proto;
	buf[n++] = 0;
	if (ports) {
		buf[n++] = (uint8_t)(sport >> 8);
		buf[n++] = (uint8_t)sport;
		buf[n++] = (uint8_t)(dport >> 8);
		buf[n++] = (uint8_t)dport;
	}
	sha1_init(&ctx);
	sha1_update(&ctx, n, buf);
	sha1_digest(&ctx, SHA1_DIGEST_SIZE, out);
}

/*
 * ICMP (RFC 792) and ICMPv6 (RFC 4443, 4861, 2710, 3775) request/reply
 * pairs: the counterpart of `type`, or -1 for a one-way type.
 */
static int icmp_counterpart(uint8_t proto, uint8_t type)
{
	static const uint8_t v4[][2] = {
		{8, 0}, {13, 14}, {15, 16}, {10, 9}, {17, 18},	/* echo, timestamp, info, router, mask */
	};
	static const uint8_t v6[][2] = {
		{128, 129}, {133, 134}, {135, 136}, {130, 131}, {139, 140}, {144, 145},
		/* echo, router and neighbour discovery, MLD, node information (who-are-you), home agent */
	};
	const uint8_t(*t)[2] = proto == NG_PROTO_ICMP ? v4 : v6;
	size_t n = proto == NG_PROTO_ICMP ? NG_ARRAY_LEN(v4) : NG_ARRAY_LEN(v6);

	for (size_t i = 0; i < n; i++) {
		if (t[i][0] == type)
			return t[i][1];
		if (t[i][1] == type)
			return t[i][0];
	}
	return -1;
}

char *communityid_put(const uint8_t d[20], bool hex, char *p)
{
	static const char digits[] = "0123456789abcdef";

	*p++ = '1';
	*p++ = ':';
	if (!hex) {
		base64_encode_raw(p, 20, d);
		return p + BASE64_ENCODE_RAW_LENGTH(20);
	}
	for (int i = 0; i < 20; i++) {
		*p++ = digits[d[i] >> 4];
		*p++ = digits[d[i] & 15];
	}
	return p;
}

char *communityid_format(const uint8_t d[20], bool hex, char *buf, size_t len)
{
	char tmp[COMMUNITYID_HEX_LEN];
	size_t n;

	if (len == 0)
		return buf;
	n = NG_MIN((size_t)(communityid_put(d, hex, tmp) - tmp), len - 1);	/* cut short as snprintf would */
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return buf;
}

/* The digest of one packet's tuple, ordered and mapped as the specification says. */
static void tuple_digest(uint16_t seed, uint8_t proto, const ng_addr *src, uint16_t sport, const ng_addr *dst,
			 uint16_t dport, uint8_t d[20])
{
	bool ports = proto == NG_PROTO_TCP || proto == NG_PROTO_UDP || proto == PROTO_SCTP ||
		     proto == NG_PROTO_ICMP || proto == NG_PROTO_ICMPV6;
	bool one_way = false;
	int c;

	if (proto == NG_PROTO_ICMP || proto == NG_PROTO_ICMPV6) {
		int other = icmp_counterpart(proto, (uint8_t)sport);

		if (other >= 0)
			dport = (uint16_t)other;
		else
			one_way = true;
	}
	if (!ports)
		sport = dport = 0;
	c = addr_compare(src, dst);
	if (one_way || c < 0 || (c == 0 && sport < dport))
		communityid_digest(seed, proto, src, dst, ports, sport, dport, d);
	else
		communityid_digest(seed, proto, dst, src, ports, dport, sport, d);
}

char *communityid_tuple(uint16_t seed, uint8_t proto, const ng_addr *src, uint16_t sport, const ng_addr *dst,
			uint16_t dport, bool hex, char *buf, size_t len)
{
	uint8_t d[20];

	tuple_digest(seed, proto, src, sport, dst, dport, d);
	return communityid_format(d, hex, buf, len);
}

void communityid_flow_digest(const struct flow *f, uint8_t digest[20])
{
	const struct flow_key *k = &f->key;
	ng_addr a = flow_key_a(k), b = flow_key_b(k);

	if (k->proto == NG_PROTO_ICMP || k->proto == NG_PROTO_ICMPV6) {
		const ng_addr *src = f->icmp_from_b ? &b : &a, *dst = f->icmp_from_b ? &a : &b;

		/* A flow of later fragments only (no ICMP header seen) hashes type 0, code 0. */
		tuple_digest(cid_seed, k->proto, src, f->icmp_type, dst, f->icmp_code, digest);
		return;
	}
	tuple_digest(cid_seed, k->proto, &a, k->pa, &b, k->pb, digest);
}

char *communityid_flow(const struct flow *f, bool hex, char *buf, size_t len)
{
	uint8_t d[20];

	communityid_flow_digest(f, d);
	return communityid_format(d, hex, buf, len);
}

/* The value of one hex digit, or -1. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int communityid_parse(const char *s, uint8_t digest[20])
{
	char b64[COMMUNITYID_LEN], again[COMMUNITYID_LEN];
	size_t n = strnlen(s, COMMUNITYID_HEX_LEN);
	struct base64_decode_ctx ctx;
	uint8_t raw[BASE64_DECODE_LENGTH(COMMUNITYID_LEN)];
	size_t got = sizeof raw;

	if (n < 2 || s[0] != '1' || s[1] != ':')
		return -1;
	if (n == COMMUNITYID_HEX_LEN - 1) {
		for (int i = 0; i < 20; i++) {
			int hi = hexval(s[2 + 2 * i]), lo = hexval(s[3 + 2 * i]);

			if (hi < 0 || lo < 0)
				return -1;
			digest[i] = (uint8_t)(hi << 4 | lo);
		}
		return 0;
	}
	if (n != COMMUNITYID_LEN - 1)
		return -1;
	memcpy(b64, s, n + 1);
	for (char *p = b64; *p; p++)
		if (*p == ' ')
			*p = '+';
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &got, raw, n - 2, b64 + 2) || !base64_decode_final(&ctx) || got != 20)
		return -1;
	memcpy(digest, raw, 20);
	/* Only the canonical spelling (what every implementation writes) is an ID. */
	return strcmp(communityid_format(digest, false, again, sizeof again), b64) == 0 ? 0 : -1;
}
