/* SPDX-License-Identifier: BSD-2-Clause */
/* flow.h: the bidirectional flow table: one entry per conversation, bounded in memory. */
#ifndef NG_FLOW_H
#define NG_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "decode.h"
#include "slots.h"
#include "util.h"
#include "vpool.h"
#include "whitelist.h"

struct flow_sniff;
struct flow_sigs;

/* Direction of a packet from this host's point of view; same values as enum wl_dir. */
enum flow_dir {
	FLOW_SENT = 0,
	FLOW_RECEIVED = 1,
};

enum flow_state {
	FLOW_STATE_OPEN = 0,		/* not TCP */
	FLOW_STATE_SYN_SENT,
	FLOW_STATE_ESTABLISHED,
	FLOW_STATE_CLOSING,		/* a FIN one way */
	FLOW_STATE_CLOSED,		/* FIN both ways */
	FLOW_STATE_RESET,
};

enum flow_end {
	FLOW_END_NONE = 0,		/* still active */
	FLOW_END_CLOSED,		/* FIN/RST and then quiet */
	FLOW_END_IDLE,			/* idle timeout */
	FLOW_END_EVICTED,		/* table full */
};

enum flow_domain_source {
	FLOW_DOMAIN_NONE = 0,
	FLOW_DOMAIN_DNS,
	FLOW_DOMAIN_HTTP,
	FLOW_DOMAIN_SNI,		/* highest: names the service of this very connection */
};

/*
 * The hash key: both ends in canonical order ((a,pa) < (b,pb)), so either
 * direction finds the flow. The addresses are kept without ng_addr's padding
 * (40 bytes instead of 48); flow_key_a/_b give them back as ng_addr.
 */
struct flow_key {
	uint8_t a[16], b[16];	/* ng_addr.a of each end */
	uint16_t pa, pb;
	uint8_t proto;
	uint8_t va, vb;		/* ng_addr.v of each end */
	uint8_t pad;		/* always zero */
};

/* An end of a key as an address. */
static inline ng_addr flow_key_addr_(const uint8_t a[16], uint8_t v)
{
	ng_addr x;

	x.v = v;
	x.pad[0] = x.pad[1] = x.pad[2] = 0;
	memcpy(x.a, a, sizeof x.a);
	return x;
}
static inline ng_addr flow_key_a(const struct flow_key *k)
{
	return flow_key_addr_(k->a, k->va);
}
static inline ng_addr flow_key_b(const struct flow_key *k)
{
	return flow_key_addr_(k->b, k->vb);
}

/* Set an end of a key (the caller keeps the canonical order). */
static inline void flow_key_set_a(struct flow_key *k, const ng_addr *x)
{
	k->va = x->v;
	memcpy(k->a, x->a, sizeof k->a);
}
static inline void flow_key_set_b(struct flow_key *k, const ng_addr *x)
{
	k->vb = x->v;
	memcpy(k->b, x->a, sizeof k->b);
}

/*
 * What few flows need, kept beside the flow instead of in it (flow_ext_get
 * makes it on first use; the table frees it with the flow): a name, a
 * ClientHello being reassembled, behaviour signals, the reply direction's
 * first packet, and what was last pushed to the whitelist. A flood's
 * flows, one packet from a random source each, never need it.
 */
struct flow_ext {
	const char *domain;		/* a strpool reference, or NULL */
	struct flow_sniff *sniff;	/* owned; reassembly of a split ClientHello/request */
	struct flow_sigs *sigs;		/* owned (detect.c): behaviour signals, NULL when none */
	ng_time reply_first;		/* first packet of the direction that did not start the flow */
	ng_time dir_recorded[2];	/* last time pushed to the whitelist (flow_recorded_time) */
	/*
	 * packets[d] and bytes[d] when direction d was last pushed to the
	 * whitelist, read with flow_recorded_pkts and _bytes: their low 32 and
	 * 48 bits, enough while fewer than 2^32 packets and 2^48 bytes arrive
	 * between two pushes (one is due each minute of traffic).
	 */
	uint32_t rec_pkts[2];
	uint32_t rec_bytes_lo[2];
	uint16_t rec_bytes_hi[2];
};

