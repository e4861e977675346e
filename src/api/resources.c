/*
 * REST resources: stations, id tokens, sessions and station commands. Each
 * handler checks its input, calls the domain, and answers after the domain's
 * completion (that is, after the change is durable).
 */
#include "api/api_internal.h"
#include "api/lists.h"

#include "util/alloc.h"
#include "util/timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------- body helpers */

/* Checks that body only has keys from `allowed`; answers 400 otherwise. */
static bool only_keys(api_call_t *c, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach(c->body, k, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, k) == 0) ok = true;
        if (!ok) {
            api_problem(c, 400, "Bad Request", "unknown field '%.64s'", k);
            return false;
        }
    }
    return true;
}

/* Reads an optional string field; answers 400 when present but not a string. */
static bool opt_str(api_call_t *c, const char *key, const char **out, bool *present)
{
    json_t *v = json_object_get(c->body, key);
    if (present) *present = v != NULL;
    *out = NULL;
    if (!v || json_is_null(v)) return true;
    if (!json_is_string(v)) {
        api_problem(c, 400, "Bad Request", "%s must be a string", key);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

static bool opt_time(api_call_t *c, const char *key, int64_t *out, bool *present)
{
    const char *s;
    if (!opt_str(c, key, &s, present)) return false;
    *out = 0;
    if (s && !time_parse_rfc3339(s, out)) {
        api_problem(c, 400, "Bad Request",
                    "%s must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z", key);
        return false;
    }
    return true;
}

/* Answers 204 after a delete, auditing the resource kept in c->before. */
static void deleted(void *ctx, csms_err_t rc, const char *msg)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc != CSMS_OK) {
        api_csms_error(c, rc, msg);
        return;
    }
    bool station = strncmp(c->route->pattern, "/api/v1/stations", 16) == 0;
    api_audit(c, station ? "station.delete" : "id_token.delete", station ? "station" : "id_token",
              c->params[0], c->before, NULL);
    api_no_content(c);
}

/* ------------------------------------------------------------ stations */

/* ?label=key:value (or key alone: has the label). */
static bool label_matches(const csms_station_t *st, const char *label)
{
    const char *colon = strchr(label, ':');
    char key[65];
    size_t kn = colon ? (size_t)(colon - label) : strlen(label);
    if (kn >= sizeof key) return false;
    memcpy(key, label, kn);
    key[kn] = '\0';
    const char *v = json_string_value(json_object_get(st->labels, key));
    return v && (!colon || strcmp(v, colon + 1) == 0);
}

static json_t *station_id_key(const void *x)
{
    return json_string(((const csms_station_t *)x)->id);
}

static json_t *station_site_key(const void *x)
{
    const csms_station_t *st = x;
    return st->site ? json_string(st->site) : json_null();
}

static json_t *station_created_key(const void *x)
{
    return json_integer(((const csms_station_t *)x)->created_at);
}

static json_t *station_heartbeat_key(const void *x)
{
    const csms_station_t *st = x;
    return st->last_heartbeat_at ? json_integer(st->last_heartbeat_at) : json_null();
}

static json_t *station_connected_key(const void *x)
{
    return json_integer(((const csms_station_t *)x)->link != NULL);
}

/* Stations without a site, or never heard from, sort first ascending;
 * connected sorts offline (0) before online (1). */
static const api_sort_field_t station_sorts[] = {
    {"id", false, station_id_key},
    {"site", false, station_site_key},
    {"created_at", false, station_created_key},
    {"last_heartbeat_at", false, station_heartbeat_key},
    {"connected", false, station_connected_key},
    {NULL, false, NULL},
};
static const api_list_t station_list = {station_sorts, "id", true, 1000, 1000};

static json_t *station_item(const void *x)
{
    return csms_station_json(x);
}

