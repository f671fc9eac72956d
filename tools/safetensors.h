/* safetensors.h - a hardened reader of Hugging Face .safetensors files (tools only).

   Format: u64 little-endian N, then N bytes of JSON (UTF-8, may be padded with spaces): an
   object mapping tensor names to {"dtype": "F32", "shape": [d0, ...], "data_offsets": [begin,
   end]} plus an optional "__metadata__" object of string values; then the data, offsets
   relative to the end of the header. Row-major, little-endian.

   Everything is checked before use: the header length against the file and a cap
   (SAFETENSORS_MAX_HEADER), the JSON (depth, escapes, UTF-8, duplicate keys), every count
   (tensors <= SAFETENSORS_MAX_TENSORS, dims <= SAFETENSORS_MAX_DIMS), each shape product
   against overflow, each tensor's byte size against its dtype and shape, offsets within the
   data and non-overlapping. Messages name the tensor and the field.

   Dtypes read: F32, F16, BF16 (converted to float by safetensors_read_f32); F64, I8, U8, I16,
   I32, I64, BOOL and the F8 types are parsed and listed, but not converted. */
#ifndef LEARN_SAFETENSORS_H
#define LEARN_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "learn.h"

#define SAFETENSORS_MAX_HEADER (100u << 20) /* bytes of JSON (the format's own limit) */
#define SAFETENSORS_MAX_TENSORS (1u << 20)
#define SAFETENSORS_MAX_DIMS 8

typedef enum safetensors_dtype {
    SAFETENSORS_F32, SAFETENSORS_F16, SAFETENSORS_BF16, SAFETENSORS_F64,
    SAFETENSORS_I8, SAFETENSORS_U8, SAFETENSORS_I16, SAFETENSORS_I32, SAFETENSORS_I64,
    SAFETENSORS_BOOL, SAFETENSORS_F8_E4M3, SAFETENSORS_F8_E5M2,
    SAFETENSORS_DTYPE_COUNT
} safetensors_dtype;

typedef struct safetensors_tensor {
    const char *name;                     /* NUL-terminated, unescaped */
    safetensors_dtype dtype;
    uint32_t n_dims;                      /* 0 for a scalar */
    uint64_t shape[SAFETENSORS_MAX_DIMS];
    uint64_t n_elements;
    uint64_t size;                        /* bytes */
    const uint8_t *data;                  /* in the mapped file */
} safetensors_tensor;

typedef struct safetensors_file safetensors_file;

/* Opens and validates a file (memory-mapped, or read when mapping fails). On failure *out is
   NULL and err receives "PATH: reason". */
learn_status safetensors_open(const char *path, safetensors_file **out, char *err, size_t errn);
/* The same over bytes in memory, used in place (they must outlive the handle). */
learn_status safetensors_open_memory(const void *data, size_t size, safetensors_file **out,
                                     char *err, size_t errn);
void safetensors_close(safetensors_file *f);

size_t safetensors_count(const safetensors_file *f);
/* Tensor i in header order; NULL when out of range. */
const safetensors_tensor *safetensors_get(const safetensors_file *f, size_t i);
/* By name; NULL when absent. */
const safetensors_tensor *safetensors_find(const safetensors_file *f, const char *name);
/* A "__metadata__" value; NULL when absent. */
const char *safetensors_metadata(const safetensors_file *f, const char *key);

/* "F32", "BF16", ... */
const char *safetensors_dtype_name(safetensors_dtype dtype);

/* Converts a F32/F16/BF16 tensor to n_elements floats. LEARN_ERR_UNSUPPORTED for other
   dtypes (message in err). */
learn_status safetensors_read_f32(const safetensors_tensor *t, float *out, char *err, size_t errn);

#endif
