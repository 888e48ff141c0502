/* SPDX-License-Identifier: BSD-2-Clause */
/* http_api.c: the JSON API: GET /flows (filters, sort, CSV), GET /flows/{id}, GET /api/stats, POST trust/forget. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "platform.h"

#include "engine.h"
#include "evidence.h"
#include "events.h"
#include "flow.h"
#include "flowjson.h"
#include "geoip.h"
#include "http_api.h"
#include "log.h"
#include "proc.h"
#include "whitelist.h"

/*
 * DESIGN
 *
 * Every query parameter is checked before any work: an unknown name, a
 * repeated one or a bad value gives 400 with a sentence naming the
 * parameter, so a typo never silently returns everything. Filters run on
 * the flow structs (no JSON is built for a flow that is filtered out); only
 * the flows that are sent get flowjson_object, the one place that shapes a
 * flow, printed one by one into a growing buffer rather than as one cJSON
 * tree of everything.
 */

#define FLOWS_MAX_LIMIT 10000000
#define FLOWS_MAX_LIST 16	/* values in a comma list */

enum flows_sort {
	SORT_ID = 0,
	SORT_BYTES,
	SORT_SENT,
	SORT_RECEIVED,
	SORT_PACKETS,
	SORT_FIRST_SEEN,
	SORT_LAST_SEEN,
	SORT_REMOTE,
	SORT_PORT,
	SORT_VERDICT,
	SORT_ATTENTION,
	SORT_COUNTRY,
	SORT_PROCESS,
	SORT_DOMAIN,
	SORT_PROTO,
};

static const struct {
	const char *name;
	enum flows_sort sort;
} flows_sorts[] = {
	{"id", SORT_ID},
	{"bytes", SORT_BYTES},
	{"sent", SORT_SENT},
	{"bytes_sent", SORT_SENT},
	{"received", SORT_RECEIVED},
	{"bytes_received", SORT_RECEIVED},
	{"packets", SORT_PACKETS},
	{"first_seen", SORT_FIRST_SEEN},
	{"first", SORT_FIRST_SEEN},
	{"last_seen", SORT_LAST_SEEN},
	{"last", SORT_LAST_SEEN},
	{"remote", SORT_REMOTE},
	{"remote_ip", SORT_REMOTE},
	{"port", SORT_PORT},
	{"remote_port", SORT_PORT},
	{"verdict", SORT_VERDICT},
	{"attention", SORT_ATTENTION},
	{"country", SORT_COUNTRY},
	{"process", SORT_PROCESS},
	{"domain", SORT_DOMAIN},
	{"remote_domain", SORT_DOMAIN},
	{"proto", SORT_PROTO},
};

/* A parsed /flows query. */
struct flows_query {
	unsigned verdicts;		/* bit (1 << enum wl_verdict); 0: any */
	unsigned attention;		/* bit (1 << enum ng_attention); 0: any */
	bool any_proto;
	bool protos[256];
	char countries[FLOWS_MAX_LIST][3];
	size_t ncountries;
	const char *process[FLOWS_MAX_LIST];
	size_t process_len[FLOWS_MAX_LIST];
	size_t nprocess;
	const char *q;			/* substring, any case */
	int active;			/* -1 any, 0 ended, 1 active */
	int since;			/* 0 none, 1 event id, 2 time */
	uint64_t since_id;
	ng_time since_time;
	enum flows_sort sort;
	bool desc;
	uint64_t limit;
	bool csv;
};

/* Parameters seen so far while checking a query (for repeats), and the first error. */
/* A query parameter's value, or NULL when absent (a name without '=' counts as the empty string). */
static const char *arg(struct http_conn *c, const char *name)
{
	const char *v;

	if (MHD_lookup_connection_value_n(c->mc, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v, NULL) != MHD_YES)
		return NULL;
	return v ? v : "";
}

/*
 * Split a comma list into items (at most FLOWS_MAX_LIST, none empty, each
 * shorter than itemlen) and call item_cb on each; -1 with a message in err.
 */
static int split_list(const char *name, const char *v, char items[][64], size_t *n, char *err, size_t errlen)
{
	const char *p = v;

	*n = 0;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 0) {
			snprintf(err, errlen, "%s= has an empty value", name);
			return -1;
		}
		if (len >= 64 || *n >= FLOWS_MAX_LIST) {
			snprintf(err, errlen, "%s= is too long (at most %d values of 63 bytes)", name, FLOWS_MAX_LIST);
			return -1;
		}
		memcpy(items[*n], p, len);
		items[*n][len] = '\0';
		(*n)++;
		if (!end)
			return 0;
		p = end + 1;
	}
}

