/* cmd_eval.c - learn-cli eval: the paper's protocol (eval.c) on a model, a catalog and
   interactions, printed as a table or JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eval.h"
#include "interactions.h"

static void print_json_metrics(const char *name, const eval_metrics *m) {
    printf("\"%s\": {\"recall@10\": %.6f, \"ndcg@10\": %.6f, \"recall@50\": %.6f, \"ndcg@50\": %.6f, "
           "\"mrr\": %.6f}",
           name, m->recall10, m->ndcg10, m->recall50, m->ndcg50, m->mrr);
}

static const char eval_usage[] =
    "usage: learn-cli eval MODEL CAT INTERACTIONS.tsv [--split test|valid] [--history N] [--json]\n"
    "                      [--threads N]\n"
    "\n"
    "The paper's protocol: for each user, the last item is the test target (the one before it\n"
    "the validation target); the history is the items before the target (the last N = 40);\n"
    "every catalog item is ranked; rank = the number of items scored strictly higher than the\n"
    "target. Prints Recall@10/50, NDCG@10/50 and MRR of the model and of two baselines in the\n"
    "same run: popularity (interactions before the targets) and raw content (the mean of the\n"
    "history's content embeddings against each item's, cosine; no towers).\n"
    "CAT must come from MODEL's LLM; item embeddings are recomputed with MODEL's towers.\n";

int cmd_eval(int argc, char **argv) {
    const char *pos[3] = {NULL, NULL, NULL};
    int npos = 0, json = 0;
    long max_hist = 40, threads = 0;
    inter_split split = INTER_TEST;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            fputs(eval_usage, stdout);
            return 0;
        }
        if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--split") == 0 && v) {
            i++;
            if (strcmp(v, "test") == 0) split = INTER_TEST;
            else if (strcmp(v, "valid") == 0) split = INTER_VALID;
            else return cli_error("eval", "--split must be test or valid, not '%s'", v);
        } else if (strcmp(a, "--history") == 0 && v) {
            i++;
            if (cli_parse_long(v, 1, 1 << 20, &max_hist)) return cli_error("eval", "bad --history '%s'", v);
        } else if (strcmp(a, "--threads") == 0 && v) {
            i++;
            if (cli_parse_long(v, 1, 256, &threads)) return cli_error("eval", "bad --threads '%s'", v);
        } else if (a[0] == '-' && a[1]) {
            return cli_error("eval", "unknown option '%s' (see learn-cli eval --help)", a);
        } else if (npos < 3) {
            pos[npos++] = a;
        } else {
            return cli_error("eval", "too many arguments (see learn-cli eval --help)");
        }
    }
    if (npos != 3) return cli_error("eval", "needs MODEL CAT INTERACTIONS.tsv (see learn-cli eval --help)");
    learn_model *m = cli_open_model("eval", pos[0], 1);
    if (!m) return 1;
    learn_catalog *cat;
    char err[512];
    int rc = 1;
    learn_ctx *ctx = NULL;
    inter_data d;
    memset(&d, 0, sizeof d);
    if (learn_catalog_open(pos[1], NULL, &cat, err, sizeof err) != LEARN_OK) {
        learn_model_close(m);
        return cli_error("eval", "%s", err);
    }
    if (learn_catalog_check_model(cat, m, NULL, err, sizeof err) != LEARN_OK) {
        cli_error("eval", "%s and %s: %s", pos[0], pos[1], err);
        goto out;
    }
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = (int)threads;
    if (learn_ctx_new(m, &cp, &ctx) != LEARN_OK) {
        cli_error("eval", "cannot create a context");
        goto out;
    }
    if (inter_load(pos[2], cat, &d, err, sizeof err)) {
        cli_error("eval", "%s", err);
        goto out;
    }
    if (d.n_unknown)
        fprintf(stderr, "learn-cli eval: %zu of %zu interactions name items not in the catalog "
                        "(skipped; first: '%s')\n",
                d.n_unknown, d.n_lines, d.first_unknown);
    eval_result r;
    if (eval_run(ctx, cat, &d, split, (size_t)max_hist, &r, err, sizeof err)) {
        cli_error("eval", "%s", err);
        goto out;
    }
    if (json) {
        printf("{");
        print_json_metrics("model", &r.model);
        printf(", ");
        print_json_metrics("popularity", &r.popularity);
        printf(", ");
        print_json_metrics("raw_content", &r.raw_content);
        printf(", \"users\": %zu, \"split\": \"%s\"}\n", r.users, split == INTER_TEST ? "test" : "valid");
    } else {
        learn_catalog_info ci;
        learn_catalog_get_info(cat, &ci);
        printf("%s split: %zu users (%zu without a target skipped), %u items, history <= %ld\n",
               split == INTER_TEST ? "test" : "valid", r.users, r.skipped, ci.n_items, max_hist);
        printf("%-12s %10s %10s %10s %10s %10s\n", "", "recall@10", "ndcg@10", "recall@50", "ndcg@50", "mrr");
        const eval_metrics *rows[3] = {&r.model, &r.popularity, &r.raw_content};
        const char *names[3] = {"model", "popularity", "raw_content"};
        for (int i = 0; i < 3; i++)
            printf("%-12s %10.4f %10.4f %10.4f %10.4f %10.4f\n", names[i], rows[i]->recall10,
                   rows[i]->ndcg10, rows[i]->recall50, rows[i]->ndcg50, rows[i]->mrr);
    }
    rc = 0;
out:
    inter_free(&d);
    learn_ctx_free(ctx);
    learn_catalog_close(cat);
    learn_model_close(m);
    return rc;
}
