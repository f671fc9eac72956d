/* learn-cli bench: speed of the content encoder, the towers and top-K on this machine.

   Three modes:
     bench MODEL                 encodes a set of item texts (30-80 tokens each) and prints
                                 tokens/s, items/s, the int8 multiply-accumulates per second of
                                 the LLM's matrix products against the CPU's int8 peak measured
                                 in the same run, wall time and peak resident memory
     bench --towers [--type T]   user and item towers of the shape (random weights)
     bench --topk                top-10 over a random catalog of 100,000 items, d = 64, against
                                 a plain float loop
   The machine may be shared: every figure is the median of several repetitions, with the
   spread (min .. max) beside it, and ratios are taken within one run. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define BENCH_X86 1
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#include <arm_neon.h>
#define BENCH_ARM64 1
#endif

#include "cli.h"
#include "items.h"
#include "util.h"

static const char bench_usage[] =
    "usage: learn-cli bench MODEL [--items FILE] [--count N] [--threads N] [--isa L] [--batch N]\n"
    "                       [--reps N] [--scaling] [--dump-items FILE]\n"
    "       learn-cli bench --towers [--type f32|q8_0|q4_0] [--threads N] [--isa L] [--reps N]\n"
    "       learn-cli bench --topk [--n-items N] [--dim D] [--k K] [--threads N] [--reps N]\n"
    "\n"
    "MODEL: encodes item texts with the model's LLM and prints tokens/s, items/s, the int8\n"
    "multiply-accumulates per second (MAC/s) of the LLM's matrix products, the CPU's int8 peak\n"
    "measured by a micro-benchmark in the same run (the best int8 sequence the CPU has:\n"
    "AVX-512 VNNI vpdpbusd on zmm, AVX-VNNI vpdpbusd on ymm, AVX2 maddubs + madd + add, NEON\n"
    "sdot, or NEON smull + smlal2 + sadalp), their ratio, wall time and peak resident memory,\n"
    "whatever level --isa forces the kernels to. The items are 256\n"
    "generated product texts of 30-80 tokens (deterministic for a given tokenizer), or the\n"
    "lines of --items FILE (one text per line, or item records when FILE ends in .jsonl,\n"
    "rendered with the model's template). Each figure is the median of --reps runs (default\n"
    "5) with the spread (min..max). --scaling also runs 1 thread and prints the speed-up.\n"
    "--count N uses the first N texts (or generates N; default 256). --dump-items FILE writes\n"
    "the texts used, one per line (for other programs).\n"
    "  --batch N     tokens per forward pass (default: the context's, 512)\n"
    "  --isa L       kernels: scalar, avx2, avxvnni, avx512, amx, neon, neon_dotprod (default:\n"
    "                the best, never amx: it runs only when named). At the amx level the AMX\n"
    "                peak of a tdpbssd loop is measured too, and the products' share of it\n"
    "                printed; elsewhere a line says why amx is not offered.\n"
    "--towers: a user embedding from 40 history items, one incremental append after 39, and\n"
    "  item embeddings, with towers of d_in 896, d_model 768, 4 layers, d_ff 3072, d_out 256\n"
    "  (random weights of --type, default both f32 and q8_0).\n"
    "--topk: top-K (default 10) of a random unit query over a random catalog (default 100,000\n"
    "  items of dimension 64), learn_catalog_topk against a plain float loop with a heap, and 64\n"
    "  queries in one learn_catalog_topk_batch call against a call each.\n";

/* ---- Timing, statistics, memory ---------------------------------------------------------- */

static int bench_dcmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median, min and max of n values (sorts v). */
typedef struct bench_stat {
    double med, lo, hi;
} bench_stat;

static bench_stat bench_stats(double *v, int n) {
    bench_stat s = {0, 0, 0};
    if (n <= 0) return s;
    qsort(v, (size_t)n, sizeof *v, bench_dcmp);
    s.lo = v[0];
    s.hi = v[n - 1];
    s.med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    return s;
}

static double bench_rss_mb(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0.0;
    return (double)ru.ru_maxrss / 1024.0; /* Linux: kilobytes */
}

/* ---- Int8 peak ---------------------------------------------------------------------------
   The best int8 multiply-accumulate sequence this CPU has, in a loop of independent chains on
   registers only: AVX-512 VNNI vpdpbusd on 512-bit vectors (64 MACs an instruction), AVX-VNNI
   vpdpbusd on 256-bit ones (32), AVX2 vpmaddubsw + vpmaddwd + vpaddd (32 MACs a step), NEON with
   the dot product sdot (16), plain NEON smull + smlal2 + sadalp (16). Run on n threads at once,
   it is the most int8 work the cores can do: the ceiling the quantized products are measured
   against, whatever level the kernels run at. */

#define BENCH_PEAK_ITERS 20000000L

enum { BENCH_PEAK_NONE, BENCH_PEAK_AVX2, BENCH_PEAK_AVXVNNI, BENCH_PEAK_AVX512, BENCH_PEAK_NEON,
       BENCH_PEAK_DOTPROD, BENCH_PEAK_AMX };

static const char *const bench_peak_names[] = {
    "none", "avx2 vpmaddubsw+vpmaddwd+vpaddd", "avx-vnni vpdpbusd ymm", "avx512-vnni vpdpbusd zmm",
    "neon smull+smlal2+sadalp", "neon sdot", "amx tdpbssd"};

/* The loop for this CPU, as the runtime sees it (learn_isa_check); a build that emulates
   VPDPBUSD (LEARN_EMULATE_VNNI, tests only) claims levels the CPU lacks, so it keeps to AVX2. */
static int bench_peak_kind(void) {
    char why[160];
#if defined(BENCH_X86)
#if !defined(LEARN_EMULATE_VNNI)
    if (learn_isa_check("avx512", why, sizeof why) == LEARN_OK) return BENCH_PEAK_AVX512;
    if (learn_isa_check("avxvnni", why, sizeof why) == LEARN_OK) return BENCH_PEAK_AVXVNNI;
#endif
    if (learn_isa_check("avx2", why, sizeof why) == LEARN_OK) return BENCH_PEAK_AVX2;
#elif defined(BENCH_ARM64)
    if (learn_isa_check("neon_dotprod", why, sizeof why) == LEARN_OK) return BENCH_PEAK_DOTPROD;
    return BENCH_PEAK_NEON;
#endif
    (void)why;
    return BENCH_PEAK_NONE;
}

#if defined(BENCH_X86)
#define BENCH_X86_CLOBBERS                                                                         \
    "rcx", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",  \
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc"

__attribute__((target("avx2"))) static double bench_peak_avx2(void) {
    __asm__ __volatile__(
        "vpcmpeqw %%ymm13, %%ymm13, %%ymm13\n vpsrlw $15, %%ymm13, %%ymm13\n"
        "vpcmpeqb %%ymm14, %%ymm14, %%ymm14\n vpabsb %%ymm14, %%ymm15\n"
        "vpxor %%ymm0, %%ymm0, %%ymm0\n vmovdqa %%ymm0, %%ymm1\n vmovdqa %%ymm0, %%ymm2\n"
        "vmovdqa %%ymm0, %%ymm3\n vmovdqa %%ymm0, %%ymm4\n vmovdqa %%ymm0, %%ymm5\n"
        "vmovdqa %%ymm0, %%ymm6\n vmovdqa %%ymm0, %%ymm7\n"
        "mov %0, %%rcx\n"
        "1:\n"
#define BENCH_D(acc, t)                                                                            \
    "vpmaddubsw %%ymm14, %%ymm15, %%ymm" #t "\n vpmaddwd %%ymm13, %%ymm" #t ", %%ymm" #t "\n"      \
    "vpaddd %%ymm" #t ", %%ymm" #acc ", %%ymm" #acc "\n"
        BENCH_D(0, 8) BENCH_D(1, 9) BENCH_D(2, 10) BENCH_D(3, 11) BENCH_D(4, 12) BENCH_D(5, 8)
            BENCH_D(6, 9) BENCH_D(7, 10) "dec %%rcx\n jnz 1b\n vzeroupper\n"
        :
        : "r"(BENCH_PEAK_ITERS)
        : BENCH_X86_CLOBBERS);
#undef BENCH_D
    return 8.0 * 32 * BENCH_PEAK_ITERS;
}

