/* test_kernels.c - Check suite of the kernels and the thread pool.

   Compiled in the translation unit of learn.c (the test program includes learn.c, then the
   suite files), so it calls the static learn__ functions. Every SIMD level that this build
   has and this CPU runs is compared with the scalar reference; a level the CPU lacks is
   reported once on stderr as "skipped: CPU lacks <level>".

   Tolerances. Integer parts are compared exactly: block dots, and whole products whose
   scales are 1 and whose inputs are integers (every partial sum is then an exact float).
   Float results of a level against the scalar reference: |y - ref| <= 1e-5 * M, M the sum of
   the magnitudes of the products (the error bound of a reordered float sum). One level
   against itself: bit-identical whatever the row split, the batch and the position in it.
   Row helpers against double precision: 2e-6 relative (+ 1e-6 absolute for exp/erf based
   ones). */

#include <time.h>
#include <check.h>

/* ---- Helpers ---------------------------------------------------------------------------- */

static uint64_t tk_rng = 0x9e3779b97f4a7c15ull;

static uint32_t tk_rand(void)
{
    tk_rng ^= tk_rng << 13;
    tk_rng ^= tk_rng >> 7;
    tk_rng ^= tk_rng << 17;
    return (uint32_t)(tk_rng >> 16);
}

/* uniform in [-1, 1) */
static float tk_uniform(void)
{
    return (float)((double)tk_rand() / 4294967296.0 * 2.0 - 1.0);
}

static int tk_bits_equal(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Levels to compare with scalar: compiled in and run by this CPU. */
static int tk_levels(learn__isa *out)
{
    int n = 0;
    for (int i = 1; i < LEARN__ISA_COUNT; i++)
        if (learn__isa_supported((learn__isa)i)) out[n++] = (learn__isa)i;
    return n;
}

static size_t tk_block_bytes(learn_type t)
{
    return t == LEARN_TYPE_Q8_0 ? LEARN__Q8_0_BYTES : LEARN__Q4_0_BYTES;
}

static size_t tk_row_bytes(learn_type t, int K)
{
    switch (t) {
    case LEARN_TYPE_Q8_0:
    case LEARN_TYPE_Q4_0: return (size_t)K / 32 * tk_block_bytes(t);
    case LEARN_TYPE_F32: return (size_t)K * 4;
    default: return (size_t)K * 2;
    }
}

static int tk_is_quant(learn_type t)
{
    return t == LEARN_TYPE_Q8_0 || t == LEARN_TYPE_Q4_0;
}

static void tk_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 255);
    p[1] = (uint8_t)(v >> 8);
}

/* Weight fill modes. */
enum { TK_RANDOM, TK_MIN, TK_MAX, TK_INT1, TK_ZERO_SCALE, TK_SUBNORMAL };

/* Random weights for R rows of K of a type, row stride ldw, at p. */
static void tk_fill_w(learn_type t, uint8_t *p, size_t ldw, int R, int K, int mode)
{
    for (int r = 0; r < R; r++) {
        uint8_t *row = p + (size_t)r * ldw;
        if (tk_is_quant(t)) {
            const size_t bb = tk_block_bytes(t);
            for (int b = 0; b < K / 32; b++) {
                uint8_t *blk = row + (size_t)b * bb;
                uint16_t d;
                switch (mode) {
                case TK_INT1:
                case TK_MIN:
                case TK_MAX: d = 0x3c00; break; /* 1.0 */
                case TK_ZERO_SCALE: d = (tk_rand() & 1) ? 0x0000 : 0x8000; break;
                case TK_SUBNORMAL: d = (uint16_t)(1 + tk_rand() % 0x3ff); break;
                default:
                    d = learn__f32_to_f16((tk_rand() & 1 ? 1.0f : -1.0f) *
                                          (0.001f + 0.05f * (tk_uniform() + 1.0f)));
                }
                tk_put16(blk, d);
                for (size_t i = 2; i < bb; i++) {
                    uint8_t v = (uint8_t)tk_rand();
                    if (mode == TK_MIN) v = t == LEARN_TYPE_Q8_0 ? 0x80 : 0x00;
                    if (mode == TK_MAX) v = t == LEARN_TYPE_Q8_0 ? 0x7f : 0xff;
                    blk[i] = v;
                }
            }
        } else {
            for (int k = 0; k < K; k++) {
                const float v = tk_uniform();
                if (t == LEARN_TYPE_F32)
                    memcpy(row + 4 * (size_t)k, &v, 4);
                else if (t == LEARN_TYPE_F16)
                    tk_put16(row + 2 * (size_t)k, learn__f32_to_f16(v));
                else {
                    uint32_t u;
                    memcpy(&u, &v, 4);
                    tk_put16(row + 2 * (size_t)k, (uint16_t)(u >> 16));
                }
            }
        }
    }
}

/* Activation fill modes: random with outliers, integers with a +-127 in every block (so
   that the q8 scale is exactly 1), all +127, all -127. */
enum { TK_X_RANDOM, TK_X_INT, TK_X_PLUS, TK_X_MINUS };

static void tk_fill_x(float *x, size_t ldx, int T, int K, int mode)
{
    for (int t = 0; t < T; t++)
        for (int k = 0; k < K; k++) {
            float v;
            switch (mode) {
            case TK_X_INT:
                v = k % 32 == 7 ? (tk_rand() & 1 ? 127.0f : -127.0f)
                                : (float)((int)(tk_rand() % 255) - 127);
                break;
            case TK_X_PLUS: v = 127.0f; break;
            case TK_X_MINUS: v = -127.0f; break;
            default: v = tk_uniform() * (tk_rand() % 16 == 0 ? 20.0f : 1.0f);
            }
            x[(size_t)t * ldx + (size_t)k] = v;
        }
}

/* Sum of the magnitudes of the products behind Y[t][r] (the scale of rounding errors). */
static double tk_magnitude(learn_type t, const uint8_t *w, const void *xq, const float *x, int K)
{
    double m = 0.0;
    if (tk_is_quant(t)) {
        for (int b = 0; b < K / 32; b++) {
            int8_t a[32];
            const float da = learn__q8_block(xq, b, a);
            const uint8_t *blk = w + (size_t)b * tk_block_bytes(t);
            double s = 0.0, sa = 0.0;
            for (int i = 0; i < 32; i++) {
                int q;
                if (t == LEARN_TYPE_Q8_0)
                    q = (int8_t)blk[2 + i];
                else
                    q = (i < 16 ? (blk[2 + i] & 15) : (blk[2 + i - 16] >> 4)) - 8;
                s += fabs((double)q * a[i]);
                sa += a[i];
            }
            if (t == LEARN_TYPE_Q4_0)
                s += 8.0 * fabs(sa) + 15.0 * 127.0; /* unsigned-nibble paths */
            m += fabs((double)learn__ld_f16(blk) * da) * s;
        }
    } else {
        for (int k = 0; k < K; k++) m += fabs((double)learn__wf(t, w, k) * x[k]);
    }
    return m;
}

