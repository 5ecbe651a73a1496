#!/bin/bash
# A full history read leaves the daemon's memory as it was: the 24 h
# system history (ORCH_TEST_HISTORY_PREFILL fills it at start) read three
# times over the bus must not grow orchestratord's RssAnon by more than
# 10 MiB.  Built as GVariants, one read left ~37 MB behind for good (GLib
# 2.74's slice allocator); written straight into the reply, ~2 MB.
#   test-history-rss.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
source "$(dirname "$0")/../lib.sh" "$1" "$2"
[ -z "${ORCH_SANITIZED:-}" ] ||
  skip "RSS under the sanitizers is ASan's quarantine, not the daemon's (the plain build runs this)"

anon_kb() { awk '$1 == "RssAnon:" { print $2 }' "/proc/$DAEMON_PID/status"; }
rows() {
  busctl --address="$BUS_ADDR" --timeout=60 call org.orchestrator /org/orchestrator \
    org.orchestrator.Metrics GetSystemHistory 'a{sv}' 0 | awk '{ print $2 }'
}

lib_start_bus
lib_config none
ORCH_TEST_HISTORY_PREFILL=1 lib_start_daemon
before=$(anon_kb)
n=$(rows)
[ "${n:-0}" -gt 4000 ] || fail "the prefilled system history has ${n:-no} rows, expected > 4000"
rows >/dev/null
rows >/dev/null
after=$(anon_kb)
log "RssAnon $before kB before, $after kB after 3 reads of $n rows"
[ $((after - before)) -lt 10240 ] || fail "reading the history grew RssAnon by $((after - before)) kB"
echo "ok: 3 full history reads, RssAnon +$((after - before)) kB"
