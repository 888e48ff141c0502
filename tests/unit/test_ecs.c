/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ecs.c: the ECS writer on flows with everything filled in (a process, a place, an AS, a domain, a
 * blocklisted alert): each document is one JSON object whose every field outside netglobe.* is in ECS's
 * field list (tests/data/ecs/fields.csv) with a value of its type; source is the initiator; values land where
 * ECS puts them; an unknown process or place leaves its fields out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "communityid.h"
#include "ecs.h"
#include "flow.h"
#include "geoip.h"
#include "proc.h"

#ifndef NG_TESTDATA_DIR
#define NG_TESTDATA_DIR "tests/data"
#endif

#define MAX_FIELDS 4096

static char *names[MAX_FIELDS], *types[MAX_FIELDS];
static size_t nfields;

/* Read the Field and Type columns of ECS's fields.csv (columns 4 and 5; no quotes come before them). */
static int load_fields(void **state)
{
	char path[512], line[8192];
	const char *dir = getenv("NG_TESTDATA");
	FILE *fp;

	(void)state;
	snprintf(path, sizeof path, "%s/ecs/fields.csv", dir && *dir ? dir : NG_TESTDATA_DIR);
	fp = fopen(path, "r");
	if (!fp)
		return -1;
	while (fgets(line, sizeof line, fp) && nfields < MAX_FIELDS) {
		char *col[5], *p = line;

		for (int i = 0; i < 5; i++) {
			col[i] = p;
			p = strchr(p, ',');
			if (!p)
				break;
			*p++ = '\0';
		}
		if (!p)
			continue;
		names[nfields] = strdup(col[3]);
		types[nfields++] = strdup(col[4]);
	}
	fclose(fp);
	return nfields > 1000 ? 0 : -1;
}

static int free_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < nfields; i++) {
		free(names[i]);
		free(types[i]);
	}
	return 0;
}

static const char *ecs_type(const char *name)
{
	for (size_t i = 0; i < nfields; i++)
		if (strcmp(names[i], name) == 0)
			return types[i];
	return NULL;
}

/* True when a JSON value fits an ECS type. */
static bool fits(const cJSON *v, const char *t)
{
	if (!strcmp(t, "keyword") || !strcmp(t, "ip") || !strcmp(t, "date") || !strcmp(t, "wildcard") ||
	    !strcmp(t, "match_only_text") || !strcmp(t, "text") || !strcmp(t, "constant_keyword"))
		return cJSON_IsString(v);
	if (!strcmp(t, "long") || !strcmp(t, "integer") || !strcmp(t, "unsigned_long"))
		return cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble;
	if (!strcmp(t, "float") || !strcmp(t, "scaled_float") || !strcmp(t, "double"))
		return cJSON_IsNumber(v);
	if (!strcmp(t, "boolean"))
		return cJSON_IsBool(v);
	if (!strcmp(t, "geo_point"))
		return cJSON_IsNumber(cJSON_GetObjectItem(v, "lat")) && cJSON_IsNumber(cJSON_GetObjectItem(v, "lon"));
	return false;
}

/* Check every leaf under `o` (path `prefix`); returns how many ECS fields were checked. */
static size_t check_tree(const cJSON *o, const char *prefix)
{
	size_t n = 0;
	const cJSON *c;

	cJSON_ArrayForEach(c, o)
	{
		char path[256];
		const char *t;

		snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", c->string);
		if (strcmp(path, "netglobe") == 0)
			continue;
		t = ecs_type(path);
		if (!t && cJSON_IsObject(c)) {
			n += check_tree(c, path);
			continue;
		}
		if (!t)
			fail_msg("%s is not an ECS field", path);
		if (cJSON_IsArray(c)) {
			const cJSON *e;

			cJSON_ArrayForEach(e, c)
			{
				if (!fits(e, t))
					fail_msg("%s holds a value that is no ECS %s", path, t);
			}
		} else if (!fits(c, t)) {
			fail_msg("%s is no ECS %s", path, t);
		}
		n++;
	}
	return n;
}

