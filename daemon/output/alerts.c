/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * alerts.c: turns the engine's "this remote is new or blocklisted" into an
 * alert a person can act on: a line in alerts.jsonl, the SSE `alert` event,
 * and optionally a run of the operator's --on-alert command.
 *
 * DESIGN. Everything runs on the daemon's one thread. An alert costs one
 * cJSON document, one writev() to alerts.jsonl (O_APPEND, the whole line at
 * once, so readers never see half a line) and, with a command, one
 * posix_spawn. Flood protection comes before any of that: a fixed-size,
 * set-associative table remembers the last alert per (remote, direction,
 * verdict), so a remote that keeps opening flows is counted as a repeat, not
 * re-alerted, for an hour of packet time; the table never grows (the oldest
 * way of a full bucket is replaced). A global cap per minute of packet time
 * bounds what a flood of distinct remotes can do; the excess is counted and
 * summarised in one log line per minute. Packet time makes a replayed
 * capture give the same alerts as it did live.
 *
 * The command is split into argv once, at start-up, from the configuration
 * (never a shell, never a string built from packet data). Each alert runs it
 * in its own process group with the alert JSON on stdin through a pipe whose
 * write end is non-blocking (an alert is far smaller than the 64 KiB pipe
 * buffer; a remainder waits for the next tick), stdout on /dev/null, stderr
 * shared with the daemon, no other descriptor inherited. The tick reaps with
 * waitpid(pid, WNOHANG) per child (no SIGCHLD handler needed), sends SIGTERM
 * to the group at the timeout and SIGKILL two seconds later. At most
 * max_running commands run at once; later alerts wait in a small FIFO, and
 * overflow is counted (or, for --dump of a file, waited out).
 *
 * With --alert-syslog each alert is also one RFC 5424 message on a
 * non-blocking datagram socket (syslog5424.c): it is sent after the
 * repeat and cap rules, so syslog sees exactly the alerts alerts.jsonl
 * holds. --alert-format ecs writes the file, the command's stdin and the
 * syslog message as ECS documents (ecs.c); the event stream keeps the
 * alert object the page reads.
 */
#include "alerts.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "platform.h"

#include "config.h"
#include "communityid.h"
#include "detect.h"
#include "ecs.h"
#include "engine.h"
#include "events.h"
#include "flowjson.h"
#include "geoip.h"
#include "log.h"
#include "proc.h"
#include "setup.h"
#include "output.h"
#include "syslog5424.h"
#include "whitelist.h"


#define DEDUP_WAYS 8
#define KILL_GRACE (2 * NG_USEC)
#define CAP_WINDOW (60 * NG_USEC)
#define FAIL_LOG_EVERY (60 * NG_USEC)
#define TAIL_READ 65536
#define ALERTS_FILE "alerts.jsonl"
#define ENV_VARS 4
#define ENV_LEN 96

/* The last alert raised for one (remote, direction, verdict). */
struct dedup_entry {
	ng_addr remote;
	ng_time last;		/* packet time of that alert */
	uint32_t repeats;	/* repeats counted since */
	uint8_t dir, verdict, used;
};

/* An alert on its way to the command. */
struct alert_job {
	char *text;		/* JSON and a newline; owned */
	size_t len;
	uint64_t id;
	char env[ENV_VARS][ENV_LEN];	/* NETGLOBE_ALERT_*=..., numbers and fixed words only */
};

/* A running command. */
struct alert_run {
	intptr_t pid;		/* the child (platform_spawn); 0: free slot */
	int fd;			/* write end of its stdin, -1 once closed */
	char *text;		/* what is still to write: text[off..len) */
	size_t off, len;
	uint64_t id;
	ng_time deadline;	/* monotonic: SIGTERM at, then SIGKILL at deadline + KILL_GRACE */
	bool term_sent, kill_sent;
};

struct alerts {
	struct alerts_options o;
	/* alerts.jsonl */
	char *path;
	int fd;
	uint64_t size;
	bool write_failing, rotate_failing;
	/* --on-alert */
	char **argv;
	struct alert_run *runs;
	unsigned nrunning;
	struct alert_job *queue;	/* ring of o.max_queued */
	unsigned qhead, qlen;
	ng_time last_fail_log;
	uint64_t fails_unlogged, drops_unlogged;
	ng_time last_drop_log;
	/* rate limiting */
	struct dedup_entry *dedup;
	size_t nbuckets;
	ng_time win_start;		/* packet time the cap's minute began */
	unsigned win_count;
	uint64_t win_suppressed;	/* suppressed since the last summary line */
	ng_time win_supp_mono, win_supp_first;
	uint64_t next_id;
	struct alerts_stats st;
	const struct output_env *env;	/* the run, when opened as an output */
	struct syslog5424 *syslog;	/* --alert-syslog; NULL: none */
	struct strbuf ecs;		/* one alert's ECS document, reused */
};

