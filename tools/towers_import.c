/* towers_import.c - see towers_import.h. */
#include "towers_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ==== Writing ==== */

learn_status towers_write_config(learn_writer *w, const towers_shape *s) {
    if (!w || !s) return LEARN_ERR_ARG;
    const char *act = s->act ? s->act : "gelu", *norm = s->pre_norm ? "pre" : "post";
    learn_status st;
    if ((st = learn_writer_set_u32(w, "tower.d_in", s->d_in)) ||
        (st = learn_writer_set_u32(w, "tower.d_model", s->d_model)) ||
        (st = learn_writer_set_u32(w, "tower.n_layer", s->n_layer)) ||
        (st = learn_writer_set_u32(w, "tower.n_head", s->n_head)) ||
        (st = learn_writer_set_u32(w, "tower.d_ff", s->d_ff)) ||
        (st = learn_writer_set_u32(w, "tower.d_out", s->d_out)) ||
        (st = learn_writer_set_f32(w, "tower.eps", s->eps)) ||
        (st = learn_writer_set_str(w, "tower.act", act, strlen(act))) ||
        (st = learn_writer_set_str(w, "tower.norm", norm, strlen(norm))))
        return st;
    if (s->max_positions &&
        (st = learn_writer_set_u32(w, "tower.max_positions", s->max_positions)))
        return st;
    if (s->max_history && (st = learn_writer_set_u32(w, "tower.max_history", s->max_history)))
        return st;
    return LEARN_OK;
}

learn_status towers_add_matrix(learn_writer *w, const char *name, learn_type type, uint64_t rows,
                               uint64_t cols, const float *x) {
    if (!w || !name || !x || !rows || !cols || type > LEARN_TYPE_Q4_0) return LEARN_ERR_ARG;
    uint64_t row_bytes = learn_type_row_bytes(type, cols), shape[2] = {rows, cols};
    if (!row_bytes) return LEARN_ERR_ARG; /* a quantized type and cols % 32 != 0 */
    if (type == LEARN_TYPE_F32)
        return learn_writer_add_tensor(w, name, type, 2, shape, x, LEARN_WRITER_COPY);
    if (rows > SIZE_MAX / row_bytes || cols > SIZE_MAX) return LEARN_ERR_NOMEM;
    uint8_t *buf = (uint8_t *)malloc((size_t)(rows * row_bytes));
    if (!buf) return LEARN_ERR_NOMEM;
    learn_status st = LEARN_OK;
    for (uint64_t r = 0; r < rows && !st; r++)
        st = learn_quantize(type, x + r * cols, buf + r * row_bytes, (size_t)cols);
    if (!st) st = learn_writer_add_tensor(w, name, type, 2, shape, buf, LEARN_WRITER_COPY);
    free(buf);
    return st;
}

learn_status towers_add_vector(learn_writer *w, const char *name, uint64_t n, const float *x) {
    if (!w || !name || !x || !n) return LEARN_ERR_ARG;
    return learn_writer_add_tensor(w, name, LEARN_TYPE_F32, 1, &n, x, LEARN_WRITER_COPY);
}

/* ==== Importing ==== */

towers_import_options towers_import_default_options(void) {
    towers_import_options o;
    memset(&o, 0, sizeof o);
    o.n_head = 12;
    o.eps = 1e-12f;
    o.act = "gelu";
    o.weight_type = LEARN_TYPE_F32;
    return o;
}

/* (learn suffix, official suffix) per layer, in the order the tensors are written. */
static const char *const ti_layer_map[][2] = {
    {"attn_q", "attention.self.query"},
    {"attn_k", "attention.self.key"},
    {"attn_v", "attention.self.value"},
    {"attn_output", "attention.output.dense"},
    {"attn_norm", "attention.output.LayerNorm"},
    {"ffn_up", "intermediate.dense"},
    {"ffn_down", "output.dense"},
    {"ffn_norm", "output.LayerNorm"},
};
#define TI_N_LAYER_MAP (sizeof ti_layer_map / sizeof ti_layer_map[0])

