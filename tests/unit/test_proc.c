/* SPDX-License-Identifier: BSD-2-Clause */
/* test_proc.c: process attribution against this test's own sockets (TCP, UDP, IPv4, IPv6), limits and counters. */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "addr.h"
#include "proc.h"
#include "util.h"

#define MAXFLOWS 4096

/* What the callback saw, per flow id. */
struct results {
	int fired[MAXFLOWS];
	struct proc_info *info[MAXFLOWS];
	int nfired;
};

static char self_comm[64];
static char self_exe[4096];

/* Callback: record the answer (and keep the reference until results_free). */
static void result_cb(void *arg, uint64_t flow_id, struct proc_info *info)
{
	struct results *r = arg;

	assert_true(flow_id < MAXFLOWS);
	r->fired[flow_id]++;
	if (r->info[flow_id])
		proc_info_unref(r->info[flow_id]);
	r->info[flow_id] = info;
	r->nfired++;
}

static void results_free(struct results *r)
{
	for (size_t i = 0; i < MAXFLOWS; i++)
		proc_info_unref(r->info[i]);
	memset(r, 0, sizeof *r);
}

/* Poll on a fake clock (50 ms a tick) until `want` answers arrived or 5 simulated seconds passed. */
static ng_time poll_until(struct proc_table *pt, struct results *r, int want, ng_time t)
{
	for (int i = 0; i < 100 && r->nfired < want; i++) {
		proc_table_poll(pt, t, result_cb, r);
		t += 50 * 1000;
	}
	return t;
}

/* requests == found + socket_gone + no_process + dropped + pending, always. */
static void assert_balanced(struct proc_table *pt)
{
	struct proc_stats st;

	proc_get_stats(pt, &st);
	assert_int_equal(st.requests, st.found + st.socket_gone + st.no_process + st.dropped + st.pending);
}

/* The answer must be this very process. */
static void assert_self(const struct proc_info *info)
{
	struct passwd *pw = getpwuid(geteuid());

	assert_non_null(info);
	assert_int_equal(info->pid, getpid());
	assert_string_equal(info->name, self_comm);
	assert_int_equal(info->uid, geteuid());
	assert_int_equal(info->uid, getuid());
	if (pw)
		assert_string_equal(info->user, pw->pw_name);
	assert_non_null(info->exe);
	assert_string_equal(info->exe, self_exe);
	assert_non_null(info->cmdline);
	assert_non_null(strstr(info->cmdline, "test_proc"));
	assert_true(strlen(info->cmdline) <= 256);
}

