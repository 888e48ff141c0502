/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config.c: the option table.
 *
 * DESIGN. One table lists every option once: its long name (also its name in
 * the config file), short letter, type, where it lives in struct config, and
 * its help line. The command-line parser, the config-file parser, the
 * --help text and --print-config all walk the same table, so an option can
 * never exist in one and be missing from another (as Redis's config.c does).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "platform.h"

#include "addr.h"
#include "home.h"
#include "http.h"

enum opt_type {
	OPT_STR,
	OPT_LIST,
	OPT_BOOL,	/* a flag: present means true */
	OPT_UINT,
	OPT_DURATION,
	OPT_DOUBLE,
	OPT_VERBOSE,	/* -v */
	OPT_QUIET,	/* -q */
	OPT_HELP,
	OPT_VERSION,
	OPT_PRINT,	/* --print-config */
	OPT_OPTSTR,	/* a string whose value may be left out: `dflt` then (the next argument counts unless it
			   starts with '-') */
};

struct opt {
	const char *name;
	char shortopt;
	enum opt_type type;
	size_t offset;
	const char *arg;	/* placeholder in --help, NULL for flags */
	const char *help;
	uint64_t min, max;	/* for OPT_UINT */
	bool cli_only;		/* not written by --print-config, not read from a file */
};

#define O(field) offsetof(struct config, field)

static const struct opt options[] = {
	{"interface", 'i', OPT_STR, O(iface), "IFACE", "capture live on IFACE: a name or number from -D (on Windows also the adapter's name, e.g. Wi-Fi; default: first interface that is up with an address)", 0, 0, false},
	{"list-interfaces", 'D', OPT_BOOL, O(list_interfaces), NULL, "list the interfaces -i accepts (number, name, description, flags) and exit", 0, 0, true},
	{"read", 'r', OPT_STR, O(file), "FILE", "read a pcap or pcapng file (\"-\" for standard input), using its packet times", 0, 0, false},
	{"filter", 'f', OPT_STR, O(filter), "EXPR", "BPF capture filter, as in tcpdump", 0, 0, false},
	{"snaplen", 0, OPT_UINT, O(snaplen), "BYTES", "bytes kept of each packet (default 1600)", 64, 262144, false},
	{"buffer-mb", 0, OPT_UINT, O(buffer_mb), "MB", "kernel capture buffer (default 16)", 1, 2047, false},
	{"promisc", 0, OPT_BOOL, O(promisc), NULL, "promiscuous mode (others' traffic too)", 0, 0, false},
	{"dump", 0, OPT_BOOL, O(dump), NULL, "print every flow as JSON Lines, then a summary, and exit (at the end of -r FILE, or on Ctrl-C)", 0, 0, true},
	{"local-net", 0, OPT_LIST, O(local_nets), "CIDR", "addresses that are this host (repeatable; live adds the interfaces' own)", 0, 0, false},
	{"public-net", 0, OPT_LIST, O(public_nets), "CIDR", "treat a special range as public (labs, tests; repeatable)", 0, 0, false},
	{"max-flows", 0, OPT_UINT, O(max_flows), "N", "most active flows kept in memory (default 1000000)", 16, 100000000, false},
	{"keep-ended", 0, OPT_UINT, O(keep_ended), "N", "ended flows kept for the API (default 100000)", 0, 100000000, false},
	{"tcp-timeout", 0, OPT_DURATION, O(tcp_timeout), "DUR", "idle TCP flow ends after (default 5m)", 0, 0, false},
	{"tcp-closed-timeout", 0, OPT_DURATION, O(tcp_closed_timeout), "DUR", "TCP flow ends after FIN/RST and quiet (default 30s)", 0, 0, false},
	{"udp-timeout", 0, OPT_DURATION, O(udp_timeout), "DUR", "idle UDP/other flow ends after (default 2m)", 0, 0, false},
	{"geoip-city", 0, OPT_LIST, O(geoip_city), "FILE", "City .mmdb (repeatable, e.g. one per IP version)", 0, 0, false},
	{"geoip-asn", 0, OPT_STR, O(geoip_asn), "FILE", "ASN .mmdb or netglobe .ngasn table", 0, 0, false},
	{"no-geoip", 0, OPT_BOOL, O(no_geoip), NULL, "no GeoIP lookups (geo is null)", 0, 0, false},
	{"home", 0, OPT_STR, O(home), "LAT,LON", "the globe's home point", 0, 0, false},
	{"home-ip", 0, OPT_STR, O(home_ip), "ADDR", "home is where the GeoIP database puts ADDR (your public address)", 0, 0, false},
	{"no-dns", 0, OPT_BOOL, O(no_dns), NULL, "do not learn names from captured DNS answers", 0, 0, false},
	{"no-names", 0, OPT_BOOL, O(no_names), NULL, "do not read TLS SNI or HTTP Host", 0, 0, false},
	{"dns-grace", 0, OPT_DURATION, O(dns_grace), "DUR", "keep a DNS name this long past its TTL (default 1h)", 0, 0, false},
	{"dns-max", 0, OPT_UINT, O(dns_max), "N", "most addresses with a remembered name (default 262144)", 16, 100000000, false},
	{"no-process", 0, OPT_BOOL, O(no_process), NULL, "no process attribution (and no /proc privileges)", 0, 0, false},
	{"no-bpf", 0, OPT_BOOL, O(no_bpf), NULL, "process attribution by sock_diag and /proc only, without the kernel's BPF records", 0, 0, false},
	{"state-dir", 0, OPT_STR, O(state_dir), "DIR", "whitelist database and state (default /var/lib/netglobe as root, else $XDG_STATE_HOME/netglobe; Windows: %ProgramData%\\netglobe as administrator, else %LOCALAPPDATA%\\netglobe)", 0, 0, false},
	{"window", 0, OPT_DURATION, O(window), "DUR", "rolling whitelist window (default 48h)", 0, 0, false},
	{"retention", 0, OPT_DURATION, O(retention), "DUR", "forget addresses not seen for (default 7d)", 0, 0, false},
	{"allow", 0, OPT_LIST, O(allow), "FILE", "allow rules: addresses, CIDRs, *.domain patterns (repeatable)", 0, 0, false},
	{"blocklist", 0, OPT_LIST, O(blocklist), "FILE", "IP blocklist: netset/ipset, Spamhaus DROP, Feodo CSV (repeatable)", 0, 0, false},
	{"blocklist-max", 0, OPT_UINT, O(blocklist_max), "N", "entries kept from one blocklist file (default 2000000; about 34 bytes each)", 1, 1000000000, false},
	{"listen", 0, OPT_LIST, O(listen), "ADDR:PORT", "HTTP address (repeatable; default 127.0.0.1:8080 and [::1]:8080)", 0, 0, false},
	{"web-root", 0, OPT_STR, O(web_root), "DIR", "serve the page from DIR instead of the built-in copy", 0, 0, false},
	{"realtime", 0, OPT_BOOL, O(realtime), NULL, "with -r: replay at the recorded pace", 0, 0, true},
	{"speed", 0, OPT_DOUBLE, O(speed), "N", "with -r: replay N times faster than recorded", 0, 0, true},
	{"max-clients", 0, OPT_UINT, O(max_clients), "N", "most concurrent HTTP connections per listener (default 512)", 1, 100000, false},
	{"user", 0, OPT_STR, O(user), "USER", "drop privileges to USER after opening the capture (default netglobe if it exists)", 0, 0, false},
	{"no-signals", 0, OPT_BOOL, O(no_signals), NULL, "no behaviour signals (beacon, DNS tunnel, scan, upload ...): attention from the whitelist's verdicts alone", 0, 0, false},
	{"alert-on", 0, OPT_STR, O(alert_on), "WHAT", "alert on 'high' attention (default) or on every 'anomalous' or blocklisted verdict", 0, 0, false},
	{"on-alert", 0, OPT_STR, O(on_alert), "CMD", "run CMD (no shell) with each alert as JSON on stdin", 0, 0, false},
	{"alert-timeout", 0, OPT_DURATION, O(alert_timeout), "DUR", "kill an --on-alert command after (default 10s)", 0, 0, false},
	{"evidence", 0, OPT_BOOL, O(evidence), NULL, "keep the first packets of anomalous flows as pcap evidence (default yes; --evidence=no turns it off)", 0, 0, false},
	{"evidence-mb", 0, OPT_UINT, O(evidence_mb), "MB", "disk space for evidence pcaps (default 64)", 1, 1048576, false},
	{"history-mb", 0, OPT_UINT, O(history_mb), "MB", "disk cap of the flow history (state_dir/history.db; default 256; 0 turns it off)", 0, 1048576, false},
	{"ipfix", 0, OPT_STR, O(ipfix), "HOST:PORT", "export flows as IPFIX (UDP; tcp://HOST:PORT for TCP)", 0, 0, false},
	{"ipfix-active-timeout", 0, OPT_DURATION, O(ipfix_active_timeout), "DUR", "IPFIX record for long flows every (default 60s)", 0, 0, false},
	{"flow-log", 0, OPT_STR, O(flow_log), "FILE", "append every ended flow as JSON Lines (\"-\" = stdout)", 0, 0, false},
	{"flow-log-format", 0, OPT_STR, O(flow_log_format), "FORMAT", "--flow-log's lines: json (the flow object, default) or ecs (Elastic Common Schema)", 0, 0, false},
	{"alert-format", 0, OPT_STR, O(alert_format), "FORMAT", "alerts in alerts.jsonl, --on-alert and syslog: json (default) or ecs", 0, 0, false},
	{"alert-syslog", 0, OPT_OPTSTR, O(alert_syslog), "[TARGET]", "send alerts to syslog (RFC 5424): unix:PATH or udp:HOST:PORT (default unix:/dev/log)", 0, 0, false},
	{"community-id-seed", 0, OPT_UINT, O(community_id_seed), "N", "seed of the flows' Community IDs (default 0; use the seed your other sensors use)", 0, 65535, false},
	{"config", 'c', OPT_STR, O(config_file), "FILE", "read options from FILE (default /etc/netglobe.conf if present)", 0, 0, true},
	{"check", 'n', OPT_BOOL, O(check_only), NULL, "check the options and configuration file (files are opened only at start) and exit", 0, 0, true},
	{"verbose", 'v', OPT_VERBOSE, 0, NULL, "more log lines (repeatable)", 0, 0, true},
	{"quiet", 'q', OPT_QUIET, 0, NULL, "only warnings and errors", 0, 0, true},
	{"print-config", 0, OPT_PRINT, 0, NULL, "print the effective configuration in config-file form and exit", 0, 0, true},
	{"help", 'h', OPT_HELP, 0, NULL, "this help", 0, 0, true},
	{"version", 'V', OPT_VERSION, 0, NULL, "print the version", 0, 0, true},
};

/* The value of an OPT_OPTSTR option given without one. */
static const struct {
	const char *name, *value;
} optstr_defaults[] = {
	{"alert-syslog", "unix:/dev/log"},
};

/* An OPT_OPTSTR option's value when none is given ("" if the table above lacks it). */
static const char *optstr_default(const struct opt *o)
{
	for (size_t i = 0; i < NG_ARRAY_LEN(optstr_defaults); i++) {
		if (strcmp(optstr_defaults[i].name, o->name) == 0)
			return optstr_defaults[i].value;
	}
	return "";
}

#ifndef NG_VERSION
#define NG_VERSION "0.1.0"
#endif

/* The system-wide config file, read by the daemon when it exists. */
#define CONFIG_DEFAULT_FILE "/etc/netglobe.conf"

/*
 * For SIGHUP: the config file the daemon's options came from (or the default
 * file that did not exist yet), and its options as config_write printed them
 * at start-up, so a reload can say what changed in the file since.
 */
static char *config_file_used, *config_file_snapshot;

void config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->snaplen = 1600;
	c->buffer_mb = 16;
	c->max_flows = 1000000;
	c->keep_ended = 100000;
	c->tcp_timeout = 300 * NG_USEC;
	c->tcp_closed_timeout = 30 * NG_USEC;
	c->udp_timeout = 120 * NG_USEC;
	c->dns_grace = 3600 * NG_USEC;
	c->dns_max = 262144;
	c->window = 48LL * 3600 * NG_USEC;
	c->retention = 7LL * 86400 * NG_USEC;
	c->speed = 0;
	c->max_clients = 512;
	c->alert_timeout = 10 * NG_USEC;
	c->evidence = PLATFORM_EVIDENCE_DEFAULT;	/* the evidence store needs directory descriptors (not on Windows yet) */
	c->evidence_mb = 64;
	c->history_mb = 256;
	c->ipfix_active_timeout = 60 * NG_USEC;
}

