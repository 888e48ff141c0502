/* SPDX-License-Identifier: BSD-2-Clause */
/* upload.h: large uploads: far more sent than received to one destination, against fixed floors and the host's own habit. */
#ifndef NG_UPLOAD_H
#define NG_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "util.h"

/*
 * One entry per (local, remote) pair, at most max_keys, counting bytes in a
 * window of UPLOAD_WINDOW (1 hour) from the pair's first bytes; one entry per
 * local host (max_keys / 16, within 16..4096) keeps a running baseline of
 * what it uploads to one destination in one window. Least recently used
 * entries are evicted (a pair's window is added to the baseline first).
 */
struct upload_table;

struct upload_result {
	bool large;
	uint64_t sent, received;	/* in the pair's current window */
	double ratio;			/* sent / received (received 0 counts as 1) */
	ng_time since;			/* start of the window */
	ng_time last;			/* time of the latest bytes */
	bool first_contact;		/* the window began with a first contact */
	bool over_baseline;		/* above this host's usual upload per destination per hour */
	double baseline_bytes;		/* that usual limit (0 while the baseline is not ready) */
};

struct upload_table *upload_table_create(size_t max_keys);
void upload_table_destroy(struct upload_table *ut);
/* Add bytes sent/received to remote at t; first_contact says the remote is new in the window. */
void upload_add(struct upload_table *ut, const ng_addr *local, const ng_addr *remote, uint64_t sent,
		uint64_t received, bool first_contact, ng_time t, struct upload_result *out);
/* "sent 312 MB, received 2 MB, in 41 min, to a new destination" into buf. */
char *upload_reason(const struct upload_result *r, char *buf, size_t len);
/* Bytes held (fixed from create on). */
size_t upload_memory(const struct upload_table *ut);

#endif
