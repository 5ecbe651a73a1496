#!/bin/bash
# Log throughput with and without log_timestamps (issue 18).  Not a test.
#
#   tests/bench/bench-log-timestamps.sh BUILD_DIR
#
# A dd-style writer (dd bs=64k of 101-byte text lines, BENCH_MB MiB, 200 by
# default) times itself: run by orchestratord as a job whose output goes
# straight to its log file (the default), as a job with log_timestamps
# (through a pipe to its orchestrator-monitor, which stamps each line),
# and, the peer, run here with its output sent to a plain file in the same
# directory.  BENCH_RUNS (5) runs of each, interleaved; prints one JSON
# document: MB/s (10^6 bytes) per run and the median for each.  Progress
# on stderr.
set -uo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/lib.sh
source "$SRC/tests/lib.sh" "$1" "$SRC"
log() { echo "bench-log-timestamps: $*" >&2; }
fail() { log "$*"; exit 1; }
trap lib_cleanup EXIT

MB=${BENCH_MB:-200}
RUNS=${BENCH_RUNS:-5}
BYTES=$((MB * 1024 * 1024))
LINE=0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789
# The writer: its own time from first to last write, in ns, to $1.
WRITER="s=\$(date +%s%N); yes $LINE | dd bs=64k count=$((BYTES / 65536)) iflag=fullblock status=none; e=\$(date +%s%N); echo \$((e - s)) > \"\$0\""

lib_start_bus
lib_config none "[logs]" "max_log_bytes=0"
lib_start_daemon
ctl() { "$BUILD/src/orchestratorctl" --bus-address="$BUS_ADDR" "$@"; }

mbps() { "$PY" -c 'import sys; print("%.1f" % (int(sys.argv[1]) / (int(sys.argv[2]) / 1e9) / 1e6))' "$BYTES" "$1"; }

declare -A RES=([file]="" [log]="" [log_timestamps]="")
for r in $(seq "$RUNS"); do
  for mode in file log log_timestamps; do
    ns="$T/ns.$mode.$r"
    case $mode in
      file)
        # O_APPEND, as a job's log is opened.
        sh -c "$WRITER" "$ns" >> "$LOG_DIR/peer.out" || fail "the writer failed"
        rm -f "$LOG_DIR/peer.out" ;;
      *)
        flag=(); [ "$mode" = log_timestamps ] && flag=(--log-timestamps)
        id=$(ctl run "${flag[@]}" -- sh -c "$WRITER" "$ns") || fail "run failed"
        # Nothing but sleep while it writes: a poll over the bus would
        # take CPU from the writer that the peer does not lose.
        for _ in $(seq 6000); do [ -s "$ns" ] && break; sleep 0.1; done
        for _ in $(seq 6000); do
          st=$(lib_field "$id" state 2>/dev/null)
          [ "$st" = exited ] && break
          [ "$st" = failed ] && fail "job $id failed"
          sleep 0.1
        done
        [ "$st" = exited ] || fail "job $id did not end"
        size=$(stat -c %s "$LOG_DIR/$id.log")
        [ "$mode" = log ] && [ "$size" != "$BYTES" ] && fail "log of $id holds $size bytes, not $BYTES"
        [ "$mode" = log_timestamps ] && [ "$size" -le "$BYTES" ] && fail "stamped log of $id too short: $size"
        lib_call Jobs Remove s "$id" >/dev/null 2>&1
        rm -f "$LOG_DIR/$id.log" ;;
    esac
    v=$(mbps "$(cat "$ns")")
    RES[$mode]+="${RES[$mode]:+,}$v"
    log "run $r $mode: $v MB/s"
  done
done

"$PY" - "$MB" "$RUNS" "${RES[file]}" "${RES[log]}" "${RES[log_timestamps]}" <<'PYEOF'
import json, os, statistics, sys
mb, runs = int(sys.argv[1]), int(sys.argv[2])
modes = {}
for name, vals in zip(("file", "log", "log_timestamps"), sys.argv[3:6]):
    v = [float(x) for x in vals.split(",")]
    modes[name] = {"mb_per_s": v, "median": statistics.median(v)}
print(json.dumps({
    "benchmark": "log-timestamps",
    "writer": "yes LINE | dd bs=64k iflag=fullblock (101-byte lines)",
    "mib": mb, "runs": runs, "unit": "MB/s (1e6 bytes/s), the writer's own time",
    "modes": modes,
    "log_vs_file": round(modes["log"]["median"] / modes["file"]["median"], 3),
    "log_timestamps_vs_file": round(modes["log_timestamps"]["median"] / modes["file"]["median"], 3),
    "machine": {"nproc": os.cpu_count(), "kernel": os.uname().release},
}, indent=1))
PYEOF