static void strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void strlist_add(struct strlist *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = xstrdup(s);
}

void config_free(struct config *c)
{
	for (size_t i = 0; i < NG_ARRAY_LEN(options); i++) {
		const struct opt *o = &options[i];
		void *field = (char *)c + o->offset;

		if (o->type == OPT_STR || o->type == OPT_OPTSTR)
			free(*(char **)field);
		else if (o->type == OPT_LIST)
			strlist_clear(field);
	}
}

/* Find an option by long name. */
static const struct opt *opt_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < NG_ARRAY_LEN(options); i++) {
		if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
			return &options[i];
	}
	return NULL;
}

static const struct opt *opt_by_short(char ch)
{
	for (size_t i = 0; i < NG_ARRAY_LEN(options); i++) {
		if (options[i].shortopt == ch)
			return &options[i];
	}
	return NULL;
}

/* True when the option takes a value. */
static bool opt_takes_arg(const struct opt *o)
{
	return o->type == OPT_STR || o->type == OPT_LIST || o->type == OPT_UINT || o->type == OPT_DURATION ||
	       o->type == OPT_DOUBLE;
}

/* Parse a config-file boolean. */
static int parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") || !strcmp(v, "1")) {
		*out = true;
		return 0;
	}
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") || !strcmp(v, "0")) {
		*out = false;
		return 0;
	}
	return -1;
}

