#!/bin/bash
# Fault: the daemon runs with few file descriptors (started under
# prlimit --nofile=128:128, then squeezed further while it runs).  Creates
# must succeed or be refused with LimitReached, never fail half-way for
# want of an fd; a Stop must still stop a job with SIGTERM at once and
# record signal 15 from its exit record (not 137 after the stop timeout);
# the daemon's log must hold no "Too many open files".  Both backends
# where possible.
#   tests/fault/test-fd-limit.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/../lib.sh" "$1" "$2"

LIMIT=128
JOBS=30
LIB_CALL_TIMEOUT=15
LIB_DAEMON_WRAP="prlimit --nofile=$LIMIT:$LIMIT --"
command -v prlimit >/dev/null || skip "no prlimit"

# stop_one BACKEND ID: Stop with SIGTERM; checks how fast and what it recorded.
stop_one() {
  local backend=$1 id=$2 t0 ms rec
  t0=$(date +%s%N)
  lib_call Jobs Stop 'sa{sv}' "$id" 0 >/dev/null 2>"$T/err" ||
    fail "$backend: Stop failed: $(cat "$T/err")"
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  rec=$(lib_get "$id") || fail "$backend: Get failed"
  "$PY" - "$backend" "$ms" "$rec" <<'PY' || exit 1
import json, sys
backend, ms, rec = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
ok = (rec["state"] == "stopped" and rec["signal"] == 15 and rec["exit_code"] == -1
      and rec["error"] == "" and ms < 3000)
print(f"# {backend}: Stop took {ms} ms: state {rec['state']}, signal {rec['signal']}, "
      f"exit_code {rec['exit_code']}, error {rec['error']!r}")
if not ok:
    print(f"FAIL: {backend}: a job stopped with SIGTERM must end at once as stopped, "
          "signal 15, exit_code -1, no error")
    sys.exit(1)
PY
}

# create_or_limit BACKEND: one Create of `sleep 300`; sets NEW_ID, or
# returns 1 on LimitReached about fds (any other failure fails the test).
# busctl's plain output, no python: this runs many times on a busy machine.
create_or_limit() {
  local backend=$1 out
  NEW_ID=
  if out=$(busctl --address="$BUS_ADDR" --timeout=15 call org.orchestrator /org/orchestrator \
      org.orchestrator.Jobs Create 'a{sv}' 1 command as 2 sleep 300 2>"$T/err"); then
    out=${out#so \"}
    NEW_ID=${out%%\"*}
    return 0
  fi
  grep -q 'too few file descriptors left' "$T/err" ||
    fail "$backend: Create failed otherwise than LimitReached about fds: $(cat "$T/err")"
  return 1
}

# count_running: how many jobs List shows running.
count_running() {
  lib_call Jobs List 'a{sv}' 1 state s running |
    "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)["data"][0]))'
}

run() {
  local backend=$1 id n fds mem created=0 ids=()
  LOG_DIR=$T/log-$backend STATE_DIR=$T/state-$backend
  lib_config "$backend" "[jobs]" "max_concurrent=500" "stop_timeout_ms=5000" \
    "[metrics]" "sample_interval_ms=200"
  lib_start_daemon
  [ "$(awk '/^Max open files/ { print $4 }' "/proc/$DAEMON_PID/limits")" = "$LIMIT" ] ||
    fail "$backend: the daemon does not run with $LIMIT fds"

  # As many jobs as it takes: each started, or refused in words.
  for n in $(seq "$JOBS"); do
    create_or_limit "$backend" || break
    ids+=("$NEW_ID")
  done
  created=${#ids[@]}
  # cgroupfs: 9 here, each job holding its monitor's pidfd, its OOM
  # counter and PSI triggers beside the sampler's files.
  [ "$created" -ge 8 ] || fail "$backend: only $created jobs under a limit of $LIMIT"
  for _ in $(seq 50); do [ "$(count_running)" -eq "$created" ] && break; sleep 0.2; done
  [ "$(count_running)" -eq "$created" ] || fail "$backend: not all $created jobs run"
  sleep 0.5 # a few sampling ticks over all of them
  fds=$(fd_count "$DAEMON_PID")
  log "$backend: $created jobs running under a limit of $LIMIT; the daemon holds $fds fds"
  stop_one "$backend" "${ids[0]}"
  # The job's own soft limit: what the daemon started with (here below FD_SETSIZE).
  create_or_limit "$backend" || fail "$backend: Create refused with fds to spare"
  id=$NEW_ID
  lib_wait_state "$id" running
  job_limit=$(awk '/^Max open files/ { print $4 }' "/proc/$(lib_field "$id" pid)/limits")
  [ "$job_limit" = "$LIMIT" ] || fail "$backend: the job runs with a soft limit of $job_limit, not $LIMIT"

  # Squeezed: the limit lowered under the running daemon to a few more
  # than it holds.  A Create may still be accepted when the sampler's
  # cached files give back enough fds (then the job must run); squeezed
  # again each time, the caches run dry and Creates are refused in words.
  local squeezes=0
  while :; do
    fds=$(fd_count "$DAEMON_PID")
    prlimit --pid "$DAEMON_PID" --nofile=$((fds + 12)):$LIMIT
    create_or_limit "$backend" || break
    squeezes=$((squeezes + 1))
    log "$backend: squeezed to $((fds + 12)) with $fds held: accepted, from the caches"
    lib_wait_state "$NEW_ID" running
    [ "$squeezes" -lt 10 ] ||
      fail "$backend: Create still accepted after $squeezes squeezes to 12 fds above those held"
  done
  log "$backend: squeezed to $((fds + 12)) with $fds held: $(cat "$T/err")"
  # Squeezed below what it holds: not one fd free.  The stop and the exit
  # record take theirs from the caches and the reserve.
  fds=$(fd_count "$DAEMON_PID")
  prlimit --pid "$DAEMON_PID" --nofile=$((fds - 4)):$LIMIT
  log "$backend: squeezed to $((fds - 4)) with $fds held"
  stop_one "$backend" "${ids[1]}"
  # A job that ends by itself: its exit record is read too.
  kill -TERM "$(lib_field "${ids[2]}" pid)"
  lib_wait_state "${ids[2]}" "exited|failed" 10
  [ "$(lib_field "${ids[2]}" signal)" = 15 ] || fail "$backend: a job killed by SIGTERM recorded $(lib_get "${ids[2]}")"

  ! grep -i 'too many open files' "$T/daemon.log" ||
    fail "$backend: the daemon ran out of fds"
  # Room again: jobs start again.
  prlimit --pid "$DAEMON_PID" --nofile=$LIMIT:$LIMIT
  # Most jobs are still read with their files released between ticks
  # (taken back one a second): each shows its memory all the same, once
  # a tick with fds to spare has read it.
  for _ in $(seq 50); do
    mem=$(lib_call Jobs List 'a{sv}' 1 state s running | "$PY" -c '
import json, sys
print(" ".join(j["id"] for j in json.load(sys.stdin)["data"][0] if not j.get("memory_bytes")))')
    [ -z "$mem" ] && break
    sleep 0.2
  done
  [ -z "$mem" ] || fail "$backend: running jobs read without kept files show no memory: $mem"
  create_or_limit "$backend" || fail "$backend: Create still refused with the limit back at $LIMIT"
  lib_stop_pid "$DAEMON_PID"
  : > "$T/daemon.log"
}

lib_start_bus
run none
if lib_have_cgroupfs; then
  run cgroupfs
else
  log "cgroupfs backend not tried: needs root and a writable cgroup2 hierarchy"
fi
echo "ok: short of fds, jobs are refused in words and stops still work"
