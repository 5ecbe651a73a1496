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
# them, and once every job's fine history ring is full.
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

set -u
export LC_ALL=C

if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi

BUILD_DIR=$(realpath -e "$1") || { echo "bench-sample: no build dir $1" >&2; exit 2; }
SRC_DIR=$(cd "$(dirname "$0")" && pwd)
DAEMON="$BUILD_DIR/src/orchestratord"
LEVELS=${BENCH_LEVELS:-0,200,1000}
INTERVAL_MS=${BENCH_INTERVAL_MS:-100}
WINDOWS=${BENCH_WINDOWS:-3}
WINDOW_TICKS=${BENCH_WINDOW_TICKS:-20}
FILL_TICKS=${BENCH_FILL_TICKS:-310}
BACKENDS=" ${BENCH_BACKENDS:-none cgroupfs} "
PYTHON=/usr/bin/python3
[ -x "$DAEMON" ] || { echo "bench-sample: $DAEMON not built" >&2; exit 2; }
TOP=${LEVELS##*,}

log() { echo "bench-sample: $*" >&2; }
# shellcheck source=tests/bench/bench-lib.sh
. "$SRC_DIR/bench-lib.sh"

TMP=$(mktemp -d /tmp/orch-bench-sample.XXXXXX) || exit 1
DBUS_PID=""
DAEMON_PID=""
BENCH_PID=""
CGROOT=""
CLEANED=0
PIDS_FILE="$TMP/pids"
: > "$PIDS_FILE"

# ------------------------------------------------------------------ helpers
machine_json() {
    local cpu mem psv
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    mem=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 }' /proc/meminfo)
    psv=$("$PYTHON" -c 'import psutil, sys; print(psutil.__version__, sys.version.split()[0])' 2>/dev/null)
    printf '{"cpu":%s,"nproc":%s,"mem_mb":%s,"kernel":%s,"cgroup":%s,"processes":%s,"psutil_python":%s}' \
        "$(json_str "${cpu:-unknown}")" "$(nproc)" "${mem:-0}" "$(json_str "$(uname -r)")" \
        "$(json_str "$(cgroup_layout)")" "$(find /proc -maxdepth 1 -name "[0-9]*" | wc -l)" "$(json_str "${psv:-none}")"
}

# Adds to PIDS_FILE the `sleep 600` children of the daemon (a second net
# under the pids bench-sample reported).
note_daemon_children() {
    local d=$1 p
    [ -n "$d" ] || return 0
    for p in $(ps -o pid= --ppid "$d" 2>/dev/null); do
        is_our_sleep "$p" && echo "$p" >> "$PIDS_FILE"
    done
    return 0
}

