/* SPDX-License-Identifier: BSD-2-Clause */
/* proc_linux.c: which local process owns the socket of a flow on Linux: BPF records, sock_diag and /proc. */

/*
 * DESIGN
 *
 * All OS-specific code lives in this file: the Linux implementation under
 * __linux__, and a fallback where proc_table_create says attribution is not
 * supported. Another platform adds its own branch here (for example
 * libproc/proc_pidfdinfo on macOS, kinfo_file via sysctl on the BSDs).
 *
 * Two halves with different budgets.
 *
 * proc_flow_start runs on the capture path when a live flow starts. A socket
 * can close milliseconds after its last packet, so it is identified at once:
 * one NETLINK_SOCK_DIAG request (SOCK_DIAG_BY_FAMILY, inet_diag_req_v2) for
 * the exact 5-tuple. The kernel answers inside sendmsg, so the reply is
 * already queued when send returns; the socket is non-blocking and a reply
 * is waited for at most PROC_NL_TIMEOUT_MS. The answer (inode, uid) goes
 * into a pending array; no /proc access, no allocation but the array's
 * doubling. Details that matter:
 *  - The kernel looks the socket up the way an incoming packet would, so it
 *    falls back to wildcard sockets by itself: a TCP listener, an unconnected
 *    UDP socket bound to the local port.
 *  - UDP takes (idiag_src, idiag_sport) as the packet's source, that is the
 *    REMOTE end ("swapped for historical reasons" in udp_diag.c), while TCP
 *    takes the socket's own view. Asked the TCP way, UDP silently answers
 *    with another socket, so every answer is checked: its local port must be
 *    ours and its remote port ours or 0; on a mismatch the other order is
 *    tried and remembered.
 *  - A TCP answer with inode 0 is a socket no process holds: a SYN_RECV
 *    request socket, a child not yet accept()ed, TIME_WAIT. The listener on
 *    the local port (same request, remote zeroed) then owns the flow: it is
 *    the server that accepts (or accepted) the connection.
 *  - An IPv4 flow on a dual-stack IPv6 socket is found by the IPv4 lookup;
 *    if not, the request is repeated as AF_INET6 with ::ffff:a.b.c.d.
 *  - UDP sockets the exact lookup misses (bound to a device, for example)
 *    are matched on local address and port against a dump of all UDP
 *    sockets, taken by proc_table_poll at most every PROC_TABLE_INTERVAL and
 *    only when a flow waits for it; flow_start reuses the latest dump until
 *    the next tick (positive matches only: newer sockets are not in it).
 *  - sock_diag requests have a budget, a token bucket refilled by the tick,
 *    so a flood of spoofed new flows cannot become a flood of syscalls;
 *    flows over budget are answered NULL and counted (dropped).
 *  - Without sock_diag (old kernel, netlink refused by seccomp or
 *    RestrictAddressFamilies), flows are deferred and matched by
 *    proc_table_poll against /proc/net/{tcp,tcp6,udp,udp6}, read at most
 *    every PROC_TABLE_INTERVAL and only when a flow waits. It is slower and
 *    misses sockets that close within a tick.
 *
 * proc_table_poll runs on the housekeeping tick and turns inodes into
 * processes. An inode map (inode -> pid and the pid's start time) is filled
 * by scans of /proc/PID/fd/ (readlink gives "socket:[INODE]"). A scan runs
 * only when some pending inode is not in the map, at most every
 * PROC_SCAN_INTERVAL (refusals count as rate_limited), and stops as soon as
 * every wanted inode is found: the pids that owned the last sockets found
 * are scanned first (a browser opens many), then all pids newest first (a
 * new program has a high pid, until pids wrap). Map entries are checked
 * against /proc/PID/stat field 22 (start time) before use, so a recycled pid
 * is never taken for the old process. An inode not found after a scan and
 * PROC_GIVE_UP is answered NULL: socket_gone when sock_diag no longer knows
 * the socket (it closed before the scan), no_process when it is still there
 * and no readable process holds it (another user's process without
 * CAP_SYS_PTRACE + CAP_DAC_READ_SEARCH, another PID namespace, a socket held
 * only by the kernel).
 *
 * Ownership: proc_info objects are shared and reference-counted. The pid
 * cache (PROC_INFO_MAX entries, least recently used evicted, keyed by pid +
 * start time + comm so an exec is noticed) holds one reference; every
 * callback receives a NEW reference (or NULL) that the callee must release
 * with proc_info_unref. The callbacks run after the pending array is
 * settled, so a callback may call proc_flow_start; it must not call
 * proc_table_poll or proc_table_destroy.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "exehash.h"
#include "log.h"
#include "proc.h"
#include "procbpf.h"

#define PROC_SCAN_INTERVAL	(250 * 1000)	/* us between two /proc/PID/fd scans */
#define PROC_TABLE_INTERVAL	(100 * 1000)	/* us between two socket-table reads */
#define PROC_GIVE_UP		(2 * NG_USEC)	/* unresolved after a scan and this long: NULL */
#define PROC_GIVE_UP_HARD	(10 * NG_USEC)	/* unresolved this long whatever happened: NULL */
#define PROC_NL_RATE		20000		/* sock_diag lookups per second, sustained */
#define PROC_NL_BURST		10000		/* ... and in one burst */
#define PROC_NL_TIMEOUT_MS	20		/* longest wait for one sock_diag reply */
#define PROC_NL_BUFLEN		65536		/* holds the largest dump chunk the kernel sends */
#define PROC_CMDLINE_READ	4096		/* bytes of /proc/PID/cmdline read */
#define PROC_CMDLINE_MAX	256		/* bytes kept, cut on a UTF-8 boundary */
#define PROC_INFO_MAX		1024		/* processes in the pid cache */
#define PROC_INFO_BUCKETS	2048
#define PROC_INODE_MIN		4096		/* first size of the inode map */
#define PROC_INODE_MAX		(1 << 18)	/* slots at most (6 MiB); then it is cleared */
#define PROC_SOCKS_MAX		(1 << 18)	/* rows read into one socket table (16 MiB) */
#define PROC_PEND_KEEP		4096		/* pending slots kept once a storm has drained */
#define PROC_RECENT		8		/* recent owner pids scanned first */
#define PROC_UIDS		32		/* user names cached */
#define PROC_WANT_TAKEN		UINT64_MAX	/* tombstone in the wanted-inode set */
#define PROC_PEND_MAX		65536		/* flows waiting at most; more are answered NULL at once */
#define PROC_BPF_GRACE		(1 * NG_USEC)	/* BPF: wait this long for the kernel's record, then sock_diag */
#define PROC_HASHWAIT_MAX	4096		/* answered flows whose executable's hash is still coming (64 KiB) */

/* What a pending flow waits for, or how it ended. */
enum proc_state {
	PS_INODE,	/* socket known: waiting for its process */
	PS_DEFER,	/* socket unknown: waiting for a socket table */
	PS_GONE,	/* no socket: answer NULL, socket_gone */
	PS_NOPROC,	/* socket without a readable process: answer NULL, no_process */
	PS_DROPPED,	/* over the lookup budget: answer NULL, dropped */
	PS_FOUND,	/* answer is `info` */
	PS_BPF,		/* waiting for the kernel's record of the socket (BPF) */
};

/* A flow's ends as the capture saw them. */
struct proc_tuple {
	ng_addr local, remote;
	uint16_t lport, rport;
	uint8_t proto;
};

/* One flow_start waiting for its answer. */
struct proc_pending {
	uint64_t flow_id;
	uint64_t inode;
	uint64_t tick;		/* polls done before the flow started */
	ng_time queued;		/* now of the first poll that saw it */
	struct proc_info *info;	/* PS_FOUND: a reference of its own */
	struct proc_tuple t;
	uint32_t uid;		/* the socket's, from sock_diag or /proc/net */
	uint8_t state;
	uint8_t scans;		/* full scans done since it was queued */
};

/* One row of a socket table (a sock_diag dump or /proc/net). */
struct proc_sock {
	ng_addr local, remote;
	uint64_t inode;
	uint32_t uid;
	uint16_t lport, rport;
	uint8_t proto, state;
};

/* A snapshot of the system's sockets, sorted by protocol and local port. */
struct proc_socks {
	struct proc_sock *v;
	size_t n, cap;
	uint64_t tick;		/* poll that read it; 0 = never */
	ng_time taken;
	unsigned protos;	/* PROC_BIT(proto) of what it holds */
};

/* Inode map slot: the socket inode and the process that held it at the last scan. */
struct proc_ino {
	uint64_t inode;		/* 0 = empty */
	uint64_t start;		/* /proc/PID/stat field 22 */
	pid_t pid;
};

/* Pid cache entry; `next` chains a hash bucket or the free list. */
struct proc_pident {
	struct proc_info *info;	/* one reference held */
	uint64_t start;
	uint64_t used;
	uint64_t checked;	/* tick it was last checked against /proc/PID */
	pid_t pid;
	int32_t next;
};

