/* SPDX-License-Identifier: BSD-2-Clause */
/* whitelist.c: the whitelist's public face: open/close, verdicts and their reasons, recording, trust and learning. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "platform.h"

#include "log.h"
#include "regdomain.h"
#include "strpool.h"
#include "util.h"
#include "whitelist.h"
#include "wl_int.h"

/*
 * DESIGN
 *
 * The method: an address is normal in a direction when this host exchanged
 * traffic with it in that direction during the window (48 h) before the flow
 * began, on the packet clock. Each (address, direction) row keeps first and
 * last seen; a verdict at time t asks "was there a record before t, and was
 * the latest such record at or after t - window". The latest record strictly
 * before t is the row's `last` when last < t, else `last_prev` (the previous
 * distinct time), else `first`; that keeps the verdict right when the engine
 * records a flow's first packet before asking for its verdict.
 *
 * Precedence: blocklist > allow rule > local scope > seen > anomalous. Rules
 * come first so the user can allow (or a list can block) anything; blocklists
 * drop special-range entries at load, so only allow rules reach the LAN.
 *
 * Retention is never shorter than the window (a row must outlive the window
 * to say "expired" rather than "first contact").
 *
 * Known services. Beside each address row, the same record call teaches
 * two service rows per direction: the registrable domain (eTLD+1 by the
 * Public Suffix List) of the flow's name, and the remote's AS. They follow
 * the address rows' time rules exactly (first seen before t, latest record
 * before t at or after t - window), so a new address of a domain or network
 * seen lately can be told from a real first contact. They never change a
 * verdict: an anomalous address stays anomalous, and the verdict only
 * carries the service that explains it. Which service may explain is
 * decided in one place, svc_explain(); the name rule for ASes lives there.
 *
 * Name lookups cost about 1 us each (libpsl), so the registrable domain of
 * the names recorded lately is cached by their pooled pointer: the engine
 * passes each flow's pooled name, and a cached entry holds a reference to
 * its name, so an equal pointer means an equal name.
 */

struct whitelist {
	ng_time window, retention;
	bool read_only;
	char *state_dir;
	struct wl_store *store;
	struct wl_rules *rules;
	ng_time last_prune;	/* monotonic time of the last periodic prune */
	uint64_t pruned;
	ng_cidr *public_nets;	/* --public-net: special ranges judged as public */
	size_t npublic;
	struct wl_parse_opts po;	/* points at public_nets, for the list parser */
	bool psl;		/* the Public Suffix List loaded: registrable domains may be learnt */
	uint32_t asn_nameless_min_flows;	/* whitelist_options.asn_nameless_min_flows, default applied */
	uint64_t svc_pruned, explained_domain, explained_asn;
	struct rd_cache {
		const char *name;	/* a pooled name (a reference held here), NULL when empty */
		const char *reg;	/* its registrable domain (pooled reference), NULL when it has none */
	} rd_cache[256];
};

/*
 * At most this many service names are interned for verdicts over the life
 * of the process (counted generously: a name evicted and learnt again
 * counts twice); past it svc_name is NULL. The intern pool is never freed,
 * and names come from the network.
 */
#define WL_SVC_NAMES_MAX 65536
/* Flows of a network in the window before it explains a nameless connection's new address. */
#define WL_ASN_NAMELESS_MIN_FLOWS 3
static size_t svc_names_interned;

/* Two of these sit in every flow: the service fields share bytes with the rule and the first time (whitelist.h). */
_Static_assert(sizeof(struct wl_verdict_info) <= 40, "struct wl_verdict_info grew");

/* The periodic prune runs at most this often (monotonic clock). */
#define WL_PRUNE_EVERY (60 * NG_USEC)

/* a - b, clamped to the ng_time range (timestamps come from packets and may be absurd). */
static ng_time sat_sub(ng_time a, ng_time b)
{
	ng_time r;

	if (__builtin_sub_overflow(a, b, &r))
		return b > 0 ? INT64_MIN + 1 : INT64_MAX;
	return r == NG_TIME_NONE ? INT64_MIN + 1 : r;
}

