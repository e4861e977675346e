/*
 * Specification of the NEVI uptime arithmetic (src/service/uptime.c), with
 * every expected number worked out by hand in the comments: overlapping
 * outages count once, an outage spanning the period's edge is clipped,
 * excluded time counts only inside an outage, a station offline while its
 * last status said Available is down, connector 0 takes every port down,
 * a year and a month are pro rata of their own minutes, an empty history is
 * 100 %, multi-connector ports, failed starts, and calendar periods.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "service/uptime.h"
#include "util/timefmt.h"

#define MIN 60000LL
#define H (60 * MIN)
#define D (24 * H)

static int64_t t(const char *s)
{
    int64_t ms;
    if (!time_parse_rfc3339(s, &ms)) fail_msg("bad test time %s", s);
    return ms;
}

/* 2026-01-10 at hh:mm UTC */
static int64_t at(int hh, int mm)
{
    return t("2026-01-10T00:00:00Z") + hh * H + mm * MIN;
}

static void assert_pct(double got, double want)
{
    if (got < want - 1e-9 || got > want + 1e-9) fail_msg("uptime %.12f, expected %.12f", got, want);
}

/* A one-connector port over 2026-01-10 (1440 minutes). */
typedef struct port {
    uptime_point_t points[16];
    size_t n;
    uptime_point_t station[8];
    size_t nstation;
    uptime_span_t online[8];
    size_t nonline;
    int64_t tracked_since;
    uptime_span_t failed[8];
    size_t nfailed;
    uptime_span_t excluded[8];
    size_t nexcluded;
    int64_t from, to;
} port_t;

static port_t day_port(void)
{
    port_t p = {0};
    p.from = at(0, 0);
    p.to = at(0, 0) + D;
    return p;
}

static void status(port_t *p, int64_t when, const char *st)
{
    p->points[p->n++] = (uptime_point_t){when, st, NULL};
}

static uptime_port_result_t compute(const port_t *p)
{
    uptime_timeline_t conn = {p->points, p->n};
    uptime_port_input_t in = {
        .from = p->from,
        .to = p->to,
        .in_service_from = p->n ? p->points[0].at : 0, /* the port's first status */
        .connectors = &conn,
        .nconnectors = p->n ? 1 : 0,
        .station = {p->station, p->nstation},
        .online = p->online,
        .nonline = p->nonline,
        .tracked_since = p->tracked_since,
        .failed_starts = p->failed,
        .nfailed_starts = p->nfailed,
        .excluded = p->excluded,
        .nexcluded = p->nexcluded,
    };
    uptime_port_result_t r;
    uptime_port_compute(&in, &r);
    return r;
}

/* ---- the cases the issue names ------------------------------------------------------------ */

static void empty_history_is_100_percent(void **state)
{
    port_t p = day_port();
    uptime_port_result_t r = compute(&p);
    assert_int_equal(r.period_ms, D);
    assert_int_equal(r.outage_ms, 0);
    assert_int_equal(r.noutages, 0);
    assert_pct(r.uptime_pct, 100.0);
    uptime_port_result_free(&r);
}

static void overlapping_outages_count_once(void **state)
{
    /* Faulted 10:00-11:00, offline 10:30-12:00: one outage 10:00-12:00,
     * 120 minutes; (1440 - 120) / 1440 = 91.666... % */
    port_t p = day_port();
    status(&p, at(8, 0), "Available");
    status(&p, at(10, 0), "Faulted");
    status(&p, at(11, 0), "Available");
    p.tracked_since = at(7, 0);
    p.online[p.nonline++] = (uptime_span_t){at(7, 0), at(10, 30), 0, NULL};
    p.online[p.nonline++] = (uptime_span_t){at(12, 0), 0, 0, NULL}; /* still connected */
    uptime_port_result_t r = compute(&p);
    /* before tracking began (00:00-07:00) the station is not counted offline,
     * and before its first status (08:00) the port is not in service */
    assert_int_equal(r.from, at(8, 0));
    assert_int_equal(r.period_ms, 16 * H);
    assert_int_equal(r.noutages, 1);
    assert_int_equal(r.outages[0].from, at(10, 0));
    assert_int_equal(r.outages[0].to, at(12, 0));
    assert_int_equal(r.outages[0].causes, UPTIME_CAUSE_FAULTED | UPTIME_CAUSE_OFFLINE);
    assert_int_equal(r.outage_ms, 120 * MIN);
    assert_pct(r.uptime_pct, (960.0 - 120.0) / 960.0 * 100.0);
    uptime_port_result_free(&r);
}

