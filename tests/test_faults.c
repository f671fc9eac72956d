/* Fault injection (RELIABILITY.md F, and E's writers): allocation failure at every step of the
   pipeline (open, tokenize, encode, catalog build and open, recommend) and of a training step;
   I/O faults while saving models, catalogs and the CLI's outputs (EINTR, short writes, ENOSPC,
   failing fsync and rename) and while reading them (EINTR, short reads, EIO). Every failure
   must return its status, leak nothing, leave the handles freeable, keep the old file intact
   and leave no temporary file behind. */

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "cli.h"

/* ---- An allocator that fails allocation number fail_at (and, when sticky, every later one);
   atomic, because a context's thread pool may allocate from its workers ---- */

typedef struct flt_alloc {
    atomic_long live, total;
    long fail_at;
    int sticky;
} flt_alloc;

static int flt_should_fail(flt_alloc *a) {
    long k = atomic_fetch_add(&a->total, 1) + 1;
    return a->fail_at > 0 && (a->sticky ? k >= a->fail_at : k == a->fail_at);
}
static void *flt_alloc_fn(void *u, size_t n) {
    flt_alloc *a = (flt_alloc *)u;
    if (flt_should_fail(a)) return NULL;
    void *p = malloc(n ? n : 1);
    if (p) atomic_fetch_add(&a->live, 1);
    return p;
}
static void *flt_realloc_fn(void *u, void *p, size_t n) {
    flt_alloc *a = (flt_alloc *)u;
    if (flt_should_fail(a)) return NULL;
    void *q = realloc(p, n ? n : 1);
    if (q && !p) atomic_fetch_add(&a->live, 1);
    return q;
}
static void flt_free_fn(void *u, void *p) {
    if (p) atomic_fetch_sub(&((flt_alloc *)u)->live, 1);
    free(p);
}
static learn_allocator flt_allocator(flt_alloc *a) {
    learn_allocator al = {a, flt_alloc_fn, flt_realloc_fn, flt_free_fn};
    return al;
}

/* ---- System calls the tests can make fail: read, fsync ----
   Defined in the test program, these replace libc's for learn.c and the tools' objects (but
   not for stdio, which calls the kernel directly). Disarmed, they are the plain system calls. */

long syscall(long number, ...);

static struct {
    int read_mode;  /* 0 off; 1 EINTR on every other call; 1 and 2 at most 7 bytes a call; 2 EIO
                       once 100 bytes were read */
    long read_calls, read_bytes;
    int fsync_fail; /* fsync fails with EIO */
} flt_sys;

ssize_t read(int fd, void *buf, size_t n) {
    if (flt_sys.read_mode) {
        if (flt_sys.read_mode == 1 && flt_sys.read_calls++ % 2 == 0) {
            errno = EINTR;
            return -1;
        }
        if (flt_sys.read_mode == 2 && flt_sys.read_bytes >= 100) {
            errno = EIO;
            return -1;
        }
        if (n > 7) n = 7;
    }
    ssize_t r = (ssize_t)syscall(SYS_read, fd, buf, n);
    if (r > 0) flt_sys.read_bytes += r;
    return r;
}

int fsync(int fd) {
    if (flt_sys.fsync_fail) {
        errno = EIO;
        return -1;
    }
    return (int)syscall(SYS_fsync, fd);
}

/* ---- malloc itself, for the trainer (tools/train.c allocates with libc) ----
   Under ASan/TSan the sanitizer owns malloc: the hook is left out and its test skipped (the
   sanitizer builds still run the trainer's other error paths and LeakSanitizer). Armed on one
   thread, it fails allocation number fail_at counted from arming (sticky: and all later
   ones), and remembers every block it hands out until freed, so that leaks are counted. */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FLT_NO_MALLOC_HOOK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define FLT_NO_MALLOC_HOOK 1
#endif
#endif

#ifndef FLT_NO_MALLOC_HOOK
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

/* Not inlined into the tests: the compiler would then see the failing path of every malloc. */
#define FLT_NOINLINE __attribute__((noinline))
#define FLT_HOOK_SLOTS (1u << 16)
static struct {
    volatile int armed;
    pthread_t owner;
    long count, fail_at;
    int sticky;
    void *live[FLT_HOOK_SLOTS]; /* open addressing; (void *)1 marks a deleted slot */
    size_t n_live;
    int overflow;
} flt_hook;

static int flt_hook_mine(void) { return flt_hook.armed && pthread_equal(pthread_self(), flt_hook.owner); }

