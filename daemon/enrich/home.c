/* SPDX-License-Identifier: BSD-2-Clause */
/* home.c: find the globe's home point from the command line, the GeoIP database, or the system time zone. */
#include "home.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "platform.h"

#include "addr.h"
#include "geoip.h"
#include "util.h"

/*
 * DESIGN. Most machines never say where they are, but nearly all say which
 * time zone they keep, and the tz database names a principal city for every
 * zone with its coordinates (zone1970.tab, ISO 6709). That is close enough
 * to draw home on a globe, needs no network and no database, and is right
 * for the common case of a laptop in its owner's zone. The zone name comes
 * from where Linux systems keep it; when only a copy of the zone file is
 * there, the copy is matched byte for byte against the zones listed in the
 * table. Every file read here may be malformed: lines that do not parse are
 * skipped, names that could escape the zoneinfo directory are refused.
 */

#define HOME_ZONEMAX 128	/* longest zone name accepted */
#define HOME_FILEMAX 65536	/* zone files are a few KB */
#define HOME_LINEMAX 1024

static double home_round4(double x);
static int home_parse_decimal(const char *s, const char **end, double *out);
static int home_parse_dms(const char **p, int degdigits, double max, double *out);
static bool home_zone_name_ok(const char *zone);
static const char *home_zone_from_path(const char *path);
static int home_tab_find(const char *path, const char *zone, double *lat, double *lon);
static int home_tab_match_file(const char *zoneinfo, const char *tab, const char *file, char *zone, size_t len);
static bool home_same_bytes(const char *a, size_t alen, const char *path);

/* Round to 4 decimals, as GeoIP coordinates are. */
static double home_round4(double x)
{
	return round(x * 10000.0) / 10000.0;
}

/*
 * Parse an optionally signed plain decimal number ("-33.8688"): no
 * exponent, no hex, no inf/nan, which strtod would all take. 0 or -1.
 */
static int home_parse_decimal(const char *s, const char **end, double *out)
{
	const char *p = s;
	size_t digits = 0;
	char buf[64];
	bool dot = false;

	if (*p == '+' || *p == '-')
		p++;
	for (; (*p >= '0' && *p <= '9') || (*p == '.' && !dot); p++) {
		if (*p == '.')
			dot = true;
		else
			digits++;
	}
	if (digits == 0 || (size_t)(p - s) >= sizeof buf)
		return -1;
	memcpy(buf, s, (size_t)(p - s));
	buf[p - s] = '\0';
	*out = strtod(buf, NULL);
	*end = p;
	return 0;
}

/* Parse "LAT,LON" in decimal degrees. */
int home_parse_latlon(const char *s, double *lat, double *lon)
{
	const char *p;
	double a, b;

	while (*s == ' ')
		s++;
	if (home_parse_decimal(s, &p, &a) == -1)
		return -1;
	while (*p == ' ')
		p++;
	if (*p++ != ',')
		return -1;
	while (*p == ' ')
		p++;
	if (home_parse_decimal(p, &p, &b) == -1)
		return -1;
	while (*p == ' ')
		p++;
	if (*p != '\0' || a < -90 || a > 90 || b < -180 || b > 180)
		return -1;
	*lat = a;
	*lon = b;
	return 0;
}

/* One ISO 6709 component: sign, degdigits of degrees, MM, optional SS. Advances *p. */
static int home_parse_dms(const char **p, int degdigits, double max, double *out)
{
	const char *s = *p;
	int sign, n = 0, deg = 0, min, sec = 0;

	if (*s != '+' && *s != '-')
		return -1;
	sign = *s++ == '-' ? -1 : 1;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n != degdigits + 2 && n != degdigits + 4)
		return -1;
	for (int i = 0; i < degdigits; i++)
		deg = deg * 10 + (s[i] - '0');
	min = (s[degdigits] - '0') * 10 + (s[degdigits + 1] - '0');
	if (n == degdigits + 4)
		sec = (s[degdigits + 2] - '0') * 10 + (s[degdigits + 3] - '0');
	if (min >= 60 || sec >= 60)
		return -1;
	*out = sign * (deg + min / 60.0 + sec / 3600.0);
	if (fabs(*out) > max)
		return -1;
	*p = s + n;
	return 0;
}

