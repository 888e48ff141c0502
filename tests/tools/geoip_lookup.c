/* SPDX-License-Identifier: BSD-2-Clause */
/* geoip_lookup.c: look addresses up with netglobe's GeoIP module and print one JSON line each, or benchmark it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "addr.h"
#include "geoip.h"
#include "util.h"

/*
 * Usage:
 *   geoip_lookup [--geoip-city F]... [--geoip-asn F] [--default] [--cache N] ADDR...
 *   geoip_lookup [...] --bench [N]
 * Without --geoip-city/--geoip-asn (or with --default) it opens the bundled
 * data that netglobe would use. Addresses may also come on stdin, one a line,
 * when the only argument is "-". Each output line is
 *   {"ip":"81.2.69.142","geo":{"lat":51.5142,"lon":-0.0931,"accuracy_km":10,
 *    "country":"GB","country_name":"United Kingdom","region":"England",
 *    "city":"London"},"asn":null,"as_org":null}
 * with "geo": null when the databases hold no place for the address.
 */

static void usage(void) __attribute__((noreturn));
static void print_one(struct geoip *g, const char *text);
static cJSON *str_or_null(const char *s);
static double now_sec(void);
static uint64_t rng_next(uint64_t *state);
static void bench(const struct geoip_options *opts, size_t n);
static double bench_pass(struct geoip *g, const ng_addr *addrs, size_t n, size_t *found);
static void bench_family(const struct geoip_options *opts, size_t n, int family);

/* Print the usage line and exit 2. */
static void usage(void)
{
	fprintf(stderr, "usage: geoip_lookup [--geoip-city FILE]... [--geoip-asn FILE] [--default] [--cache N] "
			"(ADDR... | - | --bench [N])\n");
	exit(2);
}

/* A JSON string, or null for NULL. */
static cJSON *str_or_null(const char *s)
{
	return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* Look one address up and print its JSON line. */
static void print_one(struct geoip *g, const char *text)
{
	cJSON *o = cJSON_CreateObject(), *geo;
	struct geo_info *info;
	ng_addr a;
	char *line;

	cJSON_AddStringToObject(o, "ip", text);
	if (addr_parse(text, &a) == -1) {
		cJSON_AddStringToObject(o, "error", "not an IP address");
		info = NULL;
	} else
		info = geoip_lookup(g, &a);
	if (info != NULL && (info->has_location || info->country[0] != '\0' || info->city != NULL)) {
		geo = cJSON_AddObjectToObject(o, "geo");
		if (info->has_location) {
			cJSON_AddNumberToObject(geo, "lat", info->lat);
			cJSON_AddNumberToObject(geo, "lon", info->lon);
		} else {
			cJSON_AddNullToObject(geo, "lat");
			cJSON_AddNullToObject(geo, "lon");
		}
		if (info->accuracy_km >= 0)
			cJSON_AddNumberToObject(geo, "accuracy_km", info->accuracy_km);
		else
			cJSON_AddNullToObject(geo, "accuracy_km");
		cJSON_AddItemToObject(geo, "country", str_or_null(info->country[0] ? info->country : NULL));
		cJSON_AddItemToObject(geo, "country_name", str_or_null(info->country_name));
		cJSON_AddItemToObject(geo, "region", str_or_null(info->region));
		cJSON_AddItemToObject(geo, "city", str_or_null(info->city));
	} else
		cJSON_AddNullToObject(o, "geo");
	if (info != NULL && info->asn != 0)
		cJSON_AddNumberToObject(o, "asn", info->asn);
	else
		cJSON_AddNullToObject(o, "asn");
	cJSON_AddItemToObject(o, "as_org", str_or_null(info != NULL ? info->as_org : NULL));
	geo_info_unref(info);
	line = cJSON_PrintUnformatted(o);
	puts(line);
	cJSON_free(line);
	cJSON_Delete(o);
}

/*
 * This thread's CPU seconds (user + system, so page faults count): on a
 * shared, loaded machine wall time would mostly measure the other jobs.
 */
static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: a fixed-seed generator so runs are comparable. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Look every address up once; returns the seconds taken and counts the answers in *found. */
static double bench_pass(struct geoip *g, const ng_addr *addrs, size_t n, size_t *found)
{
	double t0 = now_sec();

	for (size_t i = 0; i < n; i++) {
		struct geo_info *info = geoip_lookup(g, &addrs[i]);

		*found += info != NULL;
		geo_info_unref(info);
	}
	return now_sec() - t0;
}

/*
 * Time lookups of n distinct random public addresses of one family:
 *   first touch: a fresh handle, so every lookup also faults the database
 *     pages in (the cost right after start-up);
 *   database: cache misses on pages already mapped (a small cache that the
 *     addresses keep evicting) - the steady cost of a new remote address;
 *   cached: the same addresses again with a cache that holds them all, and
 *     with a 1000-address working set that stays in the CPU caches.
 */
static void bench_family(const struct geoip_options *opts, size_t n, int family)
{
	struct geoip_options o = *opts;
	struct geoip_stats st;
	struct geoip *g;
	ng_addr *addrs = xcalloc(n, sizeof *addrs);
	uint64_t rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)family;
	size_t found = 0, small = NG_MIN(n, (size_t)1000);
	double first, miss, hit, hit_small;
	char err[512];

	for (size_t i = 0; i < n;) {
		uint8_t b[16];
		uint64_t r1 = rng_next(&rng), r2 = rng_next(&rng);

		memcpy(b, &r1, 8);
		memcpy(b + 8, &r2, 8);
		if (family == 6) {
			/* The RIRs' big blocks (2001::/16, 2400::/12, 2600::/12, 2800::/12, 2a00::/12), mostly allocated. */
			static const uint8_t top[] = {0x20, 0x24, 0x26, 0x28, 0x2a};

			b[0] = top[b[0] % NG_ARRAY_LEN(top)];
			b[1] = b[0] == 0x20 ? 0x01 : (uint8_t)(b[1] & 0x0f);
		}
		addrs[i] = family == 4 ? addr_from_v4(b) : addr_from_v6(b);
		if (addr_scope(&addrs[i]) == NG_SCOPE_PUBLIC)
			i++;
	}
	o.cache_entries = 64;
	if ((g = geoip_open(&o, err, sizeof err)) == NULL) {
		fprintf(stderr, "geoip_lookup: %s\n", err);
		exit(1);
	}
	first = bench_pass(g, addrs, n, &found);
	miss = bench_pass(g, addrs, n, &(size_t){0});
	geoip_get_stats(g, &st);
	geoip_close(g);
	if (st.cache_hits > st.lookups / 100) {
		fprintf(stderr, "geoip_lookup: the miss pass hit the cache %llu times\n", (unsigned long long)st.cache_hits);
		exit(1);
	}
	o.cache_entries = n + 1;
	g = geoip_open(&o, err, sizeof err);
	bench_pass(g, addrs, n, &(size_t){0});
	hit = bench_pass(g, addrs, n, &(size_t){0});
	for (int round = 0; round < 3; round++)
		bench_pass(g, addrs, small, &(size_t){0});
	hit_small = 0;
	for (int round = 0; round < 100; round++)
		hit_small += bench_pass(g, addrs, small, &(size_t){0});
	hit_small /= 100;
	geoip_close(g);
	printf("bench (CPU time): IPv%d, %zu random public addresses, %.0f%% known: first touch %.2f M lookups/s (%.0f ns), "
	       "database %.2f M/s (%.0f ns), cached %.1f M/s (%.0f ns), cached small set %.1f M/s (%.0f ns); "
	       "%.0f%% of the database lookups shared an already decoded record\n",
	       family, n, 100.0 * (double)found / (double)n, n / first / 1e6, first * 1e9 / n, n / miss / 1e6,
	       miss * 1e9 / n, n / hit / 1e6, hit * 1e9 / n, small / hit_small / 1e6, hit_small * 1e9 / small,
	       st.db_lookups ? 100.0 * (double)st.record_hits / (double)st.db_lookups : 0.0);
	free(addrs);
}