/* Parse the /flows query; -1 with one sentence naming the parameter. */
static int flows_parse(struct http_conn *c, struct flows_query *fq, char *err, size_t errlen)
{
	char items[FLOWS_MAX_LIST][64];
	const char *v;
	size_t n;

	memset(fq, 0, sizeof *fq);
	fq->active = -1;
	fq->any_proto = true;
	fq->limit = UINT64_MAX;
	if ((v = arg(c, "verdict"))) {
		if (split_list("verdict", v, items, &n, err, errlen) != 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			int vd = strcasecmp(items[i], "none") == 0 ? WL_NONE : wl_verdict_parse(items[i]);

			if (vd < 0) {
				snprintf(err, errlen,
					 "bad verdict '%.63s' (use normal, anomalous, blocklisted, local or none; "
					 "a comma list for several)", items[i]);
				return -1;
			}
			fq->verdicts |= 1u << vd;
		}
	}
	if ((v = arg(c, "attention"))) {
		if (split_list("attention", v, items, &n, err, errlen) != 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			int a = attention_parse(items[i]);

			if (a < 0) {
				snprintf(err, errlen, "bad attention '%.63s' (use high, low or none; a comma list for several)",
					 items[i]);
				return -1;
			}
			fq->attention |= 1u << a;
		}
	}
	if ((v = arg(c, "proto"))) {
		if (split_list("proto", v, items, &n, err, errlen) != 0)
			return -1;
		fq->any_proto = false;
		for (size_t i = 0; i < n; i++) {
			int p = flowjson_proto_parse(items[i]);

			if (p < 0) {
				snprintf(err, errlen, "bad proto '%.63s' (use tcp, udp, icmp, icmpv6, sctp, a number 0-255 or ip-N)",
					 items[i]);
				return -1;
			}
			fq->protos[p] = true;
		}
	}
	if ((v = arg(c, "country"))) {
		if (split_list("country", v, items, &n, err, errlen) != 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			const char *x = items[i];

			if (strlen(x) != 2 || !((x[0] | 0x20) >= 'a' && (x[0] | 0x20) <= 'z') ||
			    !((x[1] | 0x20) >= 'a' && (x[1] | 0x20) <= 'z')) {
				snprintf(err, errlen, "bad country '%.63s' (want a two-letter ISO code such as DE)", x);
				return -1;
			}
			fq->countries[i][0] = (char)(x[0] & ~0x20);
			fq->countries[i][1] = (char)(x[1] & ~0x20);
			fq->countries[i][2] = '\0';
		}
		fq->ncountries = n;
	}
	if ((v = arg(c, "process"))) {
		/* Process names may hold commas in theory; take them from the raw value. */
		const char *p = v;

		for (;;) {
			const char *end = strchr(p, ',');
			size_t len = end ? (size_t)(end - p) : strlen(p);

			if (len == 0 || len > 255 || fq->nprocess >= FLOWS_MAX_LIST) {
				snprintf(err, errlen, "bad process= (want a process name, or a comma list of up to %d)",
					 FLOWS_MAX_LIST);
				return -1;
			}
			fq->process[fq->nprocess] = p;
			fq->process_len[fq->nprocess++] = len;
			if (!end)
				break;
			p = end + 1;
		}
	}
	if ((v = arg(c, "q"))) {
		if (strlen(v) > 256) {
			snprintf(err, errlen, "q= is longer than 256 bytes");
			return -1;
		}
		if (v[0])
			fq->q = v;
	}
	if ((v = arg(c, "active"))) {
		if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0) {
			fq->active = 1;
		} else if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0) {
			fq->active = 0;
		} else {
			snprintf(err, errlen, "bad active '%.40s' (use 1 for active flows, 0 for ended ones)", v);
			return -1;
		}
	}
	if ((v = arg(c, "since"))) {
		if (parse_uint(v, 0, UINT64_MAX, &fq->since_id) == 0) {
			fq->since = 1;
		} else if (strchr(v, '-') && time_parse(v, &fq->since_time) == 0) {
			fq->since = 2;
		} else {
			snprintf(err, errlen,
				 "bad since '%.40s' (want an event id, or an RFC 3339 time such as 2026-11-22T08:00:00Z)", v);
			return -1;
		}
	}
	if ((v = arg(c, "sort"))) {
		const char *k = v;
		bool found = false;

		if (*k == '-') {
			fq->desc = true;
			k++;
		}
		for (size_t i = 0; i < NG_ARRAY_LEN(flows_sorts); i++) {
			if (strcmp(k, flows_sorts[i].name) == 0) {
				fq->sort = flows_sorts[i].sort;
				found = true;
			}
		}
		if (!found) {
			snprintf(err, errlen,
				 "bad sort '%.40s' (use id, bytes, sent, received, packets, first_seen, last_seen, remote, "
				 "port, verdict, attention, country, process, domain or proto; a leading - sorts descending)", v);
			return -1;
		}
	}
	if ((v = arg(c, "limit"))) {
		if (parse_uint(v, 0, FLOWS_MAX_LIMIT, &fq->limit) != 0) {
			snprintf(err, errlen, "bad limit '%.40s' (want a whole number from 0 to %d)", v, FLOWS_MAX_LIMIT);
			return -1;
		}
	}
	if ((v = arg(c, "format"))) {
		if (strcmp(v, "csv") == 0) {
			fq->csv = true;
		} else if (strcmp(v, "json") != 0) {
			snprintf(err, errlen, "bad format '%.40s' (use json or csv)", v);
			return -1;
		}
	} else {
		const char *accept = http_header(c, "Accept");

		fq->csv = accept && strcasestr(accept, "text/csv") && !strcasestr(accept, "application/json");
	}
	return 0;
}

