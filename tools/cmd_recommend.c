/* learn-cli user and recommend: a user's embedding from a history of catalog ids, and the top-K
   items for it. Histories are given with --history ID,ID,... (oldest first) or, in batch
   mode, as JSONL records {"user": ..., "history": [...]} on standard input.

   Rules (RELIABILITY.md E): an id that is not in the catalog is skipped and reported (an error
   with --strict); a history with no known item is an error; repeated ids are kept in the
   order given (a history is a sequence of interactions) and excluded once; K must be >= 1, and
   a K larger than what is left returns everything there is. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

typedef struct rec_env {
    learn_model *m;
    learn_catalog *cat;
    learn_ctx *ctx;
    uint32_t d_content, d_item;
} rec_env;

static int env_open(rec_env *e, const char *cmd, const char *model, const char *catalog, long threads) {
    memset(e, 0, sizeof *e);
    char err[512];
    e->m = cli_open_model(cmd, model, 1);
    if (!e->m) return 1;
    if (learn_catalog_open(catalog, NULL, &e->cat, err, sizeof err) != LEARN_OK) return cli_error(cmd, "%s", err);
    int same = 0;
    if (learn_catalog_check_model(e->cat, e->m, &same, err, sizeof err) != LEARN_OK)
        return cli_error(cmd, "%s and %s: %s", model, catalog, err);
    if (!same)
        return cli_error(cmd, "%s holds item embeddings made by other towers than %s's: run "
                              "`learn-cli catalog reembed %s %s` first",
                         catalog, model, model, catalog);
    learn_catalog_info ci;
    learn_catalog_get_info(e->cat, &ci);
    e->d_content = ci.d_content;
    e->d_item = ci.d_item;
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = (int)threads;
    if (learn_ctx_new(e->m, &cp, &e->ctx) != LEARN_OK) return cli_error(cmd, "cannot create a context");
    return 0;
}

static void env_close(rec_env *e) {
    learn_ctx_free(e->ctx);
    learn_catalog_close(e->cat);
    learn_model_close(e->m);
}

/* Resolves ids to catalog indices. The positions of unknown ids go to unknown[] (when strict,
   the first one is an error). Returns the number of known ids, or -1 on error. */
static long resolve(const rec_env *e, const char *cmd, const char *const *ids, const size_t *lens,
                    size_t n, int strict, uint32_t *idx, uint32_t *unknown, size_t *n_unknown) {
    long k = 0;
    *n_unknown = 0;
    for (size_t i = 0; i < n; i++) {
        if (learn_catalog_find(e->cat, ids[i], lens[i], &idx[k]) == LEARN_OK) {
            k++;
            continue;
        }
        if (strict) {
            cli_error(cmd, "history item '%.*s' is not in the catalog", (int)lens[i], ids[i]);
            return -1;
        }
        unknown[(*n_unknown)++] = (uint32_t)i;
    }
    return k;
}

/* The user embedding of a history of catalog indices. */
static int user_embedding(rec_env *e, const char *cmd, const uint32_t *idx, size_t n, float *user) {
    float *c = (float *)malloc(n * e->d_content * sizeof(float));
    if (!c) return cli_error(cmd, "out of memory");
    for (size_t i = 0; i < n; i++) learn_catalog_content(e->cat, idx[i], c + i * e->d_content);
    learn_status st = learn_user_embed(e->ctx, n, c, user);
    free(c);
    if (st != LEARN_OK) return cli_error(cmd, "%s", learn_ctx_errmsg(e->ctx));
    return 0;
}

/* Room for n history ids in the four parallel arrays. */
typedef struct hist_buf {
    const char **ids;
    size_t *lens;
    uint32_t *idx, *unknown;
    size_t cap;
} hist_buf;

static int hist_reserve(hist_buf *h, size_t n) {
    if (n <= h->cap) return 0;
    size_t nc = h->cap ? h->cap : 64;
    while (nc < n) nc *= 2;
    const char **a = (const char **)realloc((void *)h->ids, nc * sizeof *a);
    if (a) h->ids = a;
    size_t *b = (size_t *)realloc(h->lens, nc * sizeof *b);
    if (b) h->lens = b;
    uint32_t *c = (uint32_t *)realloc(h->idx, nc * sizeof *c);
    if (c) h->idx = c;
    uint32_t *d = (uint32_t *)realloc(h->unknown, nc * sizeof *d);
    if (d) h->unknown = d;
    if (!a || !b || !c || !d) return -1;
    h->cap = nc;
    return 0;
}

static void hist_free(hist_buf *h) {
    free((void *)h->ids);
    free(h->lens);
    free(h->idx);
    free(h->unknown);
}

