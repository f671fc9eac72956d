/* Item records: template rendering and the JSONL reader's handling of bad input
   (RELIABILITY.md E: CRLF, BOM, blank lines, NUL, long lines, invalid UTF-8, deep nesting,
   duplicate keys, 1e999, NaN, missing fields). */

static const char *items_tmpl = "Title: {title}. Brand: {brand}. Tags: {tags}. Year: {year}";

START_TEST(test_item_render) {
    char err[256], *id;
    const char *rec = "{\"id\": \"B01\", \"title\": \"Trail Shoe\", \"brand\": \"Acme\", \"tags\": [\"run\", \"trail\", 3], \"year\": 2021}";
    char *t = item_render(rec, strlen(rec), items_tmpl, &id, NULL, err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    ck_assert_str_eq(t, "Title: Trail Shoe. Brand: Acme. Tags: run, trail, 3. Year: 2021");
    ck_assert_str_eq(id, "B01");
    free(t);
    free(id);
    const char *num = "{\"id\": 42, \"text\": \"plain \\u00e9\"}";
    t = item_render(num, strlen(num), "{text}", &id, NULL, err, sizeof err);
    ck_assert_str_eq(t, "plain \xc3\xa9");
    ck_assert_str_eq(id, "42");
    free(t);
    free(id);
    static const struct {
        const char *rec, *msg;
    } bad[] = {
        {"{\"id\": \"x\", \"title\": \"t\", \"tags\": [], \"year\": 1}", "field \"brand\" is missing"},
        {"{\"title\": \"t\"}", "\"id\" is missing"},
        {"{\"id\": 1.5}", "\"id\" is missing"},
        {"{\"id\": \"\"}", "\"id\" is empty"},
        {"{\"id\": \"x\", \"title\": {\"a\": 1}, \"brand\": \"b\", \"tags\": [], \"year\": 1}", "field \"title\" is an object"},
        {"{\"id\": \"x\", \"title\": \"t\", \"brand\": \"b\", \"tags\": [[1]], \"year\": 1}", "field \"tags\" is an object or a nested array"},
        {"[1, 2]", "not a JSON object"},
        {"{\"id\": \"x\", \"id\": \"y\"}", "uplicate"},
        {"{\"id\": \"x\", \"year\": 1e999}", "out of range"},
        {"{\"id\": \"x\", \"year\": NaN}", "line 1"},
        {"{\"id\": \"x\xff\"}", "UTF-8"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = item_render(bad[i].rec, strlen(bad[i].rec), items_tmpl, &id, NULL, err, sizeof err);
        ck_assert_msg(t == NULL, "case %zu accepted", i);
        ck_assert_msg(strstr(err, bad[i].msg), "case %zu: %s", i, err);
    }
    /* Deep nesting is refused, not a stack overflow. */
    size_t depth = 100000;
    char *deep = (char *)malloc(2 * depth + 32);
    size_t n = 0;
    n += (size_t)sprintf(deep, "{\"id\": \"x\", \"a\": ");
    for (size_t i = 0; i < depth; i++) deep[n++] = '[';
    for (size_t i = 0; i < depth; i++) deep[n++] = ']';
    deep[n++] = '}';
    t = item_render(deep, n, "{id}", &id, NULL, err, sizeof err);
    ck_assert_ptr_null(t);
    free(deep);
}
END_TEST

START_TEST(test_items_load) {
    const char *path = test_tmp_path("items.jsonl");
    FILE *f = fopen(path, "wb");
    fputs("\xef\xbb\xbf{\"id\": \"a\", \"text\": \"first\"}\r\n\n   \n{\"id\": \"b\", \"text\": \"second\"}\n{\"id\": 3, \"text\": \"third\"}", f);
    fclose(f);
    f = fopen(path, "rb");
    item_list l;
    char err[256];
    ck_assert_msg(items_load(f, "items.jsonl", "{text}", 1 << 20, &l, err, sizeof err) == 0, "%s", err);
    fclose(f);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_uint_eq(l.blank, 2);
    ck_assert_str_eq(l.items[0].id, "a");
    ck_assert_str_eq(l.items[2].text, "third");
    ck_assert_uint_eq(l.items[2].line, 5);
    items_free(&l);
    /* Errors name the line: bad JSON, a NUL byte, an over-long line. */
    f = fopen(path, "wb");
    fputs("{\"id\": \"a\", \"text\": \"ok\"}\n{\"id\": \"b\", \"text\": \"no end}\n", f);
    fclose(f);
    f = fopen(path, "rb");
    ck_assert_int_ne(items_load(f, "items.jsonl", "{text}", 1 << 20, &l, err, sizeof err), 0);
    fclose(f);
    ck_assert_msg(strstr(err, "items.jsonl: line 2"), "%s", err);
    f = fopen(path, "wb");
    fwrite("{\"id\": \"a\", \"text\": \"x\0y\"}\n", 1, 27, f);
    fclose(f);
    f = fopen(path, "rb");
    ck_assert_int_ne(items_load(f, "items.jsonl", "{text}", 1 << 20, &l, err, sizeof err), 0);
    fclose(f);
    ck_assert_msg(strstr(err, "line 1: NUL byte"), "%s", err);
    f = fopen(path, "wb");
    fputs("{\"id\": \"a\", \"text\": \"", f);
    for (int i = 0; i < (1 << 20); i++) fputc('x', f);
    fputs("\"}\n", f);
    fclose(f);
    f = fopen(path, "rb");
    ck_assert_int_ne(items_load(f, "items.jsonl", "{text}", 1 << 20, &l, err, sizeof err), 0);
    fclose(f);
    ck_assert_msg(strstr(err, "longer than the limit"), "%s", err);
    f = fopen(path, "rb"); /* a bigger limit takes it */
    ck_assert_int_eq(items_load(f, "items.jsonl", "{text}", 2 << 20, &l, err, sizeof err), 0);
    fclose(f);
    ck_assert_uint_eq(strlen(l.items[0].text), 1u << 20);
    items_free(&l);
}
END_TEST

/* A ready "text" stands in for the template's fields when one is missing; with both, the
   template is used, and the source is reported. */
START_TEST(test_item_render_text) {
    static const char *tmpl = "Title: {title}. Brand: {brand}. Category: {category}";
    static const struct {
        const char *tmpl, *rec, *want;
        item_source src;
    } cases[] = {
        {NULL, "{\"id\": \"a\", \"text\": \"Title: x\"}", "Title: x", ITEM_FROM_TEXT},
        {NULL, "{\"id\": \"a\", \"title\": \"x\", \"brand\": \"y\", \"category\": \"z\"}",
         "Title: x. Brand: y. Category: z", ITEM_FROM_TEMPLATE},
        {NULL, "{\"id\": \"a\", \"text\": \"ready\", \"title\": \"x\", \"brand\": \"y\", \"category\": \"z\"}",
         "Title: x. Brand: y. Category: z", ITEM_FROM_TEMPLATE_BOTH},
        /* some of the fields only: the ready text */
        {NULL, "{\"id\": \"a\", \"title\": \"x\", \"text\": \"ready \\u00e9\"}", "ready \xc3\xa9", ITEM_FROM_TEXT},
        /* a template that reads "text" itself */
        {"{text}", "{\"id\": 7, \"text\": \"plain\"}", "plain", ITEM_FROM_TEMPLATE},
        {"{title} / {text}", "{\"id\": 7, \"title\": \"t\", \"text\": \"plain\"}", "t / plain", ITEM_FROM_TEMPLATE},
    };
    char err[256], *id;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        item_source src = (item_source)99;
        const char *r = cases[i].rec;
        char *t = item_render(r, strlen(r), cases[i].tmpl ? cases[i].tmpl : tmpl, &id, &src, err, sizeof err);
        ck_assert_msg(t != NULL, "case %zu: %s", i, err);
        ck_assert_str_eq(t, cases[i].want);
        ck_assert_msg(src == cases[i].src, "case %zu: source %d", i, (int)src);
        free(t);
        free(id);
    }
    /* No "text" to fall back on (or one that is not a string): the missing field is named. */
    static const char *bad[] = {"{\"id\": \"a\", \"title\": \"x\", \"brand\": \"y\"}",
                                "{\"id\": \"a\", \"title\": \"x\", \"text\": 42}"};
    for (int i = 0; i < 2; i++) {
        ck_assert_ptr_null(item_render(bad[i], strlen(bad[i]), tmpl, &id, NULL, err, sizeof err));
        ck_assert_msg(strstr(err, i ? "field \"brand\" is missing" : "field \"category\" is missing") &&
                      strstr(err, "or the item's whole text in \"text\""), "%s", err);
    }
    /* items_load counts both kinds; items_note says which was used. */
    const char *path = test_tmp_path("items-text.jsonl");
    FILE *f = fopen(path, "wb");
    fputs("{\"id\": \"a\", \"text\": \"Title: x\"}\n"
          "{\"id\": \"b\", \"text\": \"r\", \"title\": \"x\", \"brand\": \"y\", \"category\": \"z\"}\n"
          "{\"id\": \"c\", \"text\": \"Title: y\"}\n"
          "{\"id\": \"d\", \"title\": \"x\", \"brand\": \"y\", \"category\": \"z\"}\n", f);
    fclose(f);
    f = fopen(path, "rb");
    item_list l;
    ck_assert_msg(items_load(f, "items.jsonl", tmpl, 1 << 20, &l, err, sizeof err) == 0, "%s", err);
    fclose(f);
    ck_assert_uint_eq(l.n, 4);
    ck_assert_uint_eq(l.n_text, 2);
    ck_assert_uint_eq(l.n_both, 1);
    ck_assert_str_eq(l.items[1].text, "Title: x. Brand: y. Category: z");
    ck_assert_str_eq(l.items[2].text, "Title: y");
    char note[512];
    ck_assert_int_eq(items_note(&l, "items.jsonl", note, sizeof note), 1);
    ck_assert_str_eq(note, "items.jsonl: 1 record has the template's fields and a \"text\": the template's fields "
                           "were used; items.jsonl: 2 records lack a field the template names: their \"text\" was "
                           "used as it is");
    items_free(&l);
    ck_assert_int_eq(items_note(&l, "items.jsonl", note, sizeof note), 0);
    ck_assert_str_eq(note, "");
}
END_TEST

/* learn-cli with the default model (template Title/Brand/Category): the README's two forms of
   items.jsonl give the same catalog entries and content embeddings, and the CLI says which it
   used. */
START_TEST(test_items_cli_text) {
    TEST_CLI(cli);
    char d[512], cmd[2048], out[16384];
    snprintf(d, sizeof d, "%s", test_tmp_path("items-cli"));
    mkdir(d, 0755);
    char items[600], cat[600];
    snprintf(items, sizeof items, "%s/items.jsonl", d);
    snprintf(cat, sizeof cat, "%s/cat.learn", d);
    FILE *f = fopen(items, "wb");
    fputs("{\"id\": \"a\", \"text\": \"Title: x. Brand: Acme. Category: Tea\"}\n"
          "{\"id\": \"b\", \"title\": \"x\", \"brand\": \"Acme\", \"category\": \"Tea\"}\n"
          "{\"id\": \"c\", \"text\": \"Title: x\"}\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s catalog build models/demo.learn %s -o %s", cli, items, cat);
    ck_assert_msg(test_run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "2 records lack a field the template names: their \"text\" was used as it is"), "%s", out);
    learn_catalog *c;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_msg(learn_catalog_open(cat, NULL, &c, err, sizeof err) == LEARN_OK, "%s", err);
    learn_catalog_info ci = {0, 0, 0, 0, 0};
    ck_assert_int_eq(learn_catalog_get_info(c, &ci), LEARN_OK);
    ck_assert_uint_eq(ci.n_items, 3);
    float *e = (float *)malloc(3 * ci.d_content * sizeof *e);
    for (uint32_t i = 0; i < 3; i++) ck_assert_int_eq(learn_catalog_content(c, i, e + i * ci.d_content), LEARN_OK);
    ck_assert(memcmp(e, e + ci.d_content, ci.d_content * sizeof *e) == 0); /* a == b */
    ck_assert(memcmp(e, e + 2 * ci.d_content, ci.d_content * sizeof *e) != 0); /* c is another text */
    const float *it = learn_catalog_items(c);
    ck_assert(memcmp(it, it + ci.d_item, ci.d_item * sizeof *it) == 0);
    free(e);
    learn_catalog_close(c);
    /* Both fields and text: the template's fields, said so; embed --jsonl takes both forms. */
    f = fopen(items, "wb");
    fputs("{\"id\": \"a\", \"text\": \"ignored\", \"title\": \"x\", \"brand\": \"Acme\", \"category\": \"Tea\"}\n"
          "{\"id\": \"b\", \"text\": \"Title: x. Brand: Acme. Category: Tea\"}\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s embed models/demo.learn --jsonl < %s", cli, items);
    ck_assert_msg(test_run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "stdin: 1 record has the template's fields and a \"text\": the template's fields were used; "
                              "stdin: 1 record lacks a field the template names: its \"text\" was used as it is"), "%s", out);
    char *l1 = strchr(out, '['), *l2 = l1 ? strchr(l1 + 1, '\n') : NULL;
    ck_assert_ptr_nonnull(l2);
    *l2 = 0;
    ck_assert_ptr_nonnull(l2[1] == '[' ? l2 + 1 : NULL);
    char *l2end = strchr(l2 + 1, '\n');
    ck_assert_ptr_nonnull(l2end);
    *l2end = 0;
    ck_assert_str_eq(l1, l2 + 1); /* the same embedding */
    /* Neither: the missing field is named, with the way out. */
    f = fopen(items, "wb");
    fputs("{\"id\": \"a\", \"title\": \"x\"}\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s catalog build models/demo.learn %s -o %s", cli, items, cat);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "line 1: field \"brand\" is missing (the template needs it, or the item's whole text in \"text\")"),
                  "%s", out);
}
END_TEST

static Suite *make_items_suite(void) {
    Suite *s = suite_create("items");
    TCase *tc = tcase_create("jsonl");
    tcase_add_test(tc, test_item_render);
    tcase_add_test(tc, test_items_load);
    tcase_add_test(tc, test_item_render_text);
    tcase_add_test(tc, test_items_cli_text);
    suite_add_tcase(s, tc);
    return s;
}
