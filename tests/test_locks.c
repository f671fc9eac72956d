/* Files that many processes write (RELIABILITY.md E, several writers; learn.h "Writing
   files"): concurrent `catalog add`s all land and report what they wrote; a writer killed
   holding the lock lets the next one in, which removes its temporary file; readers opening the
   catalog while it is rewritten always get a whole one; a lock held elsewhere times out naming
   the holder's pid with nothing written; rewrites keep modes, owners and symlinks; new files
   follow the umask; the learn__io lock hook injects lock faults. */

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <time.h>

static void lk_sleep(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static double lk_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A fresh scratch directory build/tmp/PID-name. */
static const char *lk_dir(const char *name) {
    const char *d = test_tmp_path(name);
    char cmd[600], out[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    test_run(cmd, out, sizeof out);
    ck_assert_int_eq(mkdir(d, 0755), 0);
    return d;
}

/* Entries of dir that a writer of dir/base may leave: base.tmp.* and base.lock. */
static int lk_litter(const char *dir, const char *base) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, base);
    return test_litter(path);
}

/* One JSONL item (the test model's template fields). */
static void lk_item(FILE *f, const char *id, int k) {
    static const char *const kinds[] = {"Tent", "Tea", "Runners", "Headphones", "Lamp", "Stove"};
    fprintf(f, "{\"id\": \"%s\", \"title\": \"Kestrel %s %d\", \"brand\": \"Kestrel\", \"category\": \"%s\"}\n", id,
            kinds[k % 6], k, kinds[(k / 6) % 6]);
}

static void lk_item_file(const char *path, const char *id, int k) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    lk_item(f, id, k);
    fclose(f);
}

#define LK_BASE 24 /* items in the fixture's catalog */

/* The fixture in dir: model.learn (the tiny recommendation model, with towers), items.jsonl
   (LK_BASE items B00..) and cat.learn built from them by learn-cli. */
typedef struct lk_fix {
    char dir[512], model[600], items[600], cat[600];
} lk_fix;

static void lk_run_ok(const char *cmd) {
    char out[8192];
    int rc = test_run(cmd, out, sizeof out);
    ck_assert_msg(rc == 0, "%s -> %d: %s", cmd, rc, out);
}

static void lk_setup(lk_fix *x, const char *cli, const char *name) {
    snprintf(x->dir, sizeof x->dir, "%s", lk_dir(name));
    snprintf(x->model, sizeof x->model, "%s/model.learn", x->dir);
    snprintf(x->items, sizeof x->items, "%s/items.jsonl", x->dir);
    snprintf(x->cat, sizeof x->cat, "%s/cat.learn", x->dir);
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    test_llm t = {{0}, 0};
    test_rec_build(w, &t, LEARN_TYPE_Q8_0, 1);
    ck_assert_int_eq(learn_writer_save(w, x->model), LEARN_OK);
    learn_writer_free(w);
    test_llm_free(&t);
    FILE *f = fopen(x->items, "wb");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < LK_BASE; i++) {
        char id[16];
        snprintf(id, sizeof id, "B%02d", i);
        lk_item(f, id, i);
    }
    fclose(f);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s catalog build %s %s -o %s --threads 1", cli, x->model, x->items, x->cat);
    lk_run_ok(cmd);
}

/* Starts `cli args...` with its output in out_path; with a gate (a pipe), the child waits
   until the parent closes its write end (all start together). */
