/* SPDX-License-Identifier: BSD-2-Clause */
/* test_names.c: TLS SNI and HTTP Host parsing on real and hand-built requests, cut at every byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "names.h"
#include "util.h"

/* A Chrome ClientHello for f.vimeocdn.com: frame 234 of ndpi-sites.pcapng (tshark -e tcp.payload). */
static const char real_hello_hex[] =
	"1603010200010001fc03036cbd830a3e219d0c199cf20c5c1e567a31c6b10bcd"
	"f4643856289ac8e1fd7a5820bfba02458f56aac66e7b433fd350912ef58b175e"
	"003afdc07f615908464d28e500200a0a130113021303c02bc02fc02cc030cca9"
	"cca8c013c014009c009d002f0035010001934a4a000000000013001100000e66"
	"2e76696d656f63646e2e636f6d00170000ff01000100000a000a00081a1a001d"
	"00170018000b00020100002300000010000e000c02683208687474702f312e31"
	"000500050100000000000d001200100403080404010503080505010806060100"
	"1200000033002b00291a1a000100001d00207f3b9f76f0a4c6ef20dd1e31df69"
	"838a0692d13925f983a5ecb9d5b075b61475002d00020101002b000b0a9a9a03"
	"04030303020301001b00030200024469000500030268321a1a000100001500c5"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"0000000000";

/* Decode hex into buf; returns the length. */
static size_t unhex(const char *h, uint8_t *buf)
{
	size_t n = 0;

	for (; h[0] && h[1]; h += 2) {
		unsigned v;

		sscanf(h, "%2x", &v);
		buf[n++] = (uint8_t)v;
	}
	return n;
}

/* A byte buffer under construction. */
struct buf {
	uint8_t b[40000];
	size_t n;
};

static void put8(struct buf *b, unsigned v)
{
	b->b[b->n++] = (uint8_t)v;
}

static void put16(struct buf *b, size_t v)
{
	put8(b, (unsigned)(v >> 8) & 0xff);
	put8(b, (unsigned)v & 0xff);
}

