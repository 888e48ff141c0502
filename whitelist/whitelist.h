/* SPDX-License-Identifier: BSD-2-Clause */
/* whitelist.h: the rolling whitelist (who this host talked with lately), rules, and verdicts. */
#ifndef NG_WHITELIST_H
#define NG_WHITELIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "util.h"

/* Verdicts, in increasing order of concern (the overall verdict of a flow is the max). */
enum wl_verdict {
	WL_NONE = 0,		/* not decided (no traffic in this direction yet is still decided: see engine) */
	WL_LOCAL,		/* LAN, loopback, multicast or another special range */
	WL_NORMAL,		/* seen in this direction within the window, or allowed by a rule */
	WL_ANOMALOUS,		/* not seen in this direction within the window */
	WL_BLOCKLISTED,		/* in a blocklist */
};

/* Traffic direction, from this host's point of view. */
enum wl_dir {
	WL_SENT = 0,		/* packets from this host to the remote address */
	WL_RECEIVED = 1,	/* packets from the remote address to this host */
};

/* Why a verdict was given; wl_reason_format turns it into a sentence. */
enum wl_why {
	WL_WHY_NONE = 0,
	WL_WHY_LOCAL_SCOPE,	/* "local address (lan)" */
	WL_WHY_SEEN,		/* "seen 312 times since 2026-11-19 08:14" */
	WL_WHY_FIRST_CONTACT,	/* "first contact in the 48 h window" */
	WL_WHY_EXPIRED,		/* "last seen 2026-11-18 09:00, before the 48 h window" */
	WL_WHY_ALLOWED,		/* "allowed by rule *.windowsupdate.com" */
	WL_WHY_BLOCKLISTED,	/* "in blocklist feodo.txt (1.2.3.0/24)" */
};

/*
 * The known service that explains a new address (see "Known services" in
 * docs/whitelist.md): the address is new in this direction, but its name's
 * registrable domain, or else its network (AS), was seen in this direction
 * within the window. The verdict stays anomalous; this only says why.
 */
enum wl_service {
	WL_SVC_NONE = 0,
	WL_SVC_DOMAIN = 1,	/* "new address of microsoft.com, seen 41 times since ..." */
	WL_SVC_ASN = 2,		/* "new address in AS8075 Microsoft Corporation, seen 312 times since ..." */
};

/* One direction's verdict and the facts behind it. Plain data: copy freely. */
struct wl_verdict_info {
	uint8_t verdict;	/* enum wl_verdict */
	uint8_t why;		/* enum wl_why */
	uint8_t scope;		/* enum ng_scope, for WL_WHY_LOCAL_SCOPE */
	uint8_t svc;		/* enum wl_service; WL_SVC_NONE unless anomalous from first contact or expired */
	uint32_t count;		/* flows recorded with the remote in this direction (the row's total) */
	/*
	 * Two of these sit in every flow, so fields that are never used together
	 * share their bytes: an address verdict explained by a service (svc !=
	 * WL_SVC_NONE) is a first contact or expired, whose own first time says
	 * nothing a reason uses, and it has no rule.
	 */
	union {
		ng_time first;		/* svc == WL_SVC_NONE: first time seen in this direction (NG_TIME_NONE when never before t) */
		ng_time svc_first;	/* svc != WL_SVC_NONE: the service's first time seen in this direction */
	};
	ng_time last;		/* latest time seen in this direction before t, even outside the window */
	union {
		/*
		 * Both interned (str_intern), valid for the life of the process, NULL when unused.
		 * WL_WHY_BLOCKLISTED: rule = list file base name ("feodo.txt"), entry = the
		 * matching entry ("1.2.3.0/24", a bare address for a host entry).
		 * WL_WHY_ALLOWED: rule = the rule text ("*.windowsupdate.com"), entry = the
		 * file it came from ("allow.txt", "trusted.txt").
		 */
		struct {
			const char *rule;
			const char *entry;
		};
		/*
		 * The service (svc != WL_SVC_NONE only): svc_name is the registrable
		 * domain or the AS organisation's name, interned (str_intern) and
		 * valid for the life of the process, NULL when unknown (an AS without
		 * a name, or past the cap on interned service names); svc_count the
		 * flows recorded in this direction for that domain or AS (the service
		 * row's total), svc_asn the AS number (WL_SVC_ASN), or for
		 * WL_SVC_DOMAIN the AS the domain was last seen in (0: unknown, as
		 * after a restart: it is kept in memory only).
		 */
		struct {
			const char *svc_name;
			uint32_t svc_count;
			uint32_t svc_asn;
		};
	};
};

