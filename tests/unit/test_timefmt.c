/*
 * Specification of RFC 3339 parsing and formatting (src/util/timefmt.c):
 * every accepted form normalises to UTC milliseconds, every malformed or
 * out-of-range date-time is refused, formatting round-trips, and hostile
 * input is never read past its terminating NUL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/timefmt.h"

/* 2024-01-02T03:04:05Z */
#define T0_MS 1704164645000LL

/* ---- helpers ----------------------------------------------------------------------------- */

static int64_t parse_ok(const char *s)
{
    int64_t ms = -12345;
    if (!time_parse_rfc3339(s, &ms)) fail_msg("refused a valid date-time: '%s'", s);
    return ms;
}

static void expect_refused(const char *s)
{
    int64_t ms = -12345;
    if (time_parse_rfc3339(s, &ms)) fail_msg("accepted '%s' as %lld", s, (long long)ms);
}

/*
 * Parses `s` from a copy that ends exactly at a page boundary, followed by an
 * inaccessible page, in a child process: any read past the NUL faults there
 * (with or without a sanitizer) instead of reading a neighbour's bytes.
 * Returns true when the parser neither crashed nor accepted the input.
 */
static bool refused_without_overread(const char *s)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) fail_msg("fork failed");
    if (pid == 0) {
        /* Let a fault kill the child instead of cmocka's handler resuming tests here. */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        long page = sysconf(_SC_PAGESIZE);
        char *mem = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED || mprotect(mem + page, (size_t)page, PROT_NONE) != 0) _exit(3);
        size_t n = strlen(s) + 1;
        char *copy = mem + page - n;
        memcpy(copy, s, n);
        int64_t ms;
        bool accepted = time_parse_rfc3339(copy, &ms);
        _exit(accepted ? 2 : 0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) fail_msg("waitpid failed");
    if (WIFSIGNALED(status)) {
        print_error("parsing '%s' crashed with signal %d (read past the end of the string)\n", s,
                    WTERMSIG(status));
        return false;
    }
    if (WEXITSTATUS(status) != 0) {
        print_error("parsing '%s' exited with %d\n", s, WEXITSTATUS(status));
        return false;
    }
    return true;
}

/* ---- parsing ----------------------------------------------------------------------------- */

static void parses_utc_with_z(void **state)
{
    assert_int_equal(parse_ok("2024-01-02T03:04:05Z"), T0_MS);
}

static void parses_lower_case_t_and_z(void **state)
{
    assert_int_equal(parse_ok("2024-01-02t03:04:05z"), T0_MS);
}

static void parses_the_unix_epoch_as_zero(void **state)
{
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("1970-01-01T00:00:00.001Z"), 1);
}

static void parses_times_before_1970_as_negative(void **state)
{
    assert_int_equal(parse_ok("1969-12-31T23:59:59.999Z"), -1);
    assert_int_equal(parse_ok("1969-12-31T23:59:59Z"), -1000);
    assert_int_equal(parse_ok("1900-01-01T00:00:00Z"), -2208988800000LL);
}

static void parses_the_last_representable_year(void **state)
{
    assert_int_equal(parse_ok("9999-12-31T23:59:59Z"), 253402300799000LL);
}

static void converts_a_positive_offset_to_utc(void **state)
{
    assert_int_equal(parse_ok("2024-01-02T08:34:05+05:30"), T0_MS);
}

static void converts_a_negative_offset_to_utc(void **state)
{
    assert_int_equal(parse_ok("2024-01-01T19:04:05-08:00"), T0_MS);
}

static void a_zero_offset_equals_z(void **state)
{
    assert_int_equal(parse_ok("2024-01-02T03:04:05+00:00"), T0_MS);
    assert_int_equal(parse_ok("2024-01-02T03:04:05-00:00"), T0_MS);
}

static void an_offset_may_cross_a_year_boundary(void **state)
{
    assert_int_equal(parse_ok("2024-01-01T00:30:00+01:00"), parse_ok("2023-12-31T23:30:00Z"));
}

