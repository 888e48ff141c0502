/* SPDX-License-Identifier: BSD-2-Clause */
/* platform.h: the one interface to the operating system; linux.c or windows.c implements it. */
#ifndef NG_PLATFORM_H
#define NG_PLATFORM_H

/*
 * DESIGN. Modules include this header instead of any operating-system
 * header. It brings in the POSIX file interface (open/read/write/close,
 * stat, directories), which both glibc and the Windows C runtime provide,
 * plus sockets, and declares the platform_* functions for everything that
 * differs between systems. On Windows the few POSIX names the CRT spells
 * differently are mapped here, once, so module code stays the same on both
 * (as tmux's compat/ and libpcap's pcap-npf.c do). A macOS port adds a
 * macos.c beside linux.c and, where needed, a branch here.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <time.h>

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <afunix.h>
#include <io.h>
#include <direct.h>
#include <fcntl.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <strings.h>
#undef interface
#undef ERROR
#undef DELETE

/* Evidence pcaps need openat/fstatat/unlinkat on a directory descriptor, which Windows lacks: off by default. */
#define PLATFORM_EVIDENCE_DEFAULT false
/* Windows' AF_UNIX has stream sockets only: no local syslog datagram socket. */
#define PLATFORM_UNIX_DGRAM false
/* No kernel BPF records of socket owners: the owner tables are read each tick. */
#define PLATFORM_BPF false
typedef uint32_t uid_t;
typedef uint32_t gid_t;
typedef int nfds_t;
#define O_CLOEXEC 0
#define O_NOFOLLOW 0
#define O_NONBLOCK 0
#define O_DIRECTORY 0
#define O_NOCTTY 0
#ifndef S_IRWXG
#define S_IRWXG 0070
#endif
#ifndef S_IRWXO
#define S_IRWXO 0007
#endif
#ifndef S_IWGRP
#define S_IWGRP 0020
#endif
#ifndef S_IWOTH
#define S_IWOTH 0002
#endif
#ifndef S_IRGRP
#define S_IRGRP 0040
#endif
#ifndef S_IROTH
#define S_IROTH 0004
#endif
#ifndef S_ISVTX
#define S_ISVTX 01000
#endif
#define S_ISLNK(m) 0
#define lstat stat
#define mkdir(path, mode) _mkdir(path)
#define fsync(fd) _commit(fd)
#define timegm _mkgmtime
#define SIGHUP 1
#define SIGPIPE 13
#define MSG_NOSIGNAL 0
#define MSG_DONTWAIT 0		/* netglobe's sockets are non-blocking already */
#define SOCK_NONBLOCK 0x40000000
#define SOCK_CLOEXEC 0x20000000
/* Winsock takes char pointers where POSIX takes void pointers; its sockets are not CRT descriptors. */
#define socket(d, t, p) platform_socket(d, t, p)
#define getsockopt(s, l, o, v, n) getsockopt(s, l, o, (char *)(v), n)
#define setsockopt(s, l, o, v, n) setsockopt(s, l, o, (const char *)(v), n)
/* send and connect set errno from the Winsock error (EAGAIN, EINPROGRESS, ECONNREFUSED, ...), as POSIX does. */
#define send(s, b, n, f) platform_send(s, b, n, f)
#define connect(s, a, l) platform_connect(s, a, l)
ssize_t platform_send(int fd, const void *buf, size_t len, int flags);
int platform_connect(int fd, const struct sockaddr *sa, socklen_t len);
#define poll(f, n, t) platform_poll(f, n, t)
int platform_socket(int domain, int type, int proto);
#define SHUT_RDWR SD_BOTH
/* Win64's malloc aligns to 16, which is all the code generated for x86-64 relies on; free() stays valid. */
#define aligned_alloc(align, n) malloc(n)
#define explicit_bzero(p, n) SecureZeroMemory(p, n)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_REMOVEDIR 0x200
#define AT_FDCWD (-100)
struct pcap;
int pcap_get_selectable_fd(struct pcap *p);
ssize_t pread(int fd, void *buf, size_t len, off_t off);
void *memrchr(const void *s, int c, size_t n);
/* getline(3): one line with its newline into *line (grown with realloc); its length, or -1 at the end. */
ssize_t getline(char **line, size_t *cap, FILE *f);
char *strcasestr(const char *hay, const char *needle);
void qsort_r(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *), void *arg);
/* Directory descriptors do not exist on Windows: these fail with ENOSYS (the evidence store needs them). */
int openat(int dirfd, const char *path, int flags, ...);
int fstatat(int dirfd, const char *path, struct stat *st, int flags);
int unlinkat(int dirfd, const char *path, int flags);
DIR *fdopendir(int fd);
ssize_t readlink(const char *path, char *buf, size_t len);
char *realpath(const char *path, char *resolved);
int mkostemp(char *tmpl, int flags);
#define EAI_SYSTEM (-11)
/* getifaddrs(3) from GetAdaptersAddresses: ifa_name is the adapter's capture name, \Device\NPF_{GUID}. */
struct ifaddrs {
	struct ifaddrs *ifa_next;
	char *ifa_name;
	unsigned ifa_flags;
	struct sockaddr *ifa_addr;
};
#ifndef IFF_UP
#define IFF_UP 0x1
#endif
#ifndef IFF_LOOPBACK
#define IFF_LOOPBACK 0x4
#endif
int getifaddrs(struct ifaddrs **list);
void freeifaddrs(struct ifaddrs *list);
struct iovec {
	void *iov_base;
	size_t iov_len;
};
/* writev(2) as one write of the joined buffers (appends stay whole lines). */
ssize_t writev(int fd, const struct iovec *iov, int n);
uid_t getuid(void);
uid_t geteuid(void);
int fchmod(int fd, unsigned mode);
struct tm *gmtime_r(const time_t *t, struct tm *out);
struct tm *localtime_r(const time_t *t, struct tm *out);
#else
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>
#define PLATFORM_EVIDENCE_DEFAULT true
#include <sys/un.h>
#define PLATFORM_UNIX_DGRAM true
#define PLATFORM_BPF true
#endif

