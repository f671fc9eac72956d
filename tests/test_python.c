/* The Python module (tools/python) through a Python 3 that has numpy: its unittest suite
   (results against learn-cli's, errors, handles after close, the build backend), its top-K
   over a 100,000-item catalog against the time of the same C call, and pip installing it
   offline (in a venv, then editable, then uninstalled). In the ASan+UBSan build the first two
   run with the sanitizers' runtimes preloaded into python, so that a buffer the binding sizes
   wrongly is caught. Skipped, saying why, without such a Python or in cross builds. */

#include <dlfcn.h>

static char py_out[1 << 16];

/* The first of $LEARN_PYTHON, python3 and /usr/bin/python3 that imports numpy, or NULL with
   what was tried in `tried`. */
static const char *py_interp(char *tried, size_t n) {
    static char found[512];
    found[0] = 0;
    const char *env = getenv("LEARN_PYTHON");
    const char *cands[3] = {env && *env ? env : NULL, "python3", "/usr/bin/python3"};
    tried[0] = 0;
    for (int i = 0; i < 3; i++) {
        if (!cands[i]) continue;
        char cmd[700];
        snprintf(cmd, sizeof cmd, "%s -c 'import numpy' 2>&1", cands[i]);
        int rc = test_run(cmd, py_out, sizeof py_out);
        snprintf(tried + strlen(tried), n - strlen(tried), "%s%s (%s)", tried[0] ? ", " : "", cands[i],
                 rc == 127 ? "not found" : rc ? "no numpy" : "ok");
        if (rc == 0) {
            snprintf(found, sizeof found, "%s", cands[i]);
            break;
        }
    }
    return found[0] ? found : NULL;
}

/* In a sanitizer build, the environment that lets python load its liblearn.so: gcc's ASan
   and UBSan runtimes preloaded (leak checks off: the interpreter keeps its objects at exit).
   "" for other builds; NULL (reason in why) when they cannot be found (clang links its
   runtime into programs). */
static const char *py_sanitizer_env(const char *bdir, char *why, size_t n) {
    static char env[2048];
    char path[1100];
    snprintf(path, sizeof path, "%s/.flags", bdir);
    char *flags = (char *)test_read_file(path, NULL);
    int san = flags && strstr(flags, "-fsanitize");
    free(flags);
    if (!san) return "";
    char asan[512] = "", ubsan[512] = "";
    if (test_run("${CC:-cc} -print-file-name=libasan.so", asan, sizeof asan) == 0)
        asan[strcspn(asan, "\n")] = 0;
    if (test_run("${CC:-cc} -print-file-name=libubsan.so", ubsan, sizeof ubsan) == 0)
        ubsan[strcspn(ubsan, "\n")] = 0;
    if (asan[0] != '/' || ubsan[0] != '/' || access(asan, R_OK) || access(ubsan, R_OK)) {
        snprintf(why, n, "%s is a sanitizer build whose runtimes ${CC:-cc} does not ship as shared libraries "
                 "(clang): python cannot load it", bdir);
        return NULL;
    }
    snprintf(env, sizeof env, "LD_PRELOAD='%s %s' ASAN_OPTIONS=detect_leaks=0", asan, ubsan);
    return env;
}

/* Sets py (the interpreter), lib (the build's liblearn.so.MAJOR.MINOR) and pre (environment
   assignments to put before py: the sanitizer runtimes, or ""), or skips. */
#define PY_SETUP(py, lib, pre)                                                                    \
    char lib[1024], py_tried_[1024];                                                              \
    const char *py, *pre;                                                                         \
    do {                                                                                          \
        const char *bd_ = getenv("LEARN_BUILD_DIR");                                              \
        if (!bd_) TEST_SKIP("LEARN_BUILD_DIR not set (run through build.sh)");                   \
        snprintf(lib, sizeof lib, "%s/liblearn.so.%d.%d", bd_, LEARN_VERSION_MAJOR, LEARN_VERSION_MINOR); \
        if (access(lib, R_OK) != 0) TEST_SKIP("%s not built (a cross build?)", lib);               \
        pre = py_sanitizer_env(bd_, py_tried_, sizeof py_tried_);                                 \
        if (!pre) TEST_SKIP("%s", py_tried_);                                                     \
        py = py_interp(py_tried_, sizeof py_tried_);                                              \
        if (!py) TEST_SKIP("no Python 3 with numpy (apt-get install python3-numpy); tried %s", py_tried_); \
    } while (0)