/* Both families. */
static void bench(const struct geoip_options *opts, size_t n)
{
	bench_family(opts, n, 4);
	bench_family(opts, n, 6);
}

int main(int argc, char **argv)
{
	struct geoip_options opts;
	struct geoip_defaults defs;
	struct geoip *g;
	const char *city[NG_ARRAY_LEN(opts.city)];
	size_t ncity = 0, bench_n = 0;
	const char *asn = NULL;
	bool use_default = false, describe = false;
	char err[1024], desc[4096];
	int i;

	memset(&opts, 0, sizeof opts);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--geoip-city") == 0 && i + 1 < argc) {
			if (ncity == NG_ARRAY_LEN(city))
				usage();
			city[ncity++] = argv[++i];
		} else if (strcmp(argv[i], "--geoip-asn") == 0 && i + 1 < argc)
			asn = argv[++i];
		else if (strcmp(argv[i], "--default") == 0)
			use_default = true;
		else if (strcmp(argv[i], "--describe") == 0)
			describe = true;
		else if (strcmp(argv[i], "--cache") == 0 && i + 1 < argc)
			opts.cache_entries = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--bench") == 0) {
			bench_n = 200000;
			if (i + 1 < argc && argv[i + 1][0] >= '1' && argv[i + 1][0] <= '9')
				bench_n = strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (argv[i][0] == '-' && argv[i][1] == '-')
			usage();
		else
			break;
	}
	if (use_default || (ncity == 0 && asn == NULL)) {
		if (geoip_default_options(&opts, &defs, err, sizeof err) == -1) {
			fprintf(stderr, "geoip_lookup: %s\n", err);
			return 1;
		}
	}
	if (ncity > 0) {
		opts.ncity = ncity;
		for (size_t k = 0; k < NG_ARRAY_LEN(opts.city); k++)
			opts.city[k] = k < ncity ? city[k] : NULL;
	}
	if (asn != NULL)
		opts.asn = asn;
	if (bench_n > 0) {
		bench(&opts, bench_n);
		return 0;
	}
	if ((g = geoip_open(&opts, err, sizeof err)) == NULL) {
		fprintf(stderr, "geoip_lookup: %s\n", err);
		return 1;
	}
	if (describe) {
		geoip_describe(g, desc, sizeof desc);
		fprintf(stderr, "%s\n", desc);
	}
	if (i == argc - 1 && strcmp(argv[i], "-") == 0) {
		char line[256];

		while (fgets(line, sizeof line, stdin) != NULL) {
			line[strcspn(line, "\r\n")] = '\0';
			if (line[0] != '\0')
				print_one(g, line);
		}
	} else {
		for (; i < argc; i++)
			print_one(g, argv[i]);
	}
	geoip_close(g);
	return 0;
}
