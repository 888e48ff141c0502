/* SPDX-License-Identifier: BSD-2-Clause */
/* decode_fuzzer.c: libFuzzer harness for decode_packet. The first byte picks the link type. */
#include <pcap/dlt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP, DLT_RAW};
	struct pkt p;
	uint8_t *copy;

	if (size < 1)
		return 0;
	/* A private copy, so reading one byte past the end is caught by ASan. */
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	if (decode_packet(dlts[data[0] % 6], copy, (uint32_t)(size - 1), (uint32_t)(size - 1 + (data[0] & 0x80 ? 100 : 0)),
			  &p) == DECODE_OK) {
		/* The payload the decoder points at must lie inside the frame. */
		if (p.payload && (p.payload < copy || p.payload + p.payload_len > copy + (size - 1)))
			abort();
	}
	free(copy);
	return 0;
}
