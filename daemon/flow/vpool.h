/* SPDX-License-Identifier: BSD-2-Clause */
/* vpool.h: the one process-wide pool of whitelist verdicts held by flows, interned and reference-counted. */
#ifndef NG_VPOOL_H
#define NG_VPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "whitelist.h"

/*
 * Every flow holds a verdict per direction, and most flows share theirs with
 * many others: a flood's million spoofed sources are each a "first contact"
 * with the same counts and times, and the flows to a known service carry the
 * same answer until the whitelist learns more. So a flow holds a 32-bit
 * reference into this pool instead of two 40-byte copies. Entries never move
 * (they live in fixed chunks), so a pointer from vpool_info stays valid while
 * its reference is held. Reference 0 is the all-zero verdict (WL_NONE), held
 * for good, which a zeroed flow has without asking. A freed entry is reused
 * first and chunks are kept, so the pool stays at its peak, which twice the
 * flows held bounds. Like strpool, the pool belongs to the capture loop's
 * thread.
 */

#define VPOOL_CHUNK_BITS 12
#define VPOOL_CHUNK ((uint32_t)1 << VPOOL_CHUNK_BITS)

struct vpool_entry {
	struct wl_verdict_info info;
	uint32_t refs;		/* holders; a free entry's next free entry instead */
	uint32_t hash;		/* of info, for the index */
};

/* The chunks of entries, VPOOL_CHUNK each (vpool.c); reach them with vpool_info. */
extern struct vpool_entry **vpool_chunks_;

/* The verdict behind a reference. */
static inline const struct wl_verdict_info *vpool_info(uint32_t ref)
{
	return &vpool_chunks_[ref >> VPOOL_CHUNK_BITS][ref & (VPOOL_CHUNK - 1)].info;
}

/* A reference to a verdict equal to *v (byte for byte), new or shared; the caller gives it back with vpool_put. */
uint32_t vpool_get(const struct wl_verdict_info *v);
/* Give back one reference; the entry is freed with its last. Reference 0 is never freed. */
void vpool_put(uint32_t ref);
/* Distinct verdicts held now (besides reference 0), and the bytes the pool takes. */
size_t vpool_count(void);
size_t vpool_bytes(void);

#endif
