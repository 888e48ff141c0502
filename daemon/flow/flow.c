/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flow.c: the flow table.
 *
 * DESIGN. Flows are found through an open-addressing index of (hash, flow
 * number) pairs of 8 bytes, kept at most half full, so a packet usually costs
 * one probe and one touch of its own flow; the stored 32 bits of the hash
 * reject other keys without reading them. A flow does not keep its hash:
 * removal computes it again from the key. Each flow is also in exactly one of four doubly-linked lists: three
 * "timeout classes" (open TCP, closed TCP, everything else), each with one
 * fixed timeout, and the list of ended flows kept for the API. A packet does
 * not move its flow within its list (that would touch two neighbours' cache
 * lines per packet); the list is ordered by when each flow was queued, and
 * expiry looks at the head: a head idle past its timeout ends, a head that
 * was active since it was queued goes back to the tail. Lookup itself checks
 * the idle time, so a packet after the timeout always starts a new flow even
 * when the head has not been reached yet. A second hash on the flow id
 * serves GET /flows/{id}.
 *
 * Memory is bounded by max_flows active plus max_ended ended flows. When the
 * table is full, an insert evicts first a flow that never got an answer (the
 * shape of a spoofed flood: one packet from a random source), looking a few
 * entries deep into each list, and only then the oldest idle flow. So a flood
 * of millions of spoofed sources churns through its own entries while real
 * conversations stay.
 */
#include "flow.h"

#include "log.h"

#include "platform.h"
#include <stdlib.h>
#include <string.h>

/*
 * 176 bytes a flow, paid a million times over on a busy host: a new field
 * must find room in it or live beside the flow (struct flow_ext).
 */
_Static_assert(sizeof(struct flow) <= 176, "struct flow grew past 176 bytes");

/*
 * DESIGN. The extensions come from one pool for the process (the engine runs
 * on one thread): chunks carved into records, freed records reused first,
 * chunks kept until exit, so memory stays at the peak like the flow slabs.
 * One pool rather than one per table, so a flow reaches its extension
 * without knowing its table.
 */
#define EXT_CHUNK_RECORDS 1024

struct ext_hole {
	struct ext_hole *next;
};

static struct {
	struct ext_hole *holes;	/* freed records */
	struct flow_ext *carve;	/* next never-used record of the newest chunk */
	size_t carve_left;
	size_t live;		/* records in use */
	void **chunks;
	size_t nchunks, cap;
} ext_pool;

struct flow_ext *flow_ext_get(struct flow *f)
{
	struct flow_ext *x;

	if (f->ext)
		return f->ext;
	if (ext_pool.holes) {
		x = (struct flow_ext *)(void *)ext_pool.holes;
		ext_pool.holes = ext_pool.holes->next;
	} else {
		if (ext_pool.carve_left == 0) {
			if (ext_pool.nchunks == ext_pool.cap) {
				ext_pool.cap = ext_pool.cap ? ext_pool.cap * 2 : 16;
				ext_pool.chunks = xrealloc(ext_pool.chunks, ext_pool.cap * sizeof *ext_pool.chunks);
			}
			ext_pool.carve = xmalloc(EXT_CHUNK_RECORDS * sizeof *ext_pool.carve);
			ext_pool.chunks[ext_pool.nchunks++] = ext_pool.carve;
			ext_pool.carve_left = EXT_CHUNK_RECORDS;
		}
		x = ext_pool.carve++;
		ext_pool.carve_left--;
	}
	memset(x, 0, sizeof *x);
	x->reply_first = x->dir_recorded[0] = x->dir_recorded[1] = NG_TIME_NONE;
	ext_pool.live++;
	f->ext = x;
	return x;
}

/* Give f's extension back to the pool (what it points to was released before). */
static void flow_ext_free(struct flow *f)
{
	struct ext_hole *h = (struct ext_hole *)(void *)f->ext;

	if (!h)
		return;
	h->next = ext_pool.holes;
	ext_pool.holes = h;
	ext_pool.live--;
	f->ext = NULL;
}

void flow_set_dir_first(struct flow *f, int d, ng_time t)
{
	if (f->packets[d ^ 1] == 0) {
		f->first_dir = (uint8_t)d;
		f->first_seen = t;
		return;
	}
	flow_ext_get(f)->reply_first = t;
}

