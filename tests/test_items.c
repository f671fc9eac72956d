/* Item records: template rendering and the JSONL reader's handling of bad input
   (RELIABILITY.md E: CRLF, BOM, blank lines, NUL, long lines, invalid UTF-8, deep nesting,
   duplicate keys, 1e999, NaN, missing fields). */

static const char *items_tmpl = "Title: {title}. Brand: {brand}. Tags: {tags}. Year: {year}";

START_TEST(test_item_render) {
    char err[256], *id;
    const char *rec = "{\"id\": \"B01\", \"title\": \"Trail Shoe\", \"brand\": \"Acme\", \"tags\": [\"run\", \"trail\", 3], \"year\": 2021}";
    char *t = item_render(rec, strlen(rec), items_tmpl, &id, err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    ck_assert_str_eq(t, "Title: Trail Shoe. Brand: Acme. Tags: run, trail, 3. Year: 2021");
    ck_assert_str_eq(id, "B01");
    free(t);
    free(id);
    const char *num = "{\"id\": 42, \"text\": \"plain \\u00e9\"}";
    t = item_render(num, strlen(num), "{text}", &id, err, sizeof err);
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
        t = item_render(bad[i].rec, strlen(bad[i].rec), items_tmpl, &id, err, sizeof err);
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
    t = item_render(deep, n, "{id}", &id, err, sizeof err);
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

static Suite *make_items_suite(void) {
    Suite *s = suite_create("items");
    TCase *tc = tcase_create("jsonl");
    tcase_add_test(tc, test_item_render);
    tcase_add_test(tc, test_items_load);
    suite_add_tcase(s, tc);
    return s;
}