static pid_t lk_spawn(const char *cli, const char *const *args, const char *out_path, const int *gate) {
    const char *argv[32];
    int n = 0;
    argv[n++] = cli;
    for (const char *const *a = args; *a && n < 31; a++) argv[n++] = *a;
    argv[n] = NULL;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char c;
        if (gate) {
            close(gate[1]);
            (void)!read(gate[0], &c, 1);
        }
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(cli, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int lk_wait(pid_t pid) {
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Opens a catalog (checksum verified), checks its ids, and returns its item count. */
static uint32_t lk_cat_items(const char *path) {
    learn_catalog *c;
    char err[LEARN_ERRMSG_SIZE];
    learn_status st = learn_catalog_open(path, NULL, &c, err, sizeof err);
    ck_assert_msg(st == LEARN_OK, "%s: %s", path, err);
    learn_catalog_info ci;
    ck_assert_int_eq(learn_catalog_get_info(c, &ci), LEARN_OK);
    learn_catalog_close(c);
    return ci.n_items;
}

static int lk_cat_has(const char *path, const char *id) {
    learn_catalog *c;
    ck_assert_int_eq(learn_catalog_open(path, NULL, &c, NULL, 0), LEARN_OK);
    uint32_t idx;
    int has = learn_catalog_find(c, id, strlen(id), &idx) == LEARN_OK;
    learn_catalog_close(c);
    return has;
}

/* ---- 8 concurrent `catalog add`s of one catalog: all 8 items land, each reports the count it
   wrote (8 different counts, LK_BASE+1 .. LK_BASE+8) ---- */

START_TEST(test_lock_concurrent_adds) {
    TEST_CLI(cli);
    lk_fix x;
    lk_setup(&x, cli, "lock-adds");
    enum { N = 8 };
    char items[N][700], outs[N][700], ids[N][16];
    int gate[2];
    ck_assert_int_eq(pipe(gate), 0);
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "NEW%d", i);
        snprintf(items[i], sizeof items[i], "%s/new%d.jsonl", x.dir, i);
        snprintf(outs[i], sizeof outs[i], "%s/out%d.txt", x.dir, i);
        lk_item_file(items[i], ids[i], 100 + i);
        const char *args[] = {"catalog", "add", x.model, x.cat, items[i], "--threads", "1", NULL};
        pids[i] = lk_spawn(cli, args, outs[i], gate);
    }
    close(gate[0]);
    close(gate[1]); /* all start now */
    int seen[N] = {0};
    for (int i = 0; i < N; i++) {
        int rc = lk_wait(pids[i]);
        char *o = (char *)test_read_file(outs[i], NULL);
        ck_assert_msg(rc == 0, "add %d exited %d: %s", i, rc, o);
        char want[800];
        snprintf(want, sizeof want, "wrote %s: ", x.cat);
        const char *p = strstr(o, want);
        ck_assert_msg(p != NULL, "add %d: %s", i, o);
        unsigned k = 0;
        ck_assert_int_eq(sscanf(p + strlen(want), "%u items", &k), 1);
        ck_assert_msg(k > LK_BASE && k <= LK_BASE + N, "add %d says it wrote %u items", i, k);
        seen[k - LK_BASE - 1]++;
        free(o);
    }
    for (int k = 0; k < N; k++) ck_assert_msg(seen[k] == 1, "%d adds said they wrote %d items", seen[k], LK_BASE + k + 1);
    ck_assert_uint_eq(lk_cat_items(x.cat), LK_BASE + N);
    for (int i = 0; i < N; i++) ck_assert_msg(lk_cat_has(x.cat, ids[i]), "%s was lost", ids[i]);
    ck_assert(lk_cat_has(x.cat, "B00") && lk_cat_has(x.cat, "B23"));
    ck_assert_int_eq(lk_litter(x.dir, "cat.learn"), 0);
}
END_TEST

/* ---- A writer killed with SIGKILL while it holds the lock (mid-write): the next writer gets
   the lock at once and removes the dead one's temporary file (the library's, then learn-cli
   after a dead writer's files) ---- */

typedef struct lk_stall {
    int signal_fd; /* written once, when the first bytes are out */
    long written;
} lk_stall;

static long lk_stall_write(void *u, int fd, const void *buf, size_t n) {
    lk_stall *s = (lk_stall *)u;
    long r = (long)write(fd, buf, n > 4096 ? 4096 : n);
    if (r > 0 && (s->written += r) >= 4096) {
        (void)!write(s->signal_fd, "w", 1);
        for (;;) pause(); /* holds the lock, the temporary file half written, until killed */
    }
    return r;
}
static int lk_fsync(void *u, int fd) {
    (void)u;
    return fsync(fd);
}
static int lk_rename(void *u, const char *a, const char *b) {
    (void)u;
    return rename(a, b);
}

/* A catalog builder of n items with ids "tag-i" (content 64, items 16 wide). */
static learn_catalog_builder *lk_builder(const char *tag, int n) {
    learn_catalog_builder *b;
    ck_assert_int_eq(learn_catalog_builder_new(NULL, 64, 16, &b), LEARN_OK);
    test_rng r = {(uint64_t)n * 7 + 1};
    for (int i = 0; i < n; i++) {
        char id[32];
        float c[64], it[16];
        test_fill_normal(&r, c, 64, 1.0);
        test_fill_normal(&r, it, 16, 1.0);
        snprintf(id, sizeof id, "%s-%d", tag, i);
        ck_assert_int_eq(learn_catalog_builder_add(b, id, strlen(id), c, it), LEARN_OK);
    }
    return b;
}

/* Forks a child that saves a catalog of 300 items to path and stalls mid-write; returns once
   it holds the lock with its temporary file half written. */
static pid_t lk_stalled_writer(const char *path) {
    int sig[2];
    ck_assert_int_eq(pipe(sig), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(sig[0]);
        alarm(120); /* the test kills it long before; if a failed assert skips that, it ends anyway */
        learn_catalog_builder *b = lk_builder("dead", 300);
        lk_stall s = {sig[1], 0};
        learn__io io = {&s, lk_stall_write, lk_fsync, lk_rename, NULL};
        learn__builder_save(b, path, &io, NULL, NULL, NULL);
        _exit(3); /* not reached */
    }
    close(sig[1]);
    char c = 0;
    ck_assert_int_eq(read(sig[0], &c, 1), 1);
    close(sig[0]);
    return pid;
}

START_TEST(test_lock_killed_writer) {
    const char *dir = lk_dir("lock-killed");
    char path[600], lockp[700], tmp_prefix[700];
    snprintf(path, sizeof path, "%s/cat.learn", dir);
    snprintf(lockp, sizeof lockp, "%s.lock", path);
    learn_catalog_builder *old = lk_builder("old", 5);
    ck_assert_int_eq(learn_catalog_builder_save(old, path), LEARN_OK);
    learn_catalog_builder_free(old);
    size_t old_n, n;
    uint8_t *old_bytes = test_read_file(path, &old_n);
    for (int round = 0; round < 2; round++) {
        pid_t pid = lk_stalled_writer(path);
        /* It holds the lock: its pid is in the lock file, its temporary file is named after it. */
        snprintf(tmp_prefix, sizeof tmp_prefix, "cat.learn.tmp.%ld.", (long)pid);
        DIR *d = opendir(dir);
        int found = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) found += strncmp(e->d_name, tmp_prefix, strlen(tmp_prefix)) == 0;
        closedir(d);
        ck_assert_int_eq(found, 1);
        char *lk = (char *)test_read_file(lockp, NULL);
        ck_assert_ptr_nonnull(lk);
        ck_assert_int_eq(atol(lk), pid);
        free(lk);
        learn_lock_params p = learn_lock_default_params();
        p.timeout = 0;
        learn_lock *l;
        char err[LEARN_ERRMSG_SIZE], want[64];
        ck_assert_int_eq(learn_lock_acquire(path, &p, &l, err, sizeof err), LEARN_ERR_BUSY);
        snprintf(want, sizeof want, "pid %ld", (long)pid);
        ck_assert_msg(strstr(err, want), "%s", err);
        kill(pid, SIGKILL);
        ck_assert_int_eq(lk_wait(pid), 128 + SIGKILL);
        /* The old file is untouched; the temporary file and the lock file are left. */
        uint8_t *now = test_read_file(path, &n);
        ck_assert(n == old_n && memcmp(now, old_bytes, n) == 0);
        free(now);
        ck_assert_int_eq(lk_litter(dir, "cat.learn"), 2);
        double t0 = lk_now();
        if (round == 0) {
            /* The next lock holder removes the leftover (and says so). */
            ck_assert_int_eq(learn_lock_acquire(path, &p, &l, err, sizeof err), LEARN_OK);
            learn_lock_info li;
            ck_assert_int_eq(learn_lock_get_info(l, &li), LEARN_OK);
            ck_assert_uint_eq(li.n_removed, 1);
            ck_assert_uint_ge(li.bytes_removed, 4096);
            ck_assert_str_eq(li.path, path);
            ck_assert_str_eq(li.lock_path, lockp);
            ck_assert_int_eq(lk_litter(dir, "cat.learn"), 1); /* the lock file, ours now */
            learn_lock_release(l);
        } else {
            /* The next writer, the library's save with its own lock, the same. */
            learn_catalog_builder *b = lk_builder("next", 7);
            ck_assert_int_eq(learn_catalog_builder_save(b, path), LEARN_OK);
            learn_catalog_builder_free(b);
            ck_assert_uint_eq(lk_cat_items(path), 7);
        }
        ck_assert_msg(lk_now() - t0 < 10.0, "the next writer waited %.2f s (for the dead one's lock?)", lk_now() - t0);
        ck_assert_int_eq(lk_litter(dir, "cat.learn"), 0);
    }
    free(old_bytes);
    /* learn-cli as the next writer, after a dead one's lock file (with its pid) and temporary file. */
    TEST_CLI(cli);
    char out_cat[700], stale[800], cmd[2400], out[8192];
    snprintf(out_cat, sizeof out_cat, "%s/merged.learn", dir);
    snprintf(stale, sizeof stale, "%s.lock", out_cat);
    FILE *f = fopen(stale, "wb");
    fputs("999999\n", f);
    fclose(f);
    snprintf(stale, sizeof stale, "%s.tmp.999999.Ab12Cd", out_cat);
    f = fopen(stale, "wb");
    for (int i = 0; i < 3000; i++) fputs("half a catalog ", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s catalog merge -o %s %s --lock-timeout 0", cli, out_cat, path);
    ck_assert_msg(test_run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "removed 1 temporary file (45 kB) that killed writers of") && strstr(out, "wrote"), "%s",
                  out);
    ck_assert_uint_eq(lk_cat_items(out_cat), 7);
    ck_assert_int_eq(lk_litter(dir, "merged.learn"), 0);
}
END_TEST

