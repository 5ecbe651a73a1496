#!/bin/bash
# Where a launch's create→exec time goes (issue 15): JOBS sequential
# `sleep 600` launches by bench-launch on BACKEND (none or cgroupfs), with
# perf uprobes on the daemon's launch path, the kernel's exec events and
# the bench client's bus calls, all on one clock.  Prints one JSON
# document: per stage the p50/p90/mean in ms over the launches, e.g.
#   fork_to_forked   orch_launch_fork, until the monitor's exec let the
#                    daemon go on (clone3 with CLONE_VFORK)
#   released_to_status  the hold pipe written, until the daemon reads the
#                    job's pid (the monitor's own start-up if it was not
#                    done yet, its vfork, the job's exec)
# and the total from the Create sent to the JobChanged(running) received.
#   tests/bench/trace-launch.sh BUILD_DIR [BACKEND] [JOBS]
# Needs perf (Debian: linux-perf) and root (uprobes).  Not a test; its
# probes (group orchlaunch) are removed on any exit.
set -euo pipefail
backend=${2:-none}
njobs=${3:-100}
# shellcheck source=tests/bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh" trace-launch "$1"
DAEMON=$BUILD/src/orchestratord
probes_del() { perf probe -q -d 'orchlaunch:*' >/dev/null 2>&1 || true; }
trap 'probes_del; lib_cleanup; sleep 1; rm -rf "$T"' EXIT
probes_del
# The stages' boundaries, entry and (suffix _ret) return.
for f in open_log orch_launch_fork insert_new orch_launch_release status_cb daemon_job_changed; do
  perf probe -q -x "$DAEMON" -a "orchlaunch:tl_$f=$f" >/dev/null
done
for f in orch_launch_fork insert_new; do
  perf probe -q -x "$DAEMON" -a "orchlaunch:tl_${f}_ret=$f%return" >/dev/null
done
lib_start_bus
lib_config "$backend" "[jobs]" "max_concurrent=100000"
lib_start_daemon
sleep 0.5
perf record -q -o "$T/perf.data" -a -e 'orchlaunch:*' -e sched:sched_process_exec \
  -e syscalls:sys_enter_sendmsg -e syscalls:sys_exit_recvmsg 2>"$T/perf.err" &
PERF=$!
LIB_PIDS+=("$PERF")
sleep 1
"$BUILD/tests/bench/bench-launch" --address="$BUS_ADDR" --daemon-pid="$DAEMON_PID" \
  --jobs="$njobs" --runs=1 >"$T/bench.json" 2>"$T/bench.err" || { cat "$T/bench.err" >&2; exit 1; }
kill -INT "$PERF"
wait "$PERF" || true
perf script -i "$T/perf.data" -F comm,pid,time,event 2>/dev/null |
  python3 "$(dirname "$0")/trace-launch.py" "$backend" "$njobs"
