#!/bin/bash
# Exact instruction counts of orchestratord's sampling tick (issue 15):
# the daemon under callgrind, collecting only inside orch_sampler_tick
# (so what it reads, computes, stores in history and the SystemSampled
# signal it builds and sends), N `sleep 600` jobs on BACKEND at the
# default 1 s interval, TICKS ticks collected once every job was sampled.
#   tests/bench/profile-sample-callgrind.sh BUILD_DIR [BACKEND] [JOBS] [TICKS]
# Prints instructions per tick and the top of callgrind_annotate
# (inclusive); PROFILE_KEEP=FILE keeps callgrind.out, PROFILE_TOP (40)
# sets the length of the top.  Needs valgrind.  Not a test: the counts do
# not depend on the machine's load, so two builds compare exactly.
set -euo pipefail
backend=${2:-cgroupfs}
njobs=${3:-200}
nticks=${4:-20}
# shellcheck source=tests/bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh" profile-sample-callgrind "$1"
trap 'lib_cleanup; sleep 1; rm -rf "$T"' EXIT
stop_jobs() {
  local id
  for id in "${IDS[@]}"; do lib_call Jobs Stop 'sa{sv}' "$id" 0 >/dev/null 2>&1 || true; done
}
IDS=()
lib_on_cleanup stop_jobs
lib_start_bus
lib_config "$backend" "[jobs]" "max_concurrent=100000" "[metrics]" "sample_interval_ms=1000"
LIB_DAEMON_WRAP="valgrind --tool=callgrind --callgrind-out-file=$T/callgrind.out
  --toggle-collect=orch_sampler_tick --collect-atstart=no --dump-instr=no"
LIB_CALL_TIMEOUT=60
lib_start_daemon
for ((i = 0; i < njobs; i++)); do
  IDS+=("$(lib_create sleep 600)") || fail "Create failed"
done
busctl --address="$BUS_ADDR" monitor --match="member=SystemSampled" >"$T/mon" 2>/dev/null &
MON=$!
LIB_PIDS+=("$MON")
# Every job sampled and its files open: collect from a clean counter on.
sleep 3
callgrind_control -z "$DAEMON_PID" >/dev/null
: >"$T/mon"
while (($(grep -c SystemSampled "$T/mon" || true) < nticks)); do sleep 0.2; done
callgrind_control -d "$DAEMON_PID" >/dev/null
n=$(grep -c SystemSampled "$T/mon" || true)
out=$(ls -t "$T"/callgrind.out* | head -n 1)
[ -n "${PROFILE_KEEP:-}" ] && cp "$out" "$PROFILE_KEEP"
total=$(callgrind_annotate "$out" 2>/dev/null | sed -n 's/^\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
echo "== callgrind, $backend, $njobs jobs, $n ticks: $total instructions, $((total / n)) a tick"
callgrind_annotate --inclusive=yes "$out" 2>/dev/null | grep -v '^--\|^$' | sed -n '/file:function/,$p' |
  head -n "${PROFILE_TOP:-40}"
kill "$MON" 2>/dev/null || true
