/* SPDX-License-Identifier: BSD-2-Clause */
/* proc_windows.c: process attribution on Windows: the TCP/UDP owner-pid tables and QueryFullProcessImageNameW. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"

#include <windows.h>
#include <iphlpapi.h>

#include "proc.h"
#include "proctable.h"

/*
 * DESIGN. A new flow is queued; at the next housekeeping tick the four owner
 * tables (TCP and UDP, IPv4 and IPv6) are read once for the whole batch,
 * converted to struct proc_conn rows and matched by proc_conn_owner (pure,
 * unit-tested on every system). As on Linux, a short-lived connection that
 * closed before the tick is counted as socket_gone, never guessed.
 */

#define PROC_MAX_PENDING 4096

struct pending {
	uint64_t flow_id;
	uint8_t proto;
	ng_addr local, remote;
	uint16_t lport, rport;
};

struct proc_table {
	struct pending *pend;
	size_t npend;
	struct proc_conn *rows;
	size_t nrows, caprows;
	struct proc_stats st;
};

struct proc_table *proc_table_create(char *err, size_t errlen)
{
	struct proc_table *pt = xcalloc(1, sizeof *pt);

	(void)err;
	(void)errlen;
	pt->pend = xcalloc(PROC_MAX_PENDING, sizeof *pt->pend);
	return pt;
}

void proc_table_destroy(struct proc_table *pt)
{
	if (!pt)
		return;
	free(pt->pend);
	free(pt->rows);
	free(pt);
}

void proc_flow_start(struct proc_table *pt, uint64_t flow_id, uint8_t proto, const ng_addr *local_ip,
		     uint16_t local_port, const ng_addr *remote_ip, uint16_t remote_port)
{
	struct pending *p;

	pt->st.requests++;
	if (pt->npend == PROC_MAX_PENDING || (proto != 6 && proto != 17)) {
		pt->st.dropped++;
		return;
	}
	p = &pt->pend[pt->npend++];
	p->flow_id = flow_id;
	p->proto = proto;
	p->local = *local_ip;
	p->remote = *remote_ip;
	p->lport = local_port;
	p->rport = remote_port;
}

/* Append one row. */
static void row_add(struct proc_table *pt, const struct proc_conn *r)
{
	if (pt->nrows == pt->caprows) {
		pt->caprows = pt->caprows ? pt->caprows * 2 : 256;
		pt->rows = xrealloc(pt->rows, pt->caprows * sizeof *pt->rows);
	}
	pt->rows[pt->nrows++] = *r;
}

/* A table from GetExtended{Tcp,Udp}Table (caller frees), or NULL. */
static void *owner_table(bool tcp, ULONG family)
{
	DWORD len = 0, rc;
	void *buf = NULL;

	for (int tries = 0; tries < 4; tries++) {
		rc = tcp ? GetExtendedTcpTable(buf, &len, FALSE, family, TCP_TABLE_OWNER_PID_ALL, 0)
			 : GetExtendedUdpTable(buf, &len, FALSE, family, UDP_TABLE_OWNER_PID, 0);
		if (rc == NO_ERROR)
			return buf;
		if (rc != ERROR_INSUFFICIENT_BUFFER)
			break;
		free(buf);
		buf = xmalloc(len + 4096);
		len += 4096;
	}
	free(buf);
	return NULL;
}