/*
 * Capture interfaces by the names users know them by. platform_iface_lookup
 * maps another name of an adapter to the name libpcap opens: on Windows the
 * friendly name ("Wi-Fi", "Ethernet", any case) or the GUID, with or without
 * braces, to \Device\NPF_{GUID}. Returns 1 with the name in buf; 0 when
 * libpcap is to judge arg as it is (Linux, where names have no aliases and
 * libpcap opens more than it lists, "nflog:5"); -1 when arg names no adapter
 * (only a name in libpcap's own list may then be used: \Device\NPF_Loopback).
 */
int platform_iface_lookup(const char *arg, char *buf, size_t len);
/* The friendly name of the adapter pcap calls capname (Windows: "Wi-Fi"), into buf; false when there is none. */
bool platform_iface_friendly(const char *capname, char *buf, size_t len);
/* What to check when libpcap lists no interface at all (a sentence, or ""). */
const char *platform_no_iface_hint(void);

/*
 * netglobe as the system's service (netglobe service install|uninstall).
 * platform_service_install registers it to start at boot as "PROGRAM service
 * run ARGS...", args being the daemon's options (the caller has checked
 * them); platform_service_uninstall stops it and removes it. On Linux the
 * service is the systemd unit make install puts in place: both fail with one
 * line saying so. 0, or -1 with one line in err.
 */
int platform_service_install(int argc, char *const argv[], char *err, size_t errlen);
int platform_service_uninstall(char *err, size_t errlen);
/*
 * Run as the service manager's service: report it running, call run(arg)
 * (the daemon: the manager's stop request reaches the platform_signals
 * handler as SIGTERM, as Ctrl-C does), then report it stopped with run's exit
 * status, which is returned. -1 with one line in err when the service manager
 * did not start this process.
 */
int platform_service_run(int (*run)(void *), void *arg, char *err, size_t errlen);
/* The service's name in the service manager. */
#define PLATFORM_SERVICE_NAME "netglobe"

/* Start-up work the system needs before anything else (Windows: sockets, binary files); 0 or -1. */
int platform_init(char *err, size_t errlen);

/* A live capture with no descriptor to wait on (Npcap) is read every this many ms. */
#define PLATFORM_CAPTURE_POLL_MS 10

