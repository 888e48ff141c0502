/* SPDX-License-Identifier: BSD-2-Clause */
/* dns_fuzzer.c: libFuzzer harness for dns_parse/dns_learn/dns_lookup, with a no-false-data check on prefixes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "dns.h"
#include "names.h"
#include "util.h"

/* Mappings one parse reported. */
struct pairs {
	ng_addr addr[128];
	char name[128][NG_NAME_MAX];
	size_t n;
};

/* Abort unless a reported name is a plain lower-case host name of at most 253 characters. */
static void check_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
		abort();
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			abort();
	}
}

/* dns_parse callback: check and keep one mapping. */
static void pair_cb(const ng_addr *addr, const char *name, uint32_t ttl, void *arg)
{
	struct pairs *p = arg;

	(void)ttl;
	check_name(name);
	if (p->n < NG_ARRAY_LEN(p->addr)) {
		p->addr[p->n] = *addr;
		strcpy(p->name[p->n], name);
		p->n++;
	}
}

/* True when p holds (addr, name). */
static int has_pair(const struct pairs *p, const ng_addr *addr, const char *name)
{
	for (size_t i = 0; i < p->n; i++) {
		if (addr_equal(&p->addr[i], addr) && strcmp(p->name[i], name) == 0)
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pairs full, part;
	const ng_time t0 = 1700000000LL * NG_USEC;
	struct dns_cache *c = dns_cache_create(8, 60 * NG_USEC);
	struct dns_stats st;
	size_t cut = size ? (size_t)data[size - 1] * size / 256 : 0;
	int r, rp;

	full.n = part.n = 0;
	r = dns_parse(data, size, pair_cb, &full, NULL);
	if (r > 0 && (size_t)r != full.n && full.n < NG_ARRAY_LEN(full.addr))
		abort();
	/* A prefix says nothing the whole message does not (with a question to anchor the names). */
	rp = dns_parse(data, cut, pair_cb, &part, NULL);
	if (rp < 0 && r >= 0)
		abort();
	if (r >= 0 && size >= 6 && (data[4] | data[5]) != 0) {
		for (size_t i = 0; i < part.n; i++) {
			if (!has_pair(&full, &part.addr[i], part.name[i]))
				abort();
		}
	}
	/* The cache: learn, then what was learnt last is there at that time, and gone long after. */
	if (dns_learn(c, data, size, t0) != r)
		abort();
	if (full.n > 0) {
		const ng_addr *last = &full.addr[full.n - 1];
		const char *got = dns_lookup(c, last, t0);

		if (got == NULL)
			abort();
		check_name(got);
		if (dns_lookup(c, last, t0 - 1) != NULL)
			abort();
		if (dns_lookup(c, last, t0 + 8 * 86400LL * NG_USEC) != NULL)
			abort();
	}
	dns_learn(c, data, cut, t0 + NG_USEC);
	dns_get_stats(c, &st);
	if (st.entries > 8 || st.names > 3 * 8 || st.messages != 2)
		abort();
	dns_cache_destroy(c);
	return 0;
}
