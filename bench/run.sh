#!/usr/bin/env bash
# bench/run.sh [compare.sh options]: ns-runtime side by side with crun (the baseline) and runc,
# using the shared benchmark (../shared/bench/compare.sh). Root; installs crun and runc from
# Debian when missing. Example: bench/run.sh -n 10 -l 1 -L 50
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
compare="$here/../shared/bench/compare.sh"
[ -f "$compare" ] || { echo "bench/run.sh: $compare not found" >&2; exit 2; }
for rt in crun runc; do
  command -v "$rt" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$rt" time >/dev/null
done
[ -x "$here/build/ns-runtime" ] || { echo "bench/run.sh: build ns-runtime first (cmake --build build)" >&2; exit 2; }
exec bash "$compare" "$@" "$(command -v crun)" "$(command -v runc)" "$here/build/ns-runtime"
