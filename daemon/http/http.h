/* SPDX-License-Identifier: BSD-2-Clause */
/* http.h: the HTTP server (libmicrohttpd, driven by the daemon's own event loop): API, SSE, the page. */
#ifndef NG_HTTP_H
#define NG_HTTP_H

#include "platform.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "util.h"

struct engine;
struct whitelist;
struct event_ring;
struct evidence;
struct history;

/*
 * What the server shows. Everything is borrowed from the daemon and used from
 * the daemon's one thread only (the loop calls http_run), so nothing is locked.
 */
struct http_context {
	struct engine *engine;		/* flows: engine_flows(), engine_get_stats() */
	struct whitelist *wl;		/* verdict history for /flows/{id}, trust/forget */
	struct event_ring *events;
	struct evidence *evidence;	/* GET /flows/{id}/pcap; NULL when evidence is off */
	struct history *history;	/* /flows?at=, /api/history; NULL when the history is off */
	ng_time window;			/* the whitelist window, for reason sentences */
	/* Fills the daemon-level parts of documents: "home", "learning", "capture" for /flows, and /api/stats. */
	void (*describe)(void *arg, cJSON *flows_doc);
	void (*stats)(void *arg, cJSON *stats_doc);
	void *arg;
};

/* Most --listen addresses: each is one descriptor in the loop's poll set, which has room for all of them. */
#define HTTP_MAX_LISTEN 32

struct http_options {
	const char **listen;		/* "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8080" */
	size_t nlisten;
	const char *web_root;		/* serve the page from disk (development), or NULL for the embedded copy */
	const char *state_dir;		/* where the LAN access token lives (0600) */
	size_t max_clients;		/* concurrent connections in all */
	size_t max_per_ip;
	size_t max_sse;
};

struct http_server;

/*
 * Bind every listen address (before privileges are dropped). On failure
 * NULL and one line in err: "cannot listen on 127.0.0.1:8080: Address
 * already in use (another netglobe? choose another with --listen)".
 */
struct http_server *http_start(const struct http_options *opts, struct http_context *ctx, char *err, size_t errlen);
/*
 * Print where to open the page: one URL per listener; for a LAN address also
 * the token URL and, on a terminal, its QR code. Called once everything else
 * has opened, so a later start-up error is never preceded by "open ...".
 */
void http_announce(struct http_server *s);
/* Check a --listen value as http_start reads it (address, brackets, port 0-65535); 0, or -1 with one line in err. */
int http_listen_check(const char *spec, char *err, size_t errlen);
void http_stop(struct http_server *s);

/* Descriptors the loop must poll (up to max); returns how many were written. */
int http_pollfds(struct http_server *s, struct pollfd *fds, int max);
/* How long the loop may sleep before http_run must be called, in ms (-1: no limit). */
int http_timeout_ms(struct http_server *s);
/* Do all pending HTTP work (non-blocking). */
void http_run(struct http_server *s);
/* New events were published: wake the SSE streams that were waiting. */
void http_notify(struct http_server *s);
/* Connected SSE clients (the loop skips building update events when there are none). */
size_t http_sse_clients(const struct http_server *s);
/*
 * SSE clients that will receive the next event: connected and not so far
 * behind that they are due a reset anyway; and 1 for HTTP_SSE_RESUME_GRACE
 * after the last one left, so that a client that lost its connection (a
 * phone changing networks) can resume from its Last-Event-ID instead of
 * starting over. When it is 0 the loop may publish ids only (events_publish
 * with NULL data) and skip building JSON nobody will read; cheap enough to
 * call for every event.
 */
#define HTTP_SSE_RESUME_GRACE (120 * NG_USEC)
size_t http_sse_listening(struct http_server *s);

#endif
