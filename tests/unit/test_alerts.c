/*
 * Specification of the fault-detection rules (src/service/alerts*.c): each
 * rule raises from the domain events it watches (or from their absence, on a
 * fake clock), de-duplicates while its alert is open, and clears by itself
 * when the condition does; acknowledging and resolving by hand; thresholds
 * and switches from the [alerts] config; restoring open alerts at start.
 * The engine is driven exactly as the server drives it: events shaped as
 * csms emits them, and ticks. Its changes are recorded by test hooks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "service/alerts.h"
#include "util/timefmt.h"

#include <unistd.h>

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

/* ---- the test's world: a clock, recorded changes, heartbeats ---------------------------- */

typedef struct change {
    char type[24];
    json_t *alert; /* its JSON view */
} change_t;

typedef struct world {
    int64_t now;
    change_t changes[256];
    int n;
    int64_t heartbeat; /* what the domain would say of every station */
    alerts_config_t cfg;
    alerts_t *a;
} world_t;

static int64_t w_now(void *ud)
{
    return ((world_t *)ud)->now;
}

static void w_changed(void *ud, const char *type, const alert_t *al, alerts_done_cb done, void *ctx)
{
    world_t *w = ud;
    assert_true(w->n < 256);
    change_t *c = &w->changes[w->n++];
    snprintf(c->type, sizeof c->type, "%s", type);
    c->alert = alerts_json(al);
    if (done) done(ctx, true, c->alert);
}

static int64_t w_heartbeat(void *ud, const char *station)
{
    return ((world_t *)ud)->heartbeat;
}

static void w_start(world_t *w)
{
    alerts_hooks_t h = {
        .ud = w, .now_ms = w_now, .changed = w_changed, .last_heartbeat = w_heartbeat};
    w->a = alerts_create(&w->cfg, 60, &h);
}

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    w->now = T0;
    alerts_config_defaults(&w->cfg);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    alerts_destroy(w->a);
    for (int i = 0; i < w->n; i++)
        json_decref(w->changes[i].alert);
    free(w);
    return 0;
}

/* Lets time pass, ticking every second as the server does. */
static void pass(world_t *w, int seconds)
{
    for (int i = 0; i < seconds; i++) {
        w->now += 1000;
        alerts_tick(w->a);
    }
}

static void ev(world_t *w, const char *type, json_t *data)
{
    alerts_on_event(w->a, type, data);
    json_decref(data);
}

static json_t *status_ev(const char *station, int evse, const char *status, const char *code)
{
    json_t *d = json_pack("{s:s,s:i,s:i,s:s,s:b}", "station_id", station, "evse_id", evse,
                          "connector_id", evse ? 1 : 0, "status", status, "current", 1);
    if (code) json_object_set_new(d, "error_code", json_string(code));
    return d;
}

static json_t *boot_ev(const char *station)
{
    return json_pack("{s:s,s:s}", "station_id", station, "status", "Accepted");
}

static char *iso(int64_t ms, char *buf)
{
    return time_format_rfc3339(ms, buf);
}

static json_t *started_ev(const char *station, int evse, int64_t session, int64_t meter_start,
                          int64_t at)
{
    char b[TIME_RFC3339_LEN];
    return json_pack("{s:s,s:I,s:i,s:i,s:I,s:s}", "station_id", station, "session_id",
                     (json_int_t)session, "evse_id", evse, "connector_id", 1, "meter_start_wh",
                     (json_int_t)meter_start, "started_at", iso(at, b));
}

static json_t *ended_ev(const char *station, int evse, int64_t session, int64_t energy,
                        const char *reason)
{
    char b[TIME_RFC3339_LEN];
    return json_pack("{s:s,s:I,s:i,s:i,s:I,s:I,s:s,s:s}", "station_id", station, "session_id",
                     (json_int_t)session, "evse_id", evse, "connector_id", 1, "energy_wh",
                     (json_int_t)energy, "meter_stop_wh", (json_int_t)(1000 + energy), "stopped_at",
                     iso(T0, b), "stop_reason", reason);
}

/* meter.values with one energy register sample taken at `at`. */
static void meter(world_t *w, const char *station, int evse, int64_t session, const char *value,
                  const char *unit, int64_t at)
{
    /* a per-phase reading and a power reading ride along and must be ignored */
    store_sample_t s[] = {
        {.timestamp = at, .value = value, .measurand = "Energy.Active.Import.Register",
         .unit = unit},
        {.timestamp = at, .value = "1", .measurand = "Energy.Active.Import.Register",
         .phase = "L1"},
        {.timestamp = at, .value = "999999999", .measurand = "Power.Active.Import"},
    };
    csms_meter_event_t m = {station, evse, 1, session, s, 3, at};
    alerts_on_meter(w->a, &m);
}

static json_t *note_ev(const char *station, const char *kind, json_t *detail)
{
    return json_pack("{s:s,s:s,s:o}", "station_id", station, "kind", kind, "detail", detail);
}

static const char *s_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The i-th recorded change; asserts its type and rule. */
static json_t *change_at(world_t *w, int i, const char *type, const char *rule)
{
    assert_true(i < w->n);
    assert_string_equal(w->changes[i].type, type);
    if (rule) assert_string_equal(s_of(w->changes[i].alert, "rule"), rule);
    return w->changes[i].alert;
}

static int count_rule(world_t *w, const char *rule)
{
    int n = 0;
    for (int i = 0; i < w->n; i++)
        n += strcmp(s_of(w->changes[i].alert, "rule"), rule) == 0;
    return n;
}

