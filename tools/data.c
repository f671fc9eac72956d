/* learn-cli data: datasets into learn's plain formats.

   Every adapter writes OUT/items.jsonl (one {"id": ..., "text": ..., fields...} per line) and
   OUT/interactions.tsv (user<TAB>item<TAB>timestamp per line), atomically.
     movielens DIR     ml-latest-small: movies.csv + ratings.csv
     unisrec PREFIX    UniSRec/RecFormer Amazon files: PREFIX.text, .item2index, .user2index,
                       .test.inter (each user's history before the test item, then the item)
     synth             a generated catalog of products and users with latent tastes */
#define _POSIX_C_SOURCE 200809L
#include "data.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

/* ---- Growable strings and string tables ---- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static int sbuf_put(sbuf *s, const char *p, size_t n) {
    if (s->n + n + 1 > s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        while (nc < s->n + n + 1) nc *= 2;
        char *q = (char *)realloc(s->p, nc);
        if (!q) return -1;
        s->p = q;
        s->cap = nc;
    }
    memcpy(s->p + s->n, p, n);
    s->n += n;
    s->p[s->n] = 0;
    return 0;
}

/* A string -> int map (open addressing, FNV-1a). Keys are copied. */
typedef struct strmap {
    char **keys;
    long *vals;
    size_t cap, n;
} strmap;

