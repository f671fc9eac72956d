/* learn-cli data: datasets into items.jsonl + interactions.tsv. */
#ifndef LEARN_DATA_H
#define LEARN_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct data_counts {
    size_t items, interactions, skipped;
} data_counts;

typedef struct data_synth_opts {
    size_t n_items, n_users;
    uint64_t seed;
    size_t min_len, max_len; /* interactions per user */
    double focus;            /* share of interactions in the user's favourite categories */
    double brand_boost;      /* how much more likely the user's favourite brands are */
    const char *template_str;
} data_synth_opts;

/* Each returns 0, or prints "learn-cli data ...: reason" and returns non-zero. */
int data_movielens(const char *dir, const char *out_dir, const char *tmpl, double min_rating,
                   data_counts *counts);
int data_unisrec(const char *prefix, const char *out_dir, data_counts *counts);
int data_synth(const char *out_dir, const data_synth_opts *opts, data_counts *counts);

/* Reads CSV (RFC 4180: quoted fields, doubled quotes, CRLF, a UTF-8 BOM) record by record,
   calling fn with the record's fields (NUL-terminated) and the line it starts on. Returns 0 at
   the end, fn's value when that is non-zero, or -1 on malformed input (err names the line). */
int data_csv_each(FILE *f, int (*fn)(void *ud, char *const *fields, size_t n_fields, long line),
                  void *ud, char *err, size_t errn);

/* The k-th product noun of a generated category ("Dive Watch" for "Watches"), or NULL. */
const char *data_synth_noun(const char *category, size_t k);
/* The number of generated categories: data_synth needs at least that many items. */
size_t data_synth_n_categories(void);

#endif
