/* SPDX-License-Identifier: BSD-2-Clause */
/* http_api.c: the JSON API: GET /flows (filters, sort, CSV), GET /flows/{id}, GET /api/stats, POST trust/forget. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "platform.h"

#include "communityid.h"
#include "engine.h"
#include "evidence.h"
#include "events.h"
#include "filter.h"
#include "flow.h"
#include "http_group.h"
#include "flowjson.h"
#include "geoip.h"
#include "http_api.h"
#include "log.h"
#include "proc.h"
#include "regdomain.h"
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
	uint8_t cids[FLOWS_MAX_LIST][20];	/* Community IDs' digests */
	size_t ncids;
	struct filter *filter;		/* q=, NULL when absent */
	int group;			/* 0 none, else enum group_kind */
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
	if ((v = arg(c, "community_id"))) {
		if (split_list("community_id", v, items, &n, err, errlen) != 0)
			return -1;
		for (size_t i = 0; i < n; i++) {
			if (communityid_parse(items[i], fq->cids[i]) != 0) {
				snprintf(err, errlen,
					 "bad community_id '%.63s' (want a Community ID v1: 1: and 28 base64 characters, "
					 "or 1: and 40 hex digits; encode + as %%2B)", items[i]);
				return -1;
			}
		}
		fq->ncids = n;
	}
	if ((v = arg(c, "group"))) {
		if (strcmp(v, "destination") == 0) {
			fq->group = GROUP_DESTINATION;
		} else if (strcmp(v, "process") == 0) {
			fq->group = GROUP_PROCESS;
		} else {
			snprintf(err, errlen, "bad group '%.40s' (use destination or process)", v);
			return -1;
		}
		if (arg(c, "sort") || arg(c, "format")) {
			snprintf(err, errlen, "group= takes no sort= or format= (groups come highest attention first)");
			return -1;
		}
	}
	if ((v = arg(c, "q"))) {
		if (!(fq->filter = filter_parse(v, err, errlen)))
			return -1;
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
	if (fq->since == 2 && !(flow_last_seen(f) > fq->since_time))
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
	if (fq->ncids) {
		uint8_t d[20];
		bool ok = false;

		communityid_flow_digest(f, d);
		for (size_t i = 0; i < fq->ncids && !ok; i++)
			ok = memcmp(d, fq->cids[i], sizeof d) == 0;
		if (!ok)
			return false;
	}
	if (filter_terms(fq->filter) > 0) {
		struct filter_view fv;
		char ra[NG_ADDRSTRLEN], la[NG_ADDRSTRLEN], pb[16];

		http_flow_view(f, &fv, ra, la, pb);
		if (!filter_match(fq->filter, &fv))
			return false;
	}
	return true;
}

void http_flow_view(const struct flow *f, struct filter_view *v, char *ra, char *la, char *pb)
{
	struct sig_view sv[SIG_COUNT];
	size_t n = detect_signals(f, 0, sv);

	memset(v, 0, sizeof *v);
	v->remote_ip = addr_format(flow_remote_ip(f), ra, NG_ADDRSTRLEN);
	v->local_ip = addr_format(flow_local_ip(f), la, NG_ADDRSTRLEN);
	v->domain = flow_domain(f);
	if (f->geo) {
		v->as_org = f->geo->as_org;
		v->asn = f->geo->asn;
		v->city = f->geo->city;
		v->country = f->geo->country[0] ? f->geo->country : NULL;
		v->country_name = f->geo->country_name;
	}
	if (f->proc) {
		v->proc_name = f->proc->name;
		v->exe = f->proc->exe;
	}
	v->proto = flowjson_proto_name(f->key.proto, pb, 16);
	v->proto_num = f->key.proto;
	v->attention = attention_name((enum ng_attention)f->attention);
	v->verdict = engine_flow_verdict(f) == WL_NONE ? "none" : wl_verdict_name(engine_flow_verdict(f));
	v->state = flowjson_state_name(f->state);
	for (size_t i = 0; i < n && i < FILTER_MAX_SIGNALS; i++)
		v->signals[v->nsignals++] = sig_name(sv[i].id);
	v->remote_port = flow_remote_port(f);
	v->local_port = flow_local_port(f);
	v->active = f->end_reason == FLOW_END_NONE;
	v->initiator_local = f->initiator_local;
	v->trusted = flowjson_trust_rule(f) != NULL;
	v->evidence = f->evidence;
	v->bytes_sent = f->bytes[FLOW_SENT];
	v->bytes_received = f->bytes[FLOW_RECEIVED];
}

/*
 * The flows a query selects, gathered by flow_table_foreach, each with its
 * id as the key (ng_refs_sort sorts by id without reading the flows again,
 * and flow_table_recheck checks a streamed flow is still that flow).
 */
struct flows_pick {
	const struct flows_query *fq;
	struct ng_ref *r;
	size_t n, cap;
};