static void strmap_free(strmap *m) {
    for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static long *strmap_slot(strmap *m, const char *k, size_t n, int insert);

static int strmap_grow(strmap *m) {
    strmap g = {NULL, NULL, m->cap ? m->cap * 2 : 1024, 0};
    g.keys = (char **)calloc(g.cap, sizeof *g.keys);
    g.vals = (long *)calloc(g.cap, sizeof *g.vals);
    if (!g.keys || !g.vals) {
        free(g.keys);
        free(g.vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            size_t h = (size_t)util_fnv1a(UTIL_FNV1A_BASIS, m->keys[i], strlen(m->keys[i])) & (g.cap - 1);
            while (g.keys[h]) h = (h + 1) & (g.cap - 1);
            g.keys[h] = m->keys[i];
            g.vals[h] = m->vals[i];
            g.n++;
        }
    free(m->keys);
    free(m->vals);
    *m = g;
    return 0;
}

/* The value slot of key k[0..n); NULL when absent (insert = 0) or out of memory. */
static long *strmap_slot(strmap *m, const char *k, size_t n, int insert) {
    if (insert && (m->n + 1) * 2 > m->cap && strmap_grow(m)) return NULL;
    if (!m->cap) return NULL;
    size_t h = (size_t)util_fnv1a(UTIL_FNV1A_BASIS, k, n) & (m->cap - 1);
    while (m->keys[h]) {
        if (strlen(m->keys[h]) == n && memcmp(m->keys[h], k, n) == 0) return &m->vals[h];
        h = (h + 1) & (m->cap - 1);
    }
    if (!insert) return NULL;
    m->keys[h] = (char *)malloc(n + 1);
    if (!m->keys[h]) return NULL;
    memcpy(m->keys[h], k, n);
    m->keys[h][n] = 0;
    m->vals[h] = -1;
    m->n++;
    return &m->vals[h];
}

/* ---- CSV (RFC 4180: quoted fields, doubled quotes, CRLF, a UTF-8 BOM) ---- */

typedef struct csv {
    FILE *f;
    long line;      /* line where the current record starts */
    long next_line;
    sbuf field;
    char **fields;  /* pointers into `buf` */
    size_t n_fields, cap_fields;
    sbuf buf;
    int bom_checked;
} csv;

/* Reads one record; returns 1 on a record, 0 at the end, -1 on an error (message in err). */
static int csv_next(csv *c, char *err, size_t errn) {
    c->buf.n = 0;
    c->n_fields = 0;
    c->line = c->next_line;
    size_t starts[4096];
    size_t n = 0;
    int ch, in_quotes = 0, any = 0;
    if (!c->bom_checked) {
        c->bom_checked = 1;
        int a = fgetc(c->f), b = a == 0xEF ? fgetc(c->f) : EOF, d = b == 0xBB ? fgetc(c->f) : EOF;
        if (!(a == 0xEF && b == 0xBB && d == 0xBF)) {
            if (d != EOF) ungetc(d, c->f);
            if (b != EOF && a == 0xEF) {
                /* Not a BOM after all: this cannot be undone portably for two bytes. */
                snprintf(err, errn, "line %ld: invalid UTF-8 at the start of the file", c->line);
                return -1;
            }
            if (a != EOF) ungetc(a, c->f);
        }
    }
    starts[n++] = 0;
    for (;;) {
        ch = fgetc(c->f);
        if (ch == EOF) {
            if (in_quotes) {
                snprintf(err, errn, "line %ld: a quoted field is not closed", c->line);
                return -1;
            }
            if (!any) return 0;
            break;
        }
        any = 1;
        if (ch == 0) {
            snprintf(err, errn, "line %ld: NUL byte", c->next_line);
            return -1;
        }
        if (in_quotes) {
            if (ch == '"') {
                int nx = fgetc(c->f);
                if (nx == '"') {
                    if (sbuf_put(&c->buf, "\"", 1)) goto nomem;
                } else {
                    in_quotes = 0;
                    if (nx != EOF) ungetc(nx, c->f);
                }
            } else {
                if (ch == '\n') c->next_line++;
                char cc = (char)ch;
                if (sbuf_put(&c->buf, &cc, 1)) goto nomem;
            }
            continue;
        }
        if (ch == '"') {
            in_quotes = 1;
        } else if (ch == ',') {
            if (sbuf_put(&c->buf, "", 1) || n >= 4096) goto nomem; /* NUL separator */
            c->buf.n++;
            starts[n++] = c->buf.n;
        } else if (ch == '\n') {
            c->next_line++;
            break;
        } else if (ch != '\r') {
            char cc = (char)ch;
            if (sbuf_put(&c->buf, &cc, 1)) goto nomem;
        }
    }
    if (sbuf_put(&c->buf, "", 1)) goto nomem;
    if (n > c->cap_fields) {
        char **p = (char **)realloc(c->fields, n * sizeof *p);
        if (!p) goto nomem;
        c->fields = p;
        c->cap_fields = n;
    }
    for (size_t i = 0; i < n; i++) c->fields[i] = c->buf.p + starts[i];
    c->n_fields = n;
    return 1;
nomem:
    snprintf(err, errn, "line %ld: out of memory", c->line);
    return -1;
}

int data_csv_each(FILE *f, int (*fn)(void *ud, char *const *fields, size_t n_fields, long line),
                  void *ud, char *err, size_t errn) {
    csv c;
    memset(&c, 0, sizeof c);
    c.f = f;
    c.next_line = 1;
    int r, rc = 0;
    while ((r = csv_next(&c, err, errn)) == 1)
        if ((rc = fn(ud, c.fields, c.n_fields, c.line)) != 0) break;
    if (r < 0) rc = -1;
    free(c.buf.p);
    free(c.field.p);
    free(c.fields);
    return rc;
}

/* ---- Output ---- */

static void json_kv(FILE *f, const char *key, const char *val) {
    fprintf(f, ", ");
    cli_json_string(f, key, strlen(key));
    fprintf(f, ": ");
    cli_json_string(f, val, strlen(val));
}

/* Renders a template with {field} placeholders from parallel key/value arrays into out. */
static int render(sbuf *out, const char *tmpl, const char *const *keys, const char *const *vals,
                  size_t n) {
    out->n = 0;
    if (sbuf_put(out, "", 0)) return -1;
    for (const char *p = tmpl; *p;) {
        const char *open = strchr(p, '{'), *close = open ? strchr(open, '}') : NULL;
        if (!open || !close) {
            if (sbuf_put(out, p, strlen(p))) return -1;
            break;
        }
        if (sbuf_put(out, p, (size_t)(open - p))) return -1;
        size_t kl = (size_t)(close - open - 1);
        size_t i = 0;
        while (i < n && !(strlen(keys[i]) == kl && memcmp(keys[i], open + 1, kl) == 0)) i++;
        if (i == n) {
            if (sbuf_put(out, open, (size_t)(close - open + 1))) return -1;
        } else if (sbuf_put(out, vals[i], strlen(vals[i]))) {
            return -1;
        }
        p = close + 1;
    }
    return 0;
}

/* ---- MovieLens ---- */

typedef struct data_paths {
    cli_out items, inter;
} data_paths;

static int open_outputs(data_paths *o, const char *cmd, const char *dir) {
    if (cli_mkdirs(dir)) return cli_error(cmd, "%s: cannot create the directory: %s", dir, strerror(errno));
    char p[4096];
    snprintf(p, sizeof p, "%s/items.jsonl", dir);
    if (cli_out_open(&o->items, cmd, p)) return 1;
    snprintf(p, sizeof p, "%s/interactions.tsv", dir);
    if (cli_out_open(&o->inter, cmd, p)) {
        cli_out_abort(&o->items);
        return 1;
    }
    return 0;
}

static int commit_outputs(data_paths *o, const char *cmd) {
    if (cli_out_commit(&o->items, cmd)) {
        cli_out_abort(&o->inter);
        return 1;
    }
    return cli_out_commit(&o->inter, cmd);
}

static void abort_outputs(data_paths *o) {
    cli_out_abort(&o->items);
    cli_out_abort(&o->inter);
}

int data_movielens(const char *dir, const char *out_dir, const char *tmpl, double min_rating,
                   data_counts *counts) {
    const char *cmd = "data movielens";
    char path[4096], err[512];
    memset(counts, 0, sizeof *counts);
    snprintf(path, sizeof path, "%s/movies.csv", dir);
    FILE *mf = fopen(path, "rb");
    if (!mf) return cli_error(cmd, "%s: %s", path, strerror(errno));
    snprintf(path, sizeof path, "%s/ratings.csv", dir);
    FILE *rf = fopen(path, "rb");
    if (!rf) {
        fclose(mf);
        return cli_error(cmd, "%s: %s", path, strerror(errno));
    }
    data_paths o;
    if (open_outputs(&o, cmd, out_dir)) {
        fclose(mf);
        fclose(rf);
        return 1;
    }
    csv c;
    memset(&c, 0, sizeof c);
    c.next_line = 1;
    sbuf text = {NULL, 0, 0}, genres = {NULL, 0, 0};
    int rc = 1, r;
    /* movies.csv: movieId,title,genres */
    c.f = mf;
    if ((r = csv_next(&c, err, sizeof err)) != 1 || c.n_fields != 3 || strcmp(c.fields[0], "movieId")) {
        cli_error(cmd, "%s/movies.csv: %s", dir, r < 0 ? err : "line 1: expected the header movieId,title,genres");
        goto out;
    }
    while ((r = csv_next(&c, err, sizeof err)) == 1) {
        if (c.n_fields != 3) {
            cli_error(cmd, "%s/movies.csv: line %ld: %zu columns, expected 3", dir, c.line, c.n_fields);
            goto out;
        }
        /* "Adventure|Animation" reads better as "Adventure, Animation". */
        genres.n = 0;
        sbuf_put(&genres, "", 0);
        for (const char *g = c.fields[2]; *g; g++)
            if (*g == '|') sbuf_put(&genres, ", ", 2);
            else sbuf_put(&genres, g, 1);
        const char *keys[3] = {"id", "title", "genres"};
        const char *vals[3] = {c.fields[0], c.fields[1], genres.p};
        if (render(&text, tmpl, keys, vals, 3)) goto nomem;
        fprintf(o.items.f, "{\"id\": ");
        cli_json_string(o.items.f, c.fields[0], strlen(c.fields[0]));
        json_kv(o.items.f, "text", text.p);
        json_kv(o.items.f, "title", c.fields[1]);
        json_kv(o.items.f, "genres", genres.p);
        fprintf(o.items.f, "}\n");
        counts->items++;
    }
    if (r < 0) {
        cli_error(cmd, "%s/movies.csv: %s", dir, err);
        goto out;
    }
    /* ratings.csv: userId,movieId,rating,timestamp */
    c.f = rf;
    c.next_line = 1;
    c.bom_checked = 0;
    if ((r = csv_next(&c, err, sizeof err)) != 1 || c.n_fields != 4 || strcmp(c.fields[0], "userId")) {
        cli_error(cmd, "%s/ratings.csv: %s", dir, r < 0 ? err : "line 1: expected the header userId,movieId,rating,timestamp");
        goto out;
    }
    while ((r = csv_next(&c, err, sizeof err)) == 1) {
        if (c.n_fields != 4) {
            cli_error(cmd, "%s/ratings.csv: line %ld: %zu columns, expected 4", dir, c.line, c.n_fields);
            goto out;
        }
        char *end;
        double rating = strtod(c.fields[2], &end);
        if (end == c.fields[2] || *end) {
            cli_error(cmd, "%s/ratings.csv: line %ld: rating '%s' is not a number", dir, c.line, c.fields[2]);
            goto out;
        }
        if (rating < min_rating) {
            counts->skipped++;
            continue;
        }
        fprintf(o.inter.f, "%s\t%s\t%s\n", c.fields[0], c.fields[1], c.fields[3]);
        counts->interactions++;
    }
    if (r < 0) {
        cli_error(cmd, "%s/ratings.csv: %s", dir, err);
        goto out;
    }
    rc = commit_outputs(&o, cmd);
    goto done;
nomem:
    cli_error(cmd, "out of memory");
out:
    abort_outputs(&o);
done:
    fclose(mf);
    fclose(rf);
    free(c.buf.p);
    free(c.field.p);
    free(c.fields);
    free(text.p);
    free(genres.p);
    return rc;
}

/* ---- UniSRec ---- */

/* Reads "a<TAB>b" lines (skipping a RecBole header "...:token..."), calling fn for each. */
static int read_tsv2(const char *path, int (*fn)(void *, const char *, const char *, long), void *ud,
                     const char *cmd) {
    FILE *f = fopen(path, "rb");
    if (!f) return cli_error(cmd, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    long no = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        no++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0) continue;
        if (memchr(line, 0, (size_t)len)) {
            rc = cli_error(cmd, "%s: line %ld: NUL byte", path, no);
            break;
        }
        char *tab = strchr(line, '\t');
        if (!tab) {
            rc = cli_error(cmd, "%s: line %ld: expected two tab-separated columns", path, no);
            break;
        }
        *tab = 0;
        if (no == 1 && strstr(line, ":token")) continue; /* header */
        if ((rc = fn(ud, line, tab + 1, no))) {
            rc = cli_error(cmd, "%s: line %ld: %s", path, no, rc == 2 ? "duplicate key" : "bad value");
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

typedef struct uni_state {
    strmap raw2idx;   /* raw item id -> index */
    char **idx2raw;   /* index -> raw item id */
    char **text;      /* index -> text */
    size_t n_items;
    char **user_raw;  /* user index -> raw id */
    size_t n_users;
} uni_state;

static int parse_index(const char *s, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 100000000) return -1;
    *out = v;
    return 0;
}

/* Grows a char* array to hold index i. */
static int ensure_slot(char ***arr, size_t *n, long i) {
    if ((size_t)i < *n) return 0;
    size_t nn = (size_t)i + 1;
    char **p = (char **)realloc(*arr, nn * sizeof *p);
    if (!p) return -1;
    memset(p + *n, 0, (nn - *n) * sizeof *p);
    *arr = p;
    *n = nn;
    return 0;
}

static int uni_item2index(void *ud, const char *raw, const char *idx, long no) {
    (void)no;
    uni_state *u = (uni_state *)ud;
    long i;
    if (parse_index(idx, &i)) return 1;
    long *slot = strmap_slot(&u->raw2idx, raw, strlen(raw), 1);
    if (!slot || *slot >= 0) return slot ? 2 : 1;
    *slot = i;
    if (ensure_slot(&u->idx2raw, &u->n_items, i)) return 1;
    if (u->idx2raw[i]) return 2;
    u->idx2raw[i] = strdup(raw);
    return u->idx2raw[i] ? 0 : 1;
}

static int uni_text(void *ud, const char *key, const char *text, long no) {
    (void)no;
    uni_state *u = (uni_state *)ud;
    long *slot = strmap_slot(&u->raw2idx, key, strlen(key), 0);
    long i;
    if (slot) i = *slot;
    else if (parse_index(key, &i) || (size_t)i >= u->n_items) return 1; /* keyed by index */
    if (u->text[i]) return 2;
    u->text[i] = strdup(text);
    return u->text[i] ? 0 : 1;
}

static int uni_user2index(void *ud, const char *raw, const char *idx, long no) {
    (void)no;
    uni_state *u = (uni_state *)ud;
    long i;
    if (parse_index(idx, &i)) return 1;
    if (ensure_slot(&u->user_raw, &u->n_users, i) || u->user_raw[i]) return u->user_raw[i] ? 2 : 1;
    u->user_raw[i] = strdup(raw);
    return u->user_raw[i] ? 0 : 1;
}

int data_unisrec(const char *prefix, const char *out_dir, data_counts *counts) {
    const char *cmd = "data unisrec";
    char path[4096];
    memset(counts, 0, sizeof *counts);
    uni_state u;
    memset(&u, 0, sizeof u);
    int rc = 1;
    data_paths o;
    int opened = 0;
    FILE *tf = NULL;
    char *line = NULL;
    size_t cap = 0;
    snprintf(path, sizeof path, "%s.item2index", prefix);
    if (read_tsv2(path, uni_item2index, &u, cmd)) goto out;
    u.text = (char **)calloc(u.n_items ? u.n_items : 1, sizeof *u.text);
    if (!u.text) goto out;
    snprintf(path, sizeof path, "%s.text", prefix);
    if (read_tsv2(path, uni_text, &u, cmd)) goto out;
    snprintf(path, sizeof path, "%s.user2index", prefix);
    if (read_tsv2(path, uni_user2index, &u, cmd)) goto out;
    if (open_outputs(&o, cmd, out_dir)) goto out;
    opened = 1;
    for (size_t i = 0; i < u.n_items; i++) {
        if (!u.idx2raw[i]) continue; /* an index no raw id maps to */
        if (!u.text[i]) {
            counts->skipped++;
            fprintf(stderr, "learn-cli %s: item %s has no text; written with an empty text\n", cmd, u.idx2raw[i]);
        }
        fprintf(o.items.f, "{\"id\": ");
        cli_json_string(o.items.f, u.idx2raw[i], strlen(u.idx2raw[i]));
        json_kv(o.items.f, "text", u.text[i] ? u.text[i] : "");
        fprintf(o.items.f, "}\n");
        counts->items++;
    }
    /* PREFIX.test.inter: user_index<TAB>history indices (space separated)<TAB>test item index */
    snprintf(path, sizeof path, "%s.test.inter", prefix);
    tf = fopen(path, "rb");
    if (!tf) {
        cli_error(cmd, "%s: %s", path, strerror(errno));
        goto out;
    }
    long no = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, tf)) >= 0) {
        no++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0 || (no == 1 && strstr(line, ":token"))) continue;
        char *c1 = strchr(line, '\t'), *c2 = c1 ? strchr(c1 + 1, '\t') : NULL;
        if (!c2 || strchr(c2 + 1, '\t')) {
            cli_error(cmd, "%s: line %ld: expected 3 tab-separated columns", path, no);
            goto out;
        }
        *c1 = *c2 = 0;
        long user, item;
        if (parse_index(line, &user) || (size_t)user >= u.n_users || !u.user_raw[user]) {
            cli_error(cmd, "%s: line %ld: user '%s' is not in %s.user2index", path, no, line, prefix);
            goto out;
        }
        long t = 0;
        for (char *tok = strtok(c1 + 1, " "); ; tok = strtok(NULL, " ")) {
            const char *s = tok ? tok : c2 + 1; /* the history, then the test item */
            if (parse_index(s, &item) || (size_t)item >= u.n_items || !u.idx2raw[item]) {
                cli_error(cmd, "%s: line %ld: item '%s' is not in %s.item2index", path, no, s, prefix);
                goto out;
            }
            fprintf(o.inter.f, "%s\t%s\t%ld\n", u.user_raw[user], u.idx2raw[item], t++);
            counts->interactions++;
            if (!tok) break;
        }
    }
    rc = commit_outputs(&o, cmd);
    opened = 0;
