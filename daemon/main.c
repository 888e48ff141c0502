/* main.c: netglobe's entry point: options, then one of dump, daemon, history or reset-baseline. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "config.h"
#include "dns.h"
#include "engine.h"
#include "flowjson.h"
#include "geoip.h"
#include "local.h"
#include "log.h"
#include "whitelist.h"

/* Modules shared by the dump and daemon modes, opened from the configuration. */
struct modules {
	struct local_set *local;
	char local_source[512];
	struct dns_cache *dns;
	struct geoip *geoip;
	struct whitelist *wl;
	ng_cidr *public_nets;
	size_t npublic;
};

/* State of a --dump run. */
struct dump {
	FILE *out;
	ng_time window;
	int dlt;
	struct engine *engine;
	struct flow **tail;
	size_t ntail, captail;
};

static void modules_close(struct modules *m)
{
	whitelist_close(m->wl);
	geoip_close(m->geoip);
	dns_cache_destroy(m->dns);
	local_set_destroy(m->local);
	free(m->public_nets);
	memset(m, 0, sizeof *m);
}

/* Callback for the local-host inference pass. */
static void infer_cb(void *arg, const struct capture_packet *p)
{
	void **a = arg;
	struct local_infer *li = a[0];
	int dlt = *(int *)a[1];
	struct pkt pk;

	if (decode_packet(dlt, p->data, p->caplen, p->wirelen, &pk) == DECODE_OK)
		local_infer_packet(li, &pk);
}

/*
 * Infer the local host of a capture file by reading it once in advance (at
 * most the first 200,000 packets, so a huge file costs little extra).
 */
static int infer_local(const struct config *cfg, struct modules *m, char *err, size_t errlen)
{
	struct capture_options co = {.file = cfg->file, .filter = cfg->filter};
	struct local_infer *li;
	struct capture *c;
	char desc[400], ebuf[512];
	void *arg[2];
	int dlt, total = 0, n;

	c = capture_open(&co, err, errlen);
	if (!c)
		return -1;
	dlt = capture_datalink(c);
	li = local_infer_create();
	arg[0] = li;
	arg[1] = &dlt;
	while (total < 200000 && (n = capture_dispatch(c, 4096, infer_cb, arg, ebuf, sizeof ebuf)) > 0)
		total += n;
	capture_close(c);
	if (local_infer_finish(li, m->local, desc, sizeof desc) > 0) {
		log_info("local host inferred from the capture: %s (give --local-net CIDR to choose)", desc);
		snprintf(m->local_source, sizeof m->local_source, "inferred");
	} else {
		snprintf(m->local_source, sizeof m->local_source, "none");
	}
	local_infer_destroy(li);
	return 0;
}

/* Open everything the engine uses, per the configuration. 0, or -1 with one line in err. */
static int modules_open(const struct config *cfg, bool live, struct modules *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	m->local = local_set_create();
	for (size_t i = 0; i < cfg->local_nets.n; i++) {
		if (local_set_add(m->local, cfg->local_nets.v[i], err, errlen) != 0)
			goto fail;
	}
	snprintf(m->local_source, sizeof m->local_source, "%s", cfg->local_nets.n ? "--local-net" : "");
	if (live) {
		if (local_set_add_interfaces(m->local, err, errlen) != 0)
			goto fail;
		if (!cfg->local_nets.n)
			snprintf(m->local_source, sizeof m->local_source, "interfaces");
	} else if (!cfg->local_nets.n) {
		if (strcmp(cfg->file, "-") == 0) {
			log_info("reading standard input: cannot infer the local host in advance; "
				 "private addresses count as local (give --local-net CIDR to choose)");
			snprintf(m->local_source, sizeof m->local_source, "none");
		} else if (infer_local(cfg, m, err, errlen) != 0) {
			goto fail;
		}
	}
	if (cfg->public_nets.n) {
		m->public_nets = xcalloc(cfg->public_nets.n, sizeof *m->public_nets);
		for (size_t i = 0; i < cfg->public_nets.n; i++) {
			char why[160];

			if (cidr_parse(cfg->public_nets.v[i], &m->public_nets[i], why, sizeof why) != 0) {
				snprintf(err, errlen, "bad --public-net '%s': %s", cfg->public_nets.v[i], why);
				goto fail;
			}
		}
		m->npublic = cfg->public_nets.n;
	}
	if (!cfg->no_dns)
		m->dns = dns_cache_create(cfg->dns_max, cfg->dns_grace);
	if (!cfg->no_geoip && cfg->geoip_city.n + (cfg->geoip_asn ? 1 : 0) > 0) {
		struct geoip_options go;

		memset(&go, 0, sizeof go);
		for (size_t i = 0; i < cfg->geoip_city.n && i < NG_ARRAY_LEN(go.city); i++)
			go.city[go.ncity++] = cfg->geoip_city.v[i];
		go.asn = cfg->geoip_asn;
		m->geoip = geoip_open(&go, err, errlen);
		if (!m->geoip)
			goto fail;
	}
	{
		struct whitelist_options wo;

		memset(&wo, 0, sizeof wo);
		wo.state_dir = cfg->state_dir;
		wo.window = cfg->window;
		wo.retention = cfg->retention;
		wo.allow_files = (const char **)cfg->allow.v;
		wo.nallow = cfg->allow.n;
		wo.block_files = (const char **)cfg->blocklist.v;
		wo.nblock = cfg->blocklist.n;
		m->wl = whitelist_open(&wo, err, errlen);
		if (!m->wl)
			goto fail;
	}
	return 0;
fail:
	modules_close(m);
	return -1;
}

