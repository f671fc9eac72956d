/* Sharded catalog builds (RELIABILITY.md H): the part a task builds from --shard I/N or the
   scheduler's environment, the shard record of catalogs, and merge/check refusing missing,
   duplicated, truncated, corrupted, other-model, other-list and other-count shards by name.
   tests/slurm.sh runs the same on a real Slurm. */

#include "shard.h"

/* A fake environment: NAME=VALUE strings, NULL-terminated. */
static const char *const *shard_env_vars;

static char *shard_env(const char *name) {
    size_t n = strlen(name);
    for (const char *const *v = shard_env_vars; v && *v; v++)
        if (strncmp(*v, name, n) == 0 && (*v)[n] == '=') return (char *)(*v + n + 1);
    return NULL;
}

/* Parses arg with --shards `shards` in the environment `vars`: expects index/count (want_ok)
   or a failure whose message holds `want`; `want` must be in the origin on success. */
static void shard_expect(const char *arg, long shards, const char *const *vars, int want_ok, uint32_t want_i,
                         uint32_t want_n, const char *want) {
    uint32_t i = 99, n = 99;
    char from[160] = "", err[512] = "";
    shard_env_vars = vars;
    int rc = shard_parse(arg, shards, shard_env, &i, &n, from, sizeof from, err, sizeof err);
    if (want_ok) {
        ck_assert_msg(rc == 0, "'%s' (--shards %ld): %s", arg, shards, err);
        ck_assert_msg(i == want_i && n == want_n, "'%s' (--shards %ld): %u/%u, expected %u/%u", arg, shards, i, n,
                      want_i, want_n);
        ck_assert_msg(strstr(from, want), "'%s': origin \"%s\" does not say \"%s\"", arg, from, want);
    } else {
        ck_assert_msg(rc == 1, "'%s' (--shards %ld) gave %u/%u (from %s), expected an error", arg, shards, i, n, from);
        ck_assert_msg(strstr(err, want), "'%s': message \"%s\" does not say \"%s\"", arg, err, want);
    }
}

