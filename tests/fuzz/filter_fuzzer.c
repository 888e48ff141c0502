/* SPDX-License-Identifier: BSD-2-Clause */
/* filter_fuzzer.c: libFuzzer harness for filter_parse: any query parses or fails cleanly, and matching never crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filter_view v = {
		.remote_ip = "2001:db8::1", .local_ip = "192.0.2.7", .domain = "www.example.com", .as_org = "Example AS",
		.proc_name = "curl", .exe = "/usr/bin/curl", .city = "Cape Town", .country = "ZA",
		.country_name = "South Africa", .proto = "tcp", .attention = "high", .verdict = "anomalous",
		.state = "established", .signals = {"beacon"}, .nsignals = 1, .asn = 64500, .proto_num = 6,
		.remote_port = 443, .local_port = 50000, .active = true, .bytes_sent = 1,
	};
	struct filter_view empty = {0};
	char q[FILTER_MAX_LEN + 2], err[300];
	size_t n = size < sizeof q - 1 ? size : sizeof q - 1;
	struct filter *f;

	memcpy(q, data, n);
	q[n] = '\0';
	err[0] = '\0';
	f = filter_parse(q, err, sizeof err);
	if (!f) {
		if (!err[0] || strlen(err) >= sizeof err)
			abort();	/* a refusal always says why */
		return 0;
	}
	(void)filter_match(f, &v);
	(void)filter_match(f, &empty);
	if (filter_terms(f) == 0 && (!filter_match(f, &v) || !filter_match(f, &empty)))
		abort();
	filter_free(f);
	return 0;
}
