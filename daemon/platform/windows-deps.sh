#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# windows-deps.sh: cross-build netglobe's libraries for Windows from Debian's own source packages.
#
# Usage: windows-deps.sh DIR   (DIR is build/windows/deps; the result is DIR/prefix/{include,lib,bin})
#
# Sources come from `apt-get source` with a private deb-src list for bookworm (main, updates, security)
# and a private apt state under DIR/apt, so the machine's own apt lists are never touched. apt checks
# every .dsc and tarball against the signed Sources index (Debian's archive key), as for binary packages.
# Each library is pinned to the version below. A point release or a security update replaces that
# version in the index, and `apt-get source NAME=OLD` then fails: this script stops with one line that
# names the version now offered; change the pin here after checking its changelog, and run it again.
# A finished library leaves DIR/stamp/NAME-VERSION, so a second run does nothing (about a second).
#
# Licences: libmicrohttpd, libqrencode and Nettle are LGPL and are built as DLLs that ship beside
# netglobe.exe (users may replace them); libmaxminddb (Apache-2.0), cJSON (MIT), SQLite (public domain)
# and libpsl (MIT) link statically. libpcap contributes only its headers: netglobe.exe loads Npcap's
# wpcap.dll at run time (Npcap may not be redistributed).
set -eu

PINS="libmaxminddb=1.7.1-1 libmicrohttpd=0.9.75-6 cjson=1.7.15-1+deb12u4 sqlite3=3.40.1-2+deb12u2
qrencode=4.1.1-1 libpsl=0.21.2-1 nettle=3.8.1-2 libpcap=1.10.3-1"
HOST=x86_64-w64-mingw32
JOBS=${JOBS:-2}

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
P=$DIR/prefix
SRC=$DIR/src
mkdir -p "$P/include" "$P/lib" "$P/bin" "$SRC" "$DIR/stamp" "$DIR/apt/lists/partial" "$DIR/apt/cache/archives/partial"

command -v $HOST-gcc >/dev/null || { echo "windows-deps: $HOST-gcc is missing (apt-get install gcc-mingw-w64-x86-64)" >&2; exit 1; }

KEY=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$DIR/apt/sources.list" <<LIST
deb-src [signed-by=$KEY] http://deb.debian.org/debian bookworm main
deb-src [signed-by=$KEY] http://deb.debian.org/debian bookworm-updates main
deb-src [signed-by=$KEY] http://deb.debian.org/debian-security bookworm-security main
LIST
APT="-o Dir::Etc::SourceList=$DIR/apt/sources.list -o Dir::Etc::SourceParts=/dev/null
 -o Dir::State::Lists=$DIR/apt/lists -o Dir::Cache=$DIR/apt/cache -o APT::Sandbox::User=root"
updated=0

