/* SPDX-License-Identifier: BSD-2-Clause */
/* proc_probe.c: which process owns a 5-tuple, as netglobe's process module sees it; and its cost (--bench). */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "addr.h"
#include "log.h"
#include "proc.h"
#include "util.h"

struct answer {
	int fired;
	struct proc_info *info;
};

/* Callback: keep the answer (the reference is ours). */
static void probe_cb(void *arg, uint64_t flow_id, struct proc_info *info)
{
	struct answer *a = arg;

	(void)flow_id;
	a->fired++;
	proc_info_unref(a->info);
	a->info = info;
}

/* Callback for the benchmark: count and drop. */
static void count_cb(void *arg, uint64_t flow_id, struct proc_info *info)
{
	(void)flow_id;
	(*(uint64_t *)arg)++;
	proc_info_unref(info);
}

static void usage(void)
{
	fprintf(stderr, "usage: proc_probe [--procnet] tcp|udp LOCAL_IP LOCAL_PORT REMOTE_IP REMOTE_PORT\n"
			"       proc_probe --bench [N]\n"
			"Prints the owner of the socket as JSON (or null) on stdout and the counters on stderr.\n"
			"Exit 0 when a process was found, 1 when not, 2 on a usage or setup error.\n");
	exit(2);
}

/* Parse a port number or exit with usage. */
static uint16_t port_arg(const char *s)
{
	uint64_t v;

	if (parse_uint(s, 0, 65535, &v) == -1)
		usage();
	return (uint16_t)v;
}

/* Print the counters as one JSON line on stderr. */
static void print_stats(const struct proc_table *pt)
{
	struct proc_stats st;

	proc_get_stats(pt, &st);
	fprintf(stderr,
		"{\"source\":\"%s\",\"requests\":%llu,\"found\":%llu,\"socket_gone\":%llu,\"no_process\":%llu,"
		"\"dropped\":%llu,\"rate_limited\":%llu,\"scans\":%llu}\n",
		proc_table_source(pt), (unsigned long long)st.requests, (unsigned long long)st.found,
		(unsigned long long)st.socket_gone, (unsigned long long)st.no_process,
		(unsigned long long)st.dropped, (unsigned long long)st.rate_limited, (unsigned long long)st.scans);
}

/* Look one tuple up, polling every 50 ms for at most 5 s; prints the answer. */
static int probe(struct proc_table *pt, uint8_t proto, const ng_addr *l, uint16_t lp, const ng_addr *r, uint16_t rp)
{
	struct answer a = {0};
	ng_time deadline = time_mono() + 5 * NG_USEC;
	cJSON *o;
	char *s;

	proc_flow_start(pt, 1, proto, l, lp, r, rp);
	while (!a.fired && time_mono() < deadline) {
		proc_table_poll(pt, time_now(), probe_cb, &a);
		if (!a.fired)
			usleep(50 * 1000);
	}
	print_stats(pt);
	if (!a.info) {
		printf("null\n");
		return 1;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "pid", a.info->pid);
	cJSON_AddStringToObject(o, "name", a.info->name);
	if (a.info->exe)
		cJSON_AddStringToObject(o, "exe", a.info->exe);
	else
		cJSON_AddNullToObject(o, "exe");
	cJSON_AddStringToObject(o, "user", a.info->user);
	cJSON_AddNumberToObject(o, "uid", a.info->uid);
	if (a.info->cmdline)
		cJSON_AddStringToObject(o, "cmdline", a.info->cmdline);
	else
		cJSON_AddNullToObject(o, "cmdline");
	s = cJSON_PrintUnformatted(o);
	printf("%s\n", s);
	free(s);
	cJSON_Delete(o);
	proc_info_unref(a.info);
	return 0;
}