static void an_outage_spanning_the_period_edge_is_clipped(void **state)
{
    /* Faulted from 23:00 the day before until 01:00, and from 23:30 into the
     * next day: 60 + 30 minutes inside the day; (1440 - 90) / 1440 */
    port_t p = day_port();
    status(&p, at(0, 0) - 5 * H, "Available");
    status(&p, at(0, 0) - 1 * H, "Faulted");
    status(&p, at(1, 0), "Available");
    status(&p, at(23, 30), "Faulted");
    status(&p, at(0, 0) + D + 2 * H, "Available");
    uptime_port_result_t r = compute(&p);
    assert_int_equal(r.period_ms, D);
    assert_int_equal(r.noutages, 2);
    assert_int_equal(r.outages[0].from, at(0, 0));
    assert_int_equal(r.outages[0].to, at(1, 0));
    assert_int_equal(r.outages[1].from, at(23, 30));
    assert_int_equal(r.outages[1].to, at(0, 0) + D);
    assert_int_equal(r.outage_ms, 90 * MIN);
    assert_pct(r.uptime_pct, (1440.0 - 90.0) / 1440.0 * 100.0);
    uptime_port_result_free(&r);
}

static void excluded_time_counts_only_inside_an_outage(void **state)
{
    /* Unavailable 10:00-12:00 (120 min); excluded 10:30-11:00 and 11:45-13:00
     * (only 11:45-12:00 of it overlaps) and 15:00-16:00 (no outage):
     * excluded 30 + 15 = 45; counted 120 - 45 = 75; (1440 - 75) / 1440 */
    port_t p = day_port();
    status(&p, at(0, 0), "Available");
    status(&p, at(10, 0), "Unavailable");
    status(&p, at(12, 0), "Available");
    p.excluded[p.nexcluded++] = (uptime_span_t){at(10, 30), at(11, 0), 0, NULL};
    p.excluded[p.nexcluded++] = (uptime_span_t){at(11, 45), at(13, 0), 0, NULL};
    p.excluded[p.nexcluded++] = (uptime_span_t){at(15, 0), at(16, 0), 0, NULL};
    /* an overlapping duplicate of the first: excluded time also counts once */
    p.excluded[p.nexcluded++] = (uptime_span_t){at(10, 40), at(10, 50), 0, NULL};
    uptime_port_result_t r = compute(&p);
    assert_int_equal(r.noutages, 1);
    assert_int_equal(r.outages[0].causes, UPTIME_CAUSE_UNAVAILABLE);
    assert_int_equal(r.outage_ms, 120 * MIN);
    assert_int_equal(r.outages[0].excluded_ms, 45 * MIN);
    assert_int_equal(r.excluded_ms, 45 * MIN);
    assert_pct(r.uptime_pct, (1440.0 - 75.0) / 1440.0 * 100.0);
    uptime_port_result_free(&r);
}

static void a_station_offline_while_its_last_status_said_available_is_down(void **state)
{
    /* Available all day; connected 00:00-09:00 and from 09:30 on: offline
     * 09:00-09:30, 30 minutes */
    port_t p = day_port();
    status(&p, at(0, 0) - H, "Available");
    p.tracked_since = at(0, 0) - 2 * H;
    p.online[p.nonline++] = (uptime_span_t){at(0, 0) - 2 * H, at(9, 0), 0, NULL};
    p.online[p.nonline++] = (uptime_span_t){at(9, 30), 0, 0, NULL};
    uptime_port_result_t r = compute(&p);
    assert_int_equal(r.noutages, 1);
    assert_int_equal(r.outages[0].from, at(9, 0));
    assert_int_equal(r.outages[0].to, at(9, 30));
    assert_int_equal(r.outages[0].causes, UPTIME_CAUSE_OFFLINE);
    assert_pct(r.uptime_pct, (1440.0 - 30.0) / 1440.0 * 100.0);
    uptime_port_result_free(&r);
}

