#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# privileges.sh: least privilege, read back from the kernel (/proc/PID/status) rather than from the daemon's log.
#
# Started as root with --user U on a live interface, the daemon must end up with uid/gid U on all ids, the
# supplementary groups reduced to U's group, exactly CAP_NET_RAW + CAP_SYS_PTRACE + CAP_DAC_READ_SEARCH in the
# permitted, effective and bounding sets, nothing inheritable or ambient, and NoNewPrivs set; /api/stats still
# answers, the state directory and its files are U's (0700), and process attribution still names a root-owned
# process (so the kept capabilities really work). --no-process keeps only CAP_NET_RAW, -r FILE keeps nothing,
# --user root stays uid 0 with the same reduced sets. Not root: file capabilities (setcap) and ambient ones (as
# systemd's AmbientCapabilities gives them) are cut to what is needed. Errors are one line and a non-zero exit:
# --user nosuchuser, a world-writable state directory, a state directory U cannot reach.
# Capability masks are decoded by capsh --decode (libcap2-bin) when present, else by the bit numbers of
# linux/capability.h (CAP_DAC_READ_SEARCH 2, CAP_NET_RAW 13, CAP_SYS_PTRACE 19).
. "$(dirname "$0")/../lib/common.sh"
is_root || skip "needs root to test privilege dropping"
need curl python3 useradd userdel
PCAP=$PCAPS/slips-test7-malicious.pcap
U=ngtest$$
useradd -r -M -s /usr/sbin/nologin "$U" || skip "cannot create a system user here"
trap 'ng_cleanup; userdel "$U" 2>/dev/null' EXIT INT TERM
UID_U=$(id -u "$U")
GID_U=$(id -g "$U")
chmod 755 "$TMP"	# the user must be able to reach state directories below it
echo "test user $U (uid $UID_U, gid $GID_U)"

RUNAS=""		# a command prefix (setpriv ...) for the non-root cases
BIN=$NG_BIN
MASK_ALL=0000000000082004	# cap_dac_read_search (2), cap_net_raw (13), cap_sys_ptrace (19): attribution by /proc
MASK_BPF=000000c000002004	# cap_dac_read_search (2), cap_net_raw (13), cap_perfmon (38), cap_bpf (39)
MASK_RAW=0000000000002000	# cap_net_raw
MASK_NONE=0000000000000000

# field PID NAME: a value of /proc/PID/status ("Uid", "CapEff", ...), tabs squeezed to spaces.
field() {
	awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status"
}

# decode MASK: the capability names of a hex mask, sorted, comma-separated (independent of the daemon).
decode() {
	if command -v capsh >/dev/null 2>&1; then
		capsh --decode="$1" | sed 's/^0x[0-9a-f]*=//' | tr ',' '\n' | grep . | sort | paste -sd, -
	else
		python3 -c 'import sys
names = {2: "cap_dac_read_search", 13: "cap_net_raw", 19: "cap_sys_ptrace", 38: "cap_perfmon", 39: "cap_bpf"}
m = int(sys.argv[1], 16)
print(",".join(sorted(names.get(b, "cap_%d" % b) for b in range(64) if m >> b & 1)))' "$1"
	fi
}

# start NAME ARGS...: start the daemon, wait until /api/stats answers (the drop happens before the loop).
start() {
	name=$1
	shift
	port=$(free_port)
	# shellcheck disable=SC2086
	NG_START_TRIES=150 ng_start "$name" $RUNAS "$BIN" --listen "127.0.0.1:$port" "$@"
}

# stop: SIGTERM; the daemon must exit 0 (it flushes the whitelist as the dropped user).
stop() {
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	[ $rc -eq 0 ] || { cat "$TMP/$name.err"; fail "$name: exit status $rc after SIGTERM, want 0"; }
}

# expect_caps WHAT MASK [SETS]: the SETS (default: permitted, effective, bounding) are MASK; inheritable and
# ambient are empty. (Without CAP_SETPCAP a process that is not root cannot shrink its bounding set.)
expect_caps() {
	for set in ${3:-CapPrm CapEff CapBnd}; do
		got=$(field "$pid" $set)
		[ "$(decode "$got")" = "$(decode "$2")" ] ||
			fail "$1: $set is $got ($(decode "$got")), want $2 ($(decode "$2"))"
	done
	for set in CapInh CapAmb; do
		got=$(field "$pid" $set)
		[ "$got" = "$MASK_NONE" ] || fail "$1: $set is $got ($(decode "$got")), want none"
	done
	[ "$(field "$pid" NoNewPrivs)" = 1 ] || fail "$1: NoNewPrivs is not 1"
	echo "ok $1: $(echo ${3:-CapPrm CapEff CapBnd} | tr ' ' /) = $(decode "$2" | sed 's/^$/none/'), CapInh/CapAmb empty, NoNewPrivs 1"
}