typedef struct ti_job {
    char learn_name[96];
    const safetensors_tensor *t;
    int matrix;
} ti_job;

/* Finds prefix+key and checks its shape ([d0] or [d0, d1]). */
static learn_status ti_need(const safetensors_file *f, const char *prefix, const char *key,
                            uint64_t d0, uint64_t d1, int matrix, const safetensors_tensor **out,
                            char *err, size_t errn) {
    char full[256];
    snprintf(full, sizeof full, "%s%s", prefix, key);
    const safetensors_tensor *t = safetensors_find(f, full);
    *out = t;
    if (!t) return util_fail(err, errn, LEARN_ERR_FORMAT, "tensor '%s' is missing", full);
    if (t->dtype != SAFETENSORS_F32 && t->dtype != SAFETENSORS_F16 && t->dtype != SAFETENSORS_BF16)
        return util_fail(err, errn, LEARN_ERR_UNSUPPORTED,
                         "tensor '%s' has dtype %s (F32, F16 or BF16 are read)", full,
                         safetensors_dtype_name(t->dtype));
    int ok = matrix ? (t->n_dims == 2 && t->shape[0] == d0 && t->shape[1] == d1)
                    : (t->n_dims == 1 && t->shape[0] == d0);
    if (!ok) {
        char have[96] = "[", want[64];
        for (uint32_t d = 0; d < t->n_dims; d++)
            snprintf(have + strlen(have), sizeof have - strlen(have), "%s%llu", d ? ", " : "",
                     (unsigned long long)t->shape[d]);
        snprintf(have + strlen(have), sizeof have - strlen(have), "]");
        if (matrix) snprintf(want, sizeof want, "[%llu, %llu]", (unsigned long long)d0,
                             (unsigned long long)d1);
        else snprintf(want, sizeof want, "[%llu]", (unsigned long long)d0);
        return util_fail(err, errn, LEARN_ERR_FORMAT, "tensor '%s' has shape %s; expected %s", full,
                         have, want);
    }
    return LEARN_OK;
}

