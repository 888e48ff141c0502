/* SPDX-License-Identifier: BSD-2-Clause */
/* test_addr.c: address parsing, CIDR containment, scopes, and the time helpers in util. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "addr.h"
#include "util.h"

static void test_parse_format_roundtrip(void **state)
{
	const char *cases[] = {"192.0.2.1", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::1", "fe80::1:2:3:4",
			       "::ffff:192.0.2.1"};
	char buf[NG_ADDRSTRLEN];
	ng_addr a;

	(void)state;
	for (size_t i = 0; i < NG_ARRAY_LEN(cases); i++) {
		assert_int_equal(addr_parse(cases[i], &a), 0);
		assert_string_equal(addr_format(&a, buf, sizeof buf), cases[i]);
	}
	assert_int_equal(addr_parse("[2001:db8::2]", &a), 0);
	assert_int_equal(a.v, 6);
	assert_int_equal(addr_parse("192.0.2", &a), -1);
	assert_int_equal(addr_parse("", &a), -1);
	assert_int_equal(addr_parse("1.2.3.4 ", &a), -1);
	assert_int_equal(addr_parse("2001:db8::1::2", &a), -1);
}

static void test_equal_and_hash_ignore_nothing(void **state)
{
	ng_addr a, b;

	(void)state;
	addr_parse("10.1.2.3", &a);
	addr_parse("10.1.2.3", &b);
	assert_true(addr_equal(&a, &b));
	assert_int_equal(addr_hash(&a), addr_hash(&b));
	addr_parse("10.1.2.4", &b);
	assert_false(addr_equal(&a, &b));
	assert_true(addr_compare(&a, &b) < 0);
	addr_parse("::1", &b);
	assert_true(addr_compare(&a, &b) < 0);	/* IPv4 sorts first */
}

static void test_cidr(void **state)
{
	ng_cidr c;
	ng_addr a;
	char err[128], buf[64];

	(void)state;
	assert_int_equal(cidr_parse("10.1.2.3/8", &c, err, sizeof err), 0);
	assert_string_equal(cidr_format(&c, buf, sizeof buf), "10.0.0.0/8");
	addr_parse("10.255.0.1", &a);
	assert_true(cidr_contains(&c, &a));
	addr_parse("11.0.0.1", &a);
	assert_false(cidr_contains(&c, &a));
	assert_int_equal(cidr_parse("2001:db8::/33", &c, err, sizeof err), 0);
	addr_parse("2001:db8:7fff::1", &a);
	assert_true(cidr_contains(&c, &a));
	addr_parse("2001:db8:8000::1", &a);
	assert_false(cidr_contains(&c, &a));
	addr_parse("10.0.0.1", &a);
	assert_false(cidr_contains(&c, &a));	/* family mismatch */
	assert_int_equal(cidr_parse("10.0.0.0/33", &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "0..32"));
	assert_int_equal(cidr_parse("10.0.0.0/", &c, err, sizeof err), -1);
	assert_int_equal(cidr_parse("banana/8", &c, err, sizeof err), -1);
	assert_int_equal(cidr_parse("0.0.0.0/0", &c, err, sizeof err), 0);
	addr_parse("8.8.8.8", &a);
	assert_true(cidr_contains(&c, &a));
	assert_int_equal(cidr_parse("1.2.3.4", &c, err, sizeof err), 0);
	assert_int_equal(c.prefix, 32);
}

