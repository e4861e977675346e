/*
 * Specification of grid signals (src/smart/signals.c, dr_events.c,
 * prices.c): overlapping demand-response events resolve to the tightest
 * limit, the next change skips boundaries where nothing changes, and prices
 * come from the newest schedule covering a time, falling back to the default;
 * time-of-use tables run across midnight and across the weekday/weekend
 * change, in fixed UTC offsets. Hostile input is refused with a sentence.
 * OpenADR 3.0 events map to limits and prices for the mapped sites, and
 * hostile events from a VTN are refused without harm.
 * 2026-11-20 is a Friday, 2026-11-21 a Saturday.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "smart/dr_events.h"
#include "smart/openadr.h"
#include "smart/prices.h"
#include "smart/signals.h"
#include "util/timefmt.h"

static int64_t T(const char *s)
{
    int64_t ms;
    if (!time_parse_rfc3339(s, &ms)) fail_msg("bad test time %s", s);
    return ms / 1000;
}

static void add_dr(smart_signals_t *s, int64_t id, const char *site, const char *a, const char *b,
                   double kw)
{
    smart_dr_t e = {.id = id, .start = T(a), .end = T(b), .limit_kw = kw, .phase_a = {-1, -1, -1}};
    snprintf(e.site, sizeof e.site, "%s", site);
    smart_signals_dr_put(s, &e);
}

static smart_prices_t *prices(const char *json)
{
    json_error_t je;
    json_t *j = json_loads(json, 0, &je);
    if (!j) fail_msg("bad test json: %s", je.text);
    char err[256] = "";
    smart_prices_t *p = smart_prices_from_json(j, err, sizeof err);
    json_decref(j);
    if (!p) fail_msg("schedule refused: %s", err);
    return p;
}

static const char *refusal(const char *json)
{
    static char err[256];
    json_t *j = json_loads(json, 0, NULL);
    err[0] = '\0';
    smart_prices_t *p = smart_prices_from_json(j, err, sizeof err);
    json_decref(j);
    if (p) {
        smart_prices_free(p);
        return NULL;
    }
    return err;
}

/* ----------------------------------------------------- demand response */

static void overlapping_events_the_tightest_limit_applies(void **state)
{
    smart_signals_t *s = smart_signals_new();
    add_dr(s, 1, "depot", "2026-11-20T10:00:00Z", "2026-11-20T14:00:00Z", 100);
    add_dr(s, 2, "depot", "2026-11-20T11:00:00Z", "2026-11-20T12:00:00Z", 40);
    add_dr(s, 3, "depot", "2026-11-20T11:30:00Z", "2026-11-20T13:00:00Z", 70);
    add_dr(s, 4, "other", "2026-11-20T09:00:00Z", "2026-11-20T18:00:00Z", 5);
    assert_true(smart_signals_limit_w(s, "depot", T("2026-11-20T09:59:59Z")) == -1);
    assert_true(smart_signals_limit_w(s, "depot", T("2026-11-20T10:00:00Z")) == 100000);
    assert_true(smart_signals_limit_w(s, "depot", T("2026-11-20T11:45:00Z")) == 40000);
    assert_true(smart_signals_limit_w(s, "depot", T("2026-11-20T12:00:00Z")) == 70000);
    assert_true(smart_signals_limit_w(s, "depot", T("2026-11-20T13:00:00Z")) == 100000);
    assert_true(smart_signals_limit_w(s, "depot", T("2026-11-20T14:00:00Z")) ==
                -1); /* end excluded */
    assert_true(smart_signals_limit_w(s, "nowhere", T("2026-11-20T11:45:00Z")) == -1);
    assert_true(smart_signals_dr_remove(s, 2));
    assert_false(smart_signals_dr_remove(s, 2));
    assert_true(smart_signals_limit_w(s, "depot", T("2026-11-20T11:45:00Z")) == 70000);
    smart_signals_free(s);
}

