/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ipfix.c: the IPFIX exporter, checked by a small independent decoder written here from RFC 7011:
 * message header, set ids and lengths, template fields (IANA and enterprise), variable-length strings,
 * sequence numbers, IPv4 and IPv6 records, the template refresh schedule, active-timeout deltas, drops,
 * and real UDP and TCP transports on loopback (TCP: templates and a new sequence space per connection).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flow.h"
#include "geoip.h"
#include "ipfix.h"
#include "proc.h"

/* ---- A decoder, written from RFC 7011 without looking at ipfix.c ---- */

#define MAXF 64

struct tfield {
	uint16_t id, len;
	uint32_t pen;
};

struct ttmpl {
	uint16_t tid;
	int n;
	struct tfield f[MAXF];
};

struct dfield {
	uint16_t id;
	uint32_t pen;
	uint16_t off, len;	/* into drec.bytes */
};

struct drec {
	uint16_t tid;
	uint32_t msg;		/* index of its message */
	int n;
	struct dfield f[MAXF];
	uint8_t bytes[1024];
};

struct dmsg {
	uint32_t export_time, seq, domain, len;
	int template_sets, records;
};

struct dec {
	struct ttmpl tmpl[8];
	int ntmpl;
	struct drec *recs;
	int nrec, caprec;
	struct dmsg msgs[4096];
	int nmsg;
	int fail_sends;		/* the send function reports drops */
};

static uint16_t g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static struct ttmpl *find_tmpl(struct dec *d, uint16_t tid)
{
	for (int i = 0; i < d->ntmpl; i++) {
		if (d->tmpl[i].tid == tid)
			return &d->tmpl[i];
	}
	return NULL;
}

/* Parse one template set body (RFC 7011 3.4.1). */
static void dec_templates(struct dec *d, const uint8_t *p, size_t len)
{
	size_t off = 0;

	while (off + 4 <= len) {
		uint16_t tid = g16(p + off), n = g16(p + off + 2);
		struct ttmpl *t = find_tmpl(d, tid);

		assert_true(tid >= 256);
		if (!t) {
			assert_true(d->ntmpl < 8);
			t = &d->tmpl[d->ntmpl++];
		}
		t->tid = tid;
		t->n = n;
		assert_true(n <= MAXF);
		off += 4;
		for (int i = 0; i < n; i++) {
			assert_true(off + 4 <= len);
			t->f[i].id = g16(p + off) & 0x7fff;
			t->f[i].len = g16(p + off + 2);
			t->f[i].pen = 0;
			if (g16(p + off) & 0x8000) {
				assert_true(off + 8 <= len);
				t->f[i].pen = g32(p + off + 4);
				off += 4;
			}
			off += 4;
		}
	}
	assert_int_equal(off, len);
}

/* Parse one data set body with its template (RFC 7011 3.4.3, variable length per section 7). */
static int dec_data(struct dec *d, const struct ttmpl *t, const uint8_t *p, size_t len, uint32_t msg)
{
	size_t off = 0;
	int count = 0;

	while (off < len) {
		struct drec *r;
		size_t start = off;

		if (d->nrec == d->caprec) {
			d->caprec = d->caprec ? d->caprec * 2 : 256;
			d->recs = realloc(d->recs, (size_t)d->caprec * sizeof *d->recs);
			assert_non_null(d->recs);
		}
		r = &d->recs[d->nrec];
		memset(r, 0, sizeof *r);
		r->tid = t->tid;
		r->msg = msg;
		r->n = t->n;
		for (int i = 0; i < t->n; i++) {
			size_t flen = t->f[i].len;

			if (flen == 65535) {
				assert_true(off + 1 <= len);
				flen = p[off++];
				if (flen == 255) {
					assert_true(off + 2 <= len);
					flen = g16(p + off);
					off += 2;
				}
			}
			assert_true(off + flen <= len);
			r->f[i].id = t->f[i].id;
			r->f[i].pen = t->f[i].pen;
			r->f[i].off = (uint16_t)(off - start);
			r->f[i].len = (uint16_t)flen;
			off += flen;
		}
		assert_true(off - start <= sizeof r->bytes);
		memcpy(r->bytes, p + start, off - start);
		d->nrec++;
		count++;
	}
	return count;
}

/* Decode one whole message; checks the header and that the sets tile it exactly. */
static void dec_message(struct dec *d, const uint8_t *m, size_t len)
{
	struct dmsg *dm;
	size_t off = 16;

	assert_true(len >= 16);
	assert_int_equal(g16(m), 10);
	assert_int_equal(g16(m + 2), len);
	assert_true(d->nmsg < 4096);
	dm = &d->msgs[d->nmsg];
	memset(dm, 0, sizeof *dm);
	dm->export_time = g32(m + 4);
	dm->seq = g32(m + 8);
	dm->domain = g32(m + 12);
	dm->len = (uint32_t)len;
	while (off < len) {
		uint16_t sid, slen;

		assert_true(off + 4 <= len);
		sid = g16(m + off);
		slen = g16(m + off + 2);
		assert_true(slen >= 4 && off + slen <= len);
		if (sid == 2) {
			dec_templates(d, m + off + 4, slen - 4u);
			dm->template_sets++;
		} else {
			const struct ttmpl *t = find_tmpl(d, sid);

			assert_true(sid >= 256);
			assert_non_null(t);	/* templates come before their data */
			dm->records += dec_data(d, t, m + off + 4, slen - 4u, (uint32_t)d->nmsg);
		}
		off += slen;
	}
	d->nmsg++;
}

