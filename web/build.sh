#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# build.sh DEST: assemble the page that the daemon embeds: web/src plus the pinned
# npm files it needs (three.js, OrbitControls, world-atlas, topojson-client),
# copied from web/node_modules into DEST/vendor. No bundler: plain ES modules.
#
# DESIGN: the page imports three.js by relative URL (vendor/three.module.js),
# and OrbitControls' bare `from 'three'` is rewritten to the same URL, so no
# import map (an inline script) is needed and a strict CSP (script-src 'self')
# works. When web/node_modules is missing (a fuzz or ASan build on a machine
# without npm), DEST gets a one-page notice that says to run `make deps`, and
# the build goes on.
set -eu
dest=${1:?usage: sh web/build.sh DEST}
here=$(cd "$(dirname "$0")" && pwd)
nm=$here/node_modules

rm -rf "$dest"
mkdir -p "$dest"

missing=""
for f in three/build/three.module.js three/build/three.core.js \
	three/examples/jsm/controls/OrbitControls.js \
	world-atlas/countries-50m.json world-atlas/land-50m.json world-atlas/countries-110m.json world-atlas/land-110m.json \
	topojson-client/dist/topojson-client.min.js; do
	[ -f "$nm/$f" ] || missing="$missing $f"
done

if [ -n "$missing" ]; then
	echo "web/build.sh: web/node_modules lacks:$missing; building a placeholder page (run make deps)" >&2
	cat > "$dest/index.html" <<'EOF'
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>netglobe</title><link rel="stylesheet" href="style.css"></head>
<body>
<h1>netglobe</h1>
<p>This binary was built without the page's front-end packages. The API works
(<a href="/flows">/flows</a>, <a href="/api/stats">/api/stats</a>);
to get the globe, run <code>make deps</code> and rebuild.</p>
</body></html>
EOF
	# A file, not inline styles: the daemon's CSP allows only style-src 'self'.
	cat > "$dest/style.css" <<'EOF'
body { background: #05070d; color: #dfe7f1; font: 16px system-ui, sans-serif; padding: 2rem; }
a { color: #7cc4ff; }
EOF
	exit 0
fi

cp -R "$here/src/." "$dest/"
mkdir -p "$dest/vendor"
cp "$nm/three/build/three.module.js" "$nm/three/build/three.core.js" "$dest/vendor/"
sed "s#from 'three';#from './three.module.js';#" "$nm/three/examples/jsm/controls/OrbitControls.js" \
	> "$dest/vendor/OrbitControls.js"
if grep -q "from 'three'" "$dest/vendor/OrbitControls.js"; then
	echo "web/build.sh: could not rewrite the three import in OrbitControls.js" >&2
	exit 1
fi
cp "$nm/world-atlas/countries-50m.json" "$nm/world-atlas/land-50m.json" "$nm/world-atlas/countries-110m.json" "$nm/world-atlas/land-110m.json" \
	"$dest/vendor/"
cp "$nm/topojson-client/dist/topojson-client.min.js" "$dest/vendor/"
# Licences of what we ship, next to it.
{
	for p in three world-atlas topojson-client; do
		v=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$nm/$p/package.json")
		echo "== $p $v =="
		cat "$nm/$p/LICENSE"
		echo
	done
} > "$dest/vendor/LICENSES.txt"
