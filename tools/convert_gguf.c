/* GGUF models (llama.cpp) into .learn: llama, qwen2, qwen3 and baichuan (7B, RoPE)
   architectures. Tensors of the types learn stores (F32, F16, BF16, Q8_0, Q4_0) are copied
   without loss; the others are dequantized and requantized to
   the type asked for, with a warning naming the tensor (Q4_1, Q5_0, Q5_1, Q2_K..Q6_K and
   IQ4_NL are read; other i-quants are refused naming the tensor). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "gguf.h"
#include "tokimport.h"

/* ggml type ids (ggml.h). */
enum {
    GGML_F32 = 0, GGML_F16 = 1, GGML_Q4_0 = 2, GGML_Q4_1 = 3, GGML_Q5_0 = 6, GGML_Q5_1 = 7,
    GGML_Q8_0 = 8, GGML_Q2_K = 10, GGML_Q3_K = 11, GGML_Q4_K = 12, GGML_Q5_K = 13,
    GGML_Q6_K = 14, GGML_IQ4_NL = 20, GGML_BF16 = 30
};

static float h2f(const uint8_t *p) { return learn_f16_to_f32((uint16_t)(p[0] | (p[1] << 8))); }

/* ---- ggml dequantizers (block layouts of ggml-common.h) ---- */

static void deq_q4_1(const uint8_t *b, float *y) { /* d, m, qs[16] */
    float d = h2f(b), m = h2f(b + 2);
    for (int j = 0; j < 16; j++) {
        y[j] = (float)(b[4 + j] & 0x0f) * d + m;
        y[j + 16] = (float)(b[4 + j] >> 4) * d + m;
    }
}

static void deq_q5(const uint8_t *b, float *y, int has_min) { /* d, [m], qh[4], qs[16] */
    float d = h2f(b), m = has_min ? h2f(b + 2) : 0.0f;
    const uint8_t *qh8 = b + (has_min ? 4 : 2), *qs = qh8 + 4;
    uint32_t qh = (uint32_t)qh8[0] | ((uint32_t)qh8[1] << 8) | ((uint32_t)qh8[2] << 16) |
                  ((uint32_t)qh8[3] << 24);
    for (int j = 0; j < 16; j++) {
        int x0 = (qs[j] & 0x0f) | (int)(((qh >> j) << 4) & 0x10);
        int x1 = (qs[j] >> 4) | (int)((qh >> (j + 12)) & 0x10);
        if (has_min) {
            y[j] = (float)x0 * d + m;
            y[j + 16] = (float)x1 * d + m;
        } else {
            y[j] = (float)(x0 - 16) * d;
            y[j + 16] = (float)(x1 - 16) * d;
        }
    }
}

static void deq_q2_k(const uint8_t *b, float *y) { /* scales[16], qs[64], d, dmin */
    const uint8_t *sc = b, *q = b + 16;
    float d = h2f(b + 80), dmin = h2f(b + 82);
    int is = 0;
    for (int n = 0; n < 256; n += 128, q += 32)
        for (int shift = 0; shift < 8; shift += 2)
            for (int half = 0; half < 2; half++) {
                uint8_t s = sc[is++];
                float dl = d * (float)(s & 0xf), ml = dmin * (float)(s >> 4);
                for (int l = 0; l < 16; l++) *y++ = dl * (float)((q[l + 16 * half] >> shift) & 3) - ml;
            }
}

static void deq_q3_k(const uint8_t *b, float *y) { /* hmask[32], qs[64], scales[12], d */
    const uint8_t *hm = b, *q = b + 32, *s = b + 96;
    float d = h2f(b + 108);
    int8_t scales[16];
    for (int i = 0; i < 16; i++) { /* 6-bit scales: low 4 bits, then 2 high bits */
        int lo = i < 8 ? (s[i] & 0x0f) : (s[i - 8] >> 4);
        int hi = (s[8 + (i % 4)] >> (2 * (i / 4))) & 3;
        scales[i] = (int8_t)((lo | (hi << 4)) - 32);
    }
    int is = 0;
    uint8_t m = 1;
    for (int n = 0; n < 256; n += 128, q += 32)
        for (int shift = 0; shift < 8; shift += 2, m <<= 1)
            for (int half = 0; half < 2; half++) {
                float dl = d * (float)scales[is++];
                for (int l = 0; l < 16; l++) {
                    int k = l + 16 * half;
                    *y++ = dl * (float)(((q[k] >> shift) & 3) - ((hm[k] & m) ? 0 : 4));
                }
            }
}

