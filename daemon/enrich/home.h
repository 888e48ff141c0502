/* SPDX-License-Identifier: BSD-2-Clause */
/* home.h: the globe's home point: --home LAT,LON, --home-ip ADDR, or the system time zone's principal city. */
#ifndef NG_HOME_H
#define NG_HOME_H

#include <stdbool.h>
#include <stddef.h>

struct geoip;

/* Where home is and how we know. */
struct home {
	double lat, lon;	/* degrees, rounded to 4 decimals */
	bool known;		/* false: nothing said where home is, so 0,0 */
	char source[128];	/* "--home", "--home-ip 1.2.3.4 (Tokyo, JP)", "time zone Asia/Tokyo (zone1970.tab)" */
};

/*
 * Work out home, in this order:
 *   1. --home LAT,LON (home_latlon, decimal degrees, e.g. "35.65,139.74");
 *   2. --home-ip ADDR (home_ip, the host's public address) looked up in g;
 *   3. the system time zone (see home_system_zone) and its principal city in
 *      zone1970.tab (zone.tab when zone1970.tab lacks it);
 *   4. 0,0 with known = false and a source saying why ("time zone Etc/UTC
 *      has no city (use --home LAT,LON)").
 * home_latlon, home_ip and g may be NULL. Returns 0, or -1 with one line in
 * err for a bad --home, a --home-ip the database cannot place, or both
 * options at once; the system fallback itself never fails.
 */
int home_resolve(const char *home_latlon, const char *home_ip, struct geoip *g, struct home *out, char *err,
		 size_t errlen);

/* Where the time zone settings live; home_sys_default fills in the real system's. */
struct home_sys {
	const char *tz;		/* the value of $TZ, NULL when unset */
	const char *localtime;	/* /etc/localtime */
	const char *timezone;	/* /etc/timezone (Debian) */
	const char *zoneinfo;	/* $TZDIR or /usr/share/zoneinfo */
};

/* This process's settings: getenv("TZ"), /etc/localtime, /etc/timezone, $TZDIR or /usr/share/zoneinfo. */
void home_sys_default(struct home_sys *sys);
/* home_resolve against the given settings (for tests). */
int home_resolve_sys(const char *home_latlon, const char *home_ip, struct geoip *g, const struct home_sys *sys,
		     struct home *out, char *err, size_t errlen);

/* Parse "LAT,LON" in decimal degrees (spaces allowed after the comma); 0 or -1. */
int home_parse_latlon(const char *s, double *lat, double *lon);
/* Parse ISO 6709 "+DDMM+DDDMM" or "+DDMMSS+DDDMMSS" as zone1970.tab writes it; 0 or -1. */
int home_parse_iso6709(const char *s, double *lat, double *lon);
/*
 * Name the system time zone ("Asia/Tokyo"): $TZ when it names a zone file,
 * else the target of the /etc/localtime symlink below a zoneinfo directory,
 * else /etc/timezone, else the zone whose file has the same bytes as
 * /etc/localtime. Writes where the name came from into how. 0 or -1.
 */
int home_system_zone(const struct home_sys *sys, char *zone, size_t len, char *how, size_t howlen);
/*
 * Coordinates of a zone's principal city from zoneinfo/zone1970.tab, else
 * zone.tab; a link name (Asia/Calcutta) is followed to its zone. Writes
 * the table's name into tab and the canonical zone into canon. 0 or -1.
 */
int home_zone_coords(const char *zoneinfo, const char *zone, double *lat, double *lon, char *canon, size_t canonlen,
		     const char **tab);

#endif
