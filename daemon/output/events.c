/* SPDX-License-Identifier: BSD-2-Clause */
/* events.c: the bounded ring of server-sent events, so a client that reconnects misses nothing. */
#include "events.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/*
 * DESIGN
 *
 * The ring holds the newest events with contiguous ids oldest_id..last_id
 * (or nothing), each already formatted as SSE text, so that sending one to
 * a hundred clients is a hundred copies and no formatting. Two bounds apply
 * at once: a number of slots and a number of text bytes; the oldest events
 * go first when either is reached.
 *
 * Resumption from `after` is possible exactly when every event with an id
 * above `after` is stored. Ids are never reused, so "every event after" is
 * the range after+1..last_id, and it is complete when after + 1 >= oldest_id
 * (or after == last_id, the empty range). An event published without data
 * (nobody was listening) or too large to store breaks the chain: nothing
 * before it can ever be resumed across it, so the ring simply drops what it
 * holds and restarts empty after that id. That keeps the invariant that
 * stored ids are contiguous, and lookups are an index computation.
 */

#define EVENTS_DEFAULT_MAX 65536
#define EVENTS_DEFAULT_BYTES (64u << 20)
#define EVENTS_TYPE_MAX 64

/* One stored event. */
struct event_slot {
	uint64_t id;
	char *text;		/* "id: N\nevent: T\ndata: ...\n\n", NUL-terminated, owned */
	size_t len;
	uint64_t end;		/* total bytes stored up to and including this event (for backlogs) */
};

struct event_ring {
	struct event_slot *slots;
	size_t cap;		/* slots (max_events) */
	size_t max_bytes;
	size_t head;		/* slot of the oldest stored event */
	size_t count;		/* stored events */
	size_t bytes;		/* text bytes stored */
	uint64_t oldest_id;	/* id of slots[head] when count > 0 */
	uint64_t last_id;	/* newest id handed out */
	uint64_t published;	/* events_publish calls */
	uint64_t total;		/* running byte counter behind slot.end */
};

static void events_clear(struct event_ring *r);
static void events_drop_oldest(struct event_ring *r);
static char *events_format(uint64_t id, const char *type, const char *data, size_t *lenp);

struct event_ring *events_create(size_t max_events, size_t max_bytes)
{
	struct event_ring *r = xcalloc(1, sizeof *r);

	r->cap = max_events ? max_events : EVENTS_DEFAULT_MAX;
	r->max_bytes = max_bytes ? max_bytes : EVENTS_DEFAULT_BYTES;
	r->slots = xcalloc(r->cap, sizeof *r->slots);
	return r;
}

void events_destroy(struct event_ring *r)
{
	if (!r)
		return;
	events_clear(r);
	free(r->slots);
	free(r);
}

/* Free every stored event. */
static void events_clear(struct event_ring *r)
{
	while (r->count)
		events_drop_oldest(r);
	r->head = 0;
}

/* Free the oldest stored event. */
static void events_drop_oldest(struct event_ring *r)
{
	struct event_slot *s = &r->slots[r->head];

	r->bytes -= s->len;
	free(s->text);
	memset(s, 0, sizeof *s);
	r->head = (r->head + 1) % r->cap;
	r->count--;
	r->oldest_id++;
}

/*
 * Format one event as SSE text (WHATWG HTML, "Server-sent events"): every
 * line of data gets its own "data:" field, since a CR, LF or CRLF inside a
 * field would end it; the type keeps only characters that are safe in a
 * field. Returns a NUL-terminated string the caller frees.
 */
