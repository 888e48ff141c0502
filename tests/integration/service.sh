#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# service.sh: `make install` into a scratch root, then the installed unit, man page and config example.
#
# - make install DESTDIR=$TMP/root PREFIX=/usr puts the binary, netglobe.8, netglobe.service (with @PREFIX@
#   replaced) and netglobe.conf.example where they belong;
# - systemd-analyze verify passes on the installed unit (its ExecStart pointed at the installed binary, since
#   /usr/bin/netglobe is not on this machine; the man page found through MANPATH in the scratch root), and the
#   unit carries every hardening setting docs/operations.md explains;
# - the man page renders without warnings (groff -ww) and documents every option of --help;
# - with strace: every system call the daemon makes (live capture on lo as an unprivileged user holding the
#   unit's ambient capabilities, HTTP requests, SIGHUP, an --on-alert run, SIGTERM) is allowed by the unit's
#   SystemCallFilter lines (expanded with systemd-analyze syscall-filter, applied in order as systemd does), and
#   every socket family it opens is in RestrictAddressFamilies.
# Skips (exit 77) without systemd-analyze; the strace part needs root and strace.
. "$(dirname "$0")/../lib/common.sh"
need python3 curl
command -v systemd-analyze >/dev/null 2>&1 || skip "needs systemd-analyze to verify the unit (apt-get install systemd)"
REPO=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=$TMP/root

# 1. make install (the build is already there: this only copies).
make -C "$REPO" -s BUILD="$(cd "$NG_BUILD" && pwd)" install DESTDIR="$ROOT" PREFIX=/usr > "$TMP/install.log" 2>&1 ||
	{ cat "$TMP/install.log"; fail "make install failed"; }
UNIT=$ROOT/etc/systemd/system/netglobe.service
for f in usr/bin/netglobe usr/share/man/man8/netglobe.8 etc/systemd/system/netglobe.service \
	usr/share/doc/netglobe/netglobe.conf.example; do
	[ -f "$ROOT/$f" ] || fail "make install did not install /$f"
done
[ -x "$ROOT/usr/bin/netglobe" ] || fail "/usr/bin/netglobe is not executable"
grep -q '@PREFIX@' "$UNIT" && fail "the installed unit still says @PREFIX@"
grep -q '^ExecStart=/usr/bin/netglobe' "$UNIT" || fail "ExecStart does not start /usr/bin/netglobe"
echo "ok make install: binary, man page, unit and config example under $ROOT"

# 2. The hardening settings, each present.
for want in 'DynamicUser=yes' 'StateDirectory=netglobe' \
	'AmbientCapabilities=CAP_NET_RAW CAP_BPF CAP_PERFMON CAP_SYS_PTRACE CAP_DAC_READ_SEARCH' \
	'CapabilityBoundingSet=CAP_NET_RAW CAP_BPF CAP_PERFMON CAP_SYS_PTRACE CAP_DAC_READ_SEARCH' 'NoNewPrivileges=yes' \
	'SystemCallFilter=bpf perf_event_open' \
	'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET' 'SystemCallFilter=@system-service' \
	'SystemCallArchitectures=native' 'ProtectKernelTunables=yes' 'ProtectKernelModules=yes' 'ProtectKernelLogs=yes' \
	'ProtectControlGroups=yes' 'RestrictNamespaces=yes' 'LockPersonality=yes' 'MemoryDenyWriteExecute=yes' \
	'RestrictRealtime=yes' 'Restart=on-failure' 'ExecReload=/bin/kill -HUP $MAINPID'; do
	grep -qxF "$want" "$UNIT" || fail "the unit lacks '$want'"
done
echo "ok unit: every required setting is there"

# 3. systemd-analyze verify.
mkdir -p "$TMP/verify"
sed "s#^ExecStart=/usr/bin/netglobe#ExecStart=$ROOT/usr/bin/netglobe#" "$UNIT" > "$TMP/verify/netglobe.service"
MANPATH=$ROOT/usr/share/man systemd-analyze verify "$TMP/verify/netglobe.service" > "$TMP/verify.log" 2>&1
rc=$?
[ $rc -eq 0 ] && ! grep -q . "$TMP/verify.log" || { cat "$TMP/verify.log"; fail "systemd-analyze verify: exit $rc"; }
echo "ok systemd-analyze verify: clean"
if systemd-analyze security --offline=true "$TMP/verify/netglobe.service" > "$TMP/security.log" 2>&1; then
	echo "ok $(grep 'Overall exposure' "$TMP/security.log" | sed 's/→ //')"
fi

# 4. The man page: renders cleanly and names every option.
if command -v groff >/dev/null 2>&1; then
	groff -mandoc -ww -z "$ROOT/usr/share/man/man8/netglobe.8" > "$TMP/groff.log" 2>&1
	! grep -q . "$TMP/groff.log" || { cat "$TMP/groff.log"; fail "groff warns about netglobe.8"; }
	echo "ok netglobe.8 renders without warnings"
