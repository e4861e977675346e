/*
 * Preventive maintenance plans and maintenance windows through the API.
 *
 * A plan (every interval_days, for a station, a site or a model) creates a
 * ticket per station in scope when due; creating or changing one runs the
 * due plans at once, so a plan due now does not wait for the hourly check.
 * A window takes a station or a site out of the uptime count for its time:
 * it creates a "scheduled_maintenance" uptime exclusion per station in the
 * same transaction, and deleting it deletes them (store_maintenance.h).
 */
#include "api/api_internal.h"
#include "api/lists.h"

#include "service/workorders_server.h"
#include "store/store_maintenance.h"
#include "util/timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 200
#define TEXT_MAX 2000
#define WINDOW_MAX_MS (31LL * 86400000LL)

static bool time_field(api_call_t *c, const char *key, int64_t *out)
{
    json_t *v = json_object_get(c->body, key);
    if (!v) return true;
    if (!json_is_string(v) || !time_parse_rfc3339(json_string_value(v), out)) {
        api_problem(c, 400, "Bad Request",
                    "%s must be an RFC 3339 date-time such as 2026-07-01T08:00:00Z", key);
        return false;
    }
    return true;
}

static json_t *plan_item(json_t *row)
{
    static const char *const keys[] = {"next_due", "created_at", "updated_at", NULL};
    json_t *o = json_deep_copy(row);
    json_object_set_new(o, "enabled",
                        json_boolean(json_integer_value(json_object_get(row, "enabled"))));
    json_object_set_new(o, "scope",
                        json_pack("{s:O,s:O}", "kind", json_object_get(row, "scope_kind"), "value",
                                  json_object_get(row, "scope")));
    json_object_del(o, "scope_kind");
    api_json_times(o, keys);
    return o;
}

static json_t *window_item(json_t *row)
{
    static const char *const keys[] = {"from", "to", "created_at", NULL};
    json_t *o = json_deep_copy(row);
    json_object_set(o, "from", json_object_get(row, "starts_at"));
    json_object_set(o, "to", json_object_get(row, "ends_at"));
    json_object_del(o, "starts_at");
    json_object_del(o, "ends_at");
    const char *ids = json_string_value(json_object_get(row, "exclusion_ids"));
    json_t *list = ids ? json_loads(ids, 0, NULL) : NULL;
    json_object_set_new(o, "exclusion_ids", list ? list : json_array());
    api_json_times(o, keys);
    return o;
}

typedef struct one {
    const char *what;
    json_t *(*item)(json_t *row);
    const char *action;
    int status;
    bool plans_changed; /* run the due plans after */
} one_t;

static void answer_one(api_call_t *c, const one_t *o, store_err_t rc, json_t *res)
{
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 404, "Not Found", "no %s %s", o->what, c->params[0]);
        return;
    }
    json_t *row = json_array_get(json_array_get(res, json_array_size(res) - 1), 0);
    if (rc != STORE_OK || !row) {
        api_problem(c, 503, "Service Unavailable", "the database could not answer; retry");
        return;
    }
    json_t *item = o->item(row);
    if (o->action) {
        char id[24], type[32];
        snprintf(id, sizeof id, "%lld", (long long)json_integer_value(json_object_get(row, "id")));
        snprintf(type, sizeof type, "%.*s", (int)strcspn(o->action, "."), o->action);
        api_audit(c, o->action, type, id, c->before, item);
    }
    if (o->plans_changed && c->api->d.workorders)
        workorders_server_check_plans(c->api->d.workorders);
    api_json(c, o->status, item);
}

#define ONE_CB(name, ...)                                                                          \
    static void name(void *ctx, store_err_t rc, json_t *res)                                       \
    {                                                                                              \
        api_call_t *c = ctx;                                                                       \
        static const one_t o = {__VA_ARGS__};                                                      \
        if (api_alive(c)) answer_one(c, &o, rc, res);                                              \
    }

ONE_CB(plan_got, "maintenance plan", plan_item, NULL, 200, false)
ONE_CB(plan_created, "maintenance plan", plan_item, "maintenance_plan.create", 201, true)
ONE_CB(plan_changed, "maintenance plan", plan_item, "maintenance_plan.update", 200, true)
ONE_CB(window_got, "maintenance window", window_item, NULL, 200, false)
ONE_CB(window_created, "maintenance window", window_item, "maintenance_window.create", 201, false)

/* ------------------------------------------------------------- plans */

static const api_sort_field_t plan_sorts[] = {
    {"id", false, NULL}, {"next_due", false, NULL}, {"name", false, NULL}, {NULL, false, NULL}};
static const api_list_t plan_list = {plan_sorts, "next_due", false, 50, 500};

void api_plans_list(api_call_t *c)
{
    api_page_t p;
    if (!api_page_read(c, &plan_list, &p)) return;
    store_page_t sp = api_page_store(&p);
    store_plans_list(c->api->d.store, &sp, api_page_done, api_page_hold(c, &p, plan_item));
}

