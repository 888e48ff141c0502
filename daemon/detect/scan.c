/* SPDX-License-Identifier: BSD-2-Clause */
/* scan.c: outbound address scans: one local host trying many addresses on one port and getting no answer. */
#include "scan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lru.h"
#include "sketch.h"

/*
 * DESIGN
 *
 * Zeek's policy/misc/scan.zeek calls an address scan 25 distinct hosts with
 * failed connections on one port within 5 minutes (Scan::addr_scan_threshold
 * and addr_scan_interval); Slips (modules/network_discovery/
 * horizontal_portscan.py) counts distinct destination addresses of
 * not-established flows on one port within its 1-hour time window, from 5
 * up. netglobe uses Zeek's count with an episode instead of a fixed bucket:
 *
 *   an episode of (local, port, proto) is a run of attempts with no pause
 *   longer than SCAN_GAP (5 min, Zeek's interval); an episode that has not
 *   become a scan within SCAN_WINDOW (1 h, Slips' time window) starts over;
 *   it becomes a scan when it has tried at least SCAN_MIN_TARGETS (25)
 *   distinct addresses and at least SCAN_MIN_UNANSWERED (80%) of them never
 *   answered (Zeek and Slips count only failed or not-established attempts;
 *   the share keeps a busy client whose attempts mostly succeed out).
 *
 * Distinct addresses: the first SCAN_EXACT are kept as hashes and counted
 * exactly; past that two 1024-bit linear-counting maps estimate them (good
 * to a few per cent up to about 7000 addresses, capped there). Multicast,
 * broadcast and unspecified remotes are not counted.
 *
 * The finding id is a keyed hash of (local, port, proto, episode start): the
 * same for every flow of one episode, new for the next one.
 */

#define SCAN_GAP (5 * 60 * NG_USEC)
#define SCAN_WINDOW (60 * 60 * NG_USEC)
#define SCAN_MIN_TARGETS 25
#define SCAN_MIN_UNANSWERED 0.8
#define SCAN_BITS 1024
#define SCAN_EXACT 64

struct scan_entry {
	ng_time since, last;
	uint64_t finding_id;
	uint64_t local_hash;	/* for the finding id */
	uint16_t port;
	uint8_t proto;
	uint8_t nexact;
	uint32_t exact_unanswered;
	uint64_t exact[SCAN_EXACT];	/* hashes of the first distinct remotes */
	uint64_t exact_ans;		/* bit i: exact[i] answered at least once */
	uint64_t targets[SCAN_BITS / 64];
	uint64_t answered[SCAN_BITS / 64];
};

struct scan_table {
	struct lru *keys;
	struct scan_entry *e;
};

struct scan_table *scan_table_create(size_t max_keys)
{
	struct scan_table *st = xcalloc(1, sizeof *st);

	st->keys = lru_create(max_keys);
	st->e = xcalloc(lru_cap(st->keys), sizeof *st->e);
	return st;
}

void scan_table_destroy(struct scan_table *st)
{
	if (!st)
		return;
	lru_destroy(st->keys);
	free(st->e);
	free(st);
}

size_t scan_memory(const struct scan_table *st)
{
	return sizeof *st + lru_memory(st->keys) + lru_cap(st->keys) * sizeof *st->e;
}

/* Key of (local, port, proto). */
static uint64_t scan_key(const ng_addr *local, uint16_t port, uint8_t proto)
{
	uint8_t buf[sizeof(ng_addr) + 3];

	memcpy(buf, local, sizeof *local);
	buf[sizeof *local] = (uint8_t)(port >> 8);
	buf[sizeof *local + 1] = (uint8_t)port;
	buf[sizeof *local + 2] = proto;
	return ng_hash64(buf, sizeof buf, 0x7363616eULL);
}

/* Distinct remotes tried and unanswered (remotes that answered once count as answered). */
static void scan_counts(const struct scan_entry *e, uint32_t *targets, uint32_t *unanswered)
{
	if (e->nexact < SCAN_EXACT) {
		*targets = e->nexact;
		*unanswered = e->nexact - (uint32_t)__builtin_popcountll(e->exact_ans);
		return;
	}
	double all = sketch_estimate(e->targets, NULL, SCAN_BITS);
	double ans = sketch_estimate(e->answered, NULL, SCAN_BITS);

	*targets = (uint32_t)lround(all);
	*unanswered = all > ans ? (uint32_t)lround(all - ans) : 0;
}

