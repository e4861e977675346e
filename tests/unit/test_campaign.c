/*
 * Specification of the firmware campaign's scheduling decisions
 * (src/firmware/campaign.c): the canary stations go first and alone,
 * batches open one after another, never more than max_concurrent in flight,
 * only inside the maintenance window (also across midnight and with a UTC
 * offset), a station charging someone is deferred unless forced, the
 * failure threshold applies only after the minimum attempts, timeouts per
 * state, and the settings and target validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "firmware/campaign.h"

#define N 10

static campaign_spec_t spec(int canary, int batch, int conc)
{
    campaign_spec_t sp;
    campaign_spec_default(&sp);
    sp.canary = canary;
    sp.batch_size = batch;
    sp.max_concurrent = conc;
    return sp;
}

static void all(campaign_slot_t *st, size_t n, campaign_st_t s)
{
    for (size_t i = 0; i < n; i++)
        st[i] = (campaign_slot_t){s, true, false};
}

static void canary_stations_go_first_and_alone(void **state)
{
    campaign_spec_t sp = spec(2, 3, 5);
    campaign_slot_t st[N];
    size_t out[N];
    all(st, N, CST_PENDING);
    campaign_plan_t p = campaign_plan_next(&sp, false, st, N, true, out, N);
    assert_true(p.canary_phase);
    assert_int_equal(p.picked, 2);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 1);
    /* one canary succeeded, the other still installing: nobody else goes */
    st[0].state = CST_SUCCEEDED;
    st[1].state = CST_INSTALLING;
    p = campaign_plan_next(&sp, false, st, N, true, out, N);
    assert_true(p.canary_phase);
    assert_int_equal(p.picked, 0);
    /* a failed canary keeps the campaign waiting for the operator ... */
    st[1].state = CST_FAILED;
    p = campaign_plan_next(&sp, false, st, N, true, out, N);
    assert_int_equal(p.picked, 0);
    /* ... who promotes it: the first batch (positions 2..4) opens */
    p = campaign_plan_next(&sp, true, st, N, true, out, N);
    assert_false(p.canary_phase);
    assert_int_equal(p.picked, 3);
    assert_int_equal(out[0], 2);
    assert_int_equal(out[2], 4);
}

static void next_batch_opens_when_previous_finished(void **state)
{
    campaign_spec_t sp = spec(0, 4, 10);
    campaign_slot_t st[N];
    size_t out[N];
    all(st, N, CST_PENDING);
    campaign_plan_t p = campaign_plan_next(&sp, false, st, N, true, out, N);
    assert_int_equal(p.picked, 4); /* 0..3 */
    for (int i = 0; i < 4; i++)
        st[i].state = CST_SUCCEEDED;
    st[3].state = CST_DOWNLOADING;
    p = campaign_plan_next(&sp, false, st, N, true, out, N);
    assert_int_equal(p.picked, 0);
    st[3].state = CST_FAILED; /* finished, not necessarily succeeded */
    p = campaign_plan_next(&sp, false, st, N, true, out, N);
    assert_int_equal(p.picked, 4); /* 4..7 */
    assert_int_equal(out[0], 4);
    assert_int_equal(out[3], 7);
}

static void concurrency_cap_counts_stations_in_flight(void **state)
{
    campaign_spec_t sp = spec(0, 0, 3);
    campaign_slot_t st[N];
    size_t out[N];
    all(st, N, CST_PENDING);
    st[0].state = CST_SENT;
    st[5].state = CST_INSTALLED; /* waiting for the boot: still in flight */
    campaign_plan_t p = campaign_plan_next(&sp, false, st, N, true, out, N);
    assert_int_equal(p.picked, 1);
    assert_int_equal(out[0], 1);
    st[5].state = CST_SUCCEEDED;
    st[0].state = CST_FAILED;
    p = campaign_plan_next(&sp, false, st, N, true, out, N);
    assert_int_equal(p.picked, 3);
}