struct proc_uidname {
	char *name;
	uid_t uid;
};

struct proc_done {
	uint64_t flow_id;
	struct proc_info *info;
};

/* A flow answered before its executable was hashed: it is answered again (and so republished) when the hash is. */
struct proc_hashwait {
	uint64_t flow_id;
	struct proc_info *info;	/* a reference */
};

struct proc_table {
	int nl;				/* NETLINK_SOCK_DIAG, -1 when closed */
	bool diag[2];			/* sock_diag answers for [0] TCP, [1] UDP */
	bool udp_swap;			/* UDP wants idiag_src = remote (current kernels) */
	bool denied_logged;
	uint32_t seq;
	uint8_t *buf;			/* PROC_NL_BUFLEN: netlink replies */
	int procfd;			/* the /proc directory */
	double tokens;			/* sock_diag lookups allowed now */
	uint64_t tick;			/* polls done */
	ng_time last_now, last_scan;

	struct proc_pending *pend;
	size_t npend, cappend;
	struct proc_done *done;
	size_t capdone;
	struct proc_socks socks;

	struct proc_ino *imap;
	size_t imap_n, imap_cap;
	uint64_t *want;			/* open-addressing set of inodes a scan looks for */
	size_t want_cap, want_left;
	pid_t *pids;
	size_t cappids;
	pid_t recent[PROC_RECENT];
	unsigned recent_next;
	uint64_t denied;		/* /proc/PID/fd directories we could not open */

	struct proc_pident ents[PROC_INFO_MAX];
	int32_t buckets[PROC_INFO_BUCKETS];
	int32_t freelist;
	size_t nents;
	uint64_t clock;

	struct proc_uidname uids[PROC_UIDS];
	unsigned uid_next;

	struct procbpf *bpf;		/* kernel records, NULL without BPF */
	struct exehash *eh;		/* executables' hashes, NULL when off */
	bool hashing;
	struct proc_hashwait *hwait;	/* PROC_HASHWAIT_MAX: flows to answer again once their hash is done */
	size_t nhwait;

	struct proc_stats st;
};

#define PROC_BIT(proto) ((proto) == IPPROTO_TCP ? 1u : 2u)
#define PROC_DIAG_IDX(proto) ((proto) == IPPROTO_TCP ? 0 : 1)
#define PROC_TCP_LISTEN 10		/* TCP_LISTEN in include/net/tcp_states.h */

static int proc_diag_open(struct proc_table *, char *, size_t);
static void proc_diag_close(struct proc_table *);
static void proc_diag_reset(struct proc_table *);
static int proc_diag_send(struct proc_table *, void *, size_t);
static ssize_t proc_diag_recv(struct proc_table *);
static int proc_diag_one(struct proc_table *, int, uint8_t, const uint8_t *, uint16_t, const uint8_t *, uint16_t,
			 struct inet_diag_msg *);
static int proc_diag_match(struct proc_table *, int, uint8_t, const uint8_t *, uint16_t, const uint8_t *, uint16_t,
			   struct inet_diag_msg *);
static int proc_diag_lookup(struct proc_table *, const struct proc_tuple *, uint64_t *, uint32_t *);
static int proc_diag_dump(struct proc_table *, int, uint8_t, uint32_t, struct proc_socks *);
static ng_addr proc_diag_addr(int, const uint32_t *);
static void proc_socks_add(struct proc_socks *, const struct proc_sock *);
static int proc_socks_cmp(const void *, const void *);
static int proc_socks_refresh(struct proc_table *, unsigned, ng_time);
static uint64_t proc_socks_match(const struct proc_socks *, const struct proc_tuple *, uint32_t *);
static bool proc_socks_has_inode(const struct proc_socks *, uint64_t);
static int proc_net_read(struct proc_table *, const char *, uint8_t, struct proc_socks *);
static int proc_net_addr(const char *, ng_addr *, uint16_t *);
static bool proc_addr_any(const ng_addr *);
static struct proc_ino *proc_imap_get(struct proc_table *, uint64_t);
static void proc_imap_put(struct proc_table *, uint64_t, pid_t, uint64_t);
static void proc_want_reset(struct proc_table *, size_t);
static void proc_want_add(struct proc_table *, uint64_t);
static bool proc_want_take(struct proc_table *, uint64_t);
static void proc_scan(struct proc_table *);
static void proc_scan_pid(struct proc_table *, pid_t);
static void proc_denied(struct proc_table *, pid_t);
static int proc_pid_cmp(const void *, const void *);
static ssize_t proc_read_at(const struct proc_table *, const char *, char *, size_t);
static int proc_read_start(const struct proc_table *, pid_t, uint64_t *);
static struct proc_info *proc_info_get(struct proc_table *, pid_t, uint64_t, uint32_t);
static struct proc_info *proc_info_build(struct proc_table *, pid_t, const char *, uint32_t);
static const char *proc_user_name(struct proc_table *, uid_t);
static void proc_cache_insert(struct proc_table *, pid_t, uint64_t, struct proc_info *);
static void proc_cache_remove(struct proc_table *, int32_t);
static int32_t proc_cache_find(const struct proc_table *, pid_t);
static struct proc_info *proc_resolve(struct proc_table *, const struct proc_pending *);
static bool proc_socket_alive(struct proc_table *, const struct proc_pending *);
static void proc_lookup_socket(struct proc_table *, struct proc_pending *);
static struct proc_info *proc_info_from_bpf(struct proc_table *, const struct procbpf_owner *);
static void proc_parents_read(struct proc_table *, struct proc_info *, pid_t);
static void proc_hash_answers(struct proc_table *, proc_result_cb, void *);
static void proc_hash_attach(struct proc_table *, struct proc_info *, const char *, uint64_t, uint64_t, int64_t,
			     uint32_t);

/* Open the sock_diag socket and learn which protocols it answers for; 0, or -1 with the reason in why. */
static int proc_diag_open(struct proc_table *pt, char *why, size_t whylen)
{
	static const uint8_t protos[2] = {IPPROTO_TCP, IPPROTO_UDP};

	pt->diag[0] = pt->diag[1] = false;
	pt->nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_SOCK_DIAG);
	if (pt->nl == -1) {
		snprintf(why, whylen, "cannot open a NETLINK_SOCK_DIAG socket: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		/* A dump asking for no state lists nothing, but fails when the protocol has no handler. */
		if (proc_diag_dump(pt, AF_INET, protos[i], 0, NULL) == 0) {
			pt->diag[i] = true;
		} else {
			snprintf(why, whylen, "sock_diag does not answer for %s: %s (module %s_diag not loaded?)",
				 i == 0 ? "TCP" : "UDP", strerror(errno), i == 0 ? "tcp" : "udp");
			proc_diag_reset(pt);
			if (pt->nl == -1)
				return -1;
		}
	}
	if (!pt->diag[0] && !pt->diag[1]) {
		proc_diag_close(pt);
		return -1;
	}
	return 0;
}

/* Close the sock_diag socket; the table then reads /proc/net. */
static void proc_diag_close(struct proc_table *pt)
{
	if (pt->nl != -1)
		close(pt->nl);
	pt->nl = -1;
	pt->diag[0] = pt->diag[1] = false;
}

/* Replace the sock_diag socket after a failure (a half-read dump blocks the next request). */
static void proc_diag_reset(struct proc_table *pt)
{
	if (pt->nl == -1)
		return;
	close(pt->nl);
	pt->nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_SOCK_DIAG);
	if (pt->nl == -1) {
		log_warn("process attribution: cannot reopen the sock_diag socket, reading /proc/net instead");
		pt->diag[0] = pt->diag[1] = false;
	}
}

