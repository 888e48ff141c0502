/* SPDX-License-Identifier: BSD-2-Clause */
/* asn_build.c: turn ip-location-db's ASN CSV files into netglobe's compact sorted range table (.ngasn). */
#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../asn_format.h"

/*
 * Usage: asn_build [-d DESCRIPTION] -o OUT.ngasn FILE.csv...
 *
 * Each input line is "first,last,asn,organisation" (RFC 4180 CSV: a field
 * may be quoted, "" inside quotes is a quote), with first and last an
 * inclusive range of IPv4 or IPv6 addresses in text form, as in
 * @ip-location-db/asn's asn-ipv4.csv and asn-ipv6.csv. The family is taken
 * from each line, so the files may be given in any order or combined.
 *
 * DESIGN. This runs once at install time, so it favours checking over
 * speed: every line is validated and malformed ones are reported (the build
 * fails when more than 1% are bad, which means the format has changed).
 * Overlapping ranges are allowed in the input (the upstream data has a few)
 * and resolved like a routing table: in every stretch of addresses, the
 * smallest range covering it wins, and of equal ones the later line. A
 * sweep over the range boundaries with a heap of the ranges in force does
 * that in O(n log n). The output format is described in ../asn_format.h.
 *
 * This is a standalone program (cc -O2 -o asn_build asn_build.c) so that
 * geoip/fetch-data.sh can build it before netglobe itself is built.
 */

typedef unsigned __int128 u128;

struct range {
	u128 s, e;		/* inclusive */
	uint32_t val;		/* index into the value table */
	uint32_t seq;		/* input order, for ties */
};

struct rangevec {
	struct range *v;
	size_t n, cap;
};

struct value {
	uint32_t asn, org;	/* org: pool offset */
};

/* A string or value set: open addressing over indices, grown at half full. */
struct strset {
	uint32_t *slot;		/* pool offset + 1, 0 = empty */
	size_t mask, n;
};

static struct {
	char *pool;
	size_t pool_len, pool_cap;
	struct strset strs;
	struct value *vals;
	size_t nval, val_cap;
	uint32_t *val_slot;	/* value index + 1 */
	size_t val_mask;
	struct rangevec r4, r6;
	uint32_t seq;
	size_t lines, bad, skipped;
} B;

static void *xrealloc(void *p, size_t n);
static uint64_t hash_bytes(const void *p, size_t n);
static uint32_t pool_intern(const char *s, size_t n);
static uint32_t value_intern(uint32_t asn, uint32_t org);
static size_t clean_text(char *dst, size_t dstlen, const char *src, size_t n);
static int csv_split(char *line, char **field, size_t *flen, int max);
static bool parse_addr(const char *s, int *fam, u128 *out);
static bool parse_asn(const char *s, uint32_t *out);
static void read_csv(const char *path);
static int range_seq_cmp(const void *a, const void *b);
static bool heap_less(const struct range *x, const struct range *y);
static size_t sweep(struct rangevec *rv, u128 max);
static void put32(uint8_t *p, uint32_t v);
static void put64(uint8_t *p, uint64_t v);
static void put128(uint8_t *p, u128 v);
static void write_table(const char *out, const char *desc);

/* realloc that exits on failure: this is a short-lived build tool. */
static void *xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n == 0 ? 1 : n)) == NULL)
		err(1, "out of memory");
	return p;
}

