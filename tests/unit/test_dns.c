/* SPDX-License-Identifier: BSD-2-Clause */
/* test_dns.c: the passive DNS parser on hand-built messages (RFC 1035), and the cache's time and memory rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"
#include "dns.h"
#include "names.h"
#include "util.h"

#define SEC NG_USEC
#define T0 (1700000000LL * NG_USEC)

/* A message under construction. */
struct msg {
	uint8_t b[8192];
	size_t n;
};

/* Mappings a dns_parse call reported. */
struct got {
	ng_addr addr[64];
	char name[64][NG_NAME_MAX];
	uint32_t ttl[64];
	size_t n;
};

static void put8(struct msg *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)v;
}

static void put16(struct msg *m, unsigned v)
{
	put8(m, v >> 8);
	put8(m, v & 0xff);
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

/* Labels of a dotted name, without the terminating zero (so a pointer or 0 can follow). */
static void put_labels(struct msg *m, const char *dotted)
{
	while (*dotted) {
		const char *dot = strchr(dotted, '.');
		size_t l = dot ? (size_t)(dot - dotted) : strlen(dotted);

		put8(m, (unsigned)l);
		memcpy(m->b + m->n, dotted, l);
		m->n += l;
		dotted += l + (dot ? 1 : 0);
	}
}

/* A full uncompressed name; returns its offset. */
static size_t put_name(struct msg *m, const char *dotted)
{
	size_t off = m->n;

	put_labels(m, dotted);
	put8(m, 0);
	return off;
}

static void put_ptr(struct msg *m, size_t off)
{
	put16(m, 0xc000 | (unsigned)off);
}

static void put_header(struct msg *m, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

/* Type, class, TTL and RDATA of a record whose owner name was just written. */
static void put_rr_tail(struct msg *m, unsigned type, unsigned class, uint32_t ttl, const void *rd, size_t rdlen)
{
	put16(m, type);
	put16(m, class);
	put32(m, ttl);
	put16(m, (unsigned)rdlen);
	memcpy(m->b + m->n, rd, rdlen);
	m->n += rdlen;
}

static void put_a(struct msg *m, uint32_t ttl, const char *text)
{
	ng_addr a;

	assert_int_equal(addr_parse(text, &a), 0);
	put_rr_tail(m, a.v == 4 ? 1 : 28, 1, ttl, a.a, a.v == 4 ? 4 : 16);
}

static void got_cb(const ng_addr *addr, const char *name, uint32_t ttl, void *arg)
{
	struct got *g = arg;

	assert_true(g->n < NG_ARRAY_LEN(g->addr));
	g->addr[g->n] = *addr;
	snprintf(g->name[g->n], sizeof g->name[g->n], "%s", name);
	g->ttl[g->n] = ttl;
	g->n++;
}

/* True when g holds the pair (text address, name). */
static int has(const struct got *g, const char *text, const char *name)
{
	ng_addr a;

	addr_parse(text, &a);
	for (size_t i = 0; i < g->n; i++) {
		if (addr_equal(&g->addr[i], &a) && strcmp(g->name[i], name) == 0)
			return 1;
	}
	return 0;
}

static int parse(const struct msg *m, struct got *g, int *trunc)
{
	memset(g, 0, sizeof *g);
	return dns_parse(m->b, m->n, got_cb, g, trunc);
}

/* www.Example.COM CNAME cdn.example.net CNAME edge.akamai.net; A and AAAA for edge; compressed. */
static void build_chain(struct msg *m)
{
	size_t q, cdn, edge;

	put_header(m, 0x8180, 1, 5, 0, 0);
	q = put_name(m, "www.Example.COM");
	put16(m, 1);
	put16(m, 1);
	/* www.example.com CNAME cdn.example.net (the target reuses nothing) */
	put_ptr(m, q);
	put16(m, 5);
	put16(m, 1);
	put32(m, 300);
	put16(m, 17);
	cdn = m->n;
	put_name(m, "cdn.example.net");
	/* cdn.example.net CNAME edge.akamai + pointer to "net" inside cdn.example.net */
	put_ptr(m, cdn);
	put16(m, 5);
	put16(m, 1);
	put32(m, 120);
	put16(m, 14);
	edge = m->n;
	put_labels(m, "edge.akamai");
	put_ptr(m, cdn + 12);	/* "\3net\0" */
	put_ptr(m, edge);
	put_a(m, 20, "192.0.2.10");
	put_ptr(m, edge);
	put_a(m, 30, "192.0.2.11");
	put_ptr(m, edge);
	put_a(m, 600, "2001:db8::10");
}

static void test_simple_a_and_case(void **state)
{
	struct msg m;
	struct got g;
	int trunc;

	(void)state;
	put_header(&m, 0x8180, 1, 1, 0, 0);
	put_name(&m, "WWW.Example.org");
	put16(&m, 1);
	put16(&m, 1);
	put_ptr(&m, 12);
	put_a(&m, 3600, "198.51.100.7");
	assert_int_equal(parse(&m, &g, &trunc), 1);
	assert_false(trunc);
	assert_true(has(&g, "198.51.100.7", "www.example.org"));
	assert_int_equal(g.ttl[0], 3600);
}

static void test_cname_chain_compressed(void **state)
{
	struct msg m;
	struct got g;
	int trunc;

	(void)state;
	build_chain(&m);
	assert_int_equal(parse(&m, &g, &trunc), 3);
	assert_false(trunc);
	assert_true(has(&g, "192.0.2.10", "www.example.com"));
	assert_true(has(&g, "192.0.2.11", "www.example.com"));
	assert_true(has(&g, "2001:db8::10", "www.example.com"));
	assert_int_equal(g.ttl[0], 20);		/* smallest TTL along the chain */
	assert_int_equal(g.ttl[2], 120);
}

static void test_unlinked_answer_ignored(void **state)
{
	struct msg m;
	struct got g;

	(void)state;
	put_header(&m, 0x8180, 1, 2, 0, 0);
	put_name(&m, "bank.example");
	put16(&m, 1);
	put16(&m, 1);
	put_name(&m, "evil.example");	/* not the question and not a CNAME target */
	put_a(&m, 60, "203.0.113.66");
	put_ptr(&m, 12);
	put_a(&m, 60, "203.0.113.1");
	assert_int_equal(parse(&m, &g, NULL), 1);
	assert_true(has(&g, "203.0.113.1", "bank.example"));
	assert_false(has(&g, "203.0.113.66", "evil.example"));
	assert_false(has(&g, "203.0.113.66", "bank.example"));
}

static void test_cname_loop(void **state)
{
	struct msg m;
	struct got g;
	size_t a, b;

	(void)state;
	/* q CNAME a, a CNAME b, b CNAME a; A for b: the walk from b reaches q through a, fine. */
	put_header(&m, 0x8180, 1, 4, 0, 0);
	put_name(&m, "q.example");
	put16(&m, 1);
	put16(&m, 1);
	put_ptr(&m, 12);
	put16(&m, 5);
	put16(&m, 1);
	put32(&m, 60);
	put16(&m, 11);
	a = put_name(&m, "a.example");
	put_ptr(&m, a);
	put16(&m, 5);
	put16(&m, 1);
	put32(&m, 60);
	put16(&m, 11);
	b = put_name(&m, "b.example");
	put_ptr(&m, b);
	put16(&m, 5);
	put16(&m, 1);
	put32(&m, 60);
	put16(&m, 2);
	put_ptr(&m, a);
	put_ptr(&m, b);
	put_a(&m, 60, "192.0.2.1");
	assert_int_equal(parse(&m, &g, NULL), 1);
	/* Now a pure loop without the question: no answer may come out of it. */
	put_header(&m, 0x8180, 1, 3, 0, 0);
	put_name(&m, "q.example");
	put16(&m, 1);
	put16(&m, 1);
	a = m.n;
	put_name(&m, "a.example");
	put16(&m, 5);
	put16(&m, 1);
	put32(&m, 60);
	put16(&m, 11);
	b = put_name(&m, "b.example");
	put_ptr(&m, b);
	put16(&m, 5);
	put16(&m, 1);
	put32(&m, 60);
	put16(&m, 2);
	put_ptr(&m, a);
	put_ptr(&m, b);
	put_a(&m, 60, "192.0.2.1");
	assert_int_equal(parse(&m, &g, NULL), 0);
}

static void test_pointer_loops_and_forward(void **state)
{
	struct msg m;
	struct got g;

	(void)state;
	/* A question name that is a pointer to itself. */
	put_header(&m, 0x8180, 1, 0, 0, 0);
	put_ptr(&m, 12);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(parse(&m, &g, NULL), -1);
	/* A label followed by a pointer back to its own start: a loop through a label. */
	put_header(&m, 0x8180, 1, 0, 0, 0);
	put_labels(&m, "a");
	put_ptr(&m, 12);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(parse(&m, &g, NULL), -1);
	/* Two pointers pointing at each other: the first points forward. */
	put_header(&m, 0x8180, 1, 0, 0, 0);
	put_ptr(&m, 14);
	put_ptr(&m, 12);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(parse(&m, &g, NULL), -1);
	/* A forward pointer to a valid name later in the message. */
	put_header(&m, 0x8180, 1, 1, 0, 0);
	put_ptr(&m, 18);
	put16(&m, 1);
	put16(&m, 1);
	put_name(&m, "x.example");
	put_a(&m, 60, "192.0.2.1");
	assert_int_equal(parse(&m, &g, NULL), -1);
	/* A pointer past the end of the message. */
	put_header(&m, 0x8180, 1, 0, 0, 0);
	put_ptr(&m, 0x3fff);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(parse(&m, &g, NULL), -1);
	/* A pointer into the header (backward, legal but a bad name): label 0x12 runs on, then truncation. */
	put_header(&m, 0x8180, 1, 0, 0, 0);
	put_ptr(&m, 0);
	put16(&m, 1);
	put16(&m, 1);
	assert_true(parse(&m, &g, NULL) <= 0);
	assert_int_equal(g.n, 0);
}

/* An answer whose owner is a chain of `hops` pointers (kept in an unknown record's RDATA) to host.local. */
static void build_hops(struct msg *m, int hops)
{
	size_t rdlen_at, prev;

	put_header(m, 0x8400, 0, 2, 0, 0);
	put8(m, 0);		/* owner: the root */
	put16(m, 99);
	put16(m, 1);
	put32(m, 60);
	rdlen_at = m->n;
	put16(m, 0);
	prev = put_name(m, "host.local");
	for (int i = 1; i < hops; i++) {
		size_t here = m->n;

		put_ptr(m, prev);
		prev = here;
	}
	m->b[rdlen_at] = (uint8_t)((m->n - rdlen_at - 2) >> 8);
	m->b[rdlen_at + 1] = (uint8_t)(m->n - rdlen_at - 2);
	put_ptr(m, prev);
	put_a(m, 60, "192.0.2.3");
}

static void test_pointer_hop_cap(void **state)
{
	struct msg m;
	struct got g;

	(void)state;
	build_hops(&m, 20);
	assert_int_equal(parse(&m, &g, NULL), 1);
	assert_true(has(&g, "192.0.2.3", "host.local"));
	build_hops(&m, 40);
	assert_int_equal(parse(&m, &g, NULL), -1);
}

static void test_label_and_name_limits(void **state)
{
	struct msg m;
	struct got g;
	char label63[64], name[300];

	(void)state;
	memset(label63, 'a', 63);
	label63[63] = '\0';
	/* A 63-byte label is fine. */
	put_header(&m, 0x8180, 1, 1, 0, 0);
	snprintf(name, sizeof name, "%s.example", label63);
	put_name(&m, name);
	put16(&m, 1);
	put16(&m, 1);
	put_ptr(&m, 12);
	put_a(&m, 60, "192.0.2.1");
	assert_int_equal(parse(&m, &g, NULL), 1);
	assert_string_equal(g.name[0], name);
	/* A length byte of 64 (type bits 01) is not a label. */
	put_header(&m, 0x8180, 1, 0, 0, 0);
	put8(&m, 64);
	memset(m.b + m.n, 'a', 64);
	m.n += 64;
	put8(&m, 0);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(parse(&m, &g, NULL), -1);
	/* 0x80 label type too. */
	put_header(&m, 0x8180, 1, 0, 0, 0);
	put8(&m, 0x80);
	put8(&m, 0);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(parse(&m, &g, NULL), -1);
	/* Four 63-byte labels make 257 wire bytes: over 255. */
	put_header(&m, 0x8180, 1, 0, 0, 0);
	snprintf(name, sizeof name, "%s.%s.%s.%s", label63, label63, label63, label63);
	put_name(&m, name);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(parse(&m, &g, NULL), -1);
	/* Exactly 255: three 63-byte labels and one 61-byte label. */
	put_header(&m, 0x8180, 1, 1, 0, 0);
	snprintf(name, sizeof name, "%s.%s.%s.%.61s", label63, label63, label63, label63);
	put_name(&m, name);
	put16(&m, 1);
	put16(&m, 1);
	put_ptr(&m, 12);
	put_a(&m, 60, "192.0.2.1");
	assert_int_equal(parse(&m, &g, NULL), 1);
	assert_int_equal(strlen(g.name[0]), 253);
	/* A long name split over a pointer still counts in full: 2 x 63 + pointer to 3 x 63 = over 255. */
	put_header(&m, 0x8180, 2, 0, 0, 0);
	snprintf(name, sizeof name, "%s.%s.%s", label63, label63, label63);
	put_name(&m, name);
	put16(&m, 1);
	put16(&m, 1);
	snprintf(name, sizeof name, "%s.%s", label63, label63);
	put_labels(&m, name);
	put_ptr(&m, 12);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(parse(&m, &g, NULL), -1);
}

static void test_not_answers(void **state)
{
	struct msg m;
	struct got g;

	(void)state;
	/* A query (QR=0) with an answer-looking record, an NXDOMAIN, a non-QUERY opcode. */
	unsigned flags[] = {0x0100, 0x8183, 0x8980};

	for (size_t i = 0; i < NG_ARRAY_LEN(flags); i++) {
		put_header(&m, flags[i], 1, 1, 0, 0);
		put_name(&m, "x.example");
		put16(&m, 1);
		put16(&m, 1);
		put_ptr(&m, 12);
		put_a(&m, 60, "192.0.2.1");
		assert_int_equal(parse(&m, &g, NULL), 0);
	}
	/* Wrong RDATA length for A, a CHAOS-class A, an unknown type: ignored. */
	put_header(&m, 0x8180, 1, 3, 0, 0);
	put_name(&m, "x.example");
	put16(&m, 1);
	put16(&m, 1);
	put_ptr(&m, 12);
	put_rr_tail(&m, 1, 1, 60, "\1\2\3\4\5", 5);
	put_ptr(&m, 12);
	put_rr_tail(&m, 1, 3, 60, "\1\2\3\4", 4);
	put_ptr(&m, 12);
	put_rr_tail(&m, 99, 1, 60, "\1\2\3\4", 4);
	assert_int_equal(parse(&m, &g, NULL), 0);
	/* A name with a space (mDNS instance names have them) is not a host name: skipped. */
	put_header(&m, 0x8180, 1, 1, 0, 0);
	put_name(&m, "my host.local");
	put16(&m, 1);
	put16(&m, 1);
	put_ptr(&m, 12);
	put_a(&m, 60, "192.0.2.1");
	assert_int_equal(parse(&m, &g, NULL), 0);
	/* A label holding a dot byte must not read as two labels. */
	put_header(&m, 0x8180, 1, 1, 0, 0);
	put8(&m, 3);
	memcpy(m.b + m.n, "a.b", 3);
	m.n += 3;
	put8(&m, 0);
	put16(&m, 1);
	put16(&m, 1);
	put_ptr(&m, 12);
	put_a(&m, 60, "192.0.2.1");
	assert_int_equal(parse(&m, &g, NULL), 0);
	/* Header only, or shorter. */
	assert_int_equal(dns_parse(m.b, 11, NULL, NULL, NULL), 0);
	assert_int_equal(dns_parse(NULL, 0, NULL, NULL, NULL), 0);
}

static void test_bogus_counts(void **state)
{
	struct msg m;
	struct got g;
	int trunc;

	(void)state;
	/* 100 answers claimed, 1 present: the one present is learnt, the message counts as cut short. */
	put_header(&m, 0x8180, 1, 100, 100, 100);
	put_name(&m, "x.example");
	put16(&m, 1);
	put16(&m, 1);
	put_ptr(&m, 12);
	put_a(&m, 60, "192.0.2.1");
	assert_int_equal(parse(&m, &g, &trunc), 1);
	assert_true(trunc);
	/* 65535 questions claimed. */
	put_header(&m, 0x8180, 0xffff, 0xffff, 0, 0);
	put_name(&m, "x.example");
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(parse(&m, &g, &trunc), 0);
	assert_true(trunc);
	/* Zero questions but a unicast-looking answer: mDNS rules, owner name. */
	put_header(&m, 0x8400, 0, 1, 0, 0);
	put_name(&m, "x.example");
	put_a(&m, 60, "192.0.2.1");
	assert_int_equal(parse(&m, &g, &trunc), 1);
	assert_true(has(&g, "192.0.2.1", "x.example"));
	/* An RDATA length running past the end. */
	put_header(&m, 0x8180, 1, 1, 0, 0);
	put_name(&m, "x.example");
	put16(&m, 1);
	put16(&m, 1);
	put_ptr(&m, 12);
	put_rr_tail(&m, 1, 1, 60, "\1\2\3\4", 4);
	m.b[m.n - 5] = 200;
	assert_int_equal(parse(&m, &g, &trunc), 0);
	assert_true(trunc);
	/* A CNAME whose target overruns its RDATA length is malformed. */
	put_header(&m, 0x8180, 1, 2, 0, 0);
	put_name(&m, "x.example");
	put16(&m, 1);
	put16(&m, 1);
	put_ptr(&m, 12);
	put16(&m, 5);
	put16(&m, 1);
	put32(&m, 60);
	put16(&m, 3);
	put_name(&m, "y.example");
	put_a(&m, 60, "192.0.2.1");
	assert_int_equal(parse(&m, &g, NULL), -1);
	/* Oversized input. */
	{
		static uint8_t big[70000];

		memcpy(big, m.b, m.n);
		assert_int_equal(dns_parse(big, sizeof big, NULL, NULL, NULL), -1);
	}
}

/* Every prefix of a valid message: no crash, no error, and only pairs the whole message gives. */
static void check_prefixes(const struct msg *m)
{
	struct got full, g;
	int n = dns_parse(m->b, m->n, got_cb, (memset(&full, 0, sizeof full), &full), NULL);

	assert_true(n > 0);
	for (size_t len = 0; len < m->n; len++) {
		uint8_t *copy = test_malloc(len + 1);	/* exact size so ASan sees overreads */
		int trunc = 0, r;

		memcpy(copy, m->b, len);
		memset(&g, 0, sizeof g);
		r = dns_parse(copy, len, got_cb, &g, &trunc);
		test_free(copy);
		assert_true(r >= 0);
		assert_true(r <= n);
		if (len >= 12)
			assert_true(trunc);
		for (size_t i = 0; i < g.n; i++) {
			char abuf[NG_ADDRSTRLEN];

			addr_format(&g.addr[i], abuf, sizeof abuf);
			assert_true(has(&full, abuf, g.name[i]));
		}
	}
}

static void test_every_prefix(void **state)
{
	struct msg m;

	(void)state;
	build_chain(&m);
	check_prefixes(&m);
	put_header(&m, 0x8180, 1, 1, 0, 0);
	put_name(&m, "www.example.org");
	put16(&m, 28);
	put16(&m, 1);
	put_ptr(&m, 12);
	put_a(&m, 60, "2001:db8::1");
	check_prefixes(&m);
}

static void test_mdns(void **state)
{
	struct msg m;
	struct got g;
	size_t host;

	(void)state;
	/* Announcement: no questions, cache-flush class, PTR answer, A in answers, AAAA in additional. */
	put_header(&m, 0x8400, 0, 2, 0, 2);
	put_name(&m, "1.2.0.192.in-addr.arpa");
	put16(&m, 12);
	put16(&m, 0x8001);
	put32(&m, 120);
	put16(&m, 15);
	host = put_name(&m, "MyPhone.local");
	put_ptr(&m, host);
	put16(&m, 1);
	put16(&m, 0x8001);
	put32(&m, 120);
	put16(&m, 4);
	put32(&m, 0xc0000201);
	put_ptr(&m, host);
	put_a(&m, 120, "fe80::1");
	m.b[m.n - 16 - 10 + 2] = 0x80;	/* cache-flush on the AAAA too */
	put_name(&m, "");		/* OPT-like root record, type 41 */
	put_rr_tail(&m, 41, 1440, 0, "", 0);
	assert_int_equal(parse(&m, &g, NULL), 2);
	assert_true(has(&g, "192.0.2.1", "myphone.local"));
	assert_true(has(&g, "fe80::1", "myphone.local"));
}

static void test_cache_latest_before(void **state)
{
	struct dns_cache *c = dns_cache_create(16, 0);
	struct msg a, b;
	ng_addr x;

	(void)state;
	addr_parse("192.0.2.9", &x);
	put_header(&a, 0x8180, 1, 1, 0, 0);
	put_name(&a, "a.example");
	put16(&a, 1);
	put16(&a, 1);
	put_ptr(&a, 12);
	put_a(&a, 3600, "192.0.2.9");
	b = a;
	memcpy(b.b + 13, "b", 1);
	assert_int_equal(dns_learn(c, a.b, a.n, T0 + 100 * SEC), 1);
	assert_int_equal(dns_learn(c, b.b, b.n, T0 + 200 * SEC), 1);
	assert_null(dns_lookup(c, &x, T0 + 50 * SEC));
	assert_string_equal(dns_lookup(c, &x, T0 + 100 * SEC), "a.example");
	assert_string_equal(dns_lookup(c, &x, T0 + 150 * SEC), "a.example");
	assert_string_equal(dns_lookup(c, &x, T0 + 200 * SEC), "b.example");
	assert_string_equal(dns_lookup(c, &x, T0 + 250 * SEC), "b.example");
	/* a again at 300: from then on a is the latest; between 200 and 300 b still is. */
	assert_int_equal(dns_learn(c, a.b, a.n, T0 + 300 * SEC), 1);
	assert_string_equal(dns_lookup(c, &x, T0 + 250 * SEC), "b.example");
	assert_string_equal(dns_lookup(c, &x, T0 + 350 * SEC), "a.example");
	/* A fourth and fifth name push the oldest out (3 kept per address). */
	memcpy(b.b + 13, "c", 1);
	dns_learn(c, b.b, b.n, T0 + 400 * SEC);
	memcpy(b.b + 13, "d", 1);
	dns_learn(c, b.b, b.n, T0 + 500 * SEC);
	assert_string_equal(dns_lookup(c, &x, T0 + 450 * SEC), "c.example");
	assert_string_equal(dns_lookup(c, &x, T0 + 350 * SEC), "a.example");
	/* b was dropped: at 250 the newest name kept that was seen by then is a. */
	assert_string_equal(dns_lookup(c, &x, T0 + 250 * SEC), "a.example");
	/* An answer older than every kept name does not displace them. */
	memcpy(b.b + 13, "e", 1);
	dns_learn(c, b.b, b.n, T0 + 10 * SEC);
	assert_null(dns_lookup(c, &x, T0 + 20 * SEC));
	dns_cache_destroy(c);
}

static void test_cache_ttl_and_grace(void **state)
{
	struct dns_cache *c = dns_cache_create(16, 0), *g = dns_cache_create(16, 3600 * SEC);
	struct msg m;
	ng_addr x;

	(void)state;
	addr_parse("2001:db8::9", &x);
	put_header(&m, 0x8180, 1, 1, 0, 0);
	put_name(&m, "ttl.example");
	put16(&m, 28);
	put16(&m, 1);
	put_ptr(&m, 12);
	put_a(&m, 300, "2001:db8::9");
	dns_learn(c, m.b, m.n, T0);
	dns_learn(g, m.b, m.n, T0);
	assert_non_null(dns_lookup(c, &x, T0 + 299 * SEC));
	assert_null(dns_lookup(c, &x, T0 + 300 * SEC));
	assert_non_null(dns_lookup(g, &x, T0 + 3899 * SEC));
	assert_null(dns_lookup(g, &x, T0 + 3900 * SEC));
	/* TTL 10 counts as 60; TTL with the top bit set counts as 0 (RFC 2181 8), so 60 too. */
	/* The TTL's four bytes sit at m.n - 22 .. m.n - 19 (RDATA 16, RDLENGTH 2 after it). */
	m.b[m.n - 20] = 0;
	m.b[m.n - 19] = 10;
	dns_learn(c, m.b, m.n, T0 + 10000 * SEC);
	assert_non_null(dns_lookup(c, &x, T0 + 10059 * SEC));
	assert_null(dns_lookup(c, &x, T0 + 10060 * SEC));
	m.b[m.n - 22] = 0x80;
	dns_learn(c, m.b, m.n, T0 + 20000 * SEC);
	assert_non_null(dns_lookup(c, &x, T0 + 20059 * SEC));
	assert_null(dns_lookup(c, &x, T0 + 20060 * SEC));
	/* A huge TTL is capped at 7 days. */
	m.b[m.n - 22] = 0x7f;
	dns_learn(c, m.b, m.n, T0 + 30000 * SEC);
	assert_non_null(dns_lookup(c, &x, T0 + (30000 + 7 * 86400 - 1) * SEC));
	assert_null(dns_lookup(c, &x, T0 + (30000 + 7 * 86400) * SEC));
	dns_cache_destroy(c);
	dns_cache_destroy(g);
}

/* Learn "hN.example" -> 10.x.y.z for address number i. */
static void learn_nth(struct dns_cache *c, uint32_t i, const char *name, ng_time at)
{
	struct msg m;
	char text[32];

	put_header(&m, 0x8180, 1, 1, 0, 0);
	put_name(&m, name);
	put16(&m, 1);
	put16(&m, 1);
	put_ptr(&m, 12);
	snprintf(text, sizeof text, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	put_a(&m, 60, text);
	assert_int_equal(dns_learn(c, m.b, m.n, at), 1);
}

static ng_addr nth(uint32_t i)
{
	uint8_t b[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};

	return addr_from_v4(b);
}

static void test_cache_lru(void **state)
{
	struct dns_cache *c = dns_cache_create(4, 0);
	struct dns_stats st;
	ng_addr a;

	(void)state;
	for (uint32_t i = 0; i < 4; i++)
		learn_nth(c, i, "lru.example", T0);
	a = nth(0);
	assert_non_null(dns_lookup(c, &a, T0));	/* 0 is flagged: it gets a second chance */
	learn_nth(c, 4, "lru.example", T0);
	dns_get_stats(c, &st);
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.names, 1);		/* one shared name */
	assert_non_null(dns_lookup(c, &a, T0));
	a = nth(1);
	assert_null(dns_lookup(c, &a, T0));	/* 1, the next at the tail, was not looked up: reused */
	for (uint32_t i = 2; i < 5; i++) {
		a = nth(i);
		assert_non_null(dns_lookup(c, &a, T0));
	}
	dns_cache_destroy(c);
}

/* Second chances survive the entry array growing (1024 -> 2048 -> 4096 -> 5000): the flags live apart. */
static void test_cache_clock_across_growth(void **state)
{
	struct dns_cache *c = dns_cache_create(5000, 0);
	struct dns_stats st;
	ng_addr a;

	(void)state;
	/* Flag the even addresses in two rounds, the first before the array grows. */
	for (uint32_t round = 0; round < 2; round++) {
		uint32_t from = round == 0 ? 0 : 1000, to = round == 0 ? 1000 : 5000;

		for (uint32_t i = from; i < to; i++)
			learn_nth(c, i, "grow.example", T0);
		for (uint32_t i = from; i < to; i += 2) {
			a = nth(i);
			assert_non_null(dns_lookup(c, &a, T0));
		}
	}
	for (uint32_t i = 5000; i < 7500; i++)
		learn_nth(c, i, "new.example", T0);
	dns_get_stats(c, &st);
	assert_int_equal(st.entries, 5000);
	assert_int_equal(st.evictions, 2500);
	for (uint32_t i = 0; i < 7500; i++) {
		bool want = i >= 5000 || i % 2 == 0;	/* the flagged ones and the new ones stay */

		a = nth(i);
		if ((dns_lookup(c, &a, T0) != NULL) != want)
			fail_msg("address %u: %s, want %s", i, want ? "gone" : "kept", want ? "kept" : "gone");
	}
	dns_cache_destroy(c);
}

static void test_cache_flood_bounded(void **state)
{
	struct dns_cache *c = dns_cache_create(1000, 3600 * SEC);
	struct dns_stats st;
	char name[64];
	ng_addr a;

	(void)state;
	for (uint32_t i = 0; i < 200000; i++) {
		snprintf(name, sizeof name, "h%u.flood.example", i);
		learn_nth(c, i, name, T0 + (ng_time)i);
	}
	dns_get_stats(c, &st);
	assert_int_equal(st.entries, 1000);
	assert_int_equal(st.evictions, 199000);
	assert_int_equal(st.names, 1000);	/* evicted names were freed */
	assert_int_equal(st.answers, 200000);
	a = nth(199999);
	assert_string_equal(dns_lookup(c, &a, T0 + 200000), "h199999.flood.example");
	a = nth(0);
	assert_null(dns_lookup(c, &a, T0 + 200000));
	dns_cache_destroy(c);
}

static void test_stats(void **state)
{
	struct dns_cache *c = dns_cache_create(8, 0);
	struct dns_stats st;
	uint8_t junk[20] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c};

	(void)state;
	assert_int_equal(dns_learn(c, junk, sizeof junk, T0), -1);
	learn_nth(c, 1, "s.example", T0);
	dns_get_stats(c, &st);
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.malformed, 1);
	assert_int_equal(st.answers, 1);
	assert_int_equal(st.entries, 1);
	dns_cache_destroy(c);
	dns_cache_destroy(NULL);
}

