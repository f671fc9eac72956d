/* learn-cli catalog build|add|merge|reembed|export: catalogs of item embeddings. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "items.h"

/* ---- Progress on standard error: a bar on a terminal, a line per 10% otherwise ---- */

typedef struct progress {
    const char *what;
    size_t total, last_pct;
    double t0;
    int tty;
} progress;

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void progress_start(progress *p, const char *what, size_t total) {
    p->what = what;
    p->total = total;
    p->last_pct = (size_t)-1;
    p->t0 = mono();
    p->tty = isatty(2);
}

static void progress_update(progress *p, size_t done) {
    size_t pct = p->total ? done * 100 / p->total : 100;
    double el = mono() - p->t0, rate = el > 0 ? (double)done / el : 0;
    double eta = rate > 0 ? (double)(p->total - done) / rate : 0;
    if (p->tty) {
        char bar[31];
        size_t fill = pct * 30 / 100;
        for (size_t i = 0; i < 30; i++) bar[i] = i < fill ? '#' : ' ';
        bar[30] = 0;
        fprintf(stderr, "\r%s [%s] %zu/%zu  %.1f/s  ETA %.0fs   ", p->what, bar, done, p->total, rate, eta);
        if (done == p->total) fputc('\n', stderr);
    } else if (pct / 10 != p->last_pct / 10 || done == p->total) {
        fprintf(stderr, "%s: %zu/%zu (%zu%%), %.1f/s\n", p->what, done, p->total, pct, rate);
    }
    p->last_pct = pct;
}

/* ---- Shared pieces ---- */

/* Encodes texts [0, n) and adds them to the builder, with progress. */
static int encode_items(learn_ctx *ctx, learn_catalog_builder *b, const item_rec *items, size_t n,
                        const char *what) {
    const learn_model *m = learn_ctx_model(ctx);
    learn_model_info mi;
    learn_model_get_info(m, &mi);
    learn_towers_info ti;
    learn_towers_get_info(m, &ti);
    size_t dc = mi.n_embd, di = ti.d_out, batch = 32;
    float *content = (float *)malloc(batch * dc * sizeof(float)), *item = (float *)malloc(batch * di * sizeof(float));
    const char **texts = (const char **)malloc(batch * sizeof *texts);
    size_t *lens = (size_t *)malloc(batch * sizeof *lens);
    int rc = 1;
    if (!content || !item || !texts || !lens) {
        cli_error("catalog", "out of memory");
        goto out;
    }
    progress p;
    progress_start(&p, what, n);
    for (size_t i0 = 0; i0 < n; i0 += batch) {
        size_t k = n - i0 < batch ? n - i0 : batch;
        for (size_t j = 0; j < k; j++) texts[j] = items[i0 + j].text, lens[j] = strlen(items[i0 + j].text);
        if (learn_encode(ctx, k, texts, lens, content) != LEARN_OK ||
            learn_item_embed(ctx, k, content, item) != LEARN_OK) {
            cli_error("catalog", "items from line %zu: %s", items[i0].line, learn_ctx_errmsg(ctx));
            goto out;
        }
        for (size_t j = 0; j < k; j++)
            if (learn_catalog_builder_add(b, items[i0 + j].id, strlen(items[i0 + j].id), content + j * dc,
                                          item + j * di) != LEARN_OK) {
                cli_error("catalog", "line %zu: %s", items[i0 + j].line, learn_catalog_builder_errmsg(b));
                goto out;
            }
        progress_update(&p, i0 + k);
    }
    learn_encode_stats es;
    learn_ctx_encode_stats(ctx, &es);
    if (es.n_truncated)
        fprintf(stderr, "learn-cli catalog: %llu of %llu items were longer than the model's token limit "
                        "and were truncated\n",
                (unsigned long long)es.n_truncated, (unsigned long long)es.n_items);
    rc = 0;
out:
    free(content);
    free(item);
    free((void *)texts);
    free(lens);
    return rc;
}

/* Fails naming both lines when two records share an id. */
static int check_duplicate_ids(const item_list *l, const char *name) {
    size_t n = l->n, cap = 16;
    while (cap < 2 * n + 16) cap *= 2;
    size_t *slots = (size_t *)calloc(cap, sizeof *slots);
    if (!slots) return cli_error("catalog", "out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const char *id = l->items[i].id;
        uint64_t h = 1469598103934665603ull;
        for (const char *c = id; *c; c++) h = (h ^ (uint8_t)*c) * 1099511628211ull;
        size_t s = (size_t)h & (cap - 1);
        while (slots[s]) {
            if (strcmp(l->items[slots[s] - 1].id, id) == 0) {
                rc = cli_error("catalog", "%s: line %zu: id '%s' already appears on line %zu", name,
                               l->items[i].line, id, l->items[slots[s] - 1].line);
                break;
            }
            s = (s + 1) & (cap - 1);
        }
        slots[s] = i + 1;
    }
    free(slots);
    return rc;
}

