/* SPDX-License-Identifier: BSD-2-Clause */
/* lru.c: a fixed-size table of 64-bit keys with least-recently-used eviction, shared by the detectors. */
#include "lru.h"

#include <stdlib.h>

#include "util.h"

/*
 * DESIGN
 *
 * Keys are already well-mixed 64-bit hashes (the callers build them with
 * ng_hash64, which is keyed per process), so the bucket is the key's low
 * bits. Buckets chain through the nodes by index; the recency list is a
 * doubly linked list of indices. Everything lives in three arrays sized at
 * create time: no allocation after that, O(1) expected per operation.
 */

struct lru_node {
	uint64_t key;
	uint32_t chain;		/* next node in the same bucket */
	uint32_t prev, next;	/* recency list: prev is more recent */
};

struct lru {
	size_t cap, count, nbuckets;
	uint32_t *bucket;
	struct lru_node *node;
	uint32_t head, tail;	/* most and least recently used */
};

/* Bucket index of a key. */
static size_t lru_bucket(const struct lru *l, uint64_t key)
{
	return (size_t)(key ^ (key >> 29)) & (l->nbuckets - 1);
}

struct lru *lru_create(size_t cap)
{
	struct lru *l = xcalloc(1, sizeof *l);

	if (cap < 1)
		cap = 1;
	if (cap > (1u << 30))
		cap = 1u << 30;
	l->cap = cap;
	l->nbuckets = 1;
	while (l->nbuckets < cap)
		l->nbuckets <<= 1;
	l->bucket = xmalloc(l->nbuckets * sizeof *l->bucket);
	for (size_t i = 0; i < l->nbuckets; i++)
		l->bucket[i] = LRU_NIL;
	l->node = xcalloc(cap, sizeof *l->node);
	l->head = l->tail = LRU_NIL;
	return l;
}

void lru_destroy(struct lru *l)
{
	if (!l)
		return;
	free(l->bucket);
	free(l->node);
	free(l);
}

/* Take node i out of the recency list. */
static void lru_unlink(struct lru *l, uint32_t i)
{
	struct lru_node *n = &l->node[i];

	if (n->prev != LRU_NIL)
		l->node[n->prev].next = n->next;
	else
		l->head = n->next;
	if (n->next != LRU_NIL)
		l->node[n->next].prev = n->prev;
	else
		l->tail = n->prev;
	n->prev = n->next = LRU_NIL;
}

/* Put node i at the front of the recency list. */
static void lru_push_front(struct lru *l, uint32_t i)
{
	struct lru_node *n = &l->node[i];

	n->prev = LRU_NIL;
	n->next = l->head;
	if (l->head != LRU_NIL)
		l->node[l->head].prev = i;
	l->head = i;
	if (l->tail == LRU_NIL)
		l->tail = i;
}

uint32_t lru_peek(const struct lru *l, uint64_t key)
{
	for (uint32_t i = l->bucket[lru_bucket(l, key)]; i != LRU_NIL; i = l->node[i].chain) {
		if (l->node[i].key == key)
			return i;
	}
	return LRU_NIL;
}

uint32_t lru_get(struct lru *l, uint64_t key)
{
	uint32_t i = lru_peek(l, key);

	if (i != LRU_NIL && l->head != i) {
		lru_unlink(l, i);
		lru_push_front(l, i);
	}
	return i;
}

/* Remove node i from its bucket chain. */
static void lru_unchain(struct lru *l, uint32_t i)
{
	uint32_t *p = &l->bucket[lru_bucket(l, l->node[i].key)];

	while (*p != LRU_NIL && *p != i)
		p = &l->node[*p].chain;
	if (*p == i)
		*p = l->node[i].chain;
}

uint32_t lru_put(struct lru *l, uint64_t key, bool *evicted, uint64_t *old_key)
{
	uint32_t i;
	size_t b;

	if (evicted)
		*evicted = false;
	if (l->count < l->cap) {
		i = (uint32_t)l->count++;
	} else {
		i = l->tail;
		if (evicted)
			*evicted = true;
		if (old_key)
			*old_key = l->node[i].key;
		lru_unchain(l, i);
		lru_unlink(l, i);
	}
	b = lru_bucket(l, key);
	l->node[i].key = key;
	l->node[i].chain = l->bucket[b];
	l->bucket[b] = i;
	lru_push_front(l, i);
	return i;
}

size_t lru_count(const struct lru *l)
{
	return l->count;
}

size_t lru_cap(const struct lru *l)
{
	return l->cap;
}

size_t lru_memory(const struct lru *l)
{
	return sizeof *l + l->nbuckets * sizeof *l->bucket + l->cap * sizeof *l->node;
}
