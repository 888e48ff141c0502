/* SPDX-License-Identifier: BSD-2-Clause */
/* lists_fuzzer.c: libFuzzer harness for the allow-file and blocklist parsers and the prefix table built from them. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "util.h"
#include "wl_int.h"

/* Abort with a message when an invariant breaks (libFuzzer reports it as a crash). */
static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "lists_fuzzer: invariant broken: %s\n", what);
		abort();
	}
}

/* Every parsed CIDR is canonical, blocklists hold no special range, and the table finds each entry. */
static void check_list(const struct wl_list *l)
{
	const struct wl_cidr **cp = xmalloc((l->ncidrs ? l->ncidrs : 1) * sizeof *cp);
	struct wl_ptable *pt;

	for (size_t i = 0; i < l->ncidrs; i++) {
		const struct wl_cidr *c = &l->cidrs[i];
		unsigned bits = c->v == 4 ? 32 : 128;

		check(c->v == 4 || c->v == 6, "family");
		check(c->prefix <= bits, "prefix length");
		for (unsigned b = c->prefix; b < 128; b++)
			check((c->a[b / 8] & (0x80 >> (b % 8))) == 0, "host bits cleared");
		if (l->kind == WL_LIST_BLOCK)
			check(!wl_cidr_overlaps_special(c), "no special range in a blocklist");
		cp[i] = c;
	}
	pt = wl_ptable_build(cp, l->ncidrs);
	for (size_t i = 0; i < l->ncidrs; i++) {
		ng_addr a;
		uint32_t lab;
		ng_cidr k;

		memset(&a, 0, sizeof a);
		a.v = l->cidrs[i].v;
		memcpy(a.a, l->cidrs[i].a, 16);
		lab = wl_ptable_lookup(pt, &a);
		check(lab != WL_PT_NONE && lab < l->ncidrs, "an entry's own base is found");
		memset(&k, 0, sizeof k);
		k.base.v = l->cidrs[lab].v;
		memcpy(k.base.a, l->cidrs[lab].a, 16);
		k.prefix = l->cidrs[lab].prefix;
		check(cidr_contains(&k, &a), "the label found contains the address");
		check(l->cidrs[lab].prefix >= l->cidrs[i].prefix, "the innermost prefix wins");
	}
	for (size_t i = 0; i < l->ndomains; i++) {
		char again[WL_DOMAIN_MAX + 8], why[256];

		check(wl_rule_normalize(l->domains[i], again, sizeof again, why, sizeof why) == 0, "pattern re-parses");
		check(strcmp(again, l->domains[i]) == 0, "pattern normalisation is idempotent");
		if (l->domains[i][0] != '*')
			check(wl_domain_match(l->domains[i], l->domains[i]), "an exact pattern matches itself");
		else
			check(!wl_domain_match(l->domains[i], l->domains[i] + 2), "a wildcard never matches its base");
	}
	wl_ptable_free(pt);
	free(cp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], one[512], canon[WL_DOMAIN_MAX + 8];
	struct wl_list *l;

	for (int kind = WL_LIST_ALLOW; kind <= WL_LIST_BLOCK; kind++) {
		err[0] = '\0';
		if (wl_list_parse((enum wl_list_kind)kind, "fuzz.txt", (const char *)data, size, NULL, &l, err,
				  sizeof err) == 0) {
			check(l != NULL, "a list on success");
			check_list(l);
			wl_list_unref(l);
		} else {
			check(l == NULL, "no list on failure");
			check(strncmp(err, "fuzz.txt:", 9) == 0, "errors name the file and line");
		}
	}
	/* The first line as a trust/forget argument: normalisation is idempotent. */
	{
		size_t n = 0;

		while (n < size && n < sizeof one - 1 && data[n] != '\n' && data[n] != '\0')
			n++;
		memcpy(one, data, n);
		one[n] = '\0';
		if (wl_rule_normalize(one, canon, sizeof canon, err, sizeof err) == 0) {
			char again[WL_DOMAIN_MAX + 8];

			check(wl_rule_normalize(canon, again, sizeof again, err, sizeof err) == 0, "rule re-parses");
			check(strcmp(canon, again) == 0, "rule normalisation is idempotent");
		}
	}
	return 0;
}
