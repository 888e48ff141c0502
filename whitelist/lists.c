/* SPDX-License-Identifier: BSD-2-Clause */
/* lists.c: parsers for allow files and IP reputation lists (FireHOL, Spamhaus DROP, abuse.ch Feodo CSV). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "platform.h"
#include "util.h"
#include "wl_int.h"

/*
 * DESIGN
 *
 * The format is decided per line, never by file name, so any mix works:
 *
 *   "# ..." or "; ..."                       comment (FireHOL, Spamhaus, Feodo)
 *   "1.2.3.0/24" "1.2.3.4" "2001:db8::/32"   plain entry (FireHOL .netset/.ipset,
 *                                            Feodo ipblocklist.txt); a trailing
 *   "1.2.3.0/24 ; SBL123"                    "#"/";" comment is allowed (DROP)
 *   "\"2024-..\",\"1.2.3.4\",\"443\",.."       CSV (RFC 4180): the first field that
 *                                            is an address or CIDR is the entry
 *                                            (Feodo's dst_ip, or a generic
 *                                            "address first" CSV)
 *   {"cidr":"1.2.3.0/24","sblid":..}         Spamhaus DROP JSON lines; objects
 *                                            without "cidr" are metadata
 *
 * Strictness. Bytes below 0x20 other than tab and CR (NUL included), a gzip
 * header, or a line over WL_LINE_MAX reject the file at once: it is not a text
 * list, and guessing would be worse than keeping the previous one. A malformed
 * entry line rejects an allow file (the user wrote it; a typo should be
 * fixed, not ignored). A blocklist is published by someone else and may carry
 * the odd broken line among a million good ones, so up to WL_BAD_PERCENT of
 * its entry lines may be skipped (counted, with the first line number, for
 * the log); more than that, and the file is rejected as not being a list
 * (an HTML error page, a truncated download). A CSV line without an address
 * before any entry is a header and is skipped.
 *
 * Special ranges. A blocklist entry that contains or lies inside a range that
 * addr_scope() calls non-public (RFC 1918, loopback, link-local, CGNAT,
 * multicast, documentation, reserved, 0.0.0.0/8, ...) is dropped and counted,
 * unless it lies inside a range the user declared public (--public-net).
 * Dropping rather than clipping: such entries are bogon aggregates in practice
 * (FireHOL level 1 lists 0.0.0.0/8, 10.0.0.0/8, 224.0.0.0/3), and clipping a
 * catch-all like 0.0.0.0/0 would turn the whole Internet red.
 */

/* The special ranges, as in addr.c's tables (test_whitelist checks they agree with addr_scope). */
static const char *const special_ranges[] = {
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
	"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
	"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
	"::/8", "100::/64", "2001:db8::/32", "3fff::/20", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
};

static struct wl_cidr special_cidrs[NG_ARRAY_LEN(special_ranges)];
static bool special_ready;
/* special_byte[0][b]: some IPv4 special range has first byte b; [1] the same for IPv6. */
static bool special_byte[2][256];

static void special_init(void);
static bool cidr_within(const struct wl_cidr *outer, const struct wl_cidr *inner);
static struct wl_list *list_new(enum wl_list_kind kind, const char *path);
static void list_add_cidr(struct wl_list *l, const struct wl_cidr *c, const char *rule);
static void list_add_domain(struct wl_list *l, const char *pattern);
static int token_cidr(const char *tok, size_t n, struct wl_cidr *out, char *why, size_t whylen);
static int block_line(struct wl_list *l, const char *s, size_t n, const struct wl_parse_opts *po, bool *header_ok,
		      char *why, size_t whylen);
static int allow_line(struct wl_list *l, const char *s, size_t n, char *why, size_t whylen);
static size_t first_token(const char *s, size_t n);
static bool rest_is_comment(const char *s, size_t n);

