#!/bin/bash
# Installs the build dependencies, builds, and runs orchestratord in the
# foreground on a bus it can use here, with the best backend this machine
# offers.  Ctrl-C stops it (jobs it started keep running, by design).
#
#   ./run-dev.sh
set -euo pipefail
cd "$(dirname "$0")"

tools/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null

daemon=$PWD/build/src/orchestratord
scratch=$(mktemp -d "${TMPDIR:-/tmp}/orchestrator-dev-XXXXXX")
args=(--log-dir="$scratch/log" --state-dir="$scratch/state")
bus_pid=""

cleanup() {
  [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT

if [ "$(id -u)" -eq 0 ] && [ -S /run/dbus/system_bus_socket ] &&
   busctl --system status >/dev/null 2>&1; then
  # The system bus lets root own org.orchestrator only with our policy.
  install -m 0644 dbus/org.orchestrator.conf /etc/dbus-1/system.d/org.orchestrator.conf
  busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig
  address=unix:path=/run/dbus/system_bus_socket
  args+=(--system)
  busctl_bus="--system"
else
  # No system bus here: a private one, just for this run.
  # shellcheck source=tools/dev-bus.sh
  source tools/dev-bus.sh
  dev_bus_conf "unix:path=$scratch/bus" > "$scratch/bus.conf"
  dbus-daemon --config-file="$scratch/bus.conf" --fork --print-pid > "$scratch/bus.pid"
  bus_pid=$(cat "$scratch/bus.pid")
  address=unix:path=$scratch/bus
  args+=(--bus-address="$address")
  busctl_bus="--address=$address"
fi

cat <<MSG
orchestratord is starting on $address (logs in $scratch/log).
In another shell:

  busctl $busctl_bus call org.orchestrator /org/orchestrator org.orchestrator.Jobs \\
      Create 'a{sv}' 1 command as 2 sleep 600
  busctl $busctl_bus call org.orchestrator /org/orchestrator org.orchestrator.Jobs \\
      List 'a{sv}' 0
  busctl $busctl_bus get-property org.orchestrator /org/orchestrator org.orchestrator.Jobs Backend

MSG
"$daemon" "${args[@]}"
