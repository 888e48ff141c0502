/* SPDX-License-Identifier: BSD-2-Clause */
/* resolvers.h: the well-known public DNS and DNS-over-HTTPS resolver addresses. */
#ifndef NG_RESOLVERS_H
#define NG_RESOLVERS_H

#include <stdbool.h>

#include "addr.h"

/*
 * True when a is one of the public resolvers' anycast addresses (Google,
 * Cloudflare, Quad9, OpenDNS, AdGuard, NextDNS, CleanBrowsing); the table and
 * its sources are in resolvers.c. A connection to one of them needs no DNS
 * answer first (it IS the name service, often over DoH/DoT), so the "no DNS
 * answer before the connection" signal leaves them out.
 */
bool resolver_is_public_dns(const ng_addr *a);

#endif
