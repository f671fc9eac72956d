/* Converter pieces: ggml dequantizers on hand-built blocks (values worked out from the block
   layouts of ggml-common.h), requantization round trips. */

static void conv_put_f16(uint8_t *p, float f) {
    uint16_t h = learn_f32_to_f16(f);
    p[0] = (uint8_t)h;
    p[1] = (uint8_t)(h >> 8);
}

START_TEST(test_dequant_small_blocks) {
    uint8_t b[64];
    float y[32];
    /* Q4_1: d = 0.5, m = -1, nibble j = j % 16 (low), 15 - j % 16 (high). */
    memset(b, 0, sizeof b);
    conv_put_f16(b, 0.5f);
    conv_put_f16(b + 2, -1.0f);
    for (int j = 0; j < 16; j++) b[4 + j] = (uint8_t)(j | ((15 - j) << 4));
    ck_assert_int_eq(convert_ggml_dequantize(3, b, y, 32), 0);
    for (int j = 0; j < 16; j++) {
        ck_assert(y[j] == 0.5f * (float)j - 1.0f);
        ck_assert(y[j + 16] == 0.5f * (float)(15 - j) - 1.0f);
    }
    /* Q5_0: d = 0.25, qh bit j set for j = 3 and j = 20; qs = 0x21 everywhere. */
    memset(b, 0, sizeof b);
    conv_put_f16(b, 0.25f);
    uint32_t qh = (1u << 3) | (1u << 20);
    memcpy(b + 2, &qh, 4);
    for (int j = 0; j < 16; j++) b[6 + j] = 0x21;
    ck_assert_int_eq(convert_ggml_dequantize(6, b, y, 32), 0);
    ck_assert(y[0] == 0.25f * (1 - 16));
    ck_assert(y[3] == 0.25f * (1 + 16 - 16));
    ck_assert(y[16] == 0.25f * (2 - 16));
    ck_assert(y[20] == 0.25f * (2 + 16 - 16));
    /* Q5_1: d = 1, m = 0.5, the same bits: values are q + m. */
    memset(b, 0, sizeof b);
    conv_put_f16(b, 1.0f);
    conv_put_f16(b + 2, 0.5f);
    memcpy(b + 4, &qh, 4);
    for (int j = 0; j < 16; j++) b[8 + j] = 0x21;
    ck_assert_int_eq(convert_ggml_dequantize(7, b, y, 32), 0);
    ck_assert(y[0] == 1.5f && y[3] == 17.5f && y[16] == 2.5f && y[20] == 18.5f);
    /* Unknown types and partial blocks are refused. */
    ck_assert_int_ne(convert_ggml_dequantize(16, b, y, 32), 0);
    ck_assert_int_ne(convert_ggml_dequantize(3, b, y, 31), 0);
}
END_TEST

