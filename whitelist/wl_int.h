/* SPDX-License-Identifier: BSD-2-Clause */
/* wl_int.h: private interfaces shared by the whitelist module's files, its unit tests and its fuzzer. */
#ifndef NG_WL_INT_H
#define NG_WL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "platform.h"

#include "addr.h"
#include "util.h"
#include "whitelist.h"

/* Longest line a list file may hold; a longer one rejects the file. */
#define WL_LINE_MAX 4096
/* A blocklist is rejected when more than this percentage of its entry lines is malformed. */
#define WL_BAD_PERCENT 1
/* Longest domain name (RFC 1035 2.3.4) plus the "*." of a pattern and the NUL. */
#define WL_DOMAIN_MAX 256
/* Default cap on the in-memory table. */
#define WL_DEFAULT_MAX_ENTRIES ((size_t)4000000)
/* Default cap on the entries kept from one blocklist file (--blocklist-max). */
#define WL_DEFAULT_MAX_LIST_ENTRIES ((size_t)2000000)
/* Default cap on the in-memory known-service rows. */
#define WL_DEFAULT_MAX_SERVICES ((size_t)250000)
/* Longest AS organisation name a service row keeps. */
#define WL_ORG_KEEP 128

enum wl_list_kind {
	WL_LIST_ALLOW = 0,	/* addresses, CIDRs and domain patterns that make traffic normal */
	WL_LIST_BLOCK = 1,	/* addresses and CIDRs that make traffic blocklisted */
};

/* A CIDR in compact form (18 bytes); `a` has every bit past `prefix` cleared. */
struct wl_cidr {
	uint8_t v;		/* 4 or 6 */
	uint8_t prefix;
	uint8_t a[16];
};

/*
 * One parsed list file. Immutable once parsed and reference-counted, because
 * the rule sets built from it and the reload bookkeeping share it.
 */
struct wl_list {
	int refs;
	enum wl_list_kind kind;
	const char *name;		/* interned base name of the file ("feodo.txt") */
	struct wl_cidr *cidrs;		/* addresses and CIDRs, in file order */
	size_t ncidrs, cidrcap;
	char **cidr_rules;		/* allow lists only: canonical text of each CIDR (owned) */
	char **domains;			/* allow lists only: patterns "example.com", "*.example.com" (owned) */
	size_t ndomains, domcap;
	size_t lines;			/* lines in the file */
	size_t entry_lines;		/* lines that held an entry (good, dropped or malformed) */
	size_t dropped_special;		/* blocklist entries overlapping a special range */
	size_t bad;			/* malformed entry lines skipped */
	size_t first_bad_line;		/* line number of the first of them, 0 when none */
	char first_bad[256];		/* and why */
	size_t over_cap;		/* blocklist entry lines past the cap (wl_parse_opts.max_entries), not kept */
};

/* What the parser needs to know beyond the bytes (NULL: nothing). */
struct wl_parse_opts {
	const ng_cidr *public_nets;	/* special ranges declared public (--public-net): kept in blocklists */
	size_t npublic;
	size_t max_entries;		/* blocklists: entries kept per file (--blocklist-max); 0: the default */
};

/*
 * Parse a list file held in memory (buf need not be NUL-terminated). `path`
 * names the file in messages ("FILE:LINE: reason"). On success *out holds a
 * new list with one reference (the caller drops it with wl_list_unref) and 0
 * is returned; on a rejected file -1 and one line in err.
 */
int wl_list_parse(enum wl_list_kind kind, const char *path, const char *buf, size_t len,
		  const struct wl_parse_opts *po, struct wl_list **out, char *err, size_t errlen);
/* Read and parse a list file; as wl_list_parse, plus "cannot read FILE: reason". */
int wl_list_load(enum wl_list_kind kind, const char *path, const struct wl_parse_opts *po, unsigned how,
		 struct wl_list **out, char *err, size_t errlen);
/* Take one more reference. */
struct wl_list *wl_list_ref(struct wl_list *l);
/* Drop a reference; the last one frees the list. */
void wl_list_unref(struct wl_list *l);

