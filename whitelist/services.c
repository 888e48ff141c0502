/* SPDX-License-Identifier: BSD-2-Clause */
/* services.c: the known services (registrable domains and ASes per direction): a hash table mirrored to SQLite. */
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
 * The same shape as the address rows in store.c, smaller: memory is
 * authoritative, rows live in one dense array found through an
 * open-addressing table of 64-bit slots (hash tag, row index + 1) with
 * backward-shift deletion; changed rows go on a dirty list and removed ones
 * on a deletion list, both written by the store's flush inside its one
 * transaction per tick. The key is (kind, registrable domain or AS number,
 * direction); each row keeps its key's full hash, because a string key is
 * dearer to hash again than an address.
 *
 * The table is far smaller than the address table (one row per registrable
 * domain and per AS, not per address), so its default cap is 250,000 rows
 * (about 150 bytes each with its name and index): at the cap, inserting a
 * new row first evicts about 1/16 of the rows, those least recently seen,
 * as the address table does. A flush writes its few rows in list order: unlike the
 * address rows, a tick touches a handful of them.
 *
 * Disk: `services (kind, key, dir, first_seen, last_seen, flows, name)`,
 * keyed (kind, key, dir) WITHOUT ROWID, in netglobe.db beside `seen`. It is
 * created with CREATE TABLE IF NOT EXISTS at every read-write open, so a
 * database written before this table existed opens as it is and gains it;
 * the schema version stays 1 and an older netglobe ignores the table.
 */


/* A deletion waiting for the next flush; `name` is a strpool reference (domain rows). */
struct wl_svc_del {
	const char *name;
	uint32_t asn;
	uint8_t kind, dir;
};

struct wl_svcs {
	struct wl_svc *rows;
	size_t nrows, rowcap, max_rows;
	uint64_t *slots;		/* 0 = empty, else tag << 32 | (row index + 1) */
	size_t slotcap;
	uint32_t *dirty;
	size_t ndirty, dirtycap;
	struct wl_svc_del *dels;
	size_t ndels, delcap;
	uint64_t evicted, rng;
	sqlite3 *db;			/* borrowed from the store; NULL: memory only */
	bool read_only;
	sqlite3_stmt *st_upsert, *st_delete;
};

static const char svc_schema_sql[] =
	"CREATE TABLE IF NOT EXISTS services ("
	" kind INTEGER NOT NULL,"		/* 1 registrable domain, 2 autonomous system */
	" key TEXT NOT NULL,"			/* "example.com", or the AS number in decimal ("8075") */
	" dir INTEGER NOT NULL,"		/* 0 sent, 1 received */
	" first_seen INTEGER NOT NULL,"		/* microseconds since the epoch, packet clock */
	" last_seen INTEGER NOT NULL,"
	" flows INTEGER NOT NULL DEFAULT 0,"
	" name TEXT,"				/* AS rows: the organisation's name; NULL otherwise */
	" PRIMARY KEY (kind, key, dir)) WITHOUT ROWID;";

/* Hash of a key: a domain's bytes or an AS number, seeded by kind and direction. */
static uint64_t svc_hash(uint8_t kind, const char *domain, size_t len, uint32_t asn, uint8_t dir)
{
	uint64_t seed = 0x6a09e667f3bcc909ULL * (uint64_t)(kind * 2u + dir + 1u);

	return kind == WL_SVC_DOMAIN ? ng_hash64(domain, len, seed) : ng_hash64(&asn, sizeof asn, seed);
}

/* True when row r has the key. */
static bool svc_key_eq(const struct wl_svc *r, uint8_t kind, const char *domain, uint32_t asn, uint8_t dir)
{
	if (r->kind != kind || r->dir != dir)
		return false;
	return kind == WL_SVC_DOMAIN ? strcmp(r->name, domain) == 0 : r->asn == asn;
}

/* Slot index holding the key, or the empty slot where it would go (*found says which). */
static size_t slot_find(const struct wl_svcs *s, uint64_t h, uint8_t kind, const char *domain, uint32_t asn,
			uint8_t dir, bool *found)
{
	size_t mask = s->slotcap - 1, i = h & mask;
	uint32_t tag = (uint32_t)(h >> 32);

	for (;; i = (i + 1) & mask) {
		uint64_t v = s->slots[i];

		if (v == 0) {
			*found = false;
			return i;
		}
		if ((uint32_t)(v >> 32) == tag && svc_key_eq(&s->rows[(uint32_t)v - 1], kind, domain, asn, dir)) {
			*found = true;
			return i;
		}
	}
}