static int send_cb(void *arg, const uint8_t *msg, size_t len)
{
	struct dec *d = arg;

	if (d->fail_sends)
		return -1;
	dec_message(d, msg, len);
	return 0;
}

static const struct dfield *rec_field(const struct drec *r, uint32_t pen, uint16_t id)
{
	for (int i = 0; i < r->n; i++) {
		if (r->f[i].pen == pen && r->f[i].id == id)
			return &r->f[i];
	}
	return NULL;
}

/* Unsigned value of a field (big-endian, any length up to 8). */
static uint64_t rec_u(const struct drec *r, uint32_t pen, uint16_t id)
{
	const struct dfield *f = rec_field(r, pen, id);
	uint64_t v = 0;

	assert_non_null(f);
	assert_true(f->len <= 8);
	for (int i = 0; i < f->len; i++)
		v = v << 8 | r->bytes[f->off + i];
	return v;
}

/* A string field as a C string (static buffer). */
static const char *rec_s(const struct drec *r, uint32_t pen, uint16_t id)
{
	static char buf[1024];
	const struct dfield *f = rec_field(r, pen, id);

	assert_non_null(f);
	memcpy(buf, r->bytes + f->off, f->len);
	buf[f->len] = '\0';
	return buf;
}

static const uint8_t *rec_b(const struct drec *r, uint16_t id, size_t len)
{
	const struct dfield *f = rec_field(r, 0, id);

	assert_non_null(f);
	assert_int_equal(f->len, len);
	return r->bytes + f->off;
}

static struct dec *dec_new(void)
{
	struct dec *d = calloc(1, sizeof *d);

	assert_non_null(d);
	return d;
}

static void dec_free(struct dec *d)
{
	free(d->recs);
	free(d);
}

/* ---- Test flows ---- */

#define T0 (1700000000LL * NG_USEC + 123456)

static ng_time fake_now;

static ng_time fake_clock(void)
{
	return fake_now;
}

struct tflow {
	struct flow f;
	struct geo_info g;
	struct proc_info p;
};

/* A finished TCP flow 192.0.2.10:40000 (local) <-> 198.51.100.7:443 with everything filled in. */
static void tflow_v4(struct tflow *t, uint64_t id)
{
	ng_addr x;

	memset(t, 0, sizeof *t);
	addr_parse("198.51.100.7", &x);
	flow_key_set_a(&t->f.key, &x);
	addr_parse("192.0.2.10", &x);
	flow_key_set_b(&t->f.key, &x);
	t->f.key.pa = 443;
	t->f.key.pb = 40000;
	t->f.key.proto = 6;
	t->f.local_is_b = true;
	t->f.initiator_local = true;
	t->f.id = id;
	t->f.end_reason = FLOW_END_CLOSED;
	t->f.packets[FLOW_SENT] = 10;
	t->f.bytes[FLOW_SENT] = 1000;
	t->f.packets[FLOW_RECEIVED] = 8;
	t->f.bytes[FLOW_RECEIVED] = 6000;
	t->f.first_seen = T0;
	t->f.first_dir = FLOW_SENT;
	flow_ext_get(&t->f)->reply_first = T0 + 20000;
	t->f.dir_last[FLOW_SENT] = T0 + 5 * NG_USEC + 999;
	flow_verdict_set(&t->f, FLOW_SENT, &(struct wl_verdict_info){.verdict = WL_ANOMALOUS});
	flow_verdict_set(&t->f, FLOW_RECEIVED, &(struct wl_verdict_info){.verdict = WL_NORMAL});
	flow_ext_get(&t->f)->domain = "example.org";
	t->f.domain_source = FLOW_DOMAIN_SNI;
	memcpy(t->g.country, "US", 3);
	t->g.asn = 15169;
	t->g.accuracy_km = -1;
	t->f.geo = &t->g;
	t->p.pid = 4321;
	t->p.name = (char *)"curl";
	t->f.proc = &t->p;
}

/* A UDP flow [2001:db8::1]:5353 (local, key.a) -> [2001:db8:ffff::9]:53, no enrichment. */
static void tflow_v6(struct tflow *t, uint64_t id)
{
	ng_addr x;

	memset(t, 0, sizeof *t);
	addr_parse("2001:db8::1", &x);
	flow_key_set_a(&t->f.key, &x);
	addr_parse("2001:db8:ffff::9", &x);
	flow_key_set_b(&t->f.key, &x);
	t->f.key.pa = 5353;
	t->f.key.pb = 53;
	t->f.key.proto = 17;
	t->f.local_is_b = false;
	t->f.initiator_local = false;
	t->f.id = id;
	t->f.end_reason = FLOW_END_IDLE;
	t->f.packets[FLOW_SENT] = 1;
	t->f.bytes[FLOW_SENT] = 80;
	t->f.packets[FLOW_RECEIVED] = 2;
	t->f.bytes[FLOW_RECEIVED] = 300;
	t->f.first_seen = T0;
	t->f.first_dir = FLOW_RECEIVED;
	flow_ext_get(&t->f)->reply_first = T0 + 1000;
	t->f.dir_last[FLOW_RECEIVED] = T0 + 2000;
	flow_verdict_set(&t->f, FLOW_SENT, &(struct wl_verdict_info){.verdict = WL_BLOCKLISTED});
	flow_verdict_set(&t->f, FLOW_RECEIVED, &(struct wl_verdict_info){.verdict = WL_BLOCKLISTED});
}

