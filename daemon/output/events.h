/* SPDX-License-Identifier: BSD-2-Clause */
/* events.h: the bounded ring of server-sent events, so a client that reconnects misses nothing. */
#ifndef NG_EVENTS_H
#define NG_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_ring;

/* A ring holding at most max_events events and max_bytes of their text (0 picks defaults: 65536, 64 MiB). */
struct event_ring *events_create(size_t max_events, size_t max_bytes);
void events_destroy(struct event_ring *r);

/*
 * Publish an event of `type` ("flow-new", "flow-update", "flow-closed",
 * "alert", "stats", ...) with JSON `data` (one line). The ring stores it
 * already formatted as SSE text ("id: N\nevent: T\ndata: ...\n\n"), so
 * sending is a copy. Returns the new event id (ids start at 1 and only grow).
 * With data == NULL the id is used up without storing anything, when nobody
 * listens: a client that later resumes from before it gets a reset.
 */
uint64_t events_publish(struct event_ring *r, const char *type, const char *data);

/* The newest id handed out (0 before the first). */
uint64_t events_last_id(const struct event_ring *r);

/*
 * The events after `after`, oldest first: calls cb with each one's SSE text
 * (cb returns 0 to go on, anything else to stop early). Returns 0, or -1
 * when events after `after` are no longer all in the ring, or `after` is
 * above the last id (a client of an earlier run): the client must get a
 * reset and refetch /flows.
 */
int events_since(const struct event_ring *r, uint64_t after,
		 int (*cb)(void *arg, uint64_t id, const char *sse, size_t len), void *arg);

/* One event's SSE text by id, or NULL when it is not in the ring. */
const char *events_get(const struct event_ring *r, uint64_t id, size_t *len);

/* Bytes of SSE text a client resuming after `after` has still to receive; SIZE_MAX when events_since would fail. */
size_t events_backlog(const struct event_ring *r, uint64_t after);

struct events_stats {
	uint64_t published, stored, bytes, oldest_id;
};
void events_get_stats(const struct event_ring *r, struct events_stats *out);

#endif