/* ---- connector_faulted --------------------------------------------------------------- */

static void faulted_raises_with_codes_and_clears_on_available(void **state)
{
    world_t *w = *state;
    w_start(w);
    json_t *d = status_ev("CP-1", 2, "Faulted", "GroundFailure");
    json_object_set_new(d, "vendor_error_code", json_string("E42"));
    json_object_set_new(d, "info", json_string("RCD tripped"));
    ev(w, "connector.status", d);
    assert_int_equal(w->n, 1);
    json_t *al = change_at(w, 0, "alert.raised", "connector_faulted");
    assert_string_equal(s_of(al, "severity"), "major");
    assert_string_equal(s_of(al, "station_id"), "CP-1");
    assert_string_equal(s_of(al, "state"), "active");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(al, "connector"), "evse_id")), 2);
    json_t *det = json_object_get(al, "details");
    assert_string_equal(s_of(det, "error_code"), "GroundFailure");
    assert_string_equal(s_of(det, "vendor_error_code"), "E42");
    assert_string_equal(s_of(det, "info"), "RCD tripped");
    assert_non_null(strstr(s_of(al, "title"), "GroundFailure"));
    assert_int_equal(alerts_open_count(w->a, ALERT_ACTIVE, ALERT_MAJOR), 1);

    pass(w, 5);
    ev(w, "connector.status", status_ev("CP-1", 2, "Available", "NoError"));
    assert_int_equal(w->n, 2);
    al = change_at(w, 1, "alert.resolved", "connector_faulted");
    assert_string_equal(s_of(al, "resolved_by"), "auto");
    assert_string_equal(s_of(al, "state"), "resolved");
    assert_int_equal(
        json_integer_value(json_object_get(al, "id")),
        json_integer_value(json_object_get(change_at(w, 0, "alert.raised", NULL), "id")));
    assert_int_equal(alerts_open_count(w->a, ALERT_ACTIVE, ALERT_MAJOR), 0);
}

static void repeated_fault_bumps_count_instead_of_raising_again(void **state)
{
    world_t *w = *state;
    w_start(w);
    ev(w, "connector.status", status_ev("CP-1", 1, "Faulted", "GroundFailure"));
    pass(w, 10);
    ev(w, "connector.status", status_ev("CP-1", 1, "Faulted", "OverCurrentFailure"));
    assert_int_equal(w->n, 2);
    json_t *al = change_at(w, 1, "alert.updated", "connector_faulted");
    assert_int_equal(json_integer_value(json_object_get(al, "count")), 2);
    assert_string_equal(s_of(json_object_get(al, "details"), "error_code"), "OverCurrentFailure");
    assert_string_not_equal(s_of(al, "first_seen"), s_of(al, "last_seen"));
    /* another connector of the same station is another alert */
    ev(w, "connector.status", status_ev("CP-1", 2, "Faulted", "GroundFailure"));
    change_at(w, 2, "alert.raised", "connector_faulted");
    assert_int_not_equal(json_integer_value(json_object_get(w->changes[2].alert, "id")),
                         json_integer_value(json_object_get(w->changes[0].alert, "id")));
    /* after it cleared, the same fault is a new alert */
    ev(w, "connector.status", status_ev("CP-1", 1, "Available", NULL));
    ev(w, "connector.status", status_ev("CP-1", 1, "Faulted", "GroundFailure"));
    json_t *again = change_at(w, 4, "alert.raised", "connector_faulted");
    assert_int_equal(json_integer_value(json_object_get(again, "count")), 1);
}

static void station_level_fault_has_no_connector_and_late_reports_are_ignored(void **state)
{
    world_t *w = *state;
    w_start(w);
    json_t *late = status_ev("CP-1", 1, "Faulted", "GroundFailure");
    json_object_set_new(late, "current", json_false());
    ev(w, "connector.status", late);
    assert_int_equal(w->n, 0);
    ev(w, "connector.status", status_ev("CP-1", 0, "Faulted", "PowerMeterFailure"));
    assert_true(json_is_null(
        json_object_get(change_at(w, 0, "alert.raised", "connector_faulted"), "connector")));
    ev(w, "connector.status", status_ev("CP-1", 0, "Available", NULL));
    change_at(w, 1, "alert.resolved", "connector_faulted");
}

/* ---- station_offline ----------------------------------------------------------------- */

static void disconnected_station_is_offline_after_offline_after(void **state)
{
    world_t *w = *state;
    w->cfg.offline_after = 30;
    w->cfg.heartbeat_missed = 0;
    w_start(w);
    ev(w, "station.connected", json_pack("{s:s}", "station_id", "CP-1"));
    ev(w, "station.disconnected", json_pack("{s:s}", "station_id", "CP-1"));
    pass(w, 29);
    assert_int_equal(w->n, 0);
    pass(w, 1);
    json_t *al = change_at(w, 0, "alert.raised", "station_offline");
    assert_string_equal(s_of(json_object_get(al, "details"), "reason"), "disconnected");
    pass(w, 120); /* still offline: one alert, no bumps */
    assert_int_equal(w->n, 1);
    ev(w, "station.connected", json_pack("{s:s}", "station_id", "CP-1"));
    change_at(w, 1, "alert.resolved", "station_offline");
    assert_string_equal(s_of(w->changes[1].alert, "resolved_by"), "auto");
}

static void quick_reconnect_raises_nothing(void **state)
{
    world_t *w = *state;
    w->cfg.offline_after = 30;
    w_start(w);
    ev(w, "station.connected", json_pack("{s:s}", "station_id", "CP-1"));
    ev(w, "station.disconnected", json_pack("{s:s}", "station_id", "CP-1"));
    pass(w, 20);
    ev(w, "station.connected", json_pack("{s:s}", "station_id", "CP-1"));
    pass(w, 60);
    assert_int_equal(w->n, 0);
}

