/* SPDX-License-Identifier: BSD-2-Clause */
/* privs.h: least privilege: once the capture and the listening sockets are open, drop to a user and keep only the capabilities still needed. */
#ifndef NG_PRIVS_H
#define NG_PRIVS_H

#include <stdbool.h>
#include <stddef.h>

/* The user netglobe becomes when started as root and no --user is given (if that user exists). */
#define PRIVS_DEFAULT_USER "netglobe"

struct privs_options {
	const char *user;	/* --user USER (a name or a numeric uid), or NULL for PRIVS_DEFAULT_USER */
	bool capture;		/* a live capture: keep CAP_NET_RAW so it can be re-opened */
	bool process;		/* process attribution is on: keep CAP_DAC_READ_SEARCH, and CAP_SYS_PTRACE without bpf */
	bool bpf;		/* attribution by BPF: keep CAP_BPF and CAP_PERFMON instead of CAP_SYS_PTRACE */
	const char *state_dir;	/* made the new user's (mode 0700) before the switch; NULL: none */
};

/*
 * Drop privileges for good, in one step, and log one line saying who the
 * process now is and which capabilities it kept. As root: switch to the user
 * (setgroups, setresgid, setresuid) keeping exactly the capabilities the
 * options ask for, or stay uid 0 with only those capabilities when no --user
 * was given and the default user does not exist. Not as root (file
 * capabilities, systemd's AmbientCapabilities): give up every capability not
 * needed. Always: empty ambient and inheritable sets, the bounding set reduced
 * where allowed, and PR_SET_NO_NEW_PRIVS, so no command netglobe runs can
 * regain anything. Must be called while the process has one thread.
 * Returns 0, or -1 with one line in err (an unknown user, a failed switch, a
 * state directory the new user cannot use).
 */
int privs_drop(const struct privs_options *opts, char *err, size_t errlen);

/*
 * Check early, before anything is opened, that --user names a user: 0, or
 * -1 with one line in err. As root, also trusts the state directory and its
 * files when that account owns them (state_owner_allow).
 */
int privs_check_user(const char *user, char *err, size_t errlen);

#endif
