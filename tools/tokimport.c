/* tokimport.c - tokenizer importers. See tokimport.h; the data they write is the tokenizer
   section of the .learn format (learn.h). */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "tokimport.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "util.h"

/* tokenizer.types: a learn_token_kind in bits 0-3, and these attribute bits. */
enum { TT_LSTRIP = 0x10, TT_RSTRIP = 0x20 };

#define TOK_MAX_VOCAB (1u << 24)
#define TOK_MAX_PIECE 4096u

tokimport_opts tokimport_default_opts(void) {
    tokimport_opts o;
    memset(&o, 0, sizeof o);
    o.remove_extra_ws = -1;
    return o;
}

static void ti_warn(const tokimport_opts *o, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void ti_warn(const tokimport_opts *o, const char *fmt, ...) {
    if (!o || !o->warn) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    o->warn(o->user, msg);
}

/* ---- The vocabulary being built ---- */

typedef struct tb {
    char *text;
    size_t len, cap;
    int32_t *offs; /* n + 1 */
    float *scores;
    uint8_t *types;
    size_t n, cap_n;
    int has_scores;
    int32_t *merges; /* pairs */
    size_t n_merges, cap_merges, skipped_merges;
    uint32_t *slots; /* text -> id + 1 */
    size_t slot_mask;
    /* settings */
    const char *model; /* "spm" / "bpe" */
    char pre[64];
    int nfc;
    int32_t bos, eos, unk, pad;
    int add_bos, add_eos, add_space_prefix, remove_extra_ws, ignore_merges;
} tb;

static void tb_init(tb *b, const char *model) {
    memset(b, 0, sizeof *b);
    b->model = model;
    b->bos = b->eos = b->unk = b->pad = -1;
}

static void tb_free(tb *b) {
    free(b->text);
    free(b->offs);
    free(b->scores);
    free(b->types);
    free(b->merges);
    free(b->slots);
}

static uint64_t tb_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

/* Appends a token (empty texts become "[EMPTY_i]" as llama.cpp does). */
static learn_status tb_add(tb *b, const char *s, size_t n, float score, int type, char *err,
                           size_t errn) {
    char empty[32];
    if (n == 0) {
        n = (size_t)snprintf(empty, sizeof empty, "[EMPTY_%zu]", b->n);
        s = empty;
    }
    if (n > TOK_MAX_PIECE)
        return util_fail(err, errn, LEARN_ERR_FORMAT, "token %zu: %zu bytes, at most %u", b->n, n,
                         TOK_MAX_PIECE);
    if (b->n >= TOK_MAX_VOCAB)
        return util_fail(err, errn, LEARN_ERR_FORMAT, "more than %u tokens", TOK_MAX_VOCAB);
    if (b->n + 1 >= b->cap_n) {
        size_t cap = b->cap_n ? b->cap_n * 2 : 1024;
        int32_t *o = (int32_t *)realloc(b->offs, (cap + 1) * sizeof *o);
        if (o) b->offs = o;
        float *sc = (float *)realloc(b->scores, cap * sizeof *sc);
        if (sc) b->scores = sc;
        uint8_t *ty = (uint8_t *)realloc(b->types, cap);
        if (ty) b->types = ty;
        if (!o || !sc || !ty) return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
        b->cap_n = cap;
    }
    if (b->len + n > (size_t)INT32_MAX)
        return util_fail(err, errn, LEARN_ERR_FORMAT, "token texts exceed 2 GiB");
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->len + n) cap *= 2;
        char *t = (char *)realloc(b->text, cap);
        if (!t) return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
        b->text = t;
        b->cap = cap;
    }
    if (b->n == 0) b->offs[0] = 0;
    memcpy(b->text + b->len, s, n);
    b->len += n;
    b->scores[b->n] = score;
    b->types[b->n] = (uint8_t)type;
    b->n++;
    b->offs[b->n] = (int32_t)b->len;
    return LEARN_OK;
}

static const char *tb_str(const tb *b, size_t id, size_t *n) {
    *n = (size_t)(b->offs[id + 1] - b->offs[id]);
    return b->text + b->offs[id];
}

static int32_t tb_find(const tb *b, const char *s, size_t n) {
    if (!b->slots) return -1;
    for (size_t i = (size_t)tb_hash(s, n) & b->slot_mask;; i = (i + 1) & b->slot_mask) {
        uint32_t e = b->slots[i];
        if (!e) return -1;
        size_t ln;
        const char *t = tb_str(b, e - 1, &ln);
        if (ln == n && memcmp(t, s, n) == 0) return (int32_t)(e - 1);
    }
}

/* Builds the text -> id index; refuses duplicate texts. */
static learn_status tb_index(tb *b, char *err, size_t errn) {
    size_t cap = 64;
    while (cap < 2 * b->n) cap *= 2;
    free(b->slots);
    b->slots = (uint32_t *)calloc(cap, sizeof(uint32_t));
    if (!b->slots) return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    b->slot_mask = cap - 1;
    for (size_t id = 0; id < b->n; id++) {
        size_t n;
        const char *s = tb_str(b, id, &n);
        size_t i = (size_t)tb_hash(s, n) & b->slot_mask;
        for (; b->slots[i]; i = (i + 1) & b->slot_mask) {
            size_t ln;
            const char *t = tb_str(b, b->slots[i] - 1, &ln);
            if (ln == n && memcmp(t, s, n) == 0)
                return util_fail(err, errn, LEARN_ERR_FORMAT,
                                 "token %zu has the same text as token %u (\"%.*s\")", id,
                                 b->slots[i] - 1, (int)(n > 40 ? 40 : n), s);
        }
        b->slots[i] = (uint32_t)id + 1;
    }
    return LEARN_OK;
}

/* Adds the merge (a, b) if both and their concatenation are tokens; counts it as skipped
   otherwise. */
static learn_status tb_merge(tb *b, const char *l, size_t nl, const char *r, size_t nr, char *err,
                             size_t errn) {
    char buf[2 * TOK_MAX_PIECE];
    int32_t il = tb_find(b, l, nl), ir = tb_find(b, r, nr);
    if (il < 0 || ir < 0 || nl + nr > sizeof buf) {
        b->skipped_merges++;
        return LEARN_OK;
    }
    memcpy(buf, l, nl);
    memcpy(buf + nl, r, nr);
    if (tb_find(b, buf, nl + nr) < 0) {
        b->skipped_merges++;
        return LEARN_OK;
    }
    if (b->n_merges == b->cap_merges) {
        size_t cap = b->cap_merges ? b->cap_merges * 2 : 4096;
        int32_t *m = (int32_t *)realloc(b->merges, cap * 2 * sizeof *m);
        if (!m) return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
        b->merges = m;
        b->cap_merges = cap;
    }
    b->merges[2 * b->n_merges] = il;
    b->merges[2 * b->n_merges + 1] = ir;
    b->n_merges++;
    return LEARN_OK;
}

/* A merge line "left right": split at the first space after the first byte (llama.cpp). */
static learn_status tb_merge_line(tb *b, const char *s, size_t n, char *err, size_t errn) {
    const char *sp = n > 1 ? (const char *)memchr(s + 1, ' ', n - 1) : NULL;
    if (!sp) {
        b->skipped_merges++;
        return LEARN_OK;
    }
    return tb_merge(b, s, (size_t)(sp - s), sp + 1, n - (size_t)(sp - s) - 1, err, errn);
}

