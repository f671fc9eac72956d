/* Item records (JSONL) rendered into texts through a template. */
#define _POSIX_C_SOURCE 200809L
#include "items.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static int put(buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 128;
        while (nc < b->n + n + 1) nc *= 2;
        char *q = (char *)realloc(b->p, nc);
        if (!q) return -1;
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

/* Appends a scalar JSON value as text; arrays of scalars joined with ", ". */
static int put_value(buf *b, const json_value *v, int depth) {
    char num[64];
    switch (v->type) {
    case JSON_STRING: return put(b, v->u.str, v->n);
    case JSON_NUMBER:
        if (v->is_int) snprintf(num, sizeof num, "%lld", (long long)v->u.num.i);
        else snprintf(num, sizeof num, "%.17g", v->u.num.d);
        return put(b, num, strlen(num));
    case JSON_TRUE: return put(b, "true", 4);
    case JSON_FALSE: return put(b, "false", 5);
    case JSON_NULL: return 0;
    case JSON_ARRAY:
        if (depth) return 1;
        for (size_t i = 0; i < v->n; i++) {
            if (i && put(b, ", ", 2)) return -1;
            int r = put_value(b, &v->u.items[i], 1);
            if (r) return r;
        }
        return 0;
    default: return 1; /* objects */
    }
}

char *item_render(const char *json, size_t len, const char *tmpl, char **id, item_source *src,
                  char *err, size_t errn) {
    json_doc *doc;
    *id = NULL;
    if (src) *src = ITEM_FROM_TEMPLATE;
    if (json_parse(json, len, NULL, &doc, err, errn) != LEARN_OK) return NULL;
    const json_value *root = json_root(doc);
    buf out = {NULL, 0, 0}, idb = {NULL, 0, 0};
    char *res = NULL;
    if (root->type != JSON_OBJECT) {
        (void)util_fail(err, errn, LEARN_ERR_FORMAT, "the record is not a JSON object");
        goto done;
    }
    const json_value *idv = json_get(root, "id");
    if (!idv || (idv->type != JSON_STRING && !(idv->type == JSON_NUMBER && idv->is_int))) {
        (void)util_fail(err, errn, LEARN_ERR_FORMAT, "\"id\" is missing, or neither a string nor an integer");
        goto done;
    }
    if (put_value(&idb, idv, 1) || idb.n == 0) {
        (void)util_fail(err, errn, LEARN_ERR_FORMAT, "\"id\" is empty");
        goto done;
    }
    /* A ready text: used when a field the template names is missing, else ignored (said). */
    const json_value *textv = json_get(root, "text");
    if (textv && textv->type != JSON_STRING) textv = NULL;
    int tmpl_uses_text = 0;
    if (put(&out, "", 0)) goto nomem;
    for (const char *p = tmpl; *p;) {
        const char *open = strchr(p, '{'), *close = open ? strchr(open + 1, '}') : NULL;
        if (!open || !close) {
            if (put(&out, p, strlen(p))) goto nomem;
            break;
        }
        if (put(&out, p, (size_t)(open - p))) goto nomem;
        char key[128];
        size_t kl = (size_t)(close - open - 1);
        if (kl == 0 || kl >= sizeof key) {
            if (put(&out, open, (size_t)(close - open + 1))) goto nomem;
        } else {
            memcpy(key, open + 1, kl);
            key[kl] = 0;
            const json_value *v = json_get(root, key);
            tmpl_uses_text |= strcmp(key, "text") == 0;
            if (!v && textv) {
                out.n = 0;
                if (put(&out, textv->u.str, textv->n)) goto nomem;
                if (src) *src = ITEM_FROM_TEXT;
                break;
            }
            if (!v) {
                (void)util_fail(err, errn, LEARN_ERR_FORMAT, "field \"%s\" is missing (the template needs it, or the item's whole text in \"text\")",
                     key);
                goto done;
            }
            int r = put_value(&out, v, 0);
            if (r < 0) goto nomem;
            if (r) {
                (void)util_fail(err, errn, LEARN_ERR_FORMAT, "field \"%s\" is an object or a nested array", key);
                goto done;
            }
        }
        p = close + 1;
    }
    if (src && *src == ITEM_FROM_TEMPLATE && textv && !tmpl_uses_text) *src = ITEM_FROM_TEMPLATE_BOTH;
    res = out.p;
    out.p = NULL;
    *id = idb.p;
    idb.p = NULL;
    goto done;
nomem:
    (void)util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
done:
    free(out.p);
    free(idb.p);
    json_free(doc);
    return res;
}