/* Everything one product test needs. Weights sit at an odd address; X rows are padded. */
typedef struct tk_case {
    learn_type type;
    int R, K, T;
    uint8_t *wbuf, *w;
    size_t ldw;
    float *x;
    size_t ldx;  /* floats */
    uint8_t *xq; /* q8 rows, from the scalar quantizer */
    size_t ldq;
    void *work;
} tk_case;

static void tk_case_init(tk_case *c, learn_type type, int R, int K, int T, int wmode, int xmode)
{
    c->type = type;
    c->R = R;
    c->K = K;
    c->T = T;
    c->ldw = tk_row_bytes(type, K) + (tk_rand() % 3);
    c->wbuf = (uint8_t *)malloc(c->ldw * (size_t)R + 8);
    c->w = c->wbuf + 1 + tk_rand() % 3;
    tk_fill_w(type, c->w, c->ldw, R, K, wmode);
    c->ldx = (size_t)K + (tk_rand() % 5);
    c->x = (float *)malloc(sizeof(float) * c->ldx * (size_t)T);
    tk_fill_x(c->x, c->ldx, T, K, xmode);
    c->ldq = learn__q8_row_bytes(K);
    c->xq = (uint8_t *)malloc(c->ldq * (size_t)T + 1);
    for (int t = 0; t < T; t++)
        if (tk_is_quant(type))
            learn__quantize_row_scalar(c->x + (size_t)t * c->ldx, K, c->xq + (size_t)t * c->ldq);
    c->work = malloc(LEARN__WORK_MAX);
}

static void tk_case_free(tk_case *c)
{
    free(c->wbuf);
    free(c->x);
    free(c->xq);
    free(c->work);
}

/* Runs a kernel over rows [r0, r1) and tokens [t0, t1) of the case, into y (ldy = R). */
static void tk_run(const tk_case *c, const learn__kernels *k, int r0, int r1, int t0, int t1,
                   float *y)
{
    learn__gemm_args g;
    g.w = c->w;
    g.ldw = c->ldw;
    if (tk_is_quant(c->type)) {
        g.x = c->xq + (size_t)t0 * c->ldq;
        g.ldx = c->ldq;
    } else {
        g.x = c->x + (size_t)t0 * c->ldx;
        g.ldx = c->ldx * sizeof(float);
    }
    g.y = y + (size_t)t0 * (size_t)c->R;
    g.ldy = (size_t)c->R;
    g.K = c->K;
    g.T = t1 - t0;
    learn__gemm(k, c->type, &g, r0, r1, c->work);
}

static const char *tk_type_name(learn_type t)
{
    static const char *names[] = {"f32", "f16", "bf16", "q8_0", "q4_0"};
    return (unsigned)t < 5 ? names[t] : "?";
}

/* Compares one level with scalar on a case, and the level with itself across splits. With
   exact = 1, and for the quantized products of the levels that compute them as the scalar
   kernels do (q_exact), the results must equal the scalar ones bit for bit. */
static void tk_check_case(learn__isa isa, tk_case *c, int exact)
{
    const learn__kernels *ks = learn__kernels_for(LEARN__ISA_SCALAR), *kv = learn__kernels_for(isa);
    if (kv->q_exact && tk_is_quant(c->type)) exact = 1;
    const size_t n = (size_t)c->R * (size_t)c->T;
    float *ref = (float *)malloc(n * sizeof(float)), *y = (float *)malloc(n * sizeof(float)),
          *y2 = (float *)malloc(n * sizeof(float));
    tk_run(c, ks, 0, c->R, 0, c->T, ref);
    tk_run(c, kv, 0, c->R, 0, c->T, y);
    for (int t = 0; t < c->T; t++)
        for (int r = 0; r < c->R; r++) {
            const size_t i = (size_t)t * (size_t)c->R + (size_t)r;
            const uint8_t *wr = c->w + (size_t)r * c->ldw;
            const double m = tk_magnitude(c->type, wr, c->xq + (size_t)t * c->ldq,
                                          c->x + (size_t)t * c->ldx, c->K);
            const double tol = exact ? 0.0 : 1e-5 * m + 1e-37;
            ck_assert_msg(fabs((double)y[i] - (double)ref[i]) <= tol,
                          "%s %s R=%d K=%d T=%d: Y[%d][%d] = %.9g, scalar %.9g (tolerance %.3g)",
                          learn__isa_name(isa), tk_type_name(c->type), c->R, c->K, c->T, t, r,
                          (double)y[i], (double)ref[i], tol);
        }
    /* the same level, rows split at a random place and tokens one at a time (each token
       alone is a batch of 1, at position 0): bit-identical */
    const int cut = (int)(tk_rand() % (unsigned)(c->R + 1));
    for (int t = 0; t < c->T; t++) {
        tk_run(c, kv, 0, cut, t, t + 1, y2);
        tk_run(c, kv, cut, c->R, t, t + 1, y2);
    }
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(tk_bits_equal(y[i], y2[i]),
                      "%s %s R=%d K=%d T=%d: split/batch changed Y[%zu]", learn__isa_name(isa),
                      tk_type_name(c->type), c->R, c->K, c->T, i);
    /* and a batch that starts one token later */
    if (c->T > 1) {
        tk_run(c, kv, 0, c->R, 1, c->T, y2);
        for (size_t i = (size_t)c->R; i < n; i++) ck_assert(tk_bits_equal(y[i], y2[i]));
    }
    free(ref);
    free(y);
    free(y2);
}

/* ---- CPU features and ISA selection ------------------------------------------------------ */

START_TEST(test_isa_select)
{
    learn__isa isa;
    char msg[256];
    ck_assert(learn__cpu_features() & LEARN__CPU_KNOWN);
    ck_assert_uint_eq(learn__cpu_features(), learn__cpu_features());
    unsetenv("LEARN_ISA");
    ck_assert_int_eq(learn__isa_select(NULL, &isa, msg, sizeof msg), LEARN_OK);
    ck_assert_int_eq(isa, learn__isa_best());
    ck_assert(learn__isa_supported(isa));
    ck_assert_int_eq(learn__isa_select("auto", &isa, msg, sizeof msg), LEARN_OK);
    ck_assert_int_eq(isa, learn__isa_best());
    ck_assert_int_eq(learn__isa_select("scalar", &isa, msg, sizeof msg), LEARN_OK);
    ck_assert_int_eq(isa, LEARN__ISA_SCALAR);
    ck_assert_int_eq(learn__isa_select("sse9", &isa, msg, sizeof msg), LEARN_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(msg, "unknown level"));
    for (int i = 0; i < LEARN__ISA_COUNT; i++) {
        const learn_status st = learn__isa_select(learn__isa_names[i], &isa, msg, sizeof msg);
        if (learn__isa_supported((learn__isa)i)) {
            ck_assert_int_eq(st, LEARN_OK);
            ck_assert_int_eq(isa, i);
            ck_assert_int_eq(learn__kernels_for(isa)->isa, i);
        } else {
            ck_assert_int_eq(st, LEARN_ERR_UNSUPPORTED);
            ck_assert_ptr_nonnull(strstr(msg, learn__isa_names[i]));
            ck_assert_ptr_nonnull(strstr(msg, "supported here: scalar"));
        }
    }
    ck_assert_int_eq(learn__isa_select(NULL, NULL, msg, sizeof msg), LEARN_ERR_ARG);
}
END_TEST

