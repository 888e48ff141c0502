/* SPDX-License-Identifier: BSD-2-Clause */
/* filter.c: the /flows?q= grammar: words and field:value terms, negation, comma lists, quotes. */
#include "filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "util.h"

/*
 * DESIGN
 *
 * A query is parsed once into terms; matching a flow then walks the terms
 * with no allocation. Every term must pass (AND); the values of one term
 * are alternatives (OR); '-' negates a whole term. Tokens are split on
 * unquoted spaces, and a field name counts only before an unquoted colon,
 * so "a:b" in quotes stays a word. A word whose prefix is not a field name
 * is a plain word: IPv6 addresses need no quoting. The module reads only a
 * struct filter_view, so flows in the table and flow objects read back from
 * the history store are judged by the same code.
 */

enum ffield {
	FF_TEXT = 0,
	FF_ATTENTION,
	FF_VERDICT,
	FF_PROTO,
	FF_PORT,
	FF_LPORT,
	FF_IP,
	FF_DOMAIN,
	FF_ORG,
	FF_PROCESS,
	FF_COUNTRY,
	FF_CITY,
	FF_DIR,
	FF_STATE,
	FF_SIGNAL,
	FF_TRUSTED,
	FF_EVIDENCE,
};

static const struct {
	const char *name;
	enum ffield field;
} filter_fields[] = {
	{"attention", FF_ATTENTION}, {"verdict", FF_VERDICT}, {"proto", FF_PROTO}, {"port", FF_PORT},
	{"lport", FF_LPORT}, {"ip", FF_IP}, {"addr", FF_IP}, {"domain", FF_DOMAIN}, {"org", FF_ORG},
	{"as", FF_ORG}, {"process", FF_PROCESS}, {"country", FF_COUNTRY}, {"city", FF_CITY}, {"dir", FF_DIR},
	{"state", FF_STATE}, {"signal", FF_SIGNAL}, {"trusted", FF_TRUSTED}, {"evidence", FF_EVIDENCE},
};

static const char *const attention_names[] = {"none", "low", "high", NULL};
static const char *const verdict_names[] = {"normal", "anomalous", "blocklisted", "local", "none", NULL};
static const char *const dir_names[] = {"sent", "received", "out", "in", NULL};
static const char *const state_names[] = {"active", "ended", "open", "syn_sent", "established", "closing",
					  "closed", "reset", NULL};
static const char *const yesno_names[] = {"yes", "no", "true", "false", "1", "0", NULL};

/* One value of a term: its text (lower case), and what it parsed to. */
struct fvalue {
	const char *s;
	uint32_t lo, hi;		/* ports, protocol number, AS number */
	bool num;			/* FF_ORG: an AS number; FF_TEXT: all digits (a port) */
};

struct fterm {
	enum ffield field;
	bool neg;
	struct fvalue *v;
	size_t nv;
};

struct filter {
	struct fterm *t;
	size_t n;
	char *buf;			/* every value's text, NUL-separated */
};

/* True when s (lower case) is one of the names. */
static bool in_names(const char *s, const char *const *names)
{
	for (size_t i = 0; names[i]; i++) {
		if (strcmp(s, names[i]) == 0)
			return true;
	}
	return false;
}

/* Whole decimal number in [0, max]; -1 when s is not one. */
static int parse_num(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t n = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > max)
			return -1;
	}
	*out = (uint32_t)n;
	return 0;
}

/* The protocol number of a name ("tcp"), a number or "ip-N"; -1 when none. */
static int proto_num(const char *s)
{
	static const struct {
		const char *name;
		int num;
	} names[] = {{"icmp", 1}, {"tcp", 6}, {"udp", 17}, {"icmpv6", 58}, {"sctp", 132}};
	uint32_t n;

	for (size_t i = 0; i < NG_ARRAY_LEN(names); i++) {
		if (strcmp(s, names[i].name) == 0)
			return names[i].num;
	}
	if (strncmp(s, "ip-", 3) == 0)
		s += 3;
	return parse_num(s, 255, &n) == 0 ? (int)n : -1;
}

