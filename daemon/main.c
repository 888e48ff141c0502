/* SPDX-License-Identifier: BSD-2-Clause */
/* main.c: netglobe's entry point: options, then one of dump, daemon, history or reset-baseline. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts.h"
#include "capture.h"
#include "config.h"
#include "dns.h"
#include "engine.h"
#include "evidence.h"
#include "flowjson.h"
#include "flowlog.h"
#include "geoip.h"
#include "ipfix.h"
#include "local.h"
#include "log.h"
#include "loop.h"
#include "setup.h"
#include "whitelist.h"

/* State of a --dump run. */
struct dump {
	FILE *out;
	ng_time window;
	int dlt;
	struct engine *engine;
	struct whitelist *wl;
	struct alerts *alerts;		/* --on-alert, and alerts.jsonl with --state-dir */
	struct evidence *evidence;	/* only with --state-dir */
	struct ipfix *ipfix;		/* --ipfix */
	struct flowlog *flowlog;	/* --flow-log */
	struct flow **tail;
	size_t ntail;
	struct strbuf line;	/* reused for every flow */
};

/* Print one flow as a JSON line. */
static void dump_print(struct dump *d, const struct flow *f)
{
	d->line.len = 0;
	flowjson_append(f, d->window, &d->line);
	sb_putc(&d->line, '\n');
	fwrite(d->line.p, 1, d->line.len, d->out);
}

static void dump_flow_end(void *arg, struct flow *f)
{
	dump_print(arg, f);
}

/* An alert: to alerts.jsonl and --on-alert (never to standard output, which holds the flows). */
static void dump_alert(void *arg, struct flow *f, enum flow_dir dir)
{
	struct dump *d = arg;
	struct wl_learning l;

	whitelist_learning(d->wl, engine_now(d->engine), &l);
	free(alerts_raise(d->alerts, f, dir, d->window, l.learning));
}

/* A frame of an anomalous or blocklisted flow: keep it as evidence (only with --state-dir). */
static void dump_suspect(void *arg, struct flow *f, int dlt, const struct capture_packet *p)
{
	struct dump *d = arg;

	evidence_packet(d->evidence, f, dlt, p);
}

static void dump_packet(void *arg, const struct capture_packet *p)
{
	struct dump *d = arg;

	engine_packet(d->engine, d->dlt, p);
}

/* The final summary line of --dump. */
static void dump_summary(struct dump *d, struct modules *m, const char *error)
{
	struct engine_stats es;
	struct flow_table_stats fs;
	cJSON *root = cJSON_CreateObject(), *s = cJSON_AddObjectToObject(root, "summary"), *loc;
	char t[NG_TIMESTRLEN], *txt;

	engine_get_stats(d->engine, &es);
	flow_table_get_stats(engine_flows(d->engine), &fs);
	cJSON_AddNumberToObject(s, "packets", (double)es.packets);
	cJSON_AddNumberToObject(s, "bytes", (double)es.bytes);
	cJSON_AddNumberToObject(s, "ip_packets", (double)es.ip_packets);
	cJSON_AddNumberToObject(s, "not_ip", (double)es.not_ip);
	cJSON_AddNumberToObject(s, "malformed", (double)es.malformed);
	cJSON_AddNumberToObject(s, "fragments", (double)es.fragments);
	cJSON_AddNumberToObject(s, "flows", (double)fs.created);
	cJSON_AddNumberToObject(s, "evicted", (double)fs.evicted);
	cJSON_AddNumberToObject(s, "dns_messages", (double)es.dns_messages);
	cJSON_AddNumberToObject(s, "dns_unsolicited", (double)es.dns_unsolicited);
	cJSON_AddNumberToObject(s, "names_sni", (double)es.names_sni);
	cJSON_AddNumberToObject(s, "names_http", (double)es.names_http);
	cJSON_AddNumberToObject(s, "alerts", (double)es.alerts);
	if (es.first_packet != NG_TIME_NONE) {
		cJSON_AddStringToObject(s, "first_packet", time_format(es.first_packet, t, sizeof t));
		cJSON_AddStringToObject(s, "last_packet", time_format(es.last_packet, t, sizeof t));
	} else {
		cJSON_AddNullToObject(s, "first_packet");
		cJSON_AddNullToObject(s, "last_packet");
	}
	loc = cJSON_AddArrayToObject(s, "local");
	local_set_to_json(m->local, loc);
	cJSON_AddStringToObject(s, "local_source", m->local_source);
	if (error)
		cJSON_AddStringToObject(s, "error", error);
	else
		cJSON_AddNullToObject(s, "error");
	txt = cJSON_PrintUnformatted(root);
	fputs(txt, d->out);
	fputc('\n', d->out);
	free(txt);
	cJSON_Delete(root);
}