static void put(struct buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

/* Options for a hand-built ClientHello. */
struct hello {
	const char *sni;	/* NULL: no server_name extension */
	size_t sni_len;		/* 0: strlen(sni) */
	size_t pad_before;	/* bytes of an unknown extension placed before server_name */
	unsigned sid_len;	/* session id length (32 normally) */
	size_t suites_len;	/* cipher suites bytes (even) */
	int no_extensions;
	unsigned name_type;	/* 0 = host_name */
};

/* A ClientHello handshake message (type, 3-byte length, body) per RFC 8446 4.1.2. */
static void build_hs(struct buf *hs, const struct hello *h)
{
	struct buf body = {.n = 0};
	size_t ext_start, ext_len_at;

	put16(&body, 0x0303);
	for (int i = 0; i < 32; i++)
		put8(&body, (unsigned)i);
	put8(&body, h->sid_len);
	for (unsigned i = 0; i < h->sid_len; i++)
		put8(&body, 0xaa);
	put16(&body, h->suites_len);
	for (size_t i = 0; i < h->suites_len; i += 2)
		put16(&body, 0x1301);
	put8(&body, 1);
	put8(&body, 0);
	if (!h->no_extensions) {
		ext_len_at = body.n;
		put16(&body, 0);
		ext_start = body.n;
		put16(&body, 0x0a0a);	/* GREASE, empty */
		put16(&body, 0);
		if (h->pad_before) {
			put16(&body, 0x0033);	/* key_share-sized blob */
			put16(&body, h->pad_before);
			for (size_t i = 0; i < h->pad_before; i++)
				put8(&body, (unsigned)(i * 7));
		}
		if (h->sni) {
			size_t nl = h->sni_len ? h->sni_len : strlen(h->sni);

			put16(&body, 0);	/* server_name */
			put16(&body, nl + 5);
			put16(&body, nl + 3);
			put8(&body, h->name_type);
			put16(&body, nl);
			put(&body, h->sni, nl);
		}
		put16(&body, 0x002b);	/* supported_versions: TLS 1.3 */
		put16(&body, 3);
		put8(&body, 2);
		put16(&body, 0x0304);
		body.b[ext_len_at] = (uint8_t)((body.n - ext_start) >> 8);
		body.b[ext_len_at + 1] = (uint8_t)(body.n - ext_start);
	}
	hs->n = 0;
	put8(hs, 1);
	put8(hs, (unsigned)(body.n >> 16));
	put16(hs, body.n & 0xffff);
	put(hs, body.b, body.n);
}

/* Wrap a handshake message into TLS records of at most `frag` bytes each. */
static void wrap(struct buf *out, const struct buf *hs, size_t frag)
{
	out->n = 0;
	for (size_t off = 0; off < hs->n; off += frag) {
		size_t n = NG_MIN(frag, hs->n - off);

		put8(out, 22);
		put16(out, 0x0301);
		put16(out, n);
		put(out, hs->b + off, n);
	}
}

static struct hello defaults(const char *sni)
{
	struct hello h = {.sni = sni, .sid_len = 32, .suites_len = 32};

	return h;
}

/* tls_sni_parse on a heap copy of exactly len bytes (so ASan sees any overread). */
static enum names_result sni(const uint8_t *p, size_t len, char *out, size_t *need)
{
	uint8_t *copy = test_malloc(len + 1);
	enum names_result r;

	memcpy(copy, p, len);
	r = tls_sni_parse(copy, len, out, NG_NAME_MAX, need);
	test_free(copy);
	return r;
}

static enum names_result host(const char *s, size_t len, char *out)
{
	uint8_t *copy = test_malloc(len + 1);
	enum names_result r;

	memcpy(copy, s, len);
	r = http_host_parse(copy, len, out, NG_NAME_MAX);
	test_free(copy);
	return r;
}

/*
 * Every prefix of a stream holding a ClientHello for `name`: only NEED_MORE (with
 * a need past what was given, within the cap) or FOUND with the right name, and
 * once FOUND, FOUND for every longer prefix.
 */
static void check_sni_prefixes(const uint8_t *p, size_t len, const char *name)
{
	char out[NG_NAME_MAX];
	size_t need;
	int found = 0;

	for (size_t l = 0; l <= len; l++) {
		enum names_result r = sni(p, l, out, &need);

		if (r == NAMES_FOUND) {
			assert_string_equal(out, name);
			found = 1;
			continue;
		}
		assert_false(found);
		if (r != NAMES_NEED_MORE)
			print_error("prefix %zu of %zu: %d\n", l, len, (int)r);
		assert_int_equal(r, NAMES_NEED_MORE);
		assert_true(need > l);
		assert_true(need <= len);
		assert_true(need <= NAMES_TLS_STREAM_MAX);
	}
	assert_true(found);
}

static void test_sni_real_hello(void **state)
{
	uint8_t b[1024];
	size_t n = unhex(real_hello_hex, b), need = 99;
	char out[NG_NAME_MAX];

	(void)state;
	assert_int_equal(n, 517);
	assert_int_equal(tls_sni_parse(b, n, out, sizeof out, &need), NAMES_FOUND);
	assert_string_equal(out, "f.vimeocdn.com");
	assert_int_equal(need, 0);
	/* The record header alone, and the first segment of a hello: need = 5 + record length. */
	assert_int_equal(tls_sni_parse(b, 5, out, sizeof out, &need), NAMES_NEED_MORE);
	assert_int_equal(need, 517);
	assert_int_equal(tls_sni_parse(b, 3, out, sizeof out, &need), NAMES_NEED_MORE);
	assert_int_equal(need, 5);
	check_sni_prefixes(b, n, "f.vimeocdn.com");
}

static void test_sni_built_and_split(void **state)
{
	static struct buf hs, rec;
	struct hello h = defaults("Api.Example.COM.");
	char out[NG_NAME_MAX];
	size_t need;

	(void)state;
	/* A big key share before server_name, as post-quantum hellos have (about 1.8 KiB). */
	h.pad_before = 1250;
	build_hs(&hs, &h);
	wrap(&rec, &hs, 16384);
	assert_int_equal(sni(rec.b, rec.n, out, &need), NAMES_FOUND);
	assert_string_equal(out, "api.example.com");
	check_sni_prefixes(rec.b, rec.n, "api.example.com");
	/* Gathering like a flow would: first segment of 1448 bytes, then up to need. */
	assert_int_equal(sni(rec.b, 1200, out, &need), NAMES_NEED_MORE);
	assert_int_equal(need, rec.n);
	assert_int_equal(sni(rec.b, need, out, &need), NAMES_FOUND);
	/* The same hello fragmented over records of 100, 512 and 1000 bytes (RFC 8446 5.1). */
	for (size_t frag = 100; frag <= 1000; frag = frag * 5 + 12) {
		wrap(&rec, &hs, frag);
		assert_int_equal(sni(rec.b, rec.n, out, &need), NAMES_FOUND);
		assert_string_equal(out, "api.example.com");
		check_sni_prefixes(rec.b, rec.n, "api.example.com");
	}
	/* Records of 1 and 3 bytes: even the 4-byte handshake header is split (a fuzzer find). */
	for (size_t frag = 1; frag <= 3; frag += 2) {
		wrap(&rec, &hs, frag);
		assert_int_equal(sni(rec.b, rec.n, out, &need), NAMES_FOUND);
		assert_string_equal(out, "api.example.com");
		check_sni_prefixes(rec.b, rec.n, "api.example.com");
	}
	wrap(&rec, &hs, 3);
	assert_int_equal(sni(rec.b, 8, out, &need), NAMES_NEED_MORE);
	assert_int_equal(need, 13);
	/* A bad record after the name does not matter; before it, it is malformed. */
	h.pad_before = 0;
	build_hs(&hs, &h);
	assert_true(hs.n > 140 && memcmp(hs.b + 138 - 16, "Api.Example.COM.", 16) == 0);
	wrap(&rec, &hs, 140);
	rec.b[145] = 23;
	assert_int_equal(sni(rec.b, rec.n, out, &need), NAMES_FOUND);
	/* A second record of another content type in the middle of the hello. */
	wrap(&rec, &hs, 100);
	rec.b[105] = 23;
	assert_int_equal(sni(rec.b, rec.n, out, &need), NAMES_MALFORMED);
	/* A hello too big to gather. */
	h.pad_before = 17000;
	build_hs(&hs, &h);
	wrap(&rec, &hs, 16384);
	assert_int_equal(sni(rec.b, rec.n, out, &need), NAMES_NONE);
}

static void test_sni_names(void **state)
{
	static struct buf hs, rec;
	static const struct {
		const char *in;
		enum names_result want;
		const char *out;
	} cases[] = {
		{"example.com", NAMES_FOUND, "example.com"},
		{"_dmarc.Example.com", NAMES_FOUND, "_dmarc.example.com"},
		{"xn--bcher-kva.example", NAMES_FOUND, "xn--bcher-kva.example"},
		{"localhost", NAMES_FOUND, "localhost"},
		{"192.0.2.1", NAMES_NONE, NULL},
		{"3221225985", NAMES_NONE, NULL},
		{"a..b", NAMES_MALFORMED, NULL},
		{".example", NAMES_MALFORMED, NULL},
		{".", NAMES_MALFORMED, NULL},
		{"exa mple.com", NAMES_MALFORMED, NULL},
		{"example.com/x", NAMES_MALFORMED, NULL},
		{"bücher.example", NAMES_MALFORMED, NULL},
		{"", NAMES_MALFORMED, NULL},
	};
	char out[NG_NAME_MAX], longname[300];
	struct hello h;

	(void)state;
	for (size_t i = 0; i < NG_ARRAY_LEN(cases); i++) {
		h = defaults(cases[i].in);
		h.sni_len = strlen(cases[i].in);
		if (h.sni_len == 0)
			h.sni_len = 0, h.sni = "";
		build_hs(&hs, &h);
		wrap(&rec, &hs, 16384);
		assert_int_equal(tls_sni_parse(rec.b, rec.n, out, sizeof out, NULL), cases[i].want);
		if (cases[i].out)
			assert_string_equal(out, cases[i].out);
	}
	/* 253 characters is the longest name; 254 is too long; a 64-byte label is too long. */
	memset(longname, 'a', sizeof longname);
	for (int i = 63; i < 253; i += 64)
		longname[i] = '.';
	longname[253] = '\0';
	h = defaults(longname);
	build_hs(&hs, &h);
	wrap(&rec, &hs, 16384);
	assert_int_equal(tls_sni_parse(rec.b, rec.n, out, sizeof out, NULL), NAMES_FOUND);
	assert_int_equal(tls_sni_parse(rec.b, rec.n, out, 253, NULL), NAMES_NONE);	/* out too small */
	longname[253] = 'a';
	longname[254] = '\0';
	h = defaults(longname);
	build_hs(&hs, &h);
	wrap(&rec, &hs, 16384);
	assert_int_equal(tls_sni_parse(rec.b, rec.n, out, sizeof out, NULL), NAMES_MALFORMED);
	memset(longname, 'a', 64);
	strcpy(longname + 64, ".example");
	h = defaults(longname);
	build_hs(&hs, &h);
	wrap(&rec, &hs, 16384);
	assert_int_equal(tls_sni_parse(rec.b, rec.n, out, sizeof out, NULL), NAMES_MALFORMED);
	/* A name of another type is skipped (none are defined, but the list allows them). */
	h = defaults("other.example");
	h.name_type = 7;
	build_hs(&hs, &h);
	wrap(&rec, &hs, 16384);
	assert_int_equal(tls_sni_parse(rec.b, rec.n, out, sizeof out, NULL), NAMES_NONE);
}

static void test_sni_not_a_hello(void **state)
{
	static struct buf hs, rec;
	struct hello h = defaults(NULL);
	char out[NG_NAME_MAX];
	size_t need = 7;
	uint8_t b[1024];
	size_t n = unhex(real_hello_hex, b);

	(void)state;
	/* No server_name, no extensions at all. */
	build_hs(&hs, &h);
	wrap(&rec, &hs, 16384);
	assert_int_equal(tls_sni_parse(rec.b, rec.n, out, sizeof out, NULL), NAMES_NONE);
	h.no_extensions = 1;
	build_hs(&hs, &h);
	wrap(&rec, &hs, 16384);
	assert_int_equal(tls_sni_parse(rec.b, rec.n, out, sizeof out, NULL), NAMES_NONE);
	/* Application data, a ServerHello, SSL 3.0 record, HTTP, empty. */
	b[0] = 23;
	assert_int_equal(tls_sni_parse(b, n, out, sizeof out, &need), NAMES_NONE);
	assert_int_equal(need, 0);
	b[0] = 22;
	b[5] = 2;
	assert_int_equal(tls_sni_parse(b, n, out, sizeof out, NULL), NAMES_NONE);
	b[5] = 1;
	b[2] = 0;
	assert_int_equal(tls_sni_parse(b, n, out, sizeof out, NULL), NAMES_NONE);
	b[2] = 1;
	assert_int_equal(tls_sni_parse((const uint8_t *)"GET / HTTP/1.1\r\n", 16, out, sizeof out, NULL),
			 NAMES_NONE);
	assert_int_equal(tls_sni_parse(b, 0, out, sizeof out, &need), NAMES_NEED_MORE);
	assert_int_equal(tls_sni_parse((const uint8_t *)"\x16\x03\x07", 3, out, sizeof out, NULL), NAMES_NONE);
	/* Record length 0 or over 2^14. */
	b[3] = 0;
	b[4] = 0;
	assert_int_equal(tls_sni_parse(b, n, out, sizeof out, NULL), NAMES_MALFORMED);
	b[3] = 0x40;
	b[4] = 0x01;
	assert_int_equal(tls_sni_parse(b, n, out, sizeof out, NULL), NAMES_MALFORMED);
}

static void test_sni_malformed_lengths(void **state)
{
	uint8_t b[1024], c[1024];
	size_t n = unhex(real_hello_hex, b);
	char out[NG_NAME_MAX];
	/* Offsets in the real hello: 43 session id length, 76 cipher suites length, 110 compression
	 * count, 112 extensions length, 118 server_name type, 120 its length, 122 list length,
	 * 124 name type, 125 name length. */
	static const struct {
		size_t off;
		uint8_t val;
		enum names_result want;
	} cases[] = {
		{43, 33, NAMES_MALFORMED},	/* session id over 32 */
		{77, 0x21, NAMES_MALFORMED},	/* odd cipher suites length */
		{76, 0, NAMES_MALFORMED},	/* with 77 = 0: no cipher suites; set below */
		{110, 0, NAMES_MALFORMED},	/* no compression method */
		{112, 0xff, NAMES_MALFORMED},	/* extensions longer than the hello */
		{120, 0xff, NAMES_MALFORMED},	/* server_name longer than the extensions */
		{123, 0x20, NAMES_MALFORMED},	/* list length disagrees with the extension */
		{126, 0x20, NAMES_MALFORMED},	/* name longer than the list */
		{127, '/', NAMES_MALFORMED},	/* not a host name */
		{124, 1, NAMES_NONE},		/* not a host_name entry */
		{9, 2, NAMES_MALFORMED},	/* legacy_version 0x0203 */
	};

	(void)state;
	assert_int_equal(b[43], 32);
	assert_int_equal(b[120] << 8 | b[121], 19);
	assert_int_equal(b[127], 'f');
	for (size_t i = 0; i < NG_ARRAY_LEN(cases); i++) {
		memcpy(c, b, n);
		c[cases[i].off] = cases[i].val;
		if (cases[i].off == 76)
			c[77] = 0;
		assert_int_equal(sni(c, n, out, NULL), cases[i].want);
	}
	/* Every single-byte change anywhere: never a crash, and any name found is a valid one. */
	for (size_t off = 0; off < n; off++) {
		for (unsigned v = 0; v < 256; v += 17) {
			enum names_result r;

			memcpy(c, b, n);
			c[off] = (uint8_t)v;
			r = tls_sni_parse(c, n, out, sizeof out, NULL);
			if (r == NAMES_FOUND)
				assert_true(strlen(out) > 0 && strlen(out) <= 253);
		}
	}
}

static void test_http_hosts(void **state)
{
	static const struct {
		const char *req;
		enum names_result want;
		const char *out;
	} cases[] = {
		{"GET / HTTP/1.1\r\nHost: www.Example.com\r\n\r\n", NAMES_FOUND, "www.example.com"},
		{"GET / HTTP/1.1\r\nUser-Agent: x\r\nhOsT:example.com:8080 \t\r\nAccept: */*\r\n\r\n", NAMES_FOUND,
		 "example.com"},
		{"POST /x HTTP/1.0\nHost:   api.example.net.\n\n", NAMES_FOUND, "api.example.net"},
		{"HEAD / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n", NAMES_NONE, NULL},
		{"GET / HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n", NAMES_NONE, NULL},
		{"GET / HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n", NAMES_NONE, NULL},
		{"GET / HTTP/1.1\r\nHost:\r\n\r\n", NAMES_NONE, NULL},
		{"GET / HTTP/1.0\r\nAccept: */*\r\n\r\n", NAMES_NONE, NULL},
		{"GET / HTTP/1.1\r\nHost: exa_mple.com\r\n\r\n", NAMES_FOUND, "exa_mple.com"},
		{"GET / HTTP/1.1\r\nHost: ex%61mple.com\r\n\r\n", NAMES_MALFORMED, NULL},
		{"GET / HTTP/1.1\r\nHost: example.com:80x\r\n\r\n", NAMES_MALFORMED, NULL},
		{"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", NAMES_MALFORMED, NULL},
		{"GET / HTTP/1.1\r\nX-Host: other.example\r\nHost: right.example\r\n\r\n", NAMES_FOUND,
		 "right.example"},
		{"CONNECT Proxy.Example.org:443 HTTP/1.1\r\nHost: ignored.example:443\r\n\r\n", NAMES_FOUND,
		 "proxy.example.org"},
		{"CONNECT [2001:db8::1]:443 HTTP/1.1\r\n\r\n", NAMES_NONE, NULL},
		{"GET http://User@Abs.Example:8080/p?q HTTP/1.1\r\nHost: other.example\r\n\r\n", NAMES_FOUND,
		 "abs.example"},
		{"GET http://192.0.2.1/ HTTP/1.1\r\nHost: other.example\r\n\r\n", NAMES_NONE, NULL},
		{"GET http:/x HTTP/1.1\r\nHost: rel.example\r\n\r\n", NAMES_FOUND, "rel.example"},
		{"OPTIONS * HTTP/1.1\r\nHost: star.example\r\n\r\n", NAMES_FOUND, "star.example"},
		{"DELETE /a HTTP/1.1\r\nHost: d.example\r\n\r\n", NAMES_FOUND, "d.example"},
		{"PATCH /a HTTP/1.1\r\nHost: p.example\r\n\r\n", NAMES_FOUND, "p.example"},
		{"PUT /a HTTP/1.1\r\nHost: u.example\r\n\r\n", NAMES_FOUND, "u.example"},
		{"TRACE /a HTTP/1.1\r\nHost: t.example\r\n\r\n", NAMES_FOUND, "t.example"},
		{"get / HTTP/1.1\r\nHost: example.com\r\n\r\n", NAMES_NONE, NULL},
		{"FETCH / HTTP/1.1\r\nHost: example.com\r\n\r\n", NAMES_NONE, NULL},
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", NAMES_NONE, NULL},
		{"GET / HTTP/2\r\nHost: example.com\r\n\r\n", NAMES_NONE, NULL},
		{"GET / SIP/2.0\r\nHost: example.com\r\n\r\n", NAMES_NONE, NULL},
		{"GET  / HTTP/1.1\r\nHost: example.com\r\n\r\n", NAMES_NONE, NULL},
		{"GET /\x01 HTTP/1.1\r\nHost: example.com\r\n\r\n", NAMES_NONE, NULL},
		{"GET / HTTP/1.1 \r\nHost: example.com\r\n\r\n", NAMES_NONE, NULL},
		{"\x16\x03\x01\x02\x00\x01", NAMES_NONE, NULL},
		{"GET / HTTP/1.1\r\nHost: example.com", NAMES_NEED_MORE, NULL},
		{"GET / HTTP/1.1\r\nAccept: x\r\n", NAMES_NEED_MORE, NULL},
		{"GE", NAMES_NEED_MORE, NULL},
		{"", NAMES_NEED_MORE, NULL},
	};
	char out[NG_NAME_MAX];

	(void)state;
	for (size_t i = 0; i < NG_ARRAY_LEN(cases); i++) {
		enum names_result r = host(cases[i].req, strlen(cases[i].req), out);

		if (r != cases[i].want)
			print_error("case %zu: %s\n", i, cases[i].req);
		assert_int_equal(r, cases[i].want);
		if (cases[i].out)
			assert_string_equal(out, cases[i].out);
	}
}

static void test_http_prefixes_and_cap(void **state)
{
	static const char req[] = "GET /index.html?x=1 HTTP/1.1\r\nUser-Agent: test/1.0\r\n"
				  "Accept-Language: en\r\nHost: WWW.espn.com:80\r\nCookie: a=b\r\n\r\nbody";
	static char big[12000];
	char out[NG_NAME_MAX];
	size_t hostline_end = (size_t)(strstr(req, ":80\r\n") - req) + 5;
	int n;

	(void)state;
	for (size_t l = 0; l <= strlen(req); l++) {
		enum names_result r = host(req, l, out);

		if (l < hostline_end) {
			assert_int_equal(r, NAMES_NEED_MORE);
		} else {
			assert_int_equal(r, NAMES_FOUND);
			assert_string_equal(out, "www.espn.com");
		}
	}
	/* A head of 8 KiB without its end: no name, stop asking. */
	n = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nCookie: ");
	memset(big + n, 'x', sizeof big - (size_t)n);
	assert_int_equal(host(big, 8191, out), NAMES_NEED_MORE);
	assert_int_equal(host(big, NAMES_HTTP_HEAD_MAX, out), NAMES_NONE);
	assert_int_equal(host(big, sizeof big, out), NAMES_NONE);
	/* A Host line after the 8 KiB cap is not read. */
	memcpy(big + 9000, "\r\nHost: late.example\r\n\r\n", 24);
	assert_int_equal(host(big, 9024, out), NAMES_NONE);
	/* Within the cap it is. */
	memcpy(big + 8000, "\r\nHost: late.example\r\n\r\n", 24);
	assert_int_equal(host(big, 9024, out), NAMES_FOUND);
	assert_string_equal(out, "late.example");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sni_real_hello),
		cmocka_unit_test(test_sni_built_and_split),
		cmocka_unit_test(test_sni_names),
		cmocka_unit_test(test_sni_not_a_hello),
		cmocka_unit_test(test_sni_malformed_lengths),
		cmocka_unit_test(test_http_hosts),
		cmocka_unit_test(test_http_prefixes_and_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