/* ---- Readers opening the catalog (checksum verified) over and over while 50 `catalog add`s
   rewrite it, in waves of 10 at once, each wave with a `catalog reembed` in place and a
   `catalog merge -o CAT CAT SHARD` (5 more items): every open succeeds and sees LK_BASE + k
   items holding exactly k of the new ids, k never going down; all 55 are there at the end ---- */

typedef struct lk_reader {
    const char *path;
    atomic_int *stop;
    long opens, bad;
    uint32_t last;
    char err[LEARN_ERRMSG_SIZE + 16];
} lk_reader;

static void *lk_read_loop(void *arg) {
    lk_reader *r = (lk_reader *)arg;
    while (!atomic_load(r->stop)) {
        learn_catalog *c;
        char err[LEARN_ERRMSG_SIZE];
        if (learn_catalog_open(r->path, NULL, &c, err, sizeof err) != LEARN_OK) {
            if (!r->bad++) snprintf(r->err, sizeof r->err, "open: %s", err);
            continue;
        }
        learn_catalog_info ci;
        memset(&ci, 0, sizeof ci);
        learn_catalog_get_info(c, &ci);
        uint32_t k = 0, idx;
        for (int i = 0; i < 55; i++) {
            char id[16];
            snprintf(id, sizeof id, i < 50 ? "R%02d" : "M%d", i < 50 ? i : i - 50);
            k += learn_catalog_find(c, id, strlen(id), &idx) == LEARN_OK;
        }
        if (ci.n_items != LK_BASE + k || ci.n_items < r->last) {
            if (!r->bad++)
                snprintf(r->err, sizeof r->err, "%u items with %u new ones (%u seen before)", ci.n_items, k, r->last);
        }
        r->last = ci.n_items;
        r->opens++;
        learn_catalog_close(c);
        lk_sleep(0.001);
    }
    return NULL;
}