static void per_phase_limits_take_the_lowest_of_each_phase(void **state)
{
    smart_signals_t *s = smart_signals_new();
    smart_dr_t a = {
        .id = 1, .site = "d", .start = 0, .end = 100, .limit_kw = 50, .phase_a = {32, -1, 20}};
    smart_dr_t b = {
        .id = 2, .site = "d", .start = 10, .end = 20, .limit_kw = 60, .phase_a = {16, 25, 30}};
    smart_signals_dr_put(s, &a);
    smart_signals_dr_put(s, &b);
    double ph[3];
    assert_true(smart_signals_limit_a(s, "d", 5, ph));
    assert_true(ph[0] == 32 && ph[1] == -1 && ph[2] == 20);
    assert_true(smart_signals_limit_a(s, "d", 15, ph));
    assert_true(ph[0] == 16 && ph[1] == 25 && ph[2] == 20);
    assert_false(smart_signals_limit_a(s, "d", 100, ph));
    smart_signals_free(s);
}

static void next_change_skips_boundaries_where_nothing_changes(void **state)
{
    smart_signals_t *s = smart_signals_new();
    add_dr(s, 1, "depot", "2026-11-20T10:00:00Z", "2026-11-20T14:00:00Z", 40);
    /* looser, inside: its start and end change nothing */
    add_dr(s, 2, "depot", "2026-11-20T11:00:00Z", "2026-11-20T12:00:00Z", 90);
    add_dr(s, 3, "other", "2026-11-20T10:30:00Z", "2026-11-20T10:40:00Z", 1);
    int64_t t0 = T("2026-11-20T09:00:00Z");
    assert_true(smart_signals_next_change(s, "depot", t0) == T("2026-11-20T10:00:00Z"));
    assert_true(smart_signals_next_change(s, "depot", T("2026-11-20T10:00:00Z")) ==
                T("2026-11-20T14:00:00Z"));
    assert_true(smart_signals_next_change(s, "depot", T("2026-11-20T14:00:00Z")) == INT64_MAX);
    assert_true(smart_signals_next_change(s, "other", t0) == T("2026-11-20T10:30:00Z"));
    assert_true(smart_signals_next_change(s, "empty", t0) == INT64_MAX);
    smart_signals_free(s);
}

static void next_change_sees_price_periods(void **state)
{
    smart_signals_t *s = smart_signals_new();
    smart_prices_t *p = prices(
        "{\"currency\":\"EUR\",\"intervals\":["
        "{\"start\":\"2026-11-20T10:00:00Z\",\"end\":\"2026-11-20T11:00:00Z\",\"price\":0.2},"
        "{\"start\":\"2026-11-20T11:00:00Z\",\"end\":\"2026-11-20T12:00:00Z\",\"price\":0.2},"
        "{\"start\":\"2026-11-20T12:00:00Z\",\"end\":\"2026-11-20T13:00:00Z\",\"price\":0.3}]}");
    p->id = 1;
    smart_signals_prices_put(s, p); /* the default: every site */
    assert_true(smart_signals_next_change(s, "any", T("2026-11-20T09:00:00Z")) ==
                T("2026-11-20T10:00:00Z"));
    /* 11:00 has the same price as 10:00: skipped */
    assert_true(smart_signals_next_change(s, "any", T("2026-11-20T10:00:00Z")) ==
                T("2026-11-20T12:00:00Z"));
    assert_true(smart_signals_next_change(s, "any", T("2026-11-20T12:00:00Z")) ==
                T("2026-11-20T13:00:00Z"));
    assert_true(isnan(smart_signals_price(s, "any", T("2026-11-20T13:00:00Z"))));
    smart_signals_free(s);
}

