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
    size_t blank; /* blank lines skipped */
} item_list;

/* Renders `tmpl` ("Title: {title}. Brand: {brand}") with the fields of a JSON object given as
   text (one JSONL record). Placeholders name top-level fields: strings are inserted as they
   are, numbers as written, booleans as true/false, arrays of those joined with ", ".
   "{text}" with a record that has no "text" field but others is an error like any missing
   field. On success returns a malloc'd text and sets *id (malloc'd; from "id", a string or
   an integer). Returns NULL and writes a reason to err otherwise. */
char *item_render(const char *json, size_t len, const char *tmpl, char **id, char *err, size_t errn);

/* Reads a JSONL file of items (CRLF, a BOM and blank lines are accepted). Every other problem
   (invalid JSON or UTF-8, a NUL byte, a missing id or field, a line over max_line bytes) is an
   error naming the line. Returns 0, or 1 with the reason in err. */
int items_load(FILE *f, const char *name, const char *tmpl, size_t max_line, item_list *out,
               char *err, size_t errn);
void items_free(item_list *l);

#endif
