/*
 * Specification of the webhook wire contract (src/api/webhooks.c) and the
 * outbound HTTP client (src/net/http_out.c): the signature receivers verify,
 * the back-off schedule between attempts, the event types a webhook may
 * subscribe to, which URLs are accepted, and how the client reports refused
 * connections, blocked private addresses and cancellation.
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
#include <uv.h>

#include "api/webhooks.h"
#include "net/http_out.h"

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

/* ---- URLs ------------------------------------------------------------------------------ */

static void only_absolute_http_and_https_urls_are_accepted(void **state)
{
    char err[256];
    const char *ok[] = {"http://example.com", "https://example.com/hook?x=1",
                        "HTTPS://Example.COM:8443/a/b", "http://127.0.0.1:9/x",
                        "http://[::1]:8080/"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_true(http_out_url_ok(ok[i], err, sizeof err));
    const char *bad[] = {"file:///etc/passwd",
                         "ftp://example.com/",
                         "gopher://x/",
                         "javascript:alert(1)",
                         "dict://127.0.0.1:11211/",
                         "/relative",
                         "example.com/hook",
                         "http://",
                         "http://exa mple.com/",
                         "http://example.com/\r\nX-Injected: 1",
                         "",
                         "ldap://x/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_false(http_out_url_ok(bad[i], err, sizeof err));
        assert_true(strlen(err) > 0);
    }
}

/* ---- the client on a loop -------------------------------------------------------------- */

typedef struct outcome {
    int calls, status;
    char error[512];
    bool cancelled;
} outcome_t;

static void record_cb(void *ctx, const http_out_result_t *r)
{
    outcome_t *o = ctx;
    o->calls++;
    o->status = r->status;
    o->cancelled = r->cancelled;
    snprintf(o->error, sizeof o->error, "%s", r->error ? r->error : "");
}

/* A ticking timer keeps the loop alive and bounds each uv_run(ONCE) to 5 ms
 * (the client's own timer does not hold the loop open). */
static void tick_cb(uv_timer_t *t) {}

static void run_until(uv_loop_t *loop, const int *calls)
{
    for (int i = 0; i < 2000 && *calls == 0; i++)
        uv_run(loop, UV_RUN_ONCE);
}

static void close_loop(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_NOWAIT);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

static void a_refused_connection_is_reported(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    http_out_config_t cfg = {.user_agent = "ampgrid/test", .allow_private = true};
    http_out_t *h = http_out_create(&loop, &cfg);
    outcome_t o = {0};
    char err[128];
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    /* port 1 on loopback: nothing listens there */
    uv_timer_t keep;
    uv_timer_init(&loop, &keep);
    uv_timer_start(&keep, tick_cb, 5, 5);
    assert_int_equal(http_out_post(h, "http://127.0.0.1:1/x", hdrs, "{}", 2, 5000, record_cb, &o,
                                   err, sizeof err),
                     0);
    assert_int_equal(o.calls, 0); /* never from inside post */
    run_until(&loop, &o.calls);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.status, 0);
    assert_false(o.cancelled);
    assert_non_null(strstr(o.error, "onnect"));
    uv_close((uv_handle_t *)&keep, NULL);
    http_out_destroy(h);
    close_loop(&loop);
}

static void private_addresses_are_refused_unless_allowed(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    http_out_config_t cfg = {.user_agent = "ampgrid/test", .allow_private = false};
    http_out_t *h = http_out_create(&loop, &cfg);
    uv_timer_t keep;
    uv_timer_init(&loop, &keep);
    uv_timer_start(&keep, tick_cb, 5, 5);
    const char *urls[] = {"http://127.0.0.1:1/",     "http://10.1.2.3:1/",
                          "http://169.254.169.254/", "http://[::1]:1/",
                          "http://192.168.0.1:1/",   "http://[::ffff:127.0.0.1]:1/"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        outcome_t o = {0};
        char err[128];
        assert_int_equal(
            http_out_post(h, urls[i], NULL, "", 0, 5000, record_cb, &o, err, sizeof err), 0);
        run_until(&loop, &o.calls);
        if (o.calls != 1 || !strstr(o.error, "not a public address"))
            fail_msg("%s: %d calls, error '%s'", urls[i], o.calls, o.error);
    }
    uv_close((uv_handle_t *)&keep, NULL);
    http_out_destroy(h);
    close_loop(&loop);
}

static void destroy_cancels_requests_in_flight(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    http_out_config_t cfg = {.user_agent = "ampgrid/test", .allow_private = true};
    http_out_t *h = http_out_create(&loop, &cfg);
    outcome_t a = {0}, b = {0};
    char err[128];
    assert_int_equal(
        http_out_post(h, "http://127.0.0.1:1/a", NULL, "x", 1, 5000, record_cb, &a, err, 128), 0);
    assert_int_equal(
        http_out_post(h, "http://127.0.0.1:1/b", NULL, "y", 1, 5000, record_cb, &b, err, 128), 0);
    assert_int_equal(http_out_in_flight(h), 2);
    http_out_destroy(h);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    assert_true(a.cancelled && b.cancelled);
    assert_string_equal(a.error, "cancelled");
    close_loop(&loop);
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
        cmocka_unit_test(only_absolute_http_and_https_urls_are_accepted),
        cmocka_unit_test(a_refused_connection_is_reported),
        cmocka_unit_test(private_addresses_are_refused_unless_allowed),
        cmocka_unit_test(destroy_cancels_requests_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