/* 12 accumulators: VPDPBUSD has a latency of 4-5 cycles and up to two issue a cycle. */
#define BENCH_VNNI_ACCS                                                                            \
    "vpxor %%xmm0, %%xmm0, %%xmm0\n vpxor %%xmm1, %%xmm1, %%xmm1\n vpxor %%xmm2, %%xmm2, %%xmm2\n"   \
    "vpxor %%xmm3, %%xmm3, %%xmm3\n vpxor %%xmm4, %%xmm4, %%xmm4\n vpxor %%xmm5, %%xmm5, %%xmm5\n"   \
    "vpxor %%xmm6, %%xmm6, %%xmm6\n vpxor %%xmm7, %%xmm7, %%xmm7\n vpxor %%xmm8, %%xmm8, %%xmm8\n"   \
    "vpxor %%xmm9, %%xmm9, %%xmm9\n vpxor %%xmm10, %%xmm10, %%xmm10\n"                              \
    "vpxor %%xmm11, %%xmm11, %%xmm11\n"
#define BENCH_V(PFX, R, a) PFX "vpdpbusd %%" R "15, %%" R "14, %%" R #a "\n"
#define BENCH_V12(PFX, R)                                                                          \
    BENCH_V(PFX, R, 0) BENCH_V(PFX, R, 1) BENCH_V(PFX, R, 2) BENCH_V(PFX, R, 3) BENCH_V(PFX, R, 4)  \
    BENCH_V(PFX, R, 5) BENCH_V(PFX, R, 6) BENCH_V(PFX, R, 7) BENCH_V(PFX, R, 8) BENCH_V(PFX, R, 9)  \
    BENCH_V(PFX, R, 10) BENCH_V(PFX, R, 11)

__attribute__((target("avx2,avxvnni"))) static double bench_peak_avxvnni(void) {
    __asm__ __volatile__(BENCH_VNNI_ACCS "vpcmpeqb %%ymm14, %%ymm14, %%ymm14\n"
                                                "vpabsb %%ymm14, %%ymm15\n mov %0, %%rcx\n"
                                                "1:\n" BENCH_V12("%{vex%} ", "ymm") "dec %%rcx\n jnz 1b\n vzeroupper\n"
                         :
                         : "r"(BENCH_PEAK_ITERS)
                         : BENCH_X86_CLOBBERS);
    return 12.0 * 32 * BENCH_PEAK_ITERS;
}

/* The 512-bit registers widen ymm0-15, which the clobbers name. */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static double bench_peak_avx512(void) {
    __asm__ __volatile__(BENCH_VNNI_ACCS "vpternlogd $0xff, %%zmm14, %%zmm14, %%zmm14\n"
                                                "vpabsb %%zmm14, %%zmm15\n mov %0, %%rcx\n"
                                                "1:\n" BENCH_V12("", "zmm") "dec %%rcx\n jnz 1b\n vzeroupper\n"
                         :
                         : "r"(BENCH_PEAK_ITERS)
                         : BENCH_X86_CLOBBERS);
    return 12.0 * 64 * BENCH_PEAK_ITERS;
}
#undef BENCH_V
#undef BENCH_V12
#undef BENCH_VNNI_ACCS

/* AMX: four independent TDPBSSD of 16 x 16 x 64 (16,384 MACs each) on tiles that are never
   stored: tmm0-3 accumulate, tmm4-5 are A, tmm6-7 B. Runs only where the runtime offers the
   amx level (it has asked Linux for the tile state). */
static double bench_peak_amx(void) {
    static const unsigned char cfg[64] = {
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        64, 0, 64, 0, 64, 0, 64, 0, 64, 0, 64, 0, 64, 0, 64, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        16, 16, 16, 16, 16, 16, 16, 16, 0, 0, 0, 0, 0, 0, 0, 0};
    const long iters = BENCH_PEAK_ITERS / 8;
    __asm__ __volatile__("ldtilecfg %1\n"
                         "tilezero %%tmm0\n tilezero %%tmm1\n tilezero %%tmm2\n tilezero %%tmm3\n"
                         "tilezero %%tmm4\n tilezero %%tmm5\n tilezero %%tmm6\n tilezero %%tmm7\n"
                         "mov %0, %%rcx\n"
                         "1:\n"
                         "tdpbssd %%tmm6, %%tmm4, %%tmm0\n tdpbssd %%tmm7, %%tmm4, %%tmm1\n"
                         "tdpbssd %%tmm6, %%tmm5, %%tmm2\n tdpbssd %%tmm7, %%tmm5, %%tmm3\n"
                         "dec %%rcx\n jnz 1b\n tilerelease\n"
                         :
                         : "r"(iters), "m"(cfg)
                         : "rcx", "cc");
    return 4.0 * 16 * 16 * 64 * (double)iters;
}
#endif

#if defined(BENCH_ARM64)
static double bench_peak_neon(void) {
    int32x4_t a0 = vdupq_n_s32(0), a1 = a0, a2 = a0, a3 = a0;
    int8x16_t x = vdupq_n_s8(1), y = vdupq_n_s8(2);
    for (long i = 0; i < BENCH_PEAK_ITERS / 4; i++) {
        __asm__ __volatile__("" : "+w"(x), "+w"(y));
        a0 = vpadalq_s16(a0, vmlal_high_s8(vmull_s8(vget_low_s8(x), vget_low_s8(y)), x, y));
        a1 = vpadalq_s16(a1, vmlal_high_s8(vmull_s8(vget_low_s8(x), vget_low_s8(y)), x, y));
        a2 = vpadalq_s16(a2, vmlal_high_s8(vmull_s8(vget_low_s8(x), vget_low_s8(y)), x, y));
        a3 = vpadalq_s16(a3, vmlal_high_s8(vmull_s8(vget_low_s8(x), vget_low_s8(y)), x, y));
    }
    __asm__ __volatile__("" ::"w"(a0), "w"(a1), "w"(a2), "w"(a3));
    return 4.0 * 16 * (BENCH_PEAK_ITERS / 4);
}

