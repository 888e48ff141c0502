/* SPDX-License-Identifier: BSD-2-Clause */
/* test_local.c: inference of a capture's local host from hand-made Ethernet frames run through the decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "decode.h"
#include "local.h"

#define DLT_EN10MB_ 1

/* Build an Ethernet frame with one IPv4 or IPv6 packet carrying a TCP (flags) or UDP header, and feed it. */
static void feed(struct local_infer *li, uint8_t proto, const char *src, uint16_t sport, const char *dst, uint16_t dport,
		 uint8_t tcp_flags)
{
	uint8_t f[128];
	ng_addr s, d;
	size_t ip, l4, l4len = proto == NG_PROTO_TCP ? 20 : 8, len;
	struct pkt p;

	assert_int_equal(addr_parse(src, &s), 0);
	assert_int_equal(addr_parse(dst, &d), 0);
	assert_int_equal(s.v, d.v);
	memset(f, 0, sizeof f);
	f[0] = 0x02, f[5] = 0x01, f[6] = 0x02, f[11] = 0x10;
	f[12] = s.v == 4 ? 0x08 : 0x86;
	f[13] = s.v == 4 ? 0x00 : 0xdd;
	ip = 14;
	if (s.v == 4) {
		l4 = ip + 20;
		f[ip] = 0x45;
		f[ip + 2] = (uint8_t)((20 + l4len) >> 8);
		f[ip + 3] = (uint8_t)(20 + l4len);
		f[ip + 8] = 64;
		f[ip + 9] = proto;
		memcpy(f + ip + 12, s.a, 4);
		memcpy(f + ip + 16, d.a, 4);
	} else {
		l4 = ip + 40;
		f[ip] = 0x60;
		f[ip + 5] = (uint8_t)l4len;
		f[ip + 6] = proto;
		f[ip + 7] = 64;
		memcpy(f + ip + 8, s.a, 16);
		memcpy(f + ip + 24, d.a, 16);
	}
	f[l4] = (uint8_t)(sport >> 8), f[l4 + 1] = (uint8_t)sport;
	f[l4 + 2] = (uint8_t)(dport >> 8), f[l4 + 3] = (uint8_t)dport;
	if (proto == NG_PROTO_TCP) {
		f[l4 + 12] = 0x50;
		f[l4 + 13] = tcp_flags;
		f[l4 + 14] = 0xff;
	} else
		f[l4 + 5] = (uint8_t)l4len;
	len = l4 + l4len;
	assert_int_equal(decode_packet(DLT_EN10MB_, f, (uint32_t)len, (uint32_t)len, &p), DECODE_OK);
	local_infer_packet(li, &p);
}

/* A whole TCP connection: SYN from the client, SYN-ACK, ACK, data, FIN both ways. */
static void tcp_conn(struct local_infer *li, const char *client, uint16_t cport, const char *server, uint16_t sport)
{
	feed(li, NG_PROTO_TCP, client, cport, server, sport, NG_TCP_SYN);
	feed(li, NG_PROTO_TCP, server, sport, client, cport, NG_TCP_SYN | NG_TCP_ACK);
	feed(li, NG_PROTO_TCP, client, cport, server, sport, NG_TCP_ACK);
	feed(li, NG_PROTO_TCP, client, cport, server, sport, NG_TCP_ACK | NG_TCP_PSH);
	feed(li, NG_PROTO_TCP, server, sport, client, cport, NG_TCP_ACK | NG_TCP_PSH);
	feed(li, NG_PROTO_TCP, client, cport, server, sport, NG_TCP_ACK | NG_TCP_FIN);
	feed(li, NG_PROTO_TCP, server, sport, client, cport, NG_TCP_ACK | NG_TCP_FIN);
}

/* Finish li into a new set; returns the set's description (static buffer) and the count in *n. */
static const char *finish(struct local_infer *li, size_t *n, char *logbuf, size_t loglen)
{
	static char desc[256];
	struct local_set *ls = local_set_create();

	*n = local_infer_finish(li, ls, logbuf, loglen);
	local_set_describe(ls, desc, sizeof desc);
	local_set_destroy(ls);
	local_infer_destroy(li);
	return desc;
}

/* One conversation between a LAN client and a public server (a C2 check-in capture): the client is local. */
static void test_one_conversation_picks_lan_opener(void **state)
{
	struct local_infer *li = local_infer_create();
	char log[256];
	size_t n;

	(void)state;
	/* The public server's address sorts lower: the old tie-break would have picked it. */
	tcp_conn(li, "192.168.122.145", 49160, "184.170.149.44", 80);
	assert_string_equal(finish(li, &n, log, sizeof log), "192.168.122.145");
	assert_int_equal(n, 1);
	assert_non_null(strstr(log, "opened 1"));
}

/* The server's answers alone (SYN-ACK, data) never make it the opener. */
static void test_syn_ack_is_not_an_opening(void **state)
{
	struct local_infer *li = local_infer_create();
	size_t n;
	char log[256];

	(void)state;
	/* A LAN web server answering two public clients, and a LAN printer that opens one connection out. */
	tcp_conn(li, "8.8.4.4", 40000, "192.168.1.2", 443);
	tcp_conn(li, "9.9.9.9", 40001, "192.168.1.2", 443);
	tcp_conn(li, "192.168.1.50", 50000, "1.1.1.1", 443);
	assert_string_equal(finish(li, &n, log, sizeof log), "192.168.1.50");
}

