/* SPDX-License-Identifier: BSD-2-Clause */
/* asn.c: read netglobe's compact IP-to-AS range table (.ngasn), validating every byte before trusting it. */
#include "asn_table.h"

#include <errno.h>
#include "platform.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/*
 * DESIGN. The table is built once at install time and read at every start,
 * so the reader maps it and answers straight from the mapping: no parsing,
 * no copy, one binary search per lookup. Because the file may be truncated
 * by a full disk or damaged on the way, the loader checks the checksum and
 * then every invariant the lookup relies on (sizes add up, ranges sorted and
 * disjoint, indices in bounds, strings terminated); after that the lookup
 * needs no bounds checks of its own. The format is in asn_format.h.
 *
 * A plain binary search over a million starts is twenty dependent reads
 * of a file far larger than the cache, most of them misses. So the loader
 * also builds a small index on the first 16 bits of the address (256 KiB
 * per family): first[k] is the number of ranges whose start's first 16 bits
 * are below k, which narrows each search to the ranges starting within the
 * address's own /16 (plus the one before, which may span into it).
 */

#define ASN_INDEX_SIZE 65537	/* one bound per 16-bit prefix, and the end */

struct asn_table {
	const uint8_t *base;	/* the whole file */
	size_t len;
	const void *map;		/* mmap'd region, or NULL when the caller owns base */
	uint32_t n4, n6, nval, pool_len;
	const uint8_t *v4_start, *v4_end, *v4_val;
	const uint8_t *v6_start, *v6_end, *v6_val;
	const uint8_t *vals;
	const char *pool;
	const char *desc;
	uint64_t built;
	uint32_t *first4, *first6;	/* the /16 index: ASN_INDEX_SIZE bounds each */
};

static uint32_t le32(const uint8_t *p);
static uint64_t le64(const uint8_t *p);
static int asn_table_validate(struct asn_table *t, char *err, size_t errlen);
static bool asn_table_string_ok(const char *s, size_t room, size_t *lenp);
static void asn_index_build(uint32_t *first, const uint8_t *starts, uint32_t n, size_t width);

/* Read a little-endian 32-bit integer from unaligned bytes. */
static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Read a little-endian 64-bit integer from unaligned bytes. */
static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* True when the first bytes of a file are the table's magic, of this version or the older one. */
bool asn_table_magic(const void *buf, size_t len)
{
	return len >= ASN_TABLE_MAGICLEN && (memcmp(buf, ASN_TABLE_MAGIC, ASN_TABLE_MAGICLEN) == 0 ||
					     memcmp(buf, ASN_TABLE_MAGIC_V1, ASN_TABLE_MAGICLEN) == 0);
}

/*
 * Check one pool string: valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF), no control characters, NUL-terminated
 * within `room` bytes and at most ASN_TABLE_STRMAX long. Sets *lenp.
 */
