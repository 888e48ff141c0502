/* SPDX-License-Identifier: BSD-2-Clause */
/* test_events.c: the SSE event ring: ids, exact resumption, both bounds, and gaps from events without data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "events.h"
#include "util.h"

/* What events_since delivered: ids in order and the concatenated text. */
struct seen {
	uint64_t ids[256];
	size_t n;
	char text[65536];
	size_t len;
	size_t stop_after;	/* stop the walk after this many (0: never) */
};

static int collect_cb(void *arg, uint64_t id, const char *sse, size_t len)
{
	struct seen *s = arg;

	assert_true(s->n < NG_ARRAY_LEN(s->ids));
	assert_int_equal(strlen(sse), len);
	s->ids[s->n++] = id;
	assert_true(s->len + len < sizeof s->text);
	memcpy(s->text + s->len, sse, len);
	s->len += len;
	s->text[s->len] = '\0';
	return s->stop_after && s->n >= s->stop_after;
}

/* Publish n events of type "flow-new" with data {"i":K}. */
static void publish_n(struct event_ring *r, int n)
{
	char data[64];

	for (int i = 0; i < n; i++) {
		snprintf(data, sizeof data, "{\"i\":%llu}", (unsigned long long)events_last_id(r) + 1);
		events_publish(r, "flow-new", data);
	}
}

