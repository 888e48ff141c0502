/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_engine.c: the engine's per-flow rules on hand-made TCP conversations:
 * orientation and initiator, what counts as an exchange, which directions
 * alert and when, and what the whitelist learns (never spoofed sources);
 * attention levels and the signals derived from verdicts and flow state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <pcap/dlt.h>

#include "detect.h"
#include "dns.h"
#include "engine.h"
#include "local.h"
#include "whitelist.h"

struct seen {
	int alerts[2];
};

static void on_alert(void *arg, struct flow *f, enum flow_dir d)
{
	struct seen *s = arg;

	(void)f;
	s->alerts[d]++;
}

/* An IPv4/TCP frame on DLT_RAW from a to b with flags. */
static struct capture_packet tcp_pkt(uint8_t *buf, const char *src, uint16_t sport, const char *dst, uint16_t dport,
				     uint8_t flags, ng_time ts)
{
	struct capture_packet cp;
	ng_addr a, b;

	addr_parse(src, &a);
	addr_parse(dst, &b);
	memset(buf, 0, 40);
	buf[0] = 0x45;
	buf[3] = 40;
	buf[8] = 64;
	buf[9] = 6;
	memcpy(buf + 12, a.a, 4);
	memcpy(buf + 16, b.a, 4);
	buf[20] = (uint8_t)(sport >> 8);
	buf[21] = (uint8_t)sport;
	buf[22] = (uint8_t)(dport >> 8);
	buf[23] = (uint8_t)dport;
	buf[32] = 0x50;
	buf[33] = flags;
	cp.ts = ts;
	cp.data = buf;
	cp.caplen = cp.wirelen = 40;
	return cp;
}

struct rig {
	struct whitelist *wl;
	struct local_set *ls;
	struct engine *e;
	struct seen seen;
};

static void rig_up_mode(struct rig *r, const char *allow_file, bool alert_on_verdict);

/* The first version's alert rule (per direction, on verdicts), which the older tests here assert. */
static void rig_up(struct rig *r)
{
	rig_up_mode(r, NULL, true);
}

static void rig_up_allow(struct rig *r, const char *allow_file)
{
	rig_up_mode(r, allow_file, true);
}

static void rig_up_mode(struct rig *r, const char *allow_file, bool alert_on_verdict)
{
	struct whitelist_options wo = {0};
	struct engine_config ec = {0};
	struct engine_sink sink = {0};
	char err[256];

	memset(r, 0, sizeof *r);
	wo.window = 48LL * 3600 * NG_USEC;
	if (allow_file) {
		wo.allow_files = &allow_file;
		wo.nallow = 1;
	}
	r->wl = whitelist_open(&wo, err, sizeof err);
	assert_non_null(r->wl);
	r->ls = local_set_create();
	local_set_add(r->ls, "192.168.1.10", err, sizeof err);
	ec.names = true;
	ec.alert_on_verdict = alert_on_verdict;
	r->e = engine_create(&ec, &(struct engine_parts){.local = r->ls, .dns = NULL, .wl = r->wl});
	sink.alert = on_alert;
	sink.arg = &r->seen;
	engine_add_sink(r->e, &sink);
}

static void rig_down(struct rig *r)
{
	engine_destroy(r->e);
	local_set_destroy(r->ls);
	whitelist_close(r->wl);
}

static void send_pkt(struct rig *r, const char *src, uint16_t sp, const char *dst, uint16_t dp, uint8_t fl, ng_time t)
{
	uint8_t buf[64];
	struct capture_packet cp = tcp_pkt(buf, src, sp, dst, dp, fl, t);

	engine_packet(r->e, DLT_RAW, &cp);
	engine_flush(r->e);
}

