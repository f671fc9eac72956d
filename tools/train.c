/* train.c - the towers' training engine; see train.h for what it computes.

   Layout: parameters -> threads -> building blocks (linear, LayerNorm, activation, attention,
   each forward and backward) -> the towers forward/backward over a batch -> loss -> AdamW and
   schedule -> data (windows, batches) -> public API -> checkpoints.

   A batch is a set of segments (one user history, or one item as a length-1 sequence) whose
   rows are stacked: [T rows][features]. Every weight is applied to all rows at once, and the
   work is split by rows (activations, input gradients) or by output features (weight
   gradients), each result computed by one thread with a fixed summation order. */
#define _POSIX_C_SOURCE 200809L
#include "train.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "towers_import.h"
#include "util.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF /* gcc does not contract under -std=c11 */
#endif

typedef train_real treal;

#define TR_MAX_THREADS 64

/* ==== Parameters ==== */

enum { TR_MATRIX, TR_BIAS, TR_NORM_W, TR_NORM_B, TR_POS };

typedef struct tr_tensor {
    char name[48];
    size_t off, rows, cols; /* cols = 0: a vector of `rows` */
    int kind;
} tr_tensor;

/* Offsets of one block's parameters. */
typedef struct tr_layer {
    size_t wq, bq, wk, bk, wv, bv, wo, bo, n1w, n1b, wup, bup, wdn, bdn, n2w, n2b;
} tr_layer;

/* Activations of one block over a batch (pre: n1 = LN1(x), x1 = x + attn, n2 = LN2(x1);
   post: n1 = LN1(x + attn), the block output = LN2(n1 + ffn)). */
typedef struct tr_act {
    treal *q, *k, *v, *a;  /* [T][D] */
    treal *p;              /* attention probabilities, per segment [H][len][len] */
    treal *xh1, *rs1, *n1; /* LN1: normalised input [T][D], 1/std [T], output [T][D] */
    treal *u, *g;          /* [T][F] pre-activation, activation */
    treal *xh2, *rs2;      /* LN2 */
    treal *x1, *n2;        /* pre-LN only: [T][D] */
} tr_act;

/* One batch: segments of rows, and the rows whose outputs are used. */
typedef struct tr_batch {
    size_t n_rows, n_seg, n_out, n_pairs;
    uint32_t *row_item, *row_pos;   /* [T] */
    size_t *seg_start, *seg_len, *seg_p; /* [n_seg]; seg_p: offset into tr_act.p */
    size_t *out_row;                /* [n_out] */
    uint32_t *target;               /* [n_pairs]: pair i is (query out i, key out n_pairs + i) */
} tr_batch;

struct train_state {
    train_config cfg;
    train_data data;
    uint32_t d_in, D, L, H, hd, F, d_out, max_pos;
    size_t n_params;
    treal *P, *G, *M, *V;
    tr_tensor *tensors;
    uint32_t n_tensors;
    size_t adaptor_w, adaptor_b, pos, proj_w, proj_b, outn_w, outn_b;
    tr_layer *layers;
    /* windows: absolute offsets into data.seq */
    uint32_t n_win, n_skipped;
    uint32_t *win_start, *win_len;
    uint32_t *perm;
    uint64_t perm_epoch;
    uint64_t step, spe, total;
    uint64_t data_digest;
    /* workspace, for T_cap rows, P_cap attention probabilities, O_cap outputs */
    size_t T_cap, P_cap, O_cap;
    treal **xs;                     /* [L + 1][T][D] the residual stream at each block's input */
    tr_act *act;                    /* [L] */
    treal *cin;                     /* [T][d_in] content rows (standardized) */
    float *in_mean, *in_scale;      /* [d_in] content standardization: (x - mean) * scale;
                                       NULL: content used as it is */
    treal *logq;                    /* [n_items] log frequency of each item in the training
                                       sequences (the sampling-bias correction), or NULL */
    treal *xhf, *rsf, *z;           /* pre-LN final norm; z: the proj input [T][D] */
    treal *zo, *y, *e, *ynorm;      /* [O][D], [O][d_out] x 2, [O] */
    treal *logits;                  /* [O/2][O/2] */
    treal *dx, *dq, *dk, *dv, *da, *dn, *dr, *df, *dy; /* gradients */
    treal *wt;                      /* the largest weight matrix, transposed (tr_lin_fwd) */
    int avx2;                       /* the AVX2 compilation of the hot loops (tr_want_avx2) */
    tr_batch b;
    double last_loss;
    char err[256];
};

#define TR_FAIL(t, st, ...) util_fail((t)->err, sizeof (t)->err, (st), __VA_ARGS__)

