/* flowjson.c: one place that turns a flow into the public JSON object and CSV row. */
#include "flowjson.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "geoip.h"
#include "proc.h"
#include "whitelist.h"

const char *flowjson_proto_name(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmpv6";
	case 132:
		return "sctp";
	default:
		snprintf(buf, len, "ip-%u", proto);
		return buf;
	}
}

int flowjson_proto_parse(const char *s)
{
	static const struct {
		const char *name;
		int num;
	} names[] = {{"icmp", 1}, {"tcp", 6}, {"udp", 17}, {"icmpv6", 58}, {"sctp", 132}};
	uint64_t n;

	for (size_t i = 0; i < NG_ARRAY_LEN(names); i++) {
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].num;
	}
	if (strncmp(s, "ip-", 3) == 0)
		s += 3;
	if (parse_uint(s, 0, 255, &n) == 0)
		return (int)n;
	return -1;
}

const char *flowjson_state_name(uint8_t state)
{
	switch (state) {
	case FLOW_STATE_SYN_SENT:
		return "syn_sent";
	case FLOW_STATE_ESTABLISHED:
		return "established";
	case FLOW_STATE_CLOSING:
		return "closing";
	case FLOW_STATE_CLOSED:
		return "closed";
	case FLOW_STATE_RESET:
		return "reset";
	default:
		return "open";
	}
}

const char *flowjson_end_name(uint8_t end_reason)
{
	switch (end_reason) {
	case FLOW_END_CLOSED:
		return "closed";
	case FLOW_END_IDLE:
		return "idle";
	case FLOW_END_EVICTED:
		return "evicted";
	default:
		return NULL;
	}
}

const char *flowjson_domain_source_name(uint8_t src)
{
	switch (src) {
	case FLOW_DOMAIN_DNS:
		return "dns";
	case FLOW_DOMAIN_SNI:
		return "sni";
	case FLOW_DOMAIN_HTTP:
		return "http";
	default:
		return NULL;
	}
}

/* Add a string member, or null when s is NULL. */
static void add_str(cJSON *o, const char *k, const char *s)
{
	if (s)
		cJSON_AddStringToObject(o, k, s);
	else
		cJSON_AddNullToObject(o, k);
}

/* Round to 4 decimals (about 11 m), so floats from the database print short. */
static double round4(double x)
{
	return round(x * 10000.0) / 10000.0;
}

static cJSON *geo_object(const struct geo_info *g)
{
	cJSON *o;

	if (!g || (!g->has_location && !g->country[0]))
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	if (g->has_location) {
		cJSON_AddNumberToObject(o, "lat", round4(g->lat));
		cJSON_AddNumberToObject(o, "lon", round4(g->lon));
	} else {
		cJSON_AddNullToObject(o, "lat");
		cJSON_AddNullToObject(o, "lon");
	}
	if (g->accuracy_km >= 0)
		cJSON_AddNumberToObject(o, "accuracy_km", g->accuracy_km);
	else
		cJSON_AddNullToObject(o, "accuracy_km");
	add_str(o, "country", g->country[0] ? g->country : NULL);
	add_str(o, "country_name", g->country_name);
	add_str(o, "region", g->region);
	add_str(o, "city", g->city);
	return o;
}

static cJSON *process_object(const struct proc_info *p)
{
	cJSON *o;

	if (!p)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "pid", p->pid);
	add_str(o, "name", p->name);
	add_str(o, "exe", p->exe);
	add_str(o, "user", p->user);
	add_str(o, "cmdline", p->cmdline);
	return o;
}

char *flowjson_reason(const struct flow *f, ng_time window, char *buf, size_t len)
{
	static const char *const dirname[2] = {"sent", "received"};
	enum wl_verdict v = engine_flow_verdict(f);
	int d;
	bool both = f->packets[0] > 0 && f->packets[1] > 0;
	char why[256];

	buf[0] = '\0';
	if (v == WL_NONE)
		return buf;
	/* The deciding direction: the worst one that carried traffic, sent first on a tie. */
	if (f->packets[0] > 0 && f->verdicts[0].verdict == v)
		d = 0;
	else if (f->packets[1] > 0 && f->verdicts[1].verdict == v)
		d = 1;
	else
		d = f->verdicts[0].verdict == v ? 0 : 1;
	wl_reason_format(&f->verdicts[d], window, why, sizeof why);
	if (both && f->verdicts[0].verdict != f->verdicts[1].verdict)
		snprintf(buf, len, "%s: %s", dirname[d], why);
	else
		snprintf(buf, len, "%s", why);
	return buf;
}

