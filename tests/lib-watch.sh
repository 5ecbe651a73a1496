#!/bin/bash
# Started by tests/lib.sh, in a session of its own: when the test shell
# OWNER is gone and its scratch directory T is still there, the test's own
# cleanup did not run or did not finish (meson's timeout sends SIGTERM to
# the test's process group and SIGKILL half a second later), so this does
# it: every process holding a file under T (the bus, the daemon, the shim,
# the none backend's jobs by their logs), the cgroup lib_cgroup_root made
# (its jobs), the mounts under T, then T.
#   tests/lib-watch.sh OWNER_PID OWNER_START_TIME T CGROUP2_MOUNT [V1_MEMORY_DIR]
owner=$1 start=$2 T=$3 m=$4 v1=${5:-}
cd / || exit 0
exec </dev/null >/dev/null 2>&1
trap '' INT TERM HUP

# The owner, not a later process with its pid: same start time.
alive() {
  local stat
  { stat=$(<"/proc/$owner/stat"); } 2>/dev/null || return 1
  # Field 22 (starttime), counted past the command name.
  read -r -a f <<<"${stat##*) }"
  [ "${f[19]}" = "$start" ]
}
while alive; do sleep 0.5; done
[ -d "$T" ] || exit 0

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" - "$T" <<'PY'
import os, signal, sys
top = sys.argv[1].rstrip("/") + "/"
me = os.getpid()
for p in os.listdir("/proc"):
    if not p.isdigit() or int(p) in (me, os.getppid()):
        continue
    try:
        links = [os.readlink(f"/proc/{p}/cwd")]
        links += [os.readlink(f"/proc/{p}/fd/{fd}") for fd in os.listdir(f"/proc/{p}/fd")]
    except OSError:
        continue
    if any(l.startswith(top) or l == top[:-1] for l in links):
        try:
            os.kill(int(p), signal.SIGKILL)
        except OSError:
            pass
PY
# The test's cgroup, and on a hybrid host the jobs' v1 memory groups of
# the same name (the daemon makes them under its own v1 memory cgroup).
for cg in ${m:+"$m/orch-test-${T##*-}"} ${v1:+"$v1/orch-test-${T##*-}"}; do
  [ -d "$cg" ] || continue
  if [ -e "$cg/cgroup.kill" ]; then
    echo 1 >"$cg/cgroup.kill"
  else
    find "$cg" -name cgroup.procs -exec cat {} + | while read -r p; do kill -KILL "$p"; done
  fi
  for _ in $(seq 50); do
    find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
    [ -d "$cg" ] || break
    sleep 0.1
  done
done
# Deepest first.
awk -v top="$T" '$5 == top || index($5, top "/") == 1 { print $5 }' /proc/self/mountinfo |
  sort -r | while read -r mp; do umount -l "$mp"; done
rm -rf "$T"
