/* The whole pipeline through learn-cli on a bare clone: a tiny random-weight LLM with a BPE
   tokenizer trained here, generated data, catalog build/merge/add/reembed/export, training,
   recommendations and evaluation, plus their bad inputs (RELIABILITY.md E). */

START_TEST(test_bpe_train_roundtrip) {
    size_t lens[5];
    for (int i = 0; i < 5; i++) lens[i] = strlen(test_rec_texts[i]);
    learn_writer *w;
    learn_writer_new(NULL, &w);
    bpe_train_stats bs;
    char err[256];
    ck_assert_msg(bpe_train(test_rec_texts, lens, 5, 300, w, &bs, err, sizeof err) == LEARN_OK, "%s", err);
    ck_assert_uint_gt(bs.n_merges, 10);
    ck_assert_uint_eq(bs.n_vocab, 256 + bs.n_merges + 1);
    test_blob b = test_blob_from_writer(w);
    learn_writer_free(w);
    learn_model *m;
    ck_assert_msg(learn_model_open_memory(b.p, b.n, NULL, &m, err, sizeof err) == LEARN_OK, "%s", err);
    learn_ctx *ctx;
    ck_assert_int_eq(learn_ctx_new(m, NULL, &ctx), LEARN_OK);
    const char *text = "Title: Acme Trail Tent. Brand: Zephyr \xc3\xa9t\xc3\xa9 42";
    int32_t ids[256];
    size_t n;
    ck_assert_int_eq(learn_tokenize(ctx, text, strlen(text), 0, ids, 256, &n), LEARN_OK);
    ck_assert_uint_lt(n, strlen(text)); /* merges apply */
    char back[256];
    size_t len;
    ck_assert_int_eq(learn_detokenize(ctx, ids, n, back, sizeof back, &len), LEARN_OK);
    ck_assert_str_eq(back, text);
    learn_ctx_free(ctx);
    learn_model_close(m);
    test_blob_free(&b);
    /* Too small a vocabulary, and texts without repeated pairs, are refused. */
    learn_writer_new(NULL, &w);
    ck_assert_int_eq(bpe_train(test_rec_texts, lens, 5, 100, w, NULL, err, sizeof err), LEARN_ERR_ARG);
    const char *one = "ab";
    size_t one_len = 2;
    ck_assert_int_eq(bpe_train(&one, &one_len, 1, 300, w, NULL, err, sizeof err), LEARN_ERR_ARG);
    learn_writer_free(w);
}
END_TEST

/* learn_encode names an item by its number in the caller's array, also past its first chunk
   of 256 items, and encodes each item as it would alone. */
START_TEST(test_encode_item_numbers) {
    learn_writer *w;
    learn_writer_new(NULL, &w);
    test_llm t = {{0}, 0};
    test_rec_build(w, &t, LEARN_TYPE_F32, 0);
    test_blob b = test_blob_from_writer(w);
    learn_writer_free(w);
    learn_model *m;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_msg(learn_model_open_memory(b.p, b.n, NULL, &m, err, sizeof err) == LEARN_OK, "%s", err);
    learn_tokenizer_info ti;
    ck_assert_int_eq(learn_tokenizer_get_info(m, &ti), LEARN_OK);
    ck_assert_int_eq(ti.add_bos, 0); /* so that an empty text gives no token */
    learn_model_info mi;
    learn_model_get_info(m, &mi);
    learn_ctx_params p = learn_ctx_default_params();
    p.n_threads = 1;
    p.max_text_len = 90; /* the texts are shorter */
    learn_ctx *ctx;
    ck_assert_int_eq(learn_ctx_new(m, &p, &ctx), LEARN_OK);
    enum { N = 300 };
    static const char *texts[N];
    char longer[100];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    for (int i = 0; i < N; i++) texts[i] = test_rec_texts[i % 5];
    float *out = (float *)malloc((size_t)N * mi.n_embd * sizeof(float)), *one = (float *)malloc(mi.n_embd * sizeof(float));
    ck_assert_msg(learn_encode(ctx, N, texts, NULL, out) == LEARN_OK, "%s", learn_ctx_errmsg(ctx));
    for (int i = 250; i < 260; i++) {
        ck_assert_int_eq(learn_encode(ctx, 1, &texts[i], NULL, one), LEARN_OK);
        ck_assert(memcmp(one, out + (size_t)i * mi.n_embd, mi.n_embd * sizeof(float)) == 0);
    }
    texts[270] = longer;
    ck_assert_int_eq(learn_encode(ctx, N, texts, NULL, out), LEARN_ERR_TOO_LONG);
    ck_assert_msg(strncmp(learn_ctx_errmsg(ctx), "item 270: learn_tokenize: text of 99 bytes", 42) == 0, "%s",
                  learn_ctx_errmsg(ctx));
    texts[270] = "";
    ck_assert_int_eq(learn_encode(ctx, N, texts, NULL, out), LEARN_ERR_ARG);
    ck_assert_str_eq(learn_ctx_errmsg(ctx), "item 270: the text gives no tokens");
    texts[263] = NULL;
    ck_assert_int_eq(learn_encode(ctx, N, texts, NULL, out), LEARN_ERR_ARG);
    ck_assert_str_eq(learn_ctx_errmsg(ctx), "text 263 is NULL");
    free(out);
    free(one);
    learn_ctx_free(ctx);
    learn_model_close(m);
    test_llm_free(&t);
    test_blob_free(&b);
}
END_TEST