struct whitelist *whitelist_open(const struct whitelist_options *opts, char *err, size_t errlen)
{
	struct whitelist *wl = xcalloc(1, sizeof *wl);
	char *db = NULL, *trusted = NULL;

	wl->window = opts->window > 0 ? opts->window : 48 * 3600 * NG_USEC;
	if (opts->npublic) {
		wl->public_nets = xcalloc(opts->npublic, sizeof *wl->public_nets);
		memcpy(wl->public_nets, opts->public_nets, opts->npublic * sizeof *wl->public_nets);
		wl->npublic = opts->npublic;
	}
	wl->po.public_nets = wl->public_nets;
	wl->po.npublic = wl->npublic;
	wl->po.max_entries = opts->max_list_entries;
	wl->retention = opts->retention > 0 ? opts->retention : 7 * 86400 * NG_USEC;
	if (wl->retention < wl->window)
		wl->retention = wl->window;
	wl->read_only = opts->read_only;
	wl->asn_nameless_min_flows = opts->asn_nameless_min_flows ? opts->asn_nameless_min_flows : WL_ASN_NAMELESS_MIN_FLOWS;
	wl->last_prune = time_mono();
	{
		char why[256];

		/* Without the list "the last two labels" would merge every co.uk tenant: learn no domains then. */
		wl->psl = regdomain_init(why, sizeof why) == 0;
		if (!wl->psl)
			log_warnx("whitelist: %s; known services by domain are off, by network still on", why);
	}
	if (opts->state_dir) {
		size_t n = strlen(opts->state_dir) + 32;

		wl->state_dir = xstrdup(opts->state_dir);
		if (!wl->read_only && state_dir_check(opts->state_dir, err, errlen) != 0)
			goto fail;
		db = xmalloc(n);
		trusted = xmalloc(n);
		snprintf(db, n, "%s/netglobe.db", opts->state_dir);
		snprintf(trusted, n, "%s/trusted.txt", opts->state_dir);
	}
	wl->rules = wl_rules_create(opts->allow_files, opts->nallow, opts->block_files, opts->nblock, trusted, &wl->po,
				    err, errlen);
	if (wl->rules == NULL)
		goto fail;
	wl->store = wl_store_open(db, wl->read_only, opts->max_entries, opts->max_services, err, errlen);
	if (wl->store == NULL)
		goto fail;
	if (!wl->read_only)
		whitelist_prune(wl);
	free(db);
	free(trusted);
	return wl;
fail:
	free(db);
	free(trusted);
	whitelist_close(wl);
	return NULL;
}

void whitelist_close(struct whitelist *wl)
{
	if (wl == NULL)
		return;
	if (wl->store)
		wl_store_flush(wl->store);
	wl_store_close(wl->store);
	wl_rules_free(wl->rules);
	for (size_t i = 0; i < NG_ARRAY_LEN(wl->rd_cache); i++) {
		strpool_put(wl->rd_cache[i].name);
		strpool_put(wl->rd_cache[i].reg);
	}
	free(wl->state_dir);
	free(wl->public_nets);
	free(wl);
}

int whitelist_prune(struct whitelist *wl)
{
	ng_time now = wl_store_now(wl->store);
	size_t n;

	wl->last_prune = time_mono();
	if (now == NG_TIME_NONE)
		return 0;
	n = wl_store_prune(wl->store, sat_sub(now, wl->retention));
	wl->pruned += n;
	wl->svc_pruned += wl_svcs_prune(wl_store_svcs(wl->store), sat_sub(now, wl->retention));
	if (n > 0)
		log_info("whitelist: pruned %zu rows last seen over the retention before the latest packet", n);
	return (int)NG_MIN(n, (size_t)INT32_MAX);
}

int whitelist_flush(struct whitelist *wl)
{
	if (!wl->read_only && time_mono() - wl->last_prune >= WL_PRUNE_EVERY)
		whitelist_prune(wl);
	return wl_store_flush(wl->store);
}

/* The latest time a row (address or service) was recorded strictly before t, or NG_TIME_NONE. */
static ng_time latest_before(ng_time first, ng_time last, ng_time last_prev, ng_time t)
{
	if (last < t)
		return last;
	if (last_prev != NG_TIME_NONE && last_prev < t)
		return last_prev;
	if (first < t)
		return first;	/* a lower bound: the row's history between was not kept */
	return NG_TIME_NONE;
}