/* The slot that points at row idx (which must be in the table). */
static size_t slot_of(const struct wl_svcs *s, size_t idx)
{
	size_t mask = s->slotcap - 1, i = s->rows[idx].hash & mask;

	while ((uint32_t)s->slots[i] != idx + 1)
		i = (i + 1) & mask;
	return i;
}

/* Double the slot table and place every row again. */
static void slots_grow(struct wl_svcs *s)
{
	size_t ncap = s->slotcap ? s->slotcap * 2 : 256;

	free(s->slots);
	s->slots = xcalloc(ncap, sizeof *s->slots);
	s->slotcap = ncap;
	for (size_t i = 0; i < s->nrows; i++) {
		uint64_t h = s->rows[i].hash;
		size_t j = h & (ncap - 1);

		while (s->slots[j])
			j = (j + 1) & (ncap - 1);
		s->slots[j] = (h >> 32) << 32 | (uint64_t)(i + 1);
	}
}

/* Empty slot i, shifting later members of its probe run back (no tombstones). */
static void slot_delete(struct wl_svcs *s, size_t i)
{
	size_t mask = s->slotcap - 1, j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (s->slots[j] == 0)
			break;
		home = s->rows[(uint32_t)s->slots[j] - 1].hash & mask;
		/* Move j into the hole unless its home lies cyclically in (i, j]. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			s->slots[i] = s->slots[j];
			i = j;
		}
	}
	s->slots[i] = 0;
}

struct wl_svcs *wl_svcs_create(size_t max_rows)
{
	struct wl_svcs *s = xcalloc(1, sizeof *s);

	s->max_rows = max_rows ? max_rows : WL_DEFAULT_MAX_SERVICES;
	s->rng = 0x2545f4914f6cdd1dULL;
	slots_grow(s);
	return s;
}

/* Give back the deletion list's name references. */
static void dels_clear(struct wl_svcs *s)
{
	for (size_t i = 0; i < s->ndels; i++)
		strpool_put(s->dels[i].name);
	s->ndels = 0;
}

void wl_svcs_free(struct wl_svcs *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->st_upsert);
	sqlite3_finalize(s->st_delete);
	for (size_t i = 0; i < s->nrows; i++)
		strpool_put(s->rows[i].name);
	dels_clear(s);
	free(s->rows);
	free(s->slots);
	free(s->dirty);
	free(s->dels);
	free(s);
}

/* Put row idx on the dirty list unless it is there. */
static void svc_mark(struct wl_svcs *s, size_t idx)
{
	struct wl_svc *row = &s->rows[idx];

	if (row->dirty_pos != UINT32_MAX)
		return;
	if (s->ndirty == s->dirtycap) {
		s->dirtycap = s->dirtycap ? s->dirtycap * 2 : 256;
		s->dirty = xrealloc(s->dirty, s->dirtycap * sizeof *s->dirty);
	}
	row->dirty_pos = (uint32_t)s->ndirty;
	s->dirty[s->ndirty++] = (uint32_t)idx;
}

/* Take a row off the dirty list. */
static void dirty_remove(struct wl_svcs *s, struct wl_svc *row)
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

/* Remove row idx (queueing its deletion on disk); the last row takes its place. */
static void row_remove(struct wl_svcs *s, size_t idx)
{
	struct wl_svc *row = &s->rows[idx];
	size_t last = s->nrows - 1;

	slot_delete(s, slot_of(s, idx));
	dirty_remove(s, row);
	if (s->db && !s->read_only) {
		if (s->ndels == s->delcap) {
			s->delcap = s->delcap ? s->delcap * 2 : 64;
			s->dels = xrealloc(s->dels, s->delcap * sizeof *s->dels);
		}
		/* The deletion needs the domain key: it takes over the row's reference. */
		s->dels[s->ndels].name = row->kind == WL_SVC_DOMAIN ? row->name : NULL;
		s->dels[s->ndels].asn = row->asn;
		s->dels[s->ndels].kind = row->kind;
		s->dels[s->ndels].dir = row->dir;
		s->ndels++;
		if (row->kind != WL_SVC_DOMAIN)
			strpool_put(row->name);
	} else {
		strpool_put(row->name);
	}
	if (idx != last) {
		struct wl_svc *mv = &s->rows[last];

		s->slots[slot_of(s, last)] = (mv->hash >> 32) << 32 | (uint64_t)(idx + 1);
		if (mv->dirty_pos != UINT32_MAX)
			s->dirty[mv->dirty_pos] = (uint32_t)idx;
		*row = *mv;
	}
	s->nrows--;
}

