/* SPDX-License-Identifier: BSD-2-Clause */
/* pcapgen.c: deterministic synthetic captures for benchmarks and tests (bench, days, flood, garbage, corrupt, zeek, beacon, merge). */

/*
 * DESIGN
 *
 * Same arguments, same bytes, on any machine. All randomness comes from
 * splitmix64 streams derived from --seed (never rand()), nothing reads the
 * clock or the environment, every multi-byte field is written byte by byte in
 * the order its format wants, and there is no floating point at all: libm's
 * transcendental functions and FMA contraction differ between machines, so
 * distributions are built from integers (decade tables, powers of uniform
 * integers).
 *
 * Plan, then play. A mode first builds a plan: a table of flows (kind, the two
 * ends, the exact packet count, the start time, the mean gap between packets)
 * and of remote hosts. The player then merges three sources in time order:
 * flows about to start (the plan sorted by start), active flows (a min-heap
 * keyed by each flow's next packet time, ties broken by flow number), and for
 * `flood` the spoofed packets. Each active flow is a small state machine that
 * emits exactly its planned number of packets, so `--packets N` writes N
 * packets, timestamps never decrease, and a flow's content does not depend on
 * what else is in the capture (each flow has its own random stream).
 *
 * Truth. The player counts what it writes (packets and IP bytes each way,
 * first and last time) and runs the whitelist rule as an oracle: a flow's
 * verdict for a direction is "normal" when a packet went that way between the
 * remote and the local host within --window before the flow's first packet,
 * "anomalous" otherwise, "local" for a non-public remote. `--truth FILE` writes
 * one JSON line per flow in order of first packet and a final summary line,
 * the same shape as `netglobe --dump`.
 *
 * Speed. Packets are built in place in a 4 MiB output buffer (record header,
 * Ethernet, IP, transport, payload), checksummed there and flushed with
 * fwrite; payload bytes come from one random filler block; no allocation or
 * syscall per packet.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include "addr.h"
#include "decode.h"
#include "local.h"
#include "util.h"

/* Bump when the bytes written for the same arguments change (benchmark caches key on it). */
#define PCAPGEN_VERSION 1

#define OUT_BUF_SIZE (4u << 20)
#define PKT_MAX 2048			/* room for one record: pcap header, frame, slack */
#define FILLER_SIZE 65536
#define FILLER_MASK (FILLER_SIZE - 1)
#define PREFIX_MAX 2048
#define TLS_REC 16406			/* one full TLS record: 5-byte header + 16401 bytes */
#define SNAPLEN_DEFAULT 262144
#define NO_NAME UINT32_MAX
#define SEC NG_USEC
#define MSEC 1000LL
#define HOUR (3600 * SEC)
#define DAY (24 * HOUR)
#define T_INF INT64_MAX
#define EPHEMERAL_LO 32768
#define EPHEMERAL_N 28232		/* Linux's 32768..60999 */
#define DNS_PORTS 64512			/* resolvers' clients randomise over 1024..65535 */

enum mode { M_BENCH, M_DAYS, M_FLOOD, M_GARBAGE, M_CORRUPT };

enum kind {
	K_TLS,		/* TCP to 443: ClientHello with SNI, then TLS records */
	K_HTTP,		/* TCP to 80: HTTP/1.1 requests with Host */
	K_TCP,		/* TCP, opaque payload */
	K_TCPIN,	/* TCP opened by the remote end to a local service */
	K_REFUSED,	/* SYN answered by RST */
	K_SYNONLY,	/* SYN retransmitted, never answered */
	K_DNS,		/* one UDP query and its answer */
	K_NTP,		/* RFC 5905 client/server exchanges */
	K_UDP,		/* RTP-like media both ways */
	K_UDPOUT,	/* UDP sent, never answered */
	K_UDPIN,	/* UDP received, never answered */
	K_ICMP,		/* echo request/reply (ICMP or ICMPv6) */
	K_COUNT
};

static const char *const kind_names[K_COUNT] = {
	"tls", "http", "tcp", "tcp-in", "refused", "syn-only", "dns", "ntp", "udp", "udp-out", "udp-in", "icmp",
};

/* TCP endings: FIN one way then FIN+ACK back, the four-packet close, a reset, none. */
enum teardown { TD_FIN3, TD_FIN4, TD_RST, TD_NONE };
static const uint8_t teardown_len[] = {3, 4, 1, 0};

/* Per-flow flags. */
#define F_TS		0x01	/* TCP timestamps (Linux-like); else Windows-like options */
#define F_KYBER		0x02	/* ClientHello with a hybrid post-quantum key share: two segments */
#define F_SPLIT		0x04	/* ClientHello split over two segments */
#define F_UPLOAD	0x08	/* the client sends the bulk */
#define F_RCLOSE	0x10	/* the remote end closes first */
#define F_EDNS		0x20	/* DNS with an OPT record */
#define F_NOSNI		0x40	/* ClientHello without server_name (address literal) */

enum verdict { V_NONE, V_NORMAL, V_ANOMALOUS, V_LOCAL };
static const char *const verdict_names[] = {"none", "normal", "anomalous", "local"};

/* splitmix64 (Steele, Lea, Flood 2014): every random stream here is one of these. */
struct rng {
	uint64_t s;
};

/* A remote end (or a resolver). */
struct host {
	ng_addr addr;
	uint32_t name;		/* offset of its domain in names, or NO_NAME */
	uint32_t nflows;	/* flows planned so far: picks the next port */
	uint32_t port_off;
	uint8_t ncname;		/* CNAME chain length in its DNS answer */
	uint8_t has_dns;	/* a lookup for it is in the plan */
	uint8_t family_pool;
	ng_time first_start;	/* earliest planned flow to it */
	ng_time answered;	/* when its DNS answer was written */
	ng_time last[2];	/* last packet sent to it / received from it */
};

/* One planned flow and, once played, its truth. */
struct flow {
	ng_time start;
	ng_time first, last;
	ng_time dns_at;		/* when the last DNS answer naming it before it began was written */
	uint64_t seed;
	uint64_t bytes[2];	/* IP bytes: [0] sent by the local host, [1] received */
	uint32_t pkts[2];
	uint32_t npkts;
	uint32_t gap;		/* mean microseconds between packets */
	uint32_t rtt;
	uint32_t host;		/* remote end; for DNS the resolver */
	uint32_t qhost;		/* DNS: the host asked for; else == host */
	uint32_t extra;		/* DNS: first extra answer address in extras */
	uint32_t sched;		/* days: schedule line, 0 if none */
	uint16_t lport, rport;
	uint8_t kind, teardown, flags, nextra;
	uint8_t reqsegs;
	uint8_t dns_seen;
	uint8_t verdict[2];
	uint8_t expect[2];
};

/* The playing state of an active flow. */
struct slot {
	uint32_t flow;
	uint32_t k;		/* packets written */
	ng_time next;
	struct rng rng;
	uint32_t nxt[2];	/* next TCP sequence number of each side */
	uint32_t isn[2];
	uint32_t tsbase[2], tslast[2];
	uint32_t flowlabel[2];
	uint32_t rtpts[2], ssrc[2];
	uint16_t ipid[2];
	uint16_t rtpseq[2];
	uint16_t dnsid;
	uint8_t ttl;
	int8_t msg_from;	/* side sending the current message, -1 between messages */
	int8_t last_from;
	uint8_t unacked;
	uint8_t body;		/* BODY_RAW or BODY_TLS */
	uint16_t nmsg[2];
	uint32_t msg_size, msg_off, first_seg;
	uint32_t prefix_len;
	uint8_t prefix[PREFIX_MAX];
};

enum { BODY_RAW, BODY_TLS };

/* The packet being built in the output buffer. */
struct cur {
	uint8_t *rec, *l4;
	const ng_addr *src, *dst;
	uint8_t proto, ttl;
	uint16_t ipid;
	uint32_t flowlabel;
	bool df;
};

/* Output: one pcap file, or one per day. */
struct out {
	FILE *f;
	char *path;
	char *base;		/* split: name without ".pcap" */
	uint8_t *buf;
	size_t len;
	bool split;
	int day;
	ng_time boundary;
	uint64_t file_bytes;
};

struct gen {
	/* options */
	enum mode mode;
	uint64_t npackets, nflows, nreal, nbytes;
	uint64_t seed;
	uint32_t ipv6_pct, concurrent, snaplen;
	ng_time start, duration, window;
	const char *out_path, *truth_path, *schedule_path, *damage;
	bool split_days, quiet;
	bool set_packets, set_flows, set_duration, set_start;
	char args[1024];

	/* plan */
	struct rng rng;
	ng_addr local[2];	/* [0] IPv4, [1] IPv6 */
	struct host *hosts;
	uint32_t nhosts, hosts_cap;
	struct flow *flows;
	uint32_t nflow, flows_cap;
	ng_addr *extras;
	uint32_t nextras, extras_cap;
	char *names;
	size_t names_len, names_cap;
	uint64_t *aset;		/* hashes of every address in use */
	size_t aset_mask;
	const char *schedule_text;

	/* player */
	struct slot *slots;
	uint32_t nslots, slots_cap;
	uint32_t *free_slots, nfree;
	uint32_t *heap, heap_len;
	uint32_t max_active;
	struct cur cur;
	struct out out;
	ng_time last_t;
	uint64_t packets, ipbytes;
	uint64_t flood_n, flood_k, flood_syn;
	struct rng frng;
	uint8_t filler[FILLER_SIZE + PKT_MAX];
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Print "pcapgen: message" and exit 1. */
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("pcapgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---------------------------------------------------------------- random */

/* The 128-bit product of a and b as two halves (portable: no __int128 on 32-bit targets). */
static void mul128(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
	uint64_t al = a & 0xffffffff, ah = a >> 32, bl = b & 0xffffffff, bh = b >> 32;
	uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	uint64_t mid = (ll >> 32) + (lh & 0xffffffff) + (hl & 0xffffffff);

	*lo = (mid << 32) | (ll & 0xffffffff);
	*hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* floor(a * b / c) for a result that fits in 64 bits (c > 0). */
static uint64_t muldiv(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t hi, lo, q = 0, rem = 0;

	mul128(a, b, &hi, &lo);
	if (hi == 0)
		return lo / c;
	for (int i = 127; i >= 0; i--) {	/* schoolbook long division, one bit at a time */
		uint64_t bit = i >= 64 ? (hi >> (i - 64)) & 1 : (lo >> i) & 1;
		bool carry = rem >> 63;

		rem = (rem << 1) | bit;
		q <<= 1;
		if (carry || rem >= c) {
			rem -= c;
			q |= 1;
		}
	}
	return q;
}

/* Next 64 random bits of stream r. */
static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) by the multiply-high method (n = 0 gives 0). */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
	uint64_t hi, lo;

	mul128(rng_next(r), n, &hi, &lo);
	return hi;
}

/* Uniform in [lo, hi]. */
static uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

/* True with probability permille/1000. */
static bool rng_pm(struct rng *r, unsigned permille)
{
	return rng_below(r, 1000) < permille;
}

/* Fill n bytes from stream r. */
static void rng_bytes(struct rng *r, uint8_t *p, size_t n)
{
	while (n > 0) {
		uint64_t v = rng_next(r);

		for (int i = 0; i < 8 && n > 0; i++, n--) {
			*p++ = (uint8_t)v;
			v >>= 8;
		}
	}
}

/* A size from a decade table: pick a decade by weight, then uniform inside it. */
static uint64_t rng_decade(struct rng *r, const uint32_t *bounds, const uint16_t *permille, size_t n)
{
	uint64_t x = rng_below(r, 1000);

	for (size_t i = 0; i < n; i++) {
		if (x < permille[i])
			return rng_range(r, bounds[i], bounds[i + 1]);
		x -= permille[i];
	}
	return bounds[n];
}

/* True when item i of a sequence belongs to the pct % share (exact over any prefix). */
static bool quota(uint64_t i, uint32_t pct)
{
	return (i + 1) * pct / 100 > i * pct / 100;
}

/* ---------------------------------------------------------------- byte helpers */

/* A bounded append buffer; overflowing it is a bug in this file. */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

/* Append one byte. */
static void put8(struct buf *b, unsigned v)
{
	if (b->len >= b->cap)
		die("internal error: buffer of %zu bytes overflowed", b->cap);
	b->p[b->len++] = (uint8_t)v;
}

/* Append a big-endian 16-bit value. */
static void put16(struct buf *b, unsigned v)
{
	put8(b, v >> 8);
	put8(b, v);
}

/* Append a big-endian 32-bit value. */
static void put32(struct buf *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b, v & 0xffff);
}

/* Append bytes. */
static void putmem(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap)
		die("internal error: buffer of %zu bytes overflowed", b->cap);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* Store a big-endian 16-bit value. */
static void set16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Store a big-endian 24-bit value. */
static void set24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

/* Store a big-endian 32-bit value. */
static void set32(uint8_t *p, uint32_t v)
{
	set16(p, v >> 16);
	set16(p + 2, v & 0xffff);
}

/* Store a little-endian 32-bit value (pcap record fields, as written by a little-endian tcpdump). */
static void setle32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/*
 * Add bytes to a ones' complement sum (RFC 1071). Words are summed in host
 * order, which RFC 1071 shows gives the right bytes when stored back in host
 * order; every call but the last must cover an even number of bytes.
 */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint32_t a, b;

		memcpy(&a, p, 4);
		memcpy(&b, p + 4, 4);
		sum += (uint64_t)a + b;
		p += 8;
		n -= 8;
	}
	while (n >= 2) {
		uint16_t a;

		memcpy(&a, p, 2);
		sum += a;
		p += 2;
		n -= 2;
	}
	if (n) {
		uint8_t last[2] = {p[0], 0};
		uint16_t a;

		memcpy(&a, last, 2);
		sum += a;
	}
	return sum;
}

/* Fold a sum and store its complement at p (host order, see csum_add). */
static void csum_store(uint8_t *p, uint64_t sum, bool udp)
{
	uint16_t v;

	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	v = (uint16_t)~sum;
	if (udp && v == 0)
		v = 0xffff;	/* RFC 768: a computed zero is sent as all ones */
	memcpy(p, &v, 2);
}

/* ---------------------------------------------------------------- addresses and names */

/* A hash of an address's bytes in order (addr_hash may differ between byte orders; output must not). */
static uint64_t addr_mix(const ng_addr *a)
{
	struct rng r = {a->v};

	for (int i = 0; i < 16; i++)
		r.s = (r.s << 8 | r.s >> 56) ^ a->a[i];
	return rng_next(&r);
}

/* Remember an address; false when it (or a hash twin) is already in use. */
static bool aset_add(struct gen *g, const ng_addr *a)
{
	uint64_t h = addr_mix(a) | 1;
	size_t i = h & g->aset_mask;

	while (g->aset[i]) {
		if (g->aset[i] == h)
			return false;
		i = (i + 1) & g->aset_mask;
	}
	g->aset[i] = h;
	return true;
}

/* Size the address set for n addresses. */
static void aset_init(struct gen *g, size_t n)
{
	size_t cap = 1024;

	while (cap < 2 * n)
		cap <<= 1;
	g->aset = xcalloc(cap, sizeof *g->aset);
	g->aset_mask = cap - 1;
}

/* A random public address: IPv4 anywhere public, IPv6 in 2000::/3 (global unicast). */
static ng_addr random_public(struct rng *r, bool v6)
{
	for (;;) {
		ng_addr a;

		if (!v6) {
			uint8_t b[4];
			uint64_t x = rng_next(r);

			for (int i = 0; i < 4; i++)
				b[i] = (uint8_t)(x >> (8 * i));
			a = addr_from_v4(b);
		} else {
			uint8_t b[16];

			rng_bytes(r, b, sizeof b);
			b[0] = (uint8_t)(0x20 | (b[0] & 0x1f));
			if (b[15] & 1) {	/* half the servers have a short interface id (::1, ::200e) */
				memset(b + 8, 0, 6);
			}
			a = addr_from_v6(b);
		}
		if (addr_scope(&a) == NG_SCOPE_PUBLIC)
			return a;
	}
}

/* A new public address, unused so far (same /24 or /64 as near, when given). */
static ng_addr fresh_public(struct gen *g, struct rng *r, bool v6, const ng_addr *near)
{
	for (int tries = 0;; tries++) {
		ng_addr a;

		if (near && tries < 100) {
			a = *near;
			if (a.v == 4)
				a.a[3] = (uint8_t)rng_range(r, 1, 254);
			else {
				a.a[14] = (uint8_t)rng_below(r, 256);
				a.a[15] = (uint8_t)rng_below(r, 256);
			}
			if (addr_scope(&a) != NG_SCOPE_PUBLIC)
				continue;
		} else
			a = random_public(r, v6);
		if (aset_add(g, &a))
			return a;
	}
}

/* Parse a fixed address literal of this file; dies on a typo. */
static ng_addr must_addr(const char *s)
{
	ng_addr a;

	if (addr_parse(s, &a) < 0)
		die("bad address %s", s);
	return a;
}

/* Add a host; returns its index. */
static uint32_t host_add(struct gen *g, const ng_addr *a)
{
	struct host *h;

	if (g->nhosts == g->hosts_cap) {
		g->hosts_cap = g->hosts_cap ? 2 * g->hosts_cap : 1024;
		g->hosts = xrealloc(g->hosts, g->hosts_cap * sizeof *g->hosts);
	}
	h = &g->hosts[g->nhosts];
	memset(h, 0, sizeof *h);
	h->addr = *a;
	h->name = NO_NAME;
	h->first_start = T_INF;
	h->answered = NG_TIME_NONE;
	h->last[0] = h->last[1] = NG_TIME_NONE;
	h->port_off = (uint32_t)(addr_mix(a) % EPHEMERAL_N);
	return g->nhosts++;
}

/* Copy a name into the arena; returns its offset. */
static uint32_t name_add(struct gen *g, const char *s)
{
	size_t n = strlen(s) + 1;
	uint32_t off;

	if (g->names_len + n > g->names_cap) {
		g->names_cap = g->names_cap ? 2 * g->names_cap : 65536;
		while (g->names_len + n > g->names_cap)
			g->names_cap *= 2;
		g->names = xrealloc(g->names, g->names_cap);
	}
	off = (uint32_t)g->names_len;
	memcpy(g->names + off, s, n);
	g->names_len += n;
	return off;
}

static const char *const name_prefixes[] = {
	"www", "api", "cdn", "static", "img", "m", "app", "edge", "login", "update", "assets", "media",
	"video", "play", "mail", "news", "shop", "auth", "data", "sync", "push", "ws", "telemetry", "ads",
};
static const char syllables[32][3] = {
	"ka", "lo", "mi", "ne", "ru", "ta", "vi", "zo", "ba", "de", "fi", "go", "hu", "ja", "ke", "li",
	"mo", "na", "pe", "qu", "ra", "si", "to", "va", "we", "xa", "yo", "zu", "be", "co", "du", "fa",
};
static const char *const tlds[] = {
	"com", "net", "org", "io", "de", "fr", "co.uk", "jp", "nl", "it", "es", "ru", "cn", "com.br",
	"in", "com.au", "ca", "se", "ch", "pl", "info", "tv", "app", "dev", "cloud", "com", "com", "net",
};
static const char *const cdn_names[] = {
	"edgesuite-cdn.net", "globalcdn.net", "fastedge-cdn.com", "cloudfront-cdn.net", "azure-edge.net",
	"akam-cdn.net",
};

/*
 * A unique, pronounceable domain for host number idx: the label spells a
 * bijective scramble of idx in base 32 with two-letter syllables (so two hosts
 * never share a label), with a random service prefix and top-level domain.
 */
static void make_name(struct rng *r, uint32_t idx, char *out, size_t outlen)
{
	uint32_t x = (idx * 0x9E3779B1u) & 0x3fffff;	/* odd multiplier: a bijection mod 2^22 */
	char label[32];
	size_t n = 0;
	int digits = 0;

	do {
		memcpy(label + n, syllables[x & 31], 2);
		n += 2;
		x >>= 5;
		digits++;
	} while (x || digits < 3);
	label[n] = '\0';
	/* One draw per statement: the order of evaluation of arguments is unspecified in C. */
	if (rng_pm(r, 800)) {
		const char *prefix = name_prefixes[rng_below(r, NG_ARRAY_LEN(name_prefixes))];
		const char *tld = tlds[rng_below(r, NG_ARRAY_LEN(tlds))];

		snprintf(out, outlen, "%s.%s.%s", prefix, label, tld);
	} else
		snprintf(out, outlen, "%s.%s", label, tlds[rng_below(r, NG_ARRAY_LEN(tlds))]);
}

/* The i-th CNAME target of host h (0 <= i < ncname), into out. */
static void cname_of(const struct gen *g, const struct host *h, int i, char *out, size_t outlen)
{
	uint32_t id = (uint32_t)(h - g->hosts);

	if (i == 0)
		snprintf(out, outlen, "%s.%s", g->names + h->name, cdn_names[id % NG_ARRAY_LEN(cdn_names)]);
	else
		snprintf(out, outlen, "e%u.%c.%s", (unsigned)(id * 2654435761u % 9000 + 1000),
			 'a' + (int)(id % 7), cdn_names[(id / 7) % NG_ARRAY_LEN(cdn_names)]);
}

/* ---------------------------------------------------------------- plan helpers */

/* Append a zeroed flow to the plan; returns it. */
static struct flow *flow_add(struct gen *g, enum kind kind, uint32_t host)
{
	struct flow *f;

	if (g->nflow == g->flows_cap) {
		g->flows_cap = g->flows_cap ? 2 * g->flows_cap : 1024;
		g->flows = xrealloc(g->flows, g->flows_cap * sizeof *g->flows);
	}
	f = &g->flows[g->nflow++];
	memset(f, 0, sizeof *f);
	f->kind = (uint8_t)kind;
	f->host = f->qhost = host;
	f->first = f->last = NG_TIME_NONE;
	f->seed = rng_next(&g->rng);
	return f;
}

/* Give flow f to host h on its next unused local (or, for inbound flows, remote) port. */
static void flow_ports(struct gen *g, struct flow *f, uint16_t fixed_port)
{
	struct host *h = &g->hosts[f->host];
	uint32_t n = h->nflows++;
	uint16_t eph;

	if (n >= EPHEMERAL_N)
		die("internal error: host has more than %d flows", EPHEMERAL_N);
	eph = (uint16_t)(EPHEMERAL_LO + (h->port_off + (uint64_t)n * 7919) % EPHEMERAL_N);
	if (f->kind == K_TCPIN) {
		f->lport = fixed_port;
		f->rport = eph;
	} else {
		f->lport = eph;
		f->rport = fixed_port;
	}
}

/* Packets a TCP flow needs at least: handshake, request, one answer, ending. */
static uint32_t tcp_min_packets(const struct flow *f)
{
	return 3u + f->reqsegs + 1u + teardown_len[f->teardown];
}

/* Round-trip time in microseconds, from a decade table. */
static uint32_t pick_rtt(struct rng *r)
{
	static const uint32_t b[] = {5000, 40000, 120000, 300000};
	static const uint16_t pm[] = {600, 300, 100};

	return (uint32_t)rng_decade(r, b, pm, 3);
}

/* TCP options and teardown for a new TCP flow of kind k. */
static void tcp_plan(struct rng *r, struct flow *f)
{
	unsigned x = (unsigned)rng_below(r, 1000);

	f->teardown = x < 400 ? TD_FIN3 : x < 750 ? TD_FIN4 : x < 920 ? TD_RST : TD_NONE;
	if (rng_pm(r, 700))
		f->flags |= F_TS;
	if (rng_pm(r, 500))
		f->flags |= F_RCLOSE;
	if (f->kind != K_TCPIN && rng_pm(r, 80))
		f->flags |= F_UPLOAD;
	f->reqsegs = 1;
	if (f->kind == K_TLS) {
		if (rng_pm(r, 120))
			f->flags |= F_KYBER;
		else if (rng_pm(r, 70))
			f->flags |= F_SPLIT;
		else if (rng_pm(r, 30))
			f->flags |= F_NOSNI;
		if (f->flags & (F_KYBER | F_SPLIT))
			f->reqsegs = 2;
	}
}

/* ---------------------------------------------------------------- bench plan */

static const char *const resolvers4[] = {
	"192.168.1.1", "9.9.9.9", "1.1.1.1", "8.8.8.8", "149.112.112.112", "8.8.4.4", "1.0.0.1", "208.67.222.222",
};
static const char *const resolvers6[] = {
	"fd00::1", "2620:fe::fe", "2606:4700:4700::1111", "2001:4860:4860::8888", "2620:fe::9",
	"2606:4700:4700::1001", "2001:4860:4860::8844", "2620:119:35::35",
};

