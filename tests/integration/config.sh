#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# config.sh: the configuration file round-trips every option, the command line overrides it, a bad line is
# "FILE:LINE: reason", -n checks, SIGHUP re-checks the file; -v/-q and the journald prefix of log lines.
#
# The option list comes from --help (so a new option is covered as soon as it exists). For each option that
# may be in a file: a non-default value is written to a file, --print-config must print it back, and that
# output, read again as a file, must print identically; the same with all options in one file. Options that
# are command line only must be refused in a file. docs/netglobe.conf.example must name every file option,
# and uncommented it must parse.
. "$(dirname "$0")/../lib/common.sh"
need python3
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PCAP=$PCAPS/slips-test7-malicious.pcap
CLI_ONLY="dump list-interfaces realtime speed config check verbose quiet print-config help version"

"$NG_BIN" --help > "$TMP/help" || fail "--help failed"
grep -q -- '--print-config' "$TMP/help" || fail "--help does not list --print-config"

# 1. Round trips, driven by --help.
python3 - "$NG_BIN" "$TMP" "$CLI_ONLY" "$REPO/docs/netglobe.conf.example" "$TMP/help" <<'PY' || fail "round trip"
import re, subprocess, sys

ng, tmp, cli_only, example, helpfile = sys.argv[1], sys.argv[2], set(sys.argv[3].split()), sys.argv[4], sys.argv[5]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        print('FAIL ' + what)
        failures += 1
    return cond


