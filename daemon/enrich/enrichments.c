/* SPDX-License-Identifier: BSD-2-Clause */
/* enrichments.c: the table of enrichments, one row per slot of slots.h. */
#include "enrich.h"

#include "place.h"
#include "proc_enrich.h"

const struct enrichment_kind *const enrichment_kinds[ENRICH_SLOTS] = {
	[ENRICH_GEO] = &place_enrichment,
	[ENRICH_PROC] = &proc_enrichment,
};

void enrich_json(const struct flow *f, struct strbuf *sb)
{
	for (int s = 0; s < ENRICH_SLOTS; s++)
		enrichment_kinds[s]->json(f->slot[s], sb);
}

void enrich_release(struct flow *f)
{
	for (int s = 0; s < ENRICH_SLOTS; s++) {
		if (f->slot[s])
			enrichment_kinds[s]->release(f->slot[s]);
		f->slot[s] = NULL;
	}
}
