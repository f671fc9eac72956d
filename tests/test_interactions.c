/* Interaction logs: ordering, unknown items, splits, and the ranking metrics. */

/* A catalog with items "a".."f" (4-d item embeddings). */
static learn_catalog *inter_catalog(learn_model **model, test_blob *mb, void **data, learn_catalog_builder **b) {
    learn_writer *w;
    learn_writer_new(NULL, &w);
    learn_writer_set_u32(w, "x", 1);
    *mb = test_blob_from_writer(w);
    learn_writer_free(w);
    ck_assert_int_eq(learn_model_open_memory(mb->p, mb->n, NULL, model, NULL, 0), LEARN_OK);
    ck_assert_int_eq(learn_catalog_builder_new(*model, 4, 4, b), LEARN_OK);
    float v[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    const char *ids = "abcdef";
    for (int i = 0; i < 6; i++) ck_assert_int_eq(learn_catalog_builder_add(*b, ids + i, 1, v, v), LEARN_OK);
    size_t size;
    ck_assert_int_eq(learn_catalog_builder_save_memory(*b, data, &size), LEARN_OK);
    learn_catalog *cat;
    ck_assert_int_eq(learn_catalog_open_memory(*data, size, NULL, &cat, NULL, 0), LEARN_OK);
    return cat;
}

START_TEST(test_interactions_load_and_split) {
    learn_model *m;
    test_blob mb;
    void *data;
    learn_catalog_builder *b;
    learn_catalog *cat = inter_catalog(&m, &mb, &data, &b);
    const char *path = test_tmp_path("inter.tsv");
    FILE *f = fopen(path, "wb");
    /* u1 out of time order; u2 with equal timestamps (line order decides); an unknown item;
       a blank line; CRLF. */
    fputs("\xef\xbb\xbfu1\tc\t30\r\nu2\ta\t5\nu1\ta\t10\n\nu1\tb\t20\nu2\tf\t5\nu1\tzz\t1\nu2\te\t5\nu1\td\t40.5\nu3\tb\t1\n", f);
    fclose(f);
    inter_data d;
    char err[256];
    ck_assert_msg(inter_load(path, cat, &d, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(d.n_users, 3);
    ck_assert_uint_eq(d.n_lines, 9);
    ck_assert_uint_eq(d.n_unknown, 1);
    ck_assert_str_eq(d.first_unknown, "zz");
    ck_assert_str_eq(d.user_ids[0], "u1");
    /* u1: a(10) b(20) c(30) d(40.5) -> 0 1 2 3 */
    const uint32_t want_u1[4] = {0, 1, 2, 3}, want_u2[3] = {0, 5, 4};
    ck_assert_uint_eq(d.seq_off[1] - d.seq_off[0], 4);
    ck_assert(memcmp(d.seq + d.seq_off[0], want_u1, sizeof want_u1) == 0);
    ck_assert(memcmp(d.seq + d.seq_off[1], want_u2, sizeof want_u2) == 0);
    const uint32_t *h;
    uint32_t t;
    ck_assert_uint_eq(inter_history(&d, 0, INTER_TEST, 40, &h, &t), 3);
    ck_assert_uint_eq(t, 3);
    ck_assert_uint_eq(h[0], 0);
    ck_assert_uint_eq(inter_history(&d, 0, INTER_VALID, 40, &h, &t), 2);
    ck_assert_uint_eq(t, 2);
    ck_assert_uint_eq(inter_history(&d, 0, INTER_TEST, 2, &h, &t), 2); /* the last 2 */
    ck_assert_uint_eq(h[0], 1);
    ck_assert_uint_eq(inter_history(&d, 2, INTER_TEST, 40, &h, &t), 0);  /* u3: one item */
    ck_assert_uint_eq(inter_history(&d, 1, INTER_VALID, 40, &h, &t), 1); /* u2: 3 items */
    inter_free(&d);
    /* Malformed lines name the line. */
    f = fopen(path, "wb");
    fputs("u1\ta\t1\nu1\tb\n", f);
    fclose(f);
    ck_assert_int_ne(inter_load(path, cat, &d, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "line 2"), "%s", err);
    f = fopen(path, "wb");
    fputs("u1\ta\tNaN\n", f);
    fclose(f);
    ck_assert_int_ne(inter_load(path, cat, &d, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "line 1: timestamp 'NaN'"), "%s", err);
    f = fopen(path, "wb");
    fputs("u1\ta\t1\tx\n", f);
    fclose(f);
    ck_assert_int_ne(inter_load(path, cat, &d, err, sizeof err), 0);
    ck_assert_int_ne(inter_load("build/tmp/does-not-exist.tsv", cat, &d, err, sizeof err), 0);
    learn_catalog_close(cat);
    learn_catalog_builder_free_buffer(b, data);
    learn_catalog_builder_free(b);
    learn_model_close(m);
    test_blob_free(&mb);
}
END_TEST

START_TEST(test_metrics) {
    eval_metrics m;
    memset(&m, 0, sizeof m);
    eval_add_rank(&m, 0);  /* hit@1 */
    eval_add_rank(&m, 9);  /* last place in the top 10 */
    eval_add_rank(&m, 10); /* in the top 50 only */
    eval_add_rank(&m, 60); /* outside */
    eval_finish(&m);
    ck_assert_uint_eq(m.n, 4);
    ck_assert(fabs(m.recall10 - 0.5) < 1e-12);
    ck_assert(fabs(m.recall50 - 0.75) < 1e-12);
    ck_assert(fabs(m.ndcg10 - (1.0 + 1.0 / log2(11.0)) / 4) < 1e-12);
    ck_assert(fabs(m.ndcg50 - (1.0 + 1.0 / log2(11.0) + 1.0 / log2(12.0)) / 4) < 1e-12);
    ck_assert(fabs(m.mrr - (1.0 + 0.1 + 1.0 / 11 + 1.0 / 61) / 4) < 1e-12);
    /* Ties do not count against the target: only strictly higher scores do. */
    float s[5] = {0.5f, 0.9f, 0.5f, 0.1f, 0.5f};
    ck_assert_uint_eq(eval_rank(s, 5, 0), 1);
    ck_assert_uint_eq(eval_rank(s, 5, 3), 4);
    ck_assert_uint_eq(eval_rank(s, 5, 1), 0);
}
END_TEST

static Suite *make_interactions_suite(void) {
    Suite *s = suite_create("interactions");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_interactions_load_and_split);
    tcase_add_test(tc, test_metrics);
    suite_add_tcase(s, tc);
    return s;
}