/* 8 accumulators of sdot (16 MACs each). */
#if defined(__clang__)
__attribute__((target("dotprod")))
#else
__attribute__((target("arch=armv8.2-a+dotprod")))
#endif
static double bench_peak_dotprod(void) {
    __asm__ __volatile__(
        "movi v0.4s, #0\n movi v1.4s, #0\n movi v2.4s, #0\n movi v3.4s, #0\n"
        "movi v4.4s, #0\n movi v5.4s, #0\n movi v6.4s, #0\n movi v7.4s, #0\n"
        "movi v16.16b, #1\n movi v17.16b, #2\n mov x9, %0\n"
        "1:\n"
        "sdot v0.4s, v16.16b, v17.16b\n sdot v1.4s, v16.16b, v17.16b\n"
        "sdot v2.4s, v16.16b, v17.16b\n sdot v3.4s, v16.16b, v17.16b\n"
        "sdot v4.4s, v16.16b, v17.16b\n sdot v5.4s, v16.16b, v17.16b\n"
        "sdot v6.4s, v16.16b, v17.16b\n sdot v7.4s, v16.16b, v17.16b\n"
        "subs x9, x9, #1\n b.ne 1b\n"
        :
        : "r"(BENCH_PEAK_ITERS / 4)
        : "x9", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v16", "v17", "cc");
    return 8.0 * 16 * (BENCH_PEAK_ITERS / 4);
}
#endif

static double bench_peak_loop(int kind) {
    switch (kind) {
#if defined(BENCH_X86)
    case BENCH_PEAK_AVX2: return bench_peak_avx2();
    case BENCH_PEAK_AVXVNNI: return bench_peak_avxvnni();
    case BENCH_PEAK_AVX512: return bench_peak_avx512();
    case BENCH_PEAK_AMX: return bench_peak_amx();
#elif defined(BENCH_ARM64)
    case BENCH_PEAK_NEON: return bench_peak_neon();
    case BENCH_PEAK_DOTPROD: return bench_peak_dotprod();
#endif
    default: return 0.0;
    }
}

typedef struct bench_peak_arg {
    pthread_barrier_t *bar;
    int kind;
    double macs;
} bench_peak_arg;

static void *bench_peak_thread(void *p) {
    bench_peak_arg *a = (bench_peak_arg *)p;
    pthread_barrier_wait(a->bar);
    a->macs = bench_peak_loop(a->kind);
    return NULL;
}

/* GMAC/s of a peak loop run on n threads at once (best of 3; 0 when unavailable). */
static double bench_peak(int n, int kind) {
    if (kind == BENCH_PEAK_NONE || n < 1 || n > 256) return 0.0;
    double best = 0.0;
    for (int rep = 0; rep < 3; rep++) {
        pthread_t th[256];
        bench_peak_arg args[256];
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, (unsigned)n);
        for (int i = 1; i < n; i++) {
            args[i].bar = &bar;
            args[i].kind = kind;
            pthread_create(&th[i], NULL, bench_peak_thread, &args[i]);
        }
        args[0].bar = &bar;
        pthread_barrier_wait(&bar);
        double t0 = util_now_s();
        args[0].macs = bench_peak_loop(kind);
        double macs = args[0].macs;
        for (int i = 1; i < n; i++) {
            pthread_join(th[i], NULL);
            macs += args[i].macs;
        }
        double t = util_now_s() - t0;
        pthread_barrier_destroy(&bar);
        double g = macs / t * 1e-9;
        if (g > best) best = g;
    }
    return best;
}

/* ---- Items --------------------------------------------------------------------------------- */

#define BENCH_PICK(r, arr) arr[util_rng_next(r) % (sizeof arr / sizeof arr[0])]

static const char *const bench_adj[] = {
    "Wireless", "Portable", "Organic", "Stainless", "Lightweight", "Premium", "Vintage", "Compact",
    "Ergonomic", "Waterproof", "Handmade", "Rechargeable", "Classic", "Adjustable", "Smart",
    "Professional", "Foldable", "Insulated", "Ultra-thin", "Heavy-duty"};
static const char *const bench_noun[] = {
    "Headphones", "Running Shoes", "Green Tea", "Espresso Machine", "Backpack", "Desk Lamp",
    "Water Bottle", "Yoga Mat", "Keyboard", "Blender", "Novel", "Board Game", "Sunglasses",
    "Watch", "Jacket", "Cookware Set", "Phone Case", "Camping Tent", "Coffee Grinder", "Speaker"};
static const char *const bench_color[] = {"Charcoal Gray", "Navy Blue", "Forest Green", "Red",
                                          "Matte Black", "White", "Rose Gold", "Sand"};
static const char *const bench_brand[] = {"Acme", "Northwind", "Globex", "Initech", "Umbrella",
                                          "Stark", "Wayne", "Hooli", "Vandelay", "Soylent"};
static const char *const bench_cat[] = {"Electronics", "Sports & Outdoors", "Grocery",
                                        "Home & Kitchen", "Books", "Toys & Games", "Clothing",
                                        "Office Products", "Beauty", "Garden"};
static const char *const bench_phrase[] = {
    "with breathable mesh and a cushioned sole",
    "caffeine free, delicious hot or iced",
    "15 bar pressure and a 1.5 litre tank",
    "about a crew of explorers who travel beyond the edge of the galaxy",
    "noise cancelling with up to 30 hours of battery life",
    "easy to clean and safe for the dishwasher",
    "made from recycled materials",
    "a perfect gift for birthdays and holidays",
    "fits most laptops up to 15 inches",
    "comes with a two year warranty",
    "for men and women of all ages",
    "the quick brown fox jumps over the lazy dog",
    "designed in Sweden and assembled by hand",
    "with a soft touch finish and a sturdy frame"};

/* Appends to a growing text (fixed buffer); returns 0 when it does not fit. */
static int bench_cat_str(char *buf, size_t cap, const char *s) {
    size_t n = strlen(buf), m = strlen(s);
    if (n + m + 1 > cap) return 0;
    memcpy(buf + n, s, m + 1);
    return 1;
}

typedef struct bench_items {
    size_t n;
    char **texts;
    int32_t **ids;
    size_t *n_ids;
    size_t n_tokens, min_len, max_len;
} bench_items;

static void bench_items_free(bench_items *b) {
    for (size_t i = 0; i < b->n; i++) {
        if (b->texts) free(b->texts[i]);
        if (b->ids) free(b->ids[i]);
    }
    free(b->texts);
    free(b->ids);
    free(b->n_ids);
    memset(b, 0, sizeof *b);
}

/* Tokenizes text (BOS/EOS as the model adds them) into a malloc'd array. */
static learn_status bench_tokenize(learn_ctx *ctx, const char *text, int32_t **ids, size_t *n) {
    size_t need = 0;
    learn_status st = learn_tokenize(ctx, text, strlen(text), LEARN_TOKENIZE_ADD_SPECIAL, NULL, 0, &need);
    if (st != LEARN_OK && st != LEARN_ERR_BUFFER) return st;
    *ids = (int32_t *)malloc((need ? need : 1) * sizeof **ids);
    if (!*ids) return LEARN_ERR_NOMEM;
    st = learn_tokenize(ctx, text, strlen(text), LEARN_TOKENIZE_ADD_SPECIAL, *ids, need, n);
    return st;
}

/* Item i of the default set: "Title: ...", then more fields and phrases ("Brand: ...",
   "Color: ...", "Category: ...", features) until its token count reaches a target drawn
   uniformly from 30..80; a part that would take it over 80 tokens is left out. */
static int bench_gen_item(learn_ctx *ctx, size_t i, char **text, int32_t **ids, size_t *n) {
    util_rng r = {0x5eed0000u + i};
    char buf[2048], part[256];
    snprintf(buf, sizeof buf, "Title: %s %s.", BENCH_PICK(&r, bench_adj), BENCH_PICK(&r, bench_noun));
    size_t target = 30 + (size_t)(util_rng_next(&r) % 51);
    *ids = NULL;
    if (bench_tokenize(ctx, buf, ids, n) != LEARN_OK) return 1;
    for (int k = 0; *n < target && k < 64; k++) {
        switch (k) {
        case 0: snprintf(part, sizeof part, " Brand: %s.", BENCH_PICK(&r, bench_brand)); break;
        case 1: snprintf(part, sizeof part, " Color: %s.", BENCH_PICK(&r, bench_color)); break;
        case 2: snprintf(part, sizeof part, " Category: %s.", BENCH_PICK(&r, bench_cat)); break;
        default:
            snprintf(part, sizeof part, "%s%s", k == 3 ? " Features: " : ", ", BENCH_PICK(&r, bench_phrase));
            break;
        }
        size_t len = strlen(buf);
        if (!bench_cat_str(buf, sizeof buf, part)) break;
        int32_t *more = NULL;
        size_t m = 0;
        if (bench_tokenize(ctx, buf, &more, &m) != LEARN_OK) {
            free(more);
            return 1;
        }
        if (m > 80) { /* too long: keep the text without this part */
            buf[len] = 0;
            free(more);
            continue;
        }
        free(*ids);
        *ids = more;
        *n = m;
    }
    *text = strdup(buf);
    return *text == NULL;
}