/*
 * One flow. The table owns it; everything it points to (the extension, the
 * enrichments' slots) is released by the table's release hook when the flow
 * is freed.
 *
 * Layout: 176 bytes, carved back to back from the table's slabs. What every
 * packet reads or writes is the first 112 bytes; the rest is read once per
 * flow, or per tick. A million flows is a port scan, a flood or a busy P2P
 * client, so every byte here is paid a million times: what most flows never
 * need lives in struct flow_ext, and the times that follow from others are
 * computed (flow_last_seen, flow_dir_first).
 */
struct flow {
	/* Hot: touched by every packet. */
	struct flow_key key;		/* 40 bytes */
	uint64_t packets[2], bytes[2];	/* indexed by enum flow_dir */
	ng_time dir_last[2];		/* last packet in each direction, NG_TIME_NONE before (0 in a zeroed one) */
	ng_time first_seen;		/* the flow's first packet (its direction is first_dir) */
	uint8_t verdict;		/* enum wl_verdict, overall */
	uint8_t state : 3;		/* enum flow_state */
	uint8_t tclass : 2;		/* which list it is on (flow.c) */
	uint8_t fin_seen : 2;		/* bit per direction */
	uint8_t local_is_b : 1;		/* orientation: the local end is key.b */
	uint8_t syn_seen : 2;		/* 1: a SYN (without ACK), 2: a SYN-ACK */
	uint8_t initiator_local : 1;
	uint8_t sniff_done : 1;		/* no more payload inspection for names */
	uint8_t dirty : 1;		/* on the engine's dirty list */
	uint8_t announced : 1;		/* flow-new was published */
	uint8_t end_reason : 2;		/* enum flow_end */
	uint8_t handshake : 1;		/* TCP: the initiator acknowledged the SYN-ACK */
	uint8_t evidence : 1;		/* some of its frames are kept as evidence (evidence.c) */
	uint8_t rst_seen : 2;		/* TCP: bit per direction (enum flow_dir) that sent a RST */
	uint8_t synack_seen : 1;	/* TCP: a SYN-ACK was seen, whatever the state */
	uint8_t icmp_set : 1;		/* ICMP/ICMPv6: icmp_type/icmp_code are the first header's */
	uint8_t icmp_from_b : 1;	/* ... and key.b sent it */
	uint8_t alerted : 4;		/* engine.c: bit per direction (its alert was raised, or it needs none), and two more */
	uint8_t first_dir : 1;		/* enum flow_dir of the first packet */
	uint8_t recorded : 2;		/* bit per direction: pushed to the whitelist (ext has when) */
	/* The first ICMP header's type and code: the flow's Community ID (communityid.h). */
	uint8_t icmp_type, icmp_code;
	uint8_t remote_scope;		/* enum ng_scope */
	uint8_t domain_source;		/* enum flow_domain_source */
	uint8_t attention;		/* enum ng_attention (detect.h) */
	uint8_t detect_flags;		/* detect.c's own bits */
	uint32_t fragments;

	/* Links by flow number in the table's slabs, 0 for none (flow.c): half the size of pointers. */
	uint32_t queued;		/* when put at the tail of its list, in 65.536 ms units (flow.c) */
	uint32_t prev, next;		/* timeout-class list, or the ended list */
	uint32_t idnext;		/* id hash chain */

	/* Cold: once per flow, or per tick. */
	struct flow_ext *ext;		/* NULL until needed (flow_ext_get) */
	uint64_t id;
	uint64_t event_id;		/* id of the last event that published this flow */
	ENRICH_SLOT_UNION;		/* one reference per enrichment (slots.h), NULL when none */
	uint32_t verdict_ref[2];	/* per direction (enum flow_dir): vpool references; read with flow_verdict */
} __attribute__((aligned(16)));

/* f's extension, made (zeroed, times NG_TIME_NONE) on first use. */
struct flow_ext *flow_ext_get(struct flow *f);

/* The flow's name (a strpool string), or NULL. */
static inline const char *flow_domain(const struct flow *f)
{
	return f->ext ? f->ext->domain : NULL;
}

