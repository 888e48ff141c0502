/* SPDX-License-Identifier: BSD-2-Clause */
/* names.c: server names from the first bytes of a TCP stream: TLS ClientHello SNI and HTTP/1.x Host. */
#include "names.h"

#include <stdbool.h>
#include <string.h>

#include "util.h"

/*
 * DESIGN
 *
 * Both parsers see only the first bytes of the client's stream, possibly
 * fewer than the message needs (the rest is in a later segment, or the
 * capture cut the packet). They read every byte through explicit bounds:
 * a length field may say a structure goes on; whether those bytes are here
 * is a separate question. So each parser keeps two limits: the end the
 * message declares, and the end of what we were given. Running past the
 * declared end is NAMES_MALFORMED; running past what was given is
 * NAMES_NEED_MORE. A name complete within the bytes given is returned at
 * once, even if the message goes on, so a ClientHello cut by the snap length
 * still yields its name when the server_name extension was captured.
 *
 * TLS: a ClientHello is one handshake message (RFC 8446 4), normally in one
 * record of at most 2^14 bytes (5.1). When it spans several records, their
 * fragments are joined into a stack buffer; the stream bytes asked for never
 * exceed NAMES_TLS_STREAM_MAX, so a caller can gather into a fixed buffer,
 * and no byte past that is read. The invariant the fuzzers check: a prefix
 * of a stream answers NAMES_NEED_MORE or exactly what the whole stream does.
 *
 * Names: a returned name is lower-case LDH (RFC 1123 2.1) plus '_' (seen in
 * the wild), labels of 1..63 bytes, at most 253 characters, without a
 * trailing dot. IP literals (an all-digit last label, or an IPv6 literal in
 * brackets) give NAMES_NONE: the address says as much as they do.
 */

#define TLS_RECORD_HDR 5
#define TLS_RECORD_MAX 16384	/* RFC 8446 5.1: 2^14 bytes of plaintext */
#define TLS_CT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_EXT_SERVER_NAME 0
#define TLS_SNI_HOST_NAME 0
#define HTTP_HEAD_MAX NAMES_HTTP_HEAD_MAX

/* A reader over a message that declares `end` bytes of which `have` are here. */
struct rd {
	const uint8_t *p;
	size_t pos, end, have;
};

static enum names_result names_host_check(const uint8_t *s, size_t n, char *out, size_t outlen);
static enum names_result tls_hello_parse(struct rd *r, char *out, size_t outlen);
static enum names_result http_target_name(const uint8_t *t, size_t n, bool connect, bool *has_authority, char *out,
    size_t outlen);

/* Check that `n` more bytes are within the declared end and available; NAMES_FOUND means yes. */
static enum names_result rd_need(const struct rd *r, size_t n)
{
	if (r->pos > r->end || n > r->end - r->pos)
		return NAMES_MALFORMED;
	if (r->pos > r->have || n > r->have - r->pos)
		return NAMES_NEED_MORE;	/* a skipped field may have taken pos past what we have */
	return NAMES_FOUND;
}

/*
 * Validate a host name of n bytes and write it lower-case without a trailing
 * dot. NAMES_FOUND, NAMES_NONE for an IP literal (or an out buffer too small
 * for a valid name), NAMES_MALFORMED for anything else that is not a name.
 */
static enum names_result names_host_check(const uint8_t *s, size_t n, char *out, size_t outlen)
{
	size_t label = 0;
	bool numeric = true;	/* is the current label all digits? */

	if (n > 0 && s[n - 1] == '.')
		n--;	/* an absolute name: same host */
	if (n == 0 || n > 253)
		return NAMES_MALFORMED;
	if (outlen < n + 1)
		return NAMES_NONE;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		if (c == '.') {
			if (label == 0)
				return NAMES_MALFORMED;
			label = 0;
			numeric = true;
		} else if ((c >= 'a' && c <= 'z') || c == '-' || c == '_') {
			if (++label > 63)
				return NAMES_MALFORMED;
			numeric = false;
		} else if (c >= '0' && c <= '9') {
			if (++label > 63)
				return NAMES_MALFORMED;
		} else {
			return NAMES_MALFORMED;
		}
		out[i] = (char)c;
	}
	if (label == 0)
		return NAMES_MALFORMED;	/* ended in ".." */
	out[n] = '\0';
	if (numeric)		/* "192.0.2.1", "3221225985": an address, not a name */
		return NAMES_NONE;
	return NAMES_FOUND;
}

/*
 * Walk a ClientHello body (RFC 8446 4.1.2) to its server_name extension
 * (RFC 6066 3) and return the first host_name in it.
 */
