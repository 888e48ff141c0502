/* SPDX-License-Identifier: BSD-2-Clause */
/* procbpf.c: load the attribution program, read its ring buffer, keep bounded tables of socket and process owners. */

/*
 * DESIGN
 *
 * The kernel half (bpf/procattr.bpf.c, embedded by `bpftool gen skeleton`)
 * writes records into a ring buffer as sockets are used; this file reads
 * them and keeps three tables, each a fixed-size FIFO with a hash index
 * (a full table overwrites its oldest row: age eviction, bounded memory):
 *  - tuples: 5-tuple -> owner (pid, uid, start time, comm), also keyed with
 *    the remote end zeroed for UDP sockets that send unconnected, and with
 *    the local port zeroed for TCP connects whose port is not chosen yet
 *    (marked ambiguous when two processes connect to the same remote end);
 *  - syns: socket address -> owner, joining a TCP connect (task known, local
 *    port not) to the socket's first state change (full tuple, no task);
 *  - procs: pid -> process record (executable, arguments, ancestors).
 * Rows older than PB_MAX_AGE are not answered. Draining costs no system call
 * when the ring is empty (libbpf reads the ring's positions from shared
 * memory), so proc.c drains before every lookup on the packet path.
 */
#include "procbpf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "log.h"
#include "bpf/procattr.h"
#include "procattr.skel.h"

#define PB_TUPLES	32768		/* socket owners kept */
#define PB_SYNS		8192		/* TCP connects waiting for their local port */
#define PB_PROCS	2048		/* process records kept */
#define PB_MAX_AGE	(120 * NG_USEC)	/* older rows are not answered */
#define PB_RING_BYTES	(2u << 20)	/* the ring buffer (charged to the memory cgroup) */
#define PB_TRACEFS_MAGIC 0x74726163	/* TRACEFS_MAGIC, include/uapi/linux/magic.h */

/* A FIFO table with a chained hash index over fixed-size keys and values. */
struct pb_map {
	size_t cap, klen, vlen, slot;
	uint8_t *rows;		/* cap rows: [used u8][pad][ng_time][key][value] */
	int32_t *buckets;	/* cap * 2 */
	int32_t *next;
	size_t head;		/* the next row to (over)write */
	size_t nbuckets;
	void (*drop)(void *value);	/* frees what a value owns, when overwritten */
};

struct pb_row {
	uint8_t used;
	uint8_t pad[7];
	ng_time seen;
};

/* A tuples key: addresses as the capture sees them (v4-mapped turned into IPv4). */
struct pb_tkey {
	ng_addr local, remote;
	uint16_t lport, rport;
	uint8_t proto, pad[3];
};

struct pb_owner_val {
	pid_t pid;
	uid_t uid;
	uint64_t start;
	char comm[16];
	uint8_t ambiguous;	/* a port-less connect key two processes share */
	uint8_t pad[7];
};

struct procbpf {
	struct procattr *skel;
	struct ring_buffer *rb;
	struct pb_map tuples, syns, procs;
	char hooks[512];
	long ticks_per_sec;
	struct procbpf_stats st;
};

static int pb_map_init(struct pb_map *m, size_t cap, size_t klen, size_t vlen, void (*drop)(void *));
static void pb_map_free(struct pb_map *m);
static uint8_t *pb_map_row(const struct pb_map *m, size_t i);
static void *pb_map_get(const struct pb_map *m, const void *key, ng_time now);
static void *pb_map_put(struct pb_map *m, const void *key, ng_time now);
static void pb_proc_drop(void *value);
static int pb_record_cb(void *ctx, void *data, size_t len);
static void pb_conn(struct procbpf *pb, const struct pa_conn *c, ng_time now);
static void pb_proc(struct procbpf *pb, const struct pa_proc *p);
static void pb_task(struct procbpf_task *out, const struct pa_task *t);
static ng_addr pb_addr(uint8_t family, const uint8_t *b);
static void pb_owner_from(struct procbpf *pb, struct pb_owner_val *v, const struct pa_conn *c);
static int pb_tracefs(char *err, size_t errlen);