void api_plans_get(api_call_t *c)
{
    int64_t id;
    if (!api_path_id(c, "maintenance plan", &id)) return;
    api_hold(c);
    store_plan_get(c->api->d.store, id, plan_got, c);
}

/* Reads a plan over base (a stored row) or for a new one. */
static bool read_plan(api_call_t *c, const json_t *base, store_plan_t *p)
{
    static const char *const allowed[] = {"name",     "interval_days", "task",    "scope",
                                          "priority", "next_due",      "enabled", NULL};
    if (!api_body_only(c, allowed)) return false;
    memset(p, 0, sizeof *p);
    p->by = api_actor(c);
    p->priority = "normal";
    p->enabled = true;
    p->next_due = time_now_ms();
    if (base) {
        p->name = json_string_value(json_object_get(base, "name"));
        p->task = json_string_value(json_object_get(base, "task"));
        p->scope_kind = json_string_value(json_object_get(base, "scope_kind"));
        p->scope = json_string_value(json_object_get(base, "scope"));
        p->priority = json_string_value(json_object_get(base, "priority"));
        p->interval_days = (int)json_integer_value(json_object_get(base, "interval_days"));
        p->next_due = json_integer_value(json_object_get(base, "next_due"));
        p->enabled = json_integer_value(json_object_get(base, "enabled")) != 0;
    } else {
        static const char *const req[] = {"name", "interval_days", "task", "scope", NULL};
        for (const char *const *r = req; *r; r++)
            if (!json_object_get(c->body, *r)) {
                api_problem(c, 400, "Bad Request",
                            "name, interval_days, task and scope are required; %s is missing", *r);
                return false;
            }
    }
    if (!api_body_str(c, "name", NAME_MAX_LEN, false, &p->name) ||
        !api_body_str(c, "task", TEXT_MAX, false, &p->task) ||
        !api_body_str(c, "priority", 16, false, &p->priority) ||
        !time_field(c, "next_due", &p->next_due))
        return false;
    if (workorders_priority_parse(p->priority) < 0) {
        api_problem(c, 400, "Bad Request", "priority must be urgent, high, normal or low");
        return false;
    }
    json_t *iv = json_object_get(c->body, "interval_days");
    if (iv) {
        if (!json_is_integer(iv) || json_integer_value(iv) < 1 ||
            json_integer_value(iv) > WORKORDERS_MAX_INTERVAL_DAYS) {
            api_problem(c, 400, "Bad Request", "interval_days must be an integer from 1 to %d",
                        WORKORDERS_MAX_INTERVAL_DAYS);
            return false;
        }
        p->interval_days = (int)json_integer_value(iv);
    }
    json_t *en = json_object_get(c->body, "enabled");
    if (en) {
        if (!json_is_boolean(en)) {
            api_problem(c, 400, "Bad Request", "enabled must be true or false");
            return false;
        }
        p->enabled = json_is_true(en);
    }
    json_t *sc = json_object_get(c->body, "scope");
    if (sc) {
        const char *kind = json_string_value(json_object_get(sc, "kind"));
        const char *value = json_string_value(json_object_get(sc, "value"));
        if (!json_is_object(sc) || json_object_size(sc) != 2 || !kind || !value ||
            (strcmp(kind, "station") != 0 && strcmp(kind, "site") != 0 &&
             strcmp(kind, "model") != 0) ||
            !value[0] || strlen(value) > 128) {
            api_problem(c, 400, "Bad Request",
                        "scope must be {\"kind\": \"station\"|\"site\"|\"model\", \"value\": "
                        "\"...\"}");
            return false;
        }
        if (strcmp(kind, "station") == 0 && !csms_station_find(c->api->d.csms, value)) {
            api_problem(c, 400, "Bad Request", "no station %.64s", value);
            return false;
        }
        p->scope_kind = kind;
        p->scope = value;
    }
    return true;
}

void api_plans_create(api_call_t *c)
{
    store_plan_t p;
    if (!read_plan(c, NULL, &p)) return;
    api_hold(c);
    store_plan_create(c->api->d.store, &p, time_now_ms(), plan_created, c);
}

static void plan_patch_read(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    json_t *row = json_array_get(json_array_get(res, 0), 0);
    if (rc != STORE_OK || !row) {
        static const one_t o = {"maintenance plan", plan_item, NULL, 200, false};
        answer_one(c, &o, rc, res);
        return;
    }
    store_plan_t p;
    if (!read_plan(c, row, &p)) return;
    c->before = plan_item(row);
    api_hold(c);
    store_plan_update(c->api->d.store, json_integer_value(json_object_get(row, "id")), &p,
                      time_now_ms(), plan_changed, c);
}

void api_plans_patch(api_call_t *c)
{
    int64_t id;
    if (!api_path_id(c, "maintenance plan", &id)) return;
    api_hold(c);
    store_plan_get(c->api->d.store, id, plan_patch_read, c);
}