/* Pick a host of one family pool: first every host once, then a skewed (u^2) popularity. */
static uint32_t pick_host(struct rng *r, uint32_t base, uint32_t n, uint32_t *assigned, const struct host *hosts)
{
	for (;;) {
		uint32_t i;

		if (*assigned < n)
			return base + (*assigned)++;
		{
			uint64_t u = rng_next(r) >> 32;

			i = (uint32_t)((((u * u) >> 32) * n) >> 32);
		}
		if (hosts[base + i].nflows < EPHEMERAL_N - 1)
			return base + i;
	}
}

/*
 * The benchmark plan: nflows flows and exactly npackets packets. Flows are
 * DNS lookups (one per named host, before its first flow), ICMP pings (one per
 * chosen host), and connections (TLS, HTTP, other TCP, inbound, refused,
 * unanswered, NTP, media) over a skewed choice of hosts; ipv6_pct % of each
 * group is IPv6. Short kinds have fixed sizes; the rest of the packet budget
 * goes to the data-carrying flows with a heavy-tailed weight.
 */
static void plan_bench(struct gen *g)
{
	struct rng *r = &g->rng;
	uint64_t F = g->nflows, N = g->npackets;
	uint64_t ficmp, rest, fconn, fdns, f6conn, f4conn, h4, h6, nh;
	uint32_t base4, base6, assigned4 = 0, assigned6 = 0;
	uint32_t nres4 = 0, nres6 = 0, first_conn;
	uint64_t fixed = 0, minsum = 0, wsum = 0, extra;
	uint64_t *weights;
	uint32_t *named;
	uint64_t dur_sum = 0, fixed_dur = 0, target;
	uint64_t dns4 = 0, dns6 = 0;
	char name[300];

	if (F < 1 || F > 2000000)
		die("--flows %llu is out of range (1..2000000)", (unsigned long long)F);
	ficmp = F >= 50 ? NG_MAX(F / 500, 1) : 0;
	rest = F - ficmp;
	fconn = NG_MAX(rest * 10000 / 12125, 1);
	fdns = rest - fconn;
	f6conn = 0;
	for (uint64_t i = 0; i < fconn; i++)
		f6conn += quota(i, g->ipv6_pct);
	f4conn = fconn - f6conn;
	nh = NG_MAX(fconn / 4, 1);
	h6 = nh * g->ipv6_pct / 100;
	if (f6conn && !h6)
		h6 = 1;
	h6 = NG_MIN(h6, f6conn);
	h4 = NG_MIN(nh - NG_MIN(h6, nh), f4conn);
	if (f4conn && !h4)
		h4 = 1;
	nh = h4 + h6;
	if (fdns > nh) {
		fdns = nh;
		fconn = rest - fdns;
		f6conn = 0;
		for (uint64_t i = 0; i < fconn; i++)
			f6conn += quota(i, g->ipv6_pct);
		f4conn = fconn - f6conn;
	}
	if (ficmp > nh) {
		fconn += ficmp - nh;
		ficmp = nh;
	}
	for (uint64_t i = 0; i < fdns; i++) {
		if (quota(i, g->ipv6_pct))
			dns6++;
		else
			dns4++;
	}
	nres4 = (uint32_t)((dns4 + DNS_PORTS - 1) / DNS_PORTS);
	nres6 = (uint32_t)((dns6 + DNS_PORTS - 1) / DNS_PORTS);
	if (nres4 > NG_ARRAY_LEN(resolvers4) || nres6 > NG_ARRAY_LEN(resolvers6))
		die("too many DNS lookups for the resolvers this generator knows (lower --flows)");

	aset_init(g, nh + 3 * fdns + 64);
	for (size_t i = 0; i < NG_ARRAY_LEN(resolvers4); i++) {
		ng_addr a = must_addr(resolvers4[i]);

		aset_add(g, &a);
		if (i < nres4)
			host_add(g, &a);
	}
	for (size_t i = 0; i < NG_ARRAY_LEN(resolvers6); i++) {
		ng_addr a = must_addr(resolvers6[i]);

		aset_add(g, &a);
		if (i < nres6)
			host_add(g, &a);
	}
	base4 = g->nhosts;
	for (uint64_t i = 0; i < h4; i++) {
		ng_addr a = fresh_public(g, r, false, NULL);

		host_add(g, &a);
	}
	base6 = g->nhosts;
	for (uint64_t i = 0; i < h6; i++) {
		ng_addr a = fresh_public(g, r, true, NULL);

		host_add(g, &a);
	}
	/* Every remote host has a name (SNI, Host); fdns of them are looked up in the capture. */
	named = xmalloc(nh * sizeof *named);
	for (uint32_t i = 0; i < nh; i++) {
		struct host *h = &g->hosts[base4 + i];
		uint64_t x = rng_below(r, 1000);

		make_name(r, i, name, sizeof name);
		h->name = name_add(g, name);
		h->ncname = x < 750 ? 0 : x < 900 ? 1 : 2;
		named[i] = base4 + i;
	}
	for (uint32_t i = nh; i > 1; i--) {	/* Fisher-Yates: which hosts get a lookup */
		uint32_t j = (uint32_t)rng_below(r, i), t = named[i - 1];

		named[i - 1] = named[j];
		named[j] = t;
	}
	for (uint64_t i = 0; i < fdns; i++)
		g->hosts[named[i]].has_dns = 1;

	/* Connections. */
	first_conn = g->nflow;
	for (uint64_t i = 0; i < fconn; i++) {
		bool v6 = quota(i, g->ipv6_pct) && h6 > 0;
		uint32_t hi = v6 ? pick_host(r, base6, (uint32_t)h6, &assigned6, g->hosts) :
				   pick_host(r, base4, (uint32_t)h4, &assigned4, g->hosts);
		unsigned x = (unsigned)rng_below(r, 1000);
		enum kind k = x < 650 ? K_TLS : x < 730 ? K_HTTP : x < 770 ? K_TCP : x < 780 ? K_TCPIN :
			      x < 795 ? K_REFUSED : x < 800 ? K_SYNONLY : x < 830 ? K_NTP : K_UDP;
		struct flow *f = flow_add(g, k, hi);
		static const uint16_t udp_ports[] = {3480, 19305, 50000, 16393, 27016};

		f->rtt = pick_rtt(r);
		switch (k) {
		case K_TLS:
			flow_ports(g, f, 443);
			break;
		case K_HTTP:
			flow_ports(g, f, 80);
			break;
		case K_TCP:
			flow_ports(g, f, 5228);
			break;
		case K_TCPIN:
			flow_ports(g, f, 51413);
			break;
		case K_REFUSED:
			flow_ports(g, f, rng_pm(r, 500) ? 443 : 8443);
			break;
		case K_SYNONLY:
			flow_ports(g, f, 443);
			break;
		case K_NTP:
			flow_ports(g, f, 123);
			break;
		default:
			flow_ports(g, f, udp_ports[rng_below(r, NG_ARRAY_LEN(udp_ports))]);
			break;
		}
		if (k <= K_TCPIN)
			tcp_plan(r, f);
	}
	/* Pings, to distinct hosts of the right family. */
	{
		uint64_t i4 = 0, i6 = 0, n6 = 0;

		for (uint64_t i = 0; i < ficmp; i++)
			n6 += quota(i, g->ipv6_pct) && h6 > 0;
		for (uint64_t i = 0; i < ficmp; i++) {
			bool v6 = quota(i, g->ipv6_pct) && h6 > 0;
			uint32_t hi = v6 ? base6 + (uint32_t)(i6++ * h6 / n6) :
					   base4 + (uint32_t)(i4++ * h4 / (ficmp - n6));
			struct flow *f = flow_add(g, K_ICMP, hi);

			f->rtt = pick_rtt(r);
		}
	}

	/* Packet counts: fixed for the short kinds, min + a share of the rest for the others. */
	weights = xcalloc(g->nflow, sizeof *weights);
	for (uint32_t i = first_conn; i < g->nflow; i++) {
		struct flow *f = &g->flows[i];
		static const uint32_t wb[] = {0, 20, 200, 2000, 20000};
		static const uint16_t wp[] = {600, 300, 90, 10};

		switch (f->kind) {
		case K_REFUSED:
			f->npkts = 2;
			break;
		case K_SYNONLY:
			f->npkts = (uint32_t)rng_range(r, 1, 3);
			break;
		case K_NTP:
			f->npkts = (uint32_t)rng_range(r, 1, 4) * 2;
			break;
		case K_ICMP:
			f->npkts = (uint32_t)rng_range(r, 1, 8) * 2;
			break;
		default:
			f->npkts = f->kind == K_UDP ? 2 : tcp_min_packets(f);
			minsum += f->npkts;
			weights[i] = rng_decade(r, wb, wp, 4) + 1;
			wsum += weights[i];
			continue;
		}
		fixed += f->npkts;
	}
	fixed += 2 * fdns;
	if (N < fixed + minsum)
		die("--packets %llu is too few for %llu flows (need at least %llu)", (unsigned long long)N,
		    (unsigned long long)F, (unsigned long long)(fixed + minsum));
	extra = N - fixed - minsum;
	{
		uint64_t given = 0;

		for (uint32_t i = first_conn; i < g->nflow; i++) {
			uint64_t e;

			if (!weights[i])
				continue;
			e = muldiv(extra, weights[i], wsum);
			if (e > UINT32_MAX - 64)
				die("--packets is too many for --flows %llu", (unsigned long long)F);
			g->flows[i].npkts += (uint32_t)e;
			given += e;
		}
		for (uint32_t i = first_conn; given < extra && i < g->nflow; i++) {
			if (weights[i]) {
				g->flows[i].npkts++;
				given++;
			}
		}
		if (given != extra)
			die("internal error: packet budget left %llu over", (unsigned long long)(extra - given));
	}

	/*
	 * Gaps: a raw mean gap per flow from a decade table, then one scale so the
	 * flows add up to --concurrent flows open on average over --duration.
	 */
	for (uint32_t i = first_conn; i < g->nflow; i++) {
		struct flow *f = &g->flows[i];
		static const uint32_t gb[] = {200, 2000, 20000, 200000};
		static const uint16_t gp[] = {500, 350, 150};

		switch (f->kind) {
		case K_REFUSED:
			f->gap = f->rtt;
			break;
		case K_SYNONLY:
			f->gap = 1000000;
			break;
		case K_NTP:
			f->gap = (uint32_t)rng_range(r, 2, 10) * 1000000;
			break;
		case K_ICMP:
			f->gap = 500000;
			break;
		default:
			f->gap = (uint32_t)rng_decade(r, gb, gp, 3);
			dur_sum += (uint64_t)f->gap * f->npkts;
			continue;
		}
		fixed_dur += (uint64_t)f->gap * f->npkts;
	}
	target = (uint64_t)g->concurrent * (uint64_t)g->duration;
	target = target > fixed_dur ? target - fixed_dur : dur_sum;
	{
		uint64_t span = (uint64_t)g->duration * 95 / 100;

		for (uint32_t i = first_conn; i < g->nflow; i++) {
			struct flow *f = &g->flows[i];
			uint64_t gap = f->gap, dur;

			if (weights[i] && dur_sum)
				gap = muldiv(gap, target, dur_sum);
			gap = NG_MAX(gap, 20);
			gap = NG_MIN(gap, 20 * SEC);
			if (gap * f->npkts + 4 * f->rtt > span - 200 * MSEC)
				gap = (span - 200 * MSEC - 4 * f->rtt) / f->npkts;
			f->gap = (uint32_t)NG_MAX(gap, 1);
			dur = (uint64_t)f->gap * f->npkts + 4 * f->rtt;
			f->start = g->start + 100 * MSEC + (ng_time)rng_below(r, span > dur + 100 * MSEC ? span - dur - 100 * MSEC : 1);
			if (f->start < g->hosts[f->host].first_start)
				g->hosts[f->host].first_start = f->start;
		}
	}
	free(weights);

	/* Lookups: each named host's answer arrives a little before its first flow. */
	{
		uint64_t c4 = 0, c6 = 0;

		for (uint64_t i = 0; i < fdns; i++) {
			struct host *h = &g->hosts[named[i]];
			bool v6 = quota(i, g->ipv6_pct);
			uint64_t c = v6 ? c6++ : c4++;
			uint32_t res = v6 ? nres4 + (uint32_t)(c / DNS_PORTS) : (uint32_t)(c / DNS_PORTS);
			struct flow *f = flow_add(g, K_DNS, res);
			uint64_t x = rng_below(r, 1000);

			f->qhost = named[i];
			f->lport = (uint16_t)(1024 + (c % DNS_PORTS * 10007 + g->hosts[res].port_off) % DNS_PORTS);
			f->rport = 53;
			f->rtt = (uint32_t)(addr_scope(&g->hosts[res].addr) == NG_SCOPE_PUBLIC ?
					    rng_range(r, 8000, 40000) : rng_range(r, 1000, 20000));
			f->gap = 0;	/* the answer comes exactly one round trip after the query */
			f->npkts = 2;
			if (rng_pm(r, 600))
				f->flags |= F_EDNS;
			f->nextra = x < 700 ? 0 : x < 900 ? 1 : (uint8_t)rng_range(r, 2, 3);
			f->extra = g->nextras;
			for (int j = 0; j < f->nextra; j++) {
				if (g->nextras == g->extras_cap) {
					g->extras_cap = g->extras_cap ? 2 * g->extras_cap : 4096;
					g->extras = xrealloc(g->extras, g->extras_cap * sizeof *g->extras);
				}
				g->extras[g->nextras++] = fresh_public(g, r, h->addr.v == 6, &h->addr);
			}
			f->start = h->first_start - f->rtt - (ng_time)rng_range(r, 1000, 20000);
			if (f->start < g->start)
				f->start = g->start;
		}
	}
	free(named);
}

/* ---------------------------------------------------------------- days plan */

static const char default_schedule[] =
	"# pcapgen days: the default three-day schedule for the whitelist test (issue 4).\n"
	"# Times are HOURS:MINUTES after --start (UTC); day 1 is 00:00-23:59, day 2 24:00-47:59,\n"
	"# day 3 48:00-71:59. The rule: a direction is normal when a packet went that way between\n"
	"# the remote and this host within 48 h before the flow began, anomalous otherwise; local\n"
	"# for a LAN peer. pcapgen computes the verdicts from the packets it writes and checks them\n"
	"# against every expect= below (it fails if they disagree).\n"
	"#\n"
	"# host NAME ADDRESS [DOMAIN]   (a domain adds a DNS lookup via 192.168.1.1 2 s before each flow)\n"
	"host A 93.184.215.14 www.example-a.com\n"
	"host B 151.101.65.140 static.example-b.net\n"
	"host C 140.82.112.3 api.example-c.org\n"
	"host D 104.16.132.229\n"
	"host E 2a00:1450:4001:80b::200e v6.example-e.com\n"
	"host F 31.13.92.36\n"
	"host G 185.199.108.153\n"
	"host H 2606:4700::6810:84e5\n"
	"host X 17.253.144.10 edge-inside.example-x.net\n"
	"host Y 23.45.67.89 edge-outside.example-y.net\n"
	"host Z 2a03:2880:f10c:83:face:b00c:0:25de\n"
	"host L 192.168.1.20\n"
	"#\n"
	"# at TIME HOST KIND [packets=N] expect=SENT/RECEIVED\n"
	"# KIND: tcp (we connect, data both ways), tcp-in (it connects to us), udp (both ways),\n"
	"#       udp-out (we send, no answer), udp-in (it sends, we never answer), icmp (ping)\n"
	"# day 1: first contacts\n"
	"at 01:00 A tcp expect=anomalous/anomalous\n"
	"at 02:00 B tcp expect=anomalous/anomalous\n"
	"at 03:00 C tcp expect=anomalous/anomalous\n"
	"at 04:00 A tcp expect=normal/normal\n"
	"at 05:00 E tcp expect=anomalous/anomalous\n"
	"at 06:00 F udp-in expect=anomalous/anomalous\n"
	"at 07:00 G udp-out expect=anomalous/anomalous\n"
	"at 08:00 L tcp expect=local/local\n"
	"at 10:00 X tcp expect=anomalous/anomalous\n"
	"at 11:00 Y tcp expect=anomalous/anomalous\n"
	"at 12:00 Z udp-in expect=anomalous/anomalous\n"
	"# day 2\n"
	"at 25:00 A tcp expect=normal/normal\n"
	"at 26:00 D tcp expect=anomalous/anomalous\n"
	"at 27:00 F tcp expect=anomalous/normal\n"
	"at 28:00 G udp-out expect=normal/anomalous\n"
	"at 30:00 B udp-in expect=normal/normal\n"
	"at 40:00 D tcp-in expect=normal/normal\n"
	"at 47:00 H tcp expect=anomalous/anomalous\n"
	"# day 3\n"
	"at 51:45 A tcp expect=normal/normal\n"
	"at 53:00 C tcp expect=anomalous/anomalous\n"
	"at 55:00 E icmp expect=anomalous/anomalous\n"
	"at 57:50 X tcp expect=normal/normal\n"
	"at 59:10 Y tcp expect=anomalous/anomalous\n"
	"at 59:50 Z tcp expect=anomalous/normal\n"
	"at 60:00 D tcp expect=normal/normal\n"
	"at 70:00 L tcp expect=local/local\n";

/* Parse "normal", "anomalous" or "local". */
static int parse_verdict(const char *s, size_t n)
{
	for (int v = V_NORMAL; v <= V_LOCAL; v++)
		if (strlen(verdict_names[v]) == n && strncmp(s, verdict_names[v], n) == 0)
			return v;
	return -1;
}

/*
 * The days plan: hosts and flows from a schedule (the built-in one or
 * --schedule FILE), each named host looked up 2 s before each flow to it.
 */
static void plan_days(struct gen *g)
{
	struct rng *r = &g->rng;
	char *text, *save = NULL;
	struct {
		char label[16];
		uint32_t host;
	} labels[256];
	size_t nlabels = 0;
	uint32_t resolver, lineno = 0;

	if (g->schedule_path) {
		text = file_read_all(g->schedule_path, 1 << 20, NULL);
		if (!text)
			die("cannot read schedule %s: %s", g->schedule_path, strerror(errno));
	} else
		text = xstrdup(default_schedule);
	aset_init(g, 1024);
	{
		ng_addr a = must_addr("192.168.1.1");

		aset_add(g, &a);
		resolver = host_add(g, &a);
	}
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tok[8], *sp = NULL;
		int nt = 0;

		lineno++;
		if (strchr(line, '#'))
			*strchr(line, '#') = '\0';
		for (char *t = strtok_r(line, " \t\r", &sp); t && nt < 8; t = strtok_r(NULL, " \t\r", &sp))
			tok[nt++] = t;
		if (nt == 0)
			continue;
		if (strcmp(tok[0], "host") == 0) {
			ng_addr a;

			if (nt < 3 || nt > 4 || strlen(tok[1]) >= sizeof labels[0].label)
				die("schedule line %u: want \"host NAME ADDRESS [DOMAIN]\"", lineno);
			if (addr_parse(tok[2], &a) < 0)
				die("schedule line %u: bad address %s", lineno, tok[2]);
			if (nlabels == NG_ARRAY_LEN(labels))
				die("schedule line %u: more than %zu hosts", lineno, NG_ARRAY_LEN(labels));
			if (!aset_add(g, &a))
				die("schedule line %u: address %s used twice", lineno, tok[2]);
			snprintf(labels[nlabels].label, sizeof labels[0].label, "%s", tok[1]);
			labels[nlabels].host = host_add(g, &a);
			if (nt == 4)
				g->hosts[labels[nlabels].host].name = name_add(g, tok[3]);
			nlabels++;
		} else if (strcmp(tok[0], "at") == 0) {
			unsigned hh, mm;
			char c;
			size_t li;
			enum kind k;
			struct flow *f;
			uint32_t hi, npk = 0;
			int ex[2] = {-1, -1};
			ng_time t;

			if (nt < 4 || sscanf(tok[1], "%u:%u%c", &hh, &mm, &c) != 2 || mm > 59 || hh > 9999)
				die("schedule line %u: want \"at HOURS:MINUTES HOST KIND [packets=N] [expect=S/R]\"", lineno);
			for (li = 0; li < nlabels && strcmp(labels[li].label, tok[2]) != 0; li++)
				;
			if (li == nlabels)
				die("schedule line %u: unknown host %s (declare it with a host line first)", lineno, tok[2]);
			hi = labels[li].host;
			if (strcmp(tok[3], "tcp") == 0)
				k = g->hosts[hi].name != NO_NAME ? K_TLS : K_TCP;
			else if (strcmp(tok[3], "tcp-in") == 0)
				k = K_TCPIN;
			else if (strcmp(tok[3], "udp") == 0)
				k = K_UDP;
			else if (strcmp(tok[3], "udp-out") == 0)
				k = K_UDPOUT;
			else if (strcmp(tok[3], "udp-in") == 0)
				k = K_UDPIN;
			else if (strcmp(tok[3], "icmp") == 0)
				k = K_ICMP;
			else
				die("schedule line %u: unknown kind %s (tcp, tcp-in, udp, udp-out, udp-in, icmp)", lineno, tok[3]);
			for (int i = 4; i < nt; i++) {
				uint64_t v;
				char *slash;

				if (strncmp(tok[i], "packets=", 8) == 0) {
					if (parse_uint(tok[i] + 8, 1, 100000, &v) < 0)
						die("schedule line %u: bad %s (1..100000)", lineno, tok[i]);
					npk = (uint32_t)v;
				} else if (strncmp(tok[i], "expect=", 7) == 0 && (slash = strchr(tok[i] + 7, '/'))) {
					ex[0] = parse_verdict(tok[i] + 7, (size_t)(slash - tok[i] - 7));
					ex[1] = parse_verdict(slash + 1, strlen(slash + 1));
					if (ex[0] < 0 || ex[1] < 0)
						die("schedule line %u: bad %s (normal, anomalous or local)", lineno, tok[i]);
				} else
					die("schedule line %u: unknown option %s", lineno, tok[i]);
			}
			t = g->start + ((ng_time)hh * 60 + mm) * 60 * SEC;
			if (g->hosts[hi].name != NO_NAME) {
				struct flow *d = flow_add(g, K_DNS, resolver);
				uint32_t n = g->hosts[resolver].nflows++;

				d->qhost = hi;
				d->lport = (uint16_t)(1024 + (n * 10007 + 77) % DNS_PORTS);
				d->rport = 53;
				d->rtt = 3000;
				d->gap = 0;
				d->npkts = 2;
				d->flags = F_EDNS;
				d->start = t - 2 * SEC;
			}
			f = flow_add(g, k, hi);
			f->sched = lineno;
			f->expect[0] = (uint8_t)(ex[0] < 0 ? 0 : ex[0]);
			f->expect[1] = (uint8_t)(ex[1] < 0 ? 0 : ex[1]);
			f->start = t;
			f->rtt = 30000;
			f->gap = 200000;
			switch (k) {
			case K_TLS:
				flow_ports(g, f, 443);
				break;
			case K_TCP:
				flow_ports(g, f, 5228);
				break;
			case K_TCPIN:
				flow_ports(g, f, 51413);
				break;
			case K_ICMP:
				f->gap = 1000000;
				break;
			default:
				flow_ports(g, f, 3480);
				break;
			}
			if (k <= K_TCPIN) {
				tcp_plan(r, f);
				f->teardown = TD_FIN3;
				f->flags &= (uint8_t)~(F_KYBER | F_SPLIT | F_NOSNI | F_UPLOAD);
				f->reqsegs = 1;
			}
			f->npkts = npk ? npk : k <= K_TCPIN ? 16 : k == K_UDP ? 6 : 4;
			if (k <= K_TCPIN && f->npkts < tcp_min_packets(f))
				die("schedule line %u: a tcp flow needs packets=%u at least", lineno, tcp_min_packets(f));
			if (k == K_UDP && f->npkts < 2)
				die("schedule line %u: a udp flow needs packets=2 at least", lineno);
		} else
			die("schedule line %u: unknown directive %s (host or at)", lineno, tok[0]);
	}
	free(text);
	if (g->nflow == 0)
		die("the schedule has no \"at\" lines");
}

/* ---------------------------------------------------------------- flood plan */

