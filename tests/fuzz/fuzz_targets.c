/* The bodies of the fuzz harnesses (RELIABILITY.md G): one function per input format,
   fuzz_<name>(data, size), included by the libFuzzer mains (tests/fuzz/fuzz_main.c) and by the
   Check suite that replays the committed corpora (tests/test_fuzz_corpus.c).

   Each body feeds the bytes to a parser and, when they are accepted, walks everything the
   parser hands out (touching every byte it points at, so that ASan sees an out-of-bounds view)
   and checks the promises of the API: statuses in range, a message on failure, results
   consistent with each other (a found id gives its index back, top-K sorted and complete, a
   tokenization fits where it said it would, text round trips). A broken promise prints what
   and where, then aborts: a crash for libFuzzer, an error for Check.

   Needs learn.h and the tools' headers; the runtime and the tool objects are linked (or, in the
   test runner, already in the translation unit). */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn.h"
#include "bpe_train.h"
#include "data.h"
#include "gguf.h"
#include "interactions.h"
#include "items.h"
#include "json.h"
#include "safetensors.h"
#include "tokimport.h"

/* The input being replayed, for messages (the corpus suite sets it). */
static const char *fuzz_input_name = "(fuzzer input)";

#define FUZZ_ASSERT(cond, ...)                                                                    \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            fprintf(stderr, "%s:%d: %s: broken promise: %s: ", __FILE__, __LINE__, __func__,     \
                    #cond);                                                                       \
            fprintf(stderr, __VA_ARGS__);                                                         \
            fprintf(stderr, " (input %s)\n", fuzz_input_name);                                   \
            abort();                                                                              \
        }                                                                                         \
    } while (0)

/* A status is one of the documented codes; a failure left a message. */
#define FUZZ_STATUS(st, err)                                                                      \
    do {                                                                                          \
        FUZZ_ASSERT((st) <= 0 && (st) >= LEARN_ERR_STATE, "status %d", (int)(st));               \
        if ((st) != LEARN_OK) FUZZ_ASSERT((err)[0] != 0, "status %d without a message", (int)(st)); \
    } while (0)

/* Reads every byte of p[0..n), so that ASan checks the range (into a sum the compiler cannot
   drop). */
static volatile unsigned fuzz_sink;
static void fuzz_touch(const void *p, size_t n) {
    const volatile uint8_t *b = (const volatile uint8_t *)p;
    unsigned s = 0;
    for (size_t i = 0; i < n; i++) s += b[i];
    fuzz_sink += s;
}

/* A 64-byte aligned copy (models and catalogs are used in place); free() it. */
static uint8_t *fuzz_aligned_copy(const uint8_t *d, size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 1)) return NULL;
    if (n) memcpy(p, d, n);
    return (uint8_t *)p;
}

/* A stream over the bytes (fmemopen refuses size 0 on some libcs). */
static FILE *fuzz_stream(const uint8_t *d, size_t n) {
    return n ? fmemopen((void *)d, n, "rb") : fopen("/dev/null", "rb");
}

static int fuzz_utf8_valid(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], len, min, cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) len = 2, min = 0x80;
        else if (c >= 0xe0 && c <= 0xef) len = 3, min = 0x800;
        else if (c >= 0xf0 && c <= 0xf4) len = 4, min = 0x10000;
        else return 0;
        if (i + len > n) return 0;
        cp = c & (0x3fu >> (len - 1));
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += len;
    }
    return 1;
}

/* ==== Models: what a context can do with any model the loader accepts ==== */

/* Tokenizes and detokenizes a short text with the model's tokenizer. */
static void fuzz_use_tokenizer(learn_ctx *ctx, const learn_model *m) {
    learn_tokenizer_info ti;
    if (learn_tokenizer_get_info(m, &ti) != LEARN_OK) return;
    FUZZ_ASSERT(ti.n_vocab > 0, "a tokenizer without tokens");
    for (uint32_t i = 0; i < ti.n_vocab && i < 300; i++) {
        const char *text;
        size_t len;
        learn_token_kind kind;
        FUZZ_ASSERT(learn_token_get_text(m, (int32_t)i, &text, &len) == LEARN_OK, "token %u", i);
        fuzz_touch(text, len);
        FUZZ_ASSERT(learn_token_get_kind(m, (int32_t)i, &kind) == LEARN_OK, "token %u", i);
    }
    const char *text;
    FUZZ_ASSERT(learn_token_get_text(m, (int32_t)ti.n_vocab, &text, NULL) == LEARN_ERR_ARG, "id n_vocab");
    static const char sample[] = "Title: caf\xc3\xa9 <s> 12  x\xe2\x80";
    int32_t ids[128];
    size_t n;
    learn_status st = learn_tokenize(ctx, sample, sizeof sample - 1, LEARN_TOKENIZE_ADD_SPECIAL |
                                     LEARN_TOKENIZE_PARSE_SPECIAL, ids, 128, &n);
    FUZZ_STATUS(st, learn_ctx_errmsg(ctx));
    if (st != LEARN_OK) return;
    char out[1024];
    size_t len;
    st = learn_detokenize(ctx, ids, n, out, sizeof out, &len);
    FUZZ_ASSERT(st == LEARN_OK || st == LEARN_ERR_BUFFER, "detokenize: %s", learn_ctx_errmsg(ctx));
}

