/* The towers against the PyTorch reference (tests/fixtures/gen_towers.py), the incremental user
   state against full recomputation, the importer of official LEARN checkpoints (safetensors),
   the "w/o alignment" passthrough, and bad input. */
#include "safetensors.h"
#include "towers_import.h"

static const char *const towers_fixtures[] = {
    "tests/fixtures/towers-post-gelu-f32.learn",
    "tests/fixtures/towers-post-gelu-f16.learn",
    "tests/fixtures/towers-post-gelu-q8_0.learn",
    "tests/fixtures/towers-pre-tanh-pos-f32.learn",
    "tests/fixtures/towers-post-relu-1layer-f32.learn",
};
#define TOWERS_N_FIXTURES (sizeof towers_fixtures / sizeof towers_fixtures[0])

/* The test.* tensors of a fixture (see gen_towers.py). */
typedef struct towers_case {
    const float *content, *items, *users, *items_alt, *users_alt;
    const int32_t *hist, *lens;
    size_t n_content, d_in, d_out, n_users;
    const float *hist_rows[8]; /* per user: gathered content rows [len][d_in] (malloc'd) */
} towers_case;

static const float *towers_tensor(const learn_model *m, const char *name, size_t *d0, size_t *d1) {
    learn_tensor_info ti;
    if (learn_model_tensor_find(m, name, &ti) != LEARN_OK) return NULL;
    if (d0) *d0 = (size_t)ti.shape[0];
    if (d1) *d1 = (size_t)ti.shape[1];
    return (const float *)ti.data;
}

static void towers_case_load(towers_case *c, const learn_model *m, const char *alt_suffix) {
    memset(c, 0, sizeof *c);
    c->content = towers_tensor(m, "test.content", &c->n_content, &c->d_in);
    c->items = towers_tensor(m, "test.items", NULL, &c->d_out);
    c->users = towers_tensor(m, "test.users", &c->n_users, NULL);
    c->hist = (const int32_t *)towers_tensor(m, "test.hist", NULL, NULL);
    c->lens = (const int32_t *)towers_tensor(m, "test.hist_lens", NULL, NULL);
    ck_assert(c->content && c->items && c->users && c->hist && c->lens);
    ck_assert_uint_le(c->n_users, 8);
    if (alt_suffix) {
        char nm[64];
        snprintf(nm, sizeof nm, "test.items%s", alt_suffix);
        c->items_alt = towers_tensor(m, nm, NULL, NULL);
        snprintf(nm, sizeof nm, "test.users%s", alt_suffix);
        c->users_alt = towers_tensor(m, nm, NULL, NULL);
    }
    size_t off = 0;
    for (size_t u = 0; u < c->n_users; u++) {
        float *rows = (float *)malloc((size_t)c->lens[u] * c->d_in * sizeof(float));
        for (int32_t i = 0; i < c->lens[u]; i++)
            memcpy(rows + (size_t)i * c->d_in, c->content + (size_t)c->hist[off + (size_t)i] * c->d_in,
                   c->d_in * sizeof(float));
        c->hist_rows[u] = rows;
        off += (size_t)c->lens[u];
    }
}

static void towers_case_free(towers_case *c) {
    for (size_t u = 0; u < c->n_users; u++) free((void *)c->hist_rows[u]);
}

static double towers_max_err(const float *a, const float *b, size_t n) {
    double e = 0;
    for (size_t i = 0; i < n; i++) e = fmax(e, fabs((double)a[i] - (double)b[i]));
    return e;
}

static learn_ctx *towers_ctx(const learn_model *m) {
    learn_ctx_params p = learn_ctx_default_params();
    p.n_threads = 1;
    learn_ctx *ctx;
    ck_assert_int_eq(learn_ctx_new(m, &p, &ctx), LEARN_OK);
    return ctx;
}

/* Item and user embeddings of `model` on the case; returns the max abs error against the
   reference (alt = 0) or the alternative reference (alt = 1). */
static double towers_run_case(const learn_model *model, const towers_case *c, int alt) {
    learn_ctx *ctx = towers_ctx(model);
    learn_towers_info ti;
    ck_assert_int_eq(learn_towers_get_info(model, &ti), LEARN_OK);
    ck_assert_int_eq(ti.present, 1);
    ck_assert_uint_eq(ti.d_in, c->d_in);
    ck_assert_uint_eq(ti.d_out, c->d_out);
    float *items = (float *)malloc(c->n_content * c->d_out * sizeof(float));
    float user[256];
    ck_assert_uint_le(c->d_out, 256);
    ck_assert_int_eq(learn_item_embed(ctx, c->n_content, c->content, items), LEARN_OK);
    double err = towers_max_err(items, alt ? c->items_alt : c->items, c->n_content * c->d_out);
    for (size_t u = 0; u < c->n_users; u++) {
        learn_status st = learn_user_embed(ctx, (size_t)c->lens[u], c->hist_rows[u], user);
        ck_assert_msg(st == LEARN_OK, "%s", learn_ctx_errmsg(ctx));
        err = fmax(err, towers_max_err(user, (alt ? c->users_alt : c->users) + u * c->d_out,
                                       c->d_out));
    }
    free(items);
    learn_ctx_free(ctx);
    return err;
}

/* The bar against torch: 1e-4 for float weights; Q8_0 products quantize the activations to
   8 bits per block of 32 as well, so their bar is the 8-bit rounding of unit vectors. */
static double towers_bar(const char *fixture) { return strstr(fixture, "q8_0") ? 5e-2 : 1e-4; }

