/* bench_tokenizer.c - tokenizer throughput on English prose, one core.

   Build (from the repository root, once the tokenizer is in learn.c):
       cc -O2 -std=c11 -I. -Itools -o build/bench_tokenizer bench/bench_tokenizer.c learn.c \
          tools/json.c tools/gguf.c tools/tokimport.c -lm -pthread
   Run:
       build/bench_tokenizer [--file TEXT] [--mb N] [SOURCE...]
   SOURCE is anything `learn-cli tokenize` takes (.learn model, GGUF, tokenizer.json, vocab.json
   folder, llama2.c tokenizer); without one, the vocabularies of $LEARN_ASSETS (default
   ../shared/assets) that are present. The text is --file, or N MB (default 4) of prose built
   from the sentences below (the opening of Lewis Carroll's "Alice's Adventures in Wonderland",
   public domain) in a pseudo-random order. Two figures per tokenizer: items of about 1 KB
   (the recommendation use: one call per item) and the whole text in one call. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "learn.h"
#include "tokimport.h"

static const char *const bench_sentences[] = {
    "Alice was beginning to get very tired of sitting by her sister on the bank, and of having "
    "nothing to do: once or twice she had peeped into the book her sister was reading, but it had "
    "no pictures or conversations in it, \"and what is the use of a book,\" thought Alice "
    "\"without pictures or conversations?\"",
    "So she was considering in her own mind (as well as she could, for the hot day made her feel "
    "very sleepy and stupid), whether the pleasure of making a daisy-chain would be worth the "
    "trouble of getting up and picking the daisies, when suddenly a White Rabbit with pink eyes "
    "ran close by her.",
    "There was nothing so very remarkable in that; nor did Alice think it so very much out of the "
    "way to hear the Rabbit say to itself, \"Oh dear! Oh dear! I shall be late!\"",
    "But when the Rabbit actually took a watch out of its waistcoat-pocket, and looked at it, and "
    "then hurried on, Alice started to her feet, for it flashed across her mind that she had never "
    "before seen a rabbit with either a waistcoat-pocket, or a watch to take out of it.",
    "Burning with curiosity, she ran across the field after it, and fortunately was just in time "
    "to see it pop down a large rabbit-hole under the hedge.",
    "In another moment down went Alice after it, never once considering how in the world she was "
    "to get out again.",
    "The rabbit-hole went straight on like a tunnel for some way, and then dipped suddenly down, "
    "so suddenly that Alice had not a moment to think about stopping herself before she found "
    "herself falling down a very deep well.",
    "Either the well was very deep, or she fell very slowly, for she had plenty of time as she "
    "went down to look about her and to wonder what was going to happen next.",
    "First, she tried to look down and make out what she was coming to, but it was too dark to "
    "see anything; then she looked at the sides of the well, and noticed that they were filled "
    "with cupboards and book-shelves; here and there she saw maps and pictures hung upon pegs.",
    "She took down a jar from one of the shelves as she passed; it was labelled \"ORANGE "
    "MARMALADE\", but to her great disappointment it was empty: she did not like to drop the jar "
    "for fear of killing somebody underneath, so managed to put it into one of the cupboards as "
    "she fell past it.",
    "\"Well!\" thought Alice to herself, \"after such a fall as this, I shall think nothing of "
    "tumbling down stairs! How brave they'll all think me at home! Why, I wouldn't say anything "
    "about it, even if I fell off the top of the house!\" (Which was very likely true.)",
    "Down, down, down. Would the fall never come to an end? \"I wonder how many miles I've "
    "fallen by this time?\" she said aloud.",
    "\"I must be getting somewhere near the centre of the earth. Let me see: that would be four "
    "thousand miles down, I think\" (for, you see, Alice had learnt several things of this sort "
    "in her lessons in the schoolroom, and though this was not a very good opportunity for "
    "showing off her knowledge, as there was no one to listen to her, still it was good practice "
    "to say it over).",
};

static double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *bench_prose(size_t bytes, size_t *len) {
    char *t = (char *)malloc(bytes + 1024);
    if (!t) return NULL;
    size_t n = 0;
    unsigned r = 12345;
    const size_t ns = sizeof bench_sentences / sizeof bench_sentences[0];
    while (n < bytes) {
        r = r * 1103515245u + 12345u;
        const char *s = bench_sentences[(r >> 16) % ns];
        size_t l = strlen(s);
        memcpy(t + n, s, l);
        n += l;
        r = r * 1103515245u + 12345u;
        t[n++] = (r >> 16) % 5 == 0 ? '\n' : ' ';
    }
    t[n] = 0;
    *len = n;
    return t;
}

static char *bench_read(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = (char *)malloc(cap);
    for (size_t r; buf && (r = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) buf = (char *)realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Opens a tokenizer source as a model (imports when needed); the blob lives until exit. */