START_TEST(test_isa_env)
{
    learn__isa isa;
    char msg[256];
    setenv("LEARN_ISA", "scalar", 1);
    ck_assert_int_eq(learn__isa_select(NULL, &isa, msg, sizeof msg), LEARN_OK);
    ck_assert_int_eq(isa, LEARN__ISA_SCALAR);
    /* an explicit request wins over the environment */
    ck_assert_int_eq(learn__isa_select(learn__isa_name(learn__isa_best()), &isa, msg, sizeof msg),
                     LEARN_OK);
    ck_assert_int_eq(isa, learn__isa_best());
    setenv("LEARN_ISA", "auto", 1);
    ck_assert_int_eq(learn__isa_select(NULL, &isa, msg, sizeof msg), LEARN_OK);
    ck_assert_int_eq(isa, learn__isa_best());
    setenv("LEARN_ISA", "nonsense", 1);
    ck_assert_int_eq(learn__isa_select(NULL, &isa, msg, sizeof msg), LEARN_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(msg, "LEARN_ISA=nonsense"));
    for (int i = 0; i < LEARN__ISA_COUNT; i++) {
        if (learn__isa_supported((learn__isa)i)) continue;
        setenv("LEARN_ISA", learn__isa_names[i], 1);
        ck_assert_int_eq(learn__isa_select(NULL, &isa, msg, sizeof msg), LEARN_ERR_UNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(msg, "LEARN_ISA="));
    }
    unsetenv("LEARN_ISA");
}
END_TEST

/* AMX detection from CPUID's and XCR0's bits: nothing without both; with both, Linux is asked
   for the tile data and either grants it (AMX) or refuses (DENIED, which a CPU without AMX
   gets), never both. The level's reason names what is missing. */
#if defined(LEARN__X86)
START_TEST(test_amx_detect)
{
    const uint32_t tile_int8 = (1u << 24) | (1u << 25), tile_state = 0x60000u;
    ck_assert_uint_eq(learn__amx_detect(0, 0xe7u), 0);
    ck_assert_uint_eq(learn__amx_detect(1u << 24, tile_state), LEARN__CPU_AMX_XCR0); /* no AMX-INT8 */
    ck_assert_uint_eq(learn__amx_detect(tile_int8, 0xe7u), LEARN__CPU_AMX_HW);
    ck_assert_uint_eq(learn__amx_detect(tile_int8, 0x20000u), LEARN__CPU_AMX_HW); /* XTILECFG only */
    const unsigned f = learn__amx_detect(tile_int8, tile_state);
    ck_assert_uint_eq(f & (LEARN__CPU_AMX_HW | LEARN__CPU_AMX_XCR0), LEARN__CPU_AMX_HW | LEARN__CPU_AMX_XCR0);
    ck_assert(!(f & LEARN__CPU_AMX) != !(f & LEARN__CPU_AMX_DENIED));
    ck_assert_int_ne(learn__isa_best(), LEARN__ISA_AMX); /* amx only when named */
    const char *why = learn__isa_why(LEARN__ISA_AMX);
    if (learn__isa_supported(LEARN__ISA_AMX)) return;
    const unsigned have = learn__cpu_features();
    ck_assert_ptr_nonnull(strstr(why, !(have & LEARN__CPU_AMX_HW)     ? "AMX-TILE"
                                      : !(have & LEARN__CPU_AMX_XCR0) ? "XCR0"
                                      : (have & LEARN__CPU_AMX_DENIED) ? "refused"
                                                                       : "AVX-512"));
    char msg[256];
    learn__isa isa;
    ck_assert_int_eq(learn__isa_select("amx", &isa, msg, sizeof msg), LEARN_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(msg, why) != NULL, "%s", msg);
}
END_TEST
#endif

/* ---- Quantization --------------------------------------------------------------------------- */

START_TEST(test_quantize_same_bytes)
{
    learn__isa lv[LEARN__ISA_COUNT];
    const int nl = tk_levels(lv);
    for (int K = 32; K <= 800; K += 32) {
        float *x = (float *)malloc(sizeof(float) * ((size_t)K + 1));
        const size_t bytes = learn__q8_row_bytes(K);
        uint8_t *q0 = (uint8_t *)malloc(bytes), *q1 = (uint8_t *)malloc(bytes);
        for (int mode = 0; mode < 5; mode++) {
            float *xs = x + (K % 64 == 0); /* sometimes off a 16-byte boundary */
            for (int k = 0; k < K; k++) {
                float v = tk_uniform();
                if (mode == 1) v *= 1e-39f;               /* subnormal blocks */
                if (mode == 2) v = k % 32 < 4 ? 0.0f : v; /* some zeros */
                if (mode == 3) v *= 3e38f;                /* near FLT_MAX */
                if (mode == 4 && k % 97 == 5) v = k % 2 ? NAN : -INFINITY;
                if (mode == 4 && k % 160 == 0) v = 0.0f;
                xs[k] = v;
            }
            memset(q0, 0xa5, bytes);
            learn__quantize_row_scalar(xs, K, q0);
            /* decoded values are within half a step */
            for (int b = 0; b < K / 32; b++) {
                int8_t a[32];
                const float d = learn__q8_block(q0, b, a);
                int bad = 0;
                for (int i = 0; i < 32; i++) bad |= !(fabsf(xs[32 * b + i]) <= FLT_MAX);
                if (bad) {
                    ck_assert(isnan(d));
                    continue;
                }
                if (d == 0.0f) { /* all zero, or so small (< 127 / FLT_MAX) that it counts as 0 */
                    for (int i = 0; i < 32; i++)
                        ck_assert(a[i] == 0 && fabsf(xs[32 * b + i]) < 4e-37f);
                    continue;
                }
                for (int i = 0; i < 32; i++) {
                    ck_assert(a[i] >= -127 && a[i] <= 127);
                    ck_assert_msg(fabs((double)xs[32 * b + i] - (double)d * a[i]) <=
                                      0.5001 * d + 1e-45,
                                  "K=%d mode=%d block %d element %d", K, mode, b, i);
                }
            }
            for (int l = 0; l < nl; l++) {
                memset(q1, 0x5a, bytes);
                learn__kernels_for(lv[l])->quantize_row(xs, K, q1);
                for (size_t i = 0; i < bytes; i++)
                    ck_assert_msg(q0[i] == q1[i], "%s K=%d mode=%d: byte %zu differs (%d vs %d)",
                                  learn__isa_name(lv[l]), K, mode, i, q1[i], q0[i]);
            }
        }
        free(x);
        free(q0);
        free(q1);
    }
}
END_TEST

