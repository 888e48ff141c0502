/* SPDX-License-Identifier: BSD-2-Clause */
/* http_history.c: GET /flows?at=T, /api/history and /api/history/summary, served from the history store. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "filter.h"
#include "history.h"
#include "http_api.h"
#include "http_group.h"
#include "regdomain.h"
#include "whitelist.h"

#define HISTORY_PAGE_DEFAULT 500
#define HISTORY_PAGE_MAX 5000

/* A query parameter's value, or NULL when absent. */
static const char *arg_value(struct http_conn *c, const char *name)
{
	const char *v;

	if (MHD_lookup_connection_value_n(c->mc, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v, NULL) != MHD_YES)
		return NULL;
	return v ? v : "";
}

/* True when the query has the parameter. */
static bool arg_present(struct http_conn *c, const char *name)
{
	return arg_value(c, name) != NULL;
}

/* A string member of o, or NULL. */
static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A number member of o, or 0. */
static double jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* A time member of o (RFC 3339), or 0. */
static ng_time jtime(const cJSON *o, const char *k)
{
	ng_time t = 0;
	const char *s = jstr(o, k);

	if (s)
		time_parse(s, &t);
	return t;
}

/* Rank of a verdict name (enum wl_verdict), 0 for none. */
static int verdict_rank(const char *s)
{
	int v = s ? wl_verdict_parse(s) : -1;

	return v < 0 ? 0 : v;
}

/* Fill a filter view from a flow object. */
static void json_view(const cJSON *o, struct filter_view *v)
{
	const cJSON *geo = cJSON_GetObjectItemCaseSensitive(o, "geo");
	const cJSON *proc = cJSON_GetObjectItemCaseSensitive(o, "process");
	const cJSON *sigs = cJSON_GetObjectItemCaseSensitive(o, "signals"), *s;

	memset(v, 0, sizeof *v);
	v->remote_ip = jstr(o, "remote_ip");
	v->local_ip = jstr(o, "local_ip");
	v->domain = jstr(o, "remote_domain");
	v->as_org = jstr(o, "as_org");
	v->asn = (uint32_t)jnum(o, "asn");
	if (cJSON_IsObject(geo)) {
		v->city = jstr(geo, "city");
		v->country = jstr(geo, "country");
		v->country_name = jstr(geo, "country_name");
	}
	if (cJSON_IsObject(proc)) {
		v->proc_name = jstr(proc, "name");
		v->exe = jstr(proc, "exe");
	}
	v->proto = jstr(o, "proto");
	v->proto_num = (int)jnum(o, "proto_num");
	v->attention = jstr(o, "attention");
	v->verdict = jstr(o, "verdict") ? jstr(o, "verdict") : "none";
	v->state = jstr(o, "state");
	cJSON_ArrayForEach(s, sigs) {
		if (v->nsignals < FILTER_MAX_SIGNALS && jstr(s, "name"))
			v->signals[v->nsignals++] = jstr(s, "name");
	}
	v->remote_port = (uint16_t)jnum(o, "remote_port");
	v->local_port = (uint16_t)jnum(o, "local_port");
	v->active = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "active"));
	v->initiator_local = jstr(o, "initiator") && strcmp(jstr(o, "initiator"), "local") == 0;
	v->trusted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "trusted_by_user"));
	v->evidence = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "evidence"));
	v->bytes_sent = (uint64_t)jnum(o, "bytes_sent");
	v->bytes_received = (uint64_t)jnum(o, "bytes_received");
}

