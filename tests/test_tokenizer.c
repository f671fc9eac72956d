/* Tokenizer: llama.cpp's test vectors for every supported vocabulary (from the assets),
   SentencePiece's ids for tok512 (fixture), small hand-built vocabularies, round trips,
   hostile text and hostile tokenizer data (RELIABILITY A.8, B), allocation failures, and the
   tools' JSON and GGUF readers and importers. */

#include "json.h"
#include "tokimport.h"

/* ---- Helpers ---- */

/* A model holding only a tokenizer (written by `w`), opened from memory. */
typedef struct tt_model {
    test_blob blob;
    learn_model *m;
    learn_ctx *ctx;
} tt_model;

static learn_status tt_open_status(learn_writer *w, tt_model *t, char *err, size_t errn) {
    t->blob = test_blob_from_writer(w);
    t->m = NULL;
    t->ctx = NULL;
    learn_status st = learn_model_open_memory(t->blob.p, t->blob.n, NULL, &t->m, err, errn);
    if (st) return st;
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = 1;
    cp.max_text_len = 64u << 20;
    return learn_ctx_new(t->m, &cp, &t->ctx);
}

static void tt_open(learn_writer *w, tt_model *t) {
    char err[LEARN_ERRMSG_SIZE];
    learn_status st = tt_open_status(w, t, err, sizeof err);
    ck_assert_msg(st == LEARN_OK, "open: %s: %s", learn_status_str(st), err);
}

static void tt_close(tt_model *t) {
    learn_ctx_free(t->ctx);
    learn_model_close(t->m);
    test_blob_free(&t->blob);
}

/* Imports a tokenizer source (tokimport_auto) and opens it. */
static void tt_open_source(const char *path, const char *pre, tt_model *t) {
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    tokimport_opts o = tokimport_default_opts();
    o.pre = pre;
    char err[512];
    learn_status st = tokimport_auto(w, path, &o, err, sizeof err);
    ck_assert_msg(st == LEARN_OK, "import %s: %s", path, err);
    tt_open(w, t);
    learn_writer_free(w);
}

/* Tokenizes into a static buffer; returns the count. */
static int32_t tt_ids[1 << 16];
static size_t tt_tok(tt_model *t, const char *s, size_t n, uint32_t flags) {
    size_t got;
    learn_status st = learn_tokenize(t->ctx, s, n, flags, tt_ids, sizeof tt_ids / sizeof tt_ids[0],
                                     &got);
    ck_assert_msg(st == LEARN_OK, "tokenize: %s", learn_ctx_errmsg(t->ctx));
    return got;
}

/* "1 2 3" of the last tokenization. */
static const char *tt_str(size_t n) {
    static char buf[1 << 16];
    size_t k = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && k + 16 < sizeof buf; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, i ? " %d" : "%d", (int)tt_ids[i]);
    return buf;
}

#define ck_assert_tok(t, text, flags, expect)                                                     \
    do {                                                                                          \
        size_t n_ = tt_tok((t), (text), strlen(text), (flags));                                   \
        ck_assert_msg(strcmp(tt_str(n_), (expect)) == 0, "\"%s\" -> [%s], expected [%s]", (text), \
                      tt_str(n_), (expect));                                                      \
    } while (0)

/* Detokenizes ids; returns a static NUL-terminated buffer, its length in *len. */
static const char *tt_detok(tt_model *t, const int32_t *ids, size_t n, size_t *len) {
    static char buf[1 << 20];
    learn_status st = learn_detokenize(t->ctx, ids, n, buf, sizeof buf, len);
    ck_assert_msg(st == LEARN_OK, "detokenize: %s", learn_ctx_errmsg(t->ctx));
    return buf;
}

static char *tt_read(const char *path, size_t *len) {
    char *buf = (char *)test_read_file(path, len);
    ck_assert_msg(buf != NULL, "cannot open %s", path);
    return buf;
}

/* A hand-built vocabulary written through the writer. texts: n entries; scores, types may be
   NULL; merges: n_merges pairs of texts ("a", "b"). */
typedef struct tt_vocab {
    const char *model, *pre, *normalizer;
    const char *const *texts;
    size_t n;
    const float *scores;
    const uint8_t *types;
    const char *const *merges; /* 2 * n_merges texts */
    size_t n_merges;
    int32_t bos, eos, unk;
    int add_bos, add_eos, add_space_prefix, remove_extra_ws;
} tt_vocab;

static int32_t tt_find(const tt_vocab *v, const char *s) {
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->texts[i], s) == 0) return (int32_t)i;
    return -1;
}

/* Writes the vocabulary; `corrupt` (may be NULL) edits the arrays before they are added. */
typedef struct tt_arrays {
    uint8_t *text;
    size_t n_text;
    int32_t *offs;
    float *scores;
    uint8_t *types;
    int32_t *merges;
    size_t n, n_merges;
} tt_arrays;

static void tt_write(learn_writer *w, const tt_vocab *v, void (*corrupt)(tt_arrays *)) {
    tt_arrays a;
    memset(&a, 0, sizeof a);
    a.n = v->n;
    a.n_merges = v->n_merges;
    for (size_t i = 0; i < v->n; i++) a.n_text += strlen(v->texts[i]);
    a.text = (uint8_t *)malloc(a.n_text + 1);
    a.offs = (int32_t *)malloc((v->n + 1) * sizeof(int32_t));
    a.scores = (float *)calloc(v->n, sizeof(float));
    a.types = (uint8_t *)malloc(v->n);
    a.merges = (int32_t *)malloc((2 * v->n_merges + 2) * sizeof(int32_t));
    size_t k = 0;
    for (size_t i = 0; i < v->n; i++) {
        a.offs[i] = (int32_t)k;
        memcpy(a.text + k, v->texts[i], strlen(v->texts[i]));
        k += strlen(v->texts[i]);
        a.types[i] = v->types ? v->types[i] : 1;
        if (v->scores) a.scores[i] = v->scores[i];
    }
    a.offs[v->n] = (int32_t)k;
    for (size_t i = 0; i < v->n_merges; i++) {
        a.merges[2 * i] = tt_find(v, v->merges[2 * i]);
        a.merges[2 * i + 1] = tt_find(v, v->merges[2 * i + 1]);
    }
    if (corrupt) corrupt(&a);
    learn_writer_set_str(w, "tokenizer.model", v->model, strlen(v->model));
    if (v->pre) learn_writer_set_str(w, "tokenizer.pre", v->pre, strlen(v->pre));
    if (v->normalizer)
        learn_writer_set_str(w, "tokenizer.normalizer", v->normalizer, strlen(v->normalizer));
    learn_writer_set_i32(w, "tokenizer.bos_id", v->bos);
    learn_writer_set_i32(w, "tokenizer.eos_id", v->eos);
    learn_writer_set_i32(w, "tokenizer.unk_id", v->unk);
    learn_writer_set_bool(w, "tokenizer.add_bos", v->add_bos);
    learn_writer_set_bool(w, "tokenizer.add_eos", v->add_eos);
    if (!strcmp(v->model, "spm")) {
        learn_writer_set_bool(w, "tokenizer.add_space_prefix", v->add_space_prefix);
        learn_writer_set_bool(w, "tokenizer.remove_extra_whitespaces", v->remove_extra_ws);
    }
    uint64_t shape[2] = {a.n_text, 2};
    ck_assert_int_eq(learn_writer_add_tensor(w, "tokenizer.text", LEARN_TYPE_U8, 1, shape, a.text,
                                             LEARN_WRITER_COPY), LEARN_OK);
    shape[0] = a.n + 1;
    ck_assert_int_eq(learn_writer_add_tensor(w, "tokenizer.offsets", LEARN_TYPE_I32, 1, shape,
                                             a.offs, LEARN_WRITER_COPY), LEARN_OK);
    shape[0] = a.n;
    ck_assert_int_eq(learn_writer_add_tensor(w, "tokenizer.scores", LEARN_TYPE_F32, 1, shape,
                                             a.scores, LEARN_WRITER_COPY), LEARN_OK);
    ck_assert_int_eq(learn_writer_add_tensor(w, "tokenizer.types", LEARN_TYPE_U8, 1, shape,
                                             a.types, LEARN_WRITER_COPY), LEARN_OK);
    if (a.n_merges) {
        shape[0] = a.n_merges;
        ck_assert_int_eq(learn_writer_add_tensor(w, "tokenizer.merges", LEARN_TYPE_I32, 2, shape,
                                                 a.merges, LEARN_WRITER_COPY), LEARN_OK);
    }
    free(a.text);
    free(a.offs);
    free(a.scores);
    free(a.types);
    free(a.merges);
}

/* A small SentencePiece vocabulary: <unk> <s> </s>, byte tokens for 0x00..0xFF, pieces. */
static const char *tt_spm_texts[256 + 3 + 12];
static float tt_spm_scores[256 + 3 + 12];
static uint8_t tt_spm_types[256 + 3 + 12];
static char tt_spm_bytes[256][8];

