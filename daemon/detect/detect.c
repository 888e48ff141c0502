/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * detect.c: behaviour signals on flows, and the attention level they add up to.
 *
 * DESIGN. The whitelist answers "has this host talked to this address (or
 * this service) lately?"; that alone makes red mean "new", and on a real PC
 * most addresses are new every day while a command-and-control server
 * becomes "known" after one contact. Attention combines the verdicts with
 * what the whitelist cannot see:
 *
 *   high  blocklisted; first contact with something never seen (not a new
 *         address of a known service); beaconing; DNS tunnelling or a DGA;
 *         outbound scanning; a large upload to a new destination.
 *   low   a new address of a known service (its registrable domain or its
 *         network was seen in the window); a weak signal alone: a nameless
 *         connection (no_dns), a long-lived connection, the first flow of a
 *         program (new_program), a replaced executable (exe_changed).
 *   (exe_changed is high together with any other signal but new_program,
 *   or an anomalous or blocklisted verdict: a program that changed and then
 *   does something new is how a trojaned binary looks.)
 *   none  the rest; and an inbound attempt this host never answered (a scan
 *         of this host, a spoofed flood), whatever its verdict: it is noise to
 *         count, not a place to look (signal "unanswered").
 *
 * Derived signals (blocklisted, first_contact, known_service, unanswered)
 * are computed from the verdicts when asked, so they cost the flow nothing.
 * Behaviour signals are rare; a flow that has any owns a small array of
 * them (struct flow_sigs), with the value and reason as found.
 *
 * The detectors (beacon.c, dnsanom.c, scan.c, upload.c) keep their state in
 * tables of fixed size made here; docs/detection.md gives each signal's rule,
 * thresholds, sources and memory bound.
 */
#include "detect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beacon.h"
#include "dns.h"
#include "dnsanom.h"
#include "flow.h"
#include "lru.h"
#include "log.h"
#include "regdomain.h"
#include "resolvers.h"
#include "scan.h"
#include "strpool.h"
#include "upload.h"
#include "whitelist.h"

#define DETECT_DEFAULT_KEYS 16384
#define DETECT_DEFAULT_LONG (3600 * NG_USEC)
#define DETECT_DEFAULT_NO_DNS_ANSWERS 5
/* Names remembered per registrable domain, and how many other names (on other addresses) vouch for a domain's beacon. */
#define VOUCH_NAMES 4
#define VOUCH_MIN_OTHERS 2

/* f->detect_flags: which keyed detectors this flow fed, so its end feeds the same ones. */
#define DF_BEACON_PAIR 0x01
#define DF_BEACON_NAME 0x02
/* f->detect_flags: no DNS answer named f's new address (a flag, not a stored signal: it is common). */
#define DF_NO_DNS 0x04
/* f->detect_flags: the flow's traffic counts toward the upload windows (detect_traffic). */
#define DF_UPLOAD 0x08
/*
 * f->detect_flags: the pair (name) key had connections before f. Only then
 * does f's end feed its size, and the pair learn its domain: most keys see
 * one connection, and each lookup in a table larger than the cache costs a
 * miss or two.
 */
#define DF_PAIR_REPEAT 0x10
#define DF_NAME_REPEAT 0x20
/* f->detect_flags: the flow's program was looked up in the program table (new_program). */
#define DF_PROGRAM_SEEN 0x40
#define DETECT_UPLOAD_MIN_FLOW (256 * 1024)

/* A behaviour signal stored with its flow. */
struct flow_sig {
	uint8_t id;		/* enum sig_id */
	uint8_t level;		/* enum ng_attention it raises the flow to */
	double value;
	char reason[DETECT_REASON_MAX];
};

/* The behaviour signals of one flow, owned by it (flow_sigs(f)). */
struct flow_sigs {
	uint16_t mask;		/* bit per enum sig_id present */
	uint8_t n;
	struct flow_sig s[];
};

/*
 * The names this host used under one registrable domain lately: a domain
 * reached under several names (mail.example.com, api.example.com, ...) is a
 * service the host uses broadly, and a regular poll of one of its names is
 * that service's client at work (beacon_level).
 */
struct vouch {
	uint64_t name[VOUCH_NAMES];	/* keyed hashes of full names, 0 when empty */
	uint64_t where[VOUCH_NAMES];	/* keyed hash of the remote address each was last used with */
	ng_time seen[VOUCH_NAMES];	/* when each was last used */
};

/* Registrable domain hashes of recent names (domain_key). */
#define DETECT_RD_CACHE 256
struct rd_slot {
	const char *name;	/* a strpool reference, NULL when empty */
	uint64_t key;
};

