#!/usr/bin/env bash
# tests/valgrind.sh - learn-cli under valgrind (memcheck) on tiny models: every command of the
# pipeline once, each required to finish with no memory error and no leak (definite or
# indirect). RELIABILITY.md G. Builds first (./build.sh, release flags with -g).
#
#   tests/valgrind.sh            all of it (a minute or two)
#   VALGRIND_ARGS=... tests/valgrind.sh   extra valgrind options
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
./build.sh >/dev/null
CLI=$PWD/tools/learn-cli
D=$(mktemp -d "${TMPDIR:-/tmp}/learn-valgrind.XXXXXX")
trap 'rm -rf "$D"' EXIT

VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect ${VALGRIND_ARGS:-})
n=0
# vg_run WANT [--stdin FILE] ARGS...: learn-cli ARGS under valgrind, which must exit WANT (a
# memcheck error exits 99); anything else stops the script.
vg_run() {
    local want=$1 in=/dev/null note=""
    shift
    if [ "$1" = --stdin ]; then in=$2; shift 2; fi
    [ "$want" = 0 ] || note=" (must fail cleanly)"
    n=$((n + 1))
    echo "== valgrind learn-cli $*$note"
    set +e
    "${VG[@]}" "$CLI" "$@" <"$in" >"$D/out.txt" 2>"$D/err.txt"
    local rc=$?
    set -e
    if [ "$rc" -ne "$want" ]; then
        cat "$D/err.txt" >&2
        echo "valgrind.sh: learn-cli $* exited $rc (expected $want)" >&2
        exit 1
    fi
}
vg() { vg_run 0 "$@"; }
vg_fails() { vg_run 1 "$@"; }

"$CLI" data synth -o "$D/data" --items 30 --users 40 --seed 2 >/dev/null
TMPL="Title: {title}. Brand: {brand}. Category: {category}"
vg synth --arch llama --embd 64 --layers 1 --heads 4 --kv-heads 2 --ff 64 --vocab 300 \
    --train-tokenizer "$D/data/items.jsonl" --template "$TMPL" -o "$D/m.learn"
vg info "$D/m.learn" --json
vg verify "$D/m.learn"
vg tokenize "$D/m.learn" --text "Title: Acme caf$(printf '\xc3\xa9') tent $(printf '\xff\xfe') 12"
printf 'Title: Acme Tea\nBrand: Zephyr\n' >"$D/texts.txt"
vg --stdin "$D/texts.txt" embed "$D/m.learn" --threads 2
vg catalog build "$D/m.learn" "$D/data/items.jsonl" -o "$D/cat.learn" --threads 2
# Shards (one from a Slurm array's environment), checked and merged; a set missing a shard.
vg catalog build "$D/m.learn" "$D/data/items.jsonl" -o "$D/s0.learn" --shard 0/2
SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=2 vg catalog build "$D/m.learn" "$D/data/items.jsonl" \
    -o "$D/s1.learn" --shard auto
vg catalog check --model "$D/m.learn" --items "$D/data/items.jsonl" "$D/s1.learn" "$D/s0.learn"
vg catalog merge -o "$D/s.learn" "$D/s1.learn" "$D/s0.learn"
cmp "$D/s.learn" "$D/cat.learn"
vg_fails catalog merge -o "$D/s.learn" "$D/s1.learn" "$D/s1.learn" "$D/nope.learn"
vg train "$D/m.learn" "$D/cat.learn" "$D/data/interactions.tsv" -o "$D/t.learn" --epochs 1 \
    --d-model 16 --layers 1 --heads 2 --d-out 8 --batch 8 --min-len 3 --threads 2
vg catalog reembed "$D/t.learn" "$D/cat.learn" -o "$D/cat2.learn"
id1=$(sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' "$D/data/items.jsonl" | sed -n 1p)
id2=$(sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' "$D/data/items.jsonl" | sed -n 2p)
vg user "$D/t.learn" "$D/cat2.learn" --history "$id1,$id2"
vg recommend "$D/t.learn" "$D/cat2.learn" --history "$id1,NOPE,$id2" -k 5 --json --threads 2
printf '{"user": "u1", "history": ["%s"]}\nnot json\n{"user": 2, "history": []}\n' "$id1" >"$D/users.jsonl"
vg --stdin "$D/users.jsonl" recommend "$D/t.learn" "$D/cat2.learn" --batch -k 3
vg eval "$D/t.learn" "$D/cat2.learn" "$D/data/interactions.tsv" --json --threads 2
printf '{"id": "NEW1", "title": "Zephyr Tent", "brand": "Zephyr", "category": "Camping"}\n' >"$D/new.jsonl"
vg catalog add "$D/t.learn" "$D/cat2.learn" "$D/new.jsonl"
vg catalog export "$D/cat2.learn" --npy "$D/npy"
# Bad inputs fail cleanly.
head -c 1000 "$D/cat2.learn" >"$D/cut.learn"
vg_fails info "$D/cut.learn"
vg_fails recommend "$D/t.learn" "$D/cut.learn" --history "$id1"
vg_fails recommend "$D/t.learn" "$D/cat2.learn" --history NOPE
vg_fails catalog add "$D/t.learn" "$D/cat2.learn" "$D/new.jsonl"
echo "valgrind.sh: $n runs of learn-cli, no memory error, no leak"
