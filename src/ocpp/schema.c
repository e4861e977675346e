/*
 * The OCPP payload validator: walks a JSON value and a static field table
 * (ocpp/v16_defs.c, ocpp/v201_defs.c) side by side and stops at the first
 * violation.
 *
 * Why not a general JSON Schema engine: OCPP messages use a small, fixed subset
 * of JSON Schema (typed properties, required, enum, maxLength, minimum/maximum,
 * multipleOf, minItems/maxItems, closed objects and 2.0.1's open customData),
 * so the tables are the schema and this file is the whole engine.
 * It allocates nothing (the field path lives in a stack buffer), recursion
 * follows the table, not the payload, so hostile nesting cannot exhaust the
 * stack, and every message it writes is valid UTF-8 so it can be sent back in
 * a CALLERROR's errorDescription as is.
 */
#include "ocpp/schema.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Tables nest at most 8 objects deep (2.0.1: a profile's sales tariff's cost's
 * customData; 1.6: 4), well below this; it only guards against a table that
 * (by mistake) refers to itself. */
#define SCHEMA_MAX_DEPTH 32
#define SCHEMA_PATH_CAP 256
#define SCHEMA_QUOTE_CHARS 40 /* code points of a payload value echoed in a message */
#define SCHEMA_ENUM_LIST_CAP 320

typedef struct vctx {
    char path[SCHEMA_PATH_CAP]; /* "chargingProfile.chargingSchedule.chargingSchedulePeriod[2]" */
    size_t path_len;
    char *msg;
    size_t msg_len;
} vctx_t;

/* ---- lookup ---------------------------------------------------------------------------- */

const ocpp_message_def_t *ocpp_schema_find(const ocpp_version_defs_t *defs, const char *action)
{
    if (defs == NULL || action == NULL) return NULL;
    size_t lo = 0, hi = defs->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(action, defs->messages[mid].action);
        if (cmp == 0) return &defs->messages[mid];
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* ---- RFC 3339 date-time ---------------------------------------------------------------- */

/* Reads exactly n decimal digits; stops at the first non-digit, so it never
 * reads past the terminating NUL. */
static bool read_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* "Z", "z", "+HH:MM" or "-HH:MM"; returns the rest of the string or NULL. */
static const char *read_offset(const char *p)
{
    if (*p == 'Z' || *p == 'z') return p + 1;
    if (*p != '+' && *p != '-') return NULL;
    int oh, om;
    if (!read_digits(p + 1, 2, &oh) || p[3] != ':' || !read_digits(p + 4, 2, &om)) return NULL;
    if (oh > 23 || om > 59) return NULL;
    return p + 6;
}

bool ocpp_schema_is_datetime(const char *s)
{
    int year, month, day, hour, minute, second;
    if (s == NULL) return false;
    /* Each check only runs when every earlier character was a digit or separator. */
    if (!read_digits(s, 4, &year) || s[4] != '-' || !read_digits(s + 5, 2, &month) || s[7] != '-' ||
        !read_digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
        !read_digits(s + 11, 2, &hour) || s[13] != ':' || !read_digits(s + 14, 2, &minute) ||
        s[16] != ':' || !read_digits(s + 17, 2, &second))
        return false;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
        minute > 59 || second > 60)
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    p = read_offset(p);
    return p != NULL && *p == '\0';
}

