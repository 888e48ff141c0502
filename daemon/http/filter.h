/* SPDX-License-Identifier: BSD-2-Clause */
/* filter.h: the one filter grammar of /flows?q= (JSON, CSV, groups, history): parse once, match many. */
#ifndef NG_FILTER_H
#define NG_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest query accepted, in bytes. */
#define FILTER_MAX_LEN 256
/* Signals a view may carry. */
#define FILTER_MAX_SIGNALS 16

/*
 * What a filter reads of one flow, as the flow object (docs/api.md) shows it,
 * so that a live flow and a stored flow object match alike. Strings may be
 * NULL (unknown); every string is compared without regard to case.
 */
struct filter_view {
	const char *remote_ip, *local_ip;
	const char *domain, *as_org;
	const char *proc_name, *exe;
	const char *city, *country, *country_name;
	const char *proto;		/* "tcp", "udp", ..., "ip-N" */
	const char *attention;		/* "none", "low", "high" */
	const char *verdict;		/* "normal", "anomalous", "blocklisted", "local", "none" */
	const char *state;		/* "established", ... ("open" for protocols without state) */
	const char *signals[FILTER_MAX_SIGNALS];
	size_t nsignals;
	uint32_t asn;
	int proto_num;
	uint16_t remote_port, local_port;
	bool active, initiator_local, trusted, evidence;
	uint64_t bytes_sent, bytes_received;
};

struct filter;

/*
 * Parse a query (docs/api.md "The filter grammar"). NULL with one sentence in
 * err naming the term and the fix; an empty query (or only spaces) gives a
 * filter that passes everything. The caller frees with filter_free.
 */
struct filter *filter_parse(const char *q, char *err, size_t errlen);
void filter_free(struct filter *f);

/* True when the flow the view describes passes every term. */
bool filter_match(const struct filter *f, const struct filter_view *v);

/* Terms in the filter (0: it passes everything). */
size_t filter_terms(const struct filter *f);

#endif
