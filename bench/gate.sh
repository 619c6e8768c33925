#!/usr/bin/env bash
# bench/gate.sh: the CI performance gate. A short paired benchmark of `run` (/bin/true, warm)
# with crun and ns-runtime interleaved in the same run (../shared/bench/compare.sh, which also
# hides the hybrid cgroup2 mount crun refuses); fails when ns-runtime's median paired ratio to
# crun is above MAX_RATIO (default 1.0: never slower than crun). Ratios, not absolute times, so a
# slow or busy machine slows both alike. Root; installs crun, GNU time and python3 when missing.
#   bench/gate.sh [ITERATIONS]        (default 15)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
compare="$here/../shared/bench/compare.sh"
n=${1:-15}
max=${MAX_RATIO:-1.0}
runtime=${NS_RUNTIME:-$here/build/ns-runtime}
[ -f "$compare" ] || { echo "bench/gate.sh: $compare not found (../shared must sit beside the repository)" >&2; exit 2; }
[ -x "$runtime" ] || { echo "bench/gate.sh: $runtime not found: build first" >&2; exit 2; }
"$here/scripts/ensure-packages.sh" crun python3 time
work=$(mktemp -d /tmp/ns-gate.XXXXXX)
trap 'rm -rf "$work"' EXIT
out="$work/report.txt"
bash "$compare" -n "$n" -l 0 --no-floor -w "$work/w" \
  --skip coldrun,create,state,exec,coldexec,limits,version,noop \
  "$(command -v crun)" "$runtime" | tee "$out"
# The run line of the second runtime: "run  ns-runtime  median min max n ratio ..."
ratio=$(awk '$1 == "run" && $2 != "crun" && $2 != "floor" {print $7; exit}' "$out")
errors=$(awk '$1 == "run" && $2 != "crun" && $2 != "floor" {print $9; exit}' "$out")
if [ -z "$ratio" ]; then
  echo "bench/gate.sh: no ratio for run in the report" >&2
  exit 1
fi
if [ -n "$errors" ] && [ "$errors" != "-" ] && [ "$errors" != "0" ]; then
  echo "bench/gate.sh: ns-runtime run failed in the benchmark ($errors errors)" >&2
  exit 1
fi
if awk -v r="$ratio" -v m="$max" 'BEGIN {exit !(r > m)}'; then
  echo "bench/gate.sh: FAIL: ns-runtime run is ${ratio}x crun's (allowed: ${max}x)" >&2
  exit 1
fi
echo "bench/gate.sh: ok: ns-runtime run is ${ratio}x crun's (allowed: ${max}x)"