/* Runs a shell command (output in py_out) and returns its exit status. */
static int py_sh(const char *fmt, ...) {
    char cmd[6144];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return test_run(cmd, py_out, sizeof py_out);
}

/* The last `n` bytes of the output, for failure messages. */
static const char *py_tail(size_t n) {
    size_t len = strlen(py_out);
    return len > n ? py_out + len - n : py_out;
}

START_TEST(test_python_module) {
    PY_SETUP(py, lib, pre);
    TEST_CLI(cli);
    py_sh("%s -c 'import sys, numpy; print(sys.executable, sys.version.split()[0], \"numpy\", numpy.__version__)'", py);
    printf("python: %s%s", pre[0] ? "(sanitizer runtimes preloaded) " : "", py_out);
    int rc = py_sh("%s LEARN_LIBRARY='%s' LEARN_CLI='%s' %s tools/python/tests/test_learn.py -v", pre, lib, cli, py);
    ck_assert_msg(rc == 0, "tools/python/tests/test_learn.py failed:\n%s", py_tail(3000));
    /* All of it ran: no skip. */
    ck_assert_msg(strstr(py_out, "\nOK\n") && strstr(py_out, "\nRan "), "%s", py_tail(2000));
    int n = atoi(strstr(py_out, "\nRan ") + 5);
    ck_assert_msg(n >= 19, "only %d Python tests ran", n);
    printf("python: %d tests of tools/python/tests/test_learn.py passed\n", n);
}
END_TEST

/* The functions of the build's liblearn.so the timing uses: the C calls the binding makes,
   the same machine code. */
typedef struct py_so {
    void *dl;
    learn_status (*catalog_open)(const char *, const learn_model_params *, learn_catalog **, char *, size_t);
    void (*catalog_close)(learn_catalog *);
    learn_status (*model_open)(const char *, const learn_model_params *, learn_model **, char *, size_t);
    void (*model_close)(learn_model *);
    learn_status (*ctx_new)(const learn_model *, const learn_ctx_params *, learn_ctx **);
    void (*ctx_free)(learn_ctx *);
    int (*ctx_n_threads)(const learn_ctx *);
    const char *(*ctx_isa)(const learn_ctx *);
    learn_status (*topk)(learn_ctx *, const learn_catalog *, const float *, uint32_t, const uint32_t *, size_t,
                         learn_hit *, size_t *);
} py_so;

static void py_so_open(py_so *so, const char *lib) {
    so->dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(so->dl, "dlopen %s: %s", lib, dlerror());
#define PY_SYM(field, name) *(void **)&so->field = dlsym(so->dl, name), ck_assert_msg(so->field, "%s", name)
    PY_SYM(catalog_open, "learn_catalog_open");
    PY_SYM(catalog_close, "learn_catalog_close");
    PY_SYM(model_open, "learn_model_open");
    PY_SYM(model_close, "learn_model_close");
    PY_SYM(ctx_new, "learn_ctx_new");
    PY_SYM(ctx_free, "learn_ctx_free");
    PY_SYM(ctx_n_threads, "learn_ctx_n_threads");
    PY_SYM(ctx_isa, "learn_ctx_isa");
    PY_SYM(topk, "learn_catalog_topk");
#undef PY_SYM
}

/* The module's encode, item_embed, user_embed and UserState give bit for bit what this
   program's own calls of the C API give, on the default model. */
