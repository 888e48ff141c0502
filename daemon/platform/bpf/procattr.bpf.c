/* SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only */
/* procattr.bpf.c: the kernel half of BPF process attribution: who connected, accepted or sent, as it happens. */

/*
 * DESIGN
 *
 * Compiled once by clang (-target bpf, CO-RE against the build machine's
 * vmlinux.h) and embedded in the daemon by `bpftool gen skeleton`; libbpf
 * relocates field offsets for the running kernel at load time. Only
 * tracepoints are used: they are stable, need no kprobe support and work on
 * kernels where fentry does not.
 *
 *  - TCP connect: sock:inet_sock_set_state to SYN_SENT runs in the
 *    connecting task, but before the kernel chose the local port
 *    (tcp_v4_connect sets the state, then calls inet_hash_connect). So a
 *    PA_SYN record carries the task, the socket's address and the remote
 *    end; the next change away from SYN_SENT (softirq, no task) sends a
 *    PA_TUPLE with the full 5-tuple, and user space joins them by socket.
 *  - TCP accept: syscalls:sys_exit_accept/accept4 (the new descriptor is the
 *    return value); the socket is found through the task's file table.
 *  - UDP (and connected UDP) sends: syscalls:sys_enter_* remember the
 *    descriptor, sys_exit_sendto/sendmsg/sendmmsg read the socket after the
 *    kernel bound its port. A small LRU map remembers what was reported per
 *    socket, so a socket sending a million datagrams is reported once (again
 *    when its remote end or owner changes).
 *  - Processes: a PA_PROC record (executable path, device, inode, mtime and
 *    four ancestors) is sent the first time a process is seen and again
 *    after PA_PROC_EVERY, and PA_EXEC at every exec (sched:sched_process_exec),
 *    so user space knows a program even when it exited before /proc could
 *    be read. Paths are walked from the dentry up, crossing mounts, in the
 *    kernel: no /proc access and no CAP_SYS_PTRACE.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "procattr.h"

#define AF_INET		2
#define AF_INET6	10
#define IPPROTO_TCP	6
#define IPPROTO_UDP	17
#define TCP_SYN_SENT	2
#define S_IFMT		00170000
#define S_IFSOCK	0140000
#define PA_PROC_EVERY	(60ULL * 1000000000ULL)	/* resend a process's record after this long (ns) */

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Records to user space; the size is set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 21);
} events SEC(".maps");

/* Process (tgid) -> when its PA_PROC was last sent and its start time. */
struct proc_seen {
	__u64 sent;
	__u64 start;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct proc_seen);
} procs SEC(".maps");

/* Socket -> what was last reported for it (UDP sends). */
struct sock_seen {
	__u32 tgid;
	__u16 lport, rport;
	__u32 raddr;		/* a fold of the remote address */
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sock_seen);
} socks SEC(".maps");

/* Thread -> the descriptor its send call is using (between sys_enter and sys_exit). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u32);
} sending SEC(".maps");

/* Inode fields of kernels before 6.6 (struct timespec64 i_mtime) and 6.6-6.10 (__i_mtime). */
struct inode___ts {
	struct timespec64 i_mtime;
} __attribute__((preserve_access_index));
struct inode___ts2 {
	struct timespec64 __i_mtime;
} __attribute__((preserve_access_index));
struct inode___sec {
	time64_t i_mtime_sec;
	u32 i_mtime_nsec;
} __attribute__((preserve_access_index));

/* The modification time of an inode, whatever this kernel calls it. */
static __always_inline void pa_mtime(struct inode *ino, struct pa_task *o)
{
	if (bpf_core_field_exists(struct inode___sec, i_mtime_sec)) {
		struct inode___sec *i = (void *)ino;

		o->mtime_sec = BPF_CORE_READ(i, i_mtime_sec);
		o->mtime_nsec = BPF_CORE_READ(i, i_mtime_nsec);
	} else if (bpf_core_field_exists(struct inode___ts2, __i_mtime)) {
		struct inode___ts2 *i = (void *)ino;

		o->mtime_sec = BPF_CORE_READ(i, __i_mtime.tv_sec);
		o->mtime_nsec = BPF_CORE_READ(i, __i_mtime.tv_nsec);
	} else {
		struct inode___ts *i = (void *)ino;

		o->mtime_sec = BPF_CORE_READ(i, i_mtime.tv_sec);
		o->mtime_nsec = BPF_CORE_READ(i, i_mtime.tv_nsec);
	}
}

