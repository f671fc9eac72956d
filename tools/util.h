/* util.h - what every part of the tools shares: error messages into a caller's buffer, reading
   a whole file, a random number generator and FNV-1a. It depends on learn.h alone; every other
   tool module may use it. */
#ifndef LEARN_UTIL_H
#define LEARN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "learn.h"

/* Formats a message into err (err may be NULL) and returns st, so that error paths read
   `return util_fail(err, errn, LEARN_ERR_FORMAT, "%s: ...", name);`. */
learn_status util_fail(char *err, size_t errn, learn_status st, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Reads the rest of f into a malloc'd buffer (*data, the caller frees it) with a NUL byte after
   the *size bytes read, which are at most max (0: no limit). Errors: LEARN_ERR_NOMEM,
   LEARN_ERR_IO (a read error), LEARN_ERR_TOO_LONG (more than max bytes); *data is then NULL. */
learn_status util_read_stream(FILE *f, size_t max, char **data, size_t *size);
/* The same for the file at path, with a message naming it: "PATH: <strerror>", "PATH: out of
   memory", "PATH: read error", "PATH: larger than MAX bytes". */
learn_status util_read_file(const char *path, size_t max, char **data, size_t *size, char *err,
                            size_t errn);

/* splitmix64: a fast, seedable generator for generated data and random weights (not for
   secrets). The same seed gives the same sequence on every machine. */
typedef struct util_rng {
    uint64_t state;
} util_rng;

uint64_t util_rng_next(util_rng *r);
/* Uniform in [0, 1), 53 bits. */
double util_rng_uniform(util_rng *r);
/* Approximately normal, unit variance (the sum of four 16-bit uniforms, centred and scaled). */
float util_rng_normal(util_rng *r);

/* Seconds on the monotonic clock (for intervals). */
double util_now_s(void);

/* FNV-1a (64 bits) of p[0..n), continuing from h: start from UTIL_FNV1A_BASIS. For hash tables
   and the fingerprint of an item list; not for anything an adversary chooses. */
#define UTIL_FNV1A_BASIS 0xcbf29ce484222325ull
uint64_t util_fnv1a(uint64_t h, const void *p, size_t n);

#endif