# expect_error WHAT PATTERN ARGS...: exit non-zero (not a signal) with exactly one line on stderr matching PATTERN.
expect_error() {
	what=$1
	pattern=$2
	shift 2
	timeout 30 "$NG_BIN" "$@" > "$TMP/out" 2> "$TMP/err"
	rc=$?
	[ $rc -ne 0 ] && [ $rc -lt 124 ] || { cat "$TMP/err"; fail "$what: exit status $rc, want an error exit"; }
	lines=$(grep -c . "$TMP/err")
	[ "$lines" -eq 1 ] || { cat "$TMP/err"; fail "$what: $lines lines on stderr, want 1"; }
	grep -q -- "$pattern" "$TMP/err" || { cat "$TMP/err"; fail "$what: message lacks '$pattern'"; }
	echo "ok $what: $(cat "$TMP/err")"
}

# 1. Root -> --user U, live on lo, process attribution on by sock_diag and /proc (--no-bpf).
start user -i lo --no-bpf --user "$U" --state-dir "$TMP/state"
[ "$(field "$pid" Uid)" = "$UID_U $UID_U $UID_U $UID_U" ] || fail "Uid is '$(field "$pid" Uid)', want $UID_U x4"
[ "$(field "$pid" Gid)" = "$GID_U $GID_U $GID_U $GID_U" ] || fail "Gid is '$(field "$pid" Gid)', want $GID_U x4"
[ "$(field "$pid" Groups)" = "$GID_U" ] || fail "Groups is '$(field "$pid" Groups)', want $GID_U"
echo "ok uid/gid: all four ids are $U's, groups = $GID_U"
expect_caps "--user $U -i lo" $MASK_ALL
grep -q "running as $U (uid $UID_U); capabilities kept: cap_net_raw,cap_sys_ptrace,cap_dac_read_search\$" \
	"$TMP/user.err" || { cat "$TMP/user.err"; fail "no start-up line naming the user and the kept capabilities"; }
