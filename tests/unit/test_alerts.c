/* SPDX-License-Identifier: BSD-2-Clause */
/* test_alerts.c: alert dedup and cap, alerts.jsonl rotation, argv splitting, and --on-alert runs (no shell, timeout, cap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "alerts.h"
#include "detect.h"
#include "flow.h"
#include "util.h"
#include "whitelist.h"

#define T0 (1700000000LL * NG_USEC)

static char tmpdir[512];

/* A scratch directory under $TMPDIR, removed by teardown. */
static int setup_tmp(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/test_alerts.XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

/* Remove the scratch directory (one level of files). */
static int teardown_tmp(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	char p[1024];

	(void)state;
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", tmpdir, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
	return 0;
}

/* A flow from 192.168.1.10:50000 to `remote`:443 with `verdict` in both directions, starting at t. */
static void make_flow(struct flow *f, uint64_t id, const char *remote, uint8_t verdict, ng_time t)
{
	ng_addr x;

	memset(f, 0, sizeof *f);
	f->id = id;
	assert_int_equal(addr_parse("192.168.1.10", &x), 0);
	flow_key_set_a(&f->key, &x);
	assert_int_equal(addr_parse(remote, &x), 0);
	flow_key_set_b(&f->key, &x);
	f->key.pa = 50000;
	f->key.pb = 443;
	f->key.proto = 6;
	f->local_is_b = false;
	f->initiator_local = true;
	f->first_seen = t;	/* the first packet was sent */
	flow_ext_get(f)->reply_first = t + 1000;
	for (int d = 0; d < 2; d++) {
		struct wl_verdict_info v = {0};

		v.verdict = verdict;
		v.why = verdict == WL_BLOCKLISTED ? WL_WHY_BLOCKLISTED : WL_WHY_FIRST_CONTACT;
		v.first = v.last = NG_TIME_NONE;
		if (verdict == WL_BLOCKLISTED) {
			v.rule = str_intern("feodo.txt");
			v.entry = str_intern(remote);
		}
		flow_verdict_set(f, d, &v);
	}
	f->verdict = verdict;
}

static struct alerts *create(struct alerts_options *o)
{
	char err[512] = "";
	struct alerts *a = alerts_create(o, err, sizeof err);

	if (!a)
		fail_msg("alerts_create: %s", err);
	return a;
}

/* Raise and say whether it was raised (freeing the text). */
static bool raise1(struct alerts *a, const struct flow *f, enum flow_dir d)
{
	char *t = alerts_raise(a, f, d, 48 * 3600 * NG_USEC, false);
	bool raised = t != NULL;

	free(t);
	return raised;
}

static void test_argv_split(void **state)
{
	static const struct {
		const char *cmd;
		const char *argv[6];
	} ok[] = {
		{"sh -c 'echo $X'", {"sh", "-c", "echo $X"}},
		{"  /usr/bin/logger   -t netglobe  ", {"/usr/bin/logger", "-t", "netglobe"}},
		{"a \"b c\" 'd e'", {"a", "b c", "d e"}},
		{"a \"say \\\"hi\\\" \\\\ \\n\"", {"a", "say \"hi\" \\ \\n"}},
		{"a b\\ c \\'d", {"a", "b c", "'d"}},
		{"x'y z'w \"\" ''", {"xy zw", "", ""}},
		{"notify `id` $(reboot) ; rm -rf / | cat > /etc/x *", {"notify", "`id`", "$(reboot)", ";", "rm", "-rf"}},
		{"tab\tsep\nnl", {"tab", "sep", "nl"}},
	};
	static const char *const bad[] = {"", "   ", "sh -c 'unterminated", "a \"b", "trailing \\", NULL};
	char err[256];

	(void)state;
	for (size_t i = 0; i < NG_ARRAY_LEN(ok); i++) {
		char **argv = alerts_argv_split(ok[i].cmd, err, sizeof err);
		size_t n = 0;

		assert_non_null(argv);
		for (; n < NG_ARRAY_LEN(ok[i].argv) && ok[i].argv[n]; n++)
			assert_string_equal(argv[n], ok[i].argv[n]);
		if (i != 6)	/* the long one is checked for its first six only */
			assert_null(argv[n]);
		alerts_argv_free(argv);
	}
	for (size_t i = 0; bad[i]; i++) {
		err[0] = '\0';
		assert_null(alerts_argv_split(bad[i], err, sizeof err));
		assert_true(strstr(err, "--on-alert") != NULL);
	}
}

static void test_dedup(void **state)
{
	struct alerts_options o = {0};
	struct alerts *a;
	struct alerts_stats st;
	struct flow f;
	char *txt;
	cJSON *j;

	(void)state;
	o.by_verdict = true;	/* --alert-on anomalous: the first version's rule */
	a = create(&o);
	make_flow(&f, 1, "203.0.113.5", WL_ANOMALOUS, T0);
	assert_true(raise1(a, &f, FLOW_SENT));
	assert_true(raise1(a, &f, FLOW_RECEIVED));	/* the other direction is its own alert */
	/* More flows to the same remote within the hour: counted, not raised. */
	for (int i = 0; i < 5; i++) {
		make_flow(&f, 2 + (uint64_t)i, "203.0.113.5", WL_ANOMALOUS, T0 + (i + 1) * 60 * NG_USEC);
		assert_false(raise1(a, &f, FLOW_SENT));
	}
	/* Another remote, and the same remote turning blocklisted, are new. */
	make_flow(&f, 10, "203.0.113.6", WL_ANOMALOUS, T0 + NG_USEC);
	assert_true(raise1(a, &f, FLOW_SENT));
	make_flow(&f, 11, "203.0.113.5", WL_BLOCKLISTED, T0 + 2 * NG_USEC);
	assert_true(raise1(a, &f, FLOW_SENT));
	/* After the period the remote alerts again, carrying the repeats it had. */
	make_flow(&f, 12, "203.0.113.5", WL_ANOMALOUS, T0 + 3601 * NG_USEC);
	txt = alerts_raise(a, &f, FLOW_SENT, 48 * 3600 * NG_USEC, true);
	assert_non_null(txt);
	j = cJSON_Parse(txt);
	assert_non_null(j);
	assert_int_equal(cJSON_GetObjectItem(j, "repeats")->valueint, 5);
	assert_int_equal(cJSON_GetObjectItem(j, "id")->valueint, 5);
	assert_int_equal(cJSON_GetObjectItem(j, "flow_id")->valueint, 12);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "learning")));
	cJSON_Delete(j);
	free(txt);
	/* IPv6 remotes are keyed as well. */
	make_flow(&f, 13, "2001:db8::1", WL_ANOMALOUS, T0 + 3602 * NG_USEC);
	assert_true(raise1(a, &f, FLOW_SENT));
	assert_false(raise1(a, &f, FLOW_SENT));
	alerts_get_stats(a, &st);
	assert_int_equal(st.raised, 6);
	assert_int_equal(st.repeats, 6);
	assert_int_equal(st.suppressed, 0);
	assert_int_equal(st.candidates, 12);
	alerts_destroy(a);
}

