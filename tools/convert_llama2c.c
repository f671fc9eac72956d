/* convert_llama2c.c - llama2.c checkpoints (the legacy format of run.c, version 0: seven int32
   of config, then the f32 weights) into .learn; see convert.h. The tokenizer (tok512.bin and the
   like) is tokimport_llama2c's. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "util.h"

int convert_llama2c(const char *path, learn_writer *w, convert_arena *arena,
                    const convert_opts *opts, char *err, size_t errn) {
    size_t size;
    char *buf;
    if (util_read_file(path, 0, &buf, &size, err, errn) != LEARN_OK) return 1;
    int rc = 1;
    if (size < 28) {
        util_fail(err, errn, LEARN_ERR_FORMAT, "%s: %zu bytes is too short for a llama2.c checkpoint",
                  path, size);
        goto out;
    }
    if (memcmp(buf, "ak42", 4) == 0) {
        util_fail(err, errn, LEARN_ERR_UNSUPPORTED,
                  "%s: llama2.c export format version 1/2 (magic ak42) is not supported; export "
                  "with the legacy format (version 0)",
                  path);
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
            util_fail(err, errn, LEARN_ERR_FORMAT, "%s: config %s = %d is outside 1..%d", path, names[i],
                      vals[i], maxs[i]);
            goto out;
        }
    if (dim % n_heads || n_heads % n_kv) {
        util_fail(err, errn, LEARN_ERR_FORMAT,
                  "%s: n_heads %d must divide dim %d and n_kv_heads %d divide n_heads", path, n_heads,
                  dim, n_kv);
        goto out;
    }
    uint64_t hd = (uint64_t)dim / n_heads, kvd = hd * n_kv, L = (uint64_t)n_layers;
    uint64_t D = (uint64_t)dim, H = (uint64_t)hidden, V = (uint64_t)vocab;
    uint64_t floats = V * D + L * D + L * D * D + 2 * L * D * kvd + L * D * D + L * D +
                      2 * L * H * D + L * D * H + D + (uint64_t)seq_len * hd; /* freq_cis re+im */
    if (!shared) floats += V * D;
    if ((uint64_t)size != 28 + 4 * floats) {
        util_fail(err, errn, LEARN_ERR_FORMAT,
                  "%s: %zu bytes, but its config needs %llu (truncated, or not a legacy llama2.c "
                  "checkpoint)",
                  path, size, (unsigned long long)(28 + 4 * floats));
        goto out;
    }
    /* The floats start at byte 28: copy into aligned memory. */
    float *f = (float *)convert_arena_alloc(arena, (size_t)(4 * floats));
    if (!f) {
        util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(f, buf + 28, (size_t)(4 * floats));
    learn_type t = opts->keep ? LEARN_TYPE_F32 : opts->type;
    /* run.c's model: Llama 2 (RoPE base 10000, RMSNorm epsilon 1e-5, pairs 2i, 2i+1). */
    const convert_llm llm = {"llama", NULL, 0, (uint32_t)V, (uint32_t)D, (uint32_t)L, (uint32_t)n_heads,
                             (uint32_t)n_kv, (uint32_t)H, (uint32_t)seq_len, 0, 10000.0f, 1e-5f, "norm", 0};
    if (convert_set_llm(w, &llm, err, errn)) goto out;
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