static void a_station_never_seen_connected_is_not_offline(void **state)
{
    port_t p = day_port();
    status(&p, at(0, 0), "Available");
    uptime_port_result_t r = compute(&p); /* tracked_since 0: nothing recorded */
    assert_int_equal(r.noutages, 0);
    uptime_port_result_free(&r);
}

static void connector_zero_unavailable_takes_the_port_down(void **state)
{
    /* the port itself says Available; the station (connector 0) says
     * Unavailable 13:00-14:00 and Faulted 20:00-20:10 */
    port_t p = day_port();
    status(&p, at(0, 0), "Available");
    p.station[p.nstation++] = (uptime_point_t){at(0, 0), "Available", NULL};
    p.station[p.nstation++] = (uptime_point_t){at(13, 0), "Unavailable", NULL};
    p.station[p.nstation++] = (uptime_point_t){at(14, 0), "Available", NULL};
    p.station[p.nstation++] = (uptime_point_t){at(20, 0), "Faulted", "PowerMeterFailure"};
    p.station[p.nstation++] = (uptime_point_t){at(20, 10), "Available", NULL};
    uptime_port_result_t r = compute(&p);
    assert_int_equal(r.noutages, 2);
    assert_int_equal(r.outages[0].causes, UPTIME_CAUSE_STATION_UNAVAILABLE);
    assert_int_equal(r.outages[0].to - r.outages[0].from, 60 * MIN);
    assert_int_equal(r.outages[1].causes, UPTIME_CAUSE_STATION_FAULTED);
    assert_string_equal(r.outages[1].detail, "PowerMeterFailure");
    assert_int_equal(r.outage_ms, 70 * MIN);
    assert_pct(r.uptime_pct, (1440.0 - 70.0) / 1440.0 * 100.0);
    uptime_port_result_free(&r);
}

static void a_year_and_a_month_are_pro_rata_of_their_own_minutes(void **state)
{
    /* the same 60-minute outage on 2025-02-10 */
    int64_t y0, y1, m0, m1;
    assert_true(uptime_period_parse("2025", 0, 0, &y0, &y1));
    assert_true(uptime_period_parse("2025-02", 0, 0, &m0, &m1));
    assert_int_equal((y1 - y0) / MIN, UPTIME_YEAR_MINUTES);
    assert_int_equal((m1 - m0) / MIN, 28 * 1440);
    port_t p = day_port();
    status(&p, t("2024-12-01T00:00:00Z"), "Available");
    status(&p, t("2025-02-10T10:00:00Z"), "Faulted");
    status(&p, t("2025-02-10T11:00:00Z"), "Available");
    p.from = y0;
    p.to = y1;
    uptime_port_result_t r = compute(&p);
    /* (525,600 - 60) / 525,600 * 100 = 99.98858447... */
    assert_int_equal(r.period_ms / MIN, 525600);
    assert_pct(r.uptime_pct, (525600.0 - 60.0) / 525600.0 * 100.0);
    uptime_port_result_free(&r);
    p.from = m0;
    p.to = m1;
    r = compute(&p);
    /* (40,320 - 60) / 40,320 * 100 = 99.85119047... */
    assert_pct(r.uptime_pct, (40320.0 - 60.0) / 40320.0 * 100.0);
    assert_pct(uptime_percent(525600 * MIN, 60 * MIN, 0), 99.988584474885844);
    uptime_port_result_free(&r);
}

/* ---- more rules ---------------------------------------------------------------------------- */