/* Send one request to the kernel; 0 or -1. */
static int proc_diag_send(struct proc_table *pt, void *msg, size_t len)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	for (;;) {
		if (sendto(pt->nl, msg, len, 0, (struct sockaddr *)&kernel, sizeof kernel) == (ssize_t)len)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* Receive one datagram into pt->buf, waiting at most PROC_NL_TIMEOUT_MS; its length or -1. */
static ssize_t proc_diag_recv(struct proc_table *pt)
{
	struct pollfd pfd = {.fd = pt->nl, .events = POLLIN};
	struct iovec iov = {.iov_base = pt->buf, .iov_len = PROC_NL_BUFLEN};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	bool waited = false;

	for (;;) {
		ssize_t n = recvmsg(pt->nl, &mh, MSG_DONTWAIT);
		int rc;

		if (n > 0) {
			if (mh.msg_flags & MSG_TRUNC) {
				errno = EMSGSIZE;
				return -1;
			}
			return n;
		}
		if (n == 0) {
			errno = EPROTO;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if ((errno != EAGAIN && errno != EWOULDBLOCK) || waited)
			return -1;
		rc = poll(&pfd, 1, PROC_NL_TIMEOUT_MS);
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (rc < 0 && errno != EINTR)
			return -1;
		waited = rc > 0;
	}
}

/*
 * Ask sock_diag for the one socket matching (src, sport, dst, dport) as given
 * (the caller orders them); 1 with the answer in out, 0 when the kernel knows
 * none, -1 when the netlink exchange itself failed.
 */
static int proc_diag_one(struct proc_table *pt, int family, uint8_t proto, const uint8_t *src, uint16_t sport,
			 const uint8_t *dst, uint16_t dport, struct inet_diag_msg *out)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	size_t alen = family == AF_INET ? 4 : 16;
	uint32_t seq;

	memset(&msg, 0, sizeof msg);
	seq = ++pt->seq;
	msg.nlh.nlmsg_len = sizeof msg;
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST;
	msg.nlh.nlmsg_seq = seq;
	msg.req.sdiag_family = (uint8_t)family;
	msg.req.sdiag_protocol = proto;
	msg.req.idiag_states = ~0u;
	msg.req.id.idiag_sport = htons(sport);
	msg.req.id.idiag_dport = htons(dport);
	memcpy(msg.req.id.idiag_src, src, alen);
	memcpy(msg.req.id.idiag_dst, dst, alen);
	msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (proc_diag_send(pt, &msg, sizeof msg) == -1)
		return -1;
	for (;;) {
		ssize_t n = proc_diag_recv(pt);
		size_t off = 0;

		if (n < 0)
			return -1;
		while (off + sizeof(struct nlmsghdr) <= (size_t)n) {
			struct nlmsghdr h;

			memcpy(&h, pt->buf + off, sizeof h);
			if (h.nlmsg_len < sizeof h || h.nlmsg_len > (size_t)n - off)
				break;
			if (h.nlmsg_seq == seq) {
				if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY && h.nlmsg_len >= NLMSG_LENGTH(sizeof *out)) {
					memcpy(out, pt->buf + off + NLMSG_HDRLEN, sizeof *out);
					return 1;
				}
				/* NLMSG_ERROR (-ENOENT: no such socket; others: nothing to say), NLMSG_DONE. */
				return 0;
			}
			off += NLMSG_ALIGN(h.nlmsg_len);	/* a late answer to an abandoned request */
		}
	}
}

/*
 * Ask sock_diag for the socket with local end (l, lport) and remote end
 * (r, rport), in the order the protocol wants, and check that the answer is
 * that socket or a wildcard one on the same local port; 1, 0 or -1 as
 * proc_diag_one.
 */
static int proc_diag_match(struct proc_table *pt, int family, uint8_t proto, const uint8_t *l, uint16_t lport,
			   const uint8_t *r, uint16_t rport, struct inet_diag_msg *out)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		bool swap = proto == IPPROTO_UDP && pt->udp_swap;
		int rc;

		if (swap)
			rc = proc_diag_one(pt, family, proto, r, rport, l, lport, out);
		else
			rc = proc_diag_one(pt, family, proto, l, lport, r, rport, out);
		if (rc != 1)
			return rc;
		if (ntohs(out->id.idiag_sport) == lport &&
		    (out->id.idiag_dport == 0 || ntohs(out->id.idiag_dport) == rport))
			return 1;
		if (proto != IPPROTO_UDP)
			return 0;
		pt->udp_swap = !pt->udp_swap;	/* this kernel orders UDP the other way */
	}
	return 0;
}

/*
 * The socket that owns a flow, by sock_diag: 1 with its inode and uid, 0 when
 * no process-held socket matches (gone, or TIME_WAIT with no listener), -1
 * when sock_diag failed.
 */
static int proc_diag_lookup(struct proc_table *pt, const struct proc_tuple *t, uint64_t *inode, uint32_t *uid)
{
	static const uint8_t zero[16];
	int family = t->local.v == 4 ? AF_INET : AF_INET6;
	uint8_t l[16], r[16];
	struct inet_diag_msg m;
	int rc;

	memcpy(l, t->local.a, 16);
	memcpy(r, t->remote.a, 16);
	rc = proc_diag_match(pt, family, t->proto, l, t->lport, r, t->rport, &m);
	if (rc == 0 && t->local.v == 4) {
		/* A dual-stack IPv6 socket sees this flow as ::ffff:a.b.c.d. */
		memset(l, 0, 10);
		memset(r, 0, 10);
		l[10] = l[11] = r[10] = r[11] = 0xff;
		memcpy(l + 12, t->local.a, 4);
		memcpy(r + 12, t->remote.a, 4);
		family = AF_INET6;
		rc = proc_diag_match(pt, family, t->proto, l, t->lport, r, t->rport, &m);
	}
	if (rc == 1 && m.idiag_inode == 0 && t->proto == IPPROTO_TCP && m.idiag_state != PROC_TCP_LISTEN)
		rc = proc_diag_match(pt, family, t->proto, l, t->lport, zero, 0, &m);
	if (rc != 1)
		return rc;
	if (m.idiag_inode == 0)
		return 0;
	*inode = m.idiag_inode;
	*uid = m.idiag_uid;
	return 1;
}

/*
 * Dump every socket of one family and protocol in the given states into tab
 * (or only check that the dump works when tab is NULL); 0, or -1 with errno.
 * After -1 the socket may hold the rest of the dump: call proc_diag_reset.
 */
static int proc_diag_dump(struct proc_table *pt, int family, uint8_t proto, uint32_t states, struct proc_socks *tab)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	uint32_t seq;

	memset(&msg, 0, sizeof msg);
	seq = ++pt->seq;
	msg.nlh.nlmsg_len = sizeof msg;
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.nlh.nlmsg_seq = seq;
	msg.req.sdiag_family = (uint8_t)family;
	msg.req.sdiag_protocol = proto;
	msg.req.idiag_states = states;
	if (proc_diag_send(pt, &msg, sizeof msg) == -1)
		return -1;
	for (;;) {
		ssize_t n = proc_diag_recv(pt);
		size_t off = 0;

		if (n < 0)
			return -1;
		while (off + sizeof(struct nlmsghdr) <= (size_t)n) {
			struct nlmsghdr h;

			memcpy(&h, pt->buf + off, sizeof h);
			if (h.nlmsg_len < sizeof h || h.nlmsg_len > (size_t)n - off) {
				errno = EPROTO;
				return -1;
			}
			if (h.nlmsg_seq != seq) {
				off += NLMSG_ALIGN(h.nlmsg_len);
				continue;
			}
			if (h.nlmsg_type == NLMSG_DONE) {
				int e = 0;

				if (h.nlmsg_len >= NLMSG_LENGTH(sizeof e))
					memcpy(&e, pt->buf + off + NLMSG_HDRLEN, sizeof e);
				if (e < 0) {
					errno = -e;
					return -1;
				}
				return 0;
			}
			if (h.nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr ne = {.error = -EPROTO};

				if (h.nlmsg_len >= NLMSG_LENGTH(sizeof ne.error))
					memcpy(&ne.error, pt->buf + off + NLMSG_HDRLEN, sizeof ne.error);
				errno = ne.error < 0 ? -ne.error : EPROTO;
				return -1;
			}
			if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY && h.nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)) &&
			    tab) {
				struct inet_diag_msg m;
				struct proc_sock s;

				memcpy(&m, pt->buf + off + NLMSG_HDRLEN, sizeof m);
				s.local = proc_diag_addr(m.idiag_family, m.id.idiag_src);
				s.remote = proc_diag_addr(m.idiag_family, m.id.idiag_dst);
				s.lport = ntohs(m.id.idiag_sport);
				s.rport = ntohs(m.id.idiag_dport);
				s.inode = m.idiag_inode;
				s.uid = m.idiag_uid;
				s.proto = proto;
				s.state = m.idiag_state;
				proc_socks_add(tab, &s);
			}
			off += NLMSG_ALIGN(h.nlmsg_len);
		}
	}
}