def run(*args):
    p = subprocess.run([ng] + list(args), capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


opts = []
for line in open(helpfile):
    m = re.match(r'\s+(?:-\w, )?--([a-z][a-z0-9-]*)(?: (\S+))?\s+(.*)$', line)
    if m:
        opts.append((m.group(1), m.group(2), m.group(3)))
check(len(opts) >= 40, '--help lists %d options, expected 40 or more' % len(opts))

# A non-default value (or two, for repeatable options) by the placeholder's kind.
strings = {'IFACE': ['ngtest0'], 'FILE': ['/nonexistent/a.file', '/nonexistent/b.file'],
           'DIR': ['/nonexistent/dir'], 'EXPR': ['tcp port 80 and not host 10.0.0.1'],
           'CIDR': ['10.1.0.0/16', '2001:db8:77::/48'], 'LAT,LON': ['48.8566,2.3522'], 'ADDR': ['203.0.113.9'],
           'ADDR:PORT': ['127.0.0.1:18080', '[::1]:18080'], 'HOST:PORT': ['192.0.2.50:4739'],
           'USER': ['nobody'], 'CMD': ['/bin/cat -u --'], 'WHAT': ['anomalous'], 'FORMAT': ['ecs'],
           '[TARGET]': ['udp:192.0.2.50:514']}


def values(name, arg, help_):
    if arg is None:
        return ['no' if 'default yes' in help_ else 'yes']
    if arg in ('N', 'BYTES', 'MB'):
        return ['77']
    if arg == 'DUR':
        return ['77s']
    v = strings.get(arg)
    if v is None:
        check(False, '--%s: no test value for placeholder %s (extend tests/integration/config.sh)' % (name, arg))
        return []
    return v if 'repeatable' in help_ else v[:1]


file_opts = [(n, a, h) for n, a, h in opts if n not in cli_only]
for n in cli_only:
    check(any(o[0] == n for o in opts), 'command-line-only option --%s is not in --help' % n)
everything = []
for n, a, h in file_opts:
    lines = ['%s %s' % (n, v) for v in values(n, a, h)]
    everything += lines
    path = '%s/one-%s.conf' % (tmp, n)
    with open(path, 'w') as f:
        f.write('# round trip of %s\n%s\n' % (n, '\n'.join(lines)))
    rc, out, err = run('-c', path, '--print-config')
    got = [l for l in out.splitlines() if not l.startswith('#')]
    if check(rc == 0, '--%s: --print-config exit %d: %s' % (n, rc, err.strip())):
        check(got == lines, '--%s: wrote %r, --print-config printed %r' % (n, lines, got))
        path2 = path + '.again'
        with open(path2, 'w') as f:
            f.write(out)
        rc2, out2, err2 = run('-c', path2, '--print-config')
        check(rc2 == 0 and out2 == out, '--%s: printed file read again prints %r, not %r (%s)' %
              (n, out2, out, err2.strip()))
print('ok %d file options round-trip one by one' % len(file_opts))

path = tmp + '/all.conf'
with open(path, 'w') as f:
    f.write('\n'.join(everything) + '\n')
rc, out, err = run('-c', path, '--print-config')
got = [l for l in out.splitlines() if not l.startswith('#')]
check(rc == 0 and got == everything, 'all options in one file: printed %r' % got)
with open(path + '.again', 'w') as f:
    f.write(out)
rc, out2, err = run('-c', path + '.again', '--print-config')
check(rc == 0 and out2 == out, 'all options: the printed file does not print identically')
print('ok all %d settings in one file round-trip' % len(everything))

for n in sorted(cli_only):
    p = '%s/cli-%s.conf' % (tmp, n)
    with open(p, 'w') as f:
        f.write('# a command-line-only option\n%s yes\n' % n)
    rc, out, err = run('-c', p, '--print-config')
    check(rc != 0 and err.strip() == "netglobe: %s:2: unknown option '%s' (see netglobe --help)" % (p, n),
          'command-line-only %s in a file: exit %d, %r' % (n, rc, err))
print('ok %d command-line-only options are refused in a file' % len(cli_only))

# The example names every file option and, uncommented, parses.
text = open(example).read()
named = set(re.findall(r'^#([a-z][a-z0-9-]*) ', text, re.M))
missing = sorted(n for n, a, h in file_opts if n not in named)
check(not missing, 'netglobe.conf.example lacks %s' % ', '.join(missing))
unknown = sorted(named - set(n for n, a, h in file_opts))
check(not unknown, 'netglobe.conf.example names unknown options %s' % ', '.join(unknown))
with open(tmp + '/example.conf', 'w') as f:
    f.write(re.sub(r'^#([a-z][a-z0-9-]* )', r'\1', text, flags=re.M))
rc, out, err = run('-n', '-c', tmp + '/example.conf')
check(rc == 0, 'netglobe.conf.example uncommented does not parse: %s' % err.strip())
print('ok netglobe.conf.example: all %d file options, and it parses uncommented' % len(file_opts))
sys.exit(1 if failures else 0)
PY

# 2. The command line overrides the file; repeatable options given there replace the file's values.
printf 'max-flows 77\nallow /a\nallow /b\nevidence no\nno-dns yes\nwindow 12h\n' > "$TMP/o.conf"
"$NG_BIN" -c "$TMP/o.conf" --max-flows 88 --allow /c --evidence --no-dns=no --print-config > "$TMP/o.out" ||
	fail "--print-config with overrides failed"
printf '# netglobe configuration (names are the long options; see netglobe --help)\nmax-flows 88\nwindow 12h\nallow /c\n' \
	> "$TMP/o.want"
diff "$TMP/o.want" "$TMP/o.out" > "$TMP/o.diff" || { cat "$TMP/o.diff"; fail "command line does not override the file"; }
echo "ok command line overrides the file (values, lists replaced, flags turned back)"
"$NG_BIN" --filter "$(printf 'tcp\nudp')" --print-config > "$TMP/nl.out" 2> "$TMP/nl.err" && fail "a line break in a value was accepted"
grep -q "a value cannot contain a line break" "$TMP/nl.err" || { cat "$TMP/nl.err"; fail "line break: no clear error"; }
echo "ok a value with a line break is refused (it could not be written back)"

# 3. Bad files: exit 2, one line "FILE:LINE: reason"; -n says the same.
bad() {
	printf "$2" > "$TMP/bad.conf"
	"$NG_BIN" -c "$TMP/bad.conf" -n > /dev/null 2> "$TMP/bad.err"
	rc=$?
	[ $rc -eq 2 ] || fail "$1: exit $rc, want 2"
	[ "$(grep -c . "$TMP/bad.err")" -eq 1 ] || { cat "$TMP/bad.err"; fail "$1: want one line"; }
	grep -qF "netglobe: $TMP/bad.conf:$3" "$TMP/bad.err" || { cat "$TMP/bad.err"; fail "$1: want '$TMP/bad.conf:$3'"; }
	echo "ok $1: $(cat "$TMP/bad.err")"
}
bad "unknown option" '# c\n\nmax-flows 100\nbogus 1\n' "4: unknown option 'bogus'"
bad "bad number" 'max-flows lots\n' "1: --max-flows takes a whole number"
bad "number out of range" 'snaplen 10\n' "1: --snaplen takes a whole number from 64"
bad "bad duration" '\n\nwindow soon\n' "3: --window takes a duration"
bad "bad flag" 'promisc maybe\n' "1: --promisc takes yes or no, not 'maybe'"
bad "missing value" 'listen\n' "1: option 'listen' needs a value"
bad "command-line-only" 'dump yes\n' "1: unknown option 'dump'"
"$NG_BIN" -c "$TMP/o.conf" -n 2> "$TMP/n.err" || fail "-n on a good file: exit $?"
grep -q "configuration OK" "$TMP/n.err" || fail "-n does not say configuration OK"
"$NG_BIN" -c "$TMP/nonexistent.conf" -n 2> "$TMP/n.err" && fail "-n on a missing file: exit 0"
grep -q "cannot read config file $TMP/nonexistent.conf: No such file" "$TMP/n.err" || { cat "$TMP/n.err"; fail "missing file message"; }
echo "ok -n: configuration OK, or the error"
bad "NUL byte in a value" 'max-flows 100\nlisten 127.0.0.1:80\0000\n' "2: the line holds a NUL byte"
# -n checks what the daemon would check: every listen address, and that the configuration is a regular file.
for l in 0.0.0.0:99999 999.0.0.1:80 :8080 '[::1]8080' localhost:-1 ::1:8080; do
	"$NG_BIN" -n --listen "$l" 2> "$TMP/n.err" && fail "-n accepted --listen $l"
	grep -qF -- "--listen '$l'" "$TMP/n.err" || { cat "$TMP/n.err"; fail "-n --listen $l: no line naming it"; }
	printf 'listen %s\n' "$l" > "$TMP/listen.conf"
	"$NG_BIN" -n -c "$TMP/listen.conf" 2> /dev/null && fail "-n accepted 'listen $l' in a file"
done
"$NG_BIN" -n --listen 127.0.0.1:8080 --listen '[::1]:0' 2> /dev/null || fail "-n refused good listen addresses"
"$NG_BIN" -n -c "$TMP" 2> "$TMP/n.err" && fail "-n accepted a directory as the configuration"
grep -q "cannot read config file $TMP: it is a directory" "$TMP/n.err" || { cat "$TMP/n.err"; fail "-c DIR message"; }
mkfifo "$TMP/fifo.conf"
timeout 10 "$NG_BIN" -n -c "$TMP/fifo.conf" 2> "$TMP/n.err"
[ $? -eq 2 ] || fail "-c FIFO: hung or accepted"
grep -q "it is a FIFO" "$TMP/n.err" || { cat "$TMP/n.err"; fail "-c FIFO message"; }
many=
for i in $(seq 1 33); do many="$many --listen 127.0.0.$i:8080"; done
"$NG_BIN" -n $many 2> "$TMP/n.err" && fail "-n accepted 33 listen addresses"
grep -q "33 --listen addresses: at most 32" "$TMP/n.err" || { cat "$TMP/n.err"; fail "33 listeners: message"; }
echo "ok -n checks listen addresses (at most 32) and that the configuration is a regular file; a NUL has its own message"

# 4. -q, default, -v; journald priority prefix when JOURNAL_STREAM names stderr.
DUMP="-r $PCAP --dump --geoip-city $MMDB/tiny-flat-ipv4.mmdb"
"$NG_BIN" $DUMP > /dev/null 2> "$TMP/l0" || fail "--dump failed"
"$NG_BIN" $DUMP -q > /dev/null 2> "$TMP/lq" || fail "--dump -q failed"
"$NG_BIN" $DUMP -v > /dev/null 2> "$TMP/lv" || fail "--dump -v failed"
grep -q "local host inferred" "$TMP/l0" || fail "default level: no info line"
grep -q "GeoIP:" "$TMP/l0" && fail "default level: debug line shown"
grep -q "local host inferred" "$TMP/lq" && fail "-q: info line shown"
grep -q "GeoIP:" "$TMP/lv" || fail "-v: no debug line"
echo "ok levels: default $(grep -c . < "$TMP/l0") lines, -q $(grep -c . < "$TMP/lq"), -v $(grep -c . < "$TMP/lv")"
: > "$TMP/journal"
JOURNAL_STREAM=$(stat -c '%d:%i' "$TMP/journal") "$NG_BIN" $DUMP -v > /dev/null 2>> "$TMP/journal" || fail "journal run failed"
grep -v '^<[0-7]>' "$TMP/journal" | grep -q . && { cat "$TMP/journal"; fail "journald: a line without a <N> prefix"; }
grep -q '^<6>local host inferred' "$TMP/journal" || fail "journald: info line is not <6>"
grep -q '^<7>GeoIP:' "$TMP/journal" || fail "journald: debug line is not <7>"
JOURNAL_STREAM=1:1 "$NG_BIN" $DUMP > /dev/null 2> "$TMP/notjournal"
grep -q '^netglobe: ' "$TMP/notjournal" || fail "JOURNAL_STREAM naming another file changed the format"
echo "ok journald: <6>/<7> prefixes when JOURNAL_STREAM names stderr, plain lines otherwise"

# 5. SIGHUP re-checks the config file: names changed options, reports a broken line, keeps running.
PORT=$(free_port)
printf 'max-flows 5000\nno-geoip yes\n' > "$TMP/hup.conf"
"$NG_BIN" -c "$TMP/hup.conf" -r "$PCAP" --listen "127.0.0.1:$PORT" --state-dir "$TMP/hupstate" 2> "$TMP/hup.err" &
pid=$!
NG_PIDS="$NG_PIDS $pid"
i=0
until grep -q "replay of" "$TMP/hup.err"; do
	kill -0 "$pid" 2>/dev/null || { cat "$TMP/hup.err"; fail "daemon exited"; }
	i=$((i + 1))
	[ $i -lt 150 ] || fail "no replay"
	sleep 0.1
done
printf 'max-flows 6000\nno-geoip yes\nallow /nonexistent\n' > "$TMP/hup.conf"
kill -HUP $pid
i=0
until grep -q "SIGHUP: .* changed" "$TMP/hup.err" || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
grep -q "SIGHUP: $TMP/hup.conf changed max-flows, allow since start-up: restart netglobe" "$TMP/hup.err" ||
	{ cat "$TMP/hup.err"; fail "SIGHUP does not name the changed options"; }
printf 'max-flows 6000\nwat\n' > "$TMP/hup.conf"
kill -HUP $pid
i=0
until grep -q "SIGHUP: $TMP/hup.conf:2" "$TMP/hup.err" || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
grep -q "SIGHUP: $TMP/hup.conf:2: unknown option 'wat' (see netglobe --help); still running" "$TMP/hup.err" ||
	{ cat "$TMP/hup.err"; fail "SIGHUP does not report the broken line"; }
kill -0 $pid || fail "the daemon died of a broken config file on SIGHUP"
kill -TERM $pid
wait $pid || fail "exit status $? after SIGTERM"
echo "ok SIGHUP: changed options named, a broken file reported with its line, the daemon keeps running"
echo "PASS config"