/* The flow's behaviour signals (detect.c), or NULL. */
static inline struct flow_sigs *flow_sigs(const struct flow *f)
{
	return f->ext ? f->ext->sigs : NULL;
}

/* The time of the flow's last packet: first_seen until a packet is counted, then the latest of both directions. */
static inline ng_time flow_last_seen(const struct flow *f)
{
	ng_time t = f->dir_last[0] > f->dir_last[1] ? f->dir_last[0] : f->dir_last[1];

	return t > f->first_seen ? t : f->first_seen;
}

/* The first packet of direction d (enum flow_dir), NG_TIME_NONE before one. */
static inline ng_time flow_dir_first(const struct flow *f, int d)
{
	if (d == f->first_dir)
		return f->first_seen;
	return f->ext ? f->ext->reply_first : NG_TIME_NONE;
}

/* Record the first packet of direction d at t (the engine, at that packet; tests). */
void flow_set_dir_first(struct flow *f, int d, ng_time t);

/* Direction d (enum flow_dir) was pushed to the whitelist (flow_set_recorded). */
static inline bool flow_recorded(const struct flow *f, int d)
{
	return (f->recorded >> d) & 1;
}

/* When direction d was last pushed to the whitelist, NG_TIME_NONE before the first push. */
static inline ng_time flow_recorded_time(const struct flow *f, int d)
{
	return flow_recorded(f, d) ? f->ext->dir_recorded[d] : NG_TIME_NONE;
}

/* packets[d] as of direction d's last push to the whitelist (flow_set_recorded), 0 before the first. */
static inline uint64_t flow_recorded_pkts(const struct flow *f, int d)
{
	if (!flow_recorded(f, d))
		return 0;
	return f->packets[d] - (uint32_t)((uint32_t)f->packets[d] - f->ext->rec_pkts[d]);
}

/* bytes[d] as of direction d's last push to the whitelist, 0 before the first. */
static inline uint64_t flow_recorded_bytes(const struct flow *f, int d)
{
	uint64_t low48 = ((uint64_t)1 << 48) - 1, rec;

	if (!flow_recorded(f, d))
		return 0;
	rec = (uint64_t)f->ext->rec_bytes_hi[d] << 32 | f->ext->rec_bytes_lo[d];
	return f->bytes[d] - ((f->bytes[d] - rec) & low48);
}

/* Direction d was pushed to the whitelist at t with every packet and byte counted so far. */
void flow_set_recorded(struct flow *f, int d, ng_time t);

/* The whitelist's verdict on direction d (enum flow_dir) of f, as judged at its start (or since). */
static inline const struct wl_verdict_info *flow_verdict(const struct flow *f, int d)
{
	return vpool_info(f->verdict_ref[d]);
}

/* Give direction d of f the verdict *v (copied into the pool; *v may be f's own). */
void flow_verdict_set(struct flow *f, int d, const struct wl_verdict_info *v);

/* The local and remote ends of a flow. */
static inline ng_addr flow_local_addr(const struct flow *f)
{
	return f->local_is_b ? flow_key_b(&f->key) : flow_key_a(&f->key);
}
static inline ng_addr flow_remote_addr(const struct flow *f)
{
	return f->local_is_b ? flow_key_a(&f->key) : flow_key_b(&f->key);
}
/*
 * The same as a pointer to a copy, for the functions that take addresses by
 * pointer: the copy is a compound literal of the block the macro is used in,
 * so the pointer is good until the end of that block (not beyond it).
 */
#define flow_local_ip(f) ((const ng_addr *)(ng_addr[1]){flow_local_addr(f)})
#define flow_remote_ip(f) ((const ng_addr *)(ng_addr[1]){flow_remote_addr(f)})
static inline uint16_t flow_local_port(const struct flow *f)
{
	return f->local_is_b ? f->key.pb : f->key.pa;
}
static inline uint16_t flow_remote_port(const struct flow *f)
{
	return f->local_is_b ? f->key.pa : f->key.pb;
}

/*
 * A flow is an exchange once both ends spoke, and for TCP once the handshake
 * completed: a SYN answered by a RST, or a SYN-ACK to a spoofed SYN, is not
 * one. A TCP flow whose SYN was never seen (it predates the capture) counts
 * when both ends spoke.
 */
