/* gguf.c - hardened GGUF v2/v3 reader. See gguf.h. */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

typedef struct gguf_name_ref {
    const char *name;
    uint64_t index;
} gguf_name_ref;

typedef struct gguf_kv_entry {
    const char *key; /* in key_pool */
    gguf_value value;
} gguf_kv_entry;

struct gguf_file {
    const uint8_t *base;
    size_t size;
    void *map;
    size_t map_size;
    uint32_t version;
    uint32_t alignment;
    uint64_t n_kv, n_tensors;
    gguf_kv_entry *kv;
    gguf_name_ref *kv_sorted; /* keys sorted */
    gguf_tensor *tensors;
    gguf_name_ref *tensor_sorted; /* tensor names sorted */
    char *pool;              /* NUL-terminated keys and names */
    size_t pool_used, pool_cap;
};

static const struct {
    const char *name;
    uint32_t blck, size;
} gguf_ggml_types[] = {
    [0] = {"f32", 1, 4},        [1] = {"f16", 1, 2},        [2] = {"q4_0", 32, 18},
    [3] = {"q4_1", 32, 20},     [6] = {"q5_0", 32, 22},     [7] = {"q5_1", 32, 24},
    [8] = {"q8_0", 32, 34},     [9] = {"q8_1", 32, 36},     [10] = {"q2_K", 256, 84},
    [11] = {"q3_K", 256, 110},  [12] = {"q4_K", 256, 144},  [13] = {"q5_K", 256, 176},
    [14] = {"q6_K", 256, 210},  [15] = {"q8_K", 256, 292},  [16] = {"iq2_xxs", 256, 66},
    [17] = {"iq2_xs", 256, 74}, [18] = {"iq3_xxs", 256, 98}, [19] = {"iq1_s", 256, 50},
    [20] = {"iq4_nl", 32, 18},  [21] = {"iq3_s", 256, 110}, [22] = {"iq2_s", 256, 82},
    [23] = {"iq4_xs", 256, 136}, [24] = {"i8", 1, 1},       [25] = {"i16", 1, 2},
    [26] = {"i32", 1, 4},       [27] = {"i64", 1, 8},       [28] = {"f64", 1, 8},
    [29] = {"iq1_m", 256, 56},  [30] = {"bf16", 1, 2},      [34] = {"tq1_0", 256, 54},
    [35] = {"tq2_0", 256, 66},
};
#define GGUF_N_GGML_TYPES (sizeof gguf_ggml_types / sizeof gguf_ggml_types[0])

const char *gguf_type_name(uint32_t t) {
    return t < GGUF_N_GGML_TYPES ? gguf_ggml_types[t].name : NULL;
}
uint32_t gguf_type_block_elems(uint32_t t) {
    return t < GGUF_N_GGML_TYPES && gguf_ggml_types[t].name ? gguf_ggml_types[t].blck : 0;
}
uint32_t gguf_type_block_bytes(uint32_t t) {
    return t < GGUF_N_GGML_TYPES && gguf_ggml_types[t].name ? gguf_ggml_types[t].size : 0;
}

static const char *const gguf_value_names[GGUF_TYPE_COUNT] = {
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
    "bool",  "string", "array", "uint64", "int64", "float64"};

const char *gguf_value_type_name(gguf_type t) {
    return (unsigned)t < GGUF_TYPE_COUNT ? gguf_value_names[t] : NULL;
}