static void a_port_is_down_only_when_every_reporting_connector_is(void **state)
{
    /* connector 1 Faulted 10:00-12:00; connector 2 Unavailable 11:00-13:00
     * (and unknown before 06:00): the port is down 11:00-12:00 only */
    uptime_point_t c1[] = {{at(5, 0), "Available", NULL},
                           {at(10, 0), "Faulted", "GroundFailure"},
                           {at(12, 0), "Available", NULL}};
    uptime_point_t c2[] = {{at(6, 0), "Available", NULL},
                           {at(11, 0), "Unavailable", NULL},
                           {at(13, 0), "Available", NULL}};
    uptime_timeline_t conns[] = {{c1, 3}, {c2, 3}};
    uptime_port_input_t in = {.from = at(0, 0),
                              .to = at(0, 0) + D,
                              .in_service_from = at(5, 0),
                              .connectors = conns,
                              .nconnectors = 2};
    uptime_port_result_t r;
    uptime_port_compute(&in, &r);
    assert_int_equal(r.period_ms, 19 * H);
    assert_int_equal(r.noutages, 1);
    assert_int_equal(r.outages[0].from, at(11, 0));
    assert_int_equal(r.outages[0].to, at(12, 0));
    assert_int_equal(r.outages[0].causes, UPTIME_CAUSE_FAULTED | UPTIME_CAUSE_UNAVAILABLE);
    assert_string_equal(r.outages[0].detail, "GroundFailure");
    uptime_port_result_free(&r);

    /* connector 2 had not reported yet when connector 1 faulted at 05:30:
     * the only connector that had reported was down, so the port was, until
     * connector 2 said Available at 06:00; connector 2's Unavailable
     * 11:00-13:00 is no outage, connector 1 being Available then */
    uptime_point_t c1b[] = {
        {at(5, 0), "Available", NULL}, {at(5, 30), "Faulted", NULL}, {at(7, 0), "Available", NULL}};
    conns[0] = (uptime_timeline_t){c1b, 3};
    uptime_port_compute(&in, &r);
    assert_int_equal(r.noutages, 1);
    assert_int_equal(r.outages[0].from, at(5, 30));
    assert_int_equal(r.outages[0].to, at(6, 0));
    assert_int_equal(r.outages[0].causes, UPTIME_CAUSE_FAULTED);
    uptime_port_result_free(&r);
}

static void failed_starts_are_down_until_recovered_or_the_period_ends(void **state)
{
    /* a failed start at 09:00 recovered at 09:20, another at 22:00 still
     * open: 20 + 120 minutes */
    port_t p = day_port();
    status(&p, at(0, 0), "Available");
    p.failed[p.nfailed++] = (uptime_span_t){at(9, 0), at(9, 20), 0, "Rejected"};
    p.failed[p.nfailed++] = (uptime_span_t){at(22, 0), 0, 0, "PowerLoss"};
    uptime_port_result_t r = compute(&p);
    assert_int_equal(r.noutages, 2);
    assert_int_equal(r.outages[0].causes, UPTIME_CAUSE_FAILED_START);
    assert_string_equal(r.outages[0].detail, "Rejected");
    assert_int_equal(r.outages[1].to, at(0, 0) + D);
    assert_int_equal(r.outage_ms, 140 * MIN);
    uptime_port_result_free(&r);
}

static void touching_outages_of_different_causes_join(void **state)
{
    /* Faulted 10:00-11:00 then offline 11:00-11:30: one outage of 90 minutes */
    port_t p = day_port();
    status(&p, at(0, 0), "Available");
    status(&p, at(10, 0), "Faulted");
    status(&p, at(11, 0), "Available");
    p.tracked_since = at(0, 0);
    p.online[p.nonline++] = (uptime_span_t){at(0, 0), at(11, 0), 0, NULL};
    p.online[p.nonline++] = (uptime_span_t){at(11, 30), 0, 0, NULL};
    uptime_port_result_t r = compute(&p);
    assert_int_equal(r.noutages, 1);
    assert_int_equal(r.outage_ms, 90 * MIN);
    uptime_port_result_free(&r);
}

static void offline_spans_are_the_complement_of_connections(void **state)
{
    /* overlapping and unsorted connections; tracking began at 02:00 */
    uptime_span_t on[] = {{at(5, 0), at(8, 0), 0, NULL},
                          {at(2, 0), at(4, 0), 0, NULL},
                          {at(3, 0), at(4, 30), 0, NULL},
                          {at(20, 0), 0, 0, NULL}};
    uptime_span_t out[5];
    size_t n = uptime_offline_spans(on, 4, at(2, 0), at(0, 0), at(0, 0) + D, out);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].from, at(4, 30));
    assert_int_equal(out[0].to, at(5, 0));
    assert_int_equal(out[1].from, at(8, 0));
    assert_int_equal(out[1].to, at(20, 0));
    assert_int_equal(uptime_offline_spans(on, 4, 0, at(0, 0), at(0, 0) + D, out), 0);
    /* not connected at all since tracking began: offline from then on */
    assert_int_equal(uptime_offline_spans(NULL, 0, at(6, 0), at(0, 0), at(12, 0), out), 1);
    assert_int_equal(out[0].from, at(6, 0));
    assert_int_equal(out[0].to, at(12, 0));
}

