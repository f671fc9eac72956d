/* ./build.sh install and uninstall into temporary prefixes: the files and their modes, the
   shared library's SONAME, links and exports, learn.pc, the README's C example built with
   pkg-config against the shared and the static library and run (its top 10 must be
   learn-cli's), DESTDIR, and uninstall removing exactly what install wrote. */

/* The release build directory (what ./build.sh install ships), or skip: the sanitizer,
   emulation and cross builds install nothing. */
#define INST_BUILD_DIR(var)                                                                       \
    const char *var = getenv("LEARN_BUILD_DIR");                                                 \
    if (!var || strlen(var) < 6 || strcmp(var + strlen(var) - 6, "/build") != 0)                  \
        TEST_SKIP("./build.sh install ships the release build; this run is of %s",                 \
                  var ? var : "no build directory (run through build.sh)");                        \
    if (test_run("command -v pkg-config && command -v readelf && command -v nm", inst_out,          \
                 sizeof inst_out) != 0)                                                           \
        TEST_SKIP("pkg-config, readelf or nm not found (apt-get install pkg-config binutils)")

static char inst_out[1 << 16];

/* Runs a shell command (stdout and stderr in inst_out) and requires exit status `want`. */
static const char *inst_sh(int want, const char *fmt, ...) {
    char cmd[6144];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = test_run(cmd, inst_out, sizeof inst_out);
    ck_assert_msg(rc == want, "`%s` exited %d (expected %d):\n%s", cmd, rc, want, inst_out);
    return inst_out;
}

/* An absolute scratch directory, created empty. */
static void inst_dir(char *out, size_t cap, const char *name) {
    char cwd[512];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    snprintf(out, cap, "%s/%s", cwd, test_tmp_path(name));
    inst_sh(0, "rm -rf '%s' && mkdir -p '%s'", out, out);
}

static const char *const inst_files[] = {"include/learn.h", "lib/liblearn.so.MM", "lib/liblearn.so.M",
                                         "lib/liblearn.so", "lib/liblearn.a", "lib/pkgconfig/learn.pc",
                                         "bin/learn-cli"};
#define INST_N_FILES (sizeof inst_files / sizeof inst_files[0])

/* Path of installed file i under root, with the version put in. */
static void inst_path(char *out, size_t cap, const char *root, size_t i) {
    char rel[128];
    snprintf(rel, sizeof rel, "%s", inst_files[i]);
    char *v = strstr(rel, ".so.M");
    if (v) {
        if (strcmp(v, ".so.MM") == 0)
            snprintf(v, 32, ".so.%d.%d", LEARN_VERSION_MAJOR, LEARN_VERSION_MINOR);
        else
            snprintf(v, 32, ".so.%d", LEARN_VERSION_MAJOR);
    }
    snprintf(out, cap, "%s/%s", root, rel);
}

