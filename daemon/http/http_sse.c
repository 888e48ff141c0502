/* SPDX-License-Identifier: BSD-2-Clause */
/* http_sse.c: GET /events: server-sent event streams fed from the event ring, never blocking the loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "http_sse.h"
#include "log.h"

/*
 * DESIGN
 *
 * A stream is a libmicrohttpd response of unknown size whose content
 * reader copies events straight out of the shared ring (events.c) into
 * MHD's buffer, starting after the client's cursor. The ring is the only
 * backlog: a client holds nothing of its own but its control lines (retry,
 * reset) and the rest of the one event that did not fit MHD's buffer,
 * whatever its speed. When the reader has nothing to send it suspends the
 * connection, so an idle stream costs nothing per loop turn; http_notify
 * resumes the streams whose cursor is behind the newest event, and the
 * housekeeping tick resumes quiet ones for a heartbeat comment every 15 s.
 *
 * A client that falls behind (the ring dropped events it had not sent yet,
 * or more than HTTP_SSE_MAX_BACKLOG bytes wait for it) gets a `reset`
 * event and continues from the newest event: nothing is lost silently,
 * the page refetches /flows. One that stops reading altogether makes no
 * progress and libmicrohttpd's inactivity timeout closes it. While the
 * HTTP share is used up (http.c) the readers suspend at once.
 * http_sse_listening tells the loop when every stream is due a reset
 * anyway, so that it can skip building JSON that nobody would read.
 */

#define SSE_BLOCK (64 * 1024)	/* the most MHD asks the reader for at once */

struct sse_client {
	struct http_server *srv;
	struct http_conn *conn;		/* NULL once the connection closed */
	struct MHD_Connection *mc;
	struct sse_client *prev, *next;
	uint64_t cursor;		/* the newest event handed to MHD (or to out) */
	char *out;			/* our own bytes to send first: out[off..len) */
	size_t off, len, cap;
	bool suspended;
	bool closing;
	ng_time last_write;		/* monotonic */
};

/* Append bytes to a client's own buffer. */
static void sse_put(struct sse_client *k, const char *s, size_t n)
{
	if (k->off == k->len)
		k->off = k->len = 0;
	if (k->len + n > k->cap) {
		k->cap = NG_MAX(k->len + n, (size_t)1024);
		k->out = xrealloc(k->out, k->cap);
	}
	memcpy(k->out + k->len, s, n);
	k->len += n;
}

/* Tell the client to refetch /flows, and go on from the newest event. */
static void sse_reset(struct sse_client *k, const char *why)
{
	uint64_t last = events_last_id(k->srv->ctx->events);
	char msg[256];
	int n;

	n = snprintf(msg, sizeof msg, "id: %llu\nevent: reset\ndata: {\"last_event_id\":%llu,\"reason\":\"%s\"}\n\n",
		     (unsigned long long)last, (unsigned long long)last, why);
	sse_put(k, msg, (size_t)n);
	k->cursor = last;
}

/* Before taking events from the ring: a reset when the ring moved past the client or it fell too far behind. */
static void sse_check_backlog(struct sse_client *k)
{
	const struct event_ring *ring = k->srv->ctx->events;
	size_t backlog;

	if (k->cursor == events_last_id(ring))
		return;
	backlog = events_backlog(ring, k->cursor);
	if (backlog == SIZE_MAX)
		sse_reset(k, k->cursor > events_last_id(ring) ? "unknown event id (the daemon restarted?)"
							      : "missed events are no longer kept");
	else if (backlog > HTTP_SSE_MAX_BACKLOG)
		sse_reset(k, "this client fell too far behind");
}

/*
 * Fill buf: our own bytes first, then events straight from the ring. An
 * event that does not fit is split: its rest goes to our own buffer (the
 * ring may drop it before the next call). Returns the bytes written.
 */
static size_t sse_fill(struct sse_client *k, char *buf, size_t max)
{
	const struct event_ring *ring = k->srv->ctx->events;
	size_t n = 0, tl, m;
	const char *t;

	if (k->off < k->len) {
		n = NG_MIN(max, k->len - k->off);
		memcpy(buf, k->out + k->off, n);
		k->off += n;
		if (k->off < k->len)
			return n;
	}
	k->off = k->len = 0;
	sse_check_backlog(k);
	if (k->len) {	/* a reset */
		m = NG_MIN(max - n, k->len);
		memcpy(buf + n, k->out, m);
		k->off = m;
		return n + m;
	}
	while (n < max && (t = events_get(ring, k->cursor + 1, &tl)) != NULL) {
		m = NG_MIN(tl, max - n);
		memcpy(buf + n, t, m);
		n += m;
		k->cursor++;
		if (m < tl)
			sse_put(k, t + m, tl - m);
	}
	return n;
}

