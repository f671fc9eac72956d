/* Item records (JSONL) rendered into texts through a template. */
#ifndef LEARN_ITEMS_H
#define LEARN_ITEMS_H

#include <stddef.h>
#include <stdio.h>

/* One record: its external id and the text the LLM reads. */
typedef struct item_rec {
    char *id;
    char *text;
    size_t line; /* line number in the input */
} item_rec;

typedef struct item_list {
    item_rec *items;
    size_t n, cap;
    size_t blank;  /* blank lines skipped */
    size_t n_text; /* records without the template's fields, taken as their "text" */
    size_t n_both; /* records with the template's fields and a "text" (rendered, text unused) */
} item_list;

/* Where item_render took an item's text from. */
typedef enum item_source {
    ITEM_FROM_TEMPLATE = 0,  /* the template, filled with the record's fields */
    ITEM_FROM_TEMPLATE_BOTH, /* the same, and the record also has a "text" the template does
                                not use (ignored) */
    ITEM_FROM_TEXT           /* the record's "text" as it is: a field the template names is
                                missing */
} item_source;

/* Renders `tmpl` ("Title: {title}. Brand: {brand}") with the fields of a JSON object given as
   text (one JSONL record). Placeholders name top-level fields: strings are inserted as they
   are, numbers as written, booleans as true/false, arrays of those joined with ", ".
   A record that lacks a field the template names is taken as its "text" string, as it is,
   when it has one (a ready item text); without one it is an error naming the field. A record
   with both is rendered through the template. On success returns a malloc'd text, sets *id
   (malloc'd; from "id", a string or an integer) and *src (may be NULL). Returns NULL and writes
   a reason to err otherwise. */
char *item_render(const char *json, size_t len, const char *tmpl, char **id, item_source *src,
                  char *err, size_t errn);

/* Reads a JSONL file of items (CRLF, a BOM and blank lines are accepted). Every other problem
   (invalid JSON or UTF-8, a NUL byte, a missing id or field, a line over max_line bytes) is an
   error naming the line. Returns 0, or 1 with the reason in err. */
int items_load(FILE *f, const char *name, const char *tmpl, size_t max_line, item_list *out,
               char *err, size_t errn);
void items_free(item_list *l);

/* What a command says about where a loaded list's texts came from, when some records had a
   "text" beside or instead of the template's fields ("NAME: 600 records have ..."). Returns 0
   (and an empty msg) when there is nothing to say. */
int items_note(const item_list *l, const char *name, char *msg, size_t n);

#endif
