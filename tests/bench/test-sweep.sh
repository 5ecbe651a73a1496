#!/bin/bash
# The benchmarks' sweep of job processes left after Stop (bench-lib.sh)
# counts and kills only the processes the bench was told about: a pid
# reused by someone else's `sleep 600` (pid_max is 32768 on the machines
# we run on, and other sessions run `sleep 600` jobs) is neither counted
# as a survivor nor killed.  The 1 000-job run of the sixth session
# reported "3 job processes survived Stop" from that reuse.
#
#   test-sweep.sh BUILD_DIR
set -uo pipefail
. "$(dirname "$0")/bench-lib.sh" test-sweep "$1"
fail() { echo "FAIL: $*"; exit 1; }

# Someone else's process, with a pid the bench once reported.
sleep 600 &
OTHER=$!
LIB_PIDS+=("$OTHER")
for _ in $(seq 100); do [ "$(tr '\0' ' ' < /proc/$OTHER/cmdline)" = "sleep 600 " ] && break; sleep 0.02; done
start=$(proc_start "$OTHER")
[ -n "$start" ] || fail "no start time for $OTHER"

# The pid, as a job of ours that has since ended had it.
echo "$OTHER $((start - 1))" > "$PIDS_FILE"
n=$(sweep_pids 2>/dev/null)
[ "$n" = 0 ] || fail "a reused pid was counted as a survivor ($n)"
kill -0 "$OTHER" 2>/dev/null || fail "the sweep killed a process that was not ours"

# A pid without its start time cannot be told from a reused one.
echo "$OTHER" > "$PIDS_FILE"
n=$(sweep_pids 2>/dev/null)
[ "$n" = 0 ] || fail "a pid without a start time was counted ($n)"
kill -0 "$OTHER" 2>/dev/null || fail "the sweep killed a pid it could not identify"

# The same process, reported with its own start time: a real survivor.
echo "$OTHER $start" > "$PIDS_FILE"
n=$(sweep_pids 2>/dev/null)
[ "$n" = 1 ] || fail "a surviving job process was not counted ($n)"
for _ in $(seq 100); do kill -0 "$OTHER" 2>/dev/null || break; [ "$(proc_start "$OTHER")" ] || break; sleep 0.05; done
wait "$OTHER" 2>/dev/null
kill -0 "$OTHER" 2>/dev/null && fail "the survivor was not killed"
echo "ok"
