/* SPDX-License-Identifier: BSD-2-Clause */
/* test_dnsanom.c: DNS tunnel and DGA detection on hand-made names and on real Zeek DNS logs (Simda DGA, a benign day). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"
#include "dnsanom.h"
#include "regdomain.h"
#include "util.h"

#define SEC NG_USEC
#define T0 (1700000000LL * NG_USEC)

static uint64_t rng_state;

static void rng_seed(uint64_t s)
{
	rng_state = s * 0x9e3779b97f4a7c15ULL + 1;
}

static uint32_t rng_below(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)(((rng_state * 0x2545f4914f6cdd1dULL) >> 32) % n);
}

static int setup(void **state)
{
	char err[256];

	(void)state;
	return regdomain_init(err, sizeof err);
}

static ng_addr addr(const char *s)
{
	ng_addr a;

	if (addr_parse(s, &a) != 0)
		fail_msg("bad address %s", s);
	return a;
}

/* Random base32 (RFC 4648 alphabet, lower case) of n characters into buf. */
static void base32(char *buf, size_t n)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyz234567";

	for (size_t i = 0; i < n; i++)
		buf[i] = al[rng_below(32)];
	buf[n] = '\0';
}

/* 500 random base32 subdomains of t.example.com: a tunnel; other domains are not. */
static void test_tunnel(void **state)
{
	struct dnsanom *da = dnsanom_create(1024);
	ng_addr c = addr("192.0.2.10");
	struct dnsanom_result r;
	char sub[64], name[128], why[256];

	(void)state;
	rng_seed(1);
	for (int i = 0; i < 500; i++) {
		base32(sub, 30 + rng_below(21));
		snprintf(name, sizeof name, "%s.t.example.com", sub);
		dnsanom_response(da, &c, name, 0, T0 + i * SEC);
		if (i == 80) {
			assert_false(dnsanom_check(da, &c, "t.example.com", T0 + i * SEC, &r));
		}
	}
	assert_true(dnsanom_check(da, NULL, "T.Example.COM.", T0 + 600 * SEC, &r));
	assert_true(r.tunnel);
	assert_false(r.dga);
	assert_string_equal(r.regdomain, "example.com");
	assert_in_range(r.unique_subdomains, 450, 550);
	assert_true(r.entropy > 4.0 && r.length > 30);
	dnsanom_reason(&r, why, sizeof why);
	assert_non_null(strstr(why, "unique random subdomains of example.com"));
	/* Another domain, and no client state: nothing. */
	assert_false(dnsanom_check(da, &c, "www.example.org", T0 + 600 * SEC, &r));
	assert_string_equal(r.regdomain, "example.org");
	/* Two quiet hours later the window is empty. */
	assert_false(dnsanom_check(da, &c, "t.example.com", T0 + 3 * 3600 * SEC, &r));
	assert_int_equal(r.unique_subdomains, 0);
	dnsanom_destroy(da);
}

/* Hex payload split over two labels (dnscat2-like) is a tunnel too. */
static void test_tunnel_hex_labels(void **state)
{
	struct dnsanom *da = dnsanom_create(64);
	ng_addr c = addr("2001:db8::5");
	struct dnsanom_result r;
	char name[160];

	(void)state;
	rng_seed(2);
	for (int i = 0; i < 300; i++) {
		char a[33], b[33];

		for (int k = 0; k < 32; k++) {
			a[k] = "0123456789abcdef"[rng_below(16)];
			b[k] = "0123456789abcdef"[rng_below(16)];
		}
		a[32] = b[32] = '\0';
		snprintf(name, sizeof name, "%s.%s.c2.example.net", a, b);
		dnsanom_response(da, &c, name, 0, T0 + i * SEC);
	}
	assert_true(dnsanom_check(da, &c, "c2.example.net", T0 + 300 * SEC, &r));
	assert_true(r.tunnel);
	dnsanom_destroy(da);
}

