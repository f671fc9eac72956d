/* cmd_tokenize.c - `learn-cli tokenize`: token ids of a text, with the tokenizer of a .learn
   model or imported on the fly from GGUF, tokenizer.json, vocab.json + merges.txt or a llama2.c
   tokenizer. */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "learn.h"
#include "tokimport.h"
#include "util.h"

int cmd_tokenize(int argc, char **argv);

static const char cmd_tokenize_usage[] =
    "usage: learn-cli tokenize SOURCE [options]\n"
    "\n"
    "Prints the token ids of a text on one line, separated by spaces.\n"
    "\n"
    "SOURCE is a .learn model, a GGUF file (a model or vocab-only), a Hugging Face\n"
    "tokenizer.json (or a folder holding one), a folder with vocab.json and merges.txt\n"
    "(+ added_tokens.json), a SentencePiece tokenizer.model, or a llama2.c tokenizer\n"
    "(tokenizer.bin, tok512.bin).\n"
    "\n"
    "options:\n"
    "  --text TEXT        the text (default: all of standard input)\n"
    "  --add-special      add BOS/EOS as the model does\n"
    "  --parse-special    recognise control tokens (<|im_start|>, <s>, ...) in the text\n"
    "  --cases FILE       tokenize each case of a llama.cpp test input (FILE.inp: cases\n"
    "                     separated by \"\\n__ggml_vocab_test__\\n\"), one line per case in\n"
    "                     the format of the matching .out file (\" id id ...\")\n"
    "  --detok            the input is a list of ids; print their text (no newline added)\n"
    "  --pre NAME         pre-tokenizer when importing a byte-level BPE (gpt-2, llama-bpe,\n"
    "                     qwen2, falcon, mpt, starcoder, refact, deepseek-llm, ...)\n"
    "  --remove-extra-ws yes|no\n"
    "                     SentencePiece's whitespace clean-up (spm): default as the\n"
    "                     tokenizer.model says; for a llama2.c tokenizer yes unless it is\n"
    "                     Llama 2's vocabulary; for GGUF no (as llama.cpp)\n"
    "  -h, --help         this help\n";

#define CMD_TOK_SEP "\n__ggml_vocab_test__\n"

/* Tokenizes one text into a growing buffer. */
static learn_status cmd_tok_run(learn_ctx *ctx, const char *text, size_t len, uint32_t flags,
                                int32_t **ids, size_t *cap, size_t *n) {
    learn_status st = learn_tokenize(ctx, text, len, flags, *ids, *cap, n);
    if (st == LEARN_ERR_BUFFER) {
        int32_t *p = (int32_t *)realloc(*ids, (*n + 1) * sizeof **ids);
        if (!p) return LEARN_ERR_NOMEM;
        *ids = p;
        *cap = *n + 1;
        st = learn_tokenize(ctx, text, len, flags, *ids, *cap, n);
    }
    return st;
}

static int cmd_tok_detok(learn_ctx *ctx, const char *in) {
    size_t cap = 256, n = 0;
    int32_t *ids = (int32_t *)malloc(cap * sizeof *ids);
    if (!ids) return cli_error("tokenize", "out of memory");
    for (const char *p = in; *p;) {
        if (strchr(" \t\r\n,[]", *p)) {
            p++;
            continue;
        }
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < INT32_MIN || v > INT32_MAX) {
            free(ids);
            return cli_error("tokenize", "--detok: \"%.20s\" is not a token id", p);
        }
        if (n == cap) {
            int32_t *q = (int32_t *)realloc(ids, 2 * cap * sizeof *ids);
            if (!q) {
                free(ids);
                return cli_error("tokenize", "out of memory");
            }
            ids = q;
            cap *= 2;
        }
        ids[n++] = (int32_t)v;
        p = end;
    }
    size_t len = 0;
    learn_status st = learn_detokenize(ctx, ids, n, NULL, 0, &len);
    char *out = NULL;
    if (st == LEARN_ERR_BUFFER) {
        out = (char *)malloc(len + 1);
        st = out ? learn_detokenize(ctx, ids, n, out, len + 1, &len) : LEARN_ERR_NOMEM;
    }
    free(ids);
    if (st) {
        free(out);
        return cli_error("tokenize", "%s", learn_ctx_errmsg(ctx));
    }
    fwrite(out ? out : "", 1, len, stdout);
    free(out);
    return 0;
}

static void cmd_tok_warn(void *user, const char *msg) {
    (void)user;
    fprintf(stderr, "learn-cli tokenize: warning: %s\n", msg);
}

