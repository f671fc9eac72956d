/* Writes the fuzzers' seed corpora (tests/fuzz/corpus/<harness>/seed-*): tiny valid inputs of
   each format. The files are committed; rerun this only to change them (tests/fuzz/run.sh
   --seeds). Each seed is a few kilobytes at most, so that the corpora replay in milliseconds
   as ordinary tests. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "learn.h"
#include "bpe_train.h"

static const char *root = "tests/fuzz/corpus";

static void die(const char *what, const char *why) {
    fprintf(stderr, "seeds: %s: %s\n", what, why);
    exit(1);
}

static void put(const char *harness, const char *name, const void *data, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, harness);
    mkdir(root, 0755);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/seed-%s", root, harness, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) die(path, "cannot write");
}

static void put_str(const char *harness, const char *name, const char *s) { put(harness, name, s, strlen(s)); }

/* A selector byte (the harness's options), then the text. */
static void put_sel(const char *harness, const char *name, unsigned sel, const char *s) {
    char buf[1024];
    buf[0] = (char)sel;
    size_t n = strlen(s);
    if (n + 1 > sizeof buf) die(name, "too long");
    memcpy(buf + 1, s, n);
    put(harness, name, buf, n + 1);
}

static void put_writer(const char *harness, const char *name, learn_writer *w) {
    void *data;
    size_t n;
    if (learn_writer_save_memory(w, &data, &n) != LEARN_OK) die(name, learn_writer_errmsg(w));
    put(harness, name, data, n);
    learn_writer_free_buffer(w, data);
    learn_writer_free(w);
}

static learn_writer *new_writer(void) {
    learn_writer *w;
    if (learn_writer_new(NULL, &w) != LEARN_OK) die("writer", "out of memory");
    return w;
}

static unsigned long long rng = 88172645463325252ull;
static float randf(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((double)(rng >> 11) * 0x1p-53 - 0.5);
}

/* A tensor of random values (mean `mean`, spread `std`) stored as `type`. */
static void tensor(learn_writer *w, const char *name, learn_type type, uint64_t d0, uint64_t d1,
                   float std, float mean) {
    size_t n = (size_t)(d0 * (d1 ? d1 : 1));
    float *x = (float *)malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = mean + std * randf();
    size_t bytes = (size_t)learn_type_row_bytes(type, n);
    void *q = malloc(bytes);
    if (learn_quantize(type, x, q, n) != LEARN_OK) die(name, "quantize");
    uint64_t shape[2] = {d0, d1};
    if (learn_writer_add_tensor(w, name, type, d1 ? 2 : 1, shape, q, LEARN_WRITER_COPY) != LEARN_OK)
        die(name, learn_writer_errmsg(w));
    free(x);
    free(q);
}

/* Every tensor type and metadata type. */
static void seed_model_types(void) {
    learn_writer *w = new_writer();
    learn_writer_set_str(w, "general.name", "types", 5);
    learn_writer_set_u32(w, "t.u32", 7);
    learn_writer_set_i32(w, "t.i32", -7);
    learn_writer_set_u64(w, "t.u64", 1ull << 40);
    learn_writer_set_i64(w, "t.i64", -(1ll << 40));
    learn_writer_set_f32(w, "t.f32", 0.5f);
    learn_writer_set_f64(w, "t.f64", -2.25);
    learn_writer_set_bool(w, "t.bool", 1);
    learn_writer_set_str(w, "t.str", "caf\xc3\xa9", 5);
    const int32_t arr[4] = {1, -2, 3, 1 << 30};
    learn_writer_set_array(w, "t.arr_i32", LEARN_META_TYPE_I32, arr, 4);
    const double darr[2] = {1.5, -0.0};
    learn_writer_set_array(w, "t.arr_f64", LEARN_META_TYPE_F64, darr, 2);
    const char *const strs[3] = {"a", "", "xyz"};
    learn_writer_set_str_array(w, "t.arr_str", strs, 3);
    tensor(w, "f32", LEARN_TYPE_F32, 3, 5, 1, 0);
    tensor(w, "f16", LEARN_TYPE_F16, 7, 0, 1, 0);
    tensor(w, "bf16", LEARN_TYPE_BF16, 2, 2, 1, 0);
    tensor(w, "q8", LEARN_TYPE_Q8_0, 2, 32, 1, 0);
    tensor(w, "q4", LEARN_TYPE_Q4_0, 1, 64, 1, 0);
    uint64_t s1[1] = {5}, s3[3] = {2, 1, 3};
    const int8_t i8[6] = {-128, 127, 0, 1, -1, 5};
    learn_writer_add_tensor(w, "i8", LEARN_TYPE_I8, 3, s3, i8, LEARN_WRITER_COPY);
    const int32_t i32[5] = {0, 1, 2, 3, 4};
    learn_writer_add_tensor(w, "i32", LEARN_TYPE_I32, 1, s1, i32, LEARN_WRITER_COPY);
    learn_writer_add_tensor(w, "u8", LEARN_TYPE_U8, 1, s1, "hello", LEARN_WRITER_COPY);
    put_writer("model", "types.learn", w);
}