struct detect {
	struct detect_config cfg;
	struct rd_slot rd_cache[DETECT_RD_CACHE];
	struct lru *vouch_index;	/* registrable domain hash -> slot of vouch[] */
	struct vouch *vouch;
	struct lru *pair_index;		/* beacon pair key -> slot of pair_domain[] */
	uint64_t *pair_domain;		/* the registrable domain hash a pair's flows were last named under */
	struct beacon_table *beacon;
	struct dnsanom *dns;
	struct scan_table *scan;
	struct upload_table *upload;
	ng_time window;			/* the whitelist's window (beacon_level) */
	uint64_t last_scan_finding;	/* the last finding spread over its flows */
	struct dnsanom_result dns_last;	/* the last DNS response's judgement, for detect_mark_dns */
	bool dns_pending;
	bool dns_flagged;		/* some DNS response looked like tunnelling or a DGA */
	bool scan_found;		/* some scan finding was made */
	uint64_t given[SIG_COUNT];	/* flows given each behaviour signal */
	struct lru *prog_index;		/* keyed hash of an executable's path -> slot of progs[] */
	ng_time *progs;			/* when each program last used the network */
};

static const char *const sig_names[SIG_COUNT] = {
	[SIG_BLOCKLISTED] = "blocklisted",
	[SIG_BEACON] = "beacon",
	[SIG_DNS_TUNNEL] = "dns_tunnel",
	[SIG_SCAN] = "scan",
	[SIG_LARGE_UPLOAD] = "large_upload",
	[SIG_FIRST_CONTACT] = "first_contact",
	[SIG_NO_DNS] = "no_dns",
	[SIG_LONG_CONNECTION] = "long_connection",
	[SIG_KNOWN_SERVICE] = "known_service",
	[SIG_UNANSWERED] = "unanswered",
	[SIG_EXE_CHANGED] = "exe_changed",
	[SIG_NEW_PROGRAM] = "new_program",
};

/* The level a behaviour signal raises a flow to, unless the detector says otherwise (beacons: beacon_level). */
static const uint8_t sig_level[SIG_COUNT] = {
	[SIG_BEACON] = NG_ATTN_HIGH,
	[SIG_DNS_TUNNEL] = NG_ATTN_HIGH,
	[SIG_SCAN] = NG_ATTN_HIGH,
	[SIG_LARGE_UPLOAD] = NG_ATTN_HIGH,
	[SIG_NO_DNS] = NG_ATTN_LOW,
	[SIG_LONG_CONNECTION] = NG_ATTN_LOW,
	[SIG_EXE_CHANGED] = NG_ATTN_LOW,	/* high with company: detect_attention */
	[SIG_NEW_PROGRAM] = NG_ATTN_LOW,
};

const char *sig_name(enum sig_id id)
{
	return (unsigned)id < SIG_COUNT ? sig_names[id] : "unknown";
}

const char *attention_name(enum ng_attention a)
{
	switch (a) {
	case NG_ATTN_HIGH:
		return "high";
	case NG_ATTN_LOW:
		return "low";
	default:
		return "none";
	}
}

int attention_parse(const char *s)
{
	if (strcmp(s, "none") == 0)
		return NG_ATTN_NONE;
	if (strcmp(s, "low") == 0)
		return NG_ATTN_LOW;
	if (strcmp(s, "high") == 0)
		return NG_ATTN_HIGH;
	return -1;
}

struct detect *detect_create(const struct detect_config *cfg)
{
	struct detect *d = xcalloc(1, sizeof *d);
	char err[256];
	size_t keys;

	d->cfg = *cfg;
	d->window = cfg->window;
	if (d->cfg.long_connection <= 0)
		d->cfg.long_connection = DETECT_DEFAULT_LONG;
	if (d->cfg.no_dns_min_answers == 0)
		d->cfg.no_dns_min_answers = DETECT_DEFAULT_NO_DNS_ANSWERS;
	keys = d->cfg.max_keys ? d->cfg.max_keys : DETECT_DEFAULT_KEYS;
	d->cfg.max_keys = keys;
	if (d->cfg.off)
		return d;
	if (regdomain_init(err, sizeof err) != 0)
		log_warnx("%s; DNS tunnel detection groups names by their last two labels", err);
	d->beacon = beacon_table_create(keys);
	d->dns = dnsanom_create(keys);
	d->scan = scan_table_create(keys);
	d->upload = upload_table_create(keys);
	d->vouch_index = lru_create(keys);
	d->vouch = xcalloc(lru_cap(d->vouch_index), sizeof *d->vouch);
	d->pair_index = lru_create(keys);
	d->pair_domain = xcalloc(lru_cap(d->pair_index), sizeof *d->pair_domain);
	d->prog_index = lru_create(DETECT_PROGRAMS);
	d->progs = xcalloc(lru_cap(d->prog_index), sizeof *d->progs);
	return d;
}

void detect_destroy(struct detect *d)
{
	if (!d)
		return;
	if (d->beacon)
		beacon_table_destroy(d->beacon);
	if (d->dns)
		dnsanom_destroy(d->dns);
	if (d->scan)
		scan_table_destroy(d->scan);
	if (d->upload)
		upload_table_destroy(d->upload);
	if (d->vouch_index)
		lru_destroy(d->vouch_index);
	free(d->vouch);
	for (int i = 0; i < DETECT_RD_CACHE; i++)
		strpool_put(d->rd_cache[i].name);
	if (d->pair_index)
		lru_destroy(d->pair_index);
	free(d->pair_domain);
	if (d->prog_index)
		lru_destroy(d->prog_index);
	free(d->progs);
	free(d);
}