static bool asn_table_string_ok(const char *s, size_t room, size_t *lenp)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;

	while (i < room && p[i] != 0) {
		uint8_t c = p[i];
		uint32_t cp;
		size_t n;

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else
			return false;
		if (room - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	if (i >= room || i > ASN_TABLE_STRMAX)
		return false;
	*lenp = i;
	return true;
}

/* Check the header and every invariant the lookup relies on; fills the section pointers. */
static int asn_table_validate(struct asn_table *t, char *err, size_t errlen)
{
	const uint8_t *b = t->base;
	uint64_t want, off;

	if (t->len >= ASN_TABLE_MAGICLEN && memcmp(b, ASN_TABLE_MAGIC_V1, ASN_TABLE_MAGICLEN) == 0) {
		snprintf(err, errlen, "in the older NGASN1 format");
		return -1;
	}
	if (t->len < ASN_TABLE_HDRLEN || memcmp(b, ASN_TABLE_MAGIC, ASN_TABLE_MAGICLEN) != 0) {
		snprintf(err, errlen, "not a netglobe ASN table (no NGASN2 header)");
		return -1;
	}
	if (le32(b + 8) != ASN_TABLE_HDRLEN || le64(b + 56) != 0) {
		snprintf(err, errlen, "unsupported header version");
		return -1;
	}
	t->n4 = le32(b + 12);
	t->n6 = le32(b + 16);
	t->nval = le32(b + 20);
	t->pool_len = le32(b + 24);
	t->built = le64(b + 32);
	want = ASN_TABLE_HDRLEN + (uint64_t)t->n4 * 12 + (uint64_t)t->n6 * 36 + (uint64_t)t->nval * 8 +
	       t->pool_len;
	if (le64(b + 48) != want || want != t->len) {
		snprintf(err, errlen, "truncated or padded (%zu bytes, header says %llu, sections add up to %llu)",
			 t->len, (unsigned long long)le64(b + 48), (unsigned long long)want);
		return -1;
	}
	if (asn_table_checksum(b, t->len) != le64(b + 40)) {
		snprintf(err, errlen, "checksum mismatch, the file is corrupt");
		return -1;
	}

	off = ASN_TABLE_HDRLEN;
	t->v4_start = b + off;
	off += (uint64_t)t->n4 * 4;
	t->v4_end = b + off;
	off += (uint64_t)t->n4 * 4;
	t->v4_val = b + off;
	off += (uint64_t)t->n4 * 4;
	t->v6_start = b + off;
	off += (uint64_t)t->n6 * 16;
	t->v6_end = b + off;
	off += (uint64_t)t->n6 * 16;
	t->v6_val = b + off;
	off += (uint64_t)t->n6 * 4;
	t->vals = b + off;
	off += (uint64_t)t->nval * 8;
	t->pool = (const char *)b + off;

	/* Pool: starts with "" and is a run of valid strings with nothing after the last NUL. */
	if (t->pool_len == 0 || t->pool[0] != '\0' || t->pool[t->pool_len - 1] != '\0') {
		snprintf(err, errlen, "string pool is malformed");
		return -1;
	}
	for (size_t i = 1, n; i < t->pool_len; i += n + 1) {
		if (!asn_table_string_ok(t->pool + i, t->pool_len - i, &n)) {
			snprintf(err, errlen, "string at offset %zu is not valid text", i);
			return -1;
		}
	}
	/* A pool offset is good when it starts a string: offset 0 or just after a NUL. */
#define POOL_OFF_OK(o) ((o) < t->pool_len && ((o) == 0 || t->pool[(o) - 1] == '\0'))
	off = le32(b + 28);
	if (!POOL_OFF_OK(off)) {
		snprintf(err, errlen, "description offset %llu is out of bounds", (unsigned long long)off);
		return -1;
	}
	t->desc = t->pool + off;
	for (uint32_t i = 0; i < t->nval; i++) {
		uint32_t o = le32(t->vals + (size_t)i * 8 + 4);

		if (le32(t->vals + (size_t)i * 8) == 0 || !POOL_OFF_OK(o)) {
			snprintf(err, errlen, "value %u is malformed", i);
			return -1;
		}
	}
#undef POOL_OFF_OK

	for (uint32_t i = 0; i < t->n4; i++) {
		uint32_t s = le32(t->v4_start + (size_t)i * 4), e = le32(t->v4_end + (size_t)i * 4);

		if (s > e || le32(t->v4_val + (size_t)i * 4) >= t->nval ||
		    (i > 0 && le32(t->v4_end + (size_t)(i - 1) * 4) >= s)) {
			snprintf(err, errlen, "IPv4 range %u is out of order or malformed", i);
			return -1;
		}
	}
	for (uint32_t i = 0; i < t->n6; i++) {
		const uint8_t *s = t->v6_start + (size_t)i * 16, *e = t->v6_end + (size_t)i * 16;

		if (memcmp(s, e, 16) > 0 || le32(t->v6_val + (size_t)i * 4) >= t->nval ||
		    (i > 0 && memcmp(t->v6_end + (size_t)(i - 1) * 16, s, 16) >= 0)) {
			snprintf(err, errlen, "IPv6 range %u is out of order or malformed", i);
			return -1;
		}
	}
	return 0;
}

/*
 * Fill first[k] (k = 0..65536) with the number of ranges whose start's first
 * 16 bits are below k, from n sorted starts of `width` bytes (big-endian in
 * the top 16 bits: the IPv4 numbers are little-endian u32, the IPv6
 * addresses network order).
 */
static void asn_index_build(uint32_t *first, const uint8_t *starts, uint32_t n, size_t width)
{
	uint32_t i = 0;

	for (uint32_t k = 0; k < ASN_INDEX_SIZE; k++) {
		while (i < n) {
			const uint8_t *p = starts + (size_t)i * width;
			uint32_t top = width == 4 ? le32(p) >> 16 : (uint32_t)p[0] << 8 | p[1];

			if (top >= k)
				break;
			i++;
		}
		first[k] = i;
	}
}

/* Validate a table in memory; the result points into buf. Caller frees with asn_table_close. */
struct asn_table *asn_table_open_mem(const void *buf, size_t len, char *err, size_t errlen)
{
	struct asn_table *t = xcalloc(1, sizeof *t);

	t->base = buf;
	t->len = len;
	if (asn_table_validate(t, err, errlen) == -1) {
		free(t);
		return NULL;
	}
	t->first4 = xmalloc(ASN_INDEX_SIZE * sizeof *t->first4);
	t->first6 = xmalloc(ASN_INDEX_SIZE * sizeof *t->first6);
	asn_index_build(t->first4, t->v4_start, t->n4, 4);
	asn_index_build(t->first6, t->v6_start, t->n6, 16);
	return t;
}

/* Map and validate a table file. Caller frees with asn_table_close. */
struct asn_table *asn_table_open(const char *path, char *err, size_t errlen)
{
	struct asn_table *t = NULL;
	struct stat st;
	const void *map = NULL;
	size_t maplen = 0;
	char why[160];
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 || fstat(fd, &st) == -1) {
		snprintf(err, errlen, "cannot open ASN table %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		snprintf(err, errlen, "ASN table %s is %s", path, S_ISREG(st.st_mode) ? "empty" : "not a regular file");
		goto fail;
	}
	map = platform_map_file(fd, &maplen);
	if (map == NULL) {
		snprintf(err, errlen, "cannot map ASN table %s: %s", path, strerror(errno));
		goto fail;
	}
	t = asn_table_open_mem(map, (size_t)st.st_size, why, sizeof why);
	if (t == NULL) {
		snprintf(err, errlen, "ASN table %s: %s", path, why);
		goto fail;
	}
	t->map = map;
	close(fd);
	return t;
fail:
	platform_unmap_file(map, maplen);
	if (fd != -1)
		close(fd);
	return NULL;
}

/* Unmap (when mapped) and free the table. */
void asn_table_close(struct asn_table *t)
{
	if (t == NULL)
		return;
	if (t->map != NULL)
		platform_unmap_file(t->map, t->len);
	free(t->first4);
	free(t->first6);
	free(t);
}

/* Find the range holding addr by binary search over the sorted starts. */
bool asn_table_lookup(const struct asn_table *t, const ng_addr *addr, uint32_t *asn, const char **org)
{
	size_t lo = 0, hi, i;
	uint32_t v;

	if (addr->v == 4) {
		uint32_t x = (uint32_t)addr->a[0] << 24 | (uint32_t)addr->a[1] << 16 | (uint32_t)addr->a[2] << 8 |
			     addr->a[3];

		/* Invariant: every start before lo is <= x, every start at or after hi is > x. */
		lo = t->first4[x >> 16];
		hi = t->first4[(x >> 16) + 1];
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (le32(t->v4_start + mid * 4) <= x)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0)
			return false;
		i = lo - 1;
		if (x > le32(t->v4_end + i * 4))
			return false;
		v = le32(t->v4_val + i * 4);
	} else if (addr->v == 6) {
		uint32_t top = (uint32_t)addr->a[0] << 8 | addr->a[1];

		lo = t->first6[top];
		hi = t->first6[top + 1];
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (memcmp(t->v6_start + mid * 16, addr->a, 16) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0)
			return false;
		i = lo - 1;
		if (memcmp(addr->a, t->v6_end + i * 16, 16) > 0)
			return false;
		v = le32(t->v6_val + i * 4);
	} else
		return false;
	*asn = le32(t->vals + (size_t)v * 8);
	*org = t->pool + le32(t->vals + (size_t)v * 8 + 4);
	return true;
}

