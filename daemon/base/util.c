/* SPDX-License-Identifier: BSD-2-Clause */
/* util.c: allocation wrappers, time formatting and parsing, hashing, small string helpers. */
#include "util.h"

#include <errno.h>
#include <math.h>
#include "platform.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Print and abort: the one place that handles running out of memory. */
static void oom(size_t size)
{
	fprintf(stderr, "netglobe: out of memory allocating %zu bytes (lower --max-flows or free memory)\n", size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		oom(size);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);

	if (!q)
		oom(size);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

ng_time time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (ng_time)ts.tv_sec * NG_USEC + ts.tv_nsec / 1000;
}

ng_time time_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ng_time)ts.tv_sec * NG_USEC + ts.tv_nsec / 1000;
}

/* Split t into a UTC calendar time and the microseconds within the second. */
static void time_split(ng_time t, struct tm *tm, long *usec)
{
	time_t secs = (time_t)(t / NG_USEC);
	long us = (long)(t % NG_USEC);

	if (us < 0) {
		us += NG_USEC;
		secs -= 1;
	}
	gmtime_r(&secs, tm);
	*usec = us;
}

/* "00" to "99": two digits a step when writing decimals. */
static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
				  "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
				  "8081828384858687888990919293949596979899";

/* Write v (below 100) as exactly two digits at p; returns the end. */
static inline char *put_2digits(char *p, uint32_t v)
{
	memcpy(p, digit_pairs + 2 * v, 2);
	return p + 2;
}

/* Largest time with a four-digit year: 9999-12-31T23:59:59.999999Z. */
#define TIME_FAST_MAX (253402300800LL * NG_USEC - 1)

/*
 * "YYYY-MM-DDTHH:MM:SS." of secs (0 to the end of year 9999) at p: the civil
 * date from the day number by Howard Hinnant's days_from_civil inverse
 * ("chrono-Compatible Low-Level Date Algorithms"), then fixed-width digits.
 */
static void put_date_time(char *p, int64_t secs)
{
	int64_t days = secs / 86400, z = days + 719468;
	uint32_t sod = (uint32_t)(secs % 86400), era = (uint32_t)(z / 146097), doe, yoe, doy, mp, d, m, y;

	doe = (uint32_t)(z - (int64_t)era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	p = put_2digits(p, y / 100);
	p = put_2digits(p, y % 100);
	*p++ = '-';
	p = put_2digits(p, m);
	*p++ = '-';
	p = put_2digits(p, d);
	*p++ = 'T';
	p = put_2digits(p, sod / 3600);
	*p++ = ':';
	p = put_2digits(p, sod / 60 % 60);
	*p++ = ':';
	p = put_2digits(p, sod % 60);
	*p = '.';
}

/* The date and time of day of a recently written second (time_put). */
struct time_memo {
	int64_t secs;
	char text[20];
};

/*
 * Every flow written out carries two times, mostly of a few seconds, so the
 * usual case (years 1970 to 9999) is done by hand and the text of the second
 * is kept (two seconds, by parity, so a flow's first and last second do not
 * push each other out). Other times take the gmtime_r and snprintf path;
 * tests/unit/test_addr.c checks that both agree.
 */
char *time_put(char *p, ng_time t)
{
	static _Thread_local struct time_memo memo[2] = {{-1, ""}, {-1, ""}};

	if (t >= 0 && t <= TIME_FAST_MAX) {
		int64_t secs = t / NG_USEC;
		uint32_t us = (uint32_t)(t % NG_USEC);
		struct time_memo *m = &memo[secs & 1];

		if (m->secs != secs) {
			put_date_time(m->text, secs);
			m->secs = secs;
		}
		memcpy(p, m->text, 20);
		p += 20;
		p = put_2digits(p, us / 10000);
		p = put_2digits(p, us / 100 % 100);
		p = put_2digits(p, us % 100);
		*p++ = 'Z';
		return p;
	} else {
		char tmp[128];
		struct tm tm;
		long us;
		int n;

		time_split(t, &tm, &us);
		n = snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
			     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
		n = n < 0 ? 0 : NG_MIN(n, NG_TIMESTRLEN - 1);	/* never more than 29 for an ng_time */
		memcpy(p, tmp, (size_t)n);
		return p + n;
	}
}

char *time_format(ng_time t, char *buf, size_t len)
{
	char tmp[NG_TIMESTRLEN];
	size_t n;

	if (len >= NG_TIMESTRLEN) {
		*time_put(buf, t) = '\0';
		return buf;
	}
	if (len == 0)
		return buf;
	n = NG_MIN((size_t)(time_put(tmp, t) - tmp), len - 1);	/* cut short as snprintf would */
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return buf;
}

char *time_format_short(ng_time t, char *buf, size_t len)
{
	struct tm tm;
	long us;

	if (t >= 0 && t <= TIME_FAST_MAX && len >= 17) {
		char full[NG_TIMESTRLEN];

		time_format(t, full, sizeof full);	/* "2026-11-19T08:14:..." */
		memcpy(buf, full, 16);
		buf[10] = ' ';
		buf[16] = '\0';
		return buf;
	}
	time_split(t, &tm, &us);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min);
	return buf;
}

