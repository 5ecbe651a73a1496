#!/bin/bash
# What a /ws/metrics client costs: the shim asks Jobs.List after every
# sample while a client is connected (the `jobs` frame).  With N jobs
# running, the CPU time of orchestratord and orchestrator-rest over
# WINDOW seconds with no client (the peer) and with one client,
# alternated RUNS times; prints JSON with each window and the medians.
#   tests/bench/bench-ws-jobs.sh BUILD_DIR [N=200] [RUNS=3] [WINDOW=20]
set -euo pipefail
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh" "$1" "$(dirname "$0")/../.."
log() { echo "# $*" >&2; }
N=${2:-200} RUNS=${3:-3} WINDOW=${4:-20}
lib_start_bus
lib_config none '[jobs]' "max_concurrent=$((N + 10))" '[metrics]' 'sample_interval_ms=1000'
lib_start_daemon
lib_start_shim
for ((i = 0; i < N; i++)); do
  lib_http POST /jobs/ -H 'Content-Type: application/json' -d '{"command":["sleep","3600"]}'
  [ "$HTTP_STATUS" = 201 ] || fail "job $i: $HTTP_STATUS $HTTP_BODY"
done
sleep 3
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
rows=()
for ((r = 0; r < RUNS; r++)); do
  for mode in none client; do
    d0=$(ticks "$DAEMON_PID") s0=$(ticks "$SHIM_PID")
    if [ "$mode" = client ]; then
      frames=$("$PY" "$SRC/tests/bench/ws-client.py" "${URL#http://}" "$WINDOW")
    else
      sleep "$WINDOW"
      frames=null
    fi
    d1=$(ticks "$DAEMON_PID") s1=$(ticks "$SHIM_PID")
    rows+=("{\"mode\":\"$mode\",\"daemon_cpu_ms\":$(((d1 - d0) * 1000 / hz)),\"shim_cpu_ms\":$(((s1 - s0) * 1000 / hz)),\"frames\":$frames}")
    log "$mode: ${rows[-1]}"
  done
done
"$PY" - "$N" "$WINDOW" "${rows[@]}" <<'PY'
import json, statistics, sys
n, window, rows = int(sys.argv[1]), float(sys.argv[2]), [json.loads(r) for r in sys.argv[3:]]
med = lambda mode, k: statistics.median(r[k] for r in rows if r["mode"] == mode)
print(json.dumps({"jobs": n, "window_s": window, "sample_interval_ms": 1000,
                  "median_cpu_ms_per_s": {m: {"daemon": med(m, "daemon_cpu_ms") / window, "shim": med(m, "shim_cpu_ms") / window}
                                          for m in ("none", "client")},
                  "runs": rows}))
PY
