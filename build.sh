#!/usr/bin/env bash
# build.sh - builds learn and runs its tests.
#
#   ./build.sh            library object, tools/learn-cli and the test programs (release flags)
#   ./build.sh test       builds, then runs every test; the last line is Check's summary
#   ./build.sh asan       the same tests built with ASan+UBSan (-fno-sanitize-recover)
#   ./build.sh vnni       x86-64: the tests at the AVX-512 and AVX-VNNI levels on any AVX2 CPU,
#                         VPDPBUSD emulated (-DLEARN_EMULATE_VNNI, a test-only build in build-vnni)
#   ./build.sh amx        x86-64: the tests at the amx level on any AVX2 CPU, the AMX tile
#                         instructions and AVX-512 emulated (-DLEARN_EMULATE_AMX, in build-amx)
#   ./build.sh tsan       the concurrency test under ThreadSanitizer (tests/tsan.sh)
#   ./build.sh fuzz [S]   each fuzz harness for S seconds (tests/fuzz/run.sh)
#   ./build.sh arm64      cross-compiles for aarch64 and runs the tests under qemu (tests/arm64.sh)
#   ./build.sh bench      the benchmarks (bench/run.sh); they never gate the tests
#   ./build.sh models     rebuilds the default model in models/ (models/build.sh)
#   ./build.sh clean      removes build outputs
#
# CC (default cc) and CXX (default c++, or clang++ when CC is clang) choose the compilers.
# LEARN_ASSETS points the tests at the shared assets (default ../shared/assets).
set -euo pipefail
cd "$(dirname "$0")"

CC=${CC:-cc}
if [ -z "${CXX:-}" ]; then
    case "$CC" in *clang*) CXX=clang++ ;; *) CXX=c++ ;; esac
fi
WARN="-Wall -Wextra -Werror -Wshadow"
# The tools' sources: learn-cli's main and the code only tools need.
TOOL_SRCS="learn-cli cli cmd_info convert convert_gguf convert_hf gguf json tokimport safetensors items data synth interactions towers_import train cmd_train eval cmd_tokenize cmd_catalog cmd_recommend cmd_embed cmd_demo cmd_bench bpe_train shard"
CSTD="-std=c11"

die() { echo "build.sh: $*" >&2; exit 1; }