void detect_flow_release(struct flow *f)
{
	if (!f->ext)
		return;
	free(f->ext->sigs);
	f->ext->sigs = NULL;
}

/* The stored signal id of f, or NULL. */
static struct flow_sig *sig_find(struct flow *f, enum sig_id id)
{
	struct flow_sigs *sigs = flow_sigs(f);

	if (!sigs || !(sigs->mask & (1u << id)))
		return NULL;
	for (uint8_t i = 0; i < sigs->n; i++) {
		if (sigs->s[i].id == id)
			return &sigs->s[i];
	}
	return NULL;
}

/*
 * Give f the behaviour signal id with this value and reason, or update the
 * one it has. Returns true when the signal is new to f (its attention may
 * change).
 */
static bool sig_set_level(struct detect *d, struct flow *f, enum sig_id id, uint8_t level, double value,
			  const char *reason)
{
	struct flow_sig *s = sig_find(f, id);
	bool added = false;

	if (!s) {
		struct flow_ext *x = flow_ext_get(f);
		uint8_t n = x->sigs ? x->sigs->n : 0;

		x->sigs = xrealloc(x->sigs, sizeof *x->sigs + (n + 1u) * sizeof x->sigs->s[0]);
		if (n == 0)
			x->sigs->mask = 0;
		x->sigs->n = (uint8_t)(n + 1);
		x->sigs->mask |= (uint16_t)(1u << id);
		s = &x->sigs->s[n];
		s->id = (uint8_t)id;
		added = true;
		d->given[id]++;
	}
	s->level = level;
	s->value = value;
	snprintf(s->reason, sizeof s->reason, "%s", reason);
	return added;
}

/* sig_set_level at the signal's usual level. */
static bool sig_set(struct detect *d, struct flow *f, enum sig_id id, double value, const char *reason)
{
	return sig_set_level(d, f, id, sig_level[id], value, reason);
}

/* Keyed hashes naming a conversation partner (pair) and a server name, for the beacon table. */
static uint64_t pair_key(const struct flow *f)
{
	struct {
		ng_addr l, r;
		uint16_t rport;
		uint8_t proto;
		uint8_t pad;
	} k;

	memset(&k, 0, sizeof k);
	k.l = *flow_local_ip(f);
	k.r = *flow_remote_ip(f);
	k.rport = flow_remote_port(f);
	k.proto = f->key.proto;
	return ng_hash64(&k, sizeof k, 0x6265616370616972ULL);
}

/* A keyed hash of f's remote address. */
static uint64_t remote_key(const struct flow *f)
{
	return ng_hash64(flow_remote_ip(f), sizeof(ng_addr), 0x72656d6f7465ULL);
}

static uint64_t name_key(const struct flow *f)
{
	return ng_hash64(flow_domain(f), strlen(flow_domain(f)), ng_hash64(flow_local_ip(f), sizeof(ng_addr), 0x6265616e616d65ULL));
}

/*
 * Connections that can beacon: this host starts them, to a public address,
 * over TCP or UDP, and not DNS or NTP, whose clients poll by design.
 */
static bool beacon_candidate(const struct flow *f)
{
	uint16_t rp = flow_remote_port(f);

	if (!f->initiator_local || f->remote_scope != NG_SCOPE_PUBLIC)
		return false;
	if (f->key.proto != NG_PROTO_TCP && f->key.proto != NG_PROTO_UDP)
		return false;
	return rp != 53 && rp != 853 && rp != 123 && rp != 5353;
}

/*
 * When this host first used f's destination, as far as the whitelist
 * knows: the address (sent direction), or its registrable domain when the
 * domain explained a new address. NG_TIME_NONE when it is new now. The
 * network (ASN) does not count: a cloud network's age says nothing about a
 * tenant.
 */
static ng_time destination_first_seen(const struct flow *f)
{
	const struct wl_verdict_info *v = flow_verdict(f, FLOW_SENT);

	if (v->verdict == WL_NORMAL && v->why == WL_WHY_SEEN)
		return v->first;
	if (v->verdict == WL_ANOMALOUS && v->svc == WL_SVC_DOMAIN)
		return wl_service_first(v);
	return NG_TIME_NONE;
}

/*
 * The registrable domain hash of a flow's name (a strpool string), or 0 when
 * it has none. A Public Suffix List lookup costs about a microsecond, and
 * most flows carry one of a few names, so the answers are cached by the
 * pooled pointer (the cache holds a reference, so an equal pointer is the
 * same name).
 */
static uint64_t domain_key(struct detect *d, const char *name)
{
	struct rd_slot *c;
	char reg[256];

	if (!name)
		return 0;
	c = &d->rd_cache[(ng_hash64(&name, sizeof name, 0x7264636163ULL)) & (DETECT_RD_CACHE - 1)];
	if (c->name == name)
		return c->key;
	strpool_put(c->name);
	c->name = strpool_ref(name);
	c->key = regdomain_of(name, reg, sizeof reg) ? ng_hash64(reg, strlen(reg), 0x766f756368ULL) | 1 : 0;
	return c->key;
}