static tt_vocab tt_spm_vocab(void) {
    static const char *const pieces[] = {"\xE2\x96\x81", "a", "b", "c", "\xE2\x96\x81" "a",
                                         "ab", "\xE2\x96\x81" "ab", "bc", "\xE2\x96\x81" "abc",
                                         "<|user|>", "\xC3\xA9", "d"};
    static const float piece_scores[] = {-1, -2, -3, -4, -5, -6, -7, -8, -9, 0, -10, -11};
    size_t n = 0;
    tt_spm_texts[n] = "<unk>", tt_spm_types[n++] = 2;
    tt_spm_texts[n] = "<s>", tt_spm_types[n++] = 3;
    tt_spm_texts[n] = "</s>", tt_spm_types[n++] = 3;
    for (int b = 0; b < 256; b++) {
        snprintf(tt_spm_bytes[b], sizeof tt_spm_bytes[b], "<0x%02X>", b);
        tt_spm_texts[n] = tt_spm_bytes[b], tt_spm_types[n++] = 6;
    }
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        tt_spm_texts[n] = pieces[i];
        tt_spm_scores[n] = piece_scores[i];
        tt_spm_types[n++] = strcmp(pieces[i], "<|user|>") == 0 ? 3 : 1;
    }
    tt_vocab v;
    memset(&v, 0, sizeof v);
    v.model = "spm";
    v.texts = tt_spm_texts;
    v.n = n;
    v.scores = tt_spm_scores;
    v.types = tt_spm_types;
    v.bos = 1, v.eos = 2, v.unk = 0;
    v.add_bos = 1;
    v.add_space_prefix = 1;
    return v;
}

/* A small byte-level BPE vocabulary: the 256 byte characters (id = byte), then merges. */
static char tt_bpe_chars[256][4];
static const char *tt_bpe_texts[256 + 16];
static uint8_t tt_bpe_types[256 + 16];

static tt_vocab tt_bpe_vocab(void) {
    static const char *const merged[] = {"he", "ll", "hell", "hello", "\xC4\xA0w", "or",
                                         "\xC4\xA0wor", "\xC4\xA0world", "<|im_start|>",
                                         "<think>"};
    static const char *const merges[] = {"h", "e", "l", "l", "he", "ll", "hell", "o",
                                         "\xC4\xA0", "w", "o", "r", "\xC4\xA0w", "or",
                                         "l", "d", "\xC4\xA0wor", "ld"};
    size_t n = 0;
    for (unsigned b = 0; b < 256; b++) {
        unsigned cp = b, k = 0;
        if (!((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE))) {
            unsigned m = 0;
            for (unsigned c = 0; c < b; c++)
                if (!((c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE))) m++;
            cp = 0x100 + m;
        }
        if (cp < 0x80) {
            tt_bpe_chars[b][k++] = (char)cp;
        } else {
            tt_bpe_chars[b][k++] = (char)(0xC0 | cp >> 6);
            tt_bpe_chars[b][k++] = (char)(0x80 | (cp & 0x3F));
        }
        tt_bpe_chars[b][k] = 0;
        tt_bpe_texts[n] = tt_bpe_chars[b], tt_bpe_types[n++] = 1;
    }
    for (size_t i = 0; i < sizeof merged / sizeof merged[0]; i++) {
        tt_bpe_texts[n] = merged[i];
        tt_bpe_types[n++] = strcmp(merged[i], "<|im_start|>") == 0 ? 3
                            : strcmp(merged[i], "<think>") == 0    ? 4
                                                                   : 1;
    }
    tt_bpe_texts[n] = "ld", tt_bpe_types[n++] = 1;
    tt_vocab v;
    memset(&v, 0, sizeof v);
    v.model = "bpe";
    v.pre = "gpt-2";
    v.texts = tt_bpe_texts;
    v.n = n;
    v.types = tt_bpe_types;
    v.merges = merges;
    v.n_merges = sizeof merges / sizeof merges[0] / 2;
    v.bos = v.eos = (int32_t)(n - 3); /* <|im_start|> stands in */
    v.unk = -1;
    return v;
}

/* ---- Core behaviour on small vocabularies ---- */

START_TEST(test_tok_spm_small) {
    tt_vocab v = tt_spm_vocab();
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    tt_write(w, &v, NULL);
    tt_model t;
    tt_open(w, &t);
    learn_writer_free(w);
    int32_t sp = tt_find(&v, "\xE2\x96\x81"), abc = tt_find(&v, "\xE2\x96\x81" "abc");
    int32_t ab = tt_find(&v, "\xE2\x96\x81" "ab"), c = tt_find(&v, "c");
    char expect[128];
    /* "abc": dummy prefix, then the best-scoring merges. */
    snprintf(expect, sizeof expect, "%d", abc);
    ck_assert_tok(&t, "abc", 0, expect);
    snprintf(expect, sizeof expect, "1 %d", abc);
    ck_assert_tok(&t, "abc", LEARN_TOKENIZE_ADD_SPECIAL, expect);
    /* "ab c": a space joins the next word. */
    snprintf(expect, sizeof expect, "%d %d %d", ab, sp, c);
    ck_assert_tok(&t, "ab c", 0, expect);
    /* Byte fallback: 'z' is no piece, so <0x7A>; "é" is a piece. */
    snprintf(expect, sizeof expect, "%d %d %d", sp, 3 + 'z', tt_find(&v, "\xC3\xA9"));
    ck_assert_tok(&t, "z\xC3\xA9", 0, expect);
    /* Control tokens are text unless asked: "<|user|>" falls back to bytes. */
    size_t n = tt_tok(&t, "<|user|>", 8, 0);
    ck_assert_uint_eq(n, 9); /* dummy space + 8 bytes */
    snprintf(expect, sizeof expect, "%d", tt_find(&v, "<|user|>"));
    n = tt_tok(&t, "<|user|>", 8, LEARN_TOKENIZE_PARSE_SPECIAL);
    ck_assert_str_eq(tt_str(n), expect);
    /* After a special token the dummy space comes back. */
    snprintf(expect, sizeof expect, "%d %d", tt_find(&v, "<|user|>"), abc);
    ck_assert_tok(&t, "<|user|>abc", LEARN_TOKENIZE_PARSE_SPECIAL, expect);
    /* Empty text: nothing, or BOS alone. */
    ck_assert_uint_eq(tt_tok(&t, "", 0, 0), 0);
    ck_assert_tok(&t, "", LEARN_TOKENIZE_ADD_SPECIAL, "1");
    /* Round trips. */
    static const char *const texts[] = {"abc", " ab  c ", "z\xC3\xA9\n\t", "\x80 broken \xE2\x82",
                                        "<|user|>ab"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        n = tt_tok(&t, texts[i], strlen(texts[i]), 0);
        size_t len;
        const char *back = tt_detok(&t, tt_ids, n, &len);
        ck_assert_uint_eq(len, strlen(texts[i]));
        ck_assert_msg(memcmp(back, texts[i], len) == 0, "round trip of \"%s\" gave \"%s\"",
                      texts[i], back);
    }
    n = tt_tok(&t, "<|user|>ab", 10, LEARN_TOKENIZE_PARSE_SPECIAL);
    size_t len;
    ck_assert_str_eq(tt_detok(&t, tt_ids, n, &len), "<|user|>ab");
    /* Accessors. */
    learn_tokenizer_info info;
    ck_assert_int_eq(learn_tokenizer_get_info(t.m, &info), LEARN_OK);
    ck_assert_str_eq(info.model, "spm");
    ck_assert_uint_eq(info.n_vocab, v.n);
    ck_assert_int_eq(info.bos, 1);
    ck_assert_int_eq(info.add_bos, 1);
    const char *s;
    ck_assert_int_eq(learn_token_get_text(t.m, abc, &s, &len), LEARN_OK);
    ck_assert_uint_eq(len, 6);
    ck_assert_int_eq(memcmp(s, "\xE2\x96\x81" "abc", 6), 0);
    learn_token_kind kind;
    ck_assert_int_eq(learn_token_get_kind(t.m, 3, &kind), LEARN_OK);
    ck_assert_int_eq(kind, LEARN_TOKEN_KIND_BYTE);
    ck_assert_int_eq(learn_token_get_text(t.m, (int32_t)v.n, &s, &len), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_token_get_kind(t.m, -1, &kind), LEARN_ERR_ARG);
    tt_close(&t);
}
END_TEST

START_TEST(test_tok_spm_whitespace_options) {
    tt_vocab v = tt_spm_vocab();
    v.remove_extra_ws = 1;
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    tt_write(w, &v, NULL);
    tt_model t;
    tt_open(w, &t);
    learn_writer_free(w);
    int32_t ab = tt_find(&v, "\xE2\x96\x81" "ab"), sp = tt_find(&v, "\xE2\x96\x81");
    char expect[64];
    /* SentencePiece's clean-up: leading/trailing spaces dropped, runs become one. */
    snprintf(expect, sizeof expect, "%d %d %d", ab, sp, tt_find(&v, "c"));
    ck_assert_tok(&t, "   ab    c  ", 0, expect);
    ck_assert_uint_eq(tt_tok(&t, "     ", 5, 0), 0);
    tt_close(&t);
    /* Without the dummy prefix. */
    v = tt_spm_vocab();
    v.add_space_prefix = 0;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    tt_write(w, &v, NULL);
    tt_open(w, &t);
    learn_writer_free(w);
    snprintf(expect, sizeof expect, "%d", tt_find(&v, "ab"));
    ck_assert_tok(&t, "ab", 0, expect);
    tt_close(&t);
}
END_TEST