static void test_scopes(void **state)
{
	static const struct {
		const char *addr;
		const char *scope;
	} cases[] = {
		{"8.8.8.8", "public"}, {"10.0.0.1", "lan"}, {"172.16.5.4", "lan"}, {"172.32.0.1", "public"},
		{"192.168.1.1", "lan"}, {"127.0.0.1", "loopback"}, {"169.254.1.1", "link_local"},
		{"100.64.0.1", "cgnat"}, {"100.128.0.1", "public"}, {"224.0.0.251", "multicast"},
		{"239.255.255.250", "multicast"}, {"255.255.255.255", "broadcast"}, {"192.0.2.5", "documentation"},
		{"198.51.100.7", "documentation"}, {"203.0.113.1", "documentation"}, {"240.0.0.1", "reserved"},
		{"0.0.0.0", "unspecified"}, {"198.18.0.1", "reserved"},
		{"2001:4860:4860::8888", "public"}, {"::1", "loopback"}, {"::", "unspecified"},
		{"fe80::1", "link_local"}, {"fd00::1", "lan"}, {"ff02::fb", "multicast"},
		{"2001:db8::1", "documentation"}, {"3fff::1", "documentation"}, {"::ffff:1.2.3.4", "reserved"},
		{"2a00:1450::1", "public"},
	};
	ng_addr a;

	(void)state;
	for (size_t i = 0; i < NG_ARRAY_LEN(cases); i++) {
		assert_int_equal(addr_parse(cases[i].addr, &a), 0);
		if (strcmp(scope_name(addr_scope(&a)), cases[i].scope) != 0)
			fail_msg("%s: got %s, want %s", cases[i].addr, scope_name(addr_scope(&a)), cases[i].scope);
	}
}

static void test_time_format_parse(void **state)
{
	char buf[NG_TIMESTRLEN];
	ng_time t;

	(void)state;
	assert_string_equal(time_format(1763771163123456LL, buf, sizeof buf), "2025-11-22T00:26:03.123456Z");
	assert_int_equal(time_parse("2025-11-22T00:26:03.123456Z", &t), 0);
	assert_int_equal(t, 1763771163123456LL);
	assert_int_equal(time_parse("2025-11-22T01:26:03+01:00", &t), 0);
	assert_int_equal(t, 1763771163000000LL);
	assert_int_equal(time_parse("2025-11-22", &t), 0);
	assert_int_equal(t, 1763769600000000LL);
	assert_int_equal(time_parse("1763771163", &t), 0);
	assert_int_equal(t, 1763771163000000LL);
	assert_int_equal(time_parse("2025-13-01", &t), -1);
	assert_int_equal(time_parse("yesterday", &t), -1);
	assert_string_equal(time_format(-1, buf, sizeof buf), "1969-12-31T23:59:59.999999Z");
}

/* splitmix64: the random cases of the formatter tests, the same on every run. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* addr_format writes what inet_ntop writes: random addresses rich in zero groups, and the special shapes. */
static void test_addr_format_matches_inet_ntop(void **state)
{
	uint64_t seed = 1;
	char got[NG_ADDRSTRLEN], want[INET6_ADDRSTRLEN], small[8];
	ng_addr a;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint64_t r = next_rand(&seed), r2 = next_rand(&seed);
		uint8_t b[16];

		memset(&a, 0, sizeof a);
		if (i % 4 == 0) {
			a.v = 4;
			memcpy(a.a, &r, 4);
			if (i % 16 == 0)
				a.a[r2 % 4] = 0;
			inet_ntop(AF_INET, a.a, want, sizeof want);
		} else {
			a.v = 6;
			memcpy(b, &r, 8);
			memcpy(b + 8, &r2, 8);
			/* Zero each group with probability 1/2 (bits of a third number), sometimes a ::ffff: prefix. */
			uint64_t z = next_rand(&seed);
			for (int g = 0; g < 8; g++) {
				if (z >> g & 1)
					b[2 * g] = b[2 * g + 1] = 0;
				else if (z >> (8 + g) & 1)
					b[2 * g] = 0;	/* a group below 0x100 */
			}
			if ((z >> 16 & 7) == 0) {
				memset(b, 0, 10);
				b[10] = b[11] = (z >> 19 & 1) ? 0xff : 0;
			}
			memcpy(a.a, b, 16);
			inet_ntop(AF_INET6, a.a, want, sizeof want);
		}
		addr_format(&a, got, sizeof got);
		if (strcmp(got, want) != 0)
			fail_msg("addr_format wrote %s, inet_ntop %s", got, want);
		*addr_put(got, &a) = '\0';
		if (strcmp(got, want) != 0)
			fail_msg("addr_put wrote %s, inet_ntop %s", got, want);
	}
	/* A buffer too small gets the empty string; "no address" is empty too. */
	addr_parse("2001:db8::1", &a);
	assert_string_equal(addr_format(&a, small, sizeof small), "");
	memset(&a, 0, sizeof a);
	assert_string_equal(addr_format(&a, got, sizeof got), "");
}

