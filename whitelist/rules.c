/* SPDX-License-Identifier: BSD-2-Clause */
/* rules.c: allow files, blocklists and trusted.txt: loading, reloading on change, and matching. */
#include <errno.h>
#include "platform.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "wl_int.h"

/*
 * DESIGN
 *
 * Every file is a source holding its last good parsed list and the identity
 * (device, inode, size, mtime) it had when last read. Reload re-reads the
 * sources whose identity changed (or all when forced); one that fails keeps
 * its previous list. The lookup structures (an allow set and a block set)
 * are then rebuilt in full from the sources' lists and swapped in with one
 * pointer store, so a verdict never sees a half-built table; the old set is
 * freed afterwards (the process is single-threaded: nothing else holds it).
 *
 * The strings a match returns (rule text, list name, entry text) are
 * interned, so a verdict copied into a flow stays valid across reloads. List
 * names are interned at parse time; a rule's or entry's text only when it
 * matches, so big lists (and reloads of changed ones) cost nothing in the
 * process-wide intern pool until something actually hits.
 *
 * trusted.txt is one more allow source, written only by wl_rules_trust: the
 * new text is parsed with the same parser first, then written atomically
 * (temporary file, fsync, rename, fsync of the directory).
 */

/* One rule file and its current contents. */
struct wl_source {
	char *path;		/* NULL: the memory-only trusted list */
	enum wl_list_kind kind;
	bool trusted;
	bool known;		/* identity below is valid */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	struct wl_list *list;	/* last good contents, or NULL */
};

/* An allow rule: its text (owned by its list) and the file it came from (interned). */
struct allow_rule {
	const char *text;
	const char *source;
};

/* An open-addressing set of domain strings (owned by the lists) mapping to rule indices. */
struct dom_map {
	const char **keys;
	uint32_t *rules;
	size_t cap, n;
};

struct wl_allowset {
	struct wl_ptable *pt;
	struct wl_list **lists;		/* referenced: they own the rule texts */
	size_t nlists;
	struct allow_rule *cidr_rules;	/* by ptable label */
	struct dom_map exact, wild;	/* "example.com" and "*.example.com" (keyed "example.com") */
	struct allow_rule *dom_rules;
	size_t ndom;
};

struct wl_blockset {
	struct wl_ptable *pt;
	struct wl_list **lists;		/* referenced */
	size_t *base;			/* first label of each list */
	size_t nlists;
	const char **entry_text;	/* by label: interned text, filled on the first match */
};

struct wl_rules {
	const struct wl_parse_opts *po;
	struct wl_source *src;
	size_t nsrc;
	struct wl_allowset *allow;
	struct wl_blockset *block;
};

static int source_load(const struct wl_rules *r, struct wl_source *s, bool force, bool *changed, char *err,
		       size_t errlen);
static struct wl_allowset *allowset_build(const struct wl_rules *r);
static void allowset_free(struct wl_allowset *a);
static struct wl_blockset *blockset_build(const struct wl_rules *r);
static void blockset_free(struct wl_blockset *b);
static void list_log(const struct wl_list *l, const char *path);

/* Hash of a domain string. */
static uint64_t dom_hash(const char *s)
{
	return ng_hash64(s, strlen(s), 0x646f6d61696e0000ULL);
}

/* Insert key -> rule unless key is present (the first rule wins). */
static void dom_map_put(struct dom_map *m, const char *key, uint32_t rule)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		const char **nk = xcalloc(ncap, sizeof *nk);
		uint32_t *nr = xcalloc(ncap, sizeof *nr);

		for (size_t j = 0; j < m->cap; j++) {
			if (m->keys[j] == NULL)
				continue;
			for (i = dom_hash(m->keys[j]) & (ncap - 1); nk[i]; i = (i + 1) & (ncap - 1))
				;
			nk[i] = m->keys[j];
			nr[i] = m->rules[j];
		}
		free(m->keys);
		free(m->rules);
		m->keys = nk;
		m->rules = nr;
		m->cap = ncap;
	}
	for (i = dom_hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (strcmp(m->keys[i], key) == 0)
			return;
	}
	m->keys[i] = key;
	m->rules[i] = rule;
	m->n++;
}

/* Rule index for key, or -1. */
static long dom_map_get(const struct dom_map *m, const char *key)
{
	if (m->n == 0)
		return -1;
	for (size_t i = dom_hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (strcmp(m->keys[i], key) == 0)
			return (long)m->rules[i];
	}
	return -1;
}

