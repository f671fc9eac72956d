#!/usr/bin/env bash
# Rebuilds models/demo.learn with nothing but learn's own tools (./build.sh models runs this
# after building learn-cli). Deterministic: the same commands give the same file.
#   1. generated data: 600 products (title, brand, category), 3000 users with latent tastes
#   2. a random-weight llama-architecture LLM (not pretrained) with a byte-level BPE tokenizer
#      learned from the catalog's texts
#   3. the catalog's content embeddings, then the towers trained on the users' sequences
set -euo pipefail
cd "$(dirname "$0")/.."
cli=tools/learn-cli
work=build/demo
rm -rf "$work"
mkdir -p "$work"
"$cli" data synth -o "$work/data" --seed 1
"$cli" synth --arch llama --embd 128 --layers 2 --heads 4 --kv-heads 2 --ff 256 --vocab 1024 \
    --context 256 --seed 1 --train-tokenizer "$work/data/items.jsonl" \
    --template "Title: {title}. Brand: {brand}. Category: {category}" -o "$work/llm.learn"
"$cli" catalog build "$work/llm.learn" "$work/data/items.jsonl" -o "$work/catalog.learn"
"$cli" train "$work/llm.learn" "$work/catalog.learn" "$work/data/interactions.tsv" \
    -o models/demo.learn --epochs 20 --dense --d-model 128 --layers 2 --heads 4 --d-out 16 --batch 128 \
    --lr 2e-3 --warmup 20 --dropout 0.1 --seed 1 --threads 2
"$cli" eval models/demo.learn "$work/catalog.learn" "$work/data/interactions.tsv"
rm -f models/demo.learn.ckpt
"$cli" info models/demo.learn >"$work/info.txt"
head -4 "$work/info.txt"
