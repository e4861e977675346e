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
#include "store/store_accounts.h"

#include <sodium.h>

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
    {"GET", "/api/v1/analytics/energy", api_analytics_energy, ALLOW_READ, false},
    {"GET", "/api/v1/analytics/utilization", api_analytics_utilization, ALLOW_READ, false},
    {"GET", "/api/v1/analytics/sessions-by-hour", api_analytics_sessions_by_hour, ALLOW_READ,
     false},
    {"GET", "/api/v1/analytics/summary", api_analytics_summary, ALLOW_READ, false},
    {"GET", "/api/v1/exports/sessions.csv", api_export_sessions_csv, ALLOW_READ, false},
    {"GET", "/api/v1/exports/meter-values.csv", api_export_meter_values_csv, ALLOW_READ, false},
    {"GET", "/api/v1/public/locations", api_public_locations, ALLOW_PUBLIC, false},
    {"GET", "/api/v1/webhooks", api_webhooks_list, ALLOW_WEBHOOKS, false},
    {"POST", "/api/v1/webhooks", api_webhooks_create, ALLOW_WEBHOOKS, true},
    {"GET", "/api/v1/webhooks/{}", api_webhooks_get, ALLOW_WEBHOOKS, false},
    {"PATCH", "/api/v1/webhooks/{}", api_webhooks_patch, ALLOW_WEBHOOKS, true},
    {"DELETE", "/api/v1/webhooks/{}", api_webhooks_delete, ALLOW_WEBHOOKS, false},
    {"POST", "/api/v1/webhooks/{}/rotate-secret", api_webhooks_rotate_secret, ALLOW_WEBHOOKS,
     false},
    {"POST", "/api/v1/webhooks/{}/test", api_webhooks_test, ALLOW_WEBHOOKS, false},
    {"GET", "/api/v1/webhooks/{}/deliveries", api_webhooks_deliveries, ALLOW_WEBHOOKS, false},
    {"GET", "/api/v1/webhooks/{}/deliveries/{}", api_webhooks_delivery_get, ALLOW_WEBHOOKS,
     false},
    {"POST", "/api/v1/webhooks/{}/deliveries/{}/redeliver", api_webhooks_redeliver,
     ALLOW_WEBHOOKS, false},
    {"POST", "/api/v1/auth/login", api_auth_login, ALLOW_PUBLIC, true},
    {"POST", "/api/v1/auth/logout", api_auth_logout, ALLOW_READ, false},
    {"GET", "/api/v1/auth/me", api_auth_me, ALLOW_READ, false},
    {"POST", "/api/v1/auth/password", api_auth_password, ALLOW_READ, true},
    {"GET", "/api/v1/users", api_users_list, ALLOW_ADMIN, false},
    {"POST", "/api/v1/users", api_users_create, ALLOW_ADMIN, true},
    {"GET", "/api/v1/users/{}", api_users_get, ALLOW_ADMIN, false},
    {"PATCH", "/api/v1/users/{}", api_users_patch, ALLOW_ADMIN, true},
    {"DELETE", "/api/v1/users/{}", api_users_delete, ALLOW_ADMIN, false},
    {"GET", "/api/v1/api-tokens", api_api_tokens_list, ALLOW_ADMIN, false},
    {"POST", "/api/v1/api-tokens", api_api_tokens_create, ALLOW_ADMIN, true},
    {"DELETE", "/api/v1/api-tokens/{}", api_api_tokens_delete, ALLOW_ADMIN, false},
    {"GET", "/api/v1/audit-log", api_audit_list, ALLOW_ADMIN, false},
    {"GET", "/api/v1/alerts", api_alerts_list, ALLOW_READ, false},
    {"GET", "/api/v1/alerts/{}", api_alerts_get, ALLOW_READ, false},
    {"POST", "/api/v1/alerts/{}/acknowledge", api_alerts_acknowledge, ALLOW_MAINTENANCE, true},
    {"POST", "/api/v1/alerts/{}/resolve", api_alerts_resolve, ALLOW_MAINTENANCE, true},
    {"GET", "/api/v1/alert-rules", api_alert_rules, ALLOW_READ, false},
    {"GET", "/api/v1/uptime", api_uptime_report, ALLOW_READ, false},
    {"GET", "/api/v1/uptime/outages", api_uptime_outages, ALLOW_READ, false},
    {"GET", "/api/v1/uptime/exclusions", api_uptime_exclusions_list, ALLOW_READ, false},
    {"POST", "/api/v1/uptime/exclusions", api_uptime_exclusions_create, ALLOW_MAINTENANCE, true},
    {"GET", "/api/v1/uptime/exclusions/{}", api_uptime_exclusions_get, ALLOW_READ, false},
    {"PATCH", "/api/v1/uptime/exclusions/{}", api_uptime_exclusions_patch, ALLOW_MAINTENANCE,
     true},
    {"DELETE", "/api/v1/uptime/exclusions/{}", api_uptime_exclusions_delete, ALLOW_MAINTENANCE,
     false},
    {"GET", "/api/v1/work-orders", api_workorders_list, ALLOW_READ_PRIVATE, false},
    {"POST", "/api/v1/work-orders", api_workorders_create, ALLOW_OPERATE, true},
    {"GET", "/api/v1/work-orders/{}", api_workorders_get, ALLOW_READ_PRIVATE, false},
    {"PATCH", "/api/v1/work-orders/{}", api_workorders_patch, ALLOW_MAINTENANCE, true},
    {"POST", "/api/v1/work-orders/{}/notes", api_workorders_note, ALLOW_MAINTENANCE, true},
    {"POST", "/api/v1/work-orders/{}/time", api_workorders_time, ALLOW_MAINTENANCE, true},
    {"POST", "/api/v1/work-orders/{}/parts", api_workorders_use_part, ALLOW_MAINTENANCE, true},
    {"POST", "/api/v1/work-orders/{}/attachments", api_workorders_attach, ALLOW_MAINTENANCE,
     false},
    {"GET", "/api/v1/work-orders/{}/attachments/{}", api_workorders_attachment,
     ALLOW_READ_PRIVATE, false},
    {"GET", "/api/v1/parts", api_parts_list, ALLOW_READ_PRIVATE, false},
    {"POST", "/api/v1/parts", api_parts_create, ALLOW_OPERATE, true},
    {"GET", "/api/v1/parts/{}", api_parts_get, ALLOW_READ_PRIVATE, false},
    {"PATCH", "/api/v1/parts/{}", api_parts_patch, ALLOW_OPERATE, true},
    {"GET", "/api/v1/depots", api_depots_list, ALLOW_READ_PRIVATE, false},
    {"POST", "/api/v1/depots", api_depots_create, ALLOW_OPERATE, true},
    {"GET", "/api/v1/depots/{}", api_depots_get, ALLOW_READ_PRIVATE, false},
    {"PATCH", "/api/v1/depots/{}", api_depots_patch, ALLOW_OPERATE, true},
    {"GET", "/api/v1/stock", api_stock_list, ALLOW_READ_PRIVATE, false},
    {"POST", "/api/v1/stock/adjustments", api_stock_adjust, ALLOW_OPERATE, true},
    {"GET", "/api/v1/maintenance-plans", api_plans_list, ALLOW_READ_PRIVATE, false},
    {"POST", "/api/v1/maintenance-plans", api_plans_create, ALLOW_OPERATE, true},
    {"GET", "/api/v1/maintenance-plans/{}", api_plans_get, ALLOW_READ_PRIVATE, false},
    {"PATCH", "/api/v1/maintenance-plans/{}", api_plans_patch, ALLOW_OPERATE, true},
    {"DELETE", "/api/v1/maintenance-plans/{}", api_plans_delete, ALLOW_OPERATE, false},
    {"GET", "/api/v1/maintenance-windows", api_windows_list, ALLOW_READ_PRIVATE, false},
    {"POST", "/api/v1/maintenance-windows", api_windows_create, ALLOW_MAINTENANCE, true},
    {"GET", "/api/v1/maintenance-windows/{}", api_windows_get, ALLOW_READ_PRIVATE, false},
    {"DELETE", "/api/v1/maintenance-windows/{}", api_windows_delete, ALLOW_MAINTENANCE, false},
    {"GET", "/api/v1/reports/nevi-quarterly", api_nevi_quarterly, ALLOW_READ, false},
    {"GET", "/api/v1/reports/nevi-quarterly.csv", api_nevi_quarterly_csv, ALLOW_READ, false},
    {"GET", "/api/v1/demand-response/events", api_dr_events_list, ALLOW_READ, false},
    {"POST", "/api/v1/demand-response/events", api_dr_events_create, ALLOW_OPERATE, true},
    {"GET", "/api/v1/demand-response/events/{}", api_dr_events_get, ALLOW_READ, false},
    {"PATCH", "/api/v1/demand-response/events/{}", api_dr_events_patch, ALLOW_OPERATE, true},
    {"DELETE", "/api/v1/demand-response/events/{}", api_dr_events_delete, ALLOW_OPERATE, false},
    {"GET", "/api/v1/prices", api_prices_list, ALLOW_READ, false},
    {"POST", "/api/v1/prices", api_prices_create, ALLOW_OPERATE, true},
    {"GET", "/api/v1/prices/{}", api_prices_get, ALLOW_READ, false},
    {"PATCH", "/api/v1/prices/{}", api_prices_patch, ALLOW_OPERATE, true},
    {"DELETE", "/api/v1/prices/{}", api_prices_delete, ALLOW_OPERATE, false},
    {"GET", "/api/v1/firmware-campaigns", api_campaigns_list, ALLOW_READ_PRIVATE, false},
    {"POST", "/api/v1/firmware-campaigns", api_campaigns_create, ALLOW_OPERATE, true},
    {"GET", "/api/v1/firmware-campaigns/{}", api_campaigns_get, ALLOW_READ_PRIVATE, false},
    {"PATCH", "/api/v1/firmware-campaigns/{}", api_campaigns_patch, ALLOW_OPERATE, true},
    {"GET", "/api/v1/firmware-campaigns/{}/stations", api_campaigns_stations, ALLOW_READ_PRIVATE,
     false},
    {"POST", "/api/v1/firmware-campaigns/{}/start", api_campaigns_start, ALLOW_OPERATE, false},
    {"POST", "/api/v1/firmware-campaigns/{}/pause", api_campaigns_pause, ALLOW_OPERATE, false},
    {"POST", "/api/v1/firmware-campaigns/{}/resume", api_campaigns_resume, ALLOW_OPERATE, false},
    {"POST", "/api/v1/firmware-campaigns/{}/cancel", api_campaigns_cancel, ALLOW_OPERATE, false},
    {"POST", "/api/v1/firmware-campaigns/{}/promote", api_campaigns_promote, ALLOW_OPERATE,
     false},
    {"POST", "/api/v1/firmware-campaigns/{}/stations/{}/retry", api_campaigns_retry,
     ALLOW_OPERATE, false},
    {"GET", "/api/v1/sites", api_sites_list, ALLOW_READ, false},
    {"GET", "/api/v1/sites/{}/capacity", api_site_capacity_get, ALLOW_READ, false},
    {"PUT", "/api/v1/sites/{}/capacity", api_site_capacity_put, ALLOW_OPERATE, true},
    {"DELETE", "/api/v1/sites/{}/capacity", api_site_capacity_delete, ALLOW_OPERATE, false},
    {"GET", "/api/v1/sites/{}/allocation", api_site_allocation, ALLOW_READ, false},
    {"GET", "/api/v1/sites/{}/allocation/history", api_site_allocation_history, ALLOW_READ,
     false},
    {"POST", "/api/v1/sites/{}/verify", api_site_verify, ALLOW_OPERATE, false},
    {"PUT", "/api/v1/sites/{}/nodes/{}/load", api_site_node_load, ALLOW_METER, true},
    {"GET", "/api/v1/sessions/{}/charging-needs", api_session_needs_get, ALLOW_READ, false},
    {"PUT", "/api/v1/sessions/{}/charging-needs", api_session_needs_put, ALLOW_OPERATE, true},
    {"POST", "/api/v1/stations/{}/diagnostics", api_diagnostics_request, ALLOW_STATIONS, true},
    {"GET", "/api/v1/diagnostics", api_diagnostics_list, ALLOW_READ, false},
    {"GET", "/api/v1/diagnostics/{}", api_diagnostics_get, ALLOW_READ, false},
    {"GET", "/api/v1/diagnostics/{}/file", api_diagnostics_file, ALLOW_READ_PRIVATE, false},
    {"POST", "/api/v1/firmware", api_firmware_upload, ALLOW_OPERATE, false},
    {"GET", "/api/v1/firmware", api_firmware_list, ALLOW_READ, false},
    {"GET", "/api/v1/firmware/{}", api_firmware_get, ALLOW_READ, false},
    {"PATCH", "/api/v1/firmware/{}", api_firmware_patch, ALLOW_OPERATE, true},
    {"DELETE", "/api/v1/firmware/{}", api_firmware_delete, ALLOW_OPERATE, false},
    {"GET", "/api/v1/firmware/{}/file", api_firmware_file, ALLOW_READ_PRIVATE, false},
    {NULL, NULL, NULL, ALLOW_PUBLIC, false},
};

