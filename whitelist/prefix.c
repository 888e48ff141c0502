/* SPDX-License-Identifier: BSD-2-Clause */
/* prefix.c: a sorted-range table for IPv4 and IPv6 CIDRs, answering "which innermost CIDR holds this address". */
#include <stdlib.h>
#include <string.h>
#include "platform.h"

#include "util.h"
#include "wl_int.h"

/*
 * DESIGN
 *
 * CIDR prefixes either nest or are disjoint, so a set of them cuts the
 * address line into disjoint ranges, each covered by one innermost prefix (or
 * by none). Sorting the prefixes by (start, length, label) and sweeping once
 * with a stack of open prefixes yields those ranges in order; each range is
 * stored as its start and a label, and a range ends where the next one starts.
 * Neighbours with the same label merge, so n prefixes give at most 2n+1
 * ranges. A lookup finds the last range starting at or below the address.
 *
 * To keep that search short and its memory accesses few, a first-level index
 * over the top address bits (as many bits as the table has ranges, at most
 * 16) gives the slice of ranges a lookup must search: with a million IPv4
 * entries that is about 30 ranges, 5 steps; a small table gets a small index. The
 * starts live in one dense array per family (uint32_t for IPv4, 128-bit for
 * IPv6) apart from the labels, so the search touches only the starts.
 *
 * Building is a stable LSD radix sort on (start, length), so equal prefixes
 * keep input (label) order, then the O(n) sweep: a few linear passes, well
 * under a second for a million prefixes (see wl_bench). Big arrays ask for
 * transparent huge pages, since lookups are bound by TLB and cache misses.
 */

typedef unsigned __int128 u128;

#define PT_MAX_BITS 16

/* One family's table. */
struct pt_family {
	size_t n;		/* ranges */
	uint32_t *start4;	/* IPv4 starts, or NULL */
	u128 *start6;		/* IPv6 starts, or NULL */
	uint32_t *label;
	unsigned bits;		/* index bits: the top `bits` of an address pick a bucket */
	uint32_t *bucket;	/* (1 << bits) + 1 entries: first candidate range of each bucket */
};

struct wl_ptable {
	struct pt_family f4, f6;
};

/* A prefix being sorted and swept (32 bytes; its end follows from start and prefix). */
struct pt_item {
	u128 start;
	uint32_t label;
	uint8_t prefix;
};

/* A prefix open during the sweep. */
struct pt_open {
	u128 start, end;
	uint32_t label;
};

/* The growing output of the sweep. */
struct pt_out {
	u128 *start;
	uint32_t *label;
	size_t n, cap;
};

/* Key of an address: its bits as an unsigned number (IPv4 in the low 32 bits). */
static u128 pt_key(uint8_t v, const uint8_t *a)
{
	u128 k = 0;

	for (int i = 0; i < (v == 4 ? 4 : 16); i++)
		k = (k << 8) | a[i];
	return k;
}

void wl_hugepage_hint(void *p, size_t len)
{
	uintptr_t a = ((uintptr_t)p + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1);
	uintptr_t e = ((uintptr_t)p + len) & ~(uintptr_t)((2u << 20) - 1);

	if (len >= (4u << 20) && e > a)
		platform_advise_huge((void *)a, e - a);
}

/*
 * Sort by start, then outer (shorter) first, stably so equal prefixes keep
 * input order (lowest label first): LSD radix on the length byte, then the
 * start bytes from least to most significant; passes where every item has
 * the same byte are skipped.
 */
static void pt_sort(struct pt_item *it, size_t n, unsigned start_bytes)
{
	struct pt_item *tmp = xmalloc((n ? n : 1) * sizeof *tmp), *src = it, *dst = tmp;

	for (unsigned pass = 0; pass <= start_bytes; pass++) {
		size_t count[256] = {0}, pos[256], sum = 0;
		bool skip = false;

		for (size_t i = 0; i < n; i++)
			count[pass ? (uint8_t)(src[i].start >> (8 * (pass - 1))) : src[i].prefix]++;
		for (unsigned b = 0; b < 256; b++) {
			skip |= count[b] == n;
			pos[b] = sum;
			sum += count[b];
		}
		if (skip)
			continue;
		for (size_t i = 0; i < n; i++)
			dst[pos[pass ? (uint8_t)(src[i].start >> (8 * (pass - 1))) : src[i].prefix]++] = src[i];
		{
			struct pt_item *t = src;

			src = dst;
			dst = t;
		}
	}
	if (src != it)
		memcpy(it, src, n * sizeof *it);
	free(tmp);
}

