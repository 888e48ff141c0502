/* SPDX-License-Identifier: BSD-2-Clause */
/* conn_rate.c: short TCP connections at a steady rate (the attribution bench's load), and the server they reach. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Seconds on the monotonic clock. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses a whole number from MIN to MAX, or exits with a message naming WHAT. */
static long parse_num(const char *s, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "conn_rate: %s takes a whole number from %ld to %ld, not '%s'\n", what, min, max, s);
		exit(2);
	}
	return v;
}

/* Fills an IPv4 socket address, or exits naming the bad address. */
static void make_addr(struct sockaddr_in *sa, const char *addr, long port)
{
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
		fprintf(stderr, "conn_rate: %s is not an IPv4 address\n", addr);
		exit(2);
	}
}

/* The server: listens on NPORTS ports from PORT, accepts every connection and closes it at once. */
static int serve(const char *addr, long port, long nports)
{
	struct epoll_event ev, evs[16];
	int ep, one = 1;

	ep = epoll_create1(0);
	if (ep == -1) {
		perror("conn_rate: epoll_create1");
		return 1;
	}
	for (long i = 0; i < nports; i++) {
		struct sockaddr_in sa;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

		make_addr(&sa, addr, port + i);
		if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
		    bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4096) != 0) {
			fprintf(stderr, "conn_rate: cannot listen on %s:%ld: %s\n", addr, port + i, strerror(errno));
			return 1;
		}
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int n = epoll_wait(ep, evs, 16, -1);

		for (int i = 0; i < n; i++) {
			int c;

			while ((c = accept4(evs[i].data.fd, NULL, NULL, SOCK_NONBLOCK)) != -1)
				close(c);
		}
	}
}

/* The client: RATE connections a second for SECONDS (connect, then close at once), spread over NPORTS ports. */
static int client(const char *addr, long port, long nports, long rate, double secs)
{
	long total = (long)(rate * secs), done = 0, failed = 0, late = 0;
	struct rusage ru;
	double t0, t1, cpu;

	t0 = now_s();
	for (long i = 0; i < total; i++) {
		struct sockaddr_in sa;
		double due = t0 + (double)i / (double)rate, ahead = due - now_s();
		int fd;

		/* Pace: sleep only when more than 200 us ahead, so the rate holds at 10,000/s despite timer slack. */
		if (ahead > 200e-6) {
			struct timespec ts = { (time_t)ahead, (long)((ahead - (double)(time_t)ahead) * 1e9) };

			nanosleep(&ts, NULL);
		} else if (ahead < -0.1) {
			late++;
		}
		make_addr(&sa, addr, port + i % nports);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
			if (failed++ == 0)
				fprintf(stderr, "conn_rate: connect to %s:%ld: %s\n", addr, port + i % nports, strerror(errno));
		} else {
			done++;
		}
		if (fd != -1)
			close(fd);
	}
	t1 = now_s();
	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	      (double)ru.ru_stime.tv_usec / 1e6;
	/* One line the bench parses: the pid (the flows' owner), counts, wall seconds, this process's CPU. */
	printf("pid %d connections %ld failed %ld late %ld seconds %.3f rate %.0f cpu_s %.3f\n", (int)getpid(), done,
	       failed, late, t1 - t0, (double)done / (t1 - t0), cpu);
	return failed > total / 100 ? 1 : 0;
}

/* conn_rate serve ADDR PORT NPORTS | conn_rate ADDR PORT NPORTS RATE SECONDS */
int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "serve") == 0)
		return serve(argv[2], parse_num(argv[3], "PORT", 1, 65535), parse_num(argv[4], "NPORTS", 1, 1024));
	if (argc == 6) {
		long port = parse_num(argv[2], "PORT", 1, 65535);

		return client(argv[1], port, parse_num(argv[3], "NPORTS", 1, 64), parse_num(argv[4], "RATE", 1, 1000000),
			      (double)parse_num(argv[5], "SECONDS", 1, 3600));
	}
	fprintf(stderr, "usage: conn_rate serve IPV4-ADDR PORT NPORTS\n"
			"       conn_rate IPV4-ADDR PORT NPORTS RATE SECONDS\n");
	return 2;
}
