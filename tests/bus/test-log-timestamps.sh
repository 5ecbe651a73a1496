#!/bin/bash
# log_timestamps (issue 18) through the public interfaces: orchestratorctl
# (run --log-timestamps, logs --timestamps / --format=json, which page
# through Logs.Read), Logs.Read on the bus, REST GET /logs/{id} with
# timestamps=1, format=json and follow=1.  Checks the guarantees: merged
# stdout/stderr lines in the order the job wrote them, every byte of 100 MB
# kept, times that never go back, a line longer than the pipe and a last
# line without its newline kept whole; and that a job without
# log_timestamps gets a clear error, not invented times.
#   tests/bus/test-log-timestamps.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$2/tests/lib.sh" "$1" "$2"
lib_start_bus
# 100 MB in one log: not rotated under the test.
lib_config none "[logs]" "max_log_bytes=0"
lib_start_daemon
lib_start_shim
ctl() { "$BUILD/src/orchestratorctl" --bus-address="$BUS_ADDR" "$@"; }

# Checks JSON lines on stdin: RFC 3339 times with microseconds that never
# go back, the stream named $1, and the lines' text equal to the file $2
# (fragments joined).
cat > "$T/check_json.py" <<'PYEOF'
import json, re, sys
stream, want_file = sys.argv[1], sys.argv[2]
want = open(want_file, "rb").read().decode()
stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
text, last = [], ""
for n, raw in enumerate(sys.stdin):
    o = json.loads(raw)
    assert stamp.match(o["time"]), (n, o)
    assert o["time"] >= last, ("time went back", n, last, o["time"])
    last = o["time"]
    assert o["stream"] == stream, (n, o)
    text.append(o["line"] + ("" if o.get("partial") else "\n"))
got = "".join(text)
assert got == want, (len(got), len(want), got[:200], want[:200])
PYEOF
check_json() { "$PY" "$T/check_json.py" "$@"; }