/* Store one value into the config; `from_cli` makes lists replace config-file values. */
static int opt_apply(struct config *c, const struct opt *o, const char *val, bool from_cli, char *err, size_t errlen)
{
	void *field = (char *)c + o->offset;

	/* A line break would make --print-config write a file that does not read back. */
	if ((o->type == OPT_STR || o->type == OPT_LIST || o->type == OPT_OPTSTR) && val && strpbrk(val, "\r\n")) {
		snprintf(err, errlen, "--%s: a value cannot contain a line break", o->name);
		return -1;
	}
	switch (o->type) {
	case OPT_STR:
	case OPT_OPTSTR:
		free(*(char **)field);
		*(char **)field = xstrdup(val ? val : optstr_default(o));
		return 0;
	case OPT_LIST: {
		struct strlist *l = field;

		if (from_cli && !l->from_cli) {
			strlist_clear(l);
			l->from_cli = true;
		}
		strlist_add(l, val);
		return 0;
	}
	case OPT_BOOL:
		if (!val) {
			*(bool *)field = true;
			return 0;
		}
		if (parse_bool(val, field) != 0) {
			snprintf(err, errlen, "--%s takes yes or no, not '%s'", o->name, val);
			return -1;
		}
		return 0;
	case OPT_UINT: {
		uint64_t v;

		if (parse_uint(val, o->min, o->max, &v) != 0) {
			snprintf(err, errlen, "--%s takes a whole number from %llu to %llu, not '%s'", o->name,
				 (unsigned long long)o->min, (unsigned long long)o->max, val);
			return -1;
		}
		*(uint64_t *)field = v;
		return 0;
	}
	case OPT_DURATION: {
		ng_time d;

		if (duration_parse(val, &d) != 0 || d <= 0) {
			snprintf(err, errlen, "--%s takes a duration such as 30s, 5m, 48h or 7d, not '%s'", o->name, val);
			return -1;
		}
		*(ng_time *)field = d;
		return 0;
	}
	case OPT_DOUBLE: {
		char *end;
		double d = strtod(val, &end);

		if (*val == '\0' || *end != '\0' || !(d > 0) || d > 1e6) {
			snprintf(err, errlen, "--%s takes a positive number, not '%s'", o->name, val);
			return -1;
		}
		*(double *)field = d;
		return 0;
	}
	case OPT_VERBOSE:
		c->verbosity++;
		return 0;
	case OPT_QUIET:
		c->verbosity = -1;
		return 0;
	default:
		return 0;
	}
}