static enum names_result tls_hello_parse(struct rd *r, char *out, size_t outlen)
{
	const uint8_t *p = r->p;
	enum names_result e;
	size_t n, ext_end;

	/* legacy_version (2), random (32), legacy_session_id (1 + up to 32) */
	if ((e = rd_need(r, 2 + 32 + 1)) != NAMES_FOUND)
		return e;
	if (p[r->pos] != 3)
		return NAMES_MALFORMED;
	r->pos += 34;
	n = p[r->pos++];
	if (n > 32)
		return NAMES_MALFORMED;
	if ((e = rd_need(r, n + 2)) != NAMES_FOUND)
		return e;
	r->pos += n;
	/* cipher_suites (2 + 2..2^16-2, even) */
	n = ng_rd16(p + r->pos);
	r->pos += 2;
	if (n < 2 || n % 2 != 0)
		return NAMES_MALFORMED;
	if ((e = rd_need(r, n + 1)) != NAMES_FOUND)
		return e;
	r->pos += n;
	/* legacy_compression_methods (1 + 1..255) */
	n = p[r->pos++];
	if (n < 1)
		return NAMES_MALFORMED;
	if ((e = rd_need(r, n)) != NAMES_FOUND)
		return e;
	r->pos += n;
	if (r->pos == r->end)
		return NAMES_NONE;	/* no extensions at all (SSL 3.0 style) */
	if ((e = rd_need(r, 2)) != NAMES_FOUND)
		return e;
	n = ng_rd16(p + r->pos);
	r->pos += 2;
	if (n > r->end - r->pos)
		return NAMES_MALFORMED;
	ext_end = r->pos + n;
	while (r->pos < ext_end) {
		size_t type, elen;

		if (ext_end - r->pos < 4)
			return NAMES_MALFORMED;
		if ((e = rd_need(r, 4)) != NAMES_FOUND)
			return e;
		type = ng_rd16(p + r->pos);
		elen = ng_rd16(p + r->pos + 2);
		r->pos += 4;
		if (elen > ext_end - r->pos)
			return NAMES_MALFORMED;
		if (type == TLS_EXT_SERVER_NAME) {
			size_t list_end;

			/* ServerNameList: 2-byte length, then entries of type (1), length (2), name. */
			if (elen < 2)
				return NAMES_MALFORMED;
			if ((e = rd_need(r, 2)) != NAMES_FOUND)
				return e;
			if (ng_rd16(p + r->pos) != elen - 2)
				return NAMES_MALFORMED;
			list_end = r->pos + elen;
			r->pos += 2;
			while (r->pos < list_end) {
				size_t ntype, nlen;

				if (list_end - r->pos < 3)
					return NAMES_MALFORMED;
				if ((e = rd_need(r, 3)) != NAMES_FOUND)
					return e;
				ntype = p[r->pos];
				nlen = ng_rd16(p + r->pos + 1);
				r->pos += 3;
				if (nlen > list_end - r->pos)
					return NAMES_MALFORMED;
				if (ntype == TLS_SNI_HOST_NAME) {
					if ((e = rd_need(r, nlen)) != NAMES_FOUND)
						return e;
					return names_host_check(p + r->pos, nlen, out, outlen);
				}
				r->pos += nlen;
			}
			return NAMES_NONE;
		}
		r->pos += elen;	/* skipping needs no bytes; the next read checks */
	}
	return NAMES_NONE;
}

/* True when the 3 bytes at p start a TLS handshake record (RFC 8446 5.1, versions 0x0301..0x0304). */
static bool tls_record_ok(const uint8_t *p)
{
	return p[0] == TLS_CT_HANDSHAKE && p[1] == 3 && p[2] >= 1 && p[2] <= 4;
}

/*
 * Where a caller should gather to next: the end of a record cut short, or past
 * the next record header, but never beyond NAMES_TLS_STREAM_MAX; with that
 * much in hand and still short, there is no name to be had.
 */
static enum names_result tls_want(size_t off, size_t len, size_t *need)
{
	size_t want = off > len ? off : off + TLS_RECORD_HDR;

	if (len >= NAMES_TLS_STREAM_MAX)
		return NAMES_NONE;
	if (need)
		*need = NG_MIN(want, (size_t)NAMES_TLS_STREAM_MAX);
	return NAMES_NEED_MORE;
}

enum names_result tls_sni_parse(const uint8_t *p, size_t len, char *out, size_t outlen, size_t *need)
{
	static const uint8_t hdr[3] = {TLS_CT_HANDSHAKE, 3, 1};
	uint8_t joined[TLS_RECORD_MAX];
	struct rd r;
	size_t reclen, hslen = 0, avail, off, have;
	enum names_result e;
	bool complete, bad = false;

