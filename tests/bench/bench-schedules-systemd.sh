#!/bin/bash
# The scheduler against its peer, systemd's transient timers
# (`systemd-run --on-calendar`), in one throwaway systemd container.  Not a
# test.  Prints one JSON object on stdout; progress goes to stderr.
#
#   tests/bench/bench-schedules-systemd.sh BUILD_DIR
#
# Environment: BENCH_PROFILE=1 adds a perf profile of each of
# orchestratord's windows (stderr).  BENCH_COUNT (20) schedules firing every BENCH_PERIOD_S (5,
# a divisor of 60) seconds, over windows of BENCH_SLOTS (3) periods,
# BENCH_RUNS (3) runs; BENCH_MEM_COUNT (200, 0 = skip; the issue asks 1000) schedules that never
# fire in the window, created once, for the memory per schedule.
#
# Each run, on each side in turn:
#   orchestratord: --backend=systemd, a transient service of the container's
#     systemd; COUNT schedules `calendar *:*:0/PERIOD` over D-Bus;
#   systemd: COUNT `systemd-run --on-calendar=*:*:0/PERIOD` transient timers
#     with AccuracySec=1ms (the default, 1 min, lets systemd fire up to a
#     minute late to coalesce wake-ups);
# both running the same command, `sh -c 'date +%s%N >> FILE'`.  Lateness is
# that stamp less the calendar time it belongs to (the stamp's PERIOD
# boundary), so it covers the whole way from the elapse to a started
# command.  CPU per fire is the on-CPU time (schedstat, all threads) of
# orchestratord, PID 1, dbus-daemon and journald over a window starting in
# the middle of a period and SLOTS periods long, divided by the fires seen in
# it.  Memory per schedule: VmRSS of orchestratord (our side) and of PID 1
# (systemd's side) before and after creating them.
#
# Figures are medians over the runs.  The container is powered off and its
# cgroups removed at the end, pass or fail (bench-container.sh).

set -uo pipefail
SRC_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/bench-lib.sh
. "$SRC_DIR/bench-lib.sh" bench-schedules-systemd "${1:-}"
# shellcheck source=tests/bench/bench-container.sh
. "$SRC_DIR/bench-container.sh"

COUNT=${BENCH_COUNT:-20}
PERIOD=${BENCH_PERIOD_S:-5}
SLOTS=${BENCH_SLOTS:-3}
RUNS=${BENCH_RUNS:-3}
MEM_COUNT=${BENCH_MEM_COUNT:-200}
[ $((60 % PERIOD)) = 0 ] || fail "BENCH_PERIOD_S must divide 60"
CAL="*:*:0/$PERIOD"
NEVER="*-01-01 03:00:00"    # not due while we measure
B="busctl --system"