/* Parse the special range table once. */
static void special_init(void)
{
	char err[128];

	if (special_ready)
		return;
	for (size_t i = 0; i < NG_ARRAY_LEN(special_ranges); i++) {
		ng_cidr c;

		if (cidr_parse(special_ranges[i], &c, err, sizeof err) != 0)
			fatalx("whitelist: bad built-in special range %s: %s", special_ranges[i], err);
		special_cidrs[i] = wl_cidr_from(&c);
		/* Flag every first byte the range covers. */
		{
			unsigned lo = c.base.a[0], span = c.prefix >= 8 ? 0 : 0xffu >> c.prefix;

			for (unsigned b = lo; b <= (lo | span); b++)
				special_byte[c.base.v == 6][b] = true;
		}
	}
	special_ready = true;
}

bool wl_addr_maybe_special(const ng_addr *addr)
{
	if (!special_ready)
		special_init();
	return addr->v != 4 && addr->v != 6 ? true : special_byte[addr->v == 6][addr->a[0]];
}

struct wl_cidr wl_cidr_from(const ng_cidr *c)
{
	struct wl_cidr w;

	memset(&w, 0, sizeof w);
	w.v = c->base.v;
	w.prefix = c->prefix;
	memcpy(w.a, c->base.a, sizeof w.a);
	return w;
}

char *wl_cidr_format(const struct wl_cidr *c, char *buf, size_t len)
{
	ng_addr a;
	char t[NG_ADDRSTRLEN];

	memset(&a, 0, sizeof a);
	a.v = c->v;
	memcpy(a.a, c->a, sizeof a.a);
	addr_format(&a, t, sizeof t);
	if (c->prefix == (c->v == 4 ? 32 : 128))
		snprintf(buf, len, "%s", t);
	else
		snprintf(buf, len, "%s/%u", t, c->prefix);
	return buf;
}