/* Simda-like names: consonant, vowel, consonant, 'y', consonant, vowel, consonant. */
static void simda_name(char *buf, size_t len)
{
	static const char cons[] = "bcdfghjklmnpqrstvwxz";
	static const char vow[] = "aeiou";
	static const char *const tld[] = {"com", "info", "net"};

	snprintf(buf, len, "%c%c%cy%c%c%c.%s", cons[rng_below(20)], vow[rng_below(5)], cons[rng_below(20)],
		 cons[rng_below(20)], vow[rng_below(5)], cons[rng_below(20)], tld[rng_below(3)]);
}

/* 50 NXDOMAINs for random .com/.info names from one client: a DGA; another client is not. */
static void test_dga(void **state)
{
	struct dnsanom *da = dnsanom_create(1024);
	ng_addr c = addr("192.168.1.116"), other = addr("192.168.1.117");
	struct dnsanom_result r;
	char name[64], why[256];
	int marked = 0;

	(void)state;
	rng_seed(3);
	for (int i = 0; i < 50; i++) {
		simda_name(name, sizeof name);
		dnsanom_response(da, &c, name, 3, T0 + i * SEC / 10);
		if (i < 9)
			assert_false(dnsanom_check(da, &c, name, T0 + i * SEC / 10, &r));
	}
	/* The client is DGA-like: its own verdict (no name) and its generated names say so. */
	assert_true(dnsanom_check(da, &c, NULL, T0 + 10 * SEC, &r));
	assert_true(r.dga);
	rng_seed(3);
	for (int i = 0; i < 50; i++) {
		simda_name(name, sizeof name);
		if (dnsanom_check(da, &c, name, T0 + 10 * SEC, &r) && r.dga)
			marked++;
	}
	printf("generated names marked: %d of 50\n", marked);
	assert_in_range(marked, 25, 50);	/* 30 with this seed: some generated labels read ordinary */
	assert_true(dnsanom_check(da, &c, "c2.qyzvoxj.com", T0 + 10 * SEC, &r));	/* resolves, but reads like them */
	assert_true(r.dga);
	/* Its ordinary lookups and connections are not marked: red would cover the whole host. */
	assert_false(dnsanom_check(da, &c, "www.example.com", T0 + 10 * SEC, &r));
	assert_false(dnsanom_check(da, &c, "en.wikipedia.org", T0 + 10 * SEC, &r));
	assert_false(dnsanom_check(da, &c, "wpad", T0 + 10 * SEC, &r));
	dnsanom_check(da, &c, NULL, T0 + 10 * SEC, &r);
	assert_false(r.tunnel);
	assert_in_range(r.nxdomain, 45, 50);
	assert_true(r.nx_surprisal > 5.1);
	dnsanom_reason(&r, why, sizeof why);
	assert_non_null(strstr(why, "DGA? NXDOMAIN for"));
	assert_false(dnsanom_check(da, &other, "www.example.com", T0 + 10 * SEC, &r));
	/* The same answers as NOERROR do not count toward a DGA. */
	dnsanom_destroy(da);
	da = dnsanom_create(1024);
	rng_seed(3);
	for (int i = 0; i < 50; i++) {
		simda_name(name, sizeof name);
		dnsanom_response(da, &c, name, 0, T0 + i * SEC / 10);
	}
	assert_false(dnsanom_check(da, &c, "x.com", T0 + 10 * SEC, &r));
	dnsanom_destroy(da);
}