/* Read exactly n decimal digits from *p into *out; advance *p. */
static int read_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int time_parse(const char *s, ng_time *out)
{
	int year, mon, day, hour = 0, min = 0, sec = 0;
	long usec = 0;
	long offset = 0;
	const char *p = s;
	struct tm tm;
	time_t secs;

	if (*s == '\0')
		return -1;
	/* Plain Unix seconds, possibly fractional. */
	if (strchr(s, '-') == NULL) {
		char *end;
		double d = strtod(s, &end);

		if (*end != '\0' || !isfinite(d) || d < 0 || d > 1e11)
			return -1;
		*out = (ng_time)(d * NG_USEC);
		return 0;
	}
	if (read_digits(&p, 4, &year) || *p++ != '-' || read_digits(&p, 2, &mon) || *p++ != '-' ||
	    read_digits(&p, 2, &day))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (read_digits(&p, 2, &hour) || *p++ != ':' || read_digits(&p, 2, &min))
			return -1;
		if (*p == ':') {
			p++;
			if (read_digits(&p, 2, &sec))
				return -1;
			if (*p == '.') {
				long scale = 100000;

				p++;
				if (*p < '0' || *p > '9')
					return -1;
				while (*p >= '0' && *p <= '9') {
					usec += (*p - '0') * scale;
					scale /= 10;
					p++;
				}
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int oh, om, sign = *p == '-' ? -1 : 1;

			p++;
			if (read_digits(&p, 2, &oh) || *p++ != ':' || read_digits(&p, 2, &om))
				return -1;
			offset = sign * (oh * 3600L + om * 60L);
		}
	}
	if (*p != '\0' || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	secs = timegm(&tm);
	*out = ((ng_time)secs - offset) * NG_USEC + usec;
	return 0;
}

int duration_parse(const char *s, ng_time *out)
{
	static const struct {
		const char *unit;
		double usec;
	} units[] = {
		{"us", 1}, {"ms", 1e3}, {"s", 1e6}, {"", 1e6}, {"m", 60e6}, {"min", 60e6},
		{"h", 3600e6}, {"d", 86400e6}, {"w", 604800e6},
	};
	char *end;
	double d;

	if (*s == '\0' || *s == '-')
		return -1;
	d = strtod(s, &end);
	if (end == s || !isfinite(d) || d < 0)
		return -1;
	for (size_t i = 0; i < NG_ARRAY_LEN(units); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			double v = d * units[i].usec;

			if (v > 9.0e18)
				return -1;
			*out = (ng_time)v;
			return 0;
		}
	}
	return -1;
}

/* 64-bit multiply-fold mixing step (as in wyhash/rapidhash, reimplemented). */
static inline uint64_t mix64(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Load up to 8 bytes little-endian without alignment assumptions. */
static inline uint64_t load64(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);
	return v;
}

