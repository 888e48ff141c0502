/* SPDX-License-Identifier: BSD-2-Clause */
/* test_beacon.c: the beacon detector on synthetic schedules: jittered beacons fire, Poisson arrivals and bursts do not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "beacon.h"
#include "util.h"

#define SEC NG_USEC
#define T0 (1700000000LL * NG_USEC)

/* A small deterministic generator (xorshift64*), so every run sees the same arrivals. */
static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
	rng_state = s * 0x9e3779b97f4a7c15ULL + 1;
}

static double rng_uniform(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

/* One connection: start, then end after `dur` carrying `bytes`; returns the judgement at start. */
static void conn(struct beacon_table *bt, uint64_t key, ng_time t, ng_time dur, uint64_t bytes, struct beacon_result *r)
{
	beacon_conn_start(bt, key, t, r);
	if (dur >= 0)
		beacon_conn_end(bt, key, t, bytes);
}

/* A beacon with +-10% uniform jitter fires by its 10th connection and stays flagged for 100 more. */
static void check_beacon(double period, uint64_t seed, bool sizes)
{
	struct beacon_table *bt = beacon_table_create(64);
	struct beacon_result r;
	ng_time t = T0;
	int first = 0;

	rng_seed(seed);
	for (int i = 1; i <= 110; i++) {
		uint64_t bytes = 2400 + (uint64_t)(rng_uniform() * 60);

		conn(bt, 42, t, sizes ? SEC / 2 : -1, bytes, &r);
		if (r.beacon && !first)
			first = i;
		if (first && !r.beacon)
			fail_msg("period %.0f seed %llu: flagged at %d, dropped at %d (ts %.3f score %.3f)", period,
				 (unsigned long long)seed, first, i, r.ts_score, r.score);
		t += (ng_time)(period * (1 + (rng_uniform() * 0.2 - 0.1)) * SEC);
	}
	if (first == 0 || first > 10)
		fail_msg("period %.0f seed %llu: first flagged at %d", period, (unsigned long long)seed, first);
	assert_true(fabs(r.period_s - period) < period * 0.05);
	assert_true(r.jitter_s < period * 0.1);
	assert_int_equal(r.connections, 110);
	assert_int_equal(r.sizes_known, sizes);
	beacon_table_destroy(bt);
}

static void test_beacons_fire(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		check_beacon(5, seed, true);
		check_beacon(30, seed, true);
		check_beacon(60, seed, true);
		/* Connections still open: timing alone, with the stricter rule. */
		check_beacon(5, seed, false);
		check_beacon(60, seed, false);
	}
}

/* An hourly beacon is still a beacon: it needs 10 connections, so 9 hours of span. */
static void test_hourly(void **state)
{
	struct beacon_table *bt = beacon_table_create(4);
	struct beacon_result r;
	ng_time t = T0;
	char buf[128];

	(void)state;
	rng_seed(7);
	for (int i = 1; i <= 12; i++) {
		conn(bt, 1, t, SEC, 900, &r);
		if (i < 10)
			assert_false(r.beacon);
		t += (ng_time)(3600 * (1 + (rng_uniform() * 0.2 - 0.1)) * SEC);
	}
	assert_true(r.beacon);
	beacon_reason(&r, buf, sizeof buf);
	assert_non_null(strstr(buf, "every 6"));	/* about "every 60.x min" */
	assert_non_null(strstr(buf, " min +- "));
	assert_non_null(strstr(buf, "12 connections"));
	beacon_table_destroy(bt);
}

/* Poisson arrivals (exponential gaps) never fire over 200 connections, even with constant sizes. */
static void test_poisson_never(void **state)
{
	static const double means[] = {5, 30, 60, 300};

	(void)state;
	for (size_t m = 0; m < NG_ARRAY_LEN(means); m++) {
		for (uint64_t seed = 100; seed < 120; seed++) {
			struct beacon_table *bt = beacon_table_create(8);
			struct beacon_result r;
			ng_time t = T0;

			rng_seed(seed);
			for (int i = 0; i < 200; i++) {
				t += (ng_time)(-log(1 - rng_uniform()) * means[m] * SEC);
				conn(bt, 9, t, (seed & 1) ? SEC / 10 : -1, 1500, &r);
				if (r.beacon)
					fail_msg("Poisson mean %.0f s seed %llu fired at %d (ts %.3f span %.3f score %.3f)",
						 means[m], (unsigned long long)seed, i, r.ts_score, r.span_score, r.score);
			}
			beacon_table_destroy(bt);
		}
	}
}