void flow_set_recorded(struct flow *f, int d, ng_time t)
{
	struct flow_ext *x = flow_ext_get(f);

	f->recorded |= (uint8_t)(1u << d);
	x->dir_recorded[d] = t;
	x->rec_pkts[d] = (uint32_t)f->packets[d];
	x->rec_bytes_lo[d] = (uint32_t)f->bytes[d];
	x->rec_bytes_hi[d] = (uint16_t)(f->bytes[d] >> 32);
}

/*
 * Lists are ordered by when each flow was queued, kept in 32 bits of 65.536
 * ms units (2^16 us): compared by their wrapping difference, good for ages
 * up to 8.9 years. Expiry looks at a flow once its coarse age reaches the
 * timeout's, up to one unit early, never late; what it then does is decided
 * by the flow's exact last_seen. A flow looked at early, and idle since it
 * was queued, stays where it is and the walk goes on past it: a flow queued
 * behind it in the same unit may be idle already. (A flow dated ahead of
 * now, when a capture's time went back, stops the walk, as it always did.)
 * A packet clock that jumps ahead by half the stamps' range or more
 * (QUEUE_JUMP, 4.5 years: only a bogus capture does) would make the
 * wrapping differences lie, so expiry then checks every flow by its exact
 * time instead: once per such jump of the clock's high-water mark, and each
 * ends about every flow there is.
 */
#define QUEUE_SHIFT 16
#define QUEUE_JUMP ((uint64_t)1 << (QUEUE_SHIFT + 31))

static inline uint32_t queue_stamp(ng_time t)
{
	return (uint32_t)((uint64_t)t >> QUEUE_SHIFT);
}

enum tclass {
	TC_TCP = 0,
	TC_TCP_CLOSED,
	TC_OTHER,
	TC_ENDED,
	TC_COUNT,
};

/*
 * Flows are carved from slabs of FLOW_SLAB_BYTES, each aligned to its size
 * so the kernel can back it with one transparent huge page (one page fault
 * instead of 512); freed flows go on a free list and are reused first. So a
 * flow costs sizeof(struct flow), not a malloc chunk and its header, and
 * creating one is a pointer pop.
 * Slabs are kept until the table is destroyed: memory stays at the peak,
 * which max_flows + max_ended bound.
 */
#define FLOW_SLAB_BYTES ((size_t)2 << 20)
#define FLOWS_PER_SLAB ((uint32_t)(FLOW_SLAB_BYTES / sizeof(struct flow)))
#define PLACE_BITS 14
#define PLACE_MASK (((uint32_t)1 << PLACE_BITS) - 1)
_Static_assert(FLOWS_PER_SLAB <= ((uint32_t)1 << PLACE_BITS), "a slab holds more flows than PLACE_BITS can number");

/*
 * Flows link to each other (lists, id chains) and the index finds them by
 * number instead of pointer, which halves those fields: flow number n is
 * place n % 2^PLACE_BITS of slab n >> PLACE_BITS (a shift and a mask, not a
 * division, on every packet's lookup; the places past FLOWS_PER_SLAB are
 * never used). Place 0 of every slab
 * holds the slab's own number instead of a flow, so a flow finds its number
 * from its address, and 0 is never a flow's number.
 */
struct slab_head {
	uint32_t number;
};

/* How deep eviction looks into each list for a flow that never got an answer. */
#define EVICT_SCAN_DEPTH 16
#define MIN_BUCKETS 1024

/* An index entry: a flow's number (0 = empty) and 32 bits of its key hash. */
struct flow_slot {
	uint32_t hash;
	uint32_t n;
};

struct flow_list {
	uint32_t head, tail;	/* flow numbers, 0 when empty */
	size_t count;
};

/* A freed flow on the free list (the memory of the flow itself). */
struct flow_hole {
	struct flow_hole *next;
};

struct flow_table {
	struct flow_table_config cfg;
	flow_end_cb on_end;
	flow_release_cb release;
	void *arg;

	struct flow_slot *slots;	/* open addressing by key hash, at most half full */
	size_t nslots;
	uint32_t *idbuckets;		/* by id, active and kept-ended flows (chains of flow numbers) */
	size_t nidbuckets;
	struct flow_list lists[TC_COUNT];
	uint64_t next_id;

