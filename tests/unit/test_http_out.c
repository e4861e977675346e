/*
 * Specification of the outbound HTTP client (src/net/http_out.c), used by
 * webhooks, the OpenADR VEN and the simulator: refused connections, blocked
 * private addresses, cancellation, answers streamed in chunks and capped,
 * redirects followed up to a cap, PUT and POST bodies from memory and from a
 * file, multipart form uploads, and the loopback-only policy (URLs and
 * redirect targets).
 *
 * The receiver is a small real HTTP/1.1 server on the same libuv loop (one
 * request per connection, answered by path), so every byte goes through
 * sockets and curl.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include <sodium.h>
#include <uv.h>

#include "net/http_out.h"

/* ---- the receiver ---------------------------------------------------------------------- */

#define BIG_LEN (3u << 20) /* above every keep and discard limit */

typedef struct rx_conn {
    uv_tcp_t tcp;
    char *buf;
    size_t len, cap;
    bool answered;
} rx_conn_t;

typedef struct receiver {
    uv_tcp_t listener;
    int port;
    char last_method[16];
    char last_type[256];
    char *last_body; /* the last request's body */
    size_t last_len;
    unsigned requests;
} receiver_t;

static receiver_t rx;

/* Byte i of the big answer. */
static unsigned char big_byte(size_t i)
{
    return (unsigned char)((i * 7 + i / 4096) & 0xff);
}

static void conn_closed(uv_handle_t *h)
{
    rx_conn_t *c = h->data;
    free(c->buf);
    free(c);
}

static void written(uv_write_t *w, int status)
{
    free(w->data);
    if (!uv_is_closing((uv_handle_t *)w->handle)) uv_close((uv_handle_t *)w->handle, conn_closed);
    free(w);
}

static void answer(rx_conn_t *c, int status, const char *extra, const char *body, size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
                     len, extra);
    char *out = malloc((size_t)n + len);
    memcpy(out, head, (size_t)n);
    if (len) memcpy(out + n, body, len);
    uv_write_t *w = malloc(sizeof *w);
    w->data = out;
    uv_buf_t b = uv_buf_init(out, (unsigned)((size_t)n + len));
    uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, written);
}

/* The answers, by path: /big (BIG_LEN bytes), /hop/N (redirects N times, then
 * "arrived"), /away (redirects off loopback), /echo (the body's length). */
static void route(rx_conn_t *c, const char *method, const char *path)
{
    char buf[128];
    if (strcmp(path, "/big") == 0) {
        char *big = malloc(BIG_LEN);
        for (size_t i = 0; i < BIG_LEN; i++)
            big[i] = (char)big_byte(i);
        answer(c, 200, "", big, BIG_LEN);
        free(big);
    } else if (strncmp(path, "/hop/", 5) == 0) {
        int n = atoi(path + 5);
        snprintf(buf, sizeof buf, "Location: /hop/%d\r\n", n - 1);
        if (n == 0)
            answer(c, 200, "", "arrived", 7);
        else
            answer(c, 302, buf, "", 0);
    } else if (strcmp(path, "/away") == 0) {
        answer(c, 302, "Location: http://10.1.2.3:1/x\r\n", "", 0);
    } else if (strcmp(path, "/echo") == 0) {
        int n = snprintf(buf, sizeof buf, "%s %zu", method, rx.last_len);
        answer(c, 200, "", buf, (size_t)n);
    } else {
        answer(c, 404, "", "", 0);
    }
}

/* A whole request (head and Content-Length body) in c->buf: record and answer. */
static void try_request(rx_conn_t *c)
{
    char *end = c->buf ? strstr(c->buf, "\r\n\r\n") : NULL;
    if (!end || c->answered) return;
    size_t head = (size_t)(end - c->buf) + 4, body = 0;
    for (char *l = strstr(c->buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, "Content-Length:", 15) == 0) body = strtoul(l + 17, NULL, 10);
        if (strncasecmp(l + 2, "Content-Type:", 13) == 0)
            sscanf(l + 15, " %255[^\r]", rx.last_type);
    }
    if (c->len < head + body) return;
    char method[16] = "", path[256] = "";
    sscanf(c->buf, "%15s %255s", method, path);
    snprintf(rx.last_method, sizeof rx.last_method, "%s", method);
    free(rx.last_body);
    rx.last_body = malloc(body + 1);
    memcpy(rx.last_body, c->buf + head, body);
    rx.last_len = body;
    rx.requests++;
    c->answered = true;
    route(c, method, path);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    rx_conn_t *c = h->data;
    if (c->cap - c->len < 65537) {
        c->cap = c->cap * 2 + 65537;
        c->buf = realloc(c->buf, c->cap);
    }
    *b = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len - 1));
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    rx_conn_t *c = s->data;
    if (n < 0) {
        if (!uv_is_closing((uv_handle_t *)s)) uv_close((uv_handle_t *)s, conn_closed);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    try_request(c);
}

