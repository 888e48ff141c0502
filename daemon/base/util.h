/* SPDX-License-Identifier: BSD-2-Clause */
/* util.h: allocation that cannot fail, the packet clock type, hashing, parsing helpers. */
#ifndef NG_UTIL_H
#define NG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "strpool.h"	/* str_intern, used by many holders of util.h */

/* Allocation failure is not recoverable for a daemon: these abort with a message. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Read a big-endian (network order) 16-bit value; the caller has checked that 2 bytes are there. */
static inline uint16_t ng_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Read a big-endian (network order) 32-bit value; the caller has checked that 4 bytes are there. */
static inline uint32_t ng_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Time everywhere in netglobe: microseconds since the Unix epoch, UTC. */
typedef int64_t ng_time;
#define NG_USEC 1000000LL
#define NG_TIME_NONE INT64_MIN

/* Current wall-clock time. */
ng_time time_now(void);
/* Monotonic time (for timeouts that must not jump with the wall clock). */
ng_time time_mono(void);

/* Longest RFC 3339 text this code writes: "2026-11-22T00:26:03.123456Z". */
#define NG_TIMESTRLEN 32
/* Write t as RFC 3339 UTC with microseconds; returns buf. */
char *time_format(ng_time t, char *buf, size_t len);
/*
 * Write t as time_format does at p, without a NUL (at most NG_TIMESTRLEN - 1
 * bytes); returns the end. The date and time of day of the last two seconds
 * written are kept per thread, so a run of times in the same second formats
 * only the microseconds.
 */
char *time_put(char *p, ng_time t);
/* Write t as "2026-11-19 08:14" (UTC, for human sentences); returns buf. */
char *time_format_short(ng_time t, char *buf, size_t len);
/*
 * Parse a point in time: RFC 3339 ("2026-11-22T00:26:03Z", fraction and
 * offset optional, "2026-11-22" alone is midnight UTC) or Unix seconds.
 * Returns 0 or -1.
 */
int time_parse(const char *s, ng_time *out);
/*
 * Parse a duration: a number with an optional unit us, ms, s, m, h, d, w
 * ("48h", "7d", "1.5h", "30"; a bare number is seconds). Returns 0 or -1.
 */
int duration_parse(const char *s, ng_time *out);

/* A pointer and the number it sorts by. */
struct ng_ref {
	void *p;
	uint64_t key;
};
/*
 * Sort refs by ascending key without reading what they point to; equal keys
 * keep their order. Linear in n (an LSD radix sort, 11 bits a pass, only as
 * many passes as the largest key needs).
 */
void ng_refs_sort(struct ng_ref *r, size_t n);

/* A fast, well-mixing 64-bit hash of a byte string (not for cryptography). */
uint64_t ng_hash64(const void *data, size_t len, uint64_t seed);

/* Parse a whole decimal number in [min, max]; 0 or -1. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* True when s ends with suffix. */
bool str_ends_with(const char *s, const char *suffix);

/* mkdir -p, creating what is missing with mode 0700; 0, or -1 with errno (ENOTDIR when dir is a file). */
int mkdir_p(const char *dir);

/*
 * Create the state directory if missing and check it can be trusted, as
 * OpenSSH checks its files: owned by this user, root or the account the
 * daemon switches to (state_owner_allow in platform.h), and not writable by its group or
 * others (nor sticky like /tmp): others could plant the access token,
 * trusted rules or the database there. 0, or -1 with one line in err.
 * Defined by the platform layer (linux.c: owners and modes; windows.c: the ACL).
 */
int state_dir_check(const char *dir, char *err, size_t errlen);
/* The same checks without creating the directory (the history and reset-baseline commands). */
int state_dir_trust(const char *dir, char *err, size_t errlen);

/* How ng_open_checked trusts a file (it is always a regular file and never blocks on a FIFO). */
#define NG_OPEN_NOFOLLOW 1u	/* not through a symbolic link (files of the state directory) */
#define NG_OPEN_OWNED 2u	/* owned by this user, root or the allowed account; not group/world writable */
/*
 * Open a file without trusting what is there: O_NONBLOCK for the open (a
 * FIFO never blocks; cleared afterwards), fstat, and only a regular file;
 * with `how`, the checks above. The fd, or -1 with errno and a phrase in
 * why for "cannot read PATH: WHY": "is a FIFO, not a regular file (remove
 * it)", "belongs to uid 65534 ...". ENOENT leaves why as strerror.
 * Defined by the platform layer (Windows: no O_NOFOLLOW, no owner or mode check).
 */
