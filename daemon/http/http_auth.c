/* SPDX-License-Identifier: BSD-2-Clause */
/* http_auth.c: who may use the HTTP server: Host and Origin checks, the LAN access token, brute-force slowing. */
#include "platform.h"
#include <errno.h>
#include <limits.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_auth.h"
#include "log.h"

/*
 * DESIGN (docs/security.md has the threat model)
 *
 * A listener on a loopback address serves only this host's users, but any
 * web page in their browser can make requests to it. Two browser attacks
 * matter: DNS rebinding (a hostile name resolves to 127.0.0.1, so the page
 * becomes "same-origin" with us and can read the API) and CSRF (a page
 * POSTs to us blind). The first is stopped by accepting only Host headers
 * that name a loopback address or a *.localhost name with our port: a
 * rebinding page always sends its own name. The second by requiring that a
 * POST carry an Origin (or, failing that, a Referer) equal to http://HOST,
 * and a JSON content type, which a cross-site form cannot send.
 *
 * A listener on any other address (0.0.0.0 included, whoever connects
 * through it) also needs a token: 32 random bytes, hex, made once and kept
 * in state_dir/http-token (0600). It is taken from one place only, the
 * "Authorization: Bearer" header, and compared in constant time. Never from
 * a cookie (cookies ignore ports: every other service on the host would
 * receive it) nor from the query (URLs land in history, logs and download
 * lists): a ?token= is refused without being compared. The page's files
 * hold no data and are served without the token; the page takes the token
 * from the URL's fragment (#token=, which browsers never send) into
 * sessionStorage and sends the header itself (web/src/js/api.js).
 *
 * Wrong tokens are counted per client address (per /64 for IPv6, since a
 * host picks addresses in its /64 freely): RL_FAILURES in RL_WINDOW block
 * that client for RL_BASE_BLOCK, doubling with each further block up to
 * RL_MAX_BLOCK. Every Authorization header a request carries is a guess
 * and counts. A blocked client gets 429 for everything, even with the
 * right token, so the block cannot be used to test guesses. The table is
 * fixed (RL_SLOTS); when full the stalest unblocked entry is reused.
 */

#define RL_SLOTS 1024
#define RL_FAILURES 5
#define RL_WINDOW (60 * NG_USEC)
#define RL_BASE_BLOCK (60 * NG_USEC)
#define RL_MAX_BLOCK (3600 * NG_USEC)
#define RL_FORGET (2 * RL_MAX_BLOCK)

struct rl_entry {
	ng_addr key;
	bool used;
	unsigned failures;	/* in the current window */
	unsigned strikes;	/* blocks so far */
	ng_time window_start, last, blocked_until;	/* monotonic */
};

struct http_ratelimit {
	struct rl_entry e[RL_SLOTS];
};

struct http_ratelimit *http_ratelimit_create(void)
{
	return xcalloc(1, sizeof(struct http_ratelimit));
}

void http_ratelimit_destroy(struct http_ratelimit *rl)
{
	free(rl);
}

/* The rate-limit key of a client: its IPv4 address, or its IPv6 /64. */
static ng_addr rl_key(const ng_addr *a)
{
	ng_addr k = *a;

	if (k.v == 6)
		memset(k.a + 8, 0, 8);
	return k;
}

/* The entry of a client, or NULL. */
static struct rl_entry *rl_find(struct http_ratelimit *rl, const ng_addr *peer)
{
	ng_addr k = rl_key(peer);

	for (size_t i = 0; i < RL_SLOTS; i++) {
		if (rl->e[i].used && addr_equal(&rl->e[i].key, &k))
			return &rl->e[i];
	}
	return NULL;
}

/* True (and the seconds left) while a client is blocked. */
static bool rl_blocked(struct http_ratelimit *rl, const ng_addr *peer, ng_time now, unsigned *secs)
{
	struct rl_entry *e = rl_find(rl, peer);

	if (!e || e->blocked_until <= now)
		return false;
	*secs = (unsigned)((e->blocked_until - now + NG_USEC - 1) / NG_USEC);
	return true;
}