START_TEST(test_dequant_k_blocks) {
    uint8_t b[256];
    float y[256];
    /* Q4_K (144 bytes): d = 2, dmin = 1; sub-block scales 1..8 and mins 0..7 in the 12-byte
       6-bit packing; all quants 3 (low nibble) and 5 (high nibble). */
    memset(b, 0, sizeof b);
    conv_put_f16(b, 2.0f);
    conv_put_f16(b + 2, 1.0f);
    int sc[8] = {1, 2, 3, 4, 5, 6, 7, 8}, mn[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    uint8_t *s = b + 4;
    for (int j = 0; j < 4; j++) s[j] = (uint8_t)sc[j], s[j + 4] = (uint8_t)mn[j];
    for (int j = 4; j < 8; j++) s[j + 4] = (uint8_t)((sc[j] & 0xf) | ((mn[j] & 0xf) << 4));
    for (int l = 0; l < 128; l++) b[16 + l] = 0x53;
    ck_assert_int_eq(convert_ggml_dequantize(12, b, y, 256), 0);
    for (int sub = 0; sub < 8; sub++) {
        int q = sub % 2 ? 5 : 3;
        for (int l = 0; l < 32; l++) ck_assert(y[sub * 32 + l] == 2.0f * (float)sc[sub] * (float)q - 1.0f * (float)mn[sub]);
    }
    /* Q6_K (210 bytes): d = 0.5; scales 1..16; ql low nibbles 1, high 2; qh bits 0 -> q - 32. */
    memset(b, 0, sizeof b);
    for (int l = 0; l < 128; l++) b[l] = 0x21;
    for (int i = 0; i < 16; i++) b[192 + i] = (uint8_t)(int8_t)(i + 1);
    conv_put_f16(b + 208, 0.5f);
    ck_assert_int_eq(convert_ggml_dequantize(14, b, y, 256), 0);
    /* Element 0: half 0, l = 0: q1 = 1 - 32, scale sc[0] = 1. Element 64: q3 = 2 - 32, sc[4]. */
    ck_assert(y[0] == 0.5f * 1 * (1 - 32));
    ck_assert(y[64] == 0.5f * 5 * (2 - 32));
    ck_assert(y[128 + 32 + 20] == 0.5f * (8 + 3 + 1) * (1 - 32)); /* second half, q2, l=20: sc[8+1+2] */
    /* Q2_K (84 bytes): scales byte = 0x21 (scale 1, min 2), d = 1, dmin = 0.5, quants 0b10. */
    memset(b, 0, sizeof b);
    for (int i = 0; i < 16; i++) b[i] = 0x21;
    for (int i = 0; i < 64; i++) b[16 + i] = 0xaa;
    conv_put_f16(b + 80, 1.0f);
    conv_put_f16(b + 82, 0.5f);
    ck_assert_int_eq(convert_ggml_dequantize(10, b, y, 256), 0);
    for (int i = 0; i < 256; i++) ck_assert(y[i] == 1.0f * 2 - 0.5f * 2);
    /* Q3_K (110 bytes): all scales 33 (-> +1), d = 1, quants 1, hmask set: value 1. */
    memset(b, 0, sizeof b);
    for (int i = 0; i < 32; i++) b[i] = 0xff;
    for (int i = 0; i < 64; i++) b[32 + i] = 0x55;
    /* 6-bit 33 = 0b100001: low nibble 1 everywhere, high bits 0b10 for all 16 scales. */
    for (int i = 0; i < 8; i++) b[96 + i] = 0x11;
    for (int i = 0; i < 4; i++) b[104 + i] = 0xaa;
    conv_put_f16(b + 108, 1.0f);
    ck_assert_int_eq(convert_ggml_dequantize(11, b, y, 256), 0);
    for (int i = 0; i < 256; i++) ck_assert_msg(y[i] == 1.0f, "q3_K %d: %g", i, y[i]);
    b[0] = 0xfe; /* clear hmask bit 0 of element 0: value 1 - 4 */
    ck_assert_int_eq(convert_ggml_dequantize(11, b, y, 256), 0);
    ck_assert(y[0] == -3.0f);
    /* Q5_K (176 bytes): as Q4_K with qh: set bit u1 of qh[0] -> element 0 gains 16. */
    memset(b, 0, sizeof b);
    conv_put_f16(b, 1.0f);
    conv_put_f16(b + 2, 0.0f);
    b[4] = 1; /* scale of sub-block 0 */
    b[16] = 1;
    ck_assert_int_eq(convert_ggml_dequantize(13, b, y, 256), 0);
    ck_assert(y[0] == 16.0f && y[1] == 0.0f);
}
END_TEST

START_TEST(test_quantize_roundtrip) {
    test_rng r = {3};
    float x[256], y[256];
    uint8_t q[34 * 8];
    for (int i = 0; i < 256; i++) x[i] = (float)test_randn(&r);
    ck_assert_int_eq(learn_quantize(LEARN_TYPE_Q8_0, x, q, 256), LEARN_OK);
    ck_assert_int_eq(learn_dequantize(LEARN_TYPE_Q8_0, q, y, 256), LEARN_OK);
    for (int i = 0; i < 256; i++) ck_assert(fabsf(x[i] - y[i]) <= 4.0f / 127.0f);
    ck_assert_int_eq(learn_quantize(LEARN_TYPE_Q4_0, x, q, 256), LEARN_OK);
    ck_assert_int_eq(learn_dequantize(LEARN_TYPE_Q4_0, q, y, 256), LEARN_OK);
    for (int i = 0; i < 256; i++) ck_assert(fabsf(x[i] - y[i]) <= 4.0f / 8.0f);
    ck_assert_int_eq(learn_quantize(LEARN_TYPE_Q8_0, x, q, 33), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_quantize(LEARN_TYPE_I8, x, q, 32), LEARN_ERR_ARG);
    /* An all-zero block has a zero scale and zero values. */
    memset(x, 0, sizeof x);
    ck_assert_int_eq(learn_quantize(LEARN_TYPE_Q4_0, x, q, 32), LEARN_OK);
    ck_assert_int_eq(learn_dequantize(LEARN_TYPE_Q4_0, q, y, 32), LEARN_OK);
    for (int i = 0; i < 32; i++) ck_assert(y[i] == 0.0f);
}
END_TEST

/* Hugging Face folders (written by gen_llm.py from the same weights as the .learn fixtures)
   convert into models that reproduce the numpy reference states. */
START_TEST(test_convert_hf_matches_reference) {
    static const char *const cases[3][2] = {
        {"tests/fixtures/hf-llama", "tests/fixtures/llm-llama-q8_0.learn"},
        {"tests/fixtures/hf-qwen2", "tests/fixtures/llm-qwen2-f16.learn"},
        {"tests/fixtures/hf-qwen3", "tests/fixtures/llm-qwen3-bf16.learn"},
    };
    learn_writer *w;
    learn_writer_new(NULL, &w);
    convert_arena arena = {NULL, 0, 0};
    convert_opts opts = {LEARN_TYPE_F32, 1};
    char err[512];
    ck_assert_msg(convert_hf(cases[_i][0], w, &arena, &opts, err, sizeof err) == 0, "%s", err);
    test_blob b = test_blob_from_writer(w);
    learn_writer_free(w);
    convert_arena_free(&arena);
    learn_model *m;
    ck_assert_msg(learn_model_open_memory(b.p, b.n, NULL, &m, err, sizeof err) == LEARN_OK, "%s", err);
    llm_case c;
    llm_case_open(&c, cases[_i][1]);
    learn_ctx *ctx = llm_ctx(m, 0, LEARN_POOLING_NONE, 0);
    float *out = (float *)malloc(c.T * c.E * sizeof *out);
    double max_err = 0, max_ref = 0;
    size_t off = 0;
    for (size_t i = 0; i < c.n_items; i++) {
        size_t n;
        ck_assert_int_eq(learn_encode_ids_tokens(ctx, c.item_ids[i], c.item_n[i], out, &n), LEARN_OK);
        for (size_t k = 0; k < n * c.E; k++) {
            max_err = fmax(max_err, fabs((double)out[k] - c.states[off * c.E + k]));
            max_ref = fmax(max_ref, fabs((double)c.states[off * c.E + k]));
        }
        off += n;
    }
    ck_assert_msg(max_err <= 2e-5 * max_ref, "%s: max abs error %g", cases[_i][0], max_err);
    free(out);
    learn_ctx_free(ctx);
    learn_model_close(c.m);
    learn_model_close(m);
    test_blob_free(&b);
}
END_TEST

START_TEST(test_convert_hf_bad) {
    learn_writer *w;
    learn_writer_new(NULL, &w);
    convert_arena arena = {NULL, 0, 0};
    convert_opts opts = {LEARN_TYPE_F32, 1};
    char err[512];
    ck_assert_int_ne(convert_hf("build/tmp/no-such-dir", w, &arena, &opts, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "config.json"), "%s", err);
    char dir[512], p[600];
    snprintf(dir, sizeof dir, "%s", test_tmp_path("hf-bad"));
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/config.json", dir);
    FILE *f = fopen(p, "wb");
    fputs("{\"architectures\": [\"GPTNeoXForCausalLM\"]}", f);
    fclose(f);
    ck_assert_int_ne(convert_hf(dir, w, &arena, &opts, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "'GPTNeoXForCausalLM' is not supported"), "%s", err);
    f = fopen(p, "wb");
    fputs("{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64}", f);
    fclose(f);
    ck_assert_int_ne(convert_hf(dir, w, &arena, &opts, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "'num_hidden_layers' is missing"), "%s", err);
    learn_writer_free(w);
    convert_arena_free(&arena);
}
END_TEST

/* GGUF reader: a small valid file built here (two metadata entries, an f32 tensor of 8 and a
   q8_0 tensor of 32 x 2), then one fault at a time, each refused with its reason. */
typedef struct gg_spec {
    uint32_t magic, version, alignment, type_b;
    uint64_t n_kv, ne0_b, off_b;
    int dup_key, dup_tensor;
    size_t cut; /* bytes removed from the end */
} gg_spec;

typedef struct gg_buf {
    uint8_t b[1024];
    size_t n;
} gg_buf;

static void gg_u32(gg_buf *g, uint32_t v) {
    for (int i = 0; i < 4; i++) g->b[g->n++] = (uint8_t)(v >> (8 * i));
}
static void gg_u64(gg_buf *g, uint64_t v) {
    for (int i = 0; i < 8; i++) g->b[g->n++] = (uint8_t)(v >> (8 * i));
}
static void gg_str(gg_buf *g, const char *s) {
    gg_u64(g, strlen(s));
    memcpy(g->b + g->n, s, strlen(s));
    g->n += strlen(s);
}

static size_t gg_build(gg_buf *g, const gg_spec *sp) {
    g->n = 0;
    gg_u32(g, sp->magic);
    gg_u32(g, sp->version);
    gg_u64(g, 2);        /* tensors */
    gg_u64(g, sp->n_kv); /* metadata entries */
    gg_str(g, "general.architecture");
    gg_u32(g, GGUF_TYPE_STRING);
    gg_str(g, "llama");
    gg_str(g, sp->dup_key ? "general.architecture" : "general.alignment");
    if (sp->dup_key) {
        gg_u32(g, GGUF_TYPE_STRING);
        gg_str(g, "qwen2");
    } else {
        gg_u32(g, GGUF_TYPE_UINT32);
        gg_u32(g, sp->alignment);
    }
    gg_str(g, "a"); /* f32 [8] at 0 */
    gg_u32(g, 1);
    gg_u64(g, 8);
    gg_u32(g, 0);
    gg_u64(g, 0);
    gg_str(g, sp->dup_tensor ? "a" : "b"); /* q8_0 [32, 2] after it */
    gg_u32(g, 2);
    gg_u64(g, sp->ne0_b);
    gg_u64(g, 2);
    gg_u32(g, sp->type_b);
    gg_u64(g, sp->off_b);
    size_t data = (g->n + 31) / 32 * 32;
    memset(g->b + g->n, 0, data - g->n);
    g->n = data;
    for (int i = 0; i < 8; i++) {
        float f = (float)i - 3.5f;
        memcpy(g->b + g->n + 4 * i, &f, 4);
    }
    memset(g->b + g->n + 32, 0x11, 68); /* two q8_0 blocks */
    g->n += 32 + 68;
    return data;
}

START_TEST(test_gguf_bad) {
    const gg_spec ok = {.magic = 0x46554747u /* "GGUF" */, .version = 3, .alignment = 32, .type_b = 8 /* q8_0 */,
                        .n_kv = 2, .ne0_b = 32, .off_b = 32};
    gg_buf g;
    char err[512];
    gguf_file *f;
    size_t data = gg_build(&g, &ok);
    ck_assert_msg(gguf_open_memory(g.b, g.n, &f, err, sizeof err) == LEARN_OK, "%s", err);
    const gguf_tensor *a = gguf_find_tensor(f, "a"), *b = gguf_find_tensor(f, "b");
    ck_assert(a && b && gguf_alignment(f) == 32 && gguf_n_kv(f) == 2);
    ck_assert(a->offset == data && a->size == 32 && a->n_elements == 8);
    ck_assert(b->offset == data + 32 && b->size == 68 && b->n_elements == 64 && b->ne[1] == 2);
    ck_assert(((const float *)a->data)[7] == 3.5f);
    gguf_value v;
    const char *s;
    size_t len;
    ck_assert(gguf_get(f, "general.architecture", &v) == LEARN_OK && gguf_as_str(&v, &s, &len) == LEARN_OK);
    ck_assert(len == 5 && memcmp(s, "llama", 5) == 0);
    gguf_close(f);

    static const struct {
        int field;
        uint64_t value;
        learn_status st;
        const char *msg;
    } cases[] = {
        {0, 0x46554746u, LEARN_ERR_FORMAT, "not a GGUF file"},
        {1, 1, LEARN_ERR_VERSION, "version 1 (32-bit counts)"},
        {1, 0x03000000u, LEARN_ERR_VERSION, "big-endian"},
        {1, 4, LEARN_ERR_VERSION, "GGUF version 4 is not supported"},
        {2, 24, LEARN_ERR_FORMAT, "general.alignment: must be a uint32 power of two"},
        {3, 99, LEARN_ERR_FORMAT, "tensor b: unknown ggml type 99"},
        {4, 1u << 20, LEARN_ERR_FORMAT, "metadata count 1048576"},
        {5, 33, LEARN_ERR_FORMAT, "first dimension 33 is not a multiple of q8_0's block of 32"},
        {6, 40, LEARN_ERR_FORMAT, "tensor b: data offset 40, expected 32"},
        {7, 1, LEARN_ERR_FORMAT, "duplicate metadata key 'general.architecture'"},
        {8, 1, LEARN_ERR_FORMAT, "duplicate tensor name 'a'"},
        {9, 1, LEARN_ERR_FORMAT, "tensor b: 68 bytes at offset"},
        {9, 0, LEARN_ERR_FORMAT, "shorter than a GGUF header"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gg_spec sp = ok;
        switch (cases[i].field) {
        case 0: sp.magic = (uint32_t)cases[i].value; break;
        case 1: sp.version = (uint32_t)cases[i].value; break;
        case 2: sp.alignment = (uint32_t)cases[i].value; break;
        case 3: sp.type_b = (uint32_t)cases[i].value; break;
        case 4: sp.n_kv = cases[i].value; break;
        case 5: sp.ne0_b = cases[i].value; break;
        case 6: sp.off_b = cases[i].value; break;
        case 7: sp.dup_key = 1; break;
        case 8: sp.dup_tensor = 1; break;
        default: sp.cut = cases[i].value; break;
        }
        gg_build(&g, &sp);
        size_t n = cases[i].field == 9 && cases[i].value == 0 ? 20 : g.n - sp.cut;
        err[0] = 0;
        f = (gguf_file *)1;
        learn_status st = gguf_open_memory(g.b, n, &f, err, sizeof err);
        ck_assert_msg(st == cases[i].st && f == NULL, "case %zu: status %d", i, (int)st);
        ck_assert_msg(strstr(err, cases[i].msg), "case %zu: '%s' lacks '%s'", i, err, cases[i].msg);
    }
}
END_TEST

static Suite *make_convert_suite(void) {
    Suite *s = suite_create("convert");
    TCase *tc = tcase_create("dequantizers");
    tcase_add_test(tc, test_dequant_small_blocks);
    tcase_add_test(tc, test_dequant_k_blocks);
    tcase_add_test(tc, test_quantize_roundtrip);
    suite_add_tcase(s, tc);
    TCase *hf = tcase_create("hugging face");
    tcase_add_loop_test(hf, test_convert_hf_matches_reference, 0, 3);
    tcase_add_test(hf, test_convert_hf_bad);
    suite_add_tcase(s, hf);
    TCase *gg = tcase_create("gguf");
    tcase_add_test(gg, test_gguf_bad);
    suite_add_tcase(s, gg);
    return s;
}