static void flows_pick_cb(void *arg, struct flow *f)
{
	struct flows_pick *p = arg;

	if (!flows_match(p->fq, f))
		return;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 1024;
		p->r = xrealloc(p->r, p->cap * sizeof *p->r);
	}
	p->r[p->n].p = f;
	p->r[p->n++].key = f->id;
}

/* Compare two strings that may be NULL (NULL sorts as ""). */
static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b) ? 1 : 0)

/* qsort_r comparator of the picked refs: the query's key, then ascending id. */
static int flows_cmp(const void *pa, const void *pb, void *arg)
{
	const struct flows_query *fq = arg;
	const struct flow *a = ((const struct ng_ref *)pa)->p, *b = ((const struct ng_ref *)pb)->p;
	int r = 0;

	switch (fq->sort) {
	case SORT_ID:
		r = CMP(a->id, b->id);
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
		r = CMP(flow_last_seen(a), flow_last_seen(b));
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
		r = cmp_str(flow_domain(a), flow_domain(b));
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

/* The /flows document without its flows, as text ending in "[]}" (the caller frees it). */
static char *flows_head(struct http_context *ctx)
{
	cJSON *doc = cJSON_CreateObject();
	char t[NG_TIMESTRLEN], *head;

	cJSON_AddStringToObject(doc, "generated", time_format(time_now(), t, sizeof t));
	if (ctx->describe)
		ctx->describe(ctx->arg, doc);
	cJSON_AddNumberToObject(doc, "last_event_id", ctx->events ? (double)events_last_id(ctx->events) : 0);
	cJSON_AddItemToObject(doc, "flows", cJSON_CreateArray());
	head = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return head;
}

/*
 * DESIGN. A large /flows answer is written while the client reads it, a part
 * of about FLOWS_STREAM_PART bytes at a time into one reused buffer, instead
 * of whole first: 100,000 flows are about 100 MB of JSON, and building that
 * cost more in page faults and cache misses than in formatting. The loop
 * goes on between parts and may free a chosen flow (an ended flow pushed out
 * of the kept list), so each is kept with its id and checked again
 * (flow_table_recheck) before it is written: a freed one is left out, the
 * others are written as they are when their part is made.
 */
#define FLOWS_STREAM_MIN 256
#define FLOWS_STREAM_PART (32 * 1024)
/* How many flows ahead the stream asks for a flow's enrichments (a flow takes about 0.3 us to write). */
#define FLOWS_PREFETCH 6

struct flows_stream {
	struct http_context *ctx;
	struct ng_ref *refs;	/* the flows (p) and their ids (key) */
	size_t n, next;
	char *head;		/* JSON: the document up to its flows, NULL once written */
	bool csv, any, closed;
};

/* http_fill_fn: the head, then flows until the part is full, then the end of the document. */
static bool flows_stream_fill(void *state, struct strbuf *sb)
{
	struct flows_stream *st = state;
	struct flow_table *ft = st->ctx->engine ? engine_flows(st->ctx->engine) : NULL;
	size_t start = sb->len;

	if (st->closed)
		return false;
	if (st->head) {
		if (st->csv)
			sb_puts(sb, st->head);
		else
			sb_put(sb, st->head, strlen(st->head) - 2);
		free(st->head);
		st->head = NULL;
	}
	while (ft && st->next < st->n && sb->len - start < FLOWS_STREAM_PART) {
		struct ng_ref *r = &st->refs[st->next++];
		struct flow *f;

		/*
		 * The flows come in id order, mostly their order in memory, but each
		 * one's enrichments (its GeoIP result) are anywhere: ask for the flow
		 * two steps ahead and, once it is there, for what it points to. A flow
		 * freed meanwhile is still readable (flow_table_recheck reads it too),
		 * and a prefetch of a stale pointer does nothing.
		 */
		if (st->next + 2 * FLOWS_PREFETCH < st->n)
			__builtin_prefetch(st->refs[st->next + 2 * FLOWS_PREFETCH].p);
		if (st->next + FLOWS_PREFETCH < st->n) {
			const struct flow *ahead = st->refs[st->next + FLOWS_PREFETCH].p;

			for (int s = 0; s < ENRICH_SLOTS; s++)
				__builtin_prefetch(ahead->slot[s]);
		}
		f = flow_table_recheck(ft, r->p, r->key);
		if (!f)
			continue;
		if (st->csv) {
			flowjson_csv_row(f, st->ctx->window, sb);
		} else {
			if (st->any)
				sb_putc(sb, ',');
			flowjson_append(f, st->ctx->window, sb);
		}
		st->any = true;
	}
	if (!ft || st->next == st->n) {
		if (!st->csv)
			sb_put(sb, "]}", 2);
		st->closed = true;
	}
	return true;
}

/* The response is over (sent, or the client left). */
static void flows_stream_done(void *state)
{
	struct flows_stream *st = state;

	free(st->refs);
	free(st->head);
	free(st);
}

/* Stream the first n flows of refs (the order of the answer); refs is freed here. */
static enum MHD_Result flows_stream(struct http_conn *c, const struct flows_query *fq, struct ng_ref *refs,
				    size_t n)
{
	struct http_context *ctx = c->srv->ctx;
	struct flows_stream *st = xcalloc(1, sizeof *st);

	st->ctx = ctx;
	st->csv = fq->csv;
	st->n = n;
	st->refs = refs;
	st->head = st->csv ? xstrdup(flowjson_csv_header()) : flows_head(ctx);
	return http_send_stream(c, 200, st->csv ? "text/csv; charset=utf-8" : NULL, flows_stream_fill,
				flows_stream_done, st, true);
}

enum MHD_Result http_api_flows(struct http_conn *c, const char *url)
{
	static const char *const known[] = {"verdict", "attention", "proto", "country", "process", "community_id", "q",
					    "active", "since", "sort", "limit", "format", "group", "at", NULL};
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
	if (flows_parse(c, &fq, err, sizeof err) != 0) {
		filter_free(fq.filter);
		return http_error(c, 400, "%s", err);
	}
	if (arg(c, "at")) {
		ret = http_history_at(c, arg(c, "at"), fq.filter, fq.group, fq.limit);
		filter_free(fq.filter);
		return ret;
	}
	if (!ctx->engine) {
		filter_free(fq.filter);
		return http_error(c, 503, "no capture is running");
	}
	memset(&pick, 0, sizeof pick);
	pick.fq = &fq;
	flow_table_foreach(engine_flows(ctx->engine), flows_pick_cb, &pick);
	filter_free(fq.filter);
	if (fq.group) {
		struct flow **v = xmalloc((pick.n ? pick.n : 1) * sizeof *v);

		for (size_t i = 0; i < pick.n; i++)
			v[i] = pick.r[i].p;
		free(pick.r);
		ret = http_group_flows(c, (enum group_kind)fq.group, v, pick.n, fq.limit);
		free(v);
		return ret;
	}
	if (fq.sort == SORT_ID) {
		ng_refs_sort(pick.r, pick.n);	/* what flows_cmp gives for SORT_ID */
		for (size_t i = 0, j = pick.n; fq.desc && i + 1 < j; i++, j--) {
			struct ng_ref t = pick.r[i];

			pick.r[i] = pick.r[j - 1];
			pick.r[j - 1] = t;
		}
	} else if (pick.n > 1) {
		qsort_r(pick.r, pick.n, sizeof *pick.r, flows_cmp, &fq);
	}
	n = (size_t)NG_MIN((uint64_t)pick.n, fq.limit);
	if (n >= FLOWS_STREAM_MIN)
		return flows_stream(c, &fq, pick.r, n);
	if (fq.csv) {
		sb_reserve(&sb, 256 * (n + 1));
		sb_puts(&sb, flowjson_csv_header());
		for (size_t i = 0; i < n; i++)
			flowjson_csv_row(pick.r[i].p, ctx->window, &sb);
		free(pick.r);
		return http_send(c, 200, "text/csv; charset=utf-8", sb.p, sb.len, true);
	} else {
		char *head = flows_head(ctx);

		/* head ends in "[]}": the flows go between the brackets, each written straight into the buffer. */
		sb_reserve(&sb, strlen(head) + 900 * n + 16);
		sb_put(&sb, head, strlen(head) - 2);
		free(head);
		for (size_t i = 0; i < n; i++) {
			if (i)
				sb_putc(&sb, ',');
			flowjson_append(pick.r[i].p, ctx->window, &sb);
		}
		sb_put(&sb, "]}", 2);
		free(pick.r);
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
	struct flow *f;
	char *buf = NULL, disp[160], cid[COMMUNITYID_HEX_LEN];
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
	/* The name carries the Community ID's hex form ("1:" as "1_"), while the flow is in the table. */
	f = ctx->engine ? flow_table_by_id(engine_flows(ctx->engine), id) : NULL;
	if (f) {
		communityid_flow(f, true, cid, sizeof cid);
		cid[1] = '_';
		snprintf(disp, sizeof disp, "attachment; filename=\"netglobe-flow-%llu-%s.pcap\"", (unsigned long long)id,
			 cid);
	} else {
		snprintf(disp, sizeof disp, "attachment; filename=\"netglobe-flow-%llu.pcap\"", (unsigned long long)id);
	}
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

/*
 * Trust and undo. A trust call's added rules are remembered (the last
 * UNDO_KEEP calls of this run) so that POST /api/trust/undo can take exactly
 * them back. Bulk trusts (a program, an AS, what was seen while learning)
 * become address rules for the addresses the held flows reached.
 */
#define UNDO_KEEP 256
#define TRUST_MAX_RULES 100000

struct undo_entry {
	uint64_t id;
	char **rules;
	size_t n;
};

static struct undo_entry undo_ring[UNDO_KEEP];
static uint64_t undo_next = 1;

/* A growing list of canonical rule texts (owned). */
struct rule_list {
	char **v;
	size_t n, cap;
};

static void rules_add(struct rule_list *l, const char *r)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i], r) == 0)
			return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = xstrdup(r);
}