START_TEST(test_python_equals_c_api) {
    PY_SETUP(py, lib, pre);
    static const char *texts[] = {"Title: Acme Trail Runners - Sand. Brand: Acme. Category: Running Shoes",
                                  "Title: Juniper Green Tea. Brand: Juniper. Category: Tea",
                                  "caf\xc3\xa9 \xe2\x80\x94 a text with UTF-8", "x"};
    enum { N = 4 };
    learn_model *m;
    learn_ctx *ctx;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_msg(learn_model_open("models/demo.learn", NULL, &m, err, sizeof err) == LEARN_OK, "%s", err);
    ck_assert_int_eq(learn_ctx_new(m, NULL, &ctx), LEARN_OK);
    learn_model_info mi;
    learn_towers_info ti;
    learn_model_get_info(m, &mi);
    learn_towers_get_info(m, &ti);
    size_t d = mi.n_embd, e = ti.d_out, total = N * d + N * e + 2 * e;
    float *want = (float *)malloc(total * sizeof *want), *content = want, *items = want + N * d, *user = items + N * e;
    ck_assert_msg(learn_encode(ctx, N, texts, NULL, content) == LEARN_OK, "%s", learn_ctx_errmsg(ctx));
    ck_assert_int_eq(learn_item_embed(ctx, N, content, items), LEARN_OK);
    ck_assert_int_eq(learn_user_embed(ctx, N, content, user), LEARN_OK);
    learn_user_state *st;
    ck_assert_int_eq(learn_user_state_new(ctx, 0, &st), LEARN_OK);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(learn_user_state_append(ctx, st, content + i * d), LEARN_OK);
    ck_assert_int_eq(learn_user_state_embedding(st, user + e), LEARN_OK);
    learn_user_state_free(st);
    learn_ctx_free(ctx);
    learn_model_close(m);
    const char *path = test_tmp_path("py-capi.f32");
    FILE *f = fopen(path, "wb");
    ck_assert_int_eq((int)fwrite(want, sizeof *want, total, f), (int)total);
    fclose(f);
    free(want);
    char code[2048];
    snprintf(code, sizeof code,
             "import sys; sys.path.insert(0, \"tools/python\"); import numpy as np, learn\n"
             "want = np.fromfile(\"%s\", np.float32)\n"
             "with learn.Model(\"models/demo.learn\") as m, learn.Context(m) as c:\n"
             "    t = [\"%s\", \"%s\", b\"caf\\xc3\\xa9 \\xe2\\x80\\x94 a text with UTF-8\".decode(), \"x\"]\n"
             "    x = c.encode(t)\n"
             "    s = c.user_state().append(x[:3])\n"
             "    got = np.concatenate([x.ravel(), c.item_embed(x).ravel(), c.user_embed(x), s.embedding])\n"
             "print(\"equal\" if got.shape == want.shape and np.array_equal(got, want) else\n"
             "      \"differ: %%s, max %%g\" %% (got.shape, np.abs(got - want).max() if got.shape == want.shape else -1))\n",
             path, texts[0], texts[1]);
    char script[700];
    snprintf(script, sizeof script, "%s.py", path);
    f = fopen(script, "w");
    fputs(code, f);
    fclose(f);
    int rc = py_sh("%s LEARN_LIBRARY='%s' %s '%s'", pre, lib, py, script);
    ck_assert_msg(rc == 0 && strcmp(py_out, "equal\n") == 0, "%s", py_tail(3000));
    unlink(path);
    unlink(script);
}
END_TEST

static int py_cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* CPU nanoseconds of the calling thread in the median of `reps` (at most 1000) calls of
   liblearn.so's learn_catalog_topk. */
static long long py_time_c_topk(const py_so *so, learn_ctx *ctx, const learn_catalog *cat, const float *q,
                                uint32_t k, int reps, learn_hit *hits, size_t *n) {
    static long long t[1000];
    for (int r = -10; r < reps; r++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
        ck_assert_int_eq(so->topk(ctx, cat, q, k, NULL, 0, hits, n), LEARN_OK);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
        if (r >= 0) t[r] = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec);
    }
    qsort(t, (size_t)reps, sizeof *t, py_cmp_ll);
    return t[reps / 2];
}

/* Catalog.topk over 100,000 items of dimension 64 costs no more than 10 % over
   learn_catalog_topk (the binding adds no copy), with the same hits. Measured on one thread,
   in CPU time, so that neither the thread pool's wake-ups nor the other programs of a shared
   machine weigh in (its wall times vary by a third from run to run): in the Python process
   the binding and the bare C function are called in turn, 400 times each, and their medians
   compared; the same C call timed here, in C, through the build's liblearn.so, is printed
   beside them, and its hits must be the binding's. */