	uint64_t created, ended, evicted;

	void **slabs;			/* every slab, for destroy */
	size_t nslabs, slabcap;
	char *carve;			/* next never-used flow in the newest slab */
	size_t carve_left;		/* flows left there */
	struct flow_hole *holes;	/* freed flows */
	size_t carved;			/* flows ever carved (live + holes) */
	ng_time expire_high;		/* the latest time expiry ran at (QUEUE_JUMP), NG_TIME_NONE before */
};

static const ng_time default_timeouts[] = {300 * NG_USEC, 30 * NG_USEC, 120 * NG_USEC};

/* The flow numbered n (not 0). */
static inline struct flow *flow_at(const struct flow_table *ft, uint32_t n)
{
	return (struct flow *)(void *)((char *)ft->slabs[n >> PLACE_BITS] +
				       (size_t)(n & PLACE_MASK) * sizeof(struct flow));
}

/* The flow numbered n, or NULL for 0. */
static inline struct flow *flow_or_null(const struct flow_table *ft, uint32_t n)
{
	return n ? flow_at(ft, n) : NULL;
}

/* The number of a flow of this table, from its address and its slab's head. */
static inline uint32_t number_of(const struct flow *f)
{
	uintptr_t base = (uintptr_t)f & ~(uintptr_t)(FLOW_SLAB_BYTES - 1);

	return ((const struct slab_head *)base)->number << PLACE_BITS |
	       (uint32_t)(((uintptr_t)f - base) / sizeof(struct flow));
}

struct flow_table *flow_table_create(const struct flow_table_config *cfg, flow_end_cb on_end,
				     flow_release_cb release, void *arg)
{
	struct flow_table *ft = xcalloc(1, sizeof *ft);

	ft->cfg = *cfg;
	ft->expire_high = NG_TIME_NONE;
	if (ft->cfg.max_flows == 0)
		ft->cfg.max_flows = 1000000;
	if (ft->cfg.tcp_timeout <= 0)
		ft->cfg.tcp_timeout = default_timeouts[TC_TCP];
	if (ft->cfg.tcp_closed_timeout <= 0)
		ft->cfg.tcp_closed_timeout = default_timeouts[TC_TCP_CLOSED];
	if (ft->cfg.udp_timeout <= 0)
		ft->cfg.udp_timeout = default_timeouts[TC_OTHER];
	ft->on_end = on_end;
	ft->release = release;
	ft->arg = arg;
	ft->nslots = MIN_BUCKETS;
	ft->slots = xcalloc(ft->nslots, sizeof *ft->slots);
	ft->nidbuckets = MIN_BUCKETS;
	ft->idbuckets = xcalloc(ft->nidbuckets, sizeof *ft->idbuckets);
	ft->next_id = 1;
	return ft;
}

/* Map one slab aligned to its size and ask for a huge page behind it; NULL when out of memory. */
static void *slab_map(void)
{
	void *a = platform_alloc_aligned(FLOW_SLAB_BYTES);

	if (a != NULL)
		platform_advise_huge(a, FLOW_SLAB_BYTES);
	return a;
}

/* Memory for one flow (uninitialised): a freed one, else the next of the newest slab. */
static struct flow *flow_alloc(struct flow_table *ft)
{
	struct flow *f;

	if (ft->holes) {
		f = (struct flow *)(void *)ft->holes;
		ft->holes = ft->holes->next;
		return f;
	}
	if (ft->carve_left == 0) {
		void *slab = slab_map();

		if (!slab || ft->nslabs > (UINT32_MAX >> PLACE_BITS))
			fatalx("out of memory for flows (lower --max-flows)");
		if (ft->nslabs == ft->slabcap) {
			ft->slabcap = ft->slabcap ? ft->slabcap * 2 : 16;
			ft->slabs = xrealloc(ft->slabs, ft->slabcap * sizeof *ft->slabs);
		}
		((struct slab_head *)slab)->number = (uint32_t)ft->nslabs;
		ft->slabs[ft->nslabs++] = slab;
		ft->carve = (char *)slab + sizeof(struct flow);	/* place 0 is the head */
		ft->carve_left = FLOWS_PER_SLAB - 1;
	}
	f = (struct flow *)(void *)ft->carve;
	ft->carve += sizeof *f;
	ft->carve_left--;
	ft->carved++;
	return f;
}

