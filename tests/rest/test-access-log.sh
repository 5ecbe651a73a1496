#!/bin/bash
# The shim's access log gives the status the client was sent: a followed
# log the client closes was answered 200 (libsoup itself marks such a
# message 500), and the line says the client went before the end; a
# follow the shim ends itself, and plain requests, carry no such note.
#   tests/rest/test-access-log.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$2/tests/lib.sh" "$1" "$2"
lib_start_bus
lib_config none
lib_start_daemon
lib_start_shim

id=$(lib_create sh -c 'while :; do echo tick; sleep 0.2; done') || fail "Create failed"
lib_wait_state "$id" running
curl -s -o /dev/null "$URL/jobs/"
curl -s -o /dev/null "$URL/nope"
# The client gives up on the follow after 1 s, as a browser leaving the page.
curl -s -o /dev/null --max-time 1 "$URL/logs/$id?follow=1"
lib_http DELETE "/jobs/$id"
[ "$HTTP_STATUS" = 200 ] || fail "Stop: $HTTP_STATUS $HTTP_BODY"
lib_wait_state "$id" stopped
# The job has ended: the shim ends this follow itself.
curl -s -o /dev/null --max-time 20 "$URL/logs/$id?follow=1"

# The log is written as each request finishes; the last one may trail.
for _ in $(seq 100); do
  [ "$(grep -c "GET /logs/$id" "$T/rest.log")" -ge 2 ] && break
  sleep 0.05
done
lines=$(grep "GET /logs/$id" "$T/rest.log")
[ "$(wc -l <<<"$lines")" = 2 ] || fail "two follow lines expected: $(cat "$T/rest.log")"
first=$(sed -n 1p <<<"$lines")
second=$(sed -n 2p <<<"$lines")
[[ $first == "127.0.0.1 GET /logs/$id 200 "*"ms (client gone before the end)" ]] ||
  fail "the abandoned follow is logged as: $first"
[[ $second == "127.0.0.1 GET /logs/$id 200 "*ms ]] || fail "the completed follow is logged as: $second"
grep -q '^127.0.0.1 GET /jobs/ 200 [0-9.]*ms$' "$T/rest.log" || fail "GET /jobs/ not logged plainly: $(cat "$T/rest.log")"
grep -q '^127.0.0.1 GET /nope 404 [0-9.]*ms$' "$T/rest.log" || fail "GET /nope not logged as 404: $(cat "$T/rest.log")"
! grep -q ' 500 ' "$T/rest.log" || fail "a 500 in the access log: $(cat "$T/rest.log")"
! grep -q 'WARNING' "$T/rest.log" || fail "libsoup warned: $(cat "$T/rest.log")"
echo "ok: the access log says what the client was sent"