/* The state of one executable-path walk (per CPU: a program runs on one CPU to the end). */
struct walk {
	__u64 d, vm, mnt;	/* dentry, vfsmount and mount being walked */
	__u32 off, nparts, root, pad;
	char path[PA_PATH];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk);
} walkbuf SEC(".maps");

/*
 * One step of a path walk (a bpf_loop callback, checked once by the verifier
 * whatever the number of steps): copy the dentry's name, or cross to the
 * mount point when at a mount's root; 1 stops the walk.
 */
static long pa_walk_step(__u32 index, void *ctx)
{
	__u32 zero = 0;
	struct walk *w = bpf_map_lookup_elem(&walkbuf, &zero);
	struct dentry *d, *parent, *mroot;
	struct vfsmount *vm;
	struct mount *mnt;
	const unsigned char *name;
	long n;

	(void)index, (void)ctx;
	if (!w)
		return 1;
	d = (struct dentry *)w->d;
	vm = (struct vfsmount *)w->vm;
	mnt = (struct mount *)w->mnt;
	parent = BPF_CORE_READ(d, d_parent);
	mroot = BPF_CORE_READ(vm, mnt_root);
	if (d == mroot || d == parent) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt || !up) {
			w->root = 1;
			return 1;
		}
		w->d = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = (__u64)up;
		w->vm = (__u64)&up->mnt;
		return 0;
	}
	if (w->off >= PA_PATH - PA_NAME_MAX)
		return 1;
	name = BPF_CORE_READ(d, d_name.name);
	n = bpf_probe_read_kernel_str(&w->path[w->off & (PA_NAME_MAX - 1)], PA_NAME_MAX, name);
	if (n <= 0)
		return 1;
	w->off += (__u32)n;
	w->nparts++;
	w->d = (__u64)parent;
	return 0;
}

/*
 * Fill o with a task's process id, name and executable (path walked up to
 * the root, crossing mounts). A global function, so the verifier checks it
 * once rather than at every call.
 */
__noinline int pa_task_fill(__u64 task, struct pa_task *o)
{
	struct task_struct *t = (struct task_struct *)task;
	__u32 zero = 0;
	struct walk *w;
	struct file *f;
	struct inode *ino;
	struct vfsmount *vm;

	if (!o)
		return 0;
	/* Ring buffer memory is not zeroed: every field is set here (path only up to len). */
	o->nparts = 0;
	o->ino = 0;
	o->mtime_sec = 0;
	o->mtime_nsec = 0;
	o->dev = 0;
	o->len = 0;
	o->truncated = 0;
	o->tgid = BPF_CORE_READ(t, tgid);
	bpf_probe_read_kernel_str(o->comm, sizeof o->comm, &t->comm);
	f = BPF_CORE_READ(t, mm, exe_file);
	w = bpf_map_lookup_elem(&walkbuf, &zero);
	if (!f || !w)
		return 0;
	ino = BPF_CORE_READ(f, f_inode);
	o->ino = BPF_CORE_READ(ino, i_ino);
	o->dev = BPF_CORE_READ(ino, i_sb, s_dev);
	pa_mtime(ino, o);
	vm = BPF_CORE_READ(f, f_path.mnt);
	w->d = (__u64)BPF_CORE_READ(f, f_path.dentry);
	w->vm = (__u64)vm;
	w->mnt = (__u64)container_of(vm, struct mount, mnt);
	w->off = w->nparts = w->root = 0;
	bpf_loop(PA_DEPTH, pa_walk_step, NULL, 0);
	o->nparts = w->nparts;
	o->len = w->off;
	o->truncated = !w->root;
	bpf_probe_read_kernel(o->path, sizeof o->path, w->path);
	return 0;
}

/* The calling process's arguments (NUL-separated), read from its own memory: it may be gone before /proc is read. */
static __always_inline void pa_cmdline(struct task_struct *t, struct pa_proc *p)
{
	unsigned long start = BPF_CORE_READ(t, mm, arg_start), end = BPF_CORE_READ(t, mm, arg_end);
	unsigned long len = end - start;

	p->cmdline_len = 0;
	if (!start || end <= start)
		return;
	if (len > PA_CMDLINE)
		len = PA_CMDLINE;
	if (bpf_probe_read_user(p->cmdline, len, (void *)start) == 0)
		p->cmdline_len = (__u32)len;
}

