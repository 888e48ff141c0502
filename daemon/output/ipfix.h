/* SPDX-License-Identifier: BSD-2-Clause */
/* ipfix.h: IPFIX export (RFC 7011 messages, RFC 7012 elements) of ended and long flows, over UDP or TCP. */
#ifndef NG_IPFIX_H
#define NG_IPFIX_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "output.h"
#include "util.h"


/*
 * netglobe's own Information Elements live under this Private Enterprise
 * Number. netglobe has none registered: 32473 is IANA's example enterprise
 * for documentation (RFC 5612), used as a clearly marked placeholder.
 * docs/ipfix.md has the exact layout of both templates.
 */
#define IPFIX_PEN 32473
#define IPFIX_TEMPLATE_V4 256
#define IPFIX_TEMPLATE_V6 257

/* Element ids under IPFIX_PEN. */
enum ipfix_ng_ie {
	IPFIX_NG_VERDICT_SENT = 1,		/* unsigned8, enum wl_verdict of the sent direction */
	IPFIX_NG_VERDICT_RECEIVED = 2,		/* unsigned8, enum wl_verdict of the received direction */
	IPFIX_NG_REMOTE_DOMAIN = 3,		/* string, variable length */
	IPFIX_NG_REMOTE_DOMAIN_SOURCE = 4,	/* unsigned8, enum flow_domain_source */
	IPFIX_NG_PROCESS_NAME = 5,		/* string, variable length */
	IPFIX_NG_PROCESS_ID = 6,		/* unsigned32 */
	IPFIX_NG_COUNTRY_CODE = 7,		/* string, 2 octets (ISO 3166-1 alpha-2; zeros when unknown) */
	IPFIX_NG_VERDICT = 8,			/* unsigned8, overall verdict of the flow */
	IPFIX_NG_INITIATOR = 9,			/* unsigned8: 1 this host started the flow, 2 the remote did */
	IPFIX_NG_ATTENTION = 10,		/* unsigned8: 0 none, 1 low, 2 high (docs/detection.md) */
	IPFIX_NG_SIGNALS = 11,			/* unsigned32: bit per signal, in docs/ipfix.md's order */
	IPFIX_NG_COMMUNITY_ID = 12,		/* string, 30 octets: the flow's Community ID ("1:" and base64) */
};

/* flowEndReason values (RFC 5102/IANA IPFIX registry, element 136). */
enum ipfix_end_reason {
	IPFIX_END_IDLE = 1,
	IPFIX_END_ACTIVE = 2,
	IPFIX_END_DETECTED = 3,
	IPFIX_END_FORCED = 4,
	IPFIX_END_RESOURCES = 5,
};

/* Sends one finished IPFIX message; 0 when it left, -1 when it was dropped (tests use this). */
typedef int (*ipfix_send_fn)(void *arg, const uint8_t *msg, size_t len);

struct ipfix_options {
	const char *collector;		/* "HOST:PORT", "udp://HOST:PORT" or "tcp://HOST:PORT" (--ipfix) */
	ng_time active_timeout;		/* interim records of long flows this often; 0: only at their end */
	uint32_t domain_id;		/* Observation Domain ID; 0 derives one from the host name */
	size_t mtu;			/* largest message; 0: UDP the path MTU (at most 8192), TCP 16384 */
	ng_time template_refresh;	/* UDP: send the templates again after this long; 0: 60 s */
	uint32_t template_refresh_msgs;	/* UDP: ... or after this many messages; 0: 1000 */
	ng_time (*clock)(void);		/* wall clock (tests); NULL: time_now */
};

struct ipfix;

/*
 * Resolve the collector once (a name or a numeric address), open a
 * non-blocking socket (TCP starts connecting) and return the exporter, or
 * NULL with one line in err. The caller frees it with ipfix_close.
 */
struct ipfix *ipfix_open(const struct ipfix_options *o, char *err, size_t errlen);
/* An exporter that hands each message to fn instead of a socket (UDP rules: template refresh, no session). */
struct ipfix *ipfix_open_fn(const struct ipfix_options *o, ipfix_send_fn fn, void *arg);
/* Send what is pending (TCP: wait up to 3 s for the collector to take it), log a summary, free. NULL is fine. */
void ipfix_close(struct ipfix *x);

/*
 * The final records of a flow: one per direction that carried packets since
 * its last record. A flow still active (end_reason FLOW_END_NONE: the end of
 * a file, shutdown) ends with flowEndReason "forced end".
 */
void ipfix_flow_end(struct ipfix *x, const struct flow *f);
/* A flow changed: when its last record is an active timeout old (packet clock), send interim records. */
void ipfix_flow_update(struct ipfix *x, const struct flow *f);
/* From the loop's tick: send the pending message, refresh UDP templates, drive the TCP connection. */
void ipfix_tick(struct ipfix *x, ng_time wall);
/* Send the message being filled now. */
void ipfix_flush(struct ipfix *x);

struct ipfix_stats {
	uint64_t records;		/* data records put into messages */
	uint64_t dropped;		/* records lost: full send buffer, refused, disconnected, over the buffer */
	uint64_t messages;		/* messages handed to the socket */
	uint64_t bytes;			/* their bytes */
	uint64_t templates;		/* template sets sent */
	uint64_t interim;		/* active-timeout records (included in records) */
	uint64_t interim_skipped;	/* long flows not tracked because the tracking table was full */
	uint64_t connects;		/* TCP connections made */
	bool connected;			/* TCP: up now (UDP: always true) */
};
void ipfix_get_stats(const struct ipfix *x, struct ipfix_stats *out);
/* Add the "ipfix_*" members of /api/stats "export" to o (zeros and a null collector when x is NULL). */
void ipfix_stats_json(const struct ipfix *x, cJSON *o);

/*
 * Split an --ipfix value into host, port and transport. Accepts HOST:PORT,
 * [V6ADDR]:PORT, and either with udp:// or tcp:// in front. 0, or -1 with
 * one line in err.
 */
int ipfix_parse_collector(const char *s, char *host, size_t hostlen, char *port, size_t portlen, bool *tcp,
			  char *err, size_t errlen);

/* The row of the output table: --ipfix. */
extern const struct output_type ipfix_output;

#endif
