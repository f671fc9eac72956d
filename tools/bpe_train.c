/* A byte-level BPE trainer: learns merges from texts and writes a tokenizer section
   (tokenizer.model "bpe", pre-tokenizer "gpt-2", GPT-2's byte-to-unicode map) that learn's
   tokenizer reads. Used to give the demo model a vocabulary fitted to its catalog.

   Training: texts are split into words the way GPT-2's pre-tokenizer does for plain prose (an
   optional leading space, then a run of letters, of digits, or of other symbols; runs of
   spaces stay apart); words are counted; starting from the 256 bytes, the most frequent
   adjacent pair (ties: the pair whose merged text sorts first) is merged, again and again,
   until the vocabulary has the size asked for or no pair occurs twice. Deterministic. */
#include "bpe_train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* GPT-2's map from bytes to printable code points. */
static uint32_t byte_cp(uint8_t b) {
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174) return b;
    uint32_t n = 0;
    for (uint32_t c = 0; c < b; c++)
        if (!((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || c >= 174)) n++;
    return 256 + n;
}

static size_t put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) return o[0] = (char)cp, 1;
    o[0] = (char)(0xc0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3f));
    return 2; /* the map never goes past U+07FF */
}

typedef struct word {
    uint32_t *sym; /* token ids */
    uint32_t n;
    uint64_t count;
    char *bytes;   /* raw bytes, for the hash */
    size_t len;
} word;

typedef struct wordset {
    word *w;
    size_t n, cap;
    size_t *slots; /* hash: index + 1 */
    size_t n_slots;
} wordset;

static int wordset_add(wordset *ws, const char *s, size_t n) {
    if ((ws->n + 1) * 2 > ws->n_slots) {
        size_t ns = ws->n_slots ? ws->n_slots * 2 : 4096;
        size_t *sl = (size_t *)calloc(ns, sizeof *sl);
        if (!sl) return -1;
        for (size_t i = 0; i < ws->n; i++) {
            size_t h = (size_t)util_fnv1a(UTIL_FNV1A_BASIS, ws->w[i].bytes, ws->w[i].len) & (ns - 1);
            while (sl[h]) h = (h + 1) & (ns - 1);
            sl[h] = i + 1;
        }
        free(ws->slots);
        ws->slots = sl;
        ws->n_slots = ns;
    }
    size_t h = (size_t)util_fnv1a(UTIL_FNV1A_BASIS, s, n) & (ws->n_slots - 1);
    while (ws->slots[h]) {
        word *w = &ws->w[ws->slots[h] - 1];
        if (w->len == n && memcmp(w->bytes, s, n) == 0) {
            w->count++;
            return 0;
        }
        h = (h + 1) & (ws->n_slots - 1);
    }
    if (ws->n == ws->cap) {
        size_t nc = ws->cap ? ws->cap * 2 : 4096;
        word *p = (word *)realloc(ws->w, nc * sizeof *p);
        if (!p) return -1;
        ws->w = p;
        ws->cap = nc;
    }
    word *w = &ws->w[ws->n];
    w->bytes = (char *)malloc(n);
    w->sym = (uint32_t *)malloc(n * sizeof *w->sym);
    if (!w->bytes || !w->sym) {
        free(w->bytes);
        free(w->sym);
        return -1;
    }
    memcpy(w->bytes, s, n);
    for (size_t i = 0; i < n; i++) w->sym[i] = (uint8_t)s[i]; /* byte b is token b */
    w->len = n;
    w->n = (uint32_t)n;
    w->count = 1;
    ws->slots[h] = ++ws->n;
    return 0;
}

static int is_letter(uint8_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80; }
static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static int is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* GPT-2-like words of one text. */
static int split_words(wordset *ws, const char *t, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t s = i;
        uint8_t c = (uint8_t)t[i];
        if (c == ' ' && i + 1 < n && !is_space((uint8_t)t[i + 1])) c = (uint8_t)t[++i];
        int kind = is_letter(c) ? 0 : is_digit(c) ? 1 : is_space(c) ? 2 : 3;
        while (i < n) {
            uint8_t d = (uint8_t)t[i];
            int k = is_letter(d) ? 0 : is_digit(d) ? 1 : is_space(d) ? 2 : 3;
            if (k != kind) break;
            i++;
        }
        if (i == s) i++;
        if (wordset_add(ws, t + s, i - s)) return -1;
    }
    return 0;
}

