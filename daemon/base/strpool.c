/* SPDX-License-Identifier: BSD-2-Clause */
/* strpool.c: interned, reference-counted strings in a chained hash table that grows by doubling. */
#include "strpool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct pooled {
	struct pooled *next;	/* hash chain */
	uint64_t hash;
	uint32_t refs;
	uint32_t len : 31;
	uint32_t immortal : 1;	/* str_intern holds one reference for the life of the process */
	char s[];
};

static struct pooled **pool_tab;
static size_t pool_nbucket, pool_count;

/* The record behind a pool string. */
static struct pooled *pooled_of(const char *s)
{
	return (struct pooled *)(void *)(s - offsetof(struct pooled, s));
}

/* Double the bucket array (from 256) and rechain every string. */
static void pool_grow(void)
{
	size_t n = pool_nbucket ? pool_nbucket * 2 : 256;
	struct pooled **tab = xcalloc(n, sizeof *tab);

	for (size_t i = 0; i < pool_nbucket; i++) {
		struct pooled *p = pool_tab[i], *next;

		for (; p; p = next) {
			next = p->next;
			p->next = tab[p->hash & (n - 1)];
			tab[p->hash & (n - 1)] = p;
		}
	}
	free(pool_tab);
	pool_tab = tab;
	pool_nbucket = n;
}

const char *strpool_getn(const char *s, size_t n)
{
	uint64_t h;
	struct pooled *p;

	n = strnlen(s, n);
	if (n > UINT32_MAX >> 1)
		n = UINT32_MAX >> 1;
	if (pool_count >= pool_nbucket)
		pool_grow();
	/* Keyed hash (util.c mixes in a per-process secret): names come from the wire. */
	h = ng_hash64(s, n, 0x737472706f6f6cULL);
	for (p = pool_tab[h & (pool_nbucket - 1)]; p; p = p->next) {
		if (p->hash == h && p->len == n && memcmp(p->s, s, n) == 0) {
			p->refs++;
			return p->s;
		}
	}
	p = xmalloc(sizeof *p + n + 1);
	memcpy(p->s, s, n);
	p->s[n] = '\0';
	p->hash = h;
	p->refs = 1;
	p->len = (uint32_t)n;
	p->immortal = 0;
	p->next = pool_tab[h & (pool_nbucket - 1)];
	pool_tab[h & (pool_nbucket - 1)] = p;
	pool_count++;
	return p->s;
}

const char *strpool_get(const char *s)
{
	return strpool_getn(s, SIZE_MAX);
}

const char *strpool_ref(const char *s)
{
	if (s != NULL)
		pooled_of(s)->refs++;
	return s;
}

void strpool_put(const char *s)
{
	struct pooled *p, **pp;

	if (s == NULL)
		return;
	p = pooled_of(s);
	if (--p->refs > 0)
		return;
	for (pp = &pool_tab[p->hash & (pool_nbucket - 1)]; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	pool_count--;
	free(p);
}

size_t strpool_count(void)
{
	return pool_count;
}

const char *str_intern(const char *s)
{
	const char *v = strpool_get(s);
	struct pooled *p = pooled_of(v);

	/* One reference is kept for good; interning the same text again takes no more. */
	if (p->immortal)
		p->refs--;
	p->immortal = 1;
	return v;
}
