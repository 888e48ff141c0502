#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# errors.sh: bad input gives one clear error line naming the thing, a non-zero exit, and no crash;
# a truncated capture still yields the flows read before the damage.
. "$(dirname "$0")/../lib/common.sh"
need python3

# expect_error WHAT PATTERN CMD...: CMD exits non-zero, prints one line on stderr matching PATTERN.
expect_error() {
	what=$1
	pattern=$2
	shift 2
	"$@" > "$TMP/out" 2> "$TMP/err"
	rc=$?
	[ $rc -ne 0 ] || fail "$what: exit status 0"
	[ $rc -lt 128 ] || fail "$what: killed by signal $((rc - 128))"
	lines=$(grep -c . "$TMP/err")
	[ "$lines" -eq 1 ] || { cat "$TMP/err"; fail "$what: $lines lines on stderr, want 1"; }
	grep -q -- "$pattern" "$TMP/err" || { cat "$TMP/err"; fail "$what: message lacks '$pattern'"; }
	echo "ok $what: $(cat "$TMP/err")"
}

expect_error "missing file" "cannot read capture file $TMP/nope.pcap" "$NG_BIN" -r "$TMP/nope.pcap" --dump
head -c 3000 /dev/urandom > "$TMP/random.pcap"
expect_error "random bytes" "is it a pcap or pcapng" "$NG_BIN" -r "$TMP/random.pcap" --dump
: > "$TMP/empty.pcap"
expect_error "empty file" "empty.pcap" "$NG_BIN" -r "$TMP/empty.pcap" --dump
expect_error "bad BPF filter" "bad BPF filter 'tcp port banana'" "$NG_BIN" -r "$PCAPS/ndpi-iphone.pcap" -f "tcp port banana" --dump
expect_error "unknown option" "unknown option '--frobnicate'" "$NG_BIN" --frobnicate
expect_error "bad duration" "duration" "$NG_BIN" -r "$PCAPS/ndpi-iphone.pcap" --dump --udp-timeout 5parsecs
expect_error "bad local net" "bad --local-net '10.0.0.0/99'" "$NG_BIN" -r "$PCAPS/ndpi-iphone.pcap" --dump --local-net 10.0.0.0/99
expect_error "unknown interface" "no capture interface 'nosuchif0' (list them with: netglobe -D)" "$NG_BIN" -i nosuchif0 --dump
expect_error "service install on Linux" "service install: on Linux netglobe runs as the systemd unit netglobe.service" "$NG_BIN" service install -i lo
expect_error "service uninstall on Linux" "service uninstall: on Linux netglobe runs as the systemd unit" "$NG_BIN" service uninstall
expect_error "service without a verb" "service: say install \[OPTIONS\] or uninstall, not 'start'" "$NG_BIN" service start

# A capture cut in the middle of a packet: the flows before the cut are printed, then an error.
head -c 100000 "$PCAPS/slips-test7-malicious.pcap" > "$TMP/cut.pcap"
"$NG_BIN" -r "$TMP/cut.pcap" --dump > "$TMP/cut.jsonl" 2> "$TMP/cut.err"
rc=$?
[ $rc -eq 1 ] || fail "truncated capture: exit $rc, want 1"
grep -q "truncated or corrupt after packet" "$TMP/cut.err" || { cat "$TMP/cut.err"; fail "truncated capture: no clear message"; }
flows=$(grep -c '"id"' "$TMP/cut.jsonl")
[ "$flows" -gt 10 ] || fail "truncated capture: only $flows flows kept"
tail -n 1 "$TMP/cut.jsonl" | grep -q '"error":"capture' || fail "truncated capture: summary lacks the error"
echo "ok truncated capture: $flows flows kept, $(cat "$TMP/cut.err")"

# A pcap whose record header claims an absurd length: an error, never a crash.
python3 - "$PCAPS/ndpi-iphone.pcap" "$TMP/badlen.pcap" <<'PY'
import sys, struct
data = bytearray(open(sys.argv[1], 'rb').read())
# First record header starts at 24; set incl_len of the third record to 0x7fffffff.
off = 24
for _ in range(2):
    incl = struct.unpack_from('<I', data, off + 8)[0]
    off += 16 + incl
struct.pack_into('<I', data, off + 8, 0x7fffffff)
open(sys.argv[2], 'wb').write(data)
PY
"$NG_BIN" -r "$TMP/badlen.pcap" --dump > "$TMP/badlen.jsonl" 2> "$TMP/badlen.err"
rc=$?
[ $rc -eq 1 ] || fail "bogus record length: exit $rc, want 1"
grep -q "badlen.pcap" "$TMP/badlen.err" || fail "bogus record length: message does not name the file"
echo "ok bogus record length: $(cat "$TMP/badlen.err")"

# No permission to capture: an unprivileged user (as root, drop to nobody for the check).
if is_root; then
	if command -v setpriv >/dev/null 2>&1; then
		cp "$NG_BIN" "$TMP/netglobe-unpriv" && chmod 755 "$TMP" "$TMP/netglobe-unpriv"
		expect_error "no permission" "no permission to capture on 'lo'.*setcap cap_net_raw" \
			setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
			"$TMP/netglobe-unpriv" -i lo --dump
	else
		echo "note: setpriv missing, no unprivileged capture check"
	fi
else
	expect_error "no permission" "no permission to capture on 'lo'" "$NG_BIN" -i lo --dump
fi
