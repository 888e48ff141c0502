/* SPDX-License-Identifier: BSD-2-Clause */
/* dnsanom.c: DNS that looks like tunnelling (many unique random subdomains) or a DGA (NXDOMAIN for many random domains). */
#include "dnsanom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lru.h"
#include "regdomain.h"
#include "sketch.h"

/*
 * DESIGN
 *
 * Tunnel, per registrable domain. Every response's name is split into the
 * registrable domain (Public Suffix List) and the subdomain part (all labels
 * left of it). The subdomain's hash goes into a 1024-bit linear-counting map
 * of the current half-window; the window is two halves of DA_WINDOW / 2, so
 * the count always covers the last 30 to 60 minutes. A subdomain not in
 * either half adds its length and entropy to that half's sums. A domain is
 * a tunnel when, over the window:
 *   unique subdomains >= DA_TUNNEL_UNIQUE (100: RITA's c2_subdomain_threshold,
 *   the base of its "C2 over DNS" score, activecm/rita default_config.hjson),
 *   mean subdomain length >= DA_TUNNEL_LENGTH (20 characters) and
 *   mean entropy >= DA_TUNNEL_ENTROPY (3.3 bits per character).
 * Encoded payload is long and close to uniform over its alphabet: random
 * base32 of 32+ characters gives about 4.3, hex of 20+ about 3.6, while CDN
 * and service names (e1234.a, r4---sn-4g5e6nsz, www) are short or repetitive.
 *
 * DGA, per client. An NXDOMAIN answer adds the name's registrable domain to
 * the client's 1024-bit map (same half-window scheme). A new one adds the
 * letter surprisal and entropy of its leftmost label (the part registered,
 * "vocyzit" in vocyzit.com). The client is DGA-like when, over the window:
 *   distinct NXDOMAIN registrable domains >= DA_DGA_NXDOMAINS (10: Slips'
 *   nxdomains_threshold, modules/flowalerts/dns.py, over its 1-hour time
 *   window) and
 *   mean letter surprisal of their labels >= DA_DGA_SURPRISAL (5.1 bits).
 * Letter surprisal is -log2 of each character's frequency in English text
 * (the standard table, e.g. R. Lewand, Cryptological Mathematics, 2000),
 * digits counted at 8 bits and other characters at 6, averaged over the
 * label. Measured here: the labels of a real benign day's 239 TLS server
 * names (testdata zeek normal-host-ssl.log) average 4.58 (90th percentile
 * 5.33); the 129 NXDOMAIN names of the real Simda DGA log average 5.57.
 * So a host behind a resolver that answers NXDOMAIN for blocked trackers
 * ("doubleclick", "taboola") does not look like a DGA, while Simda's
 * pronounceable but rare-letter names ("qegyqaq", "vocyzit") do.
 *
 * Left out: reverse lookups (*.arpa), mDNS (*.local), names that have no
 * registrable domain (single labels such as WPAD, public suffixes), and for
 * tunnels any name with a label starting with '_' (DNS-SD service names,
 * RFC 6763 7, and SRV owners, RFC 2782: _tcp, _udp, _dns-sd, _domainkey...).
 * A byte outside [a-z0-9-_] in a label (binary or base128 encodings, as
 * iodine can use) is kept as '?': the registrable domain is then looked up
 * on the labels right of the last such label.
 */

#define DA_WINDOW (3600 * NG_USEC)
#define DA_HALF (DA_WINDOW / 2)
#define DA_SUB_BITS 1024
#define DA_NX_BITS 1024
#define DA_TUNNEL_UNIQUE 100
#define DA_TUNNEL_LENGTH 20.0
#define DA_TUNNEL_ENTROPY 3.3
#define DA_DGA_NXDOMAINS 10
#define DA_DGA_SURPRISAL 5.1
#define DA_NAME_MAX 1023	/* text: a 253-byte name with \\DDD escapes (dns_response_summary) */

/* Sums of what was new in one half-window. */
struct da_sums {
	uint32_t n;
	float a, b;	/* domain: length, entropy; client: surprisal, entropy */
};

struct da_domain {
	ng_time half_start;
	uint8_t cur;
	uint64_t bits[2][DA_SUB_BITS / 64];
	struct da_sums sum[2];
};