static void dr_json_is_validated(void **state)
{
    char err[256];
    smart_dr_t e = {0};
    json_t *j = json_pack("{s:s,s:s,s:s,s:f}", "site", "d", "start", "2026-11-20T10:00:00Z", "end",
                          "2026-11-20T09:00:00Z", "limit_kw", 10.0);
    assert_int_equal(smart_dr_from_json(j, &e, false, err, sizeof err), -1);
    assert_non_null(strstr(err, "end must be after start"));
    json_object_set_new(j, "end", json_string("2026-11-20T11:00:00Z"));
    json_object_set_new(j, "limit_kw", json_real(-3));
    assert_int_equal(smart_dr_from_json(j, &e, false, err, sizeof err), -1);
    assert_non_null(strstr(err, "limit_kw"));
    json_object_set_new(j, "limit_kw", json_real(NAN));
    assert_int_equal(smart_dr_from_json(j, &e, false, err, sizeof err), -1);
    json_object_set_new(j, "limit_kw", json_integer(12));
    json_object_set_new(j, "phase_limits_a", json_pack("[i]", 16));
    assert_int_equal(smart_dr_from_json(j, &e, false, err, sizeof err), 0);
    assert_true(e.limit_kw == 12 && e.phase_a[0] == 16 && e.phase_a[2] == 16);
    assert_true(e.end - e.start == 3600);
    /* a PATCH changes only what it gives, and still checks the whole */
    json_t *patch = json_pack("{s:s}", "start", "2026-11-20T12:00:00Z");
    assert_int_equal(smart_dr_from_json(patch, &e, true, err, sizeof err), -1);
    json_decref(patch);
    json_decref(j);
}

static void replacing_an_external_event_swaps_its_signals(void **state)
{
    smart_signals_t *s = smart_signals_new();
    add_dr(s, 1, "depot", "2026-11-20T10:00:00Z", "2026-11-20T14:00:00Z", 90); /* the API's */
    smart_dr_t e = {.site = "depot",
                    .start = T("2026-11-20T11:00:00Z"),
                    .end = T("2026-11-20T12:00:00Z"),
                    .limit_kw = 30,
                    .phase_a = {-1, -1, -1},
                    .source = "openadr",
                    .external_id = "oadr:E1/0"};
    smart_dr_t other = e;
    snprintf(other.external_id, sizeof other.external_id, "oadr:E10/0");
    other.limit_kw = 50;
    smart_signals_replace(s, "oadr:E10/", &other, 1, NULL, 0, NULL, NULL);
    smart_signals_replace(s, "oadr:E1/", &e, 1, NULL, 0, NULL, NULL);
    int64_t t = T("2026-11-20T11:30:00Z");
    assert_true(smart_signals_limit_w(s, "depot", t) == 30000);
    e.limit_kw = 25;
    smart_signals_replace(s, "oadr:E1/", &e, 1, NULL, 0, NULL, NULL);
    size_t n;
    smart_signals_dr_list(s, &n);
    assert_int_equal(n, 3); /* replaced, not added */
    assert_true(smart_signals_limit_w(s, "depot", t) == 25000);
    /* the event gone: its limit goes, E10 (a prefix of no other) and the API's stay */
    smart_signals_replace(s, "oadr:E1/", NULL, 0, NULL, 0, NULL, NULL);
    assert_true(smart_signals_limit_w(s, "depot", t) == 50000);
    json_t *ext = smart_signals_external_events(s, "openadr");
    assert_int_equal(json_array_size(ext), 1);
    assert_string_equal(json_string_value(json_array_get(ext, 0)), "oadr:E10/");
    json_decref(ext);
    smart_signals_free(s);
}

/* ---------------------------------------------------------------- prices */

static void intervals_price_lookup_and_refusals(void **state)
{
    smart_prices_t *p = prices(
        "{\"currency\":\"EUR\",\"intervals\":["
        "{\"start\":\"2026-11-20T12:00:00Z\",\"end\":\"2026-11-20T13:00:00Z\",\"price\":-0.05},"
        "{\"start\":\"2026-11-20T10:00:00Z\",\"end\":\"2026-11-20T11:00:00Z\",\"price\":0.2}]}");
    assert_true(smart_prices_at(p, T("2026-11-20T10:30:00Z")) == 0.2);
    assert_true(isnan(smart_prices_at(p, T("2026-11-20T11:30:00Z"))));
    assert_true(smart_prices_at(p, T("2026-11-20T12:00:00Z")) == -0.05); /* negative prices exist */
    assert_true(smart_prices_next_boundary(p, T("2026-11-20T10:30:00Z")) ==
                T("2026-11-20T11:00:00Z"));
    assert_true(smart_prices_next_boundary(p, T("2026-11-20T11:00:00Z")) ==
                T("2026-11-20T12:00:00Z"));
    smart_prices_free(p);
    assert_non_null(strstr(
        refusal(
            "{\"currency\":\"EUR\",\"intervals\":["
            "{\"start\":\"2026-11-20T10:00:00Z\",\"end\":\"2026-11-20T11:00:00Z\",\"price\":1},"
            "{\"start\":\"2026-11-20T10:59:00Z\",\"end\":\"2026-11-20T12:00:00Z\",\"price\":1}]}"),
        "overlap"));
    assert_non_null(
        strstr(refusal("{\"currency\":\"EUR\",\"intervals\":[{\"start\":\"2026-11-20T10:00:00Z\","
                       "\"end\":\"2026-11-20T10:00:00Z\",\"price\":1}]}"),
               "end must be after start"));
    assert_non_null(strstr(refusal("{\"currency\":\"EUR\",\"intervals\":[]}"), "intervals"));
    assert_non_null(strstr(refusal("{\"currency\":\"EU\",\"intervals\":[]}"), "currency"));
    assert_non_null(strstr(refusal("{\"currency\":\"EUR\"}"), "needs intervals or time_of_use"));
    assert_non_null(
        strstr(refusal("{\"currency\":\"EUR\",\"intervals\":[{\"start\":\"2026-11-20T10:00:00Z\","
                       "\"end\":\"2026-11-20T11:00:00Z\",\"price\":\"cheap\"}]}"),
               "price"));
}

