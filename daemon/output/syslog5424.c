/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * syslog5424.c: alerts for pipelines that start at syslog.
 *
 * DESIGN. One connected datagram socket, opened non-blocking: a message is
 * one send(2) with MSG_DONTWAIT, so a slow or absent syslog daemon costs the
 * capture a failed system call, never a wait; what it cannot take is
 * counted as dropped (--dump of a file may wait a second for room instead:
 * no live capture waits behind it). The local socket (/dev/log) is a datagram socket for
 * both rsyslog and systemd-journald. Messages follow RFC 5424 6: version 1,
 * an RFC 3339 timestamp with microseconds, the host name, APP-NAME
 * "netglobe", the pid, a MSGID, one structured-data element and the message
 * itself (the alert's JSON, without a BOM: RFC 5424's MSG-ANY). Over UDP
 * each datagram is one message (RFC 5426). A socket that went away (syslog
 * restarted) is reconnected from the tick, at most every 10 s.
 */
#include "syslog5424.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "platform.h"

#define RETRY (10 * NG_USEC)
#define WAIT_MS 1000
#define MAX_MSG 65000

struct syslog5424 {
	char *target;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int fd;				/* -1 while not connected */
	bool local;			/* a unix socket */
	bool failing;			/* a failure was logged */
	bool may_wait, stalled;		/* syslog5424_may_wait; a wait timed out since the last message went */
	ng_time retry_at;		/* monotonic */
	char host[256];
	struct strbuf buf;
	struct syslog5424_stats st;
};

/* Connect the socket; 0, or -1 with errno set. */
static int sock_connect(struct syslog5424 *s)
{
	int fd = socket(s->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&s->addr, s->addrlen) != 0) {
		int e = errno;

		platform_socket_close(fd);
		errno = e;
		return -1;
	}
	s->fd = fd;
	return 0;
}

/* Fill s->addr from "unix:/PATH" or "udp:HOST:PORT"; -1 with one line in err. */
static int parse_target(struct syslog5424 *s, const char *target, char *err, size_t errlen)
{
	if (strncmp(target, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&s->addr;
		const char *path = target + 5;

		if (!PLATFORM_UNIX_DGRAM) {
			snprintf(err, errlen, "--alert-syslog %s: this system has no local syslog socket; use "
				 "udp:HOST:PORT", target);
			return -1;
		}
		if (path[0] != '/' || strlen(path) >= sizeof un->sun_path) {
			snprintf(err, errlen, "--alert-syslog %s: want unix:/PATH, an absolute path of at most %zu bytes",
				 target, sizeof un->sun_path - 1);
			return -1;
		}
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, path, strlen(path) + 1);
		s->addrlen = (socklen_t)sizeof *un;
		s->local = true;
		return 0;
	}
	if (strncmp(target, "udp:", 4) == 0) {
		char host[256];
		const char *h = target + 4, *port, *end;
		struct addrinfo hints, *res = NULL;
		int rc;

		if (h[0] == '[') {
			end = strchr(h, ']');
			port = end && end[1] == ':' ? end + 2 : NULL;
			h++;
		} else {
			end = strrchr(h, ':');
			port = end ? end + 1 : NULL;
		}
		if (!end || !port || !*port || (size_t)(end - h) >= sizeof host || end == h) {
			snprintf(err, errlen, "--alert-syslog %s: want udp:HOST:PORT (an IPv6 address in brackets, "
				 "e.g. udp:[::1]:514)", target);
			return -1;
		}
		memcpy(host, h, (size_t)(end - h));
		host[end - h] = '\0';
		memset(&hints, 0, sizeof hints);
		hints.ai_socktype = SOCK_DGRAM;
		hints.ai_flags = AI_NUMERICSERV;
		rc = getaddrinfo(host, port, &hints, &res);
		if (rc != 0 || !res) {
			snprintf(err, errlen, "--alert-syslog %s: cannot resolve %s port %s: %s", target, host, port,
				 gai_strerror(rc));
			if (res)
				freeaddrinfo(res);
			return -1;
		}
		memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
		s->addrlen = res->ai_addrlen;
		freeaddrinfo(res);
		return 0;
	}
	snprintf(err, errlen, "--alert-syslog %s: want unix:/PATH (default unix:/dev/log) or udp:HOST:PORT", target);
	return -1;
}

struct syslog5424 *syslog5424_open(const char *target, char *err, size_t errlen)
{
	struct syslog5424 *s = xcalloc(1, sizeof *s);