out:
    if (opened) abort_outputs(&o);
    if (tf) fclose(tf);
    free(line);
    for (size_t i = 0; i < u.n_items; i++) {
        free(u.idx2raw[i]);
        if (u.text) free(u.text[i]);
    }
    for (size_t i = 0; i < u.n_users; i++) free(u.user_raw[i]);
    free(u.idx2raw);
    free(u.text);
    free(u.user_raw);
    strmap_free(&u.raw2idx);
    return rc;
}

/* ---- Synthetic data: products, and users with latent tastes ---- */

static const struct {
    const char *name;
    const char *nouns[4];
} synth_categories[] = {
    {"Headphones", {"Wireless Headphones", "Noise Cancelling Headphones", "Earbuds", "Studio Headphones"}},
    {"Running Shoes", {"Running Shoes", "Trail Runners", "Racing Flats", "Road Running Shoes"}},
    {"Coffee Makers", {"Espresso Machine", "Drip Coffee Maker", "Pour Over Kettle", "French Press"}},
    {"Board Games", {"Strategy Board Game", "Cooperative Board Game", "Party Game", "Card Game"}},
    {"Science Fiction Books", {"Space Opera Novel", "Cyberpunk Novel", "Time Travel Novel", "Robot Anthology"}},
    {"Yoga", {"Yoga Mat", "Yoga Block Set", "Meditation Cushion", "Yoga Strap"}},
    {"Keyboards", {"Mechanical Keyboard", "Wireless Keyboard", "Keycap Set", "Gaming Keyboard"}},
    {"Tea", {"Green Tea", "Oolong Tea", "Herbal Tea Sampler", "Matcha Powder"}},
    {"Camping", {"Camping Tent", "Sleeping Bag", "Camp Stove", "Hiking Backpack"}},
    {"Watches", {"Dive Watch", "Field Watch", "Smart Watch", "Chronograph Watch"}},
    {"Skincare", {"Face Moisturizer", "Sunscreen Lotion", "Cleansing Gel", "Night Cream"}},
    {"Guitars", {"Acoustic Guitar", "Electric Guitar", "Guitar Strings", "Travel Guitar"}},
};
#define SYNTH_N_CAT (sizeof synth_categories / sizeof synth_categories[0])

