/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * loop.c: the daemon's one event loop.
 *
 * DESIGN. One thread polls the capture descriptor and libmicrohttpd's
 * descriptors. Captured packets go through the engine in batches (so HTTP
 * never waits long), and a tick every 250 ms (monotonic clock) publishes what
 * changed: flow events into the ring, a stats event once a second, then wakes
 * the SSE streams. Nothing is shared between threads, so nothing is locked
 * (Redis's ae + serverCron, ntpd's main loop). A replayed file is read as
 * fast as the loop allows, or paced by its packet times with --realtime or
 * --speed; afterwards the daemon keeps serving what it found.
 *
 * Signal handlers only set flags; the loop acts on them: SIGINT/SIGTERM
 * flush the whitelist and exit 0, SIGHUP reloads the allow and block lists.
 */
#include "loop.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include "platform.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "dns.h"
#include "engine.h"
#include "events.h"
#include "geoip.h"
#include "home.h"
#include "http.h"
#include "local.h"
#include "log.h"
#include "output.h"
#include "privs.h"
#include "proc.h"
#include "setup.h"
#include "whitelist.h"

#define TICK_MS 250
#define STATS_EVERY NG_USEC
/* Packets handled per loop turn before HTTP gets a turn. */
#define BATCH_PACKETS 4096
/*
 * ...and at most this long: a flood of new flows costs ~10 us a packet, so a
 * batch could hold HTTP off for 40 ms or more (several times that on a loaded
 * machine). Packets are taken in slices, the clock read between slices.
 */
#define TURN_BUDGET_US 5000
#define SLICE_PACKETS 256
#define MAX_POLLFDS (1 + HTTP_MAX_LISTEN)	/* the capture and every listener: none is left out */

volatile sig_atomic_t loop_stop, loop_hup;

struct daemon {
	const struct config *cfg;
	struct modules m;
	struct capture *cap;
	struct engine *engine;
	struct event_ring *events;
	struct output_env env;		/* what the outputs see of the daemon */
	struct outputs *outs;		/* the event stream, alerts, evidence, exports (output.c) */
	struct http_server *http;
	struct http_context hctx;
	struct home home;
	bool live;
	int dlt;
	ng_time started;
	/* Replay of a file. */
	bool replay_done;
	double speed;			/* 0: as fast as possible */
	bool held;			/* a paced packet waits for its time */
	struct capture_packet next;
	ng_time t0_packet, t0_mono;	/* replay pacing: first packet's time and when it was played */
	char replay_error[1024];
	/* Rates. */
	uint64_t rate_packets;
	ng_time rate_mono;
	double pps;
	ng_time next_tick, next_stats;
	bool capture_failed;		/* live capture broke: exit non-zero */
	ng_time next_reload_check, next_local_refresh;	/* monotonic */
};

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		loop_hup = 1;
	else
		loop_stop = 1;
}

/* Install the flag-setting handlers (platform_signals says how on each system). */
void loop_signals(void)
{
	platform_signals(on_signal);
}

/* The learning state as JSON, judged on the packet clock (the wall clock before any packet). */
static cJSON *learning_json(struct daemon *d)
{
	struct wl_learning l;
	cJSON *o = cJSON_CreateObject();
	ng_time now = engine_now(d->engine);
	char t[NG_TIMESTRLEN];

	whitelist_learning(d->m.wl, now == NG_TIME_NONE ? time_now() : now, &l);
	cJSON_AddBoolToObject(o, "learning", l.learning);
	if (l.since != NG_TIME_NONE)
		cJSON_AddStringToObject(o, "since", time_format(l.since, t, sizeof t));
	else
		cJSON_AddNullToObject(o, "since");
	cJSON_AddNumberToObject(o, "elapsed_s", (double)(l.elapsed / NG_USEC));
	cJSON_AddNumberToObject(o, "window_s", (double)(l.window / NG_USEC));
	cJSON_AddNumberToObject(o, "progress", round(l.progress * 1000.0) / 1000.0);
	return o;
}

