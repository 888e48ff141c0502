/* SPDX-License-Identifier: BSD-2-Clause */
/* alerts.h: alerts for new anomalous or blocklisted remotes: alerts.jsonl, the SSE event, --on-alert CMD, syslog. */
#ifndef NG_ALERTS_H
#define NG_ALERTS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "output.h"
#include "util.h"

/* Defaults for the zero fields of struct alerts_options (docs/alerts.md). */
#define ALERTS_DEFAULT_TIMEOUT (10 * NG_USEC)
#define ALERTS_DEFAULT_RUNNING 4
#define ALERTS_DEFAULT_QUEUED 64
#define ALERTS_DEFAULT_DEDUP_PERIOD (3600 * NG_USEC)
#define ALERTS_DEFAULT_DEDUP_ENTRIES 65536
#define ALERTS_DEFAULT_PER_MINUTE 100
#define ALERTS_DEFAULT_FILE_BYTES (10 * 1024 * 1024)
#define ALERTS_DEFAULT_FILE_KEEP 5

struct alerts_options {
	const char *state_dir;		/* alerts.jsonl goes here; NULL: no file */
	const char *command;		/* --on-alert CMD (split once, never a shell); NULL: none */
	ng_time timeout;		/* SIGTERM a command still running after this; SIGKILL 2 s later */
	unsigned max_running;		/* commands running at once */
	unsigned max_queued;		/* alerts waiting for a free command slot */
	bool wait_for_slot;		/* a full queue waits for a slot instead of dropping (--dump of a file) */
	bool by_verdict;		/* --alert-on anomalous: alerts are a direction's bad verdict (the first rule) */
	ng_time dedup_period;		/* by_verdict: one alert per (remote, direction, verdict) per period;
					   else one per (remote, direction) per period (the whitelist's window); packet time */
	size_t dedup_entries;		/* bound on the remotes remembered for that */
	unsigned max_per_minute;	/* global cap per minute of packet time */
	uint64_t file_max_bytes;	/* rotate alerts.jsonl before it would grow past this */
	unsigned file_keep;		/* rotated files kept: alerts.jsonl.1 .. alerts.jsonl.N */
	bool ecs;			/* alerts.jsonl, the command and syslog get ECS documents (ecs.h) */
	const char *syslog;		/* --alert-syslog TARGET (syslog5424.h); NULL: none */
};

struct alerts_stats {
	uint64_t candidates;		/* alerts_raise calls (the engine's alerts) */
	uint64_t raised;		/* alerts written, published and handed to the command */
	uint64_t repeats;		/* same remote, direction and verdict within the period */
	uint64_t suppressed;		/* over the global cap */
	uint64_t commands_run, commands_killed, command_failures;
	uint64_t commands_dropped;	/* the queue was full (or the daemon stopped first) */
	uint64_t running, queued;	/* now */
	uint64_t write_errors;		/* lines alerts.jsonl did not take */
	uint64_t dedup_evicted;		/* remembered remotes pushed out by newer ones */
	uint64_t syslog_sent, syslog_dropped;	/* --alert-syslog messages */
	uint64_t last_id;
};

struct alerts;

/*
 * Set up alerts: parse the command into argv (NULL and one line in err for
 * an empty command or an unterminated quote), open state_dir/alerts.jsonl
 * for appending (mode 0600) and continue its alert ids. Free with
 * alerts_destroy.
 */
struct alerts *alerts_create(const struct alerts_options *o, char *err, size_t errlen);
/* Kill (SIGKILL) and reap commands still running, log what was counted, close the file. */
void alerts_destroy(struct alerts *a);

/*
 * The engine says direction `dir` of f started with an anomalous or
 * blocklisted verdict. Unless it repeats an alert for the same remote,
 * direction and verdict within the period, or the global cap is reached
 * (both counted), builds the alert (docs/alerts.md), appends it to
 * alerts.jsonl, queues it for the command and returns its JSON text (one
 * line, no newline; the caller frees it). Returns NULL when not raised.
 * `window` phrases the reason; `learning` says the whitelist is still learning.
 */
char *alerts_raise(struct alerts *a, const struct flow *f, enum flow_dir dir, ng_time window, bool learning);

/*
 * Housekeeping, called from the loop's tick with the monotonic clock
 * (time_mono()): feed command stdin, reap finished commands, kill those past
 * their timeout, start queued ones, log the cap summary.
 */
void alerts_tick(struct alerts *a, ng_time mono);
/* Tick until no command runs or waits, or max_wait passed (then alerts_destroy kills the rest). */
void alerts_drain(struct alerts *a, ng_time max_wait);

void alerts_get_stats(const struct alerts *a, struct alerts_stats *out);
/* The "alerts" object of /api/stats (caller owns it); a NULL `a` gives {"enabled": false, zeros}. */
cJSON *alerts_stats_json(const struct alerts *a);

/*
 * Split a command line into arguments the way the documentation says: words
 * separated by blanks, '...' literal, "..." literal but for \" and \\, a
 * backslash outside quotes takes the next character literally. Nothing else
 * is special ($, `, *, ;, | are plain characters). Returns a NULL-terminated
 * array (free with alerts_argv_free), or NULL with one line in err.
 */
char **alerts_argv_split(const char *cmd, char *err, size_t errlen);
void alerts_argv_free(char **argv);

/* The row of the output table: alerts.jsonl and --on-alert, each alert also on the event stream. */
extern const struct output_type alerts_output;

#endif
