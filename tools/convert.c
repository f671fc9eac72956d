/* learn-cli convert: models from llama2.c checkpoints (and the other sources) into .learn. */
#include "convert.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gguf.h"
#include "tokimport.h"
#include "towers_import.h"

static int conv_fail(char *err, size_t errn, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int conv_fail(char *err, size_t errn, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errn, fmt, ap);
    va_end(ap);
    return 1;
}

void convert_arena_free(convert_arena *a) {
    for (size_t i = 0; i < a->n; i++) free(a->bufs[i]);
    free(a->bufs);
    a->bufs = NULL;
    a->n = a->cap = 0;
}

int convert_arena_keep(convert_arena *a, void *buf) {
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        void **p = (void **)realloc(a->bufs, nc * sizeof *p);
        if (!p) return 1;
        a->bufs = p;
        a->cap = nc;
    }
    a->bufs[a->n++] = buf;
    return 0;
}

static void *arena_alloc(convert_arena *a, size_t n) {
    void *p = malloc(n ? n : 1);
    if (p && convert_arena_keep(a, p)) {
        free(p);
        return NULL;
    }
    return p;
}

int convert_add_f32(learn_writer *w, convert_arena *arena, const char *name, const float *data,
                    uint32_t n_dims, const uint64_t *shape, learn_type type, char *err,
                    size_t errn) {
    uint64_t n = 1;
    for (uint32_t d = 0; d < n_dims; d++) n *= shape[d];
    if (n_dims < 2) type = LEARN_TYPE_F32; /* norms and biases stay F32 */
    uint32_t be = learn_type_block_elems(type);
    if (be > 1 && shape[n_dims - 1] % be) {
        fprintf(stderr, "learn-cli convert: warning: %s: rows of %llu are not whole %s blocks; "
                        "stored as f16\n",
                name, (unsigned long long)shape[n_dims - 1], learn_type_name(type));
        type = LEARN_TYPE_F16;
    }
    size_t bytes = (size_t)learn_type_row_bytes(type, shape[n_dims - 1]) * (size_t)(n / shape[n_dims - 1]);
    void *buf = arena_alloc(arena, bytes);
    if (!buf) return conv_fail(err, errn, "%s: out of memory", name);
    learn_status st = learn_quantize(type, data, buf, (size_t)n);
    if (st == LEARN_OK) st = learn_writer_add_tensor(w, name, type, n_dims, shape, buf, 0);
    if (st) return conv_fail(err, errn, "%s: %s", name, learn_writer_errmsg(w));
    return 0;
}

int convert_set_encoder(learn_writer *w, const char *template_str, const char *pooling,
                        long max_tokens, char *err, size_t errn) {
    learn_status st = LEARN_OK;
    if (template_str) st = learn_writer_set_str(w, "encoder.template", template_str, strlen(template_str));
    if (!st && pooling) st = learn_writer_set_str(w, "encoder.pooling", pooling, strlen(pooling));
    if (!st && max_tokens > 0) st = learn_writer_set_u32(w, "encoder.max_tokens", (uint32_t)max_tokens);
    if (st) return conv_fail(err, errn, "%s", learn_writer_errmsg(w));
    return 0;
}

/* Reads a whole file into memory (caller frees). */
static uint8_t *read_file(const char *path, size_t *size, char *err, size_t errn) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        conv_fail(err, errn, "%s: %s", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : (1u << 20);
            uint8_t *p = (uint8_t *)realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                conv_fail(err, errn, "%s: out of memory", path);
                return NULL;
            }
            buf = p;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        conv_fail(err, errn, "%s: read error", path);
        return NULL;
    }
    *size = n;
    return buf;
}

