/* Interaction logs, leave-one-out splits, ranking metrics. */
#define _POSIX_C_SOURCE 200809L
#include "interactions.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct inter_row {
    uint32_t user, item;
    double ts;
    size_t line;
} inter_row;

static int row_cmp(const void *a, const void *b) {
    const inter_row *x = (const inter_row *)a, *y = (const inter_row *)b;
    if (x->user != y->user) return x->user < y->user ? -1 : 1;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

/* User ids -> dense numbers in order of first appearance (open addressing). */
typedef struct user_map {
    char **ids;       /* by number */
    size_t n, cap_ids;
    uint32_t *slots;  /* hash table of number + 1 (0 = empty) */
    size_t cap;
} user_map;

static int user_map_get(user_map *m, const char *s, size_t n, uint32_t *out) {
    if ((m->n + 1) * 2 > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 1024;
        uint32_t *ns = (uint32_t *)calloc(nc, sizeof *ns);
        if (!ns) return -1;
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i]) {
                const char *k = m->ids[m->slots[i] - 1];
                size_t h = (size_t)util_fnv1a(UTIL_FNV1A_BASIS, k, strlen(k)) & (nc - 1);
                while (ns[h]) h = (h + 1) & (nc - 1);
                ns[h] = m->slots[i];
            }
        free(m->slots);
        m->slots = ns;
        m->cap = nc;
    }
    size_t h = (size_t)util_fnv1a(UTIL_FNV1A_BASIS, s, n) & (m->cap - 1);
    while (m->slots[h]) {
        const char *k = m->ids[m->slots[h] - 1];
        if (strlen(k) == n && memcmp(k, s, n) == 0) {
            *out = m->slots[h] - 1;
            return 0;
        }
        h = (h + 1) & (m->cap - 1);
    }
    if (m->n == m->cap_ids) {
        size_t nc = m->cap_ids ? m->cap_ids * 2 : 1024;
        char **p = (char **)realloc(m->ids, nc * sizeof *p);
        if (!p) return -1;
        m->ids = p;
        m->cap_ids = nc;
    }
    char *k = (char *)malloc(n + 1);
    if (!k) return -1;
    memcpy(k, s, n);
    k[n] = 0;
    m->ids[m->n] = k;
    m->slots[h] = (uint32_t)(++m->n);
    *out = (uint32_t)(m->n - 1);
    return 0;
}