/* Runs a few token ids, and a text, through the LLM. */
static void fuzz_use_llm(learn_ctx *ctx, const learn_model_info *info) {
    if (!info->arch[0] || info->n_vocab == 0) return;
    int32_t ids[3] = {0, (int32_t)(info->n_vocab - 1), (int32_t)(1 % info->n_vocab)};
    const int32_t *rows[2] = {ids, ids + 1};
    size_t lens[2] = {3, 2};
    float *out = (float *)malloc(2 * (size_t)info->n_embd * sizeof(float));
    if (!out) return;
    learn_status st = learn_encode_ids(ctx, 2, rows, lens, out);
    FUZZ_STATUS(st, learn_ctx_errmsg(ctx));
    if (st == LEARN_OK) fuzz_touch(out, 2 * (size_t)info->n_embd * sizeof(float));
    const char *text = "ab c";
    st = learn_encode(ctx, 1, &text, NULL, out);
    FUZZ_STATUS(st, learn_ctx_errmsg(ctx));
    free(out);
}

/* Item and user embeddings (towers, or the passthrough without them). */
static void fuzz_use_towers(learn_ctx *ctx, const learn_model *m) {
    learn_towers_info ti;
    if (learn_towers_get_info(m, &ti) != LEARN_OK || ti.d_in == 0 || ti.d_out == 0) return;
    size_t n = 3;
    float *content = (float *)malloc(n * ti.d_in * sizeof(float));
    float *out = (float *)malloc(n * ti.d_out * sizeof(float));
    if (content && out) {
        for (size_t i = 0; i < n * ti.d_in; i++) content[i] = (float)((i * 37) % 11) / 11.0f - 0.4f;
        learn_status st = learn_item_embed(ctx, n, content, out);
        FUZZ_STATUS(st, learn_ctx_errmsg(ctx));
        st = learn_user_embed(ctx, n, content, out);
        FUZZ_STATUS(st, learn_ctx_errmsg(ctx));
        learn_user_state *us = NULL;
        st = learn_user_state_new(ctx, 2, &us);
        FUZZ_STATUS(st, learn_ctx_errmsg(ctx));
        if (st == LEARN_OK) {
            for (size_t i = 0; i < n; i++) {
                st = learn_user_state_append(ctx, us, content + i * ti.d_in);
                FUZZ_STATUS(st, learn_ctx_errmsg(ctx));
            }
            if (learn_user_state_len(us)) {
                st = learn_user_state_embedding(us, out);
                FUZZ_ASSERT(st == LEARN_OK || st == LEARN_ERR_STATE, "embedding: %d", (int)st);
            }
        }
        learn_user_state_free(us);
    }
    free(content);
    free(out);
}

/* Everything the accessors give for an accepted model stays inside the bytes and agrees. */
static void fuzz_walk_model(const learn_model *m, const uint8_t *base, size_t size) {
    learn_model_info info;
    FUZZ_ASSERT(learn_model_get_info(m, &info) == LEARN_OK, "get_info");
    FUZZ_ASSERT(info.file_size == size, "file size %llu", (unsigned long long)info.file_size);
    FUZZ_ASSERT(info.name && info.arch, "NULL strings");
    fuzz_touch(info.name, strlen(info.name));
    for (uint32_t i = 0; i < info.n_tensors; i++) {
        learn_tensor_info t, u;
        FUZZ_ASSERT(learn_model_tensor(m, i, &t) == LEARN_OK, "tensor %u", i);
        FUZZ_ASSERT(t.n_dims >= 1 && t.n_dims <= LEARN_MAX_DIMS, "tensor %u: %u dims", i, t.n_dims);
        FUZZ_ASSERT(t.offset <= size && t.size <= size - t.offset, "tensor %s outside the file", t.name);
        FUZZ_ASSERT((const uint8_t *)t.data == base + t.offset, "tensor %s: data pointer", t.name);
        fuzz_touch(t.data, (size_t)t.size);
        FUZZ_ASSERT(learn_model_tensor_find(m, t.name, &u) == LEARN_OK && u.offset == t.offset,
                    "find_tensor(%s)", t.name);
    }
    learn_tensor_info t;
    FUZZ_ASSERT(learn_model_tensor(m, info.n_tensors, &t) != LEARN_OK, "tensor n_tensors");
    for (uint32_t i = 0; i < info.n_meta; i++) {
        learn_meta_info mi;
        uint32_t idx;
        FUZZ_ASSERT(learn_model_meta(m, i, &mi) == LEARN_OK, "meta %u", i);
        FUZZ_ASSERT(learn_model_meta_find(m, mi.key, &idx) == LEARN_OK && idx == i, "meta_find(%s)", mi.key);
        uint32_t u32;
        uint64_t u64;
        int64_t i64;
        float f32;
        double f64;
        int b;
        const char *s;
        size_t len;
        learn_model_meta_u32(m, mi.key, &u32);
        learn_model_meta_u64(m, mi.key, &u64);
        learn_model_meta_i64(m, mi.key, &i64);
        learn_model_meta_f32(m, mi.key, &f32);
        learn_model_meta_f64(m, mi.key, &f64);
        learn_model_meta_bool(m, mi.key, &b);
        if (learn_model_meta_str(m, mi.key, &s, &len) == LEARN_OK) {
            FUZZ_ASSERT(len == mi.count, "string length");
            fuzz_touch(s, len + 1);
        }
        if (mi.type == LEARN_META_TYPE_ARR) {
            uint64_t last = mi.count ? mi.count - 1 : 0, at[3] = {0, last, mi.count};
            for (int k = 0; k < 3; k++) {
                learn_status st;
                if (mi.elem_type == LEARN_META_TYPE_STR) {
                    st = learn_model_meta_arr_str(m, mi.key, at[k], &s, &len);
                    if (st == LEARN_OK) fuzz_touch(s, len + 1);
                } else {
                    st = learn_model_meta_arr_f64(m, mi.key, at[k], &f64);
                    learn_model_meta_arr_i64(m, mi.key, at[k], &i64);
                }
                if (at[k] >= mi.count) FUZZ_ASSERT(st != LEARN_OK, "array %s: element %llu of %llu",
                                                   mi.key, (unsigned long long)at[k],
                                                   (unsigned long long)mi.count);
            }
        }
    }
    char err[LEARN_ERRMSG_SIZE] = "";
    uint64_t n_checked;
    learn_status st = learn_model_scan(m, &n_checked, err, sizeof err);
    FUZZ_ASSERT(st == LEARN_OK || st == LEARN_ERR_NUMERIC, "scan: %d %s", (int)st, err);
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = 1;
    learn_ctx *ctx;
    st = learn_ctx_new(m, &cp, &ctx);
    FUZZ_ASSERT(st == LEARN_OK, "ctx_new: %d", (int)st);
    fuzz_use_tokenizer(ctx, m);
    fuzz_use_llm(ctx, &info);
    fuzz_use_towers(ctx, m);
    learn_ctx_free(ctx);
}