/* Allocate a table of cap rows; 0. */
static int pb_map_init(struct pb_map *m, size_t cap, size_t klen, size_t vlen, void (*drop)(void *))
{
	memset(m, 0, sizeof *m);
	m->cap = cap;
	m->klen = klen;
	m->vlen = vlen;
	m->slot = (sizeof(struct pb_row) + klen + vlen + 7) & ~(size_t)7;
	m->rows = xcalloc(cap, m->slot);
	m->nbuckets = cap * 2;
	m->buckets = xmalloc(m->nbuckets * sizeof *m->buckets);
	m->next = xmalloc(cap * sizeof *m->next);
	for (size_t i = 0; i < m->nbuckets; i++)
		m->buckets[i] = -1;
	m->drop = drop;
	return 0;
}

/* Free a table and what its values own. */
static void pb_map_free(struct pb_map *m)
{
	if (!m->rows)
		return;
	for (size_t i = 0; m->drop && i < m->cap; i++) {
		uint8_t *r = pb_map_row(m, i);

		if (((struct pb_row *)r)->used)
			m->drop(r + sizeof(struct pb_row) + m->klen);
	}
	free(m->rows);
	free(m->buckets);
	free(m->next);
	memset(m, 0, sizeof *m);
}

/* Row i of a table. */
static uint8_t *pb_map_row(const struct pb_map *m, size_t i)
{
	return m->rows + i * m->slot;
}

/* The value stored under key, or NULL (also when older than PB_MAX_AGE). */
static void *pb_map_get(const struct pb_map *m, const void *key, ng_time now)
{
	size_t b = ng_hash64(key, m->klen, 7) % m->nbuckets;

	for (int32_t i = m->buckets[b]; i != -1; i = m->next[i]) {
		uint8_t *r = pb_map_row(m, (size_t)i);

		if (memcmp(r + sizeof(struct pb_row), key, m->klen) == 0) {
			if (now - ((struct pb_row *)r)->seen > PB_MAX_AGE)
				return NULL;
			return r + sizeof(struct pb_row) + m->klen;
		}
	}
	return NULL;
}

/* The value slot for key: the existing row (refreshed), or the oldest row overwritten (zeroed). */
static void *pb_map_put(struct pb_map *m, const void *key, ng_time now)
{
	size_t b = ng_hash64(key, m->klen, 7) % m->nbuckets, idx, ob;
	uint8_t *r;
	int32_t *pp;

	for (int32_t i = m->buckets[b]; i != -1; i = m->next[i]) {
		r = pb_map_row(m, (size_t)i);
		if (memcmp(r + sizeof(struct pb_row), key, m->klen) == 0) {
			((struct pb_row *)r)->seen = now;
			return r + sizeof(struct pb_row) + m->klen;
		}
	}
	idx = m->head;
	m->head = (m->head + 1) % m->cap;
	r = pb_map_row(m, idx);
	if (((struct pb_row *)r)->used) {
		/* Unlink the oldest row from its chain. */
		ob = ng_hash64(r + sizeof(struct pb_row), m->klen, 7) % m->nbuckets;
		for (pp = &m->buckets[ob]; *pp != -1; pp = &m->next[*pp]) {
			if ((size_t)*pp == idx) {
				*pp = m->next[idx];
				break;
			}
		}
		if (m->drop)
			m->drop(r + sizeof(struct pb_row) + m->klen);
	}
	memset(r, 0, m->slot);
	((struct pb_row *)r)->used = 1;
	((struct pb_row *)r)->seen = now;
	memcpy(r + sizeof(struct pb_row), key, m->klen);
	m->next[idx] = m->buckets[b];
	m->buckets[b] = (int32_t)idx;
	return r + sizeof(struct pb_row) + m->klen;
}

