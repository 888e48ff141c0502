#!/bin/sh
# build.sh DEST: assemble the page that the daemon embeds (page sources plus pinned npm files).
set -eu
dest=$1
rm -rf "$dest"
mkdir -p "$dest"
if [ -d web/src ]; then
	cp -R web/src/. "$dest/"
else
	printf '<!doctype html><title>netglobe</title><p>netglobe: the page is not built yet.</p>\n' > "$dest/index.html"
fi
