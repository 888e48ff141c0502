/* SPDX-License-Identifier: BSD-2-Clause */
/* log.h: one line per event on stderr, journald-friendly, with -v/-q levels. */
#ifndef NG_LOG_H
#define NG_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum ng_log_level {
	NG_LOG_ERR = 3,
	NG_LOG_WARNING = 4,
	NG_LOG_NOTICE = 5,
	NG_LOG_INFO = 6,
	NG_LOG_DEBUG = 7,
};

/*
 * Show messages up to `level` (default NG_LOG_INFO; -q lowers it, -v raises it).
 * When stderr is the systemd journal (JOURNAL_STREAM matches it) each line
 * starts with a "<N>" priority prefix and no program name, as sd-daemon(3) asks.
 */
void log_init(int level);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)"; log_warnx does not (OpenBSD style). */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An error the program keeps running after. */
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start-up failure or broken invariant: print one line and exit(1). */
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Call from the tick with the capture's cumulative drop counters (pcap_stats:
 * dropped by the kernel's buffer, dropped by the interface) and the time in
 * microseconds. At most once a minute, and only when they grew, it logs
 * "capture: N packets dropped by the kernel in the last minute (raise --buffer-mb)".
 */
void log_capture_drops(int64_t now_us, uint64_t kernel, uint64_t iface);

#endif
