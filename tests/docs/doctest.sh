#!/bin/bash
# The doc test: every command the documentation shows is run here, as written.
#
# In README.md and docs/**/*.md, each fenced block whose info string is `sh` is a command block.
# The blocks of one file run in order in one bash (`set -e`, so a failing command fails the
# file), from the source directory, with the freshly built ns-runtime first in PATH and the
# default state root. A block that cannot run inside a test (it installs packages, or is the
# test suite itself) starts with
#     # doc-test: skip: <reason naming the test or script that runs it>
# and the path named there must exist. Output blocks (```text) are not run.
# A file's commands must clean up after themselves: containers left in the state root fail it.
#
# usage: doctest.sh SOURCE_DIR BUILD_DIR [FILE...]
set -u
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
shift 2
cd "$src"
if [ $# -eq 0 ]; then
  set -- README.md $(find docs -name '*.md' | sort)
fi
export PATH="$build:$PATH"
root=/run/nano-sandbox
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# extract FILE: writes $work/blocks/N for each sh block; prints the count
extract() {
  rm -rf "$work/blocks" && mkdir -p "$work/blocks"
  awk -v dir="$work/blocks" '
    /^```sh[ \t]*$/ { n++; inblock = 1; file = dir "/" n; printf "" > file; next }
    /^```/ && inblock { inblock = 0; close(file); next }
    inblock { print >> file }
    END { print n + 0 }
  ' "$1"
}

failed=0 ran=0 skipped=0
for doc in "$@"; do
  count=$(extract "$doc")
  [ "$count" -gt 0 ] || continue
  before=$(ns-runtime list -q 2>/dev/null | sort)
  script="$work/script.sh"
  echo 'set -e' > "$script"
  for n in $(seq "$count"); do
    block="$work/blocks/$n"
    first=$(head -n1 "$block")
    if [[ "$first" == "# doc-test: skip:"* ]]; then
      ref=$(grep -oE '(tests|scripts|bench)/[A-Za-z0-9_./-]+|\.ci/run' <<<"$first" | head -n1)
      if [ -z "$ref" ] || [ ! -e "$ref" ]; then
        echo "FAIL $doc block $n: skipped without naming an existing test or script that runs it: $first"
        failed=$((failed + 1))
      fi
      skipped=$((skipped + 1))
      continue
    fi
    { echo "echo '>>> $doc block $n' >&2"; cat "$block"; } >> "$script"
    ran=$((ran + 1))
  done
  if ! timeout 300 bash "$script" > "$work/out" 2>&1 < /dev/null; then
    echo "FAIL $doc: a command failed; its output:"
    tail -n 40 "$work/out" | sed 's/^/    /'
    failed=$((failed + 1))
  else
    echo "ok   $doc"
  fi
  after=$(ns-runtime list -q 2>/dev/null | sort)
  left=$(comm -13 <(echo "$before") <(echo "$after"))
  if [ -n "$left" ]; then
    echo "FAIL $doc: its commands left containers behind: $left"
    for id in $left; do ns-runtime delete --force "$id" >/dev/null 2>&1; done
    failed=$((failed + 1))
  fi
done
echo "doc test: $ran command blocks run, $skipped skipped (each naming where it is tested), $failed failures"
[ "$failed" -eq 0 ]
