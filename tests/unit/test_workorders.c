/*
 * Specification of the work-order rules (src/service/workorders.c): the
 * state table (every legal step and every illegal one), stock arithmetic
 * (never below zero, never past the maximum, bad quantities refused), the
 * plan's due date (one step past now, however far behind), the [workorders]
 * config keys, the API's view of a ticket row, and the parts_low_stock
 * alert other modules raise through alerts_report / alerts_withdraw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "service/alerts.h"
#include "service/workorders.h"
#include "service/workorders_server.h"

#define DAY WORKORDERS_DAY_MS
#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

/* ---- the state table ------------------------------------------------------------------- */

static void state_names_round_trip(void **state)
{
    (void)state;
    for (int s = 0; s < WO_STATE_COUNT_; s++)
        assert_int_equal(workorders_state_parse(workorders_state_name((wo_state_t)s)), s);
    assert_int_equal(workorders_state_parse("done"), -1);
    assert_int_equal(workorders_state_parse(NULL), -1);
    for (int p = 0; p < WO_PRIORITY_COUNT_; p++)
        assert_int_equal(workorders_priority_parse(workorders_priority_name((wo_priority_t)p)), p);
    assert_int_equal(workorders_priority_parse("asap"), -1);
}

static void every_legal_step_and_only_those(void **state)
{
    (void)state;
    /* the whole table, written out: from -> the states it may go to */
    static const char *const legal[WO_STATE_COUNT_] = {
        [WO_OPEN] = "assigned closed",
        [WO_ASSIGNED] = "in_progress open",
        [WO_IN_PROGRESS] = "waiting_for_parts resolved assigned",
        [WO_WAITING_FOR_PARTS] = "in_progress resolved",
        [WO_RESOLVED] = "closed open",
        [WO_CLOSED] = "",
    };
    int allowed = 0;
    for (int from = 0; from < WO_STATE_COUNT_; from++) {
        for (int to = 0; to < WO_STATE_COUNT_; to++) {
            char word[40];
            snprintf(word, sizeof word, " %s ", workorders_state_name((wo_state_t)to));
            char list[128];
            snprintf(list, sizeof list, " %s ", legal[from]);
            bool want = strstr(list, word) != NULL;
            assert_int_equal(workorders_transition_ok((wo_state_t)from, (wo_state_t)to), want);
            allowed += want;
        }
    }
    assert_int_equal(allowed, 11);
    /* never to the same state, never out of range */
    assert_false(workorders_transition_ok(WO_OPEN, WO_OPEN));
    assert_false(workorders_transition_ok(WO_STATE_COUNT_, WO_OPEN));
    assert_false(workorders_transition_ok(WO_OPEN, WO_STATE_COUNT_));
}

static void next_states_say_where_a_ticket_may_go(void **state)
{
    (void)state;
    char buf[128];
    workorders_next_states(WO_IN_PROGRESS, buf, sizeof buf);
    assert_string_equal(buf, "assigned, waiting_for_parts, resolved");
    workorders_next_states(WO_CLOSED, buf, sizeof buf);
    assert_string_equal(buf, "none (it is final)");
}

/* ---- stock ----------------------------------------------------------------------------- */

static void receiving_adds_and_using_takes_away(void **state)
{
    (void)state;
    int64_t after = -1, delta = 0;
    assert_int_equal(workorders_stock_apply(WO_STOCK_RECEIVE, 3, 5, &after, &delta), WO_STOCK_OK);
    assert_int_equal(after, 8);
    assert_int_equal(delta, 5);
    assert_int_equal(workorders_stock_apply(WO_STOCK_USE, 8, 8, &after, &delta), WO_STOCK_OK);
    assert_int_equal(after, 0);
    assert_int_equal(delta, -8);
    assert_int_equal(workorders_stock_apply(WO_STOCK_CORRECT, 8, 2, &after, &delta), WO_STOCK_OK);
    assert_int_equal(after, 2);
    assert_int_equal(delta, -6);
    assert_int_equal(workorders_stock_apply(WO_STOCK_CORRECT, 8, 0, &after, &delta), WO_STOCK_OK);
    assert_int_equal(after, 0);
}

static void stock_never_goes_below_zero_or_past_the_maximum(void **state)
{
    (void)state;
    int64_t after = 42, delta = 42;
    assert_int_equal(workorders_stock_apply(WO_STOCK_USE, 2, 3, &after, &delta),
                     WO_STOCK_INSUFFICIENT);
    assert_int_equal(after, 42); /* untouched on refusal */
    assert_int_equal(
        workorders_stock_apply(WO_STOCK_RECEIVE, WORKORDERS_MAX_QUANTITY, 1, &after, &delta),
        WO_STOCK_TOO_MUCH);
    assert_int_equal(
        workorders_stock_apply(WO_STOCK_RECEIVE, WORKORDERS_MAX_QUANTITY - 1, 1, &after, &delta),
        WO_STOCK_OK);
    assert_int_equal(after, WORKORDERS_MAX_QUANTITY);
}

