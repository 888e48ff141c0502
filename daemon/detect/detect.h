/* SPDX-License-Identifier: BSD-2-Clause */
/* detect.h: behaviour signals on flows, and the one attention level (none, low, high) a person acts on. */
#ifndef NG_DETECT_H
#define NG_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "util.h"

struct flow;
struct flow_table;

/* How much a flow deserves a look; red on the page is NG_ATTN_HIGH and nothing else. */
enum ng_attention {
	NG_ATTN_NONE = 0,
	NG_ATTN_LOW = 1,
	NG_ATTN_HIGH = 2,
};

/*
 * Every signal a flow can carry, most important first (outputs list them in
 * this order). The first group is derived from the whitelist's verdicts and
 * the flow's own state; the behaviour signals are found by the detectors and
 * stored with the flow (struct flow_sigs).
 */
enum sig_id {
	SIG_BLOCKLISTED = 0,
	SIG_BEACON,
	SIG_DNS_TUNNEL,
	SIG_SCAN,
	SIG_LARGE_UPLOAD,
	SIG_FIRST_CONTACT,
	SIG_NO_DNS,
	SIG_LONG_CONNECTION,
	SIG_KNOWN_SERVICE,
	SIG_UNANSWERED,
	SIG_EXE_CHANGED,	/* the program's executable changed (same path, new SHA-256) */
	SIG_NEW_PROGRAM,	/* the first flow of a program (executable path) in the window */
	SIG_COUNT
};

#define DETECT_REASON_MAX 160

/* One signal as outputs show it: {name, value, reason}. */
struct sig_view {
	enum sig_id id;
	double value;
	char reason[DETECT_REASON_MAX];
};

struct detect_config {
	bool off;			/* --no-signals: verdict-derived signals only */
	ng_time long_connection;	/* a connection open this long is "long"; default 1 h */
	uint32_t no_dns_min_answers;	/* DNS answers seen before a nameless connection counts; default 5 */
	size_t max_keys;		/* entries per detector table; default 65,536 */
	ng_time window;			/* the whitelist's window: a beacon to a destination older than it is low */
};

struct detect;

/* The detectors' tables, fixed in size at creation. */
struct detect *detect_create(const struct detect_config *cfg);
void detect_destroy(struct detect *d);

/* "beacon", "first_contact", ... */
const char *sig_name(enum sig_id id);
/* "none", "low", "high". */
const char *attention_name(enum ng_attention a);
/* Parse a comma-free level name; -1 when unknown. */
int attention_parse(const char *s);

/*
 * A flow just started and was judged (verdicts, name, scope known).
 * dns_answers: DNS answers learnt so far (a host that never resolves names
 * gets no no_dns signal). Returns true when it added a signal.
 */
bool detect_flow_start(struct detect *d, struct flow *f, uint64_t dns_answers);
/* The flow's name changed (TLS SNI, HTTP Host): the name-keyed detectors look again. */
bool detect_flow_named(struct detect *d, struct flow *f);
/*
 * A flow ended. Feeds beacon sizes and scan attempts; when a scan finding
 * starts here, every flow of it still in `ft` gets the signal too, and
 * on_mark is called for each flow that changed (not for f).
 */
bool detect_flow_end(struct detect *d, struct flow *f, struct flow_table *ft,
		     void (*on_mark)(void *arg, struct flow *g), void *arg);
/*
 * Traffic counted for the whitelist (each minute and at the end): `delta`
 * bytes in direction dir (enum flow_dir) beyond flow_recorded_bytes(f, dir), which
 * must not have moved on yet. Feeds the upload detector.
 */
bool detect_traffic(struct detect *d, struct flow *f, int dir, uint64_t delta, ng_time t);
/*
 * One DNS response (RFC 1035 message at msg) that answered a query from
 * `client`. Returns true when it makes the DNS flow carrying it suspicious;
 * detect_mark_dns, called with that flow next, puts the signal on it.
 */
bool detect_dns_response(struct detect *d, const ng_addr *client, const uint8_t *msg, size_t len, ng_time t);
bool detect_mark_dns(struct detect *d, struct flow *f);
/*
 * Periodic work on the packet clock (about once a minute): long
 * connections. on_mark is called for each flow that gained a signal.
 */
void detect_tick(struct detect *d, struct flow_table *ft, ng_time now,
		 void (*on_mark)(void *arg, struct flow *g), void *arg);

/*
 * The flow's process became known, or its executable's hash came: exe is its
 * executable's path (NULL when unknown), sha256 its hash (NULL until hashed),
 * changed true when that path had another hash before. Gives new_program to
 * the first flow of a program in the window (programs are remembered in a
 * table of DETECT_PROGRAMS, in memory) and exe_changed. Returns true when it
 * added a signal.
 */
bool detect_flow_process(struct detect *d, struct flow *f, const char *exe, const char *sha256, bool changed,
			 ng_time now);
#define DETECT_PROGRAMS 4096

/* True when f is an inbound attempt this host never answered (a scan of this host, a spoofed flood). */
bool detect_unanswered(const struct flow *f);
/* The attention level of f from its verdicts, its state and its signals. */
enum ng_attention detect_attention(const struct flow *f);
/* The signals f carries as a bit mask (bit = enum sig_id), for exporters. */
uint32_t detect_signal_mask(const struct flow *f);
/* Every signal f carries, in enum order, into out (room for SIG_COUNT); returns how many. */
size_t detect_signals(const struct flow *f, ng_time window, struct sig_view *out);
/* Free what the flow's signals hold (from the flow table's release hook). */
void detect_flow_release(struct flow *f);

struct detect_stats {
	uint64_t beacon, dns_tunnel, scan, large_upload, no_dns, long_connection;	/* flows given each */
	uint64_t new_program, exe_changed;
	uint64_t memory_bytes;	/* the detectors' tables */
};
void detect_get_stats(const struct detect *d, struct detect_stats *out);

#endif