/* A service row's last-seen time, for wl_evict_cut. */
static ng_time svc_last(const void *rows, size_t i)
{
	return ((const struct wl_svc *)rows)[i].last;
}

/* Evict about 1/16 of the rows, those least recently seen (as store.c does for addresses). */
static void svcs_evict(struct wl_svcs *s)
{
	ng_time cut = wl_evict_cut(s->rows, s->nrows, svc_last, 16, &s->rng);
	size_t want = NG_MAX(s->nrows / 16, (size_t)1), gone = 0;
	for (size_t i = s->nrows; i-- > 0 && gone < want;) {
		if (s->rows[i].last <= cut) {
			row_remove(s, i);
			gone++;
		}
	}
	if (gone == 0 && s->nrows > 0) {
		size_t old = 0;

		for (size_t i = 1; i < s->nrows; i++) {
			if (s->rows[i].last < s->rows[old].last)
				old = i;
		}
		row_remove(s, old);
		gone = 1;
	}
	s->evicted += gone;
	log_warnx("whitelist: known services full (%zu rows): evicted the %zu least recently seen", s->max_rows,
		  gone);
}

/* Insert a new row for the key (first = last = t, no flows); name is a reference the row takes over. */
static struct wl_svc *row_insert(struct wl_svcs *s, uint64_t h, uint8_t kind, const char *name, uint32_t asn,
				 uint8_t dir, ng_time t)
{
	struct wl_svc *row;

	if (s->nrows >= s->max_rows)
		svcs_evict(s);
	if ((s->nrows + 1) * 2 > s->slotcap)
		slots_grow(s);
	if (s->nrows == s->rowcap) {
		s->rowcap = s->rowcap ? s->rowcap * 2 : 256;
		s->rows = xrealloc(s->rows, s->rowcap * sizeof *s->rows);
	}
	{
		size_t i = h & (s->slotcap - 1);

		while (s->slots[i])
			i = (i + 1) & (s->slotcap - 1);
		s->slots[i] = (h >> 32) << 32 | (uint64_t)(s->nrows + 1);
	}
	row = &s->rows[s->nrows++];
	memset(row, 0, sizeof *row);
	row->hash = h;
	row->kind = kind;
	row->dir = dir;
	row->name = name;
	row->asn = asn;
	row->dirty_pos = UINT32_MAX;
	row->first = row->last = t;
	row->last_prev = NG_TIME_NONE;
	return row;
}

struct wl_svc *wl_svcs_find_domain(struct wl_svcs *s, const char *regdomain, uint8_t dir)
{
	uint64_t h = svc_hash(WL_SVC_DOMAIN, regdomain, strlen(regdomain), 0, dir);
	bool found;
	size_t i = slot_find(s, h, WL_SVC_DOMAIN, regdomain, 0, dir, &found);

	return found ? &s->rows[(uint32_t)s->slots[i] - 1] : NULL;
}

struct wl_svc *wl_svcs_find_asn(struct wl_svcs *s, uint32_t asn, uint8_t dir)
{
	uint64_t h = svc_hash(WL_SVC_ASN, NULL, 0, asn, dir);
	bool found;
	size_t i = slot_find(s, h, WL_SVC_ASN, NULL, asn, dir, &found);

	return found ? &s->rows[(uint32_t)s->slots[i] - 1] : NULL;
}

struct wl_svc *wl_svcs_touch_domain(struct wl_svcs *s, const char *pooled, uint8_t dir, ng_time t)
{
	uint64_t h = svc_hash(WL_SVC_DOMAIN, pooled, strlen(pooled), 0, dir);
	bool found;
	size_t i = slot_find(s, h, WL_SVC_DOMAIN, pooled, 0, dir, &found);
	struct wl_svc *row;

