/* The .learn file format: writer, reader, validation (RELIABILITY.md A.1-A.7), checksum. */

/* A writer holding one entry of every metadata type and one tensor of every type. */
typedef struct fmt_sample {
    float f32[15];
    uint16_t f16[14];
    uint16_t bf16[4];
    uint8_t q8[3 * 2 * 34];
    uint8_t q4[2 * 18];
    int8_t i8[5];
    int32_t i32[6];
    uint8_t u8[100];
} fmt_sample;

static void fmt_sample_fill(fmt_sample *s) {
    test_rng r = {7};
    for (int i = 0; i < 15; i++) s->f32[i] = (float)test_randn(&r);
    for (int i = 0; i < 14; i++) s->f16[i] = learn_f32_to_f16((float)test_randn(&r));
    for (int i = 0; i < 4; i++) s->bf16[i] = learn_f32_to_bf16((float)test_randn(&r));
    for (size_t i = 0; i < sizeof s->q8; i++) s->q8[i] = (uint8_t)test_rand(&r);
    for (int b = 0; b < 6; b++) { /* finite, non-zero scales */
        uint16_t d = learn_f32_to_f16(0.01f + (float)b);
        memcpy(s->q8 + b * 34, &d, 2);
    }
    for (size_t i = 0; i < sizeof s->q4; i++) s->q4[i] = (uint8_t)test_rand(&r);
    for (int b = 0; b < 2; b++) {
        uint16_t d = learn_f32_to_f16(0.5f);
        memcpy(s->q4 + b * 18, &d, 2);
    }
    for (int i = 0; i < 5; i++) s->i8[i] = (int8_t)(i * 50 - 128);
    for (int i = 0; i < 6; i++) s->i32[i] = (int32_t)(test_rand(&r));
    for (int i = 0; i < 100; i++) s->u8[i] = (uint8_t)(i * 3);
}

static const uint32_t fmt_u32s[3] = {0, 1, 0xFFFFFFFFu};
static const int64_t fmt_i64s[2] = {INT64_MIN, INT64_MAX};
static const double fmt_f64s[3] = {-1.5, 0.0, 1e300};
static const uint8_t fmt_bools[3] = {1, 0, 1};
static const char *const fmt_strs[3] = {"alpha", "", "\xe2\x96\x81gamma"};

static learn_writer *fmt_sample_writer(fmt_sample *s) {
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    fmt_sample_fill(s);
    ck_assert_int_eq(learn_writer_set_u32(w, "t.u32", 0xDEADBEEFu), LEARN_OK);
    ck_assert_int_eq(learn_writer_set_i32(w, "t.i32", -123456), LEARN_OK);
    ck_assert_int_eq(learn_writer_set_u64(w, "t.u64", 0xFEDCBA9876543210ull), LEARN_OK);
    ck_assert_int_eq(learn_writer_set_i64(w, "t.i64", INT64_MIN), LEARN_OK);
    ck_assert_int_eq(learn_writer_set_f32(w, "t.f32", 3.25f), LEARN_OK);
    ck_assert_int_eq(learn_writer_set_f64(w, "t.f64", -2.5e-300), LEARN_OK);
    ck_assert_int_eq(learn_writer_set_bool(w, "t.bool", 1), LEARN_OK);
    ck_assert_int_eq(learn_writer_set_str(w, "t.str", "Title: {title}", 14), LEARN_OK);
    ck_assert_int_eq(learn_writer_set_str(w, "t.empty", "", 0), LEARN_OK);
    ck_assert_int_eq(learn_writer_set_str(w, "t.nul", "a\0b", 3), LEARN_OK);
    ck_assert_int_eq(learn_writer_set_array(w, "t.arr_u32", LEARN_META_TYPE_U32, fmt_u32s, 3), LEARN_OK);
    ck_assert_int_eq(learn_writer_set_array(w, "t.arr_i64", LEARN_META_TYPE_I64, fmt_i64s, 2), LEARN_OK);
    ck_assert_int_eq(learn_writer_set_array(w, "t.arr_f64", LEARN_META_TYPE_F64, fmt_f64s, 3), LEARN_OK);
    ck_assert_int_eq(learn_writer_set_array(w, "t.arr_bool", LEARN_META_TYPE_BOOL, fmt_bools, 3), LEARN_OK);
    ck_assert_int_eq(learn_writer_set_array(w, "t.arr_empty", LEARN_META_TYPE_F32, NULL, 0), LEARN_OK);
    ck_assert_int_eq(learn_writer_set_str_array(w, "t.arr_str", fmt_strs, 3), LEARN_OK);
    uint64_t s15[2] = {3, 5}, s14[2] = {2, 7}, s4[1] = {4}, sq8[2] = {3, 64}, sq4[2] = {1, 32},
             s5[1] = {5}, s6[3] = {1, 2, 3}, s100[4] = {2, 5, 5, 2};
    ck_assert_int_eq(learn_writer_add_tensor(w, "f32", LEARN_TYPE_F32, 2, s15, s->f32, 0), LEARN_OK);
    ck_assert_int_eq(learn_writer_add_tensor(w, "f16", LEARN_TYPE_F16, 2, s14, s->f16, 0), LEARN_OK);
    ck_assert_int_eq(learn_writer_add_tensor(w, "bf16", LEARN_TYPE_BF16, 1, s4, s->bf16, 0), LEARN_OK);
    ck_assert_int_eq(learn_writer_add_tensor(w, "q8", LEARN_TYPE_Q8_0, 2, sq8, s->q8, 0), LEARN_OK);
    ck_assert_int_eq(learn_writer_add_tensor(w, "q4", LEARN_TYPE_Q4_0, 2, sq4, s->q4, LEARN_WRITER_COPY), LEARN_OK);
    ck_assert_int_eq(learn_writer_add_tensor(w, "i8", LEARN_TYPE_I8, 1, s5, s->i8, 0), LEARN_OK);
    ck_assert_int_eq(learn_writer_add_tensor(w, "i32", LEARN_TYPE_I32, 3, s6, s->i32, 0), LEARN_OK);
    ck_assert_int_eq(learn_writer_add_tensor(w, "u8", LEARN_TYPE_U8, 4, s100, s->u8, 0), LEARN_OK);
    return w;
}