/* Fill a grouping record from a flow object (strings borrowed from it). */
static void json_group_in(const cJSON *o, struct group_in *g)
{
	const cJSON *geo = cJSON_GetObjectItemCaseSensitive(o, "geo");
	const cJSON *proc = cJSON_GetObjectItemCaseSensitive(o, "process");

	memset(g, 0, sizeof *g);
	g->id = (uint64_t)jnum(o, "id");
	g->remote_ip = jstr(o, "remote_ip");
	g->domain = jstr(o, "remote_domain");
	if (cJSON_IsObject(proc)) {
		g->proc_name = jstr(proc, "name");
		g->exe = jstr(proc, "exe");
		g->sha256 = jstr(proc, "sha256");
	}
	if (cJSON_IsObject(geo) && jstr(geo, "country")) {
		g->country = jstr(geo, "country");
		g->city = jstr(geo, "city");
	}
	g->packets[0] = (uint64_t)jnum(o, "packets_sent");
	g->packets[1] = (uint64_t)jnum(o, "packets_received");
	g->bytes[0] = (uint64_t)jnum(o, "bytes_sent");
	g->bytes[1] = (uint64_t)jnum(o, "bytes_received");
	g->first = jtime(o, "first_seen");
	g->last = jtime(o, "last_seen");
	g->attention = jstr(o, "attention") ? attention_parse(jstr(o, "attention")) : 0;
	if (g->attention < 0)
		g->attention = 0;
	g->verdict = verdict_rank(jstr(o, "verdict"));
	g->active = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "active"));
}

enum MHD_Result http_history_at(struct http_conn *c, const char *at, const struct filter *filter, int group,
				uint64_t limit)
{
	struct http_context *ctx = c->srv->ctx;
	ng_time t, snap;
	int64_t run;
	cJSON *arr, *doc, *out, *o, *next;
	char err[300], tb[NG_TIMESTRLEN];
	size_t n = 0;

	if (time_parse(at, &t) != 0)
		return http_error(c, 400, "bad at '%.40s' (want an RFC 3339 time such as 2026-11-22T08:00:00Z)", at);
	if (arg_present(c, "sort") || arg_present(c, "format") || arg_present(c, "since"))
		return http_error(c, 400, "at= takes no sort=, format= or since= (the past list comes in id order, as JSON)");
	if (!ctx->history)
		return http_error(c, 404, "the flow history is off (--history-mb 0, or no state directory)");
	if (!(arr = history_at(ctx->history, t, &snap, &run, err, sizeof err)))
		return http_error(c, 404, "%s", err);
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "generated", time_format(time_now(), tb, sizeof tb));
	cJSON_AddStringToObject(doc, "at", time_format(t, tb, sizeof tb));
	cJSON_AddStringToObject(doc, "snapshot", time_format(snap, tb, sizeof tb));
	cJSON_AddNumberToObject(doc, "run", (double)run);
	/* Keep the flows that pass the filter (and the limit, unless grouping). */
	out = cJSON_CreateArray();
	for (o = arr->child; o; o = next) {
		struct filter_view v;

		next = o->next;
		json_view(o, &v);
		if (!filter_match(filter, &v) || (!group && n >= limit))
			continue;
		cJSON_AddItemToArray(out, cJSON_DetachItemViaPointer(arr, o));
		n++;
	}
	cJSON_Delete(arr);
	if (group) {
		struct group_in *in = xcalloc(n ? n : 1, sizeof *in);
		size_t i = 0;
		enum MHD_Result ret;

		cJSON_ArrayForEach(o, out)
			json_group_in(o, &in[i++]);
		ret = http_group_send(c, (enum group_kind)group, in, n, limit, doc);
		free(in);
		cJSON_Delete(out);
		return ret;
	}
	cJSON_AddItemToObject(doc, "flows", out);
	return http_json(c, 200, doc);
}

/* Parse from= and to= (both optional); -1 after answering 400. */
static int range_parse(struct http_conn *c, ng_time *from, ng_time *to, enum MHD_Result *ret)
{
	const char *v;

	*from = *to = NG_TIME_NONE;
	if ((v = arg_value(c, "from")) && time_parse(v, from) != 0) {
		*ret = http_error(c, 400, "bad from '%.40s' (want an RFC 3339 time such as 2026-11-22T08:00:00Z)", v);
		return -1;
	}
	if ((v = arg_value(c, "to")) && time_parse(v, to) != 0) {
		*ret = http_error(c, 400, "bad to '%.40s' (want an RFC 3339 time such as 2026-11-22T08:00:00Z)", v);
		return -1;
	}
	if (*from != NG_TIME_NONE && *to != NG_TIME_NONE && *to < *from) {
		*ret = http_error(c, 400, "to= is before from=");
		return -1;
	}
	return 0;
}

