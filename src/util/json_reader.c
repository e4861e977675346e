/*
 * Parses JSON text into jansson values with libyajl's tokenizer.
 *
 * Why: jansson's own reader lexes one character at a time through a stream
 * abstraction and grows every string byte by byte; for a station's
 * MeterValues it was over half of the event loop's instructions. yajl scans
 * the text in tight loops and hands over whole strings, so the tree is built
 * with one allocation per value. The result is the same jansson tree, so
 * the rest of the program does not change.
 *
 * Semantics kept from json_loadb(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY):
 * any value at the top level, one value only (no trailing text), duplicate
 * keys refused, strings and keys must be valid UTF-8 (checked by jansson's
 * strict constructors: no overlong forms, no surrogates), NUL (\u0000) is
 * refused in strings and keys, integer and real overflow are errors. Nesting
 * deeper than JSON_READER_MAX_DEPTH is an error (no OCPP or API message
 * comes near it). yajl turns a lone surrogate escape (\ud800) into '?' where
 * jansson refuses the text, so a text with a surrogate escape in it (rare:
 * only characters outside the BMP, escaped) goes to jansson. One difference
 * remains: a raw NUL byte outside a string is always an error here (jansson
 * skips some).
 */
#include "util/json_reader.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

typedef struct builder {
    json_t *root;
    json_t *stack[JSON_READER_MAX_DEPTH]; /* open containers; borrowed (the parent owns each) */
    int depth;
    char *key; /* the pending key: a copy, yajl reuses its decode buffer for the value */
    size_t key_len;
    char key_small[256];
    char *key_heap; /* for longer keys */
    const char *error; /* a reason of ours, when a callback refused */
    yajl_handle h;
    bool completing;  /* inside yajl_complete_parse, which lexes a buffer of its own */
    bool root_done;
    size_t root_end;  /* offset just past the top-level value */
    size_t len;
} builder_t;

/* yajl leaves an unfinished token after a complete value (`5"`) unread, so
 * the end of the value is recorded and what follows must be whitespace. */
static void root_finished(builder_t *b)
{
    b->root_done = true;
    b->root_end = b->completing ? b->len : yajl_get_bytes_consumed(b->h);
}

/* Hands v (a new reference) to the open container or makes it the root. */
static int add(builder_t *b, json_t *v)
{
    if (!v) {
        if (!b->error) b->error = "string is not valid UTF-8";
        return 0;
    }
    if (b->depth == 0) {
        b->root = v;
        if (!json_is_object(v) && !json_is_array(v)) root_finished(b);
        return 1;
    }
    json_t *top = b->stack[b->depth - 1];
    if (json_is_array(top)) return json_array_append_new(top, v) == 0;
    const char *k = b->key;
    if (memchr(k, 0, b->key_len)) {
        b->error = "NUL character in an object key";
    } else if (json_object_getn(top, k, b->key_len)) {
        b->error = "duplicate object key";
    } else if (json_object_setn_new(top, k, b->key_len, v) == 0) {
        return 1;
    } else {
        b->error = "object key is not valid UTF-8";
        return 0; /* json_object_setn_new consumed v */
    }
    json_decref(v);
    return 0;
}

static int on_null(void *ctx) { return add(ctx, json_null()); }
static int on_boolean(void *ctx, int v) { return add(ctx, json_boolean(v)); }

/* Numbers arrive as text (yajl's own integer conversion refuses INT64_MIN):
 * an integer unless it has a fraction or exponent, as in jansson. */
static int on_number(void *ctx, const char *s, size_t len)
{
    builder_t *b = ctx;
    char buf[64];
    if (len >= sizeof buf) {
        /* only a real can be this long and still be in range, e.g. 0.000...1 */
        if (memchr(s, '.', len) == NULL && memchr(s, 'e', len) == NULL &&
            memchr(s, 'E', len) == NULL) {
            b->error = "integer is out of range";
            return 0;
        }
        char *heap = malloc(len + 1);
        if (!heap) return 0;
        memcpy(heap, s, len);
        heap[len] = '\0';
        errno = 0;
        double d = strtod(heap, NULL);
        free(heap);
        if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)) {
            b->error = "real number overflow";
            return 0;
        }
        return add(b, json_real(d));
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    if (!strpbrk(buf, ".eE")) {
        long long v = strtoll(buf, NULL, 10);
        if (errno == ERANGE) {
            b->error = "integer is out of range";
            return 0;
        }
        return add(b, json_integer((json_int_t)v));
    }
    double d = strtod(buf, NULL);
    if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)) {
        b->error = "real number overflow";
        return 0;
    }
    return add(b, json_real(d));
}

/* Short strings repeat from message to message (measurands, units, phases,
 * contexts, even values like "230.1"): a small direct-mapped table per thread
 * hands out shared references instead of a new string each time. Safe because
 * nothing in ampgrid changes a string value in place (no json_string_set). */
#define INTERN_SLOTS 1024
#define INTERN_MAX_LEN 32

typedef struct intern_slot {
    json_t *v; /* holds one reference */
    uint32_t hash;
    uint32_t len;
} intern_slot_t;

static _Thread_local intern_slot_t intern_table[INTERN_SLOTS];

