#!/bin/bash
# The whole service from a checkout, in the foreground: builds, then runs
# orchestratord on a private bus and the REST shim on 127.0.0.1:8000 in
# front of it, and prints the URLs, the bearer token and orchestratorctl
# commands.  Ctrl-C stops both; jobs keep running, as they do when the
# daemon stops, and are found again at the next start.
#
#   ./run.sh [--no-auth] [--port=PORT] [--dir=DIR] [--backend=NAME]
#
# --no-auth   serve without a token (the shim listens on loopback only)
# --port      the shim's port (default 8000; 0 picks a free one)
# --dir       where state, logs, the bus socket and the token live
#             (default ${XDG_STATE_HOME:-~/.local/state}/orchestrator-run);
#             kept between runs
# --backend   auto (default), systemd, cgroupfs or none
# --build     run the programs of this build directory as they are
#             (default: build/, set up and compiled first)
set -euo pipefail
cd "$(dirname "$0")"

port=8000
dir=${XDG_STATE_HOME:-$HOME/.local/state}/orchestrator-run
auth=(--token-file="")
no_auth=false
backend=auto
build=""
for arg in "$@"; do
  case $arg in
    --no-auth) no_auth=true ;;
    --port=*) port=${arg#--port=} ;;
    --dir=*) dir=${arg#--dir=} ;;
    --backend=*) backend=${arg#--backend=} ;;
    --build=*) build=${arg#--build=} ;;
    -h | --help) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

if [ -z "$build" ]; then
  build=build
  if [ ! -f build/build.ninja ]; then
    command -v meson >/dev/null || tools/install-deps.sh
    meson setup build >/dev/null
  fi
  meson compile -C build >/dev/null
fi

mkdir -p "$dir/state" "$dir/log"
chmod 0700 "$dir"
bus=$dir/bus
address=unix:path=$bus
if $no_auth; then
  auth=(--no-auth)
else
  auth=(--token-file="$dir/token")
fi

pids=()
cleanup() {
  trap - EXIT INT TERM
  local p
  # The shim first, so that it does not report the daemon gone.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    p=${pids[$i]}
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  rm -f "$bus"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A bus for this service alone: no system bus policy to install, and
# nothing else on it.
rm -f "$bus"
# shellcheck source=tools/dev-bus.sh
source tools/dev-bus.sh
dev_bus_conf "$address" >"$dir/bus.conf"
dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile 2>>"$dir/bus.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$bus" ] && break; sleep 0.05; done
[ -S "$bus" ] || { echo "run.sh: dbus-daemon did not start: $(cat "$dir/bus.log")" >&2; exit 1; }

"$build/src/orchestratord" --bus-address="$address" --backend="$backend" --state-dir="$dir/state" --log-dir="$dir/log" \
  2>>"$dir/orchestratord.log" &
pids+=($!)
for _ in $(seq 200); do
  busctl --address="$address" status org.orchestrator >/dev/null 2>&1 && break
  kill -0 "${pids[1]}" 2>/dev/null ||
    { echo "run.sh: orchestratord exited: $(tail -n 20 "$dir/orchestratord.log")" >&2; exit 1; }
  sleep 0.05
done

"$build/src/orchestrator-rest" --bus-address="$address" --listen="127.0.0.1:$port" "${auth[@]}" \
  >"$dir/rest.out" 2>>"$dir/orchestrator-rest.log" &
pids+=($!)
url=""
for _ in $(seq 200); do
  url=$(sed -n 's#^listening on \(http://[^/]*\)/*$#\1#p' "$dir/rest.out" | head -n 1)
  [ -n "$url" ] && break
  kill -0 "${pids[2]}" 2>/dev/null ||
    { echo "run.sh: orchestrator-rest exited: $(tail -n 20 "$dir/orchestrator-rest.log")" >&2; exit 1; }
  sleep 0.05
done
[ -n "$url" ] || { echo "run.sh: orchestrator-rest did not start" >&2; exit 1; }

ctl="$build/src/orchestratorctl --bus-address=$address"
if $no_auth; then
  header=""
  token_line="no token (--no-auth): anyone on this machine can use it"
else
  header=" -H \"Authorization: Bearer \$(cat $dir/token)\""
  token_line="bearer token: $(cat "$dir/token") (in $dir/token)"
fi
cat <<MSG
orchestrator is running (Ctrl-C stops it; jobs keep running and are found again next time).

  dashboard:   $url/
  API docs:    $url/docs
  OpenAPI:     $url/openapi.json
  health:      $url/healthz
  $token_line
  state, logs: $dir

Try:
  $ctl run --name hello -- sh -c 'echo hello; sleep 60'
  $ctl list
  $ctl logs -f ID
  curl -s$header $url/jobs/
  curl -s$header $url/metrics

MSG
# Until Ctrl-C, or until either of them ends.
wait -n "${pids[1]}" "${pids[2]}" || true
echo "run.sh: a process ended; stopping (logs in $dir)" >&2
exit 1