void api_stations_list(api_call_t *c)
{
    csms_t *m = c->api->d.csms;
    const char *connected = api_query(c, "connected");
    if (connected && strcmp(connected, "true") != 0 && strcmp(connected, "false") != 0) {
        api_problem(c, 400, "Bad Request", "connected must be true or false");
        return;
    }
    const char *site = api_query(c, "site"), *label = api_query(c, "label");
    const char *q = api_query(c, "q");
    api_page_t page;
    if (!api_page_read(c, &station_list, &page)) return;
    size_t n = 0, cap = csms_station_count(m);
    api_page_row_t *rows = xcalloc(cap ? cap : 1, sizeof *rows);
    for (csms_station_t *st = csms_station_first(m); st && n < cap; st = csms_station_next(st)) {
        if (connected && (strcmp(connected, "true") == 0) != (st->link != NULL)) continue;
        if (site && (!st->site || strcmp(site, st->site) != 0)) continue;
        if (label && !label_matches(st, label)) continue;
        if (q && !strcasestr(st->id, q) && !(st->description && strcasestr(st->description, q)))
            continue;
        rows[n].item = st;
        rows[n++].id = json_string(st->id);
    }
    json_t *body = api_page_of(&page, rows, n, station_item);
    api_page_clear(&page);
    api_json(c, 200, body);
}

static void station_saved(void *ctx, csms_err_t rc, const char *msg)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    csms_station_t *st = csms_station_find(c->api->d.csms, c->params[0]);
    if (rc != CSMS_OK || !st) {
        api_csms_error(c, rc ? rc : CSMS_ERR_NOT_FOUND, msg ? msg : "station vanished");
        return;
    }
    bool created = strcmp(c->route->method, "POST") == 0;
    json_t *after = csms_station_json(st);
    api_audit(c, created ? "station.create" : "station.update", "station", st->id, c->before,
              after);
    api_json(c, created ? 201 : 200, after);
}

static bool read_station_spec(api_call_t *c, csms_station_spec_t *spec)
{
    static const char *const keys[] = {"id",   "password", "security_profile",
                                       "registration_status", "description", "site",
                                       "location", "labels", NULL};
    if (!only_keys(c, keys)) return false;
    spec->security_profile = -1;
    if (!opt_str(c, "password", &spec->password, NULL) ||
        !opt_str(c, "registration_status", &spec->registration_status, NULL) ||
        !opt_str(c, "description", &spec->description, NULL) ||
        !opt_str(c, "site", &spec->site, &spec->has_site))
        return false;
    spec->location = json_object_get(c->body, "location");
    spec->has_location = spec->location != NULL;
    spec->labels = json_object_get(c->body, "labels");
    spec->has_labels = spec->labels != NULL;
    json_t *p = json_object_get(c->body, "security_profile");
    if (p && !json_is_null(p)) {
        if (!json_is_integer(p)) {
            api_problem(c, 400, "Bad Request", "security_profile must be an integer 0-3");
            return false;
        }
        spec->security_profile = (int)json_integer_value(p);
        if (json_integer_value(p) < 0 || json_integer_value(p) > 3) spec->security_profile = 99;
    }
    return true;
}

void api_stations_create(api_call_t *c)
{
    csms_station_spec_t spec = {0};
    if (!read_station_spec(c, &spec)) return;
    if (!opt_str(c, "id", &spec.id, NULL)) return;
    if (!spec.id) {
        api_problem(c, 400, "Bad Request", "id is required");
        return;
    }
    snprintf(c->params[0], sizeof c->params[0], "%s", spec.id);
    char err[256];
    api_hold(c);
    csms_err_t e = csms_station_create(c->api->d.csms, &spec, station_saved, c, err, sizeof err);
    if (e != CSMS_OK) api_csms_error(c, e, err);
}

void api_stations_get(api_call_t *c)
{
    csms_station_t *st = csms_station_find(c->api->d.csms, c->params[0]);
    if (!st) {
        api_problem(c, 404, "Not Found", "no station %s", c->params[0]);
        return;
    }
    api_json(c, 200, csms_station_json(st));
}

void api_stations_patch(api_call_t *c)
{
    csms_station_spec_t spec = {0};
    if (!read_station_spec(c, &spec)) return;
    if (json_object_get(c->body, "id")) {
        api_problem(c, 400, "Bad Request", "a station's id cannot be changed");
        return;
    }
    spec.id = c->params[0];
    csms_station_t *st = csms_station_find(c->api->d.csms, c->params[0]);
    if (st) c->before = csms_station_json(st);
    char err[256];
    api_hold(c);
    csms_err_t e = csms_station_update(c->api->d.csms, &spec, station_saved, c, err, sizeof err);
    if (e != CSMS_OK) api_csms_error(c, e, err);
}