/* Add the range's ends to a document. */
static void range_add(cJSON *doc, ng_time from, ng_time to)
{
	char tb[NG_TIMESTRLEN];

	if (from != NG_TIME_NONE)
		cJSON_AddStringToObject(doc, "from", time_format(from, tb, sizeof tb));
	else
		cJSON_AddNullToObject(doc, "from");
	if (to != NG_TIME_NONE)
		cJSON_AddStringToObject(doc, "to", time_format(to, tb, sizeof tb));
	else
		cJSON_AddNullToObject(doc, "to");
}

/* Collecting one page of /api/history. */
struct page {
	struct filter *filter;
	cJSON *flows;
	size_t n, limit;
	int64_t run;
	uint64_t id;
	ng_time first;
	bool more;
};

static bool page_cb(void *arg, cJSON *flow, int64_t run, uint64_t id, ng_time first, bool *keep)
{
	struct page *p = arg;
	struct filter_view v;

	if (p->n == p->limit) {
		p->more = true;
		return false;
	}
	json_view(flow, &v);
	if (!filter_match(p->filter, &v))
		return true;
	cJSON_AddItemToArray(p->flows, flow);
	*keep = true;
	p->n++;
	p->run = run;
	p->id = id;
	p->first = first;
	return true;
}

enum MHD_Result http_api_history(struct http_conn *c, const char *url)
{
	static const char *const known[] = {"from", "to", "cursor", "limit", "q", NULL};
	struct http_context *ctx = c->srv->ctx;
	struct page p = {0};
	enum MHD_Result ret;
	ng_time from, to;
	int64_t crun = 0;
	uint64_t cid = 0, lim = HISTORY_PAGE_DEFAULT;
	ng_time cfirst = INT64_MIN;
	const char *v;
	char err[400], cur[80];
	cJSON *doc;

	(void)url;
	if (!http_api_check_args(c, known, &ret))
		return ret;
	if (range_parse(c, &from, &to, &ret) != 0)
		return ret;
	if ((v = arg_value(c, "limit")) && parse_uint(v, 1, HISTORY_PAGE_MAX, &lim) != 0)
		return http_error(c, 400, "bad limit '%.40s' (want 1 to %d)", v, HISTORY_PAGE_MAX);
	if ((v = arg_value(c, "cursor"))) {
		long long r, f;
		unsigned long long i;
		int used = 0;

		if (sscanf(v, "%lld:%llu:%lld%n", &r, &i, &f, &used) != 3 || v[used] != '\0')
			return http_error(c, 400, "bad cursor '%.40s' (pass next_cursor of the previous page unchanged)", v);
		crun = r;
		cid = i;
		cfirst = f;
	}
	if (!ctx->history)
		return http_error(c, 404, "the flow history is off (--history-mb 0, or no state directory)");
	if ((v = arg_value(c, "q")) && !(p.filter = filter_parse(v, err, sizeof err)))
		return http_error(c, 400, "%s", err);
	p.flows = cJSON_CreateArray();
	p.limit = lim;
	if (history_flows(ctx->history, from, to, crun, cid, cfirst, page_cb, &p, err, sizeof err) != 0) {
		filter_free(p.filter);
		cJSON_Delete(p.flows);
		return http_error(c, 500, "%s", err);
	}
	filter_free(p.filter);
	doc = cJSON_CreateObject();
	range_add(doc, from, to);
	cJSON_AddItemToObject(doc, "flows", p.flows);
	if (p.more) {
		snprintf(cur, sizeof cur, "%lld:%llu:%lld", (long long)p.run, (unsigned long long)p.id, (long long)p.first);
		cJSON_AddStringToObject(doc, "next_cursor", cur);
	} else {
		cJSON_AddNullToObject(doc, "next_cursor");
	}
	return http_json(c, 200, doc);
}