/* Every fixture against the float64 torch forward of the weights as stored; the f16/q8_0
   files also against the float32 weights (reported, not a bar). */
START_TEST(test_towers_match_torch) {
    char err[LEARN_ERRMSG_SIZE];
    learn_model *m;
    ck_assert_msg(learn_model_open(towers_fixtures[_i], NULL, &m, err, sizeof err) == LEARN_OK,
                  "%s", err);
    towers_case c;
    towers_case_load(&c, m, "_f32");
    double e = towers_run_case(m, &c, 0), e32 = towers_run_case(m, &c, 1);
    printf("towers %s: max abs error %.3g vs torch on the stored weights, %.3g vs the float32 "
           "weights\n",
           towers_fixtures[_i] + 15, e, e32);
    ck_assert_msg(e <= towers_bar(towers_fixtures[_i]), "%s: max abs error %g", towers_fixtures[_i], e);
    towers_case_free(&c);
    learn_model_close(m);
}
END_TEST

/* Appending items one by one gives learn_user_embed of the prefix, to 1e-5. */
START_TEST(test_towers_incremental) {
    char err[LEARN_ERRMSG_SIZE];
    learn_model *m;
    ck_assert_msg(learn_model_open(towers_fixtures[_i], NULL, &m, err, sizeof err) == LEARN_OK,
                  "%s", err);
    towers_case c;
    towers_case_load(&c, m, NULL);
    learn_ctx *ctx = towers_ctx(m);
    learn_user_state *s;
    ck_assert_int_eq(learn_user_state_new(ctx, 64, &s), LEARN_OK);
    float inc[256], full[256];
    double worst = 0;
    for (size_t u = 0; u < c.n_users; u++) {
        learn_user_state_reset(s);
        ck_assert_int_eq(learn_user_state_embedding(s, inc), LEARN_ERR_STATE);
        for (int32_t k = 1; k <= c.lens[u]; k++) {
            ck_assert_int_eq(learn_user_state_append(ctx, s, c.hist_rows[u] + (size_t)(k - 1) * c.d_in),
                             LEARN_OK);
            ck_assert_uint_eq(learn_user_state_len(s), (uint32_t)k);
            ck_assert_int_eq(learn_user_state_embedding(s, inc), LEARN_OK);
            ck_assert_int_eq(learn_user_embed(ctx, (size_t)k, c.hist_rows[u], full), LEARN_OK);
            worst = fmax(worst, towers_max_err(inc, full, c.d_out));
        }
        ck_assert_msg(towers_max_err(inc, c.users + u * c.d_out, c.d_out) <= towers_bar(towers_fixtures[_i]),
                      "user %zu vs torch", u);
    }
    ck_assert_msg(worst <= 1e-5, "%s: incremental vs full: %g", towers_fixtures[_i], worst);
    learn_user_state_free(s);
    learn_ctx_free(ctx);
    towers_case_free(&c);
    learn_model_close(m);
}
END_TEST

/* History longer than the window: the most recent items are kept, by learn_user_embed (the
   model's tower.max_history) and by a state (its max_len), which then recomputes. */
START_TEST(test_towers_window) {
    char err[LEARN_ERRMSG_SIZE];
    learn_model *m;
    ck_assert_msg(learn_model_open("tests/fixtures/towers-pre-tanh-pos-f32.learn", NULL, &m, err,
                                   sizeof err) == LEARN_OK, "%s", err);
    towers_case c;
    towers_case_load(&c, m, NULL);
    learn_towers_info ti;
    learn_towers_get_info(m, &ti);
    ck_assert_uint_eq(ti.max_history, 40);
    ck_assert_uint_eq(ti.max_positions, 48);
    learn_ctx *ctx = towers_ctx(m);
    size_t n = 45; /* content rows 0..44 as a history */
    float a[256], b[256];
    ck_assert_int_eq(learn_user_embed(ctx, n, c.content, a), LEARN_OK);
    ck_assert_int_eq(learn_user_embed(ctx, 40, c.content + 5 * c.d_in, b), LEARN_OK);
    ck_assert(memcmp(a, b, c.d_out * sizeof(float)) == 0);
    learn_user_state *s;
    ck_assert_int_eq(learn_user_state_new(ctx, 0, &s), LEARN_OK); /* 0: the model's 40 */
    for (size_t i = 0; i < n; i++) ck_assert_int_eq(learn_user_state_append(ctx, s, c.content + i * c.d_in), LEARN_OK);
    ck_assert_uint_eq(learn_user_state_len(s), 40);
    ck_assert_int_eq(learn_user_state_embedding(s, b), LEARN_OK);
    ck_assert(towers_max_err(a, b, c.d_out) <= 1e-5);
    learn_user_state_free(s);
    /* A smaller window than the model's. */
    ck_assert_int_eq(learn_user_state_new(ctx, 3, &s), LEARN_OK);
    for (size_t i = 0; i < 10; i++) ck_assert_int_eq(learn_user_state_append(ctx, s, c.content + i * c.d_in), LEARN_OK);
    ck_assert_int_eq(learn_user_state_embedding(s, a), LEARN_OK);
    ck_assert_int_eq(learn_user_embed(ctx, 3, c.content + 7 * c.d_in, b), LEARN_OK);
    ck_assert(towers_max_err(a, b, c.d_out) <= 1e-5);
    learn_user_state_free(s);
    learn_ctx_free(ctx);
    towers_case_free(&c);
    learn_model_close(m);
}
END_TEST

