/* Helpers shared by the Check suites. Included once, by run.c, after learn.c. */
#ifndef LEARN_TEST_UTIL_H
#define LEARN_TEST_UTIL_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- Assets and skips ---- */

/* The shared assets directory (LEARN_ASSETS, default ../shared/assets), or NULL when absent. */
static inline const char *test_assets_dir(void) {
    const char *d = getenv("LEARN_ASSETS");
    if (!d || !*d) d = "../shared/assets";
    struct stat sb;
    return stat(d, &sb) == 0 && S_ISDIR(sb.st_mode) ? d : NULL;
}

/* Reports a test as skipped (Check has no skip state: the test passes, the line says why). */
#define TEST_SKIP(...)                                                                            \
    do {                                                                                          \
        printf("SKIPPED %s: ", __func__);                                                        \
        printf(__VA_ARGS__);                                                                      \
        printf("\n");                                                                             \
        fflush(stdout);                                                                           \
        return;                                                                                   \
    } while (0)

/* The assets path of `rel`, or skips the test when the assets or the file are absent. */
#define TEST_ASSET(var, rel)                                                                      \
    char var[1024];                                                                               \
    do {                                                                                          \
        const char *dir_ = test_assets_dir();                                                    \
        if (!dir_) TEST_SKIP("assets directory not found (set LEARN_ASSETS)");                   \
        snprintf(var, sizeof var, "%s/%s", dir_, rel);                                           \
        if (access(var, R_OK) != 0) TEST_SKIP("asset %s not found", var);                         \
    } while (0)

/* A scratch path under build/tmp (created on demand), unique per process. */
/* The bytes of a file, malloc'd and NUL-terminated (n: the length, may be NULL), or NULL
   when it cannot be opened. */
static inline uint8_t *test_read_file(const char *path, size_t *n) {
    if (n) *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = (uint8_t *)malloc((size_t)(len > 0 ? len : 0) + 1);
    size_t got = p ? fread(p, 1, (size_t)(len > 0 ? len : 0), f) : 0;
    fclose(f);
    if (p) p[got] = 0;
    if (n) *n = got;
    return p;
}

/* How many of a writer's leftovers are next to path: "path.tmp.*" and "path.lock". */
static inline int test_litter(const char *path) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    ck_assert_ptr_nonnull(slash);
    *slash = 0;
    char prefix[300], lock[300];
    snprintf(prefix, sizeof prefix, "%s.tmp.", slash + 1);
    snprintf(lock, sizeof lock, "%s.lock", slash + 1);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0 || strcmp(e->d_name, lock) == 0;
    closedir(d);
    return n;
}

static inline const char *test_tmp_path(const char *name) {
    static char buf[8][512];
    static int next;
    char *p = buf[next++ % 8];
    mkdir("build", 0755);
    mkdir("build/tmp", 0755);
    snprintf(p, 512, "build/tmp/%d-%s", (int)getpid(), name);
    return p;
}

/* ---- Deterministic random numbers (splitmix64) ---- */

typedef struct test_rng {
    uint64_t s;
} test_rng;

static inline uint64_t test_rand(test_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/* Uniform in [0, 1). */
static inline double test_randu(test_rng *r) { return (double)(test_rand(r) >> 11) * 0x1p-53; }
/* Normal(0, 1) by Box-Muller. */
static inline double test_randn(test_rng *r) {
    double u = test_randu(r), v = test_randu(r);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}
static inline void test_fill_normal(test_rng *r, float *x, size_t n, double std) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(test_randn(r) * std);
}

/* ---- A counting allocator: every byte handed out must come back ---- */

typedef struct test_counting {
    long live;        /* allocations not yet freed */
    long total;       /* allocations made */
    long fail_at;     /* when > 0, allocation number fail_at (1-based) fails */
} test_counting;

