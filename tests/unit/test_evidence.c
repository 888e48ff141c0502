/* SPDX-License-Identifier: BSD-2-Clause */
/* test_evidence.c: evidence pcaps: per-flow limits, buffering, read-back per flow, rotation, budget, index bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence.h"
#include "flow.h"
#include "util.h"

#define T0 (1700000000LL * NG_USEC)

static char tmpdir[512];
static char evdir[600];

/* Remove every file in a directory, then the directory. */
static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[1024];

	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (unlink(p) != 0)
			rm_dir(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int setup_tmp(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/test_evidence.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(evdir, sizeof evdir, "%s/evidence", tmpdir);
	return 0;
}

static int teardown_tmp(void **state)
{
	(void)state;
	rm_dir(tmpdir);
	return 0;
}

/* A frame whose bytes say which flow and which packet it is (an Ethernet-sized blob). */
static void make_frame(uint8_t *buf, uint32_t len, uint64_t flow, uint32_t k)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(flow * 31 + k * 7 + i);
	if (len >= 12) {
		memcpy(buf, &flow, 8);
		memcpy(buf + 8, &k, 4);
	}
}

/* Offer one frame of flow f (k-th, caplen bytes) to the evidence. */
static void offer(struct evidence *ev, struct flow *f, int dlt, uint32_t k, uint32_t caplen)
{
	uint8_t buf[70000];
	struct capture_packet p;

	assert_true(caplen <= sizeof buf);
	make_frame(buf, caplen, f->id, k);
	p.ts = T0 + (ng_time)f->id * NG_USEC + k;
	p.data = buf;
	p.caplen = caplen;
	p.wirelen = caplen + 4;
	evidence_packet(ev, f, dlt, &p);
}

static struct evidence *create(uint64_t max_bytes, size_t max_records)
{
	struct evidence_options o = {0};
	char err[512] = "";
	struct evidence *ev;

	o.state_dir = tmpdir;
	o.max_bytes = max_bytes;
	o.max_records = max_records;
	ev = evidence_create(&o, err, sizeof err);
	if (!ev)
		fail_msg("evidence_create: %s", err);
	return ev;
}

/*
 * Check a pcap in memory with libpcap: link type, and exactly the frames
 * k = 0..n-1 of flow `id` with caplen bytes each. Returns the frame count.
 */
static int check_pcap(const char *buf, size_t len, int dlt, uint64_t id, uint32_t caplen)
{
	char err[PCAP_ERRBUF_SIZE];
	FILE *fp = fmemopen((void *)buf, len, "r");
	pcap_t *p;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint8_t want[70000];
	int n = 0, rc;

	assert_non_null(fp);
	p = pcap_fopen_offline(fp, err);
	if (!p)
		fail_msg("pcap_fopen_offline: %s", err);
	assert_int_equal(pcap_datalink(p), dlt);
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		make_frame(want, caplen, id, (uint32_t)n);
		assert_int_equal(h->caplen, caplen);
		assert_int_equal(h->len, caplen + 4);
		assert_int_equal((ng_time)h->ts.tv_sec * NG_USEC + h->ts.tv_usec, T0 + (ng_time)id * NG_USEC + n);
		assert_memory_equal(data, want, caplen);
		n++;
	}
	assert_int_equal(rc, PCAP_ERROR_BREAK);
	pcap_close(p);
	return n;
}

/* Sum of the sizes of the evidence files, and their number. */
static uint64_t dir_bytes(size_t *nfiles)
{
	DIR *d = opendir(evdir);
	struct dirent *de;
	uint64_t total = 0;
	char p[1024];
	struct stat sb;

	*nfiles = 0;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", evdir, de->d_name);
		assert_int_equal(stat(p, &sb), 0);
		total += (uint64_t)sb.st_size;
		(*nfiles)++;
	}
	closedir(d);
	return total;
}