static const char *const synth_brands[] = {
    "Acme", "Borealis", "Corvid", "Dunmore", "Everly", "Fathom", "Gallant", "Halcyon",
    "Ironwood", "Juniper", "Kestrel", "Lumen", "Meridian", "Northwind", "Orchid", "Pinnacle",
    "Quarry", "Redline", "Solstice", "Tamarack", "Umber", "Vantage", "Willow", "Zephyr",
};
#define SYNTH_N_BRAND (sizeof synth_brands / sizeof synth_brands[0])

static const char *const synth_adjectives[] = {"Classic", "Pro", "Lightweight", "Deluxe", "Compact",
                                               "Premium", "Everyday", "Ultra", "Essential", "Signature"};
static const char *const synth_variants[] = {"Charcoal Gray", "Ocean Blue", "Forest Green", "Crimson",
                                             "Ivory", "Midnight Black", "Sand", "Copper"};

static size_t synth_pick(util_rng *r, size_t n) { return (size_t)(util_rng_uniform(r) * (double)n); }

size_t data_synth_n_categories(void) { return SYNTH_N_CAT; }

const char *data_synth_noun(const char *category, size_t k) {
    for (size_t c = 0; c < SYNTH_N_CAT; c++)
        if (strcmp(synth_categories[c].name, category) == 0) return synth_categories[c].nouns[k % 4];
    return NULL;
}