log "order across stdout and stderr, as written"
ID=$(ctl run --log-timestamps -- "$PY" -c '
import os
for i in range(3000):
    os.write(1, b"out %d\n" % i)
    os.write(2, b"err %d\n" % i)
') || fail "run --log-timestamps failed"
lib_wait_state "$ID" exited 60
"$PY" -c '
for i in range(3000):
    print("out %d" % i); print("err %d" % i)' > "$T/order.want"
# Several pages of Logs.Read (the JSON is ~400 KB, a page 64 KiB).
ctl logs --format=json "$ID" > "$T/order.json" || fail "logs --format=json failed"
check_json all "$T/order.want" < "$T/order.json" || fail "order or times wrong"
ctl logs "$ID" > "$T/order.plain" || fail "logs failed"
cmp -s "$T/order.plain" "$T/order.want" || fail "plain read is not what the job wrote"
ctl logs --timestamps "$ID" > "$T/order.ts" || fail "logs --timestamps failed"
grep -Evq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z (out|err) [0-9]+$' "$T/order.ts" &&
  fail "a --timestamps line is not TIME LINE: $(grep -Ev 'Z (out|err)' "$T/order.ts" | head -n 2)"
cut -d' ' -f2- "$T/order.ts" | cmp -s - "$T/order.want" || fail "--timestamps lost or moved lines"
ctl logs --format=json -n 2 "$ID" | check_json all <(printf 'out 2999\nerr 2999\n') ||
  fail "the last 2 records are not the last 2 lines"
[ "$(lib_field "$ID" log_timestamps)" = True ] || fail "the record does not say log_timestamps"

log "separate stderr: each stream tagged, each in order"
ID=$(ctl run --log-timestamps --separate-stderr -- sh -c 'echo a; echo b >&2; echo c') || fail "run failed"
lib_wait_state "$ID" exited 30
ctl logs --format=json "$ID" | check_json stdout <(printf 'a\nc\n') || fail "stdout JSON wrong"
ctl logs --stderr --format=json "$ID" | check_json stderr <(printf 'b\n') || fail "stderr JSON wrong"

# (and a line of 3-byte characters longer than a fragment: none is cut)
log "a line longer than the pipe, a last line without newline"
ID=$(ctl run --log-timestamps -- "$PY" -c '
import os, sys
line = bytes(ord("a") + i % 26 for i in range(3 << 20)) + b"\n"
v = memoryview(line)
while v:
    v = v[os.write(1, v):]
os.write(1, ("€" * 5000 + "\n").encode())
os.write(1, "último".encode())') || fail "run failed"
lib_wait_state "$ID" exited 60
"$PY" -c '
import sys
sys.stdout.buffer.write(bytes(ord("a") + i % 26 for i in range(3 << 20)) + b"\n" + ("€" * 5000 + "\n").encode() + "último".encode())' > "$T/long.want"
ctl logs "$ID" > "$T/long.plain" || fail "logs failed"
cmp -s "$T/long.plain" "$T/long.want" || fail "the long line or the last one lost bytes ($(wc -c < "$T/long.plain") of $(wc -c < "$T/long.want"))"
ctl logs --format=json "$ID" > "$T/long.json" || fail "logs --format=json failed"
check_json all "$T/long.want" < "$T/long.json" || fail "JSON fragments do not join up"
tail -n 1 "$T/long.json" | grep -q '"partial":true' || fail "the unfinished last line is not partial"
ctl logs --timestamps "$ID" > "$T/long.ts" || fail "logs --timestamps failed"
[ "$(grep -c . "$T/long.ts")" -eq 3 ] || fail "--timestamps split a long line"
sed -E 's/^[0-9T:.Z-]{27} //' "$T/long.ts" | cmp -s - "$T/long.want" || fail "--timestamps changed the bytes"

log "100 MB: no byte lost, times never go back"
# 101-byte lines; the last one is cut short (1e8 is not a multiple).
ID=$(ctl run --log-timestamps -- sh -c 'yes 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789 | head -c 100000000') ||
  fail "run failed"
lib_wait_state "$ID" exited 300
want=$(yes 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789 | head -c 100000000 | sha256sum)
ctl logs "$ID" > "$T/big" || fail "logs failed"
got=$(sha256sum < "$T/big")
[ "$got" = "$want" ] || fail "100 MB read back differs: $(wc -c < "$T/big") bytes, $(grep -c . "$T/big") lines, log $(wc -c < "$LOG_DIR/$ID.log") bytes"
rm -f "$T/big"
ctl logs --timestamps "$ID" | awk '
  { t = substr($0, 1, 27); if (t < last) { print "back at " NR ": " last " then " t; bad = 1; exit 1 } last = t; n++ }
  END { if (!bad && n != 990100) { print "lines: " n; exit 1 } }' || fail "times went back, or lines went missing"

log "a job without log_timestamps: a clear error, no invented times"
ID=$(ctl run -- echo plain) || fail "run failed"
lib_wait_state "$ID" exited 30
err=$(lib_call Logs Read 'sa{sv}' "$ID" 1 timestamps b true 2>&1) && fail "timestamps=true on a plain job succeeded"
grep -q 'timestamps' <<<"$err" && grep -q 'log_timestamps' <<<"$err" || fail "the error does not name the option: $err"
code=$(curl -s -o "$T/e.json" -w '%{http_code}' "$URL/logs/$ID?format=json")
[ "$code" = 409 ] && grep -q 'format' "$T/e.json" || fail "REST format=json on a plain job: $code $(cat "$T/e.json")"
code=$(curl -s -o "$T/e2.json" -w '%{http_code}' "$URL/logs/$ID?follow=1&timestamps=1")
[ "$code" = 409 ] && grep -q 'log_timestamps' "$T/e2.json" || fail "REST follow with timestamps on a plain job: $code $(cat "$T/e2.json")"
ctl logs --timestamps "$ID" >/dev/null 2>&1 && fail "logs --timestamps on a plain job succeeded"
[ "$(ctl logs "$ID")" = plain ] || fail "the plain job's log changed"

log "REST: timestamps=1, format=json, and following as JSON lines"
ID=$(ctl run --log-timestamps -- sh -c 'for i in 1 2 3 4 5; do echo "line $i"; echo "warn $i" >&2; sleep 0.1; done; exit 3') ||
  fail "run failed"
curl -s -N --max-time 120 "$URL/logs/$ID?follow=1&offset=0&format=json" -D "$T/follow.h" > "$T/follow.json" || fail "follow failed"
grep -qi '^content-type: application/x-ndjson' "$T/follow.h" || fail "follow is not NDJSON: $(cat "$T/follow.h")"
printf 'line %s\nwarn %s\n' 1 1 2 2 3 3 4 4 5 5 > "$T/follow.want"
check_json all "$T/follow.want" < "$T/follow.json" || fail "followed JSON lines wrong: $(head -c 400 "$T/follow.json")"
curl -sf "$URL/logs/$ID?timestamps=1" > "$T/rest.ts" || fail "GET timestamps=1 failed"
"$PY" - "$T/rest.ts" <<'PYEOF' || fail "REST timestamps=1 wrong: $(head -c 300 "$T/rest.ts")"
import json, re, sys
text = json.load(open(sys.argv[1]))["text"]
lines = text.splitlines()
assert len(lines) == 10, lines
assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z ", l) for l in lines), lines
PYEOF
curl -sf "$URL/logs/$ID?format=json&tail=1" > "$T/rest.json" || fail "GET format=json failed"
"$PY" -c '
import json, sys
text = json.load(open(sys.argv[1]))["text"]
o = json.loads(text)
assert o["line"] == "warn 5" and o["stream"] == "all", o' "$T/rest.json" || fail "REST format=json&tail=1 wrong: $(cat "$T/rest.json")"
code=$(curl -s -o "$T/e3.json" -w '%{http_code}' "$URL/logs/$ID?format=xml")
[ "$code" = 422 ] && grep -q 'text, json' "$T/e3.json" || fail "format=xml: $code $(cat "$T/e3.json")"

log "a restart's marker line has the time the daemon wrote it"
ID=$(ctl run --log-timestamps --restart on-failure --restart-max 1 --restart-delay 100ms -- sh -c 'echo run; exit 3') ||
  fail "run failed"
lib_wait_state "$ID" failed 60
ctl logs --format=json "$ID" | check_json all <(printf 'run\n--- orchestrator: restart 1 ---\nrun\n') ||
  fail "restart marker not stamped: $(ctl logs --format=json "$ID")"

log "ok"