/* True when the flow passes every filter of the query. */
static bool flows_match(const struct flows_query *fq, const struct flow *f)
{
	if (fq->verdicts && !(fq->verdicts & (1u << engine_flow_verdict(f))))
		return false;
	if (fq->attention && !(fq->attention & (1u << f->attention)))
		return false;
	if (!fq->any_proto && !fq->protos[f->key.proto])
		return false;
	if (fq->active >= 0 && (f->end_reason == FLOW_END_NONE) != (fq->active == 1))
		return false;
	if (fq->since == 1 && !(f->event_id > fq->since_id))
		return false;
	if (fq->since == 2 && !(f->last_seen > fq->since_time))
		return false;
	if (fq->ncountries) {
		bool ok = false;

		for (size_t i = 0; f->geo && f->geo->country[0] && i < fq->ncountries; i++)
			ok |= strcmp(f->geo->country, fq->countries[i]) == 0;
		if (!ok)
			return false;
	}
	if (fq->nprocess) {
		bool ok = false;

		for (size_t i = 0; f->proc && f->proc->name && i < fq->nprocess; i++)
			ok |= strlen(f->proc->name) == fq->process_len[i] &&
			      memcmp(f->proc->name, fq->process[i], fq->process_len[i]) == 0;
		if (!ok)
			return false;
	}
	if (fq->q) {
		char a[NG_ADDRSTRLEN];

		if (!strcasestr(addr_format(flow_remote_ip(f), a, sizeof a), fq->q) &&
		    !(f->domain && strcasestr(f->domain, fq->q)) &&
		    !(f->geo && f->geo->as_org && strcasestr(f->geo->as_org, fq->q)) &&
		    !(f->proc && f->proc->name && strcasestr(f->proc->name, fq->q)))
			return false;
	}
	return true;
}

/* The flows a query selects, gathered by flow_table_foreach. */
struct flows_pick {
	const struct flows_query *fq;
	struct flow **v;
	size_t n, cap;
};

static void flows_pick_cb(void *arg, struct flow *f)
{
	struct flows_pick *p = arg;

	if (!flows_match(p->fq, f))
		return;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 1024;
		p->v = xrealloc(p->v, p->cap * sizeof *p->v);
	}
	p->v[p->n++] = f;
}

/* Compare two strings that may be NULL (NULL sorts as ""). */
static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b) ? 1 : 0)