/* Reads a file of texts: one per line, or item records for a .jsonl file. */
static int bench_read_items(const learn_model *m, const char *path, char ***texts, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return cli_error("bench", "%s: cannot open", path);
    *texts = NULL;
    *n = 0;
    size_t len = strlen(path);
    if (len > 6 && strcmp(path + len - 6, ".jsonl") == 0) {
        const char *tmpl = "{text}";
        learn_model_meta_str(m, "encoder.template", &tmpl, NULL);
        item_list l;
        memset(&l, 0, sizeof l);
        char err[512];
        int bad = items_load(f, path, tmpl, 1u << 20, &l, err, sizeof err);
        fclose(f);
        if (bad) return cli_error("bench", "%s", err);
        if (items_note(&l, path, err, sizeof err)) fprintf(stderr, "learn-cli bench: %s\n", err);
        *texts = (char **)calloc(l.n ? l.n : 1, sizeof **texts);
        for (size_t i = 0; *texts && i < l.n; i++) {
            (*texts)[i] = l.items[i].text;
            l.items[i].text = NULL;
        }
        *n = *texts ? l.n : 0;
        items_free(&l);
        return *texts ? 0 : cli_error("bench", "out of memory");
    }
    char *line = NULL;
    size_t cap = 0, ncap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) >= 0) {
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = 0;
        if (!got) continue;
        if (*n == ncap) {
            ncap = ncap ? 2 * ncap : 256;
            char **t = (char **)realloc(*texts, ncap * sizeof *t);
            if (!t) break;
            *texts = t;
        }
        (*texts)[(*n)++] = strdup(line);
    }
    free(line);
    fclose(f);
    return *n ? 0 : cli_error("bench", "%s: no texts", path);
}

/* The first `count` texts of a file, or `count` generated items. */
static int bench_load_items(learn_ctx *ctx, const char *path, size_t count, bench_items *b) {
    memset(b, 0, sizeof *b);
    char **texts = NULL;
    size_t n = count, n_file = 0;
    if (path) {
        if (bench_read_items(learn_ctx_model(ctx), path, &texts, &n_file)) return 1;
        for (size_t i = count; i < n_file; i++) free(texts[i]);
        if (n_file < n) n = n_file;
    }
    b->texts = (char **)calloc(n, sizeof *b->texts);
    b->ids = (int32_t **)calloc(n, sizeof *b->ids);
    b->n_ids = (size_t *)calloc(n, sizeof *b->n_ids);
    if (!b->texts || !b->ids || !b->n_ids) return cli_error("bench", "out of memory");
    b->n = n;
    b->min_len = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        if (texts) {
            b->texts[i] = texts[i];
            if (bench_tokenize(ctx, texts[i], &b->ids[i], &b->n_ids[i]) != LEARN_OK || !b->n_ids[i])
                return cli_error("bench", "item %zu: %s", i + 1,
                                 b->n_ids[i] ? learn_ctx_errmsg(ctx) : "no tokens");
        } else if (bench_gen_item(ctx, i, &b->texts[i], &b->ids[i], &b->n_ids[i])) {
            return cli_error("bench", "generating item %zu: %s", i, learn_ctx_errmsg(ctx));
        }
        b->n_tokens += b->n_ids[i];
        if (b->n_ids[i] < b->min_len) b->min_len = b->n_ids[i];
        if (b->n_ids[i] > b->max_len) b->max_len = b->n_ids[i];
    }
    free(texts);
    return 0;
}

/* ---- Encoder ------------------------------------------------------------------------------ */

/* Multiply-accumulates per token of the LLM's matrix products (Q, K, V, O, gate, up, down). */
static double bench_macs_per_token(const learn_model_info *mi) {
    double e = mi->n_embd, q = (double)mi->n_head * mi->head_dim,
           kv = (double)mi->n_head_kv * mi->head_dim, f = mi->n_ff;
    return mi->n_layer * (e * (q + 2 * kv) + q * e + 3 * e * f);
}

typedef struct bench_run {
    double wall, tok_s, items_s, gmac_s, mm_gmac_s, mm_share;
} bench_run;

/* Encodes every item once; fills r. */
static int bench_encode_once(learn_ctx *ctx, const bench_items *b, const learn_model_info *mi,
                             float *out, bench_run *r) {
    learn_encode_stats s0, s1;
    learn_ctx_encode_stats(ctx, &s0);
    double t0 = util_now_s();
    learn_status st = learn_encode_ids(ctx, b->n, (const int32_t *const *)b->ids, b->n_ids, out);
    double t = util_now_s() - t0;
    if (st != LEARN_OK) return cli_error("bench", "encode: %s", learn_ctx_errmsg(ctx));
    learn_ctx_encode_stats(ctx, &s1);
    double tokens = (double)(s1.n_tokens - s0.n_tokens);
    double macs = (double)(s1.n_macs - s0.n_macs);
    double mm = (double)(s1.ns_matmul - s0.ns_matmul) * 1e-9;
    r->wall = t;
    r->tok_s = tokens / t;
    r->items_s = (double)b->n / t;
    r->gmac_s = tokens * bench_macs_per_token(mi) / t * 1e-9;
    r->mm_gmac_s = mm > 0 ? macs / mm * 1e-9 : 0.0;
    r->mm_share = mm / t;
    return 0;
}

typedef struct bench_summary {
    bench_stat wall, tok_s, items_s, gmac_s, mm_gmac_s, mm_share;
    double peak, amx_peak; /* amx_peak: when the kernels are the amx level's (else 0) */
} bench_summary;

/* Whether the AMX tile loop can run here: the runtime offers the amx level, for real (a build
   that emulates AMX, LEARN_EMULATE_AMX, tests only, has no tiles to time). */
static int bench_amx_real(void) {
#if defined(BENCH_X86) && !defined(LEARN_EMULATE_AMX)
    char why[256];
    return learn_isa_check("amx", why, sizeof why) == LEARN_OK;
#else
    return 0;
#endif
}

