/* json.h - a strict, fast JSON (RFC 8259) DOM parser for the tools: tokenizer.json, config.json,
   safetensors headers, JSONL records.

   Strictness: the input must be well-formed UTF-8 (no overlong forms, surrogates or values
   above U+10FFFF), strings must not contain raw control characters (< 0x20), \u escapes must
   pair surrogates correctly (a lone surrogate is an error), numbers follow the JSON grammar
   (no leading zeros, no NaN/Infinity, no '+'), and nothing but white space may follow the
   value. One leading UTF-8 byte-order mark is skipped. A number whose magnitude overflows a
   double (1e999) is an error ("number out of range"); one that underflows becomes 0 or a
   subnormal. Nesting deeper than opts.max_depth (default 128) is an error. Duplicate keys in
   one object are an error unless opts.allow_duplicates is set (then json_get returns the
   first). Every error message gives the line and column: "line 3, column 17: ...".

   The document owns all values (one arena); strings are decoded (escapes resolved),
   NUL-terminated, and may contain NUL bytes written as \u0000 (their length is n).

       json_doc *doc;
       char err[256];
       if (json_parse(text, len, NULL, &doc, err, sizeof err)) { fprintf(stderr, "%s\n", err); }
       const json_value *v = json_get(json_root(doc), "model");
       ...
       json_free(doc); */
#ifndef LEARN_TOOLS_JSON_H
#define LEARN_TOOLS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "learn.h" /* learn_status */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum json_type {
    JSON_NULL = 0,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT
} json_type;

typedef struct json_value json_value;
typedef struct json_member json_member;

struct json_value {
    json_type type;
    int is_int;          /* numbers: the literal is an integer that fits in int64_t (in i) */
    size_t n;            /* string: bytes; array: elements; object: members */
    union {
        struct {
            double d;    /* every number */
            int64_t i;   /* when is_int */
        } num;
        const char *str;        /* NUL-terminated */
        json_value *items;      /* array elements */
        json_member *members;   /* object members, in file order */
    } u;
};

struct json_member {
    const char *key; /* NUL-terminated */
    size_t key_len;
    json_value value;
};

typedef struct json_opts {
    int max_depth;        /* 0: 128 */
    int allow_duplicates; /* 0: duplicate keys are an error */
} json_opts;

typedef struct json_doc json_doc;

/* Parses len bytes of text (no NUL needed). opts may be NULL. */
learn_status json_parse(const char *text, size_t len, const json_opts *opts, json_doc **doc,
                        char *err, size_t errn);
/* Reads and parses a file; messages start with the path. */
learn_status json_parse_file(const char *path, const json_opts *opts, json_doc **doc, char *err,
                             size_t errn);
void json_free(json_doc *doc);

const json_value *json_root(const json_doc *doc);

/* Member `key` of an object (the first one), or NULL (also when v is not an object). O(n). */
const json_value *json_get(const json_value *v, const char *key);
/* Element i of an array, or NULL. */
const json_value *json_at(const json_value *v, size_t i);
/* The string of a string value (or NULL), its length in *len (may be NULL). */
const char *json_str(const json_value *v, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
