#!/bin/bash
# Shared by the shell test tiers (fault, soak, the README and completion
# tests) and the benchmarks: a private bus, orchestratord and
# orchestrator-rest on it, and a cleanup that leaves nothing behind, pass
# or fail: every process started here, every job the daemon started (by
# its cgroup, or by its log file for the none backend), every cgroup,
# every mount, the scratch directory.  Sourced, not run:
#
#   source "$SRC/tests/lib.sh" BUILD_DIR SOURCE_DIR
#
# Sets $BUILD, $SRC, $T (scratch directory).  Tests exit 0 (pass),
# 1 (fail, through fail()) or 77 (skip, through skip()).  A script may
# define its own log() and fail() after sourcing (the benchmarks keep
# stdout for their JSON); the functions here call whichever is defined.

BUILD=$(realpath "$1")
SRC=$(realpath "$2")
T=$(mktemp -d "${TMPDIR:-/tmp}/orch-test-XXXXXX")
export LC_ALL=C.UTF-8
# Debian's python3, not a shim in front of it (pyenv's costs 0.3 s a call).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

LIB_PIDS=()        # processes we started, ended in reverse order
LIB_MOUNTS=()      # mount points we made
LIB_CGROUPS=()     # cgroup directories we made (the jobs' parents)
LIB_CLEANUP_HOOKS=() # functions run first at cleanup, latest first
BUS_ADDR=""
BUS_PID=""
DAEMON_PID=""
SHIM_PID=""
URL=""

