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
# The shim may answer a read from what it kept for up to a second after
# the daemon's last word (orch-rest-cache.h); past that, it must ask.
sleep 1.5
# All at once: each must be answered within its own bound.
probes=(GET:/jobs/ "GET:/jobs/$id" GET:/metrics/system "GET:/logs/$id?tail=5" GET:/metrics
        GET:/healthz "DELETE:/jobs/$id")
curls=()
for i in "${!probes[@]}"; do
  curl -s -X "${probes[i]%%:*}" --max-time 60 -o "$T/probe.$i" -w '%{http_code} %{time_total}' \
    "$URL${probes[i]#*:}" >"$T/probe.$i.status" &
  curls+=($!)
  LIB_PIDS+=($!)
done
wait "${curls[@]}"
for i in "${!probes[@]}"; do
  read -r code seconds <"$T/probe.$i.status"
  what=${probes[i]/:/ }
  log "$what: $code in ${seconds}s: $(cat "$T/probe.$i" 2>/dev/null)"
  case $what in
    "GET /healthz") want=503 limit=$READ_LIMIT ;;
    DELETE*) want=504 limit=$STOP_LIMIT ;;
    *) want=504 limit=$READ_LIMIT ;;
  esac
  [ "$code" = "$want" ] || fail "$what while the daemon is stopped: $code, not $want"
  awk -v t="$seconds" -v l="$limit" 'BEGIN { exit !(t < l) }' || fail "$what took ${seconds}s (limit ${limit}s)"
  [ "$want" = 504 ] && { [ "$(lib_json error <"$T/probe.$i")" = Timeout ] || fail "$what: not a JSON Timeout error"; }
done

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
