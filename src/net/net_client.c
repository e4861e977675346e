/*
 * libwebsockets as a client, behind one seam; see net_client.h.
 *
 * Shape: one LWS context without listeners on the caller's libuv loop (a
 * foreign loop, so the caller's timers share it), two protocols: one for
 * WebSocket connections, one for one-shot HTTP requests. LWS's retry and idle
 * policy is zeroed on the context and on every connection: its validity
 * timers keep a sorted list whose insertion cost grows with the number of
 * connections, which is exactly what a 20,000-station simulator must avoid.
 *
 * Each connection carries a net_client_conn_t as LWS's opaque user data. The
 * one rule that keeps ownership simple: the first of CLIENT_CONNECTION_ERROR,
 * CLIENT_CLOSED or WSI_DESTROY reports the end (once) and frees the conn;
 * later callbacks find no user data and do nothing.
 *
 * TLS session resumption without LWS's own (LWS_WITH_TLS_SESSIONS is not in
 * Debian's 4.1 build): LWS hands us its client SSL_CTX once
 * (LOAD_EXTRA_CLIENT_VERIFY_CERTS), where we turn on the client session
 * cache with no internal store, so OpenSSL gives every new session to a
 * callback, and set an info callback. LWS has no hook between SSL_new and
 * SSL_connect, but OpenSSL calls the info callback with HANDSHAKE_START
 * before it builds the ClientHello: that is where the station's saved
 * session is set. Both callbacks get only the SSL, so connections are found
 * by socket descriptor (a table indexed by fd; the conn being started inside
 * lws_client_connect_via_info is found directly) and checked against
 * lws_get_ssl() of their wsi, so a stale or reused descriptor never matches.
 */
#include "net/net_client.h"

#include "net/net_wbuf.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <uv.h>

#define WS_PROTOCOL "ampgrid-sim-ws"
#define HTTP_PROTOCOL "ampgrid-sim-http"

typedef struct outmsg {
    struct outmsg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE headroom, then the payload */
} outmsg_t;

struct net_client {
    uv_loop_t *loop;
    struct lws_context *ctx;
    net_client_config_t cfg;
    net_client_callbacks_t cbs;
    net_client_stats_t stats;
    struct lws_protocols protocols[3];
    net_client_conn_t *conns;  /* every live conn, for shutdown */
    net_client_conn_t **by_fd; /* ws conns by socket descriptor, for the TLS callbacks */
    size_t by_fd_cap;
    net_client_conn_t *starting; /* inside lws_client_connect_via_info */
    net_wbuf_t wbuf; /* a message written at once (send_now) */
    uint64_t mask_state; /* the frames' masking keys (next_mask) */
    bool destroying;
};

/* LWS may call either protocol's callback for a wsi that is not bound yet
 * (a connection error reaches protocols[0]), so both kinds of user data
 * start with a tag saying which they are. */
enum { TAG_WS = 0x57535753, TAG_HTTP = 0x48545450 };

struct net_client_conn {
    uint32_t tag; /* TAG_WS */
    net_client_t *n;
    struct lws *wsi;
    net_client_conn_t *prev, *next;
    void *user;
    bool open, closing, drop, in_connect, failed_in_connect;
    int close_code, peer_close_code;
    char close_reason[64];
    char subprotocol[32];
    char auth[200]; /* "Basic ..." header value, "" = none */
    int fd;         /* in n->by_fd, -1 = not */
    net_client_tls_session_t **tls_session;
    outmsg_t *out_head, *out_tail;
    size_t out_bytes;
    char *rx;
    size_t rx_len, rx_cap;
    char err[160];
};

typedef struct http_req {
    uint32_t tag; /* TAG_HTTP */
    net_client_t *n;
    net_client_http_cb cb;
    void *ud;
    char *body; /* LWS_PRE headroom, then the request body */
    size_t body_len;
    char bearer[200], content_type[64];
    int status;
    bool done, in_connect, failed, wsi_gone;
    strbuf_t resp;
} http_req_t;

static const lws_retry_bo_t no_idle_policy = {0};

/* ---------------------------------------------------------------- conns */

static void conn_link(net_client_t *n, net_client_conn_t *c)
{
    c->next = n->conns;
    if (n->conns) n->conns->prev = c;
    n->conns = c;
}

