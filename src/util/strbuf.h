/* A growable string buffer for building responses (metrics text, SSE frames). */
#ifndef AMPGRID_UTIL_STRBUF_H
#define AMPGRID_UTIL_STRBUF_H

#include <stddef.h>

typedef struct strbuf {
    char *data; /* always NUL-terminated once anything was appended */
    size_t len, cap;
} strbuf_t;

void strbuf_append(strbuf_t *b, const char *s, size_t n);
void strbuf_printf(strbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_free(strbuf_t *b);
/* Appends v with `decimals` (0-3) digits after the point, as printf's "%.*f"
 * would (but -0.0 rounds to "0"), without printf's cost: for hot paths. */
void strbuf_fixed(strbuf_t *b, double v, int decimals);
/* Appends v so that it reads back as the same number: integers (counters) in
 * full, as "%g" would not past a million, and fractions to 15 digits. */
void strbuf_number(strbuf_t *b, double v);
/* Appends s (UTF-8, NUL-terminated) as a JSON string literal, quotes included:
 * '"' and '\' escaped, control characters as \u00XX, the rest as it is. */
void strbuf_json_string(strbuf_t *b, const char *s);

#endif