/* Pads the vocabulary with unused tokens up to n. */
static learn_status tb_pad_to(tb *b, size_t n, char *err, size_t errn) {
    while (b->n < n) {
        char name[32];
        int k = snprintf(name, sizeof name, "[PAD%zu]", b->n);
        learn_status st = tb_add(b, name, (size_t)k, 0.0f, LEARN_TOKEN_KIND_UNUSED, err, errn);
        if (st) return st;
    }
    return LEARN_OK;
}

static void tb_set_type(tb *b, const char *text, int set, int clear) {
    int32_t id = tb_find(b, text, strlen(text));
    if (id >= 0) b->types[id] = (uint8_t)((b->types[id] & ~clear) | set);
}

static int tb_id_ok(const tb *b, int64_t id) { return id >= 0 && (uint64_t)id < b->n; }

/* Writes the builder into the writer (replacing earlier tokenizer.* entries). */
static learn_status tb_write(tb *b, learn_writer *w, char *err, size_t errn) {
    static const char *const keys[] = {"tokenizer.model", "tokenizer.pre", "tokenizer.normalizer",
                                       "tokenizer.bos_id", "tokenizer.eos_id", "tokenizer.unk_id",
                                       "tokenizer.pad_id", "tokenizer.add_bos", "tokenizer.add_eos",
                                       "tokenizer.add_space_prefix",
                                       "tokenizer.remove_extra_whitespaces",
                                       "tokenizer.ignore_merges"};
    static const char *const tensors[] = {"tokenizer.text", "tokenizer.offsets", "tokenizer.scores",
                                          "tokenizer.types", "tokenizer.merges"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) learn_writer_remove_meta(w, keys[i]);
    for (size_t i = 0; i < sizeof tensors / sizeof tensors[0]; i++)
        learn_writer_remove_tensor(w, tensors[i]);
    if (!b->n) return util_fail(err, errn, LEARN_ERR_FORMAT, "the vocabulary is empty");
    int bpe = strcmp(b->model, "bpe") == 0;
    learn_status st;
#define TB_CHECK(call)                                                                            \
    do {                                                                                          \
        if ((st = (call)))                                                                        \
            return util_fail(err, errn, st, "writer: %s", learn_writer_errmsg(w));                  \
    } while (0)
    TB_CHECK(learn_writer_set_str(w, "tokenizer.model", b->model, strlen(b->model)));
    if (bpe) TB_CHECK(learn_writer_set_str(w, "tokenizer.pre", b->pre, strlen(b->pre)));
    if (b->nfc) TB_CHECK(learn_writer_set_str(w, "tokenizer.normalizer", "nfc", 3));
    TB_CHECK(learn_writer_set_i32(w, "tokenizer.bos_id", b->bos));
    TB_CHECK(learn_writer_set_i32(w, "tokenizer.eos_id", b->eos));
    TB_CHECK(learn_writer_set_i32(w, "tokenizer.unk_id", b->unk));
    TB_CHECK(learn_writer_set_i32(w, "tokenizer.pad_id", b->pad));
    TB_CHECK(learn_writer_set_bool(w, "tokenizer.add_bos", b->add_bos && b->bos >= 0));
    TB_CHECK(learn_writer_set_bool(w, "tokenizer.add_eos", b->add_eos && b->eos >= 0));
    if (!bpe) {
        TB_CHECK(learn_writer_set_bool(w, "tokenizer.add_space_prefix", b->add_space_prefix));
        TB_CHECK(learn_writer_set_bool(w, "tokenizer.remove_extra_whitespaces",
                                       b->remove_extra_ws));
    } else {
        TB_CHECK(learn_writer_set_bool(w, "tokenizer.ignore_merges", b->ignore_merges));
    }
    uint64_t shape[2] = {b->len, 0};
    TB_CHECK(learn_writer_add_tensor(w, "tokenizer.text", LEARN_TYPE_U8, 1, shape, b->text,
                                     LEARN_WRITER_COPY));
    shape[0] = b->n + 1;
    TB_CHECK(learn_writer_add_tensor(w, "tokenizer.offsets", LEARN_TYPE_I32, 1, shape, b->offs,
                                     LEARN_WRITER_COPY));
    shape[0] = b->n;
    if (!bpe || b->has_scores)
        TB_CHECK(learn_writer_add_tensor(w, "tokenizer.scores", LEARN_TYPE_F32, 1, shape,
                                         b->scores, LEARN_WRITER_COPY));
    TB_CHECK(learn_writer_add_tensor(w, "tokenizer.types", LEARN_TYPE_U8, 1, shape, b->types,
                                     LEARN_WRITER_COPY));
    if (bpe) {
        shape[0] = b->n_merges;
        shape[1] = 2;
        if (!b->n_merges)
            return util_fail(err, errn, LEARN_ERR_FORMAT, "a bpe vocabulary without merges");
        TB_CHECK(learn_writer_add_tensor(w, "tokenizer.merges", LEARN_TYPE_I32, 2, shape,
                                         b->merges, LEARN_WRITER_COPY));
    }
#undef TB_CHECK
    return LEARN_OK;
}

/* Texts that llama.cpp turns into control tokens when the vocabulary did not mark them
   (end-of-generation and fill-in-the-middle markers, llama_vocab::impl::load). */
static const char *const ti_control_looking[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
    "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>", "<|eom_id|>",
    "<|fim_prefix|>", "<fim-prefix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "begin\xEF\xBD\x9C>",
    "<PRE>", "<|fim_suffix|>", "<fim-suffix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81hole\xEF\xBD\x9C>",
    "<SUF>", "<|fim_middle|>", "<fim-middle>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "end\xEF\xBD\x9C>",
    "<MID>", "<|fim_pad|>", "<fim-pad>", "<PAD>", "<|fim_repo|>", "<|repo_name|>",
    "<fim-repo>", "<REPO>", "<|file_sep|>"};

/* Pre-tokenizers that imply llama.cpp's per-family settings. */
static int ti_pre_is(const char *pre, const char *const *names) {
    for (; *names; names++)
        if (strcmp(pre, *names) == 0) return 1;
    return 0;
}
static const char *const ti_pre_llama3[] = {"llama3", "llama-v3", "llama-bpe", "falcon3", NULL};
static const char *const ti_pre_nfc[] = {"qwen2", "deepseek-r1-qwen", NULL};

/* ---- GGUF ---- */

static learn_status ti_gguf_str(const gguf_file *g, const char *key, const char **s, size_t *n) {
    gguf_value v;
    learn_status st = gguf_get(g, key, &v);
    if (st) return st;
    return gguf_as_str(&v, s, n);
}

static learn_status ti_gguf_bool(const gguf_file *g, const char *key, int *out, char *err,
                                 size_t errn) {
    gguf_value v;
    if (gguf_get(g, key, &v)) return LEARN_OK; /* keep the default */
    if (gguf_as_bool(&v, out)) return util_fail(err, errn, LEARN_ERR_FORMAT, "%s: not a bool", key);
    return LEARN_OK;
}

/* A special token id: an out-of-range value keeps the default, as llama.cpp does. */
static learn_status ti_gguf_id(const gguf_file *g, const char *key, int32_t *id, size_t n_vocab,
                               const tokimport_opts *o, char *err, size_t errn) {
    gguf_value v;
    uint64_t u;
    if (gguf_get(g, key, &v)) return LEARN_OK;
    if (gguf_as_u64(&v, &u))
        return util_fail(err, errn, LEARN_ERR_FORMAT, "%s: not an unsigned integer", key);
    if (u >= n_vocab) {
        if (u != 0xFFFFFFFFu)
            ti_warn(o, "%s = %llu is out of range (vocabulary of %zu); keeping %d", key,
                    (unsigned long long)u, n_vocab, *id);
        return LEARN_OK;
    }
    *id = (int32_t)u;
    return LEARN_OK;
}