/* Check and parse one value of a field; -1 with the sentence's end in err. */
static int value_parse(enum ffield field, struct fvalue *v, char *err, size_t errlen)
{
	const char *s = v->s, *dash;
	int p;

	switch (field) {
	case FF_TEXT:
		v->num = parse_num(s, 65535, &v->lo) == 0;
		return 0;
	case FF_ATTENTION:
		if (in_names(s, attention_names))
			return 0;
		snprintf(err, errlen, "bad attention '%.40s' (use high, low or none)", s);
		return -1;
	case FF_VERDICT:
		if (in_names(s, verdict_names))
			return 0;
		snprintf(err, errlen, "bad verdict '%.40s' (use normal, anomalous, blocklisted, local or none)", s);
		return -1;
	case FF_PROTO:
		if ((p = proto_num(s)) >= 0) {
			v->lo = (uint32_t)p;
			return 0;
		}
		snprintf(err, errlen, "bad proto '%.40s' (use tcp, udp, icmp, icmpv6, sctp, ip-N or a number 0-255)", s);
		return -1;
	case FF_PORT:
	case FF_LPORT:
		dash = strchr(s, '-');
		if (dash) {
			char lo[8];
			size_t n = (size_t)(dash - s);

			if (n > 0 && n < sizeof lo) {
				memcpy(lo, s, n);
				lo[n] = '\0';
				if (parse_num(lo, 65535, &v->lo) == 0 && parse_num(dash + 1, 65535, &v->hi) == 0 &&
				    v->lo <= v->hi)
					return 0;
			}
		} else if (parse_num(s, 65535, &v->lo) == 0) {
			v->hi = v->lo;
			return 0;
		}
		snprintf(err, errlen, "bad port '%.40s' (want a number 0-65535 or a range such as 8000-8100)", s);
		return -1;
	case FF_ORG:
		v->num = parse_num(strncmp(s, "as", 2) == 0 ? s + 2 : s, UINT32_MAX, &v->lo) == 0;
		return 0;
	case FF_DIR:
		if (in_names(s, dir_names))
			return 0;
		snprintf(err, errlen, "bad dir '%.40s' (use sent, received, out or in)", s);
		return -1;
	case FF_STATE:
		if (in_names(s, state_names))
			return 0;
		snprintf(err, errlen, "bad state '%.40s' (use active, ended, open, syn_sent, established, closing, "
			 "closed or reset)", s);
		return -1;
	case FF_SIGNAL:
		for (const char *c = s; *c; c++) {
			if (!((*c >= 'a' && *c <= 'z') || *c == '_')) {
				snprintf(err, errlen, "bad signal '%.40s' (a signal name such as beacon or scan)", s);
				return -1;
			}
		}
		return 0;
	case FF_TRUSTED:
	case FF_EVIDENCE:
		if (in_names(s, yesno_names)) {
			v->lo = strcmp(s, "yes") == 0 || strcmp(s, "true") == 0 || strcmp(s, "1") == 0;
			return 0;
		}
		snprintf(err, errlen, "bad %s '%.40s' (use yes or no)", field == FF_TRUSTED ? "trusted" : "evidence", s);
		return -1;
	default:
		return 0;
	}
}

/* Case-insensitive substring test; a NULL haystack never matches. */
static bool has(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle) != NULL;
}

/* Case-insensitive equality; NULL equals nothing. */
static bool same(const char *a, const char *b)
{
	return a && strcasecmp(a, b) == 0;
}

/* True when one value of a term matches the view. */
static bool value_match(enum ffield field, const struct fvalue *x, const struct filter_view *v)
{
	const char *s = x->s;

	switch (field) {
	case FF_TEXT:
		return has(v->remote_ip, s) || has(v->domain, s) || has(v->as_org, s) ||
		       has(v->proc_name, s) || has(v->exe, s) || has(v->city, s) || has(v->country, s) ||
		       has(v->country_name, s) || has(v->proto, s) || (x->num && v->remote_port == x->lo);
	case FF_ATTENTION:
		return same(v->attention, s);
	case FF_VERDICT:
		return same(v->verdict, s);
	case FF_PROTO:
		return v->proto_num == (int)x->lo;
	case FF_PORT:
		return v->remote_port >= x->lo && v->remote_port <= x->hi;
	case FF_LPORT:
		return v->local_port >= x->lo && v->local_port <= x->hi;
	case FF_IP:
		return has(v->remote_ip, s);
	case FF_DOMAIN:
		return has(v->domain, s);
	case FF_ORG:
		return x->num ? v->asn == x->lo && v->asn != 0 : has(v->as_org, s);
	case FF_PROCESS:
		return has(v->proc_name, s) || has(v->exe, s);
	case FF_COUNTRY:
		return strlen(s) == 2 ? same(v->country, s) : has(v->country_name, s);
	case FF_CITY:
		return has(v->city, s);
	case FF_DIR:
		if (strcmp(s, "sent") == 0)
			return v->bytes_sent > 0;
		if (strcmp(s, "received") == 0)
			return v->bytes_received > 0;
		return strcmp(s, "out") == 0 ? v->initiator_local : !v->initiator_local;
	case FF_STATE:
		if (strcmp(s, "active") == 0)
			return v->active;
		if (strcmp(s, "ended") == 0)
			return !v->active;
		return same(v->state, s);
	case FF_SIGNAL:
		for (size_t i = 0; i < v->nsignals; i++) {
			if (same(v->signals[i], s))
				return true;
		}
		return false;
	case FF_TRUSTED:
		return v->trusted == (x->lo != 0);
	case FF_EVIDENCE:
		return v->evidence == (x->lo != 0);
	}
	return false;
}

