#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# platform_includes.sh: outside daemon/platform, C files include only the C library's headers (ISO C11),
# the libraries' own headers and netglobe's; every operating-system header is the platform layer's.
# (geoip/tools holds Linux-only build tools, not part of the program.)
. "$(dirname "$0")/../lib/common.sh"
cd "$(dirname "$0")/../.." || fail "no checkout"
ISO_C="assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h math.h setjmp.h
signal.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdio.h stdlib.h stdnoreturn.h string.h
tgmath.h threads.h time.h uchar.h wchar.h wctype.h"
LIBS="pcap/pcap.h pcap/dlt.h maxminddb.h microhttpd.h cjson/cJSON.h sqlite3.h qrencode.h libpsl.h nettle/sha1.h nettle/base64.h
nettle/sha2.h nettle/sha.h"
bad=""
n=0
for f in $(find daemon geoip whitelist -name '*.[ch]' ! -path 'daemon/platform/*' ! -path 'geoip/tools/*' | sort); do
	n=$((n + 1))
	for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' "$f"); do
		case " $(echo $ISO_C $LIBS) " in
		*" $h "*) ;;
		*) bad="$bad $f:<$h>" ;;
		esac
	done
done
[ $n -gt 30 ] || fail "only $n files checked"
[ -z "$bad" ] || fail "operating-system headers outside daemon/platform (use platform.h):$bad"
# The rule can fail: a file that includes <unistd.h> is caught.
printf '#include <unistd.h>\n' > "$TMP/x.c"
sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' "$TMP/x.c" | grep -qx unistd.h || fail "the include pattern misses <unistd.h>"
echo "PASS: $n files include only C library, library and netglobe headers"