/* qsort_r comparator: the query's key, then ascending id. */
static int flows_cmp(const void *pa, const void *pb, void *arg)
{
	const struct flows_query *fq = arg;
	const struct flow *a = *(struct flow *const *)pa, *b = *(struct flow *const *)pb;
	int r = 0;

	switch (fq->sort) {
	case SORT_ID:
		break;
	case SORT_BYTES:
		r = CMP(a->bytes[0] + a->bytes[1], b->bytes[0] + b->bytes[1]);
		break;
	case SORT_SENT:
		r = CMP(a->bytes[FLOW_SENT], b->bytes[FLOW_SENT]);
		break;
	case SORT_RECEIVED:
		r = CMP(a->bytes[FLOW_RECEIVED], b->bytes[FLOW_RECEIVED]);
		break;
	case SORT_PACKETS:
		r = CMP(a->packets[0] + a->packets[1], b->packets[0] + b->packets[1]);
		break;
	case SORT_FIRST_SEEN:
		r = CMP(a->first_seen, b->first_seen);
		break;
	case SORT_LAST_SEEN:
		r = CMP(a->last_seen, b->last_seen);
		break;
	case SORT_REMOTE:
		r = addr_compare(flow_remote_ip(a), flow_remote_ip(b));
		if (r == 0)
			r = CMP(flow_remote_port(a), flow_remote_port(b));
		break;
	case SORT_PORT:
		r = CMP(flow_remote_port(a), flow_remote_port(b));
		break;
	case SORT_VERDICT:
		r = CMP(engine_flow_verdict(a), engine_flow_verdict(b));
		break;
	case SORT_ATTENTION:
		r = CMP(a->attention, b->attention);
		break;
	case SORT_COUNTRY:
		r = cmp_str(a->geo ? a->geo->country : NULL, b->geo ? b->geo->country : NULL);
		break;
	case SORT_PROCESS:
		r = cmp_str(a->proc ? a->proc->name : NULL, b->proc ? b->proc->name : NULL);
		break;
	case SORT_DOMAIN:
		r = cmp_str(a->domain, b->domain);
		break;
	case SORT_PROTO:
		r = CMP(a->key.proto, b->key.proto);
		break;
	}
	r = r < 0 ? -1 : r > 0 ? 1 : 0;	/* addr_compare and strcmp may return any size */
	if (fq->desc)
		r = -r;
	return r ? r : CMP(a->id, b->id);
}

enum MHD_Result http_api_flows(struct http_conn *c, const char *url)
{
	static const char *const known[] = {"verdict", "attention", "proto", "country", "process", "q", "active", "since",
					    "sort", "limit", "format", NULL};
	struct http_context *ctx = c->srv->ctx;
	struct flows_query fq;
	struct flows_pick pick;
	struct strbuf sb = {0};
	enum MHD_Result ret;
	char err[400];
	size_t n;

	(void)url;
	if (!http_api_check_args(c, known, &ret))
		return ret;
	if (flows_parse(c, &fq, err, sizeof err) != 0)
		return http_error(c, 400, "%s", err);
	if (!ctx->engine)
		return http_error(c, 503, "no capture is running");
	memset(&pick, 0, sizeof pick);
	pick.fq = &fq;
	flow_table_foreach(engine_flows(ctx->engine), flows_pick_cb, &pick);
	if (pick.n > 1)
		qsort_r(pick.v, pick.n, sizeof *pick.v, flows_cmp, &fq);
	n = (size_t)NG_MIN((uint64_t)pick.n, fq.limit);
	if (fq.csv) {
		sb_reserve(&sb, 256 * (n + 1));
		sb_puts(&sb, flowjson_csv_header());
		for (size_t i = 0; i < n; i++)
			flowjson_csv_row(pick.v[i], ctx->window, &sb);
		free(pick.v);
		return http_send(c, 200, "text/csv; charset=utf-8", sb.p, sb.len, true);
	} else {
		cJSON *doc = cJSON_CreateObject();
		char t[NG_TIMESTRLEN], *head;

		cJSON_AddStringToObject(doc, "generated", time_format(time_now(), t, sizeof t));
		if (ctx->describe)
			ctx->describe(ctx->arg, doc);
		cJSON_AddNumberToObject(doc, "last_event_id", ctx->events ? (double)events_last_id(ctx->events) : 0);
		cJSON_AddItemToObject(doc, "flows", cJSON_CreateArray());
		head = cJSON_PrintUnformatted(doc);
		cJSON_Delete(doc);
		/* head ends in "[]}": the flows go between the brackets, each written straight into the buffer. */
		sb_reserve(&sb, strlen(head) + 900 * n + 16);
		sb_put(&sb, head, strlen(head) - 2);
		free(head);
		for (size_t i = 0; i < n; i++) {
			if (i)
				sb_putc(&sb, ',');
			flowjson_append(pick.v[i], ctx->window, &sb);
		}
		sb_put(&sb, "]}", 2);
		free(pick.v);
		return http_send(c, 200, NULL, sb.p, sb.len, true);
	}
}

