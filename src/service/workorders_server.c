/*
 * The work-order machinery on the server's loop (see workorders_server.h).
 * Tickets are published only after their commit, from the rows the store
 * read back in the same operation, so an event and the database never
 * disagree about what a ticket looks like.
 */
#include "service/workorders_server.h"

#include "store/store_maintenance.h"
#include "store/store_parts.h"
#include "store/store_workorders.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PLAN_CHECK_MS 3600000

struct workorders_server {
    csms_t *csms;
    store_t *store;
    alerts_t *alerts;
    workorders_config_t cfg;
    char attachments_dir[600];
    uv_timer_t plans;
    bool running, plans_busy, plans_again;
};

/* ---------------------------------------------------------------- JSON */

json_t *workorders_row_json(const json_t *row)
{
    static const char *const times[] = {"due_at",      "created_at", "updated_at",
                                        "resolved_at", "closed_at",  NULL};
    json_t *o = json_deep_copy(row);
    json_t *evse = json_object_get(o, "evse_id"), *conn = json_object_get(o, "connector_id");
    json_object_set_new(o, "connector",
                        json_is_integer(evse) ? json_pack("{s:O,s:O}", "evse_id", evse,
                                                          "connector_id", conn ? conn : json_null())
                                              : json_null());
    json_object_del(o, "evse_id");
    json_object_del(o, "connector_id");
    for (const char *const *k = times; *k; k++) {
        json_t *v = json_object_get(o, *k);
        char buf[TIME_RFC3339_LEN];
        if (json_is_integer(v) && json_integer_value(v) != 0)
            json_object_set_new(o, *k,
                                json_string(time_format_rfc3339(json_integer_value(v), buf)));
        else if (v)
            json_object_set_new(o, *k, json_null());
    }
    return o;
}

void workorders_server_emit(workorders_server_t *s, const char *type, const json_t *row)
{
    if (!s || !row) return;
    json_t *v = workorders_row_json(row);
    log_info(type, "id=%lld state=%s", (long long)json_integer_value(json_object_get(v, "id")),
             json_string_value(json_object_get(v, "state")));
    csms_emit(s->csms, type, v);
}

static void emit_rows(workorders_server_t *s, const char *type, const json_t *rows)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) workorders_server_emit(s, type, row);
}

/* -------------------------------------------------------------- alerts */

static void alert_ticket_done(void *ctx, store_err_t rc, json_t *res)
{
    workorders_server_t *s = ctx;
    if (rc == STORE_ERR_CONFLICT) return; /* the alert has its ticket already */
    if (rc != STORE_OK) {
        log_error("work order for an alert not stored", NULL);
        return;
    }
    emit_rows(s, "workorder.created", json_array_get(res, 1));
}

static void on_alert_raised(workorders_server_t *s, const json_t *al)
{
    int rule = alerts_rule_parse(json_string_value(json_object_get(al, "rule")));
    if (rule < 0 || !(s->cfg.auto_create & (1u << rule))) return;
    const json_t *conn = json_object_get(al, "connector");
    int64_t alert_id = json_integer_value(json_object_get(al, "id"));
    char source[40];
    snprintf(source, sizeof source, "alert:%lld", (long long)alert_id);
    store_workorder_t w = {
        .title = json_string_value(json_object_get(al, "title")),
        .station_id = json_string_value(json_object_get(al, "station_id")),
        .evse_id =
            json_is_object(conn) ? (int)json_integer_value(json_object_get(conn, "evse_id")) : -1,
        .connector_id = json_is_object(conn)
                            ? (int)json_integer_value(json_object_get(conn, "connector_id"))
                            : -1,
        .priority = workorders_priority_name(workorders_config_priority(&s->cfg, rule)),
        .state = "open",
        .source = source,
        .alert_id = alert_id,
        .by = "system",
        .at = time_now_ms(),
    };
    if (!w.title) w.title = alerts_rule_name((alert_rule_t)rule);
    store_workorder_create(s->store, &w, alert_ticket_done, s);
}

