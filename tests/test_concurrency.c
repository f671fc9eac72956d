/* Concurrency (RELIABILITY.md D): one model and one catalog shared by N threads, each with its
   own context (some with a thread pool of their own), tokenizing, encoding texts and ids,
   embedding items and users (whole and incremental) and ranking the catalog at the same time;
   every result must be bit-identical to the same work done serially. The normal runner runs it
   as is; tests/tsan.sh builds it alone under ThreadSanitizer (tests/tsan_main.c). */

#include <pthread.h>

#define CONC_THREADS 4
#define CONC_ROUNDS 3
#define CONC_TEXTS 6
#define CONC_ITEMS 24

static const char *const conc_texts[CONC_TEXTS] = {
    "Title: Acme Trail Tent. Brand: Acme. Category: Camping",
    "Title: Juniper Green Tea. Brand: Juniper. Category: Tea",
    "Title: Zephyr Runners - Sand. Brand: Zephyr. Category: Running Shoes",
    "Title: Kestrel Headphones - Ocean Blue. Brand: Kestrel. Category: Headphones",
    "the quick brown fox jumps over the lazy dog",
    "caf\xc3\xa9 0123456789 \xe4\xb8\xad",
};

/* What one job computes. */
typedef struct conc_out {
    int32_t ids[CONC_TEXTS][96];
    size_t n_ids[CONC_TEXTS];
    float content[CONC_TEXTS * 64], from_ids[CONC_TEXTS * 64], items[CONC_TEXTS * 16];
    float user[16], incremental[16];
    learn_hit hits[8];
    size_t n_hits;
} conc_out;

typedef struct conc_job {
    const learn_model *model;
    const learn_catalog *cat;
    int seed, ctx_threads;
    conc_out out;
    learn_status st;
    char err[LEARN_ERRMSG_SIZE];
} conc_job;

/* The work of one thread; seed rotates the texts and the history so that jobs differ. */
static void conc_run(conc_job *j) {
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = j->ctx_threads;
    learn_ctx *ctx = NULL;
    learn_user_state *us = NULL;
    conc_out *o = &j->out;
    const char *texts[CONC_TEXTS];
    for (int i = 0; i < CONC_TEXTS; i++) texts[i] = conc_texts[(i + j->seed) % CONC_TEXTS];
#define CONC_TRY(call)                                                                            \
    do {                                                                                          \
        if ((j->st = (call)) != LEARN_OK) goto out;                                               \
    } while (0)
    CONC_TRY(learn_ctx_new(j->model, &cp, &ctx));
    for (int r = 0; r < CONC_ROUNDS; r++) {
        const int32_t *rows[CONC_TEXTS];
        for (int i = 0; i < CONC_TEXTS; i++) {
            CONC_TRY(learn_tokenize(ctx, texts[i], strlen(texts[i]), LEARN_TOKENIZE_ADD_SPECIAL, o->ids[i], 96,
                                    &o->n_ids[i]));
            rows[i] = o->ids[i];
        }
        CONC_TRY(learn_encode(ctx, CONC_TEXTS, texts, NULL, o->content));
        CONC_TRY(learn_encode_ids(ctx, CONC_TEXTS, rows, o->n_ids, o->from_ids));
        CONC_TRY(learn_item_embed(ctx, CONC_TEXTS, o->content, o->items));
        /* A history of catalog items, its user embedding, the top 8 without the history. */
        float hist[5 * 64];
        uint32_t excl[5];
        for (int h = 0; h < 5; h++) {
            excl[h] = (uint32_t)((j->seed * 7 + h * 5) % CONC_ITEMS);
            CONC_TRY(learn_catalog_content(j->cat, excl[h], hist + h * 64));
        }
        CONC_TRY(learn_user_embed(ctx, 5, hist, o->user));
        CONC_TRY(learn_catalog_topk(ctx, j->cat, o->user, 8, excl, 5, o->hits, &o->n_hits));
        CONC_TRY(learn_user_state_new(ctx, 0, &us));
        for (int h = 0; h < 5; h++) CONC_TRY(learn_user_state_append(ctx, us, hist + h * 64));
        CONC_TRY(learn_user_state_embedding(us, o->incremental));
        learn_user_state_free(us);
        us = NULL;
    }
out:
#undef CONC_TRY
    if (j->st) snprintf(j->err, sizeof j->err, "%s", ctx ? learn_ctx_errmsg(ctx) : "learn_ctx_new failed");
    learn_user_state_free(us);
    learn_ctx_free(ctx);
}