START_TEST(test_tok_bpe_small) {
    tt_vocab v = tt_bpe_vocab();
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    tt_write(w, &v, NULL);
    tt_model t;
    tt_open(w, &t);
    learn_writer_free(w);
    char expect[128];
    int32_t hello = tt_find(&v, "hello"), world = tt_find(&v, "\xC4\xA0world");
    snprintf(expect, sizeof expect, "%d %d", hello, world);
    ck_assert_tok(&t, "hello world", 0, expect);
    /* Punctuation and " 1" are separate words (gpt-2 splits); ids 0..255 are the bytes. */
    size_t n = tt_tok(&t, "hello! 1", 8, 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(tt_ids[0], hello);
    ck_assert_int_eq(tt_ids[1], '!');
    ck_assert_int_eq(tt_ids[2], ' '); /* the byte character of ' ' is token 32 */
    ck_assert_int_eq(tt_ids[3], '1');
    /* A user-defined token is always recognised, a control token only when asked. */
    snprintf(expect, sizeof expect, "%d %d", tt_find(&v, "<think>"), hello);
    ck_assert_tok(&t, "<think>hello", 0, expect);
    n = tt_tok(&t, "<|im_start|>", 12, 0);
    ck_assert_uint_gt(n, 1);
    snprintf(expect, sizeof expect, "%d", tt_find(&v, "<|im_start|>"));
    ck_assert_tok(&t, "<|im_start|>", LEARN_TOKENIZE_PARSE_SPECIAL, expect);
    /* Round trips through the byte map, including bytes above 0x7F and controls. */
    static const char *const texts[] = {"hello world", " \t\n\r x", "caf\xC3\xA9 \xF0\x9F\xA6\x99",
                                        "<think>a", "\x01\x7F"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        n = tt_tok(&t, texts[i], strlen(texts[i]), 0);
        size_t len;
        const char *back = tt_detok(&t, tt_ids, n, &len);
        ck_assert_msg(len == strlen(texts[i]) && memcmp(back, texts[i], len) == 0,
                      "round trip of \"%s\" gave \"%s\"", texts[i], back);
    }
    tt_close(&t);
}
END_TEST

/* NUL bytes are text like any other. */
START_TEST(test_tok_embedded_nul) {
    tt_vocab v = tt_bpe_vocab();
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    tt_write(w, &v, NULL);
    tt_model t;
    tt_open(w, &t);
    learn_writer_free(w);
    size_t n = tt_tok(&t, "a\0b", 3, 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(tt_ids[1], tt_find(&v, tt_bpe_chars[0]));
    size_t len;
    const char *back = tt_detok(&t, tt_ids, n, &len);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(memcmp(back, "a\0b", 3), 0);
    tt_close(&t);
}
END_TEST

/* ---- Reference vectors (assets) ---- */

/* Runs every case of llama.cpp's NAME.inp/.out through the tokenizer of source. */
static void tt_vectors(const char *source, const char *pre, const char *inp_rel) {
    const char *dir = test_assets_dir();
    if (!dir) {
        printf("SKIPPED tokenizer vectors %s: assets directory not found (set LEARN_ASSETS)\n",
               inp_rel);
        return;
    }
    char src[1024], inp[1024], out[1024];
    snprintf(src, sizeof src, "%s/%s", dir, source);
    snprintf(inp, sizeof inp, "%s/%s", dir, inp_rel);
    snprintf(out, sizeof out, "%s", inp);
    memcpy(out + strlen(out) - 4, ".out", 4);
    if (access(src, R_OK) || access(inp, R_OK) || access(out, R_OK)) {
        printf("SKIPPED tokenizer vectors %s: %s or %s not found\n", inp_rel, src, inp);
        return;
    }
    tt_model t;
    tt_open_source(src, pre, &t);
    size_t n_in, n_out;
    char *in = tt_read(inp, &n_in), *ref = tt_read(out, &n_out);
    const char *sep = "\n__ggml_vocab_test__\n";
    size_t sl = strlen(sep), pos = 0, cases = 0, failed = 0;
    char *line = ref, *first_fail = NULL;
    while (pos < n_in) {
        const char *hit = strstr(in + pos, sep); /* the inputs hold no NUL */
        size_t end = hit ? (size_t)(hit - in) : n_in;
        char *nl = strchr(line, '\n');
        ck_assert_msg(nl != NULL, "%s: fewer lines than cases", out);
        *nl = 0;
        size_t n = tt_tok(&t, in + pos, end - pos, 0);
        char got[1 << 14];
        size_t k = 0;
        for (size_t i = 0; i < n && k + 16 < sizeof got; i++)
            k += (size_t)snprintf(got + k, sizeof got - k, " %d", (int)tt_ids[i]);
        got[k] = 0;
        if (strcmp(got, line) != 0 && !failed++) {
            first_fail = (char *)malloc(200 + (end - pos));
            snprintf(first_fail, 200 + (end - pos), "case %zu \"%.*s\": got [%s], expected [%s]",
                     cases, (int)(end - pos), in + pos, got, line);
        }
        cases++;
        line = nl + 1;
        pos = hit ? end + sl : n_in;
    }
    printf("tokenizer vectors %s: %zu/%zu cases\n", inp_rel, cases - failed, cases);
    ck_assert_msg(failed == 0, "%s: %zu of %zu cases differ; first: %s", source, failed, cases,
                  first_fail);
    ck_assert_uint_gt(cases, 40);
    free(in);
    free(ref);
    tt_close(&t);
}

#define TT_VOCAB_TEST(name, vocab)                                                                \
    START_TEST(test_tok_vectors_##name) {                                                         \
        tt_vectors("llamacpp-vocab/ggml-vocab-" vocab ".gguf", NULL,                              \
                   "llamacpp-vocab/ggml-vocab-" vocab ".gguf.inp");                               \
    }                                                                                             \
    END_TEST

TT_VOCAB_TEST(llama_spm, "llama-spm")
TT_VOCAB_TEST(phi_3, "phi-3")
TT_VOCAB_TEST(gpt_2, "gpt-2")
TT_VOCAB_TEST(falcon, "falcon")
TT_VOCAB_TEST(mpt, "mpt")
TT_VOCAB_TEST(starcoder, "starcoder")
TT_VOCAB_TEST(refact, "refact")
TT_VOCAB_TEST(deepseek_llm, "deepseek-llm")
TT_VOCAB_TEST(deepseek_coder, "deepseek-coder")

START_TEST(test_tok_vectors_llama_bpe) {
    tt_vectors("hf-tokenizers/llama3/tokenizer.json", NULL,
               "llamacpp-vocab/ggml-vocab-llama-bpe.gguf.inp");
}
END_TEST

START_TEST(test_tok_vectors_qwen2_folder) {
    /* vocab.json + merges.txt say nothing of the pre-tokenizer: the importer recognises the
       Qwen markers; name it anyway. */
    tt_vectors("qwen2-tokenizer", "qwen2", "llamacpp-vocab/ggml-vocab-qwen2.gguf.inp");
    tt_vectors("qwen2-tokenizer", NULL, "llamacpp-vocab/ggml-vocab-qwen2.gguf.inp");
}
END_TEST

START_TEST(test_tok_vectors_qwen3_json) {
    tt_vectors("hf-tokenizers/qwen3/tokenizer.json", NULL,
               "llamacpp-vocab/ggml-vocab-qwen2.gguf.inp");
}
END_TEST

/* The golden texts with BOS, as llama-tokenize gave them for the golden models' embeddings. */
START_TEST(test_tok_golden_texts) {
    TEST_ASSET(texts, "golden/texts.txt");
    static const char *const models[] = {"stories260K", "llama-tiny-f16", "qwen2-tiny-q8_0"};
    size_t n_text;
    char *all = tt_read(texts, &n_text);
    for (size_t k = 0; k < sizeof models / sizeof models[0]; k++) {
        char src[1024], ref[1024];
        snprintf(src, sizeof src, "%s/golden/models/%s.gguf", test_assets_dir(), models[k]);
        snprintf(ref, sizeof ref, "%s/golden/out/%s.tokens.txt", test_assets_dir(), models[k]);
        if (access(src, R_OK) || access(ref, R_OK)) continue;
        tt_model t;
        tt_open_source(src, NULL, &t);
        size_t n_ref;
        char *ids = tt_read(ref, &n_ref), *line = all, *r = ids;
        size_t lines = 0;
        while (*line && *r) {
            char *nl = strchr(line, '\n'), *rnl = strchr(r, '\n');
            ck_assert_ptr_nonnull(nl);
            ck_assert_ptr_nonnull(rnl);
            *rnl = 0;
            size_t n = tt_tok(&t, line, (size_t)(nl - line), LEARN_TOKENIZE_ADD_SPECIAL);
            char got[1 << 14] = "[";
            size_t g = 1;
            for (size_t i = 0; i < n && g + 16 < sizeof got; i++)
                g += (size_t)snprintf(got + g, sizeof got - g, i ? ", %d" : "%d", (int)tt_ids[i]);
            snprintf(got + g, sizeof got - g, "]");
            ck_assert_msg(strcmp(got, r) == 0, "%s: \"%.*s\": %s, llama.cpp %s", models[k],
                          (int)(nl - line), line, got, r);
            line = nl + 1;
            r = rnl + 1;
            lines++;
        }
        ck_assert_uint_eq(lines, 20);
        printf("tokenizer golden texts %s: %zu/%zu as llama.cpp\n", models[k], lines, lines);
        free(ids);
        tt_close(&t);
    }
    free(all);
}
END_TEST

/* stories260K's tok512.bin (and tok512.model) against SentencePiece's own ids
   (tests/fixtures/gen_spm.py). */
static void tt_spm_fixture(const char *rel) {
    TEST_ASSET(src, rel);
    const char *fixture = "tests/fixtures/spm_tok512.txt";
    if (access(fixture, R_OK)) TEST_SKIP("%s not found (run from the repository root)", fixture);
    tt_model t;
    tt_open_source(src, NULL, &t);
    size_t n_f;
    char *f = tt_read(fixture, &n_f);
    size_t cases = 0;
    for (char *line = strtok(f, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        char *tab = strchr(line, '\t');
        ck_assert_ptr_nonnull(tab);
        size_t hex_len = (size_t)(tab - line), n_text = hex_len / 2;
        char text[4096];
        ck_assert_uint_lt(n_text, sizeof text);
        for (size_t i = 0; i < n_text; i++) {
            unsigned b;
            ck_assert_int_eq(sscanf(line + 2 * i, "%2x", &b), 1);
            text[i] = (char)b;
        }
        size_t n = tt_tok(&t, text, n_text, 0);
        ck_assert_msg(strcmp(tt_str(n), tab + 1) == 0, "\"%.*s\": [%s], SentencePiece [%s]",
                      (int)n_text, text, tt_str(n), tab + 1);
        cases++;
    }
    ck_assert_uint_ge(cases, 40);
    /* BOS is added as llama2.c does. */
    ck_assert_tok(&t, "", LEARN_TOKENIZE_ADD_SPECIAL, "1");
    printf("tokenizer %s: %zu/%zu cases as SentencePiece\n", rel, cases, cases);
    free(f);
    tt_close(&t);
}

START_TEST(test_tok_spm_fixture) {
    tt_spm_fixture("llama2c/tok512.bin");
    tt_spm_fixture("llama2c/tok512.model");
}
END_TEST

/* A SentencePiece model that is not one; a UNIGRAM one. */
START_TEST(test_tok_spm_model_bad) {
    static const uint8_t cases[][12] = {
        {0x0A, 0x05, 0x0A, 0x7F, 'a'},                  /* piece string runs past the end */
        {0x0A, 0x02, 0x0A, 0x00, 0x12, 0x02, 0x18, 0x01}, /* empty piece; model_type 1 */
    };
    static const size_t lens[] = {5, 8};
    static const char *const msgs[] = {"bad protobuf", "model type 1"};
    for (size_t i = 0; i < 2; i++) {
        const char *path = test_tmp_path("bad.model");
        FILE *f = fopen(path, "wb");
        fwrite(cases[i], 1, lens[i], f);
        fclose(f);
        learn_writer *w;
        ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
        char err[512];
        ck_assert_int_ne(tokimport_auto(w, path, NULL, err, sizeof err), LEARN_OK);
        ck_assert_msg(strstr(err, msgs[i]) != NULL, "\"%s\" lacks \"%s\"", err, msgs[i]);
        learn_writer_free(w);
        remove(path);
    }
}
END_TEST

/* Detokenizing what tokenizing gave returns the text, for each vocabulary family. */
START_TEST(test_tok_round_trip_assets) {
    const char *dir = test_assets_dir();
    if (!dir) TEST_SKIP("assets directory not found (set LEARN_ASSETS)");
    static const char *const sources[] = {"llamacpp-vocab/ggml-vocab-llama-spm.gguf",
                                          "llamacpp-vocab/ggml-vocab-gpt-2.gguf",
                                          "llamacpp-vocab/ggml-vocab-deepseek-llm.gguf",
                                          "hf-tokenizers/qwen3/tokenizer.json",
                                          "llama2c/tok512.bin"};
    static const char *const texts[] = {
        "Title: The Matrix. Brand: Warner. Category: Movies > Sci-Fi",
        " leading space, trailing space ", "tabs\tand\nnewlines\r\n\n",
        ("caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\xA6\x99 "
         "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"),
        "<|im_start|>user\nhello<|im_end|>", "3333 1,000,000.50 'quoted' \"double\" don't",
        ""};
    for (size_t s = 0; s < sizeof sources / sizeof sources[0]; s++) {
        char src[1024];
        snprintf(src, sizeof src, "%s/%s", dir, sources[s]);
        if (access(src, R_OK)) continue;
        tt_model t;
        tt_open_source(src, NULL, &t);
        int collapses = strstr(sources[s], "tok512") != NULL; /* SentencePiece's clean-up */
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
            if (collapses && (texts[i][0] == ' ' || strstr(texts[i], "  "))) continue;
            size_t n = tt_tok(&t, texts[i], strlen(texts[i]), 0), len;
            const char *back = tt_detok(&t, tt_ids, n, &len);
            ck_assert_msg(len == strlen(texts[i]) && memcmp(back, texts[i], len) == 0,
                          "%s: \"%s\" came back as \"%s\"", sources[s], texts[i], back);
        }
        tt_close(&t);
    }
}
END_TEST

/* The same model shared by two threads gives the same ids as one thread. */
typedef struct tt_thread_arg {
    const learn_model *m;
    const char *text;
    size_t len;
    int32_t *ids;
    size_t n;
    learn_status st;
} tt_thread_arg;

static void *tt_thread_main(void *p) {
    tt_thread_arg *a = (tt_thread_arg *)p;
    learn_ctx *ctx;
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = 1;
    a->st = learn_ctx_new(a->m, &cp, &ctx);
    for (int rep = 0; rep < 20 && !a->st; rep++)
        a->st = learn_tokenize(ctx, a->text, a->len, 0, a->ids, 4096, &a->n);
    learn_ctx_free(ctx);
    return NULL;
}

START_TEST(test_tok_threads) {
    TEST_ASSET(src, "llamacpp-vocab/ggml-vocab-mpt.gguf");
    tt_model t;
    tt_open_source(src, NULL, &t);
    const char *text = "Hello   world,  this is   a test of  shared   tokenizers. "
                       "\xC3\xA9\xE4\xB8\xAD";
    size_t n = tt_tok(&t, text, strlen(text), 0);
    tt_thread_arg args[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        args[i].m = t.m;
        args[i].text = text;
        args[i].len = strlen(text);
        args[i].ids = (int32_t *)malloc(4096 * sizeof(int32_t));
        ck_assert_int_eq(pthread_create(&th[i], NULL, tt_thread_main, &args[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].st, LEARN_OK);
        ck_assert_uint_eq(args[i].n, n);
        ck_assert_int_eq(memcmp(args[i].ids, tt_ids, n * sizeof(int32_t)), 0);
        free(args[i].ids);
    }
    tt_close(&t);
}
END_TEST

/* ---- Bad text (RELIABILITY B) ---- */

START_TEST(test_tok_bad_utf8) {
    tt_vocab v = tt_bpe_vocab();
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    tt_write(w, &v, NULL);
    tt_model t;
    tt_open(w, &t);
    learn_writer_free(w);
    tt_vocab vs = tt_spm_vocab();
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    tt_write(w, &vs, NULL);
    tt_model ts;
    tt_open(w, &ts);
    learn_writer_free(w);
    /* Every kind of ill-formed UTF-8, at the end of the buffer where a read past it would show
       under ASan: each text is copied into a block of exactly its size. */
    static const struct {
        const char *s;
        size_t n;
        size_t bpe_fffd; /* U+FFFD (3 byte tokens each) expected */
    } cases[] = {
        {"\x80", 1, 1},             /* lone continuation byte */
        {"a\xBF\xBF", 3, 2},        /* continuation bytes */
        {"\xE2\x80", 2, 2},         /* truncated 3-byte sequence at the end */
        {"\xF0\x9F\xA6", 3, 3},     /* truncated 4-byte sequence */
        {"\xC3", 1, 1},             /* truncated 2-byte sequence */
        {"\xFF\xFE", 2, 2},         /* bytes that never appear */
        {"\xC0\x80", 2, 2},         /* overlong NUL */
        {"\xE0\x80\xAF", 3, 3},     /* overlong '/' */
        {"\xED\xA0\x80", 3, 3},     /* surrogate U+D800 */
        {"\xF4\x90\x80\x80", 4, 4}, /* above U+10FFFF */
        {"\xF8\x88\x80\x80\x80", 5, 5}, /* 5-byte form */
    };
    int32_t fffd[3] = {tt_find(&v, "\xC3\xAF"), tt_find(&v, "\xC2\xBF"), tt_find(&v, "\xC2\xBD")};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *exact = (char *)malloc(cases[i].n);
        memcpy(exact, cases[i].s, cases[i].n);
        size_t n = tt_tok(&t, exact, cases[i].n, 0), found = 0;
        for (size_t k = 0; k + 3 <= n; k++)
            found += tt_ids[k] == fffd[0] && tt_ids[k + 1] == fffd[1] && tt_ids[k + 2] == fffd[2];
        ck_assert_msg(found == cases[i].bpe_fffd, "case %zu: %zu U+FFFD, expected %zu", i, found,
                      cases[i].bpe_fffd);
        /* spm falls back to byte tokens: lossless. */
        n = tt_tok(&ts, exact, cases[i].n, 0);
        size_t len;
        const char *back = tt_detok(&ts, tt_ids, n, &len);
        ck_assert_uint_eq(len, cases[i].n);
        ck_assert_int_eq(memcmp(back, cases[i].s, len), 0);
        free(exact);
    }
    tt_close(&t);
    tt_close(&ts);
}
END_TEST

START_TEST(test_tok_buffers_and_limits) {
    tt_vocab v = tt_bpe_vocab();
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    tt_write(w, &v, NULL);
    tt_model t;
    tt_open(w, &t);
    learn_writer_free(w);
    const char *text = "hello world hello world";
    size_t need;
    /* Sizing call: hello, " world", " " "hello", " world". */
    ck_assert_int_eq(learn_tokenize(t.ctx, text, strlen(text), 0, NULL, 0, &need),
                     LEARN_ERR_BUFFER);
    ck_assert_uint_eq(need, 5);
    /* Too small: the count needed, nothing written past the end. */
    int32_t buf[8];
    for (int i = 0; i < 8; i++) buf[i] = -7;
    size_t got;
    ck_assert_int_eq(learn_tokenize(t.ctx, text, strlen(text), 0, buf, 3, &got), LEARN_ERR_BUFFER);
    ck_assert_uint_eq(got, 5);
    ck_assert_int_eq(buf[3], -7);
    ck_assert_ptr_nonnull(strstr(learn_ctx_errmsg(t.ctx), "5 ids needed"));
    ck_assert_int_eq(learn_tokenize(t.ctx, text, strlen(text), 0, buf, 5, &got), LEARN_OK);
    ck_assert_uint_eq(got, 5);
    /* Detokenize: too small, then exact (the NUL needs a byte). */
    char out[64];
    memset(out, '#', sizeof out);
    size_t len;
    ck_assert_int_eq(learn_detokenize(t.ctx, buf, 5, out, 10, &len), LEARN_ERR_BUFFER);
    ck_assert_uint_eq(len, strlen(text));
    ck_assert_int_eq(out[10], '#');
    ck_assert_int_eq(learn_detokenize(t.ctx, buf, 5, out, strlen(text), &len), LEARN_ERR_BUFFER);
    ck_assert_int_eq(learn_detokenize(t.ctx, buf, 5, out, strlen(text) + 1, &len), LEARN_OK);
    ck_assert_str_eq(out, text);
    ck_assert_int_eq(learn_detokenize(t.ctx, buf, 0, out, 1, &len), LEARN_OK);
    ck_assert_uint_eq(len, 0);
    /* Ids out of range. */
    int32_t bad[2] = {buf[0], (int32_t)v.n};
    ck_assert_int_eq(learn_detokenize(t.ctx, bad, 2, out, sizeof out, &len), LEARN_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(learn_ctx_errmsg(t.ctx), "ids[1]"));
    bad[1] = -1;
    ck_assert_int_eq(learn_detokenize(t.ctx, bad, 2, out, sizeof out, &len), LEARN_ERR_ARG);
    /* Arguments. */
    ck_assert_int_eq(learn_tokenize(t.ctx, NULL, 3, 0, buf, 8, &got), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_tokenize(t.ctx, text, 3, 0x100, buf, 8, &got), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_tokenize(t.ctx, text, 3, 0, NULL, 8, &got), LEARN_ERR_ARG);
    ck_assert_int_eq(learn_tokenize(t.ctx, NULL, 0, 0, NULL, 0, &got), LEARN_OK);
    ck_assert_uint_eq(got, 0);
    tt_close(&t);
    /* The configured maximum. */
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    tt_write(w, &v, NULL);
    tt_model t2;
    tt_open(w, &t2);
    learn_writer_free(w);
    learn_ctx *small;
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = 1;
    cp.max_text_len = 10;
    ck_assert_int_eq(learn_ctx_new(t2.m, &cp, &small), LEARN_OK);
    ck_assert_int_eq(learn_tokenize(small, text, 10, 0, buf, 8, &got), LEARN_OK);
    ck_assert_int_eq(learn_tokenize(small, text, 11, 0, buf, 8, &got), LEARN_ERR_TOO_LONG);
    ck_assert_ptr_nonnull(strstr(learn_ctx_errmsg(small), "11 bytes"));
    learn_ctx_free(small);
    tt_close(&t2);
}
END_TEST

/* Megabytes of text: prose-like, one huge word, a run of spaces, a million newlines. */
START_TEST(test_tok_huge_inputs) {
    const char *dir = test_assets_dir();
    tt_model t;
    tt_vocab v = tt_bpe_vocab();
    char src[1024];
    int real = 0;
    if (dir) {
        snprintf(src, sizeof src, "%s/llamacpp-vocab/ggml-vocab-gpt-2.gguf", dir);
        real = access(src, R_OK) == 0;
    }
    if (real) {
        tt_open_source(src, NULL, &t);
    } else {
        learn_writer *w;
        ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
        tt_write(w, &v, NULL);
        tt_open(w, &t);
        learn_writer_free(w);
    }
    size_t n = 10u << 20;
    char *text = (char *)malloc(n);
    int32_t *ids = (int32_t *)malloc(n * sizeof(int32_t));
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(ids);
    static const char *const words[] = {"the ", "quick ", "brown ", "fox, ", "jumps\n", "over ",
                                        "42 ", "caf\xC3\xA9 ", "l\xE2\x80\x99\xC3\xA9t\xC3\xA9 "};
    size_t k = 0;
    for (unsigned r = 0; k + 16 < n; r = r * 1103515245u + 12345u) {
        const char *wd = words[(r >> 16) % (sizeof words / sizeof words[0])];
        memcpy(text + k, wd, strlen(wd));
        k += strlen(wd);
    }
    size_t got;
    ck_assert_int_eq(learn_tokenize(t.ctx, text, k, 0, ids, n, &got), LEARN_OK);
    ck_assert_uint_gt(got, k / 8);
    /* One word of a megabyte, a megabyte of spaces, of newlines: O(n log n), no blow-up. */
    const char fills[3] = {'a', ' ', '\n'};
    for (int f = 0; f < 3; f++) {
        memset(text, fills[f], 1u << 20);
        ck_assert_int_eq(learn_tokenize(t.ctx, text, 1u << 20, 0, ids, n, &got), LEARN_OK);
        ck_assert_uint_gt(got, 0);
        ck_assert_uint_le(got, 1u << 20);
    }
    free(text);
    free(ids);
    tt_close(&t);
}
END_TEST

/* ---- Hostile tokenizer data (RELIABILITY A.8) ---- */

static void tt_bad_byte_minus(tt_arrays *a) { memcpy(a->text + a->offs[3], "<0x-1>", 6); }
static void tt_bad_byte_long(tt_arrays *a) {
    /* "<0x1FF>": one byte longer than <0x00>, taken from the next token's first byte. */
    a->offs[4] += 1;
    memcpy(a->text + a->offs[3], "<0x1FF>", 7);
}
static void tt_bad_empty(tt_arrays *a) { a->offs[5] = a->offs[4]; }
static void tt_bad_dup(tt_arrays *a) { memcpy(a->text + a->offs[5], "<0x00>", 6); a->types[5] = 1; }
static void tt_bad_offsets_end(tt_arrays *a) { a->offs[a->n] -= 1; }
static void tt_bad_offsets_first(tt_arrays *a) { a->offs[0] = 1; }
static void tt_bad_nan(tt_arrays *a) { a->scores[7] = NAN; }
static void tt_bad_type(tt_arrays *a) { a->types[8] = 9; }
static void tt_bad_flags(tt_arrays *a) { a->types[8] = 0x81; }
static void tt_bad_merge_range(tt_arrays *a) { a->merges[3] = (int32_t)a->n + 5; }
static void tt_bad_merge_neg(tt_arrays *a) { a->merges[0] = -1; }
static void tt_bad_merge_unknown(tt_arrays *a) { a->merges[0] = 'z', a->merges[1] = 'q'; }

START_TEST(test_tok_hostile_data) {
    static const struct {
        int bpe;
        void (*corrupt)(tt_arrays *);
        const char *field;
    } cases[] = {
        {0, tt_bad_byte_minus, "<0x-1>"},
        {0, tt_bad_byte_long, "tokenizer.types[3]"},
        {0, tt_bad_empty, "token 4 is empty"},
        {0, tt_bad_dup, "same text"},
        {0, tt_bad_offsets_end, "tokenizer.offsets"},
        {0, tt_bad_offsets_first, "tokenizer.offsets[0]"},
        {0, tt_bad_nan, "tokenizer.scores[7] is NaN"},
        {0, tt_bad_type, "tokenizer.types[8]"},
        {0, tt_bad_flags, "tokenizer.types[8]"},
        {1, tt_bad_merge_range, "tokenizer.merges[1]"},
        {1, tt_bad_merge_neg, "tokenizer.merges[0]"},
        {1, tt_bad_merge_unknown, "not a token"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tt_vocab v = cases[i].bpe ? tt_bpe_vocab() : tt_spm_vocab();
        learn_writer *w;
        ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
        tt_write(w, &v, cases[i].corrupt);
        test_blob b = test_blob_from_writer(w);
        learn_writer_free(w);
        ck_assert_open_fails(&b, LEARN_ERR_FORMAT, cases[i].field);
        test_blob_free(&b);
    }
}
END_TEST

/* Metadata errors: special ids out of range, unknown names, contradictions. */
START_TEST(test_tok_hostile_meta) {
    static const struct {
        const char *key;
        int kind; /* 0 i32, 1 str, 2 bool */
        int32_t i;
        const char *s;
        int bpe;
        learn_status st;
        const char *field;
    } cases[] = {
        {"tokenizer.bos_id", 0, 1 << 20, NULL, 0, LEARN_ERR_FORMAT, "tokenizer.bos_id"},
        {"tokenizer.eos_id", 0, -2, NULL, 0, LEARN_ERR_FORMAT, "tokenizer.eos_id"},
        {"tokenizer.unk_id", 0, 271, NULL, 0, LEARN_ERR_FORMAT, "tokenizer.unk_id"},
        {"tokenizer.pad_id", 1, 0, "x", 0, LEARN_ERR_FORMAT, "tokenizer.pad_id"},
        {"tokenizer.model", 1, 0, "wordpiece", 0, LEARN_ERR_UNSUPPORTED, "tokenizer.model"},
        {"tokenizer.pre", 1, 0, "tekken", 1, LEARN_ERR_UNSUPPORTED, "tokenizer.pre"},
        {"tokenizer.normalizer", 1, 0, "nfkc", 0, LEARN_ERR_UNSUPPORTED, "tokenizer.normalizer"},
        {"tokenizer.add_space_prefix", 2, 1, NULL, 1, LEARN_ERR_FORMAT, "spm only"},
        {"tokenizer.add_bos", 2, 1, NULL, 1, LEARN_OK, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tt_vocab v = cases[i].bpe ? tt_bpe_vocab() : tt_spm_vocab();
        learn_writer *w;
        ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
        tt_write(w, &v, NULL);
        if (cases[i].kind == 0) learn_writer_set_i32(w, cases[i].key, cases[i].i);
        else if (cases[i].kind == 1)
            learn_writer_set_str(w, cases[i].key, cases[i].s, strlen(cases[i].s));
        else learn_writer_set_bool(w, cases[i].key, cases[i].i);
        test_blob b = test_blob_from_writer(w);
        learn_writer_free(w);
        if (cases[i].field) ck_assert_open_fails(&b, cases[i].st, cases[i].field);
        test_blob_free(&b);
    }
    /* add_bos without a BOS id; a missing required tensor; a wrong tensor type. */
    tt_vocab v = tt_spm_vocab();
    v.bos = -1;
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    tt_write(w, &v, NULL);
    test_blob b = test_blob_from_writer(w);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tokenizer.add_bos");
    test_blob_free(&b);
    learn_writer_remove_tensor(w, "tokenizer.scores");
    learn_writer_set_i32(w, "tokenizer.bos_id", 1);
    b = test_blob_from_writer(w);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tokenizer.scores");
    test_blob_free(&b);
    float junk[4] = {0};
    uint64_t shape[1] = {4};
    learn_writer_add_tensor(w, "tokenizer.scores", LEARN_TYPE_F32, 1, shape, junk,
                            LEARN_WRITER_COPY);
    b = test_blob_from_writer(w);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tokenizer.scores");
    test_blob_free(&b);
    learn_writer_remove_tensor(w, "tokenizer.offsets");
    b = test_blob_from_writer(w);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tokenizer.offsets");
    test_blob_free(&b);
    learn_writer_free(w);
    /* bpe without merges. */
    tt_vocab vb = tt_bpe_vocab();
    vb.n_merges = 0;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    tt_write(w, &vb, NULL);
    b = test_blob_from_writer(w);
    ck_assert_open_fails(&b, LEARN_ERR_FORMAT, "tokenizer.merges");
    test_blob_free(&b);
    learn_writer_free(w);
}
END_TEST

/* A model without a tokenizer: the functions say so. */
START_TEST(test_tok_absent) {
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    learn_writer_set_str(w, "general.name", "empty", 5);
    tt_model t;
    tt_open(w, &t);
    learn_writer_free(w);
    size_t n;
    ck_assert_int_eq(learn_tokenize(t.ctx, "a", 1, 0, tt_ids, 8, &n), LEARN_ERR_NOT_FOUND);
    ck_assert_int_eq(learn_detokenize(t.ctx, tt_ids, 0, NULL, 0, &n), LEARN_ERR_NOT_FOUND);
    learn_tokenizer_info info;
    ck_assert_int_eq(learn_tokenizer_get_info(t.m, &info), LEARN_ERR_NOT_FOUND);
    ck_assert_str_eq(info.model, "");
    tt_close(&t);
}
END_TEST

/* Allocation failures: loading and tokenizing fail cleanly with NOMEM at every allocation. */
START_TEST(test_tok_oom) {
    tt_vocab v = tt_bpe_vocab();
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    tt_write(w, &v, NULL);
    test_blob b = test_blob_from_writer(w);
    learn_writer_free(w);
    const char *text = "hello <think> world\xC3\xA9 1234 \xFF";
    int done = 0;
    for (long fail = 1; fail < 500 && !done; fail++) {
        test_counting c = {0, 0, fail};
        learn_model_params mp = learn_model_default_params();
        mp.allocator = test_counting_allocator(&c);
        learn_model *m = NULL;
        char err[LEARN_ERRMSG_SIZE];
        learn_status st = learn_model_open_memory(b.p, b.n, &mp, &m, err, sizeof err);
        if (st) {
            ck_assert_int_eq(st, LEARN_ERR_NOMEM);
            ck_assert_int_eq(c.live, 0);
            continue;
        }
        learn_ctx *ctx = NULL;
        st = learn_ctx_new(m, NULL, &ctx);
        if (!st) {
            size_t n;
            st = learn_tokenize(ctx, text, strlen(text), LEARN_TOKENIZE_PARSE_SPECIAL, tt_ids,
                                1024, &n);
            if (!st) done = 1;
            else ck_assert_int_eq(st, LEARN_ERR_NOMEM);
        } else {
            ck_assert_int_eq(st, LEARN_ERR_NOMEM);
        }
        learn_ctx_free(ctx);
        learn_model_close(m);
        ck_assert_int_eq(c.live, 0);
    }
    ck_assert_msg(done, "tokenizing never succeeded");
    test_blob_free(&b);
}
END_TEST

/* ---- Unicode internals ---- */

START_TEST(test_tok_unicode_tables) {
    /* Categories as llama.cpp groups them, and White_Space. */
    ck_assert_uint_eq(learn__ucp_props('a') & LEARN__UCP_CAT, LEARN__UCP_L);
    ck_assert_uint_eq(learn__ucp_props('7') & LEARN__UCP_CAT, LEARN__UCP_N);
    ck_assert_uint_eq(learn__ucp_props('~') & LEARN__UCP_CAT, LEARN__UCP_S);
    ck_assert_uint_eq(learn__ucp_props('!') & LEARN__UCP_CAT, LEARN__UCP_P);
    ck_assert_uint_eq(learn__ucp_props(0x0301) & LEARN__UCP_CAT, LEARN__UCP_M);
    ck_assert_uint_eq(learn__ucp_props(0x4E2D) & LEARN__UCP_CAT, LEARN__UCP_L);
    ck_assert_uint_eq(learn__ucp_props(0x0663) & LEARN__UCP_CAT, LEARN__UCP_N);
    ck_assert_uint_eq(learn__ucp_props(0x1F999) & LEARN__UCP_CAT, LEARN__UCP_S);
    ck_assert_uint_eq(learn__ucp_props(0xE000) & LEARN__UCP_CAT, LEARN__UCP_C);
    ck_assert_uint_eq(learn__ucp_props(0x0378) & LEARN__UCP_CAT, LEARN__UCP_CN);
    ck_assert_uint_eq(learn__ucp_props(0x110000) & LEARN__UCP_CAT, LEARN__UCP_CN);
    static const uint32_t spaces[] = {9, 10, 11, 12, 13, 32, 0x85, 0xA0, 0x1680, 0x2000, 0x200A,
                                      0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
    for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++)
        ck_assert(learn__ucp_props(spaces[i]) & LEARN__UCP_SPACE);
    ck_assert(!(learn__ucp_props(0x200B) & LEARN__UCP_SPACE));
    ck_assert(!(learn__ucp_props(0x1C) & LEARN__UCP_SPACE));
    /* NFC: composition, reordering, Hangul, exclusions, singletons. */
    static const struct {
        uint32_t in[4];
        size_t n_in;
        uint32_t out[4];
        size_t n_out;
    } nfc[] = {
        {{'e', 0x301}, 2, {0xE9}, 1},
        {{'o', 0x302, 0x323}, 3, {0x1ED9}, 1},   /* reordered: dot below first */
        {{0x1100, 0x1161, 0x11A8}, 3, {0xAC01}, 1},
        {{0x212B}, 1, {0xC5}, 1},                /* ANGSTROM SIGN -> Å */
        {{0x0958}, 1, {0x0915, 0x093C}, 2},      /* composition exclusion */
        {{'a', 0x308, 0x301}, 3, {0xE4, 0x301}, 2},
        {{0x301, 'e'}, 2, {0x301, 'e'}, 2},      /* no starter to join */
    };
    learn_allocator a;
    learn__alloc_resolve(NULL, &a);
    for (size_t i = 0; i < sizeof nfc / sizeof nfc[0]; i++) {
        learn__tok_buf b = {NULL, 0};
        ck_assert(learn__tok_reserve(&a, &b, nfc[i].n_in, sizeof(uint32_t)));
        memcpy(b.p, nfc[i].in, nfc[i].n_in * sizeof(uint32_t));
        size_t n = nfc[i].n_in;
        ck_assert_int_eq(learn__tok_nfc(&a, &b, &n), LEARN_OK);
        ck_assert_uint_eq(n, nfc[i].n_out);
        ck_assert_int_eq(memcmp(b.p, nfc[i].out, n * sizeof(uint32_t)), 0);
        learn__tok_buf_free(&a, &b);
    }
    /* A long run of combining marks is reordered in linear time. */
    size_t big = 200000;
    learn__tok_buf b = {NULL, 0};
    ck_assert(learn__tok_reserve(&a, &b, big + 1, sizeof(uint32_t)));
    uint32_t *p = (uint32_t *)b.p;
    p[0] = 'a';
    for (size_t i = 1; i <= big; i++) p[i] = i % 2 ? 0x301 : 0x323;
    size_t n = big + 1;
    ck_assert_int_eq(learn__tok_nfc(&a, &b, &n), LEARN_OK);
    p = (uint32_t *)b.p;
    ck_assert_uint_eq(p[0], 0x1EA1); /* a + dot below */
    ck_assert_uint_eq(p[1], 0x323);
    ck_assert_uint_eq(p[n - 1], 0x301);
    learn__tok_buf_free(&a, &b);
    /* The strict UTF-8 decoder. */
    const uint8_t s[] = {0xE2, 0x82, 0xAC, 0xC0, 0xAF, 0x41};
    size_t i = 0;
    ck_assert_uint_eq(learn__tok_utf8_next(s, sizeof s, &i), 0x20AC);
    ck_assert_uint_eq(learn__tok_utf8_next(s, sizeof s, &i), 0xFFFD);
    ck_assert_uint_eq(learn__tok_utf8_next(s, sizeof s, &i), 0xFFFD);
    ck_assert_uint_eq(learn__tok_utf8_next(s, sizeof s, &i), 'A');
    ck_assert_uint_eq(i, sizeof s);
}
END_TEST

/* ---- Tools: JSON ---- */

START_TEST(test_tok_json) {
    static const struct {
        const char *text;
        const char *error; /* NULL: valid */
    } cases[] = {
        {"{\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83e\\udd99\"]}", NULL},
        {"\xEF\xBB\xBF {\"bom\": 1}", NULL},
        {"[1e999]", "line 1, column 2: number out of range"},
        {"[-1e999]", "number out of range"},
        {"[1e-999]", NULL},
        {"{\"a\": 1,\n \"a\": 2}", "line 1, column 1: duplicate key \"a\""},
        {"[\"\\ud800\"]", "high surrogate"},
        {"[\"\\udc00\"]", "lone low surrogate"},
        {"[\"\xC0\xAF\"]", "invalid UTF-8"},
        {"[\"\xED\xA0\x80\"]", "invalid UTF-8"},
        {"[\"a\tb\"]", "control character"},
        {"\n\n  [01]", "line 3, column 4: number with a leading zero"},
        {"[NaN]", "unexpected character 'N'"},
        {"[1,]", "unexpected character ']'"},
        {"{} x", "unexpected data after the value"},
        {"[\"abc", "unterminated string"},
        {"", "unexpected end of input"},
        {"[+1]", "unexpected character '+'"},
        {"[.5]", "unexpected character '.'"},
        {"[1.]", "digits must follow"},
        {"[\"\\x\"]", "bad escape"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_doc *d = NULL;
        char err[256] = "";
        learn_status st =
            json_parse(cases[i].text, strlen(cases[i].text), NULL, &d, err, sizeof err);
        if (!cases[i].error) {
            ck_assert_msg(st == LEARN_OK, "case %zu: %s", i, err);
        } else {
            ck_assert_msg(st != LEARN_OK, "case %zu parsed", i);
            ck_assert_msg(strstr(err, cases[i].error) != NULL, "case %zu: \"%s\" lacks \"%s\"", i,
                          err, cases[i].error);
        }
        json_free(d);
    }
    /* Values. */
    const char *text =
        "{\"n\": 9007199254740993, \"f\": 0.5, \"s\": \"a\\u0000b\", \"o\": {\"k\": [1, 2]}}";
    json_doc *d;
    ck_assert_int_eq(json_parse(text, strlen(text), NULL, &d, NULL, 0), LEARN_OK);
    const json_value *r = json_root(d), *n = json_get(r, "n");
    ck_assert(n->is_int && n->u.num.i == 9007199254740993LL);
    ck_assert(json_get(r, "f")->u.num.d == 0.5 && !json_get(r, "f")->is_int);
    size_t len;
    ck_assert_int_eq(memcmp(json_str(json_get(r, "s"), &len), "a\0b", 3), 0);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(json_at(json_get(json_get(r, "o"), "k"), 1)->u.num.i, 2);
    ck_assert_ptr_null(json_get(r, "missing"));
    ck_assert_ptr_null(json_at(n, 0));
    json_free(d);
    /* Nesting limit; duplicates allowed on request. */
    char deep[400];
    memset(deep, '[', 200);
    memset(deep + 200, ']', 200);
    char err[256];
    ck_assert_int_eq(json_parse(deep, 400, NULL, &d, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "nesting deeper than 128"));
    json_opts o = {300, 1};
    ck_assert_int_eq(json_parse(deep, 400, &o, &d, err, sizeof err), LEARN_OK);
    json_free(d);
    ck_assert_int_eq(json_parse("{\"a\":1,\"a\":2}", 13, &o, &d, err, sizeof err), LEARN_OK);
    ck_assert_int_eq(json_get(json_root(d), "a")->u.num.i, 1);
    json_free(d);
    /* Many keys: duplicates found by hashing. */
    char big[8192];
    size_t k = 0;
    big[k++] = '{';
    for (int i = 0; i < 500; i++)
        k += (size_t)snprintf(big + k, sizeof big - k, "\"k%d\":%d,", i, i);
    k += (size_t)snprintf(big + k, sizeof big - k, "\"k77\":0}");
    ck_assert_int_eq(json_parse(big, k, NULL, &d, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "duplicate key \"k77\""));
}
END_TEST

/* ---- Tools: GGUF ---- */

typedef struct tt_gguf {
    uint8_t *p;
    size_t n, cap;
} tt_gguf;

static void tt_g_bytes(tt_gguf *g, const void *d, size_t n) {
    if (g->n + n > g->cap) {
        g->cap = (g->n + n) * 2 + 256;
        g->p = (uint8_t *)realloc(g->p, g->cap);
    }
    memcpy(g->p + g->n, d, n);
    g->n += n;
}
static void tt_g_u32(tt_gguf *g, uint32_t v) { tt_g_bytes(g, &v, 4); }
static void tt_g_u64(tt_gguf *g, uint64_t v) { tt_g_bytes(g, &v, 8); }
static void tt_g_str(tt_gguf *g, const char *s) {
    tt_g_u64(g, strlen(s));
    tt_g_bytes(g, s, strlen(s));
}

/* A small valid GGUF: a string, a u32, an array of strings, a nested array, one f32 tensor. */
static tt_gguf tt_g_valid(void) {
    tt_gguf g = {NULL, 0, 0};
    tt_g_bytes(&g, "GGUF", 4);
    tt_g_u32(&g, 3);
    tt_g_u64(&g, 1); /* tensors */
    tt_g_u64(&g, 4); /* kv */
    tt_g_str(&g, "general.name");
    tt_g_u32(&g, 8);
    tt_g_str(&g, "tiny");
    tt_g_str(&g, "x.count");
    tt_g_u32(&g, 4);
    tt_g_u32(&g, 7);
    tt_g_str(&g, "tokenizer.ggml.tokens");
    tt_g_u32(&g, 9);
    tt_g_u32(&g, 8);
    tt_g_u64(&g, 3);
    tt_g_str(&g, "a");
    tt_g_str(&g, "bc");
    tt_g_str(&g, "");
    tt_g_str(&g, "x.nested");
    tt_g_u32(&g, 9);
    tt_g_u32(&g, 9);
    tt_g_u64(&g, 2);
    tt_g_u32(&g, 5), tt_g_u64(&g, 2), tt_g_u32(&g, 1), tt_g_u32(&g, 2);
    tt_g_u32(&g, 8), tt_g_u64(&g, 1), tt_g_str(&g, "z");
    tt_g_str(&g, "w");
    tt_g_u32(&g, 2);
    tt_g_u64(&g, 4);
    tt_g_u64(&g, 2);
    tt_g_u32(&g, 0); /* f32 */
    tt_g_u64(&g, 0);
    while (g.n % 32) tt_g_bytes(&g, "", 1);
    float w[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    tt_g_bytes(&g, w, sizeof w);
    return g;
}

START_TEST(test_tok_gguf_reader) {
    tt_gguf g = tt_g_valid();
    gguf_file *f;
    char err[256];
    ck_assert_msg(gguf_open_memory(g.p, g.n, &f, err, sizeof err) == LEARN_OK, "%s", err);
    gguf_value v, e, e2;
    ck_assert_int_eq(gguf_get(f, "x.count", &v), LEARN_OK);
    int64_t i64;
    ck_assert_int_eq(gguf_as_i64(&v, &i64), LEARN_OK);
    ck_assert_int_eq(i64, 7);
    ck_assert_int_eq(gguf_get(f, "tokenizer.ggml.tokens", &v), LEARN_OK);
    ck_assert_uint_eq(v.count, 3);
    ck_assert_int_eq(gguf_elem(&v, 1, &e), LEARN_OK);
    ck_assert_uint_eq(e.count, 2);
    ck_assert_int_eq(memcmp(e.data, "bc", 2), 0);
    ck_assert_int_eq(gguf_elem(&v, 3, &e), LEARN_ERR_ARG);
    ck_assert_int_eq(gguf_get(f, "x.nested", &v), LEARN_OK);
    ck_assert_int_eq(gguf_elem(&v, 1, &e), LEARN_OK);
    ck_assert_int_eq(e.elem, GGUF_TYPE_STRING);
    ck_assert_int_eq(gguf_elem(&e, 0, &e2), LEARN_OK);
    ck_assert_int_eq(memcmp(e2.data, "z", 1), 0);
    ck_assert_int_eq(gguf_get(f, "absent", &v), LEARN_ERR_NOT_FOUND);
    const gguf_tensor *t = gguf_find_tensor(f, "w");
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(t->size, 32);
    ck_assert_uint_eq(t->ne[0], 4);
    ck_assert(((const float *)t->data)[7] == 8.0f);
    gguf_close(f);

    /* Hostile variants: each patch of the valid file must be refused naming the field. */
    static const struct {
        size_t off;      /* where to patch */
        uint64_t value;
        int width;       /* 4 or 8 */
        const char *msg;
    } bad[] = {
        {0, 0x46554747 ^ 1, 4, "not a GGUF file"},
        {4, 1, 4, "version 1"},
        {4, 0x03000000, 4, "big-endian"},
        {8, 1ull << 40, 8, "tensor count"},
        {16, UINT64_MAX, 8, "metadata count"},
        {24, UINT64_MAX, 8, "string of"},           /* key length */
        {24 + 8 + 12, 13, 4, "unknown value type"}, /* general.name's type */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tt_gguf h = tt_g_valid();
        if (bad[i].width == 4) {
            uint32_t x = (uint32_t)bad[i].value;
            memcpy(h.p + bad[i].off, &x, 4);
        } else {
            memcpy(h.p + bad[i].off, &bad[i].value, 8);
        }
        err[0] = 0;
        ck_assert_int_ne(gguf_open_memory(h.p, h.n, &f, err, sizeof err), LEARN_OK);
        ck_assert_msg(strstr(err, bad[i].msg) != NULL, "case %zu: \"%s\" lacks \"%s\"", i, err,
                      bad[i].msg);
        free(h.p);
    }
    /* Every truncation is refused, never read past. */
    for (size_t n = 0; n < g.n; n++) {
        uint8_t *cut = (uint8_t *)malloc(n ? n : 1);
        memcpy(cut, g.p, n);
        ck_assert_int_ne(gguf_open_memory(cut, n, &f, err, sizeof err), LEARN_OK);
        free(cut);
    }
    free(g.p);
}
END_TEST

/* GGUF importer edge cases: the real vocab files carry what llama.cpp needs. */
START_TEST(test_tok_import_gguf_settings) {
    TEST_ASSET(src, "llamacpp-vocab/ggml-vocab-phi-3.gguf");
    tt_model t;
    tt_open_source(src, NULL, &t);
    learn_tokenizer_info info;
    ck_assert_int_eq(learn_tokenizer_get_info(t.m, &info), LEARN_OK);
    ck_assert_str_eq(info.model, "spm");
    ck_assert_int_eq(info.eos, 32000);
    ck_assert_int_eq(info.add_bos, 1);
    /* Phi-3 (by its name): control tokens strip the white space that follows them. */
    size_t n = tt_tok(&t, "<|user|>  Hi", 12, LEARN_TOKENIZE_PARSE_SPECIAL);
    size_t m = tt_tok(&t, "<|user|>Hi", 10, LEARN_TOKENIZE_PARSE_SPECIAL);
    ck_assert_uint_eq(n, m);
    ck_assert_int_eq(tt_ids[0], 32010);
    tt_close(&t);
    /* A llama2.c tokenizer that is not one. */
    char path[1024];
    snprintf(path, sizeof path, "%s", test_tmp_path("bad-tok.bin"));
    FILE *f = fopen(path, "wb");
    uint32_t hdr[3] = {16, 0, 9999};
    fwrite(hdr, 4, 3, f);
    fclose(f);
    learn_writer *w;
    ck_assert_int_eq(learn_writer_new(NULL, &w), LEARN_OK);
    char err[512];
    ck_assert_int_eq(tokimport_llama2c(w, path, NULL, err, sizeof err), LEARN_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err, "not a llama2.c tokenizer"));
    learn_writer_free(w);
    remove(path);
}
END_TEST

/* The CLI: --cases reproduces a .out file. */
START_TEST(test_tok_cli) {
    TEST_CLI(cli);
    TEST_ASSET(gguf, "llamacpp-vocab/ggml-vocab-gpt-2.gguf");
    char cmd[3072], out[1 << 14];
#define TT_CMD(...) ck_assert_int_lt(snprintf(cmd, sizeof cmd, __VA_ARGS__), (int)sizeof cmd)
    TT_CMD("%s tokenize --help", cli);
    if (test_run(cmd, out, sizeof out) != 0) TEST_SKIP("learn-cli has no tokenize command");
    TT_CMD("%s tokenize %s --text 'Hello world'", cli, gguf);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 0);
    ck_assert_str_eq(out, "15496 995\n");
    TT_CMD("%s tokenize %s --cases %s.inp | cmp - %s.out", cli, gguf, gguf, gguf);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 0);
    TT_CMD("%s tokenize %s --detok --text '15496 995'", cli, gguf);
    ck_assert_int_eq(test_run(cmd, out, sizeof out), 0);
    ck_assert_str_eq(out, "Hello world");
    TT_CMD("%s tokenize /nonexistent/file --text x", cli);
    ck_assert_int_ne(test_run(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "learn-cli tokenize: "));
}
#undef TT_CMD
END_TEST

static Suite *make_tokenizer_suite(void) {
    Suite *s = suite_create("tokenizer");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_tok_spm_small);
    tcase_add_test(core, test_tok_spm_whitespace_options);
    tcase_add_test(core, test_tok_bpe_small);
    tcase_add_test(core, test_tok_embedded_nul);
    tcase_add_test(core, test_tok_absent);
    tcase_add_test(core, test_tok_unicode_tables);
    suite_add_tcase(s, core);
    TCase *vec = tcase_create("reference vectors");
    tcase_set_timeout(vec, 300);
    tcase_add_test(vec, test_tok_vectors_llama_spm);
    tcase_add_test(vec, test_tok_vectors_phi_3);
    tcase_add_test(vec, test_tok_vectors_gpt_2);
    tcase_add_test(vec, test_tok_vectors_falcon);
    tcase_add_test(vec, test_tok_vectors_mpt);
    tcase_add_test(vec, test_tok_vectors_starcoder);
    tcase_add_test(vec, test_tok_vectors_refact);
    tcase_add_test(vec, test_tok_vectors_deepseek_llm);
    tcase_add_test(vec, test_tok_vectors_deepseek_coder);
    tcase_add_test(vec, test_tok_vectors_llama_bpe);
    tcase_add_test(vec, test_tok_vectors_qwen2_folder);
    tcase_add_test(vec, test_tok_vectors_qwen3_json);
    tcase_add_test(vec, test_tok_spm_fixture);
    tcase_add_test(vec, test_tok_spm_model_bad);
    tcase_add_test(vec, test_tok_golden_texts);
    tcase_add_test(vec, test_tok_round_trip_assets);
    tcase_add_test(vec, test_tok_threads);
    tcase_add_test(vec, test_tok_import_gguf_settings);
    tcase_add_test(vec, test_tok_cli);
    suite_add_tcase(s, vec);
    TCase *bad = tcase_create("bad input");
    tcase_set_timeout(bad, 300);
    tcase_add_test(bad, test_tok_bad_utf8);
    tcase_add_test(bad, test_tok_buffers_and_limits);
    tcase_add_test(bad, test_tok_huge_inputs);
    tcase_add_test(bad, test_tok_hostile_data);
    tcase_add_test(bad, test_tok_hostile_meta);
    tcase_add_test(bad, test_tok_oom);
    suite_add_tcase(s, bad);
    TCase *tools = tcase_create("tools");
    tcase_add_test(tools, test_tok_json);
    tcase_add_test(tools, test_tok_gguf_reader);
    suite_add_tcase(s, tools);
    return s;
}