static void accept_cb(uv_stream_t *l, int status)
{
    rx_conn_t *c = calloc(1, sizeof *c);
    uv_tcp_init(l->loop, &c->tcp);
    c->tcp.data = c;
    assert_int_equal(uv_accept(l, (uv_stream_t *)&c->tcp), 0);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

static void rx_start(uv_loop_t *loop)
{
    memset(&rx, 0, sizeof rx);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_init(loop, &rx.listener);
    assert_int_equal(uv_tcp_bind(&rx.listener, (const struct sockaddr *)&a, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&rx.listener, 16, accept_cb), 0);
    int len = sizeof a;
    uv_tcp_getsockname(&rx.listener, (struct sockaddr *)&a, &len);
    rx.port = ntohs(a.sin_port);
}

/* ---- the client ------------------------------------------------------------------------ */

typedef struct outcome {
    int calls, status;
    bool cancelled;
    char error[512];
    char body[256];
    uint64_t received, streamed;
    unsigned chunks;
    crypto_hash_sha256_state sha;
} outcome_t;

static void record_cb(void *ctx, const http_out_result_t *r)
{
    outcome_t *o = ctx;
    o->calls++;
    o->status = r->status;
    o->cancelled = r->cancelled;
    o->received = r->received;
    snprintf(o->error, sizeof o->error, "%s", r->error ? r->error : "");
    snprintf(o->body, sizeof o->body, "%.*s", (int)r->body_len, r->body ? r->body : "");
}

static void data_cb(void *ctx, const char *data, size_t len)
{
    outcome_t *o = ctx;
    o->chunks++;
    o->streamed += len;
    crypto_hash_sha256_update(&o->sha, (const unsigned char *)data, len);
}

typedef struct fixture {
    uv_loop_t loop;
    uv_timer_t keep;
    http_out_t *h;
    char url[128]; /* the receiver's URL for the path given */
} fixture_t;

static void tick_cb(uv_timer_t *t) {}

/* A loop, the receiver on it and a client (allow_private unless cfg says). */
static fixture_t *fixture(const http_out_config_t *cfg, const char *path)
{
    fixture_t *f = calloc(1, sizeof *f);
    uv_loop_init(&f->loop);
    /* a ticking timer bounds each uv_run(ONCE) (the client's timer does not hold the loop) */
    uv_timer_init(&f->loop, &f->keep);
    uv_timer_start(&f->keep, tick_cb, 5, 5);
    rx_start(&f->loop);
    http_out_config_t dflt = {.user_agent = "ampgrid/test", .allow_private = true};
    f->h = http_out_create(&f->loop, cfg ? cfg : &dflt);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d%s", rx.port, path);
    return f;
}

static void fixture_free(fixture_t *f)
{
    http_out_destroy(f->h);
    uv_close((uv_handle_t *)&f->keep, NULL);
    uv_close((uv_handle_t *)&rx.listener, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(rx.last_body);
    free(f);
}

static void wait_for(fixture_t *f, const outcome_t *o)
{
    for (int i = 0; i < 4000 && o->calls == 0; i++)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(o->calls, 1);
}

static void run(fixture_t *f, const http_out_request_t *rq, outcome_t *o)
{
    char err[256];
    if (http_out_request(f->h, rq, record_cb, o, err, sizeof err) != 0)
        fail_msg("%s: not started: %s", rq->url, err);
    assert_int_equal(o->calls, 0); /* never from inside the call */
    wait_for(f, o);
}

/* ---- tests ----------------------------------------------------------------------------- */

static void a_refused_connection_is_reported(void **state)
{
    fixture_t *f = fixture(NULL, "");
    outcome_t o = {0};
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    /* port 1 on loopback: nothing listens there */
    http_out_request_t rq = {
        .url = "http://127.0.0.1:1/x", .headers = hdrs, .body = "{}", .len = 2, .timeout_ms = 5000};
    run(f, &rq, &o);
    assert_int_equal(o.status, 0);
    assert_false(o.cancelled);
    assert_non_null(strstr(o.error, "onnect"));
    fixture_free(f);
}

static void private_addresses_are_refused_unless_allowed(void **state)
{
    http_out_config_t cfg = {.user_agent = "ampgrid/test", .allow_private = false};
    fixture_t *f = fixture(&cfg, "/echo");
    const char *urls[] = {"http://127.0.0.1:1/",
                          "http://10.1.2.3:1/",
                          "http://169.254.169.254/",
                          "http://[::1]:1/",
                          "http://192.168.0.1:1/",
                          "http://[::ffff:127.0.0.1]:1/",
                          f->url};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        outcome_t o = {0};
        char err[128];
        assert_int_equal(
            http_out_post(f->h, urls[i], NULL, "", 0, 5000, record_cb, &o, err, sizeof err), 0);
        wait_for(f, &o);
        if (!strstr(o.error, "not a public address"))
            fail_msg("%s: %d calls, error '%s'", urls[i], o.calls, o.error);
    }
    assert_int_equal(rx.requests, 0);
    fixture_free(f);
}

static void destroy_cancels_requests_in_flight(void **state)
{
    fixture_t *f = fixture(NULL, "");
    outcome_t a = {0}, b = {0};
    char err[128];
    assert_int_equal(
        http_out_post(f->h, "http://127.0.0.1:1/a", NULL, "x", 1, 5000, record_cb, &a, err, 128),
        0);
    assert_int_equal(
        http_out_post(f->h, "http://127.0.0.1:1/b", NULL, "y", 1, 5000, record_cb, &b, err, 128),
        0);
    assert_int_equal(http_out_in_flight(f->h), 2);
    http_out_destroy(f->h);
    f->h = NULL;
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    assert_true(a.cancelled && b.cancelled);
    assert_string_equal(a.error, "cancelled");
    fixture_free(f);
}

static void a_large_answer_arrives_in_chunks_and_whole(void **state)
{
    fixture_t *f = fixture(NULL, "/big");
    outcome_t o = {0};
    crypto_hash_sha256_init(&o.sha);
    http_out_request_t rq = {
        .method = "GET", .url = f->url, .timeout_ms = 20000, .on_data = data_cb};
    run(f, &rq, &o);
    assert_string_equal(o.error, "");
    assert_int_equal(o.status, 200);
    assert_int_equal(o.streamed, BIG_LEN);
    assert_int_equal(o.received, BIG_LEN);
    assert_true(o.chunks > 1);
    assert_string_equal(o.body, ""); /* nothing kept */
    unsigned char got[32], want[32];
    crypto_hash_sha256_final(&o.sha, got);
    crypto_hash_sha256_state s;
    crypto_hash_sha256_init(&s);
    for (size_t i = 0; i < BIG_LEN; i++) {
        unsigned char b = big_byte(i);
        crypto_hash_sha256_update(&s, &b, 1);
    }
    crypto_hash_sha256_final(&s, want);
    assert_memory_equal(got, want, 32);
    fixture_free(f);
}

static void an_answer_above_max_bytes_fails(void **state)
{
    fixture_t *f = fixture(NULL, "/big");
    outcome_t o = {0};
    crypto_hash_sha256_init(&o.sha);
    http_out_request_t rq = {.method = "GET",
                             .url = f->url,
                             .timeout_ms = 20000,
                             .on_data = data_cb,
                             .max_bytes = 100000};
    run(f, &rq, &o);
    assert_int_equal(o.status, 0);
    assert_string_equal(o.error, "the answer is larger than 100000 bytes");
    assert_true(o.streamed <= 100000);
    fixture_free(f);
}

static void redirects_are_followed_up_to_the_cap(void **state)
{
    fixture_t *f = fixture(NULL, "/hop/3");
    outcome_t a = {0}, b = {0}, c = {0};
    http_out_request_t rq = {
        .method = "GET", .url = f->url, .timeout_ms = 5000, .max_redirects = 3};
    run(f, &rq, &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, "arrived");
    rq.max_redirects = 2;
    run(f, &rq, &b);
    assert_int_equal(b.status, 0);
    assert_non_null(strstr(b.error, "edirect"));
    rq.max_redirects = 0; /* the default: the redirect itself is the answer */
    run(f, &rq, &c);
    assert_int_equal(c.status, 302);
    assert_string_equal(c.error, "");
    fixture_free(f);
}

static void put_and_post_bodies_from_memory_and_from_a_file(void **state)
{
    fixture_t *f = fixture(NULL, "/echo");
    char path[] = "/tmp/ampgrid-http-out-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "wb");
    for (int i = 0; i < 200000; i++)
        fputc('a' + i % 26, fp);
    fclose(fp);

    const char *hdrs[] = {"Content-Type: text/plain", NULL};
    outcome_t a = {0}, b = {0}, c = {0};
    http_out_request_t rq = {.method = "PUT",
                             .url = f->url,
                             .headers = hdrs,
                             .body = "hello",
                             .len = 5,
                             .timeout_ms = 5000};
    run(f, &rq, &a);
    assert_string_equal(a.body, "PUT 5");
    assert_string_equal(rx.last_type, "text/plain");
    assert_memory_equal(rx.last_body, "hello", 5);

    rq.body = NULL;
    rq.len = 0;
    rq.body_file = path;
    run(f, &rq, &b);
    assert_string_equal(b.body, "PUT 200000");
    assert_memory_equal(rx.last_body, "abcdefghijklmnopqrstuvwxyzabc", 29);
    assert_int_equal(rx.last_body[199999], 'a' + 199999 % 26);

    rq.method = "POST";
    run(f, &rq, &c);
    assert_string_equal(c.body, "POST 200000");

    outcome_t d = {0}; /* the file as a form part, streamed too */
    rq.form_file_name = "big.log";
    rq.headers = NULL; /* the form sets its own Content-Type */
    run(f, &rq, &d);
    assert_int_equal(d.status, 200);
    assert_non_null(strstr(rx.last_type, "multipart/form-data"));
    assert_true(rx.last_len > 200000 && rx.last_len < 201000);
    rx.last_body[rx.last_len] = '\0';
    assert_non_null(strstr(rx.last_body, "filename=\"big.log\"\r\n"));
    assert_non_null(strstr(rx.last_body, "\r\n\r\nabcdefghij"));
    unlink(path);
    rq.form_file_name = NULL;

    char err[128];
    rq.body_file = "/nonexistent/ampgrid-file";
    assert_int_equal(http_out_request(f->h, &rq, record_cb, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read /nonexistent/ampgrid-file"));
    fixture_free(f);
}

static void a_form_upload_is_one_multipart_file_part(void **state)
{
    fixture_t *f = fixture(NULL, "/echo");
    outcome_t o = {0};
    http_out_request_t rq = {.method = "POST",
                             .url = f->url,
                             .body = "log line\n",
                             .len = 9,
                             .form_file_name = "station.log",
                             .form_type = "text/plain",
                             .timeout_ms = 5000};
    run(f, &rq, &o);
    assert_int_equal(o.status, 200);
    assert_string_equal(rx.last_method, "POST");
    assert_non_null(strstr(rx.last_type, "multipart/form-data; boundary="));
    rx.last_body[rx.last_len] = '\0';
    assert_non_null(strstr(rx.last_body, "name=\"file\"; filename=\"station.log\""));
    assert_non_null(strstr(rx.last_body, "Content-Type: text/plain\r\n\r\nlog line\n\r\n"));
    fixture_free(f);
}

static void loopback_only_refuses_other_urls_and_redirects(void **state)
{
    http_out_config_t cfg = {.user_agent = "ampgrid/test", .loopback_only = true};
    fixture_t *f = fixture(&cfg, "/away");
    char err[160];
    outcome_t o = {0};
    http_out_request_t rq = {.method = "GET", .url = "http://10.1.2.3/x", .timeout_ms = 5000};
    assert_int_equal(http_out_request(f->h, &rq, record_cb, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a loopback address"));
    rq.url = "ftp://127.0.0.1/x";
    assert_int_equal(http_out_request(f->h, &rq, record_cb, &o, err, sizeof err), -1);
    assert_int_equal(o.calls, 0);

    rq.url = f->url;
    rq.max_redirects = 3;
    run(f, &rq, &o);
    assert_int_equal(o.status, 0);
    assert_string_equal(o.error, "refused to connect to 10.1.2.3: not a loopback address");
    fixture_free(f);
}

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

static void loopback_urls(void **state)
{
    char err[160];
    const char *ok[] = {"http://127.0.0.1/", "https://127.9.8.7:9/x", "http://localhost:1/",
                        "http://[::1]:8/"};
    const char *bad[] = {"http://10.0.0.1/", "http://example.com/", "http://128.0.0.1/",
                         "ws://127.0.0.1/",  "not a url",           NULL};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!http_out_url_loopback(ok[i], err, sizeof err)) fail_msg("%s: %s", ok[i], err);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (http_out_url_loopback(bad[i], err, sizeof err)) fail_msg("%s accepted", bad[i]);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_refused_connection_is_reported),
        cmocka_unit_test(private_addresses_are_refused_unless_allowed),
        cmocka_unit_test(destroy_cancels_requests_in_flight),
        cmocka_unit_test(a_large_answer_arrives_in_chunks_and_whole),
        cmocka_unit_test(an_answer_above_max_bytes_fails),
        cmocka_unit_test(redirects_are_followed_up_to_the_cap),
        cmocka_unit_test(put_and_post_bodies_from_memory_and_from_a_file),
        cmocka_unit_test(a_form_upload_is_one_multipart_file_part),
        cmocka_unit_test(loopback_only_refuses_other_urls_and_redirects),
        cmocka_unit_test(only_absolute_http_and_https_urls_are_accepted),
        cmocka_unit_test(loopback_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
