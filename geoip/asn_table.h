/* SPDX-License-Identifier: BSD-2-Clause */
/* asn_table.h: reader of netglobe's compact IP-to-AS range table (.ngasn), private to geoip/ and its tests. */
#ifndef NG_ASN_TABLE_H
#define NG_ASN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "asn_format.h"

struct asn_table;

/* Map and validate a table file; NULL and one line in err when it is missing, truncated or corrupt. */
struct asn_table *asn_table_open(const char *path, char *err, size_t errlen);
/*
 * Validate a table held in memory (for the fuzzer and tests). The table
 * points into buf, which the caller keeps alive until asn_table_close.
 */
struct asn_table *asn_table_open_mem(const void *buf, size_t len, char *err, size_t errlen);
void asn_table_close(struct asn_table *t);
/* True when a range holds addr; *org points into the table ("" when unknown). */
bool asn_table_lookup(const struct asn_table *t, const ng_addr *addr, uint32_t *asn, const char **org);
/*
 * Start fetching the memory asn_table_lookup(t, addr) will read, so that its
 * cache misses overlap other work (the City search): stage 0 asks for the
 * /16 index entry, stage 1 (called later: it reads that entry) for the
 * ranges' lines. Never needed for correctness.
 */
void asn_table_prefetch(const struct asn_table *t, const ng_addr *addr, int stage);
/* "411961 IPv4 + 103197 IPv6 ranges, <description>" into buf. */
void asn_table_describe(const struct asn_table *t, char *buf, size_t len);
/* True when the first bytes of a file are the table's magic, of this format or the older NGASN1 (which
 * asn_table_open refuses with "rebuild it"). */
bool asn_table_magic(const void *buf, size_t len);

#endif
