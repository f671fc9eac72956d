#!/usr/bin/env bash
# bench/slurm.sh - sharded catalog builds on a one-node Slurm cluster started on this machine
# (tests/slurm_cluster.sh; needs root and apt-get install munge slurmctld slurmd slurm-client).
# Never part of the tests.
#
#   bench/slurm.sh [MODEL] [ITEMS]   default: a random-weight Qwen2.5-0.5B shape in Q8_0
#                                    (learn-cli synth, cached in build/bench/) and 48 items
#
# Prints, for the one-machine build and for 1, 2 and 4 shards through tools/slurm/catalog-build
# --wait: the wall time from submission to the merged catalog and items/s; each build's
# accounting from the merge; and the scheduler's own overhead per shard: the same array and
# dependent merge with tasks that do nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cli=$root/tools/learn-cli
[ -x "$cli" ] || ./build.sh >/dev/null
model=${1:-}
n_items=${2:-48}
if [ -z "$model" ]; then
    model=$root/build/bench/qwen2.5-0.5b-q8_0.learn
    mkdir -p build/bench
    [ -e "$model" ] || "$cli" synth --shape qwen2.5-0.5b --type q8_0 --seed 1 -o "$model"
fi
model=$(realpath "$model")
. tests/slurm_cluster.sh
why=$(slurm_cluster_missing)
[ -z "$why" ] || { echo "bench/slurm.sh: $why" >&2; exit 1; }
T=$(mktemp -d /tmp/learn-slurm-bench.XXXXXX)
chmod 755 "$T"
trap 'slurm_cluster_stop; rm -rf "$T"' EXIT
slurm_cluster_start "$T/cluster"
cpus=$(nproc)
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $cpus CPUs; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%F)"
echo "model: $model; $n_items items"
"$cli" data synth -o "$T/data" --items "$n_items" --users 10 --seed 7 2>/dev/null
items=$T/data/items.jsonl

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.2f", n / s }'; }

t0=$(now)
"$cli" catalog build "$model" "$items" -o "$T/one.learn" --threads "$cpus" 2>"$T/one.log"
t1=$(now)
w=$(secs "$t0" "$t1")
echo "one machine, $cpus threads, no Slurm: $w s, $(rate "$n_items" "$w") items/s"

for shards in 1 2 4; do
    # One shard gets every CPU; more shards one CPU each (Slurm runs as many at once as fit).
    per=$((shards == 1 ? cpus : 1))
    out=$T/cat-$shards.learn
    t0=$(now)
    tools/slurm/catalog-build "$model" "$items" "$out" --shards "$shards" --cpus-per-task="$per" --wait >"$T/run-$shards.log" 2>&1 ||
        { cat "$T/run-$shards.log" >&2; exit 1; }
    t1=$(now)
    cmp -s "$out" "$T/one.learn" || { echo "bench/slurm.sh: the $shards-shard catalog differs from the one-machine build" >&2; exit 1; }
    w=$(secs "$t0" "$t1")
    load=$(grep -h "items encoded in" "$out.parts"/logs/shard-*.out | sed -n 's/.*; \([0-9.]*\) s with loading/\1/p' |
        awk '{ s += $1 } END { printf "%.2f", s / NR }')
    enc=$(grep -h "items encoded in" "$out.parts"/logs/shard-*.out | sed -n 's/.* encoded in \([0-9.]*\) s .*/\1/p' |
        awk '{ s += $1 } END { printf "%.2f", s / NR }')
    echo "$shards shard(s), --cpus-per-task=$per: $w s from submission to the merged catalog, $(rate "$n_items" "$w") items/s;" \
        "a shard encodes in $enc s on average, $load s with loading the model and items"
    grep -h "^catalog-build: build:" "$T/run-$shards.log" | sed "s/^catalog-build: /    /"
done

# The scheduler alone: the same jobs doing nothing.
for shards in 1 2 4; do
    t0=$(now)
    a=$(sbatch --parsable --array=0-$((shards - 1)) --cpus-per-task=1 --output=/dev/null --wrap true)
    sbatch --parsable --dependency=afterok:"$a" --output=/dev/null --wrap true >/dev/null
    slurm_cluster_wait 300 slurm_cluster_empty
    t1=$(now)
    w=$(secs "$t0" "$t1")
    echo "scheduler alone, $shards empty task(s) and a dependent one: $w s, $(awk -v w="$w" -v n="$shards" 'BEGIN { printf "%.2f", w / n }') s per shard"
done
