/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_communityid.c: Community ID v1 against the specification's own vectors: every packet tuple of its
 * baselines (seed 0 base64, seed 1, hex), a few written out here, ICMP request/reply symmetry and one-way
 * types, and a flow's ID from its key and first ICMP header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "communityid.h"
#include "decode.h"
#include "flow.h"

#ifndef NG_TESTDATA_DIR
#define NG_TESTDATA_DIR "tests/data"
#endif

/* The ID of a tuple given as text. */
static const char *cid(uint16_t seed, uint8_t proto, const char *src, uint16_t sport, const char *dst, uint16_t dport,
		       bool hex)
{
	static char buf[COMMUNITYID_HEX_LEN];
	ng_addr s, d;

	assert_int_equal(addr_parse(src, &s), 0);
	assert_int_equal(addr_parse(dst, &d), 0);
	return communityid_tuple(seed, proto, &s, sport, &d, dport, hex, buf, sizeof buf);
}

/* Vectors copied from the specification's baseline_deflt.json and its README. */
static void test_written_vectors(void **state)
{
	(void)state;
	assert_string_equal(cid(0, 6, "128.232.110.120", 34855, "66.35.250.204", 80, false),
			    "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	assert_string_equal(cid(0, 6, "66.35.250.204", 80, "128.232.110.120", 34855, false),
			    "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	assert_string_equal(cid(0, 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", 63943, "2607:f8b0:400c:c03::1a", 25,
				false),
			    "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=");
	/* ICMP echo request and its reply: one ID. */
	assert_string_equal(cid(0, 1, "192.168.0.89", 8, "192.168.0.1", 0, false), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
	assert_string_equal(cid(0, 1, "192.168.0.1", 0, "192.168.0.89", 0, false), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
	/* ICMP time exceeded (one way): type 11, code 0, as sent. */
	assert_string_equal(cid(0, 1, "10.0.0.1", 11, "10.0.0.2", 0, false), "1:YHxtAirCG//0OzkcVAukqKQN9xM=");
	/* RSVP: no ports. */
	assert_string_equal(cid(0, 46, "10.1.12.1", 0, "10.1.12.2", 0, false), "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=");
	assert_string_equal(cid(0, 46, "10.1.12.2", 7, "10.1.12.1", 9, false), "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=");
}

/* Every entry of one baseline file: its tuple gives its ID. Returns how many were checked. */
static size_t check_baseline(const char *name, uint16_t seed, bool hex)
{
	char path[512], *text;
	FILE *fp;
	long n;
	cJSON *doc, *e;
	size_t checked = 0;
	const char *dir = getenv("NG_TESTDATA");

	snprintf(path, sizeof path, "%s/community-id/%s", dir && *dir ? dir : NG_TESTDATA_DIR, name);
	fp = fopen(path, "rb");
	if (!fp)
		fail_msg("cannot read %s (the specification's baselines, tests/data/community-id)", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = malloc((size_t)n + 1);
	assert_true(fread(text, 1, (size_t)n, fp) == (size_t)n);
	text[n] = '\0';
	fclose(fp);
	doc = cJSON_Parse(text);
	free(text);
	assert_non_null(doc);
	cJSON_ArrayForEach(e, doc)
	{
		const cJSON *sp = cJSON_GetObjectItem(e, "sport"), *dp = cJSON_GetObjectItem(e, "dport");
		uint16_t sport = cJSON_IsNumber(sp) ? (uint16_t)sp->valueint : 0;
		uint16_t dport = cJSON_IsNumber(dp) ? (uint16_t)dp->valueint : 0;
		const char *want = cJSON_GetObjectItem(e, "communityid")->valuestring;
		const char *got = cid(seed, (uint8_t)cJSON_GetObjectItem(e, "proto")->valueint,
				      cJSON_GetObjectItem(e, "saddr")->valuestring, sport,
				      cJSON_GetObjectItem(e, "daddr")->valuestring, dport, hex);

		if (strcmp(got, want) != 0)
			fail_msg("%s entry %zu (proto %d %s %u -> %s %u): got %s, want %s", name, checked,
				 cJSON_GetObjectItem(e, "proto")->valueint, cJSON_GetObjectItem(e, "saddr")->valuestring,
				 sport, cJSON_GetObjectItem(e, "daddr")->valuestring, dport, got, want);
		checked++;
	}
	cJSON_Delete(doc);
	return checked;
}

static void test_baselines(void **state)
{
	(void)state;
	assert_true(check_baseline("baseline_deflt.json", 0, false) >= 20);
	assert_true(check_baseline("baseline_seed1.json", 1, false) >= 20);
	assert_true(check_baseline("baseline_nob64.json", 0, true) >= 20);
}

/* A flow's ID: from its key, for ICMP from its first header and who sent it. */
static void test_flow(void **state)
{
	struct flow f;
	ng_addr x, y;
	bool swapped;
	char buf[COMMUNITYID_LEN], hex[COMMUNITYID_HEX_LEN];

	(void)state;
	memset(&f, 0, sizeof f);
	addr_parse("66.35.250.204", &x);
	addr_parse("128.232.110.120", &y);
	flow_key_make(&f.key, NG_PROTO_TCP, &x, 80, &y, 34855, &swapped);
	assert_string_equal(communityid_flow(&f, false, buf, sizeof buf), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	communityid_flow(&f, true, hex, sizeof hex);
	assert_int_equal(strlen(hex), COMMUNITYID_HEX_LEN - 1);
	assert_null(strchr(hex, '/'));

	/* The seed is a setting: seed 1 gives the seed-1 baseline's ID of the same tuple. */
	communityid_set_seed(1);
	assert_int_equal(communityid_seed(), 1);
	assert_string_not_equal(communityid_flow(&f, false, buf, sizeof buf), "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	communityid_set_seed(0);

	/* ICMP: the key has no ports; the first header (a reply from .1) decides. */
	memset(&f, 0, sizeof f);
	addr_parse("192.168.0.1", &x);
	addr_parse("192.168.0.89", &y);
	flow_key_make(&f.key, NG_PROTO_ICMP, &x, 0, &y, 0, &swapped);
	f.icmp_set = 1;
	f.icmp_type = 0;
	f.icmp_from_b = swapped;
	assert_string_equal(communityid_flow(&f, false, buf, sizeof buf), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
	/* A one-way type depends on the sender. */
	f.icmp_type = 3;
	f.icmp_code = 1;
	communityid_flow(&f, false, buf, sizeof buf);
	f.icmp_from_b = !swapped;
	communityid_flow(&f, false, hex, sizeof hex);
	assert_string_not_equal(buf, hex);
	assert_string_equal(hex, cid(0, 1, "192.168.0.89", 3, "192.168.0.1", 1, false));
}

/* Reading IDs back: both forms, a '+' that became a space, and what is not an ID. */
static void test_parse(void **state)
{
	static const char *const bad[] = {
		"", "1:", "2:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:LQU9qZlK+B5F3KDmev6m5PMibrg", "1:LQU9qZlK+B5F3KDmev6m5PMibrh=",
		"1:LQU9qZlK+B5F3KDmev6m5PMibr==", "1:2d053da9994af81e45dca0e67afea6e4f3226eb", "1:2d053da9994af81e45dca0e67afea6e4f3226ebg",
		"1:2d053da9994af81e45dca0e67afea6e4f3226eb80", "1:LQU9qZlK+B5F3KDmev6m5PMibrg=x", "1:LQU9qZlK*B5F3KDmev6m5PMibrg=",
	};
	uint8_t a[20], b[20], c[20];

	(void)state;
	assert_int_equal(communityid_parse("1:LQU9qZlK+B5F3KDmev6m5PMibrg=", a), 0);
	assert_int_equal(communityid_parse("1:LQU9qZlK B5F3KDmev6m5PMibrg=", b), 0);
	assert_int_equal(communityid_parse("1:2D053DA9994AF81E45DCA0E67AFEA6E4F3226EB8", c), 0);
	assert_memory_equal(a, b, 20);
	assert_memory_equal(a, c, 20);
	assert_int_equal(a[0], 0x2d);
	assert_int_equal(a[19], 0xb8);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (communityid_parse(bad[i], a) == 0)
			fail_msg("'%s' was read as an ID", bad[i]);
	}
}

/* communityid_put writes the digest's bytes as "%02x" does (hex) and as communityid_format does, into any short buffer. */
static void test_put_and_format(void **state)
{
	uint8_t d[20];
	char got[COMMUNITYID_HEX_LEN + 8], want[COMMUNITYID_HEX_LEN + 8], small[12];
	uint32_t x = 1;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		char *end;
		int n = 2;

		for (int k = 0; k < 20; k++) {
			x = x * 1664525u + 1013904223u;
			d[k] = i < 256 ? (uint8_t)(i ^ k * 37) : (uint8_t)(x >> 24);
		}
		memcpy(want, "1:", 2);
		for (int k = 0; k < 20; k++)
			n += snprintf(want + n, sizeof want - (size_t)n, "%02x", d[k]);
		end = communityid_put(d, true, got);
		*end = '\0';
		assert_string_equal(got, want);
		assert_string_equal(communityid_format(d, true, got, sizeof got), want);
		end = communityid_put(d, false, got);
		assert_int_equal(end - got, COMMUNITYID_LEN - 1);
		*end = '\0';
		assert_string_equal(communityid_format(d, false, want, COMMUNITYID_LEN), got);
		memcpy(want, got, sizeof small - 1);
		want[sizeof small - 1] = '\0';
		assert_string_equal(communityid_format(d, false, small, sizeof small), want);	/* cut as snprintf cuts */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written_vectors),
		cmocka_unit_test(test_baselines),
		cmocka_unit_test(test_flow),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_put_and_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