/* The name a verdict's `entry` carries for rules the user added with trust (state_dir/trusted.txt). */
#define WL_TRUSTED_NAME "trusted.txt"

struct whitelist_options {
	const char *state_dir;	/* NULL: keep everything in memory (no SQLite file) */
	ng_time window;		/* default 48 h */
	ng_time retention;	/* default 7 d */
	const char **allow_files;	/* --allow FILE, repeatable */
	size_t nallow;
	const char **block_files;	/* --blocklist FILE, repeatable */
	size_t nblock;
	size_t max_list_entries;	/* entries kept per blocklist file (--blocklist-max); 0: 2,000,000 */
	bool read_only;		/* history and other CLI readers: never write */
	size_t max_entries;	/* cap on learnt rows in memory (oldest evicted); 0: 4,000,000 */
	const ng_cidr *public_nets;	/* special ranges judged as public (--public-net); copied */
	size_t npublic;
	size_t max_services;	/* cap on learnt service rows in memory (oldest evicted); 0: 250,000 */
	/*
	 * The network rule (docs/whitelist.md "Known services"): an AS explains
	 * a named flow's new address when it was seen in the window, and a
	 * nameless flow's only after this many flows in the window (0: 3). A
	 * single past contact with a cloud network says nothing about a new
	 * tenant. 1 lets any seen AS explain a nameless flow (to measure the rule).
	 */
	uint32_t asn_nameless_min_flows;
};

struct whitelist;

/*
 * Open (creating if needed, directory mode 0700) the store in state_dir
 * (netglobe.db, WAL mode), load the rules (allow files, blocklists and
 * state_dir/trusted.txt), and prune rows last seen more than the retention
 * before the latest packet recorded. window/retention 0 mean 48 h/7 d; the
 * retention is raised to the window if shorter. NULL and one line in err on
 * failure, naming the file and the fix ("FILE:LINE: reason" for a list).
 * The caller frees with whitelist_close.
 */
struct whitelist *whitelist_open(const struct whitelist_options *opts, char *err, size_t errlen);
/* Commit what is pending and close. */
void whitelist_close(struct whitelist *wl);

/*
 * The verdict for traffic with `remote` (the flow's name from DNS, SNI or
 * Host, or NULL; its AS number `asn`, 0 when unknown) in direction `dir` for
 * a flow that starts at packet time `t`, judged on what was recorded before
 * t. Precedence: blocklist > allow rule > local scope >
 * seen within window (normal) > anomalous. Normal needs first_seen < t and
 * the latest time recorded before t >= t - window (exactly t - window is
 * inside); recording the flow's own first packet at t before asking changes
 * nothing. Domain rules: "example.com" is exact, "*.example.com" matches
 * names below it but not example.com itself; case-insensitive, a trailing dot
 * ignored. When the verdict is anomalous from first contact or expiry, the
 * service fields say whether the name's registrable domain, else the AS (only
 * for a nameless flow after asn_nameless_min_flows flows), was seen in this
 * direction within the window, by the same rule as addresses; they never
 * change the verdict. In memory only, no disk I/O, no allocation (but the
 * first match of a rule or list entry, or the first explanation by a
 * service, interns its text once).
 */
void whitelist_verdict(struct whitelist *wl, const ng_addr *remote, const char *domain, uint32_t asn,
		       enum wl_dir dir, ng_time t, struct wl_verdict_info *out);
/* True when an allow rule matches by domain, so a flow's name can decide its verdict. */
bool whitelist_has_domain_rules(const struct whitelist *wl);