/* FNV-1a 64 for the intern tables. */
static uint64_t hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Add a string to the pool once; returns its offset. */
static uint32_t pool_intern(const char *s, size_t n)
{
	size_t i;

	if (B.strs.n * 2 >= B.strs.mask) {
		size_t newmask = B.strs.mask ? B.strs.mask * 2 + 1 : 1023;
		uint32_t *old = B.strs.slot;
		size_t oldmask = B.strs.mask;

		B.strs.slot = calloc(newmask + 1, sizeof *B.strs.slot);
		if (B.strs.slot == NULL)
			err(1, "out of memory");
		B.strs.mask = newmask;
		for (size_t k = 0; old != NULL && k <= oldmask; k++) {
			if (old[k] == 0)
				continue;
			const char *t = B.pool + old[k] - 1;

			for (i = hash_bytes(t, strlen(t)) & newmask; B.strs.slot[i] != 0; i = (i + 1) & newmask)
				;
			B.strs.slot[i] = old[k];
		}
		free(old);
	}
	for (i = hash_bytes(s, n) & B.strs.mask; B.strs.slot[i] != 0; i = (i + 1) & B.strs.mask) {
		const char *t = B.pool + B.strs.slot[i] - 1;

		if (strncmp(t, s, n) == 0 && t[n] == '\0')
			return B.strs.slot[i] - 1;
	}
	if (B.pool_len + n + 1 > B.pool_cap) {
		B.pool_cap = (B.pool_len + n + 1) * 2;
		B.pool = xrealloc(B.pool, B.pool_cap);
	}
	if (B.pool_len + n + 1 > UINT32_MAX - 1)
		errx(1, "string pool over 4 GB");
	memcpy(B.pool + B.pool_len, s, n);
	B.pool[B.pool_len + n] = '\0';
	B.strs.slot[i] = (uint32_t)B.pool_len + 1;
	B.strs.n++;
	B.pool_len += n + 1;
	return B.strs.slot[i] - 1;
}

/* Add an (AS number, organisation) pair once; returns its index. */
static uint32_t value_intern(uint32_t asn, uint32_t org)
{
	uint64_t key = (uint64_t)asn << 32 | org;
	size_t i;

	if (B.nval * 2 >= B.val_mask) {
		size_t newmask = B.val_mask ? B.val_mask * 2 + 1 : 1023;

		free(B.val_slot);
		B.val_slot = calloc(newmask + 1, sizeof *B.val_slot);
		if (B.val_slot == NULL)
			err(1, "out of memory");
		B.val_mask = newmask;
		for (size_t k = 0; k < B.nval; k++) {
			uint64_t kk = (uint64_t)B.vals[k].asn << 32 | B.vals[k].org;

			for (i = hash_bytes(&kk, 8) & newmask; B.val_slot[i] != 0; i = (i + 1) & newmask)
				;
			B.val_slot[i] = (uint32_t)k + 1;
		}
	}
	for (i = hash_bytes(&key, 8) & B.val_mask; B.val_slot[i] != 0; i = (i + 1) & B.val_mask) {
		const struct value *v = &B.vals[B.val_slot[i] - 1];

		if (v->asn == asn && v->org == org)
			return B.val_slot[i] - 1;
	}
	if (B.nval == B.val_cap) {
		B.val_cap = B.val_cap ? B.val_cap * 2 : 1024;
		B.vals = xrealloc(B.vals, B.val_cap * sizeof *B.vals);
	}
	B.vals[B.nval].asn = asn;
	B.vals[B.nval].org = org;
	B.val_slot[i] = (uint32_t)B.nval + 1;
	return (uint32_t)B.nval++;
}

/*
 * Copy text as valid UTF-8 (RFC 3629) without control characters: invalid
 * bytes become '?', controls and runs of spaces one space, no space at
 * either end, at most dstlen-1 bytes cut at a character boundary. Returns
 * the length.
 */
static size_t clean_text(char *dst, size_t dstlen, const char *src, size_t n)
{
	const uint8_t *p = (const uint8_t *)src;
	size_t i = 0, o = 0;

	while (i < n) {
		uint8_t c = p[i];
		size_t k = 0;
		uint32_t cp = 0;
		bool ok = false;

		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		if (k > 0 && n - i > k) {
			ok = true;
			for (size_t j = 1; j <= k; j++) {
				ok = ok && (p[i + j] & 0xc0) == 0x80;
				cp = cp << 6 | (p[i + j] & 0x3f);
			}
			if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
			    (cp >= 0xd800 && cp <= 0xdfff))
				ok = false;
		}
		if (ok) {
			if (o + k + 1 >= dstlen)
				break;
			memcpy(dst + o, p + i, k + 1);
			o += k + 1;
			i += k + 1;
			continue;
		}
		if (c < 0x20 || c == 0x7f || c == ' ') {
			i++;
			if (o > 0 && dst[o - 1] != ' ' && o + 1 < dstlen)
				dst[o++] = ' ';
			continue;
		}
		if (o + 1 >= dstlen)
			break;
		dst[o++] = c >= 0x80 ? '?' : (char)c;
		i++;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
	return o;
}

