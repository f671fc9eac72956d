/* json.c - strict JSON DOM parser. See json.h. */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- Arena: the document's memory ---- */

typedef struct json_block {
    struct json_block *next;
    size_t used, cap;
    /* data follows, 16-byte aligned */
} json_block;

#define JSON_BLOCK_HDR ((sizeof(json_block) + 15) & ~(size_t)15)

struct json_doc {
    json_block *blocks;
    json_value root;
};

static void *json_alloc(json_doc *d, size_t n) {
    n = (n + 15) & ~(size_t)15;
    json_block *b = d->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > (1u << 20) ? n : (1u << 20);
        b = (json_block *)malloc(JSON_BLOCK_HDR + cap);
        if (!b) return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = d->blocks;
        d->blocks = b;
    }
    void *p = (char *)b + JSON_BLOCK_HDR + b->used;
    b->used += n;
    return p;
}

void json_free(json_doc *d) {
    if (!d) return;
    for (json_block *b = d->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(d);
}

const json_value *json_root(const json_doc *d) { return d ? &d->root : NULL; }

const json_value *json_get(const json_value *v, const char *key) {
    if (!v || v->type != JSON_OBJECT || !key) return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < v->n; i++)
        if (v->u.members[i].key_len == kl && memcmp(v->u.members[i].key, key, kl) == 0)
            return &v->u.members[i].value;
    return NULL;
}

const json_value *json_at(const json_value *v, size_t i) {
    return v && v->type == JSON_ARRAY && i < v->n ? &v->u.items[i] : NULL;
}

const char *json_str(const json_value *v, size_t *len) {
    if (!v || v->type != JSON_STRING) return NULL;
    if (len) *len = v->n;
    return v->u.str;
}

/* ---- Parser ---- */

typedef struct json_parser {
    const uint8_t *s;
    size_t n, pos;
    int max_depth, allow_dup;
    json_doc *doc;
    json_value *vals; /* children of open arrays */
    size_t n_vals, cap_vals;
    json_member *mems; /* members of open objects */
    size_t n_mems, cap_mems;
    char *err;
    size_t errn;
} json_parser;

