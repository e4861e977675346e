/*
 * Specification of the analytics arithmetic (src/store/analytics_math.c) and
 * of CSV cells (src/util/csv.c): calendar buckets in a fixed offset (hours,
 * days, months of different lengths, before 1970, half-hour offsets), the
 * bucket limit, interval clipping, the energy-register curve (pro rata
 * without samples, exact register differences with them, bad readings
 * ignored, buckets that add up to the session's energy), status classes, and
 * RFC 4180 quoting with spreadsheet-formula neutralisation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/analytics_math.h"
#include "util/csv.h"
#include "util/timefmt.h"

#define H 3600000LL
#define D (24 * H)

static int64_t t(const char *s)
{
    int64_t ms;
    if (!time_parse_rfc3339(s, &ms)) fail_msg("bad test time %s", s);
    return ms;
}

static void expect_time(int64_t ms, int offset, const char *want)
{
    char buf[ANALYTICS_TIME_LEN];
    assert_string_equal(analytics_format_time(ms, offset, buf), want);
}

/* ---- buckets ----------------------------------------------------------------------------- */

static void bucket_names_parse_and_nothing_else(void **state)
{
    analytics_bucket_t b;
    assert_true(analytics_bucket_parse("hour", &b) && b == ANALYTICS_BUCKET_HOUR);
    assert_true(analytics_bucket_parse("day", &b) && b == ANALYTICS_BUCKET_DAY);
    assert_true(analytics_bucket_parse("month", &b) && b == ANALYTICS_BUCKET_MONTH);
    assert_false(analytics_bucket_parse("Hour", &b));
    assert_false(analytics_bucket_parse("week", &b));
    assert_false(analytics_bucket_parse("", &b));
    assert_false(analytics_bucket_parse(NULL, &b));
    assert_string_equal(analytics_bucket_name(ANALYTICS_BUCKET_MONTH), "month");
    assert_null(analytics_bucket_name(ANALYTICS_BUCKET_NONE));
}