static void test_alert_json(void **state)
{
	struct alerts_options o = {0};
	struct alerts *a;
	struct flow f;
	char *txt;
	cJSON *j, *b;

	(void)state;
	a = create(&o);
	make_flow(&f, 42, "198.51.100.9", WL_BLOCKLISTED, T0);
	flow_ext_get(&f)->domain = "evil.example";
	f.domain_source = FLOW_DOMAIN_DNS;
	txt = alerts_raise(a, &f, FLOW_RECEIVED, 48 * 3600 * NG_USEC, false);
	assert_non_null(txt);
	assert_null(strchr(txt, '\n'));
	j = cJSON_Parse(txt);
	assert_non_null(j);
	assert_int_equal(cJSON_GetObjectItem(j, "id")->valueint, 1);
	assert_string_equal(cJSON_GetObjectItem(j, "time")->valuestring, "2023-11-14T22:13:20.001000Z");
	assert_int_equal(cJSON_GetObjectItem(j, "flow_id")->valueint, 42);
	assert_string_equal(cJSON_GetObjectItem(j, "direction")->valuestring, "received");
	assert_string_equal(cJSON_GetObjectItem(j, "verdict")->valuestring, "blocklisted");
	assert_true(strstr(cJSON_GetObjectItem(j, "reason")->valuestring, "feodo.txt") != NULL);
	assert_string_equal(cJSON_GetObjectItem(j, "remote_ip")->valuestring, "198.51.100.9");
	assert_int_equal(cJSON_GetObjectItem(j, "remote_port")->valueint, 443);
	assert_string_equal(cJSON_GetObjectItem(j, "remote_domain")->valuestring, "evil.example");
	assert_string_equal(cJSON_GetObjectItem(j, "proto")->valuestring, "tcp");
	assert_string_equal(cJSON_GetObjectItem(j, "local_ip")->valuestring, "192.168.1.10");
	assert_int_equal(cJSON_GetObjectItem(j, "local_port")->valueint, 50000);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "process")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "geo")));
	b = cJSON_GetObjectItem(j, "blocklist");
	assert_string_equal(cJSON_GetObjectItem(b, "list")->valuestring, "feodo.txt");
	assert_string_equal(cJSON_GetObjectItem(b, "entry")->valuestring, "198.51.100.9");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "learning")));
	assert_int_equal(cJSON_GetObjectItem(j, "repeats")->valueint, 0);
	cJSON_Delete(j);
	free(txt);
	alerts_destroy(a);
}

