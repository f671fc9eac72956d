#!/usr/bin/env bash
# tests/arm64.sh - the whole test suite built for aarch64 and run under qemu (`./build.sh arm64`).
#
# Cross-compiles learn.c, learn-cli and the Check runner with aarch64-linux-gnu-gcc (static, so
# qemu needs no arm64 root) and runs them with qemu-aarch64 twice: `-cpu max` (NEON with the
# dot-product extension: the neon_dotprod kernels) and `-cpu cortex-a57` (plain NEON). The CLI
# tests run the arm64 learn-cli through qemu too. Needs (Debian):
#   apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
#   dpkg --add-architecture arm64 && apt-get update && apt-get install check:arm64
#
#   tests/arm64.sh [CPU...]     the CPUs to emulate (default: max cortex-a57)
set -euo pipefail
cd "$(dirname "$0")/.."

CC=${ARM64_CC:-aarch64-linux-gnu-gcc}
QEMU=${ARM64_QEMU:-qemu-aarch64}
OUT=build-arm64
die() { echo "arm64.sh: $*" >&2; exit 1; }
command -v "$CC" >/dev/null || die "$CC not found (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)"
command -v "$QEMU" >/dev/null || die "$QEMU not found (apt-get install qemu-user)"
CHECK_LIB=/usr/lib/aarch64-linux-gnu/libcheck.a
[ -e "$CHECK_LIB" ] || die "the arm64 Check library is missing (dpkg --add-architecture arm64 && apt-get update && apt-get install check:arm64)"

TOOL_SRCS=$(sed -n 's/^TOOL_SRCS="\(.*\)"/\1/p' build.sh)
FLAGS="-std=c11 -O2 -g -Wall -Wextra -Werror -Wshadow"
mkdir -p "$OUT/tools"
# Rebuilt when any source is newer than the last build.
stale=1
if [ -e "$OUT/run_tests" ] && [ -z "$(find learn.h learn.c tools tests build.sh -newer "$OUT/run_tests" \( -name '*.[ch]' -o -name '*.sh' \) 2>/dev/null | head -1)" ]; then
    stale=0
fi
if [ "$stale" = 1 ]; then
    "$CC" $FLAGS -c learn.c -o "$OUT/learn.o"
    objs=()
    for name in $TOOL_SRCS; do
        "$CC" $FLAGS -I. -c "tools/$name.c" -o "$OUT/tools/$name.o"
        [ "$name" = learn-cli ] || objs+=("$OUT/tools/$name.o")
    done
    "$CC" -static -o "$OUT/learn-cli.bin" "$OUT/tools/learn-cli.o" "${objs[@]}" "$OUT/learn.o" -lm -pthread
    # -fno-tree-vectorize: gcc 12's aarch64 vectorizer crashes (internal compiler error in
    # vect_transform_reduction) on some of the suites' fmax reductions. The kernels are intrinsics.
    # FLT_NO_MALLOC_HOOK: the static libc owns malloc (the allocation-failure loop of the training
    # step, which replaces malloc, runs in the native builds).
    "$CC" $FLAGS -fno-tree-vectorize -DFLT_NO_MALLOC_HOOK -static -I. -Itools -idirafter /usr/include -o "$OUT/run_tests" tests/run.c "${objs[@]}" \
        "$CHECK_LIB" -lsubunit -lm -pthread -lrt
    "$CC" $FLAGS -static -I. -o "$OUT/test_stb" tests/stb_impl.c -lm -pthread
    "$CC" $FLAGS -static -DLEARN_NO_STDIO -DLEARN_NO_THREADS -I. -o "$OUT/test_stb_small" tests/stb_impl.c -lm
fi

export LEARN_ASSETS=${LEARN_ASSETS:-../shared/assets}
cpus=("$@")
[ ${#cpus[@]} -gt 0 ] || cpus=(max cortex-a57)
for cpu in "${cpus[@]}"; do
    echo "== arm64 under $QEMU -cpu $cpu"
    # learn-cli through qemu, for the tests that run it as a program.
    printf '#!/bin/sh\nexec %s -cpu %s %s "$@"\n' "$QEMU" "$cpu" "$PWD/$OUT/learn-cli.bin" >"$OUT/learn-cli"
    chmod +x "$OUT/learn-cli"
    export LEARN_CLI="$PWD/$OUT/learn-cli"
    "$QEMU" -cpu "$cpu" "$OUT/test_stb"
    "$QEMU" -cpu "$cpu" "$OUT/test_stb_small"
    CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-20} "$QEMU" -cpu "$cpu" "$OUT/run_tests"
done