void flow_verdict_set(struct flow *f, int d, const struct wl_verdict_info *v)
{
	uint32_t ref = vpool_get(v);	/* before the put: v may be the entry f holds */

	vpool_put(f->verdict_ref[d]);
	f->verdict_ref[d] = ref;
}

/* Give back what the table itself holds for a flow (its verdicts), after the release hook. */
static void flow_drop(struct flow_table *ft, struct flow *f)
{
	if (ft->release)
		ft->release(ft->arg, f);
	for (int d = 0; d < 2; d++) {
		vpool_put(f->verdict_ref[d]);
		f->verdict_ref[d] = 0;
	}
	flow_ext_free(f);
}

/* Free one flow and what it owns. */
static void flow_free(struct flow_table *ft, struct flow *f)
{
	struct flow_hole *h = (struct flow_hole *)(void *)f;

	flow_drop(ft, f);
	f->id = 0;	/* flow_table_recheck: no longer that flow */
	h->next = ft->holes;
	ft->holes = h;
}

void flow_table_destroy(struct flow_table *ft)
{
	if (!ft)
		return;
	for (int c = 0; c < TC_COUNT; c++) {
		struct flow *f = flow_or_null(ft, ft->lists[c].head);

		while (f) {
			struct flow *next = flow_or_null(ft, f->next);

			flow_drop(ft, f);
			f = next;
		}
	}
	for (size_t i = 0; i < ft->nslabs; i++)
		platform_free_aligned(ft->slabs[i], FLOW_SLAB_BYTES);
	free(ft->slabs);
	free(ft->slots);
	free(ft->idbuckets);
	free(ft);
}

void flow_key_make(struct flow_key *k, uint8_t proto, const ng_addr *src, uint16_t sport, const ng_addr *dst,
		   uint16_t dport, bool *swapped)
{
	int c = addr_compare(src, dst);

	memset(k, 0, sizeof *k);
	k->proto = proto;
	if (c < 0 || (c == 0 && sport <= dport)) {
		flow_key_set_a(k, src);
		k->pa = sport;
		flow_key_set_b(k, dst);
		k->pb = dport;
		*swapped = false;
	} else {
		flow_key_set_a(k, dst);
		k->pa = dport;
		flow_key_set_b(k, src);
		k->pb = sport;
		*swapped = true;
	}
}

/*
 * The addresses go through the hash as two 16-byte blocks and the ports,
 * protocol and versions (the last 8 bytes) as its seed: whole blocks only,
 * which is the hash's fast path, with every byte of the key in the result.
 */
_Static_assert(sizeof(struct flow_key) == 40 && offsetof(struct flow_key, pa) == 32, "flow_key_hash's split");
uint64_t flow_key_hash(const struct flow_key *k)
{
	uint64_t rest;

	memcpy(&rest, &k->pa, sizeof rest);
	return ng_hash64(k, 32, 0x666c6f77ULL ^ rest);
}

/* Bucket index of a 64-bit hash in a power-of-two table. */
static inline size_t bucket_of(uint64_t h, size_t n)
{
	return (size_t)(h ^ (h >> 29)) & (n - 1);
}

/* The 32 bits of a key hash that the index keeps, and their bucket. */
static inline uint32_t hash32(uint64_t h)
{
	return (uint32_t)(h ^ (h >> 32));
}
static inline size_t slot_of(uint32_t h, size_t n)
{
	return (size_t)(h ^ (h >> 17)) & (n - 1);
}

static inline uint64_t id_hash(uint64_t id)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return id;
}

struct flow *flow_table_find(struct flow_table *ft, const struct flow_key *k, uint64_t hash)
{
	size_t mask = ft->nslots - 1;
	uint32_t h = hash32(hash);

	for (size_t i = slot_of(h, ft->nslots);; i = (i + 1) & mask) {
		struct flow_slot *sl = &ft->slots[i];

		if (!sl->n)
			return NULL;
		if (sl->hash == h) {
			struct flow *f = flow_at(ft, sl->n);

			if (memcmp(&f->key, k, sizeof *k) == 0)
				return f;
		}
	}
}