/* Nanoseconds of CPU time this thread used (steadier than wall time on a busy machine). */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A loopback socket of the type, bound to any port; exits on failure. */
static int lo_socket(int type, struct sockaddr_in *name)
{
	socklen_t len = sizeof *name;
	int fd = socket(AF_INET, type, 0);

	memset(name, 0, sizeof *name);
	name->sin_family = AF_INET;
	name->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)name, sizeof *name) == -1 ||
	    getsockname(fd, (struct sockaddr *)name, &len) == -1) {
		perror("proc_probe: socket");
		exit(2);
	}
	return fd;
}

/*
 * Time n flow_start calls on one tuple, then drain them; microseconds per
 * call, and in *poll_us the first poll's time per flow (the answers).
 */
static double bench_starts(struct proc_table *pt, ng_time *t, int n, uint8_t proto, const ng_addr *l, uint16_t lp,
			   const ng_addr *r, uint16_t rp, double *poll_us)
{
	uint64_t got = 0;
	double t0 = now_ns(), us;

	for (int i = 0; i < n; i++)
		proc_flow_start(pt, (uint64_t)i, proto, l, lp, r, rp);
	us = (now_ns() - t0) / 1e3 / n;
	for (int i = 0; i < 200 && got < (uint64_t)n; i++) {
		t0 = now_ns();
		proc_table_poll(pt, *t, count_cb, &got);
		if (i == 0 && poll_us)
			*poll_us = (now_ns() - t0) / 1e3 / n;
		*t += 100 * 1000;
	}
	*t += 2 * NG_USEC;	/* refill the lookup budget */
	proc_table_poll(pt, *t, count_cb, &got);
	return us;
}

/* Count processes and their socket descriptors (what a full scan walks). */
static void count_procs(int *procs, int *fds, int *sockets)
{
	DIR *d = opendir("/proc"), *fdd;
	struct dirent *de, *fe;
	char path[300], link[64];

	*procs = *fds = *sockets = 0;
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		(*procs)++;
		snprintf(path, sizeof path, "/proc/%s/fd", de->d_name);
		if ((fdd = opendir(path)) == NULL)
			continue;
		while ((fe = readdir(fdd)) != NULL) {
			char lpath[600];
			ssize_t n;

			if (fe->d_name[0] == '.')
				continue;
			(*fds)++;
			snprintf(lpath, sizeof lpath, "%s/%s", path, fe->d_name);
			n = readlink(lpath, link, sizeof link - 1);
			if (n > 8 && memcmp(link, "socket:[", 8) == 0)
				(*sockets)++;
		}
		closedir(fdd);
	}
	closedir(d);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Measure flow_start (hit, miss, UDP) and a full /proc scan on this machine. */