static void bad_quantities_are_refused(void **state)
{
    (void)state;
    int64_t after, delta;
    const int64_t bad[] = {0, -1, INT64_MIN, WORKORDERS_MAX_QUANTITY + 1, INT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(workorders_stock_apply(WO_STOCK_RECEIVE, 5, bad[i], &after, &delta),
                         WO_STOCK_BAD_QUANTITY);
        assert_int_equal(workorders_stock_apply(WO_STOCK_USE, 5, bad[i], &after, &delta),
                         WO_STOCK_BAD_QUANTITY);
    }
    /* a count of zero is a correction, not a movement */
    assert_int_equal(workorders_stock_apply(WO_STOCK_CORRECT, 5, -1, &after, &delta),
                     WO_STOCK_BAD_QUANTITY);
}

static void low_is_below_the_threshold_and_zero_means_never(void **state)
{
    (void)state;
    assert_true(workorders_stock_low(2, 3));
    assert_false(workorders_stock_low(3, 3));
    assert_false(workorders_stock_low(0, 0));
    assert_true(workorders_stock_low(0, 1));
}

/* ---- plans ----------------------------------------------------------------------------- */

static void a_plan_is_due_at_next_due(void **state)
{
    (void)state;
    assert_true(workorders_plan_due(T0, T0));
    assert_true(workorders_plan_due(T0, T0 + 1));
    assert_false(workorders_plan_due(T0, T0 - 1));
}

static void next_due_moves_one_interval_past_now(void **state)
{
    (void)state;
    /* due now: one interval on */
    assert_int_equal(workorders_plan_advance(T0, 30, T0), T0 + 30 * DAY);
    /* due an hour ago: still one interval on */
    assert_int_equal(workorders_plan_advance(T0, 30, T0 + 3600000), T0 + 30 * DAY);
    /* a server down for 100 days with a 30-day plan: the first date after now, keeping
     * the plan's rhythm (day 120), not four catch-up tickets */
    assert_int_equal(workorders_plan_advance(T0, 30, T0 + 100 * DAY), T0 + 120 * DAY);
    /* exactly on a later due date: past it */
    assert_int_equal(workorders_plan_advance(T0, 30, T0 + 60 * DAY), T0 + 90 * DAY);
    /* not due: unchanged */
    assert_int_equal(workorders_plan_advance(T0 + DAY, 30, T0), T0 + DAY);
    /* a yearly calibration */
    assert_int_equal(workorders_plan_advance(T0, 365, T0 + 10), T0 + 365 * DAY);
}

/* ---- config ---------------------------------------------------------------------------- */

static void config_auto_create_and_priorities(void **state)
{
    (void)state;
    workorders_config_t c;
    char err[200];
    workorders_config_defaults(&c);
    assert_int_equal(c.auto_create, 0);
    assert_int_equal(workorders_config_set(&c, "auto_create", "connector_faulted, station_offline",
                                           err, sizeof err),
                     0);
    assert_int_equal(c.auto_create,
                     (1u << ALERT_CONNECTOR_FAULTED) | (1u << ALERT_STATION_OFFLINE));
    assert_int_equal(
        workorders_config_set(&c, "auto_priority", "low, station_offline:urgent", err, sizeof err),
        0);
    assert_int_equal(workorders_config_priority(&c, ALERT_STATION_OFFLINE), WO_URGENT);
    assert_int_equal(workorders_config_priority(&c, ALERT_CONNECTOR_FAULTED), WO_LOW);
    assert_int_equal(
        workorders_config_set(&c, "auto_create", "connector_faulted,nonsense", err, sizeof err),
        -1);
    assert_non_null(strstr(err, "nonsense"));
    assert_int_equal(
        workorders_config_set(&c, "auto_priority", "station_offline:soon", err, sizeof err), -1);
    assert_int_equal(workorders_config_set(&c, "colour", "blue", err, sizeof err), -1);
    assert_int_equal(workorders_config_set(&c, "max_attachment", "12", err, sizeof err), -1);
    assert_int_equal(workorders_config_set(&c, "max_attachment", "2048", err, sizeof err), 0);
    assert_int_equal(c.max_attachment, 2048);
    assert_int_equal(workorders_config_set(&c, "auto_create", "none", err, sizeof err), 0);
    assert_int_equal(c.auto_create, 0);
}