void flow_table_prefetch_slot(const struct flow_table *ft, uint64_t hash)
{
	__builtin_prefetch(&ft->slots[slot_of(hash32(hash), ft->nslots)]);
}

void flow_table_prefetch_flow(const struct flow_table *ft, uint64_t hash)
{
	size_t mask = ft->nslots - 1;
	uint32_t h = hash32(hash);

	for (size_t i = slot_of(h, ft->nslots), n = 0; ft->slots[i].n && n < 4; i = (i + 1) & mask, n++) {
		if (ft->slots[i].hash == h) {
			const char *f = (const char *)flow_at(ft, ft->slots[i].n);

			__builtin_prefetch(f);
			__builtin_prefetch(f + 64);
			return;
		}
	}
}

/* Put flow number n with key hash h into the index (its key is known not to be there). */
static void index_put(struct flow_slot *slots, size_t nslots, uint32_t h, uint32_t n)
{
	size_t mask = nslots - 1, i = slot_of(h, nslots);

	while (slots[i].n)
		i = (i + 1) & mask;
	slots[i].hash = h;
	slots[i].n = n;
}

/* Ask for huge pages behind the 2 MiB-aligned part of a large array (fewer page faults and TLB misses). */
static void hugepage_hint(void *p, size_t len)
{
	uintptr_t a = ((uintptr_t)p + FLOW_SLAB_BYTES - 1) & ~(uintptr_t)(FLOW_SLAB_BYTES - 1);
	uintptr_t e = ((uintptr_t)p + len) & ~(uintptr_t)(FLOW_SLAB_BYTES - 1);

	if (len >= 2 * FLOW_SLAB_BYTES && e > a)
		platform_advise_huge((void *)a, e - a);
}

/* Double the index. */
static void grow_slots(struct flow_table *ft)
{
	size_t n = ft->nslots * 2;
	struct flow_slot *ns = xcalloc(n, sizeof *ns);

	hugepage_hint(ns, n * sizeof *ns);

	for (size_t i = 0; i < ft->nslots; i++) {
		if (ft->slots[i].n)
			index_put(ns, n, ft->slots[i].hash, ft->slots[i].n);
	}
	free(ft->slots);
	ft->slots = ns;
	ft->nslots = n;
}

/* Double the id hash table likewise. */
static void grow_idbuckets(struct flow_table *ft)
{
	size_t n = ft->nidbuckets * 2;
	uint32_t *nb = xcalloc(n, sizeof *nb);

	for (size_t i = 0; i < ft->nidbuckets; i++) {
		uint32_t fn = ft->idbuckets[i];

		while (fn) {
			struct flow *f = flow_at(ft, fn);
			uint32_t next = f->idnext;
			size_t b = bucket_of(id_hash(f->id), n);

			f->idnext = nb[b];
			nb[b] = fn;
			fn = next;
		}
	}
	free(ft->idbuckets);
	ft->idbuckets = nb;
	ft->nidbuckets = n;
}

static void list_append(const struct flow_table *ft, struct flow_list *l, struct flow *f)
{
	uint32_t n = number_of(f);

	f->next = 0;
	f->prev = l->tail;
	if (l->tail)
		flow_at(ft, l->tail)->next = n;
	else
		l->head = n;
	l->tail = n;
	l->count++;
}

static void list_remove(const struct flow_table *ft, struct flow_list *l, struct flow *f)
{
	if (f->prev)
		flow_at(ft, f->prev)->next = f->next;
	else
		l->head = f->next;
	if (f->next)
		flow_at(ft, f->next)->prev = f->prev;
	else
		l->tail = f->prev;
	f->prev = f->next = 0;
	l->count--;
}

/*
 * Remove f from the index (it stays in the id hash while kept): empty its
 * slot and shift later members of the probe run back, so no tombstones build up.
 */
