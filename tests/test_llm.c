/* The LLM content encoder against the float64 numpy forward (tests/fixtures/gen_llm.py) and
   its own invariants: batching, pooling, truncation, bad ids. */

static const char *const llm_fixtures[] = {
    "tests/fixtures/llm-llama-f32.learn", "tests/fixtures/llm-llama-q8_0.learn",
    "tests/fixtures/llm-llama-q4_0.learn", "tests/fixtures/llm-qwen2-f16.learn",
    "tests/fixtures/llm-qwen3-bf16.learn",
};
#define LLM_N_FIXTURES (sizeof llm_fixtures / sizeof llm_fixtures[0])

typedef struct llm_case {
    learn_model *m;
    const int32_t *ids;   /* all items' ids */
    const int32_t *lens;  /* per item */
    const float *states;  /* [T][E] expected final states */
    size_t n_items, T, E;
    const int32_t *item_ids[16];
    size_t item_n[16];
} llm_case;

static void llm_case_open(llm_case *c, const char *path) {
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_msg(learn_model_open(path, NULL, &c->m, err, sizeof err) == LEARN_OK, "%s", err);
    learn_tensor_info ids, lens, states;
    ck_assert_int_eq(learn_model_tensor_find(c->m, "test.ids", &ids), LEARN_OK);
    ck_assert_int_eq(learn_model_tensor_find(c->m, "test.lens", &lens), LEARN_OK);
    ck_assert_int_eq(learn_model_tensor_find(c->m, "test.states", &states), LEARN_OK);
    c->ids = (const int32_t *)ids.data;
    c->lens = (const int32_t *)lens.data;
    c->states = (const float *)states.data;
    c->n_items = (size_t)lens.shape[0];
    c->T = (size_t)states.shape[0];
    c->E = (size_t)states.shape[1];
    ck_assert_uint_le(c->n_items, 16);
    size_t off = 0;
    for (size_t i = 0; i < c->n_items; i++) {
        c->item_ids[i] = c->ids + off;
        c->item_n[i] = (size_t)c->lens[i];
        off += c->item_n[i];
    }
    ck_assert_uint_eq(off, c->T);
}

/* Q8_0/Q4_0 products quantize the activations to 8 bits as well (as llama.cpp does): those
   fixtures are held to llama.cpp's agreement bar instead of float tolerances. */
static int llm_quantized(const char *fixture) { return strstr(fixture, "q8_0") || strstr(fixture, "q4_0"); }

static learn_ctx *llm_ctx(const learn_model *m, uint32_t batch, learn_pooling pool, int normalize) {
    learn_ctx_params p = learn_ctx_default_params();
    p.batch_tokens = batch;
    p.pooling = pool;
    p.normalize = normalize;
    p.n_threads = 1;
    learn_ctx *ctx;
    ck_assert_int_eq(learn_ctx_new(m, &p, &ctx), LEARN_OK);
    return ctx;
}

/* Per-token states match the numpy forward. */
START_TEST(test_llm_states_match_numpy) {
    llm_case c;
    llm_case_open(&c, llm_fixtures[_i]);
    learn_ctx *ctx = llm_ctx(c.m, 0, LEARN_POOLING_NONE, 0);
    float *out = (float *)malloc(c.T * c.E * sizeof *out);
    size_t off = 0;
    double max_err = 0, max_ref = 0, worst_cos = 1;
    for (size_t i = 0; i < c.n_items; i++) {
        size_t n;
        ck_assert_int_eq(learn_encode_ids_tokens(ctx, c.item_ids[i], c.item_n[i], out, &n), LEARN_OK);
        ck_assert_uint_eq(n, c.item_n[i]);
        for (size_t k = 0; k < n * c.E; k++) {
            max_err = fmax(max_err, fabs((double)out[k] - c.states[off * c.E + k]));
            max_ref = fmax(max_ref, fabs((double)c.states[off * c.E + k]));
        }
        for (size_t t = 0; t < n; t++) {
            double ab = 0, aa = 0, bb = 0;
            for (size_t e = 0; e < c.E; e++) {
                double x = out[t * c.E + e], y = c.states[(off + t) * c.E + e];
                ab += x * y, aa += x * x, bb += y * y;
            }
            worst_cos = fmin(worst_cos, ab / sqrt(aa * bb));
        }
        off += n;
    }
    if (llm_quantized(llm_fixtures[_i])) /* activations are quantized too: llama.cpp's bar */
        ck_assert_msg(worst_cos >= 0.999, "%s: worst cosine %.6f", llm_fixtures[_i], worst_cos);
    else
        ck_assert_msg(max_err <= 2e-5 * max_ref, "%s: max abs error %g (max |ref| %g)",
                      llm_fixtures[_i], max_err, max_ref);
    free(out);
    learn_ctx_free(ctx);
    learn_model_close(c.m);
}
END_TEST

/* Mean pooling (+L2) of the numpy states, and last-token pooling; independent of batching. */
START_TEST(test_llm_pooling_and_batching) {
    llm_case c;
    llm_case_open(&c, llm_fixtures[_i]);
    float *ref_mean = (float *)calloc(c.n_items * c.E, sizeof(float));
    float *ref_last = (float *)calloc(c.n_items * c.E, sizeof(float));
    size_t off = 0;
    for (size_t i = 0; i < c.n_items; i++) {
        double ss = 0;
        for (size_t e = 0; e < c.E; e++) {
            double sum = 0;
            for (size_t p = 0; p < c.item_n[i]; p++) sum += c.states[(off + p) * c.E + e];
            ref_mean[i * c.E + e] = (float)(sum / (double)c.item_n[i]);
            ss += (double)ref_mean[i * c.E + e] * ref_mean[i * c.E + e];
            ref_last[i * c.E + e] = c.states[(off + c.item_n[i] - 1) * c.E + e];
        }
        for (size_t e = 0; e < c.E; e++) ref_mean[i * c.E + e] /= (float)sqrt(ss);
        off += c.item_n[i];
    }
    /* Batches of 31 tokens (one item at a time at most), 40, and everything at once. */
    const uint32_t batches[] = {31, 40, 4096};
    float *out[3];
    for (int b = 0; b < 3; b++) {
        learn_ctx *ctx = llm_ctx(c.m, batches[b], LEARN_POOLING_MODEL, -1);
        out[b] = (float *)malloc(c.n_items * c.E * sizeof(float));
        ck_assert_int_eq(learn_encode_ids(ctx, c.n_items, c.item_ids, c.item_n, out[b]), LEARN_OK);
        learn_encode_stats st = {0};
        learn_ctx_encode_stats(ctx, &st);
        ck_assert_uint_eq(st.n_items, c.n_items);
        ck_assert_uint_eq(st.n_tokens, c.T);
        ck_assert_uint_eq(st.n_truncated, 0);
        /* The products' multiply-accumulates: per token and layer, Q, K, V, the output, gate,
           up and down; their time is part of the forward passes'. */
        learn_model_info mi;
        learn_model_get_info(c.m, &mi);
        uint64_t q = (uint64_t)mi.n_head * mi.head_dim, kv = (uint64_t)mi.n_head_kv * mi.head_dim;
        uint64_t per_token = (uint64_t)mi.n_layer * mi.n_embd * (2 * q + 2 * kv + 3 * (uint64_t)mi.n_ff);
        ck_assert_uint_eq(st.n_macs, per_token * c.T);
        ck_assert_uint_gt(st.ns_matmul, 0);
        ck_assert_uint_le(st.ns_matmul, st.ns_forward);
        learn_ctx_free(ctx);
        float tol = llm_quantized(llm_fixtures[_i]) ? 2e-2f : 1e-5f;
        for (size_t k = 0; k < c.n_items * c.E; k++)
            ck_assert_msg(fabsf(out[b][k] - ref_mean[k]) < tol, "%s batch %u elem %zu: %g vs %g",
                          llm_fixtures[_i], batches[b], k, out[b][k], ref_mean[k]);
    }
    ck_assert(memcmp(out[0], out[1], c.n_items * c.E * sizeof(float)) == 0);
    ck_assert(memcmp(out[0], out[2], c.n_items * c.E * sizeof(float)) == 0);
    learn_ctx *ctx = llm_ctx(c.m, 0, LEARN_POOLING_LAST, 0);
    ck_assert_int_eq(learn_encode_ids(ctx, c.n_items, c.item_ids, c.item_n, out[0]), LEARN_OK);
    float tol = llm_quantized(llm_fixtures[_i]) ? 0.2f : 2e-5f;
    for (size_t k = 0; k < c.n_items * c.E; k++)
        ck_assert_msg(fabsf(out[0][k] - ref_last[k]) < tol * (1 + fabsf(ref_last[k])), "last %zu", k);
    learn_ctx_free(ctx);
    for (int b = 0; b < 3; b++) free(out[b]);
    free(ref_mean);
    free(ref_last);
    learn_model_close(c.m);
}
END_TEST

