/* towers_import.h - tower tensors into .learn files (tools only): writing helpers shared by the
   trainer and the importer, and the importer of the official LEARN code's checkpoints.

   The tower schema (metadata tower.*, tensors tower.*) is specified at the top of the Towers
   section of learn.c. */
#ifndef LEARN_TOWERS_IMPORT_H
#define LEARN_TOWERS_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "learn.h"
#include "safetensors.h"

/* ---- Writing ---- */

/* The tower hyper-parameters, as written to the tower.* metadata. */
typedef struct towers_shape {
    uint32_t d_in, d_model, n_layer, n_head, d_ff, d_out;
    float eps;                /* LayerNorm epsilon */
    const char *act;          /* "gelu" | "gelu_tanh" | "relu" */
    int pre_norm;             /* 0: post-LN (BERT), 1: pre-LN */
    uint32_t max_positions;   /* learned positions (0: none) */
    uint32_t max_history;     /* tower.max_history (0: not written, the runtime's default) */
} towers_shape;

/* Sets every tower.* metadata key of s. */
learn_status towers_write_config(learn_writer *w, const towers_shape *s);

/* Adds a matrix [rows, cols] given as floats, stored as `type`: F32, F16, BF16, Q8_0 or Q4_0
   (ggml's reference quantizers; the quantized ones need cols % 32 == 0, otherwise
   LEARN_ERR_ARG naming the tensor). The data is copied. */
learn_status towers_add_matrix(learn_writer *w, const char *name, learn_type type, uint64_t rows,
                               uint64_t cols, const float *x);
/* Adds an F32 vector of n values (copied). */
learn_status towers_add_vector(learn_writer *w, const char *name, uint64_t n, const float *x);

/* ---- Importing the official LEARN PreferenceAlignmentModule ----
   Keys (after a common prefix such as "module.", found from the key ending in
   "adaptor.weight"):
     adaptor.{weight,bias}                                         [hidden, d_in], [hidden]
     summary_encoder.layer.N.attention.self.{query,key,value}.{weight,bias}
     summary_encoder.layer.N.attention.output.dense.{weight,bias}
     summary_encoder.layer.N.attention.output.LayerNorm.{weight,bias}
     summary_encoder.layer.N.intermediate.dense.{weight,bias}      [d_ff, hidden], [d_ff]
     summary_encoder.layer.N.output.dense.{weight,bias}            [hidden, d_ff], [hidden]
     summary_encoder.layer.N.output.LayerNorm.{weight,bias}
     mlp.0.{weight,bias}                                           [d_out, hidden], [d_out]
   d_in, hidden (d_model), d_ff, d_out and the number of layers come from the shapes; what
   shapes cannot tell (heads, LayerNorm epsilon, activation) comes from the options, which
   default to bert-base (12 heads, 1e-12, erf GELU). Tensors of dtype F32, F16 or BF16. Keys
   under the prefix that the module does not have are ignored and counted; a layer index past a
   gap in the numbering is an error. */

typedef struct towers_import_options {
    uint32_t n_head;         /* default 12 */
    float eps;               /* default 1e-12 */
    const char *act;         /* default "gelu" (erf); "gelu_tanh", "relu" */
    learn_type weight_type;  /* matrices: F32 (default), F16, BF16, Q8_0, Q4_0; vectors F32 */
    uint32_t max_history;    /* written as tower.max_history when > 0 (default 0: all) */
    const learn_model *llm;  /* may be NULL; when it holds an LLM, the checkpoint's d_in must
                                equal its n_embd (LEARN_ERR_MISMATCH naming both) */
} towers_import_options;

towers_import_options towers_import_default_options(void);

typedef struct towers_import_result {
    towers_shape shape;      /* what was written */
    char prefix[64];         /* the prefix stripped from the keys ("" or "module.") */
    uint32_t n_ignored;      /* tensors under the prefix that are not part of the module */
    char first_ignored[128]; /* the first of them (by name), "" when none */
} towers_import_result;

/* Adds the towers of an open safetensors file to w (metadata and tensors, tensors copied).
   opt may be NULL for the defaults; res may be NULL. On error nothing useful is left in w
   (free it) and err names the key, the shape or the numbers that disagree. */
learn_status towers_import(const safetensors_file *f, const towers_import_options *opt,
                           learn_writer *w, towers_import_result *res, char *err, size_t errn);

#endif
