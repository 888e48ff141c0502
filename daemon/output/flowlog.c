/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowlog.c: the JSON Lines flow log (--flow-log), for Vector, Fluent Bit or Filebeat to ship.
 *
 * DESIGN. Each ended flow becomes one line of flowjson_append (the writer
 * of --dump and /flows, so the schema is the same; or, with
 * --flow-log-format ecs, of ecs_append), appended to a buffer that is written with one
 * write(2) per loop tick or when it fills, so the capture never waits on a
 * slow disk more than once per 256 KiB. The file is opened O_APPEND and
 * rotated by size in the logrotate naming (FILE -> FILE.1 -> ... FILE.N,
 * the oldest dropped), before a line that would take it past the limit, so
 * no file ends in half a line. SIGHUP reopens the path, which is what
 * logrotate's default (move, then signal) needs. A failing write or open is
 * logged once per outage; the lines it loses are counted.
 */
#include "flowlog.h"

#include <errno.h>
#include "platform.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ecs.h"
#include "output.h"
#include "flowjson.h"
#include "log.h"

#define FLOWLOG_BUF (256 * 1024)
#define FLOWLOG_RETRY (10 * NG_USEC)
/* After a rotation failed, the next attempt waits this long (monotonic). */
#define FLOWLOG_ROTATE_RETRY (60 * NG_USEC)

struct flowlog {
	char *path;
	bool to_stdout;
	int fd;				/* -1: closed after a failed reopen */
	uint64_t max_bytes;
	unsigned keep;
	ng_time window;
	bool ecs;
	char *buf;
	size_t len;
	uint64_t buf_lines;
	uint64_t size;			/* bytes in the file, buffered ones included */
	struct strbuf line;		/* one flow's JSON, reused */
	bool failing;			/* an outage was logged */
	ng_time next_retry;
	ng_time rotate_after;		/* monotonic: no rotation before (a failed one backs off) */
	struct flowlog_stats st;
};

/* Log the first failure of an outage. */
static void note_failure(struct flowlog *l, const char *what)
{
	l->st.errors++;
	if (l->failing)
		return;
	l->failing = true;
	log_warn("flow log %s: %s (lines are dropped until it works again)", l->path, what);
}

