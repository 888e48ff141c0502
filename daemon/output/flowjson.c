/* SPDX-License-Identifier: BSD-2-Clause */
/* flowjson.c: one place that turns a flow into the public JSON object and CSV row. */
#include "flowjson.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "communityid.h"
#include "detect.h"
#include "engine.h"
#include "enrich.h"
#include "geoip.h"
#include "log.h"
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
		if (len >= 7) {
			memcpy(buf, "ip-", 3);
			*put_u64(buf + 3, proto) = '\0';
		} else if (len) {
			buf[0] = '\0';
		}
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

/* Zeek's endpoint states (conn.log), as far as a flow's bits tell them. */
enum zeek_ep {
	EP_INACTIVE = 0,
	EP_PARTIAL,		/* spoke without a SYN (or SYN-ACK) seen */
	EP_SYN_SENT,
	EP_SYN_ACK_SENT,
	EP_ESTABLISHED,
	EP_CLOSED,		/* sent a FIN */
	EP_RESET,		/* sent a RST */
};

/*
 * One end's state: the originator (`orig`) sent the SYN, the responder the
 * SYN-ACK; a RST outranks a FIN, which outranks the handshake.
 */
static enum zeek_ep zeek_endpoint(const struct flow *f, int d, bool orig)
{
	if (f->rst_seen & (1u << d))
		return EP_RESET;
	if (f->fin_seen & (1u << d))
		return EP_CLOSED;
	if (f->handshake)
		return EP_ESTABLISHED;
	if (orig && (f->syn_seen & 1))
		return EP_SYN_SENT;
	if (!orig && f->synack_seen)
		return EP_SYN_ACK_SENT;
	return f->packets[d] ? EP_PARTIAL : EP_INACTIVE;
}

/*
 * DESIGN. Zeek's conn_state (base/protocols/conn/main.zeek documents the
 * codes) from what a flow keeps: who sent a SYN, a SYN-ACK, a FIN or a RST,
 * whether the handshake completed, and packets per direction. The
 * originator is the flow's initiator. Two of Zeek's tests use what a flow
 * does not keep, and are approximated: REJ for resets both ways needs no
 * payload (here: no handshake), and RSTOS0 needs the history "SYN, then
 * nothing but the RST" (here: a SYN and no SYN-ACK).
 */
const char *flowjson_conn_state(const struct flow *f)
{
	int od = f->initiator_local ? FLOW_SENT : FLOW_RECEIVED, rd = 1 - od;
	enum zeek_ep os, rs;
	bool o_inactive, r_inactive;

	if (f->key.proto == NG_PROTO_UDP) {
		if (f->packets[od])
			return f->packets[rd] ? "SF" : "S0";
		return f->packets[rd] ? "SHR" : "OTH";
	}
	if (f->key.proto != NG_PROTO_TCP)
		return "OTH";
	os = zeek_endpoint(f, od, true);
	rs = zeek_endpoint(f, rd, false);
	o_inactive = os == EP_INACTIVE || os == EP_PARTIAL;
	r_inactive = rs == EP_INACTIVE || rs == EP_PARTIAL;
	if (rs == EP_RESET) {
		if (os == EP_SYN_SENT || os == EP_SYN_ACK_SENT || (os == EP_RESET && !f->handshake))
			return "REJ";
		return o_inactive ? "RSTRH" : "RSTR";
	}
	if (os == EP_RESET) {
		if (!r_inactive)
			return "RSTO";
		return (f->syn_seen & 1) && !f->synack_seen ? "RSTOS0" : "OTH";
	}
	if (os == EP_CLOSED && rs == EP_CLOSED)
		return "SF";
	if (os == EP_CLOSED)
		return r_inactive ? "SH" : "S2";
	if (rs == EP_CLOSED)
		return o_inactive ? "SHR" : "S3";
	if (os == EP_SYN_SENT && rs == EP_INACTIVE)
		return "S0";
	if (os == EP_ESTABLISHED && rs == EP_ESTABLISHED)
		return "S1";
	return "OTH";
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
	if (f->packets[0] > 0 && flow_verdict(f, 0)->verdict == v)
		d = 0;
	else if (f->packets[1] > 0 && flow_verdict(f, 1)->verdict == v)
		d = 1;
	else
		d = flow_verdict(f, 0)->verdict == v ? 0 : 1;
	wl_reason_format(flow_verdict(f, d), window, why, sizeof why);
	if (both && flow_verdict(f, 0)->verdict != flow_verdict(f, 1)->verdict)
		str_append(buf, len, str_append(buf, len, str_append(buf, len, 0, dirname[d]), ": "), why);
	else
		str_append(buf, len, 0, why);
	return buf;
}