static void test_limits_and_readback(void **state)
{
	struct evidence *ev;
	struct evidence_stats st;
	struct flow f[3];
	char *buf;
	size_t len, nfiles;

	(void)state;
	ev = create(0, 0);
	memset(f, 0, sizeof f);
	for (int i = 0; i < 3; i++)
		f[i].id = (uint64_t)i + 1;
	/* Interleaved: flow 1 sends 100 small frames (64 kept), flow 2 sends 1500-byte frames. */
	for (uint32_t k = 0; k < 100; k++) {
		offer(ev, &f[0], DLT_EN10MB, k, 60);
		offer(ev, &f[1], DLT_EN10MB, k, 1500);
	}
	/* Flow 3: 65,000-byte frames hit the 256 KiB bound first: 5 kept (the one crossing it is whole). */
	for (uint32_t k = 0; k < 10; k++)
		offer(ev, &f[2], DLT_EN10MB, k, 65000);
	{
		uint32_t pk, by;

		assert_true(evidence_flow_kept(ev, f[0].id, &pk, &by));
		assert_int_equal(pk, 64);
		assert_true(evidence_flow_kept(ev, f[1].id, &pk, &by));
		assert_int_equal(pk, 64);
		assert_true(evidence_flow_kept(ev, f[2].id, &pk, &by));
		assert_int_equal(pk, 5);
		assert_int_equal(by, 5 * 65000);
		assert_false(evidence_flow_kept(ev, 99, &pk, &by));
	}

	/* Nothing reached the disk yet: frames wait in the stdio buffer until the flush. */
	assert_int_equal(dir_bytes(&nfiles), 0);
	assert_int_equal(nfiles, 1);
	evidence_flush(ev);
	assert_int_equal(dir_bytes(&nfiles), 24 + 64 * (16 + 60) + 64 * (16 + 1500) + 5 * (16 + 65000));

	assert_int_equal(evidence_flow_pcap(ev, 1, &buf, &len), 0);
	assert_int_equal(len, 24 + 64 * (16 + 60));
	assert_int_equal(check_pcap(buf, len, DLT_EN10MB, 1, 60), 64);
	free(buf);
	assert_int_equal(evidence_flow_pcap(ev, 2, &buf, &len), 0);
	assert_int_equal(check_pcap(buf, len, DLT_EN10MB, 2, 1500), 64);
	free(buf);
	assert_int_equal(evidence_flow_pcap(ev, 3, &buf, &len), 0);
	assert_int_equal(check_pcap(buf, len, DLT_EN10MB, 3, 65000), 5);
	free(buf);
	assert_int_equal(evidence_flow_pcap(ev, 4, &buf, &len), -1);
	assert_int_equal(evidence_flow_pcap(ev, 0, &buf, &len), -1);

	evidence_get_stats(ev, &st);
	assert_int_equal(st.flows, 3);
	assert_int_equal(st.packets, 133);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.dropped, 0);
	assert_int_equal(st.index_records, 133);
	evidence_destroy(ev);
}

/* The budget: the oldest files go, the disk total never passes it, deleted flows give 404. */
/* Many suspect flows at once, half of them ended: the count table keeps the others' counts. */
static void test_flow_counts(void **state)
{
	static struct flow many[5000];
	struct evidence *ev;
	uint32_t pk, by;

	(void)state;
	ev = create(0, 0);
	for (int i = 0; i < 5000; i++) {
		many[i].id = 1000 + (uint64_t)i * 7;
		offer(ev, &many[i], DLT_EN10MB, 0, 60);
	}
	for (int i = 0; i < 5000; i += 2)
		evidence_flow_end(ev, many[i].id);
	for (int i = 0; i < 5000; i++) {
		bool kept = evidence_flow_kept(ev, many[i].id, &pk, &by);

		assert_int_equal(kept, i % 2 == 1);
		if (kept)
			assert_int_equal(pk, 1);
	}
	evidence_destroy(ev);
}

static void test_rotation_budget(void **state)
{
	struct evidence *ev;
	struct evidence_stats st;
	struct flow f;
	char *buf;
	size_t len, nfiles;
	uint64_t budget = 1024 * 1024;

	(void)state;
	ev = create(budget, 0);	/* files of 256 KiB */
	for (uint64_t id = 1; id <= 200; id++) {
		memset(&f, 0, sizeof f);
		f.id = id;
		for (uint32_t k = 0; k < 30; k++)
			offer(ev, &f, DLT_EN10MB, k, 1000);
		evidence_flush(ev);
		assert_true(dir_bytes(&nfiles) <= budget);
	}
	evidence_get_stats(ev, &st);
	assert_true(st.files_deleted > 10);
	assert_true(st.files >= 4 && st.files <= 5);
	assert_int_equal(dir_bytes(&nfiles), st.disk_bytes);
	assert_int_equal(nfiles, st.files);
	assert_true(st.disk_bytes <= budget && st.disk_bytes > budget / 2);
	assert_int_equal(evidence_flow_pcap(ev, 1, &buf, &len), -1);	/* deleted with its file */
	assert_int_equal(evidence_flow_pcap(ev, 200, &buf, &len), 0);
	assert_int_equal(check_pcap(buf, len, DLT_EN10MB, 200, 1000), 30);
	free(buf);
	evidence_destroy(ev);

	/* A new run counts the files left behind, and a smaller budget deletes the oldest at once. */
	ev = create(budget / 2, 0);
	evidence_get_stats(ev, &st);
	assert_true(st.disk_bytes <= budget / 2);
	assert_int_equal(dir_bytes(&nfiles), st.disk_bytes);
	assert_int_equal(nfiles, st.files);
	assert_int_equal(evidence_flow_pcap(ev, 200, &buf, &len), -1);	/* flow ids are per run */
	memset(&f, 0, sizeof f);
	f.id = 1;
	offer(ev, &f, DLT_EN10MB, 0, 1000);
	assert_int_equal(evidence_flow_pcap(ev, 1, &buf, &len), 0);
	assert_int_equal(check_pcap(buf, len, DLT_EN10MB, 1, 1000), 1);
	free(buf);
	evidence_destroy(ev);
}