need_tool() {
    command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

check_flags() {
    need_tool pkg-config "install it with: apt-get install pkg-config"
    pkg-config --exists check 2>/dev/null ||
        die "the Check test framework is missing: install it with: apt-get install check"
    CHECK_CFLAGS=$(pkg-config --cflags check)
    CHECK_LIBS=$(pkg-config --libs check)
}

# newer OUT IN...: true when OUT is missing or older than any IN.
newer() {
    local out=$1
    shift
    [ -e "$out" ] || return 0
    local f
    for f in "$@"; do [ "$f" -nt "$out" ] && return 0; done
    return 1
}

# build DIR "CFLAGS": compiles everything into DIR.
build() {
    local dir=$1 flags=$2
    mkdir -p "$dir/tools"
    need_tool "$CC" "install a C compiler (apt-get install gcc, or clang)"
    check_flags
    # Objects built by another compiler or with other flags are rebuilt, not mixed in.
    local stamp="$CC $($CC --version 2>/dev/null | head -n 1) | $CSTD $WARN $flags"
    if [ "$(cat "$dir/.flags" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$dir/tools" "$dir/learn.o" "$dir/run_tests"
        mkdir -p "$dir/tools"
        printf '%s\n' "$stamp" >"$dir/.flags"
    fi
    local hdrs=(learn.h learn.c)
    if newer "$dir/learn.o" "${hdrs[@]}"; then
        $CC $CSTD $WARN $flags -c learn.c -o "$dir/learn.o"
    fi
    # The library never exits, aborts, asserts or prints: none of those may be linked in.
    if command -v nm >/dev/null 2>&1; then
        local bad
        bad=$(nm -u "$dir/learn.o" | awk '{print $NF}' | grep -xE \
            '(_?exit|_Exit|abort|__assert_fail|printf|fprintf|vfprintf|puts|fputs|putchar|perror|fwrite|stdout|stderr)' |
            tr '\n' ' ' || true)
        [ -z "$bad" ] || die "learn.o calls what the library must never call: $bad"
    fi
    # Tool objects (all but the CLI's main are also linked into the tests).
    local tool_objs=() name src obj
    for name in $TOOL_SRCS; do
        src="tools/$name.c"
        obj="$dir/tools/$name.o"
        if newer "$obj" "$src" tools/*.h learn.h; then
            $CC $CSTD $WARN $flags -I. -c "$src" -o "$obj"
        fi
        [ "$name" = "learn-cli" ] || tool_objs+=("$obj")
    done
    local cli_out=tools/learn-cli
    [ "$dir" = build ] || cli_out="$dir/learn-cli"
    $CC $flags -o "$cli_out" "$dir/tools/learn-cli.o" "${tool_objs[@]}" "$dir/learn.o" -lm -pthread
    # The Check runner: learn.c and every suite in one translation unit, plus the tool objects.
    if newer "$dir/run_tests" tests/*.c tests/*.h learn.h learn.c "${tool_objs[@]}"; then
        $CC $CSTD $WARN $flags $CHECK_CFLAGS -I. -Itools -o "$dir/run_tests" tests/run.c \
            "${tool_objs[@]}" $CHECK_LIBS -lm -pthread
    fi
    # The header included stb-style, with and without the small-target options.
    $CC $CSTD $WARN $flags -I. -o "$dir/test_stb" tests/stb_impl.c -lm -pthread
    $CC $CSTD $WARN $flags -DLEARN_NO_STDIO -DLEARN_NO_THREADS -I. -o "$dir/test_stb_small" \
        tests/stb_impl.c -lm
    # The header compiled as C++.
    need_tool "$CXX" "install a C++ compiler (apt-get install g++) for the C++ header test"
    $CXX -std=c++11 $WARN $flags -I. -o "$dir/test_cpp" tests/cpp_header.cpp "$dir/learn.o" -lm -pthread
}

run_tests() {
    local dir=$1
    export LEARN_ASSETS=${LEARN_ASSETS:-../shared/assets}
    export LEARN_CLI="$PWD/$2"
    "$dir/test_stb"
    "$dir/test_stb_small"
    "$dir/test_cpp"
    "$dir/run_tests"
}

# DWARF 4: valgrind 3.19 cannot read the DWARF 5 that clang 14 writes.
RELEASE="-O2 -gdwarf-4 -DNDEBUG"
ASAN="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"

case "${1:-build}" in
build | "")
    build build "$RELEASE"
    ;;
test)
    build build "$RELEASE"
    run_tests build tools/learn-cli
    ;;
asan)
    build build-asan "$ASAN"
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        run_tests build-asan build-asan/learn-cli
    ;;
vnni)
    [ "$(uname -m)" = x86_64 ] || die "vnni: the AVX-512 and AVX-VNNI levels exist on x86-64 only"
    grep -qw avx2 /proc/cpuinfo 2>/dev/null || die "vnni: this CPU has no AVX2 to emulate VPDPBUSD with"
    build build-vnni "$RELEASE -DLEARN_EMULATE_VNNI"
    echo "== LEARN_ISA=avx512"
    LEARN_ISA=avx512 run_tests build-vnni build-vnni/learn-cli
    echo "== LEARN_ISA=avxvnni"
    LEARN_ISA=avxvnni run_tests build-vnni build-vnni/learn-cli
    ;;
amx)
    [ "$(uname -m)" = x86_64 ] || die "amx: the amx level exists on x86-64 only"
    grep -qw avx2 /proc/cpuinfo 2>/dev/null || die "amx: this CPU has no AVX2 to emulate AMX and AVX-512 with"
    build build-amx "$RELEASE -DLEARN_EMULATE_VNNI -DLEARN_EMULATE_AMX"
    echo "== LEARN_ISA=amx"
    LEARN_ISA=amx run_tests build-amx build-amx/learn-cli
    ;;
tsan | fuzz | arm64 | bench | models)
    verb=$1
    shift
    case "$verb" in
    tsan) script=tests/tsan.sh ;;
    fuzz) script=tests/fuzz/run.sh ;;
    arm64) script=tests/arm64.sh ;;
    bench) script=bench/run.sh ;;
    models) script=models/build.sh ;;
    esac
    [ -x "$script" ] || die "$script is missing"
    build build "$RELEASE"
    exec "$script" "$@"
    ;;
clean)
    rm -rf build build-* tools/learn-cli
    ;;
*)
    die "unknown command '$1' (build, test, asan, vnni, amx, tsan, fuzz, arm64, bench, models, clean)"
    ;;
esac