/* Running with full rights: root on Linux, an elevated administrator on Windows. */
bool platform_is_admin(void);

/*
 * Route the stop and reload requests to handler (called with SIGINT, SIGTERM
 * or SIGHUP; it may only set flags): signals on Linux, console control
 * events on Windows. Broken pipes are ignored (write errors come back as EPIPE).
 */
void platform_signals(void (*handler)(int));

/*
 * Start argv[0] (found through PATH) with the daemon's environment minus the
 * variables starting with drop_prefix, plus add (NULL-terminated "K=V"), in a
 * process group of its own, standard input a pipe whose write end is *stdin_fd
 * (non-blocking where the system allows) and standard output discarded.
 * 0, or -1 with one line in err ("could not start CMD: ...").
 */
int platform_spawn(char *const argv[], const char *const add[], const char *drop_prefix, intptr_t *child,
		   int *stdin_fd, char *err, size_t errlen);
/*
 * Reap child if it has ended (block: wait for it). Returns 0 while it runs,
 * 1 once it ended (how: "" for a clean exit, else "exited with status 3" or
 * "was killed by signal 15 (Terminated)"), -1 when it is unknown (already
 * reaped); child is invalid after a non-zero return.
 */
int platform_child_wait(intptr_t child, bool block, char *how, size_t howlen);
/* Ask child and its process group to stop: SIGTERM, or SIGKILL when hard (Windows: terminate, either way). */
void platform_child_kill(intptr_t child, bool hard);

/*
 * A listening TCP socket bound to sa (non-blocking, not inherited by
 * children, SO_REUSEADDR, IPv6 sockets IPv6-only), or -1 with errno
 * (EADDRINUSE, EADDRNOTAVAIL, EACCES, ...).
 */
int platform_tcp_listen(const struct sockaddr *sa, socklen_t len);
/* Close a socket from platform_tcp_listen. */
void platform_socket_close(int fd);
/* The descriptors of select(2) sets (up to maxfd) as pollfd entries; returns how many were written. */
int platform_fdset_pollfds(const fd_set *rs, const fd_set *ws, int maxfd, struct pollfd *fds, int max);

/* open_memstream(3): a FILE whose text ends up in *buf (malloc'd, NUL-terminated) at platform_memstream_close. */
FILE *platform_memstream(char **buf, size_t *len);
int platform_memstream_close(FILE *f);

/*
 * The default --state-dir, into buf: for the administrator (root; an elevated
 * administrator or a service on Windows) the system's place, /var/lib/netglobe
 * or %ProgramData%\netglobe; for others their own, $XDG_STATE_HOME/netglobe
 * (else ~/.local/state/netglobe) or %LOCALAPPDATA%\netglobe. Returns buf, or
 * NULL when no such place is known.
 */
const char *platform_state_dir_default(char *buf, size_t len);

/* Also trust files and the state directory owned by uid, the account the daemon switches to (Windows: nothing to do). */
void state_owner_allow(uid_t uid);

/* A file's modification time with whatever precision the system keeps. */
struct timespec platform_mtime(const struct stat *st);

/* The Public Suffix List file: Debian's publicsuffix package, or on Windows the copy beside netglobe.exe. */
const char *platform_psl_file(void);

/* Fill buf with len bytes from the system's cryptographic random source; 0, or -1 with errno. */
int platform_random(void *buf, size_t len);

/* Wait for any of fds (sockets, and on Linux the capture descriptor) for up to timeout_ms; poll(2)'s contract. */
int platform_poll(struct pollfd *fds, nfds_t n, int timeout_ms);

/*
 * Map a whole file read-only; returns the address and sets *lenp, or NULL
 * with errno. An empty file maps as a non-NULL address of length 0.
 */
const void *platform_map_file(int fd, size_t *lenp);
void platform_unmap_file(const void *p, size_t len);
/* size bytes of fresh memory aligned to size (a power of two: the flow slabs); NULL when out of memory. */
void *platform_alloc_aligned(size_t size);
/* Give back memory from platform_alloc_aligned(size). */
void platform_free_aligned(void *p, size_t size);
/* Ask for huge pages under a large table (a hint: nothing happens where the system has no such advice). */
void platform_advise_huge(void *p, size_t len);

#endif
