#!/usr/bin/env bash
# tests/slurm.sh - sharded catalog builds on a real Slurm: starts a one-node cluster on this
# machine (tests/slurm_cluster.sh: Debian's munge, slurmctld, slurmd and slurm-client, run as
# root without systemd, stopped by pid at the end) and builds a catalog of 300 generated items
# with models/demo.learn through tools/slurm/catalog-build:
#   - 4 shards and the merge equal the one-machine build byte for byte; a rerun has nothing
#     to do;
#   - an array task cancelled mid-run (scancel): Slurm cancels the merge, `catalog merge`
#     names the missing shard, and a rerun resubmits that shard alone (and cleans a killed
#     writer's temporary file), then completes;
#   - a corrupted shard file is refused by name, and a rerun rebuilds it alone;
#   - a 1-based array (--array=1-4) with --shard auto gives the same catalog;
#   - bad arguments, and --dry-run (the job scripts and sbatch commands; nothing submitted).
# Skipped, with the reason, where the packages are missing or this is not root. About 40 s.
#   needs: apt-get install munge slurmctld slurmd slurm-client; tools/learn-cli (./build.sh)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. tests/slurm_cluster.sh

why=$(slurm_cluster_missing)
if [ -n "$why" ]; then
    echo "slurm.sh: SKIPPED: $why"
    exit 0
fi
[ -x tools/learn-cli ] || ./build.sh >/dev/null || exit 1
cli=$root/tools/learn-cli
model=$root/models/demo.learn
build=$root/tools/slurm/catalog-build

