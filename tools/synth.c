/* learn-cli synth: random-weight LLMs of real shapes (for benchmarks, tests and the demo model).
   The weights are random, so the embeddings mean nothing by themselves; the shapes, types and
   tokenizers are those of the named families. */
#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpe_train.h"
#include "items.h"
#include "util.h"

static const synth_shape synth_shapes[] = {
    /* name           arch    vocab   embd  layers heads kv  head_dim ff     ctx    theta    llama3 */
    {"qwen2.5-0.5b", "qwen2", 151936, 896, 24, 14, 2, 64, 4864, 32768, 1000000.0f, 0},
    {"qwen3-0.6b", "qwen3", 151936, 1024, 28, 16, 8, 128, 3072, 40960, 1000000.0f, 0},
    {"tinyllama-1.1b", "llama", 32000, 2048, 22, 32, 4, 64, 5632, 2048, 10000.0f, 0},
    {"llama3.2-1b", "llama", 128256, 2048, 16, 32, 8, 64, 8192, 131072, 500000.0f, 1},
};

const synth_shape *synth_find_shape(const char *name) {
    for (size_t i = 0; i < sizeof synth_shapes / sizeof synth_shapes[0]; i++)
        if (strcmp(synth_shapes[i].name, name) == 0) return &synth_shapes[i];
    return NULL;
}

/* One tensor of random values: mean + std * N(0,1), stored as `type`. */
static int synth_tensor(learn_writer *w, convert_arena *arena, util_rng *r, const char *name,
                        uint64_t d0, uint64_t d1, learn_type type, float mean, float std,
                        char *err, size_t errn) {
    size_t n = (size_t)(d0 * (d1 ? d1 : 1));
    float *x = (float *)malloc(n * sizeof *x);
    if (!x) {
        snprintf(err, errn, "%s: out of memory", name);
        return 1;
    }
    for (size_t i = 0; i < n; i++) x[i] = mean + std * util_rng_normal(r);
    uint64_t shape[2] = {d0, d1};
    int rc = convert_add_f32(w, arena, name, x, d1 ? 2 : 1, shape, type, err, errn);
    free(x);
    return rc;
}

int synth_llm(learn_writer *w, convert_arena *arena, const synth_shape *s, learn_type type,
              uint64_t seed, char *err, size_t errn) {
    util_rng r = {seed};
    /* The family's defaults for the rest (RMSNorm epsilon, the rotation's pairs). */
    const convert_llm llm = {s->arch, s->name, strlen(s->name), s->n_vocab, s->n_embd, s->n_layer,
                             s->n_head, s->n_head_kv, s->n_ff, s->n_ctx, s->head_dim, s->rope_theta,
                             strcmp(s->arch, "llama") == 0 ? 1e-5f : 1e-6f, NULL, 1};
    if (convert_set_llm(w, &llm, err, errn)) return 1;
    uint64_t e = s->n_embd, q = (uint64_t)s->n_head * s->head_dim,
             kv = (uint64_t)s->n_head_kv * s->head_dim, f = s->n_ff;
    /* Weights ~ N(0, 1/fan_in) keep activations at unit scale through random layers. */
    float se = 1.0f / sqrtf((float)e), sq = 1.0f / sqrtf((float)q), sf = 1.0f / sqrtf((float)f);
    if (synth_tensor(w, arena, &r, "token_embd.weight", s->n_vocab, e, type, 0, 1.0f, err, errn) ||
        synth_tensor(w, arena, &r, "output_norm.weight", e, 0, LEARN_TYPE_F32, 1.0f, 0.1f, err, errn))
        return 1;
    if (s->llama3_rope) {
        /* Llama 3 frequency factors: 1 for high frequencies, up to 8 for low ones. */
        float ff[512];
        for (uint32_t i = 0; i < s->head_dim / 2; i++)
            ff[i] = 1.0f + 7.0f * (float)i / (float)(s->head_dim / 2 - 1);
        uint64_t shape[1] = {s->head_dim / 2};
        if (convert_add_f32(w, arena, "rope_freqs.weight", ff, 1, shape, LEARN_TYPE_F32, err, errn)) return 1;
    }
    for (uint32_t l = 0; l < s->n_layer; l++) {
        char nm[64];
#define T(suffix, d0, d1, t, mean, std)                                                           \
    snprintf(nm, sizeof nm, "blk.%u.%s", l, suffix);                                             \
    if (synth_tensor(w, arena, &r, nm, d0, d1, t, mean, std, err, errn)) return 1
        T("attn_norm.weight", e, 0, LEARN_TYPE_F32, 1.0f, 0.1f);
        T("attn_q.weight", q, e, type, 0, se);
        T("attn_k.weight", kv, e, type, 0, se);
        T("attn_v.weight", kv, e, type, 0, se);
        if (strcmp(s->arch, "qwen2") == 0) {
            T("attn_q.bias", q, 0, LEARN_TYPE_F32, 0, 0.1f);
            T("attn_k.bias", kv, 0, LEARN_TYPE_F32, 0, 0.1f);
            T("attn_v.bias", kv, 0, LEARN_TYPE_F32, 0, 0.1f);
        }
        if (strcmp(s->arch, "qwen3") == 0) {
            T("attn_q_norm.weight", s->head_dim, 0, LEARN_TYPE_F32, 1.0f, 0.1f);
            T("attn_k_norm.weight", s->head_dim, 0, LEARN_TYPE_F32, 1.0f, 0.1f);
        }
        T("attn_output.weight", e, q, type, 0, sq);
        T("ffn_norm.weight", e, 0, LEARN_TYPE_F32, 1.0f, 0.1f);
        T("ffn_gate.weight", f, e, type, 0, se);
        T("ffn_up.weight", f, e, type, 0, se);
        T("ffn_down.weight", e, f, type, 0, sf);
#undef T
    }
    return 0;
}