/* Byte size of a fixed-size value type; 0 for string/array/unknown. */
static size_t gguf_scalar_size(uint32_t t) {
    switch (t) {
    case GGUF_TYPE_UINT8: case GGUF_TYPE_INT8: case GGUF_TYPE_BOOL: return 1;
    case GGUF_TYPE_UINT16: case GGUF_TYPE_INT16: return 2;
    case GGUF_TYPE_UINT32: case GGUF_TYPE_INT32: case GGUF_TYPE_FLOAT32: return 4;
    case GGUF_TYPE_UINT64: case GGUF_TYPE_INT64: case GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

static uint32_t gguf_rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t gguf_rd64(const uint8_t *p) {
    return (uint64_t)gguf_rd32(p) | (uint64_t)gguf_rd32(p + 4) << 32;
}

/* A bounds-checked cursor. */
typedef struct gguf_cur {
    const uint8_t *base;
    uint64_t pos, end;
    char *err;
    size_t errn;
} gguf_cur;

static uint64_t gguf_left(const gguf_cur *c) { return c->end - c->pos; }

static learn_status gguf_need(gguf_cur *c, uint64_t n, const char *what) {
    if (n > gguf_left(c))
        return util_fail(c->err, c->errn, LEARN_ERR_FORMAT,
                         "%s: needs %llu bytes at offset %llu, only %llu left (truncated file?)",
                         what, (unsigned long long)n, (unsigned long long)c->pos,
                         (unsigned long long)gguf_left(c));
    return LEARN_OK;
}

static learn_status gguf_u32(gguf_cur *c, uint32_t *v, const char *what) {
    learn_status st = gguf_need(c, 4, what);
    if (st) return st;
    *v = gguf_rd32(c->base + c->pos);
    c->pos += 4;
    return LEARN_OK;
}

static learn_status gguf_u64(gguf_cur *c, uint64_t *v, const char *what) {
    learn_status st = gguf_need(c, 8, what);
    if (st) return st;
    *v = gguf_rd64(c->base + c->pos);
    c->pos += 8;
    return LEARN_OK;
}

/* A string: u64 length and bytes. */
static learn_status gguf_str(gguf_cur *c, const uint8_t **s, uint64_t *n, const char *what) {
    learn_status st = gguf_u64(c, n, what);
    if (st) return st;
    if (*n > gguf_left(c))
        return util_fail(c->err, c->errn, LEARN_ERR_FORMAT,
                         "%s: string of %llu bytes at offset %llu, only %llu bytes left", what,
                         (unsigned long long)*n, (unsigned long long)(c->pos - 8),
                         (unsigned long long)gguf_left(c));
    *s = c->base + c->pos;
    c->pos += *n;
    return LEARN_OK;
}

/* Parses one value of `type` (the type id already read). For top-level arrays of strings or
   arrays, builds the element index. key names the entry in messages. */
static learn_status gguf_parse_value(gguf_cur *c, uint32_t type, int depth, int make_index,
                                     const char *key, gguf_value *out) {
    learn_status st;
    memset(out, 0, sizeof *out);
    if (type >= GGUF_TYPE_COUNT)
        return util_fail(c->err, c->errn, LEARN_ERR_FORMAT,
                         "%s: unknown value type %u (0..%d)", key, type, GGUF_TYPE_COUNT - 1);
    out->type = (gguf_type)type;
    size_t ss = gguf_scalar_size(type);
    if (ss) {
        if ((st = gguf_need(c, ss, key))) return st;
        out->count = 1;
        out->data = c->base + c->pos;
        if (type == GGUF_TYPE_BOOL && out->data[0] > 1)
            return util_fail(c->err, c->errn, LEARN_ERR_FORMAT, "%s: bool value %u (0 or 1)",
                             key, out->data[0]);
        c->pos += ss;
        return LEARN_OK;
    }
    if (type == GGUF_TYPE_STRING) {
        const uint8_t *s;
        uint64_t n;
        if ((st = gguf_str(c, &s, &n, key))) return st;
        out->count = n;
        out->data = s;
        return LEARN_OK;
    }
    /* array */
    if (depth >= GGUF_MAX_DEPTH)
        return util_fail(c->err, c->errn, LEARN_ERR_FORMAT,
                         "%s: arrays nested deeper than %d", key, GGUF_MAX_DEPTH);
    uint32_t elem;
    uint64_t n;
    if ((st = gguf_u32(c, &elem, key)) || (st = gguf_u64(c, &n, key))) return st;
    if (elem >= GGUF_TYPE_COUNT)
        return util_fail(c->err, c->errn, LEARN_ERR_FORMAT,
                         "%s: unknown array element type %u (0..%d)", key, elem,
                         GGUF_TYPE_COUNT - 1);
    out->elem = (gguf_type)elem;
    out->count = n;
    out->data = c->base + c->pos;
    size_t es = gguf_scalar_size(elem);
    /* Each element takes at least min bytes: this caps n before anything is allocated. */
    uint64_t min = es ? es : elem == GGUF_TYPE_STRING ? 8 : 12;
    if (n > gguf_left(c) / min)
        return util_fail(c->err, c->errn, LEARN_ERR_FORMAT,
                         "%s: array of %llu %s elements, but only %llu bytes left", key,
                         (unsigned long long)n, gguf_value_names[elem],
                         (unsigned long long)gguf_left(c));
    if (es) {
        if (elem == GGUF_TYPE_BOOL)
            for (uint64_t i = 0; i < n; i++)
                if (out->data[i] > 1)
                    return util_fail(c->err, c->errn, LEARN_ERR_FORMAT,
                                     "%s[%llu]: bool value %u (0 or 1)", key,
                                     (unsigned long long)i, out->data[i]);
        c->pos += n * es;
        return LEARN_OK;
    }
    uint64_t *index = NULL;
    if (make_index && n) {
        if (n > SIZE_MAX / sizeof(uint64_t)) return LEARN_ERR_NOMEM;
        index = (uint64_t *)malloc((size_t)n * sizeof(uint64_t));
        if (!index) return util_fail(c->err, c->errn, LEARN_ERR_NOMEM, "%s: out of memory", key);
    }
    uint64_t start = c->pos;
    for (uint64_t i = 0; i < n; i++) {
        if (index) index[i] = c->pos - start;
        gguf_value sub;
        if ((st = gguf_parse_value(c, elem, depth + 1, 0, key, &sub))) {
            free(index);
            return st;
        }
    }
    out->index = index;
    return LEARN_OK;
}

/* Byte size of an already validated value of `type` starting at p. */
static uint64_t gguf_value_bytes(uint32_t type, const uint8_t *p) {
    size_t ss = gguf_scalar_size(type);
    if (ss) return ss;
    if (type == GGUF_TYPE_STRING) return 8 + gguf_rd64(p);
    uint32_t elem = gguf_rd32(p);
    uint64_t n = gguf_rd64(p + 4), off = 12;
    size_t es = gguf_scalar_size(elem);
    if (es) return off + n * es;
    for (uint64_t i = 0; i < n; i++) off += gguf_value_bytes(elem, p + off);
    return off;
}

learn_status gguf_elem(const gguf_value *a, uint64_t j, gguf_value *out) {
    if (!a || !out || a->type != GGUF_TYPE_ARRAY || j >= a->count) return LEARN_ERR_ARG;
    memset(out, 0, sizeof *out);
    out->type = a->elem;
    size_t es = gguf_scalar_size(a->elem);
    const uint8_t *p;
    if (es) {
        out->count = 1;
        out->data = a->data + j * es;
        return LEARN_OK;
    }
    if (a->index) {
        p = a->data + a->index[j];
    } else {
        p = a->data;
        for (uint64_t i = 0; i < j; i++) p += gguf_value_bytes(a->elem, p);
    }
    if (a->elem == GGUF_TYPE_STRING) {
        out->count = gguf_rd64(p);
        out->data = p + 8;
    } else {
        out->elem = (gguf_type)gguf_rd32(p);
        out->count = gguf_rd64(p + 4);
        out->data = p + 12;
    }
    return LEARN_OK;
}

learn_status gguf_as_i64(const gguf_value *v, int64_t *out) {
    if (!v || !out) return LEARN_ERR_ARG;
    const uint8_t *p = v->data;
    switch (v->type) {
    case GGUF_TYPE_UINT8: *out = p[0]; return LEARN_OK;
    case GGUF_TYPE_INT8: *out = (int8_t)p[0]; return LEARN_OK;
    case GGUF_TYPE_UINT16: *out = (uint16_t)(p[0] | p[1] << 8); return LEARN_OK;
    case GGUF_TYPE_INT16: *out = (int16_t)(uint16_t)(p[0] | p[1] << 8); return LEARN_OK;
    case GGUF_TYPE_UINT32: *out = gguf_rd32(p); return LEARN_OK;
    case GGUF_TYPE_INT32: *out = (int32_t)gguf_rd32(p); return LEARN_OK;
    case GGUF_TYPE_INT64: *out = (int64_t)gguf_rd64(p); return LEARN_OK;
    case GGUF_TYPE_UINT64: {
        uint64_t u = gguf_rd64(p);
        if (u > (uint64_t)INT64_MAX) return LEARN_ERR_FORMAT;
        *out = (int64_t)u;
        return LEARN_OK;
    }
    case GGUF_TYPE_BOOL: *out = p[0]; return LEARN_OK;
    default: return LEARN_ERR_FORMAT;
    }
}

learn_status gguf_as_u64(const gguf_value *v, uint64_t *out) {
    if (!v || !out) return LEARN_ERR_ARG;
    if (v->type == GGUF_TYPE_UINT64) {
        *out = gguf_rd64(v->data);
        return LEARN_OK;
    }
    int64_t i;
    learn_status st = gguf_as_i64(v, &i);
    if (st) return st;
    if (i < 0) return LEARN_ERR_FORMAT;
    *out = (uint64_t)i;
    return LEARN_OK;
}

learn_status gguf_as_f64(const gguf_value *v, double *out) {
    if (!v || !out) return LEARN_ERR_ARG;
    if (v->type == GGUF_TYPE_FLOAT32) {
        float f;
        uint32_t u = gguf_rd32(v->data);
        memcpy(&f, &u, 4);
        *out = f;
        return LEARN_OK;
    }
    if (v->type == GGUF_TYPE_FLOAT64) {
        uint64_t u = gguf_rd64(v->data);
        memcpy(out, &u, 8);
        return LEARN_OK;
    }
    if (v->type == GGUF_TYPE_UINT64) {
        *out = (double)gguf_rd64(v->data);
        return LEARN_OK;
    }
    int64_t i;
    learn_status st = gguf_as_i64(v, &i);
    if (st) return st;
    *out = (double)i;
    return LEARN_OK;
}

learn_status gguf_as_bool(const gguf_value *v, int *out) {
    if (!v || !out) return LEARN_ERR_ARG;
    if (v->type != GGUF_TYPE_BOOL) return LEARN_ERR_FORMAT;
    *out = v->data[0];
    return LEARN_OK;
}

learn_status gguf_as_str(const gguf_value *v, const char **s, size_t *len) {
    if (!v || !s) return LEARN_ERR_ARG;
    if (v->type != GGUF_TYPE_STRING || v->count > SIZE_MAX) return LEARN_ERR_FORMAT;
    *s = (const char *)v->data;
    if (len) *len = (size_t)v->count;
    return LEARN_OK;
}

/* Copies n bytes into the pool as a NUL-terminated string. */
static const char *gguf_pool_add(gguf_file *g, const uint8_t *s, size_t n) {
    char *p = g->pool + g->pool_used;
    memcpy(p, s, n);
    p[n] = 0;
    g->pool_used += n + 1;
    return p;
}

static int gguf_cmp_ref(const void *a, const void *b) {
    return strcmp(((const gguf_name_ref *)a)->name, ((const gguf_name_ref *)b)->name);
}

/* Binary search of a sorted reference array; UINT64_MAX when absent. */
static uint64_t gguf_lookup(const gguf_name_ref *refs, uint64_t n, const char *name) {
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(refs[mid].name, name);
        if (c == 0) return refs[mid].index;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return UINT64_MAX;
}

void gguf_close(gguf_file *g) {
    if (!g) return;
    for (uint64_t i = 0; g->kv && i < g->n_kv; i++) free((void *)g->kv[i].value.index);
    free(g->kv);
    free(g->kv_sorted);
    free(g->tensors);
    free(g->tensor_sorted);
    free(g->pool);
    if (g->map) munmap(g->map, g->map_size);
    free(g);
}

/* The header: magic, version and the two counts, checked against what the file can hold; then
   the tables they size. */
static learn_status gguf_parse_header(gguf_file *g, gguf_cur *c, char *err, size_t errn) {
    if (g->size < 24)
        return util_fail(err, errn, LEARN_ERR_FORMAT,
                         "file of %zu bytes is shorter than a GGUF header (24)", g->size);
    if (memcmp(g->base, "GGUF", 4) != 0)
        return util_fail(err, errn, LEARN_ERR_FORMAT, "not a GGUF file (magic %02x %02x %02x %02x)",
                         g->base[0], g->base[1], g->base[2], g->base[3]);
    c->pos = 4;
    uint32_t version;
    (void)gguf_u32(c, &version, "version");
    if (version == 1)
        return util_fail(err, errn, LEARN_ERR_VERSION,
                         "GGUF version 1 (32-bit counts) is not supported (2, 3)");
    if (version != 2 && version != 3)
        return util_fail(err, errn, LEARN_ERR_VERSION,
                         (version & 0xFFFF) == 0 ? "GGUF version %u: a big-endian file? (2, 3)"
                                                 : "GGUF version %u is not supported (2, 3)",
                         version);
    g->version = version;
    (void)gguf_u64(c, &g->n_tensors, "tensor count");
    (void)gguf_u64(c, &g->n_kv, "metadata count");
    /* A metadata entry takes at least 8 (key length) + 1 + 4 (type) + 1 bytes; a tensor info at
       least 8 + 1 + 4 + 8 + 4 + 8. */
    if (g->n_kv > GGUF_MAX_KV || g->n_kv > gguf_left(c) / 14)
        return util_fail(err, errn, LEARN_ERR_FORMAT,
                         "metadata count %llu: at most %u, and %llu bytes cannot hold them",
                         (unsigned long long)g->n_kv, GGUF_MAX_KV,
                         (unsigned long long)gguf_left(c));
    if (g->n_tensors > GGUF_MAX_TENSORS || g->n_tensors > gguf_left(c) / 33)
        return util_fail(err, errn, LEARN_ERR_FORMAT,
                         "tensor count %llu: at most %u, and %llu bytes cannot hold them",
                         (unsigned long long)g->n_tensors, GGUF_MAX_TENSORS,
                         (unsigned long long)gguf_left(c));
    /* Keys and names are shorter than the file: one pool of file size + counts suffices. */
    g->pool_cap = g->size + (size_t)g->n_kv + (size_t)g->n_tensors + 1;
    g->pool = (char *)malloc(g->pool_cap);
    g->kv = (gguf_kv_entry *)calloc((size_t)g->n_kv + 1, sizeof *g->kv);
    g->kv_sorted = (gguf_name_ref *)malloc(((size_t)g->n_kv + 1) * sizeof(gguf_name_ref));
    g->tensors = (gguf_tensor *)calloc((size_t)g->n_tensors + 1, sizeof *g->tensors);
    g->tensor_sorted =
        (gguf_name_ref *)malloc(((size_t)g->n_tensors + 1) * sizeof(gguf_name_ref));
    if (!g->pool || !g->kv || !g->kv_sorted || !g->tensors || !g->tensor_sorted)
        return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    return LEARN_OK;
}

/* Metadata entry i: its key, type and value; general.alignment is taken here. */
static learn_status gguf_parse_kv(gguf_file *g, gguf_cur *c, uint64_t i, char *err, size_t errn) {
    learn_status st;
    const uint8_t *k;
    uint64_t kn;
    char what[64];
    snprintf(what, sizeof what, "metadata entry %llu: key", (unsigned long long)i);
    if ((st = gguf_str(c, &k, &kn, what))) return st;
    if (kn == 0 || kn > GGUF_MAX_KEY)
        return util_fail(err, errn, LEARN_ERR_FORMAT,
                         "metadata entry %llu: key of %llu bytes (1..%u)",
                         (unsigned long long)i, (unsigned long long)kn, GGUF_MAX_KEY);
    if (memchr(k, 0, (size_t)kn))
        return util_fail(err, errn, LEARN_ERR_FORMAT,
                         "metadata entry %llu: key contains a NUL byte", (unsigned long long)i);
    g->kv[i].key = gguf_pool_add(g, k, (size_t)kn);
    uint32_t type;
    if ((st = gguf_u32(c, &type, g->kv[i].key))) return st;
    if ((st = gguf_parse_value(c, type, 0, 1, g->kv[i].key, &g->kv[i].value))) return st;
    if (strcmp(g->kv[i].key, "general.alignment") == 0) {
        uint32_t al;
        if (type != GGUF_TYPE_UINT32 ||
            ((al = gguf_rd32(g->kv[i].value.data)) == 0 || (al & (al - 1))))
            return util_fail(err, errn, LEARN_ERR_FORMAT,
                             "general.alignment: must be a uint32 power of two");
        g->alignment = al;
    }
    g->kv_sorted[i].name = g->kv[i].key;
    g->kv_sorted[i].index = i;
    return LEARN_OK;
}

/* Tensor info i: name, dimensions, type (its element count a whole number of blocks) and the
   offset relative to the data. */
static learn_status gguf_parse_tensor_info(gguf_file *g, gguf_cur *c, uint64_t i, char *err,
                                           size_t errn) {
    learn_status st;
    gguf_tensor *t = &g->tensors[i];
    const uint8_t *nm;
    uint64_t nn;
    char what[64];
    snprintf(what, sizeof what, "tensor %llu: name", (unsigned long long)i);
    if ((st = gguf_str(c, &nm, &nn, what))) return st;
    if (nn == 0 || nn > GGUF_MAX_NAME || memchr(nm, 0, (size_t)nn))
        return util_fail(err, errn, LEARN_ERR_FORMAT,
                         "tensor %llu: name of %llu bytes (1..%u, no NUL)",
                         (unsigned long long)i, (unsigned long long)nn, GGUF_MAX_NAME);
    t->name = gguf_pool_add(g, nm, (size_t)nn);
    if ((st = gguf_u32(c, &t->n_dims, t->name))) return st;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return util_fail(err, errn, LEARN_ERR_FORMAT, "tensor %s: %u dimensions (1..%d)",
                         t->name, t->n_dims, GGUF_MAX_DIMS);
    uint64_t nel = 1;
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        if ((st = gguf_u64(c, &t->ne[d], t->name))) return st;
        if (t->ne[d] == 0 || t->ne[d] > (uint64_t)INT64_MAX ||
            nel > (uint64_t)INT64_MAX / t->ne[d])
            return util_fail(err, errn, LEARN_ERR_FORMAT,
                             "tensor %s: dimension %u is %llu (the element count must be "
                             "1..2^63-1)",
                             t->name, d, (unsigned long long)t->ne[d]);
        nel *= t->ne[d];
    }
    t->n_elements = nel;
    if ((st = gguf_u32(c, &t->type, t->name))) return st;
    uint32_t be = gguf_type_block_elems(t->type), bb = gguf_type_block_bytes(t->type);
    if (!be)
        return util_fail(err, errn, LEARN_ERR_FORMAT, "tensor %s: unknown ggml type %u",
                         t->name, t->type);
    if (t->ne[0] % be)
        return util_fail(err, errn, LEARN_ERR_FORMAT,
                         "tensor %s: first dimension %llu is not a multiple of %s's block "
                         "of %u",
                         t->name, (unsigned long long)t->ne[0], gguf_type_name(t->type), be);
    if (nel / be > UINT64_MAX / bb)
        return util_fail(err, errn, LEARN_ERR_FORMAT, "tensor %s: byte size overflows",
                         t->name);
    t->size = nel / be * bb;
    if ((st = gguf_u64(c, &t->offset, t->name))) return st;
    g->tensor_sorted[i].name = t->name;
    g->tensor_sorted[i].index = i;
    return LEARN_OK;
}

/* Sorts n references by name for gguf_lookup; a name twice is an error ("duplicate WHAT"). */
static learn_status gguf_sort_names(gguf_name_ref *refs, uint64_t n, const char *what, char *err,
                                    size_t errn) {
    qsort(refs, (size_t)n, sizeof(gguf_name_ref), gguf_cmp_ref);
    for (uint64_t i = 1; i < n; i++)
        if (strcmp(refs[i].name, refs[i - 1].name) == 0)
            return util_fail(err, errn, LEARN_ERR_FORMAT, "duplicate %s '%s'", what,
                             refs[i].name);
    return LEARN_OK;
}

/* Data: at the end of the infos (info_end) rounded up to the alignment; tensors back to back,
   each at an aligned offset, as llama.cpp requires. Sets each tensor's data and file offset. */
static learn_status gguf_place_data(gguf_file *g, uint64_t info_end, char *err, size_t errn) {
    uint64_t al = g->alignment, data = info_end;
    if (data > UINT64_MAX - (al - 1))
        return util_fail(err, errn, LEARN_ERR_FORMAT, "data offset overflows");
    data = (data + al - 1) / al * al;
    uint64_t expect = 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        gguf_tensor *t = &g->tensors[i];
        if (t->offset != expect)
            return util_fail(err, errn, LEARN_ERR_FORMAT,
                             "tensor %s: data offset %llu, expected %llu (tensors must follow "
                             "each other, aligned to %u)",
                             t->name, (unsigned long long)t->offset,
                             (unsigned long long)expect, g->alignment);
        if (data > g->size || t->offset > g->size - data || t->size > g->size - data - t->offset)
            return util_fail(err, errn, LEARN_ERR_FORMAT,
                             "tensor %s: %llu bytes at offset %llu run past the end of the file "
                             "(%zu bytes)",
                             t->name, (unsigned long long)t->size,
                             (unsigned long long)(data + t->offset), g->size);
        t->data = g->base + data + t->offset;
        t->offset += data;
        expect = t->offset - data + t->size;
        if (expect > UINT64_MAX - (al - 1))
            return util_fail(err, errn, LEARN_ERR_FORMAT, "tensor %s: offset overflows", t->name);
        expect = (expect + al - 1) / al * al;
    }
    return LEARN_OK;
}

