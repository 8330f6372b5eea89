#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sets up and runs every test: installs the dependencies (including the real
# peers used by the integration tests), checks clang-format, builds with
# AddressSanitizer + UBSan and -Werror into build-test/, runs ctest (unit,
# integration, fuzz corpus replay), then runs each libFuzzer target for a
# bounded time (FUZZ_SECONDS, default 30 per target).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
scripts/format.sh --check
jobs="$(nproc)"
cmake -S . -B build-test -DPHAROS_SANITIZE=ON -DPHAROS_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-test -j"$jobs"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
(cd build-test && ctest --output-on-failure -j"$jobs")
if [ -x scripts/fuzz.sh ]; then
  scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
fi