/* Move a row's times on for a record at t (the address rows' rule, shared by the service rows). */
static void times_record(ng_time *first, ng_time *last, ng_time *last_prev, ng_time t)
{
	if (t > *last) {
		*last_prev = *last;
		*last = t;
	} else if (t < *last && (*last_prev == NG_TIME_NONE || t > *last_prev)) {
		*last_prev = t;
	}
	if (t < *first)
		*first = t;
}

/* The cache slot for a pooled name pointer. */
static struct rd_cache *rd_slot(struct whitelist *wl, const char *name)
{
	uint64_t h = (uint64_t)(uintptr_t)name * 0x9e3779b97f4a7c15ULL;

	return &wl->rd_cache[h >> 56];
}

/*
 * The registrable domain of a pooled name (record path): from the cache, or
 * looked up and cached. NULL when the name has none (an address literal, a
 * public suffix, not a host name).
 */
static const char *regdomain_pooled(struct whitelist *wl, const char *pooled)
{
	struct rd_cache *c = rd_slot(wl, pooled);
	char buf[WL_DOMAIN_MAX];

	if (c->name == pooled)
		return c->reg;
	strpool_put(c->name);
	strpool_put(c->reg);
	c->name = strpool_ref(pooled);
	c->reg = regdomain_of(pooled, buf, sizeof buf) ? strpool_get(buf) : NULL;
	return c->reg;
}

/*
 * The registrable domain of any name (verdict path, no allocation): from the
 * cache when the caller passes a pooled name recorded lately, else looked up
 * into buf. NULL when it has none.
 */
static const char *regdomain_lookup(struct whitelist *wl, const char *name, char *buf, size_t len)
{
	const struct rd_cache *c = rd_slot(wl, name);

	if (c->name == name)
		return c->reg;
	return regdomain_of(name, buf, len) ? buf : NULL;
}

/* A service row's name interned for verdicts (see WL_SVC_NAMES_MAX); NULL when it has none or past the cap. */
static const char *svc_shown(struct wl_svc *row)
{
	if (row->shown == NULL && row->name != NULL && svc_names_interned < WL_SVC_NAMES_MAX) {
		row->shown = str_intern(row->name);
		svc_names_interned++;
	}
	return row->shown;
}

/* True when a service row was seen before t within the window; *before gets its latest time before t. */
static bool svc_seen(const struct whitelist *wl, const struct wl_svc *row, ng_time t, ng_time *before)
{
	*before = row ? latest_before(row->first, row->last, row->last_prev, t) : NG_TIME_NONE;
	return *before != NG_TIME_NONE && *before >= sat_sub(t, wl->window);
}

/*
 * THE SERVICE RULE: which known service explains a new address. Called only
 * for an anomalous verdict from first contact or expiry. The flow's name
 * counts as a name only when it has a registrable domain (an address literal
 * in SNI or Host is none). Its registrable domain explains first. The AS
 * explains a named flow when it was seen in the window, and a nameless one
 * only when this host used it repeatedly (asn_nameless_min_flows flows): a
 * single past contact with a cloud network says nothing about a new tenant
 * in it, while on a real PC most nameless new addresses belong to the few
 * networks it uses all day (measured in docs/detection.md). What hides in a
 * known network is for the behaviour signals (beaconing and the like).
 */
static void svc_explain(struct whitelist *wl, const char *domain, uint32_t asn, enum wl_dir dir, ng_time t,
			struct wl_verdict_info *out)
{
	struct wl_svcs *svcs = wl_store_svcs(wl->store);
	char buf[WL_DOMAIN_MAX];
	const char *reg = domain && domain[0] ? regdomain_lookup(wl, domain, buf, sizeof buf) : NULL;
	struct wl_svc *row;
	ng_time before;

	if (reg && wl->psl) {
		row = wl_svcs_find_domain(svcs, reg, (uint8_t)dir);
		if (svc_seen(wl, row, t, &before)) {
			out->svc = WL_SVC_DOMAIN;
			out->svc_name = svc_shown(row);
			out->svc_asn = row->asn;
			goto found;
		}
	}
	if (asn != 0) {
		row = wl_svcs_find_asn(svcs, asn, (uint8_t)dir);
		if (svc_seen(wl, row, t, &before) &&
		    (reg != NULL || row->flows >= wl->asn_nameless_min_flows)) {
			out->svc = WL_SVC_ASN;
			out->svc_asn = asn;
			out->svc_name = svc_shown(row);
			goto found;
		}
	}
	return;
found:
	out->svc_count = (uint32_t)NG_MIN(row->flows, (uint64_t)UINT32_MAX);
	out->svc_first = row->first;
	if (out->svc == WL_SVC_DOMAIN)
		wl->explained_domain++;
	else
		wl->explained_asn++;
}

/* Teach the service rows of this direction: the name's registrable domain and the AS. */
static void svc_learn(struct whitelist *wl, const char *pooled_name, uint32_t asn, const char *as_org,
		      enum wl_dir dir, ng_time t, uint32_t new_flows)
{
	struct wl_svcs *svcs = wl_store_svcs(wl->store);
	const char *reg = pooled_name && wl->psl ? regdomain_pooled(wl, pooled_name) : NULL;
	struct wl_svc *row;

	if (reg) {
		row = wl_svcs_touch_domain(svcs, reg, (uint8_t)dir, t);
		if (asn != 0)
			row->asn = asn;
		times_record(&row->first, &row->last, &row->last_prev, t);
		row->flows += new_flows;
		if (row->flows == 0)
			row->flows = 1;	/* the name came after the flow's first record: count the flow here */
	}
	if (asn != 0) {
		row = wl_svcs_touch_asn(svcs, asn, (uint8_t)dir, t);
		times_record(&row->first, &row->last, &row->last_prev, t);
		row->flows += new_flows;
		if (row->flows == 0)
			row->flows = 1;
		if (as_org && as_org[0] && (row->name == NULL || strncmp(row->name, as_org, WL_ORG_KEEP) != 0)) {
			strpool_put(row->name);
			row->name = strpool_getn(as_org, WL_ORG_KEEP);
			row->shown = NULL;
		}
	}
}

void whitelist_verdict(struct whitelist *wl, const ng_addr *remote, const char *domain, uint32_t asn,
		       enum wl_dir dir, ng_time t, struct wl_verdict_info *out)
{
	const struct wl_row *row = wl_store_find(wl->store, remote, (uint8_t)dir);
	ng_time before = row ? latest_before(row->first, row->last, row->last_prev, t) : NG_TIME_NONE;
	const char *rule, *entry;
	enum ng_scope scope;

	memset(out, 0, sizeof *out);
	out->first = out->last = NG_TIME_NONE;
	if (before != NG_TIME_NONE) {
		out->first = row->first;
		out->last = before;
		out->count = (uint32_t)NG_MIN(row->flows, (uint64_t)UINT32_MAX);
	}
	if (wl_rules_block(wl->rules, remote, &rule, &entry)) {
		out->verdict = WL_BLOCKLISTED;
		out->why = WL_WHY_BLOCKLISTED;
		out->rule = rule;
		out->entry = entry;
		return;
	}
	if (wl_rules_allow(wl->rules, remote, domain, &rule, &entry)) {
		out->verdict = WL_NORMAL;
		out->why = WL_WHY_ALLOWED;
		out->rule = rule;
		out->entry = entry;
		return;
	}
	scope = wl_addr_maybe_special(remote) ? addr_scope(remote) : NG_SCOPE_PUBLIC;
	for (size_t i = 0; i < wl->npublic && scope != NG_SCOPE_PUBLIC; i++) {
		if (cidr_contains(&wl->public_nets[i], remote))
			scope = NG_SCOPE_PUBLIC;
	}
	if (scope != NG_SCOPE_PUBLIC) {
		out->verdict = WL_LOCAL;
		out->why = WL_WHY_LOCAL_SCOPE;
		out->scope = (uint8_t)scope;
		return;
	}
	if (before == NG_TIME_NONE) {
		out->verdict = WL_ANOMALOUS;
		out->why = WL_WHY_FIRST_CONTACT;
	} else if (before >= sat_sub(t, wl->window)) {
		out->verdict = WL_NORMAL;
		out->why = WL_WHY_SEEN;
		return;
	} else {
		out->verdict = WL_ANOMALOUS;
		out->why = WL_WHY_EXPIRED;
	}
	if (dir == WL_SENT || dir == WL_RECEIVED)
		svc_explain(wl, domain, asn, dir, t, out);
}