static const char *model_template(const learn_model *m) {
    const char *t;
    return learn_model_meta_str(m, "encoder.template", &t, NULL) == LEARN_OK ? t : "{text}";
}

static int load_items(const char *path, const char *tmpl, item_list *l) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) return cli_error("catalog", "%s: %s", path, strerror(errno));
    char err[512];
    int rc = items_load(f, path, tmpl, 1u << 20, l, err, sizeof err);
    if (f != stdin) fclose(f);
    if (rc) return cli_error("catalog", "%s", err);
    if (items_note(l, path, err, sizeof err)) fprintf(stderr, "learn-cli catalog: %s\n", err);
    return check_duplicate_ids(l, path);
}

/* Parses "I/N" (0 <= I < N). */
static int parse_shard(const char *s, long *i, long *n) {
    char buf[64];
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= sizeof buf) return 1;
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = 0;
    return cli_parse_long(buf, 0, 1L << 30, i) || cli_parse_long(slash + 1, 1, 1L << 30, n) || *i >= *n;
}

static learn_model *open_model_ctx(const char *path, long threads, learn_ctx **ctx) {
    learn_model *m = cli_open_model("catalog", path, 1);
    if (!m) return NULL;
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = (int)threads;
    if (learn_ctx_new(m, &cp, ctx) != LEARN_OK) {
        cli_error("catalog", "cannot create a context");
        learn_model_close(m);
        return NULL;
    }
    return m;
}

/* Copies the items of an open catalog into a builder; item embeddings are recomputed from the
   stored content when `reembed` (other towers). */
static int copy_catalog(learn_ctx *ctx, const learn_catalog *cat, learn_catalog_builder *b, int reembed) {
    learn_catalog_info ci;
    learn_catalog_get_info(cat, &ci);
    float *c = (float *)malloc(ci.d_content * sizeof(float));
    learn_towers_info ti;
    learn_towers_get_info(learn_ctx_model(ctx), &ti);
    float *e = (float *)malloc((reembed ? ti.d_out : ci.d_item) * sizeof(float));
    if (!c || !e) {
        free(c);
        free(e);
        return cli_error("catalog", "out of memory");
    }
    progress p;
    progress_start(&p, reembed ? "re-embedding" : "copying", ci.n_items);
    const float *items = learn_catalog_items(cat);
    int rc = 0;
    for (uint32_t i = 0; i < ci.n_items && !rc; i++) {
        const char *id;
        size_t len;
        learn_catalog_id(cat, i, &id, &len);
        learn_catalog_content(cat, i, c);
        if (reembed && learn_item_embed(ctx, 1, c, e) != LEARN_OK) {
            rc = cli_error("catalog", "item '%.*s': %s", (int)len, id, learn_ctx_errmsg(ctx));
            break;
        }
        if (learn_catalog_builder_add(b, id, len, c, reembed ? e : items + (size_t)i * ci.d_item) != LEARN_OK)
            rc = cli_error("catalog", "%s", learn_catalog_builder_errmsg(b));
        if (reembed && (i % 256 == 255 || i + 1 == ci.n_items)) progress_update(&p, i + 1);
    }
    free(c);
    free(e);
    return rc;
}

static int save_builder(learn_catalog_builder *b, const char *out) {
    if (learn_catalog_builder_save(b, out, NULL) != LEARN_OK)
        return cli_error("catalog", "%s: %s", out, learn_catalog_builder_errmsg(b));
    fprintf(stderr, "learn-cli catalog: wrote %s: %u items\n", out, learn_catalog_builder_count(b));
    return 0;
}

static learn_catalog_builder *new_builder(learn_ctx *ctx) {
    const learn_model *m = learn_ctx_model(ctx);
    learn_model_info mi;
    learn_model_get_info(m, &mi);
    learn_towers_info ti;
    learn_towers_get_info(m, &ti);
    learn_catalog_builder *b;
    if (!mi.arch[0]) {
        cli_error("catalog", "the model has no LLM to encode items with");
        return NULL;
    }
    if (learn_catalog_builder_new(m, mi.n_embd, ti.d_out, &b) != LEARN_OK) {
        cli_error("catalog", "out of memory");
        return NULL;
    }
    return b;
}

