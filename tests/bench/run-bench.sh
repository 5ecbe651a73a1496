#!/bin/bash
# Launch benchmark driver (docs/ARCHITECTURE.md, "Performance budgets").  Not a test.
#
#   tests/bench/run-bench.sh BUILD_DIR              none + cgroupfs backends
#   tests/bench/run-bench.sh --systemd BUILD_DIR    systemd backend in a
#                                                   throwaway nspawn container,
#                                                   and systemd-run --scope
#   tests/bench/run-bench.sh --state BUILD_DIR      the cost of durable state:
#                                                   launches with and without
#                                                   it, reconciling 1000 jobs at
#                                                   start, orchestrator-monitor's
#                                                   memory (BENCH_RECONCILE_JOBS)
#
# Prints one JSON document on stdout; progress and diagnostics go to stderr.
# Environment: BENCH_JOBS (200), BENCH_RUNS (3), BENCH_LIST_CALLS (20),
# BENCH_PEER (1: none + cgroupfs are followed by the same launches through
# supervisord, tests/bench/peer/supervisord_launch.py).
#
# Each backend gets its own private dbus-daemon and orchestratord; every job
# is stopped through the API, and at the end every pid the daemon reported is
# checked to be gone.  Everything started here is cleaned up on any exit.
#
# SAFETY (--systemd): never --bind /tmp, /var/tmp or anything under them into
# the container: its tmpfiles "D /tmp" rule empties a bound folder.  Only
# BUILD_DIR is bound (read-only), and only when it is not under such a place.

set -uo pipefail