learn_status tokimport_gguf(learn_writer *w, const gguf_file *g, const tokimport_opts *opts,
                            char *err, size_t errn) {
    tokimport_opts o = opts ? *opts : tokimport_default_opts();
    const char *model;
    size_t model_len;
    if (ti_gguf_str(g, "tokenizer.ggml.model", &model, &model_len))
        return util_fail(err, errn, LEARN_ERR_FORMAT, "tokenizer.ggml.model: missing (no tokenizer)");
    int spm = model_len == 5 && memcmp(model, "llama", 5) == 0;
    int bpe = model_len == 4 && memcmp(model, "gpt2", 4) == 0;
    if (!spm && !bpe)
        return util_fail(err, errn, LEARN_ERR_UNSUPPORTED,
                         "tokenizer.ggml.model: \"%.*s\" is not supported (llama, gpt2)",
                         (int)(model_len > 40 ? 40 : model_len), model);
    tb b;
    tb_init(&b, spm ? "spm" : "bpe");
    learn_status st;
    gguf_value toks, scores, types, merges;
    int has_scores = 0, has_types = 0;
    if (gguf_get(g, "tokenizer.ggml.tokens", &toks) || toks.type != GGUF_TYPE_ARRAY ||
        toks.elem != GGUF_TYPE_STRING) {
        st = util_fail(err, errn, LEARN_ERR_FORMAT, "tokenizer.ggml.tokens: missing, or not an "
                                                  "array of strings");
        goto done;
    }
    if (toks.count == 0 || toks.count > TOK_MAX_VOCAB) {
        st = util_fail(err, errn, LEARN_ERR_FORMAT, "tokenizer.ggml.tokens: %llu tokens (1..%u)",
                       (unsigned long long)toks.count, TOK_MAX_VOCAB);
        goto done;
    }
    if (!gguf_get(g, "tokenizer.ggml.scores", &scores)) {
        if (scores.type != GGUF_TYPE_ARRAY || scores.elem != GGUF_TYPE_FLOAT32 ||
            scores.count != toks.count) {
            st = util_fail(err, errn, LEARN_ERR_FORMAT,
                           "tokenizer.ggml.scores: expected %llu float32 values",
                           (unsigned long long)toks.count);
            goto done;
        }
        has_scores = 1;
    }
    if (!gguf_get(g, "tokenizer.ggml.token_type", &types)) {
        if (types.type != GGUF_TYPE_ARRAY || types.count != toks.count ||
            (types.elem != GGUF_TYPE_INT32 && types.elem != GGUF_TYPE_UINT32)) {
            st = util_fail(err, errn, LEARN_ERR_FORMAT,
                           "tokenizer.ggml.token_type: expected %llu int32 values",
                           (unsigned long long)toks.count);
            goto done;
        }
        has_types = 1;
    }
    for (uint64_t i = 0; i < toks.count; i++) {
        gguf_value s, x;
        const char *text;
        size_t n;
        gguf_elem(&toks, i, &s);
        gguf_as_str(&s, &text, &n);
        float score = 0.0f;
        int type = LEARN_TOKEN_KIND_NORMAL;
        if (has_scores) {
            double d;
            gguf_elem(&scores, i, &x);
            gguf_as_f64(&x, &d);
            score = (float)d;
            if (score != score) {
                st = util_fail(err, errn, LEARN_ERR_FORMAT, "tokenizer.ggml.scores[%llu] is NaN",
                               (unsigned long long)i);
                goto done;
            }
        }
        if (has_types) {
            int64_t t;
            gguf_elem(&types, i, &x);
            gguf_as_i64(&x, &t);
            type = t >= 0 && t <= LEARN_TOKEN_KIND_BYTE ? (int)t : LEARN_TOKEN_KIND_UNDEFINED;
        }
        if ((st = tb_add(&b, text, n, score, type, err, errn))) goto done;
    }
    b.has_scores = has_scores;
    if ((st = tb_index(&b, err, errn))) goto done;

    /* Settings, with llama.cpp's defaults per tokenizer model. */
    const char *pre = "default";
    size_t pre_len = 7;
    ti_gguf_str(g, "tokenizer.ggml.pre", &pre, &pre_len);
    if (o.pre) pre = o.pre, pre_len = strlen(o.pre);
    if (pre_len >= sizeof b.pre) pre_len = sizeof b.pre - 1;
    memcpy(b.pre, pre, pre_len);
    b.pre[pre_len] = 0;
    if (spm) {
        b.bos = 1, b.eos = 2, b.unk = 0;
        b.add_bos = 1;
        b.add_space_prefix = 1;
        b.remove_extra_ws = o.remove_extra_ws > 0;
    } else {
        b.bos = 11, b.eos = 11;
        b.add_bos = ti_pre_is(b.pre, ti_pre_llama3) || strcmp(b.pre, "tekken") == 0 ||
                    strcmp(b.pre, "chameleon") == 0;
        b.ignore_merges = ti_pre_is(b.pre, ti_pre_llama3) || strcmp(b.pre, "tekken") == 0;
        b.nfc = ti_pre_is(b.pre, ti_pre_nfc);
        if (strcmp(b.pre, "chatglm-bpe") == 0) b.bos = -1;
    }
    if ((st = ti_gguf_id(g, "tokenizer.ggml.bos_token_id", &b.bos, b.n, &o, err, errn)) ||
        (st = ti_gguf_id(g, "tokenizer.ggml.eos_token_id", &b.eos, b.n, &o, err, errn)) ||
        (st = ti_gguf_id(g, "tokenizer.ggml.unknown_token_id", &b.unk, b.n, &o, err, errn)) ||
        (st = ti_gguf_id(g, "tokenizer.ggml.padding_token_id", &b.pad, b.n, &o, err, errn)) ||
        (st = ti_gguf_bool(g, "tokenizer.ggml.add_bos_token", &b.add_bos, err, errn)) ||
        (st = ti_gguf_bool(g, "tokenizer.ggml.add_eos_token", &b.add_eos, err, errn)))
        goto done;
    if (spm && (st = ti_gguf_bool(g, "tokenizer.ggml.add_space_prefix", &b.add_space_prefix, err,
                                  errn)))
        goto done;
    if (!tb_id_ok(&b, b.bos)) b.bos = -1;
    if (!tb_id_ok(&b, b.eos)) b.eos = -1;
    if (!tb_id_ok(&b, b.unk)) b.unk = -1;
    if (!tb_id_ok(&b, b.pad)) b.pad = -1;

    /* Token attributes llama.cpp derives from texts and the model name. */
    for (size_t i = 0; i < sizeof ti_control_looking / sizeof ti_control_looking[0]; i++)
        tb_set_type(&b, ti_control_looking[i], LEARN_TOKEN_KIND_CONTROL, 0x0F);
    const char *name = "";
    size_t name_len = 0;
    ti_gguf_str(g, "general.name", &name, &name_len);
    char lname[256];
    size_t ln = name_len < sizeof lname - 1 ? name_len : sizeof lname - 1;
    for (size_t i = 0; i < ln; i++) lname[i] = (char)tolower((unsigned char)name[i]);
    lname[ln] = 0;
    if (strstr(b.pre, "jina-v2-de") || strstr(b.pre, "jina-v2-es") ||
        strstr(b.pre, "jina-v2-code")) {
        tb_set_type(&b, "<mask>", TT_LSTRIP, 0);
    } else if (strstr(lname, "phi-3") || strstr(lname, "phi3")) {
        for (size_t i = 0; i < b.n; i++) {
            int t = b.types[i] & 0x0F;
            if (t == LEARN_TOKEN_KIND_CONTROL || t == LEARN_TOKEN_KIND_USER_DEFINED || t == LEARN_TOKEN_KIND_UNKNOWN) b.types[i] |= TT_RSTRIP;
        }
        tb_set_type(&b, "</s>", TT_RSTRIP, 0);
        tb_set_type(&b, "<unk>", 0, TT_RSTRIP);
        tb_set_type(&b, "<s>", 0, TT_RSTRIP);
        tb_set_type(&b, "<|endoftext|>", 0, TT_RSTRIP);
    }

    if (bpe) {
        if (gguf_get(g, "tokenizer.ggml.merges", &merges) || merges.type != GGUF_TYPE_ARRAY ||
            merges.elem != GGUF_TYPE_STRING) {
            st = util_fail(err, errn, LEARN_ERR_FORMAT,
                           "tokenizer.ggml.merges: missing, or not an array of strings");
            goto done;
        }
        for (uint64_t i = 0; i < merges.count; i++) {
            gguf_value s;
            const char *text;
            size_t n;
            gguf_elem(&merges, i, &s);
            gguf_as_str(&s, &text, &n);
            if ((st = tb_merge_line(&b, text, n, err, errn))) goto done;
        }
        if (b.skipped_merges)
            ti_warn(&o, "tokenizer.ggml.merges: %zu merges name tokens that are not in the "
                        "vocabulary; dropped",
                    b.skipped_merges);
    }
    if ((st = tb_pad_to(&b, o.n_vocab, err, errn))) goto done;
    st = tb_write(&b, w, err, errn);
done:
    tb_free(&b);
    return st;
}

