/* SPDX-License-Identifier: BSD-2-Clause */
/* dump.c: --dump: every flow as one JSON line on standard output when it ends, then a summary line. */
#include "dump.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "flowjson.h"
#include "local.h"
#include "log.h"
#include "setup.h"

struct dump {
	const struct output_env *env;
	FILE *out;
	ng_time window;
	struct strbuf line;		/* reused for every flow */
};

/* Open for --dump only: standard output, fully buffered (flows are many and short). */
static void *dump_open(const struct output_env *env, char *err, size_t errlen)
{
	struct dump *d;

	(void)err;
	(void)errlen;
	if (!env->dump)
		return NULL;
	d = xcalloc(1, sizeof *d);
	d->env = env;
	d->out = env->out ? env->out : stdout;
	d->window = env->cfg->window;
	setvbuf(d->out, NULL, _IOFBF, 1 << 20);
	return d;
}

/* Print one flow as a JSON line (the flow_end sink, and every flow still open at the end). */
static void dump_flow(void *arg, struct flow *f)
{
	struct dump *d = arg;

	d->line.len = 0;
	flowjson_append(f, d->window, &d->line);
	sb_putc(&d->line, '\n');
	fwrite(d->line.p, 1, d->line.len, d->out);
}

/* Hand what is printed to the reader a few times a second (a live --dump is read as it goes). */
static void dump_tick(void *arg, ng_time wall, ng_time mono)
{
	struct dump *d = arg;

	(void)wall;
	(void)mono;
	fflush(d->out);
}

/* The final summary line of --dump (docs/api.md). */
static void dump_summary(struct dump *d)
{
	const struct output_env *env = d->env;
	struct engine_stats es;
	struct flow_table_stats fs;
	cJSON *root = cJSON_CreateObject(), *s = cJSON_AddObjectToObject(root, "summary"), *loc;
	char t[NG_TIMESTRLEN], *txt;

	engine_get_stats(env->engine, &es);
	flow_table_get_stats(engine_flows(env->engine), &fs);
	cJSON_AddNumberToObject(s, "packets", (double)es.packets);
	cJSON_AddNumberToObject(s, "bytes", (double)es.bytes);
	cJSON_AddNumberToObject(s, "ip_packets", (double)es.ip_packets);
	cJSON_AddNumberToObject(s, "not_ip", (double)es.not_ip);
	cJSON_AddNumberToObject(s, "malformed", (double)es.malformed);
	cJSON_AddNumberToObject(s, "fragments", (double)es.fragments);
	cJSON_AddNumberToObject(s, "flows", (double)fs.created);
	cJSON_AddNumberToObject(s, "evicted", (double)fs.evicted);
	cJSON_AddNumberToObject(s, "dns_messages", (double)es.dns_messages);
	cJSON_AddNumberToObject(s, "dns_unsolicited", (double)es.dns_unsolicited);
	cJSON_AddNumberToObject(s, "names_sni", (double)es.names_sni);
	cJSON_AddNumberToObject(s, "names_http", (double)es.names_http);
	cJSON_AddNumberToObject(s, "alerts", (double)es.alerts);
	cJSON_AddNumberToObject(s, "unanswered_flows", (double)es.unanswered_flows);
	cJSON_AddNumberToObject(s, "unanswered_addresses", (double)es.unanswered_addresses);
	if (es.first_packet != NG_TIME_NONE) {
		cJSON_AddStringToObject(s, "first_packet", time_format(es.first_packet, t, sizeof t));
		cJSON_AddStringToObject(s, "last_packet", time_format(es.last_packet, t, sizeof t));
	} else {
		cJSON_AddNullToObject(s, "first_packet");
		cJSON_AddNullToObject(s, "last_packet");
	}
	loc = cJSON_AddArrayToObject(s, "local");
	local_set_to_json(env->m->local, loc);
	cJSON_AddStringToObject(s, "local_source", env->m->local_source);
	if (env->error)
		cJSON_AddStringToObject(s, "error", env->error);
	else
		cJSON_AddNullToObject(s, "error");
	txt = cJSON_PrintUnformatted(root);
	fputs(txt, d->out);
	fputc('\n', d->out);
	free(txt);
	cJSON_Delete(root);
}

/* The summary after the last flow; -1 when standard output did not take everything. */
static int dump_close(void *arg)
{
	struct dump *d = arg;
	int rc = 0;

	dump_summary(d);
	if (fflush(d->out) != 0 || ferror(d->out)) {
		log_warn("cannot write the dump to standard output");
		rc = -1;
	}
	free(d->line.p);
	free(d);
	return rc;
}

const struct output_type dump_output = {
	.name = "dump",
	.open = dump_open,
	.sink = {.flow_end = dump_flow},
	.flow_at_end = dump_flow,
	.tick = dump_tick,
	.close = dump_close,
};