static void plan_deleted(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 404, "Not Found", "no maintenance plan %s", c->params[0]);
        return;
    }
    if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the change could not be stored; retry");
        return;
    }
    api_audit(c, "maintenance_plan.delete", "maintenance_plan", c->params[0], NULL, NULL);
    api_no_content(c);
}

void api_plans_delete(api_call_t *c)
{
    int64_t id;
    if (!api_path_id(c, "maintenance plan", &id)) return;
    api_hold(c);
    store_plan_delete(c->api->d.store, id, plan_deleted, c);
}

/* ----------------------------------------------------------- windows */

static const api_sort_field_t window_sorts[] = {
    {"id", false, NULL}, {"starts_at", false, NULL}, {NULL, false, NULL}};
static const api_list_t window_list = {window_sorts, "-starts_at", false, 50, 500};

void api_windows_list(api_call_t *c)
{
    const char *station = api_query(c, "station");
    if (station && !csms_station_find(c->api->d.csms, station)) {
        api_problem(c, 400, "Bad Request", "no station %.64s", station);
        return;
    }
    api_page_t p;
    if (!api_page_read(c, &window_list, &p)) return;
    store_page_t sp = api_page_store(&p);
    store_windows_list(c->api->d.store, station, &sp, api_page_done,
                       api_page_hold(c, &p, window_item));
}

void api_windows_get(api_call_t *c)
{
    int64_t id;
    if (!api_path_id(c, "maintenance window", &id)) return;
    api_hold(c);
    store_window_get(c->api->d.store, id, window_got, c);
}

static bool site_has_stations(csms_t *cs, const char *site)
{
    for (csms_station_t *st = csms_station_first(cs); st; st = csms_station_next(st))
        if (st->site && strcmp(st->site, site) == 0) return true;
    return false;
}

void api_windows_create(api_call_t *c)
{
    static const char *const allowed[] = {"station_id", "site",          "from", "to",
                                          "reason",     "work_order_id", NULL};
    if (!api_body_only(c, allowed)) return;
    store_window_t w = {.by = api_actor(c)};
    if (!api_body_str(c, "station_id", 64, true, &w.station_id) ||
        !api_body_str(c, "site", 128, true, &w.site) ||
        !api_body_str(c, "reason", TEXT_MAX, false, &w.reason))
        return;
    if (!w.station_id == !w.site) {
        api_problem(c, 400, "Bad Request", "give exactly one of station_id and site");
        return;
    }
    if (w.station_id && !csms_station_find(c->api->d.csms, w.station_id)) {
        api_problem(c, 400, "Bad Request", "no station %.64s", w.station_id);
        return;
    }
    if (w.site && !site_has_stations(c->api->d.csms, w.site)) {
        api_problem(c, 400, "Bad Request", "no station is at site %.64s", w.site);
        return;
    }
    if (!w.reason) {
        api_problem(c, 400, "Bad Request", "reason is required (what the maintenance is)");
        return;
    }
    if (!json_object_get(c->body, "from") || !json_object_get(c->body, "to")) {
        api_problem(c, 400, "Bad Request", "from and to are required (RFC 3339 date-times)");
        return;
    }
    if (!time_field(c, "from", &w.starts_at) || !time_field(c, "to", &w.ends_at)) return;
    if (w.starts_at >= w.ends_at || w.ends_at - w.starts_at > WINDOW_MAX_MS) {
        api_problem(c, 400, "Bad Request", "from must be before to, and a window at most 31 days");
        return;
    }
    json_t *wo = json_object_get(c->body, "work_order_id");
    if (wo && !json_is_null(wo)) {
        if (!json_is_integer(wo) || json_integer_value(wo) < 1) {
            api_problem(c, 400, "Bad Request", "work_order_id must be a work order's id");
            return;
        }
        w.work_order_id = json_integer_value(wo);
    }
    api_hold(c);
    store_window_create(c->api->d.store, &w, time_now_ms(), window_created, c);
}

static void window_deleted(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc == STORE_ERR_NOT_FOUND) {
        api_problem(c, 404, "Not Found", "no maintenance window %s", c->params[0]);
        return;
    }
    if (rc != STORE_OK) {
        api_problem(c, 503, "Service Unavailable", "the change could not be stored; retry");
        return;
    }
    json_t *ex = json_pack("{s:O}", "exclusions_deleted",
                           json_object_get(json_array_get(res, 1), "changes"));
    api_audit(c, "maintenance_window.delete", "maintenance_window", c->params[0], NULL, ex);
    json_decref(ex);
    api_no_content(c);
}

void api_windows_delete(api_call_t *c)
{
    int64_t id;
    if (!api_path_id(c, "maintenance window", &id)) return;
    api_hold(c);
    store_window_delete(c->api->d.store, id, window_deleted, c);
}
