/* SPDX-License-Identifier: BSD-2-Clause */
/* sse_clients.c: N event-stream clients on one epoll loop, for the HTTP benchmark (cheap enough not to steal the CPU it measures). */

/*
 * Usage: sse_clients PORT N [PATH]
 *
 * Opens N connections to 127.0.0.1:PORT, asks each for PATH (default
 * /events) over HTTP/1.0 (no chunking), prints "ready" once all requests
 * are sent, then reads everything as fast as it arrives. On SIGTERM or
 * SIGINT it prints one JSON line: bytes read, `event: reset` lines seen,
 * connections closed by the server, and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define TAIL 16			/* bytes kept per connection so a marker split across reads is still found */

static volatile sig_atomic_t stop;

/* Per connection: the last bytes read, to find markers across read boundaries. */
struct conn {
	int fd;
	size_t tail;
	char last[TAIL];
};

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Count occurrences of needle in the connection's previous tail followed by buf. */
static uint64_t count_marker(struct conn *c, const char *buf, size_t n, const char *needle)
{
	char join[2 * TAIL];
	size_t nl = strlen(needle), jl;
	uint64_t count = 0;
	const char *p = buf, *hit;

	/* Across the boundary: tail + the first bytes of buf. */
	jl = c->tail;
	memcpy(join, c->last, jl);
	memcpy(join + jl, buf, n < nl - 1 ? n : nl - 1);
	jl += n < nl - 1 ? n : nl - 1;
	for (const char *q = join; (hit = memmem(q, (size_t)(join + jl - q), needle, nl)) != NULL; q = hit + 1) {
		if (hit < join + c->tail && hit + nl > join + c->tail)
			count++;
	}
	while ((hit = memmem(p, (size_t)(buf + n - p), needle, nl)) != NULL) {
		count++;
		p = hit + nl;
	}
	c->tail = n < TAIL ? n : TAIL;
	memcpy(c->last, buf + n - c->tail, c->tail);
	return count;
}

int main(int argc, char **argv)
{
	static char buf[1 << 18];
	struct sockaddr_in sin;
	struct epoll_event ev, evs[256];
	struct conn *conns;
	const char *path = argc > 3 ? argv[3] : "/events";
	uint64_t bytes = 0, resets = 0, closed = 0;
	char req[512];
	int port, n, ep, reqlen;

	if (argc < 3) {
		fprintf(stderr, "usage: sse_clients PORT N [PATH]\n");
		return 2;
	}
	port = atoi(argv[1]);
	n = atoi(argv[2]);
	if (port <= 0 || port > 65535 || n <= 0 || n > 100000) {
		fprintf(stderr, "sse_clients: bad PORT or N\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	reqlen = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n", path, port);
	conns = calloc((size_t)n, sizeof *conns);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!conns || ep < 0) {
		perror("sse_clients");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
		    write(fd, req, (size_t)reqlen) != reqlen) {
			fprintf(stderr, "sse_clients: connection %d: %s\n", i, strerror(errno));
			return 1;
		}
		conns[i].fd = fd;
		ev.events = EPOLLIN;
		ev.data.ptr = &conns[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		int k = epoll_wait(ep, evs, 256, 500);

		for (int i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;
			ssize_t r = read(c->fd, buf, sizeof buf);

			if (r > 0) {
				bytes += (uint64_t)r;
				resets += count_marker(c, buf, (size_t)r, "event: reset");
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				closed++;
			}
		}
	}
	printf("{\"clients\": %d, \"bytes\": %llu, \"resets\": %llu, \"closed\": %llu}\n", n, (unsigned long long)bytes,
	       (unsigned long long)resets, (unsigned long long)closed);
	return 0;
}
