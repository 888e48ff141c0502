/* SPDX-License-Identifier: BSD-2-Clause */
/* linux.c: the platform layer on Linux (and other POSIX systems where the calls match). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform.h"
#include "util.h"

extern char **environ;

/* Nothing to prepare on Linux. */
int platform_init(char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return 0;
}

/*
 * The flag-setting handler for SIGINT, SIGTERM and SIGHUP. SA_RESTART: poll
 * returns EINTR on a signal whatever the flags (signal(7)), which wakes the
 * loop; everything else (a write to a --dump pipe, a read of -r -) just
 * carries on.
 */
void platform_signals(void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* root. */
bool platform_is_admin(void)
{
	return geteuid() == 0;
}

/* getrandom(2), retried on EINTR and short reads. */
int platform_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* poll(2) itself. */
int platform_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	return poll(fds, n, timeout_ms);
}

/* mmap(2) of the whole file. */
const void *platform_map_file(int fd, size_t *lenp)
{
	static const char empty[1];
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0)
		return NULL;
	*lenp = (size_t)st.st_size;
	if (st.st_size == 0)
		return empty;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* munmap(2); a zero-length mapping was never mapped. */
void platform_unmap_file(const void *p, size_t len)
{
	if (p != NULL && len > 0)
		munmap((void *)p, len);
}

/* mmap(2) twice the size and unmap what lies outside the aligned middle. */
void *platform_alloc_aligned(size_t size)
{
	size_t len = size * 2;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + size - 1) & ~(uintptr_t)(size - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + size < p + len)
		munmap(a + size, (size_t)(p + len - (a + size)));
	return a;
}

/* munmap(2). */
void platform_free_aligned(void *p, size_t size)
{
	munmap(p, size);
}

/* madvise(MADV_HUGEPAGE); failure is harmless. */
void platform_advise_huge(void *p, size_t len)
{
	(void)madvise(p, len, MADV_HUGEPAGE);
}

/* Move a descriptor to 3 or above (keeping close-on-exec), so the child's dup2 onto 0..2 is clean. */
static int fd_above_stdio(int fd)
{
	int n;

	if (fd >= 3)
		return fd;
	n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return n;
}

/* posix_spawnp with the signal dispositions reset, a new process group and ambient capabilities cleared. */
int platform_spawn(char *const argv[], const char *const add[], const char *drop_prefix, intptr_t *child,
		   int *stdin_fd, char *err, size_t errlen)
{
	static const int defsigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	size_t nenv = 0, nadd = 0, k = 0, plen = strlen(drop_prefix);
	char **envp;
	pid_t pid;
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "could not start: pipe: %s", strerror(errno));
		return -1;
	}
	p[0] = fd_above_stdio(p[0]);
	p[1] = fd_above_stdio(p[1]);
	if (p[0] < 0 || p[1] < 0) {
		if (p[0] >= 0)
			close(p[0]);
		if (p[1] >= 0)
			close(p[1]);
		snprintf(err, errlen, "could not start: out of descriptors");
		return -1;
	}
	for (char **e = environ; e && *e; e++)
		nenv++;
	while (add[nadd])
		nadd++;
	envp = xcalloc(nenv + nadd + 1, sizeof *envp);
	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, drop_prefix, plen) != 0)
			envp[k++] = *e;
	}
	for (size_t i = 0; i < nadd; i++)
		envp[k++] = (char *)add[i];
	envp[k] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&def);
	for (size_t i = 0; i < NG_ARRAY_LEN(defsigs); i++)
		sigaddset(&def, defsigs[i]);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	/*
	 * Ambient capabilities (systemd's AmbientCapabilities=) would pass to the
	 * command across execve; the daemon itself never execs, so drop them.
	 */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(envp);
	close(p[0]);
	if (rc != 0) {
		close(p[1]);
		snprintf(err, errlen, "could not start %s: %s", argv[0], strerror(rc));
		return -1;
	}
	fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
	*child = pid;
	*stdin_fd = p[1];
	return 0;
}

