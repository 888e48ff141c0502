/* SPDX-License-Identifier: BSD-2-Clause */
/* test_decode.c: the decoder on hand-built frames of every link type, fragments, tunnels and truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pcap/dlt.h>

#include "decode.h"
#include "util.h"

/* A frame under construction. */
struct frame {
	uint8_t b[2048];
	size_t n;
};

static void put(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put8(struct frame *f, uint8_t v)
{
	f->b[f->n++] = v;
}

static void put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void ether(struct frame *f, uint16_t type)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};

	put(f, macs, sizeof macs);
	put16(f, type);
}

/* IPv4 header with total length covering `payload` bytes; frag word as given. */
static void ipv4(struct frame *f, uint8_t proto, const char *src, const char *dst, size_t payload, uint16_t id,
		 uint16_t fragw, size_t optlen)
{
	uint8_t s[4], d[4];
	unsigned a, b, c, e;

	sscanf(src, "%u.%u.%u.%u", &a, &b, &c, &e);
	s[0] = (uint8_t)a, s[1] = (uint8_t)b, s[2] = (uint8_t)c, s[3] = (uint8_t)e;
	sscanf(dst, "%u.%u.%u.%u", &a, &b, &c, &e);
	d[0] = (uint8_t)a, d[1] = (uint8_t)b, d[2] = (uint8_t)c, d[3] = (uint8_t)e;
	put8(f, (uint8_t)(0x40 | (5 + optlen / 4)));
	put8(f, 0);
	put16(f, (uint16_t)(20 + optlen + payload));
	put16(f, id);
	put16(f, fragw);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put(f, s, 4);
	put(f, d, 4);
	for (size_t i = 0; i < optlen; i++)
		put8(f, 1);	/* NOP options */
}

static void ipv6(struct frame *f, uint8_t nh, uint8_t last_a, uint8_t last_b, size_t payload)
{
	uint8_t a[16] = {0x20, 0x01, 0x48, 0x60}, b[16] = {0x2a, 0x00, 0x14, 0x50};

	a[15] = last_a;
	b[15] = last_b;
	put32(f, 0x60000000);
	put16(f, (uint16_t)payload);
	put8(f, nh);
	put8(f, 64);
	put(f, a, 16);
	put(f, b, 16);
}

static void tcp(struct frame *f, uint16_t sp, uint16_t dp, uint8_t flags, const char *data)
{
	put16(f, sp);
	put16(f, dp);
	put32(f, 1000);
	put32(f, 0);
	put8(f, 0x50);
	put8(f, flags);
	put16(f, 65535);
	put32(f, 0);
	if (data)
		put(f, data, strlen(data));
}

static void udp(struct frame *f, uint16_t sp, uint16_t dp, size_t payload)
{
	put16(f, sp);
	put16(f, dp);
	put16(f, (uint16_t)(8 + payload));
	put16(f, 0);
	for (size_t i = 0; i < payload; i++)
		put8(f, (uint8_t)i);
}

static void test_ethernet_ipv4_tcp(void **state)
{
	struct frame f = {{0}, 0};
	struct pkt p;
	char a[NG_ADDRSTRLEN];

	(void)state;
	ether(&f, 0x0800);
	ipv4(&f, 6, "192.168.1.10", "93.184.216.34", 20 + 5, 1, 0x4000, 0);
	tcp(&f, 50000, 443, NG_TCP_SYN, "hello");
	assert_int_equal(decode_packet(DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DECODE_OK);
	assert_string_equal(addr_format(&p.src, a, sizeof a), "192.168.1.10");
	assert_string_equal(addr_format(&p.dst, a, sizeof a), "93.184.216.34");
	assert_int_equal(p.sport, 50000);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.ip_len, 45);
	assert_int_equal(p.tcp_flags, NG_TCP_SYN);
	assert_int_equal(p.payload_len, 5);
	assert_memory_equal(p.payload, "hello", 5);
	assert_int_equal(p.frag, PKT_FRAG_NONE);
}