/* Model files from memory (RELIABILITY A). The checksum is not verified, so that mutations
   reach the structural checks; accepted files are then opened again with it. */
static int fuzz_model(const uint8_t *d, size_t n) {
    uint8_t *buf = fuzz_aligned_copy(d, n);
    if (!buf) return 0;
    learn_model_params p = learn_model_default_params();
    p.verify_checksum = 0;
    learn_model *m = NULL;
    char err[LEARN_ERRMSG_SIZE] = "";
    learn_status st = learn_model_open_memory(buf, n, &p, &m, err, sizeof err);
    FUZZ_STATUS(st, err);
    FUZZ_ASSERT((st == LEARN_OK) == (m != NULL), "status %d with model %p", (int)st, (void *)m);
    if (st == LEARN_OK) {
        fuzz_walk_model(m, buf, n);
        learn_model_close(m);
        p.verify_checksum = 1;
        st = learn_model_open_memory(buf, n, &p, &m, err, sizeof err);
        FUZZ_ASSERT(st == LEARN_OK || st == LEARN_ERR_CHECKSUM, "with the checksum: %d %s", (int)st, err);
        learn_model_close(m);
    }
    free(buf);
    return 0;
}

/* ==== Catalogs ==== */

/* A model to check catalogs against and a context for top-K. */
static learn_model *fuzz_cat_model;
static learn_ctx *fuzz_cat_ctx;
static void *fuzz_cat_model_mem;

static void fuzz_catalog_init(void) {
    if (fuzz_cat_ctx) return;
    learn_writer *w;
    FUZZ_ASSERT(learn_writer_new(NULL, &w) == LEARN_OK, "writer");
    static const float x[32] = {1};
    uint64_t shape[1] = {32};
    learn_writer_add_tensor(w, "content.x", LEARN_TYPE_F32, 1, shape, x, 0);
    size_t size;
    void *mem;
    FUZZ_ASSERT(learn_writer_save_memory(w, &mem, &size) == LEARN_OK, "save");
    fuzz_cat_model_mem = fuzz_aligned_copy((const uint8_t *)mem, size);
    learn_writer_free_buffer(w, mem);
    learn_writer_free(w);
    FUZZ_ASSERT(learn_model_open_memory(fuzz_cat_model_mem, size, NULL, &fuzz_cat_model, NULL, 0) == LEARN_OK, "open");
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = 1;
    FUZZ_ASSERT(learn_ctx_new(fuzz_cat_model, &cp, &fuzz_cat_ctx) == LEARN_OK, "ctx");
}

/* Top-K for one query: the right count, best first, ties by index, nothing excluded. */
static void fuzz_check_topk(const learn_catalog *cat, const learn_catalog_info *ci, const float *q,
                            uint32_t k, const uint32_t *excl, size_t n_excl) {
    learn_hit *hits = (learn_hit *)malloc((size_t)k * sizeof *hits);
    if (!hits) return;
    size_t got = 0;
    learn_status st = learn_catalog_topk(fuzz_cat_ctx, cat, q, k, excl, n_excl, hits, &got);
    FUZZ_ASSERT(st == LEARN_OK, "topk k=%u: %d %s", k, (int)st, learn_ctx_errmsg(fuzz_cat_ctx));
    size_t left = ci->n_items;
    for (uint32_t i = 0; i < ci->n_items; i++) {
        int ex = 0;
        for (size_t j = 0; j < n_excl; j++) ex |= excl[j] == i;
        left -= (size_t)ex;
    }
    FUZZ_ASSERT(got == (left < k ? left : k), "topk k=%u: %zu hits of %zu items left", k, got, left);
    for (size_t i = 0; i < got; i++) {
        FUZZ_ASSERT(hits[i].index < ci->n_items, "hit index %u", hits[i].index);
        for (size_t j = 0; j < n_excl; j++) FUZZ_ASSERT(hits[i].index != excl[j], "excluded %u", excl[j]);
        if (i) FUZZ_ASSERT(hits[i - 1].score > hits[i].score ||
                           (hits[i - 1].score == hits[i].score && hits[i - 1].index < hits[i].index),
                           "hits %zu and %zu out of order", i - 1, i);
    }
    free(hits);
}