/* Open the path for appending; 0, or -1 with errno set. */
static int open_file(struct flowlog *l)
{
	struct stat sb;

	l->fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (l->fd < 0)
		return -1;
	l->size = fstat(l->fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	return 0;
}

void flowlog_flush(struct flowlog *l)
{
	size_t off = 0;

	if (!l || l->len == 0)
		return;
	while (off < l->len && l->fd >= 0) {
		ssize_t n = write(l->fd, l->buf + off, l->len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			note_failure(l, "cannot write");
			break;
		}
		off += (size_t)n;
	}
	if (off < l->len) {
		l->st.dropped += l->buf_lines;
	} else if (l->failing) {
		l->failing = false;
		log_info("flow log %s: writing again", l->path);
	}
	l->len = 0;
	l->buf_lines = 0;
}

/* Shift FILE.1..FILE.keep-1 up by one, move FILE to FILE.1 and open a new FILE. */
static void rotate(struct flowlog *l)
{
	size_t plen = strlen(l->path) + 16;
	char *from = xmalloc(plen), *to = xmalloc(plen);

	flowlog_flush(l);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	for (unsigned i = l->keep; i > 1; i--) {
		snprintf(from, plen, "%s.%u", l->path, i - 1);
		snprintf(to, plen, "%s.%u", l->path, i);
		if (rename(from, to) != 0 && errno != ENOENT)
			log_warn("flow log: cannot rename %s to %s", from, to);
	}
	snprintf(to, plen, "%s.1", l->path);
	if (rename(l->path, to) != 0 && errno != ENOENT) {
		/* Cannot rotate (a directory we may not write): keep appending, and try again in a while. */
		log_warn("flow log: cannot rename %s to %s; growing past --flow-log's size until it can", l->path, to);
		l->rotate_after = time_mono() + FLOWLOG_ROTATE_RETRY;
	}
	free(from);
	free(to);
	l->st.rotations++;
	if (open_file(l) != 0) {
		note_failure(l, "cannot open after rotating");
		l->next_retry = time_mono() + FLOWLOG_RETRY;
	}
}

/* Append n bytes of one line (its newline included) to the buffer, rotating and flushing as needed. */
static void append_line(struct flowlog *l, const char *s, size_t n)
{
	if (!l->to_stdout && l->max_bytes && l->size > 0 && l->size + n > l->max_bytes && time_mono() >= l->rotate_after)
		rotate(l);
	if (l->len + n > FLOWLOG_BUF)
		flowlog_flush(l);
	l->st.lines++;
	l->st.bytes += n;
	if (n > FLOWLOG_BUF) {	/* a huge line goes out on its own */
		l->size += n;
		if (l->fd < 0 || write(l->fd, s, n) != (ssize_t)n) {
			l->st.dropped++;
			note_failure(l, "cannot write");
		}
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf_lines++;
	l->size += n;
}

void flowlog_write(struct flowlog *l, const struct flow *f)
{
	if (!l)
		return;
	if (l->fd < 0) {
		l->st.dropped++;
		return;
	}
	l->line.len = 0;
	if (l->ecs)
		ecs_append(f, l->window, NULL, &l->line);
	else
		flowjson_append(f, l->window, &l->line);
	sb_putc(&l->line, '\n');
	append_line(l, l->line.p, l->line.len);
}

void flowlog_reopen(struct flowlog *l)
{
	if (!l || l->to_stdout)
		return;
	flowlog_flush(l);
	if (l->fd >= 0)
		close(l->fd);
	if (open_file(l) != 0) {
		note_failure(l, "cannot reopen");
		l->next_retry = time_mono() + FLOWLOG_RETRY;
		return;
	}
	log_debug("flow log %s reopened", l->path);
}

void flowlog_tick(struct flowlog *l, ng_time wall)
{
	(void)wall;
	if (!l)
		return;
	if (l->fd < 0 && !l->to_stdout && time_mono() >= l->next_retry) {
		if (open_file(l) == 0) {
			l->failing = false;
			log_info("flow log %s: open again", l->path);
		} else {
			l->next_retry = time_mono() + FLOWLOG_RETRY;
		}
	}
	flowlog_flush(l);
}

struct flowlog *flowlog_open(const struct flowlog_options *o, char *err, size_t errlen)
{
	struct flowlog *l;

	if (!o->path || !o->path[0]) {
		snprintf(err, errlen, "no flow log file given (use --flow-log FILE, or - for standard output)");
		return NULL;
	}
	l = xcalloc(1, sizeof *l);
	l->path = xstrdup(o->path);
	l->to_stdout = strcmp(o->path, "-") == 0;
	l->max_bytes = o->max_bytes ? o->max_bytes : FLOWLOG_DEFAULT_MAX_BYTES;
	l->keep = o->keep ? o->keep : FLOWLOG_DEFAULT_KEEP;
	l->window = o->window;
	l->ecs = o->ecs;
	if (l->to_stdout) {
		l->fd = STDOUT_FILENO;
	} else if (open_file(l) != 0) {
		snprintf(err, errlen, "cannot open flow log %s: %s (check --flow-log: its directory must exist and be writable)",
			 o->path, strerror(errno));
		free(l->path);
		free(l);
		return NULL;
	}
	l->buf = xmalloc(FLOWLOG_BUF);
	return l;
}

struct flowlog *flowlog_open_config(const struct config *cfg, char *err, size_t errlen)
{
	struct flowlog_options o;

	if (cfg->dump && cfg->flow_log && strcmp(cfg->flow_log, "-") == 0) {
		snprintf(err, errlen, "--flow-log - would mix with --dump on standard output (give --flow-log a FILE)");
		return NULL;
	}
	memset(&o, 0, sizeof o);
	o.path = cfg->flow_log;
	o.window = cfg->window;
	o.ecs = cfg->flow_log_format && strcmp(cfg->flow_log_format, "ecs") == 0;
	return flowlog_open(&o, err, errlen);
}

void flowlog_close(struct flowlog *l)
{
	if (!l)
		return;
	flowlog_flush(l);
	if (l->fd >= 0 && !l->to_stdout)
		close(l->fd);
	free(l->buf);
	free(l->line.p);
	free(l->path);
	free(l);
}

void flowlog_get_stats(const struct flowlog *l, struct flowlog_stats *out)
{
	*out = l->st;
}

void flowlog_stats_json(const struct flowlog *l, cJSON *o)
{
	struct flowlog_stats s;

	memset(&s, 0, sizeof s);
	if (l) {
		s = l->st;
		cJSON_AddStringToObject(o, "flowlog_file", l->path);
	} else {
		cJSON_AddNullToObject(o, "flowlog_file");
	}
	cJSON_AddNumberToObject(o, "flowlog_lines", (double)s.lines);
	cJSON_AddNumberToObject(o, "flowlog_bytes", (double)s.bytes);
	cJSON_AddNumberToObject(o, "flowlog_rotations", (double)s.rotations);
	cJSON_AddNumberToObject(o, "flowlog_errors", (double)s.errors);
	cJSON_AddNumberToObject(o, "flowlog_dropped", (double)s.dropped);
}

/* The output's open: --flow-log FILE. */
static void *flowlog_open_env(const struct output_env *env, char *err, size_t errlen)
{
	if (!env->cfg->flow_log)
		return NULL;
	return flowlog_open_config(env->cfg, err, errlen);
}

/* A flow ended, or is still open when the run ends. */
static void flowlog_sink_end(void *arg, struct flow *f)
{
	flowlog_write(arg, f);
}

static void flowlog_tick_cb(void *arg, ng_time wall, ng_time mono)
{
	(void)mono;
	flowlog_tick(arg, wall);
}

/* The "flowlog_*" members of /api/stats "export" (the object is shared with other exporters). */
static void flowlog_stats_cb(void *arg, cJSON *doc)
{
	cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "export");

	if (!e)
		e = cJSON_AddObjectToObject(doc, "export");
	flowlog_stats_json(arg, e);
}

static void flowlog_reopen_cb(void *arg)
{
	flowlog_reopen(arg);
}

static int flowlog_close_cb(void *arg)
{
	flowlog_close(arg);
	return 0;
}

const struct output_type flowlog_output = {
	.name = "flowlog",
	.open = flowlog_open_env,
	.sink = {.flow_end = flowlog_sink_end},
	.flow_at_end = flowlog_sink_end,
	.tick = flowlog_tick_cb,
	.stats = flowlog_stats_cb,
	.reopen = flowlog_reopen_cb,
	.close = flowlog_close_cb,
};
