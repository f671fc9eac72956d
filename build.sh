#!/usr/bin/env bash
# build.sh - builds learn and runs its tests.
#
#   ./build.sh            the libraries (build/liblearn.a, build/liblearn.so.MAJOR.MINOR),
#                         tools/learn-cli and the test programs (release flags)
#   ./build.sh deps       installs what building and testing need (apt-get update, then
#                         gcc g++ check pkg-config; through sudo when not root)
#   ./build.sh test       builds, then runs every test; the last line is Check's summary
#   ./build.sh install [PREFIX]    builds, then installs into PREFIX (default /usr/local;
#                         DESTDIR is put before it): include/learn.h, lib/liblearn.so.MAJOR.MINOR
#                         with its links liblearn.so.MAJOR (the SONAME) and liblearn.so,
#                         lib/liblearn.a, lib/pkgconfig/learn.pc, bin/learn-cli
#   ./build.sh uninstall [PREFIX]  removes exactly those files
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
TOOL_SRCS="learn-cli cli util cmd_info cmd_convert convert convert_gguf convert_hf convert_llama2c gguf json tokimport safetensors items data cmd_data synth cmd_synth interactions towers_import train cmd_train eval cmd_eval cmd_tokenize cmd_catalog cmd_recommend cmd_embed cmd_demo cmd_bench bpe_train shard"
CSTD="-std=c11"
# learn.o is the one object of the libraries and the tools: position-independent, and only what
# learn.h declares is visible outside it (its calls to its own functions stay direct).
LIBFLAGS="-fPIC -fvisibility=hidden -fno-semantic-interposition"

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

# The version, from learn.h: VERSION (MAJOR.MINOR.PATCH), SONAME and LIBNAME (the shared
# library's file name).
read_version() {
    local major minor
    major=$(sed -n 's/^#define LEARN_VERSION_MAJOR \([0-9][0-9]*\)$/\1/p' learn.h)
    minor=$(sed -n 's/^#define LEARN_VERSION_MINOR \([0-9][0-9]*\)$/\1/p' learn.h)
    VERSION=$(sed -n 's/^#define LEARN_VERSION_STRING "\([0-9.]*\)"$/\1/p' learn.h)
    [ -n "$major" ] && [ -n "$minor" ] && [ -n "$VERSION" ] || die "learn.h: LEARN_VERSION_MAJOR, _MINOR or _STRING not found"
    case "$VERSION" in "$major.$minor".*) ;; *) die "learn.h: LEARN_VERSION_STRING $VERSION is not $major.$minor.PATCH" ;; esac
    SONAME=liblearn.so.$major
    LIBNAME=liblearn.so.$major.$minor
}