static void merge_clips_sorts_and_joins(void **state)
{
    uptime_span_t s[] = {{50, 60, 4, NULL}, {0, 30, 1, "a"},    {20, 40, 2, "b"},
                         {40, 45, 8, NULL}, {-10, -5, 1, NULL}, {70, 200, 16, NULL}};
    size_t n = uptime_merge(s, 6, 0, 100);
    assert_int_equal(n, 3);
    assert_int_equal(s[0].from, 0);
    assert_int_equal(s[0].to, 45);
    assert_int_equal(s[0].causes, 1 | 2 | 8);
    assert_string_equal(s[0].detail, "a");
    assert_int_equal(s[1].from, 50);
    assert_int_equal(s[2].to, 100);
}

static void statuses_map_to_causes(void **state)
{
    assert_int_equal(uptime_status_cause("Faulted", false), UPTIME_CAUSE_FAULTED);
    assert_int_equal(uptime_status_cause("Unavailable", false), UPTIME_CAUSE_UNAVAILABLE);
    assert_int_equal(uptime_status_cause("Faulted", true), UPTIME_CAUSE_STATION_FAULTED);
    assert_int_equal(uptime_status_cause("Unavailable", true), UPTIME_CAUSE_STATION_UNAVAILABLE);
    const char *up[] = {"Available",     "Preparing", "Charging", "SuspendedEV",
                        "SuspendedEVSE", "Finishing", "Reserved", "Occupied",
                        "faulted",       "Broken",    NULL};
    for (int i = 0; up[i]; i++)
        assert_int_equal(uptime_status_cause(up[i], false), 0);
    assert_int_equal(uptime_status_cause(NULL, false), 0);
    assert_string_equal(uptime_cause_name(4), "offline");
    assert_null(uptime_cause_name(UPTIME_CAUSE_COUNT));
}

static void failed_sessions_are_charger_side_stops_without_energy(void **state)
{
    assert_true(uptime_failed_session("EmergencyStop", true, 0, 3600000));
    assert_true(uptime_failed_session("PowerLoss", true, -5, 1000));
    assert_true(uptime_failed_session("GroundFault", false, 0, 60000));
    assert_false(uptime_failed_session("GroundFault", false, 0, 60001));
    assert_false(uptime_failed_session("PowerLoss", true, 1, 1000));
    const char *driver[] = {"Local",     "Remote",       "EVDisconnected", "HardReset",
                            "SoftReset", "DeAuthorized", "UnlockCommand",  "Other",
                            "Timeout",   "StoppedByEV",  "ImmediateReset", NULL};
    for (int i = 0; driver[i]; i++)
        assert_false(uptime_failed_session(driver[i], true, 0, 1000));
    assert_false(uptime_failed_session(NULL, true, 0, 0));
}

static void rejections_count_when_the_port_could_take_a_session(void **state)
{
    assert_true(uptime_rejection_counts("Available", false));
    assert_true(uptime_rejection_counts("Preparing", false));
    assert_true(uptime_rejection_counts("Occupied", false));
    assert_false(uptime_rejection_counts("Occupied", true));
    assert_false(uptime_rejection_counts("Charging", false));
    assert_false(uptime_rejection_counts("Reserved", false));
    assert_false(uptime_rejection_counts("Faulted", false));
    assert_false(uptime_rejection_counts("Finishing", false));
    assert_false(uptime_rejection_counts(NULL, false));
}

static void a_failed_start_recovers_through_a_fault_and_back(void **state)
{
    bool down = false;
    assert_false(uptime_status_recovers(&down, "Finishing"));
    assert_false(uptime_status_recovers(&down, "Available")); /* the failed session's wind-down */
    assert_false(uptime_status_recovers(&down, "Unavailable"));
    assert_true(down);
    assert_false(uptime_status_recovers(&down, "Preparing"));
    assert_true(uptime_status_recovers(&down, "Available"));
}