# fetch NAME VERSION: unpack Debian's source package (with Debian's patches) into $SRC/NAME-VERSION.
fetch() {
	name=$1 ver=$2
	dest=$SRC/$name-$ver
	[ -d "$dest" ] && return 0
	if [ $updated -eq 0 ]; then
		apt-get $APT -qq update
		updated=1
	fi
	tmp=$SRC/.fetch-$name
	rm -rf "$tmp"; mkdir -p "$tmp"
	if ! (cd "$tmp" && apt-get $APT -qq source "$name=$ver" >/dev/null 2>"$tmp.err"); then
		now=$(apt-cache $APT showsrc "$name" 2>/dev/null | sed -n 's/^Version: //p' | sort -u | tr '\n' ' ')
		case " $now " in
		*" $ver "*) ;;
		*)
			echo "windows-deps: Debian no longer offers $name $ver (offered now: ${now:-none}); update the pin in $0" >&2
			exit 1
			;;
		esac
		# The index lists it but a file did not download (seen here: a mirror without one
		# .debian.tar). With the signed .dsc and the upstream tarball it names, build upstream's
		# source, checked against the .dsc's SHA-256, without Debian's patches, and say so.
		dsc=$(ls "$tmp"/*.dsc 2>/dev/null | head -n 1)
		orig=$(ls "$tmp"/*.orig.tar.* 2>/dev/null | grep -v '\.asc$' | head -n 1)
		if [ -z "$dsc" ] || [ -z "$orig" ] ||
		   ! grep -q "$(sha256sum "$orig" | cut -d' ' -f1) [0-9]* $(basename "$orig")" "$dsc"; then
			echo "windows-deps: cannot fetch $name $ver's source (apt-get source failed; mirror down?)" >&2
			cat "$tmp.err" >&2
			exit 1
		fi
		echo "windows-deps: $name $ver: $(grep -o '[^ ]*debian.tar[^ ]*' "$tmp.err" | head -n 1) is missing on the mirror;" \
			"building the upstream tarball (SHA-256 checked against the .dsc) without Debian's patches" >&2
		(cd "$tmp" && tar xf "$orig")
	fi
	d=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n 1)
	mv "$d" "$dest"
	rm -rf "$tmp" "$tmp.err"
}

# Cross-configure an autotools tree for Windows.
xconf() {
	./configure --host=$HOST --prefix="$P" CFLAGS="-O2" "$@" >configure.log 2>&1 ||
		{ tail -n 30 configure.log >&2; exit 1; }
}

# libmaxminddb's Debian source has no generated configure (autotools are not needed for two files).
build_libmaxminddb() {
	sed -e 's/^#define MMDB_UINT128_USING_MODE.*/#define MMDB_UINT128_USING_MODE 0/' \
		-e 's/^#undef MMDB_UINT128_USING_MODE/#define MMDB_UINT128_USING_MODE 0/' \
		-e 's/^#undef MMDB_UINT128_IS_BYTE_ARRAY/#define MMDB_UINT128_IS_BYTE_ARRAY 0/' \
		include/maxminddb_config.h.in > "$P/include/maxminddb_config.h"
	cp include/maxminddb.h "$P/include/"
	for f in maxminddb data-pool; do
		$HOST-gcc -O2 -std=c99 -DPACKAGE_VERSION='"1.7.1"' -I"$P/include" -Isrc -c src/$f.c -o src/$f.o
	done
	$HOST-ar rcs "$P/lib/libmaxminddb.a" src/maxminddb.o src/data-pool.o
}

build_libmicrohttpd() {
	xconf --disable-https --disable-doc --disable-examples --disable-curl --disable-nls \
		--disable-static --enable-shared
	make -j$JOBS >build.log 2>&1 || { tail -n 30 build.log >&2; exit 1; }
	make install >>build.log 2>&1
}

build_cjson() {
	$HOST-gcc -O2 -std=c89 -c cJSON.c -o cJSON.o
	$HOST-ar rcs "$P/lib/libcjson.a" cJSON.o
	mkdir -p "$P/include/cjson"
	cp cJSON.h "$P/include/cjson/"
}

# SQLite: the amalgamation is made with host tools (tclsh), then compiled once for Windows.
build_sqlite3() {
	mkdir -p native && cd native
	../configure >configure.log 2>&1 || { tail -n 30 configure.log >&2; exit 1; }
	make sqlite3.c >build.log 2>&1 || { tail -n 30 build.log >&2; exit 1; }
	$HOST-gcc -O2 -DSQLITE_THREADSAFE=1 -DSQLITE_OMIT_LOAD_EXTENSION -c sqlite3.c -o sqlite3.o
	$HOST-ar rcs "$P/lib/libsqlite3.a" sqlite3.o
	cp sqlite3.h sqlite3ext.h "$P/include/"
}

build_qrencode() {
	xconf --disable-static --enable-shared --without-tools --disable-thread-safety
	make -j$JOBS LDFLAGS=-no-undefined >build.log 2>&1 || { tail -n 30 build.log >&2; exit 1; }
	make install >>build.log 2>&1
}