static int bench_encode_threads(const learn_model *m, const learn_model_info *mi, const bench_items *b,
                                int threads, const char *isa, long batch, int reps, bench_summary *sum) {
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = threads;
    cp.isa = isa;
    cp.batch_tokens = (uint32_t)batch;
    learn_ctx *ctx;
    learn_status st = learn_ctx_new(m, &cp, &ctx);
    if (st != LEARN_OK) {
        char why[256];
        learn_isa_check(isa, why, sizeof why);
        return cli_error("bench", "cannot make a context: %s (%s)", learn_status_str(st), why);
    }
    float *out = (float *)malloc(b->n * mi->n_embd * sizeof *out);
    if (!out) {
        learn_ctx_free(ctx);
        return cli_error("bench", "out of memory");
    }
    bench_run warm;
    int rc = bench_encode_once(ctx, b, mi, out, &warm); /* warm-up: page in the weights */
    double *v[6];
    for (int i = 0; i < 6; i++) v[i] = (double *)calloc((size_t)reps, sizeof(double));
    for (int i = 0; !rc && i < reps; i++) {
        bench_run r;
        if ((rc = bench_encode_once(ctx, b, mi, out, &r))) break;
        v[0][i] = r.wall, v[1][i] = r.tok_s, v[2][i] = r.items_s, v[3][i] = r.gmac_s;
        v[4][i] = r.mm_gmac_s, v[5][i] = r.mm_share;
    }
    if (!rc) {
        sum->wall = bench_stats(v[0], reps);
        sum->tok_s = bench_stats(v[1], reps);
        sum->items_s = bench_stats(v[2], reps);
        sum->gmac_s = bench_stats(v[3], reps);
        sum->mm_gmac_s = bench_stats(v[4], reps);
        sum->mm_share = bench_stats(v[5], reps);
        sum->peak = bench_peak(learn_ctx_n_threads(ctx), bench_peak_kind());
        sum->amx_peak = strcmp(learn_ctx_isa(ctx), "amx") == 0 && bench_amx_real()
                            ? bench_peak(learn_ctx_n_threads(ctx), BENCH_PEAK_AMX)
                            : 0.0;
    }
    for (int i = 0; i < 6; i++) free(v[i]);
    free(out);
    learn_ctx_free(ctx);
    return rc;
}

static void bench_print_summary(int threads, const bench_summary *s) {
    double pk = s->peak > 0 ? 100.0 / s->peak : 0.0;
    printf("%d thread%s: int8 peak %.1f GMAC/s\n", threads, threads > 1 ? "s" : "", s->peak);
    printf("  tokens/s           %9.1f  (%.1f .. %.1f)\n", s->tok_s.med, s->tok_s.lo, s->tok_s.hi);
    printf("  items/s            %9.2f  (%.2f .. %.2f)\n", s->items_s.med, s->items_s.lo, s->items_s.hi);
    printf("  products GMAC/s    %9.1f  (%.1f .. %.1f) = %.1f%% of peak (%.1f .. %.1f%%)\n",
           s->mm_gmac_s.med, s->mm_gmac_s.lo, s->mm_gmac_s.hi, s->mm_gmac_s.med * pk,
           s->mm_gmac_s.lo * pk, s->mm_gmac_s.hi * pk);
    printf("  end-to-end GMAC/s  %9.1f  (%.1f .. %.1f) = %.1f%% of peak (products' MACs / wall time)\n",
           s->gmac_s.med, s->gmac_s.lo, s->gmac_s.hi, s->gmac_s.med * pk);
    if (s->amx_peak > 0)
        printf("  products / AMX peak %8.1f%% (%.1f .. %.1f%%) of %.1f GMAC/s (tdpbssd loop)\n",
               100 * s->mm_gmac_s.med / s->amx_peak, 100 * s->mm_gmac_s.lo / s->amx_peak,
               100 * s->mm_gmac_s.hi / s->amx_peak, s->amx_peak);
    printf("  time in products   %9.1f%% (%.1f .. %.1f%%)\n", 100 * s->mm_share.med,
           100 * s->mm_share.lo, 100 * s->mm_share.hi);
    printf("  wall s per pass    %9.3f  (%.3f .. %.3f)\n", s->wall.med, s->wall.lo, s->wall.hi);
}

static int bench_encoder(const char *model, const char *items, size_t count, int threads, const char *isa,
                         long batch, int reps, int scaling, const char *dump) {
    double t_open = util_now_s();
    learn_model *m = cli_open_model("bench", model, 0);
    if (!m) return 1;
    t_open = util_now_s() - t_open;
    learn_model_info mi;
    learn_model_get_info(m, &mi);
    if (!mi.arch[0]) {
        learn_model_close(m);
        return cli_error("bench", "%s has no LLM", model);
    }
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = 1;
    learn_ctx *tctx;
    learn_status st = learn_ctx_new(m, &cp, &tctx);
    if (st != LEARN_OK) {
        char why[256];
        learn_isa_check(NULL, why, sizeof why);
        learn_model_close(m);
        return cli_error("bench", "cannot make a context: %s (%s)", learn_status_str(st), why);
    }
    bench_items b;
    double t_tok = util_now_s();
    int rc = bench_load_items(tctx, items, count, &b);
    t_tok = util_now_s() - t_tok;
    learn_ctx_free(tctx);
    if (!rc && dump) {
        FILE *f = fopen(dump, "w");
        if (!f) rc = cli_error("bench", "%s: cannot write", dump);
        for (size_t i = 0; f && i < b.n; i++) fprintf(f, "%s\n", b.texts[i]);
        if (f && fclose(f)) rc = cli_error("bench", "%s: write failed", dump);
    }
    if (rc) {
        bench_items_free(&b);
        learn_model_close(m);
        return rc;
    }
    const char *wtype = "?";
    learn_tensor_info ti;
    if (learn_model_tensor_find(m, "blk.0.ffn_up.weight", &ti) == LEARN_OK) wtype = learn_type_name(ti.type);
    printf("model: %s (%s, %s weights): %u layers, n_embd %u, n_ff %u, %u heads (%u kv)\n",
           mi.name[0] ? mi.name : model, mi.arch, wtype, mi.n_layer, mi.n_embd, mi.n_ff, mi.n_head,
           mi.n_head_kv);
    printf("items: %zu (%s), %zu tokens, %zu..%zu per item (mean %.1f); matrix products %.3f GMAC "
           "per token\n",
           b.n, items ? items : "generated", b.n_tokens, b.min_len, b.max_len,
           (double)b.n_tokens / (double)b.n, bench_macs_per_token(&mi) * 1e-9);
    if (!items) printf("tokenize + generate: %.1f ms\n", t_tok * 1e3);
    else printf("tokenize: %.1f ms (%.0f items/s)\n", t_tok * 1e3, (double)b.n / t_tok);
    learn_ctx_params p0 = learn_ctx_default_params();
    p0.n_threads = threads;
    p0.isa = isa;
    learn_ctx *probe;
    if (learn_ctx_new(m, &p0, &probe) == LEARN_OK) {
        printf("kernels: %s, threads: %d, batch: %ld tokens, reps: %d, int8 peak loop: %s\n",
               learn_ctx_isa(probe), learn_ctx_n_threads(probe), batch ? batch : 512, reps,
               bench_peak_names[bench_peak_kind()]);
        threads = learn_ctx_n_threads(probe);
        learn_ctx_free(probe);
    }
    char amx_why[256];
    if (learn_isa_check("amx", amx_why, sizeof amx_why) == LEARN_OK)
        printf("amx: offered here%s; only --isa amx runs it\n", bench_amx_real() ? "" : " (emulated: this build is for tests only)");
    else
        printf("amx: not offered: %s\n", amx_why);
    double t_all = util_now_s();
    bench_summary s1, sn;
    if (scaling && threads > 1) {
        rc = bench_encode_threads(m, &mi, &b, 1, isa, batch, reps, &s1);
        if (!rc) bench_print_summary(1, &s1);
    }
    if (!rc) rc = bench_encode_threads(m, &mi, &b, threads, isa, batch, reps, &sn);
    if (!rc) bench_print_summary(threads, &sn);
    if (!rc && scaling && threads > 1)
        printf("scaling 1 -> %d threads: %.2fx tokens/s (medians; %.2f .. %.2f from the extremes)\n",
               threads, sn.tok_s.med / s1.tok_s.med, sn.tok_s.lo / s1.tok_s.hi,
               sn.tok_s.hi / s1.tok_s.lo);
    if (!rc)
        printf("wall: %.1f s (model open %.2f s); peak resident memory %.0f MB (model file %.0f MB)\n",
               util_now_s() - t_all, t_open, bench_rss_mb(), (double)mi.file_size / 1e6);
    bench_items_free(&b);
    learn_model_close(m);
    return rc;
}