/* A SentencePiece vocabulary of n pieces (no byte tokens). */
static void spm_vocab(learn_writer *w, uint32_t n) {
    static const char *const base[] = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b", "c", "e",
                                       "h", "t", "\xE2\x96\x81t", "he", "\xE2\x96\x81the", "ab",
                                       "\342\226\201a", "bc", "<|im_end|>"};
    size_t nb = sizeof base / sizeof base[0];
    char texts[64][16];
    uint8_t text[1024];
    int32_t offs[65];
    float scores[64];
    uint8_t types[64];
    size_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *t = i < nb ? base[i] : (snprintf(texts[i], sizeof texts[i], "x%u", i), texts[i]);
        offs[i] = (int32_t)k;
        memcpy(text + k, t, strlen(t));
        k += strlen(t);
        scores[i] = -(float)i;
        types[i] = i == 0 ? 2 : (i < 3 || i == 16) ? 3 : 1;
    }
    offs[n] = (int32_t)k;
    learn_writer_set_str(w, "tokenizer.model", "spm", 3);
    learn_writer_set_i32(w, "tokenizer.bos_id", 1);
    learn_writer_set_i32(w, "tokenizer.eos_id", 2);
    learn_writer_set_i32(w, "tokenizer.unk_id", 0);
    learn_writer_set_bool(w, "tokenizer.add_bos", 1);
    uint64_t shape[1] = {k};
    learn_writer_add_tensor(w, "tokenizer.text", LEARN_TYPE_U8, 1, shape, text, LEARN_WRITER_COPY);
    shape[0] = n + 1;
    learn_writer_add_tensor(w, "tokenizer.offsets", LEARN_TYPE_I32, 1, shape, offs, LEARN_WRITER_COPY);
    shape[0] = n;
    learn_writer_add_tensor(w, "tokenizer.scores", LEARN_TYPE_F32, 1, shape, scores, LEARN_WRITER_COPY);
    learn_writer_add_tensor(w, "tokenizer.types", LEARN_TYPE_U8, 1, shape, types, LEARN_WRITER_COPY);
}

/* A tiny LLM: 1 layer, n_embd 32, 2 heads (1 KV head), n_ff 64, vocabulary 40. */
static void llm(learn_writer *w, const char *arch, learn_type wt) {
    const uint32_t V = 40, E = 32, H = 2, KV = 1, FF = 64, HD = E / H;
    learn_writer_set_str(w, "general.architecture", arch, strlen(arch));
    learn_writer_set_u32(w, "llm.vocab_size", V);
    learn_writer_set_u32(w, "llm.embedding_length", E);
    learn_writer_set_u32(w, "llm.block_count", 1);
    learn_writer_set_u32(w, "llm.head_count", H);
    learn_writer_set_u32(w, "llm.head_count_kv", KV);
    learn_writer_set_u32(w, "llm.feed_forward_length", FF);
    learn_writer_set_u32(w, "llm.context_length", 64);
    learn_writer_set_f32(w, "llm.rms_epsilon", 1e-5f);
    tensor(w, "token_embd.weight", wt, V, E, 1, 0);
    tensor(w, "output_norm.weight", LEARN_TYPE_F32, E, 0, 0.2f, 1);
    tensor(w, "blk.0.attn_norm.weight", LEARN_TYPE_F32, E, 0, 0.2f, 1);
    tensor(w, "blk.0.attn_q.weight", wt, H * HD, E, 0.3f, 0);
    tensor(w, "blk.0.attn_k.weight", wt, KV * HD, E, 0.3f, 0);
    tensor(w, "blk.0.attn_v.weight", wt, KV * HD, E, 0.3f, 0);
    if (!strcmp(arch, "qwen2")) {
        tensor(w, "blk.0.attn_q.bias", LEARN_TYPE_F32, H * HD, 0, 0.1f, 0);
        tensor(w, "blk.0.attn_k.bias", LEARN_TYPE_F32, KV * HD, 0, 0.1f, 0);
        tensor(w, "blk.0.attn_v.bias", LEARN_TYPE_F32, KV * HD, 0, 0.1f, 0);
    }
    if (!strcmp(arch, "qwen3")) {
        tensor(w, "blk.0.attn_q_norm.weight", LEARN_TYPE_F32, HD, 0, 0.2f, 1);
        tensor(w, "blk.0.attn_k_norm.weight", LEARN_TYPE_F32, HD, 0, 0.2f, 1);
    }
    tensor(w, "blk.0.attn_output.weight", wt, E, H * HD, 0.3f, 0);
    tensor(w, "blk.0.ffn_norm.weight", LEARN_TYPE_F32, E, 0, 0.2f, 1);
    tensor(w, "blk.0.ffn_gate.weight", wt, FF, E, 0.3f, 0);
    tensor(w, "blk.0.ffn_up.weight", wt, FF, E, 0.3f, 0);
    tensor(w, "blk.0.ffn_down.weight", wt, E, FF, 0.3f, 0);
    spm_vocab(w, V);
}