/* One direction's whitelist history as JSON. */
static cJSON *history_object(struct whitelist *wl, const ng_addr *remote, enum wl_dir dir)
{
	cJSON *o = cJSON_CreateObject();
	struct wl_entry e;
	char t[NG_TIMESTRLEN];

	whitelist_entry(wl, remote, dir, &e);
	cJSON_AddBoolToObject(o, "known", e.known);
	if (e.known && e.first != NG_TIME_NONE)
		cJSON_AddStringToObject(o, "first_seen", time_format(e.first, t, sizeof t));
	else
		cJSON_AddNullToObject(o, "first_seen");
	if (e.known && e.last != NG_TIME_NONE)
		cJSON_AddStringToObject(o, "last_seen", time_format(e.last, t, sizeof t));
	else
		cJSON_AddNullToObject(o, "last_seen");
	cJSON_AddNumberToObject(o, "flows", (double)e.flows);
	cJSON_AddNumberToObject(o, "packets", (double)e.packets);
	cJSON_AddNumberToObject(o, "bytes", (double)e.bytes);
	return o;
}

/*
 * GET /flows/{id}/pcap: the packets the evidence module kept of a flow, as a
 * pcap file for Wireshark. Served from the evidence files, which outlive the
 * flow's place in the table; 404 when nothing of it is kept.
 */
static enum MHD_Result http_api_flow_pcap(struct http_conn *c, uint64_t id)
{
	struct http_context *ctx = c->srv->ctx;
	struct MHD_Response *r;
	char *buf = NULL, disp[96];
	size_t len = 0;

	if (!ctx->evidence)
		return http_error(c, 404, "evidence is off (--evidence=no), so no packets are kept");
	if (evidence_flow_pcap(ctx->evidence, id, &buf, &len) != 0)
		return http_error(c, 404, "no packets kept of flow %llu (only anomalous and blocklisted flows are kept, "
				  "and the oldest files are deleted)", (unsigned long long)id);
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(buf);
		return MHD_NO;
	}
	snprintf(disp, sizeof disp, "attachment; filename=\"netglobe-flow-%llu.pcap\"", (unsigned long long)id);
	MHD_add_response_header(r, "Content-Type", "application/vnd.tcpdump.pcap");
	MHD_add_response_header(r, "Content-Disposition", disp);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	return http_queue(c, 200, r);
}

enum MHD_Result http_api_flow(struct http_conn *c, const char *url)
{
	static const char *const known[] = {NULL};
	struct http_context *ctx = c->srv->ctx;
	const char *p = url + strlen("/flows/"), *slash;
	char idtext[32];
	uint64_t id;
	struct flow *f;
	enum MHD_Result ret;
	cJSON *o, *h;
	size_t n;

	if (!http_api_check_args(c, known, &ret))
		return ret;
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n >= sizeof idtext)
		return http_error(c, 404, "no flow %.40s (ids are whole numbers from /flows)", n ? p : "''");
	memcpy(idtext, p, n);
	idtext[n] = '\0';
	if (parse_uint(idtext, 1, UINT64_MAX, &id) != 0)
		return http_error(c, 404, "no flow %.40s (ids are whole numbers from /flows)", idtext);
	/* Before the table lookup: evidence outlives a flow's place in the table. */
	if (slash && strcmp(slash + 1, "pcap") == 0)
		return http_api_flow_pcap(c, id);
	if (slash)
		return http_error(c, 404, "no such resource below /flows/%llu: %.100s (only /pcap)",
				  (unsigned long long)id, slash + 1);
	f = ctx->engine ? flow_table_by_id(engine_flows(ctx->engine), id) : NULL;
	if (!f)
		return http_error(c, 404, "no flow %llu (it never existed or was forgotten)", (unsigned long long)id);
	o = flowjson_object(f, ctx->window);
	if (ctx->wl) {
		h = cJSON_CreateObject();
		cJSON_AddItemToObject(h, "sent", history_object(ctx->wl, flow_remote_ip(f), WL_SENT));
		cJSON_AddItemToObject(h, "received", history_object(ctx->wl, flow_remote_ip(f), WL_RECEIVED));
		cJSON_AddItemToObject(o, "history", h);
	} else {
		cJSON_AddNullToObject(o, "history");
	}
	return http_json(c, 200, o);
}

enum MHD_Result http_api_stats(struct http_conn *c, const char *url)
{
	static const char *const known[] = {NULL};
	struct http_server *s = c->srv;
	struct http_context *ctx = s->ctx;
	enum MHD_Result ret;
	cJSON *doc, *h;

