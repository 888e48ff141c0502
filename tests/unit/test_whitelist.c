/* SPDX-License-Identifier: BSD-2-Clause */
/* test_whitelist.c: the rolling whitelist: window edges, rules, lists, persistence, CLI output, crash safety. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "platform.h"
#include "addr.h"
#include "strpool.h"
#include "util.h"
#include "whitelist.h"
#include "wl_int.h"

#define H (3600 * NG_USEC)
#define D (24 * H)

/* 2026-11-19 08:14:00 UTC */
static ng_time T0;

/* ---- helpers ---- */

static ng_addr A(const char *s)
{
	ng_addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

/* Scratch space: $TMPDIR or /tmp. */
static const char *tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	return t && t[0] == '/' ? t : "/tmp";
}

static char *mkstate(void)
{
	char tmpl[512];
	char *d;

	snprintf(tmpl, sizeof tmpl, "%s/wltest.XXXXXX", tmpdir());
	d = mkdtemp(tmpl);
	assert_non_null(d);
	return xstrdup(d);
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_rf(char *dir)
{
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* Write content (len bytes, or strlen when len is 0) to dir/name; returns the path (caller frees). */
static char *put(const char *dir, const char *name, const char *content, size_t len)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = xmalloc(n);
	FILE *f;

	snprintf(p, n, "%s/%s", dir, name);
	f = fopen(p, "wb");
	assert_non_null(f);
	fwrite(content, 1, len ? len : strlen(content), f);
	fclose(f);
	return p;
}

static struct whitelist *open_wl(const char *state, const char **allow, size_t na, const char **block, size_t nb)
{
	struct whitelist_options o;
	struct whitelist *wl;
	char err[512];

	memset(&o, 0, sizeof o);
	o.state_dir = state;
	o.window = 48 * H;
	o.retention = 7 * D;
	o.allow_files = allow;
	o.nallow = na;
	o.block_files = block;
	o.nblock = nb;
	wl = whitelist_open(&o, err, sizeof err);
	if (wl == NULL)
		fail_msg("whitelist_open: %s", err);
	return wl;
}

static void rec(struct whitelist *wl, const char *addr, enum wl_dir dir, ng_time t)
{
	ng_addr a = A(addr);

	whitelist_record(wl, &a, dir, t, 1, 3, 300, NULL, NULL, 0, NULL, WL_NONE);
}

static struct wl_verdict_info verdict(struct whitelist *wl, const char *addr, const char *domain, enum wl_dir dir,
				      ng_time t)
{
	struct wl_verdict_info v;
	ng_addr a = A(addr);

	whitelist_verdict(wl, &a, domain, 0, dir, t, &v);
	return v;
}

static const char *reason(const struct wl_verdict_info *v)
{
	static char buf[256];

	return wl_reason_format(v, 48 * H, buf, sizeof buf);
}

/* Capture what the module logs to stderr between cap_begin and cap_end (caller frees). */
static int cap_saved = -1;
static char cap_path[512];

static void cap_begin(void)
{
	int fd;

	snprintf(cap_path, sizeof cap_path, "%s/wltest-log.XXXXXX", tmpdir());
	fd = mkstemp(cap_path);
	assert_true(fd >= 0);
	fflush(stderr);
	cap_saved = dup(2);
	dup2(fd, 2);
	close(fd);
}

static char *cap_end(void)
{
	char *s;

	fflush(stderr);
	dup2(cap_saved, 2);
	close(cap_saved);
	s = file_read_all(cap_path, 1 << 20, NULL);
	unlink(cap_path);
	assert_non_null(s);
	return s;
}

static int64_t sql_int(const char *dbpath, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* ---- the window ---- */

static void window_edges(enum wl_dir dir)
{
	struct whitelist *wl = open_wl(NULL, NULL, 0, NULL, 0);
	enum wl_dir other = dir == WL_SENT ? WL_RECEIVED : WL_SENT;
	struct wl_verdict_info v;
	ng_time t1 = T0;

	rec(wl, "8.8.8.8", dir, t1);
	/* Just inside: last_seen == t - window. */
	v = verdict(wl, "8.8.8.8", NULL, dir, t1 + 48 * H);
	assert_int_equal(v.verdict, WL_NORMAL);
	assert_int_equal(v.why, WL_WHY_SEEN);
	assert_int_equal(v.count, 1);
	assert_int_equal(v.first, t1);
	assert_string_equal(reason(&v), "seen once since 2026-11-19 08:14");
	/* Just outside: one microsecond later. */
	v = verdict(wl, "8.8.8.8", NULL, dir, t1 + 48 * H + 1);
	assert_int_equal(v.verdict, WL_ANOMALOUS);
	assert_int_equal(v.why, WL_WHY_EXPIRED);
	assert_int_equal(v.last, t1);
	assert_string_equal(reason(&v), "last seen 2026-11-19 08:14, before the 48 h window");
	/* The other direction was never seen. */
	v = verdict(wl, "8.8.8.8", NULL, other, t1 + H);
	assert_int_equal(v.verdict, WL_ANOMALOUS);
	assert_int_equal(v.why, WL_WHY_FIRST_CONTACT);
	assert_string_equal(reason(&v), "first contact in the 48 h window");
	/* A flow starting at the very time of the only record was not seen before. */
	v = verdict(wl, "8.8.8.8", NULL, dir, t1);
	assert_int_equal(v.why, WL_WHY_FIRST_CONTACT);
	/* Recording the flow's own first packet before asking changes nothing ... */
	rec(wl, "8.8.8.8", dir, t1 + 50 * H);
	v = verdict(wl, "8.8.8.8", NULL, dir, t1 + 50 * H);
	assert_int_equal(v.why, WL_WHY_EXPIRED);
	assert_int_equal(v.last, t1);
	/* ... and the next flow an hour later is normal, counting both flows. */
	v = verdict(wl, "8.8.8.8", NULL, dir, t1 + 51 * H);
	assert_int_equal(v.verdict, WL_NORMAL);
	assert_int_equal(v.count, 2);
	assert_string_equal(reason(&v), "seen 2 times since 2026-11-19 08:14");
	whitelist_close(wl);
}

static void test_window_edges_sent(void **state)
{
	(void)state;
	window_edges(WL_SENT);
}

static void test_window_edges_received(void **state)
{
	(void)state;
	window_edges(WL_RECEIVED);
}

static void test_window_ipv6_and_other_window(void **state)
{
	struct whitelist_options o;
	struct whitelist *wl;
	struct wl_verdict_info v;
	char err[256], buf[128];

	(void)state;
	memset(&o, 0, sizeof o);
	o.window = 90 * 60 * NG_USEC;
	wl = whitelist_open(&o, err, sizeof err);
	assert_non_null(wl);
	rec(wl, "2a00:1450:4001::200e", WL_SENT, T0);
	v = verdict(wl, "2a00:1450:4001:0::200e", NULL, WL_SENT, T0 + 90 * 60 * NG_USEC);
	assert_int_equal(v.verdict, WL_NORMAL);
	v = verdict(wl, "2a00:1450:4001::200e", NULL, WL_SENT, T0 + 90 * 60 * NG_USEC + 1);
	assert_int_equal(v.verdict, WL_ANOMALOUS);
	assert_string_equal(wl_reason_format(&v, o.window, buf, sizeof buf),
			    "last seen 2026-11-19 08:14, before the 90 min window");
	whitelist_close(wl);
}

/* Absurd packet times never overflow (UBSan would abort) and still give an answer. */
static void test_extreme_times(void **state)
{
	struct whitelist *wl = open_wl(NULL, NULL, 0, NULL, 0);
	struct wl_verdict_info v;
	struct wl_learning l;

	(void)state;
	rec(wl, "8.8.8.8", WL_SENT, INT64_MIN + 5);
	v = verdict(wl, "8.8.8.8", NULL, WL_SENT, INT64_MIN + 10);
	assert_int_equal(v.verdict, WL_NORMAL);
	v = verdict(wl, "8.8.8.8", NULL, WL_SENT, INT64_MAX);
	assert_int_equal(v.why, WL_WHY_EXPIRED);
	rec(wl, "8.8.4.4", WL_SENT, INT64_MAX);
	whitelist_learning(wl, INT64_MAX, &l);
	assert_false(l.learning);
	whitelist_learning(wl, INT64_MIN + 1, &l);
	assert_true(l.learning);
	assert_int_equal(whitelist_prune(wl), 1);
	whitelist_close(wl);
}

static void test_learning(void **state)
{
	struct whitelist *wl = open_wl(NULL, NULL, 0, NULL, 0);
	struct wl_learning l;

	(void)state;
	whitelist_learning(wl, T0, &l);
	assert_true(l.learning);
	assert_true(l.since == NG_TIME_NONE);
	assert_true(l.progress == 0.0);
	rec(wl, "8.8.8.8", WL_SENT, T0);
	whitelist_learning(wl, T0 + 12 * H, &l);
	assert_true(l.learning);
	assert_int_equal(l.since, T0);
	assert_int_equal(l.elapsed, 12 * H);
	assert_true(l.progress > 0.2499 && l.progress < 0.2501);
	whitelist_learning(wl, T0 + 48 * H - 1, &l);
	assert_true(l.learning);
	whitelist_learning(wl, T0 + 48 * H, &l);
	assert_false(l.learning);
	assert_true(l.progress == 1.0);
	whitelist_learning(wl, T0 + 100 * D, &l);
	assert_int_equal(l.elapsed, 48 * H);
	/* An earlier packet (a replayed capture) moves the start back. */
	rec(wl, "8.8.4.4", WL_SENT, T0 - H);
	whitelist_learning(wl, T0, &l);
	assert_int_equal(l.since, T0 - H);
	whitelist_close(wl);
}

/* ---- rules ---- */

static void test_precedence(void **state)
{
	char *dir = mkstate();
	char *allow = put(dir, "allow.txt", "8.8.8.8\n1.2.3.4\n192.168.1.5 # the printer\n*.example.net\n", 0);
	char *block = put(dir, "feodo.txt", "# Feodo\n1.2.3.0/24\n10.0.0.0/8\n9.9.9.9\n", 0);
	const char *al[] = {allow}, *bl[] = {block};
	struct whitelist *wl;
	struct wl_verdict_info v;

	(void)state;
	cap_begin();
	wl = open_wl(NULL, al, 1, bl, 1);
	free(cap_end());
	/* Block beats allow (1.2.3.4 is in both). */
	v = verdict(wl, "1.2.3.4", NULL, WL_SENT, T0);
	assert_int_equal(v.verdict, WL_BLOCKLISTED);
	assert_int_equal(v.why, WL_WHY_BLOCKLISTED);
	assert_string_equal(v.rule, "feodo.txt");
	assert_string_equal(v.entry, "1.2.3.0/24");
	assert_string_equal(reason(&v), "in blocklist feodo.txt (1.2.3.0/24)");
	/* A host entry is shown as a bare address. */
	v = verdict(wl, "9.9.9.9", "dns.quad9.net", WL_RECEIVED, T0);
	assert_string_equal(reason(&v), "in blocklist feodo.txt (9.9.9.9)");
	/* Block beats a domain allow rule too. */
	v = verdict(wl, "1.2.3.77", "x.example.net", WL_SENT, T0);
	assert_int_equal(v.verdict, WL_BLOCKLISTED);
	/* Allow beats "never seen". */
	v = verdict(wl, "8.8.8.8", NULL, WL_SENT, T0);
	assert_int_equal(v.verdict, WL_NORMAL);
	assert_int_equal(v.why, WL_WHY_ALLOWED);
	assert_string_equal(reason(&v), "allowed by rule 8.8.8.8 (allow.txt)");
	/* Allow rules reach the LAN (they override local scope) ... */
	v = verdict(wl, "192.168.1.5", NULL, WL_SENT, T0);
	assert_int_equal(v.why, WL_WHY_ALLOWED);
	/* ... blocklists do not: 10.0.0.0/8 was dropped at load. */
	v = verdict(wl, "10.1.2.3", NULL, WL_SENT, T0);
	assert_int_equal(v.verdict, WL_LOCAL);
	assert_string_equal(reason(&v), "local address (lan)");
	/* Nothing matches: anomalous. */
	v = verdict(wl, "4.4.4.4", "x.example.org", WL_SENT, T0);
	assert_int_equal(v.verdict, WL_ANOMALOUS);
	/* Blocklisted stays blocklisted even when seen in the window; the facts are still filled in. */
	rec(wl, "9.9.9.9", WL_SENT, T0);
	v = verdict(wl, "9.9.9.9", NULL, WL_SENT, T0 + H);
	assert_int_equal(v.verdict, WL_BLOCKLISTED);
	assert_int_equal(v.first, T0);
	whitelist_close(wl);
	free(allow);
	free(block);
	rm_rf(dir);
}

static void test_domain_patterns(void **state)
{
	char *dir = mkstate();
	char *allow = put(dir, "allow.txt",
			  "; update services\n*.windowsupdate.com\nexample.com ; exact only\nFoo.Example.ORG.\n"
			  "*.deep.example.io\ndeep.example.io\n",
			  0);
	const char *al[] = {allow};
	struct whitelist *wl;
	struct wl_verdict_info v;
	static const struct {
		const char *domain;
		bool allowed;
		const char *rule;
	} cases[] = {
		{"download.windowsupdate.com", true, "*.windowsupdate.com"},
		{"a.b.c.windowsupdate.com", true, "*.windowsupdate.com"},
		{"Download.WindowsUpdate.COM.", true, "*.windowsupdate.com"},
		{"windowsupdate.com", false, NULL},	/* the wildcard never matches the name itself */
		{"xwindowsupdate.com", false, NULL},
		{"windowsupdate.com.evil.net", false, NULL},
		{"example.com", true, "example.com"},
		{"EXAMPLE.com.", true, "example.com"},
		{"www.example.com", false, NULL},	/* an exact rule is exact */
		{"foo.example.org", true, "foo.example.org"},
		{"deep.example.io", true, "deep.example.io"},
		{"x.deep.example.io", true, "*.deep.example.io"},
		{"", false, NULL},
		{".", false, NULL},
		{"com", false, NULL},
	};

	(void)state;
	wl = open_wl(NULL, al, 1, NULL, 0);
	for (size_t i = 0; i < NG_ARRAY_LEN(cases); i++) {
		v = verdict(wl, "4.4.4.4", cases[i].domain, WL_SENT, T0);
		if (cases[i].allowed) {
			if (v.why != WL_WHY_ALLOWED)
				fail_msg("%s should be allowed", cases[i].domain);
			assert_string_equal(v.rule, cases[i].rule);
			assert_string_equal(v.entry, "allow.txt");
		} else if (v.why == WL_WHY_ALLOWED) {
			fail_msg("%s should not be allowed (rule %s)", cases[i].domain, v.rule);
		}
	}
	v = verdict(wl, "4.4.4.4", "download.windowsupdate.com", WL_SENT, T0);
	assert_string_equal(reason(&v), "allowed by rule *.windowsupdate.com (allow.txt)");
	whitelist_close(wl);
	free(allow);
	rm_rf(dir);
}

static void test_local_scope(void **state)
{
	struct whitelist *wl = open_wl(NULL, NULL, 0, NULL, 0);
	struct wl_verdict_info v;

	(void)state;
	v = verdict(wl, "127.0.0.1", NULL, WL_SENT, T0);
	assert_string_equal(reason(&v), "local address (loopback)");
	v = verdict(wl, "224.0.0.251", NULL, WL_SENT, T0);
	assert_string_equal(reason(&v), "local address (multicast)");
	v = verdict(wl, "fe80::1", NULL, WL_RECEIVED, T0);
	assert_int_equal(v.verdict, WL_LOCAL);
	assert_string_equal(reason(&v), "local address (link_local)");
	v = verdict(wl, "fd00::5", NULL, WL_RECEIVED, T0);
	assert_string_equal(reason(&v), "local address (lan)");
	whitelist_close(wl);
}

static void test_reason_format(void **state)
{
	struct wl_verdict_info v;
	char buf[128];

	(void)state;
	memset(&v, 0, sizeof v);
	v.why = WL_WHY_FIRST_CONTACT;
	assert_string_equal(wl_reason_format(&v, 48 * H, buf, sizeof buf), "first contact in the 48 h window");
	assert_string_equal(wl_reason_format(&v, 7 * D, buf, sizeof buf), "first contact in the 7 d window");
	assert_string_equal(wl_reason_format(&v, 24 * H, buf, sizeof buf), "first contact in the 24 h window");
	assert_string_equal(wl_reason_format(&v, 90 * 60 * NG_USEC, buf, sizeof buf),
			    "first contact in the 90 min window");
	assert_string_equal(wl_reason_format(&v, 45 * NG_USEC, buf, sizeof buf), "first contact in the 45 s window");
	v.why = WL_WHY_SEEN;
	v.count = 312;
	v.first = T0;
	assert_string_equal(wl_reason_format(&v, 48 * H, buf, sizeof buf), "seen 312 times since 2026-11-19 08:14");
	v.why = WL_WHY_EXPIRED;
	assert_int_equal(time_parse("2026-11-18T09:00:00Z", &v.last), 0);
	assert_string_equal(wl_reason_format(&v, 48 * H, buf, sizeof buf),
			    "last seen 2026-11-18 09:00, before the 48 h window");
	v.why = WL_WHY_NONE;
	assert_string_equal(wl_reason_format(&v, 48 * H, buf, sizeof buf), "");
	/* Truncation is safe. */
	v.why = WL_WHY_SEEN;
	assert_string_equal(wl_reason_format(&v, 48 * H, buf, 5), "seen");
	assert_string_equal(wl_verdict_name(WL_BLOCKLISTED), "blocklisted");
	assert_null(wl_verdict_name(WL_NONE));
	assert_int_equal(wl_verdict_parse("anomalous"), WL_ANOMALOUS);
	assert_int_equal(wl_verdict_parse("local"), WL_LOCAL);
	assert_int_equal(wl_verdict_parse("bogus"), -1);
}

/* ---- persistence ---- */

static void test_persistence(void **state)
{
	char *dir = mkstate();
	char db[512];
	struct whitelist *wl = open_wl(dir, NULL, 0, NULL, 0);
	struct wl_entry e;
	struct wl_learning l;
	struct wl_verdict_info v;
	ng_addr a = A("8.8.8.8");
	struct stat st;

	(void)state;
	assert_int_equal(stat(dir, &st), 0);
	whitelist_record(wl, &a, WL_SENT, T0, 1, 10, 1000, "dns.google", "US", 0, NULL, WL_ANOMALOUS);
	whitelist_record(wl, &a, WL_SENT, T0 + H, 0, 5, 500, NULL, NULL, 0, NULL, WL_NONE);
	whitelist_record(wl, &a, WL_RECEIVED, T0 + H, 1, 7, 700, NULL, NULL, 0, NULL, WL_NORMAL);
	assert_int_equal(whitelist_flush(wl), 0);
	whitelist_close(wl);
	snprintf(db, sizeof db, "%s/netglobe.db", dir);
	assert_int_equal(stat(db, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sql_int(db, "PRAGMA user_version"), WL_SCHEMA_VERSION);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM seen"), 2);
	assert_int_equal(sql_int(db, "SELECT packets FROM seen WHERE addr = '8.8.8.8' AND dir = 0"), 15);

	wl = open_wl(dir, NULL, 0, NULL, 0);
	whitelist_entry(wl, &a, WL_SENT, &e);
	assert_true(e.known);
	assert_int_equal(e.first, T0);
	assert_int_equal(e.last, T0 + H);
	assert_int_equal(e.flows, 1);
	assert_int_equal(e.packets, 15);
	assert_int_equal(e.bytes, 1500);
	whitelist_entry(wl, &a, WL_RECEIVED, &e);
	assert_int_equal(e.packets, 7);
	whitelist_learning(wl, T0 + 24 * H, &l);
	assert_int_equal(l.since, T0);
	assert_true(l.progress > 0.49 && l.progress < 0.51);
	v = verdict(wl, "8.8.8.8", NULL, WL_SENT, T0 + 2 * H);
	assert_int_equal(v.verdict, WL_NORMAL);
	v = verdict(wl, "8.8.4.4", NULL, WL_SENT, T0 + 2 * H);
	assert_int_equal(v.why, WL_WHY_FIRST_CONTACT);
	whitelist_entry(wl, &(ng_addr){0}, WL_SENT, &e);
	assert_false(e.known);
	whitelist_close(wl);
	rm_rf(dir);
}

static void test_prune_by_retention(void **state)
{
	char *dir = mkstate();
	char db[512];
	struct whitelist *wl = open_wl(dir, NULL, 0, NULL, 0);
	struct wl_entry e;
	struct wl_verdict_info v;
	struct whitelist_stats st;
	ng_addr a = A("8.8.8.8"), b = A("1.1.1.1");

	(void)state;
	snprintf(db, sizeof db, "%s/netglobe.db", dir);
	rec(wl, "8.8.8.8", WL_SENT, T0);
	rec(wl, "1.1.1.1", WL_SENT, T0 + 2 * D);
	assert_int_equal(whitelist_flush(wl), 0);
	/* The packet clock moves to T0 + 7 d: 8.8.8.8 is exactly at the edge and stays. */
	rec(wl, "9.9.9.9", WL_SENT, T0 + 7 * D);
	assert_int_equal(whitelist_prune(wl), 0);
	/* One microsecond later it goes, from memory and from disk. */
	rec(wl, "9.9.9.9", WL_SENT, T0 + 7 * D + 1);
	assert_int_equal(whitelist_prune(wl), 1);
	whitelist_entry(wl, &a, WL_SENT, &e);
	assert_false(e.known);
	whitelist_entry(wl, &b, WL_SENT, &e);
	assert_true(e.known);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM seen WHERE addr = '8.8.8.8'"), 1);
	assert_int_equal(whitelist_flush(wl), 0);	/* the disk follows at the next flush */
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM seen WHERE addr = '8.8.8.8'"), 0);
	whitelist_get_stats(wl, &st);
	assert_int_equal(st.pruned, 1);
	/* Pruned means forgotten: first contact, not expired. */
	v = verdict(wl, "8.8.8.8", NULL, WL_SENT, T0 + 8 * D);
	assert_int_equal(v.why, WL_WHY_FIRST_CONTACT);
	whitelist_close(wl);

	/* At open: the clock is the latest packet in the database. */
	wl = open_wl(dir, NULL, 0, NULL, 0);
	rec(wl, "4.4.4.4", WL_SENT, T0 + 10 * D);
	whitelist_close(wl);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM seen WHERE addr = '1.1.1.1'"), 1);
	wl = open_wl(dir, NULL, 0, NULL, 0);
	whitelist_entry(wl, &b, WL_SENT, &e);
	assert_false(e.known);	/* last seen T0 + 2 d < T0 + 10 d - 7 d */
	whitelist_close(wl);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM seen WHERE addr = '1.1.1.1'"), 0);
	rm_rf(dir);
}

static void test_eviction_cap(void **state)
{
	struct whitelist_options o;
	struct whitelist *wl;
	struct whitelist_stats st;
	struct wl_entry e;
	char err[256];

	(void)state;
	memset(&o, 0, sizeof o);
	o.max_entries = 1000;
	wl = whitelist_open(&o, err, sizeof err);
	assert_non_null(wl);
	cap_begin();
	for (uint32_t i = 0; i < 20000; i++) {
		uint8_t b[4] = {20, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
		ng_addr a = addr_from_v4(b);

		whitelist_record(wl, &a, WL_SENT, T0 + i, 1, 1, 60, NULL, NULL, 0, NULL, WL_NONE);
		whitelist_get_stats(wl, &st);
		assert_true(st.entries <= 1000);
	}
	free(cap_end());
	whitelist_get_stats(wl, &st);
	assert_true(st.evicted >= 19000);
	/* The newest survive, the oldest went. */
	for (uint32_t i = 19990; i < 20000; i++) {
		uint8_t b[4] = {20, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
		ng_addr a = addr_from_v4(b);

		whitelist_entry(wl, &a, WL_SENT, &e);
		assert_true(e.known);
	}
	{
		uint8_t b[4] = {20, 0, 0, 5};
		ng_addr a = addr_from_v4(b);

		whitelist_entry(wl, &a, WL_SENT, &e);
		assert_false(e.known);
	}
	whitelist_close(wl);
}

/* ---- trust and forget ---- */

static void test_trust_forget(void **state)
{
	char *dir = mkstate();
	char path[512], err[256];
	struct whitelist *wl = open_wl(dir, NULL, 0, NULL, 0);
	struct wl_verdict_info v;
	struct wl_entry e;
	ng_addr a = A("8.8.8.8");
	char *text;
	struct whitelist_stats st;

	(void)state;
	snprintf(path, sizeof path, "%s/trusted.txt", dir);
	cap_begin();
	assert_int_equal(whitelist_trust(wl, "8.8.8.8", err, sizeof err), 0);
	assert_int_equal(whitelist_trust(wl, " *.Example.COM. ", err, sizeof err), 0);
	assert_int_equal(whitelist_trust(wl, "2a00:1450::1/32", err, sizeof err), 0);
	assert_int_equal(whitelist_trust(wl, "8.8.8.8", err, sizeof err), 0);	/* idempotent */
	free(cap_end());
	text = file_read_all(path, 1 << 16, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "\n8.8.8.8\n"));
	assert_non_null(strstr(text, "\n*.example.com\n"));
	assert_non_null(strstr(text, "\n2a00:1450::/32\n"));
	assert_null(strstr(text, "8.8.8.8\n8.8.8.8"));
	free(text);
	v = verdict(wl, "8.8.8.8", NULL, WL_SENT, T0);
	assert_string_equal(reason(&v), "allowed by rule 8.8.8.8 (trusted.txt)");
	v = verdict(wl, "4.4.4.4", "www.example.com", WL_SENT, T0);
	assert_string_equal(reason(&v), "allowed by rule *.example.com (trusted.txt)");
	v = verdict(wl, "2a00:1450:4001::1", NULL, WL_SENT, T0);
	assert_int_equal(v.why, WL_WHY_ALLOWED);
	/* Garbage is refused with a reason. */
	assert_int_equal(whitelist_trust(wl, "foo bar", err, sizeof err), -1);
	assert_non_null(strstr(err, "not an address, CIDR or domain pattern"));
	assert_int_equal(whitelist_trust(wl, "*", err, sizeof err), -1);
	assert_non_null(strstr(err, "would allow everything"));
	assert_int_equal(whitelist_trust(wl, "1.2.3.4/33", err, sizeof err), -1);
	assert_non_null(strstr(err, "must be 0..32"));
	assert_int_equal(whitelist_trust(wl, "1.2.3", err, sizeof err), -1);
	assert_int_equal(whitelist_trust(wl, "a.*.com", err, sizeof err), -1);
	assert_int_equal(whitelist_trust(wl, "", err, sizeof err), -1);
	whitelist_get_stats(wl, &st);
	assert_int_equal(st.allow_rules, 3);
	/* Learn 8.8.8.8 too, then reopen: the trust survives. */
	rec(wl, "8.8.8.8", WL_SENT, T0);
	rec(wl, "8.8.8.8", WL_RECEIVED, T0);
	whitelist_close(wl);
	wl = open_wl(dir, NULL, 0, NULL, 0);
	v = verdict(wl, "8.8.8.8", NULL, WL_SENT, T0 + H);
	assert_int_equal(v.why, WL_WHY_ALLOWED);
	/* Forget removes the rule and the learnt rows: first contact again. */
	cap_begin();
	assert_int_equal(whitelist_forget(wl, "8.8.8.8", err, sizeof err), 0);
	free(cap_end());
	v = verdict(wl, "8.8.8.8", NULL, WL_SENT, T0 + H);
	assert_int_equal(v.why, WL_WHY_FIRST_CONTACT);
	whitelist_entry(wl, &a, WL_RECEIVED, &e);
	assert_false(e.known);
	whitelist_close(wl);
	wl = open_wl(dir, NULL, 0, NULL, 0);
	v = verdict(wl, "8.8.8.8", NULL, WL_SENT, T0 + H);
	assert_int_equal(v.why, WL_WHY_FIRST_CONTACT);
	v = verdict(wl, "4.4.4.4", "a.example.com", WL_SENT, T0);
	assert_int_equal(v.why, WL_WHY_ALLOWED);
	/* Forget of a domain pattern also drops rows learnt under matching names. */
	{
		ng_addr b = A("5.5.5.5");

		whitelist_record(wl, &b, WL_SENT, T0, 1, 1, 1, "cdn.example.com", NULL, 0, NULL, WL_NONE);
		cap_begin();
		assert_int_equal(whitelist_forget(wl, "*.example.com", err, sizeof err), 0);
		free(cap_end());
		whitelist_entry(wl, &b, WL_SENT, &e);
		assert_false(e.known);
		v = verdict(wl, "4.4.4.4", "a.example.com", WL_SENT, T0);
		assert_int_equal(v.why, WL_WHY_FIRST_CONTACT);
	}
	whitelist_close(wl);
	rm_rf(dir);
}

/* ---- reload ---- */

static void test_reload_keeps_old_list(void **state)
{
	char *dir = mkstate();
	char *block = put(dir, "drop.txt", "1.2.3.0/24 ; SBL1\n", 0);
	const char *bl[] = {block};
	struct whitelist *wl;
	struct wl_verdict_info v;
	char *log, expect[600];

	(void)state;
	cap_begin();
	wl = open_wl(NULL, NULL, 0, bl, 1);
	free(cap_end());
	assert_int_equal(whitelist_reload(wl, false), 0);	/* unchanged */
	/* A broken new version: line 3 has a bad CIDR (one bad line in three is over the limit). */
	free(put(dir, "drop.txt", "1.2.3.0/24 ; SBL1\n5.6.7.0/24 ; SBL2\n5.6.8.0/33 ; SBL3\n", 0));
	cap_begin();
	assert_int_equal(whitelist_reload(wl, false), 0);
	log = cap_end();
	snprintf(expect, sizeof expect, "netglobe: %s:3: prefix length in '5.6.8.0/33' must be 0..32", block);
	if (strstr(log, expect) == NULL || strstr(log, "(keeping the previous list)") == NULL)
		fail_msg("unexpected log: %s", log);
	free(log);
	v = verdict(wl, "1.2.3.4", NULL, WL_SENT, T0);
	assert_int_equal(v.verdict, WL_BLOCKLISTED);
	v = verdict(wl, "5.6.7.8", NULL, WL_SENT, T0);
	assert_int_equal(v.verdict, WL_ANOMALOUS);
	/* The same broken file is not reported again on the next check. */
	cap_begin();
	assert_int_equal(whitelist_reload(wl, false), 0);
	log = cap_end();
	assert_null(strstr(log, "keeping"));
	free(log);
	/* A good new version (written elsewhere and renamed in, as downloaders do). */
	{
		char *tmp = put(dir, "drop.new", "5.6.7.0/24 ; SBL2\n", 0);

		assert_int_equal(rename(tmp, block), 0);
		free(tmp);
	}
	cap_begin();
	assert_int_equal(whitelist_reload(wl, false), 1);
	free(cap_end());
	v = verdict(wl, "1.2.3.4", NULL, WL_SENT, T0);
	assert_int_equal(v.verdict, WL_ANOMALOUS);
	v = verdict(wl, "5.6.7.8", NULL, WL_SENT, T0);
	assert_int_equal(v.verdict, WL_BLOCKLISTED);
	/* The file disappears: the list stays, with a message. */
	unlink(block);
	cap_begin();
	assert_int_equal(whitelist_reload(wl, true), 0);
	log = cap_end();
	assert_non_null(strstr(log, "No such file"));
	assert_non_null(strstr(log, "(keeping the previous list)"));
	free(log);
	v = verdict(wl, "5.6.7.8", NULL, WL_SENT, T0);
	assert_int_equal(v.verdict, WL_BLOCKLISTED);
	whitelist_close(wl);
	free(block);
	rm_rf(dir);
}

/* ---- list formats ---- */

static struct wl_list *parse_ok(enum wl_list_kind kind, const char *name, const char *text)
{
	struct wl_list *l;
	char err[512];

	if (wl_list_parse(kind, name, text, strlen(text), NULL, &l, err, sizeof err) != 0)
		fail_msg("%s should parse: %s", name, err);
	return l;
}

static void parse_fails(enum wl_list_kind kind, const char *text, size_t len, const char *expect)
{
	struct wl_list *l;
	char err[512];

	if (wl_list_parse(kind, "/etc/x/list.txt", text, len ? len : strlen(text), NULL, &l, err, sizeof err) == 0)
		fail_msg("should fail with '%s'", expect);
	assert_null(l);
	if (strstr(err, expect) == NULL)
		fail_msg("error '%s' does not contain '%s'", err, expect);
}

static void test_feodo_csv(void **state)
{
	static const char csv[] =
		"################################################################\n"
		"# abuse.ch Feodo Tracker Botnet C2 IP Blocklist (CSV)          #\n"
		"################################################################\n"
		"#\n"
		"# \"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n"
		"\"2021-01-17 07:44:46\",\"51.178.161.32\",\"4643\",\"online\",\"2024-01-01\",\"Dridex\"\n"
		"\"2021-01-18 09:00:00\",\"2a01:4f8:1:2::3\",\"443\",\"offline\",\"2024-01-01\",\"QakBot\"\r\n"
		"\"2021-01-19 09:00:00\",\"192.168.7.7\",\"443\",\"online\",\"2024-01-01\",\"Emotet\"\n"
		"# end of file\n";
	static const char plain[] =
		"# Feodo Tracker ipblocklist.txt\n#\n51.178.161.32\n67.213.75.205\n\n# end\n";
	char *dir = mkstate();
	char *f1 = put(dir, "feodo.csv", csv, 0), *f2 = put(dir, "ipblocklist.txt", plain, 0);
	const char *bl[] = {f1, f2};
	struct whitelist *wl;
	struct wl_verdict_info v;
	struct whitelist_stats st;
	struct wl_list *l;
	char *log;

	(void)state;
	l = parse_ok(WL_LIST_BLOCK, "feodo.csv", csv);
	assert_int_equal(l->ncidrs, 2);
	assert_int_equal(l->dropped_special, 1);
	assert_int_equal(l->bad, 0);
	wl_list_unref(l);
	/* A generic CSV with a header row and the address first. */
	l = parse_ok(WL_LIST_BLOCK, "generic.csv", "ip,first_seen,score\n1.2.3.4,2024-01-01,9\n5.6.7.8/31,x,1\n");
	assert_int_equal(l->ncidrs, 2);
	assert_int_equal(l->cidrs[1].prefix, 31);
	wl_list_unref(l);

	cap_begin();
	wl = open_wl(NULL, NULL, 0, bl, 2);
	log = cap_end();
	assert_non_null(strstr(log, "feodo.csv: 2 entries; dropped 1 in special ranges"));
	free(log);
	v = verdict(wl, "51.178.161.32", NULL, WL_SENT, T0);
	assert_int_equal(v.verdict, WL_BLOCKLISTED);
	assert_string_equal(v.rule, "feodo.csv");	/* the first list holding it */
	v = verdict(wl, "2a01:4f8:1:2::3", NULL, WL_SENT, T0);
	assert_string_equal(reason(&v), "in blocklist feodo.csv (2a01:4f8:1:2::3)");
	v = verdict(wl, "67.213.75.205", NULL, WL_SENT, T0);
	assert_string_equal(v.rule, "ipblocklist.txt");
	v = verdict(wl, "192.168.7.7", NULL, WL_SENT, T0);
	assert_int_equal(v.verdict, WL_LOCAL);
	/* Port and date columns are never taken for addresses. */
	v = verdict(wl, "0.0.17.35", NULL, WL_SENT, T0);
	assert_int_not_equal(v.verdict, WL_BLOCKLISTED);
	whitelist_get_stats(wl, &st);
	assert_int_equal(st.block_entries, 4);
	assert_int_equal(st.block_dropped_special, 1);
	whitelist_close(wl);
	free(f1);
	free(f2);
	rm_rf(dir);
}

static void test_spamhaus_drop(void **state)
{
	static const char drop[] =
		"; Spamhaus DROP List 2024/01/01 - (c) 2024 The Spamhaus Project\n"
		"; Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT\n"
		"; Expires: Tue, 02 Jan 2024 00:00:00 GMT\n"
		"1.10.16.0/20 ; SBL256894\n"
		"1.19.0.0/16 ; SBL434604\n"
		"2.56.192.0/22 ; SBL459831\n";
	static const char json[] =
		"{\"cidr\":\"1.10.16.0/20\",\"sblid\":\"SBL256894\",\"rir\":\"apnic\"}\n"
		"{\"cidr\": \"2001:67c:1b8::/48\", \"sblid\": \"SBL1\", \"rir\": \"ripencc\"}\n"
		"{\"type\":\"metadata\",\"timestamp\":1704067200,\"size\":2,\"records\":2}\n";
	struct wl_list *l;
	struct wl_ptable *pt;
	const struct wl_cidr *cp[8];
	ng_addr a;
	char buf[64];

	(void)state;
	l = parse_ok(WL_LIST_BLOCK, "drop.txt", drop);
	assert_int_equal(l->ncidrs, 3);
	assert_string_equal(wl_cidr_format(&l->cidrs[0], buf, sizeof buf), "1.10.16.0/20");
	assert_string_equal(wl_cidr_format(&l->cidrs[2], buf, sizeof buf), "2.56.192.0/22");
	for (size_t i = 0; i < l->ncidrs; i++)
		cp[i] = &l->cidrs[i];
	pt = wl_ptable_build(cp, l->ncidrs);
	a = A("1.10.31.255");
	assert_int_equal(wl_ptable_lookup(pt, &a), 0);
	a = A("1.10.32.0");
	assert_int_equal(wl_ptable_lookup(pt, &a), WL_PT_NONE);
	a = A("1.19.200.1");
	assert_int_equal(wl_ptable_lookup(pt, &a), 1);
	wl_ptable_free(pt);
	wl_list_unref(l);
	l = parse_ok(WL_LIST_BLOCK, "drop_v4.json", json);
	assert_int_equal(l->ncidrs, 2);
	assert_string_equal(wl_cidr_format(&l->cidrs[1], buf, sizeof buf), "2001:67c:1b8::/48");
	wl_list_unref(l);
}

static void test_firehol_level1_special_ranges(void **state)
{
	static const char netset[] =
		"#\n# firehol_level1\n#\n# ipv4 hash:net ipset\n#\n"
		"0.0.0.0/8\n1.10.16.0/20\n1.19.0.0/16\n10.0.0.0/8\n100.64.0.0/10\n127.0.0.0/8\n"
		"169.254.0.0/16\n172.16.0.0/12\n192.0.0.0/24\n192.0.2.0/24\n192.168.0.0/16\n198.18.0.0/15\n"
		"198.51.100.0/24\n203.0.113.0/24\n224.0.0.0/3\n223.254.0.0/16\n"
		"0.0.0.0/0\n100.0.0.0/8\n2000::/3\nfe80::/10\n2a0b:4340::/32\n";
	char *dir = mkstate();
	char *f = put(dir, "firehol_level1.netset", netset, 0);
	const char *bl[] = {f};
	struct whitelist *wl;
	struct whitelist_stats st;
	struct wl_verdict_info v;
	char *log;
	static const char *const lan[] = {"192.168.1.1", "10.9.8.7", "172.20.0.1", "127.0.0.1", "169.254.1.1",
					  "100.64.1.1", "224.0.0.251", "255.255.255.255", "0.0.0.0", "fe80::1"};

	(void)state;
	cap_begin();
	wl = open_wl(NULL, NULL, 0, bl, 1);
	log = cap_end();
	whitelist_get_stats(wl, &st);
	/* Kept: 1.10.16.0/20, 1.19.0.0/16, 223.254.0.0/16, 2a0b:4340::/32. */
	assert_int_equal(st.block_entries, 4);
	assert_int_equal(st.block_dropped_special, 17);
	assert_non_null(strstr(log, "firehol_level1.netset: 4 entries; dropped 17 in special ranges"));
	free(log);
	for (size_t i = 0; i < NG_ARRAY_LEN(lan); i++) {
		v = verdict(wl, lan[i], NULL, WL_SENT, T0);
		if (v.verdict != WL_LOCAL)
			fail_msg("%s should stay local, got %d", lan[i], v.verdict);
	}
	v = verdict(wl, "1.19.2.3", NULL, WL_SENT, T0);
	assert_int_equal(v.verdict, WL_BLOCKLISTED);
	v = verdict(wl, "8.8.8.8", NULL, WL_SENT, T0);	/* 0.0.0.0/0 did not blocklist the world */
	assert_int_equal(v.verdict, WL_ANOMALOUS);
	v = verdict(wl, "2a0b:4340:1::1", NULL, WL_SENT, T0);
	assert_int_equal(v.verdict, WL_BLOCKLISTED);
	whitelist_close(wl);
	free(f);
	rm_rf(dir);
}

/* The shipped optional allow file parses and does what its comments say. */
static void test_shipped_allow_file(void **state)
{
	const char *path = "whitelist/lists/common-updates.allow";
	const char *al[] = {path};
	struct whitelist *wl;
	struct wl_verdict_info v;
	static const char *const yes[] = {"download.windowsupdate.com", "deb.debian.org", "ftp.de.debian.org",
					  "de.archive.ubuntu.com", "swcdn.apple.com", "update.googleapis.com",
					  "r1---sn-4g5e6nzs.gvt1.com", "aus5.mozilla.org", "client.dropbox.com",
					  "p42-contacts.icloud.com", "drive.google.com", "mirrors.fedoraproject.org"};
	static const char *const no[] = {"evil.com", "storage.googleapis.com", "x.googleusercontent.com",
					 "tenant.sharepoint.com", "gvt1.com.evil.net", "microsoft.com"};

	(void)state;
	if (access(path, R_OK) != 0)
		skip();	/* not run from the source tree */
	cap_begin();
	wl = open_wl(NULL, al, 1, NULL, 0);
	free(cap_end());
	for (size_t i = 0; i < NG_ARRAY_LEN(yes); i++) {
		v = verdict(wl, "4.4.4.4", yes[i], WL_SENT, T0);
		if (v.why != WL_WHY_ALLOWED)
			fail_msg("%s should be allowed by %s", yes[i], path);
		assert_string_equal(v.entry, "common-updates.allow");
	}
	for (size_t i = 0; i < NG_ARRAY_LEN(no); i++) {
		v = verdict(wl, "4.4.4.4", no[i], WL_SENT, T0);
		if (v.why == WL_WHY_ALLOWED)
			fail_msg("%s should not be allowed (rule %s)", no[i], v.rule);
	}
	whitelist_close(wl);
}

/* --public-net: documentation ranges used by test networks count as public, and lists may block them. */
static void test_public_nets(void **state)
{
	char *dir = mkstate();
	char *f = put(dir, "test.txt", "198.51.100.7\n203.0.113.5\n198.51.0.0/16\n", 0);
	const char *bl[] = {f};
	struct whitelist_options o;
	struct whitelist *wl;
	struct whitelist_stats st;
	struct wl_verdict_info v;
	ng_cidr pub[1];
	char err[256];

	(void)state;
	assert_int_equal(cidr_parse("198.51.100.0/24", &pub[0], err, sizeof err), 0);
	memset(&o, 0, sizeof o);
	o.block_files = bl;
	o.nblock = 1;
	o.public_nets = pub;
	o.npublic = 1;
	cap_begin();
	wl = whitelist_open(&o, err, sizeof err);
	free(cap_end());
	assert_non_null(wl);
	whitelist_get_stats(wl, &st);
	assert_int_equal(st.block_entries, 1);		/* 198.51.100.7 kept */
	assert_int_equal(st.block_dropped_special, 2);	/* 203.0.113.5 and the /16 around the public net */
	v = verdict(wl, "198.51.100.7", NULL, WL_SENT, T0);
	assert_int_equal(v.verdict, WL_BLOCKLISTED);
	v = verdict(wl, "198.51.100.8", NULL, WL_SENT, T0);
	assert_int_equal(v.verdict, WL_ANOMALOUS);
	rec(wl, "198.51.100.8", WL_SENT, T0);
	v = verdict(wl, "198.51.100.8", NULL, WL_SENT, T0 + 1);
	assert_int_equal(v.verdict, WL_NORMAL);
	v = verdict(wl, "203.0.113.5", NULL, WL_SENT, T0);
	assert_int_equal(v.verdict, WL_LOCAL);
	assert_string_equal(reason(&v), "local address (documentation)");
	whitelist_close(wl);
	free(f);
	rm_rf(dir);
}

static void test_malformed_lists(void **state)
{
	char big[6000], many[40000];
	size_t n = 0;
	struct wl_list *l;
	char *dir, *f, err[512];
	const char *bl[1];
	struct whitelist_options o;

	(void)state;
	/* Binary garbage: a NUL byte on line 3. */
	parse_fails(WL_LIST_BLOCK, "1.2.3.4\n5.6.7.8\n9.9.\0009.9\n", 24, "/etc/x/list.txt:3: binary data (byte 0x00)");
	parse_fails(WL_LIST_ALLOW, "# ok\n\x01\x02\x03\n", 0, "list.txt:2: binary data (byte 0x01)");
	parse_fails(WL_LIST_BLOCK, "\x1f\x8b\x08\x00", 4, "list.txt:1: gzip-compressed");
	/* Overlong line. */
	memset(big, 'a', sizeof big);
	memcpy(big, "1.2.3.4\n# ", 10);
	big[sizeof big - 1] = '\0';
	parse_fails(WL_LIST_BLOCK, big, 0, "list.txt:2: line longer than 4096 bytes");
	/* Bad CIDRs. */
	parse_fails(WL_LIST_BLOCK, "1.2.3.4\n1.2.3.400\n", 0, "list.txt:2: '1.2.3.400' is not an IPv4 or IPv6");
	parse_fails(WL_LIST_BLOCK, "# x\n\n1.2.3.0/24 garbage\n", 0, "list.txt:3: unexpected text after '1.2.3.0/24'");
	parse_fails(WL_LIST_ALLOW, "example.com\nexa mple.com\n", 0, "list.txt:2: unexpected text after 'exa'");
	parse_fails(WL_LIST_ALLOW, "example.com\n\n\nfoo..bar\n", 0, "list.txt:4: empty label");
	parse_fails(WL_LIST_ALLOW, "ok.com\n::ffff::1\n", 0, "list.txt:2:");
	parse_fails(WL_LIST_BLOCK, "<!DOCTYPE html>\n<html><body>404</body></html>\n", 0,
		    "list.txt:1: looks like HTML");
	/* Regression (lists_fuzzer): messages never read past an unterminated buffer. */
	{
		static const char t[] = "1.2.3.4\nno,address,here";
		char *exact = xmalloc(sizeof t - 1);

		memcpy(exact, t, sizeof t - 1);
		assert_int_equal(wl_list_parse(WL_LIST_BLOCK, "u.txt", exact, sizeof t - 1, NULL, &l, err, sizeof err), -1);
		assert_non_null(strstr(err, "u.txt:2: no address in CSV line 'no,address,here'"));
		free(exact);
	}
	/* A big blocklist with one broken line among 1000 is accepted, and says where. */
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(many + n, sizeof many - n, i == 500 ? "1.2.3.x\n" : "11.0.%d.%d\n", i / 256,
				      i % 256);
	l = parse_ok(WL_LIST_BLOCK, "many.txt", many);
	assert_int_equal(l->ncidrs, 999);
	assert_int_equal(l->bad, 1);
	assert_int_equal(l->first_bad_line, 501);
	wl_list_unref(l);
	/* Empty and comment-only files are valid, empty lists. */
	l = parse_ok(WL_LIST_BLOCK, "empty.txt", "");
	assert_int_equal(l->ncidrs, 0);
	wl_list_unref(l);
	l = parse_ok(WL_LIST_ALLOW, "bom.txt", "\xef\xbb\xbf# comment\r\nexample.com\r\n");
	assert_int_equal(l->ndomains, 1);
	wl_list_unref(l);
	/* At start-up a bad file fails whitelist_open with the line number. */
	dir = mkstate();
	f = put(dir, "bad.txt", "1.2.3.4\n\n7.7.7.7/99\n", 0);
	bl[0] = f;
	memset(&o, 0, sizeof o);
	o.block_files = bl;
	o.nblock = 1;
	assert_null(whitelist_open(&o, err, sizeof err));
	assert_non_null(strstr(err, "bad.txt:3: prefix length in '7.7.7.7/99' must be 0..32"));
	bl[0] = "/nonexistent/list.txt";
	assert_null(whitelist_open(&o, err, sizeof err));
	assert_string_equal(err, "cannot read blocklist /nonexistent/list.txt: No such file or directory "
				 "(check --blocklist)");
	free(f);
	rm_rf(dir);
}

/* True when the /24 starting at the given 24-bit index agrees between the two classifiers. */
static bool special_agrees(uint32_t i)
{
	uint8_t b[4] = {(uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 0};
	ng_addr a = addr_from_v4(b);
	ng_cidr c = {a, 24};
	struct wl_cidr w = wl_cidr_from(&c);

	return wl_cidr_overlaps_special(&w) == (addr_scope(&a) != NG_SCOPE_PUBLIC);
}

/*
 * The private copy of the special ranges must agree with addr_scope(). Every
 * IPv4 special range is a /24 or wider (255.255.255.255 lies in 240/4), so
 * the .0 address of each /24 decides. Checking all 2^24 of them takes ~20 s:
 * by default check the /24s around every boundary of either table that a
 * probe can find, plus a random sample; WL_TEST_EXHAUSTIVE=1 checks them all.
 */
static void test_special_ranges_match_addr_scope(void **state)
{
	static const char *const v6[] = {"::", "::1", "::ffff:1.2.3.4", "64:ff9b::1", "100::1", "100:0:0:1::1",
					 "2001:db8::1", "2001:db9::1", "3fff::1", "3fff:1000::1", "fc00::1", "fdff::1",
					 "fe80::1", "febf::1", "fec0::1", "ff02::1", "2a00::1", "2001::1", "1::1",
					 "fe00::1"};

	bool all = getenv("WL_TEST_EXHAUSTIVE") != NULL;
	uint64_t r = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (uint32_t i = 0; i < (1u << 24); i++) {
		bool check = all || (i & 0xff) == 0 || (i & 0xff) == 0xff;	/* every /16's first and last /24 */

		if (!check) {
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			check = r % 64 == 0;	/* and 1 in 64 of the rest */
		}
		if (check && !special_agrees(i))
			fail_msg("special range disagreement at %u.%u.%u.0/24", i >> 16, (i >> 8) & 0xff, i & 0xff);
	}
	{
		/* Both ends of every IPv4 range in addr.c's table, and the /24s just outside them. */
		static const char *const ranges[] = {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
			"169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24",
			"192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
			"240.0.0.0/4"};

		for (size_t k = 0; k < NG_ARRAY_LEN(ranges); k++) {
			ng_cidr c;
			char e[64];
			uint32_t lo, hi;

			assert_int_equal(cidr_parse(ranges[k], &c, e, sizeof e), 0);
			assert_true(addr_scope(&c.base) != NG_SCOPE_PUBLIC);
			lo = (uint32_t)c.base.a[0] << 16 | (uint32_t)c.base.a[1] << 8 | c.base.a[2];
			hi = lo + (1u << (24 - c.prefix)) - 1;
			if (!special_agrees(lo) || !special_agrees(hi) || (lo > 0 && !special_agrees(lo - 1)) ||
			    (hi + 1 < (1u << 24) && !special_agrees(hi + 1)))
				fail_msg("special range disagreement at an edge of %s", ranges[k]);
		}
	}
	for (size_t i = 0; i < NG_ARRAY_LEN(v6); i++) {
		ng_addr a = A(v6[i]);
		ng_cidr c = {a, 128};
		struct wl_cidr w = wl_cidr_from(&c);

		if (wl_cidr_overlaps_special(&w) != (addr_scope(&a) != NG_SCOPE_PUBLIC))
			fail_msg("special range disagreement at %s", v6[i]);
	}
}

/* ---- the prefix table against brute force ---- */

static uint64_t rnd(void);

/* The parser's IPv4 fast path must agree with cidr_parse on every token (differential test). */
static void test_v4_fast_path_matches_cidr_parse(void **state)
{
	static const char *const parts[] = {"0", "1", "9", "10", "01", "00", "99", "100", "199", "255", "256",
					    "300", "999", "0255", "1000", "", "a", " "};
	static const char *const pfx[] = {"", "/0", "/8", "/08", "/24", "/32", "/33", "/", "/1x", "/100", "/009"};

	(void)state;
	for (int it = 0; it < 200000; it++) {
		char tok[64], line[80], err[256];
		int nparts = 3 + (int)(rnd() % 3);
		size_t n = 0;
		struct wl_list *l;
		ng_cidr c;
		bool ok;

		for (int p = 0; p < nparts; p++)
			n += (size_t)snprintf(tok + n, sizeof tok - n, "%s%s", p ? "." : "",
					      parts[rnd() % NG_ARRAY_LEN(parts)]);
		snprintf(tok + n, sizeof tok - n, "%s", pfx[rnd() % NG_ARRAY_LEN(pfx)]);
		ok = cidr_parse(tok, &c, err, sizeof err) == 0;
		snprintf(line, sizeof line, "%s\n", tok);
		/* One line: accepted (kept or dropped as special) exactly when cidr_parse accepts it. */
		if (wl_list_parse(WL_LIST_BLOCK, "t.txt", line, strlen(line), NULL, &l, err, sizeof err) != 0) {
			if (ok)
				fail_msg("'%s': cidr_parse accepts, the list parser rejects (%s)", tok, err);
			continue;
		}
		if (!ok && l->ncidrs + l->dropped_special > 0)
			fail_msg("'%s': the list parser accepts, cidr_parse rejects", tok);
		if (ok && l->ncidrs == 1) {
			struct wl_cidr w = wl_cidr_from(&c);

			if (memcmp(&w, &l->cidrs[0], sizeof w) != 0)
				fail_msg("'%s': different values", tok);
		}
		wl_list_unref(l);
	}
}


static uint64_t rng_state = 0x1234567887654321ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_ptable_vs_bruteforce(void **state)
{
	enum { NC = 2000, NQ = 20000 };
	struct wl_cidr *c = xcalloc(NC, sizeof *c);
	const struct wl_cidr **cp = xcalloc(NC, sizeof *cp);
	struct wl_ptable *pt;

	(void)state;
	for (size_t i = 0; i < NC; i++) {
		ng_cidr k;
		uint8_t b[16];
		uint64_t r = rnd(), r2 = rnd();

		memcpy(b, &r, 8);
		memcpy(b + 8, &r2, 8);
		/* Few distinct leading bytes so prefixes nest and repeat. */
		b[0] = (uint8_t)(b[0] % 3);
		if (i % 2 == 0) {
			k.base = addr_from_v4(b);
			k.prefix = (uint8_t)(rnd() % 33);
		} else {
			k.base = addr_from_v6(b);
			k.prefix = (uint8_t)(rnd() % 129);
		}
		if (i > 10 && rnd() % 4 == 0)	/* duplicates */
			c[i] = c[i - 7];
		else {
			char t[80], e[64];
			ng_cidr p;

			cidr_format(&k, t, sizeof t);
			assert_int_equal(cidr_parse(t, &p, e, sizeof e), 0);
			c[i] = wl_cidr_from(&p);
		}
		cp[i] = &c[i];
	}
	pt = wl_ptable_build(cp, NC);
	assert_true(wl_ptable_ranges(pt) <= 2 * NC + 2);
	for (size_t q = 0; q < NQ; q++) {
		const struct wl_cidr *base = &c[rnd() % NC];
		ng_addr a;
		uint32_t want = WL_PT_NONE, got;
		int bestp = -1;

		memset(&a, 0, sizeof a);
		a.v = base->v;
		memcpy(a.a, base->a, 16);
		if (a.v == 4)
			memset(a.a + 4, 0, 12);
		/* Flip a few random low bits, sometimes a high one, to probe edges. */
		for (int f = (int)(rnd() % 4); f > 0; f--) {
			unsigned bit = (unsigned)(rnd() % (a.v == 4 ? 32 : 128));

			a.a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		}
		if (rnd() % 8 == 0)	/* the last address of the prefix */
			for (unsigned bit = base->prefix; bit < (a.v == 4 ? 32u : 128u); bit++)
				a.a[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
		for (size_t i = 0; i < NC; i++) {
			ng_cidr k;

			memset(&k, 0, sizeof k);
			k.base.v = c[i].v;
			memcpy(k.base.a, c[i].a, 16);
			k.prefix = c[i].prefix;
			if (cidr_contains(&k, &a) && (int)k.prefix > bestp) {
				bestp = k.prefix;
				want = (uint32_t)i;
			}
		}
		got = wl_ptable_lookup(pt, &a);
		if (got != want) {
			char t[64];

			fail_msg("lookup %s: got %d want %d", addr_format(&a, t, sizeof t), (int)got, (int)want);
		}
	}
	wl_ptable_free(pt);
	/* Empty tables and the extremes of the address space. */
	{
		ng_addr a = A("255.255.255.255"), b = A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
		struct wl_cidr all4, all6;
		const struct wl_cidr *two[2] = {&all4, &all6};
		ng_cidr k;
		char e[64];

		pt = wl_ptable_build(NULL, 0);
		assert_int_equal(wl_ptable_lookup(pt, &a), WL_PT_NONE);
		assert_int_equal(wl_ptable_lookup(pt, &b), WL_PT_NONE);
		wl_ptable_free(pt);
		cidr_parse("0.0.0.0/0", &k, e, sizeof e);
		all4 = wl_cidr_from(&k);
		cidr_parse("::/0", &k, e, sizeof e);
		all6 = wl_cidr_from(&k);
		pt = wl_ptable_build(two, 2);
		assert_int_equal(wl_ptable_lookup(pt, &a), 0);
		assert_int_equal(wl_ptable_lookup(pt, &b), 1);
		assert_int_equal(wl_ptable_ranges(pt), 2);
		wl_ptable_free(pt);
	}
	free(c);
	free(cp);
}

/* ---- history and reset ---- */

/* Split RFC 4180 text into records of fields (an independent, minimal reader). */
static int csv_read(const char *s, char fields[][10][96], int maxrec)
{
	int r = 0, f = 0;
	size_t o = 0;
	bool q = false;

	while (*s && r < maxrec) {
		char ch = *s++;

		if (q) {
			if (ch == '"' && *s == '"') {
				fields[r][f][o++] = '"';
				s++;
			} else if (ch == '"') {
				q = false;
			} else {
				fields[r][f][o++] = ch;
			}
			continue;
		}
		if (ch == '"') {
			q = true;
		} else if (ch == ',') {
			fields[r][f][o] = '\0';
			f++;
			o = 0;
		} else if (ch == '\r' && *s == '\n') {
			s++;
			fields[r][f][o] = '\0';
			r++;
			f = 0;
			o = 0;
		} else {
			fields[r][f][o++] = ch;
		}
		assert_true(o < 95);
		assert_true(f < 10);
	}
	return r;
}

static void test_history_json_csv(void **state)
{
	char *dir = mkstate();
	struct whitelist *wl = open_wl(dir, NULL, 0, NULL, 0);
	ng_addr a = A("8.8.8.8"), b = A("2a00:1450::5"), c = A("1.1.1.1");
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *out;
	int lines = 0;

	(void)state;
	whitelist_record(wl, &a, WL_SENT, T0, 3, 10, 1000, "dns.google", "US", 0, NULL, WL_ANOMALOUS);
	whitelist_record(wl, &a, WL_SENT, T0 + H, 1, 1, 100, NULL, NULL, 0, NULL, WL_NORMAL);
	whitelist_record(wl, &a, WL_RECEIVED, T0 + H, 1, 2, 200, NULL, NULL, 0, NULL, WL_NORMAL);
	whitelist_record(wl, &b, WL_SENT, T0 + 2 * H, 1, 1, 80, "odd,\"name\".example", NULL, 0, NULL, WL_BLOCKLISTED);
	whitelist_record(wl, &c, WL_SENT, T0 - D, 1, 1, 60, NULL, NULL, 0, NULL, WL_NONE);
	assert_int_equal(whitelist_flush(wl), 0);

	/* JSON Lines, read back with cJSON, while the writer still has the database open. */
	out = open_memstream(&buf, &len);
	assert_int_equal(whitelist_history_cli(dir, T0, -1, "json", out, err, sizeof err), 0);
	fclose(out);
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		cJSON *o = cJSON_Parse(line);
		const char *addr, *dirn;

		assert_non_null(o);
		addr = cJSON_GetObjectItem(o, "address")->valuestring;
		dirn = cJSON_GetObjectItem(o, "direction")->valuestring;
		if (lines == 0) {	/* newest first */
			assert_string_equal(addr, "2a00:1450::5");
			assert_string_equal(cJSON_GetObjectItem(o, "domain")->valuestring, "odd,\"name\".example");
			assert_string_equal(cJSON_GetObjectItem(o, "verdict")->valuestring, "blocklisted");
			assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "country")));
		}
		if (strcmp(addr, "8.8.8.8") == 0 && strcmp(dirn, "sent") == 0) {
			assert_int_equal(cJSON_GetObjectItem(o, "flows")->valuedouble, 4);
			assert_int_equal(cJSON_GetObjectItem(o, "packets")->valuedouble, 11);
			assert_int_equal(cJSON_GetObjectItem(o, "bytes")->valuedouble, 1100);
			assert_string_equal(cJSON_GetObjectItem(o, "first_seen")->valuestring,
					    "2026-11-19T08:14:00.000000Z");
			assert_string_equal(cJSON_GetObjectItem(o, "last_seen")->valuestring,
					    "2026-11-19T09:14:00.000000Z");
			assert_string_equal(cJSON_GetObjectItem(o, "domain")->valuestring, "dns.google");
			assert_string_equal(cJSON_GetObjectItem(o, "country")->valuestring, "US");
			assert_string_equal(cJSON_GetObjectItem(o, "verdict")->valuestring, "anomalous");
		}
		assert_string_not_equal(addr, "1.1.1.1");	/* last seen before --since */
		cJSON_Delete(o);
		lines++;
	}
	assert_int_equal(lines, 3);
	free(buf);

	/* --verdict blocklisted */
	out = open_memstream(&buf, &len);
	assert_int_equal(whitelist_history_cli(dir, NG_TIME_NONE, WL_BLOCKLISTED, "json", out, err, sizeof err), 0);
	fclose(out);
	assert_non_null(strstr(buf, "2a00:1450::5"));
	assert_null(strstr(buf, "8.8.8.8"));
	free(buf);

	/* CSV: a header, RFC 4180 quoting, all four rows without --since. */
	out = open_memstream(&buf, &len);
	assert_int_equal(whitelist_history_cli(dir, 0, 0, "csv", out, err, sizeof err), 0);
	fclose(out);
	{
		static char rows[8][10][96];
		int nr = csv_read(buf, rows, 8);

		assert_int_equal(nr, 5);
		assert_string_equal(rows[0][0], "address");
		assert_string_equal(rows[0][1], "direction");
		assert_string_equal(rows[0][6], "last_seen");
		assert_string_equal(rows[1][0], "2a00:1450::5");
		assert_string_equal(rows[1][7], "odd,\"name\".example");
		assert_string_equal(rows[4][0], "1.1.1.1");
		assert_string_equal(rows[4][2], "1");
	}
	assert_non_null(strstr(buf, "\"odd,\"\"name\"\".example\""));
	free(buf);

	assert_int_equal(whitelist_history_cli(dir, 0, 0, "xml", stdout, err, sizeof err), -1);
	assert_non_null(strstr(err, "use --format json or --format csv"));
	whitelist_close(wl);
	assert_int_equal(whitelist_history_cli("/nonexistent", 0, 0, "json", stdout, err, sizeof err), -1);
	assert_non_null(strstr(err, "no netglobe database at /nonexistent/netglobe.db"));
	rm_rf(dir);
}

static void test_reset_baseline(void **state)
{
	char *dir = mkstate();
	struct whitelist *wl = open_wl(dir, NULL, 0, NULL, 0), *wl2;
	char err[256], *buf = NULL, db[512];
	size_t len = 0;
	FILE *out;
	struct wl_learning l;
	struct wl_entry e;
	ng_addr a = A("8.8.8.8");

	(void)state;
	snprintf(db, sizeof db, "%s/netglobe.db", dir);
	assert_int_equal(whitelist_trust(wl, "9.9.9.9", err, sizeof err), 0);
	rec(wl, "8.8.8.8", WL_SENT, T0);
	rec(wl, "8.8.8.8", WL_RECEIVED, T0);
	rec(wl, "1.1.1.1", WL_SENT, T0 + H);
	assert_int_equal(whitelist_flush(wl), 0);
	out = open_memstream(&buf, &len);
	assert_int_equal(whitelist_reset_cli(dir, out, err, sizeof err), 0);
	fclose(out);
	if (strstr(buf, "removed 2 addresses (3 rows) learnt since 2026-11-19 08:14") == NULL)
		fail_msg("reset said: %s", buf);
	free(buf);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM seen"), 0);
	/* The running instance notices at its next flush and does not write its rows back. */
	rec(wl, "4.4.4.4", WL_SENT, T0 + 2 * H);
	cap_begin();
	assert_int_equal(whitelist_flush(wl), 0);
	free(cap_end());
	whitelist_entry(wl, &a, WL_SENT, &e);
	assert_false(e.known);
	whitelist_close(wl);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM seen"), 0);
	wl2 = open_wl(dir, NULL, 0, NULL, 0);
	whitelist_learning(wl2, T0 + 3 * H, &l);
	assert_true(l.learning);
	assert_true(l.since == NG_TIME_NONE);
	{
		struct wl_verdict_info v = verdict(wl2, "9.9.9.9", NULL, WL_SENT, T0);

		assert_int_equal(v.why, WL_WHY_ALLOWED);	/* trusted rules stay */
	}
	whitelist_close(wl2);
	out = open_memstream(&buf, &len);
	assert_int_equal(whitelist_reset_cli(dir, out, err, sizeof err), 0);
	fclose(out);
	assert_non_null(strstr(buf, "removed 0 addresses (0 rows)"));
	free(buf);
	rm_rf(dir);
}

static void test_open_errors(void **state)
{
	char *dir = mkstate();
	char *file = put(dir, "plain", "x", 0), sub[600], err[512], buf[512];
	struct whitelist_options o;
	struct whitelist *wl;

	(void)state;
	memset(&o, 0, sizeof o);
	snprintf(sub, sizeof sub, "%s/state", file);	/* a directory under a regular file */
	o.state_dir = sub;
	assert_null(whitelist_open(&o, err, sizeof err));
	assert_non_null(strstr(err, "cannot use state directory"));
	assert_non_null(strstr(err, "Not a directory"));
	/* Not a database. */
	snprintf(sub, sizeof sub, "%s/junk", dir);
	mkdir(sub, 0700);
	free(put(sub, "netglobe.db", "this is not sqlite, just text that is long enough to look like a header.....",
		 0));
	o.state_dir = sub;
	assert_null(whitelist_open(&o, err, sizeof err));
	assert_non_null(strstr(err, "netglobe.db"));
	/* Nested missing directories are created 0700. */
	snprintf(sub, sizeof sub, "%s/a/b/c", dir);
	o.state_dir = sub;
	wl = whitelist_open(&o, err, sizeof err);
	assert_non_null(wl);
	whitelist_close(wl);
	{
		struct stat st;

		assert_int_equal(stat(sub, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0700);
	}
	assert_non_null(platform_state_dir_default(buf, sizeof buf));
	if (geteuid() == 0)
		assert_string_equal(buf, "/var/lib/netglobe");
	free(file);
	rm_rf(dir);
}

/* ---- crash safety ---- */

/* The child: record batches of 200 new addresses, flush, report the batch number on the pipe. */
static void crash_child(const char *dir, int wfd, uint32_t start)
{
	struct whitelist *wl = open_wl(dir, NULL, 0, NULL, 0);

	for (uint32_t batch = start;; batch++) {
		for (uint32_t i = 0; i < 200; i++) {
			uint32_t n = batch * 200 + i;
			uint8_t b[4] = {(uint8_t)(20 + (n >> 24)), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
			ng_addr a = addr_from_v4(b);

			whitelist_record(wl, &a, WL_SENT, T0 + (ng_time)n, 1, 1, 100, "x.example", "US", 0, NULL,
					 WL_NONE);
		}
		if (whitelist_flush(wl) != 0)
			_exit(3);
		if (write(wfd, &batch, sizeof batch) != (ssize_t)sizeof batch)
			_exit(4);
	}
}

static void test_crash_safety(void **state)
{
	char *dir = mkstate();
	char db[512];
	uint32_t next = 0, done_max = 0;
	uint64_t committed = 0;

	(void)state;
	snprintf(db, sizeof db, "%s/netglobe.db", dir);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (int round = 0; round < 6; round++) {
		int p[2];
		pid_t pid;
		uint32_t batch, seen = 0;
		int st;
		ng_time until;

		assert_int_equal(pipe(p), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			crash_child(dir, p[1], next);
			_exit(0);
		}
		close(p[1]);
		/* Let it run at least two batches, then kill at a random moment up to 150 ms later. */
		while (seen < 2 && read(p[0], &batch, sizeof batch) == (ssize_t)sizeof batch) {
			seen++;
			done_max = batch;
			committed++;
		}
		until = time_mono() + (rand() % 150000);
		while (time_mono() < until)
			;
		kill(pid, SIGKILL);
		/* Every batch the child reported flushed must be there (drain what it wrote before dying). */
		while (read(p[0], &batch, sizeof batch) == (ssize_t)sizeof batch) {
			done_max = batch;
			committed++;
		}
		close(p[0]);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		{
			sqlite3 *h;
			sqlite3_stmt *s;
			int64_t rows;

			assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
			assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
			assert_int_equal(sqlite3_step(s), SQLITE_ROW);
			assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
			sqlite3_finalize(s);
			sqlite3_close(h);
			rows = sql_int(db, "SELECT COUNT(*) FROM seen");
			/* Every batch reported in any round so far was committed: 200 new rows each. */
			if (rows < (int64_t)committed * 200)
				fail_msg("round %d: %lld rows, expected at least %lld", round, (long long)rows,
					 (long long)committed * 200);
		}
		next = done_max + 2;	/* the next child continues past anything possibly half-written */
	}
	assert_true(committed >= 12);
	/* And the store opens normally afterwards. */
	{
		struct whitelist *wl = open_wl(dir, NULL, 0, NULL, 0);
		struct whitelist_stats st;

		whitelist_get_stats(wl, &st);
		assert_true(st.entries >= committed * 200);
		whitelist_close(wl);
	}
	rm_rf(dir);
}

/* ---- known services (registrable domains and ASes) ---- */

/* Record one new flow with a name and a network. */
static void recs(struct whitelist *wl, const char *addr, enum wl_dir dir, ng_time t, const char *domain,
		 uint32_t asn, const char *org)
{
	ng_addr a = A(addr);

	whitelist_record(wl, &a, dir, t, 1, 3, 300, domain, NULL, asn, org, WL_NONE);
}

static struct wl_verdict_info vs(struct whitelist *wl, const char *addr, const char *domain, uint32_t asn,
				 enum wl_dir dir, ng_time t)
{
	struct wl_verdict_info v;
	ng_addr a = A(addr);

	whitelist_verdict(wl, &a, domain, asn, dir, t, &v);
	return v;
}

static const char *svc_reason(const struct wl_verdict_info *v)
{
	static char buf[512];

	return wl_service_format(v, 48 * H, buf, sizeof buf);
}

/* A verdict that no service explains. */
static void assert_no_svc(const struct wl_verdict_info *v)
{
	/* The service fields share their bytes with the rule and the first time: svc alone says. */
	assert_int_equal(v->svc, WL_SVC_NONE);
	assert_true(wl_service_first(v) == NG_TIME_NONE);
	assert_string_equal(svc_reason(v), "");
}

static struct whitelist *open_svc(const char *state, bool nameless)
{
	struct whitelist_options o;
	struct whitelist *wl;
	char err[512];

	memset(&o, 0, sizeof o);
	o.state_dir = state;
	o.window = 48 * H;
	o.retention = 7 * D;
	o.asn_nameless_min_flows = nameless ? 1 : 0;
	wl = whitelist_open(&o, err, sizeof err);
	if (wl == NULL)
		fail_msg("whitelist_open: %s", err);
	return wl;
}

static void test_svc_domain_explains(void **state)
{
	struct whitelist *wl = open_svc(NULL, false);
	struct wl_verdict_info v;
	struct whitelist_stats st;

	(void)state;
	recs(wl, "1.2.3.4", WL_SENT, T0, "a.cdn.example.com", 0, NULL);
	/* Another subdomain of the same registrable domain, on a new address. */
	v = vs(wl, "5.6.7.8", "b.cdn.example.com", 0, WL_SENT, T0 + H);
	assert_int_equal(v.verdict, WL_ANOMALOUS);	/* the paper's verdict is kept */
	assert_int_equal(v.why, WL_WHY_FIRST_CONTACT);
	assert_string_equal(reason(&v), "first contact in the 48 h window");
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	assert_string_equal(v.svc_name, "example.com");
	assert_int_equal(v.svc_count, 1);
	assert_true(v.svc_first == T0);
	assert_int_equal(v.svc_asn, 0);
	assert_string_equal(svc_reason(&v), "new address of example.com, seen once since 2026-11-19 08:14");
	/* The name is interned for the process: the same pointer each time. */
	{
		struct wl_verdict_info v2 = vs(wl, "5.6.7.9", "www.example.com", 0, WL_SENT, T0 + H);

		assert_ptr_equal(v2.svc_name, v.svc_name);
	}
	/* Case and a trailing dot do not matter; the registrable domain itself counts. */
	v = vs(wl, "5.6.7.8", "B.CDN.Example.COM.", 0, WL_SENT, T0 + H);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	v = vs(wl, "5.6.7.8", "example.com", 0, WL_SENT, T0 + H);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	/* More flows: the count is the service's total in this direction. */
	recs(wl, "1.2.3.5", WL_SENT, T0 + 2 * H, "c.example.com", 0, NULL);
	recs(wl, "1.2.3.4", WL_SENT, T0 + 3 * H, "a.cdn.example.com", 0, NULL);
	v = vs(wl, "2a00:1450:4001::5", "d.example.com", 0, WL_SENT, T0 + 4 * H);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	assert_int_equal(v.svc_count, 3);
	assert_string_equal(svc_reason(&v), "new address of example.com, seen 3 times since 2026-11-19 08:14");
	/* A known address is normal: no service is named. */
	v = vs(wl, "1.2.3.4", "a.cdn.example.com", 0, WL_SENT, T0 + 4 * H);
	assert_int_equal(v.verdict, WL_NORMAL);
	assert_no_svc(&v);
	/* Another domain, or no name, explains nothing. */
	v = vs(wl, "5.6.7.8", "example.net", 0, WL_SENT, T0 + H);
	assert_int_equal(v.verdict, WL_ANOMALOUS);
	assert_no_svc(&v);
	v = vs(wl, "5.6.7.8", NULL, 0, WL_SENT, T0 + H);
	assert_no_svc(&v);
	/* An expired address of a known domain is explained too, and stays "expired". */
	recs(wl, "9.9.9.9", WL_SENT, T0 - 3 * D, "old.example.com", 0, NULL);
	v = vs(wl, "9.9.9.9", "old.example.com", 0, WL_SENT, T0 + 4 * H);
	assert_int_equal(v.verdict, WL_ANOMALOUS);
	assert_int_equal(v.why, WL_WHY_EXPIRED);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	assert_true(v.svc_first == T0 - 3 * D);
	whitelist_get_stats(wl, &st);
	assert_int_equal(st.services, 1);
	assert_true(st.explained_domain >= 5);
	assert_int_equal(st.explained_asn, 0);
	whitelist_close(wl);
}

static void test_svc_names_cached_and_reused_buffers(void **state)
{
	struct whitelist *wl = open_svc(NULL, false);
	struct wl_verdict_info v;
	char buf[64];
	ng_addr a = A("1.2.3.4"), b = A("5.6.7.8");

	(void)state;
	/* A caller's buffer reused for another name must never hit a cached answer for the old one. */
	snprintf(buf, sizeof buf, "a.example.com");
	whitelist_record(wl, &a, WL_SENT, T0, 1, 1, 1, buf, NULL, 0, NULL, WL_NONE);
	snprintf(buf, sizeof buf, "a.other.net");
	whitelist_verdict(wl, &b, buf, 0, WL_SENT, T0 + H, &v);
	assert_no_svc(&v);
	snprintf(buf, sizeof buf, "z.example.com");
	whitelist_verdict(wl, &b, buf, 0, WL_SENT, T0 + H, &v);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	/* The engine's way: pooled names, the same pointer in record and verdict. */
	{
		const char *p = strpool_get("www.pooled.org"), *q = strpool_get("x.pooled.org");

		whitelist_record(wl, &a, WL_RECEIVED, T0, 1, 1, 1, p, NULL, 0, NULL, WL_NONE);
		whitelist_verdict(wl, &b, p, 0, WL_RECEIVED, T0 + H, &v);
		assert_int_equal(v.svc, WL_SVC_DOMAIN);
		assert_string_equal(v.svc_name, "pooled.org");
		whitelist_verdict(wl, &b, q, 0, WL_RECEIVED, T0 + H, &v);
		assert_string_equal(v.svc_name, "pooled.org");
		strpool_put(p);
		strpool_put(q);
	}
	/* A name that comes after the flow's first record still counts the flow once. */
	whitelist_record(wl, &a, WL_SENT, T0, 1, 1, 1, NULL, NULL, 0, NULL, WL_NONE);
	whitelist_record(wl, &a, WL_SENT, T0 + 1, 0, 1, 1, "late.example.org", NULL, 0, NULL, WL_NONE);
	whitelist_verdict(wl, &b, "x.example.org", 0, WL_SENT, T0 + H, &v);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	assert_int_equal(v.svc_count, 1);
	whitelist_close(wl);
}

static void test_svc_psl_tenants_apart(void **state)
{
	struct whitelist *wl = open_svc(NULL, false);
	struct wl_verdict_info v;
	struct whitelist_stats st;

	(void)state;
	recs(wl, "1.2.3.4", WL_SENT, T0, "alice.github.io", 0, NULL);
	recs(wl, "1.2.3.5", WL_SENT, T0, "www.bbc.co.uk", 0, NULL);
	recs(wl, "1.2.3.6", WL_SENT, T0, "bucket.s3.amazonaws.com", 0, NULL);
	/* Public suffixes and address literals are no registrable domain: nothing learnt. */
	recs(wl, "1.2.3.7", WL_SENT, T0, "co.uk", 0, NULL);
	recs(wl, "1.2.3.8", WL_SENT, T0, "github.io", 0, NULL);
	recs(wl, "1.2.3.9", WL_SENT, T0, "203.0.113.5", 0, NULL);
	whitelist_get_stats(wl, &st);
	assert_int_equal(st.services, 3);
	v = vs(wl, "5.6.7.8", "bob.github.io", 0, WL_SENT, T0 + H);
	assert_no_svc(&v);
	v = vs(wl, "5.6.7.8", "www.itv.co.uk", 0, WL_SENT, T0 + H);
	assert_no_svc(&v);
	v = vs(wl, "5.6.7.8", "other.s3.amazonaws.com", 0, WL_SENT, T0 + H);
	assert_no_svc(&v);
	v = vs(wl, "5.6.7.8", "co.uk", 0, WL_SENT, T0 + H);
	assert_no_svc(&v);
	v = vs(wl, "5.6.7.8", "news.bbc.co.uk", 0, WL_SENT, T0 + H);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	assert_string_equal(v.svc_name, "bbc.co.uk");
	v = vs(wl, "5.6.7.8", "gist.alice.github.io", 0, WL_SENT, T0 + H);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	assert_string_equal(v.svc_name, "alice.github.io");
	whitelist_close(wl);
}

static void test_svc_asn_needs_a_name(void **state)
{
	struct whitelist *wl = open_svc(NULL, false);
	struct wl_verdict_info v;
	struct whitelist_stats st;

	(void)state;
	/* The network is learnt from a nameless flow as from any other. */
	recs(wl, "20.1.1.1", WL_SENT, T0, NULL, 8075, "Microsoft Corporation");
	/* A nameless connection to a new address in a known network: not explained. */
	v = vs(wl, "20.2.2.2", NULL, 8075, WL_SENT, T0 + H);
	assert_int_equal(v.verdict, WL_ANOMALOUS);
	assert_no_svc(&v);
	v = vs(wl, "20.2.2.2", "", 8075, WL_SENT, T0 + H);
	assert_no_svc(&v);
	/* An address literal in SNI or Host is no name either. */
	v = vs(wl, "20.2.2.2", "20.2.2.2", 8075, WL_SENT, T0 + H);
	assert_no_svc(&v);
	/* With a name (of an unknown domain) the network explains. */
	v = vs(wl, "20.2.2.2", "x.unknown-domain.net", 8075, WL_SENT, T0 + H);
	assert_int_equal(v.svc, WL_SVC_ASN);
	assert_int_equal(v.svc_asn, 8075);
	assert_string_equal(v.svc_name, "Microsoft Corporation");
	assert_int_equal(v.svc_count, 1);
	assert_true(v.svc_first == T0);
	assert_string_equal(svc_reason(&v),
			    "new address in AS8075 Microsoft Corporation, seen once since 2026-11-19 08:14");
	/* Another AS, or none, explains nothing. */
	v = vs(wl, "20.2.2.2", "x.unknown-domain.net", 15169, WL_SENT, T0 + H);
	assert_no_svc(&v);
	v = vs(wl, "20.2.2.2", "x.unknown-domain.net", 0, WL_SENT, T0 + H);
	assert_no_svc(&v);
	/* The domain beats the AS. */
	recs(wl, "20.1.1.2", WL_SENT, T0, "login.live.com", 8075, "Microsoft Corporation");
	v = vs(wl, "20.2.2.3", "www.live.com", 8075, WL_SENT, T0 + H);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	assert_string_equal(v.svc_name, "live.com");
	assert_int_equal(v.svc_asn, 8075);	/* the network the domain was last seen in */
	/* An AS without an organisation's name; the name follows the latest record. */
	recs(wl, "30.1.1.1", WL_SENT, T0, "a.example.org", 64500, NULL);
	v = vs(wl, "30.2.2.2", "b.example.net", 64500, WL_SENT, T0 + H);
	assert_int_equal(v.svc, WL_SVC_ASN);
	assert_null(v.svc_name);
	assert_string_equal(svc_reason(&v), "new address in AS64500, seen once since 2026-11-19 08:14");
	recs(wl, "30.1.1.1", WL_SENT, T0 + 1, "a.example.org", 64500, "Example Networks");
	v = vs(wl, "30.2.2.2", "b.example.net", 64500, WL_SENT, T0 + H);
	assert_string_equal(v.svc_name, "Example Networks");
	assert_int_equal(v.svc_count, 2);
	whitelist_get_stats(wl, &st);
	assert_true(st.explained_asn >= 3);
	whitelist_close(wl);

	/* A network this host used repeatedly (three flows in the window) explains a nameless connection. */
	wl = open_svc(NULL, false);
	recs(wl, "20.1.1.1", WL_SENT, T0, NULL, 8075, "Microsoft Corporation");
	recs(wl, "20.1.1.2", WL_SENT, T0 + 1, NULL, 8075, "Microsoft Corporation");
	v = vs(wl, "20.2.2.2", NULL, 8075, WL_SENT, T0 + H);
	assert_no_svc(&v);
	recs(wl, "20.1.1.3", WL_SENT, T0 + 2, NULL, 8075, "Microsoft Corporation");
	v = vs(wl, "20.2.2.2", NULL, 8075, WL_SENT, T0 + H);
	assert_int_equal(v.svc, WL_SVC_ASN);
	assert_int_equal(v.svc_count, 3);
	whitelist_close(wl);

	/* asn_nameless_min_flows = 1: one flow of a network explains a nameless connection too. */
	wl = open_svc(NULL, true);
	recs(wl, "20.1.1.1", WL_SENT, T0, NULL, 8075, "Microsoft Corporation");
	v = vs(wl, "20.2.2.2", NULL, 8075, WL_SENT, T0 + H);
	assert_int_equal(v.svc, WL_SVC_ASN);
	whitelist_close(wl);
}

/* The window edges of one direction's service, by domain and by AS. */
static void svc_window_edges(enum wl_dir dir)
{
	struct whitelist *wl = open_svc(NULL, false);
	struct wl_verdict_info v;

	recs(wl, "1.2.3.4", dir, T0, "a.example.com", 64500, "Example");
	/* Not before t: the flow's own start explains nothing. */
	v = vs(wl, "5.6.7.8", "b.example.com", 64500, dir, T0);
	assert_no_svc(&v);
	/* Exactly t - window is inside, one microsecond more is outside. */
	v = vs(wl, "5.6.7.8", "b.example.com", 64500, dir, T0 + 48 * H);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	v = vs(wl, "5.6.7.8", "b.example.com", 64500, dir, T0 + 48 * H + 1);
	assert_no_svc(&v);
	v = vs(wl, "5.6.7.8", "b.example.net", 64500, dir, T0 + 48 * H);
	assert_int_equal(v.svc, WL_SVC_ASN);
	v = vs(wl, "5.6.7.8", "b.example.net", 64500, dir, T0 + 48 * H + 1);
	assert_no_svc(&v);
	/* A later record does not make an earlier verdict: the latest time before t counts. */
	recs(wl, "1.2.3.9", dir, T0 + 60 * H, "c.example.com", 64500, "Example");
	v = vs(wl, "5.6.7.8", "b.example.com", 64500, dir, T0 + 50 * H);
	assert_no_svc(&v);
	v = vs(wl, "5.6.7.8", "b.example.com", 64500, dir, T0 + 60 * H + 1);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	assert_int_equal(v.svc_count, 2);
	whitelist_close(wl);
}

static void test_svc_window_edges(void **state)
{
	(void)state;
	svc_window_edges(WL_SENT);
	svc_window_edges(WL_RECEIVED);
}

static void test_svc_per_direction(void **state)
{
	struct whitelist *wl = open_svc(NULL, false);
	struct wl_verdict_info v;

	(void)state;
	recs(wl, "1.2.3.4", WL_SENT, T0, "a.example.com", 64500, "Example");
	v = vs(wl, "5.6.7.8", "b.example.com", 64500, WL_RECEIVED, T0 + H);
	assert_int_equal(v.verdict, WL_ANOMALOUS);
	assert_no_svc(&v);
	v = vs(wl, "5.6.7.8", "b.example.com", 64500, WL_SENT, T0 + H);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	recs(wl, "1.2.3.4", WL_RECEIVED, T0 + 2 * H, "a.example.com", 64500, "Example");
	v = vs(wl, "5.6.7.8", "b.example.com", 64500, WL_RECEIVED, T0 + 3 * H);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	assert_true(v.svc_first == T0 + 2 * H);
	/* An invalid direction neither learns nor explains. */
	{
		ng_addr a = A("1.2.3.4");

		whitelist_record(wl, &a, (enum wl_dir)7, T0, 1, 1, 1, "z.example.net", NULL, 64501, NULL, WL_NONE);
		v = vs(wl, "5.6.7.8", "y.example.net", 64501, WL_SENT, T0 + H);
		assert_no_svc(&v);
	}
	whitelist_close(wl);
}

static void test_svc_rules_untouched(void **state)
{
	char *dir = mkstate();
	char *allow = put(dir, "allow.txt", "7.7.7.7\n*.allowed.example\n", 0);
	char *block = put(dir, "block.txt", "6.6.6.6\n", 0);
	const char *al[] = {allow}, *bl[] = {block};
	struct whitelist *wl = open_wl(NULL, al, 1, bl, 1);
	struct wl_verdict_info v;

	(void)state;
	recs(wl, "1.2.3.4", WL_SENT, T0, "a.example.com", 64500, "Example");
	recs(wl, "1.2.3.5", WL_SENT, T0, "a.allowed.example", 64500, "Example");
	v = vs(wl, "6.6.6.6", "b.example.com", 64500, WL_SENT, T0 + H);
	assert_int_equal(v.verdict, WL_BLOCKLISTED);
	assert_no_svc(&v);
	v = vs(wl, "7.7.7.7", "b.example.com", 64500, WL_SENT, T0 + H);
	assert_int_equal(v.verdict, WL_NORMAL);
	assert_int_equal(v.why, WL_WHY_ALLOWED);
	assert_no_svc(&v);
	v = vs(wl, "5.6.7.8", "b.allowed.example", 64500, WL_SENT, T0 + H);
	assert_int_equal(v.why, WL_WHY_ALLOWED);
	assert_no_svc(&v);
	v = vs(wl, "192.168.1.9", "b.example.com", 64500, WL_SENT, T0 + H);
	assert_int_equal(v.verdict, WL_LOCAL);
	assert_no_svc(&v);
	v = vs(wl, "1.2.3.4", "a.example.com", 64500, WL_SENT, T0 + H);
	assert_int_equal(v.verdict, WL_NORMAL);
	assert_no_svc(&v);
	whitelist_close(wl);
	free(allow);
	free(block);
	rm_rf(dir);
}

static void test_svc_persist_prune_migrate(void **state)
{
	char *dir = mkstate();
	char db[512], err[512];
	struct whitelist *wl = open_svc(dir, false);
	struct wl_verdict_info v;
	struct whitelist_stats st;
	struct wl_service_entry se;
	struct whitelist_options o;
	sqlite3 *h;

	(void)state;
	snprintf(db, sizeof db, "%s/netglobe.db", dir);
	recs(wl, "1.2.3.4", WL_SENT, T0, "a.example.com", 64500, "Example Networks");
	recs(wl, "1.2.3.4", WL_SENT, T0 + H, "a.example.com", 64500, "Example Networks");
	recs(wl, "1.2.3.5", WL_RECEIVED, T0 + 2 * D, "x.late.example", 0, NULL);
	assert_int_equal(whitelist_flush(wl), 0);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM services"), 3);
	assert_int_equal(sql_int(db, "SELECT flows FROM services WHERE kind = 1 AND key = 'example.com' AND dir = 0"),
			 2);
	assert_int_equal(sql_int(db, "SELECT last_seen FROM services WHERE kind = 2 AND key = '64500'"), T0 + H);
	whitelist_close(wl);

	/* After a restart the services are known again, from the database. */
	wl = open_svc(dir, false);
	whitelist_get_stats(wl, &st);
	assert_int_equal(st.services, 3);
	v = vs(wl, "5.6.7.8", "b.example.com", 0, WL_SENT, T0 + 2 * H);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	assert_int_equal(v.svc_count, 2);
	assert_true(v.svc_first == T0);
	v = vs(wl, "5.6.7.8", "b.example.net", 64500, WL_SENT, T0 + 2 * H);
	assert_int_equal(v.svc, WL_SVC_ASN);
	assert_string_equal(v.svc_name, "Example Networks");
	whitelist_service_entry(wl, WL_SVC_DOMAIN, "www.example.com", 0, WL_SENT, &se);
	assert_true(se.known);
	assert_int_equal(se.flows, 2);
	assert_true(se.first == T0 && se.last == T0 + H);
	whitelist_service_entry(wl, WL_SVC_ASN, NULL, 64500, WL_SENT, &se);
	assert_true(se.known);
	assert_string_equal(se.name, "Example Networks");
	whitelist_service_entry(wl, WL_SVC_ASN, NULL, 64500, WL_RECEIVED, &se);
	assert_false(se.known);

	/* Retention: at T0 + 7 d + H + 1 the sent services (last T0 + H) go, from memory and disk. */
	rec(wl, "9.9.9.9", WL_SENT, T0 + 7 * D + H);
	whitelist_prune(wl);
	whitelist_get_stats(wl, &st);
	assert_int_equal(st.services, 3);
	rec(wl, "9.9.9.9", WL_SENT, T0 + 7 * D + H + 1);
	whitelist_prune(wl);
	whitelist_get_stats(wl, &st);
	assert_int_equal(st.services, 1);
	assert_int_equal(st.services_pruned, 2);
	assert_int_equal(whitelist_flush(wl), 0);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM services"), 1);
	v = vs(wl, "5.6.7.8", "b.example.com", 64500, WL_SENT, T0 + 7 * D + H + 2);
	assert_no_svc(&v);
	whitelist_close(wl);

	/* A database from before the services table opens as it is, read-only and read-write. */
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "DROP TABLE services", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	memset(&o, 0, sizeof o);
	o.state_dir = dir;
	o.read_only = true;
	wl = whitelist_open(&o, err, sizeof err);
	if (wl == NULL)
		fail_msg("read-only open of a database without services: %s", err);
	whitelist_get_stats(wl, &st);
	assert_int_equal(st.services, 0);
	assert_true(st.entries > 0);
	whitelist_close(wl);
	wl = open_svc(dir, false);
	recs(wl, "1.2.3.4", WL_SENT, T0 + 7 * D + 2 * H, "a.example.com", 0, NULL);
	assert_int_equal(whitelist_flush(wl), 0);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM services WHERE key = 'example.com'"), 1);
	assert_int_equal(sql_int(db, "PRAGMA user_version"), WL_SCHEMA_VERSION);
	whitelist_close(wl);
	rm_rf(dir);
}

static void test_svc_reset_and_forget(void **state)
{
	char *dir = mkstate();
	char db[512], err[256], *buf = NULL;
	size_t len = 0;
	struct whitelist *wl = open_svc(dir, false);
	struct wl_verdict_info v;
	struct whitelist_stats st;
	FILE *out;

	(void)state;
	snprintf(db, sizeof db, "%s/netglobe.db", dir);
	recs(wl, "1.2.3.4", WL_SENT, T0, "a.cdn.example.com", 64500, "Example");
	recs(wl, "1.2.3.5", WL_SENT, T0, "www.other.org", 0, NULL);
	recs(wl, "1.2.3.6", WL_SENT, T0, "www.bbc.co.uk", 0, NULL);
	recs(wl, "1.2.3.7", WL_SENT, T0, "www.itv.co.uk", 0, NULL);
	/* forget of a pattern below a registrable domain forgets that domain's service. */
	assert_int_equal(whitelist_forget(wl, "*.cdn.example.com", err, sizeof err), 0);
	v = vs(wl, "5.6.7.8", "b.example.com", 0, WL_SENT, T0 + H);
	assert_no_svc(&v);
	v = vs(wl, "5.6.7.8", "b.example.com", 64500, WL_SENT, T0 + H);
	assert_int_equal(v.svc, WL_SVC_ASN);	/* the network is no domain: it stays */
	v = vs(wl, "5.6.7.8", "x.other.org", 0, WL_SENT, T0 + H);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM services WHERE key = 'example.com'"), 0);
	/* A pattern over a public suffix forgets the tenants it matches. */
	assert_int_equal(whitelist_forget(wl, "*.co.uk", err, sizeof err), 0);
	v = vs(wl, "5.6.7.8", "news.bbc.co.uk", 0, WL_SENT, T0 + H);
	assert_no_svc(&v);
	v = vs(wl, "5.6.7.8", "x.itv.co.uk", 0, WL_SENT, T0 + H);
	assert_no_svc(&v);
	/* An exact name forgets its registrable domain. */
	assert_int_equal(whitelist_forget(wl, "deep.www.other.org", err, sizeof err), 0);
	v = vs(wl, "5.6.7.8", "x.other.org", 0, WL_SENT, T0 + H);
	assert_no_svc(&v);
	/* An address forgets no service. */
	assert_int_equal(whitelist_forget(wl, "1.2.3.4", err, sizeof err), 0);
	whitelist_get_stats(wl, &st);
	assert_int_equal(st.services, 1);

	/* reset-baseline deletes the services on disk, and the running instance drops them. */
	recs(wl, "1.2.3.8", WL_SENT, T0 + H, "y.example.net", 0, NULL);
	assert_int_equal(whitelist_flush(wl), 0);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM services"), 2);
	out = open_memstream(&buf, &len);
	assert_int_equal(whitelist_reset_cli(dir, out, err, sizeof err), 0);
	fclose(out);
	free(buf);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM services"), 0);
	recs(wl, "1.2.3.9", WL_SENT, T0 + 2 * H, "z.example.org", 0, NULL);
	cap_begin();
	assert_int_equal(whitelist_flush(wl), 0);
	free(cap_end());
	whitelist_get_stats(wl, &st);
	assert_int_equal(st.services, 0);
	v = vs(wl, "5.6.7.8", "b.example.net", 64500, WL_SENT, T0 + 3 * H);
	assert_no_svc(&v);
	whitelist_close(wl);
	assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM services"), 0);
	/* reset-baseline on a database without the services table still works. */
	{
		sqlite3 *h;

		assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_exec(h, "DROP TABLE services", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(h);
		out = open_memstream(&buf, &len);
		assert_int_equal(whitelist_reset_cli(dir, out, err, sizeof err), 0);
		fclose(out);
		free(buf);
	}
	rm_rf(dir);
}

static void test_svc_cap(void **state)
{
	struct whitelist_options o;
	struct whitelist *wl;
	struct whitelist_stats st;
	struct wl_verdict_info v;
	char err[256], name[64];
	ng_addr a = A("1.2.3.4"), b = A("5.6.7.8");

	(void)state;
	memset(&o, 0, sizeof o);
	o.max_services = 64;
	wl = whitelist_open(&o, err, sizeof err);
	assert_non_null(wl);
	cap_begin();
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof name, "www.d%d.example", i);
		whitelist_record(wl, &a, WL_SENT, T0 + i, 1, 1, 1, name, NULL, (uint32_t)(100000 + i), NULL, WL_NONE);
		whitelist_get_stats(wl, &st);
		assert_true(st.services <= 64);
	}
	free(cap_end());
	whitelist_get_stats(wl, &st);
	assert_true(st.services_evicted >= 2000 * 2 - 64);
	/* The newest stay, the oldest went. */
	whitelist_verdict(wl, &b, "x.d1999.example", 0, WL_SENT, T0 + 3000, &v);
	assert_int_equal(v.svc, WL_SVC_DOMAIN);
	whitelist_verdict(wl, &b, "x.d3.example", 100003, WL_SENT, T0 + 3000, &v);
	assert_no_svc(&v);
	whitelist_close(wl);
}

static void test_svc_hostile_names(void **state)
{
	struct whitelist *wl = open_svc(NULL, false);
	struct wl_verdict_info v;
	struct whitelist_stats st;
	char *big = xmalloc(100001), garbage[300], org[2000], small[8];
	ng_addr a = A("1.2.3.4"), b = A("5.6.7.8");
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	/* Very long names: all letters, labels and dots, and one label short of the limits. */
	memset(big, 'a', 100000);
	big[100000] = '\0';
	for (size_t n = 250; n <= 100000; n = n < 300 ? n + 1 : n * 3) {
		char keep = big[n];

		big[n] = '\0';
		for (int pass = 0; pass < 2; pass++) {
			whitelist_record(wl, &a, WL_SENT, T0, 1, 1, 1, big, NULL, 64500, big, WL_NONE);
			whitelist_verdict(wl, &b, big, 64500, WL_SENT, T0 + H, &v);
			assert_int_equal(v.verdict, WL_ANOMALOUS);
			for (size_t i = 1; i < n; i += 2)
				big[i] = '.';
		}
		memset(big, 'a', n);
		big[n] = keep;
	}
	/* NUL-free garbage: every byte value but 0, at random. */
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(round % (int)(sizeof garbage - 1));

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			garbage[i] = (char)(1 + x % 255);
			if (round % 3 == 0 && i % 4 == 3)
				garbage[i] = '.';
		}
		garbage[n] = '\0';
		whitelist_record(wl, &a, (enum wl_dir)(round & 1), T0 + round, 1, 1, 1, garbage, NULL,
				 (uint32_t)(x >> 40), garbage, WL_NONE);
		whitelist_verdict(wl, &b, garbage, (uint32_t)(x >> 40), (enum wl_dir)(round & 1), T0 + H, &v);
		assert_true(v.svc <= WL_SVC_ASN);
		assert_non_null(wl_service_format(&v, 48 * H, small, sizeof small));
		assert_true(strlen(small) < sizeof small);
	}
	/* A huge AS organisation's name is kept cut, and the sentence never overflows. */
	memset(org, 'O', sizeof org - 1);
	org[sizeof org - 1] = '\0';
	whitelist_record(wl, &a, WL_SENT, T0, 1, 1, 1, "a.example.com", NULL, 64511, org, WL_NONE);
	whitelist_verdict(wl, &b, "b.example.net", 64511, WL_SENT, T0 + H, &v);
	assert_int_equal(v.svc, WL_SVC_ASN);
	assert_int_equal(strlen(v.svc_name), WL_ORG_KEEP);
	assert_non_null(strstr(svc_reason(&v), "new address in AS64511 OOOO"));
	assert_string_equal(wl_service_format(&v, 48 * H, small, sizeof small), "new add");
	assert_ptr_equal(wl_service_format(&v, 48 * H, small, 0), small);
	whitelist_get_stats(wl, &st);
	assert_true(st.services > 0);
	whitelist_close(wl);
	free(big);
}

/* wl_service_format as it was written with snprintf: the oracle for the hand-written one. */
static char *svc_format_ref(const struct wl_verdict_info *v, char *buf, size_t len)
{
	char ts[NG_TIMESTRLEN], seen[64], what[WL_DOMAIN_MAX + WL_ORG_KEEP + 32];

	if (len == 0)
		return buf;
	if (v->svc != WL_SVC_DOMAIN && v->svc != WL_SVC_ASN) {
		buf[0] = '\0';
		return buf;
	}
	time_format_short(v->svc_first, ts, sizeof ts);
	if (v->svc_count <= 1)
		snprintf(seen, sizeof seen, "seen once since %s", ts);
	else
		snprintf(seen, sizeof seen, "seen %u times since %s", v->svc_count, ts);
	if (v->svc == WL_SVC_DOMAIN)
		snprintf(what, sizeof what, "of %s", v->svc_name ? v->svc_name : "a known domain");
	else if (v->svc_name)
		snprintf(what, sizeof what, "in AS%u %s", v->svc_asn, v->svc_name);
	else
		snprintf(what, sizeof what, "in AS%u", v->svc_asn);
	snprintf(buf, len, "new address %s, %s", what, seen);
	return buf;
}

/* The hand-written sentence is snprintf's, for random counts, AS numbers, names (past the buffer's size too), times and buffer sizes. */
static void test_svc_format_matches_snprintf(void **state)
{
	static char name[WL_DOMAIN_MAX + WL_ORG_KEEP + 64];
	struct wl_verdict_info v;
	char got[600], want[600];
	uint64_t x = 88172645463325252ULL;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		size_t n, len;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memset(&v, 0, sizeof v);
		v.verdict = WL_ANOMALOUS;
		v.svc = (uint8_t)(x % 4);
		v.svc_count = i % 5 == 0 ? (uint32_t)(x >> 8) : (uint32_t)(x >> 8) % 3;
		v.svc_asn = i % 7 == 0 ? UINT32_MAX : (uint32_t)(x >> 20);
		v.svc_first = i % 11 == 0 ? -(ng_time)(x % (1000ULL * 86400 * NG_USEC)) : (ng_time)(x >> 10);
		n = (size_t)(x >> 33) % (i % 13 == 0 ? sizeof name : 40);
		for (size_t k = 0; k < n; k++)
			name[k] = (char)('a' + (x >> (k % 50)) % 26);
		name[n] = '\0';
		v.svc_name = i % 9 == 0 ? NULL : name;
		len = i % 3 == 0 ? (size_t)(x >> 40) % 120 : sizeof got;
		svc_format_ref(&v, want, len);
		wl_service_format(&v, 48 * H, got, len);
		if (len && strcmp(got, want) != 0)
			fail_msg("wl_service_format wrote '%s', snprintf '%s' (len %zu)", got, want, len);
	}
}