/* True when `inner` lies inside `outer` (same family, outer no longer, same leading bits). */
static bool cidr_within(const struct wl_cidr *outer, const struct wl_cidr *inner)
{
	unsigned full, rest;

	if (outer->v != inner->v || outer->prefix > inner->prefix)
		return false;
	full = outer->prefix / 8;
	rest = outer->prefix % 8;
	if (memcmp(outer->a, inner->a, full) != 0)
		return false;
	return rest == 0 || ((outer->a[full] ^ inner->a[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool wl_cidr_overlaps_special(const struct wl_cidr *c)
{
	if (!special_ready)
		special_init();
	/* A /8 or longer whose first byte starts no special range overlaps none (the common case). */
	if (c->prefix >= 8 && (c->v == 4 || c->v == 6) && !special_byte[c->v == 6][c->a[0]])
		return false;
	/* Two prefixes overlap exactly when one lies inside the other. */
	for (size_t i = 0; i < NG_ARRAY_LEN(special_cidrs); i++) {
		if (cidr_within(&special_cidrs[i], c) || cidr_within(c, &special_cidrs[i]))
			return true;
	}
	return false;
}

/* A new empty list named after the file's base name; one reference. */
static struct wl_list *list_new(enum wl_list_kind kind, const char *path)
{
	struct wl_list *l = xcalloc(1, sizeof *l);
	const char *base = strrchr(path, '/');

	l->refs = 1;
	l->kind = kind;
	l->name = str_intern(base && base[1] ? base + 1 : path);
	return l;
}

struct wl_list *wl_list_ref(struct wl_list *l)
{
	l->refs++;
	return l;
}

void wl_list_unref(struct wl_list *l)
{
	if (l == NULL || --l->refs > 0)
		return;
	for (size_t i = 0; l->cidr_rules && i < l->ncidrs; i++)
		free(l->cidr_rules[i]);
	for (size_t i = 0; i < l->ndomains; i++)
		free(l->domains[i]);
	free(l->cidrs);
	free(l->cidr_rules);
	free(l->domains);
	free(l);
}

/* Append a CIDR (and, for allow lists, a copy of its rule text). */
static void list_add_cidr(struct wl_list *l, const struct wl_cidr *c, const char *rule)
{
	if (l->ncidrs == l->cidrcap) {
		l->cidrcap = l->cidrcap ? l->cidrcap * 2 : 64;
		l->cidrs = xrealloc(l->cidrs, l->cidrcap * sizeof *l->cidrs);
		if (l->kind == WL_LIST_ALLOW)
			l->cidr_rules = xrealloc(l->cidr_rules, l->cidrcap * sizeof *l->cidr_rules);
	}
	l->cidrs[l->ncidrs] = *c;
	if (l->kind == WL_LIST_ALLOW)
		l->cidr_rules[l->ncidrs] = xstrdup(rule);
	l->ncidrs++;
}

/* Append a copy of a normalised domain pattern. */
static void list_add_domain(struct wl_list *l, const char *pattern)
{
	if (l->ndomains == l->domcap) {
		l->domcap = l->domcap ? l->domcap * 2 : 16;
		l->domains = xrealloc(l->domains, l->domcap * sizeof *l->domains);
	}
	l->domains[l->ndomains++] = xstrdup(pattern);
}

/*
 * Fast path for the common plain IPv4 form "a.b.c.d" or "a.b.c.d/len"
 * (RFC 4632 notation; no leading zeros, as inet_pton wants): true when it
 * applied. Anything else is left to cidr_parse, which also words the errors.
 */
static bool token_v4_fast(const char *t, size_t n, struct wl_cidr *out)
{
	uint32_t v = 0, prefix = 32;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		uint32_t o = 0;
		size_t start = i;

		if (part > 0) {
			if (i >= n || t[i] != '.')
				return false;
			start = ++i;
		}
		while (i < n && t[i] >= '0' && t[i] <= '9' && i - start < 3)
			o = o * 10 + (uint32_t)(t[i++] - '0');
		if (i == start || o > 255 || (i - start > 1 && t[start] == '0'))
			return false;
		v = v << 8 | o;
	}
	if (i < n) {
		size_t start;

		if (t[i] != '/')
			return false;
		start = ++i;
		prefix = 0;
		while (i < n && t[i] >= '0' && t[i] <= '9' && i - start < 2)
			prefix = prefix * 10 + (uint32_t)(t[i++] - '0');
		if (i == start || i != n || prefix > 32 || (i - start > 1 && t[start] == '0'))
			return false;
	}
	if (prefix < 32)
		v &= prefix == 0 ? 0 : ~(uint32_t)0 << (32 - prefix);
	memset(out, 0, sizeof *out);
	out->v = 4;
	out->prefix = (uint8_t)prefix;
	out->a[0] = (uint8_t)(v >> 24);
	out->a[1] = (uint8_t)(v >> 16);
	out->a[2] = (uint8_t)(v >> 8);
	out->a[3] = (uint8_t)v;
	return true;
}

/* Parse n bytes as an address or CIDR; -1 with the reason in why. */
static int token_cidr(const char *tok, size_t n, struct wl_cidr *out, char *why, size_t whylen)
{
	char buf[NG_ADDRSTRLEN + 8];
	ng_cidr c;

	if (token_v4_fast(tok, n, out))
		return 0;
	if (n == 0 || n >= sizeof buf) {
		snprintf(why, whylen, "'%.*s' is not an address or CIDR", (int)NG_MIN(n, 60), tok);
		return -1;
	}
	memcpy(buf, tok, n);
	buf[n] = '\0';
	if (cidr_parse(buf, &c, why, whylen) != 0)
		return -1;
	*out = wl_cidr_from(&c);
	return 0;
}

/* Length of the first token: up to blank, '#', ';' or ','. */
static size_t first_token(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '#' && s[i] != ';' && s[i] != ',')
		i++;
	return i;
}

/* True when what follows an entry is blank or a '#'/';' comment. */
static bool rest_is_comment(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i == n || s[i] == '#' || s[i] == ';';
}

/* Find `key` (a quoted JSON key) in a line and return its string value's bounds; false when absent. */
static bool json_string_field(const char *s, size_t n, const char *key, const char **val, size_t *vlen)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i + klen <= n; i++) {
		size_t j;

		if (memcmp(s + i, key, klen) != 0)
			continue;
		j = i + klen;
		while (j < n && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j >= n || s[j] != ':')
			continue;
		j++;
		while (j < n && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (j >= n || s[j] != '"')
			return false;
		j++;
		*val = s + j;
		while (j < n && s[j] != '"')
			j++;
		if (j >= n)
			return false;
		*vlen = (size_t)(s + j - *val);
		return true;
	}
	return false;
}

/*
 * Find the first field of a CSV line (RFC 4180: fields separated by commas,
 * optionally quoted, "" inside quotes is a quote) that is an address or CIDR.
 */
static bool csv_first_address(const char *s, size_t n, struct wl_cidr *out)
{
	size_t i = 0;

	while (i <= n) {
		char field[NG_ADDRSTRLEN + 8];
		size_t flen = 0;
		bool fits = true;
		char why[128];

		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i < n && s[i] == '"') {
			i++;
			while (i < n) {
				if (s[i] == '"') {
					if (i + 1 < n && s[i + 1] == '"') {
						i++;
					} else {
						i++;
						break;
					}
				}
				if (flen + 1 < sizeof field)
					field[flen++] = s[i];
				else
					fits = false;
				i++;
			}
			while (i < n && s[i] != ',')
				i++;
		} else {
			while (i < n && s[i] != ',') {
				if (flen + 1 < sizeof field)
					field[flen++] = s[i];
				else
					fits = false;
				i++;
			}
			while (flen > 0 && (field[flen - 1] == ' ' || field[flen - 1] == '\t'))
				flen--;
		}
		if (fits && flen > 0 && token_cidr(field, flen, out, why, sizeof why) == 0)
			return true;
		i++;	/* past the comma (or the end) */
	}
	return false;
}

