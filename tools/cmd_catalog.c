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
#include "util.h"
#include "items.h"
#include "shard.h"

/* ---- Progress on standard error: a bar on a terminal, a line per 10% otherwise ---- */

typedef struct progress {
    const char *what;
    size_t total, last_pct;
    double t0;
    int tty;
} progress;

/* Wall-clock seconds since 1970 (shards of one build compare them across machines). */
static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void progress_start(progress *p, const char *what, size_t total) {
    p->what = what;
    p->total = total;
    p->last_pct = (size_t)-1;
    p->t0 = util_now_s();
    p->tty = isatty(2);
}

static void progress_update(progress *p, size_t done) {
    size_t pct = p->total ? done * 100 / p->total : 100;
    double el = util_now_s() - p->t0, rate = el > 0 ? (double)done / el : 0;
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
        if (learn_encode(ctx, k, texts, lens, content) != LEARN_OK) {
            const char *why;
            size_t j = cli_failed_item(learn_ctx_errmsg(ctx), k, &why);
            cli_error("catalog", "line %zu: %s", items[i0 + j].line, why);
            goto out;
        }
        if (learn_item_embed(ctx, k, content, item) != LEARN_OK) {
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
        const uint64_t h = util_fnv1a(UTIL_FNV1A_BASIS, id, strlen(id));
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

/* Saves under lock (held by the caller, who read what it rewrites after taking it). */
static int save_builder_locked(learn_catalog_builder *b, const char *out, learn_lock *lock) {
    if (learn_catalog_builder_save_locked(b, lock) != LEARN_OK)
        return cli_error("catalog", "%s: %s", out, learn_catalog_builder_errmsg(b));
    fprintf(stderr, "learn-cli catalog: wrote %s: %u items\n", out, learn_catalog_builder_count(b));
    return 0;
}

static int save_builder(learn_catalog_builder *b, const char *out) {
    learn_lock *lock = cli_lock("catalog", out);
    if (!lock) return 1;
    int rc = save_builder_locked(b, out, lock);
    learn_lock_release(lock);
    return rc;
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
    "usage: learn-cli catalog build MODEL ITEMS.jsonl -o CAT [--shard I/N|auto [--shards N]]\n"
    "                                [--threads N]\n"
    "       learn-cli catalog add MODEL CAT NEW.jsonl [-o OUT] [--threads N]\n"
    "       learn-cli catalog merge -o CAT PART1 PART2 ... [--model M [--items ITEMS]] [--shards N]\n"
    "       learn-cli catalog check PART1 PART2 ... [--model M [--items ITEMS]] [--shards N]\n"
    "       learn-cli catalog reembed MODEL CAT [-o OUT] [--threads N]\n"
    "       learn-cli catalog export CAT --npy DIR\n"
    "\n"
    "build    encodes every item (JSONL records with \"id\" and either \"text\" or the fields of\n"
    "         the model's template) with the model's LLM and towers into a catalog file.\n"
    "         --shard I/N builds the I-th of N equal parts (in file order) for `merge`, a\n"
    "         shard that records which part of which item list it is. --shard auto takes\n"
    "         the part from a Slurm job array (SLURM_ARRAY_TASK_ID; the array, 0-7 or 1-8,\n"
    "         is the set of parts) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with\n"
    "         --shards N); with --shards N, Slurm task ids are the part indices 0..N-1.\n"
    "add      encodes only the new items and appends them (the cold-start case); the old\n"
    "         items are not re-encoded. Writes CAT in place (atomically) unless -o is given.\n"
    "         Concurrent adds and re-embeds of one catalog lose nothing: each holds the\n"
    "         catalog's lock (CAT.lock) from reading it to renaming the new one; another\n"
    "         writer waits up to --lock-timeout S (60) and then fails naming the holder's pid.\n"
    "merge    joins parts made by the same model: shards in their index order (whatever the\n"
    "         order given), into the catalog a build on one machine writes; other catalogs\n"
    "         in the order given. Refuses, naming them, missing, duplicated, truncated or\n"
    "         corrupted shards and those of another model (--model: other than M), another\n"
    "         item list (--items) or another number of shards (--shards); writes nothing then.\n"
    "check    the same checks, without writing: a line per part on stdout (\"ok PATH: ...\"\n"
    "         or \"invalid PATH: why\"), then \"missing shards ...\"; exit code 0 when all are\n"
    "         fine and no shard is missing.\n"
    "reembed  recomputes item embeddings from the stored content embeddings with MODEL's\n"
    "         towers (after training new towers; the LLM must be the catalog's).\n"
    "export   DIR/ids.txt (one id per line), DIR/content.npy and DIR/item.npy (float32, same\n"
    "         row order).\n"
    "Every file is written to a temporary name, fsynced and renamed (a symlink's target is\n"
    "replaced, keeping its mode). Progress goes to stderr.\n";

static int catalog_build(int argc, char **argv) {
    double t_start = wall_now(), m_start = util_now_s();
    const char *pos[2] = {NULL, NULL}, *out = NULL, *shard = NULL;
    int npos = 0;
    long threads = 0, shards = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-o") == 0 && v) out = argv[++i];
        else if (strcmp(a, "--shard") == 0 && v) shard = argv[++i];
        else if (strcmp(a, "--shards") == 0 && v && !cli_parse_long(v, 1, 1L << 20, &shards)) i++;
        else if (strcmp(a, "--threads") == 0 && v && !cli_parse_long(v, 1, 256, &threads)) i++;
        else if (a[0] == '-' && a[1]) return cli_error("catalog", "build: unknown option '%s'", a);
        else if (npos < 2) pos[npos++] = a;
        else return cli_error("catalog", "build: too many arguments");
    }
    if (npos != 2 || !out) return cli_error("catalog", "build needs MODEL ITEMS.jsonl -o CAT (see learn-cli catalog --help)");
    uint32_t si = 0, sn = 1;
    char from[160], err[512], what[64] = "encoding";
    if (shards && !shard) return cli_error("catalog", "--shards N goes with --shard auto");
    if (shard && shard_parse(shard, shards, getenv, &si, &sn, from, sizeof from, err, sizeof err))
        return cli_error("catalog", "%s", err);
    if (shard) snprintf(what, sizeof what, "shard %u/%u", si, sn);
    learn_ctx *ctx;
    learn_model *m = open_model_ctx(pos[0], threads, &ctx);
    if (!m) return 1;
    item_list l;
    memset(&l, 0, sizeof l);
    learn_catalog_builder *b = NULL;
    int rc = 1;
    if (load_items(pos[1], model_template(m), &l)) goto out;
    uint64_t lo = 0, hi = l.n;
    if (shard) {
        if (l.n < sn || learn_catalog_shard_range(l.n, si, sn, &lo, &hi) != LEARN_OK) {
            cli_error("catalog", "%s: %zu items cannot be split into %u shards", pos[1], l.n, sn);
            goto out;
        }
        fprintf(stderr, "learn-cli catalog: shard %u/%u (%s): items %llu..%llu of %zu (lines %zu..%zu of %s)\n",
                si, sn, from, (unsigned long long)lo, (unsigned long long)hi - 1, l.n, l.items[lo].line,
                l.items[hi - 1].line, pos[1]);
    }
    if (!(b = new_builder(ctx))) goto out;
    double m_enc = util_now_s();
    if (encode_items(ctx, b, l.items + lo, (size_t)(hi - lo), what)) goto out;
    double now = util_now_s(), enc = now - m_enc;
    fprintf(stderr, "learn-cli catalog: %s: %llu items encoded in %.2f s (%.1f items/s); %.2f s with loading\n", what,
            (unsigned long long)(hi - lo), enc, enc > 0 ? (double)(hi - lo) / enc : 0.0, now - m_start);
    if (shard) {
        learn_catalog_shard sh = {si, sn, l.n, shard_source_fingerprint(&l), t_start, wall_now()};
        if (learn_catalog_builder_set_shard(b, &sh) != LEARN_OK) {
            cli_error("catalog", "%s", learn_catalog_builder_errmsg(b));
            goto out;
        }
    }
    rc = save_builder(b, out);
out:
    learn_catalog_builder_free(b);
    items_free(&l);
    learn_ctx_free(ctx);
    learn_model_close(m);
    return rc;
}

/* Opens CAT and checks it against the model and the new items: made by the model's LLM,
   none of the new ids in it. *same: its item embeddings come from the model's towers. */
static int open_checked(const char *model_path, const learn_model *m, const char *cat_path, const char *new_path,
                        const item_list *l, int verify_checksum, learn_catalog **cat, int *same) {
    char err[512];
    learn_model_params p = learn_model_default_params();
    p.verify_checksum = verify_checksum;
    if (learn_catalog_open(cat_path, &p, cat, err, sizeof err) != LEARN_OK) return cli_error("catalog", "%s", err);
    if (learn_catalog_check_model(*cat, m, same, err, sizeof err) != LEARN_OK)
        return cli_error("catalog", "%s and %s: %s", model_path, cat_path, err);
    for (size_t i = 0; i < l->n; i++) {
        uint32_t idx;
        if (learn_catalog_find(*cat, l->items[i].id, strlen(l->items[i].id), &idx) == LEARN_OK)
            return cli_error("catalog", "%s: line %zu: id '%s' is already in %s", new_path, l->items[i].line,
                             l->items[i].id, cat_path);
    }
    return 0;
}

/* add: the new items are encoded first, without the lock (the long part: other writers of
   CAT go on meanwhile); then, holding OUT's lock from before CAT is read to after the rename,
   CAT as it is now is checked again and copied, and the new items appended. reembed holds
   the lock from the read on. */
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
    learn_catalog *cat = NULL, *fresh = NULL;
    learn_catalog_builder *b = NULL, *nb = NULL;
    learn_lock *lock = NULL;
    void *fresh_data = NULL;
    size_t fresh_size = 0;
    item_list l;
    memset(&l, 0, sizeof l);
    char err[512];
    int rc = 1, same = 0;
    if (add) {
        /* Checked before encoding, for an early error (the whole file's checksum only once, in
           the check under the lock). */
        if (load_items(pos[2], model_template(m), &l) || open_checked(pos[0], m, pos[1], pos[2], &l, 0, &cat, &same))
            goto out;
        if (!same)
            fprintf(stderr, "learn-cli catalog: %s was embedded with other towers: its item embeddings are "
                            "recomputed with %s's\n", pos[1], pos[0]);
        learn_catalog_close(cat);
        cat = NULL;
        /* The new items, encoded into a catalog in memory (their content exactly as CAT stores
           it, f16) to be appended under the lock. */
        if (l.n) {
            if (!(nb = new_builder(ctx)) || encode_items(ctx, nb, l.items, l.n, "encoding new items")) goto out;
            if (learn_catalog_builder_save_memory(nb, &fresh_data, &fresh_size) != LEARN_OK) {
                cli_error("catalog", "%s", learn_catalog_builder_errmsg(nb));
                goto out;
            }
            if (learn_catalog_open_memory(fresh_data, fresh_size, NULL, &fresh, err, sizeof err) != LEARN_OK) {
                cli_error("catalog", "%s", err);
                goto out;
            }
        }
    }
    if (!(lock = cli_lock("catalog", out))) goto out;
    if (open_checked(pos[0], m, pos[1], add ? pos[2] : NULL, &l, 1, &cat, &same)) goto out;
    if (!(b = new_builder(ctx))) goto out;
    if (copy_catalog(ctx, cat, b, !add || !same)) goto out;
    if (fresh && copy_catalog(ctx, fresh, b, 0)) goto out;
    rc = save_builder_locked(b, out, lock);
out:
    learn_lock_release(lock);
    learn_catalog_builder_free(b);
    learn_catalog_close(cat);
    learn_catalog_close(fresh);
    if (nb) learn_catalog_builder_free_buffer(nb, fresh_data);
    learn_catalog_builder_free(nb);
    items_free(&l);
    learn_ctx_free(ctx);
    learn_model_close(m);
    return rc;
}

/* ---- merge and check: the parts of a catalog ---- */

/* One part given to merge or check. */
typedef struct cat_part {
    const char *path;
    learn_catalog *cat; /* NULL when it could not be opened */
    learn_catalog_info info;
    int is_shard;
    learn_catalog_shard shard;
    char why[1024]; /* why it is refused; empty when it is fine */
} cat_part;

/* What the parts must agree with, when given: the model (--model), the item list (--items)
   and the number of shards (--shards). What is not given is taken from the first part. */
typedef struct part_ref {
    const char *model_path;
    const learn_model *model;
    const char *items_path;
    int has_source;
    uint64_t source, n_source;
    long shards;
} part_ref;

/* Opens and checks every part. Each refused part gets its reason in why; *missing (malloc'd,
   may be NULL when none) lists the shard indices no part holds, *n_shards the set's size (0
   for parts that are no shards). Returns the number of refused parts, or -1 when out of
   memory. */
static int parts_check(cat_part *p, int np, const part_ref *ref, uint32_t **missing, uint32_t *n_missing,
                       uint32_t *n_shards) {
    *missing = NULL;
    *n_missing = *n_shards = 0;
    const cat_part *r = NULL; /* the first part that opens */
    for (int i = 0; i < np; i++) {
        char err[768];
        if (learn_catalog_open(p[i].path, NULL, &p[i].cat, err, sizeof err) != LEARN_OK) {
            size_t n = strlen(p[i].path); /* the message names the file: once is enough */
            int named = strncmp(err, p[i].path, n) == 0 && strncmp(err + n, ": ", 2) == 0;
            snprintf(p[i].why, sizeof p[i].why, "%s", named ? err + n + 2 : err);
            continue;
        }
        learn_catalog_get_info(p[i].cat, &p[i].info);
        p[i].is_shard = learn_catalog_get_shard(p[i].cat, &p[i].shard) == LEARN_OK;
        if (!r) r = &p[i];
    }
    int shards = ref->shards || (r && r->is_shard);
    uint32_t count = ref->shards ? (uint32_t)ref->shards : r && r->is_shard ? r->shard.count : 0;
    for (int i = 0; i < np; i++) {
        cat_part *q = &p[i];
        char err[768];
        if (!q->cat) continue;
        const learn_catalog_info *ci = &q->info;
        const learn_catalog_shard *sh = &q->shard;
        int same = 1;
        if (ref->model) {
            if (learn_catalog_check_model(q->cat, ref->model, &same, err, sizeof err) != LEARN_OK)
                snprintf(q->why, sizeof q->why, "made by another model than %s: %s", ref->model_path, err);
            else if (!same)
                snprintf(q->why, sizeof q->why, "its item embeddings come from other towers than %s's", ref->model_path);
        } else if (ci->content_fingerprint != r->info.content_fingerprint ||
                   ci->tower_fingerprint != r->info.tower_fingerprint || ci->d_content != r->info.d_content ||
                   ci->d_item != r->info.d_item) {
            snprintf(q->why, sizeof q->why, "made by another model than %s (fingerprints %016llx/%016llx, "
                     "%s's %016llx/%016llx)", r->path, (unsigned long long)ci->content_fingerprint,
                     (unsigned long long)ci->tower_fingerprint, r->path,
                     (unsigned long long)r->info.content_fingerprint, (unsigned long long)r->info.tower_fingerprint);
        }
        if (q->why[0]) continue;
        if (shards && !q->is_shard)
            snprintf(q->why, sizeof q->why, "not a shard (built without --shard): it cannot join a set of shards");
        else if (!shards && q->is_shard)
            snprintf(q->why, sizeof q->why, "shard %u/%u, while %s is a whole catalog: merge shards with their "
                     "own set only", sh->index, sh->count, r->path);
        else if (shards && sh->count != count)
            snprintf(q->why, sizeof q->why, "shard %u/%u: one of %u shards, not of %u%s%s", sh->index, sh->count,
                     sh->count, count, ref->shards ? "" : " as ", ref->shards ? "" : r->path);
        else if (shards && ref->has_source &&
                 (sh->source_fingerprint != ref->source || sh->n_source != ref->n_source))
            snprintf(q->why, sizeof q->why, "shard %u/%u was built from another item list than %s (%llu items, "
                     "fingerprint %016llx; %s: %llu items, %016llx)", sh->index, sh->count, ref->items_path,
                     (unsigned long long)sh->n_source, (unsigned long long)sh->source_fingerprint, ref->items_path,
                     (unsigned long long)ref->n_source, (unsigned long long)ref->source);
        else if (shards && !ref->has_source &&
                 (sh->source_fingerprint != r->shard.source_fingerprint || sh->n_source != r->shard.n_source))
            snprintf(q->why, sizeof q->why, "shard %u/%u was built from another item list than %s (%llu items, "
                     "fingerprint %016llx; %s: %llu items, %016llx)", sh->index, sh->count, r->path,
                     (unsigned long long)sh->n_source, (unsigned long long)sh->source_fingerprint, r->path,
                     (unsigned long long)r->shard.n_source, (unsigned long long)r->shard.source_fingerprint);
    }
    int bad = 0;
    if (shards) {
        int *holder = (int *)calloc(count, sizeof *holder); /* part index + 1 */
        uint32_t *miss = (uint32_t *)malloc(count * sizeof *miss);
        if (!holder || !miss) {
            free(holder);
            free(miss);
            return -1;
        }
        for (int i = 0; i < np; i++) {
            if (!p[i].cat || p[i].why[0]) continue;
            uint32_t k = p[i].shard.index;
            if (holder[k])
                snprintf(p[i].why, sizeof p[i].why, "shard %u/%u again: %s holds it too (a shard is given "
                         "twice)", k, count, p[holder[k] - 1].path);
            else holder[k] = i + 1;
        }
        for (uint32_t k = 0; k < count; k++)
            if (!holder[k]) miss[(*n_missing)++] = k;
        free(holder);
        if (*n_missing) *missing = miss;
        else free(miss);
        *n_shards = count;
    }
    for (int i = 0; i < np; i++) bad += p[i].why[0] != 0;
    return bad;
}

/* "2, 5-7 and 9" (up to 40 ranges) into buf. */
static void index_ranges(const uint32_t *v, uint32_t n, char *buf, size_t bufn) {
    size_t used = 0;
    uint32_t ranges = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < n && used < bufn; ranges++) {
        uint32_t j = i;
        while (j + 1 < n && v[j + 1] == v[j] + 1) j++;
        if (ranges == 40) {
            snprintf(buf + used, bufn - used, " and %u more", n - i);
            return;
        }
        const char *sep = i == 0 ? "" : j + 1 == n ? " and " : ", ";
        int w = j > i ? snprintf(buf + used, bufn - used, "%s%u-%u", sep, v[i], v[j])
                      : snprintf(buf + used, bufn - used, "%s%u", sep, v[i]);
        used += w > 0 ? (size_t)w : 0;
        i = j + 1;
    }
}

