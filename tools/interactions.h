/* Interaction logs (user<TAB>item<TAB>timestamp), their leave-one-out splits, and ranking
   metrics: what `learn-cli train` and `learn-cli eval` share. */
#ifndef LEARN_INTERACTIONS_H
#define LEARN_INTERACTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "learn.h"

/* Every user's items (catalog indices) in time order: by timestamp, then by line. */
typedef struct inter_data {
    size_t n_users;
    char **user_ids;     /* external ids, NUL-terminated */
    uint32_t *seq_off;   /* n_users + 1 offsets into seq */
    uint32_t *seq;       /* catalog indices */
    size_t n_lines;      /* interaction lines read */
    size_t n_unknown;    /* lines whose item is not in the catalog: skipped, counted */
    char first_unknown[128]; /* the first such item id, for the message */
} inter_data;

/* Reads a TSV file. Blank lines are skipped; a line without exactly three tab-separated
   columns, or with a timestamp that is not a number, is an error naming the line. Returns 0,
   or writes the reason to err. */
int inter_load(const char *path, const learn_catalog *cat, inter_data *out, char *err, size_t errn);
/* The same from an open stream; `path` only names it in messages. */
int inter_read(FILE *f, const char *path, const learn_catalog *cat, inter_data *out, char *err,
               size_t errn);
void inter_free(inter_data *d);

/* The paper's leave-one-out split of user u's sequence s[0..n): the last item is the test
   target, the one before it the validation target, the rest is training. */
typedef enum inter_split { INTER_TRAIN, INTER_VALID, INTER_TEST } inter_split;

/* The history before the target of a split (the last max_hist items of it), or 0 when the
   user has no such target (too short). *target receives the target's catalog index. */
size_t inter_history(const inter_data *d, size_t u, inter_split split, size_t max_hist,
                     const uint32_t **hist, uint32_t *target);

/* Ranking metrics: rank = number of items scored strictly higher than the target. */
typedef struct eval_metrics {
    double recall10, recall50, ndcg10, ndcg50, mrr;
    size_t n;
} eval_metrics;

void eval_add_rank(eval_metrics *m, size_t rank);
/* Turns sums into means. */
void eval_finish(eval_metrics *m);
/* The number of scores[0..n) strictly greater than scores[target]. */
size_t eval_rank(const float *scores, size_t n, uint32_t target);

#endif