/* Send the calling process's record (and its ancestors') when user space has not had it lately (global: checked once). */
__noinline int pa_proc_send(__u64 task, __u32 type, __u64 now)
{
	struct task_struct *t = (struct task_struct *)task;
	__u32 tgid = BPF_CORE_READ(t, tgid);
	__u64 start = BPF_CORE_READ(t, group_leader, start_boottime);
	struct proc_seen *seen, fresh = {.sent = now, .start = start};
	struct pa_proc *p;

	if (type == PA_PROC) {
		seen = bpf_map_lookup_elem(&procs, &tgid);
		if (seen && seen->start == start && now - seen->sent < PA_PROC_EVERY)
			return 0;
	}
	p = bpf_ringbuf_reserve(&events, sizeof *p, 0);
	if (!p)
		return 0;	/* ring full: the next use of a socket tries again */
	p->type = type;
	p->nparents = 0;
	p->pad[0] = p->pad[1] = 0;
	p->uid = BPF_CORE_READ(t, cred, euid.val);
	p->start = start;
	pa_task_fill((__u64)BPF_CORE_READ(t, group_leader), &p->self);
	pa_cmdline(t, p);
	for (int i = 0; i < PA_PARENTS; i++) {
		struct task_struct *up = BPF_CORE_READ(t, real_parent);
		__u32 up_tgid;

		if (!up || up == t)
			break;
		up_tgid = BPF_CORE_READ(up, tgid);
		if (up_tgid == 0)
			break;
		pa_task_fill((__u64)up, &p->parents[i]);
		p->nparents++;
		if (up_tgid == 1)
			break;
		t = up;
	}
	bpf_ringbuf_submit(p, 0);
	bpf_map_update_elem(&procs, &tgid, &fresh, BPF_ANY);
	return 0;
}

/* Copy a socket's ends into c (local port as bound, remote as connected; 0 when none). */
static __always_inline int pa_sock_tuple(struct sock *sk, struct pa_conn *c)
{
	c->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	c->proto = (__u8)BPF_CORE_READ(sk, sk_protocol);
	c->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	c->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (c->family == AF_INET) {
		BPF_CORE_READ_INTO(c->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO(c->raddr, sk, __sk_common.skc_daddr);
	} else if (c->family == AF_INET6) {
		BPF_CORE_READ_INTO(c->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(c->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		return -1;
	}
	return 0;
}

/* Fill the task part of a socket event. */
static __always_inline void pa_conn_task(struct task_struct *t, struct pa_conn *c)
{
	__u64 id = bpf_get_current_pid_tgid();

	c->pid = (__u32)id;
	c->tgid = (__u32)(id >> 32);
	c->uid = BPF_CORE_READ(t, cred, euid.val);
	c->start = BPF_CORE_READ(t, group_leader, start_boottime);
	bpf_get_current_comm(c->comm, sizeof c->comm);
}

/* The socket behind descriptor fd of the current task, or NULL. */
static __always_inline struct sock *pa_fd_sock(struct task_struct *t, long fd)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds, *f = NULL;
	struct socket *so;
	unsigned int max;
	umode_t mode;

	if (!fdt || fd < 0)
		return NULL;
	max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned long)fd >= max)
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof f, &fds[fd]) != 0 || !f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	if (!so)
		return NULL;
	return BPF_CORE_READ(so, sk);
}

/* Report the socket behind fd, used by the current task (accept or send). */
static __always_inline void pa_report_fd(long fd, __u8 how)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct sock *sk = pa_fd_sock(t, fd);
	struct pa_conn c = {}, *out;
	__u64 key = (__u64)sk;

	if (!sk || pa_sock_tuple(sk, &c) != 0 || c.lport == 0)
		return;
	if (how == PA_HOW_SEND) {
		struct sock_seen now = {}, *seen;

		if (c.proto != IPPROTO_UDP)
			return;
		now.tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
		now.lport = c.lport;
		now.rport = c.rport;
		now.raddr = *(__u32 *)&c.raddr[0] ^ *(__u32 *)&c.raddr[12];
		seen = bpf_map_lookup_elem(&socks, &key);
		if (seen && seen->tgid == now.tgid && seen->lport == now.lport && seen->rport == now.rport &&
		    seen->raddr == now.raddr)
			return;
		bpf_map_update_elem(&socks, &key, &now, BPF_ANY);
	} else if (c.proto != IPPROTO_TCP) {
		return;
	}
	c.type = PA_CONN;
	c.how = how;
	c.sk = key;
	pa_conn_task(t, &c);
	pa_proc_send((__u64)t, PA_PROC, bpf_ktime_get_ns());
	out = bpf_ringbuf_reserve(&events, sizeof *out, 0);
	if (!out)
		return;
	*out = c;
	bpf_ringbuf_submit(out, 0);
}