static int cmp_shard_index(const void *a, const void *b) {
    const cat_part *x = *(const cat_part *const *)a, *y = *(const cat_part *const *)b;
    return (x->shard.index > y->shard.index) - (x->shard.index < y->shard.index);
}

/* Parses the options merge and check share; parts collects the positional arguments. Opens
   the model and loads the item list when asked. Returns 0, or 1 after printing why. */
static int parts_args(int argc, char **argv, const char *verb, int want_out, const char **out, const char **parts,
                      int *np, part_ref *ref, learn_model **model) {
    const char *model_path = NULL, *items_path = NULL;
    memset(ref, 0, sizeof *ref);
    *model = NULL;
    *np = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (want_out && strcmp(a, "-o") == 0 && v) *out = argv[++i];
        else if (strcmp(a, "--model") == 0 && v) model_path = argv[++i];
        else if (strcmp(a, "--items") == 0 && v) items_path = argv[++i];
        else if (strcmp(a, "--shards") == 0 && v && !cli_parse_long(v, 1, 1L << 20, &ref->shards)) i++;
        else if (a[0] == '-' && a[1]) return cli_error("catalog", "%s: unknown option or missing value '%s'", verb, a);
        else parts[(*np)++] = a;
    }
    if ((want_out && !*out) || *np < 1)
        return cli_error("catalog", "%s needs %sat least one part (see learn-cli catalog --help)", verb,
                         want_out ? "-o CAT and " : "");
    if (items_path && !model_path)
        return cli_error("catalog", "%s: --items needs --model (its template renders the items)", verb);
    if (model_path) {
        if (!(*model = cli_open_model("catalog", model_path, 0))) return 1;
        ref->model = *model;
        ref->model_path = model_path;
    }
    if (items_path) {
        item_list l;
        memset(&l, 0, sizeof l);
        if (load_items(items_path, model_template(*model), &l)) {
            items_free(&l);
            learn_model_close(*model);
            *model = NULL;
            return 1;
        }
        ref->items_path = items_path;
        ref->has_source = 1;
        ref->source = shard_source_fingerprint(&l);
        ref->n_source = l.n;
        items_free(&l);
    }
    return 0;
}

