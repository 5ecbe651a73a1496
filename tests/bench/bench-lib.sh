#!/bin/bash
# Helpers the benchmark drivers share (run-bench.sh, bench-sample.sh); sourced,
# not run.  They expect log(), $TMP (a scratch directory) and $PIDS_FILE
# (job pids, one a line) from the driver, and set DBUS_PID and BUS_ADDR.

json_str() {   # JSON string literal of $1
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    s=${s//$'\t'/ }
    s=${s//$'\n'/ }
    printf '"%s"' "$s"
}

# The cgroup2 mount point from mountinfo: /sys/fs/cgroup on a pure v2 host,
# /sys/fs/cgroup/unified on a hybrid one.
cgroup2_mount() {
    awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' \
        /proc/self/mountinfo | head -n 1
}

cgroup_layout() {
    local m
    m=$(cgroup2_mount)
    if [ -z "$m" ]; then echo "v1 only"
    elif [ "$m" = /sys/fs/cgroup ]; then echo "v2 ($m)"
    else echo "hybrid (v2 at $m)"; fi
}

# Is $1 one of our `sleep 600` jobs still alive (not a zombie)?
is_our_sleep() {
    local p=$1 st
    [ -r "/proc/$p/cmdline" ] || return 1
    [ "$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)" = "sleep 600 " ] || return 1
    st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$p/status" 2>/dev/null)
    [ "$st" != Z ] && [ "$st" != X ]
}

# Kills (SIGKILL) any job pid we were told about that is still our sleep.
# Prints how many it found.
sweep_pids() {
    local n=0 p
    for p in $(sort -un "$PIDS_FILE"); do  # one pid a line
        if is_our_sleep "$p"; then
            n=$((n + 1))
            kill -KILL "$p" 2>/dev/null
        fi
    done
    echo "$n"
}

stop_pid() {   # stop_pid PID NAME: TERM, then KILL after 5 s
    local p=$1
    [ -n "$p" ] || return 0
    kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null; return 0; }
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
        log "$2 ($p) ignored SIGTERM for 5 s, killing it"
        kill -KILL "$p" 2>/dev/null
    fi
    wait "$p" 2>/dev/null
    return 0
}

remove_cgroup_tree() {   # kill what is left in $1, remove it depth-first
    local cg=$1 p
    [ -n "$cg" ] && [ -d "$cg" ] || return 0
    if [ -n "$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)" ]; then
        log "processes left in $cg, killing them"
        if [ -e "$cg/cgroup.kill" ]; then
            echo 1 > "$cg/cgroup.kill" 2>/dev/null
        else
            find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null; done
        fi
        sleep 0.3
    fi
    for _ in 1 2 3 4 5; do
        find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
        [ -d "$cg" ] || return 0
        sleep 0.3
    done
    log "cannot remove cgroup $cg"
    return 1
}

start_bus() {
    cat > "$TMP/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$TMP/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <limit name="max_replies_per_connection">1024</limit>
</busconfig>
EOF
    dbus-daemon --config-file="$TMP/bus.conf" --nofork --nosyslog --print-address=3 \
        3>"$TMP/bus.addr" </dev/null >"$TMP/dbus.log" 2>&1 &
    DBUS_PID=$!
    for _ in $(seq 100); do
        [ -s "$TMP/bus.addr" ] && break
        kill -0 "$DBUS_PID" 2>/dev/null || { cat "$TMP/dbus.log" >&2; log "dbus-daemon died"; exit 1; }
        sleep 0.05
    done
    BUS_ADDR=$(head -n 1 "$TMP/bus.addr")
    [ -n "$BUS_ADDR" ] || { log "dbus-daemon printed no address"; exit 1; }
}