/* Count a wrong token from a client; may start a block. */
static void rl_fail(struct http_ratelimit *rl, const ng_addr *peer, ng_time now)
{
	struct rl_entry *e = rl_find(rl, peer), *victim = NULL;

	if (!e) {
		for (size_t i = 0; i < RL_SLOTS; i++) {
			struct rl_entry *x = &rl->e[i];

			if (!x->used) {
				victim = x;
				break;
			}
			if (x->blocked_until > now)
				continue;
			if (!victim || x->last < victim->last)
				victim = x;
		}
		if (!victim)	/* everyone is blocked: reuse the stalest anyway */
			victim = &rl->e[0];
		e = victim;
		memset(e, 0, sizeof *e);
		e->used = true;
		e->key = rl_key(peer);
		e->window_start = now;
	}
	if (now - e->window_start > RL_WINDOW) {
		e->window_start = now;
		e->failures = 0;
	}
	e->last = now;
	if (++e->failures >= RL_FAILURES) {
		ng_time block = RL_BASE_BLOCK;
		char a[NG_ADDRSTRLEN];

		for (unsigned i = 0; i < e->strikes && block < RL_MAX_BLOCK; i++)
			block *= 2;
		block = NG_MIN(block, (ng_time)RL_MAX_BLOCK);
		e->strikes++;
		e->blocked_until = now + block;
		e->failures = 0;
		e->window_start = now;
		log_warnx("HTTP: %s sent %d wrong access tokens; refusing it for %lld s", addr_format(peer, a, sizeof a),
			  RL_FAILURES, (long long)(block / NG_USEC));
	}
}

void http_ratelimit_expire(struct http_ratelimit *rl, ng_time now)
{
	for (size_t i = 0; i < RL_SLOTS; i++) {
		struct rl_entry *e = &rl->e[i];

		if (e->used && e->blocked_until <= now && now - e->last > RL_FORGET)
			memset(e, 0, sizeof *e);
	}
}

/* --- The token ---------------------------------------------------------- */

/* True when s is exactly HTTP_TOKEN_HEX lower-case hex digits. */
static bool token_well_formed(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return i == HTTP_TOKEN_HEX;
}

int http_token_load(const char *state_dir, char *token, char *err, size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	char path[PATH_MAX], tmp[PATH_MAX + 32], buf[256], why[256];
	unsigned char rnd[HTTP_TOKEN_HEX / 2];
	struct stat st;
	ssize_t n;
	int fd;

	if (state_dir_check(state_dir, err, errlen) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/http-token", state_dir);
	/* Never through a link, never blocking on a FIFO, only a regular file (the owner is judged below). */
	fd = ng_open_checked(path, O_RDONLY, 0, NG_OPEN_NOFOLLOW, why, sizeof why);
	if (fd >= 0) {
		n = read(fd, buf, sizeof buf - 1);
		if (n < 0) {
			snprintf(err, errlen, "cannot read the LAN access token %s: %s (fix it or delete it)", path,
				 strerror(errno));
			close(fd);
			return -1;
		}
		buf[n] = '\0';
		if (fstat(fd, &st) == 0 && (uid_t)st.st_uid != geteuid() && st.st_uid != 0) {
			/* Planted by someone else: never trust a token we did not write. */
			snprintf(err, errlen, "the LAN access token %s belongs to uid %u, not to this user (delete it)",
				 path, (unsigned)st.st_uid);
			close(fd);
			explicit_bzero(buf, sizeof buf);
			return -1;
		}
		if (fstat(fd, &st) == 0 && (st.st_mode & 077)) {
			log_warnx("%s was readable by others; making it 0600 (consider deleting it for a new token)",
				  path);
			if (fchmod(fd, 0600) != 0)
				log_warn("chmod %s", path);
		}
		close(fd);
		buf[strcspn(buf, "\r\n")] = '\0';
		if (token_well_formed(buf)) {
			memcpy(token, buf, HTTP_TOKEN_HEX + 1);
			explicit_bzero(buf, sizeof buf);
			return 0;
		}
		log_warnx("%s does not hold a token; making a new one", path);
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "cannot read the LAN access token %s: %s", path, why);
		return -1;
	}
	if (platform_random(rnd, sizeof rnd) != 0) {
		snprintf(err, errlen, "cannot make a LAN access token: the system random source: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof rnd; i++) {
		token[2 * i] = hex[rnd[i] >> 4];
		token[2 * i + 1] = hex[rnd[i] & 15];
	}
	token[HTTP_TOKEN_HEX] = '\0';
	explicit_bzero(rnd, sizeof rnd);
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write the LAN access token in %s: %s (fix it or choose --state-dir DIR)",
			 state_dir, strerror(errno));
		return -1;
	}
	snprintf(buf, sizeof buf, "%s\n", token);
	n = write(fd, buf, strlen(buf));
	explicit_bzero(buf, sizeof buf);
	if (n != HTTP_TOKEN_HEX + 1 || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot write the LAN access token %s: %s (fix it or choose --state-dir DIR)",
			 path, strerror(errno ? errno : EIO));
		unlink(tmp);
		return -1;
	}
	log_info("made a new LAN access token in %s (delete the file to make another)", path);
	return 0;
}

