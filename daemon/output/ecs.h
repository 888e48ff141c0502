/* SPDX-License-Identifier: BSD-2-Clause */
/* ecs.h: flows and alerts as Elastic Common Schema documents (--flow-log-format ecs, --alert-format ecs). */
#ifndef NG_ECS_H
#define NG_ECS_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "util.h"
#include "whitelist.h"

/* The ECS version the documents declare (ecs.version); their fields are in ECS's published field list. */
#define ECS_VERSION "8.11.0"

/* What makes an ECS document an alert rather than a flow record. */
struct ecs_alert {
	uint64_t id;			/* the alert's id (docs/alerts.md) */
	ng_time time;			/* packet time of the direction's first packet */
	enum flow_dir dir;		/* the direction it is about */
	const struct wl_verdict_info *verdict;	/* that direction's verdict */
	bool learning;
	uint32_t repeats;
};

/*
 * Append one ECS document (one line of JSON, no newline) for a flow, or for
 * an alert about it when `alert` is not NULL. `window` phrases the reasons.
 * Fields netglobe knows nothing of are left out (ECS has no nulls);
 * netglobe's own (verdicts, attention, signals, reasons) are under netglobe.*.
 */
void ecs_append(const struct flow *f, ng_time window, const struct ecs_alert *alert, struct strbuf *sb);

#endif