/* A sock_diag address as an ng_addr, with ::ffff:a.b.c.d turned into IPv4 so it compares with the capture's. */
static ng_addr proc_diag_addr(int family, const uint32_t *w)
{
	uint8_t b[16];

	memcpy(b, w, 16);
	if (family == AF_INET)
		return addr_from_v4(b);
	if (memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		return addr_from_v4(b + 12);
	return addr_from_v6(b);
}

/* Append one row to a socket table (rows past PROC_SOCKS_MAX are ignored). */
static void proc_socks_add(struct proc_socks *tab, const struct proc_sock *s)
{
	if (tab->n == tab->cap) {
		if (tab->cap >= PROC_SOCKS_MAX)
			return;
		tab->cap = tab->cap ? tab->cap * 2 : 256;
		tab->v = xrealloc(tab->v, tab->cap * sizeof *tab->v);
	}
	tab->v[tab->n++] = *s;
}

/* qsort order of a socket table: protocol, then local port. */
static int proc_socks_cmp(const void *a, const void *b)
{
	const struct proc_sock *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return (x->lport > y->lport) - (x->lport < y->lport);
}

/*
 * Read the socket table again for the protocols in `protos` (a sock_diag dump
 * where it works, /proc/net otherwise); 0, or -1 when nothing could be read.
 */
static int proc_socks_refresh(struct proc_table *pt, unsigned protos, ng_time now)
{
	static const uint8_t list[2] = {IPPROTO_TCP, IPPROTO_UDP};
	struct proc_socks *tab = &pt->socks;
	unsigned got = 0;

	tab->n = 0;
	for (int i = 0; i < 2; i++) {
		uint8_t proto = list[i];
		size_t mark = tab->n;

		if (!(protos & PROC_BIT(proto)))
			continue;
		if (pt->diag[i]) {
			if (proc_diag_dump(pt, AF_INET, proto, ~0u, tab) == 0 &&
			    proc_diag_dump(pt, AF_INET6, proto, ~0u, tab) == 0) {
				got |= PROC_BIT(proto);
				continue;
			}
			log_warn("process attribution: sock_diag dump of %s sockets failed", i == 0 ? "TCP" : "UDP");
			proc_diag_reset(pt);
			tab->n = mark;
		}
		if (proc_net_read(pt, i == 0 ? "net/tcp" : "net/udp", proto, tab) == 0 &&
		    proc_net_read(pt, i == 0 ? "net/tcp6" : "net/udp6", proto, tab) == 0)
			got |= PROC_BIT(proto);
	}
	if (tab->n > 1)
		qsort(tab->v, tab->n, sizeof *tab->v, proc_socks_cmp);
	tab->tick = pt->tick;
	tab->taken = now;
	tab->protos = got;
	return got ? 0 : -1;
}

/* True for 0.0.0.0 and ::. */
static bool proc_addr_any(const ng_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->a, zero, 16) == 0;
}

/*
 * The inode of the socket a flow belongs to in a table: the exact 5-tuple,
 * else a wildcard socket on the local port (TCP listener, unbound-remote UDP),
 * a specific local address before a wildcard one; 0 when none.
 */
static uint64_t proc_socks_match(const struct proc_socks *tab, const struct proc_tuple *t, uint32_t *uid)
{
	size_t lo = 0, hi = tab->n;
	const struct proc_sock *best = NULL;
	int best_score = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct proc_sock *s = &tab->v[mid];

		if (s->proto < t->proto || (s->proto == t->proto && s->lport < t->lport))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < tab->n && tab->v[i].proto == t->proto && tab->v[i].lport == t->lport; i++) {
		const struct proc_sock *s = &tab->v[i];
		bool local_eq = addr_equal(&s->local, &t->local);
		bool local_any = proc_addr_any(&s->local) && (s->local.v == t->local.v || s->local.v == 6);
		int score = 0;

		if (s->inode == 0 || (!local_eq && !local_any))
			continue;
		if (s->rport == t->rport && addr_equal(&s->remote, &t->remote))
			score = 4;
		else if (s->rport == 0 && proc_addr_any(&s->remote) &&
			 (t->proto == IPPROTO_UDP || s->state == PROC_TCP_LISTEN))
			score = local_eq ? 3 : 2;
		if (score > best_score) {
			best_score = score;
			best = s;
		}
	}
	if (!best)
		return 0;
	*uid = best->uid;
	return best->inode;
}

/* True when a socket table lists this inode. */
static bool proc_socks_has_inode(const struct proc_socks *tab, uint64_t inode)
{
	for (size_t i = 0; i < tab->n; i++)
		if (tab->v[i].inode == inode)
			return true;
	return false;
}

/*
 * Append the sockets in /proc/NAME (net/tcp, net/tcp6, net/udp, net/udp6:
 * "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...") to tab;
 * 0, or -1 when the file cannot be read.
 */
static int proc_net_read(struct proc_table *pt, const char *name, uint8_t proto, struct proc_socks *tab)
{
	int fd = openat(pt->procfd, name, O_RDONLY | O_CLOEXEC);
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (fd == -1)
		return -1;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -1;
	}
	if (getline(&line, &cap, f) < 0) {	/* the header */
		free(line);
		fclose(f);
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		char *tok[10], *save = NULL, *p = line, *end;
		struct proc_sock s;
		unsigned long v;
		int n = 0;

		while (n < 10 && (tok[n] = strtok_r(p, " \t\n", &save)) != NULL) {
			p = NULL;
			n++;
		}
		if (n < 10 || proc_net_addr(tok[1], &s.local, &s.lport) == -1 ||
		    proc_net_addr(tok[2], &s.remote, &s.rport) == -1)
			continue;
		errno = 0;
		v = strtoul(tok[3], &end, 16);
		if (*end || v > 0xff)
			continue;
		s.state = (uint8_t)v;
		v = strtoul(tok[7], &end, 10);
		if (*end || v > UINT32_MAX)
			continue;
		s.uid = (uint32_t)v;
		s.inode = strtoull(tok[9], &end, 10);
		if (*end || errno)
			continue;
		s.proto = proto;
		proc_socks_add(tab, &s);
	}
	free(line);
	fclose(f);
	return 0;
}

/*
 * Parse "0100007F:0277" (IPv4) or 32 hex digits and a port (IPv6): each
 * 32-bit word is printed in host byte order; 0 or -1.
 */
static int proc_net_addr(const char *s, ng_addr *a, uint16_t *port)
{
	const char *colon = strchr(s, ':');
	uint8_t b[16];
	size_t hexlen;
	char word[9], *end;
	unsigned long v;

	if (!colon)
		return -1;
	hexlen = (size_t)(colon - s);
	if (hexlen != 8 && hexlen != 32)
		return -1;
	for (size_t i = 0; i < hexlen / 8; i++) {
		uint32_t w;

		memcpy(word, s + i * 8, 8);
		word[8] = '\0';
		v = strtoul(word, &end, 16);
		if (*end)
			return -1;
		w = (uint32_t)v;
		memcpy(b + i * 4, &w, 4);
	}
	v = strtoul(colon + 1, &end, 16);
	if (*end || end == colon + 1 || v > 0xffff)
		return -1;
	*port = (uint16_t)v;
	if (hexlen == 8)
		*a = addr_from_v4(b);
	else if (memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		*a = addr_from_v4(b + 12);
	else
		*a = addr_from_v6(b);
	return 0;
}

/* The inode map slot for an inode, or NULL. */
static struct proc_ino *proc_imap_get(struct proc_table *pt, uint64_t inode)
{
	size_t mask = pt->imap_cap - 1;

	for (size_t i = ng_hash64(&inode, sizeof inode, 0) & mask;; i = (i + 1) & mask) {
		if (pt->imap[i].inode == inode)
			return &pt->imap[i];
		if (pt->imap[i].inode == 0)
			return NULL;
	}
}

/* Record that pid (started at start) holds the socket inode; the map doubles, or is cleared at its cap. */
static void proc_imap_put(struct proc_table *pt, uint64_t inode, pid_t pid, uint64_t start)
{
	struct proc_ino *e;
	size_t mask;

	if ((pt->imap_n + 1) * 2 > pt->imap_cap) {
		if (pt->imap_cap < PROC_INODE_MAX) {
			struct proc_ino *old = pt->imap;
			size_t oldcap = pt->imap_cap;

			pt->imap_cap *= 2;
			pt->imap = xcalloc(pt->imap_cap, sizeof *pt->imap);
			pt->imap_n = 0;
			for (size_t i = 0; i < oldcap; i++)
				if (old[i].inode)
					proc_imap_put(pt, old[i].inode, old[i].pid, old[i].start);
			free(old);
		} else {
			memset(pt->imap, 0, pt->imap_cap * sizeof *pt->imap);
			pt->imap_n = 0;
		}
	}
	mask = pt->imap_cap - 1;
	for (size_t i = ng_hash64(&inode, sizeof inode, 0) & mask;; i = (i + 1) & mask) {
		e = &pt->imap[i];
		if (e->inode == inode || e->inode == 0)
			break;
	}
	if (e->inode == 0)
		pt->imap_n++;
	e->inode = inode;
	e->pid = pid;
	e->start = start;
}

/* Empty the wanted-inode set, sized for n inodes. */
static void proc_want_reset(struct proc_table *pt, size_t n)
{
	size_t cap = 16;

	while (cap < n * 2)
		cap *= 2;
	if (cap > pt->want_cap) {
		free(pt->want);
		pt->want = xmalloc(cap * sizeof *pt->want);
		pt->want_cap = cap;
	}
	memset(pt->want, 0, pt->want_cap * sizeof *pt->want);
	pt->want_left = 0;
}

/* Add an inode to the wanted set (once). */
static void proc_want_add(struct proc_table *pt, uint64_t inode)
{
	size_t mask = pt->want_cap - 1;

	for (size_t i = ng_hash64(&inode, sizeof inode, 1) & mask;; i = (i + 1) & mask) {
		if (pt->want[i] == inode)
			return;
		if (pt->want[i] == 0) {
			pt->want[i] = inode;
			pt->want_left++;
			return;
		}
	}
}

/* True (once) when inode is wanted; it is then marked found. */
static bool proc_want_take(struct proc_table *pt, uint64_t inode)
{
	size_t mask = pt->want_cap - 1;

	if (pt->want_left == 0)
		return false;
	for (size_t i = ng_hash64(&inode, sizeof inode, 1) & mask;; i = (i + 1) & mask) {
		if (pt->want[i] == inode) {
			pt->want[i] = PROC_WANT_TAKEN;
			pt->want_left--;
			return true;
		}
		if (pt->want[i] == 0)
			return false;
	}
}

/* Descending pid order: newer processes first (until pids wrap). */
static int proc_pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x < y) - (x > y);
}