/* The 6-bit scale and min j of a Q4_K/Q5_K super-block. */
static void k4_scale_min(int j, const uint8_t *q, int *d, int *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

static void deq_q45_k(const uint8_t *b, float *y, int five) {
    /* d, dmin, scales[12], (q5: qh[32]), qs[128] */
    float d = h2f(b), dmin = h2f(b + 2);
    const uint8_t *sc = b + 4, *qh = b + 16, *ql = b + (five ? 48 : 16);
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0, is = 0; j < 256; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
        int s1, m1, s2, m2;
        k4_scale_min(is, sc, &s1, &m1);
        k4_scale_min(is + 1, sc, &s2, &m2);
        float d1 = d * (float)s1, mm1 = dmin * (float)m1, d2 = d * (float)s2, mm2 = dmin * (float)m2;
        for (int l = 0; l < 32; l++)
            *y++ = d1 * (float)((ql[l] & 0x0f) + (five && (qh[l] & u1) ? 16 : 0)) - mm1;
        for (int l = 0; l < 32; l++)
            *y++ = d2 * (float)((ql[l] >> 4) + (five && (qh[l] & u2) ? 16 : 0)) - mm2;
    }
}

static void deq_q6_k(const uint8_t *b, float *y) { /* ql[128], qh[64], scales[16], d */
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    float d = h2f(b + 208);
    for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8)
        for (int l = 0; l < 32; l++) {
            int is = l / 16;
            int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
            int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
            int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l] = d * (float)sc[is] * (float)q1;
            y[l + 32] = d * (float)sc[is + 2] * (float)q2;
            y[l + 64] = d * (float)sc[is + 4] * (float)q3;
            y[l + 96] = d * (float)sc[is + 6] * (float)q4;
        }
}

static void deq_iq4_nl(const uint8_t *b, float *y) { /* d, qs[16]: a non-linear 4-bit grid */
    static const int8_t grid[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                    1,    13,   25,  38,  53,  69,  89,  113};
    float d = h2f(b);
    for (int j = 0; j < 16; j++) {
        y[j] = d * (float)grid[b[2 + j] & 0x0f];
        y[j + 16] = d * (float)grid[b[2 + j] >> 4];
    }
}

int convert_ggml_dequantize(uint32_t ggml_type, const void *src, float *dst, size_t n) {
    const uint8_t *b = (const uint8_t *)src;
    uint32_t be = gguf_type_block_elems(ggml_type), bb = gguf_type_block_bytes(ggml_type);
    if (!be || n % be) return 1;
    switch (ggml_type) {
    case GGML_F32: memcpy(dst, src, n * 4); return 0;
    case GGML_F16: return learn_dequantize(LEARN_TYPE_F16, src, dst, n) != LEARN_OK;
    case GGML_BF16: return learn_dequantize(LEARN_TYPE_BF16, src, dst, n) != LEARN_OK;
    case GGML_Q8_0: return learn_dequantize(LEARN_TYPE_Q8_0, src, dst, n) != LEARN_OK;
    case GGML_Q4_0: return learn_dequantize(LEARN_TYPE_Q4_0, src, dst, n) != LEARN_OK;
    default: break;
    }
    for (size_t i = 0; i < n / be; i++, b += bb, dst += be) {
        switch (ggml_type) {
        case GGML_Q4_1: deq_q4_1(b, dst); break;
        case GGML_Q5_0: deq_q5(b, dst, 0); break;
        case GGML_Q5_1: deq_q5(b, dst, 1); break;
        case GGML_Q2_K: deq_q2_k(b, dst); break;
        case GGML_Q3_K: deq_q3_k(b, dst); break;
        case GGML_Q4_K: deq_q45_k(b, dst, 0); break;
        case GGML_Q5_K: deq_q45_k(b, dst, 1); break;
        case GGML_Q6_K: deq_q6_k(b, dst); break;
        case GGML_IQ4_NL: deq_iq4_nl(b, dst); break;
        default: return 1;
        }
    }
    return 0;
}

/* The learn type that stores a ggml type without loss, or -1. */
static int lossless_type(uint32_t t) {
    switch (t) {
    case GGML_F32: return LEARN_TYPE_F32;
    case GGML_F16: return LEARN_TYPE_F16;
    case GGML_BF16: return LEARN_TYPE_BF16;
    case GGML_Q8_0: return LEARN_TYPE_Q8_0;
    case GGML_Q4_0: return LEARN_TYPE_Q4_0;
    default: return -1;
    }
}