/* ---- Towers ---------------------------------------------------------------------------------- */

/* Adds a random tensor (std / sqrt(fan_in) for matrices) of `type` to w; the data is kept in
   *keep (freed by the caller after saving). */
static int bench_tensor(learn_writer *w, const char *name, uint64_t d0, uint64_t d1, learn_type type,
                        float mean, float std, util_rng *r) {
    size_t n = (size_t)(d0 * (d1 ? d1 : 1));
    float *x = (float *)malloc(n * sizeof *x);
    uint64_t bytes = learn_type_row_bytes(type, d1 ? d1 : d0) * (d1 ? d0 : 1);
    void *q = malloc((size_t)bytes);
    if (!x || !q) {
        free(x);
        free(q);
        return 1;
    }
    for (size_t i = 0; i < n; i++) x[i] = mean + std * util_rng_normal(r);
    uint64_t shape[2] = {d0, d1};
    int bad = learn_quantize(type, x, q, n) != LEARN_OK ||
              learn_writer_add_tensor(w, name, type, d1 ? 2 : 1, shape, q, LEARN_WRITER_COPY) != LEARN_OK;
    free(x);
    free(q);
    return bad;
}

/* A towers-only model in memory: d_in 896, d_model 768, 4 layers of 12 heads, d_ff 3072,
   d_out 256, post-LN, matrices in `type`. */
static int bench_tower_model(learn_type type, learn_model **out, void **buf) {
    const uint32_t din = 896, D = 768, L = 4, H = 12, F = 3072, dout = 256;
    learn_writer *w;
    if (learn_writer_new(NULL, &w) != LEARN_OK) return 1;
    util_rng r = {42};
    int bad = learn_writer_set_u32(w, "tower.d_in", din) || learn_writer_set_u32(w, "tower.d_model", D) ||
              learn_writer_set_u32(w, "tower.n_layer", L) || learn_writer_set_u32(w, "tower.n_head", H) ||
              learn_writer_set_u32(w, "tower.d_ff", F) || learn_writer_set_u32(w, "tower.d_out", dout) ||
              learn_writer_set_u32(w, "tower.max_history", 64);
    float sd = 1.0f / sqrtf((float)D), sf = 1.0f / sqrtf((float)F), si = 1.0f / sqrtf((float)din);
    bad = bad || bench_tensor(w, "tower.adaptor.weight", D, din, type, 0, si, &r) ||
          bench_tensor(w, "tower.adaptor.bias", D, 0, LEARN_TYPE_F32, 0, 0.1f, &r) ||
          bench_tensor(w, "tower.proj.weight", dout, D, type, 0, sd, &r) ||
          bench_tensor(w, "tower.proj.bias", dout, 0, LEARN_TYPE_F32, 0, 0.1f, &r);
    for (uint32_t l = 0; !bad && l < L; l++) {
        static const char *const sq[] = {"attn_q", "attn_k", "attn_v", "attn_output"};
        char nm[64];
        for (int i = 0; !bad && i < 4; i++) {
            snprintf(nm, sizeof nm, "tower.blk.%u.%s.weight", l, sq[i]);
            bad = bench_tensor(w, nm, D, D, type, 0, sd, &r);
            snprintf(nm, sizeof nm, "tower.blk.%u.%s.bias", l, sq[i]);
            bad = bad || bench_tensor(w, nm, D, 0, LEARN_TYPE_F32, 0, 0.1f, &r);
        }
        static const char *const norms[] = {"attn_norm", "ffn_norm"};
        for (int i = 0; !bad && i < 2; i++) {
            snprintf(nm, sizeof nm, "tower.blk.%u.%s.weight", l, norms[i]);
            bad = bench_tensor(w, nm, D, 0, LEARN_TYPE_F32, 1.0f, 0.1f, &r);
            snprintf(nm, sizeof nm, "tower.blk.%u.%s.bias", l, norms[i]);
            bad = bad || bench_tensor(w, nm, D, 0, LEARN_TYPE_F32, 0, 0.1f, &r);
        }
        snprintf(nm, sizeof nm, "tower.blk.%u.ffn_up.weight", l);
        bad = bad || bench_tensor(w, nm, F, D, type, 0, sd, &r);
        snprintf(nm, sizeof nm, "tower.blk.%u.ffn_up.bias", l);
        bad = bad || bench_tensor(w, nm, F, 0, LEARN_TYPE_F32, 0, 0.1f, &r);
        snprintf(nm, sizeof nm, "tower.blk.%u.ffn_down.weight", l);
        bad = bad || bench_tensor(w, nm, D, F, type, 0, sf, &r);
        snprintf(nm, sizeof nm, "tower.blk.%u.ffn_down.bias", l);
        bad = bad || bench_tensor(w, nm, D, 0, LEARN_TYPE_F32, 0, 0.1f, &r);
    }
    size_t size = 0;
    *buf = NULL;
    bad = bad || learn_writer_save_memory(w, buf, &size) != LEARN_OK;
    char err[LEARN_ERRMSG_SIZE];
    bad = bad || learn_model_open_memory(*buf, size, NULL, out, err, sizeof err) != LEARN_OK;
    if (bad && *buf) learn_writer_free_buffer(w, *buf);
    if (!bad) {
        /* The buffer must outlive the writer: copy it to our own aligned memory. */
        learn_model_close(*out);
        void *own = NULL;
        if (posix_memalign(&own, 64, size) != 0) bad = 1;
        else {
            memcpy(own, *buf, size);
            learn_writer_free_buffer(w, *buf);
            *buf = own;
            bad = learn_model_open_memory(*buf, size, NULL, out, err, sizeof err) != LEARN_OK;
        }
    }
    learn_writer_free(w);
    return bad;
}

/* Times fn-like blocks: runs `body` reps times, median/min/max in ms. */
#define BENCH_TIME(reps, stat, body)                                                               \
    do {                                                                                           \
        double *v_ = (double *)calloc((size_t)(reps), sizeof(double));                            \
        for (int i_ = 0; v_ && i_ < (reps); i_++) {                                                \
            double t0_ = util_now_s();                                                              \
            body;                                                                                  \
            v_[i_] = (util_now_s() - t0_) * 1e3;                                                    \
        }                                                                                          \
        stat = v_ ? bench_stats(v_, reps) : (bench_stat){0, 0, 0};                                 \
        free(v_);                                                                                  \
    } while (0)