/* ---- Hugging Face files ---- */

static int ti_looks_special(const char *s, size_t n) {
    if ((n == 5 && memcmp(s, "<pad>", 5) == 0) || (n == 6 && memcmp(s, "<mask>", 6) == 0))
        return 1;
    if (n >= 4 && memcmp(s, "<|", 2) == 0 && memcmp(s + n - 2, "|>", 2) == 0) return 1;
    /* <｜...｜> (U+FF5C, deepseek) */
    if (n >= 8 && memcmp(s, "<\xEF\xBD\x9C", 4) == 0 && memcmp(s + n - 4, "\xEF\xBD\x9C>", 4) == 0)
        return 1;
    return 0;
}

static int ti_is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int ti_is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* dir of path (the part before the last '/'), into out. */
static void ti_dirname(const char *path, char *out, size_t n) {
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(out, n, ".");
    else snprintf(out, n, "%.*s", (int)(slash - path), path);
}

/* A token named in tokenizer_config.json: a string or {"content": ...}. */
static const char *ti_config_token(const json_value *cfg, const char *key, size_t *n) {
    const json_value *v = json_get(cfg, key);
    if (v && v->type == JSON_OBJECT) v = json_get(v, "content");
    return json_str(v, n);
}

/* Applies tokenizer_config.json (if present in dir): special token ids, add_bos/add_eos,
   added-token flags. Returns the tokenizer_class in cls (or ""). */
static learn_status ti_hf_config(tb *b, const char *dir, char *cls, size_t cls_n,
                                 const tokimport_opts *o, char *err, size_t errn) {
    char path[4096];
    cls[0] = 0;
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    if (!ti_is_file(path)) return LEARN_OK;
    json_doc *doc;
    json_opts jo = {0, 1};
    learn_status st = json_parse_file(path, &jo, &doc, err, errn);
    if (st) return st;
    const json_value *cfg = json_root(doc);
    static const char *const names[4] = {"bos_token", "eos_token", "unk_token", "pad_token"};
    int32_t *ids[4] = {&b->bos, &b->eos, &b->unk, &b->pad};
    for (int i = 0; i < 4; i++) {
        size_t n;
        const char *s = ti_config_token(cfg, names[i], &n);
        if (!s) continue;
        int32_t id = tb_find(b, s, n);
        if (id < 0) ti_warn(o, "%s: %s \"%.40s\" is not a token", path, names[i], s);
        else *ids[i] = id;
    }
    const json_value *v = json_get(cfg, "add_bos_token");
    if (v && (v->type == JSON_TRUE || v->type == JSON_FALSE)) b->add_bos = v->type == JSON_TRUE;
    v = json_get(cfg, "add_eos_token");
    if (v && (v->type == JSON_TRUE || v->type == JSON_FALSE)) b->add_eos = v->type == JSON_TRUE;
    size_t n;
    const char *c = json_str(json_get(cfg, "tokenizer_class"), &n);
    if (c) snprintf(cls, cls_n, "%.*s", (int)n, c);
    json_free(doc);
    return LEARN_OK;
}

/* Vocabulary from a JSON object {text: id} plus added tokens [(id, text, special, lstrip,
   rstrip)], laid out by id (holes become unused [PADi] tokens). */
typedef struct ti_added {
    int64_t id;
    const char *text;
    size_t n;
    int special, lstrip, rstrip;
} ti_added;

static learn_status ti_hf_vocab(tb *b, const json_value *vocab, const ti_added *added,
                                size_t n_added, const char *what, char *err, size_t errn) {
    if (!vocab || vocab->type != JSON_OBJECT || !vocab->n)
        return util_fail(err, errn, LEARN_ERR_FORMAT, "%s: the vocabulary must be a non-empty "
                                                    "object {token: id}", what);
    int64_t max = -1;
    for (size_t i = 0; i < vocab->n; i++) {
        const json_value *id = &vocab->u.members[i].value;
        if (id->type != JSON_NUMBER || !id->is_int || id->u.num.i < 0 ||
            id->u.num.i >= (int64_t)TOK_MAX_VOCAB)
            return util_fail(err, errn, LEARN_ERR_FORMAT,
                             "%s: token \"%.40s\" has id that is not an integer in 0..%u", what,
                             vocab->u.members[i].key, TOK_MAX_VOCAB - 1);
        if (id->u.num.i > max) max = id->u.num.i;
    }
    for (size_t i = 0; i < n_added; i++) {
        if (added[i].id < 0 || added[i].id >= (int64_t)TOK_MAX_VOCAB)
            return util_fail(err, errn, LEARN_ERR_FORMAT,
                             "%s: added token \"%.40s\" has id %lld out of range", what,
                             added[i].text, (long long)added[i].id);
        if (added[i].id > max) max = added[i].id;
    }
    size_t n = (size_t)max + 1;
    if (n > 2 * (vocab->n + n_added) + 1024)
        return util_fail(err, errn, LEARN_ERR_FORMAT,
                         "%s: ids up to %lld for %zu tokens: the vocabulary is too sparse", what,
                         (long long)max, vocab->n + n_added);
    const char **text = (const char **)calloc(n, sizeof *text);
    size_t *len = (size_t *)calloc(n, sizeof *len);
    uint8_t *type = (uint8_t *)calloc(n, 1);
    learn_status st = LEARN_OK;
    if (!text || !len || !type) {
        st = util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < vocab->n; i++) {
        size_t id = (size_t)vocab->u.members[i].value.u.num.i;
        if (text[id]) {
            st = util_fail(err, errn, LEARN_ERR_FORMAT, "%s: tokens \"%.40s\" and \"%.40s\" share id "
                                                      "%zu",
                         what, text[id], vocab->u.members[i].key, id);
            goto done;
        }
        text[id] = vocab->u.members[i].key;
        len[id] = vocab->u.members[i].key_len;
        type[id] = LEARN_TOKEN_KIND_NORMAL;
    }
    for (size_t i = 0; i < n_added; i++) {
        size_t id = (size_t)added[i].id;
        if (text[id] && (len[id] != added[i].n || memcmp(text[id], added[i].text, len[id]) != 0)) {
            st = util_fail(err, errn, LEARN_ERR_FORMAT,
                           "%s: added token \"%.40s\" has the id %zu of token \"%.40s\"", what,
                           added[i].text, id, text[id]);
            goto done;
        }
        text[id] = added[i].text;
        len[id] = added[i].n;
        type[id] = (uint8_t)((added[i].special || ti_looks_special(added[i].text, added[i].n)
                                  ? LEARN_TOKEN_KIND_CONTROL
                                  : LEARN_TOKEN_KIND_USER_DEFINED) |
                             (added[i].lstrip ? TT_LSTRIP : 0) | (added[i].rstrip ? TT_RSTRIP : 0));
    }
    for (size_t id = 0; id < n && !st; id++) {
        if (text[id]) {
            st = tb_add(b, text[id], len[id], 0.0f, type[id], err, errn);
        } else {
            char pad[32];
            int k = snprintf(pad, sizeof pad, "[PAD%zu]", id);
            st = tb_add(b, pad, (size_t)k, 0.0f, LEARN_TOKEN_KIND_UNUSED, err, errn);
        }
    }
    if (!st) st = tb_index(b, err, errn);
done:
    free(text);
    free(len);
    free(type);
    return st;
}