START_TEST(test_install_prefix) {
    INST_BUILD_DIR(bdir);
    TEST_CLI(cli);
    char d[600], pre[700], p[800], lib[800], cmd[2048];
    inst_dir(d, sizeof d, "install");
    snprintf(pre, sizeof pre, "%s/prefix", d);
    /* A file of someone else's in the prefix stays where it is. */
    inst_sh(0, "mkdir -p '%s/lib' && echo keep > '%s/lib/other.txt'", pre, pre);
    const char *o = inst_sh(0, "./build.sh install '%s'", pre);
    for (size_t i = 0; i < INST_N_FILES; i++) {
        inst_path(p, sizeof p, pre, i);
        ck_assert_msg(strstr(o, p), "install did not report %s:\n%s", p, o);
        struct stat sb;
        ck_assert_msg(lstat(p, &sb) == 0, "%s is missing", p);
        if (S_ISLNK(sb.st_mode)) continue;
        int exec = strstr(p, "/bin/") || strstr(p, ".so.");
        ck_assert_msg((sb.st_mode & 0777) == (exec ? 0755u : 0644u), "%s: mode %o", p, sb.st_mode & 0777);
    }
    /* The header as it is; the links chain to liblearn.so.MAJOR.MINOR, whose SONAME is
       liblearn.so.MAJOR. */
    size_t n1, n2;
    uint8_t *a = test_read_file("learn.h", &n1);
    snprintf(p, sizeof p, "%s/include/learn.h", pre);
    uint8_t *b = test_read_file(p, &n2);
    ck_assert(a && b && n1 == n2 && memcmp(a, b, n1) == 0);
    free(a), free(b);
    char soname[64], libname[64], link[128];
    snprintf(soname, sizeof soname, "liblearn.so.%d", LEARN_VERSION_MAJOR);
    snprintf(libname, sizeof libname, "liblearn.so.%d.%d", LEARN_VERSION_MAJOR, LEARN_VERSION_MINOR);
    snprintf(p, sizeof p, "%s/lib/%s", pre, soname);
    ssize_t ln = readlink(p, link, sizeof link - 1);
    ck_assert_int_gt(ln, 0);
    link[ln] = 0;
    ck_assert_str_eq(link, libname);
    snprintf(p, sizeof p, "%s/lib/liblearn.so", pre);
    ln = readlink(p, link, sizeof link - 1);
    ck_assert_int_gt(ln, 0);
    link[ln] = 0;
    ck_assert_str_eq(link, soname);
    snprintf(lib, sizeof lib, "%s/lib/%s", pre, libname);
    o = inst_sh(0, "readelf -d '%s'", lib);
    snprintf(cmd, sizeof cmd, "Library soname: [%s]", soname);
    ck_assert_msg(strstr(o, cmd), "%s", o);
    /* It exports the functions learn.h declares, and nothing else. */
    inst_sh(0, "nm -D --defined-only '%s' | awk '{print $NF}' | sort -u > '%s/exported' && "
               "${CC:-cc} -E -P -x c learn.h | grep -oE '\\blearn_[a-z0-9_]+ *\\(' | tr -d ' (' | sort -u "
               "> '%s/declared'", lib, d, d);
    o = inst_sh(0, "wc -l < '%s/exported' && grep -c learn_catalog_topk_batch '%s/exported'", d, d);
    ck_assert_msg(atoi(o) > 90, "%s", o);
    inst_sh(0, "diff '%s/declared' '%s/exported'", d, d);
    snprintf(p, sizeof p, "%s/lib/other.txt", pre);
    ck_assert_int_eq(access(p, F_OK), 0);
    /* learn.pc. */
    char pc[900];
    snprintf(pc, sizeof pc, "PKG_CONFIG_PATH='%s/lib/pkgconfig'", pre);
    o = inst_sh(0, "%s pkg-config --modversion learn", pc);
    ck_assert_msg(strncmp(o, LEARN_VERSION_STRING "\n", strlen(LEARN_VERSION_STRING) + 1) == 0, "%s", o);
    o = inst_sh(0, "%s pkg-config --cflags --libs learn", pc);
    snprintf(cmd, sizeof cmd, "-I%s/include -L%s/lib -llearn", pre, pre);
    ck_assert_msg(strncmp(o, cmd, strlen(cmd)) == 0, "%s", o);
    o = inst_sh(0, "%s pkg-config --static --libs learn", pc);
    ck_assert_msg(strstr(o, "-llearn -lm -pthread"), "%s", o);
    snprintf(p, sizeof p, "%s/bin/learn-cli", pre);
    o = inst_sh(0, "'%s' --version", p);
    ck_assert_str_eq(o, "learn-cli " LEARN_VERSION_STRING "\n");

    /* The README's C example, as README.md has it, against the installed library: a catalog
       of generated items (P00001 ...) by the default model, run from a directory holding
       models/demo.learn and catalog.learn. */
    inst_sh(0, "awk '/^```c$/{f=1;next} /^```$/{f=0} f' README.md > '%s/app.c' && grep -q learn_catalog_topk '%s/app.c'",
            d, d);
    char run[800];
    snprintf(run, sizeof run, "%s/run", d);
    inst_sh(0, "mkdir -p '%s' && ln -s \"$PWD/models\" '%s/models' && '%s' data synth -o '%s/data' --items 80 --users 40 "
               "&& cd '%s' && '%s' catalog build models/demo.learn '%s/data/items.jsonl' -o catalog.learn",
            run, run, cli, d, run, cli, d);
    char want[4096] = "";
    o = inst_sh(0, "cd '%s' && '%s' recommend models/demo.learn catalog.learn --history P00001,P00002 -k 10", run, cli);
    for (const char *l = o; *l;) {
        int rank;
        float score;
        char id[64];
        ck_assert_int_eq(sscanf(l, "%d %f %63s", &rank, &score, id), 3);
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s %.3f\n", id, score);
        l = strchr(l, '\n');
        ck_assert_ptr_nonnull(l);
        l++;
    }
    ck_assert_int_eq(cli_count_lines(want), 10);
    const char *cc = getenv("CC") && *getenv("CC") ? getenv("CC") : "cc";
    inst_sh(0, "cd '%s' && %s -std=c11 -O2 -Wall -Wextra -Werror app.c -o app_shared $(%s pkg-config --cflags --libs learn)",
            d, cc, pc);
    inst_sh(0, "cd '%s' && %s -static -std=c11 -O2 -Wall -Wextra -Werror app.c -o app_static "
               "$(%s pkg-config --static --cflags --libs learn)", d, cc, pc);
    o = inst_sh(0, "readelf -d '%s/app_shared'", d);
    snprintf(cmd, sizeof cmd, "Shared library: [%s]", soname);
    ck_assert_msg(strstr(o, cmd), "%s", o);
    o = inst_sh(0, "readelf -d '%s/app_static'", d);
    ck_assert_msg(!strstr(o, "liblearn"), "%s", o);
    o = inst_sh(0, "cd '%s' && LD_LIBRARY_PATH='%s/lib' ../app_shared", run, pre);
    ck_assert_str_eq(o, want);
    o = inst_sh(0, "cd '%s' && ../app_static", run);
    ck_assert_str_eq(o, want);

    /* Uninstall: exactly the installed files go. */
    o = inst_sh(0, "./build.sh uninstall '%s'", pre);
    for (size_t i = 0; i < INST_N_FILES; i++) {
        inst_path(p, sizeof p, pre, i);
        struct stat sb;
        ck_assert_msg(lstat(p, &sb) != 0, "%s is still there", p);
        ck_assert_msg(strstr(o, p), "uninstall did not report %s:\n%s", p, o);
    }
    snprintf(p, sizeof p, "%s/lib/other.txt", pre);
    ck_assert_int_eq(access(p, F_OK), 0);
    inst_sh(0, "./build.sh uninstall '%s'", pre); /* nothing left to remove: no error */
    (void)bdir;
    inst_sh(0, "rm -rf '%s'", d);
}
END_TEST

