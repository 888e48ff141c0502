/* SPDX-License-Identifier: BSD-2-Clause */
/* dns_summary_fuzzer.c: libFuzzer harness for dns_response_summary and dnsanom on what it returns. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "dns.h"
#include "dnsanom.h"
#include "util.h"

/* Abort unless a summary name is a lower-case, printable, NUL-terminated string within the buffer. */
static void check_name(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n >= cap)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || (c >= 'A' && c <= 'Z'))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dnsanom *da;
	char q[1100], small[16];
	uint16_t qt = 0;
	int rc = -1, r, rs;
	size_t cut = size ? (size_t)data[size - 1] * size / 256 : 0;
	ng_addr client = {4, {0, 0, 0}, {10, 0, 0, 1}};
	struct dnsanom_result res;

	if (!da)
		da = dnsanom_create(64);
	r = dns_response_summary(data, size, q, sizeof q, &qt, &rc);
	if (r != 0 && r != -1)
		abort();
	check_name(q, sizeof q);
	if (r == 0) {
		if (rc < 0 || rc > 15 || size < 12 || !(data[2] & 0x80))
			abort();
		dnsanom_response(da, &client, q, rc, 1700000000LL * NG_USEC);
		dnsanom_check(da, &client, q, 1700000000LL * NG_USEC, &res);
	} else if (q[0] != '\0') {
		abort();
	}
	/* A smaller buffer either gives the same name or refuses; never overflows. */
	rs = dns_response_summary(data, size, small, sizeof small, &qt, &rc);
	check_name(small, sizeof small);
	if (rs == 0 && (r != 0 || strcmp(small, q) != 0))
		abort();
	/* A prefix never succeeds where the whole failed (the question comes first). */
	if (dns_response_summary(data, cut, q, sizeof q, &qt, &rc) == 0 && r != 0)
		abort();
	return 0;
}
