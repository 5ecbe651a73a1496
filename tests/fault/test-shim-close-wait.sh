#!/bin/bash
# Fault: clients that close their keep-alive connection while it idles,
# with the shim held to 128 file descriptors.  libsoup before 3.3.0 keeps
# such connections (CLOSE-WAIT) until the fds run out; the shim must
# still answer every request and give every fd back.
#   tests/fault/test-shim-close-wait.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/../lib.sh" "$1" "$2"

REQUESTS=1100

lib_start_bus
lib_config none
lib_start_daemon
lib_start_shim
prlimit --pid "$SHIM_PID" --nofile=128:128 || skip "prlimit cannot set the shim's fd limit"
log "libsoup $(dpkg-query -W -f '${Version}' libsoup-3.0-0 2>/dev/null || echo '?')"

lib_http GET /healthz
[ "$HTTP_STATUS" = 200 ] || fail "/healthz: $HTTP_STATUS"
base=$(fd_count "$SHIM_PID")
log "shim fds at the start: $base (limit 128)"

# Each curl is a fresh HTTP/1.1 keep-alive connection that curl closes
# when it exits, while the shim waits for a next request on it.
paths=(/jobs/ /healthz /openapi.json /metrics/system)
for ((i = 0; i < REQUESTS; i++)); do
  path=${paths[i % ${#paths[@]}]}
  code=$(curl -s -o /dev/null --max-time 10 -w '%{http_code}' "$URL$path")
  [ "$code" = 200 ] ||
    fail "request $i ($path): $code, the shim holds $(fd_count "$SHIM_PID") fds"
done
log "$REQUESTS requests answered"

for _ in $(seq 100); do
  [ "$(fd_count "$SHIM_PID")" -le "$base" ] && break
  sleep 0.1
done
now=$(fd_count "$SHIM_PID")
log "shim fds after $REQUESTS requests: $now"
[ "$now" -le "$base" ] || fail "the shim holds $now fds after $REQUESTS requests, $base before"
lib_exit_clean "$SHIM_PID" orchestrator-rest "$T/rest.log"
echo "ok: $REQUESTS fresh connections closed by the client, fds $base -> $now"
