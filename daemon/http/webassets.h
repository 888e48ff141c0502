/* SPDX-License-Identifier: BSD-2-Clause */
/* webassets.h: the web page's files, compiled into the binary by daemon/http/embed.sh. */
#ifndef NG_WEBASSETS_H
#define NG_WEBASSETS_H

#include <stddef.h>

/* One embedded file; `gz` is its gzip form (NULL when gzip would not be smaller). */
struct web_asset {
	const char *path;		/* URL path, "/index.html" */
	const char *content_type;
	const unsigned char *data;
	size_t len;
	const unsigned char *gz;
	size_t gzlen;
	const char *etag;		/* quoted strong ETag from the content hash */
};

/* The fixed table of files; serving looks names up here only, so no path can escape it. */
extern const struct web_asset web_assets[];
extern const size_t web_assets_count;

#endif