/* The vouch entry for a registrable domain hash (created when `add`), or NULL. */
static struct vouch *vouch_entry(struct detect *d, uint64_t dkey, bool add)
{
	uint32_t slot;

	if (!dkey)
		return NULL;
	slot = lru_get(d->vouch_index, dkey);
	if (slot == LRU_NIL) {
		if (!add)
			return NULL;
		slot = lru_put(d->vouch_index, dkey, NULL, NULL);
		memset(&d->vouch[slot], 0, sizeof d->vouch[slot]);
	}
	return &d->vouch[slot];
}

/*
 * Remember that f's name was used now under its registrable domain (the
 * oldest name makes room), and that f's pair (local, remote, port) was
 * named under it, for its nameless connections (a TLS session resumed
 * without SNI, an address cached past its DNS answer).
 */
static void vouch_note(struct detect *d, const struct flow *f)
{
	uint64_t dkey = domain_key(d, flow_domain(f)), h, pk;
	struct vouch *v = vouch_entry(d, dkey, true);
	uint32_t slot;
	int i, use = 0;

	if (!v)
		return;
	h = ng_hash64(flow_domain(f), strlen(flow_domain(f)), 0x766f6e616dULL) | 1;
	for (i = 0; i < VOUCH_NAMES; i++) {
		if (v->name[i] == h) {
			use = i;
			break;
		}
		if (v->seen[i] < v->seen[use])
			use = i;
	}
	v->name[use] = h;	/* a new name takes the least recently used place */
	v->seen[use] = f->first_seen;
	v->where[use] = remote_key(f);
	if (!(f->detect_flags & DF_PAIR_REPEAT))
		return;
	pk = pair_key(f);
	slot = lru_get(d->pair_index, pk);
	if (slot == LRU_NIL)
		slot = lru_put(d->pair_index, pk, NULL, NULL);
	d->pair_domain[slot] = dkey;
}

/*
 * True when f's registrable domain was used under at least
 * VOUCH_MIN_OTHERS names besides f's own within the window, each last seen
 * with another remote address than f's: a service used broadly spreads its
 * names over many addresses, while names that only ever point at the
 * beacon's own address (a C2 rotating names under its own domain) vouch for
 * nothing. A nameless flow takes the domain its pair was last named under,
 * and needs one name more (it has none of its own to leave out).
 */
static bool vouched(struct detect *d, const struct flow *f)
{
	uint64_t dkey = domain_key(d, flow_domain(f)), h = 0, here = remote_key(f);
	struct vouch *v;
	int others = 0, need = VOUCH_MIN_OTHERS;

	if (dkey) {
		h = ng_hash64(flow_domain(f), strlen(flow_domain(f)), 0x766f6e616dULL) | 1;
	} else {
		uint32_t slot = lru_peek(d->pair_index, pair_key(f));

		if (slot == LRU_NIL)
			return false;
		dkey = d->pair_domain[slot];
		need++;
	}
	v = vouch_entry(d, dkey, false);
	if (!v)
		return false;
	for (int i = 0; i < VOUCH_NAMES; i++) {
		if (v->name[i] && v->name[i] != h && v->where[i] != here &&
		    (d->window <= 0 || f->first_seen - v->seen[i] <= d->window))
			others++;
	}
	return others >= need;
}

/*
 * How much a beacon deserves a look, and why when it is low (NULL when high).
 * A beacon is what a new implant's check-ins look like, so it is high,
 * except for two established patterns, still shown with their period:
 * - check-ins to a destination this host has used for longer than the
 *   whitelist's window (RITA's "first seen" modifier, measured against the
 *   window the person chose);
 * - check-ins to one name of a registrable domain that this host also uses
 *   under other names within the window (a service used broadly, such as a
 *   SaaS application polling for updates, is its own client at work). A
 *   command-and-control channel hidden in a popular service's API is then
 *   low too: blocklists and the other signals are what catch it there.
 */
static const char *beacon_low_reason(struct detect *d, const struct flow *f)
{
	ng_time first = destination_first_seen(f);

	if (first != NG_TIME_NONE && d->window > 0 && f->first_seen - first > d->window)
		return ", to a destination used for longer than the window";
	if (vouched(d, f))
		return ", to a service this host also uses under other names";
	return NULL;
}

/* Feed one beacon key with this connection's start; mark f when the series is a beacon. */
static bool beacon_start(struct detect *d, struct flow *f, uint64_t key, uint8_t repeat_flag)
{
	struct beacon_result r;
	char why[DETECT_REASON_MAX], named[2 * DETECT_REASON_MAX];	/* cut to DETECT_REASON_MAX when stored */
	const char *low;
	uint8_t level;
	bool by_name;

	beacon_conn_start(d->beacon, key, f->first_seen, &r);
	if (r.connections >= 2)
		f->detect_flags |= repeat_flag;
	if (!r.beacon)
		return false;
	beacon_reason(&r, why, sizeof why);
	low = beacon_low_reason(d, f);
	level = low ? NG_ATTN_LOW : NG_ATTN_HIGH;
	by_name = repeat_flag == DF_NAME_REPEAT;
	snprintf(named, sizeof named, "%s%s%s%s", why, by_name ? " to " : "", by_name ? flow_domain(f) : "", low ? low : "");
	return sig_set_level(d, f, SIG_BEACON, level, r.score, named);
}

