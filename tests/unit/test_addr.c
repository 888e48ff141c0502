/* SPDX-License-Identifier: BSD-2-Clause */
/* test_addr.c: address parsing, CIDR containment, scopes, and the time helpers in util. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

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
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_intern),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
