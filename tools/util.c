/* util.c - see util.h. */
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

learn_status util_fail(char *err, size_t errn, learn_status st, const char *fmt, ...) {
    if (err && errn) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errn, fmt, ap);
        va_end(ap);
    }
    return st;
}

learn_status util_read_stream(FILE *f, size_t max, char **data, size_t *size) {
    *data = NULL;
    *size = 0;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 2) { /* room for a byte more and the NUL */
            if (max && n > max) {
                free(buf);
                return LEARN_ERR_TOO_LONG;
            }
            size_t nc = cap ? cap * 2 : 1u << 16;
            if (max && nc > max + 2) nc = max + 2; /* enough to see that there is more */
            if (nc <= cap) {
                free(buf);
                return LEARN_ERR_NOMEM;
            }
            char *p = (char *)realloc(buf, nc);
            if (!p) {
                free(buf);
                return LEARN_ERR_NOMEM;
            }
            buf = p;
            cap = nc;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    if (ferror(f)) {
        free(buf);
        return LEARN_ERR_IO;
    }
    if (max && n > max) {
        free(buf);
        return LEARN_ERR_TOO_LONG;
    }
    buf[n] = 0;
    *data = buf;
    *size = n;
    return LEARN_OK;
}

learn_status util_read_file(const char *path, size_t max, char **data, size_t *size, char *err,
                            size_t errn) {
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return util_fail(err, errn, LEARN_ERR_IO, "%s: %s", path, strerror(errno));
    learn_status st = util_read_stream(f, max, data, size);
    fclose(f);
    switch (st) {
    case LEARN_OK: return st;
    case LEARN_ERR_NOMEM: return util_fail(err, errn, st, "%s: out of memory", path);
    case LEARN_ERR_TOO_LONG: return util_fail(err, errn, st, "%s: larger than %zu bytes", path, max);
    default: return util_fail(err, errn, st, "%s: read error", path);
    }
}

uint64_t util_rng_next(util_rng *r) {
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double util_rng_uniform(util_rng *r) { return (double)(util_rng_next(r) >> 11) * 0x1p-53; }

float util_rng_normal(util_rng *r) {
    uint64_t x = util_rng_next(r);
    float s = 0.0f;
    for (int i = 0; i < 4; i++, x >>= 16) s += (float)(x & 0xffff) * (1.0f / 65536.0f);
    return (s - 2.0f) * 1.7320508f;
}

uint64_t util_fnv1a(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

double util_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