static void unhash_key(struct flow_table *ft, struct flow *f)
{
	uint32_t n = number_of(f);
	size_t mask = ft->nslots - 1, i = slot_of(hash32(flow_key_hash(&f->key)), ft->nslots), j;

	while (ft->slots[i].n != n) {
		if (!ft->slots[i].n)
			return;	/* not indexed */
		i = (i + 1) & mask;
	}
	ft->slots[i].n = 0;
	ft->slots[i].hash = 0;
	for (j = (i + 1) & mask; ft->slots[j].n; j = (j + 1) & mask) {
		size_t home = slot_of(ft->slots[j].hash, ft->nslots);

		/* Move j back to i when its home is not in (i, j] (cyclically). */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			ft->slots[i] = ft->slots[j];
			ft->slots[j].n = 0;
			ft->slots[j].hash = 0;
			i = j;
		}
	}
}

static void unhash_id(struct flow_table *ft, struct flow *f)
{
	uint32_t n = number_of(f), *pp = &ft->idbuckets[bucket_of(id_hash(f->id), ft->nidbuckets)];

	for (; *pp; pp = &flow_at(ft, *pp)->idnext) {
		if (*pp == n) {
			*pp = f->idnext;
			f->idnext = 0;
			return;
		}
	}
}

/* The timeout class a flow belongs in, from its protocol and TCP state. */
static enum tclass class_of(const struct flow *f)
{
	if (f->key.proto != 6)
		return TC_OTHER;
	if (f->state == FLOW_STATE_CLOSED || f->state == FLOW_STATE_RESET)
		return TC_TCP_CLOSED;
	return TC_TCP;
}

static ng_time class_timeout(const struct flow_table *ft, enum tclass c)
{
	switch (c) {
	case TC_TCP:
		return ft->cfg.tcp_timeout;
	case TC_TCP_CLOSED:
		return ft->cfg.tcp_closed_timeout;
	default:
		return ft->cfg.udp_timeout;
	}
}

/* Total active flows: every list but the ended one. */
static size_t active_count(const struct flow_table *ft)
{
	return ft->lists[TC_TCP].count + ft->lists[TC_TCP_CLOSED].count + ft->lists[TC_OTHER].count;
}

void flow_table_end(struct flow_table *ft, struct flow *f, enum flow_end reason)
{
	if (f->tclass == TC_ENDED)
		return;
	list_remove(ft, &ft->lists[f->tclass], f);
	unhash_key(ft, f);
	f->end_reason = (uint8_t)reason;
	ft->ended++;
	if (reason == FLOW_END_EVICTED)
		ft->evicted++;
	if (ft->on_end)
		ft->on_end(ft->arg, f);
	if (ft->cfg.max_ended == 0) {
		unhash_id(ft, f);
		flow_free(ft, f);
		return;
	}
	f->tclass = TC_ENDED;
	list_append(ft, &ft->lists[TC_ENDED], f);
	while (ft->lists[TC_ENDED].count > ft->cfg.max_ended) {
		struct flow *old = flow_at(ft, ft->lists[TC_ENDED].head);

		list_remove(ft, &ft->lists[TC_ENDED], old);
		unhash_id(ft, old);
		flow_free(ft, old);
	}
}

/* Pick the flow to evict when full: an unanswered one near a list head, else the oldest head. */
static struct flow *eviction_victim(struct flow_table *ft)
{
	struct flow *best = NULL, *oldest = NULL;

	for (int c = TC_TCP; c < TC_ENDED; c++) {
		struct flow *f = flow_or_null(ft, ft->lists[c].head);

		/* Heads queued in the same 65 ms unit: the one idle longer (its last packet was its queue time). */
		if (f && (!oldest || (int32_t)(f->queued - oldest->queued) < 0 ||
			  (f->queued == oldest->queued && flow_last_seen(f) < flow_last_seen(oldest))))
			oldest = f;
		for (int depth = 0; f && depth < EVICT_SCAN_DEPTH; depth++, f = flow_or_null(ft, f->next)) {
			if ((f->packets[0] == 0 || f->packets[1] == 0) &&
			    (!best || flow_last_seen(f) < flow_last_seen(best))) {
				best = f;
				break;
			}
		}
	}
	return best ? best : oldest;
}

struct flow *flow_table_insert(struct flow_table *ft, const struct flow_key *k, uint64_t hash, ng_time now)
{
	struct flow *f;
	size_t b;
	uint32_t n;