/* Night 22:00-07:00 at 0.10, day 0.30 on weekdays; weekends 0.15 from 09:00. */
#define TOU(off)                                                                                   \
    "{\"currency\":\"EUR\",\"time_of_use\":{\"utc_offset\":\"" off "\","                           \
    "\"weekday\":[{\"from\":\"07:00\",\"price\":0.30},{\"from\":\"22:00\",\"price\":0.10}],"       \
    "\"weekend\":[{\"from\":\"09:00\",\"price\":0.15}]}}"

static void time_of_use_runs_across_midnight(void **state)
{
    smart_prices_t *p = prices(TOU("Z"));
    /* Thursday 23:00 and Friday 03:00 are the same night period */
    assert_true(smart_prices_at(p, T("2026-11-19T23:00:00Z")) == 0.10);
    assert_true(smart_prices_at(p, T("2026-11-20T03:00:00Z")) == 0.10);
    assert_true(smart_prices_at(p, T("2026-11-20T06:59:59Z")) == 0.10);
    assert_true(smart_prices_at(p, T("2026-11-20T07:00:00Z")) == 0.30);
    /* Friday night runs into Saturday until the weekend's 09:00 */
    assert_true(smart_prices_at(p, T("2026-11-21T08:00:00Z")) == 0.10);
    assert_true(smart_prices_at(p, T("2026-11-21T09:00:00Z")) == 0.15);
    /* the weekend's one period runs into Monday until 07:00 */
    assert_true(smart_prices_at(p, T("2026-11-23T06:00:00Z")) == 0.15);
    assert_true(smart_prices_at(p, T("2026-11-23T07:00:00Z")) == 0.30);
    /* boundaries: midnight is none */
    assert_true(smart_prices_next_boundary(p, T("2026-11-19T23:00:00Z")) ==
                T("2026-11-20T07:00:00Z"));
    assert_true(smart_prices_next_boundary(p, T("2026-11-20T22:00:00Z")) ==
                T("2026-11-21T09:00:00Z"));
    assert_true(smart_prices_next_boundary(p, T("2026-11-21T09:00:00Z")) ==
                T("2026-11-22T09:00:00Z"));
    smart_prices_free(p);
}

