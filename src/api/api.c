/*
 * The API's front door: route matching, bearer-token authentication with a
 * small cache, JSON body parsing and the problem+json error shape. Handlers
 * live in resources.c, events.c and metrics.c.
 *
 * Tokens are random and long, so a fast keyed-free digest (BLAKE2b-256) is
 * what the database stores and what the cache is keyed by; a token created
 * with `ampgrid token create` while the server runs is found on first use
 * through an asynchronous store lookup.
 */
#include "api/api_internal.h"

#include "util/alloc.h"
#include "util/log.h"
#include "util/password.h"
#include "util/timefmt.h"
#include "util/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define TOKEN_CACHE_TTL_MS 60000

const api_route_t api_routes[] = {
    {"GET", "/healthz", api_healthz, ALLOW_PUBLIC, false},
    {"GET", "/metrics", api_metrics, ALLOW_PUBLIC, false},
    {"GET", "/api/v1/openapi.json", api_openapi, ALLOW_PUBLIC, false},
    {"GET", "/api/v1/stations", api_stations_list, ALLOW_READ, false},
    {"POST", "/api/v1/stations", api_stations_create, ALLOW_OPERATE, true},
    {"GET", "/api/v1/stations/{}", api_stations_get, ALLOW_READ, false},
    {"PATCH", "/api/v1/stations/{}", api_stations_patch, ALLOW_STATIONS, true},
    {"DELETE", "/api/v1/stations/{}", api_stations_delete, ALLOW_OPERATE, false},
    {"POST", "/api/v1/stations/{}/rotate-password", api_stations_rotate, ALLOW_OPERATE, false},
    {"GET", "/api/v1/stations/{}/status-history", api_stations_status_history, ALLOW_READ,
     false},
    {"GET", "/api/v1/stations/{}/events", api_stations_events, ALLOW_READ, false},
    {"POST", "/api/v1/stations/{}/commands/{}", api_commands_send, ALLOW_STATIONS, true},
    {"GET", "/api/v1/stations/{}/variables", api_variables_list, ALLOW_READ, false},
    {"POST", "/api/v1/stations/{}/variables", api_variables_set, ALLOW_STATIONS, true},
    {"GET", "/api/v1/id-tokens", api_tokens_list, ALLOW_READ_PRIVATE, false},
    {"POST", "/api/v1/id-tokens", api_tokens_create, ALLOW_OPERATE, true},
    {"GET", "/api/v1/id-tokens/{}", api_tokens_get, ALLOW_READ_PRIVATE, false},
    {"PATCH", "/api/v1/id-tokens/{}", api_tokens_patch, ALLOW_OPERATE, true},
    {"DELETE", "/api/v1/id-tokens/{}", api_tokens_delete, ALLOW_OPERATE, false},
    {"GET", "/api/v1/sessions", api_sessions_list, ALLOW_READ, false},
    {"GET", "/api/v1/sessions/{}", api_sessions_get, ALLOW_READ, false},
    {"GET", "/api/v1/events", api_events_stream, ALLOW_READ, false},
    {NULL, NULL, NULL, ALLOW_PUBLIC, false},
};

/* ------------------------------------------------------------ responses */

void api_call_free(api_call_t *call)
{
    json_decref(call->body);
    free(call);
}

static void req_gone_cb(net_req_t *r, void *ud)
{
    api_call_t *call = ud;
    call->req = NULL;
}

void api_hold(api_call_t *call)
{
    if (call->req) net_req_on_close(call->req, req_gone_cb, call);
}

bool api_alive(api_call_t *call)
{
    if (call->req) return true;
    api_call_free(call);
    return false;
}

static void respond(api_call_t *call, int status, const char *ctype, const char *body, size_t len,
                    const char *extra)
{
    if (call->req) net_req_respond(call->req, status, ctype, body, len, extra);
    api_call_free(call);
}

void api_json(api_call_t *call, int status, json_t *body)
{
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!s) s = xstrdup("{}");
    respond(call, status, "application/json", s, strlen(s), NULL);
    free(s);
}

void api_no_content(api_call_t *call)
{
    respond(call, 204, "application/json", "", 0, NULL);
}

static void problem_v(api_call_t *call, int status, const char *title, const char *extra,
                      const char *fmt, va_list ap)
{
    char detail[512];
    vsnprintf(detail, sizeof detail, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized): callers va_start it
    utf8_sanitize(detail); /* it may quote the request, and may be cut mid-character */
    json_t *p = json_pack("{s:s,s:s,s:i,s:s}", "type", "about:blank", "title", title, "status",
                          status, "detail", detail);
    char *s = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    respond(call, status, "application/problem+json", s, strlen(s), extra);
    free(s);
}

void api_problem(api_call_t *call, int status, const char *title, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    problem_v(call, status, title, NULL, fmt, ap);
    va_end(ap);
}

