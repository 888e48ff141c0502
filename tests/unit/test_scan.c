/* SPDX-License-Identifier: BSD-2-Clause */
/* test_scan.c: outbound scan detection: a sweep of unanswered addresses fires once per episode; busy clients do not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"
#include "scan.h"
#include "util.h"

#define SEC NG_USEC
#define T0 (1700000000LL * NG_USEC)

/* The n-th address of 198.18.0.0/15 (benchmarking range, never answers here). */
static ng_addr target(uint32_t n)
{
	uint8_t b[4] = {198, (uint8_t)(18 + ((n >> 16) & 1)), (uint8_t)(n >> 8), (uint8_t)n};

	return addr_from_v4(b);
}

/* A sweep of port 445 with 1 answer in 20: fires at the 25th address, one id for the whole episode. */
static void test_sweep(void **state)
{
	struct scan_table *st = scan_table_create(64);
	ng_addr local, other;
	struct scan_result r, l;
	uint64_t id = 0;
	char why[128];

	(void)state;
	addr_parse("192.168.1.20", &local);
	addr_parse("192.168.1.21", &other);
	for (uint32_t i = 0; i < 214; i++) {
		scan_attempt(st, &local, &(ng_addr){0}, 445, 6, false, T0, &r);	/* v=0: not an address, ignored */
		ng_addr t = target(i);

		scan_attempt(st, &local, &t, 445, 6, i % 20 == 7, T0 + (ng_time)i * SEC, &r);
		if (i < 24)
			assert_false(r.scan);
		if (i == 24) {
			assert_true(r.scan);
			id = r.finding_id;
			assert_true(id != 0);
		}
		if (i >= 24)
			assert_true(r.finding_id == id);
	}
	assert_in_range(r.targets, 200, 228);
	assert_in_range(r.unanswered, 185, 215);
	scan_reason(&r, why, sizeof why);
	assert_non_null(strstr(why, "addresses on port 445/tcp"));
	assert_non_null(strstr(why, "in 4 min"));
	/* A flow starting during the scan sees it; another port, host or protocol does not. */
	assert_true(scan_lookup(st, &local, 445, 6, T0 + 214 * SEC, &l));
	assert_true(l.finding_id == id);
	assert_false(scan_lookup(st, &local, 445, 17, T0 + 214 * SEC, &l));
	assert_false(scan_lookup(st, &local, 139, 6, T0 + 214 * SEC, &l));
	assert_false(scan_lookup(st, &other, 445, 6, T0 + 214 * SEC, &l));
	/* Ten quiet minutes end the episode; the next sweep is a new finding. */
	assert_false(scan_lookup(st, &local, 445, 6, T0 + 214 * SEC + 600 * SEC, &l));
	for (uint32_t i = 0; i < 30; i++) {
		ng_addr t = target(1000 + i);

		scan_attempt(st, &local, &t, 445, 6, false, T0 + 2000 * SEC + (ng_time)i * SEC, &r);
	}
	assert_true(r.scan);
	assert_true(r.finding_id != id);
	assert_int_equal(r.targets, 30);
	scan_table_destroy(st);
}

/* A browser: hundreds of addresses on 443, nearly all answered: never a scan. */
static void test_busy_client(void **state)
{
	struct scan_table *st = scan_table_create(64);
	ng_addr local;
	struct scan_result r;

	(void)state;
	addr_parse("2001:db8::20", &local);
	for (uint32_t i = 0; i < 600; i++) {
		ng_addr t = target(i);

		scan_attempt(st, &local, &t, 443, 6, i % 4 != 0, T0 + (ng_time)i * 5 * SEC, &r);
		assert_false(r.scan);
	}
	/* The same addresses tried again and again are few targets, however many attempts. */
	for (uint32_t i = 0; i < 1000; i++) {
		ng_addr t = target(i % 10);

		scan_attempt(st, &local, &t, 123, 17, false, T0 + (ng_time)i * SEC, &r);
		assert_false(r.scan);
	}
	assert_int_equal(r.targets, 10);
	scan_table_destroy(st);
}

/* Slow trickle: one unanswered address every 4 minutes never fills an hour's episode to 25. */
static void test_slow_trickle(void **state)
{
	struct scan_table *st = scan_table_create(8);
	ng_addr local;
	struct scan_result r;

	(void)state;
	addr_parse("10.1.1.1", &local);
	for (uint32_t i = 0; i < 100; i++) {
		ng_addr t = target(i);

		scan_attempt(st, &local, &t, 22, 6, false, T0 + (ng_time)i * 240 * SEC, &r);
		assert_false(r.scan);
	}
	scan_table_destroy(st);
}

/* Large sweeps are estimated, and memory stays what create allocated whatever the number of keys. */
static void test_bounded(void **state)
{
	struct scan_table *st = scan_table_create(32);
	size_t mem = scan_memory(st);
	ng_addr local;
	struct scan_result r;

	(void)state;
	addr_parse("10.1.1.2", &local);
	for (uint32_t i = 0; i < 2000; i++) {
		ng_addr t = target(i);

		scan_attempt(st, &local, &t, 23, 6, false, T0 + (ng_time)i * SEC / 100, &r);
	}
	assert_true(r.scan);
	/*
	 * Linear counting in 1024 bits: at 2,000 targets about 145 bits stay
	 * empty and the estimate's standard error is about 3% (Whang et al.);
	 * the keyed hash changes every run, so the range is 8 standard errors
	 * wide. (At 5,000 targets only about 8 bits stay empty and a 25% range
	 * failed about one run in fifty.)
	 */
	assert_in_range(r.targets, 1500, 2500);
	for (uint32_t i = 0; i < 100000; i++) {
		ng_addr t = target(i);

		scan_attempt(st, &t, &local, (uint16_t)i, 6, false, T0 + 100 * SEC, &r);
	}
	assert_int_equal(scan_memory(st), mem);
	assert_true(mem < 32 * 900);
	scan_table_destroy(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_busy_client),
		cmocka_unit_test(test_slow_trickle),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
