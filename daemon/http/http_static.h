/* SPDX-License-Identifier: BSD-2-Clause */
/* http_static.h: the page: embedded files, or --web-root from disk. */
#ifndef NG_HTTP_STATIC_H
#define NG_HTTP_STATIC_H

#include "http_resp.h"

/* GET a file of the page (every path no other route takes). */
enum MHD_Result http_static(struct http_conn *c, const char *url);

#endif