/* Catalog files from memory (RELIABILITY E): open, look up every id, read contents, top-K. */
static int fuzz_catalog(const uint8_t *d, size_t n) {
    fuzz_catalog_init();
    uint8_t *buf = fuzz_aligned_copy(d, n);
    if (!buf) return 0;
    learn_model_params p = learn_model_default_params();
    p.verify_checksum = 0;
    learn_catalog *cat = NULL;
    char err[LEARN_ERRMSG_SIZE] = "";
    learn_status st = learn_catalog_open_memory(buf, n, &p, &cat, err, sizeof err);
    FUZZ_STATUS(st, err);
    FUZZ_ASSERT((st == LEARN_OK) == (cat != NULL), "status %d with catalog %p", (int)st, (void *)cat);
    if (st != LEARN_OK) {
        free(buf);
        return 0;
    }
    learn_catalog_info ci;
    FUZZ_ASSERT(learn_catalog_get_info(cat, &ci) == LEARN_OK, "info");
    FUZZ_ASSERT(ci.n_items > 0 && ci.d_content > 0 && ci.d_item > 0, "empty dimensions");
    float *content = (float *)malloc((size_t)ci.d_content * sizeof(float));
    for (uint32_t i = 0; i < ci.n_items && content; i++) {
        const char *id;
        size_t len;
        uint32_t idx;
        FUZZ_ASSERT(learn_catalog_id(cat, i, &id, &len) == LEARN_OK && len > 0, "id %u", i);
        fuzz_touch(id, len);
        FUZZ_ASSERT(learn_catalog_find(cat, id, len, &idx) == LEARN_OK && idx == i, "find(id of %u)", i);
        FUZZ_ASSERT(learn_catalog_content(cat, i, content) == LEARN_OK, "content %u", i);
    }
    free(content);
    const char *tail = (const char *)d + n / 2;
    uint32_t idx;
    st = learn_catalog_find(cat, tail, n - n / 2 < 40 ? n - n / 2 : 40, &idx);
    FUZZ_ASSERT(st == LEARN_OK || st == LEARN_ERR_NOT_FOUND, "find: %d", (int)st);
    const float *items = learn_catalog_items(cat);
    for (size_t i = 0; i < (size_t)ci.n_items * ci.d_item; i++)
        FUZZ_ASSERT(isfinite(items[i]), "item embedding %zu is not finite", i);
    uint32_t excl[3] = {0, ci.n_items - 1, ci.n_items / 2};
    const uint32_t ks[3] = {1, ci.n_items, ci.n_items + 2};
    for (int k = 0; k < 3; k++) fuzz_check_topk(cat, &ci, items, ks[k], excl, (size_t)k);
    st = learn_catalog_check_model(cat, fuzz_cat_model, NULL, err, sizeof err);
    FUZZ_ASSERT(st == LEARN_OK || st == LEARN_ERR_MISMATCH, "check_model: %d", (int)st);
    learn_catalog_close(cat);
    free(buf);
    return 0;
}

/* ==== Tokenizers ==== */

/* The vocabularies: SentencePiece with byte fallback; SentencePiece without byte tokens,
   removing extra spaces; byte-level BPE trained here, under each pre-tokenizer. */
#define FUZZ_N_TOK 10
static learn_model *fuzz_tok_model[FUZZ_N_TOK];
static learn_ctx *fuzz_tok_ctx[FUZZ_N_TOK];
static void *fuzz_tok_mem[FUZZ_N_TOK];
/* 2: texts in well-formed UTF-8 round trip (spm with byte tokens: ill-formed bytes fall back to
   bytes as llama.cpp does, by the length their lead byte announces, which can swallow the
   U+2581 of the next space: no promise then); 0: no promise (extra spaces removed, NFC). */
static int fuzz_tok_exact[FUZZ_N_TOK];

static void fuzz_tok_open(int i, learn_writer *w) {
    void *mem;
    size_t size;
    FUZZ_ASSERT(learn_writer_save_memory(w, &mem, &size) == LEARN_OK, "save: %s", learn_writer_errmsg(w));
    fuzz_tok_mem[i] = fuzz_aligned_copy((const uint8_t *)mem, size);
    learn_writer_free_buffer(w, mem);
    char err[LEARN_ERRMSG_SIZE];
    FUZZ_ASSERT(learn_model_open_memory(fuzz_tok_mem[i], size, NULL, &fuzz_tok_model[i], err, sizeof err) == LEARN_OK,
                "open vocabulary %d: %s", i, err);
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = 1;
    cp.max_text_len = 1000;
    FUZZ_ASSERT(learn_ctx_new(fuzz_tok_model[i], &cp, &fuzz_tok_ctx[i]) == LEARN_OK, "ctx");
}

