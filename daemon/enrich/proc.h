/* SPDX-License-Identifier: BSD-2-Clause */
/* proc.h: which local process owns the socket of a flow (Linux: sock_diag + /proc; elsewhere: nothing). */
#ifndef NG_PROC_H
#define NG_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include "platform.h"

#include "addr.h"
#include "util.h"

#define PROC_PARENTS 4	/* ancestors kept: "what launched this?" */

/* One ancestor of a process. */
struct proc_parent {
	pid_t pid;
	char *name;		/* comm */
	char *exe;		/* NULL when unknown */
};

struct exehash_rec;

/*
 * A process, shared by every flow it owns; reference-counted, immutable once
 * returned (but for the executable's hash record, which exehash.c completes
 * off the packet path).
 */
struct proc_info {
	unsigned refs;		/* private: use proc_info_ref/unref */
	pid_t pid;
	uid_t uid;
	char *name;		/* comm, e.g. "curl" */
	char *exe;		/* the executable's path, NULL when unknown */
	char *user;		/* user name, or the uid as text */
	char *cmdline;		/* arguments joined by spaces, truncated; NULL when unreadable */
	unsigned nparents;
	struct proc_parent parents[PROC_PARENTS];	/* parent first */
	struct exehash_rec *hash;	/* the executable's SHA-256 (exehash.h), NULL when not hashed */
};

struct proc_table;

/* Returns NULL (and says why in err) when attribution is not possible on this system. */
struct proc_table *proc_table_create(char *err, size_t errlen);
void proc_table_destroy(struct proc_table *pt);

/*
 * A live flow has just started: identify its socket now, while it still
 * exists (one sock_diag request for the exact 5-tuple, no /proc scan here).
 * The answer arrives later through proc_table_poll.
 */
void proc_flow_start(struct proc_table *pt, uint64_t flow_id, uint8_t proto, const ng_addr *local_ip,
		     uint16_t local_port, const ng_addr *remote_ip, uint16_t remote_port);

/*
 * Called from the housekeeping tick: resolve pending flows (socket inode to
 * process, with a cached inode map and a rate-limited /proc rescan) and call
 * cb once per flow_start: info is a new reference for the callee, or NULL when
 * the socket was gone or had no process.
 */
typedef void (*proc_result_cb)(void *arg, uint64_t flow_id, struct proc_info *info);
void proc_table_poll(struct proc_table *pt, ng_time now, proc_result_cb cb, void *arg);

struct proc_info *proc_info_ref(struct proc_info *info);
void proc_info_unref(struct proc_info *info);

/*
 * Counters since create. Every flow_start ends in exactly one of found,
 * socket_gone, no_process or dropped, or is still pending:
 * requests == found + socket_gone + no_process + dropped + pending.
 * rate_limited counts refusals by a limiter (a /proc rescan or socket-table
 * refresh postponed, a sock_diag lookup over budget); scans counts full
 * /proc/PID/fd scans.
 */
struct proc_stats {
	uint64_t requests, found, socket_gone, no_process, rate_limited, scans;
	uint64_t dropped;	/* answered NULL unlooked-up: over the sock_diag budget or the pending cap */
	uint64_t pending;	/* waiting for an answer now */
	uint64_t bpf_found;	/* of found: answered from the kernel's records (BPF) */
	uint64_t memory_bytes;	/* attribution's tables now (pending queue, inode map, BPF tables) */
	/* Executables' hashes (exehash.h): versions hashed, failed (unreadable, replaced, too large), waiting. */
	uint64_t hash_hashed, hash_failed, hash_pending, hash_bytes;
	/* Flows answered before their hash was done: waiting now, answered again since, not waited for (list full). */
	uint64_t hash_waiting, hash_republished, hash_unwaited;
};
void proc_get_stats(const struct proc_table *pt, struct proc_stats *out);

/*
 * Use BPF: the kernel records socket owners as sockets are used (procbpf.c),
 * so short-lived sockets and processes are attributed; sock_diag + /proc stay
 * for sockets older than the daemon. 0, or -1 with the reason in err (the
 * table then works as before).
 */
int proc_table_enable_bpf(struct proc_table *pt, char *err, size_t errlen);
/* True when BPF records are used. */
bool proc_table_bpf(const struct proc_table *pt);
/* The kernel hooks BPF attribution uses, for the start-up log line ("" without BPF). */
const char *proc_table_hooks(const struct proc_table *pt);
/* A descriptor to poll beside the capture (readable when kernel records wait), or -1. */
int proc_table_fd(const struct proc_table *pt);
/* Read waiting kernel records (when proc_table_fd polls readable). */
void proc_table_drain(struct proc_table *pt);
/* Hash executables (SHA-256, off the packet path, cached): on unless turned off. */
void proc_table_set_hashing(struct proc_table *pt, bool on);

/* Where sockets are looked up: "BPF", "sock_diag" or "/proc/net" (for the start-up log line). */
const char *proc_table_source(const struct proc_table *pt);
/* Use /proc/net/{tcp,udp}{,6} instead of sock_diag from now on (tests; netlink filtered). */
void proc_table_use_procnet(struct proc_table *pt);

#endif
