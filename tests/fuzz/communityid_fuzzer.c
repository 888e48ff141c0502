/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * communityid_fuzzer.c: libFuzzer harness for the Community ID: communityid_parse on any text (what
 * /flows?community_id= gets from the network) never reads past its end and accepts only what it writes back
 * the same; and the hash's symmetry on any tuple: both directions of a TCP, UDP, SCTP or other flow, and an
 * ICMP request and its reply, get one ID that reads back to its digest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "communityid.h"
#include "decode.h"
#include "util.h"

/* The counterparts the specification pairs (ICMP, then ICMPv6). */
static const uint8_t pairs[][3] = {
	{NG_PROTO_ICMP, 8, 0}, {NG_PROTO_ICMP, 13, 14}, {NG_PROTO_ICMP, 15, 16}, {NG_PROTO_ICMP, 10, 9},
	{NG_PROTO_ICMP, 17, 18}, {NG_PROTO_ICMPV6, 128, 129}, {NG_PROTO_ICMPV6, 133, 134}, {NG_PROTO_ICMPV6, 135, 136},
	{NG_PROTO_ICMPV6, 130, 131}, {NG_PROTO_ICMPV6, 139, 140}, {NG_PROTO_ICMPV6, 144, 145},
};

/* Abort unless the text form of d reads back to d, in both forms. */
static void round_trip(const uint8_t d[20])
{
	char b64[COMMUNITYID_LEN], hex[COMMUNITYID_HEX_LEN];
	uint8_t back[20];

	communityid_format(d, false, b64, sizeof b64);
	communityid_format(d, true, hex, sizeof hex);
	if (communityid_parse(b64, back) != 0 || memcmp(back, d, 20) != 0)
		abort();
	if (communityid_parse(hex, back) != 0 || memcmp(back, d, 20) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	uint8_t d[20], e[20];
	char a_id[COMMUNITYID_LEN], b_id[COMMUNITYID_LEN];

	/* 1. Any text: a digest it gives formats back to the text (spaces as '+', hex in lower case). */
	memcpy(text, data, size);
	text[size] = '\0';
	if (communityid_parse(text, d) == 0) {
		char again[COMMUNITYID_HEX_LEN];
		size_t n = strlen(text);

		communityid_format(d, n == COMMUNITYID_HEX_LEN - 1, again, sizeof again);
		for (size_t i = 0; i < n; i++) {
			char c = text[i] == ' ' ? '+' : text[i];

			if (n == COMMUNITYID_HEX_LEN - 1 && c >= 'A' && c <= 'F')
				c = (char)(c - 'A' + 'a');
			if (c != again[i])
				abort();
		}
		round_trip(d);
	}
	free(text);

	/* 2. A tuple from the bytes: seed, protocol, family, two addresses, two ports. */
	if (size >= 40) {
		uint16_t seed = (uint16_t)(data[0] << 8 | data[1]);
		uint8_t proto = data[2], sel = data[3] % 8;
		bool v6 = data[4] & 1;
		ng_addr x = v6 ? addr_from_v6(data + 5) : addr_from_v4(data + 5);
		ng_addr y = v6 ? addr_from_v6(data + 21) : addr_from_v4(data + 21);
		uint16_t px = (uint16_t)(data[37] << 8 | data[38]), py = (uint16_t)(data[39] << 8 | data[size - 1]);
		static const uint8_t common[] = {NG_PROTO_TCP, NG_PROTO_UDP, 132, 46, 0, 255};

		if (sel < NG_ARRAY_LEN(common))
			proto = common[sel];
		if (sel == 6 || sel == 7) {
			/* An ICMP pair: the request one way, the reply the other, whatever the codes. */
			const uint8_t *pr = pairs[data[2] % NG_ARRAY_LEN(pairs)];

			communityid_tuple(seed, pr[0], &x, pr[1], &y, px & 0xff, false, a_id, sizeof a_id);
			communityid_tuple(seed, pr[0], &y, pr[2], &x, py & 0xff, false, b_id, sizeof b_id);
		} else {
			communityid_tuple(seed, proto, &x, px, &y, py, false, a_id, sizeof a_id);
			communityid_tuple(seed, proto, &y, py, &x, px, false, b_id, sizeof b_id);
		}
		if (strcmp(a_id, b_id) != 0)
			abort();
		if (communityid_parse(a_id, d) != 0)
			abort();
		communityid_digest(seed, proto, &x, &y, false, 0, 0, e);
		round_trip(d);
		round_trip(e);
	}
	return 0;
}
