/* SPDX-License-Identifier: BSD-2-Clause */
/* history.c: the flow history store: ended flows and per-minute snapshots in SQLite (state_dir/history.db). */
#include "history.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "detect.h"
#include "engine.h"
#include "flow.h"
#include "flowjson.h"
#include "http.h"
#include "log.h"
#include "output.h"
#include "platform.h"
#include "setup.h"
#include "whitelist.h"

/*
 * DESIGN
 *
 * Two tables. `flows` holds each ended flow's final object (and, at the end
 * of a run, the flows still open), keyed by (run, id): ids restart with every
 * run. `snaps` holds, for every whole minute of packet time, one packed blob
 * of the flows held then: id, counters, times, state and levels, 64 bytes a
 * flow. The past list at T is the snapshot before T, each record dressed in
 * its flow's stored object (or the live flow's, while it is still held).
 *
 * The packet path only appends to memory: packet_minute packs the table into
 * a blob, flow_end copies the flow's JSON text. The housekeeping tick writes
 * both in one transaction. What waits is capped in memory
 * (HISTORY_PENDING_MAX); past it, snapshots and flows ended by a flood are
 * skipped and counted. Once a
 * minute, rows older than --retention (packet time) go, and while the file's
 * used pages exceed --history-mb the oldest tenth of rows goes; freed pages
 * return to the file system through incremental vacuum.
 */

#define HISTORY_FILE "history.db"
#define HISTORY_REC 64
#define HISTORY_PENDING_MAX (8u << 20)	/* queued flow objects and snapshots between two writes */
#define HISTORY_PRUNE_EVERY (60 * NG_USEC)

/* An ended flow waiting for the next write. */
struct pend_flow {
	uint64_t id;
	ng_time first, last;
	char *json;
};

/* A snapshot waiting for the next write. */
struct pend_snap {
	ng_time t;
	uint8_t *data;
	size_t len;
};

struct history {
	const struct output_env *env;
	sqlite3 *db;
	int64_t run;
	uint64_t cap_bytes;
	ng_time retention;
	struct pend_flow *pf;
	size_t npf, cappf;
	struct pend_snap *ps;
	size_t nps, capps, pending_bytes;
	ng_time newest;			/* newest packet time written */
	ng_time next_prune;		/* monotonic */
	uint64_t flows_written, flows_skipped, flows_unanswered, snapshots, snapshots_skipped, rows_pruned, write_errors;
	char path[4096];
};