	while (active_count(ft) >= ft->cfg.max_flows) {
		struct flow *victim = eviction_victim(ft);

		if (!victim)
			break;
		flow_table_end(ft, victim, FLOW_END_EVICTED);
	}
	if ((active_count(ft) + 1) * 2 > ft->nslots)
		grow_slots(ft);
	if (active_count(ft) + ft->lists[TC_ENDED].count >= ft->nidbuckets && ft->nidbuckets < (size_t)1 << 26)
		grow_idbuckets(ft);

	f = flow_alloc(ft);
	memset(f, 0, sizeof *f);
	f->key = *k;
	f->id = ft->next_id++;
	f->first_seen = now;
	f->dir_last[0] = f->dir_last[1] = NG_TIME_NONE;	/* not 0: a capture's times may be before 1970 */
	f->state = k->proto == 6 ? FLOW_STATE_ESTABLISHED : FLOW_STATE_OPEN;
	f->queued = queue_stamp(now);
	if (ft->expire_high == NG_TIME_NONE)
		ft->expire_high = now;
	n = number_of(f);
	index_put(ft->slots, ft->nslots, hash32(hash), n);
	b = bucket_of(id_hash(f->id), ft->nidbuckets);
	f->idnext = ft->idbuckets[b];
	ft->idbuckets[b] = n;
	f->tclass = (uint8_t)class_of(f);
	list_append(ft, &ft->lists[f->tclass], f);
	ft->created++;
	return f;
}

void flow_table_touch(struct flow_table *ft, struct flow *f)
{
	enum tclass c;

	if (f->tclass == TC_ENDED)
		return;
	c = class_of(f);
	if (c == f->tclass)
		return;	/* the common case: the list is put in order lazily, by expiry */
	list_remove(ft, &ft->lists[f->tclass], f);
	f->tclass = (uint8_t)c;
	f->queued = queue_stamp(flow_last_seen(f));
	list_append(ft, &ft->lists[c], f);
}

bool flow_table_idle(const struct flow_table *ft, const struct flow *f, ng_time now)
{
	return now - flow_last_seen(f) > class_timeout(ft, (enum tclass)f->tclass);
}

/* An idle flow of class c ends: after FIN/RST it was closed, else idle. */
static void expire_end(struct flow_table *ft, int c, struct flow *f)
{
	flow_table_end(ft, f, c == TC_TCP_CLOSED ? FLOW_END_CLOSED : FLOW_END_IDLE);
}

/* A flow active since it was queued goes back to the tail of class c's list, in order of its last packet. */
static void expire_requeue(struct flow_table *ft, int c, struct flow *f)
{
	list_remove(ft, &ft->lists[c], f);
	f->queued = queue_stamp(flow_last_seen(f));
	list_append(ft, &ft->lists[c], f);
}

/* End class c's idle flows by their exact times, every one of them; the others are queued again. */
static size_t expire_sweep(struct flow_table *ft, int c, ng_time now, ng_time timeout)
{
	size_t n = 0;

	for (size_t k = ft->lists[c].count; k > 0 && ft->lists[c].head; k--) {
		struct flow *f = flow_at(ft, ft->lists[c].head);

		if (now - flow_last_seen(f) > timeout) {
			expire_end(ft, c, f);
			n++;
		} else {
			expire_requeue(ft, c, f);
		}
	}
	return n;
}

size_t flow_table_expire(struct flow_table *ft, ng_time now)
{
	size_t n = 0;
	bool sweep = false;

	if (ft->expire_high == NG_TIME_NONE || now > ft->expire_high) {
		sweep = ft->expire_high != NG_TIME_NONE && (uint64_t)now - (uint64_t)ft->expire_high >= QUEUE_JUMP;
		ft->expire_high = now;
	}
	for (int c = TC_TCP; c < TC_ENDED; c++) {
		ng_time timeout = class_timeout(ft, (enum tclass)c);
		uint32_t due = queue_stamp(timeout), stamp = queue_stamp(now);
		struct flow *f;

		if (sweep) {
			n += expire_sweep(ft, c, now, timeout);
			continue;
		}
		/* Requeued flows go to the tail: met again, they are skipped (last == queued), so the walk ends. */
		for (f = flow_or_null(ft, ft->lists[c].head); f && stamp - f->queued >= due;) {
			struct flow *next = flow_or_null(ft, f->next);
			uint32_t last = queue_stamp(flow_last_seen(f));

			if (now - flow_last_seen(f) > timeout) {
				expire_end(ft, c, f);
				n++;
			} else if (last != f->queued) {
				expire_requeue(ft, c, f);
				if (next == NULL)
					next = f;	/* it was the tail: it is met again, and skipped */
			} else if (flow_last_seen(f) > now) {
				break;	/* dated ahead of now (a capture's time went back): it holds the list, as ever */
			}
			/* else: not active since it was queued, only looked at early; it stays, the walk goes on */
			f = next;
		}
	}
	return n;
}

