#!/bin/bash
# The test library cleans up after a test killed outright: a test shell
# (tests/lib.sh) with a bus, orchestratord (cgroupfs where there is one), a
# running job and a tmpfs is SIGKILLed with its whole process group, as
# meson's timeout does; within 15 s nothing of it is left: no process, no
# cgroup, no mount, no scratch directory.
#   tests/fault/test-lib-watch.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/../lib.sh" "$1" "$2"

backend=none
lib_have_cgroupfs && backend=cgroupfs
cat >"$T/victim.sh" <<'VICTIM'
set -uo pipefail
source "$SRC/tests/lib.sh" "$BUILD" "$SRC"
lib_start_bus
lib_config "$BACKEND"
lib_start_daemon
lib_tmpfs "$T/disk" 1M
id=$(lib_create sleep 600) || fail "no job"
lib_wait_state "$id" running 10 || fail "job not running"
printf '%s %s %s %s\n' "$T" "$DAEMON_PID" "$BUS_PID" "$(lib_field "$id" pid)" >"$REPORT"
sleep 600
VICTIM
# Its own process group, as meson gives each test.
REPORT=$T/report BUILD=$BUILD SRC=$SRC BACKEND=$backend setsid bash "$T/victim.sh" \
  >"$T/victim.log" 2>&1 &
victim=$!
LIB_PIDS+=("$victim")
for _ in $(seq 300); do [ -s "$T/report" ] && break; sleep 0.1; done
[ -s "$T/report" ] || fail "the victim did not get going: $(tail "$T/victim.log")"
read -r vt daemon bus job <"$T/report"
cg=$(cgroup2_mount)/orch-test-${vt##*-}
v1=$(lib_v1_memory_dir)
v1=${v1:+$v1/orch-test-${vt##*-}}
log "victim $victim: T=$vt daemon=$daemon bus=$bus job=$job backend=$backend"
grep -q " $vt/disk " /proc/self/mountinfo || fail "no tmpfs at $vt/disk"
[ "$backend" = none ] || [ -d "$cg" ] || fail "no cgroup $cg"
[ -n "$v1" ] && [ -d "$v1" ] && log "and the jobs' v1 memory groups in $v1"

kill -KILL -- "-$victim"
gone=0
for _ in $(seq 150); do
  if ! [ -e "$vt" ] && ! grep -q " $vt/disk " /proc/self/mountinfo &&
    ! [ -d "$cg" ] && ! { [ -n "$v1" ] && [ -d "$v1" ]; } && ! kill -0 "$daemon" 2>/dev/null && ! kill -0 "$bus" 2>/dev/null &&
    ! kill -0 "$job" 2>/dev/null; then
    gone=1
    break
  fi
  sleep 0.1
done
[ "$gone" = 1 ] || fail "left behind: $(ls -d "$vt" "$cg" ${v1:+"$v1"} 2>/dev/null) $(grep " $vt" /proc/self/mountinfo) $(ps -o pid=,args= -p "$daemon,$bus,$job")"
echo "ok: nothing left of a test killed outright ($backend backend)"