/* Parse ISO 6709 "+DDMM+DDDMM" or "+DDMMSS+DDDMMSS" (the form zone1970.tab uses). */
int home_parse_iso6709(const char *s, double *lat, double *lon)
{
	double a, b;

	if (home_parse_dms(&s, 2, 90, &a) == -1 || home_parse_dms(&s, 3, 180, &b) == -1 || *s != '\0')
		return -1;
	*lat = a;
	*lon = b;
	return 0;
}

/* True for a zone name that stays inside the zoneinfo directory: "Asia/Tokyo", "Etc/GMT+5", "UTC". */
static bool home_zone_name_ok(const char *zone)
{
	size_t n = strlen(zone);

	if (n == 0 || n >= HOME_ZONEMAX || zone[0] == '/' || zone[0] == '.' || strstr(zone, "..") != NULL ||
	    strstr(zone, "/.") != NULL)
		return false;
	for (const char *p = zone; *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '/' ||
		      *p == '_' || *p == '-' || *p == '+' || *p == '.'))
			return false;
	}
	return true;
}

/* The zone part of a path into a zoneinfo tree ("/usr/share/zoneinfo/posix/Asia/Tokyo" -> "Asia/Tokyo"), or NULL. */
static const char *home_zone_from_path(const char *path)
{
	const char *p = NULL, *q = path;

	while ((q = strstr(q, "zoneinfo/")) != NULL) {
		p = q + strlen("zoneinfo/");
		q = p;
	}
	if (p == NULL)
		return NULL;
	if (strncmp(p, "posix/", 6) == 0)
		p += 6;
	else if (strncmp(p, "right/", 6) == 0)
		p += 6;
	return p;
}