static void conn_unindex(net_client_t *n, net_client_conn_t *c)
{
    if (c->fd >= 0 && (size_t)c->fd < n->by_fd_cap && n->by_fd[c->fd] == c) n->by_fd[c->fd] = NULL;
    c->fd = -1;
}

static void conn_index(net_client_t *n, net_client_conn_t *c, int fd)
{
    if (fd < 0) return;
    if ((size_t)fd >= n->by_fd_cap) {
        size_t cap = n->by_fd_cap ? n->by_fd_cap : 1024;
        while (cap <= (size_t)fd)
            cap *= 2;
        n->by_fd = xrealloc(n->by_fd, cap * sizeof *n->by_fd);
        memset(n->by_fd + n->by_fd_cap, 0, (cap - n->by_fd_cap) * sizeof *n->by_fd);
        n->by_fd_cap = cap;
    }
    n->by_fd[fd] = c;
    c->fd = fd;
}

static void conn_unlink(net_client_t *n, net_client_conn_t *c)
{
    conn_unindex(n, c);
    if (c->prev)
        c->prev->next = c->next;
    else if (n->conns == c)
        n->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void conn_free(net_client_conn_t *c)
{
    outmsg_t *m = c->out_head;
    while (m) {
        outmsg_t *next = m->next;
        free(m);
        m = next;
    }
    free(c->rx);
    explicit_bzero(c->auth, sizeof c->auth);
    free(c);
}

/* Reports the end once and frees c; the wsi forgets it. */
static void conn_end(net_client_conn_t *c, struct lws *wsi, net_client_close_info_t *info)
{
    net_client_t *n = c->n;
    if (wsi) lws_set_opaque_user_data(wsi, NULL);
    conn_unlink(n, c);
    if (c->open)
        n->stats.open_now--;
    else
        n->stats.connecting_now--;
    n->stats.closed++;
    if (n->destroying) info->end = NET_CLIENT_END_SHUTDOWN;
    info->was_open = c->open;
    if (!info->detail) info->detail = "";
    c->wsi = NULL;
    n->cbs.ws_close(n->cbs.ud, c, info);
    conn_free(c);
}

/* A frame's masking key: xorshift64*, seeded from the kernel's random source.
 * RFC 6455 asks for keys a page's script cannot predict, against proxies that
 * a browser's frames could poison; a load generator has no page in it. */
static uint32_t next_mask(net_client_t *n)
{
    uint64_t x = n->mask_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    n->mask_state = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

/* Writes a message now when nothing is pending, as the server does (see
 * send_now in net.c): no WRITEABLE round trip, no epoll_ctl per message. */
static bool send_now(net_client_conn_t *c, const char *data, size_t len)
{
    net_client_t *n = c->n;
    if (c->out_head || lws_partial_buffered(c->wsi)) return false;
    n->stats.bytes_out += len;
    n->stats.msgs_out++;
    if (net_wbuf_write_client(&n->wbuf, c->wsi, data, len, next_mask(n)) < 0) {
        c->closing = true; /* the socket failed: LWS closes it on its next pass */
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    }
    return true;
}

bool net_client_send(net_client_conn_t *c, const char *data, size_t len)
{
    if (!c->open || c->closing || !c->wsi) return false;
    if (send_now(c, data, len)) return true;
    outmsg_t *m = xmalloc(sizeof *m + LWS_PRE + len);
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, data, len);
    if (c->out_tail)
        c->out_tail->next = m;
    else
        c->out_head = m;
    c->out_tail = m;
    c->out_bytes += len;
    lws_callback_on_writable(c->wsi);
    return true;
}

void net_client_close(net_client_conn_t *c, int code, const char *reason)
{
    if (c->closing || !c->wsi) return;
    c->closing = true;
    c->close_code = code;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason ? reason : "");
    if (code == 0 || !c->open) {
        /* A network failure as a station sees one: no Close frame. Shutting
         * an open link's socket down makes LWS see the hang-up and close the
         * wsi on its next pass. A link still connecting may have no
         * connected socket to shut down, so LWS is told to kill it; not so
         * for open links: LWS 4.1 keeps timeouts in one sorted list and
         * inserting walks it, so a storm's 19,500 drops cost 19,500^2/2
         * steps of that walk (measured: the drop took most of a second). */
        c->drop = true;
        int fd = (int)lws_get_socket_fd(c->wsi);
        if (fd >= 0) shutdown(fd, SHUT_RDWR);
        if (fd < 0 || !c->open) lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    }
    lws_callback_on_writable(c->wsi);
}

