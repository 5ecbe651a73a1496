#!/bin/bash
# How the daemon's costs grow with the jobs it holds (not a test):
#
#   tests/bench/bench-scale.sh BUILD_DIR [none|cgroupfs]
#
# One orchestratord (default [metrics]: 1 s samples) and orchestrator-rest
# on a private bus; tests/bench/bench-scale adds `sleep 600` jobs up to
# each of BENCH_LEVELS (200,1000,10000) and measures, at each: launch
# rate and daemon CPU per launch, RSS, List and a paged List, the
# sampler's CPU per tick, GET /jobs/ and GET /metrics (Prometheus) on the
# shim; then the mass Stop, with the worst Get round trip meanwhile.
# Each level is printed on stderr as soon as it is measured.
# BENCH_WINDOW (32): calls in flight.  One JSON document on stdout.
#
# 10 000 jobs are 20 000 processes (each job's orchestrator-monitor and
# its command): pid_max is 32 768 on the machine this was written on.
# Every job is stopped through the API and every job process checked gone
# (pid and start time) at the end; lib.sh's cleanup takes the rest.
set -uo pipefail

SRC_DIR=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [none|cgroupfs]" >&2; exit 2; }
BACKEND=${2:-none}
LEVELS=${BENCH_LEVELS:-200,1000,10000}
# The jobs' `sleep`: it must outlast the run (10 000 launches took 21 min
# on a loaded machine); the sweep knows it by this.
export BENCH_SLEEP_S=${BENCH_SLEEP_S:-3600}
# shellcheck source=tests/bench/bench-lib.sh
. "$SRC_DIR/bench-lib.sh" bench-scale "$1"

top=${LEVELS##*,}
pids_needed=$((2 * top + 2000))
if [ "$(cat /proc/sys/kernel/pid_max)" -lt "$pids_needed" ]; then
    fail "$top jobs need $pids_needed pids; kernel.pid_max is $(cat /proc/sys/kernel/pid_max)"
fi
if [ "$BACKEND" = cgroupfs ] && ! lib_have_cgroupfs; then
    fail "no writable cgroup2 hierarchy for the cgroupfs backend"
fi
[ -x "$BUILD/tests/bench/bench-scale" ] || fail "build tests/bench/bench-scale first"

lib_start_bus
lib_config "$BACKEND" '[jobs]' "max_concurrent=$((top + 100))"
# The fds the daemon keeps per job (sampler, watches) and the shim's.
ulimit -n "$(ulimit -Hn)"
lib_start_daemon
lib_start_shim
log "$BACKEND: orchestratord $DAEMON_PID, orchestrator-rest $SHIM_PID at $URL, levels $LEVELS"
out=$("$BUILD/tests/bench/bench-scale" --address="$BUS_ADDR" --daemon-pid="$DAEMON_PID" \
      --levels="$LEVELS" --window="${BENCH_WINDOW:-32}" --sleep-s="$BENCH_SLEEP_S" --rest="${URL#http://}" --rest-pid="$SHIM_PID" \
      --pids-file="$PIDS_FILE")
rc=$?
left=$(sweep_pids)
warn=$(grep -c -E 'WARNING|CRITICAL' "$T/daemon.log")
[ "$warn" = 0 ] || grep -E 'WARNING|CRITICAL' "$T/daemon.log" | head -n 5 | sed 's/^/  /' >&2
[ -n "$out" ] || out='{"error":"bench-scale printed nothing"}'
printf '{"machine":%s,"backend":"%s","window":%s,%s,"leftover_jobs":%s,"daemon_warnings":%s,"bench_exit":%s}\n' \
    "$(bench_machine_json ",\"pid_max\":$(cat /proc/sys/kernel/pid_max)")" "$BACKEND" "${BENCH_WINDOW:-32}" \
    "${out#\{}" "$left" "$warn" "$rc" | sed 's/},"leftover_jobs"/,"leftover_jobs"/'
[ "$rc" = 0 ] && [ "$left" = 0 ]
