#!/bin/bash
# orchestratorctl forecast / recommend and the REST routes
# /metrics/jobs/{id}/forecast, /metrics/system/forecast,
# /jobs/{id}/recommendation against a daemon on a private bus, with a
# leaky allocator as the job.
#   tests/ctl/test-forecast-ctl.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$2/tests/lib.sh" "$1" "$2"
lib_start_bus
lib_config none '[metrics]' 'sample_interval_ms=100' 'job_history_size=600'
lib_start_daemon
lib_start_shim
ctl() { "$BUILD/src/orchestratorctl" --bus-address="$BUS_ADDR" "$@"; }

ID=$(ctl run --name leaky -- "$PY" -c '
import time
chunks = []
for i in range(40):
    chunks.append(bytearray(8 << 20))
    time.sleep(0.1)
time.sleep(600)') || fail "orchestratorctl run failed"
# Until it has grown past 100 MiB, however slow the machine is.
for _ in $(seq 300); do
  mem=$(lib_call Metrics GetJob s "$ID" | "$PY" -c 'import json,sys; print(int(json.load(sys.stdin)["data"][0]["memory_bytes"]["data"]))')
  [ "$mem" -gt $((100 << 20)) ] && break
  sleep 0.1
done
[ "$mem" -gt $((100 << 20)) ] || fail "the job did not grow: $mem bytes"

out=$(ctl forecast "$ID" --horizon 2min --step 10s) || fail "forecast failed: $out"
echo "$out" | sed 's/^/# /'
grep -q '^CPU: ' <<<"$out" || fail "no CPU line"
grep -q '^Memory: ' <<<"$out" || fail "no Memory line"
grep -Eq 'naive|moving-average|holt|seasonal-mean|combination' <<<"$out" || fail "no method named"
# Growing 80 MiB/s when asked: the memory line says it follows that trend.
grep -Eq '^Memory: .* following a rising trend of [0-9.]+[A-Za-z]*/s' <<<"$out" || fail "no trend named"
[ "$(grep -c '^[0-9]\{4\}-' <<<"$out")" -eq 12 ] || fail "not 12 rows"

ctl forecast "$ID" --horizon 60s --step 1s --json > "$T/fc.json" || fail "forecast --json failed"
"$PY" - "$mem" "$T/fc.json" <<'PYEOF' || fail "forecast JSON: $(cat "$T/fc.json")"
import json, sys
fc = json.load(open(sys.argv[2]))
mem = fc["memory_bytes"]
assert len(mem["predicted"]) == 60, len(mem["predicted"])
assert len(mem["timestamps"]) == 60
# It grows: ten seconds ahead is above what was measured before the call.
assert mem["predicted"][9] > int(sys.argv[1]) * 1.1, (mem["predicted"][9], sys.argv[1])
assert all(l <= p <= h for l, p, h in zip(mem["lower_95"], mem["predicted"], mem["upper_95"]))
assert fc["memory_limit_source"] == "host_available"
PYEOF

# When would it reach 50 MiB more than now?  Growing ~80 MiB/s, soon.
limit=$((mem + (50 << 20)))
lib_call Metrics GetJobForecast 'sa{sv}' "$ID" 2 horizon_s u 60 memory_limit t "$limit" > "$T/fc2.json" \
  || fail "GetJobForecast with memory_limit failed"
"$PY" - "$T/fc2.json" <<'PYEOF' || fail "forecast with memory_limit: $(cat "$T/fc2.json")"
import json, sys, time
fc = json.load(open(sys.argv[1]))["data"][0]
assert fc["memory_limit_source"]["data"] == "option", fc["memory_limit_source"]
at = fc["memory_exhaustion_at"]["data"] / 1e6
assert time.time() - 30 < at < time.time() + 120, at - time.time()
assert fc["memory_exhaustion_confidence"]["data"] > 0.5, fc["memory_exhaustion_confidence"]
PYEOF

out=$(ctl forecast "$ID" --horizon 60s --memory-limit "$(( (mem >> 20) + 50 ))M" 2>&1) || fail "--memory-limit: $out"
grep -q '^Memory reaches .* (option) at ' <<<"$out" || fail "--memory-limit: no exhaustion time: $out"
out=$(ctl forecast "$ID" --memory-limit lots 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q -- '--memory-limit' <<<"$out" || fail "--memory-limit lots: rc $rc, $out"
out=$(ctl forecast "$ID" --horizon 0s 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q -- '--horizon' <<<"$out" || fail "--horizon 0s: rc $rc, $out"
out=$(ctl forecast job_20991231_235959_ffffff 2>&1); rc=$?
[ $rc -ne 0 ] || fail "unknown job: rc 0"

out=$(ctl recommend "$ID") || fail "recommend failed: $out"
echo "$out" | sed 's/^/# /'
for k in memory_max memory_high cpu_quota cpu_weight; do
  grep -q "^$k " <<<"$out" || fail "no $k in: $out"
done

# A forecast-bound recommendation (a long enough run) says until when.
if ctl recommend "$ID" --json | "$PY" -c 'import json,sys; sys.exit(0 if "valid_until" in json.load(sys.stdin) else 1)'; then
  out=$(ctl recommend "$ID") || fail "recommend failed: $out"
  grep -q '^Memory values hold until ' <<<"$out" || fail "valid_until not printed: $out"
fi

# --interval: how long the memory values hold (GetRecommendationWith).
ctl recommend "$ID" --interval 5m --json > "$T/rec.json" || fail "recommend --interval failed"
"$PY" - "$T/rec.json" <<'PYEOF' || fail "recommend --interval 5m: $(cat "$T/rec.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["interval_s"] == 300, r
if "valid_until" in r:
    assert r["valid_until"] == r["history_end"] + 300 * 10**6, r
PYEOF
out=$(ctl recommend "$ID" --interval 10s 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q 'interval_s' <<<"$out" || fail "--interval 10s: rc $rc, $out"
out=$(ctl recommend "$ID" --interval soon 2>&1); rc=$?
[ $rc -ne 0 ] && grep -q -- '--interval' <<<"$out" || fail "--interval soon: rc $rc, $out"

# --apply goes through SetLimits: the none backend has no controllers, so
# it is refused whole, naming one, and the job keeps no limit.
out=$(ctl recommend "$ID" --apply 2>&1); rc=$?
[ $rc -ne 0 ] || fail "recommend --apply on none succeeded: $out"
grep -q '^memory_max ' <<<"$out" || fail "--apply: the recommendation was not printed first: $out"
grep -q 'controller' <<<"$out" || fail "--apply: the refusal names no controller: $out"
lib_call Jobs Get s "$ID" | "$PY" -c 'import json,sys; r=json.load(sys.stdin)["data"][0]; assert "memory_max" not in r and "cpu_quota" not in r, r' \
  || fail "--apply refused but the job has a limit now"

# REST
lib_http GET "/metrics/jobs/$ID/forecast?horizon_s=120&step_s=2"
[ "$HTTP_STATUS" = 200 ] || fail "GET forecast: $HTTP_STATUS $HTTP_BODY"
"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert len(d["cpu_percent"]["predicted"]) == 60, d' <<<"$HTTP_BODY" \
  || fail "REST forecast: $HTTP_BODY"
lib_http GET "/metrics/system/forecast?horizon_s=600&memory_limit=1"
[ "$HTTP_STATUS" = 200 ] || fail "GET system forecast: $HTTP_STATUS $HTTP_BODY"
"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["memory_limit_source"] == "option" and "memory_exhaustion_at" in d, d' <<<"$HTTP_BODY" \
  || fail "REST system forecast: $HTTP_BODY"
lib_http GET "/metrics/jobs/$ID/forecast?horizon_s=0"
[ "$HTTP_STATUS" = 422 ] || [ "$HTTP_STATUS" = 400 ] || fail "horizon_s=0: $HTTP_STATUS $HTTP_BODY"
lib_http GET "/jobs/$ID/recommendation"
[ "$HTTP_STATUS" = 200 ] || fail "GET recommendation: $HTTP_STATUS $HTTP_BODY"
"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["memory_max"] >= 100 << 20, d' <<<"$HTTP_BODY" \
  || fail "REST recommendation: $HTTP_BODY"
lib_http GET "/jobs/$ID/recommendation?interval_s=600"
[ "$HTTP_STATUS" = 200 ] || fail "GET recommendation?interval_s=600: $HTTP_STATUS $HTTP_BODY"
"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["interval_s"] == 600, d' <<<"$HTTP_BODY" \
  || fail "REST recommendation interval_s: $HTTP_BODY"
lib_http GET "/jobs/$ID/recommendation?interval_s=5"
[ "$HTTP_STATUS" = 422 ] || [ "$HTTP_STATUS" = 400 ] || fail "interval_s=5: $HTTP_STATUS $HTTP_BODY"
lib_http GET "/jobs/job_20991231_235959_ffffff/recommendation"
[ "$HTTP_STATUS" = 404 ] || fail "unknown job recommendation: $HTTP_STATUS"

ctl stop "$ID" >/dev/null

# A job group's forecast: its two replicas' memory summed, by the CLI and
# REST; an unknown group is not found.
G=$(lib_call Groups Create 'a{sv}' 2 replicas u 2 template 'a{sv}' 1 command as 3 "$PY" -c \
  'import time
b = bytearray(40 << 20)
b[::4096] = b"x" * len(b[::4096])
time.sleep(600)' | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["data"][0])') \
  || fail "Groups.Create failed"
group_mem() {
  lib_call Jobs List 'a{sv}' 0 | "$PY" -c '
import json, subprocess, sys
total = n = 0
for j in json.load(sys.stdin)["data"][0]:
    if j.get("group_id", {}).get("data") == sys.argv[1] and j["state"]["data"] == "running":
        n += 1
        total += j.get("memory_bytes", {}).get("data", 0)
print(total if n == 2 else 0)' "$G"
}
for _ in $(seq 300); do
  gmem=$(group_mem)
  [ "$gmem" -gt $((80 << 20)) ] && break
  sleep 0.1
done
[ "$gmem" -gt $((80 << 20)) ] || fail "the group's replicas did not reach 80 MiB: $gmem"
sleep 3
ctl forecast "$G" --horizon 60s --json > "$T/gfc.json" || fail "forecast GROUP failed: $(cat "$T/gfc.json")"
"$PY" - "$gmem" "$T/gfc.json" <<'PYEOF' || fail "group forecast: $(cat "$T/gfc.json")"
import json, sys
fc = json.load(open(sys.argv[2]))
p = fc["memory_bytes"]["predicted"]
want = int(sys.argv[1])
assert 0.8 * want < p[0] < 1.2 * want, (p[0], want)
PYEOF
lib_http GET "/metrics/groups/$G/forecast?horizon_s=60"
[ "$HTTP_STATUS" = 200 ] || fail "GET group forecast: $HTTP_STATUS $HTTP_BODY"
"$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["id"] == sys.argv[1] and d["memory_bytes"]["predicted"][0] > 80 << 20, d' "$G" <<<"$HTTP_BODY" \
  || fail "REST group forecast: $HTTP_BODY"
lib_http GET "/metrics/groups/group_20991231_235959_ffffff/forecast"
[ "$HTTP_STATUS" = 404 ] || fail "unknown group forecast: $HTTP_STATUS $HTTP_BODY"
lib_call Groups Remove 'sa{sv}' "$G" 0 >/dev/null || fail "Groups.Remove failed"
echo "forecast and recommend through orchestratorctl and REST: ok"
