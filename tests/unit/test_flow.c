/* SPDX-License-Identifier: BSD-2-Clause */
/* test_flow.c: the flow table: lookup in both directions, expiry by class, eviction order, kept ended flows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "flow.h"

struct ends {
	int ended, released;
	uint8_t last_reason;
	uint64_t last_id;
};

static void on_end(void *arg, struct flow *f)
{
	struct ends *e = arg;

	e->ended++;
	e->last_reason = f->end_reason;
	e->last_id = f->id;
}

static void on_release(void *arg, struct flow *f)
{
	struct ends *e = arg;

	(void)f;
	e->released++;
}

/* Insert a UDP flow 10.0.0.1:port -> 8.8.8.8:53 at time t. */
static struct flow *add(struct flow_table *ft, uint16_t port, ng_time t, uint8_t proto)
{
	struct flow_key k;
	ng_addr a, b;
	bool swapped;
	struct flow *f;

	addr_parse("10.0.0.1", &a);
	addr_parse("8.8.8.8", &b);
	flow_key_make(&k, proto, &a, port, &b, 53, &swapped);
	f = flow_table_insert(ft, &k, flow_key_hash(&k), t);
	f->packets[0] = 1;
	return f;
}

static void test_both_directions_find_one_flow(void **state)
{
	struct flow_table_config cfg = {0};
	struct ends e = {0};
	struct flow_table *ft;
	struct flow_key k1, k2;
	ng_addr a, b;
	bool s1, s2;
	struct flow *f;

	(void)state;
	ft = flow_table_create(&cfg, on_end, on_release, &e);
	addr_parse("192.168.1.2", &a);
	addr_parse("2.2.2.2", &b);
	flow_key_make(&k1, 6, &a, 40000, &b, 443, &s1);
	flow_key_make(&k2, 6, &b, 443, &a, 40000, &s2);
	assert_memory_equal(&k1, &k2, sizeof k1);
	assert_true(s1 != s2);
	f = flow_table_insert(ft, &k1, flow_key_hash(&k1), 1);
	assert_ptr_equal(flow_table_find(ft, &k2, flow_key_hash(&k2)), f);
	assert_ptr_equal(flow_table_by_id(ft, f->id), f);
	flow_table_destroy(ft);
	assert_int_equal(e.released, 1);
	assert_int_equal(e.ended, 0);
}

static void test_expiry_by_class(void **state)
{
	struct flow_table_config cfg = {.tcp_timeout = 300 * NG_USEC, .tcp_closed_timeout = 30 * NG_USEC,
					.udp_timeout = 120 * NG_USEC, .max_ended = 10};
	struct ends e = {0};
	struct flow_table *ft = flow_table_create(&cfg, on_end, on_release, &e);
	struct flow *udp, *tcp, *closed;

	(void)state;
	udp = add(ft, 1000, 0, 17);
	tcp = add(ft, 1001, 0, 6);
	closed = add(ft, 1002, 0, 6);
	closed->state = FLOW_STATE_CLOSED;
	flow_table_touch(ft, closed);
	assert_int_equal(flow_table_expire(ft, 30 * NG_USEC), 0);	/* exactly at the timeout: still alive */
	assert_int_equal(flow_table_expire(ft, 30 * NG_USEC + 1), 1);
	assert_int_equal(e.last_reason, FLOW_END_CLOSED);
	assert_int_equal(flow_table_expire(ft, 121 * NG_USEC), 1);
	assert_int_equal(e.last_id, udp->id);
	assert_int_equal(e.last_reason, FLOW_END_IDLE);
	/* A packet keeps a flow alive. */
	tcp->dir_last[FLOW_SENT] = 200 * NG_USEC;
	flow_table_touch(ft, tcp);
	assert_int_equal(flow_table_expire(ft, 400 * NG_USEC), 0);
	assert_int_equal(flow_table_expire(ft, 501 * NG_USEC), 1);
	/* Ended flows stay readable by id, but no longer match packets. */
	assert_non_null(flow_table_by_id(ft, udp->id));
	assert_false(udp->end_reason == FLOW_END_NONE);
	flow_table_destroy(ft);
	assert_int_equal(e.released, 3);
}

