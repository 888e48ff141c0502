/* SPDX-License-Identifier: BSD-2-Clause */
/* http_sse.h: GET /events: server-sent event streams fed from the ring. */
#ifndef NG_HTTP_SSE_H
#define NG_HTTP_SSE_H

#include "http_resp.h"

/* GET /events: start a stream (resuming after Last-Event-ID when given). */
enum MHD_Result http_sse_start(struct http_conn *c, const char *url);
/* Wake streams that have something to send; with heartbeat also those quiet for too long. */
void http_sse_wake(struct http_server *s, bool heartbeat);
/* Streams not due a reset (recounted from the ring). */
size_t http_sse_count_listening(struct http_server *s);
/* End every stream (before the daemons stop): resume them so they finish. */
void http_sse_close_all(struct http_server *s);
/* The connection went away: detach its stream. */
void http_sse_conn_closed(struct http_conn *c);

#endif