/* The Split regexes of Hugging Face pre-tokenizers that llama.cpp names. */
static const struct {
    const char *regex;
    const char *pre;
} ti_hf_regexes[] = {
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
     "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     "llama-bpe"},
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+"
     "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     "qwen2"},
};

/* Recognises the pre-tokenizer of a tokenizer.json; "" when unknown. */
static const char *ti_hf_pre(const json_value *pt) {
    if (!pt || pt->type != JSON_OBJECT) return "";
    const char *type = json_str(json_get(pt, "type"), NULL);
    if (!type) return "";
    if (strcmp(type, "ByteLevel") == 0) {
        const json_value *ur = json_get(pt, "use_regex");
        return !ur || ur->type == JSON_TRUE ? "gpt-2" : "";
    }
    if (strcmp(type, "Sequence") != 0) return "";
    const json_value *seq = json_get(pt, "pretokenizers");
    if (!seq || seq->type != JSON_ARRAY || seq->n != 2) return "";
    const json_value *split = json_at(seq, 0), *bl = json_at(seq, 1);
    const char *t0 = json_str(json_get(split, "type"), NULL);
    const char *t1 = json_str(json_get(bl, "type"), NULL);
    if (!t0 || !t1 || strcmp(t0, "Split") || strcmp(t1, "ByteLevel")) return "";
    const json_value *ur = json_get(bl, "use_regex");
    if (ur && ur->type == JSON_TRUE) return "";
    const char *re = json_str(json_get(json_get(split, "pattern"), "Regex"), NULL);
    const char *beh = json_str(json_get(split, "behavior"), NULL);
    if (!re || !beh || strcmp(beh, "Isolated") != 0) return "";
    for (size_t i = 0; i < sizeof ti_hf_regexes / sizeof ti_hf_regexes[0]; i++)
        if (strcmp(re, ti_hf_regexes[i].regex) == 0) return ti_hf_regexes[i].pre;
    return "";
}

/* Normalizer: null, NFC, or a Sequence of those. Returns 0 none, 1 nfc, -1 unsupported. */
static int ti_hf_normalizer(const json_value *nm) {
    if (!nm || nm->type == JSON_NULL) return 0;
    const char *type = json_str(json_get(nm, "type"), NULL);
    if (!type) return -1;
    if (strcmp(type, "NFC") == 0) return 1;
    if (strcmp(type, "Sequence") == 0) {
        const json_value *seq = json_get(nm, "normalizers");
        int nfc = 0;
        for (size_t i = 0; seq && i < seq->n; i++) {
            int r = ti_hf_normalizer(json_at(seq, i));
            if (r < 0) return -1;
            nfc |= r;
        }
        return nfc;
    }
    return -1;
}

static void ti_set_pre(tb *b, const char *pre) {
    snprintf(b->pre, sizeof b->pre, "%s", pre);
}

/* The settings llama.cpp derives from the pre-tokenizer, for sources that do not say. */
static void ti_pre_defaults(tb *b) {
    b->ignore_merges = ti_pre_is(b->pre, ti_pre_llama3);
    b->add_bos = ti_pre_is(b->pre, ti_pre_llama3);
    b->nfc = ti_pre_is(b->pre, ti_pre_nfc);
}

