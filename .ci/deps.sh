#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# deps.sh: install what netglobe needs to build, run and test, and nothing twice.
# Debian packages (apt), the page's pinned npm packages (web/package-lock.json),
# and the default GeoIP data (geoip/fetch-data.sh). Quick when everything is there.
set -eu
cd "$(dirname "$0")/.."

# Build: compiler and libraries (libbpf, clang, bpftool and llvm-strip build the BPF program). Run: none beyond the libraries. Test/bench: the rest.
PKGS="gcc make pkg-config libpcap-dev libmaxminddb-dev libmicrohttpd-dev libcjson-dev libsqlite3-dev
libcap-dev libqrencode-dev libpsl-dev publicsuffix libcmocka-dev clang libclang-rt-14-dev python3 curl ca-certificates
libbpf-dev libelf-dev zlib1g-dev bpftool llvm nettle-dev
tshark mmdb-bin tcpdump sqlite3 iproute2 chromium wrk nfdump softflowd argus-client argus-server
libndpi-bin libmaxmind-db-writer-perl python3-dpkt systemd libcap2-bin time groff-base strace bsdextrautils"
# `deps.sh windows` (make windows, windows-test): the cross-compiler, Wine to test with, and what
# daemon/platform/windows-deps.sh needs to unpack Debian's sources (dpkg-dev) and make SQLite's amalgamation (tcl).
if [ "${1:-}" = windows ]; then
	PKGS="gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev wine64 dpkg-dev tcl cmake flex bison publicsuffix"
fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# Node.js and npm for the page's front-end packages; a machine that has its own node keeps it.
if ! command -v npm >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi

if [ -n "$missing" ]; then
	echo "deps: installing Debian packages:$missing"
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1; then
			SUDO=sudo
		else
			echo "deps: need root to install:$missing (run: su -c 'apt-get install$missing')" >&2
			exit 1
		fi
	else
		SUDO=
	fi
	# tshark asks whether non-root users may capture; the default (no) is right here.
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

[ "${1:-}" = windows ] && exit 0

# The page's npm packages, exactly as web/package-lock.json pins them (versions and integrity).
if [ -f web/package-lock.json ]; then
	if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
		echo "deps: installing the page's npm packages from web/package-lock.json"
		(cd web && npm ci --no-audit --no-fund --loglevel=error)
	fi
fi

# Default GeoIP data (DB-IP City Lite and the ASN table), fetched once at a pinned version.
if [ -x geoip/fetch-data.sh ]; then
	geoip/fetch-data.sh
fi
