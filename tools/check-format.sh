#!/bin/bash
# Fails when a C line changed since the base commit is not formatted as
# .clang-format says, and prints the diff that would fix it.  A ratchet:
# lines nobody touched are left as they are, so the tree gets formatted one
# change at a time instead of in one commit that buries `git blame`.
#
#   tools/check-format.sh [--fix] [BASE]
#
# BASE: a commit; default the one recorded in tools/format-base (CI has a
# clean clone of main and no other branch to compare with).  What is
# compared is the working tree, so uncommitted and untracked (not ignored)
# .c/.h files count too.  --fix writes the formatted lines into the files
# instead of failing.  Exit 0 formatted, 1 not (the diff is printed), 2
# usage or a BASE that is not in this clone, 77 skipped (no clang-format,
# or not a git checkout).
#
# clang-format 14 puts a space before every parenthesis, also in
# g_autoptr(T), g_auto(T) and _("...") / N_("..."), which this code writes
# without; and it splits the hyphenated name in G_DEFINE_QUARK.  So before
# formatting, each of those is swapped for a placeholder of the same length
# (an identifier, or a string literal for _("...")), and swapped back
# after: columns and line breaks are computed on what the file really
# holds.  Set CLANG_FORMAT to use another binary.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "check-format: not a git checkout, skipped"
  exit 77
fi
CLANG_FORMAT=${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}
if [ -z "$CLANG_FORMAT" ]; then
  echo "check-format: clang-format not found (apt-get install clang-format), skipped"
  exit 77
fi

fix=0
if [ "${1:-}" = --fix ]; then fix=1; shift; fi
case "${1:-}" in -*) echo "usage: tools/check-format.sh [--fix] [BASE]" >&2; exit 2 ;; esac
base=${1:-$(sed -n 's/^\([0-9a-f]\{7,40\}\).*/\1/p' tools/format-base | head -n1)}
if [ -z "$base" ] || ! git cat-file -e "$base^{commit}" 2>/dev/null; then
  echo "check-format: base commit '${base}' is not in this clone (a shallow clone? git fetch --unshallow)" >&2
  exit 2
fi

# Changed or added C files (working tree against BASE), and untracked ones.
mapfile -t files < <({
  git diff --name-only --diff-filter=AMR "$base" -- '*.c' '*.h'
  git ls-files --others --exclude-standard -- '*.c' '*.h'
} | sort -u)
if [ ${#files[@]} -eq 0 ]; then
  echo "check-format: no C file changed since ${base:0:12}"
  exit 0
fi

exec /usr/bin/python3 - "$CLANG_FORMAT" "$base" "$fix" "${files[@]}" <<'PY'
import difflib, re, subprocess, sys

clang_format, base, fix, files = sys.argv[1], sys.argv[2], sys.argv[3] == '1', sys.argv[4:]

# What clang-format 14 would space or split, each swapped for a placeholder
# of the same length: identifiers for types and quark names, string
# literals for translated strings (BreakStringLiterals is off, so a literal
# is never split, like the call it stands for).
AUTO = re.compile(r'\b(?:g_autoptr|g_auto|g_autolist|g_autoslist|g_autoqueue)\(\s*\w+\s*\)')
GETTEXT = re.compile(r'(?<![\w])N?_\("(?:[^"\\\n]|\\.)*"\)')
QUARK = re.compile(r'(?<=\bG_DEFINE_QUARK \()[\w-]+')
PLACEHOLDER = re.compile(r'Zfmt(\d+)_*|"@@(\d+)@*"')


def protect(text):
    table = []

    def swap(kind):
        def repl(m):
            s = m.group(0)
            n = len(table)
            p = 'Zfmt%d' % n if kind == 'id' else '"@@%d' % n
            p = p.ljust(len(s) - (kind == 'str'), '_' if kind == 'id' else '@')
            if kind == 'str':
                p += '"'
            if len(p) != len(s):
                return s  # too short to hold the number: left alone
            table.append(s)
            return p
        return repl

    if PLACEHOLDER.search(text):
        return text, table
    text = AUTO.sub(swap('id'), text)
    text = GETTEXT.sub(swap('str'), text)
    text = QUARK.sub(swap('id'), text)
    return text, table


def unprotect(text, table):
    def repl(m):
        i = int(m.group(1) if m.group(1) is not None else m.group(2))
        return table[i] if i < len(table) else m.group(0)
    return PLACEHOLDER.sub(repl, text) if table else text


def changed_lines(path):
    """The 1-based line ranges of @path that differ from BASE."""
    tracked = subprocess.run(['git', 'cat-file', '-e', '%s:%s' % (base, path)],
                             capture_output=True).returncode == 0
    if not tracked:
        return None  # new: every line
    diff = subprocess.run(['git', 'diff', '-U0', '--no-color', base, '--', path],
                          capture_output=True, text=True, check=True).stdout
    ranges = []
    for m in re.finditer(r'^@@ -\S+ \+(\d+)(?:,(\d+))? @@', diff, re.M):
        start, count = int(m.group(1)), int(m.group(2) or 1)
        if count:
            ranges.append((start, start + count - 1))
    return ranges


failed = 0
checked = 0
for path in files:
    with open(path, encoding='utf-8') as f:
        original = f.read()
    ranges = changed_lines(path)
    if ranges == []:
        continue
    if ranges is None:
        ranges = [(1, max(1, original.count('\n')))]
    checked += 1
    text, table = protect(original)
    args = [clang_format, '--style=file', '--assume-filename=' + path]
    args += ['--lines=%d:%d' % r for r in ranges]
    formatted = subprocess.run(args, input=text, capture_output=True, text=True, check=True).stdout
    formatted = unprotect(formatted, table)
    if formatted != original:
        failed += 1
        sys.stdout.writelines(difflib.unified_diff(
            original.splitlines(True), formatted.splitlines(True), 'a/' + path, 'b/' + path))
        if fix:
            with open(path, 'w', encoding='utf-8') as f:
                f.write(formatted)

if failed and fix:
    print('check-format: formatted the changed lines of %d files (diff above)' % failed)
elif failed:
    print('check-format: %d of %d changed files have unformatted changed lines (diff above; '
          'tools/check-format.sh --fix applies it)' % (failed, checked))
    sys.exit(1)
print('check-format: the changed lines of %d files are formatted (base %s)' % (checked, base[:12]))
PY