/* ---- The subcommands ---- */

static const char catalog_usage[] =
    "usage: learn-cli catalog build MODEL ITEMS.jsonl -o CAT [--shard I/N] [--threads N]\n"
    "       learn-cli catalog add MODEL CAT NEW.jsonl [-o OUT] [--threads N]\n"
    "       learn-cli catalog merge -o CAT PART1 PART2 ...\n"
    "       learn-cli catalog reembed MODEL CAT [-o OUT] [--threads N]\n"
    "       learn-cli catalog export CAT --npy DIR\n"
    "\n"
    "build    encodes every item (JSONL records with \"id\" and either \"text\" or the fields of\n"
    "         the model's template) with the model's LLM and towers into a catalog file.\n"
    "         --shard I/N builds the I-th of N equal parts (in file order) for `merge`.\n"
    "add      encodes only the new items and appends them (the cold-start case); the old\n"
    "         items are not re-encoded. Writes CAT in place (atomically) unless -o is given.\n"
    "merge    joins parts made by the same model, in the order given.\n"
    "reembed  recomputes item embeddings from the stored content embeddings with MODEL's\n"
    "         towers (after training new towers; the LLM must be the catalog's).\n"
    "export   DIR/ids.txt (one id per line), DIR/content.npy and DIR/item.npy (float32, same\n"
    "         row order).\n"
    "Every file is written to a temporary name, fsynced and renamed. Progress goes to stderr.\n";

static int catalog_build(int argc, char **argv) {
    const char *pos[2] = {NULL, NULL}, *out = NULL, *shard = NULL;
    int npos = 0;
    long threads = 0, si = 0, sn = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-o") == 0 && v) out = argv[++i];
        else if (strcmp(a, "--shard") == 0 && v) shard = argv[++i];
        else if (strcmp(a, "--threads") == 0 && v && !cli_parse_long(v, 1, 256, &threads)) i++;
        else if (a[0] == '-' && a[1]) return cli_error("catalog", "build: unknown option '%s'", a);
        else if (npos < 2) pos[npos++] = a;
        else return cli_error("catalog", "build: too many arguments");
    }
    if (npos != 2 || !out) return cli_error("catalog", "build needs MODEL ITEMS.jsonl -o CAT (see learn-cli catalog --help)");
    if (shard && parse_shard(shard, &si, &sn)) return cli_error("catalog", "--shard must be I/N with 0 <= I < N, not '%s'", shard);
    learn_ctx *ctx;
    learn_model *m = open_model_ctx(pos[0], threads, &ctx);
    if (!m) return 1;
    item_list l;
    memset(&l, 0, sizeof l);
    learn_catalog_builder *b = NULL;
    int rc = 1;
    if (load_items(pos[1], model_template(m), &l)) goto out;
    size_t lo = (size_t)((uint64_t)l.n * (uint64_t)si / (uint64_t)sn), hi = (size_t)((uint64_t)l.n * (uint64_t)(si + 1) / (uint64_t)sn);
    if (hi == lo) {
        cli_error("catalog", "%s: no items in shard %ld/%ld", pos[1], si, sn);
        goto out;
    }
    if (!(b = new_builder(ctx))) goto out;
    if (encode_items(ctx, b, l.items + lo, hi - lo, "encoding")) goto out;
    rc = save_builder(b, out);
out:
    learn_catalog_builder_free(b);
    items_free(&l);
    learn_ctx_free(ctx);
    learn_model_close(m);
    return rc;
}