static void test_ids_and_format(void **state)
{
	struct event_ring *r = events_create(16, 0);
	const char *t;
	size_t len;

	(void)state;
	assert_int_equal(events_last_id(r), 0);
	assert_int_equal(events_publish(r, "flow-new", "{\"id\":1}"), 1);
	assert_int_equal(events_publish(r, "stats", "{}"), 2);
	assert_int_equal(events_last_id(r), 2);
	t = events_get(r, 1, &len);
	assert_non_null(t);
	assert_string_equal(t, "id: 1\nevent: flow-new\ndata: {\"id\":1}\n\n");
	assert_int_equal(len, strlen(t));
	assert_null(events_get(r, 3, &len));
	assert_null(events_get(r, 0, &len));
	/* A line break inside data becomes a new data: line; a hostile type cannot add fields. */
	events_publish(r, "bad\ntype: x", "a\nb\r\nc\rd");
	t = events_get(r, 3, NULL);
	assert_string_equal(t, "id: 3\nevent: bad_type__x\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
	events_destroy(r);
}

static void test_resume_exact(void **state)
{
	struct event_ring *r = events_create(64, 0);
	struct seen s;

	(void)state;
	publish_n(r, 10);
	memset(&s, 0, sizeof s);
	assert_int_equal(events_since(r, 4, collect_cb, &s), 0);
	assert_int_equal(s.n, 6);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(s.ids[i], 5 + i);
	assert_non_null(strstr(s.text, "id: 5\nevent: flow-new\ndata: {\"i\":5}\n\n"));
	/* From the newest: nothing to send, but resumable. */
	memset(&s, 0, sizeof s);
	assert_int_equal(events_since(r, 10, collect_cb, &s), 0);
	assert_int_equal(s.n, 0);
	/* From zero: everything (nothing was dropped yet). */
	memset(&s, 0, sizeof s);
	assert_int_equal(events_since(r, 0, collect_cb, &s), 0);
	assert_int_equal(s.n, 10);
	/* From the future (a client of an earlier run): reset. */
	assert_int_equal(events_since(r, 11, collect_cb, &s), -1);
	/* The callback may stop early. */
	memset(&s, 0, sizeof s);
	s.stop_after = 3;
	assert_int_equal(events_since(r, 0, collect_cb, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ids[2], 3);
	events_destroy(r);
}

static void test_resume_older_than_ring(void **state)
{
	struct event_ring *r = events_create(8, 0);
	struct events_stats st;
	struct seen s;

	(void)state;
	publish_n(r, 20);		/* keeps 13..20 */
	events_get_stats(r, &st);
	assert_int_equal(st.published, 20);
	assert_int_equal(st.stored, 8);
	assert_int_equal(st.oldest_id, 13);
	memset(&s, 0, sizeof s);
	assert_int_equal(events_since(r, 11, collect_cb, &s), -1);	/* 12 is gone */
	assert_int_equal(s.n, 0);
	assert_int_equal(events_since(r, 0, collect_cb, &s), -1);
	assert_int_equal(events_backlog(r, 11), SIZE_MAX);
	assert_int_equal(events_since(r, 12, collect_cb, &s), 0);	/* 13.. all there */
	assert_int_equal(s.n, 8);
	assert_int_equal(s.ids[0], 13);
	assert_int_equal(s.ids[7], 20);
	assert_null(events_get(r, 12, NULL));
	assert_non_null(events_get(r, 13, NULL));
	events_destroy(r);
}

static void test_byte_bound(void **state)
{
	char data[1000];
	struct event_ring *r;
	struct events_stats st;
	struct seen s;
	size_t one;

	(void)state;
	memset(data, 'x', sizeof data - 1);
	data[sizeof data - 1] = '\0';
	r = events_create(1000, 4096);
	events_publish(r, "e", data);
	one = strlen(events_get(r, 1, NULL));
	for (int i = 0; i < 49; i++)
		events_publish(r, "e", data);
	events_get_stats(r, &st);
	assert_true(st.bytes <= 4096);
	assert_int_equal(st.stored, 4096 / (one + 1));	/* ids 10..50 have two digits */
	assert_int_equal(st.oldest_id, 50 - st.stored + 1);
	assert_int_equal(events_backlog(r, 50), 0);
	assert_int_equal(events_backlog(r, 49), strlen(events_get(r, 50, NULL)));
	assert_int_equal(events_backlog(r, st.oldest_id - 1), st.bytes);
	memset(&s, 0, sizeof s);
	assert_int_equal(events_since(r, st.oldest_id - 2, collect_cb, &s), -1);
	/* An event larger than the whole ring cannot be stored: it is a gap. */
	{
		char *big = xmalloc(8192);

		memset(big, 'y', 8191);
		big[8191] = '\0';
		assert_int_equal(events_publish(r, "e", big), 51);
		free(big);
	}
	events_get_stats(r, &st);
	assert_int_equal(st.stored, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(events_since(r, 50, collect_cb, &s), -1);
	assert_int_equal(events_since(r, 51, collect_cb, &s), 0);
	events_destroy(r);
}

static void test_null_data_invalidates(void **state)
{
	struct event_ring *r = events_create(64, 0);
	struct seen s;

	(void)state;
	publish_n(r, 5);
	assert_int_equal(events_publish(r, "flow-new", NULL), 6);	/* nobody listened */
	publish_n(r, 3);						/* 7..9 */
	assert_int_equal(events_last_id(r), 9);
	memset(&s, 0, sizeof s);
	assert_int_equal(events_since(r, 3, collect_cb, &s), -1);
	assert_int_equal(events_since(r, 5, collect_cb, &s), -1);	/* 6 has no text */
	assert_int_equal(events_backlog(r, 5), SIZE_MAX);
	assert_null(events_get(r, 6, NULL));
	assert_int_equal(events_since(r, 6, collect_cb, &s), 0);	/* just after the gap */
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ids[0], 7);
	/* Several gaps in a row; then nothing stored at all, resuming at the newest still works. */
	events_publish(r, "x", NULL);
	events_publish(r, "x", NULL);
	assert_int_equal(events_since(r, 9, collect_cb, &s), -1);
	assert_int_equal(events_since(r, 11, collect_cb, &s), 0);
	assert_int_equal(events_backlog(r, 11), 0);
	events_destroy(r);
}

static void test_wraparound_many(void **state)
{
	struct event_ring *r = events_create(7, 0);
	struct seen s;

	(void)state;
	/* Many laps around a small ring: the window is always the newest 7, contiguous. */
	for (int lap = 0; lap < 100; lap++) {
		uint64_t last;

		publish_n(r, 1 + lap % 5);
		last = events_last_id(r);
		memset(&s, 0, sizeof s);
		assert_int_equal(events_since(r, last >= 7 ? last - 7 : 0, collect_cb, &s), 0);
		assert_int_equal(s.n, last >= 7 ? 7 : last);
		for (size_t i = 1; i < s.n; i++)
			assert_int_equal(s.ids[i], s.ids[i - 1] + 1);
		assert_int_equal(s.ids[s.n - 1], last);
		if (last > 8)
			assert_int_equal(events_since(r, last - 8, collect_cb, &s), -1);
	}
	events_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_and_format),
		cmocka_unit_test(test_resume_exact),
		cmocka_unit_test(test_resume_older_than_ring),
		cmocka_unit_test(test_byte_bound),
		cmocka_unit_test(test_null_data_invalidates),
		cmocka_unit_test(test_wraparound_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
