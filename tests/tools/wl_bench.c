/* SPDX-License-Identifier: BSD-2-Clause */
/* wl_bench.c: whitelist micro-benchmark: list load, verdict lookups, record and SQLite flush throughput. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "util.h"
#include "whitelist.h"

/* The AS of bench row i: 4096 networks, as a real host sees a few thousand at most. */
#define BENCH_ASN(i) ((uint32_t)(1 + (i) % 4096))

/*
 * Usage: wl_bench [-n ENTRIES] [-b BLOCK_ENTRIES] [-q QUERIES] [-f FLUSH_ROWS]
 * Defaults: 1,000,000 learnt (address, direction) rows, a 1,000,000-entry
 * blocklist, 4,000,000 verdicts, 1,000,000 rows flushed to SQLite. Addresses
 * are deterministic pseudo-random public IPv4 (70%) and IPv6 (30%); blocklist
 * entries are host addresses and /16../31 (IPv4) or /32../127 (IPv6) CIDRs.
 * Prints one "wl_bench key=value" line per figure. Rates are given twice:
 * by wall clock, and by this thread's CPU time (*_cpu keys), which is the
 * figure to quote on a shared or loaded machine.
 */

static uint64_t bench_rng = 0x2545f4914f6cdd1dULL;

/* xorshift64*: deterministic, so every run measures the same work. */
static uint64_t bench_rand(void)
{
	bench_rng ^= bench_rng >> 12;
	bench_rng ^= bench_rng << 25;
	bench_rng ^= bench_rng >> 27;
	return bench_rng * 0x2545f4914f6cdd1dULL;
}

/* A pseudo-random public address, IPv4 70% of the time. */
static ng_addr bench_addr(void)
{
	for (;;) {
		uint64_t r = bench_rand(), r2 = bench_rand();
		uint8_t b[16];
		ng_addr a;

		if (r % 10 < 7) {
			b[0] = (uint8_t)(r >> 8);
			b[1] = (uint8_t)(r >> 16);
			b[2] = (uint8_t)(r >> 24);
			b[3] = (uint8_t)(r >> 32);
			a = addr_from_v4(b);
		} else {
			memcpy(b, &r2, 8);
			r = bench_rand();
			memcpy(b + 8, &r, 8);
			b[0] = (uint8_t)(0x20 | (b[0] & 0x1f));	/* 2000::/3, global unicast */
			a = addr_from_v6(b);
		}
		if (addr_scope(&a) == NG_SCOPE_PUBLIC)
			return a;
	}
}

/* This thread's CPU time in microseconds. */
static ng_time cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (ng_time)ts.tv_sec * NG_USEC + ts.tv_nsec / 1000;
}

/* Seconds between two monotonic times. */
static double secs(ng_time from, ng_time to)
{
	return (double)(to - from) / 1e6;
}

/* Resident memory in MiB, from /proc/self/status. */
static long rss_mb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	return kb < 0 ? -1 : kb / 1024;
}

/* Remove one file of the scratch directory (nftw callback). */
static int bench_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Write n blocklist entries to path, FireHOL style; returns 0 or -1. */
static int write_blocklist(const char *path, size_t n, ng_addr *hits, size_t nhits)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fprintf(f, "# wl_bench blocklist: %zu deterministic entries\n", n);
	for (size_t i = 0; i < n; i++) {
		ng_addr a = bench_addr();
		char t[NG_ADDRSTRLEN];

		if (i < nhits)
			hits[i] = a;	/* the host itself lies inside whatever prefix is written */
		addr_format(&a, t, sizeof t);
		if (bench_rand() % 2 == 0)
			fprintf(f, "%s\n", t);
		else if (a.v == 4)
			fprintf(f, "%s/%u\n", t, 16 + (unsigned)(bench_rand() % 16));
		else
			fprintf(f, "%s/%u ; SBL%zu\n", t, 32 + (unsigned)(bench_rand() % 96), i);
	}
	return fclose(f);
}