static void test_global_cap(void **state)
{
	struct alerts_options o = {0};
	struct alerts *a;
	struct alerts_stats st;
	struct flow f;
	char ip[64];

	(void)state;
	o.max_per_minute = 5;
	a = create(&o);
	for (int i = 0; i < 12; i++) {
		snprintf(ip, sizeof ip, "203.0.113.%d", i + 1);
		make_flow(&f, (uint64_t)i + 1, ip, WL_ANOMALOUS, T0 + i * NG_USEC);
		assert_int_equal(raise1(a, &f, FLOW_SENT), i < 5);
	}
	/* A suppressed remote is not remembered: the next minute it is raised. */
	make_flow(&f, 100, "203.0.113.12", WL_ANOMALOUS, T0 + 61 * NG_USEC);
	assert_true(raise1(a, &f, FLOW_SENT));
	/* But a raised one still counts as a repeat. */
	make_flow(&f, 101, "203.0.113.1", WL_ANOMALOUS, T0 + 62 * NG_USEC);
	assert_false(raise1(a, &f, FLOW_SENT));
	alerts_get_stats(a, &st);
	assert_int_equal(st.raised, 6);
	assert_int_equal(st.suppressed, 7);
	assert_int_equal(st.repeats, 1);
	alerts_destroy(a);
}

