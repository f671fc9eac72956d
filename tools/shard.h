/* Shards of long batch work: which part a task does (--shard I/N, or --shard auto from a
   Slurm job array or a Kubernetes Indexed Job), and the fingerprint of the item list that a
   catalog's shards must share. */
#ifndef LEARN_SHARD_H
#define LEARN_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "items.h"

/* Looks up an environment variable (getenv, or a table in tests). */
typedef char *(*shard_getenv_fn)(const char *name);

/* Parses the value of --shard into *index of *count (0 <= index < count <= 2^20).
   shards is the value of --shards, 0 when not given.
   - "I/N": that part (with --shards, N must equal it).
   - "auto": the scheduler's environment names the part:
     Slurm job array: SLURM_ARRAY_TASK_ID. Without --shards the array is the whole set of
       parts: index = ID - SLURM_ARRAY_TASK_MIN (0 when unset), count =
       SLURM_ARRAY_TASK_COUNT (or MAX - MIN + 1), and the array must be a range with step 1
       (--array=0-7 or 1-8, not 1,3,5). With --shards N the task ids are the indices
       themselves (0 <= ID < N), as when only some parts are resubmitted (--array=2,5).
     Kubernetes Indexed Job: JOB_COMPLETION_INDEX, with the count given by --shards (the
       Job's completions).
   On success returns 0 and writes where the part came from to from ("Slurm job 812, array
   task 3 of 0-7"); otherwise returns 1 with the reason in err, naming what was looked for. */
int shard_parse(const char *arg, long shards, shard_getenv_fn env, uint32_t *index,
                uint32_t *count, char *from, size_t fromn, char *err, size_t errn);

/* FNV-1a 64 over every item's id and text, in order (with their lengths, so that no two
   lists hash alike by moving bytes between fields): shards of one build share it. */
uint64_t shard_source_fingerprint(const item_list *l);

#endif