static void fmt_check_sample(const learn_model *m, const fmt_sample *s) {
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f32;
    double f64;
    int b;
    const char *str;
    size_t len;
    ck_assert_int_eq(learn_model_meta_u32(m, "t.u32", &u32), LEARN_OK);
    ck_assert_uint_eq(u32, 0xDEADBEEFu);
    ck_assert_int_eq(learn_model_meta_i64(m, "t.i32", &i64), LEARN_OK);
    ck_assert_int_eq(i64, -123456);
    ck_assert_int_eq(learn_model_meta_u32(m, "t.i32", &u32), LEARN_ERR_FORMAT); /* negative */
    ck_assert_int_eq(learn_model_meta_u64(m, "t.u64", &u64), LEARN_OK);
    ck_assert(u64 == 0xFEDCBA9876543210ull);
    ck_assert_int_eq(learn_model_meta_i64(m, "t.u64", &i64), LEARN_ERR_FORMAT); /* too big */
    ck_assert_int_eq(learn_model_meta_u32(m, "t.u64", &u32), LEARN_ERR_FORMAT);
    ck_assert_int_eq(learn_model_meta_i64(m, "t.i64", &i64), LEARN_OK);
    ck_assert(i64 == INT64_MIN);
    ck_assert_int_eq(learn_model_meta_f32(m, "t.f32", &f32), LEARN_OK);
    ck_assert(f32 == 3.25f);
    ck_assert_int_eq(learn_model_meta_f64(m, "t.f64", &f64), LEARN_OK);
    ck_assert(f64 == -2.5e-300);
    ck_assert_int_eq(learn_model_meta_f32(m, "t.u32", &f32), LEARN_ERR_FORMAT);
    ck_assert_int_eq(learn_model_meta_bool(m, "t.bool", &b), LEARN_OK);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(learn_model_meta_str(m, "t.str", &str, &len), LEARN_OK);
    ck_assert_uint_eq(len, 14);
    ck_assert_str_eq(str, "Title: {title}");
    ck_assert_int_eq(learn_model_meta_str(m, "t.empty", &str, &len), LEARN_OK);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(str, "");
    ck_assert_int_eq(learn_model_meta_str(m, "t.nul", &str, &len), LEARN_OK);
    ck_assert_uint_eq(len, 3);
    ck_assert(memcmp(str, "a\0b", 4) == 0);
    ck_assert_int_eq(learn_model_meta_str(m, "t.u32", &str, &len), LEARN_ERR_FORMAT);
    ck_assert_int_eq(learn_model_meta_str(m, "no.such", &str, &len), LEARN_ERR_NOT_FOUND);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(learn_model_meta_arr_i64(m, "t.arr_u32", (uint64_t)i, &i64), LEARN_OK);
        ck_assert_int_eq(i64, (int64_t)fmt_u32s[i]);
        ck_assert_int_eq(learn_model_meta_arr_f64(m, "t.arr_f64", (uint64_t)i, &f64), LEARN_OK);
        ck_assert(f64 == fmt_f64s[i]);
        ck_assert_int_eq(learn_model_meta_arr_i64(m, "t.arr_bool", (uint64_t)i, &i64), LEARN_OK);
        ck_assert_int_eq(i64, fmt_bools[i]);
        ck_assert_int_eq(learn_model_meta_arr_str(m, "t.arr_str", (uint64_t)i, &str, &len), LEARN_OK);
        ck_assert_str_eq(str, fmt_strs[i]);
        ck_assert_uint_eq(len, strlen(fmt_strs[i]));
    }
    ck_assert_int_eq(learn_model_meta_arr_i64(m, "t.arr_u32", 3, &i64), LEARN_ERR_ARG);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(learn_model_meta_arr_i64(m, "t.arr_i64", (uint64_t)i, &i64), LEARN_OK);
        ck_assert(i64 == fmt_i64s[i]);
    }
    uint32_t idx;
    learn_meta_info mi;
    ck_assert_int_eq(learn_model_meta_find(m, "t.arr_empty", &idx), LEARN_OK);
    ck_assert_int_eq(learn_model_meta(m, idx, &mi), LEARN_OK);
    ck_assert_int_eq(mi.type, LEARN_META_TYPE_ARR);
    ck_assert_int_eq(mi.elem_type, LEARN_META_TYPE_F32);
    ck_assert_uint_eq(mi.count, 0);
    ck_assert_str_eq(mi.key, "t.arr_empty");

    static const struct {
        const char *name;
        learn_type type;
        uint32_t nd;
        uint64_t shape[4];
        size_t off;
        size_t size;
    } want[] = {
        {"f32", LEARN_TYPE_F32, 2, {3, 5, 1, 1}, offsetof(fmt_sample, f32), 60},
        {"f16", LEARN_TYPE_F16, 2, {2, 7, 1, 1}, offsetof(fmt_sample, f16), 28},
        {"bf16", LEARN_TYPE_BF16, 1, {4, 1, 1, 1}, offsetof(fmt_sample, bf16), 8},
        {"q8", LEARN_TYPE_Q8_0, 2, {3, 64, 1, 1}, offsetof(fmt_sample, q8), 204},
        {"q4", LEARN_TYPE_Q4_0, 2, {1, 32, 1, 1}, offsetof(fmt_sample, q4), 18},
        {"i8", LEARN_TYPE_I8, 1, {5, 1, 1, 1}, offsetof(fmt_sample, i8), 5},
        {"i32", LEARN_TYPE_I32, 3, {1, 2, 3, 1}, offsetof(fmt_sample, i32), 24},
        {"u8", LEARN_TYPE_U8, 4, {2, 5, 5, 2}, offsetof(fmt_sample, u8), 100},
    };
    learn_model_info info;
    ck_assert_int_eq(learn_model_get_info(m, &info), LEARN_OK);
    ck_assert_uint_eq(info.n_tensors, 8);
    ck_assert_str_eq(info.arch, "");
    for (uint32_t i = 0; i < 8; i++) {
        learn_tensor_info t;
        ck_assert_int_eq(learn_model_tensor(m, i, &t), LEARN_OK);
        ck_assert_str_eq(t.name, want[i].name);
        ck_assert_int_eq(learn_model_tensor_find(m, want[i].name, &t), LEARN_OK);
        ck_assert_int_eq(t.type, want[i].type);
        ck_assert_uint_eq(t.n_dims, want[i].nd);
        for (int d = 0; d < 4; d++) ck_assert_uint_eq(t.shape[d], want[i].shape[d]);
        ck_assert_uint_eq(t.size, want[i].size);
        ck_assert_uint_eq(t.offset % 64, 0);
        ck_assert_uint_eq((uintptr_t)t.data % 64, 0);
        ck_assert(memcmp(t.data, (const uint8_t *)s + want[i].off, want[i].size) == 0);
    }
    learn_tensor_info t;
    ck_assert_int_eq(learn_model_tensor_find(m, "nope", &t), LEARN_ERR_NOT_FOUND);
    ck_assert_int_eq(learn_model_tensor(m, 8, &t), LEARN_ERR_ARG);
}

START_TEST(test_roundtrip_memory_and_file) {
    fmt_sample s;
    learn_writer *w = fmt_sample_writer(&s);
    void *data;
    size_t size;
    ck_assert_int_eq(learn_writer_save_memory(w, &data, &size), LEARN_OK);
    learn_model *m;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_msg(learn_model_open_memory(data, size, NULL, &m, err, sizeof err) == LEARN_OK, "%s", err);
    fmt_check_sample(m, &s);
    learn_model_close(m);

    const char *path = test_tmp_path("roundtrip.learn");
    ck_assert_msg(learn_writer_save(w, path) == LEARN_OK, "%s", learn_writer_errmsg(w));
    for (int mm = 0; mm < 2; mm++) {
        learn_model_params p = learn_model_default_params();
        p.use_mmap = mm;
        ck_assert_msg(learn_model_open(path, &p, &m, err, sizeof err) == LEARN_OK, "%s", err);
        fmt_check_sample(m, &s);
        learn_model_close(m);
    }
    /* The file on disk is byte-identical to the memory image. */
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t *disk = (uint8_t *)malloc(size + 1);
    ck_assert_uint_eq(fread(disk, 1, size + 1, f), size);
    fclose(f);
    ck_assert(memcmp(disk, data, size) == 0);
    free(disk);
    unlink(path);
    learn_writer_free_buffer(w, data);
    learn_writer_free(w);
}
END_TEST

/* The checksum catches any single changed byte; the header checks catch the rest first. */
START_TEST(test_checksum_detects_every_flip) {
    fmt_sample s;
    learn_writer *w = fmt_sample_writer(&s);
    test_blob b = test_blob_from_writer(w);
    learn_writer_free(w);
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_int_eq(test_blob_open(&b, err, sizeof err), LEARN_OK);
    static const uint8_t flips[] = {0x01, 0x80, 0xFF};
    size_t n_checksum = 0;
    for (size_t i = 0; i < b.n; i++)
        for (size_t k = 0; k < sizeof flips; k++) {
            b.p[i] ^= flips[k];
            learn_status st = test_blob_open(&b, err, sizeof err);
            ck_assert_msg(st != LEARN_OK, "flipping byte %zu by 0x%02x was not detected", i, flips[k]);
            n_checksum += st == LEARN_ERR_CHECKSUM;
            b.p[i] ^= flips[k];
        }
    ck_assert_uint_gt(n_checksum, b.n); /* most flips reach the checksum */
    test_blob_free(&b);
}
END_TEST