struct da_client {
	ng_time half_start;
	uint8_t cur;
	uint64_t bits[2][DA_NX_BITS / 64];
	struct da_sums sum[2];
};

struct dnsanom {
	struct lru *domains, *clients;
	struct da_domain *d;
	struct da_client *c;
};

struct dnsanom *dnsanom_create(size_t max_domains)
{
	struct dnsanom *da = xcalloc(1, sizeof *da);
	size_t max_clients = NG_MAX((size_t)16, NG_MIN((size_t)4096, max_domains / 8));

	da->domains = lru_create(max_domains);
	da->clients = lru_create(max_clients);
	da->d = xcalloc(lru_cap(da->domains), sizeof *da->d);
	da->c = xcalloc(lru_cap(da->clients), sizeof *da->c);
	return da;
}

void dnsanom_destroy(struct dnsanom *da)
{
	if (!da)
		return;
	lru_destroy(da->domains);
	lru_destroy(da->clients);
	free(da->d);
	free(da->c);
	free(da);
}

size_t dnsanom_memory(const struct dnsanom *da)
{
	return sizeof *da + lru_memory(da->domains) + lru_memory(da->clients) +
	       lru_cap(da->domains) * sizeof *da->d + lru_cap(da->clients) * sizeof *da->c;
}

/*
 * Move a two-half window to time t: one half later the current half becomes
 * the previous one, two halves later both are empty. Returns the current index.
 */
static uint8_t window_roll(ng_time *half_start, uint8_t *cur, uint64_t *b0, uint64_t *b1, size_t words,
			   struct da_sums *sum, ng_time t)
{
	uint64_t *nb;

	if (t < *half_start + DA_HALF)
		return *cur;
	if (t < *half_start + 2 * DA_HALF) {
		*cur ^= 1;
		*half_start += DA_HALF;
	} else {
		memset(b0, 0, words * sizeof *b0);
		memset(b1, 0, words * sizeof *b1);
		memset(sum, 0, 2 * sizeof *sum);
		*half_start = t;
	}
	nb = *cur ? b1 : b0;
	memset(nb, 0, words * sizeof *nb);
	memset(&sum[*cur], 0, sizeof sum[*cur]);
	return *cur;
}

/* A character's surprisal in bits under English letter frequencies (digits 8, others 6). */
static double letter_surprisal(unsigned char c)
{
	/* Per cent frequency of a..z in English text (Lewand 2000). */
	static const double freq[26] = {
		8.167, 1.492, 2.782, 4.253, 12.702, 2.228, 2.015, 6.094, 6.966, 0.153, 0.772, 4.025, 2.406,
		6.749, 7.507, 1.929, 0.095, 5.987, 6.327, 9.056, 2.758, 0.978, 2.360, 0.150, 1.974, 0.074,
	};

	if (c >= 'a' && c <= 'z')
		return -log2(freq[c - 'a'] / 100);
	if (c >= '0' && c <= '9')
		return 8;
	return 6;
}

/* Mean surprisal of s[0..n). */
static double mean_surprisal(const char *s, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += letter_surprisal((unsigned char)s[i]);
	return n ? sum / (double)n : 0;
}

/* A name split for the detectors. */
struct da_name {
	char name[DA_NAME_MAX + 1];	/* lower case, no trailing dot, odd bytes as '?' */
	char raw[DA_NAME_MAX + 1];	/* the same with the odd bytes kept (for hashing) */
	size_t len;
	char reg[128];			/* registrable domain */
	size_t sublen;			/* name[0..sublen) is the subdomain part, with its final dot */
	bool service;			/* a label starts with '_' */
};

/*
 * Normalise and split a name; false when it is not to be counted (empty,
 * too long, no registrable domain, reverse lookup or mDNS).
 */
