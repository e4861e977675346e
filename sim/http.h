/*
 * A simulated station's HTTP transfers, on the server's outbound client
 * (net/http_out) and the simulator's libuv loop: firmware downloads (GET, the
 * body hashed with SHA-256 and counted as it arrives, never kept) and log
 * uploads (PUT; a multipart POST when the receiver answers 405 to the PUT).
 *
 * Loopback only, like every other connection the simulator makes (args.c
 * says why): the client is created loopback_only, so URLs must name
 * 127.0.0.0/8, localhost or [::1], and every address curl connects to
 * (redirects included) is checked again.
 *
 * Everything here runs on the loop thread.
 */
#ifndef AMPGRID_SIM_HTTP_H
#define AMPGRID_SIM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sim_http sim_http_t;
typedef struct uv_loop_s uv_loop_t;

typedef struct sim_http_config {
    bool insecure;          /* https: accept any certificate */
    const char *ca_file;    /* https: CA bundle (copied), NULL = the system's */
    int connect_timeout_ms; /* 0 = 5 s */
} sim_http_config_t;

typedef struct sim_http_result {
    int status;               /* HTTP status of the last answer; 0 when none arrived */
    const char *error;        /* NULL when an answer arrived, else what went wrong */
    bool cancelled;           /* by sim_http_destroy */
    uint64_t bytes;           /* download: body bytes received; upload: bytes sent */
    unsigned char sha256[32]; /* download: digest of the body */
    const char *method;       /* the method that got the answer: GET, PUT or POST */
} sim_http_result_t;

/* r is valid until the callback returns. */
typedef void (*sim_http_cb)(void *ud, const sim_http_result_t *r);

sim_http_t *sim_http_create(uv_loop_t *loop, const sim_http_config_t *cfg);

/* Starts a GET of url; a body above max_bytes ends the transfer as an error.
 * cb runs exactly once, later, on the loop. Returns 0, or -1 with err set
 * (cb will not run). */
int sim_http_get(sim_http_t *h, const char *url, uint64_t max_bytes, int timeout_ms, sim_http_cb cb,
                 void *ud, char *err, size_t err_len);

/* Starts an upload of body (copied) to url: PUT, and when the answer is 405
 * a multipart/form-data POST with the file in part "file" named file_name.
 * Same contract as sim_http_get. */
int sim_http_upload(sim_http_t *h, const char *url, const char *file_name, const char *body,
                    size_t len, int timeout_ms, sim_http_cb cb, void *ud, char *err,
                    size_t err_len);

/* Transfers in flight. */
unsigned sim_http_in_flight(const sim_http_t *h);

/* Cancels every transfer (each callback runs with cancelled set before this
 * returns) and frees h; the client's handles go once the loop has run their
 * close callbacks. Not from inside a callback. */
void sim_http_destroy(sim_http_t *h);

#endif