log() { echo "# $*"; }
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# Whether @pid is a child of this shell: a pid we started and already
# reaped may since belong to someone else.
lib_is_child() {
  local stat state ppid
  { stat=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
  # Past the command name, which may hold anything.
  read -r state ppid _ <<<"${stat##*) }"
  [ "$ppid" = "$$" ]
}

# lib_stop_pid PID [NAME]: ends PID (one we started): TERM, KILL after
# 5 s (said on stderr when NAME is given), reaped.
lib_stop_pid() {
  local p=$1 name=${2:-}
  [ -n "$p" ] || return 0
  if lib_is_child "$p"; then
    kill -TERM "$p" 2>/dev/null
    kill -CONT "$p" 2>/dev/null   # a test may have stopped it
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
      [ -n "$name" ] && echo "# $name ($p) ignored SIGTERM for 5 s, killing it" >&2
      kill -KILL "$p" 2>/dev/null
    fi
  fi
  wait "$p" 2>/dev/null
  return 0
}

# Jobs outlive the daemon by design: the none backend's are found by their
# stdout, which is a log file under $T.
lib_kill_log_writers() {
  "$PY" - "$T" <<'PY'
import os, signal, sys
top = sys.argv[1] + "/"
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            if os.readlink(f"/proc/{p}/fd/1").startswith(top):
                os.kill(int(p), signal.SIGKILL)
        except OSError:
            pass
PY
}

# lib_remove_cgroup DIR: ends what is left in the cgroup DIR and removes
# it, depth first; returns 1 (and says so on stderr) if it cannot.
lib_remove_cgroup() {
  local cg=$1
  [ -n "$cg" ] && [ -d "$cg" ] || return 0
  [ -n "$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] &&
    echo "# processes left in $cg, killing them" >&2
  if [ -e "$cg/cgroup.kill" ]; then
    echo 1 > "$cg/cgroup.kill" 2>/dev/null
  else
    find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null |
      while read -r p; do kill -KILL "$p" 2>/dev/null; done
  fi
  for _ in $(seq 50); do
    find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
    [ -d "$cg" ] || return 0
    sleep 0.1
  done
  echo "# cannot remove cgroup $cg" >&2
  return 1
}

# lib_on_cleanup FUNC: FUNC runs at cleanup before anything here is
# ended (e.g. to stop jobs through the daemon while it still serves).
lib_on_cleanup() { LIB_CLEANUP_HOOKS+=("$1"); }

lib_cleanup() {
  # Under set -e a failing kill or wait would end the cleanup halfway.
  set +e
  [ -n "${LIB_TRACE:-}" ] && set -x
  local i
  for ((i = ${#LIB_CLEANUP_HOOKS[@]} - 1; i >= 0; i--)); do "${LIB_CLEANUP_HOOKS[i]}"; done
  for ((i = ${#LIB_PIDS[@]} - 1; i >= 0; i--)); do lib_stop_pid "${LIB_PIDS[i]}"; done
  lib_kill_log_writers
  for cg in "${LIB_CGROUPS[@]}"; do lib_remove_cgroup "$cg"; done
  for ((i = ${#LIB_MOUNTS[@]} - 1; i >= 0; i--)); do
    umount -l "${LIB_MOUNTS[i]}" 2>/dev/null
  done
  rm -rf "$T"
}
trap lib_cleanup EXIT
trap 'exit 1' INT TERM

# The cgroup2 mount point: /sys/fs/cgroup (pure v2) or the unified mount of
# a hybrid host.
cgroup2_mount() {
  awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' \
    /proc/self/mountinfo | head -n 1
}

# The cgroup layout in words: "v2 (/sys/fs/cgroup)", "hybrid (v2 at
# /sys/fs/cgroup/unified)" or "v1 only".
lib_cgroup_layout() {
  local m
  m=$(cgroup2_mount)
  if [ -z "$m" ]; then echo "v1 only"
  elif [ "$m" = /sys/fs/cgroup ]; then echo "v2 ($m)"
  else echo "hybrid (v2 at $m)"; fi
}

# Whether the cgroupfs backend can run here (root, a writable cgroup2).
lib_have_cgroupfs() {
  local m
  m=$(cgroup2_mount)
  [ "$(id -u)" -eq 0 ] && [ -n "$m" ] && [ -w "$m" ]
}

# A cgroup of our own for the cgroupfs backend's jobs; prints its path.
# Skips the test where there is none to write.
lib_cgroup_root() {
  local m cg
  lib_have_cgroupfs || skip "cgroupfs backend: needs root and a writable cgroup2 hierarchy"
  m=$(cgroup2_mount)
  cg="$m/orch-test-${T##*-}"
  mkdir "$cg" || fail "cannot make $cg"
  LIB_CGROUPS+=("$cg")
  # On a hybrid host the daemon also makes the jobs' v1 memory groups,
  # under its own v1 memory cgroup, in a directory of the same name.
  m=$(lib_v1_memory_dir)
  [ -n "$m" ] && LIB_CGROUPS+=("$m/${cg##*/}")
  echo "$cg"
}

# This process's own cgroup in a mounted v1 memory hierarchy, if any.
lib_v1_memory_dir() {
  local mp rel
  mp=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup" && $NF ~ /(^|,)memory(,|$)/) print $5; break } }' \
    /proc/self/mountinfo | head -n 1)
  rel=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' /proc/self/cgroup | head -n 1)
  [ -n "$mp" ] && [ -n "$rel" ] && echo "$mp${rel%/}"
}

# lib_tmpfs DIR SIZE: a small tmpfs at DIR (made), gone at the end.
lib_tmpfs() {
  [ "$(id -u)" -eq 0 ] || skip "a tmpfs needs root"
  mkdir -p "$1"
  mount -t tmpfs -o "size=$2,mode=0755" tmpfs "$1" || skip "cannot mount a tmpfs at $1"
  LIB_MOUNTS+=("$1")
}

# Fills the file system holding DIR until it has no block left (inodes
# are left: a new empty file can still be made, as on a real full disk).
lib_fill() {
  dd if=/dev/zero of="$1/.fill" bs=64k status=none 2>/dev/null || true
  dd if=/dev/zero of="$1/.fill-tail" bs=512 status=none 2>/dev/null || true
}

lib_unfill() { rm -f "$1"/.fill "$1"/.fill-tail; }

lib_start_bus() {
  cat > "$T/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$T/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <limit name="max_replies_per_connection">1024</limit>
</busconfig>
EOF
  rm -f "$T/bus"
  dbus-daemon --config-file="$T/bus.conf" --nofork --nosyslog </dev/null >"$T/dbus.log" 2>&1 &
  BUS_PID=$!
  LIB_PIDS+=("$BUS_PID")
  for _ in $(seq 100); do [ -S "$T/bus" ] && break; sleep 0.05; done
  [ -S "$T/bus" ] || fail "dbus-daemon did not start: $(cat "$T/dbus.log")"
  BUS_ADDR="unix:path=$T/bus"
}

# lib_config BACKEND [LINE...]: writes $T/orch.conf ([daemon] backend, log
# and state directories under $T unless LOG_DIR/STATE_DIR say otherwise,
# and for cgroupfs a cgroup of our own); further lines are appended as
# they are (give their [group] headers).
lib_config() {
  local backend=$1; shift
  LOG_DIR=${LOG_DIR:-$T/log}
  STATE_DIR=${STATE_DIR:-$T/state}
  {
    printf '[daemon]\nbackend=%s\nlog_dir=%s\nstate_dir=%s\n' "$backend" "$LOG_DIR" "$STATE_DIR"
    if [ "$backend" = cgroupfs ]; then
      if [ -z "${CGROUP_ROOT:-}" ]; then
        # Made in a subshell: remembered here, for the cleanup.
        CGROUP_ROOT=$(lib_cgroup_root) || exit $?
        LIB_CGROUPS+=("$CGROUP_ROOT")
      fi
      printf 'cgroup_root=%s\n' "$CGROUP_ROOT"
    fi
    for line in "$@"; do printf '%s\n' "$line"; done
  } > "$T/orch.conf"
}

lib_daemon_serves() {
  busctl --address="$BUS_ADDR" status org.orchestrator >/dev/null 2>&1
}

# lib_spawn_daemon [ARG...]: starts orchestratord on the test bus with
# $LIB_DAEMON_CONFIG ($T/orch.conf) and ARGs, its output appended to
# $LIB_DAEMON_LOG ($T/daemon.log), and waits until it owns its name,
# looking every $LIB_DAEMON_POLL_MS (50) ms.  Returns 1, the reason in
# $LIB_ERROR, when it exits first or has not taken the name in 10 s.
# $LIB_DAEMON_WRAP, if set, is a command that execs it (e.g. "prlimit
# --nofile=128:128 --").
lib_spawn_daemon() {
  local conf=${LIB_DAEMON_CONFIG:-$T/orch.conf} logf=${LIB_DAEMON_LOG:-$T/daemon.log}
  local poll=${LIB_DAEMON_POLL_MS:-50} i
  ${LIB_DAEMON_WRAP:-} "$BUILD/src/orchestratord" --bus-address="$BUS_ADDR" --config="$conf" "$@" \
    </dev/null >>"$logf" 2>&1 &
  DAEMON_PID=$!
  LIB_PIDS+=("$DAEMON_PID")
  for ((i = 0; i < 10000 / poll; i++)); do
    lib_daemon_serves && return 0
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      LIB_ERROR="orchestratord exited: $(tail -n 20 "$logf")"
      return 1
    fi
    sleep "$((poll / 1000)).$(printf %03d $((poll % 1000)))"
  done
  LIB_ERROR="orchestratord did not take its name: $(tail -n 20 "$logf")"
  return 1
}

# lib_start_daemon [ARG...]: the same, and the test fails if it does not
# serve.
lib_start_daemon() {
  lib_spawn_daemon "$@" || fail "$LIB_ERROR"
}

# Starts orchestrator-rest on 127.0.0.1 (a free port) without a token
# (or with $LIB_SHIM_AUTH instead, e.g. --token-file=F), with further
# arguments from "$@"; sets $URL.
lib_start_shim() {
  "$BUILD/src/orchestrator-rest" --bus-address="$BUS_ADDR" --config="$T/orch.conf" \
    --listen=127.0.0.1:0 ${LIB_SHIM_AUTH:---no-auth} --data-dir="$SRC/data" "$@" >"$T/rest.out" 2>>"$T/rest.log" &
  SHIM_PID=$!
  LIB_PIDS+=("$SHIM_PID")
  for _ in $(seq 200); do
    grep -q '^listening on' "$T/rest.out" 2>/dev/null && break
    kill -0 "$SHIM_PID" 2>/dev/null || fail "orchestrator-rest exited: $(cat "$T/rest.log")"
    sleep 0.05
  done
  URL=$(sed -n 's#^listening on \(http://[^/]*\)/*$#\1#p' "$T/rest.out" | head -n 1)
  [ -n "$URL" ] || fail "orchestrator-rest did not say where it listens"
}

# lib_call INTERFACE METHOD SIGNATURE ARGS...: busctl call on the daemon,
# JSON reply on stdout (busctl --json=short), the error on stderr.  A call
# gives up after $LIB_CALL_TIMEOUT (busctl's 25 s unless set), so that a
# test of a daemon that freezes fails in time.
lib_call() {
  local iface=$1 method=$2; shift 2
  # "--": an argument such as "-n" is the job's, not busctl's.
  busctl --address="$BUS_ADDR" --json=short --timeout="${LIB_CALL_TIMEOUT:-25}" -- \
    call org.orchestrator /org/orchestrator \
    "org.orchestrator.$iface" "$method" "$@"
}

# lib_create ARGV...: Jobs.Create with this command; prints the id.
lib_create() {
  local out
  out=$(lib_call Jobs Create 'a{sv}' 1 command as $# "$@") || return 1
  "$PY" -c 'import json,sys; print(json.load(sys.stdin)["data"][0])' <<<"$out"
}

# lib_get ID: the job record as a flat JSON object on stdout.
lib_get() {
  lib_call Jobs Get s "$1" | "$PY" -c '
import json, sys
rec = json.load(sys.stdin)["data"][0]
print(json.dumps({k: v["data"] for k, v in rec.items()}))'
}

# lib_field ID KEY: one field of the job record.
lib_field() {
  lib_get "$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

# lib_wait_state ID STATES [SECONDS]: polls until the state is one of
# STATES ("exited|failed"); fails the test after SECONDS (10).
lib_wait_state() {
  local id=$1 states=$2 limit=${3:-10} s
  for _ in $(seq $((limit * 20))); do
    s=$(lib_field "$id" state 2>/dev/null) && [[ "|$states|" == *"|$s|"* ]] && return 0
    sleep 0.05
  done
  fail "job $id is ${s:-unknown}, not $states, after ${limit}s: $(lib_get "$id" 2>&1)"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
fd_count() { ls "/proc/$1/fd" | wc -l; }

# lib_gcall INTERFACE.METHOD ARGS...: gdbus call on the daemon (GVariant
# text arguments); the reply on stdout, and on failure the D-Bus error
# name and message on stderr ("GDBus.Error:org.orchestrator.Error.X: ...").
lib_gcall() {
  local method=$1; shift
  gdbus call --address "$BUS_ADDR" --dest org.orchestrator --object-path /org/orchestrator \
    --method "org.orchestrator.$method" "$@"
}

# Processes whose command line is exactly "$@", counted (zombies not).
lib_count_procs() {
  "$PY" - "$@" <<'PY'
import os, sys
want = ("\0".join(sys.argv[1:]) + "\0").encode()
n = 0
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        with open(f"/proc/{p}/cmdline", "rb") as f:
            if f.read() != want:
                continue
        with open(f"/proc/{p}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] in "ZX":
                continue
        n += 1
    except OSError:
        pass
print(n)
PY
}

# lib_http METHOD PATH [CURL_ARGS...]: one request to the shim ($URL) on a
# fresh connection; sets HTTP_STATUS ("000" when nothing came back),
# HTTP_BODY and HTTP_SECONDS.  Gives up after LIB_HTTP_MAX_TIME seconds (60).
lib_http() {
  local method=$1 path=$2 out
  shift 2
  rm -f "$T/http.body"
  out=$(curl -s -X "$method" --max-time "${LIB_HTTP_MAX_TIME:-60}" -o "$T/http.body" \
          -w '%{http_code} %{time_total}' "$@" "$URL$path")
  HTTP_STATUS=${out%% *}
  HTTP_SECONDS=${out##* }
  HTTP_BODY=$(cat "$T/http.body" 2>/dev/null)
}

# lib_json_str TEXT: TEXT as a JSON string literal (tabs and newlines
# become spaces).
lib_json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/ }
  s=${s//$'\n'/ }
  printf '"%s"' "$s"
}

# lib_json KEY: that member of the JSON object on stdin.
lib_json() {
  "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# lib_wait_http PATH STATUS [SECONDS]: polls GET PATH until it answers
# STATUS; fails the test after SECONDS (20).
lib_wait_http() {
  local path=$1 want=$2 limit=${3:-20} end
  end=$((SECONDS + limit))
  while :; do
    LIB_HTTP_MAX_TIME=5 lib_http GET "$path"
    [ "$HTTP_STATUS" = "$want" ] && return 0
    [ $SECONDS -lt $end ] || fail "GET $path: $HTTP_STATUS, not $want, after ${limit}s: $HTTP_BODY"
    sleep 0.2
  done
}

# lib_ws_listen PATH OUT: a WebSocket client of the shim in the background
# (python3, no module beyond the standard library); one line per text
# frame ("<type>"), "closed <code>" when the server closes.  Sets WS_PID.
lib_ws_listen() {
  "$PY" - "$URL" "$1" >"$2" 2>&1 <<'PY' &
import base64, json, os, socket, struct, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
s = socket.create_connection((url.hostname, url.port))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET {sys.argv[2]} HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
f = s.makefile("rb")
status = f.readline().split()
if len(status) < 2 or status[1] != b"101":
    print("handshake", status, flush=True)
    sys.exit(1)
while f.readline() not in (b"\r\n", b""):
    pass
def send(opcode, payload):
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    s.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body)
while True:
    head = f.read(2)
    if len(head) < 2:
        print("eof", flush=True)
        sys.exit(0)
    opcode, n = head[0] & 0x0F, head[1] & 0x7F
    if n == 126:
        n = struct.unpack(">H", f.read(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", f.read(8))[0]
    payload = f.read(n)
    if opcode == 1:
        print(json.loads(payload).get("type"), flush=True)
    elif opcode == 8:
        code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 0
        print("closed", code, flush=True)
        send(8, payload[:2])
        sys.exit(0)
    elif opcode == 9:
        send(10, payload)
PY
  WS_PID=$!
  LIB_PIDS+=("$WS_PID")
}

# lib_exit_clean PID NAME LOG: ends PID (one we started) with SIGTERM and
# fails the test unless it exits within 10 s with status 0 (under the
# sanitizers: no error, no leak); LOG is quoted when it does not.
lib_exit_clean() {
  local pid=$1 name=$2 logf=$3 rc
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "$name did not exit 10 s after SIGTERM"
  wait "$pid"
  rc=$?
  [ "$rc" -eq 0 ] || fail "$name exited with status $rc: $(tail -n 30 "$logf")"
}

# A test killed outright runs no trap, and meson's timeout gives the
# trap half a second before SIGKILL: a watcher in a session of its own
# cleans up after a test that could not (tests/lib-watch.sh).
lib_owner_start=$(<"/proc/$$/stat")
lib_owner_start=${lib_owner_start##*) }
read -r -a lib_owner_start <<<"$lib_owner_start"
setsid -f bash "$SRC/tests/lib-watch.sh" "$$" "${lib_owner_start[19]}" "$T" "$(cgroup2_mount)" "$(lib_v1_memory_dir)" \
  </dev/null >/dev/null 2>&1
unset lib_owner_start
