#!/bin/bash
# The dashboard in a real browser: Debian's Chromium driven by
# playwright-core (tests/web/node_modules, from tools/install-deps.sh)
# against orchestratord and orchestrator-rest on a private bus, with a
# token.  Screenshots go to BUILD_DIR/tests/web/screenshots.
#
#   test-web.sh BUILD_DIR SOURCE_DIR [SCRIPT]   (SCRIPT: test-web.mjs unless given)
set -euo pipefail
source "$(dirname "$0")/../lib.sh" "$1" "$2"
SCRIPT=${3:-test-web.mjs}

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip "no Chromium at $CHROMIUM (apt-get install chromium)"
command -v node >/dev/null || skip "no node"
[ -d "$SRC/tests/web/node_modules/playwright-core" ] ||
  skip "no tests/web/node_modules: run tools/install-deps.sh (npm ci in tests/web)"

lib_start_bus
# A deny rule the form must report next to the command field; a fast
# sampler so that charts fill within the test's deadlines.
lib_config none '[jobs]' 'deny=mkfs;mkfs.*' '[metrics]' 'sample_interval_ms=500'
lib_start_daemon

TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" > "$T/token"
chmod 600 "$T/token"
LIB_SHIM_AUTH=--token-file=$T/token lib_start_shim

# A job with some history before the browser looks at its detail.
lib_http POST /jobs/ -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"name":"seed","command":["sh","-c","while :; do echo tick; sleep 0.5; done"]}'
[ "$HTTP_STATUS" = 201 ] || fail "seed job: $HTTP_STATUS $HTTP_BODY"
SEED=$(lib_json id <<<"$HTTP_BODY")

OUT="$BUILD/tests/web/screenshots"
mkdir -p "$OUT"
URL=$URL TOKEN=$TOKEN SEED=$SEED OUT=$OUT CHROMIUM=$CHROMIUM \
  NODE_PATH="$SRC/tests/web/node_modules" node "$SRC/tests/web/$SCRIPT" ||
  fail "browser test failed; shim log: $(tail -n 20 "$T/rest.log")"