static learn_model *bench_open(const char *src) {
    learn_model *m = NULL;
    char err[512];
    if (tokimport_detect(src) == TOKIMPORT_LEARN) {
        if (learn_model_open(src, NULL, &m, err, sizeof err)) fprintf(stderr, "%s\n", err);
        return m;
    }
    learn_writer *w;
    void *blob;
    size_t size;
    tokimport_opts o = tokimport_default_opts();
    if (learn_writer_new(NULL, &w)) return NULL;
    if (tokimport_auto(w, src, &o, err, sizeof err) || learn_writer_save_memory(w, &blob, &size) ||
        learn_model_open_memory(blob, size, NULL, &m, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", src, err);
        return NULL;
    }
    return m; /* the writer and its buffer are kept (a benchmark exits soon) */
}

static void bench_one(const char *src, const char *text, size_t len) {
    learn_model *m = bench_open(src);
    if (!m) return;
    learn_ctx *ctx;
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = 1;
    cp.max_text_len = len + 1;
    if (learn_ctx_new(m, &cp, &ctx)) return;
    int32_t *ids = (int32_t *)malloc((len + 16) * sizeof *ids);
    size_t n_ids = 0, total_ids = 0;
    /* Items of about 1 KB, cut after a space. */
    double best_items = 1e30, best_whole = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = bench_now();
        total_ids = 0;
        for (size_t pos = 0; pos < len;) {
            size_t end = pos + 1024 < len ? pos + 1024 : len;
            while (end < len && text[end - 1] != ' ') end++;
            if (learn_tokenize(ctx, text + pos, end - pos, 0, ids, len + 16, &n_ids)) {
                fprintf(stderr, "%s: %s\n", src, learn_ctx_errmsg(ctx));
                return;
            }
            total_ids += n_ids;
            pos = end;
        }
        double t1 = bench_now();
        if (learn_tokenize(ctx, text, len, 0, ids, len + 16, &n_ids)) {
            fprintf(stderr, "%s: %s\n", src, learn_ctx_errmsg(ctx));
            return;
        }
        double t2 = bench_now();
        if (t1 - t0 < best_items) best_items = t1 - t0;
        if (t2 - t1 < best_whole) best_whole = t2 - t1;
    }
    learn_tokenizer_info info;
    learn_tokenizer_get_info(m, &info);
    const char *name = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
    printf("%-34s %-3s %-14s %8.1f MB/s items %8.1f MB/s whole  (%.2f bytes/token)\n", name,
           info.model, info.pre, (double)len / 1e6 / best_items, (double)len / 1e6 / best_whole,
           (double)len / (double)total_ids);
    free(ids);
    learn_ctx_free(ctx);
    learn_model_close(m);
}

int main(int argc, char **argv) {
    const char *file = NULL;
    double mb = 4;
    int first_src = argc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--file") && i + 1 < argc) file = argv[++i];
        else if (!strcmp(argv[i], "--mb") && i + 1 < argc) mb = atof(argv[++i]);
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [--file TEXT] [--mb N] [SOURCE...]\n", argv[0]);
            return 2;
        } else {
            first_src = i;
            break;
        }
    }
    size_t len;
    char *text = file ? bench_read(file, &len) : bench_prose((size_t)(mb * 1e6), &len);
    if (!text) {
        fprintf(stderr, "cannot read %s\n", file ? file : "(prose)");
        return 1;
    }
    printf("%.2f MB of %s, one core\n", (double)len / 1e6, file ? file : "English prose");
    if (first_src < argc) {
        for (int i = first_src; i < argc; i++) bench_one(argv[i], text, len);
    } else {
        const char *dir = getenv("LEARN_ASSETS");
        if (!dir || !*dir) dir = "../shared/assets";
        static const char *const rel[] = {
            "llamacpp-vocab/ggml-vocab-llama-spm.gguf", "llama2c/tok512.bin",
            "llamacpp-vocab/ggml-vocab-gpt-2.gguf", "hf-tokenizers/llama3/tokenizer.json",
            "hf-tokenizers/qwen3/tokenizer.json", "llamacpp-vocab/ggml-vocab-deepseek-llm.gguf",
            "llamacpp-vocab/ggml-vocab-falcon.gguf"};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", dir, rel[i]);
            if (access(p, R_OK) == 0) bench_one(p, text, len);
        }
    }
    free(text);
    return 0;
}