static void test_eviction_prefers_unanswered(void **state)
{
	struct flow_table_config cfg = {.max_flows = 4, .max_ended = 0};
	struct ends e = {0};
	struct flow_table *ft = flow_table_create(&cfg, on_end, on_release, &e);
	struct flow *real1, *real2, *spoof1;
	struct flow_table_stats st;

	(void)state;
	real1 = add(ft, 1, 1, 17);
	real1->packets[1] = 5;
	real2 = add(ft, 2, 2, 17);
	real2->packets[1] = 5;
	spoof1 = add(ft, 3, 3, 17);
	add(ft, 4, 4, 17);
	(void)spoof1;
	/* Full: the next insert evicts the oldest unanswered flow (port 3), not the older real ones. */
	add(ft, 5, 5, 17);
	assert_int_equal(e.ended, 1);
	assert_int_equal(e.last_reason, FLOW_END_EVICTED);
	assert_int_equal(e.last_id, 3);
	/* A flood of unanswered flows never pushes the real ones out. */
	for (uint16_t p = 100; p < 10000; p++)
		add(ft, p, p, 17);
	assert_non_null(flow_table_by_id(ft, real1->id));
	assert_non_null(flow_table_by_id(ft, real2->id));
	flow_table_get_stats(ft, &st);
	assert_int_equal(st.active, 4);
	assert_int_equal(st.evicted, (uint64_t)(10000 - 100 + 1));
	flow_table_destroy(ft);
}

static void test_kept_ended_are_bounded(void **state)
{
	struct flow_table_config cfg = {.max_ended = 3};
	struct ends e = {0};
	struct flow_table *ft = flow_table_create(&cfg, on_end, on_release, &e);
	struct flow_table_stats st;

	(void)state;
	for (uint16_t p = 1; p <= 10; p++)
		add(ft, p, 0, 17);
	flow_table_expire(ft, 1000 * NG_USEC);
	flow_table_get_stats(ft, &st);
	assert_int_equal(st.ended_kept, 3);
	assert_int_equal(st.active, 0);
	assert_int_equal(e.ended, 10);
	assert_int_equal(e.released, 7);
	assert_null(flow_table_by_id(ft, 1));
	assert_non_null(flow_table_by_id(ft, 10));
	flow_table_destroy(ft);
}

