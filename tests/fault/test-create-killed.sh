#!/bin/bash
# Fault: orchestratord killed (SIGKILL) while Creates are under way, again
# and again.  After each start: every Create that was answered is there;
# each retried with its request_id answers with the job the first one made
# (or makes it, once), never a second one; no process runs that no record
# knows, and nothing is left that no record owns (an empty cgroup, an
# empty log file).
#   tests/fault/test-create-killed.sh BUILD_DIR SOURCE_DIR BACKEND
set -uo pipefail
source "$(dirname "$0")/../lib.sh" "$1" "$2"
backend=${3:-none}
rounds=${ROUNDS:-6}
per_round=16

lib_start_bus
lib_config "$backend" '[jobs]' 'max_concurrent=1000'
lib_start_daemon

spec() { echo "{'command': <['sleep', '2']>, 'name': <'$1'>, 'request_id': <'$1'>}"; }

check_invariants() {   # the List reply in $T/listing
  "$PY" - "$T" "$LOG_DIR" "${CGROUP_ROOT:-}" <<'PY' || fail "round $r: $(cat "$T/why" 2>/dev/null)"
import json, os, re, subprocess, sys
t, log_dir, cg_root = sys.argv[1], sys.argv[2], sys.argv[3]
jobs = {}
for rec in json.load(open(os.path.join(t, "listing")))["data"][0]:
    jobs[rec["id"]["data"]] = {k: v["data"] for k, v in rec.items()}
why = []
names = {}
for j in jobs.values():
    names.setdefault(j["name"], []).append(j["id"])
why += [f"two jobs for request {n}: {ids}" for n, ids in names.items() if len(ids) > 1]
for f in os.listdir(log_dir):
    m = re.match(r"(job_[0-9_a-f]+)\.", f)
    if m and m.group(1) not in jobs:
        why.append(f"log {f} ({os.path.getsize(os.path.join(log_dir, f))} bytes) has no record")
if cg_root:
    for d in os.listdir(cg_root):
        if d.startswith("job_") and d not in jobs:
            procs = open(os.path.join(cg_root, d, "cgroup.procs")).read().split()
            why.append(f"cgroup {d} ({len(procs)} processes) has no record")
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            target = os.readlink(f"/proc/{p}/fd/1")
        except OSError:
            continue
        m = re.match(re.escape(log_dir) + r"/(job_[0-9_a-f]+)\.", target)
        if m and m.group(1) not in jobs:
            why.append(f"pid {p} writes {target}, which no record knows")
open(os.path.join(t, "why"), "w").write("; ".join(why))
sys.exit(1 if why else 0)
PY
}

answered=0 retried=0
for r in $(seq "$rounds"); do
  clients=()
  for i in $(seq "$per_round"); do
    ( lib_gcall Jobs.Create "$(spec "r$r-$i")" > "$T/c.$r.$i" 2>&1; echo $? > "$T/rc.$r.$i" ) &
    clients+=($!)
  done
  # Somewhere in the middle of the burst (gdbus takes a while to start).
  sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
  kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
  wait "${clients[@]}"
  lib_start_daemon
  lib_call Jobs List 'a{sv}' 0 > "$T/listing" || fail "List failed after the restart"
  for i in $(seq "$per_round"); do
    if [ "$(cat "$T/rc.$r.$i")" = 0 ]; then
      id=$(sed -n "s/^('\([^']*\)'.*/\1/p" "$T/c.$r.$i")
      grep -q "\"$id\"" "$T/listing" || fail "round $r: Create $i was answered ($id) but the job is gone"
      answered=$((answered + 1))
    fi
  done
  check_invariants
  # Every Create again, with its request id: the same job, or made now.
  for i in $(seq "$per_round"); do
    out=$(lib_gcall Jobs.Create "$(spec "r$r-$i")" 2>&1) || fail "round $r: retry $i failed: $out"
    if [ "$(cat "$T/rc.$r.$i")" = 0 ]; then
      [ "$(sed -n "s/^('\([^']*\)'.*/\1/p" <<<"$out")" = "$(sed -n "s/^('\([^']*\)'.*/\1/p" "$T/c.$r.$i")" ] ||
        fail "round $r: retry $i made another job: $out, first $(cat "$T/c.$r.$i")"
    fi
    retried=$((retried + 1))
  done
  lib_call Jobs List 'a{sv}' 0 > "$T/listing" || fail "List failed"
  check_invariants
done
# The same request id with another spec is refused.
out=$(lib_gcall Jobs.Create "{'command': <['sleep', '3']>, 'name': <'r1-1'>, 'request_id': <'r1-1'>}" 2>&1) &&
  fail "a request id was reused for another spec: $out"
grep -q "InvalidArgument.*request_id" <<<"$out" || fail "unclear error: $out"
grep -q "a Create cut short" "$T/daemon.log" && log "$(grep -c "a Create cut short" "$T/daemon.log") leftovers of cut-short Creates removed"
echo "ok: $rounds daemon kills during Creates: $answered answered Creates kept, $retried retries made no duplicate ($backend)"
