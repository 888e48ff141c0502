/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * engine.c: what happens to each packet, and to each flow over its life.
 *
 * DESIGN. engine_packet is the hot path: decode, find or create the flow,
 * count, and look at payload only where a name may be (DNS answers, the first
 * client bytes of a TCP connection). Everything costly happens once per flow,
 * when it starts: which end is local, who initiated, the remote's scope,
 * GeoIP (cached per address), the passive-DNS name, the whitelist verdicts,
 * the process lookup request. Publishing to the HTTP stream is batched on a
 * wall-clock tick through a list of changed flow ids, so a busy flow costs one
 * event per tick, not one per packet.
 *
 * The rolling whitelist learns only from traffic an outsider cannot fake:
 * "sent" when this host started the flow or the flow became a real exchange,
 * "received" only once it is an exchange (both directions, and for TCP a
 * completed handshake). A flood of spoofed SYNs therefore never teaches the
 * whitelist anything, and never raises an alert per source.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "detect.h"
#include "dns.h"
#include "enrich.h"
#include "exehash.h"
#include "geoip.h"
#include "local.h"
#include "log.h"
#include "names.h"
#include "proc.h"
#include "strpool.h"
#include "whitelist.h"

#define MAX_SINKS 8
/* Fragments remembered to give later fragments their first fragment's ports. */
#define FRAG_SLOTS 4096
#define FRAG_TTL (30 * NG_USEC)
/* How often the packet clock runs flow expiry, and refreshes whitelist last-seen times. */
#define EXPIRE_EVERY NG_USEC
#define WL_TOUCH_EVERY (60 * NG_USEC)
/* Payload inspection for names: client packets looked at, bytes gathered at most. */
#define SNIFF_MAX_PACKETS 6
#define SNIFF_MAX_BYTES (16 * 1024 + 5)

/* DNS queries remembered until their answer (see dns_message): buckets of DNSQ_WAYS. */
#define DNSQ_SLOTS 8192
#define DNSQ_WAYS 4
#define DNSQ_TTL (10 * NG_USEC)
/* How often the packet clock runs the detectors' periodic work (long connections). */
#define DETECT_EVERY (60 * NG_USEC)
/* Distinct addresses of unanswered inbound attempts counted exactly; past it the count is a floor. */
#define ENGINE_UNANSWERED_CAP 65536
/* f->alerted bits: the flow's high-attention alert was raised; it waits on the held list (bits 0-1 are per direction). */
#define ALERTED_ATTENTION 0x04
#define ALERT_HELD 0x08
/* How long (packet time) a high flow's alert waits for the flow's name from its first bytes. */
#define ALERT_HOLD (2 * NG_USEC)

struct dnsq_slot {
	ng_addr client, server;
	uint16_t cport, txid;
	ng_time ts;
};

struct frag_slot {
	ng_addr src, dst;
	uint32_t id;
	uint8_t proto;
	uint16_t sport, dport;
	ng_time ts;
};

/* Bytes of a client stream gathered until a ClientHello or request head is complete. */
struct flow_sniff {
	uint32_t len, need, next_seq;
	uint8_t packets;
	uint8_t buf[];
};

/*
 * The packet pipeline: a frame is copied and decoded when it arrives, its
 * flow's index slot is prefetched, half a pipeline later the flow itself is
 * prefetched, and it is processed PIPE_DEPTH packets after it arrived. With
 * 100,000 flows the table is far larger than the cache, and these two misses
 * per packet were the largest cost of the pipeline; prefetching overlaps them
 * with the work on earlier packets. Packets are still processed strictly in
 * order, so nothing else changes.
 */
#define PIPE_DEPTH 8

struct pipe_slot {
	struct capture_packet cp;	/* cp.data points into buf */
	uint8_t *buf;
	uint32_t bufcap;
	int dlt;
	enum decode_result r;
	bool keyed;			/* k, h and src_is_b are computed */
	bool src_is_b;
	struct pkt p;
	struct flow_key k;
	uint64_t h;
};

struct engine {
	struct engine_config cfg;
	struct flow_table *flows;
	struct local_set *local;
	struct dns_cache *dns;
	struct whitelist *wl;
	void *enrich[ENRICH_SLOTS];	/* each enrichment's state, NULL when off (enrich.h) */
	struct detect *detect;
	bool dns_suspect;		/* the packet being processed is a DNS response detect flagged */
	bool releasing;			/* release_held at the end of a run: no alert is held any more */
	ng_time next_detect;
	uint64_t *unanswered_set;	/* hashes of remote addresses, open addressing, ENGINE_UNANSWERED_CAP slots */
	uint64_t *held;			/* ids of flows whose alert waits for their name (flow_update_attention) */
	size_t nheld, capheld;
	struct engine_sink sinks[MAX_SINKS];
	size_t nsinks;
	bool want_updates;		/* some sink takes flow_new/flow_update */
	bool want_suspects;		/* some sink takes suspect_packet */
	bool want_minutes;		/* some sink takes packet_minute */
	ng_time minute;			/* the packet clock's whole minute (packet_minute), NG_TIME_NONE before */

	ng_time now;			/* packet clock */
	ng_time next_expire;
	ng_time last_wall_expire;
	struct frag_slot *frags;
	struct dnsq_slot *dnsq;		/* DNS queries awaiting their answer (learn_dns) */
	uint64_t *dirty;		/* ids of flows changed since the last publish */
	size_t ndirty, capdirty;
	struct engine_stats stats;
	struct pipe_slot pipe[PIPE_DEPTH];
	unsigned pipe_head, pipe_count;
};

static void engine_on_end(void *arg, struct flow *f);
static void engine_on_release(void *arg, struct flow *f);
static void wl_flow_final(struct engine *e, struct flow *f);
static void maybe_alert(struct engine *e, struct flow *f, enum flow_dir d);
static void flow_update_attention(struct engine *e, struct flow *f);
static void wl_push(struct engine *e, struct flow *f, enum flow_dir d);
static void detect_marked(void *arg, struct flow *f);

struct engine *engine_create(const struct engine_config *cfg, const struct engine_parts *parts)
{
	struct engine *e = xcalloc(1, sizeof *e);
	struct whitelist *wl = parts->wl;