	if (need)
		*need = 0;
	len = NG_MIN(len, (size_t)NAMES_TLS_STREAM_MAX);	/* what a caller may gather, so answers do not depend on more */
	if (len < TLS_RECORD_HDR) {
		/* Too short to tell: does what is here look like the start of a handshake record? */
		for (size_t i = 0; i < len && i < 3; i++) {
			if (i < 2 ? p[i] != hdr[i] : (p[i] < 1 || p[i] > 4))
				return NAMES_NONE;
		}
		if (need)
			*need = TLS_RECORD_HDR;
		return NAMES_NEED_MORE;
	}
	if (!tls_record_ok(p))
		return NAMES_NONE;
	reclen = ng_rd16(p + 3);
	if (reclen == 0 || reclen > TLS_RECORD_MAX)
		return NAMES_MALFORMED;	/* RFC 8446 5.1 forbids both for handshake records */
	avail = NG_MIN(len - TLS_RECORD_HDR, reclen);
	if (avail >= 1 && p[TLS_RECORD_HDR] != TLS_HS_CLIENT_HELLO)
		return NAMES_NONE;	/* a ServerHello, or a stream that is not a client's */
	if (avail >= 4 && (hslen = (size_t)p[6] << 16 | ng_rd16(p + 7)) + 4 <= reclen) {
		/* The common case: the whole ClientHello sits in the first record. */
		r.p = p + TLS_RECORD_HDR + 4;
		r.pos = 0;
		r.end = hslen;
		r.have = NG_MIN(avail - 4, hslen);
		e = tls_hello_parse(&r, out, outlen);
		if (e == NAMES_NEED_MORE && need)
			*need = TLS_RECORD_HDR + reclen;
		return e;
	}
	/*
	 * The ClientHello (or even its 4-byte header) spans records, as RFC 8446
	 * 5.1 allows: join the fragments. A bad record header only matters if
	 * the name lies beyond it, so a prefix of a stream never answers
	 * differently from the whole stream.
	 */
	off = 0;
	have = 0;
	for (;;) {
		size_t chunk = NG_MIN(len - off - TLS_RECORD_HDR, reclen);
		size_t take = NG_MIN(chunk, sizeof joined - have);

		memcpy(joined + have, p + off + TLS_RECORD_HDR, take);
		have += take;
		complete = chunk == reclen;
		off += TLS_RECORD_HDR + reclen;
		if (have >= 4) {
			hslen = (size_t)joined[1] << 16 | ng_rd16(joined + 2);
			if (hslen + 4 > sizeof joined)
				return NAMES_NONE;	/* bigger than we gather: no name from it */
			if (have >= hslen + 4)
				break;
		}
		if (!complete || off >= len)
			break;
		if (len - off < TLS_RECORD_HDR) {
			bad = memcmp(p + off, hdr, NG_MIN(len - off, 2)) != 0;
			break;
		}
		reclen = ng_rd16(p + off + 3);
		if (!tls_record_ok(p + off) || reclen == 0 || reclen > TLS_RECORD_MAX) {
			bad = true;	/* another content type in the middle of a handshake */
			break;
		}
	}
	if (have < 4)
		return bad ? NAMES_MALFORMED : tls_want(off, len, need);
	r.p = joined + 4;
	r.pos = 0;
	r.end = hslen;
	r.have = NG_MIN(have - 4, hslen);
	e = tls_hello_parse(&r, out, outlen);
	if (e == NAMES_NEED_MORE)
		return bad ? NAMES_MALFORMED : tls_want(off, len, need);
	return e;
}

/* Case-insensitive compare of n bytes against a lower-case ASCII string. */
static bool names_ieq(const uint8_t *s, const char *lower, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		if (c != (uint8_t)lower[i])
			return false;
	}
	return true;
}

/*
 * Name from a host[:port] authority (RFC 3986 3.2.2, 3.2.3): an IPv6 literal
 * is NAMES_NONE, a port must be digits.
 */
static enum names_result names_authority(const uint8_t *s, size_t n, char *out, size_t outlen)
{
	size_t h;

	if (n > 0 && s[0] == '[')
		return NAMES_NONE;
	for (h = 0; h < n && s[h] != ':'; h++)
		;
	for (size_t i = h + 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return NAMES_MALFORMED;
	}
	if (h == 0)
		return NAMES_NONE;
	return names_host_check(s, h, out, outlen);
}

