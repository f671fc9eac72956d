/* learn-cli data: MovieLens and UniSRec adapters on small files written here, and the
   synthetic generator's determinism. */

static void data_write(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static char *data_slurp(const char *path) {
    char *s = (char *)test_read_file(path, NULL);
    ck_assert_msg(s != NULL, "%s", path);
    return s;
}

START_TEST(test_data_movielens) {
    char dir[512], out[600], p[800];
    snprintf(dir, sizeof dir, "%s", test_tmp_path("ml"));
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/movies.csv", dir);
    /* A BOM, CRLF line ends, quoted titles with commas and doubled quotes. */
    data_write(p, "\xef\xbb\xbfmovieId,title,genres\r\n1,Toy Story (1995),Adventure|Animation\r\n"
                  "11,\"American President, The (1995)\",Comedy|Drama|Romance\r\n"
                  "12,\"Dracula: Dead and Loving It \"\"Spoof\"\" (1995)\",Comedy|Horror\r\n");
    snprintf(p, sizeof p, "%s/ratings.csv", dir);
    data_write(p, "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,11,2.5,964981247\n2,12,5.0,964982224\n");
    snprintf(out, sizeof out, "%s/out", dir);
    data_counts c;
    ck_assert_int_eq(data_movielens(dir, out, "Title: {title}. Genres: {genres}", -1e300, &c), 0);
    ck_assert_uint_eq(c.items, 3);
    ck_assert_uint_eq(c.interactions, 3);
    snprintf(p, sizeof p, "%s/items.jsonl", out);
    char *items = data_slurp(p);
    ck_assert_msg(strstr(items, "{\"id\": \"11\", \"text\": \"Title: American President, The (1995). Genres: Comedy, Drama, Romance\""), "%s", items);
    ck_assert_ptr_nonnull(strstr(items, "Dead and Loving It \\\"Spoof\\\" (1995)"));
    free(items);
    snprintf(p, sizeof p, "%s/interactions.tsv", out);
    char *inter = data_slurp(p);
    ck_assert_str_eq(inter, "1\t1\t964982703\n1\t11\t964981247\n2\t12\t964982224\n");
    free(inter);
    ck_assert_int_eq(data_movielens(dir, out, "{title}", 3.0, &c), 0);
    ck_assert_uint_eq(c.interactions, 2);
    ck_assert_uint_eq(c.skipped, 1);
    /* Errors name the file and line; nothing is written. */
    snprintf(p, sizeof p, "%s/ratings.csv", dir);
    data_write(p, "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,11,x,964981247\n");
    char out2[600];
    snprintf(out2, sizeof out2, "%s/out2", dir);
    ck_assert_int_ne(data_movielens(dir, out2, "{title}", -1e300, &c), 0);
    snprintf(p, sizeof p, "%s/items.jsonl", out2);
    ck_assert_int_ne(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/ratings.csv", dir);
    data_write(p, "userId,movieId,rating,timestamp\n1,1,4.0\n");
    ck_assert_int_ne(data_movielens(dir, out2, "{title}", -1e300, &c), 0);
    snprintf(p, sizeof p, "%s/movies.csv", dir);
    data_write(p, "movieId,title,genres\n1,\"unterminated,Comedy\n");
    ck_assert_int_ne(data_movielens(dir, out2, "{title}", -1e300, &c), 0);
}
END_TEST

START_TEST(test_data_unisrec) {
    char dir[512], pre[600], out[600], p[700];
    snprintf(dir, sizeof dir, "%s", test_tmp_path("uni"));
    mkdir(dir, 0755);
    snprintf(pre, sizeof pre, "%s/Sci", dir);
    snprintf(p, sizeof p, "%s.item2index", pre);
    data_write(p, "B0001\t0\nB0002\t1\nB0003\t2\n");
    snprintf(p, sizeof p, "%s.user2index", pre);
    data_write(p, "AUSER1\t0\nAUSER2\t1\n");
    snprintf(p, sizeof p, "%s.text", pre);
    data_write(p, "item_id:token\ttext:token_seq\nB0001\tmicroscope slides glass\nB0002\tlab goggles\nB0003\tpipette tips 200ul\n");
    snprintf(p, sizeof p, "%s.test.inter", pre);
    data_write(p, "user_id:token\titem_id_list:token_seq\titem_id:token\n0\t0 1\t2\n1\t2\t0\n");
    snprintf(out, sizeof out, "%s/out", dir);
    data_counts c;
    ck_assert_int_eq(data_unisrec(pre, out, &c), 0);
    ck_assert_uint_eq(c.items, 3);
    ck_assert_uint_eq(c.interactions, 5);
    snprintf(p, sizeof p, "%s/interactions.tsv", out);
    char *inter = data_slurp(p);
    ck_assert_str_eq(inter, "AUSER1\tB0001\t0\nAUSER1\tB0002\t1\nAUSER1\tB0003\t2\nAUSER2\tB0003\t0\nAUSER2\tB0001\t1\n");
    free(inter);
    snprintf(p, sizeof p, "%s/items.jsonl", out);
    char *items = data_slurp(p);
    ck_assert_ptr_nonnull(strstr(items, "{\"id\": \"B0003\", \"text\": \"pipette tips 200ul\"}"));
    free(items);
    /* An unknown item index in the test file. */
    snprintf(p, sizeof p, "%s.test.inter", pre);
    data_write(p, "0\t0 7\t2\n");
    ck_assert_int_ne(data_unisrec(pre, out, &c), 0);
    /* A duplicate raw id. */
    snprintf(p, sizeof p, "%s.item2index", pre);
    data_write(p, "B0001\t0\nB0001\t1\n");
    ck_assert_int_ne(data_unisrec(pre, out, &c), 0);
}
END_TEST

START_TEST(test_data_synth) {
    char a[600], b[600], p[700];
    snprintf(a, sizeof a, "%s", test_tmp_path("syn-a"));
    snprintf(b, sizeof b, "%s", test_tmp_path("syn-b"));
    data_synth_opts o = {60, 50, 7, 5, 40, 0.9, 8.0, "Title: {title}. Brand: {brand}. Category: {category}"};
    data_counts ca, cb;
    ck_assert_int_eq(data_synth(a, &o, &ca), 0);
    ck_assert_int_eq(data_synth(b, &o, &cb), 0);
    ck_assert_uint_eq(ca.items, 60);
    ck_assert_uint_eq(ca.interactions, cb.interactions);
    ck_assert_uint_ge(ca.interactions, 50 * 5);
    const char *files[] = {"items.jsonl", "interactions.tsv", "tastes.jsonl"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", a, files[i]);
        char *x = data_slurp(p);
        snprintf(p, sizeof p, "%s/%s", b, files[i]);
        char *y = data_slurp(p);
        ck_assert_str_eq(x, y); /* same seed, same data */
        free(x);
        free(y);
    }
    o.seed = 8;
    ck_assert_int_eq(data_synth(b, &o, &cb), 0);
    snprintf(p, sizeof p, "%s/interactions.tsv", a);
    char *x = data_slurp(p);
    snprintf(p, sizeof p, "%s/interactions.tsv", b);
    char *y = data_slurp(p);
    ck_assert_str_ne(x, y);
    free(x);
    free(y);
}
END_TEST

static Suite *make_data_suite(void) {
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("adapters");
    tcase_add_test(tc, test_data_movielens);
    tcase_add_test(tc, test_data_unisrec);
    tcase_add_test(tc, test_data_synth);
    suite_add_tcase(s, tc);
    return s;
}
