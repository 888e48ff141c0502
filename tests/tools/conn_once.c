/* SPDX-License-Identifier: BSD-2-Clause */
/* conn_once.c: one short connection (TCP connect+close, or one UDP datagram), then exit: prints "PID PROTO LPORT". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* conn_once tcp|udp ADDR PORT: the program attribution tests launch, which is gone right after its connection. */
int main(int argc, char **argv)
{
	struct sockaddr_in to, me;
	socklen_t mlen = sizeof me;
	int udp, fd;

	if (argc != 4 || (strcmp(argv[1], "tcp") != 0 && strcmp(argv[1], "udp") != 0)) {
		fprintf(stderr, "usage: conn_once tcp|udp IPV4-ADDR PORT\n");
		return 2;
	}
	udp = strcmp(argv[1], "udp") == 0;
	memset(&to, 0, sizeof to);
	to.sin_family = AF_INET;
	to.sin_port = htons((unsigned short)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &to.sin_addr) != 1) {
		fprintf(stderr, "conn_once: %s is not an IPv4 address\n", argv[2]);
		return 2;
	}
	fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd == -1) {
		perror("conn_once: socket");
		return 1;
	}
	if (udp) {
		if (sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof to) != 1) {
			perror("conn_once: sendto");
			return 1;
		}
	} else if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
		perror("conn_once: connect");
		return 1;
	}
	if (getsockname(fd, (struct sockaddr *)&me, &mlen) != 0) {
		perror("conn_once: getsockname");
		return 1;
	}
	printf("%d %s %u\n", (int)getpid(), argv[1], (unsigned)ntohs(me.sin_port));
	close(fd);
	return 0;
}