/* Trim spaces at both ends in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	enum { LINE_MAX_BYTES = 4095 };
	char why[256];
	int fd = ng_open_checked(path, O_RDONLY, 0, 0, why, sizeof why);
	FILE *fp = fd >= 0 ? fdopen(fd, "r") : NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, rc = 0;

	if (!fp) {
		if (fd >= 0) {
			snprintf(why, sizeof why, "%s", strerror(errno));
			close(fd);
		}
		snprintf(err, errlen, "cannot read config file %s: %s (give -c FILE)", path, why);
		return -1;
	}
	while ((n = getline(&line, &cap, fp)) >= 0) {
		char *s, *name, *val;
		const struct opt *o;
		size_t nlen;
		char awhy[512];

		lineno++;
		if (strlen(line) != (size_t)n) {
			snprintf(err, errlen, "%s:%d: the line holds a NUL byte (is this a text file?)", path, lineno);
			rc = -1;
			break;
		}
		if (n > LINE_MAX_BYTES + 1 || (n == LINE_MAX_BYTES + 1 && line[n - 1] != '\n')) {
			snprintf(err, errlen, "%s:%d: line longer than %d bytes", path, lineno, LINE_MAX_BYTES);
			rc = -1;
			break;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		name = s;
		nlen = strcspn(s, " \t=");
		val = s + nlen;
		while (*val == ' ' || *val == '\t' || *val == '=')
			val++;
		o = opt_by_name(name, nlen);
		if (!o || o->cli_only) {
			snprintf(err, errlen, "%s:%d: unknown option '%.*s' (see netglobe --help)", path, lineno, (int)nlen, name);
			rc = -1;
			break;
		}
		if (opt_takes_arg(o) && *val == '\0') {
			snprintf(err, errlen, "%s:%d: option '%s' needs a value", path, lineno, o->name);
			rc = -1;
			break;
		}
		if (opt_apply(c, o, *val ? val : NULL, false, awhy, sizeof awhy) != 0) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, awhy);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(fp);
	return rc;
}

/*
 * A config file on its own (defaults, then the file) in config-file form with
 * every option; a missing default file reads as all defaults. NULL with one
 * line in err. The caller frees.
 */
