/* SPDX-License-Identifier: BSD-2-Clause */
/* main.c: netglobe's entry point: options, then one of dump, daemon, -D, history, reset-baseline or service. */
#include <cjson/cJSON.h>
#include <errno.h>
#include "platform.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "communityid.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "loop.h"
#include "output.h"
#include "setup.h"
#include "util.h"
#include "whitelist.h"

/* Packets read per turn of the --dump loop, and the outputs' tick. */
#define DUMP_BATCH 4096
#define DUMP_TICK (250 * 1000)

/* Where a --dump run's packets go. */
struct dump_run {
	struct engine *engine;
	int dlt;
};

static void dump_packet(void *arg, const struct capture_packet *p)
{
	struct dump_run *r = arg;

	engine_packet(r->engine, r->dlt, p);
}

/*
 * Read the capture until the end of the file or SIGINT/SIGTERM, ticking
 * the outputs about 4 times a second on the monotonic clock (a clock
 * stepped back must not stop the ticks). Live flows also expire on the wall
 * clock (engine_publish); a file's flows change only with its packets and
 * reach the outputs as they end. 0, or -1 with the capture's error in err.
 */
static int dump_read(struct dump_run *r, struct capture *c, struct outputs *outs, bool live, char *err,
		     size_t errlen)
{
	ng_time next_tick = time_mono();
	int n;

	loop_signals();
	while (!loop_stop) {
		ng_time mono;

		if (live) {
			struct pollfd pfd = {.fd = capture_fd(c), .events = POLLIN};

			if (platform_poll(&pfd, 1, capture_fd(c) >= 0 ? DUMP_TICK / 1000 : PLATFORM_CAPTURE_POLL_MS) < 0 &&
			    errno != EINTR) {
				snprintf(err, errlen, "poll on the capture: %s", strerror(errno));
				return -1;
			}
		}
		do {
			n = capture_dispatch(c, DUMP_BATCH, dump_packet, r, err, errlen);
		} while (live && n == DUMP_BATCH);
		if (n < 0)
			return -1;
		if (!live && n == 0)
			break;
		mono = time_mono();
		if (mono >= next_tick) {
			if (live)
				engine_publish(r->engine, time_now());
			outputs_tick(outs, time_now(), mono);
			next_tick = mono + DUMP_TICK;
		}
		if (loop_hup) {
			loop_hup = 0;
			outputs_reopen(outs);
		}
	}
	return 0;
}

/*
 * --dump: every flow as JSON Lines as it ends, the ones still active at the
 * end (of the file, or at SIGINT/SIGTERM), then a summary line (output/dump.c).
 * The outputs are the daemon's (output.c), less those that need it.
 */
static int run_dump(const struct config *cfg)
{
	struct engine_config ec;
	struct engine_parts parts;
	struct output_env env;
	struct outputs *outs;
	struct dump_run r;
	struct modules m;
	struct capture *c;
	char err[1024], rerr[1024] = "";
	bool live;
	int rc = 0;

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
	modules_engine_parts(&m, &parts);
	r.engine = engine_create(&ec, &parts);
	r.dlt = capture_datalink(c);
	if (m.geoip_desc[0])
		log_debug("GeoIP: %s", m.geoip_desc);

	memset(&env, 0, sizeof env);
	env.cfg = cfg;
	env.dump = true;
	env.live = live;
	env.engine = r.engine;
	env.m = &m;
	env.out = stdout;
	outs = outputs_open(&env, err, sizeof err);
	if (!outs) {
		log_errx("%s", err);
		rc = 1;
		goto done;
	}
	if (live)
		log_info("dumping flows from %s until interrupted", capture_source(c));
	if (dump_read(&r, c, outs, live, rerr, sizeof rerr) != 0) {
		log_errx("%s", rerr);
		env.error = rerr;
		rc = 1;
	}
	if (outputs_finish(outs, r.engine) != 0)
		rc = 1;
done:
	engine_destroy(r.engine);
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

/* The daemon as the system's service: a service has no console, so the log goes to STATE_DIR/netglobe.log. */
static int service_daemon(void *arg)
{
	const struct config *cfg = arg;
	char dir[4096], path[4200], err[1024];
	int fd;

	setup_state_dir(cfg, dir, sizeof dir);
	if (state_dir_check(dir, err, sizeof err) != 0) {
		log_errx("%s", err);
		return 1;
	}
	snprintf(path, sizeof path, "%s/netglobe.log", dir);
	/* The log writes to descriptor 2 (log.c), which a service may not even have: put the file there. */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_errx("cannot open the service log %s: %s", path, strerror(errno));
		return 1;
	}
	if (fd != STDERR_FILENO) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	return daemon_run(cfg);
}