START_TEST(test_lock_readers_during_adds) {
    TEST_CLI(cli);
    lk_fix x;
    lk_setup(&x, cli, "lock-readers");
    char shards[5][700], cmd[8192];
    for (int i = 0; i < 5; i++) {
        char item[700], id[16];
        snprintf(id, sizeof id, "M%d", i);
        snprintf(item, sizeof item, "%s/m%d.jsonl", x.dir, i);
        snprintf(shards[i], sizeof shards[i], "%s/shard%d.learn", x.dir, i);
        lk_item_file(item, id, 300 + i);
        snprintf(cmd, sizeof cmd, "%s catalog build %s %s -o %s --threads 1", cli, x.model, item, shards[i]);
        lk_run_ok(cmd);
    }
    atomic_int stop;
    atomic_init(&stop, 0);
    lk_reader rd[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        memset(&rd[i], 0, sizeof rd[i]);
        rd[i].path = x.cat;
        rd[i].stop = &stop;
        ck_assert_int_eq(pthread_create(&th[i], NULL, lk_read_loop, &rd[i]), 0);
    }
    for (int wave = 0; wave < 5; wave++) {
        pid_t pids[12];
        char outs[12][700];
        for (int j = 0; j < 12; j++) {
            int k = wave * 10 + j;
            char item[700], id[16];
            snprintf(outs[j], sizeof outs[j], "%s/out%d.txt", x.dir, j);
            if (j == 5) {
                const char *args[] = {"catalog", "reembed", x.model, x.cat, "--threads", "1", NULL};
                pids[j] = lk_spawn(cli, args, outs[j], NULL);
                continue;
            }
            if (j == 11) {
                const char *args[] = {"catalog", "merge", "-o", x.cat, x.cat, shards[wave], NULL};
                pids[j] = lk_spawn(cli, args, outs[j], NULL);
                continue;
            }
            if (j > 5) k--;
            snprintf(id, sizeof id, "R%02d", k);
            snprintf(item, sizeof item, "%s/new%d.jsonl", x.dir, k);
            lk_item_file(item, id, 200 + k);
            const char *args[] = {"catalog", "add", x.model, x.cat, item, "--threads", "1", NULL};
            pids[j] = lk_spawn(cli, args, outs[j], NULL);
        }
        for (int j = 0; j < 12; j++) {
            int rc = lk_wait(pids[j]);
            if (rc) {
                char *o = (char *)test_read_file(outs[j], NULL);
                ck_abort_msg("wave %d, writer %d exited %d: %s", wave, j, rc, o);
            }
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(rd[i].bad == 0, "reader %d: %ld bad opens of %ld (first: %s)", i, rd[i].bad,
                      rd[i].opens + rd[i].bad, rd[i].err);
        ck_assert_int_gt(rd[i].opens, 10);
    }
    printf("locks: 2 readers opened the catalog %ld times during 50 adds, 5 re-embeds and 5 merges, all whole\n",
           rd[0].opens + rd[1].opens);
    ck_assert_uint_eq(lk_cat_items(x.cat), LK_BASE + 55);
    ck_assert_int_eq(lk_litter(x.dir, "cat.learn"), 0);
}
END_TEST

/* ---- A lock held elsewhere: every rewriting command and the library's saves time out with a
   message naming the holder's pid, and write nothing ---- */

START_TEST(test_lock_timeout) {
    TEST_CLI(cli);
    lk_fix x;
    lk_setup(&x, cli, "lock-timeout");
    char newitem[700], inter[700], trained[700], cmd[4096], out[8192], want[64];
    snprintf(newitem, sizeof newitem, "%s/new.jsonl", x.dir);
    lk_item_file(newitem, "NEW", 77);
    snprintf(inter, sizeof inter, "%s/inter.tsv", x.dir);
    FILE *f = fopen(inter, "wb");
    for (int u = 0; u < 12; u++)
        for (int t = 0; t < 10; t++) fprintf(f, "u%d\tB%02d\t%d\n", u, (u * 5 + t * 7) % LK_BASE, t);
    fclose(f);
    snprintf(trained, sizeof trained, "%s/trained.learn", x.dir);
    size_t old_n, n;
    uint8_t *old = test_read_file(x.cat, &old_n);
    /* The holder: this process. */
    learn_lock *held, *l;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_int_eq(learn_lock_acquire(x.cat, NULL, &held, err, sizeof err), LEARN_OK);
    learn_lock *held_t;
    ck_assert_int_eq(learn_lock_acquire(trained, NULL, &held_t, err, sizeof err), LEARN_OK);
    snprintf(want, sizeof want, "pid %ld", (long)getpid());
    /* Another holder in this process (another open file description) waits too. */
    learn_lock_params p = learn_lock_default_params();
    p.timeout = 0.2;
    double t0 = lk_now();
    ck_assert_int_eq(learn_lock_acquire(x.cat, &p, &l, err, sizeof err), LEARN_ERR_BUSY);
    ck_assert_ptr_null(l);
    ck_assert_double_ge(lk_now() - t0, 0.2);
    ck_assert_msg(strstr(err, want) && strstr(err, "gave up after 0.2 s"), "%s", err);
    p.timeout = 0;
    t0 = lk_now();
    ck_assert_int_eq(learn_lock_acquire(x.cat, &p, &l, err, sizeof err), LEARN_ERR_BUSY);
    ck_assert_double_lt(lk_now() - t0, 1.0); /* no wait (1 s: room for a loaded machine) */
    ck_assert_msg(strstr(err, want) && !strstr(err, "gave up"), "%s", err);
    /* The commands. */
    const char *cmds[][2] = {
        {"catalog add", "catalog add %s %s %s --threads 1 --lock-timeout 0.3"},
        {"catalog reembed", "catalog reembed %s %s --threads 1 --lock-timeout 0.3"},
        {"catalog build", "catalog build %s %s -o %s --threads 1 --lock-timeout=0.3"},
        {"train --resume", "--lock-timeout 0.3 train %s %s %s -o %s --resume --epochs 1 --d-model 16 --layers 1 "
                           "--heads 2 --d-out 8 --batch 4 --threads 1"},
    };
    for (int i = 0; i < 4; i++) {
        char args[3072];
        if (i == 0) snprintf(args, sizeof args, cmds[i][1], x.model, x.cat, newitem);
        else if (i == 1) snprintf(args, sizeof args, cmds[i][1], x.model, x.cat);
        else if (i == 2) snprintf(args, sizeof args, cmds[i][1], x.model, x.items, x.cat);
        else snprintf(args, sizeof args, cmds[i][1], x.model, x.cat, inter, trained);
        snprintf(cmd, sizeof cmd, "%s %s", cli, args);
        t0 = lk_now();
        int rc = test_run(cmd, out, sizeof out);
        double el = lk_now() - t0;
        ck_assert_msg(rc == 1, "%s: exit %d: %s", cmds[i][0], rc, out);
        ck_assert_msg(strstr(out, want) && strstr(out, "locked by another writer") && strstr(out, "gave up after 0.3 s"),
                      "%s: %s", cmds[i][0], out);
        ck_assert_msg(strstr(out, "waiting up to 0.3 s"), "%s: %s", cmds[i][0], out);
        ck_assert_msg(el >= 0.3 && el < 10, "%s: %.2f s", cmds[i][0], el);
        uint8_t *now = test_read_file(x.cat, &n);
        ck_assert_msg(n == old_n && memcmp(now, old, n) == 0, "%s changed the catalog", cmds[i][0]);
        free(now);
        ck_assert_int_eq(access(trained, F_OK), -1);
        snprintf(out, sizeof out, "%s.ckpt", trained);
        ck_assert_int_eq(access(out, F_OK), -1);
        ck_assert_int_eq(lk_litter(x.dir, "cat.learn"), 1);     /* our lock file only */
        ck_assert_int_eq(lk_litter(x.dir, "trained.learn"), 1); /* the same */
    }
    /* --lock-timeout 0 fails at once; a bad value is refused. */
    snprintf(cmd, sizeof cmd, "%s catalog add %s %s %s --lock-timeout 0", cli, x.model, x.cat, newitem);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, want) && strstr(out, "(--lock-timeout 0)") && !strstr(out, "waiting"), "%s", out);
    snprintf(cmd, sizeof cmd, "%s catalog add %s %s %s --lock-timeout -1", cli, x.model, x.cat, newitem);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--lock-timeout needs a number of seconds >= 0, not '-1'"), "%s", out);
    /* Released: the same add goes through, and a writer waiting for the lock gets it when it is let go. */
    learn_lock_release(held_t);
    snprintf(out, sizeof out, "%s/waiter.txt", x.dir);
    const char *args[] = {"catalog", "add", x.model, x.cat, newitem, "--threads", "1", NULL};
    pid_t waiter = lk_spawn(cli, args, out, NULL);
    /* Released once the waiter says it waits (it loads the model and encodes first: slow under
       the sanitizers and qemu), or after 60 s. */
    for (double since = lk_now(); lk_now() - since < 60;) {
        char *w = (char *)test_read_file(out, NULL);
        int waiting = w && strstr(w, "waiting up to 60 s");
        free(w);
        if (waiting) break;
        lk_sleep(0.02);
    }
    learn_lock_release(held);
    int rc = lk_wait(waiter);
    char *o = (char *)test_read_file(out, NULL);
    ck_assert_msg(rc == 0 && strstr(o, "waiting up to 60 s") && strstr(o, want), "exit %d: %s", rc, o);
    free(o);
    ck_assert_uint_eq(lk_cat_items(x.cat), LK_BASE + 1);
    ck_assert_int_eq(lk_litter(x.dir, "cat.learn"), 0);
    free(old);
}
END_TEST