/* Read the four owner tables into pt->rows. */
static void rows_refresh(struct proc_table *pt)
{
	MIB_TCPTABLE_OWNER_PID *t4 = owner_table(true, AF_INET);
	MIB_TCP6TABLE_OWNER_PID *t6 = owner_table(true, AF_INET6);
	MIB_UDPTABLE_OWNER_PID *u4 = owner_table(false, AF_INET);
	MIB_UDP6TABLE_OWNER_PID *u6 = owner_table(false, AF_INET6);
	struct proc_conn r;

	pt->nrows = 0;
	for (DWORD i = 0; t4 && i < t4->dwNumEntries; i++) {
		const MIB_TCPROW_OWNER_PID *x = &t4->table[i];

		memset(&r, 0, sizeof r);
		r.proto = 6;
		r.listening = x->dwState == MIB_TCP_STATE_LISTEN;
		r.local = addr_from_v4((const uint8_t *)&x->dwLocalAddr);
		r.remote = addr_from_v4((const uint8_t *)&x->dwRemoteAddr);
		r.local_port = ntohs((u_short)x->dwLocalPort);
		r.remote_port = ntohs((u_short)x->dwRemotePort);
		r.pid = x->dwOwningPid;
		row_add(pt, &r);
	}
	for (DWORD i = 0; t6 && i < t6->dwNumEntries; i++) {
		const MIB_TCP6ROW_OWNER_PID *x = &t6->table[i];

		memset(&r, 0, sizeof r);
		r.proto = 6;
		r.listening = x->dwState == MIB_TCP_STATE_LISTEN;
		r.local = addr_from_v6(x->ucLocalAddr);
		r.remote = addr_from_v6(x->ucRemoteAddr);
		r.local_port = ntohs((u_short)x->dwLocalPort);
		r.remote_port = ntohs((u_short)x->dwRemotePort);
		r.pid = x->dwOwningPid;
		row_add(pt, &r);
	}
	for (DWORD i = 0; u4 && i < u4->dwNumEntries; i++) {
		memset(&r, 0, sizeof r);
		r.proto = 17;
		r.local = addr_from_v4((const uint8_t *)&u4->table[i].dwLocalAddr);
		r.local_port = ntohs((u_short)u4->table[i].dwLocalPort);
		r.pid = u4->table[i].dwOwningPid;
		row_add(pt, &r);
	}
	for (DWORD i = 0; u6 && i < u6->dwNumEntries; i++) {
		memset(&r, 0, sizeof r);
		r.proto = 17;
		r.local = addr_from_v6(u6->table[i].ucLocalAddr);
		r.local_port = ntohs((u_short)u6->table[i].dwLocalPort);
		r.pid = u6->table[i].dwOwningPid;
		row_add(pt, &r);
	}
	free(t4);
	free(t6);
	free(u4);
	free(u6);
}

/* UTF-8 copy of a wide string (caller frees). */
static char *utf8(const WCHAR *w)
{
	int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
	char *s = xmalloc(n > 0 ? (size_t)n : 1);

	if (n <= 0 || WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) <= 0)
		s[0] = '\0';
	return s;
}

/* The process behind pid: its image path (QueryFullProcessImageNameW) and file name; NULL when it is gone. */
static struct proc_info *info_of(uint32_t pid)
{
	struct proc_info *info;
	HANDLE h;
	WCHAR path[MAX_PATH * 4];
	DWORD len = NG_ARRAY_LEN(path);
	const char *base;

	info = xcalloc(1, sizeof *info);
	info->refs = 1;
	info->pid = (pid_t)pid;
	h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
	if (h != NULL && QueryFullProcessImageNameW(h, 0, path, &len)) {
		info->exe = utf8(path);
		base = strrchr(info->exe, '\\');
		info->name = xstrdup(base ? base + 1 : info->exe);
	} else {
		char n[32];

		/* System processes (pid 4) and other accounts' processes without the rights to ask. */
		snprintf(n, sizeof n, pid == 4 ? "System" : "pid %u", (unsigned)pid);
		info->name = xstrdup(n);
	}
	if (h != NULL)
		CloseHandle(h);
	return info;
}

void proc_table_poll(struct proc_table *pt, ng_time now, proc_result_cb cb, void *arg)
{
	(void)now;
	if (pt->npend == 0)
		return;
	rows_refresh(pt);
	for (size_t i = 0; i < pt->npend; i++) {
		const struct pending *p = &pt->pend[i];
		uint32_t pid = proc_conn_owner(pt->rows, pt->nrows, p->proto, &p->local, p->lport, &p->remote, p->rport);

		if (pid == 0) {
			pt->st.socket_gone++;
			cb(arg, p->flow_id, NULL);
		} else {
			pt->st.found++;
			cb(arg, p->flow_id, info_of(pid));
		}
	}
	pt->npend = 0;
}

void proc_get_stats(const struct proc_table *pt, struct proc_stats *out)
{
	*out = pt->st;
	out->pending = pt->npend;
}

const char *proc_table_source(const struct proc_table *pt)
{
	(void)pt;
	return "GetExtendedTcpTable";
}

void proc_table_use_procnet(struct proc_table *pt)
{
	(void)pt;
}

/* Windows has no BPF: the owner tables are read every tick instead. */
int proc_table_enable_bpf(struct proc_table *pt, char *err, size_t errlen)
{
	(void)pt;
	snprintf(err, errlen, "BPF attribution is Linux-only (Windows reads the owner tables)");
	errno = ENOSYS;
	return -1;
}

/* Never: no BPF records. */
bool proc_table_bpf(const struct proc_table *pt)
{
	(void)pt;
	return false;
}

/* No kernel hooks to name. */
const char *proc_table_hooks(const struct proc_table *pt)
{
	(void)pt;
	return "";
}

/* Nothing to wait on: no kernel records. */
int proc_table_fd(const struct proc_table *pt)
{
	(void)pt;
	return -1;
}

/* Nothing to read. */
void proc_table_drain(struct proc_table *pt)
{
	(void)pt;
}