bool whitelist_has_domain_rules(const struct whitelist *wl)
{
	return wl_rules_have_domains(wl->rules);
}

void whitelist_record(struct whitelist *wl, const ng_addr *remote, enum wl_dir dir, ng_time t, uint32_t new_flows,
		      uint64_t packets, uint64_t bytes, const char *domain, const char *country, uint32_t asn,
		      const char *as_org, enum wl_verdict verdict)
{
	struct wl_row *row;

	if (wl->read_only || remote->v == 0 || t == NG_TIME_NONE || (dir != WL_SENT && dir != WL_RECEIVED))
		return;
	wl_store_clock(wl->store, t);
	row = wl_store_touch(wl->store, remote, (uint8_t)dir, t);
	times_record(&row->first, &row->last, &row->last_prev, t);
	row->flows += new_flows;
	row->packets += packets;
	row->bytes += bytes;
	/* The engine passes its flows' pooled names, so the usual case is this one pointer comparison. */
	if (domain && domain[0] && row->domain != domain) {
		const char *pooled = strpool_getn(domain, WL_DOMAIN_KEEP);

		strpool_put(row->domain);
		row->domain = pooled;
	}
	if (country && country[0]) {
		row->country[0] = country[0];
		row->country[1] = country[1];
		row->country[2] = '\0';
	}
	if ((unsigned)verdict <= WL_BLOCKLISTED && verdict > row->verdict)
		row->verdict = (uint8_t)verdict;
	/* Only a whole name teaches its domain (a longer one is no DNS name; the row keeps a cut copy). */
	svc_learn(wl, domain && domain[0] && strnlen(domain, WL_DOMAIN_KEEP + 1) <= WL_DOMAIN_KEEP ? row->domain : NULL,
		  asn, as_org, dir, t, new_flows);
}

void whitelist_learning(struct whitelist *wl, ng_time now, struct wl_learning *out)
{
	ng_time since = wl_store_first_packet(wl->store);

	memset(out, 0, sizeof *out);
	out->window = wl->window;
	out->since = since;
	if (since == NG_TIME_NONE) {
		out->learning = true;
		return;
	}
	out->elapsed = NG_MAX(NG_MIN(sat_sub(now, since), wl->window), 0);
	out->learning = out->elapsed < wl->window;
	out->progress = (double)out->elapsed / (double)wl->window;
}

void whitelist_entry(struct whitelist *wl, const ng_addr *remote, enum wl_dir dir, struct wl_entry *out)
{
	const struct wl_row *row = wl_store_find(wl->store, remote, (uint8_t)dir);

	memset(out, 0, sizeof *out);
	out->first = out->last = NG_TIME_NONE;
	if (row == NULL)
		return;
	out->known = true;
	out->first = row->first;
	out->last = row->last;
	out->flows = row->flows;
	out->packets = row->packets;
	out->bytes = row->bytes;
}

void whitelist_service_entry(struct whitelist *wl, enum wl_service kind, const char *domain, uint32_t asn,
			     enum wl_dir dir, struct wl_service_entry *out)
{
	struct wl_svcs *svcs = wl_store_svcs(wl->store);
	const struct wl_svc *row = NULL;
	char buf[WL_DOMAIN_MAX];

	memset(out, 0, sizeof *out);
	out->first = out->last = NG_TIME_NONE;
	if (kind == WL_SVC_DOMAIN && domain && regdomain_of(domain, buf, sizeof buf))
		row = wl_svcs_find_domain(svcs, buf, (uint8_t)dir);
	else if (kind == WL_SVC_ASN && asn != 0)
		row = wl_svcs_find_asn(svcs, asn, (uint8_t)dir);
	if (row == NULL)
		return;
	out->known = true;
	out->first = row->first;
	out->last = row->last;
	out->flows = row->flows;
	out->name = row->kind == WL_SVC_ASN ? row->name : NULL;
}

