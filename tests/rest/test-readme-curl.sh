#!/bin/bash
# Runs the README's curl examples verbatim against orchestrator-rest and
# orchestratord on a private bus; any failing curl (-f) fails the test.
#   tests/rest/test-readme-curl.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1"); src=$(realpath "$2")
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