/* Helpers for the writer: a key, then a value of each kind (base/util.h has the string member). */
#define w_key sb_json_key
#define w_str sb_json_member_str

/*
 * A name from one of netglobe's tables (protocol, state, scope, verdict,
 * attention, signal) as a JSON string, or null: these are plain ASCII
 * identifiers, which sb_json_str would copy unchanged (test_flowjson.c
 * checks every one), so they are copied without the check.
 */
static char *put_name(char *p, const char *name)
{
	if (!name)
		return NG_PUT_LIT(p, "null");
	*p++ = '"';
	while (*name)	/* a few bytes: a loop beats a strlen and a memcpy call */
		*p++ = *name++;
	*p++ = '"';
	return p;
}

/* "true" or "false". */
static char *put_bool(char *p, bool v)
{
	return v ? NG_PUT_LIT(p, "true") : NG_PUT_LIT(p, "false");
}

/* "signals": [{"name", "value", "reason"}, ...] in detect.h's order. */
static void w_signals(struct strbuf *sb, const struct flow *f, ng_time window)
{
	struct sig_view sv[SIG_COUNT];
	size_t n = detect_signals(f, window, sv);
	char *p = sb_room(sb, 16);

	sb_done(sb, NG_PUT_LIT(p, ",\"signals\":["));
	for (size_t i = 0; i < n; i++) {
		p = sb_room(sb, 64 + NG_FIXED4LEN);
		if (i)
			*p++ = ',';
		p = NG_PUT_LIT(p, "{\"name\":");
		p = put_name(p, sig_name(sv[i].id));
		p = NG_PUT_LIT(p, ",\"value\":");
		p = put_fixed4(p, sv[i].value);
		p = NG_PUT_LIT(p, ",\"reason\":");
		sb_done(sb, p);
		sb_json_str(sb, sv[i].reason);
		sb_putc(sb, '}');
	}
	sb_putc(sb, ']');
}

cJSON *flowjson_signals(const struct flow *f, ng_time window)
{
	struct strbuf sb = {0};
	cJSON *arr;

	w_signals(&sb, f, window);
	arr = cJSON_Parse(sb.p + strlen(",\"signals\":"));
	free(sb.p);
	if (!arr)
		fatalx("internal error: the signals writer produced invalid JSON for flow %llu", (unsigned long long)f->id);
	return arr;
}

/* The signal names of f joined by ';' (for CSV), into buf; returns buf. */
static char *signal_names(const struct flow *f, ng_time window, char *buf, size_t len)
{
	struct sig_view sv[SIG_COUNT];
	size_t n = detect_signals(f, window, sv), used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		used = str_append(buf, len, str_append(buf, len, used, i ? ";" : ""), sig_name(sv[i].id));
	return buf;
}

/*
 * Room for the members between two strings of unbounded length: every key
 * and value there has a bound (numbers 20 bytes, addresses 45, times 27),
 * and all of them together stay well below this.
 */
#define FLOWJSON_ROOM 1024

/*
 * DESIGN. The flow object is written straight into a text buffer: building a
 * cJSON tree (about 40 allocations) and printing it (every number through
 * "%1.15g" and back through sscanf) cost more than decoding the flow's
 * packets. A /flows answer writes a hundred thousand of these, so the
 * members of bounded length are written through one pointer into reserved
 * room (keys as constant bytes, numbers, addresses, times and the Community
 * ID by the put_* formatters, names from netglobe's tables as they are), and
 * only text of unbounded length (domain, reason, rule, the enrichments) goes
 * through sb_json_str, which escapes and repairs UTF-8, so the output is
 * always one valid JSON object on one line. flowjson_object parses that
 * text for callers that want a tree to extend.
 */