static int bench_towers(const char *type_name, int threads, const char *isa, int reps) {
    static const learn_type all[] = {LEARN_TYPE_F32, LEARN_TYPE_Q8_0};
    learn_type one[1];
    const learn_type *types = all;
    size_t n_types = 2;
    if (type_name) {
        if (!strcmp(type_name, "f32")) one[0] = LEARN_TYPE_F32;
        else if (!strcmp(type_name, "f16")) one[0] = LEARN_TYPE_F16;
        else if (!strcmp(type_name, "q8_0")) one[0] = LEARN_TYPE_Q8_0;
        else if (!strcmp(type_name, "q4_0")) one[0] = LEARN_TYPE_Q4_0;
        else return cli_error("bench", "--type must be f32, f16, q8_0 or q4_0");
        types = one;
        n_types = 1;
    }
    printf("towers: d_in 896, d_model 768, 4 layers (12 heads), d_ff 3072, d_out 256; history 40; "
           "median of %d (min .. max), ms\n", reps);
    for (size_t ti = 0; ti < n_types; ti++) {
        learn_model *m;
        void *buf;
        if (bench_tower_model(types[ti], &m, &buf)) return cli_error("bench", "cannot build the towers");
        learn_ctx_params cp = learn_ctx_default_params();
        cp.n_threads = threads;
        cp.isa = isa;
        learn_ctx *ctx;
        const learn_status cst = learn_ctx_new(m, &cp, &ctx);
        if (cst != LEARN_OK) {
            char why[256];
            learn_isa_check(isa, why, sizeof why);
            learn_model_close(m);
            free(buf);
            return cli_error("bench", "cannot make a context: %s (%s)", learn_status_str(cst), why);
        }
        const size_t din = 896, H = 40, n_items = 256;
        float *content = (float *)malloc(n_items * din * sizeof *content), out[256];
        float *items = (float *)malloc(n_items * 256 * sizeof *items);
        util_rng r = {7};
        for (size_t i = 0; i < n_items * din; i++) content[i] = util_rng_normal(&r);
        learn_user_state *us = NULL;
        learn_status st = learn_user_state_new(ctx, 64, &us);
        bench_stat user, append, item1, items256;
        int err = st != LEARN_OK;
        learn_user_embed(ctx, H, content, out); /* warm-up */
        BENCH_TIME(reps, user, err |= learn_user_embed(ctx, H, content, out) != LEARN_OK);
        /* append: the 40th item after 39 */
        double *v = (double *)calloc((size_t)reps, sizeof(double));
        for (int i = 0; !err && v && i < reps + 1; i++) {
            learn_user_state_reset(us);
            for (size_t j = 0; j + 1 < H; j++)
                err |= learn_user_state_append(ctx, us, content + j * din) != LEARN_OK;
            double t0 = util_now_s();
            err |= learn_user_state_append(ctx, us, content + (H - 1) * din) != LEARN_OK;
            if (i) v[i - 1] = (util_now_s() - t0) * 1e3; /* the first is a warm-up */
        }
        append = bench_stats(v, reps);
        free(v);
        float emb[256];
        err |= learn_user_state_embedding(us, emb) != LEARN_OK;
        double diff = 0;
        for (int e = 0; e < 256; e++) { /* not fmax: gcc 12's aarch64 vectorizer crashes on it */
            const double de = fabs((double)emb[e] - out[e]);
            if (de > diff) diff = de;
        }
        BENCH_TIME(reps, item1, err |= learn_item_embed(ctx, 1, content, items) != LEARN_OK);
        BENCH_TIME(reps, items256, err |= learn_item_embed(ctx, n_items, content, items) != LEARN_OK);
        if (err) printf("  error: %s\n", learn_ctx_errmsg(ctx));
        printf("%-5s %d thread%s (%s): user embedding (40 items) %.2f ms (%.2f .. %.2f); append "
               "(40th) %.3f ms (%.3f .. %.3f) [max |diff| vs full %.1e]; item embedding 1: %.3f ms, "
               "256: %.2f ms (%.0f items/s)\n",
               learn_type_name(types[ti]), learn_ctx_n_threads(ctx), learn_ctx_n_threads(ctx) > 1 ? "s" : "",
               learn_ctx_isa(ctx), user.med, user.lo, user.hi, append.med, append.lo, append.hi, diff,
               item1.med, items256.med, 256.0 / (items256.med * 1e-3));
        learn_user_state_free(us);
        free(content);
        free(items);
        learn_ctx_free(ctx);
        learn_model_close(m);
        free(buf);
        if (err) return 1;
    }
    return 0;
}

/* ---- Top-K -------------------------------------------------------------------------------------- */

/* The plain loop: score every item with a float dot, keep the k best in a min-heap (ties to
   the lower index), then sort. */
static void bench_topk_plain(const float *items, size_t n, size_t d, const float *q, size_t k,
                             learn_hit *heap, size_t *nh) {
    *nh = 0;
    for (size_t i = 0; i < n; i++) {
        const float *x = items + i * d;
        float s = 0.0f;
        for (size_t e = 0; e < d; e++) s += q[e] * x[e];
        learn_hit h = {(uint32_t)i, s};
        if (*nh < k) {
            size_t j = (*nh)++;
            heap[j] = h;
            while (j && (heap[j].score < heap[(j - 1) / 2].score ||
                         (heap[j].score == heap[(j - 1) / 2].score && heap[j].index > heap[(j - 1) / 2].index))) {
                learn_hit t = heap[j];
                heap[j] = heap[(j - 1) / 2];
                heap[(j - 1) / 2] = t;
                j = (j - 1) / 2;
            }
        } else if (s > heap[0].score) {
            heap[0] = h;
            for (size_t j = 0;;) {
                size_t l = 2 * j + 1, rr = l + 1, w = j;
                if (l < k && (heap[l].score < heap[w].score ||
                              (heap[l].score == heap[w].score && heap[l].index > heap[w].index)))
                    w = l;
                if (rr < k && (heap[rr].score < heap[w].score ||
                               (heap[rr].score == heap[w].score && heap[rr].index > heap[w].index)))
                    w = rr;
                if (w == j) break;
                learn_hit t = heap[j];
                heap[j] = heap[w];
                heap[w] = t;
                j = w;
            }
        }
    }
}

