/* safetensors.c - see safetensors.h. The header's JSON is read by a small private parser that
   knows exactly the grammar a safetensors header uses (objects, arrays, strings, non-negative
   integers); a general JSON parser is not needed for it. */
#define _POSIX_C_SOURCE 200809L
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

struct safetensors_file {
    const uint8_t *base;
    size_t size;
    void *map;        /* mmap'd region or NULL */
    void *owned;      /* file read into memory, or NULL */
    safetensors_tensor *tensors;
    size_t n, cap;
    size_t *order;    /* indices sorted by name */
    char **meta;      /* key, value, key, value, ... */
    size_t n_meta;
};

static const struct {
    const char *name;
    uint32_t bytes;
} st_dtypes[SAFETENSORS_DTYPE_COUNT] = {
    [SAFETENSORS_F32] = {"F32", 4},   [SAFETENSORS_F16] = {"F16", 2},
    [SAFETENSORS_BF16] = {"BF16", 2}, [SAFETENSORS_F64] = {"F64", 8},
    [SAFETENSORS_I8] = {"I8", 1},     [SAFETENSORS_U8] = {"U8", 1},
    [SAFETENSORS_I16] = {"I16", 2},   [SAFETENSORS_I32] = {"I32", 4},
    [SAFETENSORS_I64] = {"I64", 8},   [SAFETENSORS_BOOL] = {"BOOL", 1},
    [SAFETENSORS_F8_E4M3] = {"F8_E4M3", 1}, [SAFETENSORS_F8_E5M2] = {"F8_E5M2", 1},
};

const char *safetensors_dtype_name(safetensors_dtype d) {
    return (unsigned)d < SAFETENSORS_DTYPE_COUNT ? st_dtypes[d].name : "?";
}

/* ---- The header parser ---- */

typedef struct st_parser {
    const uint8_t *p, *end, *start;
    char *err;
    size_t errn;
} st_parser;