/* True when the CIDR lies inside a range the user declared public (--public-net). */
static bool inside_public(const struct wl_cidr *c, const struct wl_parse_opts *po)
{
	for (size_t i = 0; po && i < po->npublic; i++) {
		struct wl_cidr p = wl_cidr_from(&po->public_nets[i]);

		if (cidr_within(&p, c))
			return true;
	}
	return false;
}

/*
 * One trimmed, non-comment blocklist line: add its entry. Returns 1 when an
 * entry was found (added or dropped), 0 when the line holds no entry (JSON
 * metadata, a CSV header), -1 when malformed (reason in why).
 */
static int block_line(struct wl_list *l, const char *s, size_t n, const struct wl_parse_opts *po, bool *header_ok,
		      char *why, size_t whylen)
{
	struct wl_cidr c;
	size_t tl = first_token(s, n);

	if (s[0] == '{') {
		const char *v;
		size_t vlen;

		/* Spamhaus DROP JSON: {"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"} */
		if (!json_string_field(s, n, "\"cidr\"", &v, &vlen))
			return 0;
		if (token_cidr(v, vlen, &c, why, whylen) != 0)
			return -1;
	} else if (s[0] == '"' || (tl < n && s[tl] == ',')) {
		/* CSV; the first data line without an address is a header. */
		if (!csv_first_address(s, n, &c)) {
			if (*header_ok) {
				*header_ok = false;
				return 0;
			}
			snprintf(why, whylen, "no address in CSV line '%.*s'", (int)NG_MIN(n, 60), s);
			return -1;
		}
	} else {
		if (token_cidr(s, tl, &c, why, whylen) != 0)
			return -1;
		if (!rest_is_comment(s + tl, n - tl)) {
			snprintf(why, whylen, "unexpected text after '%.*s' (one address or CIDR per line; "
				 "comments start with # or ;)", (int)NG_MIN(tl, 60), s);
			return -1;
		}
	}
	*header_ok = false;
	if (wl_cidr_overlaps_special(&c) && !inside_public(&c, po))
		l->dropped_special++;
	else
		list_add_cidr(l, &c, NULL);
	return 1;
}