START_TEST(test_xxh64_vectors) {
    ck_assert(learn_xxh64("", 0, 0) == 0xef46db3751d8e999ull);
    ck_assert(learn_xxh64("a", 1, 0) == 0xd24ec4f1a98c6e5bull);
    ck_assert(learn_xxh64("abc", 3, 0) == 0x44bc2cf5ad770999ull);
    const char *fox = "The quick brown fox jumps over the lazy dog";
    ck_assert(learn_xxh64(fox, strlen(fox), 0) == 0x0b242d361fda71bcull);
    uint8_t buf[1000];
    for (int i = 0; i < 1000; i++) buf[i] = (uint8_t)(i % 251);
    ck_assert(learn_xxh64(buf, 1000, 0) == 0xf306f04aa88b54d3ull);
    /* Streaming in uneven pieces gives the same digest. */
    for (size_t step = 1; step < 70; step += 7) {
        learn__xxh64 h;
        learn__xxh64_init(&h, 0);
        for (size_t i = 0; i < 1000; i += step) learn__xxh64_update(&h, buf + i, LEARN__MIN(step, 1000 - i));
        ck_assert(learn__xxh64_digest(&h) == 0xf306f04aa88b54d3ull);
    }
}
END_TEST

/* ---- RELIABILITY A.1: empty, short, magic, version ---- */

START_TEST(test_bad_header) {
    fmt_sample s;
    learn_writer *w = fmt_sample_writer(&s);
    test_blob b = test_blob_from_writer(w);
    learn_writer_free(w);
    size_t n = b.n;
    b.n = 0;
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "empty");
    b.n = 10;
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "shorter than the 64-byte header");
    b.n = 71;
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "shorter");
    b.n = n;
    b.p[0] = 'X';
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "magic");
    b.p[0] = 'L';
    test_blob_put32(&b, 8, 0);
    ck_assert_open_fails(&b, LEARN_ERR_VERSION, "format version 0");
    test_blob_put32(&b, 8, 2);
    ck_assert_open_fails(&b, LEARN_ERR_VERSION, "format version 2 is newer");
    test_blob_put32(&b, 8, 0xFFFFFFFFu);
    ck_assert_open_fails(&b, LEARN_ERR_VERSION, "format version 4294967295");
    test_blob_put32(&b, 8, 1);
    test_blob_put32(&b, 12, 32);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "header size 32");
    test_blob_put32(&b, 12, 64);
    test_blob_put64(&b, 16, n + 1);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "file size field");
    test_blob_put64(&b, 16, n);
    test_blob_put32(&b, 56, 1);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "flags");
    test_blob_put32(&b, 56, 0);
    test_blob_put32(&b, 60, 32);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "alignment 32");
    test_blob_put32(&b, 60, 64);
    /* Truncated: the size field no longer matches. */
    b.n = n - 1;
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "truncated");
    b.n = n;
    ck_assert_open_fails(&b, LEARN_OK, ""); /* restored */
    test_blob_free(&b);
}
END_TEST

/* The same through a file: an empty file and a missing file. */
START_TEST(test_bad_files_on_disk) {
    const char *path = test_tmp_path("empty.learn");
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    learn_model *m = (learn_model *)&m;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_int_eq(learn_model_open(path, NULL, &m, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(err, "empty") && strstr(err, path), "%s", err);
    unlink(path);
    ck_assert_int_eq(learn_model_open(path, NULL, &m, err, sizeof err), LEARN_ERR_IO);
    ck_assert_msg(strstr(err, "No such file"), "%s", err);
    ck_assert_int_eq(learn_model_open("build", NULL, &m, err, sizeof err), LEARN_ERR_IO);
    ck_assert_int_eq(learn_model_open(NULL, NULL, &m, err, sizeof err), LEARN_ERR_ARG);
}
END_TEST

/* ---- A.2: counts ---- */

START_TEST(test_bad_counts) {
    fmt_sample s;
    learn_writer *w = fmt_sample_writer(&s);
    test_blob b = test_blob_from_writer(w);
    learn_writer_free(w);
    uint32_t n_meta = learn__rd32(b.p + 24), n_t = learn__rd32(b.p + 28);
    const uint32_t bad[] = {0xFFFFFFFFu, 0x80000000u, LEARN_MAX_META + 1};
    for (int i = 0; i < 3; i++) {
        test_blob_put32(&b, 24, bad[i]);
        test_blob_fix(&b);
        ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "metadata count");
    }
    test_blob_put32(&b, 24, 5000); /* below the maximum, above what the section holds */
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "cannot fit");
    test_blob_put32(&b, 24, n_meta + 1);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "metadata");
    test_blob_put32(&b, 24, n_meta - 1);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "metadata section");
    test_blob_put32(&b, 24, n_meta);
    const uint32_t badt[] = {0xFFFFFFFFu, LEARN_MAX_TENSORS + 1, 1000};
    for (int i = 0; i < 3; i++) {
        test_blob_put32(&b, 28, badt[i]);
        test_blob_fix(&b);
        ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor count");
    }
    test_blob_put32(&b, 28, n_t - 1);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor directory");
    test_blob_put32(&b, 28, n_t);
    /* Array counts of -1 and 2^63. */
    size_t arr = test_blob_meta(&b, "t.arr_u32");
    const uint64_t badc[] = {UINT64_MAX, 1ull << 63, 1ull << 40, 1000};
    for (int i = 0; i < 4; i++) {
        test_blob_put64(&b, arr + 8, badc[i]);
        test_blob_fix(&b);
        ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "'t.arr_u32': array count");
    }
    test_blob_put64(&b, arr + 8, 3);
    test_blob_put32(&b, arr + 4, LEARN_META_TYPE_ARR); /* arrays of arrays are not allowed */
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "array element type 9");
    test_blob_put32(&b, arr + 4, LEARN_META_TYPE_U32);
    test_blob_put32(&b, arr, 77);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "'t.arr_u32': value type 77");
    test_blob_free(&b);
}
END_TEST