	s->fd = -1;
	if (parse_target(s, target, err, errlen) != 0) {
		free(s);
		return NULL;
	}
	s->target = xstrdup(target);
	if (gethostname(s->host, sizeof s->host - 1) != 0 || !s->host[0])
		snprintf(s->host, sizeof s->host, "-");
	/* RFC 5424 6.2.4: printable US-ASCII only. */
	for (char *p = s->host; *p; p++)
		if (*p < 33 || *p > 126)
			*p = '-';
	if (sock_connect(s) != 0) {
		if (!s->local) {
			snprintf(err, errlen, "--alert-syslog %s: cannot use it: %s", target, strerror(errno));
			syslog5424_close(s);
			return NULL;
		}
		log_warn("alerts: cannot connect to the syslog socket %s (trying again every 10 s; is a syslog "
			 "daemon running?)", target + 5);
		s->failing = true;
		s->retry_at = time_mono() + RETRY;
	}
	return s;
}

void syslog5424_may_wait(struct syslog5424 *s, bool wait)
{
	s->may_wait = wait;
}

void syslog5424_close(struct syslog5424 *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		platform_socket_close(s->fd);
	free(s->buf.p);
	free(s->target);
	free(s);
}

/* An SD-PARAM value: '"', '\' and ']' escaped (RFC 5424 6.3.3). */
static void sd_value(struct strbuf *sb, const char *v)
{
	sb_putc(sb, '"');
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '"' || *p == '\\' || *p == ']')
			sb_putc(sb, '\\');
		sb_putc(sb, *p);
	}
	sb_putc(sb, '"');
}

void syslog5424_send(struct syslog5424 *s, int severity, const char *msgid, const char *const *sd, size_t n,
		     const char *msg, ng_time t)
{
	char ts[NG_TIMESTRLEN], head[64];
	ssize_t w;

	if (!s)
		return;
	if (s->fd < 0) {
		s->st.dropped++;
		return;
	}
	s->buf.len = 0;
	snprintf(head, sizeof head, "<%d>1 ", SYSLOG5424_FACILITY * 8 + severity);
	sb_puts(&s->buf, head);
	sb_puts(&s->buf, time_format(t, ts, sizeof ts));
	sb_putc(&s->buf, ' ');
	sb_puts(&s->buf, s->host);
	snprintf(head, sizeof head, " netglobe %ld ", (long)getpid());
	sb_puts(&s->buf, head);
	sb_puts(&s->buf, msgid);
	sb_puts(&s->buf, " [" SYSLOG5424_SDID);
	for (size_t i = 0; i + 1 < n; i += 2) {
		if (!sd[i + 1])
			continue;
		sb_putc(&s->buf, ' ');
		sb_puts(&s->buf, sd[i]);
		sb_putc(&s->buf, '=');
		sd_value(&s->buf, sd[i + 1]);
	}
	sb_puts(&s->buf, "] ");
	sb_puts(&s->buf, msg);
	if (s->buf.len > MAX_MSG)
		s->buf.len = MAX_MSG;	/* a datagram's limit; no alert comes near it */
	do {
		w = send(s->fd, s->buf.p, s->buf.len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && s->may_wait && !s->stalled) {
			struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};

			if (poll(&pfd, 1, WAIT_MS) == 1)
				errno = EINTR;	/* room again: send once more */
			else
				s->stalled = true;
		}
	} while (w < 0 && errno == EINTR);
	if (w == (ssize_t)s->buf.len) {
		s->stalled = false;
		s->st.sent++;
		if (s->failing)
			log_info("alerts: syslog %s takes messages again", s->target);
		s->failing = false;
		return;
	}
	s->st.dropped++;
	if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && s->local) {
		/* The receiver went away (syslog restarted): reconnect from the tick. */
		platform_socket_close(s->fd);
		s->fd = -1;
		s->retry_at = time_mono() + RETRY;
	}
	if (!s->failing)
		log_warn("alerts: syslog %s did not take an alert (dropped and counted; further drops are not logged)",
			 s->target);
	s->failing = true;
}

void syslog5424_tick(struct syslog5424 *s, ng_time mono)
{
	if (!s || s->fd >= 0 || mono < s->retry_at)
		return;
	if (sock_connect(s) == 0)
		log_info("alerts: connected to syslog %s", s->target);
	else
		s->retry_at = mono + RETRY;
}

void syslog5424_get_stats(const struct syslog5424 *s, struct syslog5424_stats *out)
{
	*out = s->st;
}

const char *syslog5424_target(const struct syslog5424 *s)
{
	return s->target;
}