int ng_open_checked(const char *path, int flags, unsigned mode, unsigned how, char *why, size_t whylen);

/* Read a whole file into a NUL-terminated buffer (caller frees); NULL and errno on failure. */
char *file_read_all(const char *path, size_t max, size_t *lenp);
/* file_read_all through ng_open_checked(how); on failure why says what is wrong (EFBIG: over max). */
char *file_read_checked(const char *path, size_t max, size_t *lenp, unsigned how, char *why, size_t whylen);

#define NG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define NG_MAX(a, b) ((a) > (b) ? (a) : (b))



/* A growing text buffer; p is always NUL-terminated once anything was put. Free p when done. */
struct strbuf {
	char *p;
	size_t len, cap;
};
/* Make room for more bytes and the NUL (the slow part of sb_reserve). */
void sb_grow(struct strbuf *sb, size_t more);

/*
 * The writers of flows call these a few dozen times a flow, so the common
 * case (the room is there) is inline.
 */
static inline void sb_reserve(struct strbuf *sb, size_t more)
{
	if (sb->len + more + 1 > sb->cap)
		sb_grow(sb, more);
}

/* Append n bytes. */
static inline void sb_put(struct strbuf *sb, const char *s, size_t n)
{
	sb_reserve(sb, n);
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

/*
 * Writers that put many short pieces take a pointer to room for at least n
 * more bytes (sb_room), write through it, and hand back the end (sb_done).
 */
static inline char *sb_room(struct strbuf *sb, size_t n)
{
	sb_reserve(sb, n);
	return sb->p + sb->len;
}

/* The bytes up to end (from sb_room) are written: count them and end the text. */
static inline void sb_done(struct strbuf *sb, char *end)
{
	sb->len = (size_t)(end - sb->p);
	*end = '\0';
}

/* Copy a string literal to p; evaluates to the end. */
#define NG_PUT_LIT(p, lit) ((char *)memcpy((p), (lit), sizeof(lit) - 1) + sizeof(lit) - 1)

/* Append one character. */
static inline void sb_putc(struct strbuf *sb, char c)
{
	sb_reserve(sb, 1);
	sb->p[sb->len++] = c;
	sb->p[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s);
/* An unsigned decimal. */
void sb_u64(struct strbuf *sb, uint64_t v);
/* Write v in decimal and a NUL into buf (NG_U64STRLEN bytes, as "%llu" would); returns buf. */
#define NG_U64STRLEN 21
char *u64_format(uint64_t v, char *buf);
/* Write v in decimal at p (at most 20 bytes, no NUL); returns the end. */
char *put_u64(char *p, uint64_t v);
/*
 * Append s to the NUL-terminated text of length at in buf (len bytes), as
 * much as fits, as snprintf would truncate it; returns the new length.
 */
size_t str_append(char *buf, size_t len, size_t at, const char *s);
/* A number with at most 4 decimals, trailing zeros dropped ("37.422", "-122.0838", "0"). */
void sb_fixed4(struct strbuf *sb, double v);
/* Write sb_fixed4's text at p (at most NG_FIXED4LEN bytes, no NUL); returns the end. */
#define NG_FIXED4LEN 32
char *put_fixed4(char *p, double v);
/*
 * A JSON string literal (RFC 8259 7): quotes, escapes for " \ and control
 * characters, and every byte sequence that is not valid UTF-8 replaced by
 * U+FFFD, so packet- or process-derived text can never break the document.
 */
void sb_json_str(struct strbuf *sb, const char *s);
/* A member of an object being written: ",\"key\":" (the key is a literal, written as it is). */
void sb_json_key(struct strbuf *sb, const char *key);
/* ",\"key\":" and the string v (sb_json_str), or null when v is NULL. */
void sb_json_member_str(struct strbuf *sb, const char *key, const char *v);

/*
 * One CSV field (RFC 4180 2.6-2.7), quoted when it holds a comma, quote or
 * line break, and with a ' before a leading =, +, - or @ so a spreadsheet
 * never runs a packet-derived field as a formula; then "," or, for the last
 * field, CRLF. NULL is an empty field.
 */
void sb_csv_field(struct strbuf *sb, const char *s, bool last);

#endif
