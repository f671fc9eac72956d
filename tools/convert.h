/* convert.h - models from other formats into .learn, through a learn_writer.

   learn-cli convert (cmd_convert.c) calls the converters: convert_gguf.c (llama.cpp's GGUF),
   convert_hf.c (Hugging Face folders) and convert_llama2c.c (llama2.c checkpoints). They, and
   synth.c, build on the common part (convert.c): the arena that keeps tensor data alive until
   the writer is saved, weights added from floats, and the llm.* and encoder.* metadata the
   runtime reads (learn.h, "The LLM"). Dependencies run that way only. */
#ifndef LEARN_CONVERT_H
#define LEARN_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "learn.h"

/* ---- The common part (convert.c) ---- */

/* Conversion options shared by the sources. */
typedef struct convert_opts {
    learn_type type; /* weight matrices: F32, F16, Q8_0, Q4_0 */
    int keep;        /* keep each tensor's own type when it is supported (--type keep) */
} convert_opts;

/* Memory that must outlive the writer the converter filled (tensor data is borrowed). */
typedef struct convert_arena {
    void **bufs;
    size_t n, cap;
} convert_arena;

void convert_arena_free(convert_arena *a);
/* Hands a malloc'd buffer to the arena (freed with it). Returns 0, or 1 when out of memory
   (the buffer is then still the caller's). */
int convert_arena_keep(convert_arena *a, void *buf);
/* n bytes of memory owned by the arena; NULL when out of memory. */
void *convert_arena_alloc(convert_arena *a, size_t n);

/* Adds a weight matrix or vector from f32 data, converted to `type` when it is a matrix whose
   rows are a whole number of blocks (otherwise F16 for quantized types, with a warning on
   stderr naming the tensor); vectors stay F32. Returns 0, or non-zero with the reason in err. */
int convert_add_f32(learn_writer *w, convert_arena *arena, const char *name, const float *data,
                    uint32_t n_dims, const uint64_t *shape, learn_type type, char *err,
                    size_t errn);

/* The LLM's metadata: general.architecture, general.name and llm.* (learn.h, "The LLM"). What
   is marked optional is not written when it has that value, so that the runtime's default
   applies. */
typedef struct convert_llm {
    const char *arch;             /* "llama", "qwen2" or "qwen3" */
    const char *name;             /* general.name, name_len bytes; optional: NULL */
    size_t name_len;
    uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx;
    uint32_t head_dim;            /* optional: 0 (n_embd / n_head) */
    float rope_theta, rms_eps;    /* optional: NAN */
    const char *rope_type;        /* "norm" or "neox"; optional: NULL */
    int head_dim_early;           /* llm.head_dim right after llm.head_count_kv, not after
                                     llm.context_length (where synth's models have it) */
} convert_llm;

/* Sets c's entries on w, in the order of convert_llm's fields (llm.head_dim after
   llm.context_length unless head_dim_early). Returns 0, or non-zero with the reason in err. */
int convert_set_llm(learn_writer *w, const convert_llm *c, char *err, size_t errn);

/* Sets the encoder settings given (template, pooling, max tokens; NULL and 0 set nothing),
   replacing what the source set. */
int convert_set_encoder(learn_writer *w, const char *template_str, const char *pooling,
                        long max_tokens, char *err, size_t errn);

/* ---- The converters ---- */

/* llama2.c checkpoint (the legacy format of run.c: 7 int32 config, then f32 weights) into the
   LLM part of a writer (convert_llama2c.c). Returns 0 or writes a one-line reason to err. */
int convert_llama2c(const char *path, learn_writer *w, convert_arena *arena,
                    const convert_opts *opts, char *err, size_t errn);

/* A GGUF model (llama, qwen2, qwen3, baichuan) with its tokenizer (convert_gguf.c). Tensors of
   a type learn stores are borrowed from the mapped file: *keep_open must be closed
   (gguf_close) after the writer is saved. */
struct gguf_file;
int convert_gguf(const char *path, learn_writer *w, convert_arena *arena, const convert_opts *opts,
                 struct gguf_file **keep_open, char *err, size_t errn);
/* Dequantizes n elements of a ggml type (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
   Q2_K..Q6_K, IQ4_NL); returns non-zero for other types. */
int convert_ggml_dequantize(uint32_t ggml_type, const void *src, float *dst, size_t n);

/* A Hugging Face folder: config.json, *.safetensors, tokenizer.json (convert_hf.c). */
int convert_hf(const char *dir, learn_writer *w, convert_arena *arena, const convert_opts *opts,
               char *err, size_t errn);

#endif