void flowjson_append(const struct flow *f, ng_time window, struct strbuf *sb)
{
	char pbuf[16], reason[320];
	uint8_t cid[20];
	enum wl_verdict v = engine_flow_verdict(f);
	const char *end = flowjson_end_name(f->end_reason), *rule = flowjson_trust_rule(f);
	char *p = sb_room(sb, FLOWJSON_ROOM);

	p = NG_PUT_LIT(p, "{\"id\":");
	p = put_u64(p, f->id);
	p = NG_PUT_LIT(p, ",\"proto\":");
	p = put_name(p, flowjson_proto_name(f->key.proto, pbuf, sizeof pbuf));
	p = NG_PUT_LIT(p, ",\"proto_num\":");
	p = put_u64(p, f->key.proto);
	p = NG_PUT_LIT(p, ",\"ip_version\":");
	p = put_u64(p, f->key.va);
	p = NG_PUT_LIT(p, ",\"local_ip\":\"");
	p = addr_put(p, flow_local_ip(f));
	p = NG_PUT_LIT(p, "\",\"local_port\":");
	p = put_u64(p, flow_local_port(f));
	p = NG_PUT_LIT(p, ",\"remote_ip\":\"");
	p = addr_put(p, flow_remote_ip(f));
	p = NG_PUT_LIT(p, "\",\"remote_port\":");
	p = put_u64(p, flow_remote_port(f));
	p = f->initiator_local ? NG_PUT_LIT(p, ",\"initiator\":\"local\"") : NG_PUT_LIT(p, ",\"initiator\":\"remote\"");
	p = NG_PUT_LIT(p, ",\"packets_sent\":");
	p = put_u64(p, f->packets[FLOW_SENT]);
	p = NG_PUT_LIT(p, ",\"packets_received\":");
	p = put_u64(p, f->packets[FLOW_RECEIVED]);
	p = NG_PUT_LIT(p, ",\"bytes_sent\":");
	p = put_u64(p, f->bytes[FLOW_SENT]);
	p = NG_PUT_LIT(p, ",\"bytes_received\":");
	p = put_u64(p, f->bytes[FLOW_RECEIVED]);
	p = NG_PUT_LIT(p, ",\"first_seen\":\"");
	p = time_put(p, f->first_seen);
	p = NG_PUT_LIT(p, "\",\"last_seen\":\"");
	p = time_put(p, flow_last_seen(f));
	p = NG_PUT_LIT(p, "\",\"state\":");
	p = put_name(p, flowjson_state_name(f->state));
	p = NG_PUT_LIT(p, ",\"conn_state\":");
	p = put_name(p, flowjson_conn_state(f));
	p = NG_PUT_LIT(p, ",\"community_id\":\"");
	communityid_flow_digest(f, cid);
	p = communityid_put(cid, false, p);
	p = NG_PUT_LIT(p, "\",\"active\":");
	p = put_bool(p, f->end_reason == FLOW_END_NONE);
	p = NG_PUT_LIT(p, ",\"end_reason\":");
	p = put_name(p, end);
	p = NG_PUT_LIT(p, ",\"fragments\":");
	p = put_u64(p, f->fragments);
	p = NG_PUT_LIT(p, ",\"remote_scope\":");
	p = put_name(p, scope_name((enum ng_scope)f->remote_scope));
	sb_done(sb, p);
	enrich_json(f, sb);	/* "geo", "asn", "as_org", "process" (enrichments.c) */
	w_str(sb, "remote_domain", flow_domain(f));
	p = sb_room(sb, FLOWJSON_ROOM);
	p = NG_PUT_LIT(p, ",\"remote_domain_source\":");
	p = put_name(p, flowjson_domain_source_name(f->domain_source));
	p = NG_PUT_LIT(p, ",\"verdict_sent\":");
	p = put_name(p, wl_verdict_name((enum wl_verdict)flow_verdict(f, FLOW_SENT)->verdict));
	p = NG_PUT_LIT(p, ",\"verdict_received\":");
	p = put_name(p, wl_verdict_name((enum wl_verdict)flow_verdict(f, FLOW_RECEIVED)->verdict));
	p = NG_PUT_LIT(p, ",\"verdict\":");
	p = put_name(p, wl_verdict_name(v));
	sb_done(sb, p);
	w_str(sb, "reason", v != WL_NONE ? flowjson_reason(f, window, reason, sizeof reason) : NULL);
	p = sb_room(sb, FLOWJSON_ROOM);
	p = NG_PUT_LIT(p, ",\"attention\":");
	p = put_name(p, attention_name((enum ng_attention)f->attention));
	sb_done(sb, p);
	w_signals(sb, f, window);
	p = sb_room(sb, FLOWJSON_ROOM);
	p = NG_PUT_LIT(p, ",\"trusted_by_user\":");
	p = put_bool(p, rule != NULL);
	sb_done(sb, p);
	w_str(sb, "trust_rule", rule);
	p = sb_room(sb, FLOWJSON_ROOM);
	p = NG_PUT_LIT(p, ",\"evidence\":");
	p = put_bool(p, f->evidence);
	p = NG_PUT_LIT(p, ",\"evidence_url\":");
	if (f->evidence) {
		p = NG_PUT_LIT(p, "\"/flows/");
		p = put_u64(p, f->id);
		p = NG_PUT_LIT(p, "/pcap\"");
	} else {
		p = NG_PUT_LIT(p, "null");
	}
	*p++ = '}';
	sb_done(sb, p);
}