/*
 * Walk /proc/PID/fd of the recent owners, then of every process newest first,
 * recording socket inodes in the map, until every wanted inode is found.
 */
static void proc_scan(struct proc_table *pt)
{
	size_t npids = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	pt->st.scans++;
	for (unsigned i = 0; i < PROC_RECENT && pt->want_left > 0; i++)
		if (pt->recent[i] > 0)
			proc_scan_pid(pt, pt->recent[i]);
	if (pt->want_left == 0)
		return;
	fd = openat(pt->procfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		log_warn("process attribution: cannot list /proc");
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		long v;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		v = strtol(de->d_name, &end, 10);
		if (*end || v <= 0 || v > INT32_MAX)
			continue;
		if (npids == pt->cappids) {
			pt->cappids = pt->cappids ? pt->cappids * 2 : 1024;
			pt->pids = xrealloc(pt->pids, pt->cappids * sizeof *pt->pids);
		}
		pt->pids[npids++] = (pid_t)v;
	}
	closedir(d);
	if (npids > 1)
		qsort(pt->pids, npids, sizeof *pt->pids, proc_pid_cmp);
	for (size_t i = 0; i < npids && pt->want_left > 0; i++) {
		bool seen = false;

		for (unsigned j = 0; j < PROC_RECENT; j++)
			seen |= pt->recent[j] == pt->pids[i];
		if (!seen)
			proc_scan_pid(pt, pt->pids[i]);
	}
}

/* Count a process whose descriptors we may not read, and say once what would fix it. */
static void proc_denied(struct proc_table *pt, pid_t pid)
{
	pt->denied++;
	if (pt->denied_logged)
		return;
	pt->denied_logged = true;
	log_info("process attribution: the descriptors of process %d are not readable, so flows of other users' "
		 "processes stay without a process (run as root, or grant both CAP_SYS_PTRACE and "
		 "CAP_DAC_READ_SEARCH)", (int)pid);
}

/* Record every socket inode that process pid holds (readlink of /proc/PID/fd/N is "socket:[INODE]"). */
static void proc_scan_pid(struct proc_table *pt, pid_t pid)
{
	char path[32], link[64];
	uint64_t start = 0;
	bool have_start = false;
	struct dirent *de;
	DIR *d;
	int fd;

	snprintf(path, sizeof path, "%d/fd", (int)pid);
	fd = openat(pt->procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == EACCES || errno == EPERM)
			proc_denied(pt, pid);
		return;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		ssize_t n;
		uint64_t inode;
		char *end;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(fd, de->d_name, link, sizeof link - 1);
		if (n == -1 && (errno == EACCES || errno == EPERM)) {
			proc_denied(pt, pid);	/* not ptrace-readable: no fd of it will be */
			break;
		}
		if (n < 10 || memcmp(link, "socket:[", 8) != 0)
			continue;
		link[n] = '\0';
		errno = 0;
		inode = strtoull(link + 8, &end, 10);
		if (*end != ']' || inode == 0 || errno)
			continue;
		if (!have_start) {
			if (proc_read_start(pt, pid, &start) == -1)
				break;	/* it exited */
			have_start = true;
		}
		proc_imap_put(pt, inode, pid, start);
		if (proc_want_take(pt, inode)) {
			bool known = false;

			for (unsigned j = 0; j < PROC_RECENT; j++)
				known |= pt->recent[j] == pid;
			if (!known)
				pt->recent[pt->recent_next++ % PROC_RECENT] = pid;
		}
	}
	closedir(d);
}

/* Read the small file /proc/PATH into buf, NUL-terminated; its length, or -1. */
static ssize_t proc_read_at(const struct proc_table *pt, const char *path, char *buf, size_t size)
{
	int fd = openat(pt->procfd, path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd == -1)
		return -1;
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

/* The start time of pid (field 22 of /proc/PID/stat, clock ticks since boot); 0 or -1. */
static int proc_read_start(const struct proc_table *pt, pid_t pid, uint64_t *start)
{
	char path[32], buf[1024], *p, *end;
	int field = 3;

	snprintf(path, sizeof path, "%d/stat", (int)pid);
	if (proc_read_at(pt, path, buf, sizeof buf) < 0)
		return -1;
	p = strrchr(buf, ')');	/* comm may hold spaces and parentheses */
	if (!p)
		return -1;
	p++;
	while (field < 22) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
		field++;
	}
	errno = 0;
	*start = strtoull(p + 1, &end, 10);
	if (end == p + 1 || errno)
		return -1;
	return 0;
}

/* Find pid in the cache; its index or -1. */
static int32_t proc_cache_find(const struct proc_table *pt, pid_t pid)
{
	for (int32_t i = pt->buckets[(uint32_t)pid % PROC_INFO_BUCKETS]; i != -1; i = pt->ents[i].next)
		if (pt->ents[i].pid == pid)
			return i;
	return -1;
}

/* Drop cache entry idx (and the cache's reference). */
static void proc_cache_remove(struct proc_table *pt, int32_t idx)
{
	struct proc_pident *e = &pt->ents[idx];
	int32_t *link = &pt->buckets[(uint32_t)e->pid % PROC_INFO_BUCKETS];

	while (*link != idx)
		link = &pt->ents[*link].next;
	*link = e->next;
	proc_info_unref(e->info);
	e->info = NULL;
	e->next = pt->freelist;
	pt->freelist = idx;
	pt->nents--;
}

/* Keep info (the cache takes over the caller's reference), evicting the least recently used when full. */
static void proc_cache_insert(struct proc_table *pt, pid_t pid, uint64_t start, struct proc_info *info)
{
	struct proc_pident *e;
	uint32_t b = (uint32_t)pid % PROC_INFO_BUCKETS;
	int32_t idx;

	if (pt->freelist == -1) {
		int32_t lru = 0;

		for (int32_t i = 1; i < PROC_INFO_MAX; i++)
			if (pt->ents[i].used < pt->ents[lru].used)
				lru = i;
		proc_cache_remove(pt, lru);
	}
	idx = pt->freelist;
	e = &pt->ents[idx];
	pt->freelist = e->next;
	e->pid = pid;
	e->start = start;
	e->info = info;
	e->used = ++pt->clock;
	e->checked = pt->tick;
	e->next = pt->buckets[b];
	pt->buckets[b] = idx;
	pt->nents++;
}

/*
 * The description of process pid if it is still the one started at start;
 * NULL when it exited or the pid was reused. The pointer is borrowed: the
 * cache holds the reference (take your own with proc_info_ref).
 */
static struct proc_info *proc_info_get(struct proc_table *pt, pid_t pid, uint64_t start, uint32_t sock_uid)
{
	char path[32], comm[64];
	uint64_t now_start;
	struct proc_info *info;
	ssize_t n;
	int32_t idx;

	idx = proc_cache_find(pt, pid);
	if (idx != -1 && pt->ents[idx].checked == pt->tick && pt->ents[idx].start == start) {
		pt->ents[idx].used = ++pt->clock;	/* already checked in this tick: skip the reads */
		return pt->ents[idx].info;
	}
	if (proc_read_start(pt, pid, &now_start) == -1 || now_start != start)
		return NULL;
	snprintf(path, sizeof path, "%d/comm", (int)pid);
	n = proc_read_at(pt, path, comm, sizeof comm);
	if (n < 0)
		return NULL;
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
	if (idx != -1) {
		struct proc_pident *e = &pt->ents[idx];

		if (e->start == start && strcmp(e->info->name, comm) == 0) {
			e->used = ++pt->clock;
			e->checked = pt->tick;
			return e->info;
		}
		proc_cache_remove(pt, idx);	/* a new process on an old pid, or an exec */
	}
	info = proc_info_build(pt, pid, comm, sock_uid);
	proc_cache_insert(pt, pid, start, info);
	return info;
}