/* addr_put on the shapes RFC 5952 singles out: zero runs at either end, ties, one zero group, v4-mapped and -compatible. */
static void test_addr_put_edges(void **state)
{
	static const char *const v6[] = {
		"::", "::1", "1::", "1::1", "::ffff:0.0.0.0", "::ffff:255.255.255.255", "::1.2.3.4", "::ffff:1:2",
		"1:0:0:1:0:0:0:1", "1:0:0:0:1:0:0:1", "1:0:1:0:1:0:1:0", "0:1:0:1:0:1:0:1", "1:2:3:4:5:6:7:0",
		"0:1:2:3:4:5:6:7", "1:2:3:4:5:6:0:0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::", "::ffff",
		"0:0:0:0:0:1:0:0", "::0:1:0:0:0", "64:ff9b::192.0.2.33", "2001:db8:0:0:1:0:0:1",
	};
	static const char *const v4[] = {"0.0.0.0", "255.255.255.255", "10.0.0.1", "1.10.100.200", "9.99.199.0"};
	char got[NG_ADDRSTRLEN], want[INET6_ADDRSTRLEN];
	ng_addr a;

	(void)state;
	for (size_t i = 0; i < NG_ARRAY_LEN(v6); i++) {
		memset(&a, 0, sizeof a);
		a.v = 6;
		assert_int_equal(inet_pton(AF_INET6, v6[i], a.a), 1);
		inet_ntop(AF_INET6, a.a, want, sizeof want);
		*addr_put(got, &a) = '\0';
		assert_string_equal(got, want);
	}
	for (size_t i = 0; i < NG_ARRAY_LEN(v4); i++) {
		memset(&a, 0, sizeof a);
		a.v = 4;
		assert_int_equal(inet_pton(AF_INET, v4[i], a.a), 1);
		*addr_put(got, &a) = '\0';
		assert_string_equal(got, v4[i]);
	}
	memset(&a, 0, sizeof a);
	assert_ptr_equal(addr_put(got, &a), got);	/* no family: nothing written */
}

/* The reference time_format: gmtime_r and snprintf. */
static void time_format_ref(ng_time t, char *buf, size_t len)
{
	time_t secs = (time_t)(t / NG_USEC);
	long us = (long)(t % NG_USEC);
	struct tm tm;

	if (us < 0) {
		us += NG_USEC;
		secs -= 1;
	}
	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, us);
}

/* The reference time_format_short: gmtime_r and snprintf. */
static void time_format_short_ref(ng_time t, char *buf, size_t len)
{
	time_t secs = (time_t)(t / NG_USEC);
	struct tm tm;

	if (t % NG_USEC < 0)
		secs -= 1;
	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min);
}

/* time_format agrees with gmtime_r + snprintf on random times, both edges of the fast path, and leap days. */
static void test_time_format_matches_gmtime(void **state)
{
	static const ng_time edges[] = {0, 1, 999999, 1000000, 86399999999LL, 86400000000LL, 951782400000000LL,
					951868799999999LL, 4107542399999999LL, 253402300799999999LL,
					253402300800000000LL, -1, -86400000001LL, 1763771163123456LL};
	uint64_t seed = 7;
	char got[NG_TIMESTRLEN], want[96];

	(void)state;
	for (size_t i = 0; i < NG_ARRAY_LEN(edges) + 300000; i++) {
		ng_time t;

		if (i < NG_ARRAY_LEN(edges))
			t = edges[i];
		else if (i % 3 == 0)
			t = (ng_time)(next_rand(&seed) % 253402300800000000ULL);	/* any year 1970..9999 */
		else
			t = 1700000000000000LL + (ng_time)(next_rand(&seed) % (400ULL * 86400 * NG_USEC));
		time_format(t, got, sizeof got);
		time_format_ref(t, want, sizeof want);
		if (strcmp(got, want) != 0)
			fail_msg("time_format(%lld) wrote %s, gmtime %s", (long long)t, got, want);
		time_format_short_ref(t, want, sizeof want);
		time_format_short(t, got, sizeof got);
		if (strcmp(got, want) != 0)
			fail_msg("time_format_short(%lld) wrote %s, gmtime %s", (long long)t, got, want);
	}
}