int whitelist_trust(struct whitelist *wl, const char *what, char *err, size_t errlen)
{
	char canon[WL_DOMAIN_MAX + 8], why[256];
	bool changed;

	if (wl->read_only) {
		snprintf(err, errlen, "cannot trust %.80s: the whitelist is open read-only", what);
		return -1;
	}
	if (wl_rule_normalize(what, canon, sizeof canon, why, sizeof why) != 0) {
		snprintf(err, errlen, "cannot trust: %s", why);
		return -1;
	}
	if (wl_rules_trust(wl->rules, canon, true, &changed, err, errlen) != 0)
		return -1;
	if (changed)
		log_info("trusted %s from now on", canon);
	return 0;
}

int whitelist_rule_canon(const char *what, char *out, size_t outlen, char *err, size_t errlen)
{
	char why[256];

	if (wl_rule_normalize(what, out, outlen, why, sizeof why) != 0) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	return 0;
}

int whitelist_trust_many(struct whitelist *wl, const char *const *rules, size_t n, bool add, bool *done, char *err,
			 size_t errlen)
{
	size_t k = 0;

	if (wl->read_only) {
		snprintf(err, errlen, "cannot change trusted rules: the whitelist is open read-only");
		return -1;
	}
	if (wl_rules_trust_many(wl->rules, rules, n, add, done, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		k += done[i];
	if (k)
		log_info("%s %zu trusted rule%s (%s%s)", add ? "added" : "removed", k, k == 1 ? "" : "s", rules[0],
			 n > 1 ? ", ..." : "");
	return 0;
}

/* Context for forget's row matcher. */
struct forget_ctx {
	bool is_cidr;
	ng_cidr cidr;
	const char *pattern;
};

/* True for rows the forgotten rule covers. */
static bool forget_match(const struct wl_row *row, void *arg)
{
	const struct forget_ctx *c = arg;

	if (c->is_cidr)
		return cidr_contains(&c->cidr, &row->addr);
	return row->domain && wl_domain_match(c->pattern, row->domain);
}

/* Context for forget's service matcher: the pattern and its own registrable domain. */
struct forget_svc_ctx {
	const char *pattern;
	const char *reg;	/* NULL when the pattern's name has none (e.g. "*.co.uk") */
};

/* True for domain service rows a forgotten pattern covers: its registrable domain, or one it matches. */
static bool forget_svc_match(const struct wl_svc *row, void *arg)
{
	const struct forget_svc_ctx *c = arg;

	if (row->kind != WL_SVC_DOMAIN)
		return false;
	return (c->reg && strcmp(c->reg, row->name) == 0) || wl_domain_match(c->pattern, row->name);
}

long whitelist_covered(struct whitelist *wl, const char *what)
{
	char canon[WL_DOMAIN_MAX + 8], why[256];
	struct forget_ctx ctx;

	if (wl_rule_normalize(what, canon, sizeof canon, why, sizeof why) != 0)
		return -1;
	memset(&ctx, 0, sizeof ctx);
	ctx.is_cidr = cidr_parse(canon, &ctx.cidr, why, sizeof why) == 0;
	ctx.pattern = canon;
	return (long)wl_store_count_if(wl->store, forget_match, &ctx);
}

int whitelist_forget(struct whitelist *wl, const char *what, char *err, size_t errlen)
{
	char canon[WL_DOMAIN_MAX + 8], why[256];
	struct forget_ctx ctx;
	bool changed;
	size_t gone;

	if (wl->read_only) {
		snprintf(err, errlen, "cannot forget %.80s: the whitelist is open read-only", what);
		return -1;
	}
	if (wl_rule_normalize(what, canon, sizeof canon, why, sizeof why) != 0) {
		snprintf(err, errlen, "cannot forget: %s", why);
		return -1;
	}
	if (wl_rules_trust(wl->rules, canon, false, &changed, err, errlen) != 0)
		return -1;
	memset(&ctx, 0, sizeof ctx);
	ctx.is_cidr = cidr_parse(canon, &ctx.cidr, why, sizeof why) == 0;
	ctx.pattern = canon;
	gone = wl_store_remove_if(wl->store, forget_match, &ctx);
	if (!ctx.is_cidr) {
		/* A domain pattern also forgets the known service it belongs to ("*.cdn.example.com": example.com). */
		struct forget_svc_ctx sc = {canon, NULL};
		char reg[WL_DOMAIN_MAX];

		if (regdomain_of(canon[0] == '*' ? canon + 2 : canon, reg, sizeof reg))
			sc.reg = reg;
		gone += wl_svcs_remove_if(wl_store_svcs(wl->store), forget_svc_match, &sc);
	}
	log_info("forgot %s: %s, %zu learnt rows removed", canon, changed ? "trust rule removed" : "no trust rule",
		 gone);
	if (wl_store_flush(wl->store) != 0) {
		snprintf(err, errlen, "forgot %s in memory but could not write the database (see the log)", canon);
		return -1;
	}
	return 0;
}

int whitelist_reload(struct whitelist *wl, bool force)
{
	return wl_rules_reload(wl->rules, force);
}

void wl_verdict_take_service(struct wl_verdict_info *dst, const struct wl_verdict_info *src)
{
	if (dst->verdict != WL_ANOMALOUS || src->svc == WL_SVC_NONE)
		return;
	dst->svc = src->svc;
	dst->svc_name = src->svc_name;
	dst->svc_count = src->svc_count;
	dst->svc_asn = src->svc_asn;
	dst->svc_first = src->svc_first;
}

/* Write v then unit into buf at `at` (bounded as snprintf is); returns the new length. */
static size_t put_count_unit(char *buf, size_t len, size_t at, uint64_t v, const char *unit)
{
	char n[NG_U64STRLEN];

	return str_append(buf, len, str_append(buf, len, at, u64_format(v, n)), unit);
}

/* The window in its most natural unit: "48 h", "7 d", "90 min", "30 s". */
static void window_format(ng_time w, char *buf, size_t len)
{
	int64_t s = w / NG_USEC;

	if (len)
		buf[0] = '\0';
	if (w % NG_USEC != 0 || s == 0)
		snprintf(buf, len, "%.3g s", (double)w / NG_USEC);
	else if (s < 0)
		snprintf(buf, len, "%lld s", (long long)s);	/* never a configured window */
	else if (s % 86400 == 0 && s / 86400 >= 3)
		put_count_unit(buf, len, 0, (uint64_t)(s / 86400), " d");
	else if (s % 3600 == 0)
		put_count_unit(buf, len, 0, (uint64_t)(s / 3600), " h");
	else if (s % 60 == 0)
		put_count_unit(buf, len, 0, (uint64_t)(s / 60), " min");
	else
		put_count_unit(buf, len, 0, (uint64_t)s, " s");
}

/*
 * Written by hand (str_append, not snprintf): a --dump or /flows answer
 * writes one of these for every flow.
 */
char *wl_reason_format(const struct wl_verdict_info *v, ng_time window, char *buf, size_t len)
{
	char w[32], ts[NG_TIMESTRLEN];
	size_t at = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	switch (v->why) {
	case WL_WHY_LOCAL_SCOPE:
		at = str_append(buf, len, at, "local address (");
		at = str_append(buf, len, at, scope_name((enum ng_scope)v->scope));
		str_append(buf, len, at, ")");
		break;
	case WL_WHY_SEEN:
		if (v->count <= 1)
			at = str_append(buf, len, at, "seen once since ");
		else
			at = put_count_unit(buf, len, str_append(buf, len, at, "seen "), v->count, " times since ");
		str_append(buf, len, at, time_format_short(v->first, ts, sizeof ts));
		break;
	case WL_WHY_FIRST_CONTACT: {
		/* The usual reason, the same for every flow under one window: its text is kept. */
		static _Thread_local struct {
			bool made;
			ng_time window;
			char text[64];
		} memo;

		if (!memo.made || memo.window != window) {
			window_format(window, w, sizeof w);
			str_append(memo.text, sizeof memo.text,
				   str_append(memo.text, sizeof memo.text,
					      str_append(memo.text, sizeof memo.text, 0, "first contact in the "), w),
				   " window");
			memo.window = window;
			memo.made = true;
		}
		str_append(buf, len, at, memo.text);
		break;
	}
	case WL_WHY_EXPIRED:
		window_format(window, w, sizeof w);
		at = str_append(buf, len, at, "last seen ");
		at = str_append(buf, len, at, time_format_short(v->last, ts, sizeof ts));
		at = str_append(buf, len, at, ", before the ");
		at = str_append(buf, len, at, w);
		str_append(buf, len, at, " window");
		break;
	case WL_WHY_ALLOWED:
	case WL_WHY_BLOCKLISTED:
		at = str_append(buf, len, at, v->why == WL_WHY_ALLOWED ? "allowed by rule " : "in blocklist ");
		at = str_append(buf, len, at, v->rule ? v->rule : "?");
		if (v->entry) {
			at = str_append(buf, len, at, " (");
			at = str_append(buf, len, at, v->entry);
			str_append(buf, len, at, ")");
		}
		break;
	default:
		break;
	}
	return buf;
}

/*
 * Written by hand (str_append, which cuts as snprintf does) like
 * wl_reason_format: a /flows answer writes one for every flow of a known
 * service's new address, twice (the signal's reason).
 */
char *wl_service_format(const struct wl_verdict_info *v, ng_time window, char *buf, size_t len)
{
	char ts[NG_TIMESTRLEN], n[NG_U64STRLEN], what[WL_DOMAIN_MAX + WL_ORG_KEEP + 32];
	size_t at;

	(void)window;	/* the service's latest time is inside it by definition */
	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (v->svc != WL_SVC_DOMAIN && v->svc != WL_SVC_ASN)
		return buf;
	/* "of D" or "in ASn[ ORG]", cut to its own buffer's size; then the sentence around it. */
	what[0] = '\0';
	if (v->svc == WL_SVC_DOMAIN) {
		str_append(what, sizeof what, str_append(what, sizeof what, 0, "of "),
			   v->svc_name ? v->svc_name : "a known domain");
	} else {
		at = str_append(what, sizeof what, str_append(what, sizeof what, 0, "in AS"), u64_format(v->svc_asn, n));
		if (v->svc_name)
			str_append(what, sizeof what, str_append(what, sizeof what, at, " "), v->svc_name);
	}
	at = str_append(buf, len, str_append(buf, len, 0, "new address "), what);
	if (v->svc_count <= 1)
		at = str_append(buf, len, at, ", seen once since ");
	else
		at = put_count_unit(buf, len, str_append(buf, len, at, ", seen "), v->svc_count, " times since ");
	str_append(buf, len, at, time_format_short(v->svc_first, ts, sizeof ts));
	return buf;
}

const char *wl_verdict_name(enum wl_verdict v)
{
	switch (v) {
	case WL_LOCAL:
		return "local";
	case WL_NORMAL:
		return "normal";
	case WL_ANOMALOUS:
		return "anomalous";
	case WL_BLOCKLISTED:
		return "blocklisted";
	default:
		return NULL;
	}
}

int wl_verdict_parse(const char *s)
{
	for (int v = WL_LOCAL; v <= WL_BLOCKLISTED; v++) {
		if (strcmp(s, wl_verdict_name((enum wl_verdict)v)) == 0)
			return v;
	}
	return -1;
}

void whitelist_get_stats(const struct whitelist *wl, struct whitelist_stats *out)
{
	memset(out, 0, sizeof *out);
	out->entries = wl_store_count(wl->store);
	out->pending = wl_store_pending(wl->store);
	out->flushes = wl_store_flushes(wl->store);
	out->flush_errors = wl_store_flush_errors(wl->store);
	out->evicted = wl_store_evicted(wl->store);
	out->pruned = wl->pruned;
	out->services = wl_svcs_count(wl_store_svcs(wl->store));
	out->services_evicted = wl_svcs_evicted(wl_store_svcs(wl->store));
	out->services_pruned = wl->svc_pruned;
	out->explained_domain = wl->explained_domain;
	out->explained_asn = wl->explained_asn;
	wl_rules_stats(wl->rules, &out->allow_rules, &out->block_entries, &out->block_dropped_special);
}