/* Look a zone up in one table file (zone1970.tab or zone.tab layout); 0 when found. */
static int home_tab_find(const char *path, const char *zone, double *lat, double *lon)
{
	char line[HOME_LINEMAX];
	FILE *f = fopen(path, "r");
	int rc = -1;
	bool longline = false;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		char *field[3], *save = NULL;
		size_t n = strlen(line);
		bool was_long = longline;
		int nf = 0;

		/* A line too long for the buffer is skipped whole. */
		longline = n > 0 && line[n - 1] != '\n' && !feof(f);
		if (was_long || longline || line[0] == '#')
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		for (char *t = strtok_r(line, "\t", &save); t != NULL && nf < 3; t = strtok_r(NULL, "\t", &save))
			field[nf++] = t;
		if (nf < 3 || strcmp(field[2], zone) != 0)
			continue;
		if (home_parse_iso6709(field[1], lat, lon) == 0) {
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* True when the file at path holds exactly the bytes a[0..alen). */
static bool home_same_bytes(const char *a, size_t alen, const char *path)
{
	size_t blen;
	char *b = file_read_all(path, HOME_FILEMAX, &blen);
	bool same = b != NULL && blen == alen && memcmp(a, b, alen) == 0;

	free(b);
	return same;
}

/* Find the zone in table tab whose zone file has the same bytes as file; 0 and its name, or -1. */
static int home_tab_match_file(const char *zoneinfo, const char *tab, const char *file, char *zone, size_t len)
{
	char line[HOME_LINEMAX], path[PATH_MAX], tabpath[PATH_MAX];
	size_t alen;
	char *a;
	FILE *f;
	int rc = -1;
	bool longline = false;

	if ((a = file_read_all(file, HOME_FILEMAX, &alen)) == NULL)
		return -1;
	snprintf(tabpath, sizeof tabpath, "%s/%s", zoneinfo, tab);
	if ((f = fopen(tabpath, "r")) == NULL) {
		free(a);
		return -1;
	}
	while (rc == -1 && fgets(line, sizeof line, f) != NULL) {
		char *field[3], *save = NULL;
		size_t n = strlen(line);
		bool was_long = longline;
		int nf = 0;

		longline = n > 0 && line[n - 1] != '\n' && !feof(f);
		if (was_long || longline || line[0] == '#')
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		for (char *t = strtok_r(line, "\t", &save); t != NULL && nf < 3; t = strtok_r(NULL, "\t", &save))
			field[nf++] = t;
		if (nf < 3 || !home_zone_name_ok(field[2]))
			continue;
		if (snprintf(path, sizeof path, "%s/%s", zoneinfo, field[2]) >= (int)sizeof path)
			continue;
		if (home_same_bytes(a, alen, path) && strlen(field[2]) < len) {
			memcpy(zone, field[2], strlen(field[2]) + 1);
			rc = 0;
		}
	}
	fclose(f);
	free(a);
	return rc;
}

/* The real system's settings. */
void home_sys_default(struct home_sys *sys)
{
	const char *tzdir = getenv("TZDIR");

	sys->tz = getenv("TZ");
	sys->localtime = "/etc/localtime";
	sys->timezone = "/etc/timezone";
	sys->zoneinfo = tzdir != NULL && tzdir[0] == '/' ? tzdir : "/usr/share/zoneinfo";
}

/* Name the system time zone (see home.h for the order). */
int home_system_zone(const struct home_sys *sys, char *zone, size_t len, char *how, size_t howlen)
{
	char target[PATH_MAX], path[PATH_MAX], line[HOME_LINEMAX];
	const char *name;
	struct stat st;
	ssize_t n;
	FILE *f;

	/* $TZ: ":Asia/Tokyo", "Asia/Tokyo", or a path into a zoneinfo tree; POSIX rules like "JST-9" name no city. */
	if (sys->tz != NULL && sys->tz[0] != '\0') {
		name = sys->tz[0] == ':' ? sys->tz + 1 : sys->tz;
		if (name[0] == '/')
			name = home_zone_from_path(name);
		if (name != NULL && home_zone_name_ok(name) && strlen(name) < len &&
		    snprintf(path, sizeof path, "%s/%s", sys->zoneinfo, name) < (int)sizeof path &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			memcpy(zone, name, strlen(name) + 1);
			snprintf(how, howlen, "$TZ");
			return 0;
		}
	}
	/* /etc/localtime -> /usr/share/zoneinfo/Asia/Tokyo (or ../usr/share/zoneinfo/..., or posix/...). */
	if (sys->localtime != NULL && (n = readlink(sys->localtime, target, sizeof target - 1)) > 0) {
		target[n] = '\0';
		name = home_zone_from_path(target);
		if (name != NULL && home_zone_name_ok(name) && strlen(name) < len) {
			memcpy(zone, name, strlen(name) + 1);
			snprintf(how, howlen, "%s", sys->localtime);
			return 0;
		}
	}
	/* Debian's /etc/timezone: one line, the zone name. */
	if (sys->timezone != NULL && (f = fopen(sys->timezone, "r")) != NULL) {
		bool got = fgets(line, sizeof line, f) != NULL;

		fclose(f);
		if (got) {
			line[strcspn(line, " \t\r\n")] = '\0';
			if (home_zone_name_ok(line) && strlen(line) < len) {
				memcpy(zone, line, strlen(line) + 1);
				snprintf(how, howlen, "%s", sys->timezone);
				return 0;
			}
		}
	}
	/* A copied /etc/localtime: find the listed zone with the same bytes. */
	if (sys->localtime != NULL &&
	    (home_tab_match_file(sys->zoneinfo, "zone1970.tab", sys->localtime, zone, len) == 0 ||
	     home_tab_match_file(sys->zoneinfo, "zone.tab", sys->localtime, zone, len) == 0)) {
		snprintf(how, howlen, "%s content", sys->localtime);
		return 0;
	}
	return -1;
}

/* Coordinates of a zone's principal city (see home.h). */
int home_zone_coords(const char *zoneinfo, const char *zone, double *lat, double *lon, char *canon, size_t canonlen,
		     const char **tab)
{
	static const char *const tabs[] = {"zone1970.tab", "zone.tab"};
	char path[PATH_MAX], real[PATH_MAX], realdir[PATH_MAX];
	const char *name = zone;

	if (!home_zone_name_ok(zone))
		return -1;
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < NG_ARRAY_LEN(tabs); i++) {
			snprintf(path, sizeof path, "%s/%s", zoneinfo, tabs[i]);
			if (home_tab_find(path, name, lat, lon) == 0) {
				snprintf(canon, canonlen, "%s", name);
				*tab = tabs[i];
				return 0;
			}
		}
		if (pass == 0) {
			/* A link name (Asia/Calcutta -> Kolkata, Japan -> Asia/Tokyo): follow it inside zoneinfo. */
			size_t dn;

			if (snprintf(path, sizeof path, "%s/%s", zoneinfo, zone) >= (int)sizeof path ||
			    realpath(path, real) == NULL || realpath(zoneinfo, realdir) == NULL)
				continue;
			dn = strlen(realdir);
			if (strncmp(real, realdir, dn) != 0 || real[dn] != '/' || !home_zone_name_ok(real + dn + 1) ||
			    strcmp(real + dn + 1, zone) == 0)
				continue;
			name = real + dn + 1;
		} else if (pass == 1) {
			/* A hard-linked or copied zone file: match its bytes against the listed zones. */
			if (snprintf(path, sizeof path, "%s/%s", zoneinfo, zone) >= (int)sizeof path ||
			    (home_tab_match_file(zoneinfo, "zone1970.tab", path, real, sizeof real) == -1 &&
			     home_tab_match_file(zoneinfo, "zone.tab", path, real, sizeof real) == -1))
				return -1;
			name = real;
		}
	}
	return -1;
}

