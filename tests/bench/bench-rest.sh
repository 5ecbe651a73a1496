#!/bin/bash
# The REST path under load, with its peers in the same run (issue 15):
# orchestrator-rest + orchestratord on a private bus, and the prototype's
# design (tests/bench/peer/fastapi_orch.py: FastAPI + psutil under uvicorn)
# holding the same number of `sleep 600` jobs; node_exporter's /metrics
# when it is installed.  wrk -t2 -c32 on loopback; for each run the CPU
# time (utime+stime of /proc/PID/stat, every thread) of the shim, the
# daemon and the peer over the run, divided by the requests it served.
# Median of BENCH_RUNS runs, orchestrator and peer alternating so both
# see the same load.  Prints one JSON document; progress on stderr.
#   tests/bench/bench-rest.sh BUILD_DIR [SECONDS]
# BENCH_REST_LEVELS ("50 200"): job counts; BENCH_RUNS (3);
# BENCH_REST_PATHS ("/jobs/ /jobs/+miss /metrics /metrics+miss
# /metrics/system"; +miss: no answer from the shim's cache); BENCH_REST_BACKEND
# (none).  Needs wrk; the peer needs python3-fastapi python3-uvicorn
# python3-psutil, node_exporter prometheus-node-exporter (else left out).
set -euo pipefail
secs=${2:-5}
levels=${BENCH_REST_LEVELS:-50 200}
runs=${BENCH_RUNS:-3}
paths=${BENCH_REST_PATHS:-/jobs/ /jobs/+miss /metrics /metrics+miss /metrics/system}
backend=${BENCH_REST_BACKEND:-none}
command -v wrk >/dev/null || { echo '{"error": "wrk is not installed (apt-get install wrk)"}'; exit 77; }
# shellcheck source=tests/bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh" bench-rest "$1"
# Monitors of the killed jobs may still write their exit records while
# lib_cleanup removes $T: once more after a moment, so nothing is left.
trap 'lib_cleanup; sleep 1; rm -rf "$T"' EXIT
PYSYS=/usr/bin/python3
hz=$(getconf CLK_TCK)
rows="$T/rows.tsv"
: >"$rows"

