/* SPDX-License-Identifier: BSD-2-Clause */
/* http_int.h: the HTTP server's shared structures (listeners, connections, routes) and limits; no functions. */
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

/* Limits; docs/security.md explains each. */
#define HTTP_MAX_URI 2048		/* request target, query included: longer gets 414 */
#define HTTP_MAX_BODY 4096		/* POST bodies: larger gets 413 */
#define HTTP_BROAD_V4 16		/* trust/forget of a shorter IPv4 prefix needs "confirm": true */
#define HTTP_BROAD_V6 32		/* ... and of a shorter IPv6 prefix */
#define HTTP_IDLE_TIMEOUT 30		/* seconds without progress before MHD drops a connection */
#define HTTP_HEADER_TIMEOUT (10 * NG_USEC)	/* a request's headers (and body) must arrive within this */
#define HTTP_MEMORY_LIMIT (96 * 1024)	/* per-connection buffer: headers, the query's parsed parameters, writes */
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
	size_t nconns;			/* open connections through this listener */
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
	bool clear_cookie;		/* the request carried an old token cookie: expire it */
	bool close_after;		/* refused before its body: answer with Connection: close */
	const struct http_route *route;	/* chosen from the path at the first call; NULL before */
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
	ng_time listened_mono;		/* when a stream last listened (http_sse_listening), 0 never */
	uint64_t requests, rejected;
	size_t inflight;		/* bytes of responses built and not yet sent */
	ng_time next_housekeeping;	/* monotonic */
	ng_time share_tokens;		/* time HTTP work may still take (token bucket, microseconds) */
	ng_time share_last;		/* monotonic time of the last refill */
	bool sse_throttled;		/* the bucket is empty: streams stay suspended until it refills */
	bool stopping;
};

/* Request methods a route accepts (any other method gets 405). */
enum {
	HTTP_M_GET = 1u << 0,
	HTTP_M_HEAD = 1u << 1,
	HTTP_M_POST = 1u << 2,	/* the body (JSON, at most HTTP_MAX_BODY) is read before the handler runs */
};

/* What a route asks of a requester beyond the listener's rules (http_auth.c). */
enum http_auth_kind {
	HTTP_AUTH_API,		/* the API and streams: never for another site's page (Sec-Fetch-Site) */
	HTTP_AUTH_PAGE,		/* the page: another site may link to it, and a right ?token= lands on it */
};

/*
 * One route of the table in http.c: dispatch, the method test (405 with
 * Allow), the error bodies ("ok": false for POST routes) and access control
 * all read it.
 */
struct http_route {
	const char *path;		/* the decoded path; NULL matches every path */
	bool prefix;			/* path is a prefix ("/flows/") rather than the whole path */
	unsigned methods;		/* HTTP_M_* */
	enum http_auth_kind auth;
	/* Answer the request: the whole of it is in (a POST's body in c->body). */
	enum MHD_Result (*handler)(struct http_conn *c, const char *url);
};

#endif
