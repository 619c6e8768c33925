#!/bin/sh
# tests/build/entry-freestanding.sh OBJECT...: the entry point's objects (src/cli/entry.c,
# exe_guard_entry.c, start_entry.c) run before the C library starts, so they may need nothing
# from outside themselves but glibc's _start: no memcpy or memset a compiler slipped in, no
# __stack_chk_fail, no errno, no sanitizer hook. Lists what each object leaves undefined.
set -eu
[ $# -gt 0 ] || { echo "usage: $0 OBJECT..." >&2; exit 2; }
defined=$(nm --defined-only "$@" | awk 'NF == 3 && $2 ~ /[TtDdBbRr]/ { print $3 }' | sort -u)
bad=0
for sym in $(nm --undefined-only "$@" | awk 'NF >= 2 { print $NF }' | sort -u); do
  [ "$sym" = _start ] && continue
  if ! printf '%s\n' "$defined" | grep -qx "$sym"; then
    echo "entry point code needs $sym, which is not there before the C library starts" >&2
    bad=1
  fi
done
[ "$bad" = 0 ] && echo "entry objects need nothing outside themselves (but _start): $*"
exit "$bad"
