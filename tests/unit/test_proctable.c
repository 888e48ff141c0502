/* SPDX-License-Identifier: BSD-2-Clause */
/* test_proctable.c: proc_conn_owner against a fixed socket table, as Windows' owner tables give it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proctable.h"

/* An address from text (the test's own table is written the way netstat -ano prints it). */
static ng_addr A(const char *s)
{
	ng_addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

/* The table: a browser with two connections, a DNS client, a web server, a wildcard UDP socket, IPv6. */
static struct proc_conn *table(size_t *n)
{
	static struct proc_conn t[9];

	t[0] = (struct proc_conn){6, false, A("192.168.1.10"), A("93.184.216.34"), 50000, 443, 1200};
	t[1] = (struct proc_conn){6, false, A("192.168.1.10"), A("93.184.216.34"), 50001, 443, 1300};
	t[2] = (struct proc_conn){6, true, A("0.0.0.0"), A("0.0.0.0"), 8080, 0, 4000};
	t[3] = (struct proc_conn){6, false, A("192.168.1.10"), A("203.0.113.9"), 8080, 61000, 4000};
	t[4] = (struct proc_conn){17, false, A("192.168.1.10"), A("0.0.0.0"), 53000, 0, 2100};
	t[5] = (struct proc_conn){17, false, A("0.0.0.0"), A("0.0.0.0"), 5353, 0, 2200};
	t[6] = (struct proc_conn){17, false, A("192.168.1.10"), A("0.0.0.0"), 5353, 0, 2300};
	t[7] = (struct proc_conn){6, false, A("2001:db8::10"), A("2001:db8::1"), 50002, 443, 1200};
	t[8] = (struct proc_conn){6, true, A("::"), A("::"), 22, 0, 900};
	*n = 9;
	return t;
}

/* TCP: the exact 5-tuple decides between two sockets to the same server. */
static void test_tcp_exact(void **state)
{
	size_t n;
	struct proc_conn *t = table(&n);
	ng_addr l = A("192.168.1.10"), r = A("93.184.216.34"), r6 = A("2001:db8::1"), l6 = A("2001:db8::10");

	(void)state;
	assert_int_equal(proc_conn_owner(t, n, 6, &l, 50000, &r, 443), 1200);
	assert_int_equal(proc_conn_owner(t, n, 6, &l, 50001, &r, 443), 1300);
	assert_int_equal(proc_conn_owner(t, n, 6, &l6, 50002, &r6, 443), 1200);
	/* Same ports, other remote: not that socket, and no listener on 50000. */
	r = A("93.184.216.35");
	assert_int_equal(proc_conn_owner(t, n, 6, &l, 50000, &r, 443), 0);
	/* The IPv4 row does not answer for IPv6. */
	assert_int_equal(proc_conn_owner(t, n, 6, &l6, 50000, &r6, 443), 0);
}

/* TCP inbound: the accepted connection's row, else the listener (a connection already gone). */
static void test_tcp_listener(void **state)
{
	size_t n;
	struct proc_conn *t = table(&n);
	ng_addr l = A("192.168.1.10"), r = A("203.0.113.9"), other = A("198.51.100.4"), l6 = A("2001:db8::10");

	(void)state;
	assert_int_equal(proc_conn_owner(t, n, 6, &l, 8080, &r, 61000), 4000);
	assert_int_equal(proc_conn_owner(t, n, 6, &l, 8080, &other, 40000), 4000);
	other = A("2001:db8::99");
	assert_int_equal(proc_conn_owner(t, n, 6, &l6, 22, &other, 40000), 900);
}

/* UDP: the socket bound to the exact address wins over the wildcard one; unknown ports have no owner. */
static void test_udp(void **state)
{
	size_t n;
	struct proc_conn *t = table(&n);
	ng_addr l = A("192.168.1.10"), r = A("8.8.8.8"), other = A("10.0.0.1");

	(void)state;
	assert_int_equal(proc_conn_owner(t, n, 17, &l, 53000, &r, 53), 2100);
	assert_int_equal(proc_conn_owner(t, n, 17, &l, 5353, &r, 5353), 2300);
	assert_int_equal(proc_conn_owner(t, n, 17, &other, 5353, &r, 5353), 2200);
	assert_int_equal(proc_conn_owner(t, n, 17, &l, 53001, &r, 53), 0);
	/* A TCP flow never takes a UDP socket's owner. */
	assert_int_equal(proc_conn_owner(t, n, 6, &l, 53000, &r, 53), 0);
	assert_int_equal(proc_conn_owner(t, 0, 17, &l, 53000, &r, 53), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_exact),
		cmocka_unit_test(test_tcp_listener),
		cmocka_unit_test(test_udp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