/* Splits "a,b,c" in place (ids room for every comma-separated field). */
static size_t split_ids(char *s, const char **ids, size_t *lens, size_t cap) {
    size_t n = 0;
    for (char *p = s; n < cap;) {
        char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        if (l) ids[n] = p, lens[n] = l, n++;
        if (!c) break;
        p = c + 1;
    }
    return n;
}

static void print_hits(const rec_env *e, const learn_hit *h, size_t n, int json) {
    for (size_t i = 0; i < n; i++) {
        const char *id;
        size_t len;
        learn_catalog_id(e->cat, h[i].index, &id, &len);
        if (json) {
            printf(i ? ", {\"id\": " : "{\"id\": ");
            cli_json_string(stdout, id, len);
            printf(", \"score\": %.6f}", (double)h[i].score);
        } else {
            printf("%2zu  %.6f  %.*s\n", i + 1, (double)h[i].score, (int)len, id);
        }
    }
}

/* One recommendation: history -> top-K. user: room for the user embedding; the hits go to
   out (room for k). */
static int recommend_one(rec_env *e, const char *cmd, const uint32_t *idx, size_t n, long k,
                         int include_history, float *user, learn_hit *out, size_t *n_out) {
    if (user_embedding(e, cmd, idx, n, user)) return 1;
    if (learn_catalog_topk(e->ctx, e->cat, user, (uint32_t)k, include_history ? NULL : idx,
                           include_history ? 0 : n, out, n_out) != LEARN_OK)
        return cli_error(cmd, "%s", learn_ctx_errmsg(e->ctx));
    return 0;
}

/* Batch mode: records waiting for their answers (at most REC_BATCH). */
#define REC_BATCH 64

typedef struct rec_rec {
    json_doc *doc;
    size_t line;
    char why[512];      /* the record's error ("": none) */
    uint32_t *idx;      /* the history's catalog indices */
    size_t n_idx;
    uint32_t *unknown;  /* positions in "history" of the ids not in the catalog */
    size_t n_unknown;
    size_t slot;        /* its row in users (when no error) */
} rec_rec;

typedef struct rec_batch {
    rec_env *e;
    const char *cmd;
    rec_rec *recs;
    size_t n, n_users; /* records waiting, of which with a user embedding */
    float *users;      /* a row of d_item per record */
    learn_hit *hits;   /* a row of k per record */
    uint32_t k;
    int include_history;
    size_t done, bad;
} rec_batch;

/* Answers the waiting records (one top-K call for all their users) and prints them in order. */
static void rec_flush(rec_batch *b) {
    const uint32_t *ex[REC_BATCH];
    size_t nex[REC_BATCH], n_hits[REC_BATCH];
    for (size_t i = 0; i < b->n; i++)
        if (!b->recs[i].why[0]) ex[b->recs[i].slot] = b->recs[i].idx, nex[b->recs[i].slot] = b->recs[i].n_idx;
    if (b->n_users &&
        learn_catalog_topk_batch(b->e->ctx, b->e->cat, b->users, b->n_users, b->k, b->include_history ? NULL : ex,
                                 b->include_history ? NULL : nex, b->hits, n_hits) != LEARN_OK) {
        cli_error(b->cmd, "%s", learn_ctx_errmsg(b->e->ctx));
        for (size_t i = 0; i < b->n; i++)
            if (!b->recs[i].why[0]) snprintf(b->recs[i].why, sizeof b->recs[i].why, "%s", learn_ctx_errmsg(b->e->ctx));
    }
    for (size_t i = 0; i < b->n; i++) {
        rec_rec *r = &b->recs[i];
        const json_value *u = r->doc && json_root(r->doc)->type == JSON_OBJECT ? json_get(json_root(r->doc), "user") : NULL;
        printf("{\"user\": ");
        if (u && u->type == JSON_STRING) cli_json_string(stdout, u->u.str, u->n);
        else if (u && u->type == JSON_NUMBER && u->is_int) printf("%lld", (long long)u->u.num.i);
        else printf("null");
        if (r->why[0]) {
            printf(", \"line\": %zu, \"error\": ", r->line);
            cli_json_string(stdout, r->why, strlen(r->why));
            b->bad++;
        } else {
            printf(", \"items\": [");
            print_hits(b->e, b->hits + r->slot * b->k, n_hits[r->slot], 1);
            printf("], \"unknown\": [");
            const json_value *h = json_get(json_root(r->doc), "history");
            for (size_t j = 0; j < r->n_unknown; j++) {
                const json_value *x = &h->u.items[r->unknown[j]];
                if (j) printf(", ");
                cli_json_string(stdout, x->u.str, x->n);
            }
            printf("]");
            b->done++;
        }
        printf("}\n");
        json_free(r->doc);
        free(r->idx);
        free(r->unknown);
        memset(r, 0, sizeof *r);
    }
    b->n = b->n_users = 0;
}

