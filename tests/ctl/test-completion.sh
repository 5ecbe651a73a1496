#!/bin/bash
# The bash completion against a daemon on a private bus: commands, options,
# values, and job ids from List on the bus named on the line.
#   tests/ctl/test-completion.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
# shellcheck source=tests/lib.sh
source "$2/tests/lib.sh" "$1" "$2"
lib_start_bus
lib_config none
lib_start_daemon
ctl="$BUILD/src/orchestratorctl"
addr=$BUS_ADDR
source "$SRC/completion/orchestratorctl.bash"

comp() {
  COMP_LINE=$1
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _orchestratorctl
  printf '%s\n' "${COMPREPLY[@]}"
}
expect() { # expect WORDS... -- LINE: each word among the completions
  local line=${*: -1} got
  got=$(comp "$line")
  for w in "${@:1:$#-2}"; do
    grep -qxF -- "$w" <<<"$got" || fail "“$line”: “$w” not offered; got: $got"
  done
}
expect_none() {
  local got
  got=$(comp "$1")
  [ -z "$got" ] || fail "“$1”: expected nothing, got: $got"
}

ID=$("$ctl" --bus-address="$addr" run --name comp -- sleep 600) || fail "orchestratorctl run failed"
expect status stop -- "$ctl st"
expect run restart rm -- "$ctl r"
expect set-limits -- "$ctl se"
expect --memory-high --cpu-weight -- "$ctl set-limits --"
expect "$ID" -- "$ctl --bus-address=$addr set-limits --memory-max 64M "
expect --bus-address= --system -- "$ctl --"
expect "$ID" -- "$ctl --bus-address=$addr status "
expect "$ID" -- "$ctl --bus-address $addr logs -n 5 "
expect "$ID" -- "$ctl status --bus-address=$addr "
expect "$ID" -- "$ctl --bus-address=$addr metrics job "
expect system detailed job pid -- "$ctl metrics "
expect system "$ID" -- "$ctl --bus-address=$addr forecast "
expect "$ID" -- "$ctl --bus-address=$addr recommend "
expect --horizon --step -- "$ctl forecast --"
expect no on-failure always -- "$ctl run --restart "
expect running failed -- "$ctl list --state "
expect --state --json --quiet -- "$ctl list --"
expect --memory-max --env --cwd -- "$ctl run --"
expect KILL TERM -- "$ctl stop --signal "
expect_none "$ctl --bus-address=$addr status $ID "
expect_none "$ctl run --memory-max "
expect sleep -- "$ctl run --name x -- sle"
"$ctl" --bus-address="$addr" stop "$ID" >/dev/null || fail "orchestratorctl stop failed"
echo "bash completion: ok"