int inter_read(FILE *f, const char *path, const learn_catalog *cat, inter_data *out, char *err,
               size_t errn) {
    memset(out, 0, sizeof *out);
    user_map um;
    memset(&um, 0, sizeof um);
    inter_row *rows = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int rc = 1;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        char *p = line;
        if (lineno == 1 && len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) p += 3, len -= 3;
        if (len == 0) continue;
        if (memchr(p, 0, (size_t)len)) {
            (void)util_fail(err, errn, LEARN_ERR_FORMAT, "%s: line %zu: NUL byte", path, lineno);
            goto out;
        }
        char *t1 = strchr(p, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2 || strchr(t2 + 1, '\t')) {
            (void)util_fail(err, errn, LEARN_ERR_FORMAT, "%s: line %zu: expected user<TAB>item<TAB>timestamp", path, lineno);
            goto out;
        }
        *t1 = *t2 = 0;
        char *end;
        double ts = strtod(t2 + 1, &end);
        if (end == t2 + 1 || *end || !isfinite(ts)) {
            (void)util_fail(err, errn, LEARN_ERR_FORMAT, "%s: line %zu: timestamp '%.40s' is not a finite number", path, lineno, t2 + 1);
            goto out;
        }
        if (t1 == p || t2 == t1 + 1) {
            (void)util_fail(err, errn, LEARN_ERR_FORMAT, "%s: line %zu: empty user or item id", path, lineno);
            goto out;
        }
        out->n_lines++;
        uint32_t item, user;
        if (learn_catalog_find(cat, t1 + 1, (size_t)(t2 - t1 - 1), &item) != LEARN_OK) {
            if (!out->n_unknown) snprintf(out->first_unknown, sizeof out->first_unknown, "%s", t1 + 1);
            out->n_unknown++;
            continue;
        }
        if (user_map_get(&um, p, (size_t)(t1 - p), &user)) {
            (void)util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            inter_row *r = (inter_row *)realloc(rows, cap * sizeof *r);
            if (!r) {
                (void)util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
                goto out;
            }
            rows = r;
        }
        rows[n].user = user;
        rows[n].item = item;
        rows[n].ts = ts;
        rows[n].line = lineno;
        n++;
    }
    if (ferror(f)) {
        (void)util_fail(err, errn, LEARN_ERR_FORMAT, "%s: read error", path);
        goto out;
    }
    if (n) qsort(rows, n, sizeof *rows, row_cmp);
    out->n_users = um.n;
    out->user_ids = um.ids;
    um.ids = NULL;
    out->seq_off = (uint32_t *)calloc(out->n_users + 1, sizeof *out->seq_off);
    out->seq = (uint32_t *)malloc((n ? n : 1) * sizeof *out->seq);
    if (!out->seq_off || !out->seq) {
        (void)util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        out->seq[i] = rows[i].item;
        out->seq_off[rows[i].user + 1]++;
    }
    for (size_t u = 0; u < out->n_users; u++) out->seq_off[u + 1] += out->seq_off[u];
    rc = 0;
out:
    if (rc) inter_free(out);
    for (size_t i = 0; um.ids && i < um.n; i++) free(um.ids[i]);
    free(um.ids);
    free(um.slots);
    free(rows);
    free(line);
    return rc;
}

int inter_load(const char *path, const learn_catalog *cat, inter_data *out, char *err, size_t errn) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        (void)util_fail(err, errn, LEARN_ERR_IO, "%s: %s", path, strerror(errno));
        return 1;
    }
    int rc = inter_read(f, path, cat, out, err, errn);
    fclose(f);
    return rc;
}

void inter_free(inter_data *d) {
    for (size_t i = 0; d->user_ids && i < d->n_users; i++) free(d->user_ids[i]);
    free(d->user_ids);
    free(d->seq_off);
    free(d->seq);
    memset(d, 0, sizeof *d);
}

size_t inter_history(const inter_data *d, size_t u, inter_split split, size_t max_hist,
                     const uint32_t **hist, uint32_t *target) {
    const uint32_t *s = d->seq + d->seq_off[u];
    size_t n = d->seq_off[u + 1] - d->seq_off[u];
    size_t t; /* position of the target */
    if (split == INTER_TEST) {
        if (n < 2) return 0;
        t = n - 1;
    } else if (split == INTER_VALID) {
        if (n < 3) return 0;
        t = n - 2;
    } else {
        return 0; /* training has no single target */
    }
    size_t h = t < max_hist ? t : max_hist;
    *hist = s + (t - h);
    *target = s[t];
    return h;
}

void eval_add_rank(eval_metrics *m, size_t rank) {
    double g = 1.0 / log2((double)rank + 2.0);
    if (rank < 10) m->recall10 += 1, m->ndcg10 += g;
    if (rank < 50) m->recall50 += 1, m->ndcg50 += g;
    m->mrr += 1.0 / ((double)rank + 1.0);
    m->n++;
}

void eval_finish(eval_metrics *m) {
    if (!m->n) return;
    double n = (double)m->n;
    m->recall10 /= n, m->recall50 /= n, m->ndcg10 /= n, m->ndcg50 /= n, m->mrr /= n;
}

size_t eval_rank(const float *scores, size_t n, uint32_t target) {
    float t = scores[target];
    size_t r = 0;
    for (size_t i = 0; i < n; i++) r += scores[i] > t;
    return r;
}
