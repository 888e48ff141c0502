/* SPDX-License-Identifier: BSD-2-Clause */
/* test_detect.c: the program signals (new_program, exe_changed) and the attention they add up to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "detect.h"
#include "flow.h"
#include "whitelist.h"

static const ng_time T0 = 1790000000LL * NG_USEC;
static const ng_time HOUR = 3600LL * NG_USEC;

/* A detector set with the default 48 h window. */
static struct detect *mk(bool off)
{
	struct detect_config c = {.off = off, .window = 48 * HOUR};

	return detect_create(&c);
}

/* An outbound flow with traffic one way (what a fresh connection looks like), verdict `v` that way. */
static struct flow *mkflow(enum wl_verdict v)
{
	struct flow *f = aligned_alloc(_Alignof(struct flow), sizeof *f);	/* flow.h asks for its alignment */

	assert_non_null(f);
	memset(f, 0, sizeof *f);
	f->initiator_local = 1;
	f->packets[FLOW_SENT] = 1;
	flow_verdict_set(f, FLOW_SENT, &(struct wl_verdict_info){.verdict = (uint8_t)v});
	return f;
}

/* True when f carries signal id (as outputs list them). */
static bool has(const struct flow *f, enum sig_id id)
{
	return (detect_signal_mask(f) >> id) & 1;
}

static void rmflow(struct flow *f)
{
	detect_flow_release(f);
	free(f);
}

/* The first flow of a program in the window carries new_program (low); the next ones do not, until the window passes. */
static void test_new_program(void **state)
{
	struct detect *d = mk(false);
	struct flow *a = mkflow(WL_NORMAL), *b = mkflow(WL_NORMAL), *c = mkflow(WL_NORMAL), *o = mkflow(WL_NORMAL);
	struct sig_view sv[SIG_COUNT];
	struct detect_stats st;
	size_t n;

	(void)state;
	assert_true(detect_flow_process(d, a, "/usr/bin/curl", NULL, false, T0));
	assert_true(has(a, SIG_NEW_PROGRAM));
	assert_int_equal(detect_attention(a), NG_ATTN_LOW);
	n = detect_signals(a, 48 * HOUR, sv);
	assert_int_equal(n, 1);
	assert_string_equal(sig_name(sv[0].id), "new_program");
	assert_non_null(strstr(sv[0].reason, "/usr/bin/curl"));
	assert_non_null(strstr(sv[0].reason, "48 h window"));
	/* The hash arriving later answers the same flow again: no second signal, no change. */
	assert_false(detect_flow_process(d, a, "/usr/bin/curl", "00ff", false, T0 + 1));
	assert_false(detect_flow_process(d, b, "/usr/bin/curl", NULL, false, T0 + HOUR));
	assert_false(has(b, SIG_NEW_PROGRAM));
	assert_int_equal(detect_attention(b), NG_ATTN_NONE);
	assert_true(detect_flow_process(d, o, "/usr/bin/wget", NULL, false, T0 + HOUR));
	/* Silent for longer than the window (49 h after its last use): new again. */
	assert_true(detect_flow_process(d, c, "/usr/bin/curl", NULL, false, T0 + HOUR + 49 * HOUR));
	/* No executable path (a kernel thread, an unreadable process): nothing to say. */
	assert_false(detect_flow_process(d, b, NULL, NULL, false, T0));
	detect_get_stats(d, &st);
	assert_int_equal(st.new_program, 3);
	assert_true(st.memory_bytes >= DETECT_PROGRAMS * sizeof(ng_time));
	rmflow(a);
	rmflow(b);
	rmflow(c);
	rmflow(o);
	detect_destroy(d);
}

/* The table holds DETECT_PROGRAMS programs: past that the least recently used one is forgotten (and new again). */
static void test_new_program_bounded(void **state)
{
	struct detect *d = mk(false);
	char exe[64];

	(void)state;
	for (int i = 0; i <= DETECT_PROGRAMS; i++) {
		struct flow *f = mkflow(WL_NORMAL);

		snprintf(exe, sizeof exe, "/opt/p%d", i);
		assert_true(detect_flow_process(d, f, exe, NULL, false, T0 + i));
		rmflow(f);
	}
	{
		struct flow *f = mkflow(WL_NORMAL), *g = mkflow(WL_NORMAL);

		assert_false(detect_flow_process(d, f, "/opt/p4096", NULL, false, T0 + 5000));	/* still known */
		assert_true(detect_flow_process(d, g, "/opt/p0", NULL, false, T0 + 5000));	/* evicted */
		rmflow(f);
		rmflow(g);
	}
	detect_destroy(d);
}

/* exe_changed is low alone or with new_program, high with an anomalous or blocklisted verdict. */
static void test_exe_changed(void **state)
{
	struct detect *d = mk(false);
	struct flow *known = mkflow(WL_NORMAL), *fresh = mkflow(WL_NORMAL), *anom = mkflow(WL_ANOMALOUS);
	struct flow *blk = mkflow(WL_BLOCKLISTED), *nohash = mkflow(WL_NORMAL);
	struct detect_stats st;

	(void)state;
	/* First use of /opt/tool: new_program and exe_changed together stay low. */
	assert_true(detect_flow_process(d, fresh, "/opt/tool", "ab12", true, T0));
	assert_true(has(fresh, SIG_NEW_PROGRAM));
	assert_true(has(fresh, SIG_EXE_CHANGED));
	assert_int_equal(detect_attention(fresh), NG_ATTN_LOW);
	/* A program seen before, replaced: low alone. */
	assert_true(detect_flow_process(d, known, "/opt/tool", "cd34", true, T0 + 1));
	assert_false(has(known, SIG_NEW_PROGRAM));
	assert_int_equal(detect_attention(known), NG_ATTN_LOW);
	/* ... high with a first contact (an anomalous verdict without a known service). */
	assert_true(detect_flow_process(d, anom, "/opt/tool", "cd34", true, T0 + 2));
	assert_int_equal(detect_attention(anom), NG_ATTN_HIGH);
	{
		struct wl_verdict_info v = *flow_verdict(anom, FLOW_SENT);

		v.svc = 1;
		flow_verdict_set(anom, FLOW_SENT, &v);
	}	/* a new address of a known service: low alone, high with exe_changed */
	assert_int_equal(detect_attention(anom), NG_ATTN_HIGH);
	assert_true(detect_flow_process(d, blk, "/opt/tool", "cd34", true, T0 + 3));
	assert_int_equal(detect_attention(blk), NG_ATTN_HIGH);
	/* Not hashed yet: no claim. */
	assert_false(detect_flow_process(d, nohash, "/opt/tool", NULL, true, T0 + 4));
	assert_false(has(nohash, SIG_EXE_CHANGED));
	detect_get_stats(d, &st);
	assert_int_equal(st.exe_changed, 4);
	rmflow(known);
	rmflow(fresh);
	rmflow(anom);
	rmflow(blk);
	rmflow(nohash);
	detect_destroy(d);
}

/* --no-signals: neither signal. */
static void test_off(void **state)
{
	struct detect *d = mk(true);
	struct flow *f = mkflow(WL_ANOMALOUS);

	(void)state;
	assert_false(detect_flow_process(d, f, "/opt/tool", "ab", true, T0));
	assert_false(has(f, SIG_NEW_PROGRAM));
	assert_false(has(f, SIG_EXE_CHANGED));
	rmflow(f);
	detect_destroy(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_program),
		cmocka_unit_test(test_new_program_bounded),
		cmocka_unit_test(test_exe_changed),
		cmocka_unit_test(test_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
