/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * privs.c: give up root (or file capabilities) once start-up is done, keeping
 * only the capabilities netglobe still needs.
 *
 * DESIGN. As OpenBSD's daemons and tcpdump do, netglobe first opens what
 * needs privilege (the capture, the listening sockets, the sock_diag netlink
 * socket, the databases) and then drops it for good, before the loop reads
 * packets from the network. What is kept is decided by what is still needed,
 * not by a list of habits:
 *   CAP_NET_RAW          a live capture (so it can be re-opened);
 *   CAP_SYS_PTRACE and   process attribution without BPF: listing another
 *   CAP_DAC_READ_SEARCH  user's /proc/PID/fd needs the second, reading its
 *                        links passes a ptrace check that needs the first
 *                        (see docs/process.md); --no-process keeps neither.
 *   CAP_BPF, CAP_PERFMON process attribution by BPF (instead of
 *   and CAP_DAC_READ_SEARCH CAP_SYS_PTRACE): the kernel records owners;
 *                        the last one only lets executables that are not
 *                        world-readable be hashed.
 * Nothing else: no CAP_NET_ADMIN (libpcap needs it only to change interface
 * flags, which --promisc does at open time), no CAP_SETUID after the switch.
 *
 * The switch from root is the classic sequence: PR_SET_KEEPCAPS so setresuid
 * keeps the permitted set, setgroups/setresgid/setresuid to the user on all
 * three ids, then capset to exactly the kept set (effective = permitted,
 * inheritable empty). Before it, while CAP_SETPCAP is still there, the
 * bounding set loses everything not kept and the ambient set is cleared;
 * after it, PR_SET_NO_NEW_PRIVS, so an --on-alert command (or anything else
 * exec'd) can never gain privilege from setuid files or file capabilities,
 * and PR_SET_DUMPABLE 0, so the flows never end up in a core file and other
 * processes of the same user cannot ptrace the daemon.
 * The result is read back from the kernel for the log line, so the line says
 * what is true, not what was intended.
 *
 * Without a user to switch to (no --user, no "netglobe" account) netglobe
 * stays uid 0 but with the same reduced capability sets and SECBIT_NOROOT
 * locked, so uid 0 no longer means full privilege on exec. It is weaker than a
 * user switch (files owned by root stay writable by their owner bits), which
 * the log line says.
 *
 * The state directory is made the new user's before the switch: the
 * directory itself and the entries root just created in it (the whitelist
 * database, the token), one level down for subdirectories. Entries are
 * changed with fchownat(AT_SYMLINK_NOFOLLOW) and only when they are regular
 * files with one link or directories, owned by root: a symlink or a hard link
 * planted by a previous (compromised) run cannot turn this into a chown of
 * another file. Files are not opened for this, since closing any descriptor
 * of the open SQLite database would drop its POSIX locks. A directory
 * writable by everyone (/tmp) is refused rather than taken over.
 *
 * Capabilities belong to each thread, so the drop must happen while the
 * process has one thread; it checks that instead of assuming it.
 */
#include "privs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/securebits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "log.h"
#include "platform.h"
#include "util.h"

/* Capabilities netglobe may keep at most. */
#define PRIVS_MAX_KEEP 4

/* Who the process becomes. */
struct privs_target {
	bool switch_user;	/* false: stay who we are */
	uid_t uid;
	gid_t gid;
	char name[64];
	char why[256];		/* for the log line when not switching */
};

static int privs_threads(void);
static bool privs_kept(const cap_value_t *keep, size_t nkeep, cap_value_t c);
static int privs_lookup(const char *name, struct privs_target *t, char *err, size_t errlen);
static int privs_chown_dir(int dirfd, const char *path, uid_t uid, gid_t gid, int depth, char *err, size_t errlen);
static int privs_state_dir(const char *dir, const struct privs_target *t, char *err, size_t errlen);
static bool privs_bounding(const cap_value_t *keep, size_t nkeep);
static void privs_clear_ambient(void);
static int privs_set_caps(const cap_value_t *keep, size_t nkeep, char *err, size_t errlen);
static void privs_caps_text(const cap_value_t *keep, size_t nkeep, char *buf, size_t len);
static int privs_drop_root(const struct privs_options *opts, const cap_value_t *keep, size_t nkeep, char *err,
			   size_t errlen);
static int privs_drop_user(const struct privs_options *opts, const cap_value_t *keep, size_t nkeep, char *err,
			   size_t errlen);

/* Number of threads of this process (1 when /proc cannot tell). */
static int privs_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return n ? n : 1;
}

/* True when c is one of the kept capabilities. */
static bool privs_kept(const cap_value_t *keep, size_t nkeep, cap_value_t c)
{
	for (size_t i = 0; i < nkeep; i++) {
		if (keep[i] == c)
			return true;
	}
	return false;
}

