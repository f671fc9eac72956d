/* learn.c - the learn runtime in one translation unit. The manual is at the top of learn.h.

   Sections, in data-flow order (grep for the banners):
     ==== Platform & allocation ====
     ==== Errors ====
     ==== File format ====
     ==== LLM configuration ====
     ==== Public API ====
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
#include <stdio.h> /* vsnprintf only, unless file I/O is built */
#include <stdlib.h>
#include <string.h>

#ifndef LEARN_NO_STDIO
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#endif

#ifndef LEARN_NO_THREADS
#include <pthread.h>
#endif

/* ============================================================================================
   ==== Platform & allocation ====
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

static void *learn__malloc(const learn_allocator *a, size_t n) { return a->alloc(a->user, n); }
static void *learn__realloc(const learn_allocator *a, void *p, size_t n) {
    return a->realloc(a->user, p, n);
}
static void learn__free(const learn_allocator *a, void *p) {
    if (p) a->free(a->user, p);
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

float learn_f16_to_f32(uint16_t h) {
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

uint16_t learn_f32_to_f16(float f) {
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

/* ============================================================================================
   ==== Errors ====
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
   ==== File format ====
   Reader: learn__model_parse validates the header, checksum, metadata, directory and layout
   (RELIABILITY.md A.1-A.6), then learn__llm_check the architecture (A.7).
   ============================================================================================ */

static const char learn__magic[8] = {'L', 'E', 'A', 'R', 'N', 'M', 'D', 'L'};
#define LEARN__HEADER_SIZE 64
#define LEARN__TRAILER_SIZE 8

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
uint32_t learn_type_block_bytes(learn_type type) {
    return (unsigned)type < LEARN_TYPE_COUNT ? learn__types[type].block_bytes : 0;
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

static const char *const learn__meta_names[] = {NULL,   "u32", "i32",  "u64", "i64",
                                                "f32",  "f64", "bool", "str", "arr"};

const char *learn_meta_type_name(learn_meta_type type) {
    return (type >= LEARN_META_U32 && type <= LEARN_META_ARR) ? learn__meta_names[type] : NULL;
}

/* Encoded size of a scalar metadata value; 0 for STR/ARR/unknown. */
static uint32_t learn__meta_scalar_size(uint32_t type) {
    switch (type) {
    case LEARN_META_U32: case LEARN_META_I32: case LEARN_META_F32: return 4;
    case LEARN_META_U64: case LEARN_META_I64: case LEARN_META_F64: return 8;
    case LEARN_META_BOOL: return 1;
    default: return 0;
    }
}

typedef struct learn__meta {
    const char *key;        /* NUL-terminated copy (keys are not NUL-terminated in files) */
    learn_meta_type type;
    learn_meta_type elem;   /* arrays */
    uint64_t count;         /* array length; string length; 1 for scalars */
    const uint8_t *value;   /* start of the encoded value (after the type id) */
} learn__meta;

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

/* How texts become content embeddings (metadata `encoder.*`, see the LLM configuration). */
typedef enum learn__pool { LEARN__POOL_MEAN = 1, LEARN__POOL_LAST = 2, LEARN__POOL_NONE = 3 } learn__pool;

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
    learn__pool pooling;
    int normalize;
    uint32_t max_tokens;
    const char *template_str; /* in place; "{text}" by default */
} learn__llm_config;

