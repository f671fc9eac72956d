/* learn-cli embed: content embeddings of texts, one per input line. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "items.h"

static const char embed_usage[] =
    "usage: learn-cli embed MODEL [--pooling mean|last|none] [--no-normalize] [--jsonl]\n"
    "                       [--npy OUT.npy] [--threads N] [--batch N] < TEXTS\n"
    "\n"
    "Reads one text per line from standard input (with --jsonl: one item record per line,\n"
    "rendered through the model's template) and writes one JSON array of floats per line to\n"
    "standard output, or a float32 .npy file of shape (n, n_embd) with --npy. Pooling and\n"
    "normalisation default to the model's settings (mean, L2). With --pooling none each line\n"
    "gets an array of per-token arrays (not with --npy). Empty lines are embedded too (texts\n"
    "that give no token are an error naming the line).\n";

static void print_row(const float *v, size_t d) {
    putchar('[');
    for (size_t i = 0; i < d; i++) printf(i ? ", %.8g" : "%.8g", (double)v[i]);
    putchar(']');
}

/* Standard input into items: one text per line (line ends removed), or with jsonl item
   records rendered through the model's template. */
static int embed_read(const learn_model *m, int jsonl, item_list *items) {
    char err[512];
    if (jsonl) {
        const char *tmpl;
        if (learn_model_meta_str(m, "encoder.template", &tmpl, NULL) != LEARN_OK) tmpl = "{text}";
        if (items_load(stdin, "stdin", tmpl, 1u << 20, items, err, sizeof err))
            return cli_error("embed", "%s", err);
        if (items_note(items, "stdin", err, sizeof err)) fprintf(stderr, "learn-cli embed: %s\n", err);
        return 0;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (items->n == items->cap) {
            size_t nc = items->cap ? items->cap * 2 : 256;
            item_rec *p = (item_rec *)realloc(items->items, nc * sizeof *p);
            if (!p) {
                rc = cli_error("embed", "out of memory");
                break;
            }
            items->items = p;
            items->cap = nc;
        }
        item_rec *r = &items->items[items->n];
        r->id = NULL;
        r->text = (char *)malloc((size_t)len + 1);
        if (!r->text) {
            rc = cli_error("embed", "out of memory");
            break;
        }
        memcpy(r->text, line, (size_t)len + 1);
        r->line = items->n + 1;
        items->n++;
    }
    if (!rc && ferror(stdin)) rc = cli_error("embed", "reading standard input failed: %s", strerror(errno));
    free(line);
    return rc;
}

/* --pooling none: a line per text, an array of each token's hidden state (up to
   encoder.max_tokens). */
static int embed_tokens(learn_ctx *ctx, const learn_model *m, const learn_model_info *mi,
                        const item_list *items) {
    uint32_t maxt;
    if (learn_model_meta_u32(m, "encoder.max_tokens", &maxt) != LEARN_OK)
        maxt = mi->n_ctx_train < 512 ? mi->n_ctx_train : 512;
    size_t d = mi->n_embd, cap = (size_t)maxt * 4;
    int32_t *ids = (int32_t *)malloc(cap * sizeof *ids);
    float *out = (float *)malloc(cap * d * sizeof(float));
    int rc = 0;
    if (!ids || !out) rc = cli_error("embed", "out of memory");
    for (size_t i = 0; !rc && i < items->n; i++) {
        size_t n = 0, got = 0;
        const char *text = items->items[i].text;
        learn_status st = learn_tokenize(ctx, text, strlen(text), LEARN_TOKENIZE_ADD_SPECIAL, ids, cap, &n);
        if (st == LEARN_ERR_BUFFER) n = cap, st = LEARN_OK; /* only the first max_tokens matter */
        if (!st) st = learn_encode_ids_tokens(ctx, ids, n, out, &got);
        if (st) {
            rc = cli_error("embed", "line %zu: %s", items->items[i].line, learn_ctx_errmsg(ctx));
            break;
        }
        putchar('[');
        for (size_t t = 0; t < got; t++) {
            if (t) printf(", ");
            print_row(out + t * d, d);
        }
        printf("]\n");
    }
    free(ids);
    free(out);
    return rc;
}

/* Pooled embeddings, batch texts per learn_encode call: a JSON array per line, or rows of the
   .npy file npy (its header written). */