fi
"$NG_BIN" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u > "$TMP/options"
# The rendered page (wide lines, so no option is hyphenated) is what a reader sees.
MANTXT=$TMP/netglobe.8.txt
if command -v groff >/dev/null 2>&1; then
	groff -mandoc -Tascii -P-c -rLL=400n "$ROOT/usr/share/man/man8/netglobe.8" 2>/dev/null | col -b > "$MANTXT"
else
	sed 's/\\-/-/g' "$ROOT/usr/share/man/man8/netglobe.8" > "$MANTXT"
fi
missing=""
for o in $(cat "$TMP/options"); do
	grep -q -- "$o\([^a-z0-9-]\|\$\)" "$MANTXT" || missing="$missing $o"
done
[ -z "$missing" ] || fail "netglobe.8 does not document:$missing"
echo "ok netglobe.8 documents all $(wc -l < "$TMP/options") options of --help"

# 5. System calls and socket families against the filter (root: the daemon runs as a throwaway user).
if ! is_root || ! command -v strace >/dev/null 2>&1 || ! command -v setpriv >/dev/null 2>&1 ||
	! command -v useradd >/dev/null 2>&1; then
	echo "skip the system call check: needs root, strace, setpriv and useradd"
	echo "PASS service"
	exit 0
fi
U=ngsvc$$
useradd -r -M -s /usr/sbin/nologin "$U" || fail "cannot create a system user"
trap 'ng_cleanup; userdel "$U" 2>/dev/null' EXIT INT TERM
chmod 755 "$TMP"
mkdir -m 700 "$TMP/state" && chown "$U:" "$TMP/state"
printf '#!/bin/sh\ncat > /dev/null\n' > "$TMP/on-alert.sh"
chmod 755 "$TMP/on-alert.sh"
printf '# allow\n' > "$TMP/allow.txt"
chmod 644 "$TMP/allow.txt"
port=$(free_port)
ng_start daemon strace -f -qq -o "$TMP/trace" setpriv --reuid "$U" --regid "$(id -g "$U")" --clear-groups \
	--inh-caps +net_raw,+bpf,+perfmon,+sys_ptrace,+dac_read_search \
	--ambient-caps +net_raw,+bpf,+perfmon,+sys_ptrace,+dac_read_search \
	"$ROOT/usr/bin/netglobe" -i lo --listen "127.0.0.1:$port" --state-dir "$TMP/state" --allow "$TMP/allow.txt" \
	--on-alert "$TMP/on-alert.sh" --public-net 127.0.0.0/8 --public-net ::1/128
spid=$pid
for p in / /flows /api/stats /events; do
	curl -s -m 2 -o /dev/null "http://127.0.0.1:$port$p"
done
dpid=$(pgrep -P "$spid" -x netglobe || echo "$spid")
kill -HUP "$dpid"
sleep 1
kill -TERM "$dpid"
wait "$spid"
python3 - "$TMP/trace" "$UNIT" <<'PY' || fail "the daemon uses system calls or socket families the unit forbids"
import re, subprocess, sys

trace, unit = sys.argv[1], sys.argv[2]
cache = {}


def expand(name):
    """A syscall or @group as the set of syscall names (systemd-analyze is the authority on groups)."""
    if not name.startswith('@'):
        return {name}
    if name not in cache:
        out = subprocess.run(['systemd-analyze', 'syscall-filter', name], capture_output=True, text=True).stdout
        names = set()
        for line in out.splitlines()[1:]:
            line = line.strip()
            if line and not line.startswith('#'):
                names |= expand(line)
        cache[name] = names
    return cache[name]


allowed, families = None, set()
for line in open(unit):
    line = line.strip()
    if line.startswith('SystemCallFilter='):
        v = line.split('=', 1)[1]
        neg = v.startswith('~')
        names = set().union(*[expand(n) for n in v.lstrip('~').split()])
        if allowed is None:            # the first line decides the mode; this unit starts with an allow list
            assert not neg, 'the unit should start with an allow list'
            allowed = set()
        allowed = allowed - names if neg else allowed | names
    elif line.startswith('RestrictAddressFamilies='):
        families = set(line.split('=', 1)[1].split())
used, socks, execd = {}, set(), False
for line in open(trace):
    m = re.match(r'^(\d+)\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]', line)
    if not m or 'resumed>' in line and '(' not in line.split('resumed>')[0]:
        continue
    name = m.group(2)
    if name == 'execve' and 'netglobe' in line:
        execd = True                   # what setpriv does before the exec is not the daemon's
        used = {}
        continue
    if execd:
        used.setdefault(name, line.strip()[:160])
        s = re.match(r'^\d+\s+socket\((AF_[A-Z0-9]+)', line)
        if s:
            socks.add(s.group(1))
bad = sorted(n for n in used if n not in allowed)
print('system calls used by the daemon: %d, all in the filter: %s' % (len(used), not bad))
for n in bad:
    print('  FORBIDDEN %s: %s' % (n, used[n]))
badf = sorted(socks - families)
print('socket families: %s' % ' '.join(sorted(socks)))
for f in badf:
    print('  FORBIDDEN family %s' % f)
print("calls: " + " ".join(sorted(used)))
sys.exit(1 if bad or badf or not used else 0)
PY
echo "ok system calls and socket families: all allowed by the unit"
echo "PASS service"
