/* cmd_data.c - learn-cli data: MovieLens, UniSRec or generated data (data.c) into
   items.jsonl + interactions.tsv. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data.h"

static const char data_usage[] =
    "usage: learn-cli data movielens DIR -o OUT/ [--template T] [--min-rating R]\n"
    "       learn-cli data unisrec PREFIX -o OUT/\n"
    "       learn-cli data synth -o OUT/ [--items N] [--users N] [--seed S] [--template T]\n"
    "                                     [--brand-boost B]\n"
    "\n"
    "Writes OUT/items.jsonl ({\"id\": ..., \"text\": ..., and the source's fields}) and\n"
    "OUT/interactions.tsv (user<TAB>item<TAB>timestamp), both atomically.\n"
    "  movielens   ml-latest-small's movies.csv and ratings.csv; every rating is an\n"
    "              interaction (--min-rating keeps those >= R). Default template:\n"
    "              'Title: {title}. Genres: {genres}'\n"
    "  unisrec     PREFIX.item2index, PREFIX.user2index, PREFIX.text and PREFIX.test.inter\n"
    "              (the history before each user's test item, then the item; timestamps are\n"
    "              positions)\n"
    "  synth       a demo catalog of products (title, brand, category) and users with latent\n"
    "              tastes over categories and brands (a favourite brand is B = 20 times\n"
    "              likelier); also writes OUT/tastes.jsonl. Default 600 items, 3000 users,\n"
    "              seed 1, template\n"
    "              'Title: {title}. Brand: {brand}. Category: {category}'\n";

int cmd_data(int argc, char **argv) {
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(data_usage, argc < 2 ? stderr : stdout);
        return argc < 2;
    }
    const char *kind = argv[1], *src = NULL, *out = NULL, *tmpl = NULL;
    double min_rating = -1e300;
    data_synth_opts so = {600, 3000, 1, 5, 40, 0.9, 20.0, NULL};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            fputs(data_usage, stdout);
            return 0;
        }
        if (a[0] != '-') {
            if (src) return cli_error("data", "unexpected argument '%s'", a);
            src = a;
            continue;
        }
        if (!v) return cli_error("data", "%s needs a value", a);
        i++;
        long n;
        if (strcmp(a, "-o") == 0) out = v;
        else if (strcmp(a, "--template") == 0) tmpl = v;
        else if (strcmp(a, "--min-rating") == 0) {
            char *end;
            min_rating = strtod(v, &end);
            if (end == v || *end) return cli_error("data", "--min-rating: '%s' is not a number", v);
        } else if (strcmp(a, "--items") == 0 && !cli_parse_long(v, 12, 1000000, &n)) so.n_items = (size_t)n;
        else if (strcmp(a, "--users") == 0 && !cli_parse_long(v, 1, 10000000, &n)) so.n_users = (size_t)n;
        else if (strcmp(a, "--seed") == 0 && !cli_parse_long(v, 0, 0x7fffffffL, &n)) so.seed = (uint64_t)n;
        else if (strcmp(a, "--brand-boost") == 0 && !cli_parse_long(v, 1, 1000, &n)) so.brand_boost = (double)n;
        else return cli_error("data", "bad option %s %s (see learn-cli data --help)", a, v);
    }
    if (!out) return cli_error("data", "no output directory given (-o OUT/)");
    data_counts c;
    int rc;
    if (strcmp(kind, "movielens") == 0) {
        if (!src) return cli_error("data", "movielens needs the ml-latest-small directory");
        rc = data_movielens(src, out, tmpl ? tmpl : "Title: {title}. Genres: {genres}", min_rating, &c);
    } else if (strcmp(kind, "unisrec") == 0) {
        if (!src) return cli_error("data", "unisrec needs the dataset prefix (e.g. data/Scientific/Scientific)");
        rc = data_unisrec(src, out, &c);
    } else if (strcmp(kind, "synth") == 0) {
        if (src) return cli_error("data", "synth takes no input, got '%s'", src);
        so.template_str = tmpl ? tmpl : "Title: {title}. Brand: {brand}. Category: {category}";
        if (so.n_items < data_synth_n_categories())
            return cli_error("data", "--items must be at least %zu", data_synth_n_categories());
        rc = data_synth(out, &so, &c);
    } else {
        return cli_error("data", "unknown dataset kind '%s' (movielens, unisrec, synth)", kind);
    }
    if (rc) return rc;
    fprintf(stderr, "learn-cli data %s: %s/items.jsonl: %zu items; %s/interactions.tsv: %zu interactions%s\n",
            kind, out, c.items, out, c.interactions, c.skipped ? " (some records skipped, see above)" : "");
    return 0;
}