static char *config_file_text(const char *path, char *err, size_t errlen)
{
	struct config c;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	config_init(&c);
	if (!(strcmp(path, CONFIG_DEFAULT_FILE) == 0 && access(path, F_OK) != 0 && errno == ENOENT) &&
	    config_load_file(&c, path, err, errlen) != 0) {
		config_free(&c);
		return NULL;
	}
	out = platform_memstream(&buf, &len);
	if (!out) {
		snprintf(err, errlen, "cannot compare %s: %s", path, strerror(errno));
		config_free(&c);
		return NULL;
	}
	config_write(&c, out, true);
	platform_memstream_close(out);
	config_free(&c);
	return buf;
}

/* Note which file the options came from, and what it said, for config_reload_file. */
static void config_remember_file(const char *path)
{
	char err[512];

	free(config_file_used);
	free(config_file_snapshot);
	config_file_used = xstrdup(path);
	config_file_snapshot = config_file_text(path, err, sizeof err);
}

/* The lines of `text` that set option `name` ("name value" or "# name ARG"), into out. */
static void config_option_lines(const char *text, const char *name, FILE *out)
{
	size_t nlen = strlen(name);

	for (const char *l = text; l && *l;) {
		const char *e = strchr(l, '\n'), *p = strncmp(l, "# ", 2) == 0 ? l + 2 : l;
		size_t len = e ? (size_t)(e - l) : strlen(l);

		if (strncmp(p, name, nlen) == 0 && p[nlen] == ' ')
			fprintf(out, "%.*s\n", (int)len, l);
		l = e ? e + 1 : NULL;
	}
}