	(void)url;
	if (!http_api_check_args(c, known, &ret))
		return ret;
	doc = cJSON_CreateObject();
	if (ctx->stats)
		ctx->stats(ctx->arg, doc);
	h = cJSON_CreateObject();
	cJSON_AddNumberToObject(h, "connections", (double)s->nconns);
	cJSON_AddNumberToObject(h, "sse_clients", (double)s->nsse);
	cJSON_AddNumberToObject(h, "requests", (double)s->requests);
	cJSON_AddNumberToObject(h, "rejected", (double)s->rejected);
	cJSON_AddNumberToObject(h, "unsent_bytes", (double)s->inflight);
	if (ctx->events) {
		struct events_stats es;

		events_get_stats(ctx->events, &es);
		cJSON_AddNumberToObject(h, "last_event_id", (double)events_last_id(ctx->events));
		cJSON_AddNumberToObject(h, "events_stored", (double)es.stored);
		cJSON_AddNumberToObject(h, "events_bytes", (double)es.bytes);
	}
	cJSON_AddItemToObject(doc, "http", h);
	return http_json(c, 200, doc);
}

/* POST /api/trust or /api/forget: the body names an address (CIDR) or a domain pattern. */
static enum MHD_Result http_api_rule(struct http_conn *c, bool trust)
{
	struct http_context *ctx = c->srv->ctx;
	cJSON *doc, *item, *res;
	const char *what = NULL, *kind = NULL;
	char err[512], why[160];
	ng_cidr cidr;
	int rc;

	if (!ctx->wl)
		return http_error(c, 503, "the whitelist is not open");
	doc = cJSON_ParseWithLength(c->body ? c->body : "", c->bodylen);
	if (!doc || !cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return http_error(c, 400, "the body must be a JSON object: {\"address\": ...} or {\"domain\": ...}");
	}
	cJSON_ArrayForEach(item, doc) {
		if (!item->string || (strcmp(item->string, "address") != 0 && strcmp(item->string, "domain") != 0)) {
			snprintf(err, sizeof err, "unknown field '%.40s' (give \"address\" or \"domain\")",
				 item->string ? item->string : "");
			cJSON_Delete(doc);
			return http_error(c, 400, "%s", err);
		}
		if (kind) {
			cJSON_Delete(doc);
			return http_error(c, 400, "give one of \"address\" or \"domain\", not both");
		}
		if (!cJSON_IsString(item) || !item->valuestring[0] || strlen(item->valuestring) > 253) {
			snprintf(err, sizeof err, "\"%s\" must be a non-empty string", item->string);
			cJSON_Delete(doc);
			return http_error(c, 400, "%s", err);
		}
		kind = item->string;
		what = item->valuestring;
	}
	if (!kind) {
		cJSON_Delete(doc);
		return http_error(c, 400, "give {\"address\": \"192.0.2.7\"} or {\"domain\": \"*.example.com\"}");
	}
	if (strcmp(kind, "address") == 0 && cidr_parse(what, &cidr, why, sizeof why) != 0) {
		snprintf(err, sizeof err, "bad address '%.80s': %s", what, why);
		cJSON_Delete(doc);
		return http_error(c, 400, "%s", err);
	}
	if (strcmp(kind, "domain") == 0 && cidr_parse(what, &cidr, why, sizeof why) == 0) {
		cJSON_Delete(doc);
		return http_error(c, 400, "'%.80s' is an address: give it as \"address\"", what);
	}
	err[0] = '\0';
	rc = trust ? whitelist_trust(ctx->wl, what, err, sizeof err) : whitelist_forget(ctx->wl, what, err, sizeof err);
	if (rc != 0) {
		cJSON_Delete(doc);
		return http_error(c, 400, "%s", err[0] ? err : "the whitelist refused it");
	}
	res = cJSON_CreateObject();
	cJSON_AddTrueToObject(res, "ok");
	cJSON_AddStringToObject(res, "rule", what);
	cJSON_Delete(doc);
	return http_json(c, 200, res);
}

enum MHD_Result http_api_trust(struct http_conn *c, const char *url)
{
	(void)url;
	return http_api_rule(c, true);
}

enum MHD_Result http_api_forget(struct http_conn *c, const char *url)
{
	(void)url;
	return http_api_rule(c, false);
}

enum MHD_Result http_api_unknown(struct http_conn *c, const char *url)
{
	return http_error(c, 404, "no such API endpoint: %.200s (see docs/api.md)", url);
}
