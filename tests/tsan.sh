#!/usr/bin/env bash
# tests/tsan.sh - the concurrency test under ThreadSanitizer (`./build.sh tsan`).
#
# Builds tests/tsan_main.c (learn.c, and tests/test_concurrency.c: N threads sharing one model
# and catalog, each with its own context, compared bit-for-bit with a serial run) with
# -fsanitize=thread and runs it; any race report fails it. TSAN_CC chooses the compiler
# (default: clang, else cc).
set -euo pipefail
cd "$(dirname "$0")/.."

CC=${TSAN_CC:-$(command -v clang || command -v cc)}
OUT=build-tsan
mkdir -p "$OUT"
pkg-config --exists check || { echo "tsan.sh: the Check framework is missing (apt-get install check)" >&2; exit 1; }
"$CC" -std=c11 -Wall -Wextra -Werror -Wshadow -O1 -g -fno-omit-frame-pointer -fsanitize=thread \
    $(pkg-config --cflags check) -I. -Itools -o "$OUT/tsan_tests" tests/tsan_main.c tools/bpe_train.c tools/util.c \
    $(pkg-config --libs check) -lm -pthread
# Kernels with many bits of mmap randomisation break older TSan runtimes ("unexpected memory
# mapping"); run without address randomisation when setarch can turn it off.
run=("$OUT/tsan_tests")
if command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then
    run=(setarch "$(uname -m)" -R "$OUT/tsan_tests")
fi
TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" "${run[@]}"
