/* Crash consistency (RELIABILITY.md E, writers): `learn-cli catalog build`, `catalog add` and
   `train` killed with SIGKILL at random moments, again and again. After every kill the target
   must be what it was before (absent, or the old file byte for byte) or a complete new file
   that opens with its checksum; a killed writer may leave its temporary file and lock file
   (it cannot remove them) but they never take the target's place, and the next writer that
   completes has removed them: none is left after a run that was not killed. */

#include <fcntl.h>
#include <signal.h>
#include <time.h>

static double crash_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs `cli args...` (output discarded) and, when delay >= 0, sends SIGKILL after delay
   seconds. Returns 1 when the kill ended it, 0 when it exited 0 by itself. */
static int crash_run(const char *cli, const char *const *args, double delay) {
    const char *argv[32];
    int n = 0;
    argv[n++] = cli;
    for (const char *const *a = args; *a && n < 31; a++) argv[n++] = *a;
    argv[n] = NULL;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(cli, (char *const *)argv);
        _exit(127);
    }
    if (delay >= 0) {
        struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL); /* the child is not reaped yet: its pid cannot be reused */
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return 1;
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "learn-cli %s %s failed (status 0x%x)", args[0],
                  args[1], status);
    return 0;
}

static void crash_copy(const char *from, const char *to) {
    size_t n;
    uint8_t *p = test_read_file(from, &n);
    ck_assert_msg(p != NULL, "%s", from);
    FILE *f = fopen(to, "wb");
    ck_assert_int_eq(fwrite(p, 1, n, f), n);
    fclose(f);
    free(p);
}

/* What is at path now: 0 absent, 1 exactly `old`, 2 exactly `new`, 3 another file that opens
   with its checksum (as a catalog when cat), -1 anything else. */
static int crash_state(const char *path, const uint8_t *old, size_t old_n, const uint8_t *new_, size_t new_n,
                       int cat) {
    size_t n;
    uint8_t *p = test_read_file(path, &n);
    if (!p) return 0;
    int st = -1;
    if (old && n == old_n && memcmp(p, old, n) == 0) st = 1;
    else if (new_ && n == new_n && memcmp(p, new_, n) == 0) st = 2;
    free(p);
    if (st > 0) return st;
    char err[LEARN_ERRMSG_SIZE];
    if (cat) {
        learn_catalog *c;
        if (learn_catalog_open(path, NULL, &c, err, sizeof err) != LEARN_OK) return -1;
        learn_catalog_close(c);
    } else {
        learn_model *m;
        if (learn_model_open(path, NULL, &m, err, sizeof err) != LEARN_OK) return -1;
        learn_model_close(m);
    }
    return 3;
}

typedef struct crash_case {
    const char *name;
    const char *target;      /* the file the command writes */
    const char *also;        /* a second file it writes (train's checkpoint), or NULL */
    const char *const *args;
    const char *old;         /* the file put at target before each run (NULL: absent) */
    int cat;                 /* target is a catalog (else a model) */
    int deterministic;       /* the new target is always the same bytes */
    int kills;               /* SIGKILLs wanted */
} crash_case;

/* Kills c's command at random moments until c->kills kills landed; checks the target after
   each, and that a run that was not killed left nothing behind (its own files, and those of
   the killed runs before it). Returns the number of leftovers seen after kills. */
static int crash_loop(const char *cli, const crash_case *c, test_rng *r, int *killed) {
    size_t old_n = 0, new_n = 0;
    uint8_t *old = c->old ? test_read_file(c->old, &old_n) : NULL;
    /* The undisturbed result, and how long it takes (the faster of two runs). */
    double d = 1e9;
    for (int i = 0; i < 2; i++) {
        if (c->old) crash_copy(c->old, c->target);
        else unlink(c->target);
        if (c->also) unlink(c->also);
        double t0 = crash_now();
        crash_run(cli, c->args, -1);
        if (crash_now() - t0 < d) d = crash_now() - t0;
    }
    uint8_t *new_ = c->deterministic ? test_read_file(c->target, &new_n) : NULL;
    ck_assert_int_eq(crash_state(c->target, NULL, 0, NULL, 0, c->cat), 3);
    int tmp = 0, runs = 0, cleaned = 0, seen[5] = {0};
    *killed = 0;
    while (*killed < c->kills) {
        ck_assert_msg(++runs < 4 * c->kills, "%s: only %d kills in %d runs", c->name, *killed, runs);
        if (c->old) crash_copy(c->old, c->target);
        else unlink(c->target);
        if (c->also) unlink(c->also);
        double delay = test_randu(r) * d * 1.1;
        int before = test_litter(c->target) + (c->also ? test_litter(c->also) : 0);
        int k = crash_run(cli, c->args, delay);
        *killed += k;
        int after = test_litter(c->target) + (c->also ? test_litter(c->also) : 0);
        if (!k) {
            ck_assert_msg(after == 0, "%s: a run that completed left %d temporary or lock files (%d before it)",
                          c->name, after, before);
            cleaned += before;
        } else {
            tmp += after > before ? after - before : 0;
        }
        int st = crash_state(c->target, old, old_n, new_, new_n, c->cat);
        ck_assert_msg(st >= 0 && (st != 3 || !c->deterministic) && (st != 0 || !c->old) && (st != 1 || c->old),
                      "%s killed after %.1f ms: the target is %s", c->name, delay * 1e3,
                      st < 0 ? "broken" : st == 0 ? "gone" : st == 1 ? "the old file where absent was expected"
                                                                    : "neither the old nor the new file");
        seen[st]++;
        if (c->also) {
            int sa = crash_state(c->also, NULL, 0, NULL, 0, 0);
            ck_assert_msg(sa == 0 || sa == 3, "%s killed after %.1f ms: %s is broken", c->name, delay * 1e3, c->also);
        }
    }
    /* One more writer, undisturbed: whatever the killed ones left is gone after it. */
    int left = test_litter(c->target) + (c->also ? test_litter(c->also) : 0);
    if (c->old) crash_copy(c->old, c->target);
    crash_run(cli, c->args, -1);
    ck_assert_int_eq(crash_state(c->target, old, old_n, new_, new_n, c->cat) >= 2, 1);
    int after = test_litter(c->target) + (c->also ? test_litter(c->also) : 0);
    ck_assert_msg(after == 0, "%s: %d temporary or lock files left after the last writer (%d before it)", c->name,
                  after, left);
    cleaned += left;
    printf("crash %s: %d runs (%.0f ms each), %d killed; target absent %d, old %d, new %d; kills left %d temporary "
           "or lock files, none was left after a run that completed (those removed %d)\n",
           c->name, runs, d * 1e3, *killed, seen[0], seen[1], seen[2] + seen[3], tmp, cleaned);
    free(old);
    free(new_);
    return tmp;
}

