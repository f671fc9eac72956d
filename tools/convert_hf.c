/* Hugging Face model folders into .learn: config.json, *.safetensors (sharded too) and
   tokenizer.json. Architectures: LlamaForCausalLM / MistralForCausalLM (llama),
   Qwen2ForCausalLM, Qwen3ForCausalLM, and Baichuan2-7B (its fused W_pack split into Q, K, V).
   Hugging Face rotates (i, i + d/2) pairs ("neox"), so Q and K are kept as they are. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "json.h"
#include "safetensors.h"
#include "tokimport.h"

typedef struct convert_hf_files {
    safetensors_file **shards;
    size_t n;
} convert_hf_files;

static void convert_hf_close(convert_hf_files *f) {
    if (!f) return;
    for (size_t i = 0; i < f->n; i++) safetensors_close(f->shards[i]);
    free(f->shards);
    free(f);
}

static const safetensors_tensor *hf_find(const convert_hf_files *f, const char *name) {
    for (size_t i = 0; i < f->n; i++) {
        const safetensors_tensor *t = safetensors_find(f->shards[i], name);
        if (t) return t;
    }
    return NULL;
}

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Opens every *.safetensors file of dir, in name order. */
static int hf_open_shards(const char *dir, convert_hf_files *f, char *err, size_t errn) {
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errn, "%s: cannot open the directory", dir);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 12 || strcmp(e->d_name + l - 12, ".safetensors")) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            char **p = (char **)realloc(names, cap * sizeof *p);
            if (!p) break;
            names = p;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    int rc = 0;
    if (!n) {
        snprintf(err, errn, "%s: no *.safetensors files", dir);
        rc = 1;
    }
    if (!rc) qsort(names, n, sizeof *names, name_cmp);
    f->shards = (safetensors_file **)calloc(n ? n : 1, sizeof *f->shards);
    for (size_t i = 0; i < n && !rc; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!f->shards || !names[i] || safetensors_open(path, &f->shards[f->n], err, errn) != LEARN_OK) rc = 1;
        else f->n++;
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

static double cfg_num(const json_value *cfg, const char *key, double dflt) {
    const json_value *v = json_get(cfg, key);
    return v && v->type == JSON_NUMBER ? v->u.num.d : dflt;
}

static int cfg_u32(const json_value *cfg, const char *key, int required, uint32_t *out, char *err,
                   size_t errn) {
    const json_value *v = json_get(cfg, key);
    if (!v || v->type == JSON_NULL) {
        if (!required) return 0;
        snprintf(err, errn, "config.json: '%s' is missing", key);
        return 1;
    }
    if (v->type != JSON_NUMBER || !v->is_int || v->u.num.i <= 0 || v->u.num.i > (int64_t)UINT32_MAX) {
        snprintf(err, errn, "config.json: '%s' must be a positive integer", key);
        return 1;
    }
    *out = (uint32_t)v->u.num.i;
    return 0;
}

/* Adds one tensor (converted to f32 first) under our name; rows [r0, r0 + nr) of a matrix
   when split (W_pack), all of it otherwise. */
static int hf_add(learn_writer *w, convert_arena *arena, const safetensors_tensor *t,
                  const char *name, uint64_t r0, uint64_t nr, const convert_opts *opts, char *err,
                  size_t errn) {
    float *x = (float *)malloc((size_t)t->n_elements * sizeof *x);
    if (!x) {
        snprintf(err, errn, "%s: out of memory", t->name);
        return 1;
    }
    if (safetensors_read_f32(t, x, err, errn) != LEARN_OK) {
        free(x);
        return 1;
    }
    int rc;
    if (t->n_dims == 2) {
        uint64_t shape[2] = {nr ? nr : t->shape[0], t->shape[1]};
        learn_type type = opts->keep ? (t->dtype == SAFETENSORS_BF16 ? LEARN_TYPE_BF16
                                        : t->dtype == SAFETENSORS_F16 ? LEARN_TYPE_F16 : LEARN_TYPE_F32)
                                     : opts->type;
        rc = convert_add_f32(w, arena, name, x + r0 * t->shape[1], 2, shape, type, err, errn);
    } else {
        uint64_t shape[1] = {t->n_elements};
        rc = convert_add_f32(w, arena, name, x, 1, shape, LEARN_TYPE_F32, err, errn);
    }
    free(x);
    return rc;
}