static learn_status gguf_parse(gguf_file *g, char *err, size_t errn) {
    gguf_cur c = {g->base, 0, g->size, err, errn};
    learn_status st = gguf_parse_header(g, &c, err, errn);
    g->alignment = 32;
    for (uint64_t i = 0; !st && i < g->n_kv; i++) st = gguf_parse_kv(g, &c, i, err, errn);
    if (!st) st = gguf_sort_names(g->kv_sorted, g->n_kv, "metadata key", err, errn);
    for (uint64_t i = 0; !st && i < g->n_tensors; i++)
        st = gguf_parse_tensor_info(g, &c, i, err, errn);
    if (!st) st = gguf_sort_names(g->tensor_sorted, g->n_tensors, "tensor name", err, errn);
    if (!st) st = gguf_place_data(g, c.pos, err, errn);
    return st;
}

learn_status gguf_open_memory(const void *data, size_t size, gguf_file **out, char *err,
                              size_t errn) {
    if (out) *out = NULL;
    if (!out || (!data && size)) return util_fail(err, errn, LEARN_ERR_ARG, "bad arguments");
    gguf_file *g = (gguf_file *)calloc(1, sizeof *g);
    if (!g) return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    g->base = (const uint8_t *)data;
    g->size = size;
    learn_status st = gguf_parse(g, err, errn);
    if (st) {
        gguf_close(g);
        return st;
    }
    *out = g;
    return LEARN_OK;
}

