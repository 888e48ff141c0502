/* SPDX-License-Identifier: BSD-2-Clause */
/* setup.h: open the enrichment and whitelist modules from the configuration, shared by every mode. */
#ifndef NG_SETUP_H
#define NG_SETUP_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "addr.h"
#include "config.h"
#include "engine.h"

struct modules {
	struct local_set *local;
	char local_source[64];		/* "interfaces", "--local-net", "inferred", "none" */
	struct dns_cache *dns;
	struct geoip *geoip;
	char geoip_desc[1024];		/* what is open, for the log */
	struct whitelist *wl;
	struct proc_table *proc;
	ng_cidr *public_nets;
	size_t npublic;
};

/*
 * Open everything per cfg. `live` adds the interfaces' addresses to the local
 * set and opens process attribution; a file without --local-net gets its local
 * host inferred by reading it once in advance. 0, or -1 with one line in err.
 */
int modules_open(const struct config *cfg, bool live, struct modules *m, char *err, size_t errlen);
void modules_close(struct modules *m);

/* An engine configuration from cfg and the opened modules. */
void modules_engine_config(const struct config *cfg, const struct modules *m, bool live, struct engine_config *ec);
/* What the engine runs: the opened modules, the enrichments by slot (enrich.h). */
void modules_engine_parts(const struct modules *m, struct engine_parts *parts);
/* Each open enrichment's counters, as an object named after it in o (/api/stats). */
void modules_enrich_stats(const struct modules *m, cJSON *o);

/* The state directory: --state-dir, else platform_state_dir_default (/var/lib/netglobe as root, %ProgramData%\netglobe as a Windows administrator, ...). */
const char *setup_state_dir(const struct config *cfg, char *buf, size_t len);

#endif