static void st_ws(st_parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static learn_status st_syntax(st_parser *ps, const char *what) {
    return util_fail(ps->err, ps->errn, LEARN_ERR_FORMAT, "header byte %zu: %s",
                     (size_t)(ps->p - ps->start), what);
}

static int st_expect(st_parser *ps, char ch) {
    st_ws(ps);
    if (ps->p < ps->end && *ps->p == (uint8_t)ch) {
        ps->p++;
        return 1;
    }
    return 0;
}

static size_t st_put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of a valid UTF-8 sequence at p (strict: no overlongs, surrogates or > U+10FFFF), or 0. */
static size_t st_utf8_len(const uint8_t *p, const uint8_t *end) {
    uint8_t c = p[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
    else return 0;
    if ((size_t)(end - p) < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return n;
}

static int st_hex4(const uint8_t *p, uint32_t *v) {
    *v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        uint32_t d = (c >= '0' && c <= '9') ? (uint32_t)(c - '0')
                     : (c >= 'a' && c <= 'f') ? (uint32_t)(c - 'a' + 10)
                     : (c >= 'A' && c <= 'F') ? (uint32_t)(c - 'A' + 10) : 16u;
        if (d == 16) return 0;
        *v = *v * 16 + d;
    }
    return 1;
}

/* Parses a string into a new NUL-terminated buffer (*out, free()). Embedded NULs are refused. */
static learn_status st_string(st_parser *ps, char **out) {
    *out = NULL;
    if (!st_expect(ps, '"')) return st_syntax(ps, "expected a string");
    const uint8_t *s = ps->p;
    size_t cap = 0;
    while (s < ps->end && *s != '"') { /* upper bound of the decoded length */
        if (*s == '\\' && s + 1 < ps->end) s++;
        s++;
        cap++;
    }
    if (s >= ps->end) return st_syntax(ps, "unterminated string");
    char *o = (char *)malloc(cap * 4 + 1), *q = o;
    if (!o) return util_fail(ps->err, ps->errn, LEARN_ERR_NOMEM, "out of memory");
    while (*ps->p != '"') {
        uint8_t c = *ps->p;
        if (c < 0x20) {
            free(o);
            return st_syntax(ps, "control character in a string");
        }
        if (c != '\\') {
            size_t n = st_utf8_len(ps->p, ps->end);
            if (!n) {
                free(o);
                return st_syntax(ps, "invalid UTF-8 in a string");
            }
            memcpy(q, ps->p, n);
            q += n;
            ps->p += n;
            continue;
        }
        ps->p++;
        uint8_t e = *ps->p++;
        uint32_t cp = 0;
        switch (e) {
        case '"': case '\\': case '/': *q++ = (char)e; continue;
        case 'b': *q++ = '\b'; continue;
        case 'f': *q++ = '\f'; continue;
        case 'n': *q++ = '\n'; continue;
        case 'r': *q++ = '\r'; continue;
        case 't': *q++ = '\t'; continue;
        case 'u': break;
        default: free(o); ps->p--; return st_syntax(ps, "invalid escape in a string");
        }
        if (ps->end - ps->p < 4 || !st_hex4(ps->p, &cp)) {
            free(o);
            return st_syntax(ps, "invalid \\u escape");
        }
        ps->p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
                !st_hex4(ps->p + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
                free(o);
                return st_syntax(ps, "unpaired surrogate in a \\u escape");
            }
            ps->p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            free(o);
            return st_syntax(ps, "unpaired surrogate in a \\u escape");
        }
        if (cp == 0) {
            free(o);
            return st_syntax(ps, "NUL character in a string");
        }
        q += st_put_utf8(q, cp);
    }
    ps->p++;
    *q = 0;
    *out = o;
    return LEARN_OK;
}

/* A non-negative integer (no sign, fraction or exponent), checked against overflow. */
static learn_status st_u64(st_parser *ps, const char *what, uint64_t *v) {
    st_ws(ps);
    const uint8_t *s = ps->p;
    uint64_t x = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        uint64_t d = (uint64_t)(*ps->p - '0');
        if (x > (UINT64_MAX - d) / 10)
            return util_fail(ps->err, ps->errn, LEARN_ERR_FORMAT, "%s: integer overflows 64 bits",
                             what);
        x = x * 10 + d;
        ps->p++;
    }
    if (ps->p == s || (ps->p - s > 1 && *s == '0') ||
        (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E'))) {
        char m[160];
        snprintf(m, sizeof m, "%s: expected a non-negative integer", what);
        return st_syntax(ps, m);
    }
    *v = x;
    return LEARN_OK;
}

/* [a, b, ...] of non-negative integers, at most max of them. */
static learn_status st_u64_array(st_parser *ps, const char *what, uint64_t *v, uint32_t max,
                                 uint32_t *n) {
    *n = 0;
    if (!st_expect(ps, '[')) return st_syntax(ps, "expected '['");
    if (st_expect(ps, ']')) return LEARN_OK;
    for (;;) {
        if (*n == max)
            return util_fail(ps->err, ps->errn, LEARN_ERR_FORMAT, "%s: more than %u values", what,
                             max);
        learn_status st = st_u64(ps, what, &v[*n]);
        if (st) return st;
        (*n)++;
        if (st_expect(ps, ']')) return LEARN_OK;
        if (!st_expect(ps, ',')) return st_syntax(ps, "expected ',' or ']'");
    }
}

static learn_status st_parse_metadata(safetensors_file *f, st_parser *ps) {
    if (!st_expect(ps, '{')) return st_syntax(ps, "__metadata__ must be an object of strings");
    if (st_expect(ps, '}')) return LEARN_OK;
    for (;;) {
        if (f->n_meta >= 4096)
            return util_fail(ps->err, ps->errn, LEARN_ERR_FORMAT, "__metadata__: more than 4096 keys");
        char **m = (char **)realloc(f->meta, (f->n_meta + 1) * 2 * sizeof *m);
        if (!m) return util_fail(ps->err, ps->errn, LEARN_ERR_NOMEM, "out of memory");
        f->meta = m;
        m[2 * f->n_meta] = m[2 * f->n_meta + 1] = NULL;
        f->n_meta++;
        learn_status st = st_string(ps, &m[2 * f->n_meta - 2]);
        if (st) return st;
        if (!st_expect(ps, ':')) return st_syntax(ps, "expected ':'");
        if ((st = st_string(ps, &m[2 * f->n_meta - 1])))
            return util_fail(ps->err, ps->errn, LEARN_ERR_FORMAT,
                             "__metadata__ '%.60s': the value must be a string",
                             m[2 * f->n_meta - 2]);
        if (st_expect(ps, '}')) return LEARN_OK;
        if (!st_expect(ps, ',')) return st_syntax(ps, "expected ',' or '}'");
    }
}

/* {"dtype": ..., "shape": [...], "data_offsets": [b, e]}, each field exactly once. */
static learn_status st_parse_tensor(st_parser *ps, safetensors_tensor *t, uint64_t *begin,
                                    uint64_t *end) {
    int have_dtype = 0, have_shape = 0, have_off = 0;
    if (!st_expect(ps, '{'))
        return util_fail(ps->err, ps->errn, LEARN_ERR_FORMAT, "tensor '%.80s': entry is not an object",
                         t->name);
    if (!st_expect(ps, '}'))
        for (;;) {
            char *key;
            learn_status st = st_string(ps, &key);
            if (st) return st;
            if (!st_expect(ps, ':')) {
                free(key);
                return st_syntax(ps, "expected ':'");
            }
            if (strcmp(key, "dtype") == 0 && !have_dtype) {
                char *d;
                free(key);
                if ((st = st_string(ps, &d))) return st;
                int found = -1;
                for (int i = 0; i < SAFETENSORS_DTYPE_COUNT; i++)
                    if (strcmp(d, st_dtypes[i].name) == 0) found = i;
                if (found < 0) {
                    st = util_fail(ps->err, ps->errn, LEARN_ERR_UNSUPPORTED,
                                   "tensor '%.80s': dtype \"%.20s\" is not known", t->name, d);
                    free(d);
                    return st;
                }
                free(d);
                t->dtype = (safetensors_dtype)found;
                have_dtype = 1;
            } else if (strcmp(key, "shape") == 0 && !have_shape) {
                free(key);
                char what[128];
                snprintf(what, sizeof what, "tensor '%.80s': shape", t->name);
                if ((st = st_u64_array(ps, what, t->shape, SAFETENSORS_MAX_DIMS, &t->n_dims)))
                    return st;
                have_shape = 1;
            } else if (strcmp(key, "data_offsets") == 0 && !have_off) {
                free(key);
                uint64_t o[3];
                uint32_t n;
                char what[128];
                snprintf(what, sizeof what, "tensor '%.80s': data_offsets", t->name);
                if ((st = st_u64_array(ps, what, o, 3, &n))) return st;
                if (n != 2)
                    return util_fail(ps->err, ps->errn, LEARN_ERR_FORMAT,
                                     "tensor '%.80s': data_offsets has %u values, not 2", t->name, n);
                *begin = o[0];
                *end = o[1];
                have_off = 1;
            } else {
                st = util_fail(ps->err, ps->errn, LEARN_ERR_FORMAT,
                               "tensor '%.80s': field '%.40s' is unknown or repeated", t->name, key);
                free(key);
                return st;
            }
            if (st_expect(ps, '}')) break;
            if (!st_expect(ps, ',')) return st_syntax(ps, "expected ',' or '}'");
        }
    if (!have_dtype || !have_shape || !have_off)
        return util_fail(ps->err, ps->errn, LEARN_ERR_FORMAT, "tensor '%.80s': field '%s' is missing",
                         t->name, !have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");
    return LEARN_OK;
}

/* Sort keys: (offset or name, index), so that no comparator needs global context. */
typedef struct st_key {
    uint64_t off;
    const char *name;
    size_t i;
} st_key;
static int st_off_cmp(const void *a, const void *b) {
    const st_key *x = (const st_key *)a, *y = (const st_key *)b;
    return (x->off > y->off) - (x->off < y->off);
}
static int st_name_cmp(const void *a, const void *b) {
    return strcmp(((const st_key *)a)->name, ((const st_key *)b)->name);
}

/* Appends a tensor named name (owned by it from here) with its data_offsets in (*begins)[i] and
   (*ends)[i], growing the three arrays together. */
static learn_status st_add_tensor(safetensors_file *f, st_parser *ps, char *name, uint64_t **begins,
                                  uint64_t **ends) {
    if (f->n >= SAFETENSORS_MAX_TENSORS) {
        free(name);
        return util_fail(ps->err, ps->errn, LEARN_ERR_FORMAT, "more than %u tensors",
                         SAFETENSORS_MAX_TENSORS);
    }
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 64;
        safetensors_tensor *t = (safetensors_tensor *)realloc(f->tensors, nc * sizeof *t);
        if (t) f->tensors = t;
        uint64_t *b = (uint64_t *)realloc(*begins, nc * sizeof *b);
        if (b) *begins = b;
        uint64_t *e = (uint64_t *)realloc(*ends, nc * sizeof *e);
        if (e) *ends = e;
        if (!t || !b || !e) {
            free(name);
            return util_fail(ps->err, ps->errn, LEARN_ERR_NOMEM, "out of memory");
        }
        f->cap = nc;
    }
    safetensors_tensor *t = &f->tensors[f->n];
    memset(t, 0, sizeof *t);
    t->name = name;
    f->n++;
    return st_parse_tensor(ps, t, &(*begins)[f->n - 1], &(*ends)[f->n - 1]);
}

/* The header's JSON object: __metadata__ once, every other key a tensor. */
static learn_status st_parse_header(safetensors_file *f, st_parser *ps, uint64_t **begins,
                                    uint64_t **ends) {
    learn_status st;
    if (!st_expect(ps, '{')) return st_syntax(ps, "the header is not a JSON object");
    if (!st_expect(ps, '}'))
        for (;;) {
            char *name;
            if ((st = st_string(ps, &name))) return st;
            if (!st_expect(ps, ':')) {
                free(name);
                return st_syntax(ps, "expected ':'");
            }
            if (strcmp(name, "__metadata__") == 0) {
                free(name);
                if (f->meta)
                    return util_fail(ps->err, ps->errn, LEARN_ERR_FORMAT, "__metadata__ appears twice");
                if ((st = st_parse_metadata(f, ps))) return st;
            } else if ((st = st_add_tensor(f, ps, name, begins, ends))) {
                return st;
            }
            if (st_expect(ps, '}')) break;
            if (!st_expect(ps, ',')) return st_syntax(ps, "expected ',' or '}'");
        }
    st_ws(ps);
    if (ps->p != ps->end) return st_syntax(ps, "bytes after the end of the JSON object");
    return LEARN_OK;
}

/* Each tensor's element count and byte size, which its data_offsets must span within the
   data_size bytes of data; sets its data pointer. */
static learn_status st_place_tensors(safetensors_file *f, const uint8_t *data, uint64_t data_size,
                                     const uint64_t *begins, const uint64_t *ends, char *err,
                                     size_t errn) {
    for (size_t i = 0; i < f->n; i++) {
        safetensors_tensor *t = &f->tensors[i];
        uint64_t n = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) {
            if (t->shape[d] && n > UINT64_MAX / t->shape[d])
                return util_fail(err, errn, LEARN_ERR_FORMAT,
                                 "tensor '%.80s': the product of the shape overflows 64 bits", t->name);
            n *= t->shape[d];
        }
        t->n_elements = n;
        if (n > UINT64_MAX / st_dtypes[t->dtype].bytes)
            return util_fail(err, errn, LEARN_ERR_FORMAT, "tensor '%.80s': byte size overflows",
                             t->name);
        t->size = n * st_dtypes[t->dtype].bytes;
        if (begins[i] > ends[i] || ends[i] > data_size)
            return util_fail(err, errn, LEARN_ERR_FORMAT,
                             "tensor '%.80s': data_offsets [%llu, %llu] are not within the %llu "
                             "bytes of data",
                             t->name, (unsigned long long)begins[i], (unsigned long long)ends[i],
                             (unsigned long long)data_size);
        if (ends[i] - begins[i] != t->size)
            return util_fail(err, errn, LEARN_ERR_FORMAT,
                             "tensor '%.80s': data_offsets span %llu bytes but dtype %s and its shape "
                             "need %llu",
                             t->name, (unsigned long long)(ends[i] - begins[i]),
                             st_dtypes[t->dtype].name, (unsigned long long)t->size);
        t->data = data + begins[i];
    }
    return LEARN_OK;
}

