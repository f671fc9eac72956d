#!/usr/bin/env bash
# bench/run.sh - the benchmarks (`./build.sh bench`). Never part of the tests.
#
#   bench/run.sh [quick|full]     quick (default): a few minutes; full: the issue's figures
#                                 (256 items per model, 5 repetitions, 1 and 2 threads)
#
# 1. Tokenizer throughput (bench/bench_tokenizer.c) on the vocabularies of LEARN_ASSETS, if any.
# 2. learn-cli bench on random-weight models of real shapes (learn-cli synth): Qwen2.5-0.5B and
#    TinyLlama-1.1B, Q8_0 and Q4_0: tokens/s, items/s, the products' int8 MAC/s against the
#    CPU's int8 peak measured in the same run, 1 -> 2 thread scaling, peak memory.
# 3. Towers (user embedding, incremental append, item embeddings) and top-K over 100,000 items;
#    top-K also against FAISS IndexFlatIP (bench/bench_faiss.cpp) when libfaiss-dev is installed.
# Models are cached in build/bench/ (about 2 GB for all four).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-quick}
cli=tools/learn-cli
work=build/bench
mkdir -p "$work"
case "$mode" in
quick) count=64 reps=2 shapes="qwen2.5-0.5b" ;;
full) count=256 reps=5 shapes="qwen2.5-0.5b tinyllama-1.1b" ;;
*) echo "bench/run.sh: unknown mode '$mode' (quick, full)" >&2; exit 2 ;;
esac
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs; $(date -u +%F)"

echo "== tokenizer"
cc -O2 -std=c11 -I. -Itools -o "$work/bench_tokenizer" bench/bench_tokenizer.c learn.c tools/json.c \
    tools/gguf.c tools/tokimport.c tools/util.c -lm -pthread
"$work/bench_tokenizer" --mb 1 || echo "(tokenizer benchmark skipped: $?)"

for shape in $shapes; do
    for type in q8_0 q4_0; do
        m="$work/$shape-$type.learn"
        [ -e "$m" ] || "$cli" synth --shape "$shape" --type "$type" --seed 1 -o "$m"
        echo "== encoder: $shape $type"
        "$cli" bench "$m" --count "$count" --reps "$reps" --threads 2 --scaling
    done
done
echo "== towers"
"$cli" bench --towers --reps "$reps" --threads 2
echo "== top-K"
"$cli" bench --topk --reps "$reps" --threads 2
if [ -e /usr/include/faiss/IndexFlat.h ]; then
    echo "== top-K against FAISS IndexFlatIP"
    ${CXX:-g++} -O2 -std=c++11 -I. -o "$work/bench_faiss" bench/bench_faiss.cpp build/learn.o \
        -lfaiss -lblas -llapack -fopenmp -pthread
    "$work/bench_faiss" --reps "$reps" --threads 2
else
    echo "(top-K against FAISS skipped: no /usr/include/faiss; apt-get install libfaiss-dev)"
fi
