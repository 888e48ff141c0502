/* SPDX-License-Identifier: BSD-2-Clause */
/* addr.c: parsing, printing, hashing and classifying IP addresses. */
#include "addr.h"

#include "platform.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int addr_parse(const char *s, ng_addr *out)
{
	char tmp[NG_ADDRSTRLEN + 2];
	size_t n = strlen(s);
	uint8_t b[16];

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, b) == 1) {
		*out = addr_from_v4(b);
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, b) == 1) {
		*out = addr_from_v6(b);
		return 0;
	}
	return -1;
}

/* Write 0..255 in decimal at p; returns the end. */
static char *put_dec8(char *p, unsigned v)
{
	if (v >= 100) {
		*p++ = (char)('0' + v / 100);
		v %= 100;
		*p++ = (char)('0' + v / 10);
	} else if (v >= 10) {
		*p++ = (char)('0' + v / 10);
	}
	*p++ = (char)('0' + v % 10);
	return p;
}

/* Dotted quad of 4 bytes at p; returns the end. */
static char *put_v4(char *p, const uint8_t *a)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			*p++ = '.';
		p = put_dec8(p, a[i]);
	}
	return p;
}

/*
 * RFC 5952 text of an IPv6 address, exactly as inet_ntop writes it: the
 * first longest run of two or more zero groups becomes "::", groups in
 * lowercase hex without leading zeros, and the last 32 bits as a dotted quad
 * for ::a.b.c.d and ::ffff:a.b.c.d. Returns the end.
 */
static char *put_v6(char *p, const uint8_t *a)
{
	static const char hex[] = "0123456789abcdef";
	unsigned w[8];
	int best = -1, bestlen = 0, cur = -1, curlen = 0;

	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	for (int i = 0; i < 8; i++) {
		if (w[i] == 0) {
			if (cur < 0)
				cur = i, curlen = 0;
			curlen++;
		} else if (cur >= 0) {
			if (best < 0 || curlen > bestlen)
				best = cur, bestlen = curlen;
			cur = -1;
		}
	}
	if (cur >= 0 && (best < 0 || curlen > bestlen))
		best = cur, bestlen = curlen;
	if (best >= 0 && bestlen < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		unsigned v = w[i];

		if (best >= 0 && i >= best && i < best + bestlen) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && best == 0 && (bestlen == 6 || (bestlen == 5 && w[5] == 0xffff)))
			return put_v4(p, a + 12);
		if (v >= 0x1000)
			*p++ = hex[v >> 12];
		if (v >= 0x100)
			*p++ = hex[(v >> 8) & 15];
		if (v >= 0x10)
			*p++ = hex[(v >> 4) & 15];
		*p++ = hex[v & 15];
	}
	if (best >= 0 && best + bestlen == 8)
		*p++ = ':';
	return p;
}

/*
 * Written by hand rather than through inet_ntop (which goes through
 * sprintf): this runs for both ends of every flow written out. The text is
 * the same as inet_ntop's (tests/unit/test_addr.c compares them); a buffer
 * too short for it gets the empty string, as inet_ntop leaves it.
 */
char *addr_put(char *p, const ng_addr *addr)
{
	if (addr->v == 4)
		return put_v4(p, addr->a);
	if (addr->v == 6)
		return put_v6(p, addr->a);
	return p;
}

char *addr_format(const ng_addr *addr, char *buf, size_t len)
{
	char tmp[NG_ADDRSTRLEN], *end = tmp;

	if (len == 0)
		return buf;
	if (addr->v == 4)
		end = put_v4(tmp, addr->a);
	else if (addr->v == 6)
		end = put_v6(tmp, addr->a);
	if ((size_t)(end - tmp) >= len) {
		buf[0] = '\0';
		return buf;
	}
	memcpy(buf, tmp, (size_t)(end - tmp));
	buf[end - tmp] = '\0';
	return buf;
}

bool addr_equal(const ng_addr *x, const ng_addr *y)
{
	return memcmp(x, y, sizeof *x) == 0;
}

int addr_compare(const ng_addr *x, const ng_addr *y)
{
	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return memcmp(x->a, y->a, sizeof x->a);
}

uint64_t addr_hash(const ng_addr *addr)
{
	return ng_hash64(addr, sizeof *addr, 0x6e67616464720000ULL);
}

