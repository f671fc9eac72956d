/* learn-cli eval: the paper's evaluation protocol. */
#ifndef LEARN_EVAL_H
#define LEARN_EVAL_H

#include "interactions.h"
#include "learn.h"

typedef struct eval_result {
    eval_metrics model, popularity, raw_content;
    size_t users;   /* users evaluated */
    size_t skipped; /* users without a target in the split */
} eval_result;

/* Evaluates ctx's model on a split of the interactions over every catalog item (histories of
   at most max_hist items). Returns 0, or 1 with the reason in err. */
int eval_run(learn_ctx *ctx, const learn_catalog *cat, const inter_data *d, inter_split split,
             size_t max_hist, eval_result *res, char *err, size_t errn);

#endif