/* Architecture counts (vocabulary, layers, heads) of 0, -1, 2^32-1, beyond the maximum. */
START_TEST(test_bad_arch_counts) {
    static const struct {
        const char *key;
        int64_t value;
        const char *msg;
    } cases[] = {
        {"llm.vocab_size", 0, "'llm.vocab_size' = 0 is outside"},
        {"llm.vocab_size", 0xFFFFFFFFll, "'llm.vocab_size' = 4294967295"},
        {"llm.vocab_size", -1, "'llm.vocab_size' = -1"},
        {"llm.vocab_size", INT64_MIN, "'llm.vocab_size' = -9223372036854775808"},
        {"llm.block_count", 0, "'llm.block_count' = 0"},
        {"llm.block_count", LEARN_MAX_LAYERS + 1, "'llm.block_count' = 513 is outside 1..512"},
        {"llm.block_count", (int64_t)1 << 62, "'llm.block_count'"},
        {"llm.head_count", 0, "'llm.head_count' = 0"},
        {"llm.head_count", 6, "'llm.head_count' = 6 does not divide 'llm.embedding_length' = 64"},
        {"llm.head_count_kv", 3, "'llm.head_count_kv' = 3 does not divide 'llm.head_count' = 4"},
        {"llm.head_count_kv", 0, "'llm.head_count_kv' = 0"},
        {"llm.embedding_length", 0, "'llm.embedding_length' = 0"},
        {"llm.feed_forward_length", -5, "'llm.feed_forward_length' = -5"},
        {"llm.context_length", 0, "'llm.context_length' = 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        learn_writer *w;
        learn_writer_new(NULL, &w);
        test_llm t = {{0}, 0};
        test_llm_opts o;
        memset(&o, 0, sizeof o);
        test_llm_build(w, &t, &o);
        learn_writer_set_i64(w, cases[i].key, cases[i].value);
        test_blob b = test_blob_from_writer(w);
        ck_assert_open_fails(&b, LEARN_ERR_FORMAT, cases[i].msg);
        test_blob_free(&b);
        learn_writer_free(w);
        test_llm_free(&t);
    }
}
END_TEST

/* ---- A.3: dimensions ---- */

START_TEST(test_bad_dims) {
    fmt_sample s;
    learn_writer *w = fmt_sample_writer(&s);
    test_blob b = test_blob_from_writer(w);
    learn_writer_free(w);
    size_t t = test_blob_tensor(&b, "f32") + 4; /* type at t, n_dims at t+4, dims at t+8 */
    test_blob_put32(&b, t + 4, 5);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor 'f32': number of dimensions 5");
    test_blob_put32(&b, t + 4, 0);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor 'f32': number of dimensions 0");
    test_blob_put32(&b, t + 4, 2);
    test_blob_put64(&b, t + 16, 0);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor 'f32': dimension 1 is 0");
    test_blob_put64(&b, t + 8, 1ull << 62);
    test_blob_put64(&b, t + 16, 4);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor 'f32': the product of the dimensions overflows");
    test_blob_put64(&b, t + 8, (1ull << 32) + 1);
    test_blob_put64(&b, t + 16, (1ull << 32) - 1);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor 'f32': byte size overflows");
    /* The same product as U8 fits 64 bits but disagrees with the stored size. */
    size_t u = test_blob_tensor(&b, "u8") + 3; /* "u8\0" */
    test_blob_put32(&b, u + 4, 2);
    test_blob_put64(&b, u + 8, (1ull << 32) + 1);
    test_blob_put64(&b, u + 16, (1ull << 32) - 1);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor 'f32'"); /* the first bad one is reported */
    test_blob_free(&b);
}
END_TEST

/* ---- A.4 and A.5: layout ---- */

START_TEST(test_bad_layout) {
    fmt_sample s;
    learn_writer *w = fmt_sample_writer(&s);
    test_blob b = test_blob_from_writer(w);
    learn_writer_free(w);
    test_blob orig = {(uint8_t *)malloc(b.n), b.n};
    memcpy(orig.p, b.p, b.n);
#define RESET() memcpy(b.p, orig.p, b.n)
    size_t q8 = test_blob_tensor(&b, "q8") + 3;   /* type, n_dims, 2 dims, offset, size */
    size_t q8_off = q8 + 8 + 16, q8_size = q8_off + 8;
    uint64_t off = learn__rd64(b.p + q8_off);
    /* Offset past the end, overlapping the previous tensor, unaligned. */
    test_blob_put64(&b, q8_off, b.n + 64);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor 'q8': offset");
    test_blob_put64(&b, q8_off, off - 64);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "without overlap");
    test_blob_put64(&b, q8_off, off + 1);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "64-byte aligned");
    RESET();
    /* Size that disagrees with the shape, and one that wraps with the offset (A.4). */
    test_blob_put64(&b, q8_size, 203);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor 'q8': size 203 bytes disagrees");
    RESET();
    size_t u8 = test_blob_tensor(&b, "u8") + 3;
    test_blob_put32(&b, u8 + 4, 1);
    test_blob_put64(&b, u8 + 8, UINT64_MAX - 32);
    test_blob_put64(&b, u8 + 16, learn__rd64(b.p + u8 + 8 + 32)); /* keep offset */
    RESET();
    {
        /* u8 is the last tensor: shape [2,5,5,2]; make it 1-d [2^64-33] with that size. */
        size_t e = u8 + 8; /* dims */
        uint64_t uoff = learn__rd64(b.p + e + 32);
        /* Rewrite in place as 4-d with the same byte count of directory: dims (2^64-33,1,1,1). */
        test_blob_put64(&b, e, UINT64_MAX - 32);
        test_blob_put64(&b, e + 8, 1);
        test_blob_put64(&b, e + 16, 1);
        test_blob_put64(&b, e + 24, 1);
        test_blob_put64(&b, e + 32, uoff);
        test_blob_put64(&b, e + 40, UINT64_MAX - 32);
        test_blob_fix(&b);
        ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor 'u8': data");
    }
    RESET();
    /* Unknown and negative type ids. */
    test_blob_put32(&b, q8, 99);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor 'q8': type id 99 is unknown");
    test_blob_put32(&b, q8, 0xFFFFFFFFu);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor 'q8': type id 4294967295");
    RESET();
    /* A quantized row that is not a whole number of blocks. */
    test_blob_put64(&b, q8 + 16, 48);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor 'q8': last dimension 48 is not a multiple");
    RESET();
    /* Duplicate names. */
    size_t i8 = test_blob_tensor(&b, "i8");
    memcpy(b.p + i8, "q8", 2);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor name 'q8' appears twice");
    RESET();
    /* A name that is not NUL-terminated, and one with a control byte. */
    b.p[i8 + 2] = 'x';
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "not NUL-terminated");
    RESET();
    b.p[i8] = '\n';
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "not printable");
    RESET();
    test_blob_put32(&b, i8 - 4, 0);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "name length 0");
    RESET();
    /* Non-zero padding between tensors. */
    uint64_t pad_at = learn__rd64(b.p + q8_off) + 204;
    b.p[pad_at] = 1;
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "padding byte");
    RESET();
    /* Bytes between the last tensor and the trailer: the layout must account for the file. */
    {
        test_blob big = {NULL, b.n + 64};
        ck_assert_int_eq(posix_memalign((void **)&big.p, 64, big.n), 0);
        memcpy(big.p, b.p, b.n - 8);
        memset(big.p + b.n - 8, 0, 64);
        test_blob_put64(&big, 16, big.n);
        test_blob_fix(&big);
        ck_assert_open_fails(&big, LEARN_ERR_FORMAT, "data section: 64 bytes between");
        test_blob_free(&big);
    }
    /* Section offsets. */
    test_blob_put64(&b, 32, 72);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "metadata offset 72");
    RESET();
    test_blob_put64(&b, 40, b.n);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor directory offset");
    RESET();
    test_blob_put64(&b, 48, learn__rd64(b.p + 48) + 1);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "data offset");
    RESET();
    test_blob_put64(&b, 48, learn__rd64(b.p + 48) + 64);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "not zero padding");
#undef RESET
    free(orig.p);
    test_blob_free(&b);
}
END_TEST

/* The alignment helper itself never wraps (A.4). */
START_TEST(test_align_overflow) {
    uint64_t out = 123;
    ck_assert(!learn__align64_ok(UINT64_MAX, 64, &out));
    ck_assert(!learn__align64_ok(UINT64_MAX - 62, 64, &out));
    ck_assert(learn__align64_ok(UINT64_MAX - 63, 64, &out));
    ck_assert(out == UINT64_MAX - 63);
    ck_assert(learn__align64_ok(65, 64, &out) && out == 128);
    size_t z;
    ck_assert(!learn__mul_ok(SIZE_MAX / 2 + 1, 2, &z));
    ck_assert(!learn__add_ok(SIZE_MAX, 1, &z));
    uint64_t y;
    ck_assert(!learn__mul64_ok(1ull << 62, 4, &y));
    ck_assert(learn__mul64_ok((1ull << 32) + 1, (1ull << 32) - 1, &y) && y == UINT64_MAX);
}
END_TEST

