/*
 * Specification of the webhook wire contract (src/api/webhooks.c): the
 * signature receivers verify, the back-off schedule between attempts and the
 * event types a webhook may subscribe to. The outbound HTTP client and the
 * URLs it accepts are specified in test_http_out.c.
 *
 * Expected signatures were computed independently with Node's crypto
 * (createHmac('sha256', secret).update(`${t}.${body}`)).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sodium.h>

#include "api/webhooks.h"

/* ---- signature ------------------------------------------------------------------------- */

static void signature_is_hmac_sha256_of_timestamp_dot_body(void **state)
{
    char sig[WEBHOOKS_SIGNATURE_MAX];
    const char *body = "{\"id\":\"1\",\"type\":\"ping\"}";
    webhooks_sign("whsec_unit-test-secret", 1700000000, body, strlen(body), sig);
    assert_string_equal(
        sig, "t=1700000000,v1=f986a7ba61509c9cd349a827d574763fa92c7e16bdf8fe35595206c05ac9aa3d");
}

static void signature_of_an_empty_body_at_time_zero(void **state)
{
    char sig[WEBHOOKS_SIGNATURE_MAX];
    webhooks_sign("Jefe", 0, "", 0, sig);
    assert_string_equal(sig,
                        "t=0,v1=813f643c8863ba9754215e64cdab172f2e96c1a413d772978aba7398cc864e55");
}

static void signature_changes_with_secret_time_and_body(void **state)
{
    char a[WEBHOOKS_SIGNATURE_MAX], b[WEBHOOKS_SIGNATURE_MAX];
    webhooks_sign("secret-one-0123456789", 100, "{}", 2, a);
    webhooks_sign("secret-two-0123456789", 100, "{}", 2, b);
    assert_string_not_equal(a + 6, b + 6);
    webhooks_sign("secret-one-0123456789", 101, "{}", 2, b);
    assert_string_not_equal(strchr(a, ','), strchr(b, ','));
    webhooks_sign("secret-one-0123456789", 100, "{ }", 3, b);
    assert_string_not_equal(a, b);
    /* only len bytes of the body count */
    webhooks_sign("secret-one-0123456789", 100, "{}trailing", 2, b);
    assert_string_equal(a, b);
}

/* ---- back-off -------------------------------------------------------------------------- */

static void backoff_doubles_from_the_base_with_jitter_in_the_upper_half(void **state)
{
    for (int attempt = 1; attempt <= 8; attempt++) {
        int64_t full = 10000LL << (attempt - 1);
        int64_t lo = webhooks_backoff_ms(10, attempt, -1, 0);
        int64_t hi = webhooks_backoff_ms(10, attempt, -1, UINT32_MAX);
        assert_int_equal(lo, full / 2);
        assert_true(hi >= full / 2 && hi < full);
        for (uint32_t r = 1; r < 2000000000u; r += 123456789u) {
            int64_t d = webhooks_backoff_ms(10, attempt, -1, r);
            assert_true(d >= full / 2 && d < full);
        }
    }
}

static void backoff_schedule_with_the_defaults(void **state)
{
    /* retry_base 10 s, 8 attempts: the lower bounds of the 7 waits */
    const int64_t lower[] = {5000, 10000, 20000, 40000, 80000, 160000, 320000};
    for (int i = 0; i < 7; i++)
        assert_int_equal(webhooks_backoff_ms(10, i + 1, -1, 0), lower[i]);
}

static void backoff_is_capped_at_a_day(void **state)
{
    assert_int_equal(webhooks_backoff_ms(3600, 40, -1, UINT32_MAX) <= WEBHOOKS_MAX_BACKOFF_MS, 1);
    assert_true(webhooks_backoff_ms(3600, 40, -1, 0) >= WEBHOOKS_MAX_BACKOFF_MS / 2);
    assert_int_equal(webhooks_backoff_ms(1, 1000, -1, 7) <= WEBHOOKS_MAX_BACKOFF_MS, 1);
}

static void backoff_honours_retry_after_but_not_beyond_the_cap(void **state)
{
    assert_int_equal(webhooks_backoff_ms(1, 1, 120, 0), 120000);
    assert_int_equal(webhooks_backoff_ms(100, 3, 1, 0), 200000); /* the schedule is longer */
    assert_int_equal(webhooks_backoff_ms(1, 1, 10 * 86400, 0), WEBHOOKS_MAX_BACKOFF_MS);
}

static void backoff_treats_nonsense_input_as_the_first_attempt(void **state)
{
    assert_int_equal(webhooks_backoff_ms(0, 0, -1, 0), 500);
    assert_int_equal(webhooks_backoff_ms(-5, -3, -1, 0), 500);
}

/* ---- event types ----------------------------------------------------------------------- */

static void event_types_offered_to_subscribers(void **state)
{
    const char *ok[] = {"*",
                        "station.online",
                        "station.offline",
                        "station.boot",
                        "connector.status",
                        "connector.fault",
                        "session.started",
                        "session.ended"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(webhooks_event_type_valid(ok[i]));
    const char *bad[] = {
        "",   "station.connected", "transaction.started", "meter.values", "ping", "station.*",
        "**", "Session.Started",   "session.started "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(webhooks_event_type_valid(bad[i]));
    assert_false(webhooks_event_type_valid(NULL));
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signature_is_hmac_sha256_of_timestamp_dot_body),
        cmocka_unit_test(signature_of_an_empty_body_at_time_zero),
        cmocka_unit_test(signature_changes_with_secret_time_and_body),
        cmocka_unit_test(backoff_doubles_from_the_base_with_jitter_in_the_upper_half),
        cmocka_unit_test(backoff_schedule_with_the_defaults),
        cmocka_unit_test(backoff_is_capped_at_a_day),
        cmocka_unit_test(backoff_honours_retry_after_but_not_beyond_the_cap),
        cmocka_unit_test(backoff_treats_nonsense_input_as_the_first_attempt),
        cmocka_unit_test(event_types_offered_to_subscribers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