/* A new link type starts a new file; each file and each flow's pcap says its own link type. */
static void test_link_types(void **state)
{
	struct evidence *ev;
	struct evidence_stats st;
	struct flow a, b;
	char *buf;
	size_t len;

	(void)state;
	ev = create(0, 0);
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	a.id = 1;
	b.id = 2;
	offer(ev, &a, DLT_EN10MB, 0, 100);
	offer(ev, &b, DLT_RAW, 0, 80);
	offer(ev, &b, DLT_RAW, 1, 80);
	evidence_get_stats(ev, &st);
	assert_int_equal(st.files, 2);
	assert_int_equal(evidence_flow_pcap(ev, 1, &buf, &len), 0);
	assert_int_equal(check_pcap(buf, len, DLT_EN10MB, 1, 100), 1);
	free(buf);
	assert_int_equal(evidence_flow_pcap(ev, 2, &buf, &len), 0);
	assert_int_equal(check_pcap(buf, len, DLT_RAW, 2, 80), 2);
	free(buf);
	evidence_destroy(ev);
}

/* The index bound: the oldest files' records are forgotten (the files stay on disk). */
static void test_index_bound(void **state)
{
	struct evidence *ev;
	struct evidence_stats st;
	struct flow f;
	char *buf;
	size_t len, nfiles;

	(void)state;
	ev = create(64ULL * 1024 * 1024, 3000);	/* 8 MiB files, 3000 records */
	for (uint64_t id = 1; id <= 100; id++) {
		memset(&f, 0, sizeof f);
		f.id = id;
		for (uint32_t k = 0; k < 64; k++)
			offer(ev, &f, DLT_EN10MB, k, 1400);	/* ~5,800 records a file */
	}
	evidence_flush(ev);
	evidence_get_stats(ev, &st);
	assert_true(st.index_records <= 6400 && st.index_records < st.packets);
	assert_int_equal(st.files_deleted, 0);
	assert_int_equal(dir_bytes(&nfiles), st.disk_bytes);
	assert_int_equal(evidence_flow_pcap(ev, 1, &buf, &len), -1);
	assert_int_equal(evidence_flow_pcap(ev, 100, &buf, &len), 0);
	assert_int_equal(check_pcap(buf, len, DLT_EN10MB, 100, 1400), 64);
	free(buf);
	evidence_destroy(ev);
}

/* A file cut short on disk gives the frames still whole, never garbage. */
static void test_torn_file(void **state)
{
	struct evidence *ev;
	struct flow f;
	char *buf, path[1024];
	size_t len;
	DIR *d;
	struct dirent *de;

	(void)state;
	ev = create(0, 0);
	memset(&f, 0, sizeof f);
	f.id = 9;
	for (uint32_t k = 0; k < 10; k++)
		offer(ev, &f, DLT_EN10MB, k, 500);
	evidence_flush(ev);
	d = opendir(evdir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			snprintf(path, sizeof path, "%s/%s", evdir, de->d_name);
	}
	closedir(d);
	/* Keep the header and 3.5 records. */
	assert_int_equal(truncate(path, 24 + 3 * 516 + 200), 0);
	assert_int_equal(evidence_flow_pcap(ev, 9, &buf, &len), 0);
	assert_int_equal(check_pcap(buf, len, DLT_EN10MB, 9, 500), 3);
	free(buf);
	/* Deleted by hand: nothing to serve, no crash. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(evidence_flow_pcap(ev, 9, &buf, &len), -1);
	evidence_destroy(ev);
}

static void test_bad_dir(void **state)
{
	struct evidence_options o = {0};
	char err[512] = "";

	(void)state;
	o.state_dir = "/nonexistent/state";
	assert_null(evidence_create(&o, err, sizeof err));
	assert_true(strstr(err, "/nonexistent/state/evidence") != NULL);
	assert_true(strstr(err, "--evidence=no") != NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_limits_and_readback, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_flow_counts, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_rotation_budget, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_link_types, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_index_bound, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_torn_file, setup_tmp, teardown_tmp),
		cmocka_unit_test(test_bad_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