void api_stations_delete(api_call_t *c)
{
    csms_station_t *st = csms_station_find(c->api->d.csms, c->params[0]);
    if (st) c->before = csms_station_json(st);
    api_hold(c);
    csms_err_t e = csms_station_delete(c->api->d.csms, c->params[0], deleted, c);
    if (e != CSMS_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "no station %s", c->params[0]);
        api_csms_error(c, e, msg);
    }
}

static void rotated(void *ctx, csms_err_t rc, const char *msg)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc == CSMS_ERR_STORE) {
        api_problem(c, 503, "Service Unavailable", "%s", msg ? msg : "could not be stored");
        return;
    }
    if (rc != CSMS_OK) {
        bool timeout = msg && strstr(msg, "Timeout");
        api_problem(c, timeout ? 504 : 502, timeout ? "Gateway Timeout" : "Bad Gateway",
                    "password rotation failed: %s",
                    msg ? msg : "the station did not accept the new password");
        return;
    }
    api_audit(c, "station.rotate_password", "station", c->params[0], NULL, NULL);
    api_json(c, 200, json_pack("{s:s,s:s}", "station_id", c->params[0], "outcome", "Accepted"));
}

void api_stations_rotate(api_call_t *c)
{
    char err[256];
    api_hold(c);
    csms_err_t e =
        csms_station_rotate_password(c->api->d.csms, c->params[0], rotated, c, err, sizeof err);
    if (e != CSMS_OK) api_csms_error(c, e, err);
}

static void json_list_done(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        return;
    }
    api_json(c, 200, json_pack("{s:O}", "items", res));
}

static bool query_int(api_call_t *c, const char *name, int lo, int hi, int dflt, int *out);

void api_stations_status_history(api_call_t *c)
{
    if (!csms_station_find(c->api->d.csms, c->params[0])) {
        api_problem(c, 404, "Not Found", "no station %s", c->params[0]);
        return;
    }
    int limit;
    if (!query_int(c, "limit", 1, 1000, 100, &limit)) return;
    api_hold(c);
    store_query_status_history(c->api->d.store, c->params[0], limit, json_list_done, c);
}

void api_stations_events(api_call_t *c)
{
    if (!csms_station_find(c->api->d.csms, c->params[0])) {
        api_problem(c, 404, "Not Found", "no station %s", c->params[0]);
        return;
    }
    int limit;
    if (!query_int(c, "limit", 1, 1000, 100, &limit)) return;
    api_hold(c);
    store_query_station_events(c->api->d.store, c->params[0], limit, json_list_done, c);
}

/* ------------------------------------------------------------ commands */

static void command_answered(void *ctx, const csms_cmd_result_t *r)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    switch (r->status) {
    case CSMS_CMD_OK: {
        char action[300];
        snprintf(action, sizeof action, "command.%s", c->params[1]);
        json_t *after = json_pack("{s:O,s:O}", "request", c->body, "answer", r->payload);
        api_audit(c, action, "station", c->params[0], NULL, after);
        json_decref(after);
        api_json(c, 200, json_incref((json_t *)r->payload));
        return;
    }
    case CSMS_CMD_TIMEOUT:
        api_problem(c, 504, "Gateway Timeout", "station %s did not answer %s in time",
                    c->params[0], c->params[1]);
        return;
    case CSMS_CMD_DISCONNECTED:
        api_problem(c, 502, "Bad Gateway",
                    "station %s disconnected before answering %s", c->params[0], c->params[1]);
        return;
    case CSMS_CMD_CALLERROR:
        api_problem(c, 502, "Bad Gateway", "station answered %s with CALLERROR %s: %s",
                    c->params[1], r->error_code, r->error_description);
        return;
    case CSMS_CMD_BAD_RESPONSE:
        api_problem(c, 502, "Bad Gateway", "station's answer to %s is invalid (%s): %s",
                    c->params[1], r->error_code, r->error_description);
        return;
    }
}

void api_commands_send(api_call_t *c)
{
    char err[300];
    api_hold(c);
    csms_err_t e = csms_command(c->api->d.csms, c->params[0], c->params[1], c->body,
                                command_answered, c, err, sizeof err);
    if (e != CSMS_OK) api_csms_error(c, e, err);
}

/* ----------------------------------------------------------- id tokens */

static json_t *token_id_key(const void *x)
{
    return json_string(((const csms_id_token_t *)x)->id_token);
}

static json_t *token_created_key(const void *x)
{
    return json_integer(((const csms_id_token_t *)x)->created_at);
}

