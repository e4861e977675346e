/*
 * The network seam: listeners, TLS, the WebSocket upgrade handshake, per
 * connection send queues, ping supervision and HTTP request plumbing.
 *
 * This is the only part of ampgrid that includes libwebsockets. The rest of
 * the program sees net_conn_t (a station's WebSocket), net_req_t (one HTTP
 * request) and the callbacks below, which main wires to ocpp/ and api/.
 * Everything here runs on the event-loop thread.
 *
 * Why a decision struct in ws_upgrade: LWS must get the verdict on an upgrade
 * synchronously inside its CONFIRM_UPGRADE callback, so authentication is a
 * plain function call that fills in the answer (accept with a subprotocol, or
 * refuse with an HTTP status and a message).
 */
#ifndef AMPGRID_NET_NET_H
#define AMPGRID_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct net net_t;
typedef struct net_conn net_conn_t;
typedef struct net_req net_req_t;
typedef struct uv_loop_s uv_loop_t;

#define NET_STATION_ID_MAX 48

typedef struct net_upgrade {
    const char *station_id;   /* URL-decoded id from /ocpp/{id}; "" when the path is wrong */
    const char *path;         /* raw request path */
    const char *subprotocols; /* Sec-WebSocket-Protocol as sent, "" when absent */
    const char *auth_user;    /* HTTP Basic user, NULL when no Basic credentials were sent */
    const char *auth_pass;
    const char *peer;         /* peer IP address */
    bool tls;
    const char *client_cert_cn; /* NULL without a verified client certificate */
} net_upgrade_t;

typedef struct net_decision {
    int status;              /* 0 = accept; otherwise the HTTP status to answer with */
    char message[160];       /* body of a refusal, a sentence for a person */
    int retry_after;         /* seconds, for 429/503; 0 = none */
    bool www_authenticate;   /* add WWW-Authenticate: Basic to a 401 */
    void *conn_user;         /* on accept: handed to ws_open */
} net_decision_t;

typedef struct net_callbacks {
    void *ud;      /* passed to the ws_* callbacks */
    void *http_ud; /* passed to http_request */
    /* An upgrade to WebSocket arrived; fill in *d. */
    void (*ws_upgrade)(void *ud, const net_upgrade_t *up, net_decision_t *d);
    /* The upgrade completed. conn_user is what ws_upgrade put in the decision. */
    void (*ws_open)(void *ud, net_conn_t *c, void *conn_user);
    /* One complete text message (reassembled, valid UTF-8, within the size limit). */
    void (*ws_message)(void *ud, net_conn_t *c, const char *data, size_t len);
    /* The connection is gone; c is freed when this returns. */
    void (*ws_close)(void *ud, net_conn_t *c);
    /* A complete HTTP request (body read). The handler must answer it with
     * net_req_respond, net_req_respond_file or net_req_stream_*, now or later. */
    void (*http_request)(void *ud, net_req_t *r);
    /* Optional, called (with http_ud) when a POST/PUT/PATCH request's headers
     * have arrived, before its body is read: returns NET_BODY_BUFFER (the body
     * is read into memory, up to max_http_body), NET_BODY_FILE (the body is
     * written to a file under spool_dir as it arrives, up to *limit bytes,
     * which the callback sets; larger bodies are refused with 413), or an HTTP
     * status >= 400 to refuse the request at once with msg as the detail. */
    int (*http_body)(void *ud, net_req_t *r, int64_t *limit, char *msg, size_t msg_len);
} net_callbacks_t;

#define NET_BODY_BUFFER 0
#define NET_BODY_FILE 1

typedef struct net_config {
    const char *bind;            /* address to listen on, NULL/"" = all */
    int ocpp_port;               /* ws:// listener, 0 = disabled */
    int tls_port;                /* wss:// listener, 0 = disabled */
    int http_port;               /* HTTP API listener, 0 = disabled */
    const char *tls_cert_rsa, *tls_key_rsa;
    const char *tls_cert_ecdsa, *tls_key_ecdsa;
    const char *tls_ca;          /* CA for client certificates (profile 3), may be NULL */
    const char *const *subprotocols; /* NULL-terminated list the OCPP listeners accept */
    size_t max_message;          /* bytes; larger messages close the connection with 1009 */
    size_t max_http_body;
    const char *spool_dir;       /* where NET_BODY_FILE bodies are written (same file
                                  * system as their final place, so they can be renamed) */
    int ping_interval;           /* seconds; 0 disables pings */
    int ping_timeout;            /* seconds to wait for a pong (or anything) before closing */
    int fd_limit;
} net_config_t;