static void running_session_defers_unless_forced(void **state)
{
    campaign_spec_t sp = spec(0, 0, 10);
    campaign_slot_t st[3];
    size_t out[3];
    all(st, 3, CST_PENDING);
    st[1].busy = true;
    st[2].connected = false;
    campaign_plan_t p = campaign_plan_next(&sp, false, st, 3, true, out, 3);
    assert_int_equal(p.picked, 1);
    assert_int_equal(out[0], 0);
    assert_int_equal(p.deferred, 1);
    assert_int_equal(p.offline, 1);
    sp.force = true;
    p = campaign_plan_next(&sp, false, st, 3, true, out, 3);
    assert_int_equal(p.picked, 2);
    assert_int_equal(out[1], 1);
    assert_int_equal(p.deferred, 0);
}

static void nothing_starts_outside_the_window(void **state)
{
    campaign_spec_t sp = spec(0, 0, 10);
    campaign_slot_t st[2];
    size_t out[2];
    all(st, 2, CST_PENDING);
    campaign_plan_t p = campaign_plan_next(&sp, false, st, 2, false, out, 2);
    assert_int_equal(p.picked, 0);
}

static int64_t utc(int h, int m)
{
    return 1767225600000LL /* 2026-01-01T00:00Z */ + (h * 60 + m) * 60000LL;
}

static void window_in_local_time(void **state)
{
    char err[200];
    campaign_window_t w;
    assert_int_equal(campaign_window_parse("01:00-05:00", 60, &w, err, sizeof err), 0);
    /* local = UTC + 1 h */
    assert_false(campaign_window_open(&w, utc(23, 59))); /* 00:59 local */
    assert_true(campaign_window_open(&w, utc(0, 0)));    /* 01:00 local */
    assert_true(campaign_window_open(&w, utc(3, 59)));   /* 04:59 local */
    assert_false(campaign_window_open(&w, utc(4, 0)));   /* 05:00 local */
    /* across midnight, negative offset (local = UTC - 5 h) */
    assert_int_equal(campaign_window_parse("22:00-02:00", -300, &w, err, sizeof err), 0);
    assert_true(campaign_window_open(&w, utc(3, 0)));   /* 22:00 local */
    assert_true(campaign_window_open(&w, utc(6, 59)));  /* 01:59 local */
    assert_false(campaign_window_open(&w, utc(7, 0)));  /* 02:00 local */
    assert_false(campaign_window_open(&w, utc(2, 59))); /* 21:59 local */
    /* none: always open */
    assert_int_equal(campaign_window_parse(NULL, 0, &w, err, sizeof err), 0);
    assert_true(campaign_window_open(&w, utc(12, 0)));
    assert_int_equal(campaign_window_parse("1:00-05:00", 0, &w, err, sizeof err), -1);
    assert_int_equal(campaign_window_parse("01:00-24:00", 0, &w, err, sizeof err), -1);
    assert_int_equal(campaign_window_parse("01:00-05:00", 900, &w, err, sizeof err), -1);
}

static void threshold_applies_after_min_attempts(void **state)
{
    campaign_spec_t sp = spec(0, 0, 1);
    sp.failure_threshold = 20;
    sp.min_attempts = 5;
    assert_false(campaign_threshold_passed(&sp, 2, 2)); /* 100 % but only 2 attempts */
    assert_false(campaign_threshold_passed(&sp, 1, 5)); /* 20 %: not past 20 % */
    assert_true(campaign_threshold_passed(&sp, 2, 5));  /* 40 % */
    assert_false(campaign_threshold_passed(&sp, 2, 10));
    assert_true(campaign_threshold_passed(&sp, 3, 10));
}

static void timeouts_per_state(void **state)
{
    campaign_spec_t sp = spec(0, 0, 1);
    sp.download_timeout = 60;
    sp.install_timeout = 600;
    assert_false(campaign_timed_out(&sp, CST_DOWNLOADING, 0, 60000));
    assert_true(campaign_timed_out(&sp, CST_DOWNLOADING, 0, 60001));
    assert_true(campaign_timed_out(&sp, CST_SENT, 0, 61000));
    assert_false(campaign_timed_out(&sp, CST_INSTALLING, 0, 61000));
    assert_true(campaign_timed_out(&sp, CST_INSTALLED, 0, 600001));
    assert_false(campaign_timed_out(&sp, CST_PENDING, 0, 1000000000));
    assert_false(campaign_timed_out(&sp, CST_SUCCEEDED, 0, 1000000000));
}