/* ---- messages -------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (at most `avail` bytes), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
    size_t n;
    uint32_t cp;
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2;
        cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3;
        cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n > avail) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

/* Code points in a string (continuation bytes are not counted). */
static size_t utf8_length(const char *s, size_t bytes)
{
    size_t n = 0;
    for (size_t i = 0; i < bytes; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* Copies a payload string for display: at most SCHEMA_QUOTE_CHARS code points,
 * control characters and invalid UTF-8 shown as '?', "..." when cut short. */
static const char *quote(char *out, size_t cap, const char *s, size_t len)
{
    size_t o = 0, i = 0, chars = 0;
    while (i < len && chars < SCHEMA_QUOTE_CHARS) {
        const unsigned char *u = (const unsigned char *)s + i;
        size_t n = utf8_seq_len(u, len - i);
        if (o + (n ? n : 1) + 4 > cap) break;
        if (n == 0 || (n == 1 && (u[0] < 0x20 || u[0] == 0x7F))) {
            out[o++] = '?';
            i += 1;
        } else {
            memcpy(out + o, u, n);
            o += n;
            i += n;
        }
        chars++;
    }
    if (i < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

/* snprintf may cut a multi-byte character in half; drop such a tail so the
 * message stays valid UTF-8. */
static void utf8_trim_tail(char *s)
{
    size_t len = strlen(s), i = len, cont = 0;
    while (i > 0 && cont < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
        cont++;
    }
    if (i == 0) return;
    size_t n = utf8_seq_len((const unsigned char *)s + i - 1, len - (i - 1));
    if (n == 0 && (unsigned char)s[i - 1] >= 0x80) s[i - 1] = '\0';
}

#if defined(__GNUC__)
#define SCHEMA_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SCHEMA_PRINTF(fmt, args)
#endif

static ocpp_err_t fail(vctx_t *c, ocpp_err_t err, const char *fmt, ...) SCHEMA_PRINTF(3, 4);

/* Writes "<path>: <what>" into the caller's buffer and returns err. */
static ocpp_err_t fail(vctx_t *c, ocpp_err_t err, const char *fmt, ...)
{
    if (c->msg == NULL || c->msg_len == 0) return err;
    int n = 0;
    if (c->path_len > 0) n = snprintf(c->msg, c->msg_len, "%s: ", c->path);
    if (n >= 0 && (size_t)n < c->msg_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->msg + n, c->msg_len - (size_t)n, fmt, ap);
        va_end(ap);
    }
    utf8_trim_tail(c->msg);
    return err;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction or exponent";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    }
    return "an unknown value";
}

static const char *expected_kind(ocpp_type_t t)
{
    switch (t) {
    case OCPP_T_STRING:
        return "a string";
    case OCPP_T_INTEGER:
        return "an integer";
    case OCPP_T_NUMBER:
        return "a number";
    case OCPP_T_BOOLEAN:
        return "a boolean (true or false)";
    case OCPP_T_DATETIME:
        return "an RFC 3339 date-time string";
    case OCPP_T_ENUM:
        return "a string";
    case OCPP_T_OBJECT:
        return "an object";
    case OCPP_T_ARRAY:
        return "an array";
    case OCPP_T_ANY:
        return "any value";
    }
    return "a valid value";
}

/* "Accepted, Blocked, Expired" -- ends in ", ..." when the list does not fit. */
static const char *enum_list(char *out, size_t cap, const char *const *values)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; values != NULL && values[i] != NULL; i++) {
        size_t n = strlen(values[i]);
        const char *sep = i > 0 ? ", " : "";
        if (o + strlen(sep) + n + sizeof(", ...") > cap) {
            memcpy(out + o, i > 0 ? ", ..." : "...", i > 0 ? 6 : 4);
            return out;
        }
        o += (size_t)snprintf(out + o, cap - o, "%s%s", sep, values[i]);
    }
    return out;
}

/* ---- field path ------------------------------------------------------------------------ */

/* The path is built on every field of every message (errors need it), so it
 * is appended with memcpy rather than snprintf; a path too long is cut. */
static void path_append(vctx_t *c, const char *s, size_t n)
{
    size_t room = sizeof(c->path) - 1 - c->path_len;
    if (n > room) n = room;
    memcpy(c->path + c->path_len, s, n);
    c->path_len += n;
    c->path[c->path_len] = '\0';
}

static size_t path_push_name(vctx_t *c, const char *name)
{
    size_t old = c->path_len;
    if (name == NULL) return old;
    if (old > 0) path_append(c, ".", 1);
    path_append(c, name, strlen(name));
    return old;
}

static size_t path_push_index(vctx_t *c, size_t index)
{
    size_t old = c->path_len;
    char digits[24];
    size_t n = 0;
    do {
        digits[sizeof digits - 1 - n++] = (char)('0' + index % 10);
        index /= 10;
    } while (index > 0 && n < sizeof digits - 2);
    digits[sizeof digits - 1 - n++] = '[';
    path_append(c, digits + sizeof digits - n, n);
    path_append(c, "]", 1);
    return old;
}

static void path_pop(vctx_t *c, size_t old)
{
    c->path_len = old;
    c->path[old] = '\0';
}

/* ---- validation ------------------------------------------------------------------------ */

static ocpp_err_t validate_value(vctx_t *c, const ocpp_field_t *f, const json_t *v, int depth);

static ocpp_err_t check_string(vctx_t *c, const ocpp_field_t *f, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t bytes = json_string_length(v);
    if (f->max_len > 0) {
        size_t chars = utf8_length(s, bytes);
        if (chars > (size_t)f->max_len) {
            char q[SCHEMA_QUOTE_CHARS * 4 + 8];
            return fail(c, OCPP_ERR_PROPERTY,
                        "'%s' is %zu characters long; at most %d characters are allowed",
                        quote(q, sizeof(q), s, bytes), chars, f->max_len);
        }
    }
    return OCPP_OK;
}

static ocpp_err_t check_datetime(vctx_t *c, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t bytes = json_string_length(v);
    /* strlen() differs from the length when the string holds a NUL. */
    if (strlen(s) == bytes && ocpp_schema_is_datetime(s)) return OCPP_OK;
    char q[SCHEMA_QUOTE_CHARS * 4 + 8];
    return fail(c, OCPP_ERR_TYPE,
                "'%s' is not an RFC 3339 date-time; use a form like 2024-01-02T03:04:05Z or "
                "2024-01-02T03:04:05.123+01:00",
                quote(q, sizeof(q), s, bytes));
}

bool ocpp_schema_enum_ok(const ocpp_field_t *f, const char *s, size_t len)
{
    for (size_t i = 0; f->enum_values != NULL && f->enum_values[i] != NULL; i++) {
        const char *e = f->enum_values[i];
        if (len > 0 && e[0] != s[0]) continue; /* most values differ at once */
        if (strlen(e) == len && memcmp(e, s, len) == 0) return true;
    }
    return false;
}

static ocpp_err_t check_enum(vctx_t *c, const ocpp_field_t *f, const json_t *v)
{
    const char *s = json_string_value(v);
    size_t bytes = json_string_length(v);
    if (ocpp_schema_enum_ok(f, s, bytes)) return OCPP_OK;
    char q[SCHEMA_QUOTE_CHARS * 4 + 8];
    char list[SCHEMA_ENUM_LIST_CAP];
    return fail(c, OCPP_ERR_PROPERTY, "'%s' is not one of %s", quote(q, sizeof(q), s, bytes),
                enum_list(list, sizeof(list), f->enum_values));
}

/* ocpp-rpc (and so most peers) accept a quotient within 1e-6 of an integer;
 * 16.7 / 0.1 is 166.99999999999997 in binary floating point. Above 2^53 every
 * double is an integer, so the quotient carries no fraction to judge. */
static bool is_multiple_of(double v, double m)
{
    double q = v / m;
    double mag = q < 0 ? -q : q;
    if (!(mag < 9007199254740992.0)) /* also true for infinity and NaN */
        return true;
    double frac = mag - (double)(int64_t)mag;
    return frac < 1e-6 || 1.0 - frac < 1e-6;
}

/* A real as a person would write it: 5.0 stays "5.0", not "5". */
static const char *format_real(char *out, size_t cap, double d)
{
    int n = snprintf(out, cap, "%.15g", d);
    if (n > 0 && (size_t)n + 2 < cap && strpbrk(out, ".eEn") == NULL) memcpy(out + n, ".0", 3);
    return out;
}

/* The value as it was sent, for an error message (made only on failure). */
static const char *shown_number(const json_t *v, char *out, size_t cap)
{
    if (json_is_integer(v)) {
        snprintf(out, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return out;
    }
    return format_real(out, cap, json_number_value(v));
}

bool ocpp_schema_number_ok(const ocpp_field_t *f, double d)
{
    return !(f->has_min && d < f->min) && !(f->has_max && d > f->max) &&
           !(f->multiple_of > 0 && !is_multiple_of(d, f->multiple_of));
}

static ocpp_err_t check_number(vctx_t *c, const ocpp_field_t *f, const json_t *v)
{
    double d = json_number_value(v);
    if (ocpp_schema_number_ok(f, d)) return OCPP_OK;
    char shown[48];
    if (f->has_min && d < f->min)
        return fail(c, OCPP_ERR_PROPERTY, "%s is less than the minimum %.15g",
                    shown_number(v, shown, sizeof shown), f->min);
    if (f->has_max && d > f->max)
        return fail(c, OCPP_ERR_PROPERTY, "%s is greater than the maximum %.15g",
                    shown_number(v, shown, sizeof shown), f->max);
    if (f->multiple_of > 0 && !is_multiple_of(d, f->multiple_of))
        return fail(c, OCPP_ERR_PROPERTY, "%s is not a multiple of %g",
                    shown_number(v, shown, sizeof shown), f->multiple_of);
    return OCPP_OK;
}

static ocpp_err_t check_array(vctx_t *c, const ocpp_field_t *f, const json_t *v, int depth)
{
    size_t n = json_array_size(v);
    if (f->min_items > 0 && n < (size_t)f->min_items)
        return fail(c, OCPP_ERR_OCCURRENCE, "has %zu item%s; at least %d required", n,
                    n == 1 ? "" : "s", f->min_items);
    if (f->max_items > 0 && n > (size_t)f->max_items)
        return fail(c, OCPP_ERR_OCCURRENCE, "has %zu items; at most %d allowed", n, f->max_items);
    if (f->items == NULL)
        return n == 0 ? OCPP_OK : fail(c, OCPP_ERR_INTERNAL, "no item definition");
    for (size_t i = 0; i < n; i++) {
        size_t old = path_push_index(c, i);
        ocpp_err_t err = validate_value(c, f->items, json_array_get(v, i), depth + 1);
        path_pop(c, old);
        if (err != OCPP_OK) return err;
    }
    return OCPP_OK;
}

static const ocpp_field_t *find_field(const ocpp_field_t *fields, const char *key, size_t key_len)
{
    for (const ocpp_field_t *f = fields; f->name != NULL; f++) {
        if (strlen(f->name) == key_len && memcmp(f->name, key, key_len) == 0) return f;
    }
    return NULL;
}

/* The first required field obj lacks, or NULL. */
static const ocpp_field_t *missing_required(const ocpp_field_t *fields, const json_t *obj)
{
    for (const ocpp_field_t *f = fields; f->name != NULL; f++)
        if (f->required && json_object_get(obj, f->name) == NULL) return f;
    return NULL;
}

/* `open`: additional properties are allowed (2.0.1 customData); the listed
 * fields are still checked. The object's own keys are walked (a hash lookup
 * per defined field cost more than the rest of the check); unknown fields are
 * reported first, then values in the order sent, then a missing field. */
static ocpp_err_t validate_object(vctx_t *c, const ocpp_field_t *fields, bool open,
                                  const json_t *obj, int depth)
{
    if (depth > SCHEMA_MAX_DEPTH)
        return fail(c, OCPP_ERR_INTERNAL, "message definition nested deeper than %d levels",
                    SCHEMA_MAX_DEPTH);
    const char *key;
    size_t key_len;
    json_t *value;
    char q[SCHEMA_QUOTE_CHARS * 4 + 8];
    if (!open) {
        /* The cast only drops const for jansson's iteration macro; nothing is modified. */
        json_object_keylen_foreach((json_t *)obj, key, key_len, value)
        {
            if (find_field(fields, key, key_len) == NULL)
                return fail(c, OCPP_ERR_FORMAT, "unknown field '%s'",
                            quote(q, sizeof(q), key, key_len));
        }
    }
    size_t required = 0, required_seen = 0;
    for (const ocpp_field_t *f = fields; f->name != NULL; f++) required += f->required;
    json_object_keylen_foreach((json_t *)obj, key, key_len, value)
    {
        const ocpp_field_t *f = find_field(fields, key, key_len);
        if (f == NULL) continue; /* open object: not ours to check */
        required_seen += f->required;
        size_t old = path_push_name(c, f->name);
        ocpp_err_t err = validate_value(c, f, value, depth + 1);
        path_pop(c, old);
        if (err != OCPP_OK) return err;
    }
    if (required_seen < required) {
        const ocpp_field_t *f = missing_required(fields, obj);
        if (f != NULL) {
            size_t old = path_push_name(c, f->name);
            ocpp_err_t err = fail(c, OCPP_ERR_OCCURRENCE, "required field is missing");
            path_pop(c, old);
            return err;
        }
    }
    return OCPP_OK;
}

static bool type_matches(ocpp_type_t t, const json_t *v)
{
    switch (t) {
    case OCPP_T_STRING:
    case OCPP_T_DATETIME:
    case OCPP_T_ENUM:
        return json_is_string(v);
    case OCPP_T_INTEGER:
        return json_is_integer(v);
    case OCPP_T_NUMBER:
        return json_is_number(v);
    case OCPP_T_BOOLEAN:
        return json_is_boolean(v);
    case OCPP_T_OBJECT:
        return json_is_object(v);
    case OCPP_T_ARRAY:
        return json_is_array(v);
    case OCPP_T_ANY:
        return true;
    }
    return false;
}

static ocpp_err_t validate_value(vctx_t *c, const ocpp_field_t *f, const json_t *v, int depth)
{
    if (!type_matches(f->type, v)) {
        if (f->type == OCPP_T_INTEGER && json_is_real(v)) {
            char shown[48];
            return fail(c, OCPP_ERR_TYPE,
                        "expected an integer, got %s (integers are written without a fraction "
                        "or exponent)",
                        format_real(shown, sizeof(shown), json_real_value(v)));
        }
        return fail(c, OCPP_ERR_TYPE, "expected %s, got %s", expected_kind(f->type), json_kind(v));
    }
    switch (f->type) {
    case OCPP_T_STRING:
        return check_string(c, f, v);
    case OCPP_T_DATETIME:
        return check_datetime(c, v);
    case OCPP_T_ENUM:
        return check_enum(c, f, v);
    case OCPP_T_INTEGER:
    case OCPP_T_NUMBER:
        return check_number(c, f, v);
    case OCPP_T_OBJECT:
        return f->fields != NULL ? validate_object(c, f->fields, f->open, v, depth)
                                 : fail(c, OCPP_ERR_INTERNAL, "no field definitions");
    case OCPP_T_ARRAY:
        return check_array(c, f, v, depth);
    case OCPP_T_BOOLEAN:
    case OCPP_T_ANY:
        return OCPP_OK;
    }
    return fail(c, OCPP_ERR_INTERNAL, "unknown field type %d", (int)f->type);
}

ocpp_err_t ocpp_schema_validate(const ocpp_field_t *fields, const json_t *payload, char *msg,
                                size_t msg_len)
{
    vctx_t c = {.path_len = 0, .msg = msg, .msg_len = msg_len};
    c.path[0] = '\0';
    if (msg != NULL && msg_len > 0) msg[0] = '\0';
    if (fields == NULL)
        return fail(&c, OCPP_ERR_INTERNAL, "no message definition to validate against");
    if (payload == NULL || !json_is_object(payload))
        return fail(&c, OCPP_ERR_FORMAT, "the payload must be a JSON object, got %s",
                    payload == NULL ? "nothing" : json_kind(payload));
    return validate_object(&c, fields, false, payload, 0);
}