/* waitpid, WNOHANG unless block. */
int platform_child_wait(intptr_t child, bool block, char *how, size_t howlen)
{
	int status;
	pid_t w;

	how[0] = '\0';
	do {
		w = waitpid((pid_t)child, &status, block ? 0 : WNOHANG);
	} while (w < 0 && errno == EINTR);
	if (w == 0)
		return 0;
	if (w < 0)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		snprintf(how, howlen, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(how, howlen, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	return 1;
}

/* kill(2) the process group, and the process in case it left the group. */
void platform_child_kill(intptr_t child, bool hard)
{
	int sig = hard ? SIGKILL : SIGTERM;

	kill(-(pid_t)child, sig);
	kill((pid_t)child, sig);
}

/* socket(2) with SOCK_NONBLOCK | SOCK_CLOEXEC, bind(2) and listen(2). */
int platform_tcp_listen(const struct sockaddr *sa, socklen_t len)
{
	int fd, one = 1;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, sa, len) != 0 || listen(fd, 128) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* close(2). */
void platform_socket_close(int fd)
{
	close(fd);
}

/* Walk the descriptors below maxfd + 1. */
int platform_fdset_pollfds(const fd_set *rs, const fd_set *ws, int maxfd, struct pollfd *fds, int max)
{
	int n = 0;

	for (int fd = 0; fd <= maxfd && n < max; fd++) {
		short ev = (short)((FD_ISSET(fd, rs) ? POLLIN : 0) | (FD_ISSET(fd, ws) ? POLLOUT : 0));

		if (ev) {
			fds[n].fd = fd;
			fds[n].events = ev;
			fds[n].revents = 0;
			n++;
		}
	}
	return n;
}

/* open_memstream(3) itself. */
FILE *platform_memstream(char **buf, size_t *len)
{
	return open_memstream(buf, len);
}

/* fclose(3) sets the buffer. */
int platform_memstream_close(FILE *f)
{
	return fclose(f);
}

/* st_mtim: nanoseconds. */
struct timespec platform_mtime(const struct stat *st)
{
	return st->st_mtim;
}

/* Debian's publicsuffix package. */
const char *platform_psl_file(void)
{
	return "/usr/share/publicsuffix/public_suffix_list.dafsa";
}

/* The account the daemon switches to, whose files are trusted too; -1: none. */
static uid_t state_extra_owner = (uid_t)-1;

/* Trust files and the state directory owned by uid as well. */
void state_owner_allow(uid_t uid)
{
	state_extra_owner = uid;
}

/* True when files and directories owned by uid may be trusted. */
static bool owner_trusted(uid_t uid)
{
	return uid == geteuid() || uid == 0 || (state_extra_owner != (uid_t)-1 && uid == state_extra_owner);
}

/* The checks of state_dir_check on an existing directory. */
static int state_dir_judge(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) != 0) {
		snprintf(err, errlen, "cannot use state directory %s: %s (fix it or choose --state-dir DIR)", dir,
			 strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "state directory %s is not a directory (choose --state-dir DIR)", dir);
		errno = ENOTDIR;
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH | S_ISVTX)) {
		snprintf(err, errlen,
			 "state directory %s is writable by everyone or its group (mode %04o): others could plant netglobe's token, "
			 "rules or database there (chmod 700 it, or choose a private --state-dir DIR)",
			 dir, (unsigned)(st.st_mode & 07777));
		errno = EPERM;
		return -1;
	}
	if (!owner_trusted(st.st_uid)) {
		snprintf(err, errlen, "state directory %s belongs to uid %u, not to this user or root: its files could "
			 "be planted (chown it, or choose --state-dir DIR)", dir, (unsigned)st.st_uid);
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* Unix owners and modes: create the directory if missing, then judge it. */
int state_dir_check(const char *dir, char *err, size_t errlen)
{
	if (mkdir_p(dir) != 0) {
		snprintf(err, errlen, "cannot use state directory %s: %s (fix it or choose --state-dir DIR)", dir,
			 strerror(errno));
		return -1;
	}
	return state_dir_judge(dir, err, errlen);
}

/* The judgement alone, on a directory that must exist already. */
int state_dir_trust(const char *dir, char *err, size_t errlen)
{
	return state_dir_judge(dir, err, errlen);
}

/* A file type in words, for messages. */
static const char *file_type_name(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "not a regular file";
}

/* Open without trusting the path: no FIFO blocks, only regular files, optionally no links and only trusted owners. */
int ng_open_checked(const char *path, int flags, unsigned mode, unsigned how, char *why, size_t whylen)
{
	struct stat st;
	int fd, e;

	/* lstat first only for the words; fstat below is what decides. */
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode) && (how & NG_OPEN_NOFOLLOW)) {
			snprintf(why, whylen, "it is a symbolic link, which netglobe does not follow in its state "
				 "directory (remove it)");
			errno = ELOOP;
			return -1;
		}
	}
	fd = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | ((how & NG_OPEN_NOFOLLOW) ? O_NOFOLLOW : 0), mode);
	if (fd < 0) {
		e = errno;
		if (e == ELOOP && (how & NG_OPEN_NOFOLLOW))
			snprintf(why, whylen, "it is a symbolic link, which netglobe does not follow in its state "
				 "directory (remove it)");
		else if (e == ENXIO && stat(path, &st) == 0)
			snprintf(why, whylen, "it is %s, not a regular file%s", file_type_name(st.st_mode),
				 how ? " (remove it)" : "");
		else
			snprintf(why, whylen, "%s", strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		snprintf(why, whylen, "%s", strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "it is %s, not a regular file%s", file_type_name(st.st_mode), how ? " (remove it)" : "");
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if ((how & NG_OPEN_OWNED) && !owner_trusted(st.st_uid)) {
		snprintf(why, whylen, "it belongs to uid %u, not to this user or root, so it may have been planted "
			 "(remove it)", (unsigned)st.st_uid);
		close(fd);
		errno = EPERM;
		return -1;
	}
	if ((how & NG_OPEN_OWNED) && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, whylen, "it is writable by its group or others (mode %04o; chmod go-w it)",
			 (unsigned)(st.st_mode & 07777));
		close(fd);
		errno = EPERM;
		return -1;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
		e = errno;
		snprintf(why, whylen, "%s", strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Linux has no second name for an interface: libpcap judges whatever -i gives. */
int platform_iface_lookup(const char *arg, char *buf, size_t len)
{
	(void)arg;
	(void)buf;
	(void)len;
	return 0;
}

/* An interface's name is the one users know. */
bool platform_iface_friendly(const char *capname, char *buf, size_t len)
{
	(void)capname;
	(void)buf;
	(void)len;
	return false;
}

/* libpcap lists interfaces without privileges here; none at all means none exist in this namespace. */
const char *platform_no_iface_hint(void)
{
	return "";
}

/* /var/lib/netglobe as root, else the XDG state home. */
const char *platform_state_dir_default(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, len, "/var/lib/netglobe");
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/netglobe", xdg);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.local/state/netglobe", home);
	else
		return NULL;
	return n > 0 && (size_t)n < len ? buf : NULL;
}

/* The one line both service subcommands give on Linux. */
static void service_is_systemd(const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "service %s: on Linux netglobe runs as the systemd unit netglobe.service that make install "
		 "puts in /etc/systemd/system (systemctl enable --now netglobe; options go in /etc/netglobe.conf)", what);
}

/* Linux's service is the systemd unit. */
int platform_service_install(int argc, char *const argv[], char *err, size_t errlen)
{
	(void)argc;
	(void)argv;
	service_is_systemd("install", err, errlen);
	return -1;
}

/* Linux's service is the systemd unit. */
int platform_service_uninstall(char *err, size_t errlen)
{
	service_is_systemd("uninstall", err, errlen);
	return -1;
}

/* systemd runs netglobe itself; there is no dispatcher to hand over to. */
int platform_service_run(int (*run)(void *), void *arg, char *err, size_t errlen)
{
	(void)run;
	(void)arg;
	service_is_systemd("run", err, errlen);
	return -1;
}