START_TEST(test_python_topk_time) {
    PY_SETUP(py, lib, pre);
    const uint32_t n_items = 100000, d = 64, k = 10;
    const char *path = test_tmp_path("py-topk.learn");
    char qpath[600];
    snprintf(qpath, sizeof qpath, "%s.query", path);
    learn_catalog_builder *b;
    ck_assert_int_eq(learn_catalog_builder_new(NULL, 8, d, &b), LEARN_OK);
    test_rng r = {2024};
    float content[8] = {0}, item[64], q[64];
    for (uint32_t i = 0; i < n_items; i++) {
        test_fill_normal(&r, item, d, 1.0);
        learn_l2_normalize(item, d);
        char id[32];
        int len = snprintf(id, sizeof id, "I%06u", i);
        ck_assert_int_eq(learn_catalog_builder_add(b, id, (size_t)len, content, item), LEARN_OK);
    }
    ck_assert_int_eq(learn_catalog_builder_save(b, path), LEARN_OK);
    learn_catalog_builder_free(b);
    test_fill_normal(&r, q, d, 1.0);
    FILE *f = fopen(qpath, "wb");
    ck_assert_int_eq((int)fwrite(q, sizeof q, 1, f), 1);
    fclose(f);

    py_so so;
    py_so_open(&so, lib);
    learn_catalog *cat;
    learn_model *m;
    learn_ctx *ctx;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_msg(so.catalog_open(path, NULL, &cat, err, sizeof err) == LEARN_OK, "%s", err);
    ck_assert_msg(so.model_open("models/demo.learn", NULL, &m, err, sizeof err) == LEARN_OK, "%s", err);
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = 1;
    ck_assert_int_eq(so.ctx_new(m, &cp, &ctx), LEARN_OK);
    learn_hit hits[10];
    size_t n = 0;
    int reps = pre[0] ? 20 : 400; /* the sanitizer build's scan is 25 times slower */
    long long here = py_time_c_topk(&so, ctx, cat, q, k, reps, hits, &n);
    ck_assert_uint_eq(n, k);
    int rc = py_sh("%s LEARN_LIBRARY='%s' %s tools/python/tests/time_topk.py '%s' '%s' %u %d", pre, lib, py, path,
                   qpath, k, reps);
    ck_assert_msg(rc == 0, "time_topk.py: %s", py_tail(3000));
    const char *tb = strstr(py_out, "binding_ns "), *tc = strstr(py_out, "\nc_ns "), *h = strstr(py_out, "hits ");
    const char *wb = strstr(py_out, "binding_wall_ns "), *wc = strstr(py_out, "c_wall_ns ");
    ck_assert_msg(tb && tc && h && wb && wc, "%s", py_out);
    long long binding = atoll(tb + 11), c = atoll(tc + 6);
    char want[256] = "hits";
    for (size_t i = 0; i < n; i++) snprintf(want + strlen(want), sizeof want - strlen(want), " %u", hits[i].index);
    ck_assert_msg(strncmp(h, want, strlen(want)) == 0 && h[strlen(want)] == '\n', "python %.*s, C %s",
                  (int)strcspn(h, "\n"), h, want);
    double ratio = (double)binding / (double)c;
    printf("python: top-%u of %u items (d %u, 1 thread, %s), median CPU time of %d calls: learn.Catalog.topk "
           "%.3f ms, learn_catalog_topk from Python %.3f ms (%+.1f %%), from C %.3f ms; wall: %.3f and %.3f ms\n",
           k, n_items, d, so.ctx_isa(ctx), reps, binding / 1e6, c / 1e6, (ratio - 1) * 100, here / 1e6,
           atoll(wb + 16) / 1e6, atoll(wc + 10) / 1e6);
    fflush(stdout);
    ck_assert_msg(ratio <= 1.10, "Catalog.topk took %.3f ms, learn_catalog_topk %.3f ms (%.0f %% more)",
                  binding / 1e6, c / 1e6, (ratio - 1) * 100);
    so.ctx_free(ctx);
    so.model_close(m);
    so.catalog_close(cat);
    dlclose(so.dl);
    unlink(path);
    unlink(qpath);
}
END_TEST

/* pip installs the module offline (no index, no build requirements), in a venv that sees the
   system's numpy, as README says (python3 -m venv --system-site-packages, then its pip; when
   the interpreter has no ensurepip, a venv without pip run by the system's pip): the installed
   copy finds liblearn.so.MAJOR through the loader; an editable install runs the repository's;
   uninstall removes it. */
