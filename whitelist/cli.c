/* SPDX-License-Identifier: BSD-2-Clause */
/* cli.c: `netglobe history` and `netglobe reset-baseline`, reading and editing netglobe.db directly. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "platform.h"

#include "util.h"
#include "whitelist.h"
#include "wl_int.h"

/*
 * DESIGN
 *
 * Both commands open the database themselves rather than through
 * whitelist_open: history must never write (it opens with
 * SQLITE_OPEN_READONLY, and WAL lets it read a consistent snapshot while the
 * daemon writes), and reset-baseline must not load a million rows only to
 * delete them. Reset deletes the address rows and the known services, and
 * bumps meta.baseline_epoch so a running daemon, which checks it on every
 * flush, drops its in-memory rows instead of writing them back.
 */

#define CLI_BUSY_MS 5000

/* Open state_dir/netglobe.db (read-only or read-write, never creating it); NULL with err. */
static sqlite3 *cli_open(const char *state_dir, bool rw, bool *missing, char *err, size_t errlen)
{
	size_t n = strlen(state_dir) + 16;
	char *path = xmalloc(n);
	sqlite3 *db = NULL;
	struct stat st;
	sqlite3_stmt *st_v;
	int ver = -1;

	*missing = false;
	/* The checks the daemon makes: a directory others could write to may hold a planted database. */
	if (state_dir_trust(state_dir, err, errlen) != 0 && errno != ENOENT)
		goto fail;
	snprintf(path, n, "%s/netglobe.db", state_dir);
	if (stat(path, &st) != 0) {
		*missing = errno == ENOENT;
		snprintf(err, errlen, "no netglobe database at %s: %s (has netglobe run with --state-dir %s?)", path,
			 strerror(errno), state_dir);
		goto fail;
	}
	if (sqlite3_open_v2(path, &db, (rw ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		goto fail_db;
	sqlite3_busy_timeout(db, CLI_BUSY_MS);
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st_v, NULL) != SQLITE_OK)
		goto fail_db;
	if (sqlite3_step(st_v) == SQLITE_ROW)
		ver = sqlite3_column_int(st_v, 0);
	sqlite3_finalize(st_v);
	/* The same words as the daemon's store (store.c) for the same file. */
	if (ver < 0) {
		snprintf(err, errlen, "%s is not an SQLite database (%s); move it away or use another --state-dir", path,
			 sqlite3_errmsg(db));
		goto fail;
	}
	if (ver > WL_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s has schema version %d, newer than this netglobe understands (%d); "
			 "use a newer netglobe or another --state-dir", path, ver, WL_SCHEMA_VERSION);
		goto fail;
	}
	if (ver == 0) {
		snprintf(err, errlen, "%s is an SQLite database but not netglobe's (no schema version); "
			 "use another --state-dir", path);
		goto fail;
	}
	free(path);
	return db;
fail_db:
	snprintf(err, errlen, "cannot open %s%s: %s (check permissions: run as the daemon's user or root)", path,
		 rw ? "" : " read-only", db ? sqlite3_errmsg(db) : "out of memory");
fail:
	sqlite3_close(db);
	free(path);
	return NULL;
}