/* ctx->describe: the daemon-level parts of GET /flows. */
static void describe_cb(void *arg, cJSON *doc)
{
	struct daemon *d = arg;
	cJSON *home = cJSON_AddObjectToObject(doc, "home"), *cap, *loc;

	cJSON_AddNumberToObject(home, "lat", round(d->home.lat * 10000.0) / 10000.0);
	cJSON_AddNumberToObject(home, "lon", round(d->home.lon * 10000.0) / 10000.0);
	cJSON_AddStringToObject(home, "source", d->home.source);
	cJSON_AddItemToObject(doc, "learning", learning_json(d));
	cap = cJSON_AddObjectToObject(doc, "capture");
	cJSON_AddStringToObject(cap, "source", capture_source(d->cap));
	cJSON_AddBoolToObject(cap, "live", d->live);
	loc = cJSON_AddArrayToObject(cap, "local");
	local_set_to_json(d->m.local, loc);
	cJSON_AddStringToObject(cap, "local_source", d->m.local_source);
}

/* ctx->stats: GET /api/stats and the stats event. */
static void stats_cb(void *arg, cJSON *o)
{
	struct daemon *d = arg;
	struct engine_stats es;
	struct flow_table_stats fs;
	struct capture_stats cs;
	cJSON *v, *r;
	char t[NG_TIMESTRLEN];

	engine_get_stats(d->engine, &es);
	flow_table_get_stats(engine_flows(d->engine), &fs);
	capture_get_stats(d->cap, &cs);
	cJSON_AddStringToObject(o, "generated", time_format(time_now(), t, sizeof t));
	cJSON_AddNumberToObject(o, "packets", (double)es.packets);
	cJSON_AddNumberToObject(o, "bytes", (double)es.bytes);
	cJSON_AddNumberToObject(o, "drops", (double)(cs.dropped + cs.if_dropped));
	cJSON_AddNumberToObject(o, "malformed", (double)es.malformed);
	cJSON_AddNumberToObject(o, "not_ip", (double)es.not_ip);
	cJSON_AddNumberToObject(o, "fragments", (double)es.fragments);
	cJSON_AddNumberToObject(o, "flows_active", (double)fs.active);
	cJSON_AddNumberToObject(o, "flows_total", (double)fs.created);
	cJSON_AddNumberToObject(o, "flows_kept_ended", (double)fs.ended_kept);
	cJSON_AddNumberToObject(o, "evictions", (double)fs.evicted);
	cJSON_AddNumberToObject(o, "flow_memory_bytes", (double)fs.bytes_used);
	cJSON_AddNumberToObject(o, "clients", (double)http_sse_clients(d->http));
	cJSON_AddNumberToObject(o, "uptime_s", (double)((time_now() - d->started) / NG_USEC));
	cJSON_AddStringToObject(o, "source", capture_source(d->cap));
	cJSON_AddBoolToObject(o, "live", d->live);
	cJSON_AddNumberToObject(o, "packets_per_sec", round(d->pps * 10.0) / 10.0);
	outputs_stats(d->outs, o);	/* "alerts", "evidence", "export", "last_event_id" */
	v = cJSON_AddObjectToObject(o, "verdicts");
	cJSON_AddNumberToObject(v, "normal", (double)es.held_by_verdict[WL_NORMAL]);
	cJSON_AddNumberToObject(v, "anomalous", (double)es.held_by_verdict[WL_ANOMALOUS]);
	cJSON_AddNumberToObject(v, "blocklisted", (double)es.held_by_verdict[WL_BLOCKLISTED]);
	cJSON_AddNumberToObject(v, "local", (double)es.held_by_verdict[WL_LOCAL]);
	v = cJSON_AddObjectToObject(o, "attention");
	cJSON_AddNumberToObject(v, "none", (double)es.held_by_attention[NG_ATTN_NONE]);
	cJSON_AddNumberToObject(v, "low", (double)es.held_by_attention[NG_ATTN_LOW]);
	cJSON_AddNumberToObject(v, "high", (double)es.held_by_attention[NG_ATTN_HIGH]);
	v = cJSON_AddObjectToObject(o, "unanswered");
	cJSON_AddNumberToObject(v, "flows", (double)es.unanswered_flows);
	cJSON_AddNumberToObject(v, "addresses", (double)es.unanswered_addresses);
	{
		struct detect_stats ds;

		engine_detect_stats(d->engine, &ds);
		v = cJSON_AddObjectToObject(o, "signals");
		cJSON_AddNumberToObject(v, "beacon", (double)ds.beacon);
		cJSON_AddNumberToObject(v, "dns_tunnel", (double)ds.dns_tunnel);
		cJSON_AddNumberToObject(v, "scan", (double)ds.scan);
		cJSON_AddNumberToObject(v, "large_upload", (double)ds.large_upload);
		cJSON_AddNumberToObject(v, "no_dns", (double)ds.no_dns);
		cJSON_AddNumberToObject(v, "long_connection", (double)ds.long_connection);
		cJSON_AddNumberToObject(v, "new_program", (double)ds.new_program);
		cJSON_AddNumberToObject(v, "exe_changed", (double)ds.exe_changed);
		cJSON_AddNumberToObject(v, "memory_bytes", (double)ds.memory_bytes);
	}
	cJSON_AddItemToObject(o, "learning", learning_json(d));
	if (!d->live) {
		r = cJSON_AddObjectToObject(o, "replay");
		cJSON_AddBoolToObject(r, "done", d->replay_done);
		cJSON_AddNumberToObject(r, "speed", d->speed);
		if (d->replay_error[0])
			cJSON_AddStringToObject(r, "error", d->replay_error);
		else
			cJSON_AddNullToObject(r, "error");
	}
	{
		struct whitelist_stats ws;

		whitelist_get_stats(d->m.wl, &ws);
		r = cJSON_AddObjectToObject(o, "whitelist");
		cJSON_AddNumberToObject(r, "entries", (double)ws.entries);
		cJSON_AddNumberToObject(r, "pending", (double)ws.pending);
		/* Rows known to be committed: a crash test checks the database keeps at least these. */
		cJSON_AddNumberToObject(r, "stored", (double)(ws.entries - ws.pending));
		cJSON_AddNumberToObject(r, "flushes", (double)ws.flushes);
		cJSON_AddNumberToObject(r, "flush_errors", (double)ws.flush_errors);
		cJSON_AddNumberToObject(r, "allow_rules", (double)ws.allow_rules);
		cJSON_AddNumberToObject(r, "block_entries", (double)ws.block_entries);
		cJSON_AddNumberToObject(r, "services", (double)ws.services);
		cJSON_AddNumberToObject(r, "explained_by_domain", (double)ws.explained_domain);
		cJSON_AddNumberToObject(r, "explained_by_network", (double)ws.explained_asn);
	}
	if (d->m.dns) {
		struct dns_stats ds;

		dns_get_stats(d->m.dns, &ds);
		r = cJSON_AddObjectToObject(o, "dns");
		cJSON_AddNumberToObject(r, "messages", (double)ds.messages);
		cJSON_AddNumberToObject(r, "answers", (double)ds.answers);
		cJSON_AddNumberToObject(r, "entries", (double)ds.entries);
		cJSON_AddNumberToObject(r, "unsolicited", (double)es.dns_unsolicited);
	}
	modules_enrich_stats(&d->m, o);	/* "geoip", "process" */
}