/* The data must be covered exactly, without overlap or gaps (as the reference library
   requires), and no name may appear twice; f->order becomes the tensors' order by name. */
static learn_status st_check_layout(safetensors_file *f, uint64_t data_size, const uint64_t *begins,
                                    const uint64_t *ends, char *err, size_t errn) {
    learn_status st = LEARN_OK;
    f->order = (size_t *)malloc((f->n ? f->n : 1) * sizeof *f->order);
    st_key *keys = (st_key *)malloc((f->n ? f->n : 1) * sizeof *keys);
    if (!f->order || !keys) {
        free(keys);
        return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < f->n; i++) keys[i] = (st_key){begins[i], f->tensors[i].name, i};
    if (f->n) qsort(keys, f->n, sizeof *keys, st_off_cmp);
    uint64_t pos = 0;
    for (size_t k = 0; k < f->n && !st; k++) {
        size_t i = keys[k].i;
        if (begins[i] != pos)
            st = util_fail(err, errn, LEARN_ERR_FORMAT,
                           "tensor '%.80s': data starts at %llu, expected %llu (tensors %s)",
                           f->tensors[i].name, (unsigned long long)begins[i],
                           (unsigned long long)pos, begins[i] < pos ? "overlap" : "leave a gap");
        pos = ends[i];
    }
    if (!st && pos != data_size)
        st = util_fail(err, errn, LEARN_ERR_FORMAT, "the tensors cover %llu of the %llu data bytes",
                       (unsigned long long)pos, (unsigned long long)data_size);
    if (!st && f->n) qsort(keys, f->n, sizeof *keys, st_name_cmp);
    for (size_t k = 0; k < f->n && !st; k++) {
        f->order[k] = keys[k].i;
        if (k && strcmp(keys[k].name, keys[k - 1].name) == 0)
            st = util_fail(err, errn, LEARN_ERR_FORMAT, "tensor name '%.80s' appears twice",
                           keys[k].name);
    }
    free(keys);
    return st;
}

