/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ipfix.c: an IPFIX Exporting Process (RFC 7011) for netglobe's flows.
 *
 * DESIGN. One netglobe flow is a conversation seen from this host; it goes
 * out as up to two uniflow Data Records, one per direction that carried
 * packets, the source being that direction's sender (flowDirection says
 * egress or ingress). nfdump 1.7 also decodes RFC 5103 biflows (checked),
 * but a collector that ignores the reverse elements would silently lose the
 * received half of every flow, while uniflows are counted right by every
 * NetFlow/IPFIX collector and `nfdump -b` pairs them again. flowId carries
 * netglobe's flow id in both records, so they can be joined exactly.
 *
 * Records are packed into one message at a time (UDP: as big as the path
 * MTU allows) that is sent when full and on the loop's tick, so a record
 * waits at most one tick.
 * Sending never blocks: a full socket buffer, a refusing collector or a TCP
 * connection that is down drops the records and counts them; the sequence
 * number still advances, so the collector sees the gap (RFC 7011 10.3.2).
 *
 * Long flows (daemon mode): the engine calls flow_update at its publish
 * tick for flows that saw packets; once a flow's packet clock is an active
 * timeout past its last record it gets interim records with delta counts.
 * What was already exported lives in a small open-addressing table keyed by
 * flow id, holding only flows that outlived one active timeout and bounded
 * in size; its entry goes when the flow ends.
 *
 * UDP templates go in the first message and again every template_refresh
 * (60 s) or template_refresh_msgs (1000) messages (RFC 7011 8.4). TCP sends
 * them once at the start of every connection, which is also a new sequence
 * number space; a lost connection is retried with exponential backoff.
 */
#include "ipfix.h"

#include <errno.h>
#include "platform.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "communityid.h"
#include "detect.h"
#include "engine.h"
#include "output.h"
#include "geoip.h"
#include "log.h"
#include "proc.h"

#define IPFIX_VERSION 10
#define IPFIX_HDR_LEN 16		/* RFC 7011 3.1 */
#define IPFIX_SET_TEMPLATE 2		/* RFC 7011 3.3.2 */
#define IPFIX_VARLEN 65535		/* RFC 7011 7 */
#define IPFIX_STR_MAX 254		/* strings keep the one-octet length form */
#define UDP_MTU 1400			/* when the kernel does not know the path MTU: fits Ethernet, v4 and v6 */
#define UDP_MAX 8192			/* the most any collector's receive buffer is assumed to take */
#define TCP_MTU 16384
#define MIN_MTU 768			/* header + templates' worst case and the longest record */
#define MAX_MTU 65535
#define UDP_SNDBUF (1 << 20)
#define TCP_BUF (1 << 20)		/* bytes queued for a TCP collector at most */
#define TCP_MSGQ 4096			/* messages queued at most */
#define TCP_BACKOFF_MIN NG_USEC
#define TCP_BACKOFF_MAX (60 * NG_USEC)
#define TCP_CLOSE_WAIT (NG_USEC / 2)	/* SIGTERM must end the daemon within a second */
#define LIVE_MAX (1u << 18)		/* long flows tracked for delta counts */
#define DEFAULT_REFRESH (60 * NG_USEC)
#define DEFAULT_REFRESH_MSGS 1000

/* What a template field holds. */
enum field_kind {
	FK_SRC_ADDR,
	FK_DST_ADDR,
	FK_SRC_PORT,
	FK_DST_PORT,
	FK_PROTO,
	FK_IP_VERSION,
	FK_DIRECTION,
	FK_END_REASON,
	FK_OCTETS,
	FK_PACKETS,
	FK_START,
	FK_END,
	FK_FLOW_ID,
	FK_SRC_AS,
	FK_DST_AS,
	FK_VERDICT_SENT,
	FK_VERDICT_RECEIVED,
	FK_VERDICT,
	FK_INITIATOR,
	FK_DOMAIN_SOURCE,
	FK_PID,
	FK_COUNTRY,
	FK_DOMAIN,
	FK_PROCESS,
	FK_ATTENTION,
	FK_SIGNALS,
	FK_COMMUNITY_ID,
};

/* One field specifier of a template (RFC 7011 3.2). */
struct ipfix_field {
	uint16_t id;
	uint16_t len;		/* IPFIX_VARLEN: variable length */
	uint32_t pen;		/* 0: an IANA element */
	uint8_t kind;		/* enum field_kind */
};

/*
 * Both templates share everything after the addresses; docs/ipfix.md lists
 * the same fields in the same order.
 */