bool wl_domain_match(const char *pattern, const char *domain)
{
	size_t pl, dl;

	if (pattern[0] != '*')
		return strcmp(pattern, domain) == 0;
	pl = strlen(pattern + 1);	/* ".example.com" */
	dl = strlen(domain);
	return dl > pl && strcmp(domain + dl - pl, pattern + 1) == 0;
}

/* Log what a freshly loaded list holds (one line), and the lines it skipped. */
static void list_log(const struct wl_list *l, const char *path)
{
	if (l->kind == WL_LIST_ALLOW) {
		log_info("allow rules %s: %zu addresses or CIDRs, %zu domain patterns", path, l->ncidrs, l->ndomains);
		return;
	}
	if (l->dropped_special > 0)
		log_info("blocklist %s: %zu entries; dropped %zu in special ranges (private, loopback, multicast, "
			 "reserved: a list never marks the LAN)", path, l->ncidrs, l->dropped_special);
	else
		log_info("blocklist %s: %zu entries", path, l->ncidrs);
	if (l->bad > 0)
		log_warnx("%s:%zu: %s (skipped %zu malformed of %zu entry lines)", path, l->first_bad_line,
			  l->first_bad, l->bad, l->entry_lines);
	if (l->over_cap > 0)
		log_warnx("blocklist %s: kept the first %zu entries and ignored %zu more (the cap; raise "
			  "--blocklist-max N)", path, l->ncidrs, l->over_cap);
}

/*
 * Read a source if forced or changed on disk. *changed says whether its
 * list was replaced. -1 with err when the file cannot be read or parsed.
 */
static int source_load(const struct wl_rules *r, struct wl_source *s, bool force, bool *changed, char *err,
		       size_t errlen)
{
	struct wl_list *l;
	struct stat st;

	*changed = false;
	if (s->path == NULL)
		return 0;
	if (stat(s->path, &st) != 0) {
		if (errno == ENOENT && s->trusted) {
			/* No trusted.txt (yet, or removed by hand): no trusted rules. */
			if (s->list == NULL || s->list->ncidrs + s->list->ndomains > 0) {
				char e2[64];

				wl_list_unref(s->list);
				wl_list_parse(WL_LIST_ALLOW, s->path, "", 0, NULL, &s->list, e2, sizeof e2);
				*changed = true;
			}
			s->known = false;
			return 0;
		}
		if (s->known || force || s->list == NULL) {
			s->known = false;
			if (s->trusted)
				snprintf(err, errlen, "cannot read the trusted rules %s: %s (fix its permissions, or move it "
					 "away to start without trusted rules)", s->path, strerror(errno));
			else
				snprintf(err, errlen, "cannot read %s %s: %s (check --%s)",
					 s->kind == WL_LIST_ALLOW ? "allow file" : "blocklist", s->path, strerror(errno),
					 s->kind == WL_LIST_ALLOW ? "allow" : "blocklist");
			return -1;
		}
		return 0;
	}
	if (!force && s->known && s->list && st.st_dev == s->dev && st.st_ino == s->ino && st.st_size == s->size &&
	    platform_mtime(&st).tv_sec == s->mtime.tv_sec && platform_mtime(&st).tv_nsec == s->mtime.tv_nsec)
		return 0;
	/* Remember this identity even if parsing fails, so a bad file is reported once, not every check. */
	s->known = true;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtime = platform_mtime(&st);
	/* trusted.txt lives in the state directory: never through a link, and only if nobody else could have put it there. */
	if (wl_list_load(s->kind, s->path, r->po, s->trusted ? NG_OPEN_NOFOLLOW | NG_OPEN_OWNED : 0, &l, err,
			 errlen) != 0) {
		if (s->trusted && errno == EACCES)	/* the generic message would point at --allow */
			snprintf(err, errlen, "cannot read the trusted rules %s: %s (fix its permissions, or move it "
				 "away to start without trusted rules)", s->path, strerror(EACCES));
		return -1;
	}
	list_log(l, s->path);
	wl_list_unref(s->list);
	s->list = l;
	*changed = true;
	return 0;
}

/* Build the allow set from the allow sources, in order (the first rule for a key wins). */
static struct wl_allowset *allowset_build(const struct wl_rules *r)
{
	struct wl_allowset *a = xcalloc(1, sizeof *a);
	const struct wl_cidr **cidrs;
	size_t n = 0, nd = 0, k = 0;

