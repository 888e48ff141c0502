/* SPDX-License-Identifier: BSD-2-Clause */
/* dns.c: passive DNS: parse captured DNS responses (RFC 1035) and keep a bounded address-to-name cache. */
#include "dns.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "platform.h"

#include "names.h"
#include "strpool.h"

/*
 * DESIGN
 *
 * Parsing is two passes over one message, both on the stack. The first pass
 * walks the header, the question and answer sections (and, for a message
 * with no question as mDNS sends, the authority and additional sections)
 * and records where each interesting name sits; nothing is decoded to text
 * yet. Every name is validated once (RFC 1035 4.1.4): labels of at most 63
 * bytes, 255 bytes in all, and a compression pointer must point strictly
 * before the start of the label run it is found in. That last rule is what
 * a compressor produces (it can only point at names already written) and it
 * makes loops impossible: run starts strictly decrease. A hop cap bounds the
 * work on chains of pointers to pointers.
 *
 * The second pass maps every A/AAAA answer to the name that was asked: it
 * walks CNAME records backwards from the answer's owner until it reaches a
 * question name (at most DNS_MAX_CHAIN links). An answer that does not lead
 * back to the question is ignored: a resolver never sends one, and learning
 * it would let anyone on the path attach any name to any address. A message
 * without questions (mDNS, RFC 6762 6) is authoritative for its owner names,
 * so there each address maps to the head of its CNAME chain.
 *
 * Names are compared on the wire (case-insensitively, RFC 4343) after a hash
 * check, so an odd byte in one name can never make two names look equal.
 * Only the final name is turned into text, and only if it is a plain host
 * name (letters, digits, '-', '_'); anything else is not stored.
 *
 * A structurally bad message (bad label type, forward pointer, name too long)
 * teaches nothing. A message that simply ends early (snap length, the first
 * IP fragment, a bogus count) teaches what its complete records say.
 *
 * The cache holds up to max_entries addresses in one chained hash table
 * whose entries live in one array (indices, not pointers, so it can grow by
 * realloc) on an LRU list ordered by answers; when full, the tail address
 * is reused unless a lookup used it since it last got there (the CLOCK
 * second chance: a lookup sets one flag instead of relinking the list,
 * which would touch two more cache lines per flow). Each address keeps its
 * DNS_SLOTS most recent names, so a lookup "as of" a past time (replayed
 * captures look up at the flow's start) finds the name that was current
 * then. Names live in the process's string pool (strpool.h): a CDN name
 * shared by thousands of addresses is stored once, flows and whitelist rows
 * share it instead of copying, and it is freed when its last holder lets
 * go. Memory is therefore bounded by max_entries * (entry + DNS_SLOTS
 * names). Lookups never allocate.
 */

#define DNS_HDR_LEN 12
#define DNS_MSG_MAX 65535	/* a DNS message over UDP or TCP never exceeds this */
#define DNS_LABEL_MAX 63
#define DNS_NAME_WIRE_MAX 255
#define DNS_MAX_HOPS 32		/* compression pointers followed per name */
#define DNS_MAX_QUESTIONS 4	/* question names remembered (one in practice) */
#define DNS_MAX_RECORDS 96	/* A, AAAA and CNAME records considered per message */
#define DNS_MAX_CHAIN 16	/* CNAME links followed back to the question */
#define DNS_TTL_MIN 60		/* seconds: short TTLs still describe the connection that follows */
#define DNS_TTL_MAX (7 * 86400)	/* seconds: what resolvers cap TTLs at */
#define DNS_SLOTS 3		/* names remembered per address */
#define DNS_NIL UINT32_MAX

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1

enum dns_err {
	DNS_OK = 0,
	DNS_ETRUNC,		/* the message ends inside this item */
	DNS_EBAD,		/* the item is invalid */
};

/* A validated name: where it starts in the message and a case-folded hash. */
struct dns_wname {
	uint32_t off;
	uint64_t hash;
};