learn_status towers_import(const safetensors_file *f, const towers_import_options *opt,
                           learn_writer *w, towers_import_result *res, char *err, size_t errn) {
    if (!f || !w) return util_fail(err, errn, LEARN_ERR_ARG, "file and writer must not be NULL");
    towers_import_options o = opt ? *opt : towers_import_default_options();
    const char *act = o.act ? o.act : "gelu";
    if (strcmp(act, "gelu") && strcmp(act, "gelu_tanh") && strcmp(act, "relu"))
        return util_fail(err, errn, LEARN_ERR_ARG,
                         "activation '%.40s' is not one of gelu, gelu_tanh, relu", act);
    if (!(o.eps > 0.0f && o.eps < 1.0f))
        return util_fail(err, errn, LEARN_ERR_ARG, "eps %g is outside (0, 1)", (double)o.eps);
    /* The prefix: the one key ending in "adaptor.weight" at a key boundary. */
    const char *prefix_key = NULL;
    size_t n = safetensors_count(f), plen = 0;
    for (size_t i = 0; i < n; i++) {
        const char *nm = safetensors_get(f, i)->name;
        size_t l = strlen(nm);
        if (l < 14 || strcmp(nm + l - 14, "adaptor.weight") != 0) continue;
        if (l > 14 && nm[l - 15] != '.') continue;
        if (prefix_key)
            return util_fail(err, errn, LEARN_ERR_FORMAT,
                             "two adaptors ('%.80s' and '%.80s'): which module to import?",
                             prefix_key, nm);
        prefix_key = nm;
        plen = l - 14;
    }
    if (!prefix_key)
        return util_fail(err, errn, LEARN_ERR_FORMAT,
                         "no tensor 'adaptor.weight' (with or without a prefix such as 'module.'): "
                         "not a LEARN PreferenceAlignmentModule state dict");
    char prefix[64];
    if (plen >= sizeof prefix)
        return util_fail(err, errn, LEARN_ERR_FORMAT, "key prefix of %zu bytes is too long", plen);
    memcpy(prefix, prefix_key, plen);
    prefix[plen] = 0;
    const safetensors_tensor *aw = safetensors_find(f, prefix_key);
    if (aw->n_dims != 2 || !aw->shape[0] || !aw->shape[1] || aw->shape[0] > 65536 ||
        aw->shape[1] > 65536)
        return util_fail(err, errn, LEARN_ERR_FORMAT,
                         "tensor '%s' must be a matrix [hidden, d_in] of at most 65536 x 65536",
                         prefix_key);
    towers_shape s;
    memset(&s, 0, sizeof s);
    s.d_model = (uint32_t)aw->shape[0];
    s.d_in = (uint32_t)aw->shape[1];
    s.n_head = o.n_head;
    s.eps = o.eps;
    s.act = act;
    s.max_history = o.max_history;
    if (o.llm) {
        learn_model_info info;
        if (learn_model_get_info(o.llm, &info) == LEARN_OK && info.arch[0] &&
            info.n_embd != s.d_in)
            return util_fail(err, errn, LEARN_ERR_MISMATCH,
                             "the checkpoint's content dimension d_in = %u (tensor '%s') differs "
                             "from the LLM's n_embd = %u",
                             s.d_in, prefix_key, info.n_embd);
    }
    if (!s.n_head || s.d_model % s.n_head)
        return util_fail(err, errn, LEARN_ERR_ARG,
                         "%u heads do not divide the hidden size %u (tensor '%s'): give the "
                         "checkpoint's number of heads",
                         s.n_head, s.d_model, prefix_key);
    char key[256];
    while (s.n_layer < LEARN_MAX_LAYERS) {
        snprintf(key, sizeof key, "%ssummary_encoder.layer.%u.attention.self.query.weight", prefix,
                 s.n_layer);
        if (!safetensors_find(f, key)) break;
        s.n_layer++;
    }
    const safetensors_tensor *t;
    learn_status st;
    snprintf(key, sizeof key, "%smlp.0.weight", prefix);
    const safetensors_tensor *mw = safetensors_find(f, key);
    if (!mw) return util_fail(err, errn, LEARN_ERR_FORMAT, "tensor '%s' is missing", key);
    if (mw->n_dims != 2 || mw->shape[1] != s.d_model || !mw->shape[0] || mw->shape[0] > 65536)
        return util_fail(err, errn, LEARN_ERR_FORMAT,
                         "tensor '%smlp.0.weight' must be a matrix [d_out, %u]", prefix, s.d_model);
    s.d_out = (uint32_t)mw->shape[0];
    if (s.n_layer) {
        snprintf(key, sizeof key, "%ssummary_encoder.layer.0.intermediate.dense.weight", prefix);
        t = safetensors_find(f, key);
        if (!t || t->n_dims != 2 || !t->shape[0] || t->shape[0] > (1u << 20))
            return util_fail(err, errn, LEARN_ERR_FORMAT,
                             "tensor '%s' is missing or not a matrix [d_ff, hidden]", key);
        s.d_ff = (uint32_t)t->shape[0];
    } else {
        s.d_ff = 1; /* no blocks: d_ff is unused but must be valid */
    }
    /* Every tensor to write, validated before anything is written. */
    size_t n_jobs = 4 + (size_t)s.n_layer * TI_N_LAYER_MAP * 2;
    ti_job *jobs = (ti_job *)calloc(n_jobs, sizeof *jobs);
    if (!jobs) return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    size_t j = 0;
    uint64_t D = s.d_model, F = s.d_ff;
    const struct {
        const char *learn, *official;
        uint64_t d0, d1;
        int matrix;
    } top[] = {{"tower.adaptor.weight", "adaptor.weight", D, s.d_in, 1},
               {"tower.adaptor.bias", "adaptor.bias", D, 0, 0},
               {"tower.proj.weight", "mlp.0.weight", s.d_out, D, 1},
               {"tower.proj.bias", "mlp.0.bias", s.d_out, 0, 0}};
    for (size_t i = 0; i < 4; i++, j++) {
        snprintf(jobs[j].learn_name, sizeof jobs[j].learn_name, "%s", top[i].learn);
        jobs[j].matrix = top[i].matrix;
        if ((st = ti_need(f, prefix, top[i].official, top[i].d0, top[i].d1, top[i].matrix,
                          &jobs[j].t, err, errn)))
            goto done;
    }
    for (uint32_t l = 0; l < s.n_layer; l++)
        for (size_t k = 0; k < TI_N_LAYER_MAP; k++) {
            const char *lm = ti_layer_map[k][0];
            int is_norm = strstr(lm, "norm") != NULL;
            uint64_t d0 = strcmp(lm, "ffn_up") == 0 ? F : D;
            uint64_t d1 = strcmp(lm, "ffn_up") == 0 ? D : strcmp(lm, "ffn_down") == 0 ? F : D;
            for (int b = 0; b < 2; b++, j++) {
                const char *wb = b ? "bias" : "weight";
                snprintf(jobs[j].learn_name, sizeof jobs[j].learn_name, "tower.blk.%u.%s.%s", l,
                         lm, wb);
                snprintf(key, sizeof key, "summary_encoder.layer.%u.%s.%s", l,
                         ti_layer_map[k][1], wb);
                jobs[j].matrix = !b && !is_norm;
                if ((st = ti_need(f, prefix, key, d0, d1, jobs[j].matrix, &jobs[j].t, err, errn)))
                    goto done;
            }
        }
    /* Keys under the prefix that are not part of the module; a layer past a gap is an error. */
    towers_import_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.prefix, sizeof r.prefix, "%s", prefix);
    for (size_t i = 0; i < n; i++) {
        const char *nm = safetensors_get(f, i)->name;
        if (strncmp(nm, prefix, plen) != 0) continue;
        int used = 0;
        for (size_t k = 0; k < n_jobs && !used; k++) used = jobs[k].t == safetensors_get(f, i);
        if (used) continue;
        unsigned layer;
        if (sscanf(nm + plen, "summary_encoder.layer.%u.", &layer) == 1 && layer >= s.n_layer) {
            st = util_fail(err, errn, LEARN_ERR_FORMAT,
                           "tensor '%.120s': layer %u, but layer %u's query weight is missing "
                           "(layers must be numbered 0..N-1)",
                           nm, layer, s.n_layer);
            goto done;
        }
        if (!r.n_ignored || strcmp(nm, r.first_ignored) < 0)
            snprintf(r.first_ignored, sizeof r.first_ignored, "%s", nm);
        r.n_ignored++;
    }
    if ((st = towers_write_config(w, &s))) {
        util_fail(err, errn, st, "%s", learn_writer_errmsg(w));
        goto done;
    }
    for (size_t k = 0; k < n_jobs; k++) {
        const safetensors_tensor *x = jobs[k].t;
        float *buf = (float *)malloc((size_t)x->n_elements * sizeof *buf);
        if (!buf) {
            st = util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
            goto done;
        }
        if ((st = safetensors_read_f32(x, buf, err, errn))) {
            free(buf);
            goto done;
        }
        st = jobs[k].matrix
                 ? towers_add_matrix(w, jobs[k].learn_name, o.weight_type, x->shape[0],
                                     x->shape[1], buf)
                 : towers_add_vector(w, jobs[k].learn_name, x->shape[0], buf);
        free(buf);
        if (st) {
            util_fail(err, errn, st, "tensor '%s' as %s: %s", jobs[k].learn_name,
                      learn_type_name(jobs[k].matrix ? o.weight_type : LEARN_TYPE_F32),
                      st == LEARN_ERR_ARG ? "the input dimension must be a multiple of 32 for "
                                          "q8_0/q4_0"
                                        : learn_writer_errmsg(w));
            goto done;
        }
    }
    r.shape = s;
    if (res) *res = r;
done:
    free(jobs);
    return st;
}
