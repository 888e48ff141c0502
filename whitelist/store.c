/* SPDX-License-Identifier: BSD-2-Clause */
/* store.c: the learnt (address, direction) rows: an in-memory hash table mirrored to SQLite in batches. */
#include <errno.h>
#include "platform.h"
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "strpool.h"
#include "util.h"
#include "wl_int.h"

/*
 * DESIGN
 *
 * Memory is authoritative. Rows live in one dense array; an open-addressing
 * table of 64-bit slots (32-bit hash tag, 32-bit row index + 1) finds them
 * with linear probing, and deletion shifts followers back instead of leaving
 * tombstones. Removing a row moves the last row into its place, so the array
 * stays dense and a scan (prune, eviction) is a plain loop.
 *
 * whitelist_record only changes memory and appends the row to a dirty list
 * (each row knows its position in it, so removal is O(1)); deletions waiting
 * for disk go to a second list. wl_store_flush writes both and the meta
 * values in ONE transaction with prepared statements: absolute values, so an
 * UPSERT is idempotent. WAL mode with synchronous=NORMAL means a commit is in
 * the WAL before it returns, so a kill -9 loses at most the rows recorded
 * since the last flush, and never corrupts the file (power loss may also
 * drop the last commits, but still never corrupts).
 *
 * Bounded memory: at max_entries rows, inserting a new one first evicts about
 * 1/16 of the table, the rows least recently seen (the cut-off is the 1/16
 * quantile of a sample of 1024 rows, Redis-style), from memory and disk.
 * Amortised that is O(1) per insertion and stops a flood of spoofed sources
 * from exhausting memory.
 *
 * The known services (services.c) live in the same database and are written
 * by the same flush, in the same transaction, after the address rows; a
 * reset-baseline clears them with the rows.
 *
 * Disk layout for speed: the table is keyed (addr, dir) WITHOUT ROWID and
 * has no other index, so an UPSERT touches one B-tree. Each flush sorts its
 * rows into key order first, so the B-tree is walked once from left to right
 * and neighbouring rows share pages (far fewer pages enter the WAL than with
 * random order). Pruning needs no last_seen index: memory mirrors the table,
 * so the rows to prune are known and deleted by key in the next flush.
 * Loading at open is one sequential scan.
 *
 * `netglobe reset-baseline` may run while the daemon runs: it deletes the
 * rows and bumps meta.baseline_epoch. Each flush reads the epoch inside its
 * write transaction; when it moved, the daemon drops its learnt rows instead
 * of writing them back.
 */

#define WL_BUSY_MS 1000
#define WL_EVICT_SAMPLES 1024
/* SQLite page cache (KiB): a flush of a busy second touches many leaf pages. */
#define WL_CACHE_KIB 32768
#define NG_XSTR(x) #x
#define NG_STR(x) NG_XSTR(x)

/* A deletion waiting for the next flush. */
struct wl_delkey {
	ng_addr addr;
	uint8_t dir;
};

