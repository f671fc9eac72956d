/* Content embeddings against llama.cpp's outputs (../shared/assets/golden, see its README):
   the same token ids through the same weights must give cosine >= 0.9999 (F32/F16) or
   >= 0.999 (Q8_0/Q4_0) per item. */

/* Reads every `"embedding": [...]` array of a llama-embedding JSON output into one malloc'd
   array; returns the number of arrays (each of dimension *dim). */
static size_t golden_read_json(const char *path, size_t *dim, float **out) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = (char *)malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    size_t count = 0, cap = 0, total = 0;
    float *v = NULL;
    *dim = 0;
    for (char *p = strstr(s, "\"embedding\""); p; p = strstr(p, "\"embedding\"")) {
        p = strchr(p, '[') + 1;
        size_t d = 0;
        for (;;) {
            char *end;
            float x = strtof(p, &end);
            if (end == p) break;
            if (total == cap) {
                cap = cap ? cap * 2 : 4096;
                v = (float *)realloc(v, cap * sizeof *v);
            }
            v[total++] = x;
            d++;
            p = end;
            while (*p == ',' || *p == ' ' || *p == '\n') p++;
        }
        ck_assert(*dim == 0 || *dim == d);
        *dim = d;
        count++;
    }
    free(s);
    *out = v;
    return count;
}

/* Reads tokens.txt: one "[1, 2, 3]" line per text. */
static size_t golden_read_tokens(const char *path, int32_t **ids, size_t *lens, size_t max_items) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    char line[65536];
    size_t n = 0, total = 0;
    *ids = (int32_t *)malloc(65536 * sizeof(int32_t));
    while (n < max_items && fgets(line, sizeof line, f)) {
        char *p = strchr(line, '[');
        if (!p) continue;
        p++;
        lens[n] = 0;
        for (;;) {
            char *end;
            long x = strtol(p, &end, 10);
            if (end == p) break;
            (*ids)[total++] = (int32_t)x;
            lens[n]++;
            p = end;
            while (*p == ',' || *p == ' ') p++;
        }
        n++;
    }
    fclose(f);
    return n;
}

static double golden_cos(const float *a, const float *b, size_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
    return ab / sqrt(aa * bb);
}

/* Compares a model's embeddings of the golden token ids with one reference output. */
static void golden_compare(learn_model *m, const char *tokens_path, const char *json_path,
                           learn_pooling pool, int normalize, double min_cos) {
    int32_t *ids;
    size_t lens[64];
    size_t n = golden_read_tokens(tokens_path, &ids, lens, 64);
    size_t dim;
    float *ref;
    size_t n_ref = golden_read_json(json_path, &dim, &ref);
    learn_model_info info;
    learn_model_get_info(m, &info);
    ck_assert_uint_eq(dim, info.n_embd);
    learn_ctx_params p = learn_ctx_default_params();
    p.pooling = pool;
    p.normalize = normalize;
    learn_ctx *ctx;
    ck_assert_int_eq(learn_ctx_new(m, &p, &ctx), LEARN_OK);
    const int32_t *items[64];
    size_t off = 0, total = 0;
    for (size_t i = 0; i < n; i++) items[i] = ids + off, off += lens[i], total += lens[i];
    float *out = (float *)malloc(total * dim * sizeof(float));
    double worst = 1.0;
    if (pool == LEARN_POOLING_NONE) {
        ck_assert_uint_eq(n_ref, total); /* one reference row per token */
        size_t row = 0;
        for (size_t i = 0; i < n; i++) {
            size_t got;
            ck_assert_int_eq(learn_encode_ids_tokens(ctx, items[i], lens[i], out, &got), LEARN_OK);
            ck_assert_uint_eq(got, lens[i]);
            for (size_t t = 0; t < got; t++, row++)
                worst = fmin(worst, golden_cos(out + t * dim, ref + row * dim, dim));
        }
    } else {
        ck_assert_uint_eq(n_ref, n);
        ck_assert_int_eq(learn_encode_ids(ctx, n, items, lens, out), LEARN_OK);
        for (size_t i = 0; i < n; i++) {
            double c = golden_cos(out + i * dim, ref + i * dim, dim);
            worst = fmin(worst, c);
            if (normalize) { /* normalised outputs agree in absolute terms too */
                for (size_t e = 0; e < dim; e++)
                    ck_assert_msg(fabsf(out[i * dim + e] - ref[i * dim + e]) < 1e-3f, "item %zu", i);
            }
        }
    }
    printf("golden %s: %zu items, worst cosine %.7f\n", strrchr(json_path, '/') + 1, n, worst);
    ck_assert_msg(worst >= min_cos, "%s: worst cosine %.7f < %.4f", json_path, worst, min_cos);
    free(out);
    free(ref);
    free(ids);
    learn_ctx_free(ctx);
}

