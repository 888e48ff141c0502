#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# state_trust.sh: the state directory and its files are trusted only as OpenSSH trusts its own (root).
# Refused with one line naming the thing and the fix, never hanging: a state directory owned by another
# user (uid 65534) holding a trusted.txt of 0.0.0.0/0 and ::/0; a symbolic link at alerts.jsonl to a
# root-owned file (the file stays untouched); a trusted.txt owned by another user or writable by
# others; a FIFO at http-token, trusted.txt or alerts.jsonl (start-up) and at the --blocklist file
# (the automatic reload: the daemon says so, goes on serving, and stops on SIGTERM); `history` and
# `reset-baseline` on a world-writable or foreign state directory.
. "$(dirname "$0")/../lib/common.sh"
need python3 curl timeout
is_root || skip "needs root (files owned by another user)"
PCAP=$PCAPS/slips-test7-malicious.pcap

# refused WHAT WANT ARGS...: the daemon exits non-zero within 10 s with one error line containing WANT.
refused() {
	what=$1
	want=$2
	shift 2
	timeout 10 "$NG_BIN" -r "$PCAP" --listen "127.0.0.1:$(free_port)" "$@" > "$TMP/r.out" 2> "$TMP/r.err"
	rc=$?
	[ $rc -ne 124 ] || fail "$what: the daemon hung (killed after 10 s)"
	[ $rc -ne 0 ] || { cat "$TMP/r.err"; fail "$what: the daemon started"; }
	grep -q -- "$want" "$TMP/r.err" || { cat "$TMP/r.err"; fail "$what: no line saying '$want'"; }
	echo "ok $what: $(grep -- "$want" "$TMP/r.err" | head -n 1)"
}

# A state directory that belongs to someone else, with a planted allow-everything rule.
mkdir -m 755 "$TMP/foreign"
printf '0.0.0.0/0\n::/0\n' > "$TMP/foreign/trusted.txt"
chown -R 65534 "$TMP/foreign"
refused "a state directory owned by uid 65534" "$TMP/foreign belongs to uid 65534" --state-dir "$TMP/foreign"

# A symbolic link planted at alerts.jsonl.
mkdir -m 700 "$TMP/link"
echo "root's file" > "$TMP/victim"
ln -s "$TMP/victim" "$TMP/link/alerts.jsonl"
refused "alerts.jsonl is a symbolic link" "alerts.jsonl: it is a symbolic link" --state-dir "$TMP/link"
[ "$(cat "$TMP/victim")" = "root's file" ] || fail "the link's target was written to"

# trusted.txt planted by another user, or writable by others.
mkdir -m 700 "$TMP/planted"
printf '0.0.0.0/0\n' > "$TMP/planted/trusted.txt"
chown 65534 "$TMP/planted/trusted.txt"
refused "trusted.txt owned by uid 65534" "trusted.txt: it belongs to uid 65534" --state-dir "$TMP/planted"
chown 0 "$TMP/planted/trusted.txt"
chmod 666 "$TMP/planted/trusted.txt"
refused "trusted.txt writable by others" "trusted.txt: it is writable by its group or others" --state-dir "$TMP/planted"

# FIFOs where files belong: refused at once, not waited on.
for f in http-token trusted.txt alerts.jsonl; do
	mkdir -m 700 "$TMP/fifo-$f"
	mkfifo "$TMP/fifo-$f/$f"
	refused "a FIFO at $f" "$f: it is a FIFO, not a regular file" --state-dir "$TMP/fifo-$f" --listen "0.0.0.0:$(free_port)"
done

# A FIFO in place of the blocklist, found by the automatic reload.
mkdir -m 700 "$TMP/run"
echo 198.51.100.0/24 > "$TMP/block.txt"
port=$(free_port)
"$NG_BIN" -r "$PCAP" --listen "127.0.0.1:$port" --state-dir "$TMP/run" --blocklist "$TMP/block.txt" \
	> "$TMP/run.out" 2> "$TMP/run.err" &
pid=$!
NG_PIDS="$NG_PIDS $pid"
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/api/stats"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$TMP/run.err"; fail "the daemon did not start"; }
	sleep 0.1
done
rm "$TMP/block.txt"
mkfifo "$TMP/block.txt"
i=0
until grep -q "block.txt: it is a FIFO" "$TMP/run.err"; do
	i=$((i + 1))
	[ $i -lt 150 ] || { cat "$TMP/run.err"; fail "the reload never reported the FIFO"; }
	sleep 0.1
done
echo "ok the reload says: $(grep 'block.txt: it is a FIFO' "$TMP/run.err" | head -n 1)"
st=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/stats")
[ "$st" = 200 ] || fail "the daemon stopped serving after the FIFO (/api/stats -> $st)"
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2> /dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "SIGTERM did not stop the daemon within 5 s"
	sleep 0.1
done
echo "ok still serving, and SIGTERM stops it"

# history and reset-baseline judge the state directory as the daemon does.
mkdir -m 700 "$TMP/db"
timeout 60 "$NG_BIN" -r "$PCAP" --state-dir "$TMP/db" --dump > /dev/null 2>&1
[ -f "$TMP/db/netglobe.db" ] || fail "no database was written"
chmod 777 "$TMP/db"
for cmd in history reset-baseline; do
	timeout 10 "$NG_BIN" $cmd --state-dir "$TMP/db" > /dev/null 2> "$TMP/cmd.err" && fail "$cmd accepted a world-writable state directory"
	grep -q "writable by everyone" "$TMP/cmd.err" || { cat "$TMP/cmd.err"; fail "$cmd: no line about the mode"; }
done
chmod 700 "$TMP/db"
chown 65534 "$TMP/db"
timeout 10 "$NG_BIN" history --state-dir "$TMP/db" > /dev/null 2> "$TMP/cmd.err" && fail "history accepted a state directory of uid 65534"
grep -q "belongs to uid 65534" "$TMP/cmd.err" || { cat "$TMP/cmd.err"; fail "history: no line about the owner"; }
chown 0 "$TMP/db"
timeout 10 "$NG_BIN" history --state-dir "$TMP/db" > /dev/null || fail "history refused a good state directory"
echo "ok history and reset-baseline refuse a world-writable or foreign state directory"
echo "PASS state_trust"