	e->cfg = *cfg;
	e->local = parts->local;
	e->dns = parts->dns;
	e->wl = wl;
	memcpy(e->enrich, parts->enrich, sizeof e->enrich);
	e->flows = flow_table_create(&cfg->flows, engine_on_end, engine_on_release, e);
	{
		struct detect_config dc = cfg->detect;
		struct wl_learning l;

		if (wl && dc.window == 0) {
			whitelist_learning(wl, 0, &l);
			dc.window = l.window;
		}
		e->detect = detect_create(&dc);
	}
	e->next_detect = NG_TIME_NONE;
	e->frags = xcalloc(FRAG_SLOTS, sizeof *e->frags);
	e->dnsq = xcalloc(DNSQ_SLOTS, sizeof *e->dnsq);
	for (int i = 0; i < DNSQ_SLOTS; i++)
		e->dnsq[i].ts = NG_TIME_NONE;
	e->now = NG_TIME_NONE;
	e->minute = NG_TIME_NONE;
	e->next_expire = NG_TIME_NONE;
	e->stats.first_packet = e->stats.last_packet = NG_TIME_NONE;
	return e;
}

void engine_destroy(struct engine *e)
{
	if (!e)
		return;
	/* No engine_flush here: the sinks may be gone; callers publish or sync before they destroy. */
	flow_table_destroy(e->flows);
	detect_destroy(e->detect);
	free(e->unanswered_set);
	free(e->held);
	for (int i = 0; i < PIPE_DEPTH; i++)
		free(e->pipe[i].buf);
	free(e->frags);
	free(e->dnsq);
	free(e->dirty);
	free(e);
}

void engine_add_sink(struct engine *e, const struct engine_sink *sink)
{
	if (e->nsinks == MAX_SINKS)
		fatalx("internal error: too many flow sinks");
	e->sinks[e->nsinks++] = *sink;
	if (sink->flow_new || sink->flow_update)
		e->want_updates = true;
	if (sink->suspect_packet)
		e->want_suspects = true;
	if (sink->packet_minute)
		e->want_minutes = true;
}

/* The packet clock moved: tell the sinks that take it about a new whole minute. */
static void clock_minute(struct engine *e)
{
	ng_time m = e->now - (e->now % (60 * NG_USEC));

	if (e->minute != NG_TIME_NONE && m > e->minute) {
		for (size_t i = 0; i < e->nsinks; i++) {
			if (e->sinks[i].packet_minute)
				e->sinks[i].packet_minute(e->sinks[i].arg, m);
		}
	}
	if (e->minute == NG_TIME_NONE || m > e->minute)
		e->minute = m;
}

struct flow_table *engine_flows(struct engine *e)
{
	return e->flows;
}

ng_time engine_now(const struct engine *e)
{
	return e->now;
}

void engine_get_stats(const struct engine *e, struct engine_stats *out)
{
	*out = e->stats;
}

void engine_detect_stats(const struct engine *e, struct detect_stats *out)
{
	detect_get_stats(e->detect, out);
}

/* Release what a flow owns, just before the table frees it. */
static void engine_on_release(void *arg, struct flow *f)
{
	struct engine *e = arg;

	e->stats.held_by_verdict[f->verdict]--;
	e->stats.held_by_attention[f->attention]--;
	detect_flow_release(f);
	if (f->ext) {
		strpool_put(f->ext->domain);
		free(f->ext->sniff);
	}
	enrich_release(f);
}

enum wl_verdict engine_flow_verdict(const struct flow *f)
{
	enum wl_verdict v = WL_NONE;

	for (int d = 0; d < 2; d++) {
		if (f->packets[d] > 0 && flow_verdict(f, d)->verdict > v)
			v = (enum wl_verdict)flow_verdict(f, d)->verdict;
	}
	if (v == WL_NONE)	/* no traffic yet (cannot happen after the first packet) */
		v = (enum wl_verdict)NG_MAX(flow_verdict(f, 0)->verdict, flow_verdict(f, 1)->verdict);
	return v;
}

/* Remember that f changed, for the next publish. */
static void mark_dirty(struct engine *e, struct flow *f)
{
	if (!e->want_updates || f->dirty)
		return;
	f->dirty = true;
	if (e->ndirty == e->capdirty) {
		e->capdirty = e->capdirty ? e->capdirty * 2 : 1024;
		e->dirty = xrealloc(e->dirty, e->capdirty * sizeof *e->dirty);
	}
	e->dirty[e->ndirty++] = f->id;
}

static void sinks_flow_new(struct engine *e, struct flow *f)
{
	f->announced = true;
	for (size_t i = 0; i < e->nsinks; i++) {
		if (e->sinks[i].flow_new)
			e->sinks[i].flow_new(e->sinks[i].arg, f);
	}
}

/*
 * Count an inbound attempt that ended never answered, and its remote
 * address once (exactly up to ENGINE_UNANSWERED_CAP addresses; past that
 * the address count is a floor, and stats say so in docs/api.md).
 */
static void count_unanswered(struct engine *e, const struct flow *f)
{
	uint64_t h = ng_hash64(flow_remote_ip(f), sizeof(ng_addr), 0x756e616e73ULL) | 1;	/* 0 marks a free slot */
	size_t i;

	e->stats.unanswered_flows++;
	if (!e->unanswered_set)
		e->unanswered_set = xcalloc(ENGINE_UNANSWERED_CAP, sizeof *e->unanswered_set);
	if (e->stats.unanswered_addresses >= ENGINE_UNANSWERED_CAP * 3 / 4)
		return;
	for (i = h & (ENGINE_UNANSWERED_CAP - 1); e->unanswered_set[i]; i = (i + 1) & (ENGINE_UNANSWERED_CAP - 1)) {
		if (e->unanswered_set[i] == h)
			return;
	}
	e->unanswered_set[i] = h;
	e->stats.unanswered_addresses++;
}

/* The flow table ended a flow: tell the whitelist its last traffic, the detectors, then the sinks. */
static void engine_on_end(void *arg, struct flow *f)
{
	struct engine *e = arg;

	wl_flow_final(e, f);
	detect_flow_end(e->detect, f, e->flows, detect_marked, e);
	if (detect_unanswered(f))
		count_unanswered(e, f);
	flow_update_attention(e, f);
	if (!f->announced && e->want_updates)
		sinks_flow_new(e, f);
	for (size_t i = 0; i < e->nsinks; i++) {
		if (e->sinks[i].flow_end)
			e->sinks[i].flow_end(e->sinks[i].arg, f);
	}
}

/* True when an address should be treated as public despite its range (--public-net). */
static bool forced_public(const struct engine *e, const ng_addr *a)
{
	for (size_t i = 0; i < e->cfg.npublic_nets; i++) {
		if (cidr_contains(&e->cfg.public_nets[i], a))
			return true;
	}
	return false;
}

/*
 * Decide which end of a new flow is this host. In order: the one end in the
 * local set; when both are, the initiator; when neither is, the one end that
 * is not public (a LAN host talking out), else the initiator.
 */
