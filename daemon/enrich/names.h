/* SPDX-License-Identifier: BSD-2-Clause */
/* names.h: server names from the first bytes of a connection: TLS SNI and the HTTP Host header. */
#ifndef NG_NAMES_H
#define NG_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* Longest DNS name plus NUL. */
#define NG_NAME_MAX 256

/* tls_sni_parse never asks for more stream bytes than this (one full record). */
#define NAMES_TLS_STREAM_MAX (16384 + 5)
/* http_host_parse reads at most this much of a request head. */
#define NAMES_HTTP_HEAD_MAX 8192

enum names_result {
	NAMES_NONE = 0,		/* not this protocol, or no name in it */
	NAMES_FOUND = 1,	/* name written, lower-case, validated as a host name */
	NAMES_NEED_MORE = 2,	/* looks right but is cut short: call again with more bytes */
	NAMES_MALFORMED = -1,
};

/*
 * Parse a TLS ClientHello (RFC 8446 4.1.2, RFC 6066 3 server_name) starting at
 * the first byte of the client's stream. When it returns NAMES_NEED_MORE,
 * *need (if not NULL) is the total stream bytes the record needs (at most
 * a few KiB, never over NAMES_TLS_STREAM_MAX), so a caller can gather a
 * ClientHello split over segments. A name already inside the bytes given is
 * returned even when the record is not complete (a capture cut short).
 * IP literals give NAMES_NONE. out holds NG_NAME_MAX bytes. docs/names.md
 * says what each parser accepts.
 */
enum names_result tls_sni_parse(const uint8_t *p, size_t len, char *out, size_t outlen, size_t *need);

/*
 * Parse an HTTP/1.x request head (RFC 9112 3.2) for its Host header (port
 * removed); CONNECT's authority and an absolute-form target win over Host.
 * NAMES_NEED_MORE until the Host line (or the head) is complete, at most
 * NAMES_HTTP_HEAD_MAX bytes; past that NAMES_NONE. out holds NG_NAME_MAX.
 */
enum names_result http_host_parse(const uint8_t *p, size_t len, char *out, size_t outlen);

#endif