/* Towers over d_in = 32: d_model 16, 1 layer, 2 heads, d_ff 32, d_out 8. */
static void towers(learn_writer *w, int pre_norm, uint32_t max_pos) {
    const uint32_t DI = 32, DM = 16, FF = 32, DO = 8;
    learn_writer_set_u32(w, "tower.d_in", DI);
    learn_writer_set_u32(w, "tower.d_model", DM);
    learn_writer_set_u32(w, "tower.n_layer", 1);
    learn_writer_set_u32(w, "tower.n_head", 2);
    learn_writer_set_u32(w, "tower.d_ff", FF);
    learn_writer_set_u32(w, "tower.d_out", DO);
    if (pre_norm) learn_writer_set_str(w, "tower.norm", "pre", 3);
    if (max_pos) {
        learn_writer_set_u32(w, "tower.max_positions", max_pos);
        learn_writer_set_str(w, "tower.act", "gelu_tanh", 9);
        tensor(w, "tower.pos_embd.weight", LEARN_TYPE_F32, max_pos, DM, 0.1f, 0);
    }
    tensor(w, "tower.adaptor.weight", LEARN_TYPE_F16, DM, DI, 0.3f, 0);
    tensor(w, "tower.adaptor.bias", LEARN_TYPE_F32, DM, 0, 0.1f, 0);
    static const char *const mats[] = {"attn_q", "attn_k", "attn_v", "attn_output"};
    char name[64];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "tower.blk.0.%s.weight", mats[i]);
        tensor(w, name, LEARN_TYPE_F32, DM, DM, 0.3f, 0);
        snprintf(name, sizeof name, "tower.blk.0.%s.bias", mats[i]);
        tensor(w, name, LEARN_TYPE_F32, DM, 0, 0.1f, 0);
    }
    tensor(w, "tower.blk.0.attn_norm.weight", LEARN_TYPE_F32, DM, 0, 0.1f, 1);
    tensor(w, "tower.blk.0.attn_norm.bias", LEARN_TYPE_F32, DM, 0, 0.1f, 0);
    tensor(w, "tower.blk.0.ffn_up.weight", LEARN_TYPE_F32, FF, DM, 0.3f, 0);
    tensor(w, "tower.blk.0.ffn_up.bias", LEARN_TYPE_F32, FF, 0, 0.1f, 0);
    tensor(w, "tower.blk.0.ffn_down.weight", LEARN_TYPE_F32, DM, FF, 0.3f, 0);
    tensor(w, "tower.blk.0.ffn_down.bias", LEARN_TYPE_F32, DM, 0, 0.1f, 0);
    tensor(w, "tower.blk.0.ffn_norm.weight", LEARN_TYPE_F32, DM, 0, 0.1f, 1);
    tensor(w, "tower.blk.0.ffn_norm.bias", LEARN_TYPE_F32, DM, 0, 0.1f, 0);
    if (pre_norm) {
        tensor(w, "tower.out_norm.weight", LEARN_TYPE_F32, DM, 0, 0.1f, 1);
        tensor(w, "tower.out_norm.bias", LEARN_TYPE_F32, DM, 0, 0.1f, 0);
    }
    tensor(w, "tower.proj.weight", LEARN_TYPE_F32, DO, DM, 0.3f, 0);
    tensor(w, "tower.proj.bias", LEARN_TYPE_F32, DO, 0, 0.1f, 0);
    tensor(w, "tower.input_mean", LEARN_TYPE_F32, DI, 0, 0.1f, 0);
    tensor(w, "tower.input_scale", LEARN_TYPE_F32, DI, 0, 0.1f, 1);
}

