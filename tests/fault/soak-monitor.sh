#!/bin/bash
# Soak: orchestrator-monitor, the one long-running process per job, with
# log_timestamps (every byte the job writes passes through it) for
# SOAK_MONITOR_SECONDS (60; 20 under the sanitizers) of a job that writes
# short lines on both streams, a line left open across a pause, a line
# longer than a record and a burst that fills the pipe, over and over,
# while the daemon rotates the log (copy-truncate at 1 MiB).  After a
# warm-up of a quarter of the run, the monitor's RSS must not grow (its
# buffers are static: at most 128 KiB of noise) and its fd count must
# come back; the log must have been rotated and kept whole records; the
# job must stop as asked, its last line (written on SIGTERM) in the log.
# The daemon's soak is soak-daemon.sh.
#   tests/fault/soak-monitor.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/../lib.sh" "$1" "$2"

SECONDS_RUN=${SOAK_MONITOR_SECONDS:-60}
RSS_GROWTH_KB=128
backend=none
lib_have_cgroupfs && backend=cgroupfs

lib_start_bus
lib_config "$backend" '[logs]' 'max_log_bytes=1048576' 'rotate_keep=2'
lib_start_daemon

# One cycle a little over half a second, ~2.4 MB; the same every cycle,
# so the warm-up has seen every size of read and write.
cat > "$T/writer.py" <<'PYEOF'
import os, signal, sys, time
def bye(*_):
    os.write(1, b"\nbye\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
long_line = b"L" * (300 * 1024) + b"\n"
burst = b"".join(b"burst %06d %s\n" % (i, b"b" * 100) for i in range(18000))
while True:
    for i in range(200):
        os.write(1, b"out %d\n" % i)
        if i % 4 == 0:
            os.write(2, b"err %d\n" % i)
    os.write(1, b"half a line ")
    time.sleep(0.05)
    os.write(1, b"and its end\n")
    os.write(1, long_line)
    os.write(1, burst)
    time.sleep(0.5)
PYEOF

out=$(lib_call Jobs Create 'a{sv}' 2 command as 2 "$PY" "$T/writer.py" log_timestamps b true) ||
  fail "Create failed: $out"
ID=$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["data"][0])' <<<"$out")
lib_wait_state "$ID" running
pid=$(lib_field "$ID" pid)
mon=$(awk '{ print $4 }' "/proc/$pid/stat")
comm=$(cat "/proc/$mon/comm" 2>/dev/null)
[[ "$comm" == orchestrator-mo* ]] || fail "the job's parent $mon is '$comm', not its monitor"
log "monitor $mon of job $ID ($backend), $SECONDS_RUN s"

warm=$((SECONDS_RUN / 4))
samples=() rss0=0 fds0=0 rss_max=0 fds_min=1000000
for ((s = 1; s <= SECONDS_RUN; s++)); do
  sleep 1
  [ -d "/proc/$mon" ] || fail "the monitor ended at $s s: $(lib_get "$ID")"
  rss=$(rss_kb "$mon") fds=$(fd_count "$mon")
  samples+=("[$s,$rss,$fds]")
  if ((s == warm)); then rss0=$rss fds0=$fds; fi
  if ((s > warm && rss > rss_max)); then rss_max=$rss; fi
  # The fewest after the warm-up: one reading can catch a moment.
  if ((s > warm && fds < fds_min)); then fds_min=$fds; fi
done
rotated=$(ls "$LOG_DIR" | grep -c "^$ID.*\.[0-9]*$")
IFS=,; echo "{\"seconds\": $SECONDS_RUN, \"warmup_s\": $warm, \"rss_kb_after_warmup\": $rss0, \"rss_kb_max\": $rss_max, \"fds_after_warmup\": $fds0, \"fds_min_after\": $fds_min, \"rotated_generations\": $rotated, \"samples_s_rss_fds\": [${samples[*]}]}"; unset IFS

((rss_max - rss0 <= RSS_GROWTH_KB)) || fail "the monitor's RSS grew by $((rss_max - rss0)) KiB after the warm-up"
((fds_min <= fds0)) || fail "the monitor holds $fds_min fds, $fds0 after the warm-up: $(ls -l "/proc/$mon/fd")"
((rotated > 0)) || fail "the log was never rotated: $(ls -l "$LOG_DIR")"

lib_call Jobs Stop "sa{sv}" "$ID" 0 >/dev/null || fail "Stop failed"
lib_wait_state "$ID" "stopped|exited|failed" 20
# The job's last words (its SIGTERM handler's) reached the log: in the
# current log, or in the newest generation if a tick rotated it after.
grep -aq bye "$LOG_DIR/$ID.log" "$LOG_DIR/$ID.log.1" 2>/dev/null ||
  fail "the job's last line is in neither $ID.log nor $ID.log.1"
# What the current log holds reads back as whole timestamped records.
"$BUILD/src/orchestratorctl" --bus-address="$BUS_ADDR" logs --format=json -n 50 "$ID" > "$T/tail.json" ||
  fail "reading the log back failed"
"$PY" -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    assert o["time"] and "line" in o, o' "$T/tail.json" ||
  fail "the log's last records do not parse: $(head -c 300 "$T/tail.json")"
echo "ok: orchestrator-monitor through ${SECONDS_RUN} s of timestamped output, RSS and fds flat"
