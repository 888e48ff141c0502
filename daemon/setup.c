/* SPDX-License-Identifier: BSD-2-Clause */
/* setup.c: open the modules an engine needs, with one clear line when something is wrong. */
#include "setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "platform.h"

#include "capture.h"
#include "decode.h"
#include "dns.h"
#include "enrich.h"
#include "geoip.h"
#include "local.h"
#include "log.h"
#include "proc.h"
#include "whitelist.h"

/* Packets the local-host inference reads at most (a huge file costs little extra). */
#define INFER_MAX_PACKETS 50000

void modules_close(struct modules *m)
{
	whitelist_close(m->wl);
	geoip_close(m->geoip);
	dns_cache_destroy(m->dns);
	proc_table_destroy(m->proc);
	local_set_destroy(m->local);
	free(m->public_nets);
	memset(m, 0, sizeof *m);
}

struct infer_arg {
	struct local_infer *li;
	int dlt;
};

/* Callback for the local-host inference pass. */
static void infer_cb(void *arg, const struct capture_packet *p)
{
	struct infer_arg *a = arg;
	struct pkt pk;

	if (decode_packet(a->dlt, p->data, p->caplen, p->wirelen, &pk) == DECODE_OK)
		local_infer_packet(a->li, &pk);
}

/* Infer the local host of a capture file by reading (the start of) it once in advance. */
static int infer_local(const struct config *cfg, struct modules *m, char *err, size_t errlen)
{
	struct capture_options co = {.file = cfg->file, .filter = cfg->filter};
	struct infer_arg a;
	struct capture *c;
	char desc[400], ebuf[512];
	int total = 0, n;

	c = capture_open(&co, err, errlen);
	if (!c)
		return -1;
	a.dlt = capture_datalink(c);
	a.li = local_infer_create();
	while (total < INFER_MAX_PACKETS && (n = capture_dispatch(c, 4096, infer_cb, &a, ebuf, sizeof ebuf)) > 0)
		total += n;
	capture_close(c);
	if (local_infer_finish(a.li, m->local, desc, sizeof desc) > 0) {
		log_info("local host inferred from the capture: %s (give --local-net CIDR to choose)", desc);
		snprintf(m->local_source, sizeof m->local_source, "inferred");
	} else {
		snprintf(m->local_source, sizeof m->local_source, "none");
	}
	local_infer_destroy(a.li);
	return 0;
}

/* Open GeoIP from --geoip-city/--geoip-asn, else the bundled data; missing bundled data is only a warning. */
static int open_geoip(const struct config *cfg, struct modules *m, char *err, size_t errlen)
{
	struct geoip_options go;
	struct geoip_defaults *defs;
	char why[1024];
	bool have_defaults;

	if (cfg->no_geoip)
		return 0;
	memset(&go, 0, sizeof go);
	defs = xcalloc(1, sizeof *defs);
	have_defaults = geoip_default_options(&go, defs, why, sizeof why) == 0;
	if (cfg->geoip_city.n) {
		go.ncity = 0;
		for (size_t i = 0; i < cfg->geoip_city.n && i < NG_ARRAY_LEN(go.city); i++)
			go.city[go.ncity++] = cfg->geoip_city.v[i];
	}
	if (cfg->geoip_asn)
		go.asn = cfg->geoip_asn;
	if (!have_defaults && !cfg->geoip_city.n && !cfg->geoip_asn) {
		log_warnx("%s; continuing without locations", why);
		free(defs);
		return 0;
	}
	m->geoip = geoip_open(&go, err, errlen);
	free(defs);
	if (!m->geoip)
		return -1;
	geoip_describe(m->geoip, m->geoip_desc, sizeof m->geoip_desc);
	return 0;
}

const char *setup_state_dir(const struct config *cfg, char *buf, size_t len)
{
	if (cfg->state_dir)
		snprintf(buf, len, "%s", cfg->state_dir);
	else if (!platform_state_dir_default(buf, len))
		snprintf(buf, len, "/tmp/netglobe-%u", (unsigned)geteuid());	/* no $HOME at all */
	return buf;
}

