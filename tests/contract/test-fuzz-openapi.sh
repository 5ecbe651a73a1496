#!/bin/bash
# The schema-driven request generator (fuzz-openapi.py, 2000 requests)
# against orchestrator-rest and orchestratord (none backend) on a private
# bus: no 5xx, no undocumented status, no refusal of what the schema
# accepts, and both programs still serving at the end.
#   tests/contract/test-fuzz-openapi.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$2/tests/lib.sh" "$1" "$2"
lib_start_bus
lib_config none
lib_start_daemon
lib_start_shim
# The none backend cannot enforce the job limits: bodies mostly leave
# them out (the daemon's refusal of them is counted apart).
"$PY" "$SRC/tests/contract/fuzz-openapi.py" "$SRC/data/openapi.json" "$URL" \
  --requests "${FUZZ_REQUESTS:-2000}" --without memory_max,cpu_quota,tasks_max >"$T/fuzz.out" 2>&1
rc=$?
cat "$T/fuzz.out"
[ $rc -eq 0 ] || fail "the generator found violations (above)"
kill -0 "$DAEMON_PID" 2>/dev/null || fail "orchestratord is gone"
kill -0 "$SHIM_PID" 2>/dev/null || fail "orchestrator-rest is gone"
curl -fsS "$URL/healthz" >/dev/null || fail "/healthz does not answer after the run"
echo "schema-driven requests: ok"