/* Imports a safetensors file into a tower model in memory. */
static learn_model *towers_import_to_model(const safetensors_file *f, const towers_import_options *o,
                                           towers_import_result *res, test_blob *blob) {
    learn_writer *w;
    char err[256];
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    learn_status st = towers_import(f, o, w, res, err, sizeof err);
    ck_assert_msg(st == LEARN_OK, "import: %s", err);
    *blob = test_blob_from_writer(w);
    learn_writer_free(w);
    learn_model *m;
    ck_assert_msg(learn_model_open_memory(blob->p, blob->n, NULL, &m, err, sizeof err) == LEARN_OK,
                  "%s", err);
    return m;
}

/* The official module's state dict (small shapes), f32 with a "module." prefix and bf16
   without, imports and matches torch. */
START_TEST(test_towers_import_official) {
    char err[256];
    learn_model *ref;
    ck_assert_msg(learn_model_open("tests/fixtures/towers-official.ref.learn", NULL, &ref, err,
                                   sizeof err) == LEARN_OK, "%s", err);
    const char *files[] = {"tests/fixtures/towers-official-f32.safetensors",
                           "tests/fixtures/towers-official-bf16.safetensors"};
    for (int k = 0; k < 2; k++) {
        towers_case c;
        towers_case_load(&c, ref, "_bf16");
        safetensors_file *f;
        ck_assert_msg(safetensors_open(files[k], &f, err, sizeof err) == LEARN_OK, "%s", err);
        ck_assert_str_eq(k ? "" : "pt", k ? "" : safetensors_metadata(f, "format"));
        towers_import_options o = towers_import_default_options();
        o.n_head = 4;
        towers_import_result res;
        test_blob blob;
        learn_model *m = towers_import_to_model(f, &o, &res, &blob);
        ck_assert_str_eq(res.prefix, k ? "" : "module.");
        ck_assert_uint_eq(res.shape.n_layer, 2);
        ck_assert_uint_eq(res.shape.d_ff, 128);
        ck_assert_uint_eq(res.n_ignored, 0);
        double e = towers_run_case(m, &c, k);
        printf("towers import %s: max abs error %.3g vs torch\n", files[k] + 15, e);
        ck_assert_msg(e <= 1e-4, "%s: %g", files[k], e);
        learn_model_close(m);
        test_blob_free(&blob);
        safetensors_close(f);
        towers_case_free(&c);
    }
    learn_model_close(ref);
}
END_TEST

/* ---- bert-base shapes (768 hidden, 12 heads, 3072 ff), 2 layers: the state dict is written
   here from the seed, byte for byte as gen_towers.py writes it (checked by XXH64). ---- */

static double towers_splitmix_u(uint64_t seed, uint64_t i) {
    uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 40) * 0x1p-24 * 2.0 - 1.0;
}

static int towers_strcmp_p(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Writes the bert-base PreferenceAlignmentModule state dict (d_in 64, d_out 32); returns its
   bytes (malloc'd). */
static uint8_t *towers_bertbase_blob(uint64_t seed, size_t *size) {
    enum { L = 2, D = 768, F = 3072, DIN = 64, DOUT = 32 };
    char names[64][96];
    uint64_t shapes[64][2];
    int nd[64], n = 0;
#define TB_ADD(nm, a, b)                                                                          \
    do {                                                                                          \
        snprintf(names[n], sizeof names[n], "%s", nm);                                            \
        shapes[n][0] = (a), shapes[n][1] = (b), nd[n] = (b) ? 2 : 1;                              \
        n++;                                                                                      \
    } while (0)
    TB_ADD("adaptor.weight", D, DIN);
    TB_ADD("adaptor.bias", D, 0);
    TB_ADD("mlp.0.weight", DOUT, D);
    TB_ADD("mlp.0.bias", DOUT, 0);
    for (int l = 0; l < L; l++) {
        const struct { const char *k; uint64_t a, b; } lay[] = {
            {"attention.self.query.weight", D, D}, {"attention.self.query.bias", D, 0},
            {"attention.self.key.weight", D, D},   {"attention.self.key.bias", D, 0},
            {"attention.self.value.weight", D, D}, {"attention.self.value.bias", D, 0},
            {"attention.output.dense.weight", D, D}, {"attention.output.dense.bias", D, 0},
            {"attention.output.LayerNorm.weight", D, 0}, {"attention.output.LayerNorm.bias", D, 0},
            {"intermediate.dense.weight", F, D},   {"intermediate.dense.bias", F, 0},
            {"output.dense.weight", D, F},         {"output.dense.bias", D, 0},
            {"output.LayerNorm.weight", D, 0},     {"output.LayerNorm.bias", D, 0}};
        for (size_t k = 0; k < sizeof lay / sizeof lay[0]; k++) {
            char nm[96];
            snprintf(nm, sizeof nm, "summary_encoder.layer.%d.%s", l, lay[k].k);
            TB_ADD(nm, lay[k].a, lay[k].b);
        }
    }
#undef TB_ADD
    const char *sorted[64];
    for (int i = 0; i < n; i++) sorted[i] = names[i];
    qsort(sorted, (size_t)n, sizeof sorted[0], towers_strcmp_p);
    char *hdr = (char *)malloc(16384);
    size_t hl = (size_t)snprintf(hdr, 16384, "{\"__metadata__\":{\"format\":\"pt\"}");
    uint64_t off = 0, start = 0;
    for (int s = 0; s < n; s++) {
        int i = (int)((const char(*)[96])sorted[s] - names);
        uint64_t cnt = shapes[i][0] * (nd[i] == 2 ? shapes[i][1] : 1);
        if (nd[i] == 2)
            hl += (size_t)snprintf(hdr + hl, 16384 - hl,
                                   ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%llu,%llu],"
                                   "\"data_offsets\":[%llu,%llu]}",
                                   names[i], (unsigned long long)shapes[i][0],
                                   (unsigned long long)shapes[i][1], (unsigned long long)off,
                                   (unsigned long long)(off + cnt * 4));
        else
            hl += (size_t)snprintf(hdr + hl, 16384 - hl,
                                   ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%llu],"
                                   "\"data_offsets\":[%llu,%llu]}",
                                   names[i], (unsigned long long)shapes[i][0],
                                   (unsigned long long)off, (unsigned long long)(off + cnt * 4));
        off += cnt * 4;
    }
    hdr[hl++] = '}';
    while (hl % 8) hdr[hl++] = ' ';
    *size = 8 + hl + (size_t)off;
    uint8_t *blob = (uint8_t *)malloc(*size);
    for (int b = 0; b < 8; b++) blob[b] = (uint8_t)((uint64_t)hl >> (8 * b));
    memcpy(blob + 8, hdr, hl);
    free(hdr);
    float *data = (float *)(void *)(blob + 8 + hl); /* hl % 8 == 0: aligned */
    for (int s = 0; s < n; s++) {
        int i = (int)((const char(*)[96])sorted[s] - names);
        uint64_t cnt = shapes[i][0] * (nd[i] == 2 ? shapes[i][1] : 1);
        const char *k = names[i];
        size_t kl = strlen(k);
        int is_w = kl > 6 && strcmp(k + kl - 6, "weight") == 0;
        for (uint64_t j = 0; j < cnt; j++) {
            double u = towers_splitmix_u(seed, start + j), v;
            if (strstr(k, "LayerNorm")) v = is_w ? 1.0 + 0.1 * u : 0.05 * u;
            else if (!is_w) v = 0.02 * u;
            else v = 0.04 * u;
            data[j] = (float)v;
        }
        data += cnt;
        start += cnt;
    }
    return blob;
}

