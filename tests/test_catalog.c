/* Catalogs: build, save, open, look up, top-K against brute force, and bad catalogs. */

typedef struct cat_fixture {
    learn_model *model;
    test_blob model_blob;
    learn_writer *w;
    uint32_t n, dc, di;
    float *content, *item;
} cat_fixture;

/* A model with only a fingerprint-bearing tensor, and n random items. */
static void cat_fixture_make(cat_fixture *f, uint32_t n, uint32_t dc, uint32_t di, uint64_t seed) {
    memset(f, 0, sizeof *f);
    f->n = n, f->dc = dc, f->di = di;
    learn_writer_new(NULL, &f->w);
    static float x[32];
    uint64_t s[1] = {32};
    x[0] = (float)seed;
    learn_writer_add_tensor(f->w, "content.x", LEARN_TYPE_F32, 1, s, x, LEARN_WRITER_COPY);
    f->model_blob = test_blob_from_writer(f->w);
    ck_assert_int_eq(learn_model_open_memory(f->model_blob.p, f->model_blob.n, NULL, &f->model, NULL, 0), LEARN_OK);
    test_rng r = {seed};
    f->content = (float *)malloc((size_t)n * dc * sizeof(float));
    f->item = (float *)malloc((size_t)n * di * sizeof(float));
    for (size_t i = 0; i < (size_t)n * dc; i++) f->content[i] = (float)test_randn(&r);
    for (uint32_t i = 0; i < n; i++) {
        double ss = 0;
        for (uint32_t e = 0; e < di; e++) {
            f->item[i * di + e] = (float)test_randn(&r);
            ss += (double)f->item[i * di + e] * f->item[i * di + e];
        }
        for (uint32_t e = 0; e < di; e++) f->item[i * di + e] /= (float)sqrt(ss);
    }
}

static void cat_fixture_free(cat_fixture *f) {
    learn_model_close(f->model);
    test_blob_free(&f->model_blob);
    learn_writer_free(f->w);
    free(f->content);
    free(f->item);
}

static void cat_id(char *buf, size_t n, uint32_t i) { snprintf(buf, n, "item-%05u", (i * 7919u) % 100000u); }

static learn_catalog_builder *cat_build(cat_fixture *f) {
    learn_catalog_builder *b;
    ck_assert_int_eq(learn_catalog_builder_new(f->model, f->dc, f->di, &b), LEARN_OK);
    for (uint32_t i = 0; i < f->n; i++) {
        char id[32];
        cat_id(id, sizeof id, i);
        ck_assert_int_eq(learn_catalog_builder_add(b, id, strlen(id), f->content + (size_t)i * f->dc,
                                                   f->item + (size_t)i * f->di), LEARN_OK);
    }
    return b;
}

/* A fixture's catalog built and opened in memory (the top-K tests). */
typedef struct cat_mem {
    learn_catalog_builder *b;
    void *data;
    learn_catalog *cat;
} cat_mem;

static learn_catalog *cat_mem_open(cat_fixture *f, cat_mem *m) {
    size_t size;
    m->b = cat_build(f);
    ck_assert_int_eq(learn_catalog_builder_save_memory(m->b, &m->data, &size), LEARN_OK);
    ck_assert_int_eq(learn_catalog_open_memory(m->data, size, NULL, &m->cat, NULL, 0), LEARN_OK);
    return m->cat;
}

static void cat_mem_close(cat_mem *m) {
    learn_catalog_close(m->cat);
    learn_catalog_builder_free_buffer(m->b, m->data);
    learn_catalog_builder_free(m->b);
}