#define COMMON_FIELDS                                                                      \
	{7, 2, 0, FK_SRC_PORT},			/* sourceTransportPort */                  \
	{11, 2, 0, FK_DST_PORT},		/* destinationTransportPort */             \
	{4, 1, 0, FK_PROTO},			/* protocolIdentifier */                   \
	{60, 1, 0, FK_IP_VERSION},		/* ipVersion */                            \
	{61, 1, 0, FK_DIRECTION},		/* flowDirection */                        \
	{136, 1, 0, FK_END_REASON},		/* flowEndReason */                        \
	{1, 8, 0, FK_OCTETS},			/* octetDeltaCount */                      \
	{2, 8, 0, FK_PACKETS},			/* packetDeltaCount */                     \
	{152, 8, 0, FK_START},			/* flowStartMilliseconds */                \
	{153, 8, 0, FK_END},			/* flowEndMilliseconds */                  \
	{148, 8, 0, FK_FLOW_ID},		/* flowId */                               \
	{16, 4, 0, FK_SRC_AS},			/* bgpSourceAsNumber */                    \
	{17, 4, 0, FK_DST_AS},			/* bgpDestinationAsNumber */               \
	{IPFIX_NG_VERDICT_SENT, 1, IPFIX_PEN, FK_VERDICT_SENT},                            \
	{IPFIX_NG_VERDICT_RECEIVED, 1, IPFIX_PEN, FK_VERDICT_RECEIVED},                    \
	{IPFIX_NG_VERDICT, 1, IPFIX_PEN, FK_VERDICT},                                      \
	{IPFIX_NG_INITIATOR, 1, IPFIX_PEN, FK_INITIATOR},                                  \
	{IPFIX_NG_REMOTE_DOMAIN_SOURCE, 1, IPFIX_PEN, FK_DOMAIN_SOURCE},                   \
	{IPFIX_NG_PROCESS_ID, 4, IPFIX_PEN, FK_PID},                                       \
	{IPFIX_NG_COUNTRY_CODE, 2, IPFIX_PEN, FK_COUNTRY},                                 \
	{IPFIX_NG_REMOTE_DOMAIN, IPFIX_VARLEN, IPFIX_PEN, FK_DOMAIN},                      \
	{IPFIX_NG_PROCESS_NAME, IPFIX_VARLEN, IPFIX_PEN, FK_PROCESS},                     \
	{IPFIX_NG_ATTENTION, 1, IPFIX_PEN, FK_ATTENTION},                                  \
	{IPFIX_NG_SIGNALS, 4, IPFIX_PEN, FK_SIGNALS},                                      \
	{IPFIX_NG_COMMUNITY_ID, COMMUNITYID_LEN - 1, IPFIX_PEN, FK_COMMUNITY_ID}

static const struct ipfix_field fields_v4[] = {
	{8, 4, 0, FK_SRC_ADDR},			/* sourceIPv4Address */
	{12, 4, 0, FK_DST_ADDR},		/* destinationIPv4Address */
	COMMON_FIELDS,
};

static const struct ipfix_field fields_v6[] = {
	{27, 16, 0, FK_SRC_ADDR},		/* sourceIPv6Address */
	{28, 16, 0, FK_DST_ADDR},		/* destinationIPv6Address */
	COMMON_FIELDS,
};

/* One Data Record before encoding. */
struct ipfix_rec {
	const ng_addr *src, *dst;
	uint16_t sport, dport;
	uint8_t proto, ipver, direction, reason;
	uint64_t octets, packets, flow_id;
	ng_time start, end;
	uint32_t src_as, dst_as;
	uint8_t verdict_sent, verdict_received, verdict, initiator, domain_source, attention;
	uint32_t pid, signals;
	char cc[2];
	char cid[COMMUNITYID_LEN];
	const char *domain, *process;
	size_t domain_len, process_len;
};

/* What was already exported of a long flow. */
struct ipfix_live {
	uint64_t id;		/* 0: empty slot (flow ids start at 1) */
	ng_time last_end;	/* flowEndMilliseconds of its last interim records */
	uint64_t packets[2], bytes[2];
};

enum tcp_state {
	TCP_DOWN = 0,
	TCP_CONNECTING,
	TCP_UP,
};

/* A queued TCP message: where it ends in the out buffer and how many records it holds. */
struct tcp_msg {
	size_t end;
	uint32_t records;
};

struct ipfix {
	char collector[320];		/* "udp://HOST:PORT", for logs and stats */
	bool tcp;
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	ipfix_send_fn fn;
	void *fnarg;
	ng_time (*clock)(void);
	uint32_t domain;
	ng_time active_timeout, refresh;
	bool interim;			/* as an output: active-timeout records from flow_new/flow_update */
	uint32_t refresh_msgs;
	size_t mtu;

	/* Templates, encoded once. */
	uint8_t tmpl[640];
	size_t tmpl_len;
	size_t fixed_len[2];		/* record bytes without the strings: IPv4, IPv6 */

	/* The message being filled. */
	uint8_t *msg;
	size_t len;			/* 0: no message started */
	size_t set_off;			/* offset of the open data set's header, 0: none */
	uint16_t set_tid;
	uint32_t msg_records;

	/* Transport session. */
	uint32_t seq;			/* data records sent before the current message */
	bool templates_due;
	ng_time tmpl_sent;
	uint32_t msgs_since_tmpl;
	bool failing;			/* an outage was logged */
	uint64_t dropped_mark;

	/* TCP. */
	enum tcp_state state;
	uint8_t *out;
	size_t out_len, out_off;
	struct tcp_msg *q;
	size_t q_head, q_n;
	ng_time next_attempt, backoff;

	/* Long flows. */
	struct ipfix_live *live;
	size_t live_cap, live_n;

	struct ipfix_stats st;
};

static void ipfix_emit(struct ipfix *x, const uint8_t *m, size_t len, uint32_t records, ng_time now);
static void tcp_service(struct ipfix *x, ng_time now);

/* Big-endian writers. */
static uint8_t *put8(uint8_t *p, uint8_t v)
{
	*p = v;
	return p + 1;
}

static uint8_t *put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	return put32(p + 4, (uint32_t)v);
}

