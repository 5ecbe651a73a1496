#!/bin/bash
# Every benchmark of tests/bench that has a peer, each with its peer in the
# same run, one after the other; their JSON documents kept in OUT_DIR and
# one table of the figures printed at the end (tests/bench/bench-table.py;
# the README's performance section is this table).  Not a test: it takes
# about 15 minutes and wants a machine that is otherwise quiet.
#   tests/bench/bench-all.sh BUILD_DIR [OUT_DIR]
# BENCH_ALL ("rest sample launch"): which ones; each bench keeps its own
# environment (BENCH_RUNS, BENCH_REST_LEVELS, BENCH_LEVELS, ...).
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [OUT_DIR]" >&2; exit 2; }
build=$(realpath -e "$1") || exit 2
here=$(cd "$(dirname "$0")" && pwd)
out=${2:-$build/bench-all}
mkdir -p "$out"
status=0

run() {
  local name=$1; shift
  echo "bench-all: $name ($(cut -d' ' -f1-3 /proc/loadavg) load)" >&2
  if "$@" >"$out/$name.json.new" 2>"$out/$name.log"; then
    mv "$out/$name.json.new" "$out/$name.json"
  else
    echo "bench-all: $name failed, see $out/$name.log" >&2
    rm -f "$out/$name.json.new"
    status=1
  fi
}

for b in ${BENCH_ALL:-rest sample launch}; do
  case $b in
    # wrk on the shim and the FastAPI+psutil peer, node_exporter.
    rest) run rest "$here/bench-rest.sh" "$build" "${BENCH_REST_SECONDS:-5}" ;;
    # The sampling tick at the default 1 s against psutil on the same pids.
    sample)
      BENCH_INTERVAL_MS=${BENCH_INTERVAL_MS:-1000} BENCH_LEVELS=${BENCH_LEVELS:-0,200} \
        BENCH_BACKENDS=${BENCH_BACKENDS:-cgroupfs} BENCH_WINDOW_TICKS=${BENCH_WINDOW_TICKS:-8} \
        BENCH_FILL_TICKS=${BENCH_FILL_TICKS:-10} run sample "$here/bench-sample.sh" "$build" ;;
    # Launch, List and stop of 200 jobs; supervisord launching as many.
    launch) BENCH_LIST_CALLS=${BENCH_LIST_CALLS:-100} run launch "$here/run-bench.sh" "$build" ;;
    *) echo "bench-all: no bench $b" >&2; status=2 ;;
  esac
done
/usr/bin/python3 "$here/bench-table.py" "$out" || status=1
exit $status
