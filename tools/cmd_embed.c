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
    float *out = NULL;
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
    /* Read everything: texts (one per line) or item records. */
    char err[512];
    if (jsonl) {
        const char *tmpl;
        if (learn_model_meta_str(m, "encoder.template", &tmpl, NULL) != LEARN_OK) tmpl = "{text}";
        if (items_load(stdin, "stdin", tmpl, 1u << 20, &items, err, sizeof err)) {
            cli_error("embed", "%s", err);
            goto out;
        }
        if (items_note(&items, "stdin", err, sizeof err)) fprintf(stderr, "learn-cli embed: %s\n", err);
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while ((len = getline(&line, &cap, stdin)) >= 0) {
            while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
            if (items.n == items.cap) {
                size_t nc = items.cap ? items.cap * 2 : 256;
                item_rec *p = (item_rec *)realloc(items.items, nc * sizeof *p);
                if (!p) break;
                items.items = p;
                items.cap = nc;
            }
            item_rec *r = &items.items[items.n];
            r->id = NULL;
            r->text = (char *)malloc((size_t)len + 1);
            if (!r->text) break;
            memcpy(r->text, line, (size_t)len + 1);
            r->line = items.n + 1;
            items.n++;
        }
        free(line);
    }
    size_t d = mi.n_embd;
    if (npy) {
        if (cli_out_open(&o, "embed", npy)) goto out;
        char hdr[128];
        int hl = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }", items.n, d);
        int pad = (64 - (10 + hl + 1) % 64) % 64;
        uint16_t hlen = (uint16_t)(hl + pad + 1);
        fwrite("\x93NUMPY\x01\x00", 1, 8, o.f);
        fputc(hlen & 0xff, o.f);
        fputc(hlen >> 8, o.f);
        fwrite(hdr, 1, (size_t)hl, o.f);
        for (int i = 0; i < pad; i++) fputc(' ', o.f);
        fputc('\n', o.f);
    }
    if (pool == LEARN_POOLING_NONE) {
        uint32_t maxt;
        if (learn_model_meta_u32(m, "encoder.max_tokens", &maxt) != LEARN_OK) maxt = mi.n_ctx_train < 512 ? mi.n_ctx_train : 512;
        int32_t *ids = (int32_t *)malloc((size_t)maxt * 4 * sizeof *ids);
        out = (float *)malloc((size_t)maxt * 4 * d * sizeof(float));
        if (!ids || !out) {
            free(ids);
            cli_error("embed", "out of memory");
            goto out;
        }
        for (size_t i = 0; i < items.n; i++) {
            size_t n = 0, got = 0;
            learn_status st = learn_tokenize(ctx, items.items[i].text, strlen(items.items[i].text),
                                             LEARN_TOKENIZE_ADD_SPECIAL, ids, (size_t)maxt * 4, &n);
            if (st == LEARN_ERR_BUFFER) n = (size_t)maxt * 4, st = LEARN_OK; /* only the first max_tokens matter */
            if (!st) st = learn_encode_ids_tokens(ctx, ids, n, out, &got);
            if (st) {
                free(ids);
                cli_error("embed", "line %zu: %s", items.items[i].line, learn_ctx_errmsg(ctx));
                goto out;
            }
            putchar('[');
            for (size_t t = 0; t < got; t++) {
                if (t) printf(", ");
                print_row(out + t * d, d);
            }
            printf("]\n");
        }
        free(ids);
    } else {
        out = (float *)malloc((size_t)batch * d * sizeof(float));
        const char **texts = (const char **)malloc((size_t)batch * sizeof *texts);
        if (!out || !texts) {
            free((void *)texts);
            cli_error("embed", "out of memory");
            goto out;
        }
        for (size_t i0 = 0; i0 < items.n; i0 += (size_t)batch) {
            size_t k = items.n - i0 < (size_t)batch ? items.n - i0 : (size_t)batch;
            for (size_t j = 0; j < k; j++) texts[j] = items.items[i0 + j].text;
            if (learn_encode(ctx, k, texts, NULL, out) != LEARN_OK) {
                /* The message names the item of the batch: report its line. */
                const char *msg = learn_ctx_errmsg(ctx);
                size_t j = strncmp(msg, "item ", 5) == 0 ? (size_t)strtoul(msg + 5, NULL, 10) : 0;
                free((void *)texts);
                cli_error("embed", "line %zu: %s", items.items[i0 + (j < k ? j : 0)].line, msg);
                goto out;
            }
            for (size_t j = 0; j < k; j++) {
                if (npy) {
                    fwrite(out + j * d, sizeof(float), d, o.f);
                } else {
                    print_row(out + j * d, d);
                    putchar('\n');
                }
            }
        }
        free((void *)texts);
    }
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
    free(out);
    items_free(&items);
    learn_ctx_free(ctx);
    learn_model_close(m);
    return rc;
}
