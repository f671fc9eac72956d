#!/usr/bin/env bash
# LEARN on real data with a real (tiny) pretrained LLM: stories260K (from the shared assets)
# encodes MovieLens ml-latest-small's movie titles and genres, the towers are trained on the
# users' rating sequences, and `learn-cli eval` prints the paper's protocol for the model and
# the popularity and raw-content baselines. Not part of the tests; needs LEARN_ASSETS.
#   bench/movielens.sh [extra learn-cli train options]
set -euo pipefail
cd "$(dirname "$0")/.."
assets=${LEARN_ASSETS:-../shared/assets}
cli=tools/learn-cli
work=build/movielens
[ -x "$cli" ] || ./build.sh
[ -f "$assets/llama2c/stories260K.bin" ] || { echo "bench/movielens.sh: $assets/llama2c/stories260K.bin not found (set LEARN_ASSETS)" >&2; exit 1; }
mkdir -p "$work"
"$cli" convert --llama2c "$assets/llama2c/stories260K.bin" --tokenizer "$assets/llama2c/tok512.bin" \
    --type f32 --template 'Title: {title}. Genres: {genres}' -o "$work/stories260K.learn"
"$cli" data movielens "$assets/movielens/ml-latest-small" -o "$work/data"
"$cli" catalog build "$work/stories260K.learn" "$work/data/items.jsonl" -o "$work/catalog.learn"
time "$cli" train "$work/stories260K.learn" "$work/catalog.learn" "$work/data/interactions.tsv" \
    -o "$work/model.learn" --d-model 128 --layers 2 --heads 4 --d-out 64 --batch 256 \
    --lr 1e-3 --warmup 20 --logq --dropout 0.1 --seed 42 --epochs 40 --patience 5 --threads 2 "$@"
"$cli" eval "$work/model.learn" "$work/catalog.learn" "$work/data/interactions.tsv"