/* Find a user by name or numeric uid; -1 with one line in err when there is none. */
static int privs_lookup(const char *name, struct privs_target *t, char *err, size_t errlen)
{
	struct passwd *pw;
	uint64_t num;

	errno = 0;
	pw = getpwnam(name);
	if (!pw && parse_uint(name, 0, UINT32_MAX - 1, &num) == 0)
		pw = getpwuid((uid_t)num);
	if (!pw) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH)
			snprintf(err, errlen, "cannot look up user '%s' for --user: %s", name, strerror(errno));
		else
			snprintf(err, errlen,
				 "unknown user '%s' for --user (create it with useradd -r -M -s /usr/sbin/nologin %s, "
				 "or choose another user)", name, name);
		return -1;
	}
	t->uid = pw->pw_uid;
	t->gid = pw->pw_gid;
	snprintf(t->name, sizeof t->name, "%s", pw->pw_name);
	return 0;
}

/*
 * Give root's entries of an open directory to uid:gid, then the directory
 * itself (depth 0 is the state directory, 1 its subdirectories).
 */
static int privs_chown_dir(int dirfd, const char *path, uid_t uid, gid_t gid, int depth, char *err, size_t errlen)
{
	int dupfd = dup(dirfd);
	DIR *d = dupfd >= 0 ? fdopendir(dupfd) : NULL;
	struct dirent *e;
	struct stat st;

	if (!d) {
		if (dupfd >= 0)
			close(dupfd);
		snprintf(err, errlen, "cannot list the state directory %s: %s", path, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_uid != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth == 0) {
			int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0) {
				char subpath[4096];

				snprintf(subpath, sizeof subpath, "%s/%s", path, e->d_name);
				if (privs_chown_dir(sub, subpath, uid, gid, depth + 1, err, errlen) != 0) {
					close(sub);
					closedir(d);
					return -1;
				}
				close(sub);
			}
		} else if (S_ISREG(st.st_mode) && st.st_nlink == 1) {
			if (fchownat(dirfd, e->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
				snprintf(err, errlen, "cannot give %s/%s to uid %u: %s", path, e->d_name, (unsigned)uid,
					 strerror(errno));
				closedir(d);
				return -1;
			}
		}
	}
	closedir(d);
	if (fchown(dirfd, uid, gid) != 0 || fchmod(dirfd, 0700) != 0) {
		snprintf(err, errlen, "cannot give the state directory %s to uid %u: %s", path, (unsigned)uid,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Make the state directory the target user's (created if missing, mode 0700). */
static int privs_state_dir(const char *dir, const struct privs_target *t, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create the state directory %s: %s (choose --state-dir DIR)", dir,
				 strerror(errno));
			return -1;
		}
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the state directory %s: %s (it must be a directory, not a symbolic "
			 "link; choose --state-dir DIR)", dir, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot stat the state directory %s: %s", dir, strerror(errno));
		close(fd);
		return -1;
	}
	if (st.st_mode & (S_IWOTH | S_ISVTX)) {
		snprintf(err, errlen, "the state directory %s is writable by everyone (mode %04o): give netglobe a "
			 "directory of its own with --state-dir DIR", dir, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	if (st.st_uid == 0)
		rc = privs_chown_dir(fd, dir, t->uid, t->gid, 0, err, errlen);
	else if (st.st_uid == t->uid && fchmod(fd, 0700) != 0)
		log_warn("cannot make the state directory %s private (mode 0700)", dir);
	/* Owned by someone else: left alone; the check after the switch says whether it is usable. */
	close(fd);
	return rc;
}

/* Drop every capability not kept from the bounding set; false when not allowed (no CAP_SETPCAP). */
static bool privs_bounding(const cap_value_t *keep, size_t nkeep)
{
	cap_value_t max = cap_max_bits();

	for (cap_value_t c = 0; c < max; c++) {
		if (privs_kept(keep, nkeep, c) || prctl(PR_CAPBSET_READ, (unsigned long)c, 0L, 0L, 0L) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0L, 0L, 0L) != 0)
			return false;
	}
	return true;
}

/* Empty the ambient set (kernels before 4.3 have none: nothing to do). */
static void privs_clear_ambient(void)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L) != 0 && errno != EINVAL)
		log_warn("cannot clear the ambient capability set");
}

/* Set permitted = effective = keep, inheritable empty. */
static int privs_set_caps(const cap_value_t *keep, size_t nkeep, char *err, size_t errlen)
{
	cap_t caps = cap_init();
	int rc = 0;

	if (!caps) {
		snprintf(err, errlen, "cannot drop capabilities: cap_init: %s", strerror(errno));
		return -1;
	}
	if (nkeep && (cap_set_flag(caps, CAP_PERMITTED, (int)nkeep, keep, CAP_SET) != 0 ||
		      cap_set_flag(caps, CAP_EFFECTIVE, (int)nkeep, keep, CAP_SET) != 0))
		rc = -1;
	if (rc == 0 && cap_set_proc(caps) != 0)
		rc = -1;
	if (rc != 0)
		snprintf(err, errlen, "cannot drop capabilities: capset: %s", strerror(errno));
	cap_free(caps);
	return rc;
}