/*
 * time_put writes what gmtime_r + snprintf write, whatever the order of the
 * times: runs in one second (its memo), alternating seconds, seconds of the
 * same parity in turn, negative times and years past 9999 (the snprintf
 * path); and time_format into a short buffer cuts it as snprintf does.
 */
static void test_time_put_matches_gmtime(void **state)
{
	static const ng_time edges[] = {0, -1, -999999, -1000000, -1000001, -86400000000LL, -62135596800000000LL,
					253402300799999999LL, 253402300800000000LL, 253402300800000001LL,
					4611686018427387903LL, -4611686018427387903LL, 951825600000000LL, 1000000};
	uint64_t seed = 11;
	char got[NG_TIMESTRLEN + 8], want[96], small[NG_TIMESTRLEN];
	ng_time t = 1763771163000000LL;

	(void)state;
	for (size_t i = 0; i < NG_ARRAY_LEN(edges) + 400000; i++) {
		uint64_t r = next_rand(&seed);
		char *end;

		if (i < NG_ARRAY_LEN(edges))
			t = edges[i];
		else if (i % 5 == 0)
			t += (ng_time)(r % 3);				/* the same second, mostly */
		else if (i % 5 == 1)
			t += (ng_time)(r % (3 * NG_USEC)) - NG_USEC;	/* a neighbouring second */
		else if (i % 5 == 2)
			t += 2 * NG_USEC * (ng_time)(r % 3) - 2 * NG_USEC;	/* the same parity, another second */
		else if (i % 5 == 3)
			t = (ng_time)(r % 253402300800000000ULL);	/* any year 1970..9999 */
		else
			t = (ng_time)(r % (2 * 400000000000000000ULL)) - 400000000000000000LL;	/* years -10700..14600 */
		memset(got, 'x', sizeof got);
		end = time_put(got, t);
		if (end - got > NG_TIMESTRLEN - 1 || got[end - got] != 'x')
			fail_msg("time_put(%lld) wrote %d bytes", (long long)t, (int)(end - got));
		*end = '\0';
		time_format_ref(t, want, sizeof want);
		if (strcmp(got, want) != 0)
			fail_msg("time_put(%lld) wrote %s, gmtime %s", (long long)t, got, want);
		if (i % 97 == 0) {
			size_t len = 1 + (size_t)(r >> 40) % (sizeof small - 1);

			time_format_ref(t, want, len);
			if (strcmp(time_format(t, small, len), want) != 0)
				fail_msg("time_format(%lld, len %zu) wrote %s, snprintf %s", (long long)t, len, small, want);
		}
	}
}

/* put_u64 writes what "%llu" writes, at every length and both sides of every power of ten. */
static void test_put_u64(void **state)
{
	uint64_t seed = 5, p10 = 1;
	char got[32], want[32];

	(void)state;
	for (int k = 0; k < 20; k++, p10 *= 10) {
		const uint64_t vs[] = {p10 - 1, p10, p10 + 1, p10 * 5 - 1, UINT64_MAX - p10};

		for (size_t i = 0; i < NG_ARRAY_LEN(vs); i++) {
			memset(got, 'x', sizeof got);
			*put_u64(got, vs[i]) = '\0';
			snprintf(want, sizeof want, "%llu", (unsigned long long)vs[i]);
			assert_string_equal(got, want);
		}
	}
	*put_u64(got, UINT64_MAX) = '\0';
	assert_string_equal(got, "18446744073709551615");
	for (int i = 0; i < 200000; i++) {
		uint64_t v = next_rand(&seed) >> (i % 64);
		char *end = put_u64(got, v);

		snprintf(want, sizeof want, "%llu", (unsigned long long)v);
		assert_int_equal(end - got, strlen(want));
		*end = '\0';
		assert_string_equal(got, want);
	}
}