START_TEST(test_python_pip) {
    PY_SETUP(py, lib, pre);
    if (pre[0]) TEST_SKIP("pip and the loader's search run no C code of the sanitizer build");
    char cwd[512], v[700], bdir[1024], pip[1024];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    snprintf(v, sizeof v, "%s/%s", cwd, test_tmp_path("venv"));
    snprintf(bdir, sizeof bdir, "%s", lib);
    *strrchr(bdir, '/') = 0;
    py_sh("rm -rf '%s'", v);
    const char *opts = "install --no-index --no-cache-dir --disable-pip-version-check";
    if (py_sh("%s -m venv --system-site-packages '%s'", py, v) == 0) {
        snprintf(pip, sizeof pip, "'%s/bin/pip' %s", v, opts);
    } else {
        py_sh("rm -rf '%s'", v);
        if (py_sh("%s -m pip --version", py) != 0)
            TEST_SKIP("%s has neither ensurepip nor pip (apt-get install python3-venv python3-pip)", py);
        if (py_sh("%s -m venv --without-pip --system-site-packages '%s'", py, v) != 0)
            TEST_SKIP("%s -m venv failed: %s", py, py_tail(500));
        printf("python: %s has no ensurepip (apt-get install python3-venv): the venv uses the system's pip\n", py);
        snprintf(pip, sizeof pip, "'%s/bin/python' -m pip %s", v, opts);
    }
    int rc = py_sh("%s tools/python", pip);
    ck_assert_msg(rc == 0, "pip install: %s", py_tail(3000));
    /* The installed copy, from elsewhere, through the loader (no LEARN_LIBRARY). */
    const char *probe = "import learn; m = learn.Model(\"%s/models/demo.learn\"); "
                        "print(learn.__file__, learn._lib.path, m.info.n_embd, learn.version())";
    char code[1024];
    snprintf(code, sizeof code, probe, cwd);
    rc = py_sh("cd / && env -u LEARN_LIBRARY LD_LIBRARY_PATH='%s' '%s/bin/python' -c '%s'", bdir, v, code);
    ck_assert_msg(rc == 0, "%s", py_tail(3000));
    char want[1200];
    snprintf(want, sizeof want, "%s/lib/python", v);
    ck_assert_msg(strncmp(py_out, want, strlen(want)) == 0, "%s", py_out);
    snprintf(want, sizeof want, " liblearn.so.%d 128 %s\n", LEARN_VERSION_MAJOR, LEARN_VERSION_STRING);
    ck_assert_msg(strstr(py_out, want), "%s", py_out);
    /* Without the library anywhere, the import says what to do (unless one is installed). */
    if (py_sh("ldconfig -p 2>/dev/null | grep -q 'liblearn\\.so\\.'") != 0) {
        rc = py_sh("cd / && env -u LEARN_LIBRARY -u LD_LIBRARY_PATH '%s/bin/python' -c 'import learn'", v);
        ck_assert_msg(rc == 1 && strstr(py_out, "cannot load liblearn") && strstr(py_out, "LEARN_LIBRARY"), "%s", py_out);
    }
    /* Editable: the repository's sources, and the repository's build. */
    rc = py_sh("%s -e tools/python", pip);
    ck_assert_msg(rc == 0, "pip install -e: %s", py_tail(3000));
    rc = py_sh("cd / && env -u LEARN_LIBRARY LD_LIBRARY_PATH='%s' '%s/bin/python' -c '%s'", bdir, v, code);
    ck_assert_msg(rc == 0, "%s", py_tail(3000));
    snprintf(want, sizeof want, "%s/tools/python/learn/__init__.py ", cwd);
    ck_assert_msg(strncmp(py_out, want, strlen(want)) == 0, "%s", py_out);
    rc = py_sh("'%s/bin/python' -m pip uninstall -y learn", v);
    ck_assert_msg(rc == 0 && strstr(py_out, "Successfully uninstalled learn"), "%s", py_out);
    rc = py_sh("cd / && '%s/bin/python' -c 'import learn'", v);
    ck_assert_msg(rc == 1 && strstr(py_out, "No module named 'learn'"), "%s", py_out);
    py_sh("rm -rf '%s'", v);
}
END_TEST

static Suite *make_python_suite(void) {
    Suite *s = suite_create("python");
    TCase *tc = tcase_create("module");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_python_module);
    tcase_add_test(tc, test_python_equals_c_api);
    tcase_add_test(tc, test_python_topk_time);
    tcase_add_test(tc, test_python_pip);
    suite_add_tcase(s, tc);
    return s;
}
