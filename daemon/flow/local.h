/* SPDX-License-Identifier: BSD-2-Clause */
/* local.h: which addresses are "this host", so each flow has a local and a remote end. */
#ifndef NG_LOCAL_H
#define NG_LOCAL_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "decode.h"

struct local_set;

struct local_set *local_set_create(void);
void local_set_destroy(struct local_set *ls);

/* Add a CIDR or address ("--local-net 192.168.1.0/24"); 0, or -1 with the reason in err. */
int local_set_add(struct local_set *ls, const char *cidr, char *err, size_t errlen);
/* Add one host address. */
void local_set_add_addr(struct local_set *ls, const ng_addr *addr);
/* Add every address of this host's interfaces (getifaddrs); 0 or -1 with err. */
int local_set_add_interfaces(struct local_set *ls, char *err, size_t errlen);
bool local_set_contains(const struct local_set *ls, const ng_addr *addr);
/* Visit each prefix (pcapgen zeek writes the local host's addresses from them). */
void local_set_foreach(const struct local_set *ls, void (*cb)(void *arg, const ng_cidr *c), void *arg);
size_t local_set_count(const struct local_set *ls);
/* Append each prefix to a cJSON array as text ("192.168.1.10", "10.0.0.0/8"). */
struct cJSON;
void local_set_to_json(const struct local_set *ls, struct cJSON *array);
/* "192.168.1.10, fd00::10/128": a short description for logs; returns buf. */
char *local_set_describe(const struct local_set *ls, char *buf, size_t len);

/*
 * Inference for capture files, one address per IP version: the private
 * (RFC 1918, ULA, CGNAT, documentation) address that opens conversations
 * (TCP SYN sender, UDP from a high port to a port below 1024) and is in the
 * most of them; when no private address opens any, the address in the most
 * distinct conversations. Feed decoded packets, then finish: it adds the
 * winners to ls and describes them in buf.
 */
struct local_infer;
struct local_infer *local_infer_create(void);
void local_infer_packet(struct local_infer *li, const struct pkt *p);
/* Returns the number of addresses added (0 when the capture had no unicast IP). */
size_t local_infer_finish(struct local_infer *li, struct local_set *ls, char *buf, size_t len);
void local_infer_destroy(struct local_infer *li);

#endif
