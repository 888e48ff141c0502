/* SPDX-License-Identifier: BSD-2-Clause */
/* dnsanom.h: DNS that looks like tunnelling (many unique random subdomains) or a DGA (NXDOMAIN for many random domains). */
#ifndef NG_DNSANOM_H
#define NG_DNSANOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "util.h"

/*
 * Two bounded tables: one entry per registrable domain (max_domains) counts
 * the unique subdomains asked under it in a sliding window and their mean
 * length and entropy; one entry per asking client (max_domains / 8, within
 * 16..4096) counts NXDOMAIN answers for distinct registrable domains and how
 * unusual their labels are. Both evict the least recently used entry. The
 * rules and their sources are in docs/detection.md. Call regdomain_init
 * first (without it, registrable domains are the last two labels).
 */
struct dnsanom;

struct dnsanom_result {
	bool tunnel;			/* regdomain has many unique, long, high-entropy subdomains */
	bool dga;			/* the client got NXDOMAIN for many distinct, unusual domains */
	uint32_t unique_subdomains;	/* estimated, in the window */
	double entropy;			/* mean Shannon entropy (bits/char) of those subdomains */
	double length;			/* mean length of those subdomains (labels left of regdomain, no dots) */
	uint32_t nxdomain;		/* distinct registrable domains the client got NXDOMAIN for, in the window */
	double nx_surprisal;		/* mean letter surprisal (bits) of those domains' labels */
	double nx_entropy;		/* mean Shannon entropy of those labels */
	char regdomain[128];		/* registrable domain of the name checked ("" when none) */
};

struct dnsanom *dnsanom_create(size_t max_domains);
void dnsanom_destroy(struct dnsanom *da);
/* One DNS response seen for qname (client is the asking host), with its rcode (0 NOERROR, 3 NXDOMAIN). */
void dnsanom_response(struct dnsanom *da, const ng_addr *client, const char *qname, int rcode, ng_time t);
/*
 * Is `name` (a flow's remote domain, or a query) under a domain that looks
 * like tunnelling now, or is the client (may be NULL) DGA-like now? Fills
 * *out in every case; returns out->tunnel || out->dga.
 */
bool dnsanom_check(struct dnsanom *da, const ng_addr *client, const char *name, ng_time t,
		   struct dnsanom_result *out);
/* "412 unique random subdomains of example.com in the last hour (mean 38 chars, entropy 4.4)" into buf. */
char *dnsanom_reason(const struct dnsanom_result *r, char *buf, size_t len);
/* Bytes held (fixed from create on). */
size_t dnsanom_memory(const struct dnsanom *da);

#endif
