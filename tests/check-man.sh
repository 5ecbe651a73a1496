#!/bin/bash
# The man pages name every option the programs have: each --option in
# `orchestratord --help` and in `orchestratorctl COMMAND --help` must appear
# in man/*.scd, so the pages cannot drift from the code unnoticed.
#   tests/check-man.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1"); src=$(realpath "$2")
status=0
check() { # check PAGE HELP-TEXT
  local page=$1 help=$2 opt
  for opt in $(grep -o -- '--[a-z][a-z-]*' <<<"$help" | sort -u); do
    [ "$opt" = "--help-all" ] && continue
    if ! grep -qF -- "*$opt*" "$src/man/$page"; then
      echo "man/$page does not document $opt"; status=1
    fi
  done
}
export LC_ALL=C.UTF-8 LANGUAGE=
check orchestratord.8.scd "$("$build/src/orchestratord" --help)"
for cmd in run list status stop restart rm logs top metrics cleanup set-limits events group scale forecast recommend; do
  grep -qF -- "*$cmd*" "$src/man/orchestratorctl.1.scd" || { echo "man page lacks the command $cmd"; status=1; }
  check orchestratorctl.1.scd "$("$build/src/orchestratorctl" "$cmd" --help)"
done
for verb in add list show rm pause resume trigger next; do
  grep -qF -- "*schedule $verb*" "$src/man/orchestratorctl.1.scd" ||
    grep -qF -- "|*$verb*" "$src/man/orchestratorctl.1.scd" || { echo "man page lacks schedule $verb"; status=1; }
  check orchestratorctl.1.scd "$("$build/src/orchestratorctl" schedule "$verb" --help)"
done
[ $status -eq 0 ] && echo "man pages: every option documented"
exit $status
