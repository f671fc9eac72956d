/* convert.c - what the converters share (see convert.h): the arena, weights from floats, the
   LLM's and the encoder's metadata. */
#include "convert.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

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

void *convert_arena_alloc(convert_arena *a, size_t n) {
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
    void *buf = convert_arena_alloc(arena, bytes);
    if (!buf) return util_fail(err, errn, LEARN_ERR_NOMEM, "%s: out of memory", name);
    learn_status st = learn_quantize(type, data, buf, (size_t)n);
    if (st == LEARN_OK) st = learn_writer_add_tensor(w, name, type, n_dims, shape, buf, 0);
    if (st) return util_fail(err, errn, st, "%s: %s", name, learn_writer_errmsg(w));
    return 0;
}

int convert_set_llm(learn_writer *w, const convert_llm *c, char *err, size_t errn) {
    learn_status st = learn_writer_set_str(w, "general.architecture", c->arch, strlen(c->arch));
    if (!st && c->name) st = learn_writer_set_str(w, "general.name", c->name, c->name_len);
    const struct {
        const char *key;
        uint32_t v; /* 0: not written (llm.head_dim only) */
    } dims[] = {
        {"llm.vocab_size", c->n_vocab},
        {"llm.embedding_length", c->n_embd},
        {"llm.block_count", c->n_layer},
        {"llm.head_count", c->n_head},
        {"llm.head_count_kv", c->n_head_kv},
        {"llm.head_dim", c->head_dim_early ? c->head_dim : 0},
        {"llm.feed_forward_length", c->n_ff},
        {"llm.context_length", c->n_ctx},
        {"llm.head_dim", c->head_dim_early ? 0 : c->head_dim},
    };
    for (size_t i = 0; i < sizeof dims / sizeof dims[0] && !st; i++)
        if (dims[i].v || strcmp(dims[i].key, "llm.head_dim") != 0)
            st = learn_writer_set_u32(w, dims[i].key, dims[i].v);
    if (!st && !isnan(c->rope_theta)) st = learn_writer_set_f32(w, "llm.rope_freq_base", c->rope_theta);
    if (!st && !isnan(c->rms_eps)) st = learn_writer_set_f32(w, "llm.rms_epsilon", c->rms_eps);
    if (!st && c->rope_type) st = learn_writer_set_str(w, "llm.rope_type", c->rope_type, strlen(c->rope_type));
    if (st) return util_fail(err, errn, st, "%s", learn_writer_errmsg(w));
    return 0;
}

int convert_set_encoder(learn_writer *w, const char *template_str, const char *pooling,
                        long max_tokens, char *err, size_t errn) {
    learn_status st = LEARN_OK;
    if (template_str) st = learn_writer_set_str(w, "encoder.template", template_str, strlen(template_str));
    if (!st && pooling) st = learn_writer_set_str(w, "encoder.pooling", pooling, strlen(pooling));
    if (!st && max_tokens > 0) st = learn_writer_set_u32(w, "encoder.max_tokens", (uint32_t)max_tokens);
    if (st) return util_fail(err, errn, st, "%s", learn_writer_errmsg(w));
    return 0;
}