struct wl_store {
	struct wl_row *rows;
	size_t nrows, rowcap, max_entries;
	uint64_t *slots;		/* 0 = empty, else tag << 32 | (row index + 1) */
	size_t slotcap;
	uint32_t *dirty;
	size_t ndirty, dirtycap;
	struct wl_delkey *dels;
	size_t ndels, delcap;
	ng_time now, first_packet;
	bool meta_dirty;
	int64_t epoch;
	uint64_t flushes, flush_errors, evicted, rng;
	ng_time last_err_log;
	struct wl_svcs *svcs;		/* the known services, flushed with the rows */
	sqlite3 *db;
	bool read_only;
	sqlite3_stmt *st_begin, *st_commit, *st_rollback, *st_upsert, *st_delete, *st_meta_set, *st_meta_del,
	    *st_meta_get;
	char *path;
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS seen ("
	" addr TEXT NOT NULL,"			/* canonical text, "192.0.2.1" or "2001:db8::1" */
	" dir INTEGER NOT NULL,"		/* 0 sent, 1 received */
	" first_seen INTEGER NOT NULL,"		/* microseconds since the epoch, packet clock */
	" last_seen INTEGER NOT NULL,"
	" flows INTEGER NOT NULL DEFAULT 0,"
	" packets INTEGER NOT NULL DEFAULT 0,"
	" bytes INTEGER NOT NULL DEFAULT 0,"
	" domain TEXT,"
	" country TEXT,"
	" verdict INTEGER NOT NULL DEFAULT 0,"	/* worst recorded: 1 local .. 4 blocklisted */
	" PRIMARY KEY (addr, dir)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;";

/* Hash of an (address, direction) key. */
static uint64_t row_hash(const ng_addr *addr, uint8_t dir)
{
	return addr_hash(addr) ^ (dir ? 0x9e3779b97f4a7c15ULL : 0);
}

/* Slot index holding the key, or the empty slot where it would go (*found says which). */
static size_t slot_find(const struct wl_store *s, const ng_addr *addr, uint8_t dir, uint64_t h, bool *found)
{
	size_t mask = s->slotcap - 1, i = h & mask;
	uint32_t tag = (uint32_t)(h >> 32);

	for (;; i = (i + 1) & mask) {
		uint64_t v = s->slots[i];
		const struct wl_row *r;

		if (v == 0) {
			*found = false;
			return i;
		}
		if ((uint32_t)(v >> 32) != tag)
			continue;
		r = &s->rows[(uint32_t)v - 1];
		if (r->dir == dir && addr_equal(&r->addr, addr)) {
			*found = true;
			return i;
		}
	}
}

/* Double the slot table and rehash every row. */
static void slots_grow(struct wl_store *s)
{
	size_t ncap = s->slotcap ? s->slotcap * 2 : 1024;
	bool found;

	free(s->slots);
	s->slots = xcalloc(ncap, sizeof *s->slots);
	s->slotcap = ncap;
	wl_hugepage_hint(s->slots, ncap * sizeof *s->slots);
	for (size_t i = 0; i < s->nrows; i++) {
		uint64_t h = row_hash(&s->rows[i].addr, s->rows[i].dir);
		size_t j = slot_find(s, &s->rows[i].addr, s->rows[i].dir, h, &found);

		s->slots[j] = (h >> 32) << 32 | (uint64_t)(i + 1);
	}
}

/* Empty slot i, shifting later members of its probe run back (no tombstones). */
static void slot_delete(struct wl_store *s, size_t i)
{
	size_t mask = s->slotcap - 1, j = i;

	for (;;) {
		const struct wl_row *r;
		size_t home;

		j = (j + 1) & mask;
		if (s->slots[j] == 0)
			break;
		r = &s->rows[(uint32_t)s->slots[j] - 1];
		home = row_hash(&r->addr, r->dir) & mask;
		/* Move j into the hole unless its home lies cyclically in (i, j]. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			s->slots[i] = s->slots[j];
			i = j;
		}
	}
	s->slots[i] = 0;
}

/* Take a row off the dirty list. */
static void dirty_remove(struct wl_store *s, struct wl_row *row)
{
	uint32_t pos = row->dirty_pos, last;

	if (pos == UINT32_MAX)
		return;
	last = s->dirty[--s->ndirty];
	if (pos < s->ndirty) {
		s->dirty[pos] = last;
		s->rows[last].dirty_pos = pos;
	}
	row->dirty_pos = UINT32_MAX;
}

void wl_store_mark(struct wl_store *s, struct wl_row *row)
{
	if (row->dirty_pos != UINT32_MAX)
		return;
	if (s->ndirty == s->dirtycap) {
		s->dirtycap = s->dirtycap ? s->dirtycap * 2 : 1024;
		s->dirty = xrealloc(s->dirty, s->dirtycap * sizeof *s->dirty);
	}
	row->dirty_pos = (uint32_t)s->ndirty;
	s->dirty[s->ndirty++] = (uint32_t)(row - s->rows);
}

/* Queue a deletion for the next flush. */
static void del_push(struct wl_store *s, const ng_addr *addr, uint8_t dir)
{
	if (s->db == NULL || s->read_only)
		return;
	if (s->ndels == s->delcap) {
		s->delcap = s->delcap ? s->delcap * 2 : 256;
		s->dels = xrealloc(s->dels, s->delcap * sizeof *s->dels);
	}
	s->dels[s->ndels].addr = *addr;
	s->dels[s->ndels].dir = dir;
	s->ndels++;
}

/* Remove row idx from memory (queueing its deletion on disk when asked); the last row takes its place. */
static void row_remove(struct wl_store *s, size_t idx, bool queue_delete)
{
	struct wl_row *row = &s->rows[idx];
	size_t last = s->nrows - 1;
	bool found;
	size_t slot = slot_find(s, &row->addr, row->dir, row_hash(&row->addr, row->dir), &found);

	slot_delete(s, slot);
	dirty_remove(s, row);
	if (queue_delete)
		del_push(s, &row->addr, row->dir);
	strpool_put(row->domain);
	if (idx != last) {
		struct wl_row *mv = &s->rows[last];
		uint64_t h = row_hash(&mv->addr, mv->dir);

		slot = slot_find(s, &mv->addr, mv->dir, h, &found);
		s->slots[slot] = (h >> 32) << 32 | (uint64_t)(idx + 1);
		if (mv->dirty_pos != UINT32_MAX)
			s->dirty[mv->dirty_pos] = (uint32_t)idx;
		*row = *mv;
	}
	s->nrows--;
}

/* xorshift64: a small deterministic generator for eviction samples. */
static uint64_t xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

/* Order ng_time values. */
static int time_cmp(const void *a, const void *b)
{
	ng_time x = *(const ng_time *)a, y = *(const ng_time *)b;

	return x < y ? -1 : x > y;
}

ng_time wl_evict_cut(const void *rows, size_t n, ng_time (*last_of)(const void *rows, size_t i), size_t fraction,
		     uint64_t *rng)
{
	ng_time sample[WL_EVICT_SAMPLES];
	size_t ns = NG_MIN(n, (size_t)WL_EVICT_SAMPLES);

	for (size_t i = 0; i < ns; i++)
		sample[i] = last_of(rows, ns == n ? i : xorshift64(rng) % n);
	qsort(sample, ns, sizeof *sample, time_cmp);
	return sample[ns / fraction];
}

/* A row's last-seen time, for wl_evict_cut. */
static ng_time row_last(const void *rows, size_t i)
{
	return ((const struct wl_row *)rows)[i].last;
}

/* Evict about 1/16 of the rows, those least recently seen. */
static void store_evict(struct wl_store *s)
{
	ng_time cut = wl_evict_cut(s->rows, s->nrows, row_last, 16, &s->rng);
	size_t want = NG_MAX(s->nrows / 16, (size_t)1), gone = 0;
	for (size_t i = s->nrows; i-- > 0 && gone < want;) {
		if (s->rows[i].last <= cut) {
			row_remove(s, i, true);
			gone++;
		}
	}
	/* Every sampled row was newer than the cut (tiny tables): drop the oldest one. */
	if (gone == 0 && s->nrows > 0) {
		size_t old = 0;

		for (size_t i = 1; i < s->nrows; i++) {
			if (s->rows[i].last < s->rows[old].last)
				old = i;
		}
		row_remove(s, old, true);
		gone = 1;
	}
	s->evicted += gone;
	log_warnx("whitelist full (%zu entries): evicted the %zu least recently seen (raise the entry limit if "
		  "this is normal traffic)", s->max_entries, gone);
}

/* Insert a new zeroed row for the key (the caller fills it); never marks dirty. */
static struct wl_row *row_insert(struct wl_store *s, const ng_addr *addr, uint8_t dir)
{
	uint64_t h = row_hash(addr, dir);
	struct wl_row *row;
	bool found;
	size_t slot;

	if (s->nrows >= s->max_entries)
		store_evict(s);
	if ((s->nrows + 1) * 2 > s->slotcap)
		slots_grow(s);
	if (s->nrows == s->rowcap) {
		s->rowcap = s->rowcap ? s->rowcap * 2 : 1024;
		s->rows = xrealloc(s->rows, s->rowcap * sizeof *s->rows);
		wl_hugepage_hint(s->rows, s->rowcap * sizeof *s->rows);
	}
	slot = slot_find(s, addr, dir, h, &found);
	row = &s->rows[s->nrows];
	memset(row, 0, sizeof *row);
	row->addr = *addr;
	row->dir = dir;
	row->dirty_pos = UINT32_MAX;
	row->first = row->last = row->last_prev = NG_TIME_NONE;
	s->slots[slot] = (h >> 32) << 32 | (uint64_t)(s->nrows + 1);
	s->nrows++;
	return row;
}

struct wl_row *wl_store_find(struct wl_store *s, const ng_addr *addr, uint8_t dir)
{
	bool found;
	size_t slot = slot_find(s, addr, dir, row_hash(addr, dir), &found);

	return found ? &s->rows[(uint32_t)s->slots[slot] - 1] : NULL;
}

struct wl_row *wl_store_touch(struct wl_store *s, const ng_addr *addr, uint8_t dir, ng_time t)
{
	struct wl_row *row = wl_store_find(s, addr, dir);

	if (row == NULL) {
		row = row_insert(s, addr, dir);
		row->first = row->last = t;
	}
	wl_store_mark(s, row);
	return row;
}

size_t wl_store_remove_if(struct wl_store *s, bool (*match)(const struct wl_row *, void *), void *ctx)
{
	size_t gone = 0;

	for (size_t i = s->nrows; i-- > 0;) {
		if (match(&s->rows[i], ctx)) {
			row_remove(s, i, true);
			gone++;
		}
	}
	return gone;
}

size_t wl_store_count_if(const struct wl_store *s, bool (*match)(const struct wl_row *, void *), void *ctx)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nrows; i++)
		n += match(&s->rows[i], ctx);
	return n;
}

/* Log a database error at most once a minute (the loop retries every second). */
static void store_db_error(struct wl_store *s, const char *what)
{
	ng_time m = time_mono();

	if (s->last_err_log != 0 && m - s->last_err_log < 60 * NG_USEC)
		return;
	s->last_err_log = m;
	log_warnx("cannot %s %s: %s (check free space and permissions; will retry)", what, s->path,
		  sqlite3_errmsg(s->db));
}

size_t wl_store_prune(struct wl_store *s, ng_time cutoff)
{
	size_t gone = 0;

	if (cutoff == NG_TIME_NONE)
		return 0;
	for (size_t i = s->nrows; i-- > 0;) {
		if (s->rows[i].last < cutoff) {
			row_remove(s, i, true);
			gone++;
		}
	}
	return gone;
}

/* Run a prepared statement that returns no rows; 0 or -1. */
static int stmt_run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* Read one meta value; def when absent. */
static int64_t meta_get(struct wl_store *s, const char *key, int64_t def)
{
	int64_t v = def;

	sqlite3_bind_text(s->st_meta_get, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(s->st_meta_get) == SQLITE_ROW)
		v = sqlite3_column_int64(s->st_meta_get, 0);
	sqlite3_reset(s->st_meta_get);
	return v;
}

/* Write (or, for NG_TIME_NONE, delete) one meta value; 0 or -1. */
static int meta_set(struct wl_store *s, const char *key, int64_t v)
{
	if (v == NG_TIME_NONE) {
		sqlite3_bind_text(s->st_meta_del, 1, key, -1, SQLITE_STATIC);
		return stmt_run(s->st_meta_del);
	}
	sqlite3_bind_text(s->st_meta_set, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->st_meta_set, 2, v);
	return stmt_run(s->st_meta_set);
}

/* A row key in text form, for writing in the table's key order. */
struct flush_key {
	char text[NG_ADDRSTRLEN];
	uint32_t row;		/* dirty row index (upserts only) */
	uint8_t dir;
};

/* Order keys as the table's PRIMARY KEY (addr TEXT BINARY, dir). */
static int flush_key_cmp(const void *x, const void *y)
{
	const struct flush_key *a = x, *b = y;
	int c = strcmp(a->text, b->text);

	return c ? c : (int)a->dir - (int)b->dir;
}

/* Forget every learnt row in memory (after a reset-baseline by another process). */
static void store_clear(struct wl_store *s)
{
	size_t n = s->nrows;

	for (size_t i = 0; i < s->nrows; i++)
		strpool_put(s->rows[i].domain);
	s->nrows = s->ndirty = s->ndels = 0;
	memset(s->slots, 0, s->slotcap * sizeof *s->slots);
	s->first_packet = NG_TIME_NONE;
	s->meta_dirty = false;
	wl_svcs_clear(s->svcs);
	log_notice("the baseline was reset (netglobe reset-baseline): forgot %zu learnt rows; learning again", n);
}

int wl_store_flush(struct wl_store *s)
{
	struct flush_key *keys = NULL;

	if (s->read_only)
		return 0;
	if (s->db == NULL) {
		for (size_t i = 0; i < s->ndirty; i++)
			s->rows[s->dirty[i]].dirty_pos = UINT32_MAX;
		s->ndirty = s->ndels = 0;
		s->meta_dirty = false;
		wl_svcs_written(s->svcs);
		s->flushes++;
		return 0;
	}
	if (s->ndirty == 0 && s->ndels == 0 && !s->meta_dirty && wl_svcs_pending(s->svcs) == 0) {
		/* Nothing to write: still notice a reset-baseline promptly. */
		if (meta_get(s, "baseline_epoch", 0) != s->epoch) {
			s->epoch = meta_get(s, "baseline_epoch", 0);
			store_clear(s);
		}
		return 0;
	}
	if (stmt_run(s->st_begin) != 0) {
		store_db_error(s, "begin a transaction on");
		s->flush_errors++;
		return -1;
	}
	if (meta_get(s, "baseline_epoch", 0) != s->epoch) {
		s->epoch = meta_get(s, "baseline_epoch", 0);
		store_clear(s);
	}
	keys = xmalloc((NG_MAX(s->ndels, s->ndirty) + 1) * sizeof *keys);
	for (size_t i = 0; i < s->ndels; i++) {
		addr_format(&s->dels[i].addr, keys[i].text, sizeof keys[i].text);
		keys[i].dir = s->dels[i].dir;
	}
	qsort(keys, s->ndels, sizeof *keys, flush_key_cmp);
	for (size_t i = 0; i < s->ndels; i++) {
		sqlite3_bind_text(s->st_delete, 1, keys[i].text, -1, SQLITE_STATIC);
		sqlite3_bind_int(s->st_delete, 2, keys[i].dir);
		if (stmt_run(s->st_delete) != 0)
			goto fail;
	}
	for (size_t i = 0; i < s->ndirty; i++) {
		addr_format(&s->rows[s->dirty[i]].addr, keys[i].text, sizeof keys[i].text);
		keys[i].row = s->dirty[i];
		keys[i].dir = s->rows[s->dirty[i]].dir;
	}
	qsort(keys, s->ndirty, sizeof *keys, flush_key_cmp);
	for (size_t i = 0; i < s->ndirty; i++) {
		const struct wl_row *r = &s->rows[keys[i].row];
		sqlite3_stmt *st = s->st_upsert;

		sqlite3_bind_text(st, 1, keys[i].text, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, r->dir);
		sqlite3_bind_int64(st, 3, r->first);
		sqlite3_bind_int64(st, 4, r->last);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)r->flows);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)r->packets);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)r->bytes);
		if (r->domain)
			sqlite3_bind_text(st, 8, r->domain, -1, SQLITE_STATIC);
		if (r->country[0])
			sqlite3_bind_text(st, 9, r->country, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 10, r->verdict);
		if (stmt_run(st) != 0)
			goto fail;
	}
	if (wl_svcs_write(s->svcs) != 0)
		goto fail;
	if (s->meta_dirty && meta_set(s, "first_packet", s->first_packet) != 0)
		goto fail;
	if (stmt_run(s->st_commit) != 0)
		goto fail;
	free(keys);
	for (size_t i = 0; i < s->ndirty; i++)
		s->rows[s->dirty[i]].dirty_pos = UINT32_MAX;
	s->ndirty = s->ndels = 0;
	s->meta_dirty = false;
	wl_svcs_written(s->svcs);
	s->flushes++;
	return 0;
