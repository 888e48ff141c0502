/* SPDX-License-Identifier: BSD-2-Clause */
/* http.c: the HTTP server: listeners, libmicrohttpd in the daemon's own loop, connections, routing, responses. */
#include "http.h"

#include "platform.h"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "http_api.h"
#include "http_auth.h"
#include "http_sse.h"
#include "http_static.h"
#include "log.h"

/*
 * DESIGN
 *
 * One thread. Each --listen address gets its own libmicrohttpd daemon in
 * "external polling" mode with epoll: MHD owns one epoll descriptor per
 * daemon, the daemon's loop polls those descriptors next to the capture
 * (http_pollfds, http_timeout_ms) and calls http_run, which lets MHD do
 * whatever is ready without blocking. No MHD thread exists, so the API
 * handlers read the flow table directly and nothing is locked.
 *
 * We bind the listening sockets ourselves (MHD_OPTION_LISTEN_SOCKET): the
 * error for a port in use or a foreign address is then ours to word, and an
 * IPv6 socket is always IPV6_V6ONLY, so "[::]:8080" and "0.0.0.0:8080" are
 * two separate, explicit choices.
 *
 * Connections are tracked from MHD's connection notifications (struct
 * http_conn is the socket context): that gives the per-listener and
 * per-address limits (applied at accept; see http_accept_cb), the raw
 * request target (MHD's URI log callback, before it is decoded: lengths
 * and %00 are judged on it), and a deadline: a request's
 * headers must be complete within HTTP_HEADER_TIMEOUT of the connection
 * opening (or of the previous response ending plus the idle timeout). MHD's
 * own timeout is about inactivity, which a slowloris client defeats by
 * sending a byte now and then; a connection past its deadline is shut down
 * (shutdown(2), so MHD sees the end and frees it in its own time).
 *
 * Event streams (http_sse.c) are suspended while they have nothing to send
 * and resumed by http_notify, so an idle stream costs nothing per loop turn.
 * The time spent in libmicrohttpd is charged to a token bucket that fills
 * at HTTP_SHARE_PERCENT of the wall clock; while it is empty the streams
 * stay suspended. A burst of events (a capture replayed at full speed with
 * hundreds of clients) then slows the capture by at most that share, and
 * the clients that fall behind get a reset, as any slow client does.
 *
 * Answers are queued at the access handler's last call, never its first:
 * libmicrohttpd 0.9.75 closes a connection whose response was queued
 * before it knew the request had no body, which would cost keep-alive.
 */

static enum MHD_Result http_access_cb(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
				      const char *version, const char *upload_data, size_t *upload_data_size,
				      void **con_cls);
static void http_stop_listeners(struct http_server *s);

/* Parse "ADDR:PORT" ("127.0.0.1:8080", "[::1]:8080", "localhost:8080") into a socket address. */
static int http_parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen, struct http_listener *l,
			     char *err, size_t errlen)
{
	char host[128];
	const char *portstr, *colon;
	uint64_t port;
	size_t hl;

	memset(ss, 0, sizeof *ss);
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (!close || close[1] != ':') {
			snprintf(err, errlen, "bad --listen '%.100s': want [IPv6]:PORT, e.g. [::1]:8080", spec);
			return -1;
		}
		hl = (size_t)(close - spec - 1);
		portstr = close + 2;
		if (hl >= sizeof host)
			hl = sizeof host - 1;
		memcpy(host, spec + 1, hl);
		host[hl] = '\0';
	} else {
		colon = strrchr(spec, ':');
		if (!colon) {
			snprintf(err, errlen, "bad --listen '%.100s': want ADDR:PORT, e.g. 127.0.0.1:8080", spec);
			return -1;
		}
		if (memchr(spec, ':', (size_t)(colon - spec))) {
			snprintf(err, errlen, "bad --listen '%.100s': an IPv6 address goes in brackets, e.g. [::1]:8080",
				 spec);
			return -1;
		}
		hl = NG_MIN((size_t)(colon - spec), sizeof host - 1);
		memcpy(host, spec, hl);
		host[hl] = '\0';
		portstr = colon + 1;
	}
	if (parse_uint(portstr, 0, 65535, &port) != 0) {
		snprintf(err, errlen, "bad port '%.40s' in --listen '%.100s': want a number from 0 to 65535", portstr,
			 spec);
		return -1;
	}
	l->port = (uint16_t)port;
	if (strcasecmp(host, "localhost") == 0)
		snprintf(host, sizeof host, "127.0.0.1");
	if (spec[0] != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			snprintf(err, errlen,
				 "bad address '%.60s' in --listen '%.100s': want an IPv4 address, [IPv6] or localhost",
				 host, spec);
			return -1;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons(l->port);
		*sslen = sizeof *sin;
		l->family = AF_INET;
		l->loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
		l->wildcard = sin->sin_addr.s_addr == htonl(INADDR_ANY);
		snprintf(l->host, sizeof l->host, "%.46s", host);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			snprintf(err, errlen, "bad address '[%.60s]' in --listen '%.100s': want an IPv6 address", host,
				 spec);
			return -1;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(l->port);
		*sslen = sizeof *sin6;
		l->family = AF_INET6;
		l->loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
		l->wildcard = IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
		snprintf(l->host, sizeof l->host, "[%.45s]", host);
	}
	return 0;
}