/* dns_response_summary: the first question, type and rcode of responses; queries and broken names refused. */
static void test_summary(void **state)
{
	struct msg m;
	char q[300];
	uint16_t qt = 0;
	int rc = -9;

	(void)state;
	/* NXDOMAIN response, mixed case name. */
	put_header(&m, 0x8183, 1, 0, 0, 0);
	put_name(&m, "VoCyZit.COM");
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dns_response_summary(m.b, m.n, q, sizeof q, &qt, &rc), 0);
	assert_string_equal(q, "vocyzit.com");
	assert_int_equal(qt, 1);
	assert_int_equal(rc, 3);
	/* Every proper prefix is refused, the whole is not. */
	for (size_t cut = 0; cut < m.n; cut++)
		assert_int_equal(dns_response_summary(m.b, cut, q, sizeof q, &qt, &rc), -1);
	/* The same as a query (QR clear): refused. */
	m.b[2] &= 0x7f;
	assert_int_equal(dns_response_summary(m.b, m.n, q, sizeof q, &qt, &rc), -1);
	/* No question: refused. */
	put_header(&m, 0x8180, 0, 0, 0, 0);
	assert_int_equal(dns_response_summary(m.b, m.n, q, sizeof q, &qt, &rc), -1);
	/* The root name, type TXT. */
	put_header(&m, 0x8180, 1, 0, 0, 0);
	put8(&m, 0);
	put16(&m, 16);
	put16(&m, 1);
	assert_int_equal(dns_response_summary(m.b, m.n, q, sizeof q, &qt, &rc), 0);
	assert_string_equal(q, "");
	assert_int_equal(qt, 16);
	assert_int_equal(rc, 0);
	/* Binary and dotted bytes in a label come out as \DDD, distinct and one string. */
	put_header(&m, 0x8180, 1, 0, 0, 0);
	put8(&m, 4);
	put8(&m, 0x80);
	put8(&m, '.');
	put8(&m, 0);
	put8(&m, '\\');
	put_name(&m, "t.example.com");
	put16(&m, 10);
	put16(&m, 1);
	assert_int_equal(dns_response_summary(m.b, m.n, q, sizeof q, &qt, &rc), 0);
	assert_string_equal(q, "\\128\\046\\000\\092.t.example.com");
	/* Too small an output buffer: refused, and the buffer stays a string. */
	assert_int_equal(dns_response_summary(m.b, m.n, q, 8, &qt, &rc), -1);
	assert_true(strlen(q) < 8);
}