START_TEST(test_towers_import_bertbase) {
    char err[256];
    learn_model *ref;
    ck_assert_msg(learn_model_open("tests/fixtures/towers-bertbase.ref.learn", NULL, &ref, err,
                                   sizeof err) == LEARN_OK, "%s", err);
    uint32_t seed;
    uint64_t want_hash, want_size;
    ck_assert_int_eq(learn_model_meta_u32(ref, "test.seed", &seed), LEARN_OK);
    ck_assert_int_eq(learn_model_meta_u64(ref, "test.xxh64", &want_hash), LEARN_OK);
    ck_assert_int_eq(learn_model_meta_u64(ref, "test.size", &want_size), LEARN_OK);
    size_t size;
    uint8_t *blob = towers_bertbase_blob(seed, &size);
    ck_assert_uint_eq(size, want_size);
    ck_assert_msg(learn_xxh64(blob, size, 0) == want_hash,
                  "the state dict written here differs from gen_towers.py's");
    const char *path = test_tmp_path("bertbase.safetensors");
    FILE *fp = fopen(path, "wb");
    ck_assert(fp && fwrite(blob, 1, size, fp) == size);
    fclose(fp);
    free(blob);
    safetensors_file *f;
    ck_assert_msg(safetensors_open(path, &f, err, sizeof err) == LEARN_OK, "%s", err);
    towers_case c;
    towers_case_load(&c, ref, NULL);
    towers_import_result res;
    test_blob mb;
    learn_model *m = towers_import_to_model(f, NULL, &res, &mb); /* bert-base defaults */
    ck_assert_uint_eq(res.shape.d_model, 768);
    ck_assert_uint_eq(res.shape.n_head, 12);
    ck_assert_uint_eq(res.shape.d_ff, 3072);
    ck_assert_uint_eq(res.shape.n_layer, 2);
    double e = towers_run_case(m, &c, 0);
    printf("towers import bert-base 2-layer: max abs error %.3g vs torch\n", e);
    ck_assert_msg(e <= 1e-4, "%g", e);
    learn_model_close(m);
    test_blob_free(&mb);
    safetensors_close(f);
    unlink(path);
    towers_case_free(&c);
    learn_model_close(ref);
}
END_TEST

