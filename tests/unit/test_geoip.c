/* SPDX-License-Identifier: BSD-2-Clause */
/* test_geoip.c: GeoIP lookups in both schemas, per-family files, errors, the cache, refcounts and the ASN table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "addr.h"
#include "asn_table.h"
#include "geoip.h"
#include "util.h"

static char tmpdir[256];

static const char *testdata(const char *rel);
static const char *tmp_path(const char *rel);
static void write_bytes(const char *path, const void *buf, size_t len);
static struct geoip *open_city(const char *a, const char *b, const char *asn, size_t cache);
static struct geo_info *lookup(struct geoip *g, const char *ip);
static void expect_open_error(const char *city, const char *asn, const char *want1, const char *want2);

/* The checkout's tests/data: the Makefile compiles in its absolute path; else relative to the checkout root. */
#ifndef NG_TESTDATA_DIR
#define NG_TESTDATA_DIR "tests/data"
#endif

/* A file in the test data ($NG_TESTDATA, else the checkout's tests/data). */
static const char *testdata(const char *rel)
{
	static char buf[4][512];
	static int k;
	const char *dir = getenv("NG_TESTDATA");

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", dir != NULL && dir[0] != '\0' ? dir : NG_TESTDATA_DIR, rel);
	return buf[k];
}

/* A path in the scratch directory. */
static const char *tmp_path(const char *rel)
{
	static char buf[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, rel);
	return buf[k];
}