/* Little-endian 64-bit store and load. */
static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Run SQL without results; -1 with the message in err. */
static int exec(struct history *h, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(h->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "history %s: %s", h->path, msg ? msg : sqlite3_errmsg(h->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Packing state of a snapshot: a growing blob. */
struct packer {
	uint8_t *p;
	size_t len, cap;
};

/* flow_table_foreach callback: one flow's record. */
static void pack_cb(void *arg, struct flow *f)
{
	struct packer *k = arg;
	uint8_t *r;

	if (k->len + HISTORY_REC > k->cap) {
		k->cap = k->cap ? k->cap * 2 : 64 * HISTORY_REC;
		k->p = xrealloc(k->p, k->cap);
	}
	r = k->p + k->len;
	memset(r, 0, HISTORY_REC);
	put64(r, f->id);
	put64(r + 8, f->packets[0]);
	put64(r + 16, f->packets[1]);
	put64(r + 24, f->bytes[0]);
	put64(r + 32, f->bytes[1]);
	put64(r + 40, (uint64_t)f->first_seen);
	put64(r + 48, (uint64_t)flow_last_seen(f));
	r[56] = f->state;
	r[57] = f->end_reason;
	r[58] = flow_verdict(f, 0)->verdict;
	r[59] = flow_verdict(f, 1)->verdict;
	r[60] = (uint8_t)engine_flow_verdict(f);
	r[61] = f->attention;
	k->len += HISTORY_REC;
}

/* The engine's packet clock reached a whole minute: pack the flows held now. */
static void history_minute(void *arg, ng_time t)
{
	struct history *h = arg;
	struct packer k = {0};

	if (h->pending_bytes >= HISTORY_PENDING_MAX) {
		h->snapshots_skipped++;
		return;
	}
	flow_table_foreach(engine_flows(h->env->engine), pack_cb, &k);
	if (h->nps == h->capps) {
		h->capps = h->capps ? h->capps * 2 : 16;
		h->ps = xrealloc(h->ps, h->capps * sizeof *h->ps);
	}
	h->ps[h->nps++] = (struct pend_snap){t, k.p, k.len};
	h->pending_bytes += k.len;
}

static int history_write(struct history *h);

/*
 * Queue a flow's final object. While the queue is full (a flood ends flows
 * faster than the tick writes them), a flow that ended on the packet path is
 * skipped and counted; at the end of a run (not on the packet path) the
 * queue is written first, so every open flow is kept.
 */
static void history_keep(struct history *h, struct flow *f, bool at_end)
{
	struct strbuf sb = {0};

	if (h->pending_bytes >= HISTORY_PENDING_MAX) {
		if (!at_end) {
			h->flows_skipped++;
			return;
		}
		(void)history_write(h);	/* a failure keeps the queue; it is tried again at the close */
	}
	flowjson_append(f, h->env->cfg->window, &sb);
	sb.p = xrealloc(sb.p, sb.len + 1);	/* queued for a while: no slack */
	if (h->npf == h->cappf) {
		h->cappf = h->cappf ? h->cappf * 2 : 256;
		h->pf = xrealloc(h->pf, h->cappf * sizeof *h->pf);
	}
	h->pf[h->npf++] = (struct pend_flow){f->id, f->first_seen, flow_last_seen(f), sb.p};
	h->pending_bytes += sb.len;
}

/*
 * An ended flow (and, below, one still open at the end of a run). Inbound
 * attempts this host never answered (a scan of it, a spoofed flood: millions
 * of one-packet flows) are counted by /api/stats' "unanswered" and kept out
 * of the history, so a flood neither fills the disk nor costs the loop a
 * write per attempt.
 */
static void history_flow_end(void *arg, struct flow *f)
{
	struct history *h = arg;

	if (detect_unanswered(f)) {
		h->flows_unanswered++;
		return;
	}
	history_keep(h, f, false);
}

static void history_flow_at_end(void *st, struct flow *f)
{
	struct history *h = st;

	if (detect_unanswered(f)) {
		h->flows_unanswered++;
		return;
	}
	history_keep(h, f, true);
}

/* Write what is pending in one transaction; 0, or -1 (kept for the next try). */
static int history_write(struct history *h)
{
	sqlite3_stmt *fl = NULL, *sn = NULL;
	char err[512];
	int rc = -1;

	if (h->npf == 0 && h->nps == 0)
		return 0;
	if (exec(h, "BEGIN IMMEDIATE", err, sizeof err) != 0)
		goto out;
	if (sqlite3_prepare_v2(h->db, "INSERT OR REPLACE INTO flows(run, id, first, last, json) VALUES(?,?,?,?,?)", -1,
			       &fl, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h->db, "INSERT OR REPLACE INTO snaps(run, t, n, data) VALUES(?,?,?,?)", -1, &sn,
			       NULL) != SQLITE_OK)
		goto rollback;
	for (size_t i = 0; i < h->npf; i++) {
		struct pend_flow *p = &h->pf[i];

		sqlite3_bind_int64(fl, 1, h->run);
		sqlite3_bind_int64(fl, 2, (sqlite3_int64)p->id);
		sqlite3_bind_int64(fl, 3, p->first);
		sqlite3_bind_int64(fl, 4, p->last);
		sqlite3_bind_text(fl, 5, p->json, -1, SQLITE_STATIC);
		if (sqlite3_step(fl) != SQLITE_DONE)
			goto rollback;
		sqlite3_reset(fl);
		h->newest = NG_MAX(h->newest, p->last);
	}
	for (size_t i = 0; i < h->nps; i++) {
		struct pend_snap *p = &h->ps[i];

		sqlite3_bind_int64(sn, 1, h->run);
		sqlite3_bind_int64(sn, 2, p->t);
		sqlite3_bind_int64(sn, 3, (sqlite3_int64)(p->len / HISTORY_REC));
		sqlite3_bind_blob(sn, 4, p->data ? (const void *)p->data : "", (int)p->len, SQLITE_STATIC);
		if (sqlite3_step(sn) != SQLITE_DONE)
			goto rollback;
		sqlite3_reset(sn);
		h->newest = NG_MAX(h->newest, p->t);
	}
	if (exec(h, "COMMIT", err, sizeof err) != 0)
		goto rollback;
	h->flows_written += h->npf;
	h->snapshots += h->nps;
	for (size_t i = 0; i < h->npf; i++)
		free(h->pf[i].json);
	for (size_t i = 0; i < h->nps; i++)
		free(h->ps[i].data);
	h->npf = h->nps = 0;
	h->pending_bytes = 0;
	rc = 0;
	goto out;
rollback:
	if (h->write_errors++ == 0)
		log_warnx("history: cannot write %s: %s (check the state directory's free space)", h->path,
			  sqlite3_errmsg(h->db));
	sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_finalize(fl);
	sqlite3_finalize(sn);
	return rc;
}

/* One integer from a query; def when none. */
static int64_t query_int(struct history *h, const char *sql, int64_t def)
{
	sqlite3_stmt *st;
	int64_t v = def;

	if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK)
		return def;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Bytes the file's used pages take. */
static uint64_t used_bytes(struct history *h)
{
	int64_t pages = query_int(h, "PRAGMA page_count", 0), free_ = query_int(h, "PRAGMA freelist_count", 0);
	int64_t size = query_int(h, "PRAGMA page_size", 4096);

	return (uint64_t)NG_MAX(pages - free_, 0) * (uint64_t)size;
}

/* Drop rows past the retention, then the oldest while over the disk cap. */
static void history_prune(struct history *h)
{
	char sql[256], err[512];
	int rounds = 0;

	if (h->newest != NG_TIME_NONE && h->newest > INT64_MIN + h->retention) {
		snprintf(sql, sizeof sql, "DELETE FROM flows WHERE last < %lld; DELETE FROM snaps WHERE t < %lld;",
			 (long long)(h->newest - h->retention), (long long)(h->newest - h->retention));
		if (exec(h, sql, err, sizeof err) == 0)
			h->rows_pruned += (uint64_t)sqlite3_changes(h->db);
	}
	while (used_bytes(h) > h->cap_bytes && rounds++ < 20) {
		snprintf(sql, sizeof sql,
			 "DELETE FROM snaps WHERE rowid IN (SELECT rowid FROM snaps ORDER BY t LIMIT "
			 "(SELECT COUNT(*) / 10 + 1 FROM snaps)); "
			 "DELETE FROM flows WHERE rowid IN (SELECT rowid FROM flows ORDER BY last LIMIT "
			 "(SELECT COUNT(*) / 10 + 1 FROM flows));");
		if (exec(h, sql, err, sizeof err) != 0)
			break;
		h->rows_pruned += (uint64_t)sqlite3_changes(h->db);
	}
	exec(h, "PRAGMA incremental_vacuum", err, sizeof err);
}

static void history_tick(void *st, ng_time wall, ng_time mono)
{
	struct history *h = st;

	(void)wall;
	history_write(h);
	if (mono >= h->next_prune) {
		history_prune(h);
		h->next_prune = mono + HISTORY_PRUNE_EVERY;
	}
}

/* "history" of /api/stats. */
static void history_stats(void *st, cJSON *doc)
{
	struct history *h = st;
	cJSON *o = cJSON_AddObjectToObject(doc, "history");

	cJSON_AddBoolToObject(o, "enabled", h != NULL);
	cJSON_AddNumberToObject(o, "run", h ? (double)h->run : 0);
	cJSON_AddNumberToObject(o, "flows_written", h ? (double)h->flows_written : 0);
	cJSON_AddNumberToObject(o, "flows_skipped", h ? (double)h->flows_skipped : 0);
	cJSON_AddNumberToObject(o, "flows_unanswered", h ? (double)h->flows_unanswered : 0);
	cJSON_AddNumberToObject(o, "snapshots", h ? (double)h->snapshots : 0);
	cJSON_AddNumberToObject(o, "snapshots_skipped", h ? (double)h->snapshots_skipped : 0);
	cJSON_AddNumberToObject(o, "rows_pruned", h ? (double)h->rows_pruned : 0);
	cJSON_AddNumberToObject(o, "write_errors", h ? (double)h->write_errors : 0);
	cJSON_AddNumberToObject(o, "disk_bytes", h ? (double)used_bytes(h) : 0);
	cJSON_AddNumberToObject(o, "cap_bytes", h ? (double)h->cap_bytes : 0);
}

static int history_close(void *st)
{
	struct history *h = st;
	int rc;

	rc = history_write(h);
	if (h->env->hctx && h->env->hctx->history == h)
		h->env->hctx->history = NULL;
	sqlite3_close(h->db);
	for (size_t i = 0; i < h->npf; i++)
		free(h->pf[i].json);
	for (size_t i = 0; i < h->nps; i++)
		free(h->ps[i].data);
	free(h->pf);
	free(h->ps);
	free(h);
	return rc;
}

/* The daemon only (not --dump), with --history-mb above 0. */
static void *history_open(const struct output_env *env, char *err, size_t errlen)
{
	const struct config *cfg = env->cfg;
	struct history *h;
	char statebuf[4096];
	const char *dir;

	if (env->dump || cfg->history_mb == 0)
		return NULL;
	dir = setup_state_dir(cfg, statebuf, sizeof statebuf);
	if (!dir)
		return NULL;
	h = xcalloc(1, sizeof *h);
	h->env = env;
	h->cap_bytes = cfg->history_mb << 20;
	h->retention = cfg->retention > 0 ? cfg->retention : 7LL * 86400 * NG_USEC;
	h->newest = NG_TIME_NONE;
	snprintf(h->path, sizeof h->path, "%s/%s", dir, HISTORY_FILE);
	if (sqlite3_open_v2(h->path, &h->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open the flow history %s: %s (check --state-dir, or --history-mb 0)",
			 h->path, h->db ? sqlite3_errmsg(h->db) : "out of memory");
		sqlite3_close(h->db);
		free(h);
		return NULL;
	}
	chmod(h->path, 0600);
	sqlite3_busy_timeout(h->db, 2000);
	if (exec(h, "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		 "CREATE TABLE IF NOT EXISTS runs(run INTEGER PRIMARY KEY, started INTEGER NOT NULL);"
		 "CREATE TABLE IF NOT EXISTS flows(run INTEGER NOT NULL, id INTEGER NOT NULL, first INTEGER NOT NULL,"
		 " last INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY(run, id));"
		 "CREATE INDEX IF NOT EXISTS flows_first ON flows(first, run, id);"
		 "CREATE INDEX IF NOT EXISTS flows_last ON flows(last);"
		 "CREATE TABLE IF NOT EXISTS snaps(run INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL,"
		 " data BLOB NOT NULL, PRIMARY KEY(run, t));"
		 "CREATE INDEX IF NOT EXISTS snaps_t ON snaps(t);", err, errlen) != 0) {
		sqlite3_close(h->db);
		free(h);
		return NULL;
	}
	{
		char sql[128];

		snprintf(sql, sizeof sql, "INSERT INTO runs(started) VALUES(%lld)", (long long)time_now());
		if (exec(h, sql, err, errlen) != 0) {
			sqlite3_close(h->db);
			free(h);
			return NULL;
		}
		h->run = sqlite3_last_insert_rowid(h->db);
	}
	h->newest = query_int(h, "SELECT MAX(last) FROM flows", NG_TIME_NONE);
	if (env->hctx)
		env->hctx->history = h;
	log_debug("history: run %lld into %s (%llu MiB at most)", (long long)h->run, h->path,
		  (unsigned long long)cfg->history_mb);
	return h;
}

const struct output_type history_output = {
	.name = "history",
	.open = history_open,
	.sink = {.flow_end = history_flow_end, .packet_minute = history_minute},
	.flow_at_end = history_flow_at_end,
	.tick = history_tick,
	.stats = history_stats,
	.close = history_close,
};

/* Replace (or add) a member of a flow object. */
static void set_item(cJSON *o, const char *k, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(o, k))
		cJSON_ReplaceItemInObjectCaseSensitive(o, k, v);
	else
		cJSON_AddItemToObject(o, k, v);
}

/* A name, or JSON null for NULL. */
static cJSON *str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* The stored object of flow (run, id): the live flow's while this run still holds it; NULL when neither. */
static cJSON *flow_object(struct history *h, sqlite3_stmt *get, int64_t run, uint64_t id)
{
	cJSON *o = NULL;

	if (run == h->run && h->env->engine) {
		struct flow *f = flow_table_by_id(engine_flows(h->env->engine), id);

		if (f)
			return flowjson_object(f, h->env->cfg->window);
	}
	sqlite3_bind_int64(get, 1, run);
	sqlite3_bind_int64(get, 2, (sqlite3_int64)id);
	if (sqlite3_step(get) == SQLITE_ROW)
		o = cJSON_Parse((const char *)sqlite3_column_text(get, 0));
	sqlite3_reset(get);
	return o;	/* NULL: an unanswered attempt (never stored) that is no longer held */
}

/* qsort comparator: snapshot records by flow id. */
static int rec_cmp(const void *a, const void *b)
{
	uint64_t x = get64(a), y = get64(b);

	return x < y ? -1 : x > y;
}

cJSON *history_at(struct history *h, ng_time t, ng_time *snap, int64_t *run, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL, *get = NULL;
	cJSON *arr = NULL;
	char tb[NG_TIMESTRLEN];

	history_write(h);
	if (sqlite3_prepare_v2(h->db, "SELECT run, t, data FROM snaps WHERE t <= ? ORDER BY t DESC, run DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(h->db, "SELECT json FROM flows WHERE run = ? AND id = ?", -1, &get, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot read the flow history: %s", sqlite3_errmsg(h->db));
		goto out;
	}
	sqlite3_bind_int64(st, 1, t);
	if (sqlite3_step(st) != SQLITE_ROW) {
		int64_t first = query_int(h, "SELECT MIN(t) FROM snaps", NG_TIME_NONE);

		if (first == NG_TIME_NONE)
			snprintf(err, errlen, "no snapshot at or before %s (the history has none yet: one is taken every "
				 "minute of packet time)", time_format(t, tb, sizeof tb));
		else
			snprintf(err, errlen, "no snapshot at or before %s (the history starts at %s)",
				 time_format(t, tb, sizeof tb), time_format(first, tb, sizeof tb));
		goto out;
	}
	*run = sqlite3_column_int64(st, 0);
	*snap = sqlite3_column_int64(st, 1);
	{
		size_t n = (size_t)sqlite3_column_bytes(st, 2) / HISTORY_REC;
		uint8_t *d = xmalloc(n * HISTORY_REC + 1);

		memcpy(d, sqlite3_column_blob(st, 2), n * HISTORY_REC);
		qsort(d, n, HISTORY_REC, rec_cmp);	/* id order, as /flows lists them */
		arr = cJSON_CreateArray();
		for (size_t i = 0; i < n; i++) {
			const uint8_t *r = d + i * HISTORY_REC;
			cJSON *o = flow_object(h, get, *run, get64(r));

			if (!o)
				continue;
			set_item(o, "run", cJSON_CreateNumber((double)*run));
			set_item(o, "packets_sent", cJSON_CreateNumber((double)get64(r + 8)));
			set_item(o, "packets_received", cJSON_CreateNumber((double)get64(r + 16)));
			set_item(o, "bytes_sent", cJSON_CreateNumber((double)get64(r + 24)));
			set_item(o, "bytes_received", cJSON_CreateNumber((double)get64(r + 32)));
			set_item(o, "first_seen", cJSON_CreateString(time_format((ng_time)get64(r + 40), tb, sizeof tb)));
			set_item(o, "last_seen", cJSON_CreateString(time_format((ng_time)get64(r + 48), tb, sizeof tb)));
			set_item(o, "state", cJSON_CreateString(flowjson_state_name(r[56])));
			set_item(o, "active", cJSON_CreateBool(r[57] == FLOW_END_NONE));
			set_item(o, "end_reason", str_or_null(flowjson_end_name(r[57])));
			set_item(o, "verdict_sent", str_or_null(wl_verdict_name((enum wl_verdict)r[58])));
			set_item(o, "verdict_received", str_or_null(wl_verdict_name((enum wl_verdict)r[59])));
			set_item(o, "verdict", str_or_null(wl_verdict_name((enum wl_verdict)r[60])));
			set_item(o, "attention", cJSON_CreateString(attention_name((enum ng_attention)r[61])));
			cJSON_AddItemToArray(arr, o);
		}
		free(d);
	}
out:
	sqlite3_finalize(st);
	sqlite3_finalize(get);
	return arr;
}

int history_flows(struct history *h, ng_time from, ng_time to, int64_t crun, uint64_t cid, ng_time cfirst,
		  history_cb cb, void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	history_write(h);
	if (sqlite3_prepare_v2(h->db,
			       "SELECT run, id, first, json FROM flows WHERE last >= ? AND first <= ? AND "
			       "(first, run, id) > (?, ?, ?) ORDER BY first, run, id", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot read the flow history: %s", sqlite3_errmsg(h->db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, from == NG_TIME_NONE ? INT64_MIN : from);
	sqlite3_bind_int64(st, 2, to == NG_TIME_NONE ? INT64_MAX : to);
	sqlite3_bind_int64(st, 3, cfirst);
	sqlite3_bind_int64(st, 4, crun);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)cid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *o = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
		bool keep = false, more;
		int64_t run = sqlite3_column_int64(st, 0);

		if (!o)
			continue;
		set_item(o, "run", cJSON_CreateNumber((double)run));
		more = cb(arg, o, run, (uint64_t)sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2), &keep);
		if (!keep)
			cJSON_Delete(o);
		if (!more)
			break;
	}
	sqlite3_finalize(st);
	return 0;
}
