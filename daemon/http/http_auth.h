/* SPDX-License-Identifier: BSD-2-Clause */
/* http_auth.h: access control (loopback Host, the LAN token, cross-site requests) and where to open the page. */
#ifndef NG_HTTP_AUTH_H
#define NG_HTTP_AUTH_H

#include "http_resp.h"

/* The failed-token rate limit per address (LAN listeners). */
struct http_ratelimit *http_ratelimit_create(void);
void http_ratelimit_destroy(struct http_ratelimit *rl);
/* Expire old rate-limit entries (housekeeping; now is monotonic). */
void http_ratelimit_expire(struct http_ratelimit *rl, ng_time now);
/* Load or create state_dir/http-token (0600); 0, or -1 with one line in err. */
int http_token_load(const char *state_dir, char *token, char *err, size_t errlen);
/*
 * Decide whether the request may go on, by its listener and its route's
 * auth kind: 1 to go on, 0 when a response (401, 403, 429, or the page that
 * explains the token to a browser) was queued and *ret holds what to
 * return to MHD.
 */
int http_auth_request(struct http_conn *c, const char *url, const char *method, enum MHD_Result *ret);
/* A POST's Origin (or Referer) names this server as the request's Host: 1, else 0 with a 403 queued. */
int http_auth_origin(struct http_conn *c, enum MHD_Result *ret);

#endif