/* Distinct strings, a small open list (summaries of a person's time away stay small). */
struct strset {
	char **v;
	size_t n, cap;
};

static void strset_add(struct strset *s, const char *x)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i], x) == 0)
			return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xrealloc(s->v, s->cap * sizeof *s->v);
	}
	s->v[s->n++] = xstrdup(x);
}

static void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

/* Summing a range for /api/history/summary. */
struct summary {
	uint64_t flows, sent, received, look_flows;
	struct strset fresh, look;
};

/* The destination key of a flow object (as group=destination makes it) into buf. */
static const char *dest_key(const cJSON *o, char *buf, size_t len)
{
	const char *d = jstr(o, "remote_domain");

	if (d && regdomain_of(d, buf, len))
		return buf;
	snprintf(buf, len, "%s", jstr(o, "remote_ip") ? jstr(o, "remote_ip") : "");
	return buf;
}

/* True when a direction of the flow object was a first contact (anomalous, no known service explains it). */
static bool first_contact(const cJSON *o)
{
	const cJSON *sigs = cJSON_GetObjectItemCaseSensitive(o, "signals"), *s;

	cJSON_ArrayForEach(s, sigs) {
		if (jstr(s, "name") && strcmp(jstr(s, "name"), "first_contact") == 0)
			return true;
	}
	return false;
}

static bool summary_cb(void *arg, cJSON *flow, int64_t run, uint64_t id, ng_time first, bool *keep)
{
	struct summary *s = arg;
	char key[320];
	const char *attn = jstr(flow, "attention");

	(void)run;
	(void)id;
	(void)first;
	(void)keep;
	s->flows++;
	s->sent += (uint64_t)jnum(flow, "bytes_sent");
	s->received += (uint64_t)jnum(flow, "bytes_received");
	if (first_contact(flow))
		strset_add(&s->fresh, dest_key(flow, key, sizeof key));
	if (attn && strcmp(attn, "high") == 0) {
		s->look_flows++;
		strset_add(&s->look, dest_key(flow, key, sizeof key));
	}
	return true;
}

enum MHD_Result http_api_history_summary(struct http_conn *c, const char *url)
{
	static const char *const known[] = {"from", "to", NULL};
	struct http_context *ctx = c->srv->ctx;
	struct summary s = {0};
	enum MHD_Result ret;
	ng_time from, to;
	char err[400], text[160];
	cJSON *doc;

	(void)url;
	if (!http_api_check_args(c, known, &ret))
		return ret;
	if (range_parse(c, &from, &to, &ret) != 0)
		return ret;
	if (!ctx->history)
		return http_error(c, 404, "the flow history is off (--history-mb 0, or no state directory)");
	if (history_flows(ctx->history, from, to, 0, 0, INT64_MIN, summary_cb, &s, err, sizeof err) != 0) {
		strset_free(&s.fresh);
		strset_free(&s.look);
		return http_error(c, 500, "%s", err);
	}
	doc = cJSON_CreateObject();
	range_add(doc, from, to);
	cJSON_AddNumberToObject(doc, "flows", (double)s.flows);
	cJSON_AddNumberToObject(doc, "bytes_sent", (double)s.sent);
	cJSON_AddNumberToObject(doc, "bytes_received", (double)s.received);
	cJSON_AddNumberToObject(doc, "new_destinations", (double)s.fresh.n);
	cJSON_AddNumberToObject(doc, "need_a_look", (double)s.look.n);
	cJSON_AddNumberToObject(doc, "need_a_look_flows", (double)s.look_flows);
	snprintf(text, sizeof text, "%zu new destination%s, %zu need%s a look", s.fresh.n, s.fresh.n == 1 ? "" : "s",
		 s.look.n, s.look.n == 1 ? "s" : "");
	cJSON_AddStringToObject(doc, "text", text);
	strset_free(&s.fresh);
	strset_free(&s.look);
	return http_json(c, 200, doc);
}