static void time_of_use_follows_its_utc_offset(void **state)
{
    /* +02:00: local 07:00 is 05:00Z; Friday 22:00 local is 20:00Z */
    smart_prices_t *p = prices(TOU("+02:00"));
    assert_true(smart_prices_at(p, T("2026-11-20T04:59:59Z")) == 0.10);
    assert_true(smart_prices_at(p, T("2026-11-20T05:00:00Z")) == 0.30);
    assert_true(smart_prices_at(p, T("2026-11-20T20:00:00Z")) == 0.10);
    /* Friday 23:30Z is Saturday 01:30 local: still Friday night's price */
    assert_true(smart_prices_at(p, T("2026-11-20T23:30:00Z")) == 0.10);
    assert_true(smart_prices_next_boundary(p, T("2026-11-20T23:30:00Z")) ==
                T("2026-11-21T07:00:00Z"));
    smart_prices_free(p);
    /* -05:30: local 07:00 is 12:30Z; Sunday 23:00 local is Monday 04:30Z (weekend price) */
    p = prices(TOU("-05:30"));
    assert_true(smart_prices_at(p, T("2026-11-20T12:29:00Z")) == 0.10);
    assert_true(smart_prices_at(p, T("2026-11-20T12:30:00Z")) == 0.30);
    assert_true(smart_prices_at(p, T("2026-11-23T04:30:00Z")) == 0.15);
    assert_true(smart_prices_at(p, T("2026-11-23T12:30:00Z")) == 0.30);
    smart_prices_free(p);
    assert_non_null(strstr(refusal("{\"currency\":\"EUR\",\"time_of_use\":{\"utc_offset\":\"+2\","
                                   "\"weekday\":[{\"from\":\"07:00\",\"price\":1}]}}"),
                           "utc_offset"));
    assert_non_null(
        strstr(refusal("{\"currency\":\"EUR\",\"time_of_use\":{\"weekday\":["
                       "{\"from\":\"09:00\",\"price\":1},{\"from\":\"08:00\",\"price\":1}]}}"),
               "increasing order"));
    assert_non_null(strstr(refusal("{\"currency\":\"EUR\",\"time_of_use\":{\"weekday\":["
                                   "{\"from\":\"7:00\",\"price\":1}]}}"),
                           "HH:MM"));
}

static void the_newest_site_schedule_wins_then_the_default(void **state)
{
    smart_signals_t *s = smart_signals_new();
    smart_prices_t *def = prices("{\"currency\":\"EUR\",\"time_of_use\":{\"weekday\":[{\"from\":"
                                 "\"00:00\",\"price\":0.25}]}}");
    def->id = 1;
    def->updated_at = 100;
    smart_prices_t *old = prices(
        "{\"site\":\"mall\",\"currency\":\"EUR\",\"intervals\":["
        "{\"start\":\"2026-11-20T10:00:00Z\",\"end\":\"2026-11-20T14:00:00Z\",\"price\":0.5}]}");
    old->id = 2;
    old->updated_at = 200;
    smart_prices_t *neu = prices(
        "{\"site\":\"mall\",\"currency\":\"EUR\",\"intervals\":["
        "{\"start\":\"2026-11-20T11:00:00Z\",\"end\":\"2026-11-20T12:00:00Z\",\"price\":0.1}]}");
    neu->id = 3;
    neu->updated_at = 300;
    smart_signals_prices_put(s, def);
    smart_signals_prices_put(s, old);
    smart_signals_prices_put(s, neu);
    assert_true(smart_signals_price(s, "mall", T("2026-11-20T09:00:00Z")) == 0.25);
    assert_true(smart_signals_price(s, "mall", T("2026-11-20T10:30:00Z")) == 0.5);
    assert_true(smart_signals_price(s, "mall", T("2026-11-20T11:30:00Z")) == 0.1);
    assert_true(smart_signals_price(s, "mall", T("2026-11-20T12:30:00Z")) == 0.5);
    assert_true(smart_signals_price(s, "cafe", T("2026-11-20T11:30:00Z")) == 0.25);
    assert_true(smart_signals_next_change(s, "mall", T("2026-11-20T09:00:00Z")) ==
                T("2026-11-20T10:00:00Z"));
    assert_true(smart_signals_next_change(s, "mall", T("2026-11-20T11:00:00Z")) ==
                T("2026-11-20T12:00:00Z"));
    assert_true(smart_signals_next_change(s, "cafe", T("2026-11-20T09:00:00Z")) == INT64_MAX);
    assert_true(smart_signals_prices_remove(s, 3));
    assert_true(smart_signals_price(s, "mall", T("2026-11-20T11:30:00Z")) == 0.5);
    smart_signals_free(s);
}

