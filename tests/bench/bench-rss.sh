#!/bin/bash
# The daemon's RSS, measured (not a test):
#
#   tests/bench/bench-rss.sh BUILD_DIR              200 jobs, full history
#   tests/bench/bench-rss.sh --soak BUILD_DIR       the soak's climb, by
#                                                   SQLite page cache size
#
# Full history: orchestratord (none backend, default [metrics]: 1 s
# samples, jobs 300 fine + 288 buckets of 300 s, system 3 600 fine +
# 1 440 buckets of 60 s, i.e. 24 h) with ORCH_TEST_HISTORY_PREFILL set,
# which fills each ring as 24 h of sampling would have
# (src/core/orch-history-prefill.h), then BENCH_JOBS (200) `sleep 600`
# jobs.  Checked, not assumed: every job's GetJobHistory holds the full
# depth of both tiers.  The peer in the same run: the same daemon and
# jobs without the prefill (the history of a few seconds).  VmRSS and
# RssAnon, BENCH_RUNS (3) fresh daemons each, the median.
#
# --soak: the fault tier's soak loop (tests/fault/soak-daemon-driver,
# create/stop/remove cycles, cgroupfs where there is one, keep_finished
# 100) with SQLite's default page cache (2 000 KiB) and with
# ORCH_TEST_SQLITE_CACHE_KIB (BENCH_CACHE_KIB, 64): RSS after the warm-up
# and at the end.  BENCH_SOAK_CYCLES (10 000), warm-up a fifth of them.
#
# BENCH_SMAPS_DIR=DIR keeps each daemon's /proc/PID/smaps, read with
# VmRSS, as DIR/smaps-h-RUN-PREFILL.  BENCH_JOBS=0 measures the idle daemon.
#
# One JSON document on stdout; progress on stderr.
set -uo pipefail