START_TEST(test_shard_parse) {
    static const char *const none[] = {NULL};
    shard_expect("2/4", 0, none, 1, 2, 4, "--shard 2/4");
    shard_expect("0/1", 0, none, 1, 0, 1, "--shard 0/1");
    shard_expect("2/4", 4, none, 1, 2, 4, "--shard 2/4");
    shard_expect("4/4", 0, none, 0, 0, 0, "must be I/N");
    shard_expect("1/0", 0, none, 0, 0, 0, "must be I/N");
    shard_expect("-1/4", 0, none, 0, 0, 0, "must be I/N");
    shard_expect("a/4", 0, none, 0, 0, 0, "must be I/N");
    shard_expect("3", 0, none, 0, 0, 0, "or auto");
    shard_expect("0/1048577", 0, none, 0, 0, 0, "must be I/N");
    shard_expect("2/4", 8, none, 0, 0, 0, "disagree");
    shard_expect("2/4", 1048577, none, 0, 0, 0, "--shards must be");
    /* Nothing in the environment: the message names what was looked for. */
    shard_expect("auto", 0, none, 0, 0, 0, "looked for SLURM_ARRAY_TASK_ID (a Slurm job array) and JOB_COMPLETION_INDEX");
    static const char *const job[] = {"SLURM_JOB_ID=812", NULL};
    shard_expect("auto", 0, job, 0, 0, 0, "Slurm job 812 is not an array job");
    /* Slurm arrays: 0-based, 1-based, COUNT alone, MIN/MAX alone. */
    static const char *const a0[] = {"SLURM_ARRAY_TASK_ID=3", "SLURM_ARRAY_TASK_COUNT=4", "SLURM_ARRAY_TASK_MIN=0",
                                     "SLURM_ARRAY_TASK_MAX=3", "SLURM_ARRAY_JOB_ID=70", NULL};
    shard_expect("auto", 0, a0, 1, 3, 4, "Slurm job 70, array task 3 of 0-3");
    static const char *const a1[] = {"SLURM_ARRAY_TASK_ID=4", "SLURM_ARRAY_TASK_COUNT=4", "SLURM_ARRAY_TASK_MIN=1",
                                     "SLURM_ARRAY_TASK_MAX=4", NULL};
    shard_expect("auto", 0, a1, 1, 3, 4, "array task 4 of 1-4");
    static const char *const a1first[] = {"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=4",
                                          "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_MAX=4", NULL};
    shard_expect("auto", 0, a1first, 1, 0, 4, "array task 1 of 1-4");
    static const char *const cnt[] = {"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=3", NULL};
    shard_expect("auto", 0, cnt, 1, 1, 3, "array task 1");
    static const char *const mm[] = {"SLURM_ARRAY_TASK_ID=7", "SLURM_ARRAY_TASK_MIN=5", "SLURM_ARRAY_TASK_MAX=8", NULL};
    shard_expect("auto", 0, mm, 1, 2, 4, "array task 7 of 5-8");
    static const char *const bare[] = {"SLURM_ARRAY_TASK_ID=1", NULL};
    shard_expect("auto", 0, bare, 0, 0, 0, "pass --shards N");
    shard_expect("auto", 3, bare, 1, 1, 3, "array task 1");
    /* An array that is no range (--array=1,3,5): only with --shards, the ids as indices. */
    static const char *const gaps[] = {"SLURM_ARRAY_TASK_ID=3", "SLURM_ARRAY_TASK_COUNT=3", "SLURM_ARRAY_TASK_MIN=1",
                                       "SLURM_ARRAY_TASK_MAX=5", NULL};
    shard_expect("auto", 0, gaps, 0, 0, 0, "must be a range with step 1");
    shard_expect("auto", 6, gaps, 1, 3, 6, "array task 3 of 1-5");
    shard_expect("auto", 3, gaps, 0, 0, 0, "not below --shards 3");
    static const char *const out[] = {"SLURM_ARRAY_TASK_ID=9", "SLURM_ARRAY_TASK_COUNT=4", "SLURM_ARRAY_TASK_MIN=0",
                                      "SLURM_ARRAY_TASK_MAX=3", NULL};
    shard_expect("auto", 0, out, 0, 0, 0, "outside the array");
    static const char *const nan_id[] = {"SLURM_ARRAY_TASK_ID=x3", "SLURM_ARRAY_TASK_COUNT=4", NULL};
    shard_expect("auto", 0, nan_id, 0, 0, 0, "SLURM_ARRAY_TASK_ID is 'x3', not a number");
    static const char *const neg[] = {"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=-4", NULL};
    shard_expect("auto", 0, neg, 0, 0, 0, "SLURM_ARRAY_TASK_COUNT is '-4'");
    /* Kubernetes Indexed Jobs: the count comes from --shards. */
    static const char *const k8s[] = {"JOB_COMPLETION_INDEX=2", NULL};
    shard_expect("auto", 3, k8s, 1, 2, 3, "Kubernetes Indexed Job, completion index 2");
    shard_expect("auto", 0, k8s, 0, 0, 0, "pass --shards N");
    shard_expect("auto", 2, k8s, 0, 0, 0, "not below --shards 2");
    /* Both: the Slurm array wins (a pod of a Kubernetes job does not set Slurm's variables). */
    static const char *const both[] = {"JOB_COMPLETION_INDEX=0", "SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=2",
                                       NULL};
    shard_expect("auto", 0, both, 1, 1, 2, "Slurm");
}
END_TEST

