#!/bin/bash
# Sampling benchmark driver (docs/ARCHITECTURE.md, "Metrics sources" and "Performance
# budgets").  Not a test.
#
#   tests/bench/bench-sample.sh BUILD_DIR
#
# For the none and cgroupfs backends: CPU time of one sampling tick of
# orchestratord with 0, 200 and 1000 live jobs of `sleep 600`, the same
# per-process work done by python3-psutil over the same pids (the
# prototype's way: Process objects kept across ticks, cpu_percent(),
# memory_info(), io_counters()), and the daemon's RSS before the jobs, with
# them, and once every job's fine history ring is full; and the floor
# under any tick here (bench-wakeup: a process that only wakes at the
# interval, and one that also reads the system files).
#
# Prints one JSON document on stdout; progress goes to stderr.  Needs
# python3-psutil (apt) for the peer; without it the peer figures are null.
# Environment: BENCH_LEVELS (0,200,1000), BENCH_INTERVAL_MS (100),
# BENCH_WINDOWS (3), BENCH_WINDOW_TICKS (20), BENCH_FILL_TICKS (310),
# BENCH_BACKENDS ("none cgroupfs").
#
# Each backend gets its own orchestratord on a private dbus-daemon; every
# job is stopped and removed through the API, and every job pid is checked
# to be gone at the end.  Everything started here is cleaned up on any exit.

set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi

SRC_DIR=$(cd "$(dirname "$0")" && pwd)
LEVELS=${BENCH_LEVELS:-0,200,1000}
INTERVAL_MS=${BENCH_INTERVAL_MS:-100}
WINDOWS=${BENCH_WINDOWS:-3}
WINDOW_TICKS=${BENCH_WINDOW_TICKS:-20}
FILL_TICKS=${BENCH_FILL_TICKS:-310}
BACKENDS=" ${BENCH_BACKENDS:-none cgroupfs} "
TOP=${LEVELS##*,}
# shellcheck source=tests/bench/bench-lib.sh
. "$SRC_DIR/bench-lib.sh" bench-sample "$1"
PYTHON=$PY
BENCH_STOP_S=60

# ------------------------------------------------------------------ helpers
machine_json() {
    local psv
    psv=$("$PYTHON" -c 'import psutil, sys; print(psutil.__version__, sys.version.split()[0])' 2>/dev/null)
    bench_machine_json ",\"processes\":$(find /proc -maxdepth 1 -name "[0-9]*" 2>/dev/null | wc -l),\"psutil_python\":$(lib_json_str "${psv:-none}")"
}

bench_binary bench-sample -lm

# ------------------------------------------------------------------ psutil peer
# argv: PIDS_FILE WINDOWS TICKS INTERVAL_MS.  Per tick, for every pid:
# cpu_percent(), memory_info(), io_counters(), Process objects kept across
# ticks; paced to the daemon's interval.  CPU: time.process_time() (this
# process, user+system, ns clock) over each window / ticks.
PEER="$T/peer-psutil.py"
cat > "$PEER" <<'EOF'
import json, sys, time
import psutil

pids = [int(l) for l in open(sys.argv[1]) if l.strip()]
windows, ticks, interval = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]) / 1000.0
procs = []
for pid in pids:
    try:
        procs.append(psutil.Process(pid))
    except psutil.Error:
        pass
errors = 0

def tick():
    global errors
    for p in procs:
        try:
            p.cpu_percent()
            p.memory_info()
            p.io_counters()
        except psutil.Error:
            errors += 1

tick()  # the first cpu_percent() of a Process only sets its baseline
cpu, wall = [], []
for _ in range(windows):
    c0, w0 = time.process_time(), time.monotonic()
    for _ in range(ticks):
        start = time.monotonic()
        tick()
        rest = interval - (time.monotonic() - start)
        if rest > 0:
            time.sleep(rest)
    cpu.append((time.process_time() - c0) * 1000.0 / ticks)
    wall.append((time.monotonic() - w0) * 1000.0 / ticks)
