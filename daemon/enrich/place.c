/* SPDX-License-Identifier: BSD-2-Clause */
/* place.c: the GeoIP enrichment: looks up each flow's public remote end once, when the flow starts. */
#include "place.h"

#include "geoip.h"

/* Only public addresses have a place; private and special ones stay NULL. */
static void *place_flow_start(void *self, const struct flow *f)
{
	if (f->remote_scope != NG_SCOPE_PUBLIC)
		return NULL;
	return geoip_lookup(self, flow_remote_ip(f));
}

/* Drop a flow's reference to its result. */
static void place_release(void *value)
{
	geo_info_unref(value);
}

/* "geo", "asn" and "as_org" (docs/api.md). */
static void place_json(const void *value, struct strbuf *sb)
{
	geo_info_json(value, sb);
}

/* "geoip": the lookup cache's counters. */
static void place_stats(const void *self, cJSON *o)
{
	struct geoip_stats st;

	geoip_get_stats(self, &st);
	cJSON_AddNumberToObject(o, "lookups", (double)st.lookups);
	cJSON_AddNumberToObject(o, "cache_hits", (double)st.cache_hits);
	cJSON_AddNumberToObject(o, "not_found", (double)st.not_found);
	cJSON_AddNumberToObject(o, "errors", (double)st.errors);
	cJSON_AddNumberToObject(o, "cached", (double)st.cached);
	cJSON_AddNumberToObject(o, "results", (double)st.results);
	cJSON_AddNumberToObject(o, "names", (double)st.names);
}

const struct enrichment_kind place_enrichment = {
	.name = "geoip",
	.flow_start = place_flow_start,
	.release = place_release,
	.json = place_json,
	.stats = place_stats,
};