static void connected_but_silent_station_is_offline_until_heartbeats_resume(void **state)
{
    world_t *w = *state;
    w->cfg.heartbeat_missed = 3; /* x 60 s heartbeat interval */
    w_start(w);
    ev(w, "station.connected", json_pack("{s:s}", "station_id", "CP-1"));
    w->heartbeat = T0 + 60000; /* one heartbeat a minute in, then nothing */
    pass(w, 200);
    assert_int_equal(w->n, 0); /* 140 s since the heartbeat */
    pass(w, 45);
    json_t *al = change_at(w, 0, "alert.raised", "station_offline");
    assert_string_equal(s_of(json_object_get(al, "details"), "reason"), "silent");
    /* heartbeats are not events: the engine notices them on its own */
    w->heartbeat = w->now;
    pass(w, 61);
    change_at(w, 1, "alert.resolved", "station_offline");
}

static void any_message_counts_as_a_sign_of_life(void **state)
{
    world_t *w = *state;
    w->cfg.heartbeat_missed = 3;
    w_start(w);
    ev(w, "station.connected", json_pack("{s:s}", "station_id", "CP-1"));
    for (int i = 0; i < 10; i++) {
        pass(w, 60);
        ev(w, "connector.status", status_ev("CP-1", 1, "Available", NULL));
    }
    assert_int_equal(w->n, 0);
}

static void seeded_station_that_never_comes_back_is_offline(void **state)
{
    world_t *w = *state;
    w->cfg.offline_after = 10;
    w_start(w);
    alerts_seed_station(w->a, "OLD", true);
    alerts_seed_station(w->a, "NEVER-SEEN", false);
    pass(w, 11);
    assert_int_equal(w->n, 1);
    assert_string_equal(s_of(change_at(w, 0, "alert.raised", "station_offline"), "station_id"),
                        "OLD");
}

/* ---- reboot_loop ---------------------------------------------------------------------- */

static void reboot_loop_needs_count_boots_in_window_and_clears_after_a_quiet_window(void **state)
{
    world_t *w = *state;
    w->cfg.reboot_count = 3;
    w->cfg.reboot_window = 60;
    w_start(w);
    ev(w, "station.boot", boot_ev("CP-1"));
    pass(w, 40);
    ev(w, "station.boot", boot_ev("CP-1"));
    pass(w, 30); /* the first boot has left the window */
    ev(w, "station.boot", boot_ev("CP-1"));
    assert_int_equal(w->n, 0);
    pass(w, 10);
    ev(w, "station.boot", boot_ev("CP-1"));
    json_t *al = change_at(w, 0, "alert.raised", "reboot_loop");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(al, "details"), "boots")),
                     3);
    ev(w, "station.boot", boot_ev("CP-1"));
    change_at(w, 1, "alert.updated", "reboot_loop");
    pass(w, 59);
    assert_int_equal(w->n, 2);
    pass(w, 2);
    change_at(w, 2, "alert.resolved", "reboot_loop");
}

static void pending_boot_retries_are_not_reboots(void **state)
{
    world_t *w = *state;
    w_start(w);
    for (int i = 0; i < 10; i++) {
        ev(w, "station.boot", json_pack("{s:s,s:s}", "station_id", "CP-1", "status", "Pending"));
        pass(w, 1);
    }
    assert_int_equal(w->n, 0);
}

/* ---- session_stuck --------------------------------------------------------------------- */

static void charging_session_without_meter_values_is_stuck_until_values_resume(void **state)
{
    world_t *w = *state;
    w->cfg.meter_interval = 10;
    w->cfg.stuck_intervals = 3;
    w_start(w);
    ev(w, "transaction.started", started_ev("CP-1", 1, 7, 1000, w->now));
    pass(w, 100); /* not charging (Preparing): no meter values expected */
    assert_int_equal(w->n, 0);
    ev(w, "connector.status", status_ev("CP-1", 1, "Charging", NULL));
    pass(w, 20);
    meter(w, "CP-1", 1, 7, "1500", "Wh", w->now);
    pass(w, 29);
    assert_int_equal(w->n, 0);
    pass(w, 1);
    json_t *al = change_at(w, 0, "alert.raised", "session_stuck");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(al, "details"), "session_id")), 7);
    meter(w, "CP-1", 1, 7, "1600", "Wh", w->now);
    change_at(w, 1, "alert.resolved", "session_stuck");
    /* and it is watched again */
    pass(w, 31);
    change_at(w, 2, "alert.raised", "session_stuck");
    ev(w, "transaction.ended", ended_ev("CP-1", 1, 7, 600, "Local"));
    change_at(w, 3, "alert.resolved", "session_stuck");
    pass(w, 100);
    assert_int_equal(w->n, 4);
}

static void ocpp201_charging_state_drives_the_stuck_rule(void **state)
{
    world_t *w = *state;
    w->cfg.meter_interval = 10;
    w->cfg.stuck_intervals = 2;
    w_start(w);
    ev(w, "transaction.started", started_ev("CP-2", 1, 9, 0, w->now));
    ev(w, "connector.status", status_ev("CP-2", 1, "Occupied", NULL));
    ev(w, "transaction.event",
       json_pack("{s:s,s:I,s:i,s:i,s:s}", "station_id", "CP-2", "session_id", (json_int_t)9,
                 "evse_id", 1, "connector_id", 1, "charging_state", "Charging"));
    pass(w, 21);
    change_at(w, 0, "alert.raised", "session_stuck");
    ev(w, "transaction.event",
       json_pack("{s:s,s:I,s:i,s:i,s:s}", "station_id", "CP-2", "session_id", (json_int_t)9,
                 "evse_id", 1, "connector_id", 1, "charging_state", "SuspendedEV"));
    change_at(w, 1, "alert.resolved", "session_stuck");
}

