/* SPDX-License-Identifier: BSD-2-Clause */
/* upload.c: large uploads: far more sent than received to one destination, against fixed floors and the host's own habit. */
#include "upload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lru.h"

/*
 * DESIGN
 *
 * Slips (modules/flowalerts/conn.py, config/slips.yaml) raises "data upload"
 * for one flow sending >= 100 MB (flow_upload_threshold) and for >= 500 MB
 * sent to one address within its 1-hour time window
 * (data_exfiltration_threshold). netglobe counts per (local, remote) pair in
 * a window of UPLOAD_WINDOW from the pair's first bytes, and calls an upload
 * large when sent >= UPLOAD_RATIO x received (far more out than in: an
 * upload, not a download or a call) and one of:
 *
 *   first contact: the window began with a destination new to this host,
 *     and sent >= UPLOAD_NEW_BYTES (100 MB, Slips' per-flow figure applied
 *     to the hour);
 *   habit: sent >= UPLOAD_MIN_BYTES (50 MB) and above the host's baseline,
 *     2^(mean + 3 sd) of log2(bytes sent to one destination in one window),
 *     both exponentially weighted (alpha UPLOAD_ALPHA = 0.05, so about the
 *     last 20..40 windows) once UPLOAD_BASELINE_MIN (24) windows of at least
 *     1 kB were seen. Uploads are heavy-tailed, so the log scale keeps one
 *     backup from swamping the spread;
 *   no habit yet: sent >= UPLOAD_ANY_BYTES (500 MB, Slips'
 *     data_exfiltration_threshold) while the baseline is not ready.
 *
 * A host that backs up 2 GB every night builds a baseline that covers it; a
 * host that never uploads more than a few MB per destination gets flagged at
 * 50 MB. A window's total enters the baseline when the window closes (the
 * pair's next bytes after UPLOAD_WINDOW) or when the pair is evicted.
 */

#define UPLOAD_WINDOW (3600 * NG_USEC)
#define UPLOAD_RATIO 4.0
#define UPLOAD_NEW_BYTES (100ULL * 1000 * 1000)
#define UPLOAD_MIN_BYTES (50ULL * 1000 * 1000)
#define UPLOAD_ANY_BYTES (500ULL * 1000 * 1000)
#define UPLOAD_ALPHA 0.05
#define UPLOAD_BASELINE_MIN 24
#define UPLOAD_SAMPLE_MIN 1000

struct upload_pair {
	ng_time since;
	uint64_t sent, received;
	uint64_t host_key;
	bool first_contact;
};

struct upload_host {
	double mean, var;	/* of log2(bytes) */
	uint32_t samples;
};

struct upload_table {
	struct lru *pairs, *hosts;
	struct upload_pair *p;
	struct upload_host *h;
};

struct upload_table *upload_table_create(size_t max_keys)
{
	struct upload_table *ut = xcalloc(1, sizeof *ut);
	size_t max_hosts = NG_MAX((size_t)16, NG_MIN((size_t)4096, max_keys / 16));

	ut->pairs = lru_create(max_keys);
	ut->hosts = lru_create(max_hosts);
	ut->p = xcalloc(lru_cap(ut->pairs), sizeof *ut->p);
	ut->h = xcalloc(lru_cap(ut->hosts), sizeof *ut->h);
	return ut;
}

void upload_table_destroy(struct upload_table *ut)
{
	if (!ut)
		return;
	lru_destroy(ut->pairs);
	lru_destroy(ut->hosts);
	free(ut->p);
	free(ut->h);
	free(ut);
}

size_t upload_memory(const struct upload_table *ut)
{
	return sizeof *ut + lru_memory(ut->pairs) + lru_memory(ut->hosts) + lru_cap(ut->pairs) * sizeof *ut->p +
	       lru_cap(ut->hosts) * sizeof *ut->h;
}

/* The host entry for a key, created when missing. */
static struct upload_host *host_get(struct upload_table *ut, uint64_t key)
{
	uint32_t i = lru_get(ut->hosts, key);

	if (i == LRU_NIL) {
		i = lru_put(ut->hosts, key, NULL, NULL);
		memset(&ut->h[i], 0, sizeof ut->h[i]);
	}
	return &ut->h[i];
}