static bool name_split(const char *in, struct da_name *dn)
{
	size_t n = 0, last_odd_end = 0;
	bool odd_label = false, label_start = true;

	if (!in)
		return false;
	dn->service = false;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		unsigned char c = *p;

		if (n >= DA_NAME_MAX)
			return false;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c == '.') {
			if (label_start)
				return false;	/* empty label */
			if (odd_label)
				last_odd_end = n + 1;
			odd_label = false;
			label_start = true;
			dn->raw[n] = '.';
			dn->name[n++] = '.';
			continue;
		}
		if (label_start && c == '_')
			dn->service = true;
		label_start = false;
		dn->raw[n] = (char)c;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
			c = '?';
			odd_label = true;
		}
		dn->name[n++] = (char)c;
	}
	if (n > 0 && dn->name[n - 1] == '.')
		n--;
	if (n == 0 || odd_label)
		return false;	/* the rightmost label must be a plain one */
	dn->name[n] = '\0';
	dn->len = n;
	if (str_ends_with(dn->name, ".arpa") || strcmp(dn->name, "arpa") == 0 ||
	    str_ends_with(dn->name, ".local") || strcmp(dn->name, "local") == 0)
		return false;
	if (!regdomain_of(dn->name + last_odd_end, dn->reg, sizeof dn->reg))
		return false;
	dn->sublen = n - strlen(dn->reg);
	return true;
}

/* Mean of the window's two half sums: *a and *b, and the count. */
static uint32_t sums_mean(const struct da_sums *s, double *a, double *b)
{
	uint32_t n = s[0].n + s[1].n;

	*a = n ? ((double)s[0].a + s[1].a) / n : 0;
	*b = n ? ((double)s[0].b + s[1].b) / n : 0;
	return n;
}

/* Count a response's name under its registrable domain. */
static void count_subdomain(struct dnsanom *da, const struct da_name *dn, ng_time t)
{
	uint64_t key = ng_hash64(dn->reg, strlen(dn->reg), 0x74756e6e656cULL);
	uint64_t h;
	uint32_t i = lru_get(da->domains, key);
	struct da_domain *d;
	uint8_t cur;
	char flat[DA_NAME_MAX + 1];
	size_t fl = 0;

	if (dn->sublen == 0 || dn->service)
		return;
	if (i == LRU_NIL) {
		i = lru_put(da->domains, key, NULL, NULL);
		memset(&da->d[i], 0, sizeof da->d[i]);
		da->d[i].half_start = t;
	}
	d = &da->d[i];
	cur = window_roll(&d->half_start, &d->cur, d->bits[0], d->bits[1], DA_SUB_BITS / 64, d->sum, t);
	h = ng_hash64(dn->raw, dn->sublen, key);
	if (sketch_has(d->bits[cur ^ 1], DA_SUB_BITS, h) || !sketch_add(d->bits[cur], DA_SUB_BITS, h)) {
		sketch_add(d->bits[cur], DA_SUB_BITS, h);
		return;
	}
	for (size_t k = 0; k < dn->sublen; k++) {
		if (dn->name[k] != '.')
			flat[fl++] = dn->name[k];
	}
	d->sum[cur].n++;
	d->sum[cur].a += (float)fl;
	d->sum[cur].b += (float)sketch_entropy(flat, fl);
}

/* Key of a client address. */
static uint64_t client_key(const ng_addr *client)
{
	return ng_hash64(client, sizeof *client, 0x6467612d636cULL);
}

/* Count an NXDOMAIN answer for the client. */
static void count_nxdomain(struct dnsanom *da, const ng_addr *client, const struct da_name *dn, ng_time t)
{
	uint64_t key = client_key(client);
	uint64_t h = ng_hash64(dn->reg, strlen(dn->reg), key);
	uint32_t i = lru_get(da->clients, key);
	struct da_client *c;
	uint8_t cur;
	const char *dot = strchr(dn->reg, '.');
	size_t ll = dot ? (size_t)(dot - dn->reg) : strlen(dn->reg);

	if (i == LRU_NIL) {
		i = lru_put(da->clients, key, NULL, NULL);
		memset(&da->c[i], 0, sizeof da->c[i]);
		da->c[i].half_start = t;
	}
	c = &da->c[i];
	cur = window_roll(&c->half_start, &c->cur, c->bits[0], c->bits[1], DA_NX_BITS / 64, c->sum, t);
	if (sketch_has(c->bits[cur ^ 1], DA_NX_BITS, h) || !sketch_add(c->bits[cur], DA_NX_BITS, h)) {
		sketch_add(c->bits[cur], DA_NX_BITS, h);
		return;
	}
	c->sum[cur].n++;
	c->sum[cur].a += (float)mean_surprisal(dn->reg, ll);
	c->sum[cur].b += (float)sketch_entropy(dn->reg, ll);
}

