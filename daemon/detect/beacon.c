/* SPDX-License-Identifier: BSD-2-Clause */
/* beacon.c: find connections repeated at regular intervals (command-and-control beacons), in the manner of RITA. */
#include "beacon.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lru.h"
#include "sketch.h"

/*
 * DESIGN
 *
 * RITA (activecm/rita, analysis/beacons.go) scores a pair of hosts over a
 * day of logs: the gaps between connection starts and the connection sizes
 * each get (Bowley-skewness score + MAD score) / 2, and two more sub-scores
 * look at how connections spread over the day's hours. netglobe judges live,
 * at every connection start, from the last BEACON_RING starts of one key:
 *
 *   ts_score   RITA's timestamp score on the gaps: Bowley skewness
 *              (Q1 + Q3 - 2 Q2) / (Q3 - Q1), ignored (0) while the
 *              inter-quartile range is below BEACON_SKEW_FLOOR_S or
 *              BEACON_SKEW_FLOOR_REL of the median (RITA ignores it below
 *              10 s: jitter that small is not skew), and MAD score
 *              (median - MAD) / median.
 *   ds_score   RITA's data size score on the sizes of the connections in the
 *              ring that have ended (skew ignored below 10 bytes of IQR, as
 *              RITA does, or below BEACON_SKEW_FLOOR_REL of the median),
 *              used once BEACON_MIN_SIZES are known.
 *   span_score stands in for RITA's histogram and duration scores, which
 *              need hours: gaps x median gap / (newest - oldest start). It is
 *              1 for evenly spread connections and small for bursts
 *              separated by silence.
 *
 * A beacon needs BEACON_MIN_CONNS starts, a median gap of at least
 * BEACON_MIN_PERIOD (below that it is a burst, not a schedule), at most
 * BEACON_OUTLIER_SHARE of gaps off the median by more than half of it (a
 * Poisson process has about 65% such gaps, a jittered schedule none, one
 * missed beat is tolerated), and then either
 *   timing:      ts_score >= 0.92 and (ts + span) / 2 >= 0.92, or
 *   with sizes:  ts_score >= 0.88 and (ts + ds + span) / 3 >= 0.90
 * (sizes count once BEACON_MIN_SIZES connections have ended; they can only
 * add evidence, never veto regular timing). score is the mean used.
 * These were set by simulation (1000 seeds each): periods 5..3600 s with
 * +-10% uniform jitter fire by the 10th connection and never drop; Poisson
 * arrivals over 200 connections and human-like bursts never fired.
 *
 * Starts less than BEACON_MERGE after the previous one are the same event
 * (RITA drops zero gaps between second-resolution timestamps): parallel
 * connections of one check-in count once, and their bytes add up.
 *
 * Memory: one struct beacon_entry per key, all allocated at create.
 */

#define BEACON_MIN_CONNS 10
#define BEACON_MIN_SIZES 5
#define BEACON_MERGE (1 * NG_USEC)
#define BEACON_MIN_PERIOD (4 * NG_USEC)
#define BEACON_SKEW_FLOOR_S 1.0
#define BEACON_SKEW_FLOOR_REL 0.2
#define BEACON_SIZE_SKEW_FLOOR 10.0
#define BEACON_OUTLIER_SHARE 0.10
#define BEACON_TS_MIN 0.88
#define BEACON_SCORE_MIN 0.90
#define BEACON_TS_ONLY_MIN 0.92
#define BEACON_TS_ONLY_SCORE_MIN 0.92

struct beacon_entry {
	ng_time start[BEACON_RING];	/* first start of each event, oldest at `first` */
	uint32_t bytes[BEACON_RING];	/* saturating sum of the event's connections */
	uint8_t open[BEACON_RING];	/* connections of the event not ended yet (saturating) */
	ng_time last_start;		/* latest start merged into the newest event */
	uint32_t total;			/* connections ever started with this key */
	uint8_t first, n;		/* ring: oldest slot and number of events */
};

struct beacon_table {
	struct lru *keys;
	struct beacon_entry *e;
};

struct beacon_table *beacon_table_create(size_t max_keys)
{
	struct beacon_table *bt = xcalloc(1, sizeof *bt);

	bt->keys = lru_create(max_keys);
	bt->e = xcalloc(lru_cap(bt->keys), sizeof *bt->e);
	return bt;
}

void beacon_table_destroy(struct beacon_table *bt)
{
	if (!bt)
		return;
	lru_destroy(bt->keys);
	free(bt->e);
	free(bt);
}

size_t beacon_table_memory(const struct beacon_table *bt)
{
	return sizeof *bt + lru_memory(bt->keys) + lru_cap(bt->keys) * sizeof *bt->e;
}

/* Slot of the i-th oldest event. */
static unsigned ring_at(const struct beacon_entry *e, unsigned i)
{
	return (e->first + i) % BEACON_RING;
}

/* qsort order for doubles. */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * RITA's statistical score of n values (sorted in place): Bowley skewness
 * score and MAD score averaged. Skew counts only when the IQR reaches
 * max(floor_abs, floor_rel * median). *median and *mad are returned.
 */
static double regularity(double *v, size_t n, double floor_abs, double floor_rel, double *median, double *mad)
{
	double dev[BEACON_RING];
	double q1, q2, q3, iqr, skew = 0, mad_score = 0;

	qsort(v, n, sizeof *v, cmp_double);
	q1 = sketch_quantile(v, n, 0.25);
	q2 = sketch_quantile(v, n, 0.5);
	q3 = sketch_quantile(v, n, 0.75);
	iqr = q3 - q1;
	if (iqr >= floor_abs && iqr >= floor_rel * q2 && q2 != q1 && q2 != q3)
		skew = (q1 + q3 - 2 * q2) / iqr;
	for (size_t i = 0; i < n; i++)
		dev[i] = fabs(v[i] - q2);
	qsort(dev, n, sizeof *dev, cmp_double);
	*median = q2;
	*mad = sketch_quantile(dev, n, 0.5);
	if (q2 >= 1)
		mad_score = (q2 - *mad) / q2;
	if (mad_score < 0 || isnan(mad_score))
		mad_score = 0;
	return (1 - fabs(skew) + mad_score) / 2;
}

