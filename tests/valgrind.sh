#!/bin/sh
# valgrind.sh: run the headless commands under Valgrind's memcheck and fail
# on any invalid read or write, use of uninitialised memory, or a definite or
# indirect leak in gradlab's own code. Third-party leaks (fontconfig, SDL,
# freetype) are suppressed by tests/valgrind.supp.
#
#   tests/valgrind.sh [BUILD_DIR]
#
# BUILD_DIR (default: build at the top of the tree) must hold a normal,
# non-sanitized build; it is configured and built (-j2) when it has no
# gradlab binary yet. Runs, each with SDL_VIDEODRIVER=dummy:
#   gradlab check                  every bundled lesson
#   gradlab render 1 --out TMP     lesson 1 to PNGs through the software renderer
#   gradlab grad -e PROGRAM        the scalar engine forward and backward
#   gradlab train adding ...       a few LSTM and RNN training steps (tensors, optimizer)
#   gradlab model lstm|rnn ...     one pass on tiny .npy weights written here
#   gradlab check GRAPH.lesson     the graph view, with -Inf and NaN values
#   gradlab check BAD.lesson       an error path (exit 2 expected)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${1:-$root/build}
gradlab=$build/src/cli/gradlab
command -v valgrind >/dev/null 2>&1 || { echo "valgrind.sh: error: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$root" -Dbuildtype=debugoptimized
fi
ninja -C "$build" -j"${VALGRIND_JOBS:-2}" src/cli/gradlab

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gradlab-valgrind-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
export SDL_VIDEODRIVER=dummy GRADLAB_DATA_DIR="${GRADLAB_DATA_DIR:-$root}"
status=0

# run NAME EXPECTED_STATUS ARGS...: gradlab under memcheck; Valgrind's own
# finding is exit status 99 (never one gradlab uses).
run() {
    name=$1; want=$2; shift 2
    start=$(date +%s)
    rc=0
    valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --track-origins=yes --num-callers=30 \
        --suppressions="$here/valgrind.supp" --gen-suppressions=all \
        --log-file="$tmp/$name.vg" "$gradlab" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
    secs=$(( $(date +%s) - start ))
    summary=$(grep -E 'ERROR SUMMARY' "$tmp/$name.vg" | tail -1 | sed 's/^==[0-9]*== //')
    if [ "$rc" -eq 99 ]; then
        echo "valgrind.sh: FAIL $name (${secs}s): $summary" >&2
        sed 's/^==[0-9]*== //' "$tmp/$name.vg" | grep -v '^$' | head -120 >&2
        status=1
    elif [ "$rc" -ne "$want" ]; then
        echo "valgrind.sh: FAIL $name (${secs}s): gradlab exited $rc, expected $want" >&2
        tail -20 "$tmp/$name.err" >&2
        status=1
    else
        echo "valgrind.sh: ok $name (${secs}s): $summary" >&2
    fi
}

# Lessons 1 and 2 (programs only); the lessons whose sources train for
# thousands of steps take minutes under memcheck, and their sources run
# under ASan+UBSan in the sanitizer suite (lessons_check, test_source_*).
run check 0 check 1 2
run render 0 render 1 --out "$tmp/png"
run grad 0 grad -e 'x = 2; y = -3; f = tanh(x * y + exp(x)) / (1 + relu(y) ^ 2)'
run train-lstm 0 train adding --model lstm --T 12 --steps 4 --batch 4 --hidden 8
run train-rnn 0 train adding --model rnn --T 12 --steps 4 --batch 4 --hidden 8
# npy FILE SHAPE COUNT: a '<f4' .npy file of COUNT elements, all 1.0.
npy() {
    hdr="{'descr': '<f4', 'fortran_order': False, 'shape': $2, }"
    while [ $(( (10 + ${#hdr} + 1) % 64 )) -ne 0 ]; do hdr="$hdr "; done
    {
        printf '\223NUMPY\001\000'
        printf "\\$(printf %03o $(( ${#hdr} + 1 )))\\000"
        printf '%s\n' "$hdr"
        i=0
        while [ $i -lt "$3" ]; do printf '\000\000\200\077'; i=$((i + 1)); done
    } > "$1"
}
mkdir -p "$tmp/lstm" "$tmp/rnn"
npy "$tmp/lstm/weight_ih_l0.npy" "(8, 3)" 24
npy "$tmp/lstm/weight_hh_l0.npy" "(8, 2)" 16
for p in bias_ih_l0 bias_hh_l0; do npy "$tmp/lstm/$p.npy" "(8,)" 8; done
npy "$tmp/rnn/weight_ih_l0.npy" "(2, 3)" 6
npy "$tmp/rnn/weight_hh_l0.npy" "(2, 2)" 4
for p in bias_ih_l0 bias_hh_l0; do npy "$tmp/rnn/$p.npy" "(2,)" 2; done
npy "$tmp/x.npy" "(2, 4, 3)" 24
run model-lstm 0 model lstm --weights "$tmp/lstm" --input "$tmp/x.npy" --out "$tmp/out-lstm"
run model-rnn 0 model rnn --weights "$tmp/rnn" --input "$tmp/x.npy" --out "$tmp/out-rnn"
printf 'gradlab-lesson: 1\ntitle: g\nview: graph\nprogram:\n    x = 0\n    y = 3\n    q = log(x) * y\n    f = tanh(q) + x ^ 2\nstep: auto\n' > "$tmp/graph.lesson"
run check-graph 0 check "$tmp/graph.lesson"
printf 'gradlab-lesson: 1\ntitle: t\nview: circuit\nprogram:\n    x = 2\n    f = w * x\nstep: done\n' > "$tmp/bad.lesson"
run check-bad 2 check "$tmp/bad.lesson"
# Format 2: a run with a training source, its checks and renders (the worker
# is not used headless; the window's worker runs in the soak test).
run check-v2 0 check "$root/tests/lessons/rnn-unrolled.lesson"
run render-v2 0 render "$root/tests/lessons/rnn-unrolled.lesson" --out "$tmp/png-v2"
# The property test of generated wide programs (issue 8), in its quick form.
wide=$build/tests/unit/test_wide_render
if [ -x "$wide" ]; then
    ninja -C "$build" -j"${VALGRIND_JOBS:-2}" tests/unit/test_wide_render >/dev/null
    start=$(date +%s)
    if GRADLAB_QUICK=1 valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --suppressions="$here/valgrind.supp" --log-file="$tmp/wide.vg" "$wide" >"$tmp/wide.out" 2>&1; then
        echo "valgrind.sh: ok test_wide_render ($(( $(date +%s) - start ))s): $(grep -E 'ERROR SUMMARY' "$tmp/wide.vg" | tail -1 | sed 's/^==[0-9]*== //')" >&2
    else
        echo "valgrind.sh: FAIL test_wide_render" >&2
        sed 's/^==[0-9]*== //' "$tmp/wide.vg" | grep -v '^$' | head -80 >&2
        tail -20 "$tmp/wide.out" >&2
        status=1
    fi
fi
exit $status
