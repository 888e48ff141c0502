/* SPDX-License-Identifier: BSD-2-Clause */
/* output.h: everything that consumes flow changes, as rows of one table that the daemon and --dump both walk. */
#ifndef NG_OUTPUT_H
#define NG_OUTPUT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "engine.h"
#include "util.h"

struct config;
struct modules;
struct event_ring;
struct http_server;
struct http_context;

/*
 * What a run offers its outputs. The caller owns it and keeps it alive until
 * outputs_finish; outputs keep the pointer and read it when they need it.
 */
struct output_env {
	const struct config *cfg;
	bool dump;			/* a --dump run; else the daemon */
	bool live;			/* live capture; else a file */
	struct engine *engine;
	const struct modules *m;	/* the whitelist, the local set and where it came from */
	struct event_ring *events;	/* the daemon's SSE ring; NULL for --dump */
	struct http_server *http;	/* NULL for --dump */
	struct http_context *hctx;	/* where an output offers what HTTP serves; NULL for --dump */
	FILE *out;			/* --dump's JSON Lines (standard output) */
	const char *error;		/* why the capture stopped early, set before outputs_finish; NULL: it did not */
};

/*
 * One output: a row of the table in output.c. Every hook but open may be
 * NULL. `st` is what open returned.
 */
struct output_type {
	const char *name;
	/*
	 * Open from env->cfg: the state, or NULL when the configuration does not
	 * ask for this output (err left empty), or NULL with one line in err
	 * naming the thing and the fix.
	 */
	void *(*open)(const struct output_env *env, char *err, size_t errlen);
	/* The flow changes it takes, registered with the engine with arg = st (the arg here is ignored). */
	struct engine_sink sink;
	/* A flow still open when the run ends (end of the file, SIGINT/SIGTERM), in flow id order. */
	void (*flow_at_end)(void *st, struct flow *f);
	/* Housekeeping, about 4 times a second: wall and monotonic clocks. */
	void (*tick)(void *st, ng_time wall, ng_time mono);
	/* Add its members to /api/stats; called with st NULL when not open, so the keys never change. */
	void (*stats)(void *st, cJSON *doc);
	/* SIGHUP: reopen files moved away by logrotate. */
	void (*reopen)(void *st);
	/* Write what is pending and free st; -1 when what it wrote is incomplete (the run then exits 1). */
	int (*close)(void *st);
};

struct outputs;

/*
 * Open every output the configuration asks for, in table order, and
 * register their sinks with env->engine. NULL with one line in err when one
 * fails (those already open are closed again).
 */
struct outputs *outputs_open(const struct output_env *env, char *err, size_t errlen);
/* Every open output's tick. */
void outputs_tick(struct outputs *o, ng_time wall, ng_time mono);
/* Every output's members of /api/stats, in table order. NULL o adds what closed outputs add. */
void outputs_stats(const struct outputs *o, cJSON *doc);
/* SIGHUP: every open output's reopen. */
void outputs_reopen(struct outputs *o);

/*
 * End a run, the one way both modes end: finish the engine's pipeline and
 * publish, commit the whitelist, hand every still-open flow to the outputs'
 * flow_at_end, close the outputs and free o. Returns 0, or -1 when an output
 * could not finish its work. With o NULL (start-up failed) only the engine
 * part is done; e may be NULL too.
 */
int outputs_finish(struct outputs *o, struct engine *e);

#endif
