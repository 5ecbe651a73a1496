#!/bin/bash
# The layers of src/meson.build, checked on the built programs and on the
# sources, so that a change that breaks them fails here rather than in a
# reviewer's head:
#
#   programs   orchestrator-rest and orchestratorctl do not link SQLite and
#              hold no function of the engine (src/core) or of the daemon's
#              bus layer (src/bus); orchestrator-monitor does not link GLib;
#              orchestratord does not link GIO or GObject (issue 15: they
#              and what they pull in were ~1 MB of its RSS for one socket).
#   includes   src/basic includes nothing from core, bus, client, rest, ctl,
#              daemon, and no library but GLib/GIO; src/core nothing from
#              bus, client, rest, ctl, daemon; src/client, src/rest and
#              src/ctl nothing from core or bus; src/monitor nothing but
#              basic/orch-launch-proto.h, basic/orch-log-record.h and libc headers.
#
#   tests/check-layers.sh BUILD_DIR SOURCE_DIR
#
# Prints each breach with its file and line; exits 1 if there is one, 0
# otherwise, 77 without readelf or nm.
set -uo pipefail

[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2; exit 2; }
BUILD=$(realpath "$1")
SRC=$(realpath "$2")
export LC_ALL=C
for tool in readelf nm; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not found (binutils)"; exit 77; }
done

status=0
breach() { echo "LAYERS: $*"; status=1; }

# ---- programs

# The shared libraries a program asks for.
needed() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# The functions and variables a static library or a program defines.
defined() { nm --defined-only "$1" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[TDRB]$/ { print $3 }' | sort -u; }

engine=$(cat <(defined "$BUILD/src/core/liborch-core.a") <(defined "$BUILD/src/bus/liborch-bus.a") | sort -u)
[ -n "$engine" ] || breach "no symbols in $BUILD/src/core/liborch-core.a or src/bus/liborch-bus.a (not built?)"
for prog in orchestrator-rest orchestratorctl; do
  bin=$BUILD/src/$prog
  [ -x "$bin" ] || { breach "$bin is not built"; continue; }
  needed "$bin" | grep -q '^libsqlite3' && breach "$prog links SQLite: $(needed "$bin" | grep '^libsqlite3')"
  own=$(defined "$bin")
  grep -qx main <<<"$own" || { breach "$prog has no symbol table (stripped?): cannot check it"; continue; }
  leaked=$(comm -12 <(echo "$engine") <(echo "$own"))
  [ -z "$leaked" ] || breach "$prog holds engine or bus-layer code: $(echo "$leaked" | head -n 5 | tr '\n' ' ')"
done
monitor=$BUILD/src/orchestrator-monitor
if [ -x "$monitor" ]; then
  needed "$monitor" | grep -q -E '^lib(glib|gio|gobject)' && breach "orchestrator-monitor links GLib"
else
  breach "$monitor is not built"
fi

daemon=$BUILD/src/orchestratord
if [ -x "$daemon" ]; then
  needed "$daemon" | grep -q -E '^lib(gio|gobject)' &&
    breach "orchestratord links $(needed "$daemon" | grep -E '^lib(gio|gobject)' | tr '\n' ' ')"
else
  breach "$daemon is not built"
fi

# ---- includes

# includes DIR: "FILE:LINE:HEADER" for each #include in src/DIR, quoted
# headers as written, system ones as <HEADER>.
includes() {
  (cd "$SRC" && grep -H -n -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "src/$1"/*.[ch]) |
    sed -E 's#^([^:]*:[0-9]+):[[:space:]]*\#[[:space:]]*include[[:space:]]*("([^"]*)"|(<[^>]*>)).*#\1:\3\4#'
}

# layer_of DIR HEADER: sets LAYER to the layer a quoted header of a file
# in src/DIR belongs to: its folder ("core/orch-state.h",
# "../core/orch-state.h"), or DIR's own for a bare name in DIR, another
# folder's for a bare name found only there, "none" for the rest
# (config.h, the build's).  No subshell: it runs for every include.
layer_of() {
  local dir=$1 header=${2#../} d
  case $header in
    */*) LAYER=${header%%/*}; return ;;
  esac
  LAYER=none
  if [ -e "$SRC/src/$dir/$header" ]; then LAYER=$dir; return; fi
  for d in "$SRC"/src/*/; do
    if [ -e "$d$header" ]; then d=${d%/}; LAYER=${d##*/}; return; fi
  done
}

# check DIR LAYER...: no quoted include of src/DIR from those layers.
check() {
  local dir=$1 line header forbidden
  shift
  while IFS= read -r line; do
    header=${line#*:}; header=${header#*:}
    line=${line%:"$header"}
    case $header in '<'*) continue ;; esac
    layer_of "$dir" "$header"
    for forbidden in "$@"; do
      [ "$LAYER" = "$forbidden" ] && breach "$line: src/$dir may not include from src/$forbidden ($header)"
    done
  done < <(includes "$dir")
  return 0
}

check basic core bus client rest ctl daemon monitor
check core bus client rest ctl daemon monitor
check client core bus daemon
check rest core bus daemon
check ctl core bus daemon

# basic is libc + GLib/GIO: none of the project's other libraries.
while IFS= read -r line; do
  header=${line##*:}
  case $header in
    '<systemd/'* | '<sqlite3.h>' | '<json-glib/'* | '<libsoup/'*)
      breach "${line%:"$header"}: src/basic may use libc and GLib only ($header)" ;;
  esac
done < <(includes basic)

# monitor: the launch protocol, the stamped log's record format, its own
# headers, and libc (no header of the project's libraries, GLib included).
while IFS= read -r line; do
  header=${line##*:}
  case $header in
    basic/orch-launch-proto.h | basic/orch-log-record.h | orch-monitor-*.h) ;;
    '<glib'* | '<gio'* | '<gobject'* | '<systemd/'* | '<sqlite3.h>' | '<json-glib/'* | '<libsoup/'*)
      breach "${line%:"$header"}: src/monitor may use libc only ($header)" ;;
    '<'*) ;;
    *) breach "${line%:"$header"}: src/monitor may include basic/orch-launch-proto.h, basic/orch-log-record.h and its own headers only ($header)" ;;
  esac
done < <(includes monitor)

[ $status -eq 0 ] && echo "layers: programs and includes as src/meson.build says"
exit $status
