#!/usr/bin/env bash
# bench/run.sh [compare.sh options]: ns-runtime side by side with crun (the baseline) and runc,
# using the shared benchmark (../shared/bench/compare.sh): interleaved, paired, medians and
# ratios per operation. Then bench/report.py writes, under bench/results/ (or $NS_BENCH_OUT):
#   <date>-samples.tsv  every timed iteration
#   <date>.json         medians, min, max, n and paired ratios against crun per operation
#   <date>.svg          latency per operation per runtime
#   <date>.txt          compare.sh's own report (footprint, peak RSS, the floor)
# Root; installs crun, runc, GNU time and python3 from Debian when missing.
# Example: bench/run.sh -n 30 -l 1 -L 50
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
compare="$here/../shared/bench/compare.sh"
[ -f "$compare" ] || { echo "bench/run.sh: $compare not found" >&2; exit 2; }
"$here/scripts/ensure-packages.sh" crun runc python3 time
[ -x "$here/build/ns-runtime" ] || { echo "bench/run.sh: build ns-runtime first (cmake --build build)" >&2; exit 2; }
out=${NS_BENCH_OUT:-$here/bench/results}
mkdir -p "$out"
stamp=$(date +%Y-%m-%d-%H%M)
bash "$compare" -o "$out/$stamp-samples.tsv" "$@" "$(command -v crun)" "$(command -v runc)" "$here/build/ns-runtime" |
  tee "$out/$stamp.txt"
python3 "$here/bench/report.py" "$out/$stamp-samples.tsv" "$out/$stamp" crun,runc,ns-runtime
echo "bench/run.sh: $out/$stamp.json, $out/$stamp.svg"
