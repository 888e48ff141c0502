#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# 60-page.sh [BUILD]: the globe page's frame time with 5,000 arcs vs an empty globe, in headless
# Chromium with software WebGL (SwiftShader), printed as BENCH lines and ratios. The page is
# assembled by web/build.sh and served by python3's http.server on a free loopback port; the
# page's ?bench=N mode makes its own data, so no daemon is needed. Exit 77 when a tool is missing.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
build=${1:-${NG_BUILD:-build}}
chromium=${NG_CHROMIUM:-/usr/bin/chromium}
for need in node python3; do
	command -v $need >/dev/null 2>&1 || { echo "bench page: $need is missing (run make deps)"; exit 77; }
done
[ -x "$chromium" ] || { echo "bench page: chromium is missing (run make deps)"; exit 77; }
[ -d web/node_modules/playwright-core ] || { echo "bench page: web/node_modules is missing (run make deps)"; exit 77; }

tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
sh web/build.sh "$tmp/web" || exit 1
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$tmp/web" > "$tmp/server.log" 2>&1 &
pid=$!
i=0
until curl -sf "http://127.0.0.1:$port/" > /dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 50 ] && { echo "bench page: the static server did not start"; cat "$tmp/server.log"; exit 1; }
	sleep 0.1
done
echo "bench page: 5,000 places (10,000 arc instances, both directions) vs empty globe, 1280x800, software WebGL"
NG_URL="http://127.0.0.1:$port/" NG_CHROMIUM=$chromium node tests/e2e/bench.mjs 5000 "${NG_BENCH_SECONDS:-8}"
