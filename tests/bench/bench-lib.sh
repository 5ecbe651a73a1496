#!/bin/bash
# What the benchmark drivers (run-bench.sh, bench-sample.sh) share on top
# of tests/lib.sh, which gives them the private bus, orchestratord's start
# and the cleanup of everything: the machine's facts, the bench binary,
# and one daemon per backend with the checks around a run.  Sourced, not
# run:
#
#   . "$SRC_DIR/bench-lib.sh" NAME BUILD_DIR
#
# NAME prefixes the diagnostics.  Sets BUILD_DIR, DAEMON, $PIDS_FILE (job
# pids, one a line) and what lib.sh sets; exits 2 when BUILD_DIR holds no
# orchestratord.

BUILD_DIR=$(realpath -e "$2") || { echo "$1: no build dir $2" >&2; exit 2; }
DAEMON="$BUILD_DIR/src/orchestratord"
[ -x "$DAEMON" ] || { echo "$1: $DAEMON not built" >&2; exit 2; }
BENCH_LOG_NAME=$1
# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$BUILD_DIR" "$(dirname "${BASH_SOURCE[0]}")/../.."
export LC_ALL=C

# Diagnostics go to stderr: stdout is for the one JSON document.
log() { echo "$BENCH_LOG_NAME: $*" >&2; }
fail() { log "$*"; exit 1; }
trap 'log interrupted; exit 130' INT HUP
trap 'log terminated; exit 143' TERM

BENCH=""           # the bench binary
BENCH_PID=""       # it, while it runs
BENCH_STOP_S=30    # how long it may take to stop its jobs when told to
PIDS_FILE="$T/pids"
: > "$PIDS_FILE"

# bench_machine_json [MEMBERS]: {"cpu":..,"nproc":..,"mem_mb":..,"kernel":..,
# "cgroup":..MEMBERS}; MEMBERS, if any, start with a comma.
bench_machine_json() {
    local cpu mem
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    mem=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 }' /proc/meminfo)
    printf '{"cpu":%s,"nproc":%s,"mem_mb":%s,"kernel":%s,"cgroup":%s%s}' \
        "$(lib_json_str "${cpu:-unknown}")" "$(nproc)" "${mem:-0}" "$(lib_json_str "$(uname -r)")" \
        "$(lib_json_str "$(lib_cgroup_layout)")" "${1:-}"
}

# bench_binary NAME [LINK_ARGS...]: sets BENCH to tests/bench/NAME of the
# build, or when meson has not built it or it is older than its source,
# to one built here by hand.
bench_binary() {
    local name=$1 src="$SRC/tests/bench/$1.c"
    shift
    BENCH="$BUILD/tests/bench/$name"
    [ -x "$BENCH" ] && ! [ "$src" -nt "$BENCH" ] && return 0
    BENCH="$T/$name"
    log "building $BENCH from $src"
    # shellcheck disable=SC2046
    gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$BENCH" "$src" \
        $(pkg-config --cflags --libs libsystemd glib-2.0) "$@" >&2 || { log "cannot build $name"; exit 1; }
}

# When process $1 started (field 22 of /proc/PID/stat), or nothing.
proc_start() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    echo "${20}"
}

# Is $1 one of our `sleep N` jobs (600 unless a bench says otherwise) still
# alive (not a zombie)?  With $2,
# the start time it had when it was reported: pids are reused (pid_max is
# 32768 here) and other sessions run `sleep 600` jobs too, so a pid alone
# may name someone else's process by the time we look.
is_our_sleep() {
    local p=$1 st
    [ -r "/proc/$p/cmdline" ] || return 1
    [ "$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)" = "sleep ${BENCH_SLEEP_S:-600} " ] || return 1
    [ -z "${2:-}" ] || [ "$(proc_start "$p")" = "$2" ] || return 1
    st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$p/status" 2>/dev/null)
    [ "$st" != Z ] && [ "$st" != X ]
}

# Kills (SIGKILL) any job process we were told about (PIDS_FILE: "PID
# START" a line) that is still our sleep.  Prints how many it found; says
# on stderr which (the job id from its environment).
sweep_pids() {
    local n=0 p start id
    while read -r p start; do
        [ -n "$p" ] || continue
        if [ -z "$start" ]; then
            log "sweep: pid $p has no start time: not touched"
            continue
        fi
        if is_our_sleep "$p" "$start"; then
            n=$((n + 1))
            id=$(tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | sed -n 's/^ORCHESTRATOR_JOB_ID=//p')
            log "sweep: job process $p (started at tick $start, job ${id:-?}) survived"
            kill -KILL "$p" 2>/dev/null
        fi
    done < <(sort -u "$PIDS_FILE")
    echo "$n"
}

# Adds to PIDS_FILE the `sleep 600` children of the daemon (a second net
# under the pids the bench binary reported).
note_daemon_children() {
    local d=$1 p
    [ -n "$d" ] || return 0
    for p in $(ps -o pid= --ppid "$d" 2>/dev/null); do
        is_our_sleep "$p" && echo "$p $(proc_start "$p")" >> "$PIDS_FILE"
    done
    return 0
}