/* CDN names (a few dozen unique short ones), DNS-SD, reverse lookups and mDNS: no tunnel. */
static void test_benign_patterns(void **state)
{
	struct dnsanom *da = dnsanom_create(1024);
	ng_addr c = addr("10.0.0.2");
	struct dnsanom_result r;
	char name[128];

	(void)state;
	rng_seed(4);
	for (int i = 0; i < 48; i++) {
		snprintf(name, sizeof name, "e%u.a.akamaiedge.net", 1000 + rng_below(9000));
		dnsanom_response(da, &c, name, 0, T0 + i * SEC);
	}
	assert_false(dnsanom_check(da, &c, "e1234.a.akamaiedge.net", T0 + 60 * SEC, &r));
	assert_true(r.unique_subdomains > 30);
	for (int i = 0; i < 400; i++) {
		snprintf(name, sizeof name, "%u.%u.%u.10.in-addr.arpa", rng_below(256), rng_below(256), rng_below(256));
		dnsanom_response(da, &c, name, 3, T0 + i * SEC);
		snprintf(name, sizeof name, "host-%08x%08x.local", rng_below(UINT32_MAX), rng_below(UINT32_MAX));
		dnsanom_response(da, &c, name, 3, T0 + i * SEC);
		snprintf(name, sizeof name, "printer%08x%08x._ipp._tcp.example.com", rng_below(UINT32_MAX), rng_below(UINT32_MAX));
		dnsanom_response(da, &c, name, 0, T0 + i * SEC);
	}
	assert_false(dnsanom_check(da, &c, "10.in-addr.arpa", T0 + 500 * SEC, &r));
	assert_string_equal(r.regdomain, "");
	assert_false(dnsanom_check(da, &c, "example.com", T0 + 500 * SEC, &r));
	assert_int_equal(r.unique_subdomains, 0);
	dnsanom_destroy(da);
}

/* Empty, over-long, non-ASCII and malformed names never crash and never count as plain names. */
static void test_hostile_names(void **state)
{
	struct dnsanom *da = dnsanom_create(16);
	ng_addr c = addr("10.0.0.3");
	struct dnsanom_result r;
	char longname[1200], name[128];
	static const char *const bad[] = {"", ".", "..", "a..example.com", ".example.com", "com", "co.uk", "wpad",
					  "\xff\xfe.example.com.\x80", "example.com\x01", NULL};

	(void)state;
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	for (size_t i = 0; i < 100; i++) {
		dnsanom_response(da, &c, bad[i % NG_ARRAY_LEN(bad)], (int)(i % 6), T0);
		dnsanom_response(da, &c, longname + (i % 120), 3, T0);
		longname[1000] = '.';
		assert_false(dnsanom_check(da, &c, bad[i % NG_ARRAY_LEN(bad)], T0, &r));
	}
	assert_false(dnsanom_check(da, &c, longname, T0, &r));
	assert_int_equal(r.nxdomain, 0);
	/* Binary labels (base128 as iodine can send) under a plain domain still count as subdomains. */
	rng_seed(5);
	for (int i = 0; i < 200; i++) {
		char lab[40];

		for (int k = 0; k < 39; k++)
			lab[k] = (char)(0x80 + rng_below(128));
		lab[39] = '\0';
		snprintf(name, sizeof name, "%s.t.example.org", lab);
		dnsanom_response(da, &c, name, 0, T0 + i * SEC);
	}
	dnsanom_check(da, &c, "t.example.org", T0 + 200 * SEC, &r);
	assert_string_equal(r.regdomain, "example.org");
	assert_in_range(r.unique_subdomains, 170, 230);
	dnsanom_destroy(da);
}