/* Build a proc_info from /proc/PID/{exe,cmdline,status} (one reference, for the caller). */
static struct proc_info *proc_info_build(struct proc_table *pt, pid_t pid, const char *comm, uint32_t sock_uid)
{
	struct proc_info *info = xcalloc(1, sizeof *info);
	char path[48], buf[PROC_CMDLINE_READ];
	ssize_t n;
	char *p;

	info->refs = 1;
	info->pid = pid;
	info->name = xstrdup(comm);
	snprintf(path, sizeof path, "%d/exe", (int)pid);
	n = readlinkat(pt->procfd, path, buf, sizeof buf - 1);
	if (n > 0) {
		buf[n] = '\0';
		info->exe = xstrdup(buf);
	}
	snprintf(path, sizeof path, "%d/cmdline", (int)pid);
	n = proc_read_at(pt, path, buf, sizeof buf);
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	if (n > 0) {
		size_t len = (size_t)n;

		for (size_t i = 0; i < len; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		if (len > PROC_CMDLINE_MAX) {
			len = PROC_CMDLINE_MAX;
			while (len > 0 && ((unsigned char)buf[len] & 0xc0) == 0x80)
				len--;	/* do not cut a UTF-8 sequence */
		}
		info->cmdline = xstrndup(buf, len);
	}
	info->uid = sock_uid;
	snprintf(path, sizeof path, "%d/status", (int)pid);
	if (proc_read_at(pt, path, buf, sizeof buf) > 0 && (p = strstr(buf, "\nUid:")) != NULL) {
		unsigned long euid;
		char *end;

		/* "Uid:\treal\teffective\tsaved\tfs": the effective uid, as ps shows it. */
		(void)strtoul(p + 5, &end, 10);
		euid = strtoul(end, &end, 10);
		if (euid <= UINT32_MAX)
			info->uid = (uid_t)euid;
	}
	info->user = xstrdup(proc_user_name(pt, info->uid));
	proc_parents_read(pt, info, pid);
	if (info->exe && pt->hashing) {
		struct stat st;

		snprintf(path, sizeof path, "%d/exe", (int)pid);
		if (fstatat(pt->procfd, path, &st, 0) == 0)
			proc_hash_attach(pt, info, info->exe, (uint64_t)st.st_dev, (uint64_t)st.st_ino,
					 (int64_t)st.st_mtim.tv_sec, (uint32_t)st.st_mtim.tv_nsec);
	}
	return info;
}

/* Fill info's ancestors from /proc (ppid in /proc/PID/stat field 4, then comm and exe of each). */
static void proc_parents_read(struct proc_table *pt, struct proc_info *info, pid_t pid)
{
	char path[48], buf[512], *p;
	ssize_t n;

	for (unsigned i = 0; i < PROC_PARENTS; i++) {
		long ppid;

		snprintf(path, sizeof path, "%d/stat", (int)pid);
		n = proc_read_at(pt, path, buf, sizeof buf);
		if (n <= 0 || (p = strrchr(buf, ')')) == NULL)
			return;
		/* ") S PPID ...": the name may hold spaces and parentheses, so parse after the last ')'. */
		if (sscanf(p + 1, " %*c %ld", &ppid) != 1 || ppid <= 0)
			return;
		pid = (pid_t)ppid;
		info->parents[i].pid = pid;
		snprintf(path, sizeof path, "%d/comm", (int)pid);
		n = proc_read_at(pt, path, buf, sizeof buf);
		if (n > 0 && buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		info->parents[i].name = xstrdup(n > 0 ? buf : "?");
		snprintf(path, sizeof path, "%d/exe", (int)pid);
		n = readlinkat(pt->procfd, path, buf, sizeof buf - 1);
		if (n > 0) {
			buf[n] = '\0';
			info->parents[i].exe = xstrdup(buf);
		}
		info->nparents = i + 1;
		if (pid == 1)
			return;
	}
}

/* Give info the hash record of its executable (hashed later, by the tick). */
static void proc_hash_attach(struct proc_table *pt, struct proc_info *info, const char *path, uint64_t dev,
			     uint64_t ino, int64_t mtime_sec, uint32_t mtime_nsec)
{
	if (!pt->eh || !path || strstr(path, " (deleted)"))
		return;
	info->hash = exehash_get(pt->eh, path, dev, ino, mtime_sec, mtime_nsec);
}

/*
 * The description of the process the kernel recorded for a socket: from its
 * BPF process record when there is one (the process may be gone already),
 * else from /proc. Borrowed from the pid cache, like proc_info_get.
 */
static struct proc_info *proc_info_from_bpf(struct proc_table *pt, const struct procbpf_owner *o)
{
	const struct procbpf_proc *r = o->proc;
	struct proc_info *info;
	int32_t idx;

	if (!r)
		return proc_info_get(pt, o->pid, o->start, o->uid);
	idx = proc_cache_find(pt, o->pid);
	if (idx != -1) {
		struct proc_pident *e = &pt->ents[idx];

		if (e->start == o->start && strcmp(e->info->name, r->self.comm) == 0 &&
		    (e->info->exe != NULL) == (r->self.exe != NULL) &&
		    (!r->self.exe || strcmp(e->info->exe, r->self.exe) == 0)) {
			e->used = ++pt->clock;
			e->checked = pt->tick;
			return e->info;
		}
		proc_cache_remove(pt, idx);
	}
	info = xcalloc(1, sizeof *info);
	info->refs = 1;
	info->pid = o->pid;
	info->uid = r->uid;
	info->name = xstrdup(r->self.comm);
	info->exe = r->self.exe ? xstrdup(r->self.exe) : NULL;
	info->cmdline = r->cmdline ? xstrndup(r->cmdline, PROC_CMDLINE_MAX) : NULL;
	info->user = xstrdup(proc_user_name(pt, info->uid));
	for (unsigned i = 0; i < r->nparents && i < PROC_PARENTS; i++) {
		info->parents[i].pid = r->parents[i].pid;
		info->parents[i].name = xstrdup(r->parents[i].comm);
		info->parents[i].exe = r->parents[i].exe ? xstrdup(r->parents[i].exe) : NULL;
		info->nparents = i + 1;
	}
	if (pt->hashing)
		proc_hash_attach(pt, info, info->exe, r->self.dev, r->self.ino, r->self.mtime_sec, r->self.mtime_nsec);
	proc_cache_insert(pt, o->pid, o->start, info);
	return info;
}

/* The user name for uid (or the uid as text), cached; the pointer is the table's. */
static const char *proc_user_name(struct proc_table *pt, uid_t uid)
{
	struct proc_uidname *slot;
	struct passwd pw, *res = NULL;
	char sbuf[1024], *heap = NULL, *buf = sbuf, num[16];
	size_t len = sizeof sbuf;
	int rc;

	for (unsigned i = 0; i < PROC_UIDS; i++)
		if (pt->uids[i].name && pt->uids[i].uid == uid)
			return pt->uids[i].name;
	while ((rc = getpwuid_r(uid, &pw, buf, len, &res)) == ERANGE && len < 65536) {
		len *= 2;
		heap = xrealloc(heap, len);
		buf = heap;
	}
	slot = &pt->uids[pt->uid_next++ % PROC_UIDS];
	free(slot->name);
	if (rc == 0 && res && res->pw_name && res->pw_name[0]) {
		slot->name = xstrdup(res->pw_name);
	} else {
		snprintf(num, sizeof num, "%u", (unsigned)uid);
		slot->name = xstrdup(num);
	}
	slot->uid = uid;
	free(heap);
	return slot->name;
}

/*
 * The process holding a pending flow's socket, from the inode map; NULL when
 * not known (yet). A new reference (a later insertion may evict it from the
 * cache before the callback runs).
 */
static struct proc_info *proc_resolve(struct proc_table *pt, const struct proc_pending *p)
{
	struct proc_ino *e = proc_imap_get(pt, p->inode);

	if (!e)
		return NULL;
	return proc_info_ref(proc_info_get(pt, e->pid, e->start, p->uid));
}

/* Whether a pending flow's socket still exists (asked at give-up time, to tell socket_gone from no_process). */
static bool proc_socket_alive(struct proc_table *pt, const struct proc_pending *p)
{
	uint64_t inode = 0;
	uint32_t uid;

	if (pt->diag[PROC_DIAG_IDX(p->t.proto)]) {
		int rc = proc_diag_lookup(pt, &p->t, &inode, &uid);

		if (rc == -1) {
			proc_diag_reset(pt);
			return true;	/* cannot tell: say so as no_process, the milder claim */
		}
		return rc == 1 && inode == p->inode;
	}
	return proc_socks_has_inode(&pt->socks, p->inode);
}

struct proc_table *proc_table_create(char *err, size_t errlen)
{
	struct proc_table *pt = xcalloc(1, sizeof *pt);
	char why[256] = "";

	pt->nl = -1;
	pt->procfd = -1;
	pt->udp_swap = true;
	pt->tokens = PROC_NL_BURST;
	pt->last_now = NG_TIME_NONE;
	pt->last_scan = NG_TIME_NONE;
	pt->freelist = -1;
	for (int32_t i = PROC_INFO_MAX - 1; i >= 0; i--) {
		pt->ents[i].next = pt->freelist;
		pt->freelist = i;
	}
	for (size_t i = 0; i < PROC_INFO_BUCKETS; i++)
		pt->buckets[i] = -1;
	pt->imap_cap = PROC_INODE_MIN;
	pt->imap = xcalloc(pt->imap_cap, sizeof *pt->imap);
	pt->buf = xmalloc(PROC_NL_BUFLEN);
	pt->hashing = true;
	pt->eh = exehash_create();

	pt->procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pt->procfd == -1) {
		snprintf(err, errlen, "cannot open /proc: %s (process attribution needs procfs; use --no-process)",
			 strerror(errno));
		goto fail;
	}
	if (faccessat(pt->procfd, "self/fd", R_OK | X_OK, 0) == -1) {
		snprintf(err, errlen, "cannot read /proc/self/fd: %s (is procfs mounted on /proc? use --no-process)",
			 strerror(errno));
		goto fail;
	}
	if (proc_diag_open(pt, why, sizeof why) == -1 || !pt->diag[0] || !pt->diag[1]) {
		if (!pt->diag[0] && faccessat(pt->procfd, "net/tcp", R_OK, 0) == -1) {
			snprintf(err, errlen, "cannot look up sockets: %s, and /proc/net/tcp: %s (use --no-process)", why,
				 strerror(errno));
			goto fail;
		}
		log_warnx("process attribution: %s; reading /proc/net instead for %s (slower, misses sockets "
			  "that close within a tick)", why, pt->diag[0] ? "UDP" : pt->diag[1] ? "TCP" : "TCP and UDP");
	}
	return pt;
fail:
	proc_table_destroy(pt);
	return NULL;
}

void proc_table_destroy(struct proc_table *pt)
{
	if (!pt)
		return;
	for (size_t i = 0; i < pt->npend; i++)
		if (pt->pend[i].state == PS_FOUND)
			proc_info_unref(pt->pend[i].info);
	for (int32_t i = 0; i < PROC_INFO_MAX; i++)
		proc_info_unref(pt->ents[i].info);
	for (unsigned i = 0; i < PROC_UIDS; i++)
		free(pt->uids[i].name);
	for (size_t i = 0; i < pt->nhwait; i++)
		proc_info_unref(pt->hwait[i].info);
	free(pt->hwait);
	proc_diag_close(pt);
	procbpf_close(pt->bpf);
	exehash_destroy(pt->eh);
	if (pt->procfd != -1)
		close(pt->procfd);
	free(pt->buf);
	free(pt->pend);
	free(pt->done);
	free(pt->socks.v);
	free(pt->imap);
	free(pt->want);
	free(pt->pids);
	free(pt);
}

/* Find a pending flow's socket the classic way: sock_diag now (budgeted), or a socket table at the tick. */
static void proc_lookup_socket(struct proc_table *pt, struct proc_pending *p)
{
	uint8_t proto = p->t.proto;
	int rc;

	p->state = PS_DEFER;
	if (pt->diag[PROC_DIAG_IDX(proto)]) {
		if (pt->tokens < 1) {
			pt->st.rate_limited++;
			p->state = PS_DROPPED;
			return;
		}
		pt->tokens -= 1;
		rc = proc_diag_lookup(pt, &p->t, &p->inode, &p->uid);
		if (rc == 1) {
			p->state = PS_INODE;
			return;
		}
		if (rc == -1) {
			proc_diag_reset(pt);	/* stays deferred: the next tick reads the socket table */
			return;
		}
		if (proto == IPPROTO_TCP) {
			p->state = PS_GONE;	/* the kernel's lookup already tried the listener */
			return;
		}
	}
	/* The socket table read at the last tick, if any, knows sockets that were there then. */
	if (pt->socks.tick == pt->tick && pt->socks.tick != 0 && (pt->socks.protos & PROC_BIT(proto)) &&
	    (p->inode = proc_socks_match(&pt->socks, &p->t, &p->uid)) != 0)
		p->state = PS_INODE;
}

/* Answer a pending flow from the kernel's records (BPF); true when they knew its socket. */
static bool proc_bpf_answer(struct proc_table *pt, struct proc_pending *p)
{
	struct procbpf_owner o;
	struct proc_info *info;

	if (procbpf_lookup(pt->bpf, p->t.proto, &p->t.local, p->t.lport, &p->t.remote, p->t.rport, &o) != 1)
		return false;
	info = proc_info_from_bpf(pt, &o);
	if (!info)
		return false;
	p->info = proc_info_ref(info);
	p->state = PS_FOUND;
	pt->st.bpf_found++;
	return true;
}

void proc_flow_start(struct proc_table *pt, uint64_t flow_id, uint8_t proto, const ng_addr *local_ip,
		     uint16_t local_port, const ng_addr *remote_ip, uint16_t remote_port)
{
	struct proc_pending *p;

	if (!pt)
		return;
	pt->st.requests++;
	if (pt->npend >= PROC_PEND_MAX) {
		pt->st.dropped++;	/* a flood: answered NULL now, without a callback */
		pt->st.rate_limited++;
		return;
	}
	if (pt->npend == pt->cappend) {
		pt->cappend = pt->cappend ? pt->cappend * 2 : 256;
		pt->pend = xrealloc(pt->pend, pt->cappend * sizeof *pt->pend);
	}
	p = &pt->pend[pt->npend++];
	memset(p, 0, sizeof *p);
	p->flow_id = flow_id;
	p->tick = pt->tick;
	p->queued = NG_TIME_NONE;
	p->t.proto = proto;
	p->t.local = *local_ip;
	p->t.remote = *remote_ip;
	p->t.lport = local_port;
	p->t.rport = remote_port;
	if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) || local_ip->v == 0 || local_ip->v != remote_ip->v) {
		p->state = PS_NOPROC;	/* no socket to look for */
		return;
	}
	if (pt->bpf) {
		/* The kernel recorded the owner when the socket was used: read what is waiting, then ask. */
		procbpf_drain(pt->bpf);
		if (!proc_bpf_answer(pt, p))
			p->state = PS_BPF;
		return;
	}
	proc_lookup_socket(pt, p);
}