/*
 * Normalise one allow rule: an address ("192.0.2.1"), a CIDR ("192.0.2.0/24",
 * host bits cleared) or a domain pattern ("Example.COM." -> "example.com",
 * "*.example.com"). Writes the canonical text into out; 0, or -1 with a reason.
 */
int wl_rule_normalize(const char *what, char *out, size_t outlen, char *err, size_t errlen);
/*
 * Normalise a domain pattern: lower-case, trailing dot dropped, optional
 * leading "*." label, labels of letters, digits, '-' and '_' (1..63 bytes),
 * at most 253 bytes, last label not all digits. 0, or -1 with a reason.
 */
int wl_domain_normalize(const char *s, size_t n, char *out, size_t outlen, char *err, size_t errlen);
/* True when the CIDR contains, or lies inside, a special (non-public) range. */
bool wl_cidr_overlaps_special(const struct wl_cidr *c);
/* False when addr is surely public (its first byte starts no special range): lets verdicts skip addr_scope. */
bool wl_addr_maybe_special(const ng_addr *addr);
/* Convert between the compact and the shared CIDR types. */
struct wl_cidr wl_cidr_from(const ng_cidr *c);
/* Text of a compact CIDR: a bare address for a host prefix, else "base/len"; returns buf. */
char *wl_cidr_format(const struct wl_cidr *c, char *buf, size_t len);

/*
 * Prefix table: disjoint address ranges in sorted arrays (one per family)
 * with a 16-bit first-level index, each range labelled with the innermost
 * CIDR that covers it. Lookup is one index read plus a short binary search.
 */
#define WL_PT_NONE UINT32_MAX
struct wl_ptable;
/*
 * Build from n CIDRs; cidrs[i] gets label i. Where CIDRs nest the innermost
 * wins; equal CIDRs keep the lowest label. The caller frees with wl_ptable_free.
 */
struct wl_ptable *wl_ptable_build(const struct wl_cidr *const *cidrs, size_t n);
/* Label of the innermost CIDR holding addr, or WL_PT_NONE. */
uint32_t wl_ptable_lookup(const struct wl_ptable *t, const ng_addr *addr);
/* Number of disjoint ranges (both families), for tests and stats. */
size_t wl_ptable_ranges(const struct wl_ptable *t);
void wl_ptable_free(struct wl_ptable *t);
/* Ask for transparent huge pages over the 2 MiB-aligned interior of a big array (a hint; lookups are TLB-bound). */
void wl_hugepage_hint(void *p, size_t len);

/*
 * The rules: allow files, blocklists and trusted.txt, with what reload needs
 * (each file's identity on disk) and the lookup structures built from them.
 */
struct wl_rules;
/*
 * Load every file; trusted_path may be NULL (memory only) or name a file that
 * need not exist yet; po (may be NULL) must outlive the rules. NULL and
 * "FILE:LINE: reason" in err when one fails. The caller frees with wl_rules_free.
 */
struct wl_rules *wl_rules_create(const char *const *allow, size_t nallow, const char *const *block, size_t nblock,
				 const char *trusted_path, const struct wl_parse_opts *po, char *err, size_t errlen);
void wl_rules_free(struct wl_rules *r);
/* Re-read changed files (all when force), rebuild and swap; returns the number reloaded. */
int wl_rules_reload(struct wl_rules *r, bool force);
/* Blocklist match: list name and entry text (both interned). */
bool wl_rules_block(const struct wl_rules *r, const ng_addr *addr, const char **list, const char **entry);
/* Allow match by address or domain: rule text and file name (both interned). */
/* True when some allow rule is a domain pattern. */
bool wl_rules_have_domains(const struct wl_rules *r);
bool wl_rules_allow(const struct wl_rules *r, const ng_addr *addr, const char *domain, const char **rule,
		    const char **source);
/* Add (trust) or remove (forget) a normalised rule in trusted.txt; 0, or -1 with err. *changed says if it did. */
/*
 * Add (or remove) several rules of trusted.txt with one write; done[i] says
 * rule i changed the list (a repeat in `rules` counts once). 0, or -1 with
 * err (nothing changed).
 */