/* DESTDIR: the files go under it, learn.pc names PREFIX alone. Bad prefixes are refused. */
START_TEST(test_install_destdir) {
    INST_BUILD_DIR(bdir);
    char d[600], p[800];
    inst_dir(d, sizeof d, "destdir");
    const char *o = inst_sh(0, "DESTDIR='%s/stage' ./build.sh install /opt/learn", d);
    ck_assert_msg(!strstr(o, "LD_LIBRARY_PATH"), "%s", o); /* no advice for a staged install */
    for (size_t i = 0; i < INST_N_FILES; i++) {
        char root[700];
        snprintf(root, sizeof root, "%s/stage/opt/learn", d);
        inst_path(p, sizeof p, root, i);
        struct stat sb;
        ck_assert_msg(lstat(p, &sb) == 0, "%s is missing", p);
    }
    snprintf(p, sizeof p, "%s/stage/opt/learn/lib/pkgconfig/learn.pc", d);
    char *pc = (char *)test_read_file(p, NULL);
    ck_assert_ptr_nonnull(pc);
    ck_assert_msg(strncmp(pc, "prefix=/opt/learn\n", 18) == 0 && !strstr(pc, d), "%s", pc);
    ck_assert_ptr_nonnull(strstr(pc, "Libs.private: -lm -pthread\n"));
    free(pc);
    inst_sh(0, "DESTDIR='%s/stage' ./build.sh uninstall /opt/learn", d);
    o = inst_sh(0, "find '%s/stage' -type f -o -type l", d);
    ck_assert_str_eq(o, "");
    o = inst_sh(1, "./build.sh install opt/learn");
    ck_assert_msg(strstr(o, "PREFIX must be an absolute path"), "%s", o);
    o = inst_sh(1, "DESTDIR=stage ./build.sh install /opt/learn");
    ck_assert_msg(strstr(o, "DESTDIR must be an absolute path"), "%s", o);
    o = inst_sh(1, "./build.sh uninstall /a /b");
    ck_assert_msg(strstr(o, "one PREFIX at most"), "%s", o);
    (void)bdir;
    inst_sh(0, "rm -rf '%s'", d);
}
END_TEST

static Suite *make_install_suite(void) {
    Suite *s = suite_create("install");
    TCase *tc = tcase_create("prefix");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_install_prefix);
    tcase_add_test(tc, test_install_destdir);
    suite_add_tcase(s, tc);
    return s;
}