	for (size_t i = 0; i < r->nsrc; i++) {
		const struct wl_list *l = r->src[i].list;

		if (r->src[i].kind == WL_LIST_ALLOW && l) {
			n += l->ncidrs;
			nd += l->ndomains;
		}
	}
	cidrs = xmalloc((n ? n : 1) * sizeof *cidrs);
	a->cidr_rules = xmalloc((n ? n : 1) * sizeof *a->cidr_rules);
	a->dom_rules = xmalloc((nd ? nd : 1) * sizeof *a->dom_rules);
	a->lists = xcalloc(r->nsrc, sizeof *a->lists);
	for (size_t i = 0; i < r->nsrc; i++) {
		struct wl_list *l = r->src[i].list;

		if (r->src[i].kind != WL_LIST_ALLOW || l == NULL)
			continue;
		a->lists[a->nlists++] = wl_list_ref(l);
		for (size_t j = 0; j < l->ncidrs; j++) {
			cidrs[k] = &l->cidrs[j];
			a->cidr_rules[k].text = l->cidr_rules[j];
			a->cidr_rules[k].source = l->name;
			k++;
		}
		for (size_t j = 0; j < l->ndomains; j++) {
			const char *p = l->domains[j];
			uint32_t idx = (uint32_t)a->ndom++;

			a->dom_rules[idx].text = p;
			a->dom_rules[idx].source = l->name;
			if (p[0] == '*')
				dom_map_put(&a->wild, p + 2, idx);
			else
				dom_map_put(&a->exact, p, idx);
		}
	}
	a->pt = n ? wl_ptable_build(cidrs, n) : NULL;
	free(cidrs);
	return a;
}

/* Free an allow set (the strings are interned and stay). */
static void allowset_free(struct wl_allowset *a)
{
	if (a == NULL)
		return;
	wl_ptable_free(a->pt);
	free(a->cidr_rules);
	free(a->dom_rules);
	free(a->exact.keys);
	free(a->exact.rules);
	free(a->wild.keys);
	free(a->wild.rules);
	for (size_t i = 0; i < a->nlists; i++)
		wl_list_unref(a->lists[i]);
	free(a->lists);
	free(a);
}

/* Build the block set from the blocklists, in order (equal CIDRs: the first list wins). */
static struct wl_blockset *blockset_build(const struct wl_rules *r)
{
	struct wl_blockset *b = xcalloc(1, sizeof *b);
	const struct wl_cidr **cidrs;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < r->nsrc; i++) {
		if (r->src[i].kind == WL_LIST_BLOCK && r->src[i].list) {
			n += r->src[i].list->ncidrs;
			b->nlists++;
		}
	}
	b->lists = xcalloc(b->nlists + 1, sizeof *b->lists);
	b->base = xcalloc(b->nlists + 1, sizeof *b->base);
	cidrs = xmalloc((n ? n : 1) * sizeof *cidrs);
	b->nlists = 0;
	for (size_t i = 0; i < r->nsrc; i++) {
		struct wl_list *l = r->src[i].list;

		if (r->src[i].kind != WL_LIST_BLOCK || l == NULL)
			continue;
		b->base[b->nlists] = k;
		b->lists[b->nlists++] = wl_list_ref(l);
		for (size_t j = 0; j < l->ncidrs; j++)
			cidrs[k++] = &l->cidrs[j];
	}
	b->base[b->nlists] = k;
	b->pt = n ? wl_ptable_build(cidrs, n) : NULL;
	b->entry_text = xcalloc(n ? n : 1, sizeof *b->entry_text);
	free(cidrs);
	return b;
}

/* Free a block set and drop its list references. */
static void blockset_free(struct wl_blockset *b)
{
	if (b == NULL)
		return;
	wl_ptable_free(b->pt);
	for (size_t i = 0; i < b->nlists; i++)
		wl_list_unref(b->lists[i]);
	free(b->lists);
	free(b->base);
	free(b->entry_text);
	free(b);
}

struct wl_rules *wl_rules_create(const char *const *allow, size_t nallow, const char *const *block, size_t nblock,
				 const char *trusted_path, const struct wl_parse_opts *po, char *err, size_t errlen)
{
	struct wl_rules *r = xcalloc(1, sizeof *r);
	bool changed;

	r->po = po;
	r->nsrc = nallow + nblock + 1;
	r->src = xcalloc(r->nsrc, sizeof *r->src);
	for (size_t i = 0; i < nallow; i++) {
		r->src[i].path = xstrdup(allow[i]);
		r->src[i].kind = WL_LIST_ALLOW;
	}
	for (size_t i = 0; i < nblock; i++) {
		r->src[nallow + i].path = xstrdup(block[i]);
		r->src[nallow + i].kind = WL_LIST_BLOCK;
	}
	r->src[r->nsrc - 1].path = trusted_path ? xstrdup(trusted_path) : NULL;
	r->src[r->nsrc - 1].kind = WL_LIST_ALLOW;
	r->src[r->nsrc - 1].trusted = true;
	if (trusted_path == NULL)
		wl_list_parse(WL_LIST_ALLOW, "trusted.txt", "", 0, NULL, &r->src[r->nsrc - 1].list, err, errlen);
	for (size_t i = 0; i < r->nsrc; i++) {
		if (source_load(r, &r->src[i], true, &changed, err, errlen) != 0)
			goto fail;
	}
	r->allow = allowset_build(r);
	r->block = blockset_build(r);
	return r;
fail:
	wl_rules_free(r);
	return NULL;
}