int wl_rules_trust_many(struct wl_rules *r, const char *const *rules, size_t n, bool add, bool *done, char *err,
			size_t errlen);
int wl_rules_trust(struct wl_rules *r, const char *rule, bool add, bool *changed, char *err, size_t errlen);
/* True when the normalised domain pattern matches the domain (both lower-case, no trailing dot). */
bool wl_domain_match(const char *pattern, const char *domain);
void wl_rules_stats(const struct wl_rules *r, uint64_t *allow_rules, uint64_t *block_entries,
		    uint64_t *dropped_special);

/* One learnt (address, direction) pair, in memory. */
struct wl_row {
	ng_addr addr;
	uint8_t dir;		/* enum wl_dir */
	uint8_t verdict;	/* worst verdict recorded */
	char country[3];	/* ISO 3166 alpha-2 or "" */
	uint32_t dirty_pos;	/* index in the dirty list, or UINT32_MAX */
	ng_time first, last;
	ng_time last_prev;	/* latest recorded time before `last` (NG_TIME_NONE when unknown) */
	uint64_t flows, packets, bytes;
	const char *domain;	/* a strpool reference (at most WL_DOMAIN_KEEP bytes), or NULL */
};

/* Longest domain a row keeps (RFC 1035 2.3.4: a name has at most 253 characters). */
#define WL_DOMAIN_KEEP 253

/*
 * One known service in one direction, in memory: a registrable domain
 * (kind WL_SVC_DOMAIN) or an AS (WL_SVC_ASN) seen with any address.
 */
struct wl_svc {
	uint64_t hash;		/* of (kind, key, dir): the slot table's tag and home slot */
	const char *name;	/* DOMAIN: the registrable domain (the key); ASN: the organisation or NULL (strpool) */
	const char *shown;	/* name interned for verdicts (str_intern), NULL until first needed */
	ng_time first, last;
	ng_time last_prev;	/* latest recorded time before `last` (NG_TIME_NONE when unknown) */
	uint64_t flows;
	uint32_t asn;		/* ASN: the AS number (the key); DOMAIN: the AS of the latest flow that taught it (0: none known) */
	uint32_t dirty_pos;	/* index in the dirty list, or UINT32_MAX */
	uint8_t kind;		/* enum wl_service */
	uint8_t dir;		/* enum wl_dir */
};

/* The known-service rows: an in-memory hash table mirrored to the `services` table. */
struct wl_svcs;
struct sqlite3;
/* An empty table holding at most max_rows rows (0: WL_DEFAULT_MAX_SERVICES). Freed with wl_svcs_free. */
struct wl_svcs *wl_svcs_create(size_t max_rows);
void wl_svcs_free(struct wl_svcs *s);
/*
 * Bind to netglobe.db (db NULL: memory only): create the table unless
 * read_only (an older database gains it), prepare the statements, load the
 * rows (a read-only database without the table loads none). 0, or -1 with err.
 */
int wl_svcs_attach(struct wl_svcs *s, struct sqlite3 *db, const char *path, bool read_only, char *err,
		   size_t errlen);
/* Find the row of a registrable domain (lower-case) or of an AS in one direction; NULL when unknown. */
struct wl_svc *wl_svcs_find_domain(struct wl_svcs *s, const char *regdomain, uint8_t dir);
struct wl_svc *wl_svcs_find_asn(struct wl_svcs *s, uint32_t asn, uint8_t dir);
/*
 * Find or create (evicting the oldest when full) and mark dirty; a new row
 * has first = last = t and no flows. `pooled` is a strpool string: the row
 * takes its own reference.
 */