/* Clear every bit of addr past the first `prefix` bits. */
static void addr_mask(ng_addr *addr, unsigned prefix)
{
	unsigned bits = addr->v == 4 ? 32 : 128;

	for (unsigned i = prefix; i < bits; i++)
		addr->a[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

int cidr_parse(const char *s, ng_cidr *out, char *err, size_t errlen)
{
	char tmp[NG_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned maxbits, prefix;

	if (alen == 0 || alen >= sizeof tmp) {
		snprintf(err, errlen, "'%.60s' is not an address or CIDR", s);
		return -1;
	}
	memcpy(tmp, s, alen);
	tmp[alen] = '\0';
	if (addr_parse(tmp, &out->base) != 0) {
		snprintf(err, errlen, "'%.60s' is not an IPv4 or IPv6 address", tmp);
		return -1;
	}
	maxbits = out->base.v == 4 ? 32 : 128;
	prefix = maxbits;
	if (slash) {
		char *end;
		unsigned long p;

		if (slash[1] < '0' || slash[1] > '9') {
			snprintf(err, errlen, "prefix length after '/' is missing in '%.60s'", s);
			return -1;
		}
		p = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || p > maxbits) {
			snprintf(err, errlen, "prefix length in '%.60s' must be 0..%u", s, maxbits);
			return -1;
		}
		prefix = (unsigned)p;
	}
	out->prefix = (uint8_t)prefix;
	addr_mask(&out->base, prefix);
	return 0;
}

bool cidr_contains(const ng_cidr *cidr, const ng_addr *addr)
{
	unsigned full, rest;

	if (cidr->base.v != addr->v)
		return false;
	full = cidr->prefix / 8;
	rest = cidr->prefix % 8;
	if (memcmp(cidr->base.a, addr->a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((cidr->base.a[full] ^ addr->a[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

char *cidr_format(const ng_cidr *cidr, char *buf, size_t len)
{
	char a[NG_ADDRSTRLEN];

	snprintf(buf, len, "%s/%u", addr_format(&cidr->base, a, sizeof a), cidr->prefix);
	return buf;
}

/* One special range: first bytes, prefix length, scope. */
struct scope_range {
	uint8_t b[16];
	uint8_t prefix;
	enum ng_scope scope;
};

/* IANA IPv4 Special-Purpose Address Registry, plus multicast and class E. */
static const struct scope_range v4_ranges[] = {
	{{0}, 8, NG_SCOPE_UNSPECIFIED},			/* 0.0.0.0/8 "this network" */
	{{10}, 8, NG_SCOPE_LAN},			/* RFC 1918 */
	{{100, 64}, 10, NG_SCOPE_CGNAT},		/* RFC 6598 */
	{{127}, 8, NG_SCOPE_LOOPBACK},
	{{169, 254}, 16, NG_SCOPE_LINK_LOCAL},		/* RFC 3927 */
	{{172, 16}, 12, NG_SCOPE_LAN},			/* RFC 1918 */
	{{192, 0, 0}, 24, NG_SCOPE_RESERVED},		/* RFC 6890 IETF assignments */
	{{192, 0, 2}, 24, NG_SCOPE_DOCUMENTATION},	/* RFC 5737 TEST-NET-1 */
	{{192, 88, 99}, 24, NG_SCOPE_RESERVED},		/* RFC 7526 6to4 relay */
	{{192, 168}, 16, NG_SCOPE_LAN},			/* RFC 1918 */
	{{198, 18}, 15, NG_SCOPE_RESERVED},		/* RFC 2544 benchmarking */
	{{198, 51, 100}, 24, NG_SCOPE_DOCUMENTATION},	/* TEST-NET-2 */
	{{203, 0, 113}, 24, NG_SCOPE_DOCUMENTATION},	/* TEST-NET-3 */
	{{224}, 4, NG_SCOPE_MULTICAST},			/* RFC 5771 */
	{{255, 255, 255, 255}, 32, NG_SCOPE_BROADCAST},
	{{240}, 4, NG_SCOPE_RESERVED},			/* RFC 1112 class E */
};

/* IANA IPv6 Special-Purpose Address Registry (the ranges that matter here). */
static const struct scope_range v6_ranges[] = {
	{{0}, 128, NG_SCOPE_UNSPECIFIED},				/* :: */
	{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, NG_SCOPE_LOOPBACK}, /* ::1 */
	{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, NG_SCOPE_RESERVED}, /* IPv4-mapped */
	{{0x01, 0x00}, 64, NG_SCOPE_RESERVED},			/* 100::/64 discard */
	{{0x20, 0x01, 0x0d, 0xb8}, 32, NG_SCOPE_DOCUMENTATION},	/* RFC 3849 */
	{{0x3f, 0xff}, 20, NG_SCOPE_DOCUMENTATION},		/* RFC 9637 3fff::/20 */
	{{0xfc}, 7, NG_SCOPE_LAN},				/* RFC 4193 ULA */
	{{0xfe, 0x80}, 10, NG_SCOPE_LINK_LOCAL},
	{{0xfe, 0xc0}, 10, NG_SCOPE_LAN},			/* deprecated site-local */
	{{0xff}, 8, NG_SCOPE_MULTICAST},
	{{0}, 8, NG_SCOPE_RESERVED},				/* rest of ::/8 */
};

/* Find the first range of the table that holds addr. */
static enum ng_scope scope_lookup(const struct scope_range *t, size_t n, const ng_addr *addr)
{
	for (size_t i = 0; i < n; i++) {
		ng_cidr c;

		memset(&c, 0, sizeof c);
		c.base.v = addr->v;
		memcpy(c.base.a, t[i].b, sizeof c.base.a);
		c.prefix = t[i].prefix;
		if (cidr_contains(&c, addr))
			return t[i].scope;
	}
	return NG_SCOPE_PUBLIC;
}

enum ng_scope addr_scope(const ng_addr *addr)
{
	if (addr->v == 4)
		return scope_lookup(v4_ranges, sizeof v4_ranges / sizeof v4_ranges[0], addr);
	if (addr->v == 6)
		return scope_lookup(v6_ranges, sizeof v6_ranges / sizeof v6_ranges[0], addr);
	return NG_SCOPE_UNSPECIFIED;
}

const char *scope_name(enum ng_scope scope)
{
	static const char *const names[NG_SCOPE_COUNT] = {
		[NG_SCOPE_PUBLIC] = "public",
		[NG_SCOPE_LAN] = "lan",
		[NG_SCOPE_LOOPBACK] = "loopback",
		[NG_SCOPE_LINK_LOCAL] = "link_local",
		[NG_SCOPE_CGNAT] = "cgnat",
		[NG_SCOPE_MULTICAST] = "multicast",
		[NG_SCOPE_BROADCAST] = "broadcast",
		[NG_SCOPE_DOCUMENTATION] = "documentation",
		[NG_SCOPE_RESERVED] = "reserved",
		[NG_SCOPE_UNSPECIFIED] = "unspecified",
	};

	if ((unsigned)scope >= NG_SCOPE_COUNT)
		return "reserved";
	return names[scope];
}