START_TEST(test_llm_bad_input) {
    llm_case c;
    llm_case_open(&c, llm_fixtures[0]);
    learn_ctx *ctx = llm_ctx(c.m, 0, LEARN_POOLING_MODEL, -1);
    float out[4 * 64];
    int32_t bad[3] = {1, 48, 2};
    const int32_t *items[2] = {c.item_ids[0], bad};
    size_t ns[2] = {1, 3};
    ck_assert_int_eq(learn_encode_ids(ctx, 2, items, ns, out), LEARN_ERR_ARG);
    ck_assert_msg(strstr(learn_ctx_errmsg(ctx), "item 1: token 1 is id 48, outside 0..47"), "%s",
                  learn_ctx_errmsg(ctx));
    bad[1] = -1;
    ck_assert_int_eq(learn_encode_ids(ctx, 2, items, ns, out), LEARN_ERR_ARG);
    ns[1] = 0;
    ck_assert_int_eq(learn_encode_ids(ctx, 2, items, ns, out), LEARN_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(learn_ctx_errmsg(ctx), "item 1 has no tokens"));
    ck_assert_int_eq(learn_encode_ids(ctx, 0, NULL, NULL, NULL), LEARN_OK);
    ck_assert_int_eq(learn_encode_ids(ctx, 1, NULL, ns, out), LEARN_ERR_ARG);
    learn_ctx_free(ctx);
    ctx = llm_ctx(c.m, 0, LEARN_POOLING_NONE, 0);
    ck_assert_int_eq(learn_encode_ids(ctx, 1, items, ns, out), LEARN_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(learn_ctx_errmsg(ctx), "learn_encode_ids_tokens"));
    learn_ctx_free(ctx);
    learn_model_close(c.m);
    /* A model without an LLM. */
    learn_writer *w;
    learn_writer_new(NULL, &w);
    test_blob b = test_blob_from_writer(w);
    learn_model *m;
    ck_assert_int_eq(learn_model_open_memory(b.p, b.n, NULL, &m, NULL, 0), LEARN_OK);
    ctx = llm_ctx(m, 0, LEARN_POOLING_MODEL, -1);
    ck_assert_int_eq(learn_encode_ids(ctx, 1, items, ns, out), LEARN_ERR_STATE);
    learn_ctx_free(ctx);
    learn_model_close(m);
    test_blob_free(&b);
    learn_writer_free(w);
}
END_TEST