/* Counter-based random numbers: splitmix64 of a mix of the inputs. */
static uint64_t tr_mix(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static uint64_t tr_hash(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
    return tr_mix(tr_mix(tr_mix(tr_mix(seed) ^ a) ^ b) ^ c);
}
static double tr_unit(uint64_t h) { return (double)(h >> 11) * 0x1p-53; }

static size_t tr_add_tensor(train_state *t, const char *name, size_t rows, size_t cols, int kind) {
    tr_tensor *x = &t->tensors[t->n_tensors++];
    snprintf(x->name, sizeof x->name, "%s", name);
    x->off = t->n_params;
    x->rows = rows;
    x->cols = cols;
    x->kind = kind;
    t->n_params += rows * (cols ? cols : 1);
    return x->off;
}

/* Lays out every parameter in the order they are written (the tower schema's names). */
static void tr_layout(train_state *t) {
    size_t D = t->D, F = t->F;
    t->n_tensors = 0;
    t->n_params = 0;
    t->adaptor_w = tr_add_tensor(t, "tower.adaptor.weight", D, t->d_in, TR_MATRIX);
    t->adaptor_b = tr_add_tensor(t, "tower.adaptor.bias", D, 0, TR_BIAS);
    if (t->max_pos) t->pos = tr_add_tensor(t, "tower.pos_embd.weight", t->max_pos, D, TR_POS);
    for (uint32_t l = 0; l < t->L; l++) {
        tr_layer *y = &t->layers[l];
        char nm[48];
#define TR_T(field, suffix, r, c, kind)                                                           \
    snprintf(nm, sizeof nm, "tower.blk.%u.%s", l, suffix);                                       \
    y->field = tr_add_tensor(t, nm, r, c, kind)
        TR_T(wq, "attn_q.weight", D, D, TR_MATRIX);
        TR_T(bq, "attn_q.bias", D, 0, TR_BIAS);
        TR_T(wk, "attn_k.weight", D, D, TR_MATRIX);
        TR_T(bk, "attn_k.bias", D, 0, TR_BIAS);
        TR_T(wv, "attn_v.weight", D, D, TR_MATRIX);
        TR_T(bv, "attn_v.bias", D, 0, TR_BIAS);
        TR_T(wo, "attn_output.weight", D, D, TR_MATRIX);
        TR_T(bo, "attn_output.bias", D, 0, TR_BIAS);
        TR_T(n1w, "attn_norm.weight", D, 0, TR_NORM_W);
        TR_T(n1b, "attn_norm.bias", D, 0, TR_NORM_B);
        TR_T(wup, "ffn_up.weight", F, D, TR_MATRIX);
        TR_T(bup, "ffn_up.bias", F, 0, TR_BIAS);
        TR_T(wdn, "ffn_down.weight", D, F, TR_MATRIX);
        TR_T(bdn, "ffn_down.bias", D, 0, TR_BIAS);
        TR_T(n2w, "ffn_norm.weight", D, 0, TR_NORM_W);
        TR_T(n2b, "ffn_norm.bias", D, 0, TR_NORM_B);
#undef TR_T
    }
    if (t->cfg.pre_norm) {
        t->outn_w = tr_add_tensor(t, "tower.out_norm.weight", D, 0, TR_NORM_W);
        t->outn_b = tr_add_tensor(t, "tower.out_norm.bias", D, 0, TR_NORM_B);
    }
    t->proj_w = tr_add_tensor(t, "tower.proj.weight", t->d_out, D, TR_MATRIX);
    t->proj_b = tr_add_tensor(t, "tower.proj.bias", t->d_out, 0, TR_BIAS);
}

/* BERT's initialisation, element i of tensor x from (seed, i): order-independent. */
static void tr_init_params(train_state *t) {
    for (uint32_t k = 0; k < t->n_tensors; k++) {
        const tr_tensor *x = &t->tensors[k];
        size_t n = x->rows * (x->cols ? x->cols : 1);
        for (size_t i = 0; i < n; i++) {
            treal v = 0;
            if (x->kind == TR_MATRIX || x->kind == TR_POS) {
                double u1 = tr_unit(tr_hash(t->cfg.seed, 1, x->off + i, 0));
                double u2 = tr_unit(tr_hash(t->cfg.seed, 2, x->off + i, 0));
                if (u1 < 1e-300) u1 = 1e-300;
                v = (treal)(t->cfg.init_std * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
            } else if (x->kind == TR_NORM_W) {
                v = 1;
            }
            t->P[x->off + i] = v;
        }
    }
}

/* ==== Threads ====
   tr_parallel(t, n, fn, arg) runs fn(arg, lo, hi) over [0, n) in contiguous chunks, one per
   thread. Callers make every output element depend on one index only, so the split never
   changes a result. `cost` (work per index) keeps small jobs on the calling thread. */

typedef void (*tr_fn)(void *arg, size_t lo, size_t hi);
typedef struct tr_job {
    tr_fn fn;
    void *arg;
    size_t lo, hi;
} tr_job;

static void *tr_thread(void *p) {
    tr_job *j = (tr_job *)p;
    j->fn(j->arg, j->lo, j->hi);
    return NULL;
}

static void tr_parallel(const train_state *t, size_t n, size_t cost, tr_fn fn, void *arg) {
    size_t nt = (size_t)t->cfg.n_threads;
    if (nt > n) nt = n;
    if (nt <= 1 || n * cost < (1u << 15)) {
        if (n) fn(arg, 0, n);
        return;
    }
    tr_job jobs[TR_MAX_THREADS];
    pthread_t th[TR_MAX_THREADS];
    int started[TR_MAX_THREADS];
    for (size_t k = 0; k < nt; k++) {
        jobs[k] = (tr_job){fn, arg, n * k / nt, n * (k + 1) / nt};
        started[k] = k > 0 && pthread_create(&th[k], NULL, tr_thread, &jobs[k]) == 0;
    }
    for (size_t k = 0; k < nt; k++)
        if (!started[k]) fn(arg, jobs[k].lo, jobs[k].hi); /* the caller's chunk, or a failed start */
    for (size_t k = 1; k < nt; k++)
        if (started[k]) pthread_join(th[k], NULL);
}

/* ==== Building blocks ==== */

/* Arguments of the row/column jobs below. */
typedef struct tr_args {
    const train_state *t;
    const treal *x, *w, *b, *dy;
    treal *y, *dx, *dw, *db;
    size_t T, K, R;
    int acc;
} tr_args;

/* The three products below are the trainer's hot loops (about 80% of its time). Each is
   written once, on vectors of TR_VL reals, as an always-inline body, and compiled twice: for
   the baseline ISA and, on x86, with AVX2 (chosen at run time). The vectors only ever run
   along an independent index (outputs r for the forward, inputs k for the gradients), so every
   sum keeps the scalar order: y[t][r] sums x[t][k] w[r][k] over k in order, dX and dW sum four
   products ((g0 a0 + g1 a1) + g2 a2) + g3 a3 per group of four. The results are the same bits
   for either compilation, any tiling and any thread count (no contraction into FMA: the
   pragma at the top of the file for clang, -std=c11 for gcc). */
#if defined(__GNUC__) || defined(__clang__)
#define TR_VEC 1
#define TR_VL (32 / sizeof(treal))
typedef treal trv __attribute__((vector_size(32)));
#define TR_INLINE static inline __attribute__((always_inline))
/* Vectors returned by the helpers: always inlined, so no ABI is involved. */
#if defined(__clang__)
#if __has_warning("-Wpsabi")
#pragma clang diagnostic ignored "-Wpsabi"
#endif
#else
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
TR_INLINE trv trv_ld(const treal *p) {
    trv v;
    memcpy(&v, p, sizeof v);
    return v;
}
#define trv_st(p, v) /* a macro: a vector argument makes gcc note an ABI change */ \
    do { \
        trv st_ = (v); \
        memcpy((p), &st_, sizeof st_); \
    } while (0)
TR_INLINE trv trv_bc(treal x) {
    trv v;
    for (size_t i = 0; i < TR_VL; i++) v[i] = x;
    return v;
}
#else
#define TR_VEC 0
#define TR_VL 1
#define TR_INLINE static inline
#endif

/* y[t][r] = x[t] . w[r] + b[r] for rows t in [lo, hi), from wt = W transposed ([K][R]): blocks
   of 32 rows (kept in cache while every strip of outputs passes over them), tiles of 4 rows x
   2 vectors of outputs. */
TR_INLINE void tr_lin_fwd_body(const tr_args *a, size_t lo, size_t hi) {
    size_t K = a->K, R = a->R, rv = 0;
    const treal *wt = a->w;
#if TR_VEC
    rv = R - R % (2 * TR_VL);
    for (size_t tb = lo; tb < hi; tb += 32) {
        size_t te = tb + 32 < hi ? tb + 32 : hi;
        for (size_t r0 = 0; r0 < rv; r0 += 2 * TR_VL) {
            trv b0 = trv_ld(a->b + r0), b1 = trv_ld(a->b + r0 + TR_VL);
            size_t t = tb;
            for (; t + 4 <= te; t += 4) {
                const treal *x0 = a->x + t * K, *x1 = x0 + K, *x2 = x1 + K, *x3 = x2 + K;
                trv s00 = trv_bc(0), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00,
                    s30 = s00, s31 = s00;
                for (size_t k = 0; k < K; k++) {
                    trv w0 = trv_ld(wt + k * R + r0), w1 = trv_ld(wt + k * R + r0 + TR_VL), xv;
                    xv = trv_bc(x0[k]), s00 += xv * w0, s01 += xv * w1;
                    xv = trv_bc(x1[k]), s10 += xv * w0, s11 += xv * w1;
                    xv = trv_bc(x2[k]), s20 += xv * w0, s21 += xv * w1;
                    xv = trv_bc(x3[k]), s30 += xv * w0, s31 += xv * w1;
                }
                treal *y = a->y + t * R + r0;
                trv_st(y, s00 + b0);
                trv_st(y + TR_VL, s01 + b1);
                y += R;
                trv_st(y, s10 + b0);
                trv_st(y + TR_VL, s11 + b1);
                y += R;
                trv_st(y, s20 + b0);
                trv_st(y + TR_VL, s21 + b1);
                y += R;
                trv_st(y, s30 + b0);
                trv_st(y + TR_VL, s31 + b1);
            }
            for (; t < te; t++) {
                const treal *x = a->x + t * K;
                trv s0 = trv_bc(0), s1 = s0;
                for (size_t k = 0; k < K; k++) {
                    trv xv = trv_bc(x[k]);
                    s0 += xv * trv_ld(wt + k * R + r0), s1 += xv * trv_ld(wt + k * R + r0 + TR_VL);
                }
                trv_st(a->y + t * R + r0, s0 + b0);
                trv_st(a->y + t * R + r0 + TR_VL, s1 + b1);
            }
        }
    }
#endif
    for (size_t t = lo; t < hi && rv < R; t++) {
        const treal *x = a->x + t * K;
        for (size_t r = rv; r < R; r++) {
            treal s = 0;
            for (size_t k = 0; k < K; k++) s += x[k] * wt[k * R + r];
            a->y[t * R + r] = s + a->b[r];
        }
    }
}

/* d0[k] += ((g0 s0[k] + g1 s1[k]) + g2 s2[k]) + g3 s3[k] for k < K, where s_i = s + i ld; the
   same with h into d1 unless d1 is NULL (two destinations share the loads of s). */
TR_INLINE void tr_acc4(treal *d0, treal *d1, const treal *s, size_t ld, const treal g[4],
                       const treal h[4], size_t K) {
    const treal *s0 = s, *s1 = s0 + ld, *s2 = s1 + ld, *s3 = s2 + ld;
    size_t k = 0;
#if TR_VEC
    trv G0 = trv_bc(g[0]), G1 = trv_bc(g[1]), G2 = trv_bc(g[2]), G3 = trv_bc(g[3]);
    trv H0 = trv_bc(h[0]), H1 = trv_bc(h[1]), H2 = trv_bc(h[2]), H3 = trv_bc(h[3]);
    for (; k + TR_VL <= K; k += TR_VL) {
        trv S0 = trv_ld(s0 + k), S1 = trv_ld(s1 + k), S2 = trv_ld(s2 + k), S3 = trv_ld(s3 + k);
        trv_st(d0 + k, trv_ld(d0 + k) + (G0 * S0 + G1 * S1 + G2 * S2 + G3 * S3));
        if (d1) trv_st(d1 + k, trv_ld(d1 + k) + (H0 * S0 + H1 * S1 + H2 * S2 + H3 * S3));
    }
#endif
    for (; k < K; k++) {
        d0[k] += g[0] * s0[k] + g[1] * s1[k] + g[2] * s2[k] + g[3] * s3[k];
        if (d1) d1[k] += h[0] * s0[k] + h[1] * s1[k] + h[2] * s2[k] + h[3] * s3[k];
    }
}

/* dx[t] (+)= sum_r dy[t][r] w[r], for rows t in [lo, hi): blocks of 8 rows (in cache while
   the weights pass over them), two rows at a time sharing the weight loads, four weight rows
   per pass over dx. */
TR_INLINE void tr_lin_bwd_x_body(const tr_args *a, size_t lo, size_t hi) {
    size_t K = a->K, R = a->R;
    for (size_t tb = lo; tb < hi; tb += 8) {
        size_t te = tb + 8 < hi ? tb + 8 : hi;
        if (!a->acc) memset(a->dx + tb * K, 0, (te - tb) * K * sizeof(treal));
        size_t r = 0;
        for (; r + 4 <= R; r += 4)
            for (size_t t = tb; t < te; t += 2) {
                const int two = t + 1 < te;
                tr_acc4(a->dx + t * K, two ? a->dx + (t + 1) * K : NULL, a->w + r * K, K,
                        a->dy + t * R + r, a->dy + (t + two) * R + r, K);
            }
        for (; r < R; r++) {
            const treal *w = a->w + r * K;
            for (size_t t = tb; t < te; t++) {
                treal g = a->dy[t * R + r], *dx = a->dx + t * K;
                for (size_t k = 0; k < K; k++) dx[k] += g * w[k];
            }
        }
    }
}

/* dW[r] += sum_t dy[t][r] x[t]; db[r] += sum_t dy[t][r], for output features r in [lo, hi):
   chunks of 32 features over blocks of 32 rows (both kept in cache), two features at a time
   sharing the loads of x, four rows per pass over dw. */
TR_INLINE void tr_lin_bwd_w_body(const tr_args *a, size_t lo, size_t hi) {
    size_t K = a->K, R = a->R, T = a->T, T4 = T - T % 4;
    for (size_t rc = lo; rc < hi; rc += 32) {
        size_t re = rc + 32 < hi ? rc + 32 : hi;
        treal db[32] = {0};
        for (size_t tb = 0; tb < T4; tb += 32) {
            size_t te = tb + 32 < T4 ? tb + 32 : T4;
            for (size_t r = rc; r < re; r += 2) {
                const int two = r + 1 < re;
                for (size_t t = tb; t < te; t += 4) {
                    const treal *dy = a->dy + t * R + r;
                    const treal g[4] = {dy[0], dy[R], dy[2 * R], dy[3 * R]};
                    const treal h[4] = {dy[two], dy[R + two], dy[2 * R + two], dy[3 * R + two]};
                    db[r - rc] += g[0] + g[1] + g[2] + g[3];
                    if (two) db[r + 1 - rc] += h[0] + h[1] + h[2] + h[3];
                    tr_acc4(a->dw + r * K, two ? a->dw + (r + 1) * K : NULL, a->x + t * K, K, g, h, K);
                }
            }
        }
        for (size_t r = rc; r < re; r++) {
            treal *dw = a->dw + r * K, sum = db[r - rc];
            for (size_t t = T4; t < T; t++) {
                treal g = a->dy[t * R + r];
                const treal *x = a->x + t * K;
                sum += g;
                for (size_t k = 0; k < K; k++) dw[k] += g * x[k];
            }
            a->db[r] += sum;
        }
    }
}

static void tr_lin_fwd_rows(void *p, size_t lo, size_t hi) { tr_lin_fwd_body((const tr_args *)p, lo, hi); }
static void tr_lin_bwd_x_rows(void *p, size_t lo, size_t hi) { tr_lin_bwd_x_body((const tr_args *)p, lo, hi); }
static void tr_lin_bwd_w_rows(void *p, size_t lo, size_t hi) { tr_lin_bwd_w_body((const tr_args *)p, lo, hi); }
#if TR_VEC && (defined(__x86_64__) || defined(__i386__))
#define TR_AVX2 1
__attribute__((target("avx2"))) static void tr_lin_fwd_rows_avx2(void *p, size_t lo, size_t hi) {
    tr_lin_fwd_body((const tr_args *)p, lo, hi);
}
__attribute__((target("avx2"))) static void tr_lin_bwd_x_rows_avx2(void *p, size_t lo, size_t hi) {
    tr_lin_bwd_x_body((const tr_args *)p, lo, hi);
}
__attribute__((target("avx2"))) static void tr_lin_bwd_w_rows_avx2(void *p, size_t lo, size_t hi) {
    tr_lin_bwd_w_body((const tr_args *)p, lo, hi);
}
#else
#define TR_AVX2 0
#endif

/* The AVX2 compilation when the runtime's kernels would run AVX2 or above here: learn_isa_check
   resolves LEARN_ISA and the CPU as a context does (LEARN_ISA=scalar, a LEARN_NO_SIMD build or a
   CPU without AVX2 give the baseline). The two compilations give the same bits. */
static int tr_want_avx2(void) {
#if TR_AVX2
    char level[160];
    /* every x86-64 level above scalar has AVX2 */
    return learn_isa_check(NULL, level, sizeof level) == LEARN_OK && strcmp(level, "scalar") != 0;
#else
    return 0;
#endif
}

/* Y [T][R] = X [T][K] W^T (W [R][K]) + b. W is first transposed into t->wt. */
static void tr_lin_fwd(const train_state *t, const treal *X, size_t T, size_t K, size_t w,
                       size_t b, size_t R, treal *Y) {
    const treal *W = t->P + w;
    for (size_t r = 0; r < R; r++)
        for (size_t k = 0; k < K; k++) t->wt[k * R + r] = W[r * K + k];
    tr_args a = {t, X, t->wt, t->P + b, NULL, Y, NULL, NULL, NULL, T, K, R, 0};
    tr_fn fn = tr_lin_fwd_rows;
#if TR_AVX2
    if (t->avx2) fn = tr_lin_fwd_rows_avx2;
#endif
    tr_parallel(t, T, K * R, fn, &a);
}

/* The backward of tr_lin_fwd: dX [T][K] = dY W (added to dX when acc; skipped when dX is
   NULL), dW += dY^T X, db += column sums of dY. */
static void tr_lin_bwd(train_state *t, const treal *X, const treal *dY, size_t T, size_t K,
                       size_t w, size_t b, size_t R, treal *dX, int acc) {
    tr_args a = {t, X, t->P + w, NULL, dY, NULL, dX, t->G + w, t->G + b, T, K, R, acc};
    tr_fn fx = tr_lin_bwd_x_rows, fw = tr_lin_bwd_w_rows;
#if TR_AVX2
    if (t->avx2) fx = tr_lin_bwd_x_rows_avx2, fw = tr_lin_bwd_w_rows_avx2;
#endif
    if (dX) tr_parallel(t, T, K * R, fx, &a);
    tr_parallel(t, R, K * T, fw, &a);
}

/* LayerNorm over rows: y = xh * w + b, xh = (x - mean) * rs, rs = 1 / sqrt(var + eps). */
static void tr_ln_fwd_rows(void *p, size_t lo, size_t hi) {
    const tr_args *a = (const tr_args *)p;
    size_t D = a->K;
    for (size_t t = lo; t < hi; t++) {
        const treal *x = a->x + t * D;
        treal mean = 0, var = 0;
        for (size_t e = 0; e < D; e++) mean += x[e];
        mean /= (treal)D;
        for (size_t e = 0; e < D; e++) var += (x[e] - mean) * (x[e] - mean);
        var /= (treal)D;
        treal rs = (treal)1 / (treal)sqrt((double)(var + (treal)a->t->cfg.eps));
        a->db[t] = rs; /* rs [T] */
        for (size_t e = 0; e < D; e++) {
            treal xh = (x[e] - mean) * rs;
            a->dx[t * D + e] = xh; /* xh [T][D] */
            a->y[t * D + e] = xh * a->w[e] + a->b[e];
        }
    }
}
static void tr_ln_fwd(const train_state *t, const treal *X, size_t T, size_t w, size_t b,
                      treal *xh, treal *rs, treal *Y) {
    tr_args a = {t, X, t->P + w, t->P + b, NULL, Y, xh, NULL, rs, T, t->D, 0, 0};
    tr_parallel(t, T, 8 * t->D, tr_ln_fwd_rows, &a);
}
/* dx = rs * (dxh - mean(dxh) - xh * mean(dxh * xh)), dxh = dy * w. */
static void tr_ln_bwd_rows(void *p, size_t lo, size_t hi) {
    const tr_args *a = (const tr_args *)p;
    size_t D = a->K;
    for (size_t t = lo; t < hi; t++) {
        const treal *dy = a->dy + t * D, *xh = a->x + t * D;
        treal m1 = 0, m2 = 0;
        for (size_t e = 0; e < D; e++) {
            treal g = dy[e] * a->w[e];
            m1 += g;
            m2 += g * xh[e];
        }
        m1 /= (treal)D;
        m2 /= (treal)D;
        treal rs = a->b[t], *dx = a->dx + t * D;
        for (size_t e = 0; e < D; e++) {
            treal v = rs * (dy[e] * a->w[e] - m1 - xh[e] * m2);
            dx[e] = a->acc ? dx[e] + v : v;
        }
    }
}
static void tr_ln_bwd_cols(void *p, size_t lo, size_t hi) {
    const tr_args *a = (const tr_args *)p;
    size_t D = a->K;
    for (size_t e = lo; e < hi; e++) {
        treal gw = 0, gb = 0;
        for (size_t t = 0; t < a->T; t++) {
            gw += a->dy[t * D + e] * a->x[t * D + e];
            gb += a->dy[t * D + e];
        }
        a->dw[e] += gw;
        a->db[e] += gb;
    }
}
/* The backward of tr_ln_fwd: dX (=, or += when acc), dw, db. */
static void tr_ln_bwd(train_state *t, const treal *xh, const treal *rs, const treal *dY, size_t T,
                      size_t w, size_t b, treal *dX, int acc) {
    tr_args a = {t, xh, t->P + w, rs, dY, NULL, dX, NULL, NULL, T, t->D, 0, acc};
    tr_parallel(t, T, 8 * t->D, tr_ln_bwd_rows, &a);
    tr_args c = {t, xh, NULL, NULL, dY, NULL, NULL, t->G + w, t->G + b, T, t->D, 0, 0};
    tr_parallel(t, t->D, 4 * T, tr_ln_bwd_cols, &c);
}

/* The activation and its derivative. */
static treal tr_act_f(train_act act, treal x, treal *deriv) {
    double v = (double)x;
    switch (act) {
    case TRAIN_ACT_GELU: {
        double cdf = 0.5 * (1.0 + erf(v * 0.70710678118654752));
        if (deriv) *deriv = (treal)(cdf + v * exp(-0.5 * v * v) * 0.39894228040143268);
        return (treal)(v * cdf);
    }
    case TRAIN_ACT_GELU_TANH: {
        const double k = 0.79788456080286536, c = 0.044715;
        double th = tanh(k * (v + c * v * v * v));
        if (deriv)
            *deriv = (treal)(0.5 * (1.0 + th) + 0.5 * v * (1.0 - th * th) * k * (1.0 + 3.0 * c * v * v));
        return (treal)(0.5 * v * (1.0 + th));
    }
    case TRAIN_ACT_RELU:
    default:
        if (deriv) *deriv = x > 0 ? 1 : 0;
        return x > 0 ? x : 0;
    }
}
static void tr_act_fwd_rows(void *p, size_t lo, size_t hi) {
    const tr_args *a = (const tr_args *)p;
    for (size_t i = lo * a->K; i < hi * a->K; i++) a->y[i] = tr_act_f(a->t->cfg.act, a->x[i], NULL);
}
/* dx = dy * act'(u) (dx may be dy). */
static void tr_act_bwd_rows(void *p, size_t lo, size_t hi) {
    const tr_args *a = (const tr_args *)p;
    for (size_t i = lo * a->K; i < hi * a->K; i++) {
        treal d;
        tr_act_f(a->t->cfg.act, a->x[i], &d);
        a->dx[i] = a->dy[i] * d;
    }
}

/* Dropout: keep element (row, col) of site `site` at step `step` with probability 1 - p,
   scaled by 1 / (1 - p). A pure function of its coordinates. */
static treal tr_keep(const train_state *t, double p, uint64_t step, uint64_t site, size_t row,
                     size_t col) {
    uint64_t h = tr_hash(t->cfg.seed ^ 0xD50F0A7ull, step, site, ((uint64_t)row << 32) ^ col);
    return tr_unit(h) < p ? 0 : (treal)(1.0 / (1.0 - p));
}
typedef struct tr_drop_args {
    const train_state *t;
    double p;
    uint64_t step, site;
    const treal *src;
    treal *dst; /* dst (+)= keep * src */
    int acc;
} tr_drop_args;
static void tr_drop_rows(void *p, size_t lo, size_t hi) {
    const tr_drop_args *a = (const tr_drop_args *)p;
    size_t D = a->t->D;
    for (size_t r = lo; r < hi; r++)
        for (size_t e = 0; e < D; e++) {
            treal v = a->src[r * D + e];
            if (a->p > 0) v *= tr_keep(a->t, a->p, a->step, a->site, r, e);
            a->dst[r * D + e] = a->acc ? a->dst[r * D + e] + v : v;
        }
}
/* dst (+)= dropout(src) over T rows of D; without dropout (p = 0 or not training) a copy. */
static void tr_dropout(const train_state *t, int train, uint64_t step, uint64_t site,
                       const treal *src, treal *dst, size_t T, int acc) {
    tr_drop_args a = {t, train ? t->cfg.dropout : 0.0, step, site, src, dst, acc};
    tr_parallel(t, T, t->D, tr_drop_rows, &a);
}

/* ---- Attention: per (segment, head), causal within the segment ---- */

typedef struct tr_att_args {
    const train_state *t;
    tr_act *A;
    const tr_batch *b;
} tr_att_args;

static void tr_att_fwd_jobs(void *p, size_t lo, size_t hi) {
    const tr_att_args *g = (const tr_att_args *)p;
    const train_state *t = g->t;
    size_t D = t->D, hd = t->hd;
    treal scale = (treal)(1.0 / sqrt((double)hd));
    for (size_t job = lo; job < hi; job++) {
        size_t s = job / t->H, h = job % t->H, s0 = g->b->seg_start[s], n = g->b->seg_len[s];
        treal *P = g->A->p + g->b->seg_p[s] + h * n * n;
        for (size_t i = 0; i < n; i++) {
            const treal *q = g->A->q + (s0 + i) * D + h * hd;
            treal *pr = P + i * n, mx = -INFINITY, sum = 0;
            for (size_t j = 0; j <= i; j++) {
                const treal *k = g->A->k + (s0 + j) * D + h * hd;
                treal d = 0;
                for (size_t e = 0; e < hd; e++) d += q[e] * k[e];
                pr[j] = d * scale;
                if (pr[j] > mx) mx = pr[j];
            }
            for (size_t j = 0; j <= i; j++) sum += (pr[j] = (treal)exp((double)(pr[j] - mx)));
            for (size_t j = 0; j <= i; j++) pr[j] /= sum;
            for (size_t j = i + 1; j < n; j++) pr[j] = 0;
            treal *o = g->A->a + (s0 + i) * D + h * hd;
            for (size_t e = 0; e < hd; e++) o[e] = 0;
            for (size_t j = 0; j <= i; j++) {
                const treal *v = g->A->v + (s0 + j) * D + h * hd;
                for (size_t e = 0; e < hd; e++) o[e] += pr[j] * v[e];
            }
        }
    }
}

/* Given da (t->da), writes dq, dk, dv (t->dq, dk, dv) of the segment's rows and this head. */
static void tr_att_bwd_jobs(void *p, size_t lo, size_t hi) {
    const tr_att_args *g = (const tr_att_args *)p;
    const train_state *t = g->t;
    size_t D = t->D, hd = t->hd;
    treal scale = (treal)(1.0 / sqrt((double)hd));
    for (size_t job = lo; job < hi; job++) {
        size_t s = job / t->H, h = job % t->H, s0 = g->b->seg_start[s], n = g->b->seg_len[s];
        const treal *P = g->A->p + g->b->seg_p[s] + h * n * n;
        for (size_t i = 0; i < n; i++) {
            size_t r = (s0 + i) * D + h * hd;
            memset(t->dq + r, 0, hd * sizeof(treal));
            memset(t->dk + r, 0, hd * sizeof(treal));
            memset(t->dv + r, 0, hd * sizeof(treal));
        }
        for (size_t i = 0; i < n; i++) {
            const treal *da = t->da + (s0 + i) * D + h * hd, *pr = P + i * n;
            const treal *q = g->A->q + (s0 + i) * D + h * hd;
            treal dp[4096], dot = 0; /* segment length <= max_history + 1 <= 4096 (checked) */
            for (size_t j = 0; j <= i; j++) {
                const treal *v = g->A->v + (s0 + j) * D + h * hd;
                treal *dv = t->dv + (s0 + j) * D + h * hd, d = 0;
                for (size_t e = 0; e < hd; e++) {
                    d += da[e] * v[e];
                    dv[e] += pr[j] * da[e];
                }
                dp[j] = d;
                dot += pr[j] * d;
            }
            treal *dq = t->dq + (s0 + i) * D + h * hd;
            for (size_t j = 0; j <= i; j++) {
                treal ds = pr[j] * (dp[j] - dot) * scale;
                const treal *k = g->A->k + (s0 + j) * D + h * hd;
                treal *dk = t->dk + (s0 + j) * D + h * hd;
                for (size_t e = 0; e < hd; e++) {
                    dq[e] += ds * k[e];
                    dk[e] += ds * q[e];
                }
            }
        }
    }
}

/* ==== The towers over a batch ==== */

typedef struct tr_rows_args {
    train_state *t;
} tr_rows_args;

static void tr_gather_rows(void *p, size_t lo, size_t hi) {
    train_state *t = ((tr_rows_args *)p)->t;
    for (size_t r = lo; r < hi; r++) {
        const float *c = t->data.content + (size_t)t->b.row_item[r] * t->d_in;
        treal *x = t->cin + r * t->d_in;
        if (t->in_mean) /* in float, exactly as the runtime's towers compute it */
            for (size_t e = 0; e < t->d_in; e++) x[e] = (treal)((c[e] - t->in_mean[e]) * t->in_scale[e]);
        else
            for (size_t e = 0; e < t->d_in; e++) x[e] = (treal)c[e];
    }
}

static void tr_add_pos_rows(void *p, size_t lo, size_t hi) {
    train_state *t = ((tr_rows_args *)p)->t;
    for (size_t r = lo; r < hi; r++) {
        const treal *pe = t->P + t->pos + (size_t)t->b.row_pos[r] * t->D;
        treal *x = t->xs[0] + r * t->D;
        for (size_t e = 0; e < t->D; e++) x[e] += pe[e];
    }
}

/* Output i: y = z[out_row[i]] proj^T + b, e = y / max(|y|, 1e-12). */
static void tr_out_rows(void *p, size_t lo, size_t hi) {
    train_state *t = ((tr_rows_args *)p)->t;
    size_t D = t->D, O = t->d_out;
    for (size_t i = lo; i < hi; i++) {
        const treal *z = t->z + t->b.out_row[i] * D;
        memcpy(t->zo + i * D, z, D * sizeof(treal));
        treal *y = t->y + i * O, ss = 0;
        for (size_t r = 0; r < O; r++) {
            const treal *w = t->P + t->proj_w + r * D;
            treal s = 0;
            for (size_t k = 0; k < D; k++) s += z[k] * w[k];
            y[r] = s + t->P[t->proj_b + r];
            ss += y[r] * y[r];
        }
        treal nrm = (treal)sqrt((double)ss);
        if (nrm < (treal)1e-12) nrm = (treal)1e-12;
        t->ynorm[i] = nrm;
        for (size_t r = 0; r < O; r++) t->e[i * O + r] = y[r] / nrm;
    }
}

/* Runs the batch t->b forward; unit outputs in t->e [n_out][d_out]. train: dropout on. */
static void tr_forward(train_state *t, int train, uint64_t step) {
    size_t T = t->b.n_rows, D = t->D, F = t->F;
    tr_rows_args ra = {t};
    tr_parallel(t, T, t->d_in, tr_gather_rows, &ra);
    tr_lin_fwd(t, t->cin, T, t->d_in, t->adaptor_w, t->adaptor_b, D, t->xs[0]);
    if (t->max_pos) tr_parallel(t, T, D, tr_add_pos_rows, &ra);
    for (uint32_t l = 0; l < t->L; l++) {
        const tr_layer *w = &t->layers[l];
        tr_act *A = &t->act[l];
        treal *in = t->xs[l], *out = t->xs[l + 1];
        int pre = t->cfg.pre_norm;
        const treal *ain = in;
        if (pre) {
            tr_ln_fwd(t, in, T, w->n1w, w->n1b, A->xh1, A->rs1, A->n1);
            ain = A->n1;
        }
        tr_lin_fwd(t, ain, T, D, w->wq, w->bq, D, A->q);
        tr_lin_fwd(t, ain, T, D, w->wk, w->bk, D, A->k);
        tr_lin_fwd(t, ain, T, D, w->wv, w->bv, D, A->v);
        tr_att_args aa = {t, A, &t->b};
        tr_parallel(t, t->b.n_seg * t->H, 64 * t->hd, tr_att_fwd_jobs, &aa);
        tr_lin_fwd(t, A->a, T, D, w->wo, w->bo, D, t->dr); /* dr: scratch for the output */
        treal *res1 = pre ? A->x1 : t->dn;                  /* x + dropout(attn) */
        memcpy(res1, in, T * D * sizeof(treal));
        tr_dropout(t, train, step, 2 * l, t->dr, res1, T, 1);
        const treal *fin = res1;
        if (!pre) {
            tr_ln_fwd(t, res1, T, w->n1w, w->n1b, A->xh1, A->rs1, A->n1);
            fin = A->n1;
        } else {
            tr_ln_fwd(t, res1, T, w->n2w, w->n2b, A->xh2, A->rs2, A->n2);
            fin = A->n2;
        }
        tr_lin_fwd(t, fin, T, D, w->wup, w->bup, F, A->u);
        tr_args ga = {t, A->u, NULL, NULL, NULL, A->g, NULL, NULL, NULL, T, F, 0, 0};
        tr_parallel(t, T, 16 * F, tr_act_fwd_rows, &ga);
        tr_lin_fwd(t, A->g, T, F, w->wdn, w->bdn, D, t->dr);
        const treal *res_in = pre ? A->x1 : A->n1;
        treal *res2 = pre ? out : t->dn; /* n1 (post) or x1 (pre) + dropout(ffn) */
        if (res2 != res_in) memcpy(res2, res_in, T * D * sizeof(treal));
        tr_dropout(t, train, step, 2 * l + 1, t->dr, res2, T, 1);
        if (!pre) tr_ln_fwd(t, res2, T, w->n2w, w->n2b, A->xh2, A->rs2, out);
    }
    if (t->cfg.pre_norm) tr_ln_fwd(t, t->xs[t->L], T, t->outn_w, t->outn_b, t->xhf, t->rsf, t->z);
    else memcpy(t->z, t->xs[t->L], T * D * sizeof(treal));
    tr_parallel(t, t->b.n_out, D * t->d_out, tr_out_rows, &ra);
}

/* From de (t->dy, [n_out][d_out], gradient of the unit outputs) back to every parameter
   (added to t->G, which the caller zeroes). */
static void tr_backward(train_state *t, uint64_t step) {
    size_t T = t->b.n_rows, D = t->D, F = t->F, O = t->d_out, n_out = t->b.n_out;
    /* normalisation: dy = (de - e (e . de)) / |y| (in place in t->dy) */
    for (size_t i = 0; i < n_out; i++) {
        treal *de = t->dy + i * O, *e = t->e + i * O, dot = 0;
        for (size_t r = 0; r < O; r++) dot += e[r] * de[r];
        for (size_t r = 0; r < O; r++) de[r] = (de[r] - e[r] * dot) / t->ynorm[i];
    }
    /* proj: dz at the output rows (t->dr holds d(zo) [n_out][D]) */
    tr_lin_bwd(t, t->zo, t->dy, n_out, D, t->proj_w, t->proj_b, O, t->dr, 0);
    treal *dx = t->dx;
    memset(dx, 0, T * D * sizeof(treal));
    for (size_t i = 0; i < n_out; i++) {
        treal *d = dx + t->b.out_row[i] * D;
        for (size_t e = 0; e < D; e++) d[e] += t->dr[i * D + e];
    }
    if (t->cfg.pre_norm) {
        tr_ln_bwd(t, t->xhf, t->rsf, dx, T, t->outn_w, t->outn_b, t->dn, 0);
        memcpy(dx, t->dn, T * D * sizeof(treal));
    }
    for (uint32_t l = t->L; l-- > 0;) {
        const tr_layer *w = &t->layers[l];
        tr_act *A = &t->act[l];
        const treal *in = t->xs[l];
        int pre = t->cfg.pre_norm;
        /* dx: gradient of the block output. */
        if (!pre) {
            tr_ln_bwd(t, A->xh2, A->rs2, dx, T, w->n2w, w->n2b, t->dr, 0); /* dr = d res2 */
            memcpy(t->dn, t->dr, T * D * sizeof(treal));                    /* dn = d n1 */
        } else {
            memcpy(t->dr, dx, T * D * sizeof(treal)); /* dr = d(out) */
            memcpy(t->dn, dx, T * D * sizeof(treal)); /* dn = d x1 */
        }
        /* feed-forward: dr is the gradient at the sublayer's (dropped) output */
        tr_dropout(t, 1, step, 2 * l + 1, t->dr, t->da, T, 0); /* da: d(ffn_down out) */
        tr_lin_bwd(t, A->g, t->da, T, F, w->wdn, w->bdn, D, t->df, 0);
        tr_args ga = {t, A->u, NULL, NULL, t->df, NULL, t->df, NULL, NULL, T, F, 0, 0};
        tr_parallel(t, T, 16 * F, tr_act_bwd_rows, &ga);
        const treal *fin = pre ? A->n2 : A->n1;
        if (!pre) {
            tr_lin_bwd(t, fin, t->df, T, D, w->wup, w->bup, F, t->dn, 1); /* dn += */
            tr_ln_bwd(t, A->xh1, A->rs1, t->dn, T, w->n1w, w->n1b, dx, 0); /* dx = d res1 */
        } else {
            tr_lin_bwd(t, fin, t->df, T, D, w->wup, w->bup, F, t->dr, 0); /* dr = d n2 */
            tr_ln_bwd(t, A->xh2, A->rs2, t->dr, T, w->n2w, w->n2b, t->dn, 1); /* dn = d x1 */
            memcpy(dx, t->dn, T * D * sizeof(treal));
        }
        /* dx is now the gradient of res1 = in + dropout(attn): attention */
        tr_dropout(t, 1, step, 2 * l, dx, t->dr, T, 0); /* dr = d(attn_output out) */
        tr_lin_bwd(t, A->a, t->dr, T, D, w->wo, w->bo, D, t->da, 0);
        tr_att_args aa = {t, A, &t->b};
        tr_parallel(t, t->b.n_seg * t->H, 64 * t->hd, tr_att_bwd_jobs, &aa);
        const treal *ain = pre ? A->n1 : in;
        treal *dain = pre ? t->dn : dx; /* post: dx += (input gradient of q/k/v) */
        tr_lin_bwd(t, ain, t->dq, T, D, w->wq, w->bq, D, dain, !pre ? 1 : 0);
        tr_lin_bwd(t, ain, t->dk, T, D, w->wk, w->bk, D, dain, 1);
        tr_lin_bwd(t, ain, t->dv, T, D, w->wv, w->bv, D, dain, 1);
        if (pre) tr_ln_bwd(t, A->xh1, A->rs1, t->dn, T, w->n1w, w->n1b, dx, 1);
    }
    if (t->max_pos)
        for (size_t r = 0; r < T; r++) { /* serial: rows may share a position */
            treal *g = t->G + t->pos + (size_t)t->b.row_pos[r] * D;
            for (size_t e = 0; e < D; e++) g[e] += dx[r * D + e];
        }
    tr_lin_bwd(t, t->cin, dx, T, t->d_in, t->adaptor_w, t->adaptor_b, D, NULL, 0);
}

/* ==== Loss ==== */

typedef struct tr_loss_args {
    train_state *t;
    size_t n;
    treal *loss;     /* [n] per query */
    const treal *kt; /* [d_out][n] the keys, transposed */
} tr_loss_args;

/* Row i of the logits: scale q_i . k_j, masked where target j == target i (j != i); then the
   gradient of the mean cross-entropy, (softmax - onehot) / n, in place. The dot products run
   TR_VL keys at a time from kt, the keys transposed ([d_out][n]), each summed over r in order. */
TR_INLINE void tr_loss_body(tr_loss_args *a, size_t lo, size_t hi) {
    train_state *t = a->t;
    size_t n = a->n, O = t->d_out;
    const treal *kt = a->kt;
    for (size_t i = lo; i < hi; i++) {
        treal *row = t->logits + i * n, mx = -INFINITY, sum = 0;
        const treal *q = t->e + i * O;
        size_t j = 0;
#if TR_VEC
        for (; j + TR_VL <= n; j += TR_VL) {
            trv d = trv_bc(0);
            for (size_t r = 0; r < O; r++) d += trv_bc(q[r]) * trv_ld(kt + r * n + j);
            trv_st(row + j, d);
        }
#endif
        for (; j < n; j++) {
            treal d = 0;
            for (size_t r = 0; r < O; r++) d += q[r] * kt[r * n + j];
            row[j] = d;
        }
        for (j = 0; j < n; j++) {
            if (j != i && t->b.target[j] == t->b.target[i]) {
                row[j] = -INFINITY;
                continue;
            }
            row[j] = (treal)t->cfg.scale * row[j];
            if (t->logq) row[j] -= t->logq[t->b.target[j]]; /* popular items are more often negatives */
            if (row[j] > mx) mx = row[j];
        }
        for (j = 0; j < n; j++) sum += (treal)exp((double)(row[j] - mx));
        treal lse = mx + (treal)log((double)sum);
        a->loss[i] = lse - row[i];
        for (j = 0; j < n; j++)
            row[j] = ((treal)exp((double)(row[j] - lse)) - (j == i)) / (treal)n;
    }
}
/* dq_i = scale sum_j g_ij k_j (rows i < n of t->dy); dk_j = scale sum_i g_ij q_i (rows n + j). */
TR_INLINE void tr_loss_grad_body(tr_loss_args *a, size_t lo, size_t hi) {
    train_state *t = a->t;
    size_t n = a->n, O = t->d_out;
    treal sc = (treal)t->cfg.scale;
    for (size_t x = lo; x < hi; x++) {
        int is_key = x >= n;
        size_t i = is_key ? x - n : x;
        treal *d = t->dy + x * O;
        memset(d, 0, O * sizeof *d);
        for (size_t j = 0; j < n; j++) {
            treal g = is_key ? t->logits[j * n + i] : t->logits[i * n + j];
            if (g == 0) continue;
            const treal *other = t->e + (is_key ? j : n + j) * O;
            treal sg = sc * g;
            size_t r = 0;
#if TR_VEC
            trv SG = trv_bc(sg);
            for (; r + TR_VL <= O; r += TR_VL) trv_st(d + r, trv_ld(d + r) + SG * trv_ld(other + r));
#endif
            for (; r < O; r++) d[r] += sg * other[r];
        }
    }
}
static void tr_loss_rows(void *p, size_t lo, size_t hi) { tr_loss_body((tr_loss_args *)p, lo, hi); }
static void tr_loss_grad_rows(void *p, size_t lo, size_t hi) { tr_loss_grad_body((tr_loss_args *)p, lo, hi); }
#if TR_AVX2
__attribute__((target("avx2"))) static void tr_loss_rows_avx2(void *p, size_t lo, size_t hi) {
    tr_loss_body((tr_loss_args *)p, lo, hi);
}
__attribute__((target("avx2"))) static void tr_loss_grad_rows_avx2(void *p, size_t lo, size_t hi) {
    tr_loss_grad_body((tr_loss_args *)p, lo, hi);
}
#endif

/* The batch's loss (forward done); with grad, de in t->dy. */
static double tr_loss(train_state *t, int grad) {
    size_t n = t->b.n_pairs, O = t->d_out;
    treal *loss = (treal *)malloc(n * sizeof *loss), *kt = (treal *)malloc(n * O * sizeof *kt);
    if (!loss || !kt) {
        free(loss), free(kt);
        return NAN;
    }
    for (size_t j = 0; j < n; j++) /* the keys transposed, for tr_loss_rows */
        for (size_t r = 0; r < O; r++) kt[r * n + j] = t->e[(n + j) * O + r];
    tr_loss_args a = {t, n, loss, kt};
    tr_fn fl = tr_loss_rows, fg = tr_loss_grad_rows;
#if TR_AVX2
    if (t->avx2) fl = tr_loss_rows_avx2, fg = tr_loss_grad_rows_avx2;
#endif
    tr_parallel(t, n, n * O, fl, &a);
    double total = 0;
    for (size_t i = 0; i < n; i++) total += (double)loss[i];
    free(loss);
    free(kt);
    if (grad) tr_parallel(t, 2 * n, n * O, fg, &a);
    return total / (double)n;
}

/* ==== AdamW and the schedule ==== */

static double tr_lr_at(const train_state *t, uint64_t k) {
    double lr = t->cfg.lr;
    uint64_t wu = t->cfg.warmup_steps;
    if (k < wu) return lr * (double)k / (double)(wu ? wu : 1);
    double span = (double)(t->total > wu ? t->total - wu : 1);
    double prog = (double)(k - wu) / span;
    double f = 0.5 * (1.0 + cos(3.14159265358979323846 * prog));
    return lr * (f > 0 ? f : 0);
}

typedef struct tr_adam_args {
    train_state *t;
    double lr, bc1, bc2;
} tr_adam_args;
static void tr_adam_rows(void *p, size_t lo, size_t hi) {
    const tr_adam_args *a = (const tr_adam_args *)p;
    train_state *t = a->t;
    treal b1 = (treal)t->cfg.beta1, b2 = (treal)t->cfg.beta2, eps = (treal)t->cfg.adam_eps;
    treal decay = (treal)(1.0 - a->lr * t->cfg.weight_decay), step = (treal)(a->lr / a->bc1);
    treal sbc2 = (treal)sqrt(a->bc2);
    for (size_t i = lo; i < hi; i++) {
        treal g = t->G[i];
        t->P[i] *= decay;
        t->M[i] = b1 * t->M[i] + (1 - b1) * g;
        t->V[i] = b2 * t->V[i] + (1 - b2) * g * g;
        treal denom = (treal)sqrt((double)t->V[i]) / sbc2 + eps;
        t->P[i] -= step * t->M[i] / denom;
    }
}

/* ==== Data: windows and batches ==== */

/* Cuts every sequence into windows (from the most recent end) of at most max_history + 1. */
static learn_status tr_windows(train_state *t) {
    uint32_t maxw = t->cfg.max_history + 1, cap = 0;
    for (int pass = 0; pass < 2; pass++) {
        uint32_t n = 0;
        t->n_skipped = 0;
        for (uint32_t s = 0; s < t->data.n_seqs; s++) {
            uint32_t a = t->data.seq_off[s], end = t->data.seq_off[s + 1];
            if (end - a < t->cfg.min_seq_len) t->n_skipped++;
            while (end - a >= t->cfg.min_seq_len) {
                uint32_t len = end - a < maxw ? end - a : maxw;
                if (pass) {
                    t->win_start[n] = end - len;
                    t->win_len[n] = len;
                }
                n++;
                end -= len;
            }
        }
        if (!pass) {
            cap = n;
            if (!n) return TR_FAIL(t, LEARN_ERR_ARG,
                                   "no training window: all %u sequences are shorter than "
                                   "min_seq_len = %u",
                                   t->data.n_seqs, t->cfg.min_seq_len);
            t->win_start = (uint32_t *)malloc(n * sizeof *t->win_start);
            t->win_len = (uint32_t *)malloc(n * sizeof *t->win_len);
            t->perm = (uint32_t *)malloc(n * sizeof *t->perm);
            if (!t->win_start || !t->win_len || !t->perm)
                return TR_FAIL(t, LEARN_ERR_NOMEM, "out of memory for %u windows", n);
        }
        t->n_win = n;
    }
    (void)cap;
    return LEARN_OK;
}

/* The visiting order of epoch e (Fisher-Yates from (seed, e)). */
static void tr_perm(train_state *t, uint64_t epoch) {
    if (t->perm_epoch == epoch) return;
    for (uint32_t i = 0; i < t->n_win; i++) t->perm[i] = i;
    for (uint32_t i = t->n_win; i > 1; i--) {
        uint32_t j = (uint32_t)(tr_hash(t->cfg.seed, 0x5EED, epoch, i) % i);
        uint32_t x = t->perm[i - 1];
        t->perm[i - 1] = t->perm[j];
        t->perm[j] = x;
    }
    t->perm_epoch = epoch;
}

/* Adds a segment of items[0..n) (positions 0..n-1) to the batch. */
static void tr_add_segment(train_state *t, const uint32_t *items, size_t n) {
    tr_batch *b = &t->b;
    b->seg_start[b->n_seg] = b->n_rows;
    b->seg_len[b->n_seg] = n;
    b->seg_p[b->n_seg] = b->n_seg ? b->seg_p[b->n_seg - 1] + t->H * b->seg_len[b->n_seg - 1] *
                                                                 b->seg_len[b->n_seg - 1]
                                  : 0;
    b->n_seg++;
    for (size_t i = 0; i < n; i++) {
        b->row_item[b->n_rows] = items[i];
        b->row_pos[b->n_rows] = (uint32_t)i;
        b->n_rows++;
    }
}

/* Rows and attention probabilities a batch of these examples needs. */
static void tr_batch_need(const train_state *t, const train_example *ex, size_t n, size_t *rows,
                          size_t *probs, size_t *pairs) {
    *rows = *probs = *pairs = 0;
    for (size_t i = 0; i < n; i++) {
        size_t h = t->cfg.dense ? ex[i].len - 1 : ex[i].target_pos;
        if (h > t->cfg.max_history) h = t->cfg.max_history;
        size_t k = t->cfg.dense ? h : 1;
        *rows += h + k;
        *probs += t->H * (h * h + k);
        *pairs += k;
    }
}

/* Builds the batch: user segments first, then one item segment per target. Histories keep
   their last max_history items. */
static void tr_build_batch(train_state *t, const train_example *ex, size_t n) {
    tr_batch *b = &t->b;
    b->n_rows = b->n_seg = b->n_out = b->n_pairs = 0;
    for (size_t i = 0; i < n; i++) {
        size_t h = t->cfg.dense ? ex[i].len - 1 : ex[i].target_pos;
        size_t skip = h > t->cfg.max_history ? h - t->cfg.max_history : 0;
        tr_add_segment(t, ex[i].items + skip, h - skip);
        size_t s0 = b->seg_start[b->n_seg - 1];
        if (t->cfg.dense)
            for (size_t p = 0; p + skip < h; p++) {
                b->out_row[b->n_pairs] = s0 + p;
                b->target[b->n_pairs++] = ex[i].items[skip + p + 1];
            }
        else {
            b->out_row[b->n_pairs] = s0 + h - skip - 1;
            b->target[b->n_pairs++] = ex[i].items[h];
        }
    }
    for (size_t i = 0; i < b->n_pairs; i++) {
        b->out_row[b->n_pairs + i] = b->n_rows;
        tr_add_segment(t, &b->target[i], 1);
    }
    b->n_out = 2 * b->n_pairs;
}

/* ==== Workspace ==== */

static void tr_ws_free(train_state *t) {
    if (t->act)
        for (uint32_t l = 0; l < t->L; l++) {
            tr_act *A = &t->act[l];
            treal **p[] = {&A->q, &A->k, &A->v, &A->a, &A->p, &A->xh1, &A->rs1, &A->n1,
                           &A->u, &A->g, &A->xh2, &A->rs2, &A->x1, &A->n2};
            for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(*p[i]);
        }
    if (t->xs)
        for (uint32_t l = 0; l <= t->L; l++) free(t->xs[l]);
    free(t->xs);
    free(t->act);
    t->xs = NULL;
    t->act = NULL;
    treal **p[] = {&t->cin, &t->xhf, &t->rsf, &t->z, &t->zo, &t->y, &t->e, &t->ynorm,
                   &t->logits, &t->dx, &t->dq, &t->dk, &t->dv, &t->da, &t->dn, &t->dr, &t->df,
                   &t->dy, &t->wt};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
        free(*p[i]);
        *p[i] = NULL;
    }
    free(t->b.row_item);
    free(t->b.row_pos);
    free(t->b.seg_start);
    free(t->b.seg_len);
    free(t->b.seg_p);
    free(t->b.out_row);
    free(t->b.target);
    memset(&t->b, 0, sizeof t->b);
}

static treal *tr_alloc(size_t a, size_t b, int *ok) {
    if (b && a > SIZE_MAX / b / sizeof(treal)) {
        *ok = 0;
        return NULL;
    }
    treal *p = (treal *)calloc(a && b ? a * b : 1, sizeof(treal));
    if (!p) *ok = 0;
    return p;
}

/* Room for T rows, P attention probabilities and O outputs. */
static learn_status tr_ws_reserve(train_state *t, size_t T, size_t P, size_t O) {
    if (T <= t->T_cap && P <= t->P_cap && O <= t->O_cap) return LEARN_OK;
    T = T > t->T_cap ? T : t->T_cap;
    P = P > t->P_cap ? P : t->P_cap;
    O = O > t->O_cap ? O : t->O_cap;
    tr_ws_free(t);
    size_t D = t->D, F = t->F, W = D > F ? D : F;
    int ok = 1, pre = t->cfg.pre_norm;
    t->xs = (treal **)calloc(t->L + 1, sizeof *t->xs);
    t->act = (tr_act *)calloc(t->L ? t->L : 1, sizeof *t->act);
    if (!t->xs || !t->act) ok = 0;
    for (uint32_t l = 0; ok && l <= t->L; l++) t->xs[l] = tr_alloc(T, D, &ok);
    for (uint32_t l = 0; ok && l < t->L; l++) {
        tr_act *A = &t->act[l];
        A->q = tr_alloc(T, D, &ok), A->k = tr_alloc(T, D, &ok), A->v = tr_alloc(T, D, &ok);
        A->a = tr_alloc(T, D, &ok), A->p = tr_alloc(P, 1, &ok);
        A->xh1 = tr_alloc(T, D, &ok), A->rs1 = tr_alloc(T, 1, &ok), A->n1 = tr_alloc(T, D, &ok);
        A->u = tr_alloc(T, F, &ok), A->g = tr_alloc(T, F, &ok);
        A->xh2 = tr_alloc(T, D, &ok), A->rs2 = tr_alloc(T, 1, &ok);
        if (pre) A->x1 = tr_alloc(T, D, &ok), A->n2 = tr_alloc(T, D, &ok);
    }
    if (ok) {
        t->cin = tr_alloc(T, t->d_in, &ok);
        t->xhf = tr_alloc(T, D, &ok), t->rsf = tr_alloc(T, 1, &ok), t->z = tr_alloc(T, D, &ok);
        t->zo = tr_alloc(O, D, &ok), t->y = tr_alloc(O, t->d_out, &ok);
        t->e = tr_alloc(O, t->d_out, &ok), t->ynorm = tr_alloc(O, 1, &ok);
        t->logits = tr_alloc(O / 2 + 1, O / 2 + 1, &ok);
        t->dx = tr_alloc(T, D, &ok), t->dq = tr_alloc(T, D, &ok), t->dk = tr_alloc(T, D, &ok);
        t->dv = tr_alloc(T, D, &ok), t->da = tr_alloc(T, D, &ok), t->dn = tr_alloc(T, D, &ok);
        t->dr = tr_alloc(T > O ? T : O, W, &ok), t->df = tr_alloc(T, F, &ok);
        t->dy = tr_alloc(O, t->d_out, &ok);
        size_t wmax = 1;
        for (uint32_t i = 0; i < t->n_tensors; i++)
            if (t->tensors[i].kind == TR_MATRIX && t->tensors[i].rows * t->tensors[i].cols > wmax)
                wmax = t->tensors[i].rows * t->tensors[i].cols;
        t->wt = tr_alloc(wmax, 1, &ok);
        t->b.row_item = (uint32_t *)calloc(T, sizeof(uint32_t));
        t->b.row_pos = (uint32_t *)calloc(T, sizeof(uint32_t));
        t->b.seg_start = (size_t *)calloc(T, sizeof(size_t));
        t->b.seg_len = (size_t *)calloc(T, sizeof(size_t));
        t->b.seg_p = (size_t *)calloc(T, sizeof(size_t));
        t->b.out_row = (size_t *)calloc(O, sizeof(size_t));
        t->b.target = (uint32_t *)calloc(O, sizeof(uint32_t));
        ok = ok && t->b.row_item && t->b.row_pos && t->b.seg_start && t->b.seg_len &&
             t->b.seg_p && t->b.out_row && t->b.target;
    }
    if (!ok) {
        tr_ws_free(t);
        t->T_cap = t->P_cap = t->O_cap = 0;
        return TR_FAIL(t, LEARN_ERR_NOMEM, "out of memory for a batch of %zu rows", T);
    }
    t->T_cap = T;
    t->P_cap = P;
    t->O_cap = O;
    return LEARN_OK;
}

/* ==== Public API ==== */

train_config train_default_config(void) {
    train_config c;
    memset(&c, 0, sizeof c);
    c.d_model = 256;
    c.n_layer = 2;
    c.n_head = 4;
    c.d_out = 128;
    c.eps = 1e-12f;
    c.act = TRAIN_ACT_GELU;
    c.max_history = 40;
    c.min_seq_len = 5;
    c.standardize = 1;
    c.batch_size = 64;
    c.epochs = 10;
    c.lr = 1e-4;
    c.beta1 = 0.9;
    c.beta2 = 0.98;
    c.adam_eps = 1e-6;
    c.scale = 20.0;
    c.init_std = 0.02;
    c.seed = 42;
    c.n_threads = 1;
    return c;
}

static learn_status tr_check_config(const train_config *c, char *err, size_t errn) {
#define TR_RANGE(cond, ...)                                                                       \
    if (!(cond)) return util_fail(err, errn, LEARN_ERR_ARG, __VA_ARGS__)
    TR_RANGE(c->d_model >= 1 && c->d_model <= 65536, "d_model %u is outside 1..65536", c->d_model);
    TR_RANGE(c->n_layer <= LEARN_MAX_LAYERS, "n_layer %u is above %d", c->n_layer, LEARN_MAX_LAYERS);
    TR_RANGE(c->n_head >= 1 && c->d_model % c->n_head == 0, "n_head %u does not divide d_model %u",
             c->n_head, c->d_model);
    TR_RANGE(c->d_ff >= 1 && c->d_ff <= (1u << 20), "d_ff %u is outside 1..2^20", c->d_ff);
    TR_RANGE(c->d_out >= 1 && c->d_out <= 65536, "d_out %u is outside 1..65536", c->d_out);
    TR_RANGE(c->eps > 0 && c->eps < 1, "eps %g is outside (0, 1)", (double)c->eps);
    TR_RANGE((unsigned)c->act <= TRAIN_ACT_RELU, "act %d is unknown", (int)c->act);
    TR_RANGE(c->max_history >= 1 && c->max_history <= 4095, "max_history %u is outside 1..4095",
             c->max_history);
    TR_RANGE(c->max_positions == 0 || c->max_positions >= c->max_history,
             "max_positions %u is smaller than max_history %u", c->max_positions, c->max_history);
    TR_RANGE(c->min_seq_len >= 2, "min_seq_len %u must be at least 2 (a history and a target)",
             c->min_seq_len);
    TR_RANGE(c->batch_size >= 1 && c->batch_size <= 65536, "batch_size %u is outside 1..65536",
             c->batch_size);
    TR_RANGE(c->epochs >= 1, "epochs must be at least 1");
    TR_RANGE(c->lr > 0 && c->lr < 10, "lr %g is outside (0, 10)", c->lr);
    TR_RANGE(c->weight_decay >= 0 && c->weight_decay < 1, "weight_decay %g is outside [0, 1)",
             c->weight_decay);
    TR_RANGE(c->beta1 >= 0 && c->beta1 < 1 && c->beta2 >= 0 && c->beta2 < 1,
             "betas %g, %g are outside [0, 1)", c->beta1, c->beta2);
    TR_RANGE(c->adam_eps > 0, "adam_eps %g must be positive", c->adam_eps);
    TR_RANGE(c->scale > 0, "scale %g must be positive", c->scale);
    TR_RANGE(c->dropout >= 0 && c->dropout < 1, "dropout %g is outside [0, 1)", c->dropout);
    TR_RANGE(c->init_std > 0, "init_std %g must be positive", c->init_std);
    TR_RANGE(c->n_threads >= 1 && c->n_threads <= TR_MAX_THREADS, "n_threads %d is outside 1..%d",
             c->n_threads, TR_MAX_THREADS);
#undef TR_RANGE
    return LEARN_OK;
}

static learn_status tr_check_data(const train_data *d, char *err, size_t errn, uint64_t *digest) {
    if (!d || !d->content || !d->n_items || !d->d_in || (d->n_seqs && (!d->seq_off || !d->seq)))
        return util_fail(err, errn, LEARN_ERR_ARG, "data: content, n_items, d_in and sequences are required");
    if ((size_t)d->n_items > SIZE_MAX / d->d_in)
        return util_fail(err, errn, LEARN_ERR_ARG, "data: %u x %u content is too large", d->n_items,
                         d->d_in);
    for (size_t i = 0; i < (size_t)d->n_items * d->d_in; i++)
        if (!isfinite(d->content[i]))
            return util_fail(err, errn, LEARN_ERR_NUMERIC, "data: item %zu: content element %zu is %s",
                             i / d->d_in, i % d->d_in, isnan(d->content[i]) ? "NaN" : "Inf");
    const struct {
        const char *what;
        uint32_t n;
        const uint32_t *off, *items;
    } lists[2] = {{"sequence", d->n_seqs, d->seq_off, d->seq},
                  {"validation example", d->n_valid, d->valid_off, d->valid_hist}};
    if (d->n_valid && (!d->valid_off || !d->valid_hist || !d->valid_target))
        return util_fail(err, errn, LEARN_ERR_ARG, "data: validation arrays are missing");
    uint64_t h = tr_hash(d->n_items, d->d_in, d->n_seqs, d->n_valid);
    for (int k = 0; k < 2; k++) {
        if (!lists[k].n) continue;
        if (lists[k].off[0] != 0)
            return util_fail(err, errn, LEARN_ERR_ARG, "data: the first %s offset is %u, not 0",
                             lists[k].what, lists[k].off[0]);
        for (uint32_t s = 0; s < lists[k].n; s++) {
            if (lists[k].off[s + 1] < lists[k].off[s])
                return util_fail(err, errn, LEARN_ERR_ARG, "data: %s %u: offsets decrease",
                                 lists[k].what, s);
            if (k == 1 && lists[k].off[s + 1] == lists[k].off[s])
                return util_fail(err, errn, LEARN_ERR_ARG, "data: validation example %u has an empty "
                                 "history", s);
            for (uint32_t i = lists[k].off[s]; i < lists[k].off[s + 1]; i++) {
                if (lists[k].items[i] >= d->n_items)
                    return util_fail(err, errn, LEARN_ERR_ARG,
                                     "data: %s %u: item index %u is outside 0..%u", lists[k].what, s,
                                     lists[k].items[i], d->n_items - 1);
                h = tr_hash(h, lists[k].items[i], i, (uint64_t)k);
            }
            if (k == 1 && d->valid_target[s] >= d->n_items)
                return util_fail(err, errn, LEARN_ERR_ARG,
                                 "data: validation example %u: target %u is outside 0..%u", s,
                                 d->valid_target[s], d->n_items - 1);
        }
    }
    *digest = tr_hash(h, learn_xxh64(d->content, (size_t)d->n_items * d->d_in * sizeof(float), 0), 0, 0);
    return LEARN_OK;
}

/* Reads the towers of a model (tower.* metadata and tensors) into cfg's tower fields and, when
   t is not NULL, into t->P. */
/* Content standardization: per dimension, the mean and 1/std of every item's content (a
   constant dimension gets scale 0). Without it, content embeddings of an LLM are often so
   alike (mean pairwise cosine 0.98 for a small model) that the towers hardly see the items
   apart. */
static learn_status tr_make_standardization(train_state *t) {
    size_t n = t->data.n_items, d = t->d_in;
    t->in_mean = (float *)malloc(d * sizeof(float));
    t->in_scale = (float *)malloc(d * sizeof(float));
    if (!t->in_mean || !t->in_scale) return LEARN_ERR_NOMEM;
    for (size_t e = 0; e < d; e++) {
        double s = 0, ss = 0;
        for (size_t i = 0; i < n; i++) s += t->data.content[i * d + e];
        double mean = s / (double)n;
        for (size_t i = 0; i < n; i++) {
            double v = t->data.content[i * d + e] - mean;
            ss += v * v;
        }
        double sd = sqrt(ss / (double)n);
        t->in_mean[e] = (float)mean;
        t->in_scale[e] = sd > 1e-30 ? (float)(1.0 / sd) : 0.0f;
    }
    return LEARN_OK;
}

/* The sampling-bias ("logQ") correction: in-batch negatives are the batch's targets, so an
   item is a negative as often as it is a target; subtracting log(frequency) from its logits
   makes the softmax estimate the full one (Yi et al., RecSys 2019). Frequencies over the
   training sequences, add-one smoothed. */
static learn_status tr_make_logq(train_state *t) {
    size_t n = t->data.n_items, total = t->data.seq_off[t->data.n_seqs];
    t->logq = (treal *)calloc(n, sizeof(treal));
    if (!t->logq) return LEARN_ERR_NOMEM;
    for (size_t i = 0; i < total; i++) t->logq[t->data.seq[i]] += 1;
    for (size_t j = 0; j < n; j++) t->logq[j] = (treal)log(((double)t->logq[j] + 1.0) / ((double)total + (double)n));
    return LEARN_OK;
}

/* The standardization of a model's towers (tower.input_mean/scale), or none. */
static learn_status tr_read_standardization(train_state *t, const learn_model *m, char *err, size_t errn) {
    learn_tensor_info mi, si;
    int hm = learn_model_tensor_find(m, "tower.input_mean", &mi) == LEARN_OK;
    int hs = learn_model_tensor_find(m, "tower.input_scale", &si) == LEARN_OK;
    if (!hm && !hs) return LEARN_OK;
    if (!hm || !hs || mi.type != LEARN_TYPE_F32 || si.type != LEARN_TYPE_F32 ||
        mi.n_elements != t->d_in || si.n_elements != t->d_in)
        return util_fail(err, errn, LEARN_ERR_FORMAT, "tower.input_mean/scale must both be f32 [%u]", t->d_in);
    t->in_mean = (float *)malloc(t->d_in * sizeof(float));
    t->in_scale = (float *)malloc(t->d_in * sizeof(float));
    if (!t->in_mean || !t->in_scale) return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    memcpy(t->in_mean, mi.data, t->d_in * sizeof(float));
    memcpy(t->in_scale, si.data, t->d_in * sizeof(float));
    return LEARN_OK;
}

static learn_status tr_read_model(const learn_model *m, train_config *cfg, train_state *t,
                                  uint32_t *d_in, char *err, size_t errn) {
    learn_towers_info ti;
    if (learn_towers_get_info(m, &ti) || !ti.present)
        return util_fail(err, errn, LEARN_ERR_ARG, "the model has no towers to start from");
    cfg->d_model = ti.d_model;
    cfg->n_layer = ti.n_layer;
    cfg->n_head = ti.n_head;
    cfg->d_ff = ti.d_ff;
    cfg->d_out = ti.d_out;
    cfg->pre_norm = ti.pre_norm;
    cfg->max_positions = ti.max_positions;
    *d_in = ti.d_in;
    float eps = 1e-12f;
    learn_model_meta_f32(m, "tower.eps", &eps);
    cfg->eps = eps;
    const char *act = "gelu";
    learn_model_meta_str(m, "tower.act", &act, NULL);
    cfg->act = strcmp(act, "gelu_tanh") == 0 ? TRAIN_ACT_GELU_TANH
               : strcmp(act, "relu") == 0    ? TRAIN_ACT_RELU
                                             : TRAIN_ACT_GELU;
    if (!t) return LEARN_OK;
    learn_status sst = tr_read_standardization(t, m, err, errn);
    if (sst) return sst;
    float *row = NULL;
    for (uint32_t k = 0; k < t->n_tensors; k++) {
        const tr_tensor *x = &t->tensors[k];
        learn_tensor_info info;
        size_t cols = x->cols ? x->cols : x->rows, rows = x->cols ? x->rows : 1;
        if (learn_model_tensor_find(m, x->name, &info) != LEARN_OK) {
            free(row);
            return util_fail(err, errn, LEARN_ERR_FORMAT, "tensor '%s' is missing", x->name);
        }
        float *nr = (float *)realloc(row, cols * sizeof *row);
        if (!nr) {
            free(row);
            return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
        }
        row = nr;
        size_t rb = (size_t)learn_type_row_bytes(info.type, cols);
        for (size_t r = 0; r < rows; r++) {
            if (learn_dequantize(info.type, (const uint8_t *)info.data + r * rb, row, cols)) {
                free(row);
                return util_fail(err, errn, LEARN_ERR_FORMAT, "tensor '%s': type %s cannot be read",
                                 x->name, learn_type_name(info.type));
            }
            for (size_t c = 0; c < cols; c++) t->P[x->off + r * cols + c] = (treal)row[c];
        }
    }
    free(row);
    return LEARN_OK;
}

void train_free(train_state *t) {
    if (!t) return;
    tr_ws_free(t);
    free(t->P);
    free(t->G);
    free(t->M);
    free(t->V);
    free(t->tensors);
    free(t->layers);
    free(t->win_start);
    free(t->win_len);
    free(t->perm);
    free(t->in_mean);
    free(t->in_scale);
    free(t->logq);
    free(t);
}

/* A trainer with cfg (checked) and data, parameters laid out and zero. */
static learn_status tr_make(const train_config *cfg, const train_data *data, uint32_t d_in,
                            train_state **out, char *err, size_t errn) {
    learn_status st = tr_check_config(cfg, err, errn);
    if (st) return st;
    uint64_t digest = 0;
    if ((st = tr_check_data(data, err, errn, &digest))) return st;
    if (d_in != data->d_in)
        return util_fail(err, errn, LEARN_ERR_MISMATCH,
                         "the towers read %u-dimensional content but the data has d_in = %u", d_in,
                         data->d_in);
    train_state *t = (train_state *)calloc(1, sizeof *t);
    if (!t) return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    t->cfg = *cfg;
    t->avx2 = tr_want_avx2();
    t->data = *data;
    t->data_digest = digest;
    t->d_in = data->d_in;
    t->D = cfg->d_model;
    t->L = cfg->n_layer;
    t->H = cfg->n_head;
    t->hd = t->D / t->H;
    t->F = cfg->d_ff;
    t->d_out = cfg->d_out;
    t->max_pos = cfg->max_positions;
    t->perm_epoch = UINT64_MAX;
    t->layers = (tr_layer *)calloc(t->L ? t->L : 1, sizeof *t->layers);
    t->tensors = (tr_tensor *)calloc(7 + 16 * (size_t)t->L, sizeof *t->tensors);
    if (!t->layers || !t->tensors) {
        train_free(t);
        return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    }
    tr_layout(t);
    t->P = (treal *)calloc(t->n_params, sizeof(treal));
    t->G = (treal *)calloc(t->n_params, sizeof(treal));
    t->M = (treal *)calloc(t->n_params, sizeof(treal));
    t->V = (treal *)calloc(t->n_params, sizeof(treal));
    if (!t->P || !t->G || !t->M || !t->V) {
        train_free(t);
        return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory for %zu parameters", t->n_params);
    }
    if (data->n_seqs && (st = tr_windows(t))) {
        util_fail(err, errn, st, "%s", t->err);
        train_free(t);
        return st;
    }
    if (!data->n_seqs) t->n_win = 0;
    t->spe = t->n_win ? (t->n_win + cfg->batch_size - 1) / cfg->batch_size : 0;
    t->total = t->spe * cfg->epochs;
    size_t mh = cfg->max_history, B = cfg->batch_size, k = cfg->dense ? mh : 1;
    if ((st = tr_ws_reserve(t, B * (mh + k), t->H * B * (mh * mh + k), 2 * B * k))) {
        util_fail(err, errn, st, "%s", t->err);
        train_free(t);
        return st;
    }
    if (cfg->logq && tr_make_logq(t)) {
        train_free(t);
        return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    }
    *out = t;
    return LEARN_OK;
}

learn_status train_new(const train_config *cfg_in, const train_data *data,
                       const learn_model *init_from, train_state **out, char *err, size_t errn) {
    if (!out) return LEARN_ERR_ARG;
    *out = NULL;
    if (!cfg_in || !data) return util_fail(err, errn, LEARN_ERR_ARG, "cfg and data must not be NULL");
    train_config cfg = *cfg_in;
    if (!cfg.d_ff) cfg.d_ff = 4 * cfg.d_model;
    uint32_t d_in = data->d_in;
    learn_status st;
    if (init_from && (st = tr_read_model(init_from, &cfg, NULL, &d_in, err, errn))) return st;
    train_state *t;
    if ((st = tr_make(&cfg, data, d_in, &t, err, errn))) return st;
    if (init_from) {
        st = tr_read_model(init_from, &cfg, t, &d_in, err, errn);
    } else {
        tr_init_params(t);
        if (cfg.standardize && tr_make_standardization(t)) st = util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    }
    if (st) {
        train_free(t);
        return st;
    }
    *out = t;
    return LEARN_OK;
}

const char *train_errmsg(const train_state *t) { return t ? t->err : "trainer is NULL"; }
const char *train_isa(const train_state *t) { return t && t->avx2 ? "avx2" : "baseline"; }
int train_done(const train_state *t) { return !t || t->step >= t->total; }
uint64_t train_steps_done(const train_state *t) { return t ? t->step : 0; }
uint64_t train_steps_per_epoch(const train_state *t) { return t ? t->spe : 0; }
uint64_t train_steps_total(const train_state *t) { return t ? t->total : 0; }
uint32_t train_n_windows(const train_state *t) { return t ? t->n_win : 0; }
uint32_t train_n_skipped(const train_state *t) { return t ? t->n_skipped : 0; }
size_t train_n_params(const train_state *t) { return t ? t->n_params : 0; }
train_real *train_params(train_state *t) { return t ? t->P : NULL; }
const train_real *train_grads(const train_state *t) { return t ? t->G : NULL; }
uint32_t train_n_tensors(const train_state *t) { return t ? t->n_tensors : 0; }
const char *train_tensor(const train_state *t, uint32_t i, size_t *offset, size_t *count) {
    if (!t || i >= t->n_tensors) return NULL;
    if (offset) *offset = t->tensors[i].off;
    if (count) *count = t->tensors[i].rows * (t->tensors[i].cols ? t->tensors[i].cols : 1);
    return t->tensors[i].name;
}

learn_status train_batch_loss(train_state *t, const train_example *ex, size_t n,
                              uint64_t mask_step, int backward, double *loss) {
    if (!t || !ex || !n || !loss) return LEARN_ERR_ARG;
    for (size_t i = 0; i < n; i++) {
        int bad = !ex[i].items || ex[i].len < 2 ||
                  (!t->cfg.dense && (ex[i].target_pos < 1 || ex[i].target_pos >= ex[i].len));
        for (uint32_t k = 0; !bad && k < ex[i].len; k++) bad = ex[i].items[k] >= t->data.n_items;
        if (bad)
            return TR_FAIL(t, LEARN_ERR_ARG, "example %zu: needs >= 2 items < %u and a target "
                           "position in 1..len-1", i, t->data.n_items);
    }
    size_t rows, probs, pairs;
    tr_batch_need(t, ex, n, &rows, &probs, &pairs);
    learn_status st = tr_ws_reserve(t, rows, probs, 2 * pairs);
    if (st) return st;
    tr_build_batch(t, ex, n);
    tr_forward(t, 1, mask_step);
    *loss = tr_loss(t, backward);
    if (isnan(*loss)) return TR_FAIL(t, LEARN_ERR_NOMEM, "out of memory");
    if (backward) {
        memset(t->G, 0, t->n_params * sizeof(treal));
        tr_backward(t, mask_step);
    }
    return LEARN_OK;
}

learn_status train_step(train_state *t, train_stats *stats) {
    if (!t) return LEARN_ERR_ARG;
    if (t->step >= t->total)
        return TR_FAIL(t, LEARN_ERR_STATE, "training is done (%llu steps)",
                       (unsigned long long)t->total);
    uint64_t epoch = t->step / t->spe, k = t->step % t->spe;
    tr_perm(t, epoch);
    size_t B = t->cfg.batch_size, first = (size_t)k * B;
    size_t n = t->n_win - first < B ? t->n_win - first : B;
    train_example ex[1024], *exs = n <= 1024 ? ex : (train_example *)malloc(n * sizeof *exs);
    if (!exs) return TR_FAIL(t, LEARN_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        uint32_t w = t->perm[first + i], len = t->win_len[w];
        exs[i].items = t->data.seq + t->win_start[w];
        exs[i].len = len;
        exs[i].target_pos = len / 2 + (uint32_t)(tr_hash(t->cfg.seed, 0x7A6E7, epoch, w) % (len - len / 2));
    }
    double loss;
    learn_status st = train_batch_loss(t, exs, n, t->step, 1, &loss);
    if (exs != ex) free(exs);
    if (st) return st;
    double lr = tr_lr_at(t, t->step);
    tr_adam_args a = {t, lr, 1.0 - pow(t->cfg.beta1, (double)(t->step + 1)),
                      1.0 - pow(t->cfg.beta2, (double)(t->step + 1))};
    tr_parallel(t, t->n_params, 16, tr_adam_rows, &a);
    t->step++;
    t->last_loss = loss;
    if (stats) {
        stats->step = t->step;
        stats->epoch = (uint32_t)epoch;
        stats->loss = loss;
        stats->lr = lr;
        stats->n_users = (uint32_t)t->b.n_pairs;
    }
    return LEARN_OK;
}

learn_status train_epoch(train_state *t, train_stats *stats) {
    if (!t) return LEARN_ERR_ARG;
    if (t->step >= t->total) return TR_FAIL(t, LEARN_ERR_STATE, "training is done");
    uint64_t end = (t->step / t->spe + 1) * t->spe;
    double sum = 0;
    uint64_t n = 0;
    train_stats s;
    memset(&s, 0, sizeof s);
    while (t->step < end) {
        learn_status st = train_step(t, &s);
        if (st) return st;
        sum += s.loss;
        n++;
    }
    s.loss = sum / (double)n;
    if (stats) *stats = s;
    return LEARN_OK;
}

/* Embeddings (unit, float) of up to many item segments or user histories, in chunks that fit
   the workspace. user: n_seg histories hist[i][0..len[i]); else n_seg single items. */
static learn_status tr_embed_many(train_state *t, int user, size_t n_seg,
                                  const uint32_t *const *hist, const uint32_t *len,
                                  const uint32_t *items, float *out) {
    size_t mh = t->cfg.max_history;
    for (size_t i = 0; i < n_seg;) {
        tr_batch *b = &t->b;
        b->n_rows = b->n_seg = b->n_out = b->n_pairs = 0;
        size_t first = i, probs = 0;
        while (i < n_seg) {
            size_t l = user ? (len[i] > mh ? mh : len[i]) : 1;
            if (b->n_seg && (b->n_rows + l > t->T_cap || probs + t->H * l * l > t->P_cap ||
                             b->n_out + 1 > t->O_cap))
                break;
            if (b->n_rows + l > t->T_cap || t->H * l * l > t->P_cap || 1 > t->O_cap) {
                learn_status st = tr_ws_reserve(t, l, t->H * l * l, 2);
                if (st) return st;
                b = &t->b;
            }
            const uint32_t *src = user ? hist[i] + (len[i] - l) : items + i;
            tr_add_segment(t, src, l);
            b->out_row[b->n_out++] = b->n_rows - 1;
            probs += t->H * l * l;
            i++;
        }
        tr_forward(t, 0, 0);
        for (size_t k = 0; k < b->n_out; k++)
            for (size_t r = 0; r < t->d_out; r++)
                out[(first + k) * t->d_out + r] = (float)t->e[k * t->d_out + r];
    }
    return LEARN_OK;
}

learn_status train_embed(train_state *t, const uint32_t *items, size_t n, int user, float *out) {
    if (!t) return LEARN_ERR_ARG;
    if (!items || !out || !n) return TR_FAIL(t, LEARN_ERR_ARG, "items and out are required, n >= 1");
    for (size_t i = 0; i < n; i++)
        if (items[i] >= t->data.n_items)
            return TR_FAIL(t, LEARN_ERR_ARG, "item index %u is outside 0..%u", items[i],
                           t->data.n_items - 1);
    if (user) {
        if (n > UINT32_MAX) return TR_FAIL(t, LEARN_ERR_TOO_LONG, "history too long");
        uint32_t len = (uint32_t)n;
        return tr_embed_many(t, 1, 1, &items, &len, NULL, out);
    }
    return tr_embed_many(t, 0, n, NULL, NULL, items, out);
}

typedef struct tr_rank_args {
    const train_state *t;
    const float *items, *users;
    size_t *rank;
} tr_rank_args;
static void tr_rank_rows(void *p, size_t lo, size_t hi) {
    const tr_rank_args *a = (const tr_rank_args *)p;
    const train_state *t = a->t;
    size_t O = t->d_out;
    for (size_t v = lo; v < hi; v++) {
        const float *u = a->users + v * O;
        uint32_t tg = t->data.valid_target[v];
        double ts = 0;
        for (size_t r = 0; r < O; r++) ts += (double)u[r] * a->items[(size_t)tg * O + r];
        size_t rank = 0;
        for (size_t i = 0; i < t->data.n_items; i++) {
            double s = 0;
            for (size_t r = 0; r < O; r++) s += (double)u[r] * a->items[i * O + r];
            rank += s > ts;
        }
        a->rank[v] = rank;
    }
}

learn_status train_validate(train_state *t, train_metrics *m) {
    if (!t || !m) return LEARN_ERR_ARG;
    memset(m, 0, sizeof *m);
    size_t nv = t->data.n_valid, ni = t->data.n_items, O = t->d_out;
    if (!nv) return TR_FAIL(t, LEARN_ERR_STATE, "no validation examples");
    float *items = (float *)malloc(ni * O * sizeof(float));
    float *users = (float *)malloc(nv * O * sizeof(float));
    const uint32_t **hist = (const uint32_t **)malloc(nv * sizeof *hist);
    uint32_t *len = (uint32_t *)malloc(nv * sizeof *len), *all = (uint32_t *)malloc(ni * sizeof *all);
    size_t *rank = (size_t *)malloc(nv * sizeof *rank);
    learn_status st = LEARN_OK;
    if (!items || !users || !hist || !len || !all || !rank) {
        st = TR_FAIL(t, LEARN_ERR_NOMEM, "out of memory for validation");
        goto done;
    }
    for (size_t i = 0; i < ni; i++) all[i] = (uint32_t)i;
    for (size_t v = 0; v < nv; v++) {
        hist[v] = t->data.valid_hist + t->data.valid_off[v];
        len[v] = t->data.valid_off[v + 1] - t->data.valid_off[v];
    }
    if ((st = tr_embed_many(t, 0, ni, NULL, NULL, all, items)) ||
        (st = tr_embed_many(t, 1, nv, hist, len, NULL, users)))
        goto done;
    tr_rank_args a = {t, items, users, rank};
    tr_parallel(t, nv, ni * O, tr_rank_rows, &a);
    for (size_t v = 0; v < nv; v++) {
        double g = 1.0 / log2((double)rank[v] + 2.0);
        if (rank[v] < 10) m->recall10 += 1, m->ndcg10 += g;
        if (rank[v] < 50) m->recall50 += 1, m->ndcg50 += g;
    }
    m->recall10 /= (double)nv;
    m->ndcg10 /= (double)nv;
    m->recall50 /= (double)nv;
    m->ndcg50 /= (double)nv;
    m->n = (uint32_t)nv;
done:
    free(items);
    free(users);
    free((void *)hist);
    free(len);
    free(all);
    free(rank);
    return st;
}

learn_status train_write_towers(const train_state *t, learn_writer *w, learn_type weight_type) {
    if (!t || !w) return LEARN_ERR_ARG;
    static const char *const acts[] = {"gelu", "gelu_tanh", "relu"};
    towers_shape s = {t->d_in, t->D, t->L, t->H, t->F, t->d_out, t->cfg.eps,
                      acts[t->cfg.act], t->cfg.pre_norm, t->max_pos, t->cfg.max_history};
    learn_status st = towers_write_config(w, &s);
    if (st) return st;
    if (t->in_mean &&
        ((st = towers_add_vector(w, "tower.input_mean", t->d_in, t->in_mean)) ||
         (st = towers_add_vector(w, "tower.input_scale", t->d_in, t->in_scale))))
        return st;
    size_t most = 0;
    for (uint32_t k = 0; k < t->n_tensors; k++) {
        size_t n = t->tensors[k].rows * (t->tensors[k].cols ? t->tensors[k].cols : 1);
        most = n > most ? n : most;
    }
    float *buf = (float *)malloc(most * sizeof *buf);
    if (!buf) return LEARN_ERR_NOMEM;
    for (uint32_t k = 0; k < t->n_tensors && !st; k++) {
        const tr_tensor *x = &t->tensors[k];
        size_t n = x->rows * (x->cols ? x->cols : 1);
        for (size_t i = 0; i < n; i++) buf[i] = (float)t->P[x->off + i];
        if (x->kind == TR_MATRIX)
            st = towers_add_matrix(w, x->name, weight_type, x->rows, x->cols, buf);
        else if (x->kind == TR_POS)
            st = towers_add_matrix(w, x->name, LEARN_TYPE_F32, x->rows, x->cols, buf);
        else
            st = towers_add_vector(w, x->name, x->rows, buf);
    }
    free(buf);
    return st;
}

/* ==== Checkpoints ====
   A tower model (F32) plus:
     train.step, train.seed, train.data_digest     U64
     train.real_bytes                              U32 (sizeof(train_real))
     train.cfg.*                                   the configuration (see tr_cfg_fields)
     train.params, train.adam_m, train.adam_v      U8 [n_params * real_bytes]: the exact
                                                   values, little-endian */

typedef struct tr_cfg_field {
    const char *key;
    int is_f64;
    size_t off;
    int is_u64;
} tr_cfg_field;
#define TR_U32(f) {"train.cfg." #f, 0, offsetof(train_config, f), 0}
#define TR_F64(f) {"train.cfg." #f, 1, offsetof(train_config, f), 0}
static const tr_cfg_field tr_cfg_fields[] = {
    TR_U32(max_history), TR_U32(min_seq_len), TR_U32(batch_size), TR_U32(epochs), TR_U32(logq),
    TR_U32(warmup_steps), TR_F64(lr), TR_F64(weight_decay), TR_F64(beta1), TR_F64(beta2),
    TR_F64(adam_eps), TR_F64(scale), TR_F64(dropout), TR_F64(init_std),
};
#undef TR_U32
#undef TR_F64

static void tr_put_reals(uint8_t *dst, const treal *src, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint8_t b[sizeof(treal)];
        memcpy(b, &src[i], sizeof b);
        uint16_t one = 1;
        int little = *(uint8_t *)&one == 1;
        for (size_t k = 0; k < sizeof b; k++) dst[i * sizeof b + k] = little ? b[k] : b[sizeof b - 1 - k];
    }
}
static void tr_get_reals(treal *dst, const uint8_t *src, size_t n) {
    uint16_t one = 1;
    int little = *(uint8_t *)&one == 1;
    for (size_t i = 0; i < n; i++) {
        uint8_t b[sizeof(treal)];
        for (size_t k = 0; k < sizeof b; k++) b[k] = little ? src[i * sizeof b + k] : src[i * sizeof b + sizeof b - 1 - k];
        memcpy(&dst[i], b, sizeof b);
    }
}

