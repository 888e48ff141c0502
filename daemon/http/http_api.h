/* SPDX-License-Identifier: BSD-2-Clause */
/* http_api.h: the JSON API handlers (routes of http.c's table). */
#ifndef NG_HTTP_API_H
#define NG_HTTP_API_H

#include "http_resp.h"

/* GET /flows: filters, sort, limit, JSON or CSV. */
enum MHD_Result http_api_flows(struct http_conn *c, const char *url);
/* GET /flows/{id} and /flows/{id}/pcap. */
enum MHD_Result http_api_flow(struct http_conn *c, const char *url);
/* GET /api/stats. */
enum MHD_Result http_api_stats(struct http_conn *c, const char *url);
/* POST /api/trust and /api/forget: {"address": ...} or {"domain": ...}. */
enum MHD_Result http_api_trust(struct http_conn *c, const char *url);
enum MHD_Result http_api_forget(struct http_conn *c, const char *url);
/* POST /api/trust/undo: {"undo": N} or {"rule": "..."}. */
enum MHD_Result http_api_trust_undo(struct http_conn *c, const char *url);
/* GET /api/history and /api/history/summary (http_history.c). */
enum MHD_Result http_api_history(struct http_conn *c, const char *url);
enum MHD_Result http_api_history_summary(struct http_conn *c, const char *url);
/* Any other path under /api: 404. */
enum MHD_Result http_api_unknown(struct http_conn *c, const char *url);

#endif
