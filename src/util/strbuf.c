/* Growable string buffer; see strbuf.h. */
#include "util/strbuf.h"

#include "util/alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(strbuf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void strbuf_append(strbuf_t *b, const char *s, size_t n)
{
    reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void strbuf_printf(strbuf_t *b, const char *fmt, ...)
{
    reserve(b, 128); /* most pieces fit: one formatting pass instead of two */
    size_t room = b->cap - b->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->data + b->len, room, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): started just above
    va_end(ap);
    if (n < 0) {
        b->data[b->len] = '\0';
        return;
    }
    if ((size_t)n >= room) {
        reserve(b, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void strbuf_fixed(strbuf_t *b, double v, int decimals)
{
    static const int64_t scale[] = {1, 10, 100, 1000};
    if (decimals < 0 || decimals > 3 || !(v > -1e15 && v < 1e15)) {
        strbuf_printf(b, "%.*f", decimals, v);
        return;
    }
    int64_t x = llround(v * (double)scale[decimals]);
    char tmp[32], *p = tmp + sizeof tmp;
    bool neg = x < 0;
    uint64_t u = neg ? (uint64_t)-x : (uint64_t)x;
    for (int d = 0; d < decimals; d++) {
        *--p = (char)('0' + u % 10);
        u /= 10;
    }
    if (decimals) *--p = '.';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg) *--p = '-';
    strbuf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

void strbuf_json_string(strbuf_t *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    /* Two passes: the exact length, then the bytes, with no call per piece
     * (the store packs every sampled value of a meter reading with this). */
    size_t out = 2;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        out += *p < 0x20 ? 6 : (*p == '"' || *p == '\\') ? 2 : 1;
    reserve(b, out);
    char *o = b->data + b->len;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        if (c >= 0x20) {
            *o++ = (char)c;
            continue;
        }
        *o++ = 'u';
        *o++ = '0';
        *o++ = '0';
        *o++ = hex[c >> 4];
        *o++ = hex[c & 15];
    }
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->data);
}

void strbuf_number(strbuf_t *b, double v)
{
    strbuf_printf(b, "%.15g", v);
}

void strbuf_free(strbuf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
