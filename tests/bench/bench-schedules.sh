#!/bin/bash
# What 10 000 schedules cost orchestratord: RSS growth, idle wake-ups and
# CPU (with and without them), next-elapse time.  Prints one JSON object.
#   tests/bench/bench-schedules.sh BUILD_DIR [COUNT] [IDLE_S] [RUNS]
# The daemon runs with the none backend and a sampling interval of an hour,
# so that its own periodic work does not hide the scheduler's.  The peer
# figure (systemd-run --on-calendar timers in a container) is
# bench-schedules-systemd.sh's.
SRC_DIR=$(dirname "$(realpath "$0")")
# shellcheck source=tests/bench/bench-lib.sh
. "$SRC_DIR/bench-lib.sh" bench-schedules "$1"
COUNT=${2:-10000}
IDLE_S=${3:-30}
RUNS=${4:-3}
bench_binary bench-schedules

lib_start_bus
status=0
echo null > "$T/res.json"
if bench_daemon_start sched "$T/res.json" "[jobs]
max_concurrent=100
[metrics]
sample_interval_ms=3600000" --backend=none; then
    log "orchestratord pid $DAEMON_PID; $COUNT schedules, idle windows of ${IDLE_S}s, $RUNS runs"
    bench_run sched --address="$BUS_ADDR" --daemon-pid="$DAEMON_PID" --count="$COUNT" \
        --idle-s="$IDLE_S" --runs="$RUNS"
    bench_daemon_finish sched "$T/res.json" || status=1
else
    status=1
fi
printf '{"benchmark":"schedules","machine":%s,"result":%s,"goals":{"rss_growth_mib":2,"idle_wakeups_added":0,"next_elapse_us":5}}\n' \
    "$(bench_machine_json)" "$(cat "$T/res.json")"
exit $status
