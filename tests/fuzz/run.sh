#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (in build-fuzz/, configured on first
# use) and runs each one for SECONDS seconds over a copy of its seed corpus, so
# the runs never write into the repository. Exits non-zero when a target
# crashes, leaks, hangs or cannot be built; reproducers are kept under
# build-fuzz/fuzz-artifacts/.
#
#   tests/fuzz/run.sh [SECONDS]        (default 60)
#
# Environment: AMPGRID_FUZZ_BUILD (build directory), CLANG (compiler),
# AMPGRID_FUZZ_TARGETS (default "frame validate json_reader stream").
set -euo pipefail

secs=${1:-60}
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
    echo "usage: $0 [SECONDS]" >&2
    exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${AMPGRID_FUZZ_BUILD:-$root/build-fuzz}
clang=${CLANG:-$(command -v clang || true)}
targets=${AMPGRID_FUZZ_TARGETS:-frame validate json_reader stream}
jobs=$(nproc 2>/dev/null || echo 2)

if [ -z "$clang" ] || ! [ -x "$clang" ]; then
    echo "fuzz: clang not found (set CLANG=/path/to/clang)" >&2
    exit 1
fi

# One build at a time: ctest and a person may run this concurrently.
mkdir -p "$build"
exec 9>"$build/.fuzz-build.lock"
if command -v flock >/dev/null; then flock 9; fi

# A build directory configured for something else (gcc, no fuzzing) cannot be
# switched to clang in place; say so rather than guess.
cache=$build/CMakeCache.txt
if [ -f "$cache" ] && ! grep -q '^AMPGRID_FUZZ:BOOL=ON' "$cache"; then
    echo "fuzz: $build is not a fuzz build (AMPGRID_FUZZ is off); use another AMPGRID_FUZZ_BUILD" >&2
    exit 1
fi
if [ ! -f "$cache" ]; then
    echo "fuzz: configuring $build with $clang"
    cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER="$clang" -DAMPGRID_FUZZ=ON \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/configure.log" 2>&1 || {
        cat "$build/configure.log" >&2
        echo "fuzz: configure failed" >&2
        exit 1
    }
fi
build_targets=()
for t in $targets; do build_targets+=("fuzz_$t"); done
echo "fuzz: building ${build_targets[*]}"
if ! cmake --build "$build" -j"$jobs" --target "${build_targets[@]}" >"$build/build.log" 2>&1; then
    tail -50 "$build/build.log" >&2
    echo "fuzz: build failed" >&2
    exit 1
fi
flock -u 9 2>/dev/null || true

work=$(mktemp -d "${TMPDIR:-/tmp}/ampgrid-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

failed=()
for t in $targets; do
    bin=$build/tests/fuzz/fuzz_$t
    corpus=$work/corpus-$t
    mkdir -p "$corpus"
    if [ -d "$root/tests/fuzz/corpus/$t" ]; then cp -R "$root/tests/fuzz/corpus/$t/." "$corpus/"; fi
    log=$work/fuzz_$t.log
    echo "fuzz: fuzz_$t for ${secs}s over $(find "$corpus" -type f | wc -l) seeds"
    rc=0
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$artifacts/fuzz_$t-" "$corpus" >"$log" 2>&1 || rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    if [ "$rc" -ne 0 ]; then
        tail -60 "$log" >&2
        echo "fuzz: fuzz_$t FAILED (exit $rc); reproducer(s) in $artifacts:" >&2
        ls -1t "$artifacts" | grep "^fuzz_$t-" | head -5 | sed 's/^/  /' >&2 || true
        failed+=("fuzz_$t")
    else
        echo "fuzz: fuzz_$t ok: ${runs:-?} executions, corpus $(find "$corpus" -type f | wc -l) inputs"
    fi
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz: failures in ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: all targets ran ${secs}s without failures"
