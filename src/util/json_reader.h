/*
 * A fast JSON reader producing jansson values (see json_reader.c for why and
 * for the exact rules it keeps from jansson's json_loadb).
 */
#ifndef AMPGRID_UTIL_JSON_READER_H
#define AMPGRID_UTIL_JSON_READER_H

#include <jansson.h>
#include <stddef.h>

#define JSON_READER_MAX_DEPTH 128

typedef struct json_reader_error {
    char text[160];  /* a sentence for a person */
    size_t position; /* byte offset where parsing stopped */
} json_reader_error_t;

/* Parses exactly one JSON value from data[0..len). Returns a new reference,
 * or NULL with *err (may be NULL) filled in. */
json_t *json_reader_parse(const char *data, size_t len, json_reader_error_t *err);

#endif
