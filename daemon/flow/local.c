/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * local.c: the set of local prefixes, and inference of the local host from a capture.
 *
 * The set is small (a host's addresses plus --local-net prefixes), so a
 * linear scan per new flow is cheapest. Inference counts, per unicast
 * address, the distinct conversations it takes part in and those it opened
 * (sent the TCP SYN, or the UDP datagram from a high port to a well-known
 * one), with small open-addressing hash tables that grow by doubling. A
 * private address that opens conversations wins over a busier public one: a
 * capture of one LAN host talking to one server has both ends in every
 * conversation, and only the direction of the opening tells them apart.
 */
#include "local.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include "platform.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "util.h"

struct local_set {
	ng_cidr *nets;
	size_t n, cap;
};

struct local_set *local_set_create(void)
{
	return xcalloc(1, sizeof(struct local_set));
}

void local_set_destroy(struct local_set *ls)
{
	if (!ls)
		return;
	free(ls->nets);
	free(ls);
}

/* Append a prefix unless it is already there. */
static void local_set_push(struct local_set *ls, const ng_cidr *c)
{
	for (size_t i = 0; i < ls->n; i++) {
		if (ls->nets[i].prefix == c->prefix && addr_equal(&ls->nets[i].base, &c->base))
			return;
	}
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? ls->cap * 2 : 8;
		ls->nets = xrealloc(ls->nets, ls->cap * sizeof *ls->nets);
	}
	ls->nets[ls->n++] = *c;
}

int local_set_add(struct local_set *ls, const char *cidr, char *err, size_t errlen)
{
	ng_cidr c;
	char why[160];

	if (cidr_parse(cidr, &c, why, sizeof why) != 0) {
		snprintf(err, errlen, "bad --local-net '%s': %s (use a CIDR such as 192.168.1.0/24)", cidr, why);
		return -1;
	}
	local_set_push(ls, &c);
	return 0;
}

void local_set_add_addr(struct local_set *ls, const ng_addr *addr)
{
	ng_cidr c;

	c.base = *addr;
	c.prefix = addr->v == 4 ? 32 : 128;
	local_set_push(ls, &c);
}

int local_set_add_interfaces(struct local_set *ls, char *err, size_t errlen)
{
	struct ifaddrs *ifs;

	if (getifaddrs(&ifs) != 0) {
		snprintf(err, errlen, "cannot list this host's addresses: %s (give --local-net CIDR)", strerror(errno));
		return -1;
	}
	for (struct ifaddrs *ifa = ifs; ifa; ifa = ifa->ifa_next) {
		ng_addr a;

		if (!ifa->ifa_addr)
			continue;
		if (ifa->ifa_addr->sa_family == AF_INET)
			a = addr_from_v4((const uint8_t *)&((struct sockaddr_in *)(void *)ifa->ifa_addr)->sin_addr);
		else if (ifa->ifa_addr->sa_family == AF_INET6)
			a = addr_from_v6((const uint8_t *)&((struct sockaddr_in6 *)(void *)ifa->ifa_addr)->sin6_addr);
		else
			continue;
		local_set_add_addr(ls, &a);
	}
	freeifaddrs(ifs);
	return 0;
}

bool local_set_contains(const struct local_set *ls, const ng_addr *addr)
{
	for (size_t i = 0; i < ls->n; i++) {
		if (cidr_contains(&ls->nets[i], addr))
			return true;
	}
	return false;
}

size_t local_set_count(const struct local_set *ls)
{
	return ls->n;
}

void local_set_foreach(const struct local_set *ls, void (*cb)(void *arg, const ng_cidr *c), void *arg)
{
	for (size_t i = 0; i < ls->n; i++)
		cb(arg, &ls->nets[i]);
}

/* One prefix as text: a bare address for a host prefix, else "base/len". */
static char *local_prefix_text(const ng_cidr *c, char *buf, size_t len)
{
	if (c->prefix == (c->base.v == 4 ? 32 : 128))
		return addr_format(&c->base, buf, len);
	return cidr_format(c, buf, len);
}

