/* The fuzzers' corpora as ordinary tests (RELIABILITY.md G): every file of
   tests/fuzz/corpus/<harness>/ (the seeds, and each input a fuzzer once crashed on) goes through
   the harness's body, with its checks, in the normal and the sanitizer builds. */

#include <dirent.h>

#include "fuzz/fuzz_targets.c"

static int fc_name_cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

START_TEST(test_fuzz_corpus) {
    const fuzz_target *t = &fuzz_targets[_i];
    char dir[256];
    snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", t->name);
    DIR *dd = opendir(dir);
    ck_assert_msg(dd != NULL, "%s: cannot open the corpus", dir);
    char *names[4096];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dd)) != NULL && n < 4096)
        if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    closedir(dd);
    qsort(names, n, sizeof names[0], fc_name_cmp);
    ck_assert_msg(n > 0, "%s: empty corpus", dir);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "%s: cannot open", path);
        uint8_t *buf = (uint8_t *)malloc(1 << 20);
        size_t len = fread(buf, 1, 1 << 20, f);
        fclose(f);
        /* Exactly the input's bytes, so that ASan sees a read past them. */
        uint8_t *data = (uint8_t *)malloc(len ? len : 1);
        memcpy(data, buf, len);
        free(buf);
        fuzz_input_name = path;
        t->fn(data, len);
        free(data);
        bytes += len;
        free(names[i]);
    }
    fuzz_input_name = "(fuzzer input)";
    printf("fuzz corpus %s: %zu inputs, %zu bytes\n", t->name, n, bytes);
}
END_TEST

static Suite *make_fuzz_corpus_suite(void) {
    Suite *s = suite_create("fuzz corpus");
    TCase *tc = tcase_create("replay");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_fuzz_corpus, 0, (int)(sizeof fuzz_targets / sizeof fuzz_targets[0]));
    suite_add_tcase(s, tc);
    return s;
}