static void test_vlan_qinq_and_options(void **state)
{
	struct frame f = {{0}, 0};
	struct pkt p;

	(void)state;
	ether(&f, 0x88a8);
	put16(&f, 100);
	put16(&f, 0x8100);
	put16(&f, 200);
	put16(&f, 0x0800);
	ipv4(&f, 17, "10.0.0.1", "8.8.8.8", 8 + 3, 7, 0, 8);
	udp(&f, 5353, 53, 3);
	/* Ethernet padding after the IP packet must not count. */
	put8(&f, 0xee);
	put8(&f, 0xee);
	assert_int_equal(decode_packet(DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DECODE_OK);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.ip_len, 20 + 8 + 8 + 3);
	assert_int_equal(p.payload_len, 3);
}

static void test_ipv6_extension_headers_and_fragments(void **state)
{
	struct frame f = {{0}, 0};
	struct pkt p;

	(void)state;
	ether(&f, 0x86dd);
	ipv6(&f, 0, 1, 2, 8 + 8 + 20);	/* hop-by-hop, then fragment (first), then TCP */
	put8(&f, 44);
	put8(&f, 0);
	put16(&f, 0);
	put32(&f, 0x01000000);	/* PadN-ish filler */
	put8(&f, 6);
	put8(&f, 0);
	put16(&f, 0x0001);	/* offset 0, M=1 */
	put32(&f, 0xabcd1234);
	tcp(&f, 1234, 80, NG_TCP_ACK, NULL);
	assert_int_equal(decode_packet(DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DECODE_OK);
	assert_int_equal(p.ip_version, 6);
	assert_int_equal(p.frag, PKT_FRAG_FIRST);
	assert_int_equal(p.frag_id, 0xabcd1234);
	assert_true(p.has_ports);
	assert_int_equal(p.dport, 80);
	assert_int_equal(p.ip_len, 40 + 36);

	/* A later fragment has no ports. */
	f.n = 0;
	ether(&f, 0x86dd);
	ipv6(&f, 44, 1, 2, 8 + 16);
	put8(&f, 6);
	put8(&f, 0);
	put16(&f, 0x00b8);	/* offset 23*8 */
	put32(&f, 0xabcd1234);
	for (int i = 0; i < 16; i++)
		put8(&f, 0);
	assert_int_equal(decode_packet(DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DECODE_OK);
	assert_int_equal(p.frag, PKT_FRAG_LATER);
	assert_false(p.has_ports);
	assert_int_equal(p.proto, 6);
}

static void test_ipv4_later_fragment(void **state)
{
	struct frame f = {{0}, 0};
	struct pkt p;

	(void)state;
	ether(&f, 0x0800);
	ipv4(&f, 17, "1.2.3.4", "5.6.7.8", 100, 77, 0x0010, 0);
	for (int i = 0; i < 100; i++)
		put8(&f, 0);
	assert_int_equal(decode_packet(DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DECODE_OK);
	assert_int_equal(p.frag, PKT_FRAG_LATER);
	assert_int_equal(p.frag_id, 77);
	assert_false(p.has_ports);
	assert_int_equal(p.ip_len, 120);
}

static void test_6in4_tunnel_is_unwrapped(void **state)
{
	struct frame f = {{0}, 0};
	struct pkt p;
	char a[NG_ADDRSTRLEN];

	(void)state;
	ether(&f, 0x0800);
	ipv4(&f, 41, "192.0.2.1", "198.51.100.1", 40 + 8, 1, 0, 0);
	ipv6(&f, 17, 9, 10, 8);
	udp(&f, 1000, 53, 0);
	assert_int_equal(decode_packet(DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DECODE_OK);
	assert_int_equal(p.ip_version, 6);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.dport, 53);
	assert_string_equal(addr_format(&p.src, a, sizeof a), "2001:4860::9");
	assert_int_equal(p.ip_len, 20 + 48);	/* bytes on the wire: the outer length */
}

static void test_other_link_types(void **state)
{
	struct frame inner = {{0}, 0}, f;
	struct pkt p;

	(void)state;
	ipv4(&inner, 1, "10.1.1.1", "10.1.1.2", 8, 1, 0, 0);
	put32(&inner, 0x08000000);
	put32(&inner, 0);

	/* Linux cooked v1: 16-byte header, protocol last. */
	memset(&f, 0, sizeof f);
	for (int i = 0; i < 14; i++)
		put8(&f, 0);
	put16(&f, 0x0800);
	put(&f, inner.b, inner.n);
	assert_int_equal(decode_packet(DLT_LINUX_SLL, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DECODE_OK);
	assert_int_equal(p.proto, 1);
	assert_int_equal(p.icmp_type, 8);

	/* Linux cooked v2: protocol first. */
	memset(&f, 0, sizeof f);
	put16(&f, 0x0800);
	for (int i = 0; i < 18; i++)
		put8(&f, 0);
	put(&f, inner.b, inner.n);
	assert_int_equal(decode_packet(DLT_LINUX_SLL2, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DECODE_OK);

	/* BSD loopback in little-endian host order, and DLT_LOOP in network order. */
	memset(&f, 0, sizeof f);
	put32(&f, 0x02000000);
	put(&f, inner.b, inner.n);
	assert_int_equal(decode_packet(DLT_NULL, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DECODE_OK);
	memset(&f, 0, sizeof f);
	put32(&f, 2);
	put(&f, inner.b, inner.n);
	assert_int_equal(decode_packet(DLT_LOOP, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DECODE_OK);

	assert_int_equal(decode_packet(DLT_RAW, inner.b, (uint32_t)inner.n, (uint32_t)inner.n, &p), DECODE_OK);
	assert_true(decode_supports_dlt(DLT_RAW));
	assert_false(decode_supports_dlt(DLT_IEEE802_11));
}

static void test_not_ip(void **state)
{
	struct frame f = {{0}, 0};
	struct pkt p;

	(void)state;
	ether(&f, 0x0806);	/* ARP */
	for (int i = 0; i < 28; i++)
		put8(&f, 0);
	assert_int_equal(decode_packet(DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DECODE_NOT_IP);
}

static void test_lies_are_malformed(void **state)
{
	struct frame f = {{0}, 0};
	struct pkt p;

	(void)state;
	/* IPv4 total length beyond the frame. */
	ether(&f, 0x0800);
	ipv4(&f, 6, "1.1.1.1", "2.2.2.2", 500, 1, 0, 0);
	tcp(&f, 1, 2, 0, NULL);
	assert_int_equal(decode_packet(DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DECODE_MALFORMED);
	/* Header length below 20. */
	f.b[14] = 0x44;
	assert_int_equal(decode_packet(DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DECODE_MALFORMED);
	/* TCP data offset below 5 words. */
	f.n = 0;
	ether(&f, 0x0800);
	ipv4(&f, 6, "1.1.1.1", "2.2.2.2", 20, 1, 0, 0);
	tcp(&f, 1, 2, 0, NULL);
	f.b[14 + 20 + 12] = 0x20;
	assert_int_equal(decode_packet(DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, &p), DECODE_MALFORMED);
}

/* Every prefix of every frame decodes without reading past its end (ASan/Valgrind catch any slip). */
static void test_every_truncation(void **state)
{
	struct frame f = {{0}, 0};
	struct pkt p;

	(void)state;
	ether(&f, 0x8100);
	put16(&f, 5);
	put16(&f, 0x86dd);
	ipv6(&f, 60, 1, 2, 8 + 20 + 4);
	put8(&f, 6);
	put8(&f, 0);
	for (int i = 0; i < 6; i++)
		put8(&f, 0);
	tcp(&f, 443, 50000, NG_TCP_ACK | NG_TCP_PSH, "abcd");
	for (size_t len = 0; len <= f.n; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		enum decode_result r;

		memcpy(copy, f.b, len);
		r = decode_packet(DLT_EN10MB, copy, (uint32_t)len, (uint32_t)len, &p);
		if (len == f.n)
			assert_int_equal(r, DECODE_OK);
		else
			assert_int_not_equal(r, DECODE_OK);
		/* Cut by the snap length (the wire had it all): headers decode when captured. */
		r = decode_packet(DLT_EN10MB, copy, (uint32_t)len, (uint32_t)f.n, &p);
		if (len >= f.n - 4)
			assert_int_equal(r, DECODE_OK);
		if (r == DECODE_OK)
			assert_true(p.payload_len <= 4);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_ipv4_tcp),
		cmocka_unit_test(test_vlan_qinq_and_options),
		cmocka_unit_test(test_ipv6_extension_headers_and_fragments),
		cmocka_unit_test(test_ipv4_later_fragment),
		cmocka_unit_test(test_6in4_tunnel_is_unwrapped),
		cmocka_unit_test(test_other_link_types),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_lies_are_malformed),
		cmocka_unit_test(test_every_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