/* Many domains and clients: memory stays what create allocated. */
static void test_memory_bounded(void **state)
{
	struct dnsanom *da = dnsanom_create(256);
	size_t mem = dnsanom_memory(da);
	char name[64];

	(void)state;
	assert_true(mem < 256 * 400 + 16 * 400);
	for (uint32_t i = 0; i < 100000; i++) {
		uint8_t b[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
		ng_addr a = addr_from_v4(b);

		snprintf(name, sizeof name, "x%u.d%u.example", i, i);
		dnsanom_response(da, &a, name, 3, T0 + i * 1000);
	}
	assert_int_equal(dnsanom_memory(da), mem);
	dnsanom_destroy(da);
}

/* Column index of a field in a Zeek "#fields" header line; -1 when absent. */
static int zeek_col(const char *header, const char *field)
{
	int col = -1;
	const char *p = header;
	size_t fl = strlen(field);

	while (p) {
		const char *tab = strchr(p, '\t');
		size_t n = tab ? (size_t)(tab - p) : strlen(p);

		if (col >= 0 && n == fl && strncmp(p, field, n) == 0)
			return col;
		col++;
		p = tab ? tab + 1 : NULL;
	}
	return -1;
}

/* The i-th tab-separated field of line into buf. */
static void zeek_field(const char *line, int i, char *buf, size_t len)
{
	const char *p = line;

	for (; i > 0 && p; i--) {
		p = strchr(p, '\t');
		if (p)
			p++;
	}
	buf[0] = '\0';
	if (!p)
		return;
	size_t n = strcspn(p, "\t\n");

	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
}

/* What a whole log did: responses fed, distinct clients, and how many fired. */
struct replay {
	int responses, clients, dga_clients, tunnel_domains, first_dga_row;
	ng_addr client[64];
};

/* Feed a Zeek dns.log (every row with an rcode) through dnsanom and check every client and name. */
static int replay_zeek_dns(const char *file, struct replay *rp)
{
	const char *dir = getenv("NG_TESTDATA");
	char path[1024], hdr[4096] = "", f[512], q[512], rc[16], ts[64];
	int cts = -1, corig = -1, cq = -1, crc = -1, row = 0;
	struct dnsanom *da;
	struct dnsanom_result r;
	char *text, *line, *save = NULL;
	ng_time last = 0;

	memset(rp, 0, sizeof *rp);
	rp->first_dga_row = -1;
	if (!dir)
		return -1;
	snprintf(path, sizeof path, "%s/zeek/%s", dir, file);
	text = file_read_all(path, 64 << 20, NULL);
	if (!text)
		return -1;
	da = dnsanom_create(4096);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		ng_addr c;

		if (strncmp(line, "#fields\t", 8) == 0)
			snprintf(hdr, sizeof hdr, "%s", line);
		if (line[0] == '#')
			continue;
		row++;
		cts = zeek_col(hdr, "ts");
		corig = zeek_col(hdr, "id.orig_h");
		cq = zeek_col(hdr, "query");
		crc = zeek_col(hdr, "rcode");
		assert_true(cts >= 0 && corig >= 0 && cq >= 0 && crc >= 0);
		zeek_field(line, crc, rc, sizeof rc);
		if (strcmp(rc, "-") == 0 || rc[0] == '\0')
			continue;	/* no response seen */
		zeek_field(line, cts, ts, sizeof ts);
		zeek_field(line, corig, f, sizeof f);
		zeek_field(line, cq, q, sizeof q);
		if (addr_parse(f, &c) != 0)
			continue;
		last = (ng_time)(strtod(ts, NULL) * SEC);
		dnsanom_response(da, &c, q, atoi(rc), last);
		rp->responses++;
		int k;

		for (k = 0; k < rp->clients && !addr_equal(&rp->client[k], &c); k++)
			;
		if (k == rp->clients && rp->clients < (int)NG_ARRAY_LEN(rp->client))
			rp->client[rp->clients++] = c;
		if (dnsanom_check(da, &c, q, last, &r) && r.dga && rp->first_dga_row < 0)
			rp->first_dga_row = row;
	}
	free(text);
	/* The verdict at the end of the log, per client and per queried domain. */
	for (int k = 0; k < rp->clients; k++) {
		dnsanom_check(da, &rp->client[k], NULL, last, &r);
		if (r.dga)
			rp->dga_clients++;
	}
	text = file_read_all(path, 64 << 20, NULL);
	save = NULL;
	char seen[256][128];
	int nseen = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		zeek_field(line, cq, q, sizeof q);
		dnsanom_check(da, NULL, q, last, &r);
		if (!r.tunnel)
			continue;
		int k;

		for (k = 0; k < nseen && strcmp(seen[k], r.regdomain) != 0; k++)
			;
		if (k == nseen && nseen < 256) {
			snprintf(seen[nseen++], sizeof seen[0], "%s", r.regdomain);
			rp->tunnel_domains++;
		}
	}
	free(text);
	dnsanom_destroy(da);
	printf("%s: %d responses, %d clients, %d DGA clients (first at row %d), %d tunnel domains\n", file,
	       rp->responses, rp->clients, rp->dga_clients, rp->first_dga_row, rp->tunnel_domains);
	return 0;
}

