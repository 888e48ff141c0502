/* SPDX-License-Identifier: BSD-2-Clause */
/* flowlog.h: --flow-log: every ended flow as one JSON line (the --dump schema, or ECS), rotated by size, reopened on SIGHUP. */
#ifndef NG_FLOWLOG_H
#define NG_FLOWLOG_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "output.h"
#include "util.h"

struct config;

#define FLOWLOG_DEFAULT_MAX_BYTES (100ULL << 20)
#define FLOWLOG_DEFAULT_KEEP 5

struct flowlog_options {
	const char *path;		/* FILE, or "-" for standard output (never rotated) */
	uint64_t max_bytes;		/* rotate before the file would pass this; 0: 100 MiB */
	unsigned keep;			/* rotated files kept, FILE.1 (newest) .. FILE.keep; 0: 5 */
	ng_time window;			/* the whitelist window, for the reason sentences */
	bool ecs;			/* lines are ECS documents (ecs.h), not the flow object */
};

struct flowlog;

/* Open (append, create mode 0640) and return the log, or NULL with one line in err. Freed by flowlog_close. */
struct flowlog *flowlog_open(const struct flowlog_options *o, char *err, size_t errlen);
/* flowlog_open for --flow-log of a configuration ("-" is refused with --dump, which owns standard output). */
struct flowlog *flowlog_open_config(const struct config *cfg, char *err, size_t errlen);
/* Write what is buffered and close. NULL is fine. */
void flowlog_close(struct flowlog *l);

/* Append one flow (buffered; rotates first when the line would take the file past its size). */
void flowlog_write(struct flowlog *l, const struct flow *f);
/* From the loop's tick: write what is buffered; retry opening a file that could not be reopened. */
void flowlog_tick(struct flowlog *l, ng_time wall);
void flowlog_flush(struct flowlog *l);
/* SIGHUP: close and open the path again, for logrotate's move-then-HUP. */
void flowlog_reopen(struct flowlog *l);

struct flowlog_stats {
	uint64_t lines, bytes;		/* written (or buffered to be) */
	uint64_t rotations;
	uint64_t errors;		/* failed writes and opens */
	uint64_t dropped;		/* lines lost to those */
};
void flowlog_get_stats(const struct flowlog *l, struct flowlog_stats *out);
/* Add the "flowlog_*" members of /api/stats "export" to o (zeros and a null file when l is NULL). */
void flowlog_stats_json(const struct flowlog *l, cJSON *o);

/* The row of the output table: --flow-log. */
extern const struct output_type flowlog_output;

#endif
