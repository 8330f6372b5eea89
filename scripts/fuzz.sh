#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Build the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang into
# build-fuzz and run each for a bounded time on a copy of its seed corpus
# (tests/data/fuzz/<target>/), one after the other.
#
#   scripts/fuzz.sh [seconds-per-target, default 60] [target ...]
#
# Environment: BUILD_DIR (default <repo>/build-fuzz), JOBS (build
# parallelism). Exits 0 when every target ran its time clean; otherwise 1,
# after printing each crashing, leaking or timing-out input and keeping the
# work dir that holds it. The grown corpora are left in the work dir only;
# copy interesting inputs into tests/data/fuzz/<target>/ by hand.
set -euo pipefail

secs=${1:-60}
shift || true
case $secs in
'' | *[!0-9]*)
    echo "usage: $0 [seconds-per-target] [target ...]" >&2
    exit 2
    ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-fuzz}
jobs=${JOBS:-$(nproc)}

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for src in "$root"/tests/fuzz/fuzz_*.c; do
        name=$(basename "$src" .c)
        [ "$name" = fuzz_driver ] && continue
        targets+=("$name")
    done
fi

cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DPHAROS_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

work=$(mktemp -d "${TMPDIR:-/tmp}/pharos-fuzz.XXXXXX")
failed=0
summary=()
for t in "${targets[@]}"; do
    bin=$build/tests/fuzz/$t
    dir=$work/$t
    mkdir -p "$dir/corpus" "$dir/artifacts" "$dir/tmp"
    if [ -d "$root/tests/data/fuzz/$t" ]; then
        cp -R "$root/tests/data/fuzz/$t/." "$dir/corpus/"
    fi
    echo "== $t: ${secs}s" >&2
    rc=0
    # TMPDIR: targets that need a scratch store create it there.
    TMPDIR=$dir/tmp ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$dir/log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
    summary+=("$(printf '%-22s %12s execs %8s exec/s  %s' "$t" "${execs:-?}" "${rate:-?}" \
        "$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (exit $rc)")")")
    if [ "$rc" -ne 0 ]; then
        failed=1
        echo "!! $t failed (exit $rc); log: $dir/log" >&2
        grep -E 'ERROR: |runtime error|SUMMARY' "$dir/log" | head -5 >&2 || true
        found=0
        for a in "$dir"/artifacts/*; do
            [ -e "$a" ] || continue
            found=1
            echo "!! crashing input: $a" >&2
        done
        [ "$found" -eq 1 ] || echo "!! no artifact written; see the log" >&2
    fi
done

echo "== summary" >&2
printf '%s\n' "${summary[@]}" >&2
if [ "$failed" -ne 0 ]; then
    echo "work dir kept: $work" >&2
    exit 1
fi
rm -rf -- "$work"