static int bench(struct proc_table *pt, int n)
{
	struct sockaddr_in ln, cn, un, pn;
	ng_addr l, r, lo;
	ng_time t = time_now();
	double us, poll_us = 0, scan[9];
	bool diag = strcmp(proc_table_source(pt), "sock_diag") == 0;
	int lfd, c, s, u, peer, procs, fds, socks;

	lfd = lo_socket(SOCK_STREAM, &ln);
	listen(lfd, 8);
	c = lo_socket(SOCK_STREAM, &cn);
	if (connect(c, (struct sockaddr *)&ln, sizeof ln) == -1) {
		perror("proc_probe: connect");
		return 2;
	}
	s = accept(lfd, NULL, NULL);
	u = lo_socket(SOCK_DGRAM, &un);
	peer = lo_socket(SOCK_DGRAM, &pn);
	connect(u, (struct sockaddr *)&pn, sizeof pn);
	addr_parse("127.0.0.1", &lo);
	l = r = lo;
	if (n > 9000)
		n = 9000;	/* stay inside the lookup budget's burst */
	printf("proc_flow_start, %d calls each, CPU time (source %s%s):\n", n, proc_table_source(pt),
	       diag ? "" : ": calls only queue, the tick reads /proc/net");
	us = bench_starts(pt, &t, n, IPPROTO_TCP, &l, ntohs(cn.sin_port), &r, ntohs(ln.sin_port), NULL);
	printf("  TCP, established socket:       %6.2f us/call (cold: first scan included below)\n", us);
	us = bench_starts(pt, &t, n, IPPROTO_TCP, &l, ntohs(cn.sin_port), &r, ntohs(ln.sin_port), &poll_us);
	printf("  TCP, established socket:       %6.2f us/call; answering them at the tick: %.2f us/flow\n", us,
	       poll_us);
	us = bench_starts(pt, &t, n, IPPROTO_TCP, &l, ntohs(ln.sin_port), &r, ntohs(cn.sin_port) + 1, NULL);
	printf("  TCP, new inbound to a listener: %6.2f us/call\n", us);
	us = bench_starts(pt, &t, n, IPPROTO_TCP, &l, 1, &r, 2, NULL);
	printf("  TCP, no socket:                %6.2f us/call\n", us);
	us = bench_starts(pt, &t, n, IPPROTO_UDP, &l, ntohs(un.sin_port), &r, ntohs(pn.sin_port), NULL);
	printf("  UDP connected:                 %6.2f us/call\n", us);
	us = bench_starts(pt, &t, n, IPPROTO_UDP, &l, ntohs(pn.sin_port), &r, 9, NULL);
	printf("  UDP unconnected (wildcard):    %6.2f us/call\n", us);

	/* A socket that closes after flow_start is never found: each poll with a scan walks every process. */
	for (int i = 0; i < 9; i++) {
		struct sockaddr_in xn;
		int x = lo_socket(SOCK_DGRAM, &xn);
		uint64_t got = 0;
		double t0;

		connect(x, (struct sockaddr *)&pn, sizeof pn);
		proc_flow_start(pt, 1, IPPROTO_UDP, &l, ntohs(xn.sin_port), &r, ntohs(pn.sin_port));
		close(x);
		t += 300 * 1000;
		t0 = now_ns();
		proc_table_poll(pt, t, count_cb, &got);
		scan[i] = (now_ns() - t0) / 1e3;
		t += 3 * NG_USEC;
		proc_table_poll(pt, t, count_cb, &got);
	}
	qsort(scan, 9, sizeof scan[0], cmp_double);
	count_procs(&procs, &fds, &socks);
	printf("%s: %.0f us median (min %.0f, max %.0f) with %d processes, %d fds, %d sockets\n",
	       diag ? "full /proc/PID/fd scan" : "/proc/net/{tcp,udp}{,6} read", scan[4], scan[0], scan[8], procs, fds,
	       socks);
	print_stats(pt);
	close(c);
	close(s);
	close(lfd);
	close(u);
	close(peer);
	return 0;
}

int main(int argc, char **argv)
{
	struct proc_table *pt;
	char err[512];
	bool procnet = false;
	int argi = 1, rc;
	uint8_t proto;
	ng_addr l, r;

	log_init(NG_LOG_INFO);
	if (argi < argc && strcmp(argv[argi], "--procnet") == 0) {
		procnet = true;
		argi++;
	}
	pt = proc_table_create(err, sizeof err);
	if (!pt) {
		fprintf(stderr, "proc_probe: %s\n", err);
		return 2;
	}
	if (procnet)
		proc_table_use_procnet(pt);
	if (argi < argc && strcmp(argv[argi], "--bench") == 0) {
		int n = argi + 1 < argc ? atoi(argv[argi + 1]) : 5000;

		rc = bench(pt, n > 0 ? n : 5000);
		proc_table_destroy(pt);
		return rc;
	}
	if (argc - argi != 5)
		usage();
	if (strcmp(argv[argi], "tcp") == 0)
		proto = IPPROTO_TCP;
	else if (strcmp(argv[argi], "udp") == 0)
		proto = IPPROTO_UDP;
	else
		usage();
	if (addr_parse(argv[argi + 1], &l) == -1 || addr_parse(argv[argi + 3], &r) == -1) {
		fprintf(stderr, "proc_probe: not an IP address: %s or %s\n", argv[argi + 1], argv[argi + 3]);
		return 2;
	}
	rc = probe(pt, proto, &l, port_arg(argv[argi + 2]), &r, port_arg(argv[argi + 4]));
	proc_table_destroy(pt);
	return rc;
}