# The pids to account, inside the container: orchestratord pid1 dbus journald.
PIDS_IN=""
# cpu_snapshot: "ns ns ns ns" on-CPU time of PIDS_IN.
cpu_snapshot() {
    # shellcheck disable=SC2016
    cexec sh -c 'for p in '"$PIDS_IN"'; do
        t=0; for f in /proc/$p/task/*/schedstat; do read -r ns _ < "$f"; t=$((t + ns)); done
        printf "%s " $t; done'
}
# shellcheck disable=SC2016
rss_kib() { cexec sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }

# wait_mid_period: sleeps until half a period past a calendar boundary.
wait_mid_period() {
    local now_ms half=$((PERIOD * 500)) p=$((PERIOD * 1000)) wait_ms
    now_ms=$(( $(date +%s%N) / 1000000 ))
    wait_ms=$(( (half - now_ms % p + p) % p ))
    [ "$wait_ms" -lt 200 ] && wait_ms=$((wait_ms + p))
    sleep "$(printf '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000)))"
}

# host_pid: orchestratord's pid as the host sees it (for perf).
host_pid() {
    local p ns
    ns=$(readlink "/proc/$CPID/ns/pid")
    for p in $(pgrep -x orchestratord); do
        [ "$(readlink "/proc/$p/ns/pid")" = "$ns" ] &&
            [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$p/status")" = "$DPID" ] && { echo "$p"; return; }
    done
}

# measure SIDE: one window; appends a JSON line to $T/runs.  With
# BENCH_PROFILE=1, orchestratord's window is also recorded by perf and
# the top of its report goes to stderr.
measure() {
    local side=$1 c0 c1 t0 t1 perf_pid=""
    wait_mid_period
    c0=$(cpu_snapshot); t0=$(date +%s%N)
    if [ "${BENCH_PROFILE:-0}" = 1 ] && [ "$side" = orchestratord ]; then
        perf record -q -g -o "$T/perf.data" -p "$(host_pid)" -- sleep $((SLOTS * PERIOD)) 2>/dev/null &
        perf_pid=$!
    fi
    sleep $((SLOTS * PERIOD))
    c1=$(cpu_snapshot); t1=$(date +%s%N)
    if [ -n "$perf_pid" ]; then
        wait "$perf_pid"
        perf report -i "$T/perf.data" --comm orchestratord --children --sort sym --stdio \
            --percent-limit 4 -g none 2>/dev/null | grep -v '^#' | grep . | head -n 40 >&2
    fi
    cexec cat "$SCRATCH/stamps-$side" > "$T/stamps-$side" 2>/dev/null
    "$PY" - "$side" "$c0" "$c1" "$t0" "$t1" "$PERIOD" "$COUNT" "$SLOTS" "$T/stamps-$side" \
        "$RSS_BEFORE" "$RSS_AFTER" "$RSS_PID1_BEFORE" "$RSS_PID1_AFTER" "$CREATE_MS" >> "$T/runs" <<'PY'
import json, sys
side, c0, c1, t0, t1, period, count, slots, path = sys.argv[1:10]
rss = [int(x) for x in sys.argv[10:14]]
create_ms = float(sys.argv[14])
t0, t1, period, count, slots = int(t0), int(t1), int(period), int(count), int(slots)
names = ["orchestratord", "pid1", "dbus", "journald"]
cpu = {n: (int(b) - int(a)) / 1e6 for n, a, b in zip(names, c0.split(), c1.split())}
stamps = [int(l) for l in open(path) if l.strip()]
p = period * 10**9
late = sorted((s - (s // p) * p) / 1e6 for s in stamps if t0 <= s <= t1)
fires = len(late)
def pct(q):
    return round(late[min(len(late) - 1, int(q * len(late)))], 3) if late else None
own = rss[1] - rss[0] if side == "orchestratord" else rss[3] - rss[2]
print(json.dumps({
    "side": side, "fires": fires, "expected_fires": count * slots,
    "late_min_ms": pct(0), "late_p50_ms": pct(0.5), "late_p95_ms": pct(0.95), "late_max_ms": pct(1.0),
    "cpu_ms_per_fire": {n: round(v / fires, 3) if fires else None for n, v in cpu.items()},
    "cpu_ms_per_fire_total": round(sum(cpu.values()) / fires, 3) if fires else None,
    "rss_kib_per_schedule": round(own / count, 2),
    "create_ms_per_schedule": round(create_ms / count, 3),
}))
PY
}

# create_orch N CAL NAMEPREFIX STAMPFILE: N schedules, ms taken in CREATE_MS.
create_orch() {
    local t0
    t0=$(date +%s%N)
    CEXEC_TIMEOUT=600 cexec sh -c "i=0; while [ \$i -lt $1 ]; do i=\$((i+1));
        $B -- call org.orchestrator /org/orchestrator org.orchestrator.Schedules Create 'a{sv}' 3 \
            name s $3-\$i calendar s '$2' \
            job 'a{sv}' 1 command as 3 /bin/sh -c 'date +%s%N >> $4' >/dev/null || exit 1
        done" || fail "Schedules.Create failed"
    CREATE_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}
remove_orch() {
    # shellcheck disable=SC2016
    cexec sh -c "$B --json=short -- call org.orchestrator /org/orchestrator org.orchestrator.Schedules \
        List 'a{sv}' 0 | grep -o '\"id\":{\"type\":\"s\",\"data\":\"[^\"]*' | sed 's/.*\"//' |
        while read -r id; do $B -- call org.orchestrator /org/orchestrator \
            org.orchestrator.Schedules Remove s \"\$id\" >/dev/null || exit 1; done" ||
        fail "Schedules.Remove failed"
}
create_sysd() {
    local t0
    t0=$(date +%s%N)
    CEXEC_TIMEOUT=600 cexec sh -c "i=0; while [ \$i -lt $1 ]; do i=\$((i+1));
        systemd-run --quiet --unit=$3-\$i --on-calendar='$2' --timer-property=AccuracySec=1ms \
            -- /bin/sh -c 'date +%s%N >> $4' || exit 1
        done" || fail "systemd-run --on-calendar failed"
    CREATE_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}
remove_sysd() {
    CEXEC_TIMEOUT=300 cexec sh -c "systemctl stop '$1-*.timer' '$1-*.service'; systemctl reset-failed '$1-*' 2>/dev/null; true"
}

container_boot
container_bus_policy
daemon_in=$(container_binary "$DAEMON") || exit 1
# The sampler every hour, so that its own work is not counted as the
# scheduler's (as bench-schedules.sh).
cexec sh -c "printf '[jobs]\nmax_concurrent=1000\n[metrics]\nsample_interval_ms=3600000\n' > $SCRATCH/orchestratord.conf"
cexec systemd-run --unit=orch-bench-daemon --service-type=notify --quiet -- \
    "$daemon_in" --system --backend=systemd --config="$SCRATCH/orchestratord.conf" \
    --log-dir="$SCRATCH/log" --state-dir="$SCRATCH/state" || {
    cexec journalctl -u orch-bench-daemon --no-pager -n 30 >&2; exit 1; }
DPID=$(cexec systemctl show -p MainPID --value orch-bench-daemon)
PIDS_IN="$DPID 1 $(cexec systemctl show -p MainPID --value dbus.service) $(cexec systemctl show -p MainPID --value systemd-journald.service)"
log "orchestratord, pid1, dbus, journald: $PIDS_IN (container pids)"
: > "$T/runs"

for run in $(seq "$RUNS"); do
    log "run $run/$RUNS: orchestratord, $COUNT schedules '$CAL'"
    RSS_PID1_BEFORE=$(rss_kib 1); RSS_BEFORE=$(rss_kib "$DPID")
    create_orch "$COUNT" "$CAL" "bench" "$SCRATCH/stamps-orchestratord"
    RSS_PID1_AFTER=$(rss_kib 1); RSS_AFTER=$(rss_kib "$DPID")
    measure orchestratord
    remove_orch
    log "run $run/$RUNS: systemd, $COUNT transient timers '$CAL'"
    RSS_PID1_BEFORE=$(rss_kib 1); RSS_BEFORE=$(rss_kib "$DPID")
    create_sysd "$COUNT" "$CAL" "benchtimer$run" "$SCRATCH/stamps-systemd"
    RSS_PID1_AFTER=$(rss_kib 1); RSS_AFTER=$(rss_kib "$DPID")
    measure systemd
    remove_sysd "benchtimer$run"
done

MEM=null
if [ "$MEM_COUNT" -gt 0 ]; then
    log "memory: $MEM_COUNT schedules '$NEVER' on each side"
    r0=$(rss_kib "$DPID"); create_orch "$MEM_COUNT" "$NEVER" "mem" /dev/null; r1=$(rss_kib "$DPID")
    orch_ms=$CREATE_MS
    remove_orch
    p0=$(rss_kib 1); create_sysd "$MEM_COUNT" "$NEVER" "memtimer" /dev/null; p1=$(rss_kib 1)
    sysd_ms=$CREATE_MS
    remove_sysd memtimer
    MEM=$("$PY" -c 'import json,sys; n,r0,r1,p0,p1,a,b=map(int,sys.argv[1:]); print(json.dumps({"schedules":n,
        "orchestratord_rss_kib_per_schedule":round((r1-r0)/n,3),"pid1_rss_kib_per_timer":round((p1-p0)/n,3),
        "orchestratord_create_ms_per_schedule":round(a/n,3),"systemd_run_ms_per_timer":round(b/n,3)}))' \
        "$MEM_COUNT" "$r0" "$r1" "$p0" "$p1" "$orch_ms" "$sysd_ms")
fi

warn=$(cexec journalctl -u orch-bench-daemon --no-pager -o cat -p warning 2>/dev/null | grep -c .)
left=$(cexec systemctl list-units --all --no-legend --plain 'benchtimer*' 'memtimer*' 'orchestrator-*.scope' 2>/dev/null | grep -c .)
cexec systemctl stop orch-bench-daemon

# shellcheck disable=SC2119
"$PY" - "$T/runs" "$(bench_machine_json)" "$MEM" "$COUNT" "$PERIOD" "$SLOTS" "$RUNS" "${warn:-null}" "${left:-null}" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
machine, mem = json.loads(sys.argv[2]), json.loads(sys.argv[3])
count, period, slots, nruns = map(int, sys.argv[4:8])
def med(vals):
    vals = [v for v in vals if v is not None]
    return round(statistics.median(vals), 3) if vals else None
def agg(side):
    rs = [r for r in runs if r["side"] == side]
    out = {k: med([r[k] for r in rs]) for k in rs[0] if k not in ("side", "cpu_ms_per_fire")}
    out["cpu_ms_per_fire"] = {k: med([r["cpu_ms_per_fire"][k] for r in rs]) for k in rs[0]["cpu_ms_per_fire"]}
    out["runs"] = rs
    return out
print(json.dumps({
    "benchmark": "schedules-systemd", "machine": machine,
    "where": "systemd-nspawn --volatile=yes -D / container; orchestratord --system --backend=systemd as a transient service",
    "schedules": count, "calendar": "*:*:0/%d" % period, "window_s": slots * period, "runs": nruns,
    "aggregate": "median over the runs; lateness percentiles per run",
    "orchestratord": agg("orchestratord"),
    "systemd_run_on_calendar": agg("systemd"),
    "memory": mem,
    "daemon_warnings": int(sys.argv[8]) if sys.argv[8] != "null" else None,
    "leftover_units": int(sys.argv[9]) if sys.argv[9] != "null" else None,
}))
PY
