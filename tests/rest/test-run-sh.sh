#!/bin/bash
# ./run.sh as a user runs it: the daemon and the shim come up, the shim
# serves /docs from the build tree without flags, the printed token and
# orchestratorctl command work, Ctrl-C (SIGINT to its process group, as a
# terminal sends it) stops both, and a second run finds the first run's
# job in the state directory it keeps.
#   tests/rest/test-run-sh.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$2/tests/lib.sh" "$1" "$2"
dir=$T/run

# Started as a terminal would: its own process group, SIGINT not ignored
# (a background job of a script would have it ignored).
start() {
  : >"$T/run.out"
  "$PY" -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setpgid(0, 0)
os.execvp(sys.argv[1], sys.argv[1:])' "$SRC/run.sh" --build="$BUILD" --port=0 --dir="$dir" \
    --backend=none >"$T/run.out" 2>&1 &
  RUN_PID=$!
  LIB_PIDS+=("$RUN_PID")
  URL=""
  for _ in $(seq 300); do
    URL=$(sed -n 's#^  API docs: *\(http://[^/]*\)/docs$#\1#p' "$T/run.out")
    [ -n "$URL" ] && break
    kill -0 "$RUN_PID" 2>/dev/null || fail "run.sh exited: $(cat "$T/run.out")"
    sleep 0.1
  done
  [ -n "$URL" ] || fail "run.sh printed no URL: $(cat "$T/run.out")"
}

# Ctrl-C: SIGINT to the whole group; run.sh and everything it started end.
stop() {
  local kids
  kids=$(pgrep -P "$RUN_PID" | tr '\n' ' ')
  kill -INT -- "-$RUN_PID"
  for _ in $(seq 150); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$RUN_PID" 2>/dev/null && fail "run.sh still runs 15 s after SIGINT"
  wait "$RUN_PID" 2>/dev/null
  for p in $kids; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && fail "process $p ($(cat /proc/"$p"/comm 2>/dev/null)) outlived Ctrl-C"
  done
  [ -S "$dir/bus" ] && fail "the bus socket is left behind"
  return 0
}

start
token=$(sed -n 's/^  bearer token: \([0-9a-f]*\) .*/\1/p' "$T/run.out")
[ -n "$token" ] || fail "no token printed: $(cat "$T/run.out")"
[ "$(cat "$dir/token")" = "$token" ] || fail "the printed token is not the one in $dir/token"
curl -fsS "$URL/docs" | grep openapi.json >/dev/null || fail "/docs is not served from the build tree"
grep -q "^  dashboard:   $URL/\$" "$T/run.out" || fail "no dashboard URL printed: $(cat "$T/run.out")"
curl -fsS "$URL/" | grep -i '<html' >/dev/null || fail "the dashboard is not served from the build tree"
curl -fsS "$URL/openapi.json" >/dev/null || fail "/openapi.json is not served"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/jobs/")
[ "$code" = 401 ] || fail "GET /jobs/ without the token: $code, not 401"
ctl=$(sed -n 's/^  \(.*orchestratorctl --bus-address=[^ ]*\) list$/\1/p' "$T/run.out")
[ -n "$ctl" ] || fail "no orchestratorctl example printed"
id=$($ctl run --name kept -- true) || fail "orchestratorctl run failed"
curl -fsS -H "Authorization: Bearer $token" "$URL/jobs/$id" | grep '"name":"kept"' >/dev/null ||
  fail "the job is not served with the printed token"
stop

start
[ "$(cat "$dir/token")" = "$token" ] || fail "the token changed between runs"
curl -fsS -H "Authorization: Bearer $token" "$URL/jobs/" | grep "\"id\":\"$id\"" >/dev/null ||
  fail "the second run does not have the first run's job"
stop
echo "run.sh: up, served, Ctrl-C stopped both, state kept: ok"
