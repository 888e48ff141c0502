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

/*
 * What the server shows. Everything is borrowed from the daemon and used from
 * the daemon's one thread only (the loop calls http_run), so nothing is locked.
 */
struct http_context {
	struct engine *engine;		/* flows: engine_flows(), engine_get_stats() */
	struct whitelist *wl;		/* verdict history for /flows/{id}, trust/forget */
	struct event_ring *events;
	struct evidence *evidence;	/* GET /flows/{id}/pcap; NULL when evidence is off */
	ng_time window;			/* the whitelist window, for reason sentences */
	/* Fills the daemon-level parts of documents: "home", "learning", "capture" for /flows, and /api/stats. */
	void (*describe)(void *arg, cJSON *flows_doc);
	void (*stats)(void *arg, cJSON *stats_doc);
	void *arg;
};

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
 * behind that they are due a reset anyway. When it is 0 the loop may
 * publish ids only (events_publish with NULL data) and skip building JSON
 * nobody will read; cheap enough to call for every event.
 */
size_t http_sse_listening(struct http_server *s);

#endif
