/*
 * Query parameters every list shares: page size, opaque cursors, RFC 3339
 * time ranges, and turning stored Unix-ms fields into RFC 3339 strings.
 */
#include "api/api_internal.h"

#include "util/timefmt.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A cursor is "v1:<key>" in unpadded base64url: opaque to clients, cheap to
 * check, and stable across restarts. */
void api_cursor_encode(const char *key, char *out, size_t len)
{
    char raw[300];
    int n = snprintf(raw, sizeof raw, "v1:%s", key);
    if (n < 0 || (size_t)n >= sizeof raw ||
        sodium_base64_encoded_len((size_t)n, sodium_base64_VARIANT_URLSAFE_NO_PADDING) > len) {
        out[0] = '\0';
        return;
    }
    sodium_bin2base64(out, len, (const unsigned char *)raw, (size_t)n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool api_cursor_decode(api_call_t *c, const char *cursor, char *key, size_t len)
{
    unsigned char raw[300];
    size_t n = 0;
    if (strlen(cursor) > 400 ||
        sodium_base642bin(raw, sizeof raw - 1, cursor, strlen(cursor), NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n < 3 || memcmp(raw, "v1:", 3) != 0 || n - 3 >= len || memchr(raw, '\0', n)) {
        api_problem(c, 400, "Bad Request",
                    "cursor is not one this server gave out; use next_cursor from the last page");
        return false;
    }
    memcpy(key, raw + 3, n - 3);
    key[n - 3] = '\0';
    return true;
}

int api_limit(api_call_t *c, int def, int max)
{
    const char *s = api_query(c, "limit");
    if (!s) return def;
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 1 || v > max) {
        api_problem(c, 400, "Bad Request", "limit must be a whole number from 1 to %d", max);
        return -1;
    }
    return (int)v;
}

bool api_query_time(api_call_t *c, const char *name, int64_t *out)
{
    const char *s = api_query(c, name);
    *out = 0;
    if (!s) return true;
    if (!time_parse_rfc3339(s, out)) {
        api_problem(c, 400, "Bad Request",
                    "%s must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z", name);
        return false;
    }
    return true;
}

void api_json_times(json_t *obj, const char *const *keys)
{
    for (; *keys; keys++) {
        json_t *v = json_object_get(obj, *keys);
        if (!v) continue;
        int64_t ms = json_integer_value(v);
        if (!json_is_integer(v) || ms == 0) {
            json_object_set_new(obj, *keys, json_null());
            continue;
        }
        char buf[TIME_RFC3339_LEN];
        time_format_rfc3339(ms, buf);
        json_object_set_new(obj, *keys, json_string(buf));
    }
}