static learn_status json_error(json_parser *p, size_t at, learn_status st, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static learn_status json_error(json_parser *p, size_t at, learn_status st, const char *fmt, ...) {
    if (p->err && p->errn) {
        size_t line = 1, col = 1;
        for (size_t i = 0; i < at && i < p->n; i++) {
            if (p->s[i] == '\n') line++, col = 1;
            else if ((p->s[i] & 0xC0) != 0x80) col++;
        }
        int k = snprintf(p->err, p->errn, "line %zu, column %zu: ", line, col);
        if (k >= 0 && (size_t)k < p->errn) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + k, p->errn - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return st;
}

static void json_ws(json_parser *p) {
    while (p->pos < p->n) {
        uint8_t c = p->s[p->pos];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
        p->pos++;
    }
}

/* Length of the well-formed UTF-8 sequence at s[i] (lead byte >= 0x80), or 0. */
static size_t json_utf8_len(const uint8_t *s, size_t n, size_t i) {
    uint8_t c = s[i];
    size_t left = n - i;
    if (c >= 0xC2 && c <= 0xDF) return left >= 2 && (s[i + 1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (left < 3 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[i + 1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && s[i + 1] > 0x9F) return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (left < 4 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
            (s[i + 3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[i + 1] < 0x90) return 0; /* overlong */
        if (c == 0xF4 && s[i + 1] > 0x8F) return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

static int json_hex4(const uint8_t *s, uint32_t *v) {
    uint32_t r = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return 0;
        r = r << 4 | (uint32_t)d;
    }
    *v = r;
    return 1;
}

/* Parses a string at p->pos (the opening quote); *out / *len receive the decoded copy. */
static learn_status json_string(json_parser *p, const char **out, size_t *len) {
    size_t start = ++p->pos, i = start;
    int escapes = 0;
    /* Pass 1: find the closing quote, validating. */
    for (;;) {
        if (i >= p->n) return json_error(p, start - 1, LEARN_ERR_FORMAT, "unterminated string");
        uint8_t c = p->s[i];
        if (c == '"') break;
        if (c < 0x20)
            return json_error(p, i, LEARN_ERR_FORMAT,
                              "control character 0x%02x in a string (escape it)", c);
        if (c == '\\') {
            escapes = 1;
            if (i + 1 >= p->n) return json_error(p, i, LEARN_ERR_FORMAT, "unterminated string");
            uint8_t e = p->s[i + 1];
            if (e == 'u') {
                uint32_t u;
                if (i + 6 > p->n || !json_hex4(p->s + i + 2, &u))
                    return json_error(p, i, LEARN_ERR_FORMAT, "bad \\u escape");
                if (u >= 0xDC00 && u <= 0xDFFF)
                    return json_error(p, i, LEARN_ERR_FORMAT,
                                      "lone low surrogate \\u%04X", (unsigned)u);
                if (u >= 0xD800 && u <= 0xDBFF) {
                    uint32_t lo;
                    if (i + 12 > p->n || p->s[i + 6] != '\\' || p->s[i + 7] != 'u' ||
                        !json_hex4(p->s + i + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return json_error(p, i, LEARN_ERR_FORMAT,
                                          "high surrogate \\u%04X without a low surrogate",
                                          (unsigned)u);
                    i += 12;
                } else {
                    i += 6;
                }
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || !e)
                return json_error(p, i, LEARN_ERR_FORMAT, "bad escape \\%c",
                                  e >= 0x20 && e < 0x7F ? e : '?');
            i += 2;
            continue;
        }
        if (c >= 0x80) {
            size_t l = json_utf8_len(p->s, p->n, i);
            if (!l) return json_error(p, i, LEARN_ERR_FORMAT, "invalid UTF-8 in a string");
            i += l;
            continue;
        }
        i++;
    }
    size_t raw = i - start;
    char *dst = (char *)json_alloc(p->doc, raw + 1);
    if (!dst) return json_error(p, start, LEARN_ERR_NOMEM, "out of memory");
    if (!escapes) {
        memcpy(dst, p->s + start, raw);
        dst[raw] = 0;
        *len = raw;
    } else { /* Pass 2: decode (never longer than the raw text). */
        size_t o = 0;
        for (size_t k = start; k < i;) {
            uint8_t c = p->s[k];
            if (c != '\\') {
                dst[o++] = (char)c;
                k++;
                continue;
            }
            uint8_t e = p->s[k + 1];
            if (e != 'u') {
                dst[o++] = e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r'
                           : e == 't' ? '\t' : (char)e;
                k += 2;
                continue;
            }
            uint32_t u, lo;
            json_hex4(p->s + k + 2, &u);
            k += 6;
            if (u >= 0xD800 && u <= 0xDBFF) {
                json_hex4(p->s + k + 2, &lo);
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                k += 6;
            }
            if (u < 0x80) {
                dst[o++] = (char)u;
            } else if (u < 0x800) {
                dst[o++] = (char)(0xC0 | u >> 6);
                dst[o++] = (char)(0x80 | (u & 0x3F));
            } else if (u < 0x10000) {
                dst[o++] = (char)(0xE0 | u >> 12);
                dst[o++] = (char)(0x80 | ((u >> 6) & 0x3F));
                dst[o++] = (char)(0x80 | (u & 0x3F));
            } else {
                dst[o++] = (char)(0xF0 | u >> 18);
                dst[o++] = (char)(0x80 | ((u >> 12) & 0x3F));
                dst[o++] = (char)(0x80 | ((u >> 6) & 0x3F));
                dst[o++] = (char)(0x80 | (u & 0x3F));
            }
        }
        dst[o] = 0;
        *len = o;
    }
    *out = dst;
    p->pos = i + 1;
    return LEARN_OK;
}

static learn_status json_number(json_parser *p, json_value *v) {
    size_t start = p->pos, i = start;
    const uint8_t *s = p->s;
    int neg = 0, is_int = 1;
    if (i < p->n && s[i] == '-') neg = 1, i++;
    if (i >= p->n || s[i] < '0' || s[i] > '9')
        return json_error(p, start, LEARN_ERR_FORMAT, "invalid number");
    if (s[i] == '0') {
        i++;
        if (i < p->n && s[i] >= '0' && s[i] <= '9')
            return json_error(p, start, LEARN_ERR_FORMAT, "number with a leading zero");
    } else {
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
    }
    size_t int_end = i;
    if (i < p->n && s[i] == '.') {
        is_int = 0;
        i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9')
            return json_error(p, start, LEARN_ERR_FORMAT, "invalid number: digits must follow '.'");
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < p->n && (s[i] == 'e' || s[i] == 'E')) {
        is_int = 0;
        i++;
        if (i < p->n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9')
            return json_error(p, start, LEARN_ERR_FORMAT, "invalid number: bad exponent");
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
    }
    v->type = JSON_NUMBER;
    v->is_int = 0;
    size_t digits = int_end - (start + (size_t)neg);
    if (is_int && digits <= 19) {
        uint64_t m = 0;
        int fits = 1;
        for (size_t k = start + (size_t)neg; k < int_end; k++) {
            unsigned d = (unsigned)(s[k] - '0');
            if (m > (UINT64_MAX - d) / 10) fits = 0;
            m = m * 10 + d;
        }
        if (fits && (neg ? m <= (uint64_t)INT64_MAX + 1 : m <= (uint64_t)INT64_MAX)) {
            v->is_int = 1;
            if (!neg) v->u.num.i = (int64_t)m;
            else v->u.num.i = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
            v->u.num.d = (double)v->u.num.i;
            p->pos = i;
            return LEARN_OK;
        }
    }
    char buf[128], *tmp = buf;
    size_t len = i - start;
    if (len >= sizeof buf) {
        tmp = (char *)malloc(len + 1);
        if (!tmp) return json_error(p, start, LEARN_ERR_NOMEM, "out of memory");
    }
    memcpy(tmp, s + start, len);
    tmp[len] = 0;
    double d = strtod(tmp, NULL);
    if (tmp != buf) free(tmp);
    if (isinf(d))
        return json_error(p, start, LEARN_ERR_FORMAT,
                          "number out of range (its magnitude overflows a double)");
    v->u.num.d = d;
    v->u.num.i = 0;
    p->pos = i;
    return LEARN_OK;
}

static int json_push_val(json_parser *p, const json_value *v) {
    if (p->n_vals == p->cap_vals) {
        size_t cap = p->cap_vals ? p->cap_vals * 2 : 256;
        json_value *nv = (json_value *)realloc(p->vals, cap * sizeof *nv);
        if (!nv) return 0;
        p->vals = nv;
        p->cap_vals = cap;
    }
    p->vals[p->n_vals++] = *v;
    return 1;
}

static int json_push_mem(json_parser *p, const json_member *m) {
    if (p->n_mems == p->cap_mems) {
        size_t cap = p->cap_mems ? p->cap_mems * 2 : 256;
        json_member *nm = (json_member *)realloc(p->mems, cap * sizeof *nm);
        if (!nm) return 0;
        p->mems = nm;
        p->cap_mems = cap;
    }
    p->mems[p->n_mems++] = *m;
    return 1;
}

static uint64_t json_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

/* Reports the first key that appears twice among m[0..n), or returns LEARN_OK. */
static learn_status json_check_dups(json_parser *p, const json_member *m, size_t n, size_t at) {
    if (n < 2) return LEARN_OK;
    if (n <= 16) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (m[i].key_len == m[j].key_len && memcmp(m[i].key, m[j].key, m[i].key_len) == 0)
                    return json_error(p, at, LEARN_ERR_FORMAT, "duplicate key \"%.60s\"", m[i].key);
        return LEARN_OK;
    }
    size_t cap = 32;
    while (cap < 2 * n) cap *= 2;
    size_t *slot = (size_t *)calloc(cap, sizeof(size_t));
    if (!slot) return json_error(p, at, LEARN_ERR_NOMEM, "out of memory");
    learn_status st = LEARN_OK;
    for (size_t i = 0; i < n && !st; i++) {
        size_t h = (size_t)json_hash(m[i].key, m[i].key_len) & (cap - 1);
        for (;; h = (h + 1) & (cap - 1)) {
            if (!slot[h]) {
                slot[h] = i + 1;
                break;
            }
            const json_member *o = &m[slot[h] - 1];
            if (o->key_len == m[i].key_len && memcmp(o->key, m[i].key, o->key_len) == 0) {
                st = json_error(p, at, LEARN_ERR_FORMAT, "duplicate key \"%.60s\"", m[i].key);
                break;
            }
        }
    }
    free(slot);
    return st;
}

static learn_status json_value_at(json_parser *p, int depth, json_value *v);

static learn_status json_container(json_parser *p, int depth, json_value *v) {
    size_t open = p->pos;
    int is_obj = p->s[p->pos] == '{';
    if (depth >= p->max_depth)
        return json_error(p, open, LEARN_ERR_FORMAT, "nesting deeper than %d", p->max_depth);
    p->pos++;
    size_t base = is_obj ? p->n_mems : p->n_vals;
    learn_status st;
    json_ws(p);
    uint8_t close = is_obj ? '}' : ']';
    if (p->pos < p->n && p->s[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            json_ws(p);
            json_member m;
            if (is_obj) {
                if (p->pos >= p->n || p->s[p->pos] != '"')
                    return json_error(p, p->pos, LEARN_ERR_FORMAT, "expected a string key");
                if ((st = json_string(p, &m.key, &m.key_len))) return st;
                json_ws(p);
                if (p->pos >= p->n || p->s[p->pos] != ':')
                    return json_error(p, p->pos, LEARN_ERR_FORMAT, "expected ':' after a key");
                p->pos++;
                json_ws(p);
            }
            if ((st = json_value_at(p, depth + 1, &m.value))) return st;
            if (!(is_obj ? json_push_mem(p, &m) : json_push_val(p, &m.value)))
                return json_error(p, p->pos, LEARN_ERR_NOMEM, "out of memory");
            json_ws(p);
            if (p->pos < p->n && p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->pos < p->n && p->s[p->pos] == close) {
                p->pos++;
                break;
            }
            return json_error(p, p->pos, LEARN_ERR_FORMAT, "expected ',' or '%c'", close);
        }
    }
    size_t n = (is_obj ? p->n_mems : p->n_vals) - base;
    v->is_int = 0;
    v->n = n;
    if (is_obj) {
        v->type = JSON_OBJECT;
        if (n && !p->allow_dup && (st = json_check_dups(p, p->mems + base, n, open))) return st;
        v->u.members = (json_member *)json_alloc(p->doc, n * sizeof(json_member) + 1);
        if (!v->u.members) return json_error(p, open, LEARN_ERR_NOMEM, "out of memory");
        if (n) memcpy(v->u.members, p->mems + base, n * sizeof(json_member));
        p->n_mems = base;
    } else {
        v->type = JSON_ARRAY;
        v->u.items = (json_value *)json_alloc(p->doc, n * sizeof(json_value) + 1);
        if (!v->u.items) return json_error(p, open, LEARN_ERR_NOMEM, "out of memory");
        if (n) memcpy(v->u.items, p->vals + base, n * sizeof(json_value));
        p->n_vals = base;
    }
    return LEARN_OK;
}

static learn_status json_value_at(json_parser *p, int depth, json_value *v) {
    memset(v, 0, sizeof *v);
    if (p->pos >= p->n) return json_error(p, p->pos, LEARN_ERR_FORMAT, "unexpected end of input");
    uint8_t c = p->s[p->pos];
    switch (c) {
    case '{':
    case '[': return json_container(p, depth, v);
    case '"': {
        v->type = JSON_STRING;
        return json_string(p, &v->u.str, &v->n);
    }
    case 't':
    case 'f':
    case 'n': {
        const char *word = c == 't' ? "true" : c == 'f' ? "false" : "null";
        size_t wl = strlen(word);
        if (p->n - p->pos < wl || memcmp(p->s + p->pos, word, wl) != 0)
            return json_error(p, p->pos, LEARN_ERR_FORMAT, "invalid literal");
        v->type = c == 't' ? JSON_TRUE : c == 'f' ? JSON_FALSE : JSON_NULL;
        p->pos += wl;
        return LEARN_OK;
    }
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return json_number(p, v);
        if (c >= 0x20 && c < 0x7F)
            return json_error(p, p->pos, LEARN_ERR_FORMAT, "unexpected character '%c'", c);
        return json_error(p, p->pos, LEARN_ERR_FORMAT, "unexpected byte 0x%02x", c);
    }
}

learn_status json_parse(const char *text, size_t len, const json_opts *opts, json_doc **out,
                        char *err, size_t errn) {
    if (out) *out = NULL;
    if (!out || (!text && len)) return LEARN_ERR_ARG;
    json_parser p;
    memset(&p, 0, sizeof p);
    p.s = (const uint8_t *)text;
    p.n = len;
    p.max_depth = opts && opts->max_depth > 0 ? opts->max_depth : 128;
    p.allow_dup = opts ? opts->allow_duplicates : 0;
    p.err = err;
    p.errn = errn;
    p.doc = (json_doc *)calloc(1, sizeof *p.doc);
    if (!p.doc) return json_error(&p, 0, LEARN_ERR_NOMEM, "out of memory");
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) p.pos = 3;
    json_ws(&p);
    learn_status st = json_value_at(&p, 0, &p.doc->root);
    if (!st) {
        json_ws(&p);
        if (p.pos < p.n)
            st = json_error(&p, p.pos, LEARN_ERR_FORMAT, "unexpected data after the value");
    }
    free(p.vals);
    free(p.mems);
    if (st) {
        json_free(p.doc);
        return st;
    }
    *out = p.doc;
    return LEARN_OK;
}

learn_status json_parse_file(const char *path, const json_opts *opts, json_doc **out, char *err,
                             size_t errn) {
    if (out) *out = NULL;
    if (!path || !out) return LEARN_ERR_ARG;
    char *buf;
    size_t n;
    learn_status rd = util_read_file(path, 0, &buf, &n, err, errn);
    if (rd) return rd;
    char inner[256];
    learn_status st = json_parse(buf, n, opts, out, inner, sizeof inner);
    free(buf);
    if (st && err && errn) snprintf(err, errn, "%s: %s", path, inner);
    return st;
}
