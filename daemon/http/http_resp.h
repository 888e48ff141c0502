/* SPDX-License-Identifier: BSD-2-Clause */
/* http_resp.h: what every HTTP handler uses: responses with the common headers, JSON errors, query checks. */
#ifndef NG_HTTP_RESP_H
#define NG_HTTP_RESP_H

#include "http_int.h"

/* Queue r with the security headers (and the token cookie when due); returns what the access handler returns. */
enum MHD_Result http_queue(struct http_conn *c, unsigned status, struct MHD_Response *r);
/* A body we own (freed by MHD after sending); content_type NULL means JSON; api adds Cache-Control: no-store. */
enum MHD_Result http_send(struct http_conn *c, unsigned status, const char *content_type, char *body, size_t len,
			  bool api);
/*
 * A body written while the client reads it (chunked), for answers too big to
 * build whole: fill appends the next part (some tens of KiB) to sb and
 * returns false once there is nothing more; done(state) runs when MHD is
 * finished with the response, sent or not. Memory stays at one part.
 */
typedef bool (*http_fill_fn)(void *state, struct strbuf *sb);
enum MHD_Result http_send_stream(struct http_conn *c, unsigned status, const char *content_type, http_fill_fn fill,
				 void (*done)(void *state), void *state, bool api);
/* {"error": msg} (and "ok": false on POST routes), Cache-Control: no-store. */
enum MHD_Result http_error(struct http_conn *c, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same with a message as is and extra headers: name/value pairs ending in NULL. */
enum MHD_Result http_error_headers(struct http_conn *c, unsigned status, const char *const *headers, const char *msg);
/*
 * A JSON error written straight to the socket in the middle of a request's
 * body (libmicrohttpd 0.9.75 cannot queue a response there), then MHD_NO so
 * that the connection closes without reading the rest.
 */
enum MHD_Result http_error_abort(struct http_conn *c, unsigned status, const char *reason, const char *msg);
/* 405 with an Allow header listing what the request's route accepts. */
enum MHD_Result http_not_allowed(struct http_conn *c, const char *method);
/* A cJSON document (deleted here) as the response. */
enum MHD_Result http_json(struct http_conn *c, unsigned status, cJSON *doc);
/* The security headers every response carries (CSP, nosniff, frame and referrer policies). */
void http_common_headers(struct MHD_Response *r);
/* The HTTP_M_* bit of a request method; 0 for methods no route takes. */
unsigned http_method_bit(const char *method);
/* A request header, or NULL. */
const char *http_header(struct http_conn *c, const char *name);
/* Check the query string: unknown, repeated or NUL-holding parameters give 400 (0, with *ret queued); else 1. */
int http_api_check_args(struct http_conn *c, const char *const *known, enum MHD_Result *ret);

#endif
