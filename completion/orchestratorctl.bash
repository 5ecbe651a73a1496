# bash completion for orchestratorctl                       -*- shell-script -*-
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Commands, their options, and job ids from `orchestratorctl list -q` on the
# bus named on the line (--system, --user, --bus-address).  The line is
# split on blanks only: COMP_WORDS would cut "--bus-address=unix:path=..."
# at every "=" and ":".

_orchestratorctl_ids() {
    "${1:-orchestratorctl}" "${@:2}" list -q 2>/dev/null
}

_orchestratorctl() {
    local line=${COMP_LINE:0:$COMP_POINT}
    local -a w bus
    local cur prev cmd="" cmd_at=0 i dashes=0
    read -ra w <<<"$line"
    if [[ $line == *[[:blank:]] ]]; then
        w+=("")
    fi
    cur=${w[-1]}
    prev=""
    ((${#w[@]} > 1)) && prev=${w[-2]}

    for ((i = 1; i < ${#w[@]} - 1; i++)); do
        case ${w[i]} in
            --) [[ -n $cmd ]] && { dashes=$i; break; } ;;
            --system) bus+=(--system) ;;
            --user) [[ $cmd == run ]] || bus+=(--user) ;;
            --bus-address=*) bus+=("${w[i]}") ;;
            --bus-address) bus+=("${w[i]}" "${w[i + 1]}"); ((i++)) ;;
            -*) ;;
            *) if [[ -z $cmd ]]; then cmd=${w[i]}; cmd_at=$i; fi ;;
        esac
    done

    local globals="--system --user --bus-address= --help"
    local commands="run list status stop restart rm logs top metrics cleanup set-limits events schedule group scale forecast recommend"

    # After "run ... --": the command to run, then its files.
    if ((dashes > 0)); then
        if ((${#w[@]} - 1 == dashes + 1)); then
            mapfile -t COMPREPLY < <(compgen -c -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        fi
        return 0
    fi

    case $prev in
        --state) mapfile -t COMPREPLY < <(compgen -W "starting running stopping exited failed stopped" -- "$cur"); return 0 ;;
        --restart|-r) mapfile -t COMPREPLY < <(compgen -W "no on-failure always" -- "$cur"); return 0 ;;
        --signal|-s) mapfile -t COMPREPLY < <(compgen -W "TERM KILL INT HUP QUIT USR1 USR2 STOP CONT" -- "$cur"); return 0 ;;
        --cwd|-C) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return 0 ;;
        --user|-u) if [[ $cmd == run ]]; then mapfile -t COMPREPLY < <(compgen -u -- "$cur"); return 0; fi ;;
        --overlap) mapfile -t COMPREPLY < <(compgen -W "skip queue parallel replace" -- "$cur"); return 0 ;;
        --format) mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur"); return 0 ;;
        --on-calendar|--cron|--every|--randomized-delay|--base-time) return 0 ;;
        --bus-address|--name|-n|--memory-max|-m|--cpu-quota|-c|--tasks-max|--env|-e|--stop-timeout|--restart-max|--restart-delay|--timeout|-t|--lines|--older-than|--delay|-d|--iterations|--memory-high|--cpu-weight|--io-weight|--horizon|--step|--memory-limit|--limit|--after)
            return 0 ;;
    esac

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "$globals --version" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
        fi
        [[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
        return 0
    fi

    local opts=""
    case $cmd in
        run) opts="--name --restart --restart-max --restart-delay --memory-max --cpu-quota --tasks-max --stop-timeout --env --cwd --user --separate-stderr --log-timestamps --on-calendar --memory-warn-before --" ;;
        schedule) opts="--name --on-calendar --cron --every --overlap --persistent --randomized-delay --timeout --json --iterations --base-time --" ;;
        list) opts="--state --name --limit --after --json --quiet" ;;
        status) opts="--json" ;;
        stop) opts="--signal --timeout --json" ;;
        restart) opts="--json" ;;
        rm) opts="--force" ;;
        logs) opts="--lines --follow --stderr --json --timestamps --format" ;;
        top) opts="--delay --iterations" ;;
        metrics) opts="--json" ;;
        cleanup) opts="--older-than --json" ;;
        events) opts="--follow --lines --json" ;;
        set-limits) opts="--memory-max --memory-high --cpu-quota --cpu-weight --tasks-max --io-weight --json" ;;
        group) opts="create list show rm --name --replicas --max-unavailable --env --cpu-target --min --max --json" ;;
        forecast) opts="--horizon --step --memory-limit --json" ;;
        recommend) opts="--apply --json --interval" ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$opts ${globals/--user /}" -- "$cur")
        [[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
        return 0
    fi

    # Positional arguments: count those after the command.
    local -a pos=()
    for ((i = cmd_at + 1; i < ${#w[@]} - 1; i++)); do
        case ${w[i]} in
            --state|--name|-n|--signal|-s|--timeout|-t|--lines|--older-than|--delay|-d|--iterations|--bus-address|--memory-max|-m|--memory-high|--cpu-quota|-c|--cpu-weight|--tasks-max|--io-weight|--horizon|--step|--memory-limit|--limit|--after) ((i++)) ;;
            -*) ;;
            *) pos+=("${w[i]}") ;;
        esac
    done
    case $cmd in
        schedule)
            if ((${#pos[@]} == 0)); then
                mapfile -t COMPREPLY < <(compgen -W "add list show rm pause resume trigger next" -- "$cur")
            elif ((${#pos[@]} == 1)) && [[ " show rm pause resume trigger " == *" ${pos[0]} "* ]]; then
                mapfile -t COMPREPLY < <(compgen -W "$("${w[0]}" "${bus[@]}" schedule list --json 2>/dev/null | grep -o '"id" : "sched_[^"]*"' | cut -d'"' -f4)" -- "$cur")
            fi ;;
        status|stop|restart|rm|logs|set-limits|events|recommend)
            ((${#pos[@]} == 0)) && mapfile -t COMPREPLY < <(compgen -W "$(_orchestratorctl_ids "${w[0]}" "${bus[@]}")" -- "$cur") ;;
        metrics)
            if ((${#pos[@]} == 0)); then
                mapfile -t COMPREPLY < <(compgen -W "system detailed job pid" -- "$cur")
            elif ((${#pos[@]} == 1)) && [[ ${pos[0]} == job ]]; then
                mapfile -t COMPREPLY < <(compgen -W "$(_orchestratorctl_ids "${w[0]}" "${bus[@]}")" -- "$cur")
            fi ;;
        forecast)
            ((${#pos[@]} == 0)) && mapfile -t COMPREPLY < <(compgen -W "system $(_orchestratorctl_ids "${w[0]}" "${bus[@]}")" -- "$cur") ;;
    esac
    return 0
}
complete -F _orchestratorctl orchestratorctl