void *net_client_conn_user(const net_client_conn_t *c)
{
    return c->user;
}

void net_client_conn_set_user(net_client_conn_t *c, void *user)
{
    c->user = user;
}

bool net_client_conn_open(const net_client_conn_t *c)
{
    return c->open && !c->closing;
}

const char *net_client_conn_subprotocol(const net_client_conn_t *c)
{
    return c->subprotocol;
}

size_t net_client_conn_queued(const net_client_conn_t *c)
{
    return c->out_bytes;
}

const net_client_stats_t *net_client_stats(const net_client_t *n)
{
    return &n->stats;
}

/* ---------------------------------------------------------- TLS sessions */

static int ctx_ex_index = -1; /* SSL_CTX ex data: its net_client_t */

void net_client_tls_session_free(net_client_tls_session_t *s)
{
    SSL_SESSION_free((SSL_SESSION *)s);
}

static net_client_t *client_of_ssl(const SSL *ssl)
{
    return ctx_ex_index < 0 ? NULL : SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_ex_index);
}

/* The ws conn whose wsi owns ssl, or NULL (an HTTP request, an ended conn). */
static net_client_conn_t *conn_of_ssl(net_client_t *n, const SSL *ssl)
{
    net_client_conn_t *c = n->starting;
    if (!c || !c->wsi || lws_get_ssl(c->wsi) != ssl) {
        int fd = SSL_get_fd(ssl);
        c = fd >= 0 && (size_t)fd < n->by_fd_cap ? n->by_fd[fd] : NULL;
    }
    return c && c->wsi && lws_get_ssl(c->wsi) == ssl ? c : NULL;
}

static void tls_info_cb(const SSL *ssl, int where, int ret)
{
    (void)ret;
    net_client_t *n = client_of_ssl(ssl);
    if (!n) return;
    if (where & SSL_CB_HANDSHAKE_DONE) {
        if (SSL_session_reused((SSL *)ssl))
            n->stats.tls_resumed++;
        else
            n->stats.tls_full++;
        return;
    }
    if (!(where & SSL_CB_HANDSHAKE_START)) return;
    net_client_conn_t *c = conn_of_ssl(n, ssl);
    if (!c || !c->tls_session || !*c->tls_session) return;
    /* OpenSSL reads the session when it builds the ClientHello, right after
     * this callback; the const is OpenSSL's callback signature, not a
     * promise (SSL_set_session only swaps the SSL's session reference). */
    SSL_set_session((SSL *)ssl, (SSL_SESSION *)*c->tls_session);
}

/* OpenSSL has a new session for ssl (TLS 1.3: each ticket the server sends
 * after the handshake). Saved as a copy: when a connection ends without a
 * close_notify (every dropped link in a storm), SSL_free marks the SSL's own
 * session object not resumable. That is TLS 1.2's rule; TLS 1.3 dropped it
 * (RFC 8446, 6.1), and real stations keep their tickets. Returns 0: OpenSSL
 * keeps its reference. */
static int tls_new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
    net_client_t *n = client_of_ssl(ssl);
    net_client_conn_t *c = n ? conn_of_ssl(n, ssl) : NULL;
    if (!c || !c->tls_session) return 0;
    SSL_SESSION *copy = SSL_SESSION_dup(sess);
    if (!copy) return 0;
    SSL_SESSION_free((SSL_SESSION *)*c->tls_session);
    *c->tls_session = (net_client_tls_session_t *)copy;
    return 0;
}

/* LWS's client SSL_CTX, once, before any connection uses it. */
static int setup_client_ctx(net_client_t *n, SSL_CTX *ctx)
{
    if (!ctx) return 0;
    if (ctx_ex_index < 0) ctx_ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    if (ctx_ex_index < 0 || !SSL_CTX_set_ex_data(ctx, ctx_ex_index, n)) return 1;
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, tls_new_session_cb);
    SSL_CTX_set_info_callback(ctx, tls_info_cb);
    /* Insecure without a CA file: no CA store at all. The default one looks
     * an unknown issuer up by listing the system's certificate directory
     * (OpenSSL 3's "store" lookup: a readdir and 8 stats per full handshake,
     * measured with perf), only for LWS to accept the error anyway. */
    if (n->cfg.insecure && !n->cfg.ca_file) {
        X509_STORE *empty = X509_STORE_new();
        if (!empty) return 1;
        SSL_CTX_set_cert_store(ctx, empty);
    }
    return 0;
}