/* An spm vocabulary: <unk> <s> </s>, [byte tokens], pieces, a control and a user-defined token. */
static void fuzz_spm_vocab(learn_writer *w, int bytes, int remove_ws) {
    static const char *const pieces[] = {
        "\xE2\x96\x81", "a", "b", "c", "e", "t", "\342\226\201a", "ab", "\342\226\201ab", "bc",
        "\342\226\201abc", "\342\226\201t", "\342\226\201the", "he", "the", "\xC3\xA9",
        "\xE2\x96\x81\xE2\x96\x81", "<|user|>", "<tag>", "\xE4\xB8\xAD"};
    char texts[300][8];
    const char *tx[300];
    float scores[300];
    uint8_t types[300];
    size_t n = 0;
    tx[n] = "<unk>", types[n] = 2, scores[n++] = 0;
    tx[n] = "<s>", types[n] = 3, scores[n++] = 0;
    tx[n] = "</s>", types[n] = 3, scores[n++] = 0;
    for (int b = 0; bytes && b < 256; b++) {
        snprintf(texts[b], sizeof texts[b], "<0x%02X>", b);
        tx[n] = texts[b], types[n] = 6, scores[n++] = 0;
    }
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        tx[n] = pieces[i];
        scores[n] = -(float)i;
        types[n++] = !strcmp(pieces[i], "<|user|>") ? 3 : !strcmp(pieces[i], "<tag>") ? 4 : 1;
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += strlen(tx[i]);
    uint8_t *text = (uint8_t *)malloc(total);
    int32_t offs[301];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        offs[i] = (int32_t)k;
        memcpy(text + k, tx[i], strlen(tx[i]));
        k += strlen(tx[i]);
    }
    offs[n] = (int32_t)k;
    learn_writer_set_str(w, "tokenizer.model", "spm", 3);
    learn_writer_set_i32(w, "tokenizer.bos_id", 1);
    learn_writer_set_i32(w, "tokenizer.eos_id", 2);
    learn_writer_set_i32(w, "tokenizer.unk_id", 0);
    learn_writer_set_bool(w, "tokenizer.add_bos", 1);
    learn_writer_set_bool(w, "tokenizer.add_eos", remove_ws);
    learn_writer_set_bool(w, "tokenizer.add_space_prefix", 1);
    learn_writer_set_bool(w, "tokenizer.remove_extra_whitespaces", remove_ws);
    uint64_t shape[1] = {total};
    learn_writer_add_tensor(w, "tokenizer.text", LEARN_TYPE_U8, 1, shape, text, LEARN_WRITER_COPY);
    shape[0] = n + 1;
    learn_writer_add_tensor(w, "tokenizer.offsets", LEARN_TYPE_I32, 1, shape, offs, LEARN_WRITER_COPY);
    shape[0] = n;
    learn_writer_add_tensor(w, "tokenizer.scores", LEARN_TYPE_F32, 1, shape, scores, LEARN_WRITER_COPY);
    learn_writer_add_tensor(w, "tokenizer.types", LEARN_TYPE_U8, 1, shape, types, LEARN_WRITER_COPY);
    free(text);
}

static void fuzz_tokenizer_init(void) {
    if (fuzz_tok_ctx[0]) return;
    static const char *const texts[] = {
        "Title: Acme Wireless Headphones - Ocean Blue. Brand: Acme. Category: Headphones",
        "the quick brown fox jumps over the lazy dog 0123456789 don't I'll we've",
        "caf\xc3\xa9 na\xc3\xafve \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 \xd0\xbf\xd1\x80\xd0\xb8",
        "  spaces\t\ttabs\n\nnewlines  1234567 3.14 $$$ ... !!!",
    };
    static const char *const pres[] = {"gpt-2", "llama-bpe", "qwen2", "falcon", "starcoder",
                                       "deepseek-llm", "deepseek-coder", "default"};
    size_t lens[4];
    for (int i = 0; i < 4; i++) lens[i] = strlen(texts[i]);
    for (int i = 0; i < FUZZ_N_TOK; i++) {
        learn_writer *w;
        FUZZ_ASSERT(learn_writer_new(NULL, &w) == LEARN_OK, "writer");
        if (i < 2) {
            fuzz_spm_vocab(w, i == 0, i == 1);
            fuzz_tok_exact[i] = i == 0 ? 2 : 0;
        } else {
            char err[256];
            FUZZ_ASSERT(bpe_train(texts, lens, 4, 400, w, NULL, err, sizeof err) == LEARN_OK, "bpe_train: %s", err);
            const char *pre = pres[i - 2];
            learn_writer_set_str(w, "tokenizer.pre", pre, strlen(pre));
            if (!strcmp(pre, "qwen2")) learn_writer_set_str(w, "tokenizer.normalizer", "nfc", 3);
            if (!strcmp(pre, "llama-bpe")) learn_writer_set_bool(w, "tokenizer.ignore_merges", 1);
            fuzz_tok_exact[i] = strcmp(pre, "qwen2") ? 2 : 0;
        }
        fuzz_tok_open(i, w);
        learn_writer_free(w);
    }
}

/* Text against every tokenizer kind (RELIABILITY B). Byte 0 chooses the vocabulary and the
   flags, the rest is the text; ids and the count are checked, a buffer one id too small must
   not be written past, and the text must come back where the API promises it does. */