static const char user_usage[] =
    "usage: learn-cli user MODEL CAT --history ID,ID,... [--strict] [--threads N]\n"
    "\n"
    "Prints the user embedding (one JSON array) of a history of catalog ids, oldest first.\n"
    "Ids not in the catalog are skipped and reported on stderr (--strict: an error).\n";

static const char rec_usage[] =
    "usage: learn-cli recommend MODEL CAT --history ID,ID,... [-k 10] [--json]\n"
    "                           [--include-history] [--strict] [--threads N]\n"
    "       learn-cli recommend MODEL CAT --batch [-k 10] [--include-history] [--strict] < users.jsonl\n"
    "\n"
    "The K catalog items that score highest against the user embedding of the history (ties in\n"
    "catalog order). History items are excluded unless --include-history. Ids not in the\n"
    "catalog are skipped and reported (--strict: an error); a history without a known item is\n"
    "an error. Repeated history ids are kept in order. A K larger than the catalog returns\n"
    "every item there is.\n"
    "--batch reads JSONL records {\"user\": ..., \"history\": [ids]} and writes one JSONL result\n"
    "per record: {\"user\": ..., \"items\": [{\"id\", \"score\"}...], \"unknown\": [ids]}; a bad\n"
    "record gives {\"user\": ..., \"line\": N, \"error\": ...} and the run goes on. Users are\n"
    "answered 64 at a time with one top-K call (the same items as one at a time).\n";