START_TEST(test_shard_fingerprint) {
    item_rec r1[2] = {{(char *)"a", (char *)"bc", 1}, {(char *)"d", (char *)"e", 2}};
    item_rec r2[2] = {{(char *)"ab", (char *)"c", 1}, {(char *)"d", (char *)"e", 2}};
    item_rec r3[2] = {{(char *)"d", (char *)"e", 1}, {(char *)"a", (char *)"bc", 2}};
    item_list l1 = {.items = r1, .n = 2, .cap = 2}, l2 = {.items = r2, .n = 2, .cap = 2},
              l3 = {.items = r3, .n = 2, .cap = 2}, l1a = {.items = r1, .n = 1, .cap = 1};
    uint64_t f1 = shard_source_fingerprint(&l1);
    ck_assert(f1 == shard_source_fingerprint(&l1));
    ck_assert(f1 != shard_source_fingerprint(&l2)); /* a byte moved from the text to the id */
    ck_assert(f1 != shard_source_fingerprint(&l3)); /* another order */
    ck_assert(f1 != shard_source_fingerprint(&l1a));
    /* FNV-1a 64 of the bytes len8("a") "a" len8("bc") "bc", written out. */
    const unsigned char bytes[] = {1, 0, 0, 0, 0, 0, 0, 0, 'a', 2, 0, 0, 0, 0, 0, 0, 0, 'b', 'c'};
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < sizeof bytes; i++) h = (h ^ bytes[i]) * 0x100000001b3ull;
    ck_assert(shard_source_fingerprint(&l1a) == h);
    item_list empty = {.items = NULL};
    ck_assert(shard_source_fingerprint(&empty) == 0xcbf29ce484222325ull);
}
END_TEST

START_TEST(test_shard_range) {
    /* The parts tile [0, n) in order, their sizes within one of each other. */
    static const uint64_t ns[] = {1, 2, 7, 37, 300, 1000003, 2147483647ull};
    static const uint32_t cs[] = {1, 2, 3, 4, 7, 64, 1000};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++) {
            uint64_t n = ns[a], next = 0, mn = UINT64_MAX, mx = 0;
            uint32_t count = cs[c];
            if (n < count) continue;
            for (uint32_t i = 0; i < count; i++) {
                uint64_t lo, hi;
                ck_assert_int_eq(learn_catalog_shard_range(n, i, count, &lo, &hi), LEARN_OK);
                ck_assert_msg(lo == next && hi > lo, "n %llu, part %u/%u: [%llu, %llu) after %llu",
                              (unsigned long long)n, i, count, (unsigned long long)lo, (unsigned long long)hi,
                              (unsigned long long)next);
                next = hi;
                mn = hi - lo < mn ? hi - lo : mn;
                mx = hi - lo > mx ? hi - lo : mx;
            }
            ck_assert(next == n);
            ck_assert(mx - mn <= 1);
        }
    uint64_t lo, hi;
    ck_assert_int_eq(learn_catalog_shard_range(10, 3, 3, &lo, &hi), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_catalog_shard_range(10, 0, 0, &lo, &hi), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_catalog_shard_range(1ull << 31, 0, 2, &lo, &hi), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_catalog_shard_range(10, 0, 2, NULL, &hi), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_catalog_shard_range(37, 3, 4, &lo, &hi), LEARN_OK);
    ck_assert(lo == 27 && hi == 37);
}
END_TEST

/* A shard of the catalog fixture's n items: part `index` of `count` of a list of n_source. */
static learn_catalog_builder *shard_builder(cat_fixture *f, uint32_t index, uint32_t count, uint64_t n_source) {
    learn_catalog_builder *b = cat_build(f);
    learn_catalog_shard s = {index, count, n_source, 0x1234abcdull, 1700000000.5, 1700000012.25};
    ck_assert_msg(learn_catalog_builder_set_shard(b, &s) == LEARN_OK, "%s", learn_catalog_builder_errmsg(b));
    return b;
}