/* The flood plan: nreal real TLS connections to fixed public hosts; the spoofed packets are made while playing. */
static void plan_flood(struct gen *g)
{
	struct rng *r = &g->rng;
	char name[300];

	aset_init(g, g->nreal + 64);
	for (uint64_t i = 0; i < g->nreal; i++) {
		bool v6 = quota(i, g->ipv6_pct);
		ng_addr a = fresh_public(g, r, v6, NULL);
		uint32_t hi = host_add(g, &a);
		struct flow *f = flow_add(g, K_TLS, hi);
		uint64_t span = (uint64_t)g->duration * 3 / 4;

		make_name(r, (uint32_t)i, name, sizeof name);
		g->hosts[hi].name = name_add(g, name);
		flow_ports(g, f, 443);
		tcp_plan(r, f);
		f->teardown = TD_FIN3;
		f->flags &= (uint8_t)~(F_NOSNI | F_UPLOAD);
		f->rtt = pick_rtt(r);
		f->npkts = (uint32_t)rng_range(r, 20, 200);
		f->gap = (uint32_t)rng_range(r, 5000, 50000);
		f->start = g->start + (ng_time)(g->duration / 20) + (ng_time)rng_below(r, span - (uint64_t)g->duration / 20);
	}
	g->flood_n = g->npackets;
}

/* ---------------------------------------------------------------- output */

/* Write the pcap global header (magic a1b2c3d4 in little-endian, version 2.4, DLT_EN10MB). */
static void out_header(struct gen *g)
{
	uint8_t h[24];

	setle32(h, 0xa1b2c3d4);
	h[4] = 2;
	h[5] = 0;
	h[6] = 4;
	h[7] = 0;
	memset(h + 8, 0, 8);	/* thiszone, sigfigs */
	setle32(h + 16, g->snaplen);
	setle32(h + 20, 1);	/* LINKTYPE_ETHERNET */
	if (fwrite(h, 1, sizeof h, g->out.f) != sizeof h)
		die("cannot write %s: %s", g->out.path, strerror(errno));
	g->out.file_bytes += sizeof h;
}

/* Open the output file (or the next day's file) and write its header. */
static void out_open(struct gen *g)
{
	struct out *o = &g->out;

	if (o->split) {
		size_t n = strlen(o->base) + 32;

		free(o->path);
		o->path = xmalloc(n);
		snprintf(o->path, n, "%s-day%d.pcap", o->base, o->day);
	}
	if (strcmp(o->path, "-") == 0)
		o->f = stdout;
	else if (!(o->f = fopen(o->path, "wb")))
		die("cannot create %s: %s", o->path, strerror(errno));
	out_header(g);
}

/* Write n buffered bytes to the current file. */
static void out_write(struct gen *g, size_t n)
{
	if (n && fwrite(g->out.buf, 1, n, g->out.f) != n)
		die("cannot write %s: %s", g->out.path, strerror(errno));
	g->out.file_bytes += n;
}

/* Close the current file, reporting a failed flush. */
static void out_close(struct gen *g)
{
	if (g->out.f == stdout) {
		if (fflush(stdout) != 0)
			die("cannot write standard output: %s", strerror(errno));
	} else if (fclose(g->out.f) != 0)
		die("cannot write %s: %s", g->out.path, strerror(errno));
	g->out.f = NULL;
}

/* Make room for one more record in the buffer. */
static void out_reserve(struct gen *g)
{
	if (g->out.len + PKT_MAX > OUT_BUF_SIZE) {
		out_write(g, g->out.len);
		g->out.len = 0;
	}
}

/* Commit the record at the end of the buffer, switching to the next day's file first when it is due. */
static void out_commit(struct gen *g, ng_time t, size_t reclen)
{
	struct out *o = &g->out;

	if (o->split && t >= o->boundary) {
		out_write(g, o->len);
		memmove(o->buf, o->buf + o->len, reclen);
		o->len = 0;
		while (t >= o->boundary) {
			out_close(g);
			o->day++;
			o->boundary += DAY;
			out_open(g);
		}
	}
	o->len += reclen;
}

/* ---------------------------------------------------------------- packets */

static const uint8_t mac_local[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x10};
static const uint8_t mac_router[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};

/* Start a packet src -> dst: returns where the transport header goes. Fill g->cur's IP fields before pkt_end. */
static uint8_t *pkt_begin(struct gen *g, const ng_addr *src, const ng_addr *dst, uint8_t proto)
{
	struct cur *c = &g->cur;

	out_reserve(g);
	c->rec = g->out.buf + g->out.len;
	c->src = src;
	c->dst = dst;
	c->proto = proto;
	c->l4 = c->rec + 16 + 14 + (src->v == 4 ? 20 : 40);
	return c->l4;
}

/*
 * Finish the packet begun by pkt_begin: l4len transport bytes are in place;
 * csum_off is where the transport checksum goes (-1: none). `from` is 0 when
 * the local host sends it. Counts it into flow f's truth when f is given.
 */
static void pkt_end(struct gen *g, struct flow *f, int from, size_t l4len, int csum_off, ng_time t)
{
	struct cur *c = &g->cur;
	bool v4 = c->src->v == 4;
	size_t iphl = v4 ? 20 : 40, iplen = iphl + l4len, framelen = 14 + iplen, caplen;
	uint8_t *eth = c->rec + 16, *ip = eth + 14;

	if (t < g->last_t)
		die("internal error: time went backwards");
	g->last_t = t;
	memcpy(eth, from ? mac_local : mac_router, 6);
	memcpy(eth + 6, from ? mac_router : mac_local, 6);
	set16(eth + 12, v4 ? 0x0800 : 0x86dd);
	if (v4) {	/* RFC 791 */
		ip[0] = 0x45;
		ip[1] = 0;
		set16(ip + 2, (unsigned)iplen);
		set16(ip + 4, c->ipid);
		set16(ip + 6, c->df ? 0x4000 : 0);
		ip[8] = c->ttl;
		ip[9] = c->proto;
		ip[10] = ip[11] = 0;
		memcpy(ip + 12, c->src->a, 4);
		memcpy(ip + 16, c->dst->a, 4);
		csum_store(ip + 10, csum_add(0, ip, 20), false);
	} else {	/* RFC 8200 */
		set32(ip, 0x60000000u | (c->flowlabel & 0xfffff));
		set16(ip + 4, (unsigned)l4len);
		ip[6] = c->proto;
		ip[7] = c->ttl;
		memcpy(ip + 8, c->src->a, 16);
		memcpy(ip + 24, c->dst->a, 16);
	}
	if (csum_off >= 0) {
		uint64_t sum = 0;
		uint8_t ph[40];

		c->l4[csum_off] = c->l4[csum_off + 1] = 0;
		if (v4 && c->proto != NG_PROTO_ICMP) {	/* RFC 793/768 pseudo-header */
			memcpy(ph, c->src->a, 4);
			memcpy(ph + 4, c->dst->a, 4);
			ph[8] = 0;
			ph[9] = c->proto;
			set16(ph + 10, (unsigned)l4len);
			sum = csum_add(0, ph, 12);
		} else if (!v4) {	/* RFC 8200 8.1 */
			memcpy(ph, c->src->a, 16);
			memcpy(ph + 16, c->dst->a, 16);
			set32(ph + 32, (uint32_t)l4len);
			ph[36] = ph[37] = ph[38] = 0;
			ph[39] = c->proto;
			sum = csum_add(0, ph, 40);
		}
		csum_store(c->l4 + csum_off, csum_add(sum, c->l4, l4len), c->proto == NG_PROTO_UDP);
	}
	caplen = NG_MIN(framelen, (size_t)g->snaplen);
	setle32(c->rec, (uint32_t)(t / SEC));
	setle32(c->rec + 4, (uint32_t)(t % SEC));
	setle32(c->rec + 8, (uint32_t)caplen);
	setle32(c->rec + 12, (uint32_t)framelen);
	out_commit(g, t, 16 + caplen);
	g->packets++;
	g->ipbytes += iplen;
	if (f) {
		struct host *h = &g->hosts[f->host];

		f->pkts[from]++;
		f->bytes[from] += iplen;
		if (f->first == NG_TIME_NONE)
			f->first = t;
		f->last = t;
		h->last[from] = t;
	}
}

/* The local address of flow f's family. */
static const ng_addr *flow_local(const struct gen *g, const struct flow *f)
{
	return &g->local[g->hosts[f->host].addr.v == 6];
}

/* Begin a packet of flow f sent by side `from` (0 local, 1 remote), with the slot's IP fields. */
static uint8_t *flow_pkt_begin(struct gen *g, struct slot *s, struct flow *f, int from, uint8_t proto)
{
	const ng_addr *l = flow_local(g, f), *r = &g->hosts[f->host].addr;
	uint8_t *p = pkt_begin(g, from ? r : l, from ? l : r, proto);

	g->cur.ttl = from ? s->ttl : 64;
	g->cur.ipid = s->ipid[from]++;
	g->cur.flowlabel = s->flowlabel[from];
	g->cur.df = proto == NG_PROTO_TCP;
	return p;
}

/* ---------------------------------------------------------------- payloads */

/* Append a DNS name in label form (RFC 1035 3.1); returns its offset in the message. */
static size_t dns_put_name(struct buf *b, const char *name)
{
	size_t at = b->len;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);

		if (n == 0 || n > 63)
			die("internal error: bad DNS label in %s", name);
		put8(b, (unsigned)n);
		putmem(b, name, n);
		name += n + (dot ? 1 : 0);
	}
	put8(b, 0);
	return at;
}

/* Build a DNS query or answer (RFC 1035 4.1) for flow f at p; returns its length. */
static size_t dns_message(struct gen *g, struct slot *s, struct flow *f, uint8_t *p, size_t cap, bool answer)
{
	struct host *h = &g->hosts[f->qhost];
	struct buf b = {p, 0, cap};
	unsigned qtype = h->addr.v == 6 ? 28 : 1;
	size_t owner = 12;
	char cname[300];

	put16(&b, s->dnsid);
	put16(&b, answer ? 0x8180 : 0x0100);	/* QR, RD, RA / RD */
	put16(&b, 1);
	put16(&b, answer ? h->ncname + 1u + f->nextra : 0);
	put16(&b, 0);
	put16(&b, (f->flags & F_EDNS) ? 1 : 0);
	dns_put_name(&b, g->names + h->name);
	put16(&b, qtype);
	put16(&b, 1);
	if (answer) {
		for (int i = 0; i < h->ncname; i++) {
			size_t rdl;

			cname_of(g, h, i, cname, sizeof cname);
			put16(&b, 0xc000 | (unsigned)owner);	/* compression pointer (RFC 1035 4.1.4) */
			put16(&b, 5);
			put16(&b, 1);
			put32(&b, (uint32_t)rng_range(&s->rng, 300, 3600));
			rdl = b.len;
			put16(&b, 0);
			owner = dns_put_name(&b, cname);
			set16(b.p + rdl, (unsigned)(b.len - rdl - 2));
		}
		for (int i = 0; i <= f->nextra; i++) {
			const ng_addr *a = i == 0 ? &h->addr : &g->extras[f->extra + i - 1];

			put16(&b, 0xc000 | (unsigned)owner);
			put16(&b, qtype);
			put16(&b, 1);
			put32(&b, (uint32_t)rng_range(&s->rng, 20, 300));
			put16(&b, a->v == 6 ? 16 : 4);
			putmem(&b, a->a, a->v == 6 ? 16 : 4);
		}
	}
	if (f->flags & F_EDNS) {	/* OPT (RFC 6891): root, type 41, UDP size 1232 */
		put8(&b, 0);
		put16(&b, 41);
		put16(&b, 1232);
		put32(&b, 0);
		put16(&b, 0);
	}
	return b.len;
}

/* A GREASE value (RFC 8701). */
static unsigned grease(struct rng *r)
{
	unsigned v = ((unsigned)rng_below(r, 16) << 4) | 0x0a;

	return (v << 8) | v;
}

/*
 * A TLS ClientHello record (RFC 8446 4.1.2) with server_name (RFC 6066 3),
 * shaped like Chrome's (GREASE, padding to 512 bytes, optional hybrid
 * post-quantum share), Firefox's, or curl's, into b.
 */
static void tls_client_hello(struct buf *b, struct rng *r, const char *sni, bool kyber)
{
	static const uint16_t chrome[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
					  0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
	static const uint16_t firefox[] = {0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c,
					   0xc030, 0xc00a, 0xc009, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035};
	static const uint16_t curl[] = {0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8,
					0xccaa, 0xc02b, 0xc02f, 0x009e, 0xc024, 0xc028, 0x006b, 0xc023,
					0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009, 0xc013, 0x0033,
					0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff};
	static const uint16_t sigalgs[] = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};
	int profile = kyber ? 0 : (int)rng_below(r, 3);	/* 0 chrome, 1 firefox, 2 curl */
	const uint16_t *cs = profile == 0 ? chrome : profile == 1 ? firefox : curl;
	size_t ncs = profile == 0 ? NG_ARRAY_LEN(chrome) : profile == 1 ? NG_ARRAY_LEN(firefox) : NG_ARRAY_LEN(curl);
	size_t rec, hs, exts, at;
	uint8_t rnd[32];

	rec = b->len;
	put8(b, 22);		/* handshake record */
	put16(b, 0x0301);
	put16(b, 0);
	hs = b->len;
	put8(b, 1);		/* ClientHello */
	put8(b, 0);
	put16(b, 0);
	put16(b, 0x0303);
	rng_bytes(r, rnd, 32);
	putmem(b, rnd, 32);
	put8(b, 32);		/* legacy_session_id */
	rng_bytes(r, rnd, 32);
	putmem(b, rnd, 32);
	put16(b, (unsigned)(2 * (ncs + (profile == 0))));
	if (profile == 0)
		put16(b, grease(r));
	for (size_t i = 0; i < ncs; i++)
		put16(b, cs[i]);
	put8(b, 1);
	put8(b, 0);
	exts = b->len;
	put16(b, 0);
	if (profile == 0) {
		put16(b, grease(r));
		put16(b, 0);
	}
	if (sni) {
		size_t n = strlen(sni);

		put16(b, 0x0000);
		put16(b, (unsigned)n + 5);
		put16(b, (unsigned)n + 3);
		put8(b, 0);
		put16(b, (unsigned)n);
		putmem(b, sni, n);
	}
	put16(b, 0x0017);	/* extended_master_secret */
	put16(b, 0);
	put16(b, 0xff01);	/* renegotiation_info */
	put16(b, 1);
	put8(b, 0);
	put16(b, 0x000a);	/* supported_groups */
	at = b->len;
	put16(b, 0);
	put16(b, 0);
	if (profile == 0)
		put16(b, grease(r));
	if (kyber)
		put16(b, 0x6399);
	put16(b, 0x001d);
	put16(b, 0x0017);
	put16(b, 0x0018);
	if (profile == 1) {
		put16(b, 0x0019);
		put16(b, 0x0100);
	}
	set16(b->p + at, (unsigned)(b->len - at - 2));
	set16(b->p + at + 2, (unsigned)(b->len - at - 4));
	put16(b, 0x000b);	/* ec_point_formats */
	put16(b, 2);
	put8(b, 1);
	put8(b, 0);
	put16(b, 0x0023);	/* session_ticket */
	put16(b, 0);
	if (profile != 2 || rng_pm(r, 500)) {
		put16(b, 0x0010);	/* ALPN: h2, http/1.1 */
		put16(b, 14);
		put16(b, 12);
		put8(b, 2);
		putmem(b, "h2", 2);
		put8(b, 8);
		putmem(b, "http/1.1", 8);
	}
	put16(b, 0x0005);	/* status_request */
	put16(b, 5);
	put8(b, 1);
	put16(b, 0);
	put16(b, 0);
	put16(b, 0x000d);	/* signature_algorithms */
	put16(b, 2 + 2 * NG_ARRAY_LEN(sigalgs));
	put16(b, 2 * NG_ARRAY_LEN(sigalgs));
	for (size_t i = 0; i < NG_ARRAY_LEN(sigalgs); i++)
		put16(b, sigalgs[i]);
	if (profile == 0) {
		put16(b, 0x0012);	/* signed_certificate_timestamp */
		put16(b, 0);
	}
	put16(b, 0x0033);	/* key_share */
	at = b->len;
	put16(b, 0);
	put16(b, 0);
	if (profile == 0) {
		put16(b, grease(r));
		put16(b, 1);
		put8(b, 0);
	}
	if (kyber) {		/* X25519Kyber768: 32 + 1184 bytes */
		uint8_t ks[1216];

		put16(b, 0x6399);
		put16(b, sizeof ks);
		rng_bytes(r, ks, sizeof ks);
		putmem(b, ks, sizeof ks);
	}
	put16(b, 0x001d);
	put16(b, 32);
	rng_bytes(r, rnd, 32);
	putmem(b, rnd, 32);
	if (profile == 1) {
		uint8_t p256[65];

		rng_bytes(r, p256, sizeof p256);
		p256[0] = 4;
		put16(b, 0x0017);
		put16(b, sizeof p256);
		putmem(b, p256, sizeof p256);
	}
	set16(b->p + at, (unsigned)(b->len - at - 2));
	set16(b->p + at + 2, (unsigned)(b->len - at - 4));
	put16(b, 0x002d);	/* psk_key_exchange_modes */
	put16(b, 2);
	put8(b, 1);
	put8(b, 1);
	put16(b, 0x002b);	/* supported_versions */
	put16(b, profile == 0 ? 7 : 5);
	put8(b, profile == 0 ? 6 : 4);
	if (profile == 0)
		put16(b, grease(r));
	put16(b, 0x0304);
	put16(b, 0x0303);
	if (profile == 0) {
		put16(b, 0x001b);	/* compress_certificate: brotli */
		put16(b, 3);
		put8(b, 2);
		put16(b, 2);
		put16(b, grease(r));	/* a trailing GREASE extension, as Chrome sends */
		put16(b, 1);
		put8(b, 0);
		/* padding (RFC 7685), BoringSSL's rule: lift a 256..511-byte hello to 512 */
		{
			size_t hl = b->len - hs;

			if (hl > 0xff && hl < 0x200) {
				size_t pad = 0x200 - hl;

				pad = pad >= 5 ? pad - 4 : 1;
				put16(b, 0x0015);
				put16(b, (unsigned)pad);
				for (size_t i = 0; i < pad; i++)
					put8(b, 0);
			}
		}
	}
	set16(b->p + exts, (unsigned)(b->len - exts - 2));
	set24(b->p + hs + 1, (uint32_t)(b->len - hs - 4));
	set16(b->p + rec + 3, (unsigned)(b->len - rec - 5));
}

/* A TLS 1.3 ServerHello record and a ChangeCipherSpec record (RFC 8446 4.1.3, D.4), into b. */
static void tls_server_hello(struct buf *b, struct rng *r)
{
	uint8_t rnd[32];
	size_t rec = b->len;

	put8(b, 22);
	put16(b, 0x0303);
	put16(b, 0);
	put8(b, 2);
	put8(b, 0);
	put16(b, 0);
	put16(b, 0x0303);
	rng_bytes(r, rnd, 32);
	putmem(b, rnd, 32);
	put8(b, 32);
	rng_bytes(r, rnd, 32);
	putmem(b, rnd, 32);
	put16(b, 0x1301);
	put8(b, 0);
	put16(b, 46);
	put16(b, 0x002b);
	put16(b, 2);
	put16(b, 0x0304);
	put16(b, 0x0033);
	put16(b, 36);
	put16(b, 0x001d);
	put16(b, 32);
	rng_bytes(r, rnd, 32);
	putmem(b, rnd, 32);
	set24(b->p + rec + 6, (uint32_t)(b->len - rec - 9));
	set16(b->p + rec + 3, (unsigned)(b->len - rec - 5));
	put8(b, 20);
	put16(b, 0x0303);
	put16(b, 1);
	put8(b, 1);
}

/*
 * Bytes [off, off+len) of a run of TLS application-data records `total` bytes
 * long (full 16406-byte records, the last one shorter), into p.
 */
static void tls_fill(const struct gen *g, uint8_t *p, uint32_t off, uint32_t len, uint32_t total, uint32_t salt)
{
	while (len > 0) {
		uint32_t rstart = off - off % TLS_REC;
		uint32_t rlen = NG_MIN((uint32_t)TLS_REC, total - rstart);
		uint32_t pos = off - rstart, n;

		if (pos < 5) {
			uint8_t h[5] = {23, 3, 3, (uint8_t)((rlen - 5) >> 8), (uint8_t)(rlen - 5)};

			*p++ = h[pos];
			off++;
			len--;
			continue;
		}
		n = NG_MIN(len, rlen - pos);
		memcpy(p, g->filler + ((off + salt) & FILLER_MASK), n);
		p += n;
		off += n;
		len -= n;
	}
}

/* Sizes of responses and uploads, in bytes. */
static uint32_t pick_bulk_size(struct rng *r)
{
	static const uint32_t b[] = {300, 3000, 30000, 300000, 3000000};
	static const uint16_t pm[] = {400, 350, 200, 50};

	return (uint32_t)rng_decade(r, b, pm, 4);
}

/* Make a TLS record run length valid: no record shorter than its 5-byte header plus one byte. */
static uint32_t tls_total(uint32_t n)
{
	uint32_t tail = n % TLS_REC;

	return tail && tail < 6 ? n + 6 : n;
}

/* Request paths; those ending in '=' or '-' or '/' get a number. */
static const char *const http_paths[] = {
	"/", "/index.html", "/assets/app.js?v=", "/images/", "/api/v1/items?page=", "/video/seg-",
	"/static/css/main.css", "/favicon.ico", "/updates/check?v=",
};
/* Body types that no decoder tries to parse (random bytes would look malformed to one). */
static const char *const http_types[] = {
	"application/octet-stream", "application/x-binary",
};

/* Start a message (request or response) from side `from` of flow f: decide its size and header bytes. */
static void msg_start(struct gen *g, struct slot *s, struct flow *f, int from, ng_time t)
{
	struct rng *r = &s->rng;
	int client = f->kind == K_TCPIN;
	bool is_client = from == client;
	/* The first request is always small: uploads start with the second. */
	bool bulk = (f->flags & F_UPLOAD) ? is_client && s->nmsg[from] > 0 : !is_client;
	struct buf b = {s->prefix, 0, sizeof s->prefix};
	uint32_t body;
	const char *name = g->hosts[f->host].name != NO_NAME ? g->names + g->hosts[f->host].name : NULL;

	s->msg_from = (int8_t)from;
	s->msg_off = 0;
	s->first_seg = 0;
	s->unacked = 0;
	s->body = BODY_RAW;
	body = bulk ? pick_bulk_size(r) : (uint32_t)rng_range(r, 40, 600);
	if (f->kind == K_TLS) {
		s->body = BODY_TLS;
		if (is_client && s->nmsg[from] == 0) {
			tls_client_hello(&b, r, (f->flags & F_NOSNI) ? NULL : name, (f->flags & F_KYBER) != 0);
			body = 0;
			if (f->flags & F_SPLIT)
				s->first_seg = (uint32_t)rng_range(r, 10, b.len - 10);
		} else if (!is_client && s->nmsg[from] == 0) {
			tls_server_hello(&b, r);
			body = NG_MAX(body, (uint32_t)rng_range(r, 2500, 6000));
		} else if (is_client && s->nmsg[from] == 1) {
			put8(&b, 20);	/* the client's ChangeCipherSpec */
			put16(&b, 0x0303);
			put16(&b, 1);
			put8(&b, 1);
		}
		if (body)
			body = tls_total(NG_MAX(body, 6));
	} else if (f->kind == K_HTTP) {
		char line[256];
		const char *path = http_paths[rng_below(r, NG_ARRAY_LEN(http_paths))];
		unsigned v = (unsigned)rng_next(r);
		int n;

		if (is_client && !bulk) {
			char last = path[strlen(path) - 1];

			if (last == '=' || last == '-' || (last == '/' && path[1]))
				snprintf(line, sizeof line, "%s%u", path, v % 100000);
			else
				snprintf(line, sizeof line, "%s", path);
			n = snprintf((char *)b.p, b.cap,
				     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) "
				     "Gecko/20100101 Firefox/128.0\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n"
				     "Connection: keep-alive\r\n\r\n", line, name ? name : "");
			body = 0;
		} else if (is_client) {
			n = snprintf((char *)b.p, b.cap,
				     "POST /upload HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n"
				     "Content-Type: application/octet-stream\r\nContent-Length: %u\r\n\r\n", name ? name : "", body);
		} else if (!bulk) {
			n = snprintf((char *)b.p, b.cap, "HTTP/1.1 201 Created\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n");
			body = 0;
		} else {
			char date[64];
			struct tm tm;
			time_t secs = (time_t)(t / SEC);

			gmtime_r(&secs, &tm);
			strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
			n = snprintf((char *)b.p, b.cap,
				     "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: %s\r\nContent-Type: %s\r\nContent-Length: %u\r\n"
				     "Connection: keep-alive\r\n\r\n", date, http_types[rng_below(r, NG_ARRAY_LEN(http_types))], body);
		}
		if (n < 0 || (size_t)n >= b.cap)
			die("internal error: HTTP header too long");
		b.len = (size_t)n;
	}
	s->prefix_len = (uint32_t)b.len;
	s->msg_size = (uint32_t)b.len + body;
	s->nmsg[from]++;
}

