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
  # the fault and soak tiers: HTTP load, fetches
  wrk curl
  # authorization tests: polkit in the container, useradd, setpriv
  polkitd passwd util-linux
  # the parsers' fuzz target (libFuzzer)
  clang libclang-rt-14-dev
  # tools/check-format.sh (run by run-tests.sh)
  clang-format
  # the forecast oracle test (tests/unit/test-forecast-oracle.py)
  python3-statsmodels
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