	row = found ? &s->rows[(uint32_t)s->slots[i] - 1]
		    : row_insert(s, h, WL_SVC_DOMAIN, strpool_ref(pooled), 0, dir, t);
	svc_mark(s, (size_t)(row - s->rows));
	return row;
}

struct wl_svc *wl_svcs_touch_asn(struct wl_svcs *s, uint32_t asn, uint8_t dir, ng_time t)
{
	uint64_t h = svc_hash(WL_SVC_ASN, NULL, 0, asn, dir);
	bool found;
	size_t i = slot_find(s, h, WL_SVC_ASN, NULL, asn, dir, &found);
	struct wl_svc *row;

	row = found ? &s->rows[(uint32_t)s->slots[i] - 1] : row_insert(s, h, WL_SVC_ASN, NULL, asn, dir, t);
	svc_mark(s, (size_t)(row - s->rows));
	return row;
}

size_t wl_svcs_remove_if(struct wl_svcs *s, bool (*match)(const struct wl_svc *, void *), void *ctx)
{
	size_t gone = 0;

	for (size_t i = s->nrows; i-- > 0;) {
		if (match(&s->rows[i], ctx)) {
			row_remove(s, i);
			gone++;
		}
	}
	return gone;
}

size_t wl_svcs_prune(struct wl_svcs *s, ng_time cutoff)
{
	size_t gone = 0;

	if (cutoff == NG_TIME_NONE)
		return 0;
	for (size_t i = s->nrows; i-- > 0;) {
		if (s->rows[i].last < cutoff) {
			row_remove(s, i);
			gone++;
		}
	}
	return gone;
}

void wl_svcs_clear(struct wl_svcs *s)
{
	for (size_t i = 0; i < s->nrows; i++)
		strpool_put(s->rows[i].name);
	dels_clear(s);
	s->nrows = s->ndirty = 0;
	memset(s->slots, 0, s->slotcap * sizeof *s->slots);
}

/* Run a prepared statement that returns no rows; 0 or -1. */
static int stmt_run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Bind a row's key (kind, key text, dir) to the first three parameters; num holds an AS number's text. */
static void bind_key(sqlite3_stmt *st, uint8_t kind, const char *domain, uint32_t asn, uint8_t dir, char *num,
		     size_t numlen)
{
	sqlite3_bind_int(st, 1, kind);
	if (kind == WL_SVC_DOMAIN) {
		sqlite3_bind_text(st, 2, domain, -1, SQLITE_STATIC);
	} else {
		snprintf(num, numlen, "%u", asn);
		sqlite3_bind_text(st, 2, num, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int(st, 3, dir);
}

int wl_svcs_write(struct wl_svcs *s)
{
	char num[16];

	if (s->db == NULL || s->read_only)
		return 0;
	for (size_t i = 0; i < s->ndels; i++) {
		const struct wl_svc_del *d = &s->dels[i];

		bind_key(s->st_delete, d->kind, d->name, d->asn, d->dir, num, sizeof num);
		if (stmt_run(s->st_delete) != 0)
			return -1;
	}
	for (size_t i = 0; i < s->ndirty; i++) {
		const struct wl_svc *r = &s->rows[s->dirty[i]];
		sqlite3_stmt *st = s->st_upsert;

		bind_key(st, r->kind, r->name, r->asn, r->dir, num, sizeof num);
		sqlite3_bind_int64(st, 4, r->first);
		sqlite3_bind_int64(st, 5, r->last);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)r->flows);
		if (r->kind == WL_SVC_ASN && r->name)
			sqlite3_bind_text(st, 7, r->name, -1, SQLITE_STATIC);
		if (stmt_run(st) != 0)
			return -1;
	}
	return 0;
}

void wl_svcs_written(struct wl_svcs *s)
{
	for (size_t i = 0; i < s->ndirty; i++)
		s->rows[s->dirty[i]].dirty_pos = UINT32_MAX;
	s->ndirty = 0;
	dels_clear(s);
}

/* True when the database holds the services table. */
static bool table_exists(sqlite3 *db)
{
	sqlite3_stmt *st;
	bool yes = false;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'services'", -1, &st,
			       NULL) != SQLITE_OK)
		return false;
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