/* ---- meter_backwards / meter_jump -------------------------------------------------------- */

static void register_going_backwards_raises_and_stays_until_resolved_by_hand(void **state)
{
    world_t *w = *state;
    w_start(w);
    ev(w, "transaction.started", started_ev("CP-1", 1, 3, 10000, T0));
    meter(w, "CP-1", 1, 3, "12000", "Wh", T0 + 60000);
    meter(w, "CP-1", 1, 3, "11.5", "kWh", T0 + 120000);
    json_t *al = change_at(w, 0, "alert.raised", "meter_backwards");
    json_t *det = json_object_get(al, "details");
    assert_true(json_real_value(json_object_get(det, "previous_wh")) == 12000.0);
    assert_true(json_real_value(json_object_get(det, "reading_wh")) == 11500.0);
    /* normal readings do not clear it */
    meter(w, "CP-1", 1, 3, "11600", "Wh", T0 + 180000);
    assert_int_equal(w->n, 1);
    int64_t id = json_integer_value(json_object_get(al, "id"));
    assert_int_equal(alerts_resolve(w->a, id, "alice", "meter replaced", NULL, NULL), ALERTS_OK);
    json_t *r = change_at(w, 1, "alert.resolved", "meter_backwards");
    assert_string_equal(s_of(r, "resolved_by"), "alice");
    assert_string_equal(s_of(r, "resolve_note"), "meter replaced");
}

static void reading_below_meter_start_and_late_readings(void **state)
{
    world_t *w = *state;
    w_start(w);
    ev(w, "transaction.started", started_ev("CP-1", 1, 3, 10000, T0));
    /* an older reading delivered late is history, not a decrease */
    meter(w, "CP-1", 1, 3, "10500", "Wh", T0 + 60000);
    meter(w, "CP-1", 1, 3, "10200", "Wh", T0 + 30000);
    assert_int_equal(w->n, 0);
    meter(w, "CP-1", 1, 3, "9000", "Wh", T0 + 90000);
    change_at(w, 0, "alert.raised", "meter_backwards");
}

static void register_jumping_faster_than_max_power_raises(void **state)
{
    world_t *w = *state;
    w->cfg.max_power_kw = 400;
    w_start(w);
    ev(w, "transaction.started", started_ev("CP-1", 1, 5, 0, T0));
    /* 350 kW for 60 s = 5833 Wh: plausible */
    meter(w, "CP-1", 1, 5, "5833", "Wh", T0 + 60000);
    /* kWh resolution: +1 kWh in 5 s is a register step, not 720 kW */
    meter(w, "CP-1", 1, 5, "6.833", "kWh", T0 + 65000);
    assert_int_equal(w->n, 0);
    /* +100 kWh in a minute = 6000 kW */
    meter(w, "CP-1", 1, 5, "106833", "Wh", T0 + 125000);
    json_t *al = change_at(w, 0, "alert.raised", "meter_jump");
    double kw = json_real_value(json_object_get(json_object_get(al, "details"), "implied_kw"));
    assert_true(kw > 5999 && kw < 6001);
}

static void meter_values_of_another_session_are_not_compared(void **state)
{
    world_t *w = *state;
    w_start(w);
    ev(w, "transaction.started", started_ev("CP-1", 1, 5, 50000, T0));
    meter(w, "CP-1", 1, 4, "10", "Wh", T0 + 1000);
    assert_int_equal(w->n, 0);
}

/* ---- connector_unavailable ------------------------------------------------------------- */

static void connector_unavailable_too_long(void **state)
{
    world_t *w = *state;
    w->cfg.unavailable_after = 120;
    w_start(w);
    ev(w, "connector.status", status_ev("CP-1", 1, "Unavailable", NULL));
    pass(w, 60);
    ev(w, "connector.status", status_ev("CP-1", 1, "Unavailable", NULL)); /* still: no restart */
    pass(w, 59);
    assert_int_equal(w->n, 0);
    pass(w, 1);
    change_at(w, 0, "alert.raised", "connector_unavailable");
    ev(w, "connector.status", status_ev("CP-1", 1, "Available", NULL));
    change_at(w, 1, "alert.resolved", "connector_unavailable");
    /* a short spell raises nothing */
    ev(w, "connector.status", status_ev("CP-1", 1, "Unavailable", NULL));
    pass(w, 100);
    ev(w, "connector.status", status_ev("CP-1", 1, "Available", NULL));
    pass(w, 100);
    assert_int_equal(w->n, 2);
}

static void seeded_unavailable_connector_counts_from_its_report(void **state)
{
    world_t *w = *state;
    w->cfg.unavailable_after = 3600;
    w_start(w);
    alerts_seed_connector(w->a, "CP-1", 1, 1, "Unavailable", T0 - 3590 * 1000LL);
    pass(w, 9);
    assert_int_equal(w->n, 0);
    pass(w, 2);
    change_at(w, 0, "alert.raised", "connector_unavailable");
}

/* ---- failed_starts --------------------------------------------------------------------- */