static void a_schedule_round_trips_through_its_json(void **state)
{
    smart_prices_t *p = prices(TOU("-05:30"));
    json_t *view = smart_prices_json(p);
    char err[256];
    smart_prices_t *q = smart_prices_from_json(view, err, sizeof err);
    assert_non_null(q);
    assert_int_equal(q->utc_offset_min, -330);
    assert_int_equal(q->n_weekday, 2);
    assert_int_equal(q->n_weekend, 1);
    for (int64_t t = T("2026-11-19T00:00:00Z"); t < T("2026-11-25T00:00:00Z"); t += 1800)
        assert_true(smart_prices_at(p, t) == smart_prices_at(q, t));
    json_decref(view);
    smart_prices_free(p);
    smart_prices_free(q);
}

/* --------------------------------------------------------------- OpenADR */

static openadr_config_t oadr_cfg(void)
{
    openadr_config_t c;
    openadr_config_defaults(&c);
    snprintf(c.vtn_url, sizeof c.vtn_url, "http://vtn.example");
    snprintf(c.client_id, sizeof c.client_id, "id");
    snprintf(c.client_secret, sizeof c.client_secret, "secret");
    snprintf(c.sites, sizeof c.sites, " METER-1 : depot ,METER-2:yard");
    snprintf(c.ven_name, sizeof c.ven_name, "ven-7");
    return c;
}

static int map(const char *json, openadr_mapped_t *m, char *err)
{
    openadr_config_t c = oadr_cfg();
    json_t *j = json_loads(json, 0, NULL);
    int rc = openadr_map_event(j, &c, m, err, 256);
    json_decref(j);
    return rc;
}

static void iso_durations_parse(void **state)
{
    int64_t s;
    assert_true(openadr_duration("PT1H", &s) && s == 3600);
    assert_true(openadr_duration("P1DT30M", &s) && s == 86400 + 1800);
    assert_true(openadr_duration("PT0.5S", &s) && s == 0);
    assert_true(openadr_duration("P2W", &s) && s == 14 * 86400);
    assert_true(openadr_duration("P9999Y", &s) && s == OPENADR_FOREVER);
    assert_true(openadr_duration("PT99999999999H", &s) && s == OPENADR_FOREVER);
    const char *bad[] = {"",     "P",     "PT",      "1H",     "PT1",      "PTH", "P1H",
                         "PT1D", "PT-1H", "PT1HT2M", "PTinfH", "PT1e400S", NULL};
    for (const char **b = bad; *b; b++)
        if (openadr_duration(*b, &s)) fail_msg("'%s' accepted as a duration", *b);
}

static void a_capacity_event_maps_to_limits_for_its_targets(void **state)
{
    openadr_mapped_t m;
    char err[256] = "";
    int rc =
        map("{\"id\":\"e1\",\"programID\":\"p1\",\"eventName\":\"peak\","
            "\"targets\":[{\"type\":\"RESOURCE_NAME\",\"values\":[\"METER-2\"]}],"
            "\"payloadDescriptors\":[{\"payloadType\":\"IMPORT_CAPACITY_LIMIT\",\"units\":\"W\"}],"
            "\"intervalPeriod\":{\"start\":\"2026-11-20T17:00:00Z\",\"duration\":\"PT30M\"},"
            "\"intervals\":[{\"id\":0,\"payloads\":[{\"type\":\"IMPORT_CAPACITY_LIMIT\",\"values\":"
            "[40000]}]},"
            "{\"id\":1,\"payloads\":[{\"type\":\"IMPORT_CAPACITY_LIMIT\",\"values\":[55000]}]},"
            "{\"id\":2,\"intervalPeriod\":{\"start\":\"2026-11-20T19:00:00Z\"},"
            "\"payloads\":[{\"type\":\"SIMPLE\",\"values\":[1]}]}]}",
            &m, err);
    assert_int_equal(rc, 0);
    assert_int_equal(m.nsites, 1);
    assert_string_equal(m.sites[0], "yard");
    assert_string_equal(m.resources[0], "METER-2");
    assert_int_equal(m.ndr, 2); /* the SIMPLE interval gives nothing */
    assert_string_equal(m.dr[0].site, "yard");
    assert_true(m.dr[0].limit_kw == 40 && m.dr[1].limit_kw == 55);
    assert_true(m.dr[0].start == T("2026-11-20T17:00:00Z") &&
                m.dr[0].end == T("2026-11-20T17:30:00Z"));
    assert_true(m.dr[1].start == T("2026-11-20T17:30:00Z") &&
                m.dr[1].end == T("2026-11-20T18:00:00Z"));
    assert_string_equal(m.dr[1].external_id, "oadr:e1/1");
    assert_string_equal(m.dr[0].source, "openadr");
    assert_non_null(strstr(m.dr[0].reason, "peak"));
    assert_int_equal(m.nprices, 0);
    openadr_mapped_free(&m);
}

