/*
 * The client side of the network seam: outgoing WebSocket connections (a
 * charging station's link to a CSMS) and one-shot HTTP requests, on the
 * caller's libuv loop. ampgrid-sim is built on it; like net.h on the server
 * side, this is the only client code that includes libwebsockets.
 *
 * Shape (the same choices as the server, for the same measured reasons; see
 * the stack notes): one LWS context on a foreign libuv loop, LWS's own
 * validity/idle timers off (their cost grows with the number of connections;
 * callers keep their own deadlines on an O(1) timing wheel), a per-connection
 * outbound queue written only from the WRITEABLE callback, incoming messages
 * reassembled here up to a hard maximum size.
 *
 * Every connection that net_client_ws_connect returns ends with exactly one
 * ws_close callback, which says why it ended (could not connect, refused with
 * an HTTP status, closed by the peer, closed by us); the connection is freed
 * when that callback returns. Everything here runs on the loop's thread.
 *
 * TLS session resumption: a connection given a session slot offers the
 * session saved there (a TLS 1.3 ticket or a TLS 1.2 session) and saves the
 * newest one the server issues, so a station that reconnects resumes instead
 * of doing a full handshake, as a real station's TLS stack does.
 */
#ifndef AMPGRID_NET_NET_CLIENT_H
#define AMPGRID_NET_NET_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct net_client net_client_t;
typedef struct net_client_conn net_client_conn_t;
/* A saved TLS session (OpenSSL's SSL_SESSION behind the seam). */
typedef struct net_client_tls_session net_client_tls_session_t;
typedef struct uv_loop_s uv_loop_t;

/* Why a connection ended. */
typedef enum net_client_end {
    NET_CLIENT_END_CONNECT_FAILED, /* no HTTP answer: TCP refused/reset, TLS failure, timeout */
    NET_CLIENT_END_REFUSED,        /* the upgrade got an HTTP answer other than 101 */
    NET_CLIENT_END_PEER_CLOSED,    /* was open; the peer sent Close or the socket ended */
    NET_CLIENT_END_LOCAL_CLOSED,   /* was open (or opening); net_client_close was called */
    NET_CLIENT_END_SHUTDOWN,       /* net_client_destroy closed it */
} net_client_end_t;

typedef struct net_client_close_info {
    net_client_end_t end;
    bool was_open;      /* the upgrade had completed */
    int http_status;    /* NET_CLIENT_END_REFUSED: the status; 0 when unknown */
    int retry_after;    /* seconds from a Retry-After header, 0 = none */
    int close_code;     /* PEER_CLOSED: the peer's close code, 0 = none (socket ended) */
    const char *detail; /* a sentence for a person; valid during the callback */
} net_client_close_info_t;

typedef struct net_client_callbacks {
    void *ud;
    /* The upgrade completed; the connection can send. */
    void (*ws_open)(void *ud, net_client_conn_t *c);
    /* One complete text message (reassembled, within the size limit). */
    void (*ws_message)(void *ud, net_client_conn_t *c, const char *data, size_t len);
    /* The connection ended (see above); c is freed when this returns. */
    void (*ws_close)(void *ud, net_client_conn_t *c, const net_client_close_info_t *info);
} net_client_callbacks_t;

typedef struct net_client_config {
    int fd_limit;        /* connections planned for; sizes LWS's tables */
    size_t max_message;  /* bytes; a larger incoming message closes with 1009 */
    bool insecure;       /* wss: accept self-signed, expired and wrong-host certificates */
    const char *ca_file; /* wss: PEM CA bundle to verify the server, NULL = system default */
    int connect_timeout; /* seconds for TCP + TLS + upgrade, 0 = 20 */
} net_client_config_t;

