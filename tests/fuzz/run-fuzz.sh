#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds the libFuzzer targets of tests/fuzz/meson.build -- fuzz-parsers
# (the /proc, cgroup and log parsers) and fuzz-input (what callers send:
# specs, JSON bodies, log read options, HTTP paths and queries) -- in a
# clang build directory of their own (-Dfuzz=true, the project's
# sanitizers, coverage instrumentation on the libraries too) and fuzzes
# each for a bounded time.  See tests/fuzz/README.
#
#   run-fuzz.sh SOURCE_DIR SECONDS            fuzz, seeded from tests/fixtures
#   run-fuzz.sh SOURCE_DIR 0 INPUT...         rebuild and run only INPUT(s)
#
# Environment: FUZZ_BUILD_DIR, the build directory to make or reuse (a
# temporary one, removed at the end, without it); CC_FUZZ, the compiler
# (clang).
#
# Exit: 0 no finding; 1 a crash, sanitizer report, invariant violation, leak
# or timeout (the input is kept and its path printed); 2 usage or build
# error; 77 clang, libFuzzer, meson or glib is missing (skip).
set -uo pipefail

usage () {
  echo "usage: $0 SOURCE_DIR SECONDS [INPUT...]" >&2
  exit 2
}

[ $# -ge 2 ] || usage
SRC=$1
SECS=$2
shift 2
case $SECS in '' | *[!0-9]*) usage ;; esac
[ -f "$SRC/src/basic/orch-metrics-parse.c" ] || { echo "run-fuzz: $SRC is not the source tree" >&2; exit 2; }
SRC=$(cd "$SRC" && pwd)

CC=${CC_FUZZ:-clang}
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "run-fuzz: SKIP: $CC not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
  exit 77
fi
for tool in meson ninja pkg-config; do
  command -v "$tool" >/dev/null 2>&1 || { echo "run-fuzz: SKIP: $tool not found" >&2; exit 77; }
done
if ! pkg-config --exists glib-2.0 json-glib-1.0; then
  echo "run-fuzz: SKIP: glib-2.0 or json-glib development files (pkg-config) not found" >&2
  exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/orch-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# libFuzzer (and the sanitizer runtimes) present?
printf 'int LLVMFuzzerTestOneInput (const unsigned char *d, unsigned long n) { (void) d; (void) n; return 0; }\n' \
  > "$WORK/probe.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined "$WORK/probe.c" -o "$WORK/probe" >"$WORK/probe.log" 2>&1; then
  echo "run-fuzz: SKIP: $CC cannot link -fsanitize=fuzzer,address,undefined (libFuzzer missing?" \
       "Debian: apt-get install libclang-rt-14-dev)" >&2
  sed 's/^/  /' "$WORK/probe.log" | head -5 >&2
  exit 77
fi

# The build: ASan + UBSan (-Dsanitize) and libFuzzer's coverage
# instrumentation (fuzzer-no-link) on everything the targets link, so
# that the fuzzer sees the branches of the code under test; only the two
# targets and what they need are built.  Warnings stay warnings: the gcc
# builds are the ones that hold the code to -Werror.
BUILD=${FUZZ_BUILD_DIR:-$WORK/build}
OPTIONS=(-Dfuzz=true -Dsanitize=true -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link
         -Doptimization=1 -Ddebug=true -Dwerror=false -Dman=disabled -Dsystemd_tests=false)
# A build directory of ours already set up this way is only rebuilt
# (ninja reruns meson itself when a meson.build changed).
: > "$WORK/build.log"
if [ "$(cat "$BUILD/run-fuzz.options" 2>/dev/null)" != "${OPTIONS[*]}" ]; then
  if [ -f "$BUILD/build.ninja" ]; then
    meson configure "$BUILD" "${OPTIONS[@]}" >"$WORK/build.log" 2>&1
  else
    mkdir -p "$(dirname "$BUILD")"
    CC=$CC meson setup "$BUILD" "$SRC" "${OPTIONS[@]}" >"$WORK/build.log" 2>&1
  fi || {
    echo "run-fuzz: meson failed:" >&2
    cat "$WORK/build.log" >&2
    exit 2
  }
  echo "${OPTIONS[*]}" > "$BUILD/run-fuzz.options"
fi
if ! ninja -C "$BUILD" tests/fuzz/fuzz-parsers tests/fuzz/fuzz-input >>"$WORK/build.log" 2>&1; then
  echo "run-fuzz: build failed:" >&2
  cat "$WORK/build.log" >&2
  exit 2
fi
BIN=$BUILD/tests/fuzz/fuzz-parsers
BIN_INPUT=$BUILD/tests/fuzz/fuzz-input

# glib: plain malloc so ASan sees every block; criticals (g_return_if_fail)
# are findings too.
G_SLICE=always-malloc
G_DEBUG=gc-friendly,fatal-criticals
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export G_SLICE G_DEBUG ASAN_OPTIONS UBSAN_OPTIONS