fail:
	store_db_error(s, "write");
	free(keys);
	stmt_run(s->st_rollback);
	s->flush_errors++;
	return -1;
}

void wl_store_clock(struct wl_store *s, ng_time t)
{
	if (s->now == NG_TIME_NONE || t > s->now)
		s->now = t;
	if (s->first_packet == NG_TIME_NONE || t < s->first_packet) {
		s->first_packet = t;
		s->meta_dirty = true;
	}
}

ng_time wl_store_now(const struct wl_store *s)
{
	return s->now;
}

ng_time wl_store_first_packet(const struct wl_store *s)
{
	return s->first_packet;
}

size_t wl_store_count(const struct wl_store *s)
{
	return s->nrows;
}

size_t wl_store_pending(const struct wl_store *s)
{
	return s->ndirty + s->ndels + wl_svcs_pending(s->svcs);
}

struct wl_svcs *wl_store_svcs(struct wl_store *s)
{
	return s->svcs;
}

uint64_t wl_store_flushes(const struct wl_store *s)
{
	return s->flushes;
}

uint64_t wl_store_flush_errors(const struct wl_store *s)
{
	return s->flush_errors;
}

uint64_t wl_store_evicted(const struct wl_store *s)
{
	return s->evicted;
}

/* Prepare one statement or fail with a message. */
static int prep(struct wl_store *s, const char *sql, sqlite3_stmt **st, char *err, size_t errlen)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s is not a usable netglobe database (%s); move it away or use another --state-dir",
		 s->path, sqlite3_errmsg(s->db));
	return -1;
}