static void handle_packet(void *arg, const struct capture_packet *p)
{
	struct daemon *d = arg;

	engine_packet(d->engine, d->dlt, p);
}

/* Note the end of a replay once. */
static void replay_finished(struct daemon *d)
{
	struct engine_stats es;
	struct flow_table_stats fs;

	d->replay_done = true;
	engine_sync_whitelist(d->engine);	/* the flows stay active: their counts reach the store now */
	engine_get_stats(d->engine, &es);
	flow_table_get_stats(engine_flows(d->engine), &fs);
	log_info("replay of %s finished: %llu packets, %llu flows; serving until stopped", capture_source(d->cap),
		 (unsigned long long)es.packets, (unsigned long long)fs.created);
}

/*
 * Advance a file replay. Returns the poll timeout it needs in ms: 0 while
 * there is more to read now, the wait until the next paced packet, or -1.
 */
static int replay_step(struct daemon *d, ng_time mono)
{
	int n;

	if (d->replay_done)
		return -1;
	if (d->speed <= 0) {
		ng_time t0 = time_mono();
		int total = 0;

		do {
			n = capture_dispatch(d->cap, SLICE_PACKETS, handle_packet, d, d->replay_error,
					     sizeof d->replay_error);
			total += n;
		} while (n == SLICE_PACKETS && total < BATCH_PACKETS && time_mono() - t0 < TURN_BUDGET_US);
		if (n < 0)
			log_errx("%s", d->replay_error);
		if (capture_done(d->cap))
			replay_finished(d);
		return d->replay_done ? -1 : 0;
	}
	ng_time t0 = time_mono();

	for (int i = 0; i < BATCH_PACKETS; i++) {
		ng_time due;

		if (i % SLICE_PACKETS == SLICE_PACKETS - 1 && time_mono() - t0 > TURN_BUDGET_US)
			return 0;
		if (!d->held) {
			n = capture_next(d->cap, &d->next, d->replay_error, sizeof d->replay_error);
			if (n <= 0) {
				if (n < 0)
					log_errx("%s", d->replay_error);
				replay_finished(d);
				return -1;
			}
			d->held = true;
			if (d->t0_packet == NG_TIME_NONE) {
				d->t0_packet = d->next.ts;
				d->t0_mono = mono;
			}
		}
		due = d->t0_mono + (ng_time)((double)(d->next.ts - d->t0_packet) / d->speed);
		if (due > mono)
			return (int)NG_MIN((due - mono) / 1000 + 1, TICK_MS);
		engine_packet(d->engine, d->dlt, &d->next);
		d->held = false;
	}
	return 0;
}