/* ---- A.6: strings and keys ---- */

START_TEST(test_bad_strings_and_keys) {
    fmt_sample s;
    learn_writer *w = fmt_sample_writer(&s);
    test_blob b = test_blob_from_writer(w);
    learn_writer_free(w);
    test_blob orig = {(uint8_t *)malloc(b.n), b.n};
    memcpy(orig.p, b.p, b.n);
#define RESET() memcpy(b.p, orig.p, b.n)
    size_t str = test_blob_meta(&b, "t.str") + 4; /* the u64 length */
    const uint64_t lens[] = {UINT64_MAX, UINT64_MAX - 7, 1ull << 63, b.n};
    for (int i = 0; i < 4; i++) {
        test_blob_put64(&b, str, lens[i]);
        test_blob_fix(&b);
        ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "'t.str': string length");
    }
    RESET();
    b.p[str + 8 + 14] = 'x'; /* the NUL */
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "'t.str': string of length 14 is not NUL-terminated");
    RESET();
    /* A string inside an array with a hostile length. */
    size_t arr = test_blob_meta(&b, "t.arr_str") + 4 + 12;
    test_blob_put64(&b, arr, UINT64_MAX);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "'t.arr_str': string length");
    RESET();
    /* Empty key, oversize key, bad byte, duplicate key. */
    size_t k = test_blob_meta(&b, "t.u32") - 5 - 4; /* the key length */
    test_blob_put32(&b, k, 0);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "key length 0");
    test_blob_put32(&b, k, 300);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "key length 300");
    test_blob_put32(&b, k, 0xFFFFFFFFu);
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "key length 4294967295");
    RESET();
    b.p[k + 5] = ' ';
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "key byte 1 (0x20)");
    RESET();
    memcpy(b.p + k + 4, "t.i32", 5); /* "t.u32" -> "t.i32", which exists */
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "metadata key 't.i32' appears twice");
    RESET();
    /* A bool that is not 0/1. */
    size_t bo = test_blob_meta(&b, "t.bool") + 4;
    b.p[bo] = 2;
    test_blob_fix(&b);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "'t.bool': bool value 2");
    RESET();
#undef RESET
    free(orig.p);
    test_blob_free(&b);
}
END_TEST

/* ---- A.7: architecture vs tensors ---- */

START_TEST(test_arch_tensors) {
    static const struct {
        const char *arch;
        const char *skip;
        const char *msg;
        learn_status st;
    } cases[] = {
        {"llama", NULL, NULL, LEARN_OK},
        {"qwen2", NULL, NULL, LEARN_OK},
        {"qwen3", NULL, NULL, LEARN_OK},
        {"llama", "blk.0.ffn_up.weight", "tensor 'blk.0.ffn_up.weight' is missing", LEARN_ERR_FORMAT},
        {"llama", "token_embd.weight", "tensor 'token_embd.weight' is missing", LEARN_ERR_FORMAT},
        {"llama", "output_norm.weight", "tensor 'output_norm.weight' is missing", LEARN_ERR_FORMAT},
        {"llama", "blk.1.attn_k.weight", "tensor 'blk.1.attn_k.weight' is missing", LEARN_ERR_FORMAT},
        {"qwen2", "blk.0.attn_v.bias", "tensor 'blk.0.attn_v.bias' is missing", LEARN_ERR_FORMAT},
        {"qwen3", "blk.1.attn_k_norm.weight", "tensor 'blk.1.attn_k_norm.weight' is missing", LEARN_ERR_FORMAT},
        {"gpt2", NULL, "architecture 'gpt2' is not supported", LEARN_ERR_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        learn_writer *w;
        learn_writer_new(NULL, &w);
        test_llm t = {{0}, 0};
        test_llm_opts o;
        memset(&o, 0, sizeof o);
        o.arch = cases[i].arch;
        o.skip = cases[i].skip;
        o.n_layer = 2;
        if (strcmp(o.arch, "qwen3") == 0) o.head_dim = 32; /* q dim 128 != n_embd 64 */
        test_llm_build(w, &t, &o);
        test_blob b = test_blob_from_writer(w);
        ck_assert_open_fails(&b, cases[i].st, cases[i].msg ? cases[i].msg : "");
        if (cases[i].st == LEARN_OK) {
            learn_model *m;
            ck_assert_int_eq(learn_model_open_memory(b.p, b.n, NULL, &m, NULL, 0), LEARN_OK);
            learn_model_info info;
            learn_model_get_info(m, &info);
            ck_assert_str_eq(info.arch, cases[i].arch);
            ck_assert_uint_eq(info.n_layer, 2);
            ck_assert_uint_eq(info.head_dim, o.head_dim ? o.head_dim : 16);
            ck_assert_uint_ne(info.content_fingerprint, 0);
            ck_assert_uint_eq(info.tower_fingerprint, 0);
            learn_model_close(m);
        }
        test_blob_free(&b);
        learn_writer_free(w);
        test_llm_free(&t);
    }
}
END_TEST

START_TEST(test_arch_shapes_and_types) {
    learn_writer *w;
    learn_writer_new(NULL, &w);
    test_llm t = {{0}, 0};
    test_llm_opts o;
    memset(&o, 0, sizeof o);
    o.skip = "blk.0.ffn_down.weight";
    test_llm_build(w, &t, &o);
    static float buf[96 * 96];
    uint64_t wrong[2] = {96, 64}; /* [n_ff, n_embd] instead of [n_embd, n_ff] */
    learn_writer_add_tensor(w, "blk.0.ffn_down.weight", LEARN_TYPE_F32, 2, wrong, buf, 0);
    test_blob b = test_blob_from_writer(w);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT,
                         "tensor 'blk.0.ffn_down.weight' has shape [96, 64]; expected [64, 96]");
    test_blob_free(&b);
    learn_writer_remove_tensor(w, "blk.0.ffn_down.weight");
    uint64_t one[1] = {64 * 96};
    learn_writer_add_tensor(w, "blk.0.ffn_down.weight", LEARN_TYPE_F32, 1, one, buf, 0);
    b = test_blob_from_writer(w);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "'blk.0.ffn_down.weight' has shape [6144]; expected [64, 96]");
    test_blob_free(&b);
    /* A norm stored as F16 is refused: norms and biases are F32. */
    learn_writer_remove_tensor(w, "blk.0.ffn_down.weight");
    uint64_t right[2] = {64, 96};
    learn_writer_add_tensor(w, "blk.0.ffn_down.weight", LEARN_TYPE_F32, 2, right, buf, 0);
    learn_writer_remove_tensor(w, "blk.0.ffn_norm.weight");
    uint64_t e[1] = {64};
    learn_writer_add_tensor(w, "blk.0.ffn_norm.weight", LEARN_TYPE_F16, 1, e, buf, 0);
    b = test_blob_from_writer(w);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tensor 'blk.0.ffn_norm.weight' has type f16; expected f32");
    test_blob_free(&b);
    learn_writer_remove_tensor(w, "blk.0.ffn_norm.weight");
    learn_writer_add_tensor(w, "blk.0.ffn_norm.weight", LEARN_TYPE_F32, 1, e, buf, 0);
    learn_writer_set_str(w, "llm.rope_type", "sideways", 8);
    b = test_blob_from_writer(w);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "'llm.rope_type'");
    test_blob_free(&b);
    learn_writer_set_str(w, "llm.rope_type", "neox", 4);
    learn_writer_set_f32(w, "llm.rms_epsilon", -1.0f);
    b = test_blob_from_writer(w);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "'llm.rms_epsilon' = -1");
    test_blob_free(&b);
    learn_writer_set_f32(w, "llm.rms_epsilon", 1e-6f);
    learn_writer_set_str(w, "llm.block_count", "one", 3);
    b = test_blob_from_writer(w);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "'llm.block_count' has type str");
    test_blob_free(&b);
    learn_writer_remove_meta(w, "llm.block_count");
    b = test_blob_from_writer(w);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "metadata 'llm.block_count' is missing");
    test_blob_free(&b);
    learn_writer_free(w);
    test_llm_free(&t);
}
END_TEST

