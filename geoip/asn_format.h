/* asn_format.h: the on-disk layout of netglobe's IP-to-AS range table (.ngasn), shared by the reader and geoip/tools/asn_build.c. */
#ifndef NG_ASN_FORMAT_H
#define NG_ASN_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/*
 * FILE FORMAT "NGASN1" (written by geoip/tools/asn_build.c, read here).
 * All integers are little-endian; IPv6 addresses are 16 bytes in network
 * order so they compare with memcmp.
 *
 *   offset  size  field
 *   0       8     magic "NGASN1\0\0"
 *   8       4     header size, 64
 *   12      4     n4: IPv4 ranges
 *   16      4     n6: IPv6 ranges
 *   20      4     nval: distinct (AS number, organisation) values
 *   24      4     pool: bytes in the string pool
 *   28      4     desc: pool offset of a line describing the source data
 *   32      8     build time, Unix seconds
 *   40      8     checksum: FNV-1a 64 of every other byte of the file
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
#define ASN_TABLE_MAGIC "NGASN1\0\0"
#define ASN_TABLE_MAGICLEN 8
#define ASN_TABLE_HDRLEN 64
#define ASN_TABLE_STRMAX 255

/*
 * The table's checksum: FNV-1a 64 over the whole file except the checksum
 * field itself (bytes 40..47), so the header is covered too.
 */
static inline uint64_t asn_table_checksum(const uint8_t *file, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		if (i == 40)
			i = 48;
		if (i >= len)
			break;
		h ^= file[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#endif