static void seed_models(void) {
    seed_model_types();
    learn_writer *w = new_writer();
    llm(w, "llama", LEARN_TYPE_Q8_0);
    put_writer("model", "llama-q8_0.learn", w);
    w = new_writer();
    llm(w, "qwen2", LEARN_TYPE_Q4_0);
    towers(w, 0, 0);
    put_writer("model", "qwen2-q4_0-towers.learn", w);
    w = new_writer();
    llm(w, "qwen3", LEARN_TYPE_F16);
    put_writer("model", "qwen3-f16.learn", w);
    w = new_writer();
    towers(w, 1, 4);
    put_writer("model", "towers-pre-pos.learn", w);
    w = new_writer();
    static const char *const texts[] = {"the cat sat on the mat", "caf\xc3\xa9 au lait, the end"};
    size_t lens[2] = {strlen(texts[0]), strlen(texts[1])};
    char err[256];
    if (bpe_train(texts, lens, 2, 270, w, NULL, err, sizeof err) != LEARN_OK) die("bpe_train", err);
    put_writer("model", "bpe-tokenizer.learn", w);
}

static void seed_catalogs(void) {
    static const struct {
        const char *name;
        uint32_t n, dc, di;
    } cats[] = {{"3x4x2.learn", 3, 4, 2}, {"12x8x3.learn", 12, 8, 3}, {"shard-5x4x2.learn", 5, 4, 2}};
    /* The second and third carry a model's fingerprints, content and towers both non-zero: a
       file with one key of each part. */
    learn_writer *w = new_writer();
    learn_writer_set_u32(w, "seed.content", 1);
    learn_writer_set_u32(w, "tower.seed", 2);
    void *mdata;
    size_t mn;
    learn_model *m;
    if (learn_writer_save_memory(w, &mdata, &mn) != LEARN_OK) die("save", learn_writer_errmsg(w));
    char merr[LEARN_ERRMSG_SIZE];
    if (learn_model_open_memory(mdata, mn, NULL, &m, merr, sizeof merr) != LEARN_OK) die("model", merr);
    for (int c = 0; c < 3; c++) {
        learn_catalog_builder *b;
        if (learn_catalog_builder_new(c ? m : NULL, cats[c].dc, cats[c].di, &b) != LEARN_OK) die("builder", "");
        /* The third is part 1 of 3 of a list of 16 items (its items 5..9). */
        learn_catalog_shard shard = {1, 3, 16, 0xabcdef, 1700000000.0, 1700000004.5};
        if (c == 2 && learn_catalog_builder_set_shard(b, &shard) != LEARN_OK) die("shard", learn_catalog_builder_errmsg(b));
        for (uint32_t i = 0; i < cats[c].n; i++) {
            char id[32];
            snprintf(id, sizeof id, i % 3 ? "item-%u" : "P%05u", i * 7);
            float content[8], item[3], ss = 0;
            for (uint32_t e = 0; e < cats[c].dc; e++) content[e] = randf();
            for (uint32_t e = 0; e < cats[c].di; e++) item[e] = randf(), ss += item[e] * item[e];
            for (uint32_t e = 0; e < cats[c].di; e++) item[e] /= sqrtf(ss);
            if (learn_catalog_builder_add(b, id, strlen(id), content, item) != LEARN_OK)
                die("add", learn_catalog_builder_errmsg(b));
        }
        void *data;
        size_t n;
        if (learn_catalog_builder_save_memory(b, &data, &n) != LEARN_OK) die("save", learn_catalog_builder_errmsg(b));
        put("catalog", cats[c].name, data, n);
        learn_catalog_builder_free_buffer(b, data);
        learn_catalog_builder_free(b);
    }
    learn_model_close(m);
    learn_writer_free_buffer(w, mdata);
    learn_writer_free(w);
}

