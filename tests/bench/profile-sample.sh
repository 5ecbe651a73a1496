#!/bin/bash
# Profiles orchestratord's sampling tick (issue 15): N `sleep 600` jobs on
# BACKEND (none or cgroupfs) at the default 1 s interval, then
#   perf record -g over SECONDS (the top of `perf report --children`),
#   strace -c over SECONDS (syscalls per tick = calls / ticks),
#   strace -T of one tick (every syscall of it, with its time).
#   tests/bench/profile-sample.sh BUILD_DIR [BACKEND] [JOBS] [SECONDS]
# PROFILE_KEEP=FILE keeps perf.data; PROFILE_FREQ (10000) and PROFILE_TOP
# (45) set the sampling rate and the length of the tops.
# Needs perf (Debian: linux-perf) and strace.  Not a test.
#
# PROFILE_TOOL=callgrind: exact instruction counts instead, the daemon
# under callgrind collecting only inside orch_sampler_tick (what it reads,
# computes, keeps in history, and the SystemSampled signal it builds and
# sends) over SECONDS ticks once every job was sampled: instructions a
# tick and the inclusive top of callgrind_annotate; PROFILE_KEEP keeps
# callgrind.out.  The counts do not depend on the machine's load, so two
# builds compare exactly.  Needs valgrind.
set -euo pipefail
backend=${2:-cgroupfs}
njobs=${3:-200}
secs=${4:-30}
# shellcheck source=tests/bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh" profile-sample "$1"
# Monitors of the killed jobs may still write their exit records while
# lib_cleanup removes $T: once more after a moment, so nothing is left.
trap 'lib_cleanup; sleep 1; rm -rf "$T"' EXIT
stop_jobs() {
  local id
  for id in "${IDS[@]}"; do lib_call Jobs Stop 'sa{sv}' "$id" 0 >/dev/null 2>&1 || true; done
}
IDS=()
lib_on_cleanup stop_jobs
lib_start_bus
lib_config "$backend" "[jobs]" "max_concurrent=100000" "[metrics]" "sample_interval_ms=1000"
if [ "${PROFILE_TOOL:-perf}" = callgrind ]; then
  LIB_DAEMON_WRAP="valgrind --tool=callgrind --callgrind-out-file=$T/callgrind.out
    --toggle-collect=orch_sampler_tick --collect-atstart=no --dump-instr=no"
  LIB_CALL_TIMEOUT=60
fi
lib_start_daemon
for ((i = 0; i < njobs; i++)); do
  IDS+=("$(lib_create sleep 600)") || fail "Create failed"
done
# Every job sampled once, its files opened.
sleep 3
ticks() { grep -c 'SystemSampled' "$1" 2>/dev/null || echo 0; }
busctl --address="$BUS_ADDR" monitor --match="member=SystemSampled" >"$T/mon" 2>/dev/null &
MON=$!
LIB_PIDS+=("$MON")
if [ "${PROFILE_TOOL:-perf}" = callgrind ]; then
  # From a clean counter on, every job sampled and its files open.
  callgrind_control -z "$DAEMON_PID" >/dev/null
  : >"$T/mon"
  while (($(grep -c SystemSampled "$T/mon" || true) < secs)); do sleep 0.2; done
  callgrind_control -d "$DAEMON_PID" >/dev/null
  n=$(ticks "$T/mon")
  out=$(ls -t "$T"/callgrind.out* | head -n 1)
  [ -n "${PROFILE_KEEP:-}" ] && cp "$out" "$PROFILE_KEEP"
  total=$(callgrind_annotate "$out" 2>/dev/null | sed -n 's/^\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
  echo "== callgrind, $backend, $njobs jobs, $n ticks: $total instructions, $((total / n)) a tick"
  callgrind_annotate --inclusive=yes "$out" 2>/dev/null | grep -v '^--\|^$' |
    sed -n '/file:function/,$p' | head -n "${PROFILE_TOP:-45}"
  kill "$MON" 2>/dev/null || true
  exit 0
fi
perf record -q -F "${PROFILE_FREQ:-10000}" --call-graph dwarf,16384 -o "$T/perf.data" -p "$DAEMON_PID" -- sleep "$secs" >/dev/null 2>&1
[ -n "${PROFILE_KEEP:-}" ] && cp "$T/perf.data" "$PROFILE_KEEP"
echo "== perf, $backend, $njobs jobs, $secs s ($(ticks "$T/mon") ticks), children %"
perf report -i "$T/perf.data" --children --stdio --no-header -g none --percent-limit 2 \
  >"$T/children" 2>/dev/null || true
grep -v -e '^$' -e '^#' "$T/children" | head -n "${PROFILE_TOP:-45}" || true
echo "== perf, self %"
perf report -i "$T/perf.data" --no-children --stdio --no-header -g none --percent-limit 1 \
  >"$T/self" 2>/dev/null || true
grep -v -e '^$' -e '^#' "$T/self" | head -n "${PROFILE_TOP:-30}" || true
: >"$T/mon"
timeout -s INT "$secs" strace -c -f -p "$DAEMON_PID" -o "$T/strace-c" 2>/dev/null || true
n=$(ticks "$T/mon")
echo "== strace -c, $secs s, $n ticks"
cat "$T/strace-c"
# One tick: from one timer wakeup to the next.
timeout -s INT 2.5 strace -f -T -tt -p "$DAEMON_PID" -o "$T/strace-t" 2>/dev/null || true
echo "== strace -T, 2.5 s (about two ticks), $(wc -l <"$T/strace-t") lines"
cat "$T/strace-t"
kill "$MON" 2>/dev/null || true
