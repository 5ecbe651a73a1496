#!/bin/bash
# GET /metrics as Prometheus uses it: `promtool check metrics` finds
# nothing to say, and a real Prometheus server (private port, scratch
# directory) scrapes the shim a few times, after which one job's series
# comes back through its HTTP API with the job's id and name and no
# state label; the job's state is its own gauge.
#   tests/rest/test-prometheus.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$2/tests/lib.sh" "$1" "$2"
command -v promtool >/dev/null || skip "promtool is not installed (Debian: prometheus)"
command -v prometheus >/dev/null || skip "prometheus is not installed (Debian: prometheus)"
lib_start_bus
lib_config none
lib_start_daemon
lib_start_shim

running=$(lib_create sleep 600) || fail "Create failed"
lib_wait_state "$running" running
done_id=$(lib_create true) || fail "Create failed"
lib_wait_state "$done_id" "exited"

curl -fsS "$URL/metrics" >"$T/metrics.txt" || fail "GET /metrics failed"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1 ||
  fail "promtool check metrics: $(cat "$T/promtool.out")"
[ -s "$T/promtool.out" ] && fail "promtool check metrics has remarks: $(cat "$T/promtool.out")"
grep -q "^orchestrator_job_up{id=\"$running\",name=\"sleep\"} 1\$" "$T/metrics.txt" ||
  fail "no up series without a state label for the running job"
grep -q "^orchestrator_job_state{id=\"$running\",name=\"sleep\",state=\"running\"} 1\$" "$T/metrics.txt" ||
  fail "no state=running series for the running job"
grep -q "^orchestrator_job_state{id=\"$running\",name=\"sleep\",state=\"exited\"} 0\$" "$T/metrics.txt" ||
  fail "the other states of the running job are not 0"
grep -q "^orchestrator_job_memory_bytes{id=\"$done_id\"" "$T/metrics.txt" &&
  fail "a job without a process exports a memory figure"
grep -q "^orchestrator_job_up{id=\"$done_id\",name=\"true\"} 0\$" "$T/metrics.txt" ||
  fail "the finished job's up series is not 0"

# A real server: a free port of its own, its data under $T.
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: orchestrator
    static_configs:
      - targets: ['${URL#http://}']
CONF
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
  --web.listen-address="127.0.0.1:$port" >"$T/prometheus.log" 2>&1 &
prom=$!
LIB_PIDS+=("$prom")

query() {
  curl -fsS --get "http://127.0.0.1:$port/api/v1/query" --data-urlencode "query=$1"
}
got=""
for _ in $(seq 120); do
  kill -0 "$prom" 2>/dev/null || fail "prometheus exited: $(tail -n 20 "$T/prometheus.log")"
  # Three scrapes at least: the series has stayed one series.
  got=$(query "count_over_time(orchestrator_job_up{id=\"$running\"}[1m])" 2>/dev/null) &&
    "$PY" -c '
import json, sys
r = json.loads(sys.argv[1])["data"]["result"]
sys.exit(0 if len(r) == 1 and float(r[0]["value"][1]) >= 3 else 1)' "$got" && break
  got=""
  sleep 0.5
done
[ -n "$got" ] || fail "prometheus did not scrape the job's series 3 times in 60 s: $(tail -n 5 "$T/prometheus.log")"
health=$(curl -fsS "http://127.0.0.1:$port/api/v1/targets") || fail "no targets from prometheus"
grep -q '"health":"up"' <<<"$health" || fail "the scrape target is not up: $health"
series=$(query "orchestrator_job_state{id=\"$running\",state=\"running\"}") || fail "query failed"
"$PY" - "$series" "$running" <<'PY' || fail "the job's state series is not as expected: $series"
import json, sys
r = json.loads(sys.argv[1])["data"]["result"]
assert len(r) == 1, r
m = r[0]["metric"]
assert m["id"] == sys.argv[2] and m["name"] == "sleep" and m["job"] == "orchestrator", m
assert r[0]["value"][1] == "1", r
PY
echo "promtool clean; prometheus scraped $running and answered its series: ok"
