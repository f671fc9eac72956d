/* cmd_synth.c - learn-cli synth: a random-weight LLM of a real family's shape (synth.c), with a
   byte-level BPE tokenizer, written atomically. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "convert.h"
#include "learn.h"
#include "synth.h"

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
