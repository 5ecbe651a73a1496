#!/bin/bash
# Fault: the bus dies under orchestratord.  It must exit non-zero, so that
# Restart=on-failure brings it back, and its jobs must keep running.
#   tests/fault/test-daemon-bus-loss.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/../lib.sh" "$1" "$2"

lib_start_bus
lib_config none
lib_start_daemon
id=$(lib_create sleep 300) || fail "Create failed"
lib_wait_state "$id" running
pid=$(lib_field "$id" pid)

kill -KILL "$BUS_PID"
wait "$BUS_PID" 2>/dev/null
for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$DAEMON_PID" 2>/dev/null && fail "orchestratord still runs 5 s after its bus died"
wait "$DAEMON_PID"; rc=$?
[ "$rc" -ne 0 ] || fail "orchestratord exited with status 0 when it lost the bus"
log "orchestratord exited with status $rc"
kill -0 "$pid" 2>/dev/null || fail "job $id (pid $pid) died with the daemon's bus"
echo "ok: bus loss ends the daemon with status $rc, the job lives on"