/* One trimmed, non-comment allow line: an address, CIDR or domain pattern. 0 or -1 with why. */
static int allow_line(struct wl_list *l, const char *s, size_t n, char *why, size_t whylen)
{
	size_t tl = first_token(s, n);
	char tok[WL_DOMAIN_MAX + 8], canon[WL_DOMAIN_MAX + 8];
	struct wl_cidr c;

	if (!rest_is_comment(s + tl, n - tl)) {
		snprintf(why, whylen, "unexpected text after '%.*s' (one address, CIDR or domain pattern per line; "
			 "comments start with # or ;)", (int)NG_MIN(tl, 60), s);
		return -1;
	}
	if (tl >= sizeof tok) {
		snprintf(why, whylen, "'%.*s...' is too long for an address or domain", (int)NG_MIN(tl, 60), s);
		return -1;
	}
	memcpy(tok, s, tl);
	tok[tl] = '\0';
	if (wl_rule_normalize(tok, canon, sizeof canon, why, whylen) != 0)
		return -1;
	if (token_cidr(canon, strlen(canon), &c, why, whylen) == 0)
		list_add_cidr(l, &c, canon);
	else
		list_add_domain(l, canon);
	return 0;
}

int wl_domain_normalize(const char *s, size_t n, char *out, size_t outlen, char *err, size_t errlen)
{
	size_t o = 0, label = 0, start = 0;
	bool all_digits = true;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0) {
		snprintf(err, errlen, "empty domain name");
		return -1;
	}
	if (n == 1 && s[0] == '*') {
		snprintf(err, errlen, "'*' alone would allow everything (use *.example.com)");
		return -1;
	}
	if (n >= 2 && s[0] == '*' && s[1] == '.') {
		if (outlen < 3)
			goto toolong;
		out[o++] = '*';
		out[o++] = '.';
		start = 2;
	}
	if (n - start > 253)
		goto toolong;
	for (size_t i = start; i < n; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch + 32);
		if (ch == '.') {
			if (label == 0) {
				snprintf(err, errlen, "empty label in domain '%.*s'", (int)NG_MIN(n, 80), s);
				return -1;
			}
			label = 0;
			all_digits = true;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_') {
			if (++label > 63) {
				snprintf(err, errlen, "label longer than 63 bytes in domain '%.*s'", (int)NG_MIN(n, 80), s);
				return -1;
			}
			if (ch < '0' || ch > '9')
				all_digits = false;
		} else if (ch == '*') {
			snprintf(err, errlen, "'%.*s': a wildcard may only be the whole first label, as in "
				 "*.example.com", (int)NG_MIN(n, 80), s);
			return -1;
		} else {
			snprintf(err, errlen, "'%.*s' is not an address, CIDR or domain pattern (use example.com or "
				 "*.example.com)", (int)NG_MIN(n, 80), s);
			return -1;
		}
		if (o + 1 >= outlen)
			goto toolong;
		out[o++] = ch;
	}
	if (label == 0) {
		snprintf(err, errlen, "empty label in domain '%.*s'", (int)NG_MIN(n, 80), s);
		return -1;
	}
	if (all_digits) {
		snprintf(err, errlen, "'%.*s' is neither a valid address nor a domain name", (int)NG_MIN(n, 80), s);
		return -1;
	}
	out[o] = '\0';
	return 0;
toolong:
	snprintf(err, errlen, "domain '%.*s...' is longer than 253 bytes", (int)NG_MIN(n, 60), s);
	return -1;
}

int wl_rule_normalize(const char *what, char *out, size_t outlen, char *err, size_t errlen)
{
	size_t n;
	ng_cidr c;

	while (*what == ' ' || *what == '\t')
		what++;
	n = strlen(what);
	while (n > 0 && (what[n - 1] == ' ' || what[n - 1] == '\t' || what[n - 1] == '\n' || what[n - 1] == '\r'))
		n--;
	if (n == 0) {
		snprintf(err, errlen, "empty rule (give an address, a CIDR or a domain pattern)");
		return -1;
	}
	/* Anything with ':' or '/' or made only of digits and dots is meant as an address. */
	if (memchr(what, ':', n) || memchr(what, '/', n) || strspn(what, "0123456789.") >= n) {
		char buf[NG_ADDRSTRLEN + 8];
		struct wl_cidr w;

		if (n >= sizeof buf) {
			snprintf(err, errlen, "'%.60s' is not an address or CIDR", what);
			return -1;
		}
		memcpy(buf, what, n);
		buf[n] = '\0';
		if (cidr_parse(buf, &c, err, errlen) != 0)
			return -1;
		w = wl_cidr_from(&c);
		wl_cidr_format(&w, out, outlen);
		return 0;
	}
	return wl_domain_normalize(what, n, out, outlen, err, errlen);
}

