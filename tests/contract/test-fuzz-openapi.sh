#!/bin/bash
# The HTTP contract, checked by tools made for it, against orchestrator-rest
# and orchestratord (none backend) on a private bus, the shim with a token:
#  - Prism (@stoplight/prism-cli, tests/contract/package.json) as a
#    validating proxy in front of the shim: every request and answer below
#    goes through it and any violation it reports fails the test;
#  - the README's curl examples through it;
#  - the schema-driven request generator (fuzz-openapi.py, 2000 requests)
#    through it: no 5xx, no undocumented status, no refusal of what the
#    schema accepts, both programs still serving at the end.
#   tests/contract/test-fuzz-openapi.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$2/tests/lib.sh" "$1" "$2"
prism=$SRC/tests/contract/node_modules/.bin/prism
[ -x "$prism" ] || skip "Prism is not installed (tools/install-deps.sh runs npm ci in tests/contract)"
lib_start_bus
lib_config none
lib_start_daemon
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/token"
chmod 0600 "$T/token"
token=$(cat "$T/token")
LIB_SHIM_AUTH=--token-file=$T/token lib_start_shim
shim_url=$URL

# Silent: its log printer dies on some generated bodies (a TypeError in
# prism-cli 5.16's createServer.js); the verdicts come in each answer's
# sl-violations header anyway.
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$prism" proxy "$SRC/data/openapi.json" "$shim_url" --host 127.0.0.1 --port "$port" -v silent \
  >"$T/prism.log" 2>&1 &
LIB_PIDS+=($!)
URL=http://127.0.0.1:$port
for _ in $(seq 300); do curl -s -o /dev/null "$URL/healthz" && break; sleep 0.1; done
curl -s -o /dev/null "$URL/healthz" || fail "Prism did not start: $(tail -n 20 "$T/prism.log")"
echo "# $("$prism" --version 2>/dev/null | tail -n 1) validating in front of $shim_url"

# The README's examples, with the token, through the proxy; the headers
# of every answer kept for Prism's verdict.
sed -n '/<!-- curl-examples -->/,/<!-- \/curl-examples -->/p' "$SRC/README.md" | sed '1,2d;$d' |
  sed '$d' >"$T/examples.sh"
mkdir "$T/headers"
curl() { command curl -H "Authorization: Bearer $token" -D "$(mktemp "$T/headers/XXXXXX")" "$@"; }
export -f curl
export token T
URL=$URL bash -euo pipefail "$T/examples.sh" >"$T/examples.out" 2>&1 ||
  fail "README curl examples failed through Prism: $(tail -n 5 "$T/examples.out")"
[ "$(ls "$T/headers" | wc -l)" -ge 10 ] || fail "the README examples were not run"
if grep -il '^sl-violations:' "$T/headers"/* >/dev/null; then
  fail "Prism found violations in the README examples: $(grep -ih '^sl-violations:' "$T/headers"/*)"
fi
unset -f curl

# The none backend cannot enforce the job limits: bodies mostly leave
# them out (the daemon's refusal of them is counted apart).
"$PY" "$SRC/tests/contract/fuzz-openapi.py" "$SRC/data/openapi.json" "$URL" --token "$token" \
  --head-base "$shim_url" --requests "${FUZZ_REQUESTS:-2000}" \
  --without memory_max,cpu_quota,tasks_max >"$T/fuzz.out" 2>&1
rc=$?
cat "$T/fuzz.out"
[ $rc -eq 0 ] || fail "violations (above); Prism's log ends: $(tail -n 30 "$T/prism.log")"
kill -0 "$DAEMON_PID" 2>/dev/null || fail "orchestratord is gone"
kill -0 "$SHIM_PID" 2>/dev/null || fail "orchestrator-rest is gone"
curl -fsS "$shim_url/healthz" >/dev/null || fail "/healthz does not answer after the run"
echo "validated by Prism, schema-driven requests: ok"