/* The whitelist explains no direction of f that carried traffic: an address never seen. */
static bool first_contact_unexplained(const struct flow *f)
{
	const struct wl_verdict_info *v = flow_verdict(f, FLOW_SENT);

	return v->verdict == WL_ANOMALOUS && v->svc == WL_SVC_NONE;
}

/* Tunnel-like or generated names: under a flagged domain, or a DGA client's generated name. */
static bool dns_check_name(struct detect *d, struct flow *f)
{
	struct dnsanom_result r;
	char why[DETECT_REASON_MAX];

	if (!flow_domain(f) || !dnsanom_check(d->dns, flow_local_ip(f), flow_domain(f), f->first_seen, &r))
		return false;
	dnsanom_reason(&r, why, sizeof why);
	return sig_set(d, f, SIG_DNS_TUNNEL, r.tunnel ? r.unique_subdomains : r.nxdomain, why);
}

bool detect_flow_start(struct detect *d, struct flow *f, uint64_t dns_answers)
{
	bool changed = false;
	struct scan_result sr;
	char why[DETECT_REASON_MAX];

	if (d->cfg.off)
		return false;
	if (beacon_candidate(f)) {
		f->detect_flags |= DF_BEACON_PAIR;
		changed |= beacon_start(d, f, pair_key(f), DF_PAIR_REPEAT);
		if (flow_domain(f)) {
			f->detect_flags |= DF_BEACON_NAME;
			changed |= beacon_start(d, f, name_key(f), DF_NAME_REPEAT);
		}
	}
	if (flow_domain(f) && f->initiator_local)
		vouch_note(d, f);
	/*
	 * no_dns: this host resolves names, yet connects to a new public address
	 * that no DNS answer named (an address written into a program, as C2
	 * implants and some malware droppers are). Known addresses are left out:
	 * their answer may predate the DNS cache's memory.
	 */
	if (f->initiator_local && f->remote_scope == NG_SCOPE_PUBLIC && !flow_domain(f) &&
	    (f->key.proto == NG_PROTO_TCP || f->key.proto == NG_PROTO_UDP) && dns_answers >= d->cfg.no_dns_min_answers &&
	    flow_remote_port(f) != 53 && flow_remote_port(f) != 853 && flow_verdict(f, FLOW_SENT)->verdict == WL_ANOMALOUS &&
	    !resolver_is_public_dns(flow_remote_ip(f))) {
		f->detect_flags |= DF_NO_DNS;
		d->given[SIG_NO_DNS]++;
		changed = true;
	}
	/* The DNS and scan tables are asked only once they have found something: most hosts never do. */
	if (d->dns_flagged)
		changed |= dns_check_name(d, f);
	if (d->scan_found && f->initiator_local && (f->key.proto == NG_PROTO_TCP || f->key.proto == NG_PROTO_UDP) &&
	    scan_lookup(d->scan, flow_local_ip(f), flow_remote_port(f), f->key.proto, f->first_seen, &sr) && sr.scan) {
		scan_reason(&sr, why, sizeof why);
		changed |= sig_set(d, f, SIG_SCAN, sr.targets, why);
	}
	return changed;
}

bool detect_flow_named(struct detect *d, struct flow *f)
{
	bool changed = false;

	if (d->cfg.off || !flow_domain(f))
		return false;
	if ((f->detect_flags & DF_BEACON_PAIR) && !(f->detect_flags & DF_BEACON_NAME)) {
		f->detect_flags |= DF_BEACON_NAME;
		changed |= beacon_start(d, f, name_key(f), DF_NAME_REPEAT);
	}
	if (f->initiator_local)
		vouch_note(d, f);
	if (d->dns_flagged)
		changed |= dns_check_name(d, f);
	return changed;
}

/* flow_table_foreach state for spreading a scan finding over the flows it covers. */
struct scan_spread {
	struct detect *d;
	ng_addr local;
	uint16_t port;
	uint8_t proto;
	double value;
	const char *reason;
	struct flow *skip;
	void (*on_mark)(void *arg, struct flow *g);
	void *arg;
};

/* Give a flow of the scan (same local host, port and protocol, started here, unanswered) the signal. */
static void scan_spread_one(void *arg, struct flow *g)
{
	struct scan_spread *s = arg;

	if (g == s->skip || !g->initiator_local || g->key.proto != s->proto || flow_remote_port(g) != s->port ||
	    !addr_equal(flow_local_ip(g), &s->local) || flow_is_exchange(g))
		return;
	if (sig_set(s->d, g, SIG_SCAN, s->value, s->reason) && s->on_mark)
		s->on_mark(s->arg, g);
}

