#!/bin/bash
# Runs the README's curl examples verbatim against orchestrator-rest and
# orchestratord on a private bus; any failing curl (-f) fails the test.
#   tests/rest/test-readme-curl.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
src=$(realpath "$2")
source "$src/tests/private-daemon.sh" "$1"
"$build/src/orchestrator-rest" --bus-address="$addr" --config="$work/orch.conf" --listen=127.0.0.1:0 --no-auth \
  --data-dir="$src/data" > "$work/rest.out" 2>"$work/rest.log" & pids+=($!)
for _ in $(seq 100); do grep -q '^listening on' "$work/rest.out" 2>/dev/null && break; sleep 0.05; done
URL=$(sed -n 's#^listening on \(http://[^/]*\)/*$#\1#p' "$work/rest.out" | head -n1)
[ -n "$URL" ] || { echo "orchestrator-rest did not start"; cat "$work/rest.log"; exit 1; }
export URL

sed -n '/<!-- curl-examples -->/,/<!-- \/curl-examples -->/p' "$src/README.md" | sed '1,2d;$d' | sed '$d' > "$work/examples.sh"
[ "$(grep -c curl "$work/examples.sh")" -ge 10 ] || { echo "README examples not found"; exit 1; }
echo "# running $(grep -c '^curl\|curl ' "$work/examples.sh") curl lines from README.md against $URL"
bash -euo pipefail "$work/examples.sh" > "$work/examples.out"
grep -q '"name":"hello"' "$work/examples.out"
grep -q 'orchestrator_job_up{' "$work/examples.out"
grep -q '"text":"hello\\n"' "$work/examples.out"
echo "README curl examples: ok"