/* No towers: item = L2(content), user = L2(mean of L2(contents)), d_out = n_embd. */
START_TEST(test_towers_passthrough) {
    char err[LEARN_ERRMSG_SIZE];
    learn_model *m;
    ck_assert_msg(learn_model_open("tests/fixtures/llm-llama-f32.learn", NULL, &m, err, sizeof err) ==
                  LEARN_OK, "%s", err);
    learn_towers_info ti;
    ck_assert_int_eq(learn_towers_get_info(m, &ti), LEARN_OK);
    ck_assert_int_eq(ti.present, 0);
    ck_assert_uint_eq(ti.d_in, 64);
    ck_assert_uint_eq(ti.d_out, 64);
    learn_ctx *ctx = towers_ctx(m);
    test_rng r = {7};
    float x[3 * 64], out[3 * 64], ref[64], u[64];
    test_fill_normal(&r, x, 3 * 64, 2.0);
    ck_assert_int_eq(learn_item_embed(ctx, 3, x, out), LEARN_OK);
    for (int i = 0; i < 3; i++) {
        double ss = 0;
        for (int e = 0; e < 64; e++) ss += (double)x[i * 64 + e] * x[i * 64 + e];
        for (int e = 0; e < 64; e++) ck_assert(fabs(out[i * 64 + e] - x[i * 64 + e] / sqrt(ss)) < 1e-6);
    }
    for (int e = 0; e < 64; e++) ref[e] = (out[e] + out[64 + e] + out[128 + e]) / 3;
    double ss = 0;
    for (int e = 0; e < 64; e++) ss += (double)ref[e] * ref[e];
    ck_assert_int_eq(learn_user_embed(ctx, 3, x, u), LEARN_OK);
    for (int e = 0; e < 64; e++) ck_assert(fabs(u[e] - ref[e] / sqrt(ss)) < 1e-6);
    learn_user_state *s;
    ck_assert_int_eq(learn_user_state_new(ctx, 0, &s), LEARN_ERR_ARG); /* no max_history */
    ck_assert_int_eq(learn_user_state_new(ctx, 2, &s), LEARN_OK);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(learn_user_state_append(ctx, s, x + i * 64), LEARN_OK);
    ck_assert_int_eq(learn_user_state_embedding(s, ref), LEARN_OK);
    ck_assert_int_eq(learn_user_embed(ctx, 2, x + 64, u), LEARN_OK);
    ck_assert(towers_max_err(ref, u, 64) < 1e-6);
    learn_user_state_free(s);
    learn_ctx_free(ctx);
    learn_model_close(m);
}
END_TEST

/* ---- Bad input ---- */

/* A writer holding every metadata entry and tensor of the given models except test.* and
   `skip` (tensor data borrowed). */
static learn_writer *towers_copy(const learn_model *const *models, int n, const char *skip) {
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    for (int k = 0; k < n; k++) {
        learn_model_info info;
        ck_assert_int_eq(learn_model_get_info(models[k], &info), LEARN_OK);
        for (uint32_t i = 0; i < info.n_meta; i++) {
            learn_meta_info mi;
            ck_assert_int_eq(learn_model_meta(models[k], i, &mi), LEARN_OK);
            if (strncmp(mi.key, "general.fingerprint", 19) && strncmp(mi.key, "test.", 5))
                ck_assert_int_eq(learn_writer_copy_meta(w, models[k], mi.key), LEARN_OK);
        }
        for (uint32_t i = 0; i < info.n_tensors; i++) {
            learn_tensor_info t;
            ck_assert_int_eq(learn_model_tensor(models[k], i, &t), LEARN_OK);
            if (strncmp(t.name, "test.", 5) == 0 || (skip && strcmp(t.name, skip) == 0)) continue;
            ck_assert_int_eq(learn_writer_add_tensor(w, t.name, t.type, t.n_dims, t.shape, t.data, 0),
                             LEARN_OK);
        }
    }
    return w;
}

/* Opens what w holds; returns the status and leaves the message in err. */
static learn_status towers_try_open(learn_writer *w, char *err, size_t errn) {
    test_blob b = test_blob_from_writer(w);
    learn_model *m = NULL;
    learn_status st = learn_model_open_memory(b.p, b.n, NULL, &m, err, errn);
    learn_model_close(m);
    test_blob_free(&b);
    learn_writer_free(w);
    return st;
}

#define TOWERS_EXPECT(w, status, ...)                                                             \
    do {                                                                                          \
        char err_[LEARN_ERRMSG_SIZE];                                                             \
        learn_status st_ = towers_try_open((w), err_, sizeof err_);                               \
        ck_assert_msg(st_ == (status), "status %d (%s)", st_, err_);                             \
        const char *subs_[] = {__VA_ARGS__};                                                      \
        for (size_t i_ = 0; i_ < sizeof subs_ / sizeof subs_[0]; i_++)                            \
            ck_assert_msg(strstr(err_, subs_[i_]), "'%s' not in: %s", subs_[i_], err_);           \
    } while (0)

