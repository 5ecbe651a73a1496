#!/bin/bash
# Runs the README's orchestratorctl examples verbatim against orchestratord
# on a private bus; a failing command fails the test.
#   tests/ctl/test-readme-ctl.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$2/tests/lib.sh" "$1" "$2"
lib_start_bus
lib_config none
lib_start_daemon
# The examples say "orchestratorctl"; here it is the built one, on this bus.
mkdir -p "$T/bin"
printf '#!/bin/sh\nexec "%s/src/orchestratorctl" --bus-address="%s" "$@"\n' "$BUILD" "$BUS_ADDR" > "$T/bin/orchestratorctl"
chmod +x "$T/bin/orchestratorctl"
export PATH="$T/bin:$PATH"

sed -n '/<!-- ctl-examples -->/,/<!-- \/ctl-examples -->/p' "$SRC/README.md" | sed '1,2d;$d' | sed '$d' > "$T/examples.sh"
[ "$(grep -c '^orchestratorctl\|orchestratorctl ' "$T/examples.sh")" -ge 10 ] || fail "README examples not found"
echo "# running $(grep -c 'orchestratorctl ' "$T/examples.sh") orchestratorctl lines from README.md"
bash -euo pipefail "$T/examples.sh" > "$T/examples.out" 2>"$T/examples.err" || {
  echo "README examples failed:"; cat "$T/examples.out" "$T/examples.err"; exit 1; }
grep -q 'hello' "$T/examples.out" || fail "no hello in the output"
grep -q '"state" : "running"' "$T/examples.out" || fail "no running job in the output"
echo "README orchestratorctl examples: ok"
