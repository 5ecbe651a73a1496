#!/bin/bash
# Sourced by the README example tests: a dbus-daemon of its own and
# orchestratord (backend none) on it, all removed on exit, jobs included.
#   source tests/private-daemon.sh BUILD_DIR
# Sets $work (scratch directory), $addr (the bus address), $pids.
build=$(realpath "$1")
work=$(mktemp -d "${TMPDIR:-/tmp}/orch-readme-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # Jobs outlive the daemon by design: end the ones this test started.
  for f in "$work"/log/*.log; do
    [ -e "$f" ] || continue
    for p in /proc/[0-9]*; do
      [ "$(readlink "$p/fd/1" 2>/dev/null)" = "$f" ] && kill -KILL "${p#/proc/}" 2>/dev/null || true
    done
  done
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=$work/bus</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
CONF
dbus-daemon --config-file="$work/bus.conf" --nofork & pids+=($!)
for _ in $(seq 100); do [ -S "$work/bus" ] && break; sleep 0.05; done
addr="unix:path=$work/bus"
printf '[daemon]\nbackend=none\nlog_dir=%s/log\nstate_dir=%s/state\n' "$work" "$work" > "$work/orch.conf"
"$build/src/orchestratord" --bus-address="$addr" --config="$work/orch.conf" 2>"$work/daemon.log" & pids+=($!)
for _ in $(seq 100); do
  busctl --address="$addr" status org.orchestrator >/dev/null 2>&1 && break; sleep 0.05
done