int convert_hf(const char *dir, learn_writer *w, convert_arena *arena, const convert_opts *opts,
               char *err, size_t errn) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_doc *doc;
    if (json_parse_file(path, NULL, &doc, err, errn) != LEARN_OK) return 1;
    const json_value *cfg = json_root(doc);
    const json_value *archs = json_get(cfg, "architectures"), *mt = json_get(cfg, "model_type");
    const char *a = archs && archs->type == JSON_ARRAY && archs->n && archs->u.items[0].type == JSON_STRING
                        ? archs->u.items[0].u.str
                    : mt && mt->type == JSON_STRING ? mt->u.str : "";
    const char *arch = NULL;
    int baichuan = 0;
    if (strstr(a, "Llama") || strstr(a, "Mistral") || !strcmp(a, "llama") || !strcmp(a, "mistral")) arch = "llama";
    else if (strstr(a, "Qwen2") || !strcmp(a, "qwen2")) arch = "qwen2";
    else if (strstr(a, "Qwen3") || !strcmp(a, "qwen3")) arch = "qwen3";
    else if (strstr(a, "Baichuan") || !strcmp(a, "baichuan")) arch = "llama", baichuan = 1;
    int rc = 1;
    convert_hf_files *f = NULL;
    if (!arch) {
        snprintf(err, errn, "%s: architecture '%s' is not supported (Llama, Mistral, Qwen2, Qwen3, Baichuan2-7B)", path, a);
        goto out;
    }
    uint32_t embd = 0, layers = 0, heads = 0, kv = 0, ff = 0, vocab = 0, ctx = 2048, head_dim = 0;
    if (cfg_u32(cfg, "hidden_size", 1, &embd, err, errn) ||
        cfg_u32(cfg, "num_hidden_layers", 1, &layers, err, errn) ||
        cfg_u32(cfg, "num_attention_heads", 1, &heads, err, errn) ||
        cfg_u32(cfg, "intermediate_size", 1, &ff, err, errn) ||
        cfg_u32(cfg, "vocab_size", 1, &vocab, err, errn) ||
        cfg_u32(cfg, "num_key_value_heads", 0, &kv, err, errn) ||
        cfg_u32(cfg, "max_position_embeddings", 0, &ctx, err, errn) ||
        cfg_u32(cfg, "head_dim", 0, &head_dim, err, errn))
        goto out;
    if (baichuan && layers == 40) {
        snprintf(err, errn, "%s: Baichuan 13B uses ALiBi attention, which is not supported (7B is)", path);
        goto out;
    }
    if (!kv) kv = heads;
    uint32_t hd = head_dim ? head_dim : (heads ? embd / heads : 0);
    double theta = cfg_num(cfg, "rope_theta", 10000.0);
    const convert_llm llm = {arch, NULL, 0, vocab, embd, layers, heads, kv, ff, ctx, head_dim, (float)theta,
                             (float)cfg_num(cfg, "rms_norm_eps", 1e-6), "neox", 0};
    if (convert_set_llm(w, &llm, err, errn)) goto out;
    const json_value *rs = json_get(cfg, "rope_scaling");
    if (rs && rs->type == JSON_OBJECT) {
        const json_value *rt = json_get(rs, "rope_type");
        if (!rt) rt = json_get(rs, "type");
        const char *kind = rt && rt->type == JSON_STRING ? rt->u.str : "";
        if (strcmp(kind, "llama3") == 0) {
            /* Llama 3's frequency factors, as its reference conversion computes them. */
            double factor = cfg_num(rs, "factor", 8.0), lo = cfg_num(rs, "low_freq_factor", 1.0),
                   hi = cfg_num(rs, "high_freq_factor", 4.0),
                   old = cfg_num(rs, "original_max_position_embeddings", 8192.0);
            float ff_[1024];
            if (hd / 2 > 1024 || lo == hi) {
                snprintf(err, errn, "%s: rope_scaling parameters are not usable", path);
                goto out;
            }
            for (uint32_t i = 0; i < hd / 2; i++) {
                double freq = 1.0 / pow(theta, (double)(2 * i) / hd), wl = 2 * 3.14159265358979323846 / freq;
                if (wl < old / hi) ff_[i] = 1.0f;
                else if (wl > old / lo) ff_[i] = (float)factor;
                else {
                    double smooth = (old / wl - lo) / (hi - lo);
                    ff_[i] = (float)(1.0 / ((1 - smooth) / factor + smooth));
                }
            }
            uint64_t shape[1] = {hd / 2};
            if (convert_add_f32(w, arena, "rope_freqs.weight", ff_, 1, shape, LEARN_TYPE_F32, err, errn)) goto out;
        } else if (*kind && strcmp(kind, "default")) {
            snprintf(err, errn, "%s: rope_scaling type '%s' is not supported", path, kind);
            goto out;
        }
    }
    f = (convert_hf_files *)calloc(1, sizeof *f);
    if (!f || hf_open_shards(dir, f, err, errn)) goto out;
    static const struct {
        const char *hf, *ours;
        int required;
    } per_layer[] = {
        {"input_layernorm.weight", "attn_norm.weight", 1},
        {"self_attn.q_proj.weight", "attn_q.weight", 1},
        {"self_attn.k_proj.weight", "attn_k.weight", 1},
        {"self_attn.v_proj.weight", "attn_v.weight", 1},
        {"self_attn.q_proj.bias", "attn_q.bias", 0},
        {"self_attn.k_proj.bias", "attn_k.bias", 0},
        {"self_attn.v_proj.bias", "attn_v.bias", 0},
        {"self_attn.q_norm.weight", "attn_q_norm.weight", 0},
        {"self_attn.k_norm.weight", "attn_k_norm.weight", 0},
        {"self_attn.o_proj.weight", "attn_output.weight", 1},
        {"post_attention_layernorm.weight", "ffn_norm.weight", 1},
        {"mlp.gate_proj.weight", "ffn_gate.weight", 1},
        {"mlp.up_proj.weight", "ffn_up.weight", 1},
        {"mlp.down_proj.weight", "ffn_down.weight", 1},
    };
    const safetensors_tensor *t;
    if (!(t = hf_find(f, "model.embed_tokens.weight"))) {
        snprintf(err, errn, "%s: tensor 'model.embed_tokens.weight' is missing", dir);
        goto out;
    }
    if (hf_add(w, arena, t, "token_embd.weight", 0, 0, opts, err, errn)) goto out;
    if (!(t = hf_find(f, "model.norm.weight"))) {
        snprintf(err, errn, "%s: tensor 'model.norm.weight' is missing", dir);
        goto out;
    }
    if (hf_add(w, arena, t, "output_norm.weight", 0, 0, opts, err, errn)) goto out;
    for (uint32_t l = 0; l < layers; l++) {
        char hn[256], on[64];
        for (size_t i = 0; i < sizeof per_layer / sizeof per_layer[0]; i++) {
            snprintf(hn, sizeof hn, "model.layers.%u.%s", l, per_layer[i].hf);
            snprintf(on, sizeof on, "blk.%u.%s", l, per_layer[i].ours);
            t = hf_find(f, hn);
            if (!t && baichuan && i >= 1 && i <= 3) {
                /* W_pack [3 * n_embd, n_embd] holds Q, K and V one after the other. */
                snprintf(hn, sizeof hn, "model.layers.%u.self_attn.W_pack.weight", l);
                t = hf_find(f, hn);
                if (t && (t->n_dims != 2 || t->shape[0] != 3ull * embd)) {
                    snprintf(err, errn, "%s: shape is not [3 * %u, %u]", hn, embd, embd);
                    goto out;
                }
                if (t && hf_add(w, arena, t, on, (uint64_t)(i - 1) * embd, embd, opts, err, errn)) goto out;
                if (t) continue;
            }
            if (!t) {
                if (!per_layer[i].required) continue;
                snprintf(err, errn, "%s: tensor '%s' is missing", dir, hn);
                goto out;
            }
            if (hf_add(w, arena, t, on, 0, 0, opts, err, errn)) goto out;
        }
    }
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    FILE *tj = fopen(path, "rb");
    if (tj) {
        fclose(tj);
        tokimport_opts to = tokimport_default_opts();
        if (tokimport_hf_json(w, path, &to, err, errn) != LEARN_OK) goto out;
    } else {
        fprintf(stderr, "learn-cli convert: warning: %s has no tokenizer.json: the model can only "
                        "encode token ids\n", dir);
    }
    rc = 0;
out:
    json_free(doc);
    convert_hf_close(f); /* every tensor was converted into the arena */
    return rc;
}
