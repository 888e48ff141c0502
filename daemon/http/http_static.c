/* SPDX-License-Identifier: BSD-2-Clause */
/* http_static.c: the web page: the files compiled into the binary, or --web-root DIR while developing. */
#include <errno.h>
#include "platform.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_static.h"
#include "log.h"
#include "webassets.h"

/*
 * DESIGN
 *
 * The embedded page is a fixed table (webassets.h) looked up by exact path:
 * there is no file system behind it, so no path can escape it, whatever
 * the encoding. Each file has a strong ETag from its content hash; the gzip
 * copy gets its own ("...-gz"), since it is a different representation
 * (RFC 9110 8.8.3), and every answer says Vary: Accept-Encoding. Files are
 * revalidated on each load (Cache-Control: no-cache) because their names
 * carry no hash; a 304 costs one round trip and no body.
 *
 * --web-root serves a development copy from disk. There the path is
 * refused outright when any segment is "." or ".." or it holds a
 * backslash, and the file's realpath must lie inside the root's realpath
 * (symbolic links pointing out are refused too).
 */

#define STATIC_MAX_FILE (64u << 20)

/* Content type by file name, as daemon/http/embed.sh assigns them. */
static const char *static_content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
		{".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
		{".json", "application/json"}, {".webmanifest", "application/manifest+json"},
		{".svg", "image/svg+xml"}, {".png", "image/png"}, {".ico", "image/x-icon"},
		{".txt", "text/plain; charset=utf-8"}, {".woff2", "font/woff2"},
	};

	for (size_t i = 0; i < NG_ARRAY_LEN(types); i++) {
		if (str_ends_with(path, types[i].ext))
			return types[i].type;
	}
	return "application/octet-stream";
}

/* True when the client takes gzip (RFC 9110 12.5.3; "gzip;q=0" refuses it). */
static bool static_accepts_gzip(struct http_conn *c)
{
	const char *ae = http_header(c, "Accept-Encoding");
	const char *p;

	if (!ae)
		return false;
	for (p = ae; (p = strcasestr(p, "gzip")); p += 4) {
		const char *q = p + 4;

		if ((p != ae && p[-1] != ',' && p[-1] != ' ') || (*q && *q != ',' && *q != ';' && *q != ' '))
			continue;
		while (*q == ' ')
			q++;
		if (*q == ';') {
			q++;
			while (*q == ' ')
				q++;
			if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=' && atof(q + 2) <= 0.0)
				return false;
		}
		return true;
	}
	return false;
}

/* True when If-None-Match lists etag (or is "*"); weak comparison (RFC 9110 13.1.2). */
static bool static_not_modified(struct http_conn *c, const char *etag)
{
	const char *inm = http_header(c, "If-None-Match");

	if (!inm)
		return false;
	if (strcmp(inm, "*") == 0)
		return true;
	return strstr(inm, etag) != NULL;
}

/* Answer with a static body we do not own, or 304. */
static enum MHD_Result static_answer(struct http_conn *c, const void *data, size_t len, const char *type,
				     const char *etag, bool gz)
{
	struct MHD_Response *r;
	unsigned status = 200;

	if (etag && static_not_modified(c, etag)) {
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		status = 304;
	} else {
		r = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, "Content-Type", type);
		if (gz)
			MHD_add_response_header(r, "Content-Encoding", "gzip");
	}
	if (!r)
		return MHD_NO;
	if (etag)
		MHD_add_response_header(r, "ETag", etag);
	MHD_add_response_header(r, "Vary", "Accept-Encoding");
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	return http_queue(c, status, r);
}

/* The embedded file for a path, or NULL. */
static const struct web_asset *static_find(const char *path)
{
	for (size_t i = 0; i < web_assets_count; i++) {
		if (strcmp(web_assets[i].path, path) == 0)
			return &web_assets[i];
	}
	return NULL;
}

/* Serve from --web-root (development): the file's bytes, read at each request. */
static enum MHD_Result static_from_disk(struct http_conn *c, const char *path)
{
	const char *root = c->srv->web_root;
	char joined[PATH_MAX], *real;
	char etag[64];
	struct stat st;
	size_t rl = strlen(root), len;
	char *data;

	/* No "." or ".." segment, no backslash, no empty segment. */
	for (const char *p = path; *p; ) {
		const char *seg = p + 1, *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);

		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.') || (n == 0 && end))
			return http_error(c, 404, "not found: %.200s", path);
		p = seg + n;
	}
	if (strchr(path, '\\'))
		return http_error(c, 404, "not found: %.200s", path);
	if ((size_t)snprintf(joined, sizeof joined, "%s%s", root, path) >= sizeof joined)
		return http_error(c, 404, "not found: %.200s", path);
	real = realpath(joined, NULL);
	if (!real || strncmp(real, root, rl) != 0 || real[rl] != '/' || stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
		free(real);
		return http_error(c, 404, "not found: %.200s", path);
	}
	snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
		 (unsigned long long)platform_mtime(&st).tv_sec * 1000000000ull + (unsigned long long)platform_mtime(&st).tv_nsec);
	if (static_not_modified(c, etag)) {
		free(real);
		return static_answer(c, NULL, 0, NULL, etag, false);
	}
	data = file_read_all(real, STATIC_MAX_FILE, &len);
	if (!data) {
		log_warn("HTTP: cannot read %s", real);
		free(real);
		return http_error(c, 404, "not found: %.200s", path);
	}
	{
		struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);

		if (!r) {
			free(data);
			free(real);
			return MHD_NO;
		}
		MHD_add_response_header(r, "Content-Type", static_content_type(real));
		MHD_add_response_header(r, "ETag", etag);
		MHD_add_response_header(r, "Cache-Control", "no-cache");
		free(real);
		return http_queue(c, 200, r);
	}
}

enum MHD_Result http_static(struct http_conn *c, const char *url)
{
	const struct web_asset *a;
	char etag[80];
	const char *path = strcmp(url, "/") == 0 ? "/index.html" : url;

	/* Query parameters (cache busters) do not matter here. */
	if (path[0] != '/')
		return http_error(c, 404, "not found: %.200s", url);
	if (c->srv->web_root)
		return static_from_disk(c, path);
	a = static_find(path);
	if (!a)
		return http_error(c, 404, "not found: %.200s", url);
	if (a->gz && static_accepts_gzip(c)) {
		size_t n = strlen(a->etag);

		/* "abc" -> "abc-gz" */
		snprintf(etag, sizeof etag, "%.*s-gz\"", (int)(n > 1 ? n - 1 : 0), a->etag);
		return static_answer(c, a->gz, a->gzlen, a->content_type, etag, true);
	}
	return static_answer(c, a->data, a->len, a->content_type, a->etag, false);
}