/* --------------------------------------------------------- ws callbacks */

static int append_auth(net_client_conn_t *c, struct lws *wsi, unsigned char **p, size_t len)
{
    if (!c->auth[0]) return 0;
    unsigned char *end = *p + len - 1;
    return lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
                                        (const unsigned char *)c->auth, (int)strlen(c->auth), p,
                                        end);
}

static void on_connection_error(net_client_conn_t *c, struct lws *wsi, const char *why)
{
    net_client_close_info_t info = {.end = NET_CLIENT_END_CONNECT_FAILED, .detail = why};
    int status = (int)lws_http_client_http_response(wsi);
    if (status > 0 && status != 101) {
        char ra[16];
        info.end = NET_CLIENT_END_REFUSED;
        info.http_status = status;
        if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_RETRY_AFTER) > 0 &&
            lws_hdr_copy(wsi, ra, sizeof ra, WSI_TOKEN_HTTP_RETRY_AFTER) > 0)
            info.retry_after = atoi(ra);
        c->n->stats.refused++;
    } else {
        c->n->stats.connect_failed++;
    }
    if (c->drop && !c->n->destroying) info.end = NET_CLIENT_END_LOCAL_CLOSED;
    if (c->in_connect) {
        /* Failed inside lws_client_connect_via_info: the caller hears it
         * from the NULL return, not from a callback. */
        snprintf(c->err, sizeof c->err, "%s", why);
        c->failed_in_connect = true;
        lws_set_opaque_user_data(wsi, NULL);
        c->wsi = NULL;
        return;
    }
    conn_end(c, wsi, &info);
}

static void on_established(net_client_conn_t *c, struct lws *wsi)
{
    net_client_t *n = c->n;
    c->open = true;
    n->stats.connecting_now--;
    n->stats.open_now++;
    n->stats.opened++;
    if (c->closing) { /* closed while connecting: finish the close now */
        c->closing = false;
        net_client_close(c, 0, c->close_reason);
        return;
    }
    n->cbs.ws_open(n->cbs.ud, c);
}

static int on_receive(net_client_conn_t *c, struct lws *wsi, const char *in, size_t len)
{
    net_client_t *n = c->n;
    if (c->closing) return 0;
    n->stats.bytes_in += len;
    if (c->rx_len + len > n->cfg.max_message) {
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)"too large", 9);
        return -1;
    }
    bool complete = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
    if (complete && c->rx_len == 0) {
        n->stats.msgs_in++;
        n->cbs.ws_message(n->cbs.ud, c, in, len);
        return 0;
    }
    if (c->rx_len + len + 1 > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 1024;
        while (cap < c->rx_len + len + 1)
            cap *= 2;
        c->rx = xrealloc(c->rx, cap);
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!complete) return 0;
    c->rx[c->rx_len] = '\0';
    size_t total = c->rx_len;
    c->rx_len = 0;
    n->stats.msgs_in++;
    n->cbs.ws_message(n->cbs.ud, c, c->rx, total);
    return 0;
}

static int on_writeable(net_client_conn_t *c, struct lws *wsi)
{
    if (c->drop) return 0;
    outmsg_t *m = c->out_head;
    if (!m && c->closing) {
        /* Queued messages went out first (an answer before a reboot); now
         * start LWS's own close, which sends this code and reason. */
        lws_close_reason(wsi, (enum lws_close_status)c->close_code,
                         (unsigned char *)c->close_reason, strlen(c->close_reason));
        lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_SYNC);
        return 0;
    }
    if (!m) return 0;
    c->out_head = m->next;
    if (!c->out_head) c->out_tail = NULL;
    c->out_bytes -= m->len;
    int r = net_wbuf_write_client_at(wsi, m->buf + LWS_PRE, m->len, next_mask(c->n));
    c->n->stats.bytes_out += m->len;
    c->n->stats.msgs_out++;
    free(m);
    if (r < 0) return -1;
    if (c->out_head || c->closing) lws_callback_on_writable(wsi);
    return 0;
}