int config_reload_file(const char **path, char *changed, size_t changedlen, char *err, size_t errlen)
{
	char *now;
	size_t used = 0;
	int n = 0;

	*path = config_file_used;
	changed[0] = '\0';
	if (!config_file_used || !config_file_snapshot)
		return 0;
	now = config_file_text(config_file_used, err, errlen);
	if (!now)
		return -1;
	for (size_t i = 0; i < NG_ARRAY_LEN(options); i++) {
		char *a = NULL, *b = NULL;
		size_t alen = 0, blen = 0;
		FILE *fa, *fb;

		if (options[i].cli_only)
			continue;
		fa = platform_memstream(&a, &alen);
		fb = platform_memstream(&b, &blen);
		if (fa && fb) {
			config_option_lines(config_file_snapshot, options[i].name, fa);
			config_option_lines(now, options[i].name, fb);
		}
		if (fa)
			platform_memstream_close(fa);
		if (fb)
			platform_memstream_close(fb);
		if (a && b && strcmp(a, b) != 0) {
			n++;
			if (used < changedlen)
				used += (size_t)snprintf(changed + used, changedlen - used, "%s%s", used ? ", " : "",
							 options[i].name);
		}
		free(a);
		free(b);
	}
	free(now);
	return n;
}

/* Find --config/-c on the command line before anything else is parsed. */
static const char *find_config_arg(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], "--config=", 9) == 0)
			return argv[i] + 9;
		if (strncmp(argv[i], "-c", 2) == 0 && argv[i][2] != '\0' && argv[i][1] != '-')
			return argv[i] + 2;	/* -cFILE */
	}
	return NULL;
}

/*
 * What single options cannot say: options that contradict each other, and
 * --home, whose value is otherwise read only when the daemon starts (its
 * clash with --home-ip is left to then: the example file sets both). Both
 * -r and -i count as a contradiction only on one command line (a config
 * file's interface gives way to a -r given by hand); --speed/--realtime
 * only when given by hand, since the file may hold them for replays.
 */
static int config_check_combination(const struct config *c, bool iface_and_file, bool cli_pace, char *err,
				    size_t errlen)
{
	double lat, lon;

	if (iface_and_file) {
		snprintf(err, errlen, "give -r FILE or -i IFACE, not both");
		return -1;
	}
	if (c->listen.n > HTTP_MAX_LISTEN) {
		snprintf(err, errlen, "%zu --listen addresses: at most %d (listen on 0.0.0.0 or [::] to cover every address)",
			 c->listen.n, HTTP_MAX_LISTEN);
		return -1;
	}
	for (size_t i = 0; i < c->listen.n; i++) {
		if (http_listen_check(c->listen.v[i], err, errlen) != 0)
			return -1;
	}
	if (cli_pace && !c->file) {
		snprintf(err, errlen, "--realtime and --speed pace a replay: they need -r FILE");
		return -1;
	}
	if (cli_pace && c->dump) {
		snprintf(err, errlen, "--dump reads the file as fast as it can: drop --realtime/--speed, or drop --dump "
				      "to replay it at that pace for the page");
		return -1;
	}
	if (c->alert_on && strcmp(c->alert_on, "high") != 0 && strcmp(c->alert_on, "anomalous") != 0) {
		snprintf(err, errlen, "--alert-on %s: expected high (alerts on high attention) or anomalous (on every "
				      "anomalous or blocklisted verdict)", c->alert_on);
		return -1;
	}
	if (c->flow_log_format && strcmp(c->flow_log_format, "json") != 0 && strcmp(c->flow_log_format, "ecs") != 0) {
		snprintf(err, errlen, "--flow-log-format %s: expected json (the flow object of docs/api.md) or ecs "
				      "(Elastic Common Schema)", c->flow_log_format);
		return -1;
	}
	if (c->alert_format && strcmp(c->alert_format, "json") != 0 && strcmp(c->alert_format, "ecs") != 0) {
		snprintf(err, errlen, "--alert-format %s: expected json (docs/alerts.md) or ecs (Elastic Common Schema)",
			 c->alert_format);
		return -1;
	}
	if (c->alert_syslog && strncmp(c->alert_syslog, "unix:/", 6) != 0 && strncmp(c->alert_syslog, "udp:", 4) != 0) {
		snprintf(err, errlen, "--alert-syslog %s: expected unix:/PATH (a local syslog socket, default "
				      "unix:/dev/log) or udp:HOST:PORT", c->alert_syslog);
		return -1;
	}
	if (c->home && home_parse_latlon(c->home, &lat, &lon) != 0) {
		snprintf(err, errlen, "--home %s: expected LAT,LON in decimal degrees, e.g. --home 35.6895,139.6917",
			 c->home);
		return -1;
	}
	return 0;
}