/* One A, AAAA or CNAME record of interest. */
struct dns_rr {
	struct dns_wname owner;
	struct dns_wname target;	/* CNAME only */
	uint16_t type;
	uint32_t rdoff;
	uint32_t ttl;
};

/* What the first pass found. */
struct dns_msg {
	const uint8_t *m;
	size_t len;
	struct dns_wname q[DNS_MAX_QUESTIONS];
	unsigned nq;		/* question names kept */
	unsigned qdcount;
	struct dns_rr rr[DNS_MAX_RECORDS];
	unsigned nrr;
	bool truncated;
};

/* One name an address had, and when. */
struct dns_slot {
	const char *name;	/* a strpool reference, NULL when unused */
	ng_time first, last;	/* earliest and latest answer that gave it */
	ng_time expiry;		/* latest expiry among those answers */
};

struct dns_entry {
	ng_addr addr;
	uint32_t hnext;		/* next entry in the bucket */
	uint32_t prev, next;	/* LRU list, most recently stored at the head */
	struct dns_slot slot[DNS_SLOTS];
};

struct dns_cache {
	struct dns_entry *ent;
	uint32_t nent, cap, max;
	uint32_t *bucket;
	uint32_t nbucket;	/* power of two, >= cap */
	uint32_t head, tail;
	uint8_t *used;		/* a bit per entry: looked up since it last reached the LRU tail (kept apart
				 * from the entries: a flag there would grow each from 128 to 136 bytes) */
	uint64_t seed;
	ng_time grace;
	struct dns_stats st;
};

static int dns_name_scan(const uint8_t *m, size_t len, size_t *off, struct dns_wname *out);
static bool dns_name_equal(const uint8_t *m, size_t len, const struct dns_wname *a, const struct dns_wname *b);
static int dns_name_text(const uint8_t *m, size_t len, uint32_t off, char *out, size_t outlen);
static int dns_scan(struct dns_msg *d);
static int dns_section(struct dns_msg *d, size_t *off, unsigned count, bool keep);
static int dns_resolve(const struct dns_msg *d, const struct dns_rr *a, uint32_t *ttl);
static void dns_learn_cb(const ng_addr *addr, const char *name, uint32_t ttl, void *arg);

