/* bench_faiss.cpp - top-K over a catalog: learn_catalog_topk against FAISS IndexFlatIP (exact
   inner-product search) and a plain f32 loop, on the same random unit vectors.

   Needs FAISS's C++ library (Debian: apt-get install libfaiss-dev); bench/run.sh builds and runs
   it when the headers are present:
       g++ -O2 -std=c++11 -I. -o build/bench/bench_faiss bench/bench_faiss.cpp build/learn.o \
           -lfaiss -lblas -llapack -fopenmp -pthread
   Run:
       build/bench/bench_faiss [--n-items N] [--dim D] [--k K] [--threads N] [--reps N]
                               [--queries Q]
   One query at a time (the recommendation use: one user), then Q queries (default 64): learn
   one call per query and one learn_catalog_topk_batch call for all, FAISS one call for all
   (its batched path uses BLAS). Both use --threads
   threads (default 2). Figures are medians of --reps runs (default 9), in ms. The top-K sets
   of learn and FAISS are compared (scores may differ in the last bits: another summation
   order). */
#include <faiss/IndexFlat.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "learn.h"

typedef faiss::Index::idx_t fidx; /* faiss::idx_t in later FAISS versions */

static double now_ms() {
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

static uint64_t rng(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static float normal(uint64_t *s) { /* Box-Muller */
    double u1 = ((double)(rng(s) >> 11) + 1.0) / 9007199254740993.0;
    double u2 = (double)(rng(s) >> 11) / 9007199254740992.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

static void unit_rows(std::vector<float> &v, size_t n, size_t d, uint64_t *s) {
    v.resize(n * d);
    for (size_t i = 0; i < n; i++) {
        double ss = 0;
        for (size_t e = 0; e < d; e++) {
            v[i * d + e] = normal(s);
            ss += (double)v[i * d + e] * v[i * d + e];
        }
        for (size_t e = 0; e < d; e++) v[i * d + e] = (float)(v[i * d + e] / sqrt(ss));
    }
}

template <class F> static double median_ms(int reps, F f) {
    std::vector<double> t((size_t)reps);
    f(); /* warm-up */
    for (int i = 0; i < reps; i++) {
        double t0 = now_ms();
        f();
        t[(size_t)i] = now_ms() - t0;
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

/* The plain loop: scores then a partial sort, one thread. */
static void plain_topk(const float *items, size_t n, size_t d, const float *q, size_t k,
                       std::vector<float> &scores, std::vector<uint32_t> &idx) {
    for (size_t i = 0; i < n; i++) {
        float s = 0;
        for (size_t e = 0; e < d; e++) s += items[i * d + e] * q[e];
        scores[i] = s;
    }
    for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    std::partial_sort(idx.begin(), idx.begin() + (long)k, idx.end(), [&](uint32_t a, uint32_t b) {
        return scores[a] != scores[b] ? scores[a] > scores[b] : a < b;
    });
}

static int fail(const char *what) {
    fprintf(stderr, "bench_faiss: %s\n", what);
    return 1;
}

int main(int argc, char **argv) {
    long n = 100000, d = 64, k = 10, threads = 2, reps = 9, nq = 64;
    for (int i = 1; i < argc; i++) {
        long *opt = !strcmp(argv[i], "--n-items") ? &n : !strcmp(argv[i], "--dim") ? &d
                  : !strcmp(argv[i], "--k") ? &k : !strcmp(argv[i], "--threads") ? &threads
                  : !strcmp(argv[i], "--reps") ? &reps : !strcmp(argv[i], "--queries") ? &nq : nullptr;
        if (!opt || i + 1 >= argc || (*opt = atol(argv[++i])) <= 0) {
            fprintf(stderr, "usage: bench_faiss [--n-items N] [--dim D] [--k K] [--threads N] "
                            "[--reps N] [--queries Q]\n");
            return 2;
        }
    }
    if (k > n) return fail("--k is larger than --n-items");
    uint64_t s = 11;
    std::vector<float> items, queries;
    unit_rows(items, (size_t)n, (size_t)d, &s);
    unit_rows(queries, (size_t)nq, (size_t)d, &s);

    /* learn: a catalog in memory and a context (a model is needed: a tiny towers-free one). */
    learn_catalog_builder *cb = nullptr;
    learn_catalog *cat = nullptr;
    learn_writer *w = nullptr;
    learn_model *m = nullptr;
    learn_ctx *ctx = nullptr;
    void *cdata = nullptr, *mdata = nullptr;
    size_t csize = 0, msize = 0;
    char err[LEARN_ERRMSG_SIZE] = "";
    float zero = 0.0f;
    bool ok = learn_catalog_builder_new(nullptr, 1, (uint32_t)d, &cb) == LEARN_OK;
    char id[32];
    for (long i = 0; ok && i < n; i++) {
        snprintf(id, sizeof id, "item%ld", i);
        ok = learn_catalog_builder_add(cb, id, strlen(id), &zero, &items[(size_t)(i * d)]) == LEARN_OK;
    }
    ok = ok && learn_catalog_builder_save_memory(cb, &cdata, &csize) == LEARN_OK &&
         learn_catalog_open_memory(cdata, csize, nullptr, &cat, err, sizeof err) == LEARN_OK &&
         learn_writer_new(nullptr, &w) == LEARN_OK && learn_writer_set_u32(w, "bench.dummy", 1) == LEARN_OK &&
         learn_writer_save_memory(w, &mdata, &msize) == LEARN_OK &&
         learn_model_open_memory(mdata, msize, nullptr, &m, err, sizeof err) == LEARN_OK;
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = (int)threads;
    ok = ok && learn_ctx_new(m, &cp, &ctx) == LEARN_OK;
    if (!ok) return fail(err[0] ? err : "could not build the learn catalog or context");

    faiss::IndexFlatIP index((fidx)d);
    index.add((fidx)n, items.data());
    omp_set_num_threads((int)threads);

    std::vector<learn_hit> hits((size_t)(k * nq));
    std::vector<float> fd((size_t)(k * nq));
    std::vector<fidx> fi((size_t)(k * nq));
    std::vector<float> scores((size_t)n);
    std::vector<uint32_t> idx((size_t)n);
    size_t n_out = 0;
    bool bad = false;
    const float *q0 = queries.data();

    double t_learn = median_ms((int)reps, [&] {
        bad |= learn_catalog_topk(ctx, cat, q0, (uint32_t)k, nullptr, 0, hits.data(), &n_out) != LEARN_OK;
    });
    double t_faiss = median_ms((int)reps, [&] { index.search(1, q0, (fidx)k, fd.data(), fi.data()); });
    double t_plain = median_ms((int)reps, [&] { plain_topk(items.data(), (size_t)n, (size_t)d, q0, (size_t)k, scores, idx); });
    /* the same top-K, as sets */
    int same = n_out == (size_t)k;
    for (long i = 0; same && i < k; i++) {
        int found = 0;
        for (long j = 0; j < k; j++) found |= (fidx)hits[(size_t)i].index == fi[(size_t)j];
        same = found;
    }
    double t_learn_q = median_ms((int)reps, [&] {
        for (long qi = 0; qi < nq; qi++)
            bad |= learn_catalog_topk(ctx, cat, &queries[(size_t)(qi * d)], (uint32_t)k, nullptr, 0,
                                      &hits[(size_t)(qi * k)], &n_out) != LEARN_OK;
    });
    std::vector<learn_hit> bhits((size_t)(k * nq));
    std::vector<size_t> bn((size_t)nq);
    double t_learn_b = median_ms((int)reps, [&] {
        bad |= learn_catalog_topk_batch(ctx, cat, queries.data(), (size_t)nq, (uint32_t)k, nullptr, nullptr,
                                        bhits.data(), bn.data()) != LEARN_OK;
    });
    int same_b = 1;
    for (long qi = 0; qi < nq; qi++)
        for (long i = 0; i < k; i++)
            same_b &= bhits[(size_t)(qi * k + i)].index == hits[(size_t)(qi * k + i)].index &&
                      bhits[(size_t)(qi * k + i)].score == hits[(size_t)(qi * k + i)].score;
    double t_faiss_q = median_ms((int)reps, [&] {
        index.search((fidx)nq, queries.data(), (fidx)k, fd.data(), fi.data());
    });
    int same_q = 1;
    for (long qi = 0; same_q && qi < nq; qi++)
        for (long i = 0; same_q && i < k; i++) {
            int found = 0;
            for (long j = 0; j < k; j++)
                found |= (fidx)hits[(size_t)(qi * k + i)].index == fi[(size_t)(qi * k + j)];
            same_q = found;
        }
    if (bad) return fail(learn_ctx_errmsg(ctx));

    double mb = (double)n * (double)d * 4 / 1e6;
    printf("top-%ld of %ld items, d = %ld (%.1f MB of f32), %ld threads (learn: %s), median of %ld, ms:\n",
           k, n, d, mb, threads, learn_ctx_isa(ctx), reps);
    printf("  1 query:   learn_catalog_topk %8.3f   FAISS IndexFlatIP %8.3f   plain loop (1 thread) %8.3f\n",
           t_learn, t_faiss, t_plain);
    printf("             learn vs FAISS %.2fx, vs plain %.2fx; same top-%ld as FAISS: %s\n",
           t_faiss / t_learn, t_plain / t_learn, k, same ? "yes" : "NO");
    printf("  %ld queries: learn (one call each) %8.3f   FAISS (one call) %8.3f   learn vs FAISS %.2fx; "
           "same: %s\n",
           nq, t_learn_q, t_faiss_q, t_faiss_q / t_learn_q, same_q ? "yes" : "NO");
    printf("             learn_catalog_topk_batch (one call) %8.3f   learn vs FAISS %.2fx; the same hits as "
           "a call each: %s\n",
           t_learn_b, t_faiss_q / t_learn_b, same_b ? "yes" : "NO");

    learn_ctx_free(ctx);
    learn_model_close(m);
    learn_catalog_close(cat);
    learn_writer_free_buffer(w, mdata);
    learn_writer_free(w);
    learn_catalog_builder_free_buffer(cb, cdata);
    learn_catalog_builder_free(cb);
    return same && same_q ? 0 : 1;
}