int convert_llama2c(const char *path, learn_writer *w, convert_arena *arena,
                    const convert_opts *opts, char *err, size_t errn) {
    size_t size;
    uint8_t *buf = read_file(path, &size, err, errn);
    if (!buf) return 1;
    int rc = 1;
    if (size < 28) {
        conv_fail(err, errn, "%s: %zu bytes is too short for a llama2.c checkpoint", path, size);
        goto out;
    }
    if (memcmp(buf, "ak42", 4) == 0) {
        conv_fail(err, errn, "%s: llama2.c export format version 1/2 (magic ak42) is not "
                             "supported; export with the legacy format (version 0)", path);
        goto out;
    }
    int32_t cfg[7];
    memcpy(cfg, buf, sizeof cfg);
    int32_t dim = cfg[0], hidden = cfg[1], n_layers = cfg[2], n_heads = cfg[3], n_kv = cfg[4];
    int32_t vocab = cfg[5] < 0 ? -cfg[5] : cfg[5], seq_len = cfg[6];
    int shared = cfg[5] > 0;
    static const char *const names[7] = {"dim", "hidden_dim", "n_layers", "n_heads",
                                          "n_kv_heads", "vocab_size", "seq_len"};
    const int32_t vals[7] = {dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len};
    const int32_t maxs[7] = {1 << 16, 1 << 20, 512, 1024, 1024, 1 << 22, 1 << 24};
    for (int i = 0; i < 7; i++)
        if (vals[i] <= 0 || vals[i] > maxs[i]) {
            conv_fail(err, errn, "%s: config %s = %d is outside 1..%d", path, names[i], vals[i], maxs[i]);
            goto out;
        }
    if (dim % n_heads || n_heads % n_kv) {
        conv_fail(err, errn, "%s: n_heads %d must divide dim %d and n_kv_heads %d divide n_heads",
                  path, n_heads, dim, n_kv);
        goto out;
    }
    uint64_t hd = (uint64_t)dim / n_heads, kvd = hd * n_kv, L = (uint64_t)n_layers;
    uint64_t D = (uint64_t)dim, H = (uint64_t)hidden, V = (uint64_t)vocab;
    uint64_t floats = V * D + L * D + L * D * D + 2 * L * D * kvd + L * D * D + L * D +
                      2 * L * H * D + L * D * H + D + (uint64_t)seq_len * hd; /* freq_cis re+im */
    if (!shared) floats += V * D;
    if ((uint64_t)size != 28 + 4 * floats) {
        conv_fail(err, errn, "%s: %zu bytes, but its config needs %llu (truncated, or not a "
                             "legacy llama2.c checkpoint)",
                  path, size, (unsigned long long)(28 + 4 * floats));
        goto out;
    }
    /* The floats start at byte 28: copy into aligned memory. */
    float *f = (float *)arena_alloc(arena, (size_t)(4 * floats));
    if (!f) {
        conv_fail(err, errn, "out of memory");
        goto out;
    }
    memcpy(f, buf + 28, (size_t)(4 * floats));
    learn_type t = opts->keep ? LEARN_TYPE_F32 : opts->type;
    learn_writer_set_str(w, "general.architecture", "llama", 5);
    learn_writer_set_u32(w, "llm.vocab_size", (uint32_t)V);
    learn_writer_set_u32(w, "llm.embedding_length", (uint32_t)D);
    learn_writer_set_u32(w, "llm.block_count", (uint32_t)L);
    learn_writer_set_u32(w, "llm.head_count", (uint32_t)n_heads);
    learn_writer_set_u32(w, "llm.head_count_kv", (uint32_t)n_kv);
    learn_writer_set_u32(w, "llm.feed_forward_length", (uint32_t)H);
    learn_writer_set_u32(w, "llm.context_length", (uint32_t)seq_len);
    learn_writer_set_f32(w, "llm.rope_freq_base", 10000.0f);
    learn_writer_set_f32(w, "llm.rms_epsilon", 1e-5f);
    learn_writer_set_str(w, "llm.rope_type", "norm", 4);
    const float *p = f;
    char nm[64];
    uint64_t s2[2], s1[1];
#define TAKE(name_fmt, layer, rows, cols)                                                         \
    do {                                                                                          \
        snprintf(nm, sizeof nm, name_fmt, layer);                                                \
        s2[0] = rows, s2[1] = cols, s1[0] = cols;                                                \
        if (convert_add_f32(w, arena, nm, p, rows > 1 ? 2 : 1, rows > 1 ? s2 : s1, t, err, errn)) \
            goto out;                                                                             \
        p += (rows) * (cols);                                                                     \
    } while (0)
    TAKE("token_embd.weight%.0d", 0, V, D);
    for (uint64_t l = 0; l < L; l++) TAKE("blk.%d.attn_norm.weight", (int)l, 1, D);
    for (uint64_t l = 0; l < L; l++) TAKE("blk.%d.attn_q.weight", (int)l, D, D);
    for (uint64_t l = 0; l < L; l++) TAKE("blk.%d.attn_k.weight", (int)l, kvd, D);
    for (uint64_t l = 0; l < L; l++) TAKE("blk.%d.attn_v.weight", (int)l, kvd, D);
    for (uint64_t l = 0; l < L; l++) TAKE("blk.%d.attn_output.weight", (int)l, D, D);
    for (uint64_t l = 0; l < L; l++) TAKE("blk.%d.ffn_norm.weight", (int)l, 1, D);
    for (uint64_t l = 0; l < L; l++) TAKE("blk.%d.ffn_gate.weight", (int)l, H, D);
    for (uint64_t l = 0; l < L; l++) TAKE("blk.%d.ffn_down.weight", (int)l, D, H);
    for (uint64_t l = 0; l < L; l++) TAKE("blk.%d.ffn_up.weight", (int)l, H, D);
    TAKE("output_norm.weight%.0d", 0, 1, D);
#undef TAKE
    rc = 0; /* the rest (RoPE tables, classifier) is not needed for encoding */
out:
    free(buf);
    return rc;
}