static uint32_t fnv1a(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

json_t *json_reader_string(const char *s, size_t len)
{
    if (len > INTERN_MAX_LEN) return json_stringn(s, len);
    uint32_t h = fnv1a(s, len);
    intern_slot_t *slot = &intern_table[h % INTERN_SLOTS];
    if (slot->v && slot->hash == h && slot->len == len &&
        memcmp(json_string_value(slot->v), s, len) == 0)
        return json_incref(slot->v);
    json_t *v = json_stringn(s, len);
    if (!v) return NULL;
    json_decref(slot->v);
    *slot = (intern_slot_t){.v = json_incref(v), .hash = h, .len = (uint32_t)len};
    return v;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
    builder_t *b = ctx;
    if (memchr(s, 0, len)) {
        b->error = "NUL character (\\u0000) in a string";
        return 0;
    }
    return add(b, json_reader_string((const char *)s, len));
}

static int open_container(builder_t *b, json_t *c)
{
    if (b->depth >= JSON_READER_MAX_DEPTH) {
        json_decref(c);
        b->error = "nesting is too deep";
        return 0;
    }
    if (!add(b, c)) return 0; /* add consumed c */
    b->stack[b->depth++] = c; /* borrowed: the parent (or root) holds it */
    return 1;
}

static int on_start_map(void *ctx) { return open_container(ctx, json_object()); }
static int on_start_array(void *ctx) { return open_container(ctx, json_array()); }

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
    builder_t *b = ctx;
    free(b->key_heap);
    b->key_heap = NULL;
    if (len < sizeof b->key_small) {
        b->key = b->key_small;
    } else {
        b->key = b->key_heap = malloc(len + 1);
        if (!b->key) return 0;
    }
    memcpy(b->key, key, len);
    b->key[len] = '\0';
    b->key_len = len;
    return 1;
}

static int on_end(void *ctx)
{
    builder_t *b = ctx;
    if (--b->depth == 0) root_finished(b);
    return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

/* yajl's message has a trailing newline and, verbose or not, no position. */
static void set_error(json_reader_error_t *err, yajl_handle h, const char *data, size_t len,
                      const char *ours)
{
    if (!err) return;
    size_t pos = yajl_get_bytes_consumed(h);
    err->position = pos > len ? len : pos;
    if (ours) {
        snprintf(err->text, sizeof err->text, "%s", ours);
        return;
    }
    unsigned char *m = yajl_get_error(h, 0, (const unsigned char *)data, len);
    snprintf(err->text, sizeof err->text, "%s", m ? (const char *)m : "invalid JSON");
    if (m) yajl_free_error(h, m);
    size_t n = strlen(err->text);
    while (n > 0 && (err->text[n - 1] == '\n' || err->text[n - 1] == '.')) err->text[--n] = '\0';
}

/* JSON's whitespace is space, tab, CR and LF; yajl also skips \v and \f,
 * which are never valid anywhere in JSON text (raw in a string neither). */
static bool has_vt_or_ff(const char *d, size_t len)
{
    return memchr(d, '\v', len) != NULL || memchr(d, '\f', len) != NULL;
}

bool json_reader_only_whitespace(const char *d, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (d[i] != ' ' && d[i] != '\t' && d[i] != '\n' && d[i] != '\r') return false;
    return true;
}

/* A \uD800-\uDFFF escape somewhere (or what looks like one). */
static bool has_surrogate_escape(const char *d, size_t len)
{
    const char *p = d, *end = d + len;
    while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        if (end - p >= 4 && p[1] == 'u' && (p[2] == 'd' || p[2] == 'D') &&
            strchr("89abcdefABCDEF", p[3]) && p[3] != '\0')
            return true;
        p += 2; /* the escaped character cannot start another escape */
        if (p >= end) break;
    }
    return false;
}

/* The exact jansson rules for the rare texts yajl would read differently. */
static json_t *parse_with_jansson(const char *data, size_t len, json_reader_error_t *err)
{
    json_error_t jerr;
    json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!v && err) {
        snprintf(err->text, sizeof err->text, "%s", jerr.text);
        err->position = jerr.position < 0 ? 0 : (size_t)jerr.position;
        if (err->position > len) err->position = len;
    }
    return v;
}

json_t *json_reader_parse(const char *data, size_t len, json_reader_error_t *err)
{
    builder_t b = {0};
    b.len = len;
    if (has_vt_or_ff(data, len)) {
        if (err) {
            snprintf(err->text, sizeof err->text,
                     "control character (form feed or vertical tab) in the text");
            const char *v = memchr(data, '\v', len), *f = memchr(data, '\f', len);
            err->position = (size_t)((v && (!f || v < f) ? v : f) - data);
        }
        return NULL;
    }
    if (has_surrogate_escape(data, len) && !memchr(data, 0, len))
        return parse_with_jansson(data, len, err);
    yajl_handle h = yajl_alloc(&callbacks, NULL, &b);
    b.h = h;
    if (!h) {
        if (err) {
            snprintf(err->text, sizeof err->text, "out of memory");
            err->position = 0;
        }
        return NULL;
    }
    /* jansson's constructors check UTF-8 more strictly than yajl does: once is enough */
    yajl_config(h, yajl_dont_validate_strings, 1);
    yajl_status st = yajl_parse(h, (const unsigned char *)data, len);
    if (st == yajl_status_ok) {
        b.completing = true;
        st = yajl_complete_parse(h);
    }
    free(b.key_heap);
    if (st != yajl_status_ok || !b.root) {
        set_error(err, h, data, len, st == yajl_status_client_canceled ? b.error : NULL);
        yajl_free(h);
        json_decref(b.root);
        return NULL;
    }
    if (!b.root_done || !json_reader_only_whitespace(data + b.root_end, len - b.root_end)) {
        if (err) {
            snprintf(err->text, sizeof err->text, "unexpected text after the JSON value");
            err->position = b.root_done ? b.root_end : len;
        }
        yajl_free(h);
        json_decref(b.root);
        return NULL;
    }
    yajl_free(h);
    return b.root;
}