/* Load the rows (one sequential scan; past max_entries the oldest are evicted) and the meta values. */
static int store_load(struct wl_store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (prep(s, "SELECT addr, dir, first_seen, last_seen, flows, packets, bytes, domain, country, verdict "
		    "FROM seen", &st, err, errlen) != 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 0);
		const char *dom = (const char *)sqlite3_column_text(st, 7);
		const char *cc = (const char *)sqlite3_column_text(st, 8);
		int dir = sqlite3_column_int(st, 1);
		struct wl_row *row;
		ng_addr addr;

		if (a == NULL || addr_parse(a, &addr) != 0 || (dir != 0 && dir != 1) ||
		    wl_store_find(s, &addr, (uint8_t)dir))
			continue;
		row = row_insert(s, &addr, (uint8_t)dir);
		row->first = sqlite3_column_int64(st, 2);
		row->last = sqlite3_column_int64(st, 3);
		row->last_prev = row->first < row->last ? row->first : NG_TIME_NONE;
		row->flows = (uint64_t)sqlite3_column_int64(st, 4);
		row->packets = (uint64_t)sqlite3_column_int64(st, 5);
		row->bytes = (uint64_t)sqlite3_column_int64(st, 6);
		row->domain = dom && dom[0] ? strpool_getn(dom, WL_DOMAIN_KEEP) : NULL;
		if (cc)
			snprintf(row->country, sizeof row->country, "%s", cc);
		row->verdict = (uint8_t)NG_MIN(sqlite3_column_int(st, 9), WL_BLOCKLISTED);
		if (s->now == NG_TIME_NONE || row->last > s->now)
			s->now = row->last;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot read %s: %s (move it away or use another --state-dir)", s->path,
			 sqlite3_errmsg(s->db));
		return -1;
	}
	s->first_packet = meta_get(s, "first_packet", NG_TIME_NONE);
	s->epoch = meta_get(s, "baseline_epoch", 0);
	return 0;
}