static int bench_topk(long n_items, long dim, long k, int threads, const char *isa, int reps) {
    /* A catalog in memory (content dimension 1: unused here). */
    learn_catalog_builder *cb;
    if (learn_catalog_builder_new(NULL, 1, (uint32_t)dim, &cb) != LEARN_OK) return cli_error("bench", "out of memory");
    float *v = (float *)malloc((size_t)dim * sizeof *v), zero = 0.0f;
    util_rng r = {11};
    char id[32];
    int bad = !v;
    for (long i = 0; !bad && i < n_items; i++) {
        for (long e = 0; e < dim; e++) v[e] = util_rng_normal(&r);
        learn_l2_normalize(v, (size_t)dim);
        snprintf(id, sizeof id, "item%ld", i);
        bad = learn_catalog_builder_add(cb, id, strlen(id), &zero, v) != LEARN_OK;
    }
    void *data = NULL;
    size_t size = 0;
    learn_catalog *cat = NULL;
    char err[LEARN_ERRMSG_SIZE];
    bad = bad || learn_catalog_builder_save_memory(cb, &data, &size) != LEARN_OK ||
          learn_catalog_open_memory(data, size, NULL, &cat, err, sizeof err) != LEARN_OK;
    /* A context needs a model: a tiny towers-free one. */
    learn_writer *w = NULL;
    void *mbuf = NULL;
    size_t msize = 0;
    learn_model *m = NULL;
    bad = bad || learn_writer_new(NULL, &w) != LEARN_OK ||
          learn_writer_set_u32(w, "bench.dummy", 1) != LEARN_OK ||
          learn_writer_save_memory(w, &mbuf, &msize) != LEARN_OK ||
          learn_model_open_memory(mbuf, msize, NULL, &m, err, sizeof err) != LEARN_OK;
    learn_ctx *ctx = NULL;
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = threads;
    cp.isa = isa;
    bad = bad || learn_ctx_new(m, &cp, &ctx) != LEARN_OK;
    learn_hit *hits = (learn_hit *)malloc((size_t)k * sizeof *hits);
    learn_hit *ref = (learn_hit *)malloc((size_t)k * sizeof *ref);
    float *q = (float *)malloc((size_t)dim * sizeof *q);
    uint32_t excl[40];
    bad = bad || !hits || !ref || !q;
    if (!bad) {
        const float *items = learn_catalog_items(cat);
        for (long e = 0; e < dim; e++) q[e] = util_rng_normal(&r);
        learn_l2_normalize(q, (size_t)dim);
        for (int i = 0; i < 40; i++) excl[i] = (uint32_t)(util_rng_next(&r) % (uint64_t)n_items);
        size_t n_out = 0, n_ref = 0;
        bench_stat learn_t, learn_x, plain_t;
        learn_catalog_topk(ctx, cat, q, (uint32_t)k, NULL, 0, hits, &n_out); /* warm-up */
        BENCH_TIME(reps, learn_t, bad |= learn_catalog_topk(ctx, cat, q, (uint32_t)k, NULL, 0, hits, &n_out) != LEARN_OK);
        BENCH_TIME(reps, learn_x, bad |= learn_catalog_topk(ctx, cat, q, (uint32_t)k, excl, 40, ref, &n_ref) != LEARN_OK);
        BENCH_TIME(reps, plain_t, bench_topk_plain(items, (size_t)n_items, (size_t)dim, q, (size_t)k, ref, &n_ref));
        /* The same items (the plain loop sums in another order: scores may differ in the last
           bits, so compare the sets of indices). */
        int same = n_out == n_ref;
        for (size_t i = 0; same && i < n_out; i++) {
            int found = 0;
            for (size_t j = 0; j < n_ref; j++) found |= ref[j].index == hits[i].index;
            same = found;
        }
        double mb = (double)n_items * (double)dim * 4 / 1e6;
        printf("top-%ld of %ld items, d = %ld (%.1f MB of f32), %d thread%s (%s), median of %d (min .. max):\n",
               k, n_items, dim, mb, learn_ctx_n_threads(ctx), learn_ctx_n_threads(ctx) > 1 ? "s" : "",
               learn_ctx_isa(ctx), reps);
        printf("  learn_catalog_topk          %7.3f ms (%.3f .. %.3f)  %.1f GB/s\n", learn_t.med, learn_t.lo,
               learn_t.hi, mb / learn_t.med);
        printf("  ... excluding 40 items      %7.3f ms (%.3f .. %.3f)\n", learn_x.med, learn_x.lo, learn_x.hi);
        printf("  plain f32 loop, 1 thread    %7.3f ms (%.3f .. %.3f)  %.1f GB/s\n", plain_t.med, plain_t.lo,
               plain_t.hi, mb / plain_t.med);
        printf("  speed-up vs the plain loop  %7.2fx; same top-%ld: %s\n", plain_t.med / learn_t.med, k,
               same ? "yes" : "NO");
        bad |= !same;
        /* 64 queries: a call each against one batched call (the same hits, checked). */
        enum { NQ = 64 };
        float *qs = (float *)malloc((size_t)NQ * (size_t)dim * sizeof *qs);
        learn_hit *bh = (learn_hit *)malloc((size_t)NQ * (size_t)k * sizeof *bh);
        learn_hit *sh = (learn_hit *)malloc((size_t)NQ * (size_t)k * sizeof *sh);
        size_t bn[NQ], sn[NQ];
        if (qs && bh && sh) {
            for (long i = 0; i < NQ; i++) {
                for (long e = 0; e < dim; e++) qs[i * dim + e] = util_rng_normal(&r);
                learn_l2_normalize(qs + i * dim, (size_t)dim);
            }
            bench_stat one_t, batch_t;
            BENCH_TIME(reps, one_t, for (int i = 0; i < NQ; i++) bad |= learn_catalog_topk(ctx, cat, qs + (size_t)i * (size_t)dim, (uint32_t)k, NULL, 0, sh + (size_t)i * (size_t)k, &sn[i]) != LEARN_OK);
            BENCH_TIME(reps, batch_t, bad |= learn_catalog_topk_batch(ctx, cat, qs, NQ, (uint32_t)k, NULL, NULL, bh, bn) != LEARN_OK);
            int bsame = 1;
            for (int i = 0; i < NQ; i++)
                bsame &= bn[i] == sn[i] && memcmp(bh + (size_t)i * (size_t)k, sh + (size_t)i * (size_t)k, sn[i] * sizeof *bh) == 0;
            printf("  64 queries, a call each     %7.3f ms (%.3f .. %.3f)\n", one_t.med, one_t.lo, one_t.hi);
            printf("  64 queries, one batch call  %7.3f ms (%.3f .. %.3f)  %.2fx; same hits: %s\n", batch_t.med,
                   batch_t.lo, batch_t.hi, one_t.med / batch_t.med, bsame ? "yes" : "NO");
            bad |= !bsame;
        } else {
            bad = 1;
        }
        free(qs);
        free(bh);
        free(sh);
    } else {
        fprintf(stderr, "learn-cli bench: %s\n", ctx ? learn_ctx_errmsg(ctx) : err);
    }
    learn_ctx_free(ctx);
    learn_model_close(m);
    learn_catalog_close(cat);
    if (w) learn_writer_free_buffer(w, mbuf);
    learn_writer_free(w);
    learn_catalog_builder_free_buffer(cb, data);
    learn_catalog_builder_free(cb);
    free(v);
    free(hits);
    free(ref);
    free(q);
    return bad ? cli_error("bench", "top-K benchmark failed") : 0;
}

int cmd_bench(int argc, char **argv) {
    const char *model = NULL, *items = NULL, *isa = NULL, *dump = NULL, *type = NULL;
    long threads = 0, batch = 0, reps = 5, count = 256, n_items = 100000, dim = 64, k = 10;
    int towers = 0, topk = 0, scaling = 0;
    setvbuf(stdout, NULL, _IOLBF, 0); /* results as they come */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            fputs(bench_usage, stdout);
            return 0;
        }
        if (!strcmp(a, "--towers")) towers = 1;
        else if (!strcmp(a, "--topk")) topk = 1;
        else if (!strcmp(a, "--scaling")) scaling = 1;
        else if (!strcmp(a, "--items") && v) items = argv[++i];
        else if (!strcmp(a, "--dump-items") && v) dump = argv[++i];
        else if (!strcmp(a, "--isa") && v) isa = argv[++i];
        else if (!strcmp(a, "--type") && v) type = argv[++i];
        else if (!strcmp(a, "--threads") && v && !cli_parse_long(v, 1, 256, &threads)) i++;
        else if (!strcmp(a, "--batch") && v && !cli_parse_long(v, 1, 1 << 20, &batch)) i++;
        else if (!strcmp(a, "--reps") && v && !cli_parse_long(v, 1, 1000, &reps)) i++;
        else if (!strcmp(a, "--count") && v && !cli_parse_long(v, 1, 1L << 24, &count)) i++;
        else if (!strcmp(a, "--n-items") && v && !cli_parse_long(v, 1, 1L << 30, &n_items)) i++;
        else if (!strcmp(a, "--dim") && v && !cli_parse_long(v, 1, 65536, &dim)) i++;
        else if (!strcmp(a, "--k") && v && !cli_parse_long(v, 1, 1 << 20, &k)) i++;
        else if (a[0] == '-' && a[1])
            return cli_error("bench", "unknown or incomplete option '%s' (see learn-cli bench --help)", a);
        else if (!model) model = a;
        else return cli_error("bench", "more than one MODEL given");
    }
    if (towers) return bench_towers(type, (int)threads, isa, (int)reps);
    if (topk) return bench_topk(n_items, dim, k, (int)threads, isa, (int)reps);
    if (!model) return cli_error("bench", "no MODEL given (see learn-cli bench --help)");
    return bench_encoder(model, items, (size_t)count, (int)threads, isa, batch, (int)reps, scaling, dump);
}