T=$(mktemp -d /tmp/learn-slurm.XXXXXX)
chmod 755 "$T" # munged wants the folders of its socket searchable by all
cleanup() {
    slurm_cluster_stop
    if [ "$failed" = 0 ]; then rm -rf "$T"; else echo "slurm.sh: files kept in $T" >&2; fi
}
passed=0 failed=0
trap cleanup EXIT
ok() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAILED: $*" >&2; }
# check DESCRIPTION COMMAND...: COMMAND must succeed.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}
has() { grep -qF -- "$2" "$1" || { echo "  '$2' is not in $1:" >&2; sed 's/^/    /' "$1" >&2; return 1; }; }
finish() {
    echo "slurm: $passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}

t0=$SECONDS
"$cli" data synth -o "$T/data" --items 300 --users 20 --seed 5 2>/dev/null || { fail "data synth"; finish; }
items=$T/data/items.jsonl
"$cli" catalog build "$model" "$items" -o "$T/one.learn" --threads 1 2>"$T/one.log" || { fail "one-machine build"; finish; }
if ! slurm_cluster_start "$T/cluster"; then
    fail "starting the one-node cluster (logs in $T/cluster/log)"
    finish
fi
echo "slurm.sh: cluster up in $((SECONDS - t0)) s: $(sinfo -h -o '%n, %c CPUs, %t')"

# The array job's id from catalog-build's output ("... array job 12 (logs: ...").
array_of() { sed -n 's/.*: array job \([0-9][0-9]*\) .*/\1/p' "$1"; }
merge_of() { sed -n 's/.*: merge into .*: job \([0-9][0-9]*\).*/\1/p' "$1"; }
job_state() { scontrol -o show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' '; }
wait_empty() { slurm_cluster_wait "${1:-120}" slurm_cluster_empty; }

# 0. Bad uses, and --dry-run: the job scripts and sbatch commands, nothing submitted.
"$build" "$model" "$items" "$T/x.learn" >"$T/bad.log" 2>&1
rc=$?
check "catalog-build without --shards fails (exit $rc)" [ $rc != 0 ]
check "saying --shards is required" has "$T/bad.log" "--shards N (1..1048576) is required"
"$build" "$model" "$T/nope.jsonl" "$T/x.learn" --shards 2 >"$T/bad.log" 2>&1
check "a missing item list is named" has "$T/bad.log" "nope.jsonl: not a readable file"
"$build" "$model" "$items" "$T/dry.learn" --shards 4 --threads 3 --parts "$T/dry" --dry-run --partition=test >"$T/dry.log" 2>&1
check "--dry-run prints the array job" has "$T/dry.log" "--array=0-3 --output=$T/dry/logs/shard-%a-%A.out --partition=test $T/dry/shard.sbatch"
check "and the merge after it" has "$T/dry.log" "--dependency=afterok:DRYRUN --kill-on-invalid-dep=yes"
check "with --threads in the shard's script" has "$T/dry/shard.sbatch" "--shard auto --shards 4 \\"
check "(3 threads)" has "$T/dry/shard.sbatch" "--threads 3"
check "and submits nothing" slurm_cluster_empty
check "nor records a build" test ! -e "$T/dry/shards"

# 1. Four shards and the merge: the one-machine catalog.
out=$T/cat.learn parts=$T/cat.learn.parts
"$build" "$model" "$items" "$out" --shards 4 --wait >"$T/run1.log" 2>&1
rc=$?
check "4 shards through catalog-build --wait (exit $rc)" [ $rc = 0 ]
check "it prints the array job and the merge job" test -n "$(array_of "$T/run1.log")" -a -n "$(merge_of "$T/run1.log")"
check "the merged catalog equals the one-machine build" cmp "$out" "$T/one.learn"
a1=$(array_of "$T/run1.log")
check "each shard logs items done and items/s" \
    bash -c "for i in 0 1 2 3; do grep -q 'shard '\$i'/4: 75/75 (100%), .*/s' $parts/logs/shard-\$i-$a1.out || exit 1; grep -q 'shard '\$i'/4: 75 items encoded in .* items/s' $parts/logs/shard-\$i-$a1.out || exit 1; done"
check "the merge prints items, shards and the wall time" has "$T/run1.log" "build: 300 items, 4 shards, "
"$build" "$model" "$items" "$out" --shards 4 >"$T/run1b.log" 2>&1
check "a rerun of a finished build has nothing to do" has "$T/run1b.log" "nothing to do"

# 2. A task cancelled mid-run: the merge is cancelled, the rerun resubmits that shard alone.
out2=$T/cat2.learn parts2=$T/parts2 # --parts: elsewhere than OUT.parts
cat >"$T/slow-cli" <<SH
#!/bin/bash
# Task 2 of the array stays running until it is cancelled.
[ "\${SLURM_ARRAY_TASK_ID:-}" = 2 ] && sleep 300
exec $cli "\$@"
SH
chmod +x "$T/slow-cli"
"$build" "$model" "$items" "$out2" --shards 4 --parts "$parts2" --learn-cli "$T/slow-cli" >"$T/run2.log" 2>&1
a2=$(array_of "$T/run2.log") m2=$(merge_of "$T/run2.log")
check "the second build is submitted (array $a2, merge $m2)" test -n "$a2" -a -n "$m2"
slurm_cluster_wait 60 bash -c "[ \"\$(squeue -h -j ${a2}_2 -o %T 2>/dev/null)\" = RUNNING ] && [ -e $parts2/part-00003-of-00004.learn ]"
check "task 2 is running while the others are done" [ "$(squeue -h -j "${a2}_2" -o %T 2>/dev/null)" = RUNNING ]
scancel "${a2}_2"
wait_empty 60
check "the cancelled task is CANCELLED" has <(job_state "${a2}_2") CANCELLED
check "Slurm cancels the merge that depended on it" has <(job_state "$m2") CANCELLED
check "no catalog was written" test ! -e "$out2"
check "no file for the cancelled shard" test ! -e "$parts2/part-00002-of-00004.learn"
"$cli" catalog merge -o "$out2" --model "$model" --items "$items" --shards 4 \
    "$parts2"/part-0000{0,1,2,3}-of-00004.learn >"$T/merge2.log" 2>&1
rc=$?
check "catalog merge refuses the set (exit $rc)" [ $rc != 0 ]
check "and names the missing shard" has "$T/merge2.log" "shard 2 of 4 is missing"
check "and its file" has "$T/merge2.log" "part-00002-of-00004.learn: No such file"
touch "$parts2/part-00003-of-00004.learn" -d '2020-01-01'
touch "$parts2/part-00002-of-00004.learn.tmp.999999.AbC123" # as a writer killed mid-write leaves
"$build" "$model" "$items" "$out2" --shards 4 --parts "$parts2" --wait >"$T/run3.log" 2>&1
rc=$?
check "the rerun completes (exit $rc)" [ $rc = 0 ]
check "it resubmits shard 2 alone" has "$T/run3.log" "shard 2 of 4 (1 task): array job"
check "it says why" has "$T/run3.log" "shard 2/4: missing"
a3=$(array_of "$T/run3.log")
check "its array job ran one task" [ "$(ls "$parts2"/logs/shard-*-"$a3".out | wc -l)" = 1 ]
check "the other shards were not rebuilt" [ "$(date -r "$parts2/part-00003-of-00004.learn" +%Y)" = 2020 ]
check "the killed writer's temporary file is gone" test ! -e "$parts2/part-00002-of-00004.learn.tmp.999999.AbC123"
check "the catalog equals the one-machine build" cmp "$out2" "$T/one.learn"

# 3. A corrupted shard: refused by name, rebuilt alone.
p1=$parts/part-00001-of-00004.learn
printf 'X' | dd of="$p1" bs=1 seek=5000 conv=notrunc status=none
"$cli" catalog merge -o "$T/bad.learn" "$parts"/part-0000?-of-00004.learn >"$T/merge3.log" 2>&1
rc=$?
check "catalog merge refuses a corrupted shard (exit $rc)" [ $rc != 0 ]
check "and writes nothing" test ! -e "$T/bad.learn"
check "naming it" has "$T/merge3.log" "merge: $p1: checksum mismatch"
"$build" "$model" "$items" "$out" --shards 4 --wait >"$T/run4.log" 2>&1
rc=$?
check "the rerun completes (exit $rc)" [ $rc = 0 ]
check "it rebuilds shard 1 alone, saying why" has "$T/run4.log" "shard 1/4: invalid: checksum mismatch"
check "with an array of that shard" has "$T/run4.log" "shard 1 of 4 (1 task): array job"
check "the catalog equals the one-machine build" cmp "$out" "$T/one.learn"

# 4. --shard auto in a 1-based array (SLURM_ARRAY_TASK_MIN = 1), merged by hand.
mkdir -p "$T/b1"
a4=$(sbatch --parsable --array=1-4 --output="$T/b1/%a.out" --wrap \
    "exec $cli catalog build $model $items -o $T/b1/part-\$SLURM_ARRAY_TASK_ID.learn --shard auto --threads 1")
wait_empty 60
"$cli" catalog merge -o "$T/b1/cat.learn" "$T"/b1/part-{4,2,3,1}.learn >"$T/merge4.log" 2>&1
check "a 1-based array (job $a4) builds shards 0..3 that merge into the same catalog" cmp "$T/b1/cat.learn" "$T/one.learn"
check "each task names its shard and the array" has "$T/b1/1.out" "shard 0/4 (Slurm job $a4, array task 1 of 1-4)"

echo "slurm.sh: $((SECONDS - t0)) s"
finish