/* Copy bytes [off, off+len) of the current message into p. */
static void msg_fill(const struct gen *g, struct slot *s, uint8_t *p, uint32_t off, uint32_t len)
{
	if (off < s->prefix_len) {
		uint32_t n = NG_MIN(len, s->prefix_len - off);

		memcpy(p, s->prefix + off, n);
		p += n;
		off += n;
		len -= n;
	}
	if (len == 0)
		return;
	if (s->body == BODY_TLS)
		tls_fill(g, p, off - s->prefix_len, len, s->msg_size - s->prefix_len, s->ssrc[0]);
	else
		memcpy(p, g->filler + ((off + s->ssrc[1]) & FILLER_MASK), len);
}

/* ---------------------------------------------------------------- flow state machines */

/* Largest TCP payload side `from` puts in a segment. */
static uint32_t tcp_mss(const struct gen *g, const struct flow *f)
{
	uint32_t mss = g->hosts[f->host].addr.v == 6 ? 1440 : 1460;

	return (f->flags & F_TS) ? mss - 12 : mss;
}

/*
 * Write one TCP segment (RFC 9293 3.1) from side `from`. A segment with
 * payload takes the next `paylen` bytes of the current message.
 */
static void tcp_emit(struct gen *g, struct slot *s, struct flow *f, int from, uint8_t flags, uint32_t paylen, ng_time t)
{
	uint8_t *p = flow_pkt_begin(g, s, f, from, NG_PROTO_TCP);
	bool ts = (f->flags & F_TS) != 0;
	uint32_t tsval = s->tsbase[from] + (uint32_t)(t / 1000);
	size_t o = 20;

	set16(p, from ? f->rport : f->lport);
	set16(p + 2, from ? f->lport : f->rport);
	set32(p + 4, s->nxt[from]);
	set32(p + 8, (flags & 0x10) ? s->nxt[!from] : 0);
	p[13] = flags;
	set16(p + 14, (flags & 0x02) ? (ts ? 64240 : 65535) : (from ? 1023 : 502) + (unsigned)rng_below(&s->rng, 8));
	p[16] = p[17] = p[18] = p[19] = 0;
	if (flags & 0x02) {
		uint16_t mss = (uint16_t)(tcp_mss(g, f) + (ts ? 12 : 0));

		if (ts) {	/* Linux: MSS, SACK-permitted, timestamps, NOP, window scale */
			p[20] = 2, p[21] = 4, set16(p + 22, mss);
			p[24] = 4, p[25] = 2;
			p[26] = 8, p[27] = 10, set32(p + 28, tsval), set32(p + 32, (flags & 0x10) ? s->tslast[!from] : 0);
			p[36] = 1, p[37] = 3, p[38] = 3, p[39] = 7;
			o = 40;
		} else {	/* Windows: MSS, NOP, window scale, NOP, NOP, SACK-permitted */
			p[20] = 2, p[21] = 4, set16(p + 22, mss);
			p[24] = 1, p[25] = 3, p[26] = 3, p[27] = 8;
			p[28] = 1, p[29] = 1, p[30] = 4, p[31] = 2;
			o = 32;
		}
	} else if (ts && !(flags & 0x04)) {
		p[20] = 1, p[21] = 1, p[22] = 8, p[23] = 10;
		set32(p + 24, tsval);
		set32(p + 28, s->tslast[!from]);
		o = 32;
	}
	if (ts)
		s->tslast[from] = tsval;
	p[12] = (uint8_t)((o / 4) << 4);
	if (paylen) {
		msg_fill(g, s, p + o, s->msg_off, paylen);
		s->msg_off += paylen;
		if (s->msg_off == s->msg_size) {
			p[13] |= 0x08;	/* PSH on a message's last segment */
			s->msg_from = -1;
			s->last_from = (int8_t)from;
		}
		s->unacked++;
	}
	s->nxt[from] += paylen + ((flags & 0x02) ? 1 : 0) + ((flags & 0x01) ? 1 : 0);
	pkt_end(g, f, from, o + paylen, 16, t);
}

/* Write the next data segment of the current message. */
static void tcp_data(struct gen *g, struct slot *s, struct flow *f, ng_time t)
{
	uint32_t n = NG_MIN(s->msg_size - s->msg_off, tcp_mss(g, f));

	if (s->msg_off == 0 && s->first_seg)
		n = s->first_seg;
	tcp_emit(g, s, f, s->msg_from, 0x10, n, t);
}

/* One packet of a TCP flow; returns true when the next packet waits a round trip. */
static bool tcp_step(struct gen *g, struct slot *s, struct flow *f, ng_time t)
{
	int c = f->kind == K_TCPIN, sv = !c;
	uint32_t k = s->k, td = teardown_len[f->teardown], P = f->npkts;

	if (f->kind == K_REFUSED) {
		if (k == 0)
			tcp_emit(g, s, f, c, 0x02, 0, t);
		else
			tcp_emit(g, s, f, sv, 0x14, 0, t);	/* RST+ACK */
		return k == 0;
	}
	if (f->kind == K_SYNONLY) {
		s->nxt[c] = s->isn[c];
		tcp_emit(g, s, f, c, 0x02, 0, t);
		return false;
	}
	if (k == 0) {
		tcp_emit(g, s, f, c, 0x02, 0, t);
		return c == 0;
	}
	if (k == 1) {
		tcp_emit(g, s, f, sv, 0x12, 0, t);
		return sv == 0;
	}
	if (k == 2) {
		tcp_emit(g, s, f, c, 0x10, 0, t);
		return false;
	}
	if (k < 3u + f->reqsegs) {
		if (k == 3)
			msg_start(g, s, f, c, t);
		tcp_data(g, s, f, t);
		if (k == 2u + f->reqsegs) {
			if (s->msg_from != -1)
				die("internal error: request longer than its planned segments");
			s->unacked = 0;
			return c == 0;
		}
		return false;
	}
	if (k < P - td) {
		int bulk = (f->flags & F_UPLOAD) ? c : sv;

		if (s->msg_from >= 0) {
			if (s->unacked >= 2) {
				tcp_emit(g, s, f, !s->msg_from, 0x10, 0, t);
				s->unacked = 0;
			} else
				tcp_data(g, s, f, t);
		} else if (s->unacked > 0 && s->last_from == bulk) {
			tcp_emit(g, s, f, !s->last_from, 0x10, 0, t);
			s->unacked = 0;
		} else {
			msg_start(g, s, f, !s->last_from, t);
			tcp_data(g, s, f, t);
		}
		return s->msg_from == -1 && s->last_from == 0 && s->unacked;
	}
	{
		uint32_t j = k - (P - td);
		int a = (f->flags & F_RCLOSE) ? 1 : 0, b = !a;

		switch (f->teardown) {
		case TD_RST:
			tcp_emit(g, s, f, a, 0x14, 0, t);
			return false;
		case TD_FIN3:
			if (j == 0)
				tcp_emit(g, s, f, a, 0x11, 0, t);
			else if (j == 1)
				tcp_emit(g, s, f, b, 0x11, 0, t);
			else
				tcp_emit(g, s, f, a, 0x10, 0, t);
			return (j == 0 && a == 0) || (j == 1 && b == 0);
		default:
			if (j == 0)
				tcp_emit(g, s, f, a, 0x11, 0, t);
			else if (j == 1)
				tcp_emit(g, s, f, b, 0x10, 0, t);
			else if (j == 2)
				tcp_emit(g, s, f, b, 0x11, 0, t);
			else
				tcp_emit(g, s, f, a, 0x10, 0, t);
			return (j == 0 && a == 0) || (j == 2 && b == 0);
		}
	}
}

/* Write one UDP datagram (RFC 768) from side `from` whose payload builder already ran at p + 8. */
static void udp_finish(struct gen *g, struct flow *f, int from, uint8_t *p, size_t paylen, ng_time t)
{
	set16(p, from ? f->rport : f->lport);
	set16(p + 2, from ? f->lport : f->rport);
	set16(p + 4, (unsigned)(8 + paylen));
	pkt_end(g, f, from, 8 + paylen, 6, t);
}

/* An NTP packet (RFC 5905 7.3): a client request or the server's reply, at p. */
static size_t ntp_packet(struct slot *s, uint8_t *p, bool reply, ng_time t)
{
	uint32_t sec = (uint32_t)(t / SEC + 2208988800LL), frac = (uint32_t)(((t % SEC) << 32) / SEC);

	memset(p, 0, 48);
	p[0] = reply ? 0x24 : 0x23;	/* LI 0, version 4, mode 4 (server) / 3 (client) */
	if (reply) {
		p[1] = 2;
		p[2] = 6;
		p[3] = 0xe9;
		set32(p + 4, 0x00000a3c);
		set32(p + 8, 0x00000bc2);
		set32(p + 12, s->ssrc[1]);
		set32(p + 16, sec - 600);
		set32(p + 24, s->rtpts[0]);	/* origin = the client's transmit time */
		set32(p + 28, s->rtpts[1]);
		set32(p + 32, sec);
		set32(p + 36, frac);
		set32(p + 40, sec);
		set32(p + 44, frac + 1000);
	} else {
		s->rtpts[0] = sec;
		s->rtpts[1] = frac;
		set32(p + 40, sec);
		set32(p + 44, frac);
	}
	return 48;
}

/* One packet of a UDP or ICMP flow; returns true when the next packet waits a round trip. */
static bool dgram_step(struct gen *g, struct slot *s, struct flow *f, ng_time t)
{
	uint32_t k = s->k;
	int from;
	uint8_t *p;
	size_t n;

	switch (f->kind) {
	case K_DNS:
		from = (int)(k & 1);
		p = flow_pkt_begin(g, s, f, from, NG_PROTO_UDP);
		n = dns_message(g, s, f, p + 8, 1400, from == 1);
		udp_finish(g, f, from, p, n, t);
		if (from == 1)
			g->hosts[f->qhost].answered = t;
		return from == 0;
	case K_NTP:
		from = (int)(k & 1);
		p = flow_pkt_begin(g, s, f, from, NG_PROTO_UDP);
		n = ntp_packet(s, p + 8, from == 1, t);
		udp_finish(g, f, from, p, n, t);
		return from == 0;
	case K_ICMP: {
		bool v6 = g->hosts[f->host].addr.v == 6;
		uint8_t proto = v6 ? NG_PROTO_ICMPV6 : NG_PROTO_ICMP;

		from = (int)(k & 1);
		p = flow_pkt_begin(g, s, f, from, proto);
		p[0] = (uint8_t)(v6 ? (from ? 129 : 128) : (from ? 0 : 8));	/* echo reply / request */
		p[1] = 0;
		set16(p + 4, s->ssrc[0] & 0xffff);
		set16(p + 6, k / 2 + 1);
		set32(p + 8, (uint32_t)(f->start / SEC + k / 2));	/* 16 bytes of timeval, then Linux ping's pattern */
		set32(p + 12, 0);
		set32(p + 16, (uint32_t)(f->start % SEC));
		set32(p + 20, 0);
		for (int i = 0; i < 40; i++)
			p[24 + i] = (uint8_t)(0x10 + i);
		pkt_end(g, f, from, 64, 2, t);
		return from == 0;
	}
	default:
		break;
	}
	/* Media: RTP-like (RFC 3550) packets, opus payload type. */
	if (f->kind == K_UDPOUT)
		from = 0;
	else if (f->kind == K_UDPIN)
		from = 1;
	else
		from = k == 0 ? 0 : (int)rng_below(&s->rng, 2);
	p = flow_pkt_begin(g, s, f, from, NG_PROTO_UDP);
	n = (size_t)rng_range(&s->rng, 60, 1200);
	p[8] = 0x80;
	p[9] = 111;
	set16(p + 10, s->rtpseq[from]++);
	set32(p + 12, s->rtpts[from]);
	s->rtpts[from] += 960;
	set32(p + 16, s->ssrc[from]);
	memcpy(p + 20, g->filler + (rng_next(&s->rng) & FILLER_MASK), n - 12);
	udp_finish(g, f, from, p, n, t);
	return false;
}

/* ---------------------------------------------------------------- player */

/* Heap order: earlier next packet first, then lower flow number. */
static bool heap_less(const struct gen *g, uint32_t a, uint32_t b)
{
	const struct slot *x = &g->slots[a], *y = &g->slots[b];

	return x->next < y->next || (x->next == y->next && x->flow < y->flow);
}

/* Restore heap order upwards from position i. */
static void heap_up(struct gen *g, uint32_t i)
{
	while (i > 0) {
		uint32_t p = (i - 1) / 2, t;

		if (!heap_less(g, g->heap[i], g->heap[p]))
			break;
		t = g->heap[i];
		g->heap[i] = g->heap[p];
		g->heap[p] = t;
		i = p;
	}
}

/* Restore heap order downwards from position i. */
static void heap_down(struct gen *g, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, m = i, t;

		if (l < g->heap_len && heap_less(g, g->heap[l], g->heap[m]))
			m = l;
		if (l + 1 < g->heap_len && heap_less(g, g->heap[l + 1], g->heap[m]))
			m = l + 1;
		if (m == i)
			break;
		t = g->heap[i];
		g->heap[i] = g->heap[m];
		g->heap[m] = t;
		i = m;
	}
}

/* The verdict of one direction at the moment flow f starts (the oracle of issue 4). */
static uint8_t oracle(const struct gen *g, const struct host *h, int dir, ng_time start)
{
	if (addr_scope(&h->addr) != NG_SCOPE_PUBLIC)
		return V_LOCAL;
	if (h->last[dir] != NG_TIME_NONE && start - h->last[dir] <= g->window)
		return V_NORMAL;
	return V_ANOMALOUS;
}

/* Start playing flow number fi: take a slot, set its random state, queue its first packet. */
static void flow_activate(struct gen *g, uint32_t fi)
{
	struct flow *f = &g->flows[fi];
	struct host *h = &g->hosts[f->host], *q = &g->hosts[f->qhost];
	struct slot *s;
	uint32_t si;

	if (g->nfree)
		si = g->free_slots[--g->nfree];
	else {
		if (g->nslots == g->slots_cap) {
			g->slots_cap = g->slots_cap ? 2 * g->slots_cap : 1024;
			g->slots = xrealloc(g->slots, g->slots_cap * sizeof *g->slots);
			g->heap = xrealloc(g->heap, g->slots_cap * sizeof *g->heap);
			g->free_slots = xrealloc(g->free_slots, g->slots_cap * sizeof *g->free_slots);
		}
		si = g->nslots++;
	}
	s = &g->slots[si];
	memset(s, 0, offsetof(struct slot, prefix));
	s->flow = fi;
	s->next = f->start;
	s->rng.s = f->seed;
	for (int i = 0; i < 2; i++) {
		s->isn[i] = s->nxt[i] = (uint32_t)rng_next(&s->rng);
		s->tsbase[i] = (uint32_t)rng_next(&s->rng);
		s->flowlabel[i] = (uint32_t)rng_below(&s->rng, 1u << 20);
		s->ipid[i] = (uint16_t)rng_next(&s->rng);
		s->ssrc[i] = (uint32_t)rng_next(&s->rng);
		s->rtpts[i] = (uint32_t)rng_next(&s->rng);
		s->rtpseq[i] = (uint16_t)rng_next(&s->rng);
	}
	if (f->kind == K_REFUSED)
		s->nxt[1] = 0;
	s->dnsid = (uint16_t)rng_next(&s->rng);
	s->ttl = (uint8_t)(rng_pm(&s->rng, 700) ? rng_range(&s->rng, 44, 60) : rng_range(&s->rng, 107, 120));
	s->msg_from = -1;
	s->last_from = (int8_t)(f->kind == K_TCPIN);
	f->dns_seen = q->answered != NG_TIME_NONE && q->answered <= f->start;
	f->dns_at = f->dns_seen ? q->answered : NG_TIME_NONE;
	f->verdict[0] = oracle(g, h, 0, f->start);
	f->verdict[1] = oracle(g, h, 1, f->start);
	g->heap[g->heap_len++] = si;
	heap_up(g, g->heap_len - 1);
	if (g->heap_len > g->max_active)
		g->max_active = g->heap_len;
}

/* Write the next packet of the earliest active flow. */
static void flow_step(struct gen *g)
{
	uint32_t si = g->heap[0];
	struct slot *s = &g->slots[si];
	struct flow *f = &g->flows[s->flow];
	ng_time t = s->next;
	bool wait_rtt;

	wait_rtt = f->kind <= K_SYNONLY ? tcp_step(g, s, f, t) : dgram_step(g, s, f, t);
	s->k++;
	if (s->k == f->npkts) {
		g->free_slots[g->nfree++] = si;
		g->heap[0] = g->heap[--g->heap_len];
		if (g->heap_len)
			heap_down(g, 0);
		return;
	}
	if (f->kind == K_SYNONLY)
		s->next = t + ((ng_time)SEC << (s->k - 1));
	else
		s->next = t + f->gap / 2 + (ng_time)rng_below(&s->rng, f->gap + 1) + (wait_rtt ? f->rtt : 0);
	heap_down(g, 0);
}

/* One spoofed packet of the flood: a SYN or a small UDP datagram from a random public address to the local host. */
static void flood_emit(struct gen *g, ng_time t)
{
	static const uint16_t syn_ports[] = {80, 443, 22, 23, 3389, 8080, 25, 445};
	struct rng *r = &g->frng;
	bool v6 = rng_below(r, 100) < g->ipv6_pct;
	ng_addr src = random_public(r, v6);
	uint8_t *p;
	size_t n;

	if (rng_pm(r, 700)) {
		p = pkt_begin(g, &src, &g->local[v6], NG_PROTO_TCP);
		set16(p, (unsigned)rng_range(r, 1024, 65535));
		set16(p + 2, syn_ports[rng_below(r, NG_ARRAY_LEN(syn_ports))]);
		set32(p + 4, (uint32_t)rng_next(r));
		set32(p + 8, 0);
		p[12] = 6 << 4;
		p[13] = 0x02;
		set16(p + 14, (unsigned)rng_range(r, 1024, 65535));
		p[16] = p[17] = p[18] = p[19] = 0;
		p[20] = 2, p[21] = 4, set16(p + 22, 1460);
		n = 24;
		g->flood_syn++;
	} else {
		size_t pl = (size_t)rng_below(r, 65);

		p = pkt_begin(g, &src, &g->local[v6], NG_PROTO_UDP);
		set16(p, (unsigned)rng_range(r, 1024, 65535));
		set16(p + 2, (unsigned)rng_range(r, 1, 65535));
		set16(p + 4, (unsigned)(8 + pl));
		memcpy(p + 8, g->filler + (rng_next(r) & FILLER_MASK), pl);
		n = 8 + pl;
	}
	g->cur.ttl = (uint8_t)rng_range(r, 30, 250);
	g->cur.ipid = (uint16_t)rng_next(r);
	g->cur.flowlabel = (uint32_t)rng_below(r, 1u << 20);
	g->cur.df = false;
	pkt_end(g, NULL, 1, n, g->cur.proto == NG_PROTO_TCP ? 16 : 6, t);
}

