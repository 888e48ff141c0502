/* SPDX-License-Identifier: BSD-2-Clause */
/* slots.h: the enrichments' slots in every flow, one line per enrichment. */
#ifndef NG_SLOTS_H
#define NG_SLOTS_H

/*
 * The table of enrichments' slots: X(ENUM, member, value type). Each flow
 * has one pointer per line, reachable by name (f->geo) for the consumers
 * that read it and by number (f->slot[ENRICH_GEO]) for the engine, which
 * runs every enrichment the same way (enrich.h). Adding an enrichment adds
 * one line here and one row in enrichments.c.
 */
#define FLOW_ENRICHMENTS(X)                                                                      \
	X(GEO, geo, struct geo_info)		/* place.c: where the remote is, which network */ \
	X(PROC, proc, struct proc_info)		/* proc.c: the local program that owns the socket */

#define ENRICH_SLOT_ENUM_(U, l, T) ENRICH_##U,
enum enrich_slot {
	FLOW_ENRICHMENTS(ENRICH_SLOT_ENUM_)
	ENRICH_SLOTS
};
#undef ENRICH_SLOT_ENUM_

#define ENRICH_SLOT_DECL_(U, l, T) T;
FLOW_ENRICHMENTS(ENRICH_SLOT_DECL_)
#undef ENRICH_SLOT_DECL_

/* Inside struct flow: the slots as an array and, over the same bytes, by name. */
#define ENRICH_SLOT_MEMBER_(U, l, T) T *l;
#define ENRICH_SLOT_UNION            \
	union {                    \
		void *slot[ENRICH_SLOTS]; \
		struct {           \
			FLOW_ENRICHMENTS(ENRICH_SLOT_MEMBER_) \
		};                 \
	}

#endif