/* The 8-byte header length, the JSON header, then the tensors' data. */
static learn_status st_parse(safetensors_file *f, char *err, size_t errn) {
    if (f->size < 8)
        return util_fail(err, errn, LEARN_ERR_FORMAT,
                         "file is %zu bytes, shorter than the 8-byte header length", f->size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | f->base[i];
    if (hlen > SAFETENSORS_MAX_HEADER || hlen > f->size - 8)
        return util_fail(err, errn, LEARN_ERR_FORMAT,
                         "header length %llu is larger than the %zu bytes after it (or than the "
                         "%u-byte limit)",
                         (unsigned long long)hlen, f->size - 8, SAFETENSORS_MAX_HEADER);
    if (hlen < 2) return util_fail(err, errn, LEARN_ERR_FORMAT, "header length %llu is too short",
                                   (unsigned long long)hlen);
    st_parser ps = {f->base + 8, f->base + 8 + hlen, f->base + 8, err, errn};
    const uint8_t *data = ps.end;
    uint64_t data_size = f->size - 8 - hlen;
    uint64_t *begins = NULL, *ends = NULL;
    learn_status st = st_parse_header(f, &ps, &begins, &ends);
    if (!st) st = st_place_tensors(f, data, data_size, begins, ends, err, errn);
    if (!st) st = st_check_layout(f, data_size, begins, ends, err, errn);
    free(begins);
    free(ends);
    return st;
}

static learn_status st_finish(safetensors_file *f, safetensors_file **out, char *err, size_t errn) {
    learn_status st = st_parse(f, err, errn);
    if (st) {
        safetensors_close(f);
        return st;
    }
    *out = f;
    return LEARN_OK;
}

learn_status safetensors_open_memory(const void *data, size_t size, safetensors_file **out,
                                     char *err, size_t errn) {
    if (!out) return LEARN_ERR_ARG;
    *out = NULL;
    if (!data && size) return util_fail(err, errn, LEARN_ERR_ARG, "data is NULL");
    safetensors_file *f = (safetensors_file *)calloc(1, sizeof *f);
    if (!f) return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    f->base = (const uint8_t *)data;
    f->size = size;
    return st_finish(f, out, err, errn);
}

learn_status safetensors_open(const char *path, safetensors_file **out, char *err, size_t errn) {
    if (!out || !path) return LEARN_ERR_ARG;
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return util_fail(err, errn, LEARN_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return util_fail(err, errn, LEARN_ERR_IO, "%s: not a regular file of addressable size",
                         path);
    }
    safetensors_file *f = (safetensors_file *)calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        return util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
    }
    f->size = (size_t)sb.st_size;
    if (f->size) {
        void *p = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            f->map = p;
            f->base = (const uint8_t *)p;
        } else if ((f->owned = malloc(f->size))) {
            size_t got = 0;
            while (got < f->size) {
                ssize_t r = read(fd, (char *)f->owned + got, f->size - got);
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0) break;
                got += (size_t)r;
            }
            if (got < f->size) {
                close(fd);
                safetensors_close(f);
                return util_fail(err, errn, LEARN_ERR_IO, "%s: read failed", path);
            }
            f->base = (const uint8_t *)f->owned;
        } else {
            close(fd);
            safetensors_close(f);
            return util_fail(err, errn, LEARN_ERR_NOMEM, "%s: out of memory", path);
        }
    }
    close(fd);
    char inner[256];
    learn_status st = st_finish(f, out, inner, sizeof inner);
    if (st) return util_fail(err, errn, st, "%s: %s", path, inner);
    return LEARN_OK;
}