bool filter_match(const struct filter *f, const struct filter_view *v)
{
	for (size_t i = 0; f && i < f->n; i++) {
		const struct fterm *t = &f->t[i];
		bool any = false;

		for (size_t j = 0; j < t->nv && !any; j++)
			any = value_match(t->field, &t->v[j], v);
		if (any == t->neg)
			return false;
	}
	return true;
}

size_t filter_terms(const struct filter *f)
{
	return f ? f->n : 0;
}

void filter_free(struct filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->t[i].v);
	free(f->t);
	free(f->buf);
	free(f);
}

/* The field a name (lower case, length n) names; -1 when none. */
static int field_find(const char *name, size_t n)
{
	for (size_t i = 0; i < NG_ARRAY_LEN(filter_fields); i++) {
		if (strlen(filter_fields[i].name) == n && memcmp(filter_fields[i].name, name, n) == 0)
			return (int)filter_fields[i].field;
	}
	return -1;
}

/*
 * Turn one token (its characters, lower case, with `quoted` saying which
 * came from inside quotes) into a term. The values are written into out
 * (NUL-terminated, advancing *outp).
 */
static int term_make(struct filter *f, const char *tok, const bool *quoted, size_t len, char **outp, size_t termno,
		     char *err, size_t errlen)
{
	struct fterm *t = &f->t[f->n];
	size_t start = 0, colon = len;
	int field = -1;
	char why[200];

	memset(t, 0, sizeof *t);
	if (len > 0 && tok[0] == '-' && !quoted[0]) {
		t->neg = true;
		start = 1;
	}
	if (start == len) {
		snprintf(err, errlen, "q=: term %zu is a lone '-' (write -word or -field:value)", termno);
		return -1;
	}
	for (size_t i = start; i < len; i++) {
		if (tok[i] == ':' && !quoted[i]) {
			colon = i;
			break;
		}
	}
	if (colon < len)
		field = field_find(tok + start, colon - start);
	if (field < 0) {
		t->field = FF_TEXT;
		colon = start - 1;	/* the whole token (after a '-') is the one value */
	} else {
		t->field = (enum ffield)field;
	}
	/* Values: split on unquoted commas (plain words are never split). */
	{
		size_t i = colon + 1, cap = 4;

		t->v = xcalloc(cap, sizeof *t->v);
		for (;;) {
			size_t j = i;
			char *s = *outp;

			while (j < len && !(t->field != FF_TEXT && tok[j] == ',' && !quoted[j]))
				j++;
			if (j == i) {
				snprintf(err, errlen, "q=: term %zu has an empty value (write field:value, or quote it)",
					 termno);
				return -1;
			}
			memcpy(s, tok + i, j - i);
			s[j - i] = '\0';
			*outp += j - i + 1;
			if (t->nv == cap) {
				cap *= 2;
				t->v = xrealloc(t->v, cap * sizeof *t->v);
			}
			t->v[t->nv].s = s;
			if (value_parse(t->field, &t->v[t->nv], why, sizeof why) != 0) {
				t->nv++;
				snprintf(err, errlen, "q=: term %zu: %s", termno, why);
				return -1;
			}
			t->nv++;
			if (j >= len)
				break;
			i = j + 1;
		}
	}
	f->n++;
	return 0;
}

struct filter *filter_parse(const char *q, char *err, size_t errlen)
{
	size_t qlen = strlen(q), termno = 0;
	struct filter *f;
	char *tok, *out;
	bool *quoted;
	const char *p = q;

	if (qlen > FILTER_MAX_LEN) {
		snprintf(err, errlen, "q= is longer than %d bytes", FILTER_MAX_LEN);
		return NULL;
	}
	f = xcalloc(1, sizeof *f);
	f->t = xcalloc(qlen / 2 + 1, sizeof *f->t);	/* a term takes at least one character and a space */
	f->buf = out = xmalloc(2 * qlen + 2);		/* values, each NUL-terminated */
	tok = xmalloc(qlen + 1);
	quoted = xmalloc((qlen + 1) * sizeof *quoted);
	for (;;) {
		size_t len = 0;
		bool inq = false, any = false;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p)
			break;
		for (; *p && (inq || !(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')); p++) {
			if (*p == '"') {
				inq = !inq;
				any = true;
				continue;
			}
			if (inq && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			tok[len] = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
			quoted[len++] = inq;
		}
		termno++;
		if (inq) {
			snprintf(err, errlen, "q=: term %zu has an unterminated quote (close it with \")", termno);
			goto fail;
		}
		if (len == 0 && any)
			continue;	/* "" is no term */
		if (term_make(f, tok, quoted, len, &out, termno, err, errlen) != 0) {
			f->n++;		/* the failed term's values are freed too */
			goto fail;
		}
	}
	free(tok);
	free(quoted);
	return f;
fail:
	free(tok);
	free(quoted);
	filter_free(f);
	return NULL;
}
