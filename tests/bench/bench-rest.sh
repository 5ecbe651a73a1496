#!/bin/bash
# Load on orchestrator-rest with wrk, loopback only, bounded: the shim and
# orchestratord on a private bus, RSS of the shim before and after, error
# responses counted.  Prints one JSON document.  Needs wrk (Debian: wrk).
#   tests/bench/bench-rest.sh BUILD_DIR [SECONDS]
# BENCH_REST_JOBS=N: N jobs of `sleep 600` exist while measuring (0);
# BENCH_REST_PATHS: the paths measured, in order.
set -euo pipefail
secs=${2:-10}
njobs=${BENCH_REST_JOBS:-0}
paths=${BENCH_REST_PATHS:-/healthz /jobs/ /metrics/system /metrics /jobs/}
command -v wrk >/dev/null || { echo '{"error": "wrk is not installed (apt-get install wrk)"}'; exit 77; }
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh" "$1" "$(dirname "$0")/../.."
lib_start_bus
lib_config none
lib_start_daemon
lib_start_shim
for ((i = 0; i < njobs; i++)); do lib_create sleep 600 >/dev/null || fail "Create failed"; done
shim=$SHIM_PID
url=$URL

# Warm up (allocator arenas, libsoup and GDBus caches) before measuring.
wrk -t2 -c32 -d"${secs}s" "$url/jobs/" >/dev/null 2>&1
results=()
for path in $paths; do
  before=$(rss_kb "$shim")
  out=$(wrk -t2 -c32 -d"${secs}s" --latency "$url$path" 2>&1)
  after=$(rss_kb "$shim")
  reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
  non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' <<<"$out"); non2xx=${non2xx:-0}
  errs=$(sed -n 's/^ *Socket errors: *\(.*\)/\1/p' <<<"$out")
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out")
  p50=$(sed -n 's/^ *50% *\([0-9.a-z]*\).*/\1/p' <<<"$out")
  p99=$(sed -n 's/^ *99% *\([0-9.a-z]*\).*/\1/p' <<<"$out")
  results+=("$(printf '{"path":"%s","requests":%s,"requests_per_s":%s,"non_2xx":%s,"socket_errors":"%s","latency_p50":"%s","latency_p99":"%s","rss_kb_before":%s,"rss_kb_after":%s}' \
    "$path" "${reqs:-0}" "${rps:-0}" "$non2xx" "${errs:-none}" "$p50" "$p99" "$before" "$after")")
done
# Settle, then RSS once more: growth that stays is a leak.
sleep 1
final=$(rss_kb "$shim")
printf '{"tool":"wrk -t2 -c32 -d%ss (loopback)","jobs":%s,"results":[%s],"rss_kb_final":%s}\n' \
  "$secs" "$njobs" "$(IFS=,; echo "${results[*]}")" "$final"