/* ---- Random mutations: 10,000 opens, no crash, no leak ---- */

START_TEST(test_random_mutations) {
    learn_writer *w;
    learn_writer_new(NULL, &w);
    test_llm t = {{0}, 0};
    test_llm_opts o;
    memset(&o, 0, sizeof o);
    o.n_vocab = 8;
    o.n_embd = 32;
    o.n_head = 2;
    o.n_head_kv = 1;
    o.n_ff = 32;
    o.wtype = LEARN_TYPE_Q8_0;
    test_llm_build(w, &t, &o);
    fmt_sample s;
    fmt_sample_fill(&s);
    learn_writer_set_str_array(w, "t.arr_str", fmt_strs, 3);
    learn_writer_set_array(w, "t.arr_f64", LEARN_META_TYPE_F64, fmt_f64s, 3);
    uint64_t sq4[2] = {1, 32};
    learn_writer_add_tensor(w, "q4", LEARN_TYPE_Q4_0, 2, sq4, s.q4, 0);
    test_blob base = test_blob_from_writer(w);
    learn_writer_free(w);
    test_llm_free(&t);
    test_blob b = {NULL, 0};
    ck_assert_int_eq(posix_memalign((void **)&b.p, 64, base.n + 256), 0);
    test_rng r = {12345};
    test_counting cnt = {0, 0, 0};
    learn_model_params p = learn_model_default_params();
    p.allocator = test_counting_allocator(&cnt);
    static const uint64_t interesting[] = {0, 1, 63, 64, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF,
                                           1ull << 32, 1ull << 62, 1ull << 63, UINT64_MAX};
    int opened = 0;
    for (int iter = 0; iter < 10000; iter++) {
        memcpy(b.p, base.p, base.n);
        b.n = base.n;
        int n_mut = 1 + (int)(test_rand(&r) % 4);
        for (int k = 0; k < n_mut; k++) {
            size_t at = (size_t)(test_rand(&r) % b.n);
            switch (test_rand(&r) % 5) {
            case 0: b.p[at] = (uint8_t)test_rand(&r); break;
            case 1: b.p[at] ^= (uint8_t)(1u << (test_rand(&r) % 8)); break;
            case 2:
                if (at + 8 <= b.n) learn__wr64(b.p + at, interesting[test_rand(&r) % 13]);
                break;
            case 3:
                if (at + 4 <= b.n) learn__wr32(b.p + at, (uint32_t)interesting[test_rand(&r) % 13]);
                break;
            case 4: b.n = at + 1; break; /* truncate */
            }
        }
        if (test_rand(&r) % 2 && b.n >= 8) test_blob_fix(&b);
        learn_model *m = NULL;
        char err[LEARN_ERRMSG_SIZE];
        learn_status st = learn_model_open_memory(b.p, b.n, &p, &m, err, sizeof err);
        if (st == LEARN_OK) {
            opened++;
            learn_model_info info;
            learn_model_get_info(m, &info);
            uint64_t n;
            learn_model_scan(m, &n, err, sizeof err);
            learn_model_close(m);
        } else {
            ck_assert_ptr_null(m);
            ck_assert_msg(err[0] != 0, "status %d without a message", st);
        }
        ck_assert_int_eq(cnt.live, 0);
    }
    ck_assert_int_gt(opened, 0); /* some mutations (e.g. in tensor data) leave a valid file */
    test_blob_free(&b);
    test_blob_free(&base);
}
END_TEST

/* ---- Writer ---- */

START_TEST(test_writer_rules) {
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    float x[64] = {0};
    uint64_t s1[1] = {64}, s0[1] = {0}, s5[5] = {1, 1, 1, 1, 64}, s33[1] = {33};
    ck_assert_int_eq(learn_writer_set_u32(w, "", 1), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_writer_set_u32(w, "bad key", 1), LEARN_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(learn_writer_errmsg(w), "bad key"));
    char longkey[300];
    memset(longkey, 'k', 299);
    longkey[299] = 0;
    ck_assert_int_eq(learn_writer_set_u32(w, longkey, 1), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_writer_add_tensor(w, "a", LEARN_TYPE_F32, 1, s0, x, 0), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_writer_add_tensor(w, "a", LEARN_TYPE_F32, 5, s5, x, 0), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_writer_add_tensor(w, "a", LEARN_TYPE_Q8_0, 1, s33, x, 0), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_writer_add_tensor(w, "a", (learn_type)42, 1, s1, x, 0), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_writer_add_tensor(w, "has space", LEARN_TYPE_F32, 1, s1, x, 0), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_writer_add_tensor(w, "a", LEARN_TYPE_F32, 1, s1, x, 0), LEARN_OK);
    ck_assert_int_eq(learn_writer_add_tensor(w, "a", LEARN_TYPE_F32, 1, s1, x, 0), LEARN_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(learn_writer_errmsg(w), "added twice"));
    ck_assert_uint_eq(learn_writer_n_tensors(w), 1);
    /* Setting a key again replaces it; integers read back. */
    ck_assert_int_eq(learn_writer_set_u32(w, "k", 1), LEARN_OK);
    uint64_t got = 0;
    ck_assert_int_eq(learn_writer_get_u64(w, "k", &got), LEARN_OK);
    ck_assert_uint_eq(got, 1);
    ck_assert_int_eq(learn_writer_set_u64(w, "big", 1ull << 40), LEARN_OK);
    ck_assert_int_eq(learn_writer_get_u64(w, "big", &got), LEARN_OK);
    ck_assert(got == 1ull << 40);
    learn_writer_remove_meta(w, "big");
    ck_assert_int_eq(learn_writer_get_u64(w, "big", &got), LEARN_ERR_NOT_FOUND);
    ck_assert_int_eq(learn_writer_set_str(w, "k", "two", 3), LEARN_OK);
    ck_assert_int_eq(learn_writer_get_u64(w, "k", &got), LEARN_ERR_FORMAT);
    test_blob b = test_blob_from_writer(w);
    learn_model *m;
    ck_assert_int_eq(learn_model_open_memory(b.p, b.n, NULL, &m, NULL, 0), LEARN_OK);
    const char *s;
    ck_assert_int_eq(learn_model_meta_str(m, "k", &s, NULL), LEARN_OK);
    ck_assert_str_eq(s, "two");
    learn_model_info info;
    learn_model_get_info(m, &info);
    ck_assert_uint_eq(info.n_meta, 3); /* k and the two fingerprints */
    /* copy_meta carries any entry over to a new file. */
    learn_writer *w2;
    learn_writer_new(NULL, &w2);
    ck_assert_int_eq(learn_writer_copy_meta(w2, m, "k"), LEARN_OK);
    ck_assert_int_eq(learn_writer_copy_meta(w2, m, "missing"), LEARN_ERR_NOT_FOUND);
    test_blob b2 = test_blob_from_writer(w2);
    learn_model *m2;
    ck_assert_int_eq(learn_model_open_memory(b2.p, b2.n, NULL, &m2, NULL, 0), LEARN_OK);
    ck_assert_int_eq(learn_model_meta_str(m2, "k", &s, NULL), LEARN_OK);
    ck_assert_str_eq(s, "two");
    learn_model_close(m2);
    learn_model_close(m);
    test_blob_free(&b);
    test_blob_free(&b2);
    learn_writer_free(w2);
    learn_writer_free(w);
}
END_TEST