static void offsets_parse_in_every_spelling_up_to_fourteen_hours(void **state)
{
    int m = 99;
    assert_true(analytics_offset_parse("Z", &m) && m == 0);
    assert_true(analytics_offset_parse("+02:00", &m) && m == 120);
    assert_true(analytics_offset_parse(" 02:00", &m) && m == 120); /* '+' decoded to a space */
    assert_true(analytics_offset_parse("-05:30", &m) && m == -330);
    assert_true(analytics_offset_parse("+0545", &m) && m == 345);
    assert_true(analytics_offset_parse("+14:00", &m) && m == 840);
    assert_true(analytics_offset_parse("-00:00", &m) && m == 0);
    const char *bad[] = {"",       "+",     "+2",      "+02", "+02:0",  "+02:60",   "+14:01",
                         "+15:00", "02:00", "+02:00Z", "UTC", "+ab:cd", "+02:00:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (analytics_offset_parse(bad[i], &m)) fail_msg("accepted offset '%s'", bad[i]);
}

static void hour_and_day_buckets_start_on_local_boundaries(void **state)
{
    int64_t x = t("2026-03-10T13:47:12.345Z");
    assert_int_equal(analytics_bucket_floor(x, ANALYTICS_BUCKET_HOUR, 0),
                     t("2026-03-10T13:00:00Z"));
    assert_int_equal(analytics_bucket_floor(x, ANALYTICS_BUCKET_DAY, 0), t("2026-03-10T00:00:00Z"));
    /* local midnight at +02:00 is 22:00 UTC the day before */
    assert_int_equal(analytics_bucket_floor(x, ANALYTICS_BUCKET_DAY, 120),
                     t("2026-03-10T00:00:00+02:00"));
    assert_int_equal(analytics_bucket_floor(t("2026-03-10T23:30:00Z"), ANALYTICS_BUCKET_DAY, 120),
                     t("2026-03-11T00:00:00+02:00"));
    /* half-hour offsets cut hours at :30 UTC */
    assert_int_equal(analytics_bucket_floor(x, ANALYTICS_BUCKET_HOUR, 330),
                     t("2026-03-10T13:30:00Z"));
    assert_int_equal(analytics_bucket_floor(x, ANALYTICS_BUCKET_HOUR, -330),
                     t("2026-03-10T13:30:00Z"));
    /* a boundary is its own bucket's start */
    int64_t b = t("2026-03-10T00:00:00Z");
    assert_int_equal(analytics_bucket_floor(b, ANALYTICS_BUCKET_DAY, 0), b);
    assert_int_equal(analytics_bucket_next(b, ANALYTICS_BUCKET_DAY, 0), b + D);
    assert_int_equal(analytics_bucket_next(b, ANALYTICS_BUCKET_HOUR, 0), b + H);
}

static void times_before_1970_bucket_downwards(void **state)
{
    assert_int_equal(analytics_bucket_floor(-1, ANALYTICS_BUCKET_HOUR, 0), -H);
    assert_int_equal(analytics_bucket_floor(-1, ANALYTICS_BUCKET_DAY, 0), -D);
    assert_int_equal(analytics_bucket_floor(-1, ANALYTICS_BUCKET_MONTH, 0),
                     t("1969-12-01T00:00:00Z"));
    assert_int_equal(analytics_local_hour(-1, 0), 23);
}

static void month_buckets_follow_the_calendar(void **state)
{
    int64_t feb = t("2024-02-01T00:00:00Z");
    assert_int_equal(analytics_bucket_floor(t("2024-02-29T23:59:59Z"), ANALYTICS_BUCKET_MONTH, 0),
                     feb);
    assert_int_equal(analytics_bucket_next(feb, ANALYTICS_BUCKET_MONTH, 0),
                     t("2024-03-01T00:00:00Z"));
    assert_int_equal(analytics_bucket_next(t("2025-02-01T00:00:00Z"), ANALYTICS_BUCKET_MONTH, 0),
                     t("2025-03-01T00:00:00Z"));
    assert_int_equal(analytics_bucket_next(t("2025-12-01T00:00:00Z"), ANALYTICS_BUCKET_MONTH, 0),
                     t("2026-01-01T00:00:00Z"));
    /* at -05:00 the first of March starts at 05:00 UTC; 03:00 UTC is still February */
    assert_int_equal(
        analytics_bucket_floor(t("2025-03-01T03:00:00Z"), ANALYTICS_BUCKET_MONTH, -300),
        t("2025-02-01T00:00:00-05:00"));
    assert_int_equal(
        analytics_bucket_next(t("2025-02-01T00:00:00-05:00"), ANALYTICS_BUCKET_MONTH, -300),
        t("2025-03-01T00:00:00-05:00"));
}

static void bucket_lists_cover_the_range_and_respect_the_limit(void **state)
{
    int64_t bounds[ANALYTICS_MAX_BUCKETS + 1];
    /* 10:30 to 13:15 in hours: 10, 11, 12, 13 */
    int n = analytics_buckets(t("2026-01-01T10:30:00Z"), t("2026-01-01T13:15:00Z"),
                              ANALYTICS_BUCKET_HOUR, 0, bounds, ANALYTICS_MAX_BUCKETS);
    assert_int_equal(n, 4);
    assert_int_equal(bounds[0], t("2026-01-01T10:00:00Z"));
    assert_int_equal(bounds[4], t("2026-01-01T14:00:00Z"));
    /* an end on a boundary adds no empty bucket */
    n = analytics_buckets(t("2026-01-01T00:00:00Z"), t("2026-01-03T00:00:00Z"),
                          ANALYTICS_BUCKET_DAY, 0, bounds, ANALYTICS_MAX_BUCKETS);
    assert_int_equal(n, 2);
    n = analytics_buckets(t("2026-01-15T00:00:00Z"), t("2026-04-01T00:00:00Z"),
                          ANALYTICS_BUCKET_MONTH, 0, bounds, ANALYTICS_MAX_BUCKETS);
    assert_int_equal(n, 3);
    assert_int_equal(bounds[1], t("2026-02-01T00:00:00Z"));
    /* exactly 1000 hours fit, 1001 do not */
    int64_t from = t("2026-01-01T00:00:00Z");
    assert_int_equal(analytics_buckets(from, from + 1000 * H, ANALYTICS_BUCKET_HOUR, 0, bounds,
                                       ANALYTICS_MAX_BUCKETS),
                     1000);
    assert_int_equal(analytics_buckets(from, from + 1000 * H + 1, ANALYTICS_BUCKET_HOUR, 0, bounds,
                                       ANALYTICS_MAX_BUCKETS),
                     -1);
    /* no bucket: the range itself */
    assert_int_equal(analytics_buckets(5, 9, ANALYTICS_BUCKET_NONE, 0, bounds, 1), 1);
    assert_int_equal(bounds[0], 5);
    assert_int_equal(bounds[1], 9);
}

static void bucket_index_finds_the_bucket_holding_a_time(void **state)
{
    int64_t b[] = {0, 10, 20, 35};
    assert_int_equal(analytics_bucket_index(b, 3, 0), 0);
    assert_int_equal(analytics_bucket_index(b, 3, 9), 0);
    assert_int_equal(analytics_bucket_index(b, 3, 10), 1);
    assert_int_equal(analytics_bucket_index(b, 3, 34), 2);
    assert_int_equal(analytics_bucket_index(b, 3, 35), -1);
    assert_int_equal(analytics_bucket_index(b, 3, -1), -1);
    assert_int_equal(analytics_bucket_index(b, 0, 0), -1);
}

static void overlap_clips_intervals(void **state)
{
    assert_int_equal(analytics_overlap(0, 10, 5, 20), 5);
    assert_int_equal(analytics_overlap(5, 20, 0, 10), 5);
    assert_int_equal(analytics_overlap(0, 10, 2, 3), 1);
    assert_int_equal(analytics_overlap(0, 10, 10, 20), 0); /* half-open: touching is disjoint */
    assert_int_equal(analytics_overlap(0, 10, 20, 30), 0);
    assert_int_equal(analytics_overlap(10, 0, 0, 10), 0);
}

static void times_format_with_their_offset(void **state)
{
    expect_time(t("2026-01-31T22:00:00Z"), 0, "2026-01-31T22:00:00Z");
    expect_time(t("2026-01-31T22:00:00Z"), 120, "2026-02-01T00:00:00+02:00");
    expect_time(t("2026-01-31T22:00:00.5Z"), -330, "2026-01-31T16:30:00.500-05:30");
    expect_time(-1, 0, "1969-12-31T23:59:59.999Z");
    assert_int_equal(analytics_local_hour(t("2026-01-31T22:10:00Z"), 120), 0);
    assert_int_equal(analytics_local_hour(t("2026-01-31T22:10:00Z"), 0), 22);
}

/* ---- the energy curve -------------------------------------------------------------------- */

static void without_samples_energy_is_pro_rata_over_time(void **state)
{
    analytics_point_t a = {0, 1000}, b = {4 * H, 5000}, out[2];
    size_t n = analytics_curve_build(&a, NULL, 0, &b, out);
    assert_int_equal(n, 2);
    assert_int_equal(analytics_curve_energy(out, n, 0, H), 1000);
    assert_int_equal(analytics_curve_energy(out, n, H, 3 * H), 2000);
    assert_int_equal(analytics_curve_energy(out, n, -H, 30 * 60000),
                     500);                                                /* clipped at the start */
    assert_int_equal(analytics_curve_energy(out, n, 3 * H, 9 * H), 1000); /* and at the stop */
    assert_int_equal(analytics_curve_energy(out, n, 5 * H, 9 * H), 0);
}

static void with_samples_buckets_get_the_register_differences(void **state)
{
    /* start 0 Wh at 00:00, samples 100 at 01:00 and 4100 at 02:00, stop 4200 at 03:00 */
    analytics_point_t a = {0, 0}, b = {3 * H, 4200};
    analytics_point_t s[] = {{2 * H, 4100}, {H, 100}}; /* any order */
    analytics_point_t out[4];
    size_t n = analytics_curve_build(&a, s, 2, &b, out);
    assert_int_equal(n, 4);
    assert_int_equal(analytics_curve_energy(out, n, 0, H), 100);
    assert_int_equal(analytics_curve_energy(out, n, H, 2 * H), 4000);
    assert_int_equal(analytics_curve_energy(out, n, 2 * H, 3 * H), 100);
    /* between samples: linear */
    assert_int_equal(analytics_curve_energy(out, n, H, H + 15 * 60000), 1000);
}

static void buckets_add_up_exactly_to_the_session_energy(void **state)
{
    /* 1000 Wh over 3 h 7 min: thirds do not divide evenly, the sum still must */
    analytics_point_t a = {0, 5}, b = {3 * H + 7 * 60000, 1005}, out[2];
    size_t n = analytics_curve_build(&a, NULL, 0, &b, out);
    int64_t sum = 0;
    for (int64_t x = -H; x < 5 * H; x += 20 * 60000)
        sum += analytics_curve_energy(out, n, x, x + 20 * 60000);
    assert_int_equal(sum, 1000);
}

static void bad_readings_are_ignored(void **state)
{
    analytics_point_t a = {0, 1000}, b = {4 * H, 2000};
    analytics_point_t s[] = {
        {H, 1500},        /* fine */
        {2 * H, 1200},    /* below the previous reading: a reset */
        {2 * H + 1, 900}, /* below the start */
        {3 * H, 2500},    /* above the stop */
        {-H, 1000},       /* before the start */
        {5 * H, 2000},    /* after the stop */
    };
    analytics_point_t out[8];
    size_t n = analytics_curve_build(&a, s, 6, &b, out);
    assert_int_equal(n, 3);
    assert_int_equal(out[1].t, H);
    assert_int_equal(analytics_curve_energy(out, n, 0, H), 500);
    assert_int_equal(analytics_curve_energy(out, n, H, 4 * H), 500);
}

static void a_stop_reading_below_the_start_gives_no_energy(void **state)
{
    analytics_point_t a = {0, 5000}, b = {H, 100}, s[] = {{30 * 60000, 6000}}, out[3];
    size_t n = analytics_curve_build(&a, s, 1, &b, out);
    assert_int_equal(analytics_curve_energy(out, n, -H, 2 * H), 0);
}

static void a_running_session_ends_at_its_latest_reading(void **state)
{
    analytics_point_t a = {0, 0}, s[] = {{H, 700}, {2 * H, 1000}}, out[4];
    size_t n = analytics_curve_build(&a, s, 2, NULL, out);
    assert_int_equal(n, 3);
    assert_int_equal(analytics_curve_energy(out, n, 0, 10 * H), 1000);
    assert_int_equal(analytics_curve_energy(out, n, 2 * H, 10 * H), 0);
}

static void readings_at_the_same_instant_keep_the_session_ends(void **state)
{
    /* a sample at the start instant does not move the start reading; one at
     * the stop instant gives way to the stop reading */
    analytics_point_t a = {0, 100}, b = {H, 300}, s[] = {{0, 150}, {H, 250}}, out[4];
    size_t n = analytics_curve_build(&a, s, 2, &b, out);
    assert_int_equal(n, 2);
    assert_true(out[0].wh == 100 && out[1].wh == 300);
    /* a session that starts and stops at one instant: all its energy there */
    analytics_point_t c = {H, 10}, d = {H, 60};
    n = analytics_curve_build(&c, NULL, 0, &d, out);
    assert_int_equal(analytics_curve_energy(out, n, 0, H), 0);
    assert_int_equal(analytics_curve_energy(out, n, H, 2 * H), 50);
}

static void unknown_start_reading_starts_at_the_first_sample(void **state)
{
    analytics_point_t b = {3 * H, 900}, s[] = {{H, 300}}, out[3];
    size_t n = analytics_curve_build(NULL, s, 1, &b, out);
    assert_int_equal(n, 2);
    assert_int_equal(analytics_curve_energy(out, n, 0, H), 0);
    assert_int_equal(analytics_curve_energy(out, n, H, 3 * H), 600);
    assert_true(analytics_curve_at(NULL, 0, 5) == 0);
}

/* ---- states ------------------------------------------------------------------------------ */

static void statuses_fall_into_documented_classes(void **state)
{
    assert_int_equal(analytics_state_of("Charging"), ANALYTICS_CHARGING);
    const char *occupied[] = {"Preparing", "SuspendedEV", "SuspendedEVSE", "Finishing", "Occupied"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(analytics_state_of(occupied[i]), ANALYTICS_OCCUPIED);
    assert_int_equal(analytics_state_of("Available"), ANALYTICS_AVAILABLE);
    assert_int_equal(analytics_state_of("Reserved"), ANALYTICS_RESERVED);
    assert_int_equal(analytics_state_of("Unavailable"), ANALYTICS_UNAVAILABLE);
    assert_int_equal(analytics_state_of("Faulted"), ANALYTICS_FAULTED);
    assert_int_equal(analytics_state_of("charging"), ANALYTICS_UNKNOWN);
    assert_int_equal(analytics_state_of(NULL), ANALYTICS_UNKNOWN);
    assert_string_equal(analytics_state_name(ANALYTICS_UNAVAILABLE), "unavailable");
}

/* ---- CSV --------------------------------------------------------------------------------- */

static void csv_cell_is(const char *in, const char *want)
{
    strbuf_t b = {0};
    csv_cell(&b, in, true);
    assert_string_equal(b.data ? b.data : "", want);
    strbuf_free(&b);
}

static void csv_cells_are_quoted_as_rfc_4180_says(void **state)
{
    csv_cell_is("plain", "plain");
    csv_cell_is("a,b", "\"a,b\"");
    csv_cell_is("say \"hi\"", "\"say \"\"hi\"\"\"");
    csv_cell_is("two\r\nlines", "\"two\r\nlines\"");
    csv_cell_is("", "");
    csv_cell_is(NULL, "");
    strbuf_t b = {0};
    csv_cell(&b, "x", true);
    csv_int(&b, -42, false);
    csv_cell(&b, NULL, false);
    csv_end(&b);
    assert_string_equal(b.data, "x,-42,\r\n");
    strbuf_free(&b);
}

static void csv_formulas_are_neutralised_and_numbers_are_not(void **state)
{
    csv_cell_is("=1+1", "'=1+1");
    csv_cell_is("+SUM(A1)", "'+SUM(A1)");
    csv_cell_is("-2+3", "'-2+3");
    csv_cell_is("@cmd", "'@cmd");
    csv_cell_is("\tx", "'\tx");
    csv_cell_is("=HYPERLINK(\"http://x\",\"a,b\")",
                "\"'=HYPERLINK(\"\"http://x\"\",\"\"a,b\"\")\"");
    csv_cell_is("-12.5", "-12.5");
    csv_cell_is("+3", "+3");
    csv_cell_is("-1e5", "-1e5");
    csv_cell_is("a=b", "a=b");
    assert_false(csv_is_number("-"));
    assert_false(csv_is_number("1."));
    assert_false(csv_is_number("1e"));
    assert_true(csv_is_number("0.25"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bucket_names_parse_and_nothing_else),
        cmocka_unit_test(offsets_parse_in_every_spelling_up_to_fourteen_hours),
        cmocka_unit_test(hour_and_day_buckets_start_on_local_boundaries),
        cmocka_unit_test(times_before_1970_bucket_downwards),
        cmocka_unit_test(month_buckets_follow_the_calendar),
        cmocka_unit_test(bucket_lists_cover_the_range_and_respect_the_limit),
        cmocka_unit_test(bucket_index_finds_the_bucket_holding_a_time),
        cmocka_unit_test(overlap_clips_intervals),
        cmocka_unit_test(times_format_with_their_offset),
        cmocka_unit_test(without_samples_energy_is_pro_rata_over_time),
        cmocka_unit_test(with_samples_buckets_get_the_register_differences),
        cmocka_unit_test(buckets_add_up_exactly_to_the_session_energy),
        cmocka_unit_test(bad_readings_are_ignored),
        cmocka_unit_test(a_stop_reading_below_the_start_gives_no_energy),
        cmocka_unit_test(a_running_session_ends_at_its_latest_reading),
        cmocka_unit_test(readings_at_the_same_instant_keep_the_session_ends),
        cmocka_unit_test(unknown_start_reading_starts_at_the_first_sample),
        cmocka_unit_test(statuses_fall_into_documented_classes),
        cmocka_unit_test(csv_cells_are_quoted_as_rfc_4180_says),
        cmocka_unit_test(csv_formulas_are_neutralised_and_numbers_are_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