/* Add one closed window's upload to its host's baseline. */
static void baseline_add(struct upload_table *ut, uint64_t host_key, uint64_t sent)
{
	struct upload_host *h;
	double x, d;

	if (sent < UPLOAD_SAMPLE_MIN)
		return;
	h = host_get(ut, host_key);
	x = log2((double)sent);
	if (h->samples == 0) {
		h->mean = x;
		h->var = 0;
	} else {
		/* West's exponentially weighted mean and variance. */
		d = x - h->mean;
		h->mean += UPLOAD_ALPHA * d;
		h->var = (1 - UPLOAD_ALPHA) * (h->var + UPLOAD_ALPHA * d * d);
	}
	if (h->samples < UINT32_MAX)
		h->samples++;
}

void upload_add(struct upload_table *ut, const ng_addr *local, const ng_addr *remote, uint64_t sent,
		uint64_t received, bool first_contact, ng_time t, struct upload_result *out)
{
	ng_addr pair[2] = {*local, *remote};
	uint64_t key = ng_hash64(pair, sizeof pair, 0x75706cULL);
	uint64_t host_key = ng_hash64(local, sizeof *local, 0x686f7374ULL);
	uint32_t i = lru_get(ut->pairs, key);
	struct upload_pair *p;
	struct upload_host *h;

	if (i == LRU_NIL) {
		bool evicted;

		i = lru_put(ut->pairs, key, &evicted, NULL);
		if (evicted)
			baseline_add(ut, ut->p[i].host_key, ut->p[i].sent);
		memset(&ut->p[i], 0, sizeof ut->p[i]);
		ut->p[i].since = t;
		ut->p[i].host_key = host_key;
		ut->p[i].first_contact = first_contact;
	}
	p = &ut->p[i];
	if (t - p->since >= UPLOAD_WINDOW) {
		baseline_add(ut, p->host_key, p->sent);
		p->since = t;
		p->sent = p->received = 0;
		p->first_contact = first_contact;
	}
	p->sent = sent > UINT64_MAX - p->sent ? UINT64_MAX : p->sent + sent;
	p->received = received > UINT64_MAX - p->received ? UINT64_MAX : p->received + received;

	memset(out, 0, sizeof *out);
	out->sent = p->sent;
	out->received = p->received;
	out->since = p->since;
	out->last = t > p->since ? t : p->since;
	out->first_contact = p->first_contact;
	out->ratio = (double)p->sent / (double)(p->received ? p->received : 1);
	h = host_get(ut, host_key);
	if (h->samples >= UPLOAD_BASELINE_MIN) {
		out->baseline_bytes = exp2(h->mean + 3 * sqrt(h->var));
		out->over_baseline = (double)p->sent > out->baseline_bytes;
	}
	if (out->ratio < UPLOAD_RATIO)
		return;
	if (p->first_contact && p->sent >= UPLOAD_NEW_BYTES)
		out->large = true;
	else if (h->samples >= UPLOAD_BASELINE_MIN)
		out->large = p->sent >= UPLOAD_MIN_BYTES && out->over_baseline;
	else
		out->large = p->sent >= UPLOAD_ANY_BYTES;
}

/* Bytes as "312 MB" (decimal units). */
static const char *bytes_text(uint64_t b, char *buf, size_t len)
{
	if (b >= 10ULL * 1000 * 1000 * 1000)
		snprintf(buf, len, "%.0f GB", (double)b / 1e9);
	else if (b >= 1000ULL * 1000 * 1000)
		snprintf(buf, len, "%.1f GB", (double)b / 1e9);
	else if (b >= 1000 * 1000)
		snprintf(buf, len, "%.0f MB", (double)b / 1e6);
	else if (b >= 1000)
		snprintf(buf, len, "%.0f kB", (double)b / 1e3);
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)b);
	return buf;
}

char *upload_reason(const struct upload_result *r, char *buf, size_t len)
{
	char s[32], rc[32], lim[32], span[32];
	double secs = (double)(r->last - r->since) / NG_USEC;

	if (len == 0)
		return buf;
	bytes_text(r->sent, s, sizeof s);
	bytes_text(r->received, rc, sizeof rc);
	if (secs < 120)
		snprintf(span, sizeof span, "%.0f s", secs);
	else
		snprintf(span, sizeof span, "%.0f min", secs / 60);
	if (r->first_contact)
		snprintf(buf, len, "sent %s, received %s, in %s, to a new destination", s, rc, span);
	else if (r->over_baseline)
		snprintf(buf, len, "sent %s, received %s, in %s, over this host's usual %s per destination per hour", s,
			 rc, span, bytes_text((uint64_t)r->baseline_bytes, lim, sizeof lim));
	else
		snprintf(buf, len, "sent %s, received %s, in %s, to one destination", s, rc, span);
	return buf;
}