static void cap_summary(struct alerts *a);
static void command_pump(struct alerts *a, ng_time mono);
static void runs_poll(struct alerts *a, ng_time mono);

/* Append one byte to a growing argument. */
static void arg_put(char **s, size_t *len, size_t *cap, char c)
{
	if (*len + 2 > *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*s = xrealloc(*s, *cap);
	}
	(*s)[(*len)++] = c;
	(*s)[*len] = '\0';
}

char **alerts_argv_split(const char *cmd, char *err, size_t errlen)
{
	char **argv = NULL, *cur = NULL;
	size_t argc = 0, len = 0, cap = 0;
	bool in_word = false;
	const char *p = cmd;

	if (!cmd)
		cmd = p = "";
	for (;;) {
		char c = *p;

		if (c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (in_word) {
				argv = xrealloc(argv, (argc + 2) * sizeof *argv);
				argv[argc++] = cur ? cur : xstrdup("");
				argv[argc] = NULL;
				cur = NULL;
				len = cap = 0;
				in_word = false;
			}
			if (c == '\0')
				break;
			p++;
			continue;
		}
		in_word = true;
		if (c == '\'') {
			const char *end = strchr(p + 1, '\'');

			if (!end) {
				snprintf(err, errlen, "bad --on-alert command: unterminated ' (quote the argument "
					 "'like this', or escape a lone quote with \\')");
				goto fail;
			}
			for (p++; p < end; p++)
				arg_put(&cur, &len, &cap, *p);
			if (!cur)
				cur = xstrdup("");
			p = end + 1;
		} else if (c == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				arg_put(&cur, &len, &cap, *p);
			}
			if (*p != '"') {
				snprintf(err, errlen, "bad --on-alert command: unterminated \" (close the quote)");
				goto fail;
			}
			if (!cur)
				cur = xstrdup("");
			p++;
		} else if (c == '\\') {
			if (p[1] == '\0') {
				snprintf(err, errlen, "bad --on-alert command: it ends with a lone backslash");
				goto fail;
			}
			arg_put(&cur, &len, &cap, p[1]);
			p += 2;
		} else {
			arg_put(&cur, &len, &cap, c);
			p++;
		}
	}
	if (argc == 0) {
		snprintf(err, errlen, "bad --on-alert command: it is empty (give a program and its arguments)");
		goto fail;
	}
	return argv;
fail:
	free(cur);
	alerts_argv_free(argv);
	return NULL;
}

void alerts_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

/* The id of the last alert in a JSON Lines file (0 when none): its last complete line. */
static uint64_t last_id_in(const char *path)
{
	char buf[TAIL_READ + 1];
	uint64_t id = 0;
	struct stat sb;
	ssize_t n;
	off_t at;
	char why[256];
	int fd = ng_open_checked(path, O_RDONLY, 0, NG_OPEN_NOFOLLOW | NG_OPEN_OWNED, why, sizeof why);

	if (fd < 0)
		return 0;
	if (fstat(fd, &sb) != 0 || sb.st_size <= 0) {
		close(fd);
		return 0;
	}
	at = sb.st_size > TAIL_READ ? sb.st_size - TAIL_READ : 0;
	n = pread(fd, buf, TAIL_READ, at);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* Walk lines from the end; the first one that parses with an id wins. */
	while (n > 0) {
		char *nl, *line;
		cJSON *o, *v;

		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if (n == 0)
			break;
		nl = memrchr(buf, '\n', (size_t)n);
		line = nl ? nl + 1 : buf;
		o = cJSON_Parse(line);
		v = o ? cJSON_GetObjectItemCaseSensitive(o, "id") : NULL;
		if (o && !v)	/* an ECS document (--alert-format ecs) */
			v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "netglobe"), "alert_id");
		if (cJSON_IsNumber(v) && v->valuedouble >= 1)
			id = (uint64_t)v->valuedouble;
		cJSON_Delete(o);
		if (id || !nl)
			break;
		n = nl - buf;
		buf[n] = '\0';
	}
	return id;
}

struct alerts *alerts_create(const struct alerts_options *o, char *err, size_t errlen)
{
	struct alerts *a = xcalloc(1, sizeof *a);
	char why[256];
	struct stat sb;
	size_t n;