const char *flowjson_trust_rule(const struct flow *f)
{
	for (int d = 0; d < 2; d++) {
		const struct wl_verdict_info *v = flow_verdict(f, d);

		if (v->why == WL_WHY_ALLOWED && v->entry && strcmp(v->entry, WL_TRUSTED_NAME) == 0)
			return v->rule;
	}
	return NULL;
}

cJSON *flowjson_object(const struct flow *f, ng_time window)
{
	struct strbuf sb = {0};
	cJSON *o;

	flowjson_append(f, window, &sb);
	o = cJSON_Parse(sb.p);
	free(sb.p);
	if (!o)
		fatalx("internal error: the flow writer produced invalid JSON for flow %llu", (unsigned long long)f->id);
	return o;
}

const char *flowjson_csv_header(void)
{
	return "id,proto,local_ip,local_port,remote_ip,remote_port,remote_domain,remote_domain_source,"
	       "process_name,process_pid,country,city,asn,as_org,packets_sent,packets_received,bytes_sent,"
	       "bytes_received,first_seen,last_seen,state,active,verdict_sent,verdict_received,verdict,reason,attention,"
	       "signals,community_id,conn_state\r\n";
}

void flowjson_csv_row(const struct flow *f, ng_time window, struct strbuf *sb)
{
	char n[16][32], la[NG_ADDRSTRLEN], ra[NG_ADDRSTRLEN], t1[NG_TIMESTRLEN], t2[NG_TIMESTRLEN], reason[320];
	char pbuf[16], sigs[256], cid[COMMUNITYID_LEN];
	const struct geo_info *g = f->geo;
	int pid = f->proc ? (int)f->proc->pid : 0;

	/* Numbers by hand (u64_format), not snprintf: a CSV answer writes nine a flow. */
	u64_format(f->id, n[0]);
	u64_format(flow_local_port(f), n[1]);
	u64_format(flow_remote_port(f), n[2]);
	if (pid < 0) {
		n[3][0] = '-';
		u64_format((uint64_t)-(int64_t)pid, n[3] + 1);
	} else {
		u64_format((uint64_t)pid, n[3]);
	}
	u64_format(g ? g->asn : 0, n[4]);
	u64_format(f->packets[0], n[5]);
	u64_format(f->packets[1], n[6]);
	u64_format(f->bytes[0], n[7]);
	u64_format(f->bytes[1], n[8]);
	sb_csv_field(sb, n[0], false);
	sb_csv_field(sb, flowjson_proto_name(f->key.proto, pbuf, sizeof pbuf), false);
	sb_csv_field(sb, addr_format(flow_local_ip(f), la, sizeof la), false);
	sb_csv_field(sb, n[1], false);
	sb_csv_field(sb, addr_format(flow_remote_ip(f), ra, sizeof ra), false);
	sb_csv_field(sb, n[2], false);
	sb_csv_field(sb, flow_domain(f), false);
	sb_csv_field(sb, flowjson_domain_source_name(f->domain_source), false);
	sb_csv_field(sb, f->proc ? f->proc->name : NULL, false);
	sb_csv_field(sb, f->proc ? n[3] : NULL, false);
	sb_csv_field(sb, g && g->country[0] ? g->country : NULL, false);
	sb_csv_field(sb, g ? g->city : NULL, false);
	sb_csv_field(sb, g && g->asn ? n[4] : NULL, false);
	sb_csv_field(sb, g ? g->as_org : NULL, false);
	sb_csv_field(sb, n[5], false);
	sb_csv_field(sb, n[6], false);
	sb_csv_field(sb, n[7], false);
	sb_csv_field(sb, n[8], false);
	sb_csv_field(sb, time_format(f->first_seen, t1, sizeof t1), false);
	sb_csv_field(sb, time_format(flow_last_seen(f), t2, sizeof t2), false);
	sb_csv_field(sb, flowjson_state_name(f->state), false);
	sb_csv_field(sb, f->end_reason == FLOW_END_NONE ? "true" : "false", false);
	sb_csv_field(sb, wl_verdict_name((enum wl_verdict)flow_verdict(f, 0)->verdict), false);
	sb_csv_field(sb, wl_verdict_name((enum wl_verdict)flow_verdict(f, 1)->verdict), false);
	sb_csv_field(sb, wl_verdict_name(engine_flow_verdict(f)), false);
	sb_csv_field(sb, flowjson_reason(f, window, reason, sizeof reason), false);
	sb_csv_field(sb, attention_name((enum ng_attention)f->attention), false);
	sb_csv_field(sb, signal_names(f, window, sigs, sizeof sigs), false);
	sb_csv_field(sb, communityid_flow(f, false, cid, sizeof cid), false);
	sb_csv_field(sb, flowjson_conn_state(f), true);
}
