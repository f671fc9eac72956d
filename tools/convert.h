/* Converters: models from other formats into .learn, through a learn_writer. */
#ifndef LEARN_CONVERT_H
#define LEARN_CONVERT_H

#include <stddef.h>

#include "learn.h"

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

/* Adds a weight matrix or vector from f32 data, converted to `type` when it is a matrix whose
   rows are a whole number of blocks (otherwise F16 for quantized types, with a warning on
   stderr naming the tensor); vectors stay F32. */
int convert_add_f32(learn_writer *w, convert_arena *arena, const char *name, const float *data,
                    uint32_t n_dims, const uint64_t *shape, learn_type type, char *err,
                    size_t errn);

/* llama2.c checkpoint (the legacy format of run.c: 7 int32 config, then f32 weights) into the
   LLM part of a writer. Returns 0 or writes a one-line reason to err. */
int convert_llama2c(const char *path, learn_writer *w, convert_arena *arena,
                    const convert_opts *opts, char *err, size_t errn);

/* A GGUF model (llama, qwen2, qwen3, baichuan) with its tokenizer. Tensors of a type learn
   stores are borrowed from the mapped file: *keep_open must be closed (gguf_close) after the
   writer is saved. */
struct gguf_file;
int convert_gguf(const char *path, learn_writer *w, convert_arena *arena, const convert_opts *opts,
                 struct gguf_file **keep_open, char *err, size_t errn);
/* Dequantizes n elements of a ggml type (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
   Q2_K..Q6_K, IQ4_NL); returns non-zero for other types. */
int convert_ggml_dequantize(uint32_t ggml_type, const void *src, float *dst, size_t n);

/* A Hugging Face folder: config.json, *.safetensors, tokenizer.json. */
int convert_hf(const char *dir, learn_writer *w, convert_arena *arena, const convert_opts *opts,
               char *err, size_t errn);

/* Encoder defaults (template, pooling, max tokens) unless already set. */
int convert_set_encoder(learn_writer *w, const char *template_str, const char *pooling,
                        long max_tokens, char *err, size_t errn);

int cmd_convert(int argc, char **argv);

#endif
