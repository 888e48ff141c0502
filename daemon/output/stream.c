/* SPDX-License-Identifier: BSD-2-Clause */
/* stream.c: the daemon's event stream: flow changes as server-sent events in the ring that /events serves. */
#include "stream.h"

#include <stdlib.h>

#include "config.h"
#include "events.h"
#include "flowjson.h"
#include "http.h"

/* Flow events formatted per tick at most (see stream_publish). */
#define STREAM_EVENTS_PER_TICK 5000

struct stream {
	const struct output_env *env;
	struct strbuf line;		/* reused for each published flow */
	unsigned this_tick;		/* flow events formatted since the last tick */
};

/* Open when the run has an event ring: the daemon does, --dump does not. */
static void *stream_open(const struct output_env *env, char *err, size_t errlen)
{
	struct stream *s;

	(void)err;
	(void)errlen;
	if (!env->events)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->env = env;
	return s;
}

/* Publish one flow as an event of `type`; when nobody listens only an id is used up. */
static void stream_publish(struct stream *s, struct flow *f, const char *type)
{
	/*
	 * Format the flow only for streams that will read it, and at most
	 * STREAM_EVENTS_PER_TICK flows a tick: past that (a flood) only ids are
	 * used up, and streams get a reset and refetch /flows instead of a backlog.
	 */
	if (s->this_tick < STREAM_EVENTS_PER_TICK && http_sse_listening(s->env->http) > 0) {
		s->line.len = 0;
		flowjson_append(f, s->env->cfg->window, &s->line);
		f->event_id = events_publish(s->env->events, type, s->line.p);
		s->this_tick++;
	} else {
		f->event_id = events_publish(s->env->events, type, NULL);
	}
}

/* The engine's sinks: a flow first published, changed, ended. */
static void stream_new(void *arg, struct flow *f)
{
	stream_publish(arg, f, "flow-new");
}

static void stream_update(void *arg, struct flow *f)
{
	stream_publish(arg, f, "flow-update");
}

static void stream_end(void *arg, struct flow *f)
{
	stream_publish(arg, f, "flow-closed");
}

/* A new tick: a new budget of formatted events. */
static void stream_tick(void *arg, ng_time wall, ng_time mono)
{
	struct stream *s = arg;

	(void)wall;
	(void)mono;
	s->this_tick = 0;
}

/* "last_event_id" of /api/stats. */
static void stream_stats(void *arg, cJSON *doc)
{
	struct stream *s = arg;

	if (s)
		cJSON_AddNumberToObject(doc, "last_event_id", (double)events_last_id(s->env->events));
}

/* The end of the run: the ring itself belongs to the daemon. */
static int stream_close(void *arg)
{
	struct stream *s = arg;

	free(s->line.p);
	free(s);
	return 0;
}

const struct output_type stream_output = {
	.name = "stream",
	.open = stream_open,
	.sink = {.flow_new = stream_new, .flow_update = stream_update, .flow_end = stream_end},
	.tick = stream_tick,
	.stats = stream_stats,
	.close = stream_close,
};