/* Pointers in the question: backwards is followed, forwards, self and loops are refused; length capped at 255. */
static void test_summary_pointers(void **state)
{
	struct msg m;
	char q[300], big[300];
	uint16_t qt;
	int rc;
	size_t off;

	(void)state;
	/* A question whose name points back into the header is invalid (before offset 12). */
	put_header(&m, 0x8180, 1, 0, 0, 0);
	put_ptr(&m, 4);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dns_response_summary(m.b, m.n, q, sizeof q, &qt, &rc), -1);
	/* Pointer to itself. */
	put_header(&m, 0x8180, 1, 0, 0, 0);
	put_ptr(&m, 12);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dns_response_summary(m.b, m.n, q, sizeof q, &qt, &rc), -1);
	/* Pointer forwards. */
	put_header(&m, 0x8180, 1, 0, 0, 0);
	put_labels(&m, "www");
	put_ptr(&m, 20);
	put16(&m, 1);
	put16(&m, 1);
	put_name(&m, "example.com");
	assert_int_equal(dns_response_summary(m.b, m.n, q, sizeof q, &qt, &rc), -1);
	/* A label run that ends in a pointer back to an earlier full name is followed. */
	put_header(&m, 0x8180, 2, 0, 0, 0);
	off = put_name(&m, "example.com");
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dns_response_summary(m.b, m.n, q, sizeof q, &qt, &rc), 0);
	assert_string_equal(q, "example.com");
	(void)off;
	/* 4 labels of 63 = 255 bytes on the wire with the root: too long. 3 of 63 and one of 61 is the limit. */
	memset(big, 'a', sizeof big);
	big[63] = big[127] = big[191] = '.';
	big[255] = '\0';
	put_header(&m, 0x8180, 1, 0, 0, 0);
	put_name(&m, big);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dns_response_summary(m.b, m.n, q, sizeof q, &qt, &rc), -1);
	big[253] = '\0';
	put_header(&m, 0x8180, 1, 0, 0, 0);
	put_name(&m, big);
	put16(&m, 28);
	put16(&m, 1);
	assert_int_equal(dns_response_summary(m.b, m.n, q, sizeof q, &qt, &rc), 0);
	assert_int_equal(strlen(q), 253);
	assert_int_equal(qt, 28);
	/* Label types 0x40 and 0x80 are refused. */
	put_header(&m, 0x8180, 1, 0, 0, 0);
	put8(&m, 0x41);
	put8(&m, 'a');
	put8(&m, 0);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(dns_response_summary(m.b, m.n, q, sizeof q, &qt, &rc), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_a_and_case),
		cmocka_unit_test(test_cname_chain_compressed),
		cmocka_unit_test(test_unlinked_answer_ignored),
		cmocka_unit_test(test_cname_loop),
		cmocka_unit_test(test_pointer_loops_and_forward),
		cmocka_unit_test(test_pointer_hop_cap),
		cmocka_unit_test(test_label_and_name_limits),
		cmocka_unit_test(test_not_answers),
		cmocka_unit_test(test_bogus_counts),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_mdns),
		cmocka_unit_test(test_cache_latest_before),
		cmocka_unit_test(test_cache_ttl_and_grace),
		cmocka_unit_test(test_cache_lru),
		cmocka_unit_test(test_cache_clock_across_growth),
		cmocka_unit_test(test_cache_flood_bounded),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_summary_pointers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
