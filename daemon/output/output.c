/* SPDX-License-Identifier: BSD-2-Clause */
/* output.c: the table of outputs, and the walks over it that open, tick, report, reopen and end a run. */
#include "output.h"

#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "dump.h"
#include "evidence.h"
#include "flowlog.h"
#include "history.h"
#include "ipfix.h"
#include "stream.h"

/*
 * Every output, in the order they open, take each flow change, report in
 * /api/stats (the order of its members) and close. A new output is one
 * module and one row here (and its options in config.c's table).
 */
static const struct output_type *const output_table[] = {
	&dump_output,		/* --dump: JSON Lines on standard output, then the summary */
	&alerts_output,		/* alerts.jsonl and --on-alert */
	&evidence_output,	/* evidence pcaps */
	&ipfix_output,		/* --ipfix */
	&flowlog_output,	/* --flow-log */
	&stream_output,		/* the daemon's event stream (SSE) */
	&history_output,	/* state_dir/history.db: ended flows and snapshots (look-back) */
};

#define NOUTPUTS NG_ARRAY_LEN(output_table)

struct outputs {
	const struct output_env *env;
	void *st[NOUTPUTS];		/* NULL: not open */
};

struct outputs *outputs_open(const struct output_env *env, char *err, size_t errlen)
{
	struct outputs *o = xcalloc(1, sizeof *o);

	o->env = env;
	for (size_t i = 0; i < NOUTPUTS; i++) {
		const struct output_type *t = output_table[i];
		struct engine_sink sink = t->sink;

		err[0] = '\0';
		o->st[i] = t->open(env, err, errlen);
		if (!o->st[i]) {
			if (!err[0])
				continue;
			for (size_t j = 0; j < i; j++) {
				if (o->st[j] && output_table[j]->close)
					output_table[j]->close(o->st[j]);
			}
			free(o);
			return NULL;
		}
		/* Every open output is a sink (the engine skips the callbacks it leaves NULL). */
		sink.arg = o->st[i];
		engine_add_sink(env->engine, &sink);
	}
	return o;
}

void outputs_tick(struct outputs *o, ng_time wall, ng_time mono)
{
	if (!o)
		return;
	for (size_t i = 0; i < NOUTPUTS; i++) {
		if (o->st[i] && output_table[i]->tick)
			output_table[i]->tick(o->st[i], wall, mono);
	}
}

void outputs_stats(const struct outputs *o, cJSON *doc)
{
	for (size_t i = 0; i < NOUTPUTS; i++) {
		if (output_table[i]->stats)
			output_table[i]->stats(o ? o->st[i] : NULL, doc);
	}
}

void outputs_reopen(struct outputs *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < NOUTPUTS; i++) {
		if (o->st[i] && output_table[i]->reopen)
			output_table[i]->reopen(o->st[i]);
	}
}

int outputs_finish(struct outputs *o, struct engine *e)
{
	int rc = 0;

	if (e) {
		engine_publish(e, time_now());	/* the pipeline drains; the last process answers arrive */
		engine_sync_whitelist(e);	/* the flows stay active: their counts reach the store now */
	}
	if (!o)
		return 0;
	if (e) {
		struct flow **v;
		size_t n;

		v = flow_table_active_by_id(engine_flows(e), &n);
		for (size_t k = 0; k < n; k++) {
			for (size_t i = 0; i < NOUTPUTS; i++) {
				if (o->st[i] && output_table[i]->flow_at_end)
					output_table[i]->flow_at_end(o->st[i], v[k]);
			}
		}
		free(v);
	}
	for (size_t i = 0; i < NOUTPUTS; i++) {
		if (o->st[i] && output_table[i]->close && output_table[i]->close(o->st[i]) != 0)
			rc = -1;
	}
	free(o);
	return rc;
}
