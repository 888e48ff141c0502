/* SPDX-License-Identifier: BSD-2-Clause */
/* exehash.c: SHA-256 of executables (Nettle), off the packet path, cached by (device, inode, mtime), bounded. */

/*
 * DESIGN
 *
 * A process description asks for its executable's record (exehash_get); a
 * new version (device, inode, mtime) is queued. The tick calls exehash_run,
 * which reads at most EXEHASH_BYTES_PER_RUN bytes and EXEHASH_US_PER_RUN of
 * time, continuing a large file over several ticks: at 4 ticks a second that
 * bounds hashing to 32 MiB/s and about 8% of a core. The queue is served
 * smallest file first (sizes from a stat when queued), and while a large file
 * is in progress, files up to EXEHASH_SMALL bytes queued since are hashed
 * whole before it continues: a 300 MB browser takes about ten seconds, and a
 * curl that connects meanwhile still gets its hash at the next tick. The file is opened by
 * path and checked with fstat against the device and inode the kernel gave,
 * so a path that now names another file is never hashed in its place
 * (EXEHASH_FAILED, sha256 null). The cache keeps EXEHASH_MAX versions (least
 * recently used evicted; flows keep their own references) and remembers the
 * last hash of EXEHASH_PATHS paths, so a path whose hash changes is marked
 * `changed` (the program was replaced).
 */
#include "exehash.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"

#define EXEHASH_MAX		1024		/* executable versions cached */
#define EXEHASH_PATHS		1024		/* paths whose last hash is remembered */
#define EXEHASH_BYTES_PER_RUN	(8u << 20)	/* bytes hashed per tick at most */
#define EXEHASH_US_PER_RUN	20000		/* and time (monotonic us) */
#define EXEHASH_FILE_MAX	(1ull << 30)	/* larger executables are not hashed */
#define EXEHASH_CHUNK		65536
#define EXEHASH_SMALL		(4u << 20)	/* hashed whole, ahead of a large file in progress */

struct exehash_path {
	uint64_t key;		/* hash of the path */
	char hex[65];
};

struct exehash {
	struct exehash_rec *recs[EXEHASH_MAX];
	size_t n;
	uint64_t clock;
	struct exehash_rec *cur;	/* being hashed */
	int fd;
	struct sha256_ctx ctx;
	struct exehash_path paths[EXEHASH_PATHS];
	size_t path_next;
	uint8_t *buf;
	struct exehash_stats st;
};

static void exehash_finish(struct exehash *eh, struct exehash_rec *r, struct sha256_ctx *ctx, bool ok);
static struct exehash_rec *exehash_next(struct exehash *eh, uint64_t below);
static int exehash_open(struct exehash_rec *r);
static size_t exehash_whole(struct exehash *eh, struct exehash_rec *r);

struct exehash *exehash_create(void)
{
	struct exehash *eh = xcalloc(1, sizeof *eh);

	eh->fd = -1;
	eh->buf = xmalloc(EXEHASH_CHUNK);
	return eh;
}

void exehash_destroy(struct exehash *eh)
{
	if (!eh)
		return;
	if (eh->fd != -1)
		close(eh->fd);
	exehash_unref(eh->cur);
	for (size_t i = 0; i < eh->n; i++)
		exehash_unref(eh->recs[i]);
	free(eh->buf);
	free(eh);
}

struct exehash_rec *exehash_ref(struct exehash_rec *r)
{
	if (r)
		r->refs++;
	return r;
}

void exehash_unref(struct exehash_rec *r)
{
	if (!r || --r->refs > 0)
		return;
	free(r->path);
	free(r);
}

struct exehash_rec *exehash_get(struct exehash *eh, const char *path, uint64_t dev, uint64_t ino, int64_t mtime_sec,
				uint32_t mtime_nsec)
{
	struct exehash_rec *r;
	struct stat st;
	size_t victim = 0;

	if (!eh || !path || path[0] != '/')
		return NULL;
	for (size_t i = 0; i < eh->n; i++) {
		r = eh->recs[i];
		if (r->dev == dev && r->ino == ino && r->mtime_sec == mtime_sec && r->mtime_nsec == mtime_nsec &&
		    strcmp(r->path, path) == 0) {
			r->used = ++eh->clock;
			eh->st.cached++;
			return exehash_ref(r);
		}
		if (r->used < eh->recs[victim]->used)
			victim = i;
	}
	r = xcalloc(1, sizeof *r);
	r->refs = 1;
	r->dev = dev;
	r->ino = ino;
	r->mtime_sec = mtime_sec;
	r->mtime_nsec = mtime_nsec;
	r->path = xstrdup(path);
	r->used = ++eh->clock;
	if (stat(path, &st) == 0 && (uint64_t)st.st_ino == ino)
		r->size = (uint64_t)st.st_size;
	if (eh->n < EXEHASH_MAX) {
		eh->recs[eh->n++] = r;
	} else {
		struct exehash_rec *old = eh->recs[victim];

		if (old->state == EXEHASH_PENDING && old != eh->cur) {
			old->state = EXEHASH_FAILED;	/* evicted before its turn: never hashed */
			eh->st.failed++;
		}
		exehash_unref(old);
		eh->recs[victim] = r;
	}
	return exehash_ref(r);
}