static inline bool flow_is_exchange(const struct flow *f)
{
	if (f->packets[0] == 0 || f->packets[1] == 0)
		return false;
	if (f->key.proto != NG_PROTO_TCP || !(f->syn_seen & 1))
		return true;
	return f->handshake;
}

struct flow_table_config {
	size_t max_flows;		/* active flows; default 1,000,000 */
	size_t max_ended;		/* ended flows kept for /flows; 0 frees them at once */
	ng_time tcp_timeout;		/* idle TCP, default 5 min */
	ng_time tcp_closed_timeout;	/* after FIN both ways or RST, default 30 s */
	ng_time udp_timeout;		/* UDP and other protocols, default 2 min */
};

/* Called when a flow ends (end_reason set, still readable), and when it is freed. */
typedef void (*flow_end_cb)(void *arg, struct flow *f);
typedef void (*flow_release_cb)(void *arg, struct flow *f);

struct flow_table;

struct flow_table *flow_table_create(const struct flow_table_config *cfg, flow_end_cb on_end,
				     flow_release_cb release, void *arg);
/* Free every flow (calling release, not on_end). */
void flow_table_destroy(struct flow_table *ft);

/* Build the canonical key for a packet; *swapped says the packet's source is key.b. */
void flow_key_make(struct flow_key *k, uint8_t proto, const ng_addr *src, uint16_t sport, const ng_addr *dst,
		   uint16_t dport, bool *swapped);
uint64_t flow_key_hash(const struct flow_key *k);

/* The active flow with this key, or NULL. */
struct flow *flow_table_find(struct flow_table *ft, const struct flow_key *k, uint64_t hash);

/* Hints for the engine's pipeline: bring a key's index slot, then its flow, into the cache. */
void flow_table_prefetch_slot(const struct flow_table *ft, uint64_t hash);
void flow_table_prefetch_flow(const struct flow_table *ft, uint64_t hash);

/*
 * Add a new active flow (counters zero, first_seen = now, next id). When the
 * table is full it first evicts one: the oldest flow that never got an answer
 * (the victims of a spoofed flood), else the oldest idle one.
 */
struct flow *flow_table_insert(struct flow_table *ft, const struct flow_key *k, uint64_t hash, ng_time now);

/* A packet updated f (last_seen, state): move it when its timeout class changed. */
void flow_table_touch(struct flow_table *ft, struct flow *f);

/* True when f has been idle past its timeout at `now` (a packet now starts a new flow). */
bool flow_table_idle(const struct flow_table *ft, const struct flow *f, ng_time now);

/* End a flow now (for example a new SYN on a closed connection). */
void flow_table_end(struct flow_table *ft, struct flow *f, enum flow_end reason);

/* End every flow idle past its timeout at packet time `now`; returns how many. */
size_t flow_table_expire(struct flow_table *ft, ng_time now);

/* Active or kept-ended flow by id, or NULL. */
struct flow *flow_table_by_id(struct flow_table *ft, uint64_t id);
/*
 * f, taken earlier with its id, if it still exists, else NULL. Cheaper than
 * flow_table_by_id: flows live in slabs the table keeps until it is
 * destroyed, so the memory of a freed flow stays readable (its id is 0, or
 * another flow's once the memory is reused).
 */
struct flow *flow_table_recheck(struct flow_table *ft, struct flow *f, uint64_t id);

/* Visit active flows (oldest activity first), then kept ended flows (oldest end first). */
void flow_table_foreach(struct flow_table *ft, void (*cb)(void *arg, struct flow *f), void *arg);

/*
 * The active flows in id order, as a new array the caller frees (NULL when
 * none), with their count in *n: what the end of a file or a shutdown writes.
 */
struct flow **flow_table_active_by_id(struct flow_table *ft, size_t *n);

struct flow_table_stats {
	uint64_t active, ended_kept, created, ended, evicted;
	uint64_t bytes_used;	/* approximate memory held by flow structs */
};
void flow_table_get_stats(const struct flow_table *ft, struct flow_table_stats *out);

#endif