/* Answer again the flows whose executable's hash has come (the engine republishes them); forget failed ones. */
static void proc_hash_answers(struct proc_table *pt, proc_result_cb cb, void *arg)
{
	size_t w = 0;

	for (size_t i = 0; i < pt->nhwait; i++) {
		struct proc_hashwait *h = &pt->hwait[i];
		int state = h->info->hash->state;

		if (state == EXEHASH_PENDING) {
			pt->hwait[w++] = *h;
			continue;
		}
		if (state == EXEHASH_DONE && cb) {
			pt->st.hash_republished++;
			cb(arg, h->flow_id, h->info);	/* the list's reference moves to the callee */
		} else {
			proc_info_unref(h->info);
		}
	}
	pt->nhwait = w;
}

void proc_table_poll(struct proc_table *pt, ng_time now, proc_result_cb cb, void *arg)
{
	unsigned need = 0, giveup_protos = 0;
	size_t unresolved = 0, ndone = 0, w = 0;
	bool scanned = false;

	if (!pt)
		return;
	if (pt->last_now != NG_TIME_NONE && now > pt->last_now)
		pt->tokens += (double)(now - pt->last_now) * PROC_NL_RATE / NG_USEC;
	if (pt->tokens > PROC_NL_BURST)
		pt->tokens = PROC_NL_BURST;
	pt->last_now = now;
	pt->tick++;
	if (pt->bpf)
		procbpf_drain(pt->bpf);
	if (pt->npend == 0) {
		exehash_run(pt->eh);	/* executables' hashes, within their own budget */
		proc_hash_answers(pt, cb, arg);
		return;
	}

	/* BPF: records that arrived since; past the grace, sockets older than the daemon go the classic way. */
	for (size_t i = 0; i < pt->npend; i++) {
		struct proc_pending *p = &pt->pend[i];

		if (p->state != PS_BPF)
			continue;
		if (p->queued == NG_TIME_NONE)
			p->queued = now;
		if (!proc_bpf_answer(pt, p) && now - p->queued >= PROC_BPF_GRACE) {
			proc_lookup_socket(pt, p);
			p->queued = now;	/* the classic path's clocks start now */
		}
	}

	/* Deferred flows: match them against a fresh socket table (one read per PROC_TABLE_INTERVAL). */
	for (size_t i = 0; i < pt->npend; i++) {
		struct proc_pending *p = &pt->pend[i];

		if (p->queued == NG_TIME_NONE)
			p->queued = now;
		if (p->state == PS_DEFER && !(p->tick < pt->socks.tick && (pt->socks.protos & PROC_BIT(p->t.proto))))
			need |= PROC_BIT(p->t.proto);
	}
	if (need) {
		if (pt->socks.tick == 0 || now - pt->socks.taken >= PROC_TABLE_INTERVAL || now < pt->socks.taken)
			proc_socks_refresh(pt, need, now);
		else
			pt->st.rate_limited++;
	}
	for (size_t i = 0; i < pt->npend; i++) {
		struct proc_pending *p = &pt->pend[i];

		if (p->state != PS_DEFER)
			continue;
		if (p->tick < pt->socks.tick && (pt->socks.protos & PROC_BIT(p->t.proto))) {
			p->inode = proc_socks_match(&pt->socks, &p->t, &p->uid);
			p->state = p->inode ? PS_INODE : PS_GONE;
		} else if (now - p->queued >= PROC_GIVE_UP_HARD) {
			p->state = PS_GONE;
		}
	}

	/* Sockets to processes: the inode map first, one rate-limited scan for what it lacks. */
	for (size_t i = 0; i < pt->npend; i++) {
		struct proc_pending *p = &pt->pend[i];

		if (p->state != PS_INODE)
			continue;
		if ((p->info = proc_resolve(pt, p)) != NULL)
			p->state = PS_FOUND;
		else
			unresolved++;
	}
	if (unresolved) {
		if (pt->last_scan == NG_TIME_NONE || now - pt->last_scan >= PROC_SCAN_INTERVAL || now < pt->last_scan) {
			proc_want_reset(pt, unresolved);
			for (size_t i = 0; i < pt->npend; i++)
				if (pt->pend[i].state == PS_INODE)
					proc_want_add(pt, pt->pend[i].inode);
			proc_scan(pt);
			pt->last_scan = now;
			scanned = true;
		} else {
			pt->st.rate_limited++;
		}
	}
	for (size_t i = 0; i < pt->npend && scanned; i++) {
		struct proc_pending *p = &pt->pend[i];

		if (p->state != PS_INODE)
			continue;
		if ((p->info = proc_resolve(pt, p)) != NULL)
			p->state = PS_FOUND;
		else if (p->scans < UINT8_MAX)
			p->scans++;
	}

	/* Give up on sockets no scan could place; without sock_diag, ask a fresh socket table whether they live. */
	for (size_t i = 0; i < pt->npend; i++) {
		struct proc_pending *p = &pt->pend[i];
		ng_time age = now - p->queued;

		if (p->state == PS_INODE && ((age >= PROC_GIVE_UP && p->scans > 0) || age >= PROC_GIVE_UP_HARD) &&
		    !pt->diag[PROC_DIAG_IDX(p->t.proto)])
			giveup_protos |= PROC_BIT(p->t.proto);
	}
	if (giveup_protos && pt->socks.tick != pt->tick) {
		if (now - pt->socks.taken >= PROC_TABLE_INTERVAL || now < pt->socks.taken)
			proc_socks_refresh(pt, giveup_protos, now);
		else
			pt->st.rate_limited++;
	}
	for (size_t i = 0; i < pt->npend; i++) {
		struct proc_pending *p = &pt->pend[i];
		ng_time age = now - p->queued;

		if (p->state != PS_INODE || !((age >= PROC_GIVE_UP && p->scans > 0) || age >= PROC_GIVE_UP_HARD))
			continue;
		if (!pt->diag[PROC_DIAG_IDX(p->t.proto)] &&
		    !(pt->socks.tick == pt->tick && (pt->socks.protos & PROC_BIT(p->t.proto))))
			continue;	/* no fresh table to ask yet */
		p->state = proc_socket_alive(pt, p) ? PS_NOPROC : PS_GONE;
	}

	/* Settle the array first, then call back, so a callback may start new flows. */
	if (pt->capdone < pt->npend) {
		pt->capdone = pt->npend;
		pt->done = xrealloc(pt->done, pt->capdone * sizeof *pt->done);
	}
	for (size_t i = 0; i < pt->npend; i++) {
		struct proc_pending *p = &pt->pend[i];

		switch (p->state) {
		case PS_FOUND:
			pt->st.found++;
			pt->done[ndone].info = p->info;	/* the entry's reference moves to the callee */
			break;
		case PS_GONE:
			pt->st.socket_gone++;
			pt->done[ndone].info = NULL;
			break;
		case PS_NOPROC:
			pt->st.no_process++;
			pt->done[ndone].info = NULL;
			break;
		case PS_DROPPED:
			pt->st.dropped++;
			pt->done[ndone].info = NULL;
			break;
		default:
			if (w != i)
				pt->pend[w] = *p;
			w++;
			continue;
		}
		pt->done[ndone++].flow_id = p->flow_id;
	}
	pt->npend = w;
	/* Hash the executables of these answers now (within the budget), so most carry their sha256 at once. */
	exehash_run(pt->eh);
	proc_hash_answers(pt, cb, arg);
	for (size_t i = 0; i < ndone; i++) {
		struct proc_info *info = pt->done[i].info;

		if (info && info->hash && info->hash->state == EXEHASH_PENDING && cb) {
			if (pt->nhwait == PROC_HASHWAIT_MAX) {
				pt->st.hash_unwaited++;	/* published without its hash; GET /flows shows it later */
				continue;
			}
			if (!pt->hwait)
				pt->hwait = xcalloc(PROC_HASHWAIT_MAX, sizeof *pt->hwait);
			pt->hwait[pt->nhwait].flow_id = pt->done[i].flow_id;
			pt->hwait[pt->nhwait++].info = proc_info_ref(info);
		}
	}
	if (pt->npend == 0 && pt->cappend > PROC_PEND_KEEP) {
		free(pt->pend);	/* give a flood's memory back */
		pt->pend = NULL;
		pt->cappend = 0;
	}
	for (size_t i = 0; i < ndone; i++) {
		if (cb)
			cb(arg, pt->done[i].flow_id, pt->done[i].info);
		else
			proc_info_unref(pt->done[i].info);
	}
	if (pt->capdone > PROC_PEND_KEEP) {
		free(pt->done);
		pt->done = NULL;
		pt->capdone = 0;
	}
}