int whitelist_history_cli(const char *state_dir, ng_time since, int verdict_filter, const char *format, FILE *out,
			  char *err, size_t errlen)
{
	bool json, missing;
	struct strbuf line = {0};
	sqlite3 *db;
	sqlite3_stmt *st;
	int rc;

	if (format == NULL || strcmp(format, "json") == 0) {
		json = true;
	} else if (strcmp(format, "csv") == 0) {
		json = false;
	} else {
		snprintf(err, errlen, "unknown history format '%.40s' (use --format json or --format csv)", format);
		return -1;
	}
	db = cli_open(state_dir, false, &missing, err, errlen);
	if (db == NULL)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT addr, dir, flows, packets, bytes, first_seen, last_seen, domain, country, "
			       "verdict FROM seen WHERE last_seen >= ?1 AND (?2 <= 0 OR verdict = ?2) "
			       "ORDER BY last_seen DESC, addr, dir", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot query the history in %s: %s", state_dir, sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_bind_int64(st, 1, since == NG_TIME_NONE ? INT64_MIN : since);
	sqlite3_bind_int(st, 2, verdict_filter);
	if (!json)
		fputs("address,direction,flows,packets,bytes,first_seen,last_seen,domain,country,verdict\r\n", out);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *addr = (const char *)sqlite3_column_text(st, 0);
		const char *dirn = sqlite3_column_int(st, 1) ? "received" : "sent";
		const char *dom = (const char *)sqlite3_column_text(st, 7);
		const char *cc = (const char *)sqlite3_column_text(st, 8);
		const char *vn = wl_verdict_name((enum wl_verdict)sqlite3_column_int(st, 9));
		char first[NG_TIMESTRLEN], last[NG_TIMESTRLEN], num[3][24];

		time_format(sqlite3_column_int64(st, 5), first, sizeof first);
		time_format(sqlite3_column_int64(st, 6), last, sizeof last);
		for (int i = 0; i < 3; i++)
			snprintf(num[i], sizeof num[i], "%lld", (long long)sqlite3_column_int64(st, 2 + i));
		if (json) {
			cJSON *o = cJSON_CreateObject();
			char *text;

			cJSON_AddStringToObject(o, "address", addr ? addr : "");
			cJSON_AddStringToObject(o, "direction", dirn);
			cJSON_AddNumberToObject(o, "flows", (double)sqlite3_column_int64(st, 2));
			cJSON_AddNumberToObject(o, "packets", (double)sqlite3_column_int64(st, 3));
			cJSON_AddNumberToObject(o, "bytes", (double)sqlite3_column_int64(st, 4));
			cJSON_AddStringToObject(o, "first_seen", first);
			cJSON_AddStringToObject(o, "last_seen", last);
			if (dom)
				cJSON_AddStringToObject(o, "domain", dom);
			else
				cJSON_AddNullToObject(o, "domain");
			if (cc)
				cJSON_AddStringToObject(o, "country", cc);
			else
				cJSON_AddNullToObject(o, "country");
			if (vn)
				cJSON_AddStringToObject(o, "verdict", vn);
			else
				cJSON_AddNullToObject(o, "verdict");
			text = cJSON_PrintUnformatted(o);
			if (text == NULL) {
				fprintf(stderr, "netglobe: out of memory printing the history\n");
				abort();
			}
			fputs(text, out);
			fputc('\n', out);
			cJSON_free(text);
			cJSON_Delete(o);
		} else {
			const char *fields[] = {addr, dirn, num[0], num[1], num[2], first, last, dom, cc, vn};

			line.len = 0;
			for (size_t i = 0; i < NG_ARRAY_LEN(fields); i++)
				sb_csv_field(&line, fields[i], i + 1 == NG_ARRAY_LEN(fields));
			fwrite(line.p, 1, line.len, out);
		}
	}
	sqlite3_finalize(st);
	free(line.p);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot read the history in %s: %s", state_dir, sqlite3_errmsg(db));
		sqlite3_close(db);
		return -1;
	}
	sqlite3_close(db);
	if (fflush(out) != 0 || ferror(out)) {
		snprintf(err, errlen, "cannot write the history: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int whitelist_reset_cli(const char *state_dir, FILE *out, char *err, size_t errlen)
{
	sqlite3_int64 addrs = 0, rows = 0, since = NG_TIME_NONE, epoch = 0;
	char ts[NG_TIMESTRLEN];
	sqlite3_stmt *st;
	bool missing;
	int rc;
	sqlite3 *db = cli_open(state_dir, true, &missing, err, errlen);

	if (db == NULL) {
		if (!missing)
			return -1;
		fprintf(out, "removed 0 addresses (0 rows): no baseline has been learnt in %s yet\n", state_dir);
		return 0;
	}
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(db, "SELECT COUNT(DISTINCT addr), COUNT(*), MIN(first_seen), "
			       "(SELECT value FROM meta WHERE key = 'first_packet'), "
			       "(SELECT value FROM meta WHERE key = 'baseline_epoch') FROM seen", -1, &st,
			       NULL) != SQLITE_OK)
		goto fail_tx;
	if (sqlite3_step(st) == SQLITE_ROW) {
		addrs = sqlite3_column_int64(st, 0);
		rows = sqlite3_column_int64(st, 1);
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			since = sqlite3_column_int64(st, 3);
		else if (sqlite3_column_type(st, 2) != SQLITE_NULL)
			since = sqlite3_column_int64(st, 2);
		epoch = sqlite3_column_int64(st, 4);
	}
	sqlite3_finalize(st);
	if (sqlite3_exec(db, "DELETE FROM seen; DELETE FROM meta WHERE key = 'first_packet'", NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto fail_tx;
	/* The known services go with the rows (a database from before them has no such table). */
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'services'", -1, &st,
			       NULL) != SQLITE_OK)
		goto fail_tx;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW && sqlite3_exec(db, "DELETE FROM services", NULL, NULL, NULL) != SQLITE_OK)
		goto fail_tx;
	if (sqlite3_prepare_v2(db, "INSERT INTO meta (key, value) VALUES ('baseline_epoch', ?1) ON CONFLICT (key) "
			       "DO UPDATE SET value = excluded.value", -1, &st, NULL) != SQLITE_OK)
		goto fail_tx;
	sqlite3_bind_int64(st, 1, epoch + 1);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		goto fail_tx;
	}
	sqlite3_finalize(st);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail_tx;
	sqlite3_close(db);
	if (rows == 0)
		fprintf(out, "removed 0 addresses (0 rows): the baseline was already empty; trusted rules kept\n");
	else
		fprintf(out, "removed %lld address%s (%lld row%s) learnt since %s; trusted rules in %s/trusted.txt "
			"kept\n", (long long)addrs, addrs == 1 ? "" : "es", (long long)rows, rows == 1 ? "" : "s",
			since == NG_TIME_NONE ? "the start" : time_format_short(since, ts, sizeof ts), state_dir);
	return 0;
fail_tx:
	snprintf(err, errlen, "cannot reset the baseline in %s: %s", state_dir, sqlite3_errmsg(db));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	return -1;
fail:
	snprintf(err, errlen, "cannot reset the baseline in %s: %s (is another netglobe command holding it?)",
		 state_dir, sqlite3_errmsg(db));
	sqlite3_close(db);
	return -1;
}
