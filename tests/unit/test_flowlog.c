/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_flowlog.c: the JSON Lines flow log: each line is flowjson_object of its flow, rotation by size
 * keeps whole lines and N files, SIGHUP-style reopen follows a moved file, errors are counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "flowjson.h"
#include "flowlog.h"
#include "geoip.h"

static char dir[256];

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(dir, sizeof dir, "%s/test_flowlog.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A flow with a few enrichments, id as given. */
static void make_flow(struct flow *f, struct geo_info *g, uint64_t id)
{
	ng_addr x;

	memset(f, 0, sizeof *f);
	memset(g, 0, sizeof *g);
	addr_parse("192.0.2.10", &x);
	flow_key_set_a(&f->key, &x);
	addr_parse("198.51.100.7", &x);
	flow_key_set_b(&f->key, &x);
	f->key.pa = 40000;
	f->key.pb = 443;
	f->key.proto = 6;
	f->id = id;
	f->initiator_local = true;
	f->packets[0] = 3 + id;
	f->bytes[0] = 300 + id;
	f->packets[1] = 2;
	f->bytes[1] = 2000;
	f->first_seen = flow_ext_get(f)->reply_first = 1700000000LL * NG_USEC;
	f->dir_last[0] = f->first_seen + 1234567;
	f->end_reason = FLOW_END_CLOSED;
	flow_ext_get(f)->domain = "example.org";
	f->domain_source = FLOW_DOMAIN_SNI;
	flow_verdict_set(f, 0, &(struct wl_verdict_info){.verdict = WL_NORMAL});
	flow_verdict_set(f, 1, &(struct wl_verdict_info){.verdict = WL_NORMAL});
	memcpy(g->country, "US", 3);
	g->asn = 64500;
	g->accuracy_km = -1;
	f->geo = g;
}

/* Lines in a file. */
static int count_lines(const char *path)
{
	FILE *fp = fopen(path, "r");
	int c, n = 0;

	assert_non_null(fp);
	while ((c = fgetc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

/* Every line of a file is whole and equals flowjson_object of the flow with the next id from first_id; returns the count. */
static int check_lines(const char *path, uint64_t first_id)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int count = 0;

	assert_non_null(fp);
	while ((n = getline(&line, &cap, fp)) > 0) {
		cJSON *o, *want;
		struct flow f;
		struct geo_info g;
		char *a, *b;

		assert_int_equal(line[n - 1], '\n');
		line[n - 1] = '\0';
		o = cJSON_Parse(line);
		assert_non_null(o);
		make_flow(&f, &g, first_id + (uint64_t)count);
		want = flowjson_object(&f, 48LL * 3600 * NG_USEC);
		a = cJSON_PrintUnformatted(o);
		b = cJSON_PrintUnformatted(want);
		assert_string_equal(a, b);
		free(a);
		free(b);
		cJSON_Delete(o);
		cJSON_Delete(want);
		count++;
	}
	free(line);
	fclose(fp);
	return count;
}

static void test_lines_are_flowjson(void **state)
{
	struct flowlog_options o;
	struct flowlog_stats st;
	struct flowlog *l;
	struct flow f;
	struct geo_info g;
	char path[512], err[256];

	(void)state;
	snprintf(path, sizeof path, "%s/flows.jsonl", dir);
	memset(&o, 0, sizeof o);
	o.path = path;
	o.window = 48LL * 3600 * NG_USEC;
	l = flowlog_open(&o, err, sizeof err);
	assert_non_null(l);
	for (uint64_t i = 1; i <= 100; i++) {
		make_flow(&f, &g, i);
		flowlog_write(l, &f);
	}
	flowlog_tick(l, 0);
	assert_int_equal(check_lines(path, 1), 100);
	flowlog_get_stats(l, &st);
	assert_int_equal(st.lines, 100);
	assert_int_equal(st.dropped, 0);
	flowlog_close(l);
	/* Appends, never truncates. */
	l = flowlog_open(&o, err, sizeof err);
	make_flow(&f, &g, 101);
	flowlog_write(l, &f);
	flowlog_close(l);
	assert_int_equal(check_lines(path, 1), 101);
}

static void test_rotation(void **state)
{
	struct flowlog_options o;
	struct flowlog_stats st;
	struct flowlog *l;
	struct flow f;
	struct geo_info g;
	struct stat sb;
	char path[512], p1[600], p2[600], p3[600], err[256];
	int n0, n1, n2;

	(void)state;
	snprintf(path, sizeof path, "%s/rot.jsonl", dir);
	snprintf(p1, sizeof p1, "%s.1", path);
	snprintf(p2, sizeof p2, "%s.2", path);
	snprintf(p3, sizeof p3, "%s.3", path);
	memset(&o, 0, sizeof o);
	o.path = path;
	o.window = 48LL * 3600 * NG_USEC;
	o.max_bytes = 10000;
	o.keep = 2;
	l = flowlog_open(&o, err, sizeof err);
	assert_non_null(l);
	for (uint64_t i = 1; i <= 200; i++) {
		make_flow(&f, &g, i);
		flowlog_write(l, &f);
	}
	flowlog_get_stats(l, &st);
	assert_true(st.rotations >= 3);
	assert_int_equal(st.lines, 200);
	flowlog_close(l);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size <= 10000);
	assert_int_equal(stat(p1, &sb), 0);
	assert_true(sb.st_size <= 10000 && sb.st_size > 5000);
	assert_int_equal(stat(p2, &sb), 0);
	assert_int_not_equal(stat(p3, &sb), 0);
	/* Whole lines in order across the files: FILE.2 oldest, then FILE.1, then FILE. */
	n0 = count_lines(path);
	n1 = count_lines(p1);
	n2 = count_lines(p2);
	assert_true(n0 > 0 && n1 > 0 && n2 > 0);
	assert_true(n0 + n1 + n2 < 200);	/* the oldest lines went with FILE.3 */
	assert_int_equal(check_lines(path, (uint64_t)(201 - n0)), n0);
	assert_int_equal(check_lines(p1, (uint64_t)(201 - n0 - n1)), n1);
	assert_int_equal(check_lines(p2, (uint64_t)(201 - n0 - n1 - n2)), n2);
}

static void test_reopen(void **state)
{
	struct flowlog_options o;
	struct flowlog *l;
	struct flow f;
	struct geo_info g;
	char path[512], moved[600], err[256];

	(void)state;
	snprintf(path, sizeof path, "%s/hup.jsonl", dir);
	snprintf(moved, sizeof moved, "%s.moved", path);
	memset(&o, 0, sizeof o);
	o.path = path;
	o.window = 48LL * 3600 * NG_USEC;
	l = flowlog_open(&o, err, sizeof err);
	assert_non_null(l);
	make_flow(&f, &g, 1);
	flowlog_write(l, &f);
	flowlog_flush(l);
	/* logrotate: move the file, then SIGHUP; the buffered line goes to the old file before the reopen. */
	assert_int_equal(rename(path, moved), 0);
	make_flow(&f, &g, 2);
	flowlog_write(l, &f);
	flowlog_reopen(l);
	make_flow(&f, &g, 3);
	flowlog_write(l, &f);
	flowlog_close(l);
	assert_int_equal(check_lines(moved, 1), 2);
	assert_int_equal(check_lines(path, 3), 1);
}

static void test_errors(void **state)
{
	struct flowlog_options o;
	struct config cfg;
	char path[512], err[256];

	(void)state;
	snprintf(path, sizeof path, "%s/no/such/dir/flows.jsonl", dir);
	memset(&o, 0, sizeof o);
	o.path = path;
	assert_null(flowlog_open(&o, err, sizeof err));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "--flow-log"));
	/* "-" is standard output, which --dump already writes. */
	config_init(&cfg);
	cfg.dump = true;
	cfg.flow_log = xstrdup("-");
	assert_null(flowlog_open_config(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "--dump"));
	config_free(&cfg);
}

/* Stats JSON: the keys /api/stats shows, also when the log is off. */
static void test_stats_json(void **state)
{
	cJSON *o = cJSON_CreateObject();

	(void)state;
	flowlog_stats_json(NULL, o);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "flowlog_file")));
	assert_int_equal(cJSON_GetObjectItem(o, "flowlog_lines")->valuedouble, 0);
	assert_non_null(cJSON_GetObjectItem(o, "flowlog_dropped"));
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_are_flowjson),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_stats_json),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
