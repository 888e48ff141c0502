/* SPDX-License-Identifier: BSD-2-Clause */
/* engine.h: the per-packet pipeline: decode, flow table, names, GeoIP, process, verdicts, publishing. */
#ifndef NG_ENGINE_H
#define NG_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "detect.h"
#include "flow.h"
#include "slots.h"
#include "util.h"

struct whitelist;
struct dns_cache;
struct local_set;

/*
 * Where flow changes go. Any callback may be NULL. flow_new and flow_update
 * are called from engine_publish (batched, at most once per flow per call);
 * flow_end as soon as a flow ends (preceded by flow_new if it was never
 * published); alert when a flow's attention becomes high (or, with
 * alert_on_verdict, when a direction starts with an anomalous or
 * blocklisted verdict: see engine.c for which ones).
 */
struct engine_sink {
	void (*flow_new)(void *arg, struct flow *f);
	void (*flow_update)(void *arg, struct flow *f);
	void (*flow_end)(void *arg, struct flow *f);
	void (*alert)(void *arg, struct flow *f, enum flow_dir dir);
	/*
	 * Every captured frame of a flow whose overall verdict is anomalous or
	 * blocklisted, after the flow was updated (for evidence pcaps). The frame
	 * is valid only during the call; dlt is its link type.
	 */
	void (*suspect_packet)(void *arg, struct flow *f, int dlt, const struct capture_packet *p);
	/*
	 * The packet clock reached a new whole minute t (UTC) after the run's
	 * first packet: called before the packet that reached it is counted and
	 * before any flow expires on its account, so the flow table is as it was
	 * at t (for history snapshots).
	 */
	void (*packet_minute)(void *arg, ng_time t);
	void *arg;
};

struct engine_config {
	struct flow_table_config flows;
	bool live;			/* live capture: ask for process attribution */
	bool names;			/* TLS SNI and HTTP Host sniffing (default on) */
	const ng_cidr *public_nets;	/* special ranges to treat as public (--public-net) */
	size_t npublic_nets;
	struct detect_config detect;	/* behaviour signals */
	bool alert_on_verdict;		/* alert on every anomalous verdict (the first version's rule), not on high attention */
};

struct engine;

/*
 * What the engine runs, borrowed (any may be NULL): the local host's
 * addresses, the names learnt from DNS, the whitelist that judges, and the
 * enrichments by slot (enrich.h: each its own state; NULL leaves it off).
 */
struct engine_parts {
	struct local_set *local;
	struct dns_cache *dns;
	struct whitelist *wl;
	void *enrich[ENRICH_SLOTS];
};

/* The engine owns the flow table. */
struct engine *engine_create(const struct engine_config *cfg, const struct engine_parts *parts);
void engine_destroy(struct engine *e);

/* Add a consumer of flow changes (up to 8). */
void engine_add_sink(struct engine *e, const struct engine_sink *sink);

/*
 * Take one captured frame of link type dlt (copied: the caller's buffer may
 * be reused at once). Frames go through a short pipeline, so their effect
 * on flows is complete only after engine_flush, which every reader of the
 * flow table must call first (engine_publish and engine_sync_whitelist do).
 */
void engine_packet(struct engine *e, int dlt, const struct capture_packet *p);
/* Finish every frame still in the pipeline. */
void engine_flush(struct engine *e);

/*
 * Housekeeping on the wall clock (about 4 times a second): publish new and
 * changed flows to the sinks, resolve process lookups, commit the whitelist.
 * For live capture also expires idle flows using the wall clock, since the
 * packet clock stops when the network is quiet.
 */
void engine_publish(struct engine *e, ng_time wall);

/*
 * Push every active flow's traffic not yet told to the whitelist, and commit
 * it (end of a file, shutdown), so the store's counts match the flows.
 */
void engine_sync_whitelist(struct engine *e);

/*
 * Judge again the held flows (active and kept ended) that `covers` selects
 * (NULL: all), after trusted rules changed or learnt history was forgotten.
 * A direction whose verdict came from an allow rule, or comes from one now,
 * takes today's verdict; with `forgotten`, so does one that was normal and
 * is anomalous now. Attention follows (behaviour signals and blocklist hits
 * stay). Changed active flows are published at the next engine_publish,
 * changed ended ones at once (flow_update). `changed` (may be NULL) is
 * called with each flow that changed, after its new judgement is set.
 * Returns how many flows changed.
 */
struct rejudge_query {
	bool (*covers)(void *arg, const struct flow *f);
	void *arg;
	bool forgotten;
	void (*changed)(void *arg, const struct flow *f);
	void *changed_arg;
};
size_t engine_rejudge(struct engine *e, const struct rejudge_query *q);

/* The packet clock: time of the newest packet seen (NG_TIME_NONE before any). */
ng_time engine_now(const struct engine *e);

struct flow_table *engine_flows(struct engine *e);

/* The detectors' statistics and memory. */
void engine_detect_stats(const struct engine *e, struct detect_stats *out);

/* Overall verdict of a flow: the worst among the directions that carried traffic. */
enum wl_verdict engine_flow_verdict(const struct flow *f);

struct engine_stats {
	uint64_t packets, bytes;	/* every frame; bytes on the wire */
	uint64_t ip_packets, not_ip, malformed, fragments;
	uint64_t dns_messages, names_sni, names_http;
	uint64_t dns_unsolicited;	/* answers to no query seen (forged, or the query was not captured) */
	uint64_t alerts;
	uint64_t held_by_verdict[5];	/* flows in the table now (active and kept), by overall verdict */
	uint64_t held_by_attention[3];	/* the same, by attention level */
	uint64_t dns_answers;		/* DNS answers learnt (they answered a query seen) */
	uint64_t unanswered_flows;	/* inbound attempts that ended never answered */
	uint64_t unanswered_addresses;	/* from this many remote addresses (exact up to ENGINE_UNANSWERED_CAP) */
	ng_time first_packet, last_packet;
};
void engine_get_stats(const struct engine *e, struct engine_stats *out);

#endif