static void periods_follow_the_calendar_and_the_offset(void **state)
{
    int64_t a, b;
    assert_true(uptime_period_parse("2026-Q3", 0, 0, &a, &b));
    assert_int_equal(a, t("2026-07-01T00:00:00Z"));
    assert_int_equal(b, t("2026-10-01T00:00:00Z"));
    assert_true(uptime_period_parse("2026-Q4", 120, 0, &a, &b));
    assert_int_equal(a, t("2026-09-30T22:00:00Z"));
    assert_int_equal(b, t("2026-12-31T22:00:00Z"));
    assert_true(uptime_period_parse("2026-12", -300, 0, &a, &b));
    assert_int_equal(a, t("2026-12-01T05:00:00Z"));
    assert_int_equal(b, t("2027-01-01T05:00:00Z"));
    assert_true(uptime_period_parse("2024", 0, 0, &a, &b));
    assert_int_equal((b - a) / MIN, 527040); /* a leap year */
    assert_true(uptime_period_parse("trailing-12-months", 0, t("2024-02-29T12:30:00Z"), &a, &b));
    assert_int_equal(a, t("2023-02-28T12:30:00Z"));
    assert_int_equal(b, t("2024-02-29T12:30:00Z"));
    assert_true(uptime_period_parse("trailing-12-months", 60, t("2026-01-01T00:30:00Z"), &a, &b));
    assert_int_equal(a, t("2025-01-01T00:30:00Z"));
    const char *bad[] = {"",     "2026-13", "2026-00",    "2026-Q0",   "2026-Q5", "2026-1", "26-01",
                         "0999", "2026-q3", "2026-07-01", "last-year", "2026 ",   "abcd",   NULL};
    for (int i = 0; bad[i]; i++)
        if (uptime_period_parse(bad[i], 0, 0, &a, &b)) fail_msg("'%s' was accepted", bad[i]);
    assert_false(uptime_period_parse(NULL, 0, 0, &a, &b));
}

static void a_port_out_of_service_for_the_whole_period_counts_nothing(void **state)
{
    port_t p = day_port();
    status(&p, at(0, 0) + 2 * D, "Faulted");
    uptime_timeline_t conn = {p.points, p.n};
    uptime_port_input_t in = {.from = p.from,
                              .to = p.to,
                              .in_service_from = at(0, 0) + 2 * D,
                              .connectors = &conn,
                              .nconnectors = 1};
    uptime_port_result_t r;
    uptime_port_compute(&in, &r);
    assert_int_equal(r.period_ms, 0);
    assert_int_equal(r.noutages, 0);
    assert_pct(r.uptime_pct, 100.0);
    uptime_port_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_history_is_100_percent),
        cmocka_unit_test(overlapping_outages_count_once),
        cmocka_unit_test(an_outage_spanning_the_period_edge_is_clipped),
        cmocka_unit_test(excluded_time_counts_only_inside_an_outage),
        cmocka_unit_test(a_station_offline_while_its_last_status_said_available_is_down),
        cmocka_unit_test(a_station_never_seen_connected_is_not_offline),
        cmocka_unit_test(connector_zero_unavailable_takes_the_port_down),
        cmocka_unit_test(a_year_and_a_month_are_pro_rata_of_their_own_minutes),
        cmocka_unit_test(a_port_is_down_only_when_every_reporting_connector_is),
        cmocka_unit_test(failed_starts_are_down_until_recovered_or_the_period_ends),
        cmocka_unit_test(touching_outages_of_different_causes_join),
        cmocka_unit_test(offline_spans_are_the_complement_of_connections),
        cmocka_unit_test(merge_clips_sorts_and_joins),
        cmocka_unit_test(statuses_map_to_causes),
        cmocka_unit_test(failed_sessions_are_charger_side_stops_without_energy),
        cmocka_unit_test(rejections_count_when_the_port_could_take_a_session),
        cmocka_unit_test(a_failed_start_recovers_through_a_fault_and_back),
        cmocka_unit_test(periods_follow_the_calendar_and_the_offset),
        cmocka_unit_test(a_port_out_of_service_for_the_whole_period_counts_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