	a->o = *o;
	a->fd = -1;
	if (!a->o.timeout)
		a->o.timeout = ALERTS_DEFAULT_TIMEOUT;
	if (!a->o.max_running)
		a->o.max_running = ALERTS_DEFAULT_RUNNING;
	if (!a->o.max_queued)
		a->o.max_queued = ALERTS_DEFAULT_QUEUED;
	if (!a->o.dedup_period)
		a->o.dedup_period = ALERTS_DEFAULT_DEDUP_PERIOD;
	if (!a->o.dedup_entries)
		a->o.dedup_entries = ALERTS_DEFAULT_DEDUP_ENTRIES;
	if (!a->o.max_per_minute)
		a->o.max_per_minute = ALERTS_DEFAULT_PER_MINUTE;
	if (!a->o.file_max_bytes)
		a->o.file_max_bytes = ALERTS_DEFAULT_FILE_BYTES;
	if (!a->o.file_keep)
		a->o.file_keep = ALERTS_DEFAULT_FILE_KEEP;
	a->o.state_dir = NULL;
	a->o.command = NULL;
	a->o.syslog = NULL;
	a->win_start = NG_TIME_NONE;
	if (o->syslog) {
		a->syslog = syslog5424_open(o->syslog, err, errlen);
		if (!a->syslog)
			goto fail;
		syslog5424_may_wait(a->syslog, o->wait_for_slot);
	}

	for (n = DEDUP_WAYS; n < a->o.dedup_entries; n *= 2)
		;
	a->nbuckets = n / DEDUP_WAYS;
	a->dedup = xcalloc(a->nbuckets * DEDUP_WAYS, sizeof *a->dedup);

	if (o->command) {
		a->argv = alerts_argv_split(o->command, err, errlen);
		if (!a->argv)
			goto fail;
		a->runs = xcalloc(a->o.max_running, sizeof *a->runs);
		a->queue = xcalloc(a->o.max_queued, sizeof *a->queue);
	}
	if (o->state_dir) {
		n = strlen(o->state_dir) + sizeof "/" ALERTS_FILE;
		a->path = xmalloc(n);
		snprintf(a->path, n, "%s/%s", o->state_dir, ALERTS_FILE);
		a->fd = ng_open_checked(a->path, O_WRONLY | O_APPEND | O_CREAT, 0600, NG_OPEN_NOFOLLOW | NG_OPEN_OWNED,
					why, sizeof why);
		if (a->fd < 0) {
			snprintf(err, errlen, "cannot open %s: %s", a->path, why);
			goto fail;
		}
		if (fstat(a->fd, &sb) == 0)
			a->size = (uint64_t)sb.st_size;
		a->next_id = last_id_in(a->path);
		if (!a->next_id) {
			char old[PATH_MAX];

			snprintf(old, sizeof old, "%s.1", a->path);
			a->next_id = last_id_in(old);
		}
	}
	a->next_id++;
	return a;
fail:
	alerts_destroy(a);
	return NULL;
}

/*
 * The output's open: the daemon writes state_dir/alerts.jsonl; --dump writes
 * it only with an explicit --state-dir; --on-alert CMD in both (a --dump of
 * a file waits for a free command slot rather than drop).
 */
static void *alerts_open_env(const struct output_env *env, char *err, size_t errlen)
{
	const struct config *cfg = env->cfg;
	struct alerts_options o;
	struct alerts *a;
	char statebuf[4096];

	memset(&o, 0, sizeof o);
	if (!env->dump || cfg->state_dir)
		o.state_dir = setup_state_dir(cfg, statebuf, sizeof statebuf);
	o.command = cfg->on_alert;
	o.syslog = cfg->alert_syslog;
	o.ecs = cfg->alert_format && strcmp(cfg->alert_format, "ecs") == 0;
	if (!o.state_dir && !o.command && !o.syslog)
		return NULL;
	o.timeout = cfg->alert_timeout;
	o.wait_for_slot = env->dump && !env->live;
	o.by_verdict = cfg->alert_on && strcmp(cfg->alert_on, "anomalous") == 0;
	if (!o.by_verdict)
		o.dedup_period = cfg->window;	/* once per remote and direction per window */
	a = alerts_create(&o, err, errlen);
	if (!a)
		return NULL;
	a->env = env;
	if (a->syslog)
		log_info("alerts: to syslog %s (RFC 5424%s)", o.syslog, o.ecs ? ", ECS documents" : "");
	if (o.command)
		log_info("alerts: %s%s; running --on-alert %s (timeout %.3g s, %u at once)",
			 o.state_dir ? "appending to " : "no alerts file (--dump without --state-dir)",
			 o.state_dir ? a->path : "", a->argv[0], (double)a->o.timeout / NG_USEC, a->o.max_running);
	else
		log_debug("alerts: appending to %s", a->path);
	return a;
}