static int fuzz_tokenizer(const uint8_t *d, size_t n) {
    fuzz_tokenizer_init();
    if (n == 0) return 0;
    int which = d[0] % FUZZ_N_TOK;
    uint32_t flags = (uint32_t)(d[0] / FUZZ_N_TOK) & 3u;
    learn_ctx *ctx = fuzz_tok_ctx[which];
    learn_tokenizer_info ti;
    learn_tokenizer_get_info(fuzz_tok_model[which], &ti);
    const char *text = (const char *)d + 1;
    size_t len = n - 1, need = 0;
    learn_status st = learn_tokenize(ctx, text, len, flags, NULL, 0, &need);
    FUZZ_STATUS(st, learn_ctx_errmsg(ctx));
    if (st == LEARN_ERR_TOO_LONG) {
        FUZZ_ASSERT(len > 1000, "TOO_LONG for %zu bytes", len);
        return 0;
    }
    FUZZ_ASSERT(st == LEARN_OK || st == LEARN_ERR_BUFFER, "size query: %d %s", (int)st, learn_ctx_errmsg(ctx));
    FUZZ_ASSERT((st == LEARN_OK) == (need == 0), "size query: status %d, %zu ids", (int)st, need);
    int32_t *ids = (int32_t *)malloc((need ? need : 1) * sizeof *ids);
    size_t got = 0;
    st = learn_tokenize(ctx, text, len, flags, ids, need, &got);
    FUZZ_ASSERT(st == LEARN_OK && got == need, "tokenize: %d, %zu ids, %zu expected", (int)st, got, need);
    for (size_t i = 0; i < got; i++)
        FUZZ_ASSERT(ids[i] >= 0 && (uint32_t)ids[i] < ti.n_vocab, "id %d at %zu", ids[i], i);
    if (need > 1) {
        int32_t *part = (int32_t *)malloc((need - 1) * sizeof *part);
        st = learn_tokenize(ctx, text, len, flags, part, need - 1, &got);
        FUZZ_ASSERT(st == LEARN_ERR_BUFFER && got == need, "one short: %d, %zu", (int)st, got);
        FUZZ_ASSERT(memcmp(part, ids, (need - 1) * sizeof *part) == 0, "one short: other ids");
        free(part);
    }
    size_t back_len = 0;
    char small[1];
    st = learn_detokenize(ctx, ids, need, small, 1, &back_len);
    FUZZ_ASSERT(st == LEARN_OK ? back_len == 0 : st == LEARN_ERR_BUFFER, "detokenize size: %d", (int)st);
    char *back = (char *)malloc(back_len + 1);
    size_t back_len2 = 0;
    st = learn_detokenize(ctx, ids, need, back, back_len + 1, &back_len2);
    FUZZ_ASSERT(st == LEARN_OK && back_len2 == back_len && back[back_len] == 0, "detokenize: %d", (int)st);
    int exact = fuzz_tok_exact[which] && fuzz_utf8_valid((const uint8_t *)text, len);
    if (exact && !(flags & LEARN_TOKENIZE_ADD_SPECIAL))
        FUZZ_ASSERT(back_len == len && memcmp(back, text, len) == 0,
                    "vocabulary %d, flags %u: %zu bytes came back as %zu", which, flags, len, back_len);
    free(back);
    free(ids);
    /* Raw ids from the input, some out of range. */
    int32_t raw[16] = {0};
    size_t n_raw = 0;
    for (size_t i = 1; i + 2 <= n && n_raw < 16; i += 2)
        raw[n_raw++] = (int32_t)((d[i] | d[i + 1] << 8) % (ti.n_vocab + 8)) - 4;
    char out[256];
    st = learn_detokenize(ctx, raw, n_raw, out, sizeof out, &back_len);
    int bad = 0;
    for (size_t i = 0; i < n_raw; i++) bad |= raw[i] < 0 || (uint32_t)raw[i] >= ti.n_vocab;
    FUZZ_ASSERT(bad ? st == LEARN_ERR_ARG : (st == LEARN_OK || st == LEARN_ERR_BUFFER),
                "raw ids: %d", (int)st);
    return 0;
}

/* ==== The tools' parsers ==== */

static void fuzz_walk_json(const json_value *v, int depth) {
    switch (v->type) {
    case JSON_STRING:
        FUZZ_ASSERT(v->u.str[v->n] == 0, "string not terminated");
        fuzz_touch(v->u.str, v->n + 1);
        break;
    case JSON_NUMBER: FUZZ_ASSERT(isfinite(v->u.num.d), "number %g", v->u.num.d); break;
    case JSON_ARRAY:
        for (size_t i = 0; i < v->n; i++) {
            FUZZ_ASSERT(json_at(v, i) == &v->u.items[i], "json_at(%zu)", i);
            fuzz_walk_json(&v->u.items[i], depth + 1);
        }
        FUZZ_ASSERT(json_at(v, v->n) == NULL, "json_at past the end");
        break;
    case JSON_OBJECT:
        for (size_t i = 0; i < v->n; i++) {
            const json_member *mb = &v->u.members[i];
            fuzz_touch(mb->key, mb->key_len + 1);
            if (strlen(mb->key) == mb->key_len) {
                const json_value *g = json_get(v, mb->key);
                FUZZ_ASSERT(g != NULL, "json_get(%s)", mb->key);
            }
            fuzz_walk_json(&mb->value, depth + 1);
        }
        break;
    default: break;
    }
}

/* JSON documents (RELIABILITY E: BOM, NUL, deep nesting, duplicate keys, 1e999, NaN). Byte 0
   chooses the options. */
static int fuzz_json(const uint8_t *d, size_t n) {
    if (n == 0) return 0;
    json_opts o = {d[0] & 1 ? 4 : 0, (d[0] >> 1) & 1};
    json_doc *doc = NULL;
    char err[256] = "";
    learn_status st = json_parse((const char *)d + 1, n - 1, &o, &doc, err, sizeof err);
    FUZZ_STATUS(st, err);
    if (st == LEARN_OK) {
        fuzz_walk_json(json_root(doc), 0);
        json_free(doc);
    } else {
        FUZZ_ASSERT(doc == NULL || st == LEARN_ERR_NOMEM, "a document on failure");
        FUZZ_ASSERT(strstr(err, "line ") != NULL || st == LEARN_ERR_NOMEM, "no line in \"%s\"", err);
    }
    return 0;
}

/* Item records: the first line is the template, the rest one record for item_render and the
   JSONL stream for items_load. */