typedef struct net_client_ws_params {
    const char *host; /* numeric address or name to connect to */
    int port;
    const char *path; /* "/ocpp/CP-1" (already URL-encoded) */
    bool tls;
    const char *subprotocols; /* "ocpp2.0.1,ocpp1.6": offered in this order */
    const char *basic_user;   /* HTTP Basic credentials, NULL = none */
    const char *basic_pass;
    const char *source_addr; /* local address to bind before connecting, NULL = any */
    void *user;              /* net_client_conn_user() */
    /* wss: where this station's TLS session lives between connections: its
     * session is offered when the handshake starts and replaced by the newest
     * one the server issues. NULL = a full handshake every time. The caller
     * owns the slot (free its content with net_client_tls_session_free); it
     * must stay valid until the connection's ws_close callback. */
    net_client_tls_session_t **tls_session;
} net_client_ws_params_t;

typedef struct net_client_stats {
    uint64_t connects, opened, refused, connect_failed, closed;
    uint64_t bytes_out, bytes_in, msgs_out, msgs_in;
    uint64_t tls_full, tls_resumed; /* completed TLS handshakes (WebSocket and HTTP) */
    unsigned open_now, connecting_now;
} net_client_stats_t;

/* Creates the client context on `loop` (which the caller owns and runs).
 * Returns NULL and writes err on failure. */
uv_loop_t *net_client_loop(net_client_t *nc);
net_client_t *net_client_create(uv_loop_t *loop, const net_client_config_t *cfg,
                                const net_client_callbacks_t *cbs, char *err, size_t err_len);
/* Closes every connection (each gets ws_close with NET_CLIENT_END_SHUTDOWN
 * while the loop still runs) and the context. Call net_client_free once the
 * loop has stopped. */
void net_client_destroy(net_client_t *n);
void net_client_free(net_client_t *n);
const net_client_stats_t *net_client_stats(const net_client_t *n);

/* --- WebSocket connections --- */
/* Starts a connection. Returns NULL when it failed at once (bad address,
 * out of descriptors): then no callback follows and err says why. */
net_client_conn_t *net_client_ws_connect(net_client_t *n, const net_client_ws_params_t *p,
                                         char *err, size_t err_len);
/* Queues one text message (copied). Returns false when not open or closing. */
bool net_client_send(net_client_conn_t *c, const char *data, size_t len);
/* Closes with a WebSocket close code and reason; code 0 drops the TCP
 * connection without a Close frame (a network failure, as a station sees
 * one). ws_close follows. */
void net_client_close(net_client_conn_t *c, int code, const char *reason);
void *net_client_conn_user(const net_client_conn_t *c);
void net_client_conn_set_user(net_client_conn_t *c, void *user);
bool net_client_conn_open(const net_client_conn_t *c);
/* The subprotocol the server chose ("" before open). */
const char *net_client_conn_subprotocol(const net_client_conn_t *c);
size_t net_client_conn_queued(const net_client_conn_t *c);
/* Frees a saved TLS session; NULL is fine. */
void net_client_tls_session_free(net_client_tls_session_t *s);

/* --- one-shot HTTP requests --- */
typedef struct net_client_http_params {
    const char *method; /* "GET", "POST", "PATCH", ... */
    const char *host;
    int port;
    bool tls;
    const char *path;
    const char *bearer;       /* Authorization: Bearer ..., NULL = none */
    const char *content_type; /* with a body */
    const char *body;         /* copied; NULL = none */
    size_t body_len;
    const char *source_addr; /* local address to bind before connecting, NULL = any */
} net_client_http_params_t;

/* status is 0 when no HTTP answer arrived (then err says why); body is the
 * response body (NUL-terminated, valid during the callback). */
typedef void (*net_client_http_cb)(void *ud, int status, const char *body, size_t len,
                                   const char *err);

/* Starts a request; cb is called exactly once, later, from the loop.
 * Returns 0, or -1 when it could not start (then cb is not called). */
int net_client_http(net_client_t *n, const net_client_http_params_t *p, net_client_http_cb cb,
                    void *ud);

#endif