# bench_daemon_start NAME RESULT CONFIG [orchestratord args...]:
# orchestratord on the bench bus with CONFIG (the text of its
# configuration file), logs and state in $T/NAME; on failure the error
# goes to RESULT as JSON.  Runs in the main shell (not in $(...)) so the
# cleanup knows DAEMON_PID.
bench_daemon_start() {
    local name=$1 result=$2 dir="$T/$1"
    mkdir -p "$dir/log" "$dir/state"
    printf '%s\n' "$3" > "$dir/orchestratord.conf"
    shift 3
    if ! LIB_DAEMON_CONFIG="$dir/orchestratord.conf" LIB_DAEMON_LOG="$dir/daemon.log" \
         lib_spawn_daemon --log-dir="$dir/log" --state-dir="$dir/state" "$@"; then
        log "orchestratord ($name) did not start:"; sed 's/^/  /' "$dir/daemon.log" >&2
        lib_stop_pid "$DAEMON_PID"; DAEMON_PID=""
        printf '{"error":%s}' "$(lib_json_str "daemon did not start: $(tail -n 1 "$dir/daemon.log")")" > "$result"
        return 1
    fi
}

# bench_run NAME [ARGS...]: the bench binary with ARGS, its JSON in
# $T/NAME/bench.json; sets BENCH_RC.  In the background and waited for,
# so that a signal reaches our trap at once.
bench_run() {
    local dir="$T/$1"
    shift
    "$BENCH" "$@" </dev/null >"$dir/bench.json" 2>"$dir/bench.err" &
    BENCH_PID=$!
    wait "$BENCH_PID"
    BENCH_RC=$?
    BENCH_PID=""
    sed 's/^/  /' "$dir/bench.err" >&2
}

# bench_daemon_finish NAME RESULT: every job pid must be gone now (stopped
# through the API); stops the daemon, counts its warnings and writes the
# bench binary's object with these checks spliced in to RESULT.  Fails
# unless the binary succeeded and no job was left.
bench_daemon_finish() {
    local name=$1 result=$2 dir="$T/$1" out left warn
    out=$(cat "$dir/bench.json")
    note_daemon_children "$DAEMON_PID"
    left=$(sweep_pids)
    [ "$left" != 0 ] && log "$name: $left job process(es) survived Stop; killed them"
    lib_stop_pid "$DAEMON_PID" orchestratord; DAEMON_PID=""
    warn=$(grep -c -E 'WARNING|CRITICAL|ERROR' "$dir/daemon.log")
    if [ "$warn" != 0 ]; then
        log "$name: $warn warning line(s) from orchestratord, first ones:"
        grep -E 'WARNING|CRITICAL|ERROR' "$dir/daemon.log" | head -n 5 | sed 's/^/  /' >&2
    fi
    [ -n "$out" ] || out="{\"error\":\"${BENCH##*/} printed nothing\"}"
    printf '%s,"leftover_jobs":%s,"daemon_warnings":%s,"bench_exit":%s}' \
        "${out%\}}" "$left" "$warn" "$BENCH_RC" > "$result"
    [ "$BENCH_RC" = 0 ] && [ "$left" = 0 ]
}

# bench_cgroupfs CGROUP: the driver's bench_backend for the cgroupfs
# backend, its jobs under CGROUP in the cgroup2 hierarchy (removed after),
# result in $T/res-cgroupfs.json; a "skipped" result where there is no
# writable cgroup2 hierarchy.  Fails if the run or the removal does.
bench_cgroupfs() {
    local cg2 cgroot rc=0
    cg2=$(cgroup2_mount)
    if [ -z "$cg2" ] || [ ! -w "$cg2/cgroup.procs" ]; then
        log "no writable cgroup2 hierarchy: skipping cgroupfs"
        echo '{"skipped":"no writable cgroup2 hierarchy"}' > "$T/res-cgroupfs.json"
        return 0
    fi
    cgroot="$cg2/$1"
    LIB_CGROUPS+=("$cgroot")
    bench_backend cgroupfs "$T/res-cgroupfs.json" --backend=cgroupfs --cgroup-root="$cgroot" || rc=1
    lib_remove_cgroup "$cgroot" || rc=1
    return $rc
}

# wrk_miss_script TARGET FILE: a wrk script whose every request carries a
# query of its own, so that none is answered from the shim's cache (what
# a scrape every 15 s costs).  /jobs/ refuses unknown query keys: a limit
# above any job count (a number, so that it stays a valid u).  Each wrk
# thread has a Lua state of its own: a range of numbers each, or the
# second thread would ask what the first just did.
wrk_miss_script() {
    local q='?miss='
    [ "$1" = /jobs/ ] && q='?limit='
    cat >"$2" <<LUA
local threads = 0
function setup(thread)
  thread:set("first", 1000000 + threads * 100000000)
  threads = threads + 1
end
function init(args)
  n = first
end
function request()
  n = n + 1
  return wrk.format(nil, "$1$q" .. n)
end
LUA
}

# At any exit, before lib.sh ends the daemon and the bus: the bench binary
# stops (through the API) and removes the jobs it created; then the
# daemon goes, and any job it left.
bench_cleanup() {
    local left
    if [ -n "$BENCH_PID" ] && kill -0 "$BENCH_PID" 2>/dev/null; then
        kill -TERM "$BENCH_PID" 2>/dev/null
        for _ in $(seq $((BENCH_STOP_S * 10))); do kill -0 "$BENCH_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$BENCH_PID" 2>/dev/null
        wait "$BENCH_PID" 2>/dev/null
        cat "$T"/*/bench.err 2>/dev/null | sed 's/^/  /' >&2
    fi
    BENCH_PID=""
    note_daemon_children "$DAEMON_PID"
    lib_stop_pid "$DAEMON_PID" orchestratord; DAEMON_PID=""
    left=$(sweep_pids)
    [ "$left" != 0 ] && log "cleanup: killed $left leftover job(s)"
    return 0
}
lib_on_cleanup bench_cleanup
