/* SPDX-License-Identifier: BSD-2-Clause */
/* test_filter.c: the /flows?q= grammar: words, fields, negation, lists, quotes, and the errors it gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "filter.h"

/* A TLS flow of curl to Cape Town. */
static const struct filter_view cape = {
	.remote_ip = "196.25.1.1", .local_ip = "192.168.1.10", .domain = "www.example.co.za",
	.as_org = "Telkom SA Ltd.", .proc_name = "curl", .exe = "/usr/bin/curl", .city = "Cape Town",
	.country = "ZA", .country_name = "South Africa", .proto = "tcp", .attention = "high",
	.verdict = "anomalous", .state = "established", .signals = {"first_contact", "beacon"}, .nsignals = 2,
	.asn = 5713, .proto_num = 6, .remote_port = 443, .local_port = 50123, .active = true,
	.initiator_local = true, .bytes_sent = 100, .bytes_received = 0,
};

/* A DNS flow over IPv6, nothing known but the addresses. */
static const struct filter_view dns6 = {
	.remote_ip = "2001:db8::53", .local_ip = "2001:db8::10", .proto = "udp", .attention = "none",
	.verdict = "local", .state = "open", .proto_num = 17, .remote_port = 53, .local_port = 40000,
	.bytes_sent = 60, .bytes_received = 120, .trusted = true,
};

/* The query's verdict on a view; fails the test when it does not parse. */
static bool m(const char *q, const struct filter_view *v)
{
	char err[300];
	struct filter *f = filter_parse(q, err, sizeof err);
	bool r;

	if (!f)
		fail_msg("'%s' did not parse: %s", q, err);
	r = filter_match(f, v);
	filter_free(f);
	return r;
}

/* The error a bad query gives. */
static void bad(const char *q, const char *want)
{
	char err[300] = "";
	struct filter *f = filter_parse(q, err, sizeof err);

	if (f)
		fail_msg("'%s' parsed but should not", q);
	if (!strstr(err, want))
		fail_msg("'%s': error '%s' lacks '%s'", q, err, want);
}

static void test_words(void **state)
{
	(void)state;
	assert_true(m("", &cape));
	assert_true(m("   ", &dns6));
	assert_true(m("cape", &cape));		/* city */
	assert_true(m("CAPE", &cape));
	assert_false(m("cape", &dns6));
	assert_true(m("south", &cape));		/* country name */
	assert_true(m("za", &cape));		/* code (and domain) */
	assert_true(m("telkom", &cape));		/* AS organisation */
	assert_true(m("/usr/bin", &cape));	/* process path */
	assert_true(m("443", &cape));		/* port, equal */
	assert_false(m("44", &cape));		/* a port matches whole, not as a substring */
	assert_true(m("53", &dns6));		/* port, and also a substring of the address */
	assert_false(m("192.168", &cape));	/* the local address is not searched: every flow has it */
	assert_true(m("udp", &dns6));
	assert_true(m("2001:db8::53", &dns6));	/* not a field: an IPv6 address as a word */
	assert_true(m("::", &dns6));
	assert_true(m("cape town", &cape));	/* two words, both match */
	assert_true(m("\"cape town\"", &cape));	/* one phrase */
	assert_false(m("\"town cape\"", &cape));
	assert_false(m("cape zzz", &cape));	/* AND */
	assert_true(m("-zzz", &cape));
	assert_false(m("-cape", &cape));
	assert_true(m("\"a:b\" -\"x y\"", &(struct filter_view){.remote_ip = "a:b"}));
}

static void test_fields(void **state)
{
	(void)state;
	assert_true(m("attention:high", &cape));
	assert_true(m("attention:HIGH", &cape));
	assert_false(m("attention:high", &dns6));
	assert_true(m("attention:low,high", &cape));	/* a list is OR */
	assert_true(m("verdict:anomalous", &cape));
	assert_true(m("verdict:local", &dns6));
	assert_true(m("proto:tcp", &cape));
	assert_true(m("proto:6", &cape));
	assert_true(m("proto:ip-17", &dns6));
	assert_true(m("-proto:udp", &cape));
	assert_false(m("-proto:udp", &dns6));
	assert_true(m("port:443", &cape));
	assert_true(m("port:400-500", &cape));
	assert_false(m("port:444-500", &cape));
	assert_true(m("lport:50123", &cape));
	assert_true(m("ip:196.25", &cape));
	assert_false(m("ip:192.168", &cape));	/* the remote address only */
	assert_true(m("domain:.co.za", &cape));
	assert_true(m("org:telkom", &cape));
	assert_true(m("org:AS5713", &cape));
	assert_true(m("as:5713", &cape));
	assert_false(m("as:5714", &cape));
	assert_true(m("process:curl", &cape));
	assert_true(m("process:/usr/bin/", &cape));
	assert_false(m("process:curl", &dns6));
	assert_true(m("country:za", &cape));
	assert_false(m("country:sa", &cape));	/* two letters: the code only */
	assert_true(m("country:africa", &cape));
	assert_true(m("country:JP,ZA", &cape));
	assert_true(m("city:\"cape town\"", &cape));
	assert_true(m("dir:sent", &cape));
	assert_false(m("dir:received", &cape));
	assert_true(m("dir:received", &dns6));
	assert_true(m("dir:out", &cape));
	assert_true(m("dir:in", &dns6));
	assert_true(m("state:active", &cape));
	assert_true(m("state:ended", &dns6));
	assert_true(m("state:established", &cape));
	assert_true(m("signal:beacon", &cape));
	assert_false(m("signal:scan", &cape));
	assert_true(m("trusted:yes", &dns6));
	assert_true(m("trusted:no", &cape));
	assert_true(m("evidence:no", &cape));
	assert_true(m("attention:high -proto:udp port:443 process:curl country:ZA", &cape));
	assert_false(m("attention:high -proto:udp port:443 process:curl country:JP", &cape));
	assert_true(m("unknownfield:x", &(struct filter_view){.domain = "unknownfield:x"}));	/* a word */
}

static void test_errors(void **state)
{
	char longq[FILTER_MAX_LEN + 2];

	(void)state;
	bad("attention:urgent", "term 1: bad attention 'urgent'");
	bad("cape verdict:bad", "term 2: bad verdict 'bad'");
	bad("port:99999", "bad port");
	bad("port:500-400", "bad port");
	bad("proto:xyz", "bad proto");
	bad("dir:up", "bad dir");
	bad("state:x", "bad state");
	bad("trusted:maybe", "use yes or no");
	bad("signal:Be-acon", "bad signal");
	bad("\"cape", "unterminated quote");
	bad("-", "lone '-'");
	bad("port:", "empty value");
	bad("country:JP,,US", "empty value");
	memset(longq, 'a', sizeof longq - 1);
	longq[sizeof longq - 1] = '\0';
	bad(longq, "longer than");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
