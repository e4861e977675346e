/*
 * Small checks every JSON resource handler needs: who is acting, the numeric
 * {id} of the path, and the fields of a request body. Each answers the
 * problem itself and returns false, so a handler reads as a list of checks.
 */
#include "api/api_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *api_actor(const api_call_t *c)
{
    return c->token_name[0] ? c->token_name : "anonymous";
}

bool api_parse_id(const char *s, int64_t *id)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v <= 0) return false;
    *id = v;
    return true;
}

bool api_path_id(api_call_t *c, const char *what, int64_t *id)
{
    if (api_parse_id(c->params[0], id)) return true;
    api_problem(c, 404, "Not Found", "no %s %.64s", what, c->params[0]);
    return false;
}

bool api_body_only(api_call_t *c, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach(c->body, k, v)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(*a, k) == 0;
        if (!ok) {
            api_problem(c, 400, "Bad Request", "unknown field '%.64s'", k);
            return false;
        }
    }
    return true;
}

bool api_body_str(api_call_t *c, const char *key, size_t max, bool nullable, const char **out)
{
    json_t *v = json_object_get(c->body, key);
    if (!v) return true;
    if (json_is_null(v) && nullable) {
        *out = NULL;
        return true;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        api_problem(c, 400, "Bad Request", "%s must be a string of 1 to %zu characters%s", key, max,
                    nullable ? " (or null)" : "");
        return false;
    }
    *out = json_string_value(v);
    return true;
}