static void *test_count_alloc(void *u, size_t n) {
    test_counting *c = (test_counting *)u;
    if (c->fail_at > 0 && c->total + 1 == c->fail_at) {
        c->total++;
        return NULL;
    }
    void *p = malloc(n ? n : 1);
    if (p) c->live++, c->total++;
    return p;
}
static void *test_count_realloc(void *u, void *p, size_t n) {
    test_counting *c = (test_counting *)u;
    if (c->fail_at > 0 && c->total + 1 == c->fail_at) {
        c->total++;
        return NULL;
    }
    void *q = realloc(p, n ? n : 1);
    if (q) {
        if (!p) c->live++;
        c->total++;
    }
    return q;
}
static inline void test_count_free(void *u, void *p) {
    test_counting *c = (test_counting *)u;
    if (p) c->live--;
    free(p);
}
static inline learn_allocator test_counting_allocator(test_counting *c) {
    learn_allocator a = {c, test_count_alloc, test_count_realloc, test_count_free};
    return a;
}

/* ---- Model bytes in memory, for surgery on valid files ---- */

typedef struct test_blob {
    uint8_t *p; /* 64-byte aligned */
    size_t n;
} test_blob;

static inline test_blob test_blob_from_writer(learn_writer *w) {
    void *data;
    size_t size;
    learn_status st = learn_writer_save_memory(w, &data, &size);
    ck_assert_msg(st == LEARN_OK, "save_memory: %s", learn_writer_errmsg(w));
    test_blob b;
    b.n = size;
    ck_assert_int_eq(posix_memalign((void **)&b.p, 64, size + 4096), 0);
    memcpy(b.p, data, size);
    learn_writer_free_buffer(w, data);
    return b;
}

static inline void test_blob_free(test_blob *b) {
    free(b->p);
    b->p = NULL;
}

/* Offset of the first occurrence of needle[0..len) at or after `from`; fails the test if absent. */
static inline size_t test_blob_find(const test_blob *b, const void *needle, size_t len, size_t from) {
    for (size_t i = from; i + len <= b->n; i++)
        if (memcmp(b->p + i, needle, len) == 0) return i;
    ck_abort_msg("needle of %zu bytes not found in the model", len);
    return 0;
}

/* Offset of the directory entry's name of tensor `name` (the bytes after its length). */
static inline size_t test_blob_tensor(const test_blob *b, const char *name) {
    size_t dir = (size_t)learn__rd64(b->p + 40);
    return test_blob_find(b, name, strlen(name) + 1, dir);
}
/* Offset of the value-type field of metadata `key`. */
static inline size_t test_blob_meta(const test_blob *b, const char *key) {
    size_t kl = strlen(key);
    uint8_t pat[300];
    learn__wr32(pat, (uint32_t)kl);
    memcpy(pat + 4, key, kl);
    return test_blob_find(b, pat, kl + 4, 64) + 4 + kl;
}

static inline void test_blob_put32(test_blob *b, size_t off, uint32_t v) { learn__wr32(b->p + off, v); }
static inline void test_blob_put64(test_blob *b, size_t off, uint64_t v) { learn__wr64(b->p + off, v); }

/* Recomputes the trailer so that the structural checks, not the checksum, see the change. */
static inline void test_blob_fix(test_blob *b) {
    learn__wr64(b->p + b->n - 8, learn_xxh64(b->p, b->n - 8, 0));
}

/* Opens the blob from memory; returns the status and leaves the message in err. */
static inline learn_status test_blob_open(const test_blob *b, char *err, size_t errn) {
    learn_model *m = NULL;
    learn_status st = learn_model_open_memory(b->p, b->n, NULL, &m, err, errn);
    learn_model_close(m);
    return st;
}

#define ck_assert_open_fails(blob, status, substr)                                               \
    do {                                                                                          \
        char err_[LEARN_ERRMSG_SIZE];                                                             \
        learn_status st_ = test_blob_open(blob, err_, sizeof err_);                               \
        ck_assert_msg(st_ == (status), "status %d (%s), expected %d; message: %s", st_,           \
                      learn_status_str(st_), (status), err_);                                     \
        ck_assert_msg(strstr(err_, substr) != NULL, "message \"%s\" does not mention \"%s\"",    \
                      err_, substr);                                                              \
    } while (0)

/* ---- Tiny random-weight models ---- */

typedef struct test_llm_opts {
    const char *arch;      /* "llama" (default), "qwen2", "qwen3" */
    uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, head_dim;
    learn_type wtype;      /* matrix type (default F32) */
    const char *skip;      /* a tensor name to leave out */
    uint64_t seed;
} test_llm_opts;

/* Keeps the weights alive until test_llm_free. */
typedef struct test_llm {
    void *bufs[512];
    int n;
} test_llm;

