/* SPDX-License-Identifier: BSD-2-Clause */
/* flowjson.h: the public flow object (docs/api.md) as JSON, and the same row as CSV. */
#ifndef NG_FLOWJSON_H
#define NG_FLOWJSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "flow.h"
#include "util.h"

/* "tcp", "udp", "icmp", "icmpv6", "sctp", or "ip-N"; writes into buf when needed and returns it or a literal. */
const char *flowjson_proto_name(uint8_t proto, char *buf, size_t len);
/* Parse a protocol name or number back; -1 when unknown. */
int flowjson_proto_parse(const char *s);
const char *flowjson_state_name(uint8_t state);
/* Zeek's conn_state code for the flow ("S0", "SF", "REJ", ... "OTH"; docs/api.md). */
const char *flowjson_conn_state(const struct flow *f);
const char *flowjson_end_name(uint8_t end_reason);
const char *flowjson_domain_source_name(uint8_t src);

/* Append the flow as one line of JSON text (no newline). `window` phrases the reasons ("48 h"). */
void flowjson_append(const struct flow *f, ng_time window, struct strbuf *sb);
/* The same object as a new cJSON tree (caller owns it), for callers that add members. */
cJSON *flowjson_object(const struct flow *f, ng_time window);
/* The flow's "signals" array as a new cJSON tree (caller owns it), written as flowjson_append writes it. */
cJSON *flowjson_signals(const struct flow *f, ng_time window);
/* The reason sentence for the overall verdict into buf; returns buf. */
char *flowjson_reason(const struct flow *f, ng_time window, char *buf, size_t len);

/* The rule of trusted.txt (the user's trust) that decides a direction of f, or NULL. */
const char *flowjson_trust_rule(const struct flow *f);

/* The CSV header row (with CRLF) and one flow as a CSV row (RFC 4180) appended to a text buffer. */
const char *flowjson_csv_header(void);
void flowjson_csv_row(const struct flow *f, ng_time window, struct strbuf *sb);

#endif
