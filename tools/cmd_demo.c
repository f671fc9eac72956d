/* learn-cli demo: the whole method on the default model, in a few seconds.
   It regenerates the demo data (learn-cli data synth, seed 1), encodes the catalog with the
   model's LLM and item tower, recommends for a user, then adds a brand-new item that nobody has
   interacted with and shows it reaching the users whose tastes it matches (cold start). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"
#include "data.h"
#include "eval.h"
#include "interactions.h"
#include "items.h"
#include "json.h"

/* One user's tastes, from tastes.jsonl. */
typedef struct taste {
    char user[32];
    char cat[2][64];
    char brand[2][64];
    int n_cat, n_brand;
} taste;

static int load_tastes(const char *path, taste **out, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t cap = 1024;
    taste *t = (taste *)calloc(cap, sizeof *t);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    *n = 0;
    while (t && (len = getline(&line, &lcap, f)) > 0) {
        json_doc *doc;
        char err[128];
        if (json_parse(line, (size_t)len, NULL, &doc, err, sizeof err) != LEARN_OK) continue;
        const json_value *r = json_root(doc), *u = json_get(r, "user"), *c = json_get(r, "categories"),
                         *b = json_get(r, "brands");
        if (*n == cap) {
            taste *p = (taste *)realloc(t, 2 * cap * sizeof *t);
            if (!p) {
                json_free(doc);
                break;
            }
            t = p;
            cap *= 2;
        }
        taste *x = &t[*n];
        memset(x, 0, sizeof *x);
        if (u && u->type == JSON_STRING) snprintf(x->user, sizeof x->user, "%s", u->u.str);
        for (size_t i = 0; c && c->type == JSON_ARRAY && i < c->n && i < 2; i++)
            snprintf(x->cat[x->n_cat++], 64, "%s", c->u.items[i].u.str);
        for (size_t i = 0; b && b->type == JSON_ARRAY && i < b->n && i < 2; i++)
            snprintf(x->brand[x->n_brand++], 64, "%s", b->u.items[i].u.str);
        (*n)++;
        json_free(doc);
    }
    free(line);
    fclose(f);
    *out = t;
    return t ? 0 : -1;
}

static int likes(const taste *t, const char *cat, const char *brand) {
    int c = 0, b = 0;
    for (int i = 0; i < t->n_cat; i++) c |= strcmp(t->cat[i], cat) == 0;
    for (int i = 0; i < t->n_brand; i++) b |= strcmp(t->brand[i], brand) == 0;
    if (!c || !b) return 0;
    return strcmp(t->cat[0], cat) == 0 && strcmp(t->brand[0], brand) == 0 ? 2 : 1; /* 2: the main taste */
}

/* The title of a catalog item, looked up in the items (by index: same order). */
static const char *title_of(const item_list *l, uint32_t i) {
    const char *t = l->items[i].text, *p = strstr(t, "Title: ");
    return p ? p + 7 : t;
}

static void print_title(const char *t) {
    const char *end = strstr(t, ". Brand:");
    printf("%.*s", (int)(end ? end - t : (long)strlen(t)), t);
}

static const char demo_usage[] =
    "usage: learn-cli demo [--model models/demo.learn] [--threads N]\n"
    "                      [--items N --users N --brand-boost B]\n"
    "\n"
    "Runs LEARN end to end on the default model: generates the demo catalog and users (the\n"
    "same data the model's towers were trained on: learn-cli data synth, seed 1), encodes the\n"
    "catalog with the model's LLM and item tower, shows a user's history and top-10\n"
    "recommendations, evaluates the model against the popularity and raw-content baselines,\n"
    "then adds a brand-new item nobody has interacted with and shows which users it reaches.\n"
    "--items/--users/--brand-boost regenerate the data with other settings of `data synth`\n"
    "(for a model trained on such data).\n"
    "The default model's LLM has random weights (it is not pretrained): it exists to make the\n"
    "pipeline runnable out of the box. See models/README.md for building a real model.\n";