static void firmware_statuses_map_to_states(void **state)
{
    bool failure;
    assert_int_equal(campaign_st_of_status("Downloading", &failure), CST_DOWNLOADING);
    assert_false(failure);
    assert_int_equal(campaign_st_of_status("Installed", &failure), CST_INSTALLED);
    assert_int_equal(campaign_st_of_status("InstallationFailed", &failure), CST_FAILED);
    assert_true(failure);
    assert_int_equal(campaign_st_of_status("InvalidSignature", &failure), CST_FAILED);
    assert_true(failure);
    assert_int_equal(campaign_st_of_status("Idle", &failure), -1);
    assert_int_equal(campaign_st_of_status(NULL, &failure), -1);
}

static void settings_are_validated(void **state)
{
    char err[200];
    campaign_spec_t sp;
    campaign_spec_default(&sp);
    json_t *s = json_pack("{s:i,s:i,s:s,s:i,s:b}", "canary", 2, "max_concurrent", 3, "window",
                          "01:00-05:00", "window_utc_offset", 120, "force", 1);
    assert_int_equal(campaign_spec_apply(&sp, s, err, sizeof err), 0);
    json_decref(s);
    assert_int_equal(sp.canary, 2);
    assert_int_equal(sp.max_concurrent, 3);
    assert_true(sp.force);
    assert_true(sp.window.set);
    assert_int_equal(sp.window.utc_offset_min, 120);
    json_t *back = campaign_spec_json(&sp);
    assert_string_equal(json_string_value(json_object_get(back, "window")), "01:00-05:00");
    json_decref(back);
    s = json_pack("{s:i}", "max_concurrent", 0);
    assert_int_equal(campaign_spec_apply(&sp, s, err, sizeof err), -1);
    assert_non_null(strstr(err, "max_concurrent"));
    json_decref(s);
    s = json_pack("{s:i}", "bogus", 1);
    assert_int_equal(campaign_spec_apply(&sp, s, err, sizeof err), -1);
    json_decref(s);
    s = json_pack("{s:s}", "window", "25:00-01:00");
    assert_int_equal(campaign_spec_apply(&sp, s, err, sizeof err), -1);
    json_decref(s);
}

static void targets_match_by_id_or_every_filter(void **state)
{
    char err[200];
    json_t *t = json_pack("{s:[s],s:[s],s:{s:s},s:[s]}", "sites", "north", "models", "X1", "labels",
                          "ring", "a", "station_ids", "CP-9");
    assert_int_equal(campaign_target_check(t, err, sizeof err), 0);
    json_t *la = json_pack("{s:s}", "ring", "a"), *lb = json_pack("{s:s}", "ring", "b");
    assert_true(campaign_target_match(t, "CP-1", "north", "X1", "1.0", la));
    assert_false(campaign_target_match(t, "CP-1", "north", "X1", "1.0", lb));
    assert_false(campaign_target_match(t, "CP-1", "south", "X1", "1.0", la));
    assert_true(campaign_target_match(t, "CP-9", NULL, NULL, NULL, NULL));
    json_decref(t);
    t = json_pack("{s:[s]}", "firmware_versions", "1.0");
    assert_true(campaign_target_match(t, "CP-1", NULL, "X", "1.0", NULL));
    assert_false(campaign_target_match(t, "CP-1", NULL, "X", "2.0", NULL));
    json_decref(t);
    t = json_pack("{s:[]}", "sites");
    assert_int_equal(campaign_target_check(t, err, sizeof err), -1); /* selects nothing */
    json_decref(t);
    t = json_pack("{s:[i]}", "models", 3);
    assert_int_equal(campaign_target_check(t, err, sizeof err), -1);
    json_decref(t);
    json_decref(la);
    json_decref(lb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(canary_stations_go_first_and_alone),
        cmocka_unit_test(next_batch_opens_when_previous_finished),
        cmocka_unit_test(concurrency_cap_counts_stations_in_flight),
        cmocka_unit_test(running_session_defers_unless_forced),
        cmocka_unit_test(nothing_starts_outside_the_window),
        cmocka_unit_test(window_in_local_time),
        cmocka_unit_test(threshold_applies_after_min_attempts),
        cmocka_unit_test(timeouts_per_state),
        cmocka_unit_test(firmware_statuses_map_to_states),
        cmocka_unit_test(settings_are_validated),
        cmocka_unit_test(targets_match_by_id_or_every_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