/* Read a live capture until SIGINT/SIGTERM, expiring flows on the wall clock. */
static int dump_live(struct dump *d, struct capture *c, char *err, size_t errlen)
{
	ng_time next_tick = time_mono();	/* monotonic: a clock stepped back must not stop the ticks */

	loop_signals();
	while (!loop_stop) {
		struct pollfd pfd = {.fd = capture_fd(c), .events = POLLIN};
		int n;

		if (poll(&pfd, 1, 250) < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll on the capture: %s", strerror(errno));
			return -1;
		}
		do {
			n = capture_dispatch(c, 4096, dump_packet, d, err, errlen);
		} while (n == 4096);
		if (n < 0)
			return -1;
		if (time_mono() >= next_tick) {
			engine_publish(d->engine, time_now());
			alerts_tick(d->alerts, time_mono());
			evidence_flush(d->evidence);
			ipfix_tick(d->ipfix, time_now());
			flowlog_tick(d->flowlog, time_now());
			fflush(d->out);
			next_tick = time_mono() + 250000;
		}
		if (loop_hup) {
			loop_hup = 0;
			flowlog_reopen(d->flowlog);
		}
	}
	return 0;
}

/*
 * --dump: every flow as JSON Lines as it ends, the ones still active at the
 * end (of the file, or at SIGINT for live capture), then a summary line.
 */
static int run_dump(const struct config *cfg)
{
	struct engine_config ec;
	struct engine_sink sink;
	struct modules m;
	struct dump d;
	struct capture *c;
	char err[1024], rerr[1024] = "";
	bool live;
	int rc = 0, n = 0;

	c = loop_open_capture(cfg, err, sizeof err);
	if (!c) {
		log_errx("%s", err);
		return 1;
	}
	live = capture_is_live(c);
	if (modules_open(cfg, live, &m, err, sizeof err) != 0) {
		log_errx("%s", err);
		capture_close(c);
		return 1;
	}
	modules_engine_config(cfg, &m, live, &ec);

	memset(&d, 0, sizeof d);
	d.out = stdout;
	d.window = cfg->window;
	d.dlt = capture_datalink(c);
	d.engine = engine_create(&ec, m.local, m.dns, m.geoip, m.wl, m.proc);
	if (m.geoip_desc[0])
		log_debug("GeoIP: %s", m.geoip_desc);
	d.wl = m.wl;
	if (alerts_setup(cfg, true, live, &d.alerts, err, sizeof err) != 0 ||
	    evidence_setup(cfg, true, &d.evidence, err, sizeof err) != 0) {
		log_errx("%s", err);
		rc = 1;
		goto done;
	}
	if ((cfg->ipfix && !(d.ipfix = ipfix_open_config(cfg, err, sizeof err))) ||
	    (cfg->flow_log && !(d.flowlog = flowlog_open_config(cfg, err, sizeof err)))) {
		log_errx("%s", err);
		rc = 1;
		goto done;
	}
	memset(&sink, 0, sizeof sink);
	sink.flow_end = dump_flow_end;
	sink.alert = d.alerts ? dump_alert : NULL;
	sink.suspect_packet = d.evidence ? dump_suspect : NULL;
	sink.arg = &d;
	engine_add_sink(d.engine, &sink);
	ipfix_attach(d.ipfix, d.engine, false);	/* flows leave at their end only */
	flowlog_attach(d.flowlog, d.engine);
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);

	if (live) {
		log_info("dumping flows from %s until interrupted", capture_source(c));
		n = dump_live(&d, c, rerr, sizeof rerr);
	} else {
		while ((n = capture_dispatch(c, 8192, dump_packet, &d, rerr, sizeof rerr)) > 0)
			alerts_tick(d.alerts, time_mono());
	}
	if (n < 0) {
		log_errx("%s", rerr);
		rc = 1;
	}
	engine_publish(d.engine, time_now());	/* the last process answers */
	engine_sync_whitelist(d.engine);
	d.tail = flow_table_active_by_id(engine_flows(d.engine), &d.ntail);
	for (size_t i = 0; i < d.ntail; i++) {
		dump_print(&d, d.tail[i]);
		flowlog_write(d.flowlog, d.tail[i]);
		ipfix_flow_end(d.ipfix, d.tail[i]);	/* still active: flowEndReason "forced end" */
	}
	free(d.tail);
	free(d.line.p);
	dump_summary(&d, &m, n < 0 ? rerr : NULL);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_warn("cannot write the dump to standard output");
		rc = 1;
	}
	alerts_drain(d.alerts, INT64_MAX / 4);	/* every command finishes or is killed at its timeout */