static void test_growth(void **state)
{
	struct flow_table_config cfg = {.max_flows = 100000};
	struct ends e = {0};
	struct flow_table *ft = flow_table_create(&cfg, on_end, on_release, &e);

	(void)state;
	for (uint32_t i = 0; i < 50000; i++) {
		struct flow_key k;
		ng_addr a, b;
		uint8_t ip[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
		bool s;

		a = addr_from_v4(ip);
		addr_parse("1.1.1.1", &b);
		flow_key_make(&k, 17, &a, 1, &b, 2, &s);
		flow_table_insert(ft, &k, flow_key_hash(&k), i);
	}
	for (uint64_t id = 1; id <= 50000; id += 997)
		assert_non_null(flow_table_by_id(ft, id));
	flow_table_destroy(ft);
	assert_int_equal(e.released, 50000);
}

/* Ending flows in random order leaves every other flow findable (the index shifts entries back on delete). */
static void test_index_delete_keeps_others(void **state)
{
	struct flow_table_config cfg = {.max_flows = 100000};
	struct ends e = {0};
	struct flow_table *ft = flow_table_create(&cfg, on_end, on_release, &e);
	static struct flow_key keys[6000];
	static bool gone[6000];
	uint64_t rnd = 88172645463325252ULL;
	ng_addr b;

	(void)state;
	addr_parse("9.9.9.9", &b);
	for (int i = 0; i < 6000; i++) {
		uint8_t ip[4] = {10, 0, (uint8_t)(i >> 8), (uint8_t)i};
		ng_addr a = addr_from_v4(ip);
		bool s;

		flow_key_make(&keys[i], 6, &a, (uint16_t)i, &b, 443, &s);
		flow_table_insert(ft, &keys[i], flow_key_hash(&keys[i]), i);
	}
	for (int round = 0; round < 3000; round++) {
		int i;
		struct flow *f;

		rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
		i = (int)(rnd % 6000);
		f = flow_table_find(ft, &keys[i], flow_key_hash(&keys[i]));
		if (gone[i]) {
			assert_null(f);
			continue;
		}
		assert_non_null(f);
		flow_table_end(ft, f, FLOW_END_IDLE);
		gone[i] = true;
	}
	for (int i = 0; i < 6000; i++) {
		struct flow *f = flow_table_find(ft, &keys[i], flow_key_hash(&keys[i]));

		if (gone[i])
			assert_null(f);
		else
			assert_non_null(f);
	}
	flow_table_destroy(ft);
}

/* A flow idle past its timeout is idle for lookups before expiry reaches it. */
static void test_idle_check(void **state)
{
	struct flow_table_config cfg = {.udp_timeout = 10 * NG_USEC};
	struct ends e = {0};
	struct flow_table *ft = flow_table_create(&cfg, on_end, on_release, &e);
	struct flow *f = add(ft, 1, 0, 17);

	(void)state;
	assert_false(flow_table_idle(ft, f, 10 * NG_USEC));
	assert_true(flow_table_idle(ft, f, 10 * NG_USEC + 1));
	flow_table_destroy(ft);
}

/*
 * The recorded counts a flow keeps in 32 and 48 bits read back as the full
 * 64-bit counts they were set from, also past 2^32 packets and 2^48 bytes,
 * against a plain 64-bit record of the same pushes.
 */
static void test_recorded_counts(void **state)
{
	struct flow f;
	uint64_t rec_p[2] = {0, 0}, rec_b[2] = {0, 0}, x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	memset(&f, 0, sizeof f);
	f.packets[0] = (1ULL << 40) + 5;	/* a direction never pushed reads 0, however much it carried */
	f.bytes[0] = (1ULL << 60) - 1;
	assert_int_equal(flow_recorded_pkts(&f, 0), 0);
	assert_int_equal(flow_recorded_bytes(&f, 0), 0);
	memset(&f, 0, sizeof f);
	for (int i = 0; i < 100000; i++) {
		int d = i & 1;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		f.packets[d] += x % 2000000000ULL;	/* steps up to 2e9 packets and 2^47 bytes */
		f.bytes[d] += (x >> 16) & (((uint64_t)1 << 47) - 1);
		/* Pushed at random, and always before 2^32 packets or 2^48 bytes are unrecorded. */
		if ((x & 4) || f.packets[d] - rec_p[d] >= (1ULL << 31) || f.bytes[d] - rec_b[d] >= (1ULL << 47)) {
			flow_set_recorded(&f, d, i);
			rec_p[d] = f.packets[d];
			rec_b[d] = f.bytes[d];
		}
		assert_int_equal(flow_recorded_pkts(&f, d), rec_p[d]);
		assert_int_equal(flow_recorded_bytes(&f, d), rec_b[d]);
	}
	assert_true(f.packets[0] > (1ULL << 40));
	assert_true(f.bytes[0] > (1ULL << 58));
}

/*
 * Queue times are coarse (65.536 ms units), but a flow still ends at the
 * first expiry after its exact timeout: a head whose last packet came in the
 * unit it was queued in must not hold back an idle flow queued behind it.
 */
static void test_expiry_not_late_behind_early_head(void **state)
{
	struct flow_table_config cfg = {.udp_timeout = 30 * NG_USEC, .max_ended = 10};
	struct ends e = {0};
	struct flow_table *ft = flow_table_create(&cfg, on_end, on_release, &e);
	struct flow *head, *behind;

	(void)state;
	head = add(ft, 1000, 0, 17);
	behind = add(ft, 1001, 10000, 17);	/* 10 ms later, same queue unit */
	head->dir_last[FLOW_SENT] = 50000;	/* head's last packet, still in that unit */
	/* 30.03 s: behind has been idle 30.02 s (> 30), head only 29.98 s. */
	assert_true(flow_table_idle(ft, behind, 30030000));
	assert_false(flow_table_idle(ft, head, 30030000));
	assert_int_equal(flow_table_expire(ft, 30030000), 1);
	assert_int_equal(e.last_id, behind->id);
	assert_int_equal(flow_table_expire(ft, 30050001), 1);
	assert_int_equal(e.last_id, head->id);
	flow_table_destroy(ft);
}

/* A packet clock that jumps further than the queue stamps' range (2^48 us, 8.9 years) still ends what is idle. */
static void test_expiry_after_huge_jump(void **state)
{
	struct flow_table_config cfg = {.udp_timeout = 120 * NG_USEC, .max_ended = 10};
	struct ends e = {0};
	struct flow_table *ft = flow_table_create(&cfg, on_end, on_release, &e);
	ng_time t0 = 1000 * NG_USEC, later = t0 + ((ng_time)1 << 48) + NG_USEC;

	(void)state;
	add(ft, 1000, t0, 17);
	assert_int_equal(flow_table_expire(ft, t0 + NG_USEC), 0);
	assert_true(flow_table_idle(ft, flow_table_by_id(ft, 1), later));
	assert_int_equal(flow_table_expire(ft, later), 1);
	/* And again after that: a flow queued then ends at its timeout. */
	add(ft, 1001, later, 17);
	assert_int_equal(flow_table_expire(ft, later + 121 * NG_USEC), 1);
	flow_table_destroy(ft);
}

/* Times before 1970 (a pcapng's if_tsoffset): the last packet's time is the flow's, not 0. */
static void test_times_before_1970(void **state)
{
	struct flow_table_config cfg = {.udp_timeout = 120 * NG_USEC, .max_ended = 10};
	struct ends e = {0};
	struct flow_table *ft = flow_table_create(&cfg, on_end, on_release, &e);
	ng_time t0 = -3000000000LL * NG_USEC;
	struct flow *f;

	(void)state;
	f = add(ft, 1000, t0, 17);
	assert_true(flow_last_seen(f) == t0);
	assert_false(flow_table_idle(ft, f, t0 + NG_USEC));
	assert_true(flow_table_idle(ft, f, t0 + 121 * NG_USEC));
	assert_int_equal(flow_table_expire(ft, t0 + 121 * NG_USEC), 1);
	flow_table_destroy(ft);
}

/*
 * With every flow answered the oldest list head goes: by time, not by which
 * list comes first, when both heads were queued in the same 65.536 ms unit.
 */
static void test_eviction_oldest_head_within_a_unit(void **state)
{
	struct flow_table_config cfg = {.max_flows = 2, .max_ended = 0};
	struct ends e = {0};
	struct flow_table *ft = flow_table_create(&cfg, on_end, on_release, &e);
	struct flow *udp, *tcp;
	uint64_t udp_id, tcp_id;

	(void)state;
	udp = add(ft, 1, 1000, 17);	/* the older, on the UDP list */
	udp->packets[1] = 1;
	udp_id = udp->id;
	tcp = add(ft, 2, 2000, 6);	/* 1 ms later, on the TCP list (looked at first) */
	tcp->packets[1] = 1;
	tcp_id = tcp->id;
	add(ft, 3, 3000, 17);
	assert_int_equal(e.ended, 1);
	assert_int_equal(e.last_reason, FLOW_END_EVICTED);
	assert_int_equal(e.last_id, udp_id);
	assert_non_null(flow_table_by_id(ft, tcp_id));
	flow_table_destroy(ft);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_directions_find_one_flow),
		cmocka_unit_test(test_expiry_by_class),
		cmocka_unit_test(test_expiry_not_late_behind_early_head),
		cmocka_unit_test(test_expiry_after_huge_jump),
		cmocka_unit_test(test_times_before_1970),
		cmocka_unit_test(test_eviction_prefers_unanswered),
		cmocka_unit_test(test_eviction_oldest_head_within_a_unit),
		cmocka_unit_test(test_kept_ended_are_bounded),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_index_delete_keeps_others),
		cmocka_unit_test(test_idle_check),
		cmocka_unit_test(test_recorded_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