static void failed_starts_in_a_row_raise_and_a_good_session_clears(void **state)
{
    world_t *w = *state;
    w->cfg.failed_starts = 3;
    w_start(w);
    ev(w, "transaction.ended", ended_ev("CP-1", 1, 1, 0, "EVDisconnected"));
    ev(w, "transaction.ended", ended_ev("CP-1", 1, 2, 0, "Local"));
    ev(w, "transaction.ended", ended_ev("CP-1", 2, 3, 0, "Local")); /* another connector */
    assert_int_equal(w->n, 0);
    ev(w, "transaction.ended", ended_ev("CP-1", 1, 4, 0, "DeAuthorized"));
    json_t *al = change_at(w, 0, "alert.raised", "failed_starts");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(al, "details"), "failed_in_a_row")), 3);
    ev(w, "transaction.ended", ended_ev("CP-1", 1, 5, 0, "Local"));
    change_at(w, 1, "alert.updated", "failed_starts");
    ev(w, "transaction.ended", ended_ev("CP-1", 1, 6, 12000, "Local"));
    change_at(w, 2, "alert.resolved", "failed_starts");
}

/* ---- security_event and firmware_failed ------------------------------------------------ */

static void security_events_raise_by_type_except_ignored_ones(void **state)
{
    world_t *w = *state;
    w_start(w);
    ev(w, "station.notification",
       note_ev("CP-1", "security_event", json_pack("{s:s}", "type", "StartupOfTheDevice")));
    assert_int_equal(w->n, 0);
    ev(w, "station.notification",
       note_ev("CP-1", "security_event",
               json_pack("{s:s,s:s}", "type", "InvalidMessages", "techInfo", "bad frame")));
    json_t *al = change_at(w, 0, "alert.raised", "security_event");
    assert_string_equal(s_of(al, "severity"), "warning");
    assert_string_equal(s_of(json_object_get(al, "details"), "tech_info"), "bad frame");
    ev(w, "station.notification",
       note_ev("CP-1", "security_event", json_pack("{s:s}", "type", "TamperDetectionActivated")));
    al = change_at(w, 1, "alert.updated", "security_event");
    assert_string_equal(s_of(al, "severity"), "critical"); /* worse: raised */
    assert_int_equal(alerts_open_count(w->a, ALERT_ACTIVE, ALERT_CRITICAL), 1);
    assert_int_equal(alerts_open_count(w->a, ALERT_ACTIVE, ALERT_WARNING), 0);
}

static void firmware_failure_raises_and_installed_clears(void **state)
{
    world_t *w = *state;
    w_start(w);
    const char *seq[] = {"Downloading", "Downloaded", "Installing"};
    for (int i = 0; i < 3; i++)
        ev(w, "station.notification",
           note_ev("CP-1", "firmware_status", json_pack("{s:s}", "status", seq[i])));
    assert_int_equal(w->n, 0);
    ev(w, "station.notification",
       note_ev("CP-1", "firmware_status", json_pack("{s:s}", "status", "InstallationFailed")));
    json_t *al = change_at(w, 0, "alert.raised", "firmware_failed");
    assert_string_equal(s_of(json_object_get(al, "details"), "status"), "InstallationFailed");
    ev(w, "station.notification",
       note_ev("CP-1", "firmware_status", json_pack("{s:s}", "status", "InvalidSignature")));
    change_at(w, 1, "alert.updated", "firmware_failed");
    ev(w, "station.notification",
       note_ev("CP-1", "firmware_status", json_pack("{s:s}", "status", "Installed")));
    change_at(w, 2, "alert.resolved", "firmware_failed");
}

/* ---- switches and config --------------------------------------------------------------- */

static void disabled_rule_and_disabled_engine_raise_nothing(void **state)
{
    world_t *w = *state;
    w->cfg.rule_on[ALERT_CONNECTOR_FAULTED] = false;
    w_start(w);
    ev(w, "connector.status", status_ev("CP-1", 1, "Faulted", "GroundFailure"));
    ev(w, "station.notification",
       note_ev("CP-1", "firmware_status", json_pack("{s:s}", "status", "DownloadFailed")));
    assert_int_equal(w->n, 1);
    change_at(w, 0, "alert.raised", "firmware_failed");
    alerts_destroy(w->a);
    w->cfg.enabled = false;
    w_start(w);
    ev(w, "connector.status", status_ev("CP-1", 1, "Faulted", "GroundFailure"));
    ev(w, "station.notification",
       note_ev("CP-1", "firmware_status", json_pack("{s:s}", "status", "DownloadFailed")));
    assert_int_equal(w->n, 1);
}