static bool orient_local_is_b(const struct engine *e, const struct flow *f, bool initiator_is_b)
{
	ng_addr a = flow_key_a(&f->key), b = flow_key_b(&f->key);
	bool la = e->local && local_set_contains(e->local, &a);
	bool lb = e->local && local_set_contains(e->local, &b);
	bool pa, pb;

	if (la != lb)
		return lb;
	if (la && lb)
		return initiator_is_b;
	pa = addr_scope(&a) == NG_SCOPE_PUBLIC;
	pb = addr_scope(&b) == NG_SCOPE_PUBLIC;
	if (pa != pb)
		return pa;	/* b is the private one */
	return initiator_is_b;
}

/*
 * Who started the flow, from its first packet: the sender of a SYN, the
 * receiver of a SYN-ACK, else the side on the high (ephemeral) port when the
 * other is a well-known port, else the sender of the first packet. Returns
 * true when the initiator is key.b.
 */
static bool initiator_is_b(const struct flow *f, const struct pkt *p, bool src_is_b)
{
	if (p->proto == NG_PROTO_TCP && (p->tcp_flags & NG_TCP_SYN))
		return (p->tcp_flags & NG_TCP_ACK) ? !src_is_b : src_is_b;
	if (p->has_ports && f->key.pa != f->key.pb) {
		bool a_low = f->key.pa < 1024, b_low = f->key.pb < 1024;

		if (a_low != b_low)
			return a_low;	/* the high-port side (b when a is low) initiated */
	}
	return src_is_b;
}

/*
 * Take a name for the flow from a source at least as good as the one it
 * has. `pooled` is a strpool string (borrowed: the flow takes its own
 * reference), so "same name" is one pointer comparison.
 */
static void flow_set_domain(struct flow *f, const char *pooled, enum flow_domain_source src)
{
	if (!pooled || !*pooled || src < f->domain_source)
		return;
	if (flow_domain(f) != pooled) {
		struct flow_ext *x = flow_ext_get(f);

		strpool_put(x->domain);
		x->domain = strpool_ref(pooled);
	}
	f->domain_source = (uint8_t)src;
}

/* flow_set_domain for a name that is not in the pool yet (SNI, Host). */
static void flow_set_domain_text(struct flow *f, const char *name, enum flow_domain_source src)
{
	const char *pooled;

	if (!name || !*name || src < f->domain_source)
		return;
	/* Usually the name the flow's DNS answer gave: then there is nothing to intern. */
	if (flow_domain(f) != NULL && strcmp(flow_domain(f), name) == 0) {
		f->domain_source = (uint8_t)src;
		return;
	}
	pooled = strpool_get(name);
	flow_set_domain(f, pooled, src);
	strpool_put(pooled);
}

/* Set f's overall verdict from its directions, keeping the per-verdict count of held flows exact. */
static void flow_set_verdict(struct engine *e, struct flow *f)
{
	uint8_t v = (uint8_t)engine_flow_verdict(f);

	e->stats.held_by_verdict[f->verdict]--;
	e->stats.held_by_verdict[v]++;
	f->verdict = v;
}

/*
 * Set f's attention from its verdicts, state and signals, keeping the
 * per-level count exact. When it becomes high the alert sinks hear of it,
 * once per flow (unless alerts follow verdicts, see maybe_alert). The alert
 * waits while the flow's name may still come from its first bytes (TLS SNI,
 * HTTP Host): a connection that starts nameless to a new address of a known
 * service is high for the few milliseconds until its ClientHello, and
 * alerting then would alert on most HTTPS connections of a browser that
 * resolves names over DNS-over-HTTPS.
 */
static void flow_update_attention(struct engine *e, struct flow *f)
{
	uint8_t a = (uint8_t)detect_attention(f);
	enum flow_dir d = f->initiator_local ? FLOW_SENT : FLOW_RECEIVED;

	if (a != f->attention) {
		e->stats.held_by_attention[f->attention]--;
		e->stats.held_by_attention[a]++;
		f->attention = a;
		mark_dirty(e, f);
	}
	if (a != NG_ATTN_HIGH || e->cfg.alert_on_verdict || (f->alerted & ALERTED_ATTENTION))
		return;
	if (f->packets[0] + f->packets[1] == 0)
		return;	/* judged at its start, before its first packet is counted: that packet decides */
	if (!f->sniff_done && f->end_reason == FLOW_END_NONE && e->now - f->first_seen < ALERT_HOLD && !e->releasing) {
		if (!(f->alerted & ALERT_HELD)) {
			f->alerted |= ALERT_HELD;
			if (e->nheld == e->capheld) {
				e->capheld = e->capheld ? e->capheld * 2 : 256;
				e->held = xrealloc(e->held, e->capheld * sizeof *e->held);
			}
			e->held[e->nheld++] = f->id;
		}
		return;
	}
	f->alerted |= ALERTED_ATTENTION;
	e->stats.alerts++;
	if (f->packets[d] == 0)
		d = (enum flow_dir)!d;
	for (size_t i = 0; i < e->nsinks; i++) {
		if (e->sinks[i].alert)
			e->sinks[i].alert(e->sinks[i].arg, f, d);
	}
}

/*
 * Give the held alerts another look: a flow whose name came, or whose hold
 * is over (ALERT_HOLD of packet time, or `all` at the end of a run), alerts
 * now if it is still high; the others wait on.
 */
static void release_held(struct engine *e, bool all)
{
	size_t n = e->nheld, kept = 0;

	if (n == 0)
		return;
	e->releasing = all;
	for (size_t i = 0; i < n; i++) {
		struct flow *f = flow_table_by_id(e->flows, e->held[i]);

		if (!f || !(f->alerted & ALERT_HELD))
			continue;
		if (!all && !f->sniff_done && f->end_reason == FLOW_END_NONE && e->now - f->first_seen < ALERT_HOLD) {
			e->held[kept++] = e->held[i];
			continue;
		}
		f->alerted &= (uint8_t)~ALERT_HELD;
		flow_update_attention(e, f);
	}
	/* flow_update_attention may hold again (not with `all`): those were appended past n. */
	memmove(e->held + kept, e->held + n, (e->nheld - n) * sizeof *e->held);
	e->nheld = kept + (e->nheld - n);
	e->releasing = false;
}

/* A detector gave f a signal outside its own packet (a scan finding, a long connection). */
static void detect_marked(void *arg, struct flow *f)
{
	flow_update_attention(arg, f);
}

/* Judge both directions of f as of its start; rules may use the domain. */
static void flow_judge(struct engine *e, struct flow *f)
{
	for (int d = 0; d < 2; d++) {
		struct wl_verdict_info v;

		if (e->wl)
			whitelist_verdict(e->wl, flow_remote_ip(f), flow_domain(f), f->geo ? f->geo->asn : 0,
					  (enum wl_dir)d, f->first_seen, &v);
		else
			memset(&v, 0, sizeof v);
		flow_verdict_set(f, d, &v);
	}
	flow_set_verdict(e, f);
}