/* Items longer than encoder.max_tokens are cut, counted, and equal the cut item. */
START_TEST(test_llm_truncation) {
    learn_writer *w;
    learn_writer_new(NULL, &w);
    test_llm t = {{0}, 0};
    test_llm_opts o;
    memset(&o, 0, sizeof o);
    test_llm_build(w, &t, &o);
    learn_writer_set_u32(w, "encoder.max_tokens", 8);
    test_blob b = test_blob_from_writer(w);
    learn_model *m;
    ck_assert_int_eq(learn_model_open_memory(b.p, b.n, NULL, &m, NULL, 0), LEARN_OK);
    learn_ctx *ctx = llm_ctx(m, 0, LEARN_POOLING_MODEL, -1);
    int32_t ids[20];
    for (int i = 0; i < 20; i++) ids[i] = (i * 7) % 32;
    const int32_t *items[2] = {ids, ids};
    size_t ns[2] = {20, 8};
    float out[2 * 64];
    ck_assert_int_eq(learn_encode_ids(ctx, 2, items, ns, out), LEARN_OK);
    ck_assert(memcmp(out, out + 64, 64 * sizeof(float)) == 0);
    learn_encode_stats st;
    learn_ctx_encode_stats(ctx, &st);
    ck_assert_uint_eq(st.n_truncated, 1);
    ck_assert_uint_eq(st.n_tokens, 16);
    learn_ctx_free(ctx);
    learn_model_close(m);
    /* max_tokens above the context length is refused at open. */
    learn_writer_set_u32(w, "encoder.max_tokens", 257);
    test_blob b2 = test_blob_from_writer(w);
    ck_assert_open_fails(&b2, LEARN_ERR_FORMAT, "'encoder.max_tokens' = 257 is outside 1..256");
    learn_writer_set_u32(w, "encoder.max_tokens", 8);
    learn_writer_set_str(w, "encoder.pooling", "max", 3);
    test_blob b3 = test_blob_from_writer(w);
    ck_assert_open_fails(&b3, LEARN_ERR_FORMAT, "'encoder.pooling'");
    test_blob_free(&b);
    test_blob_free(&b2);
    test_blob_free(&b3);
    learn_writer_free(w);
    test_llm_free(&t);
}
END_TEST

/* Embeddings are bit-identical for 1, 2 and 3 threads, and with each kernel level against
   itself (the per-ISA results differ only by float rounding). */
START_TEST(test_llm_threads_bit_identical) {
    llm_case c;
    llm_case_open(&c, llm_fixtures[_i]);
    float *out[3];
    for (int nt = 1; nt <= 3; nt++) {
        learn_ctx_params p = learn_ctx_default_params();
        p.n_threads = nt;
        p.batch_tokens = 40;
        learn_ctx *ctx;
        ck_assert_int_eq(learn_ctx_new(c.m, &p, &ctx), LEARN_OK);
        out[nt - 1] = (float *)malloc(c.n_items * c.E * sizeof(float));
        ck_assert_int_eq(learn_encode_ids(ctx, c.n_items, c.item_ids, c.item_n, out[nt - 1]), LEARN_OK);
        learn_ctx_free(ctx);
    }
    ck_assert(memcmp(out[0], out[1], c.n_items * c.E * sizeof(float)) == 0);
    ck_assert(memcmp(out[0], out[2], c.n_items * c.E * sizeof(float)) == 0);
    /* The scalar kernels agree with the SIMD ones to float rounding. */
    learn_ctx_params p = learn_ctx_default_params();
    p.isa = "scalar";
    learn_ctx *ctx;
    ck_assert_int_eq(learn_ctx_new(c.m, &p, &ctx), LEARN_OK);
    ck_assert_str_eq(learn_ctx_isa(ctx), "scalar");
    float *sc = (float *)malloc(c.n_items * c.E * sizeof(float));
    ck_assert_int_eq(learn_encode_ids(ctx, c.n_items, c.item_ids, c.item_n, sc), LEARN_OK);
    for (size_t k = 0; k < c.n_items * c.E; k++) ck_assert_msg(fabsf(sc[k] - out[0][k]) < 1e-4f, "%zu", k);
    learn_ctx_free(ctx);
    free(sc);
    /* A level this CPU lacks is refused with a reason. */
    char why[256];
    learn_status st = learn_isa_check("neon", why, sizeof why);
    if (st != LEARN_OK) {
        p.isa = "neon";
        ck_assert_int_eq(learn_ctx_new(c.m, &p, &ctx), st);
        ck_assert_ptr_nonnull(strstr(why, "neon"));
    }
    ck_assert_int_eq(learn_isa_check("sse9", why, sizeof why), LEARN_ERR_ARG);
    for (int i = 0; i < 3; i++) free(out[i]);
    learn_model_close(c.m);
}
END_TEST

