/*
 * The streaming checker of ocpp/stream.h: yajl's tokens are matched against
 * the field tables as they come, with a stack of open objects (fields seen,
 * as a bit mask, for duplicates and required ones) and arrays (items so far).
 *
 * It refuses (returns "not mine") rather than judges: any text with a byte
 * outside printable ASCII (save tab, CR and LF) or a backslash is left to the
 * ordinary path, so strings need no UTF-8 or escape handling here and a
 * string's length is its length in characters. Every string and number yajl
 * hands over points into the text (nothing is escaped), so the byte after it
 * (a quote or a delimiter) is overwritten with NUL in a scratch copy, which
 * gives the sink NUL-terminated values without copying each one.
 */
#include "ocpp/stream.h"

#include "util/json_reader.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define STREAM_MAX_DEPTH 16
#define STREAM_MAX_NUMBER 64 /* characters; longer ones go the ordinary way */

typedef struct level {
    const ocpp_field_t *f;      /* the container's field; NULL: the frame or the root object */
    const ocpp_field_t *fields; /* objects: their field list */
    uint64_t seen, required;    /* objects: bit i stands for fields[i] */
    int nfields;                /* objects: entries in fields */
    int hint;                   /* objects: where the next key is looked for first */
    int count;                  /* arrays and the frame: elements so far */
    bool array;
} level_t;

typedef struct checker {
    const char *text;
    char *copy; /* the same bytes; values are NUL-terminated in place */
    size_t len;
    yajl_handle h;
    const char *action;
    const ocpp_field_t *root;
    const ocpp_stream_sink_t *sink;
    void *ud;
    char *id;
    level_t lv[STREAM_MAX_DEPTH];
    int depth;                /* open levels; lv[0] is the frame */
    const ocpp_field_t *next; /* set by a key: the field its value must match */
    bool done;                /* the frame's closing bracket was read */
    size_t end;               /* the offset just past it */
} checker_t;

/* One byte: printable ASCII but the backslash, or tab, CR, LF. */
static bool plain_byte(unsigned char ch)
{
    if ((unsigned char)(ch - 0x20) < 0x60) return ch != '\\';
    return ch == '\t' || ch == '\n' || ch == '\r';
}

/* Printable ASCII (no backslash), tab, CR and LF only. Eight bytes at a time:
 * a word with no byte at or above 0x80, none below 0x20 and no backslash
 * passes at once; any other word is looked at byte by byte (the tests below
 * may flag bytes that pass, never miss one that does not). */
static bool plain_text(const char *d, size_t len)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = ones * 0x80;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, d + i, 8);
        uint64_t below = (w - ones * 0x20) & ~w & highs; /* some byte < 0x20 */
        uint64_t x = w ^ (ones * '\\');
        uint64_t bslash = (x - ones) & ~x & highs; /* some byte == '\\' */
        if (((w & highs) | below | bslash) == 0) continue;
        for (size_t k = 0; k < 8; k++)
            if (!plain_byte((unsigned char)d[i + k])) return false;
    }
    for (; i < len; i++)
        if (!plain_byte((unsigned char)d[i])) return false;
    return true;
}

/* The value at s (inside the text) as a NUL-terminated string in the copy. */
static const char *terminated(checker_t *c, const char *s, size_t len)
{
    if (s < c->text || (size_t)(s - c->text) + len >= c->len) return NULL;
    char *p = c->copy + (s - c->text);
    p[len] = '\0';
    return p;
}

static level_t *top(checker_t *c)
{
    return &c->lv[c->depth - 1];
}

/* The field the value now arriving must match; NULL when none may arrive. */
static const ocpp_field_t *take(checker_t *c)
{
    level_t *t = top(c);
    if (!t->array) {
        const ocpp_field_t *f = c->next;
        c->next = NULL;
        return f;
    }
    t->count++;
    if (t->f->max_items > 0 && t->count > t->f->max_items) return NULL;
    return t->f->items;
}

static bool in_frame(const checker_t *c)
{
    return c->depth == 1;
}

static int push_object(checker_t *c, const ocpp_field_t *f, const ocpp_field_t *fields)
{
    if (c->depth >= STREAM_MAX_DEPTH) return 0;
    level_t *l = &c->lv[c->depth++];
    *l = (level_t){.f = f, .fields = fields};
    int i = 0;
    for (; fields[i].name; i++) {
        if (i >= 64) return 0;
        if (fields[i].required) l->required |= UINT64_C(1) << i;
    }
    l->nfields = i;
    if (c->sink->open) c->sink->open(c->ud, f);
    return 1;
}

static int on_string(void *ctx, const unsigned char *us, size_t len)
{
    checker_t *c = ctx;
    const char *s = (const char *)us;
    if (c->depth == 0) return 0;
    if (in_frame(c)) {
        int idx = top(c)->count++;
        if (idx == 1 && len >= 1 && len <= OCPP_MSG_ID_MAX) {
            memcpy(c->id, s, len);
            c->id[len] = '\0';
            return 1;
        }
        return idx == 2 && strlen(c->action) == len && memcmp(c->action, s, len) == 0;
    }
    const ocpp_field_t *f = take(c);
    if (!f) return 0;
    const char *v = terminated(c, s, len);
    if (!v) return 0;
    switch (f->type) {
    case OCPP_T_STRING:
        if (f->max_len > 0 && len > (size_t)f->max_len) return 0;
        break;
    case OCPP_T_DATETIME:
        if (!ocpp_schema_is_datetime(v)) return 0;
        break;
    case OCPP_T_ENUM:
        if (!ocpp_schema_enum_ok(f, v, len)) return 0;
        break;
    default:
        return 0;
    }
    if (c->sink->value) c->sink->value(c->ud, f, OCPP_STREAM_STRING, v, len);
    return 1;
}