/* ---- Modes, owners, umask ---- */

static mode_t lk_mode(const char *path) {
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    return sb.st_mode & 07777;
}

START_TEST(test_lock_modes) {
    TEST_CLI(cli);
    lk_fix x;
    lk_setup(&x, cli, "lock-modes");
    char item[700], cmd[4096], path[700];
    snprintf(item, sizeof item, "%s/new.jsonl", x.dir);
    lk_item_file(item, "NEW", 5);
    /* chmod 640, then catalog add: still 640. */
    ck_assert_int_eq(chmod(x.cat, 0640), 0);
    snprintf(cmd, sizeof cmd, "%s catalog add %s %s %s --threads 1", cli, x.model, x.cat, item);
    lk_run_ok(cmd);
    ck_assert_uint_eq(lk_mode(x.cat), 0640);
    ck_assert_uint_eq(lk_cat_items(x.cat), LK_BASE + 1);
    /* Library saves keep any mode, even one that denies the owner writing (0444), and setgid. */
    snprintf(path, sizeof path, "%s/lib.learn", x.dir);
    learn_catalog_builder *b = lk_builder("m", 4);
    const mode_t modes[] = {0604, 0444, 02640, 0600};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(learn_catalog_builder_save(b, path), LEARN_OK);
        ck_assert_int_eq(chmod(path, modes[i]), 0);
        mode_t before = lk_mode(path); /* setgid may be dropped by chmod itself for a non-member */
        ck_assert_int_eq(learn_catalog_builder_save(b, path), LEARN_OK);
        ck_assert_msg(lk_mode(path) == before, "mode %04o became %04o", (unsigned)before, (unsigned)lk_mode(path));
    }
    unlink(path);
    /* Owner and group, where permitted: root may give the file back to anyone. */
    if (geteuid() == 0) {
        ck_assert_int_eq(chown(x.cat, 4321, 8765), 0);
        snprintf(item, sizeof item, "%s/new2.jsonl", x.dir);
        lk_item_file(item, "NEW2", 6);
        snprintf(cmd, sizeof cmd, "%s catalog add %s %s %s --threads 1", cli, x.model, x.cat, item);
        lk_run_ok(cmd);
        struct stat sb;
        ck_assert_int_eq(stat(x.cat, &sb), 0);
        ck_assert_uint_eq(sb.st_uid, 4321);
        ck_assert_uint_eq(sb.st_gid, 8765);
        ck_assert_uint_eq(sb.st_mode & 07777, 0640);
        ck_assert_uint_eq(lk_cat_items(x.cat), LK_BASE + 2);
    } else {
        printf("locks: not root: the owner is not given back (not permitted); mode only\n");
    }
    /* New files follow the umask, in the library and in the CLI. */
    const mode_t masks[] = {027, 0, 077};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/umask%d.learn", x.dir, i);
        mode_t prev = umask(masks[i]);
        learn_status st = learn_catalog_builder_save(b, path);
        umask(prev);
        ck_assert_int_eq(st, LEARN_OK);
        ck_assert_uint_eq(lk_mode(path), 0666 & ~masks[i]);
    }
    snprintf(path, sizeof path, "%s/umask-cli.learn", x.dir);
    snprintf(cmd, sizeof cmd, "umask 077; %s catalog build %s %s -o %s --threads 1", cli, x.model, x.items, path);
    lk_run_ok(cmd);
    ck_assert_uint_eq(lk_mode(path), 0600);
    snprintf(cmd, sizeof cmd, "umask 002; %s catalog export %s --npy %s/npy", cli, path, x.dir);
    lk_run_ok(cmd);
    snprintf(path, sizeof path, "%s/npy/item.npy", x.dir);
    ck_assert_uint_eq(lk_mode(path), 0664);
    /* ... and a rewrite of an export keeps its mode too (learn_lock_temp/commit). */
    ck_assert_int_eq(chmod(path, 0600), 0);
    snprintf(cmd, sizeof cmd, "%s catalog export %s --npy %s/npy", cli, x.cat, x.dir);
    lk_run_ok(cmd);
    ck_assert_uint_eq(lk_mode(path), 0600);
    snprintf(path, sizeof path, "%s/npy", x.dir);
    ck_assert_int_eq(lk_litter(path, "item.npy"), 0);
    learn_catalog_builder_free(b);
}
END_TEST