# libpsl without IDN libraries and without a built-in list: netglobe.exe loads the Public Suffix
# List from the file beside it (Debian's publicsuffix data), as the Linux build loads Debian's.
# Its Debian source has no generated configure: two files, compiled directly.
build_libpsl() {
	v=$(cat version.txt)
	IFS=. read -r maj min pat <<VER
$v
VER
	sed -e "s/@LIBPSL_VERSION@/$v/" -e "s/@LIBPSL_VERSION_MAJOR@/$maj/" -e "s/@LIBPSL_VERSION_MINOR@/$min/" \
		-e "s/@LIBPSL_VERSION_PATCH@/$pat/" -e "s/@LIBPSL_VERSION_NUMBER@/$(printf '0x%02x%02x%02x' "$maj" "$min" "$pat")/" \
		include/libpsl.h.in > "$P/include/libpsl.h"
	for f in psl lookup_string_in_fixed_set; do
		$HOST-gcc -O2 -DPSL_STATIC -DBUILDING_PSL -DHAVE_STRINGS_H -DPACKAGE_VERSION="\"$v\"" -I"$P/include" \
			-c src/$f.c -o src/$f.o
	done
	$HOST-ar rcs "$P/lib/libpsl.a" src/psl.o src/lookup_string_in_fixed_set.o
}

build_nettle() {
	xconf --disable-static --enable-shared --disable-public-key --disable-documentation \
		--disable-openssl --disable-assembler
	# dpkg-source's timestamps make stamp-h.in look stale, and autoheader is not needed (nor installed).
	touch config.h.in stamp-h.in
	make -j$JOBS >build.log 2>&1 || { tail -n 30 build.log >&2; exit 1; }
	make install >>build.log 2>&1 || { tail -n 30 build.log >&2; exit 1; }
}

# libpcap: headers only (the program is compiled against them and loads wpcap.dll at run time).
build_libpcap() {
	mkdir -p "$P/include/pcap"
	cp pcap.h "$P/include/"
	cp pcap/*.h "$P/include/pcap/"
}

# For the Wine tests only (never shipped): Debian's libpcap cross-built as wpcap.dll with no capture
# module (it reads files), because Wine's builtin wpcap.dll leaves pcap_open_offline unimplemented.
build_test_wpcap() {
	mkdir -p wbuild && cd wbuild
	cmake .. -DCMAKE_SYSTEM_NAME=Windows -DCMAKE_C_COMPILER=$HOST-gcc -DCMAKE_RC_COMPILER=$HOST-windres \
		-DPCAP_TYPE=null -DBUILD_SHARED_LIBS=ON -DDISABLE_REMOTE=ON -DDISABLE_DBUS=ON -DDISABLE_RDMA=ON \
		-DCMAKE_BUILD_TYPE=Release >cmake.log 2>&1 || { tail -n 30 cmake.log >&2; exit 1; }
	make -j$JOBS pcap >build.log 2>&1 || { tail -n 30 build.log >&2; exit 1; }
	mkdir -p "$DIR/test-wpcap"
	cp run/pcap.dll "$DIR/test-wpcap/wpcap.dll"
}

for pin in $PINS; do
	name=${pin%%=*} ver=${pin#*=}
	stamp=$DIR/stamp/$name-$ver
	[ -f "$stamp" ] && continue
	start=$(date +%s)
	fetch "$name" "$ver"
	(cd "$SRC/$name-$ver" && build_$name)
	touch "$stamp"
	echo "windows-deps: $name $ver built in $(( $(date +%s) - start )) s"
done

pcapver=$(echo "$PINS" | tr ' ' '\n' | sed -n 's/^libpcap=//p')
if [ ! -f "$DIR/stamp/test-wpcap-$pcapver" ]; then
	start=$(date +%s)
	(cd "$SRC/libpcap-$pcapver" && build_test_wpcap)
	touch "$DIR/stamp/test-wpcap-$pcapver"
	echo "windows-deps: test wpcap.dll (libpcap $pcapver, no capture module) built in $(( $(date +%s) - start )) s"
fi