/* A flood of distinct remotes: the dedup table stays at its size and evicts the oldest. */
static void test_dedup_bounded(void **state)
{
	struct alerts_options o = {0};
	struct alerts *a;
	struct alerts_stats st;
	struct flow f;
	char ip[64];

	(void)state;
	o.dedup_entries = 64;
	o.max_per_minute = 1000000;
	a = create(&o);
	for (int i = 0; i < 20000; i++) {
		snprintf(ip, sizeof ip, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		make_flow(&f, (uint64_t)i + 1, ip, WL_BLOCKLISTED, T0 + i);
		assert_true(raise1(a, &f, FLOW_RECEIVED));
	}
	alerts_get_stats(a, &st);
	assert_int_equal(st.raised, 20000);
	assert_true(st.dedup_evicted >= 20000 - 64);
	/* The newest remote is still remembered. */
	assert_false(raise1(a, &f, FLOW_RECEIVED));
	alerts_destroy(a);
}

/* Count lines in a file; each must be a JSON object with an id; the ids go to ids[]. */
static size_t read_ids(const char *path, int *ids, size_t max, size_t *bytes)
{
	FILE *fp = fopen(path, "r");
	char line[8192];
	size_t n = 0;
	struct stat sb;

	*bytes = 0;
	if (!fp)
		return 0;
	if (fstat(fileno(fp), &sb) == 0)
		*bytes = (size_t)sb.st_size;
	while (fgets(line, sizeof line, fp)) {
		cJSON *j = cJSON_Parse(line);

		assert_non_null(j);
		assert_true(line[strlen(line) - 1] == '\n');
		assert_true(n < max);
		ids[n++] = cJSON_GetObjectItem(j, "id")->valueint;
		cJSON_Delete(j);
	}
	fclose(fp);
	return n;
}

static void test_rotation(void **state)
{
	struct alerts_options o = {0};
	struct alerts *a;
	struct flow f;
	char ip[64], path[1024];
	int ids[4][200];
	size_t n[4], bytes;

	(void)state;
	o.state_dir = tmpdir;
	o.file_max_bytes = 3000;
	o.file_keep = 2;
	o.max_per_minute = 100000;
	a = create(&o);
	for (int i = 0; i < 60; i++) {
		snprintf(ip, sizeof ip, "203.0.113.%d", i + 1);
		make_flow(&f, (uint64_t)i + 1, ip, WL_ANOMALOUS, T0 + i * NG_USEC);
		assert_true(raise1(a, &f, FLOW_SENT));
	}
	alerts_destroy(a);
	snprintf(path, sizeof path, "%s/alerts.jsonl", tmpdir);
	n[0] = read_ids(path, ids[0], 200, &bytes);
	assert_true(n[0] > 0 && bytes <= 3000);
	for (int k = 1; k <= 3; k++) {
		snprintf(path, sizeof path, "%s/alerts.jsonl.%d", tmpdir, k);
		n[k] = read_ids(path, ids[k], 200, &bytes);
		assert_true(bytes <= 3000);
	}
	assert_true(n[1] > 0 && n[2] > 0);
	assert_int_equal(n[3], 0);	/* only two kept */
	/* Newest in alerts.jsonl, then .1, then .2: ids contiguous up to 60, none lost in between. */
	{
		int expect = 60;

		for (int k = 0; k <= 2; k++) {
			for (size_t i = n[k]; i-- > 0;)
				assert_int_equal(ids[k][i], expect--);
		}
		assert_true(expect > 0);	/* the oldest went with the rotation */
	}
	/* A new run continues the ids. */
	a = create(&o);
	make_flow(&f, 1, "198.51.100.1", WL_ANOMALOUS, T0);
	{
		char *txt = alerts_raise(a, &f, FLOW_SENT, 48 * 3600 * NG_USEC, false);
		cJSON *j = cJSON_Parse(txt);

		assert_int_equal(cJSON_GetObjectItem(j, "id")->valueint, 61);
		cJSON_Delete(j);
		free(txt);
	}
	alerts_destroy(a);
	/* An unwritable state dir is a start-up error that names the file. */
	{
		char err[512] = "";

		o.state_dir = "/nonexistent/dir";
		assert_null(alerts_create(&o, err, sizeof err));
		assert_true(strstr(err, "/nonexistent/dir/alerts.jsonl") != NULL);
	}
}

/* Read a whole small file into buf (NUL-terminated); its length, or -1. */
static ssize_t slurp(const char *path, char *buf, size_t len)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	if (!fp)
		return -1;
	n = fread(buf, 1, len - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return (ssize_t)n;
}

/* Packet data reaches the command only as JSON on stdin: never as code, never in argv. */
static void test_no_shell(void **state)
{
	struct alerts_options o = {0};
	struct alerts *a;
	struct alerts_stats st;
	struct flow f;
	char cmd[4096], domain[4096], out[8192], path[1024];
	cJSON *j;

	(void)state;
	/* The command's own $X, $0 and $NETGLOBE_ALERT_* are the shell's business; the data is not. */
	snprintf(cmd, sizeof cmd,
		 "sh -c 'cat > \"$0/stdin.json\"; printf \"%%s|%%s|%%s|%%s|%%s\" \"$X\" \"$NETGLOBE_ALERT_ID\" "
		 "\"$NETGLOBE_ALERT_VERDICT\" \"$NETGLOBE_ALERT_DIRECTION\" \"$NETGLOBE_ALERT_REMOTE_IP\" > \"$0/env\"; "
		 "echo $# > \"$0/argc\"' %s",
		 tmpdir);
	snprintf(domain, sizeof domain,
		 "$(touch %s/pwned1)`touch %s/pwned2`;touch %s/pwned3;'\"\\ $X|| touch %s/pwned4 #.example", tmpdir,
		 tmpdir, tmpdir, tmpdir);
	setenv("X", "from-env", 1);
	o.command = cmd;
	o.timeout = 5 * NG_USEC;
	a = create(&o);
	make_flow(&f, 7, "203.0.113.77", WL_ANOMALOUS, T0);
	flow_ext_get(&f)->domain = domain;
	assert_true(raise1(a, &f, FLOW_SENT));
	alerts_drain(a, 5 * NG_USEC);
	alerts_get_stats(a, &st);
	assert_int_equal(st.commands_run, 1);
	assert_int_equal(st.command_failures, 0);
	assert_int_equal(st.running, 0);
	alerts_destroy(a);

	for (int i = 1; i <= 4; i++) {
		snprintf(path, sizeof path, "%s/pwned%d", tmpdir, i);
		assert_int_equal(access(path, F_OK), -1);
	}
	snprintf(path, sizeof path, "%s/stdin.json", tmpdir);
	assert_true(slurp(path, out, sizeof out) > 0);
	assert_true(out[strlen(out) - 1] == '\n');
	j = cJSON_Parse(out);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "remote_domain")->valuestring, domain);
	assert_string_equal(cJSON_GetObjectItem(j, "remote_ip")->valuestring, "203.0.113.77");
	cJSON_Delete(j);
	snprintf(path, sizeof path, "%s/env", tmpdir);
	assert_true(slurp(path, out, sizeof out) > 0);
	assert_string_equal(out, "from-env|1|anomalous|sent|203.0.113.77");
	snprintf(path, sizeof path, "%s/argc", tmpdir);
	assert_true(slurp(path, out, sizeof out) > 0);
	assert_string_equal(out, "0\n");	/* only $0 = the directory: nothing from the alert */
	unsetenv("X");
}