/*
 * True when a name the client itself sent (TLS SNI, HTTP Host; no DNS
 * answer vouches for it) claims a known domain that this host reached in
 * another network: a client can write any name into its ClientHello, and a
 * command-and-control implant that sends "www.google.com" to its own server
 * must not pass as a new Google address. Names from DNS answers to queries
 * seen on the wire are not judged here.
 */
static bool name_claims_elsewhere(const struct flow *f, const struct wl_verdict_info *now)
{
	uint32_t asn = f->geo ? f->geo->asn : 0;

	return now->svc == WL_SVC_DOMAIN && f->domain_source != FLOW_DOMAIN_DNS && now->svc_asn != 0 && asn != 0 &&
	       now->svc_asn != asn;
}

/*
 * The flow's name changed after it started (SNI, Host). Only a domain rule
 * can change a verdict for that, so only a verdict that came from a rule, or
 * that comes from one now, is replaced: judging afresh would also pick up
 * what the whitelist learnt since the start (a parallel flow's handshake
 * finishing), and a TLS flow would read differently from a UDP flow to the
 * same place started at the same moment. A name can also show that a new
 * address belongs to a known service: then only that explanation is taken.
 * A direction that turned bad alerts now; the name-keyed detectors look again.
 */
static void flow_renamed(struct engine *e, struct flow *f)
{
	uint8_t was[2] = {flow_verdict(f, 0)->verdict, flow_verdict(f, 1)->verdict};

	for (int d = 0; e->wl && d < 2; d++) {
		struct wl_verdict_info now, was_v = *flow_verdict(f, d);
		struct wl_verdict_info *v = &was_v;

		whitelist_verdict(e->wl, flow_remote_ip(f), flow_domain(f), f->geo ? f->geo->asn : 0, (enum wl_dir)d,
				  f->first_seen, &now);
		if (now.why == WL_WHY_ALLOWED || v->why == WL_WHY_ALLOWED)
			flow_verdict_set(f, d, &now);
		else if (v->verdict == WL_ANOMALOUS && now.verdict == WL_ANOMALOUS && now.svc != WL_SVC_NONE &&
			 (v->svc == WL_SVC_NONE || (v->svc == WL_SVC_ASN && now.svc == WL_SVC_DOMAIN)) &&
			 !name_claims_elsewhere(f, &now)) {
			wl_verdict_take_service(v, &now);	/* a domain explains better than a network */
			flow_verdict_set(f, d, v);
		}
	}
	flow_set_verdict(e, f);
	for (int d = 0; d < 2; d++) {
		if (flow_verdict(f, d)->verdict >= WL_ANOMALOUS && was[d] < WL_ANOMALOUS && f->packets[d] > 0) {
			f->alerted &= (uint8_t)~(1u << d);
			maybe_alert(e, f, (enum flow_dir)d);
		}
	}
	/* Directions that already taught the whitelist teach it the name's service now, not a minute later. */
	for (int d = 0; e->wl && d < 2; d++) {
		if (flow_recorded(f, (int)d))
			wl_push(e, f, (enum flow_dir)d);
	}
	detect_flow_named(e->detect, f);
	flow_update_attention(e, f);
}

/* Everything decided once when a flow starts. */
static void flow_start(struct engine *e, struct flow *f, const struct pkt *p, bool src_is_b)
{
	bool ib = initiator_is_b(f, p, src_is_b);
	const ng_addr *remote;

	f->local_is_b = orient_local_is_b(e, f, ib);
	f->initiator_local = (ib == f->local_is_b);
	remote = flow_remote_ip(f);
	f->remote_scope = (uint8_t)addr_scope(remote);
	if (f->remote_scope != NG_SCOPE_PUBLIC && forced_public(e, remote))
		f->remote_scope = NG_SCOPE_PUBLIC;
	/* The DNS cache's first miss overlaps the enrichments' lookups instead of queueing behind them. */
	if (e->dns)
		dns_prefetch(e->dns, remote);
	/* Before the judgement: the whitelist knows services by their network (the GeoIP slot's ASN). */
	for (int s = 0; s < ENRICH_SLOTS; s++) {
		if (e->enrich[s])
			f->slot[s] = enrichment_kinds[s]->flow_start(e->enrich[s], f);
	}
	if (e->dns)
		flow_set_domain(f, dns_lookup(e->dns, remote, f->first_seen), FLOW_DOMAIN_DNS);
	if (p->proto != NG_PROTO_TCP || !e->cfg.names)
		f->sniff_done = true;
	flow_judge(e, f);
	detect_flow_start(e->detect, f, e->stats.dns_answers);
	flow_update_attention(e, f);
}

/* May this direction of f teach the whitelist? (see DESIGN) */
static bool wl_may_learn(const struct flow *f, enum flow_dir d)
{
	if (f->packets[d] == 0)
		return false;
	if (flow_is_exchange(f))
		return true;
	return d == FLOW_SENT && f->initiator_local;
}

/*
 * Push a direction's traffic since the last push to the whitelist. The first
 * push says when the direction began; later ones (each minute, and at the
 * end) move last_seen on and add the counts.
 */
static void wl_push(struct engine *e, struct flow *f, enum flow_dir d)
{
	bool first = !flow_recorded(f, (int)d);
	const char *country = f->geo && f->geo->country[0] ? f->geo->country : NULL;
	ng_time t = first ? flow_dir_first(f, (int)d) : f->dir_last[d];
	uint64_t bytes = f->bytes[d] - flow_recorded_bytes(f, (int)d);

	whitelist_record(e->wl, flow_remote_ip(f), (enum wl_dir)d, t, first ? 1 : 0,
			 f->packets[d] - flow_recorded_pkts(f, (int)d), bytes, flow_domain(f), country,
			 f->geo ? f->geo->asn : 0, f->geo ? f->geo->as_org : NULL,
			 first ? (enum wl_verdict)flow_verdict(f, d)->verdict : WL_NONE);
	if (detect_traffic(e->detect, f, (int)d, bytes, t))	/* before the recorded counts move on */
		flow_update_attention(e, f);
	flow_set_recorded(f, (int)d, t);
}

/* At flow end: record whatever the whitelist has not heard yet. */
static void wl_flow_final(struct engine *e, struct flow *f)
{
	if (!e->wl)
		return;
	for (int d = 0; d < 2; d++) {
		if (!wl_may_learn(f, (enum flow_dir)d))
			continue;
		if (!flow_recorded(f, (int)d))
			wl_push(e, f, (enum flow_dir)d);
		if (f->dir_last[d] > flow_recorded_time(f, d) || f->packets[d] != flow_recorded_pkts(f, (int)d))
			wl_push(e, f, (enum flow_dir)d);
	}
}