/* Byte 0 of a tokenizer seed: vocabulary (mod 10) + 10 x flags. */
static void seed_texts(void) {
    static const struct {
        const char *name;
        unsigned sel;
        const char *text;
    } t[] = {
        {"spm-bytes", 0, "abc the caf\xc3\xa9 \xe4\xb8\xad z\x80\xff"},
        {"spm-special", 20, "<|user|>ab<tag> c <s>"},
        {"spm-ws", 1, "   the  abc   e  "},
        {"gpt2", 2, "Title: Acme Wireless Headphones. I'll don't 123456 \xf0\x9f\x98\x80"},
        {"llama3", 3, "the quick brown fox\n\n  x 1234567"},
        {"qwen2-nfc", 4, "cafe\xcc\x81 \xe4\xb8\xad\xe6\x96\x87 12"},
        {"falcon", 5, "hello, world!! 3.14"},
        {"starcoder", 6, "def f(x):\n\treturn x  # c"},
        {"deepseek", 7, "\xd0\xbf\xd1\x80\xd0\xb8 \xd0\xb2\xd0\xb5\xd1\x82 abc"},
        {"deepseek-coder", 8, "a+b=c; {x}[y]"},
        {"default", 9, "\xe2\x80\x82 <|endoftext|> end"},
        {"special", 29, "<|endoftext|>the<|endoftext|>"},
        {"bad-utf8", 2, "\xc0\xaf \xed\xa0\x80 \xe2\x80 \xff"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) put_sel("tokenizer", t[i].name, t[i].sel, t[i].text);
}

/* Byte 0 of a JSON seed: bit 0 a depth limit of 4, bit 1 duplicate keys allowed. */
static void seed_json(void) {
    put_sel("json", "object", 0, "{\"a\": [1, 2.5, -3e2, true, false, null], \"b\": {\"c\": \"\\u00e9\\n\"}}");
    put_sel("json", "strings", 2, "[\"\\ud83d\\ude00\", \"caf\xc3\xa9\", \"\", \"\\\"\\\\\\/\\b\\f\\r\\t\"]");
    put_sel("json", "bom-dup", 2, "\xef\xbb\xbf{\"k\": 1, \"k\": 2}");
    put_sel("json", "numbers", 0, "[0, -0, 1e308, 1e-320, 123456789012345678901, 0.1e+2]");
    put_sel("json", "nested", 1, "[[[[[{\"x\": [[]]}]]]]]");
    put_sel("json", "nul-key", 0, "{\"a\\u0000b\": \"x\\u0000\"}");
}

static void seed_records(void) {
    put_str("items", "template", "Title: {title}. Brand: {brand}. Tags: {tags}\n"
            "{\"id\": \"P1\", \"title\": \"Tent\", \"brand\": \"Acme\", \"tags\": [\"a\", 1, true]}\n"
            "\r\n{\"id\": 42, \"title\": \"T\\u00e9\", \"brand\": \"\", \"tags\": []}\r\n");
    put_str("items", "text", "{text}\n\xef\xbb\xbf{\"id\": \"x\", \"text\": \"hello\"}\n  \n{\"id\": \"y\", \"text\": 1.5}\n");
    put_str("interactions", "tsv", "u1\ta\t1\nu1\tb\t2\nu2\tc\t3.5\r\n\nu1\tzz\t4\nu2\tP00001\t-1e3\nu1\t\xc3\xa9\t2\n");
    put_str("interactions", "bom", "\xef\xbb\xbfu\te\t0\nu\td\t0\nu\tc\t0\n");
    put_str("csv", "movies", "\xef\xbb\xbfmovieId,title,genres\n1,\"Toy Story (1995)\",Adventure|Animation\r\n"
            "2,\"a \"\"quoted\"\", title\",Comedy\n3,\"two\nlines\",\n");
    put_str("csv", "ratings", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n");
}

/* ---- GGUF ---- */

typedef struct gbuf {
    uint8_t p[8192];
    size_t n;
} gbuf;

static void g_bytes(gbuf *g, const void *d, size_t n) {
    if (g->n + n > sizeof g->p) die("gguf", "too big");
    memcpy(g->p + g->n, d, n);
    g->n += n;
}
static void g_u32(gbuf *g, uint32_t v) { g_bytes(g, &v, 4); }
static void g_u64(gbuf *g, uint64_t v) { g_bytes(g, &v, 8); }
static void g_str(gbuf *g, const char *s) {
    g_u64(g, strlen(s));
    g_bytes(g, s, strlen(s));
}
static void g_kv_str(gbuf *g, const char *k, const char *v) {
    g_str(g, k);
    g_u32(g, 8);
    g_str(g, v);
}
static void g_kv_u32(gbuf *g, const char *k, uint32_t v) {
    g_str(g, k);
    g_u32(g, 4);
    g_u32(g, v);
}
static void g_kv_strs(gbuf *g, const char *k, const char *const *v, size_t n) {
    g_str(g, k);
    g_u32(g, 9);
    g_u32(g, 8);
    g_u64(g, n);
    for (size_t i = 0; i < n; i++) g_str(g, v[i]);
}

/* A vocabulary GGUF (spm "llama" or bpe "gpt2") with one f32 tensor [4, 2]. */
static void seed_gguf(const char *name, int spm) {
    static const char *const spm_tok[] = {"<unk>", "<s>", "</s>", "<0x41>", "\xE2\x96\x81", "a",
                                          "b", "\342\226\201a", "ab"};
    static const char *const bpe_tok[] = {"a", "b", "c", "\xC4\xA0", "ab", "\304\240a", "abc",
                                          "<|endoftext|>", "d", "e", "f", "g"};
    static const char *const merges[] = {"a b", "\xC4\xA0 a", "ab c"};
    const char *const *tok = spm ? spm_tok : bpe_tok;
    size_t nt = spm ? 9 : 12;
    gbuf g;
    g.n = 0;
    g_u32(&g, 0x46554747);
    g_u32(&g, 3);
    g_u64(&g, 1);                  /* tensors */
    g_u64(&g, spm ? 7 : 6);        /* metadata */
    g_kv_str(&g, "general.architecture", "llama");
    g_kv_str(&g, "tokenizer.ggml.model", spm ? "llama" : "gpt2");
    g_kv_strs(&g, "tokenizer.ggml.tokens", tok, nt);
    g_kv_u32(&g, "tokenizer.ggml.bos_token_id", 1);
    g_str(&g, "tokenizer.ggml.token_type");
    g_u32(&g, 9);
    g_u32(&g, 5);
    g_u64(&g, nt);
    for (size_t i = 0; i < nt; i++) g_u32(&g, spm ? (i == 0 ? 2 : i < 3 ? 3 : i == 3 ? 6 : 1) : (i == 7 ? 3 : 1));
    if (spm) {
        g_str(&g, "tokenizer.ggml.scores");
        g_u32(&g, 9);
        g_u32(&g, 6);
        g_u64(&g, nt);
        for (size_t i = 0; i < nt; i++) {
            float s = -(float)i;
            g_bytes(&g, &s, 4);
        }
        g_kv_u32(&g, "general.alignment", 32);
    } else {
        g_kv_strs(&g, "tokenizer.ggml.merges", merges, 3);
    }
    g_str(&g, "w");
    g_u32(&g, 2);
    g_u64(&g, 4);
    g_u64(&g, 2);
    g_u32(&g, 0); /* f32 */
    g_u64(&g, 0);
    while (g.n % 32) g_bytes(&g, "", 1);
    for (int i = 0; i < 8; i++) {
        float f = (float)(i + 1);
        g_bytes(&g, &f, 4);
    }
    put("gguf", name, g.p, g.n);
}

static void seed_safetensors(void) {
    const char *hdr = "{\"__metadata__\": {\"format\": \"pt\"}, "
                      "\"a\": {\"dtype\": \"F32\", \"shape\": [2, 2], \"data_offsets\": [0, 16]}, "
                      "\"b\": {\"dtype\": \"F16\", \"shape\": [3], \"data_offsets\": [16, 22]}, "
                      "\"c\": {\"dtype\": \"BF16\", \"shape\": [], \"data_offsets\": [22, 24]}, "
                      "\"d\": {\"dtype\": \"I64\", \"shape\": [1, 1], \"data_offsets\": [24, 32]}}";
    uint8_t buf[1024];
    uint64_t hl = strlen(hdr);
    while (hl % 8) hl++;
    memcpy(buf, &hl, 8);
    memset(buf + 8, ' ', hl);
    memcpy(buf + 8, hdr, strlen(hdr));
    size_t n = 8 + hl;
    float f[4] = {1, -2, 0.5f, 3};
    memcpy(buf + n, f, 16);
    const uint16_t h[4] = {0x3c00, 0xc000, 0x7bff, 0x3f80};
    memcpy(buf + n + 16, h, 8);
    int64_t i64 = -5;
    memcpy(buf + n + 24, &i64, 8);
    put("safetensors", "four.safetensors", buf, n + 32);
}

int main(int argc, char **argv) {
    if (argc > 1) root = argv[1];
    seed_models();
    seed_catalogs();
    seed_texts();
    seed_json();
    seed_records();
    seed_gguf("spm.gguf", 1);
    seed_gguf("bpe.gguf", 0);
    seed_safetensors();
    return 0;
}