static void problem_extra(api_call_t *call, int status, const char *title, const char *extra,
                          const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void problem_extra(api_call_t *call, int status, const char *title, const char *extra,
                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    problem_v(call, status, title, extra, fmt, ap);
    va_end(ap);
}

void api_csms_error(api_call_t *call, csms_err_t e, const char *msg)
{
    switch (e) {
    case CSMS_OK: api_no_content(call); return;
    case CSMS_ERR_NOT_FOUND: api_problem(call, 404, "Not Found", "%s", msg); return;
    case CSMS_ERR_EXISTS: api_problem(call, 409, "Conflict", "%s", msg); return;
    case CSMS_ERR_INVALID: api_problem(call, 400, "Bad Request", "%s", msg); return;
    case CSMS_ERR_NOT_CONNECTED: api_problem(call, 409, "Conflict", "%s", msg); return; // NOLINT(bugprone-branch-clone): two conflicts, two messages
    case CSMS_ERR_BUSY: api_problem(call, 409, "Conflict", "%s", msg); return;
    case CSMS_ERR_STORE:
        api_problem(call, 503, "Service Unavailable", "%s",
                    msg ? msg : "the change could not be stored; retry");
        return;
    }
}

const char *api_query(api_call_t *call, const char *name)
{
    return call->req ? net_req_query(call->req, name) : NULL;
}

/* -------------------------------------------------------------- routing */

/* Matches path against pattern, capturing {} segments. */
static bool match(const char *pattern, const char *path, api_call_t *call)
{
    int np = 0;
    while (*pattern && *path) {
        if (pattern[0] == '{' && pattern[1] == '}') {
            const char *end = strchr(path, '/');
            size_t n = end ? (size_t)(end - path) : strlen(path);
            if (n == 0 || n >= sizeof call->params[0] || np >= API_MAX_PARAMS) return false;
            memcpy(call->params[np], path, n);
            call->params[np][n] = '\0';
            np++;
            path += n;
            pattern += 2;
            continue;
        }
        if (*pattern != *path) return false;
        pattern++;
        path++;
    }
    return *pattern == '\0' && *path == '\0';
}

const char *api_role_name(api_role_t r)
{
    static const char *const names[ROLE_COUNT_] = {"none",     "viewer",   "integration",
                                                   "technician", "operator", "admin"};
    return r < ROLE_COUNT_ ? names[r] : "none";
}

api_role_t api_role_parse(const char *s)
{
    for (int r = ROLE_VIEWER; s && r < ROLE_COUNT_; r++)
        if (strcmp(s, api_role_name((api_role_t)r)) == 0) return (api_role_t)r;
    return ROLE_NONE;
}

/* "operator or admin": the roles a route allows, for 403 answers. */
static void allowed_roles(api_allow_t allow, char *out, size_t len)
{
    out[0] = '\0';
    int n = 0, total = __builtin_popcount(allow);
    for (int r = ROLE_VIEWER; r < ROLE_COUNT_; r++) {
        if (!(allow & ROLE_BIT(r))) continue;
        n++;
        size_t used = strlen(out);
        snprintf(out + used, len - used, "%s%s", n == 1 ? "" : n == total ? " or " : ", ",
                 api_role_name((api_role_t)r));
    }
}

static void run(api_call_t *call)
{
    const api_route_t *rt = call->route;
    if (rt->allow != ALLOW_PUBLIC && !(rt->allow & ROLE_BIT(call->role))) {
        char roles[96];
        allowed_roles(rt->allow, roles, sizeof roles);
        api_problem(call, 403, "Forbidden", "this needs the %s role; '%s' has the %s role", roles,
                    call->token_name, api_role_name(call->role));
        return;
    }
    if (rt->json_body) {
        size_t len;
        const char *body = net_req_body(call->req, &len);
        const char *ct = net_req_header(call->req, "content-type");
        if (len == 0) {
            call->body = json_object();
        } else {
            /* exactly application/json, parameters (charset) allowed */
            if (ct && (strncasecmp(ct, "application/json", 16) != 0 ||
                       (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' '))) {
                api_problem(call, 415, "Unsupported Media Type",
                            "send the body as application/json");
                return;
            }
            json_error_t err;
            call->body = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
            if (!call->body) {
                api_problem(call, 400, "Bad Request", "body is not valid JSON: %s (line %d)",
                            err.text, err.line);
                return;
            }
            if (!json_is_object(call->body)) {
                api_problem(call, 400, "Bad Request", "body must be a JSON object");
                return;
            }
        }
    }
    rt->fn(call);
}

typedef struct lookup_ctx {
    api_call_t *call;
    char digest[65];
} lookup_ctx_t;

static void unauthorized(api_call_t *call, const char *detail)
{
    problem_extra(call, 401, "Unauthorized", "WWW-Authenticate: Bearer realm=\"ampgrid\"\r\n",
                  "%s", detail);
}

static void token_found(void *p, store_err_t rc, json_t *res)
{
    lookup_ctx_t *l = p;
    api_call_t *call = l->call;
    api_t *a = call->api;
    if (!api_alive(call)) {
        free(l);
        return;
    }
    if (rc != STORE_OK || !res) {
        free(l);
        unauthorized(call, "the bearer token is unknown or revoked");
        return;
    }
    int64_t exp = json_integer_value(json_object_get(res, "expires_at"));
    api_token_cache_t *t = NULL;
    HASH_FIND_STR(a->tokens, l->digest, t);
    if (!t) {
        if (HASH_COUNT(a->tokens) > 10000) {
            while (a->tokens) { /* drop the whole cache; the store still has every token */
                api_token_cache_t *x = a->tokens;
                HASH_DEL(a->tokens, x); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
                free(x);
            }
        }
        t = xcalloc(1, sizeof *t);
        memcpy(t->digest, l->digest, sizeof t->digest);
        HASH_ADD_STR(a->tokens, digest, t);
    }
    t->role = api_role_parse(json_string_value(json_object_get(res, "role")));
    snprintf(t->name, sizeof t->name, "%s", json_string_value(json_object_get(res, "name")));
    t->expires_at = exp;
    t->cached_at = time_now_ms();
    free(l);
    if (exp && exp <= time_now_ms()) {
        unauthorized(call, "the bearer token has expired");
        return;
    }
    call->role = t->role;
    snprintf(call->token_name, sizeof call->token_name, "%s", t->name);
    run(call);
}

static const char *bearer(api_call_t *call)
{
    const char *h = net_req_header(call->req, "authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0) return h + 7;
    /* EventSource cannot send headers: the stream also takes ?access_token=. */
    if (call->route->fn == api_events_stream) return net_req_query(call->req, "access_token");
    return NULL;
}

static void authenticate(api_call_t *call)
{
    api_t *a = call->api;
    const char *tok = bearer(call);
    if (!tok || !*tok) {
        unauthorized(call, "send an API token: Authorization: Bearer <token> "
                           "(create one with `ampgrid token create`)");
        return;
    }
    if (strlen(tok) > 200) {
        unauthorized(call, "the bearer token is malformed");
        return;
    }
    char digest[65];
    password_token_digest(tok, digest);
    api_token_cache_t *t = NULL;
    HASH_FIND_STR(a->tokens, digest, t);
    int64_t now = time_now_ms();
    if (t && now - t->cached_at < TOKEN_CACHE_TTL_MS) {
        if (t->expires_at && t->expires_at <= now) {
            unauthorized(call, "the bearer token has expired");
            return;
        }
        call->role = t->role;
        snprintf(call->token_name, sizeof call->token_name, "%s", t->name);
        run(call);
        return;
    }
    lookup_ctx_t *l = xmalloc(sizeof *l);
    l->call = call;
    memcpy(l->digest, digest, sizeof digest);
    api_hold(call);
    store_api_token_lookup(a->d.store, digest, token_found, l);
}

void api_on_request(void *ud, net_req_t *r)
{
    api_t *a = ud;
    api_call_t *call = xcalloc(1, sizeof *call);
    call->api = a;
    call->req = r;
    const char *method = net_req_method(r), *path = net_req_path(r);
    char allow[64] = "";
    /* HEAD is GET without the body (net/ leaves the body out). */
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    for (const api_route_t *rt = api_routes; rt->method; rt++) {
        if (!match(rt->pattern, path, call)) continue;
        if (strcmp(rt->method, want) == 0) {
            call->route = rt;
            break;
        }
        if (strlen(allow) + strlen(rt->method) + 3 < sizeof allow)
            snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
                     allow[0] ? ", " : "", rt->method);
    }
    if (!call->route) {
        if (allow[0]) {
            char hdr[96];
            snprintf(hdr, sizeof hdr, "Allow: %s\r\n", allow);
            problem_extra(call, 405, "Method Not Allowed", hdr, "%s is not allowed on %s; use %s",
                          method, path, allow);
        } else {
            api_problem(call, 404, "Not Found", "no resource at %s", path);
        }
        return;
    }
    /* LWS decodes '+' in the path as a space. Station ids cannot contain
     * spaces but may contain '+', so a space there was a '+'. */
    if (strncmp(call->route->pattern, "/api/v1/stations/{}", 19) == 0)
        for (char *p = call->params[0]; *p; p++)
            if (*p == ' ') *p = '+';
    if (call->route->allow == ALLOW_PUBLIC) {
        run(call);
        return;
    }
    authenticate(call);
}

/* ------------------------------------------------------------ lifecycle */

api_t *api_create(uv_loop_t *loop, const api_deps_t *deps)
{
    api_t *a = xcalloc(1, sizeof *a);
    a->loop = loop;
    a->d = *deps;
    api_events_init(a);
    return a;
}

void api_set_net(api_t *a, net_t *net)
{
    a->d.net = net;
}

void api_shutdown(api_t *a)
{
    api_events_shutdown(a);
}

void api_destroy(api_t *a)
{
    while (a->tokens) {
        api_token_cache_t *t = a->tokens;
        HASH_DEL(a->tokens, t); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
        free(t);
    }
    for (size_t i = 0; i < sizeof a->ring / sizeof a->ring[0]; i++) free(a->ring[i].frame);
    free(a);
}
