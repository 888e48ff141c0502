/* SPDX-License-Identifier: BSD-2-Clause */
/* sketch.h: small fixed-size distinct counters (linear counting bitmaps) and robust statistics for the detectors. */
#ifndef NG_SKETCH_H
#define NG_SKETCH_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Linear counting (Whang, Vander-Zanden and Taylor, "A linear-time
 * probabilistic counting algorithm for database applications", ACM TODS
 * 1990): hash each item to one bit of an m-bit map; with z bits still zero,
 * n is about -m ln(z/m). Accurate (a few per cent) while n stays below
 * about m ln m; past that every bit is set and the estimate is capped there.
 */

/* Set the bit of hash h in a map of nbits (a power of two); true when it was clear. */
static inline bool sketch_add(uint64_t *bits, size_t nbits, uint64_t h)
{
	size_t b = (size_t)(h >> 7) & (nbits - 1);
	uint64_t m = 1ULL << (b & 63);
	bool fresh = !(bits[b >> 6] & m);

	bits[b >> 6] |= m;
	return fresh;
}

/* True when the bit of hash h is set. */
static inline bool sketch_has(const uint64_t *bits, size_t nbits, uint64_t h)
{
	size_t b = (size_t)(h >> 7) & (nbits - 1);

	return (bits[b >> 6] >> (b & 63)) & 1;
}

/* Distinct items in the union of one or two maps (b may be NULL). */
static inline double sketch_estimate(const uint64_t *a, const uint64_t *b, size_t nbits)
{
	size_t zeros = 0;
	double m = (double)nbits;

	for (size_t w = 0; w < nbits / 64; w++)
		zeros += 64 - (size_t)__builtin_popcountll(a[w] | (b ? b[w] : 0));
	if (zeros == 0)
		return m * log(m);
	return -m * log((double)zeros / m);
}

/* Quantile p of n sorted values, interpolating linearly between neighbours. */
static inline double sketch_quantile(const double *sorted, size_t n, double p)
{
	double x = p * (double)(n - 1);
	size_t i = (size_t)x;
	double f = x - (double)i;

	if (i + 1 >= n)
		return sorted[n - 1];
	return sorted[i] * (1 - f) + sorted[i + 1] * f;
}

/* Shannon entropy in bits per character of s[0..n). */
static inline double sketch_entropy(const char *s, size_t n)
{
	unsigned count[256] = {0};
	double h = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		count[(unsigned char)s[i]]++;
	for (int c = 0; c < 256; c++) {
		if (count[c]) {
			double p = (double)count[c] / (double)n;

			h -= p * log2(p);
		}
	}
	return h;
}

#endif