/* Copies (borrowing the mapped data) or converts one GGUF tensor into the writer. */
static int add_gguf_tensor(learn_writer *w, convert_arena *arena, const gguf_tensor *t,
                           const convert_opts *opts, char *err, size_t errn) {
    uint64_t shape[4];
    for (uint32_t d = 0; d < t->n_dims; d++) shape[d] = t->ne[t->n_dims - 1 - d]; /* row-major */
    int own = lossless_type(t->type);
    int vector = t->n_dims == 1;
    learn_type want = vector ? LEARN_TYPE_F32 : (opts->keep && own >= 0) ? (learn_type)own : opts->type;
    if (own >= 0 && (learn_type)own == want) {
        if (learn_writer_add_tensor(w, t->name, want, t->n_dims, shape, t->data, 0)) {
            snprintf(err, errn, "%s: %s", t->name, learn_writer_errmsg(w));
            return 1;
        }
        return 0;
    }
    if (own < 0 && !vector)
        fprintf(stderr, "learn-cli convert: warning: %s is %s, which learn does not store: "
                        "dequantized and requantized to %s\n",
                t->name, gguf_type_name(t->type) ? gguf_type_name(t->type) : "?", learn_type_name(want));
    uint64_t cols = t->ne[0], rows = t->n_elements / cols;
    float *row = (float *)malloc((size_t)cols * sizeof *row);
    if (!row) {
        snprintf(err, errn, "%s: out of memory", t->name);
        return 1;
    }
    /* Rows that are not whole blocks of the target type fall back to F16. */
    if (learn_type_block_elems(want) > 1 && cols % learn_type_block_elems(want)) want = LEARN_TYPE_F16;
    size_t out_row = (size_t)learn_type_row_bytes(want, cols), in_row = (size_t)(t->size / rows);
    uint8_t *out = (uint8_t *)malloc(out_row * (size_t)rows);
    int rc = 0;
    if (!out) {
        snprintf(err, errn, "%s: out of memory", t->name);
        rc = 1;
    }
    for (uint64_t r = 0; r < rows && !rc; r++) {
        if (convert_ggml_dequantize(t->type, (const uint8_t *)t->data + r * in_row, row, (size_t)cols)) {
            snprintf(err, errn, "%s: ggml type %s (%u) is not supported", t->name,
                     gguf_type_name(t->type) ? gguf_type_name(t->type) : "unknown", t->type);
            rc = 1;
        } else {
            learn_quantize(want, row, out + r * out_row, (size_t)cols);
        }
    }
    free(row);
    if (!rc) {
        if (convert_arena_keep(arena, out)) {
            free(out);
            snprintf(err, errn, "out of memory");
            return 1;
        }
        if (learn_writer_add_tensor(w, t->name, want, t->n_dims, shape, out, 0)) {
            snprintf(err, errn, "%s: %s", t->name, learn_writer_errmsg(w));
            return 1;
        }
        return 0;
    }
    free(out);
    return rc;
}

/* Reads "<arch>.<key>" as an unsigned integer. */
static int gguf_u32(const gguf_file *g, const char *arch, const char *key, int required,
                    uint32_t *out, char *err, size_t errn) {
    char full[128];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    gguf_value v;
    uint64_t u;
    if (gguf_get(g, full, &v) != LEARN_OK) {
        if (!required) return 0;
        snprintf(err, errn, "metadata '%s' is missing", full);
        return 1;
    }
    if (v.type == GGUF_TYPE_ARRAY) {
        snprintf(err, errn, "metadata '%s' is an array (per-layer values are not supported)", full);
        return 1;
    }
    if (gguf_as_u64(&v, &u) != LEARN_OK || u > UINT32_MAX) {
        snprintf(err, errn, "metadata '%s' is not an unsigned 32-bit integer", full);
        return 1;
    }
    *out = (uint32_t)u;
    return 0;
}

static int gguf_f32(const gguf_file *g, const char *arch, const char *key, float *out) {
    char full[128];
    snprintf(full, sizeof full, "%s.%s", arch, key);
    gguf_value v;
    double d;
    if (gguf_get(g, full, &v) != LEARN_OK || gguf_as_f64(&v, &d) != LEARN_OK) return 0;
    *out = (float)d;
    return 1;
}

static void warn_stderr(void *user, const char *msg) {
    (void)user;
    fprintf(stderr, "learn-cli convert: warning: %s\n", msg);
}