void wl_rules_free(struct wl_rules *r)
{
	if (r == NULL)
		return;
	allowset_free(r->allow);
	blockset_free(r->block);
	for (size_t i = 0; i < r->nsrc; i++) {
		free(r->src[i].path);
		wl_list_unref(r->src[i].list);
	}
	free(r->src);
	free(r);
}

int wl_rules_reload(struct wl_rules *r, bool force)
{
	bool allow_changed = false, block_changed = false, changed;
	int reloaded = 0;
	char err[512];

	for (size_t i = 0; i < r->nsrc; i++) {
		if (source_load(r, &r->src[i], force, &changed, err, sizeof err) != 0) {
			log_warnx("%s (keeping the previous list)", err);
			continue;
		}
		if (!changed)
			continue;
		reloaded++;
		if (r->src[i].kind == WL_LIST_ALLOW)
			allow_changed = true;
		else
			block_changed = true;
	}
	if (allow_changed) {
		struct wl_allowset *a = allowset_build(r), *old = r->allow;

		r->allow = a;
		allowset_free(old);
	}
	if (block_changed) {
		struct wl_blockset *b = blockset_build(r), *old = r->block;

		r->block = b;
		blockset_free(old);
	}
	return reloaded;
}

bool wl_rules_block(const struct wl_rules *r, const ng_addr *addr, const char **list, const char **entry)
{
	const struct wl_blockset *b = r->block;
	uint32_t label = wl_ptable_lookup(b->pt, addr);
	size_t k = 0;
	char buf[NG_ADDRSTRLEN + 8];

	if (label == WL_PT_NONE)
		return false;
	while (k + 1 < b->nlists && b->base[k + 1] <= label)
		k++;
	*list = b->lists[k]->name;
	if (b->entry_text[label] == NULL)
		b->entry_text[label] = str_intern(wl_cidr_format(&b->lists[k]->cidrs[label - b->base[k]], buf,
								 sizeof buf));
	*entry = b->entry_text[label];
	return true;
}

bool wl_rules_have_domains(const struct wl_rules *r)
{
	return r->allow->ndom > 0;
}

