#!/bin/bash
# Runs every test tier: unit, bus (none and cgroupfs backends), fault and
# soak, systemd (a throwaway systemd in a container, needs root), contract
# (the HTTP API against data/openapi.json, Prism, Prometheus), then the
# unit, bus and soak tiers again under AddressSanitizer + UndefinedBehaviorSanitizer,
# and checks the formatting of the C lines changed since tools/format-base.
#
#   ./run-tests.sh [--install-deps]
set -euo pipefail
cd "$(dirname "$0")"

if [ "${1:-}" = "--install-deps" ]; then
  tools/install-deps.sh
fi

setup() {
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
}

status=0
setup build
meson compile -C build
meson test -C build --print-errorlogs || status=1

# Sanitizers: unit, bus and soak tiers (the systemd tier runs the plain build).
setup build-asan -Dsanitize=true -Db_lundef=false -Dsystemd_tests=false
meson compile -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  meson test -C build-asan --print-errorlogs --suite unit --suite bus --suite soak || status=1

# Formatting: clang-format on the changed lines only (HACKING.md, "Formatting").
format=passed
tools/check-format.sh || case $? in
  77) format=skipped ;;
  *) format=failed; status=1 ;;
esac

# One closing line over both runs and the format check.
FORMAT=$format python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, os, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
counts[os.environ["FORMAT"]] += 1
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)["result"]
        if r == "OK":
            counts["passed"] += 1
        elif r in ("SKIP", "EXPECTEDFAIL"):
            counts["skipped"] += 1
        else:
            counts["failed"] += 1
print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
PY
exit $status