START_TEST(test_crash_consistency) {
    TEST_CLI(cli);
    char d[512];
    snprintf(d, sizeof d, "%s", test_tmp_path("crash"));
    mkdir(d, 0755);
    char model[600], data[600], items[700], items10[700], inter[700], newitem[700], base[600], old[600];
    char cat[600], trained[600], ckpt[700];
    snprintf(model, sizeof model, "%s/model.learn", d);
    snprintf(data, sizeof data, "%s/data", d);
    snprintf(items, sizeof items, "%s/items.jsonl", data);
    snprintf(items10, sizeof items10, "%s/items10.jsonl", data);
    snprintf(inter, sizeof inter, "%s/interactions.tsv", data);
    snprintf(newitem, sizeof newitem, "%s/new.jsonl", d);
    snprintf(base, sizeof base, "%s/base.learn", d);
    snprintf(old, sizeof old, "%s/old.learn", d);
    snprintf(cat, sizeof cat, "%s/cat.learn", d);
    snprintf(trained, sizeof trained, "%s/trained.learn", d);
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", trained);
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    test_llm t = {{0}, 0};
    test_rec_build(w, &t, LEARN_TYPE_Q8_0, 0);
    ck_assert_int_eq(learn_writer_save(w, model), LEARN_OK);
    learn_writer_free(w);
    test_llm_free(&t);
    const char *synth[] = {"data", "synth", "-o", data, "--items", "40", "--users", "40", "--seed", "1", NULL};
    crash_run(cli, synth, -1);
    /* The first 10 items make the old catalog; one new item for `catalog add`. */
    FILE *in = fopen(items, "rb"), *out = fopen(items10, "wb");
    char line[4096];
    for (int i = 0; i < 10 && fgets(line, sizeof line, in); i++) fputs(line, out);
    fclose(in);
    fclose(out);
    out = fopen(newitem, "wb");
    fputs("{\"id\": \"NEW1\", \"title\": \"Zephyr Ultralight Tent\", \"brand\": \"Zephyr\", \"category\": \"Camping\"}\n", out);
    fclose(out);
    const char *build_base[] = {"catalog", "build", model, items, "-o", base, "--threads", "1", NULL};
    const char *build_old[] = {"catalog", "build", model, items10, "-o", old, "--threads", "1", NULL};
    crash_run(cli, build_base, -1);
    crash_run(cli, build_old, -1);
    const char *build[] = {"catalog", "build", model, items, "-o", cat, "--threads", "1", NULL};
    const char *add[] = {"catalog", "add", model, cat, newitem, "--threads", "1", NULL};
    const char *train[] = {"train", model, base, inter, "-o", trained, "--epochs", "2", "--d-model", "16",
                           "--layers", "1", "--heads", "2", "--d-out", "8", "--batch", "8", "--threads", "1", NULL};
    const crash_case cases[] = {
        {"catalog build (no old file)", cat, NULL, build, NULL, 1, 1, 15},
        {"catalog build (over an old one)", cat, NULL, build, old, 1, 1, 15},
        {"catalog add", cat, NULL, add, base, 1, 1, 20},
        {"train", trained, ckpt, train, NULL, 0, 0, 15},
        {"train (over an old model)", trained, ckpt, train, model, 0, 0, 15},
    };
    uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    printf("crash: seed %llu\n", (unsigned long long)seed);
    test_rng r = {seed};
    int total = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int killed;
        crash_loop(cli, &cases[i], &r, &killed);
        total += killed;
    }
    ck_assert_int_ge(total, 50);
}
END_TEST

static Suite *make_crash_suite(void) {
    Suite *s = suite_create("crash");
    TCase *tc = tcase_create("kill -9");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_crash_consistency);
    suite_add_tcase(s, tc);
    return s;
}