static json_t *token_updated_key(const void *x)
{
    return json_integer(((const csms_id_token_t *)x)->updated_at);
}

static json_t *token_expiry_key(const void *x)
{
    const csms_id_token_t *t = x;
    return t->expiry ? json_integer(t->expiry) : json_null();
}

/* A token without an expiry never expires: it sorts after every expiry. */
static const api_sort_field_t token_sorts[] = {
    {"id_token", false, token_id_key},
    {"created_at", false, token_created_key},
    {"updated_at", false, token_updated_key},
    {"expiry", true, token_expiry_key},
    {NULL, false, NULL},
};
static const api_list_t token_list = {token_sorts, "id_token", true, 1000, 1000};

static json_t *token_item(const void *x)
{
    return csms_id_token_json(x);
}

void api_tokens_list(api_call_t *c)
{
    const char *status = api_query(c, "status"), *q = api_query(c, "q");
    api_page_t page;
    if (!api_page_read(c, &token_list, &page)) return;
    size_t n = 0, cap = 64;
    api_page_row_t *rows = xcalloc(cap, sizeof *rows);
    for (csms_id_token_t *t = csms_id_token_first(c->api->d.csms); t; t = t->hh.next) {
        if (status && strcmp(status, t->status) != 0) continue;
        if (q && !strcasestr(t->id_token, q)) continue;
        if (n == cap) {
            rows = xrealloc(rows, (cap *= 2) * sizeof *rows);
            memset(rows + n, 0, (cap - n) * sizeof *rows);
        }
        rows[n].item = t;
        rows[n++].id = json_string(t->id_token);
    }
    json_t *body = api_page_of(&page, rows, n, token_item);
    api_page_clear(&page);
    api_json(c, 200, body);
}

static void token_saved(void *ctx, csms_err_t rc, const char *msg)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    csms_id_token_t *t = csms_id_token_find(c->api->d.csms, c->params[0]);
    if (rc != CSMS_OK || !t) {
        api_csms_error(c, rc ? rc : CSMS_ERR_NOT_FOUND, msg ? msg : "id token vanished");
        return;
    }
    bool created = strcmp(c->route->method, "POST") == 0;
    json_t *after = csms_id_token_json(t);
    api_audit(c, created ? "id_token.create" : "id_token.update", "id_token", t->id_token,
              c->before, after);
    api_json(c, created ? 201 : 200, after);
}

static bool read_token_spec(api_call_t *c, csms_id_token_spec_t *s)
{
    static const char *const keys[] = {"id_token", "type", "status", "expiry", "parent_id_token",
                                       NULL};
    if (!only_keys(c, keys)) return false;
    return opt_str(c, "type", &s->type, &s->has_type) &&
           opt_str(c, "status", &s->status, &s->has_status) &&
           opt_str(c, "parent_id_token", &s->parent_id_token, &s->has_parent) &&
           opt_time(c, "expiry", &s->expiry, &s->has_expiry);
}

void api_tokens_create(api_call_t *c)
{
    csms_id_token_spec_t s = {0};
    if (!read_token_spec(c, &s) || !opt_str(c, "id_token", &s.id_token, NULL)) return;
    if (!s.id_token) {
        api_problem(c, 400, "Bad Request", "id_token is required");
        return;
    }
    snprintf(c->params[0], sizeof c->params[0], "%s", s.id_token);
    char err[256];
    api_hold(c);
    csms_err_t e = csms_id_token_create(c->api->d.csms, &s, token_saved, c, err, sizeof err);
    if (e != CSMS_OK) api_csms_error(c, e, err);
}

/* Id tokens may contain both ' ' and '+'; LWS decodes a raw '+' in the path as
 * a space, so when the literal value is unknown try it with '+'. */
static void resolve_token_param(api_call_t *c)
{
    if (csms_id_token_find(c->api->d.csms, c->params[0]) || !strchr(c->params[0], ' ')) return;
    char alt[sizeof c->params[0]];
    snprintf(alt, sizeof alt, "%s", c->params[0]);
    for (char *p = alt; *p; p++)
        if (*p == ' ') *p = '+';
    if (csms_id_token_find(c->api->d.csms, alt)) memcpy(c->params[0], alt, sizeof alt);
}