bool detect_flow_end(struct detect *d, struct flow *f, struct flow_table *ft,
		     void (*on_mark)(void *arg, struct flow *g), void *arg)
{
	struct scan_result sr;
	char why[DETECT_REASON_MAX];
	bool changed = false;

	if (d->cfg.off)
		return false;
	if (f->detect_flags & DF_PAIR_REPEAT)
		beacon_conn_end(d->beacon, pair_key(f), f->first_seen, f->bytes[0] + f->bytes[1]);
	if ((f->detect_flags & DF_NAME_REPEAT) && flow_domain(f))
		beacon_conn_end(d->beacon, name_key(f), f->first_seen, f->bytes[0] + f->bytes[1]);
	/*
	 * Only attempts at addresses no DNS answer named count, as in Slips: a
	 * browser's unanswered attempts at the addresses a name resolved to
	 * (broken IPv6, a dead CDN node) are not a sweep.
	 */
	if (!f->initiator_local || (f->key.proto != NG_PROTO_TCP && f->key.proto != NG_PROTO_UDP) ||
	    f->domain_source == FLOW_DOMAIN_DNS)
		return false;
	scan_attempt(d->scan, flow_local_ip(f), flow_remote_ip(f), flow_remote_port(f), f->key.proto, flow_is_exchange(f),
		     flow_last_seen(f), &sr);
	if (!sr.scan)
		return false;
	d->scan_found = true;
	scan_reason(&sr, why, sizeof why);
	if (!flow_is_exchange(f))
		changed = sig_set(d, f, SIG_SCAN, sr.targets, why);
	if (sr.finding_id != d->last_scan_finding && ft) {
		struct scan_spread s = {d, *flow_local_ip(f), sr.port, sr.proto, sr.targets, why, f, on_mark, arg};

		d->last_scan_finding = sr.finding_id;
		flow_table_foreach(ft, scan_spread_one, &s);
	}
	return changed;
}

bool detect_traffic(struct detect *d, struct flow *f, int dir, uint64_t delta, ng_time t)
{
	struct upload_result r;
	char why[DETECT_REASON_MAX];
	uint64_t sent = dir == FLOW_SENT ? delta : 0, received = dir == FLOW_RECEIVED ? delta : 0;

	if (d->cfg.off || f->remote_scope != NG_SCOPE_PUBLIC)
		return false;
	/*
	 * A flow counts toward the upload windows once it has sent
	 * DETECT_UPLOAD_MIN_FLOW bytes, then with everything it carried so far
	 * (the whitelist's records, which later deltas start from): the windows
	 * judge tens of megabytes, and most flows never send this much, so most
	 * flows cost the tables nothing. Uploads spread over many flows smaller
	 * than that are missed (docs/detection.md).
	 */
	if (!(f->detect_flags & DF_UPLOAD)) {
		if (f->bytes[FLOW_SENT] < DETECT_UPLOAD_MIN_FLOW)
			return false;
		f->detect_flags |= DF_UPLOAD;
		sent += flow_recorded_bytes(f, FLOW_SENT);
		received += flow_recorded_bytes(f, FLOW_RECEIVED);
	}
	if (sent == 0 && received == 0)
		return false;
	upload_add(d->upload, flow_local_ip(f), flow_remote_ip(f), sent, received, first_contact_unexplained(f), t, &r);
	if (!r.large)
		return false;
	upload_reason(&r, why, sizeof why);
	return sig_set(d, f, SIG_LARGE_UPLOAD, (double)r.sent, why);
}

bool detect_dns_response(struct detect *d, const ng_addr *client, const uint8_t *msg, size_t len, ng_time t)
{
	char qname[1024];	/* odd bytes come out as \DDD: a 253-byte name can grow to about 1 KB */
	uint16_t qtype;
	int rcode;

	d->dns_pending = false;
	if (d->cfg.off || dns_response_summary(msg, len, qname, sizeof qname, &qtype, &rcode) != 0)
		return false;
	dnsanom_response(d->dns, client, qname, rcode, t);
	d->dns_pending = dnsanom_check(d->dns, client, qname, t, &d->dns_last);
	d->dns_flagged |= d->dns_pending;
	return d->dns_pending;
}

bool detect_mark_dns(struct detect *d, struct flow *f)
{
	char why[DETECT_REASON_MAX];

	if (!d->dns_pending)
		return false;
	d->dns_pending = false;
	dnsanom_reason(&d->dns_last, why, sizeof why);
	return sig_set(d, f, SIG_DNS_TUNNEL, d->dns_last.tunnel ? d->dns_last.unique_subdomains : d->dns_last.nxdomain,
		       why);
}

/* flow_table_foreach state for detect_tick. */
struct tick_walk {
	struct detect *d;
	ng_time now;
	void (*on_mark)(void *arg, struct flow *g);
	void *arg;
};