/* ------------------------------------------------------------ responses */

void api_call_free(api_call_t *call)
{
    api_audit_free(call->audit);
    json_decref(call->before);
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
    if (api_audit_respond(call, status, ctype, body, len, extra)) return;
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

/* Token bucket per principal; answers 429 and returns false when empty. */
static bool rate_ok(api_call_t *call)
{
    api_t *a = call->api;
    if (a->d.rate_limit <= 0) return true;
    char key[80];
    snprintf(key, sizeof key, "%c:%s", call->actor_kind[0], call->credential);
    api_bucket_t *b = NULL;
    HASH_FIND_STR(a->buckets, key, b);
    int64_t now = time_now_ms();
    if (!b) {
        if (HASH_COUNT(a->buckets) > 20000) {
            api_bucket_t *x, *tmp;
            HASH_ITER(hh, a->buckets, x, tmp) { /* full buckets carry no state */
                if (x->tokens + (double)(now - x->at_ms) * a->d.rate_limit / 1000.0 >=
                    a->d.rate_burst) {
                    HASH_DEL(a->buckets, x); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
                    free(x);
                }
            }
        }
        b = xcalloc(1, sizeof *b);
        snprintf(b->key, sizeof b->key, "%s", key);
        b->tokens = a->d.rate_burst;
        b->at_ms = now;
        HASH_ADD_STR(a->buckets, key, b);
    }
    b->tokens += (double)(now - b->at_ms) * a->d.rate_limit / 1000.0;
    if (b->tokens > a->d.rate_burst) b->tokens = a->d.rate_burst;
    b->at_ms = now;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return true;
    }
    int wait = (int)((1.0 - b->tokens) / a->d.rate_limit) + 1;
    char hdr[48];
    snprintf(hdr, sizeof hdr, "Retry-After: %d\r\n", wait);
    problem_extra(call, 429, "Too Many Requests", hdr,
                  "'%s' sent more than %d requests a second (bursts up to %d); retry in %d s",
                  call->token_name, a->d.rate_limit, a->d.rate_burst, wait);
    return false;
}