START_TEST(test_towers_bad_model) {
    char err[LEARN_ERRMSG_SIZE];
    learn_model *tm, *lm;
    ck_assert(learn_model_open(towers_fixtures[0], NULL, &tm, err, sizeof err) == LEARN_OK);
    ck_assert(learn_model_open("tests/fixtures/llm-llama-f32.learn", NULL, &lm, err, sizeof err) ==
              LEARN_OK);
    const learn_model *both[2] = {lm, tm}, *one[1] = {tm};
    /* LLM + towers with the same d_in (64) open. */
    TOWERS_EXPECT(towers_copy(both, 2, NULL), LEARN_OK, "");
    /* d_in differs from the LLM's n_embd: both numbers named. */
    learn_writer *w = towers_copy(both, 2, NULL);
    learn_writer_set_u32(w, "tower.d_in", 32);
    TOWERS_EXPECT(w, LEARN_ERR_MISMATCH, "tower.d_in' = 32", "= 64");
    /* A missing tensor, named. */
    TOWERS_EXPECT(towers_copy(one, 1, "tower.blk.1.ffn_norm.bias"), LEARN_ERR_FORMAT,
                  "tower.blk.1.ffn_norm.bias", "missing");
    /* A wrong shape: ffn_up stored as [64, 64] instead of [128, 64]. */
    w = towers_copy(one, 1, "tower.blk.0.ffn_up.weight");
    static float zeros[128 * 64];
    uint64_t sh[2] = {64, 64};
    learn_writer_add_tensor(w, "tower.blk.0.ffn_up.weight", LEARN_TYPE_F32, 2, sh, zeros, 0);
    TOWERS_EXPECT(w, LEARN_ERR_FORMAT, "tower.blk.0.ffn_up.weight", "[64, 64]", "[128, 64]");
    /* A bias stored as f16. */
    w = towers_copy(one, 1, "tower.proj.bias");
    uint64_t s1 = 32;
    learn_writer_add_tensor(w, "tower.proj.bias", LEARN_TYPE_F16, 1, &s1, zeros, 0);
    TOWERS_EXPECT(w, LEARN_ERR_FORMAT, "tower.proj.bias", "f16");
    /* A tensor the schema does not have (a third layer when n_layer = 2). */
    w = towers_copy(one, 1, NULL);
    learn_writer_add_tensor(w, "tower.blk.2.attn_q.bias", LEARN_TYPE_F32, 1, sh, zeros, 0);
    TOWERS_EXPECT(w, LEARN_ERR_FORMAT, "tower.blk.2.attn_q.bias", "not part");
    /* Nor a layer number with a leading zero, a final LayerNorm in a post-LN tower, positions
       without tower.max_positions: only what the schema resolved is accepted. */
    static const char *const unused[] = {"tower.blk.01.attn_q.bias", "tower.out_norm.weight", "tower.pos_embd.weight"};
    for (int i = 0; i < 3; i++) {
        w = towers_copy(one, 1, NULL);
        learn_writer_add_tensor(w, unused[i], LEARN_TYPE_F32, 1, sh, zeros, 0);
        TOWERS_EXPECT(w, LEARN_ERR_FORMAT, unused[i], "not part of the tower schema");
    }
    /* Heads that do not divide d_model; a bad activation; eps out of range. */
    w = towers_copy(one, 1, NULL);
    learn_writer_set_u32(w, "tower.n_head", 5);
    TOWERS_EXPECT(w, LEARN_ERR_FORMAT, "tower.n_head' = 5", "64");
    w = towers_copy(one, 1, NULL);
    learn_writer_set_str(w, "tower.act", "swish", 5);
    TOWERS_EXPECT(w, LEARN_ERR_FORMAT, "tower.act", "swish");
    w = towers_copy(one, 1, NULL);
    learn_writer_set_f32(w, "tower.eps", -1.0f);
    TOWERS_EXPECT(w, LEARN_ERR_FORMAT, "tower.eps");
    w = towers_copy(one, 1, NULL);
    learn_writer_set_u32(w, "tower.n_layer", 100000);
    TOWERS_EXPECT(w, LEARN_ERR_FORMAT, "tower.n_layer", "100000");
    /* Tower tensors without tower metadata. */
    w = towers_copy(one, 1, NULL);
    learn_writer_remove_meta(w, "tower.d_in");
    TOWERS_EXPECT(w, LEARN_ERR_FORMAT, "tower.adaptor.weight", "tower.d_in", "missing");
    /* max_history beyond max_positions. */
    w = towers_copy(one, 1, NULL);
    learn_writer_set_u32(w, "tower.max_positions", 8);
    TOWERS_EXPECT(w, LEARN_ERR_FORMAT, "tower.pos_embd.weight", "missing");
    learn_model_close(tm);
    learn_model_close(lm);
}
END_TEST

START_TEST(test_towers_bad_calls) {
    char err[LEARN_ERRMSG_SIZE];
    learn_model *m, *m2;
    ck_assert(learn_model_open(towers_fixtures[0], NULL, &m, err, sizeof err) == LEARN_OK);
    ck_assert(learn_model_open(towers_fixtures[1], NULL, &m2, err, sizeof err) == LEARN_OK);
    towers_case c;
    towers_case_load(&c, m, NULL);
    learn_ctx *ctx = towers_ctx(m), *ctx2 = towers_ctx(m2);
    float out[64 * 32], *x = (float *)malloc(4 * c.d_in * sizeof(float));
    memcpy(x, c.content, 4 * c.d_in * sizeof(float));
    /* Empty history: a clear error, no NaN. */
    ck_assert_int_eq(learn_user_embed(ctx, 0, x, out), LEARN_ERR_ARG);
    ck_assert(strstr(learn_ctx_errmsg(ctx), "empty history"));
    ck_assert_int_eq(learn_user_embed(ctx, 1, NULL, out), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_item_embed(ctx, 1, x, NULL), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_item_embed(ctx, 0, NULL, NULL), LEARN_OK);
    /* NaN and Inf content, named. */
    x[2 * c.d_in + 5] = NAN;
    ck_assert_int_eq(learn_item_embed(ctx, 4, x, out), LEARN_ERR_NUMERIC);
    ck_assert(strstr(learn_ctx_errmsg(ctx), "item 2: content element 5 is NaN"));
    ck_assert_int_eq(learn_user_embed(ctx, 4, x, out), LEARN_ERR_NUMERIC);
    ck_assert(strstr(learn_ctx_errmsg(ctx), "history item 2"));
    ck_assert_int_eq(learn_user_embed(ctx, 1, x + 3 * c.d_in, out), LEARN_OK); /* NaN not read */
    x[2 * c.d_in + 5] = INFINITY;
    ck_assert_int_eq(learn_item_embed(ctx, 4, x, out), LEARN_ERR_NUMERIC);
    ck_assert(strstr(learn_ctx_errmsg(ctx), "Inf"));
    /* A state refuses NaN without changing, and a context of another model. */
    learn_user_state *s;
    ck_assert_int_eq(learn_user_state_new(ctx, 4, &s), LEARN_OK);
    ck_assert_int_eq(learn_user_state_append(ctx, s, x), LEARN_OK);
    ck_assert_int_eq(learn_user_state_append(ctx, s, x + 2 * c.d_in), LEARN_ERR_NUMERIC);
    ck_assert_uint_eq(learn_user_state_len(s), 1);
    ck_assert_int_eq(learn_user_state_append(ctx2, s, x), LEARN_ERR_MISMATCH);
    ck_assert_uint_eq(learn_user_state_len(s), 1);
    ck_assert_int_eq(learn_user_state_new(ctx, 4, NULL), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_user_state_embedding(NULL, out), LEARN_ERR_ARG);
    learn_user_state_free(s);
    learn_user_state_free(NULL);
    learn_user_state_reset(NULL);
    /* A model with neither towers nor an LLM: the content dimension is unknown. */
    learn_writer *w;
    learn_writer_new(NULL, &w);
    learn_writer_set_str(w, "general.name", "empty", 5);
    test_blob b = test_blob_from_writer(w);
    learn_writer_free(w);
    learn_model *me;
    ck_assert(learn_model_open_memory(b.p, b.n, NULL, &me, err, sizeof err) == LEARN_OK);
    learn_ctx *ce = towers_ctx(me);
    ck_assert_int_eq(learn_item_embed(ce, 1, x, out), LEARN_ERR_STATE);
    ck_assert_int_eq(learn_user_embed(ce, 1, x, out), LEARN_ERR_STATE);
    ck_assert_int_eq(learn_user_state_new(ce, 4, &s), LEARN_ERR_STATE);
    learn_ctx_free(ce);
    learn_model_close(me);
    test_blob_free(&b);
    free(x);
    towers_case_free(&c);
    learn_ctx_free(ctx);
    learn_ctx_free(ctx2);
    learn_model_close(m);
    learn_model_close(m2);
}
END_TEST

