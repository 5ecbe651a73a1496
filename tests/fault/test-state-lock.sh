#!/bin/bash
# Fault: a second orchestratord on the same state directory (another bus,
# the same configuration).  It must refuse to start, naming the first
# one's pid, before it reads or writes the database; the first goes on.
#   tests/fault/test-state-lock.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/../lib.sh" "$1" "$2"

lib_start_bus
lib_config none
lib_start_daemon
first=$DAEMON_PID
id=$(lib_create sleep 300) || fail "Create failed"
lib_wait_state "$id" running
sum_before=$(cat "$T"/state/orchestrator.db* | md5sum)

# The second one: its own bus, so only the state directory is shared.
mkdir "$T/bus2"
sed "s#$T/bus#$T/bus2/bus#" "$T/bus.conf" > "$T/bus2/bus.conf"
dbus-daemon --config-file="$T/bus2/bus.conf" --nofork --nosyslog </dev/null >/dev/null 2>&1 &
LIB_PIDS+=($!)
for _ in $(seq 100); do [ -S "$T/bus2/bus" ] && break; sleep 0.05; done
timeout 20 "$BUILD/src/orchestratord" --bus-address="unix:path=$T/bus2/bus" --config="$T/orch.conf" \
  > "$T/second.log" 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "the second orchestratord did not refuse (status $rc)"
grep -q "in use by another orchestratord (pid $first)" "$T/second.log" ||
  fail "the second orchestratord did not say why: $(cat "$T/second.log")"
grep -q "reconciled\|supervised again" "$T/second.log" &&
  fail "the second orchestratord reconciled the state: $(cat "$T/second.log")"
[ "$(cat "$T"/state/orchestrator.db* | md5sum)" = "$sum_before" ] ||
  fail "the database changed under the second orchestratord"
[ "$(lib_field "$id" state)" = running ] || fail "the first daemon lost its job"
log "$(cat "$T/second.log")"
echo "ok: a second daemon on one state directory refuses to start"
