/* SPDX-License-Identifier: BSD-2-Clause */
/* exehash.h: SHA-256 of executables, computed off the packet path, cached by (device, inode, mtime), bounded. */
#ifndef NG_EXEHASH_H
#define NG_EXEHASH_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* One executable version; reference-counted; `hex` is filled when hashing finishes. */
struct exehash_rec {
	unsigned refs;		/* private */
	uint64_t dev, ino, used;
	uint64_t size;		/* bytes, as stat saw the path when queued (0 unknown) */
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	char *path;
	int state;		/* EXEHASH_PENDING, EXEHASH_DONE, EXEHASH_FAILED */
	char hex[65];		/* lower-case SHA-256 when EXEHASH_DONE */
	bool changed;		/* the same path had another hash before: the program was replaced */
};

enum { EXEHASH_PENDING = 0, EXEHASH_DONE = 1, EXEHASH_FAILED = 2 };

struct exehash;

struct exehash *exehash_create(void);
void exehash_destroy(struct exehash *eh);
/* The record of this executable version (queued for hashing when new): a new reference, or NULL for no path. */
struct exehash_rec *exehash_get(struct exehash *eh, const char *path, uint64_t dev, uint64_t ino, int64_t mtime_sec,
				uint32_t mtime_nsec);
struct exehash_rec *exehash_ref(struct exehash_rec *r);
void exehash_unref(struct exehash_rec *r);
/*
 * Hash queued files for at most EXEHASH_BYTES_PER_RUN bytes and EXEHASH_US_PER_RUN of time (call from the tick),
 * smallest first, so one large executable never holds back the others.
 */
void exehash_run(struct exehash *eh);

/* hashed + failed + pending == versions ever queued (evicted pending ones count as failed). */
struct exehash_stats {
	uint64_t hashed, failed, bytes, cached, memory_bytes;
	uint64_t pending;	/* queued versions not hashed yet (now) */
};
void exehash_get_stats(const struct exehash *eh, struct exehash_stats *out);

#endif