static size_t flt_hook_slot(const void *p) { return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> 48); }

static void flt_hook_add(void *p) {
    if (!p || !flt_hook_mine()) return;
    if (flt_hook.n_live >= FLT_HOOK_SLOTS / 2) {
        flt_hook.overflow = 1;
        return;
    }
    size_t h = flt_hook_slot(p);
    while (flt_hook.live[h] && flt_hook.live[h] != (void *)1) h = (h + 1) % FLT_HOOK_SLOTS;
    flt_hook.live[h] = p;
    flt_hook.n_live++;
}

static void flt_hook_del(void *p) {
    if (!p || !flt_hook_mine()) return;
    for (size_t h = flt_hook_slot(p), i = 0; flt_hook.live[h] && i < FLT_HOOK_SLOTS; h = (h + 1) % FLT_HOOK_SLOTS, i++)
        if (flt_hook.live[h] == p) {
            flt_hook.live[h] = (void *)1;
            flt_hook.n_live--;
            return;
        }
}

static int flt_hook_fail(void) {
    if (!flt_hook_mine()) return 0;
    long k = ++flt_hook.count;
    return flt_hook.fail_at > 0 && (flt_hook.sticky ? k >= flt_hook.fail_at : k == flt_hook.fail_at);
}

FLT_NOINLINE void *malloc(size_t n) {
    if (flt_hook_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __libc_malloc(n);
    flt_hook_add(p);
    return p;
}
FLT_NOINLINE void *calloc(size_t a, size_t b) {
    if (flt_hook_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __libc_calloc(a, b);
    flt_hook_add(p);
    return p;
}
FLT_NOINLINE void *realloc(void *p, size_t n) {
    if (flt_hook_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    void *q = __libc_realloc(p, n);
    if (q || n == 0) flt_hook_del(p);
    flt_hook_add(q);
    return q;
}
FLT_NOINLINE void free(void *p) {
    flt_hook_del(p);
    __libc_free(p);
}

static void flt_hook_arm(long fail_at, int sticky) {
    memset(flt_hook.live, 0, sizeof flt_hook.live);
    flt_hook.n_live = 0;
    flt_hook.overflow = 0;
    flt_hook.count = 0;
    flt_hook.fail_at = fail_at;
    flt_hook.sticky = sticky;
    flt_hook.owner = pthread_self();
    flt_hook.armed = 1;
}
/* Disarms; returns the blocks still live. */
static size_t flt_hook_disarm(void) {
    flt_hook.armed = 0;
    ck_assert_msg(!flt_hook.overflow, "malloc hook: too many live blocks to track");
    return flt_hook.n_live;
}
#endif

/* ---- The recommendation model the loops run ---- */

static test_blob flt_model_blob(int with_towers) {
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    test_llm t = {{0}, 0};
    test_rec_build(w, &t, LEARN_TYPE_Q8_0, with_towers);
    test_blob b = test_blob_from_writer(w);
    learn_writer_free(w);
    test_llm_free(&t);
    return b;
}

static const char *const flt_texts[] = {
    "Title: Acme Trail Tent. Brand: Acme. Category: Camping",
    "Title: Juniper Green Tea. Brand: Juniper. Category: Tea",
    "Title: Zephyr Runners - Sand. Brand: Zephyr. Category: Running Shoes",
    "Title: Kestrel Headphones. Brand: Kestrel. Category: Headphones",
    "the quick brown fox",
    "caf\xc3\xa9 0123456789",
};
#define FLT_N 6

/* What a full pass computes, to compare the pass that finally succeeds with. */
typedef struct flt_result {
    int32_t ids[64];
    size_t n_ids;
    float content[FLT_N * 64], user[16];
    learn_hit hits[4];
    size_t n_hits;
    learn_hit bhits[9 * 3];
    size_t n_bhits[9];
} flt_result;

/* Open, tokenize, encode (texts and ids), item embeddings, catalog build + save + open, user
   embedding (whole and incremental), top-K: every allocation through `a` (NULL: libc).
   Returns the first failure's status and names the step; everything is freed either way. */
static learn_status flt_pipeline(const test_blob *blob, flt_alloc *a, flt_result *r, const char **step,
                                 char *msg, size_t msgn) {
    learn_model_params mp = learn_model_default_params();
    if (a) mp.allocator = flt_allocator(a);
    learn_model *m = NULL;
    learn_ctx *ctx = NULL;
    learn_catalog_builder *b = NULL;
    learn_catalog *cat = NULL;
    learn_user_state *us = NULL;
    void *mem = NULL;
    size_t size = 0;
    learn_status st;
    float items[FLT_N * 16], ids_emb[64];
    msg[0] = 0;
#define FLT_STEP(name, call)                                                                      \
    do {                                                                                          \
        *step = name;                                                                             \
        if ((st = (call)) != LEARN_OK) goto out;                                                  \
    } while (0)
    FLT_STEP("open", learn_model_open_memory(blob->p, blob->n, &mp, &m, msg, msgn));
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = 2;
    FLT_STEP("ctx_new", learn_ctx_new(m, &cp, &ctx));
    FLT_STEP("tokenize", learn_tokenize(ctx, flt_texts[0], strlen(flt_texts[0]), LEARN_TOKENIZE_ADD_SPECIAL,
                                        r->ids, 64, &r->n_ids));
    FLT_STEP("encode", learn_encode(ctx, FLT_N, flt_texts, NULL, r->content));
    const int32_t *rows[1] = {r->ids};
    FLT_STEP("encode_ids", learn_encode_ids(ctx, 1, rows, &r->n_ids, ids_emb));
    FLT_STEP("item_embed", learn_item_embed(ctx, FLT_N, r->content, items));
    FLT_STEP("builder_new", learn_catalog_builder_new(m, 64, 16, &b));
    for (int i = 0; i < FLT_N; i++) {
        char id[32];
        snprintf(id, sizeof id, "item-%d", i);
        FLT_STEP("builder_add", learn_catalog_builder_add(b, id, strlen(id), r->content + i * 64, items + i * 16));
    }
    FLT_STEP("builder_save", learn_catalog_builder_save_memory(b, &mem, &size));
    FLT_STEP("catalog_open", learn_catalog_open_memory(mem, size, &mp, &cat, msg, msgn));
    FLT_STEP("user_embed", learn_user_embed(ctx, 3, r->content, r->user));
    FLT_STEP("user_state", learn_user_state_new(ctx, 4, &us));
    for (int i = 0; i < 3; i++) FLT_STEP("user_append", learn_user_state_append(ctx, us, r->content + i * 64));
    uint32_t excl[1] = {1};
    FLT_STEP("topk", learn_catalog_topk(ctx, cat, r->user, 4, excl, 1, r->hits, &r->n_hits));
    /* Nine queries (a whole block and a short one), the second with an exclusion. */
    float qs[9 * 16];
    for (int q = 0; q < 9; q++) memcpy(qs + q * 16, items + (q % FLT_N) * 16, sizeof(float) * 16);
    const uint32_t *bex[9] = {NULL, excl};
    const size_t bnex[9] = {0, 1};
    FLT_STEP("topk_batch", learn_catalog_topk_batch(ctx, cat, qs, 9, 3, bex, bnex, r->bhits, r->n_bhits));
    *step = "done";
out:
#undef FLT_STEP
    if (st != LEARN_OK && !msg[0]) /* the handle that carries the message */
        snprintf(msg, msgn, "%s", strncmp(*step, "builder", 7) == 0 ? (b ? learn_catalog_builder_errmsg(b) : "")
                                  : ctx ? learn_ctx_errmsg(ctx) : "");
    learn_user_state_free(us);
    learn_catalog_close(cat);
    if (mem) learn_catalog_builder_free_buffer(b, mem);
    learn_catalog_builder_free(b);
    learn_ctx_free(ctx);
    learn_model_close(m);
    return st;
}

/* Allocation N fails, for N = 1, 2, ... until the whole pipeline passes: each failure is
   LEARN_ERR_NOMEM with a message, nothing leaks, and the pass that completes computes what an
   undisturbed one does. Once with only allocation N failing, once with every one from N on. */
START_TEST(test_nomem_pipeline) {
    test_blob blob = flt_model_blob(1);
    static flt_result want, got;
    const char *step;
    char msg[LEARN_ERRMSG_SIZE];
    ck_assert_msg(flt_pipeline(&blob, NULL, &want, &step, msg, sizeof msg) == LEARN_OK, "%s: %s", step, msg);
    for (int sticky = 0; sticky < 2; sticky++) {
        long n = 1, failures = 0;
        for (;; n++) {
            flt_alloc a;
            atomic_init(&a.live, 0);
            atomic_init(&a.total, 0);
            a.fail_at = n;
            a.sticky = sticky;
            memset(&got, 0, sizeof got);
            learn_status st = flt_pipeline(&blob, &a, &got, &step, msg, sizeof msg);
            ck_assert_msg(atomic_load(&a.live) == 0, "allocation %ld failing (%s): %ld blocks leaked", n, step,
                          (long)atomic_load(&a.live));
            if (st == LEARN_OK) break;
            ck_assert_msg(st == LEARN_ERR_NOMEM, "allocation %ld failing: %s returned %s: %s", n, step,
                          learn_status_str(st), msg);
            if (strcmp(step, "ctx_new") && strcmp(step, "builder_new")) /* no handle to hold one */
                ck_assert_msg(strstr(msg, "memory") != NULL, "allocation %ld failing: %s: message \"%s\"", n, step, msg);
            failures++;
            ck_assert_int_lt(n, 5000);
        }
        ck_assert_int_gt(failures, 20);
        ck_assert_uint_eq(got.n_ids, want.n_ids);
        ck_assert(memcmp(got.ids, want.ids, want.n_ids * sizeof want.ids[0]) == 0);
        ck_assert(memcmp(got.content, want.content, sizeof want.content) == 0);
        ck_assert(memcmp(got.user, want.user, sizeof want.user) == 0);
        ck_assert_uint_eq(got.n_hits, want.n_hits);
        ck_assert(memcmp(got.hits, want.hits, want.n_hits * sizeof want.hits[0]) == 0);
        ck_assert(memcmp(got.n_bhits, want.n_bhits, sizeof want.n_bhits) == 0);
        for (int q = 0; q < 9; q++)
            ck_assert(memcmp(got.bhits + q * 3, want.bhits + q * 3, want.n_bhits[q] * sizeof want.bhits[0]) == 0);
        printf("nomem pipeline (%s): %ld allocations, each failure clean\n", sticky ? "sticky" : "one", n - 1);
    }
    test_blob_free(&blob);
}
END_TEST

/* The trainer: train_new, two steps, the towers into a writer, a checkpoint saved and resumed,
   with libc's allocation N failing. */
START_TEST(test_nomem_train) {
#ifdef FLT_NO_MALLOC_HOOK
    TEST_SKIP("malloc cannot be replaced here (a sanitizer or a static libc; the plain build runs this)");
#else
    enum { NI = 30, DI = 8, NU = 10, L = 8 };
    static float content[NI * DI];
    static uint32_t seq[NU * L], off[NU + 1];
    test_rng rng = {5};
    test_fill_normal(&rng, content, NI * DI, 1.0);
    for (uint32_t u = 0; u <= NU; u++) off[u] = u * L;
    for (uint32_t i = 0; i < NU * L; i++) seq[i] = (uint32_t)(test_rand(&rng) % NI);
    train_data data;
    memset(&data, 0, sizeof data);
    data.n_items = NI, data.d_in = DI, data.content = content;
    data.n_seqs = NU, data.seq_off = off, data.seq = seq;
    train_config cfg = train_default_config();
    cfg.d_model = 8, cfg.n_layer = 1, cfg.n_head = 2, cfg.d_ff = 16, cfg.d_out = 4;
    cfg.batch_size = 4, cfg.epochs = 1, cfg.max_history = 6, cfg.min_seq_len = 3, cfg.n_threads = 1;
    const char *ckpt = test_tmp_path("nomem.ckpt");
    for (int sticky = 0; sticky < 2; sticky++) {
        long n = 1, failures = 0;
        for (;; n++) {
            char err[256] = "";
            const char *step = "train_new";
            train_state *t = NULL, *t2 = NULL;
            learn_writer *w = NULL;
            flt_hook_arm(n, sticky);
            learn_status st = train_new(&cfg, &data, NULL, &t, err, sizeof err);
            if (!st) {
                step = "train_step";
                for (int k = 0; k < 2 && !st; k++) st = train_step(t, NULL);
                if (st) snprintf(err, sizeof err, "%s", train_errmsg(t));
            }
            if (!st) {
                step = "write_towers";
                st = learn_writer_new(NULL, &w);
                if (!st) st = train_write_towers(t, w, LEARN_TYPE_F32);
                if (st && w) snprintf(err, sizeof err, "%s", learn_writer_errmsg(w));
            }
            if (!st) {
                step = "checkpoint";
                st = train_save_checkpoint(t, ckpt);
                if (st) snprintf(err, sizeof err, "%s", train_errmsg(t));
            }
            if (!st) {
                step = "resume";
                st = train_resume(ckpt, &data, 1, &t2, err, sizeof err);
                if (!st && (st = train_step(t2, NULL))) snprintf(err, sizeof err, "%s", train_errmsg(t2));
            }
            train_free(t2);
            learn_writer_free(w);
            train_free(t);
            size_t leaked = flt_hook_disarm();
            ck_assert_msg(leaked == 0, "allocation %ld failing (%s): %zu blocks leaked", n, step, leaked);
            if (st == LEARN_OK) break;
            ck_assert_msg(st == LEARN_ERR_NOMEM, "allocation %ld failing: %s returned %s: %s", n, step,
                          learn_status_str(st), err);
            failures++;
            ck_assert_int_lt(n, 20000);
        }
        ck_assert_int_gt(failures, 10);
        printf("nomem train (%s): %ld allocations, each failure clean\n", sticky ? "sticky" : "one", n - 1);
    }
    unlink(ckpt);
#endif
}
END_TEST

/* ---- I/O faults while saving ---- */

typedef struct flt_io {
    int eintr;        /* every other write fails with EINTR */
    int short_writes; /* writes take at most 5 bytes */
    long enospc_at;   /* bytes written before ENOSPC; -1 never */
    int fail_fsync;   /* 1: the file's fsync fails; 2: the directory's (after the rename) */
    int fail_rename;
    long written, calls, fsyncs;
} flt_io;

static long flt_write(void *u, int fd, const void *buf, size_t n) {
    flt_io *f = (flt_io *)u;
    if (f->eintr && f->calls++ % 2 == 0) {
        errno = EINTR;
        return -1;
    }
    if (f->short_writes && n > 5) n = 5;
    if (f->enospc_at >= 0 && f->written + (long)n > f->enospc_at) {
        n = (size_t)(f->enospc_at - f->written);
        if (n == 0) {
            errno = ENOSPC;
            return -1;
        }
    }
    long r = (long)write(fd, buf, n);
    if (r > 0) f->written += r;
    return r;
}
static int flt_fsync(void *u, int fd) {
    flt_io *f = (flt_io *)u;
    if (++f->fsyncs == f->fail_fsync) {
        errno = EIO;
        return -1;
    }
    return fsync(fd);
}
static int flt_rename(void *u, const char *a, const char *b) {
    if (((flt_io *)u)->fail_rename) {
        errno = EXDEV;
        return -1;
    }
    return rename(a, b);
}

/* Files in path's directory whose name starts with path's name + ".tmp.". */
static int flt_count_tmp(const char *path) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : path;
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s.tmp.", base);
    if (slash) *slash = 0;
    DIR *d = opendir(slash ? dir : ".");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

/* A catalog of n items of `tag` (ids "tag-i"). */
static learn_catalog_builder *flt_catalog(const char *tag, int n) {
    learn_catalog_builder *b;
    ck_assert_int_eq(learn_catalog_builder_new(NULL, 8, 4, &b), LEARN_OK);
    test_rng r = {(uint64_t)n};
    for (int i = 0; i < n; i++) {
        char id[32];
        float c[8], it[4] = {0.5f, 0.5f, 0.5f, 0.5f};
        test_fill_normal(&r, c, 8, 1.0);
        snprintf(id, sizeof id, "%s-%d", tag, i);
        ck_assert_int_eq(learn_catalog_builder_add(b, id, strlen(id), c, it), LEARN_OK);
    }
    return b;
}

typedef learn_status (*flt_save_fn)(void *obj, const char *path, const learn__io *io);
static learn_status flt_save_catalog(void *b, const char *path, const learn__io *io) {
    return learn__builder_save((learn_catalog_builder *)b, path, io, NULL, NULL, NULL);
}
static learn_status flt_save_model(void *w, const char *path, const learn__io *io) {
    return learn__writer_save((learn_writer *)w, path, io);
}

/* Saves `obj` over an existing file under every fault: EINTR and short writes still give the
   undisturbed bytes; ENOSPC anywhere, a failing fsync or rename leave the old file as it was
   and no temporary file; a failing fsync of the directory (after the rename) reports
   LEARN_ERR_IO with the new file in place. */
static void flt_save_faults(const char *name, void *old_obj, void *obj, flt_save_fn save,
                            const char *(*errmsg)(void *)) {
    char path[512], ref[600];
    snprintf(path, sizeof path, "%s", test_tmp_path(name));
    snprintf(ref, sizeof ref, "%s.ref", path);
    ck_assert_int_eq(save(obj, ref, NULL), LEARN_OK);
    size_t want_n, old_n, now_n;
    uint8_t *want = test_read_file(ref, &want_n);
    ck_assert_int_eq(save(old_obj, path, NULL), LEARN_OK);
    uint8_t *old = test_read_file(path, &old_n);
    ck_assert(old_n != want_n || memcmp(old, want, old_n) != 0);
    /* Interrupted and short writes are retried: the same file. */
    for (int k = 0; k < 3; k++) {
        flt_io f = {k != 1, k != 0, -1, 0, 0, 0, 0, 0};
        learn__io io = {&f, flt_write, flt_fsync, flt_rename, NULL};
        ck_assert_msg(save(obj, path, &io) == LEARN_OK, "%s: %s", name, errmsg(obj));
        uint8_t *now = test_read_file(path, &now_n);
        ck_assert(now_n == want_n && memcmp(now, want, want_n) == 0);
        free(now);
        ck_assert_int_eq(save(old_obj, path, NULL), LEARN_OK);
        ck_assert_int_eq(flt_count_tmp(path), 0);
    }
    /* Failures: the old file stays, no temporary file. */
    const long cut[] = {0, 1, 63, 64, 100, (long)want_n / 2, (long)want_n - 8, (long)want_n - 1};
    for (size_t k = 0; k < sizeof cut / sizeof cut[0] + 2; k++) {
        flt_io f = {1, 1, -1, 0, 0, 0, 0, 0};
        const char *expect = "No space";
        if (k < sizeof cut / sizeof cut[0]) f.enospc_at = cut[k];
        else if (k == sizeof cut / sizeof cut[0]) f.fail_fsync = 1, expect = "fsync";
        else f.fail_rename = 1, expect = "rename";
        learn__io io = {&f, flt_write, flt_fsync, flt_rename, NULL};
        learn_status st = save(obj, path, &io);
        ck_assert_msg(st == LEARN_ERR_IO, "%s, case %zu: %s", name, k, learn_status_str(st));
        ck_assert_msg(strstr(errmsg(obj), expect), "%s, case %zu: \"%s\" lacks \"%s\"", name, k, errmsg(obj), expect);
        uint8_t *now = test_read_file(path, &now_n);
        ck_assert_msg(now && now_n == old_n && memcmp(now, old, old_n) == 0, "%s, case %zu: the old file changed", name, k);
        free(now);
        ck_assert_msg(flt_count_tmp(path) == 0, "%s, case %zu: a temporary file is left", name, k);
    }
    /* The directory's fsync fails after the rename: reported, the new file is in place. */
    flt_io f = {0, 0, -1, 2, 0, 0, 0, 0};
    learn__io io = {&f, flt_write, flt_fsync, flt_rename, NULL};
    ck_assert_int_eq(save(obj, path, &io), LEARN_ERR_IO);
    ck_assert_msg(strstr(errmsg(obj), "written, but"), "%s", errmsg(obj));
    uint8_t *now = test_read_file(path, &now_n);
    ck_assert(now_n == want_n && memcmp(now, want, want_n) == 0);
    free(now);
    ck_assert_int_eq(flt_count_tmp(path), 0);
    free(want);
    free(old);
    unlink(path);
    unlink(ref);
}

static const char *flt_catalog_err(void *b) { return learn_catalog_builder_errmsg((learn_catalog_builder *)b); }
static const char *flt_writer_err(void *w) { return learn_writer_errmsg((learn_writer *)w); }

START_TEST(test_io_faults_save) {
    learn_catalog_builder *old_cat = flt_catalog("old", 3), *cat = flt_catalog("new", 40);
    flt_save_faults("faults-cat.learn", old_cat, cat, flt_save_catalog, flt_catalog_err);
    learn_catalog_builder_free(old_cat);
    learn_catalog_builder_free(cat);
    learn_writer *old_w, *w;
    ck_assert_int_eq(learn_writer_new(NULL, &old_w), LEARN_OK);
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    learn_writer_set_str(old_w, "general.name", "old", 3);
    test_llm t = {{0}, 0};
    test_rec_build(w, &t, LEARN_TYPE_Q4_0, 1);
    flt_save_faults("faults-model.learn", old_w, w, flt_save_model, flt_writer_err);
    learn_writer_free(old_w);
    learn_writer_free(w);
    test_llm_free(&t);
}
END_TEST

/* ---- I/O faults while reading: EINTR and short reads are retried, EIO is an error ---- */

START_TEST(test_io_faults_read) {
    test_blob mb = flt_model_blob(0);
    char mpath[512], cpath[512];
    snprintf(mpath, sizeof mpath, "%s", test_tmp_path("read-model.learn"));
    snprintf(cpath, sizeof cpath, "%s", test_tmp_path("read-cat.learn"));
    FILE *f = fopen(mpath, "wb");
    ck_assert_int_eq(fwrite(mb.p, 1, mb.n, f), mb.n);
    fclose(f);
    learn_catalog_builder *b = flt_catalog("r", 20);
    ck_assert_int_eq(learn_catalog_builder_save(b, cpath), LEARN_OK);
    learn_catalog_builder_free(b);
    for (int mode = 1; mode <= 2; mode++) {
        flt_alloc a;
        atomic_init(&a.live, 0);
        atomic_init(&a.total, 0);
        a.fail_at = 0;
        a.sticky = 0;
        learn_model_params p = learn_model_default_params();
        p.use_mmap = 0;
        p.allocator = flt_allocator(&a);
        learn_model *m = NULL;
        learn_catalog *cat = NULL;
        char err[LEARN_ERRMSG_SIZE];
        memset(&flt_sys, 0, sizeof flt_sys);
        flt_sys.read_mode = mode;
        learn_status st = learn_model_open(mpath, &p, &m, err, sizeof err);
        flt_sys.read_mode = 0;
        if (mode == 1) {
            ck_assert_msg(st == LEARN_OK, "%s", err);
            ck_assert_int_gt(flt_sys.read_calls, 100);
            learn_model_info info;
            learn_model_get_info(m, &info);
            ck_assert_uint_eq(info.file_size, mb.n);
            ck_assert_uint_eq(info.n_vocab, 320);
        } else {
            ck_assert_int_eq(st, LEARN_ERR_IO);
            ck_assert_msg(strstr(err, "read"), "%s", err);
            ck_assert_ptr_null(m);
        }
        learn_model_close(m);
        memset(&flt_sys, 0, sizeof flt_sys);
        flt_sys.read_mode = mode;
        st = learn_catalog_open(cpath, &p, &cat, err, sizeof err);
        flt_sys.read_mode = 0;
        if (mode == 1) {
            ck_assert_msg(st == LEARN_OK, "%s", err);
            uint32_t idx;
            ck_assert_int_eq(learn_catalog_find(cat, "r-19", 4, &idx), LEARN_OK);
            ck_assert_uint_eq(idx, 19);
        } else {
            ck_assert_int_eq(st, LEARN_ERR_IO);
            ck_assert_ptr_null(cat);
        }
        learn_catalog_close(cat);
        ck_assert_int_eq(atomic_load(&a.live), 0);
    }
    unlink(mpath);
    unlink(cpath);
    test_blob_free(&mb);
}
END_TEST

/* ---- A.10: model files are used in place ----
   A file whose size disagrees with its header (truncated, or appended to) is refused at open;
   replacing a file the way the writer does (rename) leaves a model opened from it intact. */

static uint64_t flt_tensor_digest(const learn_model *m) {
    learn_model_info info;
    learn_model_get_info(m, &info);
    uint64_t h = 0;
    for (uint32_t i = 0; i < info.n_tensors; i++) {
        learn_tensor_info t;
        ck_assert_int_eq(learn_model_tensor(m, i, &t), LEARN_OK);
        h = learn_xxh64(t.data, (size_t)t.size, h);
    }
    return h;
}

START_TEST(test_file_truncated_or_replaced) {
    test_blob b = flt_model_blob(0);
    char path[512], cut[600];
    snprintf(path, sizeof path, "%s", test_tmp_path("inplace.learn"));
    snprintf(cut, sizeof cut, "%s.cut", path);
    FILE *f = fopen(cut, "wb");
    ck_assert_int_eq(fwrite(b.p, 1, b.n - 100, f), b.n - 100);
    fclose(f);
    learn_model *m = NULL, *m2 = NULL;
    char err[LEARN_ERRMSG_SIZE];
    for (int mmap_ = 0; mmap_ < 2; mmap_++) {
        learn_model_params p = learn_model_default_params();
        p.use_mmap = mmap_;
        ck_assert_int_eq(learn_model_open(cut, &p, &m, err, sizeof err), LEARN_ERR_FORMAT);
        ck_assert_msg(strstr(err, "truncated"), "%s", err);
    }
    f = fopen(path, "wb");
    ck_assert_int_eq(fwrite(b.p, 1, b.n, f), b.n);
    fclose(f);
    ck_assert_int_eq(learn_model_open(path, NULL, &m, err, sizeof err), LEARN_OK);
    uint64_t before = flt_tensor_digest(m);
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    learn_writer_set_str(w, "general.name", "replacement", 11);
    ck_assert_int_eq(learn_writer_save(w, path), LEARN_OK);
    learn_writer_free(w);
    ck_assert(flt_tensor_digest(m) == before);
    ck_assert_int_eq(learn_model_scan(m, NULL, err, sizeof err), LEARN_OK);
    ck_assert_int_eq(learn_model_open(path, NULL, &m2, err, sizeof err), LEARN_OK);
    learn_model_info info;
    learn_model_get_info(m2, &info);
    ck_assert_str_eq(info.name, "replacement");
    learn_model_close(m2);
    learn_model_close(m);
    unlink(path);
    unlink(cut);
    test_blob_free(&b);
}
END_TEST

/* ---- The CLI's own atomic outputs (tools/cli.c) ---- */

static int flt_cli_write(const char *path, const char *text) {
    cli_out o;
    if (cli_out_open(&o, "test", path)) return 1;
    fputs(text, o.f);
    return cli_out_commit(&o, "test");
}

START_TEST(test_io_faults_cli_out) {
    char path[512];
    snprintf(path, sizeof path, "%s", test_tmp_path("cli-out.txt"));
    ck_assert_int_eq(flt_cli_write(path, "old\n"), 0);
    size_t n;
    uint8_t *now;
    static char big[1 << 16];
    memset(big, 'x', sizeof big - 1);
    /* A failing fsync. */
    flt_sys.fsync_fail = 1;
    ck_assert_int_ne(flt_cli_write(path, "new\n"), 0);
    flt_sys.fsync_fail = 0;
    now = test_read_file(path, &n);
    ck_assert(n == 4 && memcmp(now, "old\n", 4) == 0);
    free(now);
    ck_assert_int_eq(flt_count_tmp(path), 0);
    /* The disk fills up (the file size limit stands in for ENOSPC: writes fail with EFBIG). */
    struct rlimit old_lim, lim;
    getrlimit(RLIMIT_FSIZE, &old_lim);
    lim = old_lim;
    lim.rlim_cur = 1000;
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = flt_cli_write(path, big);
    setrlimit(RLIMIT_FSIZE, &old_lim);
    signal(SIGXFSZ, old_sig);
    ck_assert_int_ne(rc, 0);
    now = test_read_file(path, &n);
    ck_assert(n == 4 && memcmp(now, "old\n", 4) == 0);
    free(now);
    ck_assert_int_eq(flt_count_tmp(path), 0);
    /* The rename fails (the target is a non-empty directory). */
    char dir[600], inner[700];
    snprintf(dir, sizeof dir, "%s.d", path);
    snprintf(inner, sizeof inner, "%s/keep", dir);
    mkdir(dir, 0755);
    ck_assert_int_eq(flt_cli_write(inner, "keep\n"), 0);
    ck_assert_int_ne(flt_cli_write(dir, "new\n"), 0);
    ck_assert_int_eq(flt_count_tmp(dir), 0);
    now = test_read_file(inner, &n);
    ck_assert(n == 5 && memcmp(now, "keep\n", 5) == 0);
    free(now);
    unlink(inner);
    rmdir(dir);
    /* Abort keeps the old file; commit replaces it. */
    cli_out o;
    ck_assert_int_eq(cli_out_open(&o, "test", path), 0);
    fputs("new\n", o.f);
    cli_out_abort(&o);
    ck_assert_int_eq(flt_count_tmp(path), 0);
    ck_assert_int_eq(flt_cli_write(path, "new\n"), 0);
    now = test_read_file(path, &n);
    ck_assert(n == 4 && memcmp(now, "new\n", 4) == 0);
    free(now);
    ck_assert_int_eq(flt_count_tmp(path), 0);
    unlink(path);
}
END_TEST

static Suite *make_faults_suite(void) {
    Suite *s = suite_create("faults");
    TCase *mem = tcase_create("allocation");
    tcase_set_timeout(mem, 300);
    tcase_add_test(mem, test_nomem_pipeline);
    tcase_add_test(mem, test_nomem_train);
    suite_add_tcase(s, mem);
    TCase *io = tcase_create("io");
    tcase_set_timeout(io, 120);
    tcase_add_test(io, test_io_faults_save);
    tcase_add_test(io, test_io_faults_read);
    tcase_add_test(io, test_io_faults_cli_out);
    tcase_add_test(io, test_file_truncated_or_replaced);
    suite_add_tcase(s, io);
    return s;
}