/*
 * With alert_on_verdict (the first version's rule; by default alerts follow
 * high attention, see flow_update_attention): raise the alert of a direction
 * with a bad verdict, once. Unanswered traffic
 * (scans, spoofed floods) alerts only when blocklisted: an anomalous received
 * direction, or a sent one in a flow the remote started, waits until the flow
 * is an exchange, and engine_process calls again then.
 */
static void maybe_alert(struct engine *e, struct flow *f, enum flow_dir d)
{
	uint8_t v = flow_verdict(f, d)->verdict;

	if (!e->cfg.alert_on_verdict || (f->alerted & (1u << d)))
		return;
	if (v != WL_ANOMALOUS && v != WL_BLOCKLISTED) {
		f->alerted |= (uint8_t)(1u << d);
		return;
	}
	if (v == WL_ANOMALOUS && !flow_is_exchange(f) && (d == FLOW_RECEIVED || !f->initiator_local))
		return;	/* held back */
	f->alerted |= (uint8_t)(1u << d);
	e->stats.alerts++;
	for (size_t i = 0; i < e->nsinks; i++) {
		if (e->sinks[i].alert)
			e->sinks[i].alert(e->sinks[i].arg, f, d);
	}
}

/* TCP state from flags (RFC 9293 3.3.2, as seen from outside). */
static void tcp_update(struct flow *f, const struct pkt *p, enum flow_dir d, bool from_initiator)
{
	uint8_t fl = p->tcp_flags;

	if (fl & NG_TCP_RST) {
		f->state = FLOW_STATE_RESET;
		f->rst_seen |= (uint8_t)(1u << d);
		return;
	}
	if ((fl & (NG_TCP_SYN | NG_TCP_ACK)) == (NG_TCP_SYN | NG_TCP_ACK))
		f->synack_seen = 1;
	if ((fl & NG_TCP_SYN) && !(fl & NG_TCP_ACK)) {
		f->syn_seen |= 1;	/* keep the SYN-ACK bit of a retransmitted SYN's connection */
		if (f->packets[0] + f->packets[1] <= 1)
			f->state = FLOW_STATE_SYN_SENT;
	} else if (f->state == FLOW_STATE_SYN_SENT) {
		/* The handshake completes when the initiator acknowledges the SYN-ACK. */
		if ((fl & NG_TCP_SYN) && (fl & NG_TCP_ACK))
			f->syn_seen |= 2;
		else if (from_initiator && (fl & NG_TCP_ACK) && (f->syn_seen & 2))
			f->state = FLOW_STATE_ESTABLISHED, f->handshake = 1;
		else if (!from_initiator && !(fl & NG_TCP_SYN) && (fl & NG_TCP_ACK))
			f->state = FLOW_STATE_ESTABLISHED, f->handshake = 1;	/* the responder sends data: we missed the SYN-ACK */
	}
	if (fl & NG_TCP_FIN) {
		f->fin_seen |= (uint8_t)(1u << d);
		if (f->state != FLOW_STATE_RESET)
			f->state = f->fin_seen == 3 ? FLOW_STATE_CLOSED : FLOW_STATE_CLOSING;
	}
}

/*
 * The bucket of a query's identifying tuple: DNSQ_WAYS slots, so several
 * queries in flight at once never push each other out (the table is fixed
 * in size: a flood only overwrites the oldest).
 */
static struct dnsq_slot *dnsq_bucket(struct engine *e, const ng_addr *client, uint16_t cport, const ng_addr *server,
				     uint16_t txid)
{
	struct {
		ng_addr c, s;
		uint16_t cport, txid;
	} k;

	memset(&k, 0, sizeof k);
	k.c = *client;
	k.s = *server;
	k.cport = cport;
	k.txid = txid;
	return &e->dnsq[(ng_hash64(&k, sizeof k, 0x646e7371ULL) & (DNSQ_SLOTS / DNSQ_WAYS - 1)) * DNSQ_WAYS];
}

/* The slot holding this query in its bucket, or NULL. */
static struct dnsq_slot *dnsq_find(struct dnsq_slot *b, const ng_addr *client, uint16_t cport, const ng_addr *server,
				   uint16_t txid)
{
	for (int w = 0; w < DNSQ_WAYS; w++) {
		if (b[w].ts != NG_TIME_NONE && b[w].txid == txid && b[w].cport == cport &&
		    addr_equal(&b[w].client, client) && addr_equal(&b[w].server, server))
			return &b[w];
	}
	return NULL;
}

/*
 * One DNS message (RFC 1035 4.1.1) seen at p: remember a query, or learn from
 * an answer that matches a remembered query.
 *
 * DNS answers are learnt only when they answer a query seen on the wire: same
 * client address and port, same server, same transaction id, within
 * DNSQ_TTL. Anyone can send a packet from port 53 that "answers" a question
 * of its own choosing, and a forged name could put a hostile address under
 * an allowed domain; matching the query (what a resolver checks too) leaves
 * an attacker guessing a 16-bit id and a port, blind. Multicast DNS and LLMNR
 * answers have no query to match and count only from non-public sources.
 */
static void dns_message(struct engine *e, const struct pkt *p, const uint8_t *msg, size_t len)
{
	struct dnsq_slot *q;
	uint16_t txid;

	if (len < 12)
		return;
	txid = ng_rd16(msg);
	if (!(msg[2] & 0x80)) {	/* QR = 0: a query from p->src */
		struct dnsq_slot *b;

		if (p->dport != 53)
			return;
		b = dnsq_bucket(e, &p->src, p->sport, &p->dst, txid);
		q = dnsq_find(b, &p->src, p->sport, &p->dst, txid);	/* a retransmission */
		for (int w = 0; !q && w < DNSQ_WAYS; w++) {
			if (b[w].ts == NG_TIME_NONE || e->now - b[w].ts > DNSQ_TTL)
				q = &b[w];	/* a free or stale way */
		}
		if (!q) {	/* else the oldest */
			q = &b[0];
			for (int w = 1; w < DNSQ_WAYS; w++) {
				if (b[w].ts < q->ts)
					q = &b[w];
			}
		}
		q->client = p->src;
		q->server = p->dst;
		q->cport = p->sport;
		q->txid = txid;
		q->ts = e->now;
		return;
	}
	e->stats.dns_messages++;
	if (p->sport == 53) {
		q = dnsq_find(dnsq_bucket(e, &p->dst, p->dport, &p->src, txid), &p->dst, p->dport, &p->src, txid);
		if (!q || e->now - q->ts > DNSQ_TTL) {
			e->stats.dns_unsolicited++;
			return;
		}
		q->ts = NG_TIME_NONE;	/* one answer per query */
		e->stats.dns_answers++;
		e->dns_suspect = detect_dns_response(e->detect, &p->dst, msg, len, e->now);
	} else if (addr_scope(&p->src) == NG_SCOPE_PUBLIC) {
		e->stats.dns_unsolicited++;	/* mDNS/LLMNR comes from the local link, never from the Internet */
		return;
	}
	/* mDNS and LLMNR answer only for link names: a LAN host cannot name Internet addresses this way. */
	dns_learn_from(e->dns, msg, len, e->now, p->sport != 53);
}