static const char convert_usage[] =
    "usage: learn-cli convert SOURCE [options] -o OUT.learn\n"
    "\n"
    "Converts a model, with its tokenizer, into a .learn file (written atomically).\n"
    "sources (one):\n"
    "  --gguf FILE.gguf          llama.cpp model: llama, qwen2, qwen3, baichuan (7B)\n"
    "  --hf DIR                  Hugging Face folder: config.json, *.safetensors, tokenizer.json\n"
    "  --llama2c CKPT.bin --tokenizer TOK.bin   llama2.c checkpoint (legacy format) and tokenizer\n"
    "  --model BASE.learn        an existing .learn model (to add --towers to)\n"
    "towers (optional with the sources above, required with --model):\n"
    "  --towers FILE.safetensors a state dict of the official LEARN PreferenceAlignmentModule\n"
    "                            (adaptor, summary_encoder.layer.N..., mlp.0; a prefix such as\n"
    "                            module. is stripped); its content dimension must equal the\n"
    "                            LLM's n_embd\n"
    "  --tower-heads N (12)  --tower-eps X (1e-12)  --tower-act gelu|gelu_tanh|relu (gelu)\n"
    "  --tower-type f32|f16|q8_0 (f32)  --tower-history N (0: all; items a user history keeps)\n"
    "options:\n"
    "  --type f32|f16|q8_0|q4_0|keep   weight matrices (default: keep for --gguf, where types\n"
    "                            learn does not store become q8_0; q8_0 otherwise). Norms and\n"
    "                            biases stay f32.\n"
    "  --template TEXT           item text template, e.g. 'Title: {title}. Brand: {brand}'\n"
    "  --pooling mean|last       how token states become one embedding (default mean)\n"
    "  --max-tokens N            tokens kept per item (default min(512, context))\n"
    "  --name NAME               general.name\n"
    "  -o OUT.learn              the output file\n";

