/* SPDX-License-Identifier: BSD-2-Clause */
/* asn_table_fuzzer.c: libFuzzer harness for the .ngasn loader and lookup (geoip/asn.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "asn_table.h"

/*
 * The first input byte picks a mode; the rest is the table. In mode 1 the
 * harness writes the right checksum and file size into the header before
 * loading, so mutations get past those two checks and exercise the
 * structural validation behind them (sorting, indices, string pool). Any
 * table that loads is then searched for addresses taken from the input and
 * for the edges of both address spaces.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct asn_table *t;
	uint8_t *buf, probe[16];
	size_t len;
	char err[256], desc[512];

	if (size < 1)
		return 0;
	len = size - 1;
	/* An exact-size copy so ASan sees any read past the end. */
	buf = malloc(len > 0 ? len : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, len);
	if ((data[0] & 1) && len >= ASN_TABLE_HDRLEN) {
		for (int i = 0; i < 8; i++)
			buf[48 + i] = (uint8_t)((uint64_t)len >> (8 * i));
		uint64_t sum = asn_table_checksum(buf, len);
		for (int i = 0; i < 8; i++)
			buf[40 + i] = (uint8_t)(sum >> (8 * i));
	}
	t = asn_table_open_mem(buf, len, err, sizeof err);
	if (t != NULL) {
		ng_addr addrs[6];
		uint32_t asn;
		const char *org;

		memset(probe, 0, sizeof probe);
		memcpy(probe, data + (size > 16 ? size - 16 : 0), size > 16 ? 16 : size);
		addrs[0] = addr_from_v4(probe);
		addrs[1] = addr_from_v6(probe);
		memset(probe, 0, sizeof probe);
		addrs[2] = addr_from_v4(probe);
		addrs[3] = addr_from_v6(probe);
		memset(probe, 0xff, sizeof probe);
		addrs[4] = addr_from_v4(probe);
		addrs[5] = addr_from_v6(probe);
		for (size_t i = 0; i < 6; i++) {
			if (asn_table_lookup(t, &addrs[i], &asn, &org) && strlen(org) > ASN_TABLE_STRMAX)
				abort();
		}
		asn_table_describe(t, desc, sizeof desc);
		asn_table_close(t);
	}
	free(buf);
	return 0;
}