/* DNS over UDP 53 (RFC 1035), mDNS 5353 (RFC 6762), LLMNR 5355 (RFC 4795), TCP 53 (RFC 7766). */
static void learn_dns(struct engine *e, const struct pkt *p)
{
	if (!e->dns || !p->has_ports || p->payload_len == 0)
		return;
	if (p->proto == NG_PROTO_UDP) {
		bool dns = p->sport == 53 || p->dport == 53;

		if (!dns && p->sport != 5353 && p->sport != 5355)
			return;
		if (p->frag != PKT_FRAG_NONE)
			return;	/* a fragmented message: only its first piece is here */
		dns_message(e, p, p->payload, p->payload_len);
	} else if (p->proto == NG_PROTO_TCP && (p->sport == 53 || p->dport == 53) && p->payload_len > 2) {
		uint16_t mlen = ng_rd16(p->payload);

		if ((uint32_t)mlen + 2 <= p->payload_len)
			dns_message(e, p, p->payload + 2, mlen);
	}
}

/* Try the gathered (or single-segment) client bytes for a TLS or HTTP name; true when finished. */
static bool sniff_try(struct engine *e, struct flow *f, const uint8_t *data, size_t len, size_t *need)
{
	char name[NG_NAME_MAX];
	enum names_result r;

	*need = 0;
	r = tls_sni_parse(data, len, name, sizeof name, need);
	if (r == NAMES_FOUND) {
		flow_set_domain_text(f, name, FLOW_DOMAIN_SNI);
		e->stats.names_sni++;
		return true;
	}
	if (r == NAMES_NEED_MORE)
		return false;
	r = http_host_parse(data, len, name, sizeof name);
	if (r == NAMES_FOUND) {
		flow_set_domain_text(f, name, FLOW_DOMAIN_HTTP);
		e->stats.names_http++;
		return true;
	}
	if (r == NAMES_NEED_MORE) {
		*need = len + 1460;
		return false;
	}
	return true;
}

/*
 * Look at the client's first bytes for a server name. A ClientHello or
 * request head split over segments is gathered in a small per-flow buffer,
 * in sequence order only (a gap or reordering ends the attempt).
 */
static void sniff_names(struct engine *e, struct flow *f, const struct pkt *p)
{
	struct flow_sniff *s = f->ext ? f->ext->sniff : NULL;
	const char *before = flow_domain(f);
	uint8_t before_src = f->domain_source;
	size_t need;
	bool done;

	if (!s) {
		done = sniff_try(e, f, p->payload, p->payload_len, &need);
		if (!done && p->payload_len == p->payload_wire && need > 0 && need <= SNIFF_MAX_BYTES) {
			s = xmalloc(sizeof *s + SNIFF_MAX_BYTES);
			memcpy(s->buf, p->payload, p->payload_len);
			s->len = p->payload_len;
			s->need = (uint32_t)need;
			s->next_seq = p->tcp_seq + p->payload_len;
			s->packets = 1;
			flow_ext_get(f)->sniff = s;
			return;
		}
	} else {
		uint32_t room = SNIFF_MAX_BYTES - s->len;
		uint32_t n = p->payload_len < room ? p->payload_len : room;

		if (p->tcp_seq != s->next_seq || p->payload_len != p->payload_wire) {
			done = true;
		} else {
			memcpy(s->buf + s->len, p->payload, n);
			s->len += n;
			s->next_seq += p->payload_len;
			s->packets++;
			if (s->len < s->need && s->packets < SNIFF_MAX_PACKETS && s->len < SNIFF_MAX_BYTES)
				return;
			done = sniff_try(e, f, s->buf, s->len, &need);
			if (!done && need > s->len && need <= SNIFF_MAX_BYTES && s->packets < SNIFF_MAX_PACKETS) {
				s->need = (uint32_t)need;
				return;
			}
		}
	}
	(void)done;
	if (s) {
		free(s);
		f->ext->sniff = NULL;
	}
	f->sniff_done = true;
	if (flow_domain(f) != before || f->domain_source != before_src)
		flow_renamed(e, f);
	else
		flow_update_attention(e, f);	/* an alert held for the name goes now */
}

/* Slot for a fragment series, by its identifying tuple (RFC 791 3.2, RFC 8200 4.5). */
static struct frag_slot *frag_slot(struct engine *e, const struct pkt *p)
{
	struct {
		ng_addr s, d;
		uint32_t id;
		uint8_t proto;
	} k;

	memset(&k, 0, sizeof k);
	k.s = p->src;
	k.d = p->dst;
	k.id = p->frag_id;
	k.proto = p->proto;
	return &e->frags[ng_hash64(&k, sizeof k, 0x66726167ULL) & (FRAG_SLOTS - 1)];
}

/* Give fragments the ports of their first fragment, when it was seen recently. */
static void frag_ports(struct engine *e, struct pkt *p)
{
	struct frag_slot *s = frag_slot(e, p);

	if (p->frag == PKT_FRAG_FIRST) {
		if (!p->has_ports)
			return;
		s->src = p->src;
		s->dst = p->dst;
		s->id = p->frag_id;
		s->proto = p->proto;
		s->sport = p->sport;
		s->dport = p->dport;
		s->ts = e->now;
		return;
	}
	if (s->id == p->frag_id && s->proto == p->proto && addr_equal(&s->src, &p->src) &&
	    addr_equal(&s->dst, &p->dst) && e->now - s->ts <= FRAG_TTL) {
		p->sport = s->sport;
		p->dport = s->dport;
		p->has_ports = true;
	}
}

