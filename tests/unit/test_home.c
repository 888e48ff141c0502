/* SPDX-License-Identifier: BSD-2-Clause */
/* test_home.c: the home point: --home parsing, ISO 6709, time zone discovery and zone1970.tab lookups. */
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

#include "geoip.h"
#include "home.h"
#include "util.h"

static char tmpdir[256];

static void write_file(const char *rel, const char *text);
static const char *tmp_path(const char *rel);
static int setup_tree(void **state);
static int teardown_tree(void **state);
static void sys_for_tree(struct home_sys *sys);
static const char *testdata(const char *rel);

/* The checkout's tests/data: the Makefile compiles in its absolute path; else relative to the checkout root. */
#ifndef NG_TESTDATA_DIR
#define NG_TESTDATA_DIR "tests/data"
#endif

/* A file in the test data ($NG_TESTDATA, else the checkout's tests/data). */
static const char *testdata(const char *rel)
{
	static char buf[512];
	const char *dir = getenv("NG_TESTDATA");

	snprintf(buf, sizeof buf, "%s/%s", dir != NULL && dir[0] != '\0' ? dir : NG_TESTDATA_DIR, rel);
	return buf;
}

/* A path inside the scratch tree (static buffer, rotated so two may be live). */
static const char *tmp_path(const char *rel)
{
	static char buf[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, rel);
	return buf[k];
}