void safetensors_close(safetensors_file *f) {
    if (!f) return;
    for (size_t i = 0; i < f->n; i++) free((void *)f->tensors[i].name);
    for (size_t i = 0; i < 2 * f->n_meta; i++) free(f->meta[i]);
    free(f->meta);
    free(f->tensors);
    free(f->order);
    if (f->map) munmap(f->map, f->size);
    free(f->owned);
    free(f);
}

size_t safetensors_count(const safetensors_file *f) { return f ? f->n : 0; }

const safetensors_tensor *safetensors_get(const safetensors_file *f, size_t i) {
    return f && i < f->n ? &f->tensors[i] : NULL;
}

const safetensors_tensor *safetensors_find(const safetensors_file *f, const char *name) {
    if (!f || !name) return NULL;
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->tensors[f->order[mid]].name, name);
        if (c == 0) return &f->tensors[f->order[mid]];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const char *safetensors_metadata(const safetensors_file *f, const char *key) {
    if (!f || !key) return NULL;
    for (size_t i = 0; i < f->n_meta; i++)
        if (f->meta[2 * i] && strcmp(f->meta[2 * i], key) == 0) return f->meta[2 * i + 1];
    return NULL;
}

learn_status safetensors_read_f32(const safetensors_tensor *t, float *out, char *err, size_t errn) {
    if (!t || (!out && t->n_elements)) return LEARN_ERR_ARG;
    const uint8_t *p = t->data;
    switch (t->dtype) {
    case SAFETENSORS_F32:
        for (uint64_t i = 0; i < t->n_elements; i++) {
            uint32_t b = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                         (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
            memcpy(&out[i], &b, 4);
        }
        return LEARN_OK;
    case SAFETENSORS_F16:
        for (uint64_t i = 0; i < t->n_elements; i++)
            out[i] = learn_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return LEARN_OK;
    case SAFETENSORS_BF16:
        for (uint64_t i = 0; i < t->n_elements; i++)
            out[i] = learn_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return LEARN_OK;
    default:
        return util_fail(err, errn, LEARN_ERR_UNSUPPORTED,
                         "tensor '%.80s': dtype %s cannot be converted (F32, F16, BF16)", t->name,
                         st_dtypes[t->dtype].name);
    }
}
