/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * engine_fuzzer.c: libFuzzer harness for the whole per-packet path: decode,
 * fragments, passive DNS, TLS/HTTP names, flow table, verdicts. The input is a
 * sequence of frames, each preceded by a 2-byte big-endian length; the first
 * byte picks the link type. Flows are printed as JSON at the end, so the
 * serializer runs on whatever state the packets produced.
 */
#include <cjson/cJSON.h>
#include <pcap/dlt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "engine.h"
#include "flowjson.h"
#include "local.h"
#include "log.h"
#include "whitelist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Serialize every flow (exercises flowjson on fuzzed state). */
static void print_flow(void *arg, struct flow *f)
{
	cJSON *o = flowjson_object(f, 48LL * 3600 * NG_USEC);
	char *s = cJSON_PrintUnformatted(o);

	(void)arg;
	free(s);
	cJSON_Delete(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_RAW, DLT_NULL};
	struct engine_config ec;
	struct whitelist_options wo;
	struct local_set *ls;
	struct dns_cache *dns;
	struct whitelist *wl;
	struct engine *e;
	char err[256];
	size_t off = 1;
	ng_time t = 1700000000LL * NG_USEC;
	int dlt;

	if (size < 1)
		return 0;
	log_init(NG_LOG_ERR);
	dlt = dlts[data[0] % 4];
	memset(&ec, 0, sizeof ec);
	ec.flows.max_flows = 64;
	ec.flows.max_ended = 8;
	ec.names = true;
	ec.detect.max_keys = 64;	/* small tables: the fuzzer creates an engine per input, and eviction is exercised sooner */
	memset(&wo, 0, sizeof wo);
	wo.window = 48LL * 3600 * NG_USEC;
	wl = whitelist_open(&wo, err, sizeof err);
	ls = local_set_create();
	local_set_add(ls, "192.168.0.0/16", err, sizeof err);
	dns = dns_cache_create(128, 3600 * NG_USEC);
	e = engine_create(&ec, &(struct engine_parts){.local = ls, .dns = dns, .wl = wl});
	while (off + 2 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		struct capture_packet p;
		uint8_t *copy;

		off += 2;
		if (len > size - off)
			len = size - off;
		copy = malloc(len ? len : 1);
		memcpy(copy, data + off, len);
		p.ts = t;
		p.data = copy;
		p.caplen = (uint32_t)len;
		p.wirelen = (uint32_t)len;
		engine_packet(e, dlt, &p);
		free(copy);
		off += len;
		t += (data[off - 1 < size ? off - 1 : 0] & 0x3f) * NG_USEC;
	}
	flow_table_foreach(engine_flows(e), print_flow, NULL);
	engine_destroy(e);
	dns_cache_destroy(dns);
	local_set_destroy(ls);
	whitelist_close(wl);
	return 0;
}