static int run(int argc, char **argv, int is_user) {
    const char *cmd = is_user ? "user" : "recommend";
    const char *pos[2] = {NULL, NULL};
    char *history = NULL;
    int npos = 0, json = 0, include = 0, strict = 0, batch = 0;
    long k = 10, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            fputs(is_user ? user_usage : rec_usage, stdout);
            return 0;
        }
        if (strcmp(a, "--json") == 0 && !is_user) json = 1;
        else if (strcmp(a, "--include-history") == 0 && !is_user) include = 1;
        else if (strcmp(a, "--batch") == 0 && !is_user) batch = 1;
        else if (strcmp(a, "--strict") == 0) strict = 1;
        else if (strcmp(a, "--history") == 0 && v) history = argv[++i];
        else if (strcmp(a, "--threads") == 0 && v) {
            if (cli_parse_long(argv[++i], 1, 256, &threads)) return cli_error(cmd, "bad --threads '%s'", v);
        } else if ((strcmp(a, "-k") == 0 || strcmp(a, "--k") == 0) && v && !is_user) {
            char *end;
            k = strtol(argv[++i], &end, 10);
            if (end == v || *end) return cli_error(cmd, "-k: '%s' is not a number", v);
            if (k <= 0) return cli_error(cmd, "-k must be at least 1 (got %ld)", k);
            if (k > 1000000) k = 1000000;
        } else if (a[0] == '-' && a[1]) {
            return cli_error(cmd, "unknown option '%s' (see learn-cli %s --help)", a, cmd);
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            return cli_error(cmd, "too many arguments (see learn-cli %s --help)", cmd);
        }
    }
    if (npos != 2) return cli_error(cmd, "needs MODEL CAT (see learn-cli %s --help)", cmd);
    if (!batch && !history) return cli_error(cmd, "no --history given%s", is_user ? "" : " (or --batch)");
    if (batch && history) return cli_error(cmd, "--batch and --history exclude each other");
    rec_env e;
    if (env_open(&e, cmd, pos[0], pos[1], threads)) {
        env_close(&e);
        return 1;
    }
    learn_catalog_info ci;
    learn_catalog_get_info(e.cat, &ci);
    if ((unsigned long)k > ci.n_items) k = (long)ci.n_items;
    int rc = 1;
    hist_buf hb = {NULL, NULL, NULL, NULL, 0};
    learn_hit *hits = (learn_hit *)malloc((size_t)k * sizeof *hits);
    float *user = (float *)malloc(e.d_item * sizeof(float));
    size_t fields = 1;
    for (const char *p = history; p && *p; p++) fields += *p == ',';
    if (!hits || !user || hist_reserve(&hb, fields)) {
        cli_error(cmd, "out of memory");
        goto out;
    }
    if (!batch) {
        size_t n = split_ids(history, hb.ids, hb.lens, hb.cap), n_unknown;
        long nk = resolve(&e, cmd, hb.ids, hb.lens, n, strict, hb.idx, hb.unknown, &n_unknown);
        if (nk < 0) goto out;
        if (n_unknown) {
            fprintf(stderr, "learn-cli %s: %zu history id(s) not in the catalog, skipped:", cmd, n_unknown);
            for (size_t i = 0; i < n_unknown; i++) fprintf(stderr, " %.*s", (int)hb.lens[hb.unknown[i]], hb.ids[hb.unknown[i]]);
            fputc('\n', stderr);
        }
        if (nk == 0) {
            cli_error(cmd, "the history has no item of the catalog");
            goto out;
        }
        if (is_user) {
            if (user_embedding(&e, cmd, hb.idx, (size_t)nk, user)) goto out;
            printf("[");
            for (uint32_t i = 0; i < e.d_item; i++) printf(i ? ", %.8g" : "%.8g", (double)user[i]);
            printf("]\n");
        } else {
            size_t got;
            if (recommend_one(&e, cmd, hb.idx, (size_t)nk, k, include, user, hits, &got)) goto out;
            if (json) {
                printf("{\"items\": [");
                print_hits(&e, hits, got, 1);
                printf("], \"count\": %zu}\n", got);
            } else {
                print_hits(&e, hits, got, 0);
            }
        }
        rc = 0;
        goto out;
    }
    /* Batch mode: JSONL in, JSONL out; bad records are reported in line and counted. Records
       are answered REC_BATCH at a time with one learn_catalog_topk_batch call (the same hits
       as a call per user, each catalog item read once per 8 users), in input order. */
    /* Fewer records at a time when K is huge: at most about 32 MB of hits. */
    size_t cap = (size_t)((4L << 20) / k);
    if (cap > REC_BATCH) cap = REC_BATCH;
    if (cap < 1) cap = 1;
    rec_rec *recs = (rec_rec *)calloc(cap, sizeof *recs);
    float *users = (float *)malloc(cap * e.d_item * sizeof(float));
    learn_hit *bhits = (learn_hit *)malloc(cap * (size_t)k * sizeof *bhits);
    if (!recs || !users || !bhits) {
        free(recs);
        free(users);
        free(bhits);
        cli_error(cmd, "out of memory");
        goto out;
    }
    rec_batch rb = {&e, cmd, recs, 0, 0, users, bhits, (uint32_t)k, include, 0, 0};
    char *line = NULL;
    size_t lcap = 0, no = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, stdin)) >= 0) {
        no++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0) continue;
        rec_rec *r = &recs[rb.n++];
        memset(r, 0, sizeof *r);
        r->line = no;
        char err[512];
        const json_value *h = NULL;
        const char *why = NULL;
        if (json_parse(line, (size_t)len, NULL, &r->doc, err, sizeof err) != LEARN_OK) why = err;
        else if (json_root(r->doc)->type != JSON_OBJECT) why = "the record is not an object";
        else if (!(h = json_get(json_root(r->doc), "history")) || h->type != JSON_ARRAY) why = "\"history\" is missing or not an array";
        size_t n = 0;
        if (!why && hist_reserve(&hb, h->n)) why = "out of memory";
        for (size_t i = 0; !why && i < h->n; i++) {
            const json_value *x = &h->u.items[i];
            if (x->type != JSON_STRING) why = "history ids must be strings";
            else hb.ids[n] = x->u.str, hb.lens[n] = x->n, n++;
        }
        if (!why) {
            size_t n_unknown = 0;
            long nk = resolve(&e, cmd, hb.ids, hb.lens, n, 0, hb.idx, hb.unknown, &n_unknown);
            if (strict && n_unknown) why = "history ids not in the catalog (--strict)";
            else if (nk == 0) why = "the history has no item of the catalog";
            else if (!(r->idx = (uint32_t *)malloc((size_t)nk * sizeof *r->idx)) ||
                     (n_unknown && !(r->unknown = (uint32_t *)malloc(n_unknown * sizeof *r->unknown))))
                why = "out of memory";
            else if (user_embedding(&e, cmd, hb.idx, (size_t)nk, users + (size_t)rb.n_users * e.d_item))
                why = learn_ctx_errmsg(e.ctx);
            else {
                memcpy(r->idx, hb.idx, (size_t)nk * sizeof *r->idx);
                if (n_unknown) memcpy(r->unknown, hb.unknown, n_unknown * sizeof *r->unknown);
                r->n_idx = (size_t)nk;
                r->n_unknown = n_unknown;
                r->slot = rb.n_users++;
            }
        }
        if (why) snprintf(r->why, sizeof r->why, "%s", why);
        if (rb.n == cap) rec_flush(&rb);
    }
    rec_flush(&rb);
    free(recs);
    free(users);
    free(bhits);
    free(line);
    fflush(stdout); /* the answers before the summary, when both go to one place */
    fprintf(stderr, "learn-cli recommend: %zu users answered, %zu records with errors\n", rb.done, rb.bad);
    rc = 0;
out:
    hist_free(&hb);
    free(hits);
    free(user);
    env_close(&e);
    return rc;
}

int cmd_user(int argc, char **argv) { return run(argc, argv, 1); }
int cmd_recommend(int argc, char **argv) { return run(argc, argv, 0); }