/* A flow from 192.0.2.10:40000 (local, the initiator) to 203.0.113.5:443. */
static void make_flow(struct flow *f, struct geo_info *g, struct proc_info *p)
{
	ng_addr l, r;
	bool swapped;

	memset(f, 0, sizeof *f);
	addr_parse("192.0.2.10", &l);
	addr_parse("203.0.113.5", &r);
	flow_key_make(&f->key, 6, &l, 40000, &r, 443, &swapped);
	f->local_is_b = swapped;
	f->initiator_local = 1;
	f->id = 42;
	f->first_seen = 1700000000LL * NG_USEC;
	f->dir_last[FLOW_RECEIVED] = f->first_seen + 1500000;
	f->packets[FLOW_SENT] = 5;
	f->packets[FLOW_RECEIVED] = 4;
	f->bytes[FLOW_SENT] = 700;
	f->bytes[FLOW_RECEIVED] = 3000;
	f->syn_seen = 3;
	f->synack_seen = 1;
	f->handshake = 1;
	f->fin_seen = 3;
	f->state = FLOW_STATE_CLOSED;
	f->end_reason = FLOW_END_CLOSED;
	f->remote_scope = NG_SCOPE_PUBLIC;
	flow_ext_get(f)->domain = "example.org";
	f->domain_source = FLOW_DOMAIN_SNI;
	flow_verdict_set(f, FLOW_SENT, &(struct wl_verdict_info){.verdict = WL_BLOCKLISTED, .why = WL_WHY_BLOCKLISTED});
	flow_verdict_set(f, FLOW_RECEIVED, &(struct wl_verdict_info){.verdict = WL_NORMAL});
	f->verdict = WL_BLOCKLISTED;
	memset(g, 0, sizeof *g);
	g->has_location = true;
	g->lat = 35.6895;
	g->lon = 139.6917;
	memcpy(g->country, "JP", 3);
	g->country_name = "Japan";
	g->city = "Tokyo";
	g->asn = 64500;
	g->as_org = "Example Net";
	memset(p, 0, sizeof *p);
	p->pid = 4242;
	p->name = (char *)"curl";
	p->exe = (char *)"/usr/bin/curl";
	p->user = (char *)"alice";
	p->cmdline = (char *)"curl https://example.org/";
	f->geo = g;
	f->proc = p;
}

/* Write one document and parse it. */
static cJSON *doc(const struct flow *f, const struct ecs_alert *a)
{
	struct strbuf sb = {0};
	cJSON *o;

	ecs_append(f, 48LL * 3600 * NG_USEC, a, &sb);
	assert_null(strchr(sb.p, '\n'));
	o = cJSON_Parse(sb.p);
	if (!o)
		fail_msg("not JSON: %s", sb.p);
	free(sb.p);
	return o;
}

static const char *str_at(const cJSON *o, const char *a, const char *b, const char *c)
{
	const cJSON *x = cJSON_GetObjectItem(o, a);

	if (b)
		x = cJSON_GetObjectItem(x, b);
	if (c)
		x = cJSON_GetObjectItem(x, c);
	return cJSON_IsString(x) ? x->valuestring : NULL;
}

static double num_at(const cJSON *o, const char *a, const char *b, const char *c)
{
	const cJSON *x = cJSON_GetObjectItem(o, a);

	if (b)
		x = cJSON_GetObjectItem(x, b);
	if (c)
		x = cJSON_GetObjectItem(x, c);
	assert_true(cJSON_IsNumber(x));
	return x->valuedouble;
}