learn_status train_save_checkpoint(train_state *t, const char *path) {
    if (!t || !path) return LEARN_ERR_ARG;
    learn_writer *w;
    if (learn_writer_new(NULL, &w)) return TR_FAIL(t, LEARN_ERR_NOMEM, "out of memory");
    learn_status st = train_write_towers(t, w, LEARN_TYPE_F32);
    if (!st) st = learn_writer_set_u64(w, "train.step", t->step);
    if (!st) st = learn_writer_set_u64(w, "train.seed", t->cfg.seed);
    if (!st) st = learn_writer_set_u64(w, "train.data_digest", t->data_digest);
    if (!st) st = learn_writer_set_u32(w, "train.real_bytes", (uint32_t)sizeof(treal));
    if (!st) st = learn_writer_set_u32(w, "train.cfg.dense", (uint32_t)t->cfg.dense);
    if (!st) st = learn_writer_set_u32(w, "train.cfg.n_threads", (uint32_t)t->cfg.n_threads);
    for (size_t i = 0; i < sizeof tr_cfg_fields / sizeof tr_cfg_fields[0] && !st; i++) {
        const char *p = (const char *)&t->cfg + tr_cfg_fields[i].off;
        if (tr_cfg_fields[i].is_f64) st = learn_writer_set_f64(w, tr_cfg_fields[i].key, *(const double *)(const void *)p);
        else st = learn_writer_set_u32(w, tr_cfg_fields[i].key, *(const uint32_t *)(const void *)p);
    }
    uint64_t bytes = (uint64_t)t->n_params * sizeof(treal);
    uint8_t *raw = st ? NULL : (uint8_t *)malloc((size_t)bytes * 3);
    if (!st && !raw) st = LEARN_ERR_NOMEM;
    if (!st) {
        const char *names[3] = {"train.params", "train.adam_m", "train.adam_v"};
        const treal *src[3] = {t->P, t->M, t->V};
        for (int k = 0; k < 3 && !st; k++) {
            tr_put_reals(raw + k * bytes, src[k], t->n_params);
            st = learn_writer_add_tensor(w, names[k], LEARN_TYPE_U8, 1, &bytes, raw + k * bytes, 0);
        }
    }
    if (!st) st = learn_writer_save(w, path);
    if (st) TR_FAIL(t, st, "checkpoint %s: %s", path, learn_writer_errmsg(w));
    free(raw);
    learn_writer_free(w);
    return st;
}

