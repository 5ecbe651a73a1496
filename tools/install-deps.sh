#!/bin/bash
# Installs what orchestrator needs to build and test on Debian 12 (bookworm).
set -euo pipefail

packages=(
  # build
  meson ninja-build gcc pkg-config gettext
  libsystemd-dev libglib2.0-dev libjson-glib-dev libsoup-3.0-dev libsqlite3-dev
  # man pages (optional: the build skips them without scdoc)
  scdoc
  # tests: a private bus, busctl, and the systemd tier's container
  dbus-daemon systemd systemd-container python3
  # the cron oracle test (tests/unit/test-cron-oracle.py)
  python3-croniter
  # the contract suite's request generator: what the schema accepts
  python3-jsonschema
  # the fault and soak tiers: HTTP load, fetches
  wrk curl
  # authorization tests: polkit in the container, useradd, setpriv
  polkitd passwd util-linux
  # the parsers' fuzz target (libFuzzer)
  clang libclang-rt-14-dev
  # tools/check-format.sh (run by run-tests.sh)
  clang-format
  # the contract suite: promtool and a real Prometheus server
  prometheus
  # the dashboard's browser tests (tests/web): Chromium, driven by
  # playwright-core from npm
  chromium
  # the forecast oracle test (tests/unit/test-forecast-oracle.py)
  python3-statsmodels
  # tests/bench/bench-rest.sh's peers: the FastAPI+psutil stand-in of the
  # prototype (tests/bench/peer), node_exporter (its own on a free port)
  python3-fastapi python3-uvicorn python3-psutil prometheus-node-exporter
  # tests/bench/run-bench.sh's launch peer (tests/bench/peer/supervisord_launch.py)
  supervisor
  # orchestrator-monitor against musl (src/meson.build: glibc's static
  # start-up costs ~1.5 ms more on every launch on a virtual machine)
  musl-tools
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm for the npm packages below: the machine's own if it has
# them, else Debian's.
command -v npm >/dev/null || missing+=(nodejs npm)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: every package is installed"
else
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages of the tests that need them, as their package-lock.json
# pins them (node_modules/ beside it, git-ignored): the contract suite's
# validating proxy, the dashboard's browser driver.
cd "$(dirname "$0")/.."
for dir in tests/contract tests/web; do
  if [ -d "$dir/node_modules" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    continue
  fi
  echo "install-deps: npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
done