/* An ng_addr and port from a bound socket's name. */
static void sock_end(int fd, bool peer, ng_addr *a, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (peer)
		assert_int_equal(getpeername(fd, (struct sockaddr *)&ss, &len), 0);
	else
		assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		*a = addr_from_v4((const uint8_t *)&sin->sin_addr);
		*port = ntohs(sin->sin_port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		const uint8_t *b = sin6->sin6_addr.s6_addr;

		if (memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
			*a = addr_from_v4(b + 12);	/* the capture sees IPv4 */
		else
			*a = addr_from_v6(b);
		*port = ntohs(sin6->sin6_port);
	}
}

/* Start a flow for socket fd as the capture would see it: local = its name, remote = its peer (or given). */
static void start_for(struct proc_table *pt, uint64_t id, uint8_t proto, int fd, const ng_addr *remote,
		      uint16_t rport)
{
	ng_addr l, r;
	uint16_t lp, rp;

	sock_end(fd, false, &l, &lp);
	if (remote) {
		r = *remote;
		rp = rport;
	} else {
		sock_end(fd, true, &r, &rp);
	}
	proc_flow_start(pt, id, proto, &l, lp, &r, rp);
}

/* A socket of the family bound to the loopback address (port 0: any); -1 when the family is missing. */
static int bound_socket(int family, int type, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, type | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return -1;
	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &sin->sin_addr);
		len = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		int off = 0;

		sin6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
		len = sizeof *sin6;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Connect fd to the name of `to`. */
static void connect_to(int fd, int to)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	assert_int_equal(getsockname(to, (struct sockaddr *)&ss, &len), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
}

/* Connect a TCP client to a listener at `addr`: both ends from the client side, the server side, and unaccepted. */
static void tcp_case(int family, const char *addr)
{
	struct results r = {0};
	struct proc_table *pt;
	char err[256];
	int lfd, c1, c2, s1;

	lfd = bound_socket(family, SOCK_STREAM, addr);
	if (lfd == -1) {
		print_message("skip: no %s\n", addr);
		return;
	}
	assert_int_equal(listen(lfd, 8), 0);
	c1 = bound_socket(family, SOCK_STREAM, addr);
	connect_to(c1, lfd);
	s1 = accept(lfd, NULL, NULL);
	assert_true(s1 >= 0);
	c2 = bound_socket(family, SOCK_STREAM, addr);
	connect_to(c2, lfd);	/* left in the accept queue: its server end has no inode yet */

	pt = proc_table_create(err, sizeof err);
	assert_non_null(pt);
	start_for(pt, 1, IPPROTO_TCP, c1, NULL, 0);	/* client side */
	start_for(pt, 2, IPPROTO_TCP, s1, NULL, 0);	/* server side */
	{
		ng_addr l, rem;
		uint16_t lp, rp;

		/* The server end of c2, as a capture sees its SYN arrive: answered by the listener. */
		sock_end(c2, true, &l, &lp);
		sock_end(c2, false, &rem, &rp);
		proc_flow_start(pt, 3, IPPROTO_TCP, &l, lp, &rem, rp);
	}
	poll_until(pt, &r, 3, time_now());
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(r.fired[i], 1);
		assert_self(r.info[i]);
	}
	/* One process, one shared object. */
	assert_ptr_equal(r.info[1], r.info[2]);
	assert_ptr_equal(r.info[1], r.info[3]);
	assert_balanced(pt);
	results_free(&r);
	proc_table_destroy(pt);
	close(c1);
	close(c2);
	close(s1);
	close(lfd);
}

static void test_tcp_v4(void **state)
{
	(void)state;
	tcp_case(AF_INET, "127.0.0.1");
}

static void test_tcp_v6(void **state)
{
	(void)state;
	tcp_case(AF_INET6, "::1");
}

/* An IPv4 client of a dual-stack IPv6 listener: the server end is an AF_INET6 socket seen as IPv4 by the capture. */
static void test_tcp_dual_stack(void **state)
{
	struct results r = {0};
	struct proc_table *pt;
	char err[256];
	int lfd, c, s;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	ng_addr l;
	uint16_t lp;

	(void)state;
	lfd = bound_socket(AF_INET6, SOCK_STREAM, "::");
	if (lfd == -1) {
		print_message("skip: no IPv6\n");
		return;
	}
	assert_int_equal(listen(lfd, 8), 0);
	sock_end(lfd, false, &l, &lp);
	c = bound_socket(AF_INET, SOCK_STREAM, "127.0.0.1");
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	sin.sin_port = htons(lp);
	assert_int_equal(connect(c, (struct sockaddr *)&sin, sizeof sin), 0);
	s = accept(lfd, NULL, NULL);
	assert_true(s >= 0);

	pt = proc_table_create(err, sizeof err);
	assert_non_null(pt);
	start_for(pt, 1, IPPROTO_TCP, s, NULL, 0);	/* sock_end maps ::ffff:127.0.0.1 to IPv4 */
	poll_until(pt, &r, 1, time_now());
	assert_self(r.info[1]);
	assert_balanced(pt);
	results_free(&r);
	proc_table_destroy(pt);
	close(c);
	close(s);
	close(lfd);
}

/* UDP: connected sockets from both ends, and an unconnected one matched on its local port. */
static void udp_case(int family, const char *addr)
{
	struct results r = {0};
	struct proc_table *pt;
	char err[256];
	int a, b, u;
	ng_addr far;
	uint16_t farport = 9;

	a = bound_socket(family, SOCK_DGRAM, addr);
	if (a == -1) {
		print_message("skip: no %s\n", addr);
		return;
	}
	b = bound_socket(family, SOCK_DGRAM, addr);
	u = bound_socket(family, SOCK_DGRAM, addr);
	connect_to(a, b);
	connect_to(b, a);
	addr_parse(addr, &far);

	pt = proc_table_create(err, sizeof err);
	assert_non_null(pt);
	start_for(pt, 1, IPPROTO_UDP, a, NULL, 0);
	start_for(pt, 2, IPPROTO_UDP, b, NULL, 0);
	start_for(pt, 3, IPPROTO_UDP, u, &far, farport);	/* unconnected: any remote */
	poll_until(pt, &r, 3, time_now());
	for (int i = 1; i <= 3; i++)
		assert_self(r.info[i]);
	assert_balanced(pt);
	results_free(&r);
	proc_table_destroy(pt);
	close(a);
	close(b);
	close(u);
}

static void test_udp_v4(void **state)
{
	(void)state;
	udp_case(AF_INET, "127.0.0.1");
}

static void test_udp_v6(void **state)
{
	(void)state;
	udp_case(AF_INET6, "::1");
}

/*
 * A UDP socket bound to a device is invisible to the kernel's exact lookup
 * (the request carries no interface): found through the per-tick UDP dump.
 */
static void test_udp_bound_to_device(void **state)
{
	struct results r = {0};
	struct proc_table *pt;
	struct proc_stats st;
	char err[256];
	ng_addr far;
	ng_time t;
	int u;

	(void)state;
	u = bound_socket(AF_INET, SOCK_DGRAM, "0.0.0.0");
	assert_true(u >= 0);
	if (setsockopt(u, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3) == -1) {
		print_message("skip: SO_BINDTODEVICE: %s\n", strerror(errno));
		close(u);
		return;
	}
	addr_parse("127.0.0.1", &far);
	pt = proc_table_create(err, sizeof err);
	assert_non_null(pt);
	{
		ng_addr l;
		uint16_t lp;

		sock_end(u, false, &l, &lp);
		addr_parse("127.0.0.1", &l);	/* the packet's destination, not the wildcard */
		proc_flow_start(pt, 1, IPPROTO_UDP, &l, lp, &far, 5353);
	}
	t = poll_until(pt, &r, 1, time_now());
	assert_self(r.info[1]);
	proc_get_stats(pt, &st);
	assert_int_equal(st.found, 1);
	/* Within the next tick the dump just read answers at once, without another (rate-limited) read. */
	{
		ng_addr l;
		uint16_t lp;

		sock_end(u, false, &l, &lp);
		addr_parse("127.0.0.1", &l);
		proc_flow_start(pt, 2, IPPROTO_UDP, &l, lp, &far, 5354);
	}
	proc_table_poll(pt, t + 1000, result_cb, &r);
	assert_int_equal(r.fired[2], 1);
	assert_self(r.info[2]);
	assert_balanced(pt);
	results_free(&r);
	proc_table_destroy(pt);
	close(u);
}