static void *conc_thread(void *arg) {
    conc_run((conc_job *)arg);
    return NULL;
}

START_TEST(test_concurrent_encode_recommend) {
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    test_llm t = {{0}, 0};
    test_rec_build(w, &t, LEARN_TYPE_Q8_0, 1);
    test_blob blob = test_blob_from_writer(w);
    learn_writer_free(w);
    test_llm_free(&t);
    learn_model *m;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_msg(learn_model_open_memory(blob.p, blob.n, NULL, &m, err, sizeof err) == LEARN_OK, "%s", err);
    /* The shared catalog: items made of the texts, built serially. */
    learn_ctx *ctx;
    ck_assert_int_eq(learn_ctx_new(m, NULL, &ctx), LEARN_OK);
    learn_catalog_builder *b;
    ck_assert_int_eq(learn_catalog_builder_new(m, 64, 16, &b), LEARN_OK);
    for (int i = 0; i < CONC_ITEMS; i++) {
        char text[160], id[32];
        snprintf(text, sizeof text, "%s %d", conc_texts[i % CONC_TEXTS], i);
        const char *tp = text;
        float content[64], item[16];
        ck_assert_msg(learn_encode(ctx, 1, &tp, NULL, content) == LEARN_OK, "%s", learn_ctx_errmsg(ctx));
        ck_assert_int_eq(learn_item_embed(ctx, 1, content, item), LEARN_OK);
        snprintf(id, sizeof id, "i%02d", i);
        ck_assert_int_eq(learn_catalog_builder_add(b, id, strlen(id), content, item), LEARN_OK);
    }
    learn_ctx_free(ctx);
    void *mem;
    size_t size;
    ck_assert_int_eq(learn_catalog_builder_save_memory(b, &mem, &size), LEARN_OK);
    learn_catalog *cat;
    ck_assert_int_eq(learn_catalog_open_memory(mem, size, NULL, &cat, err, sizeof err), LEARN_OK);
    /* Serially, then all at once. */
    static conc_job serial[CONC_THREADS], par[CONC_THREADS];
    for (int i = 0; i < CONC_THREADS; i++) {
        memset(&serial[i], 0, sizeof serial[i]);
        serial[i].model = m, serial[i].cat = cat, serial[i].seed = i, serial[i].ctx_threads = 1 + i % 2;
        par[i] = serial[i];
        conc_run(&serial[i]);
        ck_assert_msg(serial[i].st == LEARN_OK, "serial job %d: %s", i, serial[i].err);
    }
    pthread_t th[CONC_THREADS];
    for (int i = 0; i < CONC_THREADS; i++) ck_assert_int_eq(pthread_create(&th[i], NULL, conc_thread, &par[i]), 0);
    for (int i = 0; i < CONC_THREADS; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < CONC_THREADS; i++) {
        ck_assert_msg(par[i].st == LEARN_OK, "thread %d: %s", i, par[i].err);
        ck_assert_msg(memcmp(&par[i].out, &serial[i].out, sizeof par[i].out) == 0,
                      "thread %d: results differ from the serial run", i);
        ck_assert_uint_eq(par[i].out.n_hits, 8);
    }
    learn_catalog_close(cat);
    learn_catalog_builder_free_buffer(b, mem);
    learn_catalog_builder_free(b);
    learn_model_close(m);
    test_blob_free(&blob);
}
END_TEST

static Suite *make_concurrency_suite(void) {
    Suite *s = suite_create("concurrency");
    TCase *tc = tcase_create("shared model");
    tcase_set_timeout(tc, 600); /* ThreadSanitizer is slow */
    tcase_add_test(tc, test_concurrent_encode_recommend);
    suite_add_tcase(s, tc);
    return s;
}
