/* SPDX-License-Identifier: BSD-2-Clause */
/* dns.h: passive DNS: learn address-to-name mappings from captured DNS answers. */
#ifndef NG_DNS_H
#define NG_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "util.h"

struct dns_cache;

/* max_entries bounds memory (each address keeps its most recent name); grace extends TTLs. */
struct dns_cache *dns_cache_create(size_t max_entries, ng_time grace);
void dns_cache_destroy(struct dns_cache *c);

/*
 * Learn from one DNS message (RFC 1035 wire format, no TCP length prefix)
 * seen at packet time `now`. Only responses count. For every A/AAAA answer the
 * address maps to the name that was asked, following CNAME chains back to the
 * question. Returns the number of addresses learnt, or -1 when the message is
 * malformed (never reads past len).
 */
int dns_learn(struct dns_cache *c, const uint8_t *msg, size_t len, ng_time now);
/* The same; with link_names_only (mDNS, LLMNR) only names under .local or of a single label are learnt. */
int dns_learn_from(struct dns_cache *c, const uint8_t *msg, size_t len, ng_time now, bool link_names_only);

/*
 * The name most recently mapped to addr by an answer seen at or before `at`
 * and still within its TTL (plus grace) at `at`; NULL when none. The string
 * is a borrowed strpool string: keep it with strpool_ref before the next
 * dns_learn.
 */
const char *dns_lookup(struct dns_cache *c, const ng_addr *addr, ng_time at);
/* Start fetching the cache line dns_lookup(addr) reads first, so its miss overlaps other work. */
void dns_prefetch(const struct dns_cache *c, const ng_addr *addr);

struct dns_stats {
	uint64_t messages, answers, malformed, entries, evictions;
	uint64_t truncated;	/* messages that ended inside a record (learnt up to there) */
	uint64_t names;		/* distinct names in the string pool now (DNS, flows, whitelist) */
};
void dns_get_stats(const struct dns_cache *c, struct dns_stats *out);

/* One address-to-name mapping found in a response; name is lower-case, no trailing dot. */
typedef void (*dns_answer_cb)(const ng_addr *addr, const char *name, uint32_t ttl, void *arg);

/*
 * Parse one DNS message without a cache (what dns_learn does before storing):
 * calls cb for every mapping, with the smallest TTL along the CNAME chain.
 * Returns the number of mappings, or -1 when the message is malformed (then
 * cb was not called). *truncated (if not NULL) says the message ended inside
 * a record: mappings before that point are still reported.
 */
int dns_parse(const uint8_t *msg, size_t len, dns_answer_cb cb, void *arg, int *truncated);

/*
 * Summary of a DNS response for the detectors (RFC 1035 4.1.1): the first
 * question's name (lower case, no trailing dot, "" for the root; a byte
 * outside printable ASCII, or a '.' or '\\' inside a label, written as \\DDD
 * as in RFC 1035 5.1, so binary labels stay distinct), its type,
 * and the header's RCODE. 0 for a response (QR set) with at least one
 * complete question, -1 otherwise (a query, no question, a truncated or
 * malformed name, or a name longer than qlen - 1). A compression pointer in
 * the question is followed backwards only (never forward, at most 16 hops).
 */
int dns_response_summary(const uint8_t *msg, size_t len, char *qname, size_t qlen, uint16_t *qtype, int *rcode);

#endif
