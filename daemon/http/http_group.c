/* SPDX-License-Identifier: BSD-2-Clause */
/* http_group.c: /flows?group=: flows summed per destination (registrable domain, else address) or per program. */
#include "http_group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "engine.h"
#include "events.h"
#include "flow.h"
#include "geoip.h"
#include "http.h"
#include "proc.h"
#include "regdomain.h"
#include "whitelist.h"

/*
 * DESIGN
 *
 * Grouping reads a flat struct group_in per flow, so the live table and the
 * history store's flow objects are grouped by the same code. Each flow gets
 * its key, the flows are sorted by key, and each run of equal keys is one
 * group: no hash table, and the groups' totals are plain sums over the same
 * flows a client would sum from /flows with the same filter.
 */

/* A flow's group key, its kind and label. */
struct keyed {
	const struct group_in *f;
	char key[320];
	const char *kind;
	const char *label;		/* NULL: the key */
};

/* Fill one flow's key. */
static void key_make(enum group_kind kind, const struct group_in *f, struct keyed *k)
{
	k->f = f;
	k->label = NULL;
	if (kind == GROUP_DESTINATION) {
		if (f->domain && regdomain_of(f->domain, k->key, sizeof k->key)) {
			k->kind = "domain";
		} else if (f->domain && !f->remote_ip) {
			snprintf(k->key, sizeof k->key, "%s", f->domain);
			k->kind = "domain";
		} else {
			snprintf(k->key, sizeof k->key, "%s", f->remote_ip ? f->remote_ip : "");
			k->kind = "address";
		}
		return;
	}
	if (f->exe) {
		if (f->sha256)
			snprintf(k->key, sizeof k->key, "%s@%s", f->exe, f->sha256);
		else
			snprintf(k->key, sizeof k->key, "%s", f->exe);
		k->kind = "exe";
		k->label = f->proc_name;
	} else if (f->proc_name) {
		snprintf(k->key, sizeof k->key, "%s", f->proc_name);
		k->kind = "name";
	} else {
		k->key[0] = '\0';
		k->kind = "none";
		k->label = "(no process)";
	}
}

/* qsort comparator: by key, then id. */
static int keyed_cmp(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;
	int r = strcmp(a->key, b->key);

	if (r)
		return r;
	return a->f->id < b->f->id ? -1 : a->f->id > b->f->id;
}

/* A place and its flow count, while a group is summed. */
struct place {
	const char *country, *city;
	uint64_t flows;
};

/* qsort comparator: most flows first, then by country and city. */
static int place_cmp(const void *pa, const void *pb)
{
	const struct place *a = pa, *b = pb;
	int r;

	if (a->flows != b->flows)
		return a->flows > b->flows ? -1 : 1;
	r = strcmp(a->country ? a->country : "", b->country ? b->country : "");
	return r ? r : strcmp(a->city ? a->city : "", b->city ? b->city : "");
}

