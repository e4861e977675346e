/*
 * Load management through the API: each site's capacity tree (read, replace,
 * delete; validated, stored and audited before the answer), the live
 * allocation and its recent history, building-meter readings for nodes with
 * a live meter, a composite-schedule check of what stations apply, and a
 * running session's energy need, departure and priority class. The engine
 * (smart/engine.h) holds the state; this file only translates.
 */
#include "api/api_internal.h"

#include "smart/engine.h"
#include "util/timefmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static smart_engine_t *engine(api_call_t *c)
{
    smart_engine_t *e = c->api->d.smart;
    if (!e) api_problem(c, 503, "Service Unavailable", "load management is not running");
    return e;
}

static bool site_param(api_call_t *c)
{
    if (site_tree_site_valid(c->params[0])) return true;
    api_problem(c, 404, "Not Found", "no site %.64s", c->params[0]);
    return false;
}

static void answer_engine_err(api_call_t *c, smart_engine_err_t rc, const char *msg)
{
    if (rc == SMART_ENGINE_BAD_REQUEST)
        api_problem(c, 400, "Bad Request", "%s", msg);
    else if (rc == SMART_ENGINE_UNPROCESSABLE)
        api_problem(c, 422, "Unprocessable Content", "%s", msg);
    else
        api_problem(c, 404, "Not Found", "%s", msg);
}

/* ------------------------------------------------------------- reading */

void api_sites_list(api_call_t *c)
{
    smart_engine_t *e = engine(c);
    if (!e) return;
    api_json(c, 200, json_pack("{s:o}", "items", smart_engine_sites_json(e)));
}

void api_site_capacity_get(api_call_t *c)
{
    smart_engine_t *e = engine(c);
    if (!e || !site_param(c)) return;
    json_t *t = smart_engine_tree_json(e, c->params[0]);
    if (!t) {
        api_problem(c, 404, "Not Found", "site %s has no capacity tree", c->params[0]);
        return;
    }
    api_json(c, 200, t);
}

void api_site_allocation(api_call_t *c)
{
    smart_engine_t *e = engine(c);
    if (!e || !site_param(c)) return;
    json_t *a = smart_engine_allocation_json(e, c->params[0]);
    if (!a) {
        api_problem(c, 404, "Not Found", "site %s has no capacity tree", c->params[0]);
        return;
    }
    api_json(c, 200, a);
}

void api_site_allocation_history(api_call_t *c)
{
    smart_engine_t *e = engine(c);
    if (!e || !site_param(c)) return;
    json_t *h = smart_engine_history_json(e, c->params[0]);
    if (!h) {
        api_problem(c, 404, "Not Found", "site %s has no capacity tree", c->params[0]);
        return;
    }
    api_json(c, 200, h);
}

/* ------------------------------------------------------------ changing */

static void tree_stored(void *ctx, bool ok)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (!ok) {
        api_csms_error(c, CSMS_ERR_STORE, "the change could not be stored; retry");
        return;
    }
    json_t *after = smart_engine_tree_json(c->api->d.smart, c->params[0]);
    api_audit(c, "site_capacity.update", "site", c->params[0], c->before, after);
    api_json(c, 200, after ? after : json_object());
}

void api_site_capacity_put(api_call_t *c)
{
    smart_engine_t *e = engine(c);
    if (!e) return;
    if (!site_tree_site_valid(c->params[0])) {
        api_problem(c, 400, "Bad Request",
                    "a site name is 1..63 characters of A-Z a-z 0-9 - _ . (got '%.64s')",
                    c->params[0]);
        return;
    }
    char err[512];
    c->before = smart_engine_tree_json(e, c->params[0]);
    api_hold(c);
    smart_engine_err_t rc =
        smart_engine_put_tree(e, c->params[0], c->body, tree_stored, c, err, sizeof err);
    if (rc != SMART_ENGINE_OK) answer_engine_err(c, rc, err);
}

static void tree_deleted(void *ctx, bool ok)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (!ok) {
        api_csms_error(c, CSMS_ERR_STORE, "the change could not be stored; retry");
        return;
    }
    api_audit(c, "site_capacity.delete", "site", c->params[0], c->before, NULL);
    api_no_content(c);
}

void api_site_capacity_delete(api_call_t *c)
{
    smart_engine_t *e = engine(c);
    if (!e || !site_param(c)) return;
    c->before = smart_engine_tree_json(e, c->params[0]);
    api_hold(c);
    if (smart_engine_delete_tree(e, c->params[0], tree_deleted, c) != SMART_ENGINE_OK)
        api_problem(c, 404, "Not Found", "site %s has no capacity tree", c->params[0]);
}

void api_site_verify(api_call_t *c)
{
    smart_engine_t *e = engine(c);
    if (!e || !site_param(c)) return;
    if (smart_engine_verify(e, c->params[0]) != SMART_ENGINE_OK) {
        api_problem(c, 404, "Not Found", "site %s has no capacity tree", c->params[0]);
        return;
    }
    api_json(c, 202,
             json_pack("{s:s,s:s}", "site", c->params[0], "status",
                       "GetCompositeSchedule sent to the connected stations; the answers show "
                       "in the allocation"));
}