/* learn_l2_normalize: unit length with the arithmetic of the embeddings the library returns
   (a pooled embedding equals its own normalisation), a zero vector kept, non-finite input
   refused untouched. */
START_TEST(test_llm_l2_normalize) {
    float x[5] = {3, 0, -4, 0, 0}, z[3] = {0, 0, 0};
    ck_assert_int_eq(learn_l2_normalize(x, 5), LEARN_OK);
    ck_assert(x[0] == 0.6f && x[2] == -0.8f && x[1] == 0 && x[4] == 0);
    ck_assert_int_eq(learn_l2_normalize(z, 3), LEARN_OK);
    ck_assert(z[0] == 0 && z[1] == 0 && z[2] == 0);
    float bad[3] = {1, NAN, 2}, inf[2] = {INFINITY, 1};
    ck_assert_int_eq(learn_l2_normalize(bad, 3), LEARN_ERR_NUMERIC);
    ck_assert(bad[0] == 1 && bad[2] == 2);
    ck_assert_int_eq(learn_l2_normalize(inf, 2), LEARN_ERR_NUMERIC);
    ck_assert(inf[1] == 1);
    ck_assert_int_eq(learn_l2_normalize(NULL, 0), LEARN_OK);
    ck_assert_int_eq(learn_l2_normalize(NULL, 2), LEARN_ERR_ARG);
    /* A context's normalised embeddings are its unnormalised ones through learn_l2_normalize,
       bit for bit. */
    llm_case c;
    llm_case_open(&c, llm_fixtures[0]);
    learn_ctx *ctx = llm_ctx(c.m, 0, LEARN_POOLING_MEAN, 1);
    float *out = (float *)malloc(c.n_items * c.E * sizeof(float)), *again = (float *)malloc(c.E * sizeof(float));
    ck_assert_int_eq(learn_encode_ids(ctx, c.n_items, c.item_ids, c.item_n, out), LEARN_OK);
    for (size_t i = 0; i < c.n_items; i++) {
        learn_ctx *raw = llm_ctx(c.m, 0, LEARN_POOLING_MEAN, 0);
        ck_assert_int_eq(learn_encode_ids(raw, 1, &c.item_ids[i], &c.item_n[i], again), LEARN_OK);
        learn_ctx_free(raw);
        ck_assert_int_eq(learn_l2_normalize(again, c.E), LEARN_OK);
        ck_assert(memcmp(again, out + i * c.E, c.E * sizeof(float)) == 0);
    }
    free(out);
    free(again);
    learn_ctx_free(ctx);
    learn_model_close(c.m);
}
END_TEST

static Suite *make_llm_suite(void) {
    Suite *s = suite_create("llm");
    TCase *tc = tcase_create("numpy reference");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_llm_states_match_numpy, 0, LLM_N_FIXTURES);
    tcase_add_loop_test(tc, test_llm_pooling_and_batching, 0, LLM_N_FIXTURES);
    tcase_add_loop_test(tc, test_llm_threads_bit_identical, 0, LLM_N_FIXTURES);
    suite_add_tcase(s, tc);
    TCase *bad = tcase_create("bad input");
    tcase_add_test(bad, test_llm_bad_input);
    tcase_add_test(bad, test_llm_truncation);
    tcase_add_test(bad, test_llm_l2_normalize);
    suite_add_tcase(s, bad);
    return s;
}