/*
 * A secret mixed into every hash, drawn once per process: the tables keyed by
 * packet data (flows, GeoIP cache, whitelist rows, fragments, DNS queries)
 * would otherwise let a sender who knows the fixed seeds pick colliding
 * addresses offline and turn each lookup into a long walk (hash flooding).
 */
static uint64_t hash_secret(void)
{
	static uint64_t secret;
	static bool drawn;

	if (!drawn) {
		if (platform_random(&secret, sizeof secret) != 0)
			secret = (uint64_t)time_mono() ^ ((uint64_t)getpid() << 32);
		drawn = true;
	}
	return secret;
}

uint64_t ng_hash64(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data;
	uint64_t h = seed ^ hash_secret() ^ 0x9e3779b97f4a7c15ULL ^ (len * 0xff51afd7ed558ccdULL);

	while (len >= 16) {
		h = mix64(load64(p, 8) ^ 0xa0761d6478bd642fULL, load64(p + 8, 8) ^ h);
		p += 16;
		len -= 16;
	}
	if (len > 8)
		h = mix64(load64(p, 8) ^ 0xe7037ed1a0b428dbULL, load64(p + 8, len - 8) ^ h);
	else if (len > 0)
		h = mix64(load64(p, len) ^ 0xe7037ed1a0b428dbULL, h ^ 0x8ebc6af09c88c6e3ULL);
	return mix64(h ^ 0x589965cc75374cc3ULL, 0x1d8e4e27c47d124fULL ^ h);
}

/* Bits of the key each pass of ng_refs_sort sorts on: its 2048 counters stay in the L1 cache. */
#define REFS_RADIX_BITS 11
#define REFS_RADIX_MASK ((1u << REFS_RADIX_BITS) - 1)

/*
 * DESIGN. GET /flows sorts up to millions of flows by id: a comparison sort
 * reads each flow about log2(n) times through its comparator (cache misses
 * on flows spread over megabytes), where this reads only the refs, a few
 * sequential passes. Input already in order (a list walked in id order) is
 * noticed in the first pass and left as it is.
 */
void ng_refs_sort(struct ng_ref *r, size_t n)
{
	uint64_t all = 0;
	bool sorted = true;
	struct ng_ref *tmp, *src = r, *dst;

	for (size_t i = 0; i < n; i++) {
		all |= r[i].key;
		if (i && r[i - 1].key > r[i].key)
			sorted = false;
	}
	if (sorted)
		return;
	tmp = dst = xmalloc(n * sizeof *tmp);
	for (unsigned shift = 0; shift < 64 && (all >> shift) != 0; shift += REFS_RADIX_BITS) {
		size_t count[REFS_RADIX_MASK + 2] = {0};
		struct ng_ref *swap;

		for (size_t i = 0; i < n; i++)
			count[((src[i].key >> shift) & REFS_RADIX_MASK) + 1]++;
		if (count[1] == n)
			continue;	/* every key has this digit 0: nothing moves */
		for (size_t d = 1; d <= REFS_RADIX_MASK + 1; d++)
			count[d] += count[d - 1];
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i].key >> shift) & REFS_RADIX_MASK]++] = src[i];
		swap = src;
		src = dst;
		dst = swap;
	}
	if (src != r)
		memcpy(r, src, n * sizeof *r);
	free(tmp);
}

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

bool str_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Read all of fd (closed here) into a NUL-terminated buffer; NULL and errno on failure. */
static char *fd_read_all(int fd, size_t max, size_t *lenp)
{
	size_t cap = 4096, len = 0;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap >= max) {
				free(buf);
				close(fd);
				errno = EFBIG;
				return NULL;
			}
			cap = NG_MIN(cap * 2, max);
			buf = xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

char *file_read_all(const char *path, size_t max, size_t *lenp)
{
	char why[256];
	int fd = ng_open_checked(path, O_RDONLY, 0, 0, why, sizeof why);

	return fd < 0 ? NULL : fd_read_all(fd, max, lenp);
}