/* Fingerprints do not depend on insertion order; towers and content are separate. */
START_TEST(test_fingerprints) {
    float a[32], c[32];
    for (int i = 0; i < 32; i++) a[i] = (float)i, c[i] = (float)-i;
    uint64_t s[1] = {32};
    uint64_t fp[4][2];
    for (int v = 0; v < 4; v++) {
        learn_writer *w;
        learn_writer_new(NULL, &w);
        if (v == 1) {
            learn_writer_add_tensor(w, "tower.x", LEARN_TYPE_F32, 1, s, c, 0);
            learn_writer_add_tensor(w, "llm.x", LEARN_TYPE_F32, 1, s, a, 0);
            learn_writer_set_u32(w, "tower.d", 8);
            learn_writer_set_u32(w, "encoder.n", 5);
        } else {
            learn_writer_set_u32(w, "encoder.n", 5);
            learn_writer_set_u32(w, "tower.d", v == 3 ? 9 : 8);
            learn_writer_add_tensor(w, "llm.x", LEARN_TYPE_F32, 1, s, a, 0);
            learn_writer_add_tensor(w, "tower.x", LEARN_TYPE_F32, 1, s, v == 2 ? a : c, 0);
        }
        learn_writer_set_str(w, "general.name", v ? "other" : "one", v ? 5 : 3);
        test_blob b = test_blob_from_writer(w);
        learn_model *m;
        ck_assert_int_eq(learn_model_open_memory(b.p, b.n, NULL, &m, NULL, 0), LEARN_OK);
        learn_model_info info;
        learn_model_get_info(m, &info);
        fp[v][0] = info.content_fingerprint;
        fp[v][1] = info.tower_fingerprint;
        learn_model_close(m);
        test_blob_free(&b);
        learn_writer_free(w);
    }
    ck_assert(fp[0][0] == fp[1][0] && fp[0][1] == fp[1][1]); /* order, general.* ignored */
    ck_assert(fp[2][0] == fp[0][0] && fp[2][1] != fp[0][1]);  /* tower data changed */
    ck_assert(fp[3][0] == fp[0][0] && fp[3][1] != fp[0][1]);  /* tower metadata changed */
    ck_assert(fp[0][0] != 0 && fp[0][1] != 0);
}
END_TEST

/* ---- Atomic save under I/O faults: the old file survives ---- */

typedef struct fault_io {
    int fail_write_after; /* bytes before ENOSPC; -1 never */
    int fail_fsync;
    int fail_rename;
    long written;
} fault_io;

static long fault_write(void *u, int fd, const void *buf, size_t n) {
    fault_io *f = (fault_io *)u;
    if (f->fail_write_after >= 0 && f->written + (long)n > f->fail_write_after) {
        long room = f->fail_write_after - f->written;
        if (room <= 0) {
            errno = ENOSPC;
            return -1;
        }
        n = (size_t)room; /* a short write first, then ENOSPC */
    }
    long r = (long)write(fd, buf, n);
    if (r > 0) f->written += r;
    return r;
}
static int fault_fsync(void *u, int fd) {
    fault_io *f = (fault_io *)u;
    if (f->fail_fsync) {
        errno = EIO;
        return -1;
    }
    return fsync(fd);
}
static int fault_rename(void *u, const char *a, const char *b) {
    fault_io *f = (fault_io *)u;
    if (f->fail_rename) {
        errno = EXDEV;
        return -1;
    }
    return rename(a, b);
}

static int count_tmp_files(const char *dir, const char *prefix) {
    char cmd[512], out[4096];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c '^%s.tmp' || true", dir, prefix);
    test_run(cmd, out, sizeof out);
    return atoi(out);
}

START_TEST(test_atomic_save_faults) {
    fmt_sample s;
    learn_writer *w = fmt_sample_writer(&s);
    char path[256];
    snprintf(path, sizeof path, "%s", test_tmp_path("atomic.learn"));
    ck_assert_int_eq(learn_writer_save(w, path), LEARN_OK);
    FILE *f = fopen(path, "rb");
    uint8_t old[8192];
    size_t old_n = fread(old, 1, sizeof old, f);
    fclose(f);
    /* Now a different file, saved with faults. */
    learn_writer_set_str(w, "t.str", "changed", 7);
    const char *base = strrchr(path, '/') + 1;
    fault_io cases[] = {{0, 0, 0, 0}, {100, 0, 0, 0}, {1000, 0, 0, 0}, {-1, 1, 0, 0}, {-1, 0, 1, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        learn__io io = {&cases[i], fault_write, fault_fsync, fault_rename, NULL};
        learn_status st = learn__writer_save(w, path, &io);
        ck_assert_int_eq(st, LEARN_ERR_IO);
        ck_assert_msg(strstr(learn_writer_errmsg(w), i < 3 ? "No space" : i == 3 ? "fsync" : "rename"),
                      "%s", learn_writer_errmsg(w));
        f = fopen(path, "rb");
        uint8_t now[8192];
        size_t now_n = fread(now, 1, sizeof now, f);
        fclose(f);
        ck_assert_uint_eq(now_n, old_n);
        ck_assert(memcmp(now, old, old_n) == 0);
        ck_assert_int_eq(count_tmp_files("build/tmp", base), 0);
    }
    /* Without faults the new file replaces the old one. */
    ck_assert_int_eq(learn_writer_save(w, path), LEARN_OK);
    learn_model *m;
    ck_assert_int_eq(learn_model_open(path, NULL, &m, NULL, 0), LEARN_OK);
    const char *str;
    learn_model_meta_str(m, "t.str", &str, NULL);
    ck_assert_str_eq(str, "changed");
    learn_model_close(m);
    unlink(path);
    /* A directory that does not exist. */
    ck_assert_int_eq(learn_writer_save(w, "build/tmp/no/such/dir/x.learn"), LEARN_ERR_IO);
    learn_writer_free(w);
}
END_TEST

/* ---- Handles, allocators, arguments ---- */

START_TEST(test_allocators_and_args) {
    test_counting cnt = {0, 0, 0};
    learn_allocator a = test_counting_allocator(&cnt);
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(&a, &w), LEARN_OK);
    fmt_sample s;
    fmt_sample_fill(&s);
    uint64_t sh[2] = {3, 5};
    learn_writer_add_tensor(w, "f32", LEARN_TYPE_F32, 2, sh, s.f32, LEARN_WRITER_COPY);
    learn_writer_set_str(w, "general.name", "tiny", 4);
    void *data;
    size_t size;
    ck_assert_int_eq(learn_writer_save_memory(w, &data, &size), LEARN_OK);
    learn_model_params p = learn_model_default_params();
    p.allocator = a;
    learn_model *m;
    ck_assert_int_eq(learn_model_open_memory(data, size, &p, &m, NULL, 0), LEARN_OK);
    learn_model_info info;
    learn_model_get_info(m, &info);
    ck_assert_str_eq(info.name, "tiny");
    ck_assert_uint_eq(info.n_params, 15);
    learn_ctx *ctx;
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = 3;
    ck_assert_int_eq(learn_ctx_new(m, &cp, &ctx), LEARN_OK);
#ifndef LEARN_NO_THREADS
    ck_assert_int_eq(learn_ctx_n_threads(ctx), 3);
#endif
    ck_assert_str_eq(learn_ctx_errmsg(ctx), "");
    learn_ctx_free(ctx);
    cp.n_threads = -1;
    ck_assert_int_eq(learn_ctx_new(m, &cp, &ctx), LEARN_ERR_ARG);
    ck_assert_ptr_null(ctx);
    learn_model_close(m);
    /* Unaligned memory is refused; so is a half-filled allocator. */
    ck_assert_int_eq(learn_model_open_memory((uint8_t *)data + 1, size - 1, NULL, &m, NULL, 0), LEARN_ERR_ARG);
    learn_model_params bad = learn_model_default_params();
    bad.allocator.alloc = test_count_alloc;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_int_eq(learn_model_open_memory(data, size, &bad, &m, err, sizeof err), LEARN_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err, "allocator"));
    learn_writer_free_buffer(w, data);
    learn_writer_free(w);
    ck_assert_int_eq(cnt.live, 0);
    ck_assert_int_gt(cnt.total, 5);
    /* NULLs everywhere. */
    learn_model_close(NULL);
    learn_ctx_free(NULL);
    learn_writer_free(NULL);
    ck_assert_int_eq(learn_model_get_info(NULL, &info), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_ctx_new(NULL, NULL, &ctx), LEARN_ERR_ARG);
    ck_assert_str_eq(learn_status_str(LEARN_ERR_FORMAT), "LEARN_ERR_FORMAT: malformed file or data");
    ck_assert_str_eq(learn_status_str((learn_status)-999), "unknown status");
    ck_assert_str_eq(learn_version(), LEARN_VERSION_STRING);
    ck_assert_str_eq(learn_type_name(LEARN_TYPE_Q4_0), "q4_0");
    ck_assert_ptr_null(learn_type_name(LEARN_TYPE_COUNT));
    ck_assert_uint_eq(learn_type_row_bytes(LEARN_TYPE_Q8_0, 64), 68);
    ck_assert_uint_eq(learn_type_row_bytes(LEARN_TYPE_Q4_0, 48), 0);
    ck_assert_uint_eq(learn_type_row_bytes(LEARN_TYPE_F32, UINT64_MAX), 0);
}
END_TEST