void alerts_destroy(struct alerts *a)
{
	if (!a)
		return;
	runs_poll(a, time_mono());
	for (unsigned i = 0; a->runs && i < a->o.max_running; i++) {
		struct alert_run *r = &a->runs[i];
		char how[96];

		if (!r->pid)
			continue;
		platform_child_kill(r->pid, true);
		(void)platform_child_wait(r->pid, true, how, sizeof how);
		a->st.commands_killed++;
		if (r->fd >= 0)
			close(r->fd);
		free(r->text);
		log_warnx("alerts: --on-alert command for alert %llu killed: the daemon is stopping",
			  (unsigned long long)r->id);
	}
	if (a->qlen) {
		log_warnx("alerts: %u alerts were still waiting for the --on-alert command when it stopped "
			  "(not run; they are in the alerts file, if any)", a->qlen);
		a->st.commands_dropped += a->qlen;
	}
	for (unsigned i = 0; i < a->qlen; i++)
		free(a->queue[(a->qhead + i) % a->o.max_queued].text);
	cap_summary(a);
	if (a->fd >= 0)
		close(a->fd);
	syslog5424_close(a->syslog);
	free(a->ecs.p);
	free(a->path);
	alerts_argv_free(a->argv);
	free(a->runs);
	free(a->queue);
	free(a->dedup);
	free(a);
}

/*
 * Look up the remembered alert for (remote, dir, verdict). Returns the
 * entry, with *found saying whether it is that key; otherwise the entry is
 * the slot to reuse (a free way, else the oldest of the bucket).
 */
static struct dedup_entry *dedup_slot(struct alerts *a, const ng_addr *remote, uint8_t dir, uint8_t verdict,
				      bool *found)
{
	struct {
		ng_addr remote;
		uint8_t dir, verdict;
	} k;
	struct dedup_entry *b, *victim = NULL;

	memset(&k, 0, sizeof k);
	k.remote = *remote;
	k.dir = dir;
	k.verdict = verdict;
	b = &a->dedup[(ng_hash64(&k, sizeof k, 0x616c657274ULL) & (a->nbuckets - 1)) * DEDUP_WAYS];
	for (int i = 0; i < DEDUP_WAYS; i++) {
		struct dedup_entry *e = &b[i];

		if (!e->used) {
			if (!victim || victim->used)
				victim = e;
			continue;
		}
		if (e->dir == dir && e->verdict == verdict && addr_equal(&e->remote, remote)) {
			*found = true;
			return e;
		}
		if (!victim || (victim->used && e->last < victim->last))
			victim = e;
	}
	*found = false;
	return victim;
}

/* Log how many alerts the global cap held back since the last such line. */
static void cap_summary(struct alerts *a)
{
	char t[NG_TIMESTRLEN];

	if (!a->win_suppressed)
		return;
	log_warnx("alerts: %llu alerts over the limit of %u per minute were counted, not raised (since %s)",
		  (unsigned long long)a->win_suppressed, a->o.max_per_minute,
		  time_format(a->win_supp_first, t, sizeof t));
	a->win_suppressed = 0;
}

/* Add a string member, or null. */
static void add_str(cJSON *o, const char *k, const char *s)
{
	if (s)
		cJSON_AddStringToObject(o, k, s);
	else
		cJSON_AddNullToObject(o, k);
}

/* The documented alert object (docs/alerts.md); the caller owns it. */
/* "attention" and "signals" as in the flow object (docs/api.md): what raised the alert, in words. */
static void add_attention(cJSON *o, const struct flow *f, ng_time window)
{
	cJSON_AddStringToObject(o, "attention", attention_name((enum ng_attention)f->attention));
	cJSON_AddItemToObject(o, "signals", flowjson_signals(f, window));
}