static inline void test_llm_free(test_llm *t) {
    for (int i = 0; i < t->n; i++) free(t->bufs[i]);
    t->n = 0;
}

/* Quantizes/stores n floats (rows of `cols`) in `type`; returns a malloc'd buffer. */
static void *test_encode(learn_type type, const float *x, size_t n, size_t cols) {
    (void)cols;
    size_t bytes = (size_t)learn_type_row_bytes(type, n);
    uint8_t *out = (uint8_t *)malloc(bytes ? bytes : 1);
    ck_assert_ptr_nonnull(out);
    switch (type) {
    case LEARN_TYPE_F32: memcpy(out, x, n * 4); break;
    case LEARN_TYPE_F16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h = learn_f32_to_f16(x[i]);
            memcpy(out + 2 * i, &h, 2);
        }
        break;
    case LEARN_TYPE_BF16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h = learn_f32_to_bf16(x[i]);
            memcpy(out + 2 * i, &h, 2);
        }
        break;
    case LEARN_TYPE_Q8_0:
        for (size_t b = 0; b < n / 32; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[b * 32 + j]));
            float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
            uint16_t dh = learn_f32_to_f16(d);
            memcpy(out + b * 34, &dh, 2);
            for (int j = 0; j < 32; j++) out[b * 34 + 2 + j] = (uint8_t)(int8_t)roundf(x[b * 32 + j] * id);
        }
        break;
    case LEARN_TYPE_Q4_0:
        for (size_t b = 0; b < n / 32; b++) {
            float amax = 0, max = 0;
            for (int j = 0; j < 32; j++)
                if (fabsf(x[b * 32 + j]) > amax) amax = fabsf(x[b * 32 + j]), max = x[b * 32 + j];
            float d = max / -8.0f, id = d ? 1.0f / d : 0.0f;
            uint16_t dh = learn_f32_to_f16(d);
            memcpy(out + b * 18, &dh, 2);
            for (int j = 0; j < 16; j++) {
                int q0 = (int)fminf(15.0f, floorf(x[b * 32 + j] * id + 8.5f));
                int q1 = (int)fminf(15.0f, floorf(x[b * 32 + 16 + j] * id + 8.5f));
                out[b * 18 + 2 + j] = (uint8_t)(q0 | (q1 << 4));
            }
        }
        break;
    default: ck_abort_msg("test_encode: type %d", (int)type);
    }
    return out;
}

static inline void test_llm_tensor(learn_writer *w, test_llm *t, test_rng *r, const test_llm_opts *o,
                            const char *name, learn_type type, uint64_t d0, uint64_t d1,
                            double std, double mean) {
    if (o->skip && strcmp(o->skip, name) == 0) return;
    size_t n = (size_t)(d0 * d1);
    float *x = (float *)malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < n; i++) x[i] = (float)(mean + std * test_randn(r));
    void *data = test_encode(type, x, n, (size_t)(d1 > 1 ? d1 : d0));
    free(x);
    ck_assert_int_lt(t->n, 512);
    t->bufs[t->n++] = data;
    uint64_t shape[2] = {d0, d1};
    learn_status st = learn_writer_add_tensor(w, name, type, d1 > 1 ? 2 : 1,
                                              d1 > 1 ? shape : shape, data, 0);
    ck_assert_msg(st == LEARN_OK, "%s", learn_writer_errmsg(w));
}

