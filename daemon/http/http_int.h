/* SPDX-License-Identifier: BSD-2-Clause */
/* http_int.h: what the HTTP server's files (http.c, http_auth.c, http_api.c, http_static.c, http_sse.c) share. */
#ifndef NG_HTTP_INT_H
#define NG_HTTP_INT_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "addr.h"
#include "http.h"
#include "util.h"

/* Limits (issue 5, section 4); docs/security.md explains each. */
#define HTTP_MAX_URI 2048		/* request target, query included: longer gets 414 */
#define HTTP_MAX_BODY 4096		/* POST bodies: larger gets 413 */
#define HTTP_IDLE_TIMEOUT 30		/* seconds without progress before MHD drops a connection */
#define HTTP_HEADER_TIMEOUT (10 * NG_USEC)	/* a request's headers (and body) must arrive within this */
#define HTTP_MEMORY_LIMIT (32 * 1024)	/* per-connection buffer for headers and response writes */
#define HTTP_SSE_HEARTBEAT (15 * NG_USEC)	/* a ": hb" comment on quiet streams */
#define HTTP_SSE_RETRY_MS 3000		/* the reconnect delay suggested to EventSource */
#define HTTP_SSE_MAX_BACKLOG (8u << 20)	/* a stream further behind than this gets a reset */
#define HTTP_SHARE_PERCENT 10		/* HTTP work may use this share of the loop's time while streams wait */
#define HTTP_SHARE_BURST (20 * 1000)	/* ... with bursts of up to 20 ms */
#define HTTP_SHARE_DEBT (50 * 1000)	/* ... and streams never wait more than 0.5 s for the share */
#define HTTP_MAX_INFLIGHT (256u << 20)	/* response bytes held for slow readers, all clients together */
#define HTTP_TOKEN_HEX 64		/* the LAN access token: 32 random bytes in hex */
#define HTTP_DEFAULT_MAX_CLIENTS 512
#define HTTP_DEFAULT_MAX_PER_IP 64
#define HTTP_DEFAULT_MAX_SSE 256

struct sse_client;
struct http_ratelimit;

/* One listening address with its own libmicrohttpd daemon. */
struct http_listener {
	struct http_server *srv;
	struct MHD_Daemon *mhd;
	int fd;				/* the listening socket (MHD closes it on stop) */
	int epfd;			/* MHD's epoll descriptor, polled by the daemon's loop */
	int family;			/* AF_INET or AF_INET6 */
	bool loopback;			/* configured on a loopback address: Host check instead of the token */
	bool wildcard;			/* 0.0.0.0 or [::]: the URL names each interface address */
	uint16_t port;
	char host[NG_ADDRSTRLEN + 2];	/* "127.0.0.1" or "[::1]" as it goes into a URL */
	char name[NG_ADDRSTRLEN + 16];	/* "127.0.0.1:8080" for messages */
};

/* One TCP connection (MHD's socket context), from accept to close; also holds its current request. */
struct http_conn {
	struct http_server *srv;
	struct http_listener *l;
	struct MHD_Connection *mc;
	struct http_conn *prev, *next;
	ng_addr peer;
	bool peer_loopback;
	ng_time deadline;		/* monotonic: shut down when no complete request by then (0: none) */
	/* The current request. */
	bool in_request;		/* the access handler has seen this request's headers */
	bool body_over;			/* the POST body went past HTTP_MAX_BODY */
	bool set_cookie;		/* add the token cookie to the response */
	int route;			/* enum http_route, chosen at the first call */
	char uri[HTTP_MAX_URI + 1];	/* the raw request target (truncated copy) */
	size_t urilen;			/* its full length */
	char *body;			/* POST body (HTTP_MAX_BODY + 1), allocated on demand */
	size_t bodylen;
	struct sse_client *sse;		/* set while this connection is an event stream */
};