static cJSON *alert_object(const struct flow *f, enum flow_dir dir, ng_time window, bool learning, uint64_t id,
			   uint32_t repeats, ng_time t)
{
	const struct wl_verdict_info *v = flow_verdict(f, dir);
	const struct geo_info *g = f->geo;
	cJSON *o = cJSON_CreateObject(), *x;
	char a[NG_ADDRSTRLEN], ts[NG_TIMESTRLEN], reason[320], pbuf[16], cid[COMMUNITYID_LEN];

	cJSON_AddNumberToObject(o, "id", (double)id);
	cJSON_AddStringToObject(o, "time", time_format(t, ts, sizeof ts));
	cJSON_AddNumberToObject(o, "flow_id", (double)f->id);
	cJSON_AddStringToObject(o, "community_id", communityid_flow(f, false, cid, sizeof cid));
	cJSON_AddStringToObject(o, "direction", dir == FLOW_SENT ? "sent" : "received");
	add_str(o, "verdict", wl_verdict_name((enum wl_verdict)v->verdict));
	cJSON_AddStringToObject(o, "reason", wl_reason_format(v, window, reason, sizeof reason));
	cJSON_AddStringToObject(o, "remote_ip", addr_format(flow_remote_ip(f), a, sizeof a));
	cJSON_AddNumberToObject(o, "remote_port", flow_remote_port(f));
	add_str(o, "remote_domain", flow_domain(f));
	add_str(o, "remote_domain_source", flowjson_domain_source_name(f->domain_source));
	cJSON_AddStringToObject(o, "proto", flowjson_proto_name(f->key.proto, pbuf, sizeof pbuf));
	cJSON_AddStringToObject(o, "local_ip", addr_format(flow_local_ip(f), a, sizeof a));
	cJSON_AddNumberToObject(o, "local_port", flow_local_port(f));
	cJSON_AddStringToObject(o, "initiator", f->initiator_local ? "local" : "remote");
	if (f->proc) {
		x = cJSON_AddObjectToObject(o, "process");
		cJSON_AddNumberToObject(x, "pid", f->proc->pid);
		add_str(x, "name", f->proc->name);
		add_str(x, "exe", f->proc->exe);
		add_str(x, "user", f->proc->user);
	} else {
		cJSON_AddNullToObject(o, "process");
	}
	if (g && (g->country[0] || g->city || g->asn || g->as_org || g->has_location)) {
		x = cJSON_AddObjectToObject(o, "geo");
		add_str(x, "country", g->country[0] ? g->country : NULL);
		add_str(x, "country_name", g->country_name);
		add_str(x, "region", g->region);
		add_str(x, "city", g->city);
		if (g->has_location) {
			cJSON_AddNumberToObject(x, "lat", g->lat);
			cJSON_AddNumberToObject(x, "lon", g->lon);
		} else {
			cJSON_AddNullToObject(x, "lat");
			cJSON_AddNullToObject(x, "lon");
		}
		if (g->asn)
			cJSON_AddNumberToObject(x, "asn", g->asn);
		else
			cJSON_AddNullToObject(x, "asn");
		add_str(x, "as_org", g->as_org);
	} else {
		cJSON_AddNullToObject(o, "geo");
	}
	if (v->why == WL_WHY_BLOCKLISTED) {
		x = cJSON_AddObjectToObject(o, "blocklist");
		add_str(x, "list", v->rule);
		add_str(x, "entry", v->entry);
	} else {
		cJSON_AddNullToObject(o, "blocklist");
	}
	cJSON_AddBoolToObject(o, "learning", learning);
	cJSON_AddNumberToObject(o, "repeats", repeats);
	add_attention(o, f, window);
	return o;
}

/* Rename alerts.jsonl to .1 (and .1 to .2 ...), then open a new one; on failure keep the old one. */
static void file_rotate(struct alerts *a)
{
	char from[PATH_MAX], to[PATH_MAX], why[256];
	int fd;

	for (unsigned i = a->o.file_keep; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof from, "%s", a->path);
		else
			snprintf(from, sizeof from, "%s.%u", a->path, i - 1);
		snprintf(to, sizeof to, "%s.%u", a->path, i);
		if (rename(from, to) != 0 && errno != ENOENT && i == 1) {
			if (!a->rotate_failing)
				log_warn("alerts: cannot rotate %s (it keeps growing)", a->path);
			a->rotate_failing = true;
			return;
		}
	}
	fd = ng_open_checked(a->path, O_WRONLY | O_APPEND | O_CREAT, 0600, NG_OPEN_NOFOLLOW | NG_OPEN_OWNED, why,
			     sizeof why);
	if (fd < 0) {
		/* The old descriptor now writes to alerts.jsonl.1: keep it rather than lose lines. */
		if (!a->rotate_failing)
			log_warn("alerts: cannot open a new %s after rotating (writing on to %s.1)", a->path, a->path);
		a->rotate_failing = true;
		return;
	}
	close(a->fd);
	a->fd = fd;
	a->size = 0;
	a->rotate_failing = false;
}

/* Append one line to alerts.jsonl with a single write; failures are logged once until one succeeds. */
static void file_append(struct alerts *a, const char *text, size_t len)
{
	struct iovec iov[2] = {{(void *)text, len}, {(void *)"\n", 1}};
	ssize_t n;

	if (a->fd < 0)
		return;
	if (a->size > 0 && a->size + len + 1 > a->o.file_max_bytes)
		file_rotate(a);
	do {
		n = writev(a->fd, iov, 2);
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len + 1) {
		a->size += (uint64_t)n;
		if (a->write_failing)
			log_info("alerts: %s is written again", a->path);
		a->write_failing = false;
		return;
	}
	a->st.write_errors++;
	if (!a->write_failing) {
		if (n < 0)
			log_warn("alerts: cannot append to %s (further failures are counted, not logged)", a->path);
		else
			log_warnx("alerts: short write to %s: disk full? (further failures are counted, not logged)",
				  a->path);
	}
	a->write_failing = true;
	if (n > 0) {
		/* End the torn line, so the next alert starts on a line of its own. */
		a->size += (uint64_t)n;
		if (write(a->fd, "\n", 1) == 1)
			a->size++;
	}
}