static int fuzz_items(const uint8_t *d, size_t n) {
    const uint8_t *nl = (const uint8_t *)memchr(d, '\n', n < 200 ? n : 200);
    size_t tl = nl ? (size_t)(nl - d) : 0;
    char tmpl[201];
    memcpy(tmpl, d, tl);
    tmpl[tl] = 0;
    const uint8_t *rec = nl ? nl + 1 : d;
    size_t rn = n - (size_t)(rec - d);
    char err[512] = "";
    char *id = NULL;
    char *text = item_render((const char *)rec, rn, tmpl, &id, NULL, err, sizeof err);
    if (text) {
        FUZZ_ASSERT(id && id[0], "no id");
        fuzz_touch(text, strlen(text) + 1);
    } else {
        FUZZ_ASSERT(!id && err[0], "failure without a message");
    }
    free(text);
    free(id);
    FILE *f = fuzz_stream(rec, rn);
    if (!f) return 0;
    item_list l;
    int rc = items_load(f, "items", tmpl, n % 3 ? 1u << 20 : 40, &l, err, sizeof err);
    if (rc == 0) {
        for (size_t i = 0; i < l.n; i++) {
            FUZZ_ASSERT(l.items[i].id && l.items[i].text && l.items[i].line >= 1, "item %zu", i);
            if (i) FUZZ_ASSERT(l.items[i].line > l.items[i - 1].line, "lines out of order");
        }
        items_free(&l);
    } else {
        FUZZ_ASSERT(strstr(err, "line ") != NULL || strstr(err, "memory"), "no line in \"%s\"", err);
    }
    fclose(f);
    return 0;
}

/* A catalog of a few ids for the interaction logs. */
static learn_catalog *fuzz_inter_cat;
static void *fuzz_inter_mem;

static void fuzz_interactions_init(void) {
    if (fuzz_inter_cat) return;
    learn_catalog_builder *b;
    FUZZ_ASSERT(learn_catalog_builder_new(NULL, 2, 2, &b) == LEARN_OK, "builder");
    static const char *const ids[] = {"a", "b", "c", "d", "e", "P00001", "item 7", "\xc3\xa9"};
    for (int i = 0; i < 8; i++) {
        float c[2] = {(float)i, 1}, it[2] = {0.6f, 0.8f};
        FUZZ_ASSERT(learn_catalog_builder_add(b, ids[i], strlen(ids[i]), c, it) == LEARN_OK, "add");
    }
    void *mem;
    size_t size;
    FUZZ_ASSERT(learn_catalog_builder_save_memory(b, &mem, &size) == LEARN_OK, "save");
    fuzz_inter_mem = fuzz_aligned_copy((const uint8_t *)mem, size);
    learn_catalog_builder_free_buffer(b, mem);
    learn_catalog_builder_free(b);
    FUZZ_ASSERT(learn_catalog_open_memory(fuzz_inter_mem, size, NULL, &fuzz_inter_cat, NULL, 0) == LEARN_OK, "open");
}

/* Interaction logs (user TAB item TAB timestamp). */
static int fuzz_interactions(const uint8_t *d, size_t n) {
    fuzz_interactions_init();
    FILE *f = fuzz_stream(d, n);
    if (!f) return 0;
    inter_data id;
    char err[512] = "";
    int rc = inter_read(f, "inter", fuzz_inter_cat, &id, err, sizeof err);
    fclose(f);
    if (rc) {
        FUZZ_ASSERT(strstr(err, "line ") != NULL || strstr(err, "memory"), "no line in \"%s\"", err);
        return 0;
    }
    FUZZ_ASSERT(id.seq_off[0] == 0, "first offset");
    for (size_t u = 0; u < id.n_users; u++) {
        FUZZ_ASSERT(id.seq_off[u + 1] > id.seq_off[u], "user %zu without items", u);
        fuzz_touch(id.user_ids[u], strlen(id.user_ids[u]));
        for (int s = INTER_VALID; s <= INTER_TEST; s++) {
            const uint32_t *hist = NULL;
            uint32_t target = 0;
            size_t h = inter_history(&id, u, (inter_split)s, 3, &hist, &target);
            FUZZ_ASSERT(h <= 3 && target < 8, "history of user %zu", u);
            for (size_t i = 0; i < h; i++) FUZZ_ASSERT(hist[i] < 8, "history item %u", hist[i]);
        }
    }
    FUZZ_ASSERT(id.seq_off[id.n_users] + id.n_unknown == id.n_lines, "%u kept + %zu unknown != %zu lines",
                id.seq_off[id.n_users], id.n_unknown, id.n_lines);
    inter_free(&id);
    return 0;
}

static int fuzz_csv_record(void *ud, char *const *fields, size_t n_fields, long line) {
    long *last = (long *)ud;
    FUZZ_ASSERT(n_fields >= 1 && line > *last, "record at line %ld after %ld", line, *last);
    *last = line;
    for (size_t i = 0; i < n_fields; i++) fuzz_touch(fields[i], strlen(fields[i]) + 1);
    return 0;
}

/* CSV (MovieLens files). */
static int fuzz_csv(const uint8_t *d, size_t n) {
    FILE *f = fuzz_stream(d, n);
    if (!f) return 0;
    long last = 0;
    char err[256] = "";
    int rc = data_csv_each(f, fuzz_csv_record, &last, err, sizeof err);
    FUZZ_ASSERT(rc == 0 || (rc == -1 && strstr(err, "line ")), "rc %d: %s", rc, err);
    fclose(f);
    return 0;
}

