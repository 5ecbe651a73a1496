#!/bin/bash
# Fails when po/es.po lacks a translation of any user-facing string in the
# sources: extracts a fresh template, merges it into a copy of es.po, and
# requires every message translated and none fuzzy.
#   tests/check-po.sh SOURCE_DIR
set -euo pipefail
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

xgettext --from-code=UTF-8 --keyword=_ --keyword=N_ --package-name=orchestrator \
  -f "$src/po/POTFILES" -D "$src" -o "$work/orchestrator.pot"
for lang in $(cat "$src/po/LINGUAS"); do
  cp "$src/po/$lang.po" "$work/$lang.po"
  msgmerge --quiet --update --backup=none "$work/$lang.po" "$work/orchestrator.pot"
  stats=$(LC_ALL=C msgfmt --check --statistics -o /dev/null "$work/$lang.po" 2>&1)
  echo "$lang: $stats"
  if echo "$stats" | grep -Eq "fuzzy|untranslated"; then
    echo "po/$lang.po is not complete: run xgettext + msgmerge and translate" >&2
    exit 1
  fi
done
# Every file with _() must be in POTFILES, or its strings are never seen.
missing=$(cd "$src" && grep -lE '(^|[^A-Za-z0-9_])_ ?\("' src/*/*.c | grep -vxF -f po/POTFILES || true)
if [ -n "$missing" ]; then
  echo "not in po/POTFILES: $missing" >&2
  exit 1
fi
