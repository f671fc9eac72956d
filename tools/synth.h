/* learn-cli synth: random-weight LLMs of real shapes. */
#ifndef LEARN_SYNTH_H
#define LEARN_SYNTH_H

#include <stdint.h>

#include "convert.h"
#include "learn.h"

typedef struct synth_shape {
    const char *name, *arch;
    uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_ctx;
    float rope_theta;
    int llama3_rope; /* add Llama 3 RoPE frequency factors */
} synth_shape;

/* A named shape (qwen2.5-0.5b, qwen3-0.6b, tinyllama-1.1b, llama3.2-1b), or NULL. */
const synth_shape *synth_find_shape(const char *name);

/* Adds a random-weight LLM of shape s to a writer (matrices in `type`, norms F32). */
int synth_llm(learn_writer *w, convert_arena *arena, const synth_shape *s, learn_type type,
              uint64_t seed, char *err, size_t errn);

/* Attaches a byte-level BPE tokenizer (at most s->n_vocab tokens) learned from the texts of
   items_path (JSONL rendered with tmpl), or from a built-in English sample when NULL. */
int synth_tokenizer(learn_writer *w, const synth_shape *s, const char *items_path, const char *tmpl,
                    char *err, size_t errn);

#endif
