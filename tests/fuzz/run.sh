#!/bin/sh
# run.sh: build gradlab's libFuzzer targets with clang and fuzz each one.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     fuzz each TARGET for SECONDS (default 60)
#   tests/fuzz/run.sh --replay [TARGET...]      only replay seeds and regressions, no fuzzing
#
# TARGETs: expr lesson view npy args (default: all). Needs clang with libFuzzer
# (Debian/Ubuntu: clang-14 libclang-rt-14-dev); meson is not used. Builds go
# to $FUZZ_OUT (default BUILD-ROOT/build-fuzz). Seeds in corpus/TARGET are
# never modified: each run fuzzes a working copy in $FUZZ_OUT/corpus/TARGET,
# which grows across runs. A finding is written to $FUZZ_OUT/artifacts/TARGET/
# and makes the script exit 1; copy it to regressions/TARGET/ once fixed.
# FUZZ_JOBS=2 runs two targets at once (CI has 2 cores).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${FUZZ_OUT:-$root/build-fuzz}
jobs=${FUZZ_JOBS:-1}
cc=${CC_FUZZ:-}
if [ -z "$cc" ]; then
    for c in clang clang-14 clang-15 clang-16 clang-17 clang-18; do
        if command -v "$c" >/dev/null 2>&1; then cc=$c; break; fi
    done
fi
[ -n "$cc" ] || { echo "run.sh: error: clang not found; install clang and libclang-rt-dev" >&2; exit 2; }

replay=0
secs=60
if [ $# -gt 0 ] && [ "$1" = "--replay" ]; then replay=1; shift
elif [ $# -gt 0 ]; then
    case $1 in *[!0-9]*|'') echo "run.sh: error: SECONDS must be a whole number, got '$1'" >&2; exit 2;; esac
    secs=$1; shift
fi
targets=${*:-expr lesson view npy args}

engine="$root/src/engine/arena.c $root/src/engine/diag.c $root/src/engine/expr.c \
$root/src/engine/fileio.c $root/src/engine/numfmt.c $root/src/engine/value.c"
# Lessons reach the models through their sources (lessons/sources.c), and the
# models the tensor library, the optimizers and the inits.
everything_below_views="$(ls "$root"/src/engine/*.c "$root"/src/engine/*/*.c "$root"/src/models/*.c \
"$root"/src/lessons/*.c)"
sources_for() {
    case $1 in
    expr) echo "$engine" ;;
    lesson) echo "$everything_below_views" ;;
    view) echo "$everything_below_views $(ls "$root"/src/views/*.c "$root"/src/views/widgets/*.c)" ;;
    npy) echo "$root/src/engine/npy/npy.c $root/src/engine/fileio.c" ;;
    args) echo "$root/src/cli/args.c $root/src/engine/diag.c" ;;
    *) echo "run.sh: error: unknown target '$1'; use expr, lesson, view, npy or args" >&2; exit 2 ;;
    esac
}
max_len_for() {
    case $1 in lesson|view) echo 65536 ;; npy) echo 8192 ;; args) echo 256 ;; *) echo 4096 ;; esac
}

mkdir -p "$out"
# A config.h like meson's, for any source that wants one.
printf '#define GRADLAB_VERSION "fuzz"\n#define GRADLAB_SOURCE_DIR "%s"\n#define GRADLAB_BUILD_DIR "%s"\n#define GRADLAB_INSTALL_DATADIR "%s"\n' \
    "$root" "$out" "$root" > "$out/config.h"

build() {
    t=$1
    bin=$out/fuzz_$t
    srcs=$(sources_for "$t")
    # Rebuild only when a source is newer than the binary.
    stale=1
    if [ -x "$bin" ]; then
        stale=0
        for f in $srcs "$here/fuzz_$t.c" "$here/run.sh" "$here/program_gen.h" $root/src/*/*.h $root/src/*/*/*.h; do
            [ "$f" -nt "$bin" ] && stale=1
        done
    fi
    [ $stale -eq 0 ] && return 0
    echo "run.sh: building fuzz_$t" >&2
    # shellcheck disable=SC2086
    # Portable kernels (GRADLAB_SIMD_PORTABLE): the fuzzers test the parsers and views, not the AVX paths.
    "$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -DGRADLAB_MOVE_ON_GROW -DGRADLAB_SIMD_PORTABLE=1 -g -O1 \
        -fno-omit-frame-pointer -pthread \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -Wall -Wextra -Wno-unused-parameter -I"$root/src" -I"$out" \
        -o "$bin" "$here/fuzz_$t.c" $srcs -lm
}

run_one() {
    t=$1
    bin=$out/fuzz_$t
    work=$out/corpus/$t
    art=$out/artifacts/$t
    log=$out/fuzz_$t.log
    mkdir -p "$work" "$art"
    dict=""
    [ -f "$here/$t.dict" ] && dict="-dict=$here/$t.dict"
    if [ $replay -eq 1 ]; then
        # Replaying runs each file once; exits non-zero on any crash.
        # shellcheck disable=SC2046
        "$bin" -runs=0 $(find "$here/corpus/$t" "$here/regressions/$t" -type f ! -name '.*' 2>/dev/null) \
            >"$log" 2>&1 || { echo "run.sh: FAIL replay $t (see $log)" >&2; tail -40 "$log" >&2; return 1; }
        echo "run.sh: ok replay $t" >&2
        return 0
    fi
    # shellcheck disable=SC2086
    if "$bin" $dict -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len_for "$t")" \
        -artifact_prefix="$art/" -print_final_stats=1 "$work" "$here/corpus/$t" "$here/regressions/$t" \
        >"$log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
        echo "run.sh: ok $t: ${secs}s, ${execs:-?} execs, $cov, corpus $(ls "$work" | wc -l) files" >&2
    else
        echo "run.sh: FAIL $t: finding in $art (log $log):" >&2
        grep -E 'ERROR|SUMMARY|Test unit written|#[0-9]+ in ' "$log" | head -30 >&2
        return 1
    fi
}

for t in $targets; do build "$t"; done
status=0
if [ "$jobs" -gt 1 ] && [ $replay -eq 0 ]; then
    pids=""
    n=0
    for t in $targets; do
        run_one "$t" & pids="$pids $!"
        n=$((n + 1))
        if [ $n -ge "$jobs" ]; then
            for p in $pids; do wait "$p" || status=1; done
            pids=""; n=0
        fi
    done
    for p in $pids; do wait "$p" || status=1; done
else
    for t in $targets; do run_one "$t" || status=1; done
fi
exit $status