/* Last address of a prefix of `bits`-bit addresses. */
static u128 pt_end(u128 start, unsigned prefix, unsigned bits)
{
	u128 host;

	if (prefix >= bits)
		return start;
	host = prefix == 0 ? (bits == 128 ? ~(u128)0 : (u128)UINT32_MAX) : (((u128)1 << (bits - prefix)) - 1);
	return start | host;
}

/* Start a range at pos with label, merging with or replacing the previous one. */
static void pt_emit(struct pt_out *o, u128 pos, uint32_t label)
{
	if (o->n > 0 && o->start[o->n - 1] == pos) {
		/* The previous range turned out empty: take its place. */
		o->label[o->n - 1] = label;
		if (o->n > 1 && o->label[o->n - 2] == label)
			o->n--;
		return;
	}
	if (o->n > 0 && o->label[o->n - 1] == label)
		return;
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		o->start = xrealloc(o->start, o->cap * sizeof *o->start);
		o->label = xrealloc(o->label, o->cap * sizeof *o->label);
	}
	o->start[o->n] = pos;
	o->label[o->n] = label;
	o->n++;
}

/* Sweep sorted items into disjoint labelled ranges covering [0, max]. */
static void pt_sweep(const struct pt_item *it, size_t n, unsigned bits, u128 max, struct pt_out *o)
{
	struct pt_open stack[130];
	size_t sp = 0;

	pt_emit(o, 0, WL_PT_NONE);
	for (size_t i = 0; i <= n; i++) {
		u128 end = i < n ? pt_end(it[i].start, it[i].prefix, bits) : 0;

		/* Close the open prefixes that end before this one starts (all of them at the end). */
		while (sp > 0 && (i == n || stack[sp - 1].end < it[i].start)) {
			u128 e = stack[--sp].end;

			if (e != max)
				pt_emit(o, e + 1, sp > 0 ? stack[sp - 1].label : WL_PT_NONE);
		}
		if (i == n)
			break;
		if (sp > 0 && stack[sp - 1].start == it[i].start && stack[sp - 1].end == end)
			continue;	/* the same prefix again: the first label stays */
		pt_emit(o, it[i].start, it[i].label);
		stack[sp].start = it[i].start;
		stack[sp].end = end;
		stack[sp].label = it[i].label;
		sp++;
	}
}

/* Build one family's table from its items (sorted here). */
static void pt_family_build(struct pt_family *f, struct pt_item *it, size_t n, int v)
{
	struct pt_out o;
	u128 max = v == 4 ? (u128)UINT32_MAX : ~(u128)0;
	unsigned width = v == 4 ? 32 : 128;
	size_t r = 0, nb;

	memset(&o, 0, sizeof o);
	pt_sort(it, n, width / 8);
	pt_sweep(it, n, width, max, &o);
	f->n = o.n;
	f->label = o.label;
	wl_hugepage_hint(f->label, o.n * sizeof *f->label);
	if (v == 4) {
		f->start4 = xmalloc(o.n * sizeof *f->start4);
		for (size_t i = 0; i < o.n; i++)
			f->start4[i] = (uint32_t)o.start[i];
		free(o.start);
		wl_hugepage_hint(f->start4, o.n * sizeof *f->start4);
	} else {
		f->start6 = o.start;
		wl_hugepage_hint(f->start6, o.n * sizeof *f->start6);
	}
	/* About one range per bucket, at most 2^16 buckets. */
	f->bits = 0;
	while (f->bits < PT_MAX_BITS && ((size_t)1 << f->bits) < o.n)
		f->bits++;
	nb = (size_t)1 << f->bits;
	/* bucket[b]: the last range starting at or below the first address of bucket b (range 0 starts at 0). */
	f->bucket = xmalloc((nb + 1) * sizeof *f->bucket);
	for (size_t b = 0; b < nb; b++) {
		u128 at = f->bits ? (u128)b << (width - f->bits) : 0;

		while (r + 1 < o.n && (v == 4 ? (u128)f->start4[r + 1] : f->start6[r + 1]) <= at)
			r++;
		f->bucket[b] = (uint32_t)r;
	}
	f->bucket[nb] = (uint32_t)(o.n - 1);
}