/* Sockets closed before the lookup, or right after it: NULL, counted as socket_gone. */
static void test_closed_socket(void **state)
{
	struct results r = {0};
	struct proc_table *pt;
	struct proc_stats st;
	char err[256];
	int lfd, c, s, a, b;
	ng_addr cl, cr, al, ar;
	uint16_t clp, crp, alp, arp;
	ng_time t;

	(void)state;
	lfd = bound_socket(AF_INET, SOCK_STREAM, "127.0.0.1");
	assert_int_equal(listen(lfd, 8), 0);
	c = bound_socket(AF_INET, SOCK_STREAM, "127.0.0.1");
	connect_to(c, lfd);
	s = accept(lfd, NULL, NULL);
	sock_end(c, false, &cl, &clp);
	sock_end(c, true, &cr, &crp);
	close(c);	/* active close: TIME_WAIT, no inode, no listener on the client port */
	close(s);
	a = bound_socket(AF_INET, SOCK_DGRAM, "127.0.0.1");
	b = bound_socket(AF_INET, SOCK_DGRAM, "127.0.0.1");
	connect_to(a, b);
	sock_end(a, false, &al, &alp);
	sock_end(a, true, &ar, &arp);
	close(a);

	pt = proc_table_create(err, sizeof err);
	assert_non_null(pt);
	proc_flow_start(pt, 1, IPPROTO_TCP, &cl, clp, &cr, crp);
	proc_flow_start(pt, 2, IPPROTO_UDP, &al, alp, &ar, arp);
	/* Found by sock_diag, closed before any /proc scan: the short-lived socket case. */
	start_for(pt, 3, IPPROTO_UDP, b, &ar, arp);
	close(b);
	t = poll_until(pt, &r, 3, time_now());
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(r.fired[i], 1);
		assert_null(r.info[i]);
	}
	proc_get_stats(pt, &st);
	assert_int_equal(st.requests, 3);
	assert_int_equal(st.socket_gone, 3);
	assert_int_equal(st.found, 0);
	assert_int_equal(st.pending, 0);
	assert_balanced(pt);
	/* Nothing more arrives later. */
	poll_until(pt, &r, 4, t);
	assert_int_equal(r.nfired, 3);
	results_free(&r);
	proc_table_destroy(pt);
	close(lfd);
}

/*
 * A storm of 2000 new flows whose sockets are gone before any scan: each tick
 * wants a /proc scan, the rate limit allows one per 250 ms.
 */
static void test_storm_rate_limited(void **state)
{
	struct results r = {0};
	struct proc_table *pt;
	struct proc_stats st;
	char err[256];
	ng_time t0 = time_now(), t = t0;
	int peer;
	uint64_t id = 0;

	(void)state;
	pt = proc_table_create(err, sizeof err);
	assert_non_null(pt);
	peer = bound_socket(AF_INET, SOCK_DGRAM, "127.0.0.1");
	for (int tick = 0; tick < 100; tick++) {
		for (int i = 0; i < 20; i++) {
			int u = bound_socket(AF_INET, SOCK_DGRAM, "127.0.0.1");

			connect_to(u, peer);
			start_for(pt, ++id, IPPROTO_UDP, u, NULL, 0);
			close(u);
		}
		proc_table_poll(pt, t, result_cb, &r);
		t += 10 * 1000;	/* 100 Hz: 1 s of storm */
	}
	poll_until(pt, &r, 2000, t + 50 * 1000);
	proc_get_stats(pt, &st);
	print_message("storm: %llu requests, %llu scans, %llu rate-limited, %llu gone\n",
		      (unsigned long long)st.requests, (unsigned long long)st.scans,
		      (unsigned long long)st.rate_limited, (unsigned long long)st.socket_gone);
	assert_int_equal(st.requests, 2000);
	assert_int_equal(r.nfired, 2000);
	assert_int_equal(st.socket_gone, 2000);
	/* 1 s of storm + the 2 s give-up: at most one scan per 250 ms. */
	assert_true(st.scans <= (uint64_t)((t - t0) / (250 * 1000) + 15));
	assert_true(st.scans >= 2);
	assert_true(st.rate_limited >= 50);
	assert_balanced(pt);
	results_free(&r);
	proc_table_destroy(pt);
	close(peer);
}

/* 2000 flows of the same live socket in one tick: one scan, one shared proc_info. */
static void test_storm_one_process(void **state)
{
	struct results r = {0};
	struct proc_table *pt;
	struct proc_stats st;
	char err[256];
	int a, b;

	(void)state;
	pt = proc_table_create(err, sizeof err);
	assert_non_null(pt);
	a = bound_socket(AF_INET, SOCK_DGRAM, "127.0.0.1");
	b = bound_socket(AF_INET, SOCK_DGRAM, "127.0.0.1");
	connect_to(a, b);
	for (uint64_t id = 1; id <= 2000; id++)
		start_for(pt, id, IPPROTO_UDP, a, NULL, 0);
	poll_until(pt, &r, 2000, time_now());
	proc_get_stats(pt, &st);
	assert_int_equal(st.found, 2000);
	assert_int_equal(st.scans, 1);
	for (int i = 1; i <= 2000; i++)
		assert_ptr_equal(r.info[i], r.info[1]);
	assert_int_equal(r.info[1]->refs, 2000 + 1);	/* the callees' and the cache's */
	assert_self(r.info[1]);
	assert_balanced(pt);
	results_free(&r);
	proc_table_destroy(pt);
	close(a);
	close(b);
}