/*
 * Split one CSV record (RFC 4180) in place into at most max fields,
 * unquoting as it goes. Returns the field count, or -1 for a stray or
 * unterminated quote or too many fields.
 */
static int csv_split(char *line, char **field, size_t *flen, int max)
{
	char *r = line, *w;
	int nf = 0;

	for (;;) {
		if (nf == max)
			return -1;
		field[nf] = w = r;
		if (*r == '"') {
			r++;
			for (;;) {
				if (*r == '\0')
					return -1;
				if (*r == '"') {
					if (r[1] == '"') {
						*w++ = '"';
						r += 2;
						continue;
					}
					r++;
					break;
				}
				*w++ = *r++;
			}
			if (*r != ',' && *r != '\0')
				return -1;
		} else {
			while (*r != ',' && *r != '\0') {
				if (*r == '"')
					return -1;
				*w++ = *r++;
			}
		}
		flen[nf] = (size_t)(w - field[nf]);
		nf++;
		if (*r == '\0') {
			*w = '\0';
			return nf;
		}
		r++;
		*w = '\0';
	}
}

/* Parse an IPv4 or IPv6 address in text form into a number. */
static bool parse_addr(const char *s, int *fam, u128 *out)
{
	uint8_t b[16];
	u128 v = 0;

	if (inet_pton(AF_INET, s, b) == 1) {
		for (int i = 0; i < 4; i++)
			v = v << 8 | b[i];
		*fam = 4;
	} else if (inet_pton(AF_INET6, s, b) == 1) {
		for (int i = 0; i < 16; i++)
			v = v << 8 | b[i];
		*fam = 6;
	} else
		return false;
	*out = v;
	return true;
}

/* Parse an AS number, "13335" or "AS13335", 1 to 4294967295 (RFC 6793). */
static bool parse_asn(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if ((s[0] == 'A' || s[0] == 'a') && (s[1] == 'S' || s[1] == 's'))
		s += 2;
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > UINT32_MAX)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Read one CSV file into the range lists. */
static void read_csv(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *field[4], org[ASN_TABLE_STRMAX + 1];
	size_t cap = 0, flen[4], lineno = 0;
	ssize_t len;

	if (f == NULL)
		err(1, "%s", path);
	while ((len = getline(&line, &cap, f)) != -1) {
		struct rangevec *rv;
		struct range r;
		int nf, fam, fam2;
		uint32_t asn;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		B.lines++;
		nf = csv_split(line, field, flen, 4);
		if (nf < 3 || !parse_addr(field[0], &fam, &r.s) || !parse_addr(field[1], &fam2, &r.e) ||
		    fam != fam2 || r.s > r.e) {
			if (lineno == 1 && nf >= 3 && strchr(field[0], '.') == NULL && strchr(field[0], ':') == NULL) {
				B.lines--;	/* a header line */
				continue;
			}
			if (B.bad++ < 5)
				warnx("%s:%zu: not \"first,last,asn,organisation\"", path, lineno);
			continue;
		}
		if (!parse_asn(field[2], &asn)) {
			/* AS 0 means "not routed" (RFC 7607): nothing to show, not an error. */
			if (strcmp(field[2], "0") == 0) {
				B.skipped++;
				continue;
			}
			if (B.bad++ < 5)
				warnx("%s:%zu: bad AS number \"%s\"", path, lineno, field[2]);
			continue;
		}
		r.val = value_intern(asn, pool_intern(org, nf == 4 ? clean_text(org, sizeof org, field[3], flen[3]) : 0));
		r.seq = B.seq++;
		rv = fam == 4 ? &B.r4 : &B.r6;
		if (rv->n == rv->cap) {
			rv->cap = rv->cap ? rv->cap * 2 : 4096;
			rv->v = xrealloc(rv->v, rv->cap * sizeof *rv->v);
		}
		rv->v[rv->n++] = r;
	}
	if (ferror(f))
		err(1, "%s", path);
	free(line);
	fclose(f);
}