/* A list being parsed line by line (from memory or streamed from a file). */
struct list_parser {
	struct wl_list *l;
	const char *path;
	const struct wl_parse_opts *po;
	size_t max_cidrs;	/* blocklists: entries kept at most (the rest counted in l->over_cap) */
	bool header_ok;
	size_t lineno;
};

/* Start parsing; the first bytes of the file say whether it is text at all. 0, or -1 with err. */
static int parser_begin(struct list_parser *ps, enum wl_list_kind kind, const char *path,
			const struct wl_parse_opts *po, const char *first, size_t n, char *err, size_t errlen)
{
	memset(ps, 0, sizeof *ps);
	ps->l = list_new(kind, path);
	ps->path = path;
	ps->po = po;
	ps->header_ok = true;
	ps->max_cidrs = po && po->max_entries ? po->max_entries : WL_DEFAULT_MAX_LIST_ENTRIES;
	if (n >= 2 && (uint8_t)first[0] == 0x1f && (uint8_t)first[1] == 0x8b) {
		snprintf(err, errlen, "%s:1: gzip-compressed data, not a text list (decompress it first)", path);
		return -1;
	}
	return 0;
}

/* Parse one line (without its newline; the BOM already skipped). 0, or -1 with err. */
static int parser_line(struct list_parser *ps, const char *p, size_t n, char *err, size_t errlen)
{
	struct wl_list *l = ps->l;
	size_t scan = NG_MIN(n, (size_t)WL_LINE_MAX + 1);
	const char *s = p;
	char why[256];
	int r;

	ps->lineno++;
	for (size_t i = 0; i < scan; i++) {
		uint8_t ch = (uint8_t)p[i];

		if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f) {
			snprintf(err, errlen, "%s:%zu: binary data (byte 0x%02x), not a text list", ps->path, ps->lineno,
				 ch);
			return -1;
		}
	}
	if (n > WL_LINE_MAX) {
		snprintf(err, errlen, "%s:%zu: line longer than %d bytes", ps->path, ps->lineno, WL_LINE_MAX);
		return -1;
	}
	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r')) {
		s++;
		n--;
	}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n == 0 || s[0] == '#' || s[0] == ';')
		return 0;
	why[0] = '\0';
	if (l->kind == WL_LIST_ALLOW) {
		l->entry_lines++;
		if (allow_line(l, s, n, why, sizeof why) != 0) {
			snprintf(err, errlen, "%s:%zu: %s", ps->path, ps->lineno, why);
			return -1;
		}
		return 0;
	}
	if (l->ncidrs >= ps->max_cidrs) {
		/* Past the cap: counted, not kept (list_log says so once). */
		l->entry_lines++;
		l->over_cap++;
		return 0;
	}
	r = block_line(l, s, n, ps->po, &ps->header_ok, why, sizeof why);
	if (r == 0)
		return 0;
	l->entry_lines++;
	if (r < 0 && l->bad++ == 0) {
		l->first_bad_line = ps->lineno;
		if (s[0] == '<')
			snprintf(l->first_bad, sizeof l->first_bad, "looks like HTML, not a list (did the download fail?)");
		else
			snprintf(l->first_bad, sizeof l->first_bad, "%s", why);
	}
	return 0;
}

/* Finish: judge the malformed share and trim the arrays to what is kept. 0 with *out, or -1 with err. */
static int parser_end(struct list_parser *ps, struct wl_list **out, char *err, size_t errlen)
{
	struct wl_list *l = ps->l;

	l->lines = ps->lineno;
	if (l->bad > 0 && l->bad * 100 > l->entry_lines * WL_BAD_PERCENT) {
		snprintf(err, errlen, "%s:%zu: %s (%zu of %zu entry lines are malformed; at most %d%% may be)",
			 ps->path, l->first_bad_line, l->first_bad, l->bad, l->entry_lines, WL_BAD_PERCENT);
		return -1;
	}
	if (l->cidrcap > l->ncidrs && l->ncidrs > 0) {
		/* Memory in proportion to what is kept, not to the doubling that built it. */
		l->cidrs = xrealloc(l->cidrs, l->ncidrs * sizeof *l->cidrs);
		if (l->cidr_rules)
			l->cidr_rules = xrealloc(l->cidr_rules, l->ncidrs * sizeof *l->cidr_rules);
		l->cidrcap = l->ncidrs;
	}
	*out = l;
	ps->l = NULL;
	return 0;
}