void api_tokens_get(api_call_t *c)
{
    resolve_token_param(c);
    csms_id_token_t *t = csms_id_token_find(c->api->d.csms, c->params[0]);
    if (!t) {
        api_problem(c, 404, "Not Found", "no id token %s", c->params[0]);
        return;
    }
    api_json(c, 200, csms_id_token_json(t));
}

void api_tokens_patch(api_call_t *c)
{
    csms_id_token_spec_t s = {0};
    if (!read_token_spec(c, &s)) return;
    if (json_object_get(c->body, "id_token")) {
        api_problem(c, 400, "Bad Request", "an id token's value cannot be changed");
        return;
    }
    resolve_token_param(c);
    s.id_token = c->params[0];
    csms_id_token_t *t = csms_id_token_find(c->api->d.csms, c->params[0]);
    if (t) c->before = csms_id_token_json(t);
    char err[256];
    api_hold(c);
    csms_err_t e = csms_id_token_update(c->api->d.csms, &s, token_saved, c, err, sizeof err);
    if (e != CSMS_OK) api_csms_error(c, e, err);
}

void api_tokens_delete(api_call_t *c)
{
    resolve_token_param(c);
    csms_id_token_t *t = csms_id_token_find(c->api->d.csms, c->params[0]);
    if (t) c->before = csms_id_token_json(t);
    api_hold(c);
    csms_err_t e = csms_id_token_delete(c->api->d.csms, c->params[0], deleted, c);
    if (e != CSMS_OK) {
        char msg[300];
        snprintf(msg, sizeof msg, "no id token %s", c->params[0]);
        api_csms_error(c, e, msg);
    }
}

/* ------------------------------------------------------------ sessions */

static bool query_time(api_call_t *c, const char *name, int64_t *out)
{
    const char *v = api_query(c, name);
    *out = 0;
    if (v && !time_parse_rfc3339(v, out)) {
        api_problem(c, 400, "Bad Request",
                    "%s must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z", name);
        return false;
    }
    return true;
}

static bool query_int(api_call_t *c, const char *name, int lo, int hi, int dflt, int *out)
{
    const char *v = api_query(c, name);
    *out = dflt;
    if (!v) return true;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end || errno || n < lo || n > hi) {
        api_problem(c, 400, "Bad Request", "%s must be an integer from %d to %d", name, lo, hi);
        return false;
    }
    *out = (int)n;
    return true;
}

/* Sorted in the store (store_query.c has the SQL of each key). A running
 * session sorts after every stop time; an energy not known yet, before
 * every amount. */
static const api_sort_field_t session_sorts[] = {
    {"id", false, NULL},         {"started_at", false, NULL}, {"stopped_at", true, NULL},
    {"energy_wh", false, NULL},  {"station_id", false, NULL}, {NULL, false, NULL},
};
static const api_list_t session_list = {session_sorts, "-id", false, 100, 1000};

void api_sessions_list(api_call_t *c)
{
    store_session_filter_t f = {.active = -1};
    f.station_id = api_query(c, "station");
    f.id_token = api_query(c, "id_token");
    const char *active = api_query(c, "active");
    if (active) {
        if (strcmp(active, "true") == 0) f.active = 1;
        else if (strcmp(active, "false") == 0) f.active = 0;
        else {
            api_problem(c, 400, "Bad Request", "active must be true or false");
            return;
        }
    }
    if (!query_time(c, "from", &f.from) || !query_time(c, "to", &f.to) ||
        !query_int(c, "offset", 0, 100000000, 0, &f.offset))
        return;
    f.site = api_query(c, "site");
    api_page_t page;
    if (!api_page_read(c, &session_list, &page)) return;
    store_page_t sp = api_page_store(&page);
    f.page = &sp;
    f.limit = sp.limit;
    store_query_sessions(c->api->d.store, &f, api_page_done, api_page_hold(c, &page, NULL));
}

static void session_done(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 404, "Not Found", "no session %s", c->params[0]);
        return;
    }
    if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        return;
    }
    api_json(c, 200, json_incref(res));
}

void api_sessions_get(api_call_t *c)
{
    char *end;
    errno = 0;
    long long id = strtoll(c->params[0], &end, 10);
    if (*end || errno || id <= 0) {
        api_problem(c, 404, "Not Found", "no session %s (session ids are positive integers)",
                    c->params[0]);
        return;
    }
    api_hold(c);
    store_query_session(c->api->d.store, id, session_done, c);
}