/* Free a process record held in the procs table (the value is a pointer). */
static void pb_proc_drop(void *value)
{
	struct procbpf_proc *p;

	memcpy(&p, value, sizeof p);
	if (!p)
		return;
	free(p->self.exe);
	free(p->cmdline);
	for (unsigned i = 0; i < p->nparents; i++)
		free(p->parents[i].exe);
	free(p);
}

uint64_t procbpf_dev(uint32_t kdev)
{
	return makedev(kdev >> 20, kdev & 0xfffff);
}

/* An address from a record (IPv4 in the first 4 bytes; ::ffff:a.b.c.d turned into IPv4). */
static ng_addr pb_addr(uint8_t family, const uint8_t *b)
{
	if (family == 2)
		return addr_from_v4(b);
	if (memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		return addr_from_v4(b + 12);
	return addr_from_v6(b);
}

/* The owner part of a socket record. */
static void pb_owner_from(struct procbpf *pb, struct pb_owner_val *v, const struct pa_conn *c)
{
	v->pid = (pid_t)c->tgid;
	v->uid = c->uid;
	v->start = c->start / (uint64_t)(1000000000 / pb->ticks_per_sec);
	memcpy(v->comm, c->comm, sizeof v->comm);
	v->comm[sizeof v->comm - 1] = '\0';
}

/* A socket record: learn its owner under its tuple (or remember a connect until its port is known). */
static void pb_conn(struct procbpf *pb, const struct pa_conn *c, ng_time now)
{
	struct pb_tkey k;
	struct pb_owner_val *v, *syn, own;
	uint64_t sk = c->sk;

	memset(&k, 0, sizeof k);
	k.proto = c->proto;
	k.local = pb_addr(c->family, c->laddr);
	k.remote = pb_addr(c->family, c->raddr);
	k.lport = c->lport;
	k.rport = c->rport;
	switch (c->type) {
	case PA_SYN:
		memset(&own, 0, sizeof own);
		pb_owner_from(pb, &own, c);
		*(struct pb_owner_val *)pb_map_put(&pb->syns, &sk, now) = own;
		if (c->lport == 0) {
			/* Port-less key: answers the SYN the capture sees before the port is reported. */
			v = pb_map_get(&pb->tuples, &k, now);
			if (v && v->pid != own.pid) {
				v->ambiguous = 1;
				pb_map_put(&pb->tuples, &k, now);
				return;
			}
		}
		*(struct pb_owner_val *)pb_map_put(&pb->tuples, &k, now) = own;
		pb->st.sockets++;
		return;
	case PA_TUPLE:
		syn = pb_map_get(&pb->syns, &sk, now);
		if (!syn || c->lport == 0)
			return;
		own = *syn;
		*(struct pb_owner_val *)pb_map_put(&pb->tuples, &k, now) = own;
		pb->st.sockets++;
		return;
	default:
		memset(&own, 0, sizeof own);
		pb_owner_from(pb, &own, c);
		*(struct pb_owner_val *)pb_map_put(&pb->tuples, &k, now) = own;
		pb->st.sockets++;
		return;
	}
}

/* A task of a process record, copied out of the ring (path rebuilt root first). */
static void pb_task(struct procbpf_task *out, const struct pa_task *t)
{
	const char *parts[PA_DEPTH];
	size_t n = 0, off = 0, len = t->len < PA_PATH ? t->len : PA_PATH, total = 0;
	char *p;

	memset(out, 0, sizeof *out);
	out->pid = (pid_t)t->tgid;
	memcpy(out->comm, t->comm, sizeof out->comm);
	out->comm[sizeof out->comm - 1] = '\0';
	out->dev = procbpf_dev(t->dev);
	out->ino = t->ino;
	out->mtime_sec = (int64_t)t->mtime_sec;
	out->mtime_nsec = t->mtime_nsec;
	while (off < len && n < t->nparts && n < PA_DEPTH) {
		const char *s = t->path + off;
		size_t l = strnlen(s, len - off);

		if (off + l >= len)
			break;	/* no NUL: cut short */
		parts[n++] = s;
		total += l + 1;
		off += l + 1;
	}
	if (n == 0)
		return;
	out->exe = p = xmalloc(total + 2 + (t->truncated ? 4 : 0));
	if (t->truncated) {
		memcpy(p, "/...", 4);
		p += 4;
	}
	while (n-- > 0) {
		size_t l = strlen(parts[n]);

		*p++ = '/';
		memcpy(p, parts[n], l);
		p += l;
	}
	*p = '\0';
}

/* A process record: keep it under its pid (replacing an older one). */
static void pb_proc(struct procbpf *pb, const struct pa_proc *r)
{
	struct procbpf_proc *p = xcalloc(1, sizeof *p);
	uint32_t pid = r->self.tgid;
	void *slot;

	pb_task(&p->self, &r->self);
	p->uid = r->uid;
	p->start = r->start / (uint64_t)(1000000000 / pb->ticks_per_sec);
	if (r->cmdline_len > 0) {
		size_t len = r->cmdline_len < PA_CMDLINE ? r->cmdline_len : PA_CMDLINE;

		while (len > 0 && r->cmdline[len - 1] == '\0')
			len--;
		if (len > 0) {
			/* Arguments are NUL-separated: copy the bytes, then join them with spaces. */
			p->cmdline = xmalloc(len + 1);
			memcpy(p->cmdline, r->cmdline, len);
			p->cmdline[len] = '\0';
			for (size_t i = 0; i < len; i++)
				if (p->cmdline[i] == '\0')
					p->cmdline[i] = ' ';
		}
	}
	for (unsigned i = 0; i < r->nparents && i < PROCBPF_PARENTS; i++)
		pb_task(&p->parents[p->nparents++], &r->parents[i]);
	slot = pb_map_put(&pb->procs, &pid, time_mono());
	pb_proc_drop(slot);
	memcpy(slot, &p, sizeof p);
	pb->st.processes++;
}

/* ring_buffer callback: one record. */
static int pb_record_cb(void *ctx, void *data, size_t len)
{
	struct procbpf *pb = ctx;
	uint8_t type;

	if (len < 1)
		return 0;
	pb->st.records++;
	type = *(const uint8_t *)data;
	if ((type == PA_PROC || type == PA_EXEC) && len >= sizeof(struct pa_proc))
		pb_proc(pb, data);
	else if ((type == PA_CONN || type == PA_SYN || type == PA_TUPLE) && len >= sizeof(struct pa_conn))
		pb_conn(pb, data, time_mono());
	return 0;
}

/* Mount tracefs where libbpf looks for tracepoint ids, when neither place has it; 0 or -1. */
static int pb_tracefs(char *err, size_t errlen)
{
	struct statfs sf;

	/* By file system type: a user other than root cannot look inside tracefs (mode 0700) but may still attach. */
	if ((statfs("/sys/kernel/tracing", &sf) == 0 && sf.f_type == PB_TRACEFS_MAGIC) ||
	    (statfs("/sys/kernel/debug/tracing", &sf) == 0 && sf.f_type == PB_TRACEFS_MAGIC))
		return 0;
	if (access("/sys/kernel/tracing/events", F_OK) == 0 || access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return 0;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
		snprintf(err, errlen, "tracefs is not mounted and mounting it on /sys/kernel/tracing failed: %s "
			 "(mount it: mount -t tracefs nodev /sys/kernel/tracing)", strerror(errno));
		return -1;
	}
	log_info("process attribution: mounted tracefs on /sys/kernel/tracing");
	return 0;
}

/* libbpf's messages: warnings to the debug log only (a failed probe is not an error). */
__attribute__((format(printf, 2, 0))) static int pb_libbpf_print(enum libbpf_print_level level, const char *fmt,
								   va_list ap)
{
	char line[512];

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("libbpf: %s", line);
	return 0;
}

struct procbpf *procbpf_open(char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t off;	/* offset of the program pointer in skel->progs */
		bool needed;
	} hooks[] = {
#define PB_HOOK(n, f, need) {n, offsetof(struct procattr, progs.f) - offsetof(struct procattr, progs), need}
		PB_HOOK("sock:inet_sock_set_state", pa_set_state, true),
		PB_HOOK("syscalls:sys_exit_accept4", pa_exit_accept4, false),
		PB_HOOK("syscalls:sys_exit_accept", pa_exit_accept, false),
		PB_HOOK("syscalls:sys_enter_sendto", pa_enter_sendto, false),
		PB_HOOK("syscalls:sys_exit_sendto", pa_exit_sendto, false),
		PB_HOOK("syscalls:sys_enter_sendmsg", pa_enter_sendmsg, false),
		PB_HOOK("syscalls:sys_exit_sendmsg", pa_exit_sendmsg, false),
		PB_HOOK("syscalls:sys_enter_sendmmsg", pa_enter_sendmmsg, false),
		PB_HOOK("syscalls:sys_exit_sendmmsg", pa_exit_sendmmsg, false),
		PB_HOOK("sched:sched_process_exec", pa_exec, false),
#undef PB_HOOK
	};
	struct procbpf *pb = xcalloc(1, sizeof *pb);
	size_t used = 0;
	int rc;

	libbpf_set_print(pb_libbpf_print);
	pb->ticks_per_sec = sysconf(_SC_CLK_TCK);
	if (pb->ticks_per_sec <= 0 || pb->ticks_per_sec > 1000000000)
		pb->ticks_per_sec = 100;
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		snprintf(err, errlen, "the kernel has no BTF (/sys/kernel/btf/vmlinux: %s; needs CONFIG_DEBUG_INFO_BTF)",
			 strerror(errno));
		goto fail;
	}
	if (pb_tracefs(err, errlen) != 0)
		goto fail;
	pb->skel = procattr__open();
	if (!pb->skel) {
		snprintf(err, errlen, "cannot open the BPF program: %s", strerror(errno));
		goto fail;
	}
	bpf_map__set_max_entries(pb->skel->maps.events, PB_RING_BYTES);
	rc = procattr__load(pb->skel);
	if (rc != 0) {
		snprintf(err, errlen, "cannot load the BPF program: %s (needs root or CAP_BPF and CAP_PERFMON, and a "
			 "kernel with BTF, ring buffers and bpf_loop: 5.17 or later)", strerror(-rc));
		goto fail;
	}
	for (size_t i = 0; i < NG_ARRAY_LEN(hooks); i++) {
		struct bpf_program *prog = *(struct bpf_program **)((char *)&pb->skel->progs + hooks[i].off);
		struct bpf_link *link = bpf_program__attach(prog);

		if (!link) {
			if (hooks[i].needed) {
				snprintf(err, errlen, "cannot attach to the tracepoint %s: %s", hooks[i].name,
					 strerror(errno));
				goto fail;
			}
			log_warnx("process attribution: tracepoint %s not available: %s", hooks[i].name, strerror(errno));
			continue;
		}
		*(struct bpf_link **)((char *)&pb->skel->links + hooks[i].off) = link;
		if (strncmp(hooks[i].name, "syscalls:sys_enter_", 19) == 0)
			continue;	/* named once with its exit */
		used += (size_t)snprintf(pb->hooks + used, sizeof pb->hooks - used, "%s%s", used ? ", " : "",
					 hooks[i].name);
		if (used >= sizeof pb->hooks)
			used = sizeof pb->hooks - 1;
	}
	pb->rb = ring_buffer__new(bpf_map__fd(pb->skel->maps.events), pb_record_cb, pb, NULL);
	if (!pb->rb) {
		snprintf(err, errlen, "cannot map the BPF ring buffer: %s", strerror(errno));
		goto fail;
	}
	pb_map_init(&pb->tuples, PB_TUPLES, sizeof(struct pb_tkey), sizeof(struct pb_owner_val), NULL);
	pb_map_init(&pb->syns, PB_SYNS, sizeof(uint64_t), sizeof(struct pb_owner_val), NULL);
	pb_map_init(&pb->procs, PB_PROCS, sizeof(uint32_t), sizeof(struct procbpf_proc *), pb_proc_drop);
	return pb;