cJSON *flowjson_object(const struct flow *f, ng_time window)
{
	cJSON *o = cJSON_CreateObject();
	char a[NG_ADDRSTRLEN], t[NG_TIMESTRLEN], pbuf[16], reason[320];
	enum wl_verdict v;

	cJSON_AddNumberToObject(o, "id", (double)f->id);
	cJSON_AddStringToObject(o, "proto", flowjson_proto_name(f->key.proto, pbuf, sizeof pbuf));
	cJSON_AddNumberToObject(o, "proto_num", f->key.proto);
	cJSON_AddNumberToObject(o, "ip_version", f->key.a.v);
	cJSON_AddStringToObject(o, "local_ip", addr_format(flow_local_ip(f), a, sizeof a));
	cJSON_AddNumberToObject(o, "local_port", flow_local_port(f));
	cJSON_AddStringToObject(o, "remote_ip", addr_format(flow_remote_ip(f), a, sizeof a));
	cJSON_AddNumberToObject(o, "remote_port", flow_remote_port(f));
	cJSON_AddStringToObject(o, "initiator", f->initiator_local ? "local" : "remote");
	cJSON_AddNumberToObject(o, "packets_sent", (double)f->packets[FLOW_SENT]);
	cJSON_AddNumberToObject(o, "packets_received", (double)f->packets[FLOW_RECEIVED]);
	cJSON_AddNumberToObject(o, "bytes_sent", (double)f->bytes[FLOW_SENT]);
	cJSON_AddNumberToObject(o, "bytes_received", (double)f->bytes[FLOW_RECEIVED]);
	cJSON_AddStringToObject(o, "first_seen", time_format(f->first_seen, t, sizeof t));
	cJSON_AddStringToObject(o, "last_seen", time_format(f->last_seen, t, sizeof t));
	cJSON_AddStringToObject(o, "state", flowjson_state_name(f->state));
	cJSON_AddBoolToObject(o, "active", f->end_reason == FLOW_END_NONE);
	add_str(o, "end_reason", flowjson_end_name(f->end_reason));
	cJSON_AddNumberToObject(o, "fragments", f->fragments);
	cJSON_AddStringToObject(o, "remote_scope", scope_name((enum ng_scope)f->remote_scope));
	cJSON_AddItemToObject(o, "geo", geo_object(f->geo));
	if (f->geo && f->geo->asn)
		cJSON_AddNumberToObject(o, "asn", f->geo->asn);
	else
		cJSON_AddNullToObject(o, "asn");
	add_str(o, "as_org", f->geo ? f->geo->as_org : NULL);
	add_str(o, "remote_domain", f->domain);
	add_str(o, "remote_domain_source", flowjson_domain_source_name(f->domain_source));
	cJSON_AddItemToObject(o, "process", process_object(f->proc));
	add_str(o, "verdict_sent", wl_verdict_name((enum wl_verdict)f->verdicts[FLOW_SENT].verdict));
	add_str(o, "verdict_received", wl_verdict_name((enum wl_verdict)f->verdicts[FLOW_RECEIVED].verdict));
	v = engine_flow_verdict(f);
	add_str(o, "verdict", wl_verdict_name(v));
	if (v != WL_NONE)
		cJSON_AddStringToObject(o, "reason", flowjson_reason(f, window, reason, sizeof reason));
	else
		cJSON_AddNullToObject(o, "reason");
	return o;
}

const char *flowjson_csv_header(void)
{
	return "id,proto,local_ip,local_port,remote_ip,remote_port,remote_domain,remote_domain_source,"
	       "process_name,process_pid,country,city,asn,as_org,packets_sent,packets_received,bytes_sent,"
	       "bytes_received,first_seen,last_seen,state,active,verdict_sent,verdict_received,verdict,reason\r\n";
}

