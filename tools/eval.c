/* learn-cli eval: the paper's protocol. Leave-one-out (each user's last item is the test
   target, the one before it the validation target), history = the items before the target
   (the last 40), full ranking over the whole catalog, rank = the number of items scored
   strictly higher than the target. Recall@10/50, NDCG@10/50 and MRR for the model and, in the
   same run, for two baselines: popularity, and the raw content embeddings without the towers
   (user = mean of the history's normalised content embeddings, item = its content embedding,
   cosine: the paper's "w/o alignment"). */
#include "eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interactions.h"

/* scores[i] = items[i] . q for n items of dimension d. */
static void score_all(const float *items, size_t n, size_t d, const float *q, float *scores) {
    for (size_t i = 0; i < n; i++) {
        const float *r = items + i * d;
        float s = 0;
        for (size_t k = 0; k < d; k++) s += r[k] * q[k];
        scores[i] = s;
    }
}

int eval_run(learn_ctx *ctx, const learn_catalog *cat, const inter_data *d, inter_split split,
             size_t max_hist, eval_result *res, char *err, size_t errn) {
    memset(res, 0, sizeof *res);
    learn_catalog_info ci;
    learn_catalog_get_info(cat, &ci);
    learn_towers_info ti;
    size_t n = ci.n_items, dc = ci.d_content;
    int rc = 1;
    float *content = (float *)malloc(n * dc * sizeof(float));
    float *items = NULL, *scores = (float *)malloc(n * sizeof(float));
    float *hist = (float *)malloc(max_hist * dc * sizeof(float));
    float *user = NULL, *mean = (float *)malloc(dc * sizeof(float));
    double *pop = (double *)calloc(n, sizeof(double));
    float *popf = (float *)malloc(n * sizeof(float));
    if (!content || !scores || !hist || !mean || !pop || !popf) {
        snprintf(err, errn, "out of memory for %zu items", n);
        goto out;
    }
    /* Raw content: normalised content embeddings. */
    for (uint32_t i = 0; i < n; i++) {
        learn_catalog_content(cat, i, content + (size_t)i * dc);
        if (learn_l2_normalize(content + (size_t)i * dc, dc) != LEARN_OK) {
            snprintf(err, errn, "item %u: the content embedding holds NaN or Inf", i);
            goto out;
        }
    }
    /* The model's item embeddings, recomputed from the content (the catalog's may come from
       other towers). */
    if (learn_towers_get_info(learn_ctx_model(ctx), &ti) != LEARN_OK) {
        snprintf(err, errn, "the model has no towers information");
        goto out;
    }
    size_t de = ti.d_out;
    items = (float *)malloc(n * de * sizeof(float));
    user = (float *)malloc(de * sizeof(float));
    if (!items || !user) {
        snprintf(err, errn, "out of memory");
        goto out;
    }
    float *raw = (float *)malloc(dc * sizeof(float) * 256);
    if (!raw) {
        snprintf(err, errn, "out of memory");
        goto out;
    }
    for (size_t i0 = 0; i0 < n; i0 += 256) {
        size_t m = n - i0 < 256 ? n - i0 : 256;
        for (size_t k = 0; k < m; k++) learn_catalog_content(cat, (uint32_t)(i0 + k), raw + k * dc);
        if (learn_item_embed(ctx, m, raw, items + i0 * de) != LEARN_OK) {
            snprintf(err, errn, "item embeddings: %s", learn_ctx_errmsg(ctx));
            free(raw);
            goto out;
        }
    }
    free(raw);
    /* Popularity: every interaction before the evaluated targets. */
    for (size_t u = 0; u < d->n_users; u++) {
        size_t len = d->seq_off[u + 1] - d->seq_off[u];
        size_t keep = split == INTER_TEST ? (len >= 2 ? len - 1 : len) : (len >= 3 ? len - 2 : len);
        for (size_t k = 0; k < keep; k++) pop[d->seq[d->seq_off[u] + k]] += 1;
    }
    for (size_t i = 0; i < n; i++) popf[i] = (float)pop[i];
    for (size_t u = 0; u < d->n_users; u++) {
        const uint32_t *h;
        uint32_t target;
        size_t nh = inter_history(d, u, split, max_hist, &h, &target);
        if (!nh) {
            res->skipped++;
            continue;
        }
        for (size_t k = 0; k < nh; k++) learn_catalog_content(cat, h[k], hist + k * dc);
        if (learn_user_embed(ctx, nh, hist, user) != LEARN_OK) {
            snprintf(err, errn, "user '%s': %s", d->user_ids[u], learn_ctx_errmsg(ctx));
            goto out;
        }
        score_all(items, n, de, user, scores);
        eval_add_rank(&res->model, eval_rank(scores, n, target));
        memset(mean, 0, dc * sizeof(float));
        for (size_t k = 0; k < nh; k++)
            for (size_t e = 0; e < dc; e++) mean[e] += content[(size_t)h[k] * dc + e];
        learn_l2_normalize(mean, dc); /* a sum of unit vectors: finite */
        score_all(content, n, dc, mean, scores);
        eval_add_rank(&res->raw_content, eval_rank(scores, n, target));
        eval_add_rank(&res->popularity, eval_rank(popf, n, target));
    }
    eval_finish(&res->model);
    eval_finish(&res->raw_content);
    eval_finish(&res->popularity);
    res->users = res->model.n;
    rc = 0;
out:
    free(content);
    free(items);
    free(scores);
    free(hist);
    free(user);
    free(mean);
    free(pop);
    free(popf);
    return rc;
}