void local_set_to_json(const struct local_set *ls, cJSON *array)
{
	char buf[NG_ADDRSTRLEN + 8];

	for (size_t i = 0; i < ls->n; i++)
		cJSON_AddItemToArray(array, cJSON_CreateString(local_prefix_text(&ls->nets[i], buf, sizeof buf)));
}

char *local_set_describe(const struct local_set *ls, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ls->n && off + 1 < len; i++) {
		char a[NG_ADDRSTRLEN + 8];

		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
					local_prefix_text(&ls->nets[i], a, sizeof a));
	}
	return buf;
}

/*
 * Inference state: a set of conversation hashes, a set of the conversations
 * whose opening was seen, and per address the conversations it takes part in
 * and the ones it opened.
 */
struct addr_count {
	ng_addr addr;
	uint64_t flows;		/* distinct conversations */
	uint64_t opened;	/* of those, opened by this address (TCP SYN, UDP to a well-known port) */
	bool used;
};

/* An open-addressing set of 64-bit hashes; 0 marks an empty slot. */
struct hash_set {
	uint64_t *slots;
	size_t n, cap;
};

struct local_infer {
	struct hash_set convs;	/* every conversation */
	struct hash_set opens;	/* conversations whose opening packet was seen */
	struct addr_count *addrs;
	size_t naddrs, capaddrs;
};

/* UDP ports below this are "well-known" (IANA system ports): a client sends to them from above. */
#define LOCAL_WELL_KNOWN 1024

/* Size an empty hash set. */
static void hash_set_init(struct hash_set *s)
{
	s->cap = 1024;
	s->n = 0;
	s->slots = xcalloc(s->cap, sizeof *s->slots);
}

struct local_infer *local_infer_create(void)
{
	struct local_infer *li = xcalloc(1, sizeof *li);

	hash_set_init(&li->convs);
	hash_set_init(&li->opens);
	li->capaddrs = 256;
	li->addrs = xcalloc(li->capaddrs, sizeof *li->addrs);
	return li;
}

void local_infer_destroy(struct local_infer *li)
{
	if (!li)
		return;
	free(li->convs.slots);
	free(li->opens.slots);
	free(li->addrs);
	free(li);
}

/* Insert a hash into s; true when it was new. */
static bool hash_set_insert(struct hash_set *s, uint64_t h)
{
	size_t i;

	if (h == 0)
		h = 1;
	if (s->n * 2 >= s->cap) {
		size_t ncap = s->cap * 2;
		uint64_t *n = xcalloc(ncap, sizeof *n);

		for (size_t j = 0; j < s->cap; j++) {
			if (!s->slots[j])
				continue;
			for (i = s->slots[j] & (ncap - 1); n[i]; i = (i + 1) & (ncap - 1))
				;
			n[i] = s->slots[j];
		}
		free(s->slots);
		s->slots = n;
		s->cap = ncap;
	}
	for (i = h & (s->cap - 1); s->slots[i]; i = (i + 1) & (s->cap - 1)) {
		if (s->slots[i] == h)
			return false;
	}
	s->slots[i] = h;
	s->n++;
	return true;
}

/* The entry for addr, created with zero counts when new. */
static struct addr_count *addr_entry(struct local_infer *li, const ng_addr *addr)
{
	size_t i;

	if (li->naddrs * 2 >= li->capaddrs) {
		size_t ncap = li->capaddrs * 2;
		struct addr_count *n = xcalloc(ncap, sizeof *n);

		for (size_t j = 0; j < li->capaddrs; j++) {
			if (!li->addrs[j].used)
				continue;
			for (i = addr_hash(&li->addrs[j].addr) & (ncap - 1); n[i].used; i = (i + 1) & (ncap - 1))
				;
			n[i] = li->addrs[j];
		}
		free(li->addrs);
		li->addrs = n;
		li->capaddrs = ncap;
	}
	for (i = addr_hash(addr) & (li->capaddrs - 1); li->addrs[i].used; i = (i + 1) & (li->capaddrs - 1)) {
		if (addr_equal(&li->addrs[i].addr, addr))
			return &li->addrs[i];
	}
	li->addrs[i].used = true;
	li->addrs[i].addr = *addr;
	li->naddrs++;
	return &li->addrs[i];
}

