/* SPDX-License-Identifier: BSD-2-Clause */
/* config.h: every option of netglobe, from one table, for the command line and the config file alike. */
#ifndef NG_CONFIG_H
#define NG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

/* A repeatable option's values. */
struct strlist {
	char **v;
	size_t n;
	bool from_cli;	/* the command line replaced the config file's values */
};

struct config {
	/* Capture */
	char *iface, *file, *filter;
	uint64_t snaplen, buffer_mb;
	bool promisc;
	bool dump;
	struct strlist local_nets, public_nets;
	/* Flow table */
	uint64_t max_flows, keep_ended;
	ng_time tcp_timeout, tcp_closed_timeout, udp_timeout;
	/* Enrichment */
	struct strlist geoip_city;
	char *geoip_asn;
	bool no_geoip, no_dns, no_names, no_process, no_signals;
	bool no_bpf;		/* --no-bpf: process attribution without BPF */
	ng_time dns_grace;
	uint64_t dns_max;
	char *home, *home_ip;
	/* Whitelist */
	char *state_dir;
	ng_time window, retention;
	struct strlist allow, blocklist;
	/* HTTP */
	struct strlist listen;
	char *web_root;
	bool realtime;
	double speed;
	uint64_t max_clients;
	uint64_t blocklist_max;	/* entries kept per blocklist file; 0: the default */
	/* Operation */
	char *user;
	char *on_alert;
	char *alert_on;		/* "high" (NULL: the default) or "anomalous" */
	ng_time alert_timeout;
	bool evidence;
	uint64_t evidence_mb;
	uint64_t history_mb;		/* --history-mb: the flow history's disk cap; 0 off */
	char *ipfix, *flow_log;
	char *flow_log_format;	/* "json" (NULL: the default) or "ecs" */
	char *alert_format;	/* "json" (NULL: the default) or "ecs": alerts.jsonl, --on-alert, syslog */
	char *alert_syslog;	/* "unix:PATH" or "udp:HOST:PORT"; NULL: no syslog */
	uint64_t community_id_seed;
	ng_time ipfix_active_timeout;
	int verbosity;		/* -q -1, default 0, -v +1 */
	char *config_file;
	bool list_interfaces;	/* -D: list the capture interfaces and exit */
	bool check_only;	/* -n: check the configuration and exit */
};

/* Fill defaults. */
void config_init(struct config *c);
void config_free(struct config *c);

/*
 * Parse argv (after a subcommand, if any). Options are also read from the
 * file named by --config (or /etc/netglobe.conf when it exists and
 * `default_file` is true); the command line overrides it. Returns 0 to run,
 * 1 when it printed help/version and the caller should exit 0, -1 on an
 * error (already described in err).
 */
int config_parse_args(struct config *c, int argc, char **argv, bool default_file, char *err, size_t errlen);

/* Read one config file ("name value" lines, # comments). 0 or -1 with "FILE:LINE: ..." in err. */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);

/* Write every option that differs from its default in config-file form (round-trips through config_load_file). */
void config_write(const struct config *c, FILE *out, bool all);

/* Usage text for --help. */
void config_usage(FILE *out);

/*
 * SIGHUP: read the config file the options came from again (--config FILE,
 * or /etc/netglobe.conf for the daemon, even if it was created since) and
 * compare it with what it said at start-up. Returns -1 with "FILE:LINE:
 * reason" in err when it no longer parses, else the number of options whose
 * lines changed, their names (comma-separated) in `changed`, and the file in
 * *path (NULL when no file is in use). It applies nothing: the caller says
 * what needs a restart.
 */
int config_reload_file(const char **path, char *changed, size_t changedlen, char *err, size_t errlen);

#endif
