/* SPDX-License-Identifier: BSD-2-Clause */
/* procbpf.h: socket owners recorded by the kernel (BPF tracepoints) as sockets are used, for proc.c. */
#ifndef NG_PROCBPF_H
#define NG_PROCBPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "util.h"

#define PROCBPF_PARENTS 4

/* One process as the kernel described it (the executable is walked in the kernel). */
struct procbpf_task {
	pid_t pid;
	char comm[16];
	char *exe;		/* NULL: none (kernel thread) or not resolvable */
	uint64_t dev, ino;	/* the executable's device (user-space encoding) and inode */
	int64_t mtime_sec;
	uint32_t mtime_nsec;
};

/* A process with its arguments and ancestors. Owned by procbpf; borrowed until the next drain. */
struct procbpf_proc {
	struct procbpf_task self;
	uid_t uid;
	uint64_t start;		/* start time in clock ticks since boot (/proc/PID/stat field 22) */
	char *cmdline;		/* arguments joined by spaces, NULL when none */
	unsigned nparents;
	struct procbpf_task parents[PROCBPF_PARENTS];
};

/* Who used a socket. */
struct procbpf_owner {
	pid_t pid;		/* the process (thread group) id */
	uid_t uid;
	uint64_t start;		/* clock ticks since boot, as proc_stats' pid cache keys processes */
	char comm[16];		/* the thread's name */
	const struct procbpf_proc *proc;	/* borrowed; NULL when the process record was lost */
};

struct procbpf;

/*
 * Load the kernel program and attach its tracepoints (mounting tracefs on
 * /sys/kernel/tracing when it is not mounted). Needs CAP_BPF + CAP_PERFMON
 * (or root) now, nothing afterwards. NULL with the reason in err.
 */
struct procbpf *procbpf_open(char *err, size_t errlen);
void procbpf_close(struct procbpf *pb);
/* The tracepoints attached, for the start-up log line ("sock:inet_sock_set_state, ..."). */
const char *procbpf_hooks(const struct procbpf *pb);
/* A descriptor that polls readable when records wait (an epoll descriptor over the ring buffer). */
int procbpf_fd(const struct procbpf *pb);
/* Read every waiting record into the tables (no system call when the ring is empty). */
void procbpf_drain(struct procbpf *pb);
/*
 * The owner of the socket with these ends: the exact 5-tuple, a UDP socket
 * bound to the local port without a remote end, or a TCP connect whose local
 * port the kernel had not chosen yet (when only one process connects to that
 * remote end). 1 with out filled, 0 when unknown.
 */
int procbpf_lookup(struct procbpf *pb, uint8_t proto, const ng_addr *local, uint16_t lport, const ng_addr *remote,
		   uint16_t rport, struct procbpf_owner *out);

struct procbpf_stats {
	uint64_t records;	/* ring-buffer records read */
	uint64_t sockets;	/* socket owners learnt */
	uint64_t processes;	/* process records learnt */
	uint64_t memory_bytes;	/* the tables now (bounded: see docs/process.md) */
};
void procbpf_get_stats(const struct procbpf *pb, struct procbpf_stats *out);

/* The kernel's dev_t (major << 20 | minor) in user space's encoding (as st_dev has it). */
uint64_t procbpf_dev(uint32_t kdev);

#endif
