/* learn-cli data: datasets into items.jsonl + interactions.tsv. */
#ifndef LEARN_DATA_H
#define LEARN_DATA_H

#include <stddef.h>
#include <stdint.h>

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

int cmd_data(int argc, char **argv);

#endif