/* Append raw bytes to a growing buffer. */
static void buf_put(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = NG_MAX(*cap * 2, *len + n + 1024);
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/*
 * Append one CSV field, quoted when it holds a comma, quote or line break
 * (RFC 4180 2.6). A leading =, +, - or @ gets a ' in front, so a spreadsheet
 * never runs a packet-derived field as a formula.
 */
static void csv_field(char **buf, size_t *len, size_t *cap, const char *s, bool last)
{
	bool quote;

	if (!s)
		s = "";
	quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		buf_put(buf, len, cap, "\"", 1);
	if (s[0] && strchr("=+-@", s[0]))
		buf_put(buf, len, cap, "'", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			buf_put(buf, len, cap, "\"\"", 2);
		else
			buf_put(buf, len, cap, p, 1);
	}
	if (quote)
		buf_put(buf, len, cap, "\"", 1);
	buf_put(buf, len, cap, last ? "\r\n" : ",", last ? 2 : 1);
}

void flowjson_csv_row(const struct flow *f, ng_time window, char **buf, size_t *len, size_t *cap)
{
	char n[16][32], la[NG_ADDRSTRLEN], ra[NG_ADDRSTRLEN], t1[NG_TIMESTRLEN], t2[NG_TIMESTRLEN], reason[320];
	char pbuf[16];
	const struct geo_info *g = f->geo;

	snprintf(n[0], sizeof n[0], "%llu", (unsigned long long)f->id);
	snprintf(n[1], sizeof n[1], "%u", flow_local_port(f));
	snprintf(n[2], sizeof n[2], "%u", flow_remote_port(f));
	snprintf(n[3], sizeof n[3], "%d", f->proc ? (int)f->proc->pid : 0);
	snprintf(n[4], sizeof n[4], "%u", g ? g->asn : 0);
	snprintf(n[5], sizeof n[5], "%llu", (unsigned long long)f->packets[0]);
	snprintf(n[6], sizeof n[6], "%llu", (unsigned long long)f->packets[1]);
	snprintf(n[7], sizeof n[7], "%llu", (unsigned long long)f->bytes[0]);
	snprintf(n[8], sizeof n[8], "%llu", (unsigned long long)f->bytes[1]);
	csv_field(buf, len, cap, n[0], false);
	csv_field(buf, len, cap, flowjson_proto_name(f->key.proto, pbuf, sizeof pbuf), false);
	csv_field(buf, len, cap, addr_format(flow_local_ip(f), la, sizeof la), false);
	csv_field(buf, len, cap, n[1], false);
	csv_field(buf, len, cap, addr_format(flow_remote_ip(f), ra, sizeof ra), false);
	csv_field(buf, len, cap, n[2], false);
	csv_field(buf, len, cap, f->domain, false);
	csv_field(buf, len, cap, flowjson_domain_source_name(f->domain_source), false);
	csv_field(buf, len, cap, f->proc ? f->proc->name : NULL, false);
	csv_field(buf, len, cap, f->proc ? n[3] : NULL, false);
	csv_field(buf, len, cap, g && g->country[0] ? g->country : NULL, false);
	csv_field(buf, len, cap, g ? g->city : NULL, false);
	csv_field(buf, len, cap, g && g->asn ? n[4] : NULL, false);
	csv_field(buf, len, cap, g ? g->as_org : NULL, false);
	csv_field(buf, len, cap, n[5], false);
	csv_field(buf, len, cap, n[6], false);
	csv_field(buf, len, cap, n[7], false);
	csv_field(buf, len, cap, n[8], false);
	csv_field(buf, len, cap, time_format(f->first_seen, t1, sizeof t1), false);
	csv_field(buf, len, cap, time_format(f->last_seen, t2, sizeof t2), false);
	csv_field(buf, len, cap, flowjson_state_name(f->state), false);
	csv_field(buf, len, cap, f->end_reason == FLOW_END_NONE ? "true" : "false", false);
	csv_field(buf, len, cap, wl_verdict_name((enum wl_verdict)f->verdicts[0].verdict), false);
	csv_field(buf, len, cap, wl_verdict_name((enum wl_verdict)f->verdicts[1].verdict), false);
	csv_field(buf, len, cap, wl_verdict_name(engine_flow_verdict(f)), false);
	csv_field(buf, len, cap, flowjson_reason(f, window, reason, sizeof reason), true);
}
