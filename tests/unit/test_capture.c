/* SPDX-License-Identifier: BSD-2-Clause */
/* test_capture.c: packet times from capture files, including the ones no clock could have written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture.h"

/* Append a pcapng block: type, length, body padded to 4, length again. */
static void put_block(FILE *f, uint32_t type, const void *body, uint32_t len)
{
	static const uint8_t zero[4];
	uint32_t pad = (4 - len % 4) % 4, total = len + pad + 12;

	fwrite(&type, 4, 1, f);
	fwrite(&total, 4, 1, f);
	fwrite(body, 1, len, f);
	fwrite(zero, 1, pad, f);
	fwrite(&total, 4, 1, f);
}

/*
 * A pcapng file (little-endian, microseconds) with one Ethernet interface
 * whose if_tsoffset is `offset` seconds, and one 14-byte frame at `ts` us.
 */
static void write_pcapng(const char *path, int64_t offset, uint64_t ts)
{
	FILE *f = fopen(path, "wb");
	uint8_t shb[16], idb[8 + 4 + 8 + 4], epb[20 + 16];
	uint32_t u32;
	uint16_t u16;
	int64_t len = -1;

	assert_non_null(f);
	u32 = 0x1A2B3C4D;
	memcpy(shb, &u32, 4);
	u16 = 1;
	memcpy(shb + 4, &u16, 2);
	u16 = 0;
	memcpy(shb + 6, &u16, 2);
	memcpy(shb + 8, &len, 8);
	put_block(f, 0x0A0D0D0A, shb, sizeof shb);

	memset(idb, 0, sizeof idb);
	u16 = 1;	/* LINKTYPE_ETHERNET */
	memcpy(idb, &u16, 2);
	u32 = 65535;
	memcpy(idb + 4, &u32, 4);
	u16 = 14;	/* if_tsoffset */
	memcpy(idb + 8, &u16, 2);
	u16 = 8;
	memcpy(idb + 10, &u16, 2);
	memcpy(idb + 12, &offset, 8);	/* opt_endofopt follows: the last 4 zero bytes */
	put_block(f, 1, idb, sizeof idb);

	memset(epb, 0, sizeof epb);
	u32 = (uint32_t)(ts >> 32);
	memcpy(epb + 4, &u32, 4);
	u32 = (uint32_t)ts;
	memcpy(epb + 8, &u32, 4);
	u32 = 14;
	memcpy(epb + 12, &u32, 4);
	memcpy(epb + 16, &u32, 4);
	put_block(f, 6, epb, sizeof epb);
	assert_int_equal(fclose(f), 0);
}

/* The time of the first packet of the file at path. */
static ng_time first_time(const char *path)
{
	struct capture_options o = {.file = path};
	struct capture_packet p;
	char err[512] = "";
	struct capture *c = capture_open(&o, err, sizeof err);

	if (!c)
		fail_msg("capture_open: %s", err);
	assert_int_equal(capture_next(c, &p, err, sizeof err), 1);
	capture_close(c);
	return p.ts;
}

/* An ordinary time is seconds and microseconds; one past what 64 bits of microseconds hold is held at 2^62 us. */
static void test_packet_times(void **state)
{
	char path[] = "/tmp/ng-test-capture-XXXXXX";
	int fd = mkstemp(path);
	const ng_time lim = ((int64_t)1 << 62) / NG_USEC * NG_USEC;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_pcapng(path, 0, 1700000000ULL * 1000000 + 123456);
	assert_int_equal(first_time(path), 1700000000LL * NG_USEC + 123456);
	/* 2^62 s of offset: seconds times 10^6 would overflow int64. */
	write_pcapng(path, (int64_t)1 << 62, 5);
	assert_int_equal(first_time(path), lim);
	write_pcapng(path, -((int64_t)1 << 62), 5);
	assert_int_equal(first_time(path), -lim);
	/* Before 1970 stays exact. */
	write_pcapng(path, -3000000000LL, 0);
	assert_int_equal(first_time(path), -3000000000LL * NG_USEC);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packet_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