/* ---- Symlinks: the target is replaced in its own directory, the link left as it was ---- */

static void lk_readlink_is(const char *link, const char *want) {
    char buf[600];
    ssize_t n = readlink(link, buf, sizeof buf - 1);
    ck_assert_msg(n >= 0, "%s is no longer a symlink", link);
    buf[n] = 0;
    ck_assert_str_eq(buf, want);
}

START_TEST(test_lock_symlinks) {
    TEST_CLI(cli);
    lk_fix x;
    lk_setup(&x, cli, "lock-links");
    char link[700], item[700], cmd[4096], other[700], link2[800], link3[800], path[800];
    /* catlink -> cat.learn (relative), catalog add through the link. */
    snprintf(link, sizeof link, "%s/catlink", x.dir);
    ck_assert_int_eq(symlink("cat.learn", link), 0);
    ck_assert_int_eq(chmod(x.cat, 0640), 0);
    snprintf(item, sizeof item, "%s/new.jsonl", x.dir);
    lk_item_file(item, "NEW", 9);
    snprintf(cmd, sizeof cmd, "%s catalog add %s %s %s --threads 1", cli, x.model, link, item);
    lk_run_ok(cmd);
    lk_readlink_is(link, "cat.learn");
    ck_assert(lk_cat_has(x.cat, "NEW"));
    ck_assert_uint_eq(lk_cat_items(x.cat), LK_BASE + 1);
    ck_assert_uint_eq(lk_mode(x.cat), 0640);
    ck_assert_int_eq(lk_litter(x.dir, "cat.learn") + lk_litter(x.dir, "catlink"), 0);
    /* The link and the target are one file to lock: held through the target, busy through the link. */
    learn_lock *held, *l;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_int_eq(learn_lock_acquire(x.cat, NULL, &held, err, sizeof err), LEARN_OK);
    learn_lock_params p = learn_lock_default_params();
    p.timeout = 0;
    ck_assert_int_eq(learn_lock_acquire(link, &p, &l, err, sizeof err), LEARN_ERR_BUSY);
    learn_lock_release(held);
    ck_assert_int_eq(learn_lock_acquire(link, &p, &l, err, sizeof err), LEARN_OK);
    learn_lock_info li;
    learn_lock_get_info(l, &li);
    ck_assert_str_eq(li.path, x.cat);
    learn_lock_release(l);
    /* A link in another directory, through a chain of links: other/l3 -> l2 -> ../lib.learn.
       The temporary file is made beside the target (rename within one directory). */
    learn_catalog_builder *b = lk_builder("linked", 6);
    snprintf(path, sizeof path, "%s/lib.learn", x.dir);
    ck_assert_int_eq(learn_catalog_builder_save(b, path), LEARN_OK);
    ck_assert_int_eq(chmod(path, 0604), 0);
    snprintf(other, sizeof other, "%s/other", x.dir);
    ck_assert_int_eq(mkdir(other, 0755), 0);
    snprintf(link2, sizeof link2, "%s/l2", other);
    snprintf(link3, sizeof link3, "%s/l3", other);
    ck_assert_int_eq(symlink("../lib.learn", link2), 0);
    ck_assert_int_eq(symlink("l2", link3), 0);
    learn_catalog_builder_free(b);
    b = lk_builder("linked", 9);
    ck_assert_int_eq(learn_catalog_builder_save(b, link3), LEARN_OK);
    lk_readlink_is(link3, "l2");
    lk_readlink_is(link2, "../lib.learn");
    ck_assert_uint_eq(lk_cat_items(link3), 9);
    ck_assert_uint_eq(lk_cat_items(path), 9);
    ck_assert_uint_eq(lk_mode(path), 0604);
    /* A dangling link: the file it names is created; the link stays. */
    snprintf(path, sizeof path, "%s/dangling", x.dir);
    ck_assert_int_eq(symlink("made-through-link.learn", path), 0);
    ck_assert_int_eq(learn_catalog_builder_save(b, path), LEARN_OK);
    lk_readlink_is(path, "made-through-link.learn");
    snprintf(path, sizeof path, "%s/made-through-link.learn", x.dir);
    ck_assert_uint_eq(lk_cat_items(path), 9);
    /* An absolute link into another directory, through the CLI. */
    char abs_target[PATH_MAX], cwd[PATH_MAX - 700];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    snprintf(abs_target, sizeof abs_target, "%s/%s", cwd, x.cat);
    snprintf(path, sizeof path, "%s/abs", other);
    ck_assert_int_eq(symlink(abs_target, path), 0);
    lk_item_file(item, "NEW2", 10);
    snprintf(cmd, sizeof cmd, "%s catalog add %s %s %s --threads 1", cli, x.model, path, item);
    lk_run_ok(cmd);
    lk_readlink_is(path, abs_target);
    ck_assert_uint_eq(lk_cat_items(x.cat), LK_BASE + 2);
    ck_assert(lk_cat_has(x.cat, "NEW2"));
    ck_assert_uint_eq(lk_mode(x.cat), 0640);
    DIR *d = opendir(other);
    int entries = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) entries += e->d_name[0] != '.';
    closedir(d);
    ck_assert_int_eq(entries, 3); /* l2, l3, abs: nothing was written beside the links */
    /* A loop of links and a path that is not a regular file: clear errors, nothing written. */
    char la[800], lb[800];
    snprintf(la, sizeof la, "%s/loop-a", x.dir);
    snprintf(lb, sizeof lb, "%s/loop-b", x.dir);
    ck_assert_int_eq(symlink("loop-b", la), 0);
    ck_assert_int_eq(symlink("loop-a", lb), 0);
    ck_assert_int_eq(learn_catalog_builder_save(b, la), LEARN_ERR_IO);
    ck_assert_msg(strstr(learn_catalog_builder_errmsg(b), "symbolic links"), "%s", learn_catalog_builder_errmsg(b));
    ck_assert_int_eq(learn_catalog_builder_save(b, other), LEARN_ERR_IO);
    ck_assert_msg(strstr(learn_catalog_builder_errmsg(b), "not a regular file"), "%s", learn_catalog_builder_errmsg(b));
    ck_assert_int_eq(lk_litter(x.dir, "loop-a") + lk_litter(x.dir, "loop-b") + lk_litter(x.dir, "other"), 0);
    learn_catalog_builder_free(b);
}
END_TEST

