/* SPDX-License-Identifier: BSD-2-Clause */
/* http_resp.c: what every HTTP handler uses: responses with the common headers, JSON errors, query checks. */
#include "http_resp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"

unsigned http_method_bit(const char *method)
{
	if (strcmp(method, "GET") == 0)
		return HTTP_M_GET;
	if (strcmp(method, "HEAD") == 0)
		return HTTP_M_HEAD;
	if (strcmp(method, "POST") == 0)
		return HTTP_M_POST;
	return 0;
}

const char *http_header(struct http_conn *c, const char *name)
{
	return MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND, name);
}

void http_common_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
				"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
				"form-action 'self'; frame-ancestors 'none'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
}

enum MHD_Result http_queue(struct http_conn *c, unsigned status, struct MHD_Response *r)
{
	enum MHD_Result ret;

	http_common_headers(r);
	if (c->clear_cookie)
		MHD_add_response_header(r, "Set-Cookie", "netglobe_token=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
	if (c->close_after)
		MHD_add_response_header(r, "Connection", "close");
	switch (status) {
	case 400:
	case 401:
	case 403:
	case 405:
	case 413:
	case 414:
	case 415:
	case 429:
	case 503:
		c->srv->rejected++;
		break;
	default:
		break;
	}
	ret = MHD_queue_response(c->mc, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A response body we own, freed (and taken off the in-flight count) when MHD is done with it. */
struct http_outbuf {
	struct http_server *srv;
	char *data;
	size_t len;
};

/* MHD is done with a body: free it and take it off the in-flight count. */
static void http_outbuf_free_cb(void *cls)
{
	struct http_outbuf *o = cls;

	o->srv->inflight -= o->len;
	free(o->data);
	free(o);
}

enum MHD_Result http_send(struct http_conn *c, unsigned status, const char *content_type, char *body, size_t len,
			  bool api)
{
	struct http_server *s = c->srv;
	struct http_outbuf *o;
	struct MHD_Response *r;

	if (s->inflight + len > HTTP_MAX_INFLIGHT && len > 4096) {
		free(body);
		return http_error(c, 503, "the server holds too many unsent responses; try again shortly");
	}
	o = xmalloc(sizeof *o);
	o->srv = s;
	o->data = body;
	o->len = len;
	r = MHD_create_response_from_buffer_with_free_callback_cls(len, body, http_outbuf_free_cb, o);
	if (!r) {
		free(body);
		free(o);
		return MHD_NO;
	}
	s->inflight += len;
	MHD_add_response_header(r, "Content-Type", content_type ? content_type : "application/json");
	if (api)
		MHD_add_response_header(r, "Cache-Control", "no-store");
	if (status == 503 || status == 429)
		MHD_add_response_header(r, "Retry-After", "5");
	return http_queue(c, status, r);
}

/* Bytes MHD asks for at a time when streaming (its buffer for the response). */
#define HTTP_STREAM_BLOCK (64 * 1024)

/* A streamed body: what the writer made and MHD has not taken yet is sb.p[off, sb.len). */
struct http_stream {
	http_fill_fn fill;
	void (*done)(void *state);
	void *state;
	struct strbuf sb;
	size_t off;
	bool eof;
};

/* MHD wants up to max more bytes: ask the writer for parts until there are enough or no more. */
static ssize_t http_stream_reader_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_stream *st = cls;
	size_t n;

	(void)pos;
	while (st->sb.len - st->off < max && !st->eof) {
		if (st->off > 0) {
			memmove(st->sb.p, st->sb.p + st->off, st->sb.len - st->off);
			st->sb.len -= st->off;
			st->off = 0;
		}
		if (!st->fill(st->state, &st->sb))
			st->eof = true;
	}
	n = NG_MIN(max, st->sb.len - st->off);
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	memcpy(buf, st->sb.p + st->off, n);
	st->off += n;
	return (ssize_t)n;
}

/* MHD is done with a streamed response. */
static void http_stream_free_cb(void *cls)
{
	struct http_stream *st = cls;

	if (st->done)
		st->done(st->state);
	free(st->sb.p);
	free(st);
}

enum MHD_Result http_send_stream(struct http_conn *c, unsigned status, const char *content_type, http_fill_fn fill,
				 void (*done)(void *state), void *state, bool api)
{
	struct http_stream *st = xcalloc(1, sizeof *st);
	struct MHD_Response *r;

	st->fill = fill;
	st->done = done;
	st->state = state;
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, HTTP_STREAM_BLOCK, http_stream_reader_cb, st,
					      http_stream_free_cb);
	if (!r) {
		http_stream_free_cb(st);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", content_type ? content_type : "application/json");
	if (api)
		MHD_add_response_header(r, "Cache-Control", "no-store");
	return http_queue(c, status, r);
}

enum MHD_Result http_json(struct http_conn *c, unsigned status, cJSON *doc)
{
	char *txt = cJSON_PrintUnformatted(doc);

	cJSON_Delete(doc);
	if (!txt)
		return MHD_NO;
	return http_send(c, status, NULL, txt, strlen(txt), true);
}

/* An error document with extra headers (Allow, Retry-After), given as name/value pairs ending in NULL. */
enum MHD_Result http_error_headers(struct http_conn *c, unsigned status, const char *const *headers, const char *msg)
{
	cJSON *doc = cJSON_CreateObject();
	struct MHD_Response *r;
	char *txt;

	if (c->route && (c->route->methods & HTTP_M_POST))
		cJSON_AddFalseToObject(doc, "ok");
	cJSON_AddStringToObject(doc, "error", msg);
	txt = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	r = MHD_create_response_from_buffer(strlen(txt), txt, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(txt);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	for (size_t i = 0; headers && headers[i]; i += 2)
		MHD_add_response_header(r, headers[i], headers[i + 1]);
	return http_queue(c, status, r);
}

enum MHD_Result http_error(struct http_conn *c, unsigned status, const char *fmt, ...)
{
	static const char *const retry[] = {"Retry-After", "5", NULL};
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return http_error_headers(c, status, status == 503 ? retry : NULL, msg);
}

enum MHD_Result http_not_allowed(struct http_conn *c, const char *method)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {{HTTP_M_GET, "GET"}, {HTTP_M_HEAD, "HEAD"}, {HTTP_M_POST, "POST"}};
	char allow[64] = "", msg[200];
	const char *const headers[] = {"Allow", allow, NULL};
	size_t n = 0;

	for (size_t i = 0; i < NG_ARRAY_LEN(names); i++) {
		if (c->route->methods & names[i].bit)
			n += (size_t)snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "", names[i].name);
	}
	snprintf(msg, sizeof msg, "method %.20s is not allowed here (allowed: %s)", method, allow);
	return http_error_headers(c, 405, headers, msg);
}

struct args_check {
	const char *const *known;
	const char *seen[32];
	size_t nseen;
	char err[300];
};

/* Iterator for http_api_check_args. */
static enum MHD_Result args_check_cb(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
				     const char *value, size_t value_size)
{
	struct args_check *a = cls;
	bool known = false;

	(void)kind;
	if (strlen(key) != key_size || (value && strlen(value) != value_size)) {
		snprintf(a->err, sizeof a->err, "parameter '%.40s' holds a NUL byte", key);
		return MHD_NO;
	}
	if (strcmp(key, "token") == 0)	/* the LAN access token, checked by http_auth.c */
		return MHD_YES;
	for (size_t i = 0; a->known[i]; i++)
		known |= strcmp(key, a->known[i]) == 0;
	if (!known) {
		size_t n = 0;

		n += (size_t)snprintf(a->err, sizeof a->err, "unknown parameter '%.40s'", key);
		if (a->known[0]) {
			for (size_t i = 0; a->known[i] && n < sizeof a->err; i++)
				n += (size_t)snprintf(a->err + n, sizeof a->err - n, "%s%s", i ? ", " : " (known: ",
						      a->known[i]);
			if (n < sizeof a->err)
				snprintf(a->err + n, sizeof a->err - n, ")");
		} else {
			snprintf(a->err + n, sizeof a->err - n, " (this endpoint takes none)");
		}
		return MHD_NO;
	}
	for (size_t i = 0; i < a->nseen; i++) {
		if (strcmp(a->seen[i], key) == 0) {
			snprintf(a->err, sizeof a->err, "parameter '%.40s' is given twice (use a comma list)", key);
			return MHD_NO;
		}
	}
	if (a->nseen < NG_ARRAY_LEN(a->seen))
		a->seen[a->nseen++] = key;
	return MHD_YES;
}

int http_api_check_args(struct http_conn *c, const char *const *known, enum MHD_Result *ret)
{
	struct args_check a;

	memset(&a, 0, sizeof a);
	a.known = known;
	MHD_get_connection_values_n(c->mc, MHD_GET_ARGUMENT_KIND, args_check_cb, &a);
	if (a.err[0]) {
		*ret = http_error(c, 400, "%s", a.err);
		return 0;
	}
	return 1;
}


/* Iterator over a response's headers: append "Name: value\r\n" to a buffer. */
static enum MHD_Result raw_header_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	char *buf = cls;
	size_t n = strlen(buf);

	(void)kind;
	snprintf(buf + n, 2048 - n, "%s: %s\r\n", key, value);
	return MHD_YES;
}

enum MHD_Result http_error_abort(struct http_conn *c, unsigned status, const char *reason, const char *msg)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	cJSON *doc = cJSON_CreateObject();
	struct MHD_Response *r;
	char head[2048], *txt;
	size_t hl;

	if (c->route && (c->route->methods & HTTP_M_POST))
		cJSON_AddFalseToObject(doc, "ok");
	cJSON_AddStringToObject(doc, "error", msg);
	txt = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	snprintf(head, sizeof head, "HTTP/1.1 %u %s\r\n", status, reason);
	if (r) {
		http_common_headers(r);
		MHD_get_response_headers(r, raw_header_cb, head);
		MHD_destroy_response(r);
	}
	hl = strlen(head);
	snprintf(head + hl, sizeof head - hl,
		 "Content-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\n"
		 "Content-Length: %zu\r\n\r\n", strlen(txt));
	if (ci) {
		(void)!send(ci->connect_fd, head, strlen(head), MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)!send(ci->connect_fd, txt, strlen(txt), MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	free(txt);
	c->srv->rejected++;
	return MHD_NO;
}