/* A growable vocabulary of token texts in the byte map. */
typedef struct vocab {
    char *text;
    size_t len, cap;
    int32_t *off;
    uint32_t n;
} vocab;

static int vocab_add(vocab *v, const char *s, size_t n) {
    if (v->len + n > v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 65536;
        while (nc < v->len + n) nc *= 2;
        char *p = (char *)realloc(v->text, nc);
        if (!p) return -1;
        v->text = p;
        v->cap = nc;
    }
    int32_t *o = (int32_t *)realloc(v->off, (v->n + 2) * sizeof *o);
    if (!o) return -1;
    v->off = o;
    if (v->n == 0) v->off[0] = 0;
    memcpy(v->text + v->len, s, n);
    v->len += n;
    v->n++;
    v->off[v->n] = (int32_t)v->len;
    return 0;
}

learn_status bpe_train(const char *const *texts, const size_t *lens, size_t n_texts,
                       uint32_t vocab_size, learn_writer *w, bpe_train_stats *stats, char *err,
                       size_t errn) {
    if (vocab_size < 257 || vocab_size > (1u << 20)) {
        snprintf(err, errn, "vocabulary size %u is outside 257..1048576", vocab_size);
        return LEARN_ERR_ARG;
    }
    wordset ws;
    memset(&ws, 0, sizeof ws);
    vocab v;
    memset(&v, 0, sizeof v);
    int32_t *merges = NULL;
    uint32_t n_merges = 0;
    learn_status st = LEARN_ERR_NOMEM;
    for (size_t i = 0; i < n_texts; i++)
        if (split_words(&ws, texts[i], lens[i])) goto out;
    for (int b = 0; b < 256; b++) {
        char u[2];
        if (vocab_add(&v, u, put_utf8(u, byte_cp((uint8_t)b)))) goto out;
    }
    merges = (int32_t *)malloc(2 * sizeof *merges * (vocab_size - 256 + 1));
    if (!merges) goto out;
    /* Pair counts in a hash table keyed by (a, b), rebuilt per merge: simple and fast enough
       for the vocabularies of a demo catalog. */
    size_t tcap = 1 << 16;
    uint64_t *keys = (uint64_t *)malloc(tcap * sizeof *keys), *cnt = (uint64_t *)malloc(tcap * sizeof *cnt);
    if (!keys || !cnt) {
        free(keys);
        free(cnt);
        goto out;
    }
    while (v.n < vocab_size) {
        size_t pairs = 0;
        for (size_t i = 0; i < ws.n; i++) pairs += ws.w[i].n ? ws.w[i].n - 1 : 0;
        while (tcap < 2 * pairs + 16) tcap *= 2;
        uint64_t *k2 = (uint64_t *)realloc(keys, tcap * sizeof *keys), *c2;
        if (!k2) break;
        keys = k2;
        c2 = (uint64_t *)realloc(cnt, tcap * sizeof *cnt);
        if (!c2) break;
        cnt = c2;
        memset(keys, 0xff, tcap * sizeof *keys);
        uint64_t best_key = UINT64_MAX, best_cnt = 1;
        for (size_t i = 0; i < ws.n; i++) {
            const word *wd = &ws.w[i];
            for (uint32_t j = 0; j + 1 < wd->n; j++) {
                uint64_t key = ((uint64_t)wd->sym[j] << 32) | wd->sym[j + 1];
                size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (tcap - 1);
                while (keys[h] != UINT64_MAX && keys[h] != key) h = (h + 1) & (tcap - 1);
                if (keys[h] == UINT64_MAX) keys[h] = key, cnt[h] = 0;
                cnt[h] += wd->count;
                uint64_t c = cnt[h];
                int take = c > best_cnt;
                if (!take && c == best_cnt && best_key != UINT64_MAX && key != best_key) {
                    /* Tie: the pair whose merged text sorts first. */
                    uint32_t a = (uint32_t)(key >> 32), b = (uint32_t)key;
                    uint32_t ba = (uint32_t)(best_key >> 32), bb = (uint32_t)best_key;
                    size_t la = (size_t)(v.off[a + 1] - v.off[a]), lb = (size_t)(v.off[b + 1] - v.off[b]);
                    size_t lba = (size_t)(v.off[ba + 1] - v.off[ba]), lbb = (size_t)(v.off[bb + 1] - v.off[bb]);
                    char x[8192], y[8192];
                    if (la + lb < sizeof x && lba + lbb < sizeof y) {
                        memcpy(x, v.text + v.off[a], la);
                        memcpy(x + la, v.text + v.off[b], lb);
                        memcpy(y, v.text + v.off[ba], lba);
                        memcpy(y + lba, v.text + v.off[bb], lbb);
                        size_t m = la + lb < lba + lbb ? la + lb : lba + lbb;
                        int cmp = memcmp(x, y, m);
                        take = cmp < 0 || (cmp == 0 && la + lb < lba + lbb);
                    }
                }
                if (take) best_key = key, best_cnt = c;
            }
        }
        if (best_key == UINT64_MAX) break; /* no pair occurs twice */
        uint32_t a = (uint32_t)(best_key >> 32), b = (uint32_t)best_key;
        char buf[8192];
        size_t la = (size_t)(v.off[a + 1] - v.off[a]), lb = (size_t)(v.off[b + 1] - v.off[b]);
        if (la + lb > 4096) break; /* the tokenizer's limit per token */
        memcpy(buf, v.text + v.off[a], la);
        memcpy(buf + la, v.text + v.off[b], lb);
        uint32_t id = v.n;
        if (vocab_add(&v, buf, la + lb)) break;
        merges[2 * n_merges] = (int32_t)a;
        merges[2 * n_merges + 1] = (int32_t)b;
        n_merges++;
        for (size_t i = 0; i < ws.n; i++) { /* apply the merge in every word */
            word *wd = &ws.w[i];
            uint32_t o = 0;
            for (uint32_t j = 0; j < wd->n; j++) {
                if (j + 1 < wd->n && wd->sym[j] == a && wd->sym[j + 1] == b) {
                    wd->sym[o++] = id;
                    j++;
                } else {
                    wd->sym[o++] = wd->sym[j];
                }
            }
            wd->n = o;
        }
    }
    free(keys);
    free(cnt);
    /* One control token at the end: end of text. */
    if (vocab_add(&v, "<|endoftext|>", 13)) goto out;
    uint8_t *types = (uint8_t *)malloc(v.n);
    if (!types) goto out;
    memset(types, 1, v.n);
    types[v.n - 1] = 3;
    uint64_t s_text[1] = {v.len}, s_off[1] = {(uint64_t)v.n + 1}, s_types[1] = {v.n};
    uint64_t s_merges[2] = {n_merges ? n_merges : 1, 2};
    if (n_merges == 0) {
        snprintf(err, errn, "the texts give no pair of bytes that occurs twice: nothing to learn");
        free(types);
        st = LEARN_ERR_ARG;
        goto out;
    }
    if ((st = learn_writer_set_str(w, "tokenizer.model", "bpe", 3)) ||
        (st = learn_writer_set_str(w, "tokenizer.pre", "gpt-2", 5)) ||
        (st = learn_writer_set_i32(w, "tokenizer.eos_id", (int32_t)(v.n - 1))) ||
        (st = learn_writer_set_bool(w, "tokenizer.add_bos", 0)) ||
        (st = learn_writer_add_tensor(w, "tokenizer.text", LEARN_TYPE_U8, 1, s_text, v.text, LEARN_WRITER_COPY)) ||
        (st = learn_writer_add_tensor(w, "tokenizer.offsets", LEARN_TYPE_I32, 1, s_off, v.off, LEARN_WRITER_COPY)) ||
        (st = learn_writer_add_tensor(w, "tokenizer.types", LEARN_TYPE_U8, 1, s_types, types, LEARN_WRITER_COPY)) ||
        (st = learn_writer_add_tensor(w, "tokenizer.merges", LEARN_TYPE_I32, 2, s_merges, merges, LEARN_WRITER_COPY)))
        snprintf(err, errn, "%s", learn_writer_errmsg(w));
    free(types);
    if (stats) {
        stats->n_vocab = v.n;
        stats->n_merges = n_merges;
        stats->n_words = ws.n;
    }
out:
    if (st == LEARN_ERR_NOMEM) snprintf(err, errn, "out of memory");
    for (size_t i = 0; i < ws.n; i++) {
        free(ws.w[i].bytes);
        free(ws.w[i].sym);
    }
    free(ws.w);
    free(ws.slots);
    free(v.text);
    free(v.off);
    free(merges);
    return st;
}