# check_exports LIB: the shared library must export exactly the functions learn.h declares.
check_exports() {
    command -v nm >/dev/null 2>&1 || return 0
    local want got
    want=$($CC -E -P -x c learn.h | grep -oE '\blearn_[a-z0-9_]+ *\(' | tr -d ' (' | sort -u)
    got=$(nm -D --defined-only "$1" | awk '{print $NF}' | sort -u)
    [ "$want" = "$got" ] || die "$1 must export what learn.h declares, and only that: $(
        diff <(echo "$want") <(echo "$got") | sed -n 's/^< /missing /p; s/^> /extra /p' | tr '\n' ' ')"
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
    local stamp="$CC $($CC --version 2>/dev/null | head -n 1) | $CXX | $CSTD $WARN $flags | $LIBFLAGS"
    if [ "$(cat "$dir/.flags" 2>/dev/null)" != "$stamp" ]; then
        rm -rf "$dir/tools" "$dir/learn.o" "$dir/run_tests" "$dir/test_stb" "$dir/test_stb_small" "$dir/test_cpp"
        mkdir -p "$dir/tools"
        printf '%s\n' "$stamp" >"$dir/.flags"
    fi
    local hdrs=(learn.h learn.c)
    if newer "$dir/learn.o" "${hdrs[@]}"; then
        $CC $CSTD $WARN $flags $LIBFLAGS -c learn.c -o "$dir/learn.o"
    fi
    # The library never exits, aborts, asserts or prints: none of those may be linked in.
    if command -v nm >/dev/null 2>&1; then
        local bad
        bad=$(nm -u "$dir/learn.o" | awk '{print $NF}' | grep -xE \
            '(_?exit|_Exit|abort|__assert_fail|printf|fprintf|vfprintf|puts|fputs|putchar|perror|fwrite|stdout|stderr)' |
            tr '\n' ' ' || true)
        [ -z "$bad" ] || die "learn.o calls what the library must never call: $bad"
    fi
    # The libraries. The shared one is linked with no undefined symbol left but libc's and
    # libm's (sanitizer builds leave theirs to the program).
    read_version
    if newer "$dir/liblearn.a" "$dir/learn.o"; then
        rm -f "$dir/liblearn.a"
        ${AR:-ar} rcs "$dir/liblearn.a" "$dir/learn.o"
    fi
    if newer "$dir/$LIBNAME" "$dir/learn.o"; then
        local defs="-Wl,-z,defs"
        case "$flags" in *-fsanitize*) defs="" ;; esac
        $CC $flags -shared -Wl,-soname,"$SONAME" $defs -o "$dir/$LIBNAME" "$dir/learn.o" -lm -pthread
        if [ -n "$defs" ]; then check_exports "$dir/$LIBNAME"; fi
        ln -sfn "$LIBNAME" "$dir/$SONAME"
        ln -sfn "$SONAME" "$dir/liblearn.so"
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
    if newer "$cli_out" "$dir/tools/learn-cli.o" "${tool_objs[@]}" "$dir/learn.o"; then
        $CC $flags -o "$cli_out" "$dir/tools/learn-cli.o" "${tool_objs[@]}" "$dir/learn.o" -lm -pthread
    fi
    # The Check runner: learn.c and every suite in one translation unit, plus the tool objects.
    if newer "$dir/run_tests" tests/*.c tests/*.h learn.h learn.c "${tool_objs[@]}"; then
        $CC $CSTD $WARN $flags $CHECK_CFLAGS -I. -Itools -o "$dir/run_tests" tests/run.c \
            "${tool_objs[@]}" $CHECK_LIBS -lm -pthread
    fi
    # The header included stb-style, with and without the small-target options.
    if newer "$dir/test_stb" tests/stb_impl.c learn.h learn.c; then
        $CC $CSTD $WARN $flags -I. -o "$dir/test_stb" tests/stb_impl.c -lm -pthread
    fi
    if newer "$dir/test_stb_small" tests/stb_impl.c learn.h learn.c; then
        $CC $CSTD $WARN $flags -DLEARN_NO_STDIO -DLEARN_NO_THREADS -I. -o "$dir/test_stb_small" \
            tests/stb_impl.c -lm
    fi
    # The header compiled as C++.
    need_tool "$CXX" "install a C++ compiler (apt-get install g++) for the C++ header test"
    if newer "$dir/test_cpp" tests/cpp_header.cpp learn.h "$dir/learn.o"; then
        $CXX -std=c++11 $WARN $flags -I. -o "$dir/test_cpp" tests/cpp_header.cpp "$dir/learn.o" -lm -pthread
    fi
}

run_tests() {
    local dir=$1
    export LEARN_ASSETS=${LEARN_ASSETS:-../shared/assets}
    export LEARN_CLI="$PWD/$2"
    export LEARN_BUILD_DIR="$PWD/$dir"
    "$dir/test_stb"
    "$dir/test_stb_small"
    "$dir/test_cpp"
    "$dir/run_tests"
}

# put_file MODE SRC DST: copies SRC to a temporary name beside DST, fsyncs it and renames it
# over DST (a program running the old file keeps it; nothing half-written is ever at DST).
put_file() {
    local tmp
    tmp="$(dirname "$3")/.$(basename "$3").tmp.$$"
    if ! { install -m "$1" "$2" "$tmp" && sync "$tmp" && mv -f "$tmp" "$3"; }; then
        rm -f "$tmp"
        die "cannot write $3"
    fi
}

# put_link TARGET LINK: the symbolic link LINK -> TARGET, replaced atomically.
put_link() {
    local tmp
    tmp="$(dirname "$2")/.$(basename "$2").tmp.$$"
    if ! { ln -sfn "$1" "$tmp" && mv -Tf "$tmp" "$2"; }; then
        rm -f "$tmp"
        die "cannot write $2"
    fi
}

# The files `./build.sh install` puts under DESTDIR/PREFIX (LIBNAME and SONAME set).
installed_files() {
    echo include/learn.h "lib/$LIBNAME" "lib/$SONAME" lib/liblearn.so lib/liblearn.a \
        lib/pkgconfig/learn.pc bin/learn-cli
}

# install_files PREFIX: installs build/'s libraries, learn.h, learn.pc and learn-cli.
install_files() {
    local prefix=$1 root="${DESTDIR:-}$1" f
    read_version
    mkdir -p "$root/include" "$root/lib/pkgconfig" "$root/bin" || die "cannot create the directories under $root"
    put_file 644 learn.h "$root/include/learn.h"
    put_file 755 "build/$LIBNAME" "$root/lib/$LIBNAME"
    put_link "$LIBNAME" "$root/lib/$SONAME"
    put_link "$SONAME" "$root/lib/liblearn.so"
    put_file 644 build/liblearn.a "$root/lib/liblearn.a"
    printf '%s\n' "prefix=$prefix" 'includedir=${prefix}/include' 'libdir=${prefix}/lib' '' \
        'Name: learn' 'Description: LLM knowledge for recommendation, on the CPU, from one model file' \
        "Version: $VERSION" 'Cflags: -I${includedir}' 'Libs: -L${libdir} -llearn' \
        'Libs.private: -lm -pthread' >build/learn.pc
    put_file 644 build/learn.pc "$root/lib/pkgconfig/learn.pc"
    put_file 755 tools/learn-cli "$root/bin/learn-cli"
    for f in $(installed_files); do echo "installed $root/$f"; done
}

# uninstall_files PREFIX: removes what install_files put there, and nothing else.
uninstall_files() {
    local root="${DESTDIR:-}$1" f
    read_version
    for f in $(installed_files); do
        if [ -e "$root/$f" ] || [ -L "$root/$f" ]; then
            rm -f "$root/$f" || die "cannot remove $root/$f"
            echo "removed $root/$f"
        fi
    done
}

# loader_note PREFIX VERB: after an install or uninstall without DESTDIR, refreshes the
# loader's cache when PREFIX/lib is one of its directories (as root), or says how programs
# find the library and pkg-config finds learn.pc.
loader_note() {
    local lib="$1/lib"
    [ -z "${DESTDIR:-}" ] || return 0
    if [ "$lib" = /usr/lib ] || [ "$lib" = /lib ] ||
        sed 's/#.*//; s/[[:space:]]*$//' /etc/ld.so.conf /etc/ld.so.conf.d/*.conf 2>/dev/null | grep -qxF "$lib"; then
        if [ "$(id -u)" = 0 ] && command -v ldconfig >/dev/null 2>&1; then
            ldconfig
        else
            echo "build.sh: run ldconfig as root so that the loader sees $lib"
        fi
    elif [ "$2" = install ]; then
        echo "build.sh: $lib is not in the loader's path: run programs with LD_LIBRARY_PATH=$lib (or link them with -Wl,-rpath,$lib)"
    fi
    if [ "$2" = install ] && command -v pkg-config >/dev/null 2>&1 &&
        ! pkg-config --variable pc_path pkg-config | tr ':' '\n' | grep -qxF "$lib/pkgconfig"; then
        echo "build.sh: pkg-config does not look in $lib/pkgconfig: set PKG_CONFIG_PATH=$lib/pkgconfig"
    fi
}

