#!/bin/bash
# The dashboard's page weight, first view and jobs-table frame time (30
# jobs, the peer, and 1 000) in Debian's Chromium; prints one JSON
# document (tests/web/bench-web.mjs).  Needs what the web tests need.
#   tests/bench/bench-web.sh BUILD_DIR [RUNS]
# PEER_DATA=DIR: a second shim serves that data directory (e.g. main's
# data/ from `git archive main data`) and its first view is measured in
# the same runs as the peer.
set -euo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh" "$1" "$(dirname "$0")/../.."
log() { echo "# $*" >&2; }
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo '{"error": "no Chromium (apt-get install chromium)"}'; exit 77; }
[ -d "$SRC/tests/web/node_modules/playwright-core" ] || { echo '{"error": "npm ci in tests/web first"}'; exit 77; }
lib_start_bus
lib_config none
lib_start_daemon
PEER_URL=
if [ -n "${PEER_DATA:-}" ]; then
  lib_start_shim --data-dir="$PEER_DATA"
  PEER_URL=$URL
fi
lib_start_shim
URL=$URL PEER_URL=$PEER_URL CHROMIUM=$CHROMIUM RUNS=${2:-3} node "$SRC/tests/web/bench-web.mjs"