/* Every allocation failure in open, embed and the state is clean (the counting allocator
   finds leaks). */
START_TEST(test_towers_oom) {
    char err[LEARN_ERRMSG_SIZE];
    towers_case c;
    learn_model *ref;
    ck_assert(learn_model_open(towers_fixtures[3], NULL, &ref, err, sizeof err) == LEARN_OK);
    towers_case_load(&c, ref, NULL);
    int done = 0;
    for (long n = 1; !done && n < 200; n++) {
        test_counting cnt = {0, 0, n};
        learn_model_params mp = learn_model_default_params();
        mp.allocator = test_counting_allocator(&cnt);
        learn_model *m = NULL;
        learn_ctx *ctx = NULL;
        learn_user_state *s = NULL;
        float out[64 * 32];
        learn_status st = learn_model_open(towers_fixtures[3], &mp, &m, err, sizeof err);
        if (!st) st = learn_ctx_new(m, NULL, &ctx);
        if (!st) st = learn_item_embed(ctx, 8, c.content, out);
        if (!st) st = learn_user_embed(ctx, 5, c.content, out);
        if (!st) st = learn_user_state_new(ctx, 8, &s);
        if (!st) st = learn_user_state_append(ctx, s, c.content);
        ck_assert(st == LEARN_OK || st == LEARN_ERR_NOMEM);
        done = st == LEARN_OK;
        learn_user_state_free(s);
        learn_ctx_free(ctx);
        learn_model_close(m);
        ck_assert_int_eq(cnt.live, 0);
    }
    ck_assert(done);
    towers_case_free(&c);
    learn_model_close(ref);
}
END_TEST

/* ---- safetensors reader: hostile headers ---- */

/* A file of one F32 tensor "w" [2] with the given header (padded to 8) and data bytes. */
static learn_status towers_st_try(const char *json, size_t data_bytes, char *err, size_t errn) {
    size_t hl = strlen(json), size = 8 + hl + data_bytes;
    uint8_t *p = (uint8_t *)calloc(1, size);
    for (int b = 0; b < 8; b++) p[b] = (uint8_t)((uint64_t)hl >> (8 * b));
    memcpy(p + 8, json, hl);
    safetensors_file *f = NULL;
    learn_status st = safetensors_open_memory(p, size, &f, err, errn);
    safetensors_close(f);
    free(p);
    return st;
}

