/* SPDX-License-Identifier: BSD-2-Clause */
/* asn_format.h: the on-disk layout of netglobe's IP-to-AS range table (.ngasn), shared by the reader and geoip/tools/asn_build.c. */
#ifndef NG_ASN_FORMAT_H
#define NG_ASN_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * FILE FORMAT "NGASN2" (written by geoip/tools/asn_build.c, read here).
 * NGASN1 was the same layout with a byte-wise FNV-1a checksum, which took
 * longer to check at every start than everything else netglobe opens.
 * All integers are little-endian; IPv6 addresses are 16 bytes in network
 * order so they compare with memcmp.
 *
 *   offset  size  field
 *   0       8     magic "NGASN2\0\0"
 *   8       4     header size, 64
 *   12      4     n4: IPv4 ranges
 *   16      4     n6: IPv6 ranges
 *   20      4     nval: distinct (AS number, organisation) values
 *   24      4     pool: bytes in the string pool
 *   28      4     desc: pool offset of a line describing the source data
 *   32      8     build time, Unix seconds
 *   40      8     checksum: asn_table_checksum of the file (this field read as zero)
 *   48      8     file size
 *   56      8     zero
 *   64            v4 starts  n4 x u32 (the address as a number), strictly increasing
 *                 v4 ends    n4 x u32, start <= end < next start
 *                 v4 values  n4 x u32, index into the value table
 *                 v6 starts  n6 x 16 bytes, strictly increasing
 *                 v6 ends    n6 x 16 bytes, start <= end < next start
 *                 v6 values  n6 x u32
 *                 values     nval x (u32 AS number, never 0; u32 pool offset of the organisation)
 *                 pool       NUL-terminated UTF-8 strings without control characters,
 *                            at most ASN_TABLE_STRMAX bytes each; offset 0 is "" (no organisation)
 *
 * The file size is exactly the sum of the sections, so nothing is left
 * unchecked. Ranges never overlap, so the answer is one binary search.
 */
#define ASN_TABLE_MAGIC "NGASN2\0\0"
#define ASN_TABLE_MAGIC_V1 "NGASN1\0\0"	/* recognised only to say "rebuild it" */
#define ASN_TABLE_MAGICLEN 8
#define ASN_TABLE_HDRLEN 64
#define ASN_TABLE_STRMAX 255

/*
 * The table's checksum, over the whole file with the checksum field (bytes
 * 40..47) read as zero, so the header is covered too. Four lanes each step
 * h = rotl((h ^ w) * P, 29) over every fourth 8-byte little-endian word, so
 * the four lanes' multiplications overlap instead of waiting on each other
 * (byte-wise FNV-1a managed one byte per multiplication); the tail bytes go
 * to lane 0, and the lanes are folded and mixed at the end. Each step is a
 * bijection of the lane, so a change confined to one word always changes
 * the result; the rotation carries a change in a word's top bits down to
 * where the next multiplication spreads it, so two such changes cannot
 * cancel as they do with multiply and xor alone.
 */
static inline uint64_t asn_rotl64(uint64_t x, unsigned r)
{
	return x << r | x >> (64 - r);
}

static inline uint64_t asn_table_checksum(const uint8_t *file, size_t len)
{
	const uint64_t prime = 0x100000001b3ULL;
	uint64_t h[4] = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL, 0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL};
	uint64_t r;
	size_t i = 0;

	for (; i + 32 <= len; i += 32) {
		for (size_t k = 0; k < 4; k++) {
			uint64_t w;

			memcpy(&w, file + i + 8 * k, sizeof w);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
			w = __builtin_bswap64(w);
#endif
			if (i + 8 * k == 40)
				w = 0;
			h[k] = asn_rotl64((h[k] ^ w) * prime, 29);
		}
	}
	for (; i < len; i++) {
		uint8_t c = (i >= 40 && i < 48) ? 0 : file[i];

		h[0] = asn_rotl64((h[0] ^ c) * prime, 29);
	}
	r = (h[0] ^ (uint64_t)len) * prime;
	for (size_t k = 1; k < 4; k++)
		r = asn_rotl64((r ^ h[k]) * prime, 29);
	/* A final mix (MurmurHash3's fmix64), so every input bit reaches every output bit. */
	r ^= r >> 33;
	r *= 0xff51afd7ed558ccdULL;
	r ^= r >> 33;
	r *= 0xc4ceb9fe1a85ec53ULL;
	r ^= r >> 33;
	return r;
}

#endif