done:
	ipfix_close(d.ipfix);
	flowlog_close(d.flowlog);
	alerts_destroy(d.alerts);
	evidence_destroy(d.evidence);
	engine_destroy(d.engine);
	modules_close(&m);
	capture_close(c);
	return rc;
}

/* Parse "--name value" or "--name=value" for the small subcommands; returns the value or NULL. */
static const char *sub_opt(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

/*
 * netglobe history [--since T] [--verdict V] [--format json|csv] [--state-dir DIR]
 * netglobe reset-baseline [--state-dir DIR]
 * T is a time (RFC 3339, or Unix seconds) or a duration back from now ("24h").
 */
static int run_subcommand(const char *cmd, int argc, char **argv)
{
	struct config cfg;
	const char *format = "json", *v;
	char dir[4096], err[1024];
	ng_time since = NG_TIME_NONE;
	int verdict = 0, rc;

	config_init(&cfg);
	for (int i = 0; i < argc; i++) {
		if ((v = sub_opt(argc, argv, &i, "--state-dir"))) {
			free(cfg.state_dir);
			cfg.state_dir = xstrdup(v);
		} else if (strcmp(cmd, "history") == 0 && (v = sub_opt(argc, argv, &i, "--since"))) {
			ng_time d;

			if (duration_parse(v, &d) == 0) {
				since = time_now() - d;
			} else if (time_parse(v, &since) != 0) {
				log_errx("history: --since takes a time (2026-11-20T08:00:00Z) or a duration back (24h), not '%s'", v);
				goto usage;
			}
		} else if (strcmp(cmd, "history") == 0 && (v = sub_opt(argc, argv, &i, "--verdict"))) {
			verdict = wl_verdict_parse(v);
			if (verdict <= 0) {
				log_errx("history: --verdict takes normal, anomalous, blocklisted or local, not '%s'", v);
				goto usage;
			}
		} else if (strcmp(cmd, "history") == 0 && (v = sub_opt(argc, argv, &i, "--format"))) {
			if (strcmp(v, "json") != 0 && strcmp(v, "csv") != 0) {
				log_errx("history: --format takes json or csv, not '%s'", v);
				goto usage;
			}
			format = v;
		} else {
			log_errx("%s: unknown argument '%s' (see netglobe --help)", cmd, argv[i]);
			goto usage;
		}
	}
	setup_state_dir(&cfg, dir, sizeof dir);
	if (strcmp(cmd, "history") == 0)
		rc = whitelist_history_cli(dir, since, verdict, format, stdout, err, sizeof err);
	else
		rc = whitelist_reset_cli(dir, stdout, err, sizeof err);
	config_free(&cfg);
	if (rc != 0) {
		log_errx("%s", err);
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
usage:
	config_free(&cfg);
	return 2;
}

/* True when the arguments ask for --dump (checked before parsing, to decide about the default config file). */
static bool has_dump_flag(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--dump") == 0 || strncmp(argv[i], "--dump=", 7) == 0)
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	struct config cfg;
	char err[1024];
	int rc;

	log_init(NG_LOG_INFO);
	if (argc > 1 && (strcmp(argv[1], "history") == 0 || strcmp(argv[1], "reset-baseline") == 0))
		return run_subcommand(argv[1], argc - 2, argv + 2);
	config_init(&cfg);
	/* The daemon reads /etc/netglobe.conf when present; --dump stays a function of its arguments alone. */
	rc = config_parse_args(&cfg, argc - 1, argv + 1, !has_dump_flag(argc, argv), err, sizeof err);
	if (rc < 0) {
		log_errx("%s", err);
		config_free(&cfg);
		return 2;
	}
	if (rc > 0) {
		config_free(&cfg);
		return 0;
	}
	log_init(NG_LOG_INFO + cfg.verbosity + (cfg.verbosity < 0 ? -1 : 0));
	if (cfg.check_only) {
		/* -n: the command line and the config file parse; nothing is opened (as ntpd -n). */
		log_notice("configuration OK");
		rc = 0;
	} else if (cfg.dump) {
		rc = run_dump(&cfg);
	} else {
		rc = daemon_run(&cfg);
	}
	config_free(&cfg);
	return rc;
}