START_TEST(test_shard_catalog) {
    cat_fixture f;
    cat_fixture_make(&f, 9, 16, 8, 3);
    /* 9 items are part 3 of 4 of 37 (items 27..36 would be 10: not them; part 0 is 9). */
    learn_catalog_builder *b = shard_builder(&f, 0, 4, 37);
    void *data;
    size_t size;
    ck_assert_int_eq(learn_catalog_builder_save_memory(b, &data, &size), LEARN_OK);
    test_blob shard_blob = {NULL, size}; /* a copy to tamper with */
    ck_assert_int_eq(posix_memalign((void **)&shard_blob.p, 64, size), 0);
    memcpy(shard_blob.p, data, size);
    learn_catalog *cat;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_msg(learn_catalog_open_memory(data, size, NULL, &cat, err, sizeof err) == LEARN_OK, "%s", err);
    learn_catalog_shard s;
    ck_assert_int_eq(learn_catalog_get_shard(cat, &s), LEARN_OK);
    ck_assert_uint_eq(s.index, 0);
    ck_assert_uint_eq(s.count, 4);
    ck_assert(s.n_source == 37 && s.source_fingerprint == 0x1234abcdull);
    ck_assert(s.t_start == 1700000000.5 && s.t_end == 1700000012.25);
    ck_assert_int_eq(learn_catalog_get_shard(cat, NULL), LEARN_ERR_ARG);
    learn_catalog_close(cat);
    learn_catalog_builder_free_buffer(b, data);
    /* The same items as a plain catalog: no shard. */
    learn_catalog_builder *plain = cat_build(&f);
    void *pdata;
    size_t psize;
    ck_assert_int_eq(learn_catalog_builder_save_memory(plain, &pdata, &psize), LEARN_OK);
    ck_assert_int_eq(learn_catalog_open_memory(pdata, psize, NULL, &cat, NULL, 0), LEARN_OK);
    ck_assert_int_eq(learn_catalog_get_shard(cat, &s), LEARN_ERR_NOT_FOUND);
    learn_catalog_close(cat);
    /* set_shard(NULL) makes it no shard again: the same bytes as the plain catalog. */
    ck_assert_int_eq(learn_catalog_builder_set_shard(b, NULL), LEARN_OK);
    void *data2;
    size_t size2;
    ck_assert_int_eq(learn_catalog_builder_save_memory(b, &data2, &size2), LEARN_OK);
    ck_assert(size2 == psize && memcmp(data2, pdata, psize) == 0);
    learn_catalog_builder_free_buffer(b, data2);
    learn_catalog_builder_free_buffer(plain, pdata);
    learn_catalog_builder_free(plain);

    /* Out-of-range records are refused when set, naming what is wrong. */
    static const learn_catalog_shard bad[] = {
        {4, 4, 37, 1, 0, 0},   {0, 0, 37, 1, 0, 0},        {0, (1u << 20) + 1, 1u << 21, 1, 0, 0},
        {0, 4, 3, 1, 0, 0},    {0, 4, 1ull << 31, 1, 0, 0}, {0, 4, 37, 1, 5, 4},
        {0, 4, 37, 1, -1, 0},  {0, 4, 37, 1, 0, INFINITY},
    };
    static const char *const why[] = {"index below it", "count must be", "count must be", "cannot be split",
                                      "cannot be split", "start <= end", "0 <= start", "start <= end"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ck_assert_int_eq(learn_catalog_builder_set_shard(b, &bad[k]), LEARN_ERR_ARG);
        ck_assert_msg(strstr(learn_catalog_builder_errmsg(b), why[k]), "record %zu: %s", k, learn_catalog_builder_errmsg(b));
    }
    ck_assert_int_eq(learn_catalog_builder_set_shard(NULL, &bad[0]), LEARN_ERR_ARG);
    /* A record whose part is not the builder's size is refused at save (9 items, part 3/4 of 37 is 10). */
    learn_catalog_shard wrong = {3, 4, 37, 1, 0, 0};
    ck_assert_int_eq(learn_catalog_builder_set_shard(b, &wrong), LEARN_OK);
    ck_assert_int_eq(learn_catalog_builder_save_memory(b, &data2, &size2), LEARN_ERR_STATE);
    ck_assert_msg(strstr(learn_catalog_builder_errmsg(b), "holds items 27..36 (10), not 9"), "%s",
                  learn_catalog_builder_errmsg(b));
    learn_catalog_builder_free(b);

    /* Tampered records are refused at open. */
    test_blob t = {NULL, size};
    ck_assert_int_eq(posix_memalign((void **)&t.p, 64, size), 0);
    memcpy(t.p, shard_blob.p, size);
    size_t off = test_blob_meta(&t, "catalog.shard.index"); /* type, then the value */
    test_blob_put32(&t, off + 4, 4);
    test_blob_fix(&t);
    ck_assert_int_eq(learn_catalog_open_memory(t.p, t.n, NULL, &cat, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert_msg(strstr(err, "catalog: shard index 4 of count 4"), "%s", err);
    memcpy(t.p, shard_blob.p, size);
    test_blob_put32(&t, off + 4, 3); /* part 3/4 of 37 is 10 items, not 9 */
    test_blob_fix(&t);
    ck_assert_int_eq(learn_catalog_open_memory(t.p, t.n, NULL, &cat, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert_msg(strstr(err, "holds items 27..36 (10), not 9"), "%s", err);
    memcpy(t.p, shard_blob.p, size);
    test_blob_put32(&t, test_blob_meta(&t, "catalog.shard.t_end"), LEARN_META_TYPE_U64);
    test_blob_fix(&t);
    ck_assert_int_eq(learn_catalog_open_memory(t.p, t.n, NULL, &cat, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert_msg(strstr(err, "'catalog.shard.t_end' has the wrong type"), "%s", err);
    memcpy(t.p, shard_blob.p, size);
    size_t key = test_blob_meta(&t, "catalog.shard.source") - strlen("catalog.shard.source");
    t.p[key + strlen("catalog.")] = 'S'; /* "catalog.Shard.source": the record lacks its source */
    test_blob_fix(&t);
    ck_assert_int_eq(learn_catalog_open_memory(t.p, t.n, NULL, &cat, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert_msg(strstr(err, "'catalog.shard.source' is missing"), "%s", err);
    free(t.p);
    free(shard_blob.p);
    cat_fixture_free(&f);
}
END_TEST

/* ---- Through learn-cli: build shards, merge, check ---- */

static int shard_same_file(const char *a, const char *b) {
    size_t na, nb;
    uint8_t *x = test_read_file(a, &na), *y = test_read_file(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

/* Arguments of env(1) that clear the schedulers' variables (the tests may run in a job). */
#define SHARD_ENV "-u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_COUNT -u SLURM_ARRAY_TASK_MIN " \
                  "-u SLURM_ARRAY_TASK_MAX -u SLURM_ARRAY_JOB_ID -u SLURM_JOB_ID -u JOB_COMPLETION_INDEX"

/* merge -o out PARTS must fail, print `needle` and "nothing written", and leave out as it was
   ("old"); check PARTS must fail too, printing needle unless it is a message of merge's. */
static void shard_refused(const char *cli, const char *out, const char *needle, const char *fmt, ...) {
    char parts[3000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(parts, sizeof parts, fmt, ap);
    va_end(ap);
    const char *r = pipe_run(cli, 1, "catalog merge -o %s %s", out, parts);
    ck_assert_msg(strstr(r, needle), "merge %s:\n%s\n(expected \"%s\")", parts, r, needle);
    ck_assert_msg(strstr(r, "nothing written"), "%s", r);
    size_t n;
    uint8_t *old = test_read_file(out, &n);
    ck_assert(old && n == 3 && memcmp(old, "old", 3) == 0);
    free(old);
    r = pipe_run(cli, 1, "catalog check %s", parts);
    ck_assert_msg(strncmp(needle, "merge: ", 7) == 0 || strstr(r, needle), "check %s:\n%s", parts, r);
}

START_TEST(test_shard_cli) {
    TEST_CLI(cli);
    if (access("models/demo.learn", R_OK) != 0) TEST_SKIP("models/demo.learn not found");
    char d[512];
    snprintf(d, sizeof d, "%s", test_tmp_path("shards"));
    mkdir(d, 0755);
    char model[600], one[600], items[600], items36[600], part[4][600], out[600];
    snprintf(model, sizeof model, "%s/model.learn", d);
    snprintf(one, sizeof one, "%s/one.learn", d);
    snprintf(items, sizeof items, "%s/data/items.jsonl", d);
    snprintf(items36, sizeof items36, "%s/d36/items.jsonl", d);
    snprintf(out, sizeof out, "%s/merged.learn", d);
    for (int i = 0; i < 4; i++) snprintf(part[i], sizeof part[i], "%s/part-%d.learn", d, i);
    pipe_model(model);
    pipe_run(cli, 0, "data synth -o %s/data --items 37 --users 20 --seed 4", d);
    pipe_run(cli, 0, "data synth -o %s/d36 --items 36 --users 20 --seed 4", d);
    pipe_run(cli, 0, "catalog build %s %s -o %s --threads 2", model, items, one);
    /* The four parts (9, 9, 9 and 10 items) built in any order, by --shard I/N and from the
       environments of a Slurm array (0- and 1-based) and a Kubernetes Indexed Job. */
    const char *o = pipe_run("env", 0, SHARD_ENV " SLURM_ARRAY_TASK_ID=4 SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN=1 "
                             "SLURM_ARRAY_TASK_MAX=4 %s catalog build %s %s -o %s --shard auto --threads 1",
                             cli, model, items, part[3]);
    ck_assert_msg(strstr(o, "shard 3/4 (Slurm array task 4 of 1-4): items 27..36 of 37 (lines 28..37"), "%s", o);
    ck_assert_msg(strstr(o, "shard 3/4: 10/10 (100%)") && strstr(o, "shard 3/4: 10 items encoded in ") &&
                      strstr(o, " items/s); "),
                  "%s", o);
    pipe_run(cli, 0, "catalog build %s %s -o %s --shard 0/4", model, items, part[0]);
    o = pipe_run("env", 0, SHARD_ENV " JOB_COMPLETION_INDEX=2 %s catalog build %s %s -o %s --shard auto --shards 4",
                 cli, model, items, part[2]);
    ck_assert_msg(strstr(o, "Kubernetes Indexed Job, completion index 2"), "%s", o);
    pipe_run("env", 0, SHARD_ENV " SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=4 %s catalog build %s %s -o %s "
             "--shard auto", cli, model, items, part[1]);
    /* Merged in any order given: the one-machine catalog, byte for byte. */
    o = pipe_run(cli, 0, "catalog merge -o %s %s %s %s %s", out, part[2], part[0], part[3], part[1]);
    ck_assert_msg(strstr(o, "merged 37 items from 4 shards") && strstr(o, "build: 37 items, 4 shards, ") &&
                      strstr(o, "s of wall time from the first shard's start to the end of this merge"),
                  "%s", o);
    ck_assert_msg(shard_same_file(out, one), "the merge of the shards differs from the one-machine build");
    o = pipe_run(cli, 0, "catalog merge -o %s --model %s --items %s --shards 4 %s %s %s %s", out, model, items,
                 part[0], part[1], part[2], part[3]);
    ck_assert(shard_same_file(out, one));
    o = pipe_run(cli, 0, "catalog check --model %s --items %s %s %s %s %s", model, items, part[3], part[0], part[1],
                 part[2]);
    char want[2400];
    snprintf(want, sizeof want, "ok %s: shard 3/4, 10 items\nok %s: shard 0/4, 9 items\n", part[3], part[0]);
    ck_assert_msg(strstr(o, want) && strstr(o, "all 4 parts ok (a complete set of shards)"), "%s", o);

    /* Every refusal names the file; nothing is written, an old output stays. */
    FILE *f = fopen(out, "wb");
    fputs("old", f);
    fclose(f);
    char bad[600];
    /* Missing. */
    shard_refused(cli, out, "merge: shard 1 of 4 is missing", "%s %s %s", part[0], part[2], part[3]);
    shard_refused(cli, out, "merge: shards 0-1 and 3 of 4 are missing", "%s", part[2]);
    /* Duplicated: the same file twice, or a copy. */
    snprintf(bad, sizeof bad, "%s/copy.learn", d);
    pipe_run("cp", 0, "%s %s", part[1], bad);
    shard_refused(cli, out, "copy.learn: shard 1/4 again: ", "%s %s %s %s %s", part[0], part[1], bad, part[2], part[3]);
    shard_refused(cli, out, "part-2.learn: shard 2/4 again: ", "%s %s %s %s %s", part[0], part[1], part[2], part[2], part[3]);
    /* Truncated, corrupted. */
    snprintf(bad, sizeof bad, "%s/trunc.learn", d);
    pipe_run("head", 0, "-c 3000 %s > %s", part[2], bad);
    shard_refused(cli, out, "trunc.learn: file size field says ", "%s %s %s %s", part[0], part[1], bad, part[3]);
    snprintf(bad, sizeof bad, "%s/flip.learn", d);
    pipe_run("cp", 0, "%s %s", part[2], bad);
    pipe_run("printf", 0, "X | dd of=%s bs=1 seek=2000 conv=notrunc status=none", bad);
    shard_refused(cli, out, "flip.learn: checksum mismatch", "%s %s %s %s", part[0], part[1], bad, part[3]);
    shard_refused(cli, out, "merge: shard 2 of 4 is missing", "%s %s %s %s", part[0], part[1], bad, part[3]);
    /* Another model (demo.learn renders the same items), another list, another count. */
    snprintf(bad, sizeof bad, "%s/other-model.learn", d);
    pipe_run(cli, 0, "catalog build models/demo.learn %s -o %s --shard 2/4", items, bad);
    shard_refused(cli, out, "other-model.learn: made by another model than ", "%s %s %s %s", part[0], part[1], bad, part[3]);
    snprintf(bad, sizeof bad, "%s/other-list.learn", d);
    pipe_run(cli, 0, "catalog build %s %s -o %s --shard 2/4", model, items36, bad);
    shard_refused(cli, out, "other-list.learn: shard 2/4 was built from another item list than ", "%s %s %s %s", part[0],
                  part[1], bad, part[3]);
    snprintf(bad, sizeof bad, "%s/other-count.learn", d);
    pipe_run(cli, 0, "catalog build %s %s -o %s --shard 1/3", model, items, bad);
    shard_refused(cli, out, "other-count.learn: shard 1/3: one of 3 shards, not of 4", "%s %s %s %s %s", part[0], part[1],
                  part[2], part[3], bad);
    /* A whole catalog among shards, and a shard among whole catalogs. */
    shard_refused(cli, out, "one.learn: not a shard (built without --shard)", "%s %s %s %s %s", part[0], part[1], part[2],
                  part[3], one);
    shard_refused(cli, out, "part-0.learn: shard 0/4, while ", "%s %s", one, part[0]);
    /* Against what the merge is told: the model, the item list, the count. */
    shard_refused(cli, out, "part-0.learn: made by another model than models/demo.learn", "--model models/demo.learn %s %s %s %s",
                  part[0], part[1], part[2], part[3]);
    shard_refused(cli, out, "part-1.learn: shard 1/4 was built from another item list than ", "--model %s --items %s %s %s %s %s",
                  model, items36, part[0], part[1], part[2], part[3]);
    shard_refused(cli, out, "part-3.learn: shard 3/4: one of 4 shards, not of 5", "--shards 5 %s %s %s %s", part[0], part[1],
                  part[2], part[3]);
    shard_refused(cli, out, "merge: shards 0-4 of 5 are missing", "--shards 5 %s %s %s %s", part[0], part[1], part[2], part[3]);
    /* check lists each part and the missing shards on stdout. */
    o = pipe_run(cli, 1, "catalog check %s %s/nope.learn %s", part[3], d, part[1]);
    snprintf(want, sizeof want, "ok %s: shard 3/4, 10 items\ninvalid %s/nope.learn: No such file or directory\n"
             "ok %s: shard 1/4, 9 items\nmissing shards 0 and 2 of 4\n", part[3], d, part[1]);
    ck_assert_msg(strstr(o, want), "%s", o);
    /* Bad uses of build. */
    o = pipe_run("env", 1, SHARD_ENV " %s catalog build %s %s -o %s --shard auto", cli, model, items, bad);
    ck_assert_msg(strstr(o, "looked for SLURM_ARRAY_TASK_ID"), "%s", o);
    o = pipe_run(cli, 1, "catalog build %s %s -o %s --shards 4", model, items, bad);
    ck_assert_msg(strstr(o, "--shards N goes with --shard auto"), "%s", o);
    o = pipe_run(cli, 1, "catalog build %s %s -o %s --shard 0/38", model, items, bad);
    ck_assert_msg(strstr(o, "37 items cannot be split into 38 shards"), "%s", o);
    o = pipe_run(cli, 1, "catalog merge -o %s --items %s %s", out, items, part[0]);
    ck_assert_msg(strstr(o, "--items needs --model"), "%s", o);
}
END_TEST

static Suite *make_shard_suite(void) {
    Suite *s = suite_create("shard");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_shard_parse);
    tcase_add_test(tc, test_shard_fingerprint);
    tcase_add_test(tc, test_shard_range);
    tcase_add_test(tc, test_shard_catalog);
    tcase_add_test(tc, test_shard_cli);
    suite_add_tcase(s, tc);
    return s;
}