void dnsanom_response(struct dnsanom *da, const ng_addr *client, const char *qname, int rcode, ng_time t)
{
	struct da_name dn;

	if (!name_split(qname, &dn))
		return;
	count_subdomain(da, &dn, t);
	if (rcode == 3 && client)
		count_nxdomain(da, client, &dn, t);
}

/*
 * True when dn reads like a DGA client's generated names: its label's letters
 * are as unusual as theirs must be on average. (The client's NXDOMAIN map is
 * no help here: with a few hundred names in 1024 bits it would also match
 * many ordinary names.)
 */
static bool dga_name(const struct da_name *dn)
{
	const char *dot = strchr(dn->reg, '.');
	size_t ll = dot ? (size_t)(dot - dn->reg) : strlen(dn->reg);

	return mean_surprisal(dn->reg, ll) >= DA_DGA_SURPRISAL;
}

bool dnsanom_check(struct dnsanom *da, const ng_addr *client, const char *name, ng_time t,
		   struct dnsanom_result *out)
{
	struct da_name dn;
	bool named = false;

	memset(out, 0, sizeof *out);
	if (name && name_split(name, &dn)) {
		named = true;
		uint64_t key = ng_hash64(dn.reg, strlen(dn.reg), 0x74756e6e656cULL);
		uint32_t i = lru_peek(da->domains, key);

		snprintf(out->regdomain, sizeof out->regdomain, "%s", dn.reg);
		if (i != LRU_NIL) {
			struct da_domain *d = &da->d[i];
			uint8_t cur = window_roll(&d->half_start, &d->cur, d->bits[0], d->bits[1],
						  DA_SUB_BITS / 64, d->sum, t);

			out->unique_subdomains = (uint32_t)lround(sketch_estimate(d->bits[cur], d->bits[cur ^ 1], DA_SUB_BITS));
			sums_mean(d->sum, &out->length, &out->entropy);
			out->tunnel = out->unique_subdomains >= DA_TUNNEL_UNIQUE && out->length >= DA_TUNNEL_LENGTH &&
				      out->entropy >= DA_TUNNEL_ENTROPY;
		}
	}
	if (client) {
		uint32_t i = lru_peek(da->clients, client_key(client));

		if (i != LRU_NIL) {
			struct da_client *c = &da->c[i];
			uint8_t cur = window_roll(&c->half_start, &c->cur, c->bits[0], c->bits[1],
						  DA_NX_BITS / 64, c->sum, t);
			double est = sketch_estimate(c->bits[cur], c->bits[cur ^ 1], DA_NX_BITS);
			uint32_t n = sums_mean(c->sum, &out->nx_surprisal, &out->nx_entropy);

			/* The exact count of new names is better than the estimate while it is small. */
			out->nxdomain = n < 64 ? n : (uint32_t)lround(est);
			out->dga = out->nxdomain >= DA_DGA_NXDOMAINS && out->nx_surprisal >= DA_DGA_SURPRISAL;
			/*
			 * With a name, the client's state marks only names that read like its
			 * generated ones (dga_name). Every other
			 * lookup and connection of the host stays as it was (a DGA client
			 * also browses; painting all of it red hides the generated names).
			 */
			if (out->dga && name)
				out->dga = named && dga_name(&dn);
		}
	}
	return out->tunnel || out->dga;
}

char *dnsanom_reason(const struct dnsanom_result *r, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (r->tunnel)
		snprintf(buf, len,
			 "DNS tunnel? %u unique random subdomains of %s in the last hour (mean %.0f chars, entropy %.1f bits/char)",
			 r->unique_subdomains, r->regdomain, r->length, r->entropy);
	else if (r->dga)
		snprintf(buf, len,
			 "DGA? NXDOMAIN for %u distinct domains in the last hour, with unusual letters (%.1f bits/letter)",
			 r->nxdomain, r->nx_surprisal);
	else
		snprintf(buf, len, "no DNS anomaly");
	return buf;
}
