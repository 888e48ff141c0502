/* SPDX-License-Identifier: BSD-2-Clause */
/* log.c: stderr logging with levels and an optional journald priority prefix. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "platform.h"

static int log_max = NG_LOG_INFO;
static int log_journal;	/* stderr is connected to journald */

/* True when JOURNAL_STREAM names the device and inode of our stderr. */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(int level)
{
	log_max = level;
	log_journal = stderr_is_journal();
}

static void log_vline(int level, int with_errno, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* Format one line and write it with a single write(2), so lines never interleave. */
static void log_vline(int level, int with_errno, const char *fmt, va_list ap)
{
	char line[2048];
	int saved = errno;
	int n;

	if (level > log_max)
		return;
	if (log_journal)
		n = snprintf(line, sizeof line, "<%d>", level);
	else
		n = snprintf(line, sizeof line, "netglobe: ");
	if (n < 0)
		return;
	n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	if ((size_t)n >= sizeof line - 2)
		n = (int)sizeof line - 2;
	if (with_errno)
		n += snprintf(line + n, sizeof line - (size_t)n, ": %s", strerror(saved));
	if ((size_t)n >= sizeof line - 1)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
	errno = saved;
}

#define LOG_BODY(level, with_errno)                  \
	do {                                         \
		va_list ap;                          \
		va_start(ap, fmt);                   \
		log_vline(level, with_errno, fmt, ap); \
		va_end(ap);                          \
	} while (0)

void log_debug(const char *fmt, ...) { LOG_BODY(NG_LOG_DEBUG, 0); }
void log_info(const char *fmt, ...) { LOG_BODY(NG_LOG_INFO, 0); }
void log_notice(const char *fmt, ...) { LOG_BODY(NG_LOG_NOTICE, 0); }
void log_warn(const char *fmt, ...) { LOG_BODY(NG_LOG_WARNING, 1); }
void log_warnx(const char *fmt, ...) { LOG_BODY(NG_LOG_WARNING, 0); }
void log_errx(const char *fmt, ...) { LOG_BODY(NG_LOG_ERR, 0); }

void fatalx(const char *fmt, ...)
{
	LOG_BODY(NG_LOG_ERR, 0);
	exit(1);
}

/* How often capture drops may be reported, in microseconds. */
#define LOG_DROPS_EVERY (60LL * 1000000)

/* The drop counters at the start of the current minute. */
static struct {
	int64_t since;		/* 0 before the first call */
	uint64_t kernel, iface;
} log_drops;

void log_capture_drops(int64_t now_us, uint64_t kernel, uint64_t iface)
{
	uint64_t dk, di;
	char more[96] = "";

	if (log_drops.since == 0) {
		/* The counters start at 0 with the capture, so drops before the first call count too. */
		log_drops.since = now_us;
		return;
	}
	if (now_us - log_drops.since < LOG_DROPS_EVERY)
		return;
	/* A re-opened capture starts its counters again: then everything counted is new. */
	dk = kernel >= log_drops.kernel ? kernel - log_drops.kernel : kernel;
	di = iface >= log_drops.iface ? iface - log_drops.iface : iface;
	if (di)
		snprintf(more, sizeof more, "; %llu more by the interface", (unsigned long long)di);
	if (dk)
		log_warnx("capture: %llu packets dropped by the kernel in the last minute (raise --buffer-mb)%s",
			  (unsigned long long)dk, more);
	else if (di)
		log_warnx("capture: %llu packets dropped by the interface in the last minute", (unsigned long long)di);
	log_drops.since = now_us;
	log_drops.kernel = kernel;
	log_drops.iface = iface;
}
