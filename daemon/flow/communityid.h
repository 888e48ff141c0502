/* SPDX-License-Identifier: BSD-2-Clause */
/* communityid.h: the Community ID flow hash, version 1 (github.com/corelight/community-id-spec). */
#ifndef NG_COMMUNITYID_H
#define NG_COMMUNITYID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct flow;

/* "1:" and 28 base64 characters, with the NUL. */
#define COMMUNITYID_LEN 31
/* "1:" and 40 hex digits, with the NUL: the form for file names (base64 holds '/'). */
#define COMMUNITYID_HEX_LEN 43

/* The seed every later call uses (--community-id-seed; 0 by default, as the specification's). */
void communityid_set_seed(uint16_t seed);
uint16_t communityid_seed(void);

/*
 * The 20-byte SHA-1 of one tuple as the specification orders it: the caller
 * passes the ends already in the order to hash. `ports` says whether the
 * protocol's ports (or ICMP's type/code equivalents) are part of it.
 */
void communityid_digest(uint16_t seed, uint8_t proto, const ng_addr *src, const ng_addr *dst, bool ports,
			uint16_t sport, uint16_t dport, uint8_t out[20]);

/*
 * The ID of one packet's tuple (src sent it to dst): ends ordered, ICMP and
 * ICMPv6 type/code mapped to ports, protocols without ports hashed without
 * them. For ICMP, sport is the type and dport the code. Writes "1:" and
 * base64 (hex when `hex`) into buf (COMMUNITYID_LEN or COMMUNITYID_HEX_LEN
 * bytes) and returns buf.
 */
char *communityid_tuple(uint16_t seed, uint8_t proto, const ng_addr *src, uint16_t sport, const ng_addr *dst,
			uint16_t dport, bool hex, char *buf, size_t len);

/*
 * A flow's ID with the current seed, from its key; ICMP and ICMPv6 flows use
 * their first packet's type, code and sender (a flow holding later packets
 * of other types keeps that first one's ID). Returns buf.
 */
char *communityid_flow(const struct flow *f, bool hex, char *buf, size_t len);

#endif