int cmd_convert(int argc, char **argv) {
    const char *llama2c = NULL, *gguf = NULL, *hf = NULL, *tok = NULL, *out = NULL, *tmpl = NULL,
               *pooling = NULL, *name = NULL, *base = NULL, *towers = NULL;
    towers_import_options topt = towers_import_default_options();
    long max_tokens = 0;
    int type_given = 0;
    convert_opts opts = {LEARN_TYPE_Q8_0, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            fputs(convert_usage, stdout);
            return 0;
        }
        static const char *const with_value[] = {"--llama2c", "--gguf", "--hf", "--tokenizer", "-o",
                                                 "--type", "--template", "--pooling", "--max-tokens", "--name",
                                                 "--model", "--towers", "--tower-heads", "--tower-eps",
                                                 "--tower-act", "--tower-type", "--tower-history"};
        int takes = 0;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++) takes |= !strcmp(a, with_value[k]);
        if (!takes) return cli_error("convert", "unknown argument '%s' (see learn-cli convert --help)", a);
        if (!v) return cli_error("convert", "%s needs a value", a);
        i++;
        if (strcmp(a, "--llama2c") == 0) llama2c = v;
        else if (strcmp(a, "--gguf") == 0) gguf = v;
        else if (strcmp(a, "--hf") == 0) hf = v;
        else if (strcmp(a, "--tokenizer") == 0) tok = v;
        else if (strcmp(a, "--model") == 0) base = v;
        else if (strcmp(a, "--towers") == 0) towers = v;
        else if (strcmp(a, "--tower-heads") == 0) {
            long n;
            if (cli_parse_long(v, 1, 4096, &n)) return cli_error("convert", "bad --tower-heads '%s'", v);
            topt.n_head = (uint32_t)n;
        } else if (strcmp(a, "--tower-history") == 0) {
            long n;
            if (cli_parse_long(v, 0, 1 << 20, &n)) return cli_error("convert", "bad --tower-history '%s'", v);
            topt.max_history = (uint32_t)n;
        } else if (strcmp(a, "--tower-eps") == 0) {
            char *end;
            double e = strtod(v, &end);
            if (end == v || *end || !(e > 0 && e < 1)) return cli_error("convert", "bad --tower-eps '%s'", v);
            topt.eps = (float)e;
        } else if (strcmp(a, "--tower-act") == 0) {
            if (strcmp(v, "gelu") && strcmp(v, "gelu_tanh") && strcmp(v, "relu"))
                return cli_error("convert", "--tower-act must be gelu, gelu_tanh or relu");
            topt.act = v;
        } else if (strcmp(a, "--tower-type") == 0) {
            if (!strcmp(v, "f32")) topt.weight_type = LEARN_TYPE_F32;
            else if (!strcmp(v, "f16")) topt.weight_type = LEARN_TYPE_F16;
            else if (!strcmp(v, "q8_0")) topt.weight_type = LEARN_TYPE_Q8_0;
            else return cli_error("convert", "--tower-type must be f32, f16 or q8_0");
        }
        else if (strcmp(a, "-o") == 0) out = v;
        else if (strcmp(a, "--template") == 0) tmpl = v;
        else if (strcmp(a, "--name") == 0) name = v;
        else if (strcmp(a, "--pooling") == 0) {
            if (strcmp(v, "mean") && strcmp(v, "last"))
                return cli_error("convert", "--pooling must be mean or last, not '%s'", v);
            pooling = v;
        } else if (strcmp(a, "--max-tokens") == 0) {
            if (cli_parse_long(v, 1, 1 << 24, &max_tokens))
                return cli_error("convert", "--max-tokens must be 1..16777216, not '%s'", v);
        } else if (strcmp(a, "--type") == 0) {
            static const struct { const char *n; learn_type t; } types[] = {
                {"f32", LEARN_TYPE_F32}, {"f16", LEARN_TYPE_F16}, {"q8_0", LEARN_TYPE_Q8_0}, {"q4_0", LEARN_TYPE_Q4_0}};
            int found = strcmp(v, "keep") == 0;
            opts.keep = found;
            for (size_t k = 0; k < 4 && !found; k++)
                if (strcmp(v, types[k].n) == 0) opts.type = types[k].t, found = 1;
            if (!found) return cli_error("convert", "--type must be f32, f16, q8_0, q4_0 or keep, not '%s'", v);
            type_given = 1;
        }
    }
    if ((llama2c != NULL) + (gguf != NULL) + (hf != NULL) + (base != NULL) != 1)
        return cli_error("convert", "give exactly one source: --gguf, --hf, --llama2c or --model (see learn-cli convert --help)");
    if (base && !towers) return cli_error("convert", "--model needs --towers (there is nothing else to add)");
    if (llama2c && !tok) return cli_error("convert", "--llama2c needs --tokenizer TOK.bin");
    if (tok && !llama2c) return cli_error("convert", "--tokenizer goes with --llama2c");
    if (!out) return cli_error("convert", "no output given (-o OUT.learn)");
    if (gguf && !type_given) opts.keep = 1;
    /* OUT's lock from before anything is read (with --model, OUT may be the model itself). */
    learn_lock *lock = cli_lock("convert", out);
    if (!lock) return 1;
    learn_writer *w;
    if (learn_writer_new(NULL, &w)) {
        learn_lock_release(lock);
        return cli_error("convert", "out of memory");
    }
    convert_arena arena = {NULL, 0, 0};
    gguf_file *g = NULL;
    learn_model *bm = NULL;
    safetensors_file *sf = NULL;
    char err[512];
    int rc;
    if (base) {
        bm = cli_open_model("convert", base, 1);
        if (!bm) {
            learn_writer_free(w);
            learn_lock_release(lock);
            return 1;
        }
        rc = cli_copy_model(w, bm, "tower.", err, sizeof err);
    } else if (gguf) {
        rc = convert_gguf(gguf, w, &arena, &opts, &g, err, sizeof err);
    } else if (hf) {
        rc = convert_hf(hf, w, &arena, &opts, err, sizeof err);
    } else {
        rc = convert_llama2c(llama2c, w, &arena, &opts, err, sizeof err);
        tokimport_opts to = tokimport_default_opts();
        if (!rc && tokimport_llama2c(w, tok, &to, err, sizeof err) != LEARN_OK) rc = 1;
    }
    if (!rc && towers) {
        /* The checkpoint's content dimension must be the LLM's n_embd. */
        uint64_t n_embd = 0;
        topt.llm = bm;
        if (safetensors_open(towers, &sf, err, sizeof err) != LEARN_OK) rc = 1;
        towers_import_result tr;
        if (!rc && towers_import(sf, &topt, w, &tr, err, sizeof err) != LEARN_OK) rc = 1;
        if (!rc && learn_writer_get_u64(w, "llm.embedding_length", &n_embd) == LEARN_OK && n_embd != tr.shape.d_in) {
            snprintf(err, sizeof err, "%s: the towers read content embeddings of %u values, but the LLM makes %llu",
                     towers, tr.shape.d_in, (unsigned long long)n_embd);
            rc = 1;
        }
        if (!rc)
            fprintf(stderr, "learn-cli convert: towers from %s: d_in %u, d_model %u, %u layers, %u heads, d_ff %u, d_out %u%s%s\n",
                    towers, tr.shape.d_in, tr.shape.d_model, tr.shape.n_layer, tr.shape.n_head, tr.shape.d_ff,
                    tr.shape.d_out, tr.prefix[0] ? ", prefix stripped: " : "", tr.prefix);
    }
    if (!rc && name) rc = learn_writer_set_str(w, "general.name", name, strlen(name)) != LEARN_OK;
    if (!rc) rc = convert_set_encoder(w, tmpl, pooling, max_tokens, err, sizeof err);
    if (!rc && learn_writer_save_locked(w, lock) != LEARN_OK) {
        snprintf(err, sizeof err, "%s", learn_writer_errmsg(w));
        rc = 1;
    }
    learn_writer_free(w);
    convert_arena_free(&arena);
    gguf_close(g);
    safetensors_close(sf);
    learn_model_close(bm);
    learn_lock_release(lock);
    if (rc) return cli_error("convert", "%s", err);
    /* Reopen: the architecture checks run on the result. */
    learn_model *m = cli_open_model("convert", out, 1);
    if (!m) return 1;
    learn_model_info in;
    learn_model_get_info(m, &in);
    fprintf(stderr, "learn-cli convert: wrote %s: %s, %u layers, n_embd %u, %.2fM parameters, %.1f MB\n",
            out, in.arch, in.n_layer, in.n_embd, (double)in.n_params / 1e6, (double)in.file_size / 1e6);
    learn_model_close(m);
    return 0;
}