static int catalog_add_or_reembed(int argc, char **argv, int add) {
    const char *pos[3] = {NULL, NULL, NULL}, *out = NULL;
    int npos = 0, need = add ? 3 : 2;
    long threads = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-o") == 0 && v) out = argv[++i];
        else if (strcmp(a, "--threads") == 0 && v && !cli_parse_long(v, 1, 256, &threads)) i++;
        else if (a[0] == '-' && a[1]) return cli_error("catalog", "unknown option '%s'", a);
        else if (npos < need) pos[npos++] = a;
        else return cli_error("catalog", "too many arguments");
    }
    if (npos != need)
        return cli_error("catalog", add ? "add needs MODEL CAT NEW.jsonl" : "reembed needs MODEL CAT");
    if (!out) out = pos[1];
    learn_ctx *ctx;
    learn_model *m = open_model_ctx(pos[0], threads, &ctx);
    if (!m) return 1;
    learn_catalog *cat = NULL;
    learn_catalog_builder *b = NULL;
    item_list l;
    memset(&l, 0, sizeof l);
    char err[512];
    int rc = 1, same = 0;
    if (learn_catalog_open(pos[1], NULL, &cat, err, sizeof err) != LEARN_OK) {
        cli_error("catalog", "%s", err);
        goto out;
    }
    if (learn_catalog_check_model(cat, m, &same, err, sizeof err) != LEARN_OK) {
        cli_error("catalog", "%s and %s: %s", pos[0], pos[1], err);
        goto out;
    }
    if (add && !same)
        fprintf(stderr, "learn-cli catalog: %s was embedded with other towers: its item embeddings are "
                        "recomputed with %s's\n", pos[1], pos[0]);
    if (add && load_items(pos[2], model_template(m), &l)) goto out;
    for (size_t i = 0; i < l.n; i++) {
        uint32_t idx;
        if (learn_catalog_find(cat, l.items[i].id, strlen(l.items[i].id), &idx) == LEARN_OK) {
            cli_error("catalog", "%s: line %zu: id '%s' is already in %s", pos[2], l.items[i].line,
                      l.items[i].id, pos[1]);
            goto out;
        }
    }
    if (!(b = new_builder(ctx))) goto out;
    if (copy_catalog(ctx, cat, b, !add || !same)) goto out;
    if (add && encode_items(ctx, b, l.items, l.n, "encoding new items")) goto out;
    rc = save_builder(b, out);
out:
    learn_catalog_builder_free(b);
    learn_catalog_close(cat);
    items_free(&l);
    learn_ctx_free(ctx);
    learn_model_close(m);
    return rc;
}

static int catalog_merge(int argc, char **argv) {
    const char *out = NULL;
    const char **parts = (const char **)calloc((size_t)argc, sizeof *parts);
    int np = 0;
    if (!parts) return cli_error("catalog", "out of memory");
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) out = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1]) {
            free((void *)parts);
            return cli_error("catalog", "merge: unknown option '%s'", argv[i]);
        } else parts[np++] = argv[i];
    }
    if (!out || np < 1) {
        free((void *)parts);
        return cli_error("catalog", "merge needs -o CAT and at least one part");
    }
    learn_catalog **cats = (learn_catalog **)calloc((size_t)np, sizeof *cats);
    learn_catalog_builder *b = NULL;
    char err[512];
    int rc = 1;
    learn_catalog_info first;
    for (int i = 0; i < np; i++) {
        if (learn_catalog_open(parts[i], NULL, &cats[i], err, sizeof err) != LEARN_OK) {
            cli_error("catalog", "%s", err);
            goto out;
        }
        learn_catalog_info ci;
        learn_catalog_get_info(cats[i], &ci);
        if (i == 0) first = ci;
        else if (ci.content_fingerprint != first.content_fingerprint ||
                 ci.tower_fingerprint != first.tower_fingerprint || ci.d_content != first.d_content ||
                 ci.d_item != first.d_item) {
            cli_error("catalog", "%s was made by another model than %s (fingerprints %016llx/%016llx vs %016llx/%016llx)",
                      parts[i], parts[0], (unsigned long long)ci.content_fingerprint,
                      (unsigned long long)ci.tower_fingerprint, (unsigned long long)first.content_fingerprint,
                      (unsigned long long)first.tower_fingerprint);
            goto out;
        }
    }
    if (learn_catalog_builder_new(NULL, first.d_content, first.d_item, &b) != LEARN_OK) {
        cli_error("catalog", "out of memory");
        goto out;
    }
    learn_catalog_builder_set_fingerprints(b, first.content_fingerprint, first.tower_fingerprint);
    float *c = (float *)malloc(first.d_content * sizeof(float));
    if (!c) goto out;
    for (int i = 0; i < np; i++) {
        learn_catalog_info ci;
        learn_catalog_get_info(cats[i], &ci);
        const float *items = learn_catalog_items(cats[i]);
        for (uint32_t k = 0; k < ci.n_items; k++) {
            const char *id;
            size_t len;
            learn_catalog_id(cats[i], k, &id, &len);
            learn_catalog_content(cats[i], k, c);
            if (learn_catalog_builder_add(b, id, len, c, items + (size_t)k * ci.d_item) != LEARN_OK) {
                free(c);
                cli_error("catalog", "%s", learn_catalog_builder_errmsg(b));
                goto out;
            }
        }
    }
    free(c);
    rc = save_builder(b, out);
