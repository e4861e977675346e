/*
 * A fast JSON reader producing jansson values (see json_reader.c for why and
 * for the exact rules it keeps from jansson's json_loadb).
 */
#ifndef AMPGRID_UTIL_JSON_READER_H
#define AMPGRID_UTIL_JSON_READER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define JSON_READER_MAX_DEPTH 128

typedef struct json_reader_error {
    char text[160];  /* a sentence for a person */
    size_t position; /* byte offset where parsing stopped */
} json_reader_error_t;

/* Parses exactly one JSON value from data[0..len). Returns a new reference,
 * or NULL with *err (may be NULL) filled in. */
json_t *json_reader_parse(const char *data, size_t len, json_reader_error_t *err);

/* A JSON string for s[0..len) (valid UTF-8 or NULL is returned). Short
 * strings are shared through a small per-thread table, so the result must
 * never be changed in place (json_string_set) -- nothing in ampgrid does. */
json_t *json_reader_string(const char *s, size_t len);

/* True when d[0..len) is only JSON whitespace (space, tab, CR, LF): what may
 * follow a value. yajl stops at the value's end and leaves an unfinished
 * token after it unread, so readers check the rest with this. */
bool json_reader_only_whitespace(const char *d, size_t len);

#endif