/* Process the oldest packet of the pipeline (decoded and keyed when it arrived). */
static void engine_process(struct engine *e, struct pipe_slot *ps)
{
	const struct capture_packet *cp = &ps->cp;
	struct pkt p = ps->p;
	struct flow_key k;
	struct flow *f;
	uint64_t h;
	bool src_is_b, is_new = false;
	enum flow_dir d;
	bool was_exchanged;

	e->stats.packets++;
	e->stats.bytes += cp->wirelen;
	switch (ps->r) {
	case DECODE_OK:
		break;
	case DECODE_NOT_IP:
		e->stats.not_ip++;
		return;
	default:
		e->stats.malformed++;
		return;
	}
	e->stats.ip_packets++;
	if (e->stats.first_packet == NG_TIME_NONE)
		e->stats.first_packet = cp->ts;
	e->stats.last_packet = cp->ts;
	if (cp->ts > e->now || e->now == NG_TIME_NONE) {
		e->now = cp->ts;
	} else if (e->now - cp->ts > e->cfg.flows.tcp_timeout) {
		/*
		 * Far behind the clock: an earlier packet's time was bogus (one
		 * frame dated days ahead would otherwise stop expiry for the rest
		 * of a file). The many packets are right, not the one.
		 */
		e->now = cp->ts;
		e->next_expire = cp->ts;
	}

	if (e->want_minutes)
		clock_minute(e);
	/* Flow expiry runs on the packet clock, so a replayed file ages flows as it did live. */
	if (e->now >= e->next_expire) {
		flow_table_expire(e->flows, e->now);
		e->next_expire = e->now + EXPIRE_EVERY;
		if (e->nheld)
			release_held(e, false);
	}
	if (e->next_detect == NG_TIME_NONE || e->now >= e->next_detect) {
		if (e->next_detect != NG_TIME_NONE)
			detect_tick(e->detect, e->flows, e->now, detect_marked, e);
		e->next_detect = e->now + DETECT_EVERY;
	}
	if (p.frag != PKT_FRAG_NONE) {
		e->stats.fragments++;
		frag_ports(e, &p);
	}
	learn_dns(e, &p);

	if (ps->keyed) {
		k = ps->k;
		h = ps->h;
		src_is_b = ps->src_is_b;
	} else {
		flow_key_make(&k, p.proto, &p.src, p.sport, &p.dst, p.dport, &src_is_b);
		h = flow_key_hash(&k);
	}
	f = flow_table_find(e->flows, &k, h);
	/* A packet after the idle timeout starts a new flow, even before expiry reached the old one. */
	if (f && flow_table_idle(e->flows, f, cp->ts)) {
		flow_table_end(e->flows, f, f->state == FLOW_STATE_CLOSED || f->state == FLOW_STATE_RESET ? FLOW_END_CLOSED
												: FLOW_END_IDLE);
		f = NULL;
	}
	/*
	 * A bare SYN on a connection past its handshake (or closing, or closed,
	 * or first seen mid-stream) starts a new connection on a reused port; on
	 * a connection still in SYN_SENT it is a retransmission.
	 */
	if (f && p.proto == NG_PROTO_TCP && (p.tcp_flags & (NG_TCP_SYN | NG_TCP_ACK)) == NG_TCP_SYN &&
	    f->state != FLOW_STATE_SYN_SENT) {
		flow_table_end(e->flows, f, FLOW_END_CLOSED);
		f = NULL;
	}
	if (!f) {
		f = flow_table_insert(e->flows, &k, h, cp->ts);
		e->stats.held_by_verdict[WL_NONE]++;	/* f->verdict is WL_NONE until judged */
		e->stats.held_by_attention[NG_ATTN_NONE]++;
		flow_start(e, f, &p, src_is_b);
		is_new = true;
	}
	d = (src_is_b == f->local_is_b) ? FLOW_SENT : FLOW_RECEIVED;
	if (e->dns_suspect && detect_mark_dns(e->detect, f))
		flow_update_attention(e, f);
	e->dns_suspect = false;
	was_exchanged = !is_new && flow_is_exchange(f);

	if (p.proto == NG_PROTO_TCP && p.has_ports) {
		tcp_update(f, &p, d, (d == FLOW_SENT) == f->initiator_local);
	} else if (!f->icmp_set && (p.proto == NG_PROTO_ICMP || p.proto == NG_PROTO_ICMPV6) &&
		   p.frag != PKT_FRAG_LATER) {
		/* The first ICMP header names the flow's Community ID (communityid.h). */
		f->icmp_type = p.icmp_type;
		f->icmp_code = p.icmp_code;
		f->icmp_from_b = src_is_b;
		f->icmp_set = 1;
	}
	f->packets[d]++;
	f->bytes[d] += p.ip_len;
	if (p.frag == PKT_FRAG_LATER)
		f->fragments++;
	if (cp->ts > f->dir_last[d])
		f->dir_last[d] = cp->ts;

	if (!f->sniff_done && p.payload_len > 0 && (d == FLOW_SENT) == f->initiator_local)
		sniff_names(e, f, &p);

	/* A direction's first packet, or the flow becoming an exchange: learn and maybe alert. */
	if (f->packets[d] == 1) {
		flow_set_dir_first(f, (int)d, cp->ts);
		flow_set_verdict(e, f);
		maybe_alert(e, f, d);
		flow_update_attention(e, f);
	}
	if (!was_exchanged && flow_is_exchange(f)) {
		/* Now that it is answered: the alerts held back, and what the whitelist may learn. */
		for (int dd = 0; dd < 2; dd++) {
			if (f->packets[dd] > 0)
				maybe_alert(e, f, (enum flow_dir)dd);
			if (e->wl && !flow_recorded(f, dd) && wl_may_learn(f, (enum flow_dir)dd))
				wl_push(e, f, (enum flow_dir)dd);
		}
		flow_update_attention(e, f);
	} else if (e->wl) {
		if (!flow_recorded(f, (int)d)) {
			if (wl_may_learn(f, d))
				wl_push(e, f, d);
		} else if (cp->ts - flow_recorded_time(f, (int)d) >= WL_TOUCH_EVERY) {
			wl_push(e, f, d);
		}
	}
	flow_table_touch(e->flows, f);
	mark_dirty(e, f);
	if (e->want_suspects && f->verdict >= WL_ANOMALOUS) {
		for (size_t i = 0; i < e->nsinks; i++) {
			if (e->sinks[i].suspect_packet)
				e->sinks[i].suspect_packet(e->sinks[i].arg, f, ps->dlt, cp);
		}
	}
}

