/* learn.c - the learn runtime in one translation unit. The manual, the file format and the
   API are in learn.h.

   Contents, in data-flow order (each section opens with a banner "==== Name ====" to grep for;
   its parts are marked "---- Part ----"):

     Platform & allocation   allocator callbacks, checked arithmetic, little-endian access,
                             fp16/bf16, XXH64, a clock
     Errors                  status strings, the version, error messages
     Handles                 struct learn_model and struct learn_ctx: what they hold
     File format             tensor and metadata types, quantizers; reading and validating a
                             file; metadata and tensor access; checked schema reads; the scan
     Writer                  building .learn files, fingerprints, layout; locks, temporary files
                             and atomic saves
     Tokenizer               Unicode tables, NFC, the vocabulary's tables, special tokens,
                             SentencePiece BPE, byte-level BPE and its pre-tokenizers;
                             tokenizing and detokenizing
     Kernels                 CPU features and ISA levels; block formats; the matrix products
                             (scalar reference, AVX2, AVX-VNNI, AVX-512, AMX, NEON); row helpers;
                             catalog scores; the kernel tables
     Thread pool             the persistent pool, ranges over threads, parallel matrix products
     LLM configuration       the architectures' hyper-parameters and tensors, encoder settings
     LLM forward             batched prefill: norms, RoPE, attention within each item, SwiGLU
     Content encoder         pooling, normalisation, learn_encode and learn_encode_ids
     Towers                  the tower schema, the item and user towers, incremental user state
     Catalog & top-K         catalog files and shards, lookups, deterministic top-K (one query
                             and batches), writing catalogs
     Contexts                making a context: ISA level, threads, settings
*/
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "learn.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h> /* vsnprintf only, unless file I/O is built */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef LEARN_NO_STDIO
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#endif

#ifndef LEARN_NO_THREADS
#include <pthread.h>
#include <sched.h>
#endif

/* ============================================================================================
   ==== Platform & allocation ====
   Allocation through a handle's callbacks, overflow-checked arithmetic, little-endian loads and
   stores, half precision, XXH64 and a clock: what every later section builds on.
   ============================================================================================ */

#if defined(__GNUC__) || defined(__clang__)
#define LEARN__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define LEARN__UNLIKELY(x) (x)
#endif

#define LEARN__MIN(a, b) ((a) < (b) ? (a) : (b))
#define LEARN__MAX(a, b) ((a) > (b) ? (a) : (b))

static void *learn__libc_alloc(void *user, size_t size) {
    (void)user;
    return malloc(size ? size : 1);
}
static void *learn__libc_realloc(void *user, void *ptr, size_t size) {
    (void)user;
    return realloc(ptr, size ? size : 1);
}
static void learn__libc_free(void *user, void *ptr) {
    (void)user;
    free(ptr);
}

/* A zeroed (or NULL) allocator means libc. A partly filled one is invalid. */
static learn_status learn__alloc_resolve(const learn_allocator *in, learn_allocator *out) {
    if (!in || (!in->alloc && !in->realloc && !in->free)) {
        out->user = NULL;
        out->alloc = learn__libc_alloc;
        out->realloc = learn__libc_realloc;
        out->free = learn__libc_free;
        return LEARN_OK;
    }
    if (!in->alloc || !in->realloc || !in->free) return LEARN_ERR_ARG;
    *out = *in;
    return LEARN_OK;
}

/* Allocation through a resolved allocator; NULL means libc. */
static void *learn__malloc(const learn_allocator *a, size_t n) {
    return a ? a->alloc(a->user, n) : malloc(n ? n : 1);
}
static void *learn__realloc(const learn_allocator *a, void *p, size_t n) {
    return a ? a->realloc(a->user, p, n) : realloc(p, n ? n : 1);
}
static void learn__free(const learn_allocator *a, void *p) {
    if (!p) return;
    if (a) a->free(a->user, p);
    else free(p);
}

/* Overflow-checked arithmetic: return 1 and store the result when it fits, else 0. */
static int learn__mul_ok(size_t a, size_t b, size_t *out) {
    if (b && a > SIZE_MAX / b) return 0;
    *out = a * b;
    return 1;
}
static int learn__add_ok(size_t a, size_t b, size_t *out) {
    if (a > SIZE_MAX - b) return 0;
    *out = a + b;
    return 1;
}
static int learn__mul64_ok(uint64_t a, uint64_t b, uint64_t *out) {
    if (b && a > UINT64_MAX / b) return 0;
    *out = a * b;
    return 1;
}
static int learn__add64_ok(uint64_t a, uint64_t b, uint64_t *out) {
    if (a > UINT64_MAX - b) return 0;
    *out = a + b;
    return 1;
}
/* Rounds up to a power-of-two alignment; 0 when the result would not fit. */
static int learn__align64_ok(uint64_t v, uint64_t align, uint64_t *out) {
    if (v > UINT64_MAX - (align - 1)) return 0;
    *out = (v + align - 1) & ~(align - 1);
    return 1;
}

static void *learn__calloc(const learn_allocator *a, size_t n, size_t size) {
    size_t total;
    if (!learn__mul_ok(n, size, &total)) return NULL;
    void *p = learn__malloc(a, total);
    if (p) memset(p, 0, total);
    return p;
}

/* 64-byte aligned blocks on top of any allocator: the original pointer sits just before the
   aligned one. */
static void *learn__malloc_aligned(const learn_allocator *a, size_t n) {
    size_t total;
    if (!learn__add_ok(n, LEARN_ALIGNMENT + sizeof(void *), &total)) return NULL;
    unsigned char *raw = (unsigned char *)learn__malloc(a, total);
    if (!raw) return NULL;
    uintptr_t p = ((uintptr_t)(raw + sizeof(void *)) + LEARN_ALIGNMENT - 1) &
                  ~(uintptr_t)(LEARN_ALIGNMENT - 1);
    memcpy((void *)(p - sizeof(void *)), &raw, sizeof raw);
    return (void *)p;
}
static void learn__free_aligned(const learn_allocator *a, void *p) {
    if (!p) return;
    void *raw;
    memcpy(&raw, (unsigned char *)p - sizeof(void *), sizeof raw);
    learn__free(a, raw);
}

static char *learn__strndup(const learn_allocator *a, const char *s, size_t n) {
    size_t total;
    if (!learn__add_ok(n, 1, &total)) return NULL;
    char *d = (char *)learn__malloc(a, total);
    if (!d) return NULL;
    if (n) memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* Little-endian loads and stores, independent of the host's byte order and alignment. */
static uint16_t learn__rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t learn__rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}
static uint64_t learn__rd64(const uint8_t *p) {
    return (uint64_t)learn__rd32(p) | ((uint64_t)learn__rd32(p + 4) << 32);
}
static void learn__wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static void learn__wr64(uint8_t *p, uint64_t v) {
    learn__wr32(p, (uint32_t)v);
    learn__wr32(p + 4, (uint32_t)(v >> 32));
}

/* ---- Half precision (exact, bit manipulation; no hardware assumed) ---- */

static float learn__f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13); /* Inf, or NaN with its payload */
    } else if (exp == 0) {
        float f = (float)mant * 0x1p-24f; /* subnormal or zero: exact */
        memcpy(&bits, &f, 4);
        bits |= sign;
    } else {
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint16_t learn__f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) {
        if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
        return (uint16_t)(sign | 0x7c00u);
    }
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds past 65504 */
    if (ax >= 0x38800000u) {                                  /* a normal half */
        uint32_t h = ((((ax >> 23) - 112u) << 10) | ((ax >> 13) & 0x3ffu));
        uint32_t rem = ax & 0x1fffu;
        if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++; /* carry may bump exponent */
        return (uint16_t)(sign | h);
    }
    if (ax <= 0x33000000u) return (uint16_t)sign; /* <= 2^-25: ties to even give zero */
    uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126u - (ax >> 23); /* 14..24 */
    uint32_t h = mant >> shift, rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

float learn_f16_to_f32(uint16_t h) { return learn__f16_to_f32(h); }
uint16_t learn_f32_to_f16(float f) { return learn__f32_to_f16(f); }

float learn_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t learn_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

/* Checks a float for NaN/Inf by its bits (works under -ffast-math too). */
static int learn__f32_bits_finite(uint32_t bits) { return (bits & 0x7f800000u) != 0x7f800000u; }

/* ---- XXH64 (the file checksum and model fingerprints) ---- */

#define LEARN__P1 0x9E3779B185EBCA87ull
#define LEARN__P2 0xC2B2AE3D27D4EB4Full
#define LEARN__P3 0x165667B19E3779F9ull
#define LEARN__P4 0x85EBCA77C2B2AE63ull
#define LEARN__P5 0x27D4EB2F165667C5ull

static uint64_t learn__rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static uint64_t learn__xxh_round(uint64_t acc, uint64_t in) {
    acc += in * LEARN__P2;
    acc = learn__rotl64(acc, 31);
    return acc * LEARN__P1;
}
static uint64_t learn__xxh_merge(uint64_t acc, uint64_t v) {
    acc ^= learn__xxh_round(0, v);
    return acc * LEARN__P1 + LEARN__P4;
}

typedef struct learn__xxh64 {
    uint64_t v[4];
    uint64_t total;
    uint8_t buf[32];
    uint32_t buf_len;
    uint64_t seed;
} learn__xxh64;

static void learn__xxh64_init(learn__xxh64 *s, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->seed = seed;
    s->v[0] = seed + LEARN__P1 + LEARN__P2;
    s->v[1] = seed + LEARN__P2;
    s->v[2] = seed;
    s->v[3] = seed - LEARN__P1;
}

static void learn__xxh64_update(learn__xxh64 *s, const void *data, size_t n) {
    const uint8_t *p = (const uint8_t *)data;
    s->total += n;
    if (s->buf_len) {
        size_t take = LEARN__MIN((size_t)(32 - s->buf_len), n);
        memcpy(s->buf + s->buf_len, p, take);
        s->buf_len += (uint32_t)take;
        p += take;
        n -= take;
        if (s->buf_len < 32) return;
        for (int i = 0; i < 4; i++) s->v[i] = learn__xxh_round(s->v[i], learn__rd64(s->buf + 8 * i));
        s->buf_len = 0;
    }
    uint64_t v0 = s->v[0], v1 = s->v[1], v2 = s->v[2], v3 = s->v[3];
    while (n >= 32) {
        v0 = learn__xxh_round(v0, learn__rd64(p));
        v1 = learn__xxh_round(v1, learn__rd64(p + 8));
        v2 = learn__xxh_round(v2, learn__rd64(p + 16));
        v3 = learn__xxh_round(v3, learn__rd64(p + 24));
        p += 32;
        n -= 32;
    }
    s->v[0] = v0, s->v[1] = v1, s->v[2] = v2, s->v[3] = v3;
    if (n) memcpy(s->buf, p, n);
    s->buf_len = (uint32_t)n;
}

static uint64_t learn__xxh64_digest(const learn__xxh64 *s) {
    uint64_t h;
    if (s->total >= 32) {
        h = learn__rotl64(s->v[0], 1) + learn__rotl64(s->v[1], 7) + learn__rotl64(s->v[2], 12) +
            learn__rotl64(s->v[3], 18);
        for (int i = 0; i < 4; i++) h = learn__xxh_merge(h, s->v[i]);
    } else {
        h = s->seed + LEARN__P5;
    }
    h += s->total;
    const uint8_t *p = s->buf;
    size_t n = s->buf_len;
    while (n >= 8) {
        h ^= learn__xxh_round(0, learn__rd64(p));
        h = learn__rotl64(h, 27) * LEARN__P1 + LEARN__P4;
        p += 8;
        n -= 8;
    }
    if (n >= 4) {
        h ^= (uint64_t)learn__rd32(p) * LEARN__P1;
        h = learn__rotl64(h, 23) * LEARN__P2 + LEARN__P3;
        p += 4;
        n -= 4;
    }
    while (n--) {
        h ^= (*p++) * LEARN__P5;
        h = learn__rotl64(h, 11) * LEARN__P1;
    }
    h ^= h >> 33;
    h *= LEARN__P2;
    h ^= h >> 29;
    h *= LEARN__P3;
    h ^= h >> 32;
    return h;
}

uint64_t learn_xxh64(const void *data, size_t size, uint64_t seed) {
    learn__xxh64 s;
    learn__xxh64_init(&s, seed);
    learn__xxh64_update(&s, data, size);
    return learn__xxh64_digest(&s);
}

/* ---- Clock ---- */

/* Monotonic enough for statistics: C11 wall clock in nanoseconds (a clock step can only make
   one interval wrong, and intervals are clamped at 0 by learn__ns_since). */
static uint64_t learn__now_ns(void) {
    struct timespec t;
    if (!timespec_get(&t, TIME_UTC)) return 0;
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t learn__ns_since(uint64_t t0) {
    uint64_t t = learn__now_ns();
    return t > t0 ? t - t0 : 0;
}

/* ============================================================================================
   ==== Errors ====
   Status names, the library's version, and learn__fail: every error path formats its message
   into the caller's or the handle's buffer and returns the status in one expression.
   ============================================================================================ */

const char *learn_status_str(learn_status status) {
    switch (status) {
    case LEARN_OK: return "LEARN_OK: success";
    case LEARN_ERR_ARG: return "LEARN_ERR_ARG: invalid argument";
    case LEARN_ERR_NOMEM: return "LEARN_ERR_NOMEM: out of memory";
    case LEARN_ERR_IO: return "LEARN_ERR_IO: input/output error";
    case LEARN_ERR_FORMAT: return "LEARN_ERR_FORMAT: malformed file or data";
    case LEARN_ERR_VERSION: return "LEARN_ERR_VERSION: unsupported format version";
    case LEARN_ERR_CHECKSUM: return "LEARN_ERR_CHECKSUM: checksum mismatch";
    case LEARN_ERR_UNSUPPORTED: return "LEARN_ERR_UNSUPPORTED: not supported by this build";
    case LEARN_ERR_TOO_LONG: return "LEARN_ERR_TOO_LONG: input longer than the maximum";
    case LEARN_ERR_BUFFER: return "LEARN_ERR_BUFFER: output buffer too small";
    case LEARN_ERR_NOT_FOUND: return "LEARN_ERR_NOT_FOUND: not found";
    case LEARN_ERR_MISMATCH: return "LEARN_ERR_MISMATCH: inputs do not belong together";
    case LEARN_ERR_NUMERIC: return "LEARN_ERR_NUMERIC: NaN, Inf or zero scale";
    case LEARN_ERR_STATE: return "LEARN_ERR_STATE: call not valid in this state";
    case LEARN_ERR_BUSY: return "LEARN_ERR_BUSY: the file is locked by another writer";
    }
    return "unknown status";
}

const char *learn_version(void) { return LEARN_VERSION_STRING; }

#if defined(__GNUC__) || defined(__clang__)
#define LEARN__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LEARN__PRINTF(a, b)
#endif

/* Formats a message into buf (may be NULL) and returns status, so that error paths read
   `return learn__fail(err, n, LEARN_ERR_FORMAT, "...", ...)`. */
static learn_status learn__fail(char *buf, size_t n, learn_status status, const char *fmt, ...)
    LEARN__PRINTF(4, 5);
static learn_status learn__fail(char *buf, size_t n, learn_status status, const char *fmt, ...) {
    if (buf && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, n, fmt, ap);
        va_end(ap);
    }
    return status;
}

/* ============================================================================================
   ==== Handles ====
   What an open model and a context hold, so that every section below can use them: the parsed
   file (metadata entries and tensors), the LLM's and the towers' configurations resolved at open
   (sections LLM configuration and Towers), the tokenizer's tables (section Tokenizer), and the
   context's kernels, thread pool and scratch (sections Kernels, Thread pool, LLM forward). The
   functions of the handles are in the sections of their parts; contexts are made in the last
   section, Contexts.
   ============================================================================================ */

/* A metadata entry of an open file (validated at open; the value is read in place). */
typedef struct learn__meta {
    const char *key;        /* NUL-terminated copy (keys are not NUL-terminated in files) */
    learn_meta_type type;
    learn_meta_type elem;   /* arrays */
    uint64_t count;         /* array length; string length; 1 for scalars */
    const uint8_t *value;   /* start of the encoded value (after the type id) */
} learn__meta;

/* A tensor of an open file: its directory entry, checked against its type and the layout. */
typedef struct learn__tensor {
    const char *name; /* in place, NUL-terminated */
    learn_type type;
    uint32_t n_dims;
    uint64_t shape[LEARN_MAX_DIMS];
    uint64_t n_elem;
    uint64_t offset, size;
    const uint8_t *data;
} learn__tensor;

/* One transformer block's tensors (NULL when an optional one is absent). */
typedef struct learn__layer {
    const learn__tensor *attn_norm, *wq, *wk, *wv, *bq, *bk, *bv, *q_norm, *k_norm, *wo;
    const learn__tensor *ffn_norm, *w_gate, *w_up, *w_down;
} learn__layer;

/* The architecture's hyper-parameters, validated at open (section LLM configuration). */
typedef struct learn__llm_config {
    int present;
    char arch[16];
    uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_ctx;
    float rope_theta, rms_eps;
    int rope_neox;   /* NeoX-style rotation (pairs i, i + d/2) instead of (2i, 2i+1) */
    int qkv_bias;    /* Q/K/V biases */
    int qk_norm;     /* per-head RMSNorm of Q and K (qwen3) */
    const learn__tensor *tok_embd, *out_norm, *rope_freqs;
    learn__layer *layers; /* n_layer entries */
    /* encoder settings */
    learn_pooling pooling;
    int normalize;
    uint32_t max_tokens;
    const char *template_str; /* in place; "{text}" by default */
} learn__llm_config;

typedef enum learn__act {
    LEARN__ACT_GELU = 0,      /* 0.5 x (1 + erf(x / sqrt 2)) */
    LEARN__ACT_GELU_TANH = 1, /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
    LEARN__ACT_RELU = 2
} learn__act;

/* One tower block's tensors, all required. */
typedef struct learn__tower_layer {
    const learn__tensor *wq, *bq, *wk, *bk, *wv, *bv, *wo, *bo;
    const learn__tensor *attn_norm_w, *attn_norm_b;
    const learn__tensor *w_up, *b_up, *w_down, *b_down;
    const learn__tensor *ffn_norm_w, *ffn_norm_b;
} learn__tower_layer;

/* The towers' hyper-parameters and tensors, resolved at open by learn__towers_check.
   present = 0: no towers (content passthrough); d_in/d_out are then the LLM's n_embd, or 0
   when the file has no LLM either. */
typedef struct learn__tower_config {
    int present;
    uint32_t d_in, d_model, n_layer, n_head, head_dim, d_ff, d_out;
    uint32_t max_positions, max_history;
    float eps;
    learn__act act;
    int pre_norm;
    const learn__tensor *adaptor_w, *adaptor_b, *pos_embd, *out_norm_w, *out_norm_b;
    const learn__tensor *proj_w, *proj_b;
    const learn__tensor *in_mean, *in_scale; /* optional content standardization */
    learn__tower_layer *layers; /* n_layer entries (model allocator; freed with the model) */
} learn__tower_config;

/* The tokenizer's tables (section Tokenizer). */
typedef struct learn__tok learn__tok;

/* An open .learn file: its bytes (mapped, read into memory or the caller's), the parsed
   entries with sorted indices for lookups, and the parts resolved at open. Immutable once
   open. */
struct learn_model {
    learn_allocator alloc;
    const uint8_t *base;
    uint64_t size;
#ifndef LEARN_NO_STDIO
    void *map;       /* mmap'd region, or NULL */
    size_t map_size;
#endif
    void *owned;     /* file read into memory (use_mmap = 0), or NULL */
    uint32_t version;
    uint32_t n_meta, n_tensors;
    learn__meta *meta;
    learn__tensor *tensors;
    uint32_t *meta_order;   /* indices sorted by key */
    uint32_t *tensor_order; /* indices sorted by name */
    char *key_pool;         /* NUL-terminated copies of the keys */
    uint64_t fp_content, fp_towers;
    learn__llm_config llm;
    learn__tower_config towers;
    learn__tok *tok;
};

/* The kernels of one ISA level (section Kernels) and a thread pool (section Thread pool). */
typedef struct learn__kernels learn__kernels;
typedef struct learn__pool learn__pool;

/* Scratch for one batch of up to cap tokens (activations, row-major [tokens][features]). */
typedef struct learn__llm_scratch {
    size_t cap;        /* tokens */
    size_t max_len;    /* longest item: attention scores per thread, RoPE positions */
    int n_threads;     /* scores rows */
    float *x;          /* [cap][n_embd] residual stream */
    float *xn;         /* [cap][n_embd] normed input of a sublayer; final states at the end */
    float *q;          /* [cap][n_head * head_dim] */
    float *k, *v;      /* [cap][n_head_kv * head_dim] */
    float *att;        /* [cap][n_head * head_dim] attention output */
    float *g, *u;      /* [cap][n_ff] */
    float *scores;     /* [n_threads][max_len] */
    float *rope;       /* [max_len][head_dim / 2][2] cos, sin of each position and frequency */
    uint32_t *pos;     /* [cap] position of each token within its item */
} learn__llm_scratch;

/* A context: what a model runs with, used by one thread at a time. */
struct learn_ctx {
    const learn_model *model;
    learn_allocator alloc;
    int n_threads;
    uint32_t batch_tokens;
    learn_pooling pooling;
    int normalize;
    learn__pool *pool;           /* worker threads (NULL: the caller only) */
    const learn__kernels *kern;  /* the ISA's kernels */
    void *mm;                    /* scratch of learn__matmul_n */
    size_t mm_size;
    learn__llm_scratch s;
    learn_encode_stats stats;
    size_t max_text_len;         /* longest text learn_tokenize() takes */
    char err[LEARN_ERRMSG_SIZE];
};

#define LEARN__CFAIL(ctx, st, ...) learn__fail((ctx)->err, sizeof (ctx)->err, (st), __VA_ARGS__)

/* ============================================================================================
   ==== File format ====
   Reading .learn files (the format is specified at the top of learn.h): learn__model_parse
   validates the header, checksum, metadata, directory and layout (RELIABILITY.md A.1-A.6), then
   the LLM, towers and tokenizer each check their part (A.7). Then the typed access to metadata
   and tensors, the checked reads that the parts' schemas are written with, and the scan of
   every value.
   ============================================================================================ */

static const char learn__magic[8] = {'L', 'E', 'A', 'R', 'N', 'M', 'D', 'L'};
#define LEARN__HEADER_SIZE 64
#define LEARN__TRAILER_SIZE 8

/* ---- Tensor and metadata types ---- */

static const struct {
    const char *name;
    uint32_t block_elems, block_bytes;
} learn__types[LEARN_TYPE_COUNT] = {
    [LEARN_TYPE_F32] = {"f32", 1, 4},   [LEARN_TYPE_F16] = {"f16", 1, 2},
    [LEARN_TYPE_BF16] = {"bf16", 1, 2}, [LEARN_TYPE_Q8_0] = {"q8_0", 32, 34},
    [LEARN_TYPE_Q4_0] = {"q4_0", 32, 18}, [LEARN_TYPE_I8] = {"i8", 1, 1},
    [LEARN_TYPE_I32] = {"i32", 1, 4},   [LEARN_TYPE_U8] = {"u8", 1, 1},
};

const char *learn_type_name(learn_type type) {
    return (unsigned)type < LEARN_TYPE_COUNT ? learn__types[type].name : NULL;
}
uint32_t learn_type_block_elems(learn_type type) {
    return (unsigned)type < LEARN_TYPE_COUNT ? learn__types[type].block_elems : 0;
}
uint64_t learn_type_row_bytes(learn_type type, uint64_t n) {
    if ((unsigned)type >= LEARN_TYPE_COUNT) return 0;
    uint64_t be = learn__types[type].block_elems, out;
    if (n == 0 || n % be) return 0;
    if (!learn__mul64_ok(n / be, learn__types[type].block_bytes, &out)) return 0;
    return out;
}

/* ggml's reference quantizers: Q8_0 d = amax/127, q = round(x/d); Q4_0 d = m/-8 where m is
   the element of largest magnitude, q = min(15, trunc(x/d + 8.5)). */
static void learn__quantize_q8_0_block(const float *x, uint8_t *out) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
    float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    uint16_t dh = learn_f32_to_f16(d);
    out[0] = (uint8_t)dh;
    out[1] = (uint8_t)(dh >> 8);
    for (int j = 0; j < 32; j++) out[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
}

static void learn__quantize_q4_0_block(const float *x, uint8_t *out) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; j++)
        if (fabsf(x[j]) > amax) amax = fabsf(x[j]), max = x[j];
    float d = max / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    uint16_t dh = learn_f32_to_f16(d);
    out[0] = (uint8_t)dh;
    out[1] = (uint8_t)(dh >> 8);
    for (int j = 0; j < 16; j++) {
        float a = x[j] * id + 8.5f, b = x[j + 16] * id + 8.5f;
        int q0 = a >= 15.0f ? 15 : (int)a, q1 = b >= 15.0f ? 15 : (int)b;
        out[2 + j] = (uint8_t)(q0 | (q1 << 4));
    }
}

learn_status learn_quantize(learn_type type, const float *src, void *dst, size_t n) {
    if ((!src || !dst) && n) return LEARN_ERR_ARG;
    uint8_t *o = (uint8_t *)dst;
    switch (type) {
    case LEARN_TYPE_F32: memcpy(dst, src, n * sizeof(float)); return LEARN_OK;
    case LEARN_TYPE_F16:
    case LEARN_TYPE_BF16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h = type == LEARN_TYPE_F16 ? learn_f32_to_f16(src[i]) : learn_f32_to_bf16(src[i]);
            o[2 * i] = (uint8_t)h;
            o[2 * i + 1] = (uint8_t)(h >> 8);
        }
        return LEARN_OK;
    case LEARN_TYPE_Q8_0:
    case LEARN_TYPE_Q4_0:
        if (n % 32) return LEARN_ERR_ARG;
        for (size_t b = 0; b < n / 32; b++) {
            if (type == LEARN_TYPE_Q8_0) learn__quantize_q8_0_block(src + 32 * b, o + 34 * b);
            else learn__quantize_q4_0_block(src + 32 * b, o + 18 * b);
        }
        return LEARN_OK;
    default: return LEARN_ERR_ARG;
    }
}

/* Dequantizes n elements (a whole number of blocks) of a weight row. */
static void learn__dequant_row(learn_type type, const uint8_t *src, float *dst, size_t n) {
    switch (type) {
    case LEARN_TYPE_F32: memcpy(dst, src, n * 4); break;
    case LEARN_TYPE_F16:
        for (size_t i = 0; i < n; i++) dst[i] = learn__f16_to_f32(learn__rd16(src + 2 * i));
        break;
    case LEARN_TYPE_BF16:
        for (size_t i = 0; i < n; i++) dst[i] = learn_bf16_to_f32(learn__rd16(src + 2 * i));
        break;
    case LEARN_TYPE_Q8_0:
        for (size_t b = 0; b < n / 32; b++, src += 34) {
            float d = learn__f16_to_f32(learn__rd16(src));
            for (int j = 0; j < 32; j++) dst[b * 32 + j] = d * (float)(int8_t)src[2 + j];
        }
        break;
    case LEARN_TYPE_Q4_0:
        for (size_t b = 0; b < n / 32; b++, src += 18) {
            float d = learn__f16_to_f32(learn__rd16(src));
            for (int j = 0; j < 16; j++) {
                dst[b * 32 + j] = d * (float)((src[2 + j] & 0x0f) - 8);
                dst[b * 32 + j + 16] = d * (float)((src[2 + j] >> 4) - 8);
            }
        }
        break;
    default: memset(dst, 0, n * sizeof *dst); break; /* not a weight type; refused at open */
    }
}

learn_status learn_dequantize(learn_type type, const void *src, float *dst, size_t n) {
    if ((!src || !dst) && n) return LEARN_ERR_ARG;
    if (type > LEARN_TYPE_Q4_0 || (n % learn__types[type].block_elems)) return LEARN_ERR_ARG;
    learn__dequant_row(type, (const uint8_t *)src, dst, n);
    return LEARN_OK;
}

static const char *const learn__meta_names[] = {NULL,   "u32", "i32",  "u64", "i64",
                                                "f32",  "f64", "bool", "str", "arr"};

const char *learn_meta_type_name(learn_meta_type type) {
    return (type >= LEARN_META_TYPE_U32 && type <= LEARN_META_TYPE_ARR) ? learn__meta_names[type] : NULL;
}

/* Encoded size of a scalar metadata value; 0 for STR/ARR/unknown. */
static uint32_t learn__meta_scalar_size(uint32_t type) {
    switch (type) {
    case LEARN_META_TYPE_U32: case LEARN_META_TYPE_I32: case LEARN_META_TYPE_F32: return 4;
    case LEARN_META_TYPE_U64: case LEARN_META_TYPE_I64: case LEARN_META_TYPE_F64: return 8;
    case LEARN_META_TYPE_BOOL: return 1;
    default: return 0;
    }
}

/* ---- Reading a file ---- */

/* A bounds-checked cursor over the file. Every read checks the bytes left. */
typedef struct learn__cur {
    const uint8_t *base;
    uint64_t pos, end;
} learn__cur;

static int learn__cur_has(const learn__cur *c, uint64_t n) { return n <= c->end - c->pos; }
static uint32_t learn__cur_u32(learn__cur *c) {
    uint32_t v = learn__rd32(c->base + c->pos);
    c->pos += 4;
    return v;
}
static uint64_t learn__cur_u64(learn__cur *c) {
    uint64_t v = learn__rd64(c->base + c->pos);
    c->pos += 8;
    return v;
}

static int learn__key_char_ok(uint8_t ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-';
}

/* Validates one encoded value of type `type` at the cursor and moves past it. `what` names the
   entry for messages. Strings: u64 length, bytes, NUL. */
static learn_status learn__meta_skip_value(learn__cur *c, uint32_t type, const char *what,
                                           uint64_t *count, char *err, size_t errn) {
    uint32_t sz = learn__meta_scalar_size(type);
    if (sz) {
        if (!learn__cur_has(c, sz))
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata '%s': value runs past the end of the section", what);
        if (type == LEARN_META_TYPE_BOOL && c->base[c->pos] > 1)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata '%s': bool value %u is not 0 or 1", what,
                               c->base[c->pos]);
        c->pos += sz;
        *count = 1;
        return LEARN_OK;
    }
    if (type == LEARN_META_TYPE_STR) {
        if (!learn__cur_has(c, 8))
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata '%s': string length runs past the end", what);
        uint64_t len = learn__cur_u64(c);
        if (len >= c->end - c->pos) /* room for the bytes and the NUL */
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata '%s': string length %llu is longer than the %llu bytes "
                               "left",
                               what, (unsigned long long)len,
                               (unsigned long long)(c->end - c->pos));
        if (c->base[c->pos + len] != 0)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata '%s': string of length %llu is not NUL-terminated", what,
                               (unsigned long long)len);
        c->pos += len + 1;
        *count = len;
        return LEARN_OK;
    }
    if (type == LEARN_META_TYPE_ARR) {
        if (!learn__cur_has(c, 12))
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata '%s': array header runs past the end", what);
        uint32_t elem = learn__cur_u32(c);
        uint64_t n = learn__cur_u64(c);
        if (elem < LEARN_META_TYPE_U32 || elem >= LEARN_META_TYPE_ARR)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata '%s': array element type %u is not valid (1..8)", what,
                               elem);
        uint64_t min = elem == LEARN_META_TYPE_STR ? 9 : learn__meta_scalar_size(elem);
        if (n > (c->end - c->pos) / min)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata '%s': array count %llu needs more than the %llu bytes "
                               "left",
                               what, (unsigned long long)n, (unsigned long long)(c->end - c->pos));
        if (elem == LEARN_META_TYPE_STR) {
            for (uint64_t i = 0; i < n; i++) {
                uint64_t dummy;
                learn_status st = learn__meta_skip_value(c, elem, what, &dummy, err, errn);
                if (st) return st;
            }
        } else if (elem == LEARN_META_TYPE_BOOL) {
            for (uint64_t i = 0; i < n; i++)
                if (c->base[c->pos + i] > 1)
                    return learn__fail(err, errn, LEARN_ERR_FORMAT,
                                       "metadata '%s': bool element %llu is not 0 or 1", what,
                                       (unsigned long long)i);
            c->pos += n;
        } else {
            c->pos += n * min;
        }
        *count = n;
        return LEARN_OK;
    }
    return learn__fail(err, errn, LEARN_ERR_FORMAT, "metadata '%s': value type %u is not valid "
                       "(1..9)", what, type);
}

/* Sorted index over NUL-terminated names, for binary search and duplicate detection. */
typedef struct learn__sortent {
    const char *s;
    uint32_t i;
} learn__sortent;

static int learn__sortent_cmp(const void *a, const void *b) {
    const learn__sortent *x = (const learn__sortent *)a, *y = (const learn__sortent *)b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Sorts names[0..n) into order[]; returns the index of a duplicate name, or UINT32_MAX. */
static learn_status learn__sort_names(const learn_allocator *a, const char *const *names,
                                      uint32_t n, uint32_t *order, uint32_t *dup) {
    *dup = UINT32_MAX;
    if (n == 0) return LEARN_OK;
    learn__sortent *e = (learn__sortent *)learn__calloc(a, n, sizeof *e);
    if (!e) return LEARN_ERR_NOMEM;
    for (uint32_t i = 0; i < n; i++) e[i].s = names[i], e[i].i = i;
    qsort(e, n, sizeof *e, learn__sortent_cmp);
    for (uint32_t i = 0; i < n; i++) {
        order[i] = e[i].i;
        if (i && *dup == UINT32_MAX && strcmp(e[i].s, e[i - 1].s) == 0) *dup = e[i].i;
    }
    learn__free(a, e);
    return LEARN_OK;
}

/* Binary search in an order[] built by learn__sort_names; `name_of` gives the i-th name. */
static int learn__find_sorted(const uint32_t *order, uint32_t n, const char *name,
                              const char *(*name_of)(const void *, uint32_t), const void *obj,
                              uint32_t *index) {
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name_of(obj, order[mid]), name);
        if (c == 0) {
            *index = order[mid];
            return 1;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

static const char *learn__meta_key_of(const void *m, uint32_t i) {
    return ((const learn_model *)m)->meta[i].key;
}
static const char *learn__tensor_name_of(const void *m, uint32_t i) {
    return ((const learn_model *)m)->tensors[i].name;
}

static const learn__meta *learn__meta_lookup(const learn_model *m, const char *key) {
    uint32_t i;
    if (!learn__find_sorted(m->meta_order, m->n_meta, key, learn__meta_key_of, m, &i)) return NULL;
    return &m->meta[i];
}

static const learn__tensor *learn__tensor_lookup(const learn_model *m, const char *name) {
    uint32_t i;
    if (!learn__find_sorted(m->tensor_order, m->n_tensors, name, learn__tensor_name_of, m, &i))
        return NULL;
    return &m->tensors[i];
}

/* Parses the metadata section [meta_offset, dir_offset). Keys are copied NUL-terminated into
   one pool so that they can be handed out as C strings. */
static learn_status learn__parse_meta(learn_model *m, uint64_t off, uint64_t end, char *err,
                                      size_t errn) {
    learn__cur c = {m->base, off, end};
    uint64_t pool_size = 0;
    uint32_t *key_len = NULL;
    uint64_t *key_off = NULL;
    learn_status st = LEARN_OK;
    if (m->n_meta) {
        m->meta = (learn__meta *)learn__calloc(&m->alloc, m->n_meta, sizeof *m->meta);
        key_len = (uint32_t *)learn__calloc(&m->alloc, m->n_meta, sizeof *key_len);
        key_off = (uint64_t *)learn__calloc(&m->alloc, m->n_meta, sizeof *key_off);
        m->meta_order = (uint32_t *)learn__calloc(&m->alloc, m->n_meta, sizeof *m->meta_order);
        if (!m->meta || !key_len || !key_off || !m->meta_order) {
            st = LEARN_ERR_NOMEM;
            goto done;
        }
    }
    for (uint32_t i = 0; i < m->n_meta; i++) {
        char what[48];
        snprintf(what, sizeof what, "#%u", i);
        if (!learn__cur_has(&c, 4)) {
            st = learn__fail(err, errn, LEARN_ERR_FORMAT,
                             "metadata entry %u of %u runs past the end of the section", i,
                             m->n_meta);
            goto done;
        }
        uint32_t kl = learn__cur_u32(&c);
        if (kl == 0 || kl > LEARN_MAX_KEY) {
            st = learn__fail(err, errn, LEARN_ERR_FORMAT,
                             "metadata entry %u: key length %u is not in 1..%u", i, kl,
                             LEARN_MAX_KEY);
            goto done;
        }
        if (!learn__cur_has(&c, (uint64_t)kl + 4)) {
            st = learn__fail(err, errn, LEARN_ERR_FORMAT,
                             "metadata entry %u: key of length %u runs past the end", i, kl);
            goto done;
        }
        for (uint32_t k = 0; k < kl; k++)
            if (!learn__key_char_ok(c.base[c.pos + k])) {
                st = learn__fail(err, errn, LEARN_ERR_FORMAT,
                                 "metadata entry %u: key byte %u (0x%02x) is not one of "
                                 "[A-Za-z0-9._-]",
                                 i, k, c.base[c.pos + k]);
                goto done;
            }
        memcpy(what, c.base + c.pos, LEARN__MIN(kl, (uint32_t)sizeof what - 1));
        what[LEARN__MIN(kl, (uint32_t)sizeof what - 1)] = 0;
        key_off[i] = c.pos;
        key_len[i] = kl;
        pool_size += kl + 1;
        c.pos += kl;
        uint32_t type = learn__cur_u32(&c);
        m->meta[i].type = (learn_meta_type)type;
        if (type == LEARN_META_TYPE_ARR && learn__cur_has(&c, 4))
            m->meta[i].elem = (learn_meta_type)learn__rd32(c.base + c.pos);
        m->meta[i].value = c.base + c.pos;
        if ((st = learn__meta_skip_value(&c, type, what, &m->meta[i].count, err, errn)))
            goto done;
    }
    if (c.pos != end) {
        st = learn__fail(err, errn, LEARN_ERR_FORMAT,
                         "metadata section: %llu bytes left after the last of %u entries "
                         "(directory offset disagrees)",
                         (unsigned long long)(end - c.pos), m->n_meta);
        goto done;
    }
    if (m->n_meta) {
        m->key_pool = (char *)learn__malloc(&m->alloc, (size_t)pool_size);
        const char **names = (const char **)learn__calloc(&m->alloc, m->n_meta, sizeof *names);
        if (!m->key_pool || !names) {
            learn__free(&m->alloc, (void *)names);
            st = LEARN_ERR_NOMEM;
            goto done;
        }
        char *p = m->key_pool;
        for (uint32_t i = 0; i < m->n_meta; i++) {
            memcpy(p, m->base + key_off[i], key_len[i]);
            p[key_len[i]] = 0;
            m->meta[i].key = names[i] = p;
            p += key_len[i] + 1;
        }
        uint32_t dup;
        st = learn__sort_names(&m->alloc, names, m->n_meta, m->meta_order, &dup);
        learn__free(&m->alloc, (void *)names);
        if (st == LEARN_OK && dup != UINT32_MAX)
            st = learn__fail(err, errn, LEARN_ERR_FORMAT, "metadata key '%s' appears twice",
                             m->meta[dup].key);
    }
done:
    learn__free(&m->alloc, key_len);
    learn__free(&m->alloc, key_off);
    return st;
}

/* Parses the tensor directory [dir_offset, data_offset) and checks the data layout: tensors
   back to back in directory order, each aligned to 64 bytes, sizes matching type and shape,
   zero padding, the last one ending at the trailer. */
static learn_status learn__parse_tensors(learn_model *m, uint64_t off, uint64_t data_off,
                                         char *err, size_t errn) {
    learn__cur c = {m->base, off, data_off};
    uint64_t trailer = m->size - LEARN__TRAILER_SIZE, expect = data_off;
    if (m->n_tensors) {
        m->tensors = (learn__tensor *)learn__calloc(&m->alloc, m->n_tensors, sizeof *m->tensors);
        m->tensor_order =
            (uint32_t *)learn__calloc(&m->alloc, m->n_tensors, sizeof *m->tensor_order);
        if (!m->tensors || !m->tensor_order) return LEARN_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        learn__tensor *t = &m->tensors[i];
        if (!learn__cur_has(&c, 4))
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor entry %u of %u runs past the end of the directory", i,
                               m->n_tensors);
        uint32_t nl = learn__cur_u32(&c);
        if (nl == 0 || nl > LEARN_MAX_NAME)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor entry %u: name length %u is not in 1..%u", i, nl,
                               LEARN_MAX_NAME);
        if (!learn__cur_has(&c, (uint64_t)nl + 1 + 8))
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor entry %u: name of length %u runs past the end", i, nl);
        for (uint32_t k = 0; k < nl; k++) {
            uint8_t ch = c.base[c.pos + k];
            if (ch < 0x21 || ch > 0x7e)
                return learn__fail(err, errn, LEARN_ERR_FORMAT,
                                   "tensor entry %u: name byte %u (0x%02x) is not printable "
                                   "ASCII",
                                   i, k, ch);
        }
        if (c.base[c.pos + nl] != 0)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor entry %u: name is not NUL-terminated", i);
        t->name = (const char *)(c.base + c.pos);
        c.pos += nl + 1;
        uint32_t type = learn__cur_u32(&c), nd = learn__cur_u32(&c);
        if (type >= LEARN_TYPE_COUNT)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor '%s': type id %u is unknown (0..%d)", t->name, type,
                               LEARN_TYPE_COUNT - 1);
        if (nd == 0 || nd > LEARN_MAX_DIMS)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor '%s': number of dimensions %u is not in 1..%d", t->name, nd,
                               LEARN_MAX_DIMS);
        if (!learn__cur_has(&c, 8ull * nd + 16))
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor '%s': entry runs past the end of the directory", t->name);
        t->type = (learn_type)type;
        t->n_dims = nd;
        uint64_t n = 1;
        for (uint32_t d = 0; d < LEARN_MAX_DIMS; d++) t->shape[d] = 1;
        for (uint32_t d = 0; d < nd; d++) {
            t->shape[d] = learn__cur_u64(&c);
            if (t->shape[d] == 0)
                return learn__fail(err, errn, LEARN_ERR_FORMAT, "tensor '%s': dimension %u is 0",
                                   t->name, d);
            if (!learn__mul64_ok(n, t->shape[d], &n))
                return learn__fail(err, errn, LEARN_ERR_FORMAT,
                                   "tensor '%s': the product of the dimensions overflows 64 bits",
                                   t->name);
        }
        t->n_elem = n;
        t->offset = learn__cur_u64(&c);
        t->size = learn__cur_u64(&c);
        uint64_t row = learn_type_row_bytes(t->type, t->shape[nd - 1]), want;
        if (row == 0)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor '%s': last dimension %llu is not a multiple of the %s "
                               "block size %u",
                               t->name, (unsigned long long)t->shape[nd - 1],
                               learn__types[type].name, learn__types[type].block_elems);
        if (!learn__mul64_ok(row, n / t->shape[nd - 1], &want))
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor '%s': byte size overflows 64 bits", t->name);
        if (t->size != want)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor '%s': size %llu bytes disagrees with its %s shape (%llu "
                               "bytes)",
                               t->name, (unsigned long long)t->size, learn__types[type].name,
                               (unsigned long long)want);
    }
    for (uint64_t p = c.pos; p < data_off; p++)
        if (m->base[p] || data_off - c.pos >= LEARN_ALIGNMENT)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor directory: %llu bytes between its end (%llu) and the data "
                               "offset (%llu) are not zero padding",
                               (unsigned long long)(data_off - c.pos), (unsigned long long)c.pos,
                               (unsigned long long)data_off);
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        learn__tensor *t = &m->tensors[i];
        if (t->offset != expect)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor '%s': offset %llu, expected %llu (tensors follow each "
                               "other in directory order, 64-byte aligned, without overlap)",
                               t->name, (unsigned long long)t->offset,
                               (unsigned long long)expect);
        uint64_t tend;
        if (!learn__add64_ok(t->offset, t->size, &tend) || tend > trailer)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor '%s': data [%llu, +%llu) runs past the end of the data "
                               "(%llu)",
                               t->name, (unsigned long long)t->offset,
                               (unsigned long long)t->size, (unsigned long long)trailer);
        t->data = m->base + t->offset;
        if (i + 1 < m->n_tensors) {
            if (!learn__align64_ok(tend, LEARN_ALIGNMENT, &expect) || expect > trailer)
                return learn__fail(err, errn, LEARN_ERR_FORMAT,
                                   "tensor '%s': padding after it runs past the end of the data",
                                   t->name);
            for (uint64_t p = tend; p < expect; p++)
                if (m->base[p])
                    return learn__fail(err, errn, LEARN_ERR_FORMAT,
                                       "tensor '%s': padding byte at %llu is not zero", t->name,
                                       (unsigned long long)p);
        } else {
            expect = tend;
        }
    }
    if (expect != trailer)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "data section: %llu bytes between the end of the tensors (%llu) and "
                           "the trailer (%llu)",
                           (unsigned long long)(trailer - expect), (unsigned long long)expect,
                           (unsigned long long)trailer);
    if (m->n_tensors) {
        const char **names =
            (const char **)learn__calloc(&m->alloc, m->n_tensors, sizeof *names);
        if (!names) return LEARN_ERR_NOMEM;
        for (uint32_t i = 0; i < m->n_tensors; i++) names[i] = m->tensors[i].name;
        uint32_t dup;
        learn_status st = learn__sort_names(&m->alloc, names, m->n_tensors, m->tensor_order, &dup);
        learn__free(&m->alloc, (void *)names);
        if (st) return st;
        if (dup != UINT32_MAX)
            return learn__fail(err, errn, LEARN_ERR_FORMAT, "tensor name '%s' appears twice",
                               m->tensors[dup].name);
    }
    return LEARN_OK;
}

/* The parts' checks, run at open in this order (sections LLM configuration, Towers,
   Tokenizer). */
static learn_status learn__llm_check(learn_model *m, char *err, size_t errn);
static learn_status learn__towers_check(learn_model *m, char *err, size_t errn);
static learn_status learn__tok_load(const learn_model *m, const learn_allocator *a, learn__tok **out,
                                    char *err, size_t errn);
static void learn__tok_free(const learn_allocator *a, learn__tok *t);

/* Validates a whole file held in m->base/m->size. The first problem found is reported. */
static learn_status learn__model_parse(learn_model *m, int verify, char *err, size_t errn) {
    const uint8_t *b = m->base;
    uint64_t size = m->size;
    if (size == 0) return learn__fail(err, errn, LEARN_ERR_FORMAT, "file is empty");
    if (size < LEARN__HEADER_SIZE + LEARN__TRAILER_SIZE)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "file is %llu bytes, shorter than the 64-byte header and 8-byte "
                           "trailer",
                           (unsigned long long)size);
    if (memcmp(b, learn__magic, 8) != 0)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "magic is not \"LEARNMDL\": not a .learn model file");
    m->version = learn__rd32(b + 8);
    if (m->version == 0)
        return learn__fail(err, errn, LEARN_ERR_VERSION, "format version 0 is not valid");
    if (m->version > LEARN_FORMAT_VERSION)
        return learn__fail(err, errn, LEARN_ERR_VERSION,
                           "format version %u is newer than this build reads (%d)", m->version,
                           LEARN_FORMAT_VERSION);
    uint32_t hsize = learn__rd32(b + 12), flags = learn__rd32(b + 56), align = learn__rd32(b + 60);
    uint64_t fsize = learn__rd64(b + 16), meta_off = learn__rd64(b + 32);
    uint64_t dir_off = learn__rd64(b + 40), data_off = learn__rd64(b + 48);
    uint64_t trailer = size - LEARN__TRAILER_SIZE;
    m->n_meta = learn__rd32(b + 24);
    m->n_tensors = learn__rd32(b + 28);
    if (hsize != LEARN__HEADER_SIZE)
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "header size %u is not %d", hsize,
                           LEARN__HEADER_SIZE);
    if (fsize != size)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "file size field says %llu bytes but the file has %llu (truncated or "
                           "appended to)",
                           (unsigned long long)fsize, (unsigned long long)size);
    if (flags != 0)
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "header flags 0x%x are not known (0)",
                           flags);
    if (align != LEARN_ALIGNMENT)
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "alignment %u is not %d", align,
                           LEARN_ALIGNMENT);
    if (m->n_meta > LEARN_MAX_META)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "metadata count %u exceeds the maximum %u", m->n_meta, LEARN_MAX_META);
    if (m->n_tensors > LEARN_MAX_TENSORS)
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "tensor count %u exceeds the maximum %u",
                           m->n_tensors, LEARN_MAX_TENSORS);
    if (meta_off != LEARN__HEADER_SIZE)
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "metadata offset %llu is not %d",
                           (unsigned long long)meta_off, LEARN__HEADER_SIZE);
    if (dir_off < meta_off || dir_off > trailer)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "tensor directory offset %llu is outside [%llu, %llu]",
                           (unsigned long long)dir_off, (unsigned long long)meta_off,
                           (unsigned long long)trailer);
    if (data_off < dir_off || data_off > trailer || data_off % LEARN_ALIGNMENT)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "data offset %llu is not a multiple of 64 in [%llu, %llu]",
                           (unsigned long long)data_off, (unsigned long long)dir_off,
                           (unsigned long long)trailer);
    /* Cap the counts by the bytes their entries need before anything is allocated. */
    if ((uint64_t)m->n_meta * 10 > dir_off - meta_off)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "metadata count %u cannot fit in the %llu-byte metadata section",
                           m->n_meta, (unsigned long long)(dir_off - meta_off));
    if ((uint64_t)m->n_tensors * 38 > data_off - dir_off)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "tensor count %u cannot fit in the %llu-byte tensor directory",
                           m->n_tensors, (unsigned long long)(data_off - dir_off));
    if (verify) {
        uint64_t want = learn__rd64(b + trailer);
        uint64_t got = learn_xxh64(b, (size_t)trailer, 0);
        if (want != got)
            return learn__fail(err, errn, LEARN_ERR_CHECKSUM,
                               "checksum mismatch: the trailer says %016llx, the content hashes "
                               "to %016llx (corrupted file)",
                               (unsigned long long)want, (unsigned long long)got);
    }
    learn_status st;
    if ((st = learn__parse_meta(m, meta_off, dir_off, err, errn))) return st;
    if ((st = learn__parse_tensors(m, dir_off, data_off, err, errn))) return st;
    const learn__meta *fc = learn__meta_lookup(m, "general.fingerprint.content");
    const learn__meta *ft = learn__meta_lookup(m, "general.fingerprint.towers");
    if (fc && fc->type == LEARN_META_TYPE_U64) m->fp_content = learn__rd64(fc->value);
    if (ft && ft->type == LEARN_META_TYPE_U64) m->fp_towers = learn__rd64(ft->value);
    if ((st = learn__llm_check(m, err, errn))) return st;
    if ((st = learn__towers_check(m, err, errn))) return st;
    uint32_t tk;
    if (learn_model_meta_find(m, "tokenizer.model", &tk) == LEARN_OK)
        return learn__tok_load(m, &m->alloc, &m->tok, err, errn);
    return LEARN_OK;
}

learn_model_params learn_model_default_params(void) {
    learn_model_params p;
    memset(&p, 0, sizeof p);
    p.verify_checksum = 1;
    p.use_mmap = 1;
    return p;
}

static void learn__model_free(learn_model *m) {
    if (!m) return;
    learn_allocator a = m->alloc;
    learn__free(&a, m->meta);
    learn__free(&a, m->meta_order);
    learn__free(&a, m->key_pool);
    learn__free(&a, m->tensors);
    learn__free(&a, m->tensor_order);
    learn__tok_free(&a, m->tok);
    learn__free(&a, m->llm.layers);
    learn__free(&a, m->towers.layers);
#ifndef LEARN_NO_STDIO
    if (m->map) munmap(m->map, m->map_size);
#endif
    learn__free_aligned(&a, m->owned);
    learn__free(&a, m);
}

void learn_model_close(learn_model *model) { learn__model_free(model); }

static learn_status learn__model_new(const learn_model_params *params, learn_model **out,
                                     char *err, size_t errn) {
    learn_allocator a;
    if (learn__alloc_resolve(params ? &params->allocator : NULL, &a))
        return learn__fail(err, errn, LEARN_ERR_ARG,
                           "allocator: alloc, realloc and free must all be set, or none");
    learn_model *m = (learn_model *)learn__calloc(&a, 1, sizeof *m);
    if (!m) return learn__fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    m->alloc = a;
    *out = m;
    return LEARN_OK;
}

static learn_status learn__model_finish(learn_model *m, const learn_model_params *params,
                                        learn_model **model, char *err, size_t errn) {
    learn_status st = learn__model_parse(m, params ? params->verify_checksum : 1, err, errn);
    if (st == LEARN_ERR_NOMEM) learn__fail(err, errn, st, "out of memory");
    if (st) {
        learn__model_free(m);
        return st;
    }
    if (err && errn) err[0] = 0;
    *model = m;
    return LEARN_OK;
}

learn_status learn_model_open_memory(const void *data, size_t size,
                                     const learn_model_params *params, learn_model **model,
                                     char *errbuf, size_t errbuf_size) {
    if (model) *model = NULL;
    if (!model || (!data && size))
        return learn__fail(errbuf, errbuf_size, LEARN_ERR_ARG, "model and data must not be NULL");
    if ((uintptr_t)data % LEARN_ALIGNMENT)
        return learn__fail(errbuf, errbuf_size, LEARN_ERR_ARG,
                           "model data must be aligned to 64 bytes (tensors are used in place)");
    learn_model *m = NULL;
    learn_status st = learn__model_new(params, &m, errbuf, errbuf_size);
    if (st) return st;
    m->base = (const uint8_t *)data;
    m->size = size;
    return learn__model_finish(m, params, model, errbuf, errbuf_size);
}

#ifndef LEARN_NO_STDIO
/* Reads a whole file descriptor, retrying on EINTR and short reads. */
static int learn__read_full(int fd, void *buf, size_t n) {
    uint8_t *p = (uint8_t *)buf;
    while (n) {
        ssize_t r = read(fd, p, n > (1u << 30) ? (1u << 30) : n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

learn_status learn_model_open(const char *path, const learn_model_params *params,
                              learn_model **model, char *errbuf, size_t errbuf_size) {
    if (model) *model = NULL;
    if (!path || !model)
        return learn__fail(errbuf, errbuf_size, LEARN_ERR_ARG, "path and model must not be NULL");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return learn__fail(errbuf, errbuf_size, LEARN_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return learn__fail(errbuf, errbuf_size, LEARN_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return learn__fail(errbuf, errbuf_size, LEARN_ERR_UNSUPPORTED,
                           "%s: %llu bytes do not fit in this address space", path,
                           (unsigned long long)sb.st_size);
    }
    learn_model *m;
    learn_status st = learn__model_new(params, &m, errbuf, errbuf_size);
    if (st) {
        close(fd);
        return st;
    }
    size_t size = (size_t)sb.st_size;
    int use_mmap = params ? params->use_mmap : 1;
    if (size && use_mmap) {
        void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            m->map = p;
            m->map_size = size;
            m->base = (const uint8_t *)p;
        }
    }
    if (!m->base && size) {
        m->owned = learn__malloc_aligned(&m->alloc, size);
        if (!m->owned) {
            close(fd);
            learn__model_free(m);
            return learn__fail(errbuf, errbuf_size, LEARN_ERR_NOMEM,
                               "%s: out of memory reading %zu bytes", path, size);
        }
        if (learn__read_full(fd, m->owned, size) != 0) {
            close(fd);
            learn__model_free(m);
            return learn__fail(errbuf, errbuf_size, LEARN_ERR_IO, "%s: read failed", path);
        }
        m->base = (const uint8_t *)m->owned;
    }
    close(fd);
    m->size = size;
    /* Prefix the message with the path so that the user knows which file is bad. */
    char inner[LEARN_ERRMSG_SIZE];
    st = learn__model_finish(m, params, model, inner, sizeof inner);
    if (st) return learn__fail(errbuf, errbuf_size, st, "%s: %s", path, inner);
    if (errbuf && errbuf_size) errbuf[0] = 0;
    return LEARN_OK;
}
#endif /* LEARN_NO_STDIO */

/* ---- Metadata and tensor access ---- */

learn_status learn_model_get_info(const learn_model *m, learn_model_info *info) {
    if (!m || !info) return LEARN_ERR_ARG;
    memset(info, 0, sizeof *info);
    info->format_version = m->version;
    info->file_size = m->size;
    info->n_meta = m->n_meta;
    info->n_tensors = m->n_tensors;
    info->content_fingerprint = m->fp_content;
    info->tower_fingerprint = m->fp_towers;
    const char *name = "";
    if (learn_model_meta_str(m, "general.name", &name, NULL) != LEARN_OK) name = "";
    info->name = name;
    info->arch = m->llm.present ? m->llm.arch : "";
    info->n_vocab = m->llm.n_vocab;
    info->n_embd = m->llm.n_embd;
    info->n_layer = m->llm.n_layer;
    info->n_head = m->llm.n_head;
    info->n_head_kv = m->llm.n_head_kv;
    info->head_dim = m->llm.head_dim;
    info->n_ff = m->llm.n_ff;
    info->n_ctx_train = m->llm.n_ctx;
    info->rope_theta = m->llm.rope_theta;
    info->rms_eps = m->llm.rms_eps;
    for (uint32_t i = 0; i < m->n_tensors; i++) info->n_params += m->tensors[i].n_elem;
    return LEARN_OK;
}

static void learn__tensor_info(const learn__tensor *t, learn_tensor_info *info) {
    info->name = t->name;
    info->type = t->type;
    info->n_dims = t->n_dims;
    memcpy(info->shape, t->shape, sizeof info->shape);
    info->n_elements = t->n_elem;
    info->offset = t->offset;
    info->size = t->size;
    info->data = t->data;
}

learn_status learn_model_tensor(const learn_model *m, uint32_t i, learn_tensor_info *info) {
    if (!m || !info || i >= m->n_tensors) return LEARN_ERR_ARG;
    learn__tensor_info(&m->tensors[i], info);
    return LEARN_OK;
}

learn_status learn_model_tensor_find(const learn_model *m, const char *name,
                                     learn_tensor_info *info) {
    if (!m || !name || !info) return LEARN_ERR_ARG;
    const learn__tensor *t = learn__tensor_lookup(m, name);
    if (!t) return LEARN_ERR_NOT_FOUND;
    learn__tensor_info(t, info);
    return LEARN_OK;
}

learn_status learn_model_meta(const learn_model *m, uint32_t i, learn_meta_info *info) {
    if (!m || !info || i >= m->n_meta) return LEARN_ERR_ARG;
    info->key = m->meta[i].key;
    info->type = m->meta[i].type;
    info->elem_type = m->meta[i].elem;
    info->count = m->meta[i].count;
    return LEARN_OK;
}

learn_status learn_model_meta_find(const learn_model *m, const char *key, uint32_t *index) {
    if (!m || !key || !index) return LEARN_ERR_ARG;
    const learn__meta *e = learn__meta_lookup(m, key);
    if (!e) return LEARN_ERR_NOT_FOUND;
    *index = (uint32_t)(e - m->meta);
    return LEARN_OK;
}

/* A decoded scalar: integers keep their sign and magnitude, floats their value. */
typedef struct learn__num {
    int is_float, negative;
    uint64_t u; /* magnitude for integers */
    double d;
} learn__num;

static learn__num learn__num_read(uint32_t type, const uint8_t *p) {
    learn__num n = {0, 0, 0, 0.0};
    switch (type) {
    case LEARN_META_TYPE_U32: n.u = learn__rd32(p); break;
    case LEARN_META_TYPE_U64: n.u = learn__rd64(p); break;
    case LEARN_META_TYPE_BOOL: n.u = p[0]; break;
    case LEARN_META_TYPE_I32: {
        int32_t v = (int32_t)learn__rd32(p);
        n.negative = v < 0;
        n.u = v < 0 ? (uint64_t)(-(int64_t)v) : (uint64_t)v;
        break;
    }
    case LEARN_META_TYPE_I64: {
        int64_t v = (int64_t)learn__rd64(p);
        n.negative = v < 0;
        n.u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        break;
    }
    case LEARN_META_TYPE_F32: {
        float f;
        uint32_t bits = learn__rd32(p);
        memcpy(&f, &bits, 4);
        n.is_float = 1;
        n.d = f;
        break;
    }
    case LEARN_META_TYPE_F64: {
        uint64_t bits = learn__rd64(p);
        memcpy(&n.d, &bits, 8);
        n.is_float = 1;
        break;
    }
    }
    return n;
}

/* Finds key as a scalar (or element i of an array) and decodes it. */
static learn_status learn__meta_num(const learn_model *m, const char *key, int array, uint64_t i,
                                    learn__num *out) {
    if (!m || !key) return LEARN_ERR_ARG;
    const learn__meta *e = learn__meta_lookup(m, key);
    if (!e) return LEARN_ERR_NOT_FOUND;
    if (!array) {
        if (!learn__meta_scalar_size(e->type)) return LEARN_ERR_FORMAT;
        *out = learn__num_read(e->type, e->value);
        return LEARN_OK;
    }
    if (e->type != LEARN_META_TYPE_ARR || !learn__meta_scalar_size(e->elem)) return LEARN_ERR_FORMAT;
    if (i >= e->count) return LEARN_ERR_ARG;
    *out = learn__num_read(e->elem, e->value + 12 + i * learn__meta_scalar_size(e->elem));
    return LEARN_OK;
}

static learn_status learn__num_to_i64(const learn__num *n, int64_t *v) {
    if (n->is_float) return LEARN_ERR_FORMAT;
    if (n->negative) {
        if (n->u > (uint64_t)INT64_MAX + 1) return LEARN_ERR_FORMAT;
        *v = n->u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)n->u;
    } else {
        if (n->u > (uint64_t)INT64_MAX) return LEARN_ERR_FORMAT;
        *v = (int64_t)n->u;
    }
    return LEARN_OK;
}

learn_status learn_model_meta_u64(const learn_model *m, const char *key, uint64_t *v) {
    learn__num n;
    learn_status st = learn__meta_num(m, key, 0, 0, &n);
    if (st) return st;
    if (!v) return LEARN_ERR_ARG;
    if (n.is_float || n.negative) return LEARN_ERR_FORMAT;
    *v = n.u;
    return LEARN_OK;
}

learn_status learn_model_meta_u32(const learn_model *m, const char *key, uint32_t *v) {
    uint64_t u;
    learn_status st = learn_model_meta_u64(m, key, &u);
    if (st) return st;
    if (!v) return LEARN_ERR_ARG;
    if (u > UINT32_MAX) return LEARN_ERR_FORMAT;
    *v = (uint32_t)u;
    return LEARN_OK;
}

learn_status learn_model_meta_i64(const learn_model *m, const char *key, int64_t *v) {
    learn__num n;
    learn_status st = learn__meta_num(m, key, 0, 0, &n);
    if (st) return st;
    if (!v) return LEARN_ERR_ARG;
    return learn__num_to_i64(&n, v);
}

learn_status learn_model_meta_f64(const learn_model *m, const char *key, double *v) {
    learn__num n;
    learn_status st = learn__meta_num(m, key, 0, 0, &n);
    if (st) return st;
    if (!v) return LEARN_ERR_ARG;
    if (!n.is_float) return LEARN_ERR_FORMAT;
    *v = n.d;
    return LEARN_OK;
}

learn_status learn_model_meta_f32(const learn_model *m, const char *key, float *v) {
    double d;
    learn_status st = learn_model_meta_f64(m, key, &d);
    if (st) return st;
    if (!v) return LEARN_ERR_ARG;
    *v = (float)d;
    return LEARN_OK;
}

learn_status learn_model_meta_bool(const learn_model *m, const char *key, int *v) {
    if (!m || !key || !v) return LEARN_ERR_ARG;
    const learn__meta *e = learn__meta_lookup(m, key);
    if (!e) return LEARN_ERR_NOT_FOUND;
    if (e->type != LEARN_META_TYPE_BOOL) return LEARN_ERR_FORMAT;
    *v = e->value[0];
    return LEARN_OK;
}

learn_status learn_model_meta_str(const learn_model *m, const char *key, const char **s,
                                  size_t *len) {
    if (!m || !key || !s) return LEARN_ERR_ARG;
    const learn__meta *e = learn__meta_lookup(m, key);
    if (!e) return LEARN_ERR_NOT_FOUND;
    if (e->type != LEARN_META_TYPE_STR) return LEARN_ERR_FORMAT;
    *s = (const char *)e->value + 8;
    if (len) *len = (size_t)e->count;
    return LEARN_OK;
}

learn_status learn_model_meta_arr_f64(const learn_model *m, const char *key, uint64_t i,
                                      double *v) {
    learn__num n;
    learn_status st = learn__meta_num(m, key, 1, i, &n);
    if (st) return st;
    if (!v) return LEARN_ERR_ARG;
    if (n.is_float) *v = n.d;
    else *v = n.negative ? -(double)n.u : (double)n.u;
    return LEARN_OK;
}

learn_status learn_model_meta_arr_i64(const learn_model *m, const char *key, uint64_t i,
                                      int64_t *v) {
    learn__num n;
    learn_status st = learn__meta_num(m, key, 1, i, &n);
    if (st) return st;
    if (!v) return LEARN_ERR_ARG;
    return learn__num_to_i64(&n, v);
}

learn_status learn_model_meta_arr_str(const learn_model *m, const char *key, uint64_t i,
                                      const char **s, size_t *len) {
    if (!m || !key || !s) return LEARN_ERR_ARG;
    const learn__meta *e = learn__meta_lookup(m, key);
    if (!e) return LEARN_ERR_NOT_FOUND;
    if (e->type != LEARN_META_TYPE_ARR || e->elem != LEARN_META_TYPE_STR) return LEARN_ERR_FORMAT;
    if (i >= e->count) return LEARN_ERR_ARG;
    const uint8_t *p = e->value + 12; /* validated at open: every length fits */
    for (uint64_t k = 0; k < i; k++) p += 8 + learn__rd64(p) + 1;
    *s = (const char *)p + 8;
    if (len) *len = (size_t)learn__rd64(p);
    return LEARN_OK;
}

/* ---- Checked reads for the parts' schemas ----
   Each names the key or tensor, the value found and what was expected. */

static learn_status learn__meta_u32_req(const learn_model *m, const char *key, uint32_t lo,
                                        uint32_t hi, int required, uint32_t *v, char *err,
                                        size_t errn) {
    const learn__meta *e = learn__meta_lookup(m, key);
    if (!e) {
        if (!required) return LEARN_OK;
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "metadata '%s' is missing", key);
    }
    learn__num n = learn__meta_scalar_size(e->type) ? learn__num_read(e->type, e->value)
                                                    : (learn__num){1, 0, 0, 0.0};
    if (n.is_float || e->type == LEARN_META_TYPE_BOOL)
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "metadata '%s' has type %s, not an "
                           "integer", key, learn_meta_type_name(e->type));
    if (n.negative || n.u < lo || n.u > hi)
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "metadata '%s' = %s%llu is outside "
                           "%u..%u", key, n.negative ? "-" : "", (unsigned long long)n.u, lo, hi);
    *v = (uint32_t)n.u;
    return LEARN_OK;
}

static learn_status learn__meta_f32_opt(const learn_model *m, const char *key, float lo, float hi,
                                        float *v, char *err, size_t errn) {
    const learn__meta *e = learn__meta_lookup(m, key);
    if (!e) return LEARN_OK;
    if (e->type != LEARN_META_TYPE_F32 && e->type != LEARN_META_TYPE_F64)
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "metadata '%s' has type %s, not f32",
                           key, learn_meta_type_name(e->type));
    double d = learn__num_read(e->type, e->value).d;
    if (!(d > lo && d < hi))
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "metadata '%s' = %g is outside (%g, %g)",
                           key, d, (double)lo, (double)hi);
    *v = (float)d;
    return LEARN_OK;
}

/* A string-valued metadata entry that must be one of `choices` (NULL-terminated); *index
   keeps its default when the key is absent. */
static learn_status learn__meta_choice(const learn_model *m, const char *key,
                                       const char *const *choices, int *index, char *err,
                                       size_t errn) {
    const learn__meta *e = learn__meta_lookup(m, key);
    if (!e) return LEARN_OK;
    const char *s = e->type == LEARN_META_TYPE_STR ? (const char *)e->value + 8 : NULL;
    for (int i = 0; s && choices[i]; i++)
        if (strcmp(s, choices[i]) == 0) {
            *index = i;
            return LEARN_OK;
        }
    char list[128];
    size_t used = 0;
    list[0] = 0;
    for (int i = 0; choices[i] && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s\"%s\"", i ? ", " : "",
                                 choices[i]);
    if (!s)
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "metadata '%s' has type %s, not str",
                           key, learn_meta_type_name(e->type));
    return learn__fail(err, errn, LEARN_ERR_FORMAT, "metadata '%s' = \"%.40s\" is not one of %s",
                       key, s, list);
}

/* Formats a tensor's shape as "[a, b, c]". */
static void learn__shape_str(const learn__tensor *t, char *buf, size_t n) {
    size_t used = 0;
    buf[0] = 0;
    for (uint32_t d = 0; d < t->n_dims && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, "%s%llu", d ? ", " : "[",
                                 (unsigned long long)t->shape[d]);
    if (used < n) snprintf(buf + used, n - used, "]");
}

/* Checks that tensor `name` exists (unless optional) with the given shape; matrices may be any
   weight type, vectors must be F32. Sets *t (NULL when an optional tensor is absent). */
static learn_status learn__need_tensor(const learn_model *m, const char *name, int matrix,
                                       uint64_t d0, uint64_t d1, int optional,
                                       const learn__tensor **t, char *err, size_t errn) {
    const learn__tensor *x = learn__tensor_lookup(m, name);
    if (t) *t = x;
    if (!x) {
        if (optional) return LEARN_OK;
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "tensor '%s' is missing (required by the architecture)", name);
    }
    int type_ok = matrix ? (x->type <= LEARN_TYPE_Q4_0) : (x->type == LEARN_TYPE_F32);
    if (!type_ok)
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "tensor '%s' has type %s; expected %s",
                           name, learn_type_name(x->type),
                           matrix ? "f32, f16, bf16, q8_0 or q4_0" : "f32");
    int shape_ok = matrix ? (x->n_dims == 2 && x->shape[0] == d0 && x->shape[1] == d1)
                          : (x->n_dims == 1 && x->shape[0] == d0);
    if (!shape_ok) {
        char have[128], want[64];
        learn__shape_str(x, have, sizeof have);
        if (matrix)
            snprintf(want, sizeof want, "[%llu, %llu]", (unsigned long long)d0,
                     (unsigned long long)d1);
        else
            snprintf(want, sizeof want, "[%llu]", (unsigned long long)d0);
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "tensor '%s' has shape %s; expected %s",
                           name, have, want);
    }
    return LEARN_OK;
}

/* The integer keys of a schema: each in [lo, hi], missing only when not required (the value
   then keeps its default), read in the table's order (the first problem is reported). */
typedef struct learn__u32_key {
    const char *key;
    uint32_t lo, hi;
    int required;
    uint32_t *value;
} learn__u32_key;

static learn_status learn__meta_u32_keys(const learn_model *m, const learn__u32_key *keys, size_t n,
                                         char *err, size_t errn) {
    learn_status st = LEARN_OK;
    for (size_t i = 0; i < n && !st; i++)
        st = learn__meta_u32_req(m, keys[i].key, keys[i].lo, keys[i].hi, keys[i].required,
                                 keys[i].value, err, errn);
    return st;
}

/* The tensors of a schema, named prefix + name, as learn__need_tensor checks them: a matrix
   [d0, d1] of any weight type or an F32 vector [d0]. Each found one is set in its slot and,
   when mark is not NULL, marked at its directory index. */
typedef struct learn__tensor_spec {
    const char *name;
    const learn__tensor **slot;
    int matrix;
    uint64_t d0, d1;
    int optional;
} learn__tensor_spec;

static learn_status learn__need_tensors(const learn_model *m, const char *prefix,
                                        const learn__tensor_spec *specs, size_t n, uint8_t *mark,
                                        char *err, size_t errn) {
    for (size_t i = 0; i < n; i++) {
        char name[LEARN_MAX_NAME + 1];
        snprintf(name, sizeof name, "%s%s", prefix, specs[i].name);
        learn_status st = learn__need_tensor(m, name, specs[i].matrix, specs[i].d0, specs[i].d1,
                                             specs[i].optional, specs[i].slot, err, errn);
        if (st) return st;
        if (mark && *specs[i].slot) mark[*specs[i].slot - m->tensors] = 1;
    }
    return LEARN_OK;
}

/* ---- Numeric scan ---- */

learn_status learn_model_scan(const learn_model *m, uint64_t *n_checked, char *err, size_t errn) {
    if (n_checked) *n_checked = 0;
    if (!m) return learn__fail(err, errn, LEARN_ERR_ARG, "model is NULL");
    uint64_t checked = 0;
    for (uint32_t ti = 0; ti < m->n_tensors; ti++) {
        const learn__tensor *t = &m->tensors[ti];
        const uint8_t *p = t->data;
        switch (t->type) {
        case LEARN_TYPE_F32:
            for (uint64_t i = 0; i < t->n_elem; i++)
                if (!learn__f32_bits_finite(learn__rd32(p + 4 * i)))
                    return learn__fail(err, errn, LEARN_ERR_NUMERIC,
                                       "tensor '%s': element %llu is %s", t->name,
                                       (unsigned long long)i,
                                       (learn__rd32(p + 4 * i) & 0x7fffffu) ? "NaN" : "Inf");
            break;
        case LEARN_TYPE_F16:
        case LEARN_TYPE_BF16: {
            uint16_t expmask = t->type == LEARN_TYPE_F16 ? 0x7c00u : 0x7f80u;
            for (uint64_t i = 0; i < t->n_elem; i++) {
                uint16_t h = learn__rd16(p + 2 * i);
                if ((h & expmask) == expmask)
                    return learn__fail(err, errn, LEARN_ERR_NUMERIC,
                                       "tensor '%s': element %llu is %s", t->name,
                                       (unsigned long long)i,
                                       (h & (uint16_t)~expmask & 0x7fffu) ? "NaN" : "Inf");
            }
            break;
        }
        case LEARN_TYPE_Q8_0:
        case LEARN_TYPE_Q4_0: {
            uint64_t nb = t->n_elem / 32, bb = learn__types[t->type].block_bytes;
            for (uint64_t i = 0; i < nb; i++) {
                uint16_t d = learn__rd16(p + i * bb);
                const char *what = (d & 0x7c00u) == 0x7c00u ? ((d & 0x3ffu) ? "NaN" : "Inf")
                                   : (d & 0x7fffu) == 0     ? "zero"
                                                            : NULL;
                if (what)
                    return learn__fail(err, errn, LEARN_ERR_NUMERIC,
                                       "tensor '%s': block %llu (elements %llu..%llu): scale is "
                                       "%s",
                                       t->name, (unsigned long long)i,
                                       (unsigned long long)(i * 32),
                                       (unsigned long long)(i * 32 + 31), what);
            }
            break;
        }
        default: break; /* integer tables: nothing to check */
        }
        checked += t->n_elem;
    }
    if (n_checked) *n_checked = checked;
    if (err && errn) err[0] = 0;
    return LEARN_OK;
}

/* ============================================================================================
   ==== Writer ====
   Building .learn files: metadata values are kept encoded (the bytes after the type id),
   tensors borrowed or copied. Saving computes the fingerprints, lays the file out, hashes as it
   emits, and writes it atomically under the file's lock (learn.h, "Writing files").
   ============================================================================================ */

typedef struct learn__wmeta {
    char *key;
    uint32_t type;
    uint8_t *val;
    size_t val_size;
} learn__wmeta;

typedef struct learn__wtensor {
    char *name;
    learn_type type;
    uint32_t n_dims;
    uint64_t shape[LEARN_MAX_DIMS];
    uint64_t size;
    const void *data;
    void *owned;
} learn__wtensor;

struct learn_writer {
    learn_allocator alloc;
    learn__wmeta *meta;
    uint32_t n_meta, cap_meta;
    learn__wtensor *tensors;
    uint32_t n_tensors, cap_tensors;
    char err[LEARN_ERRMSG_SIZE];
};

learn_status learn_writer_new(const learn_allocator *allocator, learn_writer **writer) {
    if (!writer) return LEARN_ERR_ARG;
    *writer = NULL;
    learn_allocator a;
    if (learn__alloc_resolve(allocator, &a)) return LEARN_ERR_ARG;
    learn_writer *w = (learn_writer *)learn__calloc(&a, 1, sizeof *w);
    if (!w) return LEARN_ERR_NOMEM;
    w->alloc = a;
    *writer = w;
    return LEARN_OK;
}

void learn_writer_free(learn_writer *w) {
    if (!w) return;
    learn_allocator a = w->alloc;
    for (uint32_t i = 0; i < w->n_meta; i++) {
        learn__free(&a, w->meta[i].key);
        learn__free(&a, w->meta[i].val);
    }
    for (uint32_t i = 0; i < w->n_tensors; i++) {
        learn__free(&a, w->tensors[i].name);
        learn__free_aligned(&a, w->tensors[i].owned);
    }
    learn__free(&a, w->meta);
    learn__free(&a, w->tensors);
    learn__free(&a, w);
}

const char *learn_writer_errmsg(const learn_writer *w) { return w ? w->err : "writer is NULL"; }

#define LEARN__WFAIL(w, st, ...) learn__fail((w)->err, sizeof (w)->err, (st), __VA_ARGS__)

/* Grows an array of `elem` bytes to hold at least n+1 entries. */
static int learn__grow(const learn_allocator *a, void **arr, uint32_t *cap, uint32_t n,
                       size_t elem) {
    if (n < *cap) return 1;
    uint32_t nc = *cap ? *cap * 2 : 16;
    size_t bytes;
    if (nc <= n || !learn__mul_ok(nc, elem, &bytes)) return 0;
    void *p = learn__realloc(a, *arr, bytes);
    if (!p) return 0;
    *arr = p;
    *cap = nc;
    return 1;
}

/* Stores an encoded value under key, replacing an existing one. Takes ownership of val. */
static learn_status learn__wset(learn_writer *w, const char *key, uint32_t type, uint8_t *val,
                                size_t val_size) {
    if (!w || !key) {
        learn__free(w ? &w->alloc : NULL, val);
        return LEARN_ERR_ARG;
    }
    size_t kl = strlen(key);
    int ok = kl >= 1 && kl <= LEARN_MAX_KEY;
    for (size_t i = 0; ok && i < kl; i++) ok = learn__key_char_ok((uint8_t)key[i]);
    if (!ok) {
        learn__free(&w->alloc, val);
        return LEARN__WFAIL(w, LEARN_ERR_ARG,
                            "metadata key '%.60s': must be 1..255 bytes of [A-Za-z0-9._-]", key);
    }
    for (uint32_t i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta[i].key, key) == 0) {
            learn__free(&w->alloc, w->meta[i].val);
            w->meta[i].type = type;
            w->meta[i].val = val;
            w->meta[i].val_size = val_size;
            return LEARN_OK;
        }
    if (w->n_meta >= LEARN_MAX_META) {
        learn__free(&w->alloc, val);
        return LEARN__WFAIL(w, LEARN_ERR_ARG, "more than %u metadata entries", LEARN_MAX_META);
    }
    char *k = learn__strndup(&w->alloc, key, kl);
    if (!k || !learn__grow(&w->alloc, (void **)&w->meta, &w->cap_meta, w->n_meta,
                           sizeof *w->meta)) {
        learn__free(&w->alloc, k);
        learn__free(&w->alloc, val);
        return LEARN__WFAIL(w, LEARN_ERR_NOMEM, "out of memory");
    }
    learn__wmeta *e = &w->meta[w->n_meta++];
    e->key = k;
    e->type = type;
    e->val = val;
    e->val_size = val_size;
    return LEARN_OK;
}

static learn_status learn__wset_bytes(learn_writer *w, const char *key, uint32_t type,
                                      const void *bytes, size_t n) {
    if (!w) return LEARN_ERR_ARG;
    uint8_t *v = (uint8_t *)learn__malloc(&w->alloc, n);
    if (!v) return LEARN__WFAIL(w, LEARN_ERR_NOMEM, "out of memory");
    memcpy(v, bytes, n);
    return learn__wset(w, key, type, v, n);
}

learn_status learn_writer_set_u32(learn_writer *w, const char *key, uint32_t v) {
    uint8_t b[4];
    learn__wr32(b, v);
    return learn__wset_bytes(w, key, LEARN_META_TYPE_U32, b, 4);
}
learn_status learn_writer_set_i32(learn_writer *w, const char *key, int32_t v) {
    uint8_t b[4];
    learn__wr32(b, (uint32_t)v);
    return learn__wset_bytes(w, key, LEARN_META_TYPE_I32, b, 4);
}
learn_status learn_writer_set_u64(learn_writer *w, const char *key, uint64_t v) {
    uint8_t b[8];
    learn__wr64(b, v);
    return learn__wset_bytes(w, key, LEARN_META_TYPE_U64, b, 8);
}
learn_status learn_writer_set_i64(learn_writer *w, const char *key, int64_t v) {
    uint8_t b[8];
    learn__wr64(b, (uint64_t)v);
    return learn__wset_bytes(w, key, LEARN_META_TYPE_I64, b, 8);
}
learn_status learn_writer_set_f32(learn_writer *w, const char *key, float v) {
    uint8_t b[4];
    uint32_t bits;
    memcpy(&bits, &v, 4);
    learn__wr32(b, bits);
    return learn__wset_bytes(w, key, LEARN_META_TYPE_F32, b, 4);
}
learn_status learn_writer_set_f64(learn_writer *w, const char *key, double v) {
    uint8_t b[8];
    uint64_t bits;
    memcpy(&bits, &v, 8);
    learn__wr64(b, bits);
    return learn__wset_bytes(w, key, LEARN_META_TYPE_F64, b, 8);
}
learn_status learn_writer_set_bool(learn_writer *w, const char *key, int v) {
    uint8_t b = v ? 1 : 0;
    return learn__wset_bytes(w, key, LEARN_META_TYPE_BOOL, &b, 1);
}

learn_status learn_writer_set_str(learn_writer *w, const char *key, const char *s, size_t len) {
    if (!w || (!s && len)) return LEARN_ERR_ARG;
    size_t n;
    if (!learn__add_ok(len, 9, &n)) return LEARN__WFAIL(w, LEARN_ERR_ARG, "string too long");
    uint8_t *v = (uint8_t *)learn__malloc(&w->alloc, n);
    if (!v) return LEARN__WFAIL(w, LEARN_ERR_NOMEM, "out of memory");
    learn__wr64(v, len);
    if (len) memcpy(v + 8, s, len);
    v[8 + len] = 0;
    return learn__wset(w, key, LEARN_META_TYPE_STR, v, n);
}

learn_status learn_writer_set_array(learn_writer *w, const char *key, learn_meta_type elem,
                                    const void *values, uint64_t n) {
    if (!w || (!values && n)) return LEARN_ERR_ARG;
    uint32_t es = learn__meta_scalar_size(elem);
    if (!es)
        return LEARN__WFAIL(w, LEARN_ERR_ARG, "array '%.60s': element type %d is not a scalar",
                            key ? key : "", (int)elem);
    size_t bytes, total;
    if (n > SIZE_MAX || !learn__mul_ok((size_t)n, es, &bytes) || !learn__add_ok(bytes, 12, &total))
        return LEARN__WFAIL(w, LEARN_ERR_ARG, "array '%.60s': too large", key ? key : "");
    uint8_t *v = (uint8_t *)learn__malloc(&w->alloc, total);
    if (!v) return LEARN__WFAIL(w, LEARN_ERR_NOMEM, "out of memory");
    learn__wr32(v, (uint32_t)elem);
    learn__wr64(v + 4, n);
    const uint8_t *src = (const uint8_t *)values;
    for (uint64_t i = 0; i < n; i++) { /* C representation -> little-endian */
        uint8_t *d = v + 12 + i * es;
        if (es == 1) {
            d[0] = elem == LEARN_META_TYPE_BOOL ? (src[i] ? 1 : 0) : src[i];
        } else if (es == 4) {
            uint32_t x;
            memcpy(&x, src + i * 4, 4);
            learn__wr32(d, x);
        } else {
            uint64_t x;
            memcpy(&x, src + i * 8, 8);
            learn__wr64(d, x);
        }
    }
    return learn__wset(w, key, LEARN_META_TYPE_ARR, v, total);
}

learn_status learn_writer_set_str_array(learn_writer *w, const char *key,
                                        const char *const *strings, uint64_t n) {
    if (!w || (!strings && n)) return LEARN_ERR_ARG;
    size_t total = 12;
    for (uint64_t i = 0; i < n; i++) {
        if (!strings[i]) return LEARN__WFAIL(w, LEARN_ERR_ARG, "string %llu is NULL",
                                             (unsigned long long)i);
        if (!learn__add_ok(total, strlen(strings[i]) + 9, &total))
            return LEARN__WFAIL(w, LEARN_ERR_ARG, "array '%.60s': too large", key ? key : "");
    }
    uint8_t *v = (uint8_t *)learn__malloc(&w->alloc, total);
    if (!v) return LEARN__WFAIL(w, LEARN_ERR_NOMEM, "out of memory");
    learn__wr32(v, LEARN_META_TYPE_STR);
    learn__wr64(v + 4, n);
    uint8_t *p = v + 12;
    for (uint64_t i = 0; i < n; i++) {
        size_t len = strlen(strings[i]);
        learn__wr64(p, len);
        memcpy(p + 8, strings[i], len + 1);
        p += 9 + len;
    }
    return learn__wset(w, key, LEARN_META_TYPE_ARR, v, total);
}

learn_status learn_writer_copy_meta(learn_writer *w, const learn_model *m, const char *key) {
    if (!w || !m || !key) return LEARN_ERR_ARG;
    const learn__meta *e = learn__meta_lookup(m, key);
    if (!e) return LEARN__WFAIL(w, LEARN_ERR_NOT_FOUND, "metadata '%.60s' not in the model", key);
    learn__cur c = {m->base, (uint64_t)(e->value - m->base), m->size};
    uint64_t count;
    if (learn__meta_skip_value(&c, e->type, key, &count, NULL, 0)) /* validated at open */
        return LEARN__WFAIL(w, LEARN_ERR_FORMAT, "metadata '%.60s' is malformed", key);
    return learn__wset_bytes(w, key, e->type, e->value, (size_t)(c.pos - (uint64_t)(e->value - m->base)));
}

learn_status learn_writer_remove_meta(learn_writer *w, const char *key) {
    if (!w || !key) return LEARN_ERR_ARG;
    for (uint32_t i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta[i].key, key) == 0) {
            learn__free(&w->alloc, w->meta[i].key);
            learn__free(&w->alloc, w->meta[i].val);
            memmove(&w->meta[i], &w->meta[i + 1], (w->n_meta - i - 1) * sizeof *w->meta);
            w->n_meta--;
            break;
        }
    return LEARN_OK;
}

learn_status learn_writer_get_u64(const learn_writer *w, const char *key, uint64_t *v) {
    if (!w || !key || !v) return LEARN_ERR_ARG;
    for (uint32_t i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta[i].key, key) == 0) {
            if (w->meta[i].type == LEARN_META_TYPE_U32) *v = learn__rd32(w->meta[i].val);
            else if (w->meta[i].type == LEARN_META_TYPE_U64) *v = learn__rd64(w->meta[i].val);
            else return LEARN_ERR_FORMAT;
            return LEARN_OK;
        }
    return LEARN_ERR_NOT_FOUND;
}

learn_status learn_writer_add_tensor(learn_writer *w, const char *name, learn_type type,
                                     uint32_t n_dims, const uint64_t *shape, const void *data,
                                     uint32_t flags) {
    if (!w) return LEARN_ERR_ARG;
    if (!name || !shape || !data) return LEARN__WFAIL(w, LEARN_ERR_ARG, "NULL argument");
    size_t nl = strlen(name);
    int ok = nl >= 1 && nl <= LEARN_MAX_NAME;
    for (size_t i = 0; ok && i < nl; i++) ok = name[i] >= 0x21 && name[i] <= 0x7e;
    if (!ok)
        return LEARN__WFAIL(w, LEARN_ERR_ARG,
                            "tensor name '%.60s': must be 1..255 bytes of printable ASCII", name);
    if ((unsigned)type >= LEARN_TYPE_COUNT)
        return LEARN__WFAIL(w, LEARN_ERR_ARG, "tensor '%s': type id %d is unknown", name,
                            (int)type);
    if (n_dims == 0 || n_dims > LEARN_MAX_DIMS)
        return LEARN__WFAIL(w, LEARN_ERR_ARG, "tensor '%s': %u dimensions (1..%d)", name, n_dims,
                            LEARN_MAX_DIMS);
    uint64_t rows = 1, size;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (shape[d] == 0) return LEARN__WFAIL(w, LEARN_ERR_ARG, "tensor '%s': dimension %u is 0",
                                               name, d);
        if (d + 1 < n_dims && !learn__mul64_ok(rows, shape[d], &rows))
            return LEARN__WFAIL(w, LEARN_ERR_ARG, "tensor '%s': shape overflows", name);
    }
    uint64_t row = learn_type_row_bytes(type, shape[n_dims - 1]);
    if (!row)
        return LEARN__WFAIL(w, LEARN_ERR_ARG,
                            "tensor '%s': last dimension %llu is not a multiple of the %s block "
                            "size",
                            name, (unsigned long long)shape[n_dims - 1], learn_type_name(type));
    if (!learn__mul64_ok(row, rows, &size) || size > SIZE_MAX)
        return LEARN__WFAIL(w, LEARN_ERR_ARG, "tensor '%s': size overflows", name);
    for (uint32_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return LEARN__WFAIL(w, LEARN_ERR_ARG, "tensor '%s' added twice", name);
    if (w->n_tensors >= LEARN_MAX_TENSORS)
        return LEARN__WFAIL(w, LEARN_ERR_ARG, "more than %u tensors", LEARN_MAX_TENSORS);
    if (!learn__grow(&w->alloc, (void **)&w->tensors, &w->cap_tensors, w->n_tensors,
                     sizeof *w->tensors))
        return LEARN__WFAIL(w, LEARN_ERR_NOMEM, "out of memory");
    learn__wtensor t;
    memset(&t, 0, sizeof t);
    t.name = learn__strndup(&w->alloc, name, nl);
    if (!t.name) return LEARN__WFAIL(w, LEARN_ERR_NOMEM, "out of memory");
    t.type = type;
    t.n_dims = n_dims;
    for (uint32_t d = 0; d < LEARN_MAX_DIMS; d++) t.shape[d] = d < n_dims ? shape[d] : 1;
    t.size = size;
    t.data = data;
    if (flags & LEARN_WRITER_COPY) {
        t.owned = learn__malloc_aligned(&w->alloc, (size_t)size);
        if (!t.owned) {
            learn__free(&w->alloc, t.name);
            return LEARN__WFAIL(w, LEARN_ERR_NOMEM, "out of memory copying tensor '%s'", name);
        }
        memcpy(t.owned, data, (size_t)size);
        t.data = t.owned;
    }
    w->tensors[w->n_tensors++] = t;
    return LEARN_OK;
}

learn_status learn_writer_remove_tensor(learn_writer *w, const char *name) {
    if (!w || !name) return LEARN_ERR_ARG;
    for (uint32_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0) {
            learn__free(&w->alloc, w->tensors[i].name);
            learn__free_aligned(&w->alloc, w->tensors[i].owned);
            memmove(&w->tensors[i], &w->tensors[i + 1],
                    (w->n_tensors - i - 1) * sizeof *w->tensors);
            w->n_tensors--;
            break;
        }
    return LEARN_OK;
}

uint32_t learn_writer_n_tensors(const learn_writer *w) { return w ? w->n_tensors : 0; }

/* Which fingerprint a key or tensor name belongs to: 0 none (general.*), 1 content, 2 towers. */
static int learn__fp_part(const char *name) {
    if (strncmp(name, "general.", 8) == 0) return 0;
    return strncmp(name, "tower.", 6) == 0 ? 2 : 1;
}

static const char *learn__wmeta_key_of(const void *w, uint32_t i) {
    return ((const learn_writer *)w)->meta[i].key;
}
static const char *learn__wtensor_name_of(const void *w, uint32_t i) {
    return ((const learn_writer *)w)->tensors[i].name;
}

/* XXH64 digests of the content and tower parts, independent of insertion order. A part with
   nothing in it gets 0. */
static learn_status learn__writer_fingerprints(learn_writer *w, uint64_t *fp_content,
                                               uint64_t *fp_towers) {
    learn__xxh64 h[3];
    uint32_t used[3] = {0, 0, 0};
    learn__xxh64_init(&h[1], 1);
    learn__xxh64_init(&h[2], 2);
    uint32_t n = LEARN__MAX(w->n_meta, w->n_tensors), dup;
    uint32_t *order = (uint32_t *)learn__calloc(&w->alloc, n ? n : 1, sizeof *order);
    const char **names = (const char **)learn__calloc(&w->alloc, n ? n : 1, sizeof *names);
    learn_status st = (order && names) ? LEARN_OK : LEARN_ERR_NOMEM;
    for (int pass = 0; pass < 2 && !st; pass++) {
        uint32_t cnt = pass ? w->n_tensors : w->n_meta;
        for (uint32_t i = 0; i < cnt; i++)
            names[i] = pass ? learn__wtensor_name_of(w, i) : learn__wmeta_key_of(w, i);
        if ((st = learn__sort_names(&w->alloc, names, cnt, order, &dup))) break;
        for (uint32_t k = 0; k < cnt; k++) {
            uint32_t i = order[k];
            int part = learn__fp_part(names[i]);
            if (!part) continue;
            used[part]++;
            learn__xxh64_update(&h[part], names[i], strlen(names[i]) + 1);
            if (pass == 0) {
                uint8_t t[4];
                learn__wr32(t, w->meta[i].type);
                learn__xxh64_update(&h[part], t, 4);
                learn__xxh64_update(&h[part], w->meta[i].val, w->meta[i].val_size);
            } else {
                const learn__wtensor *t = &w->tensors[i];
                uint8_t hdr[8 + 8 * LEARN_MAX_DIMS];
                learn__wr32(hdr, (uint32_t)t->type);
                learn__wr32(hdr + 4, t->n_dims);
                for (uint32_t d = 0; d < LEARN_MAX_DIMS; d++) learn__wr64(hdr + 8 + 8 * d, t->shape[d]);
                learn__xxh64_update(&h[part], hdr, sizeof hdr);
                learn__xxh64_update(&h[part], t->data, (size_t)t->size);
            }
        }
    }
    learn__free(&w->alloc, order);
    learn__free(&w->alloc, (void *)names);
    if (st) return LEARN__WFAIL(w, st, "out of memory");
    *fp_content = used[1] ? learn__xxh64_digest(&h[1]) : 0;
    *fp_towers = used[2] ? learn__xxh64_digest(&h[2]) : 0;
    return LEARN_OK;
}

/* The system calls a save makes through: POSIX's (learn__posix_io), or a test's that makes
   them fail (ENOSPC, a failing fsync or rename, a lock held elsewhere). Each returns what the
   POSIX call would (write: bytes written, or -1 with errno set). lock tries once, without
   waiting, to take the exclusive lock on the lock file open as fd: 0 when taken; -1 with errno
   EWOULDBLOCK (or EAGAIN, EACCES) when another holds it, EINTR to be called again at once,
   anything else to fail; NULL means flock(fd, LOCK_EX | LOCK_NB). */
typedef struct learn__io {
    void *user;
    long (*write)(void *user, int fd, const void *buf, size_t n);
    int (*fsync)(void *user, int fd);
    int (*rename)(void *user, const char *from, const char *to);
    int (*lock)(void *user, int fd);
} learn__io;

/* Output sink: memory, or a file descriptor through a staging buffer. Everything emitted is
   hashed for the trailer. */
typedef struct learn__emit {
    learn__xxh64 h;
    uint8_t *mem;
    uint64_t pos;
#ifndef LEARN_NO_STDIO
    int fd;
    const learn__io *io;
    uint8_t *stage;
    size_t staged, stage_cap;
#endif
    learn_writer *w;
} learn__emit;

#ifndef LEARN_NO_STDIO
static learn_status learn__emit_flush(learn__emit *e, const uint8_t *p, size_t n) {
    while (n) {
        long r = e->io->write(e->io->user, e->fd, p, n > (1u << 30) ? (1u << 30) : n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
            return LEARN__WFAIL(e->w, LEARN_ERR_IO, "write failed: %s",
                                r < 0 ? strerror(errno) : "no progress");
        p += r;
        n -= (size_t)r;
    }
    return LEARN_OK;
}
#endif

static learn_status learn__emit_bytes(learn__emit *e, const void *data, size_t n) {
    if (!n) return LEARN_OK;
    learn__xxh64_update(&e->h, data, n);
    if (e->mem) {
        memcpy(e->mem + e->pos, data, n);
        e->pos += n;
        return LEARN_OK;
    }
#ifndef LEARN_NO_STDIO
    e->pos += n;
    if (e->staged + n <= e->stage_cap) {
        memcpy(e->stage + e->staged, data, n);
        e->staged += n;
        return LEARN_OK;
    }
    learn_status st = learn__emit_flush(e, e->stage, e->staged);
    e->staged = 0;
    if (st) return st;
    if (n >= e->stage_cap) return learn__emit_flush(e, (const uint8_t *)data, n);
    memcpy(e->stage, data, n);
    e->staged = n;
#endif
    return LEARN_OK;
}

static learn_status learn__emit_zeros(learn__emit *e, uint64_t n) {
    static const uint8_t zeros[LEARN_ALIGNMENT];
    learn_status st = LEARN_OK;
    while (n && !st) {
        size_t k = (size_t)LEARN__MIN(n, (uint64_t)sizeof zeros);
        st = learn__emit_bytes(e, zeros, k);
        n -= k;
    }
    return st;
}

/* Computes the layout; returns the file size (0 on overflow) and the offsets. */
static uint64_t learn__writer_layout(const learn_writer *w, uint64_t *dir_off, uint64_t *data_off) {
    uint64_t pos = LEARN__HEADER_SIZE;
    for (uint32_t i = 0; i < w->n_meta; i++)
        if (!learn__add64_ok(pos, 8 + strlen(w->meta[i].key) + (uint64_t)w->meta[i].val_size, &pos))
            return 0;
    *dir_off = pos;
    for (uint32_t i = 0; i < w->n_tensors; i++)
        if (!learn__add64_ok(pos, 4 + strlen(w->tensors[i].name) + 1 + 8 + 8ull * w->tensors[i].n_dims + 16,
                             &pos))
            return 0;
    if (!learn__align64_ok(pos, LEARN_ALIGNMENT, &pos)) return 0;
    *data_off = pos;
    for (uint32_t i = 0; i < w->n_tensors; i++) {
        if (i && !learn__align64_ok(pos, LEARN_ALIGNMENT, &pos)) return 0;
        if (!learn__add64_ok(pos, w->tensors[i].size, &pos)) return 0;
    }
    return learn__add64_ok(pos, LEARN__TRAILER_SIZE, &pos) ? pos : 0;
}

/* Emits the whole file. */
static learn_status learn__writer_emit(learn_writer *w, learn__emit *e, uint64_t file_size,
                                       uint64_t dir_off, uint64_t data_off) {
    uint8_t hdr[LEARN__HEADER_SIZE];
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, learn__magic, 8);
    learn__wr32(hdr + 8, LEARN_FORMAT_VERSION);
    learn__wr32(hdr + 12, LEARN__HEADER_SIZE);
    learn__wr64(hdr + 16, file_size);
    learn__wr32(hdr + 24, w->n_meta);
    learn__wr32(hdr + 28, w->n_tensors);
    learn__wr64(hdr + 32, LEARN__HEADER_SIZE);
    learn__wr64(hdr + 40, dir_off);
    learn__wr64(hdr + 48, data_off);
    learn__wr32(hdr + 60, LEARN_ALIGNMENT);
    learn_status st = learn__emit_bytes(e, hdr, sizeof hdr);
    for (uint32_t i = 0; i < w->n_meta && !st; i++) {
        uint8_t b[4];
        size_t kl = strlen(w->meta[i].key);
        learn__wr32(b, (uint32_t)kl);
        st = learn__emit_bytes(e, b, 4);
        if (!st) st = learn__emit_bytes(e, w->meta[i].key, kl);
        learn__wr32(b, w->meta[i].type);
        if (!st) st = learn__emit_bytes(e, b, 4);
        if (!st) st = learn__emit_bytes(e, w->meta[i].val, w->meta[i].val_size);
    }
    uint64_t off = data_off;
    for (uint32_t i = 0; i < w->n_tensors && !st; i++) {
        const learn__wtensor *t = &w->tensors[i];
        uint8_t b[8 + 8 * LEARN_MAX_DIMS + 16];
        size_t nl = strlen(t->name);
        learn__wr32(b, (uint32_t)nl);
        st = learn__emit_bytes(e, b, 4);
        if (!st) st = learn__emit_bytes(e, t->name, nl + 1);
        learn__wr32(b, (uint32_t)t->type);
        learn__wr32(b + 4, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) learn__wr64(b + 8 + 8 * d, t->shape[d]);
        learn__wr64(b + 8 + 8 * t->n_dims, off);
        learn__wr64(b + 16 + 8 * t->n_dims, t->size);
        if (!st) st = learn__emit_bytes(e, b, 24 + 8 * t->n_dims);
        off = (off + t->size + LEARN_ALIGNMENT - 1) & ~(uint64_t)(LEARN_ALIGNMENT - 1);
    }
    if (!st) st = learn__emit_zeros(e, data_off - e->pos);
    for (uint32_t i = 0; i < w->n_tensors && !st; i++) {
        if (i) st = learn__emit_zeros(e, ((e->pos + LEARN_ALIGNMENT - 1) & ~(uint64_t)(LEARN_ALIGNMENT - 1)) - e->pos);
        if (!st) st = learn__emit_bytes(e, w->tensors[i].data, (size_t)w->tensors[i].size);
    }
    if (!st) {
        uint8_t b[8];
        learn__wr64(b, learn__xxh64_digest(&e->h));
        st = learn__emit_bytes(e, b, 8);
    }
    return st;
}

/* Sets the fingerprints and returns the layout. */
static learn_status learn__writer_prepare(learn_writer *w, uint64_t *file_size, uint64_t *dir_off,
                                          uint64_t *data_off) {
    uint64_t fc = 0, ft = 0;
    learn_status st = learn__writer_fingerprints(w, &fc, &ft);
    if (!st) st = learn_writer_set_u64(w, "general.fingerprint.content", fc);
    if (!st) st = learn_writer_set_u64(w, "general.fingerprint.towers", ft);
    if (st) return st;
    *file_size = learn__writer_layout(w, dir_off, data_off);
    if (!*file_size || *file_size > SIZE_MAX)
        return LEARN__WFAIL(w, LEARN_ERR_ARG, "file would be larger than this host can address");
    return LEARN_OK;
}

learn_status learn_writer_save_memory(learn_writer *w, void **data, size_t *size) {
    if (!w || !data || !size) return LEARN_ERR_ARG;
    *data = NULL;
    *size = 0;
    uint64_t fsize = 0, dir_off = 0, data_off = 0;
    learn_status st = learn__writer_prepare(w, &fsize, &dir_off, &data_off);
    if (st) return st;
    learn__emit e;
    memset(&e, 0, sizeof e);
    learn__xxh64_init(&e.h, 0);
    e.w = w;
    e.mem = (uint8_t *)learn__malloc_aligned(&w->alloc, (size_t)fsize);
    if (!e.mem) return LEARN__WFAIL(w, LEARN_ERR_NOMEM, "out of memory for %llu bytes",
                                    (unsigned long long)fsize);
    st = learn__writer_emit(w, &e, fsize, dir_off, data_off);
    if (st) {
        learn__free_aligned(&w->alloc, e.mem);
        return st;
    }
    *data = e.mem;
    *size = (size_t)fsize;
    return LEARN_OK;
}

void learn_writer_free_buffer(learn_writer *w, void *data) {
    if (w) learn__free_aligned(&w->alloc, data);
}

#ifndef LEARN_NO_STDIO
static long learn__posix_write(void *user, int fd, const void *buf, size_t n) {
    (void)user;
    return (long)write(fd, buf, n);
}
static int learn__posix_fsync(void *user, int fd) {
    (void)user;
    return fsync(fd);
}
static int learn__posix_rename(void *user, const char *from, const char *to) {
    (void)user;
    return rename(from, to);
}
static int learn__posix_lock(void *user, int fd) {
    (void)user;
    return flock(fd, LOCK_EX | LOCK_NB);
}
static const learn__io learn__posix_io = {NULL, learn__posix_write, learn__posix_fsync,
                                         learn__posix_rename, learn__posix_lock};

/* ---- Locks, temporary files, atomic replacement ("Writing files" in learn.h) ----
   T is the file written (symlinks resolved). A writer holds flock on T.lock from before it
   reads T until after its rename, and unlinks T.lock before it lets go; so a lock is valid
   only while T.lock still names the file locked (checked after each flock: a waiter that
   wins an unlinked file starts again). Temporary files are T.tmp.PID.XXXXXX, created only
   under the lock and removed or renamed before it is released: the holder of the lock
   removes any other as a dead writer's. */

struct learn_lock {
    learn_allocator alloc;
    learn__io io;    /* every hook set */
    char *target;    /* T */
    char *dir;       /* T's directory ("." for none) */
    char *lock_path; /* T.lock */
    int fd;          /* the lock file */
    char *tmp;       /* the temporary file being written, or NULL */
    int tmp_fd;
    uint32_t n_removed;
    uint64_t bytes_removed;
    char err[LEARN_ERRMSG_SIZE];
};

learn_lock_params learn_lock_default_params(void) {
    learn_lock_params p;
    memset(&p, 0, sizeof p);
    p.timeout = 60.0;
    return p;
}

/* The directory holding path ("." for none), allocated before anything is written: after the
   rename, running out of memory must not pass for a failed fsync. */
static char *learn__dir_of(const char *path, const learn_allocator *a) {
    const char *slash = strrchr(path, '/');
    return slash ? learn__strndup(a, path, slash == path ? 1 : (size_t)(slash - path))
                 : learn__strndup(a, ".", 1);
}

/* x[0..xn) followed by the string y, as a new string. */
static char *learn__cat(const learn_allocator *a, const char *x, size_t xn, const char *y) {
    size_t yn = strlen(y), n;
    if (!learn__add_ok(xn, yn, &n) || !learn__add_ok(n, 1, &n)) return NULL;
    char *d = (char *)learn__malloc(a, n);
    if (d) {
        memcpy(d, x, xn);
        memcpy(d + xn, y, yn + 1);
    }
    return d;
}

/* fsyncs directory dir, so that a rename into it is durable. */
static int learn__fsync_dir(const learn__io *io, const char *dir) {
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int r = io->fsync(io->user, fd);
    close(fd);
    return r;
}

static double learn__mono_s(void) {
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) != 0) return 0;
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void learn__sleep_s(double s) {
    struct timespec t;
    t.tv_sec = (time_t)s;
    t.tv_nsec = (long)((s - (double)t.tv_sec) * 1e9);
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* The file that path names, symlinks followed (*out allocated): the path itself when it does
   not exist or is not a link. A link that dangles names the file to create. */
static learn_status learn__resolve(const learn_allocator *a, const char *path, char **out,
                                   char *err, size_t errn) {
    *out = NULL;
    char *cur = learn__strndup(a, path, strlen(path));
    if (!cur) return learn__fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    for (int hops = 0;; hops++) {
        struct stat sb;
        if (lstat(cur, &sb) != 0) {
            if (errno == ENOENT) break;
            learn_status st = learn__fail(err, errn, LEARN_ERR_IO, "%s: %s", cur, strerror(errno));
            learn__free(a, cur);
            return st;
        }
        if (!S_ISLNK(sb.st_mode)) {
            if (S_ISREG(sb.st_mode)) break;
            learn_status st = learn__fail(err, errn, LEARN_ERR_IO,
                                          "%s: not a regular file (only regular files are replaced)", cur);
            learn__free(a, cur);
            return st;
        }
        if (hops == 40) {
            learn_status st = learn__fail(err, errn, LEARN_ERR_IO,
                                          "%s: more than 40 symbolic links in a row (a loop?)", path);
            learn__free(a, cur);
            return st;
        }
        /* The link's text (its size from lstat is a hint: 0 on some file systems). */
        size_t cap = sb.st_size > 0 && (uint64_t)sb.st_size < SIZE_MAX / 2 ? (size_t)sb.st_size + 1 : 256;
        char *link = NULL;
        ssize_t n = -1;
        for (;;) {
            link = (char *)learn__malloc(a, cap);
            if (!link) break;
            n = readlink(cur, link, cap);
            if (n < 0 || (size_t)n < cap) break;
            learn__free(a, link);
            link = NULL;
            if (cap > (1u << 20)) break;
            cap *= 2;
        }
        if (!link || n < 0) {
            learn_status st = link ? learn__fail(err, errn, LEARN_ERR_IO, "%s: %s", cur, strerror(errno))
                                   : learn__fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
            learn__free(a, link);
            learn__free(a, cur);
            return st;
        }
        link[n] = 0;
        /* A relative link is relative to the directory holding it. */
        const char *slash = strrchr(cur, '/');
        char *next = link[0] == '/' || !slash ? learn__strndup(a, link, (size_t)n)
                                              : learn__cat(a, cur, (size_t)(slash - cur) + 1, link);
        learn__free(a, link);
        learn__free(a, cur);
        if (!next) return learn__fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
        cur = next;
    }
    *out = cur;
    return LEARN_OK;
}

/* A leftover's name: base ".tmp." digits "." six letters or digits. */
static int learn__is_leftover(const char *name, const char *base, size_t bl) {
    if (strncmp(name, base, bl) != 0 || strncmp(name + bl, ".tmp.", 5) != 0) return 0;
    const char *p = name + bl + 5;
    size_t d = 0;
    while (p[d] >= '0' && p[d] <= '9') d++;
    if (d == 0 || p[d] != '.') return 0;
    p += d + 1;
    for (int i = 0; i < 6; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
            return 0;
    return p[6] == 0;
}

/* Removes dead writers' temporary files of l->target (the lock is held). A directory that
   cannot be listed has none we could remove. */
static void learn__remove_leftovers(learn_lock *l) {
    const char *slash = strrchr(l->target, '/');
    const char *base = slash ? slash + 1 : l->target;
    size_t bl = strlen(base), dl = strlen(l->dir);
    DIR *d = opendir(l->dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!learn__is_leftover(e->d_name, base, bl)) continue;
        char *p = learn__cat(&l->alloc, l->dir, dl, "/");
        char *q = p ? learn__cat(&l->alloc, p, dl + 1, e->d_name) : NULL;
        struct stat sb;
        if (q && lstat(q, &sb) == 0 && S_ISREG(sb.st_mode) && unlink(q) == 0) {
            l->n_removed++;
            l->bytes_removed += (uint64_t)sb.st_size;
        }
        learn__free(&l->alloc, p);
        learn__free(&l->alloc, q);
    }
    closedir(d);
}

/* The pid a holder wrote into its lock file, or 0. */
static long learn__lock_holder(int fd) {
    char b[32];
    ssize_t n = pread(fd, b, sizeof b - 1, 0);
    if (n <= 0) return 0;
    b[n] = 0;
    long pid = 0;
    for (ssize_t i = 0; i < n && b[i] >= '0' && b[i] <= '9' && pid < 100000000000L; i++)
        pid = pid * 10 + (b[i] - '0');
    return pid;
}

static void learn__lock_free(learn_lock *l) {
    learn__free(&l->alloc, l->target);
    learn__free(&l->alloc, l->dir);
    learn__free(&l->alloc, l->lock_path);
    learn__free(&l->alloc, l->tmp);
    learn_allocator a = l->alloc;
    learn__free(&a, l);
}

/* learn_lock_acquire through the calls of io (NULL: POSIX), which every save under the lock
   makes too. */
static learn_status learn__lock_acquire(const char *path, const learn_lock_params *params,
                                        const learn__io *io, learn_lock **lock, char *errbuf,
                                        size_t errbuf_size) {
    if (lock) *lock = NULL;
    if (!lock || !path || !*path)
        return learn__fail(errbuf, errbuf_size, LEARN_ERR_ARG, "learn_lock_acquire: lock and path must be set");
    learn_lock_params p = params ? *params : learn_lock_default_params();
    if (!(p.timeout >= 0))
        return learn__fail(errbuf, errbuf_size, LEARN_ERR_ARG, "learn_lock_acquire: timeout %g s is not >= 0",
                           p.timeout);
    learn_allocator a;
    if (learn__alloc_resolve(&p.allocator, &a))
        return learn__fail(errbuf, errbuf_size, LEARN_ERR_ARG, "learn_lock_acquire: a partly set allocator");
    learn_lock *l = (learn_lock *)learn__calloc(&a, 1, sizeof *l);
    if (!l) return learn__fail(errbuf, errbuf_size, LEARN_ERR_NOMEM, "out of memory");
    l->alloc = a;
    l->io = io ? *io : learn__posix_io;
    if (!l->io.write) l->io.write = learn__posix_write; /* a test's io sets the hooks it fakes */
    if (!l->io.fsync) l->io.fsync = learn__posix_fsync;
    if (!l->io.rename) l->io.rename = learn__posix_rename;
    if (!l->io.lock) l->io.lock = learn__posix_lock;
    l->fd = l->tmp_fd = -1;
    learn_status st = learn__resolve(&a, path, &l->target, errbuf, errbuf_size);
    if (!st) {
        l->dir = learn__dir_of(l->target, &a);
        l->lock_path = learn__cat(&a, l->target, strlen(l->target), ".lock");
        if (!l->dir || !l->lock_path) st = learn__fail(errbuf, errbuf_size, LEARN_ERR_NOMEM, "out of memory");
    }
    double deadline = learn__mono_s() + p.timeout, delay = 0.001;
    while (!st) {
        int writable = 1;
        int fd = open(l->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0 && errno == EACCES) { /* another user's lock file: flock needs read access only */
            writable = 0;
            fd = open(l->lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            if (fd < 0) errno = EACCES;
        }
        if (fd < 0) {
            st = learn__fail(errbuf, errbuf_size, LEARN_ERR_IO, "%s: cannot create the lock file: %s",
                             l->lock_path, strerror(errno));
            break;
        }
        int r;
        while ((r = l->io.lock(l->io.user, fd)) != 0 && errno == EINTR) {
        }
        if (r == 0) {
            struct stat a1, a2;
            if (fstat(fd, &a1) == 0 && lstat(l->lock_path, &a2) == 0 && a1.st_dev == a2.st_dev &&
                a1.st_ino == a2.st_ino) {
                l->fd = fd;
                if (writable) {
                    char b[32];
                    int n = snprintf(b, sizeof b, "%ld\n", (long)getpid());
                    if (ftruncate(fd, 0) == 0) (void)!pwrite(fd, b, (size_t)n, 0);
                }
                break;
            }
            close(fd); /* won a lock file its holder had already removed: try the current one */
            if (learn__mono_s() > deadline + 1.0) {
                st = learn__fail(errbuf, errbuf_size, LEARN_ERR_IO, "%s: the lock file keeps changing",
                                 l->lock_path);
                break;
            }
            continue;
        }
        if (errno != EWOULDBLOCK && errno != EAGAIN && errno != EACCES) {
            st = learn__fail(errbuf, errbuf_size, LEARN_ERR_IO, "%s: cannot lock: %s", l->lock_path,
                             strerror(errno));
            close(fd);
            break;
        }
        double now = learn__mono_s();
        if (now >= deadline) {
            long pid = learn__lock_holder(fd);
            char who[40];
            if (pid > 0) snprintf(who, sizeof who, "pid %ld", pid);
            else snprintf(who, sizeof who, "pid unknown");
            if (p.timeout > 0)
                st = learn__fail(errbuf, errbuf_size, LEARN_ERR_BUSY,
                                 "%s is locked by another writer (%s); gave up after %g s", path, who,
                                 p.timeout);
            else
                st = learn__fail(errbuf, errbuf_size, LEARN_ERR_BUSY, "%s is locked by another writer (%s)",
                                 path, who);
            close(fd);
            break;
        }
        close(fd);
        learn__sleep_s(LEARN__MIN(delay, deadline - now));
        delay = LEARN__MIN(delay * 2, 0.05);
    }
    if (st) {
        learn__lock_free(l);
        return st;
    }
    learn__remove_leftovers(l);
    *lock = l;
    return LEARN_OK;
}

learn_status learn_lock_acquire(const char *path, const learn_lock_params *params,
                                learn_lock **lock, char *errbuf, size_t errbuf_size) {
    return learn__lock_acquire(path, params, NULL, lock, errbuf, errbuf_size);
}

learn_status learn_lock_get_info(const learn_lock *l, learn_lock_info *info) {
    if (!l || !info) return LEARN_ERR_ARG;
    info->path = l->target;
    info->lock_path = l->lock_path;
    info->n_removed = l->n_removed;
    info->bytes_removed = l->bytes_removed;
    return LEARN_OK;
}

const char *learn_lock_errmsg(const learn_lock *l) { return l ? l->err : ""; }

#define LEARN__LFAIL(l, st, ...) learn__fail((l)->err, sizeof (l)->err, (st), __VA_ARGS__)

learn_status learn_lock_temp(learn_lock *l, int *fd_out) {
    if (fd_out) *fd_out = -1;
    if (!l || !fd_out) return LEARN_ERR_ARG;
    l->err[0] = 0;
    if (l->tmp) return LEARN__LFAIL(l, LEARN_ERR_STATE, "%s: a temporary file is already open", l->tmp);
    struct stat sb;
    int exists = stat(l->target, &sb) == 0 && S_ISREG(sb.st_mode);
    size_t tl = strlen(l->target), n;
    if (!learn__add_ok(tl, 48, &n) || !(l->tmp = (char *)learn__malloc(&l->alloc, n)))
        return LEARN__LFAIL(l, LEARN_ERR_NOMEM, "out of memory");
    /* A rewrite starts private (0600) and takes T's owner, group and mode before any byte is
       written; a new file is 0666 less the umask, as open() makes it. */
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t seed[4] = {(uint64_t)getpid(), (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30),
                            (uint64_t)(uintptr_t)l, (uint64_t)attempt};
        uint64_t h = learn_xxh64(seed, sizeof seed, 0);
        char suf[7];
        for (int i = 0; i < 6; i++, h /= 62) suf[i] = digits[h % 62];
        suf[6] = 0;
        snprintf(l->tmp, n, "%s.tmp.%ld.%s", l->target, (long)getpid(), suf);
        fd = open(l->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, exists ? 0600 : 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        learn_status st = LEARN__LFAIL(l, LEARN_ERR_IO, "%s: cannot create a temporary file: %s", l->tmp,
                                       strerror(errno));
        learn__free(&l->alloc, l->tmp);
        l->tmp = NULL;
        return st;
    }
    if (exists) {
        struct stat nb;
        if (fstat(fd, &nb) == 0 && (nb.st_uid != sb.st_uid || nb.st_gid != sb.st_gid) &&
            fchown(fd, sb.st_uid, sb.st_gid) != 0)
            (void)!fchown(fd, (uid_t)-1, sb.st_gid); /* not root: the group, if a member */
        if (fchmod(fd, sb.st_mode & 07777) != 0) {
            learn_status st = LEARN__LFAIL(l, LEARN_ERR_IO, "%s: cannot set mode %04o: %s", l->tmp,
                                           (unsigned)(sb.st_mode & 07777), strerror(errno));
            close(fd);
            unlink(l->tmp);
            learn__free(&l->alloc, l->tmp);
            l->tmp = NULL;
            return st;
        }
    }
    l->tmp_fd = fd;
    *fd_out = fd;
    return LEARN_OK;
}

void learn_lock_discard(learn_lock *l) {
    if (!l || !l->tmp) return;
    close(l->tmp_fd);
    unlink(l->tmp);
    learn__free(&l->alloc, l->tmp);
    l->tmp = NULL;
    l->tmp_fd = -1;
}

learn_status learn_lock_commit(learn_lock *l) {
    if (!l) return LEARN_ERR_ARG;
    l->err[0] = 0;
    if (!l->tmp) return LEARN__LFAIL(l, LEARN_ERR_STATE, "%s: no temporary file to commit", l->target);
    learn_status st = LEARN_OK;
    if (l->io.fsync(l->io.user, l->tmp_fd) != 0)
        st = LEARN__LFAIL(l, LEARN_ERR_IO, "%s: fsync failed: %s", l->tmp, strerror(errno));
    if (close(l->tmp_fd) != 0 && !st)
        st = LEARN__LFAIL(l, LEARN_ERR_IO, "%s: close failed: %s", l->tmp, strerror(errno));
    l->tmp_fd = -1;
    if (!st && l->io.rename(l->io.user, l->tmp, l->target) != 0)
        st = LEARN__LFAIL(l, LEARN_ERR_IO, "rename %s -> %s failed: %s", l->tmp, l->target, strerror(errno));
    if (st) unlink(l->tmp);
    learn__free(&l->alloc, l->tmp);
    l->tmp = NULL;
    if (!st && learn__fsync_dir(&l->io, l->dir) != 0)
        st = LEARN__LFAIL(l, LEARN_ERR_IO, "%s: written, but fsync of its directory failed: %s", l->target,
                          strerror(errno));
    return st;
}

void learn_lock_release(learn_lock *l) {
    if (!l) return;
    learn_lock_discard(l);
    if (l->fd >= 0) {
        unlink(l->lock_path); /* while still held: see the banner */
        close(l->fd);
    }
    learn__lock_free(l);
}

/* Writes w (prepared: fingerprints set, layout computed) to the lock's temporary file and
   commits it. */
static learn_status learn__writer_save_prepared(learn_writer *w, learn_lock *l, uint64_t fsize,
                                                uint64_t dir_off, uint64_t data_off) {
    learn__emit e;
    memset(&e, 0, sizeof e);
    e.stage_cap = 1u << 20;
    e.stage = (uint8_t *)learn__malloc(&w->alloc, e.stage_cap);
    if (!e.stage) return LEARN__WFAIL(w, LEARN_ERR_NOMEM, "out of memory");
    int fd;
    learn_status st = learn_lock_temp(l, &fd);
    if (st) {
        LEARN__WFAIL(w, st, "%s", l->err);
        learn__free(&w->alloc, e.stage);
        return st;
    }
    learn__xxh64_init(&e.h, 0);
    e.w = w;
    e.fd = fd;
    e.io = &l->io;
    st = learn__writer_emit(w, &e, fsize, dir_off, data_off);
    if (!st) st = learn__emit_flush(&e, e.stage, e.staged);
    learn__free(&w->alloc, e.stage);
    if (st) {
        learn_lock_discard(l);
        char inner[LEARN_ERRMSG_SIZE];
        memcpy(inner, w->err, sizeof inner);
        return st == LEARN_ERR_IO ? LEARN__WFAIL(w, st, "%s: %s", l->target, inner) : st;
    }
    st = learn_lock_commit(l);
    if (st) LEARN__WFAIL(w, st, "%s", l->err);
    return st;
}

learn_status learn_writer_save_locked(learn_writer *w, learn_lock *lock) {
    if (!w || !lock) return LEARN_ERR_ARG;
    uint64_t fsize = 0, dir_off = 0, data_off = 0;
    learn_status st = learn__writer_prepare(w, &fsize, &dir_off, &data_off);
    if (st) return st;
    return learn__writer_save_prepared(w, lock, fsize, dir_off, data_off);
}

/* learn_writer_save through the calls of io (NULL: POSIX). */
static learn_status learn__writer_save(learn_writer *w, const char *path, const learn__io *io) {
    if (!w || !path) return LEARN_ERR_ARG;
    uint64_t fsize = 0, dir_off = 0, data_off = 0;
    learn_status st = learn__writer_prepare(w, &fsize, &dir_off, &data_off);
    if (st) return st;
    learn_lock_params p = learn_lock_default_params();
    p.allocator = w->alloc;
    learn_lock *l;
    st = learn__lock_acquire(path, &p, io, &l, w->err, sizeof w->err);
    if (st) return st;
    st = learn__writer_save_prepared(w, l, fsize, dir_off, data_off);
    learn_lock_release(l);
    return st;
}

learn_status learn_writer_save(learn_writer *w, const char *path) {
    return learn__writer_save(w, path, NULL);
}
#endif /* LEARN_NO_STDIO */

/* ============================================================================================
   ==== Tokenizer ====
   Text -> token ids and back, for the two vocabulary families of the supported LLMs:
     spm  SentencePiece BPE (Llama 2, TinyLlama, Mistral, Baichuan, Phi-3, llama2.c): pieces
          with scores, U+2581 for spaces, a dummy space prefix, byte fallback <0xNN>.
     bpe  byte-level BPE (GPT-2, Llama 3, Qwen2/3, Falcon, MPT, StarCoder, Refact, DeepSeek):
          the GPT-2 byte-to-unicode map, merge ranks, and a pre-tokenizer that splits the text
          into words first (hand-written matchers for the regexes of each model family).
   Behaviour follows llama.cpp (src/llama-vocab.cpp, src/unicode.cpp at c392e509), whose test
   vectors are the reference; differences are noted where they are (ill-formed UTF-8, NFC).

   The pipeline of learn_tokenize():
     1. special tokens: user-defined tokens always, control/unknown ones only with
        LEARN_TOKENIZE_PARSE_SPECIAL, are cut out of the text (llama.cpp's order: longest
        first, then left to right); the rest are raw fragments.
     2. spm: each fragment (with the dummy space) goes through the score-driven merges.
        bpe: each fragment is decoded to code points (ill-formed bytes -> U+FFFD), optionally
        NFC-normalized, split by the pre-tokenizer stages, and each word is merged by rank.
   Loading (learn__tok_load) validates the tokenizer.* data of the file and builds the hash
   tables once; the result is immutable and shared by all contexts.
   ============================================================================================ */

/* BEGIN GENERATED UNICODE TABLES */
/* Generated by tools/gen_unicode.py from the Unicode Character Database 15.0.0 (the files in
   /usr/share/unicode of Debian's unicode-data package). Do not edit by hand; regenerate
   with:  python3 tools/gen_unicode.py learn.c
   The layout of each table is described at the top of tools/gen_unicode.py. */
#define LEARN__UCD_VERSION "15.0.0"
#define LEARN__UCP_SHIFT3 4
#define LEARN__UCP_SHIFT2 5
#define LEARN__UCP_CAT 7u   /* general category group: */
#define LEARN__UCP_CN 0u    /*   unassigned */
#define LEARN__UCP_N 1u
#define LEARN__UCP_L 2u
#define LEARN__UCP_Z 3u
#define LEARN__UCP_M 4u
#define LEARN__UCP_P 5u
#define LEARN__UCP_S 6u
#define LEARN__UCP_C 7u
#define LEARN__UCP_SPACE 8u  /* White_Space */
#define LEARN__UCP_NFC 16u   /* may change under NFC */
static const uint8_t learn__ucp_stage1[2176] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    25, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 27, 26, 26, 26, 26, 26, 26, 26, 26, 26,
    26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26,
    26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 28, 29, 30, 31, 26, 26, 26, 26, 26, 26, 26, 26,
    26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 32, 33, 33, 33, 33, 33, 33, 33, 33, 33,
    33, 33, 33, 33, 33, 33, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49,
    50, 51, 52, 53, 26, 54, 55, 56, 56, 56, 56, 57, 26, 26, 58, 56, 56, 56, 56, 56, 56, 56, 26,
    59, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 26, 60, 56, 61, 26, 26,
    26, 26, 26, 26, 26, 26, 26, 26, 26, 62, 26, 26, 63, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 64, 65, 66, 56, 56, 56, 56, 67, 56, 56, 56, 56, 56, 56, 56, 56, 68,
    69, 70, 71, 72, 73, 74, 56, 75, 76, 77, 78, 79, 80, 56, 81, 82, 83, 84, 73, 85, 86, 87, 56,
    56, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26,
    26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26,
    26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26,
    26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 88, 26, 26, 26, 26, 26, 26, 26,
    89, 90, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 91, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26,
    26, 26, 26, 92, 56, 56, 56, 56, 56, 56, 93, 94, 56, 56, 26, 26, 26, 26, 26, 26, 26, 26, 26,
    95, 26, 26, 26, 26, 26, 26, 26, 96, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 97, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56,
    56, 56, 56, 56, 56, 56, 56, 56, 56, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33,
    33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33,
    33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33,
    33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33,
    33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33,
    33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 98, 33,
    33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33,
    33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33,
    33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33,
    33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33,
    33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33,
    33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 98,
};
static const uint16_t learn__ucp_stage2[3168] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 9, 10, 11, 12, 11, 12, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 13, 14, 15, 16, 17,
    17, 17, 17, 18, 17, 17, 19, 20, 11, 21, 11, 11, 11, 11, 22, 11, 11, 11, 11, 11, 11, 11, 11,
    23, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 24, 11, 25, 11, 11, 26, 27, 17, 28, 29, 11, 30,
    31, 32, 33, 11, 11, 34, 17, 35, 36, 11, 11, 11, 11, 11, 37, 38, 39, 40, 41, 11, 17, 42, 11,
    11, 11, 11, 11, 43, 44, 45, 11, 34, 46, 11, 47, 48, 49, 11, 50, 51, 11, 52, 53, 11, 11, 54,
    17, 55, 17, 56, 11, 11, 57, 58, 59, 60, 4, 61, 62, 63, 64, 65, 66, 67, 68, 69, 62, 63, 70,
    71, 72, 73, 74, 75, 21, 63, 76, 77, 78, 67, 79, 80, 62, 63, 81, 82, 83, 67, 84, 85, 86, 87,
    88, 89, 90, 73, 91, 92, 93, 63, 94, 95, 96, 67, 97, 98, 93, 63, 99, 100, 101, 67, 102, 103,
    93, 11, 104, 105, 106, 67, 107, 108, 109, 11, 110, 111, 112, 73, 113, 24, 11, 11, 114, 115,
    116, 117, 117, 118, 11, 119, 120, 121, 122, 117, 117, 123, 124, 125, 126, 127, 128, 129,
    130, 131, 132, 133, 134, 135, 136, 117, 117, 11, 11, 137, 138, 139, 140, 141, 142, 143, 144,
    11, 11, 145, 11, 11, 146, 11, 11, 11, 11, 11, 11, 147, 148, 11, 11, 149, 150, 151, 11, 11,
    11, 11, 11, 11, 11, 152, 153, 11, 11, 152, 11, 11, 154, 155, 156, 11, 11, 11, 155, 11, 11,
    11, 157, 158, 159, 11, 160, 11, 11, 11, 11, 11, 161, 4, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 162, 11, 163, 164, 11, 11, 11, 11, 165, 166, 11, 167, 11, 168, 11, 169,
    170, 171, 11, 11, 11, 172, 173, 174, 175, 175, 176, 175, 11, 11, 11, 11, 11, 177, 178, 11,
    179, 11, 11, 11, 11, 180, 11, 181, 182, 183, 184, 11, 185, 186, 11, 11, 187, 11, 188, 189,
    16, 16, 11, 190, 11, 11, 11, 191, 192, 193, 175, 175, 194, 195, 196, 117, 117, 117, 197, 11,
    11, 198, 199, 139, 200, 201, 202, 11, 203, 45, 11, 11, 204, 205, 11, 11, 172, 206, 207, 45,
    11, 208, 177, 11, 11, 209, 210, 211, 212, 213, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 17, 17, 17, 17, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 161,
    11, 11, 161, 214, 11, 215, 11, 11, 11, 216, 217, 218, 219, 220, 221, 222, 223, 222, 224,
    225, 226, 227, 228, 229, 16, 16, 230, 231, 232, 233, 234, 235, 236, 237, 238, 125, 125, 125,
    239, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    16, 240, 16, 241, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 242, 117, 243,
    117, 125, 125, 125, 244, 16, 16, 16, 16, 245, 125, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    16, 16, 16, 16, 16, 246, 247, 125, 248, 16, 16, 249, 16, 250, 16, 16, 16, 16, 16, 16, 16,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 251, 252, 16, 16,
    16, 240, 16, 253, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 254, 16, 16, 16, 16,
    16, 16, 16, 16, 16, 255, 16, 256, 16, 16, 16, 16, 16, 16, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 257, 258, 11, 11, 145, 11, 11, 11, 259, 260, 11, 261, 262, 262, 262,
    262, 17, 17, 222, 222, 263, 222, 222, 264, 117, 117, 16, 265, 16, 16, 16, 16, 16, 266, 16,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 267, 117, 268, 269, 270, 271, 272, 24, 11,
    11, 11, 11, 273, 4, 11, 11, 11, 11, 146, 274, 11, 11, 24, 11, 11, 11, 11, 181, 275, 11, 11,
    16, 16, 266, 11, 16, 276, 277, 16, 278, 279, 16, 16, 277, 16, 16, 279, 16, 16, 16, 16, 16,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 16, 16, 16, 16, 11, 11, 11, 11, 11, 11, 11, 11, 229, 16, 16, 16,
    242, 11, 11, 208, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 280, 11,
    281, 117, 11, 11, 282, 283, 11, 284, 11, 11, 11, 11, 285, 286, 16, 287, 288, 11, 11, 11, 11,
    11, 289, 11, 11, 11, 51, 290, 117, 291, 292, 11, 293, 294, 11, 11, 11, 295, 296, 11, 11,
    172, 297, 175, 17, 298, 45, 11, 299, 11, 300, 301, 11, 229, 56, 11, 11, 302, 303, 304, 305,
    306, 11, 11, 307, 308, 309, 310, 11, 311, 11, 11, 11, 312, 313, 314, 315, 316, 317, 318,
    262, 11, 11, 319, 320, 11, 11, 11, 11, 11, 11, 11, 321, 175, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 322, 11, 323, 11,
    11, 187, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 150, 150, 150, 150, 150, 150,
    150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 324, 325, 326, 150, 150, 150, 327, 150,
    150, 150, 150, 150, 150, 328, 117, 117, 261, 329, 330, 331, 332, 11, 11, 11, 11, 11, 11, 14,
    333, 334, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 208, 16, 11, 11, 11, 11, 291, 11, 11, 335, 117, 117, 336, 173, 337, 17, 222, 222, 338,
    339, 340, 11, 11, 11, 11, 11, 11, 11, 341, 342, 3, 4, 5, 6, 343, 344, 11, 11, 11, 11, 181,
    345, 346, 347, 348, 349, 11, 156, 350, 185, 185, 117, 117, 11, 11, 11, 11, 11, 11, 11, 51,
    351, 125, 125, 352, 125, 125, 125, 353, 354, 355, 230, 117, 117, 16, 16, 356, 117, 117, 117,
    117, 117, 117, 117, 117, 11, 229, 11, 11, 11, 78, 357, 358, 11, 11, 359, 11, 360, 11, 11,
    361, 11, 362, 11, 11, 363, 364, 117, 117, 11, 11, 11, 11, 11, 11, 11, 11, 11, 185, 175, 11,
    11, 363, 11, 187, 11, 11, 365, 11, 11, 11, 366, 367, 367, 368, 21, 369, 117, 117, 117, 117,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 261, 11, 180,
    365, 117, 370, 11, 11, 371, 117, 117, 117, 117, 372, 11, 11, 373, 11, 374, 11, 375, 11, 181,
    376, 117, 117, 117, 11, 377, 11, 378, 11, 379, 117, 117, 117, 117, 11, 11, 11, 380, 125,
    381, 125, 125, 382, 383, 11, 384, 385, 386, 11, 387, 11, 388, 117, 117, 389, 11, 390, 391,
    11, 11, 11, 392, 11, 393, 11, 394, 11, 395, 396, 117, 117, 117, 117, 117, 11, 11, 11, 11,
    177, 117, 117, 117, 11, 11, 11, 397, 11, 11, 11, 398, 11, 11, 399, 175, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 125, 400, 11, 11, 401,
    402, 117, 117, 117, 403, 11, 388, 404, 11, 405, 406, 117, 11, 407, 117, 117, 11, 408, 117,
    11, 261, 202, 11, 11, 409, 410, 381, 125, 411, 202, 11, 11, 412, 413, 11, 177, 175, 414, 11,
    415, 416, 417, 11, 11, 418, 202, 11, 11, 419, 420, 421, 422, 423, 11, 21, 424, 425, 426,
    117, 117, 117, 427, 428, 429, 11, 11, 430, 431, 175, 432, 62, 63, 433, 82, 434, 435, 436,
    117, 117, 117, 117, 117, 117, 117, 117, 11, 11, 11, 437, 438, 439, 402, 117, 11, 11, 11,
    440, 441, 175, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 11, 11, 282, 442, 443, 444,
    117, 117, 11, 11, 11, 445, 446, 175, 447, 117, 11, 11, 315, 448, 175, 117, 117, 117, 11,
    449, 450, 451, 261, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 11, 11, 424, 452,
    117, 117, 117, 117, 117, 117, 11, 11, 11, 11, 125, 453, 454, 455, 11, 456, 457, 175, 117,
    117, 117, 117, 458, 11, 11, 459, 460, 117, 461, 11, 11, 462, 463, 464, 11, 11, 465, 466,
    467, 11, 11, 11, 11, 177, 337, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 63, 11, 430, 468, 469, 125, 159, 470, 11, 471, 472, 308, 117, 117, 117, 117,
    473, 11, 11, 474, 475, 175, 476, 11, 477, 478, 175, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 11, 479, 480, 93, 11, 481, 482, 175,
    117, 117, 117, 117, 117, 78, 125, 483, 16, 484, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 188, 117, 117, 117, 117, 117, 117,
    125, 125, 125, 125, 125, 125, 400, 485, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 322,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 11, 11, 11, 11, 11,
    11, 486, 11, 11, 11, 1, 487, 488, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 11, 11, 11, 11,
    261, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 11, 11, 11, 177, 11, 181, 304, 11, 11, 11,
    11, 181, 175, 11, 185, 489, 11, 11, 11, 490, 491, 492, 493, 494, 11, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 11, 11, 11, 11, 125, 495, 117, 117, 117, 117, 117, 117,
    11, 11, 11, 11, 496, 497, 173, 173, 498, 202, 117, 117, 117, 117, 499, 500, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 365, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 180, 117, 117, 177,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 501, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 397, 502, 117, 503, 504, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 187, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 11, 11, 11, 11, 11, 11, 51, 229,
    177, 505, 506, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 173, 173, 507, 173, 308, 16, 16, 16, 16, 16, 16, 16, 266, 117, 117, 117,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 267, 16, 16, 508, 16, 16, 509,
    510, 511, 512, 16, 513, 514, 515, 16, 243, 117, 16, 16, 16, 16, 516, 117, 117, 117, 117,
    117, 117, 117, 125, 517, 125, 517, 16, 16, 16, 16, 16, 242, 125, 385, 117, 117, 117, 117,
    117, 117, 117, 117, 11, 11, 11, 11, 11, 340, 11, 11, 11, 170, 518, 519, 520, 11, 11, 11,
    521, 522, 11, 523, 524, 93, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 525, 11, 526, 319, 11, 319, 11, 527, 11, 527, 528, 11, 528, 11, 529, 11,
    529, 11, 530, 125, 125, 125, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 173, 173, 173, 531, 173,
    173, 532, 533, 534, 535, 536, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 11, 181, 537, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 538, 539, 540, 11, 11, 11, 185, 117, 541, 117, 117, 117, 117, 117,
    117, 117, 11, 11, 229, 542, 543, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 11, 544, 117, 11, 11, 545, 546, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 11, 545, 175, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 547, 181, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 548, 549, 117, 117, 11,
    11, 11, 11, 550, 304, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 422, 125, 125, 551, 552, 117, 117, 117, 117, 422, 125, 553, 554, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 520, 11, 555, 556, 557, 558, 559, 560,
    561, 187, 562, 187, 117, 117, 117, 563, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 16, 16, 268, 16, 16, 16, 16, 16, 16, 266, 276, 564, 564, 564,
    16, 267, 565, 16, 16, 16, 16, 16, 16, 16, 16, 16, 566, 117, 117, 117, 567, 16, 333, 16, 16,
    268, 568, 563, 267, 117, 117, 117, 117, 117, 117, 117, 117, 117, 16, 16, 16, 16, 16, 16, 16,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 569,
    355, 355, 16, 16, 16, 16, 16, 16, 16, 570, 16, 16, 16, 16, 16, 160, 268, 230, 268, 16, 16,
    16, 571, 160, 16, 16, 571, 16, 566, 563, 117, 117, 117, 117, 16, 16, 16, 16, 16, 16, 16, 16,
    16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 266, 566, 355, 568, 16, 16, 572, 573,
    268, 568, 568, 16, 16, 16, 16, 16, 16, 16, 16, 16, 574, 16, 16, 243, 117, 117, 175, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 117, 117, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 188, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 185, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 402, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 78, 117,
    150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150,
    150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 150, 327, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117,
    117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 51, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 117, 117, 117, 117, 117, 575, 117, 1, 1, 1, 1, 1, 1, 117, 117, 117, 117, 117,
    117, 117, 117, 173, 173, 173, 173, 173, 173, 173, 173, 173, 173, 173, 173, 173, 173, 173,
    117, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 576,
};
static const uint8_t learn__ucp_stage3[9232] = {
    7, 7, 7, 7, 7, 7, 7, 7, 7, 15, 15, 15, 15, 15, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 11, 5, 5, 5, 6, 5, 5, 5, 5, 5, 5, 6, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5,
    5, 6, 6, 6, 5, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 5, 5, 5, 6, 5, 6, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 5, 6, 5, 6, 7, 7, 7, 7, 7, 7, 15, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 11, 5, 6, 6, 6, 6, 6,
    5, 6, 6, 2, 5, 6, 7, 6, 6, 6, 6, 1, 1, 6, 2, 5, 5, 6, 1, 2, 5, 1, 1, 1, 5, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 6, 6,
    6, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 2, 2, 2, 2,
    2, 6, 6, 6, 6, 6, 6, 6, 2, 6, 2, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 20, 20,
    20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20,
    20, 20, 20, 20, 20, 20, 4, 2, 2, 2, 2, 18, 6, 2, 2, 0, 0, 2, 2, 2, 2, 21, 2, 0, 0, 0, 0, 6,
    6, 2, 21, 2, 2, 2, 0, 2, 0, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 6, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 20, 20, 20, 20, 20, 4, 4, 2, 2, 2, 2, 2, 2,
    0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 2, 5, 5, 5, 5, 5,
    5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 5, 5, 0, 0, 6, 6, 6, 0, 20, 20, 20, 20, 20, 20, 20, 20, 20,
    20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 5, 20, 5,
    20, 20, 5, 20, 20, 5, 20, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0,
    0, 2, 2, 2, 2, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 7, 7, 7, 7, 7, 6, 6, 6, 5, 5, 6, 5,
    5, 6, 6, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 5, 7, 5, 5, 5, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 20, 20, 20, 20, 20, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 5, 5, 5, 2, 2, 20, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 5, 2, 20, 20, 20, 20, 20, 20, 20, 7, 6, 20, 20,
    20, 20, 20, 20, 2, 2, 20, 20, 6, 20, 20, 20, 20, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2,
    2, 6, 6, 2, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 7, 2, 20, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 20, 20, 20, 20, 2, 2, 6, 5, 5, 5, 2, 0, 0, 20, 6, 6, 2,
    2, 2, 2, 2, 2, 20, 20, 20, 20, 2, 20, 20, 20, 20, 20, 20, 20, 20, 20, 2, 20, 20, 20, 2, 20,
    20, 20, 20, 20, 0, 0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 20, 20, 20, 0, 0, 5, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2,
    2, 2, 2, 6, 2, 2, 2, 2, 2, 2, 0, 7, 7, 0, 0, 0, 0, 0, 0, 20, 20, 20, 20, 20, 20, 20, 20, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 20, 20, 20, 20, 20, 20, 20, 20, 7, 20, 20, 20, 20, 20, 20, 20,
    20, 20, 20, 20, 20, 20, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 4, 4, 20, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 20, 4, 4, 2, 20, 20, 20,
    20, 4, 4, 4, 18, 18, 18, 18, 18, 18, 18, 18, 2, 2, 4, 4, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    2, 4, 4, 4, 0, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 2, 2, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 0, 2, 0, 0, 0, 2, 2, 2, 2, 0, 0, 20,
    2, 20, 4, 4, 4, 4, 4, 4, 0, 0, 4, 4, 0, 0, 4, 4, 20, 2, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0,
    0, 18, 18, 0, 18, 2, 2, 4, 4, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 6, 6, 1, 1, 1, 1, 1,
    1, 6, 6, 2, 5, 20, 0, 0, 4, 4, 4, 0, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 0, 2, 18, 0, 2, 18,
    0, 2, 2, 0, 0, 20, 0, 4, 4, 4, 4, 4, 0, 0, 0, 0, 4, 4, 0, 0, 4, 4, 20, 0, 0, 0, 4, 0, 0, 0,
    0, 0, 0, 0, 18, 18, 18, 2, 0, 18, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, 4,
    2, 2, 2, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2,
    0, 2, 2, 0, 2, 2, 2, 2, 2, 0, 0, 20, 2, 4, 4, 4, 4, 4, 4, 4, 4, 0, 4, 4, 4, 0, 4, 4, 20, 0,
    0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 6, 0, 0, 0, 0, 0, 0, 0, 2, 4, 4, 4, 4,
    4, 4, 0, 4, 4, 4, 0, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 2, 2, 0, 2, 2, 0, 2, 2, 2, 2, 2, 0, 0,
    20, 2, 20, 4, 4, 4, 4, 4, 4, 0, 0, 4, 4, 0, 0, 4, 4, 20, 0, 0, 0, 0, 0, 0, 0, 4, 20, 20, 0,
    0, 0, 0, 18, 18, 0, 2, 6, 2, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 2, 0, 2, 2,
    2, 2, 2, 2, 0, 0, 0, 2, 2, 2, 0, 2, 2, 2, 2, 0, 0, 0, 2, 2, 0, 2, 0, 2, 2, 0, 0, 0, 2, 2, 0,
    0, 0, 2, 2, 2, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 20, 4, 4, 4, 4, 0,
    0, 0, 4, 4, 4, 0, 4, 4, 4, 20, 0, 0, 2, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1,
    1, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2,
    0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 20, 2, 4,
    4, 4, 4, 4, 4, 4, 0, 4, 4, 4, 0, 4, 4, 4, 20, 0, 0, 0, 0, 0, 0, 0, 20, 20, 0, 2, 2, 2, 0, 0,
    2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 1, 1, 1, 1, 1, 1, 1, 6, 2, 4, 4, 4, 5, 2, 2, 2, 2, 2, 2, 2,
    2, 0, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 0, 0, 20, 2, 4, 4, 4, 4, 20, 4, 4, 0, 4, 4, 4, 0,
    4, 4, 4, 20, 0, 0, 0, 0, 0, 0, 0, 20, 20, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 2, 2, 4, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 20, 20, 2, 20, 4, 4, 4, 4, 4, 4, 0, 4, 4, 4, 0, 4, 4, 4, 20, 2, 6, 0, 0, 0, 0,
    2, 2, 2, 20, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6, 2, 2, 2, 2, 2, 2, 0, 4,
    4, 4, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2,
    2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 0, 0, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 20, 0, 0, 0, 0,
    20, 4, 4, 4, 4, 4, 0, 4, 0, 4, 4, 4, 4, 4, 4, 4, 20, 0, 0, 4, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 2, 4, 2, 2, 4, 4, 4, 4, 20, 20, 20, 0, 0, 0, 0, 6, 2, 2, 2, 2, 2, 2, 2, 4, 20, 20,
    20, 20, 4, 4, 4, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 2, 0, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 2, 2, 4, 4, 4, 4, 20, 20, 20, 4, 4, 2, 0, 0, 2, 2, 2, 2, 2,
    0, 2, 0, 20, 20, 20, 20, 4, 4, 4, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 2, 2, 2, 2, 2, 6,
    6, 6, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 5, 6, 6, 6, 20, 20, 6, 6, 6, 6, 6, 6,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6, 20, 6, 20, 6, 20, 5, 5, 5, 5,
    4, 4, 2, 2, 2, 18, 2, 2, 2, 2, 0, 2, 2, 2, 2, 18, 2, 2, 2, 2, 18, 2, 2, 2, 2, 18, 2, 2, 2,
    2, 18, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 18, 2, 2, 2, 0, 0, 0, 0, 20, 20, 20, 20, 20, 20,
    4, 20, 4, 20, 20, 20, 20, 4, 4, 20, 20, 20, 20, 20, 5, 20, 20, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4,
    4, 20, 4, 4, 4, 4, 0, 4, 4, 4, 4, 20, 4, 4, 4, 4, 20, 4, 4, 4, 4, 20, 4, 4, 4, 4, 20, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 20, 4, 4, 4, 0, 6, 6, 6, 6, 6, 6, 6, 6, 20, 6, 6, 6, 6, 6, 6,
    0, 6, 6, 5, 5, 5, 5, 5, 6, 6, 6, 6, 5, 5, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4,
    4, 4, 20, 4, 4, 4, 4, 4, 4, 4, 4, 20, 4, 20, 20, 4, 4, 4, 4, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 5, 5, 5, 5, 5, 5, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 2, 2, 2, 2, 4, 4, 4, 2, 4, 4, 4, 2, 2, 4,
    4, 4, 4, 4, 4, 4, 2, 2, 2, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 20, 2, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, 4, 4, 4, 6, 6, 2, 2, 2, 2, 2,
    2, 0, 2, 0, 0, 0, 0, 0, 2, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 5, 2, 2, 2, 2, 2, 18, 18,
    18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
    18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 0, 0, 2, 2, 2, 2, 2, 2, 2, 0, 2, 0, 2, 2, 2, 2,
    0, 0, 2, 0, 2, 2, 2, 2, 0, 0, 2, 2, 2, 2, 2, 2, 2, 0, 2, 0, 2, 2, 2, 2, 0, 0, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0,
    0, 20, 20, 20, 5, 5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 0, 0, 2,
    2, 2, 2, 2, 2, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 5, 2, 11, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 5, 5, 0, 0, 0, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 5, 5, 5, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 2, 2, 4, 4,
    20, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 4, 4, 20, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2,
    4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2,
    0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 20, 4, 5, 5, 5, 2, 5, 5, 5, 6, 2, 20,
    0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4, 4,
    4, 7, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 4, 4, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 20, 2, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 20, 20, 20, 0, 0, 0, 0, 6, 0, 0, 0, 5, 5, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 2, 2, 2, 2, 2, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 6, 6, 2, 2, 2, 2,
    2, 2, 2, 20, 20, 4, 4, 4, 0, 0, 5, 5, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 20, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 20, 20, 20, 20, 20, 20, 20, 20, 0,
    0, 20, 5, 5, 5, 5, 5, 5, 5, 2, 5, 5, 5, 5, 5, 5, 0, 0, 20, 20, 20, 20, 20, 20, 20, 20, 20,
    20, 20, 20, 20, 20, 4, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 0, 4,
    4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 20, 20, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 20, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 20, 20,
    20, 20, 20, 20, 20, 20, 20, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 0, 4, 4, 4, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 20, 20, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 20,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 20, 20, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 5, 5, 4, 4, 4, 4, 4,
    4, 4, 20, 0, 0, 0, 5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 5, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 2, 2, 2, 5, 5,
    5, 5, 5, 5, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 20, 20, 20, 5, 20, 20, 20, 20, 20, 20, 20, 20, 20,
    20, 20, 20, 20, 4, 20, 20, 20, 20, 20, 20, 20, 2, 2, 2, 2, 20, 2, 2, 2, 2, 2, 2, 20, 2, 2,
    4, 20, 20, 2, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 0, 2, 0, 2, 0, 2, 2, 18, 2, 18,
    2, 18, 2, 18, 2, 18, 2, 18, 2, 18, 0, 0, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 18, 2, 6, 18, 6,
    6, 6, 2, 2, 2, 0, 2, 2, 2, 18, 2, 18, 2, 6, 6, 6, 2, 2, 2, 18, 0, 0, 2, 2, 2, 2, 2, 18, 0,
    6, 6, 6, 2, 2, 2, 18, 2, 2, 2, 2, 2, 2, 2, 18, 2, 6, 22, 22, 0, 0, 2, 2, 2, 0, 2, 2, 2, 18,
    2, 18, 2, 22, 6, 0, 27, 27, 11, 11, 11, 11, 11, 11, 11, 11, 11, 7, 7, 7, 7, 7, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 11, 11, 7, 7, 7, 7, 7, 11, 5, 5,
    5, 5, 6, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 11,
    7, 7, 7, 7, 7, 0, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 6, 6, 6, 5, 5,
    2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6, 6, 6, 5, 5, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0,
    0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 20, 20, 20, 20, 20, 20, 20, 20,
    20, 20, 20, 20, 4, 4, 4, 4, 20, 4, 4, 4, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 6, 2, 6, 6, 6, 6, 2, 6, 6, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 6, 2, 6, 6, 6, 2, 2, 2, 2, 2, 6, 6, 6, 6, 6, 6, 2, 6, 18, 6, 2, 6, 18, 18, 2, 2, 6,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 6, 2, 2, 2, 2, 6, 6, 6, 6, 6, 2, 2, 2, 2, 2, 6, 6, 6, 6,
    2, 6, 1, 1, 1, 2, 2, 1, 1, 1, 1, 1, 6, 6, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 21, 21, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 1, 1, 1, 1, 1, 1, 6, 6, 6, 6, 6, 6, 6, 6, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 22, 6, 6, 6, 6, 6, 6, 6, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 2, 2, 2, 2, 2, 6, 6, 6, 6, 6, 6, 2, 2, 2, 2, 20, 20,
    20, 2, 2, 0, 0, 0, 0, 0, 5, 5, 5, 5, 1, 5, 5, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0,
    2, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 2, 6, 6, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 11, 5, 5, 5, 6, 2, 2, 1,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 20, 20, 20, 20, 20, 20, 5, 2, 2, 2, 2, 2, 6, 6, 1, 1, 1, 2, 2, 5, 6, 6, 2, 2, 2, 2,
    2, 2, 2, 0, 0, 20, 20, 6, 6, 2, 2, 2, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 6,
    1, 1, 1, 1, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1,
    6, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 5, 5,
    5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 20, 4, 4, 4, 5, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 20, 20, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 20, 20, 5, 5, 5, 5,
    5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 6, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 6, 2, 2, 2, 2, 2, 2, 2, 0, 2,
    0, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4,
    2, 2, 2, 20, 2, 2, 2, 2, 4, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 20, 0, 0, 0, 1,
    1, 1, 1, 1, 1, 6, 6, 6, 6, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 5, 5, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0,
    4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 20, 4, 0, 0, 0, 0, 0, 0, 0, 0,
    5, 5, 20, 20, 2, 2, 2, 2, 2, 2, 5, 5, 5, 2, 5, 2, 2, 4, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 20,
    20, 20, 5, 5, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 20, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 5, 2, 2, 2, 20, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 20, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 0, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 5, 5, 2, 2, 2, 2, 2, 4, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 4, 2,
    2, 2, 2, 2, 2, 2, 2, 4, 4, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 5, 5, 5, 5, 2, 2, 2, 2,
    2, 2, 2, 6, 6, 6, 2, 4, 4, 4, 2, 2, 20, 2, 20, 20, 20, 2, 2, 20, 20, 2, 2, 2, 2, 2, 20, 20,
    2, 20, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2,
    5, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 5, 5, 2, 2, 2, 4, 20, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 0, 0, 2, 2, 2, 2, 2, 2, 0, 0, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    6, 6, 0, 0, 0, 0, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 5, 4, 20, 0, 0, 2, 2, 2, 2, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 2, 2, 2, 18, 18, 18, 18, 18,
    18, 18, 18, 18, 18, 18, 18, 18, 18, 2, 2, 18, 2, 18, 2, 2, 18, 18, 18, 18, 18, 18, 18, 18,
    18, 18, 2, 18, 2, 18, 2, 2, 18, 18, 2, 2, 2, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
    18, 18, 18, 18, 18, 18, 18, 18, 0, 0, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 18, 20, 18, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 18, 18,
    18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 0, 18, 18, 18, 18, 18, 0, 18, 0, 18, 18, 0, 18,
    18, 0, 18, 18, 18, 18, 18, 18, 18, 18, 18, 2, 6, 6, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0,
    0, 6, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 6, 6, 6, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0,
    0, 0, 0, 5, 5, 5, 0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 5, 6, 6, 6, 0, 5, 6, 5, 5,
    0, 0, 0, 0, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 0, 0, 7, 0, 5, 5, 5, 6, 5, 5, 5, 5, 5, 5, 6, 5, 5, 5, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 5, 6, 5, 6, 5, 5, 5, 5, 5, 5, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 2, 2, 2, 2, 2, 2, 0,
    0, 2, 2, 2, 2, 2, 2, 0, 0, 2, 2, 2, 2, 2, 2, 0, 0, 2, 2, 2, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 0,
    6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 7, 7, 6, 6, 0, 0, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 0, 2, 5, 5, 5, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 1, 1, 6, 6, 6, 0, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 20, 0, 0, 20, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
    1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 2, 2, 1, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 20, 20, 20, 20, 20, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 0, 5, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 0, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 0, 0, 0, 2, 2, 2, 2, 2, 2, 0, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 0, 0,
    2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 0, 0, 0, 2, 0, 0, 2, 2, 2, 2, 2, 2, 2, 0,
    5, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 6, 6, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 0, 2, 2, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2,
    2, 1, 1, 1, 1, 1, 1, 0, 0, 0, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 5, 2, 2, 2, 2,
    2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 4,
    4, 0, 4, 4, 0, 0, 0, 0, 0, 4, 20, 4, 20, 2, 2, 2, 2, 0, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 0, 0, 20, 20, 20, 0, 0, 0, 0, 20, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    1, 1, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 6, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 20, 20, 0, 0, 0, 0, 1, 1, 1, 1, 1, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 0, 0, 0, 5, 5, 5, 5, 5, 5, 5, 2, 2, 2, 2, 2, 2, 0, 0, 1,
    1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0,
    0, 5, 5, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 20,
    20, 20, 20, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 0, 20, 20, 5, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 20, 20, 1, 1, 1, 1, 1, 1, 1, 2, 0, 0, 0, 0, 0, 0, 0,
    0, 2, 2, 2, 2, 2, 2, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 1, 1, 1, 1, 5, 5, 5, 5, 5,
    0, 0, 0, 0, 0, 0, 2, 2, 20, 20, 20, 20, 5, 5, 5, 5, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 1, 1,
    1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    20, 5, 5, 5, 5, 5, 5, 5, 0, 0, 20, 2, 2, 4, 4, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 20, 20, 5, 5, 7, 5, 5, 5, 5, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 20,
    20, 20, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 20, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 20, 20, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 5, 5, 5, 2, 4, 4, 2, 0, 0, 0, 0, 0,
    0, 0, 0, 2, 2, 2, 20, 5, 5, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 20, 2, 2, 2, 2, 5, 5, 5, 5, 4, 20, 4, 4, 5, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 2, 5, 2, 5, 5, 5, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 20,
    20, 4, 5, 5, 5, 5, 5, 5, 4, 2, 2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2,
    2, 2, 2, 0, 2, 0, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 5, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 20, 20, 0, 0, 0, 0, 0, 4, 4, 4, 4, 0, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 2,
    2, 0, 2, 2, 0, 2, 2, 2, 2, 2, 0, 20, 20, 2, 20, 4, 2, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 4, 4, 0, 0, 20, 20, 20, 20, 20, 20, 20, 0, 0, 0, 20, 20, 20, 20, 20, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 20, 4, 4, 4,
    20, 2, 2, 2, 2, 5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 5, 0, 5, 20, 2, 20, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 20, 4, 4, 20, 4, 4, 4, 4, 20, 20, 2, 2, 5, 2, 0, 0, 0, 0, 0, 0, 0, 0, 4,
    4, 4, 4, 4, 4, 0, 0, 4, 4, 4, 4, 4, 4, 4, 20, 20, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 5, 5, 5, 5, 5, 5, 5, 5, 2, 2, 2, 2, 4, 4, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 20, 4, 5, 5, 5, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    5, 0, 0, 0, 4, 4, 4, 4, 4, 4, 20, 20, 2, 5, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 20, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 5, 5, 5, 6, 4, 4, 4, 4, 4, 4, 4, 4, 4, 20, 20, 5, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 2, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 0,
    2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 20, 4, 4, 4, 4, 4, 0, 4, 4, 0, 0, 4, 4, 20, 20, 2, 4, 2, 4,
    20, 5, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 2, 2, 2, 2, 2, 2, 2,
    4, 4, 4, 4, 4, 4, 4, 0, 0, 4, 4, 4, 4, 4, 4, 20, 2, 5, 2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 4, 20, 4, 4, 4, 4, 4, 2, 4, 4,
    4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 20, 0, 0, 0, 0, 0, 0, 0, 0, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    20, 5, 5, 5, 2, 5, 5, 5, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4,
    0, 4, 4, 4, 4, 4, 4, 4, 20, 2, 5, 5, 5, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 0, 4, 4, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 0, 2, 2, 2, 2, 2, 2, 4, 4,
    4, 4, 4, 4, 0, 0, 0, 4, 0, 4, 4, 0, 4, 4, 4, 20, 4, 20, 20, 2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 2,
    2, 2, 2, 2, 2, 0, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 0,
    4, 4, 0, 4, 4, 4, 4, 20, 2, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 4, 4, 4, 4, 5, 5, 0, 0, 0, 0, 0,
    0, 0, 4, 4, 2, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 0, 0,
    0, 4, 4, 4, 20, 20, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 5, 5, 5, 5, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 2, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 2, 2, 2, 2, 2, 2, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 20, 20, 20, 20, 5,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 20, 20, 20, 20, 20, 20, 5, 5, 5, 5, 5, 6, 6, 6, 6, 2, 2,
    2, 2, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1,
    1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 2, 2, 2,
    1, 1, 1, 1, 1, 1, 1, 5, 5, 5, 5, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0,
    4, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0, 0,
    0, 4, 2, 2, 5, 2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 2, 2, 2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 0, 0,
    0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 6, 4, 20, 5, 7, 7, 7, 7, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 6, 6, 6, 6, 6, 6, 6,
    0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 22, 22, 22, 22, 22, 22,
    22, 20, 20, 20, 20, 20, 6, 6, 6, 20, 20, 20, 20, 20, 20, 7, 7, 7, 7, 7, 7, 7, 7, 20, 20, 20,
    20, 20, 20, 20, 20, 6, 6, 20, 20, 20, 20, 20, 20, 20, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 20, 20, 20, 20, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 22, 22, 22, 22, 22, 22, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 20, 20, 20, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1,
    1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 2, 2, 0, 0, 2, 2, 2, 2, 0, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 0, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2, 0, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 0, 2, 0, 0, 0, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 6, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 6, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 2, 2, 2, 2, 2, 2, 2,
    2, 0, 0, 1, 1, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6, 4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 4, 6, 6, 5, 5,
    5, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 0, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 20, 20, 20, 20, 20,
    20, 20, 0, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 0, 0, 20, 20,
    20, 20, 20, 20, 20, 0, 20, 20, 0, 20, 20, 20, 20, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 20, 20, 20, 20, 20, 20, 20, 20, 2, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, 6, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 20, 0, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 20, 20, 20, 20, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    6, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 0, 2, 2, 0, 2, 2, 2, 2, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 20, 20, 20, 20, 20, 20, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 20, 20, 20, 20, 20,
    20, 20, 2, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6, 1, 1, 1, 6, 1, 1, 1, 1, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 2, 0, 2, 0, 0, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2,
    2, 2, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 2, 0, 2, 0, 2, 2, 2, 0, 2, 2, 0,
    2, 0, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 0, 2, 2, 0, 2, 0, 0, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2,
    0, 2, 2, 2, 2, 0, 2, 2, 2, 2, 0, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 0, 2,
    2, 2, 0, 2, 2, 2, 2, 2, 0, 2, 2, 2, 2, 2, 6, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 0,
    0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 0, 0, 0,
    0, 0, 6, 6, 6, 6, 6, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0, 0,
};
static const uint32_t learn__ucp_ccc[581] = {
    0x0, 0x300e6, 0x315e8, 0x316dc, 0x31ae8, 0x31bd8, 0x31cdc, 0x321ca, 0x323dc, 0x327ca,
    0x329dc, 0x33401, 0x339dc, 0x33de6, 0x345f0, 0x346e6, 0x347dc, 0x34ae6, 0x34ddc, 0x34f00,
    0x350e6, 0x353dc, 0x357e6, 0x358e8, 0x359dc, 0x35be6, 0x35ce9, 0x35dea, 0x35fe9, 0x360ea,
    0x362e9, 0x363e6, 0x37000, 0x483e6, 0x48800, 0x591dc, 0x592e6, 0x596dc, 0x597e6, 0x59ade,
    0x59bdc, 0x59ce6, 0x5a2dc, 0x5a8e6, 0x5aadc, 0x5abe6, 0x5adde, 0x5aee4, 0x5afe6, 0x5b00a,
    0x5b10b, 0x5b20c, 0x5b30d, 0x5b40e, 0x5b50f, 0x5b610, 0x5b711, 0x5b812, 0x5b913, 0x5bb14,
    0x5bc15, 0x5bd16, 0x5be00, 0x5bf17, 0x5c000, 0x5c118, 0x5c219, 0x5c300, 0x5c4e6, 0x5c5dc,
    0x5c600, 0x5c712, 0x5c800, 0x610e6, 0x6181e, 0x6191f, 0x61a20, 0x61b00, 0x64b1b, 0x64c1c,
    0x64d1d, 0x64e1e, 0x64f1f, 0x65020, 0x65121, 0x65222, 0x653e6, 0x655dc, 0x657e6, 0x65cdc,
    0x65de6, 0x65fdc, 0x66000, 0x67023, 0x67100, 0x6d6e6, 0x6dd00, 0x6dfe6, 0x6e3dc, 0x6e4e6,
    0x6e500, 0x6e7e6, 0x6e900, 0x6eadc, 0x6ebe6, 0x6eddc, 0x6ee00, 0x71124, 0x71200, 0x730e6,
    0x731dc, 0x732e6, 0x734dc, 0x735e6, 0x737dc, 0x73ae6, 0x73bdc, 0x73de6, 0x73edc, 0x73fe6,
    0x742dc, 0x743e6, 0x744dc, 0x745e6, 0x746dc, 0x747e6, 0x748dc, 0x749e6, 0x74b00, 0x7ebe6,
    0x7f2dc, 0x7f3e6, 0x7f400, 0x7fddc, 0x7fe00, 0x816e6, 0x81a00, 0x81be6, 0x82400, 0x825e6,
    0x82800, 0x829e6, 0x82e00, 0x859dc, 0x85c00, 0x898e6, 0x899dc, 0x89ce6, 0x8a000, 0x8cae6,
    0x8cfdc, 0x8d4e6, 0x8e200, 0x8e3dc, 0x8e4e6, 0x8e6dc, 0x8e7e6, 0x8e9dc, 0x8eae6, 0x8eddc,
    0x8f01b, 0x8f11c, 0x8f21d, 0x8f3e6, 0x8f6dc, 0x8f7e6, 0x8f9dc, 0x8fbe6, 0x90000, 0x93c07,
    0x93d00, 0x94d09, 0x94e00, 0x951e6, 0x952dc, 0x953e6, 0x95500, 0x9bc07, 0x9bd00, 0x9cd09,
    0x9ce00, 0x9fee6, 0x9ff00, 0xa3c07, 0xa3d00, 0xa4d09, 0xa4e00, 0xabc07, 0xabd00, 0xacd09,
    0xace00, 0xb3c07, 0xb3d00, 0xb4d09, 0xb4e00, 0xbcd09, 0xbce00, 0xc3c07, 0xc3d00, 0xc4d09,
    0xc4e00, 0xc5554, 0xc565b, 0xc5700, 0xcbc07, 0xcbd00, 0xccd09, 0xcce00, 0xd3b09, 0xd3d00,
    0xd4d09, 0xd4e00, 0xdca09, 0xdcb00, 0xe3867, 0xe3a09, 0xe3b00, 0xe486b, 0xe4c00, 0xeb876,
    0xeba09, 0xebb00, 0xec87a, 0xecc00, 0xf18dc, 0xf1a00, 0xf35dc, 0xf3600, 0xf37dc, 0xf3800,
    0xf39d8, 0xf3a00, 0xf7181, 0xf7282, 0xf7300, 0xf7484, 0xf7500, 0xf7a82, 0xf7e00, 0xf8082,
    0xf8100, 0xf82e6, 0xf8409, 0xf8500, 0xf86e6, 0xf8800, 0xfc6dc, 0xfc700, 0x103707, 0x103800,
    0x103909, 0x103b00, 0x108ddc, 0x108e00, 0x135de6, 0x136000, 0x171409, 0x171600, 0x173409,
    0x173500, 0x17d209, 0x17d300, 0x17dde6, 0x17de00, 0x18a9e4, 0x18aa00, 0x1939de, 0x193ae6,
    0x193bdc, 0x193c00, 0x1a17e6, 0x1a18dc, 0x1a1900, 0x1a6009, 0x1a6100, 0x1a75e6, 0x1a7d00,
    0x1a7fdc, 0x1a8000, 0x1ab0e6, 0x1ab5dc, 0x1abbe6, 0x1abddc, 0x1abe00, 0x1abfdc, 0x1ac1e6,
    0x1ac3dc, 0x1ac5e6, 0x1acadc, 0x1acbe6, 0x1acf00, 0x1b3407, 0x1b3500, 0x1b4409, 0x1b4500,
    0x1b6be6, 0x1b6cdc, 0x1b6de6, 0x1b7400, 0x1baa09, 0x1bac00, 0x1be607, 0x1be700, 0x1bf209,
    0x1bf400, 0x1c3707, 0x1c3800, 0x1cd0e6, 0x1cd300, 0x1cd401, 0x1cd5dc, 0x1cdae6, 0x1cdcdc,
    0x1ce0e6, 0x1ce100, 0x1ce201, 0x1ce900, 0x1ceddc, 0x1cee00, 0x1cf4e6, 0x1cf500, 0x1cf8e6,
    0x1cfa00, 0x1dc0e6, 0x1dc2dc, 0x1dc3e6, 0x1dcadc, 0x1dcbe6, 0x1dcdea, 0x1dced6, 0x1dcfdc,
    0x1dd0ca, 0x1dd1e6, 0x1df6e8, 0x1df7e4, 0x1df9dc, 0x1dfada, 0x1dfbe6, 0x1dfce9, 0x1dfddc,
    0x1dfee6, 0x1dffdc, 0x1e0000, 0x20d0e6, 0x20d201, 0x20d4e6, 0x20d801, 0x20dbe6, 0x20dd00,
    0x20e1e6, 0x20e200, 0x20e501, 0x20e7e6, 0x20e8dc, 0x20e9e6, 0x20ea01, 0x20ecdc, 0x20f0e6,
    0x20f100, 0x2cefe6, 0x2cf200, 0x2d7f09, 0x2d8000, 0x2de0e6, 0x2e0000, 0x302ada, 0x302be4,
    0x302ce8, 0x302dde, 0x302ee0, 0x303000, 0x309908, 0x309b00, 0xa66fe6, 0xa67000, 0xa674e6,
    0xa67e00, 0xa69ee6, 0xa6a000, 0xa6f0e6, 0xa6f200, 0xa80609, 0xa80700, 0xa82c09, 0xa82d00,
    0xa8c409, 0xa8c500, 0xa8e0e6, 0xa8f200, 0xa92bdc, 0xa92e00, 0xa95309, 0xa95400, 0xa9b307,
    0xa9b400, 0xa9c009, 0xa9c100, 0xaab0e6, 0xaab100, 0xaab2e6, 0xaab4dc, 0xaab500, 0xaab7e6,
    0xaab900, 0xaabee6, 0xaac000, 0xaac1e6, 0xaac200, 0xaaf609, 0xaaf700, 0xabed09, 0xabee00,
    0xfb1e1a, 0xfb1f00, 0xfe20e6, 0xfe27dc, 0xfe2ee6, 0xfe3000, 0x101fddc, 0x101fe00, 0x102e0dc,
    0x102e100, 0x10376e6, 0x1037b00, 0x10a0ddc, 0x10a0e00, 0x10a0fe6, 0x10a1000, 0x10a38e6,
    0x10a3901, 0x10a3adc, 0x10a3b00, 0x10a3f09, 0x10a4000, 0x10ae5e6, 0x10ae6dc, 0x10ae700,
    0x10d24e6, 0x10d2800, 0x10eabe6, 0x10ead00, 0x10efddc, 0x10f0000, 0x10f46dc, 0x10f48e6,
    0x10f4bdc, 0x10f4ce6, 0x10f4ddc, 0x10f5100, 0x10f82e6, 0x10f83dc, 0x10f84e6, 0x10f85dc,
    0x10f8600, 0x1104609, 0x1104700, 0x1107009, 0x1107100, 0x1107f09, 0x1108000, 0x110b909,
    0x110ba07, 0x110bb00, 0x11100e6, 0x1110300, 0x1113309, 0x1113500, 0x1117307, 0x1117400,
    0x111c009, 0x111c100, 0x111ca07, 0x111cb00, 0x1123509, 0x1123607, 0x1123700, 0x112e907,
    0x112ea09, 0x112eb00, 0x1133b07, 0x1133d00, 0x1134d09, 0x1134e00, 0x11366e6, 0x1136d00,
    0x11370e6, 0x1137500, 0x1144209, 0x1144300, 0x1144607, 0x1144700, 0x1145ee6, 0x1145f00,
    0x114c209, 0x114c307, 0x114c400, 0x115bf09, 0x115c007, 0x115c100, 0x1163f09, 0x1164000,
    0x116b609, 0x116b707, 0x116b800, 0x1172b09, 0x1172c00, 0x1183909, 0x1183a07, 0x1183b00,
    0x1193d09, 0x1193f00, 0x1194307, 0x1194400, 0x119e009, 0x119e100, 0x11a3409, 0x11a3500,
    0x11a4709, 0x11a4800, 0x11a9909, 0x11a9a00, 0x11c3f09, 0x11c4000, 0x11d4207, 0x11d4300,
    0x11d4409, 0x11d4600, 0x11d9709, 0x11d9800, 0x11f4109, 0x11f4300, 0x16af001, 0x16af500,
    0x16b30e6, 0x16b3700, 0x16ff006, 0x16ff200, 0x1bc9e01, 0x1bc9f00, 0x1d165d8, 0x1d16701,
    0x1d16a00, 0x1d16de2, 0x1d16ed8, 0x1d17300, 0x1d17bdc, 0x1d18300, 0x1d185e6, 0x1d18adc,
    0x1d18c00, 0x1d1aae6, 0x1d1ae00, 0x1d242e6, 0x1d24500, 0x1e000e6, 0x1e00700, 0x1e008e6,
    0x1e01900, 0x1e01be6, 0x1e02200, 0x1e023e6, 0x1e02500, 0x1e026e6, 0x1e02b00, 0x1e08fe6,
    0x1e09000, 0x1e130e6, 0x1e13700, 0x1e2aee6, 0x1e2af00, 0x1e2ece6, 0x1e2f000, 0x1e4ece8,
    0x1e4eedc, 0x1e4efe6, 0x1e4f000, 0x1e8d0dc, 0x1e8d700, 0x1e944e6, 0x1e94a07, 0x1e94b00,
};
static const uint64_t learn__ucp_decomp[2061] = {
    0x3000008200300u, 0x3040008200301u, 0x3080008200302u, 0x30c0008200303u, 0x3100008200308u,
    0x314000820030au, 0x31c0008600327u, 0x3200008a00300u, 0x3240008a00301u, 0x3280008a00302u,
    0x32c0008a00308u, 0x3300009200300u, 0x3340009200301u, 0x3380009200302u, 0x33c0009200308u,
    0x3440009c00303u, 0x3480009e00300u, 0x34c0009e00301u, 0x3500009e00302u, 0x3540009e00303u,
    0x3580009e00308u, 0x364000aa00300u, 0x368000aa00301u, 0x36c000aa00302u, 0x370000aa00308u,
    0x374000b200301u, 0x380000c200300u, 0x384000c200301u, 0x388000c200302u, 0x38c000c200303u,
    0x390000c200308u, 0x394000c20030au, 0x39c000c600327u, 0x3a0000ca00300u, 0x3a4000ca00301u,
    0x3a8000ca00302u, 0x3ac000ca00308u, 0x3b0000d200300u, 0x3b4000d200301u, 0x3b8000d200302u,
    0x3bc000d200308u, 0x3c4000dc00303u, 0x3c8000de00300u, 0x3cc000de00301u, 0x3d0000de00302u,
    0x3d4000de00303u, 0x3d8000de00308u, 0x3e4000ea00300u, 0x3e8000ea00301u, 0x3ec000ea00302u,
    0x3f0000ea00308u, 0x3f4000f200301u, 0x3fc000f200308u, 0x4000008200304u, 0x404000c200304u,
    0x4080008200306u, 0x40c000c200306u, 0x4100008200328u, 0x414000c200328u, 0x4180008600301u,
    0x41c000c600301u, 0x4200008600302u, 0x424000c600302u, 0x4280008600307u, 0x42c000c600307u,
    0x430000860030cu, 0x434000c60030cu, 0x438000880030cu, 0x43c000c80030cu, 0x4480008a00304u,
    0x44c000ca00304u, 0x4500008a00306u, 0x454000ca00306u, 0x4580008a00307u, 0x45c000ca00307u,
    0x4600008a00328u, 0x464000ca00328u, 0x4680008a0030cu, 0x46c000ca0030cu, 0x4700008e00302u,
    0x474000ce00302u, 0x4780008e00306u, 0x47c000ce00306u, 0x4800008e00307u, 0x484000ce00307u,
    0x4880008e00327u, 0x48c000ce00327u, 0x4900009000302u, 0x494000d000302u, 0x4a00009200303u,
    0x4a4000d200303u, 0x4a80009200304u, 0x4ac000d200304u, 0x4b00009200306u, 0x4b4000d200306u,
    0x4b80009200328u, 0x4bc000d200328u, 0x4c00009200307u, 0x4d00009400302u, 0x4d4000d400302u,
    0x4d80009600327u, 0x4dc000d600327u, 0x4e40009800301u, 0x4e8000d800301u, 0x4ec0009800327u,
    0x4f0000d800327u, 0x4f4000980030cu, 0x4f8000d80030cu, 0x50c0009c00301u, 0x510000dc00301u,
    0x5140009c00327u, 0x518000dc00327u, 0x51c0009c0030cu, 0x520000dc0030cu, 0x5300009e00304u,
    0x534000de00304u, 0x5380009e00306u, 0x53c000de00306u, 0x5400009e0030bu, 0x544000de0030bu,
    0x550000a400301u, 0x554000e400301u, 0x558000a400327u, 0x55c000e400327u, 0x560000a40030cu,
    0x564000e40030cu, 0x568000a600301u, 0x56c000e600301u, 0x570000a600302u, 0x574000e600302u,
    0x578000a600327u, 0x57c000e600327u, 0x580000a60030cu, 0x584000e60030cu, 0x588000a800327u,
    0x58c000e800327u, 0x590000a80030cu, 0x594000e80030cu, 0x5a0000aa00303u, 0x5a4000ea00303u,
    0x5a8000aa00304u, 0x5ac000ea00304u, 0x5b0000aa00306u, 0x5b4000ea00306u, 0x5b8000aa0030au,
    0x5bc000ea0030au, 0x5c0000aa0030bu, 0x5c4000ea0030bu, 0x5c8000aa00328u, 0x5cc000ea00328u,
    0x5d0000ae00302u, 0x5d4000ee00302u, 0x5d8000b200302u, 0x5dc000f200302u, 0x5e0000b200308u,
    0x5e4000b400301u, 0x5e8000f400301u, 0x5ec000b400307u, 0x5f0000f400307u, 0x5f4000b40030cu,
    0x5f8000f40030cu, 0x6800009e0031bu, 0x684000de0031bu, 0x6bc000aa0031bu, 0x6c0000ea0031bu,
    0x734000820030cu, 0x738000c20030cu, 0x73c000920030cu, 0x740000d20030cu, 0x7440009e0030cu,
    0x748000de0030cu, 0x74c000aa0030cu, 0x750000ea0030cu, 0x754001b800304u, 0x758001f800304u,
    0x75c001b800301u, 0x760001f800301u, 0x764001b80030cu, 0x768001f80030cu, 0x76c001b800300u,
    0x770001f800300u, 0x7780018800304u, 0x77c001c800304u, 0x7800044c00304u, 0x7840044e00304u,
    0x7880018c00304u, 0x78c001cc00304u, 0x7980008e0030cu, 0x79c000ce0030cu, 0x7a0000960030cu,
    0x7a4000d60030cu, 0x7a80009e00328u, 0x7ac000de00328u, 0x7b0003d400304u, 0x7b4003d600304u,
    0x7b80036e0030cu, 0x7bc005240030cu, 0x7c0000d40030cu, 0x7d00008e00301u, 0x7d4000ce00301u,
    0x7e00009c00300u, 0x7e4000dc00300u, 0x7e80018a00301u, 0x7ec001ca00301u, 0x7f00018c00301u,
    0x7f4001cc00301u, 0x7f8001b000301u, 0x7fc001f000301u, 0x800000820030fu, 0x804000c20030fu,
    0x8080008200311u, 0x80c000c200311u, 0x8100008a0030fu, 0x814000ca0030fu, 0x8180008a00311u,
    0x81c000ca00311u, 0x820000920030fu, 0x824000d20030fu, 0x8280009200311u, 0x82c000d200311u,
    0x8300009e0030fu, 0x834000de0030fu, 0x8380009e00311u, 0x83c000de00311u, 0x840000a40030fu,
    0x844000e40030fu, 0x848000a400311u, 0x84c000e400311u, 0x850000aa0030fu, 0x854000ea0030fu,
    0x858000aa00311u, 0x85c000ea00311u, 0x860000a600326u, 0x864000e600326u, 0x868000a800326u,
    0x86c000e800326u, 0x878000900030cu, 0x87c000d00030cu, 0x8980008200307u, 0x89c000c200307u,
    0x8a00008a00327u, 0x8a4000ca00327u, 0x8a8001ac00304u, 0x8ac001ec00304u, 0x8b0001aa00304u,
    0x8b4001ea00304u, 0x8b80009e00307u, 0x8bc000de00307u, 0x8c00045c00304u, 0x8c40045e00304u,
    0x8c8000b200304u, 0x8cc000f200304u, 0x800d000060000000u, 0x800d040060200000u,
    0x800d0c0062600000u, 0x800d100061000301u, 0x800dd00057200000u, 0x800df80007600000u,
    0xe140015000301u, 0xe180072200301u, 0x800e1c0016e00000u, 0xe200072a00301u, 0xe240072e00301u,
    0xe280073200301u, 0xe300073e00301u, 0xe380074a00301u, 0xe3c0075200301u, 0xe400079400301u,
    0xea80073200308u, 0xeac0074a00308u, 0xeb00076200301u, 0xeb40076a00301u, 0xeb80076e00301u,
    0xebc0077200301u, 0xec00079600301u, 0xf280077200308u, 0xf2c0078a00308u, 0xf300077e00301u,
    0xf340078a00301u, 0xf380079200301u, 0xf4c007a400301u, 0xf50007a400308u, 0x10000082a00300u,
    0x10040082a00308u, 0x100c0082600301u, 0x101c0080c00308u, 0x10300083400301u,
    0x10340083000300u, 0x10380084600306u, 0x10640083000306u, 0x10e40087000306u,
    0x11400086a00300u, 0x11440086a00308u, 0x114c0086600301u, 0x115c008ac00308u,
    0x11700087400301u, 0x11740087000300u, 0x11780088600306u, 0x11d8008e80030fu,
    0x11dc008ea0030fu, 0x13040082c00306u, 0x13080086c00306u, 0x13400082000306u,
    0x13440086000306u, 0x13480082000308u, 0x134c0086000308u, 0x13580082a00306u,
    0x135c0086a00306u, 0x1368009b000308u, 0x136c009b200308u, 0x13700082c00308u,
    0x13740086c00308u, 0x13780082e00308u, 0x137c0086e00308u, 0x13880083000304u,
    0x138c0087000304u, 0x13900083000308u, 0x13940087000308u, 0x13980083c00308u,
    0x139c0087c00308u, 0x13a8009d000308u, 0x13ac009d200308u, 0x13b00085a00308u,
    0x13b40089a00308u, 0x13b80084600304u, 0x13bc0088600304u, 0x13c00084600308u,
    0x13c40088600308u, 0x13c8008460030bu, 0x13cc008860030bu, 0x13d00084e00308u,
    0x13d40088e00308u, 0x13e00085600308u, 0x13e40089600308u, 0x188800c4e00653u,
    0x188c00c4e00654u, 0x189000c9000654u, 0x189400c4e00655u, 0x189800c9400654u,
    0x1b0000daa00654u, 0x1b0800d8200654u, 0x1b4c00da400654u, 0x24a4012500093cu,
    0x24c4012600093cu, 0x24d0012660093cu, 0x8025600122a0093cu, 0x8025640122c0093cu,
    0x8025680122e0093cu, 0x80256c012380093cu, 0x802570012420093cu, 0x802574012440093cu,
    0x802578012560093cu, 0x80257c0125e0093cu, 0x272c0138e009beu, 0x27300138e009d7u,
    0x80277001342009bcu, 0x80277401344009bcu, 0x80277c0135e009bcu, 0x8028cc0146400a3cu,
    0x8028d80147000a3cu, 0x8029640142c00a3cu, 0x8029680142e00a3cu, 0x80296c0143800a3cu,
    0x8029780145600a3cu, 0x2d200168e00b56u, 0x2d2c0168e00b3eu, 0x2d300168e00b57u,
    0x802d700164200b3cu, 0x802d740164400b3cu, 0x2e500172400bd7u, 0x2f280178c00bbeu,
    0x2f2c0178e00bbeu, 0x2f300178c00bd7u, 0x31200188c00c56u, 0x33000197e00cd5u,
    0x331c0198c00cd5u, 0x33200198c00cd6u, 0x33280198c00cc2u, 0x332c0199400cd5u,
    0x352801a8c00d3eu, 0x352c01a8e00d3eu, 0x353001a8c00d57u, 0x376801bb200dcau,
    0x377001bb200dcfu, 0x377401bb800dcau, 0x377801bb200ddfu, 0x803d0c01e8400fb7u,
    0x803d3401e9800fb7u, 0x803d4801ea200fb7u, 0x803d5c01eac00fb7u, 0x803d7001eb600fb7u,
    0x803da401e8000fb5u, 0x803dcc01ee200f72u, 0x803dd401ee200f74u, 0x803dd801f6400f80u,
    0x803de001f6600f80u, 0x803e0401ee200f80u, 0x803e4c01f2400fb7u, 0x803e7401f3800fb7u,
    0x803e8801f4200fb7u, 0x803e9c01f4c00fb7u, 0x803eb001f5600fb7u, 0x803ee401f2000fb5u,
    0x40980204a0102eu, 0x6c180360a01b35u, 0x6c200360e01b35u, 0x6c280361201b35u,
    0x6c300361601b35u, 0x6c380361a01b35u, 0x6c480362201b35u, 0x6cec0367401b35u,
    0x6cf40367801b35u, 0x6d000367c01b35u, 0x6d040367e01b35u, 0x6d0c0368401b35u,
    0x78000008200325u, 0x7804000c200325u, 0x78080008400307u, 0x780c000c400307u,
    0x78100008400323u, 0x7814000c400323u, 0x78180008400331u, 0x781c000c400331u,
    0x78200018e00301u, 0x7824001ce00301u, 0x78280008800307u, 0x782c000c800307u,
    0x78300008800323u, 0x7834000c800323u, 0x78380008800331u, 0x783c000c800331u,
    0x78400008800327u, 0x7844000c800327u, 0x7848000880032du, 0x784c000c80032du,
    0x78500022400300u, 0x78540022600300u, 0x78580022400301u, 0x785c0022600301u,
    0x78600008a0032du, 0x7864000ca0032du, 0x78680008a00330u, 0x786c000ca00330u,
    0x78700045000306u, 0x78740045200306u, 0x78780008c00307u, 0x787c000cc00307u,
    0x78800008e00304u, 0x7884000ce00304u, 0x78880009000307u, 0x788c000d000307u,
    0x78900009000323u, 0x7894000d000323u, 0x78980009000308u, 0x789c000d000308u,
    0x78a00009000327u, 0x78a4000d000327u, 0x78a8000900032eu, 0x78ac000d00032eu,
    0x78b00009200330u, 0x78b4000d200330u, 0x78b80019e00301u, 0x78bc001de00301u,
    0x78c00009600301u, 0x78c4000d600301u, 0x78c80009600323u, 0x78cc000d600323u,
    0x78d00009600331u, 0x78d4000d600331u, 0x78d80009800323u, 0x78dc000d800323u,
    0x78e003c6c00304u, 0x78e403c6e00304u, 0x78e80009800331u, 0x78ec000d800331u,
    0x78f0000980032du, 0x78f4000d80032du, 0x78f80009a00301u, 0x78fc000da00301u,
    0x79000009a00307u, 0x7904000da00307u, 0x79080009a00323u, 0x790c000da00323u,
    0x79100009c00307u, 0x7914000dc00307u, 0x79180009c00323u, 0x791c000dc00323u,
    0x79200009c00331u, 0x7924000dc00331u, 0x79280009c0032du, 0x792c000dc0032du,
    0x7930001aa00301u, 0x7934001ea00301u, 0x7938001aa00308u, 0x793c001ea00308u,
    0x79400029800300u, 0x79440029a00300u, 0x79480029800301u, 0x794c0029a00301u,
    0x7950000a000301u, 0x7954000e000301u, 0x7958000a000307u, 0x795c000e000307u,
    0x7960000a400307u, 0x7964000e400307u, 0x7968000a400323u, 0x796c000e400323u,
    0x797003cb400304u, 0x797403cb600304u, 0x7978000a400331u, 0x797c000e400331u,
    0x7980000a600307u, 0x7984000e600307u, 0x7988000a600323u, 0x798c000e600323u,
    0x7990002b400307u, 0x7994002b600307u, 0x7998002c000307u, 0x799c002c200307u,
    0x79a003cc400307u, 0x79a403cc600307u, 0x79a8000a800307u, 0x79ac000e800307u,
    0x79b0000a800323u, 0x79b4000e800323u, 0x79b8000a800331u, 0x79bc000e800331u,
    0x79c0000a80032du, 0x79c4000e80032du, 0x79c8000aa00324u, 0x79cc000ea00324u,
    0x79d0000aa00330u, 0x79d4000ea00330u, 0x79d8000aa0032du, 0x79dc000ea0032du,
    0x79e0002d000301u, 0x79e4002d200301u, 0x79e8002d400308u, 0x79ec002d600308u,
    0x79f0000ac00303u, 0x79f4000ec00303u, 0x79f8000ac00323u, 0x79fc000ec00323u,
    0x7a00000ae00300u, 0x7a04000ee00300u, 0x7a08000ae00301u, 0x7a0c000ee00301u,
    0x7a10000ae00308u, 0x7a14000ee00308u, 0x7a18000ae00307u, 0x7a1c000ee00307u,
    0x7a20000ae00323u, 0x7a24000ee00323u, 0x7a28000b000307u, 0x7a2c000f000307u,
    0x7a30000b000308u, 0x7a34000f000308u, 0x7a38000b200307u, 0x7a3c000f200307u,
    0x7a40000b400302u, 0x7a44000f400302u, 0x7a48000b400323u, 0x7a4c000f400323u,
    0x7a50000b400331u, 0x7a54000f400331u, 0x7a58000d000331u, 0x7a5c000e800308u,
    0x7a60000ee0030au, 0x7a64000f20030au, 0x7a6c002fe00307u, 0x7a800008200323u,
    0x7a84000c200323u, 0x7a880008200309u, 0x7a8c000c200309u, 0x7a900018400301u,
    0x7a94001c400301u, 0x7a980018400300u, 0x7a9c001c400300u, 0x7aa00018400309u,
    0x7aa4001c400309u, 0x7aa80018400303u, 0x7aac001c400303u, 0x7ab003d4000302u,
    0x7ab403d4200302u, 0x7ab80020400301u, 0x7abc0020600301u, 0x7ac00020400300u,
    0x7ac40020600300u, 0x7ac80020400309u, 0x7acc0020600309u, 0x7ad00020400303u,
    0x7ad40020600303u, 0x7ad803d4000306u, 0x7adc03d4200306u, 0x7ae00008a00323u,
    0x7ae4000ca00323u, 0x7ae80008a00309u, 0x7aec000ca00309u, 0x7af00008a00303u,
    0x7af4000ca00303u, 0x7af80019400301u, 0x7afc001d400301u, 0x7b000019400300u,
    0x7b04001d400300u, 0x7b080019400309u, 0x7b0c001d400309u, 0x7b100019400303u,
    0x7b14001d400303u, 0x7b1803d7000302u, 0x7b1c03d7200302u, 0x7b200009200309u,
    0x7b24000d200309u, 0x7b280009200323u, 0x7b2c000d200323u, 0x7b300009e00323u,
    0x7b34000de00323u, 0x7b380009e00309u, 0x7b3c000de00309u, 0x7b40001a800301u,
    0x7b44001e800301u, 0x7b48001a800300u, 0x7b4c001e800300u, 0x7b50001a800309u,
    0x7b54001e800309u, 0x7b58001a800303u, 0x7b5c001e800303u, 0x7b6003d9800302u,
    0x7b6403d9a00302u, 0x7b680034000301u, 0x7b6c0034200301u, 0x7b700034000300u,
    0x7b740034200300u, 0x7b780034000309u, 0x7b7c0034200309u, 0x7b800034000303u,
    0x7b840034200303u, 0x7b880034000323u, 0x7b8c0034200323u, 0x7b90000aa00323u,
    0x7b94000ea00323u, 0x7b98000aa00309u, 0x7b9c000ea00309u, 0x7ba00035e00301u,
    0x7ba40036000301u, 0x7ba80035e00300u, 0x7bac0036000300u, 0x7bb00035e00309u,
    0x7bb40036000309u, 0x7bb80035e00303u, 0x7bbc0036000303u, 0x7bc00035e00323u,
    0x7bc40036000323u, 0x7bc8000b200300u, 0x7bcc000f200300u, 0x7bd0000b200323u,
    0x7bd4000f200323u, 0x7bd8000b200309u, 0x7bdc000f200309u, 0x7be0000b200303u,
    0x7be4000f200303u, 0x7c000076200313u, 0x7c040076200314u, 0x7c0803e0000300u,
    0x7c0c03e0200300u, 0x7c1003e0000301u, 0x7c1403e0200301u, 0x7c1803e0000342u,
    0x7c1c03e0200342u, 0x7c200072200313u, 0x7c240072200314u, 0x7c2803e1000300u,
    0x7c2c03e1200300u, 0x7c3003e1000301u, 0x7c3403e1200301u, 0x7c3803e1000342u,
    0x7c3c03e1200342u, 0x7c400076a00313u, 0x7c440076a00314u, 0x7c4803e2000300u,
    0x7c4c03e2200300u, 0x7c5003e2000301u, 0x7c5403e2200301u, 0x7c600072a00313u,
    0x7c640072a00314u, 0x7c6803e3000300u, 0x7c6c03e3200300u, 0x7c7003e3000301u,
    0x7c7403e3200301u, 0x7c800076e00313u, 0x7c840076e00314u, 0x7c8803e4000300u,
    0x7c8c03e4200300u, 0x7c9003e4000301u, 0x7c9403e4200301u, 0x7c9803e4000342u,
    0x7c9c03e4200342u, 0x7ca00072e00313u, 0x7ca40072e00314u, 0x7ca803e5000300u,
    0x7cac03e5200300u, 0x7cb003e5000301u, 0x7cb403e5200301u, 0x7cb803e5000342u,
    0x7cbc03e5200342u, 0x7cc00077200313u, 0x7cc40077200314u, 0x7cc803e6000300u,
    0x7ccc03e6200300u, 0x7cd003e6000301u, 0x7cd403e6200301u, 0x7cd803e6000342u,
    0x7cdc03e6200342u, 0x7ce00073200313u, 0x7ce40073200314u, 0x7ce803e7000300u,
    0x7cec03e7200300u, 0x7cf003e7000301u, 0x7cf403e7200301u, 0x7cf803e7000342u,
    0x7cfc03e7200342u, 0x7d000077e00313u, 0x7d040077e00314u, 0x7d0803e8000300u,
    0x7d0c03e8200300u, 0x7d1003e8000301u, 0x7d1403e8200301u, 0x7d200073e00313u,
    0x7d240073e00314u, 0x7d2803e9000300u, 0x7d2c03e9200300u, 0x7d3003e9000301u,
    0x7d3403e9200301u, 0x7d400078a00313u, 0x7d440078a00314u, 0x7d4803ea000300u,
    0x7d4c03ea200300u, 0x7d5003ea000301u, 0x7d5403ea200301u, 0x7d5803ea000342u,
    0x7d5c03ea200342u, 0x7d640074a00314u, 0x7d6c03eb200300u, 0x7d7403eb200301u,
    0x7d7c03eb200342u, 0x7d800079200313u, 0x7d840079200314u, 0x7d8803ec000300u,
    0x7d8c03ec200300u, 0x7d9003ec000301u, 0x7d9403ec200301u, 0x7d9803ec000342u,
    0x7d9c03ec200342u, 0x7da00075200313u, 0x7da40075200314u, 0x7da803ed000300u,
    0x7dac03ed200300u, 0x7db003ed000301u, 0x7db403ed200301u, 0x7db803ed000342u,
    0x7dbc03ed200342u, 0x7dc00076200300u, 0x807dc40075800000u, 0x7dc80076a00300u,
    0x807dcc0075a00000u, 0x7dd00076e00300u, 0x807dd40075c00000u, 0x7dd80077200300u,
    0x807ddc0075e00000u, 0x7de00077e00300u, 0x807de40079800000u, 0x7de80078a00300u,
    0x807dec0079a00000u, 0x7df00079200300u, 0x807df40079c00000u, 0x7e0003e0000345u,
    0x7e0403e0200345u, 0x7e0803e0400345u, 0x7e0c03e0600345u, 0x7e1003e0800345u,
    0x7e1403e0a00345u, 0x7e1803e0c00345u, 0x7e1c03e0e00345u, 0x7e2003e1000345u,
    0x7e2403e1200345u, 0x7e2803e1400345u, 0x7e2c03e1600345u, 0x7e3003e1800345u,
    0x7e3403e1a00345u, 0x7e3803e1c00345u, 0x7e3c03e1e00345u, 0x7e4003e4000345u,
    0x7e4403e4200345u, 0x7e4803e4400345u, 0x7e4c03e4600345u, 0x7e5003e4800345u,
    0x7e5403e4a00345u, 0x7e5803e4c00345u, 0x7e5c03e4e00345u, 0x7e6003e5000345u,
    0x7e6403e5200345u, 0x7e6803e5400345u, 0x7e6c03e5600345u, 0x7e7003e5800345u,
    0x7e7403e5a00345u, 0x7e7803e5c00345u, 0x7e7c03e5e00345u, 0x7e8003ec000345u,
    0x7e8403ec200345u, 0x7e8803ec400345u, 0x7e8c03ec600345u, 0x7e9003ec800345u,
    0x7e9403eca00345u, 0x7e9803ecc00345u, 0x7e9c03ece00345u, 0x7ea003ed000345u,
    0x7ea403ed200345u, 0x7ea803ed400345u, 0x7eac03ed600345u, 0x7eb003ed800345u,
    0x7eb403eda00345u, 0x7eb803edc00345u, 0x7ebc03ede00345u, 0x7ec00076200306u,
    0x7ec40076200304u, 0x7ec803ee000345u, 0x7ecc0076200345u, 0x7ed00075800345u,
    0x7ed80076200342u, 0x7edc03f6c00345u, 0x7ee00072200306u, 0x7ee40072200304u,
    0x7ee80072200300u, 0x807eec0070c00000u, 0x7ef00072200345u, 0x807ef80077200000u,
    0x7f040015000342u, 0x7f0803ee800345u, 0x7f0c0076e00345u, 0x7f100075c00345u,
    0x7f180076e00342u, 0x7f1c03f8c00345u, 0x7f200072a00300u, 0x807f240071000000u,
    0x7f280072e00300u, 0x807f2c0071200000u, 0x7f300072e00345u, 0x7f3403f7e00300u,
    0x7f3803f7e00301u, 0x7f3c03f7e00342u, 0x7f400077200306u, 0x7f440077200304u,
    0x7f480079400300u, 0x807f4c0072000000u, 0x7f580077200342u, 0x7f5c0079400342u,
    0x7f600073200306u, 0x7f640073200304u, 0x7f680073200300u, 0x807f6c0071400000u,
    0x7f7403ffc00300u, 0x7f7803ffc00301u, 0x7f7c03ffc00342u, 0x7f800078a00306u,
    0x7f840078a00304u, 0x7f880079600300u, 0x807f8c0076000000u, 0x7f900078200313u,
    0x7f940078200314u, 0x7f980078a00342u, 0x7f9c0079600342u, 0x7fa00074a00306u,
    0x7fa40074a00304u, 0x7fa80074a00300u, 0x807fac0071c00000u, 0x7fb00074200314u,
    0x7fb40015000300u, 0x807fb80070a00000u, 0x807fbc000c000000u, 0x7fc803ef800345u,
    0x7fcc0079200345u, 0x7fd00079c00345u, 0x7fd80079200342u, 0x7fdc03fec00345u,
    0x7fe00073e00300u, 0x807fe40071800000u, 0x7fe80075200300u, 0x807fec0071e00000u,
    0x7ff00075200345u, 0x807ff40016800000u, 0x8080000400400000u, 0x8080040400600000u,
    0x8084980075200000u, 0x8084a80009600000u, 0x8084ac0018a00000u, 0x86680432000338u,
    0x866c0432400338u, 0x86b80432800338u, 0x8734043a000338u, 0x8738043a800338u,
    0x873c043a400338u, 0x88100440600338u, 0x88240441000338u, 0x88300441600338u,
    0x88900444600338u, 0x88980444a00338u, 0x89040447800338u, 0x89100448600338u,
    0x891c0448a00338u, 0x89240449000338u, 0x89800007a00338u, 0x8988044c200338u,
    0x89b40449a00338u, 0x89b80007800338u, 0x89bc0007c00338u, 0x89c0044c800338u,
    0x89c4044ca00338u, 0x89d0044e400338u, 0x89d4044e600338u, 0x89e0044ec00338u,
    0x89e4044ee00338u, 0x8a00044f400338u, 0x8a04044f600338u, 0x8a100450400338u,
    0x8a140450600338u, 0x8a200450c00338u, 0x8a240450e00338u, 0x8ab00454400338u,
    0x8ab40455000338u, 0x8ab80455200338u, 0x8abc0455600338u, 0x8b80044f800338u,
    0x8b84044fa00338u, 0x8b880452200338u, 0x8b8c0452400338u, 0x8ba80456400338u,
    0x8bac0456600338u, 0x8bb00456800338u, 0x8bb40456a00338u, 0x808ca40601000000u,
    0x808ca80601200000u, 0x80ab70055ba00338u, 0xc1300609603099u, 0xc1380609a03099u,
    0xc1400609e03099u, 0xc148060a203099u, 0xc150060a603099u, 0xc158060aa03099u,
    0xc160060ae03099u, 0xc168060b203099u, 0xc170060b603099u, 0xc178060ba03099u,
    0xc180060be03099u, 0xc188060c203099u, 0xc194060c803099u, 0xc19c060cc03099u,
    0xc1a4060d003099u, 0xc1c0060de03099u, 0xc1c4060de0309au, 0xc1cc060e403099u,
    0xc1d0060e40309au, 0xc1d8060ea03099u, 0xc1dc060ea0309au, 0xc1e4060f003099u,
    0xc1e8060f00309au, 0xc1f0060f603099u, 0xc1f4060f60309au, 0xc2500608c03099u,
    0xc2780613a03099u, 0xc2b00615603099u, 0xc2b80615a03099u, 0xc2c00615e03099u,
    0xc2c80616203099u, 0xc2d00616603099u, 0xc2d80616a03099u, 0xc2e00616e03099u,
    0xc2e80617203099u, 0xc2f00617603099u, 0xc2f80617a03099u, 0xc3000617e03099u,
    0xc3080618203099u, 0xc3140618803099u, 0xc31c0618c03099u, 0xc3240619003099u,
    0xc3400619e03099u, 0xc3440619e0309au, 0xc34c061a403099u, 0xc350061a40309au,
    0xc358061aa03099u, 0xc35c061aa0309au, 0xc364061b003099u, 0xc368061b00309au,
    0xc370061b603099u, 0xc374061b60309au, 0xc3d00614c03099u, 0xc3dc061de03099u,
    0xc3e0061e003099u, 0xc3e4061e203099u, 0xc3e8061e403099u, 0xc3f8061fa03099u,
    0x83e4001189000000u, 0x83e4040cde800000u, 0x83e40811d9400000u, 0x83e40c1199000000u,
    0x83e4100dda200000u, 0x83e41409c6400000u, 0x83e4180a7ca00000u, 0x83e41c13f3800000u,
    0x83e42013f3800000u, 0x83e4240b2a200000u, 0x83e428123a200000u, 0x83e42c0ab0e00000u,
    0x83e4300b29000000u, 0x83e4340c3ec00000u, 0x83e4380ecd200000u, 0x83e43c0ff0a00000u,
    0x83e44010c7e00000u, 0x83e44410f7400000u, 0x83e448111f000000u, 0x83e44c1211e00000u,
    0x83e4500d40400000u, 0x83e4540da3600000u, 0x83e4580e1b200000u, 0x83e45c0e7bc00000u,
    0x83e4601087a00000u, 0x83e464122d400000u, 0x83e468133e200000u, 0x83e46c09d0400000u,
    0x83e4700a6ea00000u, 0x83e4740d60800000u, 0x83e4780e43600000u, 0x83e47c10c5a00000u,
    0x83e48013c3c00000u, 0x83e4840baa000000u, 0x83e4880dfd600000u, 0x83e48c10b9a00000u,
    0x83e490112c800000u, 0x83e4940c59200000u, 0x83e498103b000000u, 0x83e49c1103e00000u,
    0x83e4a00bd9400000u, 0x83e4a40ce2e00000u, 0x83e4a80dad400000u, 0x83e4ac0e5f800000u,
    0x83e4b01219c00000u, 0x83e4b409f0c00000u, 0x83e4b80a36e00000u, 0x83e4bc0a5bc00000u,
    0x83e4c00c98800000u, 0x83e4c40d5a600000u, 0x83e4c80e42000000u, 0x83e4cc0edce00000u,
    0x83e4d01000200000u, 0x83e4d410c0c00000u, 0x83e4d810cb800000u, 0x83e4dc11bde00000u,
    0x83e4e012e6400000u, 0x83e4e4136de00000u, 0x83e4e813bf400000u, 0x83e4ec0f11800000u,
    0x83e4f00f2fe00000u, 0x83e4f40fb4000000u, 0x83e4f81079200000u, 0x83e4fc1260800000u,
    0x83e50013cfe00000u, 0x83e504115ac00000u, 0x83e5080b1be00000u, 0x83e50c0be0800000u,
    0x83e5100f8c000000u, 0x83e514100fc00000u, 0x83e5180e4c400000u, 0x83e51c0f19400000u,
    0x83e5201198400000u, 0x83e52412dee00000u, 0x83e5280b1b000000u, 0x83e52c0b8c400000u,
    0x83e5300d42600000u, 0x83e5340dbb400000u, 0x83e5380de1e00000u, 0x83e53c0fa5e00000u,
    0x83e5400fc6e00000u, 0x83e54412c9600000u, 0x83e5480a5a400000u, 0x83e54c1011600000u,
    0x83e5500a3b800000u, 0x83e5540a39800000u, 0x83e5580f43800000u, 0x83e55c0fb7c00000u,
    0x83e560107e200000u, 0x83e56412cea00000u, 0x83e5681170000000u, 0x83e56c0c59e00000u,
    0x83e5700d40400000u, 0x83e574115fc00000u, 0x83e57809c7200000u, 0x83e57c0b7ce00000u,
    0x83e5800c02400000u, 0x83e5840e70e00000u, 0x83e5880eae000000u, 0x83e58c0a62e00000u,
    0x83e5900f1f600000u, 0x83e59409f7e00000u, 0x83e5980bf5200000u, 0x83e59c09c1a00000u,
    0x83e5a00d99800000u, 0x83e5a40caf000000u, 0x83e5a80fa4400000u, 0x83e5ac0a78600000u,
    0x83e5b00b0bc00000u, 0x83e5b40ee0200000u, 0x83e5b81089200000u, 0x83e5bc1155400000u,
    0x83e5c00d77400000u, 0x83e5c411f6000000u, 0x83e5c80d91000000u, 0x83e5cc0c5fc00000u,
    0x83e5d0105ca00000u, 0x83e5d40c74000000u, 0x83e5d80eaca00000u, 0x83e5dc09d5c00000u,
    0x83e5e00a2d200000u, 0x83e5e40a39200000u, 0x83e5e80d10200000u, 0x83e5ec0f9ce00000u,
    0x83e5f0104de00000u, 0x83e5f4115a400000u, 0x83e5f81239e00000u, 0x83e5fc0a5ea00000u,
    0x83e6000a88400000u, 0x83e6040b2e600000u, 0x83e6080bdd800000u, 0x83e60c0cb8a00000u,
    0x83e6100dffc00000u, 0x83e6140f25400000u, 0x83e61812b5a00000u, 0x83e61c134d400000u,
    0x83e62013d2e00000u, 0x83e62413d9c00000u, 0x83e6280a53600000u, 0x83e62c0cd8c00000u,
    0x83e6300d6ee00000u, 0x83e63411ec400000u, 0x83e6380bce800000u, 0x83e63c0c32000000u,
    0x83e6400c40000000u, 0x83e6440c93400000u, 0x83e6480de4600000u, 0x83e64c0e29200000u,
    0x83e6500e91200000u, 0x83e6540f39400000u, 0x83e6580fbe800000u, 0x83e65c100de00000u,
    0x83e66011e4c00000u, 0x83e664109dc00000u, 0x83e6681204600000u, 0x83e66c1269400000u,
    0x83e6700a42e00000u, 0x83e6740a54600000u, 0x83e6780a97a00000u, 0x83e67c0e19000000u,
    0x83e6801118400000u, 0x83e6841155400000u, 0x83e6880bd9200000u, 0x83e68c0bfea00000u,
    0x83e6900c6f600000u, 0x83e6940d75c00000u, 0x83e6980f87c00000u, 0x83e69c0e6ea00000u,
    0x83e6a009dc800000u, 0x83e6a40adf200000u, 0x83e6a80b7ce00000u, 0x83e6ac0bb7400000u,
    0x83e6b00c03800000u, 0x83e6b40e76400000u, 0x83e6b80e8d200000u, 0x83e6bc0ff3400000u,
    0x83e6c01008c00000u, 0x83e6c41246800000u, 0x83e6c812dec00000u, 0x83e6cc12e9000000u,
    0x83e6d01303000000u, 0x83e6d409f1600000u, 0x83e6d80f35c00000u, 0x83e6dc1236800000u,
    0x83e6e012d7000000u, 0x83e6e40c1c200000u, 0x83e6e809d0c00000u, 0x83e6ec0a1b400000u,
    0x83e6f00b7dc00000u, 0x83e6f40b87e00000u, 0x83e6f80cb3200000u, 0x83e6fc0d40400000u,
    0x83e7000e39c00000u, 0x83e7040ec8400000u, 0x83e708109f800000u, 0x83e70c120f800000u,
    0x83e71013f1a00000u, 0x83e7140cd1000000u, 0x83e71812c5c00000u, 0x83e71c0a51200000u,
    0x83e7200cef600000u, 0x83e7240cfe600000u, 0x83e7280da8200000u, 0x83e72c0dd3800000u,
    0x83e7300e81200000u, 0x83e7340eab200000u, 0x83e7380f0d600000u, 0x83e73c0fa2000000u,
    0x83e740130bc00000u, 0x83e7440a2da00000u, 0x83e7480c45c00000u, 0x83e74c12cf000000u,
    0x83e7500a05600000u, 0x83e7540ba3200000u, 0x83e7580dbd400000u, 0x83e75c11e5400000u,
    0x83e7600bf1600000u, 0x83e7640c28800000u, 0x83e7680d02e00000u, 0x83e76c0e70e00000u,
    0x83e77012d0c00000u, 0x83e7740a45200000u, 0x83e7780a81e00000u, 0x83e77c0b8ca00000u,
    0x83e7800cc2600000u, 0x83e7840ce9c00000u, 0x83e7880d15000000u, 0x83e78c0d9ca00000u,
    0x83e7900e80c00000u, 0x83e7940ebc400000u, 0x83e7980fef200000u, 0x83e79c1119e00000u,
    0x83e7a0111c200000u, 0x83e7a41239800000u, 0x83e7a812dc400000u, 0x83e7ac0a67e00000u,
    0x83e7b00dd7400000u, 0x83e7b40a83a00000u, 0x83e7b80e3a000000u, 0x83e7bc0e93000000u,
    0x83e7c010bf400000u, 0x83e7c412d4600000u, 0x83e7c8138ae00000u, 0x83e7cc13d3e00000u,
    0x83e7d00cf2e00000u, 0x83e7d40db9600000u, 0x83e7d8103d000000u, 0x83e7dc0f59600000u,
    0x83e7e00f64000000u, 0x83e7e40f92400000u, 0x83e7e80e58000000u, 0x83e7ec0e13200000u,
    0x83e7f0116b000000u, 0x83e7f409d8000000u, 0x83e7f81066c00000u, 0x83e7fc0a47400000u,
    0x83e8000a40e00000u, 0x83e8040bd4c00000u, 0x83e8080c5a600000u, 0x83e80c0f9ac00000u,
    0x83e8100b70a00000u, 0x83e8140da3c00000u, 0x83e8180cd6800000u, 0x83e81c11e7600000u,
    0x83e8201109800000u, 0x83e82412c9a00000u, 0x83e8281131600000u, 0x83e82c0bda600000u,
    0x83e8300a28000000u, 0x83e8340ab8000000u, 0x83e8400b0b400000u, 0x83e8480cce800000u,
    0x83e8540a3bc00000u, 0x83e8580e65400000u, 0x83e85c0ed9400000u, 0x83e8600f27800000u,
    0x83e8640f2bc00000u, 0x83e8680f2ca00000u, 0x83e86c0f31e00000u, 0x83e87012eac00000u,
    0x83e8740f97c00000u, 0x83e8780ff7a00000u, 0x83e88010c2400000u, 0x83e888115f000000u,
    0x83e8941207000000u, 0x83e898121fa00000u, 0x83e8a8131de00000u, 0x83e8ac131f800000u,
    0x83e8b01325000000u, 0x83e8b413b6800000u, 0x83e8b8121bc00000u, 0x83e8bc12d6e00000u,
    0x83e8c009f5c00000u, 0x83e8c40a1ce00000u, 0x83e8c80a29a00000u, 0x83e8cc0a59200000u,
    0x83e8d00a5c800000u, 0x83e8d40a6a200000u, 0x83e8d80ab3a00000u, 0x83e8dc0ac0c00000u,
    0x83e8e00acd000000u, 0x83e8e40b08000000u, 0x83e8e80b15000000u, 0x83e8ec0b8c800000u,
    0x83e8f00b8dc00000u, 0x83e8f40c12800000u, 0x83e8f80c2d000000u, 0x83e8fc0c31c00000u,
    0x83e9000c3e400000u, 0x83e9040ca9e00000u, 0x83e9080cbc400000u, 0x83e90c0cd2200000u,
    0x83e9100d10a00000u, 0x83e9140daee00000u, 0x83e9180dc3400000u, 0x83e91c0de4400000u,
    0x83e9200e2dc00000u, 0x83e9240e45600000u, 0x83e9280e84400000u, 0x83e92c0f12200000u,
    0x83e9300f27c00000u, 0x83e9340f29200000u, 0x83e9380f29000000u, 0x83e93c0f2a000000u,
    0x83e9400f2ac00000u, 0x83e9440f2ba00000u, 0x83e9480f31a00000u, 0x83e94c0f31c00000u,
    0x83e9500f48000000u, 0x83e9540f50200000u, 0x83e9580f78000000u, 0x83e95c0fbe800000u,
    0x83e9600fc1200000u, 0x83e9640fc8200000u, 0x83e9680fee400000u, 0x83e96c1000a00000u,
    0x83e970103da00000u, 0x83e974104f200000u, 0x83e978104f200000u, 0x83e97c108ae00000u,
    0x83e9801122000000u, 0x83e9841132c00000u, 0x83e9881160200000u, 0x83e98c1167200000u,
    0x83e990119a600000u, 0x83e99411a1000000u, 0x83e99811f6c00000u, 0x83e99c1207000000u,
    0x83e9a012dc600000u, 0x83e9a412ffe00000u, 0x83e9a81307600000u, 0x83e9ac0c0ea00000u,
    0x83e9b0485dc00000u, 0x83e9b41043000000u, 0x83e9c009c4c00000u, 0x83e9c40a36a00000u,
    0x83e9c80a2d000000u, 0x83e9cc09f0000000u, 0x83e9d00a28a00000u, 0x83e9d40a30000000u,
    0x83e9d80a58e00000u, 0x83e9dc0a5f400000u, 0x83e9e00ab3a00000u, 0x83e9e40aaaa00000u,
    0x83e9e80ab3200000u, 0x83e9ec0abc400000u, 0x83e9f00b0b400000u, 0x83e9f40b16600000u,
    0x83e9f80b28800000u, 0x83e9fc0b2a800000u, 0x83ea000b4c400000u, 0x83ea040b65000000u,
    0x83ea080bda400000u, 0x83ea0c0bdb200000u, 0x83ea100bed200000u, 0x83ea140bf5a00000u,
    0x83ea180c1b000000u, 0x83ea1c0c29c00000u, 0x83ea200c21000000u, 0x83ea240c31c00000u,
    0x83ea280c2c000000u, 0x83ea2c0c3e400000u, 0x83ea300c46800000u, 0x83ea340c78800000u,
    0x83ea380c83800000u, 0x83ea3c0c8a400000u, 0x83ea400caac00000u, 0x83ea440cce800000u,
    0x83ea480ce2e00000u, 0x83ea4c0ce3600000u, 0x83ea500ceac00000u, 0x83ea540d6f200000u,
    0x83ea580d77400000u, 0x83ea5c0da8200000u, 0x83ea600ddb600000u, 0x83ea640dd9600000u,
    0x83ea680de4400000u, 0x83ea6c0e03c00000u, 0x83ea700e2dc00000u, 0x83ea740ef4e00000u,
    0x83ea780e46a00000u, 0x83ea7c0e55e00000u, 0x83ea800e65400000u, 0x83ea840e8e200000u,
    0x83ea880ea0c00000u, 0x83ea8c0ea7600000u, 0x83ea900ec3a00000u, 0x83ea940ec3e00000u,
    0x83ea980ed9400000u, 0x83ea9c0edb600000u, 0x83eaa00ede800000u, 0x83eaa40ee9400000u,
    0x83eaa80ee8000000u, 0x83eaac0f19800000u, 0x83eab00f56200000u, 0x83eab40f78000000u,
    0x83eab80f8f600000u, 0x83eabc0fab600000u, 0x83eac00fbe800000u, 0x83eac40fe7c00000u,
    0x83eac81000a00000u, 0x83eacc106a400000u, 0x83ead0107de00000u, 0x83ead410ef200000u,
    0x83ead81128200000u, 0x83eadc1130c00000u, 0x83eae01132c00000u, 0x83eae41157e00000u,
    0x83eae8115f000000u, 0x83eaec1159600000u, 0x83eaf01160200000u, 0x83eaf4115fc00000u,
    0x83eaf8115da00000u, 0x83eafc1167200000u, 0x83eb001171400000u, 0x83eb0411a1000000u,
    0x83eb0811e7000000u, 0x83eb0c120e400000u, 0x83eb101233200000u, 0x83eb14124ec00000u,
    0x83eb1812cf800000u, 0x83eb1c12dc600000u, 0x83eb2012eac00000u, 0x83eb2412fb600000u,
    0x83eb2812ffe00000u, 0x83eb2c1301600000u, 0x83eb301307600000u, 0x83eb341362400000u,
    0x83eb3813f3800000u, 0x83eb3c4509400000u, 0x83eb404508800000u, 0x83eb44467aa00000u,
    0x83eb480773a00000u, 0x83eb4c0803000000u, 0x83eb500807200000u, 0x83eb544a49200000u,
    0x83eb584b9a000000u, 0x83eb5c4fda600000u, 0x83eb6013e8600000u, 0x83eb6413f1c00000u,
    0x83ec7400bb2005b4u, 0x83ec7c00be4005b7u, 0x83eca800bd2005c1u, 0x83ecac00bd2005c2u,
    0x83ecb01f692005c1u, 0x83ecb41f692005c2u, 0x83ecb800ba0005b7u, 0x83ecbc00ba0005b8u,
    0x83ecc000ba0005bcu, 0x83ecc400ba2005bcu, 0x83ecc800ba4005bcu, 0x83eccc00ba6005bcu,
    0x83ecd000ba8005bcu, 0x83ecd400baa005bcu, 0x83ecd800bac005bcu, 0x83ece000bb0005bcu,
    0x83ece400bb2005bcu, 0x83ece800bb4005bcu, 0x83ecec00bb6005bcu, 0x83ecf000bb8005bcu,
    0x83ecf800bbc005bcu, 0x83ed0000bc0005bcu, 0x83ed0400bc2005bcu, 0x83ed0c00bc6005bcu,
    0x83ed1000bc8005bcu, 0x83ed1800bcc005bcu, 0x83ed1c00bce005bcu, 0x83ed2000bd0005bcu,
    0x83ed2400bd2005bcu, 0x83ed2800bd4005bcu, 0x83ed2c00baa005b9u, 0x83ed3000ba2005bfu,
    0x83ed3400bb6005bfu, 0x83ed3800bc8005bfu, 0x4426822132110bau, 0x4427022136110bau,
    0x442ac2214a110bau, 0x444b82226211127u, 0x444bc2226411127u, 0x44d2c2268e1133eu,
    0x44d302268e11357u, 0x452ec22972114bau, 0x452f022972114b0u, 0x452f822972114bdu,
    0x456e822b70115afu, 0x456ec22b72115afu, 0x464e02326a11930u, 0x8745783a2ae1d165u,
    0x87457c3a2b01d165u, 0x8745803a2be1d16eu, 0x8745843a2be1d16fu, 0x8745883a2be1d170u,
    0x87458c3a2be1d171u, 0x8745903a2be1d172u, 0x8746ec3a3721d165u, 0x8746f03a3741d165u,
    0x8746f43a3761d16eu, 0x8746f83a3781d16eu, 0x8746fc3a3761d16fu, 0x8747003a3781d16fu,
    0x8be00009c7a00000u, 0x8be00409c7000000u, 0x8be00809c8200000u, 0x8be00c4024400000u,
    0x8be01009ec000000u, 0x8be01409f5c00000u, 0x8be01809f7600000u, 0x8be01c0a00400000u,
    0x8be0200a0f400000u, 0x8be0240a13200000u, 0x8be0280a1ce00000u, 0x8be02c0a19e00000u,
    0x8be0300693c00000u, 0x8be03440c7400000u, 0x8be0380a29a00000u, 0x8be03c0a2a800000u,
    0x8be0400a2c800000u, 0x8be0440a2ee00000u, 0x8be04840a3800000u, 0x8be04c0697200000u,
    0x8be0500a2ce00000u, 0x8be0540a31a00000u, 0x8be05840a9600000u, 0x8be05c0a32e00000u,
    0x8be0600a34800000u, 0x8be06409d9800000u, 0x8be0680a35800000u, 0x8be06c0a36a00000u,
    0x8be070523be00000u, 0x8be0740a3ea00000u, 0x8be0780a40600000u, 0x8be07c069be00000u,
    0x8be0800a47600000u, 0x8be0840a48c00000u, 0x8be0880a4e400000u, 0x8be08c0a4ee00000u,
    0x8be09006a2a00000u, 0x8be0940a58e00000u, 0x8be0980a59200000u, 0x8be09c0a5c800000u,
    0x8be0a00a5f400000u, 0x8be0a40a60a00000u, 0x8be0a80a60c00000u, 0x8be0ac0a62e00000u,
    0x8be0b00a69200000u, 0x8be0b40a6a200000u, 0x8be0b80a6b400000u, 0x8be0bc0a6e600000u,
    0x8be0c00a6fa00000u, 0x8be0c40a6fe00000u, 0x8be0c80a6fe00000u, 0x8be0cc0a6fe00000u,
    0x8be0d04145800000u, 0x8be0d40e0e000000u, 0x8be0d80a79400000u, 0x8be0dc0a7be00000u,
    0x8be0e0416c600000u, 0x8be0e40a7d600000u, 0x8be0e80a7e200000u, 0x8be0ec0a80c00000u,
    0x8be0f00a93c00000u, 0x8be0f40a87000000u, 0x8be0f80a89000000u, 0x8be0fc0a8d000000u,
    0x8be1000a94400000u, 0x8be1040a9ec00000u, 0x8be1080aa2000000u, 0x8be10c0aaa600000u,
    0x8be1100aac600000u, 0x8be1140ab0800000u, 0x8be1180ab0800000u, 0x8be11c0ab3200000u,
    0x8be1200ab5600000u, 0x8be1240ab6600000u, 0x8be1280ab8400000u, 0x8be12c0ae2c00000u,
    0x8be1300ac0c00000u, 0x8be1340ae2e00000u, 0x8be1380aca200000u, 0x8be13c0ace800000u,
    0x8be1400a40e00000u, 0x8be1440b1dc00000u, 0x8be1480af9c00000u, 0x8be14c0afe800000u,
    0x8be1500b01a00000u, 0x8be1540af1600000u, 0x8be1580b06400000u, 0x8be15c0b06200000u,
    0x8be1600b15800000u, 0x8be164429c800000u, 0x8be1680b1e400000u, 0x8be16c0b1ee00000u,
    0x8be1700b20c00000u, 0x8be1740b23400000u, 0x8be1780b24400000u, 0x8be17c0b2c400000u,
    0x8be18042d5000000u, 0x8be18442dd400000u, 0x8be1880b3d800000u, 0x8be18c0b43600000u,
    0x8be1900b44e00000u, 0x8be1940b3b000000u, 0x8be1980b4cc00000u, 0x8be19c06ddc00000u,
    0x8be1a006df800000u, 0x8be1a40b61000000u, 0x8be1a80b67c00000u, 0x8be1ac0b67c00000u,
    0x8be1b04339000000u, 0x8be1b40b78600000u, 0x8be1b80b7b000000u, 0x8be1bc0b7ce00000u,
    0x8be1c00b7e600000u, 0x8be1c44363000000u, 0x8be1c80b7fe00000u, 0x8be1cc0b80c00000u,
    0x8be1d00bea600000u, 0x8be1d40b84400000u, 0x8be1d806f0200000u, 0x8be1dc0b8c000000u,
    0x8be1e00b8dc00000u, 0x8be1e40b98000000u, 0x8be1e80b91a00000u, 0x8be1ec43bc800000u,
    0x8be1f00ba8600000u, 0x8be1f443bcc00000u, 0x8be1f80badc00000u, 0x8be1fc0bad600000u,
    0x8be2000baf800000u, 0x8be2040bbc200000u, 0x8be2080bbc400000u, 0x8be20c0705e00000u,
    0x8be2100bbfa00000u, 0x8be2140bc5000000u, 0x8be2180bc7a00000u, 0x8be21c0bcd200000u,
    0x8be220070c400000u, 0x8be2244430600000u, 0x8be228070f800000u, 0x8be22c0bd6000000u,
    0x8be2300bd6600000u, 0x8be2340bd6c00000u, 0x8be2380bd9400000u, 0x8be23c5472400000u,
    0x8be2400bdfc00000u, 0x8be2444466200000u, 0x8be2484466200000u, 0x8be24c1040200000u,
    0x8be2500be4400000u, 0x8be2540be4400000u, 0x8be2580718e00000u, 0x8be25c4657000000u,
    0x8be2604c3b400000u, 0x8be2640bec400000u, 0x8be2680bed600000u, 0x8be26c071c600000u,
    0x8be2700bf3400000u, 0x8be2740bf9a00000u, 0x8be2780bfae00000u, 0x8be27c0bff200000u,
    0x8be2800c10200000u, 0x8be2840727400000u, 0x8be2880723800000u, 0x8be28c0c12800000u,
    0x8be29044da800000u, 0x8be2940c18e00000u, 0x8be2980c29000000u, 0x8be29c0c29800000u,
    0x8be2a00c29c00000u, 0x8be2a40c29800000u, 0x8be2a80c2f400000u, 0x8be2ac0c31c00000u,
    0x8be2b00c36400000u, 0x8be2b40c34800000u, 0x8be2b80c35e00000u, 0x8be2bc0c3bc00000u,
    0x8be2c00c3e400000u, 0x8be2c40c3ec00000u, 0x8be2c80c42000000u, 0x8be2cc0c43600000u,
    0x8be2d00c4ba00000u, 0x8be2d40c56200000u, 0x8be2d80c5a800000u, 0x8be2dc0c6a000000u,
    0x8be2e04561800000u, 0x8be2e40c67a00000u, 0x8be2e80c5f800000u, 0x8be2ec0c6d000000u,
    0x8be2f00c70600000u, 0x8be2f40c7c800000u, 0x8be2f8457e200000u, 0x8be2fc0c84400000u,
    0x8be3000c78a00000u, 0x8be3040c75200000u, 0x8be3080745c00000u, 0x8be30c0c8d200000u,
    0x8be3100c8fc00000u, 0x8be3140c93a00000u, 0x8be3180c8ee00000u, 0x8be31c074d800000u,
    0x8be3200ca9e00000u, 0x8be3240cad800000u, 0x8be3284601400000u, 0x8be32c0cbc600000u,
    0x8be3300cdf000000u, 0x8be3340cc9200000u, 0x8be3380763200000u, 0x8be33c0cd2200000u,
    0x8be3400761000000u, 0x8be344075c800000u, 0x8be3480a32400000u, 0x8be34c0a32a00000u,
    0x8be3500ce0000000u, 0x8be3540cd3800000u, 0x8be3581015a00000u, 0x8be35c087b200000u,
    0x8be3600ce2e00000u, 0x8be3640ce3600000u, 0x8be3680ce4200000u, 0x8be36c0cebc00000u,
    0x8be3700cea600000u, 0x8be3744678600000u, 0x8be3780769200000u, 0x8be37c0cff400000u,
    0x8be3800cf0a00000u, 0x8be3840d0a400000u, 0x8be3880d10a00000u, 0x8be38c468da00000u,
    0x8be3900d11c00000u, 0x8be3940d03e00000u, 0x8be3980d22800000u, 0x8be39c0773a00000u,
    0x8be3a00d28400000u, 0x8be3a40d34600000u, 0x8be3a80d3d400000u, 0x8be3ac0d55000000u,
    0x8be3b046d4600000u, 0x8be3b40d5b600000u, 0x8be3b80783000000u, 0x8be3bc0d64200000u,
    0x8be3c04714e00000u, 0x8be3c40d6a800000u, 0x8be3c80789c00000u, 0x8be3cc0d6e400000u,
    0x8be3d00d73e00000u, 0x8be3d40d77400000u, 0x8be3d80d77600000u, 0x8be3dc4751a00000u,
    0x8be3e043a1600000u, 0x8be3e4475f400000u, 0x8be3e80d89c00000u, 0x8be3ec4797800000u,
    0x8be3f00d97e00000u, 0x8be3f40d99a00000u, 0x8be3f80d8ce00000u, 0x8be3fc0da2c00000u,
    0x8be4000da7c00000u, 0x8be4040daee00000u, 0x8be4080da8200000u, 0x8be40c0dad200000u,
    0x8be4100daf000000u, 0x8be4140db0a00000u, 0x8be41847a3c00000u, 0x8be41c0da6800000u,
    0x8be4200dc5e00000u, 0x8be4240dcdc00000u, 0x8be42807a6600000u, 0x8be42c0dd9600000u,
    0x8be4300dd8e00000u, 0x8be43447da200000u, 0x8be4380dbf200000u, 0x8be43c0dedc00000u,
    0x8be44047ebc00000u, 0x8be44447f1c00000u, 0x8be4480df8c00000u, 0x8be44c0e07200000u,
    0x8be4500e03c00000u, 0x8be4540e03600000u, 0x8be45807b2c00000u, 0x8be45c0e09400000u,
    0x8be4600e0fa00000u, 0x8be4640e0ee00000u, 0x8be4680e15a00000u, 0x8be46c40a4a00000u,
    0x8be4700e28a00000u, 0x8be474484c600000u, 0x8be4780e33800000u, 0x8be47c4875600000u,
    0x8be4800e45000000u, 0x8be4840e46a00000u, 0x8be4880e4a000000u, 0x8be48c48c1000000u,
    0x8be4900e50000000u, 0x8be4940e52a00000u, 0x8be49848e6a00000u, 0x8be49c4902800000u,
    0x8be4a00e6f400000u, 0x8be4a40e71600000u, 0x8be4a807d5800000u, 0x8be4ac0e74a00000u,
    0x8be4b007d7000000u, 0x8be4b407d7000000u, 0x8be4b80e88e00000u, 0x8be4bc0e8b800000u,
    0x8be4c00e8e200000u, 0x8be4c40e90a00000u, 0x8be4c80e99400000u, 0x8be4cc07e3600000u,
    0x8be4d00ea4800000u, 0x8be4d44986c00000u, 0x8be4d80ea7c00000u, 0x8be4dc4992400000u,
    0x8be4e00eae000000u, 0x8be4e44433e00000u, 0x8be4e80ec2000000u, 0x8be4ec49f4200000u,
    0x8be4f049f7000000u, 0x8be4f44a08800000u, 0x8be4f807ff800000u, 0x8be4fc0801000000u,
    0x8be5000ede800000u, 0x8be5044a1e600000u, 0x8be5084a1e400000u, 0x8be50c4a23200000u,
    0x8be5104a26600000u, 0x8be5140ee3c00000u, 0x8be5180ee3e00000u, 0x8be51c0ee3e00000u,
    0x8be5200ee9400000u, 0x8be5240807200000u, 0x8be5280ef1600000u, 0x8be52c0808c00000u,
    0x8be5300812c00000u, 0x8be5344a83a00000u, 0x8be5380f09c00000u, 0x8be53c0f11800000u,
    0x8be5400f19800000u, 0x8be544081c600000u, 0x8be5484ac4c00000u, 0x8be54c0f2ac00000u,
    0x8be5504ad3400000u, 0x8be5544ad8a00000u, 0x8be5580f31e00000u, 0x8be55c0f3d600000u,
    0x8be5600825e00000u, 0x8be5640f48000000u, 0x8be5680f49400000u, 0x8be56c0f49e00000u,
    0x8be5704b2f800000u, 0x8be5744b54e00000u, 0x8be5784b54e00000u, 0x8be57c0f5dc00000u,
    0x8be5800840400000u, 0x8be5844b75600000u, 0x8be5880f78c00000u, 0x8be58c0f79200000u,
    0x8be5900844e00000u, 0x8be5944b90000000u, 0x8be5980f9a400000u, 0x8be59c0854000000u,
    0x8be5a00f9d000000u, 0x8be5a40f9c600000u, 0x8be5a80fa0000000u, 0x8be5ac4bf0c00000u,
    0x8be5b00fac600000u, 0x8be5b40860200000u, 0x8be5b80fb8e00000u, 0x8be5bc0fc0400000u,
    0x8be5c00fc8a00000u, 0x8be5c40866800000u, 0x8be5c84c45000000u, 0x8be5cc4c48e00000u,
    0x8be5d0086b200000u, 0x8be5d44c5b200000u, 0x8be5d80fef400000u, 0x8be5dc4c67c00000u,
    0x8be5e00ff2a00000u, 0x8be5e40fff400000u, 0x8be5e81000a00000u, 0x8be5ec4c9b400000u,
    0x8be5f04ca4600000u, 0x8be5f4100c000000u, 0x8be5f84cb5000000u, 0x8be5fc100e000000u,
    0x8be600466be00000u, 0x8be604087aa00000u, 0x8be6081016400000u, 0x8be60c1020600000u,
    0x8be6100881600000u, 0x8be6141027c00000u, 0x8be6180b56a00000u, 0x8be61c4cf4e00000u,
    0x8be6204cf6a00000u, 0x8be6244672600000u, 0x8be6284673800000u, 0x8be62c1040200000u,
    0x8be6301040800000u, 0x8be63411f3c00000u, 0x8be638088d600000u, 0x8be63c1052200000u,
    0x8be6401051600000u, 0x8be6441053a00000u, 0x8be6480a56600000u, 0x8be64c1056200000u,
    0x8be6501056600000u, 0x8be6541057a00000u, 0x8be658105cc00000u, 0x8be65c4d67800000u,
    0x8be660105ca00000u, 0x8be6641063a00000u, 0x8be668106c600000u, 0x8be66c1075a00000u,
    0x8be6701064600000u, 0x8be6741077a00000u, 0x8be678107ce00000u, 0x8be67c108ae00000u,
    0x8be680106a600000u, 0x8be6841079400000u, 0x8be6881079800000u, 0x8be68c107b800000u,
    0x8be6904d86c00000u, 0x8be6944dad600000u, 0x8be6984d9aa00000u, 0x8be69c08a5600000u,
    0x8be6a0109e200000u, 0x8be6a4109e600000u, 0x8be6a810a2c00000u, 0x8be6ac4e79400000u,
    0x8be6b010ac800000u, 0x8be6b44de5800000u, 0x8be6b808aba00000u, 0x8be6bc08ac200000u,
    0x8be6c04df6200000u, 0x8be6c44e1a400000u, 0x8be6c808ad600000u, 0x8be6cc10ca000000u,
    0x8be6d010cb800000u, 0x8be6d410cce00000u, 0x8be6d810cd200000u, 0x8be6dc10d5200000u,
    0x8be6e010d1000000u, 0x8be6e410e1c00000u, 0x8be6e810dc400000u, 0x8be6ec10ef200000u,
    0x8be6f010e5000000u, 0x8be6f410ed600000u, 0x8be6f810f0c00000u, 0x8be6fc08bae00000u,
    0x8be70010fc200000u, 0x8be7041100200000u, 0x8be70808bf200000u, 0x8be70c110c000000u,
    0x8be710110c600000u, 0x8be7144ecce00000u, 0x8be718111ae00000u, 0x8be71c111bc00000u,
    0x8be72008c6a00000u, 0x8be724111f400000u, 0x8be7280697600000u, 0x8be72c4f15c00000u,
    0x8be7304f2cc00000u, 0x8be73408d7c00000u, 0x8be73808d8e00000u, 0x8be73c1154000000u,
    0x8be740115da00000u, 0x8be7441171400000u, 0x8be748118aa00000u, 0x8be74c4f95000000u,
    0x8be7501195600000u, 0x8be7541198200000u, 0x8be75811a3600000u, 0x8be75c11aee00000u,
    0x8be7604fe5e00000u, 0x8be7644100800000u, 0x8be76811b9600000u, 0x8be76c11b7800000u,
    0x8be77011be000000u, 0x8be774411bc00000u, 0x8be77811da800000u, 0x8be77c11e7000000u,
    0x8be78050ba400000u, 0x8be78450bda00000u, 0x8be7881212800000u, 0x8be78c121e200000u,
    0x8be7901222200000u, 0x8be79450e5c00000u, 0x8be7981223600000u, 0x8be79c1247000000u,
    0x8be7a0125ae00000u, 0x8be7a4125b000000u, 0x8be7a8124f800000u, 0x8be7ac127f200000u,
    0x8be7b01282a00000u, 0x8be7b4517f400000u, 0x8be7b812b1600000u, 0x8be7bc0932a00000u,
    0x8be7c012b6e00000u, 0x8be7c451aee00000u, 0x8be7c8093cc00000u, 0x8be7cc12d8600000u,
    0x8be7d00bb6400000u, 0x8be7d412e4600000u, 0x8be7d85228a00000u, 0x8be7dc5243400000u,
    0x8be7e0094dc00000u, 0x8be7e4094ec00000u, 0x8be7e812fc000000u, 0x8be7ec5281400000u,
    0x8be7f00956400000u, 0x8be7f45292c00000u, 0x8be7f81301600000u, 0x8be7fc1301600000u,
    0x8be8001305200000u, 0x8be80452b6c00000u, 0x8be808131c400000u, 0x8be80c0966600000u,
    0x8be8101325200000u, 0x8be8141334e00000u, 0x8be8181338400000u, 0x8be81c133fc00000u,
    0x8be8200979c00000u, 0x8be8245366000000u, 0x8be8281362400000u, 0x8be82c1388000000u,
    0x8be830139fa00000u, 0x8be8340999c00000u, 0x8be838099da00000u, 0x8be83c13ace00000u,
    0x8be8405419c00000u, 0x8be844099f000000u, 0x8be8485420a00000u, 0x8be84c5441c00000u,
    0x8be8505452200000u, 0x8be85413d7600000u, 0x8be85809aac00000u, 0x8be85c13df200000u,
    0x8be86013dfc00000u, 0x8be86413e0a00000u, 0x8be86813e1e00000u, 0x8be86c13e2c00000u,
    0x8be87013e7600000u, 0x8be87454c0000000u,
};
static const uint16_t learn__ucp_comp[941] = {
    912, 909, 913, 0, 1, 2, 3, 53, 55, 238, 4, 572, 5, 165, 208, 210, 570, 415, 57, 417, 419,
    421, 59, 61, 63, 65, 6, 425, 67, 427, 431, 433, 429, 7, 8, 9, 598, 69, 71, 73, 10, 596, 77,
    212, 214, 594, 240, 75, 439, 441, 445, 198, 79, 447, 81, 83, 187, 85, 87, 449, 453, 236,
    451, 455, 457, 11, 12, 13, 89, 91, 93, 97, 14, 610, 167, 216, 218, 612, 95, 459, 98, 463,
    189, 465, 100, 467, 102, 106, 469, 104, 475, 473, 477, 479, 481, 200, 108, 15, 483, 112,
    485, 110, 489, 487, 16, 17, 18, 19, 114, 116, 246, 20, 616, 118, 169, 220, 222, 161, 614,
    191, 499, 501, 120, 503, 124, 224, 226, 505, 122, 509, 126, 128, 511, 132, 513, 232, 130,
    521, 136, 523, 234, 134, 527, 525, 21, 22, 23, 138, 140, 142, 24, 640, 144, 146, 171, 228,
    230, 163, 638, 529, 148, 533, 531, 539, 541, 543, 545, 150, 549, 547, 551, 553, 555, 652,
    25, 152, 658, 250, 557, 154, 656, 654, 155, 559, 157, 159, 561, 563, 26, 27, 28, 29, 54, 56,
    239, 30, 573, 31, 166, 209, 211, 571, 416, 58, 418, 420, 422, 60, 62, 64, 66, 32, 426, 68,
    428, 432, 434, 430, 33, 34, 35, 599, 70, 72, 74, 36, 597, 78, 213, 215, 595, 241, 76, 440,
    442, 446, 199, 80, 448, 82, 84, 188, 86, 88, 450, 454, 237, 452, 456, 458, 565, 37, 38, 39,
    90, 92, 94, 40, 611, 168, 217, 219, 613, 96, 460, 99, 197, 464, 190, 466, 101, 468, 103,
    107, 470, 105, 476, 474, 478, 480, 482, 201, 109, 41, 484, 113, 486, 111, 490, 488, 42, 43,
    44, 45, 115, 117, 247, 46, 617, 119, 170, 221, 223, 162, 615, 192, 500, 502, 121, 504, 125,
    225, 227, 506, 123, 510, 127, 129, 512, 133, 514, 233, 131, 522, 566, 137, 524, 235, 135,
    528, 526, 47, 48, 49, 139, 141, 143, 50, 641, 145, 147, 172, 229, 231, 164, 639, 530, 149,
    534, 532, 540, 542, 544, 546, 151, 550, 548, 567, 552, 554, 556, 653, 51, 153, 659, 251,
    558, 52, 657, 568, 655, 156, 560, 158, 160, 562, 564, 875, 258, 835, 576, 574, 580, 578,
    181, 202, 204, 185, 423, 602, 600, 606, 604, 461, 620, 618, 624, 622, 491, 244, 493, 242,
    206, 179, 175, 173, 177, 577, 575, 581, 579, 182, 203, 205, 186, 424, 603, 601, 607, 605,
    462, 621, 619, 625, 623, 492, 245, 494, 243, 207, 180, 176, 174, 178, 586, 584, 590, 588,
    587, 585, 591, 589, 435, 437, 436, 438, 495, 497, 496, 498, 515, 516, 517, 518, 535, 536,
    537, 538, 569, 630, 628, 634, 632, 636, 631, 629, 635, 633, 637, 644, 642, 648, 646, 650,
    645, 643, 649, 647, 651, 195, 193, 194, 183, 184, 443, 444, 248, 249, 196, 831, 259, 830,
    829, 668, 669, 833, 841, 261, 682, 683, 843, 262, 696, 697, 845, 857, 263, 856, 855, 268,
    712, 713, 883, 264, 726, 727, 874, 872, 265, 871, 870, 269, 740, 885, 266, 752, 753, 887,
    826, 838, 760, 270, 823, 822, 660, 661, 827, 825, 762, 271, 676, 677, 764, 272, 688, 689,
    839, 837, 766, 273, 850, 849, 275, 704, 705, 853, 768, 277, 720, 721, 866, 867, 770, 278,
    863, 862, 276, 732, 733, 868, 772, 279, 744, 745, 881, 879, 851, 267, 854, 864, 274, 869,
    880, 280, 281, 285, 302, 304, 284, 282, 306, 283, 300, 310, 312, 287, 314, 289, 316, 286,
    318, 324, 288, 326, 328, 330, 332, 322, 303, 305, 293, 291, 307, 292, 301, 311, 313, 296,
    315, 290, 317, 295, 319, 325, 297, 327, 329, 331, 333, 323, 294, 298, 299, 308, 309, 320,
    321, 334, 335, 337, 336, 338, 340, 341, 339, 342, 343, 344, 353, 354, 365, 364, 366, 369,
    370, 372, 371, 373, 374, 377, 375, 376, 378, 379, 381, 380, 382, 383, 385, 384, 403, 404,
    405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 471, 472, 507, 508, 519, 520, 582, 592,
    583, 593, 608, 609, 626, 627, 662, 664, 666, 774, 663, 665, 667, 775, 776, 777, 778, 779,
    780, 781, 670, 672, 674, 782, 671, 673, 675, 783, 784, 785, 786, 787, 788, 789, 678, 680,
    679, 681, 684, 686, 685, 687, 690, 692, 694, 790, 691, 693, 695, 791, 792, 793, 794, 795,
    796, 797, 698, 700, 702, 798, 699, 701, 703, 799, 800, 801, 802, 803, 804, 805, 706, 708,
    710, 707, 709, 711, 714, 716, 718, 715, 717, 719, 722, 724, 723, 725, 728, 730, 729, 731,
    734, 736, 738, 735, 737, 739, 741, 742, 743, 746, 748, 750, 806, 747, 749, 751, 807, 808,
    809, 810, 811, 812, 813, 754, 756, 758, 814, 755, 757, 759, 815, 816, 817, 818, 819, 820,
    821, 824, 836, 878, 828, 846, 847, 848, 840, 882, 859, 860, 861, 894, 895, 896, 897, 899,
    898, 900, 901, 902, 903, 904, 905, 906, 907, 908, 911, 910, 914, 915, 916, 917, 918, 919,
    920, 921, 930, 931, 922, 923, 924, 925, 932, 933, 926, 927, 928, 929, 934, 935, 936, 937,
    966, 941, 942, 943, 944, 945, 946, 947, 948, 949, 950, 951, 952, 953, 954, 955, 956, 957,
    958, 959, 960, 961, 962, 963, 964, 965, 967, 993, 968, 969, 970, 971, 972, 973, 974, 975,
    976, 977, 978, 979, 980, 981, 982, 983, 984, 985, 986, 987, 988, 989, 990, 991, 992, 994,
    995, 996, 997, 998, 1493, 1494, 1495, 1496, 1497, 1498, 1499, 1501, 1500, 1502, 1503, 1504,
    1505,
};
/* END GENERATED UNICODE TABLES */

/* ---- Unicode properties ---- */

/* One byte of properties of a code point: category group, White_Space, NFC check. */
static unsigned learn__ucp_props(uint32_t cp) {
    if (cp >= 0x110000) return LEARN__UCP_CN;
    unsigned b2 = learn__ucp_stage1[cp >> (LEARN__UCP_SHIFT3 + LEARN__UCP_SHIFT2)];
    unsigned b3 = learn__ucp_stage2[(b2 << LEARN__UCP_SHIFT2) |
                                    ((cp >> LEARN__UCP_SHIFT3) & ((1u << LEARN__UCP_SHIFT2) - 1))];
    return learn__ucp_stage3[(b3 << LEARN__UCP_SHIFT3) | (cp & ((1u << LEARN__UCP_SHIFT3) - 1))];
}

#define LEARN__UCP_IS(pr, c) (((pr) & LEARN__UCP_CAT) == (c))
#define LEARN__UCP_IS_SPACE(pr) (((pr) & LEARN__UCP_SPACE) != 0)

static unsigned learn__ucp_ccc_of(uint32_t cp) {
    size_t lo = 0, hi = sizeof learn__ucp_ccc / sizeof learn__ucp_ccc[0];
    while (hi - lo > 1) { /* last breakpoint <= cp; learn__ucp_ccc[0] starts at 0 */
        size_t mid = (lo + hi) / 2;
        if ((learn__ucp_ccc[mid] >> 8) <= cp) lo = mid;
        else hi = mid;
    }
    return learn__ucp_ccc[lo] & 0xFF;
}

#define LEARN__UCP_DEC_CP(e) ((uint32_t)((e) >> 42) & 0x1FFFFFu)
#define LEARN__UCP_DEC_A(e) ((uint32_t)((e) >> 21) & 0x1FFFFFu)
#define LEARN__UCP_DEC_B(e) ((uint32_t)(e) & 0x1FFFFFu)

/* Hangul syllables decompose and compose algorithmically (Unicode 3.12). */
#define LEARN__HANGUL_S 0xAC00u
#define LEARN__HANGUL_L 0x1100u
#define LEARN__HANGUL_V 0x1161u
#define LEARN__HANGUL_T 0x11A7u
#define LEARN__HANGUL_LN 19u
#define LEARN__HANGUL_VN 21u
#define LEARN__HANGUL_TN 28u
#define LEARN__HANGUL_SN (LEARN__HANGUL_LN * LEARN__HANGUL_VN * LEARN__HANGUL_TN)

/* The canonical decomposition (one step) of cp into a and b (b = 0 for a singleton); 0 when
   there is none. */
static int learn__ucp_decompose(uint32_t cp, uint32_t *a, uint32_t *b) {
    if (cp - LEARN__HANGUL_S < LEARN__HANGUL_SN) {
        uint32_t s = cp - LEARN__HANGUL_S, t = s % LEARN__HANGUL_TN;
        if (t) {
            *a = cp - t; /* the LV syllable */
            *b = LEARN__HANGUL_T + t;
        } else {
            *a = LEARN__HANGUL_L + s / (LEARN__HANGUL_VN * LEARN__HANGUL_TN);
            *b = LEARN__HANGUL_V + (s % (LEARN__HANGUL_VN * LEARN__HANGUL_TN)) / LEARN__HANGUL_TN;
        }
        return 1;
    }
    if (cp < 0xC0) return 0;
    size_t lo = 0, hi = sizeof learn__ucp_decomp / sizeof learn__ucp_decomp[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint32_t c = LEARN__UCP_DEC_CP(learn__ucp_decomp[mid]);
        if (c == cp) {
            *a = LEARN__UCP_DEC_A(learn__ucp_decomp[mid]);
            *b = LEARN__UCP_DEC_B(learn__ucp_decomp[mid]);
            return 1;
        }
        if (c < cp) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

/* The primary composite of (a, b), or 0. */
static uint32_t learn__ucp_compose(uint32_t a, uint32_t b) {
    if (a - LEARN__HANGUL_L < LEARN__HANGUL_LN && b - LEARN__HANGUL_V < LEARN__HANGUL_VN)
        return LEARN__HANGUL_S +
               ((a - LEARN__HANGUL_L) * LEARN__HANGUL_VN + b - LEARN__HANGUL_V) * LEARN__HANGUL_TN;
    if (a - LEARN__HANGUL_S < LEARN__HANGUL_SN && (a - LEARN__HANGUL_S) % LEARN__HANGUL_TN == 0 &&
        b - LEARN__HANGUL_T - 1 < LEARN__HANGUL_TN - 1)
        return a + (b - LEARN__HANGUL_T);
    uint64_t key = (uint64_t)a << 21 | b;
    size_t lo = 0, hi = sizeof learn__ucp_comp / sizeof learn__ucp_comp[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint64_t e = learn__ucp_decomp[learn__ucp_comp[mid]];
        uint64_t k = (uint64_t)LEARN__UCP_DEC_A(e) << 21 | LEARN__UCP_DEC_B(e);
        if (k == key) return LEARN__UCP_DEC_CP(e);
        if (k < key) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

/* ---- Scratch buffers (per call, through the context's allocator) ---- */

typedef struct learn__tok_buf {
    void *p;
    size_t cap; /* bytes */
} learn__tok_buf;

/* Makes room for n elements of `size` bytes; the contents are kept. */
static int learn__tok_reserve(const learn_allocator *a, learn__tok_buf *b, size_t n, size_t size) {
    size_t need;
    if (!learn__mul_ok(n, size, &need)) return 0;
    if (need <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    void *p = learn__realloc(a, b->p, cap);
    if (!p) return 0;
    b->p = p;
    b->cap = cap;
    return 1;
}

static void learn__tok_buf_free(const learn_allocator *a, learn__tok_buf *b) {
    learn__free(a, b->p);
    b->p = NULL;
    b->cap = 0;
}

/* ---- UTF-8 ---- */

/* Decodes one code point at s[*i] (*i < n) and advances *i. Well-formed UTF-8 only (RFC 3629:
   no overlong forms, surrogates or values above U+10FFFF); any other byte decodes to U+FFFD and
   advances by one byte, as llama.cpp does for the bytes it rejects. */
static uint32_t learn__tok_utf8_next(const uint8_t *s, size_t n, size_t *i) {
    size_t k = *i;
    uint32_t c = s[k];
    if (c < 0x80) {
        *i = k + 1;
        return c;
    }
    size_t left = n - k;
    if (c >= 0xC2 && c <= 0xDF) {
        if (left >= 2 && (s[k + 1] & 0xC0) == 0x80) {
            *i = k + 2;
            return (c & 0x1F) << 6 | (s[k + 1] & 0x3Fu);
        }
    } else if (c >= 0xE0 && c <= 0xEF) {
        if (left >= 3 && (s[k + 1] & 0xC0) == 0x80 && (s[k + 2] & 0xC0) == 0x80) {
            uint32_t v = (c & 0x0F) << 12 | (s[k + 1] & 0x3Fu) << 6 | (s[k + 2] & 0x3Fu);
            if (v >= 0x800 && (v < 0xD800 || v > 0xDFFF)) {
                *i = k + 3;
                return v;
            }
        }
    } else if (c >= 0xF0 && c <= 0xF4) {
        if (left >= 4 && (s[k + 1] & 0xC0) == 0x80 && (s[k + 2] & 0xC0) == 0x80 &&
            (s[k + 3] & 0xC0) == 0x80) {
            uint32_t v = (c & 0x07) << 18 | (s[k + 1] & 0x3Fu) << 12 | (s[k + 2] & 0x3Fu) << 6 |
                         (s[k + 3] & 0x3Fu);
            if (v >= 0x10000 && v <= 0x10FFFF) {
                *i = k + 4;
                return v;
            }
        }
    }
    *i = k + 1;
    return 0xFFFD;
}

/* Encodes cp (<= U+10FFFF) into out; returns the number of bytes (1..4). */
static size_t learn__tok_utf8_put(uint32_t cp, uint8_t *out) {
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- NFC ---- */

/* Stable sort of a run of non-starters by combining class (canonical ordering). Short runs by
   insertion, long ones by counting sort, so that hostile text stays O(n). */
static int learn__tok_nfc_reorder(const learn_allocator *a, uint32_t *cp, uint8_t *cc, size_t n) {
    if (n <= 32) {
        for (size_t i = 1; i < n; i++) {
            uint32_t c = cp[i];
            uint8_t k = cc[i];
            size_t j = i;
            for (; j > 0 && cc[j - 1] > k; j--) {
                cp[j] = cp[j - 1];
                cc[j] = cc[j - 1];
            }
            cp[j] = c;
            cc[j] = k;
        }
        return 1;
    }
    size_t count[257] = {0}, bytes;
    if (!learn__mul_ok(n, sizeof(uint32_t), &bytes)) return 0;
    uint32_t *tmp = (uint32_t *)learn__malloc(a, bytes);
    if (!tmp) return 0;
    for (size_t i = 0; i < n; i++) count[cc[i] + 1]++;
    for (size_t k = 1; k < 257; k++) count[k] += count[k - 1];
    for (size_t i = 0; i < n; i++) tmp[count[cc[i]]++] = cp[i];
    memcpy(cp, tmp, bytes);
    for (size_t i = 0; i < n; i++) cc[i] = (uint8_t)learn__ucp_ccc_of(cp[i]);
    learn__free(a, tmp);
    return 1;
}

/* Normalizes cps[0..*n) to NFC in place (the buffer grows as needed). Text in which no code
   point has the NFC-check property is left untouched. */
static learn_status learn__tok_nfc(const learn_allocator *a, learn__tok_buf *cpbuf, size_t *n) {
    uint32_t *in = (uint32_t *)cpbuf->p;
    size_t len = *n, i;
    for (i = 0; i < len; i++)
        if (learn__ucp_props(in[i]) & LEARN__UCP_NFC) break;
    if (i == len) return LEARN_OK;
    /* Full canonical decomposition into dec (a stack makes the recursion explicit). */
    learn__tok_buf decb = {NULL, 0}, ccb = {NULL, 0};
    size_t m = 0, cap = len + 16;
    learn_status st = LEARN_ERR_NOMEM;
    if (!learn__tok_reserve(a, &decb, cap, sizeof(uint32_t))) goto done;
    for (i = 0; i < len; i++) {
        uint32_t stack[32];
        int top = 0;
        stack[top++] = in[i];
        while (top) {
            uint32_t c = stack[--top], x, y;
            if (top < 30 && learn__ucp_decompose(c, &x, &y)) {
                if (y) stack[top++] = y;
                stack[top++] = x;
                continue;
            }
            if (m == cap) {
                if (!learn__mul_ok(cap, 2, &cap) ||
                    !learn__tok_reserve(a, &decb, cap, sizeof(uint32_t)))
                    goto done;
            }
            ((uint32_t *)decb.p)[m++] = c;
        }
    }
    uint32_t *d = (uint32_t *)decb.p;
    if (!learn__tok_reserve(a, &ccb, m, 1)) goto done;
    uint8_t *cc = (uint8_t *)ccb.p;
    for (i = 0; i < m; i++) cc[i] = (uint8_t)learn__ucp_ccc_of(d[i]);
    /* Canonical ordering of each run of non-starters. */
    for (i = 0; i < m;) {
        if (!cc[i]) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < m && cc[j]) j++;
        if (j - i > 1 && !learn__tok_nfc_reorder(a, d + i, cc + i, j - i)) goto done;
        i = j;
    }
    /* Canonical composition: each character joins the last starter unless blocked. */
    size_t out = 0, starter = SIZE_MAX;
    unsigned last_cc = 0;
    for (i = 0; i < m; i++) {
        uint32_t c = d[i];
        unsigned k = cc[i];
        if (starter != SIZE_MAX && (out - 1 == starter || (last_cc && last_cc < k))) {
            uint32_t comp = learn__ucp_compose(d[starter], c);
            if (comp) {
                d[starter] = comp;
                continue;
            }
        }
        if (!k) starter = out;
        last_cc = k;
        d[out++] = c;
    }
    if (!learn__tok_reserve(a, cpbuf, out, sizeof(uint32_t))) goto done;
    memcpy(cpbuf->p, d, out * sizeof(uint32_t));
    *n = out;
    st = LEARN_OK;
done:
    learn__tok_buf_free(a, &decb);
    learn__tok_buf_free(a, &ccb);
    return st;
}

/* ---- The tokenizer ---- */

typedef struct learn__tok learn__tok; /* also declared before struct learn_model */

#define LEARN__TOK_MAX_VOCAB (1u << 24)  /* tokens in a vocabulary */
#define LEARN__TOK_MAX_MERGES (1u << 24) /* bpe merges */
#define LEARN__TOK_MAX_PIECE 4096u       /* bytes in one token */

/* tokenizer.types: bits 0-3 a learn_token_kind (numbered as GGUF and llama.cpp number token
   types), bits 4 and 5 the strip flags of special tokens. */
#define LEARN__TOK_TYPE_MASK 0x0Fu
#define LEARN__TOK_LSTRIP 0x10u
#define LEARN__TOK_RSTRIP 0x20u

enum { LEARN__TOK_SPM = 1, LEARN__TOK_BPE = 2 };

/* Pre-tokenizer stages: each splits a segment of code points into pieces that the next stage
   splits further; the last stage's pieces are the words given to BPE. */
enum {
    LEARN__PRE_END = 0,
    LEARN__PRE_GPT2,       /* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|
                               \s+(?!\S)|\s+, as llama.cpp's hand-written splitter */
    LEARN__PRE_LLAMA3,      /* llama.cpp's hand-written Llama 3 splitter (\p{N}{1,3}) */
    LEARN__PRE_QWEN2,       /* the Llama 3 regex with \p{N} single digits, regex semantics */
    LEARN__PRE_NEWLINE,     /* [\r\n] */
    LEARN__PRE_DIGIT,       /* \p{N} */
    LEARN__PRE_DIGITS,      /* \p{N}+ */
    LEARN__PRE_DIGIT3,      /* [0-9][0-9][0-9] */
    LEARN__PRE_PUNCT_FALCON,  /* [\p{P}\$\+<=>\^~\|`]+ */
    LEARN__PRE_PUNCT_DEFAULT, /* [\p{P}\$\+<=>\^~\|]+ */
    LEARN__PRE_DS_LETTERS,  /* \s?[A-Za-zµÀ-ÖØ-öø-ƺ...]+ (deepseek-llm's letter ranges) */
    LEARN__PRE_DS_PUNCT,    /* \s?[!-/:-~！-／：-～‘-‟　-。]+ */
    LEARN__PRE_TRAILING_WS, /* \s+$ */
    LEARN__PRE_CJK,         /* [一-龥ࠀ-一가-퟿]+ */
    LEARN__PRE_SP_LETTERS,  /* \s?\p{L}+ */
    LEARN__PRE_SP_PUNCT     /* \s?\p{P}+ */
};

#define LEARN__PRE_MAX_STAGES 7

/* Pre-tokenizers by llama.cpp's `tokenizer.ggml.pre` names. */
static const struct {
    const char *name;
    uint8_t stages[LEARN__PRE_MAX_STAGES];
} learn__pre_names[] = {
    {"default", {LEARN__PRE_PUNCT_DEFAULT, LEARN__PRE_GPT2, LEARN__PRE_DIGITS, LEARN__PRE_DIGIT3}},
    {"gpt-2", {LEARN__PRE_GPT2}},
    {"mpt", {LEARN__PRE_GPT2}},
    {"olmo", {LEARN__PRE_GPT2}},
    {"phi-2", {LEARN__PRE_GPT2}},
    {"roberta-bpe", {LEARN__PRE_GPT2}},
    {"jais", {LEARN__PRE_GPT2}},
    {"gigachat", {LEARN__PRE_GPT2}},
    {"jina-es", {LEARN__PRE_GPT2}},
    {"jina-de", {LEARN__PRE_GPT2}},
    {"jina-v1-en", {LEARN__PRE_GPT2}},
    {"jina-v2-es", {LEARN__PRE_GPT2}},
    {"jina-v2-de", {LEARN__PRE_GPT2}},
    {"jina-v2-code", {LEARN__PRE_GPT2}},
    {"llama-bpe", {LEARN__PRE_LLAMA3}},
    {"llama3", {LEARN__PRE_LLAMA3}},
    {"llama-v3", {LEARN__PRE_LLAMA3}},
    {"falcon3", {LEARN__PRE_LLAMA3}},
    {"dbrx", {LEARN__PRE_LLAMA3}},
    {"smaug-bpe", {LEARN__PRE_LLAMA3}},
    {"chatglm-bpe", {LEARN__PRE_LLAMA3}},
    {"qwen2", {LEARN__PRE_QWEN2}},
    {"deepseek-r1-qwen", {LEARN__PRE_QWEN2}},
    {"stablelm2", {LEARN__PRE_QWEN2}},
    {"megrez", {LEARN__PRE_QWEN2}},
    {"falcon", {LEARN__PRE_PUNCT_FALCON, LEARN__PRE_GPT2, LEARN__PRE_DIGIT3}},
    {"starcoder", {LEARN__PRE_DIGIT, LEARN__PRE_GPT2}},
    {"refact", {LEARN__PRE_DIGIT, LEARN__PRE_GPT2}},
    {"command-r", {LEARN__PRE_DIGIT, LEARN__PRE_GPT2}},
    {"smollm", {LEARN__PRE_DIGIT, LEARN__PRE_GPT2}},
    {"codeshell", {LEARN__PRE_DIGIT, LEARN__PRE_GPT2}},
    {"exaone", {LEARN__PRE_DIGIT, LEARN__PRE_GPT2}},
    {"minerva-7b", {LEARN__PRE_DIGIT, LEARN__PRE_GPT2}},
    {"deepseek-llm",
     {LEARN__PRE_NEWLINE, LEARN__PRE_DS_LETTERS, LEARN__PRE_DS_PUNCT, LEARN__PRE_TRAILING_WS,
      LEARN__PRE_CJK, LEARN__PRE_DIGITS}},
    {"deepseek-coder",
     {LEARN__PRE_NEWLINE, LEARN__PRE_SP_LETTERS, LEARN__PRE_SP_PUNCT, LEARN__PRE_CJK,
      LEARN__PRE_DIGIT}},
};

/* A trie over the texts of special tokens, for cutting them out of text. */
typedef struct learn__tok_trie_node {
    uint32_t child;   /* first child, 0 = none (node 0 is never a child) */
    uint32_t sibling; /* next sibling, 0 = none */
    int32_t rank;     /* rank (see learn__tok.special) of the token ending here, or -1 */
    uint8_t byte;
} learn__tok_trie_node;

struct learn__tok {
    int kind;                  /* LEARN__TOK_SPM or LEARN__TOK_BPE */
    const char *model_name;    /* "spm" / "bpe" (in place) */
    const char *pre_name;      /* tokenizer.pre, or "" */
    const uint8_t *stages;     /* bpe: the pre-tokenizer stages, LEARN__PRE_END-terminated */
    uint32_t n_vocab;
    const uint8_t *text;       /* token texts (in place) */
    const int32_t *offs;       /* n_vocab + 1 (in place) */
    const float *scores;       /* n_vocab, or NULL (in place) */
    const uint8_t *types;      /* n_vocab, or NULL for all normal (in place) */
    const int32_t *merges;     /* n_merges x 2 (in place) */
    uint32_t n_merges;
    int32_t bos, eos, unk, pad;
    int add_bos, add_eos, add_space_prefix, remove_extra_ws, ignore_merges, nfc;
    int spm_cut;               /* spm: no token has U+2581 after another character */

    uint64_t *vocab_slots;     /* text -> id: hash tag << 32 | (id + 1); 0 = empty */
    uint32_t vocab_mask;
    uint64_t *merge_keys;      /* (left, right) -> rank: key = left << 32 | right, + 1 */
    uint32_t *merge_rank;
    uint32_t merge_mask;
    int32_t *merge_result;     /* rank -> id of the merged token */
    int32_t byte_tok[256];     /* spm: <0xNN> (or the 1-byte token); bpe: the byte's mapped
                                  character; -1 when the vocabulary has none */
    uint8_t bpe_char[256][2];  /* bpe: UTF-8 of the byte's mapped character (1 or 2 bytes) */
    uint8_t bpe_char_len[256];
    int16_t bpe_byte_of[324];  /* bpe: mapped character (< U+0144) -> byte, -1 if none */

    /* Special tokens (unknown, control, user-defined), ranked as llama.cpp tries them: longer
       texts first, then lower ids. */
    int32_t *special;          /* rank -> id */
    uint32_t n_special;
    learn__tok_trie_node *trie;    /* node 0 is the root */
    uint32_t n_trie;
    uint32_t root[256];        /* root's child for a first byte, 0 = none */
    int has_user;              /* some special token is user-defined (always matched) */
};

static unsigned learn__tok_type(const learn__tok *t, int32_t id) {
    return t->types ? t->types[id] & LEARN__TOK_TYPE_MASK : LEARN_TOKEN_KIND_NORMAL;
}

/* Unknown, control and user-defined tokens are the special ones: cut out of text before the
   merges, and detokenized as written. */
static int learn__tok_is_special(unsigned type) {
    return type == LEARN_TOKEN_KIND_UNKNOWN || type == LEARN_TOKEN_KIND_CONTROL ||
           type == LEARN_TOKEN_KIND_USER_DEFINED;
}

static size_t learn__tok_len(const learn__tok *t, int32_t id) {
    return (size_t)(t->offs[id + 1] - t->offs[id]);
}

static const uint8_t *learn__tok_str(const learn__tok *t, int32_t id) {
    return t->text + t->offs[id];
}

/* A fast non-cryptographic hash of a byte string (only used within one process). */
static uint64_t learn__tok_hash(const uint8_t *p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)n * 0xC2B2AE3D27D4EB4Full);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = (h ^ v) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    uint64_t v = 0;
    if (n) memcpy(&v, p, n);
    h = (h ^ v) * 0xC4CEB9FE1A85EC53ull;
    return h ^ (h >> 29);
}

/* The id of the token whose text is s[0..n), or -1. */
static int32_t learn__tok_find(const learn__tok *t, const uint8_t *s, size_t n) {
    uint64_t h = learn__tok_hash(s, n);
    uint32_t tag = (uint32_t)(h >> 32), i = (uint32_t)h & t->vocab_mask;
    for (;; i = (i + 1) & t->vocab_mask) {
        uint64_t e = t->vocab_slots[i];
        if (!e) return -1;
        if ((uint32_t)(e >> 32) != tag) continue;
        int32_t id = (int32_t)(uint32_t)e - 1;
        if (learn__tok_len(t, id) == n && memcmp(learn__tok_str(t, id), s, n) == 0) return id;
    }
}

static uint32_t learn__bpe_merge_slot(uint64_t key, uint32_t mask) {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 32) & mask;
}

/* The rank of the merge (left, right), or -1. */
static int32_t learn__bpe_merge_find(const learn__tok *t, int32_t left, int32_t right) {
    uint64_t key = ((uint64_t)(uint32_t)left << 32 | (uint32_t)right) + 1;
    for (uint32_t i = learn__bpe_merge_slot(key, t->merge_mask);; i = (i + 1) & t->merge_mask) {
        uint64_t k = t->merge_keys[i];
        if (k == key) return (int32_t)t->merge_rank[i];
        if (!k) return -1;
    }
}

/* The GPT-2 byte-to-unicode map: printable Latin-1 bytes map to themselves, the other 68 to
   U+0100.. in byte order. */
static int learn__bpe_printable(unsigned b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

static uint32_t learn__bpe_byte_cp(unsigned b) {
    if (learn__bpe_printable(b)) return b;
    unsigned n = 0;
    for (unsigned c = 0; c < b; c++) n += !learn__bpe_printable(c);
    return 0x100 + n;
}

static void learn__tok_free(const learn_allocator *a, learn__tok *t) {
    if (!t) return;
    learn__free(a, t->vocab_slots);
    learn__free(a, t->merge_keys);
    learn__free(a, t->merge_rank);
    learn__free(a, t->merge_result);
    learn__free(a, t->special);
    learn__free(a, t->trie);
    learn__free(a, t);
}

/* Smallest power of two >= 2n (at least 16), so that tables stay at most half full. */
static uint32_t learn__tok_table_size(uint32_t n) {
    uint32_t c = 16;
    while (c < 2 * (uint64_t)n) c <<= 1;
    return c;
}

/* Reads an optional I32 metadata value in [-1, n_vocab); absent means `def`. */
static learn_status learn__tok_meta_id(const learn_model *m, const char *key, int32_t def,
                                       uint32_t n_vocab, int32_t *out, char *err, size_t errn) {
    int64_t v;
    learn_status st = learn_model_meta_i64(m, key, &v);
    if (st == LEARN_ERR_NOT_FOUND) v = def;
    else if (st)
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "%s: expected an integer token id", key);
    if (v < -1 || v >= (int64_t)n_vocab)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "%s: token id %lld is out of range (-1 for none, or 0..%u)", key,
                           (long long)v, n_vocab - 1);
    *out = (int32_t)v;
    return LEARN_OK;
}

static learn_status learn__tok_meta_bool(const learn_model *m, const char *key, int def, int *out,
                                         char *err, size_t errn) {
    learn_status st = learn_model_meta_bool(m, key, out);
    if (st == LEARN_ERR_NOT_FOUND) *out = def;
    else if (st) return learn__fail(err, errn, LEARN_ERR_FORMAT, "%s: expected a bool", key);
    return LEARN_OK;
}

/* Finds tensor `name` of type `type` with shape (d0) or (d0, d1) (d1 = 0: 1-D); d0 = 0 accepts
   any first dimension. */
static learn_status learn__tok_tensor(const learn_model *m, const char *name, learn_type type,
                                      uint64_t d0, uint64_t d1, int required,
                                      learn_tensor_info *ti, char *err, size_t errn) {
    learn_status st = learn_model_tensor_find(m, name, ti);
    if (st == LEARN_ERR_NOT_FOUND) {
        ti->data = NULL;
        return required ? learn__fail(err, errn, LEARN_ERR_FORMAT, "tensor %s is missing", name)
                        : LEARN_OK;
    }
    if (st) return learn__fail(err, errn, st, "tensor %s: cannot be read", name);
    uint32_t want_dims = d1 ? 2 : 1;
    if (ti->type != type)
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "tensor %s: type %s, expected %s", name,
                           learn_type_name(ti->type) ? learn_type_name(ti->type) : "?",
                           learn_type_name(type));
    if (ti->n_dims != want_dims || (d0 && ti->shape[0] != d0) || (d1 && ti->shape[1] != d1))
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "tensor %s: shape (%llu, %llu) with %u dims, expected %s%llu%s", name,
                           (unsigned long long)ti->shape[0], (unsigned long long)ti->shape[1],
                           ti->n_dims, d1 ? "(n, " : "(",
                           (unsigned long long)(d1 ? d1 : d0), ")");
    return LEARN_OK;
}

/* Builds the text -> id table; refuses duplicate texts. */
static learn_status learn__tok_build_vocab(learn__tok *t, const learn_allocator *a, char *err,
                                           size_t errn) {
    uint32_t cap = learn__tok_table_size(t->n_vocab);
    t->vocab_slots = (uint64_t *)learn__calloc(a, cap, sizeof(uint64_t));
    if (!t->vocab_slots) return LEARN_ERR_NOMEM;
    t->vocab_mask = cap - 1;
    for (uint32_t id = 0; id < t->n_vocab; id++) {
        const uint8_t *s = learn__tok_str(t, (int32_t)id);
        size_t n = learn__tok_len(t, (int32_t)id);
        uint64_t h = learn__tok_hash(s, n);
        uint32_t tag = (uint32_t)(h >> 32), i = (uint32_t)h & t->vocab_mask;
        for (;; i = (i + 1) & t->vocab_mask) {
            uint64_t e = t->vocab_slots[i];
            if (!e) break;
            int32_t other = (int32_t)(uint32_t)e - 1;
            if ((uint32_t)(e >> 32) == tag && learn__tok_len(t, other) == n &&
                memcmp(learn__tok_str(t, other), s, n) == 0)
                return learn__fail(err, errn, LEARN_ERR_FORMAT,
                                   "tokenizer.text: token %u has the same text as token %d "
                                   "(\"%.*s\")",
                                   id, other, (int)(n > 40 ? 40 : n), (const char *)s);
        }
        t->vocab_slots[i] = (uint64_t)tag << 32 | (id + 1);
    }
    return LEARN_OK;
}

/* Parses a byte token's text "<0xNN>"; -1 when malformed. */
static int learn__tok_byte_value(const uint8_t *s, size_t n) {
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        int c = s[i], d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static learn_status learn__tok_build_merges(learn__tok *t, const learn_allocator *a, char *err,
                                            size_t errn) {
    if (!t->n_merges) return LEARN_OK;
    uint32_t cap = learn__tok_table_size(t->n_merges);
    t->merge_keys = (uint64_t *)learn__calloc(a, cap, sizeof(uint64_t));
    t->merge_rank = (uint32_t *)learn__malloc(a, (size_t)cap * sizeof(uint32_t));
    t->merge_result = (int32_t *)learn__malloc(a, (size_t)t->n_merges * sizeof(int32_t));
    if (!t->merge_keys || !t->merge_rank || !t->merge_result) return LEARN_ERR_NOMEM;
    t->merge_mask = cap - 1;
    uint8_t buf[2 * LEARN__TOK_MAX_PIECE];
    for (uint32_t r = 0; r < t->n_merges; r++) {
        int32_t l = t->merges[2 * (size_t)r], rt = t->merges[2 * (size_t)r + 1];
        if (l < 0 || (uint32_t)l >= t->n_vocab || rt < 0 || (uint32_t)rt >= t->n_vocab)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tokenizer.merges[%u]: token ids (%d, %d) out of range 0..%u", r,
                               l, rt, t->n_vocab - 1);
        size_t nl = learn__tok_len(t, l), nr = learn__tok_len(t, rt);
        memcpy(buf, learn__tok_str(t, l), nl);
        memcpy(buf + nl, learn__tok_str(t, rt), nr);
        int32_t res = learn__tok_find(t, buf, nl + nr);
        if (res < 0)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tokenizer.merges[%u]: tokens %d + %d give \"%.*s\", which is not "
                               "a token",
                               r, l, rt, (int)((nl + nr) > 40 ? 40 : nl + nr), (const char *)buf);
        t->merge_result[r] = res;
        uint64_t key = ((uint64_t)(uint32_t)l << 32 | (uint32_t)rt) + 1;
        uint32_t i = learn__bpe_merge_slot(key, t->merge_mask);
        while (t->merge_keys[i] && t->merge_keys[i] != key) i = (i + 1) & t->merge_mask;
        if (!t->merge_keys[i]) { /* a repeated pair keeps its first (lowest) rank */
            t->merge_keys[i] = key;
            t->merge_rank[i] = r;
        }
    }
    return LEARN_OK;
}

/* Ranks the special tokens and builds their trie. */
static int learn__tok_special_cmp_len(const learn__tok *t, int32_t x, int32_t y) {
    size_t lx = learn__tok_len(t, x), ly = learn__tok_len(t, y);
    if (lx != ly) return lx > ly ? -1 : 1;
    return x < y ? -1 : x > y;
}

static learn_status learn__tok_build_special(learn__tok *t, const learn_allocator *a) {
    uint32_t n = 0;
    for (uint32_t id = 0; id < t->n_vocab; id++) {
        unsigned ty = learn__tok_type(t, (int32_t)id);
        if (learn__tok_is_special(ty)) n++;
    }
    t->n_special = n;
    if (!n) return LEARN_OK;
    t->special = (int32_t *)learn__malloc(a, (size_t)n * sizeof(int32_t));
    if (!t->special) return LEARN_ERR_NOMEM;
    size_t nodes = 1;
    n = 0;
    for (uint32_t id = 0; id < t->n_vocab; id++) {
        unsigned ty = learn__tok_type(t, (int32_t)id);
        if (learn__tok_is_special(ty)) {
            t->special[n++] = (int32_t)id;
            nodes += learn__tok_len(t, (int32_t)id);
            if (ty == LEARN_TOKEN_KIND_USER_DEFINED) t->has_user = 1;
        }
    }
    /* Merge sort by (length desc, id asc): n can be large (deepseek: 2400). */
    int32_t *tmp = (int32_t *)learn__malloc(a, (size_t)n * sizeof(int32_t));
    if (!tmp) return LEARN_ERR_NOMEM;
    for (uint32_t w = 1; w < n; w *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * w) {
            uint32_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = learn__tok_special_cmp_len(t, t->special[j], t->special[i]) < 0
                               ? t->special[j++]
                               : t->special[i++];
            while (i < mid) tmp[k++] = t->special[i++];
            while (j < hi) tmp[k++] = t->special[j++];
        }
        memcpy(t->special, tmp, (size_t)n * sizeof(int32_t));
    }
    learn__free(a, tmp);
    /* The trie: at most one node per byte of special text, plus the root. */
    if (nodes > UINT32_MAX / 2) return LEARN_ERR_NOMEM;
    t->trie = (learn__tok_trie_node *)learn__malloc(a, nodes * sizeof(learn__tok_trie_node));
    if (!t->trie) return LEARN_ERR_NOMEM;
    t->trie[0].child = t->trie[0].sibling = 0;
    t->trie[0].rank = -1;
    t->n_trie = 1;
    for (uint32_t r = 0; r < n; r++) {
        const uint8_t *s = learn__tok_str(t, t->special[r]);
        size_t len = learn__tok_len(t, t->special[r]);
        uint32_t node = 0;
        for (size_t i = 0; i < len; i++) {
            uint32_t c = node ? t->trie[node].child : t->root[s[i]];
            while (c && t->trie[c].byte != s[i]) c = t->trie[c].sibling;
            if (!c) {
                c = t->n_trie++;
                t->trie[c].child = 0;
                t->trie[c].rank = -1;
                t->trie[c].byte = s[i];
                if (node) {
                    t->trie[c].sibling = t->trie[node].child;
                    t->trie[node].child = c;
                } else {
                    t->trie[c].sibling = 0;
                    t->root[s[i]] = c;
                }
            }
            node = c;
        }
        t->trie[node].rank = (int32_t)r; /* texts are unique */
    }
    return LEARN_OK;
}

/* The vocabulary's tables: texts and offsets, then scores and types, each checked. */
static learn_status learn__tok_read_vocab(const learn_model *m, learn__tok *t, char *err, size_t errn) {
    learn_tensor_info ti_text, ti_offs, ti_scores, ti_types;
    learn_status st;
    if ((st = learn__tok_tensor(m, "tokenizer.text", LEARN_TYPE_U8, 0, 0, 1, &ti_text, err, errn)) ||
        (st = learn__tok_tensor(m, "tokenizer.offsets", LEARN_TYPE_I32, 0, 0, 1, &ti_offs, err, errn)))
        return st;
    if (ti_offs.shape[0] < 2 || ti_offs.shape[0] - 1 > LEARN__TOK_MAX_VOCAB)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "tensor tokenizer.offsets: %llu entries, expected 2..%u (n_vocab + 1)",
                           (unsigned long long)ti_offs.shape[0], LEARN__TOK_MAX_VOCAB + 1);
    t->n_vocab = (uint32_t)(ti_offs.shape[0] - 1);
    t->text = (const uint8_t *)ti_text.data;
    t->offs = (const int32_t *)ti_offs.data;
    if (t->offs[0] != 0)
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "tokenizer.offsets[0] is %d, expected 0",
                           t->offs[0]);
    for (uint32_t i = 0; i < t->n_vocab; i++) {
        int64_t len = (int64_t)t->offs[i + 1] - t->offs[i];
        if (len <= 0 || len > LEARN__TOK_MAX_PIECE)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               len == 0 ? "tokenizer.offsets: token %u is empty"
                                        : "tokenizer.offsets: token %u has length %lld (1..%u)",
                               i, (long long)len, LEARN__TOK_MAX_PIECE);
    }
    if ((uint64_t)t->offs[t->n_vocab] != ti_text.shape[0])
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "tokenizer.offsets[%u] is %d but tokenizer.text has %llu bytes",
                           t->n_vocab, t->offs[t->n_vocab], (unsigned long long)ti_text.shape[0]);
    if ((st = learn__tok_tensor(m, "tokenizer.scores", LEARN_TYPE_F32, t->n_vocab, 0,
                                t->kind == LEARN__TOK_SPM, &ti_scores, err, errn)) ||
        (st = learn__tok_tensor(m, "tokenizer.types", LEARN_TYPE_U8, t->n_vocab, 0, 0, &ti_types,
                                err, errn)))
        return st;
    t->scores = (const float *)ti_scores.data;
    t->types = (const uint8_t *)ti_types.data;
    if (t->scores)
        for (uint32_t i = 0; i < t->n_vocab; i++)
            if (isnan(t->scores[i]))
                return learn__fail(err, errn, LEARN_ERR_FORMAT, "tokenizer.scores[%u] is NaN", i);
    for (uint32_t i = 0; t->types && i < t->n_vocab; i++) {
        unsigned v = t->types[i];
        if ((v & LEARN__TOK_TYPE_MASK) > LEARN_TOKEN_KIND_BYTE ||
            (v & ~(LEARN__TOK_TYPE_MASK | LEARN__TOK_LSTRIP | LEARN__TOK_RSTRIP)))
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tokenizer.types[%u] = 0x%02x: type 0..6 in bits 0-3, flags "
                               "0x10 and 0x20",
                               i, v);
        if ((v & LEARN__TOK_TYPE_MASK) == LEARN_TOKEN_KIND_BYTE &&
            learn__tok_byte_value(learn__tok_str(t, (int32_t)i), learn__tok_len(t, (int32_t)i)) < 0) {
            size_t n = learn__tok_len(t, (int32_t)i);
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tokenizer.types[%u]: byte token \"%.*s\" is not of the form "
                               "<0xNN>",
                               i, (int)(n > 20 ? 20 : n), (const char *)learn__tok_str(t, (int32_t)i));
        }
    }
    return LEARN_OK;
}

/* The settings: special ids, flags and the normalizer; for bpe, the pre-tokenizer and the
   merges. */
static learn_status learn__tok_read_settings(const learn_model *m, learn__tok *t, char *err,
                                             size_t errn) {
    learn_status st;
    if ((st = learn__tok_meta_id(m, "tokenizer.bos_id", -1, t->n_vocab, &t->bos, err, errn)) ||
        (st = learn__tok_meta_id(m, "tokenizer.eos_id", -1, t->n_vocab, &t->eos, err, errn)) ||
        (st = learn__tok_meta_id(m, "tokenizer.unk_id", -1, t->n_vocab, &t->unk, err, errn)) ||
        (st = learn__tok_meta_id(m, "tokenizer.pad_id", -1, t->n_vocab, &t->pad, err, errn)) ||
        (st = learn__tok_meta_bool(m, "tokenizer.add_bos", 0, &t->add_bos, err, errn)) ||
        (st = learn__tok_meta_bool(m, "tokenizer.add_eos", 0, &t->add_eos, err, errn)) ||
        (st = learn__tok_meta_bool(m, "tokenizer.add_space_prefix", t->kind == LEARN__TOK_SPM,
                                   &t->add_space_prefix, err, errn)) ||
        (st = learn__tok_meta_bool(m, "tokenizer.remove_extra_whitespaces", 0,
                                   &t->remove_extra_ws, err, errn)) ||
        (st = learn__tok_meta_bool(m, "tokenizer.ignore_merges", 0, &t->ignore_merges, err,
                                   errn)))
        return st;
    if (t->add_bos && t->bos < 0)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "tokenizer.add_bos is set but tokenizer.bos_id is absent or -1");
    if (t->add_eos && t->eos < 0)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "tokenizer.add_eos is set but tokenizer.eos_id is absent or -1");
    const char *norm;
    st = learn_model_meta_str(m, "tokenizer.normalizer", &norm, NULL);
    if (st == LEARN_ERR_NOT_FOUND) norm = "none";
    else if (st)
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "tokenizer.normalizer: expected a string");
    if (strcmp(norm, "nfc") == 0) t->nfc = 1;
    else if (strcmp(norm, "none") != 0)
        return learn__fail(err, errn, LEARN_ERR_UNSUPPORTED,
                           "tokenizer.normalizer: \"%.40s\" is not supported (none, nfc)", norm);
    if (t->kind != LEARN__TOK_BPE) return LEARN_OK;
    if (t->add_space_prefix || t->remove_extra_ws)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "tokenizer.add_space_prefix and tokenizer.remove_extra_whitespaces "
                           "apply to spm only");
    const char *pre;
    if (learn_model_meta_str(m, "tokenizer.pre", &pre, NULL) != LEARN_OK)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "tokenizer.pre: a bpe tokenizer needs its pre-tokenizer name");
    for (size_t i = 0; i < sizeof learn__pre_names / sizeof learn__pre_names[0]; i++)
        if (strcmp(pre, learn__pre_names[i].name) == 0) t->stages = learn__pre_names[i].stages;
    if (!t->stages)
        return learn__fail(err, errn, LEARN_ERR_UNSUPPORTED,
                           "tokenizer.pre: pre-tokenizer \"%.40s\" is not supported", pre);
    t->pre_name = pre;
    learn_tensor_info ti_merges;
    if ((st = learn__tok_tensor(m, "tokenizer.merges", LEARN_TYPE_I32, 0, 2, 1, &ti_merges, err, errn)))
        return st;
    if (ti_merges.shape[0] > LEARN__TOK_MAX_MERGES)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "tensor tokenizer.merges: %llu merges, at most %u",
                           (unsigned long long)ti_merges.shape[0], LEARN__TOK_MAX_MERGES);
    t->merges = (const int32_t *)ti_merges.data;
    t->n_merges = (uint32_t)ti_merges.shape[0];
    return LEARN_OK;
}

/* Byte fallback (spm: the token of each byte, <0xNN> or the byte itself) and the byte map
   (bpe: each byte's character and its token, and back); spm_cut. */
static void learn__tok_build_bytes(learn__tok *t) {
    for (unsigned b = 0; b < 256; b++) {
        uint8_t s[8];
        if (t->kind == LEARN__TOK_SPM) {
            static const char hex[] = "0123456789ABCDEF";
            s[0] = '<', s[1] = '0', s[2] = 'x', s[3] = (uint8_t)hex[b >> 4],
            s[4] = (uint8_t)hex[b & 15], s[5] = '>';
            t->byte_tok[b] = learn__tok_find(t, s, 6);
            if (t->byte_tok[b] < 0) {
                s[0] = (uint8_t)b;
                t->byte_tok[b] = learn__tok_find(t, s, 1);
            }
        } else {
            size_t cl = learn__tok_utf8_put(learn__bpe_byte_cp(b), t->bpe_char[b]);
            t->bpe_char_len[b] = (uint8_t)cl;
            t->byte_tok[b] = learn__tok_find(t, t->bpe_char[b], t->bpe_char_len[b]);
        }
    }
    if (t->kind == LEARN__TOK_SPM) {
        t->spm_cut = 1;
        for (uint32_t id = 0; id < t->n_vocab && t->spm_cut; id++) {
            const uint8_t *s = learn__tok_str(t, (int32_t)id);
            size_t n = learn__tok_len(t, (int32_t)id);
            for (size_t k = 1; k + 3 <= n; k++)
                if (s[k] == 0xE2 && s[k + 1] == 0x96 && s[k + 2] == 0x81 &&
                    !(k >= 3 && s[k - 3] == 0xE2 && s[k - 2] == 0x96 && s[k - 1] == 0x81)) {
                    t->spm_cut = 0;
                    break;
                }
        }
    }
    for (unsigned c = 0; c < 324; c++) t->bpe_byte_of[c] = -1;
    for (unsigned b = 0; b < 256; b++) t->bpe_byte_of[learn__bpe_byte_cp(b)] = (int16_t)b;
}

/* Loads and validates the tokenizer.* data of a model (the schema is in learn.h). Called once
   at open when the key tokenizer.model exists; the result is immutable. */
static learn_status learn__tok_load(const learn_model *m, const learn_allocator *a,
                                    learn__tok **out, char *err, size_t errn) {
    *out = NULL;
    const char *model;
    learn_status st = learn_model_meta_str(m, "tokenizer.model", &model, NULL);
    if (st) return learn__fail(err, errn, LEARN_ERR_FORMAT, "tokenizer.model: expected a string");
    learn__tok *t = (learn__tok *)learn__calloc(a, 1, sizeof *t);
    if (!t) return learn__fail(err, errn, LEARN_ERR_NOMEM, "tokenizer: out of memory");
    t->model_name = model;
    t->pre_name = "";
    if (strcmp(model, "spm") == 0) t->kind = LEARN__TOK_SPM;
    else if (strcmp(model, "bpe") == 0) t->kind = LEARN__TOK_BPE;
    else st = learn__fail(err, errn, LEARN_ERR_UNSUPPORTED,
                          "tokenizer.model: \"%.40s\" is not supported (spm, bpe)", model);
    if (!st) st = learn__tok_read_vocab(m, t, err, errn);
    if (!st) st = learn__tok_read_settings(m, t, err, errn);
    if (!st) st = learn__tok_build_vocab(t, a, err, errn);
    if (!st) st = learn__tok_build_merges(t, a, err, errn);
    if (!st) st = learn__tok_build_special(t, a);
    if (st) {
        if (st == LEARN_ERR_NOMEM) learn__fail(err, errn, st, "tokenizer: out of memory");
        learn__tok_free(a, t);
        return st;
    }
    learn__tok_build_bytes(t);
    *out = t;
    return LEARN_OK;
}

/* ---- Encoding: shared state of one call ---- */

typedef struct learn__tok_enc {
    const learn__tok *t;
    const learn_allocator *a;
    int32_t *ids;
    size_t cap, n;      /* ids written while n < cap; n counts all */
    learn__tok_buf cps, props, word, sym, heap, text, claim, occ;
} learn__tok_enc;

static void learn__tok_emit(learn__tok_enc *e, int32_t id) {
    if (e->n < e->cap) e->ids[e->n] = id;
    e->n++;
}

/* spm byte fallback: the byte's token, else the unknown token, else nothing. */
static void learn__tok_emit_byte(learn__tok_enc *e, uint8_t b) {
    int32_t id = e->t->byte_tok[b];
    if (id < 0) id = e->t->unk;
    if (id >= 0) learn__tok_emit(e, id);
}

/* ---- Special tokens ---- */

typedef struct learn__tok_occ {
    uint32_t rank;
    uint32_t pos;
} learn__tok_occ;

/* Marks in e->claim: 0 free text, 1 part of an accepted special token (its first byte is 2),
   3 whitespace removed by lstrip/rstrip. */
#define LEARN__TOK_CL_FREE 0
#define LEARN__TOK_CL_BODY 1
#define LEARN__TOK_CL_HEAD 2
#define LEARN__TOK_CL_STRIP 3

static int learn__tok_is_cspace(uint8_t c) { return c == ' ' || (c >= 9 && c <= 13); }

/* Accepts the special token of rank r at pos if its bytes are all free. */
static int learn__tok_special_accept(learn__tok_enc *e, const uint8_t *s, size_t len, uint32_t r,
                                 size_t pos) {
    const learn__tok *t = e->t;
    uint8_t *cl = (uint8_t *)e->claim.p;
    int32_t id = t->special[r];
    size_t n = learn__tok_len(t, id);
    for (size_t i = 0; i < n; i++)
        if (cl[pos + i]) return 0;
    cl[pos] = LEARN__TOK_CL_HEAD;
    memset(cl + pos + 1, LEARN__TOK_CL_BODY, n - 1);
    unsigned ty = t->types[id];
    if (ty & LEARN__TOK_LSTRIP)
        for (size_t i = pos; i > 0 && !cl[i - 1] && learn__tok_is_cspace(s[i - 1]); i--)
            cl[i - 1] = LEARN__TOK_CL_STRIP;
    if (ty & LEARN__TOK_RSTRIP)
        for (size_t i = pos + n; i < len && !cl[i] && learn__tok_is_cspace(s[i]); i++)
            cl[i] = LEARN__TOK_CL_STRIP;
    return 1;
}

static int learn__tok_special_allowed(const learn__tok *t, uint32_t r, int parse_special) {
    return parse_special || learn__tok_type(t, t->special[r]) == LEARN_TOKEN_KIND_USER_DEFINED;
}

/* Finds the special tokens in s[0..len) as llama.cpp does: tokens in rank order (longest
   first), each taking its occurrences left to right that lie wholly in text not yet taken.
   Fills e->claim; returns 0 (nothing found), 1 (found), or -1 (out of memory).
   A trie pass collects all occurrences (bounded); when there are too many (long runs of a
   repeated special text), each token found is instead searched for directly. */
static int learn__tok_special_find(learn__tok_enc *e, const uint8_t *s, size_t len,
                                   int parse_special) {
    const learn__tok *t = e->t;
    if (!t->n_special || (!parse_special && !t->has_user)) return 0;
    size_t n_occ = 0, max_occ = len + 1024;
    int overflow = 0;
    learn__tok_occ *occ = NULL;
    uint8_t *seen = NULL; /* per rank, with overflow */
    for (size_t p = 0; p < len; p++) {
        uint32_t node = t->root[s[p]];
        for (size_t q = p; node;) {
            const learn__tok_trie_node *nd = &t->trie[node];
            if (nd->rank >= 0 && learn__tok_special_allowed(t, (uint32_t)nd->rank, parse_special)) {
                if (!overflow && n_occ == max_occ) {
                    overflow = 1;
                    if (!learn__tok_reserve(e->a, &e->sym, t->n_special, 1)) return -1;
                    seen = (uint8_t *)e->sym.p;
                    memset(seen, 0, t->n_special);
                    for (size_t i = 0; i < n_occ; i++) seen[occ[i].rank] = 1;
                }
                if (overflow) seen[nd->rank] = 1;
                else {
                    if (!learn__tok_reserve(e->a, &e->occ, n_occ + 1, sizeof(learn__tok_occ)))
                        return -1;
                    occ = (learn__tok_occ *)e->occ.p;
                    occ[n_occ].rank = (uint32_t)nd->rank;
                    occ[n_occ].pos = (uint32_t)p;
                    n_occ++;
                }
            }
            if (++q >= len) break;
            node = nd->child;
            while (node && t->trie[node].byte != s[q]) node = t->trie[node].sibling;
        }
    }
    if (!n_occ && !overflow) return 0;
    if (!learn__tok_reserve(e->a, &e->claim, len, 1)) return -1;
    memset(e->claim.p, 0, len);
    if (overflow) { /* each token found, searched for in the free runs of text left */
        size_t nf = 1;
        if (!learn__tok_reserve(e->a, &e->cps, 2, sizeof(uint32_t))) return -1;
        ((uint32_t *)e->cps.p)[0] = 0;
        ((uint32_t *)e->cps.p)[1] = (uint32_t)len;
        for (uint32_t r = 0; r < t->n_special && nf; r++) {
            if (!seen[r]) continue;
            const uint8_t *ts = learn__tok_str(t, t->special[r]);
            size_t tn = learn__tok_len(t, t->special[r]), nout = 0;
            const uint8_t *cl = (const uint8_t *)e->claim.p;
            for (size_t f = 0; f < nf; f++) {
                const uint32_t *fr = (const uint32_t *)e->cps.p;
                size_t a = fr[2 * f], b = fr[2 * f + 1], p = a;
                int hit = 0;
                while (b - p >= tn) {
                    const uint8_t *q = (const uint8_t *)memchr(s + p, ts[0], b - tn + 1 - p);
                    if (!q) break;
                    p = (size_t)(q - s);
                    if (memcmp(q, ts, tn) == 0 && learn__tok_special_accept(e, s, len, r, p)) {
                        hit = 1;
                        p += tn;
                    } else {
                        p++;
                    }
                }
                /* The free runs of this fragment go to the next list. */
                for (size_t i = a; i < b;) {
                    if (hit && cl[i]) {
                        i++;
                        continue;
                    }
                    size_t j = hit ? i + 1 : b;
                    while (j < b && !cl[j]) j++;
                    if (!learn__tok_reserve(e->a, &e->props, 2 * (nout + 1), sizeof(uint32_t)))
                        return -1;
                    ((uint32_t *)e->props.p)[2 * nout] = (uint32_t)i;
                    ((uint32_t *)e->props.p)[2 * nout + 1] = (uint32_t)j;
                    nout++;
                    i = j;
                }
            }
            learn__tok_buf tmp = e->cps;
            e->cps = e->props;
            e->props = tmp;
            nf = nout;
        }
        return 1;
    }
    /* Occurrences are in position order; a stable counting sort by rank keeps that order. */
    if (!learn__tok_reserve(e->a, &e->heap, n_occ, sizeof(learn__tok_occ)) ||
        !learn__tok_reserve(e->a, &e->sym, (size_t)t->n_special + 1, sizeof(uint32_t)))
        return -1;
    learn__tok_occ *sorted = (learn__tok_occ *)e->heap.p;
    uint32_t *start = (uint32_t *)e->sym.p;
    memset(start, 0, ((size_t)t->n_special + 1) * sizeof(uint32_t));
    for (size_t i = 0; i < n_occ; i++) start[occ[i].rank + 1]++;
    for (uint32_t r = 0; r < t->n_special; r++) start[r + 1] += start[r];
    for (size_t i = 0; i < n_occ; i++) sorted[start[occ[i].rank]++] = occ[i];
    for (size_t i = 0; i < n_occ; i++)
        learn__tok_special_accept(e, s, len, sorted[i].rank, sorted[i].pos);
    return 1;
}

/* ---- SentencePiece BPE ---- */

typedef struct learn__spm_sym {
    int32_t prev, next;
    uint32_t start, n; /* bytes of the escaped text; n = 0 once merged away */
} learn__spm_sym;

typedef struct learn__spm_bigram {
    float score;
    int32_t left, right;
    uint32_t size;
} learn__spm_bigram;

/* Heap order: higher score first, then the leftmost pair. */
static int learn__spm_before(const learn__spm_bigram *x, const learn__spm_bigram *y) {
    return x->score > y->score || (x->score == y->score && x->left < y->left);
}

static int learn__spm_push(learn__tok_enc *e, size_t *n, learn__spm_bigram b) {
    if (!learn__tok_reserve(e->a, &e->heap, *n + 1, sizeof b)) return 0;
    learn__spm_bigram *h = (learn__spm_bigram *)e->heap.p;
    size_t i = (*n)++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!learn__spm_before(&b, &h[parent])) break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = b;
    return 1;
}

static learn__spm_bigram learn__spm_pop(learn__spm_bigram *h, size_t *n) {
    learn__spm_bigram top = h[0], last = h[--*n];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && learn__spm_before(&h[c + 1], &h[c])) c++;
        if (!learn__spm_before(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (m) h[i] = last;
    return top;
}

/* Queues the pair (l, r) when their concatenation is a token; 0 when out of memory. */
static int learn__spm_try(learn__tok_enc *e, const uint8_t *x, const learn__spm_sym *sym,
                          size_t *nh, int32_t l, int32_t r) {
    if (l < 0 || r < 0) return 1;
    uint32_t size = sym[l].n + sym[r].n;
    int32_t id = learn__tok_find(e->t, x + sym[l].start, size);
    if (id < 0) return 1;
    learn__spm_bigram b = {e->t->scores[id], l, r, size};
    return learn__spm_push(e, nh, b);
}

#define LEARN__SPM_IS_SPACE(x, sym) ((sym).n == 3 && (x)[(sym).start] == 0xE2 &&                  \
                                     (x)[(sym).start + 1] == 0x96 && (x)[(sym).start + 2] == 0x81)

/* Encodes one fragment of text: optional whitespace clean-up, the dummy prefix, spaces to
   U+2581, then llama.cpp's SPM session: merge the best-scoring adjacent pair until none is a
   token; symbols that are no token fall back to bytes.
   When no token has a U+2581 after some other character (t->spm_cut), no merge can cross the
   start of a word, so each word is merged on its own: the same result, with small heaps. */
static learn_status learn__spm_encode(learn__tok_enc *e, const uint8_t *s, size_t len, int prefix) {
    const learn__tok *t = e->t;
    size_t need;
    if (!learn__mul_ok(len + 1, 3, &need) || !learn__tok_reserve(e->a, &e->text, need, 1))
        return LEARN_ERR_NOMEM;
    uint8_t *x = (uint8_t *)e->text.p;
    size_t n = 0, i = 0, end = len;
    if (t->remove_extra_ws) { /* SentencePiece: no leading/trailing spaces, runs become one */
        while (i < end && s[i] == ' ') i++;
        while (end > i && s[end - 1] == ' ') end--;
        if (i == end) return LEARN_OK;
    }
    if (prefix) x[n++] = 0xE2, x[n++] = 0x96, x[n++] = 0x81;
    for (; i < end; i++) {
        if (s[i] == ' ') {
            if (t->remove_extra_ws && s[i - 1] == ' ') continue;
            x[n++] = 0xE2, x[n++] = 0x96, x[n++] = 0x81;
        } else {
            x[n++] = s[i];
        }
    }
    if (t->remove_extra_ws) /* SentencePiece drops trailing U+2581, written ones included */
        while (n >= 3 && x[n - 3] == 0xE2 && x[n - 2] == 0x96 && x[n - 1] == 0x81) n -= 3;
    if (!n) return LEARN_OK;
    if (n > INT32_MAX / 4) return LEARN_ERR_TOO_LONG;
    /* Symbols: UTF-8 characters by their lead byte, as llama.cpp (no validation). */
    static const uint8_t lead_len[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    if (!learn__tok_reserve(e->a, &e->sym, n, sizeof(learn__spm_sym))) return LEARN_ERR_NOMEM;
    learn__spm_sym *sym = (learn__spm_sym *)e->sym.p;
    int32_t ns = 0;
    for (size_t k = 0; k < n;) {
        size_t l = lead_len[x[k] >> 4];
        if (l > n - k) l = n - k;
        sym[ns].start = (uint32_t)k;
        sym[ns].n = (uint32_t)l;
        ns++;
        k += l;
    }
    for (int32_t c0 = 0, c1; c0 < ns; c0 = c1) {
        c1 = c0 + 1;
        if (t->spm_cut)
            while (c1 < ns && !(LEARN__SPM_IS_SPACE(x, sym[c1]) &&
                                !LEARN__SPM_IS_SPACE(x, sym[c1 - 1])))
                c1++;
        else
            c1 = ns;
        for (int32_t k = c0; k < c1; k++) {
            sym[k].prev = k == c0 ? -1 : k - 1;
            sym[k].next = k + 1 == c1 ? -1 : k + 1;
        }
        size_t nh = 0;
        for (int32_t k = c0 + 1; k < c1; k++)
            if (!learn__spm_try(e, x, sym, &nh, k - 1, k)) return LEARN_ERR_NOMEM;
        while (nh) {
            learn__spm_bigram b = learn__spm_pop((learn__spm_bigram *)e->heap.p, &nh);
            learn__spm_sym *l = &sym[b.left], *r = &sym[b.right];
            if (!l->n || !r->n || l->n + r->n != b.size) continue; /* stale */
            l->n += r->n;
            r->n = 0;
            l->next = r->next;
            if (r->next >= 0) sym[r->next].prev = b.left;
            if (!learn__spm_try(e, x, sym, &nh, l->prev, b.left) ||
                !learn__spm_try(e, x, sym, &nh, b.left, l->next))
                return LEARN_ERR_NOMEM;
        }
        for (int32_t k = c0; k != -1; k = sym[k].next) {
            int32_t id = learn__tok_find(t, x + sym[k].start, sym[k].n);
            if (id >= 0) learn__tok_emit(e, id);
            else
                for (uint32_t j = 0; j < sym[k].n; j++)
                    learn__tok_emit_byte(e, x[sym[k].start + j]);
        }
    }
    return LEARN_OK;
}

#undef LEARN__SPM_IS_SPACE

/* ---- Byte-level BPE: merging one word ---- */

typedef struct learn__bpe_sym {
    int32_t id, prev, next;
} learn__bpe_sym;

typedef struct learn__bpe_bigram {
    uint32_t rank;
    int32_t left;
    int32_t left_id, right_id;
} learn__bpe_bigram;

static int learn__bpe_before(const learn__bpe_bigram *x, const learn__bpe_bigram *y) {
    return x->rank < y->rank || (x->rank == y->rank && x->left < y->left);
}

static int learn__bpe_push(learn__tok_enc *e, size_t *n, learn__bpe_bigram b) {
    if (!learn__tok_reserve(e->a, &e->heap, *n + 1, sizeof b)) return 0;
    learn__bpe_bigram *h = (learn__bpe_bigram *)e->heap.p;
    size_t i = (*n)++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!learn__bpe_before(&b, &h[parent])) break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = b;
    return 1;
}

static learn__bpe_bigram learn__bpe_pop(learn__bpe_bigram *h, size_t *n) {
    learn__bpe_bigram top = h[0], last = h[--*n];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && learn__bpe_before(&h[c + 1], &h[c])) c++;
        if (!learn__bpe_before(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (m) h[i] = last;
    return top;
}

/* Queues the pair (l, next of l) when a merge joins them; 0 when out of memory. */
static int learn__bpe_try(learn__tok_enc *e, const learn__bpe_sym *sym, size_t *nh, int32_t l) {
    if (l < 0) return 1;
    int32_t r = sym[l].next;
    if (r < 0 || sym[l].id < 0 || sym[r].id < 0) return 1;
    int32_t rank = learn__bpe_merge_find(e->t, sym[l].id, sym[r].id);
    if (rank < 0) return 1;
    learn__bpe_bigram b = {(uint32_t)rank, l, sym[l].id, sym[r].id};
    return learn__bpe_push(e, nh, b);
}

/* Merges the bytes w[0..n) of one pre-tokenized word by merge rank (lowest first, then
   leftmost) and emits the tokens. */
static learn_status learn__bpe_word(learn__tok_enc *e, const uint8_t *w, size_t n) {
    const learn__tok *t = e->t;
    if (n == 1) { /* a byte the vocabulary lacks is dropped, as llama.cpp does */
        if (t->byte_tok[w[0]] >= 0) learn__tok_emit(e, t->byte_tok[w[0]]);
        return LEARN_OK;
    }
    if (t->ignore_merges) { /* the word as a whole, in the byte map */
        size_t need;
        if (!learn__mul_ok(n, 2, &need) || !learn__tok_reserve(e->a, &e->text, need, 1))
            return LEARN_ERR_NOMEM;
        uint8_t *x = (uint8_t *)e->text.p;
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            memcpy(x + m, t->bpe_char[w[i]], t->bpe_char_len[w[i]]);
            m += t->bpe_char_len[w[i]];
        }
        int32_t id = learn__tok_find(t, x, m);
        if (id >= 0) {
            learn__tok_emit(e, id);
            return LEARN_OK;
        }
    }
    if (n > INT32_MAX / 2) return LEARN_ERR_TOO_LONG;
    if (!learn__tok_reserve(e->a, &e->sym, n, sizeof(learn__bpe_sym))) return LEARN_ERR_NOMEM;
    learn__bpe_sym *sym = (learn__bpe_sym *)e->sym.p;
    for (size_t i = 0; i < n; i++) {
        sym[i].id = t->byte_tok[w[i]];
        sym[i].prev = (int32_t)i - 1;
        sym[i].next = i + 1 == n ? -1 : (int32_t)i + 1;
    }
    size_t nh = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (!learn__bpe_try(e, sym, &nh, (int32_t)i)) return LEARN_ERR_NOMEM;
    while (nh) {
        learn__bpe_bigram b = learn__bpe_pop((learn__bpe_bigram *)e->heap.p, &nh);
        learn__bpe_sym *l = &sym[b.left];
        if (l->id != b.left_id || l->next < 0) continue; /* stale */
        learn__bpe_sym *r = &sym[l->next];
        if (r->id != b.right_id) continue;
        l->id = t->merge_result[b.rank];
        r->id = -2; /* merged away */
        l->next = r->next;
        if (r->next >= 0) sym[r->next].prev = b.left;
        if (!learn__bpe_try(e, sym, &nh, l->prev) || !learn__bpe_try(e, sym, &nh, b.left))
            return LEARN_ERR_NOMEM;
    }
    for (int32_t k = 0; k != -1; k = sym[k].next)
        if (sym[k].id >= 0) learn__tok_emit(e, sym[k].id); /* else a byte the vocabulary lacks */
    return LEARN_OK;
}

/* ---- Byte-level BPE: pre-tokenizers ---- */

typedef struct learn__pre {
    learn__tok_enc *e;
    const uint32_t *cp;
    const uint8_t *pr;
    const uint8_t *stages;
} learn__pre;

static learn_status learn__pre_stage(learn__pre *p, int k, size_t a, size_t b);

/* Hands the piece [a, b) to stage k, or to BPE after the last stage. */
static learn_status learn__pre_piece(learn__pre *p, int k, size_t a, size_t b) {
    if (a >= b) return LEARN_OK;
    if (p->stages[k] != LEARN__PRE_END) return learn__pre_stage(p, k, a, b);
    learn__tok_enc *e = p->e;
    size_t need;
    if (!learn__mul_ok(b - a, 4, &need) || !learn__tok_reserve(e->a, &e->word, need, 1))
        return LEARN_ERR_NOMEM;
    uint8_t *w = (uint8_t *)e->word.p;
    size_t n = 0;
    for (size_t i = a; i < b; i++) n += learn__tok_utf8_put(p->cp[i], w + n);
    return learn__bpe_word(e, w, n);
}

#define LEARN__PRE_EMIT(s, end)                                                                    \
    do {                                                                                          \
        learn_status st_ = learn__pre_piece(p, k + 1, (s), (end));                                 \
        if (st_) return st_;                                                                      \
    } while (0)

/* Property helpers: out of the segment [a, b) a position has no properties (as llama.cpp). */
#define LEARN__PRE_AT(i) ((i) < b ? p->pr[i] : 0u)
#define LEARN__PRE_LETTER(pr) LEARN__UCP_IS(pr, LEARN__UCP_L)
#define LEARN__PRE_NUMBER(pr) LEARN__UCP_IS(pr, LEARN__UCP_N)
/* [^\s\p{L}\p{N}]: any code point of the segment that is none of those. */
#define LEARN__PRE_OTHER(i)                                                                       \
    ((i) < b && !LEARN__UCP_IS_SPACE(p->pr[i]) && !LEARN__PRE_LETTER(p->pr[i]) &&                 \
     !LEARN__PRE_NUMBER(p->pr[i]))

static uint32_t learn__pre_lower(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* The length (2, 3) of a contraction 's 't 're 've 'm 'll 'd at i, or 0; fold: any case. */
static size_t learn__pre_contraction(const learn__pre *p, size_t i, size_t b, int fold) {
    if (p->cp[i] != '\'' || i + 1 >= b) return 0;
    uint32_t c1 = fold ? learn__pre_lower(p->cp[i + 1]) : p->cp[i + 1];
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
    if (i + 2 >= b) return 0;
    uint32_t c2 = fold ? learn__pre_lower(p->cp[i + 2]) : p->cp[i + 2];
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
        return 3;
    return 0;
}

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
   as llama.cpp's unicode_regex_split_custom_gpt2 evaluates it. */
static learn_status learn__pre_gpt2(learn__pre *p, int k, size_t a, size_t b) {
    size_t i = a;
    while (i < b) {
        size_t c = learn__pre_contraction(p, i, b, 0), j;
        if (c) {
            LEARN__PRE_EMIT(i, i + c);
            i += c;
            continue;
        }
        uint32_t cp = p->cp[i];
        size_t q = cp == ' ' ? i + 1 : i; /* where the optional space would end */
        unsigned pr2 = LEARN__PRE_AT(q);
        if (q < b && LEARN__PRE_LETTER(pr2)) {
            for (j = q; j < b && LEARN__PRE_LETTER(p->pr[j]); j++) {}
        } else if (q < b && LEARN__PRE_NUMBER(pr2)) {
            for (j = q; j < b && LEARN__PRE_NUMBER(p->pr[j]); j++) {}
        } else if (LEARN__PRE_OTHER(q)) {
            for (j = q; LEARN__PRE_OTHER(j); j++) {}
        } else {
            size_t ws = 0;
            while (i + ws < b && LEARN__UCP_IS_SPACE(p->pr[i + ws])) ws++;
            if (ws > 1 && i + ws < b) j = i + ws - 1; /* \s+(?!\S): leave one for the next */
            else if (ws > 0) j = i + ws;
            else j = i + 1;
        }
        LEARN__PRE_EMIT(i, j);
        i = j;
    }
    return LEARN_OK;
}

/* Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+  as llama.cpp's
   unicode_regex_split_custom_llama3 evaluates it. */
static learn_status learn__pre_llama3(learn__pre *p, int k, size_t a, size_t b) {
    size_t i = a;
    while (i < b) {
        size_t c = learn__pre_contraction(p, i, b, 1), j;
        if (c) {
            LEARN__PRE_EMIT(i, i + c);
            i += c;
            continue;
        }
        uint32_t cp = p->cp[i];
        unsigned pr = p->pr[i];
        if (!(cp == '\r' || cp == '\n' || LEARN__PRE_NUMBER(pr)) &&
            (LEARN__PRE_LETTER(pr) || LEARN__PRE_LETTER(LEARN__PRE_AT(i + 1)))) {
            for (j = i + 1; j < b && LEARN__PRE_LETTER(p->pr[j]); j++) {}
            LEARN__PRE_EMIT(i, j);
            i = j;
            continue;
        }
        if (LEARN__PRE_NUMBER(pr)) { /* runs of digits in groups of three */
            for (j = i; j < b && LEARN__PRE_NUMBER(p->pr[j]) && j - i < 3; j++) {}
            LEARN__PRE_EMIT(i, j);
            i = j;
            continue;
        }
        size_t q = cp == ' ' ? i + 1 : i;
        if (!(LEARN__UCP_IS_SPACE(LEARN__PRE_AT(q)) || LEARN__PRE_LETTER(LEARN__PRE_AT(q)) ||
              LEARN__PRE_NUMBER(LEARN__PRE_AT(q)))) {
            for (j = q; LEARN__PRE_OTHER(j); j++) {}
            while (j < b && (p->cp[j] == '\r' || p->cp[j] == '\n')) j++;
            LEARN__PRE_EMIT(i, j);
            i = j;
            continue;
        }
        size_t ws = 0, last_nl = 0;
        while (i + ws < b && LEARN__UCP_IS_SPACE(p->pr[i + ws])) {
            if (p->cp[i + ws] == '\r' || p->cp[i + ws] == '\n') last_nl = i + ws + 1;
            ws++;
        }
        if (last_nl) j = last_nl;                   /* \s*[\r\n]+ */
        else if (ws > 1 && i + ws < b) j = i + ws - 1; /* \s+(?!\S) */
        else if (ws > 0) j = i + ws;                /* \s+ */
        else j = i + 1;
        LEARN__PRE_EMIT(i, j);
        i = j;
    }
    return LEARN_OK;
}

/* Qwen2: (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|
   \p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
   llama.cpp runs this one through std::regex (ECMAScript: the first alternative that matches
   wins, greedy with backtracking); these are the matches that evaluation gives. Every code
   point matches some alternative, so the pieces tile the segment. */
static learn_status learn__pre_qwen2(learn__pre *p, int k, size_t a, size_t b) {
    size_t i = a;
    while (i < b) {
        size_t c = learn__pre_contraction(p, i, b, 1), j;
        uint32_t cp = p->cp[i];
        unsigned pr = p->pr[i];
        if (c) {
            j = i + c;
        } else if (LEARN__PRE_LETTER(pr)) {
            for (j = i + 1; j < b && LEARN__PRE_LETTER(p->pr[j]); j++) {}
        } else if (cp != '\r' && cp != '\n' && !LEARN__PRE_NUMBER(pr) && i + 1 < b &&
                   LEARN__PRE_LETTER(p->pr[i + 1])) {
            for (j = i + 2; j < b && LEARN__PRE_LETTER(p->pr[j]); j++) {}
        } else if (LEARN__PRE_NUMBER(pr)) {
            j = i + 1;
        } else if ((cp == ' ' && LEARN__PRE_OTHER(i + 1)) || LEARN__PRE_OTHER(i)) {
            for (j = cp == ' ' ? i + 1 : i; LEARN__PRE_OTHER(j); j++) {}
            while (j < b && (p->cp[j] == '\r' || p->cp[j] == '\n')) j++;
        } else { /* whitespace */
            size_t end = i, last_nl = 0;
            while (end < b && LEARN__UCP_IS_SPACE(p->pr[end])) {
                if (p->cp[end] == '\r' || p->cp[end] == '\n') last_nl = end + 1;
                end++;
            }
            if (last_nl) j = last_nl;                /* \s*[\r\n]+ backtracks to the last one */
            else if (end == b || end - i == 1) j = end; /* \s+(?!\S) at the end, or \s+ */
            else j = end - 1;                        /* \s+(?!\S) gives one back */
        }
        LEARN__PRE_EMIT(i, j);
        i = j;
    }
    return LEARN_OK;
}

/* Code point ranges of the explicit classes of deepseek-llm and deepseek-coder (the regexes
   of llama.cpp's LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_LLM, written out). */
static const uint32_t learn__pre_ds_letters[][2] = {
    {0x41, 0x5A}, {0x61, 0x7A}, {0xB5, 0xB5}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x1BA},
    {0x1BC, 0x1BF}, {0x1C4, 0x293}, {0x295, 0x2AF}, {0x370, 0x373}, {0x376, 0x377},
    {0x37B, 0x37D}, {0x37F, 0x37F}, {0x386, 0x386}, {0x388, 0x38A}, {0x38C, 0x38C},
    {0x38E, 0x3A1}, {0x3A3, 0x3F5}, {0x3F7, 0x481}, {0x48A, 0x52F}, {0x531, 0x556},
    {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF},
    {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15}, {0x1F18, 0x1F1D},
    {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B},
    {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE},
    {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC},
    {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102}, {0x2107, 0x2107}, {0x210A, 0x2113},
    {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126}, {0x2128, 0x2128},
    {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F}, {0x2145, 0x2149},
    {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4}, {0x2CEB, 0x2CEE},
    {0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F}, {0xA771, 0xA787},
    {0xA78B, 0xA78E}, {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFF21, 0xFF3A},
    {0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};
static const uint32_t learn__pre_ds_punct[][2] = {
    {0x21, 0x2F}, {0x3A, 0x7E}, {0x2018, 0x201F}, {0x3000, 0x3002}, {0xFF01, 0xFF0F},
    {0xFF1A, 0xFF5E},
};
static const uint32_t learn__pre_ds_cjk[][2] = {{0x800, 0x9FA5}, {0xAC00, 0xD7FF}};

static int learn__pre_in_ranges(const uint32_t (*r)[2], size_t n, uint32_t cp) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid][0]) hi = mid;
        else if (cp > r[mid][1]) lo = mid + 1;
        else return 1;
    }
    return 0;
}

/* Whether code point i is in the class of a class-based stage. Explicit ranges see non-ASCII
   white space as U+000B, as llama.cpp's std::wregex input does. */
static int learn__pre_class_has(const learn__pre *p, int stage, size_t i) {
    uint32_t cp = p->cp[i];
    unsigned pr = p->pr[i];
    switch (stage) {
    case LEARN__PRE_NEWLINE: return cp == '\r' || cp == '\n';
    case LEARN__PRE_DIGIT:
    case LEARN__PRE_DIGITS: return LEARN__PRE_NUMBER(pr);
    case LEARN__PRE_DIGIT3: return cp >= '0' && cp <= '9';
    case LEARN__PRE_PUNCT_FALCON:
    case LEARN__PRE_PUNCT_DEFAULT:
        return LEARN__UCP_IS(pr, LEARN__UCP_P) || cp == '$' || cp == '+' || cp == '<' ||
               cp == '=' || cp == '>' || cp == '^' || cp == '~' || cp == '|' ||
               (cp == '`' && stage == LEARN__PRE_PUNCT_FALCON);
    case LEARN__PRE_SP_LETTERS: return LEARN__PRE_LETTER(pr);
    case LEARN__PRE_SP_PUNCT: return LEARN__UCP_IS(pr, LEARN__UCP_P);
    default: break;
    }
    if (cp >= 0x80 && LEARN__UCP_IS_SPACE(pr)) return 0;
#define LEARN__PRE_RANGES(r) learn__pre_in_ranges(r, sizeof r / sizeof r[0], cp)
    switch (stage) {
    case LEARN__PRE_DS_LETTERS: return LEARN__PRE_RANGES(learn__pre_ds_letters);
    case LEARN__PRE_DS_PUNCT: return LEARN__PRE_RANGES(learn__pre_ds_punct);
    case LEARN__PRE_CJK: return LEARN__PRE_RANGES(learn__pre_ds_cjk);
    default: return 0;
    }
#undef LEARN__PRE_RANGES
}

/* Stages of one regex over a class C: C, C+, \s?C+, [0-9]{3}. Matches and the text between
   them are pieces, as llama.cpp's std::regex split makes them. */
static learn_status learn__pre_class(learn__pre *p, int k, size_t a, size_t b) {
    int stage = p->stages[k];
    size_t gap = a, i = a;
    while (i < b) {
        size_t j = 0;
        switch (stage) {
        case LEARN__PRE_NEWLINE:
        case LEARN__PRE_DIGIT:
            if (learn__pre_class_has(p, stage, i)) j = i + 1;
            break;
        case LEARN__PRE_DIGIT3:
            if (i + 3 <= b && learn__pre_class_has(p, stage, i) &&
                learn__pre_class_has(p, stage, i + 1) && learn__pre_class_has(p, stage, i + 2))
                j = i + 3;
            break;
        case LEARN__PRE_DS_LETTERS:
        case LEARN__PRE_DS_PUNCT:
        case LEARN__PRE_SP_LETTERS:
        case LEARN__PRE_SP_PUNCT: { /* \s?C+ */
            size_t q = i;
            if (LEARN__UCP_IS_SPACE(p->pr[i]) && i + 1 < b && learn__pre_class_has(p, stage, i + 1))
                q = i + 1;
            else if (!learn__pre_class_has(p, stage, i))
                break;
            for (j = q + 1; j < b && learn__pre_class_has(p, stage, j); j++) {}
            break;
        }
        default: /* C+ */
            if (learn__pre_class_has(p, stage, i))
                for (j = i + 1; j < b && learn__pre_class_has(p, stage, j); j++) {}
            break;
        }
        if (!j) {
            i++;
            continue;
        }
        LEARN__PRE_EMIT(gap, i);
        LEARN__PRE_EMIT(i, j);
        gap = i = j;
    }
    LEARN__PRE_EMIT(gap, b);
    return LEARN_OK;
}

static learn_status learn__pre_stage(learn__pre *p, int k, size_t a, size_t b) {
    switch (p->stages[k]) {
    case LEARN__PRE_GPT2: return learn__pre_gpt2(p, k, a, b);
    case LEARN__PRE_LLAMA3: return learn__pre_llama3(p, k, a, b);
    case LEARN__PRE_QWEN2: return learn__pre_qwen2(p, k, a, b);
    case LEARN__PRE_TRAILING_WS: { /* \s+$: the trailing run of white space */
        size_t s = b;
        while (s > a && LEARN__UCP_IS_SPACE(p->pr[s - 1])) s--;
        LEARN__PRE_EMIT(a, s);
        LEARN__PRE_EMIT(s, b);
        return LEARN_OK;
    }
    default: return learn__pre_class(p, k, a, b);
    }
}

#undef LEARN__PRE_EMIT
#undef LEARN__PRE_AT
#undef LEARN__PRE_OTHER

/* Encodes one raw fragment with byte-level BPE. */
static learn_status learn__bpe_encode(learn__tok_enc *e, const uint8_t *s, size_t len) {
    if (!learn__tok_reserve(e->a, &e->cps, len, sizeof(uint32_t))) return LEARN_ERR_NOMEM;
    uint32_t *cp = (uint32_t *)e->cps.p;
    size_t n = 0;
    for (size_t i = 0; i < len;) cp[n++] = learn__tok_utf8_next(s, len, &i);
    if (e->t->nfc) {
        learn_status st = learn__tok_nfc(e->a, &e->cps, &n);
        if (st) return st;
        cp = (uint32_t *)e->cps.p;
    }
    if (!learn__tok_reserve(e->a, &e->props, n, 1)) return LEARN_ERR_NOMEM;
    uint8_t *pr = (uint8_t *)e->props.p;
    for (size_t i = 0; i < n; i++) pr[i] = (uint8_t)learn__ucp_props(cp[i]);
    learn__pre p = {e, cp, pr, e->t->stages};
    return learn__pre_piece(&p, 0, 0, n);
}

/* ---- Tokenizing and detokenizing (the public calls) ---- */

#define LEARN__TOKENIZE_FLAGS (LEARN_TOKENIZE_ADD_SPECIAL | LEARN_TOKENIZE_PARSE_SPECIAL)

static learn_status learn__tok_encode_fragment(learn__tok_enc *e, const uint8_t *s, size_t n,
                                           int *prev_special) {
    learn_status st;
    if (e->t->kind == LEARN__TOK_SPM)
        st = learn__spm_encode(e, s, n, e->t->add_space_prefix && *prev_special);
    else
        st = learn__bpe_encode(e, s, n);
    *prev_special = 0;
    return st;
}

learn_status learn_tokenize(learn_ctx *ctx, const char *text, size_t len, uint32_t flags,
                            int32_t *ids, size_t cap, size_t *n_ids) {
    if (n_ids) *n_ids = 0;
    if (!ctx) return LEARN_ERR_ARG;
    if (!n_ids || (!text && len) || (!ids && cap))
        return learn__fail(ctx->err, sizeof ctx->err, LEARN_ERR_ARG,
                           "learn_tokenize: n_ids, text (when len > 0) and ids (when cap > 0) "
                           "must not be NULL");
    if (flags & ~(uint32_t)LEARN__TOKENIZE_FLAGS)
        return learn__fail(ctx->err, sizeof ctx->err, LEARN_ERR_ARG,
                           "learn_tokenize: unknown flags 0x%x", flags);
    const learn__tok *t = ctx->model->tok;
    if (!t)
        return learn__fail(ctx->err, sizeof ctx->err, LEARN_ERR_NOT_FOUND,
                           "learn_tokenize: the model has no tokenizer");
    if (len > ctx->max_text_len)
        return learn__fail(ctx->err, sizeof ctx->err, LEARN_ERR_TOO_LONG,
                           "learn_tokenize: text of %zu bytes, longer than the maximum of %zu",
                           len, ctx->max_text_len);
    if (len > UINT32_MAX / 4)
        return learn__fail(ctx->err, sizeof ctx->err, LEARN_ERR_TOO_LONG,
                           "learn_tokenize: text of %zu bytes, longer than %u", len,
                           UINT32_MAX / 4);
    const uint8_t *s = (const uint8_t *)text;
    learn__tok_enc e;
    memset(&e, 0, sizeof e);
    e.t = t;
    e.a = &ctx->alloc;
    e.ids = ids;
    e.cap = cap;
    learn_status st = LEARN_OK;
    int add = (flags & LEARN_TOKENIZE_ADD_SPECIAL) != 0, prev_special = 1;
    if (add && t->add_bos) learn__tok_emit(&e, t->bos);
    int parse = (flags & LEARN_TOKENIZE_PARSE_SPECIAL) != 0;
    int found = len ? learn__tok_special_find(&e, s, len, parse) : 0;
    if (found < 0) {
        st = LEARN_ERR_NOMEM;
    } else if (!found) {
        if (len) st = learn__tok_encode_fragment(&e, s, len, &prev_special);
    } else {
        /* Walk the text: runs of free bytes are fragments, heads are special tokens. */
        const uint8_t *cl = (const uint8_t *)e.claim.p;
        for (size_t i = 0; i < len && !st;) {
            if (cl[i] == LEARN__TOK_CL_HEAD) {
                int32_t id = -1;
                /* The head's token: the longest special text starting here that was taken. */
                size_t j = i + 1;
                while (j < len && cl[j] == LEARN__TOK_CL_BODY) j++;
                id = learn__tok_find(t, s + i, j - i);
                learn__tok_emit(&e, id);
                prev_special = 1;
                i = j;
            } else if (cl[i] == LEARN__TOK_CL_FREE) {
                size_t j = i + 1;
                while (j < len && cl[j] == LEARN__TOK_CL_FREE) j++;
                st = learn__tok_encode_fragment(&e, s + i, j - i, &prev_special);
                i = j;
            } else {
                i++;
            }
        }
    }
    if (!st && add && t->add_eos) learn__tok_emit(&e, t->eos);
    learn__tok_buf_free(e.a, &e.cps);
    learn__tok_buf_free(e.a, &e.props);
    learn__tok_buf_free(e.a, &e.word);
    learn__tok_buf_free(e.a, &e.sym);
    learn__tok_buf_free(e.a, &e.heap);
    learn__tok_buf_free(e.a, &e.text);
    learn__tok_buf_free(e.a, &e.claim);
    learn__tok_buf_free(e.a, &e.occ);
    if (st == LEARN_ERR_NOMEM)
        return learn__fail(ctx->err, sizeof ctx->err, st, "learn_tokenize: out of memory");
    if (st)
        return learn__fail(ctx->err, sizeof ctx->err, st, "learn_tokenize: text too long");
    *n_ids = e.n;
    if (e.n > cap)
        return learn__fail(ctx->err, sizeof ctx->err, LEARN_ERR_BUFFER,
                           "learn_tokenize: %zu ids needed, the buffer holds %zu", e.n, cap);
    return LEARN_OK;
}

/* Appends bytes to the output while they fit; *total counts all (saturating at SIZE_MAX). */
static void learn__tok_put(char *out, size_t cap, size_t *total, const void *src, size_t n) {
    if (*total < cap) memcpy(out + *total, src, n <= cap - *total ? n : cap - *total);
    *total = *total > SIZE_MAX - n ? SIZE_MAX : *total + n;
}

learn_status learn_detokenize(learn_ctx *ctx, const int32_t *ids, size_t n, char *out,
                              size_t cap, size_t *len) {
    if (len) *len = 0;
    if (!ctx) return LEARN_ERR_ARG;
    if (!len || (!ids && n) || (!out && cap))
        return learn__fail(ctx->err, sizeof ctx->err, LEARN_ERR_ARG,
                           "learn_detokenize: len, ids (when n > 0) and out (when cap > 0) must "
                           "not be NULL");
    const learn__tok *t = ctx->model->tok;
    if (!t)
        return learn__fail(ctx->err, sizeof ctx->err, LEARN_ERR_NOT_FOUND,
                           "learn_detokenize: the model has no tokenizer");
    size_t total = 0;
    int strip = t->add_space_prefix; /* the dummy space of the next text token */
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || (uint32_t)id >= t->n_vocab)
            return learn__fail(ctx->err, sizeof ctx->err, LEARN_ERR_ARG,
                               "learn_detokenize: ids[%zu] = %d is not a token id (0..%u)", i,
                               id, t->n_vocab - 1);
        unsigned ty = learn__tok_type(t, id);
        const uint8_t *s = learn__tok_str(t, id);
        size_t sn = learn__tok_len(t, id);
        if (learn__tok_is_special(ty)) {
            learn__tok_put(out, cap, &total, s, sn);
            strip = t->add_space_prefix;
            continue;
        }
        if (ty == LEARN_TOKEN_KIND_BYTE) {
            uint8_t b = (uint8_t)learn__tok_byte_value(s, sn);
            learn__tok_put(out, cap, &total, &b, 1);
        } else if (t->kind == LEARN__TOK_SPM) {
            for (size_t k = 0; k < sn;) {
                if (sn - k >= 3 && s[k] == 0xE2 && s[k + 1] == 0x96 && s[k + 2] == 0x81) {
                    if (!(strip && k == 0)) learn__tok_put(out, cap, &total, " ", 1);
                    k += 3;
                } else {
                    learn__tok_put(out, cap, &total, s + k, 1);
                    k++;
                }
            }
        } else {
            for (size_t k = 0; k < sn;) {
                size_t k0 = k;
                uint32_t c = learn__tok_utf8_next(s, sn, &k);
                if (c < 324 && t->bpe_byte_of[c] >= 0) {
                    uint8_t b = (uint8_t)t->bpe_byte_of[c];
                    learn__tok_put(out, cap, &total, &b, 1);
                } else {
                    learn__tok_put(out, cap, &total, s + k0, k - k0);
                }
            }
        }
        strip = 0;
    }
    if (total == SIZE_MAX)
        return learn__fail(ctx->err, sizeof ctx->err, LEARN_ERR_TOO_LONG,
                           "learn_detokenize: the text would not fit in memory");
    *len = total;
    if (total >= cap)
        return learn__fail(ctx->err, sizeof ctx->err, LEARN_ERR_BUFFER,
                           "learn_detokenize: %zu bytes and a NUL needed, the buffer holds %zu",
                           total, cap);
    out[total] = 0;
    return LEARN_OK;
}

learn_status learn_token_get_text(const learn_model *m, int32_t id, const char **text, size_t *len) {
    if (text) *text = NULL;
    if (len) *len = 0;
    if (!m || !text) return LEARN_ERR_ARG;
    const learn__tok *t = m->tok;
    if (!t) return LEARN_ERR_NOT_FOUND;
    if (id < 0 || (uint32_t)id >= t->n_vocab) return LEARN_ERR_ARG;
    *text = (const char *)learn__tok_str(t, id);
    if (len) *len = learn__tok_len(t, id);
    return LEARN_OK;
}

learn_status learn_token_get_kind(const learn_model *m, int32_t id, learn_token_kind *kind) {
    if (!m || !kind) return LEARN_ERR_ARG;
    const learn__tok *t = m->tok;
    if (!t) return LEARN_ERR_NOT_FOUND;
    if (id < 0 || (uint32_t)id >= t->n_vocab) return LEARN_ERR_ARG;
    *kind = (learn_token_kind)learn__tok_type(t, id);
    return LEARN_OK;
}

learn_status learn_tokenizer_get_info(const learn_model *m, learn_tokenizer_info *info) {
    if (!m || !info) return LEARN_ERR_ARG;
    memset(info, 0, sizeof *info);
    const learn__tok *t = m->tok;
    info->model = "";
    info->pre = "";
    info->bos = info->eos = info->unk = info->pad = -1;
    if (!t) return LEARN_ERR_NOT_FOUND;
    info->model = t->model_name;
    info->pre = t->pre_name;
    info->n_vocab = t->n_vocab;
    info->n_merges = t->n_merges;
    info->bos = t->bos;
    info->eos = t->eos;
    info->unk = t->unk;
    info->pad = t->pad;
    info->add_bos = t->add_bos;
    info->add_eos = t->add_eos;
    info->add_space_prefix = t->add_space_prefix;
    info->nfc = t->nfc;
    return LEARN_OK;
}

/* ============================================================================================
   ==== Kernels ====
   Everything numeric that the LLM forward pass and the towers run on: the matrix products,
   the activation quantizer and the small row helpers (norms, softmax, activations, fp16 rows).

   ISA levels. Each kernel exists as a portable `_scalar` reference and, where it pays, as
   `_avx2` (AVX2 + FMA + F16C), `_avxvnni` (AVX2 + AVX-VNNI), `_avx512` (AVX-512 F/BW/VL +
   VNNI), `_amx` (the avx512 level with AMX-TILE and AMX-INT8 for the quantized products),
   and `_neon` / `_dotprod` (AArch64 Advanced SIMD, with or without the ARMv8.2 SDOT
   instruction; the levels neon and neon_dotprod).
   "The compiler can" (LEARN__X86 / LEARN__ARM64 below, one set of base flags: the SIMD
   functions carry target attributes) is kept apart from "the CPU does" (learn__cpu_features,
   CPUID + XGETBV or getauxval, cached once). A context picks a level once
   (learn__isa_select: its request, else the LEARN_ISA environment variable, else the best) and
   keeps the matching learn__kernels table of function pointers. LEARN_NO_SIMD builds the
   scalar level only.

   Determinism. A matrix product writes Y[t][r] with an arithmetic sequence that depends only
   on K, on the ISA level and on the data of row r and token t: never on which rows or tokens
   share a tile, on the batch size, or on how the rows are split between threads. Every tile
   shape runs the same per-(row, token) instruction sequence, tails included, so embeddings
   are bit-identical for any number of threads and any batching on one machine. The Q8_0 /
   Q4_0 products of the scalar, avx512 and amx levels are equal bit for bit (the next
   paragraph's sequence); other levels agree with them to rounding only (they sum in other
   orders). Never build this file with -ffast-math or -Ofast: the kernels rely on IEEE
   evaluation order.

   Quantized weights are used in place, in the ggml block layouts (Q8_0: f16 d, int8 q[32],
   34 bytes; Q4_0: f16 d, 16 bytes of nibbles, 18 bytes), at any alignment, and packed per
   strip of rows into the caches as each level's tiles want them. Activations are quantized
   per call into the q8 row layout described at learn__q8_row_bytes(), with a scale per block
   of 32 as ggml's Q8_0. A product is, for every (row, token), the sum over the blocks b of
   S_b dw_b da_b, S_b the exact int32 dot of the block, dw_b and da_b the two scales; the
   reference (learn__gemm_q_scalar) accumulates acc = fma(float(S_b), dw_b * da_b, acc) in
   block order.
   ============================================================================================ */

#if !defined(LEARN_NO_SIMD) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LEARN__X86 1
#include <immintrin.h>
/* Per-function targets, so that one x86-64 binary runs anywhere and picks at run time. */
#define LEARN__AVX2 __attribute__((target("avx2,fma,f16c")))
#if defined(LEARN_EMULATE_AMX) && !defined(LEARN_EMULATE_VNNI)
#define LEARN_EMULATE_VNNI 1 /* the amx level's vector part is the avx512 level's */
#endif
#if defined(LEARN_EMULATE_VNNI)
/* Test builds only (./build.sh vnni, ./build.sh amx): the AVX-512 and AVX-VNNI levels compiled
   for AVX2, the AVX-512 and VNNI instructions they use emulated exactly (512-bit vectors as
   pairs of 256-bit ones, VPDPBUSD by two vpmaddwd), and offered wherever AVX2 is; with
   LEARN_EMULATE_AMX also the amx level, its tile instructions in portable C. So the levels' own
   layouts, tiles and corrections run, and are tested against the scalar kernels, on a CPU
   without them. They are slower than the AVX2 level: never a release build. */
#define LEARN__AVX512 LEARN__AVX2
#define LEARN__AVXVNNI LEARN__AVX2
#else
#define LEARN__AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#define LEARN__AVXVNNI __attribute__((target("avx2,fma,f16c,avxvnni")))
#endif
#endif

#if !defined(LEARN_NO_SIMD) && defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define LEARN__ARM64 1
#include <arm_neon.h>
#if defined(__linux__)
#include <sys/auxv.h>
#endif
#if defined(__clang__)
#define LEARN__DOTPROD __attribute__((target("dotprod")))
#else
#define LEARN__DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#endif
#endif

#define LEARN__INLINE static inline __attribute__((always_inline))
/* Full unrolling of the loops over a tile's rows and tokens keeps the accumulators in registers. */
#if defined(__clang__)
#define LEARN__UNROLL _Pragma("clang loop unroll(full)")
#else
#define LEARN__UNROLL _Pragma("GCC unroll 16")
#endif

/* ---- CPU features ------------------------------------------------------------------------ */

#define LEARN__CPU_AVX2 (1u << 0)    /* AVX2, FMA, F16C, and the OS saves YMM state */
#define LEARN__CPU_AVX512 (1u << 1)  /* AVX-512 F, BW, VL, VNNI, and the OS saves ZMM state */
#define LEARN__CPU_AVXVNNI (1u << 4) /* AVX2 and AVX-VNNI (VEX VPDPBUSD) */
#define LEARN__CPU_NEON (1u << 2)    /* AArch64 Advanced SIMD */
#define LEARN__CPU_DOTPROD (1u << 3) /* ARMv8.2 SDOT/UDOT */
#define LEARN__CPU_AMX (1u << 5)     /* AMX-TILE and AMX-INT8, XCR0 tile state, Linux grants it */
/* Why AMX is missing, when it is (learn__isa_why): */
#define LEARN__CPU_AMX_HW (1u << 6)   /* CPUID reports AMX-TILE and AMX-INT8 */
#define LEARN__CPU_AMX_XCR0 (1u << 7) /* the OS enables XTILECFG and XTILEDATA in XCR0 */
#define LEARN__CPU_AMX_DENIED (1u << 8) /* Linux refused the tile data (arch_prctl), or not Linux */
#define LEARN__CPU_KNOWN (1u << 31)  /* the cache is filled */

/* The only process-wide state of learn: filled on first use. Racing first calls compute the
   same value, so a relaxed race is harmless; the atomic makes it well-defined. */
static atomic_uint learn__cpu_cache;

#if defined(LEARN__X86)
static void learn__cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ __volatile__("cpuid"
                         : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                         : "a"(leaf), "c"(sub));
}

/* AMX: CPUID.(7,0):EDX bits 24 (AMX-TILE) and 25 (AMX-INT8), XCR0 bits 17 and 18 (the OS
   saves the tile configuration and data), and on Linux the process's permission to use the
   tile data, which the kernel grants on request (arch_prctl(ARCH_REQ_XCOMP_PERM,
   XFEATURE_XTILEDATA), Linux 5.16 and later) and which this asks for once. Elsewhere the
   level is not offered: other systems' support is not known here. */
static unsigned learn__amx_detect(uint32_t edx7, uint32_t xcr0)
{
    unsigned f = 0;
    if (((edx7 >> 24) & 1) && ((edx7 >> 25) & 1)) f |= LEARN__CPU_AMX_HW;
    if ((xcr0 & 0x60000u) == 0x60000u) f |= LEARN__CPU_AMX_XCR0;
    if (f != (LEARN__CPU_AMX_HW | LEARN__CPU_AMX_XCR0)) return f;
#if defined(__linux__)
    long ret;
    /* syscall(SYS_arch_prctl = 158, ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18) */
    __asm__ __volatile__("syscall"
                         : "=a"(ret)
                         : "0"(158L), "D"(0x1023L), "S"(18L)
                         : "rcx", "r11", "memory");
    f |= ret == 0 ? LEARN__CPU_AMX : LEARN__CPU_AMX_DENIED;
#else
    f |= LEARN__CPU_AMX_DENIED;
#endif
    return f;
}

static unsigned learn__cpu_detect(void)
{
    uint32_t r[4], max_leaf, xcr0 = 0;
    unsigned f = 0;
    learn__cpuid(0, 0, r);
    max_leaf = r[0];
    if (max_leaf < 7) return 0;
    learn__cpuid(1, 0, r);
    const uint32_t ecx1 = r[2];
    const int osxsave = (ecx1 >> 27) & 1, fma = (ecx1 >> 12) & 1, f16c = (ecx1 >> 29) & 1;
    if (osxsave) {
        uint32_t lo, hi;
        __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        (void)hi;
        xcr0 = lo;
    }
    learn__cpuid(7, 0, r);
    const uint32_t sub7 = r[0], ebx7 = r[1], ecx7 = r[2], edx7 = r[3]; /* sub7: leaf 7's last sub-leaf */
    const int ymm_os = (xcr0 & 0x6u) == 0x6u;   /* SSE and AVX state */
    const int zmm_os = (xcr0 & 0xe6u) == 0xe6u; /* + opmask, ZMM_Hi256, Hi16_ZMM */
    const int avx2 = (ebx7 >> 5) & 1;
    if (ymm_os && avx2 && fma && f16c) f |= LEARN__CPU_AVX2;
    const int avx512 = ((ebx7 >> 16) & 1) /* F */ && ((ebx7 >> 30) & 1) /* BW */ &&
                       ((ebx7 >> 31) & 1) /* VL */ && ((ecx7 >> 11) & 1) /* VNNI */;
    if ((f & LEARN__CPU_AVX2) && zmm_os && avx512) f |= LEARN__CPU_AVX512;
    if (sub7 >= 1 && (f & LEARN__CPU_AVX2)) {
        learn__cpuid(7, 1, r);
        if ((r[0] >> 4) & 1) f |= LEARN__CPU_AVXVNNI;
    }
    f |= learn__amx_detect(edx7, xcr0);
#if defined(LEARN_EMULATE_VNNI)
    if (f & LEARN__CPU_AVX2) f |= LEARN__CPU_AVX512 | LEARN__CPU_AVXVNNI;
#endif
#if defined(LEARN_EMULATE_AMX)
    if (f & LEARN__CPU_AVX2) f = (f & ~LEARN__CPU_AMX_DENIED) | LEARN__CPU_AMX;
#endif
    return f;
}
#elif defined(LEARN__ARM64)
static unsigned learn__cpu_detect(void)
{
    unsigned f = LEARN__CPU_NEON; /* Advanced SIMD is part of every AArch64 core */
#if defined(__linux__)
    const unsigned long hw = getauxval(AT_HWCAP);
    if (hw & (1ul << 20)) f |= LEARN__CPU_DOTPROD; /* HWCAP_ASIMDDP */
#elif defined(__ARM_FEATURE_DOTPROD)
    f |= LEARN__CPU_DOTPROD;
#endif
    return f;
}
#else
static unsigned learn__cpu_detect(void)
{
    return 0;
}
#endif

static unsigned learn__cpu_features(void)
{
    unsigned f = atomic_load_explicit(&learn__cpu_cache, memory_order_acquire);
    if (!f) {
        f = learn__cpu_detect() | LEARN__CPU_KNOWN;
        atomic_store_explicit(&learn__cpu_cache, f, memory_order_release);
    }
    return f;
}

/* ---- ISA levels --------------------------------------------------------------------------- */

typedef enum learn__isa {
    LEARN__ISA_SCALAR = 0,
    LEARN__ISA_AVX2,         /* x86-64: AVX2 + FMA + F16C */
    LEARN__ISA_AVXVNNI,      /* x86-64: AVX2 + AVX-VNNI (Alder Lake, ...) */
    LEARN__ISA_AVX512,       /* x86-64: AVX-512 F/BW/VL + VNNI (Cascade Lake, Zen 4, ...) */
    LEARN__ISA_AMX,          /* x86-64: the avx512 level + AMX-TILE/INT8 (Sapphire Rapids, ...) */
    LEARN__ISA_NEON,         /* AArch64 Advanced SIMD */
    LEARN__ISA_NEON_DOTPROD, /* AArch64 Advanced SIMD + SDOT */
    LEARN__ISA_COUNT
} learn__isa;

static const char *const learn__isa_names[LEARN__ISA_COUNT] = {"scalar", "avx2",  "avxvnni",
                                                               "avx512", "amx",   "neon",
                                                               "neon_dotprod"};

static const char *learn__isa_name(learn__isa isa)
{
    return (unsigned)isa < LEARN__ISA_COUNT ? learn__isa_names[isa] : "unknown";
}

/* Whether this build holds the kernels of a level. */
static int learn__isa_compiled(learn__isa isa)
{
    switch (isa) {
    case LEARN__ISA_SCALAR: return 1;
#if defined(LEARN__X86)
    case LEARN__ISA_AVX2:
    case LEARN__ISA_AVXVNNI:
    case LEARN__ISA_AVX512:
    case LEARN__ISA_AMX: return 1;
#endif
#if defined(LEARN__ARM64)
    case LEARN__ISA_NEON:
    case LEARN__ISA_NEON_DOTPROD: return 1;
#endif
    default: return 0;
    }
}

/* Whether the level is compiled in and this CPU (and OS) runs it. */
static int learn__isa_supported(learn__isa isa)
{
    if (!learn__isa_compiled(isa)) return 0;
    const unsigned f = learn__cpu_features();
    switch (isa) {
    case LEARN__ISA_SCALAR: return 1;
    case LEARN__ISA_AVX2: return (f & LEARN__CPU_AVX2) != 0;
    case LEARN__ISA_AVXVNNI: return (f & LEARN__CPU_AVXVNNI) != 0;
    case LEARN__ISA_AVX512: return (f & LEARN__CPU_AVX512) != 0;
    case LEARN__ISA_AMX: return (f & LEARN__CPU_AVX512) && (f & LEARN__CPU_AMX);
    case LEARN__ISA_NEON: return (f & LEARN__CPU_NEON) != 0;
    case LEARN__ISA_NEON_DOTPROD: return (f & LEARN__CPU_DOTPROD) != 0;
    default: return 0;
    }
}

/* The fastest supported level that "auto" may choose. amx is not among them: it is correct
   under exact emulation (./build.sh amx) but has not yet run on AMX hardware, so it runs only
   when asked for by name (LEARN_ISA=amx, learn_ctx_params.isa). */
static learn__isa learn__isa_best(void)
{
    static const learn__isa order[] = {LEARN__ISA_AVX512, LEARN__ISA_AVXVNNI, LEARN__ISA_AVX2,
                                       LEARN__ISA_NEON_DOTPROD, LEARN__ISA_NEON};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (learn__isa_supported(order[i])) return order[i];
    return LEARN__ISA_SCALAR;
}

/* Why this CPU does not run a level (compiled in, not supported): for amx, what is missing. */
static const char *learn__isa_why(learn__isa isa)
{
    const unsigned f = learn__cpu_features();
    if (isa != LEARN__ISA_AMX) return "this CPU lacks it";
    if (!(f & LEARN__CPU_AMX_HW)) return "this CPU lacks AMX-TILE and AMX-INT8";
    if (!(f & LEARN__CPU_AMX_XCR0)) return "the operating system does not enable the tile state (XCR0)";
#if defined(__linux__)
    if (f & LEARN__CPU_AMX_DENIED)
        return "the operating system refused the tile data (arch_prctl ARCH_REQ_XCOMP_PERM)";
#else
    if (f & LEARN__CPU_AMX_DENIED) return "the amx level is offered on Linux only";
#endif
    if (!(f & LEARN__CPU_AVX512)) return "this CPU lacks AVX-512 VNNI, which the amx level also uses";
    return "this CPU lacks it";
}

/* Resolves the level a context runs at. `request` is a level name ("scalar", "avx2",
   "avxvnni", "avx512", "amx", "neon", "neon_dotprod"), or NULL / "" / "auto" for: the LEARN_ISA environment
   variable when set and not "auto", else the best level. A named level that this build or
   this CPU lacks is refused (LEARN_ERR_UNSUPPORTED), an unknown name is LEARN_ERR_ARG; in both
   cases `msg` (may be NULL) receives a one-line reason listing the supported levels. */
static learn_status learn__isa_select(const char *request, learn__isa *out, char *msg,
                                      size_t msg_size)
{
    const char *source = "requested ISA";
    if (!out) return LEARN_ERR_ARG;
    *out = LEARN__ISA_SCALAR;
    if (!request || !*request || strcmp(request, "auto") == 0) {
        request = getenv("LEARN_ISA");
        source = "LEARN_ISA";
    }
    if (!request || !*request || strcmp(request, "auto") == 0) {
        *out = learn__isa_best();
        return LEARN_OK;
    }
    char have[112] = "";
    for (int i = 0; i < LEARN__ISA_COUNT; i++) {
        if (!learn__isa_supported((learn__isa)i)) continue;
        if (have[0]) strncat(have, ", ", sizeof have - strlen(have) - 1);
        strncat(have, learn__isa_names[i], sizeof have - strlen(have) - 1);
    }
    for (int i = 0; i < LEARN__ISA_COUNT; i++) {
        if (strcmp(request, learn__isa_names[i]) != 0) continue;
        if (learn__isa_supported((learn__isa)i)) {
            *out = (learn__isa)i;
            return LEARN_OK;
        }
        if (msg && msg_size)
            snprintf(msg, msg_size, "%s=%s: %s; supported here: %s", source, request,
                     learn__isa_compiled((learn__isa)i) ? learn__isa_why((learn__isa)i)
                                                        : "not compiled into this build",
                     have);
        return LEARN_ERR_UNSUPPORTED;
    }
    if (msg && msg_size)
        snprintf(msg, msg_size,
                 "%s=%.32s: unknown level; one of scalar, avx2, avxvnni, avx512, amx, neon, "
                 "neon_dotprod, auto (supported here: %s)",
                 source, request, have);
    return LEARN_ERR_ARG;
}

/* ---- Block formats and activation rows ------------------------------------------------------

   Q8_0 weight block (34 bytes): f16 d, int8 q[32];                 w[i] = d * q[i]
   Q4_0 weight block (18 bytes): f16 d, u8 qs[16]; element j < 16 is the low nibble of qs[j],
                                 element j + 16 the high nibble;    w[i] = d * (nibble - 8)

   q8 activation row (written by learn__quantize_row_*, read by the Q8_0/Q4_0 kernels), for
   K = 32 * nb: the blocks go in groups of four (ng = ceil(nb / 4) groups, the missing blocks
   of the last group are zeros), each group 192 bytes:
     offset   0  int8  q[128]  the group's 4 x 32 values in [-127, 127], never -128 (the AVX2
                               kernel relies on it), interleaved as four 32-byte slices:
                               slice s holds elements E[s] .. E[s] + 7 of blocks 0, 1, 2, 3
                               (8 bytes each), E = {0, 16, 8, 24}. Byte p of the group is
                               element E[p / 32] + p % 8 of block (p / 8) % 4.
     offset 128  float d8[8]   block scales, each twice: d0 d0 d1 d1 d2 d2 d3 d3 (x ~= d q)
     offset 160  int32 c8[8]   8 * (sum of the block's q), each once: c0 0 c1 0 c2 0 c3 0
   so the row takes 192 * ng bytes (learn__q8_row_bytes), a multiple of 64; rows need 4-byte
   alignment. Why: 32-bit lane l of a slice covers block l / 2 only, so a SIMD kernel sums the
   four slices of a group lane by lane in integers and converts and scales once per group; c8
   is Q4_0's -8 offset (sum (n - 8) a = sum n a - 8 sum a). A block holding NaN or Inf gets
   d = NaN and q = 0, so every product that reads it is NaN. */

#define LEARN__QK 32
#define LEARN__Q8_0_BYTES 34
#define LEARN__Q4_0_BYTES 18
#define LEARN__QGROUP 192 /* bytes of a group of 4 blocks in a q8 row */

static size_t learn__q8_row_bytes(int K)
{
    return ((size_t)K / LEARN__QK + 3) / 4 * LEARN__QGROUP;
}

/* Offset in a group of element e (0..31) of block j (0..3): the interleave above. */
LEARN__INLINE size_t learn__q8_pos(int j, int e)
{
    static const unsigned char slice_of[4] = {0, 2, 1, 3}; /* E[slice_of[e / 8]] = e & ~7 */
    return (size_t)slice_of[e >> 3] * 32 + (size_t)j * 8 + (size_t)(e & 7);
}

LEARN__INLINE float learn__ld_f16(const uint8_t *p)
{
    return learn__f16_to_f32((uint16_t)(p[0] | (p[1] << 8)));
}

LEARN__INLINE float learn__ld_f32(const void *p)
{
    float f;
    memcpy(&f, p, sizeof f);
    return f;
}

/* Scale and inverse scale of a block with largest magnitude amax (finite, >= 0). A block so
   small that 127/amax overflows is quantized as zeros. Shared by every ISA so that all levels
   produce the same q8 rows. */
LEARN__INLINE void learn__q8_scales(float amax, float *d, float *id)
{
    const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    if (inv <= FLT_MAX) {
        *d = amax / 127.0f;
        *id = inv;
    } else {
        *d = 0.0f;
        *id = 0.0f;
    }
}

/* Stores block j's scale and q sum into its group's d8/c8. */
LEARN__INLINE void learn__q8_put_scale(uint8_t *group, int j, float d, int32_t sum)
{
    const int32_t c = 8 * sum, zero = 0;
    memcpy(group + 128 + 8 * j, &d, 4);
    memcpy(group + 132 + 8 * j, &d, 4);
    memcpy(group + 160 + 8 * j, &c, 4);
    memcpy(group + 164 + 8 * j, &zero, 4);
}

/* Four blocks of 32 values in plain order -> the four slices of a q8 group. */
static void learn__q8_store_group(uint8_t *group, const int8_t q[4][32])
{
    static const unsigned char E[4] = {0, 16, 8, 24};
    for (int s = 0; s < 4; s++)
        for (int j = 0; j < 4; j++) memcpy(group + 32 * s + 8 * j, q[j] + E[s], 8);
}

/* x (K floats, K a multiple of 32) -> one q8 row. Rounds to nearest even (as the SIMD
   conversions do), so every ISA writes the same bytes. */
static void learn__quantize_row_scalar(const float *x, int K, void *out)
{
    const int nb = K / LEARN__QK, ng = (nb + 3) / 4;
    for (int g = 0; g < ng; g++) {
        uint8_t *group = (uint8_t *)out + (size_t)g * LEARN__QGROUP;
        int8_t q[4][32];
        memset(q, 0, sizeof q);
        for (int j = 0; j < 4; j++) {
            const int b = 4 * g + j;
            const float *xb = x + (size_t)b * LEARN__QK;
            float amax = 0.0f, d = 0.0f, id;
            int finite = 1, sum = 0;
            for (int i = 0; b < nb && i < LEARN__QK; i++) {
                const float a = fabsf(xb[i]);
                if (!(a <= FLT_MAX))
                    finite = 0;
                else if (a > amax)
                    amax = a;
            }
            if (b >= nb) {
                d = 0.0f;
            } else if (!finite) {
                d = NAN;
            } else {
                learn__q8_scales(amax, &d, &id);
                for (int i = 0; i < LEARN__QK; i++) {
                    const int v = (int)nearbyintf(xb[i] * id);
                    q[j][i] = (int8_t)v;
                    sum += v;
                }
            }
            learn__q8_put_scale(group, j, d, sum);
        }
        learn__q8_store_group(group, q);
    }
}

/* Block b of a q8 row back to plain order: a[32] and its scale. */
static float learn__q8_block(const void *row, int b, int8_t a[32])
{
    const uint8_t *group = (const uint8_t *)row + (size_t)(b / 4) * LEARN__QGROUP;
    for (int i = 0; i < LEARN__QK; i++) a[i] = (int8_t)group[learn__q8_pos(b % 4, i)];
    return learn__ld_f32(group + 128 + 8 * (b % 4));
}

/* ---- Exact int8 block dots (the integer core of every quantized product; tests check each
   ISA against these bit for bit) ----------------------------------------------------------- */

/* sum of w[i] * a[i] over one block, w a Q8_0 block (34 bytes), a 32 int8 in [-127, 127]. */
static int32_t learn__dot_q8_0_block_scalar(const uint8_t *w, const int8_t *a)
{
    int32_t s = 0;
    for (int i = 0; i < LEARN__QK; i++) s += (int32_t)(int8_t)w[2 + i] * a[i];
    return s;
}

/* sum of (nibble[i] - 8) * a[i] over one Q4_0 block (18 bytes). */
static int32_t learn__dot_q4_0_block_scalar(const uint8_t *w, const int8_t *a)
{
    int32_t s = 0;
    for (int j = 0; j < 16; j++) {
        s += ((int32_t)(w[2 + j] & 15) - 8) * a[j];
        s += ((int32_t)(w[2 + j] >> 4) - 8) * a[j + 16];
    }
    return s;
}

/* ---- Matrix products ----------------------------------------------------------------------

   Y = X W^T:  Y (T x R, Y[t][r] at y[t * ldy + r]) = X (T x K) . W (R x K)^T.
   A kernel computes the rows [r0, r1) of W for all T tokens, so that threads split the work
   by output rows (learn__split_rows). W's row stride ldw and X's row stride ldx are in bytes;
   X is q8 rows (learn__quantize_row_*) for Q8_0/Q4_0 weights and float rows for F32, F16 and
   BF16 weights (4-byte aligned). `work` is per-thread scratch of learn__gemm_work_bytes()
   bytes for the level, 64-byte aligned. Run one through learn__gemm. */

typedef struct learn__gemm_args {
    const void *w;
    size_t ldw;
    const void *x;
    size_t ldx;
    float *y;
    size_t ldy;
    int K, T;
} learn__gemm_args;

typedef void (*learn__gemm_fn)(const learn__gemm_args *g, int r0, int r1, void *work);

/* Reference kernels: one (row, token) at a time, blocks in order. A quantized product is, for
   every (row, token), acc = fma(float(S_b), dw_b * da_b, acc) over the blocks b in order, S_b
   the exact int32 dot of the block: the definition that the avx512 and amx levels follow bit
   for bit, and the others to rounding. */

LEARN__INLINE void learn__gemm_q_scalar(const int q4, const learn__gemm_args *g, int r0, int r1)
{
    const int nb = g->K / LEARN__QK;
    const size_t bb = q4 ? LEARN__Q4_0_BYTES : LEARN__Q8_0_BYTES;
    for (int r = r0; r < r1; r++) {
        const uint8_t *wr = (const uint8_t *)g->w + (size_t)r * g->ldw;
        for (int t = 0; t < g->T; t++) {
            const uint8_t *xt = (const uint8_t *)g->x + (size_t)t * g->ldx;
            float acc = 0.0f;
            for (int b = 0; b < nb; b++) {
                const uint8_t *wb = wr + (size_t)b * bb;
                int8_t a[32];
                const float da = learn__q8_block(xt, b, a);
                const int32_t s =
                    q4 ? learn__dot_q4_0_block_scalar(wb, a) : learn__dot_q8_0_block_scalar(wb, a);
                acc = fmaf((float)s, learn__ld_f16(wb) * da, acc);
            }
            g->y[(size_t)t * g->ldy + (size_t)r] = acc;
        }
    }
}

static void learn__gemm_q8_0_scalar(const learn__gemm_args *g, int r0, int r1, void *work)
{
    (void)work;
    learn__gemm_q_scalar(0, g, r0, r1);
}

static void learn__gemm_q4_0_scalar(const learn__gemm_args *g, int r0, int r1, void *work)
{
    (void)work;
    learn__gemm_q_scalar(1, g, r0, r1);
}

/* Float weights: element k of row r as float. */
LEARN__INLINE float learn__wf(learn_type type, const uint8_t *row, int k)
{
    switch (type) {
    case LEARN_TYPE_F16: return learn__ld_f16(row + 2 * (size_t)k);
    case LEARN_TYPE_BF16: { /* bfloat16: the top half of a float */
        const uint32_t u = (uint32_t)row[2 * (size_t)k] << 16 | (uint32_t)row[2 * (size_t)k + 1]
                                                                    << 24;
        return learn__ld_f32(&u);
    }
    default: return learn__ld_f32(row + 4 * (size_t)k);
    }
}

LEARN__INLINE void learn__gemm_float_scalar(learn_type type, const learn__gemm_args *g, int r0,
                                            int r1)
{
    for (int r = r0; r < r1; r++) {
        const uint8_t *wr = (const uint8_t *)g->w + (size_t)r * g->ldw;
        for (int t = 0; t < g->T; t++) {
            const float *xt = (const float *)((const uint8_t *)g->x + (size_t)t * g->ldx);
            float acc = 0.0f;
            for (int k = 0; k < g->K; k++) acc += learn__wf(type, wr, k) * xt[k];
            g->y[(size_t)t * g->ldy + (size_t)r] = acc;
        }
    }
}

static void learn__gemm_f32_scalar(const learn__gemm_args *g, int r0, int r1, void *work)
{
    (void)work;
    learn__gemm_float_scalar(LEARN_TYPE_F32, g, r0, r1);
}

static void learn__gemm_f16_scalar(const learn__gemm_args *g, int r0, int r1, void *work)
{
    (void)work;
    learn__gemm_float_scalar(LEARN_TYPE_F16, g, r0, r1);
}

static void learn__gemm_bf16_scalar(const learn__gemm_args *g, int r0, int r1, void *work)
{
    (void)work;
    learn__gemm_float_scalar(LEARN_TYPE_BF16, g, r0, r1);
}

/* ---- Tiled quantized products: one driver, a table row per level ----------------------------

   A level's Q8_0 or Q4_0 product is one learn__qkernel: its tile shape and functions, run by
   one driver (learn__gemm_q). For each pass over at most LEARN__TC_MAX tokens, for each chunk
   of kc blocks (the pass's activations of one chunk stay in L2), for each strip of mr rows:
   pack the strip's chunk into `work` (it stays in L1), then run the tiles over the pass's
   tokens. A level whose tiles read the activations in a layout of their own (xpack) first
   copies the pass's chunk of q8 rows into it, once per pass and chunk. Tiles store Y (the
   first chunk) or continue from it (the next ones, in K order). So Y[t][r] is the same
   sequence of operations whatever the pass, the strip or the split; and a strip is packed once
   per pass whatever K is (packing costs about as much as 2 tokens of product). Products of at
   most direct_t tokens go to `direct` instead (decoding-like: one item, one new interaction). */

#define LEARN__TC_MAX 256
#define LEARN__TC_BYTES (256 << 10) /* activation bytes of a pass and K chunk (L2) */
#define LEARN__TILE_FIRST 1         /* the first K chunk: store Y (else continue from it) */
#define LEARN__KC_Q8 64 /* blocks per K chunk of the tiles over q8 rows (128 measured slower: the
                           Q8_0 strip of AVX2 leaves L1) */

typedef struct learn__qkernel {
    int mr, nt;    /* tile: rows (a strip), tokens (a pass is a multiple of nt but at its end) */
    int kc;        /* blocks per K chunk, a multiple of 4 */
    size_t pblock; /* bytes of a packed strip per block */
    size_t xrec;   /* bytes per (token, block) of the xpack layout; 0: the tiles read q8 rows */
    size_t bb;     /* bytes of a weight block: LEARN__Q8_0_BYTES or LEARN__Q4_0_BYTES */
    size_t work;   /* scratch per thread: kc * pblock, plus the xpack of a pass */
    /* Packs blocks [b0, b1) (b0 a multiple of 4) of mr rows of W into pk. */
    void (*pack)(const uint8_t *w, size_t ldw, int mr, int nb, int b0, int b1, uint8_t *pk);
    /* The q8 rows of n tokens, blocks [b0, b1), into the tiles' layout (NULL: none). */
    void (*xpack)(const uint8_t *x, size_t ldx, int n, int b0, int b1, uint8_t *out);
    /* The tiles of mr <= MR rows over nt tokens (any number) and nbk packed blocks. x, ldx:
       the q8 rows at the chunk's first group, or the xpack of the pass (ldx: bytes per nt
       tokens). Stores into Y (flags & LEARN__TILE_FIRST) or continues from it. */
    void (*tiles)(int mr, int nt, const uint8_t *pk, const uint8_t *x, size_t ldx, int nbk,
                  int flags, float *y, size_t ldy);
    /* Products of at most direct_t tokens (NULL: none). */
    void (*direct)(const learn__gemm_args *g, int r0, int r1, void *work);
    int direct_t;
    /* Called by each thread before and after its share of a product (the tile state of AMX). */
    void (*begin)(void);
    void (*end)(void);
} learn__qkernel;

/* Tokens per pass: their activations of one K chunk stay in L2. Changes the loop order only. */
static int learn__token_chunk(int T, size_t bytes_per_token, int nt)
{
    size_t c = (size_t)LEARN__TC_BYTES / (bytes_per_token ? bytes_per_token : 1);
    if (c > LEARN__TC_MAX) c = LEARN__TC_MAX;
    if (c < (size_t)nt) c = (size_t)nt;
    c -= c % (size_t)nt;
    return c < (size_t)T ? (int)c : T;
}

/* Asks for the same K chunk of the next strip (rows [r, min(r + mr, r1))) to be brought into
   the caches while the tiles of this one run: the weights come from DRAM once per pass. */
static void learn__prefetch_strip(const learn__gemm_args *g, size_t bb, int r, int r1, int mr,
                                  int b0, int b1)
{
#if defined(__GNUC__)
    const size_t o0 = (size_t)b0 * bb, o1 = (size_t)b1 * bb;
    for (int i = r; i < r1 && i < r + mr; i++) {
        const uint8_t *row = (const uint8_t *)g->w + (size_t)i * g->ldw;
        for (size_t o = o0; o < o1 && o < g->ldw; o += 64) __builtin_prefetch(row + o, 0, 2);
    }
#else
    (void)g, (void)bb, (void)r, (void)r1, (void)mr, (void)b0, (void)b1;
#endif
}

static void learn__gemm_q(const learn__qkernel *qk, const learn__gemm_args *g, int r0, int r1,
                          void *work)
{
    if (r0 >= r1 || g->T <= 0) return;
    if (qk->direct && g->T <= qk->direct_t) {
        qk->direct(g, r0, r1, work);
        return;
    }
    const int nb = g->K / LEARN__QK;
    const int kc = nb < qk->kc ? nb : qk->kc;
    uint8_t *pk = (uint8_t *)work, *xp = pk + (size_t)qk->kc * qk->pblock;
    const size_t xtok = qk->xpack ? (size_t)kc * qk->xrec : (size_t)(kc + 3) / 4 * LEARN__QGROUP;
    const int tc = learn__token_chunk(g->T, xtok, qk->nt);
    if (qk->begin) qk->begin();
    for (int t0 = 0; t0 < g->T; t0 += tc) {
        const int t1 = g->T - t0 < tc ? g->T : t0 + tc;
        const uint8_t *xt = (const uint8_t *)g->x + (size_t)t0 * g->ldx;
        for (int b0 = 0; b0 < nb; b0 += qk->kc) {
            const int b1 = nb - b0 < qk->kc ? nb : b0 + qk->kc;
            const int flags = b0 == 0 ? LEARN__TILE_FIRST : 0;
            const uint8_t *xc = xt + (size_t)b0 / 4 * LEARN__QGROUP;
            size_t ldc = g->ldx;
            if (qk->xpack) {
                qk->xpack(xt, g->ldx, t1 - t0, b0, b1, xp);
                xc = xp;
                ldc = (size_t)(b1 - b0) * qk->xrec * (size_t)qk->nt;
            }
            for (int r = r0; r < r1; r += qk->mr) {
                const int mr = r1 - r < qk->mr ? r1 - r : qk->mr;
                qk->pack((const uint8_t *)g->w + (size_t)r * g->ldw, g->ldw, mr, nb, b0, b1, pk);
                learn__prefetch_strip(g, qk->bb, r + mr, r1, qk->mr, b0, b1);
                qk->tiles(mr, t1 - t0, pk, xc, ldc, b1 - b0, flags,
                          g->y + (size_t)t0 * g->ldy + (size_t)r, g->ldy);
            }
        }
    }
    if (qk->end) qk->end();
}

/* The scalar level's rows: the reference kernels, for any number of tokens. */
static const learn__qkernel learn__qk_q8_0_scalar = {
    1, 1, 4, 0, 0, LEARN__Q8_0_BYTES, 0, NULL, NULL, NULL, learn__gemm_q8_0_scalar, INT_MAX, NULL, NULL};
static const learn__qkernel learn__qk_q4_0_scalar = {
    1, 1, 4, 0, 0, LEARN__Q4_0_BYTES, 0, NULL, NULL, NULL, learn__gemm_q4_0_scalar, INT_MAX, NULL, NULL};

#if defined(LEARN__X86) || defined(LEARN__ARM64)

/* The body of a `tiles` function over the q8 rows: token tiles of NT tokens, then the tail
   with fewer; CASES is a list of LEARN__QCASE(TILE, M, N) for the shapes M x N the level
   has, each calling its tile function TILE(Q4, M, N, ...) on xt, yt. */
#define LEARN__QCASE(TILE, M, N)                                                                   \
    case (M)*16 + (N):                                                                             \
        TILE(Q4, M, N, pk, xt, ldx, (nbk + 3) / 4, flags, yt, ldy);                                \
        break;
#define LEARN__TILES_BODY(NT, CASES)                                                               \
    for (int t = 0; t < nt; t += (NT)) {                                                           \
        const int n = nt - t < (NT) ? nt - t : (NT);                                               \
        const uint8_t *xt = x + (size_t)t * ldx;                                                   \
        float *yt = y + (size_t)t * ldy;                                                           \
        switch (mr * 16 + n) {                                                                     \
            CASES                                                                                  \
        }                                                                                          \
    }
/* Shapes: rows 1..4 (or 1..2), tokens 1 or 1..2. */
#define LEARN__QCASES_4X1(TILE)                                                                    \
    LEARN__QCASE(TILE, 4, 1) LEARN__QCASE(TILE, 3, 1) LEARN__QCASE(TILE, 2, 1) LEARN__QCASE(TILE, 1, 1)
#define LEARN__QCASES_2X2(TILE)                                                                    \
    LEARN__QCASE(TILE, 2, 2) LEARN__QCASE(TILE, 2, 1) LEARN__QCASE(TILE, 1, 2) LEARN__QCASE(TILE, 1, 1)

/* A level's `tiles` function NAME over q8 rows, from its tile TILE, for weights Q4_ (0: Q8_0). */
#define LEARN__QTILES(NAME, ATTR, TILE, Q4_, NT, CASES)                                            \
    ATTR static void NAME(int mr, int nt, const uint8_t *pk, const uint8_t *x, size_t ldx,       \
                          int nbk, int flags, float *y, size_t ldy)                                \
    {                                                                                              \
        enum { Q4 = Q4_ };                                                                         \
        LEARN__TILES_BODY(NT, CASES(TILE))                                                         \
    }

#endif /* LEARN__X86 || LEARN__ARM64 */

/* ---- AVX2 (+ FMA, F16C) -------------------------------------------------------------------- */

#if defined(LEARN__X86)

#define LEARN__AVX2_INLINE LEARN__INLINE LEARN__AVX2

LEARN__AVX2_INLINE float learn__hsum_avx2(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Four blocks of 32 bytes (plain order) -> the four slices of a q8 group. */
LEARN__AVX2_INLINE void learn__interleave4_avx2(__m256i b0, __m256i b1, __m256i b2, __m256i b3,
                                                __m256i s[4])
{
    const __m256i lo01 = _mm256_unpacklo_epi64(b0, b1), lo23 = _mm256_unpacklo_epi64(b2, b3);
    const __m256i hi01 = _mm256_unpackhi_epi64(b0, b1), hi23 = _mm256_unpackhi_epi64(b2, b3);
    s[0] = _mm256_permute2x128_si256(lo01, lo23, 0x20); /* elements 0..7 */
    s[1] = _mm256_permute2x128_si256(lo01, lo23, 0x31); /* 16..23 */
    s[2] = _mm256_permute2x128_si256(hi01, hi23, 0x20); /* 8..15 */
    s[3] = _mm256_permute2x128_si256(hi01, hi23, 0x31); /* 24..31 */
}

/* Packs groups [g0, g1) of mr rows of a quantized W in the q8 group order. One record per
   (group, row), records of a group together:
     AVX2 Q8_0    w slices [128], |w| slices [128], dw8 [32]   (288 bytes)
     AVX2 Q4_0    nibble slices (bytes 0..15) [128], dw8 [32]  (160 bytes)
   dw8 = d0 d0 d1 d1 d2 d2 d3 d3 matches the lanes of the slices; missing blocks are zeros. */
#define LEARN__REC_Q8_AVX2 288
#define LEARN__REC_Q4_AVX2 160

/* The scales of the n <= 4 blocks (bb bytes each) at wg as d0 d0 d1 d1 d2 d2 d3 d3 (0 for
   missing blocks), the lanes of a q8 group. Built in registers: stores to a float array
   reloaded as a vector stall on store forwarding. */
LEARN__AVX2_INLINE __m256 learn__dw8_avx2(const uint8_t *wg, size_t bb, int n)
{
    uint64_t h = 0;
    LEARN__UNROLL
    for (int j = 0; j < 4; j++)
        if (j < n) h |= (uint64_t)(wg[(size_t)j * bb] | wg[(size_t)j * bb + 1] << 8) << (16 * j);
    return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_cvtph_ps(_mm_cvtsi64_si128((long long)h))),
                                    _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
}

/* The four slices of one row's group of n <= 4 blocks at wg: Q8_0 weights, or Q4_0 nibbles
   (0..15); missing blocks are zeros. */
LEARN__AVX2_INLINE void learn__slices_avx2(const int q4, const uint8_t *wg, int n, __m256i s[4])
{
    const size_t bb = q4 ? LEARN__Q4_0_BYTES : LEARN__Q8_0_BYTES;
    if (q4) {
        const __m256i m4 = _mm256_set1_epi8(15);
        __m128i r[4];
        LEARN__UNROLL
        for (int j = 0; j < 4; j++)
            r[j] = j < n ? _mm_loadu_si128((const __m128i *)(wg + (size_t)j * bb + 2)) : _mm_setzero_si128();
        const __m256i lo = _mm256_set_m128i(_mm_unpacklo_epi64(r[2], r[3]), _mm_unpacklo_epi64(r[0], r[1]));
        const __m256i hi = _mm256_set_m128i(_mm_unpackhi_epi64(r[2], r[3]), _mm_unpackhi_epi64(r[0], r[1]));
        s[0] = _mm256_and_si256(lo, m4);
        s[1] = _mm256_and_si256(_mm256_srli_epi16(lo, 4), m4);
        s[2] = _mm256_and_si256(hi, m4);
        s[3] = _mm256_and_si256(_mm256_srli_epi16(hi, 4), m4);
    } else {
        __m256i b[4];
        LEARN__UNROLL
        for (int j = 0; j < 4; j++)
            b[j] = j < n ? _mm256_loadu_si256((const __m256i *)(wg + (size_t)j * bb + 2)) : _mm256_setzero_si256();
        learn__interleave4_avx2(b[0], b[1], b[2], b[3], s);
    }
}

LEARN__AVX2_INLINE void learn__pack_avx2(const int q4, const uint8_t *w, size_t ldw, int mr, int nb,
                                         int b0, int b1, uint8_t *pk)
{
    const size_t bb = q4 ? LEARN__Q4_0_BYTES : LEARN__Q8_0_BYTES;
    const size_t rec = q4 ? LEARN__REC_Q4_AVX2 : LEARN__REC_Q8_AVX2;
    const int g0 = b0 / 4, g1 = (b1 + 3) / 4;
    for (int g = g0; g < g1; g++) {
        const int n = nb - 4 * g < 4 ? nb - 4 * g : 4;
        for (int i = 0; i < mr; i++) {
            const uint8_t *wg = w + (size_t)i * ldw + (size_t)g * 4 * bb;
            uint8_t *o = pk + ((size_t)(g - g0) * (size_t)mr + (size_t)i) * rec;
            __m256i s[4];
            learn__slices_avx2(q4, wg, n, s);
            LEARN__UNROLL
            for (int k = 0; k < 4; k++) {
                _mm256_storeu_si256((__m256i *)(o + 32 * k), s[k]);
                if (!q4) _mm256_storeu_si256((__m256i *)(o + 128 + 32 * k), _mm256_abs_epi8(s[k]));
            }
            _mm256_storeu_ps((float *)(o + (q4 ? 128 : 256)), learn__dw8_avx2(wg, bb, n));
        }
    }
}

/* Tile shape, measured on Zen 3: 4 rows x 1 token keeps 4 int and 4 float
   accumulators in registers; wider token tiles spill with gcc or clang and run slower. The
   packed strip sits in L1, so the weights are read from memory once per pass over the
   tokens. */
#define LEARN__QMR_AVX2 4
#define LEARN__QNT_AVX2 1

/* One tile: the mr packed rows of pk times tokens [0, nt) of x (q8 rows), into y.
   Q8_0: maddubs multiplies unsigned by signed bytes, so the weights go in as |w| (|-128| is
   128, right as unsigned) and the activations as sign(a, w): a is never -128, so sign cannot
   overflow, and an int16 pair sum is at most 2 * 128 * 127 = 32512 (no saturation). The four
   slices of a group are summed in int32 lanes, each lane holding half of one block.
   Q4_0: the nibbles (0..15) are the unsigned operand as they are; a pair sum is at most
   2 * 15 * 127 = 3810, so the four slices are summed in int16 (<= 15240) before one madd;
   then the -8 offset: minus c8.
   Then, once per group: int32 -> float, times dw8 * d8, added to the float accumulator.
   Every (row, token) runs the same instruction sequence whatever mr and nt are. */
LEARN__AVX2_INLINE void learn__qtile_avx2(const int q4, const int mr, const int nt,
                                          const uint8_t *pk, const uint8_t *x, size_t ldx, int ng,
                                          int flags, float *y, size_t ldy)
{
    const size_t rec = q4 ? LEARN__REC_Q4_AVX2 : LEARN__REC_Q8_AVX2;
    const size_t dofs = q4 ? 128 : 256;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[LEARN__QMR_AVX2][LEARN__QNT_AVX2];
    LEARN__UNROLL
    for (int i = 0; i < mr; i++) {
        LEARN__UNROLL
        for (int j = 0; j < nt; j++) acc[i][j] = _mm256_setzero_ps();
    }
    for (int g = 0; g < ng; g++) {
        const uint8_t *pg = pk + (size_t)g * (size_t)mr * rec;
        const uint8_t *xg = x + (size_t)g * LEARN__QGROUP;
        LEARN__UNROLL
        for (int j = 0; j < nt; j++) {
            const uint8_t *xj = xg + (size_t)j * ldx;
            __m256i a[4];
            LEARN__UNROLL
            for (int s = 0; s < 4; s++) a[s] = _mm256_loadu_si256((const __m256i *)(xj + 32 * s));
            const __m256 da = _mm256_loadu_ps((const float *)(const void *)(xj + 128));
            LEARN__UNROLL
            for (int i = 0; i < mr; i++) {
                const uint8_t *pi = pg + (size_t)i * rec;
                __m256i p = _mm256_setzero_si256();
                LEARN__UNROLL
                for (int s = 0; s < 4; s++) {
                    const __m256i w = _mm256_loadu_si256((const __m256i *)(pi + 32 * s));
                    if (q4) {
                        const __m256i t = _mm256_maddubs_epi16(w, a[s]);
                        p = s ? _mm256_add_epi16(p, t) : t;
                    } else {
                        const __m256i u = _mm256_loadu_si256((const __m256i *)(pi + 128 + 32 * s));
                        const __m256i t = _mm256_madd_epi16(
                            _mm256_maddubs_epi16(u, _mm256_sign_epi8(a[s], w)), ones);
                        p = s ? _mm256_add_epi32(p, t) : t;
                    }
                }
                if (q4)
                    p = _mm256_sub_epi32(_mm256_madd_epi16(p, ones),
                                         _mm256_loadu_si256((const __m256i *)(xj + 160)));
                const __m256 dw = _mm256_loadu_ps((const float *)(const void *)(pi + dofs));
                acc[i][j] =
                    _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(dw, da), acc[i][j]);
            }
        }
    }
    LEARN__UNROLL
    for (int i = 0; i < mr; i++) {
        LEARN__UNROLL
        for (int j = 0; j < nt; j++) {
            float *yo = y + (size_t)j * ldy + (size_t)i;
            const float s = learn__hsum_avx2(acc[i][j]);
            *yo = (flags & LEARN__TILE_FIRST) ? s : *yo + s;
        }
    }
}

/* Products of few tokens (decoding-like: an incremental user update, one item): packing a
   strip costs about as much as two tokens of product and reads the weights twice, so up to
   LEARN__DIRECT_T tokens the weights are interleaved in registers straight from the row
   instead. Every (row, token) runs the tile's arithmetic in the tile's order (groups of 4
   blocks, the same int32 lanes, the same float scaling, one sum per chunk of
   LEARN__KC_Q8 blocks): the results are bit-identical to the tiled path. */
#define LEARN__DIRECT_T 4

/* One row's group gi (n <= 4 blocks at wg) times a token's q8 group (a, da, xg), added to acc. */
LEARN__AVX2_INLINE __m256 learn__qdirect_group_avx2(const int q4, const uint8_t *wg, const int n,
                                                   const __m256i a[4], const __m256 da,
                                                   const uint8_t *xg, __m256 acc)
{
    const size_t bb = q4 ? LEARN__Q4_0_BYTES : LEARN__Q8_0_BYTES;
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256 dw = learn__dw8_avx2(wg, bb, n);
    __m256i p;
    __m256i w[4];
    learn__slices_avx2(q4, wg, n, w);
    if (q4) {
        p = _mm256_maddubs_epi16(w[0], a[0]);
        LEARN__UNROLL
        for (int k = 1; k < 4; k++) p = _mm256_add_epi16(p, _mm256_maddubs_epi16(w[k], a[k]));
        p = _mm256_sub_epi32(_mm256_madd_epi16(p, ones), _mm256_loadu_si256((const __m256i *)(xg + 160)));
    } else {
        p = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(w[0]), _mm256_sign_epi8(a[0], w[0])), ones);
        LEARN__UNROLL
        for (int k = 1; k < 4; k++)
            p = _mm256_add_epi32(p, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(w[k]),
                                                                           _mm256_sign_epi8(a[k], w[k])),
                                                      ones));
    }
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(dw, da), acc);
}

/* Groups [g0, g1) of MR rows at wr (stride ldw) times token row xt, stored into y[0..MR)
   (first chunk) or added to it. pf: the same rows of the next strip, asked for ahead (NULL:
   none). */
LEARN__AVX2_INLINE void learn__qdirect_strip_avx2(const int q4, const int MR, const uint8_t *wr,
                                                 size_t ldw, const uint8_t *pf, int nb, int g0,
                                                 int g1, const uint8_t *xt, float *y)
{
    const size_t gb = 4 * (q4 ? LEARN__Q4_0_BYTES : LEARN__Q8_0_BYTES);
    __m256 acc[LEARN__QMR_AVX2];
    LEARN__UNROLL
    for (int i = 0; i < MR; i++) acc[i] = _mm256_setzero_ps();
    const int full = nb / 4 < g1 ? nb / 4 : g1; /* groups of 4 whole blocks */
    int gi = g0;
    for (; gi < full; gi++) {
        const uint8_t *xg = xt + (size_t)gi * LEARN__QGROUP;
        __m256i a[4];
        LEARN__UNROLL
        for (int s = 0; s < 4; s++) a[s] = _mm256_loadu_si256((const __m256i *)(xg + 32 * s));
        const __m256 da = _mm256_loadu_ps((const float *)(const void *)(xg + 128));
#if defined(__GNUC__)
        if (pf) { /* no unroll pragma here: with it clang -O1 + ASan + UBSan compiled learn.c for
                     over 10 minutes (under a minute without) */
            for (int i = 0; i < MR; i++)
                for (size_t o = 0; o < gb; o += 64)
                    __builtin_prefetch(pf + (size_t)i * ldw + (size_t)gi * gb + o, 0, 3);
        }
#endif
        LEARN__UNROLL
        for (int i = 0; i < MR; i++)
            acc[i] = learn__qdirect_group_avx2(q4, wr + (size_t)i * ldw + (size_t)gi * gb, 4, a, da, xg, acc[i]);
    }
    for (; gi < g1; gi++) { /* the last group, of 1..3 blocks */
        const uint8_t *xg = xt + (size_t)gi * LEARN__QGROUP;
        __m256i a[4];
        for (int s = 0; s < 4; s++) a[s] = _mm256_loadu_si256((const __m256i *)(xg + 32 * s));
        const __m256 da = _mm256_loadu_ps((const float *)(const void *)(xg + 128));
        for (int i = 0; i < MR; i++)
            acc[i] = learn__qdirect_group_avx2(q4, wr + (size_t)i * ldw + (size_t)gi * gb, nb - 4 * gi,
                                               a, da, xg, acc[i]);
    }
    LEARN__UNROLL
    for (int i = 0; i < MR; i++) {
        const float sum = learn__hsum_avx2(acc[i]);
        y[i] = g0 == 0 ? sum : y[i] + sum;
    }
}

LEARN__AVX2_INLINE void learn__qdirect_avx2(const int q4, const learn__gemm_args *g, int r0, int r1)
{
    const int nb = g->K / LEARN__QK, ng = (nb + 3) / 4, MR = LEARN__QMR_AVX2;
    for (int r = r0; r < r1; r += MR) {
        const int mr = r1 - r < MR ? r1 - r : MR;
        const uint8_t *wr = (const uint8_t *)g->w + (size_t)r * g->ldw;
        const uint8_t *pf = r + MR + MR <= r1 ? wr + (size_t)MR * g->ldw : NULL;
        for (int g0 = 0; g0 < ng; g0 += LEARN__KC_Q8 / 4) {
            const int g1 = ng - g0 < LEARN__KC_Q8 / 4 ? ng : g0 + LEARN__KC_Q8 / 4;
            for (int t = 0; t < g->T; t++) {
                const uint8_t *xt = (const uint8_t *)g->x + (size_t)t * g->ldx;
                float *y = g->y + (size_t)t * g->ldy + (size_t)r;
                const uint8_t *p = t == 0 ? pf : NULL;
                switch (mr) {
                case 4: learn__qdirect_strip_avx2(q4, 4, wr, g->ldw, p, nb, g0, g1, xt, y); break;
                case 3: learn__qdirect_strip_avx2(q4, 3, wr, g->ldw, p, nb, g0, g1, xt, y); break;
                case 2: learn__qdirect_strip_avx2(q4, 2, wr, g->ldw, p, nb, g0, g1, xt, y); break;
                default: learn__qdirect_strip_avx2(q4, 1, wr, g->ldw, p, nb, g0, g1, xt, y); break;
                }
            }
        }
    }
}

LEARN__AVX2 static void learn__pack_q8_0_avx2(const uint8_t *w, size_t ldw, int mr, int nb, int b0,
                                              int b1, uint8_t *pk)
{
    learn__pack_avx2(0, w, ldw, mr, nb, b0, b1, pk);
}

LEARN__AVX2 static void learn__pack_q4_0_avx2(const uint8_t *w, size_t ldw, int mr, int nb, int b0,
                                              int b1, uint8_t *pk)
{
    learn__pack_avx2(1, w, ldw, mr, nb, b0, b1, pk);
}

LEARN__QTILES(learn__tiles_q8_0_avx2, LEARN__AVX2, learn__qtile_avx2, 0, 1, LEARN__QCASES_4X1)
LEARN__QTILES(learn__tiles_q4_0_avx2, LEARN__AVX2, learn__qtile_avx2, 1, 1, LEARN__QCASES_4X1)

LEARN__AVX2 static void learn__direct_q8_0_avx2(const learn__gemm_args *g, int r0, int r1, void *work)
{
    (void)work;
    learn__qdirect_avx2(0, g, r0, r1);
}

LEARN__AVX2 static void learn__direct_q4_0_avx2(const learn__gemm_args *g, int r0, int r1, void *work)
{
    (void)work;
    learn__qdirect_avx2(1, g, r0, r1);
}

LEARN__AVX2_INLINE int32_t learn__hsum_epi32_avx2(__m256i p)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* Exact int32 dot of one Q8_0 / Q4_0 block with 32 q8 values, with the instruction sequence of
   the tiles (tests compare it with the scalar one bit for bit). */
LEARN__AVX2 static int32_t learn__dot_q8_0_block_avx2(const uint8_t *w, const int8_t *a)
{
    const __m256i wv = _mm256_loadu_si256((const __m256i *)(w + 2));
    const __m256i av = _mm256_loadu_si256((const __m256i *)a);
    return learn__hsum_epi32_avx2(_mm256_madd_epi16(
        _mm256_maddubs_epi16(_mm256_abs_epi8(wv), _mm256_sign_epi8(av, wv)), _mm256_set1_epi16(1)));
}

LEARN__AVX2 static int32_t learn__dot_q4_0_block_avx2(const uint8_t *w, const int8_t *a)
{
    const __m128i raw = _mm_loadu_si128((const __m128i *)(w + 2));
    const __m256i n =
        _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(15));
    const __m256i av = _mm256_loadu_si256((const __m256i *)a);
    const __m256i ones = _mm256_set1_epi16(1);
    /* sum n a - 8 sum a, both exact in int32 */
    return learn__hsum_epi32_avx2(_mm256_sub_epi32(
        _mm256_madd_epi16(_mm256_maddubs_epi16(n, av), ones),
        _mm256_slli_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), av), ones),
                          3)));
}

LEARN__AVX2_INLINE float learn__hmax_avx2(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* As learn__quantize_row_scalar, same bytes. */
LEARN__AVX2 static void learn__quantize_row_avx2(const float *x, int K, void *out)
{
    const int nb = K / LEARN__QK, ng = (nb + 3) / 4;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 big = _mm256_set1_ps(FLT_MAX);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int g = 0; g < ng; g++) {
        uint8_t *group = (uint8_t *)out + (size_t)g * LEARN__QGROUP;
        __m256i q[4], s[4];
        for (int j = 0; j < 4; j++) {
            const int b = 4 * g + j;
            q[j] = _mm256_setzero_si256();
            if (b >= nb) {
                learn__q8_put_scale(group, j, 0.0f, 0);
                continue;
            }
            const float *xb = x + (size_t)b * LEARN__QK;
            __m256 v[4], amax = _mm256_setzero_ps(), bad = _mm256_setzero_ps();
            for (int k = 0; k < 4; k++) {
                v[k] = _mm256_loadu_ps(xb + 8 * k);
                const __m256 a = _mm256_and_ps(v[k], absmask);
                amax = _mm256_max_ps(amax, a);
                bad = _mm256_or_ps(bad, _mm256_cmp_ps(a, big, _CMP_NLE_UQ)); /* NaN, Inf */
            }
            if (_mm256_movemask_ps(bad)) {
                learn__q8_put_scale(group, j, NAN, 0);
                continue;
            }
            float d, id;
            learn__q8_scales(learn__hmax_avx2(amax), &d, &id);
            const __m256 iv = _mm256_set1_ps(id);
            __m256i i32[4];
            for (int k = 0; k < 4; k++) i32[k] = _mm256_cvtps_epi32(_mm256_mul_ps(v[k], iv));
            const __m256i sum4 = _mm256_add_epi32(_mm256_add_epi32(i32[0], i32[1]),
                                                  _mm256_add_epi32(i32[2], i32[3]));
            __m128i sum =
                _mm_add_epi32(_mm256_castsi256_si128(sum4), _mm256_extracti128_si256(sum4, 1));
            sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0x4e));
            sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0xb1));
            q[j] =
                _mm256_permutevar8x32_epi32(_mm256_packs_epi16(_mm256_packs_epi32(i32[0], i32[1]),
                                                               _mm256_packs_epi32(i32[2], i32[3])),
                                            order);
            learn__q8_put_scale(group, j, d, _mm_cvtsi128_si32(sum));
        }
        learn__interleave4_avx2(q[0], q[1], q[2], q[3], s);
        for (int k = 0; k < 4; k++) _mm256_storeu_si256((__m256i *)(group + 32 * k), s[k]);
    }
}

/* Eight weights of a float-typed row (F32, F16 or BF16 bytes at p) as floats. */
LEARN__AVX2_INLINE __m256 learn__ld8w_avx2(const learn_type type, const uint8_t *p)
{
    switch (type) {
    case LEARN_TYPE_F16: return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
    case LEARN_TYPE_BF16:
        return _mm256_castsi256_ps(
            _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
    default: return _mm256_loadu_ps((const float *)(const void *)p);
    }
}

#define LEARN__FMR_AVX2 4
#define LEARN__FNT_AVX2 3

/* One tile of a float-weight product: 8 lanes per (row, token), k in steps of 8; the last
   K % 8 elements go through zero-padded copies with the same instructions. */
LEARN__AVX2_INLINE void learn__ftile_avx2(const learn_type type, const int mr, const int nt,
                                          const uint8_t *w, size_t ldw, const uint8_t *x,
                                          size_t ldx, int K, float *y, size_t ldy)
{
    const size_t es = type == LEARN_TYPE_F32 ? 4 : 2;
    __m256 acc[LEARN__FMR_AVX2][LEARN__FNT_AVX2];
    LEARN__UNROLL
    for (int i = 0; i < mr; i++) {
        LEARN__UNROLL
        for (int j = 0; j < nt; j++) acc[i][j] = _mm256_setzero_ps();
    }
    int k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 wv[LEARN__FMR_AVX2];
        LEARN__UNROLL
        for (int i = 0; i < mr; i++) wv[i] = learn__ld8w_avx2(type, w + (size_t)i * ldw + (size_t)k * es);
        LEARN__UNROLL
        for (int j = 0; j < nt; j++) {
            const __m256 xv = _mm256_loadu_ps((const float *)(const void *)(x + (size_t)j * ldx) + k);
            LEARN__UNROLL
            for (int i = 0; i < mr; i++) acc[i][j] = _mm256_fmadd_ps(wv[i], xv, acc[i][j]);
        }
    }
    if (k < K) {
        uint8_t wt[LEARN__FMR_AVX2][32];
        float xt[8];
        const size_t n = (size_t)(K - k);
        for (int i = 0; i < mr; i++) {
            memset(wt[i], 0, sizeof wt[i]);
            memcpy(wt[i], w + (size_t)i * ldw + (size_t)k * es, n * es);
        }
        for (int j = 0; j < nt; j++) {
            memset(xt, 0, sizeof xt);
            memcpy(xt, (const float *)(const void *)(x + (size_t)j * ldx) + k, n * 4);
            const __m256 xv = _mm256_loadu_ps(xt);
            for (int i = 0; i < mr; i++)
                acc[i][j] = _mm256_fmadd_ps(learn__ld8w_avx2(type, wt[i]), xv, acc[i][j]);
        }
    }
    LEARN__UNROLL
    for (int i = 0; i < mr; i++) {
        LEARN__UNROLL
        for (int j = 0; j < nt; j++) y[(size_t)j * ldy + (size_t)i] = learn__hsum_avx2(acc[i][j]);
    }
}

#define LEARN__FTILE_CASE_AVX2(M, N)                                                               \
    case (M)*8 + (N):                                                                              \
        learn__ftile_avx2(type, M, N, wr, g->ldw, xt, g->ldx, g->K, yt, g->ldy);                   \
        break;

LEARN__AVX2_INLINE void learn__gemm_f_avx2(const learn_type type, const learn__gemm_args *g, int r0,
                                           int r1)
{
    const int MR = LEARN__FMR_AVX2, NT = LEARN__FNT_AVX2;
    const int tc = learn__token_chunk(g->T, g->ldx, NT);
    for (int t0 = 0; t0 < g->T; t0 += tc) {
        const int t1 = g->T - t0 < tc ? g->T : t0 + tc;
        for (int r = r0; r < r1; r += MR) {
            const int mr = r1 - r < MR ? r1 - r : MR;
            const uint8_t *wr = (const uint8_t *)g->w + (size_t)r * g->ldw;
            for (int t = t0; t < t1; t += NT) {
                const int nt = t1 - t < NT ? t1 - t : NT;
                const uint8_t *xt = (const uint8_t *)g->x + (size_t)t * g->ldx;
                float *yt = g->y + (size_t)t * g->ldy + (size_t)r;
                switch (mr * 8 + nt) {
                    LEARN__FTILE_CASE_AVX2(4, 3)
                    LEARN__FTILE_CASE_AVX2(4, 2)
                    LEARN__FTILE_CASE_AVX2(4, 1)
                    LEARN__FTILE_CASE_AVX2(3, 3)
                    LEARN__FTILE_CASE_AVX2(3, 2)
                    LEARN__FTILE_CASE_AVX2(3, 1)
                    LEARN__FTILE_CASE_AVX2(2, 3)
                    LEARN__FTILE_CASE_AVX2(2, 2)
                    LEARN__FTILE_CASE_AVX2(2, 1)
                    LEARN__FTILE_CASE_AVX2(1, 3)
                    LEARN__FTILE_CASE_AVX2(1, 2)
                    LEARN__FTILE_CASE_AVX2(1, 1)
                default: break;
                }
            }
        }
    }
}

LEARN__AVX2 static void learn__gemm_f32_avx2(const learn__gemm_args *g, int r0, int r1, void *work)
{
    (void)work;
    learn__gemm_f_avx2(LEARN_TYPE_F32, g, r0, r1);
}

LEARN__AVX2 static void learn__gemm_f16_avx2(const learn__gemm_args *g, int r0, int r1, void *work)
{
    (void)work;
    learn__gemm_f_avx2(LEARN_TYPE_F16, g, r0, r1);
}

LEARN__AVX2 static void learn__gemm_bf16_avx2(const learn__gemm_args *g, int r0, int r1, void *work)
{
    (void)work;
    learn__gemm_f_avx2(LEARN_TYPE_BF16, g, r0, r1);
}

#endif /* LEARN__X86 */

/* ---- VPDPBUSD: AVX-512 (F/BW/VL + VNNI) and AVX-VNNI ----------------------------------------

   VPDPBUSD multiplies unsigned by signed bytes and adds groups of four into int32 lanes with no
   intermediate saturation, so one instruction does what maddubs + madd + add do on AVX2. The
   `avxvnni` level (VEX, for AVX2 CPUs with AVX-VNNI and without AVX-512, e.g. Alder Lake) runs
   it on 256-bit vectors with the layouts of AVX2 and 4 x 1 tiles (16 registers); the `avx512`
   level on 512-bit vectors with tiles of its own (the next section).
   Q8_0 at avxvnni: the activations go in as unsigned a + 128 (a xor 0x80) and the weights as they are;
   each lane starts from -128 * (sum of its weights), computed when packing:
     record: w slices [128], -128 sum w per lane (int32 x 8) [32], dw8 [32]   (192 bytes)
   Q4_0: the nibbles are the unsigned operand, the activations the signed one, and each lane
   starts from -c8 (the -8 offset); the record is the AVX2 one. Where the CPU has neither,
   `./build.sh vnni` still runs this code through the whole test suite, with VPDPBUSD emulated
   (LEARN_EMULATE_VNNI). */

#if defined(LEARN__X86)

#define LEARN__AVX512_INLINE LEARN__INLINE LEARN__AVX512
#define LEARN__AVXVNNI_INLINE LEARN__INLINE LEARN__AVXVNNI

/* c + the sums of the four products u8(a) * s8(b) in each int32 lane, wrapping (VPDPBUSD). */
#if defined(LEARN_EMULATE_VNNI)
LEARN__AVX2_INLINE __m256i learn__dpbusd_emu(__m256i c, __m256i a, __m256i b)
{
    /* even and odd bytes as int16: u8 * s8 fits (-32640 .. 32385), and each madd adds two
       of them into the int32 lane that holds all four */
    const __m256i lo8 = _mm256_set1_epi16(0xff);
    const __m256i ae = _mm256_and_si256(a, lo8), ao = _mm256_srli_epi16(a, 8);
    const __m256i be = _mm256_srai_epi16(_mm256_slli_epi16(b, 8), 8), bo = _mm256_srai_epi16(b, 8);
    return _mm256_add_epi32(c, _mm256_add_epi32(_mm256_madd_epi16(ae, be), _mm256_madd_epi16(ao, bo)));
}
#define learn__dpbusd_avxvnni learn__dpbusd_emu
#else
LEARN__AVXVNNI_INLINE __m256i learn__dpbusd_avxvnni(__m256i c, __m256i a, __m256i b)
{
    return _mm256_dpbusd_avx_epi32(c, a, b);
}
#endif

#define LEARN__REC_Q8_VNNI 192
#define LEARN__QMR_VNNI 4

/* The Q8_0 record of the 256-bit tiles. Its correction is exact in AVX2: maddubs(128, w)
   pairs are 128 * (w0 + w1), within -32768 .. 32512, and madd adds the two pairs of a lane. */
LEARN__AVX2 static void learn__pack_q8_0_vnni(const uint8_t *w, size_t ldw, int mr, int nb, int b0,
                                              int b1, uint8_t *pk)
{
    const size_t bb = LEARN__Q8_0_BYTES;
    const __m256i u128 = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi16(1);
    const int g0 = b0 / 4, g1 = (b1 + 3) / 4;
    for (int g = g0; g < g1; g++) {
        const int n = nb - 4 * g < 4 ? nb - 4 * g : 4;
        for (int i = 0; i < mr; i++) {
            const uint8_t *wg = w + (size_t)i * ldw + (size_t)g * 4 * bb;
            uint8_t *o = pk + ((size_t)(g - g0) * (size_t)mr + (size_t)i) * LEARN__REC_Q8_VNNI;
            __m256i s[4], corr = _mm256_setzero_si256();
            learn__slices_avx2(0, wg, n, s);
            LEARN__UNROLL
            for (int k = 0; k < 4; k++) {
                _mm256_storeu_si256((__m256i *)(o + 32 * k), s[k]);
                corr = _mm256_add_epi32(corr, _mm256_madd_epi16(_mm256_maddubs_epi16(u128, s[k]), ones));
            }
            _mm256_storeu_si256((__m256i *)(o + 128), _mm256_sub_epi32(_mm256_setzero_si256(), corr));
            _mm256_storeu_ps((float *)(o + 160), learn__dw8_avx2(wg, bb, n));
        }
    }
}

/* The avxvnni tiles: mr <= 4 rows of the 256-bit records times nt tokens (one, here). */
#define LEARN__QNT_AVXVNNI 1

LEARN__AVXVNNI_INLINE void learn__qtile_avxvnni(const int q4, const int mr, const int nt,
                                                const uint8_t *pk, const uint8_t *x, size_t ldx,
                                                int ng, int flags, float *y, size_t ldy)
{
    const size_t rec = q4 ? LEARN__REC_Q4_AVX2 : LEARN__REC_Q8_VNNI;
    const size_t dofs = q4 ? 128 : 160;
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    __m256 acc[LEARN__QMR_VNNI][LEARN__QNT_AVXVNNI];
    LEARN__UNROLL
    for (int i = 0; i < mr; i++) {
        LEARN__UNROLL
        for (int j = 0; j < nt; j++) acc[i][j] = _mm256_setzero_ps();
    }
    for (int g = 0; g < ng; g++) {
        const uint8_t *pg = pk + (size_t)g * (size_t)mr * rec;
        const uint8_t *xg = x + (size_t)g * LEARN__QGROUP;
        __m256i a[LEARN__QNT_AVXVNNI][4], a0[LEARN__QNT_AVXVNNI];
        __m256 da[LEARN__QNT_AVXVNNI];
        LEARN__UNROLL
        for (int j = 0; j < nt; j++) {
            const uint8_t *xj = xg + (size_t)j * ldx;
            LEARN__UNROLL
            for (int s = 0; s < 4; s++) {
                a[j][s] = _mm256_loadu_si256((const __m256i *)(xj + 32 * s));
                if (!q4) a[j][s] = _mm256_xor_si256(a[j][s], flip);
            }
            da[j] = _mm256_loadu_ps((const float *)(const void *)(xj + 128));
            a0[j] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                     _mm256_loadu_si256((const __m256i *)(xj + 160)));
        }
        LEARN__UNROLL
        for (int i = 0; i < mr; i++) {
            const uint8_t *pi = pg + (size_t)i * rec;
            __m256i wv[4];
            LEARN__UNROLL
            for (int s = 0; s < 4; s++)
                wv[s] = _mm256_loadu_si256((const __m256i *)(pi + 32 * s));
            const __m256 dw = _mm256_loadu_ps((const float *)(const void *)(pi + dofs));
            const __m256i c =
                q4 ? _mm256_setzero_si256() : _mm256_loadu_si256((const __m256i *)(pi + 128));
            LEARN__UNROLL
            for (int j = 0; j < nt; j++) {
                __m256i p = q4 ? a0[j] : c;
                LEARN__UNROLL
                for (int s = 0; s < 4; s++)
                    p = q4 ? learn__dpbusd_avxvnni(p, wv[s], a[j][s])
                           : learn__dpbusd_avxvnni(p, a[j][s], wv[s]);
                acc[i][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(dw, da[j]),
                                            acc[i][j]);
            }
        }
    }
    LEARN__UNROLL
    for (int i = 0; i < mr; i++) {
        LEARN__UNROLL
        for (int j = 0; j < nt; j++) {
            float *yo = y + (size_t)j * ldy + (size_t)i;
            const float s = learn__hsum_avx2(acc[i][j]);
            *yo = (flags & LEARN__TILE_FIRST) ? s : *yo + s;
        }
    }
}

/* Exact int32 block dots with the tiles' instructions (for the tests). */
LEARN__AVXVNNI static int32_t learn__dot_q8_0_block_avxvnni(const uint8_t *w, const int8_t *a)
{
    const __m256i u128 = _mm256_set1_epi8((char)0x80);
    const __m256i wv = _mm256_loadu_si256((const __m256i *)(w + 2));
    const __m256i au = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)a), u128);
    const __m256i corr = learn__dpbusd_avxvnni(_mm256_setzero_si256(), u128, wv);
    return learn__hsum_epi32_avx2(learn__dpbusd_avxvnni(_mm256_sub_epi32(_mm256_setzero_si256(), corr), au, wv));
}

LEARN__AVXVNNI static int32_t learn__dot_q4_0_block_avxvnni(const uint8_t *w, const int8_t *a)
{
    const __m128i raw = _mm_loadu_si128((const __m128i *)(w + 2));
    const __m256i n = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(15));
    const __m256i av = _mm256_loadu_si256((const __m256i *)a);
    const __m256i sum = learn__dpbusd_avxvnni(_mm256_setzero_si256(), _mm256_set1_epi8(1), av);
    return learn__hsum_epi32_avx2(
        learn__dpbusd_avxvnni(_mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(sum, 3)), n, av));
}

LEARN__QTILES(learn__tiles_q8_0_avxvnni, LEARN__AVXVNNI, learn__qtile_avxvnni, 0, 1, LEARN__QCASES_4X1)
LEARN__QTILES(learn__tiles_q4_0_avxvnni, LEARN__AVXVNNI, learn__qtile_avxvnni, 1, 1, LEARN__QCASES_4X1)

/* ---- Per-block tiles: the avx512 and amx levels ---------------------------------------------

   These two levels compute every (row, token) of a Q8_0 / Q4_0 product as the scalar reference
   does: the exact int32 dot S_b of each block, then acc = fma(float(S_b), dw_b * da_b, acc)
   over the blocks in order. So their products equal the scalar ones bit for bit, and each
   other's. The float step runs once per block, on 16 rows at once (lane i of a vector is row i
   of a strip of 16), and the int8 work between two float steps is 8 VPDPBUSD of 64
   multiply-accumulates each (avx512), or one TDPBSSD of 16 x 16 x 32 (amx).

   Weights: a strip of up to 16 rows is packed per K chunk, one 576-byte record per block:
     bytes 0..511    8 rows of 64 bytes: dword i of row k = bytes 4k..4k+3 of strip row i's
                     block, the B operand layout of VPDPBUSD and TDPBSSD; as s8 (amx: Q8_0 q,
                     Q4_0 nibble - 8) or as u8 = s8 xor 0x80 = s8 + 128 (avx512, whose VPDPBUSD
                     multiplies u8 by s8)
     bytes 512..575  the 16 rows' block scales as f32 (0 past the strip)
   Activations: the q8 rows of a pass of tokens and a K chunk are copied into tiles of 16
   tokens (learn__xpack_b), one 640-byte record per block:
     bytes 0..511    16 x 32: token t's 32 values in element order (TDPBSSD's A layout)
     bytes 512..575  the 16 tokens' block scales (f32)
     bytes 576..639  -128 * (sum of the token's 32 values) (int32): the avx512 level starts
                     from it, as sum (w + 128) a - 128 sum a = sum w a
   Tokens past the pass are zeros. The copy is made once per pass and chunk by each thread: it
   costs about as much as one strip of 16 rows, and makes every address in the tiles a constant
   offset from one pointer. */

#define LEARN__BREC 576  /* packed weight bytes per (block, strip of 16 rows) */
#define LEARN__XREC 40   /* activation bytes per (block, token): 32 + 4 + 4 */
#define LEARN__BROWS 16  /* rows per strip and tokens per activation tile */
#define LEARN__BKC 32    /* blocks per K chunk: 18 KB of packed strip, in L1 */
#define LEARN__BWORK ((size_t)LEARN__BKC * LEARN__BREC + (size_t)LEARN__TC_MAX * LEARN__BKC * LEARN__XREC)

/* The q8 rows of n tokens (x, stride ldx), blocks [b0, b1), into tiles of 16 tokens. */
static void learn__xpack_b(const uint8_t *x, size_t ldx, int n, int b0, int b1, uint8_t *out)
{
    const size_t rec = (size_t)LEARN__BROWS * LEARN__XREC;
    for (int t0 = 0; t0 < n; t0 += LEARN__BROWS)
        for (int b = b0; b < b1; b++) {
            uint8_t *o = out + ((size_t)t0 / LEARN__BROWS * (size_t)(b1 - b0) + (size_t)(b - b0)) * rec;
            const int j = b % 4;
            for (int t = 0; t < LEARN__BROWS; t++) {
                if (t0 + t >= n) {
                    memset(o + 32 * t, 0, 32);
                    memset(o + 512 + 4 * t, 0, 4);
                    memset(o + 576 + 4 * t, 0, 4);
                    continue;
                }
                const uint8_t *g = x + (size_t)(t0 + t) * ldx + (size_t)(b / 4) * LEARN__QGROUP;
                /* elements 0..7, 8..15, 16..23, 24..31 sit in slices 0, 2, 1, 3 */
                memcpy(o + 32 * t, g + 8 * j, 8);
                memcpy(o + 32 * t + 8, g + 64 + 8 * j, 8);
                memcpy(o + 32 * t + 16, g + 32 + 8 * j, 8);
                memcpy(o + 32 * t + 24, g + 96 + 8 * j, 8);
                memcpy(o + 512 + 4 * t, g + 128 + 8 * j, 4);
                int32_t c8, c;
                memcpy(&c8, g + 160 + 8 * j, 4); /* 8 * sum, |sum| <= 32 * 127 */
                c = -16 * c8;
                memcpy(o + 576 + 4 * t, &c, 4);
            }
        }
}

/* Eight rows of eight dwords -> eight columns: o[k] = dword k of r[0..7]. */
LEARN__AVX2_INLINE void learn__transpose8_avx2(const __m256i r[8], __m256i o[8])
{
    __m256i t[8], s[8];
    LEARN__UNROLL
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
    }
    LEARN__UNROLL
    for (int i = 0; i < 8; i += 4) {
        s[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);     /* dwords 0, 4 */
        s[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]); /* 1, 5 */
        s[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]); /* 2, 6 */
        s[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]); /* 3, 7 */
    }
    LEARN__UNROLL
    for (int k = 0; k < 4; k++) {
        o[k] = _mm256_permute2x128_si256(s[k], s[k + 4], 0x20);
        o[k + 4] = _mm256_permute2x128_si256(s[k], s[k + 4], 0x31);
    }
}

/* 64 bytes at p from two halves. One 512-bit store, which the tiles' 512-bit loads can forward
   from (two 256-bit stores stall them: at one token, packing is most of the work). */
#if defined(LEARN_EMULATE_VNNI)
LEARN__AVX2_INLINE void learn__store_halves(uint8_t *p, __m256i lo, __m256i hi)
{
    _mm256_storeu_si256((__m256i *)p, lo);
    _mm256_storeu_si256((__m256i *)(p + 32), hi);
}
#else
LEARN__AVX512_INLINE void learn__store_halves(uint8_t *p, __m256i lo, __m256i hi)
{
    _mm512_storeu_si512((void *)p, _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1));
}
#endif

/* The f16 scales of the strip's rows (0 past mr) as 16 floats, stored at o. */
LEARN__AVX512_INLINE void learn__pack_scales_b(const int full, const uint8_t *w, size_t ldw, int mr,
                                               size_t off, uint8_t *o)
{
    uint64_t h[4] = {0, 0, 0, 0};
    LEARN__UNROLL
    for (int i = 0; i < LEARN__BROWS; i++) {
        if (!full && i >= mr) continue;
        const uint8_t *wb = w + (size_t)i * ldw + off;
        h[i / 4] |= (uint64_t)learn__rd16(wb) << (16 * (i % 4));
    }
    const __m128i h0 = _mm_set_epi64x((long long)h[1], (long long)h[0]), h1 = _mm_set_epi64x((long long)h[3], (long long)h[2]);
    learn__store_halves(o, _mm256_castps_si256(_mm256_cvtph_ps(h0)), _mm256_castps_si256(_mm256_cvtph_ps(h1)));
}

/* Block b of the strip (mr rows of W; full: mr = 16) into the record at o. Q8_0: the rows'
   32 bytes, transposed as two 8 x 8 dword matrices. Q4_0: the rows' 16 bytes of nibbles
   transposed first (rows paired in 256-bit vectors, 4 x 4 dword transposes), then split:
   dword k of the nibbles holds elements 4k..4k+3 in its low nibbles and 16 + 4k.. in its high
   ones, record rows k and k + 4. */
LEARN__AVX512_INLINE void learn__pack_b1(const int q4, const int u8, const int full, const uint8_t *w,
                                         size_t ldw, int mr, int b, uint8_t *o)
{
    const size_t bb = q4 ? LEARN__Q4_0_BYTES : LEARN__Q8_0_BYTES, off = (size_t)b * bb;
    learn__pack_scales_b(full, w, ldw, mr, off, o + 512);
    if (q4) {
        const __m256i m4 = _mm256_set1_epi8(15), q4off = _mm256_set1_epi8((char)(u8 ? 120 : -8));
        __m128i raw[LEARN__BROWS];
        LEARN__UNROLL
        for (int i = 0; i < LEARN__BROWS; i++)
            raw[i] = full || i < mr ? _mm_loadu_si128((const __m128i *)(w + (size_t)i * ldw + off + 2))
                                    : _mm_set1_epi8(8); /* nibbles of zeros */
        __m256i p[8], q[8];
        LEARN__UNROLL
        for (int i = 0; i < 8; i++) p[i] = _mm256_set_m128i(raw[i + 8], raw[i]); /* rows i | i + 8 */
        LEARN__UNROLL
        for (int g = 0; g < 8; g += 4) {
            const __m256i t0 = _mm256_unpacklo_epi32(p[g], p[g + 1]), t1 = _mm256_unpackhi_epi32(p[g], p[g + 1]);
            const __m256i t2 = _mm256_unpacklo_epi32(p[g + 2], p[g + 3]), t3 = _mm256_unpackhi_epi32(p[g + 2], p[g + 3]);
            q[g] = _mm256_unpacklo_epi64(t0, t2); /* dword 0 of rows g..g+3 | of rows g+8..g+11 */
            q[g + 1] = _mm256_unpackhi_epi64(t0, t2);
            q[g + 2] = _mm256_unpacklo_epi64(t1, t3);
            q[g + 3] = _mm256_unpackhi_epi64(t1, t3);
        }
        LEARN__UNROLL
        for (int k = 0; k < 4; k++) {
            const __m256i lo = _mm256_permute2x128_si256(q[k], q[k + 4], 0x20); /* rows 0..7 */
            const __m256i hi = _mm256_permute2x128_si256(q[k], q[k + 4], 0x31); /* rows 8..15 */
            learn__store_halves(o + 64 * k, _mm256_add_epi8(_mm256_and_si256(lo, m4), q4off),
                                _mm256_add_epi8(_mm256_and_si256(hi, m4), q4off));
            learn__store_halves(o + 64 * (k + 4), _mm256_add_epi8(_mm256_and_si256(_mm256_srli_epi16(lo, 4), m4), q4off),
                                _mm256_add_epi8(_mm256_and_si256(_mm256_srli_epi16(hi, 4), m4), q4off));
        }
        return;
    }
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    __m256i r[LEARN__BROWS], c[8], c2[8];
    LEARN__UNROLL
    for (int i = 0; i < LEARN__BROWS; i++) {
        __m256i v = _mm256_setzero_si256();
        if (full || i < mr) v = _mm256_loadu_si256((const __m256i *)(w + (size_t)i * ldw + off + 2));
        r[i] = u8 ? _mm256_xor_si256(v, flip) : v;
    }
    learn__transpose8_avx2(r, c);
    learn__transpose8_avx2(r + 8, c2);
    LEARN__UNROLL
    for (int k = 0; k < 8; k++) learn__store_halves(o + 64 * k, c[k], c2[k]);
}

/* Packs blocks [b0, b1) of mr <= 16 rows of W into records (above); u8: the avx512 form. AVX2
   instructions but for the final stores, so the emulating test builds run this code. */
LEARN__AVX512_INLINE void learn__pack_b(const int q4, const int u8, const uint8_t *w, size_t ldw, int mr,
                                        int b0, int b1, uint8_t *pk)
{
    for (int b = b0; b < b1; b++) {
        uint8_t *o = pk + (size_t)(b - b0) * LEARN__BREC;
        if (mr == LEARN__BROWS) /* a whole strip: no test per row */
            learn__pack_b1(q4, u8, 1, w, ldw, mr, b, o);
        else
            learn__pack_b1(q4, u8, 0, w, ldw, mr, b, o);
    }
}

/* 512-bit vectors: learn__zi (16 int32) and learn__zf (16 floats), or in the emulating test
   build pairs of 256-bit vectors with the same operations lane for lane. */
#if defined(LEARN_EMULATE_VNNI)
typedef struct learn__zi {
    __m256i lo, hi;
} learn__zi;
typedef struct learn__zf {
    __m256 lo, hi;
} learn__zf;
LEARN__AVX2_INLINE learn__zi learn__zi_load(const uint8_t *p)
{
    learn__zi r = {_mm256_loadu_si256((const __m256i *)p), _mm256_loadu_si256((const __m256i *)(p + 32))};
    return r;
}
LEARN__AVX2_INLINE learn__zi learn__zi_bcast(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    learn__zi r = {_mm256_set1_epi32(v), _mm256_set1_epi32(v)};
    return r;
}
/* c + VPDPBUSD(u, the s8 x 4 at p in every lane) */
LEARN__AVX2_INLINE learn__zi learn__zi_dpbusd_b(learn__zi c, learn__zi u, const uint8_t *p)
{
    const learn__zi s = learn__zi_bcast(p);
    learn__zi r = {learn__dpbusd_emu(c.lo, u.lo, s.lo), learn__dpbusd_emu(c.hi, u.hi, s.hi)};
    return r;
}
LEARN__AVX2_INLINE int32_t learn__zi_lane0(learn__zi v)
{
    return _mm256_cvtsi256_si32(v.lo);
}
LEARN__AVX2_INLINE learn__zf learn__zf_zero(void)
{
    learn__zf r = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    return r;
}
LEARN__AVX2_INLINE learn__zf learn__zf_load(const uint8_t *p)
{
    learn__zf r = {_mm256_loadu_ps((const float *)(const void *)p),
                   _mm256_loadu_ps((const float *)(const void *)(p + 32))};
    return r;
}
/* The first n <= 16 floats at p, zeros after; reads nothing past them. */
LEARN__AVX2_INLINE learn__zf learn__zf_load_n(const float *p, int n)
{
    float t[16] = {0};
    memcpy(t, p, (size_t)n * sizeof(float));
    learn__zf r = {_mm256_loadu_ps(t), _mm256_loadu_ps(t + 8)};
    return r;
}
LEARN__AVX2_INLINE void learn__zf_store_n(float *p, learn__zf v, int n)
{
    float t[16];
    _mm256_storeu_ps(t, v.lo);
    _mm256_storeu_ps(t + 8, v.hi);
    memcpy(p, t, (size_t)n * sizeof(float));
}
/* acc + float(s) * (dw * (the float at da in every lane)) */
LEARN__AVX2_INLINE learn__zf learn__zf_step(learn__zf acc, learn__zi s, learn__zf dw, const uint8_t *da)
{
    float d;
    memcpy(&d, da, 4);
    const __m256 dv = _mm256_set1_ps(d);
    learn__zf r = {_mm256_fmadd_ps(_mm256_cvtepi32_ps(s.lo), _mm256_mul_ps(dw.lo, dv), acc.lo),
                   _mm256_fmadd_ps(_mm256_cvtepi32_ps(s.hi), _mm256_mul_ps(dw.hi, dv), acc.hi)};
    return r;
}
#else
typedef __m512i learn__zi;
typedef __m512 learn__zf;
LEARN__AVX512_INLINE learn__zi learn__zi_load(const uint8_t *p)
{
    return _mm512_loadu_si512((const void *)p);
}
LEARN__AVX512_INLINE learn__zi learn__zi_bcast(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}
LEARN__AVX512_INLINE learn__zi learn__zi_dpbusd_b(learn__zi c, learn__zi u, const uint8_t *p)
{
#if defined(__clang__)
    return _mm512_dpbusd_epi32(c, u, learn__zi_bcast(p)); /* clang folds the broadcast */
#else
    /* gcc loads the broadcast into a register first, which halves the speed of the tiles:
       the broadcast from memory is written out */
    __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(c) : "v"(u), "m"(*(const int32_t *)(const void *)p));
    return c;
#endif
}
LEARN__AVX512_INLINE int32_t learn__zi_lane0(learn__zi v)
{
    return _mm_cvtsi128_si32(_mm512_castsi512_si128(v));
}
LEARN__AVX512_INLINE learn__zf learn__zf_zero(void)
{
    return _mm512_setzero_ps();
}
LEARN__AVX512_INLINE learn__zf learn__zf_load(const uint8_t *p)
{
    return _mm512_loadu_ps((const void *)p);
}
LEARN__AVX512_INLINE __mmask16 learn__zmask(int n)
{
    return (__mmask16)(n >= 16 ? 0xffffu : (1u << n) - 1u);
}
LEARN__AVX512_INLINE learn__zf learn__zf_load_n(const float *p, int n)
{
    return _mm512_maskz_loadu_ps(learn__zmask(n), p);
}
LEARN__AVX512_INLINE void learn__zf_store_n(float *p, learn__zf v, int n)
{
    _mm512_mask_storeu_ps(p, learn__zmask(n), v);
}
LEARN__AVX512_INLINE learn__zf learn__zf_step(learn__zf acc, learn__zi s, learn__zf dw, const uint8_t *da)
{
    float d;
    memcpy(&d, da, 4);
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw, _mm512_set1_ps(d)), acc);
}
#endif

/* avx512 tile: N <= 8 tokens (tokens o .. o + N - 1 of a 16-token tile at xp) times the strip
   of mr <= 16 rows at pk, over nbk blocks, into y (token t's rows at y + t ldy). The int32 sums
   of the N tokens advance together, one weight row of the record at a time. */
LEARN__AVX512_INLINE void learn__btile_avx512(const int N, const int o, int mr, const uint8_t *pk,
                                              const uint8_t *xp, int nbk, int flags, float *y, size_t ldy)
{
    learn__zf acc[8];
    LEARN__UNROLL
    for (int t = 0; t < N; t++)
        acc[t] = (flags & LEARN__TILE_FIRST) ? learn__zf_zero() : learn__zf_load_n(y + (size_t)t * ldy, mr);
    for (int b = 0; b < nbk; b++) {
        const uint8_t *pb = pk + (size_t)b * LEARN__BREC;
        const uint8_t *xb = xp + (size_t)b * LEARN__BROWS * LEARN__XREC;
        learn__zi p[8];
        LEARN__UNROLL
        for (int t = 0; t < N; t++) p[t] = learn__zi_bcast(xb + 576 + 4 * (o + t));
        LEARN__UNROLL
        for (int k = 0; k < 8; k++) {
            const learn__zi w = learn__zi_load(pb + 64 * k);
            LEARN__UNROLL
            for (int t = 0; t < N; t++) p[t] = learn__zi_dpbusd_b(p[t], w, xb + 32 * (o + t) + 4 * k);
        }
        const learn__zf dw = learn__zf_load(pb + 512);
        LEARN__UNROLL
        for (int t = 0; t < N; t++) acc[t] = learn__zf_step(acc[t], p[t], dw, xb + 512 + 4 * (o + t));
    }
    LEARN__UNROLL
    for (int t = 0; t < N; t++) learn__zf_store_n(y + (size_t)t * ldy, acc[t], mr);
}

#define LEARN__BCASE_AVX512(O, N)                                                                  \
    case N:                                                                                        \
        learn__btile_avx512(N, O, mr, pk, xt, nbk, flags, yt + (size_t)(O)*ldy, ldy);             \
        break;
#define LEARN__BCASES_AVX512(O)                                                                    \
    LEARN__BCASE_AVX512(O, 1) LEARN__BCASE_AVX512(O, 2) LEARN__BCASE_AVX512(O, 3)                  \
    LEARN__BCASE_AVX512(O, 4) LEARN__BCASE_AVX512(O, 5) LEARN__BCASE_AVX512(O, 6)                  \
    LEARN__BCASE_AVX512(O, 7) LEARN__BCASE_AVX512(O, 8)

/* The tiles of a strip over nt tokens of the activation tiles at x (ldx bytes apart): each
   16-token tile as two tiles of 8 tokens. */
LEARN__AVX512 static void learn__tiles_b_avx512(int mr, int nt, const uint8_t *pk, const uint8_t *x,
                                                size_t ldx, int nbk, int flags, float *y, size_t ldy)
{
    for (int t = 0; t < nt; t += LEARN__BROWS) {
        const int n = nt - t < LEARN__BROWS ? nt - t : LEARN__BROWS;
        const uint8_t *xt = x + (size_t)(t / LEARN__BROWS) * ldx;
        float *yt = y + (size_t)t * ldy;
        switch (n < 8 ? n : 8) { LEARN__BCASES_AVX512(0) }
        switch (n - 8) { LEARN__BCASES_AVX512(8) default: break; }
    }
}

LEARN__AVX512 static void learn__pack_q8_0_avx512(const uint8_t *w, size_t ldw, int mr, int nb,
                                                  int b0, int b1, uint8_t *pk)
{
    (void)nb;
    learn__pack_b(0, 1, w, ldw, mr, b0, b1, pk);
}

LEARN__AVX512 static void learn__pack_q4_0_avx512(const uint8_t *w, size_t ldw, int mr, int nb,
                                                  int b0, int b1, uint8_t *pk)
{
    (void)nb;
    learn__pack_b(1, 1, w, ldw, mr, b0, b1, pk);
}

/* Products of few tokens at the avx512 level (an incremental user update, one item), where
   packing strips of 16 rows costs more than their product: four rows at a time straight from
   W, each row's block as one 256-bit VPDPBUSD, the four rows' exact block dots summed across
   lanes, then the tiles' float step on four lanes. Every (row, token) runs the tiles'
   sequence, acc = fma(float(S_b), dw_b * da_b, acc) in block order, so the results are the
   tiled path's (and the scalar kernels') bit for bit. */
#define LEARN__BDIRECT_T 1 /* measured: at 2 tokens the tiles are faster */

#if defined(LEARN_EMULATE_VNNI)
#define learn__dpbusd_y learn__dpbusd_emu
#else
LEARN__AVX512_INLINE __m256i learn__dpbusd_y(__m256i c, __m256i a, __m256i b)
{
    return _mm256_dpbusd_epi32(c, a, b);
}
#endif

/* Row block b of W at wr as u8 (s8 + 128), in element order. */
LEARN__AVX2_INLINE __m256i learn__row_u8_avx2(const int q4, const uint8_t *wb)
{
    if (q4) {
        const __m128i raw = _mm_loadu_si128((const __m128i *)(wb + 2));
        return _mm256_add_epi8(_mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(15)),
                               _mm256_set1_epi8(120));
    }
    return _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(wb + 2)), _mm256_set1_epi8((char)0x80));
}

/* Rows [r0, r1) of the product for g->T <= LEARN__BDIRECT_T tokens; work: an xpack of them. */
LEARN__AVX512_INLINE void learn__bdirect_avx512(const int q4, const learn__gemm_args *g, int r0, int r1,
                                                void *work)
{
    const size_t bb = q4 ? LEARN__Q4_0_BYTES : LEARN__Q8_0_BYTES, xr = (size_t)LEARN__BROWS * LEARN__XREC;
    const int nb = g->K / LEARN__QK, T = g->T < LEARN__BDIRECT_T ? g->T : LEARN__BDIRECT_T;
    uint8_t *xp = (uint8_t *)work;
    for (int b0 = 0; b0 < nb; b0 += LEARN__BKC) {
        const int b1 = nb - b0 < LEARN__BKC ? nb : b0 + LEARN__BKC;
        learn__xpack_b((const uint8_t *)g->x, g->ldx, T, b0, b1, xp);
        for (int r = r0; r < r1; r += 4) {
            const int m = r1 - r < 4 ? r1 - r : 4;
            const uint8_t *wr = (const uint8_t *)g->w + (size_t)r * g->ldw;
            const uint8_t *pf = r + 4 < r1 ? wr + 4 * g->ldw : NULL;
            __m128 acc[LEARN__BDIRECT_T] = {_mm_setzero_ps()}; /* T <= LEARN__BDIRECT_T rows are set below */
            for (int t = 0; t < T; t++) {
                float v[4] = {0, 0, 0, 0};
                if (b0) memcpy(v, g->y + (size_t)t * g->ldy + (size_t)r, (size_t)m * sizeof(float));
                acc[t] = _mm_loadu_ps(v);
            }
            for (int b = b0; b < b1; b++) {
                const size_t off = (size_t)b * bb;
                __m256i w[4];
                uint64_t h = 0;
                LEARN__UNROLL
                for (int i = 0; i < 4; i++) {
                    if (i < m) {
                        const uint8_t *wb = wr + (size_t)i * g->ldw + off;
                        h |= (uint64_t)learn__rd16(wb) << (16 * i);
                        w[i] = learn__row_u8_avx2(q4, wb);
#if defined(__GNUC__)
                        if (pf) __builtin_prefetch(pf + (size_t)i * g->ldw + off, 0, 3);
#endif
                    } else {
                        w[i] = _mm256_set1_epi8((char)0x80); /* s8 zeros */
                    }
                }
                const __m128 dw = _mm_cvtph_ps(_mm_cvtsi64_si128((long long)h));
                const uint8_t *xb = xp + (size_t)(b - b0) * xr;
                for (int t = 0; t < T; t++) {
                    const __m256i a = _mm256_loadu_si256((const __m256i *)(xb + 32 * t));
                    __m256i p[4];
                    LEARN__UNROLL
                    for (int i = 0; i < 4; i++) p[i] = learn__dpbusd_y(_mm256_setzero_si256(), w[i], a);
                    const __m256i hs = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
                    int32_t c;
                    float d;
                    memcpy(&c, xb + 576 + 4 * t, 4);
                    memcpy(&d, xb + 512 + 4 * t, 4);
                    const __m128i S = _mm_add_epi32(_mm_add_epi32(_mm256_castsi256_si128(hs), _mm256_extracti128_si256(hs, 1)),
                                                    _mm_set1_epi32(c));
                    acc[t] = _mm_fmadd_ps(_mm_cvtepi32_ps(S), _mm_mul_ps(dw, _mm_set1_ps(d)), acc[t]);
                }
            }
            for (int t = 0; t < T; t++) {
                float v[4];
                _mm_storeu_ps(v, acc[t]);
                memcpy(g->y + (size_t)t * g->ldy + (size_t)r, v, (size_t)m * sizeof(float));
            }
        }
    }
}

LEARN__AVX512 static void learn__direct_q8_0_avx512(const learn__gemm_args *g, int r0, int r1, void *work)
{
    learn__bdirect_avx512(0, g, r0, r1, work);
}

LEARN__AVX512 static void learn__direct_q4_0_avx512(const learn__gemm_args *g, int r0, int r1, void *work)
{
    learn__bdirect_avx512(1, g, r0, r1, work);
}

/* Exact int32 block dots with the tiles' instructions (for the tests): the weights as u8 in
   lane 0, the activations broadcast, from -128 sum a. */
LEARN__AVX512_INLINE int32_t learn__dot_block_avx512(const int q4, const uint8_t *w, const int8_t *a)
{
    uint8_t pk[LEARN__BREC];
    int32_t sum = 0;
    for (int i = 0; i < 32; i++) sum += a[i];
    learn__pack_b(q4, 1, w, 0, 1, 0, 1, pk);
    const int32_t c = -128 * sum;
    learn__zi p = learn__zi_bcast((const uint8_t *)&c);
    for (int k = 0; k < 8; k++) p = learn__zi_dpbusd_b(p, learn__zi_load(pk + 64 * k), (const uint8_t *)a + 4 * k);
    return learn__zi_lane0(p);
}

LEARN__AVX512 static int32_t learn__dot_q8_0_block_avx512(const uint8_t *w, const int8_t *a)
{
    return learn__dot_block_avx512(0, w, a);
}

LEARN__AVX512 static int32_t learn__dot_q4_0_block_avx512(const uint8_t *w, const int8_t *a)
{
    return learn__dot_block_avx512(1, w, a);
}

/* ---- AMX ------------------------------------------------------------------------------------

   The amx level: the avx512 level's records and float step, with the int32 sums of a block
   for 16 tokens x 16 rows from one TDPBSSD (signed x signed, so the weights are packed as s8
   and need no correction). Tile registers, configured once per product by each thread that
   runs it (learn__amx_begin: each thread has its own tile state) and released after:
     tmm0, tmm1  C: 16 tokens x 16 int32 (rows of 64 bytes)
     tmm2, tmm3  A: 16 tokens x 32 s8 (one block of the activation tiles, 32 bytes apart)
     tmm4, tmm5  B: 8 rows of 64 bytes (one packed weight record)
   Two blocks are in flight (tmm0, tmm2, tmm4 for even blocks, tmm1, tmm3, tmm5 for odd ones):
   the tile unit multiplies one while the vector units scale and add the other, which went
   through memory (TILESTORED to a 1 KB buffer, then 16 loads).
   LEARN_EMULATE_AMX (test builds only: ./build.sh amx) replaces the six instructions used
   (LDTILECFG, TILERELEASE, TILEZERO, TILELOADD, TILESTORED, TDPBSSD) by portable C with the
   same results, on a per-thread tile state, so the whole level runs and is tested on any
   x86-64 machine with AVX2. It checks what the hardware checks (palette, shapes) and poisons
   the result when they are wrong. */

/* The configuration above, in LDTILECFG's 64-byte format: palette 1, colsb (u16) of tiles 0..15
   at bytes 16..47, rows (u8) at bytes 48..63. */
static const uint8_t learn__amx_cfg[64] = {
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    64, 0, 64, 0, 32, 0, 32, 0, 64, 0, 64, 0, 0, 0, 0, 0, /* colsb of tmm0..tmm7 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    16, 16, 16, 16, 8, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; /* rows of tmm0..tmm7 */

#if defined(LEARN_EMULATE_AMX)
/* The emulated tile state of a thread: 8 tiles of 16 rows x 64 bytes, their shapes, and whether
   a configuration is loaded. Test builds only. */
typedef struct learn__amx_state {
    int valid;
    uint8_t rows[8];
    uint16_t colsb[8];
    uint8_t t[8][16][64];
} learn__amx_state;
static _Thread_local learn__amx_state learn__amx_st;

static void learn__amx_poison(int c)
{
    memset(learn__amx_st.t[c], 0x7f, sizeof learn__amx_st.t[c]);
}

static void learn__amx_ldtilecfg(const uint8_t cfg[64])
{
    learn__amx_state *s = &learn__amx_st;
    memset(s, 0, sizeof *s);
    if (cfg[0] != 1) return; /* palette 0 releases; others do not exist */
    s->valid = 1;
    for (int i = 0; i < 16; i++) {
        const unsigned colsb = (unsigned)cfg[16 + 2 * i] | (unsigned)cfg[17 + 2 * i] << 8, rows = cfg[48 + i];
        if (i >= 8 ? (colsb || rows) : (colsb > 64 || rows > 16 || (!colsb) != (!rows))) s->valid = 0;
        if (i < 8) {
            s->rows[i] = (uint8_t)rows;
            s->colsb[i] = (uint16_t)colsb;
        }
    }
    if (!s->valid) memset(s, 0, sizeof *s); /* the hardware faults: every use is poisoned */
}

static void learn__amx_tilerelease(void)
{
    memset(&learn__amx_st, 0, sizeof learn__amx_st);
}

static void learn__amx_tilezero(int t)
{
    memset(learn__amx_st.t[t], 0, sizeof learn__amx_st.t[t]);
    if (!learn__amx_st.valid) learn__amx_poison(t);
}

static void learn__amx_tileloadd(int t, const void *base, size_t stride)
{
    learn__amx_state *s = &learn__amx_st;
    memset(s->t[t], 0, sizeof s->t[t]);
    if (!s->valid || !s->rows[t]) {
        learn__amx_poison(t);
        return;
    }
    for (int r = 0; r < s->rows[t]; r++) memcpy(s->t[t][r], (const uint8_t *)base + (size_t)r * stride, s->colsb[t]);
}

static void learn__amx_tilestored(int t, void *base, size_t stride)
{
    const learn__amx_state *s = &learn__amx_st;
    if (!s->valid || !s->rows[t]) { /* the hardware faults: the whole tile the kernel reads is poison */
        for (int r = 0; r < 16; r++) memset((uint8_t *)base + (size_t)r * stride, 0x7f, 64);
        return;
    }
    for (int r = 0; r < s->rows[t]; r++) memcpy((uint8_t *)base + (size_t)r * stride, s->t[t][r], s->colsb[t]);
}

/* C[m][n] += sum over k < K/4, i < 4 of A[m][4k + i] * B[k][4n + i], signed bytes, int32
   lanes wrapping; M = rows(A) = rows(C), K = colsb(A) = 4 rows(B), N = colsb(C) / 4 = colsb(B) / 4. */
static void learn__amx_tdpbssd(int c, int a, int b)
{
    learn__amx_state *s = &learn__amx_st;
    if (!s->valid || s->rows[c] != s->rows[a] || s->colsb[c] != s->colsb[b] ||
        s->colsb[a] != 4 * s->rows[b] || !s->rows[c] || s->colsb[c] % 4 || s->colsb[a] % 4) {
        learn__amx_poison(c);
        return;
    }
    const int N = s->colsb[c] / 4;
    for (int m = 0; m < s->rows[c]; m++) {
        uint32_t acc[16];
        memcpy(acc, s->t[c][m], sizeof acc);
        for (int k = 0; k < s->rows[b]; k++) {
            const int8_t *ar = (const int8_t *)&s->t[a][m][4 * k], *br = (const int8_t *)s->t[b][k];
            for (int n = 0; n < N; n++) /* four products of at most 128 * 128: int is enough */
                acc[n] += (uint32_t)(ar[0] * br[4 * n] + ar[1] * br[4 * n + 1] + ar[2] * br[4 * n + 2] +
                                     ar[3] * br[4 * n + 3]);
        }
        memcpy(s->t[c][m], acc, sizeof acc);
    }
}
#define LEARN__TILEZERO(T) learn__amx_tilezero(T)
#define LEARN__TILELOADD(T, P, S) learn__amx_tileloadd(T, P, S)
#define LEARN__TILESTORED(T, P, S) learn__amx_tilestored(T, P, S)
#define LEARN__TDPBSSD(C, A, B) learn__amx_tdpbssd(C, A, B)
#else
/* The instructions (binutils 2.36 and later assemble them), with their operands spelled out. */
static void learn__amx_ldtilecfg(const uint8_t cfg[64])
{
    __asm__ __volatile__("ldtilecfg %0" : : "m"(*(const uint8_t(*)[64])cfg));
}
static void learn__amx_tilerelease(void)
{
    __asm__ __volatile__("tilerelease" ::: "memory");
}
#define LEARN__TILEZERO(T) __asm__ __volatile__("tilezero %%tmm" #T ::)
#define LEARN__TILELOADD(T, P, S)                                                                  \
    __asm__ __volatile__("tileloadd (%0,%1,1), %%tmm" #T : : "r"(P), "r"((size_t)(S)) : "memory")
#define LEARN__TILESTORED(T, P, S)                                                                 \
    __asm__ __volatile__("tilestored %%tmm" #T ", (%0,%1,1)" : : "r"(P), "r"((size_t)(S)) : "memory")
#define LEARN__TDPBSSD(C, A, B) __asm__ __volatile__("tdpbssd %%tmm" #B ", %%tmm" #A ", %%tmm" #C ::)
#endif

static void learn__amx_begin(void)
{
    learn__amx_ldtilecfg(learn__amx_cfg);
}

static void learn__amx_end(void)
{
    learn__amx_tilerelease();
}

/* 16 tokens of the activation tile at xb (one block) times the record at pb, into the 1 KB at c:
   C[t][i] = the exact dot of token t and strip row i. */
#define LEARN__AMX_BLOCK(CT, AT, BT, xb, pb, c)                                                    \
    do {                                                                                           \
        LEARN__TILEZERO(CT);                                                                       \
        LEARN__TILELOADD(AT, xb, 32);                                                              \
        LEARN__TILELOADD(BT, pb, 64);                                                              \
        LEARN__TDPBSSD(CT, AT, BT);                                                                \
        LEARN__TILESTORED(CT, c, 64);                                                              \
    } while (0)

/* acc[t] += float(C[t]) * dw * da[t] for 8 tokens o .. o + 7 of one block. */
LEARN__AVX512_INLINE void learn__amx_scale(learn__zf acc[8], const int o, const uint8_t *c,
                                           const uint8_t *pb, const uint8_t *xb)
{
    const learn__zf dw = learn__zf_load(pb + 512);
    LEARN__UNROLL
    for (int t = 0; t < 8; t++)
        acc[t] = learn__zf_step(acc[t], learn__zi_load(c + 64 * (o + t)), dw, xb + 512 + 4 * (o + t));
}

/* The tiles of a strip over nt tokens of the activation tiles at x (ldx bytes apart). The 16
   tokens' accumulators are two arrays of 8: gcc keeps those in registers, not one of 16. */
LEARN__AVX512 static void learn__tiles_amx(int mr, int nt, const uint8_t *pk, const uint8_t *x,
                                           size_t ldx, int nbk, int flags, float *y, size_t ldy)
{
    _Alignas(64) uint8_t c[2][1024];
    const size_t xr = (size_t)LEARN__BROWS * LEARN__XREC;
    for (int t = 0; t < nt; t += LEARN__BROWS) {
        const int n = nt - t < LEARN__BROWS ? nt - t : LEARN__BROWS;
        const uint8_t *xt = x + (size_t)(t / LEARN__BROWS) * ldx;
        float *yt = y + (size_t)t * ldy;
        learn__zf lo[8], hi[8];
        LEARN__UNROLL
        for (int i = 0; i < 8; i++) {
            const int first = flags & LEARN__TILE_FIRST;
            lo[i] = first || i >= n ? learn__zf_zero() : learn__zf_load_n(yt + (size_t)i * ldy, mr);
            hi[i] = first || i + 8 >= n ? learn__zf_zero() : learn__zf_load_n(yt + (size_t)(i + 8) * ldy, mr);
        }
        int b = 0;
        for (; b + 2 <= nbk; b += 2) {
            const uint8_t *pb = pk + (size_t)b * LEARN__BREC, *xb = xt + (size_t)b * xr;
            LEARN__AMX_BLOCK(0, 2, 4, xb, pb, c[0]);
            LEARN__AMX_BLOCK(1, 3, 5, xb + xr, pb + LEARN__BREC, c[1]);
            learn__amx_scale(lo, 0, c[0], pb, xb);
            learn__amx_scale(hi, 8, c[0], pb, xb);
            learn__amx_scale(lo, 0, c[1], pb + LEARN__BREC, xb + xr);
            learn__amx_scale(hi, 8, c[1], pb + LEARN__BREC, xb + xr);
        }
        if (b < nbk) {
            const uint8_t *pb = pk + (size_t)b * LEARN__BREC, *xb = xt + (size_t)b * xr;
            LEARN__AMX_BLOCK(0, 2, 4, xb, pb, c[0]);
            learn__amx_scale(lo, 0, c[0], pb, xb);
            learn__amx_scale(hi, 8, c[0], pb, xb);
        }
        LEARN__UNROLL
        for (int i = 0; i < 8; i++) {
            if (i < n) learn__zf_store_n(yt + (size_t)i * ldy, lo[i], mr);
            if (i + 8 < n) learn__zf_store_n(yt + (size_t)(i + 8) * ldy, hi[i], mr);
        }
    }
}

/* Products of few tokens (an incremental user update, one item) at the amx level: the avx512
   tiles, which give the same bits, run a 16-token tile's work only for the tokens there are. */
static const learn__qkernel learn__qk_q8_0_avx512, learn__qk_q4_0_avx512;
static void learn__direct_q8_0_amx(const learn__gemm_args *g, int r0, int r1, void *work)
{
    learn__gemm_q(&learn__qk_q8_0_avx512, g, r0, r1, work);
}

static void learn__direct_q4_0_amx(const learn__gemm_args *g, int r0, int r1, void *work)
{
    learn__gemm_q(&learn__qk_q4_0_avx512, g, r0, r1, work);
}
#define LEARN__AMX_DIRECT_T 4

LEARN__AVX512 static void learn__pack_q8_0_amx(const uint8_t *w, size_t ldw, int mr, int nb, int b0,
                                               int b1, uint8_t *pk)
{
    (void)nb;
    learn__pack_b(0, 0, w, ldw, mr, b0, b1, pk);
}

LEARN__AVX512 static void learn__pack_q4_0_amx(const uint8_t *w, size_t ldw, int mr, int nb, int b0,
                                               int b1, uint8_t *pk)
{
    (void)nb;
    learn__pack_b(1, 0, w, ldw, mr, b0, b1, pk);
}

/* Exact int32 block dots with the tiles' instructions (for the tests): one TDPBSSD of a record
   packed from the block (strip row 0) and an activation tile holding a (token 0). */
LEARN__AVX512_INLINE int32_t learn__dot_block_amx(const int q4, const uint8_t *w, const int8_t *a)
{
    _Alignas(64) uint8_t pk[LEARN__BREC], xa[LEARN__BROWS * 32], c[1024];
    int32_t s;
    learn__pack_b(q4, 0, w, 0, 1, 0, 1, pk);
    memset(xa, 0, sizeof xa);
    memcpy(xa, a, 32);
    learn__amx_begin();
    LEARN__AMX_BLOCK(0, 2, 4, xa, pk, c);
    learn__amx_end();
    memcpy(&s, c, 4);
    return s;
}

LEARN__AVX512 static int32_t learn__dot_q8_0_block_amx(const uint8_t *w, const int8_t *a)
{
    return learn__dot_block_amx(0, w, a);
}

LEARN__AVX512 static int32_t learn__dot_q4_0_block_amx(const uint8_t *w, const int8_t *a)
{
    return learn__dot_block_amx(1, w, a);
}

#endif /* LEARN__X86 */

/* ---- NEON (AArch64) -------------------------------------------------------------------------

   Packed record per (group, row): the four slices of signed weights (Q4_0 as nibble - 8, so
   both types share one tile), then dw4 = d0 d1 d2 d3: 144 bytes. A 16-byte chunk of a slice
   holds 8 values of two blocks; SDOT (or its emulation) gives int32 lanes [x x y y] for those
   two blocks, a pairwise add of the two halves' sums gives the four block sums, converted
   and scaled once per group. */

#if defined(LEARN__ARM64)

#define LEARN__REC_NEON 144
#define LEARN__QMR_NEON 2
#define LEARN__QNT_NEON 2

static float learn__f16_neon(const uint8_t *p)
{
    const uint16x4_t h = vdup_n_u16((uint16_t)(p[0] | (p[1] << 8)));
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(h)), 0);
}

static void learn__pack_neon(const int q4, const uint8_t *w, size_t ldw, int mr, int nb, int b0,
                             int b1, uint8_t *pk)
{
    const size_t bb = q4 ? LEARN__Q4_0_BYTES : LEARN__Q8_0_BYTES;
    const int g0 = b0 / 4, g1 = (b1 + 3) / 4;
    for (int g = g0; g < g1; g++) {
        const int n = nb - 4 * g < 4 ? nb - 4 * g : 4;
        for (int i = 0; i < mr; i++) {
            const uint8_t *wg = w + (size_t)i * ldw + (size_t)g * 4 * bb;
            uint8_t *o = pk + ((size_t)(g - g0) * (size_t)mr + (size_t)i) * LEARN__REC_NEON;
            int8_t q[4][32];
            float d[4];
            memset(q, 0, sizeof q);
            for (int j = 0; j < 4; j++) {
                d[j] = j < n ? learn__f16_neon(wg + (size_t)j * bb) : 0.0f;
                if (j >= n) continue;
                if (q4) {
                    const uint8x16_t raw = vld1q_u8(wg + (size_t)j * bb + 2);
                    const int8x16_t eight = vdupq_n_s8(8);
                    vst1q_s8(q[j],
                             vsubq_s8(vreinterpretq_s8_u8(vandq_u8(raw, vdupq_n_u8(15))), eight));
                    vst1q_s8(q[j] + 16, vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(raw, 4)), eight));
                } else {
                    memcpy(q[j], wg + (size_t)j * bb + 2, 32);
                }
            }
            learn__q8_store_group(o, (const int8_t(*)[32])q);
            memcpy(o + 128, d, 16);
        }
    }
}

/* Exact sums of one group of a (row, token): lane b = block b's sum. With SDOT, or else with
   widening multiplies: a lane of vmull_s8 + vmlal_s8 adds two products of at most
   128 * 127 = 16256 (a is never -128), so it stays within int16. */
LEARN__INLINE int32x4_t learn__group_dot_neon(const int8_t *w, const int8_t *a)
{
    const int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16), w2 = vld1q_s8(w + 32),
                    w3 = vld1q_s8(w + 48), w4 = vld1q_s8(w + 64), w5 = vld1q_s8(w + 80),
                    w6 = vld1q_s8(w + 96), w7 = vld1q_s8(w + 112);
    const int8x16_t a0 = vld1q_s8(a), a1 = vld1q_s8(a + 16), a2 = vld1q_s8(a + 32),
                    a3 = vld1q_s8(a + 48), a4 = vld1q_s8(a + 64), a5 = vld1q_s8(a + 80),
                    a6 = vld1q_s8(a + 96), a7 = vld1q_s8(a + 112);
    /* chunks 0, 2, 4, 6: blocks 0 and 1; chunks 1, 3, 5, 7: blocks 2 and 3 */
    int16x8_t m;
    m = vmlal_s8(vmull_s8(vget_low_s8(w0), vget_low_s8(a0)), vget_low_s8(w2), vget_low_s8(a2));
    int32x4_t b0 = vpaddlq_s16(m);
    m = vmlal_s8(vmull_s8(vget_low_s8(w4), vget_low_s8(a4)), vget_low_s8(w6), vget_low_s8(a6));
    b0 = vpadalq_s16(b0, m);
    m = vmlal_high_s8(vmull_high_s8(w0, a0), w2, a2);
    int32x4_t b1 = vpaddlq_s16(m);
    m = vmlal_high_s8(vmull_high_s8(w4, a4), w6, a6);
    b1 = vpadalq_s16(b1, m);
    m = vmlal_s8(vmull_s8(vget_low_s8(w1), vget_low_s8(a1)), vget_low_s8(w3), vget_low_s8(a3));
    int32x4_t b2 = vpaddlq_s16(m);
    m = vmlal_s8(vmull_s8(vget_low_s8(w5), vget_low_s8(a5)), vget_low_s8(w7), vget_low_s8(a7));
    b2 = vpadalq_s16(b2, m);
    m = vmlal_high_s8(vmull_high_s8(w1, a1), w3, a3);
    int32x4_t b3 = vpaddlq_s16(m);
    m = vmlal_high_s8(vmull_high_s8(w5, a5), w7, a7);
    b3 = vpadalq_s16(b3, m);
    return vpaddq_s32(vpaddq_s32(b0, b1), vpaddq_s32(b2, b3));
}

/* SDOT: the intrinsic, or inline assembly where the compiler (clang < 16) declares the
   intrinsic only for builds whose base target has dotprod. */
#if defined(__clang__) && __clang_major__ < 16 && !defined(__ARM_FEATURE_DOTPROD)
LEARN__INLINE LEARN__DOTPROD int32x4_t learn__sdot(int32x4_t acc, int8x16_t a, int8x16_t b)
{
    __asm__("sdot %0.4s, %1.16b, %2.16b" : "+w"(acc) : "w"(a), "w"(b));
    return acc;
}
#else
#define learn__sdot vdotq_s32
#endif

LEARN__INLINE LEARN__DOTPROD int32x4_t learn__group_dot_dotprod(const int8_t *w, const int8_t *a)
{
    int32x4_t p01 = vdupq_n_s32(0), p23 = vdupq_n_s32(0);
    for (int c = 0; c < 8; c += 2) {
        p01 = learn__sdot(p01, vld1q_s8(w + 16 * c), vld1q_s8(a + 16 * c));
        p23 = learn__sdot(p23, vld1q_s8(w + 16 * c + 16), vld1q_s8(a + 16 * c + 16));
    }
    /* p01 = [b0 b0 b1 b1] halves, p23 = [b2 b2 b3 b3] */
    return vpaddq_s32(p01, p23);
}

/* Tile (dp: SDOT or not). Every (row, token) runs the same sequence whatever mr and nt are. */
#define LEARN__QTILE_NEON(NAME, DOT, ATTR)                                                         \
    LEARN__INLINE ATTR void learn__qtile_##NAME(const int q4, const int mr, const int nt,          \
                                                const uint8_t *pk, const uint8_t *x, size_t ldx,   \
                                                int ng, int flags, float *y, size_t ldy)           \
    {                                                                                              \
        (void)q4; /* both types are packed as Q8_0 */                                              \
        float32x4_t acc[LEARN__QMR_NEON][LEARN__QNT_NEON];                                         \
        LEARN__UNROLL                                                                              \
        for (int i = 0; i < mr; i++) LEARN__UNROLL                                                 \
        for (int j = 0; j < nt; j++) acc[i][j] = vdupq_n_f32(0.0f);                                \
        for (int g = 0; g < ng; g++) {                                                             \
            const uint8_t *pg = pk + (size_t)g * (size_t)mr * LEARN__REC_NEON;                             \
            const uint8_t *xg = x + (size_t)g * LEARN__QGROUP;                                     \
            LEARN__UNROLL                                                                          \
            for (int j = 0; j < nt; j++) {                                                         \
                const uint8_t *xj = xg + (size_t)j * ldx;                                                  \
                const float32x4_t da =                                                             \
                    vuzp1q_f32(vld1q_f32((const float *)(const void *)(xj + 128)),                 \
                               vld1q_f32((const float *)(const void *)(xj + 144)));                \
                LEARN__UNROLL                                                                      \
                for (int i = 0; i < mr; i++) {                                                     \
                    const uint8_t *pi = pg + (size_t)i * LEARN__REC_NEON;                                  \
                    const int32x4_t s = DOT((const int8_t *)pi, (const int8_t *)xj);               \
                    const float32x4_t d =                                                          \
                        vmulq_f32(vld1q_f32((const float *)(const void *)(pi + 128)), da);         \
                    acc[i][j] = vfmaq_f32(acc[i][j], vcvtq_f32_s32(s), d);                         \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        LEARN__UNROLL                                                                              \
        for (int i = 0; i < mr; i++) LEARN__UNROLL                                                 \
        for (int j = 0; j < nt; j++) {                                                             \
            float *yo = y + (size_t)j * ldy + (size_t)i;                                           \
            const float s = vaddvq_f32(acc[i][j]);                                                 \
            *yo = (flags & LEARN__TILE_FIRST) ? s : *yo + s;                                       \
        }                                                                                          \
    }

LEARN__QTILE_NEON(neon, learn__group_dot_neon, )
LEARN__QTILE_NEON(dotprod, learn__group_dot_dotprod, LEARN__DOTPROD)

static void learn__pack_q8_0_neon(const uint8_t *w, size_t ldw, int mr, int nb, int b0, int b1,
                                  uint8_t *pk)
{
    learn__pack_neon(0, w, ldw, mr, nb, b0, b1, pk);
}

static void learn__pack_q4_0_neon(const uint8_t *w, size_t ldw, int mr, int nb, int b0, int b1,
                                  uint8_t *pk)
{
    learn__pack_neon(1, w, ldw, mr, nb, b0, b1, pk);
}

/* One tiles function per dot for both types: the packing made Q4_0 a Q8_0. */
LEARN__QTILES(learn__tiles_neon, , learn__qtile_neon, 0, 2, LEARN__QCASES_2X2)
LEARN__QTILES(learn__tiles_dotprod, LEARN__DOTPROD, learn__qtile_dotprod, 0, 2, LEARN__QCASES_2X2)

/* Exact int32 block dots with the tiles' instructions (for the tests). */
static int32_t learn__dot_q8_0_block_neon(const uint8_t *w, const int8_t *a)
{
    int8_t q[4][32], b[4][32];
    uint8_t wg[128], ag[128];
    memset(q, 0, sizeof q);
    memset(b, 0, sizeof b);
    memcpy(q[0], w + 2, 32);
    memcpy(b[0], a, 32);
    learn__q8_store_group(wg, (const int8_t(*)[32])q);
    learn__q8_store_group(ag, (const int8_t(*)[32])b);
    return vgetq_lane_s32(learn__group_dot_neon((const int8_t *)wg, (const int8_t *)ag), 0);
}

static LEARN__DOTPROD int32_t learn__dot_q8_0_block_dotprod(const uint8_t *w, const int8_t *a)
{
    int8_t q[4][32], b[4][32];
    uint8_t wg[128], ag[128];
    memset(q, 0, sizeof q);
    memset(b, 0, sizeof b);
    memcpy(q[0], w + 2, 32);
    memcpy(b[0], a, 32);
    learn__q8_store_group(wg, (const int8_t(*)[32])q);
    learn__q8_store_group(ag, (const int8_t(*)[32])b);
    return vgetq_lane_s32(learn__group_dot_dotprod((const int8_t *)wg, (const int8_t *)ag), 0);
}

/* A Q4_0 block as the Q8_0 block the NEON pack makes of it (nibble - 8, same scale). */
static void learn__q4_as_q8(const uint8_t *w, uint8_t q8[LEARN__Q8_0_BYTES])
{
    q8[0] = w[0];
    q8[1] = w[1];
    for (int j = 0; j < 16; j++) {
        q8[2 + j] = (uint8_t)(int8_t)((w[2 + j] & 15) - 8);
        q8[18 + j] = (uint8_t)(int8_t)((w[2 + j] >> 4) - 8);
    }
}

static int32_t learn__dot_q4_0_block_neon(const uint8_t *w, const int8_t *a)
{
    uint8_t q8[LEARN__Q8_0_BYTES];
    learn__q4_as_q8(w, q8);
    return learn__dot_q8_0_block_neon(q8, a);
}

static LEARN__DOTPROD int32_t learn__dot_q4_0_block_dotprod(const uint8_t *w, const int8_t *a)
{
    uint8_t q8[LEARN__Q8_0_BYTES];
    learn__q4_as_q8(w, q8);
    return learn__dot_q8_0_block_dotprod(q8, a);
}

/* As learn__quantize_row_scalar, same bytes. */
static void learn__quantize_row_neon(const float *x, int K, void *out)
{
    const int nb = K / LEARN__QK, ng = (nb + 3) / 4;
    for (int g = 0; g < ng; g++) {
        uint8_t *group = (uint8_t *)out + (size_t)g * LEARN__QGROUP;
        int8_t q[4][32];
        memset(q, 0, sizeof q);
        for (int j = 0; j < 4; j++) {
            const int b = 4 * g + j;
            if (b >= nb) {
                learn__q8_put_scale(group, j, 0.0f, 0);
                continue;
            }
            const float *xb = x + (size_t)b * LEARN__QK;
            float32x4_t v[8], amax = vdupq_n_f32(0.0f);
            uint32x4_t ok = vdupq_n_u32(0xffffffffu);
            for (int k = 0; k < 8; k++) {
                v[k] = vld1q_f32(xb + 4 * k);
                const float32x4_t a = vabsq_f32(v[k]);
                ok = vandq_u32(ok, vcleq_f32(a, vdupq_n_f32(FLT_MAX))); /* false for NaN, Inf */
                amax = vmaxq_f32(amax, a);
            }
            if (vminvq_u32(ok) == 0) {
                learn__q8_put_scale(group, j, NAN, 0);
                continue;
            }
            float d, id;
            learn__q8_scales(vmaxvq_f32(amax), &d, &id);
            int32x4_t sum = vdupq_n_s32(0);
            for (int k = 0; k < 8; k += 2) {
                const int32x4_t i0 = vcvtnq_s32_f32(vmulq_n_f32(v[k], id));
                const int32x4_t i1 = vcvtnq_s32_f32(vmulq_n_f32(v[k + 1], id));
                sum = vaddq_s32(sum, vaddq_s32(i0, i1));
                vst1_s8(q[j] + 4 * k, vmovn_s16(vcombine_s16(vmovn_s32(i0), vmovn_s32(i1))));
            }
            learn__q8_put_scale(group, j, d, vaddvq_s32(sum));
        }
        learn__q8_store_group(group, (const int8_t(*)[32])q);
    }
}

/* Four weights of a float-typed row as floats. */
LEARN__INLINE float32x4_t learn__ld4w_neon(const learn_type type, const uint8_t *p)
{
    switch (type) {
    case LEARN_TYPE_F16: return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(p)));
    case LEARN_TYPE_BF16:
        return vreinterpretq_f32_u32(vshll_n_u16(vreinterpret_u16_u8(vld1_u8(p)), 16));
    default: return vreinterpretq_f32_u8(vld1q_u8(p));
    }
}

#define LEARN__FMR_NEON 4
#define LEARN__FNT_NEON 2

/* One tile of a float-weight product: 4 lanes per (row, token), k in steps of 4; the last
   K % 4 elements go through zero-padded copies with the same instructions. */
LEARN__INLINE void learn__ftile_neon(const learn_type type, const int mr, const int nt,
                                     const uint8_t *w, size_t ldw, const uint8_t *x, size_t ldx,
                                     int K, float *y, size_t ldy)
{
    const size_t es = type == LEARN_TYPE_F32 ? 4 : 2;
    float32x4_t acc[LEARN__FMR_NEON][LEARN__FNT_NEON];
    LEARN__UNROLL
    for (int i = 0; i < mr; i++) {
        LEARN__UNROLL
        for (int j = 0; j < nt; j++) acc[i][j] = vdupq_n_f32(0.0f);
    }
    int k = 0;
    for (; k + 4 <= K; k += 4) {
        float32x4_t wv[LEARN__FMR_NEON];
        LEARN__UNROLL
        for (int i = 0; i < mr; i++) wv[i] = learn__ld4w_neon(type, w + (size_t)i * ldw + (size_t)k * es);
        LEARN__UNROLL
        for (int j = 0; j < nt; j++) {
            const float32x4_t xv = vld1q_f32((const float *)(const void *)(x + (size_t)j * ldx) + k);
            LEARN__UNROLL
            for (int i = 0; i < mr; i++) acc[i][j] = vfmaq_f32(acc[i][j], wv[i], xv);
        }
    }
    if (k < K) {
        uint8_t wt[LEARN__FMR_NEON][16];
        float xt[4];
        const size_t n = (size_t)(K - k);
        for (int i = 0; i < mr; i++) {
            memset(wt[i], 0, sizeof wt[i]);
            memcpy(wt[i], w + (size_t)i * ldw + (size_t)k * es, n * es);
        }
        for (int j = 0; j < nt; j++) {
            memset(xt, 0, sizeof xt);
            memcpy(xt, (const float *)(const void *)(x + (size_t)j * ldx) + k, n * 4);
            const float32x4_t xv = vld1q_f32(xt);
            for (int i = 0; i < mr; i++)
                acc[i][j] = vfmaq_f32(acc[i][j], learn__ld4w_neon(type, wt[i]), xv);
        }
    }
    LEARN__UNROLL
    for (int i = 0; i < mr; i++) {
        LEARN__UNROLL
        for (int j = 0; j < nt; j++) y[(size_t)j * ldy + (size_t)i] = vaddvq_f32(acc[i][j]);
    }
}

#define LEARN__FTILE_CASE_NEON(M, N)                                                               \
    case (M)*8 + (N):                                                                              \
        learn__ftile_neon(type, M, N, wr, g->ldw, xt, g->ldx, g->K, yt, g->ldy);                   \
        break;

LEARN__INLINE void learn__gemm_f_neon(const learn_type type, const learn__gemm_args *g, int r0,
                                      int r1)
{
    const int MR = LEARN__FMR_NEON, NT = LEARN__FNT_NEON;
    const int tc = learn__token_chunk(g->T, g->ldx, NT);
    for (int t0 = 0; t0 < g->T; t0 += tc) {
        const int t1 = g->T - t0 < tc ? g->T : t0 + tc;
        for (int r = r0; r < r1; r += MR) {
            const int mr = r1 - r < MR ? r1 - r : MR;
            const uint8_t *wr = (const uint8_t *)g->w + (size_t)r * g->ldw;
            for (int t = t0; t < t1; t += NT) {
                const int nt = t1 - t < NT ? t1 - t : NT;
                const uint8_t *xt = (const uint8_t *)g->x + (size_t)t * g->ldx;
                float *yt = g->y + (size_t)t * g->ldy + (size_t)r;
                switch (mr * 8 + nt) {
                    LEARN__FTILE_CASE_NEON(4, 2)
                    LEARN__FTILE_CASE_NEON(4, 1)
                    LEARN__FTILE_CASE_NEON(3, 2)
                    LEARN__FTILE_CASE_NEON(3, 1)
                    LEARN__FTILE_CASE_NEON(2, 2)
                    LEARN__FTILE_CASE_NEON(2, 1)
                    LEARN__FTILE_CASE_NEON(1, 2)
                    LEARN__FTILE_CASE_NEON(1, 1)
                default: break;
                }
            }
        }
    }
}

static void learn__gemm_f32_neon(const learn__gemm_args *g, int r0, int r1, void *work)
{
    (void)work;
    learn__gemm_f_neon(LEARN_TYPE_F32, g, r0, r1);
}

static void learn__gemm_f16_neon(const learn__gemm_args *g, int r0, int r1, void *work)
{
    (void)work;
    learn__gemm_f_neon(LEARN_TYPE_F16, g, r0, r1);
}

static void learn__gemm_bf16_neon(const learn__gemm_args *g, int r0, int r1, void *work)
{
    (void)work;
    learn__gemm_f_neon(LEARN_TYPE_BF16, g, r0, r1);
}

#endif /* LEARN__ARM64 */

/* ---- Row helpers --------------------------------------------------------------------------

   Small operations of the LLM forward pass and the towers, one row at a time, each with a
   scalar reference. In-place use (y == x) is allowed wherever y and x have the same type.
     dot        sum a[i] b[i]
     axpy       y += a x
     rmsnorm    y = x / sqrt(mean(x^2) + eps) * w            (w may be NULL: no weight)
     layernorm  y = (x - mean) / sqrt(var + eps) * g + b     (g, b may be NULL)
     softmax    y = exp(x - max) / sum; a row with every entry -Inf (fully masked) gives
                zeros; a row holding a NaN or +Inf gives NaN everywhere, for the caller to
                detect (isnan(y[0])). n = 0 does nothing.
     swiglu     y = silu(gate) * up = gate / (1 + exp(-gate)) * up
     gelu       y = 0.5 x (1 + erf(x / sqrt 2))              (the exact, erf form)
     f16 rows   exact half -> float; float -> half rounding to nearest even (F16C / NEON
                conversions agree with learn__f32_to_f16 except for NaN payloads).
   The SIMD versions of exp and erf are polynomial: exp within 2 ulp, erf within 2e-7
   absolute; the sums of SIMD versions are taken in another order than the scalar ones. */

static float learn__dot_f32_scalar(const float *a, const float *b, size_t n)
{
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void learn__axpy_f32_scalar(float *y, float a, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}

static void learn__rmsnorm_f32_scalar(float *y, const float *x, const float *w, size_t n, float eps)
{
    float ss = 0.0f;
    for (size_t i = 0; i < n; i++) ss += x[i] * x[i];
    const float s = 1.0f / sqrtf(ss / (float)(n ? n : 1) + eps);
    for (size_t i = 0; i < n; i++) y[i] = w ? x[i] * s * w[i] : x[i] * s;
}

static void learn__layernorm_f32_scalar(float *y, const float *x, const float *g, const float *b,
                                        size_t n, float eps)
{
    const float inv_n = 1.0f / (float)(n ? n : 1);
    float sum = 0.0f, var = 0.0f;
    for (size_t i = 0; i < n; i++) sum += x[i];
    const float mean = sum * inv_n;
    for (size_t i = 0; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
    const float s = 1.0f / sqrtf(var * inv_n + eps);
    for (size_t i = 0; i < n; i++) {
        const float v = (x[i] - mean) * s;
        y[i] = (g ? v * g[i] : v) + (b ? b[i] : 0.0f);
    }
}

/* The max of a row, or NaN when it holds a NaN or +Inf (shared by every softmax). */
static float learn__softmax_max_scalar(const float *x, size_t n)
{
    float m = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!(x[i] < INFINITY) && x[i] != -INFINITY) return NAN; /* NaN or +Inf */
        if (x[i] > m) m = x[i];
    }
    return m;
}

/* Fills y for the rows softmax does not compute: returns 1 when it did. */
static int learn__softmax_special(float *y, float m, size_t n)
{
    if (m != m) {
        for (size_t i = 0; i < n; i++) y[i] = NAN;
        return 1;
    }
    if (m == -INFINITY) {
        for (size_t i = 0; i < n; i++) y[i] = 0.0f;
        return 1;
    }
    return 0;
}

static void learn__softmax_f32_scalar(float *y, const float *x, size_t n)
{
    const float m = learn__softmax_max_scalar(x, n);
    if (learn__softmax_special(y, m, n)) return;
    float s = 0.0f;
    for (size_t i = 0; i < n; i++) {
        y[i] = expf(x[i] - m);
        s += y[i];
    }
    const float inv = 1.0f / s;
    for (size_t i = 0; i < n; i++) y[i] *= inv;
}

static void learn__swiglu_f32_scalar(float *y, const float *gate, const float *up, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

static void learn__gelu_f32_scalar(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

static void learn__f16_to_f32_row_scalar(float *y, const uint16_t *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = learn__f16_to_f32(x[i]);
}

static void learn__f32_to_f16_row_scalar(uint16_t *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = learn__f32_to_f16(x[i]);
}

/* Polynomial constants shared by the SIMD exp and erf. exp(x) = 2^n p(r), n = round(x log2 e),
   r = x - n ln 2 (in two parts), p the Cephes expf polynomial. Inputs are clamped to
   [-87.34, 88.37] (NaN passes through: the min/max operand order keeps it) and inputs below
   -87.33 give exactly 0. erf: Abramowitz & Stegun 7.1.26, |error| <= 1.5e-7. */
#define LEARN__EXP_HI 88.3762626647949f
#define LEARN__EXP_LO (-87.3365478515625f)
#define LEARN__LOG2E 1.44269504088896341f
#define LEARN__LN2_HI 0.693359375f
#define LEARN__LN2_LO (-2.12194440e-4f)
#define LEARN__EXP_C0 1.9875691500e-4f
#define LEARN__EXP_C1 1.3981999507e-3f
#define LEARN__EXP_C2 8.3334519073e-3f
#define LEARN__EXP_C3 4.1665795894e-2f
#define LEARN__EXP_C4 1.6666665459e-1f
#define LEARN__EXP_C5 5.0000001201e-1f
#define LEARN__ERF_P 0.3275911f
#define LEARN__ERF_A1 0.254829592f
#define LEARN__ERF_A2 (-0.284496736f)
#define LEARN__ERF_A3 1.421413741f
#define LEARN__ERF_A4 (-1.453152027f)
#define LEARN__ERF_A5 1.061405429f

#if defined(LEARN__X86)

LEARN__AVX2_INLINE __m256 learn__exp_avx2(__m256 x)
{
    const __m256 xc = _mm256_max_ps(_mm256_set1_ps(LEARN__EXP_LO - 1.0f),
                                    _mm256_min_ps(_mm256_set1_ps(LEARN__EXP_HI), x));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(LEARN__LOG2E)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LEARN__LN2_HI), xc);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(LEARN__LN2_LO), r);
    __m256 p = _mm256_set1_ps(LEARN__EXP_C0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(LEARN__EXP_C1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(LEARN__EXP_C2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(LEARN__EXP_C3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(LEARN__EXP_C4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(LEARN__EXP_C5));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256 pow2n = _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
    const __m256 e = _mm256_mul_ps(p, pow2n);
    return _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(LEARN__EXP_LO), _CMP_LT_OQ), e);
}

LEARN__AVX2_INLINE __m256 learn__erf_avx2(__m256 x)
{
    const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
    const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    const __m256 t =
        _mm256_div_ps(_mm256_set1_ps(1.0f),
                      _mm256_fmadd_ps(_mm256_set1_ps(LEARN__ERF_P), ax, _mm256_set1_ps(1.0f)));
    __m256 p = _mm256_set1_ps(LEARN__ERF_A5);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(LEARN__ERF_A4));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(LEARN__ERF_A3));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(LEARN__ERF_A2));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(LEARN__ERF_A1));
    p = _mm256_mul_ps(p, t);
    const __m256 e = learn__exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(ax, ax)));
    return _mm256_or_ps(sign, _mm256_fnmadd_ps(p, e, _mm256_set1_ps(1.0f)));
}

/* Loads/stores the first n (< 8) floats of p, the rest zero. */
LEARN__AVX2_INLINE __m256 learn__ld_tail_avx2(const float *p, size_t n)
{
    float t[8] = {0};
    memcpy(t, p, n * sizeof *p);
    return _mm256_loadu_ps(t);
}

LEARN__AVX2_INLINE void learn__st_tail_avx2(float *p, __m256 v, size_t n)
{
    float t[8];
    _mm256_storeu_ps(t, v);
    memcpy(p, t, n * sizeof *p);
}

LEARN__AVX2 static float learn__dot_f32_avx2(const float *a, const float *b, size_t n)
{
    __m256 acc = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
    float s = learn__hsum_avx2(acc);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

LEARN__AVX2 static void learn__axpy_f32_avx2(float *y, float a, const float *x, size_t n)
{
    const __m256 av = _mm256_set1_ps(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i,
                         _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

LEARN__AVX2 static void learn__rmsnorm_f32_avx2(float *y, const float *x, const float *w, size_t n,
                                                float eps)
{
    __m256 acc = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(x + i), acc);
    float ss = learn__hsum_avx2(acc);
    for (; i < n; i++) ss += x[i] * x[i];
    const float s = 1.0f / sqrtf(ss / (float)(n ? n : 1) + eps);
    const __m256 sv = _mm256_set1_ps(s);
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), sv);
        if (w) v = _mm256_mul_ps(v, _mm256_loadu_ps(w + i));
        _mm256_storeu_ps(y + i, v);
    }
    for (; i < n; i++) y[i] = w ? x[i] * s * w[i] : x[i] * s;
}

LEARN__AVX2 static void learn__layernorm_f32_avx2(float *y, const float *x, const float *g,
                                                  const float *b, size_t n, float eps)
{
    const float inv_n = 1.0f / (float)(n ? n : 1);
    __m256 acc = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(x + i));
    float sum = learn__hsum_avx2(acc);
    for (; i < n; i++) sum += x[i];
    const float mean = sum * inv_n;
    const __m256 mv = _mm256_set1_ps(mean);
    acc = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), mv);
        acc = _mm256_fmadd_ps(d, d, acc);
    }
    float var = learn__hsum_avx2(acc);
    for (; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
    const float s = 1.0f / sqrtf(var * inv_n + eps);
    const __m256 sv = _mm256_set1_ps(s);
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv), sv);
        if (g) v = _mm256_mul_ps(v, _mm256_loadu_ps(g + i));
        if (b) v = _mm256_add_ps(v, _mm256_loadu_ps(b + i));
        _mm256_storeu_ps(y + i, v);
    }
    for (; i < n; i++) {
        const float v = (x[i] - mean) * s;
        y[i] = (g ? v * g[i] : v) + (b ? b[i] : 0.0f);
    }
}

LEARN__AVX2 static void learn__softmax_f32_avx2(float *y, const float *x, size_t n)
{
    const float m = learn__softmax_max_scalar(x, n);
    if (learn__softmax_special(y, m, n)) return;
    const __m256 mv = _mm256_set1_ps(m);
    __m256 acc = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 e = learn__exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
        acc = _mm256_add_ps(acc, e);
        _mm256_storeu_ps(y + i, e);
    }
    if (i < n) {
        /* padded lanes are -Inf - m: exp gives 0 */
        float t[8];
        for (size_t k = 0; k < 8; k++) t[k] = i + k < n ? x[i + k] : -INFINITY;
        const __m256 e = learn__exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(t), mv));
        acc = _mm256_add_ps(acc, e);
        learn__st_tail_avx2(y + i, e, n - i);
    }
    const __m256 inv = _mm256_set1_ps(1.0f / learn__hsum_avx2(acc));
    for (i = 0; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), inv));
    if (i < n)
        learn__st_tail_avx2(y + i, _mm256_mul_ps(learn__ld_tail_avx2(y + i, n - i), inv), n - i);
}

LEARN__AVX2_INLINE __m256 learn__swiglu8_avx2(__m256 g, __m256 u)
{
    const __m256 e = learn__exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), g));
    return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}

LEARN__AVX2 static void learn__swiglu_f32_avx2(float *y, const float *gate, const float *up,
                                               size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i,
                         learn__swiglu8_avx2(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
    if (i < n)
        learn__st_tail_avx2(y + i,
                            learn__swiglu8_avx2(learn__ld_tail_avx2(gate + i, n - i),
                                                learn__ld_tail_avx2(up + i, n - i)),
                            n - i);
}

LEARN__AVX2_INLINE __m256 learn__gelu8_avx2(__m256 x)
{
    const __m256 e = learn__erf_avx2(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x),
                         _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

LEARN__AVX2 static void learn__gelu_f32_avx2(float *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, learn__gelu8_avx2(_mm256_loadu_ps(x + i)));
    if (i < n)
        learn__st_tail_avx2(y + i, learn__gelu8_avx2(learn__ld_tail_avx2(x + i, n - i)), n - i);
}

LEARN__AVX2 static void learn__f16_to_f32_row_avx2(float *y, const uint16_t *x, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
    for (; i < n; i++) y[i] = learn__f16_to_f32(x[i]);
}

LEARN__AVX2 static void learn__f32_to_f16_row_avx2(uint16_t *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = learn__f32_to_f16(x[i]);
}

#endif /* LEARN__X86 */

#if defined(LEARN__ARM64)

LEARN__INLINE float32x4_t learn__exp_neon(float32x4_t x)
{
    /* vmaxq/vminq return NaN when either input is NaN */
    const float32x4_t xc =
        vmaxq_f32(vdupq_n_f32(LEARN__EXP_LO - 1.0f), vminq_f32(vdupq_n_f32(LEARN__EXP_HI), x));
    const float32x4_t n = vrndnq_f32(vmulq_n_f32(xc, LEARN__LOG2E));
    float32x4_t r = vfmsq_f32(xc, n, vdupq_n_f32(LEARN__LN2_HI));
    r = vfmsq_f32(r, n, vdupq_n_f32(LEARN__LN2_LO));
    float32x4_t p = vdupq_n_f32(LEARN__EXP_C0);
    p = vfmaq_f32(vdupq_n_f32(LEARN__EXP_C1), p, r);
    p = vfmaq_f32(vdupq_n_f32(LEARN__EXP_C2), p, r);
    p = vfmaq_f32(vdupq_n_f32(LEARN__EXP_C3), p, r);
    p = vfmaq_f32(vdupq_n_f32(LEARN__EXP_C4), p, r);
    p = vfmaq_f32(vdupq_n_f32(LEARN__EXP_C5), p, r);
    p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
    const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    const float32x4_t v = vmulq_f32(p, vreinterpretq_f32_s32(e));
    const uint32x4_t under = vcltq_f32(x, vdupq_n_f32(LEARN__EXP_LO));
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(v), under));
}

LEARN__INLINE float32x4_t learn__erf_neon(float32x4_t x)
{
    const float32x4_t ax = vabsq_f32(x);
    const float32x4_t t =
        vdivq_f32(vdupq_n_f32(1.0f), vfmaq_n_f32(vdupq_n_f32(1.0f), ax, LEARN__ERF_P));
    float32x4_t p = vdupq_n_f32(LEARN__ERF_A5);
    p = vfmaq_f32(vdupq_n_f32(LEARN__ERF_A4), p, t);
    p = vfmaq_f32(vdupq_n_f32(LEARN__ERF_A3), p, t);
    p = vfmaq_f32(vdupq_n_f32(LEARN__ERF_A2), p, t);
    p = vfmaq_f32(vdupq_n_f32(LEARN__ERF_A1), p, t);
    p = vmulq_f32(p, t);
    const float32x4_t e = learn__exp_neon(vnegq_f32(vmulq_f32(ax, ax)));
    const float32x4_t r = vfmsq_f32(vdupq_n_f32(1.0f), p, e);
    /* copy the sign of x */
    const uint32x4_t sign = vandq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x80000000u));
    return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(r), sign));
}

LEARN__INLINE float32x4_t learn__ld_tail_neon(const float *p, size_t n)
{
    float t[4] = {0};
    memcpy(t, p, n * sizeof *p);
    return vld1q_f32(t);
}

LEARN__INLINE void learn__st_tail_neon(float *p, float32x4_t v, size_t n)
{
    float t[4];
    vst1q_f32(t, v);
    memcpy(p, t, n * sizeof *p);
}

static float learn__dot_f32_neon(const float *a, const float *b, size_t n)
{
    float32x4_t acc = vdupq_n_f32(0.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) acc = vfmaq_f32(acc, vld1q_f32(a + i), vld1q_f32(b + i));
    float s = vaddvq_f32(acc);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void learn__axpy_f32_neon(float *y, float a, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
    for (; i < n; i++) y[i] += a * x[i];
}

static void learn__rmsnorm_f32_neon(float *y, const float *x, const float *w, size_t n, float eps)
{
    float32x4_t acc = vdupq_n_f32(0.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) acc = vfmaq_f32(acc, vld1q_f32(x + i), vld1q_f32(x + i));
    float ss = vaddvq_f32(acc);
    for (; i < n; i++) ss += x[i] * x[i];
    const float s = 1.0f / sqrtf(ss / (float)(n ? n : 1) + eps);
    for (i = 0; i + 4 <= n; i += 4) {
        float32x4_t v = vmulq_n_f32(vld1q_f32(x + i), s);
        if (w) v = vmulq_f32(v, vld1q_f32(w + i));
        vst1q_f32(y + i, v);
    }
    for (; i < n; i++) y[i] = w ? x[i] * s * w[i] : x[i] * s;
}

static void learn__layernorm_f32_neon(float *y, const float *x, const float *g, const float *b,
                                      size_t n, float eps)
{
    const float inv_n = 1.0f / (float)(n ? n : 1);
    float32x4_t acc = vdupq_n_f32(0.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) acc = vaddq_f32(acc, vld1q_f32(x + i));
    float sum = vaddvq_f32(acc);
    for (; i < n; i++) sum += x[i];
    const float mean = sum * inv_n;
    acc = vdupq_n_f32(0.0f);
    for (i = 0; i + 4 <= n; i += 4) {
        const float32x4_t d = vsubq_f32(vld1q_f32(x + i), vdupq_n_f32(mean));
        acc = vfmaq_f32(acc, d, d);
    }
    float var = vaddvq_f32(acc);
    for (; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
    const float s = 1.0f / sqrtf(var * inv_n + eps);
    for (i = 0; i + 4 <= n; i += 4) {
        float32x4_t v = vmulq_n_f32(vsubq_f32(vld1q_f32(x + i), vdupq_n_f32(mean)), s);
        if (g) v = vmulq_f32(v, vld1q_f32(g + i));
        if (b) v = vaddq_f32(v, vld1q_f32(b + i));
        vst1q_f32(y + i, v);
    }
    for (; i < n; i++) {
        const float v = (x[i] - mean) * s;
        y[i] = (g ? v * g[i] : v) + (b ? b[i] : 0.0f);
    }
}

static void learn__softmax_f32_neon(float *y, const float *x, size_t n)
{
    const float m = learn__softmax_max_scalar(x, n);
    if (learn__softmax_special(y, m, n)) return;
    float32x4_t acc = vdupq_n_f32(0.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t e = learn__exp_neon(vsubq_f32(vld1q_f32(x + i), vdupq_n_f32(m)));
        acc = vaddq_f32(acc, e);
        vst1q_f32(y + i, e);
    }
    if (i < n) {
        float t[4];
        for (size_t k = 0; k < 4; k++) t[k] = i + k < n ? x[i + k] : -INFINITY;
        const float32x4_t e = learn__exp_neon(vsubq_f32(vld1q_f32(t), vdupq_n_f32(m)));
        acc = vaddq_f32(acc, e);
        learn__st_tail_neon(y + i, e, n - i);
    }
    const float inv = 1.0f / vaddvq_f32(acc);
    for (i = 0; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_n_f32(vld1q_f32(y + i), inv));
    if (i < n)
        learn__st_tail_neon(y + i, vmulq_n_f32(learn__ld_tail_neon(y + i, n - i), inv), n - i);
}

LEARN__INLINE float32x4_t learn__swiglu4_neon(float32x4_t g, float32x4_t u)
{
    const float32x4_t e = learn__exp_neon(vnegq_f32(g));
    return vmulq_f32(vdivq_f32(g, vaddq_f32(vdupq_n_f32(1.0f), e)), u);
}

static void learn__swiglu_f32_neon(float *y, const float *gate, const float *up, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, learn__swiglu4_neon(vld1q_f32(gate + i), vld1q_f32(up + i)));
    if (i < n)
        learn__st_tail_neon(y + i,
                            learn__swiglu4_neon(learn__ld_tail_neon(gate + i, n - i),
                                                learn__ld_tail_neon(up + i, n - i)),
                            n - i);
}

LEARN__INLINE float32x4_t learn__gelu4_neon(float32x4_t x)
{
    const float32x4_t e = learn__erf_neon(vmulq_n_f32(x, 0.70710678118654752f));
    return vmulq_f32(vmulq_n_f32(x, 0.5f), vaddq_f32(vdupq_n_f32(1.0f), e));
}

static void learn__gelu_f32_neon(float *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, learn__gelu4_neon(vld1q_f32(x + i)));
    if (i < n)
        learn__st_tail_neon(y + i, learn__gelu4_neon(learn__ld_tail_neon(x + i, n - i)), n - i);
}

static void learn__f16_to_f32_row_neon(float *y, const uint16_t *x, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(x + i))));
    for (; i < n; i++) y[i] = learn__f16_to_f32(x[i]);
}

static void learn__f32_to_f16_row_neon(uint16_t *y, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1_u16(y + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(x + i))));
    for (; i < n; i++) y[i] = learn__f32_to_f16(x[i]);
}

#endif /* LEARN__ARM64 */

/* ---- Catalog scores ------------------------------------------------------------------------

   The score of a catalog item for a query (learn_catalog_topk): a dot product in 8 lanes in
   element order, the lanes reduced as ((a0+a4) + (a1+a5)) + ((a2+a6) + (a3+a7)), then the tail
   in order. scores8 scores LEARN__TOPK_QB queries against each of m items at once, the item
   staying in L1 (learn_catalog_topk_batch), with exactly these operations for every query, so
   a batch finds the hits of a call per query. The AVX2 version uses AVX intrinsics with the
   eight accumulators in registers and no FMA (the target has none: nothing is contracted). */

#define LEARN__TOPK_QB 8 /* queries per block of scores8 */

typedef void (*learn__scores8_fn)(const float *q, size_t ldq, const float *x, size_t d, uint32_t m,
                                  float *s);

static float learn__score_f32(const float *a, const float *b, size_t n)
{
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += a[i + j] * b[i + j];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/* s[i * QB + r] = query r (row stride ldq) . item i (rows of d floats at x), i < m. */
static void learn__scores8_scalar(const float *q, size_t ldq, const float *x, size_t d, uint32_t m,
                                  float *s)
{
    for (uint32_t i = 0; i < m; i++)
        for (int r = 0; r < LEARN__TOPK_QB; r++)
            s[(size_t)i * LEARN__TOPK_QB + r] = learn__score_f32(q + (size_t)r * ldq, x + (size_t)i * d, d);
}

#if defined(LEARN__X86)
/* The eight queries' reductions done together: the halves added (a0+a4 .. a3+a7), then two
   rounds of pairwise adds, which is exactly ((a0+a4) + (a1+a5)) + ((a2+a6) + (a3+a7)). */
__attribute__((target("avx2"))) static void learn__scores8_avx2(const float *q, size_t ldq,
                                                                const float *x, size_t d,
                                                                uint32_t m, float *s)
{
    for (uint32_t i = 0; i < m; i++) {
        const float *b = x + (size_t)i * d;
        __m256 acc[LEARN__TOPK_QB];
        LEARN__UNROLL
        for (int r = 0; r < LEARN__TOPK_QB; r++) acc[r] = _mm256_setzero_ps();
        size_t e = 0;
        for (; e + 8 <= d; e += 8) {
            const __m256 bv = _mm256_loadu_ps(b + e);
            LEARN__UNROLL
            for (int r = 0; r < LEARN__TOPK_QB; r++)
                acc[r] = _mm256_add_ps(acc[r], _mm256_mul_ps(_mm256_loadu_ps(q + (size_t)r * ldq + e), bv));
        }
        __m256 t[4];
        LEARN__UNROLL
        for (int r = 0; r < 4; r++)
            t[r] = _mm256_add_ps(_mm256_permute2f128_ps(acc[r], acc[r + 4], 0x20),
                                 _mm256_permute2f128_ps(acc[r], acc[r + 4], 0x31));
        float *o = s + (size_t)i * LEARN__TOPK_QB;
        _mm256_storeu_ps(o, _mm256_hadd_ps(_mm256_hadd_ps(t[0], t[1]), _mm256_hadd_ps(t[2], t[3])));
        for (int r = 0; e < d && r < LEARN__TOPK_QB; r++) {
            float v = o[r];
            for (size_t f = e; f < d; f++) v += q[(size_t)r * ldq + f] * b[f];
            o[r] = v;
        }
    }
}
#endif

/* ---- Kernel tables -----------------------------------------------------------------------

   A level is its kernels plus one row here: a learn__kernels table, whose quantized products
   are learn__qkernel rows run by learn__gemm_q (learn__gemm runs any product). */

/* The tiled rows of the levels. Fields: mr, nt, kc, packed bytes per block of a strip, xpack
   bytes per (token, block), weight block bytes, scratch per thread, pack, xpack, tiles, direct
   (and up to how many tokens), begin, end. */
#define LEARN__QK_ROW(BB, MR, NT, PB, PACK, TILES, DIRECT, DT)                                     \
    {MR, NT, LEARN__KC_Q8, PB, 0, BB, (size_t)LEARN__KC_Q8 * (PB), PACK, NULL, TILES, DIRECT, DT, NULL, NULL}
#define LEARN__QK_Q8(...) LEARN__QK_ROW(LEARN__Q8_0_BYTES, __VA_ARGS__)
#define LEARN__QK_Q4(...) LEARN__QK_ROW(LEARN__Q4_0_BYTES, __VA_ARGS__)
#define LEARN__QK_B(BB, PACK, TILES, DIRECT, DT, BEGIN, END)                                       \
    {LEARN__BROWS, LEARN__BROWS, LEARN__BKC, LEARN__BREC, LEARN__XREC, BB, LEARN__BWORK, PACK,      \
     learn__xpack_b, TILES, DIRECT, DT, BEGIN, END}

#if defined(LEARN__X86)
static const learn__qkernel learn__qk_q8_0_avx2 = LEARN__QK_Q8(
    4, 1, LEARN__REC_Q8_AVX2, learn__pack_q8_0_avx2, learn__tiles_q8_0_avx2, learn__direct_q8_0_avx2, LEARN__DIRECT_T);
static const learn__qkernel learn__qk_q4_0_avx2 = LEARN__QK_Q4(
    4, 1, LEARN__REC_Q4_AVX2, learn__pack_q4_0_avx2, learn__tiles_q4_0_avx2, learn__direct_q4_0_avx2, LEARN__DIRECT_T);
static const learn__qkernel learn__qk_q8_0_avxvnni = LEARN__QK_Q8(
    4, 1, LEARN__REC_Q8_VNNI, learn__pack_q8_0_vnni, learn__tiles_q8_0_avxvnni, NULL, 0);
static const learn__qkernel learn__qk_q4_0_avxvnni = LEARN__QK_Q4(
    4, 1, LEARN__REC_Q4_AVX2, learn__pack_q4_0_avx2, learn__tiles_q4_0_avxvnni, NULL, 0); /* AVX2 records */
static const learn__qkernel learn__qk_q8_0_avx512 =
    LEARN__QK_B(LEARN__Q8_0_BYTES, learn__pack_q8_0_avx512, learn__tiles_b_avx512, learn__direct_q8_0_avx512,
                LEARN__BDIRECT_T, NULL, NULL);
static const learn__qkernel learn__qk_q4_0_avx512 =
    LEARN__QK_B(LEARN__Q4_0_BYTES, learn__pack_q4_0_avx512, learn__tiles_b_avx512, learn__direct_q4_0_avx512,
                LEARN__BDIRECT_T, NULL, NULL);
static const learn__qkernel learn__qk_q8_0_amx =
    LEARN__QK_B(LEARN__Q8_0_BYTES, learn__pack_q8_0_amx, learn__tiles_amx, learn__direct_q8_0_amx,
                LEARN__AMX_DIRECT_T, learn__amx_begin, learn__amx_end);
static const learn__qkernel learn__qk_q4_0_amx =
    LEARN__QK_B(LEARN__Q4_0_BYTES, learn__pack_q4_0_amx, learn__tiles_amx, learn__direct_q4_0_amx,
                LEARN__AMX_DIRECT_T, learn__amx_begin, learn__amx_end);
#endif
#if defined(LEARN__ARM64)
/* 2 rows: a packed record per (group, row) is 144 bytes, 72 per block of a 2-row strip */
static const learn__qkernel learn__qk_q8_0_neon =
    LEARN__QK_Q8(2, 2, LEARN__REC_NEON / 2, learn__pack_q8_0_neon, learn__tiles_neon, NULL, 0);
static const learn__qkernel learn__qk_q4_0_neon =
    LEARN__QK_Q4(2, 2, LEARN__REC_NEON / 2, learn__pack_q4_0_neon, learn__tiles_neon, NULL, 0);
static const learn__qkernel learn__qk_q8_0_dotprod =
    LEARN__QK_Q8(2, 2, LEARN__REC_NEON / 2, learn__pack_q8_0_neon, learn__tiles_dotprod, NULL, 0);
static const learn__qkernel learn__qk_q4_0_dotprod =
    LEARN__QK_Q4(2, 2, LEARN__REC_NEON / 2, learn__pack_q4_0_neon, learn__tiles_dotprod, NULL, 0);
#endif

/* Everything a context calls, for one ISA level (learn__kernels_for). Entries of gemm[] are
   the float products, indexed by the weight type (NULL for the others); qk[] the Q8_0 and
   Q4_0 ones. */
typedef struct learn__kernels {
    learn__isa isa;
    /* x (K floats) -> one q8 row (learn__q8_row_bytes(K) bytes), the activations of the
       Q8_0 / Q4_0 products. Same bytes on every ISA. */
    void (*quantize_row)(const float *x, int K, void *q);
    learn__gemm_fn gemm[LEARN_TYPE_COUNT];
    const learn__qkernel *qk[2];
    int row_tile; /* the threads' shares of a product's rows are multiples of it */
    int q_exact;  /* the quantized products equal the scalar ones bit for bit */
    /* Exact int32 dot of one weight block (Q8_0: [0], Q4_0: [1]) with 32 values in
       [-127, 127], by the instructions the products use (for tests). */
    int32_t (*block_dot[2])(const uint8_t *w, const int8_t *a);
    float (*dot)(const float *a, const float *b, size_t n);
    void (*axpy)(float *y, float a, const float *x, size_t n);
    void (*rmsnorm)(float *y, const float *x, const float *w, size_t n, float eps);
    void (*layernorm)(float *y, const float *x, const float *g, const float *b, size_t n,
                      float eps);
    void (*softmax)(float *y, const float *x, size_t n);
    void (*swiglu)(float *y, const float *gate, const float *up, size_t n);
    void (*gelu)(float *y, const float *x, size_t n);
    void (*f16_to_f32)(float *y, const uint16_t *x, size_t n);
    void (*f32_to_f16)(uint16_t *y, const float *x, size_t n);
    learn__scores8_fn scores8; /* catalog scores of 8 queries (learn_catalog_topk_batch) */
} learn__kernels;

#define LEARN__GEMM_F(SFX)                                                                         \
    {learn__gemm_f32_##SFX, learn__gemm_f16_##SFX, learn__gemm_bf16_##SFX, NULL, NULL, NULL, NULL, NULL}
/* The row helpers of a level, in the table's order from dot to f32_to_f16. */
#define LEARN__HELPERS(SFX)                                                                        \
    learn__dot_f32_##SFX, learn__axpy_f32_##SFX, learn__rmsnorm_f32_##SFX, learn__layernorm_f32_##SFX, \
        learn__softmax_f32_##SFX, learn__swiglu_f32_##SFX, learn__gelu_f32_##SFX,                  \
        learn__f16_to_f32_row_##SFX, learn__f32_to_f16_row_##SFX

static const learn__kernels learn__kernels_scalar = {
    LEARN__ISA_SCALAR, learn__quantize_row_scalar, LEARN__GEMM_F(scalar),
    {&learn__qk_q8_0_scalar, &learn__qk_q4_0_scalar}, 4, 1,
    {learn__dot_q8_0_block_scalar, learn__dot_q4_0_block_scalar}, LEARN__HELPERS(scalar),
    learn__scores8_scalar};

#if defined(LEARN__X86)
/* The levels above AVX2 run the AVX2 code wherever the work is not int8 products: the float
   products and row helpers are bound by memory or FMA throughput, not by vector width. */
static const learn__kernels learn__kernels_avx2 = {
    LEARN__ISA_AVX2, learn__quantize_row_avx2, LEARN__GEMM_F(avx2),
    {&learn__qk_q8_0_avx2, &learn__qk_q4_0_avx2}, 4, 0,
    {learn__dot_q8_0_block_avx2, learn__dot_q4_0_block_avx2}, LEARN__HELPERS(avx2),
    learn__scores8_avx2};
static const learn__kernels learn__kernels_avxvnni = {
    LEARN__ISA_AVXVNNI, learn__quantize_row_avx2, LEARN__GEMM_F(avx2),
    {&learn__qk_q8_0_avxvnni, &learn__qk_q4_0_avxvnni}, 4, 0,
    {learn__dot_q8_0_block_avxvnni, learn__dot_q4_0_block_avxvnni}, LEARN__HELPERS(avx2),
    learn__scores8_avx2};
static const learn__kernels learn__kernels_avx512 = {
    LEARN__ISA_AVX512, learn__quantize_row_avx2, LEARN__GEMM_F(avx2),
    {&learn__qk_q8_0_avx512, &learn__qk_q4_0_avx512}, LEARN__BROWS, 1,
    {learn__dot_q8_0_block_avx512, learn__dot_q4_0_block_avx512}, LEARN__HELPERS(avx2),
    learn__scores8_avx2};
static const learn__kernels learn__kernels_amx = {
    LEARN__ISA_AMX, learn__quantize_row_avx2, LEARN__GEMM_F(avx2),
    {&learn__qk_q8_0_amx, &learn__qk_q4_0_amx}, LEARN__BROWS, 1,
    {learn__dot_q8_0_block_amx, learn__dot_q4_0_block_amx}, LEARN__HELPERS(avx2),
    learn__scores8_avx2};
#endif

#if defined(LEARN__ARM64)
static const learn__kernels learn__kernels_neon = {
    LEARN__ISA_NEON, learn__quantize_row_neon, LEARN__GEMM_F(neon),
    {&learn__qk_q8_0_neon, &learn__qk_q4_0_neon}, 4, 0,
    {learn__dot_q8_0_block_neon, learn__dot_q4_0_block_neon}, LEARN__HELPERS(neon),
    learn__scores8_scalar};
static const learn__kernels learn__kernels_neon_dotprod = {
    LEARN__ISA_NEON_DOTPROD, learn__quantize_row_neon, LEARN__GEMM_F(neon),
    {&learn__qk_q8_0_dotprod, &learn__qk_q4_0_dotprod}, 4, 0,
    {learn__dot_q8_0_block_dotprod, learn__dot_q4_0_block_dotprod}, LEARN__HELPERS(neon),
    learn__scores8_scalar};
#endif

/* The table of a level; the scalar one for levels this build lacks. Pick the level with
   learn__isa_select (which checks the CPU) first. */
static const learn__kernels *learn__kernels_for(learn__isa isa)
{
    switch (isa) {
#if defined(LEARN__X86)
    case LEARN__ISA_AVX2: return &learn__kernels_avx2;
    case LEARN__ISA_AVXVNNI: return &learn__kernels_avxvnni;
    case LEARN__ISA_AVX512: return &learn__kernels_avx512;
    case LEARN__ISA_AMX: return &learn__kernels_amx;
#endif
#if defined(LEARN__ARM64)
    case LEARN__ISA_NEON: return &learn__kernels_neon;
    case LEARN__ISA_NEON_DOTPROD: return &learn__kernels_neon_dotprod;
#endif
    default: return &learn__kernels_scalar;
    }
}

static int learn__type_quantized(learn_type type)
{
    return type == LEARN_TYPE_Q8_0 || type == LEARN_TYPE_Q4_0;
}

/* Y rows [r0, r1) of one product of any matrix type at level k (work: learn__gemm_work_bytes). */
static void learn__gemm(const learn__kernels *k, learn_type type, const learn__gemm_args *g, int r0,
                        int r1, void *work)
{
    if (learn__type_quantized(type))
        learn__gemm_q(k->qk[type == LEARN_TYPE_Q4_0], g, r0, r1, work);
    else
        k->gemm[type](g, r0, r1, work);
}

/* Scratch per thread of level k's products, and the most of any level (64-byte multiples). */
#if defined(LEARN__X86)
#define LEARN__WORK_MAX LEARN__BWORK /* the avx512 and amx levels' */
#elif defined(LEARN__ARM64)
#define LEARN__WORK_MAX ((size_t)LEARN__KC_Q8 * (LEARN__REC_NEON / 2))
#else
#define LEARN__WORK_MAX ((size_t)64) /* the scalar kernels need none */
#endif
static size_t learn__gemm_work_bytes(const learn__kernels *k)
{
    const size_t a = k->qk[0]->work, b = k->qk[1]->work, m = a > b ? a : b;
    return (m + 63) / 64 * 64;
}

/* ============================================================================================
   ==== Thread pool ====
   One persistent pool per context: n_threads - 1 workers plus the thread that calls
   learn__pool_run (which is thread 0). A run publishes (fn, arg) and bumps a generation
   counter; workers spin on it briefly (back-to-back runs of a forward pass then start within
   a microsecond or so), then sleep on a condition variable, so an idle pool uses no CPU. The
   caller runs its own share and waits for the others the same way. A pool is used by one
   thread at a time (its context's), and fn must not call learn__pool_run itself.
   LEARN_NO_THREADS: no threads at all; every run is fn(arg, 0, 1) on the caller.
   ============================================================================================ */

#define LEARN__POOL_MAX_THREADS 512
/* How long a worker (or the caller) spins before it sleeps on a condition variable. */
#define LEARN__POOL_SPIN_NS 100000

typedef void (*learn__pool_fn)(void *arg, int ith, int nth);

typedef struct learn__pool learn__pool;

#if !defined(LEARN_NO_THREADS)
typedef struct learn__pool_worker {
    learn__pool *pool;
    int ith;
    pthread_t thread;
} learn__pool_worker;
#endif

struct learn__pool {
    learn_allocator alloc;
    int n_threads;
#if !defined(LEARN_NO_THREADS)
    learn__pool_worker *workers; /* n_threads - 1 of them */
    pthread_mutex_t mutex;
    pthread_cond_t wake;       /* workers sleep here between runs */
    pthread_cond_t done;       /* the caller sleeps here until the last worker finishes */
    atomic_uint generation;    /* bumped by every run (and by the stop) */
    atomic_int pending;        /* workers still in the current run */
    atomic_int sleepers;       /* workers asleep or about to sleep on `wake` */
    atomic_int caller_waiting; /* the caller is asleep or about to sleep on `done` */
    atomic_int stop;
    learn__pool_fn fn; /* written by the caller before the generation bump */
    void *arg;
#endif
};

#if !defined(LEARN_NO_THREADS)

/* A bounded spin: call with i = 0, 1, 2, ... while waiting; returns 0 once about
   LEARN__POOL_SPIN_NS have passed (then the caller sleeps). x86 spins without PAUSE: under
   KVM (pause-loop exiting) a PAUSE loop makes the hypervisor deschedule the vCPU, which
   costs ~100 us per wait. timespec_get is C11; a clock step only ends a spin early or late,
   and the iteration cap bounds it anyway. */
typedef struct learn__spin {
    struct timespec t0;
} learn__spin;

static int learn__spin_more(learn__spin *s, unsigned i) {
#if defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
    if (i % 64 != 0) return 1;
    if (i >= (1u << 24)) return 0;
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    if (i == 0) {
        s->t0 = t;
        return 1;
    }
    const long long ns =
        (long long)(t.tv_sec - s->t0.tv_sec) * 1000000000ll + (t.tv_nsec - s->t0.tv_nsec);
    if (ns > LEARN__POOL_SPIN_NS / 5) sched_yield(); /* more threads than cores: let others run */
    return ns >= 0 && ns < LEARN__POOL_SPIN_NS;
}

/* Waits until the generation differs from `seen` (or the pool stops); returns it. The sleeper
   count and the generation are sequentially consistent on both sides (the caller bumps the
   generation, then reads the count), so a worker that goes to sleep is always woken. */
static unsigned learn__pool_wait_work(learn__pool *p, unsigned seen) {
    unsigned g;
    learn__spin spin;
    for (unsigned i = 0;; i++) {
        g = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (g != seen) return g;
        if (!learn__spin_more(&spin, i)) break;
    }
    pthread_mutex_lock(&p->mutex);
    atomic_fetch_add(&p->sleepers, 1);
    while ((g = atomic_load(&p->generation)) == seen) pthread_cond_wait(&p->wake, &p->mutex);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->mutex);
    return g;
}

static void *learn__pool_main(void *arg) {
    learn__pool_worker *w = (learn__pool_worker *)arg;
    learn__pool *p = w->pool;
    unsigned seen = 0;
    for (;;) {
        seen = learn__pool_wait_work(p, seen);
        if (atomic_load_explicit(&p->stop, memory_order_acquire)) break;
        p->fn(p->arg, w->ith, p->n_threads);
        if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->caller_waiting)) {
            pthread_mutex_lock(&p->mutex);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mutex);
        }
    }
    return NULL;
}

/* Bumps the generation and wakes sleeping workers. */
static void learn__pool_publish(learn__pool *p) {
    atomic_fetch_add(&p->generation, 1);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mutex);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mutex);
    }
}

/* Stops and joins the first n workers. */
static void learn__pool_stop(learn__pool *p, int n) {
    atomic_store(&p->stop, 1);
    learn__pool_publish(p);
    for (int i = 0; i < n; i++) pthread_join(p->workers[i].thread, NULL);
}
#endif

/* Frees a pool (NULL is allowed): stops and joins its workers. */
static void learn__pool_free(learn__pool *p) {
    if (!p) return;
    const learn_allocator alloc = p->alloc;
#if !defined(LEARN_NO_THREADS)
    if (p->workers) {
        learn__pool_stop(p, p->n_threads - 1);
        learn__free(&alloc, p->workers);
    }
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mutex);
#endif
    learn__free(&alloc, p);
}

/* Creates a pool of n_threads threads in all, the caller's included (1 .. 512; with
   LEARN_NO_THREADS the pool always has 1). alloc may be NULL (libc). LEARN_ERR_ARG for a bad
   count, LEARN_ERR_NOMEM when memory or a thread cannot be had (nothing is left behind). */
static learn_status learn__pool_new(const learn_allocator *alloc, int n_threads, learn__pool **out) {
    if (!out) return LEARN_ERR_ARG;
    *out = NULL;
    if (n_threads < 1 || n_threads > LEARN__POOL_MAX_THREADS) return LEARN_ERR_ARG;
    learn__pool *p = (learn__pool *)learn__malloc(alloc, sizeof *p);
    if (!p) return LEARN_ERR_NOMEM;
    memset(p, 0, sizeof *p);
    learn__alloc_resolve(alloc, &p->alloc); /* NULL: libc, as learn__malloc took it */
#if defined(LEARN_NO_THREADS)
    p->n_threads = 1;
#else
    p->n_threads = n_threads;
    if (pthread_mutex_init(&p->mutex, NULL) != 0) {
        learn__free(alloc, p);
        return LEARN_ERR_NOMEM;
    }
    if (pthread_cond_init(&p->wake, NULL) != 0) {
        pthread_mutex_destroy(&p->mutex);
        learn__free(alloc, p);
        return LEARN_ERR_NOMEM;
    }
    if (pthread_cond_init(&p->done, NULL) != 0) {
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->mutex);
        learn__free(alloc, p);
        return LEARN_ERR_NOMEM;
    }
    if (n_threads > 1) {
        p->workers = (learn__pool_worker *)learn__malloc(alloc, (size_t)(n_threads - 1) *
                                                                    sizeof *p->workers);
        if (!p->workers) {
            p->n_threads = 1;
            learn__pool_free(p);
            return LEARN_ERR_NOMEM;
        }
        for (int i = 0; i < n_threads - 1; i++) {
            p->workers[i].pool = p;
            p->workers[i].ith = i + 1;
            if (pthread_create(&p->workers[i].thread, NULL, learn__pool_main, &p->workers[i]) !=
                0) {
                learn__pool_stop(p, i);
                learn__free(alloc, p->workers);
                p->workers = NULL;
                learn__pool_free(p);
                return LEARN_ERR_NOMEM;
            }
        }
    }
#endif
    *out = p;
    return LEARN_OK;
}

static int learn__pool_n_threads(const learn__pool *p) {
    return p ? p->n_threads : 1;
}

/* Runs fn(arg, ith, nth) for ith = 0 .. nth - 1, nth = the pool's thread count, ith 0 on the
   calling thread; returns when every call has returned. p may be NULL (runs fn(arg, 0, 1)). */
static void learn__pool_run(learn__pool *p, learn__pool_fn fn, void *arg) {
#if !defined(LEARN_NO_THREADS)
    if (p && p->n_threads > 1) {
        p->fn = fn;
        p->arg = arg;
        atomic_store_explicit(&p->pending, p->n_threads - 1, memory_order_relaxed);
        learn__pool_publish(p);
        fn(arg, 0, p->n_threads);
        learn__spin spin;
        for (unsigned i = 0;; i++) {
            if (atomic_load_explicit(&p->pending, memory_order_acquire) == 0) return;
            if (!learn__spin_more(&spin, i)) break;
        }
        pthread_mutex_lock(&p->mutex);
        /* A read-modify-write, not a store: the flag must be visible before pending is read
           (the worker's side is the same pair in the other order). A sequentially consistent
           store then load is enough in C11, but qemu-user on x86 hosts translates aarch64's
           stlr; ldar without the store-load fence between them, and the lost wake-up hung
           runs there; an exchange is a full barrier everywhere. */
        (void)atomic_exchange(&p->caller_waiting, 1);
        while (atomic_load(&p->pending) != 0) pthread_cond_wait(&p->done, &p->mutex);
        atomic_store(&p->caller_waiting, 0);
        pthread_mutex_unlock(&p->mutex);
        return;
    }
#endif
    (void)p;
    fn(arg, 0, 1);
}

/* Items [*r0, *r1) of R for thread ith of nth: contiguous ranges, as even as can be (the
   matrix products split row tiles, counted over all their outputs). A thread may get an empty
   range. */
static void learn__split_rows(int R, int ith, int nth, int *r0, int *r1) {
    *r0 = (int)((long long)R * ith / nth);
    *r1 = (int)((long long)R * (ith + 1) / nth);
}

/* Runs fn over [0, n) split in contiguous ranges, one per thread (ith = the thread). */
typedef void (*learn__range_fn)(void *arg, size_t lo, size_t hi, int ith);
typedef struct learn__range_job {
    learn__range_fn fn;
    void *arg;
    size_t n;
} learn__range_job;

static void learn__range_run(void *p, int ith, int nth) {
    const learn__range_job *j = (const learn__range_job *)p;
    size_t lo = j->n * (size_t)ith / (size_t)nth, hi = j->n * (size_t)(ith + 1) / (size_t)nth;
    if (lo < hi) j->fn(j->arg, lo, hi, ith);
}

static void learn__parallel(learn_ctx *ctx, size_t n, learn__range_fn fn, void *arg) {
    if (n <= 1 || !ctx->pool) {
        if (n) fn(arg, 0, n, 0);
        return;
    }
    learn__range_job j = {fn, arg, n};
    learn__pool_run(ctx->pool, learn__range_run, &j);
}

/* ---- Parallel matrix products -------------------------------------------------------------

   What the LLM and the towers call: Y = X W^T (+ bias), X (T x K floats), W (R rows, row stride
   ldw bytes) in any matrix type, on the pool. Several products may share X (the attention's
   Q, K and V, the MLP's gate and up): X is then quantized once into q8 rows (split by tokens)
   for all the Q8_0 / Q4_0 weights, and the rows of all the outputs, taken together, are split
   between threads, each thread adding the biases of its rows. The result does not depend on
   the number of threads or on which products share a call. scratch: at least
   learn__matmul_scratch_bytes(k, type, K, T, n_threads) bytes (any quantized type for a call
   with quantized weights), any alignment. */

static size_t learn__matmul_scratch_bytes(const learn__kernels *k, learn_type type, int K, int T,
                                          int n_threads) {
    const size_t q = learn__type_quantized(type) && K > 0 && T > 0 ? (size_t)T * learn__q8_row_bytes(K) : 0;
    return 64 + q + (size_t)(n_threads > 0 ? n_threads : 1) * learn__gemm_work_bytes(k);
}

/* One product of a call: Y (T x R, Y[t][r] at y[t ldy + r]) = X W^T + bias (NULL: none). */
typedef struct learn__mm_out {
    learn_type type;
    const void *w;
    size_t ldw; /* bytes */
    int R;
    const float *bias;
    float *y;
    size_t ldy; /* floats */
} learn__mm_out;

#define LEARN__MM_MAX_OUT 4

typedef struct learn__matmul_job {
    const learn__kernels *k;
    const float *x;
    size_t ldx; /* floats */
    uint8_t *xq; /* q8 rows of X (when a weight is quantized) */
    size_t ldq;
    int K, T;
    const learn__mm_out *outs;
    int n_out;
    int tiles[LEARN__MM_MAX_OUT + 1]; /* row tiles before each output (prefix sums) */
    uint8_t *work;                    /* n_threads slices of learn__gemm_work_bytes(k) */
} learn__matmul_job;

static void learn__matmul_quantize(void *arg, int ith, int nth) {
    learn__matmul_job *j = (learn__matmul_job *)arg;
    const int t0 = (int)((long long)j->T * ith / nth), t1 = (int)((long long)j->T * (ith + 1) / nth);
    for (int t = t0; t < t1; t++)
        j->k->quantize_row(j->x + (size_t)t * j->ldx, j->K, j->xq + (size_t)t * j->ldq);
}

/* Thread ith's share of the row tiles of all outputs: the rows and the biases. */
static void learn__matmul_rows(void *arg, int ith, int nth) {
    learn__matmul_job *j = (learn__matmul_job *)arg;
    int c0, c1;
    learn__split_rows(j->tiles[j->n_out], ith, nth, &c0, &c1);
    for (int o = 0; o < j->n_out && c0 < c1; o++) {
        const learn__mm_out *out = &j->outs[o];
        const int a = c0 > j->tiles[o] ? c0 : j->tiles[o];
        const int b = c1 < j->tiles[o + 1] ? c1 : j->tiles[o + 1];
        if (a >= b) continue;
        const int rt = j->k->row_tile;
        const int r0 = (a - j->tiles[o]) * rt;
        const int r1 = (b - j->tiles[o]) * rt < out->R ? (b - j->tiles[o]) * rt : out->R;
        learn__gemm_args g;
        g.w = out->w;
        g.ldw = out->ldw;
        if (learn__type_quantized(out->type)) {
            g.x = j->xq;
            g.ldx = j->ldq;
        } else {
            g.x = j->x;
            g.ldx = j->ldx * sizeof(float);
        }
        g.y = out->y;
        g.ldy = out->ldy;
        g.K = j->K;
        g.T = j->T;
        learn__gemm(j->k, out->type, &g, r0, r1, j->work + (size_t)ith * learn__gemm_work_bytes(j->k));
        if (out->bias)
            for (int t = 0; t < j->T; t++)
                j->k->axpy(out->y + (size_t)t * out->ldy + (size_t)r0, 1.0f, out->bias + r0,
                           (size_t)(r1 - r0));
    }
}

static learn_status learn__matmul_n(const learn__kernels *k, learn__pool *pool, int K,
                                    const float *x, size_t ldx, int T, const learn__mm_out *outs,
                                    int n_out, void *scratch, size_t scratch_size) {
    if (!k || !outs || n_out < 1 || n_out > LEARN__MM_MAX_OUT || K < 0 || T < 0) return LEARN_ERR_ARG;
    learn__matmul_job j;
    int quant = 0;
    j.tiles[0] = 0;
    for (int o = 0; o < n_out; o++) {
        const learn__mm_out *out = &outs[o];
        if ((unsigned)out->type >= LEARN_TYPE_COUNT || out->R < 0 ||
            (!k->gemm[out->type] && !learn__type_quantized(out->type)))
            return LEARN_ERR_ARG;
        const int q = learn__type_quantized(out->type);
        const size_t row = (size_t)learn_type_row_bytes(out->type, (uint64_t)K); /* 0: K is not whole blocks */
        if (row == 0) return LEARN_ERR_ARG;
        if ((out->R && T && (!out->w || !out->y)) || out->ldw < row || out->ldy < (size_t)out->R)
            return LEARN_ERR_ARG;
        quant |= q;
        j.tiles[o + 1] = j.tiles[o] + (out->R + k->row_tile - 1) / k->row_tile;
    }
    if (j.tiles[n_out] == 0 || T == 0) return LEARN_OK;
    if (!x || !scratch || ldx < (size_t)K) return LEARN_ERR_ARG;
    const int nth = learn__pool_n_threads(pool);
    if (scratch_size < learn__matmul_scratch_bytes(k, quant ? LEARN_TYPE_Q8_0 : LEARN_TYPE_F32, K, T, nth))
        return LEARN_ERR_BUFFER;
    uint8_t *s = (uint8_t *)scratch + ((64 - (uintptr_t)scratch % 64) % 64);
    j.k = k;
    j.x = x;
    j.ldx = ldx;
    j.K = K;
    j.T = T;
    j.outs = outs;
    j.n_out = n_out;
    j.xq = NULL;
    j.ldq = 0;
    if (quant) {
        j.xq = s;
        j.ldq = learn__q8_row_bytes(K);
        s += (size_t)T * j.ldq;
        learn__pool_run(pool, learn__matmul_quantize, &j);
    }
    j.work = s;
    learn__pool_run(pool, learn__matmul_rows, &j);
    return LEARN_OK;
}

/* ============================================================================================
   ==== LLM configuration ====
   The content encoder's hyper-parameters (metadata llm.*), the tensors each architecture
   requires and the encoder settings (encoder.*), checked at open so that a file whose metadata
   disagrees with its tensors is refused with a message naming the tensor. The schema is in
   learn.h ("The LLM").
   ============================================================================================ */

/* Encoder settings: pooling, normalisation, the token limit per item and the text template. */
static learn_status learn__encoder_check(learn_model *m, char *err, size_t errn) {
    learn__llm_config *c = &m->llm;
    c->pooling = LEARN_POOLING_MEAN;
    c->normalize = 1;
    c->max_tokens = LEARN__MIN(512u, c->n_ctx);
    c->template_str = "{text}";
    const learn__meta *e = learn__meta_lookup(m, "encoder.pooling");
    if (e) {
        const char *s = e->type == LEARN_META_TYPE_STR ? (const char *)e->value + 8 : "";
        if (strcmp(s, "mean") == 0) c->pooling = LEARN_POOLING_MEAN;
        else if (strcmp(s, "last") == 0) c->pooling = LEARN_POOLING_LAST;
        else if (strcmp(s, "none") == 0) c->pooling = LEARN_POOLING_NONE;
        else
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata 'encoder.pooling' must be \"mean\", \"last\" or \"none\"");
    }
    if ((e = learn__meta_lookup(m, "encoder.normalize"))) {
        if (e->type != LEARN_META_TYPE_BOOL)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata 'encoder.normalize' has type %s, not bool",
                               learn_meta_type_name(e->type));
        c->normalize = e->value[0];
    }
    learn_status st = learn__meta_u32_req(m, "encoder.max_tokens", 1, c->n_ctx, 0, &c->max_tokens,
                                          err, errn);
    if (st) return st;
    if ((e = learn__meta_lookup(m, "encoder.template"))) {
        if (e->type != LEARN_META_TYPE_STR)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata 'encoder.template' has type %s, not str",
                               learn_meta_type_name(e->type));
        c->template_str = (const char *)e->value + 8;
    }
    return LEARN_OK;
}

static learn_status learn__llm_check(learn_model *m, char *err, size_t errn) {
    learn__llm_config *c = &m->llm;
    const learn__meta *arch = learn__meta_lookup(m, "general.architecture");
    if (!arch) return LEARN_OK; /* no LLM in this file (towers or tokenizer only) */
    if (arch->type != LEARN_META_TYPE_STR)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "metadata 'general.architecture' has type %s, not str",
                           learn_meta_type_name(arch->type));
    const char *name = (const char *)arch->value + 8;
    int is_llama = strcmp(name, "llama") == 0, is_qwen2 = strcmp(name, "qwen2") == 0,
        is_qwen3 = strcmp(name, "qwen3") == 0;
    if (!is_llama && !is_qwen2 && !is_qwen3)
        return learn__fail(err, errn, LEARN_ERR_UNSUPPORTED,
                           "architecture '%.40s' is not supported (llama, qwen2, qwen3)", name);
    snprintf(c->arch, sizeof c->arch, "%s", name);
    const learn__u32_key keys[] = {
        {"llm.vocab_size", 1, 1u << 22, 1, &c->n_vocab},
        {"llm.embedding_length", 1, 1u << 16, 1, &c->n_embd},
        {"llm.block_count", 1, LEARN_MAX_LAYERS, 1, &c->n_layer},
        {"llm.head_count", 1, 1024, 1, &c->n_head},
        {"llm.head_count_kv", 1, 1024, 1, &c->n_head_kv},
        {"llm.feed_forward_length", 1, 1u << 20, 1, &c->n_ff},
        {"llm.context_length", 1, 1u << 24, 1, &c->n_ctx},
    };
    learn_status st = learn__meta_u32_keys(m, keys, sizeof keys / sizeof keys[0], err, errn);
    if (st) return st;
    if (c->n_head % c->n_head_kv)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "metadata 'llm.head_count_kv' = %u does not divide 'llm.head_count' = "
                           "%u",
                           c->n_head_kv, c->n_head);
    c->head_dim = 0;
    if ((st = learn__meta_u32_req(m, "llm.head_dim", 2, 1024, 0, &c->head_dim, err, errn)))
        return st;
    if (!c->head_dim) {
        if (c->n_embd % c->n_head)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata 'llm.head_count' = %u does not divide "
                               "'llm.embedding_length' = %u",
                               c->n_head, c->n_embd);
        c->head_dim = c->n_embd / c->n_head;
    }
    if (c->head_dim % 2 || c->head_dim < 2 || c->head_dim > 1024)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "head dimension %u must be even and in 2..1024", c->head_dim);
    c->rope_theta = 10000.0f;
    c->rms_eps = is_llama ? 1e-5f : 1e-6f;
    if ((st = learn__meta_f32_opt(m, "llm.rope_freq_base", 0.0f, 1e12f, &c->rope_theta, err,
                                  errn)) ||
        (st = learn__meta_f32_opt(m, "llm.rms_epsilon", 0.0f, 1.0f, &c->rms_eps, err, errn)))
        return st;
    c->rope_neox = !is_llama;
    const learn__meta *rt = learn__meta_lookup(m, "llm.rope_type");
    if (rt) {
        const char *s = rt->type == LEARN_META_TYPE_STR ? (const char *)rt->value + 8 : "";
        if (strcmp(s, "norm") && strcmp(s, "neox"))
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata 'llm.rope_type' must be the string \"norm\" or \"neox\"");
        c->rope_neox = strcmp(s, "neox") == 0;
    }
    c->qkv_bias = is_qwen2;
    c->qk_norm = is_qwen3;

    uint64_t e = c->n_embd, q = (uint64_t)c->n_head * c->head_dim,
             kv = (uint64_t)c->n_head_kv * c->head_dim;
    const learn__tensor_spec top[] = {
        {"token_embd.weight", &c->tok_embd, 1, c->n_vocab, e, 0},
        {"output_norm.weight", &c->out_norm, 0, e, 0, 0},
        {"rope_freqs.weight", &c->rope_freqs, 0, c->head_dim / 2, 0, 1},
    };
    if ((st = learn__need_tensors(m, "", top, sizeof top / sizeof top[0], NULL, err, errn))) return st;
    c->layers = (learn__layer *)learn__calloc(&m->alloc, c->n_layer, sizeof *c->layers);
    if (!c->layers) return LEARN_ERR_NOMEM;
    for (uint32_t l = 0; l < c->n_layer; l++) {
        learn__layer *L = &c->layers[l];
        const learn__tensor_spec blk[] = {
            {"attn_norm.weight", &L->attn_norm, 0, e, 0, 0},
            {"attn_q.weight", &L->wq, 1, q, e, 0},
            {"attn_k.weight", &L->wk, 1, kv, e, 0},
            {"attn_v.weight", &L->wv, 1, kv, e, 0},
            {"attn_q.bias", &L->bq, 0, q, 0, !c->qkv_bias},
            {"attn_k.bias", &L->bk, 0, kv, 0, !c->qkv_bias},
            {"attn_v.bias", &L->bv, 0, kv, 0, !c->qkv_bias},
            {"attn_q_norm.weight", &L->q_norm, 0, c->head_dim, 0, !c->qk_norm},
            {"attn_k_norm.weight", &L->k_norm, 0, c->head_dim, 0, !c->qk_norm},
            {"attn_output.weight", &L->wo, 1, e, q, 0},
            {"ffn_norm.weight", &L->ffn_norm, 0, e, 0, 0},
            {"ffn_gate.weight", &L->w_gate, 1, c->n_ff, e, 0},
            {"ffn_up.weight", &L->w_up, 1, c->n_ff, e, 0},
            {"ffn_down.weight", &L->w_down, 1, e, c->n_ff, 0},
        };
        char prefix[32];
        snprintf(prefix, sizeof prefix, "blk.%u.", l);
        if ((st = learn__need_tensors(m, prefix, blk, sizeof blk / sizeof blk[0], NULL, err, errn)))
            return st;
        if (!c->qk_norm && (L->q_norm || L->k_norm))
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor 'blk.%u.attn_%s_norm.weight' is only used by qwen3", l,
                               L->q_norm ? "q" : "k");
    }
    if ((st = learn__encoder_check(m, err, errn))) return st;
    c->present = 1;
    return LEARN_OK;
}

/* ============================================================================================
   ==== LLM forward ====
   Prefill only, for encoding: token embedding -> N x [RMSNorm -> attention (RoPE, grouped-query
   heads) -> residual -> RMSNorm -> SwiGLU MLP -> residual] -> final RMSNorm. The tokens of many
   items run through each layer together (one matrix product per weight); attention stays
   within each item (block-diagonal causal mask). Every output row depends only on its own
   item, so results do not depend on how items are batched.
   ============================================================================================ */

/* Y (T x R) = X (T x K) W^T (+ bias), W (R x K) in any weight type, through the context's
   kernels and threads. Each Y[t][r] depends only on X[t] and W[r]: results do not depend on
   the batch or the number of threads. */
/* Makes the matrix-product scratch large enough for any weight type with K inputs and T rows,
   so that the products that follow cannot fail. */
static learn_status learn__mm_reserve(learn_ctx *ctx, size_t K, size_t T) {
    size_t need = 0;
    for (int type = LEARN_TYPE_F32; type <= LEARN_TYPE_Q4_0; type++)
        need = LEARN__MAX(need, learn__matmul_scratch_bytes(ctx->kern, (learn_type)type, (int)K, (int)T,
                                                            learn__pool_n_threads(ctx->pool)));
    if (need <= ctx->mm_size) return LEARN_OK;
    learn__free_aligned(&ctx->alloc, ctx->mm);
    ctx->mm = learn__malloc_aligned(&ctx->alloc, need);
    ctx->mm_size = ctx->mm ? need : 0;
    if (!ctx->mm) return LEARN__CFAIL(ctx, LEARN_ERR_NOMEM, "out of memory (%zu bytes of scratch)", need);
    return LEARN_OK;
}

/* Y[i] (T x R_i) = X (T x K) W[i]^T (+ B[i]) for n <= LEARN__MM_MAX_OUT weights of the same K
   (B[i] may be NULL): one product per call, sharing X's quantization. */
static learn_status learn__linear_n(learn_ctx *ctx, int n, const learn__tensor *const *W,
                                    const learn__tensor *const *B, const float *X, size_t T,
                                    float *const *Y) {
    int K = (int)W[0]->shape[1];
    learn__mm_out outs[LEARN__MM_MAX_OUT];
    for (int i = 0; i < n; i++) {
        outs[i].type = W[i]->type;
        outs[i].w = W[i]->data;
        outs[i].ldw = (size_t)learn_type_row_bytes(W[i]->type, (uint64_t)K);
        outs[i].R = (int)W[i]->shape[0];
        outs[i].bias = B && B[i] ? (const float *)B[i]->data : NULL;
        outs[i].y = Y[i];
        outs[i].ldy = (size_t)outs[i].R;
    }
    learn_status st = learn__mm_reserve(ctx, (size_t)K, T);
    if (st) return st;
    st = learn__matmul_n(ctx->kern, ctx->pool, K, X, (size_t)K, (int)T, outs, n, ctx->mm, ctx->mm_size);
    if (st) return LEARN__CFAIL(ctx, st, "matrix product with '%s' failed", W[0]->name);
    return LEARN_OK;
}

static learn_status learn__linear(learn_ctx *ctx, const learn__tensor *W, const learn__tensor *bias,
                                  const float *X, size_t T, float *Y) {
    return learn__linear_n(ctx, 1, &W, &bias, X, T, &Y);
}

/* learn__linear_n for the LLM's products, counted in the context's encode statistics. */
static learn_status learn__llm_linear_n(learn_ctx *ctx, int n, const learn__tensor *const *W,
                                        const learn__tensor *const *B, const float *X, size_t T,
                                        float *const *Y) {
    uint64_t t0 = learn__now_ns();
    learn_status st = learn__linear_n(ctx, n, W, B, X, T, Y);
    ctx->stats.ns_matmul += learn__ns_since(t0);
    for (int i = 0; i < n; i++) ctx->stats.n_macs += (uint64_t)T * W[i]->shape[0] * W[i]->shape[1];
    return st;
}

static learn_status learn__llm_linear(learn_ctx *ctx, const learn__tensor *W, const learn__tensor *bias,
                                      const float *X, size_t T, float *Y) {
    return learn__llm_linear_n(ctx, 1, &W, &bias, X, T, &Y);
}

static void learn__scratch_free(learn_ctx *ctx) {
    learn__llm_scratch *s = &ctx->s;
    float **bufs[] = {&s->x, &s->xn, &s->q, &s->k, &s->v, &s->att, &s->g, &s->u, &s->scores, &s->rope};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        learn__free_aligned(&ctx->alloc, *bufs[i]);
        *bufs[i] = NULL;
    }
    learn__free(&ctx->alloc, s->pos);
    s->pos = NULL;
    s->cap = s->max_len = 0;
}

/* Makes room for a batch of `tokens` tokens whose longest item has max_len tokens. */
static learn_status learn__scratch_reserve(learn_ctx *ctx, size_t tokens, size_t max_len) {
    const learn__llm_config *c = &ctx->model->llm;
    learn__llm_scratch *s = &ctx->s;
    if (tokens <= s->cap && max_len <= s->max_len) return LEARN_OK;
    tokens = LEARN__MAX(tokens, s->cap);
    max_len = LEARN__MAX(max_len, s->max_len);
    learn__scratch_free(ctx);
    size_t qd = (size_t)c->n_head * c->head_dim, kvd = (size_t)c->n_head_kv * c->head_dim;
    size_t nth = (size_t)learn__pool_n_threads(ctx->pool), half = c->head_dim / 2;
    struct {
        float **p;
        size_t rows, width;
    } want[] = {{&s->x, tokens, c->n_embd}, {&s->xn, tokens, c->n_embd}, {&s->q, tokens, qd},
                {&s->k, tokens, kvd},       {&s->v, tokens, kvd},        {&s->att, tokens, qd},
                {&s->g, tokens, c->n_ff},   {&s->u, tokens, c->n_ff},    {&s->scores, nth, max_len},
                {&s->rope, max_len, 2 * half}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t n;
        if (!learn__mul_ok(want[i].rows, want[i].width, &n) || !learn__mul_ok(n, sizeof(float), &n) ||
            !(*want[i].p = (float *)learn__malloc_aligned(&ctx->alloc, n))) {
            learn__scratch_free(ctx);
            return LEARN__CFAIL(ctx, LEARN_ERR_NOMEM, "out of memory for a batch of %zu tokens", tokens);
        }
    }
    s->pos = (uint32_t *)learn__calloc(&ctx->alloc, tokens, sizeof *s->pos);
    if (!s->pos) {
        learn__scratch_free(ctx);
        return LEARN__CFAIL(ctx, LEARN_ERR_NOMEM, "out of memory for a batch of %zu tokens", tokens);
    }
    /* RoPE: angle = pos * theta^(-2i/d) (/ the Llama 3 frequency factor), in double. */
    const float *ff = c->rope_freqs ? (const float *)c->rope_freqs->data : NULL;
    for (size_t i = 0; i < half; i++) {
        double inv = pow((double)c->rope_theta, -2.0 * (double)i / (double)c->head_dim);
        if (ff) inv /= (double)ff[i];
        for (size_t p = 0; p < max_len; p++) {
            s->rope[p * 2 * half + 2 * i] = (float)cos((double)p * inv);
            s->rope[p * 2 * half + 2 * i + 1] = (float)sin((double)p * inv);
        }
    }
    s->cap = tokens;
    s->max_len = max_len;
    s->n_threads = (int)nth;
    return LEARN_OK;
}

/* Rotates one head vector (head_dim) by the angles of its position. norm: pairs (2i, 2i+1);
   neox: (i, i + d/2). */
static void learn__rope(float *v, uint32_t hd, const float *cs, int neox) {
    uint32_t half = hd / 2;
    for (uint32_t i = 0; i < half; i++) {
        float c = cs[2 * i], s = cs[2 * i + 1];
        uint32_t i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
        float x0 = v[i0], x1 = v[i1];
        v[i0] = x0 * c - x1 * s;
        v[i1] = x0 * s + x1 * c;
    }
}

/* One layer's per-token and per-(item, head) steps, run in parallel. */
typedef struct learn__fwd {
    learn_ctx *ctx;
    const learn__layer *L;
    const float *norm;       /* RMSNorm weight of the current step */
    float *src, *dst;        /* rows of the current step */
    const size_t *start, *len;
} learn__fwd;

static void learn__fwd_rmsnorm(void *p, size_t lo, size_t hi, int ith) {
    (void)ith;
    const learn__fwd *f = (const learn__fwd *)p;
    size_t E = f->ctx->model->llm.n_embd;
    float eps = f->ctx->model->llm.rms_eps;
    for (size_t t = lo; t < hi; t++) f->ctx->kern->rmsnorm(f->dst + t * E, f->src + t * E, f->norm, E, eps);
}

/* dst += src, row by row (residual connections). */
static void learn__fwd_add(void *p, size_t lo, size_t hi, int ith) {
    (void)ith;
    const learn__fwd *f = (const learn__fwd *)p;
    size_t E = f->ctx->model->llm.n_embd;
    f->ctx->kern->axpy(f->dst + lo * E, 1.0f, f->src + lo * E, (hi - lo) * E);
}

static void learn__fwd_swiglu(void *p, size_t lo, size_t hi, int ith) {
    (void)ith;
    const learn__fwd *f = (const learn__fwd *)p;
    size_t F = f->ctx->model->llm.n_ff;
    const learn__llm_scratch *s = &f->ctx->s;
    f->ctx->kern->swiglu(s->g + lo * F, s->g + lo * F, s->u + lo * F, (hi - lo) * F);
}

/* Per token: Q/K head norms (qwen3) and RoPE. */
static void learn__fwd_rope(void *p, size_t lo, size_t hi, int ith) {
    (void)ith;
    const learn__fwd *f = (const learn__fwd *)p;
    const learn__llm_config *c = &f->ctx->model->llm;
    const learn__llm_scratch *s = &f->ctx->s;
    size_t hd = c->head_dim, qd = (size_t)c->n_head * hd, kvd = (size_t)c->n_head_kv * hd;
    for (size_t t = lo; t < hi; t++) {
        const float *cs = s->rope + (size_t)s->pos[t] * hd;
        for (uint32_t h = 0; h < c->n_head; h++) {
            float *qh = s->q + t * qd + h * hd;
            if (f->L->q_norm) f->ctx->kern->rmsnorm(qh, qh, (const float *)f->L->q_norm->data, hd, c->rms_eps);
            learn__rope(qh, (uint32_t)hd, cs, c->rope_neox);
        }
        for (uint32_t h = 0; h < c->n_head_kv; h++) {
            float *kh = s->k + t * kvd + h * hd;
            if (f->L->k_norm) f->ctx->kern->rmsnorm(kh, kh, (const float *)f->L->k_norm->data, hd, c->rms_eps);
            learn__rope(kh, (uint32_t)hd, cs, c->rope_neox);
        }
    }
}

/* Causal attention within each item: jobs are (item, head) pairs. */
static void learn__fwd_attention(void *p, size_t lo, size_t hi, int ith) {
    const learn__fwd *f = (const learn__fwd *)p;
    const learn__llm_config *c = &f->ctx->model->llm;
    const learn__kernels *k = f->ctx->kern;
    learn__llm_scratch *s = &f->ctx->s;
    size_t hd = c->head_dim, qd = (size_t)c->n_head * hd, kvd = (size_t)c->n_head_kv * hd;
    float scale = 1.0f / sqrtf((float)hd), *scores = s->scores + (size_t)ith * s->max_len;
    uint32_t group = c->n_head / c->n_head_kv;
    for (size_t job = lo; job < hi; job++) {
        size_t i = job / c->n_head, h = job % c->n_head, kvh = h / group, st = f->start[i];
        for (size_t q = 0; q < f->len[i]; q++) {
            const float *qv = s->q + (st + q) * qd + h * hd;
            for (size_t j = 0; j <= q; j++) scores[j] = k->dot(qv, s->k + (st + j) * kvd + kvh * hd, hd) * scale;
            k->softmax(scores, scores, q + 1);
            float *o = s->att + (st + q) * qd + h * hd;
            memset(o, 0, hd * sizeof *o);
            for (size_t j = 0; j <= q; j++) k->axpy(o, scores[j], s->v + (st + j) * kvd + kvh * hd, hd);
        }
    }
}

/* Runs the LLM over T tokens made of n items (item i: tokens [start[i], start[i] + len[i])).
   Leaves the final-normed hidden states in ctx->s.xn ([T][n_embd]). */
static learn_status learn__llm_forward(learn_ctx *ctx, const int32_t *tokens, const size_t *start,
                                       const size_t *len, size_t n, size_t T) {
    const learn__llm_config *c = &ctx->model->llm;
    learn__llm_scratch *s = &ctx->s;
    size_t E = c->n_embd;
    size_t emb_row = (size_t)learn_type_row_bytes(c->tok_embd->type, E);
    learn_status st;
    uint64_t t_start = learn__now_ns();
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < len[i]; p++) s->pos[start[i] + p] = (uint32_t)p;
    for (size_t t = 0; t < T; t++)
        learn__dequant_row(c->tok_embd->type, c->tok_embd->data + (size_t)tokens[t] * emb_row,
                           s->x + t * E, E);
    learn__fwd f = {ctx, NULL, NULL, s->x, s->xn, start, len};
    for (uint32_t l = 0; l < c->n_layer; l++) {
        const learn__layer *L = &c->layers[l];
        f.L = L;
        /* attention */
        f.norm = (const float *)L->attn_norm->data, f.src = s->x, f.dst = s->xn;
        learn__parallel(ctx, T, learn__fwd_rmsnorm, &f);
        const learn__tensor *qkv_w[3] = {L->wq, L->wk, L->wv}, *qkv_b[3] = {L->bq, L->bk, L->bv};
        float *qkv_y[3] = {s->q, s->k, s->v};
        if ((st = learn__llm_linear_n(ctx, 3, qkv_w, qkv_b, s->xn, T, qkv_y))) return st;
        learn__parallel(ctx, T, learn__fwd_rope, &f);
        learn__parallel(ctx, n * c->n_head, learn__fwd_attention, &f);
        if ((st = learn__llm_linear(ctx, L->wo, NULL, s->att, T, s->xn))) return st;
        f.src = s->xn, f.dst = s->x;
        learn__parallel(ctx, T, learn__fwd_add, &f);
        /* SwiGLU MLP */
        f.norm = (const float *)L->ffn_norm->data, f.src = s->x, f.dst = s->xn;
        learn__parallel(ctx, T, learn__fwd_rmsnorm, &f);
        const learn__tensor *gu_w[2] = {L->w_gate, L->w_up};
        float *gu_y[2] = {s->g, s->u};
        if ((st = learn__llm_linear_n(ctx, 2, gu_w, NULL, s->xn, T, gu_y))) return st;
        learn__parallel(ctx, T, learn__fwd_swiglu, &f);
        if ((st = learn__llm_linear(ctx, L->w_down, NULL, s->g, T, s->xn))) return st;
        f.src = s->xn, f.dst = s->x;
        learn__parallel(ctx, T, learn__fwd_add, &f);
    }
    f.norm = (const float *)c->out_norm->data, f.src = s->x, f.dst = s->xn;
    learn__parallel(ctx, T, learn__fwd_rmsnorm, &f);
    ctx->stats.ns_forward += learn__ns_since(t_start);
    return LEARN_OK;
}

/* ============================================================================================
   ==== Content encoder ====
   Items to content embeddings: batches of whole items through the LLM, each item's final-normed
   states pooled (mean or last token) and L2-normalised as the context says. learn_encode
   tokenizes first; the statistics count what ran.
   ============================================================================================ */

/* Scales a vector to unit L2 norm (left as is when it is zero): the sum of squares in double,
   then every element times the float inverse of its root. */
static void learn__l2_normalize(float *x, size_t n) {
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    if (ss <= 0.0) return;
    float inv = (float)(1.0 / sqrt(ss));
    for (size_t i = 0; i < n; i++) x[i] *= inv;
}

learn_status learn_l2_normalize(float *x, size_t n) {
    if (!x && n) return LEARN_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return LEARN_ERR_NUMERIC;
    learn__l2_normalize(x, n);
    return LEARN_OK;
}

/* Pools item states [len][E] into out[E]. */
static void learn__pool_item(const float *states, size_t len, size_t E, learn_pooling pool,
                             int normalize, float *out) {
    if (pool == LEARN_POOLING_LAST) {
        memcpy(out, states + (len - 1) * E, E * sizeof *out);
    } else {
        for (size_t e = 0; e < E; e++) {
            double sum = 0.0;
            for (size_t p = 0; p < len; p++) sum += states[p * E + e];
            out[e] = (float)(sum / (double)len);
        }
    }
    if (normalize) learn__l2_normalize(out, E);
}

/* Checks ids and applies the token limit; returns the kept length. */
static learn_status learn__check_item(learn_ctx *ctx, size_t item, const int32_t *ids, size_t n,
                                      size_t *kept) {
    const learn__llm_config *c = &ctx->model->llm;
    if (n == 0) return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "item %zu has no tokens", item);
    if (!ids) return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "item %zu: ids is NULL", item);
    *kept = LEARN__MIN(n, (size_t)c->max_tokens);
    for (size_t i = 0; i < *kept; i++)
        if (ids[i] < 0 || (uint32_t)ids[i] >= c->n_vocab)
            return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "item %zu: token %zu is id %d, outside 0..%u",
                                item, i, ids[i], c->n_vocab - 1);
    return LEARN_OK;
}

/* Whether the context can pool items into embeddings: an LLM, and a pooling that gives one
   vector per item. */
static learn_status learn__encode_ready(learn_ctx *ctx) {
    if (!ctx->model->llm.present) return LEARN__CFAIL(ctx, LEARN_ERR_STATE, "the model has no LLM");
    if (ctx->pooling == LEARN_POOLING_NONE)
        return LEARN__CFAIL(ctx, LEARN_ERR_ARG,
                            "pooling 'none' gives one vector per token: use "
                            "learn_encode_ids_tokens");
    return LEARN_OK;
}

/* learn_encode_ids once the context is ready, with the items numbered from item0 in messages
   (learn_encode passes its chunks with their first item's number). */
static learn_status learn__encode_ids(learn_ctx *ctx, size_t n_items, const int32_t *const *ids,
                                      const size_t *n_ids, size_t item0, float *out) {
    const learn__llm_config *c = &ctx->model->llm;
    size_t E = c->n_embd, cap = ctx->batch_tokens;
    size_t *start = NULL, *len = NULL;
    int32_t *tok = NULL;
    learn_status st = learn__scratch_reserve(ctx, cap, c->max_tokens);
    if (st) return st;
    start = (size_t *)learn__calloc(&ctx->alloc, cap, sizeof *start);
    len = (size_t *)learn__calloc(&ctx->alloc, cap, sizeof *len);
    tok = (int32_t *)learn__calloc(&ctx->alloc, cap, sizeof *tok);
    if (!start || !len || !tok) {
        st = LEARN__CFAIL(ctx, LEARN_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_items;) {
        /* Fill a batch with whole items. */
        size_t T = 0, n = 0, first = i;
        while (i < n_items) {
            size_t kept;
            if ((st = learn__check_item(ctx, item0 + i, ids[i], n_ids[i], &kept))) goto done;
            if (T + kept > cap) break;
            memcpy(tok + T, ids[i], kept * sizeof *tok);
            start[n] = T;
            len[n] = kept;
            T += kept;
            n++;
            ctx->stats.n_truncated += kept < n_ids[i];
            i++;
        }
        if ((st = learn__llm_forward(ctx, tok, start, len, n, T))) goto done;
        for (size_t k = 0; k < n; k++)
            learn__pool_item(ctx->s.xn + start[k] * E, len[k], E, ctx->pooling, ctx->normalize,
                             out + (first + k) * E);
        ctx->stats.n_items += n;
        ctx->stats.n_tokens += T;
    }
done:
    learn__free(&ctx->alloc, start);
    learn__free(&ctx->alloc, len);
    learn__free(&ctx->alloc, tok);
    return st;
}

learn_status learn_encode_ids(learn_ctx *ctx, size_t n_items, const int32_t *const *ids,
                              const size_t *n_ids, float *out) {
    if (!ctx) return LEARN_ERR_ARG;
    ctx->err[0] = 0;
    learn_status st = learn__encode_ready(ctx);
    if (st) return st;
    if (n_items && (!ids || !n_ids || !out))
        return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "ids, n_ids and out must not be NULL");
    return learn__encode_ids(ctx, n_items, ids, n_ids, 0, out);
}

/* Tokenizes the text of item `item` into (*ids)[used..], growing the buffer (*ids, *cap) as
   it needs; *n receives the number of ids (at least one). Errors name the item. */
static learn_status learn__encode_tokenize(learn_ctx *ctx, size_t item, const char *text, size_t len,
                                           int32_t **ids, size_t *cap, size_t used, size_t *n) {
    for (;;) {
        learn_status st =
            learn_tokenize(ctx, text, len, LEARN_TOKENIZE_ADD_SPECIAL, *ids + used, *cap - used, n);
        if (st == LEARN_OK) break;
        if (st == LEARN_ERR_NOMEM) return st; /* learn_tokenize said so */
        if (st != LEARN_ERR_BUFFER) {
            char inner[LEARN_ERRMSG_SIZE];
            memcpy(inner, ctx->err, sizeof inner);
            return LEARN__CFAIL(ctx, st, "item %zu: %s", item, inner);
        }
        size_t nc;
        if (!learn__add_ok(used, *n, &nc) || !learn__mul_ok(nc, 2 * sizeof **ids, &nc))
            return LEARN__CFAIL(ctx, LEARN_ERR_NOMEM, "item %zu: too many tokens", item);
        int32_t *p = (int32_t *)learn__realloc(&ctx->alloc, *ids, nc);
        if (!p) return LEARN__CFAIL(ctx, LEARN_ERR_NOMEM, "out of memory");
        *ids = p;
        *cap = nc / sizeof **ids;
    }
    if (*n == 0) return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "item %zu: the text gives no tokens", item);
    return LEARN_OK;
}

learn_status learn_encode(learn_ctx *ctx, size_t n_items, const char *const *texts,
                          const size_t *lens, float *out) {
    if (!ctx) return LEARN_ERR_ARG;
    ctx->err[0] = 0;
    if (n_items && (!texts || !out))
        return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "texts and out must not be NULL");
    if (!ctx->model->tok)
        return LEARN__CFAIL(ctx, LEARN_ERR_STATE, "the model has no tokenizer: use learn_encode_ids");
    learn_status st = learn__encode_ready(ctx);
    if (st) return st;
    size_t E = ctx->model->llm.n_embd, chunk = 256, cap = 4096;
    int32_t *ids = (int32_t *)learn__malloc(&ctx->alloc, cap * sizeof *ids);
    size_t *start = (size_t *)learn__calloc(&ctx->alloc, chunk, sizeof *start);
    size_t *count = (size_t *)learn__calloc(&ctx->alloc, chunk, sizeof *count);
    const int32_t **items = (const int32_t **)learn__calloc(&ctx->alloc, chunk, sizeof *items);
    if (!ids || !start || !count || !items) st = LEARN__CFAIL(ctx, LEARN_ERR_NOMEM, "out of memory");
    /* Tokenize a chunk of items into one id buffer, then encode it. */
    for (size_t i0 = 0; i0 < n_items && !st; i0 += chunk) {
        size_t k = LEARN__MIN(chunk, n_items - i0), used = 0;
        for (size_t j = 0; j < k && !st; j++) {
            const char *t = texts[i0 + j];
            if (!t) {
                st = LEARN__CFAIL(ctx, LEARN_ERR_ARG, "text %zu is NULL", i0 + j);
                break;
            }
            st = learn__encode_tokenize(ctx, i0 + j, t, lens ? lens[i0 + j] : strlen(t), &ids, &cap,
                                        used, &count[j]);
            start[j] = used;
            used += count[j];
        }
        if (st) break;
        for (size_t j = 0; j < k; j++) items[j] = ids + start[j];
        st = learn__encode_ids(ctx, k, items, count, i0, out + i0 * E);
    }
    learn__free(&ctx->alloc, ids);
    learn__free(&ctx->alloc, start);
    learn__free(&ctx->alloc, count);
    learn__free(&ctx->alloc, (void *)items);
    return st;
}

learn_status learn_encode_ids_tokens(learn_ctx *ctx, const int32_t *ids, size_t n_ids, float *out,
                                     size_t *n_out) {
    if (!ctx) return LEARN_ERR_ARG;
    ctx->err[0] = 0;
    const learn__llm_config *c = &ctx->model->llm;
    if (!c->present) return LEARN__CFAIL(ctx, LEARN_ERR_STATE, "the model has no LLM");
    if (!out || !n_out) return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "out and n_out must not be NULL");
    size_t kept;
    learn_status st = learn__check_item(ctx, 0, ids, n_ids, &kept);
    if (st) return st;
    if ((st = learn__scratch_reserve(ctx, LEARN__MAX(kept, (size_t)ctx->batch_tokens), kept)))
        return st;
    size_t start = 0;
    if ((st = learn__llm_forward(ctx, ids, &start, &kept, 1, kept))) return st;
    memcpy(out, ctx->s.xn, kept * c->n_embd * sizeof *out);
    *n_out = kept;
    ctx->stats.n_items++;
    ctx->stats.n_tokens += kept;
    ctx->stats.n_truncated += kept < n_ids;
    return LEARN_OK;
}

learn_status learn_ctx_encode_stats(const learn_ctx *ctx, learn_encode_stats *stats) {
    if (!ctx || !stats) return LEARN_ERR_ARG;
    *stats = ctx->stats;
    return LEARN_OK;
}

/* ============================================================================================
   ==== Towers ====
   The preference-alignment towers of LEARN (the "twin towers"): one small transformer, run
   on a user's history (causal, output at the last position) and on single items (a length-1
   sequence), mapping content embeddings (d_in) to the collaborative space (d_out, unit
   length). Score = dot product of a user and an item embedding (cosine).

     content (d_in) -> adaptor Linear -> [+ learned position] -> n_layer x block -> proj Linear
     -> L2-normalise

   Block, post-LN (BERT, the default; the official LEARN code's BertEncoder layers):
     x = LN_attn(x + attn_output(Attention(x)));  x = LN_ffn(x + ffn_down(act(ffn_up(x))))
   Block, pre-LN:
     x = x + attn_output(Attention(LN_attn(x)));  x = x + ffn_down(act(ffn_up(LN_ffn(x))))
     and a final LN (tower.out_norm) before proj.
   Attention: n_head heads of d_model / n_head, Q/K/V/output Linear with biases, scores scaled
   by 1/sqrt(head_dim), causal (a position sees itself and the earlier ones), softmax.

   Because attention is causal, the state of earlier positions never depends on later ones:
   a user's per-layer keys and values are cached in a learn_user_state and one new history
   item costs one position's worth of work.

   A model without towers aligns nothing: the item embedding is the L2-normalised content
   embedding, the user embedding the L2-normalised mean of the L2-normalised history contents
   (the paper's "w/o alignment" baseline), and d_out = d_in = the LLM's n_embd.

   The schema (metadata, tensors, and how the official LEARN checkpoints' keys map onto it) is
   in learn.h, "The towers"; learn__towers_check checks it at open.
   ============================================================================================ */

/* Largest history learn_user_embed takes when the model sets no max_history. */
#define LEARN__TOWER_MAX_SEQ (1u << 20)

/* Resolves the tower metadata and tensors of the schema (learn.h, "The towers") into m->towers,
   marking each tensor it takes at its directory index. */
static learn_status learn__towers_resolve(learn_model *m, uint8_t *mark, char *err, size_t errn) {
    learn__tower_config *c = &m->towers;
    const learn__u32_key keys[] = {
        {"tower.d_in", 1, 1u << 16, 1, &c->d_in},
        {"tower.d_model", 1, 1u << 16, 1, &c->d_model},
        {"tower.n_layer", 0, LEARN_MAX_LAYERS, 1, &c->n_layer},
        {"tower.n_head", 1, 1024, 1, &c->n_head},
        {"tower.d_ff", 1, 1u << 20, 1, &c->d_ff},
        {"tower.d_out", 1, 1u << 16, 1, &c->d_out},
        {"tower.max_positions", 0, 1u << 20, 0, &c->max_positions},
    };
    learn_status st = learn__meta_u32_keys(m, keys, sizeof keys / sizeof keys[0], err, errn);
    if (st) return st;
    c->max_history = c->max_positions;
    if ((st = learn__meta_u32_req(m, "tower.max_history", 0, 1u << 20, 0, &c->max_history, err,
                                  errn)))
        return st;
    if (c->d_model % c->n_head)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "metadata 'tower.n_head' = %u does not divide 'tower.d_model' = %u",
                           c->n_head, c->d_model);
    c->head_dim = c->d_model / c->n_head;
    if (c->max_positions && (c->max_history == 0 || c->max_history > c->max_positions))
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "metadata 'tower.max_history' = %u must be in 1..%u "
                           "('tower.max_positions': a position without an embedding)",
                           c->max_history, c->max_positions);
    if (m->llm.present && c->d_in != m->llm.n_embd)
        return learn__fail(err, errn, LEARN_ERR_MISMATCH,
                           "metadata 'tower.d_in' = %u differs from the LLM's "
                           "'llm.embedding_length' = %u (towers trained on another LLM?)",
                           c->d_in, m->llm.n_embd);
    c->eps = 1e-12f;
    if ((st = learn__meta_f32_opt(m, "tower.eps", 0.0f, 1.0f, &c->eps, err, errn))) return st;
    static const char *const acts[] = {"gelu", "gelu_tanh", "relu", NULL};
    static const char *const norms[] = {"post", "pre", NULL};
    int act = LEARN__ACT_GELU;
    if ((st = learn__meta_choice(m, "tower.act", acts, &act, err, errn)) ||
        (st = learn__meta_choice(m, "tower.norm", norms, &c->pre_norm, err, errn)))
        return st;
    c->act = (learn__act)act;

    uint64_t D = c->d_model, F = c->d_ff;
    const learn__tensor_spec top[] = {
        {"adaptor.weight", &c->adaptor_w, 1, D, c->d_in, 0},
        {"adaptor.bias", &c->adaptor_b, 0, D, 0, 0},
        {"proj.weight", &c->proj_w, 1, c->d_out, D, 0},
        {"proj.bias", &c->proj_b, 0, c->d_out, 0, 0},
        {"input_mean", &c->in_mean, 0, c->d_in, 0, 1},
        {"input_scale", &c->in_scale, 0, c->d_in, 0, 1},
    };
    if ((st = learn__need_tensors(m, "tower.", top, sizeof top / sizeof top[0], mark, err, errn)))
        return st;
    if (!c->in_mean != !c->in_scale)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "tensors 'tower.input_mean' and 'tower.input_scale' go together");
    for (uint32_t e = 0; c->in_mean && e < c->d_in; e++) {
        float mu = ((const float *)c->in_mean->data)[e], sc = ((const float *)c->in_scale->data)[e];
        if (!isfinite(mu) || !isfinite(sc) || sc < 0)
            return learn__fail(err, errn, LEARN_ERR_NUMERIC,
                               "tower.input_mean/scale element %u (%g, %g) must be finite with "
                               "scale >= 0",
                               e, (double)mu, (double)sc);
    }
    if (c->max_positions) {
        const learn__tensor *p = learn__tensor_lookup(m, "tower.pos_embd.weight");
        if (!p)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor 'tower.pos_embd.weight' is missing (tower.max_positions "
                               "= %u)",
                               c->max_positions);
        if (p->type != LEARN_TYPE_F32 || p->n_dims != 2 || p->shape[0] != c->max_positions ||
            p->shape[1] != D) {
            char have[128];
            learn__shape_str(p, have, sizeof have);
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor 'tower.pos_embd.weight' is %s %s; expected f32 [%u, %u]",
                               learn_type_name(p->type), have, c->max_positions, c->d_model);
        }
        c->pos_embd = p;
        mark[p - m->tensors] = 1;
    }
    const learn__tensor_spec out_norm[] = {
        {"out_norm.weight", &c->out_norm_w, 0, D, 0, 0},
        {"out_norm.bias", &c->out_norm_b, 0, D, 0, 0},
    };
    if (c->pre_norm && (st = learn__need_tensors(m, "tower.", out_norm, 2, mark, err, errn))) return st;
    if (c->n_layer) {
        c->layers = (learn__tower_layer *)learn__calloc(&m->alloc, c->n_layer, sizeof *c->layers);
        if (!c->layers) return LEARN_ERR_NOMEM;
    }
    for (uint32_t l = 0; l < c->n_layer; l++) {
        learn__tower_layer *L = &c->layers[l];
        const learn__tensor_spec blk[] = {
            {"attn_q.weight", &L->wq, 1, D, D, 0},         {"attn_q.bias", &L->bq, 0, D, 0, 0},
            {"attn_k.weight", &L->wk, 1, D, D, 0},         {"attn_k.bias", &L->bk, 0, D, 0, 0},
            {"attn_v.weight", &L->wv, 1, D, D, 0},         {"attn_v.bias", &L->bv, 0, D, 0, 0},
            {"attn_output.weight", &L->wo, 1, D, D, 0},    {"attn_output.bias", &L->bo, 0, D, 0, 0},
            {"attn_norm.weight", &L->attn_norm_w, 0, D, 0, 0},
            {"attn_norm.bias", &L->attn_norm_b, 0, D, 0, 0},
            {"ffn_up.weight", &L->w_up, 1, F, D, 0},       {"ffn_up.bias", &L->b_up, 0, F, 0, 0},
            {"ffn_down.weight", &L->w_down, 1, D, F, 0},   {"ffn_down.bias", &L->b_down, 0, D, 0, 0},
            {"ffn_norm.weight", &L->ffn_norm_w, 0, D, 0, 0},
            {"ffn_norm.bias", &L->ffn_norm_b, 0, D, 0, 0},
        };
        char prefix[32];
        snprintf(prefix, sizeof prefix, "tower.blk.%u.", l);
        if ((st = learn__need_tensors(m, prefix, blk, sizeof blk / sizeof blk[0], mark, err, errn)))
            return st;
    }
    return LEARN_OK;
}

/* Validates the towers and resolves m->towers (called at open, after the LLM check). Towers
   are present when tower.d_in is; then every tensor named tower.* must be one the schema took
   (another would be silently unused). */
static learn_status learn__towers_check(learn_model *m, char *err, size_t errn) {
    learn__tower_config *c = &m->towers;
    memset(c, 0, sizeof *c);
    if (!learn__meta_lookup(m, "tower.d_in")) {
        /* Tower weights without their configuration would be silently unused. */
        if (learn__tensor_lookup(m, "tower.adaptor.weight"))
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor 'tower.adaptor.weight' is present but metadata "
                               "'tower.d_in' is missing (no tower configuration)");
        if (m->llm.present) c->d_in = c->d_out = m->llm.n_embd;
        return LEARN_OK;
    }
    uint8_t *mark = (uint8_t *)learn__calloc(&m->alloc, m->n_tensors ? m->n_tensors : 1, 1);
    if (!mark) return LEARN_ERR_NOMEM;
    learn_status st = learn__towers_resolve(m, mark, err, errn);
    for (uint32_t i = 0; !st && i < m->n_tensors; i++) {
        const char *nm = m->tensors[i].name;
        if (strncmp(nm, "tower.", 6) == 0 && !mark[i])
            st = learn__fail(err, errn, LEARN_ERR_FORMAT,
                             "tensor '%s' is not part of the tower schema (n_layer = %u, "
                             "norm = %s, max_positions = %u)",
                             nm, c->n_layer, c->pre_norm ? "pre" : "post", c->max_positions);
    }
    learn__free(&m->alloc, mark);
    if (!st) c->present = 1;
    return st;
}

/* ---- Building blocks ---- */

static void learn__activate(const learn__kernels *k, float *x, size_t n, learn__act act) {
    switch (act) {
    case LEARN__ACT_GELU: k->gelu(x, x, n); break;
    case LEARN__ACT_GELU_TANH:
        for (size_t i = 0; i < n; i++) {
            float v = x[i];
            x[i] = 0.5f * v * (1.0f + tanhf(0.79788456080286536f * (v + 0.044715f * v * v * v)));
        }
        break;
    case LEARN__ACT_RELU:
        for (size_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    }
}

/* Activations for up to `cap` positions of one sequence (or `cap` single items), and the keys
   and values of every position seen so far ([n_layer][cap][d_model] each). */
typedef struct learn__tower_buf {
    size_t cap;
    float *x;      /* [cap][d_model] residual stream */
    float *h;      /* [cap][d_model] sublayer input (pre-LN) / output */
    float *q;      /* [cap][d_model] */
    float *att;    /* [cap][d_model] */
    float *ff;     /* [cap][d_ff] */
    float *scores; /* [cap] */
    float *cin;    /* [cap][d_in] standardized content */
    float *k, *v;  /* [n_layer][cap][d_model] */
} learn__tower_buf;

static void learn__tower_buf_free(const learn_allocator *a, learn__tower_buf *b) {
    float **bufs[] = {&b->x, &b->h, &b->q, &b->att, &b->ff, &b->scores, &b->cin, &b->k, &b->v};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        learn__free_aligned(a, *bufs[i]);
        *bufs[i] = NULL;
    }
    b->cap = 0;
}

static learn_status learn__tower_buf_init(const learn_allocator *a, const learn__tower_config *c,
                                          size_t cap, learn__tower_buf *b) {
    memset(b, 0, sizeof *b);
    size_t D = c->d_model ? c->d_model : 1, L = c->n_layer ? c->n_layer : 1;
    size_t kv;
    if (!learn__mul_ok(L, cap, &kv)) return LEARN_ERR_NOMEM;
    struct {
        float **p;
        size_t rows, width;
    } want[] = {{&b->x, cap, D},     {&b->h, cap, D},        {&b->q, cap, D},
                {&b->att, cap, D},   {&b->ff, cap, c->d_ff}, {&b->scores, cap, 1},
                {&b->cin, cap, c->d_in ? c->d_in : 1}, {&b->k, kv, D}, {&b->v, kv, D}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t n;
        if (!learn__mul_ok(want[i].rows, want[i].width, &n) ||
            !learn__mul_ok(n ? n : 1, sizeof(float), &n) ||
            !(*want[i].p = (float *)learn__malloc_aligned(a, n))) {
            learn__tower_buf_free(a, b);
            return LEARN_ERR_NOMEM;
        }
    }
    b->cap = cap;
    return LEARN_OK;
}

/* Runs n rows through the towers, from content to unnormalised output.
   items = 1: every row is its own length-1 sequence (position 0; attention returns V), and
   out [n][d_out] receives every row's output.
   items = 0: the rows are positions p0 .. p0+n-1 of one sequence; b->k/b->v hold the keys and
   values of positions 0 .. p0-1 from earlier calls and receive those of the new rows; out
   [d_out] receives the output of the last row only (the user embedding, unnormalised). */
static learn_status learn__tower_rows(learn_ctx *ctx, const learn__tower_config *c,
                                      learn__tower_buf *b, const float *content, size_t n,
                                      size_t p0, int items, float *out) {
    const learn__kernels *kn = ctx->kern;
    learn_status st;
    size_t D = c->d_model, F = c->d_ff, hd = c->head_dim;
    float scale = 1.0f / sqrtf((float)hd);
    /* Standardized content (x - mean) * scale, when the towers were trained on it. */
    if (c->in_mean) {
        const float *mu = (const float *)c->in_mean->data, *sc = (const float *)c->in_scale->data;
        for (size_t t = 0; t < n; t++)
            for (size_t e = 0; e < c->d_in; e++)
                b->cin[t * c->d_in + e] = (content[t * c->d_in + e] - mu[e]) * sc[e];
        content = b->cin;
    }
    /* x [n][D] = content [n][d_in] adaptor^T + bias (+ position) */
    if ((st = learn__linear(ctx, c->adaptor_w, c->adaptor_b, content, n, b->x))) return st;
    if (c->pos_embd)
        for (size_t t = 0; t < n; t++) {
            const float *pe = (const float *)c->pos_embd->data + (items ? 0 : p0 + t) * D;
            for (size_t e = 0; e < D; e++) b->x[t * D + e] += pe[e];
        }
    for (uint32_t l = 0; l < c->n_layer; l++) {
        const learn__tower_layer *L = &c->layers[l];
        float *K = b->k + (size_t)l * b->cap * D, *V = b->v + (size_t)l * b->cap * D;
        size_t kv0 = items ? 0 : p0; /* cache row of the first new position */
        /* attention sublayer: input in = x (post-LN) or LN(x) (pre-LN) */
        const float *in = b->x;
        if (c->pre_norm) {
            for (size_t t = 0; t < n; t++)
                kn->layernorm(b->h + t * D, b->x + t * D, (const float *)L->attn_norm_w->data,
                                 (const float *)L->attn_norm_b->data, D, c->eps);
            in = b->h;
        }
        const learn__tensor *qkv_w[3] = {L->wq, L->wk, L->wv}, *qkv_b[3] = {L->bq, L->bk, L->bv};
        float *qkv_y[3] = {b->q, K + kv0 * D, V + kv0 * D};
        if ((st = learn__linear_n(ctx, 3, qkv_w, qkv_b, in, n, qkv_y))) return st;
        for (size_t t = 0; t < n; t++) {
            size_t self = kv0 + t, first = items ? self : 0; /* attend to [first, self] */
            for (uint32_t h = 0; h < c->n_head; h++) {
                const float *qv = b->q + t * D + h * hd;
                for (size_t j = first; j <= self; j++)
                    b->scores[j - first] = kn->dot(qv, K + j * D + h * hd, hd) * scale;
                kn->softmax(b->scores, b->scores, self - first + 1);
                float *o = b->att + t * D + h * hd;
                memset(o, 0, hd * sizeof *o);
                for (size_t j = first; j <= self; j++) kn->axpy(o, b->scores[j - first], V + j * D + h * hd, hd);
            }
        }
        if ((st = learn__linear(ctx, L->wo, L->bo, b->att, n, b->h))) return st;
        kn->axpy(b->x, 1.0f, b->h, n * D);
        if (!c->pre_norm)
            for (size_t t = 0; t < n; t++)
                kn->layernorm(b->x + t * D, b->x + t * D, (const float *)L->attn_norm_w->data,
                                 (const float *)L->attn_norm_b->data, D, c->eps);
        /* feed-forward sublayer */
        in = b->x;
        if (c->pre_norm) {
            for (size_t t = 0; t < n; t++)
                kn->layernorm(b->h + t * D, b->x + t * D, (const float *)L->ffn_norm_w->data,
                                 (const float *)L->ffn_norm_b->data, D, c->eps);
            in = b->h;
        }
        if ((st = learn__linear(ctx, L->w_up, L->b_up, in, n, b->ff))) return st;
        learn__activate(kn, b->ff, n * F, c->act);
        if ((st = learn__linear(ctx, L->w_down, L->b_down, b->ff, n, b->h))) return st;
        kn->axpy(b->x, 1.0f, b->h, n * D);
        if (!c->pre_norm)
            for (size_t t = 0; t < n; t++)
                kn->layernorm(b->x + t * D, b->x + t * D, (const float *)L->ffn_norm_w->data,
                                 (const float *)L->ffn_norm_b->data, D, c->eps);
    }
    size_t first = items ? 0 : n - 1; /* rows to project */
    float *x = b->x + first * D;
    if (c->pre_norm)
        for (size_t t = 0; t < n - first; t++)
            kn->layernorm(x + t * D, x + t * D, (const float *)c->out_norm_w->data,
                             (const float *)c->out_norm_b->data, D, c->eps);
    if ((st = learn__linear(ctx, c->proj_w, c->proj_b, x, n - first, out))) return st;
    return LEARN_OK;
}

/* Checks that content rows are finite; names the first bad one. */
static learn_status learn__check_content(learn_ctx *ctx, const float *content, size_t n,
                                         size_t d, const char *what) {
    for (size_t i = 0; i < n; i++)
        for (size_t e = 0; e < d; e++) {
            uint32_t bits;
            memcpy(&bits, &content[i * d + e], 4);
            if (!learn__f32_bits_finite(bits))
                return LEARN__CFAIL(ctx, LEARN_ERR_NUMERIC, "%s %zu: content element %zu is %s",
                                    what, i, e, (bits & 0x7fffffu) ? "NaN" : "Inf");
        }
    return LEARN_OK;
}

/* The towers' content dimension, or an error when the model can say nothing about it. */
static learn_status learn__towers_ready(learn_ctx *ctx) {
    if (!ctx->model->towers.present && !ctx->model->towers.d_in)
        return LEARN__CFAIL(ctx, LEARN_ERR_STATE,
                            "the model has neither towers nor an LLM: the content dimension is "
                            "unknown");
    return LEARN_OK;
}

/* The "w/o alignment" user embedding: L2(mean of L2(content rows)). */
static void learn__mean_of_normalized(const float *content, size_t n, size_t d, float *out) {
    for (size_t e = 0; e < d; e++) out[e] = 0.0f;
    for (size_t i = 0; i < n; i++) {
        const float *x = content + i * d;
        double ss = 0.0;
        for (size_t e = 0; e < d; e++) ss += (double)x[e] * x[e];
        float inv = ss > 0.0 ? (float)(1.0 / sqrt(ss)) : 0.0f;
        for (size_t e = 0; e < d; e++) out[e] += x[e] * inv;
    }
    learn__l2_normalize(out, d);
}

/* ---- Public: towers ---- */

learn_status learn_towers_get_info(const learn_model *model, learn_towers_info *info) {
    if (!model || !info) return LEARN_ERR_ARG;
    const learn__tower_config *c = &model->towers;
    memset(info, 0, sizeof *info);
    info->present = c->present;
    info->d_in = c->d_in;
    info->d_out = c->d_out;
    info->d_model = c->d_model;
    info->n_layer = c->n_layer;
    info->n_head = c->n_head;
    info->d_ff = c->d_ff;
    info->max_positions = c->max_positions;
    info->max_history = c->max_history;
    info->pre_norm = c->pre_norm;
    return LEARN_OK;
}

/* Items go through in chunks of this many rows (bounded scratch; weights read once a chunk). */
#define LEARN__TOWER_ITEM_CHUNK 64

learn_status learn_item_embed(learn_ctx *ctx, size_t n, const float *content, float *out) {
    if (!ctx) return LEARN_ERR_ARG;
    ctx->err[0] = 0;
    learn_status st = learn__towers_ready(ctx);
    if (st) return st;
    if (n && (!content || !out))
        return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "content and out must not be NULL");
    const learn__tower_config *c = &ctx->model->towers;
    if ((st = learn__check_content(ctx, content, n, c->d_in, "item"))) return st;
    if (!c->present) {
        for (size_t i = 0; i < n; i++) {
            memmove(out + i * c->d_in, content + i * c->d_in, c->d_in * sizeof *out);
            learn__l2_normalize(out + i * c->d_in, c->d_in);
        }
        return LEARN_OK;
    }
    learn__tower_buf b;
    size_t chunk = LEARN__MIN(n, (size_t)LEARN__TOWER_ITEM_CHUNK);
    if (!n) return LEARN_OK;
    if (learn__tower_buf_init(&ctx->alloc, c, chunk, &b))
        return LEARN__CFAIL(ctx, LEARN_ERR_NOMEM, "out of memory for the item tower's scratch");
    for (size_t i = 0; i < n; i += chunk) {
        size_t k = LEARN__MIN(chunk, n - i);
        if ((st = learn__tower_rows(ctx, c, &b, content + i * c->d_in, k, 0, 1, out + i * c->d_out)))
            break;
        for (size_t j = 0; j < k; j++) learn__l2_normalize(out + (i + j) * c->d_out, c->d_out);
    }
    learn__tower_buf_free(&ctx->alloc, &b);
    return st;
}

learn_status learn_user_embed(learn_ctx *ctx, size_t n_hist, const float *content, float *out) {
    if (!ctx) return LEARN_ERR_ARG;
    ctx->err[0] = 0;
    learn_status st = learn__towers_ready(ctx);
    if (st) return st;
    if (n_hist == 0)
        return LEARN__CFAIL(ctx, LEARN_ERR_ARG,
                            "empty history: a user embedding needs at least one item");
    if (!content || !out) return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "content and out must not be NULL");
    const learn__tower_config *c = &ctx->model->towers;
    /* The most recent max_history items (all when 0, up to LEARN__TOWER_MAX_SEQ). */
    size_t keep = c->max_history ? LEARN__MIN(n_hist, (size_t)c->max_history) : n_hist;
    if (keep > LEARN__TOWER_MAX_SEQ)
        return LEARN__CFAIL(ctx, LEARN_ERR_TOO_LONG,
                            "history of %zu items is longer than %u (the model sets no "
                            "tower.max_history)",
                            n_hist, LEARN__TOWER_MAX_SEQ);
    content += (n_hist - keep) * c->d_in;
    if ((st = learn__check_content(ctx, content, keep, c->d_in, "history item"))) return st;
    if (!c->present) {
        learn__mean_of_normalized(content, keep, c->d_in, out);
        return LEARN_OK;
    }
    learn__tower_buf b;
    if (learn__tower_buf_init(&ctx->alloc, c, keep, &b))
        return LEARN__CFAIL(ctx, LEARN_ERR_NOMEM, "out of memory for a history of %zu items", keep);
    st = learn__tower_rows(ctx, c, &b, content, keep, 0, 0, out);
    if (!st) learn__l2_normalize(out, c->d_out);
    learn__tower_buf_free(&ctx->alloc, &b);
    return st;
}

/* ---- Incremental user state ---- */

struct learn_user_state {
    const learn_model *model;
    learn_allocator alloc;
    uint32_t cap;        /* window: the most recent `cap` items are kept */
    uint32_t len;        /* items in the window */
    uint64_t n_appended; /* items appended since new/reset */
    float *content;      /* [cap][d_in] the window's contents, oldest first */
    float *emb;          /* [d_out] the current embedding */
    learn__tower_buf b;  /* keys/values of the window's positions + scratch for cap rows */
};

learn_status learn_user_state_new(learn_ctx *ctx, uint32_t max_len, learn_user_state **out) {
    if (!ctx) return LEARN_ERR_ARG;
    ctx->err[0] = 0;
    if (!out) return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "out must not be NULL");
    *out = NULL;
    learn_status st = learn__towers_ready(ctx);
    if (st) return st;
    const learn__tower_config *c = &ctx->model->towers;
    uint32_t cap = max_len;
    if (c->max_history && (cap == 0 || cap > c->max_history)) cap = c->max_history;
    if (cap == 0)
        return LEARN__CFAIL(ctx, LEARN_ERR_ARG,
                            "max_len 0: the model sets no tower.max_history, give a window size");
    if (cap > LEARN__TOWER_MAX_SEQ)
        return LEARN__CFAIL(ctx, LEARN_ERR_TOO_LONG, "max_len %u is larger than %u", cap,
                            LEARN__TOWER_MAX_SEQ);
    learn_user_state *s = (learn_user_state *)learn__calloc(&ctx->alloc, 1, sizeof *s);
    if (!s) return LEARN__CFAIL(ctx, LEARN_ERR_NOMEM, "out of memory");
    s->model = ctx->model;
    s->alloc = ctx->alloc;
    s->cap = cap;
    size_t nc;
    int ok = learn__mul_ok(cap, (size_t)c->d_in * sizeof(float), &nc);
    if (ok) {
        s->content = (float *)learn__malloc_aligned(&s->alloc, nc);
        s->emb = (float *)learn__malloc_aligned(&s->alloc, c->d_out * sizeof(float));
        ok = s->content && s->emb;
    }
    if (ok && c->present) ok = learn__tower_buf_init(&s->alloc, c, cap, &s->b) == LEARN_OK;
    if (!ok) {
        learn_user_state_free(s);
        return LEARN__CFAIL(ctx, LEARN_ERR_NOMEM, "out of memory for a user state of %u items",
                            cap);
    }
    *out = s;
    return LEARN_OK;
}

learn_status learn_user_state_append(learn_ctx *ctx, learn_user_state *s, const float *content) {
    if (!ctx) return LEARN_ERR_ARG;
    ctx->err[0] = 0;
    if (!s || !content) return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "state and content must not be NULL");
    if (s->model != ctx->model)
        return LEARN__CFAIL(ctx, LEARN_ERR_MISMATCH,
                            "the user state was made for another model than the context's");
    const learn__tower_config *c = &s->model->towers;
    size_t din = c->d_in, dout = c->d_out;
    learn_status st = learn__check_content(ctx, content, 1, din, "appended item");
    if (st) return st;
    /* Reserve the products' scratch first: once the window changes, nothing may fail. */
    if (c->present &&
        (st = learn__mm_reserve(ctx, LEARN__MAX(LEARN__MAX((size_t)c->d_in, (size_t)c->d_model), (size_t)c->d_ff), s->cap)))
        return st;
    int full = s->len == s->cap;
    if (full) { /* drop the oldest item */
        memmove(s->content, s->content + din, (size_t)(s->cap - 1) * din * sizeof(float));
        s->len--;
    }
    memcpy(s->content + (size_t)s->len * din, content, din * sizeof(float));
    s->len++;
    s->n_appended++;
    if (!c->present) {
        learn__mean_of_normalized(s->content, s->len, din, s->emb);
        return LEARN_OK;
    }
    if (full) /* every position moved: recompute the window (keys and values from scratch) */
        st = learn__tower_rows(ctx, c, &s->b, s->content, s->len, 0, 0, s->emb);
    else /* one new position attending to the cached ones */
        st = learn__tower_rows(ctx, c, &s->b, s->content + (size_t)(s->len - 1) * din, 1,
                               s->len - 1, 0, s->emb);
    if (st) return st; /* not reached: the scratch was reserved above */
    learn__l2_normalize(s->emb, dout);
    return LEARN_OK;
}

learn_status learn_user_state_embedding(const learn_user_state *s, float *out) {
    if (!s || !out) return LEARN_ERR_ARG;
    if (s->len == 0) return LEARN_ERR_STATE;
    memcpy(out, s->emb, s->model->towers.d_out * sizeof(float));
    return LEARN_OK;
}

uint32_t learn_user_state_len(const learn_user_state *s) { return s ? s->len : 0; }

void learn_user_state_reset(learn_user_state *s) {
    if (!s) return;
    s->len = 0;
    s->n_appended = 0;
}

void learn_user_state_free(learn_user_state *s) {
    if (!s) return;
    learn_allocator a = s->alloc;
    learn__free_aligned(&a, s->content);
    learn__free_aligned(&a, s->emb);
    learn__tower_buf_free(&a, &s->b);
    learn__free(&a, s);
}

/* ============================================================================================
   ==== Catalog & top-K ====
   Catalogs (learn.h, "Catalogs" in the format): opening one checks its schema and shard
   record; lookups by id use the sorted index in place; top-K scans the item embeddings with
   a bounded heap per thread (one query) or scores 8 queries per pass over the items (many);
   builders write catalogs through a learn_writer.
   ============================================================================================ */

struct learn_catalog {
    learn_model *file;     /* the container */
    uint32_t n, d_content, d_item;
    uint64_t fp_content, fp_towers;
    const uint8_t *ids;
    const int32_t *id_off, *id_index;
    const uint16_t *content; /* f16 bits */
    const float *item;
    int is_shard;
    learn_catalog_shard shard;
};

learn_status learn_catalog_shard_range(uint64_t n_source, uint32_t index, uint32_t count,
                                       uint64_t *lo, uint64_t *hi) {
    if (!lo || !hi || count == 0 || index >= count || n_source > (uint64_t)INT32_MAX)
        return LEARN_ERR_ARG;
    *lo = n_source * index / count; /* n_source <= 2^31, index < 2^32: no overflow */
    *hi = n_source * (index + (uint64_t)1) / count;
    return LEARN_OK;
}

/* Checks a shard record against the ranges of learn_catalog_shard and, unless n_items is
   UINT64_MAX, the part's size; the message names the field. */
static learn_status learn__shard_check(const learn_catalog_shard *s, uint64_t n_items,
                                       learn_status st, char *err, size_t errn) {
    if (s->count < 1 || s->count > (1u << 20) || s->index >= s->count)
        return learn__fail(err, errn, st, "shard index %u of count %u: the count must be "
                           "1..%u and the index below it", s->index, s->count, 1u << 20);
    if (s->n_source < s->count || s->n_source > (uint64_t)INT32_MAX - 1)
        return learn__fail(err, errn, st, "shard %u/%u: a list of %llu items cannot be split "
                           "into %u parts (%u .. %d items)", s->index, s->count,
                           (unsigned long long)s->n_source, s->count, s->count, INT32_MAX - 1);
    if (!isfinite(s->t_start) || !isfinite(s->t_end) || s->t_start < 0 || s->t_end < s->t_start)
        return learn__fail(err, errn, st, "shard %u/%u: times %g .. %g are not 0 <= start <= "
                           "end", s->index, s->count, s->t_start, s->t_end);
    uint64_t lo, hi;
    learn_catalog_shard_range(s->n_source, s->index, s->count, &lo, &hi);
    if (n_items != UINT64_MAX && n_items != hi - lo)
        return learn__fail(err, errn, st == LEARN_ERR_ARG ? LEARN_ERR_STATE : st,
                           "shard %u/%u of %llu items holds items %llu..%llu (%llu), not %llu",
                           s->index, s->count, (unsigned long long)s->n_source,
                           (unsigned long long)lo, (unsigned long long)hi - 1,
                           (unsigned long long)(hi - lo), (unsigned long long)n_items);
    return LEARN_OK;
}

/* Reads the optional shard record (catalog.shard.*): all of its keys or none. */
static learn_status learn__catalog_shard_read(learn_catalog *c, char *err, size_t errn) {
    static const char *const keys[6] = {"catalog.shard.index", "catalog.shard.count",
                                        "catalog.shard.n_source", "catalog.shard.source",
                                        "catalog.shard.t_start", "catalog.shard.t_end"};
    static const learn_meta_type types[6] = {LEARN_META_TYPE_U32, LEARN_META_TYPE_U32, LEARN_META_TYPE_U64,
                                             LEARN_META_TYPE_U64, LEARN_META_TYPE_F64, LEARN_META_TYPE_F64};
    const learn__meta *e[6];
    int present = 0;
    for (int k = 0; k < 6; k++) present += (e[k] = learn__meta_lookup(c->file, keys[k])) != NULL;
    if (!present) return LEARN_OK;
    for (int k = 0; k < 6; k++)
        if (!e[k] || e[k]->type != types[k])
            return learn__fail(err, errn, LEARN_ERR_FORMAT, "catalog: shard metadata '%s' %s "
                               "(a shard needs all of catalog.shard.*, with their types)",
                               keys[k], e[k] ? "has the wrong type" : "is missing");
    learn_catalog_shard *s = &c->shard;
    s->index = learn__rd32(e[0]->value);
    s->count = learn__rd32(e[1]->value);
    s->n_source = learn__rd64(e[2]->value);
    s->source_fingerprint = learn__rd64(e[3]->value);
    uint64_t t0 = learn__rd64(e[4]->value), t1 = learn__rd64(e[5]->value);
    memcpy(&s->t_start, &t0, 8);
    memcpy(&s->t_end, &t1, 8);
    char inner[LEARN_ERRMSG_SIZE];
    if (learn__shard_check(s, c->n, LEARN_ERR_FORMAT, inner, sizeof inner))
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "catalog: %s", inner);
    c->is_shard = 1;
    return LEARN_OK;
}

/* Bytewise order of ids a and b (shorter first on a common prefix). */
static int learn__id_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
    int c = memcmp(a, b, LEARN__MIN(an, bn));
    return c ? c : (an > bn) - (an < bn);
}

/* Finds a tensor of the catalog schema with the given type and shape ([d0] or [d0, d1]). */
static learn_status learn__cat_tensor(const learn_model *m, const char *name, learn_type type,
                                      uint64_t d0, uint64_t d1, const void **data, char *err,
                                      size_t errn) {
    const learn__tensor *t = learn__tensor_lookup(m, name);
    if (!t) return learn__fail(err, errn, LEARN_ERR_FORMAT, "catalog: tensor '%s' is missing", name);
    int ok = t->type == type &&
             (d1 ? (t->n_dims == 2 && t->shape[0] == d0 && t->shape[1] == d1)
                 : (t->n_dims == 1 && (d0 == 0 || t->shape[0] == d0)));
    if (!ok) {
        char have[128];
        learn__shape_str(t, have, sizeof have);
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "catalog: tensor '%s' is %s %s; expected %s [%llu%s%llu]", name,
                           learn_type_name(t->type), have, learn_type_name(type),
                           (unsigned long long)d0, d1 ? ", " : "", (unsigned long long)d1);
    }
    *data = t->data;
    return LEARN_OK;
}

/* Validates the catalog schema of an opened container. */
static learn_status learn__catalog_check(learn_catalog *c, char *err, size_t errn) {
    const learn_model *m = c->file;
    uint32_t version = 0;
    learn_status st;
    if (!learn__meta_lookup(m, "catalog.version"))
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "not a catalog: metadata 'catalog.version' is missing");
    if ((st = learn__meta_u32_req(m, "catalog.version", 1, UINT32_MAX, 1, &version, err, errn)))
        return st;
    if (version != 1)
        return learn__fail(err, errn, LEARN_ERR_VERSION,
                           "catalog version %u is not supported (1)", version);
    if ((st = learn__meta_u32_req(m, "catalog.n_items", 1, INT32_MAX - 1, 1, &c->n, err, errn)) ||
        (st = learn__meta_u32_req(m, "catalog.d_content", 1, 1u << 16, 1, &c->d_content, err, errn)) ||
        (st = learn__meta_u32_req(m, "catalog.d_item", 1, 1u << 16, 1, &c->d_item, err, errn)))
        return st;
    const learn__meta *fc = learn__meta_lookup(m, "catalog.fingerprint.content");
    const learn__meta *ft = learn__meta_lookup(m, "catalog.fingerprint.towers");
    if (!fc || fc->type != LEARN_META_TYPE_U64 || !ft || ft->type != LEARN_META_TYPE_U64)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "catalog: metadata 'catalog.fingerprint.content' and "
                           "'catalog.fingerprint.towers' must be u64");
    c->fp_content = learn__rd64(fc->value);
    c->fp_towers = learn__rd64(ft->value);
    if ((st = learn__catalog_shard_read(c, err, errn))) return st;
    const void *p;
    const learn__tensor *ids = learn__tensor_lookup(m, "catalog.ids");
    uint64_t id_bytes = ids ? ids->shape[0] : 0;
    if ((st = learn__cat_tensor(m, "catalog.ids", LEARN_TYPE_U8, 0, 0, &p, err, errn))) return st;
    c->ids = (const uint8_t *)p;
    if ((st = learn__cat_tensor(m, "catalog.id_offsets", LEARN_TYPE_I32, (uint64_t)c->n + 1, 0, &p,
                                err, errn)))
        return st;
    c->id_off = (const int32_t *)p;
    if ((st = learn__cat_tensor(m, "catalog.id_index", LEARN_TYPE_I32, c->n, 0, &p, err, errn)))
        return st;
    c->id_index = (const int32_t *)p;
    if ((st = learn__cat_tensor(m, "catalog.content", LEARN_TYPE_F16, c->n, c->d_content, &p, err,
                                errn)))
        return st;
    c->content = (const uint16_t *)p;
    if ((st = learn__cat_tensor(m, "catalog.item", LEARN_TYPE_F32, c->n, c->d_item, &p, err, errn)))
        return st;
    c->item = (const float *)p;
    /* Offsets: from 0 to the blob's end, each id non-empty, no control characters. */
    if (c->id_off[0] != 0 || (uint64_t)c->id_off[c->n] != id_bytes)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "catalog: id offsets must run from 0 to %llu",
                           (unsigned long long)id_bytes);
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->id_off[i + 1] <= c->id_off[i])
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "catalog: item %u has an empty id or decreasing offsets", i);
        for (int32_t k = c->id_off[i]; k < c->id_off[i + 1]; k++)
            if (c->ids[k] < 0x20 || c->ids[k] == 0x7f)
                return learn__fail(err, errn, LEARN_ERR_FORMAT,
                                   "catalog: id of item %u holds control byte 0x%02x", i,
                                   c->ids[k]);
    }
    /* The index: a permutation, strictly increasing by id (so ids are unique). */
    uint8_t *seen = (uint8_t *)learn__calloc(&m->alloc, c->n, 1);
    if (!seen) return LEARN_ERR_NOMEM;
    st = LEARN_OK;
    for (uint32_t k = 0; k < c->n && !st; k++) {
        int32_t i = c->id_index[k];
        if (i < 0 || (uint32_t)i >= c->n || seen[i]) {
            st = learn__fail(err, errn, LEARN_ERR_FORMAT,
                             "catalog: id index entry %u (%d) is not a permutation of 0..%u", k, i,
                             c->n - 1);
            break;
        }
        seen[i] = 1;
        if (k) {
            int32_t j = c->id_index[k - 1];
            int cmp = learn__id_cmp(c->ids + c->id_off[j], (size_t)(c->id_off[j + 1] - c->id_off[j]),
                                    c->ids + c->id_off[i], (size_t)(c->id_off[i + 1] - c->id_off[i]));
            if (cmp == 0)
                st = learn__fail(err, errn, LEARN_ERR_FORMAT,
                                 "catalog: id '%.*s' appears twice (items %d and %d)",
                                 (int)LEARN__MIN(c->id_off[i + 1] - c->id_off[i], 60),
                                 (const char *)c->ids + c->id_off[i], j, i);
            else if (cmp > 0)
                st = learn__fail(err, errn, LEARN_ERR_FORMAT,
                                 "catalog: id index is not sorted at entry %u", k);
        }
    }
    learn__free(&m->alloc, seen);
    if (st) return st;
    /* Item embeddings are scored directly: they must be finite. */
    for (uint64_t k = 0; k < (uint64_t)c->n * c->d_item; k++) {
        uint32_t bits;
        memcpy(&bits, c->item + k, 4);
        if (!learn__f32_bits_finite(bits))
            return learn__fail(err, errn, LEARN_ERR_NUMERIC,
                               "catalog: item %llu's embedding holds NaN or Inf",
                               (unsigned long long)(k / c->d_item));
    }
    return LEARN_OK;
}

static learn_status learn__catalog_wrap(learn_model *file, learn_catalog **cat, char *err,
                                        size_t errn) {
    learn_catalog *c = (learn_catalog *)learn__calloc(&file->alloc, 1, sizeof *c);
    if (!c) {
        learn_model_close(file);
        return learn__fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    }
    c->file = file;
    learn_status st = learn__catalog_check(c, err, errn);
    if (st == LEARN_ERR_NOMEM) learn__fail(err, errn, st, "out of memory");
    if (st) {
        learn_catalog_close(c);
        return st;
    }
    *cat = c;
    return LEARN_OK;
}

void learn_catalog_close(learn_catalog *cat) {
    if (!cat) return;
    learn_model *file = cat->file;
    learn_allocator a = file->alloc;
    learn__free(&a, cat);
    learn_model_close(file);
}

learn_status learn_catalog_open_memory(const void *data, size_t size,
                                       const learn_model_params *params, learn_catalog **cat,
                                       char *errbuf, size_t errbuf_size) {
    if (cat) *cat = NULL;
    if (!cat) return learn__fail(errbuf, errbuf_size, LEARN_ERR_ARG, "cat must not be NULL");
    learn_model *file;
    learn_status st = learn_model_open_memory(data, size, params, &file, errbuf, errbuf_size);
    if (st) return st;
    return learn__catalog_wrap(file, cat, errbuf, errbuf_size);
}

#ifndef LEARN_NO_STDIO
learn_status learn_catalog_open(const char *path, const learn_model_params *params,
                                learn_catalog **cat, char *errbuf, size_t errbuf_size) {
    if (cat) *cat = NULL;
    if (!cat || !path) return learn__fail(errbuf, errbuf_size, LEARN_ERR_ARG, "NULL argument");
    learn_model *file;
    learn_status st = learn_model_open(path, params, &file, errbuf, errbuf_size);
    if (st) return st;
    char inner[LEARN_ERRMSG_SIZE];
    st = learn__catalog_wrap(file, cat, inner, sizeof inner);
    if (st) return learn__fail(errbuf, errbuf_size, st, "%s: %s", path, inner);
    return LEARN_OK;
}
#endif

learn_status learn_catalog_get_info(const learn_catalog *cat, learn_catalog_info *info) {
    if (!cat || !info) return LEARN_ERR_ARG;
    info->n_items = cat->n;
    info->d_content = cat->d_content;
    info->d_item = cat->d_item;
    info->content_fingerprint = cat->fp_content;
    info->tower_fingerprint = cat->fp_towers;
    return LEARN_OK;
}

learn_status learn_catalog_get_shard(const learn_catalog *cat, learn_catalog_shard *shard) {
    if (!cat || !shard) return LEARN_ERR_ARG;
    if (!cat->is_shard) return LEARN_ERR_NOT_FOUND;
    *shard = cat->shard;
    return LEARN_OK;
}

learn_status learn_catalog_check_model(const learn_catalog *cat, const learn_model *model,
                                       int *same_towers, char *errbuf, size_t errbuf_size) {
    if (!cat || !model) return learn__fail(errbuf, errbuf_size, LEARN_ERR_ARG, "NULL argument");
    if (cat->fp_content != model->fp_content)
        return learn__fail(errbuf, errbuf_size, LEARN_ERR_MISMATCH,
                           "the catalog was made by another model: its content fingerprint is "
                           "%016llx, the model's %016llx",
                           (unsigned long long)cat->fp_content,
                           (unsigned long long)model->fp_content);
    if (model->llm.present && cat->d_content != model->llm.n_embd)
        return learn__fail(errbuf, errbuf_size, LEARN_ERR_MISMATCH,
                           "the catalog's content dimension is %u, the model's %u",
                           cat->d_content, model->llm.n_embd);
    if (same_towers) *same_towers = cat->fp_towers == model->fp_towers;
    return LEARN_OK;
}

learn_status learn_catalog_find(const learn_catalog *cat, const char *id, size_t len,
                                uint32_t *index) {
    if (!cat || !id || !index) return LEARN_ERR_ARG;
    uint32_t lo = 0, hi = cat->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int32_t i = cat->id_index[mid];
        int c = learn__id_cmp(cat->ids + cat->id_off[i], (size_t)(cat->id_off[i + 1] - cat->id_off[i]),
                              (const uint8_t *)id, len);
        if (c == 0) {
            *index = (uint32_t)i;
            return LEARN_OK;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return LEARN_ERR_NOT_FOUND;
}

learn_status learn_catalog_id(const learn_catalog *cat, uint32_t index, const char **id,
                              size_t *len) {
    if (!cat || !id || index >= cat->n) return LEARN_ERR_ARG;
    *id = (const char *)cat->ids + cat->id_off[index];
    if (len) *len = (size_t)(cat->id_off[index + 1] - cat->id_off[index]);
    return LEARN_OK;
}

learn_status learn_catalog_content(const learn_catalog *cat, uint32_t index, float *out) {
    if (!cat || !out || index >= cat->n) return LEARN_ERR_ARG;
    const uint16_t *row = cat->content + (size_t)index * cat->d_content;
    for (uint32_t e = 0; e < cat->d_content; e++) out[e] = learn_f16_to_f32(row[e]);
    return LEARN_OK;
}

const float *learn_catalog_items(const learn_catalog *cat) { return cat ? cat->item : NULL; }

/* ---- Top-K: a bounded heap per thread over (score, index), merged; deterministic order:
   higher score first, then lower catalog index. ---- */

/* True when hit a ranks after hit b. */
static int learn__hit_worse(const learn_hit *a, const learn_hit *b) {
    return a->score < b->score || (a->score == b->score && a->index > b->index);
}

/* Min-heap of the k best so far: the root is the worst kept hit. */
static void learn__heap_sift_down(learn_hit *h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && learn__hit_worse(&h[l], &h[w])) w = l;
        if (r < n && learn__hit_worse(&h[r], &h[w])) w = r;
        if (w == i) return;
        learn_hit t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}
static void learn__heap_push(learn_hit *h, size_t *n, size_t k, learn_hit x) {
    if (*n < k) {
        size_t i = (*n)++;
        h[i] = x;
        while (i && learn__hit_worse(&h[i], &h[(i - 1) / 2])) {
            learn_hit t = h[i];
            h[i] = h[(i - 1) / 2];
            h[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
    } else if (learn__hit_worse(&h[0], &x)) {
        h[0] = x;
        learn__heap_sift_down(h, *n, 0);
    }
}

static int learn__hit_cmp_best_first(const void *a, const void *b) {
    const learn_hit *x = (const learn_hit *)a, *y = (const learn_hit *)b;
    return learn__hit_worse(x, y) ? 1 : learn__hit_worse(y, x) ? -1 : 0;
}

static int learn__u32_cmp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int learn__sorted_has(const uint32_t *s, size_t n, uint32_t v) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid] == v) return 1;
        if (s[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

/* Item i with its score into a heap of at most k hits, unless it is excluded (excl: sorted)
   or no better than the heap's worst. */
LEARN__INLINE void learn__topk_offer(learn_hit *heap, size_t *n, size_t k, const uint32_t *excl,
                              size_t n_excl, uint32_t i, float score) {
    learn_hit h = {i, score};
    if (h.score != h.score) h.score = -INFINITY; /* inf - inf from overflowing products */
    if (*n == k && !learn__hit_worse(&heap[0], &h)) return;
    if (n_excl && learn__sorted_has(excl, n_excl, i)) return;
    learn__heap_push(heap, n, k, h);
}

/* Scans items [lo, hi) into a heap of at most k hits. */
static void learn__topk_range(const learn_catalog *cat, const float *q, uint32_t lo, uint32_t hi,
                              const uint32_t *excl, size_t n_excl, learn_hit *heap, size_t *n,
                              size_t k) {
    size_t d = cat->d_item;
    for (uint32_t i = lo; i < hi; i++)
        learn__topk_offer(heap, n, k, excl, n_excl, i, learn__score_f32(q, cat->item + (size_t)i * d, d));
}

/* The scan split over the context's threads: each range fills its own heap of k hits, and the
   heaps are merged. Hits are totally ordered (score, then index), so the result is the same
   for any split. */
typedef struct learn__topk_job {
    const learn_catalog *cat;
    const float *q;
    const uint32_t *excl;
    size_t n_excl, k;
    learn_hit *heaps; /* [threads][k] */
    size_t *counts;   /* [threads] */
} learn__topk_job;

static void learn__topk_part(void *arg, size_t lo, size_t hi, int ith) {
    const learn__topk_job *j = (const learn__topk_job *)arg;
    learn__topk_range(j->cat, j->q, (uint32_t)lo, (uint32_t)hi, j->excl, j->n_excl,
                      j->heaps + (size_t)ith * j->k, &j->counts[ith], j->k);
}

#define LEARN__TOPK_PAR_MIN 8192 /* items per thread below which one thread scans alone */

learn_status learn_catalog_topk(learn_ctx *ctx, const learn_catalog *cat, const float *query,
                                uint32_t k, const uint32_t *exclude, size_t n_exclude,
                                learn_hit *out, size_t *n_out) {
    if (!ctx) return LEARN_ERR_ARG;
    ctx->err[0] = 0;
    if (n_out) *n_out = 0;
    if (!cat || !query || !out || !n_out || (n_exclude && !exclude))
        return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "NULL argument");
    if (k == 0) return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "k must be at least 1");
    for (uint32_t e = 0; e < cat->d_item; e++)
        if (!isfinite(query[e]))
            return LEARN__CFAIL(ctx, LEARN_ERR_NUMERIC, "query element %u is NaN or Inf", e);
    size_t kk = LEARN__MIN((size_t)k, (size_t)cat->n);
    uint32_t *excl = NULL;
    if (n_exclude) {
        excl = (uint32_t *)learn__malloc(&ctx->alloc, n_exclude * sizeof *excl);
        if (!excl) return LEARN__CFAIL(ctx, LEARN_ERR_NOMEM, "out of memory");
        memcpy(excl, exclude, n_exclude * sizeof *excl);
        qsort(excl, n_exclude, sizeof *excl, learn__u32_cmp);
    }
    size_t n = 0, nth = (size_t)learn__pool_n_threads(ctx->pool);
    learn_hit *heaps = NULL;
    size_t *counts = NULL;
    if (nth > 1 && cat->n >= LEARN__TOPK_PAR_MIN * 2) {
        size_t hb;
        if (learn__mul_ok(nth * sizeof(learn_hit), kk, &hb))
            heaps = (learn_hit *)learn__malloc(&ctx->alloc, hb);
        counts = (size_t *)learn__calloc(&ctx->alloc, nth, sizeof *counts);
        if (!heaps || !counts) { /* scan on one thread instead */
            learn__free(&ctx->alloc, heaps);
            learn__free(&ctx->alloc, counts);
            heaps = NULL, counts = NULL;
        }
    }
    if (heaps) {
        learn__topk_job j = {cat, query, excl, n_exclude, kk, heaps, counts};
        learn__parallel(ctx, cat->n, learn__topk_part, &j);
        for (size_t t = 0; t < nth; t++)
            for (size_t i = 0; i < counts[t]; i++) learn__heap_push(out, &n, kk, heaps[t * kk + i]);
        learn__free(&ctx->alloc, heaps);
        learn__free(&ctx->alloc, counts);
    } else {
        learn__topk_range(cat, query, 0, cat->n, excl, n_exclude, out, &n, kk);
    }
    qsort(out, n, sizeof *out, learn__hit_cmp_best_first);
    *n_out = n;
    learn__free(&ctx->alloc, excl);
    return LEARN_OK;
}

/* ---- Top-K for many queries ----

   learn_catalog_topk reads the whole catalog for every query, which is memory-bound for large
   catalogs. The batched scan reads each item once per block of LEARN__TOPK_QB queries and
   scores it against all of them in registers, with the level's scores8 kernel: each score is
   exactly learn__score_f32's, so the hits are those of a call per query. */

#define LEARN__TOPK_ROWS 128 /* items scored per block before their hits are kept */
#define LEARN__TOPK_L2 (192 << 10) /* bytes of items that every block scans in turn */

typedef struct learn__topkb_job {
    const learn_catalog *cat;
    learn__scores8_fn scores8;
    const float *queries;
    size_t nq, k, ldo; /* k: hits kept (at most the catalog's size); ldo: hits per out row */
    const uint32_t *const *excl; /* sorted copies, per query (NULL: none) */
    const size_t *n_excl;
    const float *tail; /* the short last block, padded with its first query (NULL: none) */
    learn_hit *out; /* nq rows of k: heaps while scanning */
    size_t *n_out;
} learn__topkb_job;

/* Blocks [lo, hi) of LEARN__TOPK_QB queries over the whole catalog. A short last block is read
   from a copy padded with its first query (scored, never kept). */
static void learn__topkb_part(void *arg, size_t lo, size_t hi, int ith) {
    (void)ith;
    const learn__topkb_job *j = (const learn__topkb_job *)arg;
    const learn_catalog *cat = j->cat;
    const size_t d = cat->d_item;
    float s[LEARN__TOPK_ROWS * LEARN__TOPK_QB];
    /* Chunks of items that stay in L2 while every block of queries scans them: the catalog
       comes from memory once per call, not once per block. */
    const uint32_t chunk = (uint32_t)LEARN__MAX((size_t)LEARN__TOPK_ROWS,
                                                ((size_t)LEARN__TOPK_L2 / (d * sizeof(float))) /
                                                    LEARN__TOPK_ROWS * LEARN__TOPK_ROWS);
    for (uint32_t c0 = 0; c0 < cat->n; c0 += chunk) {
        const uint32_t c1 = cat->n - c0 < chunk ? cat->n : c0 + chunk;
        for (size_t blk = lo; blk < hi; blk++) {
            const size_t q0 = blk * LEARN__TOPK_QB;
            const size_t nb = LEARN__MIN(j->nq - q0, (size_t)LEARN__TOPK_QB);
            const float *qrows = nb < LEARN__TOPK_QB ? j->tail : j->queries + q0 * d;
            for (uint32_t i0 = c0; i0 < c1; i0 += LEARN__TOPK_ROWS) {
                const uint32_t m = LEARN__MIN(c1 - i0, (uint32_t)LEARN__TOPK_ROWS);
                j->scores8(qrows, d, cat->item + (size_t)i0 * d, d, m, s);
                for (size_t r = 0; r < nb; r++) {
                    const size_t qi = q0 + r, k = j->k;
                    learn_hit *heap = j->out + qi * j->ldo;
                    size_t n = j->n_out[qi];
                    const uint32_t *ex = j->excl ? j->excl[qi] : NULL;
                    const size_t nex = j->n_excl ? j->n_excl[qi] : 0;
                    for (uint32_t i = 0; i < m; i++)
                        learn__topk_offer(heap, &n, k, ex, nex, i0 + i, s[(size_t)i * LEARN__TOPK_QB + r]);
                    j->n_out[qi] = n;
                }
            }
        }
    }
}

learn_status learn_catalog_topk_batch(learn_ctx *ctx, const learn_catalog *cat,
                                      const float *queries, size_t n_queries, uint32_t k,
                                      const uint32_t *const *exclude, const size_t *n_exclude,
                                      learn_hit *out, size_t *n_out) {
    if (!ctx) return LEARN_ERR_ARG;
    ctx->err[0] = 0;
    if (n_out)
        for (size_t q = 0; q < n_queries; q++) n_out[q] = 0;
    if (!cat || !out || !n_out || (n_queries && !queries) || (exclude && !n_exclude))
        return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "NULL argument");
    if (k == 0) return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "k must be at least 1");
    const size_t d = cat->d_item;
    size_t n_excl = 0;
    for (size_t q = 0; q < n_queries; q++) {
        for (size_t e = 0; e < d; e++)
            if (!isfinite(queries[q * d + e]))
                return LEARN__CFAIL(ctx, LEARN_ERR_NUMERIC, "query %zu: element %zu is NaN or Inf",
                                    q, e);
        if (exclude && n_exclude[q]) {
            if (!exclude[q])
                return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "query %zu: %zu exclusions but no list",
                                    q, n_exclude[q]);
            if (n_exclude[q] > SIZE_MAX / sizeof(uint32_t) - n_excl)
                return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "too many exclusions");
            n_excl += n_exclude[q];
        }
    }
    if (n_queries == 0 || cat->n == 0) return LEARN_OK;
    const size_t nth = (size_t)learn__pool_n_threads(ctx->pool);
    const size_t n_blocks = (n_queries + LEARN__TOPK_QB - 1) / LEARN__TOPK_QB;
    if (n_blocks < nth && cat->n >= LEARN__TOPK_PAR_MIN * 2) {
        /* Too few blocks to busy every thread: a call per query splits the items instead. */
        for (size_t q = 0; q < n_queries; q++) {
            learn_status st = learn_catalog_topk(ctx, cat, queries + q * d, k,
                                                 exclude ? exclude[q] : NULL,
                                                 exclude ? n_exclude[q] : 0, out + q * k, &n_out[q]);
            if (st != LEARN_OK) {
                for (size_t r = 0; r < n_queries; r++) n_out[r] = 0;
                return st;
            }
        }
        return LEARN_OK;
    }
    /* Sorted copies of the exclusions (one allocation), and the padded last block. */
    const uint32_t **ex = NULL;
    uint32_t *ex_all = NULL;
    float *tail = NULL;
    const size_t nb_last = n_queries % LEARN__TOPK_QB;
    int nomem = 0;
    if (exclude) {
        ex = (const uint32_t **)learn__calloc(&ctx->alloc, n_queries, sizeof *ex);
        ex_all = n_excl ? (uint32_t *)learn__malloc(&ctx->alloc, n_excl * sizeof *ex_all) : NULL;
        nomem = !ex || (n_excl && !ex_all);
    }
    if (!nomem && nb_last) {
        size_t tb;
        nomem = !learn__mul_ok((size_t)LEARN__TOPK_QB * sizeof(float), d, &tb) ||
                !(tail = (float *)learn__malloc(&ctx->alloc, tb));
    }
    if (nomem) {
        learn__free(&ctx->alloc, (void *)ex);
        learn__free(&ctx->alloc, ex_all);
        learn__free(&ctx->alloc, tail);
        return LEARN__CFAIL(ctx, LEARN_ERR_NOMEM, "out of memory");
    }
    if (exclude) {
        uint32_t *p = ex_all;
        for (size_t q = 0; q < n_queries; q++) {
            if (!n_exclude[q]) continue;
            memcpy(p, exclude[q], n_exclude[q] * sizeof *p);
            qsort(p, n_exclude[q], sizeof *p, learn__u32_cmp);
            ex[q] = p;
            p += n_exclude[q];
        }
    }
    if (tail) {
        const float *qb = queries + (n_queries - nb_last) * d;
        for (size_t r = 0; r < LEARN__TOPK_QB; r++)
            memcpy(tail + r * d, qb + (r < nb_last ? r : 0) * d, d * sizeof(float));
    }
    learn__topkb_job j;
    j.cat = cat;
    j.scores8 = ctx->kern->scores8;
    j.queries = queries;
    j.nq = n_queries;
    j.k = LEARN__MIN((size_t)k, (size_t)cat->n);
    j.excl = ex;
    j.n_excl = exclude ? n_exclude : NULL;
    j.tail = tail;
    j.out = out;
    j.n_out = n_out;
    j.ldo = k;
    learn__parallel(ctx, n_blocks, learn__topkb_part, &j);
    for (size_t q = 0; q < n_queries; q++)
        qsort(out + q * k, n_out[q], sizeof *out, learn__hit_cmp_best_first);
    learn__free(&ctx->alloc, (void *)ex);
    learn__free(&ctx->alloc, ex_all);
    learn__free(&ctx->alloc, tail);
    return LEARN_OK;
}

/* ---- Writing catalogs ---- */

struct learn_catalog_builder {
    learn_allocator alloc;
    uint32_t d_content, d_item;
    uint64_t fp_content, fp_towers;
    uint32_t n, cap;
    uint8_t *ids;
    size_t ids_len, ids_cap;
    int32_t *id_off;  /* n + 1 */
    uint16_t *content;
    float *item;
    int is_shard;
    learn_catalog_shard shard;
    char err[LEARN_ERRMSG_SIZE];
};

#define LEARN__BFAIL(b, st, ...) learn__fail((b)->err, sizeof (b)->err, (st), __VA_ARGS__)

/* A builder of the given dimensions whose catalog will carry the given fingerprints. */
static learn_status learn__builder_new(const learn_allocator *alloc, uint32_t d_content,
                                       uint32_t d_item, uint64_t fp_content, uint64_t fp_towers,
                                       learn_catalog_builder **out) {
    if (!out) return LEARN_ERR_ARG;
    *out = NULL;
    if (d_content == 0 || d_item == 0 || d_content > (1u << 16) || d_item > (1u << 16))
        return LEARN_ERR_ARG;
    learn_allocator a;
    learn__alloc_resolve(alloc, &a);
    learn_catalog_builder *b = (learn_catalog_builder *)learn__calloc(&a, 1, sizeof *b);
    if (!b) return LEARN_ERR_NOMEM;
    b->alloc = a;
    b->d_content = d_content;
    b->d_item = d_item;
    b->fp_content = fp_content;
    b->fp_towers = fp_towers;
    b->id_off = (int32_t *)learn__calloc(&b->alloc, 1, sizeof *b->id_off);
    if (!b->id_off) {
        learn__free(&b->alloc, b);
        return LEARN_ERR_NOMEM;
    }
    *out = b;
    return LEARN_OK;
}

learn_status learn_catalog_builder_new(const learn_model *model, uint32_t d_content,
                                       uint32_t d_item, learn_catalog_builder **builder) {
    return learn__builder_new(model ? &model->alloc : NULL, d_content, d_item,
                              model ? model->fp_content : 0, model ? model->fp_towers : 0, builder);
}

learn_status learn_catalog_builder_new_like(const learn_catalog *cat, learn_catalog_builder **builder) {
    if (builder) *builder = NULL;
    if (!cat) return LEARN_ERR_ARG;
    return learn__builder_new(&cat->file->alloc, cat->d_content, cat->d_item, cat->fp_content,
                              cat->fp_towers, builder);
}

void learn_catalog_builder_free(learn_catalog_builder *b) {
    if (!b) return;
    learn_allocator a = b->alloc;
    learn__free(&a, b->ids);
    learn__free(&a, b->id_off);
    learn__free(&a, b->content);
    learn__free(&a, b->item);
    learn__free(&a, b);
}

const char *learn_catalog_builder_errmsg(const learn_catalog_builder *b) {
    return b ? b->err : "builder is NULL";
}

uint32_t learn_catalog_builder_count(const learn_catalog_builder *b) { return b ? b->n : 0; }

learn_status learn_catalog_builder_set_shard(learn_catalog_builder *b,
                                             const learn_catalog_shard *shard) {
    if (!b) return LEARN_ERR_ARG;
    if (!shard) {
        b->is_shard = 0;
        return LEARN_OK;
    }
    learn_status st = learn__shard_check(shard, UINT64_MAX, LEARN_ERR_ARG, b->err, sizeof b->err);
    if (st) return st;
    b->shard = *shard;
    b->is_shard = 1;
    return LEARN_OK;
}

learn_status learn_catalog_builder_add(learn_catalog_builder *b, const char *id, size_t id_len,
                                       const float *content, const float *item) {
    if (!b) return LEARN_ERR_ARG;
    if (!id || !content || !item) return LEARN__BFAIL(b, LEARN_ERR_ARG, "NULL argument");
    if (id_len == 0 || id_len > 4096)
        return LEARN__BFAIL(b, LEARN_ERR_ARG, "item id must be 1..4096 bytes (got %zu)", id_len);
    for (size_t i = 0; i < id_len; i++)
        if ((uint8_t)id[i] < 0x20 || id[i] == 0x7f)
            return LEARN__BFAIL(b, LEARN_ERR_ARG, "item id '%.*s' holds control byte 0x%02x",
                                (int)LEARN__MIN(id_len, 60), id, (uint8_t)id[i]);
    for (uint32_t e = 0; e < b->d_item; e++)
        if (!isfinite(item[e]))
            return LEARN__BFAIL(b, LEARN_ERR_NUMERIC, "item '%.*s': embedding holds NaN or Inf",
                                (int)LEARN__MIN(id_len, 60), id);
    if (b->n >= INT32_MAX - 1 || b->ids_len + id_len > INT32_MAX)
        return LEARN__BFAIL(b, LEARN_ERR_ARG, "catalog is full");
    if (b->n == b->cap) {
        uint32_t nc = b->cap ? b->cap * 2 : 256;
        size_t nb;
        void *p;
        if (!learn__mul_ok(nc, (size_t)b->d_content * 2, &nb) ||
            !(p = learn__realloc(&b->alloc, b->content, nb)))
            return LEARN__BFAIL(b, LEARN_ERR_NOMEM, "out of memory");
        b->content = (uint16_t *)p;
        if (!learn__mul_ok(nc, (size_t)b->d_item * 4, &nb) ||
            !(p = learn__realloc(&b->alloc, b->item, nb)))
            return LEARN__BFAIL(b, LEARN_ERR_NOMEM, "out of memory");
        b->item = (float *)p;
        if (!(p = learn__realloc(&b->alloc, b->id_off, ((size_t)nc + 1) * sizeof *b->id_off)))
            return LEARN__BFAIL(b, LEARN_ERR_NOMEM, "out of memory");
        b->id_off = (int32_t *)p;
        b->cap = nc;
    }
    if (b->ids_len + id_len > b->ids_cap) {
        size_t nc = LEARN__MAX(b->ids_cap * 2, b->ids_len + id_len + 4096);
        void *p = learn__realloc(&b->alloc, b->ids, nc);
        if (!p) return LEARN__BFAIL(b, LEARN_ERR_NOMEM, "out of memory");
        b->ids = (uint8_t *)p;
        b->ids_cap = nc;
    }
    memcpy(b->ids + b->ids_len, id, id_len);
    b->ids_len += id_len;
    for (uint32_t e = 0; e < b->d_content; e++)
        b->content[(size_t)b->n * b->d_content + e] = learn_f32_to_f16(content[e]);
    memcpy(b->item + (size_t)b->n * b->d_item, item, b->d_item * sizeof(float));
    b->n++;
    b->id_off[b->n] = (int32_t)b->ids_len;
    return LEARN_OK;
}

/* Sorting item indices by id for the index (qsort has no context argument). */
typedef struct learn__idref {
    const uint8_t *p;
    size_t n;
    int32_t i;
} learn__idref;

static int learn__idref_cmp(const void *a, const void *b) {
    const learn__idref *x = (const learn__idref *)a, *y = (const learn__idref *)b;
    int c = learn__id_cmp(x->p, x->n, y->p, y->n);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Fills a writer with the catalog (tensors borrowed from the builder; idx must stay alive). */
static learn_status learn__builder_to_writer(learn_catalog_builder *b, learn_writer *w,
                                             int32_t **idx_out) {
    if (b->n == 0) return LEARN__BFAIL(b, LEARN_ERR_STATE, "the catalog is empty");
    learn_status st = LEARN_OK;
    if (b->is_shard && (st = learn__shard_check(&b->shard, b->n, LEARN_ERR_ARG, b->err, sizeof b->err)))
        return st;
    learn__idref *refs = (learn__idref *)learn__calloc(&b->alloc, b->n, sizeof *refs);
    int32_t *idx = (int32_t *)learn__calloc(&b->alloc, b->n, sizeof *idx);
    if (!refs || !idx) {
        learn__free(&b->alloc, refs);
        learn__free(&b->alloc, idx);
        return LEARN__BFAIL(b, LEARN_ERR_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < b->n; i++) {
        refs[i].p = b->ids + b->id_off[i];
        refs[i].n = (size_t)(b->id_off[i + 1] - b->id_off[i]);
        refs[i].i = (int32_t)i;
    }
    qsort(refs, b->n, sizeof *refs, learn__idref_cmp);
    for (uint32_t k = 0; k < b->n; k++) {
        idx[k] = refs[k].i;
        if (k && learn__id_cmp(refs[k - 1].p, refs[k - 1].n, refs[k].p, refs[k].n) == 0) {
            st = LEARN__BFAIL(b, LEARN_ERR_ARG, "item id '%.*s' appears twice (items %d and %d)",
                              (int)LEARN__MIN(refs[k].n, 60), (const char *)refs[k].p,
                              refs[k - 1].i, refs[k].i);
            break;
        }
    }
    learn__free(&b->alloc, refs);
    if (st) {
        learn__free(&b->alloc, idx);
        return st;
    }
    uint64_t s_ids[1] = {b->ids_len}, s_off[1] = {(uint64_t)b->n + 1}, s_idx[1] = {b->n};
    uint64_t s_content[2] = {b->n, b->d_content}, s_item[2] = {b->n, b->d_item};
    if ((st = learn_writer_set_u32(w, "catalog.version", 1)) ||
        (st = learn_writer_set_u32(w, "catalog.n_items", b->n)) ||
        (st = learn_writer_set_u32(w, "catalog.d_content", b->d_content)) ||
        (st = learn_writer_set_u32(w, "catalog.d_item", b->d_item)) ||
        (st = learn_writer_set_u64(w, "catalog.fingerprint.content", b->fp_content)) ||
        (st = learn_writer_set_u64(w, "catalog.fingerprint.towers", b->fp_towers)) ||
        (st = learn_writer_add_tensor(w, "catalog.ids", LEARN_TYPE_U8, 1, s_ids, b->ids, 0)) ||
        (st = learn_writer_add_tensor(w, "catalog.id_offsets", LEARN_TYPE_I32, 1, s_off, b->id_off, 0)) ||
        (st = learn_writer_add_tensor(w, "catalog.id_index", LEARN_TYPE_I32, 1, s_idx, idx, 0)) ||
        (st = learn_writer_add_tensor(w, "catalog.content", LEARN_TYPE_F16, 2, s_content, b->content, 0)) ||
        (st = learn_writer_add_tensor(w, "catalog.item", LEARN_TYPE_F32, 2, s_item, b->item, 0)) ||
        (b->is_shard &&
         ((st = learn_writer_set_u32(w, "catalog.shard.index", b->shard.index)) ||
          (st = learn_writer_set_u32(w, "catalog.shard.count", b->shard.count)) ||
          (st = learn_writer_set_u64(w, "catalog.shard.n_source", b->shard.n_source)) ||
          (st = learn_writer_set_u64(w, "catalog.shard.source", b->shard.source_fingerprint)) ||
          (st = learn_writer_set_f64(w, "catalog.shard.t_start", b->shard.t_start)) ||
          (st = learn_writer_set_f64(w, "catalog.shard.t_end", b->shard.t_end))))) {
        learn__free(&b->alloc, idx);
        return LEARN__BFAIL(b, st, "%s", learn_writer_errmsg(w));
    }
    *idx_out = idx;
    return LEARN_OK;
}

/* Saves to a file (atomically, through io, NULL for POSIX; under `lock` when it is set) or,
   when path and lock are NULL, to memory. */
static learn_status learn__builder_save(learn_catalog_builder *b, const char *path,
                                        const learn__io *io, learn_lock *lock, void **data,
                                        size_t *size) {
    learn_writer *w;
    if (learn_writer_new(&b->alloc, &w)) return LEARN__BFAIL(b, LEARN_ERR_NOMEM, "out of memory");
    int32_t *idx = NULL;
    learn_status st = learn__builder_to_writer(b, w, &idx);
    if (!st) {
#ifndef LEARN_NO_STDIO
        st = lock ? learn_writer_save_locked(w, lock)
             : path ? learn__writer_save(w, path, io) : learn_writer_save_memory(w, data, size);
#else
        (void)io;
        st = path || lock ? LEARN_ERR_UNSUPPORTED : learn_writer_save_memory(w, data, size);
#endif
        if (st) LEARN__BFAIL(b, st, "%s", learn_writer_errmsg(w));
    }
    learn__free(&b->alloc, idx);
    learn_writer_free(w); /* a memory buffer belongs to the builder's allocator: it stays */
    return st;
}

#ifndef LEARN_NO_STDIO
learn_status learn_catalog_builder_save(learn_catalog_builder *b, const char *path) {
    if (!b || !path) return LEARN_ERR_ARG;
    return learn__builder_save(b, path, NULL, NULL, NULL, NULL);
}

learn_status learn_catalog_builder_save_locked(learn_catalog_builder *b, learn_lock *lock) {
    if (!b || !lock) return LEARN_ERR_ARG;
    return learn__builder_save(b, NULL, NULL, lock, NULL, NULL);
}
#endif

learn_status learn_catalog_builder_save_memory(learn_catalog_builder *b, void **data,
                                               size_t *size) {
    if (!b || !data || !size) return LEARN_ERR_ARG;
    return learn__builder_save(b, NULL, NULL, NULL, data, size);
}

void learn_catalog_builder_free_buffer(learn_catalog_builder *b, void *data) {
    if (b) learn__free_aligned(&b->alloc, data);
}

/* ============================================================================================
   ==== Contexts ====
   A context binds a model to the kernels of one ISA level (section Kernels), a thread pool
   (section Thread pool), scratch memory and an error message; it is made last because it uses
   them all. Encoding, tokenizing, the towers and top-K take one.
   ============================================================================================ */

learn_ctx_params learn_ctx_default_params(void) {
    learn_ctx_params p;
    memset(&p, 0, sizeof p);
    p.normalize = -1;
    return p;
}

#ifndef LEARN_NO_THREADS
static int learn__n_cpus(void) {
#if !defined(LEARN_NO_STDIO) && defined(_SC_NPROCESSORS_ONLN)
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
#else
    return 1;
#endif
}
#endif

learn_status learn_ctx_new(const learn_model *model, const learn_ctx_params *params,
                           learn_ctx **ctx) {
    if (!ctx) return LEARN_ERR_ARG;
    *ctx = NULL;
    if (!model) return LEARN_ERR_ARG;
    learn_ctx_params p = params ? *params : learn_ctx_default_params();
    learn_allocator a = model->alloc;
    if (p.allocator.alloc || p.allocator.realloc || p.allocator.free)
        if (learn__alloc_resolve(&p.allocator, &a)) return LEARN_ERR_ARG;
    if (p.n_threads < 0 || p.n_threads > 256 || (unsigned)p.pooling > LEARN_POOLING_NONE ||
        p.batch_tokens > (1u << 20))
        return LEARN_ERR_ARG;
    learn_ctx *c = (learn_ctx *)learn__calloc(&a, 1, sizeof *c);
    if (!c) return LEARN_ERR_NOMEM;
    c->model = model;
    c->alloc = a;
    c->max_text_len = p.max_text_len ? p.max_text_len : LEARN_DEFAULT_MAX_TEXT;
    const learn__llm_config *lc = &model->llm;
    c->pooling = p.pooling ? p.pooling : (lc->present ? lc->pooling : LEARN_POOLING_MEAN);
    c->normalize = p.normalize < 0 ? (lc->present ? lc->normalize : 1) : p.normalize != 0;
    c->batch_tokens = p.batch_tokens ? p.batch_tokens : 512;
    if (lc->present && c->batch_tokens < lc->max_tokens) c->batch_tokens = lc->max_tokens;
#ifdef LEARN_NO_THREADS
    c->n_threads = 1;
#else
    c->n_threads = p.n_threads ? p.n_threads : learn__n_cpus();
#endif
    learn__isa isa;
    learn_status st = learn__isa_select(p.isa, &isa, NULL, 0); /* learn_isa_check says why */
    if (!st) st = learn__pool_new(&c->alloc, c->n_threads, &c->pool);
    if (st) {
        learn__free(&a, c);
        return st;
    }
    c->kern = learn__kernels_for(isa);
    *ctx = c;
    return LEARN_OK;
}

void learn_ctx_free(learn_ctx *ctx) {
    if (!ctx) return;
    learn_allocator a = ctx->alloc;
    learn__scratch_free(ctx);
    learn__free_aligned(&a, ctx->mm);
    learn__pool_free(ctx->pool);
    learn__free(&a, ctx);
}

const char *learn_ctx_errmsg(const learn_ctx *ctx) { return ctx ? ctx->err : "context is NULL"; }

int learn_ctx_n_threads(const learn_ctx *ctx) { return ctx ? ctx->n_threads : 0; }

const learn_model *learn_ctx_model(const learn_ctx *ctx) { return ctx ? ctx->model : NULL; }

const char *learn_ctx_isa(const learn_ctx *ctx) { return ctx ? learn__isa_name(ctx->kern->isa) : ""; }

learn_status learn_isa_check(const char *isa, char *errbuf, size_t errbuf_size) {
    learn__isa level;
    char msg[256];
    learn_status st = learn__isa_select(isa, &level, msg, sizeof msg);
    if (st) return learn__fail(errbuf, errbuf_size, st, "%s", msg);
    if (errbuf && errbuf_size) snprintf(errbuf, errbuf_size, "%s", learn__isa_name(level));
    return LEARN_OK;
}