med = sorted(cpu)[len(cpu) // 2] if len(cpu) % 2 else sum(sorted(cpu)[len(cpu) // 2 - 1:len(cpu) // 2 + 1]) / 2
print(json.dumps({"pids": len(procs), "cpu_ms_per_tick": round(med, 3),
                  "cpu_ms_per_tick_windows": [round(c, 3) for c in cpu],
                  "wall_ms_per_tick": round(sorted(wall)[len(wall) // 2], 1),
                  "errors": errors, "psutil": psutil.__version__},
                 separators=(",", ":")))
EOF
PEER_ARGS=(--peer="$PEER" --peer-python="$PYTHON" --peer-pids="$T/peer-pids" --peer-out="$T/peer-out")
if ! "$PYTHON" -c 'import psutil' 2>/dev/null; then
    log "python3-psutil is not installed (apt-get install python3-psutil): no peer figures"
    PEER_ARGS=()
fi

# ------------------------------------------------------------------ one backend
# bench_backend NAME OUTFILE [orchestratord args...] -> JSON object in OUTFILE.
# Runs in the main shell (not in $(...)) so the cleanup knows the pids.
bench_backend() {
    local name=$1 result=$2; shift 2
    bench_daemon_start "$name" "$result" "[jobs]
max_concurrent=$((TOP + 100))
[metrics]
sample_interval_ms=$INTERVAL_MS
job_history_size=300
job_history_coarse_size=288" "$@" || return 1
    log "$name: orchestratord pid $DAEMON_PID, levels $LEVELS, tick ${INTERVAL_MS} ms"
    bench_run "$name" --address="$BUS_ADDR" --daemon-pid="$DAEMON_PID" --levels="$LEVELS" \
        --windows="$WINDOWS" --window-ticks="$WINDOW_TICKS" --fill-ticks="$FILL_TICKS" \
        --interval-ms="$INTERVAL_MS" --pids-file="$PIDS_FILE" "${PEER_ARGS[@]}"
    bench_daemon_finish "$name" "$result"
}

BUDGET='{"cpu_ms_per_tick_1000":10,"ratio_vs_psutil":10,"rss_growth_mb_1000":40,"design_md":{"sample_200_ms":2,"sample_1000_ms":12,"psutil_200_ms":13.7,"psutil_1000_ms":72,"system_figures_us":50}}'
METHOD="levels $LEVELS jobs of 'sleep 600' created in turn in one daemon per backend; daemon [metrics] sample_interval_ms=$INTERVAL_MS; per level $WINDOWS windows of $WINDOW_TICKS ticks (a tick = one SystemSampled signal), daemon CPU = schedstat delta of all its threads / ticks, median of windows; psutil peer: same pids, same cadence, time.process_time() delta / ticks, median of $WINDOWS windows; ratio = psutil / daemon; RSS = VmRSS, growth = after $FILL_TICKS ticks with $TOP jobs (fine rings full) minus before any job"

# ------------------------------------------------------------------ run
SECONDS=0
lib_start_bus
log "private bus $BUS_ADDR (dbus-daemon pid $BUS_PID)"
status=0
echo null > "$T/res-none.json"
echo null > "$T/res-cgroupfs.json"
case "$BACKENDS" in *" none "*)
    bench_backend none "$T/res-none.json" --backend=none || status=1 ;;
esac

case "$BACKENDS" in *" cgroupfs "*)
    bench_cgroupfs "orch-bench-sample-$$" || status=1 ;;
esac
# The system figures alone, in process (docs/ARCHITECTURE.md: <= 50 us per sample).
SYSTEM=null
if [ -x "$BUILD_DIR/tests/bench/bench-tick" ]; then
    SYSTEM=$("$BUILD_DIR/tests/bench/bench-tick" --interval-ms="$INTERVAL_MS" 2>/dev/null) || SYSTEM=null
    [ -n "$SYSTEM" ] || SYSTEM=null
fi
# The floor under a tick on this machine, in the same run: a process that
# only wakes at the interval, and one that also reads the system files.
FLOOR=null
if [ -x "$BUILD_DIR/tests/bench/bench-wakeup" ]; then
    log "floor: bare wakeups and system reads, $WINDOWS windows of $WINDOW_TICKS ticks"
    FLOOR=$("$BUILD_DIR/tests/bench/bench-wakeup" --interval-ms="$INTERVAL_MS" --windows="$WINDOWS" \
        --window-ticks="$WINDOW_TICKS" 2>/dev/null) || FLOOR=null
    [ -n "$FLOOR" ] || FLOOR=null
fi
res_none=$(cat "$T/res-none.json" 2>/dev/null || echo null)
res_cg=$(cat "$T/res-cgroupfs.json" 2>/dev/null || echo null)

daemon_json() {
    local bid rev
    bid=$(readelf -n "$DAEMON" 2>/dev/null | sed -n 's/^[[:space:]]*Build ID: //p')
    rev=$(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null)
    printf '{"path":%s,"build_id":%s,"source":%s}' "$(lib_json_str "$DAEMON")" \
        "$(lib_json_str "${bid:-unknown}")" "$(lib_json_str "${rev:-unknown}")"
}
printf '{"machine":%s,"daemon":%s,"method":%s,"elapsed_s":%s,"backends":{"none":%s,"cgroupfs":%s},"system_figures":%s,"floor":%s,"budget":%s}\n' \
    "$(machine_json)" "$(daemon_json)" "$(lib_json_str "$METHOD")" "$SECONDS" "$res_none" "$res_cg" "$SYSTEM" "$FLOOR" "$BUDGET"
exit $status