/* Which brands make which categories: each brand covers 3 categories. */
static int synth_brand_makes(size_t b, size_t c) {
    return c == b % SYNTH_N_CAT || c == (b * 5 + 3) % SYNTH_N_CAT || c == (b * 7 + 1) % SYNTH_N_CAT;
}

int data_synth(const char *out_dir, const data_synth_opts *opt, data_counts *counts) {
    const char *cmd = "data synth";
    memset(counts, 0, sizeof *counts);
    util_rng r = {opt->seed};
    size_t n_items = opt->n_items;
    size_t *cat = (size_t *)calloc(n_items, sizeof *cat), *brand = (size_t *)calloc(n_items, sizeof *brand);
    double *pop = (double *)calloc(n_items, sizeof *pop), *w = (double *)calloc(n_items, sizeof *w);
    uint8_t *used = (uint8_t *)calloc(n_items, 1);
    if (!cat || !brand || !pop || !w || !used) {
        free(cat), free(brand), free(pop), free(w), free(used);
        return cli_error(cmd, "out of memory");
    }
    data_paths o;
    cli_out tastes;
    if (open_outputs(&o, cmd, out_dir)) {
        free(cat), free(brand), free(pop), free(w), free(used);
        return 1;
    }
    char tpath[4096];
    snprintf(tpath, sizeof tpath, "%s/tastes.jsonl", out_dir);
    if (cli_out_open(&tastes, cmd, tpath)) {
        abort_outputs(&o);
        free(cat), free(brand), free(pop), free(w), free(used);
        return 1;
    }
    sbuf title = {NULL, 0, 0}, text = {NULL, 0, 0};
    for (size_t i = 0; i < n_items; i++) {
        size_t c = i % SYNTH_N_CAT, b;
        do b = synth_pick(&r, SYNTH_N_BRAND); while (!synth_brand_makes(b, c));
        cat[i] = c;
        brand[i] = b;
        pop[i] = 1.0 / (1.0 + (double)synth_pick(&r, 50)); /* a Zipf-like popularity */
        char t[256];
        snprintf(t, sizeof t, "%s %s %s - %s", synth_brands[b],
                 synth_adjectives[synth_pick(&r, sizeof synth_adjectives / sizeof *synth_adjectives)],
                 synth_categories[c].nouns[synth_pick(&r, 4)],
                 synth_variants[synth_pick(&r, sizeof synth_variants / sizeof *synth_variants)]);
        char id[32];
        snprintf(id, sizeof id, "P%05zu", i + 1);
        const char *keys[3] = {"title", "brand", "category"};
        const char *vals[3] = {t, synth_brands[b], synth_categories[c].name};
        if (render(&text, opt->template_str, keys, vals, 3)) goto nomem;
        fprintf(o.items.f, "{\"id\": \"%s\"", id);
        json_kv(o.items.f, "text", text.p);
        json_kv(o.items.f, "title", t);
        json_kv(o.items.f, "brand", synth_brands[b]);
        json_kv(o.items.f, "category", synth_categories[c].name);
        fprintf(o.items.f, "}\n");
        counts->items++;
    }
    for (size_t u = 0; u < opt->n_users; u++) {
        /* Tastes: one or two categories, and two brands that make the first one. */
        size_t c0 = synth_pick(&r, SYNTH_N_CAT), c1 = util_rng_uniform(&r) < 0.5 ? synth_pick(&r, SYNTH_N_CAT) : c0;
        size_t fav[2];
        for (int k = 0; k < 2; k++)
            do fav[k] = synth_pick(&r, SYNTH_N_BRAND); while (!synth_brand_makes(fav[k], k ? c1 : c0));
        fprintf(tastes.f, "{\"user\": \"U%05zu\", \"categories\": [\"%s\"", u + 1, synth_categories[c0].name);
        if (c1 != c0) fprintf(tastes.f, ", \"%s\"", synth_categories[c1].name);
        fprintf(tastes.f, "], \"brands\": [\"%s\"", synth_brands[fav[0]]);
        if (fav[1] != fav[0]) fprintf(tastes.f, ", \"%s\"", synth_brands[fav[1]]);
        fprintf(tastes.f, "]}\n");
        size_t len = opt->min_len + synth_pick(&r, opt->max_len - opt->min_len + 1);
        memset(used, 0, n_items);
        for (size_t t = 0; t < len; t++) {
            /* Mostly the favourite categories; favourite brands much more likely. */
            double x = util_rng_uniform(&r);
            int any_cat = x >= opt->focus;
            size_t want_c = x < opt->focus * 0.65 ? c0 : c1;
            double total = 0;
            for (size_t i = 0; i < n_items; i++) {
                w[i] = 0;
                if (used[i] || (!any_cat && cat[i] != want_c)) continue;
                w[i] = pop[i] * ((brand[i] == fav[0] || brand[i] == fav[1]) ? opt->brand_boost : 1.0);
                total += w[i];
            }
            if (total <= 0) break;
            double pick = util_rng_uniform(&r) * total;
            size_t i = 0;
            for (; i + 1 < n_items; i++) {
                pick -= w[i];
                if (pick < 0 && w[i] > 0) break;
            }
            used[i] = 1;
            fprintf(o.inter.f, "U%05zu\tP%05zu\t%zu\n", u + 1, i + 1, 1700000000 + u * 1000 + t * 10);
            counts->interactions++;
        }
    }
    free(title.p);
    free(text.p);
    free(cat), free(brand), free(pop), free(w), free(used);
    if (cli_out_commit(&tastes, cmd)) {
        abort_outputs(&o);
        return 1;
    }
    return commit_outputs(&o, cmd);
nomem:
    free(title.p);
    free(text.p);
    free(cat), free(brand), free(pop), free(w), free(used);
    cli_out_abort(&tastes);
    abort_outputs(&o);
    return cli_error(cmd, "out of memory");
}