# DWARF 4: valgrind 3.19 cannot read the DWARF 5 that clang 14 writes.
RELEASE="-O2 -gdwarf-4 -DNDEBUG"
ASAN="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"

case "${1:-build}" in
build | "")
    build build "$RELEASE"
    ;;
deps)
    # README's first command: a fresh Debian machine has empty package lists, and a root shell
    # there often has no sudo.
    command -v apt-get >/dev/null 2>&1 || die "deps: apt-get not found; install a C compiler, a C++ compiler, Check and pkg-config yourself"
    sudo=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "deps: not root and no sudo: run it as root"
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y gcc g++ check pkg-config
    ;;
install | uninstall)
    verb=$1
    prefix=${2:-/usr/local}
    [ $# -le 2 ] || die "$verb takes one PREFIX at most (DESTDIR=... goes in the environment)"
    case "$prefix" in /*) ;; *) die "$verb: PREFIX must be an absolute path (got '$prefix')" ;; esac
    case "${DESTDIR:-/}" in /*) ;; *) die "$verb: DESTDIR must be an absolute path (got '$DESTDIR')" ;; esac
    [ "$prefix" = / ] || prefix=${prefix%/}
    if [ "$verb" = install ]; then
        build build "$RELEASE"
        install_files "$prefix"
    else
        uninstall_files "$prefix"
    fi
    loader_note "$prefix" "$verb"
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
    die "unknown command '$1' (build, deps, test, install, uninstall, asan, vnni, amx, tsan, fuzz, arm64, bench, models, clean)"
    ;;
esac