learn_status gguf_open(const char *path, gguf_file **out, char *err, size_t errn) {
    if (out) *out = NULL;
    if (!path || !out) return util_fail(err, errn, LEARN_ERR_ARG, "bad arguments");
    int fd = open(path, O_RDONLY);
    if (fd < 0) return util_fail(err, errn, LEARN_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return util_fail(err, errn, LEARN_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return util_fail(err, errn, LEARN_ERR_UNSUPPORTED, "%s: too large for this host", path);
    }
    size_t size = (size_t)sb.st_size;
    void *map = NULL;
    if (size) {
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            close(fd);
            return util_fail(err, errn, LEARN_ERR_IO, "%s: mmap: %s", path, strerror(errno));
        }
    }
    close(fd);
    gguf_file *g = (gguf_file *)calloc(1, sizeof *g);
    if (!g) {
        if (map) munmap(map, size);
        return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    }
    g->map = map;
    g->map_size = size;
    g->base = (const uint8_t *)map;
    g->size = size;
    char inner[256];
    learn_status st = gguf_parse(g, inner, sizeof inner);
    if (st) {
        gguf_close(g);
        return util_fail(err, errn, st, "%s: %s", path, inner);
    }
    *out = g;
    return LEARN_OK;
}

uint32_t gguf_version(const gguf_file *g) { return g ? g->version : 0; }
uint64_t gguf_n_kv(const gguf_file *g) { return g ? g->n_kv : 0; }
uint64_t gguf_n_tensors(const gguf_file *g) { return g ? g->n_tensors : 0; }
uint32_t gguf_alignment(const gguf_file *g) { return g ? g->alignment : 0; }

learn_status gguf_kv(const gguf_file *g, uint64_t i, const char **key, gguf_value *value) {
    if (!g || i >= g->n_kv) return LEARN_ERR_ARG;
    if (key) *key = g->kv[i].key;
    if (value) *value = g->kv[i].value;
    return LEARN_OK;
}

learn_status gguf_get(const gguf_file *g, const char *key, gguf_value *value) {
    if (!g || !key) return LEARN_ERR_ARG;
    uint64_t i = gguf_lookup(g->kv_sorted, g->n_kv, key);
    if (i == UINT64_MAX) return LEARN_ERR_NOT_FOUND;
    if (value) *value = g->kv[i].value;
    return LEARN_OK;
}

const gguf_tensor *gguf_tensor_at(const gguf_file *g, uint64_t i) {
    return g && i < g->n_tensors ? &g->tensors[i] : NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name) {
    if (!g || !name) return NULL;
    uint64_t i = gguf_lookup(g->tensor_sorted, g->n_tensors, name);
    return i == UINT64_MAX ? NULL : &g->tensors[i];
}
