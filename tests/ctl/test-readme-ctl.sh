#!/bin/bash
# Runs the README's orchestratorctl examples verbatim against orchestratord
# on a private bus; a failing command fails the test.
#   tests/ctl/test-readme-ctl.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
src=$(realpath "$2")
source "$src/tests/private-daemon.sh" "$1"
# The examples say "orchestratorctl"; here it is the built one, on this bus.
mkdir -p "$work/bin"
printf '#!/bin/sh\nexec "%s/src/orchestratorctl" --bus-address="%s" "$@"\n' "$build" "$addr" > "$work/bin/orchestratorctl"
chmod +x "$work/bin/orchestratorctl"
export PATH="$work/bin:$PATH"

sed -n '/<!-- ctl-examples -->/,/<!-- \/ctl-examples -->/p' "$src/README.md" | sed '1,2d;$d' | sed '$d' > "$work/examples.sh"
[ "$(grep -c '^orchestratorctl\|orchestratorctl ' "$work/examples.sh")" -ge 10 ] || { echo "README examples not found"; exit 1; }
echo "# running $(grep -c 'orchestratorctl ' "$work/examples.sh") orchestratorctl lines from README.md"
bash -euo pipefail "$work/examples.sh" > "$work/examples.out" 2>"$work/examples.err" || {
  echo "README examples failed:"; cat "$work/examples.out" "$work/examples.err"; exit 1; }
grep -q 'hello' "$work/examples.out"
grep -q '"state" : "running"' "$work/examples.out"
echo "README orchestratorctl examples: ok"