/* Strings equal, NULL equal to NULL. */
static bool eq(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* One group, summed; sort keys kept beside its JSON. */
struct group_out {
	cJSON *o;
	int attention;
	uint64_t bytes;
	const char *key;
};

/* qsort comparator: highest attention, most bytes, then key. */
static int group_cmp(const void *pa, const void *pb)
{
	const struct group_out *a = pa, *b = pb;

	if (a->attention != b->attention)
		return a->attention > b->attention ? -1 : 1;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return strcmp(a->key, b->key);
}

/* Sum one run of flows with the same key into a group object. */
static struct group_out group_make(enum group_kind kind, const struct keyed *k, size_t n, ng_time from, ng_time bucket)
{
	struct group_out g = {0};
	struct place *pl = xcalloc(n, sizeof *pl);
	const char **addrs = xcalloc(n, sizeof *addrs), **ctry = xcalloc(n, sizeof *ctry);
	uint64_t pk[2] = {0, 0}, by[2] = {0, 0}, active = 0;
	size_t npl = 0, naddr = 0, nctry = 0;
	int attn = 0, verdict = 0;
	ng_time first = INT64_MAX, last = INT64_MIN;
	unsigned act[GROUP_BUCKETS] = {0};
	cJSON *o = cJSON_CreateObject(), *arr;
	char t[NG_TIMESTRLEN];

	for (size_t i = 0; i < n; i++) {
		const struct group_in *f = k[i].f;
		size_t j;

		for (int d = 0; d < 2; d++) {
			pk[d] += f->packets[d];
			by[d] += f->bytes[d];
		}
		active += f->active;
		attn = NG_MAX(attn, f->attention);
		verdict = NG_MAX(verdict, f->verdict);
		first = NG_MIN(first, f->first);
		last = NG_MAX(last, f->last);
		for (j = 0; j < naddr && !eq(addrs[j], f->remote_ip); j++)
			;
		if (j == naddr && f->remote_ip)
			addrs[naddr++] = f->remote_ip;
		if (f->country) {
			for (j = 0; j < npl && !(eq(pl[j].country, f->country) && eq(pl[j].city, f->city)); j++)
				;
			if (j == npl)
				pl[npl++] = (struct place){f->country, f->city, 0};
			pl[j].flows++;
		}
		if (bucket > 0) {
			int64_t b0 = (f->first - from) / bucket, b1 = (f->last - from) / bucket;

			for (int64_t b = NG_MAX(b0, 0); b <= b1 && b < GROUP_BUCKETS; b++)
				act[b]++;
		}
	}
	if (npl > 1)
		qsort(pl, npl, sizeof *pl, place_cmp);
	/* Countries, most flows first: the places are in that order already when summed per country. */
	{
		uint64_t *cf = xcalloc(npl + 1, sizeof *cf);

		for (size_t i = 0; i < npl; i++) {
			size_t j;

			for (j = 0; j < nctry && !eq(ctry[j], pl[i].country); j++)
				;
			if (j == nctry)
				ctry[nctry++] = pl[i].country;
			cf[j] += pl[i].flows;
		}
		/* Stable insertion sort by flows, descending. */
		for (size_t i = 1; i < nctry; i++) {
			for (size_t j = i; j > 0 && cf[j] > cf[j - 1]; j--) {
				uint64_t tf = cf[j];
				const char *tc = ctry[j];

				cf[j] = cf[j - 1];
				ctry[j] = ctry[j - 1];
				cf[j - 1] = tf;
				ctry[j - 1] = tc;
			}
		}
		free(cf);
	}
	cJSON_AddStringToObject(o, "key", k[0].key);
	cJSON_AddStringToObject(o, "label", k[0].label ? k[0].label : k[0].key);
	cJSON_AddStringToObject(o, "kind", k[0].kind);
	cJSON_AddNumberToObject(o, "flows", (double)n);
	cJSON_AddNumberToObject(o, "active", (double)active);
	cJSON_AddNumberToObject(o, "packets_sent", (double)pk[0]);
	cJSON_AddNumberToObject(o, "packets_received", (double)pk[1]);
	cJSON_AddNumberToObject(o, "bytes_sent", (double)by[0]);
	cJSON_AddNumberToObject(o, "bytes_received", (double)by[1]);
	cJSON_AddStringToObject(o, "first_seen", time_format(first, t, sizeof t));
	cJSON_AddStringToObject(o, "last_seen", time_format(last, t, sizeof t));
	cJSON_AddStringToObject(o, "attention", attention_name((enum ng_attention)attn));
	if (verdict > 0)
		cJSON_AddStringToObject(o, "verdict", wl_verdict_name((enum wl_verdict)verdict));
	else
		cJSON_AddNullToObject(o, "verdict");
	cJSON_AddNumberToObject(o, "addresses", (double)naddr);
	arr = cJSON_AddArrayToObject(o, "countries");
	for (size_t i = 0; i < nctry; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(ctry[i]));
	arr = cJSON_AddArrayToObject(o, "places");
	for (size_t i = 0; i < npl && i < GROUP_PLACES; i++) {
		cJSON *p = cJSON_CreateObject();

		cJSON_AddStringToObject(p, "country", pl[i].country);
		if (pl[i].city)
			cJSON_AddStringToObject(p, "city", pl[i].city);
		else
			cJSON_AddNullToObject(p, "city");
		cJSON_AddNumberToObject(p, "flows", (double)pl[i].flows);
		cJSON_AddItemToArray(arr, p);
	}
	cJSON_AddNumberToObject(o, "places_count", (double)npl);
	if (kind == GROUP_PROCESS && k[0].f->proc_name) {
		cJSON *p = cJSON_AddObjectToObject(o, "process");
		const struct group_in *f = k[0].f;

		cJSON_AddStringToObject(p, "name", f->proc_name);
		if (f->exe)
			cJSON_AddStringToObject(p, "exe", f->exe);
		else
			cJSON_AddNullToObject(p, "exe");
		if (f->sha256)
			cJSON_AddStringToObject(p, "sha256", f->sha256);
		else
			cJSON_AddNullToObject(p, "sha256");
	} else {
		cJSON_AddNullToObject(o, "process");
	}
	arr = cJSON_AddArrayToObject(o, "activity");
	for (int b = 0; b < GROUP_BUCKETS; b++)
		cJSON_AddItemToArray(arr, cJSON_CreateNumber(act[b]));
	arr = cJSON_AddArrayToObject(o, "ids");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)k[i].f->id));
	free(pl);
	free(addrs);
	free(ctry);
	g.o = o;
	g.attention = attn;
	g.bytes = by[0] + by[1];
	g.key = cJSON_GetObjectItem(o, "key")->valuestring;
	return g;
}