/* A person browsing one server: bursts of connections, then silence of random length. */
static void test_bursts_never(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct beacon_table *bt = beacon_table_create(8);
		struct beacon_result r;
		ng_time t = T0;

		rng_seed(seed);
		for (int b = 0; b < 30; b++) {
			int n = 3 + (int)(rng_uniform() * 25);

			for (int i = 0; i < n; i++) {
				conn(bt, 5, t, SEC, 20000 + (uint64_t)(rng_uniform() * 500000), &r);
				assert_false(r.beacon);
				t += (ng_time)((0.05 + rng_uniform() * 3) * SEC);
			}
			t += (ng_time)((20 + rng_uniform() * 600) * SEC);
		}
		beacon_table_destroy(bt);
	}
}

/* A handful of perfectly regular connections is not enough. */
static void test_handful(void **state)
{
	struct beacon_table *bt = beacon_table_create(8);
	struct beacon_result r;

	(void)state;
	for (int i = 0; i < 9; i++) {
		conn(bt, 3, T0 + i * 30 * SEC, SEC, 512, &r);
		assert_false(r.beacon);
	}
	conn(bt, 3, T0 + 9 * 30 * SEC, SEC, 512, &r);
	assert_true(r.beacon);	/* the 10th of a perfect schedule */
	beacon_table_destroy(bt);
}

/* Parallel connections of one check-in count once; sizes add up; out-of-order ends are harmless. */
static void test_merge_parallel(void **state)
{
	struct beacon_table *bt = beacon_table_create(8);
	struct beacon_result r;

	(void)state;
	for (int i = 0; i < 12; i++) {
		ng_time t = T0 + i * 20 * SEC;

		beacon_conn_start(bt, 11, t, &r);
		beacon_conn_start(bt, 11, t + SEC / 5, &r);
		beacon_conn_end(bt, 11, t + SEC / 5, 300);
		beacon_conn_end(bt, 11, t, 700);
		beacon_conn_end(bt, 11, T0 - 3600 * SEC, 5);	/* older than anything: ignored */
	}
	assert_true(r.beacon);
	assert_int_equal(r.connections, 24);
	assert_true(fabs(r.period_s - 20) < 0.01);
	assert_true(r.sizes_known);
	assert_true(r.ds_score > 0.99);
	beacon_table_destroy(bt);
}

/* Many keys: the table never holds more than max_keys, memory stays what it was, old keys start over. */
static void test_eviction(void **state)
{
	struct beacon_table *bt = beacon_table_create(100);
	size_t mem = beacon_table_memory(bt);
	struct beacon_result r;

	(void)state;
	assert_true(mem > 100 * 400 && mem < 100 * 700);
	for (uint64_t k = 0; k < 100000; k++)
		conn(bt, k * 0x9e3779b97f4a7c15ULL, T0 + (ng_time)k * 1000, 10, 100, &r);
	assert_int_equal(beacon_table_memory(bt), mem);
	/* Key 0 was evicted long ago: it starts from one connection again. */
	conn(bt, 0, T0 + 200000 * SEC, SEC, 100, &r);
	assert_int_equal(r.connections, 1);
	/* The most recent keys are still there. */
	conn(bt, 99999 * 0x9e3779b97f4a7c15ULL, T0 + 200000 * SEC, SEC, 100, &r);
	assert_int_equal(r.connections, 2);
	beacon_table_destroy(bt);
}

/* The reason text. */
static void test_reason(void **state)
{
	struct beacon_result r = {.beacon = true, .period_s = 5.02, .jitter_s = 0.31, .connections = 86};
	char buf[64], tiny[8];

	(void)state;
	assert_string_equal(beacon_reason(&r, buf, sizeof buf), "every 5.0 s +- 0.3 s, 86 connections");
	beacon_reason(&r, tiny, sizeof tiny);
	assert_int_equal(strlen(tiny), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_beacons_fire),
		cmocka_unit_test(test_hourly),
		cmocka_unit_test(test_poisson_never),
		cmocka_unit_test(test_bursts_never),
		cmocka_unit_test(test_handful),
		cmocka_unit_test(test_merge_parallel),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
