/* SPDX-License-Identifier: BSD-2-Clause */
/* http_group.h: /flows?group=destination|process: flows summed per destination or per program. */
#ifndef NG_HTTP_GROUP_H
#define NG_HTTP_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_resp.h"
#include "util.h"

struct flow;
struct filter;
struct filter_view;

enum group_kind {
	GROUP_NONE = 0,
	GROUP_DESTINATION,
	GROUP_PROCESS,
};

/* Buckets of a group's activity sparkline. */
#define GROUP_BUCKETS 24
/* Places listed per group. */
#define GROUP_PLACES 8

/* One flow as grouping reads it: from a flow in the table or a flow object of the history store. */
struct group_in {
	uint64_t id;
	const char *remote_ip, *domain;
	const char *proc_name, *exe, *sha256;
	const char *country, *city;
	uint64_t packets[2], bytes[2];	/* sent, received */
	ng_time first, last;
	int attention;			/* enum ng_attention */
	int verdict;			/* enum wl_verdict */
	bool active;
};

/*
 * Answer 200 with the groups of the flows in[0..n) (docs/api.md "Groups"):
 * doc is the document's head ("generated", ...; taken over), the groups go
 * into it, at most `limit` of them.
 */
enum MHD_Result http_group_send(struct http_conn *c, enum group_kind kind, const struct group_in *in, size_t n,
				uint64_t limit, cJSON *doc);
/* The same for flows of the table (as /flows picked them). */
enum MHD_Result http_group_flows(struct http_conn *c, enum group_kind kind, struct flow **v, size_t n, uint64_t limit);

/* Fill a filter view of a flow of the table; ra and la hold NG_ADDRSTRLEN bytes, pb 16. */
void http_flow_view(const struct flow *f, struct filter_view *v, char *ra, char *la, char *pb);

/*
 * GET /flows?at=T (history.c serves it): the list as it was at T, filtered,
 * grouped when `group`, at most `limit` flows or groups.
 */
enum MHD_Result http_history_at(struct http_conn *c, const char *at, const struct filter *filter, int group,
				uint64_t limit);

#endif