/* home_resolve against the real system. */
int home_resolve(const char *home_latlon, const char *home_ip, struct geoip *g, struct home *out, char *err,
		 size_t errlen)
{
	struct home_sys sys;

	home_sys_default(&sys);
	return home_resolve_sys(home_latlon, home_ip, g, &sys, out, err, errlen);
}

/* home_resolve against the given settings. */
int home_resolve_sys(const char *home_latlon, const char *home_ip, struct geoip *g, const struct home_sys *sys,
		     struct home *out, char *err, size_t errlen)
{
	char zone[HOME_ZONEMAX], canon[HOME_ZONEMAX], how[64];
	const char *tab;
	double lat, lon;

	memset(out, 0, sizeof *out);
	if (home_latlon != NULL && home_ip != NULL) {
		snprintf(err, errlen, "give either --home LAT,LON or --home-ip ADDR, not both");
		return -1;
	}
	if (home_latlon != NULL) {
		if (home_parse_latlon(home_latlon, &lat, &lon) == -1) {
			snprintf(err, errlen, "--home %s: expected LAT,LON in decimal degrees, e.g. --home 35.6895,139.6917",
				 home_latlon);
			return -1;
		}
		out->lat = home_round4(lat);
		out->lon = home_round4(lon);
		out->known = true;
		snprintf(out->source, sizeof out->source, "--home");
		return 0;
	}
	if (home_ip != NULL) {
		struct geo_info *info;
		enum ng_scope scope;
		ng_addr a;

		if (addr_parse(home_ip, &a) == -1) {
			snprintf(err, errlen, "--home-ip %s: not an IP address", home_ip);
			return -1;
		}
		if ((scope = addr_scope(&a)) != NG_SCOPE_PUBLIC) {
			snprintf(err, errlen, "--home-ip %s is a %s address; give the host's public address or use --home LAT,LON",
				 home_ip, scope_name(scope));
			return -1;
		}
		if (g == NULL) {
			snprintf(err, errlen, "--home-ip needs a GeoIP database (it is off or missing; use --home LAT,LON)");
			return -1;
		}
		info = geoip_lookup(g, &a);
		if (info == NULL || !info->has_location) {
			geo_info_unref(info);
			snprintf(err, errlen, "--home-ip %s: the GeoIP database has no location for it (use --home LAT,LON)",
				 home_ip);
			return -1;
		}
		out->lat = info->lat;
		out->lon = info->lon;
		out->known = true;
		if (info->city != NULL && info->country[0] != '\0')
			snprintf(out->source, sizeof out->source, "--home-ip %s (%.40s, %s)", home_ip, info->city, info->country);
		else if (info->country[0] != '\0')
			snprintf(out->source, sizeof out->source, "--home-ip %s (%s)", home_ip, info->country);
		else
			snprintf(out->source, sizeof out->source, "--home-ip %s", home_ip);
		geo_info_unref(info);
		return 0;
	}
	if (home_system_zone(sys, zone, sizeof zone, how, sizeof how) == -1) {
		snprintf(out->source, sizeof out->source, "no system time zone found (use --home LAT,LON)");
		return 0;
	}
	if (home_zone_coords(sys->zoneinfo, zone, &lat, &lon, canon, sizeof canon, &tab) == -1) {
		snprintf(out->source, sizeof out->source, "time zone %.60s has no city (use --home LAT,LON)", zone);
		return 0;
	}
	out->lat = home_round4(lat);
	out->lon = home_round4(lon);
	out->known = true;
	if (strcmp(canon, zone) == 0)
		snprintf(out->source, sizeof out->source, "time zone %.60s (%s)", zone, tab);
	else
		snprintf(out->source, sizeof out->source, "time zone %.40s = %.40s (%s)", zone, canon, tab);
	return 0;
}