static double pct(size_t part, size_t whole) {
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Every user's scores of the catalog items outside their history, sorted from the highest:
   a new item's rank for a user is then the number of them strictly above its score. */
typedef struct user_scores {
    float *scores; /* all users' lists, one after the other */
    size_t *off;   /* user v's list: scores[off[v] .. off[v + 1]) */
    uint32_t d;    /* embedding dimension */
    const float *users;
} user_scores;

static int cmp_desc(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

static void user_scores_free(user_scores *us) {
    free(us->scores);
    free(us->off);
    memset(us, 0, sizeof *us);
}

static int user_scores_build(const inter_data *inter, size_t n_items, const float *users,
                             const float *item_emb, uint32_t d, user_scores *us) {
    memset(us, 0, sizeof *us);
    us->d = d;
    us->users = users;
    us->off = (size_t *)malloc((inter->n_users + 1) * sizeof *us->off);
    uint8_t *in_hist = (uint8_t *)calloc(n_items ? n_items : 1, 1);
    /* at most n_items per user; the demo's data (3,000 x 600) takes 7 MB */
    if (!us->off || !in_hist || n_items > ((size_t)64 << 20) / (inter->n_users ? inter->n_users : 1) ||
        !(us->scores = (float *)malloc((inter->n_users * n_items + 1) * sizeof(float)))) {
        free(in_hist);
        user_scores_free(us);
        return -1;
    }
    size_t k = 0;
    for (size_t v = 0; v < inter->n_users; v++) {
        const uint32_t *s = inter->seq + inter->seq_off[v];
        size_t n = inter->seq_off[v + 1] - inter->seq_off[v];
        memset(in_hist, 0, n_items);
        for (size_t i = 0; i < n; i++) in_hist[s[i]] = 1;
        us->off[v] = k;
        for (size_t i = 0; i < n_items; i++) {
            if (in_hist[i]) continue;
            float sc = 0;
            for (uint32_t e = 0; e < d; e++) sc += users[v * d + e] * item_emb[i * d + e];
            us->scores[k++] = sc;
        }
        qsort(us->scores + us->off[v], k - us->off[v], sizeof(float), cmp_desc);
    }
    us->off[inter->n_users] = k;
    free(in_hist);
    return 0;
}

/* How many of the n scores (sorted from the highest) are strictly above x. */
static size_t count_above(const float *sc, size_t n, float x) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sc[mid] > x) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Where a new item (embedding ne) ranks for every user. Counts, for the users who like cat and
   brand (main: as their first category and brand) and for the others, how many have it in
   their top 10; median: the median rank among those who like both. */
typedef struct cold_stats {
    size_t match, match_top, main, main_top, other, other_top, median;
} cold_stats;

static int cold_start(const user_scores *us, size_t n_users, const taste *tastes, const float *ne,
                      const char *cat, const char *brand, cold_stats *cs) {
    memset(cs, 0, sizeof *cs);
    size_t *ranks = (size_t *)calloc(n_users ? n_users : 1, sizeof *ranks);
    if (!ranks) return -1;
    for (size_t v = 0; v < n_users; v++) {
        float sn = 0;
        for (uint32_t e = 0; e < us->d; e++) sn += us->users[v * us->d + e] * ne[e];
        const size_t rank = count_above(us->scores + us->off[v], us->off[v + 1] - us->off[v], sn);
        int lk = likes(&tastes[v], cat, brand);
        if (lk == 2) cs->main++, cs->main_top += rank < 10;
        if (lk) {
            ranks[cs->match] = rank;
            cs->match++, cs->match_top += rank < 10;
        } else {
            cs->other++, cs->other_top += rank < 10;
        }
    }
    for (size_t i = 1; i < cs->match; i++) /* insertion sort: a few dozen users */
        for (size_t j = i; j > 0 && ranks[j - 1] > ranks[j]; j--) {
            size_t x = ranks[j];
            ranks[j] = ranks[j - 1];
            ranks[j - 1] = x;
        }
    cs->median = cs->match ? ranks[cs->match / 2] : 0;
    free(ranks);
    return 0;
}

/* The reference for the new items: how often an item the catalog already has, of a user's
   first category and brand and not yet in their history, is in their top 10. kinds: the
   catalog's items rendered as "{category}\t{brand}". Counts (user, item) pairs; returns 0, or
   -1 out of memory. */
static int seen_kind_top10(const item_list *kinds, const inter_data *inter, const taste *tastes,
                           const user_scores *us, const float *item_emb, size_t *top, size_t *all) {
    uint8_t *in_hist = (uint8_t *)calloc(kinds->n ? kinds->n : 1, 1);
    if (!in_hist) return -1;
    *top = *all = 0;
    for (size_t v = 0; v < inter->n_users; v++) {
        const uint32_t *s = inter->seq + inter->seq_off[v];
        size_t n = inter->seq_off[v + 1] - inter->seq_off[v];
        char key[160];
        snprintf(key, sizeof key, "%s\t%s", tastes[v].cat[0], tastes[v].brand[0]);
        memset(in_hist, 0, kinds->n);
        for (size_t i = 0; i < n; i++) in_hist[s[i]] = 1;
        const float *sc = us->scores + us->off[v], *u = us->users + v * us->d;
        for (size_t i = 0; i < kinds->n; i++) {
            if (in_hist[i] || strcmp(kinds->items[i].text, key) != 0) continue;
            float si = 0;
            for (uint32_t e = 0; e < us->d; e++) si += u[e] * item_emb[i * us->d + e];
            (*all)++;
            *top += count_above(sc, us->off[v + 1] - us->off[v], si) < 10;
        }
    }
    free(in_hist);
    return 0;
}

/* The demo data's item template (learn-cli data synth renders each item's "text" with it). */
#define DEMO_TEMPLATE "Title: {title}. Brand: {brand}. Category: {category}"

/* A new product of category cat and brand that nobody has interacted with, as a record like
   those of items.jsonl rendered through the model's template tmpl (as the catalog's items
   were), then through the LLM and the item tower: content[n_embd], emb[d_out]. Its title goes
   to title. Returns 0, or -1 with the error reported. (The fields come from the generator's
   own tables: no character needs JSON escaping.) */
static int embed_new_item(learn_ctx *ctx, const char *tmpl, const char *cat, const char *brand,
                          char *title, size_t title_size, float *content, float *emb) {
    const char *noun = data_synth_noun(cat, 1);
    snprintf(title, title_size, "%s Signature %s - Midnight Black", brand, noun ? noun : cat);
    char rec[1024], err[256], *id = NULL;
    snprintf(rec, sizeof rec,
             "{\"id\": \"NEW-1\", \"text\": \"Title: %s. Brand: %s. Category: %s\", \"title\": \"%s\", "
             "\"brand\": \"%s\", \"category\": \"%s\"}",
             title, brand, cat, title, brand, cat);
    char *text = item_render(rec, strlen(rec), tmpl, &id, NULL, err, sizeof err);
    free(id);
    if (!text) return cli_error("demo", "the new item: %s", err), -1;
    const char *t = text;
    learn_status st = learn_encode(ctx, 1, &t, NULL, content);
    if (st == LEARN_OK) st = learn_item_embed(ctx, 1, content, emb);
    free(text);
    if (st != LEARN_OK) return cli_error("demo", "%s", learn_ctx_errmsg(ctx)), -1;
    return 0;
}

/* What the demo's steps share. content and emb have a row more than the catalog's items: the
   slot of a new item. */
typedef struct demo {
    learn_model *m;
    learn_model_info mi;
    learn_towers_info ti;
    const char *tmpl;             /* the model's item template */
    char dir[32];                 /* the generated data ("" until it exists) */
    item_list items, kinds;       /* kinds: "{category}\t{brand}" of each item */
    inter_data inter;
    taste *tastes;
    size_t n_tastes;
    learn_ctx *ctx;
    learn_catalog_builder *b;
    learn_catalog *cat;           /* in memory (cat_mem) */
    void *cat_mem;
    size_t cat_size;
    float *content, *emb;         /* [items.n + 1][n_embd], [items.n + 1][d_out] */
    float *users;                 /* [n_users][d_out] */
    user_scores uscores;
} demo;

/* 1. The demo data, as the towers saw it: items (and their kinds), interactions, tastes. */
static int demo_data(demo *d, long n_items, long n_users, long boost) {
    char path[256], err[512];
    data_synth_opts so = {(size_t)n_items, (size_t)n_users, 1, 5, 40, 0.9, (double)boost, DEMO_TEMPLATE};
    data_counts dc;
    if (data_synth(d->dir, &so, &dc)) return 1;
    snprintf(path, sizeof path, "%s/items.jsonl", d->dir);
    FILE *f = fopen(path, "rb");
    if (learn_model_meta_str(d->m, "encoder.template", &d->tmpl, NULL) != LEARN_OK) d->tmpl = "{text}";
    int bad = !f || items_load(f, path, d->tmpl, 1u << 20, &d->items, err, sizeof err);
    /* each item's kind, for the reference figure of the cold start */
    if (f && !bad) {
        rewind(f);
        bad = items_load(f, path, "{category}\t{brand}", 1u << 20, &d->kinds, err, sizeof err);
    }
    if (f) fclose(f);
    if (bad) return cli_error("demo", "%s", err);
    return 0;
}

/* 2. The catalog: every item through the LLM and the item tower; then the interactions and
   tastes, which name catalog items. */
static int demo_catalog(demo *d, long threads) {
    char path[256], err[512];
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = (int)threads;
    size_t n = d->items.n, E = d->mi.n_embd, D = d->ti.d_out;
    if (learn_ctx_new(d->m, &cp, &d->ctx) != LEARN_OK || learn_catalog_builder_new(d->m, d->mi.n_embd, D, &d->b) != LEARN_OK)
        return cli_error("demo", "out of memory");
    d->content = (float *)malloc((n + 1) * E * sizeof(float));
    d->emb = (float *)malloc((n + 1) * D * sizeof(float));
    const char **texts = (const char **)malloc((n + 1) * sizeof *texts);
    if (!d->content || !d->emb || !texts) {
        free((void *)texts);
        return cli_error("demo", "out of memory");
    }
    for (size_t i = 0; i < n; i++) texts[i] = d->items.items[i].text;
    double t0 = util_now_s();
    int bad = learn_encode(d->ctx, n, texts, NULL, d->content) != LEARN_OK ||
              learn_item_embed(d->ctx, n, d->content, d->emb) != LEARN_OK;
    free((void *)texts);
    if (bad) return cli_error("demo", "%s", learn_ctx_errmsg(d->ctx));
    for (size_t i = 0; i < n; i++)
        learn_catalog_builder_add(d->b, d->items.items[i].id, strlen(d->items.items[i].id), d->content + i * E, d->emb + i * D);
    if (learn_catalog_builder_save_memory(d->b, &d->cat_mem, &d->cat_size) != LEARN_OK ||
        learn_catalog_open_memory(d->cat_mem, d->cat_size, NULL, &d->cat, err, sizeof err) != LEARN_OK)
        return cli_error("demo", "catalog: %s", learn_catalog_builder_errmsg(d->b));
    printf("catalog: %zu generated products (title, brand, category) encoded in %.2f s with %d threads (%s kernels)\n",
           n, util_now_s() - t0, learn_ctx_n_threads(d->ctx), learn_ctx_isa(d->ctx));
    snprintf(path, sizeof path, "%s/interactions.tsv", d->dir);
    if (inter_load(path, d->cat, &d->inter, err, sizeof err)) return cli_error("demo", "%s", err);
    snprintf(path, sizeof path, "%s/tastes.jsonl", d->dir);
    if (load_tastes(path, &d->tastes, &d->n_tastes) || d->n_tastes != d->inter.n_users)
        return cli_error("demo", "cannot read the users' tastes");
    return 0;
}

/* 3. One user: their history and top 10. */
static int demo_user(demo *d, size_t u) {
    const taste *t = &d->tastes[u];
    const uint32_t *seq = d->inter.seq + d->inter.seq_off[u];
    size_t len = d->inter.seq_off[u + 1] - d->inter.seq_off[u], show = len < 8 ? len : 8, E = d->mi.n_embd;
    printf("\nuser %s likes %s%s%s, brands %s%s%s. The last %zu of %zu items they interacted with:\n", t->user,
           t->cat[0], t->n_cat > 1 ? " and " : "", t->n_cat > 1 ? t->cat[1] : "", t->brand[0],
           t->n_brand > 1 ? " and " : "", t->n_brand > 1 ? t->brand[1] : "", show, len);
    for (size_t i = len - show; i < len; i++) {
        printf("    %s  ", d->items.items[seq[i]].id);
        print_title(title_of(&d->items, seq[i]));
        printf("\n");
    }
    float *hist = (float *)malloc(len * E * sizeof(float)), *user = (float *)malloc(d->ti.d_out * sizeof(float));
    learn_hit hits[10];
    size_t got = 0;
    if (!hist || !user) {
        free(hist);
        free(user);
        return cli_error("demo", "out of memory");
    }
    for (size_t i = 0; i < len; i++) learn_catalog_content(d->cat, seq[i], hist + i * E);
    int bad = learn_user_embed(d->ctx, len, hist, user) != LEARN_OK ||
              learn_catalog_topk(d->ctx, d->cat, user, 10, seq, len, hits, &got) != LEARN_OK;
    free(hist);
    free(user);
    if (bad) return cli_error("demo", "%s", learn_ctx_errmsg(d->ctx));
    printf("top 10 recommendations (history excluded):\n");
    for (size_t i = 0; i < got; i++) {
        printf("  %2zu  %.3f  %s  ", i + 1, (double)hits[i].score, d->items.items[hits[i].index].id);
        print_title(title_of(&d->items, hits[i].index));
        printf("\n");
    }
    return 0;
}

/* 4. The paper's protocol on the generated users, with the two baselines (skipped, as before,
   when it cannot run). */
static void demo_eval(demo *d) {
    char err[512];
    eval_result er;
    if (eval_run(d->ctx, d->cat, &d->inter, INTER_TEST, 40, &er, err, sizeof err) == 0)
        printf("\nheld-out test items of %zu users (full ranking of %zu items): Recall@10 / NDCG@10\n"
               "    model (LLM + towers)          %.4f / %.4f\n"
               "    raw content (LLM, no towers)  %.4f / %.4f\n"
               "    popularity                    %.4f / %.4f\n",
               er.users, d->items.n, er.model.recall10, er.model.ndcg10, er.raw_content.recall10,
               er.raw_content.ndcg10, er.popularity.recall10, er.popularity.ndcg10);
}

/* Every user's embedding (their last 40 items) and scores of the catalog, for the new items'
   ranks. */
static int demo_user_scores(demo *d) {
    size_t E = d->mi.n_embd, D = d->ti.d_out;
    d->users = (float *)malloc(d->inter.n_users * D * sizeof(float));
    float *hbuf = (float *)malloc(41 * E * sizeof(float));
    if (!d->users || !hbuf) {
        free(hbuf);
        return cli_error("demo", "out of memory");
    }
    for (size_t v = 0; v < d->inter.n_users; v++) {
        const uint32_t *s = d->inter.seq + d->inter.seq_off[v];
        size_t n = d->inter.seq_off[v + 1] - d->inter.seq_off[v], h = n < 40 ? n : 40;
        for (size_t i = 0; i < h; i++) learn_catalog_content(d->cat, s[n - h + i], hbuf + i * E);
        if (learn_user_embed(d->ctx, h, hbuf, d->users + v * D) != LEARN_OK) {
            free(hbuf);
            return cli_error("demo", "%s", learn_ctx_errmsg(d->ctx));
        }
    }
    free(hbuf);
    if (user_scores_build(&d->inter, d->items.n, d->users, learn_catalog_items(d->cat), D, &d->uscores))
        return cli_error("demo", "out of memory for the users' scores of the catalog");
    return 0;
}

/* 5. Cold start: a new item of user u's first category and brand, and whom it reaches. */
static int demo_cold_start(demo *d, size_t u) {
    const char *ncat = d->tastes[u].cat[0], *nbrand = d->tastes[u].brand[0];
    char new_title[160];
    float *ne = d->emb + d->items.n * d->ti.d_out; /* the new item's slot, after the catalog's */
    if (embed_new_item(d->ctx, d->tmpl, ncat, nbrand, new_title, sizeof new_title,
                       d->content + d->items.n * d->mi.n_embd, ne))
        return 1;
    printf("\ncold start: a new item that nobody has interacted with, encoded by the LLM and the item tower\n"
           "(nothing retrained):  NEW-1  %s\n", new_title);
    if (demo_user_scores(d)) return 1;
    cold_stats cs;
    if (cold_start(&d->uscores, d->inter.n_users, d->tastes, ne, ncat, nbrand, &cs))
        return cli_error("demo", "out of memory for the users' scores of the catalog");
    printf("it reaches the top 10 of %zu of the %zu users who like %s and %s (%.0f%%; median rank %zu):\n"
           "of %zu of the %zu whose first category and brand they are (%.0f%%); and of %zu of the %zu\n"
           "other users (%.1f%%).\n",
           cs.match_top, cs.match, ncat, nbrand, pct(cs.match_top, cs.match), cs.median + 1, cs.main_top,
           cs.main, pct(cs.main_top, cs.main), cs.other_top, cs.other, pct(cs.other_top, cs.other));
    return 0;
}

/* 6. The same for one new item of every (category, brand) pair that is the main taste of at
   least 20 users, so that the featured item is not a lucky pick; then, for reference, how an
   item the catalog already has does. */
static int demo_cold_start_all(demo *d) {
    size_t n_new = 0, sum_main = 0, sum_main_top = 0, sum_match = 0, sum_match_top = 0, sum_other = 0,
           sum_other_top = 0, n = d->n_tastes;
    double mean_main = 0, mean_match = 0;
    /* the distinct first tastes (a few dozen) and how many users hold each */
    size_t n_pairs = 0, *pair_user = (size_t *)malloc((n ? n : 1) * sizeof *pair_user),
           *pair_n = (size_t *)calloc(n ? n : 1, sizeof *pair_n);
    if (!pair_user || !pair_n) {
        free(pair_user);
        free(pair_n);
        return cli_error("demo", "out of memory");
    }
    const taste *t = d->tastes;
    for (size_t v = 0; v < n; v++) {
        size_t k = 0;
        while (k < n_pairs && (strcmp(t[pair_user[k]].cat[0], t[v].cat[0]) || strcmp(t[pair_user[k]].brand[0], t[v].brand[0])))
            k++;
        if (k == n_pairs) pair_user[n_pairs++] = v;
        pair_n[k]++;
    }
    char new_title[160];
    float *ne = d->emb + d->items.n * d->ti.d_out;
    int bad = 0;
    for (size_t k = 0; k < n_pairs && !bad; k++) {
        const char *c = t[pair_user[k]].cat[0], *br = t[pair_user[k]].brand[0];
        if (pair_n[k] < 20) continue;
        cold_stats cs;
        if (embed_new_item(d->ctx, d->tmpl, c, br, new_title, sizeof new_title,
                           d->content + d->items.n * d->mi.n_embd, ne)) {
            bad = 1;
        } else if (cold_start(&d->uscores, d->inter.n_users, t, ne, c, br, &cs)) {
            bad = cli_error("demo", "out of memory");
        } else {
            n_new++;
            sum_main += cs.main, sum_main_top += cs.main_top;
            sum_match += cs.match, sum_match_top += cs.match_top;
            sum_other += cs.other, sum_other_top += cs.other_top;
            mean_main += pct(cs.main_top, cs.main);
            mean_match += pct(cs.match_top, cs.match);
        }
    }
    free(pair_user);
    free(pair_n);
    if (bad) return 1;
    size_t kind_top = 0, kind_all = 0;
    if (seen_kind_top10(&d->kinds, &d->inter, t, &d->uscores, learn_catalog_items(d->cat), &kind_top, &kind_all))
        return cli_error("demo", "out of memory");
    if (n_new)
        printf("the same for %zu new items, one for each category and brand that are the first taste of at\n"
               "least 20 users: in the top 10 of %.0f%% of the users whose first taste it is (%zu of %zu;\n"
               "mean over the items %.0f%%), of %.0f%% of all who like both (%zu of %zu; mean %.0f%%), of\n"
               "%.1f%% of the others.\n",
               n_new, pct(sum_main_top, sum_main), sum_main_top, sum_main, mean_main / (double)n_new,
               pct(sum_match_top, sum_match), sum_match_top, sum_match, mean_match / (double)n_new,
               pct(sum_other_top, sum_other));
    printf("for reference, an item already in the catalog, of a user's first category and brand and\n"
           "not in their history, is in their top 10 in %.0f%% of cases (%zu of %zu).\n",
           pct(kind_top, kind_all), kind_top, kind_all);
    return 0;
}

static void demo_free(demo *d) {
    if (d->dir[0]) {
        const char *files[] = {"items.jsonl", "interactions.tsv", "tastes.jsonl"};
        char path[256];
        for (int i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s/%s", d->dir, files[i]);
            unlink(path);
        }
        rmdir(d->dir);
    }
    free(d->content);
    free(d->emb);
    free(d->users);
    user_scores_free(&d->uscores);
    free(d->tastes);
    inter_free(&d->inter);
    items_free(&d->items);
    items_free(&d->kinds);
    learn_catalog_close(d->cat);
    learn_catalog_builder_free_buffer(d->b, d->cat_mem);
    learn_catalog_builder_free(d->b);
    learn_ctx_free(d->ctx);
    learn_model_close(d->m);
}

int cmd_demo(int argc, char **argv) {
    const char *model_path = "models/demo.learn";
    long threads = 0, n_items = 600, n_users = 3000, boost = 20;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(demo_usage, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) model_path = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc && !cli_parse_long(argv[i + 1], 1, 256, &threads)) i++;
        else if (strcmp(argv[i], "--items") == 0 && i + 1 < argc && !cli_parse_long(argv[i + 1], 12, 1000000, &n_items)) i++;
        else if (strcmp(argv[i], "--users") == 0 && i + 1 < argc && !cli_parse_long(argv[i + 1], 17, 10000000, &n_users)) i++;
        else if (strcmp(argv[i], "--brand-boost") == 0 && i + 1 < argc && !cli_parse_long(argv[i + 1], 1, 1000, &boost)) i++;
        else return cli_error("demo", "unknown argument '%s' (see learn-cli demo --help)", argv[i]);
    }
    if (access(model_path, R_OK) != 0)
        return cli_error("demo", "%s not found: run ./build.sh models to make it", model_path);
    demo d;
    memset(&d, 0, sizeof d);
    if (!(d.m = cli_open_model("demo", model_path, 1))) return 1;
    learn_model_get_info(d.m, &d.mi);
    learn_towers_get_info(d.m, &d.ti);
    snprintf(d.dir, sizeof d.dir, "/tmp/learn-demo-XXXXXX");
    if (!mkdtemp(d.dir)) {
        d.dir[0] = 0;
        demo_free(&d);
        return cli_error("demo", "cannot create a temporary directory");
    }
    printf("learn demo: the LEARN method end to end on %s\n", model_path);
    printf("  LLM: %s, %u layers, n_embd %u, random weights (not pretrained: it makes the pipeline runnable)\n",
           d.mi.arch, d.mi.n_layer, d.mi.n_embd);
    printf("  towers: d_model %u, %u layers, %u heads, d_out %u, trained by learn-cli train on the demo data\n\n",
           d.ti.d_model, d.ti.n_layer, d.ti.n_head, d.ti.d_out);
    const size_t u = 16; /* the user shown */
    int rc = demo_data(&d, n_items, n_users, boost) || demo_catalog(&d, threads) || demo_user(&d, u);
    if (!rc) demo_eval(&d);
    rc = rc || demo_cold_start(&d, u) || demo_cold_start_all(&d);
    if (!rc) printf("\nnext: learn-cli --help; models/README.md builds a real model (a GGUF such as Qwen2.5-0.5B).\n");
    demo_free(&d);
    return rc;
}