fail:
	procbpf_close(pb);
	return NULL;
}

void procbpf_close(struct procbpf *pb)
{
	if (!pb)
		return;
	ring_buffer__free(pb->rb);
	procattr__destroy(pb->skel);
	pb_map_free(&pb->tuples);
	pb_map_free(&pb->syns);
	pb_map_free(&pb->procs);
	free(pb);
}

const char *procbpf_hooks(const struct procbpf *pb)
{
	return pb ? pb->hooks : "";
}

int procbpf_fd(const struct procbpf *pb)
{
	return pb && pb->rb ? ring_buffer__epoll_fd(pb->rb) : -1;
}

void procbpf_drain(struct procbpf *pb)
{
	if (pb && pb->rb)
		(void)ring_buffer__consume(pb->rb);
}

int procbpf_lookup(struct procbpf *pb, uint8_t proto, const ng_addr *local, uint16_t lport, const ng_addr *remote,
		   uint16_t rport, struct procbpf_owner *out)
{
	ng_time now = time_mono();
	struct pb_owner_val *v;
	struct pb_tkey k;
	void *pp;

	if (!pb)
		return 0;
	memset(&k, 0, sizeof k);
	k.proto = proto;
	k.local = *local;
	k.remote = *remote;
	k.lport = lport;
	k.rport = rport;
	v = pb_map_get(&pb->tuples, &k, now);
	if (!v && proto == 17) {
		/* An unconnected UDP socket: its local end, then its port on any address. */
		memset(&k.remote, 0, sizeof k.remote);
		k.remote.v = local->v;
		memset(k.remote.a, 0, sizeof k.remote.a);
		k.remote.v = local->v == 4 ? 4 : 6;
		k.rport = 0;
		v = pb_map_get(&pb->tuples, &k, now);
		if (!v) {
			k.local.v = k.remote.v;
			memset(k.local.a, 0, sizeof k.local.a);
			v = pb_map_get(&pb->tuples, &k, now);
			if (!v && local->v == 4) {
				/* A dual-stack socket bound to :: reports an IPv6 wildcard. */
				k.local.v = k.remote.v = 6;
				v = pb_map_get(&pb->tuples, &k, now);
			}
		}
	}
	if (!v && proto == 6) {
		k.lport = 0;	/* a connect seen before its port was reported */
		v = pb_map_get(&pb->tuples, &k, now);
		if (v && v->ambiguous)
			v = NULL;
	}
	if (!v)
		return 0;
	memset(out, 0, sizeof *out);
	out->pid = v->pid;
	out->uid = v->uid;
	out->start = v->start;
	memcpy(out->comm, v->comm, sizeof out->comm);
	pp = pb_map_get(&pb->procs, &(uint32_t){(uint32_t)v->pid}, now);
	if (pp) {
		const struct procbpf_proc *p;

		memcpy(&p, pp, sizeof p);
		if (p && p->start == v->start)
			out->proc = p;
	}
	return 1;
}

void procbpf_get_stats(const struct procbpf *pb, struct procbpf_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!pb)
		return;
	*out = pb->st;
	out->memory_bytes = (uint64_t)(pb->tuples.cap * (pb->tuples.slot + 12) + pb->syns.cap * (pb->syns.slot + 12) +
				       pb->procs.cap * (pb->procs.slot + 12 + sizeof(struct procbpf_proc) + 4096)) +
			    PB_RING_BYTES;
}