/* qsort order: by start address, then input order. */
static int range_seq_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Heap order: the range that wins comes first (smaller, then later in the input). */
static bool heap_less(const struct range *x, const struct range *y)
{
	u128 sx = x->e - x->s, sy = y->e - y->s;

	if (sx != sy)
		return sx < sy;
	return x->seq > y->seq;
}

/*
 * Replace rv with disjoint, sorted, merged ranges where each stretch of
 * addresses keeps the value of the smallest input range covering it.
 * Returns how many input ranges overlapped another.
 */
static size_t sweep(struct rangevec *rv, u128 max)
{
	struct range *in = rv->v, *heap, *out;
	size_t n = rv->n, nh = 0, no = 0, next = 0, overlaps = 0;
	u128 pos;

	if (n == 0)
		return 0;
	qsort(in, n, sizeof *in, range_seq_cmp);
	pos = in[0].s;
	for (size_t i = 1; i < n; i++)
		overlaps += in[i].s <= in[i - 1].e;
	heap = xrealloc(NULL, n * sizeof *heap);
	out = xrealloc(NULL, 2 * n * sizeof *out);
	/*
	 * Walk the boundaries (every start, and every end + 1) in order. At each
	 * one, add the ranges that start there, drop expired ones from the top,
	 * and give the stretch up to the next boundary to the heap's top.
	 */
	for (;;) {
		u128 nb = 0;
		bool have_nb = false;

		while (next < n && in[next].s == pos) {
			size_t c = nh++;

			heap[c] = in[next++];
			while (c > 0 && heap_less(&heap[c], &heap[(c - 1) / 2])) {
				struct range t = heap[c];

				heap[c] = heap[(c - 1) / 2];
				heap[(c - 1) / 2] = t;
				c = (c - 1) / 2;
			}
		}
		while (nh > 0 && heap[0].e < pos) {
			size_t c = 0;

			heap[0] = heap[--nh];
			for (;;) {
				size_t l = 2 * c + 1, m = c;

				if (l < nh && heap_less(&heap[l], &heap[m]))
					m = l;
				if (l + 1 < nh && heap_less(&heap[l + 1], &heap[m]))
					m = l + 1;
				if (m == c)
					break;
				struct range t = heap[c];

				heap[c] = heap[m];
				heap[m] = t;
				c = m;
			}
		}
		/* The next boundary: the next start, or the end + 1 of any range in force. */
		if (next < n)
			nb = in[next].s, have_nb = true;
		for (size_t k = 0; k < nh; k++) {
			if (heap[k].e >= pos && heap[k].e < max && (!have_nb || heap[k].e + 1 < nb))
				nb = heap[k].e + 1, have_nb = true;
		}
		if (nh > 0) {
			u128 end = have_nb ? nb - 1 : max;

			if (no > 0 && out[no - 1].e + 1 == pos && out[no - 1].val == heap[0].val)
				out[no - 1].e = end;
			else {
				out[no] = heap[0];
				out[no].s = pos;
				out[no++].e = end;
			}
		}
		if (!have_nb)
			break;
		pos = nb;
	}
	free(heap);
	free(in);
	rv->v = out;
	rv->n = rv->cap = no;
	return overlaps;
}