# cpu_ticks PID: utime+stime of the whole process (all its threads).
cpu_ticks() { local s; s=$(<"/proc/$1/stat"); s=${s##*) }; set -- $s; echo $((${12} + ${13})); }
free_port() { "$PYSYS" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# measure WHO LEVEL PATH URL PID... : one wrk run; a row of rows.tsv:
# who level path requests rps non2xx load1 ticks-per-pid...
measure() {
  local who=$1 level=$2 path=$3 url=$4; shift 4
  local before=() after=() p out reqs rps non2xx load
  local target=$path script=()
  # PATH+miss: every request with a query of its own, so that none is
  # answered from the shim's cache (what a scrape every 15 s costs); the
  # peers keep nothing and get the plain path.
  if [[ $path == *+miss ]]; then
    target=${path%+miss}
    if [ "$who" = orchestrator ]; then
      wrk_miss_script "$target" "$T/miss.lua"
      script=(-s "$T/miss.lua")
    fi
  fi
  for p in "$@"; do before+=("$(cpu_ticks "$p")"); done
  out=$(wrk -t2 -c32 -d"${secs}s" "${script[@]}" "$url$target" 2>&1)
  for p in "$@"; do after+=("$(cpu_ticks "$p")"); done
  reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out")
  non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' <<<"$out")
  load=$(cut -d' ' -f1 /proc/loadavg)
  local line="$who	$level	$path	${reqs:-0}	${rps:-0}	${non2xx:-0}	$load"
  for ((i = 0; i < $#; i++)); do line+="	$((after[i] - before[i]))"; done
  printf '%s\n' "$line" >>"$rows"
  log "$who $level jobs $path: ${rps:-0} req/s (load $load)"
  [ "${non2xx:-0}" = 0 ] || log "WARNING: $who $path: ${non2xx} answers were not 2xx; its figures measure errors"
}

lib_start_bus
lib_config "$backend" "[jobs]" "max_concurrent=100000"
lib_start_daemon
lib_start_shim
orch_url=$URL

have_peer=1
"$PYSYS" -c 'import fastapi, uvicorn, psutil' 2>/dev/null || { have_peer=0; log "no FastAPI peer (python3-fastapi python3-uvicorn python3-psutil)"; }
node_exporter=$(command -v prometheus-node-exporter || command -v node_exporter || true)

peer_pid=""
start_peer() {
  local n=$1 port
  port=$(free_port)
  "$PYSYS" "$SRC/tests/bench/peer/fastapi_orch.py" "$port" "$n" >"$T/peer.out" 2>"$T/peer.log" &
  peer_pid=$!
  LIB_PIDS+=("$peer_pid")
  peer_url="http://127.0.0.1:$port"
  for _ in $(seq 300); do
    curl -sf -o /dev/null "$peer_url/metrics/system" && return 0
    kill -0 "$peer_pid" 2>/dev/null || fail "the FastAPI peer exited: $(cat "$T/peer.log")"
    sleep 0.1
  done
  fail "the FastAPI peer did not answer: $(cat "$T/peer.log")"
}

have=0
for level in $levels; do
  for ((; have < level; have++)); do lib_create sleep 600 >/dev/null || fail "Create failed"; done
  if ((have_peer)); then start_peer "$level"; fi
  # Warm up both (allocator arenas, caches, psutil's first cpu_percent).
  wrk -t2 -c32 -d1s "$orch_url/jobs/" >/dev/null 2>&1
  ((have_peer)) && wrk -t2 -c32 -d1s "$peer_url/jobs/" >/dev/null 2>&1
  for path in $paths; do
    for ((r = 0; r < runs; r++)); do
      measure orchestrator "$level" "$path" "$orch_url" "$SHIM_PID" "$DAEMON_PID"
      ((have_peer)) && measure fastapi "$level" "$path" "$peer_url" "$peer_pid"
    done
  done
  if ((have_peer)); then lib_stop_pid "$peer_pid"; fi
done

if [ -n "$node_exporter" ]; then
  port=$(free_port)
  "$node_exporter" --web.listen-address="127.0.0.1:$port" >"$T/ne.log" 2>&1 &
  ne_pid=$!
  LIB_PIDS+=("$ne_pid")
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && break; sleep 0.1; done
  ne_series=$(curl -sf "http://127.0.0.1:$port/metrics" | grep -vc '^#' || true)
  for ((r = 0; r < runs; r++)); do
    measure node_exporter 0 /metrics "http://127.0.0.1:$port" "$ne_pid"
  done
else
  ne_series=0
  log "no node_exporter (prometheus-node-exporter)"
fi
orch_series=$(curl -sf "$orch_url/metrics" | grep -vc '^#' || true)

machine=$(bench_machine_json)
"$PYSYS" - "$rows" "$hz" "$secs" "$runs" "$backend" "$machine" "$orch_series" "$ne_series" <<'PY'
import json, statistics, sys
rows_file, hz, secs, runs, backend, machine, orch_series, ne_series = sys.argv[1:]
ms_per_tick = 1000.0 / int(hz)
groups = {}
for line in open(rows_file):
    f = line.rstrip("\n").split("\t")
    who, level, path, reqs, rps, non2xx, load = f[:7]
    ticks = [int(t) for t in f[7:]]
    reqs = int(reqs)
    run = {"requests": reqs, "requests_per_s": float(rps), "non_2xx": int(non2xx),
           "load1": float(load)}
    names = {"orchestrator": ["shim", "daemon"]}.get(who, [who])
    total = 0.0
    for name, t in zip(names, ticks):
        run[name + "_cpu_ms_per_req"] = t * ms_per_tick / reqs if reqs else None
        total += t * ms_per_tick
    run["cpu_ms_per_req"] = total / reqs if reqs else None
    groups.setdefault((int(level), path), {}).setdefault(who, []).append(run)

def median_of(rs):
    out = {"runs": rs}
    for k in rs[0]:
        vals = [r[k] for r in rs if r[k] is not None]
        if vals and k not in ("non_2xx",):
            out[k] = round(statistics.median(vals), 4)
    out["non_2xx"] = sum(r["non_2xx"] for r in rs)
    return out

results = []
for (level, path), whos in sorted(groups.items()):
    entry = {"jobs": level, "path": path}
    for who, rs in whos.items():
        entry[who] = median_of(rs)
    o, p = entry.get("orchestrator"), entry.get("fastapi")
    if o and p and p.get("requests_per_s"):
        entry["rps_ratio_vs_fastapi"] = round(o["requests_per_s"] / p["requests_per_s"], 2)
        entry["cpu_ratio_vs_fastapi"] = round(p["cpu_ms_per_req"] / o["cpu_ms_per_req"], 2)
    results.append(entry)
print(json.dumps({"bench": "rest", "tool": "wrk -t2 -c32 -d%ss (loopback)" % secs,
                  "runs": int(runs), "backend": backend, "machine": json.loads(machine),
                  "series": {"orchestrator_last_level": int(orch_series),
                             "node_exporter": int(ne_series)},
                  "results": results}, indent=1))
PY