/* ---- the ticket's JSON view ------------------------------------------------------------ */

static void row_json_has_rfc3339_times_and_a_connector_object(void **state)
{
    (void)state;
    json_t *row = json_pack("{s:i,s:s,s:s,s:i,s:i,s:I,s:n,s:n}", "id", 7, "state", "open",
                            "station_id", "CP-1", "evse_id", 2, "connector_id", 1, "created_at",
                            (json_int_t)T0, "resolved_at", "due_at");
    json_t *v = workorders_row_json(row);
    assert_string_equal(json_string_value(json_object_get(v, "created_at")),
                        "2026-01-01T00:00:00.000Z");
    assert_true(json_is_null(json_object_get(v, "resolved_at")));
    json_t *conn = json_object_get(v, "connector");
    assert_int_equal(json_integer_value(json_object_get(conn, "evse_id")), 2);
    assert_int_equal(json_integer_value(json_object_get(conn, "connector_id")), 1);
    assert_null(json_object_get(v, "evse_id"));
    json_decref(v);
    json_object_set_new(row, "evse_id", json_null());
    v = workorders_row_json(row);
    assert_true(json_is_null(json_object_get(v, "connector")));
    json_decref(v);
    json_decref(row);
}

/* ---- parts_low_stock through the alerts engine ----------------------------------------- */

typedef struct seen {
    char types[8][24];
    json_t *last;
    int n;
} seen_t;

static int64_t fixed_now(void *ud)
{
    (void)ud;
    return T0;
}

static void record(void *ud, const char *type, const alert_t *al, alerts_done_cb done, void *ctx)
{
    seen_t *s = ud;
    if (s->n < 8) snprintf(s->types[s->n], sizeof s->types[0], "%s", type);
    s->n++;
    json_decref(s->last);
    s->last = alerts_json(al);
    if (done) done(ctx, true, s->last);
}

static void low_stock_alert_is_one_for_the_network_and_clears(void **state)
{
    (void)state;
    seen_t seen = {0};
    alerts_config_t cfg;
    alerts_config_defaults(&cfg);
    alerts_hooks_t hooks = {.ud = &seen, .now_ms = fixed_now, .changed = record};
    alerts_t *a = alerts_create(&cfg, 60, &hooks);
    alerts_report(a, ALERT_PARTS_LOW_STOCK, NULL, "Low stock: RCD",
                  json_pack("{s:[{s:s}]}", "items", "sku", "RCD"));
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.types[0], "alert.raised");
    assert_true(json_is_null(json_object_get(seen.last, "station_id")));
    assert_string_equal(json_string_value(json_object_get(seen.last, "rule")), "parts_low_stock");
    assert_string_equal(json_string_value(json_object_get(seen.last, "severity")), "warning");
    /* a second low part: the same alert, updated */
    alerts_report(a, ALERT_PARTS_LOW_STOCK, NULL, "Low stock: 2 parts",
                  json_pack("{s:[{s:s},{s:s}]}", "items", "sku", "RCD", "sku", "CABLE"));
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.types[1], "alert.updated");
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(seen.last, "details"), "items")), 2);
    alerts_withdraw(a, ALERT_PARTS_LOW_STOCK, NULL);
    assert_int_equal(seen.n, 3);
    assert_string_equal(seen.types[2], "alert.resolved");
    assert_string_equal(json_string_value(json_object_get(seen.last, "resolved_by")), "auto");
    alerts_withdraw(a, ALERT_PARTS_LOW_STOCK, NULL); /* nothing open: nothing happens */
    assert_int_equal(seen.n, 3);
    /* switched off: never raised */
    alerts_destroy(a);
    cfg.rule_on[ALERT_PARTS_LOW_STOCK] = false;
    a = alerts_create(&cfg, 60, &hooks);
    alerts_report(a, ALERT_PARTS_LOW_STOCK, NULL, "x", json_object());
    assert_int_equal(seen.n, 3);
    alerts_destroy(a);
    json_decref(seen.last);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test(f)
        T(state_names_round_trip),
        T(every_legal_step_and_only_those),
        T(next_states_say_where_a_ticket_may_go),
        T(receiving_adds_and_using_takes_away),
        T(stock_never_goes_below_zero_or_past_the_maximum),
        T(bad_quantities_are_refused),
        T(low_is_below_the_threshold_and_zero_means_never),
        T(a_plan_is_due_at_next_due),
        T(next_due_moves_one_interval_past_now),
        T(config_auto_create_and_priorities),
        T(row_json_has_rfc3339_times_and_a_connector_object),
        T(low_stock_alert_is_one_for_the_network_and_clears),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