/* Mark an active connection to a public address that has been open for long_connection or more. */
static void tick_one(void *arg, struct flow *f)
{
	struct tick_walk *w = arg;
	ng_time age = flow_last_seen(f) - f->first_seen;
	char why[DETECT_REASON_MAX];
	struct flow_sig *s;

	if (f->end_reason != FLOW_END_NONE || f->remote_scope != NG_SCOPE_PUBLIC || age < w->d->cfg.long_connection)
		return;
	snprintf(why, sizeof why, "open for %.1f h, %llu bytes sent, %llu received", (double)age / (3600.0 * NG_USEC),
		 (unsigned long long)f->bytes[FLOW_SENT], (unsigned long long)f->bytes[FLOW_RECEIVED]);
	s = sig_find(f, SIG_LONG_CONNECTION);
	if (s) {
		s->value = (double)(age / NG_USEC);
		snprintf(s->reason, sizeof s->reason, "%s", why);
		return;
	}
	if (sig_set(w->d, f, SIG_LONG_CONNECTION, (double)(age / NG_USEC), why) && w->on_mark)
		w->on_mark(w->arg, f);
}

void detect_tick(struct detect *d, struct flow_table *ft, ng_time now, void (*on_mark)(void *arg, struct flow *g),
		 void *arg)
{
	struct tick_walk w = {d, now, on_mark, arg};

	if (d->cfg.off)
		return;
	flow_table_foreach(ft, tick_one, &w);
}

bool detect_flow_process(struct detect *d, struct flow *f, const char *exe, const char *sha256, bool changed,
			 ng_time now)
{
	char why[DETECT_REASON_MAX];
	bool added = false;

	if (d->cfg.off || !exe)
		return false;
	if (!sig_find(f, SIG_NEW_PROGRAM) && !(f->detect_flags & DF_PROGRAM_SEEN)) {
		uint64_t key = ng_hash64(exe, strlen(exe), 0x70726f67ULL);
		uint32_t slot = lru_get(d->prog_index, key);

		f->detect_flags |= DF_PROGRAM_SEEN;	/* judged once per flow (the hash may answer again) */
		if (slot == LRU_NIL || (d->window > 0 && now - d->progs[slot] > d->window)) {
			if (slot == LRU_NIL)
				slot = lru_put(d->prog_index, key, NULL, NULL);
			snprintf(why, sizeof why, "first time %s used the network in the %.0f h window (since start-up)", exe,
				 (double)d->window / (3600.0 * NG_USEC));
			added |= sig_set(d, f, SIG_NEW_PROGRAM, 1, why);
		}
		d->progs[slot] = now;
	}
	if (changed && sha256 && !sig_find(f, SIG_EXE_CHANGED)) {
		snprintf(why, sizeof why, "%s changed: its SHA-256 is now %.16s...", exe, sha256);
		added |= sig_set(d, f, SIG_EXE_CHANGED, 1, why);
	}
	return added;
}

bool detect_unanswered(const struct flow *f)
{
	return !f->initiator_local && !flow_is_exchange(f);
}

/* The directions that decide: those that carried traffic (both when neither has yet). */
static bool dir_counts(const struct flow *f, int dir)
{
	if (f->packets[0] == 0 && f->packets[1] == 0)
		return true;
	return f->packets[dir] > 0;
}

/* True when f carries something besides a changed executable (and new_program): exe_changed is then high. */
static bool exe_changed_company(const struct flow *f)
{
	if (f->detect_flags & DF_NO_DNS)
		return true;
	for (int dir = 0; dir < 2; dir++) {
		if (dir_counts(f, dir) &&
		    (flow_verdict(f, dir)->verdict == WL_ANOMALOUS || flow_verdict(f, dir)->verdict == WL_BLOCKLISTED))
			return true;
	}
	for (uint8_t i = 0; i < flow_sigs(f)->n; i++) {
		if (flow_sigs(f)->s[i].id != SIG_EXE_CHANGED && flow_sigs(f)->s[i].id != SIG_NEW_PROGRAM)
			return true;
	}
	return false;
}

enum ng_attention detect_attention(const struct flow *f)
{
	uint8_t level = NG_ATTN_NONE;

	if (detect_unanswered(f))
		return NG_ATTN_NONE;
	for (int dir = 0; dir < 2; dir++) {
		const struct wl_verdict_info *v = flow_verdict(f, dir);

		if (!dir_counts(f, dir))
			continue;
		if (v->verdict == WL_BLOCKLISTED)
			level = NG_ATTN_HIGH;
		else if (v->verdict == WL_ANOMALOUS)
			level = NG_MAX(level, v->svc != WL_SVC_NONE ? NG_ATTN_LOW : NG_ATTN_HIGH);
	}
	if (f->detect_flags & DF_NO_DNS)
		level = NG_MAX(level, sig_level[SIG_NO_DNS]);
	if (flow_sigs(f)) {
		for (uint8_t i = 0; i < flow_sigs(f)->n; i++)
			level = NG_MAX(level, flow_sigs(f)->s[i].level);
		if ((flow_sigs(f)->mask & (1u << SIG_EXE_CHANGED)) && exe_changed_company(f))
			level = NG_ATTN_HIGH;
	}
	return (enum ng_attention)level;
}

