/* SPDX-License-Identifier: BSD-2-Clause */
/* idle_conns.c: open thousands of idle (or half-sent) TCP connections to a server and report what it did with them. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * DESIGN. One process, one epoll set, non-blocking connects: 10,000
 * connections cost 10,000 descriptors and nothing else, so the limit is
 * RLIMIT_NOFILE, which is raised first (a Python test would hit it). The
 * connections come from a range of loopback source addresses (127.0.1.x),
 * so a per-address cap on the server does not hide the global one. Each
 * connection is idle (nothing sent) or, with --partial, sends an unfinished
 * request line and then nothing (slowloris). The tool watches for the
 * server closing each one and prints one JSON line of counts at the end.
 */

/* What happened to one connection. */
enum conn_state {
	CONN_CONNECTING,
	CONN_OPEN,
	CONN_CLOSED,	/* the server closed or reset it after it was established */
	CONN_FAILED,	/* the connect itself failed (refused, reset before established) */
};

struct conn {
	int fd;
	enum conn_state state;
};

static void usage(void) __attribute__((noreturn));
static double now_s(void);
static int raise_nofile(long want);
static int open_conn(const struct sockaddr_in *dst, int src_index, int nsources);

/* Print the usage line and exit 2. */
static void usage(void)
{
	fprintf(stderr, "usage: idle_conns ADDR PORT COUNT SECONDS [--sources N] [--partial]\n"
			"  open COUNT connections to ADDR:PORT from 127.0.1.1 .. 127.0.1.N (default 200), hold them\n"
			"  SECONDS, then print {\"opened\":..,\"established\":..,\"closed_by_server\":..,\"failed\":..,\"still_open\":..}\n");
	exit(2);
}

/* Monotonic seconds. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Raise the descriptor limit to at least want (the hard limit too, when allowed); 0 or -1. */
static int raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur >= (rlim_t)want)
		return 0;
	if (rl.rlim_max < (rlim_t)want)
		rl.rlim_max = (rlim_t)want;
	rl.rlim_cur = (rlim_t)want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		/* Not root: take what the hard limit allows. */
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		return rl.rlim_cur >= (rlim_t)want ? 0 : -1;
	}
	return 0;
}

/* Start one non-blocking connect from source address number src_index; the descriptor or -1. */
static int open_conn(const struct sockaddr_in *dst, int src_index, int nsources)
{
	struct sockaddr_in src;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&src, 0, sizeof src);
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f000100u + 1u + (uint32_t)(src_index % nsources));
	if (bind(fd, (const struct sockaddr *)&src, sizeof src) != 0 ||
	    (connect(fd, (const struct sockaddr *)dst, sizeof *dst) != 0 && errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const char partial_req[] = "GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
	struct sockaddr_in dst;
	struct conn *conns;
	struct epoll_event ev, evs[256];
	int count, nsources = 200, ep, opened = 0, established = 0, closed = 0, failed = 0, still = 0;
	double seconds, end;
	bool partial = false;

	if (argc < 5)
		usage();
	memset(&dst, 0, sizeof dst);
	dst.sin_family = AF_INET;
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1)
		usage();
	dst.sin_port = htons((uint16_t)atoi(argv[2]));
	count = atoi(argv[3]);
	seconds = atof(argv[4]);
	for (int i = 5; i < argc; i++) {
		if (strcmp(argv[i], "--sources") == 0 && i + 1 < argc)
			nsources = atoi(argv[++i]);
		else if (strcmp(argv[i], "--partial") == 0)
			partial = true;
		else
			usage();
	}
	if (count <= 0 || nsources <= 0 || nsources > 250 || seconds <= 0)
		usage();
	if (raise_nofile((long)count + 64) != 0) {
		fprintf(stderr, "idle_conns: cannot raise RLIMIT_NOFILE to %d: %s\n", count + 64, strerror(errno));
		return 1;
	}
	conns = calloc((size_t)count, sizeof *conns);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!conns || ep < 0) {
		perror("idle_conns");
		return 1;
	}
	for (int i = 0; i < count; i++) {
		conns[i].fd = open_conn(&dst, i, nsources);
		if (conns[i].fd < 0) {
			conns[i].state = CONN_FAILED;
			failed++;
			continue;
		}
		opened++;
		ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
		ev.data.u32 = (uint32_t)i;
		epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
	}
	end = now_s() + seconds;
	while (now_s() < end) {
		int n = epoll_wait(ep, evs, (int)(sizeof evs / sizeof evs[0]), 100);

		for (int k = 0; k < n; k++) {
			struct conn *c = &conns[evs[k].data.u32];
			char buf[512];
			ssize_t r;
			int soerr = 0;
			socklen_t sl = sizeof soerr;

			if (c->state == CONN_CONNECTING) {
				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
				if (soerr != 0) {
					c->state = CONN_FAILED;
					failed++;
					epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
					continue;
				}
				c->state = CONN_OPEN;
				established++;
				if (partial)
					(void)!write(c->fd, partial_req, sizeof partial_req - 1);
				ev.events = EPOLLIN | EPOLLRDHUP;
				ev.data.u32 = evs[k].data.u32;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				if (!(evs[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
					continue;
			}
			if (c->state != CONN_OPEN)
				continue;
			/* Data (an error page) or the end: the server is done with it once read() says 0 or fails. */
			while ((r = read(c->fd, buf, sizeof buf)) > 0)
				;
			if (r == 0 || (r < 0 && errno != EAGAIN) || (evs[k].events & (EPOLLHUP | EPOLLERR))) {
				c->state = CONN_CLOSED;
				closed++;
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			}
		}
	}
	for (int i = 0; i < count; i++) {
		if (conns[i].state == CONN_OPEN || conns[i].state == CONN_CONNECTING)
			still++;
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	}
	printf("{\"opened\":%d,\"established\":%d,\"closed_by_server\":%d,\"failed\":%d,\"still_open\":%d}\n", opened,
	       established, closed, failed, still);
	free(conns);
	close(ep);
	return 0;
}