/* Allocation failure at every step of open: clean NOMEM, nothing leaked. */
START_TEST(test_open_nomem_loop) {
    fmt_sample s;
    learn_writer *w = fmt_sample_writer(&s);
    test_blob b = test_blob_from_writer(w);
    learn_writer_free(w);
    int completed = 0;
    for (long n = 1; n < 100 && !completed; n++) {
        test_counting cnt = {0, 0, n};
        learn_model_params p = learn_model_default_params();
        p.allocator = test_counting_allocator(&cnt);
        learn_model *m = NULL;
        char err[LEARN_ERRMSG_SIZE];
        learn_status st = learn_model_open_memory(b.p, b.n, &p, &m, err, sizeof err);
        if (st == LEARN_OK) {
            completed = 1;
            learn_model_close(m);
        } else {
            ck_assert_msg(st == LEARN_ERR_NOMEM, "allocation %ld: status %d %s", n, st, err);
            ck_assert_ptr_null(m);
        }
        ck_assert_int_eq(cnt.live, 0);
    }
    ck_assert(completed);
    test_blob_free(&b);
}
END_TEST

/* ---- learn_model_scan (RELIABILITY A.9) ---- */

START_TEST(test_scan_numeric) {
    fmt_sample s;
    learn_writer *w = fmt_sample_writer(&s);
    test_blob b = test_blob_from_writer(w);
    char err[LEARN_ERRMSG_SIZE];
    learn_model *m;
    uint64_t n;
    ck_assert_int_eq(learn_model_open_memory(b.p, b.n, NULL, &m, NULL, 0), LEARN_OK);
    ck_assert_int_eq(learn_model_scan(m, &n, err, sizeof err), LEARN_OK);
    ck_assert_uint_eq(n, 15 + 14 + 4 + 192 + 32 + 5 + 6 + 100);
    learn_model_close(m);
    test_blob_free(&b);
    struct {
        void *at;
        size_t len;
        uint8_t bytes[4];
        const char *msg;
    } cases[] = {
        {&s.f32[7], 4, {0, 0, 0xc0, 0x7f}, "tensor 'f32': element 7 is NaN"},
        {&s.f32[2], 4, {0, 0, 0x80, 0xff}, "tensor 'f32': element 2 is Inf"},
        {&s.f16[3], 2, {0, 0x7c}, "tensor 'f16': element 3 is Inf"},
        {&s.bf16[1], 2, {0x81, 0x7f}, "tensor 'bf16': element 1 is NaN"},
        {&s.q8[2 * 34], 2, {0, 0}, "tensor 'q8': block 2 (elements 64..95): scale is zero"},
        {&s.q8[5 * 34], 2, {0, 0x80}, "tensor 'q8': block 5 (elements 160..191): scale is zero"},
        {&s.q4[0], 2, {1, 0xfc}, "tensor 'q4': block 0 (elements 0..31): scale is NaN"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t save[4];
        memcpy(save, cases[i].at, cases[i].len);
        memcpy(cases[i].at, cases[i].bytes, cases[i].len);
        learn_writer_remove_tensor(w, "q4");
        uint64_t sq4[2] = {1, 32};
        learn_writer_add_tensor(w, "q4", LEARN_TYPE_Q4_0, 2, sq4, s.q4, 0);
        b = test_blob_from_writer(w);
        ck_assert_int_eq(learn_model_open_memory(b.p, b.n, NULL, &m, NULL, 0), LEARN_OK);
        ck_assert_msg(learn_model_scan(m, &n, err, sizeof err) == LEARN_ERR_NUMERIC, "case %zu", i);
        ck_assert_msg(strstr(err, cases[i].msg), "%s", err);
        learn_model_close(m);
        test_blob_free(&b);
        memcpy(cases[i].at, save, cases[i].len);
    }
    learn_writer_free(w);
}
END_TEST

static Suite *make_format_suite(void) {
    Suite *s = suite_create("format");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_roundtrip_memory_and_file);
    tcase_add_test(core, test_xxh64_vectors);
    tcase_add_test(core, test_writer_rules);
    tcase_add_test(core, test_fingerprints);
    tcase_add_test(core, test_allocators_and_args);
    tcase_add_test(core, test_scan_numeric);
    suite_add_tcase(s, core);
    TCase *bad = tcase_create("bad input");
    tcase_set_timeout(bad, 120);
    tcase_add_test(bad, test_checksum_detects_every_flip);
    tcase_add_test(bad, test_bad_header);
    tcase_add_test(bad, test_bad_files_on_disk);
    tcase_add_test(bad, test_bad_counts);
    tcase_add_test(bad, test_bad_arch_counts);
    tcase_add_test(bad, test_bad_dims);
    tcase_add_test(bad, test_bad_layout);
    tcase_add_test(bad, test_align_overflow);
    tcase_add_test(bad, test_bad_strings_and_keys);
    tcase_add_test(bad, test_arch_tensors);
    tcase_add_test(bad, test_arch_shapes_and_types);
    tcase_add_test(bad, test_random_mutations);
    suite_add_tcase(s, bad);
    TCase *faults = tcase_create("faults");
    tcase_add_test(faults, test_atomic_save_faults);
    tcase_add_test(faults, test_open_nomem_loop);
    suite_add_tcase(s, faults);
    return s;
}
