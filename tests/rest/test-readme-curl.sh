#!/bin/bash
# Runs the README's curl examples verbatim against orchestrator-rest and
# orchestratord on a private bus; any failing curl (-f) fails the test.
#   tests/rest/test-readme-curl.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$2/tests/lib.sh" "$1" "$2"
lib_start_bus
lib_config none
lib_start_daemon
lib_start_shim
export URL

sed -n '/<!-- curl-examples -->/,/<!-- \/curl-examples -->/p' "$SRC/README.md" | sed '1,2d;$d' | sed '$d' > "$T/examples.sh"
[ "$(grep -c curl "$T/examples.sh")" -ge 10 ] || fail "README examples not found"
echo "# running $(grep -c '^curl\|curl ' "$T/examples.sh") curl lines from README.md against $URL"
bash -euo pipefail "$T/examples.sh" > "$T/examples.out" || fail "README curl examples failed"
grep -q '"name":"hello"' "$T/examples.out" || fail "no job named hello in the answers"
grep -q 'orchestrator_job_up{' "$T/examples.out" || fail "no orchestrator_job_up in the answers"
grep -q '"text":"hello\\n"' "$T/examples.out" || fail "the log text is not in the answers"
echo "README curl examples: ok"