/* Store a little-endian 32-bit integer. */
static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Store a little-endian 64-bit integer. */
static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* Store an IPv6 address in network order. */
static void put128(uint8_t *p, u128 v)
{
	for (int i = 15; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Lay the table out (see asn_format.h) and write it atomically: a temporary file, then rename. */
static void write_table(const char *out, const char *desc)
{
	uint32_t desc_off = pool_intern(desc, strlen(desc));
	uint64_t size = ASN_TABLE_HDRLEN + (uint64_t)B.r4.n * 12 + (uint64_t)B.r6.n * 36 + (uint64_t)B.nval * 8 +
			B.pool_len;
	uint8_t *buf = calloc(1, size), *p;
	char tmp[4096];
	FILE *f;
	int fd;

	if (buf == NULL)
		err(1, "out of memory");
	if (B.r4.n > UINT32_MAX || B.r6.n > UINT32_MAX || B.nval > UINT32_MAX)
		errx(1, "too many ranges");
	memcpy(buf, ASN_TABLE_MAGIC, ASN_TABLE_MAGICLEN);
	put32(buf + 8, ASN_TABLE_HDRLEN);
	put32(buf + 12, (uint32_t)B.r4.n);
	put32(buf + 16, (uint32_t)B.r6.n);
	put32(buf + 20, (uint32_t)B.nval);
	put32(buf + 24, (uint32_t)B.pool_len);
	put32(buf + 28, desc_off);
	put64(buf + 32, (uint64_t)time(NULL));
	put64(buf + 48, size);
	p = buf + ASN_TABLE_HDRLEN;
	for (size_t i = 0; i < B.r4.n; i++, p += 4)
		put32(p, (uint32_t)B.r4.v[i].s);
	for (size_t i = 0; i < B.r4.n; i++, p += 4)
		put32(p, (uint32_t)B.r4.v[i].e);
	for (size_t i = 0; i < B.r4.n; i++, p += 4)
		put32(p, B.r4.v[i].val);
	for (size_t i = 0; i < B.r6.n; i++, p += 16)
		put128(p, B.r6.v[i].s);
	for (size_t i = 0; i < B.r6.n; i++, p += 16)
		put128(p, B.r6.v[i].e);
	for (size_t i = 0; i < B.r6.n; i++, p += 4)
		put32(p, B.r6.v[i].val);
	for (size_t i = 0; i < B.nval; i++, p += 8) {
		put32(p, B.vals[i].asn);
		put32(p + 4, B.vals[i].org);
	}
	memcpy(p, B.pool, B.pool_len);
	put64(buf + 40, asn_table_checksum(buf, size));

	if (snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", out) >= (int)sizeof tmp)
		errx(1, "%s: path too long", out);
	if ((fd = mkstemp(tmp)) == -1 || (f = fdopen(fd, "wb")) == NULL)
		err(1, "%s", tmp);
	if (fwrite(buf, 1, size, f) != size || fflush(f) != 0 || fsync(fd) != 0) {
		unlink(tmp);
		err(1, "%s", tmp);
	}
	fchmod(fd, 0644);
	fclose(f);
	if (rename(tmp, out) == -1) {
		unlink(tmp);
		err(1, "rename %s", out);
	}
	printf("asn_build: %zu IPv4 + %zu IPv6 ranges, %zu AS/organisation pairs, %zu bytes of names -> %s "
	       "(%llu bytes)\n",
	       B.r4.n, B.r6.n, B.nval, B.pool_len, out, (unsigned long long)size);
	free(buf);
}

int main(int argc, char **argv)
{
	const char *out = NULL, *desc = "";
	size_t ov4, ov6;
	int c;

	while ((c = getopt(argc, argv, "d:o:")) != -1) {
		switch (c) {
		case 'd':
			desc = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (out == NULL || optind == argc)
		goto usage;
	pool_intern("", 0);	/* offset 0: no organisation */
	for (int i = optind; i < argc; i++)
		read_csv(argv[i]);
	if (B.bad > 0)
		warnx("%zu of %zu lines malformed", B.bad, B.lines);
	if (B.lines == 0 || B.bad * 100 > B.lines)
		errx(1, "too many malformed lines; has the CSV format changed?");
	if (B.r4.n + B.r6.n == 0)
		errx(1, "no ranges in the input");
	if (strlen(desc) > ASN_TABLE_STRMAX)
		errx(1, "description longer than %d bytes", ASN_TABLE_STRMAX);
	ov4 = sweep(&B.r4, (u128)UINT32_MAX);
	ov6 = sweep(&B.r6, ~(u128)0);
	if (ov4 + ov6 > 0)
		printf("asn_build: %zu overlapping ranges resolved (the smaller range wins)\n", ov4 + ov6);
	write_table(out, desc);
	return 0;
usage:
	fprintf(stderr, "usage: asn_build [-d DESCRIPTION] -o OUT.ngasn FILE.csv...\n");
	return 2;
}
