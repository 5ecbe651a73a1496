#!/bin/bash
# Fault: orchestratord hangs (SIGSTOP).  The shim must not hang with it:
# a read answers 504 within its bound (5 s), /healthz 503, a Stop 504 as
# soon as the daemon stops answering pings; after SIGCONT all is well again.
#   tests/fault/test-shim-daemon-stopped.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/../lib.sh" "$1" "$2"

# Generous for a loaded machine: the shim's bounds are 5 s for a read,
# and for a long call a ping unanswered for 5 s, sent every 2 s.
READ_LIMIT=12
STOP_LIMIT=15

lib_start_bus
lib_config none
lib_start_daemon
lib_start_shim
id=$(lib_create sleep 300) || fail "Create failed"
lib_wait_state "$id" running
lib_http GET /jobs/
[ "$HTTP_STATUS" = 200 ] || fail "GET /jobs/ before the fault: $HTTP_STATUS"

kill -STOP "$DAEMON_PID"
log "orchestratord (pid $DAEMON_PID) stopped"
for path in /jobs/ "/jobs/$id" /metrics/system "/logs/$id?tail=5" /metrics; do
  LIB_HTTP_MAX_TIME=60 lib_http GET "$path"
  log "GET $path: $HTTP_STATUS in ${HTTP_SECONDS}s: $HTTP_BODY"
  [ "$HTTP_STATUS" = 504 ] || fail "GET $path while the daemon is stopped: $HTTP_STATUS, not 504"
  awk -v t="$HTTP_SECONDS" -v l=$READ_LIMIT 'BEGIN { exit !(t < l) }' ||
    fail "GET $path took ${HTTP_SECONDS}s (limit ${READ_LIMIT}s)"
  [ "$(lib_json error <<<"$HTTP_BODY")" = Timeout ] || fail "GET $path: not a JSON Timeout error"
done

LIB_HTTP_MAX_TIME=60 lib_http GET /healthz
log "GET /healthz: $HTTP_STATUS in ${HTTP_SECONDS}s: $HTTP_BODY"
[ "$HTTP_STATUS" = 503 ] || fail "/healthz while the daemon is stopped: $HTTP_STATUS, not 503"

# A Stop may wait out the job's stop timeout, but not a daemon that no
# longer answers.
LIB_HTTP_MAX_TIME=60 lib_http DELETE "/jobs/$id"
log "DELETE /jobs/$id: $HTTP_STATUS in ${HTTP_SECONDS}s: $HTTP_BODY"
[ "$HTTP_STATUS" = 504 ] || fail "DELETE while the daemon is stopped: $HTTP_STATUS, not 504"
awk -v t="$HTTP_SECONDS" -v l=$STOP_LIMIT 'BEGIN { exit !(t < l) }' ||
  fail "DELETE took ${HTTP_SECONDS}s (limit ${STOP_LIMIT}s)"

kill -CONT "$DAEMON_PID"
log "orchestratord continued"
lib_wait_http /healthz 200 10
lib_http GET "/jobs/$id"
[ "$HTTP_STATUS" = 200 ] || fail "GET /jobs/$id after SIGCONT: $HTTP_STATUS"
# The Stop sent while the daemon was stopped still reached it: a 504 says
# the answer did not come in time, not that nothing happened.
lib_wait_state "$id" "stopped|exited|failed"
lib_exit_clean "$SHIM_PID" orchestrator-rest "$T/rest.log"
echo "ok: reads answer 504 in ${READ_LIMIT}s at most, /healthz 503, a Stop 504; all 200 after SIGCONT"