/* Only unicast addresses can be "this host". */
static bool is_unicast(const ng_addr *a)
{
	enum ng_scope s = addr_scope(a);

	return s != NG_SCOPE_MULTICAST && s != NG_SCOPE_BROADCAST && s != NG_SCOPE_UNSPECIFIED;
}

/*
 * A range a host sits in behind a router rather than on the Internet: RFC
 * 1918 and ULA, carrier-grade NAT, documentation prefixes (test networks).
 * Loopback and link-local are left out: every host has them, so they say
 * nothing about which end is this one.
 */
static bool is_private(const ng_addr *a)
{
	enum ng_scope s = addr_scope(a);

	return s == NG_SCOPE_LAN || s == NG_SCOPE_CGNAT || s == NG_SCOPE_DOCUMENTATION;
}

/* True when p opens a conversation: a TCP SYN without ACK, or UDP from a high port to a well-known one. */
static bool opens_conversation(const struct pkt *p)
{
	if (!p->has_ports)
		return false;
	if (p->proto == NG_PROTO_TCP)
		return (p->tcp_flags & (NG_TCP_SYN | NG_TCP_ACK)) == NG_TCP_SYN;
	if (p->proto == NG_PROTO_UDP)
		return p->sport >= LOCAL_WELL_KNOWN && p->dport < LOCAL_WELL_KNOWN && p->dport != 0;
	return false;
}

void local_infer_packet(struct local_infer *li, const struct pkt *p)
{
	struct flow_key k;
	bool swapped;
	uint64_t h;

	flow_key_make(&k, p->proto, &p->src, p->sport, &p->dst, p->dport, &swapped);
	h = flow_key_hash(&k);
	if (hash_set_insert(&li->convs, h)) {
		if (is_unicast(&p->src))
			addr_entry(li, &p->src)->flows++;
		if (is_unicast(&p->dst))
			addr_entry(li, &p->dst)->flows++;
	}
	/* A conversation counts as opened once, by the sender of its first opening packet. */
	if (opens_conversation(p) && is_unicast(&p->src) && hash_set_insert(&li->opens, h ^ 0x6f70656e73ULL))
		addr_entry(li, &p->src)->opened++;
}

/* True when e beats the best so far: more conversations, ties to the lower address (never hash order). */
static bool beats(const struct addr_count *e, const struct addr_count *best)
{
	return !best || e->flows > best->flows || (e->flows == best->flows && addr_compare(&e->addr, &best->addr) < 0);
}

size_t local_infer_finish(struct local_infer *li, struct local_set *ls, char *buf, size_t len)
{
	const struct addr_count *best[2] = {NULL, NULL}, *opener[2] = {NULL, NULL};
	size_t added = 0, off = 0;

	buf[0] = '\0';
	/*
	 * Per IP version: a private address that opens conversations is the
	 * host behind the capture (a server answers, a scanner's target never
	 * opens); among several, the busiest. Without one, the address in the
	 * most conversations, as a public host's own capture would show.
	 */
	for (size_t i = 0; i < li->capaddrs; i++) {
		const struct addr_count *e = &li->addrs[i];
		int v;

		if (!e->used)
			continue;
		v = e->addr.v == 4 ? 0 : 1;
		if (beats(e, best[v]))
			best[v] = e;
		if (e->opened > 0 && is_private(&e->addr) && beats(e, opener[v]))
			opener[v] = e;
	}
	for (int v = 0; v < 2; v++) {
		if (opener[v])
			best[v] = opener[v];
	}
	for (int v = 0; v < 2; v++) {
		char a[NG_ADDRSTRLEN];

		if (!best[v])
			continue;
		local_set_add_addr(ls, &best[v]->addr);
		added++;
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s (in %llu of %zu conversations, opened %llu)",
						off ? ", " : "", addr_format(&best[v]->addr, a, sizeof a),
						(unsigned long long)best[v]->flows, li->convs.n,
						(unsigned long long)best[v]->opened);
	}
	return added;
}