int http_listen_check(const char *spec, char *err, size_t errlen)
{
	struct http_listener l;
	struct sockaddr_storage ss;
	socklen_t sslen;

	memset(&l, 0, sizeof l);
	return http_parse_listen(spec, &ss, &sslen, &l, err, errlen);
}

/* Create, bind and listen; -1 with one line in err naming the address and the likely fix. */
static int http_bind(const char *spec, struct http_listener *l, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd;
	const char *hint = "";

	if (http_parse_listen(spec, &ss, &sslen, l, err, errlen) != 0)
		return -1;
	fd = platform_tcp_listen((struct sockaddr *)&ss, sslen);
	if (fd < 0) {
		int e = errno;

		if (e == EADDRINUSE)
			hint = " (another netglobe? choose another with --listen)";
		else if (e == EADDRNOTAVAIL)
			hint = " (not an address of this host; see `ip addr`)";
		else if (e == EACCES)
			hint = " (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
		snprintf(err, errlen, "cannot listen on %.100s: %s%s", spec, strerror(e), hint);
		return -1;
	}
	if (l->port == 0) {
		if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
			l->port = ntohs(l->family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
							     : ((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	snprintf(l->name, sizeof l->name, "%s:%u", l->host, l->port);
	l->fd = fd;
	return 0;
}

/* A socket address as an ng_addr (IPv4-mapped IPv6 becomes IPv4). */
static ng_addr http_sockaddr_addr(const struct sockaddr *sa)
{
	ng_addr a;

	memset(&a, 0, sizeof a);
	if (!sa)
		return a;
	if (sa->sa_family == AF_INET) {
		a = addr_from_v4((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *in6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(in6))
			a = addr_from_v4(in6->s6_addr + 12);
		else
			a = addr_from_v6(in6->s6_addr);
	}
	return a;
}

/* The key the per-address cap counts by: an IPv4 address, or an IPv6 /64 (as the token limiter counts). */
static ng_addr http_peer_group(const ng_addr *a)
{
	ng_addr k = *a;

	if (k.v == 6)
		memset(k.a + 8, 0, 8);
	return k;
}

/* Connections a listener keeps for this host's own clients: an eighth of --max-clients, at least 1. */
static size_t http_loopback_reserve(const struct http_server *s)
{
	return NG_MAX(s->max_clients / 8, (size_t)1);
}

/*
 * MHD's accept policy. Each listener has its own --max-clients (MHD stops
 * accepting there, and the rest wait in the kernel's backlog), so clients
 * of one listener never use up another's. Peers that are not this host may
 * take all but the loopback reserve of a listener, and at most max_per_ip
 * (64) connections per address (per /64 for IPv6) over all listeners;
 * beyond either they are closed at once.
 */
static enum MHD_Result http_accept_cb(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct http_listener *l = cls;
	struct http_server *s = l->srv;
	ng_addr peer, group;
	size_t same = 0;

	(void)addrlen;
	if (s->stopping || l->nconns >= s->max_clients) {
		s->rejected++;
		return MHD_NO;
	}
	peer = http_sockaddr_addr(addr);
	if (addr_scope(&peer) == NG_SCOPE_LOOPBACK)
		return MHD_YES;
	if (l->nconns + http_loopback_reserve(s) >= s->max_clients) {
		s->rejected++;
		return MHD_NO;
	}
	group = http_peer_group(&peer);
	for (struct http_conn *c = s->conns; c; c = c->next) {
		ng_addr cg = http_peer_group(&c->peer);

		if (addr_equal(&cg, &group) && ++same >= s->max_per_ip) {
			s->rejected++;
			return MHD_NO;
		}
	}
	return MHD_YES;
}

/* MHD's connection notification: our struct http_conn lives from start to close. */
static void http_conn_cb(void *cls, struct MHD_Connection *mc, void **socket_context,
			 enum MHD_ConnectionNotificationCode toe)
{
	struct http_listener *l = cls;
	struct http_server *s = l->srv;
	struct http_conn *c;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

		c = xcalloc(1, sizeof *c);
		c->srv = s;
		c->l = l;
		c->mc = mc;
		c->peer = http_sockaddr_addr(ci ? ci->client_addr : NULL);
		c->peer_loopback = addr_scope(&c->peer) == NG_SCOPE_LOOPBACK;
		c->deadline = time_mono() + HTTP_HEADER_TIMEOUT;
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		l->nconns++;
		*socket_context = c;
		return;
	}
	c = *socket_context;
	if (!c)
		return;
	http_sse_conn_closed(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	l->nconns--;
	free(c->body);
	free(c);
	*socket_context = NULL;
}

/* MHD's URI log callback: the raw request target, before decoding, starts a request. */
static void *http_uri_cb(void *cls, const char *uri, struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct http_conn *c = ci ? ci->socket_context : NULL;
	size_t n;

	(void)cls;
	if (!c)
		return NULL;
	n = strlen(uri);
	c->urilen = n;
	n = NG_MIN(n, (size_t)HTTP_MAX_URI);
	memcpy(c->uri, uri, n);
	c->uri[n] = '\0';
	c->in_request = false;
	c->body_over = false;
	c->clear_cookie = false;
	c->close_after = false;
	c->bodylen = 0;
	c->route = NULL;
	return c;
}

/* MHD's request-completed callback: the connection now waits for its next request. */
static void http_completed_cb(void *cls, struct MHD_Connection *mc, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_conn *c = *con_cls;

	(void)cls;
	(void)mc;
	(void)toe;
	if (!c)
		return;
	c->in_request = false;
	free(c->body);
	c->body = NULL;
	c->bodylen = 0;
	c->deadline = time_mono() + (ng_time)HTTP_IDLE_TIMEOUT * NG_USEC + HTTP_HEADER_TIMEOUT;
}

/* MHD's own messages: debug level, since a hostile client can trigger them at will. */
__attribute__((format(printf, 2, 0))) static void http_mhd_log_cb(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof buf, fmt, ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_debug("libmicrohttpd: %s", buf);
}

struct http_server *http_start(const struct http_options *opts, struct http_context *ctx, char *err, size_t errlen)
{
	struct http_server *s = xcalloc(1, sizeof *s);

	s->ctx = ctx;
	s->max_clients = opts->max_clients ? opts->max_clients : HTTP_DEFAULT_MAX_CLIENTS;
	s->max_per_ip = opts->max_per_ip ? opts->max_per_ip : HTTP_DEFAULT_MAX_PER_IP;
	s->max_sse = opts->max_sse ? opts->max_sse : HTTP_DEFAULT_MAX_SSE;
	s->rl = http_ratelimit_create();
	s->next_housekeeping = time_mono() + NG_USEC;
	s->share_last = time_mono();
	s->share_tokens = HTTP_SHARE_BURST;
	if (opts->nlisten == 0 || opts->nlisten > HTTP_MAX_LISTEN) {
		snprintf(err, errlen, "%s --listen addresses: give 1 to %d", opts->nlisten ? "too many" : "no",
			 HTTP_MAX_LISTEN);
		goto fail;
	}
	if (opts->web_root) {
		s->web_root = realpath(opts->web_root, NULL);
		if (!s->web_root) {
			snprintf(err, errlen, "cannot use --web-root %.200s: %s", opts->web_root, strerror(errno));
			goto fail;
		}
	}
	s->ls = xcalloc(opts->nlisten, sizeof *s->ls);
	for (size_t i = 0; i < opts->nlisten; i++) {
		struct http_listener *l = &s->ls[i];

		l->srv = s;
		l->fd = -1;
		l->epfd = -1;
		if (http_bind(opts->listen[i], l, err, errlen) != 0)
			goto fail;
		s->nls++;
		if (!l->loopback)
			s->need_token = true;
	}
	if (s->need_token) {
		if (!opts->state_dir || !opts->state_dir[0]) {
			snprintf(err, errlen, "a --listen address that is not loopback needs a state directory for its "
					      "access token (give --state-dir DIR)");
			goto fail;
		}
		if (http_token_load(opts->state_dir, s->token, err, errlen) != 0)
			goto fail;
	}
	for (size_t i = 0; i < s->nls; i++) {
		struct http_listener *l = &s->ls[i];
		const union MHD_DaemonInfo *di;
		unsigned flags = MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

		/* epoll where libmicrohttpd has it (Linux); elsewhere its select sets (http_pollfds). */
		if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
			flags |= MHD_USE_EPOLL;

		if (l->family == AF_INET6)
			flags |= MHD_USE_IPv6;
		l->mhd = MHD_start_daemon(flags, 0, http_accept_cb, l, http_access_cb, l,
					  MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log_cb, l,
					  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)l->fd,
					  MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->max_clients,
					  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT,
					  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
					  MHD_OPTION_NOTIFY_CONNECTION, http_conn_cb, l,
					  MHD_OPTION_NOTIFY_COMPLETED, http_completed_cb, l,
					  MHD_OPTION_URI_LOG_CALLBACK, http_uri_cb, l,
					  /* 0: a request without Host reaches http_begin, which answers in JSON */
					  MHD_OPTION_STRICT_FOR_CLIENT, (int)0,
					  MHD_OPTION_END);
		if (!l->mhd) {
			snprintf(err, errlen, "cannot start the HTTP server on %s (libmicrohttpd refused; run with -v)",
				 l->name);
			goto fail;
		}
		l->fd = -1;	/* MHD owns it now */
		if (!(flags & MHD_USE_EPOLL))
			continue;
		di = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
		if (!di) {
			snprintf(err, errlen, "cannot start the HTTP server on %s: no epoll descriptor", l->name);
			goto fail;
		}
		l->epfd = di->epoll_fd;
	}
	return s;
fail:
	http_stop(s);
	return NULL;
}

/* Stop every daemon and close listening sockets MHD never took. */
static void http_stop_listeners(struct http_server *s)
{
	for (size_t i = 0; i < s->nls; i++) {
		struct http_listener *l = &s->ls[i];

		if (l->mhd)
			MHD_stop_daemon(l->mhd);
		l->mhd = NULL;
		if (l->fd >= 0)
			platform_socket_close(l->fd);
		l->fd = -1;
	}
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	s->stopping = true;
	/* MHD must not be stopped with suspended connections: let the streams end first. */
	http_sse_close_all(s);
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < s->nls; i++) {
			if (s->ls[i].mhd)
				MHD_run(s->ls[i].mhd);
		}
	}
	http_stop_listeners(s);
	http_ratelimit_destroy(s->rl);
	free(s->web_root);
	free(s->ls);
	explicit_bzero(s->token, sizeof s->token);
	free(s);
}

int http_pollfds(struct http_server *s, struct pollfd *fds, int max)
{
	int n = 0;

	if (!s)
		return 0;
	for (size_t i = 0; i < s->nls && n < max; i++) {
		if (s->ls[i].epfd < 0) {
			fd_set rs, ws, es;
			MHD_socket maxfd = 0;

			FD_ZERO(&rs);
			FD_ZERO(&ws);
			FD_ZERO(&es);
			if (s->ls[i].mhd && MHD_get_fdset2(s->ls[i].mhd, &rs, &ws, &es, &maxfd, FD_SETSIZE) == MHD_YES)
				n += platform_fdset_pollfds(&rs, &ws, (int)maxfd, fds + n, max - n);
			continue;
		}
		fds[n].fd = s->ls[i].epfd;
		fds[n].events = POLLIN;
		fds[n].revents = 0;
		n++;
	}
	return n;
}

int http_timeout_ms(struct http_server *s)
{
	ng_time until;
	int ms;

	if (!s)
		return -1;
	until = s->next_housekeeping - time_mono();
	if (s->sse_throttled)	/* the streams wait until the bucket refills */
		until = NG_MIN(until, -s->share_tokens * 100 / HTTP_SHARE_PERCENT);
	ms = until <= 0 ? 0 : (int)((until + 999) / 1000);
	for (size_t i = 0; i < s->nls; i++) {
		MHD_UNSIGNED_LONG_LONG t;

		if (s->ls[i].mhd && MHD_get_timeout(s->ls[i].mhd, &t) == MHD_YES && t < (MHD_UNSIGNED_LONG_LONG)ms)
			ms = (int)t;
	}
	return ms;
}

/* Once a second: cut off connections past their deadline, heartbeats, old rate-limit entries. */
static void http_housekeeping(struct http_server *s, ng_time now)
{
	for (struct http_conn *c = s->conns; c; c = c->next) {
		const union MHD_ConnectionInfo *ci;

		if (!c->deadline || now < c->deadline)
			continue;
		c->deadline = 0;
		ci = MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci) {
			char a[NG_ADDRSTRLEN];

			log_debug("HTTP: %s took too long to send a request; closing", addr_format(&c->peer, a, sizeof a));
			shutdown(ci->connect_fd, SHUT_RDWR);
			s->rejected++;
		}
	}
	http_sse_wake(s, true);
	http_ratelimit_expire(s->rl, now);
}

/*
 * Run every daemon once and charge the time to a token bucket that fills
 * at HTTP_SHARE_PERCENT of the wall clock (up to HTTP_SHARE_BURST). While
 * it is empty, event streams stay suspended (plain requests go on), so a
 * burst of events costs the capture at most that share on average; streams
 * that fall behind by more than the ring or HTTP_SSE_MAX_BACKLOG then get a
 * reset, as slow clients do.
 */
static void http_run_all(struct http_server *s)
{
	ng_time t0 = time_mono(), t1;

	for (size_t i = 0; i < s->nls; i++) {
		if (s->ls[i].mhd)
			MHD_run(s->ls[i].mhd);
	}
	t1 = time_mono();
	s->share_tokens += (t1 - s->share_last) * HTTP_SHARE_PERCENT / 100 - (t1 - t0);
	/* One long request (a /flows of 100,000 flows) must not starve the streams for long: cap the debt. */
	s->share_tokens = NG_MAX(NG_MIN(s->share_tokens, (ng_time)HTTP_SHARE_BURST), -(ng_time)HTTP_SHARE_DEBT);
	s->share_last = t1;
	if (s->share_tokens < 0) {
		s->sse_throttled = true;
	} else if (s->sse_throttled) {
		s->sse_throttled = false;
		http_sse_wake(s, false);
	}
}

void http_run(struct http_server *s)
{
	ng_time now;

	if (!s)
		return;
	http_run_all(s);
	now = time_mono();
	if (now >= s->next_housekeeping) {
		http_housekeeping(s, now);
		s->next_housekeeping = now + NG_USEC;
		http_run_all(s);
	}
}

void http_notify(struct http_server *s)
{
	if (!s)
		return;
	http_sse_wake(s, false);
	/* Push at once rather than at the next loop turn. */
	http_run_all(s);
}

size_t http_sse_clients(const struct http_server *s)
{
	return s ? s->nsse : 0;
}

size_t http_sse_listening(struct http_server *s)
{
	uint64_t last;

	if (!s)
		return 0;
	if (!s->nsse)
		return s->listened_mono && time_mono() - s->listened_mono < HTTP_SSE_RESUME_GRACE ? 1 : 0;
	/* Recount every 64 events (and when streams come or go): O(streams), not per event. */
	last = s->ctx->events ? events_last_id(s->ctx->events) : 0;
	if (s->listening_nsse != s->nsse || last < s->listening_id || last - s->listening_id >= 64) {
		s->listening = http_sse_count_listening(s);
		s->listening_id = last;
		s->listening_nsse = s->nsse;
	}
	if (s->listening)
		s->listened_mono = time_mono();
	return s->listening;
}

/* --- Requests ----------------------------------------------------------- */

/*
 * Every route, first match wins. The method test (405 with Allow), the
 * "ok": false of POST error bodies and the page's access rules read the
 * matched row; a POST route's body is read before its handler runs.
 */
static const struct http_route http_routes[] = {
	{"/flows", false, HTTP_M_GET | HTTP_M_HEAD, HTTP_AUTH_API, http_api_flows},
	{"/flows/", true, HTTP_M_GET | HTTP_M_HEAD, HTTP_AUTH_API, http_api_flow},
	{"/events", false, HTTP_M_GET | HTTP_M_HEAD, HTTP_AUTH_API, http_sse_start},
	{"/api/stats", false, HTTP_M_GET | HTTP_M_HEAD, HTTP_AUTH_API, http_api_stats},
	{"/api/trust", false, HTTP_M_POST, HTTP_AUTH_API, http_api_trust},
	{"/api/trust/undo", false, HTTP_M_POST, HTTP_AUTH_API, http_api_trust_undo},
	{"/api/history", false, HTTP_M_GET | HTTP_M_HEAD, HTTP_AUTH_API, http_api_history},
	{"/api/history/summary", false, HTTP_M_GET | HTTP_M_HEAD, HTTP_AUTH_API, http_api_history_summary},
	{"/api/forget", false, HTTP_M_POST, HTTP_AUTH_API, http_api_forget},
	{"/api", false, HTTP_M_GET | HTTP_M_HEAD, HTTP_AUTH_API, http_api_unknown},
	{"/api/", true, HTTP_M_GET | HTTP_M_HEAD, HTTP_AUTH_API, http_api_unknown},
	{NULL, true, HTTP_M_GET | HTTP_M_HEAD, HTTP_AUTH_PAGE, http_static},
};

/* The route of a (decoded) path: the first row that matches (the last matches every path). */
static const struct http_route *http_route_of(const char *url)
{
	for (size_t i = 0; i < NG_ARRAY_LEN(http_routes); i++) {
		const struct http_route *r = &http_routes[i];

		if (!r->path || (r->prefix ? strncmp(url, r->path, strlen(r->path)) == 0 : strcmp(url, r->path) == 0))
			return r;
	}
	return &http_routes[NG_ARRAY_LEN(http_routes) - 1];
}

/* True when the media type of a Content-Type value is application/json (parameters allowed). */
static bool http_is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	if (!ct || strncasecmp(ct, "application/json", n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* Checks every request gets: target length, %00, access control, method. 1 to go on, 0 when a response is queued. */
static int http_check(struct http_conn *c, const char *url, const char *method, enum MHD_Result *ret)
{
	if (c->urilen > HTTP_MAX_URI) {
		*ret = http_error(c, 414, "the request target is %zu bytes long; the limit is %d", c->urilen,
				  HTTP_MAX_URI);
		return 0;
	}
	if (strcasestr(c->uri, "%00")) {
		*ret = http_error(c, 400, "the URL holds an encoded NUL byte (%%00)");
		return 0;
	}
	if (!http_auth_request(c, url, method, ret))
		return 0;
	if (!(c->route->methods & http_method_bit(method))) {
		*ret = http_not_allowed(c, method);
		return 0;
	}
	return 1;
}

/*
 * The first call for a POST: the headers are in, the body is not. Refuse
 * now what will be refused anyway (before reading a byte of the body),
 * else get ready to collect it.
 */
static enum MHD_Result http_post_begin(struct http_conn *c, const char *url, const char *method)
{
	static const char *const no_args[] = {NULL};
	enum MHD_Result ret;
	const char *cl;
	uint64_t n;

	if (!http_check(c, url, method, &ret))
		return ret;
	if (!http_auth_origin(c, &ret))
		return ret;
	if (!http_is_json_type(http_header(c, "Content-Type")))
		return http_error(c, 415, "send the body as Content-Type: application/json");
	cl = http_header(c, "Content-Length");
	if (cl && parse_uint(cl, 0, HTTP_MAX_BODY, &n) != 0)
		return http_error(c, 413, "the body may be at most %d bytes", HTTP_MAX_BODY);
	if (!http_api_check_args(c, no_args, &ret))
		return ret;
	c->body = xmalloc(HTTP_MAX_BODY + 1);
	c->bodylen = 0;
	c->deadline = time_mono() + HTTP_HEADER_TIMEOUT;
	return MHD_YES;
}

/* True when the request announces a body (a Content-Length above 0, or any Transfer-Encoding). */
static bool http_has_body(struct http_conn *c)
{
	const char *cl = http_header(c, "Content-Length");

	return http_header(c, "Transfer-Encoding") || (cl && strspn(cl, "0") != strlen(cl));
}

/*
 * The first call of every request: the headers are in, a body is not. A
 * request that will be refused is answered now, before a byte of its body
 * is read, and its connection closed (MHD then reads no further); a POST is
 * made ready to collect its body; any other request is answered at the
 * last call (keep-alive needs that, see http_access_cb).
 */
static enum MHD_Result http_begin(struct http_conn *c, const char *url, const char *method, const char *version)
{
	enum MHD_Result ret;

	if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 && !http_header(c, "Host")) {
		/* RFC 9112 3.2: an HTTP/1.1 request without Host is malformed. */
		c->close_after = true;
		return http_error(c, 400, "an HTTP/1.1 request needs a Host header");
	}
	if (http_header(c, "Transfer-Encoding") && http_header(c, "Content-Length")) {
		/* RFC 9112 6.3: such a message may be an attempt at request smuggling; close after answering. */
		c->close_after = true;
		return http_error(c, 400, "a request may carry Content-Length or Transfer-Encoding, not both");
	}
	if (http_method_bit(method) == HTTP_M_POST) {
		c->close_after = true;	/* until the POST is accepted */
		ret = http_post_begin(c, url, method);
		if (c->body)
			c->close_after = false;
		return ret;
	}
	if (!http_has_body(c))
		return MHD_YES;
	c->close_after = true;
	if (!http_check(c, url, method, &ret))
		return ret;
	return http_error(c, 400, "a %.10s request takes no body", method);
}

/* A request without a body to read (or a refused one): all of it is in; answer it. */
static enum MHD_Result http_answer(struct http_conn *c, const char *url, const char *method)
{
	enum MHD_Result ret;

	if (!http_check(c, url, method, &ret))
		return ret;
	return c->route->handler(c, url);
}

/*
 * MHD's access handler: called once when the headers are in, then for each
 * piece of a body, then once more with nothing. Answers wait for that last
 * call: libmicrohttpd 0.9.75 closes the connection after a response queued
 * at the first call (it cannot yet know the request has no body), which
 * would cost keep-alive. Only a POST is judged at the first call, so that a
 * refused one is never read.
 */
static enum MHD_Result http_access_cb(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
				      const char *version, const char *upload_data, size_t *upload_data_size,
				      void **con_cls)
{
	struct http_listener *l = cls;
	struct http_conn *c = *con_cls;

	if (!c) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

		c = ci ? ci->socket_context : NULL;
		if (!c)
			return MHD_NO;
		*con_cls = c;
		c->urilen = strlen(url);
		snprintf(c->uri, sizeof c->uri, "%s", url);
	}
	if (!c->in_request) {
		c->in_request = true;
		c->deadline = time_mono() + HTTP_HEADER_TIMEOUT;
		c->route = http_route_of(url);
		l->srv->requests++;
		return http_begin(c, url, method, version);
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		if (!c->body)
			;	/* not an accepted POST (refused ones are answered at their headers): dropped */
		else if (c->bodylen + n > HTTP_MAX_BODY) {
			/* A chunked body past the limit: answer now and close rather than read the rest. */
			char msg[64];

			c->body_over = true;
			c->close_after = true;
			c->deadline = 0;
			*upload_data_size = 0;
			snprintf(msg, sizeof msg, "the body may be at most %d bytes", HTTP_MAX_BODY);
			return http_error_abort(c, 413, "Content Too Large", msg);
		} else {
			memcpy(c->body + c->bodylen, upload_data, n);
			c->bodylen += n;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	c->deadline = 0;
	if (c->body_over)
		return http_error(c, 413, "the body may be at most %d bytes", HTTP_MAX_BODY);
	if (!c->body)
		return http_answer(c, url, method);
	c->body[c->bodylen] = '\0';
	return c->route->handler(c, url);
}