/* Order flows by start time, then by number. */
static int start_cmp(const void *a, const void *b, void *arg)
{
	const struct flow *fl = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (fl[x].start != fl[y].start)
		return fl[x].start < fl[y].start ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Play the plan (and the flood) into the output, in time order. */
static void play(struct gen *g)
{
	uint32_t *order = xmalloc((g->nflow + 1) * sizeof *order);
	uint32_t next = 0;

	for (uint32_t i = 0; i < g->nflow; i++)
		order[i] = i;
	qsort_r(order, g->nflow, sizeof *order, start_cmp, g->flows);
	g->frng.s = g->seed ^ 0x666c6f6f64ULL;
	g->last_t = g->start;
	for (;;) {
		ng_time tn = next < g->nflow ? g->flows[order[next]].start : T_INF;
		ng_time th = g->heap_len ? g->slots[g->heap[0]].next : T_INF;
		ng_time tf = g->flood_k < g->flood_n ?
				     g->start + (ng_time)muldiv(g->flood_k, (uint64_t)g->duration, g->flood_n) : T_INF;

		if (tn == T_INF && th == T_INF && tf == T_INF)
			break;
		if (tn <= th && tn <= tf)
			flow_activate(g, order[next++]);
		else if (tf < th) {
			flood_emit(g, tf);
			g->flood_k++;
		} else
			flow_step(g);
	}
	free(order);
}

/* ---------------------------------------------------------------- truth */

/* Order flows by first packet, then by number (netglobe numbers flows this way). */
static int first_cmp(const void *a, const void *b, void *arg)
{
	const struct flow *fl = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (fl[x].first != fl[y].first)
		return fl[x].first < fl[y].first ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* The worst verdict among the directions that carried traffic. */
static uint8_t overall(const struct flow *f)
{
	uint8_t v = V_NONE;

	for (int d = 0; d < 2; d++) {
		if (!f->pkts[d])
			continue;
		if (v == V_NONE || f->verdict[d] == V_ANOMALOUS || (v == V_LOCAL && f->verdict[d] == V_NORMAL))
			v = f->verdict[d];
	}
	return v;
}

/* TCP state at the end of the capture, in netglobe's words. */
static const char *flow_state(const struct flow *f)
{
	switch (f->kind) {
	case K_REFUSED:
		return "reset";
	case K_SYNONLY:
		return "syn_sent";
	case K_TLS:
	case K_HTTP:
	case K_TCP:
	case K_TCPIN:
		return f->teardown == TD_RST ? "reset" : f->teardown == TD_NONE ? "established" : "closed";
	default:
		return "open";
	}
}

/* Print a JSON string or null (names here are plain [a-z0-9.-]). */
static void json_str(FILE *fp, const char *key, const char *v)
{
	if (v)
		fprintf(fp, ",\"%s\":\"%s\"", key, v);
	else
		fprintf(fp, ",\"%s\":null", key);
}

/* Write the truth file: one JSON object per flow in order of first packet, then a summary. */
static void write_truth(struct gen *g)
{
	FILE *fp = fopen(g->truth_path, "w");
	uint32_t *order;
	uint64_t v6 = 0;
	char t1[NG_TIMESTRLEN], t2[NG_TIMESTRLEN], la[NG_ADDRSTRLEN], ra[NG_ADDRSTRLEN], cn[300];

	if (!fp)
		die("cannot create %s: %s", g->truth_path, strerror(errno));
	order = xmalloc((g->nflow + 1) * sizeof *order);
	for (uint32_t i = 0; i < g->nflow; i++)
		order[i] = i;
	qsort_r(order, g->nflow, sizeof *order, first_cmp, g->flows);
	for (uint32_t i = 0; i < g->nflow; i++) {
		struct flow *f = &g->flows[order[i]];
		struct host *h = &g->hosts[f->host], *q = &g->hosts[f->qhost];
		bool v6f = h->addr.v == 6;
		bool tcp = f->kind <= K_SYNONLY;
		const char *proto = tcp ? "tcp" : f->kind == K_ICMP ? (v6f ? "icmpv6" : "icmp") : "udp";
		const char *name = q->name != NO_NAME ? g->names + q->name : NULL;
		uint8_t ov = overall(f);

		v6 += v6f;
		fprintf(fp, "{\"kind\":\"%s\",\"proto\":\"%s\",\"ip_version\":%d,\"local_ip\":\"%s\",\"local_port\":%u,"
			"\"remote_ip\":\"%s\",\"remote_port\":%u,\"initiator\":\"%s\",\"packets_sent\":%u,"
			"\"packets_received\":%u,\"bytes_sent\":%llu,\"bytes_received\":%llu,\"first_seen\":\"%s\","
			"\"last_seen\":\"%s\",\"first_seen_us\":%lld,\"last_seen_us\":%lld,\"state\":\"%s\"",
			kind_names[f->kind], proto, v6f ? 6 : 4, addr_format(flow_local(g, f), la, sizeof la),
			f->kind == K_ICMP ? 0 : f->lport, addr_format(&h->addr, ra, sizeof ra),
			f->kind == K_ICMP ? 0 : f->rport, f->kind == K_TCPIN || f->kind == K_UDPIN ? "remote" : "local",
			f->pkts[0], f->pkts[1], (unsigned long long)f->bytes[0], (unsigned long long)f->bytes[1],
			time_format(f->first, t1, sizeof t1), time_format(f->last, t2, sizeof t2), (long long)f->first,
			(long long)f->last, flow_state(f));
		if (f->kind == K_DNS) {
			fprintf(fp, ",\"query\":\"%s\",\"qtype\":\"%s\",\"cnames\":[", name, q->addr.v == 6 ? "AAAA" : "A");
			for (int c = 0; c < q->ncname; c++) {
				cname_of(g, q, c, cn, sizeof cn);
				fprintf(fp, "%s\"%s\"", c ? "," : "", cn);
			}
			fprintf(fp, "],\"answers\":[\"%s\"", addr_format(&q->addr, ra, sizeof ra));
			for (int a = 0; a < f->nextra; a++)
				fprintf(fp, ",\"%s\"", addr_format(&g->extras[f->extra + a], ra, sizeof ra));
			fputc(']', fp);
			json_str(fp, "dns_name", NULL);
			json_str(fp, "dns_cname", NULL);
			json_str(fp, "sni", NULL);
			json_str(fp, "http_host", NULL);
		} else {
			if (f->dns_seen && q->ncname)
				cname_of(g, q, q->ncname - 1, cn, sizeof cn);
			json_str(fp, "dns_name", f->dns_seen ? name : NULL);
			json_str(fp, "dns_cname", f->dns_seen && q->ncname ? cn : NULL);
			if (f->dns_seen)
				fprintf(fp, ",\"dns_answer_us\":%lld", (long long)f->dns_at);
			else
				fputs(",\"dns_answer_us\":null", fp);
			json_str(fp, "sni", f->kind == K_TLS && !(f->flags & F_NOSNI) ? name : NULL);
			json_str(fp, "http_host", f->kind == K_HTTP ? name : NULL);
		}
		fprintf(fp, ",\"verdict_sent\":\"%s\",\"verdict_received\":\"%s\",\"verdict\":\"%s\"",
			verdict_names[f->verdict[0]], verdict_names[f->verdict[1]], verdict_names[ov]);
		if (g->mode == M_DAYS)
			fprintf(fp, ",\"day\":%lld,\"schedule_line\":%u", (long long)((f->first - g->start) / DAY + 1), f->sched);
		fputs("}\n", fp);
	}
	fprintf(fp, "{\"summary\":{\"generator\":\"pcapgen %d\",\"args\":\"%s\",\"packets\":%llu,\"ip_bytes\":%llu,"
		"\"flows\":%u,\"ipv6_flows\":%llu,\"flood_packets\":%llu,\"flood_syn\":%llu,\"first_packet\":\"%s\","
		"\"last_packet\":\"%s\",\"max_concurrent\":%u,\"local\":[\"%s\",",
		PCAPGEN_VERSION, g->args, (unsigned long long)g->packets, (unsigned long long)g->ipbytes, g->nflow,
		(unsigned long long)v6, (unsigned long long)g->flood_k, (unsigned long long)g->flood_syn,
		time_format(g->nflow ? g->flows[order[0]].first : g->start, t1, sizeof t1),
		time_format(g->last_t, t2, sizeof t2), g->max_active, addr_format(&g->local[0], la, sizeof la));
	fprintf(fp, "\"%s\"]}}\n", addr_format(&g->local[1], la, sizeof la));
	free(order);
	if (fclose(fp) != 0)
		die("cannot write %s: %s", g->truth_path, strerror(errno));
}

/* Days mode: every schedule expectation must match what the oracle computed from the packets. */
static void check_expectations(const struct gen *g)
{
	int bad = 0;

	for (uint32_t i = 0; i < g->nflow; i++) {
		const struct flow *f = &g->flows[i];

		for (int d = 0; d < 2; d++) {
			if (f->expect[d] && f->expect[d] != f->verdict[d]) {
				fprintf(stderr, "pcapgen: schedule line %u: %s verdict is %s, the schedule expects %s\n",
					f->sched, d ? "received" : "sent", verdict_names[f->verdict[d]],
					verdict_names[f->expect[d]]);
				bad++;
			}
		}
	}
	if (bad)
		die("%d schedule expectations disagree with the packets (fix the schedule)", bad);
}

/* ---------------------------------------------------------------- garbage and corrupt */

/* Write nbytes of random bytes (never starting with a pcap or pcapng magic). */
static void write_garbage(struct gen *g)
{
	FILE *fp = strcmp(g->out_path, "-") == 0 ? stdout : fopen(g->out_path, "wb");
	uint8_t *b = xmalloc(1 << 16);
	uint64_t left = g->nbytes;
	bool first = true;

	if (!fp)
		die("cannot create %s: %s", g->out_path, strerror(errno));
	while (left > 0) {
		size_t n = (size_t)NG_MIN(left, (uint64_t)(1 << 16));

		rng_bytes(&g->rng, b, n);
		if (first && n >= 4) {
			b[0] = 'n';	/* not d4/a1/4d/0a: no reader may take it for a capture */
			first = false;
		}
		if (fwrite(b, 1, n, fp) != n)
			die("cannot write %s: %s", g->out_path, strerror(errno));
		left -= n;
	}
	free(b);
	if (fp != stdout ? fclose(fp) != 0 : fflush(fp) != 0)
		die("cannot write %s: %s", g->out_path, strerror(errno));
}

/*
 * Play a small bench capture into memory, then damage it: "truncate" cuts
 * the file in the middle of the last record's data, "header" in the middle of
 * a record header, "caplen" gives a record in the middle a caplen of 0x7ffffff0
 * (over any snaplen), "magic" breaks the file magic.
 */
static void write_corrupt(struct gen *g)
{
	char *mem = NULL;
	size_t len = 0, nrec = 0, at = 24, last = 0, mid = 0;
	uint8_t *p;
	FILE *fp;

	g->out.f = open_memstream(&mem, &len);
	if (!g->out.f)
		die("open_memstream: %s", strerror(errno));
	g->out.path = xstrdup("(memory)");
	out_header(g);
	plan_bench(g);
	play(g);
	out_write(g, g->out.len);
	if (fclose(g->out.f) != 0)
		die("cannot build the capture in memory");
	p = (uint8_t *)mem;
	while (at + 16 <= len) {
		uint32_t cl = (uint32_t)p[at + 8] | (uint32_t)p[at + 9] << 8 | (uint32_t)p[at + 10] << 16 |
			      (uint32_t)p[at + 11] << 24;

		if (nrec == g->npackets / 2)
			mid = at;
		last = at;
		at += 16 + cl;
		nrec++;
	}
	if (strcmp(g->damage, "truncate") == 0)
		len = last + 16 + 20;
	else if (strcmp(g->damage, "header") == 0)
		len = last + 7;
	else if (strcmp(g->damage, "caplen") == 0)
		setle32(p + mid + 8, 0x7ffffff0);
	else if (strcmp(g->damage, "magic") == 0)
		memcpy(p, "PCAP", 4);
	else
		die("unknown --damage %s (truncate, header, caplen, magic)", g->damage);
	fp = strcmp(g->out_path, "-") == 0 ? stdout : fopen(g->out_path, "wb");
	if (!fp)
		die("cannot create %s: %s", g->out_path, strerror(errno));
	if (fwrite(mem, 1, len, fp) != len || (fp != stdout ? fclose(fp) != 0 : fflush(fp) != 0))
		die("cannot write %s: %s", g->out_path, strerror(errno));
	free(mem);
}

/* ---------------------------------------------------------------- zeek, beacon, merge */

/*
 * ZEEK MODE
 *
 * `pcapgen zeek --conn CONN.log [--ssl SSL.log] [--dns DNS.log] [--http HTTP.log] -o OUT.pcap`
 * turns Zeek's TSV logs into a capture with the same connections: endpoints,
 * start times, protocol, directions, shapes by conn_state, byte totals. The
 * logs are read by their `#fields` header names, so extra columns (labels)
 * and other column orders are fine; `-`, `(empty)` and empty values are
 * unset; a line that cannot be used (bad address, time, port, too few
 * fields, garbage) is skipped and counted, never fatal.
 *
 * Packets per direction. A direction that carries data gets
 * k = min(pkts - control, --cap) data segments (default cap 4, at least 1).
 * When the direction's IP bytes need more full-size packets than that, k
 * rises to what the bytes need, up to --byte-limit / 1500 (default 1 MiB per
 * direction per connection). That can be more packets than Zeek counted:
 * hosts with segmentation offload capture packets larger than 1500 bytes.
 *
 * Bytes. The target is Zeek's orig_ip_bytes / resp_ip_bytes (counted from
 * the packets themselves; orig_bytes/resp_bytes come from sequence numbers
 * and can exceed what was on the wire when missed_bytes > 0): the data
 * segments carry target - (the IP and TCP headers of every packet written),
 * so the IP bytes written equal the target whenever it fits in
 * --byte-limit / 1500 packets of 1500 bytes; beyond that the bytes
 * are capped at --byte-limit (tolerance: exact up to --byte-limit, except
 * as below; beyond it, capped). A direction whose payload (orig_bytes /
 * resp_bytes) is 0 carries no data. The payload then includes the headers of
 * packets Zeek saw but this file leaves out. Exceptions: a ClientHello or an
 * HTTP request is never cut, so a tiny direction can grow to hold it.
 *
 * TCP shapes by conn_state (o = originator sends, r = responder sends):
 *   S0      o SYN x min(orig_pkts, cap) (retransmissions)
 *   REJ     o SYN x min(orig_pkts, cap), r RST+ACK
 *   S1      o SYN, r SYN+ACK, o ACK, data both ways (no close)
 *   SF      S1, then o FIN+ACK, r FIN+ACK, o ACK
 *   S2      S1, then o FIN+ACK (no answer)
 *   S3      S1, then r FIN+ACK (no answer)
 *   RSTO    S1, then o RST+ACK
 *   RSTR    S1, then r RST+ACK
 *   RSTOS0  o SYN x min(orig_pkts - 1, cap - 1), o RST (no SYN+ACK)
 *   RSTRH   r SYN+ACK, r RST (no SYN seen)
 *   SH      o SYN, o FIN (no SYN+ACK)
 *   SHR     r SYN+ACK, r FIN+ACK (no SYN seen)
 *   OTH     mid-stream: ACK segments both ways as counted (capped), data by
 *           the bytes; no SYN, FIN or RST (also any unknown state)
 * Data segments alternate o, r, o, r... and the rest of the longer side
 * follows. The packets of a connection are spread evenly over `duration`
 * (at least one microsecond apart).
 *
 * Content. With an ssl.log row (joined by uid), service ssl or port 443,
 * each side's stream is TLS: a ClientHello (with the row's server_name as
 * SNI, RFC 6066) or a ServerHello, then application-data records. With an
 * http.log row (joined by uid), service http or port 80, the client stream
 * is the requests (method, uri, Host: the row's host, else the address) and
 * the server's the responses, with Content-Length bodies filling the bytes.
 * Other payload is filler bytes.
 *
 * UDP: originator and responder datagrams alternate as counted (capped),
 * sized by the IP bytes. ICMP: Zeek puts the type in id.orig_p and, for a
 * request/reply type, the reply's type in id.resp_p (else the code): the
 * originator sends that type, the responder the counterpart (echo, NDP, MLD
 * bodies well-formed; errors quote an IP header).
 *
 * DNS. Each dns.log row becomes a query at the row's ts (trans_id, query,
 * qclass, qtype, RD) and, when rcode is set, a response one rtt later (rtt
 * column, else the connection's duration, else 100 us) with rcode, AA, RA
 * and the answers as A, AAAA, CNAME (a name; the chain's owner moves along
 * it) or PTR records with their TTLs. A UDP connection with dns.log rows is
 * written as its DNS exchanges instead of generic datagrams.
 *
 * Every packet is built into one arena with its timestamp, then the records
 * are sorted by (time, order of creation) and written: timestamps never
 * decrease. The local host (the fixed MAC 02:00:00:00:00:10) is --local, or
 * the address in the most connection rows per IP version; every other
 * unicast end is behind the router (02:00:00:00:00:01).
 */

static void usage(FILE *fp);
static uint64_t opt_uint(const char *name, const char *v, uint64_t min, uint64_t max);

#define Z_UID 40
#define Z_MAXCOL 128
#define Z_PREFIX 8192
#define Z_MTU 1500
#define Z_MAXLOCAL 8
#define Z_LINE_MAX (1u << 20)

enum zstate { ZS_OTH, ZS_S0, ZS_S1, ZS_SF, ZS_REJ, ZS_S2, ZS_S3, ZS_RSTO, ZS_RSTR, ZS_RSTOS0, ZS_RSTRH, ZS_SH, ZS_SHR,
	      ZS_COUNT };
static const char *const zstate_names[ZS_COUNT] = {
	"OTH", "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR",
};

enum zbody { ZB_RAW, ZB_TLS, ZB_HTTP };

/* One conn.log row. */
struct zconn {
	ng_time ts, dur;
	ng_addr o, r;
	uint64_t pkts[2], ipb[2], pay[2];	/* [0] originator, [1] responder; pay UINT64_MAX when unset */
	uint32_t sni;				/* offset in the string arena, or NO_NAME */
	uint32_t http, nhttp;			/* first row in the sorted http table, how many */
	uint16_t op, rp;
	uint8_t proto, state;
	bool tls, is_http, has_dns;
	char uid[Z_UID];
};

/* One http.log row. */
struct zhttp {
	ng_time ts;
	uint32_t method, host, uri;		/* string offsets, or NO_NAME */
	uint16_t status;
	char uid[Z_UID];
};

/* One dns.log row. */
struct zdns {
	ng_time ts, rtt;
	ng_addr o, r;
	uint32_t query, answers, ttls;		/* string offsets, or NO_NAME */
	uint16_t op, rp, id, qtype, qclass;
	int16_t rcode;				/* -1: no response seen */
	uint8_t proto;
	bool rd, ra, aa;
	char uid[Z_UID];
};

/* One packet record in the arena, with its sort key. */
struct zrec {
	ng_time t;
	uint64_t order;
	uint64_t off;
	uint32_t len;
};

/* One direction's byte stream of a TCP connection. */
struct zstream {
	uint8_t prefix[Z_PREFIX];
	uint32_t plen;
	uint64_t total;		/* prefix plus body */
	uint64_t off;		/* bytes sent so far */
	uint8_t body;		/* enum zbody */
};

/* A packet of a connection's script: who sends it, TCP flags, payload bytes. */
struct zev {
	uint8_t dir, flags;
	uint32_t len;
};

struct zgen {
	/* options */
	const char *conn_path, *ssl_path, *dns_path, *http_path, *out_path;
	uint32_t cap;
	uint64_t byte_limit;
	ng_addr local[Z_MAXLOCAL];
	size_t nlocal;
	bool quiet;
	/* logs */
	struct zconn *conns;
	size_t nconns, capconns;
	struct zhttp *https;
	size_t nhttps, caphttps;
	struct zdns *dnss;
	size_t ndnss, capdnss;
	char *strs;
	size_t strs_len, strs_cap;
	uint64_t rows[4], skipped[4], joined[4];	/* conn, ssl, dns, http */
	/* packets */
	struct zrec *recs;
	size_t nrecs, caprecs;
	uint8_t *data;
	uint64_t dlen, dcap;
	struct zev *evs;
	size_t nevs, capevs;
	uint64_t bytes_capped, written_ip;
	uint32_t snaplen;
	int dlt;
	struct rng rng;
	uint8_t filler[FILLER_SIZE];
	struct zstream st[2];
};

/* Copy a string into z's arena; returns its offset. */
static uint32_t z_str(struct zgen *z, const char *s, size_t n)
{
	uint32_t off;

	if (z->strs_len + n + 1 > z->strs_cap) {
		z->strs_cap = z->strs_cap ? 2 * z->strs_cap : 65536;
		while (z->strs_len + n + 1 > z->strs_cap)
			z->strs_cap *= 2;
		z->strs = xrealloc(z->strs, z->strs_cap);
	}
	off = (uint32_t)z->strs_len;
	memcpy(z->strs + off, s, n);
	z->strs[off + n] = '\0';
	z->strs_len += n + 1;
	return off;
}

/* The string at offset off, or NULL for NO_NAME. */
static const char *z_get(const struct zgen *z, uint32_t off)
{
	return off == NO_NAME ? NULL : z->strs + off;
}

/* Grow an array of n items to hold one more; returns the (possibly moved) array. */
static void *z_grow(void *arr, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return arr;
	*cap = *cap ? 2 * *cap : 1024;
	return xrealloc(arr, *cap * size);
}

/* ---- field parsers: each returns false on anything it cannot use */

/* Zeek's time (seconds with up to 9 decimals) as microseconds; also used for intervals. */
static bool z_time(const char *s, ng_time *out)
{
	uint64_t sec = 0, us = 0;
	int digits = 0, frac = 0;

	if (!s || !*s)
		return false;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (digits >= 11)
			return false;	/* past the year 5000: garbage */
		sec = sec * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, frac++) {
			if (frac < 6)
				us = us * 10 + (uint64_t)(*s - '0');
		}
	}
	if (*s || digits == 0)
		return false;
	for (; frac < 6; frac++)
		us *= 10;
	*out = (ng_time)(sec * SEC + us);
	return true;
}

/* A count (unset gives def). */
static bool z_count(const char *s, uint64_t def, uint64_t *out)
{
	if (!s) {
		*out = def;
		return true;
	}
	return parse_uint(s, 0, 1ULL << 48, out) == 0;
}

/* A port 0..65535. */
static bool z_port(const char *s, uint16_t *out)
{
	uint64_t v;

	if (!s || parse_uint(s, 0, 65535, &v) < 0)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* Zeek's bool: T is true, anything else false. */
static bool z_bool(const char *s)
{
	return s && strcmp(s, "T") == 0;
}

/* Copy a Zeek uid (false when absent or too long to join). */
static bool z_uid(const char *s, char *out)
{
	size_t n;

	if (!s || (n = strlen(s)) >= Z_UID) {
		out[0] = '\0';
		return false;
	}
	memcpy(out, s, n + 1);
	return true;
}

/* Keep the printable ASCII of s (no spaces, at most max bytes) in the arena; NO_NAME when nothing is left. */
static uint32_t z_clean(struct zgen *z, const char *s, size_t max)
{
	char tmp[1024];
	size_t n = 0;

	if (!s)
		return NO_NAME;
	for (; *s && n < max && n < sizeof tmp; s++) {
		if (*s > 0x20 && *s < 0x7f)
			tmp[n++] = *s;
	}
	return n ? z_str(z, tmp, n) : NO_NAME;
}

/* ---- the TSV reader */

/*
 * Read a Zeek TSV log: for every data line, call row with the values of the
 * wanted columns (NULL when the column is missing or the value is unset).
 * row returns false for a line it cannot use; those are counted in *skipped.
 */
static void z_read_log(struct zgen *z, const char *path, const char *const *want, size_t nwant,
		       bool (*row)(struct zgen *, char **), uint64_t *rows, uint64_t *skipped)
{
	char *text, *p, *end;
	size_t len;
	int idx[32];
	bool have_fields = false;
	char empty[16] = "(empty)", unset[16] = "-";

	if (nwant > NG_ARRAY_LEN(idx))
		die("internal error: too many columns wanted");
	text = file_read_all(path, 1ULL << 32, &len);
	if (!text)
		die("cannot read %s: %s (give an existing Zeek TSV log)", path, strerror(errno));
	for (size_t i = 0; i < nwant; i++)
		idx[i] = -1;
	for (p = text, end = text + len; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *line = p, *f[Z_MAXCOL], *v[32];
		size_t nf = 0;

		if (!nl)
			nl = end;
		*nl = '\0';
		p = nl + 1;
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (line[0] == '\0')
			continue;
		/* Split at tabs. */
		for (char *q = line;;) {
			char *tab = strchr(q, '\t');

			if (nf < Z_MAXCOL)
				f[nf++] = q;
			if (!tab)
				break;
			*tab = '\0';
			q = tab + 1;
		}
		if (line[0] == '#') {
			if (strcmp(f[0], "#fields") == 0) {
				for (size_t i = 0; i < nwant; i++) {
					idx[i] = -1;
					for (size_t j = 1; j < nf; j++) {
						if (strcmp(f[j], want[i]) == 0)
							idx[i] = (int)j - 1;
					}
				}
				have_fields = true;
			} else if (strcmp(f[0], "#empty_field") == 0 && nf > 1) {
				snprintf(empty, sizeof empty, "%s", f[1]);
			} else if (strcmp(f[0], "#unset_field") == 0 && nf > 1) {
				snprintf(unset, sizeof unset, "%s", f[1]);
			}
			continue;
		}
		(*rows)++;
		if (!have_fields) {
			(*skipped)++;
			continue;
		}
		for (size_t i = 0; i < nwant; i++) {
			char *s = idx[i] >= 0 && (size_t)idx[i] < nf ? f[idx[i]] : NULL;

			v[i] = s && *s && strcmp(s, empty) != 0 && strcmp(s, unset) != 0 ? s : NULL;
		}
		if (!row(z, v))
			(*skipped)++;
	}
	free(text);
}

/* The conn.log columns, in the order conn_row reads them. */
static const char *const conn_cols[] = {
	"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
	"orig_bytes", "resp_bytes", "conn_state", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes",
};

/* Take one conn.log row. */
static bool conn_row(struct zgen *z, char **v)
{
	struct zconn c;

	memset(&c, 0, sizeof c);
	c.sni = NO_NAME;
	if (!z_time(v[0], &c.ts) || !v[2] || !v[4] || addr_parse(v[2], &c.o) < 0 || addr_parse(v[4], &c.r) < 0 ||
	    c.o.v != c.r.v || !z_port(v[3], &c.op) || !z_port(v[5], &c.rp) || !v[6])
		return false;
	z_uid(v[1], c.uid);
	if (strcmp(v[6], "tcp") == 0)
		c.proto = NG_PROTO_TCP;
	else if (strcmp(v[6], "udp") == 0)
		c.proto = NG_PROTO_UDP;
	else if (strcmp(v[6], "icmp") == 0)
		c.proto = c.o.v == 4 ? NG_PROTO_ICMP : NG_PROTO_ICMPV6;
	else
		return false;
	if (v[8] ? !z_time(v[8], &c.dur) : (c.dur = 0, false))
		return false;
	if (c.dur > 30 * DAY)
		c.dur = 30 * DAY;
	if (!z_count(v[9], UINT64_MAX, &c.pay[0]) || !z_count(v[10], UINT64_MAX, &c.pay[1]) ||
	    !z_count(v[12], 1, &c.pkts[0]) || !z_count(v[14], 0, &c.pkts[1]) ||
	    !z_count(v[13], c.pkts[0] * 40, &c.ipb[0]) || !z_count(v[15], c.pkts[1] * 40, &c.ipb[1]))
		return false;
	c.state = ZS_OTH;
	for (int i = 0; v[11] && i < ZS_COUNT; i++) {
		if (strcmp(v[11], zstate_names[i]) == 0)
			c.state = (uint8_t)i;
	}
	if (v[7] && strstr(v[7], "ssl"))
		c.tls = true;
	if (v[7] && strstr(v[7], "http"))
		c.is_http = true;
	if (c.proto == NG_PROTO_TCP && (c.rp == 443 || c.rp == 8443))
		c.tls = true;
	if (c.proto == NG_PROTO_TCP && c.rp == 80 && !c.tls)
		c.is_http = true;
	if (c.tls)
		c.is_http = false;
	z->conns = z_grow(z->conns, z->nconns, &z->capconns, sizeof *z->conns);
	z->conns[z->nconns++] = c;
	return true;
}

/* Order conns by uid (for joins). */
static int conn_uid_cmp(const void *a, const void *b)
{
	return strcmp(((const struct zconn *)a)->uid, ((const struct zconn *)b)->uid);
}

/* The conn with this uid, or NULL. */
static struct zconn *z_find(struct zgen *z, const char *uid)
{
	struct zconn key;

	if (!uid[0])
		return NULL;
	memcpy(key.uid, uid, Z_UID);
	return bsearch(&key, z->conns, z->nconns, sizeof *z->conns, conn_uid_cmp);
}

static const char *const ssl_cols[] = {"uid", "server_name"};

/* Take one ssl.log row: the joined conn is TLS, with this SNI. */
static bool ssl_row(struct zgen *z, char **v)
{
	char uid[Z_UID];
	struct zconn *c;

	if (!z_uid(v[0], uid))
		return false;
	c = z_find(z, uid);
	if (!c)
		return true;	/* a TLS session whose connection is not in conn.log: nothing to write */
	c->tls = true;
	c->is_http = false;
	if (v[1] && c->sni == NO_NAME) {
		c->sni = z_clean(z, v[1], 253);
		if (c->sni != NO_NAME)
			z->joined[1]++;
	}
	return true;
}

static const char *const http_cols[] = {"ts", "uid", "method", "host", "uri", "status_code"};

/* Take one http.log row. */
static bool http_row(struct zgen *z, char **v)
{
	struct zhttp h;
	uint64_t st = 200;

	memset(&h, 0, sizeof h);
	if (!z_time(v[0], &h.ts) || !z_uid(v[1], h.uid))
		return false;
	h.method = z_clean(z, v[2], 16);
	h.host = z_clean(z, v[3], 253);
	h.uri = z_clean(z, v[4], 1000);
	if (v[5] && parse_uint(v[5], 100, 599, &st) < 0)
		st = 200;
	h.status = (uint16_t)st;
	z->https = z_grow(z->https, z->nhttps, &z->caphttps, sizeof *z->https);
	z->https[z->nhttps++] = h;
	return true;
}

static const char *const dns_cols[] = {
	"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "trans_id", "rtt", "query",
	"qclass", "qtype", "rcode", "AA", "RD", "RA", "answers", "TTLs",
};

/* True when s is a name that fits DNS's wire form (RFC 1035 2.3.4): labels of 1..63 bytes, at most 253 in all. */
static bool dns_name_ok(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > 253)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (++label > 63 || *p <= 0x20 || *p >= 0x7f)
			return false;
	}
	return true;
}