static void a_price_event_without_targets_is_for_every_mapped_site(void **state)
{
    openadr_mapped_t m;
    char err[256] = "";
    int rc = map("{\"id\":\"e2\",\"programID\":\"p1\",\"targets\":[],"
                 "\"payloadDescriptors\":[{\"payloadType\":\"PRICE\",\"units\":\"MWH\","
                 "\"currency\":\"USD\"}],"
                 "\"intervalPeriod\":{\"start\":\"2026-11-20T00:00:00Z\",\"duration\":\"PT1H\"},"
                 "\"intervals\":[{\"id\":0,\"payloads\":[{\"type\":\"PRICE\",\"values\":[120]}]},"
                 "{\"id\":1,\"payloads\":[{\"type\":\"PRICE\",\"values\":[-10]}]}]}",
                 &m, err);
    assert_int_equal(rc, 0);
    assert_int_equal(m.nsites, 2);
    assert_int_equal(m.nprices, 2);
    assert_string_equal(m.prices[1]->site, "yard");
    assert_string_equal(m.prices[0]->currency, "USD");
    assert_true(smart_prices_at(m.prices[0], T("2026-11-20T00:30:00Z")) == 0.12);
    assert_true(smart_prices_at(m.prices[0], T("2026-11-20T01:30:00Z")) == -0.01);
    assert_true(isnan(smart_prices_at(m.prices[0], T("2026-11-20T02:00:00Z"))));
    assert_string_equal(m.prices[0]->external_id, "oadr:e2/price");
    openadr_mapped_free(&m);
    /* targets naming this VEN count; others' resources do not */
    assert_int_equal(
        map("{\"id\":\"e3\",\"targets\":[{\"type\":\"VEN_NAME\",\"values\":[\"ven-7\"]}],"
            "\"intervalPeriod\":{\"start\":\"2026-11-20T00:00:00Z\"},\"intervals\":[]}",
            &m, err),
        0);
    assert_int_equal(m.nsites, 2);
    openadr_mapped_free(&m);
    assert_int_equal(map("{\"id\":\"e4\",\"targets\":[\"METER-9\"],\"intervals\":[]}", &m, err), 0);
    assert_int_equal(m.nsites, 0);
    openadr_mapped_free(&m);
}