/* Read what the live capture has, a few batches at most per turn. */
static void live_step(struct daemon *d)
{
	char err[1024];

	ng_time t0 = time_mono();

	for (int i = 0; i < 8 * BATCH_PACKETS / SLICE_PACKETS; i++) {
		int n = capture_dispatch(d->cap, SLICE_PACKETS, handle_packet, d, err, sizeof err);

		if (n < 0) {
			/* The interface is gone or broken: exit non-zero, so the service manager restarts netglobe. */
			log_errx("%s; stopping so that the service manager can restart netglobe", err);
			d->capture_failed = true;
			loop_stop = 1;
			return;
		}
		if (n < SLICE_PACKETS || time_mono() - t0 >= TURN_BUDGET_US)
			return;
	}
}

/*
 * The tick: publish changes, stats once a second, reloads, drop reports.
 * Scheduled on the monotonic clock (a wall clock stepped back must not stop
 * it); the wall time goes only where a time of day is meant.
 */
static void tick(struct daemon *d, ng_time mono)
{
	struct engine_stats es;
	struct capture_stats cs;
	ng_time wall = time_now();

	engine_publish(d->engine, wall);
	outputs_tick(d->outs, wall, mono);
	if (d->live && capture_get_stats(d->cap, &cs) == 0)
		log_capture_drops(wall, cs.dropped, cs.if_dropped);	/* at most once a minute, when they grew */
	if (mono >= d->next_stats) {
		cJSON *o = cJSON_CreateObject();
		char *txt;

		engine_get_stats(d->engine, &es);
		if (d->rate_mono)
			d->pps = (double)(es.packets - d->rate_packets) * NG_USEC / (double)(mono - d->rate_mono);
		d->rate_packets = es.packets;
		d->rate_mono = mono;
		stats_cb(d, o);
		txt = cJSON_PrintUnformatted(o);
		events_publish(d->events, "stats", http_sse_listening(d->http) ? txt : NULL);
		free(txt);
		cJSON_Delete(o);
		d->next_stats = mono + STATS_EVERY;
	}
	if (mono >= d->next_reload_check) {
		whitelist_reload(d->m.wl, false);	/* only stats the files; reloads what changed */
		d->next_reload_check = mono + 5 * NG_USEC;
	}
	/* Live: addresses come and go (DHCP, IPv6 privacy addresses); they stay local once seen. */
	if (d->live && mono >= d->next_local_refresh) {
		char err[256];

		if (local_set_add_interfaces(d->m.local, err, sizeof err) != 0)
			log_warnx("%s", err);
		d->next_local_refresh = mono + 60 * NG_USEC;
	}
	http_notify(d->http);
}