# Reproduce mode: run the given inputs once each.
if [ $# -gt 0 ]; then
  for f in "$@"; do
    case $f in /*) ;; *) f=$PWD/$f ;; esac
    "$BIN" -runs=1 "$f" || { echo "run-fuzz: $f reproduces a finding (fuzz-parsers)" >&2; exit 1; }
    "$BIN_INPUT" -runs=1 "$f" || { echo "run-fuzz: $f reproduces a finding (fuzz-input)" >&2; exit 1; }
  done
  echo "run-fuzz: no finding reproduced"
  exit 0
fi

# Selector byte = the parser (the enum in fuzz-parsers.c), in $sel.
selector () { # sets sel
  case $1 in
    cgroup-events-*)                  sel=16 ;; # orch_cgroup_parse_populated
    mountinfo-*)                      sel=14 ;; # orch_cgroup_parse_mountinfo
    proc-cgroup-*)                    sel=15 ;; # orch_cgroup_parse_proc_cgroup
    proc-stat-*)                      sel=13 ;; # orch_proc_parse_stat
    *.pressure | *-pressure-*)        sel=6 ;;  # orch_parse_pressure
    *cpu.stat)                        sel=7 ;;  # orch_parse_cgroup_cpu_stat
    *io.stat)                         sel=10 ;; # orch_parse_cgroup_io_stat
    *memory.events)                   sel=9 ;;  # orch_parse_cgroup_memory_events
    *memory.current | *memory.max | *memory.peak | *pids.current)
                                      sel=8 ;;  # orch_parse_cgroup_u64
    *-diskstats)                      sel=5 ;;  # orch_parse_diskstats
    *-net-dev)                        sel=4 ;;  # orch_parse_net_dev
    *-meminfo)                        sel=1 ;;  # orch_parse_meminfo
    *-loadavg)                        sel=2 ;;  # orch_parse_loadavg
    *-uptime)                         sel=3 ;;  # orch_parse_uptime
    *-status)                         sel=11 ;; # orch_parse_proc_status
    *-io)                             sel=12 ;; # orch_parse_proc_io
    *-stat)                           sel=0 ;;  # orch_parse_sys_stat
    *)                                sel= ;;
  esac
}
N_TARGETS=18
SANITIZE=17

# No subshell per byte: they add up to seconds on a loaded machine.
# shellcheck disable=SC2059 # the format is the escape we build
byte () { local esc; printf -v esc '\\%03o' "$1"; printf "$esc"; }

CORPUS=$WORK/corpus
mkdir -p "$CORPUS" "$WORK/artifacts"
n=0
for f in "$SRC"/tests/fixtures/*; do
  [ -f "$f" ] || continue
  name=${f##*/}
  [ "$name" != README ] || continue
  selector "$name"
  if [ -z "$sel" ]; then
    # Unknown fixture: offer it to every parser.
    i=0
    while [ $i -lt $N_TARGETS ]; do
      { byte $i; [ $i -ne $SANITIZE ] || byte 144; cat "$f"; } > "$CORPUS/seed-$i-$name"
      i=$((i + 1))
    done
  else
    { byte "$sel"; cat "$f"; } > "$CORPUS/seed-$sel-$name"
  fi
  # Every fixture is also log text for the UTF-8 sanitizer: final with
  # 16-byte pages (0x90), and not final with 7-byte pages (0x07).
  { byte $SANITIZE; byte 144; cat "$f"; } > "$CORPUS/seed-utf8-final-$name"
  { byte $SANITIZE; byte 7; cat "$f"; } > "$CORPUS/seed-utf8-$name"
  n=$((n + 1))
done
# A few UTF-8 edge cases (the examples of orch-log-read.h).
e=0
for s in 'caf\303\251 \342\202\254 \360\237\230\200' '\342\202A' '\300\257' '\377' 'a\000b' \
         '\340\200x' '\355\240\200' '\364\220\200\200' 'x\360\237\230'; do
  e=$((e + 1))
  # shellcheck disable=SC2059 # $s holds printf escapes on purpose
  { byte $SANITIZE; byte 131; printf "$s"; } > "$CORPUS/seed-utf8-edge-$e"
  # shellcheck disable=SC2059
  { byte $SANITIZE; byte 4; printf "$s"; } > "$CORPUS/seed-utf8-edge-open-$e"
done

