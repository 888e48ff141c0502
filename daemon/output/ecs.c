/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ecs.c: one writer for both ECS documents, the flow record and the alert.
 *
 * DESIGN. ECS (www.elastic.co/guide/en/ecs) names a connection by its two
 * ends: source is the end that opened it (the flow's initiator) and
 * destination the other, each with its address, port, the bytes and packets
 * it sent, and what is known of it (geo, as, domain); network.* holds the
 * protocol and the Community ID, process.* the local program. netglobe's
 * own judgement lives under netglobe.*, a custom field set ECS leaves to the
 * producer. Like flowjson.c the document is written straight into a text
 * buffer (a flow log writes one per ended flow), every string through
 * sb_json_str; members without a value are left out, as ECS documents do.
 * tests/integration/ecs.sh checks every field's name and JSON type against
 * ECS's published field list and reads the documents back into the flows.
 */
#include "ecs.h"

#include <stdio.h>
#include <string.h>

#include "communityid.h"
#include "detect.h"
#include "engine.h"
#include "flowjson.h"
#include "geoip.h"
#include "proc.h"

#define ECS_DEPTH 8

/* A JSON writer that tracks whether an object still needs a comma. */
struct jw {
	struct strbuf *sb;
	int depth;
	bool more[ECS_DEPTH];
};

/* The key of the next member. */
static void jw_key(struct jw *w, const char *k)
{
	if (w->more[w->depth])
		sb_putc(w->sb, ',');
	w->more[w->depth] = true;
	sb_json_str(w->sb, k);
	sb_putc(w->sb, ':');
}

/* Open a nested object as member k. */
static void jw_open(struct jw *w, const char *k)
{
	jw_key(w, k);
	sb_putc(w->sb, '{');
	w->more[++w->depth] = false;
}

static void jw_close(struct jw *w)
{
	sb_putc(w->sb, '}');
	w->depth--;
}

/* A string member; none when s is NULL or empty. */
static void jw_str(struct jw *w, const char *k, const char *s)
{
	if (!s || !*s)
		return;
	jw_key(w, k);
	sb_json_str(w->sb, s);
}

static void jw_u64(struct jw *w, const char *k, uint64_t v)
{
	jw_key(w, k);
	sb_u64(w->sb, v);
}

static void jw_bool(struct jw *w, const char *k, bool v)
{
	jw_key(w, k);
	sb_puts(w->sb, v ? "true" : "false");
}

/* A time member (RFC 3339, as ECS's date type takes it). */
static void jw_time(struct jw *w, const char *k, ng_time t)
{
	char buf[NG_TIMESTRLEN];

	jw_str(w, k, time_format(t, buf, sizeof buf));
}

/* An array of fixed words, as ECS's categorisation fields are. */
static void jw_words(struct jw *w, const char *k, const char *const *v, size_t n)
{
	jw_key(w, k);
	sb_putc(w->sb, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_putc(w->sb, ',');
		sb_json_str(w->sb, v[i]);
	}
	sb_putc(w->sb, ']');
}

/* source or destination: one end, what it sent, and what is known of it (the remote end only). */
static void w_end(struct jw *w, const char *name, const struct flow *f, bool local)
{
	char a[NG_ADDRSTRLEN];
	enum flow_dir sent = local ? FLOW_SENT : FLOW_RECEIVED;
	const struct geo_info *g = local ? NULL : f->geo;

	jw_open(w, name);
	jw_str(w, "ip", addr_format(local ? flow_local_ip(f) : flow_remote_ip(f), a, sizeof a));
	if (f->key.proto == NG_PROTO_TCP || f->key.proto == NG_PROTO_UDP || f->key.proto == 132)
		jw_u64(w, "port", local ? flow_local_port(f) : flow_remote_port(f));
	jw_u64(w, "bytes", f->bytes[sent]);
	jw_u64(w, "packets", f->packets[sent]);
	if (!local)
		jw_str(w, "domain", flow_domain(f));
	if (g && (g->has_location || g->country[0] || g->city || g->region)) {
		jw_open(w, "geo");
		if (g->has_location) {
			jw_key(w, "location");
			sb_puts(w->sb, "{\"lat\":");
			sb_fixed4(w->sb, g->lat);
			sb_puts(w->sb, ",\"lon\":");
			sb_fixed4(w->sb, g->lon);
			sb_putc(w->sb, '}');
		}
		jw_str(w, "country_iso_code", g->country);
		jw_str(w, "country_name", g->country_name);
		jw_str(w, "region_name", g->region);
		jw_str(w, "city_name", g->city);
		jw_close(w);
	}
	if (g && g->asn) {
		jw_open(w, "as");
		jw_u64(w, "number", g->asn);
		if (g->as_org) {
			jw_open(w, "organization");
			jw_str(w, "name", g->as_org);
			jw_close(w);
		}
		jw_close(w);
	}
	jw_close(w);
}

/* network.direction: internal when the remote end is no public address, else who opened the flow. */
static const char *direction(const struct flow *f)
{
	if (f->remote_scope != NG_SCOPE_PUBLIC)
		return "internal";
	return f->initiator_local ? "outbound" : "inbound";
}

/* netglobe.signals: [{name, value, reason}], as in the flow object. */
static void w_signals(struct jw *w, const struct flow *f, ng_time window)
{
	struct sig_view sv[SIG_COUNT];
	size_t n = detect_signals(f, window, sv);

	jw_key(w, "signals");
	sb_putc(w->sb, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_putc(w->sb, ',');
		sb_puts(w->sb, "{\"name\":");
		sb_json_str(w->sb, sig_name(sv[i].id));
		sb_puts(w->sb, ",\"value\":");
		sb_fixed4(w->sb, sv[i].value);
		sb_puts(w->sb, ",\"reason\":");
		sb_json_str(w->sb, sv[i].reason);
		sb_putc(w->sb, '}');
	}
	sb_putc(w->sb, ']');
}

void ecs_append(const struct flow *f, ng_time window, const struct ecs_alert *alert, struct strbuf *sb)
{
	static const char *const cat_network[] = {"network"};
	static const char *const type_end[] = {"connection", "end"};
	static const char *const type_conn[] = {"connection"};
	struct jw w = {.sb = sb};
	char pbuf[16], num[24], cid[COMMUNITYID_LEN], reason[320], msg[512], a[NG_ADDRSTRLEN];
	enum wl_verdict v = engine_flow_verdict(f);
	const char *vname;
	bool ended = f->end_reason != FLOW_END_NONE;

	sb_reserve(sb, 1536);
	sb_putc(sb, '{');
	jw_time(&w, "@timestamp", alert ? alert->time : flow_last_seen(f));
	jw_open(&w, "ecs");
	jw_str(&w, "version", ECS_VERSION);
	jw_close(&w);

	jw_open(&w, "event");
	jw_str(&w, "kind", alert ? "alert" : "event");
	jw_words(&w, "category", cat_network, 1);
	if (alert || !ended)
		jw_words(&w, "type", type_conn, 1);
	else
		jw_words(&w, "type", type_end, 2);
	jw_str(&w, "action", alert ? "network-alert" : "network-flow");
	snprintf(num, sizeof num, "%llu", (unsigned long long)(alert ? alert->id : f->id));
	jw_str(&w, "id", num);
	jw_str(&w, "module", "netglobe");
	jw_str(&w, "dataset", alert ? "netglobe.alert" : "netglobe.flow");
	jw_str(&w, "provider", "netglobe");
	jw_time(&w, "start", f->first_seen);
	if (!alert) {
		jw_time(&w, "end", flow_last_seen(f));
		jw_u64(&w, "duration", (uint64_t)(flow_last_seen(f) - f->first_seen) * 1000);	/* nanoseconds */
	}
	if (alert) {
		wl_reason_format(alert->verdict, window, reason, sizeof reason);
		jw_str(&w, "reason", reason);
		jw_u64(&w, "severity", alert->verdict->verdict == WL_BLOCKLISTED ? 3 : 4);	/* syslog's error, warning */
	}
	jw_close(&w);
	if (alert) {
		vname = wl_verdict_name((enum wl_verdict)alert->verdict->verdict);
		snprintf(msg, sizeof msg, "netglobe alert %llu: %s %s %s (%s)", (unsigned long long)alert->id,
			 vname ? vname : "attention", alert->dir == FLOW_SENT ? "traffic to" : "traffic from",
			 addr_format(flow_remote_ip(f), a, sizeof a), reason);
		jw_str(&w, "message", msg);
		jw_open(&w, "rule");
		jw_str(&w, "name", alert->verdict->verdict >= WL_ANOMALOUS ? vname : "high-attention");
		jw_close(&w);
		if (alert->verdict->why == WL_WHY_BLOCKLISTED) {
			jw_open(&w, "threat");
			jw_open(&w, "indicator");
			jw_str(&w, "ip", addr_format(flow_remote_ip(f), a, sizeof a));
			jw_str(&w, "provider", alert->verdict->rule);
			jw_close(&w);
			jw_close(&w);
		}
	}

	w_end(&w, "source", f, f->initiator_local);
	w_end(&w, "destination", f, !f->initiator_local);

	jw_open(&w, "network");
	jw_str(&w, "transport", flowjson_proto_name(f->key.proto, pbuf, sizeof pbuf));
	snprintf(num, sizeof num, "%u", f->key.proto);
	jw_str(&w, "iana_number", num);
	jw_str(&w, "type", f->key.va == 6 ? "ipv6" : "ipv4");
	jw_str(&w, "direction", direction(f));
	jw_str(&w, "community_id", communityid_flow(f, false, cid, sizeof cid));
	jw_u64(&w, "bytes", f->bytes[0] + f->bytes[1]);
	jw_u64(&w, "packets", f->packets[0] + f->packets[1]);
	jw_close(&w);

	if (f->proc) {
		jw_open(&w, "process");
		jw_u64(&w, "pid", (uint64_t)f->proc->pid);
		jw_str(&w, "name", f->proc->name);
		jw_str(&w, "executable", f->proc->exe);
		jw_str(&w, "command_line", f->proc->cmdline);
		if (f->proc->user) {
			jw_open(&w, "user");
			jw_str(&w, "name", f->proc->user);
			jw_close(&w);
		}
		jw_close(&w);
	}

	jw_open(&w, "observer");
	jw_str(&w, "product", "netglobe");
	jw_str(&w, "type", "sensor");
	jw_close(&w);

	jw_open(&w, "netglobe");
	jw_u64(&w, "flow_id", f->id);
	if (alert) {
		jw_u64(&w, "alert_id", alert->id);
		jw_str(&w, "direction", alert->dir == FLOW_SENT ? "sent" : "received");
		jw_bool(&w, "learning", alert->learning);
		jw_u64(&w, "repeats", alert->repeats);
		if (alert->verdict->why == WL_WHY_BLOCKLISTED) {
			jw_open(&w, "blocklist");
			jw_str(&w, "list", alert->verdict->rule);
			jw_str(&w, "entry", alert->verdict->entry);
			jw_close(&w);
		}
	}
	jw_str(&w, "initiator", f->initiator_local ? "local" : "remote");
	jw_str(&w, "verdict", wl_verdict_name(v));
	jw_str(&w, "verdict_sent", wl_verdict_name((enum wl_verdict)flow_verdict(f, FLOW_SENT)->verdict));
	jw_str(&w, "verdict_received", wl_verdict_name((enum wl_verdict)flow_verdict(f, FLOW_RECEIVED)->verdict));
	if (v != WL_NONE)
		jw_str(&w, "reason", flowjson_reason(f, window, reason, sizeof reason));
	jw_str(&w, "attention", attention_name((enum ng_attention)f->attention));
	w_signals(&w, f, window);
	jw_str(&w, "state", flowjson_state_name(f->state));
	jw_str(&w, "conn_state", flowjson_conn_state(f));
	jw_str(&w, "end_reason", flowjson_end_name(f->end_reason));
	jw_str(&w, "remote_scope", scope_name((enum ng_scope)f->remote_scope));
	jw_str(&w, "remote_domain_source", flowjson_domain_source_name(f->domain_source));
	jw_u64(&w, "fragments", f->fragments);
	jw_close(&w);
	sb_putc(sb, '}');
}