int modules_open(const struct config *cfg, bool live, struct modules *m, char *err, size_t errlen)
{
	struct whitelist_options wo;
	char statebuf[4096];

	memset(m, 0, sizeof *m);
	m->local = local_set_create();
	for (size_t i = 0; i < cfg->local_nets.n; i++) {
		if (local_set_add(m->local, cfg->local_nets.v[i], err, errlen) != 0)
			goto fail;
	}
	snprintf(m->local_source, sizeof m->local_source, "%s", cfg->local_nets.n ? "--local-net" : "none");
	if (live) {
		if (local_set_add_interfaces(m->local, err, errlen) != 0)
			goto fail;
		if (!cfg->local_nets.n)
			snprintf(m->local_source, sizeof m->local_source, "interfaces");
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
	if (open_geoip(cfg, m, err, errlen) != 0)
		goto fail;

	/* --dump without --state-dir judges against an empty, in-memory history, so it is repeatable. */
	memset(&wo, 0, sizeof wo);
	if (cfg->state_dir || !cfg->dump)
		wo.state_dir = setup_state_dir(cfg, statebuf, sizeof statebuf);
	wo.window = cfg->window;
	wo.retention = cfg->retention;
	wo.allow_files = (const char **)cfg->allow.v;
	wo.nallow = cfg->allow.n;
	wo.block_files = (const char **)cfg->blocklist.v;
	wo.nblock = cfg->blocklist.n;
	wo.max_list_entries = cfg->blocklist_max;
	wo.public_nets = m->public_nets;
	wo.npublic = m->npublic;
	m->wl = whitelist_open(&wo, err, errlen);
	if (!m->wl)
		goto fail;

	/* Last of the files: reading the capture ahead takes a while, and a bad list should not wait for it. */
	if (!live && !cfg->local_nets.n) {
		if (strcmp(cfg->file, "-") == 0)
			log_info("reading standard input: cannot infer the local host in advance; "
				 "private addresses count as local (give --local-net CIDR to choose)");
		else if (infer_local(cfg, m, err, errlen) != 0)
			goto fail;
	}

	if (live && !cfg->no_process) {
		char why[512];

		m->proc = proc_table_create(why, sizeof why);
		if (!m->proc)
			log_warnx("no process attribution: %s", why);
		else if (!PLATFORM_BPF)
			log_info("process attribution: %s", proc_table_source(m->proc));
		else if (cfg->no_bpf)
			log_info("process attribution: sock_diag and /proc (--no-bpf)");
		else if (proc_table_enable_bpf(m->proc, why, sizeof why) != 0)
			log_warnx("process attribution: sock_diag and /proc, without BPF: %s", why);
		else
			log_info("process attribution: BPF tracepoints (%s); sock_diag and /proc for older sockets",
				 proc_table_hooks(m->proc));
	}
	return 0;
fail:
	modules_close(m);
	return -1;
}

void modules_engine_config(const struct config *cfg, const struct modules *m, bool live, struct engine_config *ec)
{
	memset(ec, 0, sizeof *ec);
	ec->flows.max_flows = cfg->max_flows;
	ec->flows.max_ended = cfg->dump ? 0 : cfg->keep_ended;
	ec->flows.tcp_timeout = cfg->tcp_timeout;
	ec->flows.tcp_closed_timeout = cfg->tcp_closed_timeout;
	ec->flows.udp_timeout = cfg->udp_timeout;
	ec->live = live;
	ec->names = !cfg->no_names;
	ec->detect.off = cfg->no_signals;
	ec->alert_on_verdict = cfg->alert_on && strcmp(cfg->alert_on, "anomalous") == 0;
	ec->public_nets = m->public_nets;
	ec->npublic_nets = m->npublic;
}

void modules_engine_parts(const struct modules *m, struct engine_parts *parts)
{
	memset(parts, 0, sizeof *parts);
	parts->local = m->local;
	parts->dns = m->dns;
	parts->wl = m->wl;
	parts->enrich[ENRICH_GEO] = m->geoip;
	parts->enrich[ENRICH_PROC] = m->proc;
}

void modules_enrich_stats(const struct modules *m, cJSON *o)
{
	struct engine_parts parts;

	modules_engine_parts(m, &parts);
	for (int s = 0; s < ENRICH_SLOTS; s++) {
		if (parts.enrich[s] && enrichment_kinds[s]->stats)
			enrichment_kinds[s]->stats(parts.enrich[s], cJSON_AddObjectToObject(o, enrichment_kinds[s]->name));
	}
}
