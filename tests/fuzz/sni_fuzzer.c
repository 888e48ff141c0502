/* SPDX-License-Identifier: BSD-2-Clause */
/* sni_fuzzer.c: libFuzzer harness for tls_sni_parse: invariants on the result and agreement between prefixes. */
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
	size_t need = 0, pneed = 0, cut = size ? (size_t)data[size - 1] * size / 256 : 0;
	enum names_result r, rp;
	uint8_t *copy;

	r = tls_sni_parse(data, size, full, sizeof full, &need);
	if (r == NAMES_FOUND)
		check_name(full);
	if (r == NAMES_NEED_MORE && (need <= size || need > NAMES_TLS_STREAM_MAX))
		abort();
	if (r != NAMES_NEED_MORE && need != 0)
		abort();
	/* A prefix either wants more or already knows the final answer. */
	copy = malloc(cut + 1);
	memcpy(copy, data, cut);
	rp = tls_sni_parse(copy, cut, part, sizeof part, &pneed);
	free(copy);
	if (rp != NAMES_NEED_MORE && rp != r)
		abort();
	if (rp == NAMES_FOUND && strcmp(part, full) != 0)
		abort();
	if (rp == NAMES_NEED_MORE && r == NAMES_NEED_MORE && pneed > need)
		abort();
	return 0;
}