/*
 * Record traffic with `remote` in direction `dir` at packet time `t`:
 * `new_flows` flows started (0 for a later touch of the same flow), `packets`
 * and `bytes` more. Updates memory at once (so the next verdict sees it) and
 * queues a row change for the next whitelist_flush. domain/country may be NULL.
 * `asn` (0 when unknown) and `as_org` (NULL when unknown) are the remote's
 * network. The same call teaches the known services of this direction: the
 * registrable domain of `domain` (when it has one) and the AS `asn` (when not
 * 0), with the same times and new_flows. `verdict` is the verdict the flow
 * got in this direction (WL_NONE on touches); the store keeps the worst one
 * seen so `history --verdict` can select by it.
 */
void whitelist_record(struct whitelist *wl, const ng_addr *remote, enum wl_dir dir, ng_time t, uint32_t new_flows,
		      uint64_t packets, uint64_t bytes, const char *domain, const char *country, uint32_t asn,
		      const char *as_org, enum wl_verdict verdict);

/*
 * Write queued changes in one transaction; called from the housekeeping tick
 * (about once a second). Also prunes by retention, at most once a minute.
 * 0, or -1 when the database could not be written (changes stay queued).
 */
int whitelist_flush(struct whitelist *wl);
/*
 * Prune now: drop rows last seen more than the retention before the latest
 * packet, from memory at once and from disk at the next flush; returns the
 * number of rows removed.
 */
int whitelist_prune(struct whitelist *wl);

/* Learning state: a full window has not yet passed since the first packet ever recorded. */
struct wl_learning {
	bool learning;
	ng_time since;		/* first packet ever recorded (NG_TIME_NONE when none) */
	ng_time elapsed;	/* min(now - since, window) */
	ng_time window;
	double progress;	/* elapsed / window, 0..1 */
};
void whitelist_learning(struct whitelist *wl, ng_time now, struct wl_learning *out);

/* What the store knows of one remote address in one direction (for /flows/{id}). */
struct wl_entry {
	bool known;
	ng_time first, last;
	uint64_t flows, packets, bytes;
};
void whitelist_entry(struct whitelist *wl, const ng_addr *remote, enum wl_dir dir, struct wl_entry *out);

/* What the store knows of one known service in one direction (for /flows/{id}). */
struct wl_service_entry {
	bool known;
	ng_time first, last;
	uint64_t flows;
	const char *name;	/* AS rows: the organisation (valid until the next whitelist call), else NULL */
};
/*
 * Look up the service row of a registrable domain (kind WL_SVC_DOMAIN, `domain`
 * any name below it; asn unused) or of an AS (WL_SVC_ASN, `asn`; domain unused).
 */
void whitelist_service_entry(struct whitelist *wl, enum wl_service kind, const char *domain, uint32_t asn,
			     enum wl_dir dir, struct wl_service_entry *out);

/*
 * Trust an address, CIDR or domain pattern ("*.example.com") from now on: an
 * allow rule kept in state_dir/trusted.txt (rewritten atomically; memory only
 * without a state_dir), applied at once; trusting twice is harmless. Forget
 * removes such a rule if present and the learnt rows it covers (an address or
 * CIDR: those addresses, both directions; a pattern: rows whose recorded
 * domain matches, and the known-domain rows of the pattern's registrable
 * domain or that the pattern matches), so they are anomalous again and no
 * longer explained by that domain; it flushes. 0, or -1 with a
 * reason in err ("cannot trust: 'x y' is not an address, CIDR or domain
 * pattern (use example.com or *.example.com)").
 */
int whitelist_trust(struct whitelist *wl, const char *what, char *err, size_t errlen);
int whitelist_forget(struct whitelist *wl, const char *what, char *err, size_t errlen);
/*
 * How many learnt rows (an address in one direction) a rule covers: the
 * rows forget would erase and trust would make normal; -1 when `what` is
 * not a rule.
 */
long whitelist_covered(struct whitelist *wl, const char *what);

/*
 * The canonical text of a rule (an address, CIDR or domain pattern), as
 * trust writes it and a verdict's rule names it. 0, or -1 with why in err.
 */