static void config_keys_set_switches_severities_and_thresholds(void **state)
{
    alerts_config_t c;
    char err[256];
    alerts_config_defaults(&c);
    assert_int_equal(alerts_config_set(&c, "meter_jump", "off", err, sizeof err), 0);
    assert_false(c.rule_on[ALERT_METER_JUMP]);
    assert_int_equal(alerts_config_set(&c, "station_offline_severity", "critical", err, sizeof err),
                     0);
    assert_int_equal(c.severity[ALERT_STATION_OFFLINE], ALERT_CRITICAL);
    assert_int_equal(alerts_config_set(&c, "offline_after", "2", err, sizeof err), 0);
    assert_int_equal(c.offline_after, 2);
    assert_int_equal(alerts_config_set(&c, "security_ignore", "A, B ,C", err, sizeof err), 0);
    assert_true(alerts_config_ignores(&c, "B"));
    assert_false(alerts_config_ignores(&c, "D"));
    assert_int_equal(alerts_config_validate(&c, err, sizeof err), 0);
    /* hostile values */
    assert_int_equal(alerts_config_set(&c, "offline_after", "soon", err, sizeof err), -1);
    assert_non_null(strstr(err, "offline_after"));
    assert_int_equal(alerts_config_set(&c, "meter_jump", "maybe", err, sizeof err), -1);
    assert_int_equal(alerts_config_set(&c, "meter_jump_severity", "dire", err, sizeof err), -1);
    assert_int_equal(alerts_config_set(&c, "no_such_rule", "on", err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown option [alerts] no_such_rule"));
    assert_int_equal(alerts_config_set(&c, "reboot_count", "1", err, sizeof err), 0);
    assert_int_equal(alerts_config_validate(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "reboot_count"));
}

/* Loads INI text through config_load; returns its result, err filled. */
static int load_ini(config_t *c, const char *text, char *err, size_t len)
{
    char path[] = "/tmp/ampgrid-alerts-ini-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    config_defaults(c);
    int rc = config_load(c, path, err, len);
    unlink(path);
    return rc;
}

static void config_file_alerts_section(void **state)
{
    config_t c;
    char err[512];
    assert_int_equal(load_ini(&c,
                              "[alerts]\noffline_after = 2\nmeter_jump = off\n"
                              "firmware_failed_severity = critical\n",
                              err, sizeof err),
                     0);
    assert_int_equal(c.alerts.offline_after, 2);
    assert_false(c.alerts.rule_on[ALERT_METER_JUMP]);
    assert_int_equal(c.alerts.severity[ALERT_FIRMWARE_FAILED], ALERT_CRITICAL);
    assert_int_equal(c.alerts.heartbeat_missed, 3); /* untouched keys keep their defaults */
    assert_int_equal(config_validate(&c, err, sizeof err), 0);
    assert_int_equal(load_ini(&c, "[alerts]\nofline_after = 2\n", err, sizeof err), -1);
    assert_non_null(strstr(err, "line 2"));
    assert_non_null(strstr(err, "unknown option [alerts] ofline_after"));
    assert_int_equal(load_ini(&c, "[alerts]\nmax_power_kw = 0\n", err, sizeof err), 0);
    assert_int_equal(config_validate(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "max_power_kw"));
}

static void rules_json_lists_every_rule_with_its_thresholds(void **state)
{
    world_t *w = *state;
    w->cfg.max_power_kw = 350;
    w->cfg.rule_on[ALERT_SECURITY_EVENT] = false;
    w_start(w);
    json_t *r = alerts_rules_json(w->a);
    json_t *rules = json_object_get(r, "rules");
    assert_int_equal(json_array_size(rules), ALERT_RULE_COUNT_);
    size_t i;
    json_t *x;
    bool saw_jump = false;
    json_array_foreach(rules, i, x)
    {
        assert_non_null(s_of(x, "description"));
        if (strcmp(s_of(x, "rule"), "meter_jump") == 0) {
            saw_jump = true;
            assert_int_equal(json_integer_value(
                                 json_object_get(json_object_get(x, "thresholds"), "max_power_kw")),
                             350);
        }
        if (strcmp(s_of(x, "rule"), "security_event") == 0)
            assert_true(json_is_false(json_object_get(x, "enabled")));
    }
    assert_true(saw_jump);
    json_decref(r);
}

/* ---- campaign_paused and profiles_refused --------------------------------------------- */

static json_t *paused_ev(int64_t id, const char *name)
{
    return json_pack("{s:I,s:s,s:s,s:i,s:i}", "id", (json_int_t)id, "name", name, "reason",
                     "failure threshold passed: 3 of 10 finished attempts failed (more than 20%)",
                     "failures", 3, "attempts", 10);
}

static json_t *campaign_ev(int64_t id, const char *state)
{
    return json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id, "name", "x", "state", state);
}

static void paused_campaign_raises_one_alert_each_until_resumed_completed_or_cancelled(void **state)
{
    world_t *w = *state;
    w_start(w);
    ev(w, "campaign.updated", campaign_ev(7, "paused")); /* the pause's own update: nothing */
    ev(w, "campaign.paused", paused_ev(7, "fleet 2.0"));
    assert_int_equal(w->n, 1);
    json_t *al = change_at(w, 0, "alert.raised", "campaign_paused");
    assert_true(json_is_null(json_object_get(al, "station_id")));
    assert_string_equal(s_of(al, "severity"), "major");
    json_t *d = json_object_get(al, "details");
    assert_int_equal(json_integer_value(json_object_get(d, "campaign_id")), 7);
    assert_int_equal(json_integer_value(json_object_get(d, "failures")), 3);
    assert_non_null(strstr(s_of(al, "title"), "fleet 2.0"));
    ev(w, "campaign.paused", paused_ev(8, "other"));
    change_at(w, 1, "alert.raised", "campaign_paused");  /* another campaign, another alert */
    ev(w, "campaign.paused", paused_ev(7, "fleet 2.0")); /* resumed and paused again, say */
    change_at(w, 2, "alert.updated", "campaign_paused");
    /* a manual pause and campaign 9's resume change nothing */
    ev(w, "campaign.updated", campaign_ev(7, "paused"));
    ev(w, "campaign.updated", campaign_ev(9, "running"));
    assert_int_equal(w->n, 3);
    ev(w, "campaign.updated", campaign_ev(7, "running"));
    json_t *r = change_at(w, 3, "alert.resolved", "campaign_paused");
    assert_string_equal(s_of(r, "resolved_by"), "auto");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r, "details"), "campaign_id")), 7);
    ev(w, "campaign.updated", campaign_ev(8, "cancelled"));
    change_at(w, 4, "alert.resolved", "campaign_paused");
    ev(w, "campaign.paused", paused_ev(7, "fleet 2.0"));
    change_at(w, 5, "alert.raised", "campaign_paused");
    ev(w, "campaign.updated", campaign_ev(7, "completed"));
    change_at(w, 6, "alert.resolved", "campaign_paused");
    assert_int_equal(w->n, 7);
}