/* Read PRAGMA user_version; -1 when the file is not a database. */
static int schema_version(struct wl_store *s)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

struct wl_store *wl_store_open(const char *db_path, bool read_only, size_t max_entries, size_t max_services,
			       char *err, size_t errlen)
{
	struct wl_store *s = xcalloc(1, sizeof *s);
	int flags = SQLITE_OPEN_NOMUTEX, ver;
	char *emsg = NULL;

	s->max_entries = max_entries ? max_entries : WL_DEFAULT_MAX_ENTRIES;
	s->svcs = wl_svcs_create(max_services);
	s->now = s->first_packet = NG_TIME_NONE;
	s->read_only = read_only;
	s->rng = 0x853c49e6748fea9bULL;
	slots_grow(s);
	if (db_path == NULL)
		return s;
	s->path = xstrdup(db_path);
	if (!read_only) {
		/* Create the file ourselves so it (and the -wal/-shm SQLite derives from it) is private. */
		int fd = open(db_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0) {
			snprintf(err, errlen, "cannot open %s: %s (check --state-dir)", db_path, strerror(errno));
			goto fail;
		}
		close(fd);
		flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	} else {
		flags |= SQLITE_OPEN_READONLY;
	}
	if (sqlite3_open_v2(db_path, &s->db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s (check --state-dir)", db_path,
			 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, WL_BUSY_MS);
	ver = schema_version(s);
	if (ver < 0) {
		snprintf(err, errlen, "%s is not an SQLite database (%s); move it away or use another --state-dir",
			 db_path, sqlite3_errmsg(s->db));
		goto fail;
	}
	if (ver > WL_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s has schema version %d, newer than this netglobe understands (%d); "
			 "use a newer netglobe or another --state-dir", db_path, ver, WL_SCHEMA_VERSION);
		goto fail;
	}
	if (!read_only) {
		sqlite3_stmt *st;
		bool wal = false;

		/* WAL: readers (netglobe history) never block the writer, and a commit survives kill -9. */
		if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				wal = sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
			sqlite3_finalize(st);
		}
		if (!wal) {
			snprintf(err, errlen, "cannot put %s in WAL mode: %s (is the state directory on a network "
				 "file system? use a local --state-dir)", db_path, sqlite3_errmsg(s->db));
			goto fail;
		}
		if (sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-" NG_STR(WL_CACHE_KIB), NULL,
				 NULL, &emsg) != SQLITE_OK)
			goto fail_exec;
		if (ver == 0) {
			char sql[2048];

			snprintf(sql, sizeof sql, "BEGIN IMMEDIATE; %s PRAGMA user_version=%d; COMMIT;", schema_sql,
				 WL_SCHEMA_VERSION);
			if (sqlite3_exec(s->db, sql, NULL, NULL, &emsg) != SQLITE_OK)
				goto fail_exec;
		}
		/* Early builds of schema 1 had a last_seen index that only slowed writes down. */
		if (sqlite3_exec(s->db, "DROP INDEX IF EXISTS seen_last_seen", NULL, NULL, &emsg) != SQLITE_OK)
			goto fail_exec;
	} else if (ver == 0) {
		snprintf(err, errlen, "%s holds no netglobe history yet (has the daemon run with this --state-dir?)",
			 db_path);
		goto fail;
	}
	if (prep(s, "SELECT value FROM meta WHERE key = ?1", &s->st_meta_get, err, errlen) != 0)
		goto fail;
	if (!read_only &&
	    (prep(s, "BEGIN IMMEDIATE", &s->st_begin, err, errlen) != 0 ||
	     prep(s, "COMMIT", &s->st_commit, err, errlen) != 0 ||
	     prep(s, "ROLLBACK", &s->st_rollback, err, errlen) != 0 ||
	     prep(s, "INSERT INTO seen (addr, dir, first_seen, last_seen, flows, packets, bytes, domain, country, "
		     "verdict) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (addr, dir) DO UPDATE SET "
		     "first_seen = excluded.first_seen, last_seen = excluded.last_seen, flows = excluded.flows, "
		     "packets = excluded.packets, bytes = excluded.bytes, domain = excluded.domain, "
		     "country = excluded.country, verdict = excluded.verdict", &s->st_upsert, err, errlen) != 0 ||
	     prep(s, "DELETE FROM seen WHERE addr = ?1 AND dir = ?2", &s->st_delete, err, errlen) != 0 ||
	     prep(s, "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET "
		     "value = excluded.value", &s->st_meta_set, err, errlen) != 0 ||
	     prep(s, "DELETE FROM meta WHERE key = ?1", &s->st_meta_del, err, errlen) != 0))
		goto fail;
	if (store_load(s, err, errlen) != 0)
		goto fail;
	if (wl_svcs_attach(s->svcs, s->db, db_path, read_only, err, errlen) != 0)
		goto fail;
	return s;
fail_exec:
	snprintf(err, errlen, "cannot set up %s: %s (move it away or use another --state-dir)", db_path,
		 emsg ? emsg : sqlite3_errmsg(s->db));
	sqlite3_free(emsg);
fail:
	wl_store_close(s);
	return NULL;
}

void wl_store_close(struct wl_store *s)
{
	if (s == NULL)
		return;
	wl_svcs_free(s->svcs);	/* first: it holds statements of s->db */
	if (s->db) {
		sqlite3_finalize(s->st_begin);
		sqlite3_finalize(s->st_commit);
		sqlite3_finalize(s->st_rollback);
		sqlite3_finalize(s->st_upsert);
		sqlite3_finalize(s->st_delete);
		sqlite3_finalize(s->st_meta_set);
		sqlite3_finalize(s->st_meta_del);
		sqlite3_finalize(s->st_meta_get);
		sqlite3_close(s->db);
	}
	for (size_t i = 0; i < s->nrows; i++)
		strpool_put(s->rows[i].domain);
	free(s->rows);
	free(s->slots);
	free(s->dirty);
	free(s->dels);
	free(s->path);
	free(s);
}