/* Write a whole file. */
static void write_bytes(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* Open up to two City files and an ASN file; fails the test on error. */
static struct geoip *open_city(const char *a, const char *b, const char *asn, size_t cache)
{
	struct geoip_options o;
	struct geoip *g;
	char err[512];

	memset(&o, 0, sizeof o);
	if (a != NULL)
		o.city[o.ncity++] = a;
	if (b != NULL)
		o.city[o.ncity++] = b;
	o.asn = asn;
	o.cache_entries = cache;
	g = geoip_open(&o, err, sizeof err);
	if (g == NULL)
		fail_msg("geoip_open: %s", err);
	return g;
}

/* Look a text address up. */
static struct geo_info *lookup(struct geoip *g, const char *ip)
{
	ng_addr a;

	assert_int_equal(addr_parse(ip, &a), 0);
	return geoip_lookup(g, &a);
}

/* geoip_open must fail with a message holding both strings. */
static void expect_open_error(const char *city, const char *asn, const char *want1, const char *want2)
{
	struct geoip_options o;
	char err[512];

	memset(&o, 0, sizeof o);
	if (city != NULL)
		o.city[o.ncity++] = city;
	o.asn = asn;
	err[0] = '\0';
	assert_null(geoip_open(&o, err, sizeof err));
	if (strstr(err, want1) == NULL || (want2 != NULL && strstr(err, want2) == NULL))
		fail_msg("error \"%s\" lacks \"%s\" / \"%s\"", err, want1, want2 ? want2 : "");
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_geoip.XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_country_table(void **state)
{
	(void)state;
	assert_true(geoip_country_count() >= 249);
	for (size_t i = 0; i < geoip_country_count(); i++) {
		const char *c = geoip_country_code(i);

		assert_true(strlen(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z');
		if (i > 0)
			assert_true(strcmp(geoip_country_code(i - 1), c) < 0);
		assert_non_null(geoip_country_name(c));
	}
	assert_null(geoip_country_code(geoip_country_count()));
	assert_string_equal(geoip_country_name("JP"), "Japan");
	assert_string_equal(geoip_country_name("GB"), "United Kingdom");
	assert_string_equal(geoip_country_name("XK"), "Kosovo");
	assert_string_equal(geoip_country_name("AD"), "Andorra");
	assert_string_equal(geoip_country_name("ZW"), "Zimbabwe");
	assert_null(geoip_country_name("ZZ"));
	assert_null(geoip_country_name("jp"));
	assert_null(geoip_country_name("J"));
	assert_null(geoip_country_name("JPN"));
	assert_null(geoip_country_name(""));
	assert_null(geoip_country_name(NULL));
}

static void test_maxmind_city(void **state)
{
	struct geoip *g = open_city(testdata("mmdb/GeoIP2-City-Test.mmdb"), NULL, NULL, 0);
	struct geo_info *i;
	char desc[1024];

	(void)state;
	i = lookup(g, "81.2.69.142");
	assert_non_null(i);
	assert_true(i->has_location);
	assert_true(i->lat == 51.5142 && i->lon == -0.0931);
	assert_int_equal(i->accuracy_km, 10);
	assert_string_equal(i->country, "GB");
	assert_string_equal(i->country_name, "United Kingdom");
	assert_string_equal(i->region, "England");
	assert_string_equal(i->city, "London");
	assert_int_equal(i->asn, 0);
	assert_null(i->as_org);
	geo_info_unref(i);

	i = lookup(g, "2001:218::1");
	assert_non_null(i);
	assert_true(i->lat == 35.6854 && i->lon == 139.7531);	/* 35.68536, 139.75309 rounded */
	assert_string_equal(i->country, "JP");
	assert_string_equal(i->country_name, "Japan");
	assert_null(i->city);
	geo_info_unref(i);

	i = lookup(g, "2.125.160.216");
	assert_non_null(i);
	assert_true(i->lat == 51.75 && i->lon == -1.25);
	geo_info_unref(i);

	/* Not in the database: NULL, never 0,0. */
	assert_null(lookup(g, "8.8.8.8"));
	assert_null(lookup(g, "2a00::1"));
	geoip_describe(g, desc, sizeof desc);
	assert_non_null(strstr(desc, "GeoIP2-City, GeoIP2 schema, IPv4+IPv6"));
	geoip_close(g);

	g = open_city(testdata("mmdb/GeoLite2-City-Test.mmdb"), NULL, NULL, 0);
	i = lookup(g, "81.2.69.142");
	assert_non_null(i);
	assert_string_equal(i->city, "London");
	geo_info_unref(i);
	geoip_close(g);

	g = open_city(testdata("mmdb/tiny-geoip2-city.mmdb"), NULL, NULL, 0);
	i = lookup(g, "203.0.113.77");
	assert_non_null(i);
	assert_true(i->lat == 35.6895 && i->lon == 139.6917);
	assert_string_equal(i->city, "Tokyo");
	assert_int_equal(i->accuracy_km, 50);
	geo_info_unref(i);
	i = lookup(g, "2001:db8:1::1");
	assert_non_null(i);
	assert_string_equal(i->city, "Berlin");
	geo_info_unref(i);
	geoip_close(g);
}

static void test_flat_pair(void **state)
{
	const char *v4 = testdata("mmdb/tiny-flat-ipv4.mmdb"), *v6 = testdata("mmdb/tiny-flat-ipv6.mmdb");
	struct geoip_stats st;
	struct geo_info *i;
	struct geoip *g;
	char desc[2048];

	(void)state;
	/* Either order: each family goes to the file that holds it. */
	for (int order = 0; order < 2; order++) {
		g = open_city(order == 0 ? v4 : v6, order == 0 ? v6 : v4, NULL, 0);
		i = lookup(g, "192.0.2.10");
		assert_non_null(i);
		assert_true(i->has_location);
		assert_true(i->lat == -33.8688 && i->lon == 151.209);	/* stored as float */
		assert_int_equal(i->accuracy_km, -1);
		assert_string_equal(i->country, "AU");
		assert_string_equal(i->country_name, "Australia");	/* from the built-in table */
		assert_string_equal(i->city, "Sydney");
		geo_info_unref(i);
		i = lookup(g, "2001:db8:ffff:1::1");
		assert_non_null(i);
		assert_string_equal(i->city, "Sao Paulo");
		assert_string_equal(i->country_name, "Brazil");
		assert_true(i->lat == -23.55 && i->lon == -46.63);
		geo_info_unref(i);
		i = lookup(g, "3fff::1");
		assert_non_null(i);
		assert_string_equal(i->country, "ZA");
		geo_info_unref(i);
		assert_null(lookup(g, "8.8.8.8"));
		assert_null(lookup(g, "2a00::1"));
		geoip_get_stats(g, &st);
		assert_int_equal(st.errors, 0);
		geoip_describe(g, desc, sizeof desc);
		assert_non_null(strstr(desc, "flat schema, IPv4,"));
		assert_non_null(strstr(desc, "flat schema, IPv6,"));
		geoip_close(g);
	}
	/* Only the IPv4 file: IPv6 addresses are simply unknown, not errors. */
	g = open_city(v4, NULL, NULL, 0);
	assert_null(lookup(g, "2001:db8::1"));
	geoip_get_stats(g, &st);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.not_found, 1);
	geoip_describe(g, desc, sizeof desc);
	assert_non_null(strstr(desc, "(no IPv6 data)"));
	geoip_close(g);
	/* Only the IPv6 file (no ::/96 subtree): IPv4 addresses are unknown. */
	g = open_city(v6, NULL, NULL, 0);
	assert_null(lookup(g, "192.0.2.10"));
	geoip_close(g);
}

static void test_asn_mmdb(void **state)
{
	struct geoip *g;
	struct geo_info *i;

	(void)state;
	/* ASN alone: a result without a place. */
	g = open_city(NULL, NULL, testdata("mmdb/GeoLite2-ASN-Test.mmdb"), 0);
	i = lookup(g, "1.128.0.1");
	assert_non_null(i);
	assert_false(i->has_location);
	assert_int_equal(i->asn, 1221);
	assert_string_equal(i->as_org, "Telstra Pty Ltd");
	assert_string_equal(i->country, "");
	assert_null(i->country_name);
	geo_info_unref(i);
	i = lookup(g, "2600:6000::1");
	assert_non_null(i);
	assert_int_equal(i->asn, 237);
	geo_info_unref(i);
	assert_null(lookup(g, "81.2.69.142"));
	geoip_close(g);

	/* City and ASN together. */
	g = open_city(testdata("mmdb/GeoIP2-City-Test.mmdb"), NULL, testdata("mmdb/GeoLite2-ASN-Test.mmdb"), 0);
	i = lookup(g, "81.2.69.142");
	assert_non_null(i);
	assert_string_equal(i->city, "London");
	assert_int_equal(i->asn, 0);
	geo_info_unref(i);
	i = lookup(g, "1.128.0.1");
	assert_non_null(i);
	assert_int_equal(i->asn, 1221);
	geo_info_unref(i);
	geoip_close(g);
}

static void test_open_errors(void **state)
{
	struct geoip_options o;
	char err[512], *buf;
	size_t len;

	(void)state;
	expect_open_error("/nonexistent/x.mmdb", NULL, "/nonexistent/x.mmdb: No such file", "--geoip-city");
	write_bytes(tmp_path("empty.mmdb"), "", 0);
	expect_open_error(tmp_path("empty.mmdb"), NULL, "empty.mmdb is empty", "--geoip-city");
	expect_open_error(tmpdir, NULL, "not a regular file", "--geoip-city");
	write_bytes(tmp_path("junk.mmdb"), "this is not a MaxMind database at all\n", 38);
	expect_open_error(tmp_path("junk.mmdb"), NULL, "junk.mmdb", "--geoip-city");

	/* A truncated copy loses its metadata. */
	buf = file_read_all(testdata("mmdb/GeoIP2-City-Test.mmdb"), 1 << 20, &len);
	assert_non_null(buf);
	write_bytes(tmp_path("trunc.mmdb"), buf, len / 2);
	expect_open_error(tmp_path("trunc.mmdb"), NULL, "trunc.mmdb", "--geoip-city");
	/* A wrecked search tree with intact metadata. */
	memset(buf, 0xff, len / 2);
	write_bytes(tmp_path("tree.mmdb"), buf, len);
	expect_open_error(tmp_path("tree.mmdb"), NULL, "tree.mmdb", "--geoip-city");
	free(buf);

	/* The wrong kind of database for the option. */
	expect_open_error(testdata("mmdb/GeoLite2-ASN-Test.mmdb"), NULL, "is an ASN database", "--geoip-asn");
	expect_open_error(NULL, testdata("mmdb/GeoIP2-City-Test.mmdb"), "is a City database", "--geoip-city");
	expect_open_error(NULL, "/nonexistent/asn.ngasn", "/nonexistent/asn.ngasn", "--geoip-asn");
	write_bytes(tmp_path("bad.ngasn"), "NGASN2\0\0garbage", 15);
	expect_open_error(NULL, tmp_path("bad.ngasn"), "bad.ngasn", "--geoip-asn");
	/* A table from before the checksum changed: named as such, with what to do. */
	write_bytes(tmp_path("old.ngasn"), "NGASN1\0\0garbage", 15);
	expect_open_error(NULL, tmp_path("old.ngasn"), "older NGASN1 format (rebuild it with geoip/fetch-data.sh",
			  "--geoip-asn");

	/* Nothing, or too much. */
	expect_open_error(NULL, NULL, "no GeoIP database given", "--geoip-city");
	memset(&o, 0, sizeof o);
	o.ncity = NG_ARRAY_LEN(o.city) + 1;
	assert_null(geoip_open(&o, err, sizeof err));
	assert_non_null(strstr(err, "too many"));
}

static void test_cache_and_refs(void **state)
{
	struct geoip *g = open_city(testdata("mmdb/GeoIP2-City-Test.mmdb"), NULL, NULL, 2);
	struct geo_info *a, *a2, *b, *c;
	struct geoip_stats st;

	(void)state;
	a = lookup(g, "81.2.69.142");
	assert_non_null(a);
	assert_int_equal(a->refs, 3);	/* the address cache's, the record table's and ours */
	a2 = lookup(g, "81.2.69.142");
	assert_ptr_equal(a, a2);
	assert_int_equal(a->refs, 4);
	geo_info_unref(a2);
	geoip_get_stats(g, &st);
	assert_int_equal(st.lookups, 2);
	assert_int_equal(st.cache_hits, 1);
	assert_int_equal(st.db_lookups, 1);
	assert_int_equal(st.cached, 1);
	assert_int_equal(st.cache_capacity, 2);

	/* Negative answers are cached too. */
	assert_null(lookup(g, "8.8.8.8"));
	assert_null(lookup(g, "8.8.8.8"));
	geoip_get_stats(g, &st);
	assert_int_equal(st.db_lookups, 2);
	assert_int_equal(st.not_found, 1);
	assert_int_equal(st.cache_hits, 2);

	/* Capacity 2: touching 8.8.8.8 last leaves 81.2.69.142 as the eviction victim. */
	b = lookup(g, "2001:218::1");
	assert_non_null(b);
	geoip_get_stats(g, &st);
	assert_int_equal(st.cached, 2);
	assert_int_equal(a->refs, 2);	/* evicted from the address cache: the record table's and ours */
	assert_string_equal(a->city, "London");
	/* Looked up again: the tree is searched, but the record is not decoded again. */
	c = lookup(g, "81.2.69.142");
	assert_ptr_equal(c, a);
	assert_string_equal(c->city, "London");
	geoip_get_stats(g, &st);
	assert_int_equal(st.db_lookups, 4);
	assert_int_equal(st.record_hits, 1);
	geo_info_unref(a);

	/* Results outlive the handle. */
	geoip_close(g);
	assert_int_equal(c->refs, 1);
	assert_string_equal(c->country_name, "United Kingdom");
	assert_string_equal(b->country, "JP");
	geo_info_unref(c);
	geo_info_unref(b);
	geo_info_unref(NULL);
	assert_null(geo_info_ref(NULL));
}

static void test_cache_many(void **state)
{
	struct geoip *g = open_city(testdata("mmdb/tiny-flat-ipv4.mmdb"), NULL, NULL, 100);
	struct geoip_stats st;
	uint8_t b[4] = {203, 0, 113, 0};

	(void)state;
	/* 256 addresses through 100 slots, twice: every slot is reused, the chains stay consistent. */
	for (int round = 0; round < 2; round++) {
		for (int k = 0; k < 256; k++) {
			ng_addr a;
			struct geo_info *i;

			b[3] = (uint8_t)k;
			a = addr_from_v4(b);
			i = geoip_lookup(g, &a);
			assert_non_null(i);
			assert_string_equal(i->city, "Tokyo");
			geo_info_unref(i);
		}
	}
	/* The last 100 are cached. */
	for (int k = 156; k < 256; k++) {
		ng_addr a;

		b[3] = (uint8_t)k;
		a = addr_from_v4(b);
		geo_info_unref(geoip_lookup(g, &a));
	}
	geoip_get_stats(g, &st);
	assert_int_equal(st.cached, 100);
	assert_int_equal(st.db_lookups, 512);
	assert_int_equal(st.cache_hits, 100);
	/* The 256 addresses are one record of the file: decoded once, shared after. */
	assert_int_equal(st.record_hits, 511);
	geoip_close(g);
}

/* One range of a hand-made table. */
struct t4 {
	uint32_t s, e, val;
};
struct t6 {
	const char *s, *e;
	uint32_t val;
};
struct tval {
	uint32_t asn;
	const char *org;
};

static void put32le(uint8_t *p, uint32_t v);
static void put64le(uint8_t *p, uint64_t v);
static uint8_t *table_make(const struct t4 *r4, size_t n4, const struct t6 *r6, size_t n6, const struct tval *v,
			   size_t nv, size_t *lenp);
static void table_fix(uint8_t *t, size_t len);
static void expect_table_error(uint8_t *t, size_t len, const char *want);

/* Little-endian stores, written independently of the builder. */
static void put32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* Little-endian 64-bit store. */
static void put64le(uint8_t *p, uint64_t v)
{
	put32le(p, (uint32_t)v);
	put32le(p + 4, (uint32_t)(v >> 32));
}

/* Recompute the checksum after an edit. */
static void table_fix(uint8_t *t, size_t len)
{
	put64le(t + 40, asn_table_checksum(t, len));
}

/* Lay out a table by the format in asn_format.h (caller frees). */
static uint8_t *table_make(const struct t4 *r4, size_t n4, const struct t6 *r6, size_t n6, const struct tval *v,
			   size_t nv, size_t *lenp)
{
	size_t pool = 1 + strlen("test table") + 1, len, o;
	uint32_t *orgoff = xcalloc(nv + 1, sizeof *orgoff);
	uint8_t *t, *p;

	for (size_t i = 0; i < nv; i++)
		pool += strlen(v[i].org) + 1;
	len = 64 + n4 * 12 + n6 * 36 + nv * 8 + pool;
	t = xcalloc(1, len);
	memcpy(t, ASN_TABLE_MAGIC, ASN_TABLE_MAGICLEN);
	put32le(t + 8, 64);
	put32le(t + 12, (uint32_t)n4);
	put32le(t + 16, (uint32_t)n6);
	put32le(t + 20, (uint32_t)nv);
	put32le(t + 24, (uint32_t)pool);
	put32le(t + 28, 1);
	put64le(t + 48, len);
	p = t + 64;
	for (size_t i = 0; i < n4; i++)
		put32le(p + 4 * i, r4[i].s), put32le(p + 4 * (n4 + i), r4[i].e), put32le(p + 4 * (2 * n4 + i), r4[i].val);
	p += 12 * n4;
	for (size_t i = 0; i < n6; i++) {
		ng_addr s, e;

		assert_int_equal(addr_parse(r6[i].s, &s), 0);
		assert_int_equal(addr_parse(r6[i].e, &e), 0);
		memcpy(p + 16 * i, s.a, 16);
		memcpy(p + 16 * (n6 + i), e.a, 16);
		put32le(p + 32 * n6 + 4 * i, r6[i].val);
	}
	p += 36 * n6;
	o = 64 + n4 * 12 + n6 * 36 + nv * 8;
	memcpy(t + o + 1, "test table", 11);
	for (size_t i = 0, at = 1 + 11; i < nv; i++) {
		orgoff[i] = (uint32_t)at;
		memcpy(t + o + at, v[i].org, strlen(v[i].org) + 1);
		at += strlen(v[i].org) + 1;
	}
	for (size_t i = 0; i < nv; i++)
		put32le(p + 8 * i, v[i].asn), put32le(p + 8 * i + 4, v[i].org[0] ? orgoff[i] : 0);
	table_fix(t, len);
	free(orgoff);
	*lenp = len;
	return t;
}

/* The edited table (checksum fixed up) must be refused with a message holding want. */
static void expect_table_error(uint8_t *t, size_t len, const char *want)
{
	char err[256] = "";

	table_fix(t, len);
	assert_null(asn_table_open_mem(t, len, err, sizeof err));
	if (strstr(err, want) == NULL)
		fail_msg("table error \"%s\" lacks \"%s\"", err, want);
}

static const struct t4 R4[] = {
	{0x01000000, 0x010000ff, 0}, {0x01000100, 0x010001ff, 1}, {0x08080000, 0x0808ffff, 2},
	{0x0a800000, 0x0affffff, 3},	/* spans 128 of the /16 index's buckets */
	{0xfffffff0, 0xffffffff, 0},
};
static const struct t6 R6[] = {
	{"2001:db8::", "2001:db8::ffff", 1},
	{"2001:db8:1::", "2001:db8:1:ffff:ffff:ffff:ffff:ffff", 2},
	{"2c00::", "2c0f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0},	/* spans 16 buckets */
	{"ffff::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 3},
};
static const struct tval VALS[] = {{13335, "Cloudflare, Inc."}, {64500, "Ünïcødé ネット"}, {15169, "Google LLC"}, {7, ""}};

static void test_asn_table_lookups(void **state)
{
	size_t len;
	uint8_t *t = table_make(R4, NG_ARRAY_LEN(R4), R6, NG_ARRAY_LEN(R6), VALS, 4, &len);
	struct {
		const char *ip;
		uint32_t asn;
	} cases[] = {
		{"10.127.255.255", 0}, {"10.128.0.0", 7}, {"10.200.3.4", 7}, {"10.255.255.255", 7}, {"11.0.0.0", 0},
		{"2bff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0}, {"2c00::", 13335}, {"2c05:1::1", 13335},
		{"2c0f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 13335}, {"2c10::", 0},
		{"0.255.255.255", 0}, {"1.0.0.0", 13335}, {"1.0.0.255", 13335}, {"1.0.1.0", 64500}, {"1.0.1.255", 64500},
		{"1.0.2.0", 0}, {"8.7.255.255", 0}, {"8.8.0.0", 15169}, {"8.8.255.255", 15169}, {"8.9.0.0", 0},
		{"255.255.255.239", 0}, {"255.255.255.240", 13335}, {"255.255.255.255", 13335}, {"0.0.0.0", 0},
		{"::", 0}, {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 0}, {"2001:db8::", 64500}, {"2001:db8::ffff", 64500},
		{"2001:db8::1:0", 0}, {"2001:db8:1::5", 15169}, {"2001:db8:2::", 0}, {"fffe::", 0},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 7},
	};
	struct asn_table *at;
	char err[256], desc[256];
	uint32_t asn;
	const char *org;

	(void)state;
	at = asn_table_open_mem(t, len, err, sizeof err);
	if (at == NULL)
		fail_msg("%s", err);
	for (size_t i = 0; i < NG_ARRAY_LEN(cases); i++) {
		ng_addr a;
		bool found;

		assert_int_equal(addr_parse(cases[i].ip, &a), 0);
		found = asn_table_lookup(at, &a, &asn, &org);
		if (found != (cases[i].asn != 0) || (found && asn != cases[i].asn))
			fail_msg("%s: got %s AS%u, want AS%u", cases[i].ip, found ? "found" : "not found", found ? asn : 0,
				 cases[i].asn);
	}
	{
		ng_addr a;

		addr_parse("1.0.1.7", &a);
		assert_true(asn_table_lookup(at, &a, &asn, &org));
		assert_string_equal(org, "Ünïcødé ネット");
		addr_parse("ffff::1", &a);
		assert_true(asn_table_lookup(at, &a, &asn, &org));
		assert_string_equal(org, "");
	}
	asn_table_describe(at, desc, sizeof desc);
	assert_string_equal(desc, "netglobe ASN table, 5 IPv4 + 4 IPv6 ranges, test table");
	asn_table_close(at);
	free(t);
}

static void test_asn_table_corruption(void **state)
{
	size_t len;
	uint8_t *good = table_make(R4, 4, R6, 3, VALS, 4, &len), *t = xmalloc(len);
	size_t v4s = 64, v4e = 64 + 16, v4v = 64 + 32, v6s = 64 + 48, v6e = v6s + 48, v6v = v6e + 48, vals = v6v + 12,
	       pool = vals + 32;
	char err[256];
	struct asn_table *at;

	(void)state;
	/* Every truncation and every single flipped bit is refused (the checksum covers all but itself). */
	for (size_t n = 0; n < len; n++)
		assert_null(asn_table_open_mem(good, n, err, sizeof err));
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(t, good, len);
			t[i] ^= (uint8_t)(1 << bit);
			at = asn_table_open_mem(t, len, err, sizeof err);
			if (at != NULL)
				fail_msg("flipping bit %d of byte %zu was not noticed", bit, i);
		}
	}
	/*
	 * Pairs of flipped top bits of 8-byte words: with multiply-and-xor alone
	 * each shifts its lane by exactly 2^63 and two of them cancel. Only the
	 * checksum can tell (the structure stays valid when both land in data).
	 */
	for (size_t i = 7; i < len; i += 8) {
		for (size_t j = i + 8; j < len; j += 8) {
			if (i == 47 || j == 47)
				continue;	/* in the checksum field itself */
			memcpy(t, good, len);
			t[i] ^= 0x80;
			t[j] ^= 0x80;
			at = asn_table_open_mem(t, len, err, sizeof err);
			if (at != NULL)
				fail_msg("flipping the top bits of bytes %zu and %zu was not noticed", i, j);
		}
	}
	memcpy(t, good, len);
	assert_null(asn_table_open_mem(t, len - 1, err, sizeof err));
	assert_non_null(strstr(err, "truncated"));
	t[50] ^= 1;
	assert_null(asn_table_open_mem(t, len, err, sizeof err));
	memcpy(t, good, len);
	t[100] ^= 1;
	assert_null(asn_table_open_mem(t, len, err, sizeof err));
	assert_non_null(strstr(err, "checksum"));

	/* With the checksum made right, each broken invariant is still caught. */
#define EDIT(stmt, want) do { memcpy(t, good, len); stmt; expect_table_error(t, len, want); } while (0)
	EDIT(memcpy(t, "NGASN3", 6), "not a netglobe ASN table");
	EDIT(put32le(t + 8, 65), "unsupported header");
	EDIT(t[60] = 1, "unsupported header");
	EDIT(put32le(t + 12, 5), "truncated");
	EDIT(put32le(t + 12, UINT32_MAX), "truncated");
	EDIT(put64le(t + 48, len + 1), "truncated");
	EDIT(put32le(t + v4s + 4, 0x01000000), "IPv4 range 1");		/* overlaps range 0 */
	EDIT(put32le(t + v4s + 8, 0x00000001), "IPv4 range 2");		/* out of order */
	EDIT(put32le(t + v4e + 4, 0x010000ff), "IPv4 range 1");		/* end before start */
	EDIT(put32le(t + v4v + 8, 4), "IPv4 range 2");			/* value index past the table */
	EDIT(memset(t + v6s + 16, 0, 16), "IPv6 range 1");		/* out of order */
	EDIT(memset(t + v6e, 0, 16), "IPv6 range 0");			/* end before start */
	EDIT(put32le(t + v6v, 9), "IPv6 range 0");
	EDIT(put32le(t + vals + 8 * 3, 0), "value 3");			/* AS 0 */
	EDIT(put32le(t + vals + 4, 2), "value 0");			/* not the start of a string */
	EDIT(put32le(t + vals + 4, (uint32_t)(len - pool)), "value 0");	/* past the pool */
	EDIT(put32le(t + 28, 3), "description");
	EDIT(t[len - 1] = 'x', "string pool");
	EDIT(t[pool] = 'x', "string pool");
	EDIT(t[pool + 1] = 0x01, "not valid text");			/* control character */
	EDIT(t[pool + 1] = 0xc0, "not valid text");			/* overlong lead byte */
	EDIT(t[pool + 12 + 18] = 0xff, "not valid text");
#undef EDIT
	free(t);
	free(good);
}

static void test_asn_table_file(void **state)
{
	size_t len;
	uint8_t *good = table_make(R4, 4, R6, 3, VALS, 4, &len);
	struct geoip *g;
	struct geo_info *i;
	struct asn_table *at;
	char err[256];

	(void)state;
	write_bytes(tmp_path("t.ngasn"), good, len);
	g = open_city(testdata("mmdb/tiny-flat-ipv4.mmdb"), NULL, tmp_path("t.ngasn"), 0);
	i = lookup(g, "8.8.4.4");
	assert_non_null(i);
	assert_false(i->has_location);
	assert_int_equal(i->asn, 15169);
	assert_string_equal(i->as_org, "Google LLC");
	geo_info_unref(i);
	i = lookup(g, "2001:db8::1");	/* no IPv6 City file: ASN only */
	assert_non_null(i);
	assert_int_equal(i->asn, 64500);
	geo_info_unref(i);
	geoip_close(g);
	good[200] ^= 0x10;
	write_bytes(tmp_path("t.ngasn"), good, len);
	expect_open_error(NULL, tmp_path("t.ngasn"), "checksum", "--geoip-asn");
	assert_null(asn_table_open(tmp_path("none.ngasn"), err, sizeof err));
	assert_non_null(strstr(err, "none.ngasn: No such file"));
	free(good);

	/* The installed table, when geoip/fetch-data.sh has run. */
	at = asn_table_open("geoip/data/asn.ngasn", err, sizeof err);
	if (at == NULL) {
		print_message("skipped the installed table: %s\n", err);
		return;
	}
	{
		ng_addr a;
		uint32_t asn;
		const char *org;

		addr_parse("8.8.8.8", &a);
		assert_true(asn_table_lookup(at, &a, &asn, &org));
		assert_int_equal(asn, 15169);
		addr_parse("2606:4700:4700::1111", &a);
		assert_true(asn_table_lookup(at, &a, &asn, &org));
		assert_int_equal(asn, 13335);
		addr_parse("10.0.0.1", &a);
		assert_false(asn_table_lookup(at, &a, &asn, &org));
	}
	asn_table_close(at);
}

static void test_default_paths(void **state)
{
	struct geoip_options o;
	struct geoip_defaults d;
	char err[1024], *buf;
	size_t len;
	struct geoip *g;
	struct geo_info *i;

	(void)state;
	mkdir(tmp_path("data"), 0755);
	mkdir(tmp_path("data/geoip"), 0755);
	setenv("NETGLOBE_DATA_DIR", tmp_path("data"), 1);
	memset(&o, 0, sizeof o);
	assert_int_equal(geoip_default_options(&o, &d, err, sizeof err), -1);
	assert_non_null(strstr(err, "NETGLOBE_DATA_DIR="));
	assert_non_null(strstr(err, "--geoip-city"));

	/* The DB-IP pair (here the tiny stand-ins) in DIR/geoip. */
	buf = file_read_all(testdata("mmdb/tiny-flat-ipv4.mmdb"), 1 << 20, &len);
	write_bytes(tmp_path("data/geoip/dbip-city-ipv4.mmdb"), buf, len);
	free(buf);
	buf = file_read_all(testdata("mmdb/tiny-flat-ipv6.mmdb"), 1 << 20, &len);
	write_bytes(tmp_path("data/geoip/dbip-city-ipv6.mmdb"), buf, len);
	free(buf);
	o.cache_entries = 7;
	assert_int_equal(geoip_default_options(&o, &d, err, sizeof err), 0);
	assert_int_equal(o.ncity, 2);
	assert_non_null(strstr(o.city[0], "/data/geoip/dbip-city-ipv4.mmdb"));
	assert_non_null(strstr(o.city[1], "/data/geoip/dbip-city-ipv6.mmdb"));
	assert_null(o.asn);
	assert_int_equal(o.cache_entries, 7);
	g = geoip_open(&o, err, sizeof err);
	assert_non_null(g);
	i = lookup(g, "2001:db8::1");
	assert_non_null(i);
	assert_string_equal(i->city, "Berlin");
	geo_info_unref(i);
	geoip_close(g);

	/* A GeoLite2-City.mmdb there is preferred, and GeoLite2-ASN.mmdb is used. */
	buf = file_read_all(testdata("mmdb/GeoLite2-City-Test.mmdb"), 1 << 20, &len);
	write_bytes(tmp_path("data/geoip/GeoLite2-City.mmdb"), buf, len);
	free(buf);
	buf = file_read_all(testdata("mmdb/GeoLite2-ASN-Test.mmdb"), 1 << 20, &len);
	write_bytes(tmp_path("data/geoip/GeoLite2-ASN.mmdb"), buf, len);
	free(buf);
	assert_int_equal(geoip_default_options(&o, &d, err, sizeof err), 0);
	assert_int_equal(o.ncity, 1);
	assert_null(o.city[1]);
	assert_non_null(strstr(o.city[0], "GeoLite2-City.mmdb"));
	assert_non_null(strstr(o.asn, "GeoLite2-ASN.mmdb"));
	assert_string_equal(d.dir + strlen(d.dir) - strlen("/data/geoip"), "/data/geoip");

	/* Without the variable: NG_DATADIR (when built in), then beside the program. */
	unsetenv("NETGLOBE_DATA_DIR");
	memset(&o, 0, sizeof o);
	if (geoip_default_options(&o, &d, err, sizeof err) == 0) {
		print_message("default data: %s\n", d.dir);
		assert_true(o.ncity > 0 || o.asn != NULL);
	} else {
		print_message("no default data: %s\n", err);
		assert_non_null(strstr(err, "fetch-data.sh"));
	}
}

/* The writer of pooled results must give what the general writers (sb_json_str, sb_fixed4) give for a copy not marked pooled. */
static void expect_json_same(const struct geo_info *i)
{
	struct strbuf fast = {0}, slow = {0};
	struct geo_info c;

	geo_info_json(i, &fast);
	if (i != NULL) {
		c = *i;
		c.pooled = false;
		geo_info_json(&c, &slow);
	} else
		geo_info_json(NULL, &slow);
	if (fast.len != slow.len || strcmp(fast.p, slow.p) != 0)
		fail_msg("pooled writer: %s\ngeneral writer: %s", fast.p, slow.p);
	free(fast.p);
	free(slow.p);
}

/* What "%.4f" prints for n / 10^4, with trailing zeros (and a bare point) dropped and "-0" as "0". */
static void fixed4_oracle(long n, char *buf, size_t len)
{
	char *end;

	snprintf(buf, len, "%.4f", (double)n / 10000.0);
	end = buf + strlen(buf);
	while (end[-1] == '0')
		*--end = '\0';
	if (end[-1] == '.')
		*--end = '\0';
	if (strcmp(buf, "-0") == 0)
		strcpy(buf, "0");
}

/* The text after "\"lat\":" up to the next comma. */
static void json_lat(const char *json, char *out, size_t len)
{
	const char *p = strstr(json, "\"lat\":"), *e;

	assert_non_null(p);
	p += 6;
	e = strchr(p, ',');
	assert_non_null(e);
	assert_true((size_t)(e - p) < len);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
}

static void test_json_writer(void **state)
{
	static const char *const ips[] = {"81.2.69.142", "2.125.160.216", "89.160.20.112", "2001:218::1",
					  "216.160.83.56", "175.16.199.0", "8.8.8.8", "2a02:d300::1"};
	static const double odd[] = {-0.0, -0.00004, -0.00005, 0.00005, 0.00004999, -89.99995, 179.99995,
				     -179.99999, 90, -90, 0.1, -0.1, 35.68536, -122.08384, 1e-9, -1e-9};
	struct geoip *g = open_city(testdata("mmdb/GeoIP2-City-Test.mmdb"), NULL, NULL, 0);
	struct geo_info *i, c;
	char want[32], got[32];

	(void)state;
	expect_json_same(NULL);
	for (size_t k = 0; k < NG_ARRAY_LEN(ips); k++) {
		i = lookup(g, ips[k]);
		expect_json_same(i);
		geo_info_unref(i);
	}
	/* Coordinates over the whole range, against snprintf and against sb_fixed4. */
	i = lookup(g, "89.160.20.112");
	assert_non_null(i);
	assert_true(i->pooled);
	assert_non_null(i->place);	/* the "geo" text, shared by the results of its place */
	c = *i;
	c.place = NULL;		/* written from the fields, as a new place's text is */
	for (long n = -1800000; n <= 1800000; n += 7) {
		struct strbuf sb = {0};

		c.lat = (double)n / 10000.0;
		c.lon = -c.lat;
		geo_info_json(&c, &sb);
		json_lat(sb.p, got, sizeof got);
		fixed4_oracle(n, want, sizeof want);
		if (strcmp(got, want) != 0)
			fail_msg("lat %ld/10^4: \"%s\", snprintf says \"%s\"", n, got, want);
		free(sb.p);
		if (n % 7001 == 0)
			expect_json_same(&c);
	}
	for (size_t k = 0; k < NG_ARRAY_LEN(odd); k++) {
		c.lat = odd[k];
		c.lon = -odd[k];
		expect_json_same(&c);
	}
	c.lat = -0.0;
	{
		struct strbuf sb = {0};

		geo_info_json(&c, &sb);
		json_lat(sb.p, got, sizeof got);
		assert_string_equal(got, "0");
		free(sb.p);
	}
	/* Without a place, without a country, without an AS: the nulls. */
	c.has_location = false;
	expect_json_same(&c);
	c.country[0] = '\0';
	expect_json_same(&c);
	c.asn = 4200000000u;
	c.accuracy_km = 2147483647;
	expect_json_same(&c);
	geo_info_unref(i);
	geoip_close(g);
}

/* A small LCG for reproducible random addresses. */
static uint64_t lcg_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 16;
}

static void test_json_writer_bundled(void **state)
{
	struct geoip_options o;
	struct geoip_defaults d;
	struct geoip_stats st;
	struct geoip *g;
	char err[1024];
	uint64_t seed = 1;
	unsigned found = 0;

	(void)state;
	memset(&o, 0, sizeof o);
	unsetenv("NETGLOBE_DATA_DIR");
	if (geoip_default_options(&o, &d, err, sizeof err) == -1) {
		print_message("skipped: %s\n", err);
		return;
	}
	g = geoip_open(&o, err, sizeof err);
	if (g == NULL)
		fail_msg("geoip_open: %s", err);
	for (int k = 0; k < 20000; k++) {
		ng_addr a;
		struct geo_info *i;
		uint64_t r = lcg_next(&seed);

		memset(&a, 0, sizeof a);
		if (k % 5 == 0) {
			a.v = 6;
			a.a[0] = 0x20;
			a.a[1] = (uint8_t)(r >> 8);
			for (int b = 2; b < 16; b++)
				a.a[b] = (uint8_t)lcg_next(&seed);
		} else {
			a.v = 4;
			for (int b = 0; b < 4; b++)
				a.a[b] = (uint8_t)(r >> (8 * b));
		}
		i = geoip_lookup(g, &a);
		found += i != NULL;
		expect_json_same(i);
		geo_info_unref(i);
	}
	geoip_get_stats(g, &st);
	print_message("bundled data: %u of 20000 found, %llu results, %llu names\n", found,
		      (unsigned long long)st.results, (unsigned long long)st.names);
	assert_true(found > 10000);
	assert_true(st.names > 0 && st.names < found);	/* cities and AS names are shared */
	geoip_close(g);
}

static void test_name_pool(void **state)
{
	struct geoip *g = open_city(testdata("mmdb/GeoIP2-City-Test.mmdb"), NULL, NULL, 0);
	struct geo_info *a, *b;
	struct geoip_stats st;
	struct strbuf sb = {0};

	(void)state;
	a = lookup(g, "81.2.69.142");	/* London, England, United Kingdom */
	b = lookup(g, "2.125.160.216");	/* Boxford, England, United Kingdom */
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_ptr_equal(a->country_name, b->country_name);	/* one copy each */
	assert_ptr_equal(a->region, b->region);
	assert_string_equal(a->region, "England");
	assert_string_equal(b->city, "Boxford");
	geoip_get_stats(g, &st);
	assert_int_equal(st.names, 4);	/* United Kingdom, England, London, Boxford */
	/* Closed: the results and their names stay valid for their holders. */
	geoip_close(g);
	geo_info_unref(b);
	assert_string_equal(a->city, "London");
	assert_string_equal(a->country_name, "United Kingdom");
	geo_info_json(a, &sb);
	assert_non_null(strstr(sb.p, "\"country_name\":\"United Kingdom\",\"region\":\"England\",\"city\":\"London\""));
	free(sb.p);
	geo_info_unref(a);

	/* Names that need escaping keep their JSON literal. */
	g = open_city(testdata("mmdb/GeoIP2-City-Test.mmdb"), NULL, NULL, 0);
	a = lookup(g, "89.160.20.112");
	assert_non_null(a);
	assert_string_equal(a->city, "Link\xc3\xb6ping");
	expect_json_same(a);
	geo_info_unref(a);
	geoip_close(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_country_table),
		cmocka_unit_test(test_maxmind_city),
		cmocka_unit_test(test_flat_pair),
		cmocka_unit_test(test_asn_mmdb),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_cache_and_refs),
		cmocka_unit_test(test_cache_many),
		cmocka_unit_test(test_asn_table_lookups),
		cmocka_unit_test(test_asn_table_corruption),
		cmocka_unit_test(test_asn_table_file),
		cmocka_unit_test(test_default_paths),
		cmocka_unit_test(test_json_writer),
		cmocka_unit_test(test_json_writer_bundled),
		cmocka_unit_test(test_name_pool),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