static struct ipfix *open_test(struct dec *d, size_t mtu)
{
	struct ipfix_options o;

	memset(&o, 0, sizeof o);
	o.domain_id = 77;
	o.mtu = mtu;
	o.active_timeout = 60 * NG_USEC;
	o.clock = fake_clock;
	return ipfix_open_fn(&o, send_cb, d);
}

/* ---- Tests ---- */

static void test_templates(void **state)
{
	struct dec *d = dec_new();
	struct ipfix *x;
	struct tflow t;
	const struct ttmpl *t4, *t6;
	static const uint16_t ng_ids[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

	(void)state;
	fake_now = T0;
	x = open_test(d, 0);
	tflow_v4(&t, 1);
	ipfix_flow_end(x, &t.f);
	ipfix_flush(x);
	assert_int_equal(d->nmsg, 1);
	assert_int_equal(d->msgs[0].template_sets, 1);
	assert_int_equal(d->msgs[0].domain, 77);
	assert_int_equal(d->msgs[0].export_time, T0 / NG_USEC);
	t4 = find_tmpl(d, IPFIX_TEMPLATE_V4);
	t6 = find_tmpl(d, IPFIX_TEMPLATE_V6);
	assert_non_null(t4);
	assert_non_null(t6);
	assert_int_equal(t4->n, t6->n);
	/* The documented layout (docs/ipfix.md): addresses first, then the same fields in both. */
	assert_int_equal(t4->f[0].id, 8);
	assert_int_equal(t4->f[0].len, 4);
	assert_int_equal(t4->f[1].id, 12);
	assert_int_equal(t6->f[0].id, 27);
	assert_int_equal(t6->f[0].len, 16);
	assert_int_equal(t6->f[1].id, 28);
	for (int i = 2; i < t4->n; i++) {
		assert_int_equal(t4->f[i].id, t6->f[i].id);
		assert_int_equal(t4->f[i].pen, t6->f[i].pen);
		assert_int_equal(t4->f[i].len, t6->f[i].len);
	}
	/* Every netglobe element under the PEN, the strings variable-length, the country 2 octets. */
	for (size_t k = 0; k < sizeof ng_ids / sizeof ng_ids[0]; k++) {
		int found = 0;

		for (int i = 0; i < t4->n; i++) {
			if (t4->f[i].pen == IPFIX_PEN && t4->f[i].id == ng_ids[k]) {
				found++;
				if (ng_ids[k] == IPFIX_NG_REMOTE_DOMAIN || ng_ids[k] == IPFIX_NG_PROCESS_NAME)
					assert_int_equal(t4->f[i].len, 65535);
				if (ng_ids[k] == IPFIX_NG_COUNTRY_CODE)
					assert_int_equal(t4->f[i].len, 2);
			}
		}
		assert_int_equal(found, 1);
	}
	ipfix_close(x);
	dec_free(d);
}

static void test_v4_records(void **state)
{
	struct dec *d = dec_new();
	struct ipfix *x;
	struct tflow t;
	const struct drec *s, *r;
	struct ipfix_stats st;

	(void)state;
	fake_now = T0;
	x = open_test(d, 0);
	tflow_v4(&t, 42);
	ipfix_flow_end(x, &t.f);
	ipfix_flush(x);
	assert_int_equal(d->nrec, 2);
	s = &d->recs[0];
	r = &d->recs[1];
	assert_int_equal(s->tid, IPFIX_TEMPLATE_V4);
	/* Sent: the source is this host. */
	assert_memory_equal(rec_b(s, 8, 4), "\xc0\x00\x02\x0a", 4);
	assert_memory_equal(rec_b(s, 12, 4), "\xc6\x33\x64\x07", 4);
	assert_int_equal(rec_u(s, 0, 7), 40000);
	assert_int_equal(rec_u(s, 0, 11), 443);
	assert_int_equal(rec_u(s, 0, 4), 6);
	assert_int_equal(rec_u(s, 0, 60), 4);
	assert_int_equal(rec_u(s, 0, 61), 1);	/* egress */
	assert_int_equal(rec_u(s, 0, 136), IPFIX_END_DETECTED);
	assert_int_equal(rec_u(s, 0, 1), 1000);
	assert_int_equal(rec_u(s, 0, 2), 10);
	assert_int_equal(rec_u(s, 0, 152), T0 / 1000);
	assert_int_equal(rec_u(s, 0, 153), (T0 + 5 * NG_USEC + 999) / 1000);
	assert_int_equal(rec_u(s, 0, 148), 42);
	assert_int_equal(rec_u(s, 0, 16), 0);
	assert_int_equal(rec_u(s, 0, 17), 15169);
	assert_int_equal(rec_u(s, IPFIX_PEN, IPFIX_NG_VERDICT_SENT), WL_ANOMALOUS);
	assert_int_equal(rec_u(s, IPFIX_PEN, IPFIX_NG_VERDICT_RECEIVED), WL_NORMAL);
	assert_int_equal(rec_u(s, IPFIX_PEN, IPFIX_NG_VERDICT), WL_ANOMALOUS);
	assert_int_equal(rec_u(s, IPFIX_PEN, IPFIX_NG_INITIATOR), 1);
	assert_int_equal(rec_u(s, IPFIX_PEN, IPFIX_NG_REMOTE_DOMAIN_SOURCE), FLOW_DOMAIN_SNI);
	assert_int_equal(rec_u(s, IPFIX_PEN, IPFIX_NG_PROCESS_ID), 4321);
	assert_string_equal(rec_s(s, IPFIX_PEN, IPFIX_NG_COUNTRY_CODE), "US");
	assert_string_equal(rec_s(s, IPFIX_PEN, IPFIX_NG_REMOTE_DOMAIN), "example.org");
	assert_string_equal(rec_s(s, IPFIX_PEN, IPFIX_NG_PROCESS_NAME), "curl");
	/* Received: the source is the remote end, and so is the AS. */
	assert_memory_equal(rec_b(r, 8, 4), "\xc6\x33\x64\x07", 4);
	assert_memory_equal(rec_b(r, 12, 4), "\xc0\x00\x02\x0a", 4);
	assert_int_equal(rec_u(r, 0, 7), 443);
	assert_int_equal(rec_u(r, 0, 11), 40000);
	assert_int_equal(rec_u(r, 0, 61), 0);	/* ingress */
	assert_int_equal(rec_u(r, 0, 1), 6000);
	assert_int_equal(rec_u(r, 0, 2), 8);
	assert_int_equal(rec_u(r, 0, 152), (T0 + 20000) / 1000);
	assert_int_equal(rec_u(r, 0, 16), 15169);
	assert_int_equal(rec_u(r, 0, 17), 0);
	assert_int_equal(rec_u(r, 0, 148), 42);
	ipfix_get_stats(x, &st);
	assert_int_equal(st.records, 2);
	assert_int_equal(st.messages, 1);
	assert_int_equal(st.dropped, 0);
	ipfix_close(x);
	dec_free(d);
}

static void test_v6_and_one_direction(void **state)
{
	struct dec *d = dec_new();
	struct ipfix *x;
	struct tflow t, u;
	const struct drec *r;
	const struct dfield *cc;
	uint8_t a[16];

	(void)state;
	fake_now = T0;
	x = open_test(d, 0);
	tflow_v6(&t, 7);
	tflow_v4(&u, 8);
	u.f.packets[FLOW_RECEIVED] = 0;
	u.f.bytes[FLOW_RECEIVED] = 0;
	u.f.end_reason = FLOW_END_EVICTED;
	u.f.geo = NULL;
	u.f.proc = NULL;
	u.f.ext = NULL;
	ipfix_flow_end(x, &t.f);
	ipfix_flow_end(x, &u.f);
	ipfix_flush(x);
	assert_int_equal(d->nrec, 3);
	/* IPv6: the sent record (source = this host), then the received one. */
	r = &d->recs[0];
	assert_int_equal(r->tid, IPFIX_TEMPLATE_V6);
	inet_pton(AF_INET6, "2001:db8::1", a);
	assert_memory_equal(rec_b(r, 27, 16), a, 16);
	assert_int_equal(rec_u(r, 0, 7), 5353);
	assert_int_equal(rec_u(r, 0, 60), 6);
	assert_int_equal(rec_u(r, 0, 136), IPFIX_END_IDLE);
	assert_int_equal(rec_u(r, 0, 2), 1);
	assert_int_equal(rec_u(r, IPFIX_PEN, IPFIX_NG_INITIATOR), 2);
	assert_int_equal(rec_u(r, IPFIX_PEN, IPFIX_NG_VERDICT), WL_BLOCKLISTED);
	assert_string_equal(rec_s(r, IPFIX_PEN, IPFIX_NG_REMOTE_DOMAIN), "");
	assert_string_equal(rec_s(r, IPFIX_PEN, IPFIX_NG_PROCESS_NAME), "");
	cc = rec_field(r, IPFIX_PEN, IPFIX_NG_COUNTRY_CODE);
	assert_non_null(cc);
	assert_int_equal(cc->len, 2);
	assert_memory_equal(r->bytes + cc->off, "\0\0", 2);	/* unknown country: two zero octets */
	r = &d->recs[1];
	inet_pton(AF_INET6, "2001:db8:ffff::9", a);
	assert_memory_equal(rec_b(r, 27, 16), a, 16);
	assert_int_equal(rec_u(r, 0, 2), 2);
	assert_int_equal(rec_u(r, 0, 1), 300);
	/* The one-way IPv4 flow: one record, a new data set for the other template. */
	r = &d->recs[2];
	assert_int_equal(r->tid, IPFIX_TEMPLATE_V4);
	assert_int_equal(rec_u(r, 0, 61), 1);
	assert_int_equal(rec_u(r, 0, 136), IPFIX_END_RESOURCES);
	assert_int_equal(rec_u(r, 0, 17), 0);
	assert_int_equal(rec_u(r, IPFIX_PEN, IPFIX_NG_PROCESS_ID), 0);
	ipfix_close(x);
	dec_free(d);
}

/* Still-active flows (end of a file, shutdown) end as "forced end". */
static void test_forced_end(void **state)
{
	struct dec *d = dec_new();
	struct ipfix *x;
	struct tflow t;

	(void)state;
	fake_now = T0;
	x = open_test(d, 0);
	tflow_v4(&t, 3);
	t.f.end_reason = FLOW_END_NONE;
	ipfix_flow_end(x, &t.f);
	ipfix_flush(x);
	assert_int_equal(d->nrec, 2);
	assert_int_equal(rec_u(&d->recs[0], 0, 136), IPFIX_END_FORCED);
	assert_int_equal(rec_u(&d->recs[1], 0, 136), IPFIX_END_FORCED);
	ipfix_close(x);
	dec_free(d);
}

/* Many flows: MTU-sized messages, sequence numbers count the data records before each message. */
static void test_sequence_and_mtu(void **state)
{
	struct dec *d = dec_new();
	struct ipfix *x;
	struct tflow t;
	uint32_t seq = 0;
	int total = 0;

	(void)state;
	fake_now = T0;
	x = open_test(d, 1000);
	for (int i = 0; i < 500; i++) {
		if (i % 3 == 0)
			tflow_v6(&t, (uint64_t)i + 1);
		else
			tflow_v4(&t, (uint64_t)i + 1);
		ipfix_flow_end(x, &t.f);
	}
	ipfix_flush(x);
	assert_true(d->nmsg > 50);
	for (int i = 0; i < d->nmsg; i++) {
		assert_true(d->msgs[i].len <= 1000);
		assert_int_equal(d->msgs[i].seq, seq);
		seq += (uint32_t)d->msgs[i].records;
		total += d->msgs[i].records;
	}
	assert_int_equal(total, 1000);
	assert_int_equal(d->nrec, 1000);
	/* Record order is kept, so flow ids come in order. */
	for (int i = 0; i < d->nrec; i++)
		assert_int_equal(rec_u(&d->recs[i], 0, 148), (uint64_t)(i / 2) + 1);
	ipfix_close(x);
	dec_free(d);
}

/* A domain longer than a string may be: cut to 254 bytes, never inside a UTF-8 character. */
static void test_long_strings(void **state)
{
	struct dec *d = dec_new();
	struct ipfix *x;
	struct tflow t;
	char dom[400];
	const char *got;

	(void)state;
	fake_now = T0;
	x = open_test(d, 0);
	tflow_v4(&t, 1);
	memset(dom, 'a', sizeof dom);
	/* "é" (2 bytes) straddling byte 254: bytes 253 and 254. */
	dom[253] = (char)0xc3;
	dom[254] = (char)0xa9;
	dom[sizeof dom - 1] = '\0';
	flow_ext_get(&t.f)->domain = dom;
	ipfix_flow_end(x, &t.f);
	ipfix_flush(x);
	got = rec_s(&d->recs[0], IPFIX_PEN, IPFIX_NG_REMOTE_DOMAIN);
	assert_int_equal(strlen(got), 253);
	assert_int_equal(strspn(got, "a"), 253);
	ipfix_close(x);
	dec_free(d);
}

/* UDP template refresh (RFC 7011 8.4): first message, then by time, then by message count; idle ticks too. */
static void test_template_refresh(void **state)
{
	struct dec *d = dec_new();
	struct ipfix_options o;
	struct ipfix *x;
	struct tflow t;

	(void)state;
	memset(&o, 0, sizeof o);
	o.domain_id = 1;
	o.clock = fake_clock;
	o.template_refresh = 60 * NG_USEC;
	o.template_refresh_msgs = 5;
	fake_now = T0;
	x = ipfix_open_fn(&o, send_cb, d);
	tflow_v4(&t, 1);
	ipfix_flow_end(x, &t.f);
	ipfix_tick(x, fake_now);
	assert_int_equal(d->nmsg, 1);
	assert_int_equal(d->msgs[0].template_sets, 1);
	/* Within the minute: no templates. */
	fake_now += 30 * NG_USEC;
	ipfix_flow_end(x, &t.f);
	ipfix_tick(x, fake_now);
	assert_int_equal(d->nmsg, 2);
	assert_int_equal(d->msgs[1].template_sets, 0);
	/* A minute after the last templates: again. */
	fake_now += 31 * NG_USEC;
	ipfix_flow_end(x, &t.f);
	ipfix_tick(x, fake_now);
	assert_int_equal(d->nmsg, 3);
	assert_int_equal(d->msgs[2].template_sets, 1);
	/* Every 5 messages even when the clock stands still. */
	for (int i = 0; i < 10; i++) {
		ipfix_flow_end(x, &t.f);
		ipfix_flush(x);
	}
	assert_int_equal(d->nmsg, 13);
	for (int i = 3; i < 13; i++)
		assert_int_equal(d->msgs[i].template_sets, (i - 2) % 5 == 0 ? 1 : 0);
	/* Idle: a tick sends the templates alone once they are due, and nothing before. */
	ipfix_tick(x, fake_now);
	assert_int_equal(d->nmsg, 13);
	fake_now += 61 * NG_USEC;
	ipfix_tick(x, fake_now);
	assert_int_equal(d->nmsg, 14);
	assert_int_equal(d->msgs[13].template_sets, 1);
	assert_int_equal(d->msgs[13].records, 0);
	ipfix_close(x);
	dec_free(d);
}

/* Active timeout: interim records with delta counts, the end record carries only what is left. */
static void test_active_timeout(void **state)
{
	struct dec *d = dec_new();
	struct ipfix *x;
	struct tflow t;
	struct ipfix_stats st;

	(void)state;
	fake_now = T0;
	x = open_test(d, 0);
	tflow_v4(&t, 9);
	t.f.end_reason = FLOW_END_NONE;
	/* 59 s in: nothing yet. */
	t.f.dir_last[FLOW_SENT] = T0 + 59 * NG_USEC;
	ipfix_flow_update(x, &t.f);
	ipfix_flush(x);
	assert_int_equal(d->nrec, 0);
	/* 61 s: both directions so far, reason "active timeout". */
	t.f.dir_last[FLOW_SENT] = T0 + 61 * NG_USEC;
	ipfix_flow_update(x, &t.f);
	ipfix_flush(x);
	assert_int_equal(d->nrec, 2);
	assert_int_equal(rec_u(&d->recs[0], 0, 136), IPFIX_END_ACTIVE);
	assert_int_equal(rec_u(&d->recs[0], 0, 2), 10);
	assert_int_equal(rec_u(&d->recs[1], 0, 2), 8);
	/* More sent traffic only; 30 s later nothing is due, 61 s later one record with the delta. */
	t.f.packets[FLOW_SENT] += 5;
	t.f.bytes[FLOW_SENT] += 500;
	t.f.dir_last[FLOW_SENT] = T0 + 91 * NG_USEC;
	ipfix_flow_update(x, &t.f);
	ipfix_flush(x);
	assert_int_equal(d->nrec, 2);
	t.f.dir_last[FLOW_SENT] = T0 + 122 * NG_USEC;
	ipfix_flow_update(x, &t.f);
	ipfix_flush(x);
	assert_int_equal(d->nrec, 3);
	assert_int_equal(rec_u(&d->recs[2], 0, 61), 1);
	assert_int_equal(rec_u(&d->recs[2], 0, 2), 5);
	assert_int_equal(rec_u(&d->recs[2], 0, 1), 500);
	assert_int_equal(rec_u(&d->recs[2], 0, 152), (T0 + 61 * NG_USEC) / 1000);
	/* The end: only the received delta since the last record. */
	t.f.packets[FLOW_RECEIVED] += 3;
	t.f.bytes[FLOW_RECEIVED] += 3000;
	t.f.dir_last[FLOW_SENT] = T0 + 130 * NG_USEC;
	t.f.end_reason = FLOW_END_IDLE;
	ipfix_flow_end(x, &t.f);
	ipfix_flush(x);
	assert_int_equal(d->nrec, 4);
	assert_int_equal(rec_u(&d->recs[3], 0, 61), 0);
	assert_int_equal(rec_u(&d->recs[3], 0, 2), 3);
	assert_int_equal(rec_u(&d->recs[3], 0, 1), 3000);
	assert_int_equal(rec_u(&d->recs[3], 0, 136), IPFIX_END_IDLE);
	assert_int_equal(rec_u(&d->recs[3], 0, 152), (T0 + 122 * NG_USEC) / 1000);
	ipfix_get_stats(x, &st);
	assert_int_equal(st.interim, 3);
	/* The flow id is forgotten: a new flow with the same id starts from zero. */
	t.f.end_reason = FLOW_END_IDLE;
	ipfix_flow_end(x, &t.f);
	ipfix_flush(x);
	assert_int_equal(d->nrec, 6);
	assert_int_equal(rec_u(&d->recs[4], 0, 2), 15);
	ipfix_close(x);
	dec_free(d);
}

/* Many long flows at once: the tracking table grows, deletes keep every other entry findable. */
static void test_active_many(void **state)
{
	struct dec *d = dec_new();
	struct ipfix *x;
	struct tflow t;
	int n = 3000;

	(void)state;
	fake_now = T0;
	x = open_test(d, 0);
	tflow_v4(&t, 1);
	t.f.end_reason = FLOW_END_NONE;
	t.f.dir_last[FLOW_SENT] = T0 + 61 * NG_USEC;
	for (int i = 1; i <= n; i++) {
		t.f.id = (uint64_t)i * 7919;
		ipfix_flow_update(x, &t.f);
	}
	ipfix_flush(x);
	assert_int_equal(d->nrec, 2 * n);
	/* End the odd ones with no new traffic: no records; then the even ones with one more packet each. */
	t.f.end_reason = FLOW_END_IDLE;
	for (int i = 1; i <= n; i += 2) {
		t.f.id = (uint64_t)i * 7919;
		ipfix_flow_end(x, &t.f);
	}
	ipfix_flush(x);
	assert_int_equal(d->nrec, 2 * n);
	t.f.packets[FLOW_SENT]++;
	for (int i = 2; i <= n; i += 2) {
		t.f.id = (uint64_t)i * 7919;
		ipfix_flow_end(x, &t.f);
	}
	ipfix_flush(x);
	assert_int_equal(d->nrec, 2 * n + n / 2);
	for (int i = 2 * n; i < d->nrec; i++)
		assert_int_equal(rec_u(&d->recs[i], 0, 2), 1);
	ipfix_close(x);
	dec_free(d);
}

/* A send that fails drops the message's records, counts them, and the sequence number shows the gap. */
static void test_drops(void **state)
{
	struct dec *d = dec_new();
	struct ipfix *x;
	struct tflow t;
	struct ipfix_stats st;

	(void)state;
	fake_now = T0;
	x = open_test(d, 0);
	tflow_v4(&t, 1);
	ipfix_flow_end(x, &t.f);
	ipfix_flush(x);
	d->fail_sends = 1;
	ipfix_flow_end(x, &t.f);
	ipfix_flow_end(x, &t.f);
	ipfix_flush(x);
	d->fail_sends = 0;
	ipfix_flow_end(x, &t.f);
	ipfix_flush(x);
	ipfix_get_stats(x, &st);
	assert_int_equal(st.records, 8);
	assert_int_equal(st.dropped, 4);
	assert_int_equal(st.messages, 2);
	assert_int_equal(d->nmsg, 2);
	assert_int_equal(d->msgs[1].seq, 6);
	ipfix_close(x);
	dec_free(d);
}

static void test_parse_collector(void **state)
{
	char host[256], port[8], err[256];
	bool tcp;

	(void)state;
	assert_int_equal(ipfix_parse_collector("127.0.0.1:4739", host, sizeof host, port, sizeof port, &tcp, err,
					       sizeof err), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_string_equal(port, "4739");
	assert_false(tcp);
	assert_int_equal(ipfix_parse_collector("tcp://collector.example:4739", host, sizeof host, port, sizeof port,
					       &tcp, err, sizeof err), 0);
	assert_string_equal(host, "collector.example");
	assert_true(tcp);
	assert_int_equal(ipfix_parse_collector("udp://[2001:db8::1]:2055", host, sizeof host, port, sizeof port, &tcp,
					       err, sizeof err), 0);
	assert_string_equal(host, "2001:db8::1");
	assert_string_equal(port, "2055");
	assert_false(tcp);
	assert_int_equal(ipfix_parse_collector("2001:db8::1:4739", host, sizeof host, port, sizeof port, &tcp, err,
					       sizeof err), -1);
	assert_non_null(strstr(err, "brackets"));
	assert_int_equal(ipfix_parse_collector("sctp://h:4739", host, sizeof host, port, sizeof port, &tcp, err,
					       sizeof err), -1);
	assert_non_null(strstr(err, "transport"));
	assert_int_equal(ipfix_parse_collector("host", host, sizeof host, port, sizeof port, &tcp, err, sizeof err), -1);
	assert_non_null(strstr(err, "HOST:PORT"));
	assert_int_equal(ipfix_parse_collector(":4739", host, sizeof host, port, sizeof port, &tcp, err, sizeof err), -1);
	assert_int_equal(ipfix_parse_collector("h:0", host, sizeof host, port, sizeof port, &tcp, err, sizeof err), -1);
	assert_non_null(strstr(err, "port"));
	assert_int_equal(ipfix_parse_collector("h:65536", host, sizeof host, port, sizeof port, &tcp, err, sizeof err),
			 -1);
	assert_int_equal(ipfix_parse_collector("[::1:4739", host, sizeof host, port, sizeof port, &tcp, err, sizeof err),
			 -1);
}

/* A loopback socket of `type` on an ephemeral port; its port in *port. */
static int listen_on(int type, uint16_t *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int fd = socket(AF_INET, type, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void test_udp_transport(void **state)
{
	struct dec *d = dec_new();
	struct ipfix_options o;
	struct ipfix *x;
	struct tflow t;
	uint8_t buf[65536];
	char coll[64], err[256];
	uint16_t port;
	int fd = listen_on(SOCK_DGRAM, &port);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	(void)state;
	snprintf(coll, sizeof coll, "127.0.0.1:%u", port);
	memset(&o, 0, sizeof o);
	o.collector = coll;
	x = ipfix_open(&o, err, sizeof err);
	assert_non_null(x);
	tflow_v4(&t, 5);
	ipfix_flow_end(x, &t.f);
	ipfix_tick(x, time_now());
	assert_int_equal(poll(&p, 1, 2000), 1);
	n = recv(fd, buf, sizeof buf, 0);
	assert_true(n > 0);
	dec_message(d, buf, (size_t)n);
	assert_int_equal(d->msgs[0].template_sets, 1);
	assert_int_equal(d->nrec, 2);
	assert_int_equal(rec_u(&d->recs[1], 0, 2), 8);
	assert_true(d->msgs[0].domain != 0);	/* derived from the host name */
	/* Loopback's path MTU is 64 KiB: messages grow past an Ethernet frame, up to 8192 bytes. */
	for (int i = 0; i < 100; i++)
		ipfix_flow_end(x, &t.f);
	ipfix_flush(x);
	assert_int_equal(poll(&p, 1, 2000), 1);
	n = recv(fd, buf, sizeof buf, 0);
	assert_true(n > 1472 && n <= 8192);
	dec_message(d, buf, (size_t)n);
	ipfix_close(x);
	close(fd);
	dec_free(d);
}

/* An IPv6 collector written in brackets; skipped quietly where ::1 cannot be bound. */
static void test_udp_ipv6_collector(void **state)
{
	struct dec *d = dec_new();
	struct ipfix_options o;
	struct ipfix *x;
	struct tflow t;
	struct sockaddr_in6 sa;
	socklen_t sl = sizeof sa;
	uint8_t buf[65536];
	char coll[64], err[256];
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	(void)state;
	memset(&sa, 0, sizeof sa);
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_loopback;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		if (fd >= 0)
			close(fd);
		dec_free(d);
		skip();
	}
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(coll, sizeof coll, "udp://[::1]:%u", ntohs(sa.sin6_port));
	memset(&o, 0, sizeof o);
	o.collector = coll;
	x = ipfix_open(&o, err, sizeof err);
	assert_non_null(x);
	tflow_v6(&t, 11);
	ipfix_flow_end(x, &t.f);
	ipfix_flush(x);
	assert_int_equal(poll(&p, 1, 2000), 1);
	n = recv(fd, buf, sizeof buf, 0);
	assert_true(n > 0);
	dec_message(d, buf, (size_t)n);
	assert_int_equal(d->nrec, 2);
	assert_int_equal(d->recs[0].tid, IPFIX_TEMPLATE_V6);
	assert_int_equal(rec_u(&d->recs[0], 0, 148), 11);
	ipfix_close(x);
	close(fd);
	dec_free(d);
}

/* Read whole IPFIX messages from a stream for up to 2 s until `want` records arrived. */
static void read_stream(struct dec *d, int fd, int want)
{
	static uint8_t buf[1 << 20];
	size_t have = 0;
	ng_time end = time_mono() + 2 * NG_USEC;

	while (d->nrec < want && time_mono() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf + have, sizeof buf - have, 0);
		assert_true(n > 0);
		have += (size_t)n;
		while (have >= 4 && have >= g16(buf + 2)) {
			size_t len = g16(buf + 2);

			dec_message(d, buf, len);
			memmove(buf, buf + len, have - len);
			have -= len;
		}
	}
	assert_int_equal(have, 0);
}

static void test_tcp_transport(void **state)
{
	struct dec *d = dec_new();
	struct ipfix_options o;
	struct ipfix *x;
	struct ipfix_stats st;
	struct tflow t;
	char coll[64], err[256];
	uint16_t port;
	int lfd = listen_on(SOCK_STREAM, &port), afd, tries;

	(void)state;
	snprintf(coll, sizeof coll, "tcp://127.0.0.1:%u", port);
	memset(&o, 0, sizeof o);
	o.collector = coll;
	o.clock = fake_clock;
	fake_now = T0;
	x = ipfix_open(&o, err, sizeof err);
	assert_non_null(x);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	tflow_v4(&t, 1);
	for (int i = 0; i < 3; i++)
		ipfix_flow_end(x, &t.f);
	ipfix_tick(x, fake_now);
	ipfix_flow_end(x, &t.f);
	ipfix_tick(x, fake_now);
	read_stream(d, afd, 8);
	assert_int_equal(d->nmsg, 2);
	assert_int_equal(d->msgs[0].template_sets, 1);
	assert_int_equal(d->msgs[0].seq, 0);
	assert_int_equal(d->msgs[1].template_sets, 0);
	assert_int_equal(d->msgs[1].seq, 6);
	/* The collector goes away: the exporter notices, drops while down, reconnects after its backoff. */
	close(afd);
	for (tries = 0; tries < 100; tries++) {
		ipfix_tick(x, fake_now);
		ipfix_get_stats(x, &st);
		if (!st.connected)
			break;
		usleep(10000);
	}
	assert_false(st.connected);
	ipfix_flow_end(x, &t.f);
	ipfix_tick(x, fake_now);
	ipfix_get_stats(x, &st);
	assert_int_equal(st.dropped, 2);
	fake_now += 2 * NG_USEC;
	ipfix_tick(x, fake_now);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	ipfix_flow_end(x, &t.f);
	ipfix_tick(x, fake_now);
	d->nmsg = 0;
	d->nrec = 0;
	d->ntmpl = 0;
	read_stream(d, afd, 2);
	assert_int_equal(d->msgs[0].template_sets, 1);
	assert_int_equal(d->msgs[0].seq, 0);
	ipfix_get_stats(x, &st);
	assert_int_equal(st.connects, 2);
	/* Close sends what is queued. */
	ipfix_flow_end(x, &t.f);
	ipfix_close(x);
	read_stream(d, afd, 4);
	assert_int_equal(d->nrec, 4);
	close(afd);
	close(lfd);
	dec_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_v4_records),
		cmocka_unit_test(test_v6_and_one_direction),
		cmocka_unit_test(test_forced_end),
		cmocka_unit_test(test_sequence_and_mtu),
		cmocka_unit_test(test_long_strings),
		cmocka_unit_test(test_template_refresh),
		cmocka_unit_test(test_active_timeout),
		cmocka_unit_test(test_active_many),
		cmocka_unit_test(test_drops),
		cmocka_unit_test(test_parse_collector),
		cmocka_unit_test(test_udp_transport),
		cmocka_unit_test(test_udp_ipv6_collector),
		cmocka_unit_test(test_tcp_transport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