static int embed_pooled(learn_ctx *ctx, size_t d, const item_list *items, size_t batch, FILE *npy) {
    float *out = (float *)malloc(batch * d * sizeof(float));
    const char **texts = (const char **)malloc(batch * sizeof *texts);
    int rc = 0;
    if (!out || !texts) rc = cli_error("embed", "out of memory");
    for (size_t i0 = 0; !rc && i0 < items->n; i0 += batch) {
        size_t k = items->n - i0 < batch ? items->n - i0 : batch;
        for (size_t j = 0; j < k; j++) texts[j] = items->items[i0 + j].text;
        if (learn_encode(ctx, k, texts, NULL, out) != LEARN_OK) {
            const char *why;
            size_t j = cli_failed_item(learn_ctx_errmsg(ctx), k, &why);
            rc = cli_error("embed", "line %zu: %s", items->items[i0 + j].line, why);
            break;
        }
        for (size_t j = 0; j < k; j++) {
            if (npy) {
                fwrite(out + j * d, sizeof(float), d, npy);
            } else {
                print_row(out + j * d, d);
                putchar('\n');
            }
        }
    }
    free((void *)texts);
    free(out);
    return rc;
}

int cmd_embed(int argc, char **argv) {
    const char *model = NULL, *npy = NULL;
    int jsonl = 0, normalize = -1;
    long threads = 0, batch = 64;
    learn_pooling pool = LEARN_POOLING_MODEL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            fputs(embed_usage, stdout);
            return 0;
        }
        if (strcmp(a, "--jsonl") == 0) jsonl = 1;
        else if (strcmp(a, "--no-normalize") == 0) normalize = 0;
        else if (strcmp(a, "--pooling") == 0 && v) {
            i++;
            if (!strcmp(v, "mean")) pool = LEARN_POOLING_MEAN;
            else if (!strcmp(v, "last")) pool = LEARN_POOLING_LAST;
            else if (!strcmp(v, "none")) pool = LEARN_POOLING_NONE;
            else return cli_error("embed", "--pooling must be mean, last or none, not '%s'", v);
        } else if (strcmp(a, "--npy") == 0 && v) npy = argv[++i];
        else if (strcmp(a, "--threads") == 0 && v && !cli_parse_long(v, 1, 256, &threads)) i++;
        else if (strcmp(a, "--batch") == 0 && v && !cli_parse_long(v, 1, 65536, &batch)) i++;
        else if (a[0] == '-' && a[1]) return cli_error("embed", "unknown or incomplete option '%s' (see learn-cli embed --help)", a);
        else if (!model) model = a;
        else return cli_error("embed", "more than one MODEL given");
    }
    if (!model) return cli_error("embed", "no MODEL given (see learn-cli embed --help)");
    if (npy && pool == LEARN_POOLING_NONE) return cli_error("embed", "--npy needs pooling (one row per text)");
    learn_model *m = cli_open_model("embed", model, 1);
    if (!m) return 1;
    learn_model_info mi;
    learn_model_get_info(m, &mi);
    int rc = 1;
    learn_ctx *ctx = NULL;
    item_list items;
    memset(&items, 0, sizeof items);
    cli_out o;
    memset(&o, 0, sizeof o);
    if (!mi.arch[0]) {
        cli_error("embed", "%s has no LLM", model);
        goto out;
    }
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = (int)threads;
    cp.pooling = pool;
    cp.normalize = pool == LEARN_POOLING_NONE ? 0 : normalize;
    if (learn_ctx_new(m, &cp, &ctx) != LEARN_OK) {
        cli_error("embed", "cannot create a context");
        goto out;
    }
    if (embed_read(m, jsonl, &items)) goto out;
    if (npy) {
        if (cli_out_open(&o, "embed", npy)) goto out;
        cli_npy_header(o.f, items.n, mi.n_embd);
    }
    if (pool == LEARN_POOLING_NONE ? embed_tokens(ctx, m, &mi, &items)
                                   : embed_pooled(ctx, mi.n_embd, &items, (size_t)batch, npy ? o.f : NULL))
        goto out;
    if (npy && cli_out_commit(&o, "embed")) goto out;
    learn_encode_stats es;
    learn_ctx_encode_stats(ctx, &es);
    if (es.n_truncated)
        fprintf(stderr, "learn-cli embed: %llu text(s) longer than the model's token limit were truncated\n",
                (unsigned long long)es.n_truncated);
    if (fflush(stdout) != 0) {
        cli_error("embed", "writing the output failed: %s", strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (o.f) cli_out_abort(&o);
    items_free(&items);
    learn_ctx_free(ctx);
    learn_model_close(m);
    return rc;
}
