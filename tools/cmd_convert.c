/* cmd_convert.c - learn-cli convert: a model from GGUF, a Hugging Face folder or a llama2.c
   checkpoint (convert_gguf.c, convert_hf.c, convert_llama2c.c), or an existing .learn model,
   with LEARN tower checkpoints added (towers_import.c), written atomically under OUT's lock. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "convert.h"
#include "gguf.h"
#include "safetensors.h"
#include "tokimport.h"
#include "towers_import.h"

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
    if (!rc && name && learn_writer_set_str(w, "general.name", name, strlen(name)) != LEARN_OK) {
        snprintf(err, sizeof err, "%s", learn_writer_errmsg(w));
        rc = 1;
    }
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