int whitelist_rule_canon(const char *what, char *out, size_t outlen, char *err, size_t errlen);
/*
 * Add (add true) or remove canonical rules of trusted.txt with one write,
 * applied at once; done[i] says rule i changed the list (new, or present and
 * removed). Removing keeps the learnt history (unlike forget). 0, or -1 with
 * a reason in err (nothing changed).
 */
int whitelist_trust_many(struct whitelist *wl, const char *const *rules, size_t n, bool add, bool *done, char *err,
			 size_t errlen);

/*
 * Reload the allow and block files when `force` (SIGHUP) or when a file
 * changed on disk. A file that fails to parse keeps its old contents and logs
 * why with the line number. Returns the number of files reloaded.
 */
int whitelist_reload(struct whitelist *wl, bool force);

/* Sentence for a verdict, e.g. "seen 312 times since 2026-11-19 08:14"; returns buf. */
char *wl_reason_format(const struct wl_verdict_info *v, ng_time window, char *buf, size_t len);
/*
 * Copy the service that explains src (svc, its name, counts, AS and first
 * time) into dst, leaving dst's verdict as it is: a flow's name that came
 * after its start explains its new address.
 */
void wl_verdict_take_service(struct wl_verdict_info *dst, const struct wl_verdict_info *src);
/* When the explaining service was first seen (NG_TIME_NONE without one). */
static inline ng_time wl_service_first(const struct wl_verdict_info *v)
{
	return v->svc != 0 ? v->svc_first : NG_TIME_NONE;
}
/*
 * Sentence for the service that explains a new address, e.g. "new address of
 * microsoft.com, seen 41 times since 2026-11-19 08:14" or "new address in
 * AS8075 Microsoft Corporation, seen 312 times since ..."; "" (buf) when
 * v->svc is WL_SVC_NONE. window is taken for symmetry with wl_reason_format.
 */
char *wl_service_format(const struct wl_verdict_info *v, ng_time window, char *buf, size_t len);
/* "normal", "anomalous", "blocklisted", "local", or NULL for WL_NONE. */
const char *wl_verdict_name(enum wl_verdict v);
/* Parse a verdict name; -1 when unknown. */
int wl_verdict_parse(const char *s);

/*
 * `netglobe history`: print what the host talked to from the store at
 * state_dir, opened read-only (safe while the daemon runs). since
 * (NG_TIME_NONE or 0: all) keeps rows with last_seen >= since; verdict_filter
 * (an enum wl_verdict, or <= 0 for all) keeps rows whose worst verdict is
 * that. format "json" writes JSON Lines (one object per row), "csv" a header
 * row then RFC 4180 rows. Columns: address, direction, flows, packets, bytes,
 * first_seen, last_seen (RFC 3339), domain, country, verdict. Newest first.
 */
int whitelist_history_cli(const char *state_dir, ng_time since, int verdict_filter, const char *format, FILE *out,
			  char *err, size_t errlen);
/*
 * `netglobe reset-baseline`: delete the learnt rows (addresses and known
 * services) and the first-packet time
 * (trusted rules stay) and print "removed N addresses (M rows) learnt since
 * ...". A running daemon notices at its next flush and forgets its rows too.
 */
int whitelist_reset_cli(const char *state_dir, FILE *out, char *err, size_t errlen);

struct whitelist_stats {
	uint64_t entries, pending, flushes, flush_errors, allow_rules, block_entries, block_dropped_special;
	uint64_t evicted;	/* rows dropped because the table was full */
	uint64_t pruned;	/* rows dropped by retention */
	uint64_t services;		/* known-service rows (domain and AS, per direction) in memory */
	uint64_t services_evicted;	/* service rows dropped because their table was full */
	uint64_t services_pruned;	/* service rows dropped by retention */
	uint64_t explained_domain;	/* anomalous verdicts explained by a known registrable domain */
	uint64_t explained_asn;		/* ... by a known AS (the flow had a name) */
};
void whitelist_get_stats(const struct whitelist *wl, struct whitelist_stats *out);

#endif