static void hostile_events_from_a_vtn_are_refused(void **state)
{
    static const char *const hostile[] = {
        "[]",
        "\"event\"",
        "{\"intervals\":[]}",
        "{\"id\":42,\"intervals\":[]}",
        "{\"id\":\"a/b\",\"intervals\":[]}",
        "{\"id\":\"e\",\"intervals\":\"many\"}",
        "{\"id\":\"e\",\"intervals\":[{\"payloads\":[{\"type\":\"IMPORT_CAPACITY_LIMIT\","
        "\"values\":[5]}]}]}",
        "{\"id\":\"e\",\"intervalPeriod\":{\"start\":\"tomorrow\"},\"intervals\":[]}",
        "{\"id\":\"e\",\"intervalPeriod\":{\"start\":\"2026-11-20T00:00:00Z\",\"duration\":\"1 "
        "hour\"},\"intervals\":[]}",
        "{\"id\":\"e\",\"intervalPeriod\":[],\"intervals\":[]}",
        "{\"id\":\"e\",\"intervalPeriod\":{\"start\":\"2026-11-20T00:00:00Z\"},\"intervals\":[7]}",
        "{\"id\":\"e\",\"intervalPeriod\":{\"start\":\"2026-11-20T00:00:00Z\"},\"intervals\":["
        "{\"payloads\":[{\"type\":\"IMPORT_CAPACITY_LIMIT\",\"values\":[-1]}]}]}",
        "{\"id\":\"e\",\"intervalPeriod\":{\"start\":\"2026-11-20T00:00:00Z\"},\"intervals\":["
        "{\"payloads\":[{\"type\":\"IMPORT_CAPACITY_LIMIT\",\"values\":[1e300]}]}]}",
        "{\"id\":\"e\",\"intervalPeriod\":{\"start\":\"2026-11-20T00:00:00Z\",\"duration\":"
        "\"PT1H\"},"
        "\"intervals\":[{\"intervalPeriod\":{\"start\":\"2026-11-20T05:00:00Z\"},\"payloads\":[{"
        "\"type\":\"PRICE\",\"values\":[1]}]},"
        "{\"intervalPeriod\":{\"start\":\"2026-11-20T01:00:00Z\"},\"payloads\":[{\"type\":"
        "\"PRICE\",\"values\":[1]}]}]}",
        NULL,
    };
    for (const char *const *h = hostile; *h; h++) {
        openadr_mapped_t m;
        char err[256] = "";
        if (map(*h, &m, err) == 0) fail_msg("accepted: %s", *h);
        assert_true(err[0] != '\0');
        assert_null(m.dr);
        assert_null(m.prices);
    }
    /* wrong payload types, odd values: simply nothing for us */
    openadr_mapped_t m;
    char err[256] = "";
    assert_int_equal(
        map("{\"id\":\"e\",\"intervalPeriod\":{\"start\":\"2026-11-20T00:00:00Z\"},"
            "\"intervals\":[{\"payloads\":[{\"type\":\"IMPORT_CAPACITY_LIMIT\",\"values\":[\"5\"]},"
            "{\"type\":7},\"junk\"]},{\"payloads\":{}}]}",
            &m, err),
        0);
    assert_int_equal(m.ndr, 0);
    assert_int_equal(m.nprices, 0);
    openadr_mapped_free(&m);
}

static void openadr_config_is_checked(void **state)
{
    openadr_config_t c = oadr_cfg();
    char err[256];
    assert_int_equal(openadr_config_validate(&c, err, sizeof err), 0);
    snprintf(c.sites, sizeof c.sites, "METER-1");
    assert_int_equal(openadr_config_validate(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "RESOURCE:site"));
    c = oadr_cfg();
    c.client_secret[0] = '\0';
    assert_int_equal(openadr_config_validate(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "bearer_token"));
    c = oadr_cfg();
    snprintf(c.vtn_url, sizeof c.vtn_url, "ftp://vtn");
    assert_int_equal(openadr_config_validate(&c, err, sizeof err), -1);
    assert_int_equal(openadr_config_set(&c, "poll_interval", "0", err, sizeof err), -1);
    assert_int_equal(openadr_config_set(&c, "poll_interval", "15", err, sizeof err), 0);
    assert_int_equal(c.poll_interval, 15);
    assert_int_equal(openadr_config_set(&c, "colour", "red", err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown option [openadr] colour"));
    openadr_config_defaults(&c); /* off: nothing to check */
    assert_int_equal(openadr_config_validate(&c, err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(overlapping_events_the_tightest_limit_applies),
        cmocka_unit_test(per_phase_limits_take_the_lowest_of_each_phase),
        cmocka_unit_test(next_change_skips_boundaries_where_nothing_changes),
        cmocka_unit_test(next_change_sees_price_periods),
        cmocka_unit_test(dr_json_is_validated),
        cmocka_unit_test(replacing_an_external_event_swaps_its_signals),
        cmocka_unit_test(intervals_price_lookup_and_refusals),
        cmocka_unit_test(time_of_use_runs_across_midnight),
        cmocka_unit_test(time_of_use_follows_its_utc_offset),
        cmocka_unit_test(the_newest_site_schedule_wins_then_the_default),
        cmocka_unit_test(a_schedule_round_trips_through_its_json),
        cmocka_unit_test(iso_durations_parse),
        cmocka_unit_test(a_capacity_event_maps_to_limits_for_its_targets),
        cmocka_unit_test(a_price_event_without_targets_is_for_every_mapped_site),
        cmocka_unit_test(hostile_events_from_a_vtn_are_refused),
        cmocka_unit_test(openadr_config_is_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