learn_status tokimport_hf_json(learn_writer *w, const char *path, const tokimport_opts *opts,
                               char *err, size_t errn) {
    tokimport_opts o = opts ? *opts : tokimport_default_opts();
    json_doc *doc;
    learn_status st = json_parse_file(path, NULL, &doc, err, errn);
    if (st) return st;
    tb b;
    tb_init(&b, "bpe");
    ti_added *added = NULL;
    const json_value *root = json_root(doc), *model = json_get(root, "model");
    const char *mtype = json_str(json_get(model, "type"), NULL);
    if (!mtype || strcmp(mtype, "BPE") != 0) {
        st = util_fail(err, errn, LEARN_ERR_UNSUPPORTED, "%s: model.type \"%s\" is not supported "
                                                       "(BPE)",
                     path, mtype ? mtype : "?");
        goto done;
    }
    const json_value *bf = json_get(model, "byte_fallback");
    if (bf && bf->type == JSON_TRUE) { /* SentencePiece's: its model file has the scores */
        char dir[4096], spm[4200];
        ti_dirname(path, dir, sizeof dir);
        snprintf(spm, sizeof spm, "%s/tokenizer.model", dir);
        if (ti_is_file(spm)) {
            st = tokimport_spm_model(w, spm, &o, err, errn);
        } else {
            st = util_fail(err, errn, LEARN_ERR_UNSUPPORTED,
                           "%s: a SentencePiece vocabulary (byte_fallback) without its "
                           "tokenizer.model beside it: convert from tokenizer.model or GGUF",
                           path);
        }
        goto done;
    }
    const json_value *at = json_get(root, "added_tokens");
    size_t n_added = at && at->type == JSON_ARRAY ? at->n : 0;
    added = (ti_added *)calloc(n_added + 1, sizeof *added);
    if (!added) {
        st = util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n_added; i++) {
        const json_value *t = json_at(at, i), *id = json_get(t, "id");
        added[i].text = json_str(json_get(t, "content"), &added[i].n);
        if (!added[i].text || !id || id->type != JSON_NUMBER || !id->is_int) {
            st = util_fail(err, errn, LEARN_ERR_FORMAT, "%s: added_tokens[%zu]: needs an integer "
                                                      "id and a string content",
                         path, i);
            goto done;
        }
        added[i].id = id->u.num.i;
        const json_value *f;
        added[i].special = (f = json_get(t, "special")) && f->type == JSON_TRUE;
        added[i].lstrip = (f = json_get(t, "lstrip")) && f->type == JSON_TRUE;
        added[i].rstrip = (f = json_get(t, "rstrip")) && f->type == JSON_TRUE;
    }
    if ((st = ti_hf_vocab(&b, json_get(model, "vocab"), added, n_added, path, err, errn)))
        goto done;
    const json_value *merges = json_get(model, "merges");
    if (!merges || merges->type != JSON_ARRAY) {
        st = util_fail(err, errn, LEARN_ERR_FORMAT, "%s: model.merges: missing", path);
        goto done;
    }
    for (size_t i = 0; i < merges->n && !st; i++) {
        const json_value *m = json_at(merges, i);
        size_t nl, nr;
        const char *l, *r;
        if (m->type == JSON_STRING) {
            st = tb_merge_line(&b, m->u.str, m->n, err, errn);
        } else if (m->type == JSON_ARRAY && m->n == 2 && (l = json_str(json_at(m, 0), &nl)) &&
                   (r = json_str(json_at(m, 1), &nr))) {
            st = tb_merge(&b, l, nl, r, nr, err, errn);
        } else {
            st = util_fail(err, errn, LEARN_ERR_FORMAT,
                           "%s: model.merges[%zu]: expected \"a b\" or [\"a\", \"b\"]", path, i);
        }
    }
    if (st) goto done;
    if (b.skipped_merges)
        ti_warn(&o, "%s: %zu merges name tokens that are not in the vocabulary; dropped", path,
                b.skipped_merges);
    const char *pre = o.pre ? o.pre : ti_hf_pre(json_get(root, "pre_tokenizer"));
    if (!*pre) {
        st = util_fail(err, errn, LEARN_ERR_UNSUPPORTED,
                       "%s: pre_tokenizer not recognised; name it (--pre gpt-2, llama-bpe, "
                       "qwen2, ...)",
                       path);
        goto done;
    }
    ti_set_pre(&b, pre);
    ti_pre_defaults(&b);
    int nfc = ti_hf_normalizer(json_get(root, "normalizer"));
    if (nfc < 0) {
        st = util_fail(err, errn, LEARN_ERR_UNSUPPORTED, "%s: normalizer not supported (none, NFC)",
                       path);
        goto done;
    }
    b.nfc = nfc;
    const json_value *im = json_get(model, "ignore_merges");
    if (im) b.ignore_merges = im->type == JSON_TRUE;
    size_t un;
    const char *unk = json_str(json_get(model, "unk_token"), &un);
    if (unk) b.unk = tb_find(&b, unk, un);
    /* BOS from a TemplateProcessing post-processor that starts with a special token. */
    const json_value *pp = json_get(root, "post_processor");
    const char *ppt = json_str(json_get(pp, "type"), NULL);
    if (ppt && strcmp(ppt, "TemplateProcessing") == 0) {
        const json_value *first = json_at(json_get(pp, "single"), 0);
        size_t n;
        const char *sid = json_str(json_get(json_get(first, "SpecialToken"), "id"), &n);
        b.add_bos = 0;
        if (sid && tb_find(&b, sid, n) >= 0) {
            b.bos = tb_find(&b, sid, n);
            b.add_bos = 1;
        }
    }
    char dir[4096], cls[128];
    ti_dirname(path, dir, sizeof dir);
    if ((st = ti_hf_config(&b, dir, cls, sizeof cls, &o, err, errn))) goto done;
    if ((st = tb_pad_to(&b, o.n_vocab, err, errn))) goto done;
    st = tb_write(&b, w, err, errn);
done:
    free(added);
    tb_free(&b);
    json_free(doc);
    return st;
}

learn_status tokimport_vocab_merges(learn_writer *w, const char *dir, const tokimport_opts *opts,
                                    char *err, size_t errn) {
    tokimport_opts o = opts ? *opts : tokimport_default_opts();
    char path[4096];
    json_doc *vdoc = NULL, *adoc = NULL;
    ti_added *added = NULL;
    FILE *f = NULL;
    char *line = NULL;
    size_t line_cap = 0, n_added = 0;
    tb b;
    tb_init(&b, "bpe");
    snprintf(path, sizeof path, "%s/vocab.json", dir);
    learn_status st = json_parse_file(path, NULL, &vdoc, err, errn);
    if (st) goto done;
    snprintf(path, sizeof path, "%s/added_tokens.json", dir);
    if (ti_is_file(path)) {
        if ((st = json_parse_file(path, NULL, &adoc, err, errn))) goto done;
        const json_value *a = json_root(adoc);
        if (a->type != JSON_OBJECT) {
            st = util_fail(err, errn, LEARN_ERR_FORMAT, "%s: expected an object {token: id}", path);
            goto done;
        }
        added = (ti_added *)calloc(a->n + 1, sizeof *added);
        if (!added) {
            st = util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < a->n; i++) {
            const json_value *id = &a->u.members[i].value;
            if (id->type != JSON_NUMBER || !id->is_int) {
                st = util_fail(err, errn, LEARN_ERR_FORMAT, "%s: \"%.40s\": id is not an integer",
                               path, a->u.members[i].key);
                goto done;
            }
            added[i].id = id->u.num.i;
            added[i].text = a->u.members[i].key;
            added[i].n = a->u.members[i].key_len;
        }
        n_added = a->n;
    }
    snprintf(path, sizeof path, "%s/vocab.json", dir);
    if ((st = ti_hf_vocab(&b, json_root(vdoc), added, n_added, path, err, errn))) goto done;
    snprintf(path, sizeof path, "%s/merges.txt", dir);
    f = fopen(path, "rb");
    if (!f) {
        st = util_fail(err, errn, LEARN_ERR_IO, "%s: %s", path, strerror(errno));
        goto done;
    }
    ssize_t got;
    size_t lineno = 0;
    while ((got = getline(&line, &line_cap, f)) >= 0) {
        size_t n = (size_t)got;
        lineno++;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        if (!n || (lineno == 1 && strncmp(line, "#version", 8) == 0)) continue;
        if ((st = tb_merge_line(&b, line, n, err, errn))) goto done;
    }
    if (ferror(f)) {
        st = util_fail(err, errn, LEARN_ERR_IO, "%s: read error", path);
        goto done;
    }
    if (b.skipped_merges)
        ti_warn(&o, "%s: %zu merges name tokens that are not in the vocabulary; dropped", path,
                b.skipped_merges);
    char cls[128];
    if ((st = ti_hf_config(&b, dir, cls, sizeof cls, &o, err, errn))) goto done;
    const char *pre = o.pre;
    if (!pre) {
        if (strcmp(cls, "Qwen2Tokenizer") == 0 || strcmp(cls, "Qwen2TokenizerFast") == 0)
            pre = "qwen2";
        else if (strcmp(cls, "GPT2Tokenizer") == 0 || strcmp(cls, "GPT2TokenizerFast") == 0)
            pre = "gpt-2";
        else if (tb_find(&b, "<|im_start|>", 12) >= 0)
            pre = "qwen2"; /* the Qwen family's chat markers */
        else {
            pre = "gpt-2";
            ti_warn(&o, "%s: pre-tokenizer not known; assuming gpt-2 (use --pre)", dir);
        }
    }
    ti_set_pre(&b, pre);
    ti_pre_defaults(&b);
    if (b.eos < 0) b.eos = tb_find(&b, "<|endoftext|>", 13);
    if ((st = tb_pad_to(&b, o.n_vocab, err, errn))) goto done;
    st = tb_write(&b, w, err, errn);
done:
    if (f) fclose(f);
    free(line);
    free(added);
    json_free(vdoc);
    json_free(adoc);
    tb_free(&b);
    return st;
}

