/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * regdomain.c: registrable domains by the Public Suffix List (libpsl).
 *
 * Why the PSL and not "the last two labels": bbc.co.uk, foo.github.io and
 * bar.s3.amazonaws.com are each one owner's domain, and a whitelist that
 * learnt "co.uk" or "amazonaws.com" as a known service would whitewash every
 * tenant under it. The list's private section (github.io, cloudfront.net,
 * s3.amazonaws.com ...) exists exactly to keep such tenants apart.
 */
#include "regdomain.h"

#include <libpsl.h>
#include <string.h>

#include "platform.h"
#include "util.h"

/* Debian's publicsuffix package (Windows: the copy beside netglobe.exe); psl_latest falls back to the built-in list when it is absent. */
#define REGDOMAIN_PSL_FILE platform_psl_file()

static psl_ctx_t *psl;

/*
 * Answers of recent lookups: libpsl's walk costs thousands of instructions
 * a name, and a host asks about the same names again and again (DNS answers,
 * each connection's name, the whitelist's services). The registrable domain
 * is a suffix of the name, so an entry is only the name's keyed hash and the
 * suffix's offset: direct-mapped, fixed in size, nothing to free.
 */
#define REGDOMAIN_CACHE 8192
struct rd_entry {
	uint64_t hash;		/* of the lower-cased name; 0: empty */
	int16_t offset;		/* where the registrable domain starts; -1: the name has none */
};
static struct rd_entry rd_cache[REGDOMAIN_CACHE];

int regdomain_init(char *err, size_t errlen)
{
	if (psl)
		return 0;
	psl = psl_latest(REGDOMAIN_PSL_FILE);
	if (!psl) {
		snprintf(err, errlen,
			 "cannot load the Public Suffix List (%s, or libpsl's built-in list) (install Debian's publicsuffix package)",
			 REGDOMAIN_PSL_FILE);
		return -1;
	}
	return 0;
}

void regdomain_cleanup(void)
{
	if (psl)
		psl_free(psl);
	psl = NULL;
	memset(rd_cache, 0, sizeof rd_cache);
}

/* True when s is a host name we will look up: letters, digits, '-', '_' and dots, no empty label. */
static bool plausible_host(const char *s, size_t n)
{
	bool all_digits_or_dots = true;

	if (n == 0 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.' && (i + 1 == n || s[i + 1] == '.'))
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
		if (!((c >= '0' && c <= '9') || c == '.'))
			all_digits_or_dots = false;
	}
	return !all_digits_or_dots;	/* 192.0.2.1 is an address, not a name */
}

/* The last two labels of a lower-cased name, or NULL. */
static const char *last_two_labels(const char *s, size_t n)
{
	int dots = 0;

	for (size_t i = n; i > 0; i--) {
		if (s[i - 1] == '.' && ++dots == 2)
			return s + i;
	}
	return dots == 1 ? s : NULL;
}

bool regdomain_of(const char *name, char *buf, size_t len)
{
	char low[256];
	const char *rd;
	struct rd_entry *e;
	uint64_t h;
	size_t n;

	if (len > 0)
		buf[0] = '\0';
	if (!name || len == 0)
		return false;
	n = strlen(name);
	if (n == 0 || n >= sizeof low)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		low[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	if (low[n - 1] == '.')	/* the root label */
		n--;
	low[n] = '\0';
	if (!plausible_host(low, n))
		return false;
	h = ng_hash64(low, n, psl ? 0x7073ULL : 0x6c32ULL) | 1;
	e = &rd_cache[h & (REGDOMAIN_CACHE - 1)];
	if (e->hash == h) {
		rd = e->offset >= 0 ? low + e->offset : NULL;
	} else {
		rd = psl ? psl_registrable_domain(psl, low) : last_two_labels(low, n);
		e->hash = h;
		e->offset = rd ? (int16_t)(rd - low) : -1;
	}
	if (!rd || strlen(rd) >= len)
		return false;
	memcpy(buf, rd, strlen(rd) + 1);
	return true;
}
