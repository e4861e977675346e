/* Single byte-range parsing; see http_range.h. */
#include "net/http_range.h"

#include <stdbool.h>
#include <stddef.h>
#include <strings.h>

/* Reads decimal digits at *p; saturates at UINT64_MAX. False when there are none. */
static bool read_num(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9') return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *p = s;
    *out = v;
    return true;
}

static const char *skip_ows(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

http_range_result_t http_range_parse(const char *h, uint64_t size, uint64_t *first,
                                     uint64_t *last)
{
    if (!h) return HTTP_RANGE_NONE;
    h = skip_ows(h);
    if (strncasecmp(h, "bytes", 5) != 0) return HTTP_RANGE_NONE;
    h = skip_ows(h + 5);
    if (*h != '=') return HTTP_RANGE_NONE;
    const char *p = skip_ows(h + 1);
    uint64_t a = 0, b = 0;
    bool has_a = read_num(&p, &a);
    if (*p != '-') return HTTP_RANGE_NONE;
    p++;
    bool has_b = read_num(&p, &b);
    p = skip_ows(p);
    if (*p != '\0') return HTTP_RANGE_NONE; /* several ranges, or junk: send it all */
    if (!has_a && !has_b) return HTTP_RANGE_NONE;
    if (!has_a) { /* suffix: the last b bytes */
        if (b == 0 || size == 0) return HTTP_RANGE_UNSATISFIABLE;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return HTTP_RANGE_OK;
    }
    if (has_b && b < a) return HTTP_RANGE_NONE; /* invalid: ignored */
    if (a >= size) return HTTP_RANGE_UNSATISFIABLE;
    *first = a;
    *last = !has_b || b >= size ? size - 1 : b;
    return HTTP_RANGE_OK;
}