out:
    learn_catalog_builder_free(b);
    for (int i = 0; i < np; i++) learn_catalog_close(cats ? cats[i] : NULL);
    free(cats);
    free((void *)parts);
    return rc;
}

/* A float32 .npy file of shape (n, d), atomically. */
static int write_npy(const char *path, uint32_t n, uint32_t d, const learn_catalog *cat, int content) {
    cli_out o;
    if (cli_out_open(&o, "catalog", path)) return 1;
    char hdr[128];
    int hl = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%u, %u), }", n, d);
    int total = 10 + hl + 1, pad = (64 - total % 64) % 64;
    fwrite("\x93NUMPY\x01\x00", 1, 8, o.f);
    uint16_t hlen = (uint16_t)(hl + pad + 1);
    fputc(hlen & 0xff, o.f);
    fputc(hlen >> 8, o.f);
    fwrite(hdr, 1, (size_t)hl, o.f);
    for (int i = 0; i < pad; i++) fputc(' ', o.f);
    fputc('\n', o.f);
    float *row = (float *)malloc(d * sizeof(float));
    if (!row) {
        cli_out_abort(&o);
        return cli_error("catalog", "out of memory");
    }
    const float *items = learn_catalog_items(cat);
    for (uint32_t i = 0; i < n; i++) {
        if (content) learn_catalog_content(cat, i, row);
        else memcpy(row, items + (size_t)i * d, d * sizeof(float));
        fwrite(row, sizeof(float), d, o.f); /* little-endian hosts only, as '<f4' says */
    }
    free(row);
    return cli_out_commit(&o, "catalog");
}

static int catalog_export(int argc, char **argv) {
    const char *cat_path = NULL, *dir = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--npy") == 0 && i + 1 < argc) dir = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1]) return cli_error("catalog", "export: unknown option '%s'", argv[i]);
        else if (!cat_path) cat_path = argv[i];
        else return cli_error("catalog", "export: too many arguments");
    }
    if (!cat_path || !dir) return cli_error("catalog", "export needs CAT --npy DIR");
    learn_catalog *cat;
    char err[512];
    if (learn_catalog_open(cat_path, NULL, &cat, err, sizeof err) != LEARN_OK) return cli_error("catalog", "%s", err);
    learn_catalog_info ci;
    learn_catalog_get_info(cat, &ci);
    int rc = 1;
    char p[4096];
    if (cli_mkdirs(dir)) {
        cli_error("catalog", "%s: cannot create the directory: %s", dir, strerror(errno));
        goto out;
    }
    cli_out o;
    snprintf(p, sizeof p, "%s/ids.txt", dir);
    if (cli_out_open(&o, "catalog", p)) goto out;
    for (uint32_t i = 0; i < ci.n_items; i++) {
        const char *id;
        size_t len;
        learn_catalog_id(cat, i, &id, &len);
        fwrite(id, 1, len, o.f);
        fputc('\n', o.f);
    }
    if (cli_out_commit(&o, "catalog")) goto out;
    snprintf(p, sizeof p, "%s/content.npy", dir);
    if (write_npy(p, ci.n_items, ci.d_content, cat, 1)) goto out;
    snprintf(p, sizeof p, "%s/item.npy", dir);
    if (write_npy(p, ci.n_items, ci.d_item, cat, 0)) goto out;
    fprintf(stderr, "learn-cli catalog: exported %u items to %s (ids.txt, content.npy [%u, %u], item.npy [%u, %u])\n",
            ci.n_items, dir, ci.n_items, ci.d_content, ci.n_items, ci.d_item);
    rc = 0;
out:
    learn_catalog_close(cat);
    return rc;
}

int cmd_catalog(int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(catalog_usage, argc < 2 ? stderr : stdout);
        return argc < 2;
    }
    for (int i = 2; i < argc; i++)
        if (cli_is_help(argv[i])) {
            fputs(catalog_usage, stdout);
            return 0;
        }
    if (strcmp(argv[1], "build") == 0) return catalog_build(argc, argv);
    if (strcmp(argv[1], "add") == 0) return catalog_add_or_reembed(argc, argv, 1);
    if (strcmp(argv[1], "reembed") == 0) return catalog_add_or_reembed(argc, argv, 0);
    if (strcmp(argv[1], "merge") == 0) return catalog_merge(argc, argv);
    if (strcmp(argv[1], "export") == 0) return catalog_export(argc, argv);
    return cli_error("catalog", "unknown subcommand '%s' (build, add, merge, reembed, export)", argv[1]);
}