/* A command that hangs is terminated at its timeout; one that ignores SIGTERM is killed 2 s later. */
static void test_timeout_kill(void **state)
{
	struct alerts_options o = {0};
	struct alerts *a;
	struct alerts_stats st;
	struct flow f;
	char cmd[4096], path[1024], buf[64];
	ng_time t0, el;
	long pid;

	(void)state;
	o.command = "sleep 60";
	o.timeout = 300 * 1000;
	a = create(&o);
	make_flow(&f, 1, "203.0.113.1", WL_ANOMALOUS, T0);
	t0 = time_mono();
	assert_true(raise1(a, &f, FLOW_SENT));
	alerts_drain(a, 10 * NG_USEC);
	el = time_mono() - t0;
	alerts_get_stats(a, &st);
	assert_int_equal(st.running, 0);
	assert_int_equal(st.commands_killed, 1);
	assert_int_equal(st.command_failures, 0);
	assert_true(el >= 300 * 1000 && el < 2 * NG_USEC);
	alerts_destroy(a);

	/* SIGTERM ignored by the command and its child: SIGKILL to the whole group. */
	snprintf(path, sizeof path, "%s/pid", tmpdir);
	snprintf(cmd, sizeof cmd, "sh -c 'trap \"\" TERM; sleep 60 & echo $! > %s; wait'", path);
	o.command = cmd;
	a = create(&o);
	t0 = time_mono();
	assert_true(raise1(a, &f, FLOW_SENT));
	alerts_drain(a, 10 * NG_USEC);
	el = time_mono() - t0;
	alerts_get_stats(a, &st);
	assert_int_equal(st.running, 0);
	assert_int_equal(st.commands_killed, 1);
	assert_true(el >= 2 * NG_USEC && el < 4 * NG_USEC);
	alerts_destroy(a);
	assert_true(slurp(path, buf, sizeof buf) > 0);
	pid = strtol(buf, NULL, 10);
	assert_true(pid > 1);
	/* The grandchild got SIGKILL too: gone, or a zombie waiting for init. */
	for (int i = 0; i < 100; i++) {
		char st_path[64], stat[512];

		snprintf(st_path, sizeof st_path, "/proc/%ld/stat", pid);
		if (slurp(st_path, stat, sizeof stat) < 0 || strstr(stat, ") Z "))
			break;
		assert_true(i < 99);
		usleep(10000);
	}
}

