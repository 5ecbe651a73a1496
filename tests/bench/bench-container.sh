#!/bin/bash
# A throwaway systemd booted in an nspawn container on the host's own root,
# for the benchmarks that measure the systemd backend or systemd itself
# (run-bench.sh --systemd, bench-schedules-systemd.sh).  Sourced after
# bench-lib.sh, not run:
#
#   container_boot          boots it (exit 77 where it cannot); sets CPID,
#                           the container's PID 1 as the host sees it
#   cexec CMD...            runs CMD inside (CEXEC_TIMEOUT seconds, 30)
#   container_binary PATH   prints where PATH (a file of the build) is seen
#                           inside, copying it into $SCRATCH/bin if needed
#   container_bus_policy    lets root own and call org.orchestrator there
#
# The cleanup (registered with lib_on_cleanup) powers the container off and
# removes the cgroups made for it, pass or fail.
#
# SAFETY: never --bind /tmp, /var/tmp or anything under them into the
# container: its tmpfiles "D /tmp" rule empties a bound folder.  Only
# BUILD_DIR is bound (read-only), and only when it is not under such a place.

NSPID=""
CPID=""
MACHINE=""
CGROUPS=()
CONTAINER_BIND=1
SCRATCH=/run/orch-bench   # inside the container (its /run is a tmpfs)

systemd_cleanup() {
    local cg
    if [ -n "$NSPID" ] && kill -0 "$NSPID" 2>/dev/null; then
        kill -TERM "$NSPID" 2>/dev/null     # clean poweroff of the container
        for _ in $(seq 100); do kill -0 "$NSPID" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$NSPID" 2>/dev/null; then
            log "container did not power off in 20 s, killing it"
            kill -KILL "$NSPID" 2>/dev/null
            [ -n "$CPID" ] && kill -KILL "$CPID" 2>/dev/null
        fi
        wait "$NSPID" 2>/dev/null
    fi
    NSPID=""
    for cg in "${CGROUPS[@]}"; do lib_remove_cgroup "$cg"; done
    CGROUPS=()
    [ -n "$MACHINE" ] && rmdir "/run/systemd/nspawn/propagate/$MACHINE" 2>/dev/null
    return 0
}
lib_on_cleanup systemd_cleanup

cexec() {
    timeout -k 5 "${CEXEC_TIMEOUT:-30}" nsenter -t "$CPID" -a \
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SYSTEMD_PAGER= "$@"
}

container_boot() {
    local p end state
    [ "$(id -u)" = 0 ] || { log "the systemd container needs root"; exit 77; }
    for p in systemd-nspawn nsenter timeout; do
        command -v "$p" >/dev/null 2>&1 || { log "$p not installed"; exit 77; }
    done
    case "$BUILD_DIR/" in
        /tmp/*|/var/tmp/*|/run/*|/var/run/*|/dev/*|/proc/*|/sys/*|/usr/*|/) CONTAINER_BIND=0 ;;
    esac
    MACHINE="orchbench-$$"
    if [ ! -d /run/systemd/system ]; then
        # No systemd on the host: a cgroup of our own per hierarchy, so we
        # can remove everything afterwards (as tests/systemd does).
        if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
            CGROUPS=("/sys/fs/cgroup/$MACHINE")
        else
            [ -e /sys/fs/cgroup/systemd/cgroup.procs ] && CGROUPS+=("/sys/fs/cgroup/systemd/$MACHINE")
            [ -e /sys/fs/cgroup/unified/cgroup.procs ] && CGROUPS+=("/sys/fs/cgroup/unified/$MACHINE")
        fi
        for p in "${CGROUPS[@]}"; do mkdir "$p" || { log "cannot create cgroup $p"; exit 77; }; done
    fi
    local bind_args=()
    if [ "$CONTAINER_BIND" = 1 ]; then bind_args=(--bind-ro="$BUILD_DIR"); fi
    log "booting container $MACHINE (build dir bound: $CONTAINER_BIND)"
    (
        for p in "${CGROUPS[@]}"; do echo "$BASHPID" > "$p/cgroup.procs" || exit 125; done
        exec systemd-nspawn --quiet --register=no --keep-unit --volatile=yes \
            --console=read-only -D / -M "$MACHINE" "${bind_args[@]}" --boot -- \
            systemd.firstboot=off systemd.unit=multi-user.target
    ) </dev/null >"$T/nspawn.log" 2>&1 &
    NSPID=$!
    end=$((SECONDS + 20))
    while [ -z "$CPID" ]; do
        kill -0 "$NSPID" 2>/dev/null || { tail -n 20 "$T/nspawn.log" >&2; log "nspawn exited"; exit 77; }
        for p in $(ps -o pid= --ppid "$NSPID" 2>/dev/null); do
            if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] &&
               [ "$(readlink "/proc/$p/ns/pid")" != "$(readlink /proc/self/ns/pid)" ]; then
                CPID=$p
            fi
        done
        [ -n "$CPID" ] && break
        [ $SECONDS -ge $end ] && { log "no container init after 20 s"; exit 77; }
        sleep 0.2
    done
    end=$((SECONDS + 60))
    while :; do
        state=$(CEXEC_TIMEOUT=5 cexec systemctl is-system-running 2>/dev/null)
        case "$state" in running|degraded) break ;; esac
        if [ $SECONDS -ge $end ]; then
            cexec systemctl is-active -q basic.target dbus.socket 2>/dev/null && break
            log "container not up after 60 s ($state)"; exit 77
        fi
        sleep 0.3
    done
    log "container up: pid $CPID, $state"
    cexec mkdir -p "$SCRATCH/bin" "$SCRATCH/log" "$SCRATCH/state" || exit 1
}

container_binary() {
    local path=$1 inside
    case "$path" in
        "$BUILD_DIR"/*) [ "$CONTAINER_BIND" = 1 ] && { echo "$path"; return 0; } ;;
    esac
    inside="$SCRATCH/bin/$(basename "$path")"
    cexec sh -c "cat > '$inside' && chmod 755 '$inside'" < "$path" || return 1
    echo "$inside"
}

container_bus_policy() {
    # We run as root, and root may do anything; still allow own.
    cexec mkdir -p /etc/dbus-1/system.d
    cexec sh -c 'cat > /etc/dbus-1/system.d/orch-bench.conf' <<'EOF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root">
    <allow own="org.orchestrator"/>
    <allow send_destination="org.orchestrator"/>
  </policy>
</busconfig>
EOF
    cexec systemctl is-active -q dbus.service || cexec systemctl start dbus.socket dbus.service
    cexec busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig >/dev/null
}