void engine_packet(struct engine *e, int dlt, const struct capture_packet *cp)
{
	struct pipe_slot *ps;

	if (e->pipe_count == PIPE_DEPTH) {
		engine_process(e, &e->pipe[e->pipe_head]);
		e->pipe_head = (e->pipe_head + 1) % PIPE_DEPTH;
		e->pipe_count--;
	}
	ps = &e->pipe[(e->pipe_head + e->pipe_count) % PIPE_DEPTH];
	if (ps->bufcap < cp->caplen) {
		ps->bufcap = NG_MAX(cp->caplen, 2048u);
		free(ps->buf);
		ps->buf = xmalloc(ps->bufcap);
	}
	memcpy(ps->buf, cp->data, cp->caplen);
	ps->cp = *cp;
	ps->cp.data = ps->buf;
	ps->dlt = dlt;
	ps->r = decode_packet(dlt, ps->buf, cp->caplen, cp->wirelen, &ps->p);
	/* Fragments get their ports only in order (frag_ports), so they are keyed then. */
	ps->keyed = ps->r == DECODE_OK && ps->p.frag == PKT_FRAG_NONE;
	if (ps->keyed) {
		flow_key_make(&ps->k, ps->p.proto, &ps->p.src, ps->p.sport, &ps->p.dst, ps->p.dport, &ps->src_is_b);
		ps->h = flow_key_hash(&ps->k);
		flow_table_prefetch_slot(e->flows, ps->h);
	}
	e->pipe_count++;
	/* Half a pipeline later its index slot is in cache: prefetch the flow it names. */
	if (e->pipe_count > PIPE_DEPTH / 2) {
		struct pipe_slot *mid = &e->pipe[(e->pipe_head + e->pipe_count - 1 - PIPE_DEPTH / 2) % PIPE_DEPTH];

		if (mid->keyed)
			flow_table_prefetch_flow(e->flows, mid->h);
	}
}

void engine_flush(struct engine *e)
{
	while (e->pipe_count > 0) {
		engine_process(e, &e->pipe[e->pipe_head]);
		e->pipe_head = (e->pipe_head + 1) % PIPE_DEPTH;
		e->pipe_count--;
	}
}

/*
 * An enrichment answered late for a flow (enrich_answer_fn). The same value
 * again means it completed in place (a process whose executable's hash came):
 * the flow is published again, an ended one through flow_update.
 */
static void engine_enrich_answer(void *arg, uint64_t flow_id, enum enrich_slot slot, void *value)
{
	struct engine *e = arg;
	struct flow *f = flow_table_by_id(e->flows, flow_id);
	bool again;

	if (!value)
		return;
	again = f && f->slot[slot] == value;
	if (!f || f->slot[slot]) {
		enrichment_kinds[slot]->release(value);
		if (!again)
			return;
	} else {
		f->slot[slot] = value;
	}
	if (slot == ENRICH_PROC) {
		const struct proc_info *p = f->proc;
		const struct exehash_rec *h = p->hash;
		bool done = h && h->state == EXEHASH_DONE;

		if (detect_flow_process(e->detect, f, p->exe, done ? h->hex : NULL, done && h->changed, e->now))
			flow_update_attention(e, f);
	}
	if (f->end_reason == FLOW_END_NONE) {
		mark_dirty(e, f);
		return;
	}
	for (size_t i = 0; again && f->announced && i < e->nsinks; i++) {
		if (e->sinks[i].flow_update)
			e->sinks[i].flow_update(e->sinks[i].arg, f);
	}
}

/* What engine_rejudge asks of each held flow. */
struct rejudge {
	struct engine *e;
	const struct rejudge_query *q;
	size_t changed;
};

/* flow_table_foreach callback of engine_rejudge: judge one flow again as of its start. */
static void rejudge_one(void *arg, struct flow *f)
{
	struct rejudge *r = arg;
	struct engine *e = r->e;
	bool changed = false;

	if (r->q->covers && !r->q->covers(r->q->arg, f))
		return;
	for (int d = 0; d < 2; d++) {
		struct wl_verdict_info now;
		const struct wl_verdict_info *v = flow_verdict(f, d);

		whitelist_verdict(e->wl, flow_remote_ip(f), flow_domain(f), f->geo ? f->geo->asn : 0, (enum wl_dir)d,
				  f->first_seen, &now);
		if (!(now.why == WL_WHY_ALLOWED || v->why == WL_WHY_ALLOWED ||
		      (r->q->forgotten && v->verdict == WL_NORMAL && now.verdict == WL_ANOMALOUS)))
			continue;
		changed |= now.verdict != v->verdict || now.why != v->why ||
			   (now.why == WL_WHY_ALLOWED && now.rule != v->rule);
		flow_verdict_set(f, d, &now);
	}
	if (!changed)
		return;
	flow_set_verdict(e, f);
	flow_update_attention(e, f);
	r->changed++;
	if (r->q->changed)
		r->q->changed(r->q->changed_arg, f);
	if (f->end_reason == FLOW_END_NONE) {
		mark_dirty(e, f);
		return;
	}
	for (size_t i = 0; f->announced && i < e->nsinks; i++) {
		if (e->sinks[i].flow_update)
			e->sinks[i].flow_update(e->sinks[i].arg, f);
	}
}

size_t engine_rejudge(struct engine *e, const struct rejudge_query *q)
{
	struct rejudge r = {.e = e, .q = q};

	if (!e->wl)
		return 0;
	engine_flush(e);
	flow_table_foreach(e->flows, rejudge_one, &r);
	return r.changed;
}

/* flow_table_foreach callback for engine_sync_whitelist. */
static void sync_one(void *arg, struct flow *f)
{
	if (f->end_reason == FLOW_END_NONE)
		wl_flow_final(arg, f);
}

void engine_sync_whitelist(struct engine *e)
{
	engine_flush(e);
	release_held(e, true);	/* the end of a run: no name is coming any more */
	if (!e->wl)
		return;
	flow_table_foreach(e->flows, sync_one, e);
	whitelist_flush(e->wl);
}

void engine_publish(struct engine *e, ng_time wall)
{
	size_t n;

	engine_flush(e);
	for (int s = 0; s < ENRICH_SLOTS; s++) {
		/* (->poll) in parentheses: Windows' platform.h defines a poll() macro. */
		if (e->enrich[s] && enrichment_kinds[s]->poll)
			(enrichment_kinds[s]->poll)(e->enrich[s], wall, engine_enrich_answer, e);
	}
	/* Live: the packet clock stops when the network is quiet, so expire on the wall clock too. */
	if (e->cfg.live && wall - e->last_wall_expire >= NG_USEC) {
		flow_table_expire(e->flows, wall);
		e->last_wall_expire = wall;
	}
	n = e->ndirty;
	e->ndirty = 0;
	for (size_t i = 0; i < n; i++) {
		struct flow *f = flow_table_by_id(e->flows, e->dirty[i]);

		if (!f)
			continue;
		f->dirty = false;
		if (f->end_reason != FLOW_END_NONE)
			continue;	/* already published by its end */
		if (!f->announced) {
			sinks_flow_new(e, f);
			continue;
		}
		for (size_t s = 0; s < e->nsinks; s++) {
			if (e->sinks[s].flow_update)
				e->sinks[s].flow_update(e->sinks[s].arg, f);
		}
	}
	if (e->wl)
		whitelist_flush(e->wl);
}