int convert_gguf(const char *path, learn_writer *w, convert_arena *arena, const convert_opts *opts,
                 gguf_file **keep_open, char *err, size_t errn) {
    gguf_file *g;
    *keep_open = NULL;
    if (gguf_open(path, &g, err, errn) != LEARN_OK) return 1;
    gguf_value v;
    const char *arch_s;
    size_t arch_len;
    if (gguf_get(g, "general.architecture", &v) != LEARN_OK || gguf_as_str(&v, &arch_s, &arch_len) != LEARN_OK) {
        snprintf(err, errn, "%s: metadata 'general.architecture' is missing", path);
        gguf_close(g);
        return 1;
    }
    char arch[32];
    snprintf(arch, sizeof arch, "%.*s", (int)(arch_len < 31 ? arch_len : 31), arch_s);
    const char *ours = strcmp(arch, "baichuan") == 0 ? "llama" : arch;
    if (strcmp(ours, "llama") && strcmp(ours, "qwen2") && strcmp(ours, "qwen3")) {
        snprintf(err, errn, "%s: architecture '%s' is not supported (llama, qwen2, qwen3, baichuan)", path, arch);
        gguf_close(g);
        return 1;
    }
    uint32_t embd = 0, layers = 0, heads = 0, kv = 0, ff = 0, ctx = 0, vocab = 0, head_dim = 0;
    if (gguf_u32(g, arch, "embedding_length", 1, &embd, err, errn) ||
        gguf_u32(g, arch, "block_count", 1, &layers, err, errn) ||
        gguf_u32(g, arch, "attention.head_count", 1, &heads, err, errn) ||
        gguf_u32(g, arch, "feed_forward_length", 1, &ff, err, errn) ||
        gguf_u32(g, arch, "context_length", 1, &ctx, err, errn) ||
        gguf_u32(g, arch, "attention.head_count_kv", 0, &kv, err, errn) ||
        gguf_u32(g, arch, "attention.key_length", 0, &head_dim, err, errn) ||
        gguf_u32(g, arch, "vocab_size", 0, &vocab, err, errn)) {
        char inner[256];
        snprintf(inner, sizeof inner, "%s", err);
        snprintf(err, errn, "%s: %s", path, inner);
        gguf_close(g);
        return 1;
    }
    if (strcmp(arch, "baichuan") == 0 && layers == 40) {
        snprintf(err, errn, "%s: Baichuan 13B uses ALiBi attention, which is not supported (7B is)", path);
        gguf_close(g);
        return 1;
    }
    char key[128];
    snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
    const char *scaling;
    size_t scaling_len;
    if (gguf_get(g, key, &v) == LEARN_OK && gguf_as_str(&v, &scaling, &scaling_len) == LEARN_OK &&
        !(scaling_len == 4 && memcmp(scaling, "none", 4) == 0)) {
        snprintf(err, errn, "%s: RoPE scaling '%.*s' is not supported", path, (int)scaling_len, scaling);
        gguf_close(g);
        return 1;
    }
    const gguf_tensor *emb = gguf_find_tensor(g, "token_embd.weight");
    if (!emb) {
        snprintf(err, errn, "%s: tensor 'token_embd.weight' is missing", path);
        gguf_close(g);
        return 1;
    }
    if (!vocab) vocab = (uint32_t)emb->ne[1];
    if (!kv) kv = heads;
    /* llama.cpp rotates pairs (2i, 2i+1) for llama and baichuan, (i, i + d/2) for qwen. */
    convert_llm llm = {ours, NULL, 0, vocab, embd, layers, heads, kv, ff, ctx, head_dim, NAN, NAN,
                       strcmp(ours, "llama") == 0 ? "norm" : "neox", 0};
    if (gguf_get(g, "general.name", &v) != LEARN_OK || gguf_as_str(&v, &llm.name, &llm.name_len) != LEARN_OK)
        llm.name = NULL;
    float f;
    if (gguf_f32(g, arch, "rope.freq_base", &f)) llm.rope_theta = f;
    if (gguf_f32(g, arch, "attention.layer_norm_rms_epsilon", &f)) llm.rms_eps = f;
    if (convert_set_llm(w, &llm, err, errn)) {
        gguf_close(g);
        return 1;
    }
    for (uint64_t i = 0; i < gguf_n_tensors(g); i++) {
        const gguf_tensor *t = gguf_tensor_at(g, i);
        if (strcmp(t->name, "output.weight") == 0) continue; /* the LM head: not used to encode */
        if (add_gguf_tensor(w, arena, t, opts, err, errn)) {
            gguf_close(g);
            return 1;
        }
    }
    if (gguf_get(g, "tokenizer.ggml.model", &v) == LEARN_OK) {
        tokimport_opts to = tokimport_default_opts();
        to.warn = warn_stderr;
        if (tokimport_gguf(w, g, &to, err, errn) != LEARN_OK) {
            gguf_close(g);
            return 1;
        }
    } else {
        fprintf(stderr, "learn-cli convert: warning: %s has no tokenizer: the model can only "
                        "encode token ids\n", path);
    }
    *keep_open = g; /* tensors are borrowed from the mapped file until the writer is saved */
    return 0;
}