SOAK_MODE=0
if [ "${1:-}" = --soak ]; then SOAK_MODE=1; shift; fi
[ $# -eq 1 ] || { echo "usage: $0 [--soak] BUILD_DIR" >&2; exit 2; }

SRC_DIR=$(cd "$(dirname "$0")" && pwd)
JOBS=${BENCH_JOBS:-200}
RUNS=${BENCH_RUNS:-3}
# shellcheck source=tests/bench/bench-lib.sh
. "$SRC_DIR/bench-lib.sh" bench-rss "$1"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "null"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# Pss: each shared page divided by the processes that map it, so the
# libraries the daemon shares with the rest of the host count their share.
pss_kb() { awk '$1 == "Pss:" { print $2 }' "/proc/$1/smaps_rollup"; }
call() { busctl --address="$BUS_ADDR" --timeout=120 call org.orchestrator /org/orchestrator "$@"; }

# one_run DIR PREFILL OUT: a fresh daemon, JOBS jobs, its RSS; appends
# "VmRSS RssAnon job_rows system_rows Pss" to OUT.  In the main shell, not in
# $(...): lib_stop_pid ends only its own children.
one_run() {
    local dir=$1 prefill=$2 out=$3 ids=() i rows srows rss anon pss batch
    mkdir -p "$dir/log" "$dir/state"
    printf '[jobs]\nmax_concurrent=%s\n' $((JOBS + 10)) > "$dir/orch.conf"
    if [ "$prefill" = 1 ]; then export ORCH_TEST_HISTORY_PREFILL=1; else unset ORCH_TEST_HISTORY_PREFILL; fi
    LIB_DAEMON_CONFIG="$dir/orch.conf" LIB_DAEMON_LOG="$dir/daemon.log" \
        lib_spawn_daemon --backend=none --log-dir="$dir/log" --state-dir="$dir/state" ||
        { log "$LIB_ERROR"; return 1; }
    unset ORCH_TEST_HISTORY_PREFILL
    # 20 Creates at a time: busctl one by one takes minutes on a loaded
    # machine.
    # (A bare `wait` would wait for the daemon too: the batch's pids only.)
    : > "$dir/ids"
    batch=()
    for i in $(seq "$JOBS"); do
        call org.orchestrator.Jobs Create 'a{sv}' 1 command as 2 sleep 600 |
            awk '{ gsub(/"/, "", $2); print $2 }' >> "$dir/ids" &
        batch+=($!)
        [ $((i % 20)) = 0 ] && { wait "${batch[@]}"; batch=(); }
    done
    [ ${#batch[@]} = 0 ] || wait "${batch[@]}"
    mapfile -t ids < "$dir/ids"
    [ "${#ids[@]}" = "$JOBS" ] || { log "only ${#ids[@]} of $JOBS Creates succeeded"; return 1; }
    note_daemon_children "$DAEMON_PID"
    # Every job sampled at least twice (each prefilled at its first sample).
    sleep 3
    # Before the checks: a history read's reply is large for a moment.
    rss=$(status_kb "$DAEMON_PID" VmRSS); anon=$(status_kb "$DAEMON_PID" RssAnon); pss=$(pss_kb "$DAEMON_PID")
    [ -z "${BENCH_SMAPS_DIR:-}" ] || cp "/proc/$DAEMON_PID/smaps" "$BENCH_SMAPS_DIR/smaps-${dir##*/}"
    rows=0 # BENCH_JOBS=0: the idle daemon
    [ "$JOBS" = 0 ] || rows=$(call org.orchestrator.Metrics GetJobHistory 'sa{sv}' "${ids[-1]}" 0 | awk '{ print $2 }')
    srows=$(call org.orchestrator.Metrics GetSystemHistory 'a{sv}' 0 | awk '{ print $2 }')
    log "VmRSS after the history reads: $(status_kb "$DAEMON_PID" VmRSS) kB"
    batch=()
    for i in "${!ids[@]}"; do
        call org.orchestrator.Jobs Stop 'sa{sv}' "${ids[$i]}" 0 >/dev/null 2>&1 &
        batch+=($!)
        [ $(((i + 1) % 20)) = 0 ] && { wait "${batch[@]}"; batch=(); }
    done
    [ ${#batch[@]} = 0 ] || wait "${batch[@]}"
    lib_stop_pid "$DAEMON_PID" orchestratord; DAEMON_PID=""
    echo "$rss $anon $rows $srows $pss" >> "$out"
}

run_history() {
    local prefill run
    lib_start_bus
    for run in $(seq "$RUNS"); do
        for prefill in 1 0; do
            one_run "$T/h-$run-$prefill" "$prefill" "$T/h-$prefill" || return 1
            log "run $run, prefill $prefill: VmRSS RssAnon job_rows system_rows Pss = $(tail -n 1 "$T/h-$prefill")"
        done
    done
    local f=$T/h-1 e=$T/h-0
    printf '{"machine":%s,"jobs":%s,"runs":%s,"method":%s,"full_history":{"vmrss_kb":%s,"rssanon_kb":%s,"job_history_rows":%s,"system_history_rows":%s,"pss_kb":%s},"peer_empty_history":{"vmrss_kb":%s,"rssanon_kb":%s,"job_history_rows":%s,"system_history_rows":%s,"pss_kb":%s},"goal_vmrss_kb":8192}\n' \
        "$(bench_machine_json)" "$JOBS" "$RUNS" \
        "$(lib_json_str "orchestratord --backend=none, default [metrics] (1 s samples; job rings 300 fine + 288 x 300 s, system 3600 fine + 1440 x 60 s), $JOBS sleep 600 jobs (Creates 20 at a time), VmRSS/RssAnon/Pss from /proc 3 s after the last Create; full_history: ORCH_TEST_HISTORY_PREFILL=1 (each ring filled with 24 h of samples at 1 s at its first sample: a sleeping job's figures with a rare CPU blip, the system's moving +-0.5 % a sample, timer jitter 0-2 ms); rows: GetJobHistory/GetSystemHistory of everything held; median of $RUNS fresh daemons each")" \
        "$(cut -d' ' -f1 "$f" | median)" "$(cut -d' ' -f2 "$f" | median)" "$(cut -d' ' -f3 "$f" | median)" "$(cut -d' ' -f4 "$f" | median)" "$(cut -d' ' -f5 "$f" | median)" \
        "$(cut -d' ' -f1 "$e" | median)" "$(cut -d' ' -f2 "$e" | median)" "$(cut -d' ' -f3 "$e" | median)" "$(cut -d' ' -f4 "$e" | median)" "$(cut -d' ' -f5 "$e" | median)"
}

# soak_run NAME [ENV=VALUE...]: the soak loop on a fresh daemon; its JSON
# (summary) in $T/soak-NAME.json.  In the main shell.
soak_run() {
    local name=$1 dir="$T/soak-$1" backend=none cycles=${BENCH_SOAK_CYCLES:-10000}
    shift
    mkdir -p "$dir/log" "$dir/state"
    lib_have_cgroupfs && backend=cgroupfs
    if [ "$backend" = cgroupfs ] && [ -z "${CGROUP_ROOT:-}" ]; then
        CGROUP_ROOT=$(lib_cgroup_root) || return 1
        LIB_CGROUPS+=("$CGROUP_ROOT")
    fi
    printf '[state]\nkeep_finished=100\n' > "$dir/orch.conf"
    local args=(--backend="$backend" --log-dir="$dir/log" --state-dir="$dir/state")
    [ "$backend" = cgroupfs ] && args+=(--cgroup-root="$CGROUP_ROOT")
    for kv in "$@"; do export "${kv?}"; done
    LIB_DAEMON_CONFIG="$dir/orch.conf" LIB_DAEMON_LOG="$dir/daemon.log" lib_spawn_daemon "${args[@]}" ||
        { log "$LIB_ERROR"; return 1; }
    for kv in "$@"; do unset "${kv%%=*}"; done
    log "soak $name: $cycles cycles on $backend, daemon $DAEMON_PID"
    "$BUILD/tests/fault/soak-daemon-driver" "$BUS_ADDR" "$DAEMON_PID" "$cycles" $((cycles / 5)) > "$dir/soak.json" 2>"$dir/soak.err"
    lib_stop_pid "$DAEMON_PID" orchestratord; DAEMON_PID=""
    # The per-cycle samples are long: the summary only.
    sed 's/, *"samples_cycle_rss_fds".*$/}/' "$dir/soak.json" > "$T/soak-$name.json"
    log "soak $name: $(cat "$T/soak-$name.json")"
}

run_soak() {
    local kib=${BENCH_CACHE_KIB:-64} a b
    [ -x "$BUILD/tests/fault/soak-daemon-driver" ] || fail "build tests/fault/soak-daemon-driver first"
    lib_start_bus
    soak_run default || return 1
    soak_run "cache-$kib" "ORCH_TEST_SQLITE_CACHE_KIB=$kib" || return 1
    a=$(cat "$T/soak-default.json"); b=$(cat "$T/soak-cache-$kib.json")
    printf '{"machine":%s,"method":%s,"sqlite_default_cache":%s,"sqlite_cache_%s_kib":%s}\n' \
        "$(bench_machine_json)" \
        "$(lib_json_str "tests/fault/soak-daemon-driver on a fresh daemon each: create/stop/remove cycles, keep_finished=100; RSS growth = rss_kb_max - rss_kb_after_warmup")" \
        "$a" "$kib" "$b"
}

if [ "$SOAK_MODE" = 1 ]; then run_soak; else run_history; fi