START_TEST(test_catalog_roundtrip) {
    cat_fixture f;
    cat_fixture_make(&f, 1000, 48, 16, 3);
    learn_catalog_builder *b = cat_build(&f);
    const char *path = test_tmp_path("cat.learn");
    ck_assert_msg(learn_catalog_builder_save(b, path) == LEARN_OK, "%s", learn_catalog_builder_errmsg(b));
    learn_catalog *cat;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_msg(learn_catalog_open(path, NULL, &cat, err, sizeof err) == LEARN_OK, "%s", err);
    learn_catalog_info info;
    learn_catalog_get_info(cat, &info);
    ck_assert_uint_eq(info.n_items, 1000);
    ck_assert_uint_eq(info.d_content, 48);
    ck_assert_uint_eq(info.d_item, 16);
    learn_model_info mi;
    learn_model_get_info(f.model, &mi);
    ck_assert(info.content_fingerprint == mi.content_fingerprint);
    int same = 0;
    ck_assert_int_eq(learn_catalog_check_model(cat, f.model, &same, err, sizeof err), LEARN_OK);
    ck_assert_int_eq(same, 1);
    float content[48];
    for (uint32_t i = 0; i < 1000; i++) {
        char id[32];
        cat_id(id, sizeof id, i);
        uint32_t idx;
        ck_assert_int_eq(learn_catalog_find(cat, id, strlen(id), &idx), LEARN_OK);
        ck_assert_uint_eq(idx, i);
        const char *got;
        size_t len;
        ck_assert_int_eq(learn_catalog_id(cat, i, &got, &len), LEARN_OK);
        ck_assert(len == strlen(id) && memcmp(got, id, len) == 0);
        ck_assert_int_eq(learn_catalog_content(cat, i, content), LEARN_OK);
        for (int e = 0; e < 48; e++) /* f16 storage: 2^-11 relative */
            ck_assert(fabsf(content[e] - f.content[i * 48 + e]) <= fabsf(f.content[i * 48 + e]) * 0x1p-11f + 1e-7f);
        ck_assert(memcmp(learn_catalog_items(cat) + i * 16, f.item + i * 16, 64) == 0);
    }
    uint32_t idx;
    ck_assert_int_eq(learn_catalog_find(cat, "item-", 5, &idx), LEARN_ERR_NOT_FOUND);
    ck_assert_int_eq(learn_catalog_find(cat, "zzz", 3, &idx), LEARN_ERR_NOT_FOUND);
    ck_assert_int_eq(learn_catalog_id(cat, 1000, (const char **)&path, NULL), LEARN_ERR_ARG);
    learn_catalog_close(cat);
    /* A model file is not a catalog. */
    ck_assert_int_eq(learn_catalog_open_memory(f.model_blob.p, f.model_blob.n, NULL, &cat, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert_msg(strstr(err, "not a catalog"), "%s", err);
    unlink(path);
    learn_catalog_builder_free(b);
    cat_fixture_free(&f);
}
END_TEST

/* Brute-force reference: every item's score, sorted best first with the index tie-break. */
static int cat_ref_topk(const cat_fixture *f, const float *q, const uint32_t *excl, size_t n_excl,
                        learn_hit *out, size_t k) {
    learn_hit *all = (learn_hit *)malloc(f->n * sizeof *all);
    size_t n = 0;
    for (uint32_t i = 0; i < f->n; i++) {
        int skip = 0;
        for (size_t j = 0; j < n_excl; j++) skip |= excl[j] == i;
        if (skip) continue;
        all[n].index = i;
        all[n].score = learn__score_f32(q, f->item + (size_t)i * f->di, f->di);
        n++;
    }
    qsort(all, n, sizeof *all, learn__hit_cmp_best_first);
    size_t m = LEARN__MIN(n, k);
    memcpy(out, all, m * sizeof *out);
    free(all);
    return (int)m;
}

/* learn_catalog_topk against the reference: the same hits, scores to the bit. */
static void cat_expect_topk(learn_ctx *ctx, const learn_catalog *cat, const cat_fixture *f, const float *q,
                            uint32_t k, const uint32_t *excl, size_t n_excl, learn_hit *got, learn_hit *want) {
    size_t n = 123456;
    ck_assert_int_eq(learn_catalog_topk(ctx, cat, q, k, excl, n_excl, got, &n), LEARN_OK);
    int m = cat_ref_topk(f, q, excl, n_excl, want, k);
    ck_assert_uint_eq(n, (size_t)m);
    for (int i = 0; i < m; i++) {
        ck_assert_uint_eq(got[i].index, want[i].index);
        ck_assert(got[i].score == want[i].score);
    }
}

START_TEST(test_catalog_topk) {
    cat_fixture f;
    cat_fixture_make(&f, 777, 8, 24, 5);
    /* Some exact ties: items 10, 20, 30 share item 5's embedding. */
    for (int t = 10; t <= 30; t += 10) memcpy(f.item + t * 24, f.item + 5 * 24, 24 * sizeof(float));
    cat_mem cm;
    learn_catalog *cat = cat_mem_open(&f, &cm);
    learn_ctx *ctx;
    ck_assert_int_eq(learn_ctx_new(f.model, NULL, &ctx), LEARN_OK);
    test_rng r = {11};
    learn_hit got[800], want[800];
    const uint32_t ks[] = {1, 5, 10, 50, 776, 777, 5000};
    for (int trial = 0; trial < 30; trial++) {
        float q[24];
        if (trial == 0) memcpy(q, f.item + 5 * 24, sizeof q);
        else for (int e = 0; e < 24; e++) q[e] = (float)test_randn(&r);
        uint32_t excl[6] = {5, 20, 776, 5, (uint32_t)(test_rand(&r) % 777), 0};
        size_t n_excl = (size_t)(trial % 6);
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
            cat_expect_topk(ctx, cat, &f, q, ks[ki], excl, n_excl, got, want);
    }
    /* Ties come back in catalog order. */
    size_t n;
    ck_assert_int_eq(learn_catalog_topk(ctx, cat, f.item + 5 * 24, 4, NULL, 0, got, &n), LEARN_OK);
    ck_assert_uint_eq(got[0].index, 5);
    ck_assert_uint_eq(got[1].index, 10);
    ck_assert_uint_eq(got[2].index, 20);
    ck_assert_uint_eq(got[3].index, 30);
    /* Errors. */
    float q[24] = {0};
    ck_assert_int_eq(learn_catalog_topk(ctx, cat, q, 0, NULL, 0, got, &n), LEARN_ERR_ARG);
    ck_assert_uint_eq(n, 0);
    q[3] = NAN;
    ck_assert_int_eq(learn_catalog_topk(ctx, cat, q, 3, NULL, 0, got, &n), LEARN_ERR_NUMERIC);
    ck_assert_ptr_nonnull(strstr(learn_ctx_errmsg(ctx), "query element 3"));
    learn_ctx_free(ctx);
    cat_mem_close(&cm);
    cat_fixture_free(&f);
}
END_TEST

/* learn_catalog_topk_batch against a call per query: the same hits, scores to the bit, for
   blocks whole and short, exclusions, ties, k beyond the catalog, a dimension with a tail,
   the baseline and the AVX2 scans, 1 to 3 threads, and a large catalog both with fewer query
   blocks than threads (a call per query) and with more. */
static void cat_expect_batch(learn_ctx *ctx, const learn_catalog *cat, const float *qs, size_t nq, size_t d,
                             uint32_t k, const uint32_t *const *ex, const size_t *nex) {
    learn_hit *got = (learn_hit *)malloc(nq * k * sizeof *got), *want = (learn_hit *)malloc(k * sizeof *want);
    size_t *n_got = (size_t *)malloc((nq + 1) * sizeof *n_got);
    n_got[nq] = 4242; /* not written */
    ck_assert_msg(learn_catalog_topk_batch(ctx, cat, qs, nq, k, ex, nex, got, n_got) == LEARN_OK, "%s",
                  learn_ctx_errmsg(ctx));
    ck_assert_uint_eq(n_got[nq], 4242);
    for (size_t q = 0; q < nq; q++) {
        size_t n_want;
        ck_assert_int_eq(learn_catalog_topk(ctx, cat, qs + q * d, k, ex ? ex[q] : NULL, ex ? nex[q] : 0, want, &n_want),
                         LEARN_OK);
        ck_assert_msg(n_got[q] == n_want, "query %zu of %zu, k %u: %zu hits, want %zu", q, nq, k, n_got[q], n_want);
        for (size_t i = 0; i < n_want; i++) {
            ck_assert_msg(got[q * k + i].index == want[i].index && got[q * k + i].score == want[i].score,
                          "query %zu of %zu, k %u, hit %zu: %u %.9g, want %u %.9g (%s)", q, nq, k, i, got[q * k + i].index,
                          got[q * k + i].score, want[i].index, want[i].score, learn_ctx_isa(ctx));
        }
    }
    free(got);
    free(want);
    free(n_got);
}

START_TEST(test_catalog_topk_batch) {
    static const uint32_t dims[] = {24, 21};
    for (int di = 0; di < 2; di++) {
        const uint32_t D = dims[di];
        cat_fixture f;
        cat_fixture_make(&f, 300, 8, D, 31 + di);
        for (int t = 10; t <= 30; t += 10) memcpy(f.item + t * D, f.item + 5 * D, D * sizeof(float));
        cat_mem cm;
        learn_catalog *cat = cat_mem_open(&f, &cm);
        const size_t NQ = 37;
        float *qs = (float *)malloc(NQ * D * sizeof(float));
        test_rng r = {77 + di};
        for (size_t i = 0; i < NQ * D; i++) qs[i] = (float)test_randn(&r);
        memcpy(qs + 3 * D, f.item + 5 * D, D * sizeof(float)); /* ties */
        uint32_t lists[37][5];
        const uint32_t *ex[37];
        size_t nex[37];
        for (size_t q = 0; q < NQ; q++) {
            nex[q] = q % 4 == 1 ? 0 : q % 5;
            for (int e = 0; e < 5; e++) lists[q][e] = e == 2 ? 5 : (uint32_t)(test_rand(&r) % 300);
            ex[q] = q % 7 == 3 ? NULL : lists[q];
            if (!ex[q]) nex[q] = 0;
        }
        static const char *const isas[] = {"scalar", NULL};
        for (int ii = 0; ii < 2; ii++)
            for (int th = 1; th <= 3; th++) {
                learn_ctx_params cp = learn_ctx_default_params();
                cp.n_threads = th;
                cp.isa = isas[ii];
                learn_ctx *ctx;
                ck_assert_int_eq(learn_ctx_new(f.model, &cp, &ctx), LEARN_OK);
                static const size_t nqs[] = {1, 3, 8, 9, 16, 17, 37};
                static const uint32_t ks[] = {1, 10, 299, 300, 5000};
                for (size_t a = 0; a < sizeof nqs / sizeof nqs[0]; a++)
                    for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++) {
                        cat_expect_batch(ctx, cat, qs, nqs[a], D, ks[c], NULL, NULL);
                        cat_expect_batch(ctx, cat, qs, nqs[a], D, ks[c], ex, nex);
                    }
                learn_ctx_free(ctx);
            }
        /* Errors: every count is 0 afterwards. */
        learn_ctx *ctx;
        ck_assert_int_eq(learn_ctx_new(f.model, NULL, &ctx), LEARN_OK);
        learn_hit hits[3 * 4];
        size_t n[3] = {7, 7, 7};
        ck_assert_int_eq(learn_catalog_topk_batch(ctx, cat, qs, 3, 0, NULL, NULL, hits, n), LEARN_ERR_ARG);
        ck_assert(n[0] == 0 && n[1] == 0 && n[2] == 0);
        n[0] = n[1] = n[2] = 7;
        ck_assert_int_eq(learn_catalog_topk_batch(ctx, cat, NULL, 3, 4, NULL, NULL, hits, n), LEARN_ERR_ARG);
        ck_assert(n[0] == 0 && n[2] == 0);
        ck_assert_int_eq(learn_catalog_topk_batch(ctx, cat, qs, 3, 4, ex, NULL, hits, n), LEARN_ERR_ARG);
        const uint32_t *bad[3] = {NULL, NULL, NULL};
        const size_t nbad[3] = {0, 2, 0};
        ck_assert_int_eq(learn_catalog_topk_batch(ctx, cat, qs, 3, 4, bad, nbad, hits, n), LEARN_ERR_ARG);
        ck_assert_ptr_nonnull(strstr(learn_ctx_errmsg(ctx), "query 1: 2 exclusions but no list"));
        float nanq[3 * 24];
        memcpy(nanq, qs, sizeof(float) * 3 * D);
        nanq[2 * D + 4] = NAN;
        n[0] = n[1] = n[2] = 7;
        ck_assert_int_eq(learn_catalog_topk_batch(ctx, cat, nanq, 3, 4, NULL, NULL, hits, n), LEARN_ERR_NUMERIC);
        ck_assert_ptr_nonnull(strstr(learn_ctx_errmsg(ctx), "query 2: element 4"));
        ck_assert(n[0] == 0 && n[1] == 0 && n[2] == 0);
        ck_assert_int_eq(learn_catalog_topk_batch(ctx, cat, NULL, 0, 4, NULL, NULL, hits, n), LEARN_OK);
        ck_assert_int_eq(learn_catalog_topk_batch(NULL, cat, qs, 3, 4, NULL, NULL, hits, n), LEARN_ERR_ARG);
        learn_ctx_free(ctx);
        free(qs);
        cat_mem_close(&cm);
        cat_fixture_free(&f);
    }
    /* A catalog that a single query scans on several threads. */
    cat_fixture f;
    const uint32_t N = 20000, D = 16;
    cat_fixture_make(&f, N, 8, D, 41);
    memcpy(f.item + 19999 * D, f.item + 7 * D, D * sizeof(float));
    cat_mem cm;
    learn_catalog *cat = cat_mem_open(&f, &cm);
    float qs[20 * 16];
    test_rng r = {5};
    for (int i = 0; i < 20 * 16; i++) qs[i] = (float)test_randn(&r);
    memcpy(qs, f.item + 7 * D, D * sizeof(float));
    for (int th = 1; th <= 3; th++) {
        learn_ctx_params cp = learn_ctx_default_params();
        cp.n_threads = th;
        learn_ctx *ctx;
        ck_assert_int_eq(learn_ctx_new(f.model, &cp, &ctx), LEARN_OK);
        cat_expect_batch(ctx, cat, qs, 5, D, 10, NULL, NULL);  /* 1 block */
        cat_expect_batch(ctx, cat, qs, 20, D, 10, NULL, NULL); /* 3 blocks */
        learn_ctx_free(ctx);
    }
    cat_mem_close(&cm);
    cat_fixture_free(&f);
}
END_TEST

/* A catalog large enough for the scan to be split over threads: the same hits as the reference
   for 1, 2 and 3 threads, with ties across the split points and exclusions. */
START_TEST(test_catalog_topk_threads) {
    cat_fixture f;
    const int N = 40000, D = 16;
    cat_fixture_make(&f, N, 8, D, 21);
    /* Ties: copies of item 7 on both sides of every split point. */
    const int copies[] = {13332, 13334, 19999, 20000, 20001, 26666, 26667, 39999};
    for (size_t c = 0; c < sizeof copies / sizeof copies[0]; c++)
        memcpy(f.item + (size_t)copies[c] * D, f.item + 7 * D, D * sizeof(float));
    cat_mem cm;
    learn_catalog *cat = cat_mem_open(&f, &cm);
    learn_hit *got = (learn_hit *)malloc((size_t)N * sizeof *got), *want = (learn_hit *)malloc((size_t)N * sizeof *want);
    ck_assert(got && want);
    test_rng r = {5};
    for (int threads = 1; threads <= 3; threads++) {
        learn_ctx_params p = learn_ctx_default_params();
        p.n_threads = threads;
        learn_ctx *ctx;
        ck_assert_int_eq(learn_ctx_new(f.model, &p, &ctx), LEARN_OK);
        const uint32_t ks[] = {1, 9, 64, 1000, (uint32_t)N};
        for (int trial = 0; trial < 4; trial++) {
            float q[16];
            if (trial == 0) memcpy(q, f.item + 7 * D, sizeof q);
            else for (int e = 0; e < D; e++) q[e] = (float)test_randn(&r);
            uint32_t excl[4] = {7, 20000, (uint32_t)(test_rand(&r) % (uint32_t)N), 39999};
            size_t n_excl = (size_t)(trial % 2) * 4;
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
                cat_expect_topk(ctx, cat, &f, q, ks[ki], excl, n_excl, got, want);
        }
        learn_ctx_free(ctx);
    }
    free(got);
    free(want);
    cat_mem_close(&cm);
    cat_fixture_free(&f);
}
END_TEST

START_TEST(test_catalog_bad) {
    cat_fixture f;
    cat_fixture_make(&f, 20, 8, 4, 9);
    learn_catalog_builder *b;
    ck_assert_int_eq(learn_catalog_builder_new(f.model, 8, 4, &b), LEARN_OK);
    void *data;
    size_t size;
    ck_assert_int_eq(learn_catalog_builder_save_memory(b, &data, &size), LEARN_ERR_STATE);
    ck_assert_ptr_nonnull(strstr(learn_catalog_builder_errmsg(b), "empty"));
    ck_assert_int_eq(learn_catalog_builder_add(b, "", 0, f.content, f.item), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_catalog_builder_add(b, "a\tb", 3, f.content, f.item), LEARN_ERR_ARG);
    float nan_item[4] = {0, NAN, 0, 0};
    ck_assert_int_eq(learn_catalog_builder_add(b, "x", 1, f.content, nan_item), LEARN_ERR_NUMERIC);
    ck_assert_int_eq(learn_catalog_builder_add(b, "dup", 3, f.content, f.item), LEARN_OK);
    ck_assert_int_eq(learn_catalog_builder_add(b, "other", 5, f.content, f.item), LEARN_OK);
    ck_assert_int_eq(learn_catalog_builder_add(b, "dup", 3, f.content, f.item), LEARN_OK);
    ck_assert_int_eq(learn_catalog_builder_save_memory(b, &data, &size), LEARN_ERR_ARG);
    ck_assert_msg(strstr(learn_catalog_builder_errmsg(b), "item id 'dup' appears twice (items 0 and 2)"), "%s",
                  learn_catalog_builder_errmsg(b));
    learn_catalog_builder_free(b);

    /* A valid catalog, then surgery: duplicate ids in the file, NaN embeddings, bad index. */
    b = cat_build(&f);
    ck_assert_int_eq(learn_catalog_builder_save_memory(b, &data, &size), LEARN_OK);
    test_blob blob = {NULL, size};
    ck_assert_int_eq(posix_memalign((void **)&blob.p, 64, size), 0);
    memcpy(blob.p, data, size);
    learn_catalog *cat;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_int_eq(learn_catalog_open_memory(blob.p, blob.n, NULL, &cat, err, sizeof err), LEARN_OK);
    learn_catalog_close(cat);
    char id0[32], id1[32];
    cat_id(id0, sizeof id0, 0);
    cat_id(id1, sizeof id1, 1);
    size_t at = test_blob_find(&blob, id1, strlen(id1), 64);
    memcpy(blob.p + at, id0, strlen(id0)); /* same length */
    test_blob_fix(&blob);
    ck_assert_int_eq(learn_catalog_open_memory(blob.p, blob.n, NULL, &cat, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert_msg(strstr(err, "appears twice") || strstr(err, "not sorted"), "%s", err);
    memcpy(blob.p, data, size);
    learn_tensor_info ti;
    learn_model *raw;
    ck_assert_int_eq(learn_model_open_memory(blob.p, blob.n, NULL, &raw, NULL, 0), LEARN_OK);
    learn_model_tensor_find(raw, "catalog.item", &ti);
    size_t item_off = (size_t)ti.offset;
    learn_model_tensor_find(raw, "catalog.id_index", &ti);
    size_t index_off = (size_t)ti.offset;
    learn_model_close(raw);
    float nanv = NAN;
    memcpy(blob.p + item_off + 4 * 4 * 3 + 8, &nanv, 4);
    test_blob_fix(&blob);
    ck_assert_int_eq(learn_catalog_open_memory(blob.p, blob.n, NULL, &cat, err, sizeof err), LEARN_ERR_NUMERIC);
    ck_assert_msg(strstr(err, "item 3's embedding"), "%s", err);
    memcpy(blob.p, data, size);
    learn__wr32(blob.p + index_off, 25);
    test_blob_fix(&blob);
    ck_assert_int_eq(learn_catalog_open_memory(blob.p, blob.n, NULL, &cat, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert_msg(strstr(err, "not a permutation"), "%s", err);
    /* Truncated / corrupted files are refused by the container. */
    memcpy(blob.p, data, size);
    blob.p[size / 2] ^= 1;
    ck_assert_int_eq(learn_catalog_open_memory(blob.p, blob.n, NULL, &cat, err, sizeof err), LEARN_ERR_CHECKSUM);
    blob.n = size - 10;
    ck_assert_int_eq(learn_catalog_open_memory(blob.p, blob.n, NULL, &cat, err, sizeof err), LEARN_ERR_FORMAT);
    test_blob_free(&blob);
    /* Another model: refused naming both fingerprints. */
    memcpy(&blob, &(test_blob){NULL, 0}, sizeof blob);
    cat_fixture g;
    cat_fixture_make(&g, 2, 8, 4, 10);
    ck_assert_int_eq(learn_catalog_open_memory(data, size, NULL, &cat, err, sizeof err), LEARN_OK);
    ck_assert_int_eq(learn_catalog_check_model(cat, g.model, NULL, err, sizeof err), LEARN_ERR_MISMATCH);
    ck_assert_msg(strstr(err, "another model"), "%s", err);
    {
        learn_catalog_info ci;
        learn_model_info mi;
        ck_assert_int_eq(learn_catalog_get_info(cat, &ci), LEARN_OK);
        ck_assert_int_eq(learn_model_get_info(g.model, &mi), LEARN_OK);
        char fa[32], fb[32];
        snprintf(fa, sizeof fa, "%016llx", (unsigned long long)ci.content_fingerprint);
        snprintf(fb, sizeof fb, "%016llx", (unsigned long long)mi.content_fingerprint);
        ck_assert_msg(strcmp(fa, fb) != 0 && strstr(err, fa) && strstr(err, fb), "%s", err);
    }
    learn_catalog_close(cat);
    cat_fixture_free(&g);
    /* Same model, other content dimension (a catalog stamped by this model's fingerprint but
       made of 32-float content, the LLM's being 64): refused naming both dimensions. */
    {
        test_llm t = {{0}, 0};
        learn_writer *mw = NULL;
        ck_assert_int_eq(learn_writer_new(NULL, &mw), LEARN_OK);
        test_rec_build(mw, &t, LEARN_TYPE_F32, 0);
        test_blob mb = test_blob_from_writer(mw);
        learn_model *m;
        ck_assert_int_eq(learn_model_open_memory(mb.p, mb.n, NULL, &m, err, sizeof err), LEARN_OK);
        learn_catalog_builder *b2;
        ck_assert_int_eq(learn_catalog_builder_new(m, 32, 4, &b2), LEARN_OK);
        float c32[32] = {1}, it4[4] = {1, 0, 0, 0};
        ck_assert_int_eq(learn_catalog_builder_add(b2, "A", 1, c32, it4), LEARN_OK);
        void *d2;
        size_t s2;
        ck_assert_int_eq(learn_catalog_builder_save_memory(b2, &d2, &s2), LEARN_OK);
        learn_catalog *c2;
        ck_assert_int_eq(learn_catalog_open_memory(d2, s2, NULL, &c2, err, sizeof err), LEARN_OK);
        ck_assert_int_eq(learn_catalog_check_model(c2, m, NULL, err, sizeof err), LEARN_ERR_MISMATCH);
        ck_assert_msg(strstr(err, "content dimension is 32, the model's 64"), "%s", err);
        learn_catalog_close(c2);
        learn_catalog_builder_free_buffer(b2, d2);
        learn_catalog_builder_free(b2);
        learn_model_close(m);
        test_blob_free(&mb);
        learn_writer_free(mw);
        test_llm_free(&t);
    }
    learn_catalog_builder_free_buffer(b, data);
    learn_catalog_builder_free(b);
    cat_fixture_free(&f);
}
END_TEST

/* learn_catalog_builder_new_like: a catalog's dimensions and both fingerprints (a model with
   towers), kept after the catalog is closed; the new catalog is no shard and passes the
   model's check. */
START_TEST(test_catalog_builder_like) {
    learn_writer *w;
    learn_writer_new(NULL, &w);
    static float x[32] = {1};
    uint64_t s[1] = {32};
    learn_writer_add_tensor(w, "content.x", LEARN_TYPE_F32, 1, s, x, 0);
    learn_writer_set_u32(w, "tower.seed", 5);
    test_blob mb = test_blob_from_writer(w);
    learn_writer_free(w);
    learn_model *m;
    ck_assert_int_eq(learn_model_open_memory(mb.p, mb.n, NULL, &m, NULL, 0), LEARN_OK);
    learn_model_info mi;
    learn_model_get_info(m, &mi);
    ck_assert(mi.content_fingerprint != 0 && mi.tower_fingerprint != 0);
    float content[6] = {1, 2, 3, 4, 5, 6}, item[2] = {0.6f, 0.8f};
    learn_catalog_builder *b;
    ck_assert_int_eq(learn_catalog_builder_new(m, 6, 2, &b), LEARN_OK);
    learn_catalog_shard shard = {0, 1, 1, 42, 0, 0};
    ck_assert_int_eq(learn_catalog_builder_set_shard(b, &shard), LEARN_OK);
    ck_assert_int_eq(learn_catalog_builder_add(b, "a", 1, content, item), LEARN_OK);
    void *d1, *d2;
    size_t n1, n2;
    ck_assert_int_eq(learn_catalog_builder_save_memory(b, &d1, &n1), LEARN_OK);
    learn_catalog *c1, *c2;
    ck_assert_int_eq(learn_catalog_open_memory(d1, n1, NULL, &c1, NULL, 0), LEARN_OK);
    learn_catalog_builder *like;
    ck_assert_int_eq(learn_catalog_builder_new_like(c1, &like), LEARN_OK);
    learn_catalog_info i1, i2;
    learn_catalog_get_info(c1, &i1);
    learn_catalog_close(c1);
    ck_assert_int_eq(learn_catalog_builder_add(like, "b", 1, content, item), LEARN_OK);
    ck_assert_int_eq(learn_catalog_builder_save_memory(like, &d2, &n2), LEARN_OK);
    ck_assert_int_eq(learn_catalog_open_memory(d2, n2, NULL, &c2, NULL, 0), LEARN_OK);
    learn_catalog_get_info(c2, &i2);
    ck_assert_uint_eq(i2.d_content, 6);
    ck_assert_uint_eq(i2.d_item, 2);
    ck_assert(i2.content_fingerprint == i1.content_fingerprint && i1.content_fingerprint == mi.content_fingerprint);
    ck_assert(i2.tower_fingerprint == i1.tower_fingerprint && i1.tower_fingerprint == mi.tower_fingerprint);
    int same = 0;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_msg(learn_catalog_check_model(c2, m, &same, err, sizeof err) == LEARN_OK, "%s", err);
    ck_assert_int_eq(same, 1);
    learn_catalog_shard got;
    ck_assert_int_eq(learn_catalog_get_shard(c2, &got), LEARN_ERR_NOT_FOUND);
    ck_assert_int_eq(learn_catalog_builder_count(like), 1);
    /* NULL arguments. */
    learn_catalog_builder *none = like;
    ck_assert_int_eq(learn_catalog_builder_new_like(NULL, &none), LEARN_ERR_ARG);
    ck_assert_ptr_null(none);
    ck_assert_int_eq(learn_catalog_builder_new_like(c2, NULL), LEARN_ERR_ARG);
    learn_catalog_close(c2);
    learn_catalog_builder_free_buffer(like, d2);
    learn_catalog_builder_free(like);
    learn_catalog_builder_free_buffer(b, d1);
    learn_catalog_builder_free(b);
    learn_model_close(m);
    test_blob_free(&mb);
}
END_TEST

static Suite *make_catalog_suite(void) {
    Suite *s = suite_create("catalog");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_catalog_roundtrip);
    tcase_add_test(tc, test_catalog_builder_like);
    tcase_add_test(tc, test_catalog_topk);
    tcase_add_test(tc, test_catalog_topk_threads);
    tcase_add_test(tc, test_catalog_topk_batch);
    suite_add_tcase(s, tc);
    TCase *bad = tcase_create("bad input");
    tcase_add_test(bad, test_catalog_bad);
    suite_add_tcase(s, bad);
    return s;
}