/* Judge the entry's ring into *out. */
static void judge(const struct beacon_entry *e, struct beacon_result *out)
{
	double gaps[BEACON_RING], sizes[BEACON_RING];
	double median = 0, mad = 0, smed, smad, span;
	size_t ng = 0, ns = 0, outliers = 0;

	memset(out, 0, sizeof *out);
	out->connections = e->total;
	if (e->n < 2)
		return;
	for (unsigned i = 1; i < e->n; i++)
		gaps[ng++] = (double)(e->start[ring_at(e, i)] - e->start[ring_at(e, i - 1)]) / NG_USEC;
	for (unsigned i = 0; i < e->n; i++) {
		unsigned s = ring_at(e, i);

		if (e->open[s] == 0)
			sizes[ns++] = e->bytes[s];
	}
	span = (double)(e->start[ring_at(e, e->n - 1)] - e->start[e->first]) / NG_USEC;
	out->ts_score = regularity(gaps, ng, BEACON_SKEW_FLOOR_S, BEACON_SKEW_FLOOR_REL, &median, &mad);
	out->period_s = median;
	out->jitter_s = mad;
	for (size_t i = 0; i < ng; i++) {
		if (fabs(gaps[i] - median) > 0.5 * median)
			outliers++;
	}
	out->span_score = span > 0 ? NG_MIN(1.0, (double)ng * median / span) : 0;
	if (ns >= BEACON_MIN_SIZES) {
		out->sizes_known = true;
		out->ds_score = regularity(sizes, ns, BEACON_SIZE_SKEW_FLOOR, BEACON_SKEW_FLOOR_REL, &smed, &smad);
		out->score = (out->ts_score + out->ds_score + out->span_score) / 3;
	} else {
		out->score = (out->ts_score + out->span_score) / 2;
	}
	if (e->n < BEACON_MIN_CONNS || median * NG_USEC < BEACON_MIN_PERIOD ||
	    (double)outliers > BEACON_OUTLIER_SHARE * (double)ng)
		return;
	/* Timing alone decides with the stricter rule; known sizes can only add evidence. */
	out->beacon = out->ts_score >= BEACON_TS_ONLY_MIN &&
		      (out->ts_score + out->span_score) / 2 >= BEACON_TS_ONLY_SCORE_MIN;
	if (out->sizes_known && out->ts_score >= BEACON_TS_MIN && out->score >= BEACON_SCORE_MIN)
		out->beacon = true;
}

/* The newest event whose first start is at or before t; -1 when t is older than the ring. */
static int event_of(const struct beacon_entry *e, ng_time t)
{
	for (int i = e->n - 1; i >= 0; i--) {
		unsigned s = ring_at(e, (unsigned)i);

		if (e->start[s] <= t)
			return (int)s;
	}
	return -1;
}

void beacon_conn_start(struct beacon_table *bt, uint64_t key, ng_time t, struct beacon_result *out)
{
	uint32_t i = lru_get(bt->keys, key);
	struct beacon_entry *e;
	int s;

	if (i == LRU_NIL) {
		i = lru_put(bt->keys, key, NULL, NULL);
		memset(&bt->e[i], 0, sizeof bt->e[i]);
	}
	e = &bt->e[i];
	if (e->total < UINT32_MAX)
		e->total++;
	if (e->n > 0 && t < e->last_start + BEACON_MERGE) {
		/* Part of the newest event, or (out of order) of an older one. */
		s = event_of(e, t);
		if (s < 0)
			s = ring_at(e, e->n - 1);
		if (e->open[s] < UINT8_MAX)
			e->open[s]++;
		if (t > e->last_start)
			e->last_start = t;
	} else {
		unsigned slot;

		if (e->n == BEACON_RING) {
			e->first = (e->first + 1) % BEACON_RING;
			e->n--;
		}
		slot = ring_at(e, e->n);
		e->n++;
		e->start[slot] = t;
		e->bytes[slot] = 0;
		e->open[slot] = 1;
		e->last_start = t;
	}
	judge(e, out);
}

void beacon_conn_end(struct beacon_table *bt, uint64_t key, ng_time start, uint64_t bytes)
{
	uint32_t i = lru_peek(bt->keys, key);
	struct beacon_entry *e;
	int s;

	if (i == LRU_NIL)
		return;
	e = &bt->e[i];
	s = event_of(e, start);
	if (s < 0)
		return;
	if (e->open[s] > 0 && e->open[s] < UINT8_MAX)
		e->open[s]--;
	e->bytes[s] = (uint32_t)NG_MIN((uint64_t)UINT32_MAX, (uint64_t)e->bytes[s] + bytes);
}

/* Pick a unit for a duration in seconds: its divisor and name. */
static const char *duration_unit(double s, double *div)
{
	if (s >= 7200) {
		*div = 3600;
		return "h";
	}
	if (s >= 120) {
		*div = 60;
		return "min";
	}
	*div = 1;
	return "s";
}

char *beacon_reason(const struct beacon_result *r, char *buf, size_t len)
{
	double div;
	const char *unit = duration_unit(r->period_s, &div);

	if (len == 0)
		return buf;
	snprintf(buf, len, "every %.1f %s +- %.1f %s, %u connections", r->period_s / div, unit,
		 r->jitter_s / div, unit, r->connections);
	return buf;
}