/*
 * Name from the request target when it carries one: CONNECT's authority-form
 * (RFC 9112 3.2.3) or an absolute-form URI (3.2.2, which overrides Host);
 * *has_authority says whether it had one. NAMES_NONE for origin-form and
 * asterisk-form.
 */
static enum names_result http_target_name(const uint8_t *t, size_t n, bool connect, bool *has_authority, char *out,
    size_t outlen)
{
	size_t a, e, at;

	*has_authority = connect;
	if (connect)
		return names_authority(t, n, out, outlen);
	for (a = 0; a < n && t[a] != ':' && t[a] != '/'; a++)
		;
	if (a == 0 || n - a < 3 || memcmp(t + a, "://", 3) != 0)
		return NAMES_NONE;
	*has_authority = true;
	a += 3;
	for (e = a; e < n && t[e] != '/' && t[e] != '?' && t[e] != '#'; e++)
		;
	for (at = e; at > a && t[at - 1] != '@'; at--)
		;
	if (at > a)
		a = at;	/* drop deprecated userinfo (RFC 9110 4.2.4) */
	return names_authority(t + a, e - a, out, outlen);
}

enum names_result http_host_parse(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	static const struct {
		const char *s;
		size_t len;
	} methods[] = {{"GET", 3}, {"POST", 4}, {"HEAD", 4}, {"PUT", 3}, {"DELETE", 6}, {"OPTIONS", 7},
		       {"PATCH", 5}, {"CONNECT", 7}, {"TRACE", 5}};
	static const char version[] = "HTTP/1.";
	size_t n = NG_MIN(len, (size_t)HTTP_HEAD_MAX), pos, m, t0, t1, v;
	enum names_result more = len >= HTTP_HEAD_MAX ? NAMES_NONE : NAMES_NEED_MORE;
	bool connect = false, known = false, authority;
	enum names_result e;

	/* Method (RFC 9110 9: case-sensitive) and one space. */
	for (m = 0; m < n && p[m] != ' '; m++) {
		if (m >= 7)
			return NAMES_NONE;
	}
	for (size_t i = 0; i < NG_ARRAY_LEN(methods) && !known; i++) {
		size_t ml = methods[i].len;

		if ((m == n ? m <= ml : m == ml) && memcmp(p, methods[i].s, m) == 0) {
			known = true;
			connect = ml == 7 && methods[i].s[0] == 'C';
		}
	}
	if (!known)
		return NAMES_NONE;
	if (m == n)
		return more;
	/* Request target: visible characters up to the next space. */
	t0 = m + 1;
	for (t1 = t0; t1 < n && p[t1] != ' '; t1++) {
		if (p[t1] <= 0x20 || p[t1] >= 0x7f)
			return NAMES_NONE;
	}
	if (t1 == n)
		return more;
	if (t1 == t0)
		return NAMES_NONE;
	/* "HTTP/1.x" then CRLF (a bare LF is accepted, RFC 9112 2.2). */
	v = t1 + 1;
	for (size_t i = 0; i < sizeof version - 1; i++) {
		if (v + i >= n)
			return more;
		if (p[v + i] != (uint8_t)version[i])
			return NAMES_NONE;
	}
	pos = v + sizeof version - 1;
	if (pos >= n)
		return more;
	if (p[pos] < '0' || p[pos] > '9')
		return NAMES_NONE;
	pos++;
	if (pos < n && p[pos] == '\r')
		pos++;
	if (pos >= n)
		return more;
	if (p[pos] != '\n')
		return NAMES_NONE;
	pos++;
	e = http_target_name(p + t0, t1 - t0, connect, &authority, out, outlen);
	if (authority)
		return e;
	/* Header fields (RFC 9112 5) until the empty line; the first Host wins. */
	while (pos < n) {
		size_t eol, end, vs, ve;

		const uint8_t *nl = memchr(p + pos, '\n', n - pos);

		if (nl == NULL)
			return more;
		eol = (size_t)(nl - p);
		end = eol > pos && p[eol - 1] == '\r' ? eol - 1 : eol;
		if (end == pos)
			return NAMES_NONE;	/* end of the head and no Host (HTTP/1.0) */
		if (end - pos >= 5 && names_ieq(p + pos, "host:", 5)) {
			for (vs = pos + 5; vs < end && (p[vs] == ' ' || p[vs] == '\t'); vs++)
				;
			for (ve = end; ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'); ve--)
				;
			if (ve == vs)
				return NAMES_NONE;	/* empty Host: a URI without authority */
			return names_authority(p + vs, ve - vs, out, outlen);
		}
		pos = eol + 1;
	}
	return more;
}