static void rules_free(struct rule_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* What a bulk trust selects among the held flows. */
struct bulk {
	const char *exe;
	uint32_t asn;
	bool learning;
	ng_time lfrom, lto;
	struct rule_list *out;
	bool over;
};

/* flow_table_foreach callback: the remote address of a flow the bulk trust covers. */
static void bulk_cb(void *arg, struct flow *f)
{
	struct bulk *b = arg;
	char a[NG_ADDRSTRLEN];

	if (f->remote_scope != NG_SCOPE_PUBLIC)
		return;
	if (b->exe && !(f->proc && f->proc->exe && strcmp(f->proc->exe, b->exe) == 0))
		return;
	if (b->asn && !(f->geo && f->geo->asn == b->asn))
		return;
	if (b->learning && !(f->first_seen >= b->lfrom && f->first_seen < b->lto && engine_flow_verdict(f) == WL_ANOMALOUS))
		return;
	if (b->out->n >= TRUST_MAX_RULES) {
		b->over = true;
		return;
	}
	rules_add(b->out, addr_format(flow_remote_ip(f), a, sizeof a));
}

/*
 * The flows a trust or an undo judged again, as the answer's "flows": the page applies them at once
 * instead of asking /flows again (a round trip, and the whole list, on a loaded machine).
 */
#define CHANGED_FLOWS_MAX 500
struct changed_flows {
	cJSON *arr;	/* NULL: not collected */
	size_t n;
	ng_time window;
};

/* rejudge_query.changed: one changed flow's object, up to CHANGED_FLOWS_MAX. */
static void changed_flow(void *arg, const struct flow *f)
{
	struct changed_flows *cf = arg;

	if (cf->arr && cf->n < CHANGED_FLOWS_MAX)
		cJSON_AddItemToArray(cf->arr, flowjson_object(f, cf->window));
	cf->n++;
}

/* Add "flows" (the changed flows' objects) and "flows_complete" (false when there were more) to res. */
static void changed_flows_add(cJSON *res, struct changed_flows *cf)
{
	cJSON_AddItemToObject(res, "flows", cf->arr);
	cJSON_AddBoolToObject(res, "flows_complete", cf->n <= CHANGED_FLOWS_MAX);
	cf->arr = NULL;
}

/* Judge the held flows again after rules changed (cf, may be NULL, collects them); how many changed. */
static size_t rejudge_all(struct http_context *ctx, struct changed_flows *cf)
{
	struct rejudge_query q = {.changed = cf ? changed_flow : NULL, .changed_arg = cf};

	return ctx->engine ? engine_rejudge(ctx->engine, &q) : 0;
}

/* A forgotten rule and what it covers, for engine_rejudge. */
struct forgot {
	bool is_cidr;
	ng_cidr cidr;
	const char *pattern;
};

/* True when the forgotten rule covers f (its address, or its name by the pattern). */
static bool forgot_covers(void *arg, const struct flow *f)
{
	const struct forgot *g = arg;
	const char *p = g->pattern, *d = flow_domain(f);
	size_t pl, dl;

	if (g->is_cidr)
		return cidr_contains(&g->cidr, flow_remote_ip(f));
	if (!d)
		return false;
	if (p[0] == '*' && p[1] == '.') {
		pl = strlen(p + 1);
		dl = strlen(d);
		return dl > pl && strcasecmp(d + dl - pl, p + 1) == 0;
	}
	return strcasecmp(d, p) == 0;
}

/* The body's member `name` if present; 400 text in err when it has the wrong type. */
static cJSON *body_get(cJSON *doc, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(doc, name);
}

/*
 * Whether an address or domain rule is broad enough to need "confirm": true
 * (docs/api.md): an IPv4 prefix shorter than HTTP_BROAD_V4, an IPv6 prefix
 * shorter than HTTP_BROAD_V6, or a domain pattern whose base is a public
 * suffix. Writes the reason into why.
 */
static bool rule_is_broad(const char *what, bool is_address, char *why, size_t whylen)
{
	char reg[300], e[160];
	const char *base;
	ng_cidr cidr;

	if (is_address) {
		unsigned bound;

		if (cidr_parse(what, &cidr, e, sizeof e) != 0)
			return false;
		bound = cidr.base.v == 4 ? HTTP_BROAD_V4 : HTTP_BROAD_V6;
		if (cidr.prefix >= bound)
			return false;
		if (cidr.prefix == 0)
			snprintf(why, whylen, "%s covers every IPv%u address", what, (unsigned)cidr.base.v);
		else
			snprintf(why, whylen, "%s is broader than a /%u", what, bound);
		return true;
	}
	base = strncmp(what, "*.", 2) == 0 ? what + 2 : what;
	/* Only a valid name can be a public suffix; anything else is the whitelist's to refuse. */
	if (!base[0] || strspn(base, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") != strlen(base))
		return false;
	if (regdomain_of(base, reg, sizeof reg))
		return false;
	snprintf(why, whylen, "%s covers a whole public suffix", what);
	return true;
}

/* 409 for a broad address or domain rule: why, and how many learnt rows it would trust or erase. */
static enum MHD_Result need_confirm_broad(struct http_conn *c, const char *why, const char *rule, bool trust)
{
	long n = whitelist_covered(c->srv->ctx->wl, rule);
	cJSON *o = cJSON_CreateObject();
	char msg[300];

	n = n < 0 ? 0 : n;
	snprintf(msg, sizeof msg, "%s: this would %s %ld learnt rows; confirm it", why, trust ? "trust" : "erase", n);
	cJSON_AddFalseToObject(o, "ok");
	cJSON_AddStringToObject(o, "error", msg);
	cJSON_AddNumberToObject(o, "would_affect", (double)n);
	cJSON_AddStringToObject(o, "confirm", "resend with \"confirm\": true");
	return http_json(c, 409, o);
}

/* 409: a trust that needs the explicit confirmation, and how many addresses it would cover. */
static enum MHD_Result need_confirm(struct http_conn *c, const char *what, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	char msg[200];

	snprintf(msg, sizeof msg, "trusting %s covers %zu address%s: confirm it", what, n, n == 1 ? "" : "es");
	cJSON_AddFalseToObject(o, "ok");
	cJSON_AddStringToObject(o, "error", msg);
	cJSON_AddNumberToObject(o, "would_affect", (double)n);
	cJSON_AddStringToObject(o, "confirm", "resend with \"confirm\": true");
	return http_json(c, 409, o);
}

/* POST /api/trust: check the body, gather the rules, add them, judge the held flows again. */
static enum MHD_Result http_api_trust_body(struct http_conn *c, cJSON *doc)
{
	static const char *const fields[] = {"address", "domain", "subdomains", "exe", "sha256", "asn", "learning",
					     "confirm", "detail", NULL};
	struct http_context *ctx = c->srv->ctx;
	struct rule_list rl = {0};
	cJSON *item, *res, *arr;
	const char *kind = NULL;
	char err[512], canon[300], what[80];
	bool confirm = false, brief, *done;
	size_t added = 0, changed;
	enum MHD_Result ret;
	struct undo_entry *u;
	struct changed_flows cf = {0};

	cJSON_ArrayForEach(item, doc) {
		bool known = false;

		for (size_t i = 0; fields[i]; i++)
			known |= item->string && strcmp(item->string, fields[i]) == 0;
		if (!known)
			return http_error(c, 400, "unknown field '%.40s' (give one of \"address\", \"domain\", \"exe\", "
					  "\"asn\" or \"learning\")", item->string ? item->string : "");
		if (strcmp(item->string, "address") == 0 || strcmp(item->string, "domain") == 0 ||
		    strcmp(item->string, "exe") == 0 || strcmp(item->string, "asn") == 0 ||
		    strcmp(item->string, "learning") == 0) {
			if (kind)
				return http_error(c, 400, "give one of \"address\", \"domain\", \"exe\", \"asn\" or "
						  "\"learning\", not both \"%s\" and \"%s\"", kind, item->string);
			kind = item->string;
		}
	}
	if (!kind)
		return http_error(c, 400, "give {\"address\": \"192.0.2.7\"} or {\"domain\": \"*.example.com\"} (or "
				  "\"exe\", \"asn\", \"learning\": see docs/api.md)");
	if ((item = body_get(doc, "confirm"))) {
		if (!cJSON_IsBool(item))
			return http_error(c, 400, "\"confirm\" must be true or false");
		confirm = cJSON_IsTrue(item);
	}
	if ((item = body_get(doc, "detail")) && !cJSON_IsBool(item))
		return http_error(c, 400, "\"detail\" must be true or false");
	if ((item = body_get(doc, "subdomains")) && (!cJSON_IsBool(item) || strcmp(kind, "domain") != 0))
		return http_error(c, 400, "\"subdomains\" is true or false, and only beside \"domain\"");
	if ((item = body_get(doc, "sha256")) && (!cJSON_IsString(item) || strcmp(kind, "exe") != 0))
		return http_error(c, 400, "\"sha256\" is a string, and only beside \"exe\"");
	item = body_get(doc, kind);
	if (strcmp(kind, "address") == 0 || strcmp(kind, "domain") == 0 || strcmp(kind, "exe") == 0) {
		if (!cJSON_IsString(item) || !item->valuestring[0] || strlen(item->valuestring) > 253)
			return http_error(c, 400, "\"%s\" must be a non-empty string", kind);
	}
	if (strcmp(kind, "address") == 0 || strcmp(kind, "domain") == 0) {
		const char *v = item->valuestring;
		ng_cidr cidr;
		char why[160];

		if (strcmp(kind, "address") == 0 && cidr_parse(v, &cidr, why, sizeof why) != 0)
			return http_error(c, 400, "bad address '%.80s': %s", v, why);
		if (strcmp(kind, "domain") == 0 && cidr_parse(v, &cidr, why, sizeof why) == 0)
			return http_error(c, 400, "'%.80s' is an address: give it as \"address\"", v);
		if (whitelist_rule_canon(v, canon, sizeof canon, err, sizeof err) != 0)
			return http_error(c, 400, "cannot trust: %s", err);
		if (!confirm && rule_is_broad(canon, strcmp(kind, "address") == 0, why, sizeof why))
			return need_confirm_broad(c, why, canon, true);
		rules_add(&rl, canon);
		if (cJSON_IsTrue(body_get(doc, "subdomains")) && canon[0] != '*') {
			char wild[310];

			snprintf(wild, sizeof wild, "*.%s", canon);
			if (whitelist_rule_canon(wild, canon, sizeof canon, err, sizeof err) == 0) {
				if (!confirm && rule_is_broad(canon, false, why, sizeof why)) {
					rules_free(&rl);
					return need_confirm_broad(c, why, canon, true);
				}
				rules_add(&rl, canon);
			}
		}
	} else {
		struct bulk b = {.out = &rl};

		if (strcmp(kind, "exe") == 0) {
			if (body_get(doc, "sha256"))
				return http_error(c, 400, "this daemon's process objects carry no sha256: trust by "
						  "\"exe\" alone");
			b.exe = item->valuestring;
			snprintf(what, sizeof what, "program %.60s", b.exe);
		} else if (strcmp(kind, "asn") == 0) {
			if (!cJSON_IsNumber(item) || item->valuedouble < 1 || item->valuedouble > 4294967295.0 ||
			    item->valuedouble != (double)(uint32_t)item->valuedouble)
				return http_error(c, 400, "\"asn\" must be an AS number (1 to 4294967295)");
			b.asn = (uint32_t)item->valuedouble;
			snprintf(what, sizeof what, "AS%u", b.asn);
		} else {
			struct wl_learning l;

			if (!cJSON_IsTrue(item))
				return http_error(c, 400, "\"learning\" must be true");
			whitelist_learning(ctx->wl, ctx->engine ? engine_now(ctx->engine) : 0, &l);
			if (l.since == NG_TIME_NONE)
				return http_error(c, 400, "nothing was seen while learning yet");
			b.learning = true;
			b.lfrom = l.since;
			b.lto = l.since + l.window;
			snprintf(what, sizeof what, "everything seen while learning");
		}
		if (ctx->engine) {
			engine_flush(ctx->engine);
			flow_table_foreach(engine_flows(ctx->engine), bulk_cb, &b);
		}
		if (b.over) {
			rules_free(&rl);
			return http_error(c, 400, "trusting %s would add more than %d rules: trust addresses or domains "
					  "instead", what, TRUST_MAX_RULES);
		}
		if (!b.exe && !confirm) {
			ret = need_confirm(c, what, rl.n);
			rules_free(&rl);
			return ret;
		}
		if (rl.n == 0)
			return http_error(c, 400, "trusting %s covers no address of the flows held now", what);
	}
	done = xcalloc(rl.n, sizeof *done);
	err[0] = '\0';
	if (whitelist_trust_many(ctx->wl, (const char *const *)rl.v, rl.n, true, done, err, sizeof err) != 0) {
		free(done);
		rules_free(&rl);
		return http_error(c, 400, "%s", err[0] ? err : "the whitelist refused it");
	}
	/* A plain {"address"} or {"domain"} body answers as it always did, unless it asks for the detail. */
	brief = cJSON_GetArraySize(doc) == 1 && (strcmp(kind, "address") == 0 || strcmp(kind, "domain") == 0);
	cf.arr = brief ? NULL : cJSON_CreateArray();
	cf.window = ctx->window;
	changed = rejudge_all(ctx, &cf);
	/* Remember what this call added, for undo. */
	u = &undo_ring[undo_next % UNDO_KEEP];
	for (size_t i = 0; i < u->n; i++)
		free(u->rules[i]);
	free(u->rules);
	u->id = undo_next++;
	u->rules = xcalloc(rl.n ? rl.n : 1, sizeof *u->rules);
	u->n = 0;
	res = cJSON_CreateObject();
	cJSON_AddTrueToObject(res, "ok");
	cJSON_AddStringToObject(res, "rule", rl.v[0]);
	arr = brief ? cJSON_CreateArray() : cJSON_AddArrayToObject(res, "rules");
	for (size_t i = 0; i < rl.n; i++) {
		cJSON_AddItemToArray(arr, cJSON_CreateString(rl.v[i]));
		if (done[i]) {
			u->rules[u->n++] = xstrdup(rl.v[i]);
			added++;
		}
	}
	if (brief) {
		cJSON_Delete(arr);
	} else {
		cJSON_AddNumberToObject(res, "added", (double)added);
		cJSON_AddNumberToObject(res, "addresses", strcmp(kind, "domain") == 0 ? 0 : (double)rl.n);
		cJSON_AddNumberToObject(res, "flows_changed", (double)changed);
		cJSON_AddNumberToObject(res, "undo", (double)u->id);
		changed_flows_add(res, &cf);
	}
	free(done);
	rules_free(&rl);
	return http_json(c, 200, res);
}

/* True when a JSON text holds the escape \u0000 inside a string (cJSON would cut the string there). */
static bool json_has_nul_escape(const char *s, size_t n)
{
	bool in_str = false;

	for (size_t i = 0; i < n; i++) {
		if (!in_str) {
			in_str = s[i] == '"';
			continue;
		}
		if (s[i] == '"') {
			in_str = false;
		} else if (s[i] == '\\' && i + 1 < n) {
			if (s[i + 1] == 'u' && i + 5 < n && strncmp(s + i + 2, "0000", 4) == 0)
				return true;
			i++;	/* skip the escaped character */
		}
	}
	return false;
}

/*
 * Parse a POST body as exactly one JSON object, or answer 400: a NUL (raw,
 * or \u0000, which would cut a name short) or text after the object is
 * refused.
 */
static cJSON *body_object(struct http_conn *c, enum MHD_Result *ret, const char *hint)
{
	const char *body = c->body ? c->body : "", *end = NULL;
	cJSON *doc;

	if (memchr(body, '\0', c->bodylen) || json_has_nul_escape(body, c->bodylen)) {
		*ret = http_error(c, 400, "the body holds a NUL character (raw or as \\u0000)");
		return NULL;
	}
	doc = cJSON_ParseWithLengthOpts(body, c->bodylen, &end, false);
	if (!doc || !cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		*ret = http_error(c, 400, "the body must be a JSON object: %s", hint);
		return NULL;
	}
	while (end && end < body + c->bodylen && strchr(" \t\r\n", *end))
		end++;
	if (!end || end != body + c->bodylen) {
		cJSON_Delete(doc);
		*ret = http_error(c, 400, "the body must be one JSON object and nothing after it");
		return NULL;
	}
	return doc;
}

enum MHD_Result http_api_trust(struct http_conn *c, const char *url)
{
	struct http_context *ctx = c->srv->ctx;
	enum MHD_Result ret;
	cJSON *doc;

	(void)url;
	if (!ctx->wl)
		return http_error(c, 503, "the whitelist is not open");
	if (!(doc = body_object(c, &ret, "{\"address\": ...} or {\"domain\": ...}")))
		return ret;
	ret = http_api_trust_body(c, doc);
	cJSON_Delete(doc);
	return ret;
}

enum MHD_Result http_api_trust_undo(struct http_conn *c, const char *url)
{
	struct http_context *ctx = c->srv->ctx;
	struct rule_list rl = {0};
	struct undo_entry *u = NULL;
	enum MHD_Result ret;
	cJSON *doc, *item, *res, *arr;
	char canon[300], err[400];
	bool *done;
	size_t changed;
	struct changed_flows cf = {0};

	(void)url;
	if (!ctx->wl)
		return http_error(c, 503, "the whitelist is not open");
	if (!(doc = body_object(c, &ret, "{\"undo\": N} or {\"rule\": \"...\"}")))
		return ret;
	if (cJSON_GetArraySize(doc) != 1) {
		cJSON_Delete(doc);
		return http_error(c, 400, "give exactly one of {\"undo\": N} (the id a trust answered) or {\"rule\": \"...\"}");
	}
	if ((item = body_get(doc, "undo"))) {
		uint64_t id = cJSON_IsNumber(item) && item->valuedouble >= 1 ? (uint64_t)item->valuedouble : 0;

		if (id)
			u = &undo_ring[id % UNDO_KEEP];
		if (!u || u->id != id) {
			cJSON_Delete(doc);
			return http_error(c, 404, "no trust %.0f to undo (ids of this run's last %d trusts only)",
					  cJSON_IsNumber(item) ? item->valuedouble : 0.0, UNDO_KEEP);
		}
		for (size_t i = 0; i < u->n; i++)
			rules_add(&rl, u->rules[i]);
	} else if ((item = body_get(doc, "rule"))) {
		if (!cJSON_IsString(item) || whitelist_rule_canon(item->valuestring, canon, sizeof canon, err, sizeof err) != 0) {
			cJSON_Delete(doc);
			return http_error(c, 400, "\"rule\" must be an address, CIDR or domain pattern of trusted.txt");
		}
		rules_add(&rl, canon);
	} else {
		cJSON_Delete(doc);
		return http_error(c, 400, "give {\"undo\": N} (the id a trust answered) or {\"rule\": \"...\"}");
	}
	cJSON_Delete(doc);
	done = xcalloc(rl.n ? rl.n : 1, sizeof *done);
	err[0] = '\0';
	if (rl.n && whitelist_trust_many(ctx->wl, (const char *const *)rl.v, rl.n, false, done, err, sizeof err) != 0) {
		free(done);
		rules_free(&rl);
		return http_error(c, 400, "%s", err[0] ? err : "the whitelist refused it");
	}
	res = cJSON_CreateObject();
	arr = cJSON_CreateArray();
	for (size_t i = 0; i < rl.n; i++) {
		if (done[i])
			cJSON_AddItemToArray(arr, cJSON_CreateString(rl.v[i]));
	}
	if (!u && cJSON_GetArraySize(arr) == 0) {
		cJSON_Delete(arr);
		cJSON_Delete(res);
		free(done);
		ret = http_error(c, 404, "no rule %.200s in trusted.txt", rl.v[0]);
		rules_free(&rl);
		return ret;
	}
	if (u) {
		for (size_t i = 0; i < u->n; i++)
			free(u->rules[i]);
		u->n = 0;	/* undone: a second undo removes nothing */
	}
	cf.arr = cJSON_CreateArray();
	cf.window = ctx->window;
	changed = rejudge_all(ctx, &cf);
	cJSON_AddTrueToObject(res, "ok");
	cJSON_AddItemToObject(res, "removed", arr);
	cJSON_AddNumberToObject(res, "flows_changed", (double)changed);
	changed_flows_add(res, &cf);
	free(done);
	rules_free(&rl);
	return http_json(c, 200, res);
}

enum MHD_Result http_api_forget(struct http_conn *c, const char *url)
{
	struct http_context *ctx = c->srv->ctx;
	cJSON *doc, *item, *res;
	const char *what = NULL, *kind = NULL;
	char err[512], why[160];
	struct forgot g = {0};
	enum MHD_Result ret;
	size_t changed = 0;
	bool confirm = false;

	(void)url;
	if (!ctx->wl)
		return http_error(c, 503, "the whitelist is not open");
	if (!(doc = body_object(c, &ret, "{\"address\": ...} or {\"domain\": ...}")))
		return ret;
	cJSON_ArrayForEach(item, doc) {
		if (item->string && strcmp(item->string, "confirm") == 0) {
			if (!cJSON_IsBool(item)) {
				cJSON_Delete(doc);
				return http_error(c, 400, "\"confirm\" must be true or false");
			}
			confirm = cJSON_IsTrue(item);
			continue;
		}
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
	if (strcmp(kind, "address") == 0 && cidr_parse(what, &g.cidr, why, sizeof why) != 0) {
		snprintf(err, sizeof err, "bad address '%.80s': %s", what, why);
		cJSON_Delete(doc);
		return http_error(c, 400, "%s", err);
	}
	if (strcmp(kind, "domain") == 0 && cidr_parse(what, &g.cidr, why, sizeof why) == 0) {
		cJSON_Delete(doc);
		return http_error(c, 400, "'%.80s' is an address: give it as \"address\"", what);
	}
	if (!confirm && rule_is_broad(what, strcmp(kind, "address") == 0, why, sizeof why)) {
		ret = need_confirm_broad(c, why, what, false);
		cJSON_Delete(doc);
		return ret;
	}
	err[0] = '\0';
	if (whitelist_forget(ctx->wl, what, err, sizeof err) != 0) {
		cJSON_Delete(doc);
		return http_error(c, 400, "%s", err[0] ? err : "the whitelist refused it");
	}
	g.is_cidr = strcmp(kind, "address") == 0;
	g.pattern = what;
	if (ctx->engine) {
		struct rejudge_query q = {.covers = forgot_covers, .arg = &g, .forgotten = true};

		changed = engine_rejudge(ctx->engine, &q);
		changed += rejudge_all(ctx, NULL);	/* a trusted rule forget removed */
	}
	res = cJSON_CreateObject();
	cJSON_AddTrueToObject(res, "ok");
	cJSON_AddStringToObject(res, "rule", what);
	cJSON_AddNumberToObject(res, "flows_changed", (double)changed);
	cJSON_Delete(doc);
	return http_json(c, 200, res);
}

enum MHD_Result http_api_unknown(struct http_conn *c, const char *url)
{
	return http_error(c, 404, "no such API endpoint: %.200s (see docs/api.md)", url);
}