/* A little English for the default tokenizer of synthetic shapes (a vocabulary that makes
   any text tokenizable; the weights are random anyway). */
static const char *const synth_sample[] = {
    "Title: Wireless Noise Cancelling Headphones - Charcoal Gray. Brand: Acme. Category: Electronics",
    "The quick brown fox jumps over the lazy dog. A journey of a thousand miles begins with one step.",
    "Lightweight running shoes for men and women, with breathable mesh and a cushioned sole.",
    "Organic green tea from the mountains: 100 bags, caffeine free, delicious hot or iced.",
    "Science fiction novel about a crew of explorers who travel beyond the edge of the galaxy.",
    "Stainless steel espresso machine with a milk frother, 15 bar pressure, 1.5 litre tank.",
};

/* Attaches a byte-level BPE tokenizer learned from the items' texts (or the built-in sample),
   its vocabulary as large as the model's (at most). */
int synth_tokenizer(learn_writer *w, const synth_shape *s, const char *items_path, const char *tmpl,
                    char *err, size_t errn) {
    item_list l;
    memset(&l, 0, sizeof l);
    const char **texts = NULL;
    size_t *lens = NULL, n;
    if (items_path) {
        FILE *f = fopen(items_path, "rb");
        if (!f) {
            snprintf(err, errn, "%s: cannot open", items_path);
            return 1;
        }
        int bad = items_load(f, items_path, tmpl ? tmpl : "{text}", 1u << 20, &l, err, errn);
        fclose(f);
        if (bad) return 1;
        n = l.n;
    } else {
        n = sizeof synth_sample / sizeof *synth_sample;
    }
    texts = (const char **)malloc((n ? n : 1) * sizeof *texts);
    lens = (size_t *)malloc((n ? n : 1) * sizeof *lens);
    int rc = 1;
    if (!texts || !lens) {
        snprintf(err, errn, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        texts[i] = items_path ? l.items[i].text : synth_sample[i];
        lens[i] = strlen(texts[i]);
    }
    uint32_t vocab = s->n_vocab < 65536 ? s->n_vocab : 65536;
    bpe_train_stats st;
    if (bpe_train(texts, lens, n, vocab, w, &st, err, errn) != LEARN_OK) goto out;
    fprintf(stderr, "learn-cli synth: tokenizer: byte-level BPE, %u tokens (%u merges) learned from %zu texts\n",
            st.n_vocab, st.n_merges, n);
    rc = 0;
out:
    free((void *)texts);
    free(lens);
    items_free(&l);
    return rc;
}
