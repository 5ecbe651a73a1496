#!/bin/bash
# Records the history of representative workloads run by orchestratord,
# for the forecast accuracy benchmark (tests/bench/bench-forecast.py):
# each job's GetJobHistory rows (the fine ring at 1 s) go to
# tests/fixtures/traces/NAME.csv (t_s, cpu_percent, memory_bytes).
#
#   tests/bench/record-traces.sh BUILD_DIR SOURCE_DIR [SECONDS]   (default 900)
#
# RECORD_WORKLOADS="periodic leaky" records only those; RECORD_OUT=DIR
# writes elsewhere (tests/fixtures/traces-held-out: more recordings of the
# same workloads, scored by nothing that was tuned on them; periodic-3 and
# periodic-4 were recorded with 4800 and 3800 s, two at once, while the
# machine did light work only).
#
# Workloads, all at nice 19 (the machine is shared):
#   leaky     allocates ~0.5 MiB a second, with jitter, and never frees
#   periodic  a batch every 60 s: 20 s of CPU and 100 MiB, then idle
#   build     compiles src/basic/*.c with gcc over and over, a pause between
#   idle      an HTTP server on loopback nobody talks to
#   bursty    an HTTP server and a client sending bursts of requests at
#             random (exponential on/off), response bodies cached in memory
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$2/tests/lib.sh" "$1" "$2"
DURATION=${3:-900}
OUT=${RECORD_OUT:-$SRC/tests/fixtures/traces}
mkdir -p "$OUT"
lib_start_bus
lib_config none '[metrics]' 'sample_interval_ms=1000' "job_history_size=$((DURATION + 60))"
lib_start_daemon

declare -A SCRIPTS
SCRIPTS[leaky]='
import random, time
keep = []
while True:
    keep.append(bytearray(int(random.uniform(0.25, 0.75) * (1 << 20))))
    time.sleep(1)'
SCRIPTS[periodic]='
import time
while True:
    t0 = time.time()
    buf = bytearray(100 << 20)
    while time.time() - t0 < 20:
        sum(range(20000))
    del buf
    time.sleep(max(0, 60 - (time.time() - t0)))'
SCRIPTS[build]="
import glob, os, subprocess, tempfile, time
srcs = sorted(glob.glob('$SRC/src/basic/*.c'))
inc = ['-I$SRC/src', '-I$BUILD', '-I$SRC/src/basic'] + subprocess.run(['pkg-config', '--cflags', 'glib-2.0', 'gio-2.0'], capture_output=True, text=True).stdout.split()
out = tempfile.mkdtemp()
while True:
    for s in srcs:
        subprocess.run(['gcc', '-O1', '-c', s, '-o', os.path.join(out, 'x.o')] + inc, stderr=subprocess.DEVNULL)
    time.sleep(20)"
SCRIPTS[idle]='
import http.server
http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler).serve_forever()'
SCRIPTS[bursty]='
import http.server, random, threading, time, urllib.request
cache = {}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        k = self.path
        if k not in cache:
            cache[k] = bytes(random.randrange(256) for _ in range(2000)) * 20
        body = cache[k][: 4096 + sum(range(3000)) % 100]
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
port = srv.server_address[1]
while True:
    time.sleep(random.expovariate(1 / 20))
    end = time.time() + random.expovariate(1 / 10)
    while time.time() < end:
        urllib.request.urlopen("http://127.0.0.1:%d/%d" % (port, random.randrange(2000))).read()'

declare -A IDS
for name in ${RECORD_WORKLOADS:-leaky periodic build idle bursty}; do
  IDS[$name]=$(lib_create nice -n 19 "$PY" -c "${SCRIPTS[$name]}") || fail "cannot start $name"
  log "$name: ${IDS[$name]}"
done
sleep "$DURATION"
for name in "${!IDS[@]}"; do
  lib_call Metrics GetJobHistory 'sa{sv}' "${IDS[$name]}" 0 | "$PY" -c '
import json, sys
rows = json.load(sys.stdin)["data"][0]
print("t_s,cpu_percent,memory_bytes")
t0 = rows[0]["timestamp"]["data"]
for r in rows:
    cpu = r.get("cpu_percent", {}).get("data")
    mem = r.get("memory_bytes", {}).get("data")
    if cpu is None or mem is None:
        continue
    print("%.3f,%.3f,%d" % ((r["timestamp"]["data"] - t0) / 1e6, cpu, mem))
' > "$OUT/$name.csv" || fail "cannot read the history of $name"
  log "$name: $(($(wc -l < "$OUT/$name.csv") - 1)) samples"
  lib_call Jobs Stop 'sa{sv}' "${IDS[$name]}" 0 >/dev/null
done