int config_parse_args(struct config *c, int argc, char **argv, bool default_file, char *err, size_t errlen)
{
	const char *cfgfile = find_config_arg(argc, argv);
	bool print = false, cli_iface = false, cli_file = false, cli_pace = false;

	if (cfgfile) {
		if (config_load_file(c, cfgfile, err, errlen) != 0)
			return -1;
		config_remember_file(cfgfile);
	} else if (default_file && access(CONFIG_DEFAULT_FILE, R_OK) == 0) {
		if (config_load_file(c, CONFIG_DEFAULT_FILE, err, errlen) != 0)
			return -1;
		config_remember_file(CONFIG_DEFAULT_FILE);
	} else if (default_file) {
		config_remember_file(CONFIG_DEFAULT_FILE);	/* may be created later, then SIGHUP */
	}
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const struct opt *o;
		const char *val = NULL;

		if (a[0] != '-' || a[1] == '\0') {
			snprintf(err, errlen, "unexpected argument '%s' (see netglobe --help)", a);
			return -1;
		}
		if (a[1] == '-') {
			const char *eq = strchr(a + 2, '=');
			size_t nlen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

			o = opt_by_name(a + 2, nlen);
			if (!o) {
				snprintf(err, errlen, "unknown option '%s' (see netglobe --help)", a);
				return -1;
			}
			if (eq)
				val = eq + 1;
		} else {
			o = opt_by_short(a[1]);
			if (!o) {
				snprintf(err, errlen, "unknown option '%s' (see netglobe --help)", a);
				return -1;
			}
			if (a[2] != '\0') {
				if (opt_takes_arg(o)) {
					val = a + 2;
				} else {
					snprintf(err, errlen, "option '-%c' takes no value (in '%s')", a[1], a);
					return -1;
				}
			}
		}
		if (o->type == OPT_OPTSTR && !val && i + 1 < argc && argv[i + 1][0] != '-') {
			val = argv[++i];
		} else if (opt_takes_arg(o) && !val) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "option --%s needs a value (%s)", o->name, o->arg);
				return -1;
			}
			val = argv[++i];
		} else if (!opt_takes_arg(o) && val && o->type != OPT_BOOL && o->type != OPT_OPTSTR) {
			snprintf(err, errlen, "option --%s takes no value", o->name);
			return -1;
		}
		switch (o->type) {
		case OPT_HELP:
			config_usage(stdout);
			return 1;
		case OPT_VERSION:
			printf("netglobe %s\n", NG_VERSION);
			return 1;
		case OPT_PRINT:
			print = true;
			continue;
		default:
			break;
		}
		if (opt_apply(c, o, val, true, err, errlen) != 0)
			return -1;
		/* By name: options without a field of their own (-q, -v) have offset 0, as iface does. */
		cli_iface |= strcmp(o->name, "interface") == 0;
		cli_file |= strcmp(o->name, "read") == 0;
		cli_pace |= strcmp(o->name, "speed") == 0 || strcmp(o->name, "realtime") == 0;
	}
	if (config_check_combination(c, cli_iface && cli_file, cli_pace, err, errlen) != 0)
		return -1;
	if (print) {
		config_write(c, stdout, false);
		return 1;
	}
	return 0;
}