cleanup() {
    [ "$CLEANED" = 1 ] && return 0
    CLEANED=1
    local left
    if [ -n "$BENCH_PID" ] && kill -0 "$BENCH_PID" 2>/dev/null; then
        # It stops (through the API) and removes the jobs it created.
        kill -TERM "$BENCH_PID" 2>/dev/null
        for _ in $(seq 600); do kill -0 "$BENCH_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$BENCH_PID" 2>/dev/null
        wait "$BENCH_PID" 2>/dev/null
        cat "$TMP"/*/bench.err 2>/dev/null | sed 's/^/  /' >&2
    fi
    BENCH_PID=""
    note_daemon_children "$DAEMON_PID"
    stop_pid "$DAEMON_PID" orchestratord; DAEMON_PID=""
    left=$(sweep_pids)
    [ "$left" != 0 ] && log "cleanup: killed $left leftover job(s)"
    stop_pid "$DBUS_PID" dbus-daemon; DBUS_PID=""
    remove_cgroup_tree "$CGROOT"
    rm -rf "$TMP"
}
on_exit() {
    local rc=$?
    cleanup
    exit "$rc"
}
trap on_exit EXIT
trap 'log interrupted; exit 130' INT HUP
trap 'log terminated; exit 143' TERM

# ------------------------------------------------------------------ bench binary
BENCH="$BUILD_DIR/tests/bench/bench-sample"
if [ ! -x "$BENCH" ] || [ "$SRC_DIR/bench-sample.c" -nt "$BENCH" ]; then
    BENCH="$TMP/bench-sample"
    log "building $BENCH from $SRC_DIR/bench-sample.c"
    # shellcheck disable=SC2046
    gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$BENCH" "$SRC_DIR/bench-sample.c" \
        $(pkg-config --cflags --libs libsystemd glib-2.0) -lm >&2 || { log "cannot build bench-sample"; exit 1; }
fi

# ------------------------------------------------------------------ psutil peer
# argv: PIDS_FILE WINDOWS TICKS INTERVAL_MS.  Per tick, for every pid:
# cpu_percent(), memory_info(), io_counters(), Process objects kept across
# ticks; paced to the daemon's interval.  CPU: time.process_time() (this
# process, user+system, ns clock) over each window / ticks.
PEER="$TMP/peer-psutil.py"
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
PEER_ARGS=(--peer="$PEER" --peer-python="$PYTHON" --peer-pids="$TMP/peer-pids" --peer-out="$TMP/peer-out")
if ! "$PYTHON" -c 'import psutil' 2>/dev/null; then
    log "python3-psutil is not installed (apt-get install python3-psutil): no peer figures"
    PEER_ARGS=()
fi

# ------------------------------------------------------------------ private bus
# ------------------------------------------------------------------ one backend
# bench_backend NAME OUTFILE [orchestratord args...] -> JSON object in OUTFILE.
# Runs in the main shell (not in $(...)) so the EXIT trap knows the pids.
bench_backend() {
    local name=$1 result=$2; shift 2
    local dir="$TMP/$name" out rc warn left
    mkdir -p "$dir/log" "$dir/state"
    cat > "$dir/orchestratord.conf" <<EOF
[jobs]
max_concurrent=$((TOP + 100))
[metrics]
sample_interval_ms=$INTERVAL_MS
job_history_size=300
job_history_coarse_size=288
EOF
    "$DAEMON" --bus-address="$BUS_ADDR" --config="$dir/orchestratord.conf" \
        --log-dir="$dir/log" --state-dir="$dir/state" "$@" \
        </dev/null >"$dir/daemon.log" 2>&1 &
    DAEMON_PID=$!
    for _ in $(seq 100); do
        kill -0 "$DAEMON_PID" 2>/dev/null || break
        busctl --address="$BUS_ADDR" get-property org.orchestrator /org/orchestrator \
            org.orchestrator.Jobs Backend >/dev/null 2>&1 && break
        sleep 0.05
    done
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
        log "orchestratord ($name) did not start:"; sed 's/^/  /' "$dir/daemon.log" >&2
        wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""
        printf '{"error":%s}' "$(json_str "daemon did not start: $(tail -n 1 "$dir/daemon.log")")" > "$result"
        return 1
    fi
    log "$name: orchestratord pid $DAEMON_PID, levels $LEVELS, tick ${INTERVAL_MS} ms"

    # In the background and waited for, so a signal reaches our trap at once.
    "$BENCH" --address="$BUS_ADDR" --daemon-pid="$DAEMON_PID" --levels="$LEVELS" \
        --windows="$WINDOWS" --window-ticks="$WINDOW_TICKS" --fill-ticks="$FILL_TICKS" \
        --interval-ms="$INTERVAL_MS" --pids-file="$PIDS_FILE" "${PEER_ARGS[@]}" \
        </dev/null >"$dir/bench.json" 2>"$dir/bench.err" &
    BENCH_PID=$!
    wait "$BENCH_PID"
    rc=$?
    BENCH_PID=""
    out=$(cat "$dir/bench.json")
    sed 's/^/  /' "$dir/bench.err" >&2

    # Every job pid must be gone now (stopped through the API).
    note_daemon_children "$DAEMON_PID"
    left=$(sweep_pids)
    [ "$left" != 0 ] && log "$name: $left job process(es) survived Stop; killed them"
    stop_pid "$DAEMON_PID" orchestratord; DAEMON_PID=""
    warn=$(grep -c -E 'WARNING|CRITICAL|ERROR' "$dir/daemon.log")
    if [ "$warn" != 0 ]; then
        log "$name: $warn warning line(s) from orchestratord, first ones:"
        grep -E 'WARNING|CRITICAL|ERROR' "$dir/daemon.log" | head -n 5 | sed 's/^/  /' >&2
    fi
    [ -n "$out" ] || out='{"error":"bench-sample printed nothing"}'
    printf '%s,"leftover_jobs":%s,"daemon_warnings":%s,"bench_exit":%s}' \
        "${out%\}}" "$left" "$warn" "$rc" > "$result"
    [ "$rc" = 0 ] && [ "$left" = 0 ]
}

BUDGET='{"cpu_ms_per_tick_1000":10,"ratio_vs_psutil":10,"rss_growth_mb_1000":40,"design_md":{"sample_200_ms":2,"sample_1000_ms":12,"psutil_200_ms":13.7,"psutil_1000_ms":72,"system_figures_us":50}}'
METHOD="levels $LEVELS jobs of 'sleep 600' created in turn in one daemon per backend; daemon [metrics] sample_interval_ms=$INTERVAL_MS; per level $WINDOWS windows of $WINDOW_TICKS ticks (a tick = one SystemSampled signal), daemon CPU = schedstat delta of all its threads / ticks, median of windows; psutil peer: same pids, same cadence, time.process_time() delta / ticks, median of $WINDOWS windows; ratio = psutil / daemon; RSS = VmRSS, growth = after $FILL_TICKS ticks with $TOP jobs (fine rings full) minus before any job"

# ------------------------------------------------------------------ run
SECONDS=0
start_bus
log "private bus $BUS_ADDR (dbus-daemon pid $DBUS_PID)"
status=0
echo null > "$TMP/res-none.json"
echo null > "$TMP/res-cgroupfs.json"
case "$BACKENDS" in *" none "*)
    bench_backend none "$TMP/res-none.json" --backend=none || status=1 ;;
esac

CG2=$(cgroup2_mount)
if [ "${BACKENDS/ cgroupfs /}" = "$BACKENDS" ]; then
    :
elif [ -n "$CG2" ] && [ -w "$CG2/cgroup.procs" ]; then
    CGROOT="$CG2/orch-bench-sample-$$"
    bench_backend cgroupfs "$TMP/res-cgroupfs.json" --backend=cgroupfs --cgroup-root="$CGROOT" || status=1
    remove_cgroup_tree "$CGROOT" || status=1
else
    log "no writable cgroup2 hierarchy: skipping cgroupfs"
    echo '{"skipped":"no writable cgroup2 hierarchy"}' > "$TMP/res-cgroupfs.json"
fi
# The system figures alone, in process (docs/ARCHITECTURE.md: <= 50 us per sample).
SYSTEM=null
if [ -x "$BUILD_DIR/tests/bench/bench-tick" ]; then
    SYSTEM=$("$BUILD_DIR/tests/bench/bench-tick" --interval-ms="$INTERVAL_MS" 2>/dev/null) || SYSTEM=null
    [ -n "$SYSTEM" ] || SYSTEM=null
fi
res_none=$(cat "$TMP/res-none.json" 2>/dev/null || echo null)
res_cg=$(cat "$TMP/res-cgroupfs.json" 2>/dev/null || echo null)

daemon_json() {
    local bid rev
    bid=$(readelf -n "$DAEMON" 2>/dev/null | sed -n 's/^[[:space:]]*Build ID: //p')
    rev=$(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null)
    printf '{"path":%s,"build_id":%s,"source":%s}' "$(json_str "$DAEMON")" \
        "$(json_str "${bid:-unknown}")" "$(json_str "${rev:-unknown}")"
}
printf '{"machine":%s,"daemon":%s,"method":%s,"elapsed_s":%s,"backends":{"none":%s,"cgroupfs":%s},"system_figures":%s,"budget":%s}\n' \
    "$(machine_json)" "$(daemon_json)" "$(json_str "$METHOD")" "$SECONDS" "$res_none" "$res_cg" "$SYSTEM" "$BUDGET"
exit $status
