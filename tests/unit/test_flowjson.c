/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_flowjson.c: the flow writer copies names from netglobe's tables without escaping them, which is right
 * only while sb_json_str would leave every one unchanged; and what it writes is one valid JSON object.
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

#include "addr.h"
#include "detect.h"
#include "flow.h"
#include "flowjson.h"
#include "util.h"
#include "whitelist.h"

/* Fail unless name is NULL or sb_json_str writes it as it is between quotes. */
static void assert_plain(const char *what, unsigned value, const char *name)
{
	struct strbuf sb = {0};

	if (!name)
		return;
	sb_json_str(&sb, name);
	if (sb.len != strlen(name) + 2 || sb.p[0] != '"' || memcmp(sb.p + 1, name, strlen(name)) != 0 ||
	    sb.p[sb.len - 1] != '"' || name[0] == '\0')
		fail_msg("%s %u: the name '%s' is not a plain JSON string (it would be written %s)", what, value, name,
			 sb.p);
	free(sb.p);
}

/* Every name of every table the writer copies as it is. */
static void test_table_names_are_plain(void **state)
{
	char buf[16];

	(void)state;
	for (unsigned v = 0; v < 256; v++) {
		assert_plain("protocol", v, flowjson_proto_name((uint8_t)v, buf, sizeof buf));
		assert_plain("state", v, flowjson_state_name((uint8_t)v));
		assert_plain("end reason", v, flowjson_end_name((uint8_t)v));
		assert_plain("domain source", v, flowjson_domain_source_name((uint8_t)v));
	}
	for (unsigned v = 0; v < NG_SCOPE_COUNT + 4; v++)
		assert_plain("scope", v, scope_name((enum ng_scope)v));
	for (unsigned v = 0; v <= WL_BLOCKLISTED + 2; v++)
		assert_plain("verdict", v, wl_verdict_name((enum wl_verdict)v));
	for (unsigned v = 0; v <= NG_ATTN_HIGH + 2; v++)
		assert_plain("attention", v, attention_name((enum ng_attention)v));
	for (unsigned v = 0; v <= SIG_COUNT; v++)
		assert_plain("signal", v, sig_name((enum sig_id)v));
	/* The protocol names written by hand for numbers without a name are what "ip-%u" writes. */
	for (unsigned v = 0; v < 256; v++) {
		char want[16];
		const char *got = flowjson_proto_name((uint8_t)v, buf, sizeof buf);

		if (got == buf) {
			snprintf(want, sizeof want, "ip-%u", v);
			assert_string_equal(got, want);
		}
	}
}

/* Every conn_state the bits of a flow can give is plain too (all 2^12 combinations, three protocols). */
static void test_conn_states_are_plain(void **state)
{
	static const uint8_t protos[] = {NG_PROTO_TCP, NG_PROTO_UDP, NG_PROTO_ICMP};
	struct flow f;

	(void)state;
	for (size_t p = 0; p < NG_ARRAY_LEN(protos); p++) {
		for (unsigned bits = 0; bits < 4096; bits++) {
			memset(&f, 0, sizeof f);
			f.key.proto = protos[p];
			f.syn_seen = bits & 3;
			f.fin_seen = bits >> 2 & 3;
			f.rst_seen = bits >> 4 & 3;
			f.synack_seen = bits >> 6 & 1;
			f.handshake = bits >> 7 & 1;
			f.initiator_local = bits >> 8 & 1;
			f.packets[0] = bits >> 9 & 1;
			f.packets[1] = bits >> 10 & 1;
			assert_plain("conn_state bits", bits, flowjson_conn_state(&f));
		}
	}
}

/* A flow with awkward text and extreme numbers is written as one valid object that says what the flow holds. */
static void test_object_is_valid_json(void **state)
{
	struct flow f;
	struct flow_ext ext;
	cJSON *o;

	(void)state;
	memset(&f, 0, sizeof f);
	memset(&ext, 0, sizeof ext);
	f.id = UINT64_MAX;
	f.key.proto = 200;
	f.bytes[FLOW_SENT] = UINT64_MAX;
	f.packets[FLOW_RECEIVED] = UINT64_MAX - 1;
	f.bytes[1] = 1234567890123ULL;
	f.first_seen = -1;
	f.dir_last[FLOW_RECEIVED] = 253402300800000000LL;	/* the last packet: past the year 9999 */
	ext.domain = "quote\"back\\slash\x01\xff.example";
	f.ext = &ext;
	f.end_reason = FLOW_END_IDLE;
	o = flowjson_object(&f, 48LL * 3600 * NG_USEC);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "proto")->valuestring, "ip-200");
	assert_string_equal(cJSON_GetObjectItem(o, "remote_domain")->valuestring,
			    "quote\"back\\slash\x01\xef\xbf\xbd.example");
	assert_string_equal(cJSON_GetObjectItem(o, "first_seen")->valuestring, "1969-12-31T23:59:59.999999Z");
	assert_string_equal(cJSON_GetObjectItem(o, "last_seen")->valuestring, "10000-01-01T00:00:00.000000Z");
	assert_string_equal(cJSON_GetObjectItem(o, "end_reason")->valuestring, "idle");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "active")));
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(o, "signals")));
	/* A remote that spoke first and was never answered: the unanswered signal, its count written by hand. */
	{
		cJSON *sig = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "signals"), 0);
		char want[128];

		assert_non_null(sig);
		assert_string_equal(cJSON_GetObjectItem(sig, "name")->valuestring, "unanswered");
		snprintf(want, sizeof want, "inbound attempt this host never answered (%llu packets)",
			 (unsigned long long)(UINT64_MAX - 1));
		assert_string_equal(cJSON_GetObjectItem(sig, "reason")->valuestring, want);
	}
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "evidence_url")));
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_names_are_plain),
		cmocka_unit_test(test_conn_states_are_plain),
		cmocka_unit_test(test_object_is_valid_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