static void parses_fractions_of_one_to_nine_digits(void **state)
{
    static const struct {
        const char *s;
        int64_t ms;
    } cases[] = {
        {"2024-01-02T03:04:05.1Z", 100},         {"2024-01-02T03:04:05.12Z", 120},
        {"2024-01-02T03:04:05.123Z", 123},       {"2024-01-02T03:04:05.1234Z", 123},
        {"2024-01-02T03:04:05.12345Z", 123},     {"2024-01-02T03:04:05.123456Z", 123},
        {"2024-01-02T03:04:05.1234567Z", 123},   {"2024-01-02T03:04:05.12345678Z", 123},
        {"2024-01-02T03:04:05.999999999Z", 999}, {"2024-01-02T03:04:05.000Z", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t got = parse_ok(cases[i].s);
        if (got != T0_MS + cases[i].ms)
            fail_msg("%s: expected +%lld ms, got %lld", cases[i].s, (long long)cases[i].ms,
                     (long long)(got - T0_MS));
    }
}

static void parses_a_fraction_with_an_offset(void **state)
{
    assert_int_equal(parse_ok("2024-01-02T08:34:05.250+05:30"), T0_MS + 250);
}

static void refuses_an_empty_fraction(void **state)
{
    expect_refused("2024-01-02T03:04:05.Z");
    expect_refused("2024-01-02T03:04:05.+01:00");
}

static void accepts_february_29_in_leap_years(void **state)
{
    assert_int_equal(parse_ok("2024-02-29T12:00:00Z"), 1709208000000LL);
    assert_int_equal(parse_ok("2000-02-29T00:00:00Z"), 951782400000LL);
}

static void refuses_february_29_in_common_years(void **state)
{
    expect_refused("2023-02-29T12:00:00Z");
    expect_refused("1900-02-29T12:00:00Z");
    expect_refused("2100-02-29T12:00:00Z");
}

static void refuses_days_beyond_the_end_of_the_month(void **state)
{
    expect_refused("2024-04-31T00:00:00Z");
    expect_refused("2024-01-32T00:00:00Z");
    expect_refused("2024-02-30T00:00:00Z");
    expect_refused("2024-01-00T00:00:00Z");
}

static void refuses_month_13_and_month_0(void **state)
{
    expect_refused("2024-13-01T00:00:00Z");
    expect_refused("2024-00-01T00:00:00Z");
}

static void refuses_hour_24(void **state)
{
    expect_refused("2024-01-02T24:00:00Z");
}

static void refuses_minute_60_and_second_61(void **state)
{
    expect_refused("2024-01-02T03:60:00Z");
    expect_refused("2024-01-02T03:04:61Z");
}

static void accepts_a_leap_second_as_the_second_before(void **state)
{
    assert_int_equal(parse_ok("2016-12-31T23:59:60Z"), parse_ok("2016-12-31T23:59:59Z"));
}

static void refuses_a_missing_time_zone(void **state)
{
    expect_refused("2024-01-02T03:04:05");
    expect_refused("2024-01-02T03:04:05.123");
    expect_refused("2024-01-02T03:04:05 ");
}

static void refuses_malformed_offsets(void **state)
{
    expect_refused("2024-01-02T03:04:05+0530");
    expect_refused("2024-01-02T03:04:05+5:30");
    expect_refused("2024-01-02T03:04:05+24:00");
    expect_refused("2024-01-02T03:04:05+05:60");
    expect_refused("2024-01-02T03:04:05+05:30Z");
    expect_refused("2024-01-02T03:04:05+05:30:00");
    expect_refused("2024-01-02T03:04:05UTC");
}

static void refuses_garbage(void **state)
{
    expect_refused("");
    expect_refused("garbage");
    expect_refused("not a date-time at all!");
    expect_refused("2024-01-02");
    expect_refused("2024/01/02T03:04:05Z");
    expect_refused("2024-01-02X03:04:05Z");
    expect_refused("2024-01-02T03-04-05Z");
    expect_refused("24-01-02T03:04:05Z");
    expect_refused("+2024-01-02T03:04:05Z");
    expect_refused("2024-1-02T03:04:05Z");
    expect_refused("2024-01-02T03:04:05ZZ");
    expect_refused("2024-01-02T03:04:05Z ");
    expect_refused(" 2024-01-02T03:04:05Z");
    expect_refused("2O24-01-02T03:04:05Z");
    expect_refused("2024-01-02T03:04:5Z0");
}

static void refuses_a_null_string(void **state)
{
    int64_t ms;
    assert_false(time_parse_rfc3339(NULL, &ms));
}

static void refuses_every_truncation_of_a_valid_value(void **state)
{
    const char *full = "2024-01-02T08:34:05.123+05:30";
    char buf[64];
    for (size_t n = 0; n < strlen(full); n++) {
        memcpy(buf, full, n);
        buf[n] = '\0';
        /* Cutting after ".12" or ".123" leaves a value without a zone, which is refused too. */
        expect_refused(buf);
    }
}

static void reads_nothing_past_the_end_of_a_truncated_offset(void **state)
{
    static const char *const cases[] = {
        "2024-01-02T03:04:05+",    "2024-01-02T03:04:05+0",    "2024-01-02T03:04:05+05",
        "2024-01-02T03:04:05+05:", "2024-01-02T03:04:05+05:3", "2024-01-02T03:04:05-1",
    };
    bool ok = true;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ok = refused_without_overread(cases[i]) && ok;
    assert_true(ok);
}

/* ---- formatting -------------------------------------------------------------------------- */

static void formats_the_epoch(void **state)
{
    char buf[TIME_RFC3339_LEN];
    assert_string_equal(time_format_rfc3339(0, buf), "1970-01-01T00:00:00.000Z");
}

static void formats_milliseconds_with_three_digits(void **state)
{
    char buf[TIME_RFC3339_LEN];
    assert_string_equal(time_format_rfc3339(T0_MS + 7, buf), "2024-01-02T03:04:05.007Z");
}

static void formats_times_before_1970(void **state)
{
    char buf[TIME_RFC3339_LEN];
    assert_string_equal(time_format_rfc3339(-1, buf), "1969-12-31T23:59:59.999Z");
    assert_string_equal(time_format_rfc3339(-1000, buf), "1969-12-31T23:59:59.000Z");
    assert_string_equal(time_format_rfc3339(-1001, buf), "1969-12-31T23:59:58.999Z");
}

static void formatting_returns_the_buffer(void **state)
{
    char buf[TIME_RFC3339_LEN];
    assert_ptr_equal(time_format_rfc3339(0, buf), buf);
}

static void formatted_times_parse_back_to_the_same_millisecond(void **state)
{
    static const int64_t values[] = {
        0, 1, -1, 999, -999, 1000, -1000, -1001, T0_MS, T0_MS + 999,
        951782400000LL,    /* 2000-02-29 */
        1709208000123LL,   /* 2024-02-29 */
        -2208988800000LL,  /* 1900-01-01 */
        -62167219200000LL, /* 0000-01-01 */
        4102444800000LL,   /* 2100-01-01 */
        253402300799999LL, /* 9999-12-31T23:59:59.999 */
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char buf[TIME_RFC3339_LEN];
        time_format_rfc3339(values[i], buf);
        int64_t back = parse_ok(buf);
        if (back != values[i])
            fail_msg("%lld formatted as %s parses back as %lld", (long long)values[i], buf,
                     (long long)back);
    }
}

static void formatted_times_of_every_day_of_a_leap_year_round_trip(void **state)
{
    int64_t start = 1704067200000LL; /* 2024-01-01T00:00:00Z */
    for (int day = 0; day < 366; day++) {
        int64_t ms = start + (int64_t)day * 86400000LL + (int64_t)day * 3723001LL % 86400000LL;
        char buf[TIME_RFC3339_LEN];
        time_format_rfc3339(ms, buf);
        assert_int_equal(parse_ok(buf), ms);
    }
}

static void now_is_after_2024_and_moves_forward(void **state)
{
    int64_t a = time_now_ms();
    int64_t b = time_now_ms();
    assert_true(a > T0_MS);
    assert_true(b >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_utc_with_z),
        cmocka_unit_test(parses_lower_case_t_and_z),
        cmocka_unit_test(parses_the_unix_epoch_as_zero),
        cmocka_unit_test(parses_times_before_1970_as_negative),
        cmocka_unit_test(parses_the_last_representable_year),
        cmocka_unit_test(converts_a_positive_offset_to_utc),
        cmocka_unit_test(converts_a_negative_offset_to_utc),
        cmocka_unit_test(a_zero_offset_equals_z),
        cmocka_unit_test(an_offset_may_cross_a_year_boundary),
        cmocka_unit_test(parses_fractions_of_one_to_nine_digits),
        cmocka_unit_test(parses_a_fraction_with_an_offset),
        cmocka_unit_test(refuses_an_empty_fraction),
        cmocka_unit_test(accepts_february_29_in_leap_years),
        cmocka_unit_test(refuses_february_29_in_common_years),
        cmocka_unit_test(refuses_days_beyond_the_end_of_the_month),
        cmocka_unit_test(refuses_month_13_and_month_0),
        cmocka_unit_test(refuses_hour_24),
        cmocka_unit_test(refuses_minute_60_and_second_61),
        cmocka_unit_test(accepts_a_leap_second_as_the_second_before),
        cmocka_unit_test(refuses_a_missing_time_zone),
        cmocka_unit_test(refuses_malformed_offsets),
        cmocka_unit_test(refuses_garbage),
        cmocka_unit_test(refuses_a_null_string),
        cmocka_unit_test(refuses_every_truncation_of_a_valid_value),
        cmocka_unit_test(reads_nothing_past_the_end_of_a_truncated_offset),
        cmocka_unit_test(formats_the_epoch),
        cmocka_unit_test(formats_milliseconds_with_three_digits),
        cmocka_unit_test(formats_times_before_1970),
        cmocka_unit_test(formatting_returns_the_buffer),
        cmocka_unit_test(formatted_times_parse_back_to_the_same_millisecond),
        cmocka_unit_test(formatted_times_of_every_day_of_a_leap_year_round_trip),
        cmocka_unit_test(now_is_after_2024_and_moves_forward),
    };
    return cmocka_run_group_tests_name("rfc 3339 time", tests, NULL, NULL);
}