typedef struct net_stats {
    uint64_t ws_open, ws_closed, ws_refused, ws_oversize, ws_binary, ping_timeouts, pings_sent;
    uint64_t http_requests;
    unsigned ws_current;
} net_stats_t;

/* Creates the context and listeners on `loop` (which the caller owns and runs).
 * Returns NULL and writes err on failure (port in use, bad certificate, ...). */
net_t *net_create(uv_loop_t *loop, const net_config_t *cfg, const net_callbacks_t *cbs, char *err,
                  size_t err_len);
/* Closes every connection and listener. Callbacks (ws_close, request close
 * hooks) still fire while the loop runs afterwards; call net_free once the
 * loop has stopped. */
void net_destroy(net_t *n);
void net_free(net_t *n);
const net_stats_t *net_stats(const net_t *n);

/* --- WebSocket connections --- */
/* Queues one text message (copied). Returns false when the connection is closing. */
bool net_conn_send(net_conn_t *c, const char *data, size_t len);
/* Closes with a WebSocket close code and reason; ws_close follows. */
void net_conn_close(net_conn_t *c, int code, const char *reason);
const char *net_conn_subprotocol(const net_conn_t *c);
const char *net_conn_peer(const net_conn_t *c);
/* The station id from the upgrade's path (URL-decoded). */
const char *net_conn_station_id(const net_conn_t *c);
bool net_conn_tls(const net_conn_t *c);
void net_conn_set_user(net_conn_t *c, void *user);
void *net_conn_user(const net_conn_t *c);
size_t net_conn_queued(const net_conn_t *c);

/* --- HTTP requests --- */
typedef void (*net_req_close_cb)(net_req_t *r, void *ud);

const char *net_req_method(const net_req_t *r);  /* "GET", "POST", ... */
const char *net_req_path(const net_req_t *r);    /* URL-decoded path without the query */
/* Value of a query argument (URL-decoded), NULL when absent. Valid while r lives. */
const char *net_req_query(const net_req_t *r, const char *name);
/* Header value by lower-case name ("authorization"), NULL when absent. */
const char *net_req_header(const net_req_t *r, const char *name);
const char *net_req_body(const net_req_t *r, size_t *len);
const char *net_req_peer(const net_req_t *r);
/* Called if the client goes away before the response is complete; after it
 * returns r is freed. Handlers that answer later must register one. */
void net_req_on_close(net_req_t *r, net_req_close_cb cb, void *ud);

/* For a NET_BODY_FILE request: the path of the file holding the body, its
 * size and its SHA-256 (lowercase hex). The file is deleted with the request
 * unless the handler calls net_req_body_file_keep (after moving it away). */
const char *net_req_body_file(const net_req_t *r, uint64_t *size, const char **sha256_hex);
void net_req_body_file_keep(net_req_t *r);

/* Answers with a file from disk, read and sent in chunks as the connection
 * drains: Content-Length, Accept-Ranges, ETag (etag as given, quoted, or NULL
 * to derive one from the file's size and mtime) and a single byte range when
 * the request's Range asks for one (206 with Content-Range; 416 when it
 * cannot be satisfied; If-Range with another ETag gets the whole file). HEAD
 * gets the headers only. Returns false, leaving r unanswered, when the file
 * cannot be opened. */
bool net_req_respond_file(net_req_t *r, const char *path, const char *content_type,
                          const char *etag, const char *extra_headers);

/* Sends a complete response (body copied). extra_headers: "Name: value\r\n..." or NULL.
 * r must not be used after this call. */
void net_req_respond(net_req_t *r, int status, const char *content_type, const char *body,
                     size_t len, const char *extra_headers);
/* Starts a streaming response (Server-Sent Events); r stays valid until closed. */
void net_req_stream_start(net_req_t *r, int status, const char *content_type);
bool net_req_stream_write(net_req_t *r, const char *data, size_t len);
size_t net_req_stream_queued(const net_req_t *r);
/* Ends a stream; the close callback is not called afterwards. */
void net_req_stream_end(net_req_t *r);

#endif
