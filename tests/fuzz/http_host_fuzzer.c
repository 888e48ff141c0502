/* SPDX-License-Identifier: BSD-2-Clause */
/* http_host_fuzzer.c: libFuzzer harness for http_host_parse: invariants on the result and agreement between prefixes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

/* Abort unless s is a plain lower-case host name of at most 253 characters. */
static void check_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253)
		abort();
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char full[NG_NAME_MAX], part[NG_NAME_MAX];
	size_t cut = size ? (size_t)data[size - 1] * size / 256 : 0;
	enum names_result r, rp;
	uint8_t *copy;

	r = http_host_parse(data, size, full, sizeof full);
	if (r == NAMES_FOUND)
		check_name(full);
	if (r == NAMES_NEED_MORE && size >= NAMES_HTTP_HEAD_MAX)
		abort();
	/* A prefix either wants more or already knows the final answer. */
	copy = malloc(cut + 1);
	memcpy(copy, data, cut);
	rp = http_host_parse(copy, cut, part, sizeof part);
	free(copy);
	if (rp != NAMES_NEED_MORE && rp != r)
		abort();
	if (rp == NAMES_FOUND && strcmp(part, full) != 0)
		abort();
	return 0;
}