/* ---- Exact integer cores ---------------------------------------------------------------- */

START_TEST(test_block_dot_exact)
{
    learn__isa lv[LEARN__ISA_COUNT];
    const int nl = tk_levels(lv);
    const learn__kernels *ks = learn__kernels_for(LEARN__ISA_SCALAR);
    uint8_t wbuf[40];
    int8_t abuf[40];
    for (int iter = 0; iter < 4000; iter++) {
        uint8_t *w = wbuf + iter % 5;
        int8_t *a = abuf + iter % 7;
        const int mode = iter % 8;
        for (int i = 0; i < 34; i++) {
            uint8_t v = (uint8_t)tk_rand();
            if (mode == 1) v = 0x80; /* all -128 (Q8_0), 0 / 8 nibbles */
            if (mode == 2) v = 0x7f;
            if (mode == 3) v = (i & 1) ? 0x80 : 0x7f;
            if (mode == 4) v = 0xff;
            if (mode == 5) v = 0x00;
            w[i] = v;
        }
        for (int i = 0; i < 32; i++) {
            int v = (int)(tk_rand() % 255) - 127;
            if (mode == 1 || mode == 4) v = (iter & 8) ? 127 : -127;
            if (mode == 2) v = -127;
            if (mode == 3) v = (i & 2) ? 127 : -127;
            a[i] = (int8_t)v;
        }
        for (int type = 0; type < 2; type++) {
            const int32_t ref = ks->block_dot[type](w, a);
            for (int l = 0; l < nl; l++) {
                const int32_t got = learn__kernels_for(lv[l])->block_dot[type](w, a);
                ck_assert_msg(got == ref, "%s %s block dot: %d, scalar %d (mode %d)",
                              learn__isa_name(lv[l]), type ? "q4_0" : "q8_0", got, ref, mode);
            }
        }
    }
    /* the extremes by hand: -128 * -127 * 32 */
    memset(wbuf, 0x80, sizeof wbuf);
    memset(abuf, -127, sizeof abuf);
    ck_assert_int_eq(ks->block_dot[0](wbuf, abuf), 32 * 128 * 127);
    for (int l = 0; l < nl; l++)
        ck_assert_int_eq(learn__kernels_for(lv[l])->block_dot[0](wbuf, abuf), 32 * 128 * 127);
}
END_TEST

/* Products with unit scales and integer inputs: every sum is an exact integer. */
START_TEST(test_gemm_exact_integers)
{
    learn__isa lv[LEARN__ISA_COUNT];
    const int nl = tk_levels(lv);
    static const int Ks[] = {32, 64, 96, 128, 160, 544, 2080};
    static const int wmodes[] = {TK_INT1, TK_MIN, TK_MAX};
    static const int xmodes[] = {TK_X_INT, TK_X_PLUS, TK_X_MINUS};
    for (int ty = 0; ty < 2; ty++) {
        const learn_type type = ty ? LEARN_TYPE_Q4_0 : LEARN_TYPE_Q8_0;
        for (size_t ki = 0; ki < sizeof Ks / sizeof Ks[0]; ki++)
            for (int wm = 0; wm < 3; wm++)
                for (int xm = 0; xm < 3; xm++) {
                    tk_case c;
                    tk_case_init(&c, type, 5, Ks[ki], 3, wmodes[wm], xmodes[xm]);
                    for (int l = 0; l < nl; l++) tk_check_case(lv[l], &c, 1);
                    tk_case_free(&c);
                }
    }
}
END_TEST

/* ---- Products against the reference ------------------------------------------------------ */

static void tk_gemm_sweep(learn_type type)
{
    learn__isa lv[LEARN__ISA_COUNT];
    const int nl = tk_levels(lv);
    static const int Ks_q[] = {32, 64, 96, 160, 416, 544, 2080};
    static const int Ks_f[] = {1, 7, 8, 9, 31, 33, 100, 416, 777};
    static const int Rs[] = {1, 2, 3, 5, 7, 13};
    static const int Ts[] = {1, 2, 3, 5, 9};
    const int *Ks = tk_is_quant(type) ? Ks_q : Ks_f;
    const size_t nK =
        tk_is_quant(type) ? sizeof Ks_q / sizeof Ks_q[0] : sizeof Ks_f / sizeof Ks_f[0];
    for (size_t ki = 0; ki < nK; ki++)
        for (size_t ri = 0; ri < sizeof Rs / sizeof Rs[0]; ri++) {
            tk_case c;
            tk_case_init(&c, type, Rs[ri], Ks[ki], Ts[(ki + ri) % 5], TK_RANDOM, TK_X_RANDOM);
            for (int l = 0; l < nl; l++) tk_check_case(lv[l], &c, 0);
            tk_case_free(&c);
        }
    /* one larger case: odd R over several tiles, a batch longer than any tile */
    tk_case c;
    tk_case_init(&c, type, 257, tk_is_quant(type) ? 416 : 203, 11, TK_RANDOM, TK_X_RANDOM);
    for (int l = 0; l < nl; l++) tk_check_case(lv[l], &c, 0);
    tk_case_free(&c);
}

START_TEST(test_gemm_q8_0)
{
    tk_gemm_sweep(LEARN_TYPE_Q8_0);
}
END_TEST

START_TEST(test_gemm_q4_0)
{
    tk_gemm_sweep(LEARN_TYPE_Q4_0);
}
END_TEST

START_TEST(test_gemm_f32)
{
    tk_gemm_sweep(LEARN_TYPE_F32);
}
END_TEST

START_TEST(test_gemm_f16)
{
    tk_gemm_sweep(LEARN_TYPE_F16);
}
END_TEST

START_TEST(test_gemm_bf16)
{
    tk_gemm_sweep(LEARN_TYPE_BF16);
}
END_TEST

/* More tokens than one pass holds (LEARN__TC_MAX) and K in several chunks (> LEARN__KC_Q8
   blocks): the accumulators cross both boundaries. */
START_TEST(test_gemm_long_batch)
{
    learn__isa lv[LEARN__ISA_COUNT];
    const int nl = tk_levels(lv);
    for (int ty = 0; ty < 2; ty++) {
        tk_case c;
        tk_case_init(&c, ty ? LEARN_TYPE_Q4_0 : LEARN_TYPE_Q8_0, 7, 2080, LEARN__TC_MAX + 45,
                     TK_RANDOM, TK_X_RANDOM);
        for (int l = 0; l < nl; l++) tk_check_case(lv[l], &c, 0);
        tk_case_free(&c);
    }
}
END_TEST

