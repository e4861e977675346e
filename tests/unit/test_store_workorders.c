/*
 * Specification of the maintenance tables in the store (store_workorders.c,
 * store_parts.c, store_maintenance.c) against a real database: a ticket per
 * alert, parts used come out of stock in the same transaction and never take
 * it below zero, a due plan creates its tickets once per due date whatever
 * runs twice, and a maintenance window creates one uptime exclusion per
 * station it covers and takes them with it when deleted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ftw.h>
#include <jansson.h>
#include <unistd.h>
#include <uv.h>

#include "store/store.h"
#include "store/store_maintenance.h"
#include "store/store_parts.h"
#include "store/store_uptime.h"
#include "store/store_workorders.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */
#define DAY 86400000LL

typedef struct fixture {
    char dir[64];
    uv_loop_t loop;
    uv_timer_t tick; /* keeps the loop polling: the store's wake-up handle is unreferenced */
    store_t *s;
    int pending;
    store_err_t rc;
    json_t *res;
} fixture_t;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void station(fixture_t *f, const char *id, const char *site, const char *model);

static void tick_cb(uv_timer_t *t)
{
    (void)t;
}

static void done_cb(void *ctx, store_err_t rc)
{
    fixture_t *f = ctx;
    f->rc = rc;
    f->pending--;
}

static void json_cb(void *ctx, store_err_t rc, json_t *res)
{
    fixture_t *f = ctx;
    f->rc = rc;
    json_decref(f->res);
    f->res = res ? json_incref(res) : NULL;
    f->pending--;
}

/* Runs the loop until the one operation handed out has completed. */
static store_err_t wait1(fixture_t *f)
{
    while (f->pending > 0)
        uv_run(&f->loop, UV_RUN_ONCE);
    return f->rc;
}

#define RUN(f, call) ((f)->pending = 1, (call), wait1(f))

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ampgrid-wo-XXXXXX");
    if (!mkdtemp(f->dir) || uv_loop_init(&f->loop) != 0) return -1;
    uv_timer_init(&f->loop, &f->tick);
    uv_timer_start(&f->tick, tick_cb, 50, 50);
    char err[256];
    f->s = store_open(f->dir, false, err, sizeof err);
    if (!f->s) return -1;
    store_start(f->s, &f->loop);
    station(f, "CP-1", "North", "AC22");
    station(f, "CP-2", "North", "DC50");
    station(f, "CP-3", "South", "AC22");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    uv_close((uv_handle_t *)&f->tick, NULL);
    store_close(f->s);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_loop_close(&f->loop);
    json_decref(f->res);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void station(fixture_t *f, const char *id, const char *site, const char *model)
{
    store_station_t st = {.id = id,
                          .security_profile = 0,
                          .registration_status = "Accepted",
                          .model = model,
                          .site = site,
                          .created_at = T0,
                          .updated_at = T0};
    f->pending = 1;
    store_station_save(f->s, &st, done_cb, f);
    assert_int_equal(wait1(f), STORE_OK);
}

/* result[step] */
static json_t *step(fixture_t *f, size_t i)
{
    return json_array_get(f->res, i);
}

static int64_t int_of(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* ---- tickets --------------------------------------------------------------------------- */

static void one_ticket_per_alert(void **state)
{
    fixture_t *f = *state;
    store_workorder_t w = {.title = "Faulted",
                           .station_id = "CP-1",
                           .evse_id = 1,
                           .connector_id = 1,
                           .priority = "high",
                           .state = "open",
                           .source = "alert:7",
                           .alert_id = 7,
                           .by = "system",
                           .at = T0};
    assert_int_equal(RUN(f, store_workorder_create(f->s, &w, json_cb, f)), STORE_OK);
    json_t *row = json_array_get(step(f, 1), 0);
    assert_int_equal(int_of(row, "alert_id"), 7);
    assert_int_equal(int_of(row, "evse_id"), 1);
    assert_int_equal(RUN(f, store_workorder_create(f->s, &w, json_cb, f)), STORE_ERR_CONFLICT);
    /* the alert resolves: a note on its ticket, which keeps its state */
    assert_int_equal(RUN(f, store_workorder_alert_note(f->s, 7, "resolved", T0 + 1000, json_cb, f)),
                     STORE_OK);
    row = json_array_get(step(f, 2), 0);
    assert_string_equal(json_string_value(json_object_get(row, "state")), "open");
    assert_int_equal(int_of(row, "updated_at"), T0 + 1000);
    assert_int_equal(RUN(f, store_workorder_get(f->s, int_of(row, "id"), json_cb, f)), STORE_OK);
    assert_int_equal(json_array_size(step(f, 1)), 1);
}

static void a_state_change_is_guarded_by_the_state_it_was_read_in(void **state)
{
    fixture_t *f = *state;
    store_workorder_t w = {.title = "Inspect",
                           .priority = "normal",
                           .state = "open",
                           .source = "manual",
                           .by = "op",
                           .at = T0};
    assert_int_equal(RUN(f, store_workorder_create(f->s, &w, json_cb, f)), STORE_OK);
    int64_t id = int_of(json_array_get(step(f, 1), 0), "id");
    store_workorder_t u = {.title = "Inspect",
                           .priority = "normal",
                           .state = "assigned",
                           .assignee = "ana",
                           .at = T0 + 1};
    assert_int_equal(RUN(f, store_workorder_update(f->s, id, "open", &u, json_cb, f)), STORE_OK);
    /* a second change that read "open" too comes too late */
    u.state = "closed";
    assert_int_equal(RUN(f, store_workorder_update(f->s, id, "open", &u, json_cb, f)),
                     STORE_ERR_NOT_FOUND);
    u.state = "resolved";
    u.at = T0 + 5;
    assert_int_equal(RUN(f, store_workorder_update(f->s, id, "assigned", &u, json_cb, f)),
                     STORE_OK);
    json_t *row = json_array_get(step(f, 1), 0);
    assert_int_equal(int_of(row, "resolved_at"), T0 + 5);
    u.state = "open"; /* reopened: no longer resolved */
    assert_int_equal(RUN(f, store_workorder_update(f->s, id, "resolved", &u, json_cb, f)),
                     STORE_OK);
    assert_true(json_is_null(json_object_get(json_array_get(step(f, 1), 0), "resolved_at")));
}

/* ---- stock ----------------------------------------------------------------------------- */

static void parts_used_come_out_of_stock_and_never_below_zero(void **state)
{
    fixture_t *f = *state;
    json_t *models = json_pack("[s]", "AC22");
    store_part_t p = {.sku = "RCD", .name = "RCD 30 mA", .unit = "piece", .models = models};
    assert_int_equal(RUN(f, store_part_create(f->s, &p, T0, json_cb, f)), STORE_OK);
    json_decref(models);
    int64_t part = int_of(json_array_get(step(f, 1), 0), "id");
    assert_int_equal(RUN(f, store_depot_create(f->s, "Van", NULL, T0, json_cb, f)), STORE_OK);
    int64_t depot = int_of(json_array_get(step(f, 1), 0), "id");
    store_workorder_t w = {.title = "Fix",
                           .priority = "normal",
                           .state = "open",
                           .source = "manual",
                           .by = "op",
                           .at = T0};
    assert_int_equal(RUN(f, store_workorder_create(f->s, &w, json_cb, f)), STORE_OK);
    int64_t wo = int_of(json_array_get(step(f, 1), 0), "id");

    /* nothing stocked yet */
    assert_int_equal(
        RUN(f, store_workorder_use_part(f->s, wo, part, depot, 1, "ana", T0, json_cb, f)),
        STORE_ERR_NOT_FOUND);
    assert_int_equal(RUN(f, store_stock_adjust(f->s, part, depot, "receive", 5, 3, "delivery", "op",
                                               T0, json_cb, f)),
                     STORE_OK);
    assert_int_equal(int_of(json_array_get(step(f, 3), 0), "quantity"), 5);
    assert_int_equal(json_array_size(step(f, 4)), 0); /* not low */
    assert_int_equal(
        RUN(f, store_workorder_use_part(f->s, wo, part, depot, 3, "ana", T0, json_cb, f)),
        STORE_OK);
    json_t *low = step(f, 4);
    assert_int_equal(json_array_size(low), 1);
    assert_int_equal(int_of(json_array_get(low, 0), "quantity"), 2);
    /* more than there is: refused, and nothing of it was recorded */
    assert_int_equal(
        RUN(f, store_workorder_use_part(f->s, wo, part, depot, 3, "ana", T0, json_cb, f)),
        STORE_ERR_CONFLICT);
    assert_int_equal(RUN(f, store_stock_list(f->s, part, depot, false, 10, json_cb, f)), STORE_OK);
    assert_int_equal(int_of(json_array_get(step(f, 0), 0), "quantity"), 2);
    assert_int_equal(RUN(f, store_workorder_get(f->s, wo, json_cb, f)), STORE_OK);
    assert_int_equal(json_array_size(step(f, 3)), 1);
    /* a count sets it; past the maximum is refused */
    assert_int_equal(
        RUN(f, store_stock_adjust(f->s, part, depot, "correct", 4, -1, NULL, "op", T0, json_cb, f)),
        STORE_OK);
    assert_int_equal(int_of(json_array_get(step(f, 3), 0), "quantity"), 4);
    assert_int_equal(int_of(json_array_get(step(f, 3), 0), "low_threshold"), 3);
    assert_int_equal(RUN(f, store_stock_adjust(f->s, part, depot, "receive", 1000000000, -1, NULL,
                                               "op", T0, json_cb, f)),
                     STORE_ERR_CONFLICT);
    /* an unknown part or depot */
    assert_int_equal(RUN(f, store_stock_adjust(f->s, part + 100, depot, "receive", 1, -1, NULL,
                                               "op", T0, json_cb, f)),
                     STORE_ERR_NOT_FOUND);
}

/* ---- plans ----------------------------------------------------------------------------- */

static void a_due_plan_makes_its_tickets_once(void **state)
{
    fixture_t *f = *state;
    store_plan_t p = {.name = "Inspect",
                      .task = "look",
                      .scope_kind = "site",
                      .scope = "North",
                      .priority = "normal",
                      .interval_days = 30,
                      .next_due = T0,
                      .enabled = true,
                      .by = "op"};
    assert_int_equal(RUN(f, store_plan_create(f->s, &p, T0, json_cb, f)), STORE_OK);
    int64_t id = int_of(json_array_get(step(f, 1), 0), "id");
    assert_int_equal(RUN(f, store_plans_due(f->s, T0 + 10, json_cb, f)), STORE_OK);
    assert_int_equal(json_array_size(step(f, 0)), 1);
    assert_int_equal(RUN(f, store_plan_run(f->s, id, T0, T0 + 30 * DAY, T0 + 10, json_cb, f)),
                     STORE_OK);
    json_t *made = step(f, 2);
    assert_int_equal(json_array_size(made), 2); /* CP-1 and CP-2 are at North */
    assert_string_equal(json_string_value(json_object_get(json_array_get(made, 0), "station_id")),
                        "CP-1");
    assert_int_equal(int_of(json_array_get(made, 0), "due_at"), T0);
    /* the same run again (a second timer, a restart): not due any more, nothing made */
    assert_int_equal(RUN(f, store_plan_run(f->s, id, T0, T0 + 30 * DAY, T0 + 20, json_cb, f)),
                     STORE_ERR_NOT_FOUND);
    assert_int_equal(RUN(f, store_plans_due(f->s, T0 + 20, json_cb, f)), STORE_OK);
    assert_int_equal(json_array_size(step(f, 0)), 0);
    store_workorder_filter_t all = {0};
    store_page_t page = {.limit = 100};
    assert_int_equal(RUN(f, store_workorders_list(f->s, &all, &page, json_cb, f)), STORE_OK);
    assert_int_equal(json_array_size(f->res), 2);
    /* by model */
    p.scope_kind = "model";
    p.scope = "AC22";
    assert_int_equal(RUN(f, store_plan_create(f->s, &p, T0, json_cb, f)), STORE_OK);
    id = int_of(json_array_get(step(f, 1), 0), "id");
    assert_int_equal(RUN(f, store_plan_run(f->s, id, T0, T0 + 30 * DAY, T0 + 10, json_cb, f)),
                     STORE_OK);
    assert_int_equal(json_array_size(step(f, 2)), 2); /* CP-1 and CP-3 */
}

/* ---- windows --------------------------------------------------------------------------- */

static void a_window_is_an_exclusion_per_station_and_goes_with_them(void **state)
{
    fixture_t *f = *state;
    store_window_t w = {.site = "North",
                        .starts_at = T0,
                        .ends_at = T0 + 3600000,
                        .reason = "inspection",
                        .by = "op"};
    assert_int_equal(RUN(f, store_window_create(f->s, &w, T0, json_cb, f)), STORE_OK);
    json_t *row = json_array_get(step(f, 3), 0);
    int64_t id = int_of(row, "id");
    json_t *ids = json_loads(json_string_value(json_object_get(row, "exclusion_ids")), 0, NULL);
    assert_int_equal(json_array_size(ids), 2);
    int64_t ex = json_integer_value(json_array_get(ids, 0));
    assert_int_equal(RUN(f, store_exclusion_get(f->s, ex, json_cb, f)), STORE_OK);
    json_t *e = json_array_get(json_array_get(f->res, 0), 0);
    assert_string_equal(json_string_value(json_object_get(e, "reason")), "scheduled_maintenance");
    assert_int_equal(int_of(e, "starts_at"), T0);
    assert_int_equal(int_of(e, "ends_at"), T0 + 3600000);
    /* another window for one station: its own exclusion only */
    store_window_t one = {
        .station_id = "CP-3", .starts_at = T0, .ends_at = T0 + 60000, .reason = "swap", .by = "op"};
    assert_int_equal(RUN(f, store_window_create(f->s, &one, T0, json_cb, f)), STORE_OK);
    json_t *ids2 = json_loads(
        json_string_value(json_object_get(json_array_get(step(f, 3), 0), "exclusion_ids")), 0,
        NULL);
    assert_int_equal(json_array_size(ids2), 1);
    /* deleting the first takes its two exclusions and leaves the other */
    assert_int_equal(RUN(f, store_window_delete(f->s, id, json_cb, f)), STORE_OK);
    assert_int_equal(int_of(step(f, 1), "changes"), 2);
    assert_int_equal(RUN(f, store_exclusion_get(f->s, ex, json_cb, f)), STORE_ERR_NOT_FOUND);
    assert_int_equal(
        RUN(f, store_exclusion_get(f->s, json_integer_value(json_array_get(ids2, 0)), json_cb, f)),
        STORE_OK);
    assert_int_equal(RUN(f, store_window_delete(f->s, id, json_cb, f)), STORE_ERR_NOT_FOUND);
    json_decref(ids);
    json_decref(ids2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(one_ticket_per_alert),
        T(a_state_change_is_guarded_by_the_state_it_was_read_in),
        T(parts_used_come_out_of_stock_and_never_below_zero),
        T(a_due_plan_makes_its_tickets_once),
        T(a_window_is_an_exclusion_per_station_and_goes_with_them),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
