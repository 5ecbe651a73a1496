#!/bin/bash
# Profiles orchestrator-rest and orchestratord under wrk on one REST path
# (issue 15): N `sleep 600` jobs, then `perf record -g` on both for the
# length of a wrk run; prints `perf report --children` tops of each.
#   tests/bench/profile-rest.sh BUILD_DIR [PATH] [JOBS] [SECONDS]
# PATH+miss (e.g. /metrics+miss): every request misses the shim's cache.
# Needs wrk and perf (Debian: linux-perf).  Not a test.
set -euo pipefail
path=${2:-/jobs/}
njobs=${3:-200}
secs=${4:-10}
# shellcheck source=tests/bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh" profile-rest "$1"
# Monitors of the killed jobs may still write their exit records while
# lib_cleanup removes $T: once more after a moment, so nothing is left.
trap 'lib_cleanup; sleep 1; rm -rf "$T"' EXIT
lib_start_bus
lib_config none "[jobs]" "max_concurrent=100000"
lib_start_daemon
lib_start_shim
for ((i = 0; i < njobs; i++)); do lib_create sleep 600 >/dev/null || fail "Create failed"; done
script=()
if [[ $path == *+miss ]]; then
  path=${path%+miss}
  wrk_miss_script "$path" "$T/miss.lua"
  script=(-s "$T/miss.lua")
fi
wrk -t2 -c32 -d1s "${script[@]}" "$URL$path" >/dev/null 2>&1
perf record -q -F 1000 --call-graph dwarf,16384 -o "$T/shim.data" -p "$SHIM_PID" -- sleep "$secs" >/dev/null 2>&1 &
p1=$!
perf record -q -F 1000 --call-graph dwarf,16384 -o "$T/daemon.data" -p "$DAEMON_PID" -- sleep "$secs" >/dev/null 2>&1 &
p2=$!
wrk -t2 -c32 -d"${secs}s" "${script[@]}" "$URL$path" | grep -E 'Requests/sec' >&2
wait "$p1" "$p2"
for who in shim daemon; do
  echo "== $who ($path, $njobs jobs), children %"
  perf report -i "$T/$who.data" --children --stdio --no-header -g none --percent-limit 3 2>/dev/null |
    grep -v '^$' | sed -n "1,${PROFILE_TOP:-40}p"
  echo "== $who ($path, $njobs jobs), self %"
  perf report -i "$T/$who.data" --no-children --stdio --no-header -g none --percent-limit 1 2>/dev/null |
    grep -v '^$' | grep -v '^#' | sed -n "1,${PROFILE_TOP:-40}p"
done