static void alert_note_done(void *ctx, store_err_t rc, json_t *res)
{
    workorders_server_t *s = ctx;
    if (rc != STORE_OK) {
        log_error("work order note for a resolved alert not stored", NULL);
        return;
    }
    emit_rows(s, "workorder.updated", json_array_get(res, 2));
}

static void on_alert_resolved(workorders_server_t *s, const json_t *al)
{
    int rule = alerts_rule_parse(json_string_value(json_object_get(al, "rule")));
    if (rule < 0 || !(s->cfg.auto_create & (1u << rule))) return;
    const char *by = json_string_value(json_object_get(al, "resolved_by"));
    const char *note = json_string_value(json_object_get(al, "resolve_note"));
    char text[700];
    if (by && strcmp(by, "auto") == 0)
        snprintf(text, sizeof text, "Alert %lld resolved itself: the condition cleared.",
                 (long long)json_integer_value(json_object_get(al, "id")));
    else
        snprintf(text, sizeof text, "Alert %lld resolved by %s%s%.500s.",
                 (long long)json_integer_value(json_object_get(al, "id")), by ? by : "someone",
                 note ? ": " : "", note ? note : "");
    store_workorder_alert_note(s->store, json_integer_value(json_object_get(al, "id")), text,
                               time_now_ms(), alert_note_done, s);
}

static void on_event(void *ud, const char *type, const json_t *data)
{
    workorders_server_t *s = ud;
    if (strcmp(type, "alert.raised") == 0)
        on_alert_raised(s, data);
    else if (strcmp(type, "alert.resolved") == 0)
        on_alert_resolved(s, data);
}

static void catch_up_alerts(workorders_server_t *s)
{
    if (!s->cfg.auto_create) return;
    char rules[512] = "";
    json_t *prio = json_object();
    for (int r = 0; r < ALERT_RULE_COUNT_; r++) {
        if (!(s->cfg.auto_create & (1u << r))) continue;
        size_t used = strlen(rules);
        snprintf(rules + used, sizeof rules - used, "%s%s", used ? "," : "",
                 alerts_rule_name((alert_rule_t)r));
        json_object_set_new(prio, alerts_rule_name((alert_rule_t)r),
                            json_string(workorders_priority_name(
                                workorders_config_priority(&s->cfg, (alert_rule_t)r))));
    }
    store_workorders_from_open_alerts(s->store, rules, prio, time_now_ms(), alert_ticket_done, s);
    json_decref(prio);
}

/* --------------------------------------------------------------- plans */

typedef struct plan_run {
    workorders_server_t *srv;
    int pending;
} plan_run_t;

static void plans_finished(workorders_server_t *s);

static void plan_ran(void *ctx, store_err_t rc, json_t *res)
{
    plan_run_t *r = ctx;
    workorders_server_t *s = r->srv;
    if (rc == STORE_OK)
        emit_rows(s, "workorder.created", json_array_get(res, 2));
    else if (rc != STORE_ERR_NOT_FOUND)
        log_error("maintenance plan run not stored", NULL);
    if (--r->pending == 0) {
        free(r);
        plans_finished(s);
    }
}

static void plans_due(void *ctx, store_err_t rc, json_t *res)
{
    workorders_server_t *s = ctx;
    json_t *rows = json_array_get(res, 0);
    if (rc != STORE_OK || json_array_size(rows) == 0) {
        if (rc != STORE_OK) log_error("cannot read the due maintenance plans", NULL);
        plans_finished(s);
        return;
    }
    plan_run_t *r = xcalloc(1, sizeof *r);
    r->srv = s;
    r->pending = (int)json_array_size(rows);
    int64_t now = time_now_ms();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        int64_t due = json_integer_value(json_object_get(row, "next_due"));
        int days = (int)json_integer_value(json_object_get(row, "interval_days"));
        store_plan_run(s->store, json_integer_value(json_object_get(row, "id")), due,
                       workorders_plan_advance(due, days, now), now, plan_ran, r);
    }
}

