#!/bin/sh
# test.sh: installs what is missing, builds everything (plus an ASan/UBSan build of the unit
# tests) and runs every test. Run as root: the integration tests make real containers.
# The last thing printed is ctest's summary line.
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)
./scripts/install-deps.sh
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Asan >/dev/null
cmake --build build-asan -j"$jobs" --target unit-tests
ctest --test-dir build-asan -L unit --output-on-failure
cmake -S . -B build >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure
