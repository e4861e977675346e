/*
 * The simulator's transfers on net/http_out; see http.h. What is the
 * simulator's own here is the policy: a download is hashed and counted as it
 * arrives, an upload that the receiver refuses with 405 is sent again as a
 * form, and everything is loopback only.
 */
#include "sim/http.h"

#include "net/http_out.h"
#include "util/alloc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 60000
#define DOWNLOAD_REDIRECTS 3 /* a download server may redirect (to loopback only) */

struct sim_http {
    http_out_t *out;
};

/* One transfer: a GET, or a PUT and perhaps its POST. */
typedef struct xfer {
    sim_http_t *h;
    sim_http_cb cb;
    void *ud;
    bool posted;                  /* the PUT got 405: the POST is on its way */
    char *url, *file_name, *body; /* upload: our copy of the file, for the POST */
    size_t len;
    int timeout_ms;
    crypto_hash_sha256_state sha;
} xfer_t;

static void xfer_free(xfer_t *x)
{
    free(x->url);
    free(x->file_name);
    free(x->body);
    free(x);
}

static xfer_t *xfer_new(sim_http_t *h, const char *url, int timeout_ms, sim_http_cb cb, void *ud)
{
    xfer_t *x = xcalloc(1, sizeof *x);
    x->h = h;
    x->url = xstrdup(url ? url : "");
    x->timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
    x->cb = cb;
    x->ud = ud;
    return x;
}

/* ------------------------------------------------------------ downloads */

static void hash_cb(void *ctx, const char *data, size_t len)
{
    xfer_t *x = ctx;
    crypto_hash_sha256_update(&x->sha, (const unsigned char *)data, len);
}

static void got_cb(void *ctx, const http_out_result_t *r)
{
    xfer_t *x = ctx;
    sim_http_result_t res = {.status = r->status,
                             .error = r->error,
                             .cancelled = r->cancelled,
                             .bytes = r->received,
                             .method = "GET"};
    crypto_hash_sha256_final(&x->sha, res.sha256);
    x->cb(x->ud, &res);
    xfer_free(x);
}

int sim_http_get(sim_http_t *h, const char *url, uint64_t max_bytes, int timeout_ms, sim_http_cb cb,
                 void *ud, char *err, size_t err_len)
{
    xfer_t *x = xfer_new(h, url, timeout_ms, cb, ud);
    crypto_hash_sha256_init(&x->sha);
    http_out_request_t rq = {.method = "GET",
                             .url = x->url,
                             .timeout_ms = x->timeout_ms,
                             .on_data = hash_cb,
                             .max_bytes = max_bytes,
                             .max_redirects = DOWNLOAD_REDIRECTS};
    if (http_out_request(h->out, &rq, got_cb, x, err, err_len) == 0) return 0;
    xfer_free(x);
    return -1;
}

/* -------------------------------------------------------------- uploads */

static void sent_cb(void *ctx, const http_out_result_t *r);

static int send_file(xfer_t *x, char *err, size_t err_len)
{
    static const char *const put_headers[] = {"Content-Type: text/plain", NULL};
    http_out_request_t rq = {.method = x->posted ? "POST" : "PUT",
                             .url = x->url,
                             .headers = x->posted ? NULL : put_headers,
                             .body = x->body,
                             .len = x->len,
                             .form_file_name = x->posted ? x->file_name : NULL,
                             .form_type = "text/plain",
                             .timeout_ms = x->timeout_ms};
    return http_out_request(x->h->out, &rq, sent_cb, x, err, err_len);
}

static void sent_cb(void *ctx, const http_out_result_t *r)
{
    xfer_t *x = ctx;
    if (!r->error && r->status == 405 && !x->posted) { /* the same file as a form upload */
        char err[160];
        x->posted = true;
        if (send_file(x, err, sizeof err) == 0) return;
        x->posted = false; /* the PUT's answer is the result */
    }
    sim_http_result_t res = {.status = r->status,
                             .error = r->error,
                             .cancelled = r->cancelled,
                             .bytes = r->error ? 0 : x->len,
                             .method = x->posted ? "POST" : "PUT"};
    x->cb(x->ud, &res);
    xfer_free(x);
}

int sim_http_upload(sim_http_t *h, const char *url, const char *file_name, const char *body,
                    size_t len, int timeout_ms, sim_http_cb cb, void *ud, char *err, size_t err_len)
{
    xfer_t *x = xfer_new(h, url, timeout_ms, cb, ud);
    x->file_name = xstrdup(file_name ? file_name : "upload.log");
    x->body = xmalloc(len ? len : 1);
    memcpy(x->body, body, len);
    x->len = len;
    if (send_file(x, err, err_len) == 0) return 0;
    xfer_free(x);
    return -1;
}

/* ------------------------------------------------------------------ API */

sim_http_t *sim_http_create(uv_loop_t *loop, const sim_http_config_t *cfg)
{
    sim_http_t *h = xcalloc(1, sizeof *h);
    http_out_config_t oc = {
        .user_agent = "ampgrid-sim/" AMPGRID_VERSION,
        .connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 5000,
        .loopback_only = true,
        .insecure = cfg->insecure,
        .ca_file = cfg->ca_file,
    };
    h->out = http_out_create(loop, &oc);
    return h;
}

unsigned sim_http_in_flight(const sim_http_t *h)
{
    return http_out_in_flight(h->out);
}

void sim_http_destroy(sim_http_t *h)
{
    if (!h) return;
    http_out_destroy(h->out);
    free(h);
}