/* put_fixed4's digits: "%lld" of the value in ten-thousandths, the point put in and trailing zeros dropped. */
static void test_put_fixed4(void **state)
{
	static const double edges[] = {0, -0.0, 1, -1, 2, -7, 899999999999.0, -899999999999.0, 900000000000.0,
				       900000000001.0, 899999999999.5, 123456789012.0, 0.5, 0.00004, -0.00004, 0.00005, 37.422, -122.0838, 1e-9,
				       123456789.12345, -9.99995, 1e14, -1e14, 0.1, 0.2, 0.30000000000000004};
	uint64_t seed = 9;
	char got[NG_FIXED4LEN + 1], want[64];

	(void)state;
	for (size_t i = 0; i < NG_ARRAY_LEN(edges) + 200000; i++) {
		uint64_t r = next_rand(&seed);
		double v = i < NG_ARRAY_LEN(edges) ? edges[i] : ((double)(int64_t)r / 9.2e18) * pow(10, (double)(r % 15));

		if (i % 4 == 0 && i >= NG_ARRAY_LEN(edges))
			v = (double)(long long)v;	/* whole numbers, of every size up to 1e14 */
		long long n = llround(v * 10000.0);
		int len;

		len = snprintf(want, sizeof want, "%s%lld.%04lld", n < 0 ? "-" : "", llabs(n) / 10000, llabs(n) % 10000);
		while (want[len - 1] == '0')
			want[--len] = '\0';
		if (want[len - 1] == '.')
			want[--len] = '\0';
		*put_fixed4(got, v) = '\0';
		if (strcmp(got, want) != 0)
			fail_msg("put_fixed4(%.17g) wrote %s, want %s", v, got, want);
	}
	/* Beyond 9e14 the ten-thousandths do not fit a long long: the whole number, rounded as llround does. */
	for (int i = 0; i < 100000; i++) {
		double v = 9.0e14 * pow(2, (double)(next_rand(&seed) % 4400) / 100.0) * (i % 2 ? -1 : 1);

		if (fabs(v) >= 18446744073709549568.0)
			continue;
		if (fabs(v) < 9.0e18)
			snprintf(want, sizeof want, "%lld", llround(v));
		else
			snprintf(want, sizeof want, "%.0f", v);	/* a whole number already */
		*put_fixed4(got, v) = '\0';
		if (strcmp(got, want) != 0)
			fail_msg("put_fixed4(%.17g) wrote %s, want %s", v, got, want);
	}
	*put_fixed4(got, 1e30) = '\0';
	assert_string_equal(got, "18446744073709551615");
	*put_fixed4(got, NAN) = '\0';
	assert_string_equal(got, "null");
	*put_fixed4(got, -INFINITY) = '\0';
	assert_string_equal(got, "null");
}

/* The byte-at-a-time JSON string writer sb_json_str had before its fast path: the oracle for it. */
static void json_str_ref(struct strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	sb_putc(sb, '"');
	while (*p) {
		size_t n = 0;

		if (*p == '"' || *p == '\\') {
			sb_putc(sb, '\\');
			sb_putc(sb, (char)*p++);
			continue;
		}
		if (*p < 0x20) {
			char e[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};

			sb_put(sb, e, 6);
			p++;
			continue;
		}
		if (*p < 0x80) {
			sb_putc(sb, (char)*p++);
			continue;
		}
		/* RFC 3629: the lead byte's length, continuation bytes, no overlong form, no surrogate, at most U+10FFFF. */
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 2;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 3;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 4;
		for (size_t k = 1; k < n; k++)
			if ((p[k] & 0xc0) != 0x80)
				n = 0;
		if ((n == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f))) ||
		    (n == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))))
			n = 0;
		if (n) {
			sb_put(sb, (const char *)p, n);
			p += n;
		} else {
			sb_put(sb, "\xef\xbf\xbd", 3);
			p++;
		}
	}
	sb_putc(sb, '"');
}

/* sb_json_str agrees with the reference on plain ASCII, on strings that turn special anywhere, and on random bytes. */
static void test_json_str(void **state)
{
	static const char alphabet[] = "aZ09 -./:~\"\\\x01\x1f\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80\xff\xc0";
	uint64_t seed = 13;
	struct strbuf got = {0}, want = {0};

	(void)state;
	for (int i = 0; i < 200000; i++) {
		char s[64];
		size_t n = next_rand(&seed) % sizeof s, plain = i % 2 ? n : next_rand(&seed) % (n + 1);

		for (size_t k = 0; k < n; k++) {
			uint64_t r = next_rand(&seed);

			if (k < plain)
				s[k] = (char)(0x20 + r % 95);		/* printable ASCII, '"' and '\\' among them */
			else if (i % 3 == 0)
				s[k] = (char)(1 + r % 255);		/* any byte */
			else
				s[k] = alphabet[r % (sizeof alphabet - 1)];
		}
		s[n] = '\0';
		got.len = want.len = 0;
		sb_put(&got, "x", 1);	/* writes after what is there */
		sb_put(&want, "x", 1);
		sb_json_str(&got, s);
		json_str_ref(&want, s);
		if (got.len != want.len || memcmp(got.p, want.p, got.len) != 0)
			fail_msg("sb_json_str wrote %s, the reference %s", got.p, want.p);
		assert_int_equal(got.p[got.len], '\0');
	}
	free(got.p);
	free(want.p);
}