/* At most max_running at once; the rest wait in the queue, overflow is counted. */
static void test_concurrency(void **state)
{
	struct alerts_options o = {0};
	struct alerts *a;
	struct alerts_stats st;
	struct flow f;
	char cmd[4096], path[1024], ip[64], log[4096];
	int cur = 0, max = 0, starts = 0;

	(void)state;
	snprintf(path, sizeof path, "%s/conc", tmpdir);
	snprintf(cmd, sizeof cmd, "sh -c 'echo + >> %s; sleep 0.3; echo - >> %s'", path, path);
	o.command = cmd;
	o.max_running = 2;
	o.max_queued = 3;
	a = create(&o);
	for (int i = 0; i < 7; i++) {
		snprintf(ip, sizeof ip, "203.0.113.%d", i + 1);
		make_flow(&f, (uint64_t)i + 1, ip, WL_ANOMALOUS, T0 + i);
		assert_true(raise1(a, &f, FLOW_SENT));
	}
	alerts_get_stats(a, &st);
	assert_int_equal(st.running, 2);
	assert_int_equal(st.queued, 3);
	assert_int_equal(st.commands_dropped, 2);
	alerts_drain(a, 10 * NG_USEC);
	alerts_get_stats(a, &st);
	assert_int_equal(st.commands_run, 5);
	assert_int_equal(st.running, 0);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.command_failures, 0);
	alerts_destroy(a);
	assert_true(slurp(path, log, sizeof log) > 0);
	for (char *p = log; *p; p++) {
		if (*p == '+') {
			cur++;
			starts++;
		} else if (*p == '-') {
			cur--;
		}
		max = NG_MAX(max, cur);
	}
	assert_int_equal(starts, 5);
	assert_int_equal(max, 2);

	/* Waiting for a slot (--dump of a file): nothing is dropped. */
	unlink(path);
	o.max_running = 1;
	o.max_queued = 1;
	o.wait_for_slot = true;
	snprintf(cmd, sizeof cmd, "sh -c 'echo + >> %s'", path);
	a = create(&o);
	for (int i = 0; i < 6; i++) {
		snprintf(ip, sizeof ip, "203.0.113.%d", i + 1);
		make_flow(&f, (uint64_t)i + 1, ip, WL_ANOMALOUS, T0 + i);
		assert_true(raise1(a, &f, FLOW_SENT));
	}
	alerts_drain(a, 10 * NG_USEC);
	alerts_get_stats(a, &st);
	assert_int_equal(st.commands_run, 6);
	assert_int_equal(st.commands_dropped, 0);
	alerts_destroy(a);
	assert_int_equal(slurp(path, log, sizeof log), 12);
}

