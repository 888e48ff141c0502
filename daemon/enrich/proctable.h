/* SPDX-License-Identifier: BSD-2-Clause */
/* proctable.h: which process owns a connection, answered from a system's table of sockets and owner pids. */
#ifndef NG_PROCTABLE_H
#define NG_PROCTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/*
 * One row of a socket table as Windows' GetExtendedTcpTable/GetExtendedUdpTable
 * give it (and netstat -ano prints it): a TCP connection or listener, or a
 * UDP socket (UDP rows have no remote end: remote_port 0, remote unset).
 */
struct proc_conn {
	uint8_t proto;		/* 6 TCP, 17 UDP */
	bool listening;		/* TCP LISTEN state */
	ng_addr local, remote;
	uint16_t local_port, remote_port;
	uint32_t pid;
};

/*
 * The pid owning the flow (proto, local:lport <-> remote:rport), or 0 when
 * no row matches. A TCP connection matches its exact row; failing that (and
 * always for UDP) a socket bound to the local port on the local address or on
 * the wildcard address, the exact address first. Pure: tested on any system.
 */
uint32_t proc_conn_owner(const struct proc_conn *rows, size_t n, uint8_t proto, const ng_addr *local,
			 uint16_t lport, const ng_addr *remote, uint16_t rport);

#endif
