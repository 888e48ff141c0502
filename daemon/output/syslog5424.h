/* SPDX-License-Identifier: BSD-2-Clause */
/* syslog5424.h: RFC 5424 syslog messages to a local socket or a UDP collector, never blocking the caller. */
#ifndef NG_SYSLOG5424_H
#define NG_SYSLOG5424_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* RFC 5424 6.2.1 facility and severities used here. */
#define SYSLOG5424_FACILITY 3		/* daemon */
#define SYSLOG5424_ERR 3
#define SYSLOG5424_WARNING 4

/* The SD-ID of netglobe's structured data: a private name under the documentation PEN (RFC 5612). */
#define SYSLOG5424_SDID "netglobe@32473"

struct syslog5424_stats {
	uint64_t sent;
	uint64_t dropped;	/* the receiver's queue was full, or it was not there */
};

struct syslog5424;

/*
 * Parse `target` ("unix:/PATH" or "udp:HOST:PORT", [v6] in brackets) and
 * connect a non-blocking datagram socket. NULL with one line in err for a
 * bad target or a host that does not resolve; a local socket that is not
 * there yet (no syslog daemon) only warns, and is tried again later.
 */
struct syslog5424 *syslog5424_open(const char *target, char *err, size_t errlen);
/*
 * Let a full receiver queue be waited for (up to a second, and not again
 * until a message goes through): for --dump of a file, where no live
 * capture can be stalled and a replay's burst should not lose alerts.
 */
void syslog5424_may_wait(struct syslog5424 *s, bool wait);
void syslog5424_close(struct syslog5424 *s);

/*
 * Send one message: <PRI>1 TIMESTAMP HOSTNAME netglobe PROCID MSGID SD MSG,
 * where SD is [SYSLOG5424_SDID name="value" ...] from the n name/value
 * pairs (values escaped as RFC 5424 6.3.3 says). It is one datagram (RFC
 * 5426 for UDP); when the socket would block, the message is dropped and
 * counted. `t` is the TIMESTAMP (wall clock).
 */
void syslog5424_send(struct syslog5424 *s, int severity, const char *msgid, const char *const *sd, size_t n,
		     const char *msg, ng_time t);

/* Reconnect a local socket that failed (at most every 10 s); from the loop's tick. */
void syslog5424_tick(struct syslog5424 *s, ng_time mono);

void syslog5424_get_stats(const struct syslog5424 *s, struct syslog5424_stats *out);
/* The target as given ("unix:/dev/log"). */
const char *syslog5424_target(const struct syslog5424 *s);

#endif