/* qsort comparator for the oracle of ng_refs_sort: key, then the original position (p holds it), which is stability. */
static int ref_cmp(const void *x, const void *y)
{
	const struct ng_ref *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return (uintptr_t)a->p < (uintptr_t)b->p ? -1 : (uintptr_t)a->p > (uintptr_t)b->p;
}

/* ng_refs_sort gives what a stable qsort gives: random keys of every width, duplicates, runs in and against order. */
static void test_refs_sort(void **state)
{
	static const size_t sizes[] = {0, 1, 2, 3, 100, 2047, 2048, 2049, 50000};
	uint64_t seed = 17;

	(void)state;
	for (size_t si = 0; si < NG_ARRAY_LEN(sizes); si++) {
		size_t n = sizes[si];

		for (int shape = 0; shape < 7; shape++) {
			struct ng_ref *got = calloc(n ? n : 1, sizeof *got), *want = calloc(n ? n : 1, sizeof *want);

			for (size_t i = 0; i < n; i++) {
				uint64_t r = next_rand(&seed);

				switch (shape) {
				case 0: got[i].key = r; break;				/* 64-bit keys: six passes */
				case 1: got[i].key = r % 1000; break;			/* many duplicates */
				case 2: got[i].key = i; break;				/* in order already */
				case 3: got[i].key = n - i; break;			/* against order */
				case 4: got[i].key = (r % 3) << 40; break;		/* only high digits differ */
				case 5: got[i].key = i % 2 ? UINT64_MAX : r >> (r % 64); break;
				default: got[i].key = 1000000 + (i ^ (r % 8)); break;	/* flow ids, nearly in order */
				}
				got[i].p = (void *)(uintptr_t)(i + 1);
			}
			memcpy(want, got, n * sizeof *got);
			qsort(want, n, sizeof *want, ref_cmp);
			ng_refs_sort(got, n);
			for (size_t i = 0; i < n; i++) {
				if (got[i].key != want[i].key || got[i].p != want[i].p)
					fail_msg("ng_refs_sort, %zu refs of shape %d: at %zu key %llu (from %zu), want %llu (from %zu)",
						 n, shape, i, (unsigned long long)got[i].key, (size_t)(uintptr_t)got[i].p,
						 (unsigned long long)want[i].key, (size_t)(uintptr_t)want[i].p);
			}
			free(got);
			free(want);
		}
	}
}

/* The CSV field writer sb_csv_field had before its fast path (RFC 4180 quoting, the formula guard): its oracle. */
static void csv_field_ref(struct strbuf *sb, const char *s, bool last)
{
	bool quote;

	if (!s)
		s = "";
	quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		sb_putc(sb, '"');
	if (s[0] && strchr("=+-@", s[0]))
		sb_putc(sb, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			sb_putc(sb, '"');
		sb_putc(sb, *p);
	}
	if (quote)
		sb_putc(sb, '"');
	if (last)
		sb_put(sb, "\r\n", 2);
	else
		sb_putc(sb, ',');
}