/* Fill *out from an entry at time t. */
static void scan_fill(const struct scan_entry *e, ng_time t, struct scan_result *out)
{
	memset(out, 0, sizeof *out);
	out->port = e->port;
	out->proto = e->proto;
	out->since = e->since;
	out->last = e->last;
	scan_counts(e, &out->targets, &out->unanswered);
	if (e->finding_id && t - e->last <= SCAN_GAP) {
		out->scan = true;
		out->finding_id = e->finding_id;
	}
}

/* Start a new episode at t. */
static void episode_start(struct scan_entry *e, ng_time t)
{
	uint64_t lh = e->local_hash;
	uint16_t port = e->port;
	uint8_t proto = e->proto;

	memset(e, 0, sizeof *e);
	e->local_hash = lh;
	e->port = port;
	e->proto = proto;
	e->since = e->last = t;
}

void scan_attempt(struct scan_table *st, const ng_addr *local, const ng_addr *remote, uint16_t port, uint8_t proto,
		  bool answered, ng_time t, struct scan_result *out)
{
	uint64_t key = scan_key(local, port, proto);
	uint32_t i = lru_get(st->keys, key);
	struct scan_entry *e;
	enum ng_scope sc = addr_scope(remote);
	uint64_t h = ng_hash64(remote, sizeof *remote, key);
	uint32_t targets, unanswered;
	int k;

	if (i == LRU_NIL) {
		i = lru_put(st->keys, key, NULL, NULL);
		e = &st->e[i];
		e->local_hash = key;
		e->port = port;
		e->proto = proto;
		episode_start(e, t);
	}
	e = &st->e[i];
	if (t - e->last > SCAN_GAP || (!e->finding_id && t - e->since > SCAN_WINDOW))
		episode_start(e, t);
	if (t > e->last)
		e->last = t;
	if (sc == NG_SCOPE_MULTICAST || sc == NG_SCOPE_BROADCAST || sc == NG_SCOPE_UNSPECIFIED) {
		scan_fill(e, t, out);
		return;
	}
	for (k = 0; k < e->nexact && e->exact[k] != h; k++)
		;
	if (k == e->nexact && e->nexact < SCAN_EXACT)
		e->exact[e->nexact++] = h;
	if (k < SCAN_EXACT && answered)
		e->exact_ans |= 1ULL << k;
	sketch_add(e->targets, SCAN_BITS, h);
	if (answered)
		sketch_add(e->answered, SCAN_BITS, h);
	scan_counts(e, &targets, &unanswered);
	if (!e->finding_id && targets >= SCAN_MIN_TARGETS && unanswered >= SCAN_MIN_UNANSWERED * targets) {
		uint64_t id[3] = {e->local_hash, (uint64_t)e->port << 8 | e->proto, (uint64_t)e->since};

		e->finding_id = ng_hash64(id, sizeof id, 0x66696e64ULL) | 1;
	}
	scan_fill(e, t, out);
}

bool scan_lookup(struct scan_table *st, const ng_addr *local, uint16_t port, uint8_t proto, ng_time t,
		 struct scan_result *out)
{
	uint32_t i = lru_peek(st->keys, scan_key(local, port, proto));

	memset(out, 0, sizeof *out);
	out->port = port;
	out->proto = proto;
	if (i == LRU_NIL)
		return false;
	scan_fill(&st->e[i], t, out);
	return out->scan;
}

/* Name of an IP protocol number for reasons. */
static const char *proto_name(uint8_t proto, char *buf, size_t len)
{
	if (proto == 6)
		return "tcp";
	if (proto == 17)
		return "udp";
	if (proto == 132)
		return "sctp";
	snprintf(buf, len, "proto %u", proto);
	return buf;
}

char *scan_reason(const struct scan_result *r, char *buf, size_t len)
{
	char pb[16];
	double secs = (double)(r->last - r->since) / NG_USEC;

	if (len == 0)
		return buf;
	if (secs < 120)
		snprintf(buf, len, "tried %u addresses on port %u/%s, %u unanswered, in %.0f s", r->targets, r->port,
			 proto_name(r->proto, pb, sizeof pb), r->unanswered, secs);
	else
		snprintf(buf, len, "tried %u addresses on port %u/%s, %u unanswered, in %.0f min", r->targets, r->port,
			 proto_name(r->proto, pb, sizeof pb), r->unanswered, secs / 60);
	return buf;
}
