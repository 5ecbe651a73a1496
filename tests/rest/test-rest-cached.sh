#!/bin/bash
# The shim's read cache through HTTP (issue 15): repeated reads of the
# job list reach the daemon about once a sampling tick, not once a
# request; concurrent misses share one call; and nothing kept outlives a
# change — a job created or stopped over D-Bus (not through the shim), a
# sampling tick — the next request sees it at once.
#   tests/rest/test-rest-cached.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$2/tests/lib.sh" "$1" "$2"
lib_start_bus
lib_config none
lib_start_daemon
lib_start_shim

# state_of ID: the job's state as GET /jobs/ID says it.
state_of() {
  lib_http GET "/jobs/$1"
  [ "$HTTP_STATUS" = 200 ] || fail "GET /jobs/$1: $HTTP_STATUS $HTTP_BODY"
  lib_json state <<<"$HTTP_BODY"
}

# list_has ID: whether GET /jobs/ lists the job.
list_has() {
  lib_http GET /jobs/
  [ "$HTTP_STATUS" = 200 ] || fail "GET /jobs/: $HTTP_STATUS $HTTP_BODY"
  "$PY" -c 'import json,sys; sys.exit(0 if any(j["id"] == sys.argv[1] for j in json.load(sys.stdin)) else 1)' \
    "$1" <<<"$HTTP_BODY"
}

# Every Jobs.List the daemon is asked, as the bus sees it.
dbus-monitor --address "$BUS_ADDR" \
  "type='method_call',interface='org.orchestrator.Jobs',member='List'" >"$T/monitor.log" 2>&1 &
LIB_PIDS+=($!)
for _ in $(seq 100); do grep -q NameAcquired "$T/monitor.log" 2>/dev/null && break; sleep 0.05; done
lists() { grep -c 'member=List' "$T/monitor.log"; }

# Changes over D-Bus are seen by the very next request.
for round in 1 2 3 4 5; do
  id=$(lib_create sleep 600) || fail "Create failed"
  # Nothing in between: the list kept from the round before must not hide it.
  list_has "$id" || fail "round $round: GET /jobs/ right after a D-Bus Create does not list $id"
  [ "$(state_of "$id")" = running ] || lib_wait_state "$id" running
  [ "$(state_of "$id")" = running ] || fail "round $round: $id not running by HTTP"
  state_of "$id" >/dev/null # kept now
  lib_call Jobs Stop 'sa{sv}' "$id" 0 >/dev/null || fail "Stop over D-Bus failed"
  s=$(state_of "$id")
  [ "$s" = stopped ] || fail "round $round: GET /jobs/$id right after a D-Bus Stop says $s"
done
echo "ok: a change over D-Bus is seen by the next request"

# Many requests, few calls: 200 reads in a row.
before=$(lists)
start=$(date +%s%N)
urls=()
for _ in $(seq 200); do urls+=(-o /dev/null "$URL/jobs/"); done
codes=$(curl -s -w '%{http_code}\n' "${urls[@]}" | sort | uniq -c)
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$(awk '{print $2}' <<<"$codes")" = 200 ] || fail "not all 200: $codes"
sleep 0.3 # the monitor's output trails
calls=$(($(lists) - before))
# At most one call a tick (1 s by default), a few more for the edges.
max=$((elapsed_ms / 1000 * 2 + 4))
log "200 GET /jobs/ in $elapsed_ms ms: $calls Jobs.List calls (at most $max)"
[ "$calls" -le "$max" ] || fail "$calls calls to the daemon for 200 reads in $elapsed_ms ms"
[ "$calls" -ge 1 ] || fail "the monitor saw no List at all: $(tail -n 5 "$T/monitor.log")"
echo "ok: 200 reads, $calls calls"

# Concurrent misses share a call: 64 at once on a key nobody asked yet.
before=$(lists)
urls=()
for _ in $(seq 64); do urls+=(-o /dev/null "$URL/jobs/?state=stopped"); done
codes=$(curl -s --parallel --parallel-max 64 -w '%{http_code}\n' "${urls[@]}" | sort | uniq -c)
[ "$(awk '{print $2}' <<<"$codes")" = 200 ] || fail "not all 200: $codes"
sleep 0.3
calls=$(($(lists) - before))
log "64 concurrent GET /jobs/?state=stopped: $calls Jobs.List calls"
[ "$calls" -le 16 ] || fail "$calls calls for 64 concurrent reads"
echo "ok: 64 concurrent reads, $calls calls"

# A sampling tick is a change too: the system's figures move on.
t1=$(curl -s "$URL/metrics/system" | lib_json timestamp)
sleep 2.2
t2=$(curl -s "$URL/metrics/system" | lib_json timestamp)
[ "$t1" != "$t2" ] || fail "/metrics/system still says $t1 two ticks later"
echo "ok: a tick renews the system's figures ($t1 -> $t2)"