echo "ok log: $(grep 'running as' "$TMP/user.err" | sed 's/^netglobe: //')"
owner=$(stat -c '%U %a' "$TMP/state")
[ "$owner" = "$U 700" ] || fail "state directory is '$owner', want '$U 700'"
for f in "$TMP"/state/*; do
	[ "$(stat -c %U "$f")" = "$U" ] || fail "$f belongs to $(stat -c %U "$f"), not $U"
done
echo "ok state directory: $U, mode 700, and so are its files ($(ls "$TMP/state" | paste -sd' ' -))"

# The kept capabilities must work: a capture as U, and attribution of a root-owned process's socket.
lport=$(free_port)
python3 -c 'import socket, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(1); c, _ = l.accept(); time.sleep(8)' "$lport" &
srv=$!
sleep 0.3
python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(b"hello"); time.sleep(8)' "$lport" &
cli=$!
NG_PIDS="$NG_PIDS $srv $cli"
found=""
i=0
while [ $i -lt 60 ] && [ -z "$found" ]; do
	sleep 0.2
	found=$(curl -s "http://127.0.0.1:$port/flows" | python3 -c 'import json, sys
port, cli = int(sys.argv[1]), int(sys.argv[2])
for f in json.load(sys.stdin)["flows"]:
    p = f.get("process")
    if f.get("remote_port") == port and p and p.get("pid") == cli:
        print("%s pid %d user %s" % (p["name"], p["pid"], p["user"]))' "$lport" "$cli")
	i=$((i + 1))
done
[ -n "$found" ] || { curl -s "http://127.0.0.1:$port/api/stats"; fail "process attribution as $U found no owner for the root-owned client socket"; }
echo "ok attribution as $U: the client socket belongs to $found"
packets=$(curl -s "http://127.0.0.1:$port/api/stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["packets"])')
[ "$packets" -gt 0 ] || fail "no packets captured after the drop"
echo "ok capture as $U: $packets packets"
kill "$srv" "$cli" 2>/dev/null
stop
echo "ok SIGTERM as $U: exit 0"

# 1b. The same with BPF attribution (the default where the kernel allows it): CAP_SYS_PTRACE goes, CAP_BPF and
# CAP_PERFMON stay (the programs stay attached; the ring buffer is read as U).
start userbpf -i lo --user "$U" --state-dir "$TMP/state"
if grep -q "process attribution: BPF" "$TMP/userbpf.err"; then
	expect_caps "--user $U -i lo (BPF)" $MASK_BPF
	grep -q "running as $U (uid $UID_U); capabilities kept: cap_net_raw,cap_bpf,cap_perfmon,cap_dac_read_search\$" \
		"$TMP/userbpf.err" || { cat "$TMP/userbpf.err"; fail "BPF: no start-up line naming the kept capabilities"; }
	grep -q "CAP_SYS_PTRACE dropped" "$TMP/userbpf.err" || fail "BPF: the log does not say CAP_SYS_PTRACE was dropped"
	echo "ok BPF: $(grep 'running as' "$TMP/userbpf.err" | sed 's/^netglobe: //')"
else
	expect_caps "--user $U -i lo (no BPF here)" $MASK_ALL
	echo "ok BPF is not available here: $(grep 'process attribution' "$TMP/userbpf.err" | head -n 1)"
fi
stop

# 2. --no-process: only CAP_NET_RAW.
start noproc -i lo --no-process --user "$U" --state-dir "$TMP/state"
expect_caps "--no-process" $MASK_RAW
grep -q "capabilities kept: cap_net_raw\$" "$TMP/noproc.err" || fail "--no-process: log line does not say cap_net_raw alone"
stop

# 3. A file replay needs no capability at all.
start file -r "$PCAP" --user "$U" --state-dir "$TMP/state"
expect_caps "-r FILE" $MASK_NONE
stop

# 4. --user root: stays uid 0 with the same reduced sets.
start root -i lo --no-bpf --user root --state-dir "$TMP/rootstate"
[ "$(field "$pid" Uid)" = "0 0 0 0" ] || fail "--user root: Uid is '$(field "$pid" Uid)'"
expect_caps "--user root -i lo" $MASK_ALL
grep -q "running as root (--user root); capabilities kept" "$TMP/root.err" || fail "--user root: no log line"
stop

# 5. Not root. File capabilities: a copy of the binary with cap_net_raw and cap_sys_admin, run as U.
if command -v setcap >/dev/null 2>&1 && command -v setpriv >/dev/null 2>&1; then
	cp "$NG_BIN" "$TMP/netglobe-fcaps"
	chmod 755 "$TMP/netglobe-fcaps"
	if setcap cap_net_raw,cap_sys_admin+ep "$TMP/netglobe-fcaps" 2>/dev/null; then
		mkdir -m 700 "$TMP/ustate" && chown "$U:" "$TMP/ustate"
		RUNAS="setpriv --reuid $U --regid $GID_U --clear-groups"
		BIN=$TMP/netglobe-fcaps
		start fcaps -i lo --no-process --state-dir "$TMP/ustate"
		RUNAS=""
		BIN=$NG_BIN
		expect_caps "setcap cap_net_raw,cap_sys_admin+ep, --no-process" $MASK_RAW "CapPrm CapEff"
		grep -q "had cap_net_raw,cap_sys_admin" "$TMP/fcaps.err" || { cat "$TMP/fcaps.err"; fail "file caps: the log line does not say what was dropped"; }
		echo "ok log: $(grep 'running as' "$TMP/fcaps.err" | sed 's/^netglobe: //')"
		stop
	else
		echo "skip file capabilities: setcap does not work on $TMP"
	fi
	# Ambient capabilities, as systemd's AmbientCapabilities= hands them over: cut and not passed on.
	mkdir -p -m 700 "$TMP/ustate" && chown "$U:" "$TMP/ustate"
	RUNAS="setpriv --reuid $U --regid $GID_U --clear-groups --inh-caps +net_raw,+sys_ptrace,+dac_read_search"
	RUNAS="$RUNAS --ambient-caps +net_raw,+sys_ptrace,+dac_read_search"
	start ambient -i lo --no-process --state-dir "$TMP/ustate"
	RUNAS=""
	expect_caps "ambient caps (systemd), --no-process" $MASK_RAW "CapPrm CapEff"
	stop
else
	echo "skip non-root cases: needs setcap and setpriv"
fi

# 6. Errors: one clear line, non-zero exit, nothing started.
expect_error "--user nosuchuser" "unknown user 'nosuchuser'" -i lo --user nosuchuser --listen "127.0.0.1:$(free_port)" \
	--state-dir "$TMP/never"
[ ! -e "$TMP/never" ] || fail "--user nosuchuser: the state directory was created before the check"
mkdir -m 1777 "$TMP/shared"
expect_error "world-writable state directory" "writable by everyone" -r "$PCAP" -q --user "$U" \
	--listen "127.0.0.1:$(free_port)" --state-dir "$TMP/shared"
mkdir -m 700 "$TMP/closed"
expect_error "unreachable state directory" "cannot use the state directory" -r "$PCAP" -q --user "$U" \
	--listen "127.0.0.1:$(free_port)" --state-dir "$TMP/closed/state"
echo "PASS privileges"
