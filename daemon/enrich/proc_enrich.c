/* SPDX-License-Identifier: BSD-2-Clause */
/* proc_enrich.c: the process enrichment: asks proc.c for each flow's owner and hands its answers to the engine. */
#include "proc_enrich.h"

#include <stdlib.h>

#include "exehash.h"
#include "proc.h"

/* Take one more reference to info (NULL stays NULL). */
struct proc_info *proc_info_ref(struct proc_info *info)
{
	if (info)
		info->refs++;
	return info;
}

/* Drop one reference; the last one frees the record, its ancestors and its hash reference. */
void proc_info_unref(struct proc_info *info)
{
	if (!info || --info->refs > 0)
		return;
	free(info->name);
	free(info->exe);
	free(info->user);
	free(info->cmdline);
	for (unsigned i = 0; i < info->nparents; i++) {
		free(info->parents[i].name);
		free(info->parents[i].exe);
	}
	exehash_unref(info->hash);
	free(info);
}

/* Ask for the owner now, while the socket exists; the answer comes through the poll. */
static void *proc_flow_started(void *self, const struct flow *f)
{
	if (f->key.proto != NG_PROTO_TCP && f->key.proto != NG_PROTO_UDP)
		return NULL;
	proc_flow_start(self, f->id, f->key.proto, flow_local_ip(f), flow_local_port(f), flow_remote_ip(f),
			flow_remote_port(f));
	return NULL;
}

struct proc_answer {
	enrich_answer_fn answer;
	void *arg;
};

/* proc_table_poll's callback: an owner found (or NULL: none). */
static void proc_answered(void *arg, uint64_t flow_id, struct proc_info *info)
{
	struct proc_answer *a = arg;

	if (info)
		a->answer(a->arg, flow_id, ENRICH_PROC, info);
}

/* Resolve what is pending (proc.c rate-limits its /proc scans). */
static void proc_poll(void *self, ng_time wall, enrich_answer_fn answer, void *arg)
{
	struct proc_answer a = {answer, arg};

	proc_table_poll(self, wall, proc_answered, &a);
}

static void proc_release(void *value)
{
	proc_info_unref(value);
}

/* "process": {"pid", "name", "exe", "user", "cmdline", "sha256", "parents"} or null (docs/api.md). */
static void proc_json(const void *value, struct strbuf *sb)
{
	const struct proc_info *p = value;

	sb_json_key(sb, "process");
	if (!p) {
		sb_puts(sb, "null");
		return;
	}
	sb_puts(sb, "{\"pid\":");
	sb_u64(sb, (uint64_t)p->pid);
	sb_json_member_str(sb, "name", p->name);
	sb_json_member_str(sb, "exe", p->exe);
	sb_json_member_str(sb, "user", p->user);
	sb_json_member_str(sb, "cmdline", p->cmdline);
	sb_json_member_str(sb, "sha256", p->hash && p->hash->state == EXEHASH_DONE ? p->hash->hex : NULL);
	sb_json_key(sb, "parents");
	sb_putc(sb, '[');
	for (unsigned i = 0; i < p->nparents; i++) {
		if (i)
			sb_putc(sb, ',');
		sb_puts(sb, "{\"pid\":");
		sb_u64(sb, (uint64_t)p->parents[i].pid);
		sb_json_member_str(sb, "name", p->parents[i].name);
		sb_json_member_str(sb, "exe", p->parents[i].exe);
		sb_putc(sb, '}');
	}
	sb_putc(sb, ']');
	sb_putc(sb, '}');
}

/* "process": how many flows asked, how many found their program, and why the others did not. */
static void proc_stats(const void *self, cJSON *o)
{
	struct proc_stats ps;
	cJSON *h;

	proc_get_stats(self, &ps);
	cJSON_AddNumberToObject(o, "requests", (double)ps.requests);
	cJSON_AddNumberToObject(o, "found", (double)ps.found);
	cJSON_AddNumberToObject(o, "socket_gone", (double)ps.socket_gone);
	cJSON_AddNumberToObject(o, "rate_limited", (double)ps.rate_limited);
	cJSON_AddNumberToObject(o, "no_process", (double)ps.no_process);
	cJSON_AddNumberToObject(o, "dropped", (double)ps.dropped);
	cJSON_AddNumberToObject(o, "pending", (double)ps.pending);
	cJSON_AddNumberToObject(o, "bpf_found", (double)ps.bpf_found);
	cJSON_AddNumberToObject(o, "memory_bytes", (double)ps.memory_bytes);
	cJSON_AddStringToObject(o, "source", proc_table_source(self));
	h = cJSON_AddObjectToObject(o, "exe_hash");
	cJSON_AddNumberToObject(h, "hashed", (double)ps.hash_hashed);
	cJSON_AddNumberToObject(h, "failed", (double)ps.hash_failed);
	cJSON_AddNumberToObject(h, "pending", (double)ps.hash_pending);
	cJSON_AddNumberToObject(h, "bytes", (double)ps.hash_bytes);
	cJSON_AddNumberToObject(h, "flows_waiting", (double)ps.hash_waiting);
	cJSON_AddNumberToObject(h, "flows_republished", (double)ps.hash_republished);
	cJSON_AddNumberToObject(h, "flows_unwaited", (double)ps.hash_unwaited);
}

const struct enrichment_kind proc_enrichment = {
	.name = "process",
	.flow_start = proc_flow_started,
	.poll = proc_poll,
	.release = proc_release,
	.json = proc_json,
	.stats = proc_stats,
};