/* Adds a random-weight LLM (metadata and tensors) to a writer. */
static inline void test_llm_build(learn_writer *w, test_llm *t, const test_llm_opts *in) {
    test_llm_opts o = *in;
    if (!o.arch) o.arch = "llama";
    if (!o.n_vocab) o.n_vocab = 32;
    if (!o.n_embd) o.n_embd = 64;
    if (!o.n_layer) o.n_layer = 1;
    if (!o.n_head) o.n_head = 4;
    if (!o.n_head_kv) o.n_head_kv = 2;
    if (!o.n_ff) o.n_ff = 96;
    uint32_t hd = o.head_dim ? o.head_dim : o.n_embd / o.n_head;
    test_rng r = {o.seed ? o.seed : 42};
    learn_writer_set_str(w, "general.architecture", o.arch, strlen(o.arch));
    learn_writer_set_u32(w, "llm.vocab_size", o.n_vocab);
    learn_writer_set_u32(w, "llm.embedding_length", o.n_embd);
    learn_writer_set_u32(w, "llm.block_count", o.n_layer);
    learn_writer_set_u32(w, "llm.head_count", o.n_head);
    learn_writer_set_u32(w, "llm.head_count_kv", o.n_head_kv);
    learn_writer_set_u32(w, "llm.feed_forward_length", o.n_ff);
    learn_writer_set_u32(w, "llm.context_length", 256);
    if (o.head_dim) learn_writer_set_u32(w, "llm.head_dim", o.head_dim);
    learn_writer_set_f32(w, "llm.rms_epsilon", 1e-5f);
    uint64_t e = o.n_embd, q = (uint64_t)o.n_head * hd, kv = (uint64_t)o.n_head_kv * hd;
    learn_type wt = o.wtype;
    test_llm_tensor(w, t, &r, &o, "token_embd.weight", wt, o.n_vocab, e, 0.5, 0);
    test_llm_tensor(w, t, &r, &o, "output_norm.weight", LEARN_TYPE_F32, e, 1, 0.2, 1);
    for (uint32_t l = 0; l < o.n_layer; l++) {
        char nm[64];
#define TL(suffix, type, d0, d1, std, mean)                                                       \
    snprintf(nm, sizeof nm, "blk.%u.%s", l, suffix);                                             \
    test_llm_tensor(w, t, &r, &o, nm, type, d0, d1, std, mean)
        TL("attn_norm.weight", LEARN_TYPE_F32, e, 1, 0.2, 1);
        TL("attn_q.weight", wt, q, e, 0.08, 0);
        TL("attn_k.weight", wt, kv, e, 0.08, 0);
        TL("attn_v.weight", wt, kv, e, 0.08, 0);
        if (strcmp(o.arch, "qwen2") == 0) {
            TL("attn_q.bias", LEARN_TYPE_F32, q, 1, 0.08, 0);
            TL("attn_k.bias", LEARN_TYPE_F32, kv, 1, 0.08, 0);
            TL("attn_v.bias", LEARN_TYPE_F32, kv, 1, 0.08, 0);
        }
        if (strcmp(o.arch, "qwen3") == 0) {
            TL("attn_q_norm.weight", LEARN_TYPE_F32, hd, 1, 0.2, 1);
            TL("attn_k_norm.weight", LEARN_TYPE_F32, hd, 1, 0.2, 1);
        }
        TL("attn_output.weight", wt, e, q, 0.08, 0);
        TL("ffn_norm.weight", LEARN_TYPE_F32, e, 1, 0.2, 1);
        TL("ffn_gate.weight", wt, o.n_ff, e, 0.08, 0);
        TL("ffn_up.weight", wt, o.n_ff, e, 0.08, 0);
        TL("ffn_down.weight", wt, e, o.n_ff, 0.08, 0);
#undef TL
    }
}

/* ---- Running the CLI ---- */

/* Runs a shell command, capturing stdout+stderr into out (NUL-terminated); returns the exit
   status (or -1). */
