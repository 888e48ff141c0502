/* SPDX-License-Identifier: BSD-2-Clause */
/* scan.h: outbound address scans: one local host trying many addresses on one port and getting no answer. */
#ifndef NG_SCAN_H
#define NG_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "util.h"

/*
 * One entry per (local address, port, protocol), at most max_keys, least
 * recently used evicted. An episode is a run of attempts with no pause longer
 * than SCAN_GAP; a scan is declared inside an episode (see docs/detection.md)
 * and then keeps one finding_id until the episode ends.
 */
struct scan_table;

struct scan_result {
	bool scan;
	uint16_t port;
	uint8_t proto;
	uint32_t targets;	/* distinct remote addresses tried in the episode (estimated past 64) */
	uint32_t unanswered;	/* distinct remote addresses that did not answer */
	uint64_t finding_id;	/* stable for the episode; 0 when no scan */
	ng_time since;		/* first attempt of the episode */
	ng_time last;		/* latest attempt */
};

struct scan_table *scan_table_create(size_t max_keys);
void scan_table_destroy(struct scan_table *st);
/* An attempt from local to remote:port ended (or timed out), answered or not. */
void scan_attempt(struct scan_table *st, const ng_addr *local, const ng_addr *remote, uint16_t port, uint8_t proto,
		  bool answered, ng_time t, struct scan_result *out);
/* The state of (local, port, proto) at t without adding an attempt; returns out->scan. */
bool scan_lookup(struct scan_table *st, const ng_addr *local, uint16_t port, uint8_t proto, ng_time t,
		 struct scan_result *out);
/* "tried 214 addresses on port 445/tcp, 201 unanswered, in 3 min" into buf. */
char *scan_reason(const struct scan_result *r, char *buf, size_t len);
/* Bytes held (fixed from create on). */
size_t scan_memory(const struct scan_table *st);

#endif