/* The smallest queued record still cached (not the one in progress) whose size is below `below`, or NULL. */
static struct exehash_rec *exehash_next(struct exehash *eh, uint64_t below)
{
	struct exehash_rec *best = NULL;

	for (size_t i = 0; i < eh->n; i++) {
		struct exehash_rec *r = eh->recs[i];

		if (r->state != EXEHASH_PENDING || r == eh->cur || r->size >= below)
			continue;
		if (!best || r->size < best->size || (r->size == best->size && r->used < best->used))
			best = r;
	}
	return best;
}

/* Open r's file if it is still the version the kernel named: the descriptor, or -1. */
static int exehash_open(struct exehash_rec *r)
{
	struct stat st;
	int fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd == -1)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_ino != r->ino ||
	    (r->dev && (uint64_t)st.st_dev != r->dev) || (uint64_t)st.st_size > EXEHASH_FILE_MAX) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Record the result of hashing r with ctx (and whether its path had another hash before). */
static void exehash_finish(struct exehash *eh, struct exehash_rec *r, struct sha256_ctx *ctx, bool ok)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	uint64_t key;

	if (!ok) {
		r->state = EXEHASH_FAILED;
		eh->st.failed++;
		return;
	}
	sha256_digest(ctx, sizeof d, d);
	for (size_t i = 0; i < sizeof d; i++)
		snprintf(r->hex + 2 * i, 3, "%02x", d[i]);
	r->state = EXEHASH_DONE;
	eh->st.hashed++;
	key = ng_hash64(r->path, strlen(r->path), 11);
	for (size_t i = 0; i < EXEHASH_PATHS; i++) {
		struct exehash_path *p = &eh->paths[i];

		if (p->key == key && p->hex[0]) {
			if (strcmp(p->hex, r->hex) != 0) {
				r->changed = true;
				memcpy(p->hex, r->hex, sizeof p->hex);
			}
			return;
		}
	}
	eh->paths[eh->path_next].key = key;
	memcpy(eh->paths[eh->path_next].hex, r->hex, sizeof r->hex);
	eh->path_next = (eh->path_next + 1) % EXEHASH_PATHS;
}

/* Hash a small file in one go (beside a large one in progress); the bytes read. */
static size_t exehash_whole(struct exehash *eh, struct exehash_rec *r)
{
	struct sha256_ctx ctx;
	size_t done = 0;
	ssize_t n;
	int fd = exehash_open(r);

	if (fd == -1) {
		exehash_finish(eh, r, NULL, false);
		return 0;
	}
	sha256_init(&ctx);
	while (done <= EXEHASH_SMALL * 2 && ((n = read(fd, eh->buf, EXEHASH_CHUNK)) > 0 || (n < 0 && errno == EINTR))) {
		if (n < 0)
			continue;
		sha256_update(&ctx, (size_t)n, eh->buf);
		done += (size_t)n;
	}
	close(fd);
	eh->st.bytes += done;
	exehash_finish(eh, r, &ctx, n == 0);	/* a file that grew past twice its size is given up */
	return done;
}

void exehash_run(struct exehash *eh)
{
	ng_time t0 = time_mono();
	size_t done = 0;

	if (!eh)
		return;
	while (done < EXEHASH_BYTES_PER_RUN && time_mono() - t0 < EXEHASH_US_PER_RUN) {
		struct exehash_rec *small;
		ssize_t n;

		if (eh->cur && eh->cur->size > EXEHASH_SMALL && (small = exehash_next(eh, EXEHASH_SMALL + 1)) != NULL) {
			done += exehash_whole(eh, small);	/* small ones first, the large one waits */
			continue;
		}
		if (!eh->cur) {
			eh->cur = exehash_ref(exehash_next(eh, UINT64_MAX));
			if (!eh->cur)
				return;
			if ((eh->fd = exehash_open(eh->cur)) == -1) {
				exehash_finish(eh, eh->cur, NULL, false);
				exehash_unref(eh->cur);
				eh->cur = NULL;
				continue;
			}
			sha256_init(&eh->ctx);
		}
		n = read(eh->fd, eh->buf, EXEHASH_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(eh->fd);
			eh->fd = -1;
			exehash_finish(eh, eh->cur, &eh->ctx, n == 0);
			exehash_unref(eh->cur);
			eh->cur = NULL;
			continue;
		}
		sha256_update(&eh->ctx, (size_t)n, eh->buf);
		done += (size_t)n;
		eh->st.bytes += (uint64_t)n;
	}
}

void exehash_get_stats(const struct exehash *eh, struct exehash_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!eh)
		return;
	*out = eh->st;
	for (size_t i = 0; i < eh->n; i++)
		out->pending += eh->recs[i]->state == EXEHASH_PENDING;
	out->memory_bytes = sizeof *eh + EXEHASH_CHUNK + eh->n * (sizeof(struct exehash_rec) + 128);
}