/* Weight scales of 0 and subnormal halves. */
START_TEST(test_gemm_scales)
{
    learn__isa lv[LEARN__ISA_COUNT];
    const int nl = tk_levels(lv);
    for (int ty = 0; ty < 2; ty++)
        for (int m = 0; m < 2; m++) {
            tk_case c;
            tk_case_init(&c, ty ? LEARN_TYPE_Q4_0 : LEARN_TYPE_Q8_0, 6, 160, 3,
                         m ? TK_SUBNORMAL : TK_ZERO_SCALE, TK_X_RANDOM);
            for (int l = 0; l < nl; l++) tk_check_case(lv[l], &c, 0);
            if (!m) { /* zero scales: exactly zero (or -0) everywhere */
                float y[18];
                tk_run(&c, learn__kernels_for(learn__isa_best()), 0, 6, 0, 3, y);
                for (int i = 0; i < 18; i++) ck_assert(y[i] == 0.0f);
            }
            tk_case_free(&c);
        }
}
END_TEST

/* A NaN or Inf in the activations makes every output of that token NaN (and no other). */
START_TEST(test_gemm_nan)
{
    learn__isa all[LEARN__ISA_COUNT + 1];
    int n = tk_levels(all + 1) + 1;
    all[0] = LEARN__ISA_SCALAR;
    for (int ty = 0; ty < 5; ty++) {
        tk_case c;
        tk_case_init(&c, (learn_type)ty, 5, 96, 3, TK_RANDOM, TK_X_RANDOM);
        c.x[1 * c.ldx + 40] = ty % 2 ? NAN : INFINITY;
        if (tk_is_quant(c.type)) learn__quantize_row_scalar(c.x + c.ldx, c.K, c.xq + c.ldq);
        for (int l = 0; l < n; l++) {
            float y[15];
            tk_run(&c, learn__kernels_for(all[l]), 0, 5, 0, 3, y);
            for (int r = 0; r < 5; r++) {
                ck_assert(!isnan(y[r]) && !isnan(y[10 + r]));
                ck_assert(isnan(y[5 + r]) || isinf(y[5 + r]));
            }
        }
        tk_case_free(&c);
    }
}
END_TEST

/* ---- Row helpers -------------------------------------------------------------------------- */

static const learn__kernels *tk_helper_levels(int i)
{
    learn__isa lv[LEARN__ISA_COUNT];
    const int n = tk_levels(lv);
    if (i == 0) return learn__kernels_for(LEARN__ISA_SCALAR);
    return i <= n ? learn__kernels_for(lv[i - 1]) : NULL;
}

static void tk_close(const char *what, const learn__kernels *k, size_t n, size_t i, double got,
                     double want, double rel, double abs_tol)
{
    ck_assert_msg(fabs(got - want) <= rel * fabs(want) + abs_tol,
                  "%s %s n=%zu [%zu]: %.9g, want %.9g", learn__isa_name(k->isa), what, n, i, got,
                  want);
}

START_TEST(test_vec_dot_axpy_norms)
{
    const learn__kernels *k;
    for (int l = 0; (k = tk_helper_levels(l)) != NULL; l++)
        for (size_t n = 0; n <= 300; n += (n < 40 ? 1 : 37)) {
            float *a = (float *)malloc((n + 1) * sizeof(float)),
                  *b = (float *)malloc((n + 1) * sizeof(float));
            float *y = (float *)malloc((n + 1) * sizeof(float)),
                  *w = (float *)malloc((n + 1) * sizeof(float));
            float *x = a + 1; /* unaligned */
            double dot = 0, mag = 0, ss = 0, sum = 0;
            for (size_t i = 0; i < n; i++) {
                x[i] = tk_uniform() * 3.0f + 0.5f;
                b[i] = tk_uniform();
                w[i] = tk_uniform() + 1.5f;
                dot += (double)x[i] * b[i];
                mag += fabs((double)x[i] * b[i]);
                ss += (double)x[i] * x[i];
                sum += x[i];
            }
            ck_assert(fabs((double)k->dot(x, b, n) - dot) <= 1e-6 * mag + 1e-30);
            for (size_t i = 0; i < n; i++) y[i] = b[i];
            k->axpy(y, 0.75f, x, n);
            for (size_t i = 0; i < n; i++)
                tk_close("axpy", k, n, i, y[i], b[i] + 0.75 * x[i], 1e-6, 1e-6);
            if (n == 0) goto next;
            {
                const double s = 1.0 / sqrt(ss / (double)n + 1e-6);
                k->rmsnorm(y, x, w, n, 1e-6f);
                for (size_t i = 0; i < n; i++)
                    tk_close("rmsnorm", k, n, i, y[i], x[i] * s * w[i], 2e-6, 1e-7);
                k->rmsnorm(y, x, NULL, n, 1e-6f);
                for (size_t i = 0; i < n; i++)
                    tk_close("rmsnorm", k, n, i, y[i], x[i] * s, 2e-6, 1e-7);
                const double mean = sum / (double)n;
                double var = 0;
                for (size_t i = 0; i < n; i++) var += ((double)x[i] - mean) * ((double)x[i] - mean);
                const double ls = 1.0 / sqrt(var / (double)n + 1e-5);
                k->layernorm(y, x, w, b, n, 1e-5f);
                for (size_t i = 0; i < n; i++)
                    tk_close("layernorm", k, n, i, y[i], ((double)x[i] - mean) * ls * w[i] + b[i],
                             2e-6, 5e-6);
                k->layernorm(y, x, NULL, NULL, n, 1e-5f);
                for (size_t i = 0; i < n; i++)
                    tk_close("layernorm", k, n, i, y[i], ((double)x[i] - mean) * ls, 2e-6, 5e-6);
                /* in place */
                memcpy(y, x, n * sizeof(float));
                k->rmsnorm(y, y, w, n, 1e-6f);
                for (size_t i = 0; i < n; i++)
                    tk_close("rmsnorm in place", k, n, i, y[i], x[i] * s * w[i], 2e-6, 1e-7);
            }
        next:
            free(a);
            free(b);
            free(y);
            free(w);
        }
}
END_TEST