int items_load(FILE *f, const char *name, const char *tmpl, size_t max_line, item_list *out,
               char *err, size_t errn) {
    memset(out, 0, sizeof *out);
    char *line = NULL;
    size_t cap = 0, no = 0;
    ssize_t len;
    char inner[256];
    while ((len = getline(&line, &cap, f)) >= 0) {
        no++;
        char *p = line;
        if (no == 1 && len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) p += 3, len -= 3;
        while (len && (p[len - 1] == '\n' || p[len - 1] == '\r')) len--;
        size_t i = 0;
        while (i < (size_t)len && (p[i] == ' ' || p[i] == '\t')) i++;
        if (i == (size_t)len) {
            out->blank++;
            continue;
        }
        if ((size_t)len > max_line) {
            (void)util_fail(err, errn, LEARN_ERR_FORMAT, "%s: line %zu: %zd bytes, longer than the limit of %zu", name, no, len, max_line);
            goto bad;
        }
        if (memchr(p, 0, (size_t)len)) {
            (void)util_fail(err, errn, LEARN_ERR_FORMAT, "%s: line %zu: NUL byte", name, no);
            goto bad;
        }
        char *id;
        item_source src;
        char *text = item_render(p, (size_t)len, tmpl, &id, &src, inner, sizeof inner);
        if (!text) {
            (void)util_fail(err, errn, LEARN_ERR_FORMAT, "%s: line %zu: %s", name, no, inner);
            goto bad;
        }
        if (out->n == out->cap) {
            size_t nc = out->cap ? out->cap * 2 : 1024;
            item_rec *r = (item_rec *)realloc(out->items, nc * sizeof *r);
            if (!r) {
                free(text);
                free(id);
                (void)util_fail(err, errn, LEARN_ERR_NOMEM, "out of memory");
                goto bad;
            }
            out->items = r;
            out->cap = nc;
        }
        out->items[out->n].id = id;
        out->items[out->n].text = text;
        out->items[out->n].line = no;
        out->n++;
        out->n_text += src == ITEM_FROM_TEXT;
        out->n_both += src == ITEM_FROM_TEMPLATE_BOTH;
    }
    free(line);
    if (ferror(f)) {
        (void)util_fail(err, errn, LEARN_ERR_FORMAT, "%s: read error", name);
        items_free(out);
        return 1;
    }
    return 0;
bad:
    free(line);
    items_free(out);
    return 1;
}

int items_note(const item_list *l, const char *name, char *msg, size_t n) {
    if (n) msg[0] = 0;
    if (!l->n_text && !l->n_both) return 0;
    size_t at = 0;
    if (l->n_both)
        at += (size_t)snprintf(msg, n, "%s: %zu record%s the template's fields and a \"text\": the template's "
                               "fields were used", name, l->n_both, l->n_both == 1 ? " has" : "s have");
    if (l->n_text && at < n)
        snprintf(msg + at, n - at, "%s%s: %zu record%s a field the template names: %s \"text\" was used as it is",
                 at ? "; " : "", name, l->n_text, l->n_text == 1 ? " lacks" : "s lack", l->n_text == 1 ? "its" : "their");
    return 1;
}

void items_free(item_list *l) {
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].id);
        free(l->items[i].text);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}