struct flow *flow_table_by_id(struct flow_table *ft, uint64_t id)
{
	for (uint32_t n = ft->idbuckets[bucket_of(id_hash(id), ft->nidbuckets)]; n;) {
		struct flow *f = flow_at(ft, n);

		if (f->id == id)
			return f;
		n = f->idnext;
	}
	return NULL;
}

struct flow *flow_table_recheck(struct flow_table *ft, struct flow *f, uint64_t id)
{
	(void)ft;
	return f->id == id ? f : NULL;
}

void flow_table_foreach(struct flow_table *ft, void (*cb)(void *arg, struct flow *f), void *arg)
{
	for (int c = 0; c < TC_COUNT; c++) {
		struct flow *f = flow_or_null(ft, ft->lists[c].head);

		while (f) {
			struct flow *next = flow_or_null(ft, f->next);	/* cb may not free f, but be safe anyway */

			cb(arg, f);
			f = next;
		}
	}
}

/* A flow and its id, sorted without reading the flows again. */
struct id_ref {
	uint64_t id;
	struct flow *f;
};

static int id_ref_cmp(const void *x, const void *y)
{
	const struct id_ref *a = x, *b = y;

	return a->id < b->id ? -1 : a->id > b->id;
}

/*
 * Each list is mostly in id order already (flows are appended as they
 * start), so the lists are merged when each is sorted; a list that is not
 * (a flow changed class, or expiry requeued it) is sorted first.
 */
struct flow **flow_table_active_by_id(struct flow_table *ft, size_t *n)
{
	size_t count = active_count(ft), k = 0, start[TC_ENDED + 1];
	struct id_ref *r, *tmp;
	struct flow **v;

	*n = 0;
	if (count == 0)
		return NULL;
	r = xmalloc(count * sizeof *r);
	for (int c = TC_TCP; c < TC_ENDED; c++) {
		bool sorted = true;

		start[c] = k;
		for (struct flow *f = flow_or_null(ft, ft->lists[c].head); f; f = flow_or_null(ft, f->next)) {
			r[k].id = f->id;
			r[k].f = f;
			if (k > start[c] && r[k - 1].id > f->id)
				sorted = false;
			k++;
		}
		if (!sorted)
			qsort(r + start[c], k - start[c], sizeof *r, id_ref_cmp);
	}
	start[TC_ENDED] = k;
	/* Merge the three sorted runs into v. */
	tmp = r;
	v = xmalloc(count * sizeof *v);
	{
		size_t at[TC_ENDED];

		for (int c = TC_TCP; c < TC_ENDED; c++)
			at[c] = start[c];
		for (size_t i = 0; i < k; i++) {
			int best = -1;

			for (int c = TC_TCP; c < TC_ENDED; c++) {
				if (at[c] < start[c + 1] && (best < 0 || tmp[at[c]].id < tmp[at[best]].id))
					best = c;
			}
			v[i] = tmp[at[best]++].f;
		}
	}
	free(r);
	*n = k;
	return v;
}

void flow_table_get_stats(const struct flow_table *ft, struct flow_table_stats *out)
{
	memset(out, 0, sizeof *out);
	out->active = active_count(ft);
	out->ended_kept = ft->lists[TC_ENDED].count;
	out->created = ft->created;
	out->ended = ft->ended;
	out->evicted = ft->evicted;
	out->bytes_used = ft->carved * sizeof(struct flow) + ft->nslots * sizeof(struct flow_slot) +
			  ft->nidbuckets * sizeof *ft->idbuckets + vpool_bytes() +
			  ext_pool.nchunks * EXT_CHUNK_RECORDS * sizeof(struct flow_ext);
}