/*
 * netglobe service install [OPTIONS] | uninstall | run [OPTIONS]: the
 * options are the daemon's, checked here at install time so a typo fails
 * now and not at the next boot; run is what the service manager starts.
 */
static int run_service(int argc, char **argv)
{
	const char *what = argc > 0 ? argv[0] : "";
	struct config cfg;
	char err[1024];
	int rc;

	if (strcmp(what, "uninstall") == 0 && argc > 1) {
		log_errx("service uninstall: takes no options ('%s'; the installed options go with the service)", argv[1]);
		return 2;
	}
	if (strcmp(what, "uninstall") == 0) {
		if (platform_service_uninstall(err, sizeof err) != 0) {
			log_errx("%s", err);
			return 1;
		}
		log_notice("service %s removed", PLATFORM_SERVICE_NAME);
		return 0;
	}
	if (strcmp(what, "install") != 0 && strcmp(what, "run") != 0) {
		log_errx("service: say install [OPTIONS] or uninstall%s%s%s (see netglobe --help)", *what ? ", not '" : "",
			 what, *what ? "'" : "");
		return 2;
	}
	config_init(&cfg);
	rc = config_parse_args(&cfg, argc - 1, argv + 1, true, err, sizeof err);
	if (rc != 0) {
		if (rc < 0)
			log_errx("service %s: %s", what, err);
		config_free(&cfg);
		return rc < 0 ? 2 : 0;
	}
	if (cfg.dump || cfg.list_interfaces || cfg.check_only) {
		log_errx("service %s: --dump, -D and --check end at once: a service takes the daemon's options", what);
		config_free(&cfg);
		return 2;
	}
	if (strcmp(what, "install") == 0) {
		rc = platform_service_install(argc - 1, argv + 1, err, sizeof err);
		if (rc == 0)
			log_notice("service %s installed: it starts at boot, or now with: sc start %s", PLATFORM_SERVICE_NAME,
				   PLATFORM_SERVICE_NAME);
	} else {
		log_init(NG_LOG_INFO + cfg.verbosity + (cfg.verbosity < 0 ? -1 : 0));
		communityid_set_seed((uint16_t)cfg.community_id_seed);
		rc = platform_service_run(service_daemon, &cfg, err, sizeof err);
	}
	if (rc < 0)
		log_errx("%s", err);
	config_free(&cfg);
	return rc < 0 ? 1 : rc;
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
	if (platform_init(err, sizeof err) != 0) {
		fprintf(stderr, "netglobe: %s\n", err);
		return 1;
	}
	if (argc > 1 && (strcmp(argv[1], "history") == 0 || strcmp(argv[1], "reset-baseline") == 0))
		return run_subcommand(argv[1], argc - 2, argv + 2);
	if (argc > 1 && strcmp(argv[1], "service") == 0)
		return run_service(argc - 2, argv + 2);
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
	communityid_set_seed((uint16_t)cfg.community_id_seed);
	if (cfg.list_interfaces) {
		/* -D: as tcpdump -D, the names and numbers -i takes. */
		if (capture_list_interfaces(stdout, err, sizeof err) != 0) {
			log_errx("%s", err);
			rc = 1;
		} else {
			rc = fflush(stdout) == 0 ? 0 : 1;
		}
	} else if (cfg.check_only) {
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