static char *events_format(uint64_t id, const char *type, const char *data, size_t *lenp)
{
	char head[64 + EVENTS_TYPE_MAX], digits[24];
	size_t n = 0, cap, len, i, dl = 0, breaks = 0;
	char *out;
	uint64_t v = id;

	/* "id: N\nevent: T\n" without printf: this runs for every event. */
	do {
		digits[dl++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(head, "id: ", 4);
	n = 4;
	while (dl)
		head[n++] = digits[--dl];
	memcpy(head + n, "\nevent: ", 8);
	n += 8;
	for (i = 0; type && type[i] && i < EVENTS_TYPE_MAX - 1; i++) {
		unsigned char ch = (unsigned char)type[i];

		head[n++] = (ch > ' ' && ch < 0x7f && ch != ':') ? (char)ch : '_';
	}
	if (i == 0)
		head[n++] = '_';
	head[n++] = '\n';
	/* Exact size: each line break in data becomes "\ndata: ". JSON from flowjson has none: one memcpy. */
	dl = strlen(data);
	i = strcspn(data, "\r\n");
	for (const char *p = data + i; *p; p++)
		breaks += *p == '\r' || *p == '\n';
	cap = n + 6 + dl + breaks * 6 + 3;
	out = xmalloc(cap);
	memcpy(out, head, n);
	len = n;
	memcpy(out + len, "data: ", 6);
	len += 6;
	memcpy(out + len, data, i);
	len += i;
	for (const char *p = data + i; *p; p++) {
		if (*p == '\r' || *p == '\n') {
			if (*p == '\r' && p[1] == '\n')
				p++;
			memcpy(out + len, "\ndata: ", 7);
			len += 7;
		} else {
			out[len++] = *p;
		}
	}
	memcpy(out + len, "\n\n", 3);
	len += 2;
	*lenp = len;
	return out;
}

uint64_t events_publish(struct event_ring *r, const char *type, const char *data)
{
	uint64_t id = ++r->last_id;
	struct event_slot *s;
	size_t len;
	char *text;

	r->published++;
	if (data == NULL) {
		/* Nobody can resume across this id: start over empty after it. */
		events_clear(r);
		r->oldest_id = id + 1;
		return id;
	}
	text = events_format(id, type, data, &len);
	if (len > r->max_bytes) {
		free(text);
		events_clear(r);
		r->oldest_id = id + 1;
		return id;
	}
	while (r->count && (r->count == r->cap || r->bytes + len > r->max_bytes))
		events_drop_oldest(r);
	if (r->count == 0) {
		r->head = 0;
		r->oldest_id = id;
	}
	s = &r->slots[(r->head + r->count) % r->cap];
	s->id = id;
	s->text = text;
	s->len = len;
	r->total += len;
	s->end = r->total;
	r->count++;
	r->bytes += len;
	return id;
}

uint64_t events_last_id(const struct event_ring *r)
{
	return r->last_id;
}

/* The slot holding event `id`, or NULL when it is not stored. */
static const struct event_slot *events_slot(const struct event_ring *r, uint64_t id)
{
	if (r->count == 0 || id < r->oldest_id || id > r->last_id)
		return NULL;
	return &r->slots[(r->head + (size_t)(id - r->oldest_id)) % r->cap];
}

/* True when every event after `after` is stored. */
static bool events_resumable(const struct event_ring *r, uint64_t after)
{
	if (after > r->last_id)
		return false;
	if (after == r->last_id)
		return true;
	return r->count > 0 && after + 1 >= r->oldest_id;
}

int events_since(const struct event_ring *r, uint64_t after,
		 int (*cb)(void *arg, uint64_t id, const char *sse, size_t len), void *arg)
{
	if (!events_resumable(r, after))
		return -1;
	for (uint64_t id = after + 1; id <= r->last_id; id++) {
		const struct event_slot *s = events_slot(r, id);

		if (cb(arg, s->id, s->text, s->len) != 0)
			break;
	}
	return 0;
}

const char *events_get(const struct event_ring *r, uint64_t id, size_t *len)
{
	const struct event_slot *s = events_slot(r, id);

	if (!s)
		return NULL;
	if (len)
		*len = s->len;
	return s->text;
}

size_t events_backlog(const struct event_ring *r, uint64_t after)
{
	const struct event_slot *s;

	if (!events_resumable(r, after))
		return SIZE_MAX;
	if (after == r->last_id)
		return 0;
	if (after < r->oldest_id)	/* after == oldest_id - 1: everything stored */
		return r->bytes;
	s = events_slot(r, after);
	return (size_t)(r->total - s->end);
}

void events_get_stats(const struct event_ring *r, struct events_stats *out)
{
	memset(out, 0, sizeof *out);
	out->published = r->published;
	out->stored = r->count;
	out->bytes = r->bytes;
	out->oldest_id = r->count ? r->oldest_id : 0;
}
