/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_vpool.c: the verdict pool: equal verdicts share one reference, different ones do not, an entry
 * lives while referenced and is reused after its last holder, and entries never move as the pool grows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flow.h"
#include "vpool.h"

/* A verdict that differs from others by n (its count and first time). */
static struct wl_verdict_info info(uint32_t n)
{
	struct wl_verdict_info v;

	memset(&v, 0, sizeof v);
	v.verdict = WL_ANOMALOUS;
	v.why = WL_WHY_FIRST_CONTACT;
	v.count = n;
	v.first = (ng_time)n * 1000;
	v.last = NG_TIME_NONE;
	return v;
}

static void test_share_and_free(void **state)
{
	struct wl_verdict_info a = info(1), b = info(2), zero;
	size_t base = vpool_count();
	uint32_t ra, ra2, rb;

	(void)state;
	memset(&zero, 0, sizeof zero);
	assert_int_equal(vpool_get(&zero), 0);
	assert_int_equal(vpool_info(0)->verdict, WL_NONE);
	ra = vpool_get(&a);
	ra2 = vpool_get(&a);
	rb = vpool_get(&b);
	assert_int_not_equal(ra, 0);
	assert_int_equal(ra, ra2);
	assert_int_not_equal(ra, rb);
	assert_memory_equal(vpool_info(ra), &a, sizeof a);
	assert_memory_equal(vpool_info(rb), &b, sizeof b);
	assert_int_equal(vpool_count(), base + 2);
	vpool_put(ra);
	assert_int_equal(vpool_count(), base + 2);	/* one holder left */
	assert_memory_equal(vpool_info(ra), &a, sizeof a);
	vpool_put(ra2);
	assert_int_equal(vpool_count(), base + 1);
	/* The freed entry is taken again, and b is still found after the removal. */
	assert_int_equal(vpool_get(&b), rb);
	assert_int_equal(vpool_get(&a), ra);
	vpool_put(ra);
	vpool_put(rb);
	vpool_put(rb);
	vpool_put(0);	/* never freed */
	assert_int_equal(vpool_count(), base);
}

static void test_many(void **state)
{
	enum { N = 20000 };
	uint32_t *r = calloc(N, sizeof *r);
	const struct wl_verdict_info *first;
	size_t base = vpool_count();

	(void)state;
	assert_non_null(r);
	r[0] = vpool_get(&(struct wl_verdict_info){.verdict = WL_NORMAL, .count = 7});
	first = vpool_info(r[0]);
	for (uint32_t i = 1; i < N; i++)
		r[i] = vpool_get(&(struct wl_verdict_info){.verdict = WL_NORMAL, .count = 7 + i});
	assert_int_equal(vpool_count(), base + N);
	assert_ptr_equal(vpool_info(r[0]), first);	/* growth moved nothing */
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(vpool_info(r[i])->count, 7 + i);
		assert_int_equal(vpool_get(&(struct wl_verdict_info){.verdict = WL_NORMAL, .count = 7 + i}), r[i]);
	}
	/* Free every other one, twice held: the rest are still found by value. */
	for (uint32_t i = 0; i < N; i += 2) {
		vpool_put(r[i]);
		vpool_put(r[i]);
	}
	assert_int_equal(vpool_count(), base + N / 2);
	for (uint32_t i = 1; i < N; i += 2) {
		assert_int_equal(vpool_get(&(struct wl_verdict_info){.verdict = WL_NORMAL, .count = 7 + i}), r[i]);
		vpool_put(r[i]);
		vpool_put(r[i]);
		vpool_put(r[i]);
	}
	assert_int_equal(vpool_count(), base);
	free(r);
}

/* flow_verdict_set replaces a flow's reference, also with a verdict read from the flow itself. */
static void test_flow_set(void **state)
{
	struct flow f;
	struct wl_verdict_info a = info(5);
	size_t base = vpool_count();

	(void)state;
	memset(&f, 0, sizeof f);
	assert_int_equal(flow_verdict(&f, FLOW_SENT)->verdict, WL_NONE);
	flow_verdict_set(&f, FLOW_SENT, &a);
	flow_verdict_set(&f, FLOW_RECEIVED, &a);
	assert_int_equal(f.verdict_ref[0], f.verdict_ref[1]);
	assert_int_equal(vpool_count(), base + 1);
	flow_verdict_set(&f, FLOW_SENT, flow_verdict(&f, FLOW_SENT));
	assert_memory_equal(flow_verdict(&f, FLOW_SENT), &a, sizeof a);
	flow_verdict_set(&f, FLOW_SENT, &(struct wl_verdict_info){0});
	flow_verdict_set(&f, FLOW_RECEIVED, &(struct wl_verdict_info){0});
	assert_int_equal(vpool_count(), base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_share_and_free),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_flow_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
