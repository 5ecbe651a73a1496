#!/bin/bash
# What the proactive memory warning costs the daemon (docs/API.md,
# "Forecasts and recommendations").  Not a test.
#
#   tests/bench/bench-forecast-watch.sh BUILD_DIR SOURCE_DIR
#
# orchestratord (none backend, 100 ms samples, 300-point fine rings) with
# BENCH_JOBS (50) jobs whose memory moves, twice: with the watch forecasting
# every job every second ([events] memory_forecast_interval_s=1) and with it
# off (memory_warn_before_s=0), the peer in the same run.  The daemon's CPU
# time (utime + stime from /proc) over BENCH_WINDOWS (3) windows of
# BENCH_WINDOW_S (20) s each, after the rings have filled; the median
# window of each.  The watch's cost per job per round is
# (on - off) / (jobs x rounds).  Prints one JSON document on stdout.
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$2/tests/lib.sh" "$1" "$2"
log() { echo "bench-forecast-watch: $*" >&2; }
JOBS=${BENCH_JOBS:-50}
WINDOWS=${BENCH_WINDOWS:-3}
WINDOW_S=${BENCH_WINDOW_S:-20}
HZ=$(getconf CLK_TCK)

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$DAEMON_PID/stat"; }

# run WARN_BEFORE_S: the median window's CPU ticks into $T/median.WARN_BEFORE_S
run() {
  local ids=() w a b windows=()
  lib_config none '[metrics]' 'sample_interval_ms=100' 'job_history_size=300' \
    '[events]' "memory_warn_before_s=$1" 'memory_forecast_interval_s=1'
  lib_start_daemon
  for _ in $(seq "$JOBS"); do
    ids+=("$(lib_create nice -n 19 "$PY" -c '
import random, time
while True:
    b = bytearray(random.randint(1, 8) << 20)
    b[::4096] = b"x" * len(b[::4096])
    time.sleep(0.5)')") || fail "cannot create a job"
  done
  # 300 samples at 100 ms: the rings are full.
  sleep 35
  for w in $(seq "$WINDOWS"); do
    a=$(cpu_ticks); sleep "$WINDOW_S"; b=$(cpu_ticks)
    windows+=("$(( b - a ))")
    log "warn_before_s=$1 window $w: $(( b - a )) ticks"
  done
  for id in "${ids[@]}"; do lib_call Jobs Stop 'sa{sv}' "$id" 0 >/dev/null; done
  lib_stop_pid "$DAEMON_PID" orchestratord
  DAEMON_PID=""
  printf '%s\n' "${windows[@]}" | sort -n | sed -n "$(( (WINDOWS + 1) / 2 ))p" > "$T/median.$1"
}

lib_start_bus
run 600
run 0
on=$(cat "$T/median.600") off=$(cat "$T/median.0")
"$PY" - "$on" "$off" "$HZ" "$JOBS" "$WINDOW_S" <<'PYEOF'
import json, sys
on, off, hz, jobs, window = (int(x) for x in sys.argv[1:])
rounds = window  # one a second
print(json.dumps({
    "jobs": jobs, "window_s": window, "sample_interval_ms": 100, "fine_points": 300,
    "daemon_cpu_s_watch_on": on / hz, "daemon_cpu_s_watch_off": off / hz,
    "watch_cpu_share_of_a_core": (on - off) / hz / window,
    "watch_cost_us_per_job_per_round": (on - off) / hz / (jobs * rounds) * 1e6,
}))
PYEOF