struct capture *loop_open_capture(const struct config *cfg, char *err, size_t errlen)
{
	struct capture_options co;
	char ifname[256];

	memset(&co, 0, sizeof co);
	co.filter = cfg->filter;
	co.snaplen = (int)cfg->snaplen;
	co.buffer_mb = (int)cfg->buffer_mb;
	co.promisc = cfg->promisc;
	if (cfg->file) {
		co.file = cfg->file;
		return capture_open(&co, err, errlen);
	}
	if (cfg->iface) {
		if (capture_resolve_interface(cfg->iface, ifname, sizeof ifname, err, errlen) != 0)
			return NULL;
		co.iface = ifname;
		if (strcmp(ifname, cfg->iface) != 0)
			log_info("capturing on %s (-i %s)", ifname, cfg->iface);
	} else {
		if (capture_default_interface(ifname, sizeof ifname, err, errlen) != 0)
			return NULL;
		co.iface = ifname;
		log_info("capturing on %s, the first interface that is up with an address (choose with -i IFACE)", ifname);
	}
	return capture_open(&co, err, errlen);
}

int daemon_run(const struct config *cfg)
{
	static const char *const default_listen[] = {"127.0.0.1:8080", "[::1]:8080"};
	struct daemon *d = xcalloc(1, sizeof *d);
	struct http_options ho;
	struct privs_options po;
	struct engine_config ec;
	struct engine_parts parts;
	char err[1024], statebuf[4096];
	int rc = 1;

	d->cfg = cfg;
	d->started = time_now();
	d->t0_packet = NG_TIME_NONE;
	loop_signals();
	if (privs_check_user(cfg->user, err, sizeof err) != 0) {
		log_errx("%s", err);
		goto out;
	}

	/* Privileged things first: the capture and the listening sockets. */
	d->cap = loop_open_capture(cfg, err, sizeof err);
	if (!d->cap) {
		log_errx("%s", err);
		goto out;
	}
	memset(&ho, 0, sizeof ho);
	if (cfg->listen.n) {
		ho.listen = (const char **)cfg->listen.v;
		ho.nlisten = cfg->listen.n;
	} else {
		ho.listen = (const char **)default_listen;
		ho.nlisten = NG_ARRAY_LEN(default_listen);
	}
	ho.web_root = cfg->web_root;
	ho.state_dir = setup_state_dir(cfg, statebuf, sizeof statebuf);
	ho.max_clients = cfg->max_clients;
	/* The listening sockets before anything slow, so a port in use fails at once. */
	d->http = http_start(&ho, &d->hctx, err, sizeof err);
	if (!d->http) {
		log_errx("%s", err);
		goto out;
	}
	d->live = capture_is_live(d->cap);
	d->dlt = capture_datalink(d->cap);
	d->speed = cfg->speed > 0 ? cfg->speed : (cfg->realtime ? 1.0 : 0.0);
	if (modules_open(cfg, d->live, &d->m, err, sizeof err) != 0) {
		log_errx("%s", err);
		goto out;
	}
	if (home_resolve(cfg->home, cfg->home_ip, d->m.geoip, &d->home, err, sizeof err) != 0) {
		log_errx("%s", err);
		goto out;
	}
	modules_engine_config(cfg, &d->m, d->live, &ec);
	modules_engine_parts(&d->m, &parts);
	d->engine = engine_create(&ec, &parts);
	d->events = events_create(0, 0);
	d->hctx.engine = d->engine;
	d->hctx.wl = d->m.wl;
	d->hctx.events = d->events;
	d->hctx.window = cfg->window;
	d->hctx.describe = describe_cb;
	d->hctx.stats = stats_cb;
	d->hctx.arg = d;

	d->env.cfg = cfg;
	d->env.live = d->live;
	d->env.engine = d->engine;
	d->env.m = &d->m;
	d->env.events = d->events;
	d->env.http = d->http;
	d->env.hctx = &d->hctx;
	d->outs = outputs_open(&d->env, err, sizeof err);
	if (!d->outs) {
		log_errx("%s", err);
		goto out;
	}
	/* Everything privileged is open: drop to --user, keeping only the capabilities still needed (privs.c). */
	memset(&po, 0, sizeof po);
	po.user = cfg->user;
	po.capture = d->live;
	po.process = d->m.proc != NULL;
	po.bpf = proc_table_bpf(d->m.proc);
	po.state_dir = ho.state_dir;
	if (privs_drop(&po, err, sizeof err) != 0) {
		log_errx("%s", err);
		goto out;
	}

	log_info("%s; local: %s (%s); home: %.4f,%.4f (%s)%s%s", capture_source(d->cap),
		 local_set_count(d->m.local) ? local_set_describe(d->m.local, err, sizeof err) : "none",
		 d->m.local_source, d->home.lat, d->home.lon, d->home.source, d->m.geoip_desc[0] ? "; GeoIP: " : "",
		 d->m.geoip_desc);
	http_announce(d->http);

	d->next_tick = time_mono();
	d->next_local_refresh = time_mono() + 60 * NG_USEC;
	while (!loop_stop) {
		struct pollfd fds[MAX_POLLFDS];
		int nfds = 0, timeout, t, procfd = proc_table_fd(d->m.proc), procidx = -1;
		ng_time mono = time_mono();

		if (d->live && capture_fd(d->cap) >= 0) {
			fds[nfds].fd = capture_fd(d->cap);
			fds[nfds].events = POLLIN;
			nfds++;
		}
		if (procfd >= 0) {
			/* The kernel's records of socket owners (BPF), read as they come so the ring never fills. */
			procidx = nfds;
			fds[nfds].fd = procfd;
			fds[nfds].events = POLLIN;
			nfds++;
		}
		nfds += http_pollfds(d->http, fds + nfds, MAX_POLLFDS - nfds);
		timeout = (int)NG_MAX(0, (d->next_tick - mono) / 1000);
		if (!d->live) {
			t = replay_step(d, mono);
			if (t >= 0 && t < timeout)
				timeout = t;
		}
		t = http_timeout_ms(d->http);
		if (t >= 0 && t < timeout)
			timeout = t;
		if (d->live && capture_fd(d->cap) < 0 && timeout > PLATFORM_CAPTURE_POLL_MS)
			timeout = PLATFORM_CAPTURE_POLL_MS;	/* nothing to wait on: look every few ms */
		if (platform_poll(fds, (nfds_t)nfds, timeout) < 0 && errno != EINTR) {
			log_warn("poll");
			break;
		}
		if (procidx >= 0 && (fds[procidx].revents & POLLIN))
			proc_table_drain(d->m.proc);
		if (d->live)
			live_step(d);
		engine_flush(d->engine);	/* HTTP reads the flows next: no packet may be half-way */
		http_run(d->http);
		mono = time_mono();
		if (mono >= d->next_tick) {
			tick(d, mono);
			d->next_tick = mono + TICK_MS * 1000;
		}
		if (loop_hup) {
			const char *cfgpath;
			char changed[512];
			int nchanged;

			loop_hup = 0;
			log_info("SIGHUP: reloading the allow and block lists");
			whitelist_reload(d->m.wl, true);
			/* The config file is checked again; options other than the lists' contents need a restart. */
			nchanged = config_reload_file(&cfgpath, changed, sizeof changed, err, sizeof err);
			if (nchanged < 0)
				log_warnx("SIGHUP: %s; still running with the configuration read at start-up", err);
			else if (nchanged > 0)
				log_warnx("SIGHUP: %s changed %s since start-up: restart netglobe to apply (only the contents "
					  "of the allow and block files reload live)", cfgpath, changed);
			outputs_reopen(d->outs);
		}
	}
	log_info("stopping: committing the whitelist");
	rc = d->capture_failed ? 1 : 0;
out:
	/* Still-active flows leave with the exports too ("forced end"), as --dump prints them. */
	if (outputs_finish(d->outs, d->engine) != 0)
		rc = 1;
	http_stop(d->http);
	engine_destroy(d->engine);
	events_destroy(d->events);
	modules_close(&d->m);
	capture_close(d->cap);
	free(d);
	return rc;
}