START_TEST(test_towers_safetensors_bad) {
    char err[256];
    const struct {
        const char *json;
        size_t data;
        const char *expect; /* NULL: must open */
    } cases[] = {
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, NULL},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}   ", 8, NULL},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "need 12"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8, "not within"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "not within"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 16, "cover 8 of the 16"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlap"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}}", 8, "appears twice"},
        {"{\"w\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "Q4"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "non-negative"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8, "non-negative"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[18446744073709551616],\"data_offsets\":[0,8]}}", 8,
         "overflows"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967297],\"data_offsets\":[0,8]}}", 8,
         "overflows"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
         "more than 8"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets' is missing"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8, "'x'"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8, "3 values"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, "expected"},
        {"{\"w\\u0000\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "NUL"},
        {"{\"w\\ud800\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "surrogate"},
        {"{\"w\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "UTF-8"},
        {"{\"w\xc0\x80\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "UTF-8"},
        {"{\"__metadata__\":{\"a\":1}}", 0, "must be a string"},
        {"[]", 0, "not a JSON object"},
        {"{} x", 0, "after the end"},
        {"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 0, "not within"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = 0;
        learn_status st = towers_st_try(cases[i].json, cases[i].data, err, sizeof err);
        if (!cases[i].expect)
            ck_assert_msg(st == LEARN_OK, "case %zu: %s", i, err);
        else
            ck_assert_msg(st != LEARN_OK && strstr(err, cases[i].expect),
                          "case %zu: status %d, message '%s' lacks '%s'", i, st, err,
                          cases[i].expect);
    }
    /* Header lengths past the file, huge, and files shorter than 8 bytes. */
    uint8_t p[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    safetensors_file *f;
    ck_assert_int_eq(safetensors_open_memory(p, 16, &f, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert(strstr(err, "header length"));
    ck_assert_int_eq(safetensors_open_memory(p, 5, &f, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert_int_eq(safetensors_open_memory(p, 0, &f, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert_int_eq(safetensors_open("/nonexistent.safetensors", &f, err, sizeof err), LEARN_ERR_IO);
    /* Deeply nested garbage does not recurse: refused at the first unexpected token. */
    char deep[4096];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = 0;
    ck_assert_int_ne(towers_st_try(deep, 0, err, sizeof err), LEARN_OK);
}
END_TEST

/* Import refusals: d_in vs the LLM, heads, missing/odd tensors, dtype. */
START_TEST(test_towers_import_bad) {
    char err[256];
    safetensors_file *f;
    ck_assert(safetensors_open("tests/fixtures/towers-official-f32.safetensors", &f, err,
                               sizeof err) == LEARN_OK);
    learn_model *llm;
    ck_assert(learn_model_open("tests/fixtures/llm-llama-f32.learn", NULL, &llm, err, sizeof err) ==
              LEARN_OK);
    learn_writer *w;
    learn_writer_new(NULL, &w);
    towers_import_options o = towers_import_default_options();
    /* 12 heads do not divide 64. */
    ck_assert_int_eq(towers_import(f, &o, w, NULL, err, sizeof err), LEARN_ERR_ARG);
    ck_assert(strstr(err, "12 heads") && strstr(err, "64"));
    o.n_head = 4;
    o.llm = llm; /* n_embd 64 = d_in: fine */
    ck_assert_msg(towers_import(f, &o, w, NULL, err, sizeof err) == LEARN_OK, "%s", err);
    learn_writer_free(w);
    o.weight_type = LEARN_TYPE_Q8_0;
    learn_writer_new(NULL, &w);
    ck_assert_msg(towers_import(f, &o, w, NULL, err, sizeof err) == LEARN_OK, "%s", err);
    learn_writer_free(w);
    o.act = "swish";
    learn_writer_new(NULL, &w);
    ck_assert_int_eq(towers_import(f, &o, w, NULL, err, sizeof err), LEARN_ERR_ARG);
    learn_writer_free(w);
    safetensors_close(f);
    /* A checkpoint whose d_in (48) is not the LLM's n_embd (64): both named. */
    const char *j48 = "{\"adaptor.weight\":{\"dtype\":\"F32\",\"shape\":[4,48],\"data_offsets\":[0,768]}}";
    size_t hl = strlen(j48);
    uint8_t *p = (uint8_t *)calloc(1, 8 + hl + 768);
    p[0] = (uint8_t)hl;
    memcpy(p + 8, j48, hl);
    ck_assert(safetensors_open_memory(p, 8 + hl + 768, &f, err, sizeof err) == LEARN_OK);
    o = towers_import_default_options();
    o.n_head = 2;
    o.llm = llm;
    learn_writer_new(NULL, &w);
    ck_assert_int_eq(towers_import(f, &o, w, NULL, err, sizeof err), LEARN_ERR_MISMATCH);
    ck_assert_msg(strstr(err, "d_in = 48") && strstr(err, "n_embd = 64"), "%s", err);
    /* Without the LLM check: the next problem is the missing projection. */
    o.llm = NULL;
    ck_assert_int_eq(towers_import(f, &o, w, NULL, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert_msg(strstr(err, "mlp.0.weight") && strstr(err, "missing"), "%s", err);
    learn_writer_free(w);
    safetensors_close(f);
    free(p);
    /* Not a LEARN state dict at all. */
    const char *jx = "{\"encoder.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    hl = strlen(jx);
    p = (uint8_t *)calloc(1, 8 + hl + 4);
    p[0] = (uint8_t)hl;
    memcpy(p + 8, jx, hl);
    ck_assert(safetensors_open_memory(p, 8 + hl + 4, &f, err, sizeof err) == LEARN_OK);
    learn_writer_new(NULL, &w);
    ck_assert_int_eq(towers_import(f, NULL, w, NULL, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert(strstr(err, "adaptor.weight"));
    learn_writer_free(w);
    safetensors_close(f);
    free(p);
    learn_model_close(llm);
}
END_TEST

static Suite *make_towers_suite(void) {
    Suite *s = suite_create("towers");
    TCase *tc = tcase_create("torch reference");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_towers_match_torch, 0, TOWERS_N_FIXTURES);
    tcase_add_loop_test(tc, test_towers_incremental, 0, TOWERS_N_FIXTURES);
    tcase_add_test(tc, test_towers_window);
    tcase_add_test(tc, test_towers_import_official);
    tcase_add_test(tc, test_towers_import_bertbase);
    tcase_add_test(tc, test_towers_passthrough);
    suite_add_tcase(s, tc);
    TCase *bad = tcase_create("bad input");
    tcase_set_timeout(bad, 120);
    tcase_add_test(bad, test_towers_bad_model);
    tcase_add_test(bad, test_towers_bad_calls);
    tcase_add_test(bad, test_towers_oom);
    tcase_add_test(bad, test_towers_safetensors_bad);
    tcase_add_test(bad, test_towers_import_bad);
    suite_add_tcase(s, bad);
    return s;
}