enum MHD_Result http_group_send(struct http_conn *c, enum group_kind kind, const struct group_in *in, size_t n,
				uint64_t limit, cJSON *doc)
{
	struct keyed *k = xcalloc(n ? n : 1, sizeof *k);
	struct group_out *g = xcalloc(n ? n : 1, sizeof *g);
	size_t ng = 0;
	ng_time from = INT64_MAX, to = INT64_MIN, bucket = 0;
	cJSON *act, *arr;
	char t[NG_TIMESTRLEN];

	for (size_t i = 0; i < n; i++) {
		key_make(kind, &in[i], &k[i]);
		from = NG_MIN(from, in[i].first);
		to = NG_MAX(to, in[i].last);
	}
	cJSON_AddStringToObject(doc, "group", kind == GROUP_DESTINATION ? "destination" : "process");
	act = cJSON_AddObjectToObject(doc, "activity");
	if (n) {
		from -= ((from % NG_USEC) + NG_USEC) % NG_USEC;	/* whole seconds */
		bucket = ((to - from) / NG_USEC / GROUP_BUCKETS + 1) * NG_USEC;
		cJSON_AddStringToObject(act, "from", time_format(from, t, sizeof t));
		cJSON_AddStringToObject(act, "to", time_format(from + bucket * GROUP_BUCKETS, t, sizeof t));
	} else {
		cJSON_AddNullToObject(act, "from");
		cJSON_AddNullToObject(act, "to");
	}
	cJSON_AddNumberToObject(act, "buckets", GROUP_BUCKETS);
	cJSON_AddNumberToObject(act, "bucket_s", (double)(bucket / NG_USEC));
	if (n > 1)
		qsort(k, n, sizeof *k, keyed_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && strcmp(k[j].key, k[i].key) == 0)
			j++;
		g[ng++] = group_make(kind, &k[i], j - i, from, bucket);
		i = j;
	}
	if (ng > 1)
		qsort(g, ng, sizeof *g, group_cmp);
	arr = cJSON_AddArrayToObject(doc, "groups");
	for (size_t i = 0; i < ng; i++) {
		if (i < limit)
			cJSON_AddItemToArray(arr, g[i].o);
		else
			cJSON_Delete(g[i].o);
	}
	free(k);
	free(g);
	return http_json(c, 200, doc);
}

enum MHD_Result http_group_flows(struct http_conn *c, enum group_kind kind, struct flow **v, size_t n, uint64_t limit)
{
	struct http_context *ctx = c->srv->ctx;
	struct group_in *in = xcalloc(n ? n : 1, sizeof *in);
	char (*ra)[NG_ADDRSTRLEN] = xcalloc(n ? n : 1, sizeof *ra);
	cJSON *doc = cJSON_CreateObject();
	char t[NG_TIMESTRLEN];
	enum MHD_Result ret;

	for (size_t i = 0; i < n; i++) {
		const struct flow *f = v[i];
		struct group_in *g = &in[i];

		g->id = f->id;
		g->remote_ip = addr_format(flow_remote_ip(f), ra[i], sizeof ra[i]);
		g->domain = flow_domain(f);
		if (f->proc) {
			g->proc_name = f->proc->name;
			g->exe = f->proc->exe;
		}
		if (f->geo && f->geo->country[0]) {
			g->country = f->geo->country;
			g->city = f->geo->city;
		}
		for (int d = 0; d < 2; d++) {
			g->packets[d] = f->packets[d];
			g->bytes[d] = f->bytes[d];
		}
		g->first = f->first_seen;
		g->last = flow_last_seen(f);
		g->attention = f->attention;
		g->verdict = engine_flow_verdict(f);
		g->active = f->end_reason == FLOW_END_NONE;
	}
	cJSON_AddStringToObject(doc, "generated", time_format(time_now(), t, sizeof t));
	cJSON_AddNumberToObject(doc, "last_event_id", ctx->events ? (double)events_last_id(ctx->events) : 0);
	ret = http_group_send(c, kind, in, n, limit, doc);
	free(in);
	free(ra);
	return ret;
}