static void restored_campaign_alert_keeps_its_campaign(void **state)
{
    world_t *w = *state;
    w_start(w);
    json_t *row =
        json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "id", (json_int_t)12, "rule",
                  "campaign_paused", "severity", "major", "station_id", "", "title", "paused",
                  "details", "{\"campaign_id\":5}", "state", "active", "first_seen", (json_int_t)T0,
                  "last_seen", (json_int_t)T0, "count", (json_int_t)1);
    alerts_restore(w->a, row);
    json_decref(row);
    ev(w, "campaign.paused", paused_ev(5, "c5"));
    assert_int_equal(
        json_integer_value(json_object_get(change_at(w, 0, "alert.updated", NULL), "id")), 12);
    ev(w, "campaign.updated", campaign_ev(4, "running"));
    assert_int_equal(w->n, 1);
    ev(w, "campaign.updated", campaign_ev(5, "running"));
    change_at(w, 1, "alert.resolved", "campaign_paused");
}

static json_t *profile_result(const char *station, const char *action, const char *status)
{
    return json_pack("{s:s,s:s,s:s,s:{s:s}}", "station_id", station, "action", action, "outcome",
                     "Answered", "response", "status", status);
}

static void station_refusing_profiles_raises_until_it_accepts_one(void **state)
{
    world_t *w = *state;
    w_start(w);
    ev(w, "smart.station_flagged",
       json_pack("{s:s,s:s,s:s}", "station_id", "CP-1", "site", "Depot", "reason",
                 "TxDefaultProfile: answered Rejected"));
    json_t *al = change_at(w, 0, "alert.raised", "profiles_refused");
    assert_string_equal(s_of(al, "station_id"), "CP-1");
    assert_true(json_is_null(json_object_get(al, "connector")));
    assert_string_equal(s_of(json_object_get(al, "details"), "site"), "Depot");
    assert_non_null(strstr(s_of(al, "title"), "Rejected"));
    /* other answers leave it open */
    ev(w, "command.result", profile_result("CP-1", "SetChargingProfile", "Rejected"));
    ev(w, "command.result", profile_result("CP-1", "ClearChargingProfile", "Accepted"));
    ev(w, "command.result", profile_result("CP-2", "SetChargingProfile", "Accepted"));
    assert_int_equal(w->n, 1);
    ev(w, "command.result", profile_result("CP-1", "SetChargingProfile", "Accepted"));
    change_at(w, 1, "alert.resolved", "profiles_refused");
    assert_int_equal(w->n, 2);
    w->cfg.rule_on[ALERT_PROFILES_REFUSED] = false;
    alerts_destroy(w->a);
    w_start(w);
    ev(w, "smart.station_flagged",
       json_pack("{s:s,s:s,s:s}", "station_id", "CP-1", "site", "D", "reason", "x"));
    assert_int_equal(w->n, 2);
}

/* ---- operators and restarts ------------------------------------------------------------ */

static void acknowledged_alert_stays_open_and_still_clears_by_itself(void **state)
{
    world_t *w = *state;
    w_start(w);
    ev(w, "connector.status", status_ev("CP-1", 1, "Faulted", "GroundFailure"));
    int64_t id = json_integer_value(json_object_get(w->changes[0].alert, "id"));
    assert_int_equal(alerts_acknowledge(w->a, id, "tech", "on my way", NULL, NULL), ALERTS_OK);
    json_t *al = change_at(w, 1, "alert.acknowledged", "connector_faulted");
    assert_string_equal(s_of(al, "acknowledged_by"), "tech");
    assert_string_equal(s_of(al, "ack_note"), "on my way");
    assert_int_equal(alerts_acknowledge(w->a, id, "other", NULL, NULL, NULL), ALERTS_ERR_ACKED);
    assert_int_equal(alerts_open_count(w->a, ALERT_ACKNOWLEDGED, ALERT_MAJOR), 1);
    assert_int_equal(alerts_open_count(w->a, ALERT_ACTIVE, ALERT_MAJOR), 0);
    ev(w, "connector.status", status_ev("CP-1", 1, "Faulted", "GroundFailure"));
    assert_string_equal(s_of(change_at(w, 2, "alert.updated", NULL), "state"), "acknowledged");
    ev(w, "connector.status", status_ev("CP-1", 1, "Available", NULL));
    change_at(w, 3, "alert.resolved", "connector_faulted");
    assert_int_equal(alerts_acknowledge(w->a, id, "tech", NULL, NULL, NULL), ALERTS_ERR_NOT_OPEN);
    assert_int_equal(alerts_resolve(w->a, id, "tech", NULL, NULL, NULL), ALERTS_ERR_NOT_OPEN);
    assert_null(alerts_find(w->a, id));
    assert_int_equal(alerts_open_count(w->a, ALERT_ACKNOWLEDGED, ALERT_MAJOR), 0);
}

