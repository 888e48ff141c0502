/* SPDX-License-Identifier: BSD-2-Clause */
/* addr.h: one IP address type for IPv4 and IPv6, CIDR prefixes, and address scopes. */
#ifndef NG_ADDR_H
#define NG_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text form of an address, with the NUL ("ffff:...:255.255.255.255"). */
#define NG_ADDRSTRLEN 46

/*
 * An IP address. IPv4 lives in the first 4 bytes of `a` and the other 12 are
 * zero, so two addresses compare and hash with memcmp over the whole struct.
 * Always build one with addr_from_v4/addr_from_v6/addr_parse (they zero it).
 */
typedef struct ng_addr {
	uint8_t v;	/* 4 or 6; 0 means "no address" */
	uint8_t pad[3];	/* always zero */
	uint8_t a[16];
} ng_addr;

/* A network prefix: `base` has every bit past `prefix` cleared. */
typedef struct ng_cidr {
	ng_addr base;
	uint8_t prefix;	/* 0..32 for IPv4, 0..128 for IPv6 */
} ng_cidr;

/* What kind of place an address is; everything but PUBLIC is drawn at home. */
enum ng_scope {
	NG_SCOPE_PUBLIC = 0,
	NG_SCOPE_LAN,		/* RFC 1918, IPv6 ULA fc00::/7 */
	NG_SCOPE_LOOPBACK,
	NG_SCOPE_LINK_LOCAL,
	NG_SCOPE_CGNAT,		/* 100.64.0.0/10, RFC 6598 */
	NG_SCOPE_MULTICAST,
	NG_SCOPE_BROADCAST,
	NG_SCOPE_DOCUMENTATION,	/* RFC 5737, RFC 3849, RFC 9637 */
	NG_SCOPE_RESERVED,	/* everything else IANA marks special */
	NG_SCOPE_UNSPECIFIED,	/* 0.0.0.0/8, :: */
	NG_SCOPE_COUNT
};

/* Build an address from 4 network-order bytes (inline: the decoder calls it twice per packet). */
static inline ng_addr addr_from_v4(const uint8_t b[4])
{
	ng_addr addr = {4, {0, 0, 0}, {0}};

	addr.a[0] = b[0];
	addr.a[1] = b[1];
	addr.a[2] = b[2];
	addr.a[3] = b[3];
	return addr;
}

/* Build an address from 16 network-order bytes. */
static inline ng_addr addr_from_v6(const uint8_t b[16])
{
	ng_addr addr = {6, {0, 0, 0}, {0}};

	for (int i = 0; i < 16; i++)
		addr.a[i] = b[i];
	return addr;
}
/* Parse "192.0.2.1" or "2001:db8::1" (brackets allowed); 0 on success, -1 otherwise. */
int addr_parse(const char *s, ng_addr *out);
/* Write the canonical text form into buf (NG_ADDRSTRLEN bytes); returns buf. */
char *addr_format(const ng_addr *addr, char *buf, size_t len);
/* Write addr_format's text at p (at most NG_ADDRSTRLEN - 1 bytes, no NUL; none for a family it has not); returns the end. */
char *addr_put(char *p, const ng_addr *addr);
/* True when both addresses are the same. */
bool addr_equal(const ng_addr *x, const ng_addr *y);
/* memcmp-style order: IPv4 before IPv6, then by bytes. */
int addr_compare(const ng_addr *x, const ng_addr *y);
/* 64-bit hash of the address. */
uint64_t addr_hash(const ng_addr *addr);

/*
 * Parse "10.0.0.0/8", "2001:db8::/32" or a bare address (a host prefix).
 * Host bits past the prefix are cleared. On error returns -1 and writes a
 * short reason ("prefix length 33 is over 32") into err.
 */
int cidr_parse(const char *s, ng_cidr *out, char *err, size_t errlen);
/* True when addr lies inside the prefix (families must match). */
bool cidr_contains(const ng_cidr *cidr, const ng_addr *addr);
/* Text form "base/prefix" into buf; returns buf. */
char *cidr_format(const ng_cidr *cidr, char *buf, size_t len);

/* Which special range, if any, the address belongs to. */
enum ng_scope addr_scope(const ng_addr *addr);
/* Stable lower-case name used in JSON: "public", "lan", "loopback", ... */
const char *scope_name(enum ng_scope scope);

#endif
