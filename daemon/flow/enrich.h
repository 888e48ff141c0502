/* SPDX-License-Identifier: BSD-2-Clause */
/* enrich.h: one interface for every enrichment the engine runs on a flow (GeoIP, process, ...). */
#ifndef NG_ENRICH_H
#define NG_ENRICH_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "flow.h"
#include "slots.h"
#include "util.h"

/*
 * Deliver a late value for a flow's slot; the callee owns the reference. The
 * value already in the slot, again, says it completed in place (its JSON
 * changed): the flow is published again. Any other value for a filled slot is
 * dropped.
 */
typedef void (*enrich_answer_fn)(void *arg, uint64_t flow_id, enum enrich_slot slot, void *value);

/*
 * What an enrichment does, called by the engine with the enrichment's own
 * state (`self`, opened by setup.c from the configuration; NULL turns it
 * off). Values are shared, reference-counted and immutable once in a slot.
 */
struct enrichment_kind {
	const char *name;	/* key of its counters in /api/stats */
	/* A flow started (ends, orientation and scope known): its value now, or NULL. */
	void *(*flow_start)(void *self, const struct flow *f);
	/* Optional, on the housekeeping tick: hand late values over with answer(arg, ...). */
	void (*poll)(void *self, ng_time wall, enrich_answer_fn answer, void *arg);
	/* Drop one reference to a value (never NULL). */
	void (*release)(void *value);
	/* Append its members of the flow object (",\"key\":...", nulls when value is NULL). */
	void (*json)(const void *value, struct strbuf *sb);
	/* Optional: its counters as members of obj. */
	void (*stats)(const void *self, cJSON *obj);
};

/* The enrichments, indexed by slot (enrichments.c). */
extern const struct enrichment_kind *const enrichment_kinds[ENRICH_SLOTS];

/* Every enrichment's members of f's JSON object, in slot order. */
void enrich_json(const struct flow *f, struct strbuf *sb);
/* Release every slot of f (before the table frees it). */
void enrich_release(struct flow *f);

#endif