static void parts_close(cat_part *p, int np) {
    for (int i = 0; p && i < np; i++) learn_catalog_close(p[i].cat);
    free(p);
}

static int catalog_merge_or_check(int argc, char **argv, int merge) {
    double m_start = util_now_s();
    const char *verb = merge ? "merge" : "check", *out = NULL;
    const char **paths = (const char **)calloc((size_t)argc, sizeof *paths);
    cat_part *p = NULL;
    learn_model *model = NULL;
    learn_catalog_builder *b = NULL;
    learn_lock *lock = NULL;
    uint32_t *missing = NULL, n_missing = 0, n_shards = 0;
    part_ref ref;
    int np = 0, rc = 1;
    if (!paths) return cli_error("catalog", "out of memory");
    if (parts_args(argc, argv, verb, merge, &out, paths, &np, &ref, &model)) goto out;
    if (!(p = (cat_part *)calloc((size_t)np, sizeof *p))) {
        cli_error("catalog", "out of memory");
        goto out;
    }
    for (int i = 0; i < np; i++) p[i].path = paths[i];
    /* CAT may be one of the parts (shards appended to a catalog): its lock from before they are read. */
    if (merge && !(lock = cli_lock("catalog", out))) goto out;
    int bad = parts_check(p, np, &ref, &missing, &n_missing, &n_shards);
    if (bad < 0) {
        cli_error("catalog", "out of memory");
        goto out;
    }
    char ranges[1024] = "";
    if (n_missing) index_ranges(missing, n_missing, ranges, sizeof ranges);
    if (!merge) {
        /* One line per part on stdout (ok or invalid), then the missing shards. */
        for (int i = 0; i < np; i++) {
            if (p[i].why[0]) printf("invalid %s: %s\n", p[i].path, p[i].why);
            else if (p[i].is_shard)
                printf("ok %s: shard %u/%u, %u items\n", p[i].path, p[i].shard.index, p[i].shard.count, p[i].info.n_items);
            else printf("ok %s: %u items\n", p[i].path, p[i].info.n_items);
        }
        if (n_missing) printf("missing shard%s %s of %u\n", n_missing > 1 ? "s" : "", ranges, n_shards);
        fflush(stdout);
        if (bad || n_missing)
            cli_error("catalog", "check: %d of %d part%s refused%s%s%s", bad, np, np > 1 ? "s" : "",
                      n_missing ? "; missing: shard" : "", n_missing > 1 ? "s " : n_missing ? " " : "", ranges);
        else fprintf(stderr, "learn-cli catalog: check: all %d part%s ok%s\n", np, np > 1 ? "s" : "",
                     n_shards ? " (a complete set of shards)" : "");
        rc = bad || n_missing;
        goto out;
    }
    if (bad || n_missing) {
        for (int i = 0; i < np; i++)
            if (p[i].why[0]) cli_error("catalog", "merge: %s: %s", p[i].path, p[i].why);
        if (n_missing)
            cli_error("catalog", "merge: shard%s %s of %u %s missing", n_missing > 1 ? "s" : "", ranges, n_shards,
                      n_missing > 1 ? "are" : "is");
        cli_error("catalog", "merge: nothing written: %d part%s refused, %u shard%s missing", bad, bad == 1 ? "" : "s",
                  n_missing, n_missing == 1 ? "" : "s");
        goto out;
    }
    /* Shards go in index order, whatever order they were given or finished in. */
    const cat_part **order = (const cat_part **)malloc((size_t)np * sizeof *order);
    if (!order) {
        cli_error("catalog", "out of memory");
        goto out;
    }
    for (int i = 0; i < np; i++) order[i] = &p[i];
    if (n_shards) qsort((void *)order, (size_t)np, sizeof *order, cmp_shard_index);
    /* The parts are of one model (checked above): the merged catalog carries its fingerprints. */
    float *c = (float *)malloc(p[0].info.d_content * sizeof(float));
    if (!c || learn_catalog_builder_new_like(p[0].cat, &b) != LEARN_OK) {
        free(c);
        free((void *)order);
        cli_error("catalog", "out of memory");
        goto out;
    }
    int failed = 0;
    double t0 = 0, t1 = 0, busy = 0;
    for (int i = 0; i < np && !failed; i++) {
        const cat_part *q = order[i];
        const float *items = learn_catalog_items(q->cat);
        for (uint32_t k = 0; k < q->info.n_items && !failed; k++) {
            const char *id;
            size_t len;
            learn_catalog_id(q->cat, k, &id, &len);
            learn_catalog_content(q->cat, k, c);
            if (learn_catalog_builder_add(b, id, len, c, items + (size_t)k * q->info.d_item) != LEARN_OK)
                failed = cli_error("catalog", "merge: %s: %s", q->path, learn_catalog_builder_errmsg(b));
        }
        if (q->is_shard && q->shard.t_start > 0) {
            if (t0 == 0 || q->shard.t_start < t0) t0 = q->shard.t_start;
            if (q->shard.t_end > t1) t1 = q->shard.t_end;
            busy += q->shard.t_end - q->shard.t_start;
        }
    }
    free(c);
    free((void *)order);
    if (failed || save_builder_locked(b, out, lock)) goto out;
    uint32_t n = learn_catalog_builder_count(b);
    if (n_shards) {
        double end = wall_now(), wall = end - t0;
        const char *pl = n_shards == 1 ? "" : "s";
        fprintf(stderr, "learn-cli catalog: merged %u items from %u shard%s in %.2f s\n", n, n_shards, pl, util_now_s() - m_start);
        if (t0 > 0)
            fprintf(stderr, "learn-cli catalog: build: %u items, %u shard%s, %.2f s of wall time from the first "
                    "shard's start to the end of this merge (%.1f items/s); the shards ran %.2f s in all, %.2f s "
                    "each on average (%.1f items/s each), the last ended %.2f s before this merge did\n",
                    n, n_shards, pl, wall, wall > 0 ? n / wall : 0.0, busy, busy / n_shards,
                    busy > 0 ? n / busy : 0.0, end - t1);
    } else {
        fprintf(stderr, "learn-cli catalog: merged %u items from %d catalogs\n", n, np);
    }
    rc = 0;
out:
    learn_lock_release(lock);
    learn_catalog_builder_free(b);
    parts_close(p, np);
    free(missing);
    free((void *)paths);
    learn_model_close(model);
    return rc;
}

/* A float32 .npy file of shape (n, d), atomically. */
static int write_npy(const char *path, uint32_t n, uint32_t d, const learn_catalog *cat, int content) {
    cli_out o;
    if (cli_out_open(&o, "catalog", path)) return 1;
    cli_npy_header(o.f, n, d);
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
    if (strcmp(argv[1], "merge") == 0) return catalog_merge_or_check(argc, argv, 1);
    if (strcmp(argv[1], "check") == 0) return catalog_merge_or_check(argc, argv, 0);
    if (strcmp(argv[1], "export") == 0) return catalog_export(argc, argv);
    return cli_error("catalog", "unknown subcommand '%s' (build, add, merge, check, reembed, export)", argv[1]);
}