static void plans_finished(workorders_server_t *s)
{
    s->plans_busy = false;
    if (s->plans_again && s->running) {
        s->plans_again = false;
        workorders_server_check_plans(s);
    }
}

void workorders_server_check_plans(workorders_server_t *s)
{
    if (!s->running) return;
    if (s->plans_busy) { /* one run at a time; the next one right after */
        s->plans_again = true;
        return;
    }
    s->plans_busy = true;
    store_plans_due(s->store, time_now_ms(), plans_due, s);
}

static void plans_tick(uv_timer_t *t)
{
    workorders_server_check_plans(t->data);
}

/* --------------------------------------------------------------- stock */

void workorders_server_stock_low(workorders_server_t *s, const json_t *rows)
{
    if (!s || !s->alerts) return;
    size_t n = json_array_size(rows);
    if (n == 0) {
        alerts_withdraw(s->alerts, ALERT_PARTS_LOW_STOCK, NULL);
        return;
    }
    char title[200];
    const json_t *first = json_array_get(rows, 0);
    if (n == 1)
        snprintf(title, sizeof title, "Low stock: %.60s in %.60s (%lld left, threshold %lld)",
                 json_string_value(json_object_get(first, "sku")),
                 json_string_value(json_object_get(first, "depot_name")),
                 (long long)json_integer_value(json_object_get(first, "quantity")),
                 (long long)json_integer_value(json_object_get(first, "low_threshold")));
    else
        snprintf(title, sizeof title, "Low stock: %zu parts below their threshold", n);
    alerts_report(s->alerts, ALERT_PARTS_LOW_STOCK, NULL, title,
                  json_pack("{s:O}", "items", (json_t *)rows));
}

static void stock_loaded(void *ctx, store_err_t rc, json_t *res)
{
    workorders_server_t *s = ctx;
    if (rc == STORE_OK && json_array_size(json_array_get(res, 0)) > 0)
        workorders_server_stock_low(s, json_array_get(res, 0));
}

/* ----------------------------------------------------------- lifecycle */

workorders_server_t *workorders_server_create(uv_loop_t *loop, csms_t *csms, store_t *store,
                                              alerts_t *alerts, const workorders_config_t *cfg,
                                              const char *data_dir, char *err, size_t err_len)
{
    workorders_server_t *s = xcalloc(1, sizeof *s);
    s->csms = csms;
    s->store = store;
    s->alerts = alerts;
    s->cfg = *cfg;
    snprintf(s->attachments_dir, sizeof s->attachments_dir, "%s/attachments", data_dir);
    if (mkdir(s->attachments_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "cannot create %s: %s", s->attachments_dir, strerror(errno));
        free(s);
        return NULL;
    }
    uv_timer_init(loop, &s->plans);
    s->plans.data = s;
    return s;
}

void workorders_server_start(workorders_server_t *s)
{
    s->running = true;
    csms_subscribe_typed(s->csms, on_event, NULL, s); /* no meter.values */
    catch_up_alerts(s);
    store_stock_low(s->store, stock_loaded, s);
    uv_timer_start(&s->plans, plans_tick, 0, PLAN_CHECK_MS);
}

void workorders_server_stop(workorders_server_t *s)
{
    if (!s || uv_is_closing((uv_handle_t *)&s->plans)) return;
    if (s->running) csms_unsubscribe(s->csms, on_event, s);
    s->running = false;
    uv_timer_stop(&s->plans);
    uv_close((uv_handle_t *)&s->plans, NULL);
}

void workorders_server_free(workorders_server_t *s)
{
    free(s);
}

const workorders_config_t *workorders_server_config(const workorders_server_t *s)
{
    return &s->cfg;
}

const char *workorders_server_attachments_dir(const workorders_server_t *s)
{
    return s->attachments_dir;
}
