#!/bin/bash
# Soak: orchestrator-rest under SOAK_REQUESTS (200 000) requests over every
# read route, with keep-alive and with "Connection: close", plus job
# creates, stops, log deletes and cleanups alongside.  After a
# warm-up, the shim's RSS must grow by less than 2 MiB and its fd count
# must come back to where it was; then it must exit cleanly (under the
# sanitizers: no leak).
#   tests/fault/soak-shim.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/../lib.sh" "$1" "$2"

TARGET=${SOAK_REQUESTS:-200000}
PASS_SECONDS=${SOAK_PASS_SECONDS:-10}
RSS_LIMIT_KB=${SOAK_RSS_LIMIT_KB:-2048}
command -v wrk >/dev/null || skip "wrk is not installed (tools/install-deps.sh)"

lib_start_bus
lib_config none
lib_start_daemon
lib_start_shim

ids=()
for i in 1 2 3 4 5; do
  ids+=("$(lib_create sh -c 'while :; do echo "line $RANDOM"; sleep 0.5; done')") || fail "Create failed"
done
for id in "${ids[@]}"; do lib_wait_state "$id" running; done
pid=$(lib_field "${ids[0]}" pid)

# Every read route; wrk's threads go round the list.
{
  echo 'local paths = {'
  # Histories limited to what the warm-up fills (a sample a second):
  # answers that grow with the daemon's uptime would look like a leak.
  for p in /jobs/ "/jobs/?state=running" /metrics/system /metrics/system/detailed \
           "/metrics/system/history?limit=10" "/metrics/system/history?step_s=2&limit=5" \
           "/metrics/process/$pid" "/metrics/process/$pid/history?limit=10" \
           /metrics /healthz /openapi.json /docs; do
    echo "  \"$p\","
  done
  for id in "${ids[@]}"; do
    echo "  \"/jobs/$id\", \"/metrics/jobs/$id\", \"/metrics/jobs/$id/history?limit=10\","
    echo "  \"/logs/$id?tail=20\", \"/logs/$id?max_bytes=4096\","
  done
  cat <<'LUA'
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA
} >"$T/routes.lua"

total=0
# wrk_pass SECONDS [HEADER]: one wrk run over every route; adds its
# requests to $total; fails on any error answer.
wrk_pass() {
  local out n
  out=$(wrk -t2 -c16 -d"$1"s -s "$T/routes.lua" ${2:+-H "$2"} "$URL" 2>&1)
  n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
  [ -n "$n" ] || fail "wrk: $out"
  grep -q 'Non-2xx' <<<"$out" && fail "wrk got error answers (${2:-keep-alive}): $out"
  total=$((total + n))
  log "wrk ${2:-keep-alive}: $n requests, $(sed -n 's/^Requests\/sec: *//p' <<<"$out") req/s"
}

# cycles_start N: in the background, N jobs created, read until running,
# stopped, their logs deleted, and one log cleanup; cycles_end waits for
# them, removes the jobs (over D-Bus: the HTTP API has no remove) and
# counts the requests.
cycles_start() {
  "$PY" - "$URL" "$1" >"$T/cycles.out" 2>&1 <<'PY' &
import http.client, json, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
requests = 0
def call(c, method, path, body=None, want=200, close=False):
    global requests
    headers = {"Content-Type": "application/json"}
    if close:
        headers["Connection"] = "close"
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    requests += 1
    if r.status != want:
        sys.exit(f"{method} {path}: {r.status} {data[:300]!r}")
    return data
for i in range(int(sys.argv[2])):
    close = i % 2 == 1
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    job = json.loads(call(c, "POST", "/jobs/", json.dumps({"command": ["sleep", "60"], "name": "soak"}), 201, close))
    if close:
        c.close()
        c = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    # Running before it is stopped: a job stopped while it starts may
    # wait out its whole stop timeout (a daemon matter, not the shim's).
    while job["state"] == "starting":
        job = json.loads(call(c, "GET", f"/jobs/{job['id']}"))
    call(c, "DELETE", f"/jobs/{job['id']}")
    call(c, "DELETE", f"/logs/{job['id']}")
    if i == 0:
        call(c, "POST", "/logs/cleanup", json.dumps({"older_than_s": 604800}))
    c.close()
    print("job", job["id"])
print("requests", requests)
PY
  CYCLES_PID=$!
  LIB_PIDS+=("$CYCLES_PID")
}

cycles_end() {
  local id
  wait "$CYCLES_PID" || fail "create/stop cycles: $(tail -n 3 "$T/cycles.out")"
  for id in $(sed -n 's/^job //p' "$T/cycles.out"); do
    lib_call Jobs Remove s "$id" >/dev/null || fail "Remove $id"
  done
  total=$((total + $(sed -n 's/^requests //p' "$T/cycles.out")))
}

# settle: waits until the clients' connections are gone from the shim.
settle() {
  local last=-1 n
  for _ in $(seq 50); do
    n=$(fd_count "$SHIM_PID")
    [ "$n" = "$last" ] && break
    last=$n
    sleep 0.2
  done
}

start=$SECONDS
# Warm-up: every kind of request, then the baseline.
cycles_start 5
wrk_pass $((PASS_SECONDS / 2))
cycles_end
wrk_pass $((PASS_SECONDS / 2)) "Connection: close"
settle
rss0=$(rss_kb "$SHIM_PID")
fd0=$(fd_count "$SHIM_PID")
warm=$total
log "after warm-up ($warm requests): RSS ${rss0} kB, ${fd0} fds"

pass=0
while [ $((total - warm)) -lt "$TARGET" ]; do
  pass=$((pass + 1))
  cycles_start 5
  if [ $((pass % 2)) = 1 ]; then wrk_pass "$PASS_SECONDS"; else wrk_pass "$PASS_SECONDS" "Connection: close"; fi
  cycles_end
  log "pass $pass: $((total - warm)) requests, RSS $(rss_kb "$SHIM_PID") kB, $(fd_count "$SHIM_PID") fds"
  [ $((SECONDS - start)) -lt 780 ] || fail "the soak ran out of time after $((total - warm)) requests"
done

settle
rss1=$(rss_kb "$SHIM_PID")
fd1=$(fd_count "$SHIM_PID")
grow=$((rss1 - rss0))
log "after $((total - warm)) more requests in $((SECONDS - start)) s: RSS ${rss1} kB (${grow} kB more), ${fd1} fds (${fd0} after warm-up)"
log "orchestratord: RSS $(rss_kb "$DAEMON_PID") kB, $(fd_count "$DAEMON_PID") fds"
[ "$grow" -lt "$RSS_LIMIT_KB" ] || fail "the shim's RSS grew by ${grow} kB (limit ${RSS_LIMIT_KB} kB)"
[ "$fd1" -le "$fd0" ] || fail "the shim holds ${fd1} fds, ${fd0} after warm-up"
# A clean exit after all that: under the sanitizers LeakSanitizer runs here.
lib_exit_clean "$SHIM_PID" orchestrator-rest "$T/rest.log"
echo "ok: $((total - warm)) requests after warm-up; RSS ${rss0} -> ${rss1} kB; fds ${fd0} -> ${fd1}"