/* ---- Lock faults through the learn__io hook; which leftovers are removed ---- */

typedef struct lk_hook {
    int busy_for; /* calls that find the lock held (EWOULDBLOCK); -1: always */
    int eintr;    /* calls interrupted first */
    int fail;     /* an errno to fail with, or 0 */
    int calls;
    const char *unlink_first; /* a lock file to remove on the first call: its holder letting go
                                 between the waiter's open and its flock */
} lk_hook;

static int lk_hook_lock(void *u, int fd) {
    lk_hook *h = (lk_hook *)u;
    h->calls++;
    struct stat sb;
    ck_assert_int_eq(fstat(fd, &sb), 0); /* an open lock file */
    if (h->unlink_first && h->calls == 1) unlink(h->unlink_first);
    if (h->eintr > 0) {
        h->eintr--;
        errno = EINTR;
        return -1;
    }
    if (h->fail) {
        errno = h->fail;
        return -1;
    }
    if (h->busy_for != 0) {
        if (h->busy_for > 0) h->busy_for--;
        errno = EWOULDBLOCK;
        return -1;
    }
    return flock(fd, LOCK_EX | LOCK_NB);
}
static long lk_write(void *u, int fd, const void *buf, size_t n) {
    (void)u;
    return (long)write(fd, buf, n);
}