/* Tower types: paste into learn.c's File format section, after learn__llm_config (struct
   learn_model gets a member `learn__tower_config towers;` after `llm`). */

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
    learn__tower_layer *layers; /* n_layer entries (model allocator; freed with the model) */
} learn__tower_config;


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
};

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
        if (type == LEARN_META_BOOL && c->base[c->pos] > 1)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata '%s': bool value %u is not 0 or 1", what,
                               c->base[c->pos]);
        c->pos += sz;
        *count = 1;
        return LEARN_OK;
    }
    if (type == LEARN_META_STR) {
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
    if (type == LEARN_META_ARR) {
        if (!learn__cur_has(c, 12))
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata '%s': array header runs past the end", what);
        uint32_t elem = learn__cur_u32(c);
        uint64_t n = learn__cur_u64(c);
        if (elem < LEARN_META_U32 || elem >= LEARN_META_ARR)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata '%s': array element type %u is not valid (1..8)", what,
                               elem);
        uint64_t min = elem == LEARN_META_STR ? 9 : learn__meta_scalar_size(elem);
        if (n > (c->end - c->pos) / min)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata '%s': array count %llu needs more than the %llu bytes "
                               "left",
                               what, (unsigned long long)n, (unsigned long long)(c->end - c->pos));
        if (elem == LEARN_META_STR) {
            for (uint64_t i = 0; i < n; i++) {
                uint64_t dummy;
                learn_status st = learn__meta_skip_value(c, elem, what, &dummy, err, errn);
                if (st) return st;
            }
        } else if (elem == LEARN_META_BOOL) {
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
        if (type == LEARN_META_ARR && learn__cur_has(&c, 4))
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

static learn_status learn__llm_check(learn_model *m, char *err, size_t errn);
static learn_status learn__towers_check(learn_model *m, char *err, size_t errn);

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
    if (fc && fc->type == LEARN_META_U64) m->fp_content = learn__rd64(fc->value);
    if (ft && ft->type == LEARN_META_U64) m->fp_towers = learn__rd64(ft->value);
    if ((st = learn__llm_check(m, err, errn))) return st;
    return learn__towers_check(m, err, errn);
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

learn_status learn_model_find_tensor(const learn_model *m, const char *name,
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
    case LEARN_META_U32: n.u = learn__rd32(p); break;
    case LEARN_META_U64: n.u = learn__rd64(p); break;
    case LEARN_META_BOOL: n.u = p[0]; break;
    case LEARN_META_I32: {
        int32_t v = (int32_t)learn__rd32(p);
        n.negative = v < 0;
        n.u = v < 0 ? (uint64_t)(-(int64_t)v) : (uint64_t)v;
        break;
    }
    case LEARN_META_I64: {
        int64_t v = (int64_t)learn__rd64(p);
        n.negative = v < 0;
        n.u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        break;
    }
    case LEARN_META_F32: {
        float f;
        uint32_t bits = learn__rd32(p);
        memcpy(&f, &bits, 4);
        n.is_float = 1;
        n.d = f;
        break;
    }
    case LEARN_META_F64: {
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
    if (e->type != LEARN_META_ARR || !learn__meta_scalar_size(e->elem)) return LEARN_ERR_FORMAT;
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
    if (e->type != LEARN_META_BOOL) return LEARN_ERR_FORMAT;
    *v = e->value[0];
    return LEARN_OK;
}

learn_status learn_model_meta_str(const learn_model *m, const char *key, const char **s,
                                  size_t *len) {
    if (!m || !key || !s) return LEARN_ERR_ARG;
    const learn__meta *e = learn__meta_lookup(m, key);
    if (!e) return LEARN_ERR_NOT_FOUND;
    if (e->type != LEARN_META_STR) return LEARN_ERR_FORMAT;
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
    if (e->type != LEARN_META_ARR || e->elem != LEARN_META_STR) return LEARN_ERR_FORMAT;
    if (i >= e->count) return LEARN_ERR_ARG;
    const uint8_t *p = e->value + 12; /* validated at open: every length fits */
    for (uint64_t k = 0; k < i; k++) p += 8 + learn__rd64(p) + 1;
    *s = (const char *)p + 8;
    if (len) *len = (size_t)learn__rd64(p);
    return LEARN_OK;
}

/* Checks a float for NaN/Inf by its bits (works under -ffast-math too). */
static int learn__f32_bits_finite(uint32_t bits) { return (bits & 0x7f800000u) != 0x7f800000u; }

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
   Metadata values are kept encoded (the bytes after the type id); tensors are borrowed or
   copied. Saving lays the file out, hashes as it emits, and writes atomically.
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
    return learn__wset_bytes(w, key, LEARN_META_U32, b, 4);
}
learn_status learn_writer_set_i32(learn_writer *w, const char *key, int32_t v) {
    uint8_t b[4];
    learn__wr32(b, (uint32_t)v);
    return learn__wset_bytes(w, key, LEARN_META_I32, b, 4);
}
learn_status learn_writer_set_u64(learn_writer *w, const char *key, uint64_t v) {
    uint8_t b[8];
    learn__wr64(b, v);
    return learn__wset_bytes(w, key, LEARN_META_U64, b, 8);
}
learn_status learn_writer_set_i64(learn_writer *w, const char *key, int64_t v) {
    uint8_t b[8];
    learn__wr64(b, (uint64_t)v);
    return learn__wset_bytes(w, key, LEARN_META_I64, b, 8);
}
learn_status learn_writer_set_f32(learn_writer *w, const char *key, float v) {
    uint8_t b[4];
    uint32_t bits;
    memcpy(&bits, &v, 4);
    learn__wr32(b, bits);
    return learn__wset_bytes(w, key, LEARN_META_F32, b, 4);
}
learn_status learn_writer_set_f64(learn_writer *w, const char *key, double v) {
    uint8_t b[8];
    uint64_t bits;
    memcpy(&bits, &v, 8);
    learn__wr64(b, bits);
    return learn__wset_bytes(w, key, LEARN_META_F64, b, 8);
}
learn_status learn_writer_set_bool(learn_writer *w, const char *key, int v) {
    uint8_t b = v ? 1 : 0;
    return learn__wset_bytes(w, key, LEARN_META_BOOL, &b, 1);
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
    return learn__wset(w, key, LEARN_META_STR, v, n);
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
            d[0] = elem == LEARN_META_BOOL ? (src[i] ? 1 : 0) : src[i];
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
    return learn__wset(w, key, LEARN_META_ARR, v, total);
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
    learn__wr32(v, LEARN_META_STR);
    learn__wr64(v + 4, n);
    uint8_t *p = v + 12;
    for (uint64_t i = 0; i < n; i++) {
        size_t len = strlen(strings[i]);
        learn__wr64(p, len);
        memcpy(p + 8, strings[i], len + 1);
        p += 9 + len;
    }
    return learn__wset(w, key, LEARN_META_ARR, v, total);
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
            if (w->meta[i].type == LEARN_META_U32) *v = learn__rd32(w->meta[i].val);
            else if (w->meta[i].type == LEARN_META_U64) *v = learn__rd64(w->meta[i].val);
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

/* Output sink: memory, or a file descriptor through a staging buffer. Everything emitted is
   hashed for the trailer. */
typedef struct learn__emit {
    learn__xxh64 h;
    uint8_t *mem;
    uint64_t pos;
#ifndef LEARN_NO_STDIO
    int fd;
    const learn_io *io;
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
static const learn_io learn__posix_io = {NULL, learn__posix_write, learn__posix_fsync,
                                         learn__posix_rename};

/* fsyncs the directory holding path, so that a rename into it is durable. */
static int learn__fsync_dir(const learn_io *io, const char *path, const learn_allocator *a) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? learn__strndup(a, path, slash == path ? 1 : (size_t)(slash - path))
                      : learn__strndup(a, ".", 1);
    if (!dir) return -1;
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    learn__free(a, dir);
    if (fd < 0) return -1;
    int r = io->fsync(io->user, fd);
    close(fd);
    return r;
}

learn_status learn_writer_save(learn_writer *w, const char *path, const learn_io *io) {
    if (!w || !path) return LEARN_ERR_ARG;
    if (!io) io = &learn__posix_io;
    if (!io->write || !io->fsync || !io->rename)
        return LEARN__WFAIL(w, LEARN_ERR_ARG, "learn_io: write, fsync and rename must be set");
    uint64_t fsize = 0, dir_off = 0, data_off = 0;
    learn_status st = learn__writer_prepare(w, &fsize, &dir_off, &data_off);
    if (st) return st;
    size_t pl = strlen(path), tl;
    char *tmp = NULL;
    if (learn__add_ok(pl, 16, &tl)) tmp = (char *)learn__malloc(&w->alloc, tl);
    learn__emit e;
    memset(&e, 0, sizeof e);
    e.stage_cap = 1u << 20;
    e.stage = (uint8_t *)learn__malloc(&w->alloc, e.stage_cap);
    if (!tmp || !e.stage) {
        learn__free(&w->alloc, tmp);
        learn__free(&w->alloc, e.stage);
        return LEARN__WFAIL(w, LEARN_ERR_NOMEM, "out of memory");
    }
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        st = LEARN__WFAIL(w, LEARN_ERR_IO, "%s: cannot create a temporary file: %s", tmp,
                          strerror(errno));
        goto out;
    }
    (void)fchmod(fd, 0644);
    learn__xxh64_init(&e.h, 0);
    e.w = w;
    e.fd = fd;
    e.io = io;
    st = learn__writer_emit(w, &e, fsize, dir_off, data_off);
    if (!st) st = learn__emit_flush(&e, e.stage, e.staged);
    if (!st && io->fsync(io->user, fd) != 0)
        st = LEARN__WFAIL(w, LEARN_ERR_IO, "%s: fsync failed: %s", tmp, strerror(errno));
    if (close(fd) != 0 && !st)
        st = LEARN__WFAIL(w, LEARN_ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
    if (!st && io->rename(io->user, tmp, path) != 0)
        st = LEARN__WFAIL(w, LEARN_ERR_IO, "rename %s -> %s failed: %s", tmp, path,
                          strerror(errno));
    if (st) {
        unlink(tmp);
        if (st == LEARN_ERR_IO && strncmp(w->err, tmp, strlen(tmp)) != 0 &&
            strncmp(w->err, "rename", 6) != 0) {
            char inner[LEARN_ERRMSG_SIZE];
            memcpy(inner, w->err, sizeof inner);
            LEARN__WFAIL(w, st, "%s: %s", path, inner);
        }
        goto out;
    }
    if (learn__fsync_dir(io, path, &w->alloc) != 0)
        st = LEARN__WFAIL(w, LEARN_ERR_IO, "%s: written, but fsync of its directory failed: %s",
                          path, strerror(errno));
out:
    learn__free(&w->alloc, tmp);
    learn__free(&w->alloc, e.stage);
    return st;
}
#endif /* LEARN_NO_STDIO */

/* ============================================================================================
   ==== LLM configuration ====
   The content encoder's hyper-parameters (metadata `llm.*`) and the tensors each architecture
   requires, checked at open so that a file whose metadata disagrees with its tensors is
   refused with a message naming the tensor.

   Metadata (all U32 unless noted):
     general.architecture   STR  "llama" | "qwen2" | "qwen3"
     llm.vocab_size, llm.embedding_length, llm.block_count, llm.head_count,
     llm.head_count_kv, llm.feed_forward_length, llm.context_length
     llm.head_dim           (default embedding_length / head_count)
     llm.rope_freq_base     F32  (default 10000)
     llm.rms_epsilon        F32  (default 1e-5 for llama, 1e-6 for qwen2/qwen3)
     llm.rope_type          STR  "norm" (pairs 2i, 2i+1) | "neox" (pairs i, i + d/2);
                                 default norm for llama, neox for qwen2/qwen3
   Tensors (shapes row-major, [out, in] for matrices; "matrix" = F32, F16, BF16, Q8_0 or
   Q4_0; "vector" = F32):
     token_embd.weight          matrix [n_vocab, n_embd]
     output_norm.weight         vector [n_embd]
     rope_freqs.weight          vector [head_dim / 2], optional (Llama 3 frequency factors)
     blk.N.attn_norm.weight     vector [n_embd]
     blk.N.attn_q.weight        matrix [n_head * head_dim, n_embd]
     blk.N.attn_k.weight        matrix [n_head_kv * head_dim, n_embd]
     blk.N.attn_v.weight        matrix [n_head_kv * head_dim, n_embd]
     blk.N.attn_{q,k,v}.bias    vector, required for qwen2, optional otherwise
     blk.N.attn_q_norm.weight, blk.N.attn_k_norm.weight   vector [head_dim], qwen3 only
     blk.N.attn_output.weight   matrix [n_embd, n_head * head_dim]
     blk.N.ffn_norm.weight      vector [n_embd]
     blk.N.ffn_gate.weight, blk.N.ffn_up.weight           matrix [n_ff, n_embd]
     blk.N.ffn_down.weight      matrix [n_embd, n_ff]
   Encoder settings (how texts become content embeddings):
     encoder.pooling        STR  "mean" (default) | "last" | "none"
     encoder.normalize      BOOL L2-normalise pooled embeddings (default true)
     encoder.max_tokens     U32  tokens kept per item, BOS included (default min(512, context))
     encoder.template       STR  item text template, e.g. "Title: {title}. Brand: {brand}"
                                 (default "{text}"); rendered by the tools
   ============================================================================================ */

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
    if (n.is_float || e->type == LEARN_META_BOOL)
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
    if (e->type != LEARN_META_F32 && e->type != LEARN_META_F64)
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "metadata '%s' has type %s, not f32",
                           key, learn_meta_type_name(e->type));
    double d = learn__num_read(e->type, e->value).d;
    if (!(d > lo && d < hi))
        return learn__fail(err, errn, LEARN_ERR_FORMAT, "metadata '%s' = %g is outside (%g, %g)",
                           key, d, (double)lo, (double)hi);
    *v = (float)d;
    return LEARN_OK;
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

/* Encoder settings: pooling, normalisation, the token limit per item and the text template. */
static learn_status learn__encoder_check(learn_model *m, char *err, size_t errn) {
    learn__llm_config *c = &m->llm;
    c->pooling = LEARN__POOL_MEAN;
    c->normalize = 1;
    c->max_tokens = LEARN__MIN(512u, c->n_ctx);
    c->template_str = "{text}";
    const learn__meta *e = learn__meta_lookup(m, "encoder.pooling");
    if (e) {
        const char *s = e->type == LEARN_META_STR ? (const char *)e->value + 8 : "";
        if (strcmp(s, "mean") == 0) c->pooling = LEARN__POOL_MEAN;
        else if (strcmp(s, "last") == 0) c->pooling = LEARN__POOL_LAST;
        else if (strcmp(s, "none") == 0) c->pooling = LEARN__POOL_NONE;
        else
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata 'encoder.pooling' must be \"mean\", \"last\" or \"none\"");
    }
    if ((e = learn__meta_lookup(m, "encoder.normalize"))) {
        if (e->type != LEARN_META_BOOL)
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata 'encoder.normalize' has type %s, not bool",
                               learn_meta_type_name(e->type));
        c->normalize = e->value[0];
    }
    learn_status st = learn__meta_u32_req(m, "encoder.max_tokens", 1, c->n_ctx, 0, &c->max_tokens,
                                          err, errn);
    if (st) return st;
    if ((e = learn__meta_lookup(m, "encoder.template"))) {
        if (e->type != LEARN_META_STR)
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
    if (arch->type != LEARN_META_STR)
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
    learn_status st;
    if ((st = learn__meta_u32_req(m, "llm.vocab_size", 1, 1u << 22, 1, &c->n_vocab, err, errn)) ||
        (st = learn__meta_u32_req(m, "llm.embedding_length", 1, 1u << 16, 1, &c->n_embd, err,
                                  errn)) ||
        (st = learn__meta_u32_req(m, "llm.block_count", 1, LEARN_MAX_LAYERS, 1, &c->n_layer, err,
                                  errn)) ||
        (st = learn__meta_u32_req(m, "llm.head_count", 1, 1024, 1, &c->n_head, err, errn)) ||
        (st = learn__meta_u32_req(m, "llm.head_count_kv", 1, 1024, 1, &c->n_head_kv, err,
                                  errn)) ||
        (st = learn__meta_u32_req(m, "llm.feed_forward_length", 1, 1u << 20, 1, &c->n_ff, err,
                                  errn)) ||
        (st = learn__meta_u32_req(m, "llm.context_length", 1, 1u << 24, 1, &c->n_ctx, err, errn)))
        return st;
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
        const char *s = rt->type == LEARN_META_STR ? (const char *)rt->value + 8 : "";
        if (strcmp(s, "norm") && strcmp(s, "neox"))
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "metadata 'llm.rope_type' must be the string \"norm\" or \"neox\"");
        c->rope_neox = strcmp(s, "neox") == 0;
    }
    c->qkv_bias = is_qwen2;
    c->qk_norm = is_qwen3;

    uint64_t e = c->n_embd, q = (uint64_t)c->n_head * c->head_dim,
             kv = (uint64_t)c->n_head_kv * c->head_dim;
    if ((st = learn__need_tensor(m, "token_embd.weight", 1, c->n_vocab, e, 0, &c->tok_embd, err,
                                 errn)) ||
        (st = learn__need_tensor(m, "output_norm.weight", 0, e, 0, 0, &c->out_norm, err, errn)) ||
        (st = learn__need_tensor(m, "rope_freqs.weight", 0, c->head_dim / 2, 0, 1, &c->rope_freqs,
                                 err, errn)))
        return st;
    c->layers = (learn__layer *)learn__calloc(&m->alloc, c->n_layer, sizeof *c->layers);
    if (!c->layers) return LEARN_ERR_NOMEM;
    for (uint32_t l = 0; l < c->n_layer; l++) {
        learn__layer *L = &c->layers[l];
        const struct {
            const char *suffix;
            const learn__tensor **slot;
            int matrix;
            uint64_t d0, d1;
            int optional;
        } want[] = {
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
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            char nm[64];
            snprintf(nm, sizeof nm, "blk.%u.%s", l, want[i].suffix);
            if ((st = learn__need_tensor(m, nm, want[i].matrix, want[i].d0, want[i].d1,
                                         want[i].optional, want[i].slot, err, errn)))
                return st;
        }
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

/* Scratch for one batch of up to cap tokens (activations, row-major [tokens][features]). */
typedef struct learn__llm_scratch {
    size_t cap;        /* tokens */
    size_t max_len;    /* longest item (attention scores row) */
    float *x;          /* [cap][n_embd] residual stream */
    float *xn;         /* [cap][n_embd] normed input of a sublayer; final states at the end */
    float *q;          /* [cap][n_head * head_dim] */
    float *k, *v;      /* [cap][n_head_kv * head_dim] */
    float *att;        /* [cap][n_head * head_dim] attention output */
    float *g, *u;      /* [cap][n_ff] */
    float *scores;     /* [max_len] */
    float *rowbuf;     /* [max(n_embd, n_ff, q dim)] one dequantized weight row */
    double *inv_freq;  /* [head_dim / 2] RoPE frequencies */
} learn__llm_scratch;

struct learn_ctx {
    const learn_model *model;
    learn_allocator alloc;
    int n_threads;
    uint32_t batch_tokens;
    learn__pool pooling;
    int normalize;
    learn__llm_scratch s;
    learn_encode_stats stats;
    char err[LEARN_ERRMSG_SIZE];
};

#define LEARN__CFAIL(ctx, st, ...) learn__fail((ctx)->err, sizeof (ctx)->err, (st), __VA_ARGS__)

/* Dequantizes n elements (a whole number of blocks) of a weight row. */
static void learn__dequant_row(learn_type type, const uint8_t *src, float *dst, size_t n) {
    switch (type) {
    case LEARN_TYPE_F32: memcpy(dst, src, n * 4); break;
    case LEARN_TYPE_F16:
        for (size_t i = 0; i < n; i++) dst[i] = learn_f16_to_f32(learn__rd16(src + 2 * i));
        break;
    case LEARN_TYPE_BF16:
        for (size_t i = 0; i < n; i++) dst[i] = learn_bf16_to_f32(learn__rd16(src + 2 * i));
        break;
    case LEARN_TYPE_Q8_0:
        for (size_t b = 0; b < n / 32; b++, src += 34) {
            float d = learn_f16_to_f32(learn__rd16(src));
            for (int j = 0; j < 32; j++) dst[b * 32 + j] = d * (float)(int8_t)src[2 + j];
        }
        break;
    case LEARN_TYPE_Q4_0:
        for (size_t b = 0; b < n / 32; b++, src += 18) {
            float d = learn_f16_to_f32(learn__rd16(src));
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

/* Y (T x R) = X (T x K) W^T (+ bias), W (R x K) in any weight type. The reference path: one
   dequantized weight row at a time, dot products in f32. */
static void learn__linear_ref(const learn__tensor *W, const learn__tensor *bias, const float *X,
                              size_t T, float *Y, float *rowbuf) {
    size_t R = (size_t)W->shape[0], K = (size_t)W->shape[1];
    size_t row_bytes = (size_t)learn_type_row_bytes(W->type, K);
    const float *b = bias ? (const float *)bias->data : NULL;
    for (size_t r = 0; r < R; r++) {
        learn__dequant_row(W->type, W->data + r * row_bytes, rowbuf, K);
        for (size_t t = 0; t < T; t++) {
            const float *x = X + t * K;
            float acc = 0.0f;
            for (size_t k = 0; k < K; k++) acc += x[k] * rowbuf[k];
            Y[t * R + r] = b ? acc + b[r] : acc;
        }
    }
}

/* out = x / rms(x) * w over n elements. */
static void learn__rmsnorm(float *out, const float *x, const float *w, size_t n, float eps) {
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float scale = 1.0f / sqrtf((float)(ss / (double)n) + eps);
    for (size_t i = 0; i < n; i++) out[i] = x[i] * scale * w[i];
}

/* Rotates one head vector (head_dim) at position pos. norm: pairs (2i, 2i+1); neox: (i, i+d/2). */
static void learn__rope(float *v, uint32_t hd, uint32_t pos, const double *inv_freq, int neox) {
    uint32_t half = hd / 2;
    for (uint32_t i = 0; i < half; i++) {
        double a = (double)pos * inv_freq[i];
        float c = (float)cos(a), s = (float)sin(a);
        uint32_t i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
        float x0 = v[i0], x1 = v[i1];
        v[i0] = x0 * c - x1 * s;
        v[i1] = x0 * s + x1 * c;
    }
}

/* Numerically stable softmax in place. A row of all -inf gives zeros. */
static void learn__softmax(float *x, size_t n) {
    float max = -INFINITY;
    for (size_t i = 0; i < n; i++) max = x[i] > max ? x[i] : max;
    if (max == -INFINITY) {
        memset(x, 0, n * sizeof *x);
        return;
    }
    float sum = 0.0f;
    for (size_t i = 0; i < n; i++) sum += (x[i] = expf(x[i] - max));
    float inv = 1.0f / sum;
    for (size_t i = 0; i < n; i++) x[i] *= inv;
}

static void learn__scratch_free(learn_ctx *ctx) {
    learn__llm_scratch *s = &ctx->s;
    float **bufs[] = {&s->x, &s->xn, &s->q, &s->k, &s->v, &s->att, &s->g, &s->u, &s->scores, &s->rowbuf};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        learn__free_aligned(&ctx->alloc, *bufs[i]);
        *bufs[i] = NULL;
    }
    learn__free(&ctx->alloc, s->inv_freq);
    s->inv_freq = NULL;
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
    size_t widths[] = {c->n_embd, c->n_embd, qd, kvd, kvd, qd, c->n_ff, c->n_ff};
    float **bufs[] = {&s->x, &s->xn, &s->q, &s->k, &s->v, &s->att, &s->g, &s->u};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        size_t n;
        if (!learn__mul_ok(tokens, widths[i] * sizeof(float), &n) ||
            !(*bufs[i] = (float *)learn__malloc_aligned(&ctx->alloc, n))) {
            learn__scratch_free(ctx);
            return LEARN__CFAIL(ctx, LEARN_ERR_NOMEM, "out of memory for a batch of %zu tokens",
                                tokens);
        }
    }
    size_t rowlen = LEARN__MAX(LEARN__MAX((size_t)c->n_embd, (size_t)c->n_ff), qd);
    s->scores = (float *)learn__malloc_aligned(&ctx->alloc, max_len * sizeof(float));
    s->rowbuf = (float *)learn__malloc_aligned(&ctx->alloc, rowlen * sizeof(float));
    s->inv_freq = (double *)learn__calloc(&ctx->alloc, c->head_dim / 2, sizeof(double));
    if (!s->scores || !s->rowbuf || !s->inv_freq) {
        learn__scratch_free(ctx);
        return LEARN__CFAIL(ctx, LEARN_ERR_NOMEM, "out of memory for the encoder's scratch");
    }
    const float *ff = c->rope_freqs ? (const float *)c->rope_freqs->data : NULL;
    for (uint32_t i = 0; i < c->head_dim / 2; i++) {
        s->inv_freq[i] = pow((double)c->rope_theta, -2.0 * i / (double)c->head_dim);
        if (ff) s->inv_freq[i] /= (double)ff[i];
    }
    s->cap = tokens;
    s->max_len = max_len;
    return LEARN_OK;
}

/* Runs the LLM over T tokens made of n items (item i: tokens [start[i], start[i] + len[i])).
   Leaves the final-normed hidden states in ctx->s.xn ([T][n_embd]). */
static void learn__llm_forward(learn_ctx *ctx, const int32_t *tokens, const size_t *start,
                               const size_t *len, size_t n, size_t T) {
    const learn__llm_config *c = &ctx->model->llm;
    learn__llm_scratch *s = &ctx->s;
    size_t E = c->n_embd, hd = c->head_dim, qd = (size_t)c->n_head * hd,
           kvd = (size_t)c->n_head_kv * hd, F = c->n_ff;
    size_t emb_row = (size_t)learn_type_row_bytes(c->tok_embd->type, E);
    float scale = 1.0f / sqrtf((float)hd);
    uint32_t group = c->n_head / c->n_head_kv;

    for (size_t t = 0; t < T; t++)
        learn__dequant_row(c->tok_embd->type, c->tok_embd->data + (size_t)tokens[t] * emb_row,
                           s->x + t * E, E);
    for (uint32_t l = 0; l < c->n_layer; l++) {
        const learn__layer *L = &c->layers[l];
        /* attention */
        for (size_t t = 0; t < T; t++)
            learn__rmsnorm(s->xn + t * E, s->x + t * E, (const float *)L->attn_norm->data, E,
                           c->rms_eps);
        learn__linear_ref(L->wq, L->bq, s->xn, T, s->q, s->rowbuf);
        learn__linear_ref(L->wk, L->bk, s->xn, T, s->k, s->rowbuf);
        learn__linear_ref(L->wv, L->bv, s->xn, T, s->v, s->rowbuf);
        for (size_t i = 0; i < n; i++)
            for (size_t p = 0; p < len[i]; p++) {
                size_t t = start[i] + p;
                for (uint32_t h = 0; h < c->n_head; h++) {
                    float *qh = s->q + t * qd + h * hd;
                    if (L->q_norm) learn__rmsnorm(qh, qh, (const float *)L->q_norm->data, hd, c->rms_eps);
                    learn__rope(qh, (uint32_t)hd, (uint32_t)p, s->inv_freq, c->rope_neox);
                }
                for (uint32_t h = 0; h < c->n_head_kv; h++) {
                    float *kh = s->k + t * kvd + h * hd;
                    if (L->k_norm) learn__rmsnorm(kh, kh, (const float *)L->k_norm->data, hd, c->rms_eps);
                    learn__rope(kh, (uint32_t)hd, (uint32_t)p, s->inv_freq, c->rope_neox);
                }
            }
        for (size_t i = 0; i < n; i++)
            for (uint32_t h = 0; h < c->n_head; h++) {
                size_t kvh = h / group;
                for (size_t p = 0; p < len[i]; p++) {
                    const float *qv = s->q + (start[i] + p) * qd + h * hd;
                    for (size_t j = 0; j <= p; j++) {
                        const float *kv = s->k + (start[i] + j) * kvd + kvh * hd;
                        float d = 0.0f;
                        for (size_t e = 0; e < hd; e++) d += qv[e] * kv[e];
                        s->scores[j] = d * scale;
                    }
                    learn__softmax(s->scores, p + 1);
                    float *o = s->att + (start[i] + p) * qd + h * hd;
                    memset(o, 0, hd * sizeof *o);
                    for (size_t j = 0; j <= p; j++) {
                        const float *vv = s->v + (start[i] + j) * kvd + kvh * hd;
                        for (size_t e = 0; e < hd; e++) o[e] += s->scores[j] * vv[e];
                    }
                }
            }
        learn__linear_ref(L->wo, NULL, s->att, T, s->xn, s->rowbuf);
        for (size_t i = 0; i < T * E; i++) s->x[i] += s->xn[i];
        /* SwiGLU MLP */
        for (size_t t = 0; t < T; t++)
            learn__rmsnorm(s->xn + t * E, s->x + t * E, (const float *)L->ffn_norm->data, E,
                           c->rms_eps);
        learn__linear_ref(L->w_gate, NULL, s->xn, T, s->g, s->rowbuf);
        learn__linear_ref(L->w_up, NULL, s->xn, T, s->u, s->rowbuf);
        for (size_t i = 0; i < T * F; i++) s->g[i] = s->g[i] / (1.0f + expf(-s->g[i])) * s->u[i];
        learn__linear_ref(L->w_down, NULL, s->g, T, s->xn, s->rowbuf);
        for (size_t i = 0; i < T * E; i++) s->x[i] += s->xn[i];
    }
    for (size_t t = 0; t < T; t++)
        learn__rmsnorm(s->xn + t * E, s->x + t * E, (const float *)c->out_norm->data, E,
                       c->rms_eps);
}

/* Scales a vector to unit L2 norm (left as is when it is zero). */
static void learn__l2_normalize(float *x, size_t n) {
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    if (ss <= 0.0) return;
    float inv = (float)(1.0 / sqrt(ss));
    for (size_t i = 0; i < n; i++) x[i] *= inv;
}

/* Pools item states [len][E] into out[E]. */
static void learn__pool_item(const float *states, size_t len, size_t E, learn__pool pool,
                             int normalize, float *out) {
    if (pool == LEARN__POOL_LAST) {
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

learn_status learn_encode_ids(learn_ctx *ctx, size_t n_items, const int32_t *const *ids,
                              const size_t *n_ids, float *out) {
    if (!ctx) return LEARN_ERR_ARG;
    ctx->err[0] = 0;
    const learn__llm_config *c = &ctx->model->llm;
    if (!c->present) return LEARN__CFAIL(ctx, LEARN_ERR_STATE, "the model has no LLM");
    if (n_items && (!ids || !n_ids || !out))
        return LEARN__CFAIL(ctx, LEARN_ERR_ARG, "ids, n_ids and out must not be NULL");
    if (ctx->pooling == LEARN__POOL_NONE)
        return LEARN__CFAIL(ctx, LEARN_ERR_ARG,
                            "pooling 'none' gives one vector per token: use "
                            "learn_encode_ids_tokens");
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
            if ((st = learn__check_item(ctx, i, ids[i], n_ids[i], &kept))) goto done;
            if (T + kept > cap) break;
            memcpy(tok + T, ids[i], kept * sizeof *tok);
            start[n] = T;
            len[n] = kept;
            T += kept;
            n++;
            ctx->stats.n_truncated += kept < n_ids[i];
            i++;
        }
        learn__llm_forward(ctx, tok, start, len, n, T);
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
    learn__llm_forward(ctx, ids, &start, &kept, 1, kept);
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

   Schema (metadata; U32 unless noted). Towers are present when `tower.d_in` is.
     tower.d_in             1..65536   content dimension; must equal llm.embedding_length when
                                       the file has an LLM
     tower.d_model          1..65536   width of the transformer
     tower.n_layer          0..512     blocks (0: adaptor and proj only)
     tower.n_head           1..1024    heads; must divide d_model
     tower.d_ff             1..2^20    width of the feed-forward layer
     tower.d_out            1..65536   output (collaborative) dimension
     tower.eps              F32        LayerNorm epsilon in (0, 1), default 1e-12 (bert-base)
     tower.act              STR        "gelu" (erf, default) | "gelu_tanh" | "relu"
     tower.norm             STR        "post" (default, BERT) | "pre"
     tower.max_positions    0..2^20    learned positions (0, the default: none)
     tower.max_history      0..2^20    the user tower reads the most recent max_history items
                                       of a history (older ones are dropped); 0: all. Default:
                                       max_positions (so that every position has an embedding)
   Tensors ("matrix" = F32, F16, BF16, Q8_0 or Q4_0 as for the LLM, [out, in]; "vector" = F32):
     tower.adaptor.weight          matrix [d_model, d_in]
     tower.adaptor.bias            vector [d_model]
     tower.pos_embd.weight         vector-typed matrix: F32 [max_positions, d_model], only when
                                   max_positions > 0; added to the adaptor output at position p
     tower.blk.N.attn_q.weight     matrix [d_model, d_model]     and attn_q.bias  [d_model]
     tower.blk.N.attn_k.weight     matrix [d_model, d_model]     and attn_k.bias  [d_model]
     tower.blk.N.attn_v.weight     matrix [d_model, d_model]     and attn_v.bias  [d_model]
     tower.blk.N.attn_output.weight matrix [d_model, d_model]    and attn_output.bias [d_model]
     tower.blk.N.attn_norm.weight, .bias   vector [d_model]  LayerNorm of the attention sublayer
     tower.blk.N.ffn_up.weight     matrix [d_ff, d_model]        and ffn_up.bias   [d_ff]
     tower.blk.N.ffn_down.weight   matrix [d_model, d_ff]        and ffn_down.bias [d_model]
     tower.blk.N.ffn_norm.weight, .bias    vector [d_model]  LayerNorm of the feed-forward sublayer
     tower.out_norm.weight, .bias  vector [d_model], pre-LN only (the final LayerNorm)
     tower.proj.weight             matrix [d_out, d_model]
     tower.proj.bias               vector [d_out]
   When towers are present, any other tensor whose name starts with "tower." is refused (it
   would be silently unused); tower.adaptor.weight without tower.d_in is refused too.
   Official LEARN checkpoint keys map as: adaptor.* -> tower.adaptor.*,
   summary_encoder.layer.N.attention.self.{query,key,value}.* -> tower.blk.N.attn_{q,k,v}.*,
   .attention.output.dense.* -> attn_output.*, .attention.output.LayerNorm.* -> attn_norm.*,
   .intermediate.dense.* -> ffn_up.*, .output.dense.* -> ffn_down.*, .output.LayerNorm.* ->
   ffn_norm.*, mlp.0.* -> tower.proj.* (tools/towers_import.c).
   ============================================================================================ */

/* Largest history learn_user_embed takes when the model sets no max_history. */
#define LEARN__TOWER_MAX_SEQ (1u << 20)

/* A string-valued metadata entry that must be one of `choices` (NULL-terminated); *index
   keeps its default when the key is absent. */
static learn_status learn__meta_choice(const learn_model *m, const char *key,
                                       const char *const *choices, int *index, char *err,
                                       size_t errn) {
    const learn__meta *e = learn__meta_lookup(m, key);
    if (!e) return LEARN_OK;
    const char *s = e->type == LEARN_META_STR ? (const char *)e->value + 8 : NULL;
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

/* Is `name` (starting with "tower.") one of the tensors the schema above expects? */
static int learn__tower_name_known(const learn__tower_config *c, const char *name) {
    static const char *const top[] = {"adaptor.weight", "adaptor.bias", "proj.weight",
                                      "proj.bias"};
    static const char *const blk[] = {
        "attn_q.weight",   "attn_q.bias",      "attn_k.weight",      "attn_k.bias",
        "attn_v.weight",   "attn_v.bias",      "attn_output.weight", "attn_output.bias",
        "attn_norm.weight", "attn_norm.bias",  "ffn_up.weight",      "ffn_up.bias",
        "ffn_down.weight", "ffn_down.bias",    "ffn_norm.weight",    "ffn_norm.bias"};
    const char *s = name + 6;
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        if (strcmp(s, top[i]) == 0) return 1;
    if (c->max_positions && strcmp(s, "pos_embd.weight") == 0) return 1;
    if (c->pre_norm && (strcmp(s, "out_norm.weight") == 0 || strcmp(s, "out_norm.bias") == 0))
        return 1;
    if (strncmp(s, "blk.", 4) != 0) return 0;
    s += 4;
    uint32_t l = 0;
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '.')) return 0;
    while (*s >= '0' && *s <= '9' && l <= LEARN_MAX_LAYERS) l = l * 10 + (uint32_t)(*s++ - '0');
    if (*s++ != '.' || l >= c->n_layer) return 0;
    for (size_t i = 0; i < sizeof blk / sizeof blk[0]; i++)
        if (strcmp(s, blk[i]) == 0) return 1;
    return 0;
}

/* Validates the tower metadata and tensors (schema above) and resolves m->towers. Called at
   open, after the LLM check. */
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
    learn_status st;
    if ((st = learn__meta_u32_req(m, "tower.d_in", 1, 1u << 16, 1, &c->d_in, err, errn)) ||
        (st = learn__meta_u32_req(m, "tower.d_model", 1, 1u << 16, 1, &c->d_model, err, errn)) ||
        (st = learn__meta_u32_req(m, "tower.n_layer", 0, LEARN_MAX_LAYERS, 1, &c->n_layer, err,
                                  errn)) ||
        (st = learn__meta_u32_req(m, "tower.n_head", 1, 1024, 1, &c->n_head, err, errn)) ||
        (st = learn__meta_u32_req(m, "tower.d_ff", 1, 1u << 20, 1, &c->d_ff, err, errn)) ||
        (st = learn__meta_u32_req(m, "tower.d_out", 1, 1u << 16, 1, &c->d_out, err, errn)) ||
        (st = learn__meta_u32_req(m, "tower.max_positions", 0, 1u << 20, 0, &c->max_positions,
                                  err, errn)))
        return st;
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
    if ((st = learn__need_tensor(m, "tower.adaptor.weight", 1, D, c->d_in, 0, &c->adaptor_w, err,
                                 errn)) ||
        (st = learn__need_tensor(m, "tower.adaptor.bias", 0, D, 0, 0, &c->adaptor_b, err, errn)) ||
        (st = learn__need_tensor(m, "tower.proj.weight", 1, c->d_out, D, 0, &c->proj_w, err,
                                 errn)) ||
        (st = learn__need_tensor(m, "tower.proj.bias", 0, c->d_out, 0, 0, &c->proj_b, err, errn)))
        return st;
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
    }
    if (c->pre_norm &&
        ((st = learn__need_tensor(m, "tower.out_norm.weight", 0, D, 0, 0, &c->out_norm_w, err,
                                  errn)) ||
         (st = learn__need_tensor(m, "tower.out_norm.bias", 0, D, 0, 0, &c->out_norm_b, err,
                                  errn))))
        return st;
    if (c->n_layer) {
        c->layers = (learn__tower_layer *)learn__calloc(&m->alloc, c->n_layer, sizeof *c->layers);
        if (!c->layers) return LEARN_ERR_NOMEM;
    }
    for (uint32_t l = 0; l < c->n_layer; l++) {
        learn__tower_layer *L = &c->layers[l];
        const struct {
            const char *suffix;
            const learn__tensor **slot;
            int matrix;
            uint64_t d0, d1;
        } want[] = {
            {"attn_q.weight", &L->wq, 1, D, D},         {"attn_q.bias", &L->bq, 0, D, 0},
            {"attn_k.weight", &L->wk, 1, D, D},         {"attn_k.bias", &L->bk, 0, D, 0},
            {"attn_v.weight", &L->wv, 1, D, D},         {"attn_v.bias", &L->bv, 0, D, 0},
            {"attn_output.weight", &L->wo, 1, D, D},    {"attn_output.bias", &L->bo, 0, D, 0},
            {"attn_norm.weight", &L->attn_norm_w, 0, D, 0},
            {"attn_norm.bias", &L->attn_norm_b, 0, D, 0},
            {"ffn_up.weight", &L->w_up, 1, F, D},       {"ffn_up.bias", &L->b_up, 0, F, 0},
            {"ffn_down.weight", &L->w_down, 1, D, F},   {"ffn_down.bias", &L->b_down, 0, D, 0},
            {"ffn_norm.weight", &L->ffn_norm_w, 0, D, 0},
            {"ffn_norm.bias", &L->ffn_norm_b, 0, D, 0},
        };
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            char nm[64];
            snprintf(nm, sizeof nm, "tower.blk.%u.%s", l, want[i].suffix);
            if ((st = learn__need_tensor(m, nm, want[i].matrix, want[i].d0, want[i].d1, 0,
                                         want[i].slot, err, errn)))
                return st;
        }
    }
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const char *nm = m->tensors[i].name;
        if (strncmp(nm, "tower.", 6) == 0 && !learn__tower_name_known(c, nm))
            return learn__fail(err, errn, LEARN_ERR_FORMAT,
                               "tensor '%s' is not part of the tower schema (n_layer = %u, "
                               "norm = %s, max_positions = %u)",
                               nm, c->n_layer, c->pre_norm ? "pre" : "post", c->max_positions);
    }
    c->present = 1;
    return LEARN_OK;
}