/* Create a file (and its directories) in the scratch tree. */
static void write_file(const char *rel, const char *text)
{
	char path[512], *slash;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
	for (slash = strchr(path + strlen(tmpdir) + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/*
 * A fake zoneinfo tree: zone1970.tab with good and malformed lines, a
 * zone.tab holding a zone the first lacks, zone files with distinct bytes,
 * a symlinked link name and a copy.
 */
static int setup_tree(void **state)
{
	char longline[3000];

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_home.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	memset(longline, 'x', sizeof longline - 1);
	longline[sizeof longline - 1] = '\0';
	write_file("zoneinfo/zone1970.tab",
		   "# tzdb timezone descriptions\n"
		   "#codes\tcoordinates\tTZ\tcomments\n"
		   "JP,AU\t+353916+1394441\tAsia/Tokyo\tEyre Bird Observatory\n"
		   "\n"
		   "XX\tgarbage\tBad/Coords\n"
		   "XX\t+9100+00000\tBad/Latitude\n"
		   "XX\t+3560+00000\tBad/Minutes\n"
		   "XX\t+3539\n"
		   "just one field\n"
		   "XX\t\t\t\n"
		   "AU\t-3352+15113\tAustralia/Sydney\tNew South Wales (most areas)\r\n"
		   "IN\t+2232+08822\tAsia/Kolkata\n");
	/* An overlong line whose tail looks like a valid entry must not be read as one. */
	{
		FILE *f = fopen(tmp_path("zoneinfo/zone1970.tab"), "a");

		assert_non_null(f);
		fputs(longline, f);
		fputs("\t+1000+01000\tFake/Tail\n", f);
		memset(longline, 'y', 2000);
		longline[2000] = '\0';
		fprintf(f, "%s\t+1000+01000\tFake/Long\n", longline);
		fclose(f);
	}
	write_file("zoneinfo/zone.tab", "NL\t+5222+00454\tEurope/Amsterdam\n");
	write_file("zoneinfo/Asia/Tokyo", "TZif-tokyo\n");
	write_file("zoneinfo/Asia/Kolkata", "TZif-kolkata\n");
	write_file("zoneinfo/Australia/Sydney", "TZif-sydney\n");
	write_file("zoneinfo/Europe/Amsterdam", "TZif-amsterdam\n");
	write_file("zoneinfo/Etc/UTC", "TZif-utc\n");
	write_file("zoneinfo/Japan2", "TZif-tokyo\n");	/* a copy (as a hard link would be) */
	if (symlink("Kolkata", tmp_path("zoneinfo/Asia/Calcutta")) == -1)
		return -1;
	if (symlink("../../../etc/passwd", tmp_path("zoneinfo/Asia/Escape")) == -1)
		return -1;
	write_file("etc/timezone", "Australia/Sydney\n");
	write_file("etc/localtime.copy", "TZif-sydney\n");
	if (symlink(tmp_path("zoneinfo/Asia/Tokyo"), tmp_path("etc/localtime")) == -1)
		return -1;
	if (symlink("../zoneinfo/posix/Asia/Kolkata", tmp_path("etc/localtime.rel")) == -1)
		return -1;
	return 0;
}

/* Remove the scratch tree. */
static int teardown_tree(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Settings pointing into the scratch tree, with no $TZ. */
static void sys_for_tree(struct home_sys *sys)
{
	static char lt[512], tzf[512], zi[512];

	snprintf(lt, sizeof lt, "%s/etc/localtime", tmpdir);
	snprintf(tzf, sizeof tzf, "%s/etc/timezone", tmpdir);
	snprintf(zi, sizeof zi, "%s/zoneinfo", tmpdir);
	sys->tz = NULL;
	sys->localtime = lt;
	sys->timezone = tzf;
	sys->zoneinfo = zi;
}

static void test_parse_latlon(void **state)
{
	double lat, lon;
	const char *bad[] = {"", "35.6", "35.6,", ",139", "91,0", "-90.0001,0", "0,180.5", "0,-181", "nan,0", "inf,0",
			     "0x10,0", "1e1,0", "35.6;139.7", "35.6,139.7x", "35..6,139", "+,1", "35.6 139.7"};

	(void)state;
	assert_int_equal(home_parse_latlon("35.6895,139.6917", &lat, &lon), 0);
	assert_true(lat == 35.6895 && lon == 139.6917);
	assert_int_equal(home_parse_latlon(" -33.8688 , 151.209 ", &lat, &lon), 0);
	assert_true(lat == -33.8688 && lon == 151.209);
	assert_int_equal(home_parse_latlon("90,-180", &lat, &lon), 0);
	assert_int_equal(home_parse_latlon("+0,0.", &lat, &lon), 0);
	for (size_t i = 0; i < NG_ARRAY_LEN(bad); i++)
		assert_int_equal(home_parse_latlon(bad[i], &lat, &lon), -1);
}

static void test_iso6709(void **state)
{
	double lat, lon;
	const char *bad[] = {"", "+35+139", "3539+13944", "+3539", "+3539+1394", "+3539+13944x", "+3560+13900",
			     "+3539+13960", "+9100+00000", "+0000+18100", "+35391+139441", "+353916+13944411",
			     "-3352-", "+3539-13944-"};

	(void)state;
	assert_int_equal(home_parse_iso6709("+3539+13944", &lat, &lon), 0);
	assert_float_equal(lat, 35.65, 1e-9);
	assert_float_equal(lon, 139.733333333, 1e-6);
	assert_int_equal(home_parse_iso6709("+353916+1394441", &lat, &lon), 0);
	assert_float_equal(lat, 35 + 39 / 60.0 + 16 / 3600.0, 1e-12);
	assert_float_equal(lon, 139 + 44 / 60.0 + 41 / 3600.0, 1e-12);
	assert_int_equal(home_parse_iso6709("-3352+15113", &lat, &lon), 0);
	assert_float_equal(lat, -(33 + 52 / 60.0), 1e-12);
	assert_int_equal(home_parse_iso6709("+9000-18000", &lat, &lon), 0);
	for (size_t i = 0; i < NG_ARRAY_LEN(bad); i++)
		assert_int_equal(home_parse_iso6709(bad[i], &lat, &lon), -1);
}

static void test_zone_coords_fake_tree(void **state)
{
	char canon[128], zi[512];
	const char *tab;
	double lat, lon;

	(void)state;
	snprintf(zi, sizeof zi, "%s/zoneinfo", tmpdir);
	assert_int_equal(home_zone_coords(zi, "Asia/Tokyo", &lat, &lon, canon, sizeof canon, &tab), 0);
	assert_float_equal(lat, 35.654444, 1e-5);
	assert_string_equal(tab, "zone1970.tab");
	assert_string_equal(canon, "Asia/Tokyo");
	/* CRLF line. */
	assert_int_equal(home_zone_coords(zi, "Australia/Sydney", &lat, &lon, canon, sizeof canon, &tab), 0);
	assert_float_equal(lon, 151 + 13 / 60.0, 1e-9);
	/* Only in zone.tab. */
	assert_int_equal(home_zone_coords(zi, "Europe/Amsterdam", &lat, &lon, canon, sizeof canon, &tab), 0);
	assert_string_equal(tab, "zone.tab");
	/* A symlinked link name and a copied zone file. */
	assert_int_equal(home_zone_coords(zi, "Asia/Calcutta", &lat, &lon, canon, sizeof canon, &tab), 0);
	assert_string_equal(canon, "Asia/Kolkata");
	assert_int_equal(home_zone_coords(zi, "Japan2", &lat, &lon, canon, sizeof canon, &tab), 0);
	assert_string_equal(canon, "Asia/Tokyo");
	/* Malformed rows are never answers; names that could escape are refused. */
	const char *none[] = {"Bad/Coords", "Bad/Latitude", "Bad/Minutes", "Fake/Tail", "Fake/Long", "Etc/UTC",
			      "No/Such", "../zoneinfo/Asia/Tokyo", "/etc/passwd", "Asia/Escape", ""};
	for (size_t i = 0; i < NG_ARRAY_LEN(none); i++)
		assert_int_equal(home_zone_coords(zi, none[i], &lat, &lon, canon, sizeof canon, &tab), -1);
}

static void test_system_zone_sources(void **state)
{
	struct home_sys sys;
	char zone[128], how[128];

	(void)state;
	sys_for_tree(&sys);
	/* /etc/localtime symlink first. */
	assert_int_equal(home_system_zone(&sys, zone, sizeof zone, how, sizeof how), 0);
	assert_string_equal(zone, "Asia/Tokyo");
	/* $TZ wins when it names a zone file; a POSIX rule or a missing zone falls through. */
	sys.tz = ":Asia/Kolkata";
	assert_int_equal(home_system_zone(&sys, zone, sizeof zone, how, sizeof how), 0);
	assert_string_equal(zone, "Asia/Kolkata");
	assert_string_equal(how, "$TZ");
	sys.tz = "Australia/Sydney";
	assert_int_equal(home_system_zone(&sys, zone, sizeof zone, how, sizeof how), 0);
	assert_string_equal(zone, "Australia/Sydney");
	sys.tz = tmp_path("zoneinfo/Europe/Amsterdam");
	assert_int_equal(home_system_zone(&sys, zone, sizeof zone, how, sizeof how), 0);
	assert_string_equal(zone, "Europe/Amsterdam");
	sys.tz = "JST-9";
	assert_int_equal(home_system_zone(&sys, zone, sizeof zone, how, sizeof how), 0);
	assert_string_equal(zone, "Asia/Tokyo");
	sys.tz = "../../etc/passwd";
	assert_int_equal(home_system_zone(&sys, zone, sizeof zone, how, sizeof how), 0);
	assert_string_equal(zone, "Asia/Tokyo");
	sys.tz = NULL;
	/* A relative symlink through posix/. */
	sys.localtime = tmp_path("etc/localtime.rel");
	assert_int_equal(home_system_zone(&sys, zone, sizeof zone, how, sizeof how), 0);
	assert_string_equal(zone, "Asia/Kolkata");
	/* A copied /etc/localtime: /etc/timezone first, then the bytes. */
	sys.localtime = tmp_path("etc/localtime.copy");
	assert_int_equal(home_system_zone(&sys, zone, sizeof zone, how, sizeof how), 0);
	assert_string_equal(zone, "Australia/Sydney");
	assert_string_equal(how, tmp_path("etc/timezone"));
	sys.timezone = tmp_path("etc/no-such-file");
	assert_int_equal(home_system_zone(&sys, zone, sizeof zone, how, sizeof how), 0);
	assert_string_equal(zone, "Australia/Sydney");
	assert_non_null(strstr(how, "content"));
	/* Nothing at all. */
	sys.localtime = tmp_path("etc/no-such-file");
	assert_int_equal(home_system_zone(&sys, zone, sizeof zone, how, sizeof how), -1);
}

static void test_resolve_order_and_errors(void **state)
{
	struct home_sys sys;
	struct home h;
	char err[256];

	(void)state;
	sys_for_tree(&sys);
	/* Default: the time zone. */
	assert_int_equal(home_resolve_sys(NULL, NULL, NULL, &sys, &h, err, sizeof err), 0);
	assert_true(h.known);
	assert_true(h.lat == 35.6544 && h.lon == 139.7447);
	assert_string_equal(h.source, "time zone Asia/Tokyo (zone1970.tab)");
	/* A link name says what it resolved to. */
	sys.tz = "Asia/Calcutta";
	assert_int_equal(home_resolve_sys(NULL, NULL, NULL, &sys, &h, err, sizeof err), 0);
	assert_string_equal(h.source, "time zone Asia/Calcutta = Asia/Kolkata (zone1970.tab)");
	/* UTC has no city: 0,0, not known, and the source says so. */
	sys.tz = "Etc/UTC";
	assert_int_equal(home_resolve_sys(NULL, NULL, NULL, &sys, &h, err, sizeof err), 0);
	assert_false(h.known);
	assert_true(h.lat == 0 && h.lon == 0);
	assert_non_null(strstr(h.source, "Etc/UTC has no city"));
	/* --home wins and is rounded. */
	assert_int_equal(home_resolve_sys("51.50735,-0.12776", NULL, NULL, &sys, &h, err, sizeof err), 0);
	assert_true(h.known && h.lat == 51.5074 && h.lon == -0.1278);
	assert_string_equal(h.source, "--home");
	assert_int_equal(home_resolve_sys("51.5", NULL, NULL, &sys, &h, err, sizeof err), -1);
	assert_non_null(strstr(err, "--home 51.5"));
	assert_int_equal(home_resolve_sys("1,2", "81.2.69.142", NULL, &sys, &h, err, sizeof err), -1);
	assert_non_null(strstr(err, "not both"));
	/* --home-ip without a database, with a private or bad address. */
	assert_int_equal(home_resolve_sys(NULL, "81.2.69.142", NULL, &sys, &h, err, sizeof err), -1);
	assert_non_null(strstr(err, "needs a GeoIP database"));
	assert_int_equal(home_resolve_sys(NULL, "192.168.1.1", NULL, &sys, &h, err, sizeof err), -1);
	assert_non_null(strstr(err, "lan address"));
	assert_int_equal(home_resolve_sys(NULL, "not-an-ip", NULL, &sys, &h, err, sizeof err), -1);
	assert_non_null(strstr(err, "not an IP address"));
}

static void test_home_ip(void **state)
{
	struct geoip_options o;
	struct geoip *g;
	struct home_sys sys;
	struct home h;
	char err[512];

	(void)state;
	memset(&o, 0, sizeof o);
	o.city[0] = testdata("mmdb/GeoIP2-City-Test.mmdb");
	o.ncity = 1;
	if ((g = geoip_open(&o, err, sizeof err)) == NULL) {
		print_message("skipped: %s\n", err);
		skip();
	}
	sys_for_tree(&sys);
	assert_int_equal(home_resolve_sys(NULL, "81.2.69.142", g, &sys, &h, err, sizeof err), 0);
	assert_true(h.known && h.lat == 51.5142 && h.lon == -0.0931);
	assert_string_equal(h.source, "--home-ip 81.2.69.142 (London, GB)");
	assert_int_equal(home_resolve_sys(NULL, "2001:218::1", g, &sys, &h, err, sizeof err), 0);
	assert_string_equal(h.source, "--home-ip 2001:218::1 (JP)");
	assert_int_equal(home_resolve_sys(NULL, "8.8.8.8", g, &sys, &h, err, sizeof err), -1);
	assert_non_null(strstr(err, "no location"));
	geoip_close(g);
}

static void test_real_zones(void **state)
{
	struct home_sys sys;
	char canon[128];
	const char *tab;
	double lat, lon;
	struct home h;
	char err[256];

	(void)state;
	home_sys_default(&sys);
	if (access("/usr/share/zoneinfo/zone1970.tab", R_OK) != 0) {
		print_message("skipped: no /usr/share/zoneinfo/zone1970.tab (package tzdata)\n");
		skip();
	}
	sys.zoneinfo = "/usr/share/zoneinfo";
	assert_int_equal(home_zone_coords(sys.zoneinfo, "Asia/Tokyo", &lat, &lon, canon, sizeof canon, &tab), 0);
	assert_float_equal(lat, 35.6544, 1e-4);
	assert_float_equal(lon, 139.7447, 1e-4);
	assert_int_equal(home_zone_coords(sys.zoneinfo, "Europe/London", &lat, &lon, canon, sizeof canon, &tab), 0);
	assert_float_equal(lat, 51.5083, 1e-3);
	assert_int_equal(home_zone_coords(sys.zoneinfo, "America/New_York", &lat, &lon, canon, sizeof canon, &tab), 0);
	assert_float_equal(lon, -74.0064, 1e-3);
	assert_int_equal(home_zone_coords(sys.zoneinfo, "Australia/Sydney", &lat, &lon, canon, sizeof canon, &tab), 0);
	assert_true(lat < -33 && lat > -34);
	/* Backward link names. */
	assert_int_equal(home_zone_coords(sys.zoneinfo, "Asia/Calcutta", &lat, &lon, canon, sizeof canon, &tab), 0);
	assert_string_equal(canon, "Asia/Kolkata");
	assert_int_equal(home_zone_coords(sys.zoneinfo, "Japan", &lat, &lon, canon, sizeof canon, &tab), 0);
	assert_string_equal(canon, "Asia/Tokyo");
	assert_int_equal(home_zone_coords(sys.zoneinfo, "Etc/UTC", &lat, &lon, canon, sizeof canon, &tab), -1);
	/* Through $TZ as a user would set it. */
	sys.tz = ":Asia/Tokyo";
	assert_int_equal(home_resolve_sys(NULL, NULL, NULL, &sys, &h, err, sizeof err), 0);
	assert_true(h.lat == 35.6544 && h.lon == 139.7447);
	assert_string_equal(h.source, "time zone Asia/Tokyo (zone1970.tab)");
	/* And whatever this machine says never fails. */
	assert_int_equal(home_resolve(NULL, NULL, NULL, &h, err, sizeof err), 0);
	print_message("this machine: %.4f,%.4f from %s\n", h.lat, h.lon, h.source);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_latlon),
		cmocka_unit_test(test_iso6709),
		cmocka_unit_test(test_zone_coords_fake_tree),
		cmocka_unit_test(test_system_zone_sources),
		cmocka_unit_test(test_resolve_order_and_errors),
		cmocka_unit_test(test_home_ip),
		cmocka_unit_test(test_real_zones),
	};

	return cmocka_run_group_tests(tests, setup_tree, teardown_tree);
}