/* stories260K from the llama2.c checkpoint, against llama.cpp on stories260K.gguf. */
START_TEST(test_golden_stories_llama2c) {
    TEST_ASSET(ckpt, "llama2c/stories260K.bin");
    TEST_ASSET(tokens, "golden/out/stories260K.tokens.txt");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/golden/out", test_assets_dir());
    learn_writer *w;
    learn_writer_new(NULL, &w);
    convert_arena arena = {NULL, 0, 0};
    convert_opts opts = {LEARN_TYPE_F32, 0};
    char err[512];
    ck_assert_msg(convert_llama2c(ckpt, w, &arena, &opts, err, sizeof err) == 0, "%s", err);
    test_blob b = test_blob_from_writer(w);
    learn_model *m;
    ck_assert_int_eq(learn_model_open_memory(b.p, b.n, NULL, &m, err, sizeof err), LEARN_OK);
    static const struct {
        const char *file;
        learn_pooling pool;
        int normalize;
    } outs[] = {
        {"stories260K.mean.json", LEARN_POOLING_MEAN, 0},
        {"stories260K.mean.l2.json", LEARN_POOLING_MEAN, 1},
        {"stories260K.last.json", LEARN_POOLING_LAST, 0},
        {"stories260K.none.json", LEARN_POOLING_NONE, 0},
    };
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        char json[1200];
        snprintf(json, sizeof json, "%s/%s", dir, outs[i].file);
        golden_compare(m, tokens, json, outs[i].pool, outs[i].normalize, 0.9999);
    }
    learn_model_close(m);
    test_blob_free(&b);
    learn_writer_free(w);
    convert_arena_free(&arena);
}
END_TEST

/* Converts a golden GGUF model into memory. */
static learn_model *golden_gguf_model(const char *name, test_blob *b, learn_type type, int keep) {
    char rel[256];
    snprintf(rel, sizeof rel, "golden/models/%s.gguf", name);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", test_assets_dir(), rel);
    learn_writer *w;
    learn_writer_new(NULL, &w);
    convert_arena arena = {NULL, 0, 0};
    convert_opts opts = {type, keep};
    gguf_file *g;
    char err[512];
    ck_assert_msg(convert_gguf(path, w, &arena, &opts, &g, err, sizeof err) == 0, "%s", err);
    *b = test_blob_from_writer(w);
    learn_writer_free(w);
    convert_arena_free(&arena);
    gguf_close(g);
    learn_model *m;
    ck_assert_msg(learn_model_open_memory(b->p, b->n, NULL, &m, err, sizeof err) == LEARN_OK, "%s", err);
    return m;
}

static const struct {
    const char *model;
    double min_cos;
} golden_gguf[] = {
    {"llama-tiny-f16", 0.9999}, {"llama-tiny-q8_0", 0.999}, {"llama-tiny-q4_0", 0.999},
    {"qwen2-tiny-q8_0", 0.999}, {"stories260K", 0.9999},
};

