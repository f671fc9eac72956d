/* Shards of long batch work: --shard I/N and --shard auto (see shard.h). */
#include "shard.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

#define SHARD_MAX (1L << 20)

/* Reads an environment variable as an integer in [0, 2^31): 1 when it is set, 0 when not,
   -1 (reason in err) when it is set to something else. */
static int env_long(shard_getenv_fn env, const char *name, long *v, char *err, size_t errn) {
    const char *s = env(name);
    if (!s) return 0;
    if (cli_parse_long(s, 0, 2147483647L, v)) {
        snprintf(err, errn, "--shard auto: %s is '%s', not a number", name, s);
        return -1;
    }
    return 1;
}

static int shard_slurm(long shards, shard_getenv_fn env, long id, uint32_t *index, uint32_t *count,
                       char *from, size_t fromn, char *err, size_t errn) {
    long mn = 0, mx = 0, n = 0, job = 0;
    int has_min = env_long(env, "SLURM_ARRAY_TASK_MIN", &mn, err, errn);
    int has_max = env_long(env, "SLURM_ARRAY_TASK_MAX", &mx, err, errn);
    int has_n = env_long(env, "SLURM_ARRAY_TASK_COUNT", &n, err, errn);
    int has_job = env_long(env, "SLURM_ARRAY_JOB_ID", &job, err, errn);
    if (has_min < 0 || has_max < 0 || has_n < 0 || has_job < 0) return 1;
    char range[64] = "";
    if (has_min > 0 && has_max > 0) snprintf(range, sizeof range, " of %ld-%ld", mn, mx);
    char jobs[48] = "";
    if (has_job > 0) snprintf(jobs, sizeof jobs, "job %ld, ", job);
    if (shards) {
        /* The task ids are the shard indices. */
        if (id >= shards) {
            snprintf(err, errn, "--shard auto: SLURM_ARRAY_TASK_ID is %ld, not below --shards %ld: with "
                     "--shards the array's task ids are the shard indices 0..%ld (sbatch --array=0-%ld)",
                     id, shards, shards - 1, shards - 1);
            return 1;
        }
        *index = (uint32_t)id;
        *count = (uint32_t)shards;
    } else {
        /* The array is the whole set of shards: a range with step 1. */
        if (!has_n && !has_max) {
            snprintf(err, errn, "--shard auto: SLURM_ARRAY_TASK_ID is set but neither "
                     "SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX: pass --shards N");
            return 1;
        }
        if (!has_min) mn = 0;
        if (!has_n) n = mx - mn + 1;
        if (has_max && mx - mn + 1 != n) {
            snprintf(err, errn, "--shard auto: the Slurm array%s has %ld tasks, not one per id from %ld "
                     "to %ld: without --shards the array must be a range with step 1 (--array=0-%ld); "
                     "otherwise pass --shards N and use the shard indices as task ids",
                     range, n, mn, mx, n - 1);
            return 1;
        }
        if (n < 1 || n > SHARD_MAX || id < mn || id - mn >= n) {
            snprintf(err, errn, "--shard auto: SLURM_ARRAY_TASK_ID %ld is outside the array%s (%ld tasks from %ld)",
                     id, range, n, mn);
            return 1;
        }
        *index = (uint32_t)(id - mn);
        *count = (uint32_t)n;
    }
    snprintf(from, fromn, "Slurm %sarray task %ld%s", jobs, id, range);
    return 0;
}

int shard_parse(const char *arg, long shards, shard_getenv_fn env, uint32_t *index,
                uint32_t *count, char *from, size_t fromn, char *err, size_t errn) {
    if (shards < 0 || shards > SHARD_MAX) {
        snprintf(err, errn, "--shards must be 1..%ld, not %ld", SHARD_MAX, shards);
        return 1;
    }
    if (strcmp(arg, "auto") != 0) {
        char buf[64];
        const char *slash = strchr(arg, '/');
        long i, n;
        if (!slash || (size_t)(slash - arg) >= sizeof buf) goto bad;
        memcpy(buf, arg, (size_t)(slash - arg));
        buf[slash - arg] = 0;
        if (cli_parse_long(buf, 0, SHARD_MAX - 1, &i) || cli_parse_long(slash + 1, 1, SHARD_MAX, &n) || i >= n)
            goto bad;
        if (shards && n != shards) {
            snprintf(err, errn, "--shard %s and --shards %ld disagree on the number of shards", arg, shards);
            return 1;
        }
        *index = (uint32_t)i;
        *count = (uint32_t)n;
        snprintf(from, fromn, "--shard %s", arg);
        return 0;
    bad:
        snprintf(err, errn, "--shard must be I/N (0 <= I < N <= %ld) or auto, not '%s'", SHARD_MAX, arg);
        return 1;
    }
    long id, job;
    int r = env_long(env, "SLURM_ARRAY_TASK_ID", &id, err, errn);
    if (r < 0) return 1;
    if (r) return shard_slurm(shards, env, id, index, count, from, fromn, err, errn);
    if ((r = env_long(env, "JOB_COMPLETION_INDEX", &id, err, errn)) < 0) return 1;
    if (r) {
        if (!shards) {
            snprintf(err, errn, "--shard auto: JOB_COMPLETION_INDEX is %ld but the number of shards is "
                     "not known: pass --shards N (the Indexed Job's completions)", id);
            return 1;
        }
        if (id >= shards) {
            snprintf(err, errn, "--shard auto: JOB_COMPLETION_INDEX is %ld, not below --shards %ld", id, shards);
            return 1;
        }
        *index = (uint32_t)id;
        *count = (uint32_t)shards;
        snprintf(from, fromn, "Kubernetes Indexed Job, completion index %ld", id);
        return 0;
    }
    char job_note[96] = "";
    if (env_long(env, "SLURM_JOB_ID", &job, err, errn) > 0)
        snprintf(job_note, sizeof job_note, " (Slurm job %ld is not an array job: submit it with sbatch --array)", job);
    snprintf(err, errn, "--shard auto: no shard in the environment: looked for SLURM_ARRAY_TASK_ID (a Slurm job "
             "array) and JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)%s; or give --shard I/N", job_note);
    return 1;
}

uint64_t shard_source_fingerprint(const item_list *l) {
    uint64_t h = UTIL_FNV1A_BASIS;
    for (size_t i = 0; i < l->n; i++) {
        const char *f[2] = {l->items[i].id, l->items[i].text};
        for (int k = 0; k < 2; k++) {
            uint64_t len = strlen(f[k]);
            unsigned char le[8];
            for (int j = 0; j < 8; j++) le[j] = (unsigned char)(len >> (8 * j));
            h = util_fnv1a(util_fnv1a(h, le, 8), f[k], len);
        }
    }
    return h;
}