/* sb_csv_field agrees with the reference on plain fields, on each character that needs care, anywhere. */
static void test_csv_field(void **state)
{
	static const char alphabet[] = "a0.:-=+@,\"\r\n \xc3\xa9";
	uint64_t seed = 19;
	struct strbuf got = {0}, want = {0};

	(void)state;
	for (int i = 0; i < 200000; i++) {
		char s[24];
		size_t n = next_rand(&seed) % sizeof s;
		bool last = i % 3 == 0;

		for (size_t k = 0; k < n; k++) {
			uint64_t r = next_rand(&seed);

			s[k] = i % 2 ? (char)('a' + r % 26) : alphabet[r % (sizeof alphabet - 1)];
			if (i % 2 && k == 0 && r % 7 == 0)
				s[k] = "=+-@"[r % 4];
		}
		s[n] = '\0';
		got.len = want.len = 0;
		sb_put(&got, "x", 1);
		sb_put(&want, "x", 1);
		sb_csv_field(&got, i % 101 == 0 ? NULL : s, last);
		csv_field_ref(&want, i % 101 == 0 ? NULL : s, last);
		if (got.len != want.len || memcmp(got.p, want.p, got.len) != 0)
			fail_msg("sb_csv_field wrote [%s], the reference [%s]", got.p, want.p);
		assert_int_equal(got.p[got.len], '\0');
	}
	free(got.p);
	free(want.p);
}

/* str_append truncates as snprintf does. */
static void test_str_append(void **state)
{
	char buf[8];
	size_t at;

	(void)state;
	buf[0] = '\0';
	at = str_append(buf, sizeof buf, 0, "abc");
	at = str_append(buf, sizeof buf, at, "defgh");
	assert_string_equal(buf, "abcdefg");	/* what snprintf(buf, 8, "%s%s", "abc", "defgh") leaves */
	assert_int_equal(at, 7);
	assert_int_equal(str_append(buf, sizeof buf, at, "x"), 7);
	assert_string_equal(buf, "abcdefg");
	assert_int_equal(str_append(buf, 0, 0, "x"), 0);
}

/* u64_format writes what "%llu" writes. */
static void test_u64_format(void **state)
{
	uint64_t seed = 3;
	char got[NG_U64STRLEN], want[32];

	(void)state;
	assert_string_equal(u64_format(0, got), "0");
	assert_string_equal(u64_format(UINT64_MAX, got), "18446744073709551615");
	for (int i = 0; i < 100000; i++) {
		uint64_t v = next_rand(&seed) >> (i % 64);

		snprintf(want, sizeof want, "%llu", (unsigned long long)v);
		assert_string_equal(u64_format(v, got), want);
	}
}

static void test_durations(void **state)
{
	ng_time d;

	(void)state;
	assert_int_equal(duration_parse("48h", &d), 0);
	assert_int_equal(d, 48LL * 3600 * NG_USEC);
	assert_int_equal(duration_parse("7d", &d), 0);
	assert_int_equal(d, 7LL * 86400 * NG_USEC);
	assert_int_equal(duration_parse("30", &d), 0);
	assert_int_equal(d, 30 * NG_USEC);
	assert_int_equal(duration_parse("1.5m", &d), 0);
	assert_int_equal(d, 90 * NG_USEC);
	assert_int_equal(duration_parse("250ms", &d), 0);
	assert_int_equal(d, 250000);
	assert_int_equal(duration_parse("-5s", &d), -1);
	assert_int_equal(duration_parse("5 parsecs", &d), -1);
	assert_int_equal(duration_parse("", &d), -1);
}

static void test_intern(void **state)
{
	char a[16] = "feodo.txt", b[16] = "feodo.txt";

	(void)state;
	assert_ptr_equal(str_intern(a), str_intern(b));
	assert_ptr_not_equal(str_intern("x"), str_intern("y"));
	for (int i = 0; i < 1000; i++) {
		char n[16];

		snprintf(n, sizeof n, "r%d", i);
		assert_string_equal(str_intern(n), n);
	}
	assert_ptr_equal(str_intern("feodo.txt"), str_intern(b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format_roundtrip),
		cmocka_unit_test(test_equal_and_hash_ignore_nothing),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_time_format_parse),
		cmocka_unit_test(test_addr_format_matches_inet_ntop),
		cmocka_unit_test(test_time_format_matches_gmtime),
		cmocka_unit_test(test_u64_format),
		cmocka_unit_test(test_addr_put_edges),
		cmocka_unit_test(test_time_put_matches_gmtime),
		cmocka_unit_test(test_put_u64),
		cmocka_unit_test(test_put_fixed4),
		cmocka_unit_test(test_json_str),
		cmocka_unit_test(test_refs_sort),
		cmocka_unit_test(test_csv_field),
		cmocka_unit_test(test_str_append),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_intern),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
