#!/bin/bash
# Fault: the state and log directories' file system is full (a tmpfs of
# 8 MiB, filled).  Create must fail with Failed "disk full" and start
# nothing; a job that ends meanwhile keeps its real status (the monitor's
# exit record has its space from the start); a Stop stops, and says so if
# it could not be saved; once there is room the daemon saves what it could
# not, so a daemon killed and started again finds every job as it ended.
# A monitor that cannot write its record at all ends like its command, so
# the status still reaches the daemon, with an error saying so.
#   tests/fault/test-disk-full.sh BUILD_DIR SOURCE_DIR BACKEND
set -uo pipefail
source "$(dirname "$0")/../lib.sh" "$1" "$2"
backend=${3:-none}

lib_tmpfs "$T/disk" 8m
LOG_DIR=$T/disk/log STATE_DIR=$T/disk/state
lib_start_bus
lib_config "$backend"
lib_start_daemon

mark=$((3000 + RANDOM % 1000)).5     # a sleep of our own, to count
a=$(lib_create sleep "$mark") || fail "Create failed on an empty disk"
lib_wait_state "$a" running
b=$(lib_create sh -c "while [ ! -e $T/go ]; do sleep 0.05; done; exit 7") || fail "Create b failed"
lib_wait_state "$b" running
logs_before=$(ls "$LOG_DIR" | wc -l)
cgroups_before=$( [ -n "${CGROUP_ROOT:-}" ] && ls -d "$CGROUP_ROOT"/job_* 2>/dev/null | wc -l || echo 0)

lib_fill "$T/disk"
log "disk: $(df -h "$T/disk" | tail -n 1)"

# 1. Create on a full disk: refused, nothing started.
for i in 1 2 3; do
  if out=$(lib_gcall Jobs.Create "{'command': <['sleep', '$mark']>}" 2>&1); then
    fail "Create succeeded on a full disk: $out"
  fi
  case $out in
    *org.orchestrator.Error.Failed*"disk full"*|*org.orchestrator.Error.Failed*"No space left"*) ;;
    *) fail "Create on a full disk: unclear error: $out" ;;
  esac
done
log "Create on a full disk: ${out#*GDBus.Error:}"
sleep 0.3
[ "$(lib_count_procs sleep "$mark")" = 1 ] || fail "a refused Create started a process"
[ "$(ls "$LOG_DIR" | wc -l)" = "$logs_before" ] || fail "a refused Create left a log file: $(ls "$LOG_DIR")"
if [ -n "${CGROUP_ROOT:-}" ]; then
  [ "$(ls -d "$CGROUP_ROOT"/job_* 2>/dev/null | wc -l)" = "$cgroups_before" ] ||
    fail "a refused Create left a cgroup: $(ls "$CGROUP_ROOT")"
fi
n=$(lib_call Jobs List 'a{sv}' 0 | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["data"][0]))')
[ "$n" = 2 ] || fail "List has $n jobs after refused Creates, not 2"

# 2. A job that ends while the disk is full: its real status.
touch "$T/go"
lib_wait_state "$b" failed 10
[ "$(lib_field "$b" exit_code)" = 7 ] || fail "job b: $(lib_get "$b")"

# 3. Stop on a full disk: the job stops; the reply says whether it is saved.
if out=$(lib_gcall Jobs.Stop "'$a'" '{}' 2>&1); then
  log "Stop on a full disk: saved"
else
  case $out in
    *org.orchestrator.Error.Failed*"not saved yet"*) log "Stop on a full disk: ${out#*GDBus.Error:}" ;;
    *) fail "Stop on a full disk: unclear error: $out" ;;
  esac
fi
[ "$(lib_count_procs sleep "$mark")" = 0 ] || fail "Stop on a full disk left the job running"

# 4. Room again: what could not be saved is saved within a few seconds.
lib_unfill "$T/disk"
sleep 2.5
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
lib_start_daemon
rec=$(lib_get "$a")
"$PY" - "$rec" <<'PY' || fail "job a after a restart: $rec"
import json, sys
r = json.loads(sys.argv[1])
assert r["state"] == "stopped" and r["signal"] == 15, r
PY
rec=$(lib_get "$b")
"$PY" - "$rec" <<'PY' || fail "job b after a restart: $rec"
import json, sys
r = json.loads(sys.argv[1])
assert r["state"] == "failed" and r["exit_code"] == 7 and r["error"] == "", r
PY
c=$(lib_create sleep "$mark") || fail "Create failed once there was room again"
lib_wait_state "$c" running

# 5. A monitor that cannot write its record at all (its name is taken by a
# directory): it ends like the command, and the record says so.
d=$(lib_create sh -c "while [ ! -e $T/go2 ]; do sleep 0.05; done; exit 9") || fail "Create d failed"
lib_wait_state "$d" running
mkdir "$STATE_DIR/exits/$d.exit"
touch "$T/go2"
lib_wait_state "$d" failed 10
rec=$(lib_get "$d")
"$PY" - "$rec" <<'PY' || fail "job d: $rec"
import json, sys
r = json.loads(sys.argv[1])
assert r["exit_code"] == 9 and "could not save the exit status" in r["error"], r
PY
rmdir "$STATE_DIR/exits/$d.exit"
lib_gcall Jobs.Stop "'$c'" '{}' >/dev/null || fail "Stop c failed"
echo "ok: a full disk refuses Creates, keeps every status, saves when it can ($backend)"
