/* SPDX-License-Identifier: BSD-2-Clause */
/* dns_extract.c: feed hex payloads (one per line, as tshark prints them) to the DNS, SNI or Host parsers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "dns.h"
#include "names.h"
#include "util.h"

/*
 * Usage: dns_extract [-b N] dns|dnstcp|sni|http < lines
 *
 * Each input line is "ID [EPOCH] HEX": an identifier echoed in the output
 * (a frame number), for dns modes the packet time in seconds, then the
 * payload in hex (tshark -e udp.payload / tcp.payload). An empty HEX is
 * skipped.
 *
 *   dns      the payload is one DNS message (UDP); prints "ID ADDR NAME" for
 *            every mapping dns_parse reports, and checks that dns_learn into
 *            a cache makes dns_lookup(ADDR, EPOCH) give one of the names the
 *            message gave ADDR (exit 1 otherwise).
 *   dnstcp   the same for a TCP payload: the first message after the 2-byte
 *            length prefix (RFC 7766 8), cut to what the segment holds.
 *   sni      prints "ID NAME" or "ID -RESULT" (none, more, malformed).
 *   http     the same for the HTTP Host header.
 *
 * -b N parses every payload N times and prints messages per CPU second to
 * stderr instead of the mappings (a throughput measurement).
 */

#define LINE_MAX_BYTES (1 << 20)

/* Mappings of the message being checked. */
struct seen {
	ng_addr addr[512];
	char name[512][NG_NAME_MAX];
	size_t n;
};

/* dns_parse callback: remember and print one mapping. */
static void print_cb(const ng_addr *addr, const char *name, uint32_t ttl, void *arg)
{
	struct seen *s = arg;

	(void)ttl;
	if (s->n < NG_ARRAY_LEN(s->addr)) {
		s->addr[s->n] = *addr;
		snprintf(s->name[s->n], sizeof s->name[s->n], "%s", name);
		s->n++;
	}
}

/* Decode hex text into buf; returns the byte count or -1. */
static long unhex(const char *h, uint8_t *buf, size_t cap)
{
	size_t n = 0;

	while (*h && *h != '\n' && *h != ' ' && *h != '\t') {
		unsigned v;

		if (*h == ':' || *h == ',') {
			if (*h == ',')
				break;	/* several values: use the first */
			h++;
			continue;
		}
		if (n >= cap || sscanf(h, "%2x", &v) != 1 || h[1] == '\0')
			return -1;
		buf[n++] = (uint8_t)v;
		h += 2;
	}
	return (long)n;
}

/* Name of a names_result for the output. */
static const char *result_name(enum names_result r)
{
	switch (r) {
	case NAMES_NONE:
		return "-none";
	case NAMES_NEED_MORE:
		return "-more";
	case NAMES_MALFORMED:
		return "-malformed";
	default:
		return "-found";
	}
}

int main(int argc, char **argv)
{
	static char line[LINE_MAX_BYTES * 2 + 128];
	static uint8_t buf[LINE_MAX_BYTES];
	struct dns_cache *cache = dns_cache_create(100000, 3600 * NG_USEC);
	static struct seen seen;
	long bench = 0;
	int mode, rc = 0, opt;
	uint64_t runs = 0;
	double t0 = 0;

	while ((opt = getopt(argc, argv, "b:")) != -1) {
		if (opt == 'b')
			bench = strtol(optarg, NULL, 10);
		else
			goto usage;
	}
	if (optind + 1 != argc)
		goto usage;
	if (strcmp(argv[optind], "dns") == 0)
		mode = 0;
	else if (strcmp(argv[optind], "dnstcp") == 0)
		mode = 1;
	else if (strcmp(argv[optind], "sni") == 0)
		mode = 2;
	else if (strcmp(argv[optind], "http") == 0)
		mode = 3;
	else
		goto usage;
	if (bench > 0)
		t0 = (double)clock() / CLOCKS_PER_SEC;	/* CPU time: the machine may be shared */
	while (fgets(line, sizeof line, stdin)) {
		char *id = strtok(line, " \t\n"), *f2 = strtok(NULL, " \t\n"), *f3 = strtok(NULL, " \t\n");
		const char *hex = mode <= 1 ? f3 : f2;
		ng_time at = 0;
		const uint8_t *msg = buf;
		long len;
		char name[NG_NAME_MAX], abuf[NG_ADDRSTRLEN];

		if (id == NULL || hex == NULL)
			continue;
		if (mode <= 1 && time_parse(f2, &at) != 0) {
			fprintf(stderr, "dns_extract: bad time %s on line %s\n", f2, id);
			return 2;
		}
		if ((len = unhex(hex, buf, sizeof buf)) < 0) {
			fprintf(stderr, "dns_extract: bad hex on line %s\n", id);
			return 2;
		}
		if (mode == 1) {
			/* RFC 7766 8: a 2-byte length, then the message; keep what this segment holds. */
			if (len < 2)
				continue;
			msg = buf + 2;
			len = NG_MIN(len - 2, (long)(buf[0] << 8 | buf[1]));
		}
		if (bench > 0) {
			for (long i = 0; i < bench; i++) {
				if (mode <= 1)
					dns_learn(cache, msg, (size_t)len, at);
				else if (mode == 2)
					tls_sni_parse(msg, (size_t)len, name, sizeof name, NULL);
				else
					http_host_parse(msg, (size_t)len, name, sizeof name);
			}
			runs += (uint64_t)bench;
			continue;
		}
		if (mode >= 2) {
			size_t need = 0;
			enum names_result r = mode == 2 ? tls_sni_parse(msg, (size_t)len, name, sizeof name, &need)
							: http_host_parse(msg, (size_t)len, name, sizeof name);

			printf("%s %s\n", id, r == NAMES_FOUND ? name : result_name(r));
			continue;
		}
		seen.n = 0;
		dns_parse(msg, (size_t)len, print_cb, &seen, NULL);
		dns_learn(cache, msg, (size_t)len, at);
		for (size_t i = 0; i < seen.n; i++) {
			const char *got = dns_lookup(cache, &seen.addr[i], at);
			int ok = 0;

			printf("%s %s %s\n", id, addr_format(&seen.addr[i], abuf, sizeof abuf), seen.name[i]);
			for (size_t j = 0; j < seen.n && got; j++) {
				if (addr_equal(&seen.addr[i], &seen.addr[j]) && strcmp(got, seen.name[j]) == 0)
					ok = 1;
			}
			if (!ok) {
				fprintf(stderr, "dns_extract: line %s: dns_lookup(%s) gave %s, not %s\n", id, abuf,
					got ? got : "nothing", seen.name[i]);
				rc = 1;
			}
		}
	}
	if (bench > 0) {
		double secs = (double)clock() / CLOCKS_PER_SEC - t0;
		struct dns_stats st;

		dns_get_stats(cache, &st);
		fprintf(stderr, "dns_extract: %llu parses in %.3f s of CPU: %.0f per second (%llu answers learnt)\n",
			(unsigned long long)runs, secs, secs > 0 ? (double)runs / secs : 0.0,
			(unsigned long long)st.answers);
	}
	dns_cache_destroy(cache);
	return rc;
usage:
	fprintf(stderr, "usage: dns_extract [-b N] dns|dnstcp|sni|http < lines\n");
	return 2;
}