/* ---- Building blocks ---- */

/* out = (x - mean) / sqrt(var + eps) * w + b over n elements (statistics in double). */
static void learn__layernorm(float *out, const float *x, const float *w, const float *b, size_t n,
                             float eps) {
    double mean = 0.0, var = 0.0;
    for (size_t i = 0; i < n; i++) mean += x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) var += ((double)x[i] - mean) * ((double)x[i] - mean);
    var /= (double)n;
    float rstd = (float)(1.0 / sqrt(var + (double)eps)), mf = (float)mean;
    for (size_t i = 0; i < n; i++) out[i] = (x[i] - mf) * rstd * w[i] + b[i];
}

static void learn__activate(float *x, size_t n, learn__act act) {
    switch (act) {
    case LEARN__ACT_GELU:
        for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
        break;
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
    float *rowbuf; /* [max(d_in, d_model, d_ff)] one dequantized weight row */
    float *k, *v;  /* [n_layer][cap][d_model] */
} learn__tower_buf;

static void learn__tower_buf_free(const learn_allocator *a, learn__tower_buf *b) {
    float **bufs[] = {&b->x, &b->h, &b->q, &b->att, &b->ff, &b->scores, &b->rowbuf, &b->k, &b->v};
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
    size_t rowlen = LEARN__MAX(LEARN__MAX((size_t)c->d_in, D), (size_t)c->d_ff);
    size_t kv;
    if (!learn__mul_ok(L, cap, &kv)) return LEARN_ERR_NOMEM;
    struct {
        float **p;
        size_t rows, width;
    } want[] = {{&b->x, cap, D},     {&b->h, cap, D},        {&b->q, cap, D},
                {&b->att, cap, D},   {&b->ff, cap, c->d_ff}, {&b->scores, cap, 1},
                {&b->rowbuf, 1, rowlen}, {&b->k, kv, D},     {&b->v, kv, D}};
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
static void learn__tower_rows(const learn__tower_config *c, learn__tower_buf *b,
                              const float *content, size_t n, size_t p0, int items, float *out) {
    size_t D = c->d_model, F = c->d_ff, hd = c->head_dim;
    float scale = 1.0f / sqrtf((float)hd);
    /* x [n][D] = content [n][d_in] adaptor^T + bias (+ position) */
    learn__linear_ref(c->adaptor_w, c->adaptor_b, content, n, b->x, b->rowbuf);
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
                learn__layernorm(b->h + t * D, b->x + t * D, (const float *)L->attn_norm_w->data,
                                 (const float *)L->attn_norm_b->data, D, c->eps);
            in = b->h;
        }
        learn__linear_ref(L->wq, L->bq, in, n, b->q, b->rowbuf);
        learn__linear_ref(L->wk, L->bk, in, n, K + kv0 * D, b->rowbuf);
        learn__linear_ref(L->wv, L->bv, in, n, V + kv0 * D, b->rowbuf);
        for (size_t t = 0; t < n; t++) {
            size_t self = kv0 + t, first = items ? self : 0; /* attend to [first, self] */
            for (uint32_t h = 0; h < c->n_head; h++) {
                const float *qv = b->q + t * D + h * hd;
                for (size_t j = first; j <= self; j++) {
                    const float *kv = K + j * D + h * hd;
                    float d = 0.0f;
                    for (size_t e = 0; e < hd; e++) d += qv[e] * kv[e];
                    b->scores[j - first] = d * scale;
                }
                learn__softmax(b->scores, self - first + 1);
                float *o = b->att + t * D + h * hd;
                memset(o, 0, hd * sizeof *o);
                for (size_t j = first; j <= self; j++) {
                    const float *vv = V + j * D + h * hd;
                    float p = b->scores[j - first];
                    for (size_t e = 0; e < hd; e++) o[e] += p * vv[e];
                }
            }
        }
        learn__linear_ref(L->wo, L->bo, b->att, n, b->h, b->rowbuf);
        for (size_t i = 0; i < n * D; i++) b->x[i] += b->h[i];
        if (!c->pre_norm)
            for (size_t t = 0; t < n; t++)
                learn__layernorm(b->x + t * D, b->x + t * D, (const float *)L->attn_norm_w->data,
                                 (const float *)L->attn_norm_b->data, D, c->eps);
        /* feed-forward sublayer */
        in = b->x;
        if (c->pre_norm) {
            for (size_t t = 0; t < n; t++)
                learn__layernorm(b->h + t * D, b->x + t * D, (const float *)L->ffn_norm_w->data,
                                 (const float *)L->ffn_norm_b->data, D, c->eps);
            in = b->h;
        }
        learn__linear_ref(L->w_up, L->b_up, in, n, b->ff, b->rowbuf);
        learn__activate(b->ff, n * F, c->act);
        learn__linear_ref(L->w_down, L->b_down, b->ff, n, b->h, b->rowbuf);
        for (size_t i = 0; i < n * D; i++) b->x[i] += b->h[i];
        if (!c->pre_norm)
            for (size_t t = 0; t < n; t++)
                learn__layernorm(b->x + t * D, b->x + t * D, (const float *)L->ffn_norm_w->data,
                                 (const float *)L->ffn_norm_b->data, D, c->eps);
    }
    size_t first = items ? 0 : n - 1; /* rows to project */
    float *x = b->x + first * D;
    if (c->pre_norm)
        for (size_t t = 0; t < n - first; t++)
            learn__layernorm(x + t * D, x + t * D, (const float *)c->out_norm_w->data,
                             (const float *)c->out_norm_b->data, D, c->eps);
    learn__linear_ref(c->proj_w, c->proj_b, x, n - first, out, b->rowbuf);
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
        learn__tower_rows(c, &b, content + i * c->d_in, k, 0, 1, out + i * c->d_out);
        for (size_t j = 0; j < k; j++) learn__l2_normalize(out + (i + j) * c->d_out, c->d_out);
    }
    learn__tower_buf_free(&ctx->alloc, &b);
    return LEARN_OK;
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
    learn__tower_rows(c, &b, content, keep, 0, 0, out);
    learn__l2_normalize(out, c->d_out);
    learn__tower_buf_free(&ctx->alloc, &b);
    return LEARN_OK;
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
        learn__tower_rows(c, &s->b, s->content, s->len, 0, 0, s->emb);
    else /* one new position attending to the cached ones */
        learn__tower_rows(c, &s->b, s->content + (size_t)(s->len - 1) * din, 1, s->len - 1, 0,
                          s->emb);
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
   A catalog is a .learn container (same header, checksum and validation) whose metadata and
   tensors follow this schema:
     catalog.version              U32  1
     catalog.n_items              U32  1 .. 2^31 - 1
     catalog.d_content            U32  content embedding size (the LLM's n_embd)
     catalog.d_item               U32  item embedding size (the towers' d_out, or d_content)
     catalog.fingerprint.content  U64  the model's general.fingerprint.content
     catalog.fingerprint.towers   U64  the model's general.fingerprint.towers (0: no towers)
     catalog.ids          U8  [bytes]           the external ids, back to back (UTF-8, no
                                                control characters)
     catalog.id_offsets   I32 [n_items + 1]     id i is bytes [off[i], off[i+1]) (non-empty)
     catalog.id_index     I32 [n_items]         item indices sorted by id (bytewise): strictly
                                                increasing, so ids are unique
     catalog.content      F16 [n_items, d_content]
     catalog.item         F32 [n_items, d_item] L2-normalised item embeddings
   ============================================================================================ */

struct learn_catalog {
    learn_model *file;     /* the container */
    uint32_t n, d_content, d_item;
    uint64_t fp_content, fp_towers;
    const uint8_t *ids;
    const int32_t *id_off, *id_index;
    const uint16_t *content; /* f16 bits */
    const float *item;
};

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
    if (!fc || fc->type != LEARN_META_U64 || !ft || ft->type != LEARN_META_U64)
        return learn__fail(err, errn, LEARN_ERR_FORMAT,
                           "catalog: metadata 'catalog.fingerprint.content' and "
                           "'catalog.fingerprint.towers' must be u64");
    c->fp_content = learn__rd64(fc->value);
    c->fp_towers = learn__rd64(ft->value);
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

static float learn__dot_f32(const float *a, const float *b, size_t n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += a[i + j] * b[i + j];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Scans items [lo, hi) into a heap of at most k hits. */
static void learn__topk_range(const learn_catalog *cat, const float *q, uint32_t lo, uint32_t hi,
                              const uint32_t *excl, size_t n_excl, learn_hit *heap, size_t *n,
                              size_t k) {
    size_t d = cat->d_item;
    for (uint32_t i = lo; i < hi; i++) {
        learn_hit h = {i, learn__dot_f32(q, cat->item + (size_t)i * d, d)};
        if (*n == k && !learn__hit_worse(&heap[0], &h)) continue;
        if (n_excl && learn__sorted_has(excl, n_excl, i)) continue;
        learn__heap_push(heap, n, k, h);
    }
}

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
    size_t n = 0;
    learn__topk_range(cat, query, 0, cat->n, excl, n_exclude, out, &n, kk);
    qsort(out, n, sizeof *out, learn__hit_cmp_best_first);
    *n_out = n;
    learn__free(&ctx->alloc, excl);
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
    char err[LEARN_ERRMSG_SIZE];
};

#define LEARN__BFAIL(b, st, ...) learn__fail((b)->err, sizeof (b)->err, (st), __VA_ARGS__)

learn_status learn_catalog_builder_new(const learn_model *model, uint32_t d_content,
                                       uint32_t d_item, learn_catalog_builder **out) {
    if (!out) return LEARN_ERR_ARG;
    *out = NULL;
    if (!model || d_content == 0 || d_item == 0 || d_content > (1u << 16) || d_item > (1u << 16))
        return LEARN_ERR_ARG;
    learn_catalog_builder *b =
        (learn_catalog_builder *)learn__calloc(&model->alloc, 1, sizeof *b);
    if (!b) return LEARN_ERR_NOMEM;
    b->alloc = model->alloc;
    b->d_content = d_content;
    b->d_item = d_item;
    b->fp_content = model->fp_content;
    b->fp_towers = model->fp_towers;
    b->id_off = (int32_t *)learn__calloc(&b->alloc, 1, sizeof *b->id_off);
    if (!b->id_off) {
        learn__free(&b->alloc, b);
        return LEARN_ERR_NOMEM;
    }
    *out = b;
    return LEARN_OK;
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
    learn_status st = LEARN_OK;
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
        (st = learn_writer_add_tensor(w, "catalog.item", LEARN_TYPE_F32, 2, s_item, b->item, 0))) {
        learn__free(&b->alloc, idx);
        return LEARN__BFAIL(b, st, "%s", learn_writer_errmsg(w));
    }
    *idx_out = idx;
    return LEARN_OK;
}

/* Saves to a file (atomically, io may be NULL) or, when path is NULL, to memory. */
static learn_status learn__builder_save(learn_catalog_builder *b, const char *path,
                                        const learn_io *io, void **data, size_t *size) {
    learn_writer *w;
    if (learn_writer_new(&b->alloc, &w)) return LEARN__BFAIL(b, LEARN_ERR_NOMEM, "out of memory");
    int32_t *idx = NULL;
    learn_status st = learn__builder_to_writer(b, w, &idx);
    if (!st) {
#ifndef LEARN_NO_STDIO
        st = path ? learn_writer_save(w, path, io) : learn_writer_save_memory(w, data, size);
#else
        (void)io;
        st = path ? LEARN_ERR_UNSUPPORTED : learn_writer_save_memory(w, data, size);
#endif
        if (st) LEARN__BFAIL(b, st, "%s", learn_writer_errmsg(w));
    }
    learn__free(&b->alloc, idx);
    learn_writer_free(w); /* a memory buffer belongs to the builder's allocator: it stays */
    return st;
}

#ifndef LEARN_NO_STDIO
learn_status learn_catalog_builder_save(learn_catalog_builder *b, const char *path,
                                        const learn_io *io) {
    if (!b || !path) return LEARN_ERR_ARG;
    return learn__builder_save(b, path, io, NULL, NULL);
}
#endif

learn_status learn_catalog_builder_save_memory(learn_catalog_builder *b, void **data,
                                               size_t *size) {
    if (!b || !data || !size) return LEARN_ERR_ARG;
    return learn__builder_save(b, NULL, NULL, data, size);
}

void learn_catalog_builder_free_buffer(learn_catalog_builder *b, void *data) {
    if (b) learn__free_aligned(&b->alloc, data);
}

/* ============================================================================================
   ==== Public API ====
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
    const learn__llm_config *lc = &model->llm;
    c->pooling = p.pooling ? (learn__pool)p.pooling : (lc->present ? lc->pooling : LEARN__POOL_MEAN);
    c->normalize = p.normalize < 0 ? (lc->present ? lc->normalize : 1) : p.normalize != 0;
    c->batch_tokens = p.batch_tokens ? p.batch_tokens : 512;
    if (lc->present && c->batch_tokens < lc->max_tokens) c->batch_tokens = lc->max_tokens;
#ifdef LEARN_NO_THREADS
    c->n_threads = 1;
#else
    c->n_threads = p.n_threads ? p.n_threads : learn__n_cpus();
#endif
    *ctx = c;
    return LEARN_OK;
}

void learn_ctx_free(learn_ctx *ctx) {
    if (!ctx) return;
    learn_allocator a = ctx->alloc;
    learn__scratch_free(ctx);
    learn__free(&a, ctx);
}

const char *learn_ctx_errmsg(const learn_ctx *ctx) { return ctx ? ctx->err : "context is NULL"; }

int learn_ctx_n_threads(const learn_ctx *ctx) { return ctx ? ctx->n_threads : 0; }

const learn_model *learn_ctx_model(const learn_ctx *ctx) { return ctx ? ctx->model : NULL; }