int wl_list_parse(enum wl_list_kind kind, const char *path, const char *buf, size_t len,
		  const struct wl_parse_opts *po, struct wl_list **out, char *err, size_t errlen)
{
	struct list_parser ps;
	const char *p = buf, *end = buf + len;

	*out = NULL;
	if (parser_begin(&ps, kind, path, po, buf, len, err, errlen) != 0)
		goto fail;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p += 3;	/* UTF-8 byte order mark */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		if (parser_line(&ps, p, (size_t)(le - p), err, errlen) != 0)
			goto fail;
		p = nl ? nl + 1 : end;
	}
	if (parser_end(&ps, out, err, errlen) != 0)
		goto fail;
	return 0;
fail:
	wl_list_unref(ps.l);
	return -1;
}

/* Bytes read from a list file at a time: the file is streamed, never held whole. */
#define LIST_CHUNK (256 * 1024)

int wl_list_load(enum wl_list_kind kind, const char *path, const struct wl_parse_opts *po, unsigned how,
		 struct wl_list **out, char *err, size_t errlen)
{
	char why[256];
	int fd = ng_open_checked(path, O_RDONLY, 0, how, why, sizeof why);
	/* A chunk, plus room for the unfinished line carried over from the previous one. */
	char *buf;
	size_t have = 0;
	bool started = false;
	struct list_parser ps;

	*out = NULL;
	memset(&ps, 0, sizeof ps);
	if (fd < 0) {
		int e = errno;

		if (how & NG_OPEN_OWNED)
			snprintf(err, errlen, "cannot read the trusted rules %s: %s", path, why);
		else
			snprintf(err, errlen, "cannot read %s %s: %s (check --%s)",
				 kind == WL_LIST_ALLOW ? "allow file" : "blocklist", path, why,
				 kind == WL_LIST_ALLOW ? "allow" : "blocklist");
		errno = e;
		return -1;
	}
	buf = xmalloc(LIST_CHUNK + WL_LINE_MAX + 2);
	for (;;) {
		ssize_t n = read(fd, buf + have, LIST_CHUNK);
		size_t start = 0, end;
		bool eof;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			goto fail;
		}
		eof = n == 0;
		end = have + (size_t)n;
		if (!started) {
			started = true;
			if (parser_begin(&ps, kind, path, po, buf, end, err, errlen) != 0)
				goto fail;
			if (end >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
				start = 3;
		}
		for (;;) {
			char *nl = memchr(buf + start, '\n', end - start);

			if (!nl)
				break;
			if (parser_line(&ps, buf + start, (size_t)(nl - (buf + start)), err, errlen) != 0)
				goto fail;
			start = (size_t)(nl - buf) + 1;
		}
		if (eof) {
			if (start < end && parser_line(&ps, buf + start, end - start, err, errlen) != 0)
				goto fail;
			break;
		}
		/* Carry the unfinished line over; one longer than a line may be is an error now. */
		if (end - start > WL_LINE_MAX) {
			snprintf(err, errlen, "%s:%zu: line longer than %d bytes", path, ps.lineno + 1, WL_LINE_MAX);
			goto fail;
		}
		memmove(buf, buf + start, end - start);
		have = end - start;
	}
	free(buf);
	buf = NULL;
	close(fd);
	fd = -1;
	if (parser_end(&ps, out, err, errlen) != 0)
		goto fail;
	return 0;
fail:
	free(buf);
	if (fd >= 0)
		close(fd);
	wl_list_unref(ps.l);
	errno = EINVAL;
	return -1;
}