/* The length a string is cut to: at most IPFIX_STR_MAX bytes, never inside a UTF-8 sequence. */
static size_t str_cut(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	n = strnlen(s, IPFIX_STR_MAX + 1);
	if (n <= IPFIX_STR_MAX)
		return n;
	n = IPFIX_STR_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* Encode the template set holding both templates (RFC 7011 3.4.1); returns its length. */
static size_t encode_templates(uint8_t *buf)
{
	const struct ipfix_field *lists[2] = {fields_v4, fields_v6};
	const size_t counts[2] = {NG_ARRAY_LEN(fields_v4), NG_ARRAY_LEN(fields_v6)};
	const uint16_t tids[2] = {IPFIX_TEMPLATE_V4, IPFIX_TEMPLATE_V6};
	uint8_t *p = buf + 4;

	for (int t = 0; t < 2; t++) {
		p = put16(p, tids[t]);
		p = put16(p, (uint16_t)counts[t]);
		for (size_t i = 0; i < counts[t]; i++) {
			const struct ipfix_field *f = &lists[t][i];

			p = put16(p, (uint16_t)(f->id | (f->pen ? 0x8000 : 0)));
			p = put16(p, f->len);
			if (f->pen)
				p = put32(p, f->pen);
		}
	}
	put16(buf, IPFIX_SET_TEMPLATE);
	put16(buf + 2, (uint16_t)(p - buf));
	return (size_t)(p - buf);
}

/* Bytes of a record of this template without its variable-length strings (their length octets included). */
static size_t fixed_length(const struct ipfix_field *fl, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += fl[i].len == IPFIX_VARLEN ? 1 : fl[i].len;
	return len;
}

/* Encode one Data Record of a template at p; returns the end. */
static uint8_t *encode_record(const struct ipfix_field *fl, size_t n, const struct ipfix_rec *r, uint8_t *p)
{
	for (size_t i = 0; i < n; i++) {
		switch (fl[i].kind) {
		case FK_SRC_ADDR:
			memcpy(p, r->src->a, fl[i].len);
			p += fl[i].len;
			break;
		case FK_DST_ADDR:
			memcpy(p, r->dst->a, fl[i].len);
			p += fl[i].len;
			break;
		case FK_SRC_PORT:
			p = put16(p, r->sport);
			break;
		case FK_DST_PORT:
			p = put16(p, r->dport);
			break;
		case FK_PROTO:
			p = put8(p, r->proto);
			break;
		case FK_IP_VERSION:
			p = put8(p, r->ipver);
			break;
		case FK_DIRECTION:
			p = put8(p, r->direction);
			break;
		case FK_END_REASON:
			p = put8(p, r->reason);
			break;
		case FK_OCTETS:
			p = put64(p, r->octets);
			break;
		case FK_PACKETS:
			p = put64(p, r->packets);
			break;
		case FK_START:
			p = put64(p, (uint64_t)(r->start / 1000));
			break;
		case FK_END:
			p = put64(p, (uint64_t)(r->end / 1000));
			break;
		case FK_FLOW_ID:
			p = put64(p, r->flow_id);
			break;
		case FK_SRC_AS:
			p = put32(p, r->src_as);
			break;
		case FK_DST_AS:
			p = put32(p, r->dst_as);
			break;
		case FK_VERDICT_SENT:
			p = put8(p, r->verdict_sent);
			break;
		case FK_VERDICT_RECEIVED:
			p = put8(p, r->verdict_received);
			break;
		case FK_VERDICT:
			p = put8(p, r->verdict);
			break;
		case FK_INITIATOR:
			p = put8(p, r->initiator);
			break;
		case FK_DOMAIN_SOURCE:
			p = put8(p, r->domain_source);
			break;
		case FK_PID:
			p = put32(p, r->pid);
			break;
		case FK_COUNTRY:
			p[0] = (uint8_t)r->cc[0];
			p[1] = (uint8_t)r->cc[1];
			p += 2;
			break;
		case FK_DOMAIN:	/* RFC 7011 7: one length octet below 255 */
			p = put8(p, (uint8_t)r->domain_len);
			if (r->domain_len)
				memcpy(p, r->domain, r->domain_len);
			p += r->domain_len;
			break;
		case FK_PROCESS:
			p = put8(p, (uint8_t)r->process_len);
			if (r->process_len)
				memcpy(p, r->process, r->process_len);
			p += r->process_len;
			break;
		case FK_ATTENTION:
			p = put8(p, r->attention);
			break;
		case FK_SIGNALS:
			p = put32(p, r->signals);
			break;
		case FK_COMMUNITY_ID:
			memcpy(p, r->cid, COMMUNITYID_LEN - 1);
			p += COMMUNITYID_LEN - 1;
			break;
		}
	}
	return p;
}

/* Log the start of an outage once. */
static void note_failure(struct ipfix *x, int err, const char *what)
{
	if (x->failing)
		return;
	x->failing = true;
	x->dropped_mark = x->st.dropped;
	log_warnx("IPFIX collector %s: %s%s%s; dropping records until it works again (counted in /api/stats export)",
		  x->collector, what, err ? ": " : "", err ? strerror(err) : "");
}

/* Log the end of an outage. */
static void note_success(struct ipfix *x)
{
	if (!x->failing)
		return;
	x->failing = false;
	log_info("IPFIX collector %s works again; %llu records were dropped meanwhile", x->collector,
		 (unsigned long long)(x->st.dropped - x->dropped_mark));
}

/* Close the data set being filled by writing its length. */
static void close_set(struct ipfix *x)
{
	if (!x->set_off)
		return;
	put16(x->msg + x->set_off + 2, (uint16_t)(x->len - x->set_off));
	x->set_off = 0;
}

/* Start a message: room for the header, then the templates when they are due. */
static void begin_message(struct ipfix *x)
{
	ng_time now;

	x->len = IPFIX_HDR_LEN;
	x->set_off = 0;
	x->msg_records = 0;
	if (!x->tcp && !x->templates_due) {
		now = x->clock();
		if (now - x->tmpl_sent >= x->refresh || x->msgs_since_tmpl >= x->refresh_msgs)
			x->templates_due = true;
	}
	if (x->templates_due) {
		memcpy(x->msg + x->len, x->tmpl, x->tmpl_len);
		x->len += x->tmpl_len;
		x->templates_due = false;
		x->tmpl_sent = x->clock();
		x->msgs_since_tmpl = 0;
		x->st.templates++;
	}
	x->msgs_since_tmpl++;
}

void ipfix_flush(struct ipfix *x)
{
	ng_time now;

	if (!x || x->len == 0)
		return;
	close_set(x);
	now = x->clock();
	put16(x->msg, IPFIX_VERSION);
	put16(x->msg + 2, (uint16_t)x->len);
	put32(x->msg + 4, (uint32_t)(now / NG_USEC));
	put32(x->msg + 8, x->seq);
	put32(x->msg + 12, x->domain);
	/* The sequence number counts records, lost ones too, so a collector sees the loss. */
	x->seq += x->msg_records;
	ipfix_emit(x, x->msg, x->len, x->msg_records, now);
	x->len = 0;
	x->msg_records = 0;
	if (x->tcp && x->state == TCP_DOWN && now >= x->next_attempt)
		tcp_service(x, now);
}

/* Append one record, starting or sending messages as needed. */
static void add_record(struct ipfix *x, const struct ipfix_rec *r)
{
	int fam = r->ipver == 6;
	const struct ipfix_field *fl = fam ? fields_v6 : fields_v4;
	size_t nfl = fam ? NG_ARRAY_LEN(fields_v6) : NG_ARRAY_LEN(fields_v4);
	uint16_t tid = fam ? IPFIX_TEMPLATE_V6 : IPFIX_TEMPLATE_V4;
	size_t rlen = x->fixed_len[fam] + r->domain_len + r->process_len;
	size_t need = rlen + (x->set_off && x->set_tid == tid ? 0 : 4);

	if (x->len && x->len + need > x->mtu)
		ipfix_flush(x);
	if (!x->len) {
		begin_message(x);
		if (x->len + rlen + 4 > x->mtu) {	/* the templates took the room: they go alone */
			ipfix_flush(x);
			begin_message(x);
		}
	}
	if (!x->set_off || x->set_tid != tid) {
		close_set(x);
		x->set_off = x->len;
		x->set_tid = tid;
		put16(x->msg + x->len, tid);
		put16(x->msg + x->len + 2, 0);
		x->len += 4;
	}
	x->len = (size_t)(encode_record(fl, nfl, r, x->msg + x->len) - x->msg);
	x->msg_records++;
	x->st.records++;
}

/* flowEndReason for how a flow ended (RFC 5102 5.11.3). */
static uint8_t end_reason(uint8_t reason)
{
	switch (reason) {
	case FLOW_END_CLOSED:
		return IPFIX_END_DETECTED;
	case FLOW_END_IDLE:
		return IPFIX_END_IDLE;
	case FLOW_END_EVICTED:
		return IPFIX_END_RESOURCES;
	default:
		return IPFIX_END_FORCED;	/* still active: end of the file, shutdown */
	}
}

/* Build and add the record of direction d of f. */
static void flow_record(struct ipfix *x, const struct flow *f, int d, uint64_t packets, uint64_t octets,
			ng_time start, uint8_t reason)
{
	struct ipfix_rec r;
	bool sent = d == FLOW_SENT;
	uint32_t remote_as = f->geo ? f->geo->asn : 0;

	r.src = sent ? flow_local_ip(f) : flow_remote_ip(f);
	r.dst = sent ? flow_remote_ip(f) : flow_local_ip(f);
	r.sport = sent ? flow_local_port(f) : flow_remote_port(f);
	r.dport = sent ? flow_remote_port(f) : flow_local_port(f);
	r.proto = f->key.proto;
	r.ipver = f->key.va == 6 ? 6 : 4;
	r.direction = sent ? 1 : 0;	/* flowDirection: 0 ingress, 1 egress (RFC 5102 5.11.6) */
	r.reason = reason;
	r.octets = octets;
	r.packets = packets;
	r.flow_id = f->id;
	r.start = start;
	r.end = flow_last_seen(f);
	r.src_as = sent ? 0 : remote_as;
	r.dst_as = sent ? remote_as : 0;
	r.verdict_sent = flow_verdict(f, FLOW_SENT)->verdict;
	r.verdict_received = flow_verdict(f, FLOW_RECEIVED)->verdict;
	r.verdict = (uint8_t)engine_flow_verdict(f);
	r.initiator = f->initiator_local ? 1 : 2;
	r.domain_source = flow_domain(f) ? f->domain_source : FLOW_DOMAIN_NONE;
	r.pid = f->proc && f->proc->pid > 0 ? (uint32_t)f->proc->pid : 0;
	r.cc[0] = f->geo && f->geo->country[0] && f->geo->country[1] ? f->geo->country[0] : '\0';
	r.cc[1] = r.cc[0] ? f->geo->country[1] : '\0';
	r.domain = flow_domain(f);
	r.domain_len = str_cut(flow_domain(f));
	r.process = f->proc ? f->proc->name : NULL;
	r.process_len = str_cut(r.process);
	r.attention = f->attention;
	r.signals = detect_signal_mask(f);
	communityid_flow(f, false, r.cid, sizeof r.cid);
	add_record(x, &r);
}

/* Slot of a flow id in the long-flow table (its own or the empty one where it would go). */
static size_t live_slot(const struct ipfix *x, uint64_t id)
{
	size_t mask = x->live_cap - 1, i = (size_t)(ng_hash64(&id, sizeof id, 0x69706678ULL) & mask);

	while (x->live[i].id && x->live[i].id != id)
		i = (i + 1) & mask;
	return i;
}

/* The long-flow entry of a flow id, or NULL. */
static struct ipfix_live *live_find(struct ipfix *x, uint64_t id)
{
	size_t i;

	if (!x->live_n)
		return NULL;
	i = live_slot(x, id);
	return x->live[i].id ? &x->live[i] : NULL;
}

/* A new zeroed entry for a flow id, or NULL when the table is at its bound. */
static struct ipfix_live *live_insert(struct ipfix *x, uint64_t id)
{
	size_t i;

	if (x->live_n >= LIVE_MAX)
		return NULL;
	if ((x->live_n + 1) * 2 > x->live_cap) {
		struct ipfix_live *old = x->live;
		size_t oldcap = x->live_cap;

		x->live_cap = oldcap ? oldcap * 2 : 256;
		x->live = xcalloc(x->live_cap, sizeof *x->live);
		for (size_t j = 0; j < oldcap; j++) {
			if (old[j].id)
				x->live[live_slot(x, old[j].id)] = old[j];
		}
		free(old);
	}
	i = live_slot(x, id);
	memset(&x->live[i], 0, sizeof x->live[i]);
	x->live[i].id = id;
	x->live_n++;
	return &x->live[i];
}

/* Remove an entry, shifting later ones of its probe run back (no tombstones). */
static void live_delete(struct ipfix *x, struct ipfix_live *l)
{
	size_t mask = x->live_cap - 1, i = (size_t)(l - x->live), j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!x->live[j].id)
			break;
		home = (size_t)(ng_hash64(&x->live[j].id, sizeof x->live[j].id, 0x69706678ULL) & mask);
		/* Move j into the hole i when its home is not cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			x->live[i] = x->live[j];
			i = j;
		}
	}
	x->live[i].id = 0;
	x->live_n--;
}

void ipfix_flow_end(struct ipfix *x, const struct flow *f)
{
	struct ipfix_live *l;
	uint8_t reason;

	if (!x)
		return;
	l = live_find(x, f->id);
	reason = end_reason(f->end_reason);
	for (int d = 0; d < 2; d++) {
		uint64_t p = f->packets[d] - (l ? l->packets[d] : 0), b = f->bytes[d] - (l ? l->bytes[d] : 0);
		ng_time start = flow_dir_first(f, d);

		if (p == 0)
			continue;
		if (l && l->last_end > start)
			start = l->last_end;
		flow_record(x, f, d, p, b, start, reason);
	}
	if (l)
		live_delete(x, l);
}

void ipfix_flow_update(struct ipfix *x, const struct flow *f)
{
	struct ipfix_live *l;
	ng_time since;

	if (!x || x->active_timeout <= 0 || f->end_reason != FLOW_END_NONE)
		return;
	l = live_find(x, f->id);
	since = l ? l->last_end : f->first_seen;
	if (flow_last_seen(f) - since < x->active_timeout)
		return;
	if (!l && !(l = live_insert(x, f->id))) {
		x->st.interim_skipped++;
		return;
	}
	for (int d = 0; d < 2; d++) {
		uint64_t p = f->packets[d] - l->packets[d], b = f->bytes[d] - l->bytes[d];
		ng_time start = flow_dir_first(f, d);

		if (p == 0)
			continue;
		if (l->last_end > start)
			start = l->last_end;
		flow_record(x, f, d, p, b, start, IPFIX_END_ACTIVE);
		x->st.interim++;
		l->packets[d] = f->packets[d];
		l->bytes[d] = f->bytes[d];
	}
	l->last_end = flow_last_seen(f);
}

/* Drop every queued TCP message, counting its records. */
static void tcp_discard(struct ipfix *x)
{
	for (size_t i = 0; i < x->q_n; i++)
		x->st.dropped += x->q[(x->q_head + i) % TCP_MSGQ].records;
	x->q_n = 0;
	x->q_head = 0;
	x->out_len = 0;
	x->out_off = 0;
}

/* The connection failed: close it, drop what was queued, retry after the backoff. */
static void tcp_fail(struct ipfix *x, ng_time now, int err, const char *what)
{
	note_failure(x, err, what);
	if (x->fd >= 0)
		platform_socket_close(x->fd);
	x->fd = -1;
	x->state = TCP_DOWN;
	tcp_discard(x);
	x->next_attempt = now + x->backoff;
	x->backoff = NG_MIN(x->backoff * 2, TCP_BACKOFF_MAX);
}

/* Start a new connection, which is a new session: sequence numbers from 0, templates first. */
static void tcp_connect(struct ipfix *x, ng_time now)
{
	x->fd = socket(x->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->fd < 0) {
		tcp_fail(x, now, errno, "socket");
		return;
	}
	x->seq = 0;
	x->templates_due = true;
	x->state = TCP_CONNECTING;
	if (connect(x->fd, (struct sockaddr *)&x->addr, x->addrlen) != 0 && errno != EINPROGRESS)
		tcp_fail(x, now, errno, "connect");
}

/* Write queued bytes until the socket would block. */
static void tcp_drain(struct ipfix *x, ng_time now)
{
	while (x->out_off < x->out_len) {
		ssize_t n = send(x->fd, x->out + x->out_off, x->out_len - x->out_off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				tcp_fail(x, now, errno, "send");
			return;
		}
		x->out_off += (size_t)n;
		while (x->q_n && x->q[x->q_head].end <= x->out_off) {
			x->q_head = (x->q_head + 1) % TCP_MSGQ;
			x->q_n--;
		}
	}
	x->out_off = x->out_len = 0;
	x->q_n = x->q_head = 0;
}

/* Move the TCP connection along: connect when due, notice completion or loss, write what is queued. */
static void tcp_service(struct ipfix *x, ng_time now)
{
	struct pollfd p;
	int soerr = 0;
	socklen_t sl = sizeof soerr;

	if (x->state == TCP_DOWN) {
		if (now >= x->next_attempt)
			tcp_connect(x, now);
		if (x->state == TCP_DOWN)
			return;
	}
	p.fd = x->fd;
	p.events = POLLIN | POLLOUT;
	p.revents = 0;
	if (poll(&p, 1, 0) <= 0)
		return;
	if (x->state == TCP_CONNECTING) {
		if (!(p.revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		if (getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
			soerr = errno;
		if (soerr) {
			tcp_fail(x, now, soerr, "connect");
			return;
		}
		x->state = TCP_UP;
		x->st.connects++;
		x->backoff = TCP_BACKOFF_MIN;
		if (x->failing)
			note_success(x);
		else
			log_debug("IPFIX: connected to %s", x->collector);
	}
	if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
		char buf[512];
		ssize_t n = recv(x->fd, buf, sizeof buf, MSG_DONTWAIT);

		if (n == 0) {
			tcp_fail(x, now, 0, "the collector closed the connection");
			return;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			tcp_fail(x, now, errno, "recv");
			return;
		}
	}
	tcp_drain(x, now);
}

/* Queue a finished message on the TCP connection, or drop it when down or over the bound. */
static void tcp_send(struct ipfix *x, const uint8_t *m, size_t len, uint32_t records, ng_time now)
{
	if (x->state == TCP_DOWN || x->q_n == TCP_MSGQ) {
		x->st.dropped += records;
		return;
	}
	if (x->out_len + len > TCP_BUF && x->out_off > 0) {
		memmove(x->out, x->out + x->out_off, x->out_len - x->out_off);
		for (size_t i = 0; i < x->q_n; i++)
			x->q[(x->q_head + i) % TCP_MSGQ].end -= x->out_off;
		x->out_len -= x->out_off;
		x->out_off = 0;
	}
	if (x->out_len + len > TCP_BUF) {
		x->st.dropped += records;
		note_failure(x, ENOBUFS, "the collector is not keeping up");
		return;
	}
	memcpy(x->out + x->out_len, m, len);
	x->out_len += len;
	x->q[(x->q_head + x->q_n) % TCP_MSGQ].end = x->out_len;
	x->q[(x->q_head + x->q_n) % TCP_MSGQ].records = records;
	x->q_n++;
	x->st.messages++;
	x->st.bytes += len;
	tcp_service(x, now);
}

/* Hand a finished message to the transport. */
static void ipfix_emit(struct ipfix *x, const uint8_t *m, size_t len, uint32_t records, ng_time now)
{
	ssize_t n;

	if (x->fn) {
		if (x->fn(x->fnarg, m, len) == 0) {
			x->st.messages++;
			x->st.bytes += len;
		} else {
			x->st.dropped += records;
		}
		return;
	}
	if (x->tcp) {
		tcp_send(x, m, len, records, now);
		return;
	}
	do
		n = send(x->fd, m, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		/* EAGAIN/ENOBUFS: the send buffer is full; ECONNREFUSED: nobody listens (ICMP). */
		x->st.dropped += records;
		note_failure(x, errno, errno == EAGAIN || errno == EWOULDBLOCK ? "send buffer full" : "send");
		return;
	}
	x->st.messages++;
	x->st.bytes += len;
	note_success(x);
}

void ipfix_tick(struct ipfix *x, ng_time wall)
{
	if (!x)
		return;
	ipfix_flush(x);
	if (x->tcp) {
		tcp_service(x, wall);
		return;
	}
	/* An idle exporter still refreshes its templates, so a restarted collector learns them. */
	if (x->refresh > 0 && x->clock() - x->tmpl_sent >= x->refresh) {
		begin_message(x);
		ipfix_flush(x);
	}
}

int ipfix_parse_collector(const char *s, char *host, size_t hostlen, char *port, size_t portlen, bool *tcp,
			  char *err, size_t errlen)
{
	const char *p = s, *h, *he, *pt;
	uint64_t n;

	*tcp = false;
	if (strncmp(p, "udp://", 6) == 0) {
		p += 6;
	} else if (strncmp(p, "tcp://", 6) == 0) {
		p += 6;
		*tcp = true;
	} else if (strstr(p, "://")) {
		snprintf(err, errlen, "bad --ipfix value '%s': unknown transport (use udp://HOST:PORT or tcp://HOST:PORT)",
			 s);
		return -1;
	}
	if (*p == '[') {
		h = p + 1;
		he = strchr(h, ']');
		if (!he || he[1] != ':')
			goto bad;
		pt = he + 2;
	} else {
		h = p;
		he = strrchr(p, ':');
		if (!he)
			goto bad;
		if (memchr(h, ':', (size_t)(he - h))) {
			snprintf(err, errlen, "bad --ipfix value '%s': put an IPv6 address in brackets, as in [2001:db8::1]:4739",
				 s);
			return -1;
		}
		pt = he + 1;
	}
	if (he == h || (size_t)(he - h) >= hostlen)
		goto bad;
	if (parse_uint(pt, 1, 65535, &n) != 0) {
		snprintf(err, errlen, "bad --ipfix value '%s': the port must be a number from 1 to 65535 (IPFIX uses 4739)",
			 s);
		return -1;
	}
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	snprintf(port, portlen, "%u", (unsigned)n);
	return 0;
bad:
	snprintf(err, errlen, "bad --ipfix value '%s': expected HOST:PORT, [IPV6]:PORT, udp://HOST:PORT or tcp://HOST:PORT",
		 s);
	return -1;
}

/*
 * The largest UDP message towards the collector: the path MTU the kernel
 * knows for its route less the IP and UDP headers (RFC 7011 10.3.3), so 1472
 * bytes on Ethernet over IPv4; at most UDP_MAX (loopback, jumbo frames);
 * UDP_MTU when the kernel does not say.
 */
static size_t udp_message_size(int fd, int family)
{
	int mtu = 0;
	socklen_t sl = sizeof mtu;
	int rc = family == AF_INET6 ? getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &sl)
				    : getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &sl);

	if (rc != 0 || mtu <= 0)
		return UDP_MTU;
	mtu -= family == AF_INET6 ? 48 : 28;
	return (size_t)NG_MAX(MIN_MTU, NG_MIN(UDP_MAX, mtu));
}

/* The common part of opening: defaults, templates, buffers. */
static struct ipfix *ipfix_new(const struct ipfix_options *o, bool tcp)
{
	struct ipfix *x = xcalloc(1, sizeof *x);
	char name[256];

	x->fd = -1;
	x->tcp = tcp;
	x->clock = o->clock ? o->clock : time_now;
	x->active_timeout = o->active_timeout;
	x->refresh = o->template_refresh > 0 ? o->template_refresh : DEFAULT_REFRESH;
	x->refresh_msgs = o->template_refresh_msgs ? o->template_refresh_msgs : DEFAULT_REFRESH_MSGS;
	x->mtu = o->mtu ? o->mtu : (tcp ? TCP_MTU : UDP_MTU);
	x->mtu = NG_MAX(MIN_MTU, NG_MIN(MAX_MTU, x->mtu));
	x->domain = o->domain_id;
	if (!x->domain) {
		/* Stable per host, so a collector can tell hosts apart even behind one NAT address. */
		if (gethostname(name, sizeof name) != 0)
			snprintf(name, sizeof name, "netglobe");
		name[sizeof name - 1] = '\0';
		/* FNV-1a, not ng_hash64: that one is seeded afresh each run, and this must survive restarts. */
		x->domain = 2166136261u;
		for (const char *c = name; *c; c++)
			x->domain = (x->domain ^ (uint8_t)*c) * 16777619u;
		x->domain &= 0x7fffffff;
		if (!x->domain)
			x->domain = 1;
	}
	x->tmpl_len = encode_templates(x->tmpl);
	x->fixed_len[0] = fixed_length(fields_v4, NG_ARRAY_LEN(fields_v4));
	x->fixed_len[1] = fixed_length(fields_v6, NG_ARRAY_LEN(fields_v6));
	x->msg = xmalloc(MAX_MTU);
	x->templates_due = true;
	x->backoff = TCP_BACKOFF_MIN;
	if (tcp) {
		x->out = xmalloc(TCP_BUF);
		x->q = xcalloc(TCP_MSGQ, sizeof *x->q);
	}
	return x;
}

struct ipfix *ipfix_open_fn(const struct ipfix_options *o, ipfix_send_fn fn, void *arg)
{
	struct ipfix *x = ipfix_new(o, false);

	x->fn = fn;
	x->fnarg = arg;
	snprintf(x->collector, sizeof x->collector, "(test sink)");
	return x;
}

struct ipfix *ipfix_open(const struct ipfix_options *o, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	struct ipfix *x = NULL;
	char host[256], port[8];
	bool tcp;
	int rc, sndbuf = UDP_SNDBUF;

	if (!o->collector || ipfix_parse_collector(o->collector, host, sizeof host, port, sizeof port, &tcp, err,
						   errlen) != 0) {
		if (!o->collector)
			snprintf(err, errlen, "no IPFIX collector given (use --ipfix HOST:PORT)");
		return NULL;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve IPFIX collector '%s': %s (check --ipfix %s)", host,
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc), o->collector);
		return NULL;
	}
	x = ipfix_new(o, tcp);
	memcpy(&x->addr, res->ai_addr, res->ai_addrlen);
	x->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	snprintf(x->collector, sizeof x->collector, "%s://%s%s%s:%s", tcp ? "tcp" : "udp", strchr(host, ':') ? "[" : "",
		 host, strchr(host, ':') ? "]" : "", port);
	if (tcp) {
		tcp_connect(x, x->clock());
		return x;
	}
	x->fd = socket(x->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (x->fd < 0) {
		snprintf(err, errlen, "cannot open a UDP socket for IPFIX export to %s: %s", x->collector, strerror(errno));
		goto fail;
	}
	(void)setsockopt(x->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	if (connect(x->fd, (struct sockaddr *)&x->addr, x->addrlen) != 0) {
		snprintf(err, errlen, "cannot reach IPFIX collector %s: %s (check --ipfix)", x->collector, strerror(errno));
		goto fail;
	}
	if (!o->mtu)
		x->mtu = udp_message_size(x->fd, x->addr.ss_family);
	return x;
fail:
	ipfix_close(x);
	return NULL;
}

void ipfix_close(struct ipfix *x)
{
	if (!x)
		return;
	ipfix_flush(x);
	if (x->tcp && x->fd >= 0) {
		ng_time deadline = time_mono() + TCP_CLOSE_WAIT;

		while (x->state != TCP_DOWN && (x->state == TCP_CONNECTING || x->out_off < x->out_len)) {
			ng_time left = deadline - time_mono();
			struct pollfd p = {.fd = x->fd, .events = POLLOUT};

			if (left <= 0)
				break;
			(void)poll(&p, 1, (int)NG_MAX(1, left / 1000));
			tcp_service(x, x->clock());
		}
		if (x->state != TCP_DOWN)
			tcp_discard(x);	/* what did not leave in time is lost */
	}
	if (x->collector[0] != '(' && (x->st.records || x->st.dropped))
		log_info("IPFIX to %s: %llu records in %llu messages, %llu dropped", x->collector,
			 (unsigned long long)x->st.records, (unsigned long long)x->st.messages,
			 (unsigned long long)x->st.dropped);
	if (x->fd >= 0)
		platform_socket_close(x->fd);
	free(x->msg);
	free(x->out);
	free(x->q);
	free(x->live);
	free(x);
}

void ipfix_get_stats(const struct ipfix *x, struct ipfix_stats *out)
{
	*out = x->st;
	out->connected = !x->tcp || x->state == TCP_UP;
}

void ipfix_stats_json(const struct ipfix *x, cJSON *o)
{
	struct ipfix_stats s;

	memset(&s, 0, sizeof s);
	if (x) {
		ipfix_get_stats(x, &s);
		cJSON_AddStringToObject(o, "ipfix_collector", x->collector);
	} else {
		cJSON_AddNullToObject(o, "ipfix_collector");
	}
	cJSON_AddNumberToObject(o, "ipfix_records", (double)s.records);
	cJSON_AddNumberToObject(o, "ipfix_dropped", (double)s.dropped);
	cJSON_AddNumberToObject(o, "ipfix_messages", (double)s.messages);
	cJSON_AddNumberToObject(o, "ipfix_bytes", (double)s.bytes);
	cJSON_AddNumberToObject(o, "ipfix_templates", (double)s.templates);
	cJSON_AddNumberToObject(o, "ipfix_interim", (double)s.interim);
	cJSON_AddNumberToObject(o, "ipfix_interim_skipped", (double)s.interim_skipped);
	cJSON_AddNumberToObject(o, "ipfix_connects", (double)s.connects);
	cJSON_AddBoolToObject(o, "ipfix_connected", x && s.connected);
}

/* The output's open: --ipfix; records of long flows at their active timeout in the daemon only. */
static void *ipfix_open_env(const struct output_env *env, char *err, size_t errlen)
{
	struct ipfix_options o;
	struct ipfix *x;

	if (!env->cfg->ipfix)
		return NULL;
	memset(&o, 0, sizeof o);
	o.collector = env->cfg->ipfix;
	o.active_timeout = env->cfg->ipfix_active_timeout;
	x = ipfix_open(&o, err, errlen);
	if (!x)
		return NULL;
	/* --dump exports a flow once, at its end. */
	x->interim = !env->dump && x->active_timeout > 0;
	log_info("exporting flows as IPFIX to %s (observation domain %u)", x->collector, x->domain);
	return x;
}

/* A flow ended, or is still open when the run ends (then its flowEndReason is "forced end"). */
static void ipfix_sink_end(void *arg, struct flow *f)
{
	ipfix_flow_end(arg, f);
}

/* A flow was published: a flow's first publish may already be long in a fast replay. */
static void ipfix_sink_update(void *arg, struct flow *f)
{
	struct ipfix *x = arg;

	if (x->interim)
		ipfix_flow_update(x, f);
}

/* The output's tick, on the wall clock. */
static void ipfix_tick_cb(void *arg, ng_time wall, ng_time mono)
{
	(void)mono;
	ipfix_tick(arg, wall);
}

/* The "ipfix_*" members of /api/stats "export" (the object is shared with other exporters). */
static void ipfix_stats_cb(void *arg, cJSON *doc)
{
	cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "export");

	if (!e)
		e = cJSON_AddObjectToObject(doc, "export");
	ipfix_stats_json(arg, e);
}

static int ipfix_close_cb(void *arg)
{
	ipfix_close(arg);
	return 0;
}

const struct output_type ipfix_output = {
	.name = "ipfix",
	.open = ipfix_open_env,
	.sink = {.flow_new = ipfix_sink_update, .flow_update = ipfix_sink_update, .flow_end = ipfix_sink_end},
	.flow_at_end = ipfix_sink_end,
	.tick = ipfix_tick_cb,
	.stats = ipfix_stats_cb,
	.close = ipfix_close_cb,
};