/* Every golden GGUF, converted with its types kept, against llama.cpp's mean pooling. */
START_TEST(test_golden_gguf) {
    TEST_ASSET(gguf_path, "golden/models/llama-tiny-f16.gguf");
    (void)gguf_path;
    const char *name = golden_gguf[_i].model;
    char tokens[1024], json[1024];
    snprintf(tokens, sizeof tokens, "%s/golden/out/%s.tokens.txt", test_assets_dir(), name);
    snprintf(json, sizeof json, "%s/golden/out/%s.mean.json", test_assets_dir(), name);
    test_blob b;
    learn_model *m = golden_gguf_model(name, &b, LEARN_TYPE_Q8_0, 1);
    golden_compare(m, tokens, json, LEARN_POOLING_MEAN, 0, golden_gguf[_i].min_cos);
    if (strcmp(name, "llama-tiny-f16") == 0) {
        snprintf(json, sizeof json, "%s/golden/out/%s.none.json", test_assets_dir(), name);
        golden_compare(m, tokens, json, LEARN_POOLING_NONE, 0, 0.9999);
    }
    learn_model_close(m);
    test_blob_free(&b);
}
END_TEST

/* stories260K.gguf and stories260K.bin are the same weights: identical embeddings. */
START_TEST(test_golden_stories_two_formats) {
    TEST_ASSET(ckpt, "llama2c/stories260K.bin");
    TEST_ASSET(tokens, "golden/out/stories260K.tokens.txt");
    test_blob bg, bl;
    learn_model *mg = golden_gguf_model("stories260K", &bg, LEARN_TYPE_F32, 1);
    learn_writer *w;
    learn_writer_new(NULL, &w);
    convert_arena arena = {NULL, 0, 0};
    convert_opts opts = {LEARN_TYPE_F32, 0};
    char err[512];
    ck_assert_msg(convert_llama2c(ckpt, w, &arena, &opts, err, sizeof err) == 0, "%s", err);
    bl = test_blob_from_writer(w);
    learn_writer_free(w);
    convert_arena_free(&arena);
    learn_model *ml;
    ck_assert_int_eq(learn_model_open_memory(bl.p, bl.n, NULL, &ml, NULL, 0), LEARN_OK);
    int32_t *ids;
    size_t lens[64];
    size_t n = golden_read_tokens(tokens, &ids, lens, 64);
    const int32_t *items[64];
    size_t off = 0;
    for (size_t i = 0; i < n; i++) items[i] = ids + off, off += lens[i];
    float *a = (float *)malloc(n * 64 * sizeof(float)), *c = (float *)malloc(n * 64 * sizeof(float));
    learn_ctx *ca, *cc;
    ck_assert_int_eq(learn_ctx_new(mg, NULL, &ca), LEARN_OK);
    ck_assert_int_eq(learn_ctx_new(ml, NULL, &cc), LEARN_OK);
    ck_assert_int_eq(learn_encode_ids(ca, n, items, lens, a), LEARN_OK);
    ck_assert_int_eq(learn_encode_ids(cc, n, items, lens, c), LEARN_OK);
    ck_assert(memcmp(a, c, n * 64 * sizeof(float)) == 0);
    learn_ctx_free(ca);
    learn_ctx_free(cc);
    free(a);
    free(c);
    free(ids);
    learn_model_close(mg);
    learn_model_close(ml);
    test_blob_free(&bg);
    test_blob_free(&bl);
}
END_TEST

static Suite *make_golden_suite(void) {
    Suite *s = suite_create("golden");
    TCase *tc = tcase_create("llama.cpp");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_golden_stories_llama2c);
    tcase_add_loop_test(tc, test_golden_gguf, 0, sizeof golden_gguf / sizeof golden_gguf[0]);
    tcase_add_test(tc, test_golden_stories_two_formats);
    suite_add_tcase(s, tc);
    return s;
}
