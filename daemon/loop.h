/* SPDX-License-Identifier: BSD-2-Clause */
/* loop.h: the daemon: capture and serve from one event loop until stopped. */
#ifndef NG_LOOP_H
#define NG_LOOP_H

#include "config.h"

#include "platform.h"

#include "capture.h"

/* Run until SIGINT/SIGTERM (exit status 0) or a start-up failure (non-zero, one line logged). */
int daemon_run(const struct config *cfg);

/* Set by SIGINT/SIGTERM and SIGHUP once loop_signals() installed the handlers. */
extern volatile sig_atomic_t loop_stop, loop_hup;
void loop_signals(void);

/* Open the capture of the configuration: -r FILE, -i IFACE, or the default interface (said in the log). */
struct capture *loop_open_capture(const struct config *cfg, char *err, size_t errlen);

#endif