static bool read_amps(api_call_t *c, const json_t *v, double out[SMART_PHASES])
{
    if (!json_is_array(v) || json_array_size(v) != SMART_PHASES) {
        api_problem(c, 400, "Bad Request", "current_a must be an array of 3 numbers (L1, L2, L3)");
        return false;
    }
    for (int p = 0; p < SMART_PHASES; p++) {
        const json_t *x = json_array_get(v, p);
        out[p] = json_is_number(x) ? json_number_value(x) : -1;
        if (!json_is_number(x) || !isfinite(out[p]) || out[p] < 0 || out[p] > 100000) {
            api_problem(c, 400, "Bad Request", "current_a[%d] must be a number 0..100000", p);
            return false;
        }
    }
    return true;
}

/* A building meter's reading: live state, not configuration (it expires
 * after the site's meter_ttl_s), so it is neither stored nor audited. */
void api_site_node_load(api_call_t *c)
{
    smart_engine_t *e = engine(c);
    if (!e || !site_param(c)) return;
    const char *k;
    json_t *v;
    json_object_foreach(c->body, k, v)
    {
        if (strcmp(k, "current_a") && strcmp(k, "timestamp")) {
            api_problem(c, 400, "Bad Request", "unknown field '%.64s'", k);
            return;
        }
    }
    double amps[SMART_PHASES];
    if (!read_amps(c, json_object_get(c->body, "current_a"), amps)) return;
    int64_t at_ms = time_now_ms();
    const json_t *ts = json_object_get(c->body, "timestamp");
    if (ts && !(json_is_string(ts) && time_parse_rfc3339(json_string_value(ts), &at_ms))) {
        api_problem(c, 400, "Bad Request", "timestamp must be an RFC 3339 time");
        return;
    }
    char err[256];
    smart_engine_err_t rc =
        smart_engine_node_load(e, c->params[0], c->params[1], amps, at_ms / 1000, err, sizeof err);
    if (rc != SMART_ENGINE_OK) {
        answer_engine_err(c, rc, err);
        return;
    }
    api_no_content(c);
}

/* ------------------------------------------------------ session needs */

static bool session_param(api_call_t *c, int64_t *id)
{
    char *end;
    long long v = strtoll(c->params[0], &end, 10);
    if (!c->params[0][0] || *end || v <= 0) {
        api_problem(c, 404, "Not Found", "no session %.64s", c->params[0]);
        return false;
    }
    *id = v;
    return true;
}

void api_session_needs_get(api_call_t *c)
{
    smart_engine_t *e = engine(c);
    int64_t id;
    if (!e || !session_param(c, &id)) return;
    json_t *n = smart_engine_needs_json(e, id);
    if (!n) {
        api_problem(c, 404, "Not Found", "session %s has no charging needs set", c->params[0]);
        return;
    }
    api_json(c, 200, n);
}

static void needs_stored(void *ctx, bool ok)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (!ok) {
        api_csms_error(c, CSMS_ERR_STORE, "the change could not be stored; retry");
        return;
    }
    json_t *after = smart_engine_needs_json(c->api->d.smart, strtoll(c->params[0], NULL, 10));
    api_audit(c, "session.charging_needs", "session", c->params[0], c->before, after);
    api_json(c, 200, after ? after : json_object());
}

static bool read_needs(api_call_t *c, double *wh, int64_t *dep, int *prio)
{
    const char *k;
    json_t *v;
    json_object_foreach(c->body, k, v)
    {
        if (strcmp(k, "energy_wh") && strcmp(k, "departure") && strcmp(k, "priority")) {
            api_problem(c, 400, "Bad Request",
                        "unknown field '%.64s'; energy_wh, departure and priority are taken", k);
            return false;
        }
    }
    const json_t *x = json_object_get(c->body, "energy_wh");
    *wh = 0;
    if (x && !json_is_null(x)) {
        *wh = json_is_number(x) ? json_number_value(x) : -1;
        if (!json_is_number(x) || !isfinite(*wh) || *wh < 0 || *wh > 1e7) {
            api_problem(c, 400, "Bad Request", "energy_wh must be a number 0..10000000 or null");
            return false;
        }
    }
    x = json_object_get(c->body, "departure");
    int64_t ms = 0;
    if (x && !json_is_null(x) &&
        !(json_is_string(x) && time_parse_rfc3339(json_string_value(x), &ms))) {
        api_problem(c, 400, "Bad Request", "departure must be an RFC 3339 time or null");
        return false;
    }
    *dep = ms / 1000;
    x = json_object_get(c->body, "priority");
    *prio = 0;
    if (x && !json_is_null(x)) {
        if (!json_is_integer(x) || json_integer_value(x) < -100 || json_integer_value(x) > 100) {
            api_problem(c, 400, "Bad Request", "priority must be an integer -100..100");
            return false;
        }
        *prio = (int)json_integer_value(x);
    }
    return true;
}

void api_session_needs_put(api_call_t *c)
{
    smart_engine_t *e = engine(c);
    int64_t id, dep;
    double wh;
    int prio;
    if (!e || !session_param(c, &id) || !read_needs(c, &wh, &dep, &prio)) return;
    char err[256];
    c->before = smart_engine_needs_json(e, id);
    api_hold(c);
    smart_engine_err_t rc =
        smart_engine_set_needs(e, id, wh, dep, prio, needs_stored, c, err, sizeof err);
    if (rc != SMART_ENGINE_OK) answer_engine_err(c, rc, err);
}