/* Take one dns.log row. */
static bool dns_row(struct zgen *z, char **v)
{
	struct zdns d;
	uint64_t x;

	memset(&d, 0, sizeof d);
	d.answers = d.ttls = NO_NAME;
	if (!z_time(v[0], &d.ts) || !v[2] || !v[4] || addr_parse(v[2], &d.o) < 0 || addr_parse(v[4], &d.r) < 0 ||
	    d.o.v != d.r.v || !z_port(v[3], &d.op) || !z_port(v[5], &d.rp) || !v[9] || !dns_name_ok(v[9]))
		return false;
	if (!v[6] || strcmp(v[6], "udp") != 0)
		return false;	/* DNS over TCP would need its connection: conn.log has it */
	d.proto = NG_PROTO_UDP;
	z_uid(v[1], d.uid);
	if (!z_count(v[7], 0, &x) || x > 65535)
		return false;
	d.id = (uint16_t)x;
	d.rtt = -1;
	if (v[8] && !z_time(v[8], &d.rtt))
		return false;
	d.query = z_str(z, v[9], strlen(v[9]));
	if (!z_count(v[10], 1, &x) || x > 65535)
		return false;
	d.qclass = (uint16_t)x;
	if (!z_count(v[11], 1, &x) || x > 65535)
		return false;
	d.qtype = (uint16_t)x;
	d.rcode = -1;
	if (v[12]) {
		if (parse_uint(v[12], 0, 15, &x) < 0)
			return false;
		d.rcode = (int16_t)x;
	}
	d.aa = z_bool(v[13]);
	d.rd = z_bool(v[14]);
	d.ra = z_bool(v[15]);
	if (v[16])
		d.answers = z_str(z, v[16], strlen(v[16]));
	if (v[17])
		d.ttls = z_str(z, v[17], strlen(v[17]));
	z->dnss = z_grow(z->dnss, z->ndnss, &z->capdnss, sizeof *z->dnss);
	z->dnss[z->ndnss++] = d;
	return true;
}

/* ---- packets */

/* Ethernet address for ip: the local host, a multicast group (RFC 1112 6.4, RFC 2464 7), or the router. */
static void z_mac(const struct zgen *z, const ng_addr *a, uint8_t *mac)
{
	for (size_t i = 0; i < z->nlocal; i++) {
		if (addr_equal(&z->local[i], a)) {
			memcpy(mac, mac_local, 6);
			return;
		}
	}
	if (a->v == 4 && a->a[0] == 255 && a->a[1] == 255 && a->a[2] == 255 && a->a[3] == 255) {
		memset(mac, 0xff, 6);
	} else if (a->v == 4 && (a->a[0] & 0xf0) == 0xe0) {
		mac[0] = 0x01, mac[1] = 0x00, mac[2] = 0x5e;
		mac[3] = a->a[1] & 0x7f, mac[4] = a->a[2], mac[5] = a->a[3];
	} else if (a->v == 6 && a->a[0] == 0xff) {
		mac[0] = 0x33, mac[1] = 0x33;
		memcpy(mac + 2, a->a + 12, 4);
	} else
		memcpy(mac, mac_router, 6);
}

/*
 * Append one frame to the arena at time t: Ethernet, IPv4 (RFC 791) or IPv6
 * (RFC 8200), then l4len transport bytes from l4 with the checksum at
 * csum_off (-1: none; ICMPv4's covers no pseudo-header).
 */
static void z_frame(struct zgen *z, ng_time t, const ng_addr *src, const ng_addr *dst, uint8_t proto, uint16_t ipid,
		    const uint8_t *l4, size_t l4len, int csum_off)
{
	bool v4 = src->v == 4;
	size_t iphl = v4 ? 20 : 40, iplen = iphl + l4len, reclen = 16 + 14 + iplen;
	uint8_t *rec, *eth, *ip, *tp;
	struct zrec *r;

	if (z->dlen + reclen > z->dcap) {
		z->dcap = z->dcap ? 2 * z->dcap : (16u << 20);
		while (z->dlen + reclen > z->dcap)
			z->dcap *= 2;
		z->data = xrealloc(z->data, z->dcap);
	}
	rec = z->data + z->dlen;
	eth = rec + 16;
	ip = eth + 14;
	tp = ip + iphl;
	z_mac(z, dst, eth);
	z_mac(z, src, eth + 6);
	set16(eth + 12, v4 ? 0x0800 : 0x86dd);
	memcpy(tp, l4, l4len);
	if (v4) {
		ip[0] = 0x45;
		ip[1] = 0;
		set16(ip + 2, (unsigned)iplen);
		set16(ip + 4, ipid);
		set16(ip + 6, proto == NG_PROTO_TCP ? 0x4000 : 0);
		ip[8] = 64;
		ip[9] = proto;
		ip[10] = ip[11] = 0;
		memcpy(ip + 12, src->a, 4);
		memcpy(ip + 16, dst->a, 4);
		csum_store(ip + 10, csum_add(0, ip, 20), false);
	} else {
		set32(ip, 0x60000000u | ipid);
		set16(ip + 4, (unsigned)l4len);
		ip[6] = proto;
		ip[7] = proto == NG_PROTO_ICMPV6 ? 255 : 64;	/* NDP wants 255 (RFC 4861 7.1) */
		memcpy(ip + 8, src->a, 16);
		memcpy(ip + 24, dst->a, 16);
	}
	if (csum_off >= 0) {
		uint64_t sum = 0;
		uint8_t ph[40];

		tp[csum_off] = tp[csum_off + 1] = 0;
		if (v4 && proto != NG_PROTO_ICMP) {
			memcpy(ph, src->a, 4);
			memcpy(ph + 4, dst->a, 4);
			ph[8] = 0;
			ph[9] = proto;
			set16(ph + 10, (unsigned)l4len);
			sum = csum_add(0, ph, 12);
		} else if (!v4) {
			memcpy(ph, src->a, 16);
			memcpy(ph + 16, dst->a, 16);
			set32(ph + 32, (uint32_t)l4len);
			ph[36] = ph[37] = ph[38] = 0;
			ph[39] = proto;
			sum = csum_add(0, ph, 40);
		}
		csum_store(tp + csum_off, csum_add(sum, tp, l4len), proto == NG_PROTO_UDP);
	}
	setle32(rec, (uint32_t)(t / SEC));
	setle32(rec + 4, (uint32_t)(t % SEC));
	setle32(rec + 8, (uint32_t)(14 + iplen));
	setle32(rec + 12, (uint32_t)(14 + iplen));
	z->recs = z_grow(z->recs, z->nrecs, &z->caprecs, sizeof *z->recs);
	r = &z->recs[z->nrecs];
	r->t = t;
	r->order = z->nrecs;
	r->off = z->dlen;
	r->len = (uint32_t)reclen;
	z->nrecs++;
	z->dlen += reclen;
	z->written_ip += iplen;
}

/* TLS application-data records (RFC 8446 5.2) for bytes [off, off+len) of a run `total` bytes long. */
static void z_tls_fill(const struct zgen *z, uint8_t *p, uint64_t off, uint32_t len, uint64_t total)
{
	while (len > 0) {
		uint64_t rstart = off - off % TLS_REC;
		uint32_t rlen = (uint32_t)NG_MIN((uint64_t)TLS_REC, total - rstart);
		uint32_t pos = (uint32_t)(off - rstart), n;

		if (pos < 5) {
			uint8_t h[5] = {23, 3, 3, (uint8_t)((rlen - 5) >> 8), (uint8_t)(rlen - 5)};

			*p++ = h[pos];
			off++;
			len--;
			continue;
		}
		n = NG_MIN(len, rlen - pos);
		for (uint32_t i = 0; i < n; i++)
			p[i] = z->filler[(off + i) & FILLER_MASK];
		p += n;
		off += n;
		len -= n;
	}
}

/* Copy len bytes of stream s at its current offset into p and advance it. */
static void z_stream_take(const struct zgen *z, struct zstream *s, uint8_t *p, uint32_t len)
{
	while (len > 0 && s->off < s->plen) {
		*p++ = s->prefix[s->off++];
		len--;
	}
	if (len == 0)
		return;
	if (s->body == ZB_TLS)
		z_tls_fill(z, p, s->off - s->plen, len, s->total - s->plen);
	else
		memset(p, 0, len);	/* opaque: zeros, which no port-guessing dissector takes for a broken message */
	s->off += len;
}

/* Make a TLS body length valid: no record shorter than its header plus one byte. */
static uint64_t z_tls_total(uint64_t n)
{
	uint64_t tail = n % TLS_REC;

	return tail && tail < 6 ? n + (6 - tail) : n;
}

/* Append text to a stream's prefix; false when it does not fit. */
static bool z_prefix_add(struct zstream *s, const char *text)
{
	size_t n = strlen(text);

	if (s->plen + n > sizeof s->prefix)
		return false;
	memcpy(s->prefix + s->plen, text, n);
	s->plen += (uint32_t)n;
	return true;
}

/* Decimal digits of v. */
static unsigned z_digits(uint64_t v)
{
	unsigned d = 1;

	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

/*
 * HTTP/1.1 messages (RFC 9112) for a stream that should be `want` bytes:
 * the requests (client) or responses (server) of conn c, the last one with a
 * Content-Length body that brings the stream to `want` bytes. Returns the
 * stream's total length.
 */
static uint64_t z_http_prefix(struct zgen *z, const struct zconn *c, struct zstream *s, int dir, uint64_t want)
{
	char line[1400], host[NG_ADDRSTRLEN];
	uint32_t n = NG_MAX(c->nhttp, 1u), done = 0;
	uint64_t body = 0;

	s->plen = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct zhttp *h = c->nhttp ? &z->https[c->http + i] : NULL;
		const char *hn = h ? z_get(z, h->host) : NULL;
		bool last = i + 1 == n;
		unsigned st = h ? h->status : 200;
		size_t base;
		int len;

		if (st < 200 || st == 204 || st == 304)
			st = 200;	/* these never carry a body (RFC 9110 6.4.1) */
		if (!hn)
			hn = addr_format(&c->r, host, sizeof host);
		if (dir == 0)
			len = snprintf(line, sizeof line, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: pcapgen\r\n",
				       h && z_get(z, h->method) ? z_get(z, h->method) : "GET",
				       h && z_get(z, h->uri) && z_get(z, h->uri)[0] == '/' ? z_get(z, h->uri) : "/", hn);
		else
			len = snprintf(line, sizeof line, "HTTP/1.1 %u %s\r\nServer: pcapgen\r\n", st, st < 400 ? "OK" : "Error");
		if (len < 0 || (size_t)len >= sizeof line)
			continue;
		base = s->plen + (size_t)len + 2;
		if (!last || dir == 0) {
			/* Requests without a body, and every response but the last, end here (or with a zero length). */
			if (last && want > base + 20) {
				unsigned d = z_digits(want - base);

				body = want - base - 18 - d;	/* "Content-Length: " + digits + CRLF */
				if (z_digits(body) != d)
					body = want - base - 18 - z_digits(body);
				snprintf(line + len, sizeof line - (size_t)len, "Content-Length: %llu\r\n\r\n",
					 (unsigned long long)body);
			} else
				snprintf(line + len, sizeof line - (size_t)len, "%s\r\n", dir ? "Content-Length: 0\r\n" : "");
		} else {
			uint64_t avail = want > base + 18 ? want - base - 18 : 0;
			unsigned d = z_digits(avail);

			body = avail > d ? avail - d : 0;
			if (body && z_digits(body) != d)
				body = avail - z_digits(body);
			snprintf(line + len, sizeof line - (size_t)len, "Content-Length: %llu\r\n\r\n", (unsigned long long)body);
		}
		if (!z_prefix_add(s, line))
			break;
		done++;
	}
	(void)done;
	return s->plen + body;
}

/* Queue one event of a connection's script. */
static void z_ev(struct zgen *z, int dir, uint8_t flags, uint32_t len)
{
	z->evs = z_grow(z->evs, z->nevs, &z->capevs, sizeof *z->evs);
	z->evs[z->nevs].dir = (uint8_t)dir;
	z->evs[z->nevs].flags = flags;
	z->evs[z->nevs].len = len;
	z->nevs++;
}

/* The time of event i of n in a connection starting at ts lasting dur (at least 1 us apart). */
static ng_time z_ev_time(ng_time ts, ng_time dur, size_t i, size_t n, ng_time prev)
{
	ng_time t = n > 1 ? ts + (ng_time)muldiv((uint64_t)dur, i, n - 1) : ts;

	return i > 0 && t <= prev ? prev + 1 : t;
}

/*
 * Plan one direction's data: how many segments and how many stream bytes,
 * from Zeek's counts (see ZEEK MODE above). ctl is the IP bytes of the
 * control packets this direction sends, nctl their number, hdr the IP and
 * transport header bytes of a data packet, mss the payload a packet holds.
 */
static void z_plan_dir(struct zgen *z, const struct zconn *c, int d, uint32_t nctl, uint64_t ctl, uint32_t hdr,
		       uint32_t mss, uint32_t minlen, uint32_t *k, uint64_t *len)
{
	uint64_t P = c->pkts[d], B = c->ipb[d], spare = P > nctl ? P - nctl : 0;
	uint64_t maxk = NG_MAX(z->byte_limit / Z_MTU, 1), kk, need, s;

	*k = 0;
	*len = 0;
	if (c->pay[d] == 0 && minlen == 0)
		return;
	if (c->pay[d] == UINT64_MAX && B <= ctl + spare * hdr && minlen == 0)
		return;		/* no payload count and the IP bytes are all headers */
	kk = NG_MIN(NG_MAX(spare, 1), z->cap);
	s = B > ctl + kk * hdr ? B - ctl - kk * hdr : 1;
	if (s > kk * mss) {
		need = (s + mss - 1) / mss;
		kk = NG_MIN(need, NG_MAX(maxk, kk));
		s = B > ctl + kk * hdr ? B - ctl - kk * hdr : 1;
		if (s > kk * mss) {
			z->bytes_capped++;
			s = kk * mss;
		}
	}
	if (s < minlen) {
		s = minlen;
		kk = NG_MAX(kk, (s + mss - 1) / mss);
	}
	*k = (uint32_t)kk;
	*len = s;
}

/* Split len bytes into k segments of at most mss: segment i's size. */
static uint32_t z_seg(uint64_t len, uint32_t k, uint32_t i)
{
	return (uint32_t)(len / k + (i < len % k ? 1 : 0));
}

/* Write a TCP connection (RFC 9293) by its conn_state. */
static void z_tcp_conn(struct zgen *z, const struct zconn *c)
{
	bool v4 = c->o.v == 4;
	uint32_t iph = v4 ? 20 : 40, hdr = iph + 20, mss = Z_MTU - hdr, k[2] = {0, 0}, nctl[2] = {0, 0};
	uint64_t len[2] = {0, 0}, ctl[2] = {0, 0};
	uint32_t nxt[2], synk;
	uint16_t ipid[2];
	uint8_t st = c->state, seg[Z_MTU];
	bool data = st == ZS_S1 || st == ZS_SF || st == ZS_S2 || st == ZS_S3 || st == ZS_RSTO || st == ZS_RSTR ||
		    st == ZS_OTH;
	struct zstream *s = z->st;
	ng_time t = 0;

	z->nevs = 0;
	synk = (uint32_t)NG_MIN(NG_MAX(c->pkts[0], 1), z->cap);
	switch (st) {
	case ZS_S0:
	case ZS_REJ:
		for (uint32_t i = 0; i < synk; i++)
			z_ev(z, 0, 0x02, 0);
		if (st == ZS_REJ)
			z_ev(z, 1, 0x14, 0);
		break;
	case ZS_RSTOS0:
		for (uint32_t i = 0; i + 1 < NG_MAX(synk, 2u); i++)
			z_ev(z, 0, 0x02, 0);
		z_ev(z, 0, 0x04, 0);
		break;
	case ZS_RSTRH:
		z_ev(z, 1, 0x12, 0);
		z_ev(z, 1, 0x04, 0);
		break;
	case ZS_SH:
		z_ev(z, 0, 0x02, 0);
		z_ev(z, 0, 0x01, 0);
		break;
	case ZS_SHR:
		z_ev(z, 1, 0x12, 0);
		z_ev(z, 1, 0x11, 0);
		break;
	default:
		break;
	}
	if (data) {
		uint32_t minlen[2] = {0, 0};

		/* Control packets each side sends, by state: SYN (28-byte header with options), ACK, FIN/RST. */
		if (st != ZS_OTH) {
			nctl[0] = 2, ctl[0] = (iph + 28) + hdr;
			nctl[1] = 1, ctl[1] = iph + 28;
		}
		if (st == ZS_SF)
			nctl[0]++, ctl[0] += hdr, nctl[1]++, ctl[1] += hdr, nctl[0]++, ctl[0] += hdr;
		if (st == ZS_S2 || st == ZS_RSTO)
			nctl[0]++, ctl[0] += hdr;
		if (st == ZS_S3 || st == ZS_RSTR)
			nctl[1]++, ctl[1] += hdr;
		for (int d = 0; d < 2; d++) {
			s[d].plen = 0;
			s[d].off = 0;
			s[d].body = c->tls ? ZB_TLS : c->is_http ? ZB_HTTP : ZB_RAW;
		}
		if (c->tls && st != ZS_OTH) {
			struct buf b = {s[0].prefix, 0, sizeof s[0].prefix};
			struct buf b2 = {s[1].prefix, 0, sizeof s[1].prefix};

			tls_client_hello(&b, &z->rng, z_get(z, c->sni), false);
			s[0].plen = (uint32_t)b.len;
			tls_server_hello(&b2, &z->rng);
			s[1].plen = (uint32_t)b2.len;
			minlen[0] = s[0].plen;
		} else if (c->is_http && st != ZS_OTH) {
			minlen[0] = (uint32_t)z_http_prefix(z, c, &s[0], 0, 0);
		}
		for (int d = 0; d < 2; d++) {
			z_plan_dir(z, c, d, nctl[d], ctl[d], hdr, mss, minlen[d], &k[d], &len[d]);
			if (!k[d]) {
				s[d].plen = 0;
				continue;
			}
			if (s[d].body == ZB_HTTP && st != ZS_OTH)
				len[d] = z_http_prefix(z, c, &s[d], d, len[d]);
			else if (s[d].body == ZB_TLS)
				len[d] = s[d].plen + z_tls_total(len[d] > s[d].plen ? len[d] - s[d].plen : 6);
			if (s[d].body == ZB_HTTP && st == ZS_OTH)
				s[d].body = ZB_RAW;
			len[d] = NG_MAX(len[d], (uint64_t)s[d].plen);
			k[d] = NG_MAX(k[d], (uint32_t)((len[d] + mss - 1) / mss));
			s[d].total = len[d];
		}
		if (st != ZS_OTH) {
			z_ev(z, 0, 0x02, 0);
			z_ev(z, 1, 0x12, 0);
			z_ev(z, 0, 0x10, 0);
		}
		{
			/* Mid-stream (OTH): the counted packets beyond the data are pure ACKs, in turn with the data. */
			uint32_t n[2];

			for (int d = 0; d < 2; d++)
				n[d] = st == ZS_OTH ? NG_MAX(k[d], (uint32_t)NG_MIN(c->pkts[d], (uint64_t)z->cap)) : k[d];
			if (st == ZS_OTH && n[0] + n[1] == 0)
				n[0] = 1;	/* a row with no packet counted still gets one, so it is in the capture */
			for (uint32_t i = 0; i < NG_MAX(n[0], n[1]); i++) {
				for (int d = 0; d < 2; d++) {
					if (i < k[d])
						z_ev(z, d, 0x18, z_seg(len[d], k[d], i));
					else if (i < n[d])
						z_ev(z, d, 0x10, 0);
				}
			}
		}
		switch (st) {
		case ZS_SF:
			z_ev(z, 0, 0x11, 0);
			z_ev(z, 1, 0x11, 0);
			z_ev(z, 0, 0x10, 0);
			break;
		case ZS_S2:
			z_ev(z, 0, 0x11, 0);
			break;
		case ZS_S3:
			z_ev(z, 1, 0x11, 0);
			break;
		case ZS_RSTO:
			z_ev(z, 0, 0x14, 0);
			break;
		case ZS_RSTR:
			z_ev(z, 1, 0x14, 0);
			break;
		default:
			break;
		}
	}
	nxt[0] = (uint32_t)rng_next(&z->rng);
	nxt[1] = (uint32_t)rng_next(&z->rng);
	ipid[0] = (uint16_t)rng_next(&z->rng);
	ipid[1] = (uint16_t)rng_next(&z->rng);
	for (size_t i = 0; i < z->nevs; i++) {
		const struct zev *e = &z->evs[i];
		int d = e->dir;
		size_t o = 20;

		t = z_ev_time(c->ts, c->dur, i, z->nevs, t);
		memset(seg, 0, 24);
		set16(seg, d ? c->rp : c->op);
		set16(seg + 2, d ? c->op : c->rp);
		if ((e->flags & 0x02) && i > 0 && z->evs[i - 1].dir == d && (z->evs[i - 1].flags & 0x02))
			nxt[d]--;	/* a retransmitted SYN has the same sequence number */
		set32(seg + 4, nxt[d]);
		set32(seg + 8, (e->flags & 0x10) ? nxt[!d] : 0);
		seg[13] = e->flags;
		set16(seg + 14, 64240);
		if (e->flags & 0x02) {	/* MSS, NOP, window scale 8 (RFC 7323): bulk data never fills the window */
			seg[20] = 2, seg[21] = 4;
			set16(seg + 22, mss);
			seg[24] = 1, seg[25] = 3, seg[26] = 3, seg[27] = 8;
			o = 28;
		}
		seg[12] = (uint8_t)((o / 4) << 4);
		if (e->len)
			z_stream_take(z, &z->st[d], seg + o, e->len);
		nxt[d] += e->len + ((e->flags & 0x03) ? 1 : 0);
		z_frame(z, t, d ? &c->r : &c->o, d ? &c->o : &c->r, NG_PROTO_TCP, ipid[d]++, seg, o + e->len, 16);
	}
}

/*
 * The payload of a datagram of conn c from side d, pl bytes (returns the
 * length used): zeros, which port-guessing dissectors take for nothing
 * broken, except where a well-known port's dissector needs a header: NTP
 * (RFC 5905: at least 48 bytes, version 4, client/server mode) and CoAP
 * (RFC 7252: version 1, a method or response code, then the payload marker).
 */
