/* SPDX-License-Identifier: BSD-2-Clause */
/* vpool.c: the interned, reference-counted verdicts that flows hold (see vpool.h). */
#include "vpool.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Chunk 0 is static, so reference 0 (the zero verdict) reads without any set-up. */
static struct vpool_entry chunk0[VPOOL_CHUNK];
static struct vpool_entry *first_chunks[1] = {chunk0};
struct vpool_entry **vpool_chunks_ = first_chunks;

static size_t nchunks = 1;
static uint32_t next_unused = 1;	/* entries below it were handed out at least once */
static uint32_t free_head;		/* a freed entry, chained through refs; 0 when none */
static size_t live;

/* Open addressing by hash over references (0 = empty), at most half full. */
static uint32_t *index_;
static size_t nindex;

#define MIN_INDEX 1024

static inline struct vpool_entry *entry(uint32_t ref)
{
	return &vpool_chunks_[ref >> VPOOL_CHUNK_BITS][ref & (VPOOL_CHUNK - 1)];
}

/* The hash of a verdict's bytes (the struct has no padding: equal values have equal bytes). */
static uint32_t info_hash(const struct wl_verdict_info *v)
{
	uint64_t h = ng_hash64(v, sizeof *v, 0x76706f6fULL);

	return (uint32_t)(h ^ (h >> 32));
}

/* Put ref into an index of n slots (it is known not to be there). */
static void index_put(uint32_t *ix, size_t n, uint32_t ref)
{
	size_t i = entry(ref)->hash & (n - 1);

	while (ix[i])
		i = (i + 1) & (n - 1);
	ix[i] = ref;
}

/* Double the index (or make the first one). */
static void index_grow(void)
{
	size_t n = nindex ? nindex * 2 : MIN_INDEX;
	uint32_t *ix = xcalloc(n, sizeof *ix);

	for (size_t i = 0; i < nindex; i++) {
		if (index_[i])
			index_put(ix, n, index_[i]);
	}
	free(index_);
	index_ = ix;
	nindex = n;
}

/* A fresh entry: a freed one, else the next never-used one (adding a chunk when needed). */
static uint32_t entry_new(void)
{
	uint32_t ref;

	if (free_head) {
		ref = free_head;
		free_head = entry(ref)->refs;
		return ref;
	}
	if (next_unused >> VPOOL_CHUNK_BITS == nchunks) {
		struct vpool_entry **c = xmalloc((nchunks + 1) * sizeof *c);

		memcpy(c, vpool_chunks_, nchunks * sizeof *c);
		c[nchunks] = xmalloc(VPOOL_CHUNK * sizeof **c);
		if (vpool_chunks_ != first_chunks)
			free(vpool_chunks_);
		vpool_chunks_ = c;
		nchunks++;
	}
	return next_unused++;
}

uint32_t vpool_get(const struct wl_verdict_info *v)
{
	static const struct wl_verdict_info zero;
	uint32_t h, ref;
	size_t i;

	if (memcmp(v, &zero, sizeof zero) == 0)
		return 0;
	h = info_hash(v);
	if ((live + 1) * 2 > nindex)
		index_grow();
	for (i = h & (nindex - 1); index_[i]; i = (i + 1) & (nindex - 1)) {
		struct vpool_entry *e = entry(index_[i]);

		if (e->hash == h && memcmp(&e->info, v, sizeof *v) == 0) {
			e->refs++;
			return index_[i];
		}
	}
	ref = entry_new();
	entry(ref)->info = *v;
	entry(ref)->refs = 1;
	entry(ref)->hash = h;
	index_[i] = ref;
	live++;
	return ref;
}

/* Take ref out of the index, moving later members of its probe run back (no tombstones). */
static void index_remove(uint32_t ref)
{
	size_t mask = nindex - 1, i = entry(ref)->hash & mask, j;

	while (index_[i] != ref)
		i = (i + 1) & mask;
	index_[i] = 0;
	for (j = (i + 1) & mask; index_[j]; j = (j + 1) & mask) {
		size_t home = entry(index_[j])->hash & mask;

		/* Move j back to i when its home is not in (i, j] (cyclically). */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			index_[i] = index_[j];
			index_[j] = 0;
			i = j;
		}
	}
}

void vpool_put(uint32_t ref)
{
	struct vpool_entry *e;

	if (ref == 0)
		return;
	e = entry(ref);
	if (--e->refs > 0)
		return;
	index_remove(ref);
	e->refs = free_head;
	free_head = ref;
	live--;
}

size_t vpool_count(void)
{
	return live;
}

size_t vpool_bytes(void)
{
	return nchunks * VPOOL_CHUNK * sizeof(struct vpool_entry) + nindex * sizeof *index_;
}