/* The real Simda botnet capture: its host is DGA-like; nothing looks like a tunnel. */
static void test_real_simda(void **state)
{
	struct replay rp;

	(void)state;
	if (replay_zeek_dns("simda-dga-dns.log", &rp) != 0)
		skip();
	assert_true(rp.responses > 500);
	assert_true(rp.dga_clients >= 1);
	assert_true(rp.first_dga_row > 0);
	assert_int_equal(rp.tunnel_domains, 0);
}

/* A real benign Windows host's day: no DGA, no tunnel. */
static void test_real_benign_dns(void **state)
{
	struct replay rp;

	(void)state;
	if (replay_zeek_dns("normal-host-dns.log", &rp) != 0)
		skip();
	assert_int_equal(rp.dga_clients, 0);
	assert_int_equal(rp.tunnel_domains, 0);
}

/*
 * The same benign host's day of TLS server names (normal-host-ssl.log, 239
 * distinct) looked up in order: no tunnel. Then the worst case for a host
 * behind a blocking resolver: every one of them answered NXDOMAIN. Still no
 * DGA, because the labels are ordinary words and brands.
 */
static void test_real_benign_names(void **state)
{
	const char *dir = getenv("NG_TESTDATA");
	char path[1024], hdr[4096] = "", sni[512], ts[64];
	struct dnsanom *ok = dnsanom_create(4096), *nx = dnsanom_create(4096);
	ng_addr c = addr("147.32.83.234");
	struct dnsanom_result r;
	char *text, *line, *save = NULL;
	int names = 0, tunnels = 0;
	ng_time last = 0;

	(void)state;
	if (!dir)
		skip();
	snprintf(path, sizeof path, "%s/zeek/normal-host-ssl.log", dir);
	text = file_read_all(path, 64 << 20, NULL);
	if (!text)
		skip();
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "#fields\t", 8) == 0)
			snprintf(hdr, sizeof hdr, "%s", line);
		if (line[0] == '#')
			continue;
		zeek_field(line, zeek_col(hdr, "server_name"), sni, sizeof sni);
		zeek_field(line, zeek_col(hdr, "ts"), ts, sizeof ts);
		if (strcmp(sni, "-") == 0)
			continue;
		last = (ng_time)(strtod(ts, NULL) * SEC);
		dnsanom_response(ok, &c, sni, 0, last);
		dnsanom_response(nx, &c, sni, 3, last);
		names++;
		if (dnsanom_check(ok, &c, sni, last, &r))
			tunnels++;
		if (dnsanom_check(nx, &c, sni, last, &r) && r.dga)
			fail_msg("benign names answered NXDOMAIN looked like a DGA at %s (%u domains, %.2f bits)", sni,
				 r.nxdomain, r.nx_surprisal);
	}
	free(text);
	dnsanom_check(nx, &c, NULL, last, &r);
	printf("normal-host-ssl.log: %d lookups, %d flagged; all as NXDOMAIN: max window %u domains, %.2f bits/letter\n",
	       names, tunnels, r.nxdomain, r.nx_surprisal);
	assert_true(names > 900);
	assert_int_equal(tunnels, 0);
	dnsanom_destroy(ok);
	dnsanom_destroy(nx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tunnel),
		cmocka_unit_test(test_tunnel_hex_labels),
		cmocka_unit_test(test_dga),
		cmocka_unit_test(test_benign_patterns),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_memory_bounded),
		cmocka_unit_test(test_real_simda),
		cmocka_unit_test(test_real_benign_dns),
		cmocka_unit_test(test_real_benign_names),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