void proc_get_stats(const struct proc_table *pt, struct proc_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!pt)
		return;
	*out = pt->st;
	out->pending = pt->npend;
	out->hash_waiting = pt->nhwait;
	out->memory_bytes = (pt->hwait ? PROC_HASHWAIT_MAX * sizeof *pt->hwait : 0) + pt->cappend * sizeof *pt->pend + pt->capdone * sizeof *pt->done +
			    pt->imap_cap * sizeof *pt->imap + pt->socks.cap * sizeof *pt->socks.v + sizeof *pt;
	if (pt->bpf) {
		struct procbpf_stats bs;

		procbpf_get_stats(pt->bpf, &bs);
		out->memory_bytes += bs.memory_bytes;
	}
	if (pt->eh) {
		struct exehash_stats es;

		exehash_get_stats(pt->eh, &es);
		out->memory_bytes += es.memory_bytes;
		out->hash_hashed = es.hashed;
		out->hash_failed = es.failed;
		out->hash_pending = es.pending;
		out->hash_bytes = es.bytes;
	}
}

int proc_table_enable_bpf(struct proc_table *pt, char *err, size_t errlen)
{
	if (!pt) {
		snprintf(err, errlen, "no process table");
		return -1;
	}
	if (pt->bpf)
		return 0;
	pt->bpf = procbpf_open(err, errlen);
	return pt->bpf ? 0 : -1;
}

bool proc_table_bpf(const struct proc_table *pt)
{
	return pt && pt->bpf;
}

const char *proc_table_hooks(const struct proc_table *pt)
{
	return pt && pt->bpf ? procbpf_hooks(pt->bpf) : "";
}

int proc_table_fd(const struct proc_table *pt)
{
	return pt ? procbpf_fd(pt->bpf) : -1;
}

void proc_table_drain(struct proc_table *pt)
{
	if (pt)
		procbpf_drain(pt->bpf);
}

void proc_table_set_hashing(struct proc_table *pt, bool on)
{
	if (!pt)
		return;
	pt->hashing = on;
	if (!on) {
		exehash_destroy(pt->eh);
		pt->eh = NULL;
	}
}

const char *proc_table_source(const struct proc_table *pt)
{
	if (!pt)
		return "none";
	if (pt->bpf)
		return "BPF";
	if (pt->diag[0] && pt->diag[1])
		return "sock_diag";
	if (pt->diag[0] || pt->diag[1])
		return "sock_diag and /proc/net";
	return "/proc/net";
}

void proc_table_use_procnet(struct proc_table *pt)
{
	if (pt)
		proc_diag_close(pt);
}