START_TEST(test_vec_softmax)
{
    const learn__kernels *k;
    for (int l = 0; (k = tk_helper_levels(l)) != NULL; l++) {
        for (size_t n = 1; n <= 300; n += (n < 40 ? 1 : 29)) {
            float *x = (float *)malloc(n * sizeof(float)), *y = (float *)malloc(n * sizeof(float));
            double m = -INFINITY, s = 0;
            for (size_t i = 0; i < n; i++) {
                x[i] = tk_uniform() * 30.0f;
                if (i % 7 == 3) x[i] = -INFINITY; /* masked */
                if (x[i] > m) m = x[i];
            }
            if (m == -INFINITY) {
                x[0] = 0.0f;
                m = 0.0;
            }
            for (size_t i = 0; i < n; i++) s += exp((double)x[i] - m);
            k->softmax(y, x, n);
            for (size_t i = 0; i < n; i++)
                tk_close("softmax", k, n, i, y[i], exp((double)x[i] - m) / s, 3e-6, 1e-9);
            k->softmax(x, x, n); /* in place */
            for (size_t i = 0; i < n; i++) ck_assert(tk_bits_equal(x[i], y[i]));
            /* fully masked: zeros; NaN or +Inf: NaN everywhere */
            for (size_t i = 0; i < n; i++) x[i] = -INFINITY;
            k->softmax(y, x, n);
            for (size_t i = 0; i < n; i++) ck_assert(y[i] == 0.0f);
            x[n / 2] = NAN;
            k->softmax(y, x, n);
            for (size_t i = 0; i < n; i++) ck_assert(isnan(y[i]));
            for (size_t i = 0; i < n; i++) x[i] = 1.0f;
            x[n - 1] = INFINITY;
            k->softmax(y, x, n);
            for (size_t i = 0; i < n; i++) ck_assert(isnan(y[i]));
            free(x);
            free(y);
        }
        k->softmax(NULL, NULL, 0);
    }
}
END_TEST

START_TEST(test_vec_activations)
{
    const learn__kernels *k;
    for (int l = 0; (k = tk_helper_levels(l)) != NULL; l++)
        for (size_t n = 1; n <= 200; n += (n < 20 ? 1 : 23)) {
            float *g = (float *)malloc(n * sizeof(float)), *u = (float *)malloc(n * sizeof(float));
            float *y = (float *)malloc(n * sizeof(float));
            for (size_t i = 0; i < n; i++) {
                g[i] = tk_uniform() * (i % 5 == 0 ? 100.0f : 8.0f);
                u[i] = tk_uniform() * 2.0f;
            }
            k->swiglu(y, g, u, n);
            for (size_t i = 0; i < n; i++)
                tk_close("swiglu", k, n, i, y[i], g[i] / (1.0 + exp(-(double)g[i])) * u[i], 3e-6,
                         1e-6);
            k->gelu(y, g, n);
            for (size_t i = 0; i < n; i++)
                tk_close("gelu", k, n, i, y[i], 0.5 * g[i] * (1.0 + erf(g[i] / sqrt(2.0))), 3e-6,
                         1e-6);
            /* NaN in, NaN out */
            g[n - 1] = NAN;
            k->gelu(y, g, n);
            ck_assert(isnan(y[n - 1]));
            k->swiglu(y, g, u, n);
            ck_assert(isnan(y[n - 1]));
            free(g);
            free(u);
            free(y);
        }
}
END_TEST

START_TEST(test_vec_f16_rows)
{
    const learn__kernels *k;
    uint16_t *h = (uint16_t *)malloc(65536 * sizeof(uint16_t) + 2);
    float *f = (float *)malloc(65536 * sizeof(float) + 4);
    uint16_t *h2 = (uint16_t *)malloc(65536 * sizeof(uint16_t) + 2);
    for (int l = 0; (k = tk_helper_levels(l)) != NULL; l++) {
        uint16_t *hs = h + (l & 1); /* unaligned for some levels */
        for (uint32_t i = 0; i < 65536; i++) hs[i] = (uint16_t)i;
        k->f16_to_f32(f, hs, 65536);
        for (uint32_t i = 0; i < 65536; i++) {
            const float want = learn__f16_to_f32((uint16_t)i);
            if (isnan(want))
                ck_assert(isnan(f[i]));
            else
                ck_assert_msg(tk_bits_equal(f[i], want), "%s f16 %04x", learn__isa_name(k->isa), i);
        }
        /* floats: every half, halfway points, random bits */
        for (uint32_t i = 0; i < 65536; i++) {
            uint32_t bits;
            if (i < 32768) {
                const float v = learn__f16_to_f32((uint16_t)(i * 2 + (i & 1)));
                memcpy(&bits, &v, 4);
                if (i % 3 == 0) bits += 0x1000; /* halfway-ish between halves */
            } else {
                bits = tk_rand() ^ (tk_rand() << 16);
            }
            memcpy(&f[i], &bits, 4);
        }
        k->f32_to_f16(h2, f, 65536);
        for (uint32_t i = 0; i < 65536; i++) {
            if (isnan(f[i])) {
                ck_assert((h2[i] & 0x7c00) == 0x7c00 && (h2[i] & 0x3ff));
                continue;
            }
            ck_assert_msg(h2[i] == learn__f32_to_f16(f[i]), "%s f32 %a -> %04x, want %04x",
                          learn__isa_name(k->isa), (double)f[i], h2[i], learn__f32_to_f16(f[i]));
        }
    }
    free(h);
    free(f);
    free(h2);
}
END_TEST

/* ---- Thread pool ---------------------------------------------------------------------------- */

typedef struct tk_pool_job {
    int nth_seen[8];
    long long hits[8];
    long long run;
} tk_pool_job;

static void tk_pool_fn(void *arg, int ith, int nth)
{
    tk_pool_job *j = (tk_pool_job *)arg;
    j->nth_seen[ith] = nth;
    j->hits[ith] += j->run;
}

/* Runs fn `runs` times on p (run r = 1, 2, ...), napping 20 ms after run nap_after (0: never)
   so that the workers fall asleep; 1 when every thread took part in every run. */