/* Constant-time comparison of a presented token (length is not secret: every token has the same). */
static bool token_matches(const char *given, const char *token)
{
	volatile unsigned char d = 0;

	if (strnlen(given, HTTP_TOKEN_HEX + 1) != HTTP_TOKEN_HEX)
		return false;
	for (size_t i = 0; i < HTTP_TOKEN_HEX; i++)
		d |= (unsigned char)(given[i] ^ token[i]);
	return d == 0;
}

/* --- Host and Origin ---------------------------------------------------- */

/*
 * Split a Host value (RFC 9110 7.2: uri-host [":" port]) into a lower-case
 * name (IPv6 literals keep their brackets) and a port (-1 when absent).
 * -1 when it is malformed.
 */
static int host_split(const char *h, char *name, size_t namelen, int *port)
{
	const char *end, *colon = NULL;
	size_t n;
	uint64_t p;

	*port = -1;
	if (h[0] == '[') {
		end = strchr(h, ']');
		if (!end)
			return -1;
		end++;
		if (*end == ':')
			colon = end;
		else if (*end)
			return -1;
	} else {
		colon = strchr(h, ':');
		if (colon && strchr(colon + 1, ':'))
			return -1;
		end = colon ? colon : h + strlen(h);
	}
	n = (size_t)(end - h);
	if (n == 0 || n >= namelen)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char ch = h[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '.' || ch == '_' || ch == ':' || ch == '[' || ch == ']'))
			return -1;
		name[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	name[n] = '\0';
	if (colon) {
		if (parse_uint(colon + 1, 1, 65535, &p) != 0)
			return -1;
		*port = (int)p;
	}
	return 0;
}