/* Load every row (one sequential scan); malformed rows are skipped, past the cap the oldest are evicted. */
static int svcs_load(struct wl_svcs *s, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT kind, key, dir, first_seen, last_seen, flows, name FROM services", -1,
			       &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s is not a usable netglobe database (%s); move it away or use another "
			 "--state-dir", path, sqlite3_errmsg(s->db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int kind = sqlite3_column_int(st, 0), dir = sqlite3_column_int(st, 2);
		const char *key = (const char *)sqlite3_column_text(st, 1);
		const char *org = (const char *)sqlite3_column_text(st, 6);
		struct wl_svc *row;
		uint64_t asn;

		if (key == NULL || key[0] == '\0' || (dir != 0 && dir != 1))
			continue;
		if (kind == WL_SVC_DOMAIN) {
			const char *pooled;

			if (strlen(key) > WL_DOMAIN_KEEP || wl_svcs_find_domain(s, key, (uint8_t)dir))
				continue;
			pooled = strpool_get(key);
			row = row_insert(s, svc_hash(WL_SVC_DOMAIN, pooled, strlen(pooled), 0, (uint8_t)dir),
					 WL_SVC_DOMAIN, pooled, 0, (uint8_t)dir, NG_TIME_NONE);
		} else if (kind == WL_SVC_ASN) {
			if (parse_uint(key, 1, UINT32_MAX, &asn) != 0 ||
			    wl_svcs_find_asn(s, (uint32_t)asn, (uint8_t)dir))
				continue;
			row = row_insert(s, svc_hash(WL_SVC_ASN, NULL, 0, (uint32_t)asn, (uint8_t)dir), WL_SVC_ASN,
					 org && org[0] ? strpool_getn(org, WL_ORG_KEEP) : NULL, (uint32_t)asn,
					 (uint8_t)dir, NG_TIME_NONE);
		} else {
			continue;
		}
		row->first = sqlite3_column_int64(st, 3);
		row->last = sqlite3_column_int64(st, 4);
		row->last_prev = row->first < row->last ? row->first : NG_TIME_NONE;
		row->flows = (uint64_t)sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot read %s: %s (move it away or use another --state-dir)", path,
			 sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

int wl_svcs_attach(struct wl_svcs *s, struct sqlite3 *db, const char *path, bool read_only, char *err,
		   size_t errlen)
{
	char *emsg = NULL;

	s->db = db;
	s->read_only = read_only;
	if (db == NULL)
		return 0;
	if (!read_only) {
		if (sqlite3_exec(db, svc_schema_sql, NULL, NULL, &emsg) != SQLITE_OK) {
			snprintf(err, errlen, "cannot set up %s: %s (move it away or use another --state-dir)", path,
				 emsg ? emsg : sqlite3_errmsg(db));
			sqlite3_free(emsg);
			return -1;
		}
		if (sqlite3_prepare_v3(db, "INSERT INTO services (kind, key, dir, first_seen, last_seen, flows, name) "
				       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (kind, key, dir) DO UPDATE SET "
				       "first_seen = excluded.first_seen, last_seen = excluded.last_seen, "
				       "flows = excluded.flows, name = excluded.name", -1, SQLITE_PREPARE_PERSISTENT,
				       &s->st_upsert, NULL) != SQLITE_OK ||
		    sqlite3_prepare_v3(db, "DELETE FROM services WHERE kind = ?1 AND key = ?2 AND dir = ?3", -1,
				       SQLITE_PREPARE_PERSISTENT, &s->st_delete, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s is not a usable netglobe database (%s); move it away or use another "
				 "--state-dir", path, sqlite3_errmsg(db));
			return -1;
		}
	} else if (!table_exists(db)) {
		return 0;	/* written before known services existed: nothing to load */
	}
	return svcs_load(s, path, err, errlen);
}

size_t wl_svcs_count(const struct wl_svcs *s)
{
	return s->nrows;
}

size_t wl_svcs_pending(const struct wl_svcs *s)
{
	return s->ndirty + s->ndels;
}

uint64_t wl_svcs_evicted(const struct wl_svcs *s)
{
	return s->evicted;
}
