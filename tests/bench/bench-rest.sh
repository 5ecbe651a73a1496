#!/bin/bash
# Load on orchestrator-rest with wrk, loopback only, bounded: the shim and
# orchestratord on a private bus, RSS of the shim before and after, error
# responses counted.  Prints one JSON document.  Needs wrk (Debian: wrk).
#   tests/bench/bench-rest.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=$(realpath "$1"); src=$(realpath "$(dirname "$0")/../..")
secs=${2:-10}
command -v wrk >/dev/null || { echo '{"error": "wrk is not installed (apt-get install wrk)"}'; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/orch-bench-rest-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
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
dbus-daemon --config-file="$work/bus.conf" --nofork 2>/dev/null & pids+=($!)
for _ in $(seq 100); do [ -S "$work/bus" ] && break; sleep 0.05; done
addr="unix:path=$work/bus"
printf '[daemon]\nbackend=none\nlog_dir=%s/log\nstate_dir=%s/state\n' "$work" "$work" > "$work/orch.conf"
"$build/src/orchestratord" --bus-address="$addr" --config="$work/orch.conf" 2>/dev/null & pids+=($!)
for _ in $(seq 100); do busctl --address="$addr" status org.orchestrator >/dev/null 2>&1 && break; sleep 0.05; done
"$build/src/orchestrator-rest" --bus-address="$addr" --config="$work/orch.conf" --listen=127.0.0.1:0 --no-auth \
  --data-dir="$src/data" > "$work/rest.out" 2>/dev/null & shim=$!; pids+=($shim)
for _ in $(seq 100); do grep -q '^listening on' "$work/rest.out" 2>/dev/null && break; sleep 0.05; done
url=$(sed -n 's#^listening on \(http://[^/]*\)/*$#\1#p' "$work/rest.out" | head -n1)
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# Warm up (allocator arenas, libsoup and GDBus caches) before measuring.
wrk -t2 -c32 -d"${secs}s" "$url/jobs/" >/dev/null 2>&1
results=()
for path in /healthz /jobs/ /metrics/system /metrics /jobs/; do
  before=$(rss "$shim")
  out=$(wrk -t2 -c32 -d"${secs}s" --latency "$url$path" 2>&1)
  after=$(rss "$shim")
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
final=$(rss "$shim")
printf '{"tool":"wrk -t2 -c32 -d%ss (loopback)","results":[%s],"rss_kb_final":%s}\n' \
  "$secs" "$(IFS=,; echo "${results[*]}")" "$final"