static bool unsafe_method(const char *m)
{
    return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0;
}

static void run(api_call_t *call)
{
    const api_route_t *rt = call->route;
    if (rt->allow != ALLOW_PUBLIC) {
        if (!rate_ok(call)) return;
        if (!(rt->allow & ROLE_BIT(call->role))) {
            char roles[96];
            allowed_roles(rt->allow, roles, sizeof roles);
            api_problem(call, 403, "Forbidden", "this needs the %s role; '%s' has the %s role",
                        roles, call->token_name, api_role_name(call->role));
            return;
        }
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

static void unauthorized(api_call_t *call, const char *detail)
{
    problem_extra(call, 401, "Unauthorized", "WWW-Authenticate: Bearer realm=\"ampgrid\"\r\n",
                  "%s", detail);
}

/* ---------------------------------------------------------- API tokens */

static void token_accept(api_call_t *call, const api_token_cache_t *t)
{
    call->role = t->role;
    call->actor_kind = "token";
    memcpy(call->credential, t->digest, sizeof call->credential);
    snprintf(call->token_name, sizeof call->token_name, "%s", t->name);
    run(call);
}

static void token_found(void *p, store_err_t rc, json_t *res)
{
    api_call_t *call = p;
    api_t *a = call->api;
    if (!api_alive(call)) return;
    if (rc != STORE_OK || !res) {
        unauthorized(call, "the bearer token is unknown or revoked");
        return;
    }
    int64_t exp = json_integer_value(json_object_get(res, "expires_at"));
    api_token_cache_t *t = NULL;
    HASH_FIND_STR(a->tokens, call->credential, t);
    if (!t) {
        if (HASH_COUNT(a->tokens) > 10000) {
            while (a->tokens) { /* drop the whole cache; the store still has every token */
                api_token_cache_t *x = a->tokens;
                HASH_DEL(a->tokens, x); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
                free(x);
            }
        }
        t = xcalloc(1, sizeof *t);
        memcpy(t->digest, call->credential, sizeof t->digest);
        HASH_ADD_STR(a->tokens, digest, t);
    }
    t->role = api_role_parse(json_string_value(json_object_get(res, "role")));
    snprintf(t->name, sizeof t->name, "%s", json_string_value(json_object_get(res, "name")));
    t->expires_at = exp;
    t->cached_at = time_now_ms();
    store_api_token_used(a->d.store, t->digest, t->cached_at);
    if (exp && exp <= time_now_ms()) {
        unauthorized(call, "the bearer token has expired");
        return;
    }
    token_accept(call, t);
}

static void by_token(api_call_t *call, const char *tok)
{
    api_t *a = call->api;
    if (strlen(tok) > 200) {
        unauthorized(call, "the bearer token is malformed");
        return;
    }
    password_token_digest(tok, call->credential);
    api_token_cache_t *t = NULL;
    HASH_FIND_STR(a->tokens, call->credential, t);
    int64_t now = time_now_ms();
    if (t && now - t->cached_at < TOKEN_CACHE_TTL_MS) {
        if (t->expires_at && t->expires_at <= now) {
            unauthorized(call, "the bearer token has expired");
            return;
        }
        token_accept(call, t);
        return;
    }
    api_hold(call);
    store_api_token_lookup(a->d.store, call->credential, token_found, call);
}

/* ------------------------------------------------------ login sessions */

static void session_accept(api_call_t *call, api_session_cache_t *x)
{
    api_t *a = call->api;
    int64_t now = time_now_ms();
    if (x->expires_at <= now || now - x->last_seen > (int64_t)a->d.session_idle * 1000) {
        api_forget_session(a, x->digest);
        unauthorized(call, "your login session has expired; log in again");
        return;
    }
    if (unsafe_method(net_req_method(call->req)) && call->route->allow != ALLOW_PUBLIC) {
        const char *h = net_req_header(call->req, "x-csrf-token");
        if (!h || strlen(h) != strlen(x->csrf) ||
            sodium_memcmp(h, x->csrf, strlen(x->csrf)) != 0) {
            api_problem(call, 403, "Forbidden",
                        "a change made with a login session must carry the X-CSRF-Token header "
                        "given at login (GET /api/v1/auth/me shows it)");
            return;
        }
    }
    x->last_seen = now;
    if (now - x->touched_at > 60000) {
        x->touched_at = now;
        store_session_touch(a->d.store, x->digest, now);
    }
    call->role = x->role;
    call->actor_kind = "user";
    call->user_id = x->user_id;
    memcpy(call->credential, x->digest, sizeof call->credential);
    snprintf(call->token_name, sizeof call->token_name, "%s", x->username);
    run(call);
}

static void session_found(void *p, store_err_t rc, json_t *res)
{
    api_call_t *call = p;
    api_t *a = call->api;
    if (!api_alive(call)) return;
    json_t *row = res ? json_array_get(json_array_get(res, 0), 0) : NULL;
    if (rc != STORE_OK || !row) {
        unauthorized(call, "the login session is unknown or has ended; log in again");
        return;
    }
    if (json_integer_value(json_object_get(row, "disabled"))) {
        unauthorized(call, "this user is disabled");
        return;
    }
    api_session_cache_t *x = NULL;
    HASH_FIND_STR(a->sessions, call->credential, x);
    if (!x) {
        x = xcalloc(1, sizeof *x);
        memcpy(x->digest, call->credential, sizeof x->digest);
        HASH_ADD_STR(a->sessions, digest, x);
    }
    x->user_id = json_integer_value(json_object_get(row, "user_id"));
    snprintf(x->username, sizeof x->username, "%s",
             json_string_value(json_object_get(row, "username")));
    x->role = api_role_parse(json_string_value(json_object_get(row, "role")));
    snprintf(x->csrf, sizeof x->csrf, "%s", json_string_value(json_object_get(row, "csrf")));
    x->expires_at = json_integer_value(json_object_get(row, "expires_at"));
    x->last_seen = json_integer_value(json_object_get(row, "last_seen_at"));
    x->touched_at = x->last_seen;
    x->cached_at = time_now_ms();
    session_accept(call, x);
}

static void by_session(api_call_t *call, const char *cookie)
{
    api_t *a = call->api;
    password_token_digest(cookie, call->credential);
    api_session_cache_t *x = NULL;
    HASH_FIND_STR(a->sessions, call->credential, x);
    if (x && time_now_ms() - x->cached_at < TOKEN_CACHE_TTL_MS) {
        session_accept(call, x);
        return;
    }
    api_hold(call);
    store_session_lookup(a->d.store, call->credential, session_found, call);
}

/* The session cookie's value, copied into out; false when there is none. */
static bool session_cookie(api_call_t *call, char *out, size_t len)
{
    const char *h = net_req_header(call->req, "cookie");
    for (const char *p = h; p && *p;) {
        while (*p == ' ' || *p == ';') p++;
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 16 && strncmp(p, API_SESSION_COOKIE "=", 16) == 0) {
            if (n - 16 >= len) return false;
            memcpy(out, p + 16, n - 16);
            out[n - 16] = '\0';
            return out[0] != '\0';
        }
        p = end;
    }
    return false;
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
    const char *tok = bearer(call);
    if (tok && *tok) {
        by_token(call, tok);
        return;
    }
    char cookie[128];
    if (session_cookie(call, cookie, sizeof cookie)) {
        by_session(call, cookie);
        return;
    }
    unauthorized(call, "send an API token (Authorization: Bearer <token>; create one with "
                       "`ampgrid token create`) or log in (POST /api/v1/auth/login)");
}

void api_forget_user(api_t *a, int64_t user_id)
{
    api_session_cache_t *x, *tmp;
    HASH_ITER(hh, a->sessions, x, tmp) {
        if (x->user_id != user_id) continue;
        HASH_DEL(a->sessions, x); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
        free(x);
    }
}

void api_forget_session(api_t *a, const char *digest)
{
    api_session_cache_t *x = NULL;
    HASH_FIND_STR(a->sessions, digest, x);
    if (!x) return;
    HASH_DEL(a->sessions, x); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
    free(x);
}

void api_forget_token(api_t *a, const char *digest)
{
    api_token_cache_t *t = NULL;
    HASH_FIND_STR(a->tokens, digest, t);
    if (!t) return;
    HASH_DEL(a->tokens, t); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
    free(t);
}

void api_on_request(void *ud, net_req_t *r)
{
    api_t *a = ud;
    if (strncmp(net_req_path(r), "/transfers/", 11) == 0) { /* stations' files (transfers.c) */
        api_transfers_request(a, r);
        return;
    }
    if (api_dashboard_request(a, r)) return; /* every path outside the API (dashboard.c) */
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
    api_webhooks_init(a, &deps->webhooks);
    return a;
}

void api_set_net(api_t *a, net_t *net)
{
    a->d.net = net;
}

void api_shutdown(api_t *a)
{
    api_events_shutdown(a);
    api_webhooks_shutdown(a);
}

void api_destroy(api_t *a)
{
    while (a->tokens) {
        api_token_cache_t *t = a->tokens;
        HASH_DEL(a->tokens, t); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
        free(t);
    }
    while (a->sessions) {
        api_session_cache_t *x = a->sessions;
        HASH_DEL(a->sessions, x); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
        free(x);
    }
    while (a->buckets) {
        api_bucket_t *b = a->buckets;
        HASH_DEL(a->buckets, b); // NOLINT(clang-analyzer-unix.Malloc): uthash's HASH_DEL unlinks first
        free(b);
    }
    for (size_t i = 0; i < sizeof a->ring / sizeof a->ring[0]; i++) {
        free(a->ring[i].frame);
        free(a->ring[i].meter);
        free(a->ring[i].station);
    }
    strbuf_free(&a->frame_scratch);
    api_webhooks_free(a);
    free(a);
}