struct wl_svc *wl_svcs_touch_domain(struct wl_svcs *s, const char *pooled, uint8_t dir, ng_time t);
struct wl_svc *wl_svcs_touch_asn(struct wl_svcs *s, uint32_t asn, uint8_t dir, ng_time t);
/* Remove rows for which match() is true, and queue their deletion on disk; returns the number removed. */
size_t wl_svcs_remove_if(struct wl_svcs *s, bool (*match)(const struct wl_svc *, void *), void *ctx);
/* Drop rows whose last < cutoff from memory now and from disk at the next flush; returns the number removed. */
size_t wl_svcs_prune(struct wl_svcs *s, ng_time cutoff);
/* Forget every row in memory, queueing nothing (the database was reset by someone else). */
void wl_svcs_clear(struct wl_svcs *s);
/* Write dirty rows and deletions inside the caller's open transaction; 0 or -1 (then roll back). */
int wl_svcs_write(struct wl_svcs *s);
/* After the transaction committed (or, memory only, at each flush): nothing is pending any more. */
void wl_svcs_written(struct wl_svcs *s);
size_t wl_svcs_count(const struct wl_svcs *s);
size_t wl_svcs_pending(const struct wl_svcs *s);
uint64_t wl_svcs_evicted(const struct wl_svcs *s);

/* The store: the in-memory table and, unless memory-only, netglobe.db. */
struct wl_store;
/* Schema version written to PRAGMA user_version. */
#define WL_SCHEMA_VERSION 1
/*
 * Open the store. db_path NULL keeps everything in memory. Loads the rows
 * (beyond max_entries the least recently seen are evicted), the known
 * services (capped at max_services the same way) and the meta values.
 * NULL and err on failure; the caller frees with wl_store_close.
 */
struct wl_store *wl_store_open(const char *db_path, bool read_only, size_t max_entries, size_t max_services,
			       char *err, size_t errlen);
/* The known-service rows, kept in the same database and flushed in the same transaction. */
struct wl_svcs *wl_store_svcs(struct wl_store *s);
void wl_store_close(struct wl_store *s);
struct wl_row *wl_store_find(struct wl_store *s, const ng_addr *addr, uint8_t dir);
/* Find or create the row (evicting the oldest when full) and mark it dirty. */
struct wl_row *wl_store_touch(struct wl_store *s, const ng_addr *addr, uint8_t dir, ng_time t);
/* Mark a row changed so the next flush writes it. */
void wl_store_mark(struct wl_store *s, struct wl_row *row);
/* Remove rows for which match() is true, and queue their deletion on disk; returns the number removed. */
size_t wl_store_remove_if(struct wl_store *s, bool (*match)(const struct wl_row *, void *), void *ctx);
/* How many rows match (nothing changes). */
size_t wl_store_count_if(const struct wl_store *s, bool (*match)(const struct wl_row *, void *), void *ctx);
/* Drop rows whose last < cutoff from memory now and from disk at the next flush; returns the number removed. */
size_t wl_store_prune(struct wl_store *s, ng_time cutoff);
/* Write dirty rows, deletions and meta in one transaction; 0 or -1 (kept for the next try). */
int wl_store_flush(struct wl_store *s);
/* Packet clock and first packet ever (persisted as meta). */
void wl_store_clock(struct wl_store *s, ng_time t);
ng_time wl_store_now(const struct wl_store *s);
ng_time wl_store_first_packet(const struct wl_store *s);
/* Counters for whitelist_get_stats. */
size_t wl_store_count(const struct wl_store *s);
size_t wl_store_pending(const struct wl_store *s);
uint64_t wl_store_flushes(const struct wl_store *s);
uint64_t wl_store_flush_errors(const struct wl_store *s);
uint64_t wl_store_evicted(const struct wl_store *s);

/*
 * Row eviction, shared by the address rows (store.c) and the service rows
 * (services.c): the last-seen time below which about `fraction` of `n` rows
 * lie, estimated from at most 1024 rows picked by *rng (xorshift64, so the
 * same sequence of calls evicts the same rows). last_of(rows, i) reads row
 * i's last-seen time.
 */
ng_time wl_evict_cut(const void *rows, size_t n, ng_time (*last_of)(const void *rows, size_t i), size_t fraction,
		     uint64_t *rng);

#endif