static inline int test_run(const char *cmd, char *out, size_t cap) {
    char full[8192];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *f = popen(full, "r");
    if (!f) return -1;
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The learn-cli binary under test (set by build.sh), or skip. */
#define TEST_CLI(var)                                                                             \
    const char *var = getenv("LEARN_CLI");                                                       \
    if (!var || access(var, X_OK) != 0) TEST_SKIP("LEARN_CLI not set (run through build.sh)")

/* ---- A tiny recommendation model: LLM, byte-level BPE tokenizer, towers ---- */

#include "bpe_train.h"

/* Adds random towers (the tower.* schema of learn.h) reading d_in-float content. */
static inline void test_towers_build(learn_writer *w, test_llm *t, uint32_t d_in, uint32_t d_model,
                                     uint32_t n_head, uint32_t d_ff, uint32_t d_out, uint64_t seed) {
    test_llm_opts o;
    memset(&o, 0, sizeof o);
    test_rng r = {seed};
    learn_writer_set_u32(w, "tower.d_in", d_in);
    learn_writer_set_u32(w, "tower.d_model", d_model);
    learn_writer_set_u32(w, "tower.n_layer", 1);
    learn_writer_set_u32(w, "tower.n_head", n_head);
    learn_writer_set_u32(w, "tower.d_ff", d_ff);
    learn_writer_set_u32(w, "tower.d_out", d_out);
    learn_writer_set_u32(w, "tower.max_history", 8);
    const learn_type F = LEARN_TYPE_F32;
    test_llm_tensor(w, t, &r, &o, "tower.adaptor.weight", F, d_model, d_in, 0.1, 0);
    test_llm_tensor(w, t, &r, &o, "tower.adaptor.bias", F, d_model, 1, 0.05, 0);
    static const char *const mats[] = {"attn_q", "attn_k", "attn_v", "attn_output"};
    char nm[64];
    for (int i = 0; i < 4; i++) {
        snprintf(nm, sizeof nm, "tower.blk.0.%s.weight", mats[i]);
        test_llm_tensor(w, t, &r, &o, nm, F, d_model, d_model, 0.15, 0);
        snprintf(nm, sizeof nm, "tower.blk.0.%s.bias", mats[i]);
        test_llm_tensor(w, t, &r, &o, nm, F, d_model, 1, 0.05, 0);
    }
    test_llm_tensor(w, t, &r, &o, "tower.blk.0.attn_norm.weight", F, d_model, 1, 0.1, 1);
    test_llm_tensor(w, t, &r, &o, "tower.blk.0.attn_norm.bias", F, d_model, 1, 0.05, 0);
    test_llm_tensor(w, t, &r, &o, "tower.blk.0.ffn_up.weight", F, d_ff, d_model, 0.15, 0);
    test_llm_tensor(w, t, &r, &o, "tower.blk.0.ffn_up.bias", F, d_ff, 1, 0.05, 0);
    test_llm_tensor(w, t, &r, &o, "tower.blk.0.ffn_down.weight", F, d_model, d_ff, 0.15, 0);
    test_llm_tensor(w, t, &r, &o, "tower.blk.0.ffn_down.bias", F, d_model, 1, 0.05, 0);
    test_llm_tensor(w, t, &r, &o, "tower.blk.0.ffn_norm.weight", F, d_model, 1, 0.1, 1);
    test_llm_tensor(w, t, &r, &o, "tower.blk.0.ffn_norm.bias", F, d_model, 1, 0.05, 0);
    test_llm_tensor(w, t, &r, &o, "tower.proj.weight", F, d_out, d_model, 0.15, 0);
    test_llm_tensor(w, t, &r, &o, "tower.proj.bias", F, d_out, 1, 0.05, 0);
}

static const char *const test_rec_texts[] = {
    "Title: Acme Wireless Headphones - Ocean Blue. Brand: Acme. Category: Headphones",
    "Title: Zephyr Trail Runners - Sand. Brand: Zephyr. Category: Running Shoes",
    "Title: Juniper Green Tea. Brand: Juniper. Category: Tea",
    "Title: Kestrel Camping Tent - Forest Green. Brand: Kestrel. Category: Camping",
    "the quick brown fox jumps over the lazy dog 0123456789",
};

/* A whole recommendation model in w: a random llama LLM (vocabulary 320, n_embd 64, one layer,
   weights of type wtype), a BPE tokenizer trained on test_rec_texts, an item template, and
   (with_towers) random towers 64 -> 16. Free t after the writer is saved. */
static inline void test_rec_build(learn_writer *w, test_llm *t, learn_type wtype, int with_towers) {
    test_llm_opts o;
    memset(&o, 0, sizeof o);
    o.n_vocab = 320;
    o.n_embd = 64;
    o.n_layer = 1;
    o.wtype = wtype;
    test_llm_build(w, t, &o);
    size_t lens[5];
    for (int i = 0; i < 5; i++) lens[i] = strlen(test_rec_texts[i]);
    char err[256];
    ck_assert_msg(bpe_train(test_rec_texts, lens, 5, 300, w, NULL, err, sizeof err) == LEARN_OK, "%s", err);
    const char *tmpl = "Title: {title}. Brand: {brand}. Category: {category}";
    learn_writer_set_str(w, "encoder.template", tmpl, strlen(tmpl));
    learn_writer_set_u32(w, "encoder.max_tokens", 64);
    if (with_towers) test_towers_build(w, t, 64, 32, 2, 64, 16, 7);
}

#endif