static void on_closed(net_client_conn_t *c, struct lws *wsi)
{
    net_client_close_info_t info = {.end = NET_CLIENT_END_PEER_CLOSED,
                                    .close_code = c->peer_close_code};
    if (c->closing) {
        info.end = NET_CLIENT_END_LOCAL_CLOSED;
        info.close_code = c->close_code;
    }
    info.detail = c->peer_close_code ? "closed by the server" : "connection ended";
    if (c->closing) info.detail = "closed by us";
    conn_end(c, wsi, &info);
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len);

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    if (reason == LWS_CALLBACK_OPENSSL_LOAD_EXTRA_CLIENT_VERIFY_CERTS)
        return setup_client_ctx(lws_context_user(lws_get_context(wsi)), user);
    net_client_conn_t *c = lws_get_opaque_user_data(wsi);
    if (!c) return lws_callback_http_dummy(wsi, reason, user, in, len);
    if (c->tag == TAG_HTTP) return http_callback(wsi, reason, user, in, len);

    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return append_auth(c, wsi, (unsigned char **)in, len);
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        on_connection_error(c, wsi, in && len ? (const char *)in : "connection failed");
        return 0;
    case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
        /* the last moment the upgrade's headers are readable */
        if (lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) > 0)
            lws_hdr_copy(wsi, c->subprotocol, sizeof c->subprotocol, WSI_TOKEN_PROTOCOL);
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        on_established(c, wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return on_receive(c, wsi, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writeable(c, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (in && len >= 2) {
            const unsigned char *b = in;
            c->peer_close_code = (b[0] << 8) | b[1];
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        on_closed(c, wsi);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY: {
        /* The catch-all: a wsi that went away without any other report. */
        net_client_close_info_t info = {.end = c->closing ? NET_CLIENT_END_LOCAL_CLOSED
                                                          : NET_CLIENT_END_CONNECT_FAILED,
                                        .detail = "connection abandoned"};
        if (c->in_connect) {
            c->failed_in_connect = true;
            snprintf(c->err, sizeof c->err, "connection abandoned");
            lws_set_opaque_user_data(wsi, NULL);
            c->wsi = NULL;
            return 0;
        }
        if (!c->open) c->n->stats.connect_failed++;
        conn_end(c, wsi, &info);
        return 0;
    }
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

net_client_conn_t *net_client_ws_connect(net_client_t *n, const net_client_ws_params_t *p,
                                         char *err, size_t err_len)
{
    if (n->destroying) {
        snprintf(err, err_len, "shutting down");
        return NULL;
    }
    net_client_conn_t *c = xcalloc(1, sizeof *c);
    c->tag = TAG_WS;
    c->n = n;
    c->user = p->user;
    c->fd = -1;
    c->tls_session = p->tls ? p->tls_session : NULL;
    if (p->basic_user) {
        char raw[160];
        int rl =
            snprintf(raw, sizeof raw, "%s:%s", p->basic_user, p->basic_pass ? p->basic_pass : "");
        if (rl < 0 || (size_t)rl >= sizeof raw) {
            snprintf(err, err_len, "Basic credentials too long");
            free(c);
            return NULL;
        }
        memcpy(c->auth, "Basic ", 6);
        lws_b64_encode_string(raw, rl, c->auth + 6, (int)sizeof c->auth - 6);
        explicit_bzero(raw, sizeof raw);
    }
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = n->ctx;
    i.address = p->host;
    i.port = p->port;
    i.path = p->path;
    i.host = p->host;
    i.origin = p->host;
    i.protocol = p->subprotocols;
    i.local_protocol_name = WS_PROTOCOL;
    if (p->tls) {
        i.ssl_connection = LCCSCF_USE_SSL;
        if (n->cfg.insecure)
            i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                                LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
    }
    i.iface = p->source_addr && *p->source_addr ? p->source_addr : NULL;
    i.opaque_user_data = c;
    i.retry_and_idle_policy = &no_idle_policy;
    i.pwsi = &c->wsi;

    conn_link(n, c);
    n->stats.connects++;
    n->stats.connecting_now++;
    c->in_connect = true;
    n->starting = c;
    struct lws *w = lws_client_connect_via_info(&i);
    n->starting = NULL;
    c->in_connect = false;
    if (!w || c->failed_in_connect) {
        snprintf(err, err_len, "%s", c->failed_in_connect ? c->err : "cannot start the connection");
        if (w && c->wsi) lws_set_opaque_user_data(w, NULL);
        conn_unlink(n, c);
        n->stats.connecting_now--;
        n->stats.connect_failed++;
        conn_free(c);
        return NULL;
    }
    c->wsi = w;
    conn_index(n, c, (int)lws_get_socket_fd(w));
    return c;
}

/* ---------------------------------------------------------------- HTTP */

static void http_finish(http_req_t *r, const char *err)
{
    if (r->in_connect) {
        r->failed = true;
        return;
    }
    if (r->done) return;
    r->done = true;
    r->cb(r->ud, err ? 0 : r->status, r->resp.data ? r->resp.data : "", r->resp.len, err);
}

static void http_free(http_req_t *r)
{
    free(r->body);
    strbuf_free(&r->resp);
    explicit_bzero(r->bearer, sizeof r->bearer);
    free(r);
}

static int http_headers(http_req_t *r, struct lws *wsi, unsigned char **p, size_t len)
{
    unsigned char *end = *p + len - 1;
    if (r->bearer[0] && lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_AUTHORIZATION,
                                                     (const unsigned char *)r->bearer,
                                                     (int)strlen(r->bearer), p, end))
        return -1;
    if (!r->body) return 0;
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                     (const unsigned char *)r->content_type,
                                     (int)strlen(r->content_type), p, end) ||
        lws_add_http_header_content_length(wsi, r->body_len, p, end))
        return -1;
    lws_client_http_body_pending(wsi, 1);
    lws_callback_on_writable(wsi);
    return 0;
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    http_req_t *r = lws_get_opaque_user_data(wsi);
    if (!r) return lws_callback_http_dummy(wsi, reason, user, in, len);
    if (r->tag == TAG_WS) return ws_callback(wsi, reason, user, in, len);

    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return http_headers(r, wsi, (unsigned char **)in, len);
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE:
        if (!r->body) return 0;
        lws_client_http_body_pending(wsi, 0);
        if (lws_write(wsi, (unsigned char *)r->body + LWS_PRE, r->body_len, LWS_WRITE_HTTP_FINAL) !=
            (int)r->body_len)
            return -1;
        return 0;
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        r->status = (int)lws_http_client_http_response(wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char buf[LWS_PRE + 2048];
        char *px = buf + LWS_PRE;
        int lenx = (int)sizeof buf - LWS_PRE;
        return lws_http_client_read(wsi, &px, &lenx) < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        strbuf_append(&r->resp, in, len);
        return 0;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        http_finish(r, NULL);
        /* One request per connection. Returning -1 here makes LWS 4.1 touch
         * the freed header table, so close from the next loop turn instead. */
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        http_finish(r, in && len ? (const char *)in : "connection failed");
        return 0;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        if (!r->done && r->status > 0) http_finish(r, NULL); /* body ended by close */
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        lws_set_opaque_user_data(wsi, NULL);
        http_finish(r, "connection closed before an answer");
        if (r->in_connect)
            r->wsi_gone = true; /* net_client_http frees it */
        else
            http_free(r);
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

int net_client_http(net_client_t *n, const net_client_http_params_t *p, net_client_http_cb cb,
                    void *ud)
{
    if (n->destroying) return -1;
    http_req_t *r = xcalloc(1, sizeof *r);
    r->tag = TAG_HTTP;
    r->n = n;
    r->cb = cb;
    r->ud = ud;
    if (p->bearer) snprintf(r->bearer, sizeof r->bearer, "Bearer %s", p->bearer);
    if (p->body) {
        r->body = xmalloc(LWS_PRE + p->body_len + 1);
        memcpy(r->body + LWS_PRE, p->body, p->body_len);
        r->body_len = p->body_len;
        snprintf(r->content_type, sizeof r->content_type, "%s",
                 p->content_type ? p->content_type : "application/json");
    }
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = n->ctx;
    i.address = p->host;
    i.port = p->port;
    i.path = p->path;
    i.host = p->host;
    i.origin = p->host;
    i.method = p->method;
    i.protocol = HTTP_PROTOCOL;
    i.local_protocol_name = HTTP_PROTOCOL;
    i.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
    if (p->tls) {
        i.ssl_connection |= LCCSCF_USE_SSL;
        if (n->cfg.insecure)
            i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                                LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
    }
    i.iface = p->source_addr && *p->source_addr ? p->source_addr : NULL;
    i.opaque_user_data = r;
    i.retry_and_idle_policy = &no_idle_policy;
    /* A failure inside the connect call is not reported through cb: the
     * caller hears it from the -1 (callbacks would re-enter the caller). */
    r->in_connect = true;
    struct lws *w = lws_client_connect_via_info(&i);
    r->in_connect = false;
    if (w && !r->failed) return 0;
    if (!w || r->wsi_gone) {
        http_free(r); /* no wsi refers to r any more */
    } else {
        r->done = true; /* the wsi dies later and frees r, silently */
    }
    return -1;
}

/* ----------------------------------------------------------- lifecycle */

static void lws_log_cb(int level, const char *line)
{
    char buf[512], q[600];
    snprintf(buf, sizeof buf, "%s", line);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    const char *msg = strstr(buf, "] ");
    msg = msg ? msg + 2 : buf;
    if (msg[0] && msg[1] == ':' && msg[2] == ' ') msg += 3;
    log_emit(level == LLL_ERR ? LOG_ERROR : LOG_WARN, "libwebsockets", "detail=%s",
             log_quote(msg, q, sizeof q));
}

net_client_t *net_client_create(uv_loop_t *loop, const net_client_config_t *cfg,
                                const net_client_callbacks_t *cbs, char *err, size_t err_len)
{
    net_client_t *n = xcalloc(1, sizeof *n);
    n->loop = loop;
    n->cfg = *cfg;
    n->cbs = *cbs;
    if (!n->cfg.max_message) n->cfg.max_message = 65536;
    if (n->cfg.connect_timeout <= 0) n->cfg.connect_timeout = 20;
    if (getrandom(&n->mask_state, sizeof n->mask_state, 0) != (ssize_t)sizeof n->mask_state ||
        !n->mask_state)
        n->mask_state = 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)n; /* never zero */
    n->protocols[0] = (struct lws_protocols){
        .name = WS_PROTOCOL, .callback = ws_callback, .rx_buffer_size = 2048};
    n->protocols[1] = (struct lws_protocols){.name = HTTP_PROTOCOL, .callback = http_callback};

    /* Only errors: a simulator provoking refusals would flood warnings. */
    lws_set_log_level(getenv("AMPGRID_SIM_LWS_DEBUG") ? 0x7ff : LLL_ERR, lws_log_cb);
    struct lws_context_creation_info ci;
    memset(&ci, 0, sizeof ci);
    void *loops[1] = {loop};
    ci.foreign_loops = loops;
    ci.port = CONTEXT_PORT_NO_LISTEN;
    ci.protocols = n->protocols;
    ci.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
                 LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_VALIDATE_UTF8;
    ci.fd_limit_per_thread = (unsigned)(cfg->fd_limit > 0 ? cfg->fd_limit : 4096);
    ci.retry_and_idle_policy = &no_idle_policy;
    ci.connect_timeout_secs = (unsigned)n->cfg.connect_timeout;
    ci.timeout_secs = (unsigned)n->cfg.connect_timeout;
    ci.client_ssl_ca_filepath = cfg->ca_file;
    ci.user = n;
    n->ctx = lws_create_context(&ci);
    if (!n->ctx) {
        snprintf(err, err_len, "cannot create the network client context");
        free(n);
        return NULL;
    }
    return n;
}

void net_client_destroy(net_client_t *n)
{
    if (n->destroying) return;
    n->destroying = true;
    lws_context_destroy(n->ctx);
}

void net_client_free(net_client_t *n)
{
    if (!n) return;
    /* With a foreign libuv loop, LWS 4.1 finishes destroying the context
     * (vhosts, client TLS context, tables) only when lws_context_destroy is
     * called again after the loop has run its handles down. */
    if (n->ctx) lws_context_destroy(n->ctx);
    n->ctx = NULL;
    /* Conns LWS never reported (should not happen): free them quietly. */
    while (n->conns) {
        net_client_conn_t *c = n->conns;
        conn_unlink(n, c);
        conn_free(c);
    }
    free(n->by_fd);
    net_wbuf_free(&n->wbuf);
    free(n);
}

uv_loop_t *net_client_loop(net_client_t *nc)
{
    return nc->loop;
}
