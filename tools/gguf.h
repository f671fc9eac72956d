/* gguf.h - a hardened reader of GGUF files (versions 2 and 3), for the converters.

   The file is memory-mapped (or read from memory) and validated completely at open: every
   count and size is checked against the bytes left and for overflow before anything is
   allocated, keys and tensor names must be unique, value types and ggml tensor types known,
   dimensions in range, tensors aligned and laid out back to back as llama.cpp writes them. After
   a successful open every accessor is safe. Errors name the field, the value and the allowed
   range ("tokenizer.ggml.tokens: array of 4294967296 strings, but only 17 bytes left").

       gguf_file *g;
       char err[256];
       if (gguf_open("model.gguf", &g, err, sizeof err)) { fprintf(stderr, "%s\n", err); ... }
       gguf_value v;
       if (gguf_get(g, "tokenizer.ggml.tokens", &v) == 0 && v.type == GGUF_TYPE_ARRAY) {
           for (uint64_t i = 0; i < v.count; i++) { gguf_value s; gguf_elem(&v, i, &s); ... }
       }
       gguf_close(g);

   Not thread-safe to open/close concurrently on one handle; reading an open handle from many
   threads is fine (it is immutable). Host must be little-endian (as GGUF files are). */
#ifndef LEARN_TOOLS_GGUF_H
#define LEARN_TOOLS_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "learn.h" /* learn_status */

#ifdef __cplusplus
extern "C" {
#endif

/* Metadata value types, as numbered in the file. */
typedef enum gguf_type {
    GGUF_TYPE_UINT8 = 0,
    GGUF_TYPE_INT8 = 1,
    GGUF_TYPE_UINT16 = 2,
    GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4,
    GGUF_TYPE_INT32 = 5,
    GGUF_TYPE_FLOAT32 = 6,
    GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8,
    GGUF_TYPE_ARRAY = 9,
    GGUF_TYPE_UINT64 = 10,
    GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12,
    GGUF_TYPE_COUNT
} gguf_type;

/* Limits enforced at open. */
#define GGUF_MAX_KV (1u << 20)        /* metadata entries */
#define GGUF_MAX_TENSORS (1u << 22)   /* tensors */
#define GGUF_MAX_DIMS 4
#define GGUF_MAX_NAME 256             /* bytes in a tensor name */
#define GGUF_MAX_KEY 65535            /* bytes in a key */
#define GGUF_MAX_DEPTH 8              /* nesting of arrays */

/* A metadata value, pointing into the file. */
typedef struct gguf_value {
    gguf_type type;
    gguf_type elem;        /* arrays: the element type */
    uint64_t count;        /* arrays: number of elements; strings: bytes */
    const uint8_t *data;   /* scalars: the value (little-endian); strings: the bytes (not
                              NUL-terminated); arrays: the first element */
    const uint64_t *index; /* top-level arrays of strings or arrays: byte offset of each element
                              from data (O(1) gguf_elem); NULL otherwise */
} gguf_value;

typedef struct gguf_tensor {
    const char *name;      /* NUL-terminated copy */
    uint32_t type;         /* ggml type id (see gguf_type_name) */
    uint32_t n_dims;
    uint64_t ne[GGUF_MAX_DIMS]; /* ggml order: ne[0] varies fastest; unused dims are 1 */
    uint64_t n_elements;
    uint64_t offset;       /* absolute offset in the file */
    uint64_t size;         /* bytes */
    const void *data;      /* in place */
} gguf_tensor;

typedef struct gguf_file gguf_file;

/* Opens and validates a file (mmap). On failure *out is NULL and err holds one line. */
learn_status gguf_open(const char *path, gguf_file **out, char *err, size_t errn);
/* The same over bytes in memory; they must stay valid until gguf_close. */
learn_status gguf_open_memory(const void *data, size_t size, gguf_file **out, char *err,
                              size_t errn);
void gguf_close(gguf_file *g);

uint32_t gguf_version(const gguf_file *g);
uint64_t gguf_n_kv(const gguf_file *g);
uint64_t gguf_n_tensors(const gguf_file *g);
uint32_t gguf_alignment(const gguf_file *g);

/* Entry i (0 <= i < n_kv) in file order: its NUL-terminated key and its value. */
learn_status gguf_kv(const gguf_file *g, uint64_t i, const char **key, gguf_value *value);
/* The value of `key`; LEARN_ERR_NOT_FOUND when absent. */
learn_status gguf_get(const gguf_file *g, const char *key, gguf_value *value);

/* Element j of an array value (any element type, nested arrays included). */
learn_status gguf_elem(const gguf_value *array, uint64_t j, gguf_value *out);

/* Conversions of a scalar value: integers of any width/sign (LEARN_ERR_FORMAT when the value
   does not fit), floats, bools; gguf_as_str for strings. */
learn_status gguf_as_i64(const gguf_value *v, int64_t *out);
learn_status gguf_as_u64(const gguf_value *v, uint64_t *out);
learn_status gguf_as_f64(const gguf_value *v, double *out);
learn_status gguf_as_bool(const gguf_value *v, int *out);
learn_status gguf_as_str(const gguf_value *v, const char **s, size_t *len);

/* Tensor i in file order, or by name (LEARN_ERR_NOT_FOUND). */
const gguf_tensor *gguf_tensor_at(const gguf_file *g, uint64_t i);
const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name);

/* ggml type names ("f32", "q4_K", ...) and block layout; NULL/0 for unknown ids. */
const char *gguf_type_name(uint32_t ggml_type);
uint32_t gguf_type_block_elems(uint32_t ggml_type);
uint32_t gguf_type_block_bytes(uint32_t ggml_type);
/* "uint32", "string", ... for metadata types. */
const char *gguf_value_type_name(gguf_type type);

#ifdef __cplusplus
}
#endif

#endif