static void test_svc_format(void **state)
{
	struct wl_verdict_info v;
	char buf[256];

	(void)state;
	memset(&v, 0, sizeof v);
	assert_string_equal(wl_service_format(&v, 48 * H, buf, sizeof buf), "");
	v.verdict = WL_ANOMALOUS;
	v.why = WL_WHY_FIRST_CONTACT;
	v.svc = WL_SVC_DOMAIN;
	v.svc_name = "microsoft.com";
	v.svc_count = 41;
	v.svc_first = T0;
	assert_string_equal(wl_service_format(&v, 48 * H, buf, sizeof buf),
			    "new address of microsoft.com, seen 41 times since 2026-11-19 08:14");
	v.svc_name = NULL;
	assert_string_equal(wl_service_format(&v, 48 * H, buf, sizeof buf),
			    "new address of a known domain, seen 41 times since 2026-11-19 08:14");
	v.svc = WL_SVC_ASN;
	v.svc_asn = 8075;
	v.svc_name = "Microsoft Corporation";
	v.svc_count = 312;
	assert_string_equal(wl_service_format(&v, 48 * H, buf, sizeof buf),
			    "new address in AS8075 Microsoft Corporation, seen 312 times since 2026-11-19 08:14");
	v.svc = 9;
	assert_string_equal(wl_service_format(&v, 48 * H, buf, sizeof buf), "");
	/* The struct stays small: two sit in every flow. */
	assert_true(sizeof(struct wl_verdict_info) <= 72);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_edges_sent),
		cmocka_unit_test(test_window_edges_received),
		cmocka_unit_test(test_window_ipv6_and_other_window),
		cmocka_unit_test(test_extreme_times),
		cmocka_unit_test(test_learning),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_domain_patterns),
		cmocka_unit_test(test_local_scope),
		cmocka_unit_test(test_reason_format),
		cmocka_unit_test(test_persistence),
		cmocka_unit_test(test_prune_by_retention),
		cmocka_unit_test(test_eviction_cap),
		cmocka_unit_test(test_trust_forget),
		cmocka_unit_test(test_reload_keeps_old_list),
		cmocka_unit_test(test_feodo_csv),
		cmocka_unit_test(test_spamhaus_drop),
		cmocka_unit_test(test_firehol_level1_special_ranges),
		cmocka_unit_test(test_shipped_allow_file),
		cmocka_unit_test(test_public_nets),
		cmocka_unit_test(test_malformed_lists),
		cmocka_unit_test(test_special_ranges_match_addr_scope),
		cmocka_unit_test(test_v4_fast_path_matches_cidr_parse),
		cmocka_unit_test(test_ptable_vs_bruteforce),
		cmocka_unit_test(test_history_json_csv),
		cmocka_unit_test(test_reset_baseline),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_crash_safety),
		cmocka_unit_test(test_svc_domain_explains),
		cmocka_unit_test(test_svc_names_cached_and_reused_buffers),
		cmocka_unit_test(test_svc_psl_tenants_apart),
		cmocka_unit_test(test_svc_asn_needs_a_name),
		cmocka_unit_test(test_svc_window_edges),
		cmocka_unit_test(test_svc_per_direction),
		cmocka_unit_test(test_svc_rules_untouched),
		cmocka_unit_test(test_svc_persist_prune_migrate),
		cmocka_unit_test(test_svc_reset_and_forget),
		cmocka_unit_test(test_svc_cap),
		cmocka_unit_test(test_svc_hostile_names),
		cmocka_unit_test(test_svc_format),
		cmocka_unit_test(test_svc_format_matches_snprintf),
	};

	time_parse("2026-11-19T08:14:00Z", &T0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