char *file_read_checked(const char *path, size_t max, size_t *lenp, unsigned how, char *why, size_t whylen)
{
	int fd = ng_open_checked(path, O_RDONLY, 0, how, why, whylen);
	char *buf;

	if (fd < 0)
		return NULL;
	buf = fd_read_all(fd, max, lenp);
	if (!buf)
		snprintf(why, whylen, "%s", errno == EFBIG ? "it is larger than netglobe reads" : strerror(errno));
	return buf;
}

void sb_grow(struct strbuf *sb, size_t more)
{
	if (sb->len + more + 1 <= sb->cap)
		return;
	sb->cap = NG_MAX(sb->cap * 2, sb->len + more + 256);
	sb->p = xrealloc(sb->p, sb->cap);
}

void sb_puts(struct strbuf *sb, const char *s)
{
	sb_put(sb, s, strlen(s));
}


/* Number of decimal digits of v (1 for 0). */
static inline int dec_len(uint64_t v)
{
	int n = 1;

	while (v >= 10000) {
		v /= 10000;
		n += 4;
	}
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

char *put_u64(char *p, uint64_t v)
{
	int n;
	char *q;

	if (v < 10) {	/* the counters of most flows of a scan or flood: 0 and 1 */
		*p = (char)('0' + v);
		return p + 1;
	}
	n = dec_len(v);
	q = p + n;

	while (v >= 100) {
		q -= 2;
		memcpy(q, digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(q - 2, digit_pairs + 2 * v, 2);
	else
		q[-1] = (char)('0' + v);
	return p + n;
}

void sb_u64(struct strbuf *sb, uint64_t v)
{
	sb_done(sb, put_u64(sb_room(sb, NG_U64STRLEN), v));
}

char *u64_format(uint64_t v, char *buf)
{
	*put_u64(buf, v) = '\0';
	return buf;
}

size_t str_append(char *buf, size_t len, size_t at, const char *s)
{
	size_t n = strlen(s);

	if (len == 0 || at >= len - 1)
		return at;
	if (n > len - 1 - at)
		n = len - 1 - at;
	memcpy(buf + at, s, n);
	buf[at + n] = '\0';
	return at + n;
}

char *put_fixed4(char *p, double v)
{
	long long n;
	char frac[4];
	int k = 4;

	if (!isfinite(v))
		return NG_PUT_LIT(p, "null");
	if (fabs(v) < 9.0e11 && v == (double)(long long)v) {
		/* A whole number (a count, most signals' value): v * 10000 is exact, so no decimals either way. */
		if (v < 0)
			*p++ = '-';
		return put_u64(p, (uint64_t)(long long)fabs(v));
	}
	if (fabs(v) >= 9.0e14) {
		/* v * 10000 would not fit a long long: rounded to a whole number (as llround), the rest capped. */
		double a = fabs(v);

		if (v < 0)
			*p++ = '-';
		if (a < 9.0e18)
			return put_u64(p, (uint64_t)llround(a));
		return put_u64(p, a < 18446744073709549568.0 ? (uint64_t)a : UINT64_MAX);
	}
	n = llround(v * 10000.0);
	if (n < 0) {
		*p++ = '-';
		n = -n;
	}
	p = put_u64(p, (uint64_t)n / 10000);
	for (int i = 3; i >= 0; i--, n /= 10)
		frac[i] = (char)('0' + n % 10);
	while (k > 0 && frac[k - 1] == '0')
		k--;
	if (k > 0) {
		*p++ = '.';
		memcpy(p, frac, (size_t)k);
		p += k;
	}
	return p;
}

void sb_fixed4(struct strbuf *sb, double v)
{
	sb_done(sb, put_fixed4(sb_room(sb, NG_FIXED4LEN), v));
}

/* Length of the valid UTF-8 sequence at p (RFC 3629 4), or 0 when it is not one. */
static size_t utf8_valid_len(const unsigned char *p)
{
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] > 0x9f))
			return 0;	/* overlong, or a surrogate */
		return 3;
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return 0;
		if ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

void sb_json_key(struct strbuf *sb, const char *key)
{
	size_t n = strlen(key);
	char *p = sb_room(sb, n + 4);

	p = NG_PUT_LIT(p, ",\"");
	memcpy(p, key, n);
	p += n;
	sb_done(sb, NG_PUT_LIT(p, "\":"));
}

void sb_json_member_str(struct strbuf *sb, const char *key, const char *v)
{
	sb_json_key(sb, key);
	if (v)
		sb_json_str(sb, v);
	else
		sb_puts(sb, "null");
}

/* Bytes sb_json_str cannot copy as they are: controls, '"', '\\' and everything past ASCII. */
static const bool json_special[256] = {
	[0 ... 0x1f] = true, ['"'] = true, ['\\'] = true, [0x80 ... 0xff] = true,
};

/* The rest of sb_json_str from the first byte that needs care (the string is open, its quote not yet written). */
static void json_str_slow(struct strbuf *sb, const unsigned char *p)
{
	static const char hex[] = "0123456789abcdef";

	while (*p) {
		const unsigned char *run = p;

		/* Copy the plain ASCII run in one go. */
		while (!json_special[*p])
			p++;
		if (p > run)
			sb_put(sb, (const char *)run, (size_t)(p - run));
		if (!*p)
			break;
		if (*p == '"' || *p == '\\') {
			char e[2] = {'\\', (char)*p};

			sb_put(sb, e, 2);
			p++;
		} else if (*p < 0x20) {
			char e[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};

			sb_put(sb, e, 6);
			p++;
		} else {
			size_t n = utf8_valid_len(p);

			if (n) {
				sb_put(sb, (const char *)p, n);
				p += n;
			} else {
				sb_put(sb, "\xef\xbf\xbd", 3);	/* U+FFFD */
				p++;
			}
		}
	}
	sb_putc(sb, '"');
}

/*
 * The usual string (a name, a reason sentence) is plain ASCII: it is copied
 * while it is checked, in one pass, and only a string with a byte that needs
 * care goes on byte by byte from that byte.
 */
void sb_json_str(struct strbuf *sb, const char *s)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	char *p = sb_room(sb, n + 2);

	*p++ = '"';
	/* Eight bytes a step: a byte past ASCII, below 0x20, '"' or '\\' stops the run (bit tricks on the word). */
	for (; i + 8 <= n; i += 8) {
		uint64_t w, q, b;

		memcpy(&w, u + i, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		if ((w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs)
			break;
		memcpy(p + i, u + i, 8);
	}
	for (; i < n && !json_special[u[i]]; i++)
		p[i] = (char)u[i];
	if (i == n) {
		p[n] = '"';
		sb_done(sb, p + n + 1);
		return;
	}
	sb_done(sb, p + i);
	json_str_slow(sb, u + i);
}

int mkdir_p(const char *dir)
{
	char *p = xstrdup(dir);
	struct stat st;
	int rc = -1;

	for (char *q = p + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			goto out;
		*q = '/';
	}
	if (mkdir(p, 0700) != 0 && errno != EEXIST)
		goto out;
	if (stat(dir, &st) != 0)
		goto out;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto out;
	}
	rc = 0;
out:
	free(p);
	return rc;
}

void sb_csv_field(struct strbuf *sb, const char *s, bool last)
{
	bool quote;
	size_t n;

	if (!s)
		s = "";
	/* The usual field (a number, an address, a name) needs neither quotes nor the formula guard: one copy. */
	n = strcspn(s, ",\"\r\n");
	if (s[n] == '\0' && !(s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')) {
		char *p = sb_room(sb, n + 2);

		memcpy(p, s, n);
		p += n;
		if (last)
			p = NG_PUT_LIT(p, "\r\n");
		else
			*p++ = ',';
		sb_done(sb, p);
		return;
	}
	quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		sb_putc(sb, '"');
	if (s[0] && strchr("=+-@", s[0]))
		sb_putc(sb, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			sb_putc(sb, '"');
		sb_putc(sb, *p);
	}
	if (quote)
		sb_putc(sb, '"');
	if (last)
		sb_put(sb, "\r\n", 2);
	else
		sb_putc(sb, ',');
}