/* ---- llama2.c ---- */

static uint32_t ti_rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Walks a llama2.c tokenizer: i32 max_token_length, then per token f32 score, i32 length,
   bytes. Returns the number of tokens, or 0 when the layout does not fit the file. */
static size_t ti_llama2c_count(const uint8_t *d, size_t n) {
    if (n < 4) return 0;
    uint32_t max_len = ti_rd32(d);
    if (max_len == 0 || max_len > TOK_MAX_PIECE) return 0;
    size_t pos = 4, count = 0;
    while (pos < n) {
        if (n - pos < 8) return 0;
        uint32_t len = ti_rd32(d + pos + 4);
        if (len > max_len || len > n - pos - 8) return 0;
        pos += 8 + len;
        count++;
    }
    return count;
}

learn_status tokimport_llama2c(learn_writer *w, const char *path, const tokimport_opts *opts,
                               char *err, size_t errn) {
    tokimport_opts o = opts ? *opts : tokimport_default_opts();
    char *text = NULL;
    size_t n = 0;
    learn_status st = util_read_file(path, (size_t)1 << 30, &text, &n, err, errn);
    uint8_t *d = (uint8_t *)text;
    if (st) return st;
    size_t count = ti_llama2c_count(d, n);
    tb b;
    tb_init(&b, "spm");
    char *piece = NULL;
    if (count < 3 || count > TOK_MAX_VOCAB) {
        st = util_fail(err, errn, LEARN_ERR_FORMAT,
                       "%s: not a llama2.c tokenizer (i32 max length, then per token: f32 score, "
                       "i32 length, bytes)",
                       path);
        goto done;
    }
    piece = (char *)malloc(3 * TOK_MAX_PIECE + 16);
    if (!piece) {
        st = util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
        goto done;
    }
    size_t pos = 4;
    for (size_t id = 0; id < count; id++) {
        float score;
        uint32_t bits = ti_rd32(d + pos), len = ti_rd32(d + pos + 4);
        memcpy(&score, &bits, 4);
        const uint8_t *s = d + pos + 8;
        pos += 8 + len;
        if (score != score) {
            st = util_fail(err, errn, LEARN_ERR_FORMAT, "%s: token %zu: score is NaN", path, id);
            goto done;
        }
        /* llama2.c's export wrote pieces with U+2581 turned into spaces and BOS/EOS as
           "\n<s>\n" / "\n</s>\n": undo both. */
        size_t k = 0;
        int type = LEARN_TOKEN_KIND_NORMAL;
        if (id == 0) {
            memcpy(piece, "<unk>", 5), k = 5, type = LEARN_TOKEN_KIND_UNKNOWN;
        } else if (id == 1) {
            memcpy(piece, "<s>", 3), k = 3, type = LEARN_TOKEN_KIND_CONTROL;
        } else if (id == 2) {
            memcpy(piece, "</s>", 4), k = 4, type = LEARN_TOKEN_KIND_CONTROL;
        } else {
            for (uint32_t j = 0; j < len; j++) {
                if (s[j] == ' ') piece[k++] = '\xE2', piece[k++] = '\x96', piece[k++] = '\x81';
                else piece[k++] = (char)s[j];
            }
            if (len == 6 && s[0] == '<' && s[1] == '0' && s[2] == 'x' && s[5] == '>' &&
                isxdigit(s[3]) && isxdigit(s[4]))
                type = LEARN_TOKEN_KIND_BYTE;
        }
        if (k > TOK_MAX_PIECE) {
            st = util_fail(err, errn, LEARN_ERR_FORMAT, "%s: token %zu is too long", path, id);
            goto done;
        }
        if ((st = tb_add(&b, piece, k, score, type, err, errn))) goto done;
    }
    b.has_scores = 1;
    if ((st = tb_index(&b, err, errn))) {
        char inner[256];
        snprintf(inner, sizeof inner, "%s", err ? err : "");
        st = util_fail(err, errn, st, "%s: %s", path, inner);
        goto done;
    }
    b.unk = 0, b.bos = 1, b.eos = 2;
    b.add_bos = 1;
    b.add_space_prefix = 1;
    /* Llama 2's SentencePiece model keeps extra white space; models trained with
       SentencePiece's defaults (llama2.c's train_vocab.sh) remove it. */
    int llama2 = b.n == 32000 && tb_find(&b, "\xE2\x96\x81\xE2\x96\x81", 6) == 259;
    b.remove_extra_ws = o.remove_extra_ws >= 0 ? o.remove_extra_ws : !llama2;
    if ((st = tb_pad_to(&b, o.n_vocab, err, errn))) goto done;
    st = tb_write(&b, w, err, errn);
done:
    free(piece);
    free(d);
    tb_free(&b);
    return st;
}

/* ---- SentencePiece tokenizer.model ---- */

/* A protobuf reader over a byte range: enough for sentencepiece_model.proto. */
typedef struct ti_pb {
    const uint8_t *p, *end;
} ti_pb;

static int ti_pb_varint(ti_pb *b, uint64_t *v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && b->p < b->end; shift += 7) {
        uint8_t c = *b->p++;
        r |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80)) {
            *v = r;
            return 1;
        }
    }
    return 0;
}

/* Reads a field: its number, wire type, and value (varint / fixed32 in *v, a length-delimited
   range in *sub). 0 at a malformed field. */
static int ti_pb_field(ti_pb *b, uint32_t *field, int *wire, uint64_t *v, ti_pb *sub) {
    uint64_t key, n;
    if (!ti_pb_varint(b, &key) || key >> 3 == 0 || key >> 3 > 0x1FFFFFFF) return 0;
    *field = (uint32_t)(key >> 3);
    *wire = (int)(key & 7);
    switch (*wire) {
    case 0: return ti_pb_varint(b, v);
    case 1:
        if (b->end - b->p < 8) return 0;
        b->p += 8;
        return 1;
    case 5:
        if (b->end - b->p < 4) return 0;
        *v = ti_rd32(b->p);
        b->p += 4;
        return 1;
    case 2:
        if (!ti_pb_varint(b, &n) || n > (uint64_t)(b->end - b->p)) return 0;
        sub->p = b->p;
        sub->end = b->p + n;
        b->p += n;
        return 1;
    default: return 0;
    }
}

