/* SPDX-License-Identifier: BSD-2-Clause */
/* proctable.c: match a flow to its owner in a table of sockets and pids (Windows' TCP/UDP owner tables). */
#include <stdbool.h>
#include <string.h>

#include "proctable.h"

/* The wildcard address (0.0.0.0 or ::) of the same family as a. */
static bool addr_is_any(const ng_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->a, zero, a->v == 4 ? 4 : 16) == 0;
}

uint32_t proc_conn_owner(const struct proc_conn *rows, size_t n, uint8_t proto, const ng_addr *local,
			 uint16_t lport, const ng_addr *remote, uint16_t rport)
{
	uint32_t bound_any = 0;

	for (size_t i = 0; i < n; i++) {
		const struct proc_conn *r = &rows[i];

		if (r->proto != proto || r->local_port != lport || r->local.v != local->v)
			continue;
		if (proto == 6 && !r->listening) {
			if (addr_equal(&r->local, local) && r->remote_port == rport && addr_equal(&r->remote, remote))
				return r->pid;
			continue;
		}
		if (proto == 6)
			continue;	/* a listener: only if no connection row matches (second pass) */
		if (addr_equal(&r->local, local))
			return r->pid;
		if (addr_is_any(&r->local) && bound_any == 0)
			bound_any = r->pid;
	}
	if (bound_any != 0 || proto != 6)
		return bound_any;
	/* TCP without its connection row (it closed, or the table was read too early): its listener. */
	for (size_t i = 0; i < n; i++) {
		const struct proc_conn *r = &rows[i];

		if (r->proto == 6 && r->listening && r->local_port == lport && r->local.v == local->v &&
		    (addr_equal(&r->local, local) || addr_is_any(&r->local)))
			return r->pid;
	}
	return 0;
}
