/* SPDX-License-Identifier: BSD-2-Clause */
/* stream.h: the daemon's event stream: flow changes as server-sent events in the ring that /events serves. */
#ifndef NG_STREAM_H
#define NG_STREAM_H

#include "output.h"

/* The row of the output table: open when the run has an event ring (the daemon). */
extern const struct output_type stream_output;

#endif