/* Log what became of a command, at most one line a minute (the rest counted into the next one). */
static void command_log(struct alerts *a, uint64_t id, const char *msg)
{
	ng_time now = time_mono();

	if (a->last_fail_log && now - a->last_fail_log < FAIL_LOG_EVERY) {
		a->fails_unlogged++;
		return;
	}
	if (a->fails_unlogged)
		log_warnx("alerts: --on-alert command for alert %llu %s (and %llu such messages not logged in the "
			  "last minute)", (unsigned long long)id, msg, (unsigned long long)a->fails_unlogged);
	else
		log_warnx("alerts: --on-alert command for alert %llu %s", (unsigned long long)id, msg);
	a->fails_unlogged = 0;
	a->last_fail_log = now;
}

/* A command failed: count it and log it (rate-limited). */
static void command_failed(struct alerts *a, uint64_t id, const char *msg)
{
	a->st.command_failures++;
	command_log(a, id, msg);
}

/* Start the command for a job in a free slot; 0, or -1 (counted and logged). */
static int command_spawn(struct alerts *a, struct alert_run *r, struct alert_job *j, ng_time mono)
{
	const char *env[ENV_VARS + 1];
	intptr_t child;
	size_t k = 0;
	int fd;
	char msg[PATH_MAX + 128];

	for (int i = 0; i < ENV_VARS; i++) {
		if (j->env[i][0])
			env[k++] = j->env[i];
	}
	env[k] = NULL;
	/* The daemon's environment, minus any NETGLOBE_ALERT_*, plus this alert's. */
	if (platform_spawn(a->argv, env, "NETGLOBE_ALERT_", &child, &fd, msg, sizeof msg) != 0) {
		command_failed(a, j->id, msg);
		return -1;
	}
	a->st.commands_run++;
	memset(r, 0, sizeof *r);
	r->pid = child;
	r->fd = fd;
	r->text = j->text;
	r->len = j->len;
	r->id = j->id;
	r->deadline = mono + a->o.timeout;
	j->text = NULL;
	a->nrunning++;
	return 0;
}

