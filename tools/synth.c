/* learn-cli synth: random-weight LLMs of real shapes (for benchmarks, tests and the demo model).
   The weights are random, so the embeddings mean nothing by themselves; the shapes, types and
   tokenizers are those of the named families. */
#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpe_train.h"
#include "cli.h"
#include "items.h"

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

typedef struct synth_rng {
    uint64_t s;
} synth_rng;

static uint64_t rng_next(synth_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Approximately normal (Irwin-Hall of 4 uniforms, unit variance): fast and good enough. */
static float rng_normal(synth_rng *r) {
    uint64_t x = rng_next(r);
    float s = 0.0f;
    for (int i = 0; i < 4; i++, x >>= 16) s += (float)(x & 0xffff) * (1.0f / 65536.0f);
    return (s - 2.0f) * 1.7320508f;
}

/* One tensor of random values: mean + std * N(0,1), stored as `type`. */
static int synth_tensor(learn_writer *w, convert_arena *arena, synth_rng *r, const char *name,
                        uint64_t d0, uint64_t d1, learn_type type, float mean, float std,
                        char *err, size_t errn) {
    size_t n = (size_t)(d0 * (d1 ? d1 : 1));
    float *x = (float *)malloc(n * sizeof *x);
    if (!x) {
        snprintf(err, errn, "%s: out of memory", name);
        return 1;
    }
    for (size_t i = 0; i < n; i++) x[i] = mean + std * rng_normal(r);
    uint64_t shape[2] = {d0, d1};
    int rc = convert_add_f32(w, arena, name, x, d1 ? 2 : 1, shape, type, err, errn);
    free(x);
    return rc;
}

int synth_llm(learn_writer *w, convert_arena *arena, const synth_shape *s, learn_type type,
              uint64_t seed, char *err, size_t errn) {
    synth_rng r = {seed};
    learn_writer_set_str(w, "general.architecture", s->arch, strlen(s->arch));
    learn_writer_set_str(w, "general.name", s->name, strlen(s->name));
    learn_writer_set_u32(w, "llm.vocab_size", s->n_vocab);
    learn_writer_set_u32(w, "llm.embedding_length", s->n_embd);
    learn_writer_set_u32(w, "llm.block_count", s->n_layer);
    learn_writer_set_u32(w, "llm.head_count", s->n_head);
    learn_writer_set_u32(w, "llm.head_count_kv", s->n_head_kv);
    learn_writer_set_u32(w, "llm.head_dim", s->head_dim);
    learn_writer_set_u32(w, "llm.feed_forward_length", s->n_ff);
    learn_writer_set_u32(w, "llm.context_length", s->n_ctx);
    learn_writer_set_f32(w, "llm.rope_freq_base", s->rope_theta);
    learn_writer_set_f32(w, "llm.rms_epsilon", strcmp(s->arch, "llama") == 0 ? 1e-5f : 1e-6f);
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

static const char synth_usage[] =
    "usage: learn-cli synth --shape SHAPE [--type q8_0|q4_0|f16|f32] [--seed N] -o OUT.learn\n"
    "       learn-cli synth --arch llama|qwen2|qwen3 --embd N --layers N --heads N --kv-heads N\n"
    "                       --ff N --vocab N [--head-dim N] [--context N] ... -o OUT.learn\n"
    "\n"
    "Writes a random-weight LLM (not pretrained: its embeddings carry no knowledge) of a real\n"
    "family's shape, for benchmarks and tests. Shapes: qwen2.5-0.5b, qwen3-0.6b, tinyllama-1.1b,\n"
    "llama3.2-1b. Default type q8_0, seed 1.\n"
    "  --train-tokenizer ITEMS.jsonl  give the model a byte-level BPE tokenizer of --vocab\n"
    "                                 tokens learned from the items' texts (rendered with\n"
    "                                 --template); otherwise a shape gets a byte-level\n"
    "                                 tokenizer learned from a built-in English sample\n"
    "  --template TEXT                the encoder's item template (default \"{text}\")\n";

int cmd_synth(int argc, char **argv) {
    const char *out = NULL, *shape_name = NULL, *tok_items = NULL, *tmpl = NULL;
    learn_type type = LEARN_TYPE_Q8_0;
    long seed = 1;
    synth_shape custom = {"custom", "llama", 0, 0, 0, 0, 0, 0, 0, 512, 10000.0f, 0};
    int have_custom = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            fputs(synth_usage, stdout);
            return 0;
        }
        if (!v) return cli_error("synth", "%s needs a value (see learn-cli synth --help)", a);
        i++;
        long n = 0;
        int is_num = !cli_parse_long(v, 1, 1L << 24, &n);
        if (strcmp(a, "-o") == 0) out = v;
        else if (strcmp(a, "--train-tokenizer") == 0) tok_items = v;
        else if (strcmp(a, "--template") == 0) tmpl = v;
        else if (strcmp(a, "--shape") == 0) shape_name = v;
        else if (strcmp(a, "--seed") == 0) {
            if (cli_parse_long(v, 0, 0x7fffffffL, &seed)) return cli_error("synth", "bad --seed '%s'", v);
        } else if (strcmp(a, "--type") == 0) {
            if (strcmp(v, "q8_0") == 0) type = LEARN_TYPE_Q8_0;
            else if (strcmp(v, "q4_0") == 0) type = LEARN_TYPE_Q4_0;
            else if (strcmp(v, "f16") == 0) type = LEARN_TYPE_F16;
            else if (strcmp(v, "f32") == 0) type = LEARN_TYPE_F32;
            else return cli_error("synth", "--type must be q8_0, q4_0, f16 or f32, not '%s'", v);
        } else if (strcmp(a, "--arch") == 0) {
            if (strcmp(v, "llama") && strcmp(v, "qwen2") && strcmp(v, "qwen3"))
                return cli_error("synth", "--arch must be llama, qwen2 or qwen3");
            custom.arch = strcmp(v, "llama") == 0 ? "llama" : strcmp(v, "qwen2") == 0 ? "qwen2" : "qwen3";
            have_custom = 1;
        } else if (!is_num) {
            return cli_error("synth", "unknown option %s, or '%s' is not a positive number", a, v);
        } else if (strcmp(a, "--embd") == 0) custom.n_embd = (uint32_t)n, have_custom = 1;
        else if (strcmp(a, "--layers") == 0) custom.n_layer = (uint32_t)n, have_custom = 1;
        else if (strcmp(a, "--heads") == 0) custom.n_head = (uint32_t)n, have_custom = 1;
        else if (strcmp(a, "--kv-heads") == 0) custom.n_head_kv = (uint32_t)n, have_custom = 1;
        else if (strcmp(a, "--head-dim") == 0) custom.head_dim = (uint32_t)n, have_custom = 1;
        else if (strcmp(a, "--ff") == 0) custom.n_ff = (uint32_t)n, have_custom = 1;
        else if (strcmp(a, "--vocab") == 0) custom.n_vocab = (uint32_t)n, have_custom = 1;
        else if (strcmp(a, "--context") == 0) custom.n_ctx = (uint32_t)n, have_custom = 1;
        else return cli_error("synth", "unknown option %s (see learn-cli synth --help)", a);
    }
    if (!out) return cli_error("synth", "no output given (-o OUT.learn)");
    const synth_shape *s;
    if (shape_name) {
        if (have_custom) return cli_error("synth", "--shape and explicit dimensions exclude each other");
        s = synth_find_shape(shape_name);
        if (!s) return cli_error("synth", "unknown shape '%s' (see learn-cli synth --help)", shape_name);
    } else {
        if (!custom.n_embd || !custom.n_layer || !custom.n_head || !custom.n_ff || !custom.n_vocab)
            return cli_error("synth", "give --shape, or --embd, --layers, --heads, --ff and --vocab");
        if (!custom.n_head_kv) custom.n_head_kv = custom.n_head;
        if (!custom.head_dim) custom.head_dim = custom.n_embd / custom.n_head;
        if (strcmp(custom.arch, "llama")) custom.rope_theta = 1000000.0f;
        s = &custom;
    }
    learn_lock *lock = cli_lock("synth", out);
    if (!lock) return 1;
    learn_writer *w;
    if (learn_writer_new(NULL, &w)) {
        learn_lock_release(lock);
        return cli_error("synth", "out of memory");
    }
    convert_arena arena = {NULL, 0, 0};
    char err[512];
    int rc = synth_llm(w, &arena, s, type, (uint64_t)seed, err, sizeof err);
    if (!rc) rc = synth_tokenizer(w, s, tok_items, tmpl, err, sizeof err);
    if (!rc && tmpl && learn_writer_set_str(w, "encoder.template", tmpl, strlen(tmpl)) != LEARN_OK) {
        snprintf(err, sizeof err, "%s", learn_writer_errmsg(w));
        rc = 1;
    }
    if (!rc && learn_writer_save_locked(w, lock) != LEARN_OK) {
        snprintf(err, sizeof err, "%s", learn_writer_errmsg(w));
        rc = 1;
    }
    learn_writer_free(w);
    convert_arena_free(&arena);
    learn_lock_release(lock);
    if (rc) return cli_error("synth", "%s", err);
    learn_model *m = cli_open_model("synth", out, 1);
    if (!m) return 1;
    learn_model_info in;
    learn_model_get_info(m, &in);
    fprintf(stderr, "learn-cli synth: wrote %s: %s (%s, random weights), %.1fM parameters, %.1f MB\n",
            out, s->name, learn_type_name(type), (double)in.n_params / 1e6, (double)in.file_size / 1e6);
    learn_model_close(m);
    return 0;
}