static void restored_alerts_dedupe_clear_and_keep_ids_unique(void **state)
{
    world_t *w = *state;
    w_start(w);
    json_t *row = json_pack("{s:I,s:s,s:s,s:s,s:i,s:i,s:s,s:s,s:s,s:I,s:I,s:I}", "id",
                            (json_int_t)41, "rule", "connector_faulted", "severity", "major",
                            "station_id", "CP-1", "evse_id", 1, "connector_id", 1, "title",
                            "Connector 1 faulted", "details", "{\"error_code\":\"GroundFailure\"}",
                            "state", "acknowledged", "first_seen", (json_int_t)(T0 - 5000),
                            "last_seen", (json_int_t)(T0 - 5000), "count", (json_int_t)4);
    alerts_restore(w->a, row);
    json_decref(row);
    alerts_set_next_id(w->a, 50);
    const alert_t *al = alerts_find(w->a, 41);
    assert_non_null(al);
    assert_int_equal(al->state, ALERT_ACKNOWLEDGED);
    assert_int_equal(alerts_open_count(w->a, ALERT_ACKNOWLEDGED, ALERT_MAJOR), 1);
    ev(w, "connector.status", status_ev("CP-1", 1, "Faulted", "GroundFailure"));
    json_t *up = change_at(w, 0, "alert.updated", "connector_faulted");
    assert_int_equal(json_integer_value(json_object_get(up, "id")), 41);
    assert_int_equal(json_integer_value(json_object_get(up, "count")), 5);
    ev(w, "connector.status", status_ev("CP-1", 2, "Faulted", "GroundFailure"));
    assert_int_equal(
        json_integer_value(json_object_get(change_at(w, 1, "alert.raised", NULL), "id")), 50);
    ev(w, "connector.status", status_ev("CP-1", 1, "Available", NULL));
    assert_int_equal(
        json_integer_value(json_object_get(change_at(w, 2, "alert.resolved", NULL), "id")), 41);
}

static void deleted_station_resolves_its_alerts(void **state)
{
    world_t *w = *state;
    w->cfg.offline_after = 5;
    w_start(w);
    ev(w, "station.connected", json_pack("{s:s}", "station_id", "CP-1"));
    ev(w, "connector.status", status_ev("CP-1", 1, "Faulted", "GroundFailure"));
    ev(w, "station.disconnected", json_pack("{s:s}", "station_id", "CP-1"));
    ev(w, "station.deleted", json_pack("{s:s}", "station_id", "CP-1"));
    change_at(w, 1, "alert.resolved", "connector_faulted");
    pass(w, 10); /* its offline timer went with it */
    assert_int_equal(w->n, 2);
    assert_int_equal(count_rule(w, "station_offline"), 0);
}

static void row_json_matches_the_engine_view(void **state)
{
    json_t *row = json_pack("{s:I,s:s,s:s,s:s,s:n,s:n,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:I,s:s}", "id",
                            (json_int_t)3, "rule", "station_offline", "severity", "major",
                            "station_id", "CP-9", "evse_id", "connector_id", "title", "Offline",
                            "details", "{\"reason\":\"disconnected\"}", "state", "resolved",
                            "first_seen", (json_int_t)T0, "last_seen", (json_int_t)T0, "count",
                            (json_int_t)1, "resolved_by", "auto", "resolved_at",
                            (json_int_t)(T0 + 1000), "resolve_note", "back");
    json_t *o = alerts_row_json(row);
    assert_true(json_is_null(json_object_get(o, "connector")));
    assert_string_equal(s_of(o, "resolved_at"), "2026-01-01T00:00:01.000Z");
    assert_string_equal(s_of(json_object_get(o, "details"), "reason"), "disconnected");
    assert_string_equal(s_of(o, "state"), "resolved");
    assert_true(json_is_null(json_object_get(o, "acknowledged_at")));
    json_decref(o);
    json_decref(row);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(faulted_raises_with_codes_and_clears_on_available),
        T(repeated_fault_bumps_count_instead_of_raising_again),
        T(station_level_fault_has_no_connector_and_late_reports_are_ignored),
        T(disconnected_station_is_offline_after_offline_after),
        T(quick_reconnect_raises_nothing),
        T(connected_but_silent_station_is_offline_until_heartbeats_resume),
        T(any_message_counts_as_a_sign_of_life),
        T(seeded_station_that_never_comes_back_is_offline),
        T(reboot_loop_needs_count_boots_in_window_and_clears_after_a_quiet_window),
        T(pending_boot_retries_are_not_reboots),
        T(charging_session_without_meter_values_is_stuck_until_values_resume),
        T(ocpp201_charging_state_drives_the_stuck_rule),
        T(register_going_backwards_raises_and_stays_until_resolved_by_hand),
        T(reading_below_meter_start_and_late_readings),
        T(register_jumping_faster_than_max_power_raises),
        T(meter_values_of_another_session_are_not_compared),
        T(connector_unavailable_too_long),
        T(seeded_unavailable_connector_counts_from_its_report),
        T(failed_starts_in_a_row_raise_and_a_good_session_clears),
        T(security_events_raise_by_type_except_ignored_ones),
        T(firmware_failure_raises_and_installed_clears),
        T(disabled_rule_and_disabled_engine_raise_nothing),
        T(config_keys_set_switches_severities_and_thresholds),
        T(config_file_alerts_section),
        T(rules_json_lists_every_rule_with_its_thresholds),
        T(paused_campaign_raises_one_alert_each_until_resumed_completed_or_cancelled),
        T(restored_campaign_alert_keeps_its_campaign),
        T(station_refusing_profiles_raises_until_it_accepts_one),
        T(acknowledged_alert_stays_open_and_still_clears_by_itself),
        T(restored_alerts_dedupe_clear_and_keep_ids_unique),
        T(deleted_station_resolves_its_alerts),
        T(row_json_matches_the_engine_view),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
