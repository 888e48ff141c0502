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
	}
	/* A buffer too small gets the empty string; "no address" is empty too. */
	addr_parse("2001:db8::1", &a);
	assert_string_equal(addr_format(&a, small, sizeof small), "");
	memset(&a, 0, sizeof a);
	assert_string_equal(addr_format(&a, got, sizeof got), "");
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
		cmocka_unit_test(test_str_append),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_intern),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
