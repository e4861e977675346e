/*
 * Outbound HTTP (webhook deliveries) on the server's libuv loop.
 *
 * Why libcurl's multi-socket interface: the event loop must never block on a
 * slow or dead receiver, and one thread serves every station. curl tells us
 * which sockets to watch (one uv_poll_t each) and when to wake it (one
 * uv_timer_t); name resolution runs on curl's own resolver thread. This file
 * is the only one that includes <curl/curl.h>.
 *
 * Every request is a POST (or, through http_out_request, a GET) with a hard
 * overall timeout, no redirects, only http and https, and at most
 * HTTP_OUT_BODY_KEEP bytes (or the request's `keep`) of the answer kept
 * (the rest is read and thrown away, up to a limit after which the transfer
 * is cut: a receiver cannot make the server read forever). Optionally,
 * connections to loopback, private, link-local and other non-public
 * addresses are refused after name resolution, so an integration cannot use
 * webhooks to reach the server's own network (a DNS name that resolves to
 * 10.0.0.1 is refused as well as the literal address).
 *
 * Everything here runs on the loop thread.
 */
#ifndef AMPGRID_NET_HTTP_OUT_H
#define AMPGRID_NET_HTTP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct http_out http_out_t;
typedef struct uv_loop_s uv_loop_t;

#define HTTP_OUT_BODY_KEEP 1024

typedef struct http_out_config {
    const char *user_agent; /* "ampgrid/0.1.0"; copied */
    int connect_timeout_ms; /* TCP + TLS connect; 0 = 10 s */
    bool allow_private;     /* false: refuse non-public destination addresses */
} http_out_config_t;

typedef struct http_out_result {
    int status;        /* HTTP status; 0 when no answer arrived */
    const char *error; /* NULL when an answer arrived; otherwise what went wrong,
                        * a sentence ("cancelled", "timed out after 10000 ms", ...) */
    const char *body;  /* first HTTP_OUT_BODY_KEEP bytes of the answer (not terminated
                        * beyond body_len; may be binary) */
    size_t body_len;
    int64_t duration_ms;
    int retry_after; /* seconds from a Retry-After header, -1 when absent */
    bool cancelled;  /* by http_out_destroy: the request was not (fully) tried */
    bool truncated;  /* the answer was longer than what was kept */
} http_out_result_t;

/* r and everything it points to are valid until the callback returns. */
typedef void (*http_out_cb)(void *ctx, const http_out_result_t *r);

http_out_t *http_out_create(uv_loop_t *loop, const http_out_config_t *cfg);

/* Starts a POST of body (copied) to url with extra headers ("Name: value",
 * NULL-terminated list, copied). cb runs exactly once, later, on the loop
 * (never from inside this call). Returns 0, or -1 with err filled in (cb
 * will not run) when the request cannot even be started. */
int http_out_post(http_out_t *h, const char *url, const char *const *headers, const char *body,
                  size_t len, int timeout_ms, http_out_cb cb, void *ctx, char *err, size_t err_len);

/* Any request: GET or POST with headers, keeping up to `keep` bytes of the
 * answer (for clients that read what they fetch, such as the OpenADR VEN). */
#define HTTP_OUT_KEEP_MAX (1u << 20)
typedef struct http_out_request {
    const char *method;          /* "GET" or "POST"; NULL = POST */
    const char *url;
    const char *const *headers;  /* "Name: value", NULL-terminated, copied; may be NULL */
    const char *body;            /* POST body (copied); ignored for GET */
    size_t len;
    int timeout_ms;
    size_t keep;                 /* answer bytes to keep: 0 = HTTP_OUT_BODY_KEEP, at most
                                  * HTTP_OUT_KEEP_MAX (the rest is read and dropped) */
} http_out_request_t;
int http_out_request(http_out_t *h, const http_out_request_t *rq, http_out_cb cb, void *ctx,
                     char *err, size_t err_len);

/* Requests still running. */
unsigned http_out_in_flight(const http_out_t *h);

/* Checks that url is an absolute http:// or https:// URL with a host and
 * nothing curl would refuse. Returns true, or false with a reason in err. */
bool http_out_url_ok(const char *url, char *err, size_t err_len);

/* Cancels every request in flight (each callback runs with error
 * "cancelled" before this returns) and closes the handles; the memory goes
 * once the loop has run the close callbacks. Not from inside a callback. */
void http_out_destroy(http_out_t *h);

#endif