static void test_flow_document(void **state)
{
	struct flow f;
	struct geo_info g;
	struct proc_info p;
	char cid[COMMUNITYID_LEN];
	cJSON *o;

	(void)state;
	make_flow(&f, &g, &p);
	o = doc(&f, NULL);
	assert_true(check_tree(o, "") >= 40);
	assert_string_equal(str_at(o, "event", "kind", NULL), "event");
	assert_string_equal(str_at(o, "event", "id", NULL), "42");
	assert_int_equal((long)num_at(o, "event", "duration", NULL), 1500000000L);
	assert_string_equal(str_at(o, "source", "ip", NULL), "192.0.2.10");
	assert_int_equal((long)num_at(o, "source", "port", NULL), 40000);
	assert_int_equal((long)num_at(o, "source", "bytes", NULL), 700);
	assert_string_equal(str_at(o, "destination", "domain", NULL), "example.org");
	assert_string_equal(str_at(o, "destination", "geo", "city_name"), "Tokyo");
	assert_int_equal((long)num_at(o, "destination", "as", "number"), 64500);
	assert_string_equal(str_at(o, "network", "transport", NULL), "tcp");
	assert_string_equal(str_at(o, "network", "iana_number", NULL), "6");
	assert_string_equal(str_at(o, "network", "direction", NULL), "outbound");
	assert_string_equal(str_at(o, "network", "community_id", NULL), communityid_flow(&f, false, cid, sizeof cid));
	assert_int_equal((long)num_at(o, "process", "pid", NULL), 4242);
	assert_string_equal(str_at(o, "process", "executable", NULL), "/usr/bin/curl");
	assert_string_equal(str_at(o, "process", "command_line", NULL), "curl https://example.org/");
	assert_string_equal(str_at(o, "process", "user", "name"), "alice");
	assert_string_equal(str_at(o, "netglobe", "verdict", NULL), "blocklisted");
	assert_string_equal(str_at(o, "netglobe", "conn_state", NULL), "SF");
	cJSON_Delete(o);

	/* The remote end opened it: it is the source; no process, no place: their fields are left out. */
	f.initiator_local = 0;
	f.proc = NULL;
	f.geo = NULL;
	o = doc(&f, NULL);
	check_tree(o, "");
	assert_string_equal(str_at(o, "source", "ip", NULL), "203.0.113.5");
	assert_string_equal(str_at(o, "network", "direction", NULL), "inbound");
	assert_null(cJSON_GetObjectItem(o, "process"));
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "source"), "geo"));
	cJSON_Delete(o);
}

static void test_alert_document(void **state)
{
	struct flow f;
	struct geo_info g;
	struct proc_info p;
	struct ecs_alert a;
	cJSON *o;

	(void)state;
	make_flow(&f, &g, &p);
	{
		struct wl_verdict_info v = *flow_verdict(&f, FLOW_SENT);

		v.rule = "feodo.txt";
		v.entry = "203.0.113.0/24";
		flow_verdict_set(&f, FLOW_SENT, &v);
	}
	memset(&a, 0, sizeof a);
	a.id = 7;
	a.time = f.first_seen;
	a.dir = FLOW_SENT;
	a.verdict = flow_verdict(&f, FLOW_SENT);
	o = doc(&f, &a);
	check_tree(o, "");
	assert_string_equal(str_at(o, "event", "kind", NULL), "alert");
	assert_string_equal(str_at(o, "event", "id", NULL), "7");
	assert_int_equal((long)num_at(o, "event", "severity", NULL), 3);
	assert_string_equal(str_at(o, "rule", "name", NULL), "blocklisted");
	assert_string_equal(str_at(o, "threat", "indicator", "ip"), "203.0.113.5");
	assert_string_equal(str_at(o, "threat", "indicator", "provider"), "feodo.txt");
	assert_int_equal((long)num_at(o, "netglobe", "alert_id", NULL), 7);
	assert_string_equal(str_at(o, "netglobe", "blocklist", "entry"), "203.0.113.0/24");
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_document),
		cmocka_unit_test(test_alert_document),
	};

	return cmocka_run_group_tests(tests, load_fields, free_fields);
}