int cmd_tokenize(int argc, char **argv) {
    const char *source = NULL, *text = NULL, *cases = NULL;
    uint32_t flags = 0;
    int detok = 0;
    tokimport_opts io = tokimport_default_opts();
    io.warn = cmd_tok_warn;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(cmd_tokenize_usage, stdout);
            return 0;
        } else if (!strcmp(a, "--add-special")) {
            flags |= LEARN_TOKENIZE_ADD_SPECIAL;
        } else if (!strcmp(a, "--parse-special")) {
            flags |= LEARN_TOKENIZE_PARSE_SPECIAL;
        } else if (!strcmp(a, "--detok")) {
            detok = 1;
        } else if (!strcmp(a, "--text") || !strcmp(a, "--cases") || !strcmp(a, "--pre") ||
                   !strcmp(a, "--remove-extra-ws")) {
            if (i + 1 >= argc) return cli_error("tokenize", "%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--text")) text = v;
            else if (!strcmp(a, "--cases")) cases = v;
            else if (!strcmp(a, "--pre")) io.pre = v;
            else if (!strcmp(v, "yes")) io.remove_extra_ws = 1;
            else if (!strcmp(v, "no")) io.remove_extra_ws = 0;
            else return cli_error("tokenize", "--remove-extra-ws: \"%s\" (yes or no)", v);
        } else if (a[0] == '-' && a[1]) {
            return cli_error("tokenize", "unknown option %s (see --help)", a);
        } else if (!source) {
            source = a;
        } else {
            return cli_error("tokenize", "unexpected argument \"%s\" (see --help)", a);
        }
    }
    if (!source) return cli_error("tokenize", "no SOURCE given (see --help)");
    if (text && cases) return cli_error("tokenize", "--text and --cases exclude each other");

    char err[512];
    learn_model *model = NULL;
    learn_writer *w = NULL;
    void *blob = NULL;
    size_t blob_size = 0;
    learn_status st;
    if (tokimport_detect(source) == TOKIMPORT_LEARN) {
        st = learn_model_open(source, NULL, &model, err, sizeof err);
    } else {
        st = learn_writer_new(NULL, &w);
        if (!st) st = tokimport_auto(w, source, &io, err, sizeof err);
        if (!st && (st = learn_writer_save_memory(w, &blob, &blob_size)))
            snprintf(err, sizeof err, "%s", learn_writer_errmsg(w));
        if (!st) st = learn_model_open_memory(blob, blob_size, NULL, &model, err, sizeof err);
    }
    learn_ctx *ctx = NULL;
    int rc = 0;
    char *input = NULL;
    size_t input_len = 0;
    int32_t *ids = NULL;
    size_t cap = 0, n = 0;
    if (st) {
        rc = cli_error("tokenize", "%s", err);
        goto done;
    }
    if (cases) {
        if (util_read_file(cases, 0, &input, &input_len, err, sizeof err) != LEARN_OK) {
            rc = cli_error("tokenize", "%s", err);
            goto done;
        }
    } else if (text) {
        input_len = strlen(text);
    } else if (util_read_stream(stdin, 0, &input, &input_len) != LEARN_OK) {
        rc = cli_error("tokenize", "cannot read standard input");
        goto done;
    }
    const char *in = input ? input : text;
    /* The user gave this text: the context takes all of it. */
    learn_ctx_params cp = learn_ctx_default_params();
    cp.n_threads = 1;
    cp.max_text_len = input_len + 1;
    if ((st = learn_ctx_new(model, &cp, &ctx))) {
        rc = cli_error("tokenize", "cannot create a context: %s", learn_status_str(st));
        goto done;
    }
    if (detok) {
        rc = cmd_tok_detok(ctx, in);
        goto done;
    }
    /* Cases as llama.cpp's test-tokenizer-0 reads them: split on the separator; a trailing
       separator ends the last case. */
    size_t pos = 0, sep_len = strlen(CMD_TOK_SEP);
    int first = 1;
    while (cases ? pos < input_len : first) {
        first = 0;
        size_t end = input_len;
        if (cases) {
            const char *hit = NULL;
            for (size_t k = pos; k + sep_len <= input_len; k++)
                if (in[k] == '\n' && memcmp(in + k, CMD_TOK_SEP, sep_len) == 0) {
                    hit = in + k;
                    break;
                }
            if (hit) end = (size_t)(hit - in);
        }
        st = cmd_tok_run(ctx, in + pos, end - pos, cases ? 0 : flags, &ids, &cap, &n);
        if (st) {
            rc = cli_error("tokenize", "%s", learn_ctx_errmsg(ctx));
            goto done;
        }
        for (size_t k = 0; k < n; k++) printf(cases ? " %d" : k ? " %d" : "%d", (int)ids[k]);
        printf("\n");
        pos = end + (end < input_len ? sep_len : 0);
    }
    if (fflush(stdout) != 0) rc = cli_error("tokenize", "cannot write standard output");
done:
    free(ids);
    free(input);
    learn_ctx_free(ctx);
    learn_model_close(model);
    if (w) {
        if (blob) learn_writer_free_buffer(w, blob);
        learn_writer_free(w);
    }
    return rc;
}