SEC("tracepoint/sock/inet_sock_set_state")
int pa_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct pa_conn *c;
	int oldstate = ctx->oldstate, newstate = ctx->newstate;

	if (ctx->protocol != IPPROTO_TCP || (newstate != TCP_SYN_SENT && oldstate != TCP_SYN_SENT))
		return 0;
	c = bpf_ringbuf_reserve(&events, sizeof *c, 0);
	if (!c)
		return 0;
	__builtin_memset(c, 0, sizeof *c);
	c->how = PA_HOW_CONNECT;
	c->sk = (__u64)ctx->skaddr;
	c->family = (__u8)ctx->family;
	c->proto = IPPROTO_TCP;
	c->lport = ctx->sport;
	c->rport = ctx->dport;
	/* Through the helper: the verifier refuses loads from a computed context address. */
	if (ctx->family == AF_INET) {
		bpf_probe_read_kernel(c->laddr, 4, ctx->saddr);
		bpf_probe_read_kernel(c->raddr, 4, ctx->daddr);
		__builtin_memset(c->laddr + 4, 0, 12);
		__builtin_memset(c->raddr + 4, 0, 12);
	} else {
		bpf_probe_read_kernel(c->laddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(c->raddr, 16, ctx->daddr_v6);
	}
	if (newstate == TCP_SYN_SENT) {
		struct task_struct *t = (struct task_struct *)bpf_get_current_task();

		c->type = PA_SYN;
		pa_conn_task(t, c);
		bpf_ringbuf_submit(c, 0);
		pa_proc_send((__u64)t, PA_PROC, bpf_ktime_get_ns());
		return 0;
	}
	c->type = PA_TUPLE;
	bpf_ringbuf_submit(c, 0);
	return 0;
}

/* sys_exit_accept and sys_exit_accept4: the new descriptor is the return value. */
static __always_inline int pa_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	if (ctx->ret >= 0)
		pa_report_fd(ctx->ret, PA_HOW_ACCEPT);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int pa_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return pa_accept_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int pa_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return pa_accept_exit(ctx);
}

/* sys_enter_send*: remember the descriptor for the exit. */
static __always_inline int pa_send_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 fd = (__u32)ctx->args[0];

	bpf_map_update_elem(&sending, &id, &fd, BPF_ANY);
	return 0;
}

/* sys_exit_send*: the socket's local port is bound now; report it if it sent. */
static __always_inline int pa_send_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 *fd = bpf_map_lookup_elem(&sending, &id);
	long f;

	if (!fd)
		return 0;
	f = *fd;
	bpf_map_delete_elem(&sending, &id);
	if (ctx->ret >= 0)
		pa_report_fd(f, PA_HOW_SEND);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int pa_enter_sendto(struct trace_event_raw_sys_enter *ctx)
{
	return pa_send_enter(ctx);
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int pa_exit_sendto(struct trace_event_raw_sys_exit *ctx)
{
	return pa_send_exit(ctx);
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int pa_enter_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	return pa_send_enter(ctx);
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int pa_exit_sendmsg(struct trace_event_raw_sys_exit *ctx)
{
	return pa_send_exit(ctx);
}

SEC("tracepoint/syscalls/sys_enter_sendmmsg")
int pa_enter_sendmmsg(struct trace_event_raw_sys_enter *ctx)
{
	return pa_send_enter(ctx);
}

SEC("tracepoint/syscalls/sys_exit_sendmmsg")
int pa_exit_sendmmsg(struct trace_event_raw_sys_exit *ctx)
{
	return pa_send_exit(ctx);
}

SEC("tracepoint/sched/sched_process_exec")
int pa_exec(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	(void)ctx;
	pa_proc_send((__u64)t, PA_EXEC, bpf_ktime_get_ns());
	return 0;
}
