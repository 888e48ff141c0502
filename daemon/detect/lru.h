/* SPDX-License-Identifier: BSD-2-Clause */
/* lru.h: a fixed-size table of 64-bit keys with least-recently-used eviction, shared by the detectors. */
#ifndef NG_LRU_H
#define NG_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The table only maps keys to slot numbers 0..cap-1; each detector keeps
 * its own per-key state in an array of cap entries indexed by slot. All
 * memory is allocated by lru_create and never grows. When the table is
 * full, lru_put hands out the slot of the least recently used key (the
 * caller may still read that slot's old state before reusing it).
 */
#define LRU_NIL UINT32_MAX

struct lru;

/* A table for at most cap keys (cap is clamped to 1..2^30). */
struct lru *lru_create(size_t cap);
void lru_destroy(struct lru *l);
/* The slot of key, made most recently used; LRU_NIL when absent. */
uint32_t lru_get(struct lru *l, uint64_t key);
/* The slot of key without changing the order; LRU_NIL when absent. */
uint32_t lru_peek(const struct lru *l, uint64_t key);
/*
 * Add key (absent) as most recently used and return its slot. When the table
 * was full, the least recently used key was dropped for it: *evicted (if not
 * NULL) is set to true and *old_key (if not NULL) to the dropped key.
 */
uint32_t lru_put(struct lru *l, uint64_t key, bool *evicted, uint64_t *old_key);
/* Number of keys held, and the fixed capacity. */
size_t lru_count(const struct lru *l);
size_t lru_cap(const struct lru *l);
/* Bytes the table holds (the detectors' own entry arrays are not included). */
size_t lru_memory(const struct lru *l);

#endif
