#!/bin/bash
# Fault: clients that close their keep-alive connection while it idles,
# with the shim held to 128 file descriptors.  libsoup before 3.3.0 keeps
# such connections (CLOSE-WAIT) until the fds run out; the shim must
# still answer every request and give every fd back.
#   tests/fault/test-shim-close-wait.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/../lib.sh" "$1" "$2"

REQUESTS=1100

lib_start_bus
lib_config none
lib_start_daemon
lib_start_shim
prlimit --pid "$SHIM_PID" --nofile=128:128 || skip "prlimit cannot set the shim's fd limit"
log "libsoup $(dpkg-query -W -f '${Version}' libsoup-3.0-0 2>/dev/null || echo '?')"

lib_http GET /healthz
[ "$HTTP_STATUS" = 200 ] || fail "/healthz: $HTTP_STATUS"
base=$(fd_count "$SHIM_PID")
log "shim fds at the start: $base (limit 128)"

# Each request on a fresh HTTP/1.1 keep-alive connection that the client
# closes once answered, while the shim waits for a next request on it:
# 100 by curl itself (which closes at exit), the rest the same way from
# one python3 (a curl process costs 40 ms of CPU here).
paths=(/jobs/ /healthz /openapi.json /metrics/system)
for ((i = 0; i < 100; i++)); do echo "$URL${paths[i % ${#paths[@]}]}"; done |
  xargs -n 1 curl -s -o /dev/null --max-time 10 -w '%{http_code} %{url_effective}\n' >"$T/codes"
"$PY" - "$URL" $((REQUESTS - 100)) "${paths[@]}" >>"$T/codes" <<'PY'
import http.client, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
paths = sys.argv[3:]
for i in range(int(sys.argv[2])):
    path = paths[i % len(paths)]
    try:
        c = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        print(r.status, path)
        c.close()
    except OSError as e:
        print("000", path, "request", i, e)
        break  # the shim is stuck: each further try would wait 10 s
PY
answered=$(grep -c '^200 ' "$T/codes")
log "$answered of $REQUESTS requests answered 200, the shim holds $(fd_count "$SHIM_PID") fds"
[ "$answered" -eq "$REQUESTS" ] ||
  fail "$((REQUESTS - answered)) requests not answered: $(grep -v '^200 ' "$T/codes" | head -n 3)"

for _ in $(seq 100); do
  [ "$(fd_count "$SHIM_PID")" -le "$base" ] && break
  sleep 0.1
done
now=$(fd_count "$SHIM_PID")
log "shim fds after $REQUESTS requests: $now"
[ "$now" -le "$base" ] || fail "the shim holds $now fds after $REQUESTS requests, $base before"
lib_exit_clean "$SHIM_PID" orchestrator-rest "$T/rest.log"
echo "ok: $REQUESTS fresh connections closed by the client, fds $base -> $now"
