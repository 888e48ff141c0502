/* SPDX-License-Identifier: BSD-2-Clause */
/* test_upload.c: large uploads: first-contact floor, the host's own baseline, and what is not an upload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"
#include "resolvers.h"
#include "upload.h"
#include "util.h"

#define SEC NG_USEC
#define T0 (1700000000LL * NG_USEC)
#define MB (1000ULL * 1000)

static ng_addr addr(const char *s)
{
	ng_addr a;

	if (addr_parse(s, &a) != 0)
		fail_msg("bad address %s", s);
	return a;
}

/* 312 MB out to a new destination in 41 minutes: large; the same as a download is not. */
static void test_first_contact(void **state)
{
	struct upload_table *ut = upload_table_create(64);
	ng_addr l = addr("192.168.1.20"), r1 = addr("203.0.113.9"), r2 = addr("198.51.100.4");
	struct upload_result r;
	char why[160];

	(void)state;
	for (int i = 0; i < 41; i++) {
		upload_add(ut, &l, &r1, 7609756, 48780, i == 0, T0 + (ng_time)(i + 1) * 60 * SEC, &r);
		if (r.sent < 100 * MB)
			assert_false(r.large);
		else
			assert_true(r.large);
		upload_add(ut, &l, &r2, 48780, 7609756, i == 0, T0 + (ng_time)(i + 1) * 60 * SEC, &r);
		assert_false(r.large);
	}
	upload_add(ut, &l, &r1, 0, 0, false, T0 + 41 * 60 * SEC, &r);
	assert_true(r.large && r.first_contact);
	upload_reason(&r, why, sizeof why);
	assert_string_equal(why, "sent 312 MB, received 2 MB, in 40 min, to a new destination");
	/* A known destination needs the 500 MB floor while the host has no baseline. */
	upload_table_destroy(ut);
	ut = upload_table_create(64);
	upload_add(ut, &l, &r1, 400 * MB, MB, false, T0, &r);
	assert_false(r.large);
	upload_add(ut, &l, &r1, 150 * MB, MB, false, T0 + 60 * SEC, &r);
	assert_true(r.large);
	/* A video call: as much in as out. */
	upload_add(ut, &l, &r2, 900 * MB, 800 * MB, true, T0, &r);
	assert_false(r.large);
	upload_table_destroy(ut);
}

/* A host that uploads a few MB per destination per hour gets flagged at 60 MB; a nightly 2 GB backup becomes habit. */
static void test_baseline(void **state)
{
	struct upload_table *ut = upload_table_create(256);
	ng_addr l = addr("10.0.0.5"), dst = addr("203.0.113.50");
	struct upload_result r;
	ng_time t = T0;

	(void)state;
	/* 40 hours of small uploads to 3 destinations (windows close when the next hour's bytes come). */
	for (int h = 0; h < 40; h++) {
		for (int d = 0; d < 3; d++) {
			uint8_t b[4] = {203, 0, 113, (uint8_t)(100 + d)};
			ng_addr x = addr_from_v4(b);

			upload_add(ut, &l, &x, (2 + (uint64_t)((h + d) % 4)) * MB, MB, false, t, &r);
			assert_false(r.large);
		}
		t += 3601 * SEC;
	}
	upload_add(ut, &l, &dst, 60 * MB, MB, false, t, &r);
	assert_true(r.over_baseline);
	assert_true(r.large);
	assert_true(r.baseline_bytes > 3 * MB && r.baseline_bytes < 60 * MB);
	/* Another host with no history: 60 MB to a known destination is nothing special. */
	ng_addr l2 = addr("10.0.0.6");

	upload_add(ut, &l2, &dst, 60 * MB, MB, false, t, &r);
	assert_false(r.large);
	upload_table_destroy(ut);
}

/* Memory stays fixed whatever the number of pairs. */
static void test_bounded(void **state)
{
	struct upload_table *ut = upload_table_create(128);
	size_t mem = upload_memory(ut);
	struct upload_result r;
	ng_addr l = addr("10.0.0.7");

	(void)state;
	for (uint32_t i = 0; i < 100000; i++) {
		uint8_t b[4] = {100, (uint8_t)(64 + (i >> 16 & 63)), (uint8_t)(i >> 8), (uint8_t)i};
		ng_addr x = addr_from_v4(b);

		upload_add(ut, &l, &x, 5000, 100, true, T0 + i, &r);
	}
	assert_int_equal(upload_memory(ut), mem);
	assert_true(mem < 128 * 200);
	upload_table_destroy(ut);
}

/* The public resolver table: listed addresses and ranges in, neighbours and other families out. */
static void test_resolvers(void **state)
{
	static const char *const in[] = {"8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112",
					 "208.67.222.222", "94.140.14.14", "45.90.28.77", "45.90.30.1",
					 "185.228.168.9", "2001:4860:4860::8888", "2001:4860:4860::8844",
					 "2606:4700:4700::1111", "2606:4700:4700::1001", "2620:fe::fe", "2620:119:35::35",
					 "2a10:50c0::ad1:ff", "2a07:a8c0::ab:cd", "2a07:a8c1::1"};
	static const char *const out[] = {"8.8.8.9", "1.1.1.4", "9.9.9.8", "45.90.29.1", "192.168.1.1", "0.0.0.0",
					  "2001:4860:4860::8889", "2606:4700:4700::1", "::ffff:8.8.8.8", "2a07:a8c2::1",
					  "::"};

	(void)state;
	for (size_t i = 0; i < NG_ARRAY_LEN(in); i++) {
		ng_addr a = addr(in[i]);

		if (!resolver_is_public_dns(&a))
			fail_msg("%s should be a public resolver", in[i]);
	}
	for (size_t i = 0; i < NG_ARRAY_LEN(out); i++) {
		ng_addr a = addr(out[i]);

		if (resolver_is_public_dns(&a))
			fail_msg("%s should not be a public resolver", out[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_contact),
		cmocka_unit_test(test_baseline),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_resolvers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