/* Write what the pipe takes of a command's stdin; close it when all is written or the reader left. */
static void run_feed(struct alert_run *r)
{
	while (r->fd >= 0 && r->off < r->len) {
		ssize_t n = write(r->fd, r->text + r->off, r->len - r->off);

		if (n > 0) {
			r->off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			return;
		} else {
			break;	/* EPIPE: the command did not want (all of) it */
		}
	}
	if (r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
	free(r->text);
	r->text = NULL;
}

/* Feed, reap and time out running commands. */
static void runs_poll(struct alerts *a, ng_time mono)
{
	for (unsigned i = 0; a->runs && i < a->o.max_running; i++) {
		struct alert_run *r = &a->runs[i];
		char how[96];
		int w;

		if (!r->pid)
			continue;
		if (r->fd >= 0)
			run_feed(r);
		w = platform_child_wait(r->pid, false, how, sizeof how);
		if (w != 0) {
			if (w > 0 && how[0] && !r->term_sent)
				command_failed(a, r->id, how);
			if (r->fd >= 0)
				close(r->fd);
			free(r->text);
			memset(r, 0, sizeof *r);
			r->fd = -1;
			a->nrunning--;
			continue;
		}
		if (!r->term_sent && mono >= r->deadline) {
			platform_child_kill(r->pid, false);
			r->term_sent = true;
			a->st.commands_killed++;
			snprintf(how, sizeof how, "still running after %.3g s: terminated",
				 (double)a->o.timeout / NG_USEC);
			command_log(a, r->id, how);
		} else if (r->term_sent && !r->kill_sent && mono >= r->deadline + KILL_GRACE) {
			platform_child_kill(r->pid, true);
			r->kill_sent = true;
		}
	}
}

/* Start queued jobs while slots are free. */
static void command_pump(struct alerts *a, ng_time mono)
{
	while (a->qlen && a->nrunning < a->o.max_running) {
		struct alert_job *j = &a->queue[a->qhead];
		struct alert_run *r = NULL;

		for (unsigned i = 0; i < a->o.max_running; i++) {
			if (!a->runs[i].pid) {
				r = &a->runs[i];
				break;
			}
		}
		a->qhead = (a->qhead + 1) % a->o.max_queued;
		a->qlen--;
		if (command_spawn(a, r, j, mono) != 0)
			free(j->text);
		j->text = NULL;
	}
}

/* Queue an alert for the command (waiting for room when asked to), then start what can start. */
static void command_submit(struct alerts *a, const char *text, size_t len, uint64_t id, const char *ip,
			   const char *verdict, const char *dir)
{
	struct alert_job *j;
	ng_time mono = time_mono();

	runs_poll(a, mono);
	command_pump(a, mono);
	while (a->qlen == a->o.max_queued && a->o.wait_for_slot) {
		poll(NULL, 0, 10);
		mono = time_mono();
		runs_poll(a, mono);
		command_pump(a, mono);
	}
	if (a->qlen == a->o.max_queued) {
		a->st.commands_dropped++;
		if (!a->last_drop_log || mono - a->last_drop_log >= FAIL_LOG_EVERY) {
			log_warnx("alerts: %u alerts wait for the --on-alert command already: alert %llu is not passed "
				  "to it (%llu dropped so far; it is in the alerts file and the event stream)",
				  a->o.max_queued, (unsigned long long)id, (unsigned long long)a->st.commands_dropped);
			a->last_drop_log = mono;
		}
		return;
	}
	j = &a->queue[(a->qhead + a->qlen) % a->o.max_queued];
	memset(j, 0, sizeof *j);
	j->text = xmalloc(len + 1);
	memcpy(j->text, text, len);
	j->text[len] = '\n';
	j->len = len + 1;
	j->id = id;
	snprintf(j->env[0], ENV_LEN, "NETGLOBE_ALERT_ID=%llu", (unsigned long long)id);
	snprintf(j->env[1], ENV_LEN, "NETGLOBE_ALERT_VERDICT=%s", verdict);
	snprintf(j->env[2], ENV_LEN, "NETGLOBE_ALERT_DIRECTION=%s", dir);
	snprintf(j->env[3], ENV_LEN, "NETGLOBE_ALERT_REMOTE_IP=%s", ip);
	a->qlen++;
	command_pump(a, mono);
}

/*
 * One alert to syslog: severity error for a blocklisted remote, else
 * warning; MSGID "alert"; the structured data names what a syslog filter
 * routes on; the message is the alert as written to alerts.jsonl.
 */
static void syslog_alert(struct alerts *a, const struct flow *f, enum flow_dir dir, const struct wl_verdict_info *v,
			 const char *text, const char *ip)
{
	char id[24], flow[24], cid[COMMUNITYID_LEN];
	const char *vname = wl_verdict_name((enum wl_verdict)v->verdict);
	const char *sd[] = {
		"id", id, "flow_id", flow, "verdict", vname ? vname : "none",
		"direction", dir == FLOW_SENT ? "sent" : "received", "remote_ip", ip,
		"attention", attention_name((enum ng_attention)f->attention),
		"community_id", communityid_flow(f, false, cid, sizeof cid),
	};

	snprintf(id, sizeof id, "%llu", (unsigned long long)a->next_id);
	snprintf(flow, sizeof flow, "%llu", (unsigned long long)f->id);
	syslog5424_send(a->syslog, v->verdict == WL_BLOCKLISTED ? SYSLOG5424_ERR : SYSLOG5424_WARNING, "alert", sd,
			NG_ARRAY_LEN(sd), text, time_now());
}

char *alerts_raise(struct alerts *a, const struct flow *f, enum flow_dir dir, ng_time window, bool learning)
{
	const struct wl_verdict_info *v = flow_verdict(f, dir);
	struct dedup_entry *e;
	ng_time t = flow_dir_first(f, dir) != NG_TIME_NONE ? flow_dir_first(f, dir) : f->first_seen;
	uint32_t repeats = 0;
	bool found;
	cJSON *o;
	char *txt, ip[NG_ADDRSTRLEN];
	const char *out;
	const char *vname = wl_verdict_name((enum wl_verdict)v->verdict);

	if (!a)
		return NULL;
	a->st.candidates++;
	/* By attention, a remote alerts once per period whatever raised it (the verdict may even be normal: a beacon). */
	e = dedup_slot(a, flow_remote_ip(f), (uint8_t)dir, a->o.by_verdict ? v->verdict : 0, &found);
	if (found && t - e->last < a->o.dedup_period) {
		if (e->repeats < UINT32_MAX)
			e->repeats++;
		a->st.repeats++;
		return NULL;
	}
	/* The global cap, per minute of packet time. */
	if (a->win_start == NG_TIME_NONE || t < a->win_start || t - a->win_start >= CAP_WINDOW) {
		cap_summary(a);
		a->win_start = t;
		a->win_count = 0;
	}
	if (a->win_count >= a->o.max_per_minute) {
		a->st.suppressed++;
		if (a->win_suppressed++ == 0) {
			a->win_supp_mono = time_mono();
			a->win_supp_first = t;
		}
		return NULL;	/* not remembered: a later flow may still raise it once the minute is over */
	}
	a->win_count++;
	if (found) {
		repeats = e->repeats;
	} else {
		if (e->used)
			a->st.dedup_evicted++;
		e->remote = *flow_remote_ip(f);
		e->dir = (uint8_t)dir;
		e->verdict = a->o.by_verdict ? v->verdict : 0;
		e->used = 1;
	}
	e->last = t;
	e->repeats = 0;

	o = alert_object(f, dir, window, learning, a->next_id, repeats, t);
	txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	a->st.raised++;
	a->st.last_id = a->next_id;
	/* The file, the command and syslog get the configured format; the event stream keeps the alert object. */
	out = txt;
	if (a->o.ecs) {
		struct ecs_alert ea = {a->next_id, t, dir, v, learning, repeats};

		a->ecs.len = 0;
		ecs_append(f, window, &ea, &a->ecs);
		out = a->ecs.p;
	}
	file_append(a, out, strlen(out));
	addr_format(flow_remote_ip(f), ip, sizeof ip);
	if (a->syslog)
		syslog_alert(a, f, dir, v, out, ip);
	if (a->argv)
		command_submit(a, out, strlen(out), a->next_id, ip, vname ? vname : "none",
			       dir == FLOW_SENT ? "sent" : "received");
	a->next_id++;
	return txt;
}

void alerts_tick(struct alerts *a, ng_time mono)
{
	if (!a)
		return;
	if (a->argv) {
		runs_poll(a, mono);
		command_pump(a, mono);
	}
	if (a->win_suppressed && mono - a->win_supp_mono >= CAP_WINDOW)
		cap_summary(a);
	syslog5424_tick(a->syslog, mono);
}

void alerts_drain(struct alerts *a, ng_time max_wait)
{
	ng_time end = time_mono() + max_wait;

	if (!a || !a->argv)
		return;
	for (;;) {
		alerts_tick(a, time_mono());
		if (!a->nrunning && !a->qlen)
			return;
		if (time_mono() >= end)
			return;
		poll(NULL, 0, 5);
	}
}

void alerts_get_stats(const struct alerts *a, struct alerts_stats *out)
{
	*out = a->st;
	out->running = a->nrunning;
	out->queued = a->qlen;
	if (a->syslog) {
		struct syslog5424_stats ss;

		syslog5424_get_stats(a->syslog, &ss);
		out->syslog_sent = ss.sent;
		out->syslog_dropped = ss.dropped;
	}
}

cJSON *alerts_stats_json(const struct alerts *a)
{
	struct alerts_stats s;
	cJSON *o = cJSON_CreateObject();

	memset(&s, 0, sizeof s);
	if (a)
		alerts_get_stats(a, &s);
	cJSON_AddBoolToObject(o, "enabled", a != NULL);
	cJSON_AddNumberToObject(o, "raised", (double)s.raised);
	cJSON_AddNumberToObject(o, "suppressed", (double)s.suppressed);
	cJSON_AddNumberToObject(o, "repeats", (double)s.repeats);
	cJSON_AddNumberToObject(o, "commands_run", (double)s.commands_run);
	cJSON_AddNumberToObject(o, "commands_killed", (double)s.commands_killed);
	cJSON_AddNumberToObject(o, "command_failures", (double)s.command_failures);
	cJSON_AddNumberToObject(o, "commands_dropped", (double)s.commands_dropped);
	cJSON_AddNumberToObject(o, "commands_running", (double)s.running);
	cJSON_AddNumberToObject(o, "commands_queued", (double)s.queued);
	cJSON_AddNumberToObject(o, "write_errors", (double)s.write_errors);
	cJSON_AddNumberToObject(o, "last_id", (double)s.last_id);
	cJSON_AddNumberToObject(o, "syslog_sent", (double)s.syslog_sent);
	cJSON_AddNumberToObject(o, "syslog_dropped", (double)s.syslog_dropped);
	return o;
}

/* The engine's alert: raise it, and publish it on the event stream when the run has one. */
static void alerts_sink_alert(void *arg, struct flow *f, enum flow_dir dir)
{
	struct alerts *a = arg;
	const struct output_env *env = a->env;
	struct wl_learning l;
	char *txt;

	whitelist_learning(env->m->wl, engine_now(env->engine), &l);
	txt = alerts_raise(a, f, dir, env->cfg->window, l.learning);
	if (txt && env->events)
		events_publish(env->events, "alert", txt);
	free(txt);
}

/* The output's tick: commands, on the monotonic clock. */
static void alerts_tick_cb(void *arg, ng_time wall, ng_time mono)
{
	(void)wall;
	alerts_tick(arg, mono);
}

/* The "alerts" object of /api/stats. */
static void alerts_stats_cb(void *arg, cJSON *doc)
{
	cJSON_AddItemToObject(doc, "alerts", alerts_stats_json(arg));
}

/*
 * The output's close: commands still running get time to finish: all of it
 * for --dump (each one ends or is killed at its timeout), half a second for
 * the daemon (SIGTERM must end it within a second).
 */
static int alerts_close_cb(void *arg)
{
	struct alerts *a = arg;

	alerts_drain(a, a->env->dump ? INT64_MAX / 4 : NG_USEC / 2);
	alerts_destroy(a);
	return 0;
}

const struct output_type alerts_output = {
	.name = "alerts",
	.open = alerts_open_env,
	.sink = {.alert = alerts_sink_alert},
	.tick = alerts_tick_cb,
	.stats = alerts_stats_cb,
	.close = alerts_close_cb,
};
