/* SPDX-License-Identifier: BSD-2-Clause */
/* procattr.h: the records the kernel program (procattr.bpf.c) passes to procbpf.c through its ring buffer. */
#ifndef NG_PROCATTR_H
#define NG_PROCATTR_H

/* Sizes: kept small and fixed, the verifier checks every write against them. */
#define PA_COMM		16	/* TASK_COMM_LEN */
#define PA_PATH		512	/* an executable's path: components leaf first, each ending in NUL */
#define PA_NAME_MAX	256	/* longest component read at once (PA_PATH / 2) */
#define PA_DEPTH	32	/* components walked at most */
#define PA_PARENTS	4	/* ancestors recorded */
#define PA_CMDLINE	256	/* bytes of the arguments read */

/* Record types. */
enum pa_type {
	PA_CONN = 1,	/* a socket with its full 5-tuple and the task that used it */
	PA_SYN = 2,	/* a TCP connect: task and socket known, local port not chosen yet */
	PA_TUPLE = 3,	/* the 5-tuple of a socket that left SYN_SENT (no task: softirq) */
	PA_PROC = 4,	/* a process: executable and parents (sent once per process and minute) */
	PA_EXEC = 5,	/* the same, at exec */
};

/* How the socket was used (PA_CONN, PA_SYN). */
enum pa_how {
	PA_HOW_CONNECT = 1,
	PA_HOW_ACCEPT = 2,
	PA_HOW_SEND = 3,
};

/* A socket event (PA_CONN, PA_SYN, PA_TUPLE). Addresses are 16 bytes; IPv4 in the first 4. */
struct pa_conn {
	__u8 type, how, family, proto;
	__u32 pid, tgid, uid;
	__u64 sk;		/* the socket's kernel address: joins PA_SYN to PA_TUPLE */
	__u64 start;		/* the process's start_boottime (ns): pid + start names a process */
	__u16 lport, rport;	/* host order */
	__u8 laddr[16], raddr[16];
	char comm[PA_COMM];
};

/* One task in a PA_PROC record. */
struct pa_task {
	__u32 tgid;
	__u32 nparts;		/* path components in path, leaf first; 0: no executable (kernel thread) */
	__u64 ino;
	__u64 mtime_sec;
	__u32 mtime_nsec;
	__u32 dev;		/* the kernel's dev_t: major << 20 | minor */
	__u32 len;		/* bytes used in path */
	__u32 truncated;	/* the walk stopped before the root */
	char comm[PA_COMM];
	char path[PA_PATH];
};

/* A process and its ancestors (PA_PROC, PA_EXEC). */
struct pa_proc {
	__u8 type, nparents, pad[2];
	__u32 uid;
	__u64 start;		/* start_boottime (ns), as /proc/PID/stat field 22 counts it */
	__u32 cmdline_len;
	__u32 pad2;
	char cmdline[PA_CMDLINE];
	struct pa_task self;
	struct pa_task parents[PA_PARENTS];
};

#endif