/* A TCP segment (ACK|PSH) from src to dst carrying an HTTP request for host. */
static void send_http(struct rig *r, const char *src, uint16_t sp, const char *dst, uint16_t dp, const char *host,
		      ng_time t)
{
	uint8_t buf[256];
	struct capture_packet cp = tcp_pkt(buf, src, sp, dst, dp, 0x18, t);
	int n = snprintf((char *)buf + 40, sizeof buf - 40, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", host);

	buf[2] = (uint8_t)((40 + n) >> 8);
	buf[3] = (uint8_t)(40 + n);
	cp.caplen = cp.wirelen = (uint32_t)(40 + n);
	engine_packet(r->e, DLT_RAW, &cp);
	engine_flush(r->e);
}

/* A TCP segment (ACK|PSH) from src to dst carrying bytes that are neither TLS nor HTTP. */
static void send_data(struct rig *r, const char *src, uint16_t sp, const char *dst, uint16_t dp, ng_time t)
{
	uint8_t buf[128];
	struct capture_packet cp = tcp_pkt(buf, src, sp, dst, dp, 0x18, t);

	memcpy(buf + 40, "SSH-2.0-x\r\n", 11);
	buf[3] = 40 + 11;
	cp.caplen = cp.wirelen = 40 + 11;
	engine_packet(r->e, DLT_RAW, &cp);
	engine_flush(r->e);
}

/* The flow with this id (it must exist). */
static struct flow *only_flow(struct rig *r, uint64_t id)
{
	struct flow *f = flow_table_by_id(engine_flows(r->e), id);

	assert_non_null(f);
	return f;
}

static void known(struct rig *r, const char *addr, bool sent, bool recv)
{
	struct wl_entry we;
	ng_addr a;

	addr_parse(addr, &a);
	whitelist_entry(r->wl, &a, WL_SENT, &we);
	assert_int_equal(we.known, sent);
	whitelist_entry(r->wl, &a, WL_RECEIVED, &we);
	assert_int_equal(we.known, recv);
}

static const ng_time T0 = 1790000000LL * NG_USEC;

/* Our connection out: both directions anomalous at first contact, alerts for both once answered, learnt. */
static void test_outbound_handshake(void **state)
{
	struct rig r;
	struct flow *f;

	(void)state;
	rig_up(&r);
	send_pkt(&r, "192.168.1.10", 50000, "8.8.4.4", 443, 0x02, T0);
	f = only_flow(&r, 1);
	{
		char a[NG_ADDRSTRLEN];

		assert_string_equal(addr_format(flow_local_ip(f), a, sizeof a), "192.168.1.10");
	}
	assert_true(f->initiator_local);
	assert_int_equal(flow_verdict(f, FLOW_SENT)->verdict, WL_ANOMALOUS);
	assert_int_equal(r.seen.alerts[FLOW_SENT], 1);	/* we started it: alert at once */
	known(&r, "8.8.4.4", true, false);		/* sent is learnt from our own start */
	send_pkt(&r, "8.8.4.4", 443, "192.168.1.10", 50000, 0x12, T0 + 1000);
	assert_int_equal(r.seen.alerts[FLOW_RECEIVED], 0);	/* SYN-ACK: not yet an exchange */
	send_pkt(&r, "192.168.1.10", 50000, "8.8.4.4", 443, 0x10, T0 + 2000);
	assert_true(f->handshake);
	assert_int_equal(r.seen.alerts[FLOW_RECEIVED], 1);
	known(&r, "8.8.4.4", true, true);
	/* A second connection a minute later is normal both ways and raises nothing. */
	send_pkt(&r, "192.168.1.10", 50001, "8.8.4.4", 443, 0x02, T0 + 60 * NG_USEC);
	f = only_flow(&r, 2);
	assert_int_equal(flow_verdict(f, FLOW_SENT)->verdict, WL_NORMAL);
	assert_int_equal(flow_verdict(f, FLOW_RECEIVED)->verdict, WL_NORMAL);
	assert_int_equal(r.seen.alerts[FLOW_SENT] + r.seen.alerts[FLOW_RECEIVED], 2);
	rig_down(&r);
}

/* A remote connects to us and the handshake completes: both directions alert, once each. */
static void test_inbound_handshake_alerts_both(void **state)
{
	struct rig r;
	struct flow *f;

	(void)state;
	rig_up(&r);
	send_pkt(&r, "9.9.9.9", 40000, "192.168.1.10", 22, 0x02, T0);
	f = only_flow(&r, 1);
	assert_false(f->initiator_local);
	assert_int_equal(r.seen.alerts[0] + r.seen.alerts[1], 0);
	send_pkt(&r, "192.168.1.10", 22, "9.9.9.9", 40000, 0x12, T0 + 1000);
	assert_int_equal(r.seen.alerts[0] + r.seen.alerts[1], 0);	/* our SYN-ACK to a maybe-spoofed SYN */
	known(&r, "9.9.9.9", false, false);
	send_pkt(&r, "9.9.9.9", 40000, "192.168.1.10", 22, 0x10, T0 + 2000);
	assert_int_equal(r.seen.alerts[FLOW_SENT], 1);
	assert_int_equal(r.seen.alerts[FLOW_RECEIVED], 1);
	known(&r, "9.9.9.9", true, true);
	send_pkt(&r, "9.9.9.9", 40000, "192.168.1.10", 22, 0x18, T0 + 3000);
	assert_int_equal(r.seen.alerts[FLOW_SENT] + r.seen.alerts[FLOW_RECEIVED], 2);
	rig_down(&r);
}

/* Spoofed SYNs answered by RST (closed port) or SYN-ACK (open port, never acknowledged): no alert, nothing learnt. */
static void test_spoofed_syns_teach_nothing(void **state)
{
	struct rig r;

	(void)state;
	rig_up(&r);
	send_pkt(&r, "7.7.7.7", 1234, "192.168.1.10", 81, 0x02, T0);
	send_pkt(&r, "192.168.1.10", 81, "7.7.7.7", 1234, 0x14, T0 + 10);	/* RST-ACK */
	send_pkt(&r, "6.6.6.6", 1234, "192.168.1.10", 22, 0x02, T0 + 20);
	send_pkt(&r, "192.168.1.10", 22, "6.6.6.6", 1234, 0x12, T0 + 30);	/* SYN-ACK, then silence */
	engine_sync_whitelist(r.e);
	assert_int_equal(r.seen.alerts[0] + r.seen.alerts[1], 0);
	known(&r, "7.7.7.7", false, false);
	known(&r, "6.6.6.6", false, false);
	assert_int_equal(only_flow(&r, 1)->state, FLOW_STATE_RESET);
	rig_down(&r);
}

/* A packet after the idle timeout starts a new flow; a new SYN on a closed connection too. */
static void test_splits(void **state)
{
	struct rig r;
	struct flow_table_stats st;

	(void)state;
	rig_up(&r);
	send_pkt(&r, "192.168.1.10", 50000, "8.8.4.4", 443, 0x02, T0);
	send_pkt(&r, "8.8.4.4", 443, "192.168.1.10", 50000, 0x12, T0 + 1);
	send_pkt(&r, "192.168.1.10", 50000, "8.8.4.4", 443, 0x11, T0 + 2);	/* FIN */
	send_pkt(&r, "8.8.4.4", 443, "192.168.1.10", 50000, 0x11, T0 + 3);	/* FIN */
	assert_int_equal(only_flow(&r, 1)->state, FLOW_STATE_CLOSED);
	send_pkt(&r, "192.168.1.10", 50000, "8.8.4.4", 443, 0x02, T0 + 4);	/* port reuse */
	flow_table_get_stats(engine_flows(r.e), &st);
	assert_int_equal(st.created, 2);
	send_pkt(&r, "192.168.1.10", 50000, "8.8.4.4", 443, 0x10, T0 + 4 + 301 * NG_USEC);	/* after 5 min idle */
	flow_table_get_stats(engine_flows(r.e), &st);
	assert_int_equal(st.created, 3);
	rig_down(&r);
}

/* An IPv4/UDP frame on DLT_RAW carrying `msg`. */
static struct capture_packet udp_pkt(uint8_t *buf, const char *src, uint16_t sport, const char *dst, uint16_t dport,
				     const uint8_t *msg, size_t mlen, ng_time ts)
{
	struct capture_packet cp;
	ng_addr a, b;
	size_t total = 28 + mlen;

	addr_parse(src, &a);
	addr_parse(dst, &b);
	memset(buf, 0, 28);
	buf[0] = 0x45;
	buf[2] = (uint8_t)(total >> 8);
	buf[3] = (uint8_t)total;
	buf[8] = 64;
	buf[9] = 17;
	memcpy(buf + 12, a.a, 4);
	memcpy(buf + 16, b.a, 4);
	buf[20] = (uint8_t)(sport >> 8);
	buf[21] = (uint8_t)sport;
	buf[22] = (uint8_t)(dport >> 8);
	buf[23] = (uint8_t)dport;
	buf[24] = (uint8_t)((8 + mlen) >> 8);
	buf[25] = (uint8_t)(8 + mlen);
	memcpy(buf + 28, msg, mlen);
	cp.ts = ts;
	cp.data = buf;
	cp.caplen = cp.wirelen = (uint32_t)total;
	return cp;
}

/* A DNS message for "update.example.com" A, as a query or as an answer 45.33.32.156 (RFC 1035 4.1). */
static size_t dns_msg(uint8_t *m, uint16_t txid, bool answer)
{
	static const uint8_t q[] = {6, 'u', 'p', 'd', 'a', 't', 'e', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
				    0, 1, 0, 1};
	static const uint8_t an[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 45, 33, 32, 156};
	size_t n = 12;

	memset(m, 0, 12);
	m[0] = (uint8_t)(txid >> 8);
	m[1] = (uint8_t)txid;
	m[2] = answer ? 0x81 : 0x01;
	m[3] = answer ? 0x80 : 0x00;
	m[5] = 1;
	m[7] = answer ? 1 : 0;
	memcpy(m + n, q, sizeof q);
	n += sizeof q;
	if (answer) {
		memcpy(m + n, an, sizeof an);
		n += sizeof an;
	}
	return n;
}

/*
 * A name read from the payload after the flow started matters through a
 * domain rule only: "*.trusted.example" turns a first contact normal (and
 * "allowed by rule"), while without a matching rule the verdict stays what
 * it was at the flow's start, even if the whitelist learnt the remote since
 * (here from a parallel flow whose handshake finished in between).
 */
static void test_late_name_and_rules(void **state)
{
	const char *me = "192.168.1.10", *them = "93.184.216.34";
	/* No rules; a rule the name matches; a rule it does not match (which must change nothing). */
	const char *rules[3] = {NULL, "*.trusted.example\n", "*.other.example\n"};
	struct rig r;
	struct flow *f;

	(void)state;
	for (int v = 0; v < 3; v++) {
		char path[] = "/tmp/ng-test-allow-XXXXXX";

		if (rules[v]) {
			int fd = mkstemp(path);

			assert_true(fd >= 0);
			assert_int_equal(write(fd, rules[v], strlen(rules[v])), (ssize_t)strlen(rules[v]));
			close(fd);
			rig_up_allow(&r, path);
		} else {
			rig_up(&r);
		}
		/* Flow 1 to a new remote: SYN, SYN-ACK; flow 2 starts before flow 1's handshake completes. */
		send_pkt(&r, me, 40000, them, 80, 0x02, T0);
		send_pkt(&r, them, 80, me, 40000, 0x12, T0 + 1000);
		send_pkt(&r, me, 40001, them, 80, 0x02, T0 + 2000);
		send_pkt(&r, me, 40000, them, 80, 0x10, T0 + 3000);	/* flow 1 is an exchange now */
		send_pkt(&r, them, 80, me, 40001, 0x12, T0 + 4000);
		send_pkt(&r, me, 40001, them, 80, 0x10, T0 + 5000);
		send_http(&r, me, 40001, them, 80, "www.trusted.example", T0 + 6000);
		f = only_flow(&r, 2);
		assert_string_equal(flow_domain(f), "www.trusted.example");
		if (v == 1) {
			assert_int_equal(flow_verdict(f, FLOW_SENT)->verdict, WL_NORMAL);
			assert_int_equal(flow_verdict(f, FLOW_RECEIVED)->verdict, WL_NORMAL);
			assert_int_equal(flow_verdict(f, FLOW_RECEIVED)->why, WL_WHY_ALLOWED);
		} else {
			/* As of its start: sent was learnt from flow 1's SYN, received not yet. */
			assert_int_equal(flow_verdict(f, FLOW_SENT)->verdict, WL_NORMAL);
			assert_int_equal(flow_verdict(f, FLOW_RECEIVED)->verdict, WL_ANOMALOUS);
			assert_int_equal(flow_verdict(f, FLOW_RECEIVED)->why, WL_WHY_FIRST_CONTACT);
		}
		rig_down(&r);
		if (rules[v])
			unlink(path);
	}
}

/* A forged answer (no query seen) teaches nothing; the same answer to a real query does. */
static void test_dns_answers_need_a_query(void **state)
{
	struct whitelist_options wo = {0};
	struct engine_config ec = {0};
	struct dns_cache *dns = dns_cache_create(64, 3600 * NG_USEC);
	struct local_set *ls = local_set_create();
	struct whitelist *wl;
	struct engine *e;
	struct engine_stats st;
	uint8_t m[128], buf[256];
	struct capture_packet cp;
	ng_addr target;
	char err[128];
	size_t n;

	(void)state;
	wo.window = 48LL * 3600 * NG_USEC;
	wl = whitelist_open(&wo, err, sizeof err);
	e = engine_create(&ec, &(struct engine_parts){.local = ls, .dns = dns, .wl = wl});
	addr_parse("45.33.32.156", &target);

	n = dns_msg(m, 0x1234, true);
	cp = udp_pkt(buf, "8.8.4.4", 53, "192.168.1.10", 40000, m, n, T0);
	engine_packet(e, DLT_RAW, &cp);
	engine_flush(e);
	assert_null(dns_lookup(dns, &target, T0 + 1));
	engine_get_stats(e, &st);
	assert_int_equal(st.dns_unsolicited, 1);

	n = dns_msg(m, 0x4321, false);
	cp = udp_pkt(buf, "192.168.1.10", 40001, "8.8.4.4", 53, m, n, T0 + 10);
	engine_packet(e, DLT_RAW, &cp);
	n = dns_msg(m, 0x4321, true);
	cp = udp_pkt(buf, "8.8.4.4", 53, "192.168.1.10", 40001, m, n, T0 + 20);
	engine_packet(e, DLT_RAW, &cp);
	engine_flush(e);
	assert_non_null(dns_lookup(dns, &target, T0 + 30));
	assert_string_equal(dns_lookup(dns, &target, T0 + 30), "update.example.com");
	/* A second answer to the same query is a replay: ignored. */
	engine_packet(e, DLT_RAW, &cp);
	engine_flush(e);
	engine_get_stats(e, &st);
	assert_int_equal(st.dns_unsolicited, 2);

	engine_destroy(e);
	dns_cache_destroy(dns);
	local_set_destroy(ls);
	whitelist_close(wl);
}

/* True when f carries the signal named `name`. */
static bool has_signal(const struct flow *f, enum sig_id id)
{
	struct sig_view sv[SIG_COUNT];
	size_t n = detect_signals(f, 48LL * 3600 * NG_USEC, sv);

	for (size_t i = 0; i < n; i++) {
		if (sv[i].id == id)
			return true;
	}
	return false;
}

/*
 * Attention by default: a first contact we start is high (one alert for the
 * flow, not one per direction); the next connection to it is none; an
 * inbound attempt we refuse (RST) or never answer is none with the signal
 * "unanswered" and alerts nothing, and is counted with its address once; an
 * inbound connection we accept from a new address is high once it is an
 * exchange.
 */
static void test_attention_levels(void **state)
{
	const char *me = "192.168.1.10";
	struct engine_stats st;
	struct rig r;
	struct flow *f;

	(void)state;
	rig_up_mode(&r, NULL, false);
	send_pkt(&r, me, 50000, "8.8.4.4", 443, 0x02, T0);
	send_pkt(&r, "8.8.4.4", 443, me, 50000, 0x12, T0 + 1000);
	send_pkt(&r, me, 50000, "8.8.4.4", 443, 0x10, T0 + 2000);
	f = only_flow(&r, 1);
	assert_int_equal(f->attention, NG_ATTN_HIGH);
	assert_true(has_signal(f, SIG_FIRST_CONTACT));
	assert_false(has_signal(f, SIG_UNANSWERED));
	send_data(&r, me, 50000, "8.8.4.4", 443, T0 + 3000);	/* not TLS or HTTP: no name will come */
	assert_int_equal(r.seen.alerts[FLOW_SENT] + r.seen.alerts[FLOW_RECEIVED], 1);

	send_pkt(&r, me, 50001, "8.8.4.4", 443, 0x02, T0 + 60 * NG_USEC);
	f = only_flow(&r, 2);
	assert_int_equal(f->attention, NG_ATTN_NONE);
	assert_false(has_signal(f, SIG_FIRST_CONTACT));

	/* Scans of this host: refused and unanswered. */
	send_pkt(&r, "7.7.7.7", 1234, me, 81, 0x02, T0 + 70 * NG_USEC);
	send_pkt(&r, me, 81, "7.7.7.7", 1234, 0x14, T0 + 70 * NG_USEC + 10);
	send_pkt(&r, "7.7.7.7", 1235, me, 82, 0x02, T0 + 71 * NG_USEC);
	send_pkt(&r, "6.6.6.6", 1234, me, 23, 0x02, T0 + 72 * NG_USEC);
	for (uint64_t id = 3; id <= 5; id++) {
		f = only_flow(&r, id);
		assert_int_equal(f->attention, NG_ATTN_NONE);
		assert_true(has_signal(f, SIG_UNANSWERED));
		assert_false(has_signal(f, SIG_FIRST_CONTACT));
	}
	assert_int_equal(r.seen.alerts[FLOW_SENT] + r.seen.alerts[FLOW_RECEIVED], 1);
	engine_publish(r.e, T0);
	send_pkt(&r, me, 50002, "8.8.4.4", 443, 0x02, T0 + 3600 * NG_USEC);	/* ends them all (idle) */
	engine_get_stats(r.e, &st);
	assert_int_equal(st.unanswered_flows, 3);
	assert_int_equal(st.unanswered_addresses, 2);
	assert_int_equal(st.held_by_attention[NG_ATTN_HIGH], 0);	/* the ended flows were freed; the new one is known */
	assert_int_equal(st.held_by_attention[NG_ATTN_NONE], 1);

	/* Accepted from a new address: high once it is an exchange, one alert. */
	send_pkt(&r, "9.9.9.9", 40000, me, 22, 0x02, T0 + 3601 * NG_USEC);
	f = only_flow(&r, 7);
	assert_int_equal(f->attention, NG_ATTN_NONE);
	send_pkt(&r, me, 22, "9.9.9.9", 40000, 0x12, T0 + 3601 * NG_USEC + 10);
	send_pkt(&r, "9.9.9.9", 40000, me, 22, 0x10, T0 + 3601 * NG_USEC + 20);
	send_data(&r, "9.9.9.9", 40000, me, 22, T0 + 3601 * NG_USEC + 30);
	assert_int_equal(f->attention, NG_ATTN_HIGH);
	assert_int_equal(r.seen.alerts[FLOW_SENT] + r.seen.alerts[FLOW_RECEIVED], 2);
	rig_down(&r);
}

/*
 * A known service: a flow named www.example.com teaches the whitelist the
 * registrable domain example.com; a new address that an HTTP Host names
 * cdn.example.com is then low (known_service), not high, and its alert,
 * held while the name could still come, never fires. A nameless connection
 * to a new address stays high.
 */
static void test_attention_known_service(void **state)
{
	const char *me = "192.168.1.10";
	struct rig r;
	struct flow *f;

	(void)state;
	rig_up_mode(&r, NULL, false);
	send_pkt(&r, me, 40000, "93.184.216.34", 80, 0x02, T0);
	send_pkt(&r, "93.184.216.34", 80, me, 40000, 0x12, T0 + 1000);
	send_pkt(&r, me, 40000, "93.184.216.34", 80, 0x10, T0 + 2000);
	send_http(&r, me, 40000, "93.184.216.34", 80, "www.example.com", T0 + 3000);
	send_pkt(&r, "93.184.216.34", 80, me, 40000, 0x18, T0 + 4000);
	assert_int_equal(only_flow(&r, 1)->attention, NG_ATTN_HIGH);
	assert_int_equal(r.seen.alerts[FLOW_SENT] + r.seen.alerts[FLOW_RECEIVED], 1);

	send_pkt(&r, me, 40001, "93.184.216.99", 80, 0x02, T0 + NG_USEC);
	f = only_flow(&r, 2);
	assert_int_equal(f->attention, NG_ATTN_HIGH);	/* nameless so far */
	send_pkt(&r, "93.184.216.99", 80, me, 40001, 0x12, T0 + NG_USEC + 1000);
	send_pkt(&r, me, 40001, "93.184.216.99", 80, 0x10, T0 + NG_USEC + 2000);
	assert_int_equal(r.seen.alerts[FLOW_SENT] + r.seen.alerts[FLOW_RECEIVED], 1);	/* held for the name */
	send_http(&r, me, 40001, "93.184.216.99", 80, "cdn.example.com", T0 + NG_USEC + 3000);
	assert_int_equal(f->attention, NG_ATTN_LOW);
	assert_true(has_signal(f, SIG_KNOWN_SERVICE));
	assert_false(has_signal(f, SIG_FIRST_CONTACT));
	assert_int_equal(r.seen.alerts[FLOW_SENT] + r.seen.alerts[FLOW_RECEIVED], 1);

	send_pkt(&r, me, 40002, "93.184.216.77", 443, 0x02, T0 + 2 * NG_USEC);
	send_pkt(&r, "93.184.216.77", 443, me, 40002, 0x12, T0 + 2 * NG_USEC + 1000);
	send_pkt(&r, me, 40002, "93.184.216.77", 443, 0x10, T0 + 2 * NG_USEC + 2000);
	send_data(&r, me, 40002, "93.184.216.77", 443, T0 + 2 * NG_USEC + 3000);
	assert_int_equal(only_flow(&r, 3)->attention, NG_ATTN_HIGH);
	assert_int_equal(r.seen.alerts[FLOW_SENT] + r.seen.alerts[FLOW_RECEIVED], 2);
	rig_down(&r);
}

/* The stored (behaviour) signal of f with this id, or NULL. */
static const struct sig_view *signal_of(const struct flow *f, enum sig_id id, struct sig_view *sv)
{
	size_t n = detect_signals(f, 48LL * 3600 * NG_USEC, sv);

	for (size_t i = 0; i < n; i++) {
		if (sv[i].id == id)
			return &sv[i];
	}
	return NULL;
}

/*
 * no_dns: once this host has had DNS answers (5), a connection it starts to
 * a new public address that no answer named is low on its own (and first
 * contact keeps it high); the address the answer named gets no such signal,
 * nor does a connection to a public resolver. long_connection: a known
 * connection open past an hour turns low, with its age as the value.
 */
static void test_no_dns_and_long_connection(void **state)
{
	const char *me = "192.168.1.10";
	struct whitelist_options wo = {0};
	struct engine_config ec = {0};
	struct dns_cache *dns = dns_cache_create(64, 3600 * NG_USEC);
	struct local_set *ls = local_set_create();
	struct sig_view sv[SIG_COUNT];
	const struct sig_view *s;
	struct whitelist *wl;
	struct engine *e;
	struct flow *f;
	uint8_t m[128], buf[256];
	struct capture_packet cp;
	char err[128];
	size_t n;

	(void)state;
	wo.window = 48LL * 3600 * NG_USEC;
	wl = whitelist_open(&wo, err, sizeof err);
	local_set_add(ls, me, err, sizeof err);
	e = engine_create(&ec, &(struct engine_parts){.local = ls, .dns = dns, .wl = wl});
	for (uint16_t i = 0; i < 5; i++) {
		n = dns_msg(m, (uint16_t)(0x100 + i), false);
		cp = udp_pkt(buf, me, (uint16_t)(40000 + i), "192.168.1.1", 53, m, n, T0 + i * 10);
		engine_packet(e, DLT_RAW, &cp);
		n = dns_msg(m, (uint16_t)(0x100 + i), true);
		cp = udp_pkt(buf, "192.168.1.1", 53, me, (uint16_t)(40000 + i), m, n, T0 + i * 10 + 5);
		engine_packet(e, DLT_RAW, &cp);
	}
	/* Flows 1-10 are the DNS exchanges. */
	cp = tcp_pkt(buf, me, 50000, "45.33.32.156", 443, 0x02, T0 + 100);	/* named by the answers */
	engine_packet(e, DLT_RAW, &cp);
	cp = tcp_pkt(buf, "45.33.32.156", 443, me, 50000, 0x12, T0 + 110);
	engine_packet(e, DLT_RAW, &cp);
	cp = tcp_pkt(buf, me, 50000, "45.33.32.156", 443, 0x10, T0 + 120);
	engine_packet(e, DLT_RAW, &cp);
	cp = tcp_pkt(buf, me, 50001, "45.33.32.157", 443, 0x02, T0 + 200);	/* named by nothing */
	engine_packet(e, DLT_RAW, &cp);
	cp = tcp_pkt(buf, me, 50002, "9.9.9.9", 443, 0x02, T0 + 300);		/* a public resolver (DoH) */
	engine_packet(e, DLT_RAW, &cp);
	engine_flush(e);
	assert_null(signal_of(flow_table_by_id(engine_flows(e), 6), SIG_NO_DNS, sv));
	f = flow_table_by_id(engine_flows(e), 7);
	s = signal_of(f, SIG_NO_DNS, sv);
	assert_non_null(s);
	assert_true(s->value == 1);
	assert_int_equal(f->attention, NG_ATTN_HIGH);	/* first contact decides */
	assert_null(signal_of(flow_table_by_id(engine_flows(e), 8), SIG_NO_DNS, sv));

	/* A second connection to the named address, kept open for 61 minutes (a packet every 4). */
	for (int min = 0; min <= 61; min += 4) {
		cp = tcp_pkt(buf, me, 50010, "45.33.32.156", 443, min ? 0x10 : 0x02, T0 + NG_USEC + min * 60 * NG_USEC);
		engine_packet(e, DLT_RAW, &cp);
		cp = tcp_pkt(buf, "45.33.32.156", 443, me, 50010, min ? 0x10 : 0x12, T0 + NG_USEC + min * 60 * NG_USEC + 10);
		engine_packet(e, DLT_RAW, &cp);
		engine_flush(e);
		if (min == 0) {
			cp = tcp_pkt(buf, me, 50010, "45.33.32.156", 443, 0x10, T0 + NG_USEC + 20);
			engine_packet(e, DLT_RAW, &cp);
			engine_flush(e);
			f = flow_table_by_id(engine_flows(e), 9);
			assert_non_null(f);
			assert_int_equal(f->attention, NG_ATTN_NONE);
		}
	}
	cp = tcp_pkt(buf, me, 50010, "45.33.32.156", 443, 0x10, T0 + NG_USEC + 64 * 60 * NG_USEC);
	engine_packet(e, DLT_RAW, &cp);
	engine_flush(e);
	f = flow_table_by_id(engine_flows(e), 9);
	assert_non_null(f);
	s = signal_of(f, SIG_LONG_CONNECTION, sv);
	assert_non_null(s);
	assert_true(s->value >= 3600);
	assert_int_equal(f->attention, NG_ATTN_LOW);

	engine_destroy(e);
	dns_cache_destroy(dns);
	local_set_destroy(ls);
	whitelist_close(wl);
}

/*
 * A beacon that rotates names under its own domain (api., upd., img.
 * cdn-sync.net, all on one new address) is high: names that only ever
 * point at the beacon's own address vouch for nothing.
 */
static void test_beacon_rotating_names(void **state)
{
	static const char *const names[] = {"api.cdn-sync.net", "upd.cdn-sync.net", "img.cdn-sync.net"};
	static const int jitter_ms[] = {0, 700, -900, 400, -300, 1100, -600, 200, 900, -1000, 500, -200, 800};
	const char *me = "192.168.1.10", *c2 = "45.77.12.34";
	struct sig_view sv[SIG_COUNT];
	const struct sig_view *s = NULL;
	struct rig r;
	struct flow *f = NULL;

	(void)state;
	rig_up_mode(&r, NULL, false);
	for (int i = 0; i < 13; i++) {
		ng_time t = T0 + i * 60 * NG_USEC + jitter_ms[i] * 1000LL;
		uint16_t port = (uint16_t)(41000 + i);

		send_pkt(&r, me, port, c2, 80, 0x02, t);
		send_pkt(&r, c2, 80, me, port, 0x12, t + 1000);
		send_pkt(&r, me, port, c2, 80, 0x10, t + 2000);
		send_http(&r, me, port, c2, 80, names[i % 3], t + 3000);
		send_pkt(&r, c2, 80, me, port, 0x11, t + 4000);
		send_pkt(&r, me, port, c2, 80, 0x11, t + 5000);
		f = only_flow(&r, (uint64_t)i + 1);
	}
	s = signal_of(f, SIG_BEACON, sv);
	assert_non_null(s);
	assert_null(strstr(s->reason, "other names"));
	assert_int_equal(f->attention, NG_ATTN_HIGH);
	rig_down(&r);
}

/* A capture dated before 1970 (a pcapng's if_tsoffset): each direction's last packet and the flow's are its times. */
static void test_times_before_1970(void **state)
{
	const ng_time t0 = -3000000000LL * NG_USEC;
	struct rig r;
	struct flow *f;

	(void)state;
	rig_up(&r);
	send_pkt(&r, "192.168.1.10", 50000, "8.8.4.4", 443, 0x02, t0);
	f = only_flow(&r, 1);
	assert_true(flow_last_seen(f) == t0);
	send_pkt(&r, "8.8.4.4", 443, "192.168.1.10", 50000, 0x12, t0 + 1000);
	send_pkt(&r, "192.168.1.10", 50000, "8.8.4.4", 443, 0x10, t0 + 2000);
	assert_true(f->dir_last[FLOW_SENT] == t0 + 2000);
	assert_true(f->dir_last[FLOW_RECEIVED] == t0 + 1000);
	assert_true(flow_dir_first(f, FLOW_RECEIVED) == t0 + 1000);
	assert_true(flow_last_seen(f) == t0 + 2000);
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outbound_handshake),
		cmocka_unit_test(test_times_before_1970),
		cmocka_unit_test(test_inbound_handshake_alerts_both),
		cmocka_unit_test(test_spoofed_syns_teach_nothing),
		cmocka_unit_test(test_splits),
		cmocka_unit_test(test_late_name_and_rules),
		cmocka_unit_test(test_dns_answers_need_a_query),
		cmocka_unit_test(test_attention_levels),
		cmocka_unit_test(test_attention_known_service),
		cmocka_unit_test(test_no_dns_and_long_connection),
		cmocka_unit_test(test_beacon_rotating_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
