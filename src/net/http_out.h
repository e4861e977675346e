/*
 * Outbound HTTP on a libuv loop: the server's webhook deliveries and OpenADR
 * VEN requests, and the simulator's firmware downloads and log uploads.
 *
 * Why libcurl's multi-socket interface: the event loop must never block on a
 * slow or dead receiver, and one thread serves every station. curl tells us
 * which sockets to watch (one uv_poll_t each) and when to wake it (one
 * uv_timer_t); name resolution runs on curl's own resolver thread. This file
 * is the only one that includes <curl/curl.h>.
 *
 * A request is a GET, PUT or POST with a hard overall timeout, only http and
 * https, and by default no redirects. Its body comes from memory or is
 * streamed from a file (optionally as a multipart/form-data file part). The
 * answer is either kept, at most HTTP_OUT_BODY_KEEP bytes (or the request's
 * `keep`), the rest read and thrown away up to a limit after which the
 * transfer is cut (a receiver cannot make the server read forever), or
 * handed to an on_data callback chunk by chunk as it arrives (a 500 MB
 * firmware image is hashed, never held), up to the request's max_bytes.
 *
 * Destinations are checked after name resolution, on every connection
 * (redirects included): by default loopback, private, link-local and other
 * non-public addresses are refused, so an integration cannot use webhooks to
 * reach the server's own network (a DNS name that resolves to 10.0.0.1 is
 * refused as well as the literal address); allow_private lifts that, and
 * loopback_only allows nothing but loopback (the simulator).
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
    bool loopback_only;     /* refuse everything but loopback (URLs and addresses) */
    bool insecure;          /* https: accept any certificate and host name */
    const char *ca_file;    /* https: CA bundle (copied); NULL = the system's */
} http_out_config_t;

typedef struct http_out_result {
    int status;        /* HTTP status; 0 when no answer arrived */
    const char *error; /* NULL when an answer arrived; otherwise what went wrong,
                        * a sentence ("cancelled", "timed out after 10000 ms", ...) */
    const char *body;  /* first HTTP_OUT_BODY_KEEP bytes of the answer (not terminated
                        * beyond body_len; may be binary) */
    size_t body_len;
    int64_t duration_ms;
    int retry_after;   /* seconds from a Retry-After header, -1 when absent */
    bool cancelled;    /* by http_out_destroy: the request was not (fully) tried */
    bool truncated;    /* the answer was longer than what was kept */
    uint64_t received; /* answer body bytes received */
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

/* Receives the answer body as it arrives (any status), instead of keeping it. */
typedef void (*http_out_data_cb)(void *ctx, const char *data, size_t len);

/* Any request. */
#define HTTP_OUT_KEEP_MAX (1u << 20)
#define HTTP_OUT_MAX_REDIRECTS 10
typedef struct http_out_request {
    const char *method; /* "GET", "PUT" or "POST"; NULL = POST */
    const char *url;
    const char *const *headers; /* "Name: value", NULL-terminated, copied; may be NULL */
    const char *body;           /* PUT/POST body (copied); ignored for GET */
    size_t len;
    const char *body_file;      /* PUT/POST: stream the body from this file instead */
    const char *form_file_name; /* POST: send the body as one multipart/form-data part
                                 * "file" with this file name (give no Content-Type
                                 * header then); NULL = the body as is */
    const char *form_type;      /* that part's Content-Type; NULL = application/octet-stream */
    int timeout_ms;
    size_t keep;              /* answer bytes to keep: 0 = HTTP_OUT_BODY_KEEP, at most
                               * HTTP_OUT_KEEP_MAX (the rest is read and dropped) */
    http_out_data_cb on_data; /* set: the answer goes here, nothing is kept */
    uint64_t max_bytes;       /* with on_data: a longer answer fails the request; 0 = no cap */
    int max_redirects;        /* redirects followed, at most HTTP_OUT_MAX_REDIRECTS; 0 = none */
} http_out_request_t;
/* Starts rq; same contract as http_out_post. */
int http_out_request(http_out_t *h, const http_out_request_t *rq, http_out_cb cb, void *ctx,
                     char *err, size_t err_len);

/* Requests still running. */
unsigned http_out_in_flight(const http_out_t *h);

/* Checks that url is an absolute http:// or https:// URL with a host and
 * nothing curl would refuse. Returns true, or false with a reason in err. */
bool http_out_url_ok(const char *url, char *err, size_t err_len);

/* http_out_url_ok, and the host is loopback: 127.0.0.0/8, [::1] or
 * localhost (what a loopback_only client accepts). */
bool http_out_url_loopback(const char *url, char *err, size_t err_len);

/* Cancels every request in flight (each callback runs with error
 * "cancelled" before this returns) and closes the handles; the memory goes
 * once the loop has run the close callbacks. Not from inside a callback. */
void http_out_destroy(http_out_t *h);

#endif