/* Without sock_diag: the same answers from /proc/net/{tcp,udp}{,6}. */
static void test_procnet_fallback(void **state)
{
	struct results r = {0};
	struct proc_table *pt;
	struct proc_stats st;
	char err[256];
	int lfd, c, s, u, u6 = -1;
	ng_addr far, far6;

	(void)state;
	pt = proc_table_create(err, sizeof err);
	assert_non_null(pt);
	proc_table_use_procnet(pt);
	assert_string_equal(proc_table_source(pt), "/proc/net");
	lfd = bound_socket(AF_INET, SOCK_STREAM, "127.0.0.1");
	assert_int_equal(listen(lfd, 8), 0);
	c = bound_socket(AF_INET, SOCK_STREAM, "127.0.0.1");
	connect_to(c, lfd);
	s = accept(lfd, NULL, NULL);
	u = bound_socket(AF_INET, SOCK_DGRAM, "127.0.0.1");
	addr_parse("127.0.0.1", &far);
	addr_parse("::1", &far6);
	start_for(pt, 1, IPPROTO_TCP, c, NULL, 0);
	start_for(pt, 2, IPPROTO_TCP, s, NULL, 0);
	start_for(pt, 3, IPPROTO_UDP, u, &far, 53);
	u6 = bound_socket(AF_INET6, SOCK_DGRAM, "::1");
	if (u6 != -1)
		start_for(pt, 4, IPPROTO_UDP, u6, &far6, 53);
	proc_flow_start(pt, 5, IPPROTO_TCP, &far, 1, &far, 2);	/* nothing there */
	poll_until(pt, &r, u6 != -1 ? 5 : 4, time_now());
	for (int i = 1; i <= (u6 != -1 ? 4 : 3); i++)
		assert_self(r.info[i]);
	assert_int_equal(r.fired[5], 1);
	assert_null(r.info[5]);
	proc_get_stats(pt, &st);
	assert_int_equal(st.socket_gone, 1);
	assert_balanced(pt);
	results_free(&r);
	proc_table_destroy(pt);
	close(c);
	close(s);
	close(lfd);
	close(u);
	if (u6 != -1)
		close(u6);
}

/* Another user's process (root only: fork and setuid to nobody) is found with that user's uid and name. */
static void test_other_user(void **state)
{
	struct results r = {0};
	struct proc_table *pt;
	struct passwd *pw;
	char err[256], c;
	int sv[2], peer;
	pid_t child;
	ng_addr l, rem;
	uint16_t lp, rp;

	(void)state;
	pw = getpwnam("nobody");
	if (geteuid() != 0 || !pw) {
		print_message("skip: needs root and user nobody\n");
		return;
	}
	peer = bound_socket(AF_INET, SOCK_DGRAM, "127.0.0.1");
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int u;

		close(sv[0]);
		if (setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
			_exit(1);
		u = bound_socket(AF_INET, SOCK_DGRAM, "127.0.0.1");
		connect_to(u, peer);
		sock_end(u, false, &l, &lp);
		if (write(sv[1], &lp, sizeof lp) != sizeof lp)
			_exit(1);
		(void)read(sv[1], &c, 1);	/* until the parent is done */
		_exit(0);
	}
	close(sv[1]);
	assert_int_equal(read(sv[0], &lp, sizeof lp), sizeof lp);
	addr_parse("127.0.0.1", &l);
	sock_end(peer, false, &rem, &rp);
	pt = proc_table_create(err, sizeof err);
	assert_non_null(pt);
	proc_flow_start(pt, 1, IPPROTO_UDP, &l, lp, &rem, rp);
	poll_until(pt, &r, 1, time_now());
	assert_non_null(r.info[1]);
	assert_int_equal(r.info[1]->pid, child);
	assert_int_equal(r.info[1]->uid, pw->pw_uid);
	assert_string_equal(r.info[1]->user, "nobody");
	assert_string_equal(r.info[1]->name, self_comm);	/* forked, not exec'd */
	results_free(&r);
	proc_table_destroy(pt);
	close(sv[0]);
	waitpid(child, NULL, 0);
	close(peer);
}