static int tk_pool_drive(learn__pool *p, learn__pool_fn fn, int runs, int nap_after)
{
    const int nth = learn__pool_n_threads(p);
    tk_pool_job j;
    memset(&j, 0, sizeof j);
    long long want = 0;
    for (int r = 1; r <= runs; r++) {
        j.run = r;
        want += r;
        learn__pool_run(p, fn, &j);
        if (r == nap_after) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    int ok = 1;
    for (int i = 0; i < nth; i++) ok &= j.nth_seen[i] == nth && j.hits[i] == want;
    return ok;
}

START_TEST(test_pool_runs)
{
    for (int n = 1; n <= 4; n++) {
        learn__pool *p;
        ck_assert_int_eq(learn__pool_new(NULL, n, &p), LEARN_OK);
#if defined(LEARN_NO_THREADS)
        const int nth = 1;
#else
        const int nth = n;
#endif
        ck_assert_int_eq(learn__pool_n_threads(p), nth);
        ck_assert(tk_pool_drive(p, tk_pool_fn, 3000, 1500)); /* the workers fall asleep midway */
        learn__pool_free(p);
    }
    learn__pool_free(NULL);
    learn__pool *p = (learn__pool *)&p;
    ck_assert_int_eq(learn__pool_new(NULL, 0, &p), LEARN_ERR_ARG);
    ck_assert_ptr_null(p);
    ck_assert_int_eq(learn__pool_new(NULL, 100000, &p), LEARN_ERR_ARG);
    tk_pool_job j;
    memset(&j, 0, sizeof j);
    j.run = 5;
    learn__pool_run(NULL, tk_pool_fn, &j);
    ck_assert(j.hits[0] == 5 && j.nth_seen[0] == 1);
}
END_TEST

/* The caller's wait for slow workers: the workers take 80..120 us, around the caller's spin
   (LEARN__POOL_SPIN_NS), so the caller often goes to sleep just as the last worker finishes.
   A lost wake-up in that hand-over hangs here: under qemu-aarch64 on x86, before the caller's
   flag became a read-modify-write, 2 of 4 runs of this test (5,000 hand-overs then) hung on an
   idle machine (a busy one hides the race: 0 of 4). */
static double tk_now_us(void)
{
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

static void tk_pool_slow_fn(void *arg, int ith, int nth)
{
    tk_pool_job *j = (tk_pool_job *)arg;
    if (ith > 0) {
        const double us = 80.0 + (double)((j->run * 37 + ith * 11) % 41), t0 = tk_now_us();
        while (tk_now_us() - t0 < us) {
        }
    }
    j->nth_seen[ith] = nth;
    j->hits[ith] += j->run;
}

/* The runs, on a thread of their own so that a hang fails the test within a minute instead of
   waiting for the test's timeout (which qemu multiplies). */
typedef struct tk_pool_slow {
    int n, ok;
    atomic_int done;
} tk_pool_slow;

static void *tk_pool_slow_main(void *arg)
{
    tk_pool_slow *t = (tk_pool_slow *)arg;
    learn__pool *p;
    if (learn__pool_new(NULL, t->n, &p) == LEARN_OK) {
        t->ok = tk_pool_drive(p, tk_pool_slow_fn, 8000, 0);
        learn__pool_free(p);
    }
    atomic_store(&t->done, 1);
    return NULL;
}

START_TEST(test_pool_slow_workers)
{
    for (int n = 2; n <= 3; n++) {
        tk_pool_slow t;
        memset(&t, 0, sizeof t);
        t.n = n;
        atomic_init(&t.done, 0);
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, tk_pool_slow_main, &t), 0);
        const struct timespec tick = {0, 10 * 1000 * 1000};
        for (int i = 0; i < 6000 && !atomic_load(&t.done); i++) nanosleep(&tick, NULL);
        /* A hung pool cannot be joined; the test process ends with the failure. */
        ck_assert_msg(atomic_load(&t.done), "%d threads: 8,000 runs with slow workers did not end "
                                            "within 60 s (a lost wake-up)", n);
        pthread_join(th, NULL);
        ck_assert_msg(t.ok, "%d threads: a worker missed a run", n);
    }
}
END_TEST

static int tk_fail_after;

static void *tk_failing_alloc(void *user, size_t n)
{
    (void)user;
    return tk_fail_after-- > 0 ? malloc(n) : NULL;
}

static void tk_free(void *user, void *p)
{
    (void)user;
    free(p);
}

static void *tk_realloc(void *user, void *p, size_t n)
{
    (void)user;
    return realloc(p, n);
}

START_TEST(test_pool_nomem)
{
    learn_allocator a = {NULL, tk_failing_alloc, tk_realloc, tk_free};
    for (int fail = 0; fail < 3; fail++) {
        learn__pool *p = NULL;
        tk_fail_after = fail;
        const learn_status st = learn__pool_new(&a, 3, &p);
#if defined(LEARN_NO_THREADS)
        if (fail >= 1) {
            ck_assert_int_eq(st, LEARN_OK);
            learn__pool_free(p);
            continue;
        }
#else
        if (fail >= 2) {
            ck_assert_int_eq(st, LEARN_OK);
            learn__pool_free(p);
            continue;
        }
#endif
        ck_assert_int_eq(st, LEARN_ERR_NOMEM);
        ck_assert_ptr_null(p);
    }
}
END_TEST

START_TEST(test_split_rows)
{
    for (int R = 0; R <= 70; R++)
        for (int nth = 1; nth <= 5; nth++) {
            int next = 0;
            for (int ith = 0; ith < nth; ith++) {
                int r0, r1;
                learn__split_rows(R, ith, nth, &r0, &r1);
                ck_assert_int_eq(r0, next);
                ck_assert(r1 >= r0 && r1 <= R);
                ck_assert(r1 - r0 == R / nth || r1 - r0 == R / nth + 1); /* as even as can be */
                next = r1;
            }
            ck_assert_int_eq(next, R);
        }
}
END_TEST

/* One product through learn__matmul_n: Y (T x R) = X (T x K, row stride ldx floats) W^T. */
static learn_status tk_matmul(const learn__kernels *k, learn__pool *pool, learn_type type,
                              const void *w, size_t ldw, int R, int K, const float *x, size_t ldx,
                              int T, float *y, size_t ldy, void *scratch, size_t scratch_size)
{
    const learn__mm_out out = {type, w, ldw, R, NULL, y, ldy};
    return learn__matmul_n(k, pool, K, x, ldx, T, &out, 1, scratch, scratch_size);
}

/* The parallel product: same bits for 1, 2, 3, 4 threads and for any batch. */
START_TEST(test_matmul_threads)
{
    const learn__kernels *k = learn__kernels_for(learn__isa_best());
    for (int ty = 0; ty < 5; ty++) {
        const learn_type type = (learn_type)ty;
        const int R = 67, K = 320, T = 7;
        tk_case c;
        tk_case_init(&c, type, R, K, T, TK_RANDOM, TK_X_RANDOM);
        float *y1 = (float *)malloc(sizeof(float) * (size_t)(R * T)),
              *yn = (float *)malloc(sizeof(float) * (size_t)(R * T));
        for (int n = 1; n <= 4; n++) {
            learn__pool *p;
            ck_assert_int_eq(learn__pool_new(NULL, n, &p), LEARN_OK);
            const size_t sb = learn__matmul_scratch_bytes(k, type, K, T, learn__pool_n_threads(p));
            void *scratch = malloc(sb + 3);
            float *y = n == 1 ? y1 : yn;
            ck_assert_int_eq(tk_matmul(k, p, type, c.w, c.ldw, R, K, c.x, c.ldx, T, y, (size_t)R,
                                           (uint8_t *)scratch + 3, sb),
                             LEARN_OK);
            for (int i = 0; i < R * T; i++) ck_assert(tk_bits_equal(y[i], y1[i]));
            /* token by token */
            for (int t = 0; t < T; t++) {
                float row[67];
                ck_assert_int_eq(tk_matmul(k, p, type, c.w, c.ldw, R, K,
                                               c.x + (size_t)t * c.ldx, c.ldx, 1, row, (size_t)R,
                                               (uint8_t *)scratch + 3, sb),
                                 LEARN_OK);
                for (int r = 0; r < R; r++) ck_assert(tk_bits_equal(row[r], y1[t * R + r]));
            }
            ck_assert_int_eq(
                tk_matmul(k, p, type, c.w, c.ldw, R, K, c.x, c.ldx, T, y, (size_t)R, scratch, sb - 65),
                LEARN_ERR_BUFFER);
            free(scratch);
            learn__pool_free(p);
        }
        free(y1);
        free(yn);
        tk_case_free(&c);
    }
    /* bad arguments */
    float x[64] = {0}, y[4];
    uint8_t w[256] = {0}, s[1 << 16];
    ck_assert_int_eq(
        tk_matmul(k, NULL, LEARN_TYPE_Q8_0, w, 34, 1, 48, x, 48, 1, y, 1, s, sizeof s),
        LEARN_ERR_ARG);
    ck_assert_int_eq(
        tk_matmul(k, NULL, LEARN_TYPE_I8, w, 34, 1, 32, x, 32, 1, y, 1, s, sizeof s),
        LEARN_ERR_ARG);
    ck_assert_int_eq(
        tk_matmul(k, NULL, LEARN_TYPE_Q8_0, w, 33, 1, 32, x, 32, 1, y, 1, s, sizeof s),
        LEARN_ERR_ARG);
    ck_assert_int_eq(
        tk_matmul(k, NULL, LEARN_TYPE_F32, w, 128, 1, 32, x, 16, 1, y, 1, s, sizeof s),
        LEARN_ERR_ARG);
    ck_assert_int_eq(
        tk_matmul(k, NULL, LEARN_TYPE_F32, w, 128, 1, 32, x, 32, 0, y, 1, s, sizeof s),
        LEARN_OK);
    ck_assert_int_eq(
        tk_matmul(k, NULL, LEARN_TYPE_F32, NULL, 128, 1, 32, x, 32, 1, y, 1, s, sizeof s),
        LEARN_ERR_ARG);
}
END_TEST