/* A command that cannot start, or exits non-zero, is a counted failure, never a crash or a hang. */
static void test_failures(void **state)
{
	struct alerts_options o = {0};
	struct alerts *a;
	struct alerts_stats st;
	struct flow f;

	(void)state;
	o.command = "/nonexistent/notify --flag";
	a = create(&o);
	make_flow(&f, 1, "203.0.113.1", WL_ANOMALOUS, T0);
	assert_true(raise1(a, &f, FLOW_SENT));
	alerts_drain(a, NG_USEC);
	alerts_get_stats(a, &st);
	assert_int_equal(st.command_failures, 1);
	alerts_destroy(a);

	o.command = "sh -c 'exit 3'";
	a = create(&o);
	assert_true(raise1(a, &f, FLOW_SENT));
	alerts_drain(a, 5 * NG_USEC);
	alerts_get_stats(a, &st);
	assert_int_equal(st.commands_run, 1);
	assert_int_equal(st.command_failures, 1);
	alerts_destroy(a);

	/* A command that never reads stdin (and exits at once) is fine: no SIGPIPE for the daemon. */
	o.command = "true";
	a = create(&o);
	assert_true(raise1(a, &f, FLOW_SENT));
	alerts_drain(a, 5 * NG_USEC);
	alerts_get_stats(a, &st);
	assert_int_equal(st.command_failures, 0);
	alerts_destroy(a);

	/* Destroying with a command still running kills it at once. */
	o.command = "sleep 60";
	a = create(&o);
	assert_true(raise1(a, &f, FLOW_SENT));
	alerts_destroy(a);
}

/*
 * By attention (the default): a remote alerts once per direction per period
 * whatever raised it (a later blocklist hit or another verdict is a repeat),
 * and the alert carries the flow's attention and signals.
 */
static void test_dedup_attention(void **state)
{
	struct alerts_options o = {0};
	struct alerts *a;
	struct flow f;
	char *txt;
	cJSON *j, *sig;

	(void)state;
	o.dedup_period = 48LL * 3600 * NG_USEC;
	a = create(&o);
	make_flow(&f, 1, "203.0.113.5", WL_ANOMALOUS, T0);
	f.attention = NG_ATTN_HIGH;
	txt = alerts_raise(a, &f, FLOW_SENT, 48 * 3600 * NG_USEC, false);
	assert_non_null(txt);
	j = cJSON_Parse(txt);
	assert_string_equal(cJSON_GetObjectItem(j, "attention")->valuestring, "high");
	sig = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "signals"), 0);
	assert_non_null(sig);
	assert_string_equal(cJSON_GetObjectItem(sig, "name")->valuestring, "first_contact");
	assert_string_equal(cJSON_GetObjectItem(sig, "reason")->valuestring, "first contact in the 48 h window");
	cJSON_Delete(j);
	free(txt);
	make_flow(&f, 2, "203.0.113.5", WL_BLOCKLISTED, T0 + 3601 * NG_USEC);
	assert_false(raise1(a, &f, FLOW_SENT));
	make_flow(&f, 3, "203.0.113.5", WL_ANOMALOUS, T0 + 47 * 3600 * NG_USEC);
	assert_false(raise1(a, &f, FLOW_SENT));
	make_flow(&f, 4, "203.0.113.5", WL_ANOMALOUS, T0 + 49 * 3600 * NG_USEC);
	assert_true(raise1(a, &f, FLOW_SENT));
	alerts_destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_split),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_dedup_attention),
		cmocka_unit_test(test_alert_json),
		cmocka_unit_test(test_global_cap),
		cmocka_unit_test(test_dedup_bounded),
		cmocka_unit_test_setup_teardown(test_rotation, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_no_shell, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_timeout_kill, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_concurrency, setup_tmp, teardown_tmp),
		cmocka_unit_test(test_failures),
	};

	signal(SIGPIPE, SIG_IGN);	/* as the daemon does */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