/* ASCII lower case of one byte (RFC 4343: DNS compares names case-insensitively). */
static inline uint8_t lc(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/*
 * Validate the name at *off and move *off past its in-place part (RFC 1035
 * 4.1.4). Returns DNS_OK, DNS_ETRUNC when the message ends inside it, or
 * DNS_EBAD (reserved label type, label or name too long, a pointer that does
 * not point strictly before the run it is in, too many hops).
 */
static int dns_name_scan(const uint8_t *m, size_t len, size_t *off, struct dns_wname *out)
{
	size_t pos = *off, limit = *off, end = 0, wire = 0;
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a over the case-folded wire form */
	unsigned hops = 0;

	for (;;) {
		uint8_t c;

		if (pos >= len)
			return DNS_ETRUNC;
		c = m[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t ptr;

			if (pos + 1 >= len)
				return DNS_ETRUNC;
			ptr = (size_t)(c & 0x3f) << 8 | m[pos + 1];
			if (end == 0)
				end = pos + 2;
			if (ptr >= limit || ++hops > DNS_MAX_HOPS)
				return DNS_EBAD;
			limit = pos = ptr;
			continue;
		}
		if (c & 0xc0)	/* 0x40 (RFC 6891 retired it) and 0x80 are not labels */
			return DNS_EBAD;
		wire += (size_t)c + 1;
		if (wire > DNS_NAME_WIRE_MAX)
			return DNS_EBAD;
		h = (h ^ c) * 0x100000001b3ULL;
		if (c == 0) {
			if (end == 0)
				end = pos + 1;
			break;
		}
		if (pos + 1 + c > len)
			return DNS_ETRUNC;
		for (size_t i = 1; i <= c; i++)
			h = (h ^ lc(m[pos + i])) * 0x100000001b3ULL;
		pos += 1 + (size_t)c;
	}
	out->off = (uint32_t)*off;
	out->hash = h;
	*off = end;
	return DNS_OK;
}

/* Follow pointers from pos to the next length byte; pos must be inside a validated name. */
static size_t dns_name_label(const uint8_t *m, size_t len, size_t pos)
{
	unsigned hops = 0;

	while (pos + 1 < len && (m[pos] & 0xc0) == 0xc0 && hops++ <= DNS_MAX_HOPS)
		pos = (size_t)(m[pos] & 0x3f) << 8 | m[pos + 1];
	return pos;
}

/* True when two validated names are equal ignoring ASCII case (RFC 4343). */
static bool dns_name_equal(const uint8_t *m, size_t len, const struct dns_wname *a, const struct dns_wname *b)
{
	size_t pa = a->off, pb = b->off;

	if (a->hash != b->hash)
		return false;
	for (unsigned n = 0; n < DNS_NAME_WIRE_MAX; n++) {
		uint8_t la, lb;

		pa = dns_name_label(m, len, pa);
		pb = dns_name_label(m, len, pb);
		if (pa >= len || pb >= len)
			return false;
		la = m[pa];
		lb = m[pb];
		if (la != lb || la > DNS_LABEL_MAX || pa + 1 + la > len || pb + 1 + lb > len)
			return false;
		if (la == 0)
			return true;
		for (size_t i = 1; i <= la; i++) {
			if (lc(m[pa + i]) != lc(m[pb + i]))
				return false;
		}
		pa += 1 + (size_t)la;
		pb += 1 + (size_t)lb;
	}
	return false;
}

/*
 * Write the validated name at off as lower-case dotted text without the
 * trailing dot. Returns 0, or -1 when it is the root or holds a byte other
 * than a letter, digit, '-' or '_' (such a name is not stored).
 */
static int dns_name_text(const uint8_t *m, size_t len, uint32_t off, char *out, size_t outlen)
{
	size_t pos = off, n = 0;

	for (unsigned labels = 0; labels < DNS_NAME_WIRE_MAX; labels++) {
		uint8_t l;

		pos = dns_name_label(m, len, pos);
		if (pos >= len)
			return -1;
		l = m[pos];
		if (l == 0)
			break;
		if (l > DNS_LABEL_MAX || pos + 1 + l > len || n + l + 2 > outlen)
			return -1;
		if (n > 0)
			out[n++] = '.';
		for (size_t i = 1; i <= l; i++) {
			uint8_t c = lc(m[pos + i]);

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
				return -1;
			out[n++] = (char)c;
		}
		pos += 1 + (size_t)l;
	}
	if (n == 0)
		return -1;
	out[n] = '\0';
	return 0;
}

/*
 * Walk `count` resource records (RFC 1035 4.1.3) from *off; when keep is set,
 * remember class-IN A (4 bytes), AAAA (16 bytes) and CNAME records.
 */
static int dns_section(struct dns_msg *d, size_t *off, unsigned count, bool keep)
{
	const uint8_t *m = d->m;
	size_t len = d->len;

	for (unsigned i = 0; i < count; i++) {
		struct dns_wname owner;
		uint16_t type, class, rdlen;
		uint32_t ttl;
		size_t rdoff;
		int e;

		if ((e = dns_name_scan(m, len, off, &owner)) != DNS_OK)
			return e;
		if (*off + 10 > len)
			return DNS_ETRUNC;
		type = ng_rd16(m + *off);
		class = ng_rd16(m + *off + 2) & 0x7fff;	/* top bit: mDNS cache-flush (RFC 6762 10.2) */
		ttl = ng_rd32(m + *off + 4);
		rdlen = ng_rd16(m + *off + 8);
		rdoff = *off + 10;
		if (rdoff + rdlen > len)
			return DNS_ETRUNC;
		*off = rdoff + rdlen;
		if (!keep || class != DNS_CLASS_IN || d->nrr >= DNS_MAX_RECORDS)
			continue;
		if (ttl & 0x80000000u)	/* RFC 2181 8: treat as zero */
			ttl = 0;
		if ((type == DNS_TYPE_A && rdlen == 4) || (type == DNS_TYPE_AAAA && rdlen == 16)) {
			struct dns_rr *r = &d->rr[d->nrr++];

			r->owner = owner;
			r->type = type;
			r->rdoff = (uint32_t)rdoff;
			r->ttl = ttl;
		} else if (type == DNS_TYPE_CNAME) {
			struct dns_rr *r = &d->rr[d->nrr];
			size_t toff = rdoff;

			/* The target must fill the RDATA exactly; pointers may reach back before it. */
			if (dns_name_scan(m, rdoff + rdlen, &toff, &r->target) != DNS_OK || toff != rdoff + rdlen)
				return DNS_EBAD;
			r->owner = owner;
			r->type = type;
			r->rdoff = (uint32_t)rdoff;
			r->ttl = ttl;
			d->nrr++;
		}
	}
	return DNS_OK;
}

/*
 * First pass: header (RFC 1035 4.1.1), questions (4.1.2), answers (4.1.3).
 * Returns DNS_OK (d->truncated set when the message ended early), or DNS_EBAD.
 * Non-responses and error responses come back as DNS_OK with nothing kept.
 */
static int dns_scan(struct dns_msg *d)
{
	const uint8_t *m = d->m;
	size_t off = DNS_HDR_LEN;
	uint16_t flags;
	unsigned an, ns, ar;
	int e;

	d->nq = d->nrr = 0;
	d->truncated = false;
	if (d->len < DNS_HDR_LEN) {
		d->truncated = true;
		return DNS_OK;
	}
	flags = ng_rd16(m + 2);
	d->qdcount = ng_rd16(m + 4);
	an = ng_rd16(m + 6);
	ns = ng_rd16(m + 8);
	ar = ng_rd16(m + 10);
	/* QR set, opcode QUERY, RCODE NoError; LLMNR (RFC 4795) shares these bits. */
	if (!(flags & 0x8000) || (flags & 0x7800) != 0 || (flags & 0x000f) != 0)
		return DNS_OK;
	for (unsigned i = 0; i < d->qdcount; i++) {
		struct dns_wname q;

		if ((e = dns_name_scan(m, d->len, &off, &q)) == DNS_OK && off + 4 > d->len)
			e = DNS_ETRUNC;
		if (e != DNS_OK)
			goto stop;
		off += 4;	/* QTYPE, QCLASS */
		if (d->nq < DNS_MAX_QUESTIONS)
			d->q[d->nq++] = q;
	}
	if ((e = dns_section(d, &off, an, true)) != DNS_OK)
		goto stop;
	if (d->qdcount > 0)
		return DNS_OK;	/* glue in the other sections was not asked for */
	/* No question: mDNS puts A/AAAA for the names it announces in any section. */
	if ((e = dns_section(d, &off, ns, false)) != DNS_OK)
		goto stop;
	e = dns_section(d, &off, ar, true);
stop:
	if (e == DNS_ETRUNC) {
		d->truncated = true;
		return DNS_OK;
	}
	return e;
}

/*
 * Find the record index of the name an address record stands for: a question
 * reached through CNAMEs (owner of CNAME X is the name, target of X is the
 * next owner), or with no question the head of the chain. Returns the index
 * into d->q (>= 0) or -2 - (index into d->rr) for a chain head, or -1 for
 * none. *ttl becomes the smallest TTL along the way.
 */
static int dns_resolve(const struct dns_msg *d, const struct dns_rr *a, uint32_t *ttl)
{
	const struct dns_wname *cur = &a->owner;
	int head = -2 - (int)(a - d->rr);

	*ttl = a->ttl;
	for (unsigned hop = 0; hop <= DNS_MAX_CHAIN; hop++) {
		const struct dns_rr *link = NULL;

		for (unsigned i = 0; i < d->nq; i++) {
			if (dns_name_equal(d->m, d->len, cur, &d->q[i]))
				return (int)i;
		}
		for (unsigned i = 0; i < d->nrr && !link; i++) {
			if (d->rr[i].type == DNS_TYPE_CNAME && dns_name_equal(d->m, d->len, cur, &d->rr[i].target))
				link = &d->rr[i];
		}
		if (!link)
			return d->qdcount == 0 ? head : -1;
		cur = &link->owner;
		head = -2 - (int)(link - d->rr);
		*ttl = NG_MIN(*ttl, link->ttl);
	}
	return -1;	/* a CNAME loop or a chain too long to trust */
}

int dns_parse(const uint8_t *msg, size_t len, dns_answer_cb cb, void *arg, int *truncated)
{
	struct dns_msg d;
	char qtext[DNS_MAX_QUESTIONS][NG_NAME_MAX];
	int qok[DNS_MAX_QUESTIONS];
	int found = 0;

	if (truncated)
		*truncated = 0;
	if (len > DNS_MSG_MAX)
		return -1;
	d.m = msg;
	d.len = len;
	if (dns_scan(&d) != DNS_OK)
		return -1;
	if (truncated)
		*truncated = d.truncated;
	for (unsigned i = 0; i < d.nq; i++)
		qok[i] = -2;	/* not turned into text yet */
	for (unsigned i = 0; i < d.nrr; i++) {
		const struct dns_rr *r = &d.rr[i];
		char text[NG_NAME_MAX];
		const char *name;
		uint32_t ttl;
		ng_addr addr;
		int k;

		if (r->type == DNS_TYPE_CNAME)
			continue;
		if ((k = dns_resolve(&d, r, &ttl)) == -1)
			continue;
		if (k >= 0) {
			if (qok[k] == -2)
				qok[k] = dns_name_text(msg, len, d.q[k].off, qtext[k], sizeof qtext[k]);
			if (qok[k] != 0)
				continue;
			name = qtext[k];
		} else {
			if (dns_name_text(msg, len, d.rr[-2 - k].owner.off, text, sizeof text) != 0)
				continue;
			name = text;
		}
		addr = r->type == DNS_TYPE_A ? addr_from_v4(msg + r->rdoff) : addr_from_v6(msg + r->rdoff);
		if (cb)
			cb(&addr, name, ttl, arg);
		found++;
	}
	return found;
}

/* A fresh random seed so that crafted answers cannot aim at one hash bucket. */
static uint64_t dns_seed(const void *salt)
{
	uint64_t s = 0;

	if (platform_random(&s, sizeof s) != 0)
		s = (uint64_t)time_mono() ^ (uint64_t)(uintptr_t)salt;
	return s;
}

struct dns_cache *dns_cache_create(size_t max_entries, ng_time grace)
{
	struct dns_cache *c = xcalloc(1, sizeof *c);

	if (max_entries < 1)
		max_entries = 1;
	if (max_entries > UINT32_MAX / 2)
		max_entries = UINT32_MAX / 2;
	c->max = (uint32_t)max_entries;
	c->cap = NG_MIN(c->max, 1024u);
	c->ent = xcalloc(c->cap, sizeof *c->ent);
	c->used = xcalloc(c->cap / 8 + 1, 1);
	for (c->nbucket = 16; c->nbucket < c->cap; c->nbucket *= 2)
		;
	c->bucket = xmalloc(c->nbucket * sizeof *c->bucket);
	memset(c->bucket, 0xff, c->nbucket * sizeof *c->bucket);
	c->head = c->tail = DNS_NIL;
	c->grace = grace > 0 ? grace : 0;
	c->seed = dns_seed(c);
	return c;
}

void dns_cache_destroy(struct dns_cache *c)
{
	if (c == NULL)
		return;
	for (uint32_t i = 0; i < c->nent; i++)
		for (unsigned k = 0; k < DNS_SLOTS; k++)
			strpool_put(c->ent[i].slot[k].name);
	free(c->bucket);
	free(c->used);
	free(c->ent);
	free(c);
}

/* Bucket of an address under this cache's seed. */
static inline uint32_t dns_bucket(const struct dns_cache *c, const ng_addr *addr)
{
	return (uint32_t)(ng_hash64(addr, sizeof *addr, c->seed) & (c->nbucket - 1));
}

/* The second-chance bit of entry i. */
static inline bool used_get(const struct dns_cache *c, uint32_t i)
{
	return c->used[i / 8] & (1u << (i % 8));
}

static inline void used_set(struct dns_cache *c, uint32_t i, bool on)
{
	if (on)
		c->used[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		c->used[i / 8] &= (uint8_t)~(1u << (i % 8));
}

/* Unlink entry i from the LRU list. */
static void dns_lru_unlink(struct dns_cache *c, uint32_t i)
{
	struct dns_entry *e = &c->ent[i];

	if (e->prev != DNS_NIL)
		c->ent[e->prev].next = e->next;
	else
		c->head = e->next;
	if (e->next != DNS_NIL)
		c->ent[e->next].prev = e->prev;
	else
		c->tail = e->prev;
}

/* Put entry i at the most-recently-used end. */
static void dns_lru_front(struct dns_cache *c, uint32_t i)
{
	struct dns_entry *e = &c->ent[i];

	e->prev = DNS_NIL;
	e->next = c->head;
	if (c->head != DNS_NIL)
		c->ent[c->head].prev = i;
	c->head = i;
	if (c->tail == DNS_NIL)
		c->tail = i;
}

/* The entry index for addr, or DNS_NIL. */
static uint32_t dns_find(const struct dns_cache *c, const ng_addr *addr)
{
	for (uint32_t i = c->bucket[dns_bucket(c, addr)]; i != DNS_NIL; i = c->ent[i].hnext) {
		if (memcmp(&c->ent[i].addr, addr, sizeof *addr) == 0)
			return i;
	}
	return DNS_NIL;
}

/* Double the entry array (up to max) and rehash into a bucket array to match. */
static void dns_grow(struct dns_cache *c)
{
	uint32_t ncap = c->cap > c->max / 2 ? c->max : c->cap * 2;

	c->ent = xrealloc(c->ent, (size_t)ncap * sizeof *c->ent);
	c->used = xrealloc(c->used, ncap / 8 + 1);
	memset(c->used + c->cap / 8 + 1, 0, ncap / 8 - c->cap / 8);
	c->cap = ncap;
	if (c->nbucket >= ncap)
		return;
	while (c->nbucket < ncap)
		c->nbucket *= 2;
	free(c->bucket);
	c->bucket = xmalloc((size_t)c->nbucket * sizeof *c->bucket);
	memset(c->bucket, 0xff, (size_t)c->nbucket * sizeof *c->bucket);
	for (uint32_t i = 0; i < c->nent; i++) {
		uint32_t b = dns_bucket(c, &c->ent[i].addr);

		c->ent[i].hnext = c->bucket[b];
		c->bucket[b] = i;
	}
}

/* An entry for addr, new or reused from the LRU tail, at the LRU head. */
static struct dns_entry *dns_entry_get(struct dns_cache *c, const ng_addr *addr)
{
	uint32_t i = dns_find(c, addr), b;
	struct dns_entry *e;

	if (i != DNS_NIL) {
		dns_lru_unlink(c, i);
		dns_lru_front(c, i);
		return &c->ent[i];
	}
	if (c->nent < c->max) {
		if (c->nent == c->cap)
			dns_grow(c);
		i = c->nent++;
	} else {
		uint32_t *pp;

		/* Second chance: a tail entry looked up since it last got here goes round once more. */
		while (used_get(c, c->tail)) {
			i = c->tail;
			used_set(c, i, false);
			dns_lru_unlink(c, i);
			dns_lru_front(c, i);
		}
		i = c->tail;
		e = &c->ent[i];
		for (pp = &c->bucket[dns_bucket(c, &e->addr)]; *pp != i; pp = &c->ent[*pp].hnext)
			;
		*pp = e->hnext;
		dns_lru_unlink(c, i);
		for (unsigned s = 0; s < DNS_SLOTS; s++)
			strpool_put(e->slot[s].name);
		c->st.evictions++;
	}
	e = &c->ent[i];
	memset(e, 0, sizeof *e);
	used_set(c, i, false);
	e->addr = *addr;
	b = dns_bucket(c, addr);
	e->hnext = c->bucket[b];
	c->bucket[b] = i;
	dns_lru_front(c, i);
	return e;
}

/* Record that addr had name at `now` until `expiry`. */
static void dns_store(struct dns_cache *c, const ng_addr *addr, const char *name, ng_time now, ng_time expiry)
{
	struct dns_entry *e = dns_entry_get(c, addr);
	const char *n = strpool_get(name);
	struct dns_slot *victim = NULL;

	for (unsigned s = 0; s < DNS_SLOTS; s++) {
		struct dns_slot *sl = &e->slot[s];

		if (sl->name == n) {
			sl->first = NG_MIN(sl->first, now);
			sl->last = NG_MAX(sl->last, now);
			sl->expiry = NG_MAX(sl->expiry, expiry);
			strpool_put(n);	/* the slot already holds a reference */
			return;
		}
		if (victim == NULL || sl->name == NULL || (victim->name != NULL && sl->last < victim->last))
			victim = sl;
	}
	if (victim->name != NULL && victim->last > now) {
		strpool_put(n);	/* older than everything kept: not worth a slot */
		return;
	}
	strpool_put(victim->name);
	victim->name = n;
	victim->first = victim->last = now;
	victim->expiry = expiry;
}

/* Context dns_learn hands to dns_parse. */
struct dns_learn_ctx {
	struct dns_cache *c;
	ng_time now;
	bool link_names_only;	/* mDNS/LLMNR: only names under .local or of one label */
};

/* A name mDNS (RFC 6762 3) or LLMNR (RFC 4795 2) may answer for: under .local, or a single label. */
static bool link_local_name(const char *name)
{
	size_t n = strlen(name);

	return strchr(name, '.') == NULL || (n > 6 && strcmp(name + n - 6, ".local") == 0) || strcmp(name, "local") == 0;
}

/* dns_parse callback: store one mapping with expiry = seen + max(TTL, 60 s) + grace. */
static void dns_learn_cb(const ng_addr *addr, const char *name, uint32_t ttl, void *arg)
{
	struct dns_learn_ctx *ctx = arg;
	int64_t secs = NG_MIN(NG_MAX((int64_t)ttl, DNS_TTL_MIN), DNS_TTL_MAX);

	if (ctx->link_names_only && !link_local_name(name))
		return;	/* a LAN host multicasting "update.microsoft.com" is not believed */
	dns_store(ctx->c, addr, name, ctx->now, ctx->now + secs * NG_USEC + ctx->c->grace);
}

int dns_learn(struct dns_cache *c, const uint8_t *msg, size_t len, ng_time now)
{
	return dns_learn_from(c, msg, len, now, false);
}

int dns_learn_from(struct dns_cache *c, const uint8_t *msg, size_t len, ng_time now, bool link_names_only)
{
	struct dns_learn_ctx ctx = {c, now, link_names_only};
	int n, trunc;

	c->st.messages++;
	n = dns_parse(msg, len, dns_learn_cb, &ctx, &trunc);
	if (n < 0) {
		c->st.malformed++;
		return -1;
	}
	if (trunc)
		c->st.truncated++;
	c->st.answers += (uint64_t)n;
	return n;
}

void dns_prefetch(const struct dns_cache *c, const ng_addr *addr)
{
	__builtin_prefetch(&c->bucket[dns_bucket(c, addr)]);
}

const char *dns_lookup(struct dns_cache *c, const ng_addr *addr, ng_time at)
{
	uint32_t i = dns_find(c, addr);
	const struct dns_slot *best = NULL;
	ng_time best_rank = 0;

	if (i == DNS_NIL)
		return NULL;
	used_set(c, i, true);	/* cheaper than moving it to the LRU head: no other entry is touched */
	for (unsigned s = 0; s < DNS_SLOTS; s++) {
		const struct dns_slot *sl = &c->ent[i].slot[s];
		ng_time rank;

		if (sl->name == NULL || sl->first > at || at >= sl->expiry)
			continue;
		/* When it was last given at or before `at` (only first and last are known). */
		rank = sl->last <= at ? sl->last : sl->first;
		if (best == NULL || rank > best_rank) {
			best = sl;
			best_rank = rank;
		}
	}
	return best ? best->name : NULL;
}

void dns_get_stats(const struct dns_cache *c, struct dns_stats *out)
{
	*out = c->st;
	out->entries = c->nent;
	out->names = strpool_count();
}

/* RFC 1035 4.1.1 header, 4.1.2 question, 4.1.4 compression; may leave qname unterminated on failure. */
static int dns_summary_parse(const uint8_t *msg, size_t len, char *qname, size_t qlen, uint16_t *qtype, int *rcode)
{
	size_t pos = DNS_HDR_LEN, out = 0, end = 0, wire = 0;
	size_t run_start = DNS_HDR_LEN;	/* a pointer must point before the run it is found in */
	int hops = 0;
	bool jumped = false;

	if (qlen == 0)
		return -1;
	qname[0] = '\0';
	if (len < DNS_HDR_LEN || !(msg[2] & 0x80) || ng_rd16(msg + 4) == 0)
		return -1;
	for (;;) {
		uint8_t l;

		if (pos >= len)
			return -1;
		l = msg[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t to;

			if (pos + 1 >= len || ++hops > 16)
				return -1;
			to = (size_t)(l & 0x3f) << 8 | msg[pos + 1];
			if (to < DNS_HDR_LEN || to >= run_start)
				return -1;
			if (!jumped)
				end = pos + 2;
			jumped = true;
			pos = run_start = to;
			continue;
		}
		if (l & 0xc0)
			return -1;	/* 0x40 and 0x80 label types are obsolete or unassigned (RFC 6891 5) */
		if (l == 0) {
			if (!jumped)
				end = pos + 1;
			break;
		}
		if (pos + 1 + l > len)
			return -1;
		wire += 1 + (size_t)l;
		if (wire + 1 > DNS_NAME_WIRE_MAX)
			return -1;
		if (out > 0) {
			if (out + 2 > qlen)
				return -1;
			qname[out++] = '.';
		}
		for (size_t i = 0; i < l; i++) {
			uint8_t c = lc(msg[pos + 1 + i]);

			if (c <= ' ' || c >= 0x7f || c == '.' || c == '\\') {
				/* RFC 1035 5.1: \DDD keeps odd bytes distinct and the text one string. */
				if (out + 5 > qlen)
					return -1;
				qname[out++] = '\\';
				qname[out++] = (char)('0' + c / 100);
				qname[out++] = (char)('0' + c / 10 % 10);
				qname[out++] = (char)('0' + c % 10);
			} else {
				if (out + 2 > qlen)
					return -1;
				qname[out++] = (char)c;
			}
		}
		qname[out] = '\0';
		pos += 1 + l;
	}
	if (end + 4 > len)
		return -1;
	*qtype = ng_rd16(msg + end);
	*rcode = msg[3] & 0x0f;
	return 0;
}

/* See dns.h; on failure qname is left empty. */
int dns_response_summary(const uint8_t *msg, size_t len, char *qname, size_t qlen, uint16_t *qtype, int *rcode)
{
	int r = dns_summary_parse(msg, len, qname, qlen, qtype, rcode);

	if (r != 0 && qlen > 0)
		qname[0] = '\0';
	return r;
}