/* Prefetch what a lookup of addr reads: the index entry (stage 0), then the middle of its ranges (stage 1). */
void asn_table_prefetch(const struct asn_table *t, const ng_addr *addr, int stage)
{
	uint32_t top, lo, hi, mid;

	if (addr->v != 4 && addr->v != 6)
		return;
	top = (uint32_t)addr->a[0] << 8 | addr->a[1];	/* the first 16 bits, in both families */
	if (stage == 0) {
		__builtin_prefetch(addr->v == 4 ? &t->first4[top] : &t->first6[top]);
		return;
	}
	lo = addr->v == 4 ? t->first4[top] : t->first6[top];
	hi = addr->v == 4 ? t->first4[top + 1] : t->first6[top + 1];
	mid = lo + (hi - lo) / 2;
	if (addr->v == 4) {
		if (mid >= t->n4)
			return;
		__builtin_prefetch(t->v4_start + (size_t)mid * 4);
		__builtin_prefetch(t->v4_end + (size_t)mid * 4);
		__builtin_prefetch(t->v4_val + (size_t)mid * 4);
	} else {
		if (mid >= t->n6)
			return;
		__builtin_prefetch(t->v6_start + (size_t)mid * 16);
		__builtin_prefetch(t->v6_end + (size_t)mid * 16);
		__builtin_prefetch(t->v6_val + (size_t)mid * 4);
	}
}

/* One line for the start-up log: range counts and the source description. */
void asn_table_describe(const struct asn_table *t, char *buf, size_t len)
{
	snprintf(buf, len, "netglobe ASN table, %u IPv4 + %u IPv6 ranges%s%s", t->n4, t->n6, t->desc[0] ? ", " : "",
		 t->desc);
}
