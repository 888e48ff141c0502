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
 * Read an ID as another tool writes it: "1:" and 28 base64 characters (a
 * space stands for '+', as an unencoded '+' arrives in a URL query) or "1:"
 * and 40 hex digits in either case. 0 with its 20-byte digest, -1 for
 * anything else (never reads past the NUL).
 */
int communityid_parse(const char *s, uint8_t digest[20]);

/* "1:" and a digest in base64 (or hex when `hex`) into buf; returns buf. */
char *communityid_format(const uint8_t d[20], bool hex, char *buf, size_t len);
/* Write communityid_format's text at p (COMMUNITYID_LEN - 1 or COMMUNITYID_HEX_LEN - 1 bytes, no NUL); returns the end. */
char *communityid_put(const uint8_t d[20], bool hex, char *p);

/* A flow's digest with the current seed (what communityid_flow formats). */
void communityid_flow_digest(const struct flow *f, uint8_t digest[20]);

/*
 * A flow's ID with the current seed, from its key; ICMP and ICMPv6 flows use
 * their first packet's type, code and sender (a flow holding later packets
 * of other types keeps that first one's ID). Returns buf.
 */
char *communityid_flow(const struct flow *f, bool hex, char *buf, size_t len);

#endif