static uint32_t z_udp_payload(const struct zconn *c, int d, uint8_t *p, uint32_t pl)
{
	uint16_t port = c->rp;

	if (port == 123 || c->op == 123) {
		pl = NG_MAX(pl, 48u);
		memset(p, 0, pl);
		p[0] = d ? 0x24 : 0x23;
		return pl;
	}
	memset(p, 0, pl);
	if (port == 5683 && pl >= 4) {
		p[0] = 0x50;
		p[1] = d ? 0x45 : 0x01;
		if (pl == 5)
			pl = 4;
		if (pl > 5)
			p[4] = 0xff;
	}
	return pl;
}

/* UDP datagrams (RFC 768) of a connection: both sides alternate, as counted (capped), sized by the IP bytes. */
static void z_udp_conn(struct zgen *z, const struct zconn *c)
{
	uint32_t hdr = (c->o.v == 4 ? 20 : 40) + 8, k[2];
	uint8_t dg[Z_MTU];
	uint16_t ipid[2] = {(uint16_t)rng_next(&z->rng), (uint16_t)rng_next(&z->rng)};
	uint64_t len[2];
	ng_time t = 0;
	size_t n = 0, i = 0;

	for (int d = 0; d < 2; d++) {
		uint64_t maxk = NG_MAX(z->byte_limit / Z_MTU, 1), need;

		k[d] = (uint32_t)NG_MIN(c->pkts[d], (uint64_t)z->cap);
		len[d] = c->ipb[d] > c->pkts[d] * hdr ? c->ipb[d] - k[d] * hdr : 0;
		if (k[d] && len[d] > (uint64_t)k[d] * (Z_MTU - hdr)) {
			need = (len[d] + Z_MTU - hdr - 1) / (Z_MTU - hdr);
			k[d] = (uint32_t)NG_MIN(need, NG_MAX(maxk, (uint64_t)k[d]));
			len[d] = c->ipb[d] > (uint64_t)k[d] * hdr ? c->ipb[d] - (uint64_t)k[d] * hdr : 0;
			if (len[d] > (uint64_t)k[d] * (Z_MTU - hdr)) {
				len[d] = (uint64_t)k[d] * (Z_MTU - hdr);
				z->bytes_capped++;
			}
		}
		n += k[d];
	}
	if (n == 0)
		k[0] = 1, n = 1;	/* a row with no packet counted still gets one, so it is in the capture */
	for (uint32_t j = 0; j < NG_MAX(k[0], k[1]); j++) {
		for (int d = 0; d < 2; d++) {
			uint32_t pl;

			if (j >= k[d])
				continue;
			pl = z_seg(len[d], k[d], j);
			t = z_ev_time(c->ts, c->dur, i++, n, t);
			set16(dg, d ? c->rp : c->op);
			set16(dg + 2, d ? c->op : c->rp);
			pl = z_udp_payload(c, d, dg + 8, pl);
			set16(dg + 4, 8 + pl);
			z_frame(z, t, d ? &c->r : &c->o, d ? &c->o : &c->r, NG_PROTO_UDP, ipid[d]++, dg, 8 + pl, 6);
		}
	}
}

/* Zeek's ICMP counterpart of a type (its ICMP4_counterpart/ICMP6_counterpart), or -1 for a one-way type. */
static int z_icmp_counterpart(bool v6, int type)
{
	static const int pairs4[][2] = {{8, 0}, {0, 8}, {13, 14}, {14, 13}, {15, 16}, {16, 15}, {10, 9}, {9, 10},
					{17, 18}, {18, 17}};
	static const int pairs6[][2] = {{128, 129}, {129, 128}, {133, 134}, {134, 133}, {135, 136}, {136, 135},
					{130, 131}, {131, 130}, {139, 140}, {140, 139}, {144, 145}, {145, 144}};

	if (!v6) {
		for (size_t i = 0; i < NG_ARRAY_LEN(pairs4); i++)
			if (pairs4[i][0] == type)
				return pairs4[i][1];
	} else {
		for (size_t i = 0; i < NG_ARRAY_LEN(pairs6); i++)
			if (pairs6[i][0] == type)
				return pairs6[i][1];
	}
	return -1;
}

/*
 * One ICMP message (RFC 792, RFC 4443) of the given type/code from src to
 * dst into m; returns its length (at least the type's fixed body, else
 * `want` bytes).
 */
static size_t z_icmp_body(bool v6, int type, int code, const ng_addr *src, const ng_addr *dst, uint16_t id,
			  uint16_t seq, size_t want, uint8_t *m)
{
	size_t n = 8;

	memset(m, 0, Z_MTU);
	m[0] = (uint8_t)type;
	m[1] = (uint8_t)code;
	if ((!v6 && (type == 0 || type == 8)) || (v6 && (type == 128 || type == 129))) {
		set16(m + 4, id);
		set16(m + 6, seq);
		n = NG_MAX(want, (size_t)8);
		for (size_t i = 8; i < n; i++)
			m[i] = (uint8_t)(0x10 + i % 48);	/* like ping's pattern */
		return n;
	}
	if (!v6 && (type == 3 || type == 4 || type == 5 || type == 11 || type == 12)) {
		/* An error quotes the IP header and 8 bytes of the datagram that caused it (RFC 792). */
		uint8_t *ip = m + 8;

		ip[0] = 0x45;
		set16(ip + 2, 28);
		ip[8] = 64;
		ip[9] = NG_PROTO_UDP;
		memcpy(ip + 12, dst->a, 4);
		memcpy(ip + 16, src->a, 4);
		csum_store(ip + 10, csum_add(0, ip, 20), false);
		set16(ip + 20, 40000);
		set16(ip + 22, 33434);
		set16(ip + 24, 8);
		return 36;
	}
	if (v6 && type >= 1 && type <= 4) {
		uint8_t *ip = m + 8;

		set32(ip, 0x60000000u);
		set16(ip + 4, 8);
		ip[6] = NG_PROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, dst->a, 16);
		memcpy(ip + 24, src->a, 16);
		set16(ip + 40, 40000);
		set16(ip + 42, 33434);
		set16(ip + 44, 8);
		return 56;
	}
	if (v6) {
		switch (type) {
		case 130: case 131: case 132:	/* MLD (RFC 2710): delay, reserved, multicast address */
			memcpy(m + 8, dst->a, 16);
			return 24;
		case 133:			/* router solicitation (RFC 4861 4.1) */
			return 8;
		case 134:			/* router advertisement: hop limit, flags, lifetime, reachable, retrans */
			m[4] = 64;
			return 16;
		case 135: case 136:		/* neighbour solicitation / advertisement: target */
			memcpy(m + 8, type == 135 ? dst->a : src->a, 16);
			if (type == 136)
				m[4] = 0x60;
			return 24;
		default:
			return 8;
		}
	}
	return NG_MAX(want, (size_t)8);
}

/* ICMP packets of a connection: requests of Zeek's type, answers of its counterpart. */
static void z_icmp_conn(struct zgen *z, const struct zconn *c)
{
	bool v6 = c->o.v == 6;
	int otype = c->op, cp = z_icmp_counterpart(v6, otype), ocode = cp < 0 ? c->rp : 0;
	uint32_t hdr = v6 ? 40 : 20, k[2];
	uint16_t id = (uint16_t)rng_next(&z->rng), ipid[2] = {(uint16_t)rng_next(&z->rng), (uint16_t)rng_next(&z->rng)};
	uint8_t m[Z_MTU];
	ng_time t = 0;
	size_t n, i = 0;

	k[0] = (uint32_t)NG_MIN(c->pkts[0], (uint64_t)z->cap);
	k[1] = (uint32_t)NG_MIN(c->pkts[1], (uint64_t)z->cap);
	if (k[0] + k[1] == 0)
		k[0] = 1;	/* a row with no packet counted still gets one */
	n = k[0] + k[1];
	for (uint32_t j = 0; j < NG_MAX(k[0], k[1]); j++) {
		for (int d = 0; d < 2; d++) {
			const ng_addr *src = d ? &c->r : &c->o, *dst = d ? &c->o : &c->r;
			uint64_t per = c->pkts[d] ? c->ipb[d] / c->pkts[d] : 0;
			size_t want = per > hdr ? (size_t)NG_MIN(per - hdr, (uint64_t)(Z_MTU - hdr)) : 8, ml;

			if (j >= k[d])
				continue;
			ml = z_icmp_body(v6, d ? (cp < 0 ? otype : cp) : otype, d ? 0 : ocode, src, dst, id,
					 (uint16_t)(j + 1), want, m);
			t = z_ev_time(c->ts, c->dur, i++, n, t);
			z_frame(z, t, src, dst, v6 ? NG_PROTO_ICMPV6 : NG_PROTO_ICMP, ipid[d]++, m, ml, 2);
		}
	}
}

/* Append a DNS name in label form (RFC 1035 3.1); false when it is not one. */
static bool z_dns_name(struct buf *b, const char *name)
{
	if (!dns_name_ok(name) || b->len + strlen(name) + 2 > b->cap)
		return false;
	if (strcmp(name, ".") != 0)
		dns_put_name(b, name);
	else
		put8(b, 0);
	return true;
}

/* Write one dns.log row: its query and, when it has an rcode, its response (RFC 1035 4.1). */
static void z_dns_row(struct zgen *z, const struct zdns *d, ng_time qt, ng_time rt)
{
	uint8_t m[Z_MTU], *msg = m + 8;
	struct buf b = {msg, 0, Z_MTU - 48 - 8};
	const char *q = z_get(z, d->query), *ans = z_get(z, d->answers), *ttls = z_get(z, d->ttls);
	size_t qend, ancount_at;
	unsigned nans = 0;
	char owner[256];

	put16(&b, d->id);
	put16(&b, d->rd ? 0x0100 : 0);
	put16(&b, 1);
	put16(&b, 0);
	put16(&b, 0);
	put16(&b, 0);
	if (!z_dns_name(&b, q))
		return;
	put16(&b, d->qtype);
	put16(&b, d->qclass);
	qend = b.len;
	set16(m, d->op);
	set16(m + 2, d->rp);
	set16(m + 4, (unsigned)(8 + b.len));
	z_frame(z, qt, &d->o, &d->r, NG_PROTO_UDP, d->id, m, 8 + b.len, 6);
	if (d->rcode < 0)
		return;
	b.len = 0;
	put16(&b, d->id);
	put16(&b, 0x8000 | (d->aa ? 0x0400 : 0) | (d->rd ? 0x0100 : 0) | (d->ra ? 0x0080 : 0) | (unsigned)d->rcode);
	b.len = qend;
	ancount_at = 6;
	snprintf(owner, sizeof owner, "%s", q);
	/* Answers: Zeek lists them comma-separated, with the TTLs in the same order. */
	for (const char *a = ans, *tt = ttls; a && *a;) {
		const char *comma = strchr(a, ',');
		size_t n = comma ? (size_t)(comma - a) : strlen(a);
		char one[256];
		uint64_t ttl = 60;
		ng_addr ip;
		size_t save = b.len;

		if (tt) {
			ng_time tv;
			const char *tc = strchr(tt, ',');
			char tbuf[32];
			size_t tn = tc ? (size_t)(tc - tt) : strlen(tt);

			if (tn < sizeof tbuf) {
				memcpy(tbuf, tt, tn);
				tbuf[tn] = '\0';
				if (z_time(tbuf, &tv))
					ttl = (uint64_t)(tv / SEC);
			}
			tt = tc ? tc + 1 : NULL;
		}
		a = comma ? comma + 1 : a + n;
		if (n == 0 || n >= sizeof one)
			continue;
		memcpy(one, a - n - (comma ? 1 : 0), n);
		one[n] = '\0';
		if (b.len + 300 > b.cap)
			break;
		if (!z_dns_name(&b, owner)) {
			b.len = save;
			break;
		}
		if (addr_parse(one, &ip) == 0) {
			put16(&b, ip.v == 4 ? 1 : 28);
			put16(&b, d->qclass);
			put32(&b, (uint32_t)NG_MIN(ttl, (uint64_t)INT32_MAX));
			put16(&b, ip.v == 4 ? 4 : 16);
			putmem(&b, ip.a, ip.v == 4 ? 4 : 16);
		} else if (dns_name_ok(one)) {
			size_t rdl;

			put16(&b, d->qtype == 12 ? 12 : 5);	/* PTR for a reverse lookup, else CNAME */
			put16(&b, d->qclass);
			put32(&b, (uint32_t)NG_MIN(ttl, (uint64_t)INT32_MAX));
			rdl = b.len;
			put16(&b, 0);
			z_dns_name(&b, one);
			set16(b.p + rdl, (unsigned)(b.len - rdl - 2));
			if (d->qtype != 12)
				snprintf(owner, sizeof owner, "%s", one);
		} else {
			b.len = save;	/* TXT and other rdata Zeek prints as text: left out */
			continue;
		}
		nans++;
	}
	set16(msg + ancount_at, nans);
	set16(m, d->rp);
	set16(m + 2, d->op);
	set16(m + 4, (unsigned)(8 + b.len));
	z_frame(z, rt, &d->r, &d->o, NG_PROTO_UDP, (uint16_t)(d->id + 1), m, 8 + b.len, 6);
}