/* Print one flow as a JSON line. */
static void dump_print(struct dump *d, const struct flow *f)
{
	cJSON *o = flowjson_object(f, d->window);
	char *s = cJSON_PrintUnformatted(o);

	fputs(s, d->out);
	fputc('\n', d->out);
	free(s);
	cJSON_Delete(o);
}

static void dump_flow_end(void *arg, struct flow *f)
{
	dump_print(arg, f);
}

static void dump_packet(void *arg, const struct capture_packet *p)
{
	struct dump *d = arg;

	engine_packet(d->engine, d->dlt, p);
}

/* Collect the flows still active at the end of the file. */
static void dump_collect(void *arg, struct flow *f)
{
	struct dump *d = arg;

	if (f->end_reason != FLOW_END_NONE)
		return;
	if (d->ntail == d->captail) {
		d->captail = d->captail ? d->captail * 2 : 1024;
		d->tail = xrealloc(d->tail, d->captail * sizeof *d->tail);
	}
	d->tail[d->ntail++] = f;
}

static int flow_id_cmp(const void *x, const void *y)
{
	const struct flow *a = *(const struct flow *const *)x, *b = *(const struct flow *const *)y;

	return a->id < b->id ? -1 : a->id > b->id;
}

/* Add the local prefixes to a JSON array. */
static void local_to_json(void *arg, const ng_cidr *c)
{
	char buf[NG_ADDRSTRLEN + 8];
	bool host = c->prefix == (c->base.v == 4 ? 32 : 128);

	if (host)
		addr_format(&c->base, buf, sizeof buf);
	else
		cidr_format(c, buf, sizeof buf);
	cJSON_AddItemToArray(arg, cJSON_CreateString(buf));
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
	local_set_foreach(m->local, local_to_json, loc);
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

/* netglobe -r FILE --dump: every flow as JSON Lines, then a summary. */
static int run_dump(const struct config *cfg)
{
	struct capture_options co = {.file = cfg->file, .filter = cfg->filter};
	struct engine_config ec;
	struct engine_sink sink;
	struct modules m;
	struct dump d;
	struct capture *c;
	char err[1024], rerr[1024] = "";
	int rc = 0, n;

	if (!cfg->file) {
		log_errx("--dump reads a capture file: give -r FILE");
		return 2;
	}
	c = capture_open(&co, err, sizeof err);
	if (!c) {
		log_errx("%s", err);
		return 1;
	}
	if (modules_open(cfg, false, &m, err, sizeof err) != 0) {
		log_errx("%s", err);
		capture_close(c);
		return 1;
	}
	memset(&ec, 0, sizeof ec);
	ec.flows.max_flows = cfg->max_flows;
	ec.flows.max_ended = 0;	/* print and free each flow as it ends */
	ec.flows.tcp_timeout = cfg->tcp_timeout;
	ec.flows.tcp_closed_timeout = cfg->tcp_closed_timeout;
	ec.flows.udp_timeout = cfg->udp_timeout;
	ec.names = !cfg->no_names;
	ec.public_nets = m.public_nets;
	ec.npublic_nets = m.npublic;

	memset(&d, 0, sizeof d);
	d.out = stdout;
	d.window = cfg->window;
	d.dlt = capture_datalink(c);
	d.engine = engine_create(&ec, m.local, m.dns, m.geoip, m.wl, NULL);
	memset(&sink, 0, sizeof sink);
	sink.flow_end = dump_flow_end;
	sink.arg = &d;
	engine_add_sink(d.engine, &sink);
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);

	while ((n = capture_dispatch(c, 8192, dump_packet, &d, rerr, sizeof rerr)) > 0)
		;
	if (n < 0) {
		log_errx("%s", rerr);
		rc = 1;
	}
	flow_table_foreach(engine_flows(d.engine), dump_collect, &d);
	qsort(d.tail, d.ntail, sizeof *d.tail, flow_id_cmp);
	for (size_t i = 0; i < d.ntail; i++)
		dump_print(&d, d.tail[i]);
	free(d.tail);
	engine_publish(d.engine, time_now());	/* commits the whitelist when it has a state dir */
	dump_summary(&d, &m, n < 0 ? rerr : NULL);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_warn("cannot write the dump to standard output");
		rc = 1;
	}
	engine_destroy(d.engine);
	modules_close(&m);
	capture_close(c);
	return rc;
}

int main(int argc, char **argv)
{
	struct config cfg;
	char err[1024];
	int rc;

	log_init(NG_LOG_INFO);
	config_init(&cfg);
	rc = config_parse_args(&cfg, argc - 1, argv + 1, false, err, sizeof err);
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
	if (cfg.dump) {
		rc = run_dump(&cfg);
	} else {
		log_errx("the daemon mode is not built yet: use -r FILE --dump");
		rc = 2;
	}
	config_free(&cfg);
	return rc;
}
