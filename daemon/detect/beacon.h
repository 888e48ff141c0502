/* SPDX-License-Identifier: BSD-2-Clause */
/* beacon.h: find connections repeated at regular intervals (command-and-control beacons), in the manner of RITA. */
#ifndef NG_BEACON_H
#define NG_BEACON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/*
 * The caller names what repeats with a 64-bit key (for example a keyed hash
 * of local address, remote address, remote port and protocol, or of local
 * address and server name). Each key keeps its last BEACON_RING connection
 * starts and sizes; the table holds max_keys keys and drops the least
 * recently used one for a new key. See docs/detection.md for the rule.
 */
#define BEACON_RING 32

struct beacon_table;

struct beacon_result {
	bool beacon;		/* regular enough to call a beacon now */
	double score;		/* 0..1: mean of the sub-scores used */
	double period_s;	/* median gap between connection starts */
	double jitter_s;	/* median absolute deviation of the gaps */
	uint32_t connections;	/* connections seen with this key (all, not only the ring) */
	double ts_score;	/* 0..1: regularity of the gaps (Bowley skewness and MAD/median) */
	double ds_score;	/* 0..1: regularity of the sizes; 0 when too few are known */
	double span_score;	/* 0..1: gaps times period over the span: 1 when evenly spread, low for bursts */
	bool sizes_known;	/* ds_score was used (enough connections had ended) */
};

/* A table for at most max_keys keys (at least 1), all memory allocated now. */
struct beacon_table *beacon_table_create(size_t max_keys);
void beacon_table_destroy(struct beacon_table *bt);
/* A connection with this key started at t; *out is the judgement including this start. */
void beacon_conn_start(struct beacon_table *bt, uint64_t key, ng_time t, struct beacon_result *out);
/* That connection (started at `start`) ended having carried `bytes` (both directions). */
void beacon_conn_end(struct beacon_table *bt, uint64_t key, ng_time start, uint64_t bytes);
/* "every 5.0 s +- 0.3 s, 86 connections" into buf; returns buf. */
char *beacon_reason(const struct beacon_result *r, char *buf, size_t len);
/* Bytes held by the table (fixed from create on). */
size_t beacon_table_memory(const struct beacon_table *bt);

#endif