/* Products sharing X (mixed types, biases): the same bits as one call per product, for 1..3
   threads. */
START_TEST(test_matmul_fused)
{
    const learn__kernels *k = learn__kernels_for(learn__isa_best());
    static const learn_type types[3] = {LEARN_TYPE_Q8_0, LEARN_TYPE_Q4_0, LEARN_TYPE_F16};
    static const int Rs[3] = {37, 8, 70};
    const int K = 224, T = 6;
    tk_case c[3];
    float *bias[3], *ref[3], *y[3];
    learn__mm_out outs[3];
    for (int o = 0; o < 3; o++) {
        tk_case_init(&c[o], types[o], Rs[o], K, T, TK_RANDOM, TK_X_RANDOM);
        bias[o] = (float *)malloc(sizeof(float) * (size_t)Rs[o]);
        ref[o] = (float *)malloc(sizeof(float) * (size_t)(Rs[o] * T));
        y[o] = (float *)malloc(sizeof(float) * (size_t)(Rs[o] * T));
        for (int r = 0; r < Rs[o]; r++) bias[o][r] = (float)(tk_rand() % 2001) / 1000.0f - 1.0f;
    }
    const float *x = c[0].x; /* one X for all (the cases' own X are ignored) */
    const size_t ldx = c[0].ldx;
    for (int n = 1; n <= 3; n++) {
        learn__pool *p;
        ck_assert_int_eq(learn__pool_new(NULL, n, &p), LEARN_OK);
        const size_t sb = learn__matmul_scratch_bytes(k, LEARN_TYPE_Q8_0, K, T, learn__pool_n_threads(p));
        void *scratch = malloc(sb);
        for (int o = 0; o < 3; o++) {
            outs[o] = (learn__mm_out){types[o], c[o].w, c[o].ldw, Rs[o], bias[o], y[o], (size_t)Rs[o]};
            if (n > 1) continue;
            ck_assert_int_eq(tk_matmul(k, p, types[o], c[o].w, c[o].ldw, Rs[o], K, x, ldx, T, ref[o],
                                       (size_t)Rs[o], scratch, sb),
                             LEARN_OK);
            for (int t = 0; t < T; t++)
                for (int r = 0; r < Rs[o]; r++) ref[o][t * Rs[o] + r] += bias[o][r];
        }
        ck_assert_int_eq(learn__matmul_n(k, p, K, x, ldx, T, outs, 3, scratch, sb), LEARN_OK);
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < Rs[o] * T; i++)
                ck_assert_msg(tk_bits_equal(y[o][i], ref[o][i]), "%d threads, output %d, %d: %g vs %g",
                              n, o, i, (double)y[o][i], (double)ref[o][i]);
        free(scratch);
        learn__pool_free(p);
    }
    for (int o = 0; o < 3; o++) {
        tk_case_free(&c[o]);
        free(bias[o]);
        free(ref[o]);
        free(y[o]);
    }
}
END_TEST

Suite *make_kernels_suite(void)
{
    for (int i = 1; i < LEARN__ISA_COUNT; i++)
        if (learn__isa_compiled((learn__isa)i) && !learn__isa_supported((learn__isa)i))
            fprintf(stderr, "kernels: %s tests skipped: %s%s\n", learn__isa_name((learn__isa)i),
                    i == LEARN__ISA_AVX512         ? "CPU lacks AVX-512 (F/BW/VL + VNNI)"
                    : i == LEARN__ISA_AVXVNNI      ? "CPU lacks AVX-VNNI"
                    : i == LEARN__ISA_NEON_DOTPROD ? "CPU lacks the dotprod extension"
                                                   : learn__isa_why((learn__isa)i),
                    i == LEARN__ISA_AMX ? " (./build.sh amx runs them emulated)" : "");
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("isa");
    tcase_add_test(tc, test_isa_select);
    tcase_add_test(tc, test_isa_env);
#if defined(LEARN__X86)
    tcase_add_test(tc, test_amx_detect);
#endif
    suite_add_tcase(s, tc);

    tc = tcase_create("int8 exact");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_quantize_same_bytes);
    tcase_add_test(tc, test_block_dot_exact);
    tcase_add_test(tc, test_gemm_exact_integers);
    suite_add_tcase(s, tc);

    tc = tcase_create("products");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_gemm_q8_0);
    tcase_add_test(tc, test_gemm_q4_0);
    tcase_add_test(tc, test_gemm_f32);
    tcase_add_test(tc, test_gemm_f16);
    tcase_add_test(tc, test_gemm_bf16);
    tcase_add_test(tc, test_gemm_long_batch);
    tcase_add_test(tc, test_gemm_scales);
    tcase_add_test(tc, test_gemm_nan);
    suite_add_tcase(s, tc);

    tc = tcase_create("row helpers");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_vec_dot_axpy_norms);
    tcase_add_test(tc, test_vec_softmax);
    tcase_add_test(tc, test_vec_activations);
    tcase_add_test(tc, test_vec_f16_rows);
    suite_add_tcase(s, tc);

    tc = tcase_create("thread pool");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_pool_runs);
    tcase_add_test(tc, test_pool_slow_workers);
    tcase_add_test(tc, test_pool_nomem);
    tcase_add_test(tc, test_split_rows);
    tcase_add_test(tc, test_matmul_threads);
    tcase_add_test(tc, test_matmul_fused);
    suite_add_tcase(s, tc);
    return s;
}
