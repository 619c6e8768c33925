#!/bin/sh
# tests/fuzz/run.sh BUILD_DIR [RUNS]: builds the libFuzzer targets (config.json's parser, the
# state parser) with clang into BUILD_DIR and runs each RUNS executions (default 200000) from
# the corpus in tests/fuzz/corpus, new inputs kept in BUILD_DIR only. Fails on a crash, a leak,
# undefined behaviour, or an input that takes over 10 s (a hang). 10^7 runs: RUNS=10000000.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: run.sh BUILD_DIR [RUNS]}
runs=${2:-200000}
cxx=$(command -v clang++-16 || true)
[ -n "$cxx" ] || { echo "run.sh: clang++-16 is missing (Debian: clang-16 libclang-rt-16-dev)" >&2; exit 1; }
cmake -S "$here" -B "$out" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$out" -j"$(nproc)" >/dev/null
for t in config state; do
  mkdir -p "$out/corpus-$t"
  echo "fuzz-$t: $runs runs"
  # -detect_leaks, -timeout: a leak and a hang fail the run as a crash does
  "$out/fuzz-$t" -runs="$runs" -timeout=10 -detect_leaks=1 -max_len=65536 -print_final_stats=1 \
    "$out/corpus-$t" "$here/corpus/$t" 2>&1 | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec|==[0-9]+==ERROR|SUMMARY|Done)" || true
  # libFuzzer's exit status is what counts (the pipe above only shortens its output)
  "$out/fuzz-$t" -runs=0 "$out/corpus-$t" "$here/corpus/$t" >/dev/null 2>&1
done
