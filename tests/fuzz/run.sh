#!/usr/bin/env bash
# tests/fuzz/run.sh - builds the libFuzzer harnesses (clang, ASan+UBSan) and runs each for a while.
#
#   tests/fuzz/run.sh [SECONDS] [HARNESS...]   each harness (default: all) for SECONDS (default 60)
#   tests/fuzz/run.sh --build                   only build them (build-fuzz/fuzz_<harness>)
#   tests/fuzz/run.sh --seeds                   rewrite the committed seed corpora (tests/fuzz/seeds.c)
#
# Harnesses: the bodies in tests/fuzz/fuzz_targets.c. Each run reads the committed seeds
# (tests/fuzz/corpus/<harness>, never written) and a working corpus kept between runs
# (build-fuzz/corpus/<harness>). A crashing input is kept as build-fuzz/crashes/<harness>-crash-*;
# once fixed, copy it into tests/fuzz/corpus/<harness>/ so that `./build.sh test` replays it.
# The summary gives, per harness, executions per second and libFuzzer's coverage (cov: edges,
# ft: features). Exit status: 1 when any harness found something.
#
# CC (default clang) must be a clang with libFuzzer (Debian: clang and libclang-rt-<v>-dev).
# FUZZ_SEED=N fixes libFuzzer's random seed (CI uses it, so that a run repeats the mutations
# of the same run made locally; only the machine's speed changes how far it gets).
set -euo pipefail
cd "$(dirname "$0")/../.."

CC=${FUZZ_CC:-clang}
OUT=build-fuzz
HARNESSES="model catalog tokenizer json items interactions csv gguf safetensors"
FLAGS="-std=c11 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
WARN="-Wall -Wextra -Werror -Wshadow"
# The tools' sources, as build.sh lists them (learn-cli's main excluded).
TOOL_SRCS=$(sed -n 's/^TOOL_SRCS="\(.*\)"/\1/p' build.sh | sed 's/\blearn-cli\b//')

die() { echo "fuzz: $*" >&2; exit 1; }

command -v "$CC" >/dev/null || die "$CC not found (apt-get install clang libclang-rt-14-dev)"

build() {
    mkdir -p "$OUT/obj"
    echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
        >"$OUT/probe.c"
    "$CC" -fsanitize=fuzzer "$OUT/probe.c" -o "$OUT/probe" 2>/dev/null ||
        die "$CC cannot link -fsanitize=fuzzer (apt-get install libclang-rt-14-dev)"
    # The runtime and the tools, instrumented for coverage, once.
    local objs=() name src obj
    for name in learn $TOOL_SRCS; do
        if [ "$name" = learn ]; then src=learn.c; else src="tools/$name.c"; fi
        [ -e "$src" ] || continue
        obj="$OUT/obj/$name.o"
        if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ learn.h -nt "$obj" ] ||
            [ -n "$(find tools -name '*.h' -newer "$obj" 2>/dev/null)" ]; then
            "$CC" $FLAGS $WARN -fsanitize=fuzzer-no-link -I. -Itools -c "$src" -o "$obj"
        fi
        objs+=("$obj")
    done
    for name in $HARNESSES; do
        "$CC" $FLAGS $WARN -fsanitize=fuzzer -I. -Itools -DFUZZ_NAME="\"$name\"" \
            tests/fuzz/fuzz_main.c "${objs[@]}" -o "$OUT/fuzz_$name" -lm -pthread
    done
}

seeds() {
    mkdir -p "$OUT"
    "$CC" -std=c11 -O1 $WARN -I. -Itools tests/fuzz/seeds.c learn.c tools/bpe_train.c tools/util.c \
        -o "$OUT/seeds" -lm -pthread
    rm -f tests/fuzz/corpus/*/seed-*
    "$OUT/seeds" tests/fuzz/corpus
    du -sh tests/fuzz/corpus/*
}

case "${1:-}" in
--build) build; exit 0 ;;
--seeds) seeds; exit 0 ;;
esac

# Longest input per harness: above the largest seed, and above the tokenizer harness's text
# limit (1000 bytes) so that its TOO_LONG path is reached.
max_len() {
    case "$1" in
    model) echo 32768 ;;
    catalog | gguf) echo 8192 ;;
    tokenizer) echo 1200 ;;
    *) echo 4096 ;;
    esac
}

SECONDS_EACH=${1:-60}
[ "$#" -gt 0 ] && shift
[[ "$SECONDS_EACH" =~ ^[0-9]+$ ]] || die "SECONDS must be a number, not '$SECONDS_EACH'"
[ "$#" -gt 0 ] && HARNESSES="$*"
build
mkdir -p "$OUT/crashes" "$OUT/logs"
found=0
summary=""
for name in $HARNESSES; do
    [ -x "$OUT/fuzz_$name" ] || die "no harness named $name"
    mkdir -p "$OUT/corpus/$name"
    log="$OUT/logs/$name.log"
    echo "== fuzz $name for ${SECONDS_EACH}s"
    set +e
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$OUT/fuzz_$name" "$OUT/corpus/$name" "tests/fuzz/corpus/$name" \
        -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=2048 -max_len="$(max_len "$name")" \
        -print_final_stats=1 -artifact_prefix="$OUT/crashes/$name-" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} >"$log" 2>&1
    rc=$?
    set -e
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    status=ok
    if [ "$rc" -ne 0 ]; then
        status="FOUND (exit $rc, see $log)"
        found=1
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*broken promise|.*runtime error)' "$log" | head -5 || true
    fi
    line=$(printf '%-13s %8s exec/s %10s execs  cov %6s  ft %7s  %s' "$name" "${eps:-?}" \
        "${execs:-?}" "${cov:-?}" "${ft:-?}" "$status")
    echo "$line"
    summary+="$line"$'\n'
done
echo "== fuzz summary (${SECONDS_EACH}s each)"
printf '%s' "$summary"
exit "$found"