/* MHD's content reader: events, a heartbeat, or suspend until there is something (or the share allows). */
static ssize_t sse_reader_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse_client *k = cls;
	ng_time now;
	size_t n = 0;

	(void)pos;
	if (k->closing || k->srv->stopping)
		return MHD_CONTENT_READER_END_OF_STREAM;
	now = time_mono();
	if (!k->srv->sse_throttled) {
		n = sse_fill(k, buf, max);
		if (n == 0 && now - k->last_write >= HTTP_SSE_HEARTBEAT && max >= 6) {
			memcpy(buf, ": hb\n\n", 6);
			n = 6;
		}
	}
	if (n) {
		k->last_write = now;
		return (ssize_t)n;
	}
	MHD_suspend_connection(k->mc);
	k->suspended = true;
	return 0;
}

/* The response is gone (the connection closed): forget the stream. */
static void sse_free_cb(void *cls)
{
	struct sse_client *k = cls;
	struct http_server *s = k->srv;

	if (k->prev)
		k->prev->next = k->next;
	else
		s->sse = k->next;
	if (k->next)
		k->next->prev = k->prev;
	s->nsse--;
	if (k->conn)
		k->conn->sse = NULL;
	free(k->out);
	free(k);
}

void http_sse_conn_closed(struct http_conn *c)
{
	if (c->sse) {
		c->sse->conn = NULL;
		c->sse->closing = true;
		c->sse = NULL;
	}
}

enum MHD_Result http_sse_start(struct http_conn *c, const char *url)
{
	static const char *const known[] = {"last_event_id", NULL};
	struct http_server *s = c->srv;
	const struct event_ring *ring = s->ctx->events;
	struct MHD_Response *r;
	struct sse_client *k;
	enum MHD_Result ret;
	const char *from;
	uint64_t after;
	char hello[64];
	int n;

	(void)url;
	if (!http_api_check_args(c, known, &ret))
		return ret;
	if (!ring)
		return http_error(c, 503, "no event stream in this mode");
	from = http_header(c, "Last-Event-ID");
	if (!from || !from[0])
		from = MHD_lookup_connection_value(c->mc, MHD_GET_ARGUMENT_KIND, "last_event_id");
	if (from && from[0] && parse_uint(from, 0, UINT64_MAX, &after) != 0)
		return http_error(c, 400, "bad Last-Event-ID '%.40s' (want an event id)", from);
	if (!from || !from[0])
		after = events_last_id(ring);
	if (s->nsse >= s->max_sse)
		return http_error(c, 503, "too many event streams (%zu); try again later", s->max_sse);
	k = xcalloc(1, sizeof *k);
	k->srv = s;
	k->conn = c;
	k->mc = c->mc;
	k->cursor = after;
	k->last_write = time_mono();
	n = snprintf(hello, sizeof hello, "retry: %d\n\n", HTTP_SSE_RETRY_MS);
	sse_put(k, hello, (size_t)n);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK, sse_reader_cb, k, sse_free_cb);
	if (!r) {
		free(k->out);
		free(k);
		return MHD_NO;
	}
	k->next = s->sse;
	if (s->sse)
		s->sse->prev = k;
	s->sse = k;
	s->nsse++;
	c->sse = k;
	MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	return http_queue(c, 200, r);
}

void http_sse_wake(struct http_server *s, bool heartbeat)
{
	const struct event_ring *ring = s->ctx->events;
	uint64_t last = ring ? events_last_id(ring) : 0;
	ng_time now = time_mono();

	if (s->sse_throttled)
		return;
	for (struct sse_client *k = s->sse; k; k = k->next) {
		if (!k->suspended)
			continue;
		if (k->cursor != last || k->off < k->len || k->closing ||
		    (heartbeat && now - k->last_write >= HTTP_SSE_HEARTBEAT)) {
			k->suspended = false;
			MHD_resume_connection(k->mc);
		}
	}
}

size_t http_sse_count_listening(struct http_server *s)
{
	const struct event_ring *ring = s->ctx->events;
	size_t n = 0;

	for (struct sse_client *k = s->sse; k; k = k->next) {
		size_t b = ring ? events_backlog(ring, k->cursor) : 0;

		n += !k->closing && b <= HTTP_SSE_MAX_BACKLOG;
	}
	return n;
}

void http_sse_close_all(struct http_server *s)
{
	for (struct sse_client *k = s->sse; k; k = k->next) {
		k->closing = true;
		if (k->suspended) {
			k->suspended = false;
			MHD_resume_connection(k->mc);
		}
	}
}