/* True when a Host value names this host's loopback (127/8, ::1, localhost, *.localhost) with our port. */
static bool host_is_loopback(const char *host, uint16_t port)
{
	char name[300];
	struct in_addr a4;
	struct in6_addr a6;
	int p;
	size_t n;

	if (host_split(host, name, sizeof name, &p) != 0)
		return false;
	if (p >= 0 ? p != port : port != 80)
		return false;
	n = strlen(name);
	if (n && name[n - 1] == '.')
		name[--n] = '\0';
	if (strcmp(name, "localhost") == 0 || str_ends_with(name, ".localhost"))
		return true;
	if (name[0] == '[') {
		name[n - 1] = '\0';
		return inet_pton(AF_INET6, name + 1, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return inet_pton(AF_INET, name, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

int http_auth_origin(struct http_conn *c, enum MHD_Result *ret)
{
	const char *host = http_header(c, "Host");
	const char *origin = http_header(c, "Origin");
	const char *referer = http_header(c, "Referer");
	char want[400];
	size_t n;

	if (!host || !host[0]) {
		*ret = http_error(c, 403, "a POST needs a Host header");
		return 0;
	}
	n = (size_t)snprintf(want, sizeof want, "http://%s", host);
	if (n >= sizeof want) {
		*ret = http_error(c, 403, "the Host header is too long");
		return 0;
	}
	if (origin) {
		if (strcasecmp(origin, want) == 0)
			return 1;
		*ret = http_error(c, 403, "cross-origin POST refused: Origin %.100s is not %.100s", origin, want);
		return 0;
	}
	if (referer && strncasecmp(referer, want, n) == 0 && (referer[n] == '/' || referer[n] == '\0'))
		return 1;
	*ret = http_error(c, 403, "a POST needs an Origin header of %.100s (cross-site requests are refused)", want);
	return 0;
}

/* True when the raw query string has a "token" parameter. */
static bool query_has_token(const char *uri)
{
	const char *q = strchr(uri, '?');

	while (q) {
		q++;
		if (strncmp(q, "token=", 6) == 0 || strncmp(q, "token&", 6) == 0 || strcmp(q, "token") == 0)
			return true;
		q = strchr(q, '&');
	}
	return false;
}

/* True when the request is a browser's top-level navigation (it shows what it gets as a page). */
static bool is_navigation(struct http_conn *c)
{
	const char *sfm = http_header(c, "Sec-Fetch-Mode"), *accept = http_header(c, "Accept");

	if (sfm)
		return strcmp(sfm, "navigate") == 0;
	return accept && strstr(accept, "text/html");
}

/*
 * The page a browser gets when it navigates to something that needs the
 * token without it: what the token is and how to bring it (401, HTML, the
 * common headers). old_form: the URL carried ?token=, the form of older
 * versions.
 */
static enum MHD_Result token_needed_page(struct http_conn *c, bool old_form)
{
	static const char *const hdrs[] = {"WWW-Authenticate", "Bearer realm=\"netglobe\"", "Cache-Control",
					   "no-store", NULL};
	static const char head[] =
		"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		"<title>netglobe needs its access token</title></head><body>"
		"<h1>netglobe needs its access token</h1>";
	static const char old[] =
		"<p><strong>This link carries the token in the wrong place.</strong> The token no longer goes after "
		"<code>?token=</code> (such links end up in the browser's history and in logs). Use the link that "
		"netglobe prints now, which has <code>#token=</code> instead.</p>";
	static const char body[] =
		"<p>This netglobe listens on the local network, so it shows its data only to those who hold its "
		"access token: 64 letters and digits, made once by netglobe and kept in the file "
		"<code>http-token</code> in its state directory (for example "
		"<code>/var/lib/netglobe/http-token</code>).</p>"
		"<h2>On a phone</h2><p>When netglobe starts on a terminal it draws a QR code. Point the phone's "
		"camera (or a QR code app) at it and open the link it offers.</p>"
		"<h2>On a computer</h2><p>netglobe writes the link when it starts (in the terminal, or in the "
		"journal: <code>journalctl -u netglobe | grep token</code>). It looks like "
		"<code>http://192.0.2.1:8080/#token=...</code>. Open it as it is: the part after <code>#</code> "
		"never leaves the browser; the page keeps the token for this tab only and removes it from the "
		"address bar.</p>"
		"<p>Scripts send the token in a header: <code>Authorization: Bearer TOKEN</code>.</p>"
		"</body></html>\n";
	size_t n = sizeof head - 1 + (old_form ? sizeof old - 1 : 0) + sizeof body - 1;
	char *page = xmalloc(n + 1);
	struct MHD_Response *r;

	snprintf(page, n + 1, "%s%s%s", head, old_form ? old : "", body);
	r = MHD_create_response_from_buffer(n, page, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(page);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/html; charset=utf-8");
	for (size_t i = 0; hdrs[i]; i += 2)
		MHD_add_response_header(r, hdrs[i], hdrs[i + 1]);
	return http_queue(c, 401, r);
}

/* What the Authorization headers of a request hold: how many Bearer guesses, whether one was right. */
struct auth_guesses {
	const char *token;
	unsigned right, wrong;
};

/* Iterator over request headers: judge each Authorization header. */
static enum MHD_Result auth_guess_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct auth_guesses *g = cls;

	(void)kind;
	if (strcasecmp(key, "Authorization") != 0 || !value)
		return MHD_YES;
	if (strncasecmp(value, "Bearer ", 7) == 0 && token_matches(value + 7, g->token))
		g->right++;
	else
		g->wrong++;
	return MHD_YES;
}

int http_auth_request(struct http_conn *c, const char *url, const char *method, enum MHD_Result *ret)
{
	static const char *const www_auth[] = {"WWW-Authenticate", "Bearer realm=\"netglobe\"", NULL};
	struct http_server *s = c->srv;
	struct auth_guesses g = {s->token, 0, 0};
	const char *host;
	unsigned secs;
	ng_time now;

	(void)url;
	(void)method;
	/*
	 * Fetch metadata (Sec-Fetch-Site, sent by every current browser): a page
	 * of another site may link to the page (a top-level navigation) but may
	 * not call the API or hold event streams, which on loopback would
	 * otherwise need nothing but a Host that names 127.0.0.1. Tools that send
	 * no such header (curl) are unaffected.
	 */
	{
		const char *sfs = http_header(c, "Sec-Fetch-Site"), *sfm = http_header(c, "Sec-Fetch-Mode");

		if (sfs && strcmp(sfs, "same-origin") != 0 && strcmp(sfs, "none") != 0 &&
		    !(c->route->auth == HTTP_AUTH_PAGE && sfm && strcmp(sfm, "navigate") == 0)) {
			*ret = http_error(c, 403, "cross-site request refused (Sec-Fetch-Site: %.20s)", sfs);
			return 0;
		}
	}
	/* A cookie of older versions: ask the browser to drop it (it would go to every port of this host). */
	if (MHD_lookup_connection_value(c->mc, MHD_COOKIE_KIND, "netglobe_token"))
		c->clear_cookie = true;
	if (c->l->loopback) {
		host = http_header(c, "Host");
		/* No Host at all is an HTTP/1.0 tool, never a browser: rebinding needs a browser. */
		if (host && !host_is_loopback(host, c->l->port)) {
			*ret = http_error(c, 403,
					  "Host '%.100s' is not a loopback name of this server: open http://127.0.0.1:%u/ "
					  "(requests through other names are refused against DNS rebinding)",
					  host, c->l->port);
			return 0;
		}
		return 1;
	}
	now = time_mono();
	if (rl_blocked(s->rl, &c->peer, now, &secs)) {
		char ra[16];
		const char *const headers[] = {"Retry-After", ra, NULL};

		snprintf(ra, sizeof ra, "%u", secs);
		*ret = http_error_headers(c, 429, headers,
					  "too many wrong access tokens from this address; wait and retry");
		return 0;
	}
	if (query_has_token(c->uri)) {
		/* Never compared, so never a guess: a token in a URL is refused as such. */
		if (is_navigation(c))
			*ret = token_needed_page(c, true);
		else
			*ret = http_error_headers(c, 401, www_auth,
						  "the access token goes in the header 'Authorization: Bearer TOKEN', "
						  "never in the URL (URLs end up in histories and logs)");
		return 0;
	}
	if (c->route->auth == HTTP_AUTH_PAGE && http_method_bit(method) != HTTP_M_POST)
		return 1;	/* the page's files hold no data; the page brings the token to the API */
	MHD_get_connection_values(c->mc, MHD_HEADER_KIND, auth_guess_cb, &g);
	for (unsigned i = 0; i < g.wrong; i++)
		rl_fail(s->rl, &c->peer, now);
	if (g.right && !g.wrong)
		return 1;
	if (g.right || g.wrong) {
		*ret = http_error_headers(c, 401, www_auth,
					  g.right ? "more than one access token in one request" : "wrong access token");
		return 0;
	}
	if (is_navigation(c)) {
		*ret = token_needed_page(c, false);
		return 0;
	}
	*ret = http_error_headers(c, 401, www_auth,
				  "this netglobe needs its access token in the header 'Authorization: Bearer TOKEN' "
				  "(it is in the state directory's http-token file; the page takes it from the "
				  "#token= URL netglobe prints at start)");
	return 0;
}

/* --- Where to open it --------------------------------------------------- */

/* True when QR module (x, y) is dark; outside the symbol (the quiet zone) is light. */
static bool qr_dark(const QRcode *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return false;
	return q->data[y * q->width + x] & 1;
}

/*
 * Draw a QR code of text with Unicode half blocks, two module rows per line.
 * Light modules are drawn (terminals are mostly light text on dark), with a
 * quiet zone of 4 modules as ISO/IEC 18004 asks.
 */
static void http_print_qr(FILE *out, const char *text)
{
	const int quiet = 4;
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	int w;

	if (!q)
		return;
	w = q->width + 2 * quiet;
	for (int y = 0; y < w; y += 2) {
		for (int x = 0; x < w; x++) {
			bool top = qr_dark(q, x - quiet, y - quiet);
			bool bot = y + 1 < w ? qr_dark(q, x - quiet, y + 1 - quiet) : true;

			fputs(!top && !bot ? "\u2588" : !top ? "\u2580" : !bot ? "\u2584" : " ", out);
		}
		fputc('\n', out);
	}
	fflush(out);
	QRcode_free(q);
}

/* The token URLs of a LAN listener into urls (one per interface address for 0.0.0.0 and [::]); returns how many. */
static size_t lan_urls(const struct http_server *s, const struct http_listener *l, char urls[][160], size_t max)
{
	struct ifaddrs *ifa0, *ifa;
	size_t n = 0;

	if (l->wildcard && getifaddrs(&ifa0) == 0) {
		for (ifa = ifa0; ifa && n < max; ifa = ifa->ifa_next) {
			char a[INET6_ADDRSTRLEN];

			if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != l->family || (ifa->ifa_flags & IFF_LOOPBACK) ||
			    !(ifa->ifa_flags & IFF_UP))
				continue;
			if (l->family == AF_INET) {
				inet_ntop(AF_INET, &((struct sockaddr_in *)ifa->ifa_addr)->sin_addr, a, sizeof a);
				snprintf(urls[n++], 160, "http://%s:%u/#token=%s", a, l->port, s->token);
			} else {
				const struct in6_addr *a6 = &((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;

				if (IN6_IS_ADDR_LINKLOCAL(a6))	/* needs a zone the browser cannot take */
					continue;
				inet_ntop(AF_INET6, a6, a, sizeof a);
				snprintf(urls[n++], 160, "http://[%s]:%u/#token=%s", a, l->port, s->token);
			}
		}
		freeifaddrs(ifa0);
	}
	if (n == 0)
		snprintf(urls[n++], 160, "http://%s/#token=%s", l->name, s->token);
	return n;
}

void http_announce(struct http_server *s)
{
	char urls[16][160], first[160] = "";

	for (size_t i = 0; i < s->nls; i++) {
		const struct http_listener *l = &s->ls[i];
		size_t n;

		if (l->loopback) {
			log_info("HTTP: open http://%s/ on this host", l->name);
			continue;
		}
		n = lan_urls(s, l, urls, NG_ARRAY_LEN(urls));
		for (size_t j = 0; j < n; j++)
			log_info("HTTP: open %s from the LAN (%s; the token is needed once)", urls[j], l->name);
		if (!first[0])
			snprintf(first, sizeof first, "%s", urls[0]);
	}
	if (first[0] && isatty(STDOUT_FILENO)) {
		printf("Scan to open %s\n", first);
		http_print_qr(stdout, first);
	}
}
