#!/bin/bash
# Soak: orchestratord through 10 000 create/stop/remove cycles (2 000 under
# the sanitizers), cgroupfs backend where there is one; its RSS after the
# warm-up must grow by less than 2 MiB and its fd count come back.
#   tests/fault/soak-daemon.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/../lib.sh" "$1" "$2"

cycles=${SOAK_CYCLES:-10000}   # tests/fault/meson.build: 2 000 under the sanitizers
warmup=$((cycles / 5))
backend=none
lib_have_cgroupfs && backend=cgroupfs

lib_start_bus
lib_config "$backend" '[state]' 'keep_finished=100'
lib_start_daemon
log "$cycles cycles on the $backend backend, warm-up $warmup"
"$BUILD/tests/fault/soak-daemon-driver" "$BUS_ADDR" "$DAEMON_PID" "$cycles" "$warmup" > "$T/soak.json" ||
  fail "$(cat "$T/soak.json")"
cat "$T/soak.json"
kill -0 "$DAEMON_PID" || fail "orchestratord died: $(tail "$T/daemon.log")"
echo "ok: orchestratord through $cycles create/stop cycles, RSS and fds flat"
