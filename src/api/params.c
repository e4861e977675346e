/*
 * Query parameters many routes share: page size, RFC 3339 time ranges, and
 * turning stored Unix-ms fields into RFC 3339 strings. Sorting and cursors
 * are in lists.c.
 */
#include "api/api_internal.h"

#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