/* A public host's own capture (it opens, and is scanned): no private opener, so the busiest address. */
static void test_public_host_falls_back_to_busiest(void **state)
{
	struct local_infer *li = local_infer_create();
	size_t n;
	char log[256];

	(void)state;
	tcp_conn(li, "147.32.83.234", 50001, "20.199.120.85", 443);
	tcp_conn(li, "147.32.83.234", 50002, "52.4.251.126", 443);
	feed(li, NG_PROTO_TCP, "167.94.146.67", 27620, "147.32.83.234", 2052, NG_TCP_SYN);
	feed(li, NG_PROTO_TCP, "138.68.73.90", 61953, "147.32.83.234", 9993, NG_TCP_SYN);
	assert_string_equal(finish(li, &n, log, sizeof log), "147.32.83.234");
	assert_int_equal(n, 1);
}

/* Among several private openers, the one in the most conversations. */
static void test_busiest_private_opener(void **state)
{
	struct local_infer *li = local_infer_create();
	size_t n;
	char log[256];

	(void)state;
	tcp_conn(li, "10.0.0.7", 50000, "1.1.1.1", 443);
	tcp_conn(li, "10.0.0.9", 50001, "1.1.1.1", 443);
	tcp_conn(li, "10.0.0.9", 50002, "8.8.8.8", 443);
	/* A public address in more conversations than either does not win over them. */
	tcp_conn(li, "10.0.0.3", 50003, "8.8.8.8", 80);
	assert_string_equal(finish(li, &n, log, sizeof log), "10.0.0.9");
}

/* UDP from a high port to a well-known one opens; the answer does not; high to high opens nothing. */
static void test_udp_openings(void **state)
{
	struct local_infer *li = local_infer_create();
	size_t n;
	char log[256];

	(void)state;
	feed(li, NG_PROTO_UDP, "192.168.1.10", 53000, "8.8.8.8", 53, 0);
	feed(li, NG_PROTO_UDP, "8.8.8.8", 53, "192.168.1.10", 53000, 0);
	assert_string_equal(finish(li, &n, log, sizeof log), "192.168.1.10");

	/* Only answers seen (the query was before the capture): nobody opened, the old rule decides. */
	li = local_infer_create();
	feed(li, NG_PROTO_UDP, "8.8.8.8", 53, "192.168.1.10", 53000, 0);
	assert_string_equal(finish(li, &n, log, sizeof log), "8.8.8.8");

	/* Media between two high ports opens nothing either. */
	li = local_infer_create();
	feed(li, NG_PROTO_UDP, "192.168.1.10", 50000, "1.1.1.1", 3478, 0);
	feed(li, NG_PROTO_UDP, "1.1.1.1", 3478, "192.168.1.10", 50000, 0);
	assert_string_equal(finish(li, &n, log, sizeof log), "1.1.1.1");
}

/* One address per IP version, each chosen by the rule on its own. */
static void test_one_per_version(void **state)
{
	struct local_infer *li = local_infer_create();
	size_t n;
	char log[256];

	(void)state;
	tcp_conn(li, "fd00::10", 50000, "2001:4860:4860::8888", 443);
	tcp_conn(li, "2001:4860:4860::8888", 50001, "2a00:1450::1", 443);
	tcp_conn(li, "2001:4860:4860::8888", 50002, "2a00:1450::2", 443);
	tcp_conn(li, "147.32.83.234", 50001, "20.199.120.85", 443);
	tcp_conn(li, "147.32.83.234", 50002, "52.4.251.126", 443);
	assert_string_equal(finish(li, &n, log, sizeof log), "147.32.83.234, fd00::10");
	assert_int_equal(n, 2);
}

/* Link-local and multicast ends never win through the opener rule. */
static void test_link_local_opener_is_not_preferred(void **state)
{
	struct local_infer *li = local_infer_create();
	size_t n;
	char log[256];

	(void)state;
	feed(li, NG_PROTO_UDP, "fe80::1", 50000, "fe80::2", 53, 0);
	tcp_conn(li, "2001:db8::5", 50000, "2a00:1450::1", 443);
	tcp_conn(li, "2a00:1450::1", 50001, "2a00:1450::2", 443);
	tcp_conn(li, "2a00:1450::1", 50002, "2a00:1450::3", 443);
	/* 2001:db8::/32 is a documentation (test network) prefix: a private opener. */
	assert_string_equal(finish(li, &n, log, sizeof log), "2001:db8::5");
}

/* Nothing unicast: nothing inferred. */
static void test_empty(void **state)
{
	size_t n;
	char log[256];

	(void)state;
	assert_string_equal(finish(local_infer_create(), &n, log, sizeof log), "");
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_conversation_picks_lan_opener),
		cmocka_unit_test(test_syn_ack_is_not_an_opening),
		cmocka_unit_test(test_public_host_falls_back_to_busiest),
		cmocka_unit_test(test_busiest_private_opener),
		cmocka_unit_test(test_udp_openings),
		cmocka_unit_test(test_one_per_version),
		cmocka_unit_test(test_link_local_opener_is_not_preferred),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