START_TEST(test_lock_io_hook) {
    const char *dir = lk_dir("lock-hook");
    char path[600];
    snprintf(path, sizeof path, "%s/cat.learn", dir);
    learn_catalog_builder *old = lk_builder("old", 3), *b = lk_builder("new", 5);
    ck_assert_int_eq(learn_catalog_builder_save(old, path), LEARN_OK);
    size_t old_n, n;
    uint8_t *old_bytes = test_read_file(path, &old_n);
    /* No locks on this file system (ENOLCK): an error, nothing written. */
    lk_hook h = {0, 0, ENOLCK, 0, NULL};
    learn__io io = {&h, lk_write, lk_fsync, lk_rename, lk_hook_lock};
    ck_assert_int_eq(learn__builder_save(b, path, &io, NULL, NULL, NULL), LEARN_ERR_IO);
    ck_assert_msg(strstr(learn_catalog_builder_errmsg(b), "cannot lock") &&
                      strstr(learn_catalog_builder_errmsg(b), strerror(ENOLCK)),
                  "%s", learn_catalog_builder_errmsg(b));
    uint8_t *now = test_read_file(path, &n);
    ck_assert(n == old_n && memcmp(now, old_bytes, n) == 0);
    free(now);
    /* Interrupted twice, then held by another for three tries: waits, then saves. */
    lk_hook h2 = {3, 2, 0, 0, NULL};
    io.user = &h2;
    double t0 = lk_now();
    ck_assert_msg(learn__builder_save(b, path, &io, NULL, NULL, NULL) == LEARN_OK, "%s", learn_catalog_builder_errmsg(b));
    ck_assert_int_eq(h2.calls, 6);
    ck_assert_double_ge(lk_now() - t0, 0.006); /* slept 1 + 2 + 4 ms */
    ck_assert_uint_eq(lk_cat_items(path), 5);
    /* Held for ever: the timeout, with no pid to name (the lock file holds none). */
    lk_hook h3 = {-1, 0, 0, 0, NULL};
    io.user = &h3;
    learn_lock_params p = learn_lock_default_params();
    p.timeout = 0.05;
    learn_lock *l;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_int_eq(learn__lock_acquire(path, &p, &io, &l, err, sizeof err), LEARN_ERR_BUSY);
    ck_assert_msg(strstr(err, "pid unknown") && strstr(err, "gave up after 0.05 s"), "%s", err);
    ck_assert_int_gt(h3.calls, 2);
    /* The lock file won was removed by its holder meanwhile: not a lock any more; the waiter
       takes the current one, and another holder is still excluded. */
    char lockp[700];
    snprintf(lockp, sizeof lockp, "%s.lock", path);
    lk_hook h4 = {0, 0, 0, 0, lockp};
    io.user = &h4;
    p.timeout = 0;
    learn_status st4 = learn__lock_acquire(path, &p, &io, &l, err, sizeof err);
    ck_assert_msg(st4 == LEARN_OK, "%s (%d calls)", err, h4.calls);
    ck_assert_int_eq(h4.calls, 2);
    ck_assert_int_eq(access(lockp, F_OK), 0);
    learn_lock *l2;
    ck_assert_int_eq(learn__lock_acquire(path, &p, &io, &l2, err, sizeof err), LEARN_ERR_BUSY);
    learn_lock_release(l);
    /* Bad arguments. */
    p.timeout = -1;
    ck_assert_int_eq(learn_lock_acquire(path, &p, &l, err, sizeof err), LEARN_ERR_ARG);
    p.timeout = NAN;
    ck_assert_int_eq(learn_lock_acquire(path, &p, &l, err, sizeof err), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_lock_acquire(NULL, NULL, &l, err, sizeof err), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_writer_save_locked(NULL, NULL), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_catalog_builder_save_locked(b, NULL), LEARN_ERR_ARG);
    learn_lock_release(NULL);
    ck_assert_str_eq(learn_status_str(LEARN_ERR_BUSY), "LEARN_ERR_BUSY: the file is locked by another writer");
    /* Only names of the pattern are removed: T.tmp.DIGITS.XXXXXX. */
    unlink(path);
    const char *names[] = {"cat.learn.tmp.12345.a1B2c3", "cat.learn.tmp.1.zzzzzz", "cat.learn.tmp.notes",
                           "cat.learn.tmp.12.abc", "cat.learn.tmp.12.abcdefg", "cat.learn.tmp..abcdef",
                           "cat.learn.tmpx.12.abcdef", "other.learn.tmp.12.abcdef", "cat.learn.tmp.x2.abcdef"};
    for (int i = 0; i < 9; i++) {
        char q[800];
        snprintf(q, sizeof q, "%s/%s", dir, names[i]);
        FILE *f = fopen(q, "wb");
        fputs("leftover", f);
        fclose(f);
    }
    ck_assert_int_eq(learn_lock_acquire(path, NULL, &l, err, sizeof err), LEARN_OK);
    learn_lock_info li;
    learn_lock_get_info(l, &li);
    ck_assert_uint_eq(li.n_removed, 2);
    ck_assert_uint_eq(li.bytes_removed, 16);
    /* learn_lock_temp / commit / discard directly. */
    int fd, fd2;
    ck_assert_int_eq(learn_lock_temp(l, &fd), LEARN_OK);
    ck_assert_int_eq(learn_lock_temp(l, &fd2), LEARN_ERR_STATE);
    ck_assert_int_eq(write(fd, "hello\n", 6), 6);
    learn_lock_discard(l);
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_int_eq(learn_lock_commit(l), LEARN_ERR_STATE);
    ck_assert_int_eq(learn_lock_temp(l, &fd), LEARN_OK);
    ck_assert_int_eq(write(fd, "hello\n", 6), 6);
    ck_assert_int_eq(learn_lock_commit(l), LEARN_OK);
    learn_lock_release(l);
    char *text = (char *)test_read_file(path, NULL);
    ck_assert_str_eq(text, "hello\n");
    free(text);
    for (int i = 2; i < 9; i++) {
        char q[800];
        snprintf(q, sizeof q, "%s/%s", dir, names[i]);
        ck_assert_msg(access(q, F_OK) == 0, "%s was removed", names[i]);
    }
    ck_assert_int_eq(lk_litter(dir, "cat.learn"), 5); /* the five cat.learn.tmp.* that do not match */
    free(old_bytes);
    learn_catalog_builder_free(old);
    learn_catalog_builder_free(b);
}
END_TEST

/* learn_lock_errmsg holds the failure of the last learn_lock_temp / learn_lock_commit, and ""
   once a later one succeeds. */
START_TEST(test_lock_errmsg) {
    const char *dir = lk_dir("lock-errmsg");
    char path[600];
    snprintf(path, sizeof path, "%s/f.bin", dir);
    learn_lock *l;
    char err[LEARN_ERRMSG_SIZE];
    ck_assert_int_eq(learn_lock_acquire(path, NULL, &l, err, sizeof err), LEARN_OK);
    ck_assert_str_eq(learn_lock_errmsg(l), "");
    ck_assert_int_eq(learn_lock_commit(l), LEARN_ERR_STATE);
    ck_assert_msg(strstr(learn_lock_errmsg(l), "no temporary file to commit"), "%s", learn_lock_errmsg(l));
    int fd;
    ck_assert_int_eq(learn_lock_temp(l, &fd), LEARN_OK);
    ck_assert_str_eq(learn_lock_errmsg(l), "");
    ck_assert_int_eq(write(fd, "x", 1), 1);
    ck_assert_int_eq(learn_lock_commit(l), LEARN_OK);
    ck_assert_str_eq(learn_lock_errmsg(l), "");
    learn_lock_release(l);
    size_t n;
    char *got = (char *)test_read_file(path, &n);
    ck_assert(got && n == 1 && got[0] == 'x');
    free(got);
    ck_assert_int_eq(test_litter(path), 0);
}
END_TEST

static Suite *make_locks_suite(void) {
    Suite *s = suite_create("locks");
    TCase *tc = tcase_create("writers");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_lock_errmsg);
    tcase_add_test(tc, test_lock_concurrent_adds);
    tcase_add_test(tc, test_lock_killed_writer);
    tcase_add_test(tc, test_lock_readers_during_adds);
    tcase_add_test(tc, test_lock_timeout);
    tcase_add_test(tc, test_lock_modes);
    tcase_add_test(tc, test_lock_symlinks);
    tcase_add_test(tc, test_lock_io_hook);
    suite_add_tcase(s, tc);
    return s;
}