learn_status train_resume(const char *path, const train_data *data, int n_threads,
                          train_state **out, char *err, size_t errn) {
    if (!out) return LEARN_ERR_ARG;
    *out = NULL;
    if (!path || !data) return util_fail(err, errn, LEARN_ERR_ARG, "path and data must not be NULL");
    learn_model *m;
    char inner[LEARN_ERRMSG_SIZE];
    learn_status st = learn_model_open(path, NULL, &m, inner, sizeof inner);
    if (st) return util_fail(err, errn, st, "%s", inner);
    train_config cfg = train_default_config();
    uint32_t d_in = 0, real_bytes = 0, dense = 0, threads = 1;
    uint64_t step = 0, digest = 0;
    st = tr_read_model(m, &cfg, NULL, &d_in, err, errn);
    if (!st && (learn_model_meta_u64(m, "train.step", &step) ||
                learn_model_meta_u64(m, "train.seed", &cfg.seed) ||
                learn_model_meta_u64(m, "train.data_digest", &digest) ||
                learn_model_meta_u32(m, "train.real_bytes", &real_bytes) ||
                learn_model_meta_u32(m, "train.cfg.dense", &dense) ||
                learn_model_meta_u32(m, "train.cfg.n_threads", &threads)))
        st = util_fail(err, errn, LEARN_ERR_FORMAT, "%s: not a training checkpoint (train.* missing)",
                       path);
    for (size_t i = 0; !st && i < sizeof tr_cfg_fields / sizeof tr_cfg_fields[0]; i++) {
        char *p = (char *)&cfg + tr_cfg_fields[i].off;
        learn_status s2 = tr_cfg_fields[i].is_f64
                              ? learn_model_meta_f64(m, tr_cfg_fields[i].key, (double *)(void *)p)
                              : learn_model_meta_u32(m, tr_cfg_fields[i].key, (uint32_t *)(void *)p);
        if (s2) st = util_fail(err, errn, LEARN_ERR_FORMAT, "%s: '%s' is missing", path, tr_cfg_fields[i].key);
    }
    if (!st && real_bytes != sizeof(treal))
        st = util_fail(err, errn, LEARN_ERR_MISMATCH,
                       "%s: written with %u-byte reals, this build trains with %zu", path, real_bytes,
                       sizeof(treal));
    cfg.dense = (int)dense;
    cfg.n_threads = n_threads > 0 ? n_threads : (int)threads;
    train_state *t = NULL;
    if (!st) st = tr_make(&cfg, data, d_in, &t, err, errn);
    if (!st && t->data_digest != digest)
        st = util_fail(err, errn, LEARN_ERR_MISMATCH,
                       "%s: the data differ from those the checkpoint was trained on", path);
    if (!st && step > t->total)
        st = util_fail(err, errn, LEARN_ERR_FORMAT, "%s: step %llu is past the end (%llu)", path,
                       (unsigned long long)step, (unsigned long long)t->total);
    if (!st) st = tr_read_standardization(t, m, err, errn);
    const char *names[3] = {"train.params", "train.adam_m", "train.adam_v"};
    treal *dst[3] = {t ? t->P : NULL, t ? t->M : NULL, t ? t->V : NULL};
    for (int k = 0; k < 3 && !st; k++) {
        learn_tensor_info ti;
        if (learn_model_tensor_find(m, names[k], &ti) || ti.type != LEARN_TYPE_U8 ||
            ti.size != (uint64_t)t->n_params * sizeof(treal))
            st = util_fail(err, errn, LEARN_ERR_FORMAT, "%s: tensor '%s' is missing or not %zu bytes",
                           path, names[k], t->n_params * sizeof(treal));
        else
            tr_get_reals(dst[k], (const uint8_t *)ti.data, t->n_params);
    }
    learn_model_close(m);
    if (st) {
        train_free(t);
        return st;
    }
    t->step = step;
    *out = t;
    return LEARN_OK;
}