/* Flows that have no socket to look for (not TCP or UDP, mixed families): NULL, counted as no_process. */
static void test_no_socket_kinds(void **state)
{
	struct results r = {0};
	struct proc_table *pt;
	struct proc_stats st;
	char err[256];
	ng_addr a4, a6;

	(void)state;
	addr_parse("127.0.0.1", &a4);
	addr_parse("::1", &a6);
	pt = proc_table_create(err, sizeof err);
	assert_non_null(pt);
	proc_flow_start(pt, 1, IPPROTO_ICMP, &a4, 0, &a4, 0);
	proc_flow_start(pt, 2, IPPROTO_TCP, &a4, 1, &a6, 2);
	poll_until(pt, &r, 2, time_now());
	assert_null(r.info[1]);
	assert_null(r.info[2]);
	proc_get_stats(pt, &st);
	assert_int_equal(st.no_process, 2);
	assert_balanced(pt);
	proc_table_destroy(pt);
	/* A NULL table is "attribution off": every call is a no-op. */
	proc_flow_start(NULL, 1, IPPROTO_TCP, &a4, 1, &a4, 2);
	proc_table_poll(NULL, 0, result_cb, &r);
	proc_get_stats(NULL, &st);
	assert_int_equal(st.requests, 0);
	proc_table_destroy(NULL);
}

/* Destroying a table with flows still pending releases everything (ASan/LeakSanitizer check this). */
static void test_destroy_pending(void **state)
{
	struct results r = {0};
	struct proc_table *pt;
	char err[256];
	int a, b;

	(void)state;
	pt = proc_table_create(err, sizeof err);
	assert_non_null(pt);
	a = bound_socket(AF_INET, SOCK_DGRAM, "127.0.0.1");
	b = bound_socket(AF_INET, SOCK_DGRAM, "127.0.0.1");
	connect_to(a, b);
	connect_to(b, a);
	start_for(pt, 1, IPPROTO_UDP, a, NULL, 0);
	poll_until(pt, &r, 1, time_now());
	start_for(pt, 2, IPPROTO_UDP, a, NULL, 0);
	start_for(pt, 3, IPPROTO_UDP, b, NULL, 0);
	proc_table_destroy(pt);
	assert_non_null(r.info[1]);
	assert_self(r.info[1]);	/* still valid: the callee's reference outlives the table */
	results_free(&r);
	close(a);
	close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_v4),
		cmocka_unit_test(test_tcp_v6),
		cmocka_unit_test(test_tcp_dual_stack),
		cmocka_unit_test(test_udp_v4),
		cmocka_unit_test(test_udp_v6),
		cmocka_unit_test(test_udp_bound_to_device),
		cmocka_unit_test(test_closed_socket),
		cmocka_unit_test(test_storm_rate_limited),
		cmocka_unit_test(test_storm_one_process),
		cmocka_unit_test(test_procnet_fallback),
		cmocka_unit_test(test_other_user),
		cmocka_unit_test(test_no_socket_kinds),
		cmocka_unit_test(test_destroy_pending),
	};
	FILE *f = fopen("/proc/self/comm", "r");
	ssize_t n;

	if (f) {
		if (fgets(self_comm, sizeof self_comm, f))
			self_comm[strcspn(self_comm, "\n")] = '\0';
		fclose(f);
	}
	n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
	if (n > 0)
		self_exe[n] = '\0';
	return cmocka_run_group_tests(tests, NULL, NULL);
}