struct wl_ptable *wl_ptable_build(const struct wl_cidr *const *cidrs, size_t n)
{
	struct wl_ptable *t = xcalloc(1, sizeof *t);
	struct pt_item *it4, *it6;
	size_t n4 = 0, n6 = 0;

	for (size_t i = 0; i < n; i++) {
		if (cidrs[i]->v == 4)
			n4++;
		else
			n6++;
	}
	it4 = xmalloc((n4 ? n4 : 1) * sizeof *it4);
	it6 = xmalloc((n6 ? n6 : 1) * sizeof *it6);
	n4 = n6 = 0;
	for (size_t i = 0; i < n; i++) {
		const struct wl_cidr *c = cidrs[i];
		unsigned bits = c->v == 4 ? 32 : 128;
		struct pt_item *p = c->v == 4 ? &it4[n4++] : &it6[n6++];
		u128 k = pt_key(c->v, c->a);

		p->prefix = (uint8_t)NG_MIN(c->prefix, bits);
		p->start = k & ~pt_end(0, p->prefix, bits);	/* host bits cleared (callers give them clear) */
		p->label = (uint32_t)i;
	}
	pt_family_build(&t->f4, it4, n4, 4);
	pt_family_build(&t->f6, it6, n6, 6);
	free(it4);
	free(it6);
	return t;
}

/* The bucket of an IPv4 key. */
static inline size_t f4_bucket(const struct pt_family *f, uint32_t k)
{
	return f->bits ? (size_t)(k >> (32 - f->bits)) : 0;
}

uint32_t wl_ptable_lookup(const struct wl_ptable *t, const ng_addr *addr)
{
	const struct pt_family *f;
	size_t lo, hi;

	if (t == NULL)
		return WL_PT_NONE;
	if (addr->v == 4) {
		uint32_t k = (uint32_t)addr->a[0] << 24 | (uint32_t)addr->a[1] << 16 | (uint32_t)addr->a[2] << 8 |
			     addr->a[3];

		size_t b = f4_bucket(&t->f4, k);

		f = &t->f4;
		lo = f->bucket[b];
		hi = f->bucket[b + 1];
		/* Invariant: start4[lo] <= k; find the last such index in [lo, hi]. */
		while (lo < hi) {
			size_t mid = lo + (hi - lo + 1) / 2;

			if (f->start4[mid] <= k)
				lo = mid;
			else
				hi = mid - 1;
		}
		return f->label[lo];
	}
	if (addr->v == 6) {
		u128 k = pt_key(6, addr->a);
		size_t b = t->f6.bits ? (size_t)(k >> (128 - t->f6.bits)) : 0;

		f = &t->f6;
		lo = f->bucket[b];
		hi = f->bucket[b + 1];
		while (lo < hi) {
			size_t mid = lo + (hi - lo + 1) / 2;

			if (f->start6[mid] <= k)
				lo = mid;
			else
				hi = mid - 1;
		}
		return f->label[lo];
	}
	return WL_PT_NONE;
}

size_t wl_ptable_ranges(const struct wl_ptable *t)
{
	return t ? t->f4.n + t->f6.n : 0;
}

/* Free one family's arrays. */
static void pt_family_free(struct pt_family *f)
{
	free(f->start4);
	free(f->start6);
	free(f->label);
	free(f->bucket);
}

void wl_ptable_free(struct wl_ptable *t)
{
	if (t == NULL)
		return;
	pt_family_free(&t->f4);
	pt_family_free(&t->f6);
	free(t);
}