bool wl_rules_allow(const struct wl_rules *r, const ng_addr *addr, const char *domain, const char **rule,
		    const char **source)
{
	const struct wl_allowset *a = r->allow;
	uint32_t label = wl_ptable_lookup(a->pt, addr);
	char name[WL_DOMAIN_MAX];
	size_t n;
	long idx;

	if (label != WL_PT_NONE) {
		*rule = str_intern(a->cidr_rules[label].text);
		*source = a->cidr_rules[label].source;
		return true;
	}
	if (domain == NULL || a->ndom == 0)
		return false;
	n = strlen(domain);
	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = domain[i];

		name[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	name[n] = '\0';
	idx = dom_map_get(&a->exact, name);
	/* Then "*.suffix" rules, the most specific (longest suffix) first; never the name itself. */
	for (size_t i = 0; idx < 0 && i < n; i++) {
		if (name[i] == '.' && i + 1 < n)
			idx = dom_map_get(&a->wild, name + i + 1);
	}
	if (idx < 0)
		return false;
	*rule = str_intern(a->dom_rules[idx].text);
	*source = a->dom_rules[idx].source;
	return true;
}

/* Write data to path atomically: a temporary file in the same directory, fsync, rename, fsync the directory. */
static int write_atomic(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
	size_t plen = strlen(path);
	char *tmp = xmalloc(plen + 16), *dir;
	const char *slash;
	int fd, dfd;
	size_t off = 0;

	snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail_fd;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail_fd;
	if (close(fd) != 0) {
		fd = -1;
		goto fail_fd;
	}
	if (rename(tmp, path) != 0) {
		fd = -1;
		goto fail_fd;
	}
	slash = strrchr(path, '/');
	dir = slash ? xstrndup(path, (size_t)(slash - path) + (slash == path)) : xstrdup(".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(dir);
	free(tmp);
	return 0;
fail_fd:
	{
		int e = errno;

		if (fd >= 0)
			close(fd);
		unlink(tmp);
		errno = e;
	}
fail:
	snprintf(err, errlen, "cannot write %s: %s (check the state directory's permissions and free space)", path,
		 strerror(errno));
	free(tmp);
	return -1;
}

/* True when the trusted list holds exactly this rule text. */
static bool trusted_has(const struct wl_list *l, const char *rule)
{
	for (size_t i = 0; l && i < l->ncidrs; i++) {
		if (strcmp(l->cidr_rules[i], rule) == 0)
			return true;
	}
	for (size_t i = 0; l && i < l->ndomains; i++) {
		if (strcmp(l->domains[i], rule) == 0)
			return true;
	}
	return false;
}

/* Append a line to a growing text. */
static void text_line(char **text, size_t *len, size_t *cap, const char *t)
{
	size_t tl = strlen(t);

	if (*len + tl + 2 > *cap) {
		*cap = (*len + tl + 2) * 2;
		*text = xrealloc(*text, *cap);
	}
	memcpy(*text + *len, t, tl);
	*len += tl;
	(*text)[(*len)++] = '\n';
	(*text)[*len] = '\0';
}

int wl_rules_trust_many(struct wl_rules *r, const char *const *rules, size_t n, bool add, bool *done, char *err,
			size_t errlen)
{
	struct wl_source *s = &r->src[r->nsrc - 1];
	const struct wl_list *old = s->list;
	struct wl_list *nl;
	size_t cap = 256, len = 0, nchanged = 0;
	char *text;

	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		for (size_t j = 0; j < i && !dup; j++)
			dup = done[j] && strcmp(rules[j], rules[i]) == 0;
		done[i] = !dup && trusted_has(old, rules[i]) != add;
		nchanged += done[i];
	}
	if (nchanged == 0)
		return 0;
	text = xmalloc(cap);
	len = (size_t)snprintf(text, cap, "# netglobe trusted rules: one address, CIDR or domain pattern per line.\n"
			       "# Written by netglobe (trust/forget); edits are kept but comments are not.\n");
	for (size_t pass = 0; pass < 2; pass++) {
		size_t cnt = !old ? 0 : pass == 0 ? old->ncidrs : old->ndomains;

		for (size_t i = 0; i < cnt; i++) {
			const char *t = pass == 0 ? old->cidr_rules[i] : old->domains[i];
			bool removed = false;

			for (size_t j = 0; !add && j < n && !removed; j++)
				removed = done[j] && strcmp(t, rules[j]) == 0;
			if (!removed)
				text_line(&text, &len, &cap, t);
		}
	}
	for (size_t j = 0; add && j < n; j++) {
		if (done[j])
			text_line(&text, &len, &cap, rules[j]);
	}
	if (wl_list_parse(WL_LIST_ALLOW, s->path ? s->path : "trusted.txt", text, len, NULL, &nl, err, errlen) != 0) {
		free(text);
		memset(done, 0, n * sizeof *done);
		return -1;
	}
	if (s->path) {
		struct stat st;

		if (write_atomic(s->path, text, len, err, errlen) != 0) {
			free(text);
			wl_list_unref(nl);
			memset(done, 0, n * sizeof *done);
			return -1;
		}
		if (stat(s->path, &st) == 0) {
			s->known = true;
			s->dev = st.st_dev;
			s->ino = st.st_ino;
			s->size = st.st_size;
			s->mtime = platform_mtime(&st);
		}
	}
	free(text);
	wl_list_unref(s->list);
	s->list = nl;
	{
		struct wl_allowset *a = allowset_build(r), *olda = r->allow;

		r->allow = a;
		allowset_free(olda);
	}
	return 0;
}

int wl_rules_trust(struct wl_rules *r, const char *rule, bool add, bool *changed, char *err, size_t errlen)
{
	*changed = false;
	return wl_rules_trust_many(r, &rule, 1, add, changed, err, errlen);
}

void wl_rules_stats(const struct wl_rules *r, uint64_t *allow_rules, uint64_t *block_entries,
		    uint64_t *dropped_special)
{
	*allow_rules = *block_entries = *dropped_special = 0;
	for (size_t i = 0; i < r->nsrc; i++) {
		const struct wl_list *l = r->src[i].list;

		if (l == NULL)
			continue;
		if (r->src[i].kind == WL_LIST_ALLOW) {
			*allow_rules += l->ncidrs + l->ndomains;
		} else {
			*block_entries += l->ncidrs;
			*dropped_special += l->dropped_special;
		}
	}
}