learn_status tokimport_spm_model(learn_writer *w, const char *path, const tokimport_opts *opts,
                                 char *err, size_t errn) {
    tokimport_opts o = opts ? *opts : tokimport_default_opts();
    char *text = NULL;
    size_t n = 0;
    learn_status st = util_read_file(path, (size_t)1 << 30, &text, &n, err, errn);
    uint8_t *d = (uint8_t *)text;
    if (st) return st;
    tb b;
    tb_init(&b, "spm");
    /* Defaults of sentencepiece_model.proto. */
    int64_t model_type = 1, unk = 0, bos = 1, eos = 2, pad = -1;
    int dummy_prefix = 1, remove_ws = 1, escape_ws = 1, ws_suffix = 0, charsmap = 0;
    ti_pb top = {d, d + n}, sub, sub2;
    uint32_t f, f2;
    int wire, wire2;
    uint64_t v, v2;
    while (top.p < top.end) {
        if (!ti_pb_field(&top, &f, &wire, &v, &sub)) goto bad;
        if (f == 1 && wire == 2) { /* SentencePiece { piece = 1, score = 2, type = 3 } */
            const char *piece = NULL;
            size_t plen = 0;
            float score = 0.0f;
            int type = LEARN_TOKEN_KIND_NORMAL;
            while (sub.p < sub.end) {
                if (!ti_pb_field(&sub, &f2, &wire2, &v2, &sub2)) goto bad;
                if (f2 == 1 && wire2 == 2) {
                    piece = (const char *)sub2.p;
                    plen = (size_t)(sub2.end - sub2.p);
                } else if (f2 == 2 && wire2 == 5) {
                    uint32_t bits = (uint32_t)v2;
                    memcpy(&score, &bits, 4);
                } else if (f2 == 3 && wire2 == 0) {
                    type = v2 <= LEARN_TOKEN_KIND_BYTE ? (int)v2 : LEARN_TOKEN_KIND_UNDEFINED;
                }
            }
            if (!piece || score != score) {
                st = util_fail(err, errn, LEARN_ERR_FORMAT, "%s: piece %zu: no text, or a NaN score",
                               path, b.n);
                goto done;
            }
            if ((st = tb_add(&b, piece, plen, score, type, err, errn))) goto done;
        } else if ((f == 2 || f == 3) && wire == 2) { /* TrainerSpec, NormalizerSpec */
            while (sub.p < sub.end) {
                if (!ti_pb_field(&sub, &f2, &wire2, &v2, &sub2)) goto bad;
                if (wire2 == 2) {
                    if (f == 3 && f2 == 2 && sub2.end > sub2.p) charsmap = 1;
                    continue;
                }
                int64_t x = (int64_t)(int32_t)v2; /* int32 fields: negative values are 64-bit */
                if (f == 2) {
                    if (f2 == 3) model_type = x;
                    else if (f2 == 24) ws_suffix = v2 != 0;
                    else if (f2 == 40) unk = x;
                    else if (f2 == 41) bos = x;
                    else if (f2 == 42) eos = x;
                    else if (f2 == 43) pad = x;
                } else {
                    if (f2 == 3) dummy_prefix = v2 != 0;
                    else if (f2 == 4) remove_ws = v2 != 0;
                    else if (f2 == 5) escape_ws = v2 != 0;
                }
            }
        }
    }
    if (model_type != 2) {
        st = util_fail(err, errn, LEARN_ERR_UNSUPPORTED,
                       "%s: SentencePiece model type %lld is not supported (BPE, 2)", path,
                       (long long)model_type);
        goto done;
    }
    if (!escape_ws || ws_suffix) {
        st = util_fail(err, errn, LEARN_ERR_UNSUPPORTED,
                       "%s: escape_whitespaces off or treat_whitespace_as_suffix on: not supported",
                       path);
        goto done;
    }
    if (charsmap)
        ti_warn(&o, "%s: the normalizer's character map is not applied (as llama.cpp)", path);
    b.has_scores = 1;
    if ((st = tb_index(&b, err, errn))) goto done;
    b.unk = tb_id_ok(&b, unk) ? (int32_t)unk : -1;
    b.bos = tb_id_ok(&b, bos) ? (int32_t)bos : -1;
    b.eos = tb_id_ok(&b, eos) ? (int32_t)eos : -1;
    b.pad = tb_id_ok(&b, pad) ? (int32_t)pad : -1;
    b.add_bos = 1;
    b.add_space_prefix = dummy_prefix;
    b.remove_extra_ws = o.remove_extra_ws >= 0 ? o.remove_extra_ws : remove_ws;
    char dir[4096], cls[128];
    ti_dirname(path, dir, sizeof dir);
    if ((st = ti_hf_config(&b, dir, cls, sizeof cls, &o, err, errn))) goto done;
    if ((st = tb_pad_to(&b, o.n_vocab, err, errn))) goto done;
    st = tb_write(&b, w, err, errn);
    goto done;
bad:
    st = util_fail(err, errn, LEARN_ERR_FORMAT, "%s: not a SentencePiece model (bad protobuf at "
                                              "byte %zu)",
                 path, (size_t)(top.p - d));
done:
    free(d);
    tb_free(&b);
    return st;
}

/* ---- Detection ---- */

tokimport_kind tokimport_detect(const char *path) {
    char p[4096];
    if (ti_is_dir(path)) {
        snprintf(p, sizeof p, "%s/tokenizer.json", path);
        if (ti_is_file(p)) return TOKIMPORT_HF_JSON;
        snprintf(p, sizeof p, "%s/vocab.json", path);
        char q[4096];
        snprintf(q, sizeof q, "%s/merges.txt", path);
        if (ti_is_file(p) && ti_is_file(q)) return TOKIMPORT_VOCAB_MERGES;
        return TOKIMPORT_UNKNOWN;
    }
    FILE *f = fopen(path, "rb");
    if (!f) return TOKIMPORT_UNKNOWN;
    uint8_t head[16];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n >= 8 && memcmp(head, "LEARNMDL", 8) == 0) return TOKIMPORT_LEARN;
    if (n >= 4 && memcmp(head, "GGUF", 4) == 0) return TOKIMPORT_GGUF;
    /* ModelProto: field 1 (a SentencePiece message), whose field 1 is the piece. */
    if (n >= 3 && head[0] == 0x0A && head[1] > 0 && head[1] < 0x80 && head[2] == 0x0A)
        return TOKIMPORT_SPM_MODEL;
    size_t i = n >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (i < n && (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t')) i++;
    if (i < n && head[i] == '{') return TOKIMPORT_HF_JSON;
    if (n >= 4) {
        uint32_t max_len = ti_rd32(head);
        if (max_len > 0 && max_len <= TOK_MAX_PIECE) return TOKIMPORT_LLAMA2C;
    }
    return TOKIMPORT_UNKNOWN;
}

learn_status tokimport_auto(learn_writer *w, const char *path, const tokimport_opts *opts,
                            char *err, size_t errn) {
    char p[4096];
    struct stat sb;
    if (stat(path, &sb) != 0)
        return util_fail(err, errn, LEARN_ERR_IO, "%s: %s", path, strerror(errno));
    switch (tokimport_detect(path)) {
    case TOKIMPORT_GGUF: {
        gguf_file *g;
        learn_status st = gguf_open(path, &g, err, errn);
        if (st) return st;
        char inner[256];
        st = tokimport_gguf(w, g, opts, inner, sizeof inner);
        if (st) util_fail(err, errn, st, "%s: %s", path, inner);
        gguf_close(g);
        return st;
    }
    case TOKIMPORT_HF_JSON:
        if (ti_is_dir(path)) {
            snprintf(p, sizeof p, "%s/tokenizer.json", path);
            return tokimport_hf_json(w, p, opts, err, errn);
        }
        return tokimport_hf_json(w, path, opts, err, errn);
    case TOKIMPORT_VOCAB_MERGES: return tokimport_vocab_merges(w, path, opts, err, errn);
    case TOKIMPORT_LLAMA2C: return tokimport_llama2c(w, path, opts, err, errn);
    case TOKIMPORT_SPM_MODEL: return tokimport_spm_model(w, path, opts, err, errn);
    case TOKIMPORT_LEARN:
        return util_fail(err, errn, LEARN_ERR_ARG, "%s: a .learn model, not a tokenizer to import",
                         path);
    default:
        return util_fail(err, errn, LEARN_ERR_FORMAT,
                         "%s: not a GGUF file, tokenizer.json, vocab.json + merges.txt folder, "
                         "SentencePiece model or llama2.c tokenizer",
                         path);
    }
}
