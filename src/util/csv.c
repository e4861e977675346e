/* RFC 4180 cells with spreadsheet-formula neutralisation; see csv.h. */
#include "util/csv.h"

#include <ctype.h>
#include <inttypes.h>
#include <string.h>

bool csv_is_number(const char *v)
{
    const char *p = v;
    if (*p == '-' || *p == '+') p++;
    const char *digits = p;
    while (isdigit((unsigned char)*p))
        p++;
    if (p == digits) return false;
    if (*p == '.') {
        const char *f = ++p;
        while (isdigit((unsigned char)*p))
            p++;
        if (p == f) return false;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+') p++;
        const char *e = p;
        while (isdigit((unsigned char)*p))
            p++;
        if (p == e) return false;
    }
    return *p == '\0';
}

void csv_cell(strbuf_t *b, const char *v, bool first)
{
    if (!first) strbuf_append(b, ",", 1);
    if (!v || !*v) return;
    bool formula = strchr("=+-@\t\r", v[0]) != NULL && !csv_is_number(v);
    bool quote = strpbrk(v, ",\"\r\n") != NULL;
    if (quote) strbuf_append(b, "\"", 1);
    if (formula) strbuf_append(b, "'", 1);
    for (const char *p = v; *p;) {
        const char *q = quote ? strchr(p, '"') : NULL;
        size_t n = q ? (size_t)(q - p) + 1 : strlen(p);
        strbuf_append(b, p, n);
        if (q) strbuf_append(b, "\"", 1); /* a quote inside is doubled */
        p += n;
    }
    if (quote) strbuf_append(b, "\"", 1);
}

void csv_int(strbuf_t *b, int64_t v, bool first)
{
    strbuf_printf(b, first ? "%" PRId64 : ",%" PRId64, v);
}

void csv_end(strbuf_t *b)
{
    strbuf_append(b, "\r\n", 2);
}