/* As jansson reads numbers: an integer unless there is a fraction or an
 * exponent; out of range is an error there, so not ours here. */
static int on_number(void *ctx, const char *s, size_t len)
{
    checker_t *c = ctx;
    if (c->depth == 0) return 0;
    if (in_frame(c)) return top(c)->count++ == 0 && len == 1 && s[0] == '2';
    const ocpp_field_t *f = take(c);
    if (!f || len > STREAM_MAX_NUMBER) return 0;
    const char *v = terminated(c, s, len);
    if (!v) return 0;
    bool integer = strpbrk(v, ".eE") == NULL;
    double d;
    errno = 0;
    if (f->type == OCPP_T_INTEGER) {
        if (!integer) return 0;
        long long n = strtoll(v, NULL, 10);
        if (errno == ERANGE) return 0;
        d = (double)n;
    } else if (f->type == OCPP_T_NUMBER) {
        if (integer) {
            long long n = strtoll(v, NULL, 10);
            if (errno == ERANGE) return 0;
            d = (double)n;
        } else {
            d = strtod(v, NULL);
            if (!isfinite(d)) return 0;
        }
    } else {
        return 0;
    }
    if (!ocpp_schema_number_ok(f, d)) return 0;
    if (c->sink->value) c->sink->value(c->ud, f, OCPP_STREAM_NUMBER, v, len);
    return 1;
}

static int on_boolean(void *ctx, int b)
{
    checker_t *c = ctx;
    if (c->depth == 0 || in_frame(c)) return 0;
    const ocpp_field_t *f = take(c);
    if (!f || f->type != OCPP_T_BOOLEAN) return 0;
    if (c->sink->value)
        c->sink->value(c->ud, f, OCPP_STREAM_BOOL, b ? "true" : "false", b ? 4 : 5);
    return 1;
}

static int on_null(void *ctx)
{
    (void)ctx;
    return 0; /* only OCPP_T_ANY takes null: left to the ordinary path */
}

static int on_start_map(void *ctx)
{
    checker_t *c = ctx;
    if (c->depth == 0) return 0;
    if (in_frame(c)) return top(c)->count++ == 3 && push_object(c, NULL, c->root);
    const ocpp_field_t *f = take(c);
    if (!f || f->type != OCPP_T_OBJECT || !f->fields || f->open) return 0;
    return push_object(c, f, f->fields);
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
    checker_t *c = ctx;
    level_t *t = top(c);
    /* Senders tend to write keys in the order of the schema (and of our
     * tables): the search starts after the key matched last. */
    for (int k = 0, i = t->hint; k < t->nfields; k++, i = i + 1 < t->nfields ? i + 1 : 0) {
        const char *n = t->fields[i].name;
        if (n[0] != (char)(len ? key[0] : 0) || strncmp(n, (const char *)key, len) != 0 ||
            n[len] != '\0')
            continue;
        uint64_t bit = UINT64_C(1) << i;
        if (t->seen & bit) return 0; /* a duplicate key */
        t->seen |= bit;
        t->hint = i + 1 < t->nfields ? i + 1 : 0;
        c->next = &t->fields[i];
        return 1;
    }
    return 0; /* unknown here (every object we take is closed) */
}

static int on_end_map(void *ctx)
{
    checker_t *c = ctx;
    level_t *t = top(c);
    if ((t->seen & t->required) != t->required) return 0;
    if (c->sink->close) c->sink->close(c->ud, t->f);
    c->depth--;
    return 1;
}

static int on_start_array(void *ctx)
{
    checker_t *c = ctx;
    if (c->depth == 0) {
        if (c->done) return 0;
        c->lv[0] = (level_t){.array = true};
        c->depth = 1;
        return 1;
    }
    if (in_frame(c) || c->depth >= STREAM_MAX_DEPTH) return 0;
    const ocpp_field_t *f = take(c);
    if (!f || f->type != OCPP_T_ARRAY || !f->items) return 0;
    c->lv[c->depth++] = (level_t){.f = f, .array = true};
    return 1;
}

static int on_end_array(void *ctx)
{
    checker_t *c = ctx;
    level_t *t = top(c);
    if (in_frame(c)) {
        if (t->count != 4) return 0;
        c->done = true;
        c->end = yajl_get_bytes_consumed(c->h);
    } else if (t->f->min_items > 0 && t->count < t->f->min_items) {
        return 0;
    }
    c->depth--;
    return 1;
}

static const yajl_callbacks callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_array,
};

bool ocpp_stream_check(const char *data, size_t len, const char *action,
                       const ocpp_field_t *fields, const ocpp_stream_sink_t *sink, void *ud,
                       char id[OCPP_MSG_ID_MAX + 1], char *scratch)
{
    if (!fields || !plain_text(data, len)) return false;
    checker_t c = {.text = data, .len = len, .action = action, .root = fields, .sink = sink,
                   .ud = ud, .id = id, .copy = scratch};
    memcpy(c.copy, data, len);
    c.h = yajl_alloc(&callbacks, NULL, &c);
    bool ok = false;
    if (c.h) {
        yajl_config(c.h, yajl_dont_validate_strings, 1); /* plain ASCII, checked above */
        ok = yajl_parse(c.h, (const unsigned char *)data, len) == yajl_status_ok &&
             yajl_complete_parse(c.h) == yajl_status_ok && c.done &&
             json_reader_only_whitespace(data + c.end, len - c.end);
        yajl_free(c.h);
    }
    return ok;
}