/* Order records by time, then by creation. */
static int zrec_cmp(const void *a, const void *b)
{
	const struct zrec *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* qsort that accepts an empty (NULL) array: qsort's arguments must never be NULL, even for no rows. */
static void sort_rows(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* Sort the records and write them as a classic pcap (microseconds) of link type z->dlt. */
static void z_write(struct zgen *z)
{
	FILE *f = strcmp(z->out_path, "-") == 0 ? stdout : fopen(z->out_path, "wb");
	uint8_t h[24];

	if (!f)
		die("cannot create %s: %s", z->out_path, strerror(errno));
	sort_rows(z->recs, z->nrecs, sizeof *z->recs, zrec_cmp);
	setle32(h, 0xa1b2c3d4);
	h[4] = 2, h[5] = 0, h[6] = 4, h[7] = 0;
	memset(h + 8, 0, 8);
	setle32(h + 16, z->snaplen);
	setle32(h + 20, (uint32_t)z->dlt);
	if (fwrite(h, 1, sizeof h, f) != sizeof h)
		die("cannot write %s: %s", z->out_path, strerror(errno));
	for (size_t i = 0; i < z->nrecs; i++) {
		if (fwrite(z->data + z->recs[i].off, 1, z->recs[i].len, f) != z->recs[i].len)
			die("cannot write %s: %s", z->out_path, strerror(errno));
	}
	if (f == stdout ? fflush(f) != 0 : fclose(f) != 0)
		die("cannot write %s: %s", z->out_path, strerror(errno));
}

/* Order http rows by uid, then time. */
static int zhttp_cmp(const void *a, const void *b)
{
	const struct zhttp *x = a, *y = b;
	int c = strcmp(x->uid, y->uid);

	return c ? c : (x->ts > y->ts) - (x->ts < y->ts);
}

/* Order dns rows by time (stable on the rest: uid). */
static int zdns_cmp(const void *a, const void *b)
{
	const struct zdns *x = a, *y = b;
	int c = (x->ts > y->ts) - (x->ts < y->ts);

	return c ? c : strcmp(x->uid, y->uid);
}

/* Join http rows to their conns (by uid). */
static void z_join_http(struct zgen *z)
{
	sort_rows(z->https, z->nhttps, sizeof *z->https, zhttp_cmp);
	for (size_t i = 0; i < z->nhttps;) {
		size_t j = i;
		struct zconn *c;

		while (j < z->nhttps && strcmp(z->https[j].uid, z->https[i].uid) == 0)
			j++;
		c = z_find(z, z->https[i].uid);
		if (c && c->proto == NG_PROTO_TCP && !c->tls) {
			c->http = (uint32_t)i;
			c->nhttp = (uint32_t)NG_MIN(j - i, (size_t)8);
			c->is_http = true;
			z->joined[3] += j - i;
		}
		i = j;
	}
}

/* Take one inferred local address. */
static void z_local_cb(void *arg, const ng_cidr *c)
{
	struct zgen *z = arg;

	if (z->nlocal < Z_MAXLOCAL)
		z->local[z->nlocal++] = c->base;
}

/* Pick the local host for MAC addresses: the address in the most conn rows, per IP version. */
static void z_infer_local(struct zgen *z)
{
	struct local_infer *li;
	struct local_set *ls;
	struct pkt p;
	char desc[256];

	if (z->nlocal)
		return;
	/* Count rows, not packets: feed each conn's ends once, as the daemon's busiest-address rule would. */
	li = local_infer_create();
	for (size_t i = 0; i < z->nconns; i++) {
		memset(&p, 0, sizeof p);
		p.src = z->conns[i].o;
		p.dst = z->conns[i].r;
		p.proto = z->conns[i].proto;
		p.sport = z->conns[i].op;
		p.dport = z->conns[i].rp;
		local_infer_packet(li, &p);
	}
	ls = local_set_create();
	local_infer_finish(li, ls, desc, sizeof desc);
	local_infer_destroy(li);
	z->nlocal = 0;
	local_set_foreach(ls, z_local_cb, z);
	local_set_destroy(ls);
}

/* Write every conn and dns row of z as packets, then the sorted capture. */
static void z_build(struct zgen *z)
{
	size_t i;

	sort_rows(z->dnss, z->ndnss, sizeof *z->dnss, zdns_cmp);
	for (i = 0; i < z->ndnss; i++) {
		struct zconn *c = z_find(z, z->dnss[i].uid);

		if (c && c->proto == NG_PROTO_UDP)
			c->has_dns = true;
	}
	for (i = 0; i < z->nconns; i++) {
		const struct zconn *c = &z->conns[i];

		if (c->proto == NG_PROTO_TCP)
			z_tcp_conn(z, c);
		else if (c->proto == NG_PROTO_UDP && !c->has_dns)
			z_udp_conn(z, c);
		else if (c->proto == NG_PROTO_ICMP || c->proto == NG_PROTO_ICMPV6)
			z_icmp_conn(z, c);
	}
	for (i = 0; i < z->ndnss; i++) {
		const struct zdns *d = &z->dnss[i];
		struct zconn *c = z_find(z, d->uid);
		ng_time qt = d->ts, rtt = d->rtt;

		/* The first query of a connection opens it at the connection's own start. */
		if (c && c->has_dns && c->ts < qt && (i == 0 || strcmp(z->dnss[i - 1].uid, d->uid) != 0))
			qt = c->ts;
		if (rtt < 0)
			rtt = c && c->dur > 0 ? c->dur : 100;
		z_dns_row(z, d, qt, qt + NG_MAX(rtt, (ng_time)1));
	}
	z_write(z);
}

/* Free z and everything it holds. */
static void z_free(struct zgen *z)
{
	free(z->conns);
	free(z->https);
	free(z->dnss);
	free(z->strs);
	free(z->recs);
	free(z->data);
	free(z->evs);
	free(z);
}

/* A new generator with the defaults. */
static struct zgen *z_new(uint64_t seed)
{
	struct zgen *z = xcalloc(1, sizeof *z);
	struct rng fr = {seed ^ 0x66696c6c6572ULL};

	z->cap = 4;
	z->byte_limit = 1u << 20;
	z->snaplen = SNAPLEN_DEFAULT;
	z->dlt = 1;
	z->rng.s = seed;
	rng_bytes(&fr, z->filler, sizeof z->filler);
	return z;
}

/* Add a --local address. */
static void z_add_local(struct zgen *z, const char *s)
{
	if (z->nlocal == Z_MAXLOCAL)
		die("too many --local addresses (at most %d)", Z_MAXLOCAL);
	if (addr_parse(s, &z->local[z->nlocal]) < 0)
		die("bad --local %s (an IPv4 or IPv6 address)", s);
	z->nlocal++;
}

/* Print how a run went (rows read, skipped, joined; packets written). */
static void z_report(const struct zgen *z, const char *what)
{
	char a[NG_ADDRSTRLEN];

	if (z->quiet)
		return;
	fprintf(stderr, "pcapgen %s: conn %llu rows (%llu skipped), ssl %llu (%llu skipped, %llu SNI joined), "
		"dns %llu (%llu skipped), http %llu (%llu skipped, %llu joined); %zu packets, %llu IP bytes, "
		"%llu directions' bytes capped; local %s\n", what,
		(unsigned long long)z->rows[0], (unsigned long long)z->skipped[0], (unsigned long long)z->rows[1],
		(unsigned long long)z->skipped[1], (unsigned long long)z->joined[1], (unsigned long long)z->rows[2],
		(unsigned long long)z->skipped[2], (unsigned long long)z->rows[3], (unsigned long long)z->skipped[3],
		(unsigned long long)z->joined[3], z->nrecs, (unsigned long long)z->written_ip,
		(unsigned long long)z->bytes_capped, z->nlocal ? addr_format(&z->local[0], a, sizeof a) : "none");
}

/* `pcapgen zeek`: parse its options, read the logs, write the capture. */
static int main_zeek(int argc, char **argv)
{
	enum { O_CONN = 256, O_SSL, O_DNS, O_HTTP, O_CAP, O_LIMIT, O_LOCAL, O_SEED };
	static const struct option opts[] = {
		{"conn", required_argument, NULL, O_CONN}, {"ssl", required_argument, NULL, O_SSL},
		{"dns", required_argument, NULL, O_DNS}, {"http", required_argument, NULL, O_HTTP},
		{"cap", required_argument, NULL, O_CAP}, {"byte-limit", required_argument, NULL, O_LIMIT},
		{"local", required_argument, NULL, O_LOCAL}, {"seed", required_argument, NULL, O_SEED},
		{"output", required_argument, NULL, 'o'}, {"quiet", no_argument, NULL, 'q'}, {NULL, 0, NULL, 0},
	};
	struct zgen *z = z_new(1);
	int c;

	while ((c = getopt_long(argc, argv, "o:q", opts, NULL)) != -1) {
		switch (c) {
		case O_CONN: z->conn_path = optarg; break;
		case O_SSL: z->ssl_path = optarg; break;
		case O_DNS: z->dns_path = optarg; break;
		case O_HTTP: z->http_path = optarg; break;
		case O_CAP: z->cap = (uint32_t)opt_uint("--cap", optarg, 1, 100000); break;
		case O_LIMIT: z->byte_limit = opt_uint("--byte-limit", optarg, 1500, 1ULL << 34); break;
		case O_LOCAL: z_add_local(z, optarg); break;
		case O_SEED: z->rng.s = opt_uint("--seed", optarg, 0, UINT64_MAX); break;
		case 'o': z->out_path = optarg; break;
		case 'q': z->quiet = true; break;
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc)
		die("unexpected argument %s (see pcapgen --help)", argv[optind]);
	if (!z->conn_path || !z->out_path)
		die("zeek mode needs --conn CONN.log and -o OUT.pcap");
	z_read_log(z, z->conn_path, conn_cols, NG_ARRAY_LEN(conn_cols), conn_row, &z->rows[0], &z->skipped[0]);
	sort_rows(z->conns, z->nconns, sizeof *z->conns, conn_uid_cmp);
	if (z->ssl_path)
		z_read_log(z, z->ssl_path, ssl_cols, NG_ARRAY_LEN(ssl_cols), ssl_row, &z->rows[1], &z->skipped[1]);
	if (z->http_path) {
		z_read_log(z, z->http_path, http_cols, NG_ARRAY_LEN(http_cols), http_row, &z->rows[3], &z->skipped[3]);
		z_join_http(z);
	}
	if (z->dns_path)
		z_read_log(z, z->dns_path, dns_cols, NG_ARRAY_LEN(dns_cols), dns_row, &z->rows[2], &z->skipped[2]);
	z_infer_local(z);
	z_build(z);
	z_report(z, "zeek");
	z_free(z);
	return 0;
}

/*
 * `pcapgen beacon`: a program on the local host that checks in with one
 * remote every --period seconds, +-(--jitter) percent uniform: TCP
 * handshake, a small request (a ClientHello with --name as SNI on 443, an
 * HTTP GET with Host: --name on 80, else opaque), a small response, FIN
 * both ways. With --name, each check-in is preceded by a DNS lookup of it
 * answered with --remote (--dns first: only before the first; --dns none:
 * never); without --name there is no lookup (a bare address, as some C2 do).
 */
static int main_beacon(int argc, char **argv)
{
	enum { O_REMOTE = 256, O_PORT, O_PERIOD, O_JITTER, O_COUNT, O_START, O_SEED, O_LOCAL, O_NAME, O_DNS,
	       O_RESOLVER, O_REQ, O_RESP };
	static const struct option opts[] = {
		{"remote", required_argument, NULL, O_REMOTE}, {"port", required_argument, NULL, O_PORT},
		{"period", required_argument, NULL, O_PERIOD}, {"jitter", required_argument, NULL, O_JITTER},
		{"count", required_argument, NULL, O_COUNT}, {"start", required_argument, NULL, O_START},
		{"seed", required_argument, NULL, O_SEED}, {"local", required_argument, NULL, O_LOCAL},
		{"name", required_argument, NULL, O_NAME}, {"dns", required_argument, NULL, O_DNS},
		{"resolver", required_argument, NULL, O_RESOLVER}, {"request-bytes", required_argument, NULL, O_REQ},
		{"response-bytes", required_argument, NULL, O_RESP},
		{"output", required_argument, NULL, 'o'}, {"quiet", no_argument, NULL, 'q'}, {NULL, 0, NULL, 0},
	};
	struct zgen *z;
	const char *remote = NULL, *name = NULL, *dns = "each", *local = "192.168.1.10", *resolver = NULL, *out = NULL;
	bool quiet = false;
	uint64_t port = 443, period = 60 * SEC, jitter = 10, count = 20, seed = 1, req = 300, resp = 800;
	ng_time start;
	ng_addr r, l, res;
	struct rng rg;
	int c;

	time_parse("2026-11-16T08:00:00Z", &start);
	while ((c = getopt_long(argc, argv, "o:q", opts, NULL)) != -1) {
		switch (c) {
		case O_REMOTE: remote = optarg; break;
		case O_PORT: port = opt_uint("--port", optarg, 1, 65535); break;
		case O_PERIOD:
			if (duration_parse(optarg, (ng_time *)&period) < 0 || (ng_time)period < MSEC)
				die("bad --period %s (seconds, or like 90s, 5m; at least 1ms)", optarg);
			break;
		case O_JITTER: jitter = opt_uint("--jitter", optarg, 0, 100); break;
		case O_COUNT: count = opt_uint("--count", optarg, 1, 10000000); break;
		case O_START:
			if (time_parse(optarg, &start) < 0)
				die("bad --start %s (Unix seconds or RFC 3339, like 2026-11-16T08:00:00Z)", optarg);
			break;
		case O_SEED: seed = opt_uint("--seed", optarg, 0, UINT64_MAX); break;
		case O_LOCAL: local = optarg; break;
		case O_NAME: name = optarg; break;
		case O_DNS: dns = optarg; break;
		case O_RESOLVER: resolver = optarg; break;
		case O_REQ: req = opt_uint("--request-bytes", optarg, 0, 1000000); break;
		case O_RESP: resp = opt_uint("--response-bytes", optarg, 0, 1000000); break;
		case 'o': out = optarg; break;
		case 'q': quiet = true; break;
		default: usage(stderr); exit(2);
		}
	}
	z = z_new(seed);
	z->out_path = out;
	z->quiet = quiet;
	if (optind < argc)
		die("unexpected argument %s (see pcapgen --help)", argv[optind]);
	if (!remote || !z->out_path)
		die("beacon mode needs --remote ADDR and -o OUT.pcap");
	if (addr_parse(remote, &r) < 0)
		die("bad --remote %s (an IPv4 or IPv6 address)", remote);
	if (addr_parse(local, &l) < 0 || l.v != r.v)
		die("bad --local %s (an address of the same IP version as --remote)", local);
	if (!resolver)
		resolver = r.v == 4 ? "192.168.1.1" : "fd00::1";
	if (addr_parse(resolver, &res) < 0 || res.v != r.v)
		die("bad --resolver %s (an address of the same IP version as --remote)", resolver);
	if (name && !dns_name_ok(name))
		die("bad --name %s (a DNS name)", name);
	if (strcmp(dns, "each") != 0 && strcmp(dns, "first") != 0 && strcmp(dns, "none") != 0)
		die("bad --dns %s (each, first or none)", dns);
	z->local[z->nlocal++] = l;
	rg.s = seed ^ 0x626561636f6eULL;
	for (uint64_t i = 0; i < count; i++) {
		/* The i-th check-in: i periods after --start, moved by up to +-jitter % of a period. */
		int64_t span = (int64_t)muldiv(period, jitter, 100);
		ng_time t = start + (ng_time)(i * period) + (span ? (ng_time)rng_below(&rg, 2 * (uint64_t)span + 1) - span : 0);
		struct zconn cn;
		char uid[Z_UID];

		if (t < start)
			t = start;
		snprintf(uid, sizeof uid, "B%llu", (unsigned long long)i);
		memset(&cn, 0, sizeof cn);
		cn.sni = NO_NAME;
		cn.o = l;
		cn.r = r;
		cn.op = (uint16_t)(EPHEMERAL_LO + (rng_below(&rg, EPHEMERAL_N)));
		cn.rp = (uint16_t)port;
		cn.proto = NG_PROTO_TCP;
		cn.state = ZS_SF;
		cn.dur = (ng_time)rng_range(&rg, 50, 400) * MSEC;
		cn.pkts[0] = 3 + 1 + (req + 1459) / 1460;
		cn.pkts[1] = 2 + (resp + 1459) / 1460;
		cn.pay[0] = req;
		cn.pay[1] = resp;
		cn.tls = port == 443;
		cn.is_http = port == 80;
		memcpy(cn.uid, uid, Z_UID);
		if (name && (strcmp(dns, "each") == 0 || (strcmp(dns, "first") == 0 && i == 0))) {
			struct zdns d;
			char ttl[32];

			memset(&d, 0, sizeof d);
			d.ts = t;
			d.rtt = (ng_time)rng_range(&rg, 5, 40) * MSEC;
			t += d.rtt + (ng_time)rng_range(&rg, 1, 20) * MSEC;
			d.o = l;
			d.r = res;
			d.op = (uint16_t)(EPHEMERAL_LO + rng_below(&rg, EPHEMERAL_N));
			d.rp = 53;
			d.proto = NG_PROTO_UDP;
			d.id = (uint16_t)rng_next(&rg);
			d.qtype = r.v == 4 ? 1 : 28;
			d.qclass = 1;
			d.rcode = 0;
			d.rd = d.ra = true;
			d.query = z_str(z, name, strlen(name));
			d.answers = z_str(z, remote, strlen(remote));
			snprintf(ttl, sizeof ttl, "%llu.000000", (unsigned long long)NG_MAX(period / SEC / 2, 1ull));
			d.ttls = z_str(z, ttl, strlen(ttl));
			snprintf(d.uid, sizeof d.uid, "D%llu", (unsigned long long)i);
			z->dnss = z_grow(z->dnss, z->ndnss, &z->capdnss, sizeof *z->dnss);
			z->dnss[z->ndnss++] = d;
		}
		cn.ts = t;
		/* IP bytes: the headers of every packet plus the payload. */
		cn.ipb[0] = cn.pkts[0] * (r.v == 4 ? 40 : 60) + 8 + req;
		cn.ipb[1] = cn.pkts[1] * (r.v == 4 ? 40 : 60) + 4 + resp;
		if (name && cn.tls)
			cn.sni = z_str(z, name, strlen(name));
		if (name && cn.is_http) {
			struct zhttp h;

			memset(&h, 0, sizeof h);
			h.ts = t;
			h.method = z_str(z, "GET", 3);
			h.host = z_str(z, name, strlen(name));
			h.uri = z_str(z, "/check", 6);
			h.status = 200;
			memcpy(h.uid, uid, Z_UID);
			z->https = z_grow(z->https, z->nhttps, &z->caphttps, sizeof *z->https);
			z->https[z->nhttps++] = h;
		}
		z->conns = z_grow(z->conns, z->nconns, &z->capconns, sizeof *z->conns);
		z->conns[z->nconns++] = cn;
		z->rows[0]++;
	}
	sort_rows(z->conns, z->nconns, sizeof *z->conns, conn_uid_cmp);
	z_join_http(z);
	z_build(z);
	z_report(z, "beacon");
	z_free(z);
	return 0;
}

/*
 * `pcapgen merge A.pcap B.pcap ... -o OUT.pcap`: every packet of every input
 * (pcap or pcapng, one link type) in time order; packets at the same
 * microsecond keep the order of the inputs on the command line.
 */
static int main_merge(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'}, {"quiet", no_argument, NULL, 'q'}, {NULL, 0, NULL, 0},
	};
	struct zgen *z = z_new(1);
	int c, nin = 0;

	while ((c = getopt_long(argc, argv, "o:q", opts, NULL)) != -1) {
		if (c == 'o')
			z->out_path = optarg;
		else if (c == 'q')
			z->quiet = true;
		else {
			usage(stderr);
			exit(2);
		}
	}
	if (!z->out_path || optind >= argc)
		die("merge mode needs input captures and -o OUT.pcap");
	z->dlt = -1;
	z->snaplen = 0;
	for (int i = optind; i < argc; i++, nin++) {
		char errbuf[PCAP_ERRBUF_SIZE];
		pcap_t *p = pcap_open_offline_with_tstamp_precision(argv[i], PCAP_TSTAMP_PRECISION_MICRO, errbuf);
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc;

		if (!p)
			die("cannot read %s: %s", argv[i], errbuf);
		if (z->dlt < 0)
			z->dlt = pcap_datalink(p);
		else if (pcap_datalink(p) != z->dlt)
			die("%s has link type %d, the first input %d (merge captures of one link type)", argv[i],
			    pcap_datalink(p), z->dlt);
		z->snaplen = NG_MAX(z->snaplen, (uint32_t)pcap_snapshot(p));
		while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
			size_t reclen = 16 + h->caplen;
			uint8_t *rec;
			struct zrec *r;

			if (z->dlen + reclen > z->dcap) {
				z->dcap = z->dcap ? 2 * z->dcap : (16u << 20);
				while (z->dlen + reclen > z->dcap)
					z->dcap *= 2;
				z->data = xrealloc(z->data, z->dcap);
			}
			rec = z->data + z->dlen;
			setle32(rec, (uint32_t)h->ts.tv_sec);
			setle32(rec + 4, (uint32_t)h->ts.tv_usec);
			setle32(rec + 8, h->caplen);
			setle32(rec + 12, h->len);
			memcpy(rec + 16, data, h->caplen);
			z->recs = z_grow(z->recs, z->nrecs, &z->caprecs, sizeof *z->recs);
			r = &z->recs[z->nrecs];
			r->t = (ng_time)h->ts.tv_sec * SEC + h->ts.tv_usec;
			r->order = z->nrecs;
			r->off = z->dlen;
			r->len = (uint32_t)reclen;
			z->nrecs++;
			z->dlen += reclen;
		}
		if (rc == -1)
			die("cannot read %s: %s", argv[i], pcap_geterr(p));
		pcap_close(p);
	}
	if (z->snaplen == 0)
		z->snaplen = SNAPLEN_DEFAULT;
	z_write(z);
	if (!z->quiet)
		fprintf(stderr, "pcapgen merge: %d inputs, %zu packets\n", nin, z->nrecs);
	z_free(z);
	return 0;
}

/* ---------------------------------------------------------------- main */

/* Free everything g holds, and g. */
static void gen_free(struct gen *g)
{
	free(g->hosts);
	free(g->flows);
	free(g->extras);
	free(g->names);
	free(g->aset);
	free(g->slots);
	free(g->free_slots);
	free(g->heap);
	free(g->out.buf);
	free(g->out.path);
	free(g->out.base);
	free(g);
}

/* Print the usage text to fp. */
static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: pcapgen [MODE] -o FILE [options]\n"
		"Deterministic synthetic captures (classic pcap, Ethernet, microseconds): the same\n"
		"arguments give the same bytes on any machine.\n"
		"modes:\n"
		"  bench    (default) --packets 5000000 --flows 100000 --ipv6-percent 20 --duration 10m\n"
		"           DNS lookups before each named host's flows, TLS with SNI, HTTP/1.1, NTP,\n"
		"           media UDP, pings, inbound, refused and unanswered connections\n"
		"  days     3 days of contacts from a schedule (--schedule FILE, --print-schedule);\n"
		"           --split-days writes FILE-day1.pcap FILE-day2.pcap ... instead of FILE\n"
		"  flood    --packets 5000000 spoofed SYN/UDP from random public sources to the local\n"
		"           host over --duration 60s, with --real-flows 20 real TLS connections\n"
		"  garbage  --bytes 1048576 random bytes\n"
		"  corrupt  a small valid capture, damaged: --damage truncate|header|caplen|magic\n"
		"  zeek     --conn CONN.log [--ssl SSL.log] [--dns DNS.log] [--http HTTP.log] -o OUT.pcap\n"
		"           [--cap 4] [--byte-limit 1048576] [--local ADDR]... [--seed S]\n"
		"           the logs' connections as packets (shapes by conn_state, IP bytes, SNI, Host,\n"
		"           DNS answers); --cap packets per direction unless the bytes need more, up to\n"
		"           --byte-limit bytes per direction; bad lines are skipped and counted\n"
		"  beacon   --remote ADDR [--port 443] [--period 60] [--jitter 10] [--count 20]\n"
		"           [--start TIME (Unix seconds or RFC 3339)] [--seed S] [--local 192.168.1.10]\n"
		"           [--name NAME [--dns each|first|none] [--resolver ADDR]]\n"
		"           [--request-bytes 300] [--response-bytes 800] -o OUT.pcap\n"
		"           a check-in every --period s +-jitter %%: handshake, request (SNI or Host:\n"
		"           --name on 443/80), response, FIN; with --name a DNS answer before each\n"
		"  merge    A.pcap B.pcap... -o OUT.pcap   every packet of the inputs in time order\n"
		"options:\n"
		"  -o, --output FILE      the capture (- for standard output)\n"
		"  --truth FILE           one JSON line per flow (ends, counts, times, names, verdicts), then a summary\n"
		"  --packets N --flows N --real-flows N --bytes N --ipv6-percent P --seed S\n"
		"  --duration D           (10m, 60s, ...)  --concurrent N  mean open flows (default flows/100)\n"
		"  --start TIME           RFC 3339 (default 2026-11-16T08:00:00Z; days 2026-11-16T00:00:00Z)\n"
		"  --window D             verdict window of the oracle (default 48h)\n"
		"  --local4 ADDR --local6 ADDR   the local host (default 192.168.1.10, fd00::10)\n"
		"  --snaplen N            cut frames longer than N (default 262144)\n"
		"  -q, --quiet            no statistics on standard error\n"
		"  --version              print \"pcapgen %d\" (the benchmark cache key)\n", PCAPGEN_VERSION);
}

/* Parse a whole number option or die naming it. */
static uint64_t opt_uint(const char *name, const char *v, uint64_t min, uint64_t max)
{
	uint64_t x;

	if (parse_uint(v, min, max, &x) < 0)
		die("bad %s %s (a whole number in %llu..%llu)", name, v, (unsigned long long)min, (unsigned long long)max);
	return x;
}

/* Parse the command line into g. */
static void parse_args(struct gen *g, int argc, char **argv)
{
	enum { O_TRUTH = 256, O_PACKETS, O_FLOWS, O_REAL, O_BYTES, O_V6, O_SEED, O_DURATION, O_CONC, O_START,
	       O_WINDOW, O_L4, O_L6, O_SNAP, O_SCHED, O_PRINT, O_SPLIT, O_DAMAGE, O_VERSION, O_MODE };
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'}, {"truth", required_argument, NULL, O_TRUTH},
		{"packets", required_argument, NULL, O_PACKETS}, {"flows", required_argument, NULL, O_FLOWS},
		{"real-flows", required_argument, NULL, O_REAL}, {"bytes", required_argument, NULL, O_BYTES},
		{"ipv6-percent", required_argument, NULL, O_V6}, {"seed", required_argument, NULL, O_SEED},
		{"duration", required_argument, NULL, O_DURATION}, {"concurrent", required_argument, NULL, O_CONC},
		{"start", required_argument, NULL, O_START}, {"window", required_argument, NULL, O_WINDOW},
		{"local4", required_argument, NULL, O_L4}, {"local6", required_argument, NULL, O_L6},
		{"snaplen", required_argument, NULL, O_SNAP}, {"schedule", required_argument, NULL, O_SCHED},
		{"print-schedule", no_argument, NULL, O_PRINT}, {"split-days", no_argument, NULL, O_SPLIT},
		{"damage", required_argument, NULL, O_DAMAGE}, {"version", no_argument, NULL, O_VERSION},
		{"mode", required_argument, NULL, O_MODE}, {"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	const char *mode = "bench";
	int c;
	size_t al = 0;

	/* The arguments, minus the output names, go into the truth summary. */
	for (int i = 1; i < argc && al + 1 < sizeof g->args; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 || strcmp(a, "--truth") == 0) {
			i++;
			continue;
		}
		if (strncmp(a, "--output=", 9) == 0 || strncmp(a, "--truth=", 8) == 0)
			continue;
		for (const char *q = a; *q && al + 2 < sizeof g->args; q++)
			if (*q != '"' && *q != '\\')
				g->args[al++] = *q;
		g->args[al++] = ' ';
	}
	if (al)
		al--;
	g->args[al] = '\0';

	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			g->out_path = optarg;
			break;
		case 'q':
			g->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case O_TRUTH:
			g->truth_path = optarg;
			break;
		case O_PACKETS:
			g->npackets = opt_uint("--packets", optarg, 1, 1000000000);
			g->set_packets = true;
			break;
		case O_FLOWS:
			g->nflows = opt_uint("--flows", optarg, 1, 2000000);
			g->set_flows = true;
			break;
		case O_REAL:
			g->nreal = opt_uint("--real-flows", optarg, 0, 10000);
			break;
		case O_BYTES:
			g->nbytes = opt_uint("--bytes", optarg, 0, 1ULL << 40);
			break;
		case O_V6:
			g->ipv6_pct = (uint32_t)opt_uint("--ipv6-percent", optarg, 0, 100);
			break;
		case O_SEED:
			g->seed = opt_uint("--seed", optarg, 0, UINT64_MAX);
			break;
		case O_DURATION:
			if (duration_parse(optarg, &g->duration) < 0 || g->duration < SEC || g->duration > 365 * DAY)
				die("bad --duration %s (like 10m or 60s, 1 s to 365 d)", optarg);
			g->set_duration = true;
			break;
		case O_CONC:
			g->concurrent = (uint32_t)opt_uint("--concurrent", optarg, 1, 10000000);
			break;
		case O_START:
			if (time_parse(optarg, &g->start) < 0)
				die("bad --start %s (RFC 3339, like 2026-11-16T08:00:00Z)", optarg);
			g->set_start = true;
			break;
		case O_WINDOW:
			if (duration_parse(optarg, &g->window) < 0)
				die("bad --window %s (like 48h)", optarg);
			break;
		case O_L4:
			if (addr_parse(optarg, &g->local[0]) < 0 || g->local[0].v != 4)
				die("bad --local4 %s (an IPv4 address)", optarg);
			break;
		case O_L6:
			if (addr_parse(optarg, &g->local[1]) < 0 || g->local[1].v != 6)
				die("bad --local6 %s (an IPv6 address)", optarg);
			break;
		case O_SNAP:
			g->snaplen = (uint32_t)opt_uint("--snaplen", optarg, 64, 262144);
			break;
		case O_SCHED:
			g->schedule_path = optarg;
			break;
		case O_PRINT:
			fputs(default_schedule, stdout);
			exit(0);
		case O_SPLIT:
			g->split_days = true;
			break;
		case O_DAMAGE:
			g->damage = optarg;
			break;
		case O_VERSION:
			printf("pcapgen %d\n", PCAPGEN_VERSION);
			exit(0);
		case O_MODE:
			mode = optarg;
			break;
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc)	/* GNU getopt moved the mode word behind the options */
		mode = argv[optind++];
	if (optind < argc)
		die("unexpected argument %s (see pcapgen --help)", argv[optind]);
	if (strcmp(mode, "bench") == 0)
		g->mode = M_BENCH;
	else if (strcmp(mode, "days") == 0)
		g->mode = M_DAYS;
	else if (strcmp(mode, "flood") == 0)
		g->mode = M_FLOOD;
	else if (strcmp(mode, "garbage") == 0)
		g->mode = M_GARBAGE;
	else if (strcmp(mode, "corrupt") == 0)
		g->mode = M_CORRUPT;
	else
		die("unknown mode %s (bench, days, flood, garbage, corrupt)", mode);
	if (!g->out_path)
		die("no output file (use -o FILE)");
	if (g->split_days && g->mode != M_DAYS)
		die("--split-days is for days mode only");
	if (g->split_days && strcmp(g->out_path, "-") == 0)
		die("--split-days needs a file name, not -");
}

int main(int argc, char **argv)
{
	struct gen *g;
	struct timespec t0, t1;
	struct rng fr;

	if (argc > 1 && strcmp(argv[1], "zeek") == 0)
		return main_zeek(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "beacon") == 0)
		return main_beacon(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "merge") == 0)
		return main_merge(argc - 1, argv + 1);
	g = xcalloc(1, sizeof *g);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	g->npackets = 5000000;
	g->nflows = 100000;
	g->nreal = 20;
	g->nbytes = 1 << 20;
	g->ipv6_pct = 20;
	g->seed = 1;
	g->duration = 600 * SEC;
	g->window = 48 * HOUR;
	g->snaplen = SNAPLEN_DEFAULT;
	g->damage = "truncate";
	time_parse("2026-11-16T08:00:00Z", &g->start);
	g->local[0] = must_addr("192.168.1.10");
	g->local[1] = must_addr("fd00::10");
	parse_args(g, argc, argv);
	if (g->mode == M_DAYS && !g->set_start)
		time_parse("2026-11-16T00:00:00Z", &g->start);
	if (g->mode == M_FLOOD && !g->set_duration)
		g->duration = 60 * SEC;
	if (g->mode == M_CORRUPT) {
		if (!g->set_packets)
			g->npackets = 200;
		if (!g->set_flows)
			g->nflows = 10;
		g->duration = 10 * SEC;
	}
	if (!g->concurrent)
		g->concurrent = (uint32_t)NG_MAX(g->nflows / 100, 1);
	g->rng.s = g->seed;
	fr.s = g->seed ^ 0x66696c6c6572ULL;
	rng_bytes(&fr, g->filler, sizeof g->filler);

	if (g->mode == M_GARBAGE) {
		write_garbage(g);
		gen_free(g);
		return 0;
	}
	g->out.buf = xmalloc(OUT_BUF_SIZE);
	if (g->mode == M_CORRUPT) {
		write_corrupt(g);
		gen_free(g);
		return 0;
	}
	if (g->mode == M_BENCH)
		plan_bench(g);
	else if (g->mode == M_DAYS)
		plan_days(g);
	else
		plan_flood(g);

	if (g->split_days) {
		size_t n = strlen(g->out_path);

		g->out.split = true;
		g->out.base = xstrdup(g->out_path);
		if (n > 5 && strcmp(g->out_path + n - 5, ".pcap") == 0)
			g->out.base[n - 5] = '\0';
		g->out.day = 1;
		g->out.boundary = g->start + DAY;
	} else
		g->out.path = xstrdup(g->out_path);
	out_open(g);
	play(g);
	out_write(g, g->out.len);
	g->out.len = 0;
	out_close(g);
	while (g->out.split && g->out.day < 3) {	/* the days after the last packet still get (empty) files */
		g->out.day++;
		out_open(g);
		out_close(g);
	}
	if (g->mode == M_DAYS)
		check_expectations(g);
	if (g->truth_path)
		write_truth(g);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!g->quiet) {
		uint64_t ms = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
		uint64_t v6 = 0;

		for (uint32_t i = 0; i < g->nflow; i++)
			v6 += g->hosts[g->flows[i].host].addr.v == 6;
		fprintf(stderr,
			"pcapgen: %llu packets (%llu flood), %u flows (%llu IPv6), %llu file bytes, %llu IP bytes, "
			"%lld s of traffic, at most %u flows open, in %llu.%03llu s\n",
			(unsigned long long)g->packets, (unsigned long long)g->flood_k, g->nflow, (unsigned long long)v6,
			(unsigned long long)g->out.file_bytes, (unsigned long long)g->ipbytes,
			(long long)((g->last_t - g->start) / SEC), g->max_active, (unsigned long long)(ms / 1000),
			(unsigned long long)(ms % 1000));
	}
	gen_free(g);
	return 0;
}
