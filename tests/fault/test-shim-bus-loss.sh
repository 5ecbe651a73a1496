#!/bin/bash
# Fault: the bus dies under orchestrator-rest, then a new bus comes up at
# the same address with a new orchestratord.  Meanwhile every D-Bus route
# answers 503 (JSON) and /healthz 503; afterwards the shim has reconnected
# by itself: 200 again, the WebSocket feed carries frames again and a log
# follow opened before the fault ends when its job stops.
#   tests/fault/test-shim-bus-loss.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/../lib.sh" "$1" "$2"

lib_start_bus
lib_config none
lib_start_daemon
# A short stall timeout: a WebSocket client that only listens must not be
# taken for a stalled one.
lib_start_shim --timeout=3
id=$(lib_create sh -c 'while :; do echo tick; sleep 0.2; done') || fail "Create failed"
lib_wait_state "$id" running

curl -sN --max-time 120 "$URL/logs/$id?follow=1" >"$T/follow.out" 2>/dev/null &
FOLLOW_PID=$!
LIB_PIDS+=("$FOLLOW_PID")
lib_ws_listen /ws/metrics "$T/ws.out"
for _ in $(seq 100); do
  grep -q '^system$' "$T/ws.out" 2>/dev/null && [ -s "$T/follow.out" ] && break
  sleep 0.1
done
grep -q '^system$' "$T/ws.out" || fail "no frame on /ws/metrics: $(cat "$T/ws.out")"
[ -s "$T/follow.out" ] || fail "the log follow got nothing"

kill -KILL "$BUS_PID"
wait "$BUS_PID" 2>/dev/null
for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.05; done
log "bus and daemon gone"

for path in /jobs/ "/jobs/$id" /metrics/system; do
  LIB_HTTP_MAX_TIME=20 lib_http GET "$path"
  log "GET $path without a bus: $HTTP_STATUS in ${HTTP_SECONDS}s: $HTTP_BODY"
  [ "$HTTP_STATUS" = 503 ] || fail "GET $path without a bus: $HTTP_STATUS, not 503"
  [ "$(lib_json error <<<"$HTTP_BODY")" = Unavailable ] || fail "GET $path: not a JSON Unavailable error"
done
LIB_HTTP_MAX_TIME=20 lib_http GET /healthz
[ "$HTTP_STATUS" = 503 ] || fail "/healthz without a bus: $HTTP_STATUS, not 503"
kill -0 "$WS_PID" 2>/dev/null || fail "the WebSocket client was dropped with the bus: $(tail -n 3 "$T/ws.out")"
kill -0 "$FOLLOW_PID" 2>/dev/null || fail "the log follow ended with the bus"

# A new bus at the same address: the shim finds it, the daemon comes
# later.  Until it does, 503 still.
lib_start_bus
sleep 1
lib_http GET /jobs/
log "GET /jobs/ with a bus but no daemon: $HTTP_STATUS: $HTTP_BODY"
[ "$HTTP_STATUS" = 503 ] || fail "GET /jobs/ with no daemon on the bus: $HTTP_STATUS, not 503"
lib_start_daemon
lib_wait_http /healthz 200 20
lib_http GET /jobs/
[ "$HTTP_STATUS" = 200 ] || fail "GET /jobs/ after the reconnect: $HTTP_STATUS: $HTTP_BODY"
log "reconnected: /healthz and /jobs/ 200"

# The feed re-subscribed: new frames from the new daemon.
frames=$(wc -l <"$T/ws.out")
for _ in $(seq 100); do
  [ "$(wc -l <"$T/ws.out")" -gt "$frames" ] && break
  sleep 0.1
done
[ "$(wc -l <"$T/ws.out")" -gt "$frames" ] || fail "no WebSocket frame after the reconnect"

# The follow is still open; stopping its job (re-adopted by the new
# daemon) ends it.
kill -0 "$FOLLOW_PID" 2>/dev/null || fail "the log follow ended during the reconnect"
lib_http DELETE "/jobs/$id"
[ "$HTTP_STATUS" = 200 ] || fail "DELETE /jobs/$id after the reconnect: $HTTP_STATUS: $HTTP_BODY"
for _ in $(seq 100); do kill -0 "$FOLLOW_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$FOLLOW_PID" 2>/dev/null && fail "the log follow did not end 10 s after its job stopped"
wait "$FOLLOW_PID"; rc=$?
[ "$rc" -eq 0 ] || fail "the log follow ended with curl status $rc"
lib_exit_clean "$SHIM_PID" orchestrator-rest "$T/rest.log"
echo "ok: 503 without a bus or daemon, 200 after the reconnect; the feed and a follow carried on"