struct http_server {
	struct http_context *ctx;
	struct http_listener *ls;
	size_t nls;
	size_t max_clients, max_per_ip, max_sse;
	char *web_root;			/* realpath of --web-root, or NULL */
	bool need_token;		/* some listener is not loopback */
	char token[HTTP_TOKEN_HEX + 1];
	struct http_ratelimit *rl;
	struct http_conn *conns;	/* every open connection */
	size_t nconns;
	struct sse_client *sse;		/* every event stream */
	size_t nsse;
	size_t listening;		/* streams not due a reset, as of listening_id (http_sse_listening) */
	uint64_t listening_id;
	size_t listening_nsse;
	uint64_t requests, rejected;
	size_t inflight;		/* bytes of responses built and not yet sent */
	ng_time next_housekeeping;	/* monotonic */
	ng_time share_tokens;		/* time HTTP work may still take (token bucket, microseconds) */
	ng_time share_last;		/* monotonic time of the last refill */
	bool sse_throttled;		/* the bucket is empty: streams stay suspended until it refills */
	bool stopping;
};

/* Routes, chosen from the path at the first call of a request. */
enum http_route {
	HTTP_ROUTE_STATIC = 0,
	HTTP_ROUTE_FLOWS,
	HTTP_ROUTE_FLOW,		/* /flows/{id}[/sub] */
	HTTP_ROUTE_EVENTS,
	HTTP_ROUTE_STATS,
	HTTP_ROUTE_TRUST,
	HTTP_ROUTE_FORGET,
	HTTP_ROUTE_API_UNKNOWN,
};

/* http.c: responses. Each queues a response and returns what the access handler returns. */
enum MHD_Result http_queue(struct http_conn *c, unsigned status, struct MHD_Response *r);
/* A body we own (freed by MHD after sending); content_type NULL means JSON. */
enum MHD_Result http_send(struct http_conn *c, unsigned status, const char *content_type, char *body, size_t len,
			  bool api);
/* {"error": msg} (and "ok": false for POSTs), Cache-Control: no-store. */
enum MHD_Result http_error(struct http_conn *c, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same with a message as is and extra headers: name/value pairs ending in NULL. */
enum MHD_Result http_error_headers(struct http_conn *c, unsigned status, const char *const *headers, const char *msg);
/* A cJSON document (deleted here) as the response. */
enum MHD_Result http_json(struct http_conn *c, unsigned status, cJSON *doc);
/* The security headers every response carries. */
void http_common_headers(struct MHD_Response *r);
/* True when the request's method is `m`. */
bool http_method_is(const char *method, const char *m);
/* A request header, or NULL. */
const char *http_header(struct http_conn *c, const char *name);

/* http_auth.c: access control and the LAN token. */
struct http_ratelimit *http_ratelimit_create(void);
void http_ratelimit_destroy(struct http_ratelimit *rl);
/* Load or create state_dir/http-token (0600); 0, or -1 with one line in err. */
int http_token_load(const char *state_dir, char *token, char *err, size_t errlen);
/*
 * Decide whether the request may go on: 1 to go on (c->set_cookie may be
 * set), 0 when a response (401, 403, 429, or the token landing page) was
 * queued and *ret holds what to return to MHD.
 */
int http_auth_request(struct http_conn *c, const char *url, const char *method, enum MHD_Result *ret);
/* A POST's Origin (or Referer) names this server as the request's Host: 1, else 0 with a 403 queued. */
int http_auth_origin(struct http_conn *c, enum MHD_Result *ret);
/* Expire old rate-limit entries (housekeeping; now is monotonic). */
void http_ratelimit_expire(struct http_ratelimit *rl, ng_time now);

/* http_api.c: the JSON API. */
enum MHD_Result http_api_flows(struct http_conn *c);
enum MHD_Result http_api_flow(struct http_conn *c, const char *url);
enum MHD_Result http_api_stats(struct http_conn *c);
enum MHD_Result http_api_rule(struct http_conn *c, bool trust);
/* Check the query string of an API route: unknown, repeated or NUL-holding parameters give 400 (0 queued). */
int http_api_check_args(struct http_conn *c, const char *const *known, enum MHD_Result *ret);

/* http_static.c: the page. */
enum MHD_Result http_static(struct http_conn *c, const char *url);

/* http_sse.c: GET /events. */
enum MHD_Result http_sse_start(struct http_conn *c);
/* Wake streams that have something to send; with heartbeat also those quiet for too long. */
void http_sse_wake(struct http_server *s, bool heartbeat);
/* Streams not due a reset (recounted from the ring). */
size_t http_sse_count_listening(struct http_server *s);
/* End every stream (before the daemons stop): resume them so they finish. */
void http_sse_close_all(struct http_server *s);
/* The connection went away: detach its stream. */
void http_sse_conn_closed(struct http_conn *c);

#endif
