/* SPDX-License-Identifier: BSD-2-Clause */
/* history.h: the flow history store (state_dir/history.db): ended flows and per-minute snapshots, for look-back. */
#ifndef NG_HISTORY_H
#define NG_HISTORY_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct history;
struct engine;

/* The output row of output.c's table (--history-mb, default 256; 0 turns it off). */
extern const struct output_type history_output;

/*
 * The flows as they were at the latest snapshot at or before t: a new cJSON
 * array of flow objects (caller owns), in id order; *snap is the snapshot's
 * time and *run its run. NULL with one sentence in err when there is none.
 */
cJSON *history_at(struct history *h, ng_time t, ng_time *snap, int64_t *run, char *err, size_t errlen);

/*
 * Visit stored flows whose life overlaps [from, to] (NG_TIME_NONE: open),
 * oldest first_seen first, starting after the cursor (run, id, first; all 0:
 * the start). cb returns false to stop; it gets a flow object it may keep
 * (it then owns it) by returning true in *keep. Returns 0, -1 with err.
 */
typedef bool (*history_cb)(void *arg, cJSON *flow, int64_t run, uint64_t id, ng_time first, bool *keep);
int history_flows(struct history *h, ng_time from, ng_time to, int64_t crun, uint64_t cid, ng_time cfirst,
		  history_cb cb, void *arg, char *err, size_t errlen);

#endif