/* The deciding direction for a derived signal: the one with `verdict` that carried traffic, sent first. */
static int dir_with(const struct flow *f, uint8_t verdict, bool want_svc)
{
	for (int dir = 0; dir < 2; dir++) {
		const struct wl_verdict_info *v = flow_verdict(f, dir);

		if (dir_counts(f, dir) && v->verdict == verdict && (verdict != WL_ANOMALOUS || (v->svc != WL_SVC_NONE) == want_svc))
			return dir;
	}
	return -1;
}

/*
 * True when f carries signal id; *dir is the deciding direction for the
 * signals derived from a verdict (unused for the others).
 */
static bool sig_present(const struct flow *f, enum sig_id id, int *dir)
{
	*dir = 0;
	switch (id) {
	case SIG_BLOCKLISTED:
		return (*dir = dir_with(f, WL_BLOCKLISTED, false)) >= 0;
	case SIG_FIRST_CONTACT:
		return !detect_unanswered(f) && (*dir = dir_with(f, WL_ANOMALOUS, false)) >= 0;
	case SIG_KNOWN_SERVICE:
		return !detect_unanswered(f) && (*dir = dir_with(f, WL_ANOMALOUS, true)) >= 0;
	case SIG_UNANSWERED:
		return detect_unanswered(f);
	case SIG_NO_DNS:
		return (f->detect_flags & DF_NO_DNS) != 0;
	default:
		return flow_sigs(f) && (flow_sigs(f)->mask & (1u << id));
	}
}

uint32_t detect_signal_mask(const struct flow *f)
{
	uint32_t mask = 0;
	int dir;

	for (int id = 0; id < SIG_COUNT; id++) {
		if (sig_present(f, (enum sig_id)id, &dir))
			mask |= 1u << id;
	}
	return mask;
}

size_t detect_signals(const struct flow *f, ng_time window, struct sig_view *out)
{
	size_t n = 0;
	int dir;

	for (int id = 0; id < SIG_COUNT; id++) {
		struct sig_view *o = &out[n];

		if (!sig_present(f, (enum sig_id)id, &dir))
			continue;
		o->id = (enum sig_id)id;
		o->reason[0] = '\0';
		switch (id) {
		case SIG_BLOCKLISTED:
			o->value = 1;
			wl_reason_format(flow_verdict(f, dir), window, o->reason, sizeof o->reason);
			break;
		case SIG_FIRST_CONTACT:
			o->value = flow_verdict(f, dir)->count;
			wl_reason_format(flow_verdict(f, dir), window, o->reason, sizeof o->reason);
			break;
		case SIG_KNOWN_SERVICE:
			o->value = flow_verdict(f, dir)->svc_count;
			wl_service_format(flow_verdict(f, dir), window, o->reason, sizeof o->reason);
			break;
		case SIG_NO_DNS:
			o->value = 1;
			str_append(o->reason, sizeof o->reason, 0,
				   "no DNS answer named this address before the connection, on a host that resolves names");
			break;
		case SIG_UNANSWERED:
			o->value = (double)f->packets[FLOW_RECEIVED];
			{
				_Static_assert(DETECT_REASON_MAX >= 42 + 20 + 9 + 1, "room for the unanswered reason");
				char *p = NG_PUT_LIT(o->reason, "inbound attempt this host never answered (");

				p = put_u64(p, f->packets[FLOW_RECEIVED]);
				*NG_PUT_LIT(p, " packets)") = '\0';
			}
			break;
		default: {
			const struct flow_sig *s = sig_find((struct flow *)f, (enum sig_id)id);

			o->value = s->value;
			memcpy(o->reason, s->reason, sizeof o->reason);
			break;
		}
		}
		n++;
	}
	return n;
}

void detect_get_stats(const struct detect *d, struct detect_stats *out)
{
	memset(out, 0, sizeof *out);
	out->beacon = d->given[SIG_BEACON];
	out->dns_tunnel = d->given[SIG_DNS_TUNNEL];
	out->scan = d->given[SIG_SCAN];
	out->large_upload = d->given[SIG_LARGE_UPLOAD];
	out->no_dns = d->given[SIG_NO_DNS];
	out->long_connection = d->given[SIG_LONG_CONNECTION];
	out->new_program = d->given[SIG_NEW_PROGRAM];
	out->exe_changed = d->given[SIG_EXE_CHANGED];
	out->memory_bytes = sizeof *d;
	if (d->beacon)
		out->memory_bytes += beacon_table_memory(d->beacon);
	if (d->dns)
		out->memory_bytes += dnsanom_memory(d->dns);
	if (d->scan)
		out->memory_bytes += scan_memory(d->scan);
	if (d->upload)
		out->memory_bytes += upload_memory(d->upload);
	if (d->prog_index)
		out->memory_bytes += lru_memory(d->prog_index) + lru_cap(d->prog_index) * sizeof *d->progs;
	if (d->vouch_index)
		out->memory_bytes += lru_memory(d->vouch_index) + lru_cap(d->vouch_index) * sizeof *d->vouch +
				     lru_memory(d->pair_index) + lru_cap(d->pair_index) * sizeof *d->pair_domain;
}