int main(int argc, char **argv)
{
	size_t nentries = 1000000, nblock = 1000000, nq = 4000000, nflush = 1000000, nhits;
	char dir[512], path[600], err[512];
	const char *tmp = getenv("TMPDIR");
	const char *blocks[1];
	struct whitelist_options o;
	struct whitelist *wl;
	struct whitelist_stats st;
	ng_addr *learnt, *hits, *q;
	const char **qdom;
	uint8_t *qdir;
	ng_time t0, t1, c0, c1, base = 1795000000LL * NG_USEC;
	uint64_t counts[5] = {0};
	int c;

	while ((c = getopt(argc, argv, "n:b:q:f:")) != -1) {
		uint64_t v;

		if (parse_uint(optarg, 1, 100000000, &v) != 0) {
			fprintf(stderr, "wl_bench: -%c needs a number from 1 to 100000000\n", c);
			return 2;
		}
		if (c == 'n')
			nentries = v;
		else if (c == 'b')
			nblock = v;
		else if (c == 'q')
			nq = v;
		else if (c == 'f')
			nflush = v;
		else
			return 2;
	}
	log_init(NG_LOG_WARNING);
	snprintf(dir, sizeof dir, "%s/wl_bench.XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "wl_bench: cannot create a scratch directory: %s\n", strerror(errno));
		return 1;
	}

	/* The blocklist: write it, then time load + parse + build. */
	nhits = NG_MIN(nblock, nq / 4);
	hits = xmalloc((nhits ? nhits : 1) * sizeof *hits);
	snprintf(path, sizeof path, "%s/bench.netset", dir);
	if (write_blocklist(path, nblock, hits, nhits) != 0) {
		fprintf(stderr, "wl_bench: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	blocks[0] = path;
	memset(&o, 0, sizeof o);
	o.block_files = blocks;
	o.nblock = 1;
	o.max_entries = nentries * 2 + 16;
	t0 = time_mono();
	c0 = cpu_now();
	wl = whitelist_open(&o, err, sizeof err);
	c1 = cpu_now();
	t1 = time_mono();
	if (wl == NULL) {
		fprintf(stderr, "wl_bench: %s\n", err);
		return 1;
	}
	whitelist_get_stats(wl, &st);
	printf("wl_bench block_entries=%llu\n", (unsigned long long)st.block_entries);
	printf("wl_bench block_load_ms=%.0f block_load_cpu_ms=%.0f\n", secs(t0, t1) * 1e3, secs(c0, c1) * 1e3);
	t0 = time_mono();
	c0 = cpu_now();
	whitelist_reload(wl, true);
	c1 = cpu_now();
	t1 = time_mono();
	printf("wl_bench block_reload_ms=%.0f block_reload_cpu_ms=%.0f\n", secs(t0, t1) * 1e3, secs(c0, c1) * 1e3);

	/* Learn nentries (address, direction) rows in memory. */
	learnt = xmalloc(nentries * sizeof *learnt);
	for (size_t i = 0; i < nentries; i++)
		learnt[i] = bench_addr();
	t0 = time_mono();
	c0 = cpu_now();
	for (size_t i = 0; i < nentries; i++)
		whitelist_record(wl, &learnt[i], (enum wl_dir)(i & 1), base + (ng_time)i, 1, 10, 1500, NULL, "DE",
				 BENCH_ASN(i), NULL, WL_NONE);
	c1 = cpu_now();
	t1 = time_mono();
	whitelist_flush(wl);
	whitelist_get_stats(wl, &st);
	printf("wl_bench entries=%llu\n", (unsigned long long)st.entries);
	printf("wl_bench records_per_sec=%.0f records_per_cpu_sec=%.0f\n", (double)nentries / secs(t0, t1),
	       (double)nentries / secs(c0, c1));

	/* Queries: half learnt, a quarter blocklisted, a quarter unknown; one in eight with a domain. */
	q = xmalloc(nq * sizeof *q);
	qdir = xmalloc(nq);
	qdom = xmalloc(nq * sizeof *qdom);
	for (size_t i = 0; i < nq; i++) {
		uint64_t r = bench_rand();

		if (r % 4 < 2)
			q[i] = learnt[(r >> 8) % nentries];
		else if (r % 4 == 2 && nhits)
			q[i] = hits[(r >> 8) % nhits];
		else
			q[i] = bench_addr();
		qdir[i] = (uint8_t)((r >> 40) & 1);
		qdom[i] = (r >> 44) % 8 == 0 ? "download.windowsupdate.com" : NULL;
	}
	t0 = time_mono();
	c0 = cpu_now();
	for (size_t i = 0; i < nq; i++) {
		struct wl_verdict_info v;

		whitelist_verdict(wl, &q[i], qdom[i], BENCH_ASN(i), (enum wl_dir)qdir[i], base + (ng_time)nentries + 1,
				  &v);
		counts[v.verdict]++;
	}
	c1 = cpu_now();
	t1 = time_mono();
	printf("wl_bench verdicts=%zu normal=%llu anomalous=%llu blocklisted=%llu\n", nq,
	       (unsigned long long)counts[WL_NORMAL], (unsigned long long)counts[WL_ANOMALOUS],
	       (unsigned long long)counts[WL_BLOCKLISTED]);
	printf("wl_bench verdicts_per_sec=%.0f\n", (double)nq / secs(t0, t1));
	printf("wl_bench ns_per_verdict=%.1f\n", secs(t0, t1) * 1e9 / (double)nq);
	printf("wl_bench verdicts_per_cpu_sec=%.0f cpu_ns_per_verdict=%.1f\n", (double)nq / secs(c0, c1),
	       secs(c0, c1) * 1e9 / (double)nq);
	printf("wl_bench rss_mb=%ld\n", rss_mb());
	whitelist_close(wl);

	/* SQLite: record nflush new rows, then write them in one transaction; then reopen and load them. */
	memset(&o, 0, sizeof o);
	o.state_dir = dir;
	o.max_entries = nflush + 16;
	wl = whitelist_open(&o, err, sizeof err);
	if (wl == NULL) {
		fprintf(stderr, "wl_bench: %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < nflush; i++)
		whitelist_record(wl, &learnt[i % nentries], (enum wl_dir)((i / nentries) & 1), base + (ng_time)i, 1,
				 10, 1500, i % 4 ? NULL : "cdn.example.com", "DE", BENCH_ASN(i), "Example AS",
				 WL_NORMAL);
	t0 = time_mono();
	c0 = cpu_now();
	if (whitelist_flush(wl) != 0) {
		fprintf(stderr, "wl_bench: flush failed\n");
		return 1;
	}
	c1 = cpu_now();
	t1 = time_mono();
	printf("wl_bench flush_rows=%zu flush_ms=%.0f flush_cpu_ms=%.0f\n", nflush, secs(t0, t1) * 1e3,
	       secs(c0, c1) * 1e3);
	printf("wl_bench flush_rows_per_sec=%.0f flush_rows_per_cpu_sec=%.0f\n", (double)nflush / secs(t0, t1),
	       (double)nflush / secs(c0, c1));
	/* Housekeeping ticks: 100, 1,000 and 10,000 touched rows (random among all) per flush. */
	for (size_t per = 100; per <= 10000; per *= 10) {
		t0 = time_mono();
		c0 = cpu_now();
		for (int round = 0; round < 10; round++) {
			for (size_t i = 0; i < per; i++)
				whitelist_record(wl, &learnt[(size_t)bench_rand() % NG_MIN(nentries, nflush)], WL_SENT,
						 base + (ng_time)(nflush + (size_t)round * per + i), 0, 1, 100, NULL,
						 NULL, 0, NULL, WL_NONE);
			whitelist_flush(wl);
		}
		c1 = cpu_now();
		t1 = time_mono();
		printf("wl_bench tick_%zu_rows_ms=%.1f tick_%zu_rows_cpu_ms=%.1f\n", per, secs(t0, t1) * 1e3 / 10, per,
		       secs(c0, c1) * 1e3 / 10);
	}
	whitelist_close(wl);
	t0 = time_mono();
	c0 = cpu_now();
	wl = whitelist_open(&o, err, sizeof err);
	c1 = cpu_now();
	t1 = time_mono();
	if (wl == NULL) {
		fprintf(stderr, "wl_bench: %s\n", err);
		return 1;
	}
	whitelist_get_stats(wl, &st);
	printf("wl_bench open_load_rows=%llu open_load_ms=%.0f open_load_cpu_ms=%.0f\n",
	       (unsigned long long)st.entries, secs(t0, t1) * 1e3, secs(c0, c1) * 1e3);
	whitelist_close(wl);

	nftw(dir, bench_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(learnt);
	free(hits);
	free(q);
	free(qdir);
	free(qdom);
	return 0;
}