# Seeds for fuzz-input: selector byte, then the input (see fuzz-input.c).
ICORPUS=$WORK/corpus-input
mkdir -p "$ICORPUS"
i=0
seed () { i=$((i + 1)); { byte "$1"; printf '%s' "$2"; } > "$ICORPUS/seed-$1-$i"; }
seed 1 "{'command': <['sleep', '600']>, 'name': <'x'>, 'env': <{'A': 'b'}>, 'restart': <'on-failure'>, 'memory_max': <uint64 1048576>, 'cpu_quota': <0.5>}"
seed 1 "{'command': <@as []>}"
seed 1 "{'command': <['true']>, 'user': <'root'>, 'user': <'nobody'>}"
seed 1 "{'command': <['true']>, 'tasks_max': <uint32 4294967295>, 'restart_delay_ms': <uint32 4294967295>}"
seed 2 '{"command": ["sh", "-c", "echo hi"], "env": {"A": "1"}, "cpu_quota": 1.5, "memory_max": 1048576}'
seed 2 '{"command": ["x"], "memory_max": 18446744073709551616, "tasks_max": -1}'
seed 2 '{"command": [[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]}'
seed 2 '{"command": ["a\u0000b"], "name": "\ud800"}'
# A short \u escape: json-glib 1.6 leaked its scanner buffer on it.
seed 2 '{"command": ["\ud80"], "name": "\x"}'
seed 2 '{"c c \ud800\ud800'
seed 4 "GET
/jobs/job_20260101_000000_abcdef?state=running&name=x"
seed 4 "DELETE
/jobs/%2e%2e%2fetc?signal=9&timeout_ms=1"
seed 4 "GET
/logs/cleanup/../x?tail=99999999999999999999&offset=-1&max_bytes=16"
seed 4 "POST
//jobs//job_x//restart//"
# Schedule expressions: calendar (5), cron (6).
for e in 'Mon..Fri *-*-* 10:00 Europe/Madrid' '*-02-29 12:00:00.5' '*-*~7/1 0:0' 'quarterly' \
         '2026-03-29 02:30 Europe/Madrid' 'Sat,Sun 1/3:*:0/15 UTC'; do seed 5 "$e"; done
for e in '*/15 9-17 * * mon-fri' '0 0 31 2 *' '@weekly' '5,10-20/3 * 1 jan,jul 0'; do seed 6 "$e"; done
# Log options: GVariant text, NUL, then the log text.
for opts in "{'tail_lines': <uint32 3>}" "{'offset': <uint64 2>, 'max_bytes': <uint32 16>}" \
            "{'stream': <'stderr'>, 'max_bytes': <uint32 4294967295>}" "{'offset': <uint64 18446744073709551615>}"; do
  i=$((i + 1))
  { byte 3; printf '%s' "$opts"; byte 0; printf 'line one\ncaf\303\251 \377 two\nthree'; } > "$ICORPUS/seed-3-$i"
done

run_target () { # NAME BINARY CORPUS
  rc_t=0
  mkdir -p "$WORK/artifacts-$1"
  (cd "$WORK" && "$2" -max_total_time="$SECS" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
    -artifact_prefix="$WORK/artifacts-$1/" "$3") >"$WORK/fuzz-$1.log" 2>&1 || rc_t=$?
  # Summary: the last status line and the number of runs.
  echo "run-fuzz: $1: $(grep -E '^#[0-9]+' "$WORK/fuzz-$1.log" | tail -n 1)"
  grep -E '^stat::number_of_executed_units' "$WORK/fuzz-$1.log" | sed "s/^/run-fuzz: $1: /" || true
  cat "$WORK/fuzz-$1.log" >> "$WORK/fuzz.log"
  cp "$WORK/artifacts-$1"/* "$WORK/artifacts/" 2>/dev/null || true
  [ $rc_t -eq 0 ] || rc=$rc_t
}

echo "run-fuzz: fuzzing each target for ${SECS}s ($n fixtures and $i hand-made inputs as seeds)"
rc=0
: > "$WORK/fuzz.log"
run_target parsers "$BIN" "$CORPUS"
run_target input "$BIN_INPUT" "$ICORPUS"

found=$(find "$WORK/artifacts" -type f | head -n 1)
if [ $rc -eq 0 ] && [ -z "$found" ]; then
  echo "run-fuzz: no finding"
  exit 0
fi

# Keep the input (the work dir goes away) and show the report.
KEEP=$(mktemp -d "${TMPDIR:-/tmp}/orch-fuzz-finding.XXXXXX")
cp "$WORK"/artifacts/* "$KEEP"/ 2>/dev/null || true
cp "$WORK/fuzz.log" "$KEEP/fuzz.log"
echo "run-fuzz: FINDING (libFuzzer exit $rc); report follows, full log in $KEEP/fuzz.log" >&2
sed -n '/^==[0-9]*==ERROR\|runtime error\|invariant violated\|^GLib\|ERROR: libFuzzer\|ALARM/,$p' "$WORK/fuzz.log" \
  | sed '/^Shadow bytes around/,/^==[0-9]*==ABORTING/d' \
  | grep -v -E '^#[0-9]+|^stat::' | head -n 60 >&2
for a in "$KEEP"/*; do
  case $a in */fuzz.log) continue ;; esac
  echo "run-fuzz: input: $a" >&2
  od -An -tx1 -v "$a" | head -n 8 >&2
done
echo "run-fuzz: reproduce: $0 $SRC 0 INPUT" >&2
exit 1