/* The permitted set as "cap_net_raw,cap_sys_ptrace", or "none": kept ones first, in their order. */
static void privs_caps_text(const cap_value_t *keep, size_t nkeep, char *buf, size_t len)
{
	cap_t caps = cap_get_proc();
	cap_value_t max = cap_max_bits();
	size_t used = 0;

	buf[0] = '\0';
	for (size_t pass = 0; caps && pass < 2; pass++) {
		for (cap_value_t i = 0; i < (pass == 0 ? (cap_value_t)nkeep : max); i++) {
			cap_value_t c = pass == 0 ? keep[i] : i;
			cap_flag_value_t v = CAP_CLEAR;
			char *name;

			if ((pass == 1 && privs_kept(keep, nkeep, c)) || cap_get_flag(caps, c, CAP_PERMITTED, &v) != 0 ||
			    v != CAP_SET)
				continue;
			name = cap_to_name(c);
			if (name && used < len)
				used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "", name);
			cap_free(name);
		}
	}
	if (caps)
		cap_free(caps);
	if (buf[0] == '\0')
		snprintf(buf, len, "none");
}

/* Started as root: switch to the user (or stay uid 0) with only the kept capabilities. */
static int privs_drop_root(const struct privs_options *opts, const cap_value_t *keep, size_t nkeep, char *err,
			   size_t errlen)
{
	struct privs_target t;
	char kept[256];
	uid_t r, e, s;
	gid_t rg, eg, sg;

	memset(&t, 0, sizeof t);
	if (opts->user) {
		if (privs_lookup(opts->user, &t, err, errlen) != 0)
			return -1;
		t.switch_user = t.uid != 0;
		if (!t.switch_user)
			snprintf(t.why, sizeof t.why, " (--user %s)", opts->user);
	} else if (privs_lookup(PRIVS_DEFAULT_USER, &t, err, errlen) == 0 && t.uid != 0) {
		t.switch_user = true;
	} else {
		snprintf(t.why, sizeof t.why, ": user %s does not exist (create it with useradd -r -M -s "
			 "/usr/sbin/nologin %s, or give --user USER)", PRIVS_DEFAULT_USER, PRIVS_DEFAULT_USER);
	}
	if (t.switch_user && opts->state_dir && privs_state_dir(opts->state_dir, &t, err, errlen) != 0)
		return -1;

	if (!privs_bounding(keep, nkeep))
		log_debug("cannot reduce the capability bounding set: %s", strerror(errno));
	privs_clear_ambient();
	if (!t.switch_user &&
	    prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, 0L, 0L, 0L) != 0)
		log_debug("cannot set SECBIT_NOROOT: %s", strerror(errno));
	if (t.switch_user) {
		if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0) {
			snprintf(err, errlen, "cannot drop privileges: PR_SET_KEEPCAPS: %s", strerror(errno));
			return -1;
		}
		if (setgroups(1, &t.gid) != 0 || setresgid(t.gid, t.gid, t.gid) != 0) {
			snprintf(err, errlen, "cannot switch to the group of user %s (gid %u): %s", t.name,
				 (unsigned)t.gid, strerror(errno));
			return -1;
		}
		if (setresuid(t.uid, t.uid, t.uid) != 0) {
			snprintf(err, errlen, "cannot switch to user %s (uid %u): %s", t.name, (unsigned)t.uid,
				 strerror(errno));
			return -1;
		}
		(void)prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
	}
	if (privs_set_caps(keep, nkeep, err, errlen) != 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) {
		snprintf(err, errlen, "cannot set PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	(void)prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L);	/* no core files or ptrace of a process holding the flows */
	if (t.switch_user) {
		/* Belt and braces: every id is the user's, and there is no way back. */
		if (getresuid(&r, &e, &s) != 0 || r != t.uid || e != t.uid || s != t.uid || getresgid(&rg, &eg, &sg) != 0 ||
		    rg != t.gid || eg != t.gid || sg != t.gid || setuid(0) == 0) {
			snprintf(err, errlen, "switching to user %s did not take: ids are %u/%u/%u", t.name, (unsigned)r,
				 (unsigned)e, (unsigned)s);
			return -1;
		}
		if (opts->state_dir && access(opts->state_dir, R_OK | W_OK | X_OK) != 0) {
			snprintf(err, errlen, "user %s (uid %u) cannot use the state directory %s: %s (every parent "
				 "directory must let it search, e.g. chmod o+x; or choose --state-dir DIR)", t.name,
				 (unsigned)t.uid, opts->state_dir, strerror(errno));
			return -1;
		}
	}
	privs_caps_text(keep, nkeep, kept, sizeof kept);
	if (t.switch_user)
		log_info("running as %s (uid %u); capabilities kept: %s", t.name, (unsigned)t.uid, kept);
	else
		log_info("running as root%s; capabilities kept: %s; every other capability dropped", t.why, kept);
	return 0;
}

/* Not root: give up every capability not needed (file capabilities, ambient ones from systemd). */
static int privs_drop_user(const struct privs_options *opts, const cap_value_t *keep, size_t nkeep, char *err,
			   size_t errlen)
{
	cap_value_t have[PRIVS_MAX_KEEP];
	size_t nhave = 0;
	cap_t cur = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;
	struct passwd *pw;
	char kept[256], before[256], self[64], note[160] = "";
	struct privs_target t;
	uid_t uid = geteuid();

	privs_caps_text(keep, nkeep, before, sizeof before);
	for (size_t i = 0; cur && i < nkeep; i++) {
		v = CAP_CLEAR;
		if (cap_get_flag(cur, keep[i], CAP_PERMITTED, &v) == 0 && v == CAP_SET)
			have[nhave++] = keep[i];
	}
	/* Only a process that holds CAP_SETPCAP may shrink its bounding set: raise it for that if permitted. */
	v = CAP_CLEAR;
	if (cur && cap_get_flag(cur, CAP_SETPCAP, CAP_PERMITTED, &v) == 0 && v == CAP_SET) {
		cap_value_t setpcap = CAP_SETPCAP;

		if (cap_set_flag(cur, CAP_EFFECTIVE, 1, &setpcap, CAP_SET) == 0 && cap_set_proc(cur) == 0)
			(void)privs_bounding(keep, nkeep);
	}
	if (cur)
		cap_free(cur);
	if (opts->user) {
		memset(&t, 0, sizeof t);
		if (privs_lookup(opts->user, &t, err, errlen) != 0)
			return -1;
		if (t.uid != uid)
			snprintf(note, sizeof note, ", not as --user %s: only root can switch users", opts->user);
	}
	privs_clear_ambient();
	if (privs_set_caps(have, nhave, err, errlen) != 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) {
		snprintf(err, errlen, "cannot set PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	(void)prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L);	/* no core files or ptrace of a process holding the flows */
	pw = getpwuid(uid);
	snprintf(self, sizeof self, "%s", pw ? pw->pw_name : "a user without a name");
	privs_caps_text(keep, nkeep, kept, sizeof kept);
	if (strcmp(before, kept) != 0)
		log_info("running as %s (uid %u)%s; capabilities kept: %s (had %s)", self, (unsigned)uid, note, kept,
			 before);
	else
		log_info("running as %s (uid %u)%s; capabilities kept: %s", self, (unsigned)uid, note, kept);
	return 0;
}

int privs_check_user(const char *user, char *err, size_t errlen)
{
	struct privs_target t;
	char e2[256];

	if (user && privs_lookup(user, &t, err, errlen) != 0)
		return -1;
	/* As root, the account netglobe switches to owns the state directory after the first run: trust it. */
	if (geteuid() == 0 && privs_lookup(user ? user : PRIVS_DEFAULT_USER, &t, e2, sizeof e2) == 0 && t.uid != 0)
		state_owner_allow(t.uid);
	return 0;
}

int privs_drop(const struct privs_options *opts, char *err, size_t errlen)
{
	cap_value_t keep[PRIVS_MAX_KEEP];
	size_t nkeep = 0;
	int threads = privs_threads();

	if (opts->capture)
		keep[nkeep++] = CAP_NET_RAW;
	if (opts->process && opts->bpf) {
		/* The kernel records owners and executables: no need to read other processes' /proc/PID/fd. */
		keep[nkeep++] = CAP_BPF;
		keep[nkeep++] = CAP_PERFMON;
		keep[nkeep++] = CAP_DAC_READ_SEARCH;
		log_info("process attribution by BPF: CAP_SYS_PTRACE dropped; CAP_DAC_READ_SEARCH kept to hash "
			 "executables that are not world-readable");
	} else if (opts->process) {
		keep[nkeep++] = CAP_SYS_PTRACE;
		keep[nkeep++] = CAP_DAC_READ_SEARCH;
	}
	if (threads != 1) {
		snprintf(err, errlen, "cannot drop privileges: %d threads are running and capabilities belong to each "
			 "thread (drop privileges before starting threads)", threads);
		return -1;
	}
	if (geteuid() == 0)
		return privs_drop_root(opts, keep, nkeep, err, errlen);
	return privs_drop_user(opts, keep, nkeep, err, errlen);
}
