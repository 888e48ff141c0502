/* SPDX-License-Identifier: BSD-2-Clause */
/* test_exehash.c: executables' SHA-256 (FIPS 180-2 vectors), the order of hashing, replaced files, counters. */
#include <fcntl.h>
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

#include "exehash.h"

static char dir[] = "/tmp/ng_exehash.XXXXXX";

/* Write `len` bytes of `data` (or a sparse file of zeros when data is NULL) to dir/name; its stat in st. */
static void put_file(const char *name, const char *data, size_t len, struct stat *st, char *path, size_t pathlen)
{
	int fd;

	snprintf(path, pathlen, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(fd >= 0);
	if (data)
		assert_int_equal(write(fd, data, len), (ssize_t)len);
	else
		assert_int_equal(ftruncate(fd, (off_t)len), 0);
	assert_int_equal(fstat(fd, st), 0);
	close(fd);
}

/* The record of dir/name as the kernel would name it (device, inode, mtime from stat). */
static struct exehash_rec *get(struct exehash *eh, const char *path, const struct stat *st)
{
	return exehash_get(eh, path, (uint64_t)st->st_dev, (uint64_t)st->st_ino, (int64_t)st->st_mtim.tv_sec,
			   (uint32_t)st->st_mtim.tv_nsec);
}

/* FIPS 180-2 appendix B.1 ("abc") and the empty message. */
static void test_vectors(void **state)
{
	struct exehash *eh = exehash_create();
	struct exehash_rec *a, *e;
	struct exehash_stats es;
	struct stat st, sta;
	char pa[256], pe[256];

	(void)state;
	put_file("abc", "abc", 3, &sta, pa, sizeof pa);
	a = get(eh, pa, &sta);
	put_file("empty", "", 0, &st, pe, sizeof pe);
	e = get(eh, pe, &st);
	assert_int_equal(a->state, EXEHASH_PENDING);
	exehash_get_stats(eh, &es);
	assert_int_equal(es.pending, 2);
	exehash_run(eh);
	assert_int_equal(a->state, EXEHASH_DONE);
	assert_string_equal(a->hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(e->state, EXEHASH_DONE);
	assert_string_equal(e->hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_false(a->changed);
	exehash_get_stats(eh, &es);
	assert_int_equal(es.hashed, 2);
	assert_int_equal(es.pending, 0);
	assert_int_equal(es.failed, 0);
	assert_int_equal(es.bytes, 3);
	/* The same version again is the same record, from the cache. */
	exehash_unref(a);
	assert_ptr_equal(get(eh, pa, &sta), a);
	exehash_get_stats(eh, &es);
	assert_int_equal(es.cached, 1);
	exehash_unref(a);
	exehash_unref(e);
	exehash_destroy(eh);
}

/* A large file in progress does not hold back a small one queued after it. */
static void test_small_first(void **state)
{
	struct exehash *eh = exehash_create();
	struct exehash_rec *big, *small;
	struct stat st;
	char pb[256], ps[256];
	int runs = 0;

	(void)state;
	put_file("big", NULL, 40u << 20, &st, pb, sizeof pb);
	big = get(eh, pb, &st);
	exehash_run(eh);	/* starts the big one (at most 8 MiB a run) */
	assert_int_equal(big->state, EXEHASH_PENDING);
	put_file("small", "abc", 3, &st, ps, sizeof ps);
	small = get(eh, ps, &st);
	exehash_run(eh);
	assert_int_equal(small->state, EXEHASH_DONE);
	assert_string_equal(small->hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	while (big->state == EXEHASH_PENDING && runs++ < 100)
		exehash_run(eh);
	assert_int_equal(big->state, EXEHASH_DONE);
	assert_true(runs >= 3);	/* 40 MiB took several runs: the budget holds */
	/* 40 MiB of zeros (sha256sum of `head -c 41943040 /dev/zero`). */
	assert_string_equal(big->hex, "80a3721188e40218b08b26776bc53bdae81e4784fff71d71450a197319cba113");
	exehash_unref(big);
	exehash_unref(small);
	exehash_destroy(eh);
}

/* Same path, new content: the second version is marked changed; a path that names another file fails. */
static void test_changed_and_replaced(void **state)
{
	struct exehash *eh = exehash_create();
	struct exehash_rec *v1, *v2, *v3, *gone;
	struct exehash_stats es;
	struct stat st1, st2, st3;
	char p[256], tmp[256];

	(void)state;
	put_file("prog", "version one", 11, &st1, p, sizeof p);
	v1 = get(eh, p, &st1);
	exehash_run(eh);
	assert_int_equal(v1->state, EXEHASH_DONE);
	assert_false(v1->changed);
	put_file("prog.new", "version two", 11, &st2, tmp, sizeof tmp);
	assert_int_equal(rename(tmp, p), 0);	/* an upgrade: a new inode on the old path */
	v2 = get(eh, p, &st2);
	assert_ptr_not_equal(v1, v2);
	exehash_run(eh);
	assert_int_equal(v2->state, EXEHASH_DONE);
	assert_true(v2->changed);
	assert_string_not_equal(v1->hex, v2->hex);
	/* The same content again under the same path is not a change. */
	put_file("prog.new", "version two", 11, &st3, tmp, sizeof tmp);
	assert_int_equal(rename(tmp, p), 0);
	v3 = get(eh, p, &st3);
	exehash_run(eh);
	assert_int_equal(v3->state, EXEHASH_DONE);
	assert_false(v3->changed);
	/* The kernel named another inode (the path was replaced since): never hash another file in its place. */
	gone = exehash_get(eh, p, (uint64_t)st3.st_dev, (uint64_t)st3.st_ino + 1000003, 1, 2);
	exehash_run(eh);
	assert_int_equal(gone->state, EXEHASH_FAILED);
	exehash_get_stats(eh, &es);
	assert_int_equal(es.failed, 1);
	assert_int_equal(es.hashed, 3);
	exehash_unref(v1);
	exehash_unref(v2);
	exehash_unref(v3);
	exehash_unref(gone);
	exehash_destroy(eh);
}

/* Remove the test directory's files. */
static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_small_first),
		cmocka_unit_test(test_changed_and_replaced),
	};

	if (!mkdtemp(dir))
		return 1;
	return cmocka_run_group_tests(tests, NULL, teardown);
}