SYSTEMD_MODE=0
STATE_MODE=0
if [ "${1:-}" = --systemd ]; then SYSTEMD_MODE=1; shift; fi
if [ "${1:-}" = --state ]; then STATE_MODE=1; shift; fi
if [ $# -ne 1 ]; then
    echo "usage: $0 [--systemd|--state] BUILD_DIR" >&2
    exit 2
fi

SRC_DIR=$(cd "$(dirname "$0")" && pwd)
JOBS=${BENCH_JOBS:-200}
RUNS=${BENCH_RUNS:-3}
LIST_CALLS=${BENCH_LIST_CALLS:-20}
# shellcheck source=tests/bench/bench-lib.sh
. "$SRC_DIR/bench-lib.sh" run-bench "$1"

# ------------------------------------------------------------------ helpers
machine_json() {
    bench_machine_json ",\"pid1\":$(lib_json_str "$(cat /proc/1/comm 2>/dev/null)")"
}

bench_binary bench-launch

# ------------------------------------------------------------------ one backend
# bench_backend NAME OUTFILE [orchestratord args...] -> JSON object in OUTFILE.
# Runs in the main shell (not in $(...)) so the cleanup knows DAEMON_PID.
bench_backend() {
    local name=$1 result=$2; shift 2
    bench_daemon_start "$name" "$result" "[jobs]
max_concurrent=$((JOBS + 50))
${EXTRA_CONF:-}" "$@" || return 1
    log "$name: orchestratord pid $DAEMON_PID, $RUNS runs of $JOBS jobs"
    bench_run "$name" --address="$BUS_ADDR" --daemon-pid="$DAEMON_PID" --jobs="$JOBS" \
        --runs="$RUNS" --list-calls="$LIST_CALLS" --pids-file="$PIDS_FILE"
    bench_daemon_finish "$name" "$result"
}

BUDGET='{"create_to_exec_p50_ms":{"none":2,"cgroupfs":2,"systemd":3},"daemon_rss_mb":10,"list_ms":7,"daemon_cpu_per_launch_ms":0.5,"stop_total_s":0.8,"design_md":{"launch_total_s":0.6,"create_to_exec_p50_ms":3.2,"create_to_exec_p95_ms":5}}'

# ------------------------------------------------------------------ --systemd
# shellcheck source=tests/bench/bench-container.sh
. "$SRC_DIR/bench-container.sh"

run_systemd_mode() {
    local bench_in daemon_in out peer rc=0
    container_boot
    daemon_in=$(container_binary "$DAEMON") || exit 1
    bench_in=$(container_binary "$BENCH") || exit 1
    container_bus_policy
    cexec sh -c "printf '[jobs]\nmax_concurrent=$((JOBS + 50))\n' > $SCRATCH/orchestratord.conf"

    # The daemon as a transient service of the container's systemd, so it
    # runs in its own cgroup like the real unit would.
    cexec systemd-run --unit=orch-bench-daemon --service-type=notify --quiet -- \
        "$daemon_in" --system --backend=systemd --config="$SCRATCH/orchestratord.conf" \
        --log-dir="$SCRATCH/log" --state-dir="$SCRATCH/state" || {
        cexec journalctl -u orch-bench-daemon --no-pager -n 30 >&2; exit 1; }
    local dpid
    dpid=$(cexec systemctl show -p MainPID --value orch-bench-daemon)
    log "systemd: orchestratord pid $dpid (container pid namespace), $RUNS runs of $JOBS jobs"
    out=$(CEXEC_TIMEOUT=600 cexec "$bench_in" --system --daemon-pid="$dpid" --jobs="$JOBS" \
          --runs="$RUNS" --list-calls="$LIST_CALLS" --pids-file="$SCRATCH/pids" 2>"$T/bench-systemd.err")
    rc=$?
    sed 's/^/  /' "$T/bench-systemd.err" >&2
    # Any `sleep 600` left in the container?  (pids are the container's)
    left=$(cexec sh -c "n=0; for p in \$(sort -un $SCRATCH/pids); do
             [ \"\$(tr '\\0' ' ' < /proc/\$p/cmdline)\" = 'sleep 600 ' ] && { n=\$((n+1)); kill -KILL \$p; }
           done 2>/dev/null; echo \$n")
    local scopes
    scopes=$(cexec systemctl list-units --all --no-legend --plain 'orchestrator-*.scope' 2>/dev/null | wc -l)
    warn=$(cexec journalctl -u orch-bench-daemon --no-pager -o cat -p warning 2>/dev/null | grep -c .)
    if [ "$warn" != 0 ]; then
        log "systemd: $warn warning line(s) from orchestratord, first ones:"
        cexec journalctl -u orch-bench-daemon --no-pager -o cat -p warning | head -n 5 | sed 's/^/  /' >&2
    fi
    cexec systemctl stop orch-bench-daemon
    [ -n "$out" ] || out='{"error":"bench-launch printed nothing"}'
    out=$(printf '%s,"leftover_jobs":%s,"leftover_scopes":%s,"daemon_warnings":%s,"bench_exit":%s}' \
        "${out%\}}" "${left:-null}" "${scopes:-null}" "${warn:-null}" "$rc")

    log "peer: $RUNS x $JOBS sequential 'systemd-run --scope -- true'"
    peer=$(CEXEC_TIMEOUT=900 cexec "$bench_in" --systemd-run --jobs="$JOBS" --runs="$RUNS" 2>"$T/peer.err")
    sed 's/^/  /' "$T/peer.err" >&2
    [ -n "$peer" ] || peer='{"error":"no output"}'

    # The floor: what PID 1 takes for the same launch asked by a bare C
    # client on one connection (issue 15: ours within 0.5 ms of it).
    local raw_in raw
    raw_in=$(container_binary "$BUILD_DIR/tests/bench/bench-systemd-raw") || exit 1
    log "floor: $RUNS x $JOBS raw StartTransientUnit -> JobRemoved"
    raw=$(CEXEC_TIMEOUT=900 cexec "$raw_in" --jobs="$JOBS" --runs="$RUNS" 2>"$T/raw.err")
    sed 's/^/  /' "$T/raw.err" >&2
    [ -n "$raw" ] || raw='{"error":"no output"}'

    printf '{"machine":%s,"jobs":%s,"runs":%s,"aggregate":"each figure is the median over the runs; percentiles are per run of %s jobs","where":"systemd-nspawn --volatile=yes -D / container, daemon --system --backend=systemd as a transient service","backends":{"systemd":%s},"peer":{"systemd_run_scope":%s,"raw_start_transient_unit":%s},"budget":%s}\n' \
        "$(machine_json)" "$JOBS" "$RUNS" "$JOBS" "$out" "$peer" "$raw" "$BUDGET"
    [ "$rc" = 0 ] && [ "${left:-1}" = 0 ]
}

if [ "$SYSTEMD_MODE" = 1 ]; then
    run_systemd_mode
    exit $?
fi

# ------------------------------------------------------------------ --state
# The median of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "null"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# start_daemon DIR: orchestratord (none backend, durable) on the bench bus
# with DIR's log/state; waits until it serves; sets START_MS, from exec to
# serving.  Not in $(...): DAEMON_PID must reach the cleanup.
start_daemon() {
    local dir=$1 t0 t1
    t0=$(date +%s%N)
    LIB_DAEMON_CONFIG="$dir/orchestratord.conf" LIB_DAEMON_LOG="$dir/daemon.log" LIB_DAEMON_POLL_MS=5 \
        lib_spawn_daemon --backend=none --log-dir="$dir/log" --state-dir="$dir/state" ||
        { log "$LIB_ERROR"; return 1; }
    t1=$(date +%s%N)
    START_MS=$(( (t1 - t0) / 1000000 ))
}

# Jobs' ids, one a line, from List.
list_ids() {
    busctl --address="$BUS_ADDR" --json=short call org.orchestrator /org/orchestrator \
        org.orchestrator.Jobs List 'a{sv}' 0 |
        "$PY" -c 'import json,sys; [print(r["id"]["data"]) for r in json.load(sys.stdin)["data"][0]]'
}

# ratio KEY A B: A's KEY over B's (found at any depth of the JSON objects).
ratio() {
    "$PY" - "$@" <<'PY' 2>/dev/null || echo null
import json, sys
def find(o, k):
    if isinstance(o, dict):
        if k in o and isinstance(o[k], (int, float)):
            return o[k]
        for v in o.values():
            r = find(v, k)
            if r is not None:
                return r
    return None
k, a, b = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(round(find(a, k) / find(b, k), 3))
PY
}

run_state_mode() {
    local n=${BENCH_RECONCILE_JOBS:-1000} dir="$T/reconcile" i id pid mon pss ms_empty ms_full ms_in
    local durable memory pss_med pss_max ratio_rate ratio_p50 running
    lib_start_bus
    log "private bus $BUS_ADDR (dbus-daemon pid $BUS_PID)"
    EXTRA_CONF=$'[state]\ndurable=true' bench_backend durable "$T/res-durable.json" --backend=none || return 1
    EXTRA_CONF=$'[state]\ndurable=false' bench_backend memory "$T/res-memory.json" --backend=none || return 1
    durable=$(cat "$T/res-durable.json"); memory=$(cat "$T/res-memory.json")

    mkdir -p "$dir/log" "$dir/state"
    printf '[jobs]\nmax_concurrent=%s\n' $((n + 10)) > "$dir/orchestratord.conf"
    start_daemon "$dir" || return 1
    ms_empty=$START_MS
    log "reconcile: creating $n sleep 600 jobs"
    for i in $(seq "$n"); do
        busctl --address="$BUS_ADDR" call org.orchestrator /org/orchestrator org.orchestrator.Jobs \
            Create 'a{sv}' 1 command as 2 sleep 600 >/dev/null || { log "Create $i failed"; return 1; }
    done
    sleep 1
    # orchestrator-monitor's own memory: PSS of each job's parent
    : > "$T/pss"
    for pid in $(busctl --address="$BUS_ADDR" --json=short call org.orchestrator /org/orchestrator \
                 org.orchestrator.Jobs List 'a{sv}' 0 |
                 "$PY" -c 'import json,sys; [print(r["pid"]["data"]) for r in json.load(sys.stdin)["data"][0]]'); do
        echo "$pid $(proc_start "$pid")" >> "$PIDS_FILE"
        mon=$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null)
        [ -n "$mon" ] && awk '/^Pss:/ { print $2 }' "/proc/$mon/smaps_rollup" >> "$T/pss" 2>/dev/null
    done
    pss_med=$(median < "$T/pss"); pss_max=$(sort -n "$T/pss" | tail -n 1)
    log "SIGKILL the daemon with $n jobs running, then start it again"
    kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=""
    while busctl --address="$BUS_ADDR" status org.orchestrator >/dev/null 2>&1; do sleep 0.01; done
    start_daemon "$dir" || return 1
    ms_full=$START_MS
    ms_in=$(sed -n 's/.*found in the state database, reconciled in \([0-9.]*\) ms.*/\1/p' "$dir/daemon.log" | tail -n 1)
    running=$(busctl --address="$BUS_ADDR" call org.orchestrator /org/orchestrator org.orchestrator.Jobs \
              List 'a{sv}' 1 state s running | awk '{ print $2 }')
    log "stopping the $n jobs through the API"
    for id in $(list_ids); do
        busctl --address="$BUS_ADDR" call org.orchestrator /org/orchestrator org.orchestrator.Jobs \
            Stop 'sa{sv}' "$id" 0 >/dev/null 2>&1
    done
    left=$(sweep_pids)
    lib_stop_pid "$DAEMON_PID" orchestratord; DAEMON_PID=""

    ratio_rate=$(ratio jobs_per_s "$memory" "$durable")
    ratio_p50=$(ratio create_to_exec_p50_ms "$durable" "$memory")
    printf '{"machine":%s,"jobs":%s,"runs":%s,"backend":"none","launch":{"durable":%s,"memory_only":%s,"durability_cost":{"throughput_ratio":%s,"p50_ratio":%s,"goal":"under 2x"}},"reconcile":{"jobs":%s,"running_after":%s,"in_daemon_ms":%s,"start_to_serving_ms":%s,"start_to_serving_empty_ms":%s,"goal_ms":1000,"leftover_jobs":%s},"monitor_pss_kib":{"median":%s,"max":%s,"goal":256}}\n' \
        "$(machine_json)" "$JOBS" "$RUNS" "$durable" "$memory" "$ratio_rate" "$ratio_p50" "$n" "${running:-null}" \
        "${ms_in:-null}" "$ms_full" "$ms_empty" "$left" "${pss_med:-null}" "${pss_max:-null}"
}

if [ "$STATE_MODE" = 1 ]; then
    run_state_mode
    exit $?
fi

# ------------------------------------------------------------------ none, cgroupfs
lib_start_bus
log "private bus $BUS_ADDR (dbus-daemon pid $BUS_PID)"
status=0
bench_backend none "$T/res-none.json" --backend=none || status=1

bench_cgroupfs "orch-bench-$$" || status=1
res_none=$(cat "$T/res-none.json" 2>/dev/null || echo null)
res_cg=$(cat "$T/res-cgroupfs.json" 2>/dev/null || echo null)
load1=$(cut -d' ' -f1 /proc/loadavg)

# The peer in the same run: supervisord starting as many `sleep 600`, one
# after the other (BENCH_PEER=0 leaves it out).
peer=null
if [ "${BENCH_PEER:-1}" != 0 ]; then
    if command -v supervisord >/dev/null; then
        log "peer: $RUNS x $JOBS sequential supervisord startProcess(wait=True)"
        peer=$("$PY" "$SRC_DIR/peer/supervisord_launch.py" --jobs="$JOBS" --runs="$RUNS" --dir="$T") || status=1
        [ -n "$peer" ] || peer='{"error":"no output"}'
    else
        log "peer: no supervisord (tools/install-deps.sh installs it)"
        peer='{"error":"supervisord not installed"}'
    fi
fi
# ours over the peer's: how many times faster (wall) and cheaper (CPU).
vs_peer=$("$PY" - "$res_none" "$res_cg" "$peer" <<'PY' 2>/dev/null || echo null
import json, sys
peer = json.loads(sys.argv[3]) or {}
out = {}
for name, doc in (("none", sys.argv[1]), ("cgroupfs", sys.argv[2])):
    b = json.loads(doc) or {}
    try:
        out[name] = {
            "launch_speedup": round(peer["launch_total_s"] / b["launch_total_s"], 2),
            "cpu_ratio_daemon": round(peer["cpu_per_launch_ms"] / b["daemon_cpu_per_launch_ms_schedstat"], 2),
            "cpu_ratio_daemon_monitor": round(peer["cpu_per_launch_ms"] / (b["daemon_cpu_per_launch_ms_schedstat"] + b["monitor_cpu_per_launch_ms"]), 2)}
    except (KeyError, TypeError, ZeroDivisionError):
        out[name] = None
print(json.dumps(out))
PY
)

printf '{"machine":%s,"jobs":%s,"runs":%s,"aggregate":"each figure is the median over the runs; percentiles are per run of %s jobs","backends":{"none":%s,"cgroupfs":%s},"peer":{"supervisord":%s},"vs_supervisord":%s,"load1":%s,"budget":%s}\n' \
    "$(machine_json)" "$JOBS" "$RUNS" "$JOBS" "$res_none" "$res_cg" "$peer" "$vs_peer" "$load1" "$BUDGET"
exit $status