/* GGUF files, then the tokenizer importer over the metadata of those accepted. */
static int fuzz_gguf(const uint8_t *d, size_t n) {
    uint8_t *buf = fuzz_aligned_copy(d, n);
    if (!buf) return 0;
    gguf_file *g = NULL;
    char err[512] = "";
    learn_status st = gguf_open_memory(buf, n, &g, err, sizeof err);
    FUZZ_STATUS(st, err);
    if (st != LEARN_OK) {
        FUZZ_ASSERT(g == NULL, "a handle on failure");
        free(buf);
        return 0;
    }
    for (uint64_t i = 0; i < gguf_n_kv(g); i++) {
        const char *key;
        gguf_value v, e, e2;
        FUZZ_ASSERT(gguf_kv(g, i, &key, &v) == LEARN_OK, "kv %llu", (unsigned long long)i);
        gguf_value v2;
        FUZZ_ASSERT(gguf_get(g, key, &v2) == LEARN_OK, "get(%s)", key);
        int64_t i64;
        uint64_t u64;
        double f64;
        int b;
        const char *s;
        size_t len;
        gguf_as_i64(&v, &i64);
        gguf_as_u64(&v, &u64);
        gguf_as_f64(&v, &f64);
        gguf_as_bool(&v, &b);
        if (gguf_as_str(&v, &s, &len) == LEARN_OK) fuzz_touch(s, len);
        if (v.type != GGUF_TYPE_ARRAY) continue;
        uint64_t at[3] = {0, v.count ? v.count - 1 : 0, v.count};
        for (int k = 0; k < 3; k++) {
            st = gguf_elem(&v, at[k], &e);
            if (at[k] >= v.count) {
                FUZZ_ASSERT(st != LEARN_OK, "element past the end of %s", key);
                continue;
            }
            FUZZ_ASSERT(st == LEARN_OK, "element %llu of %s", (unsigned long long)at[k], key);
            if (gguf_as_str(&e, &s, &len) == LEARN_OK) fuzz_touch(s, len);
            if (e.type == GGUF_TYPE_ARRAY && e.count && gguf_elem(&e, e.count - 1, &e2) == LEARN_OK &&
                gguf_as_str(&e2, &s, &len) == LEARN_OK)
                fuzz_touch(s, len);
        }
    }
    for (uint64_t i = 0; i < gguf_n_tensors(g); i++) {
        const gguf_tensor *t = gguf_tensor_at(g, i);
        FUZZ_ASSERT(t && gguf_find_tensor(g, t->name) == t, "tensor %llu", (unsigned long long)i);
        FUZZ_ASSERT(t->offset <= n && t->size <= n - t->offset, "tensor %s outside the file", t->name);
        fuzz_touch(t->data, (size_t)t->size);
    }
    FUZZ_ASSERT(gguf_tensor_at(g, gguf_n_tensors(g)) == NULL, "tensor past the end");
    learn_writer *w;
    if (learn_writer_new(NULL, &w) == LEARN_OK) {
        tokimport_opts o = tokimport_default_opts();
        st = tokimport_gguf(w, g, &o, err, sizeof err);
        FUZZ_STATUS(st, err);
        void *mem;
        size_t size;
        if (st == LEARN_OK && learn_writer_save_memory(w, &mem, &size) == LEARN_OK) {
            learn_model *m = NULL;
            st = learn_model_open_memory(mem, size, NULL, &m, err, sizeof err);
            FUZZ_STATUS(st, err);
            if (st == LEARN_OK) {
                learn_ctx_params cp = learn_ctx_default_params();
                cp.n_threads = 1;
                learn_ctx *ctx;
                if (learn_ctx_new(m, &cp, &ctx) == LEARN_OK) {
                    fuzz_use_tokenizer(ctx, m);
                    learn_ctx_free(ctx);
                }
            }
            learn_model_close(m);
            learn_writer_free_buffer(w, mem);
        }
        learn_writer_free(w);
    }
    gguf_close(g);
    free(buf);
    return 0;
}

/* safetensors files: every tensor found by name, the float ones converted. */
static int fuzz_safetensors(const uint8_t *d, size_t n) {
    uint8_t *buf = fuzz_aligned_copy(d, n);
    if (!buf) return 0;
    safetensors_file *f = NULL;
    char err[512] = "";
    learn_status st = safetensors_open_memory(buf, n, &f, err, sizeof err);
    FUZZ_STATUS(st, err);
    if (st == LEARN_OK) {
        for (size_t i = 0; i < safetensors_count(f); i++) {
            const safetensors_tensor *t = safetensors_get(f, i);
            FUZZ_ASSERT(t && safetensors_find(f, t->name) == t, "tensor %zu", i);
            FUZZ_ASSERT(t->data >= buf && t->size <= n && t->data + t->size <= buf + n, "tensor %s outside", t->name);
            fuzz_touch(t->data, (size_t)t->size);
            FUZZ_ASSERT(safetensors_dtype_name(t->dtype) != NULL, "dtype %d", (int)t->dtype);
            if (t->n_elements <= (1u << 16)) {
                float *out = (float *)malloc((size_t)(t->n_elements ? t->n_elements : 1) * sizeof(float));
                st = safetensors_read_f32(t, out, err, sizeof err);
                FUZZ_ASSERT(st == LEARN_OK || st == LEARN_ERR_UNSUPPORTED, "read_f32: %d", (int)st);
                free(out);
            }
        }
        FUZZ_ASSERT(safetensors_get(f, safetensors_count(f)) == NULL, "past the end");
        const char *v = safetensors_metadata(f, "format");
        if (v) fuzz_touch(v, strlen(v) + 1);
        safetensors_close(f);
    } else {
        FUZZ_ASSERT(f == NULL, "a handle on failure");
    }
    free(buf);
    return 0;
}

/* The harnesses by name, for the corpus suite. */
typedef struct fuzz_target {
    const char *name;
    int (*fn)(const uint8_t *, size_t);
} fuzz_target;

static const fuzz_target fuzz_targets[] = {
    {"model", fuzz_model},       {"catalog", fuzz_catalog}, {"tokenizer", fuzz_tokenizer},
    {"json", fuzz_json},         {"items", fuzz_items},     {"interactions", fuzz_interactions},
    {"csv", fuzz_csv},           {"gguf", fuzz_gguf},       {"safetensors", fuzz_safetensors},
};