/* Format a duration in the largest unit that divides it. */
static void duration_text(ng_time d, char *buf, size_t len)
{
	static const struct {
		ng_time unit;
		const char *name;
	} units[] = {{86400LL * NG_USEC, "d"}, {3600LL * NG_USEC, "h"}, {60LL * NG_USEC, "m"}, {NG_USEC, "s"},
		     {1000, "ms"}, {1, "us"}};

	for (size_t i = 0; i < NG_ARRAY_LEN(units); i++) {
		if (d % units[i].unit == 0) {
			snprintf(buf, len, "%lld%s", (long long)(d / units[i].unit), units[i].name);
			return;
		}
	}
}

void config_write(const struct config *c, FILE *out, bool all)
{
	struct config def;

	config_init(&def);
	fprintf(out, "# netglobe configuration (names are the long options; see netglobe --help)\n");
	for (size_t i = 0; i < NG_ARRAY_LEN(options); i++) {
		const struct opt *o = &options[i];
		const void *field = (const char *)c + o->offset;
		const void *dfield = (const char *)&def + o->offset;
		char buf[64];

		if (o->cli_only)
			continue;
		switch (o->type) {
		case OPT_STR:
		case OPT_OPTSTR:
			if (*(char *const *)field)
				fprintf(out, "%s %s\n", o->name, *(char *const *)field);
			else if (all)
				fprintf(out, "# %s %s\n", o->name, o->arg);
			break;
		case OPT_LIST: {
			const struct strlist *l = field;

			for (size_t j = 0; j < l->n; j++)
				fprintf(out, "%s %s\n", o->name, l->v[j]);
			if (l->n == 0 && all)
				fprintf(out, "# %s %s\n", o->name, o->arg);
			break;
		}
		case OPT_BOOL:
			if (*(const bool *)field != *(const bool *)dfield || all)
				fprintf(out, "%s %s\n", o->name, *(const bool *)field ? "yes" : "no");
			break;
		case OPT_UINT:
			if (*(const uint64_t *)field != *(const uint64_t *)dfield || all)
				fprintf(out, "%s %llu\n", o->name, (unsigned long long)*(const uint64_t *)field);
			break;
		case OPT_DURATION:
			if (*(const ng_time *)field != *(const ng_time *)dfield || all) {
				duration_text(*(const ng_time *)field, buf, sizeof buf);
				fprintf(out, "%s %s\n", o->name, buf);
			}
			break;
		case OPT_DOUBLE:
			if (*(const double *)field != *(const double *)dfield)
				fprintf(out, "%s %.17g\n", o->name, *(const double *)field);
			break;
		default:
			break;
		}
	}
}

void config_usage(FILE *out)
{
	fprintf(out,
		"usage: netglobe [options]                 capture on the default interface and serve http://localhost:8080\n"
		"       netglobe -r FILE --dump            print the flows of a capture file as JSON Lines\n"
		"       netglobe history [--since T] [--verdict V] [--format json|csv] [--state-dir DIR]\n"
		"       netglobe reset-baseline [--state-dir DIR]\n"
		"       netglobe -D                        list the capture interfaces\n"
		"       netglobe service install [options] | uninstall   run as the Windows service (Linux: systemd unit)\n"
		"\noptions:\n");
	for (size_t i = 0; i < NG_ARRAY_LEN(options); i++) {
		const struct opt *o = &options[i];
		char left[64];

		if (o->shortopt)
			snprintf(left, sizeof left, "-%c, --%s%s%s", o->shortopt, o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-30s %s\n", left, o->help);
	}
}