/* Writes the tiny model (random llama, BPE tokenizer, template) to path. */
static void pipe_model(const char *path) {
    learn_writer *w;
    learn_writer_new(NULL, &w);
    test_llm t = {{0}, 0};
    test_rec_build(w, &t, LEARN_TYPE_F32, 0);
    ck_assert_int_eq(learn_writer_save(w, path), LEARN_OK);
    learn_writer_free(w);
    test_llm_free(&t);
}

/* Runs "cli ARGS", expecting exit code `want`; returns the output. */
static const char *pipe_run(const char *cli, int want, const char *fmt, ...) {
    static char out[1 << 16];
    char args[3000], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s %s", cli, args);
    int rc = test_run(cmd, out, sizeof out);
    ck_assert_msg(rc == want, "`learn-cli %s` exited %d (expected %d):\n%s", args, rc, want, out);
    return out;
}

/* Writes text into dir/name, with that path in p. */
static void pipe_file(char *p, size_t cap, const char *dir, const char *name, const char *text) {
    snprintf(p, cap, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    ck_assert_msg(f != NULL, "%s", p);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

static int pipe_count_lines(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF) n += c == '\n';
    fclose(f);
    return n;
}

START_TEST(test_pipeline) {
    TEST_CLI(cli);
    char d[512], p[700];
    snprintf(d, sizeof d, "%s", test_tmp_path("pipe"));
    mkdir(d, 0755);
    char model[600], cat[600], data[600];
    snprintf(model, sizeof model, "%s/model.learn", d);
    snprintf(cat, sizeof cat, "%s/cat.learn", d);
    snprintf(data, sizeof data, "%s/data", d);
    pipe_model(model);
    pipe_run(cli, 0, "data synth -o %s --items 48 --users 60 --seed 3", data);
    /* Build, and build in two shards then merge: the same catalog. */
    const char *o = pipe_run(cli, 0, "catalog build %s %s/items.jsonl -o %s --threads 2", model, data, cat);
    ck_assert_msg(strstr(o, "48 items"), "%s", o);
    pipe_run(cli, 0, "catalog build %s %s/items.jsonl -o %s/a.learn --shard 0/2", model, data, d);
    pipe_run(cli, 0, "catalog build %s %s/items.jsonl -o %s/b.learn --shard 1/2", model, data, d);
    pipe_run(cli, 0, "catalog merge -o %s/ab.learn %s/a.learn %s/b.learn", d, d, d);
    learn_catalog *c1, *c2;
    char err[LEARN_ERRMSG_SIZE];
    snprintf(p, sizeof p, "%s/ab.learn", d);
    ck_assert_msg(learn_catalog_open(cat, NULL, &c1, err, sizeof err) == LEARN_OK, "%s", err);
    ck_assert_msg(learn_catalog_open(p, NULL, &c2, err, sizeof err) == LEARN_OK, "%s", err);
    learn_catalog_info i1 = {0, 0, 0, 0, 0}, i2 = {0, 0, 0, 0, 0};
    learn_catalog_get_info(c1, &i1);
    learn_catalog_get_info(c2, &i2);
    ck_assert_uint_eq(i1.n_items, 48);
    ck_assert_uint_eq(i2.n_items, 48);
    ck_assert(i1.content_fingerprint == i2.content_fingerprint);
    ck_assert(memcmp(learn_catalog_items(c1), learn_catalog_items(c2), 48 * (size_t)i1.d_item * 4) == 0);
    learn_catalog_close(c1);
    learn_catalog_close(c2);
    /* Export for numpy. */
    pipe_run(cli, 0, "catalog export %s --npy %s/npy", cat, d);
    snprintf(p, sizeof p, "%s/npy/ids.txt", d);
    ck_assert_int_eq(pipe_count_lines(p), 48);
    snprintf(p, sizeof p, "%s/npy/item.npy", d);
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_eq((long)sb.st_size, 128 + 48 * 64 * 4); /* towerless: d_item = 64 */
    /* Training, then the catalog's item embeddings for the new towers. */
    char m2[600], cat2[600];
    snprintf(m2, sizeof m2, "%s/trained.learn", d);
    snprintf(cat2, sizeof cat2, "%s/cat2.learn", d);
    o = pipe_run(cli, 0, "train %s %s %s/interactions.tsv -o %s --epochs 2 --d-model 32 --layers 1 --heads 2 "
                 "--d-out 16 --batch 16 --lr 1e-3 --threads 2", model, cat, data, m2);
    ck_assert_msg(strstr(o, "epoch 2"), "%s", o);
    /* --patience: a learning rate too small to change any score stops after 1 + N epochs. */
    char m3[600];
    snprintf(m3, sizeof m3, "%s/patient.learn", d);
    o = pipe_run(cli, 0, "train %s %s %s/interactions.tsv -o %s --epochs 30 --patience 2 --d-model 32 --layers 1 "
                 "--heads 2 --d-out 16 --batch 16 --lr 1e-12 --threads 2", model, cat, data, m3);
    ck_assert_msg(strstr(o, "epoch 3:") && !strstr(o, "epoch 4:") && strstr(o, "stopping early: no better validation score in 2 epochs"),
                  "%s", o);
    o = pipe_run(cli, 1, "recommend %s %s --history P00001", m2, cat);
    ck_assert_msg(strstr(o, "catalog reembed"), "%s", o);
    pipe_run(cli, 0, "catalog reembed %s %s -o %s", m2, cat, cat2);
    /* Recommendations: history excluded, sorted, K bounded by the catalog. */
    o = pipe_run(cli, 0, "recommend %s %s --history P00001,P00002 -k 5 --json", m2, cat2);
    ck_assert_msg(strstr(o, "\"count\": 5"), "%s", o);
    ck_assert_ptr_null(strstr(o, "\"P00001\""));
    o = pipe_run(cli, 0, "recommend %s %s --history P00001,P00002 -k 500 --json", m2, cat2);
    ck_assert_msg(strstr(o, "\"count\": 46"), "%s", o);
    o = pipe_run(cli, 0, "recommend %s %s --history P00001,P00002 -k 500 --json --include-history", m2, cat2);
    ck_assert_msg(strstr(o, "\"count\": 48"), "%s", o);
    o = pipe_run(cli, 0, "recommend %s %s --history P00001,NOPE,P00001 -k 3", m2, cat2);
    ck_assert_msg(strstr(o, "1 history id(s) not in the catalog, skipped: NOPE"), "%s", o);
    /* Duplicates in a history (RELIABILITY E.2): kept in order for the user embedding, each
       item excluded once. */
    o = pipe_run(cli, 0, "recommend %s %s --history P00001,P00002,P00001 -k 500 --json", m2, cat2);
    ck_assert_msg(strstr(o, "\"count\": 46"), "%s", o);
    char *u_dup = strdup(pipe_run(cli, 0, "user %s %s --history P00001,P00002,P00001", m2, cat2));
    char *u_one = strdup(pipe_run(cli, 0, "user %s %s --history P00001,P00002", m2, cat2));
    ck_assert(u_dup && u_one && u_dup[0] == '[' && u_one[0] == '[');
    ck_assert_msg(strcmp(u_dup, u_one) != 0, "a repeated item must count again: %s", u_dup);
    ck_assert_str_eq(u_dup, pipe_run(cli, 0, "user %s %s --history P00001,P00002,P00001", m2, cat2));
    free(u_dup);
    free(u_one);
    o = pipe_run(cli, 1, "recommend %s %s --history P00001,NOPE -k 3 --strict", m2, cat2);
    ck_assert_msg(strstr(o, "'NOPE' is not in the catalog"), "%s", o);
    o = pipe_run(cli, 1, "recommend %s %s --history NOPE -k 3", m2, cat2);
    ck_assert_msg(strstr(o, "no item of the catalog"), "%s", o);
    o = pipe_run(cli, 1, "recommend %s %s --history P00001 -k 0", m2, cat2);
    ck_assert_msg(strstr(o, "-k must be at least 1"), "%s", o);
    o = pipe_run(cli, 1, "recommend %s %s --history P00001 -k -3", m2, cat2);
    o = pipe_run(cli, 0, "user %s %s --history P00003,P00004", m2, cat2);
    ck_assert_msg(o[0] == '[' && strchr(o, ']'), "%s", o);
    /* Batch mode: good, unknown-only and malformed records. */
    pipe_file(p, sizeof p, d, "users.jsonl",
              "{\"user\": \"u1\", \"history\": [\"P00001\", \"P00005\"]}\n{\"user\": \"u2\", \"history\": [\"nope\"]}\n"
              "not json\n\n{\"user\": 7, \"history\": \"P00001\"}\n{\"user\": \"u3\", \"history\": [\"P00009\", \"x,y\"]}\n");
    o = pipe_run(cli, 0, "recommend %s %s --batch -k 2 < %s", m2, cat2, p);
    ck_assert_msg(strstr(o, "{\"user\": \"u1\", \"items\": [{\"id\": "), "%s", o);
    ck_assert_msg(strstr(o, "{\"user\": \"u2\", \"line\": 2, \"error\": \"the history has no item of the catalog\"}"), "%s", o);
    ck_assert_msg(strstr(o, "\"line\": 3, \"error\""), "%s", o);
    ck_assert_msg(strstr(o, "{\"user\": 7, \"line\": 5, \"error\": \"\\\"history\\\" is missing or not an array\"}"), "%s", o);
    ck_assert_msg(strstr(o, "\"unknown\": [\"x,y\"]"), "%s", o);
    ck_assert_msg(strstr(o, "3 users answered") || strstr(o, "2 users answered"), "%s", o);
    /* 70 users (two rounds of answers): in input order, each with the hits of a single call. */
    static const char *const hists[3] = {"P00001,P00005", "P00007", "P00002,P00003,P00004"};
    FILE *f = fopen(p, "wb");
    for (int u = 0; u < 70; u++) {
        char h[64];
        snprintf(h, sizeof h, "%s", hists[u % 3]);
        fprintf(f, "{\"user\": %d, \"history\": [", u);
        for (char *t = strtok(h, ","); t; t = strtok(NULL, ",")) fprintf(f, "%s\"%s\"", t == h ? "" : ", ", t);
        fprintf(f, "]}\n");
    }
    fclose(f);
    char outp[600];
    snprintf(outp, sizeof outp, "%s/answers.jsonl", d);
    pipe_run(cli, 0, "recommend %s %s --batch -k 5 < %s > %s", m2, cat2, p, outp); /* stderr too */
    f = fopen(outp, "rb");
    ck_assert_ptr_nonnull(f);
    char *batch_out = (char *)calloc(1, 1 << 16);
    ck_assert_uint_lt(fread(batch_out, 1, (1 << 16) - 1, f), (1 << 16) - 1);
    fclose(f);
    ck_assert_msg(strstr(batch_out, "}\nlearn-cli recommend: 70 users answered, 0 records with errors\n"), "%s",
                  batch_out);
    const char *line = batch_out;
    for (int u = 0; u < 70; u++) {
        char head[48];
        snprintf(head, sizeof head, "{\"user\": %d, \"items\": [", u);
        ck_assert_msg(strncmp(line, head, strlen(head)) == 0, "record %d: %.80s", u, line);
        const char *items = line + strlen(head) - 1, *end = strstr(items, "], \"unknown\"");
        ck_assert_ptr_nonnull(end);
        if (u < 3 || u >= 66) {
            const char *one = pipe_run(cli, 0, "recommend %s %s --history %s -k 5 --json", m2, cat2, hists[u % 3]);
            const char *oi = strstr(one, "\"items\": [");
            ck_assert_ptr_nonnull(oi);
            oi += strlen("\"items\": ");
            ck_assert_msg(strncmp(oi, items, (size_t)(end - items + 1)) == 0, "record %d: %.*s\nalone: %s", u,
                          (int)(end - items + 1), items, one);
        }
        line = strchr(line, '\n');
        ck_assert_ptr_nonnull(line);
        line++;
    }
    free(batch_out);
    /* Evaluation prints the model and both baselines. */
    o = pipe_run(cli, 0, "eval %s %s %s/interactions.tsv --json", m2, cat2, data);
    ck_assert_msg(strstr(o, "\"model\": {\"recall@10\": ") && strstr(o, "\"popularity\": {") &&
                  strstr(o, "\"raw_content\": {") && strstr(o, "\"users\": 60"), "%s", o);
    /* Cold start: add a new item without re-encoding the others; duplicates are refused. */
    pipe_file(p, sizeof p, d, "new.jsonl", "{\"id\": \"NEW1\", \"title\": \"Zephyr Ultralight Tent\", \"brand\": \"Zephyr\", \"category\": \"Camping\"}\n");
    o = pipe_run(cli, 0, "catalog add %s %s %s", m2, cat2, p);
    ck_assert_msg(strstr(o, "49 items"), "%s", o);
    o = pipe_run(cli, 1, "catalog add %s %s %s", m2, cat2, p);
    ck_assert_msg(strstr(o, "line 1: id 'NEW1' is already in"), "%s", o);
    o = pipe_run(cli, 0, "recommend %s %s --history P00001 -k 49 --json", m2, cat2);
    ck_assert_msg(strstr(o, "\"NEW1\""), "%s", o);
    /* A catalog from another model is refused, naming both fingerprints. */
    char other[600];
    snprintf(other, sizeof other, "%s/other.learn", d);
    pipe_run(cli, 0, "synth --arch llama --embd 64 --layers 1 --heads 4 --ff 64 --vocab 320 -o %s", other);
    o = pipe_run(cli, 1, "recommend %s %s --history P00001", other, cat2);
    ck_assert_msg(strstr(o, "another model"), "%s", o);
    /* Items with a duplicate id name both lines. */
    pipe_file(p, sizeof p, d, "dup.jsonl",
              "{\"id\": \"A\", \"text\": \"x\", \"title\": \"t\", \"brand\": \"b\", \"category\": \"c\"}\n"
              "{\"id\": \"A\", \"title\": \"u\", \"brand\": \"b\", \"category\": \"c\"}\n");
    o = pipe_run(cli, 1, "catalog build %s %s -o %s/dup.learn", model, p, d);
    ck_assert_msg(strstr(o, "line 2: id 'A' already appears on line 1"), "%s", o);
    /* embed: one line per text, and .npy. */
    pipe_file(p, sizeof p, d, "texts.txt", "Title: Acme Tea\nBrand: Zephyr\n");
    o = pipe_run(cli, 0, "embed %s < %s", model, p);
    ck_assert_int_eq(cli_count_lines(o), 2);
    pipe_run(cli, 0, "embed %s --npy %s/e.npy < %s", model, d, p);
    snprintf(p, sizeof p, "%s/e.npy", d);
    ck_assert_int_eq(stat(p, &sb), 0);
    ck_assert_int_eq((long)sb.st_size, 128 + 2 * 64 * 4);
    o = pipe_run(cli, 0, "embed %s --pooling none < %s/texts.txt", model, d);
    ck_assert_msg(strncmp(o, "[[", 2) == 0, "%s", o);
    /* A text that gives no token is named by its line, in any batch of the call. */
    pipe_file(p, sizeof p, d, "texts.txt", "Title: Acme Tea\nBrand: Zephyr\n\nTitle: Juniper\n");
    o = pipe_run(cli, 1, "embed %s --batch 2 < %s", model, p);
    ck_assert_msg(strstr(o, "learn-cli embed: line 3: the text gives no tokens"), "%s", o);
    o = pipe_run(cli, 1, "embed %s < %s", model, p);
    ck_assert_msg(strstr(o, "learn-cli embed: line 3: the text gives no tokens"), "%s", o);
    pipe_file(p, sizeof p, d, "empty-text.jsonl",
              "{\"id\": \"a\", \"text\": \"x\"}\n{\"id\": \"b\", \"text\": \"y\"}\n"
              "{\"id\": \"c\", \"text\": \"z\"}\n{\"id\": \"d\", \"text\": \"\"}\n");
    o = pipe_run(cli, 1, "catalog build %s %s -o %s/empty-text.learn", model, p, d);
    ck_assert_msg(strstr(o, "learn-cli catalog: line 4: the text gives no tokens"), "%s", o);
    snprintf(p, sizeof p, "%s/empty-text.learn", d);
    ck_assert_int_ne(stat(p, &sb), 0);
}
END_TEST

static Suite *make_pipeline_suite(void) {
    Suite *s = suite_create("pipeline");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_bpe_train_roundtrip);
    tcase_add_test(tc, test_encode_item_numbers);
    tcase_add_test(tc, test_pipeline);
    suite_add_tcase(s, tc);
    return s;
}
