/*
 * libwebsockets behind one seam; see net.h.
 *
 * Shape: one LWS context on the caller's libuv loop (a "foreign" loop, so our
 * own timers and the store's wake-ups share it), with up to three vhosts: the
 * plain OCPP listener, the TLS OCPP listener and the HTTP API listener. One
 * callback serves every protocol; the vhost's user pointer says which listener
 * a wsi belongs to.
 *
 * LWS's own ping/idle timers are switched off (their set-up cost grows with the
 * number of connections); pings are driven by an O(1) timing wheel ticked once
 * a second. Incoming messages are reassembled here from small rx chunks up to a
 * hard maximum; outgoing ones are written at once when the connection has
 * nothing pending, else wait in a per-connection queue drained one message
 * per WRITEABLE callback.
 */
#include "net/net.h"

#include "net/http_range.h"
#include "net/net_wbuf.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/timewheel.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

enum listener_kind { L_OCPP, L_OCPP_TLS, L_HTTP };

#define NET_HANDSHAKES_AT_ONCE 512

typedef struct listener {
    net_t *net;
    enum listener_kind kind;
} listener_t;

typedef struct outmsg {
    struct outmsg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE headroom, then the payload */
} outmsg_t;

typedef struct outq {
    outmsg_t *head, *tail;
    size_t bytes;
} outq_t;

struct net {
    uv_loop_t *loop;
    struct lws_context *ctx;
    net_config_t cfg;
    net_callbacks_t cbs;
    listener_t listeners[3];
    struct lws_protocols *protocols; /* http + one per subprotocol + terminator */
    uv_timer_t tick;
    timewheel_t wheel;
    net_stats_t stats;
    char *tls_cert_ecdsa, *tls_key_ecdsa;
    net_wbuf_t wbuf; /* a message written at once (send_now) */
    bool destroying;
};

struct net_conn {
    net_t *net;
    struct lws *wsi;
    void *user;
    void *pending_user;
    /* Kept small: there is one per station (19,500 on one server). */
    bool established, closing, ping_due, ping_outstanding, tls;
    int close_code;
    char *close_reason;      /* set when closing */
    const char *subprotocol; /* a name in net->protocols */
    char peer[48];           /* an IPv6 address in text is at most 45 characters */
    char station_id[NET_STATION_ID_MAX + 1];
    outq_t out;
    char *rx; /* a message arriving in pieces; freed once complete */
    uint32_t rx_len, rx_cap;
    timewheel_entry_t ping_te;
    uint32_t last_rx, ping_sent_at; /* seconds of the loop's clock */
};

#define REQ_MAX_ARGS 24
#define REQ_MAX_HDRS 13
#define FILE_CHUNK 65536 /* bytes read and written per WRITEABLE of a file response */

enum req_state { REQ_READING, REQ_HANDLING, REQ_RESPONDING, REQ_STREAMING, REQ_FILE };

struct net_req {
    net_t *net;
    struct lws *wsi;
    enum req_state state;
    char method[8];
    char *path;
    int nargs;
    char *arg_names[REQ_MAX_ARGS], *arg_values[REQ_MAX_ARGS];
    char *hdr_values[REQ_MAX_HDRS];
    char *body;
    size_t body_len, content_length;
    bool body_too_big;
    size_t body_limit;       /* max_http_body, or what http_body set for a spooled body */
    /* a NET_BODY_FILE body */
    int spool_fd;            /* -1 when none is open */
    char *spool_path;
    uint64_t spool_len;
    bool spool_keep, spool_failed;
    crypto_hash_sha256_state spool_sha;
    char spool_hex[65];
    int reject_status;       /* refused before dispatch (bad framing), 0 = none */
    char reject_msg[200];
    bool close_after;        /* the connection cannot be trusted for another request */
    char peer[64];
    net_req_close_cb close_cb;
    void *close_ud;
    /* response */
    int status;
    char content_type[64];
    char *extra_headers;
    bool headers_sent, stream_ending;
    char *resp;
    size_t resp_len, resp_off;
    outq_t stream;
    /* a file response: bytes file_off..file_end (exclusive) of file_fd */
    int file_fd;
    uint64_t file_off, file_end;
};

/* Headers kept for handlers: index matches hdr_values. */
static const struct {
    const char *name;
    enum lws_token_indexes tok;
} kept_headers[REQ_MAX_HDRS] = {
    {"authorization", WSI_TOKEN_HTTP_AUTHORIZATION},
    {"content-type", WSI_TOKEN_HTTP_CONTENT_TYPE},
    {"accept", WSI_TOKEN_HTTP_ACCEPT},
    {"content-length", WSI_TOKEN_HTTP_CONTENT_LENGTH},
    {"if-match", WSI_TOKEN_HTTP_IF_MATCH},
    {"if-none-match", WSI_TOKEN_HTTP_IF_NONE_MATCH},
    {"origin", WSI_TOKEN_ORIGIN},
    {"host", WSI_TOKEN_HOST},
    {"cookie", WSI_TOKEN_HTTP_COOKIE},
    {"range", WSI_TOKEN_HTTP_RANGE},
    {"if-range", WSI_TOKEN_HTTP_IF_RANGE},
    {"last-event-id", WSI_TOKEN_COUNT}, /* custom headers, read by name */
    {"x-csrf-token", WSI_TOKEN_COUNT},
};

struct http_pss {
    net_req_t *req;
};

static uint64_t now_sec(net_t *n)
{
    return uv_now(n->loop) / 1000;
}

/* ---------------------------------------------------------------- queues */

static void outq_push(outq_t *q, const char *data, size_t len)
{
    outmsg_t *m = xmalloc(sizeof *m + LWS_PRE + len);
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, data, len);
    if (q->tail) q->tail->next = m;
    else q->head = m;
    q->tail = m;
    q->bytes += len;
}

static outmsg_t *outq_pop(outq_t *q)
{
    outmsg_t *m = q->head;
    if (!m) return NULL;
    q->head = m->next;
    if (!q->head) q->tail = NULL;
    q->bytes -= m->len;
    return m;
}

static void outq_clear(outq_t *q)
{
    outmsg_t *m;
    while ((m = outq_pop(q))) free(m);
}

/* ------------------------------------------------------------ WebSockets */

static void conn_free(net_conn_t *c)
{
    timewheel_remove(&c->net->wheel, &c->ping_te);
    outq_clear(&c->out);
    free(c->rx);
    free(c->close_reason);
    free(c);
}

/* Writes a message now: the socket almost always has room, and asking LWS
 * for a WRITEABLE callback first costs two epoll_ctl calls per message
 * (measured: 14 % of the event loop's time under a MeterValues load). What
 * the socket does not take, LWS keeps and sends before anything else; until
 * then (lws_partial_buffered) and while older messages wait in the queue,
 * new ones queue behind them. */
static bool send_now(net_conn_t *c, const char *data, size_t len)
{
    net_t *n = c->net;
    if (!c->established || c->out.head || lws_partial_buffered(c->wsi)) return false;
    if (net_wbuf_write(&n->wbuf, c->wsi, data, len) < 0) {
        /* the socket failed: LWS closes it on its next pass */
        c->closing = true;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    }
    return true;
}

bool net_conn_send(net_conn_t *c, const char *data, size_t len)
{
    if (c->closing || !c->wsi) return false;
    if (send_now(c, data, len)) return true;
    outq_push(&c->out, data, len);
    lws_callback_on_writable(c->wsi);
    return true;
}

void net_conn_close(net_conn_t *c, int code, const char *reason)
{
    if (c->closing || !c->wsi) return;
    c->closing = true;
    c->close_code = code;
    free(c->close_reason);
    /* a Close frame's reason is at most 123 bytes */
    c->close_reason = xstrndup(reason ? reason : "", 120);
    lws_callback_on_writable(c->wsi);
}

const char *net_conn_subprotocol(const net_conn_t *c)
{
    return c->subprotocol ? c->subprotocol : "";
}

/* The peer's address as people write it: a dual-stack listener sees IPv4
 * clients as ::ffff:a.b.c.d, which logs, audit entries, rate limits and
 * alerts show as a.b.c.d. */
static void peer_address(struct lws *wsi, char *out, size_t len)
{
    out[0] = '\0';
    lws_get_peer_simple(wsi, out, len);
    if (strncmp(out, "::ffff:", 7) == 0 && strchr(out + 7, '.'))
        memmove(out, out + 7, strlen(out + 7) + 1);
}

const char *net_conn_peer(const net_conn_t *c)
{
    return c->peer;
}

const char *net_conn_station_id(const net_conn_t *c)
{
    return c->station_id;
}

bool net_conn_tls(const net_conn_t *c)
{
    return c->tls;
}

void net_conn_set_user(net_conn_t *c, void *user)
{
    c->user = user;
}

void *net_conn_user(const net_conn_t *c)
{
    return c->user;
}

size_t net_conn_queued(const net_conn_t *c)
{
    return c->out.bytes;
}

/* Sends the ping now when nothing is queued ahead of it: asking LWS for a
 * WRITEABLE callback first costs four epoll_ctl calls and a loop pass. */
static int write_ping(struct lws *wsi)
{
    /* A non-empty payload: LWS does not pass zero-length pongs up. */
    unsigned char pb[LWS_PRE + 8];
    memcpy(pb + LWS_PRE, "ampgrid", 8);
    return lws_write(wsi, pb + LWS_PRE, 8, LWS_WRITE_PING);
}

static void send_ping(net_conn_t *c)
{
    if (c->out.head || lws_partial_buffered(c->wsi)) {
        c->ping_due = true;
        lws_callback_on_writable(c->wsi);
        return;
    }
    if (write_ping(c->wsi) < 0) {
        c->closing = true; /* the socket failed: LWS closes it on its next pass */
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    }
}

/* Silence means more than ping_interval whole seconds without a frame: the
 * clock counts whole seconds, so "at least ping_interval" would ping a station
 * whose heartbeat comes every ping_interval seconds just before each heartbeat
 * (measured: half of an idle network's frames were such pings). */
static void ping_cb(timewheel_entry_t *e)
{
    net_conn_t *c = (net_conn_t *)((char *)e - offsetof(net_conn_t, ping_te));
    net_t *n = c->net;
    uint64_t now = now_sec(n);
    uint64_t silence = (uint64_t)n->cfg.ping_interval + 1;
    if (c->closing) return;
    if (c->ping_outstanding && now - c->ping_sent_at >= (uint64_t)n->cfg.ping_timeout) {
        n->stats.ping_timeouts++;
        log_info("closing unresponsive connection", "peer=%s idle_s=%llu", c->peer,
                 (unsigned long long)(now - c->last_rx));
        net_conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "no answer to ping");
        return;
    }
    if (now - c->last_rx >= silence) {
        c->ping_outstanding = true;
        c->ping_sent_at = now;
        n->stats.pings_sent++;
        send_ping(c);
        /* +1: the wheel ticks whole seconds, so wait at least ping_timeout */
        timewheel_add(&n->wheel, &c->ping_te, now + (uint64_t)n->cfg.ping_timeout + 1, ping_cb);
    } else {
        timewheel_add(&n->wheel, &c->ping_te, c->last_rx + silence, ping_cb);
    }
}

static void tick_cb(uv_timer_t *t)
{
    net_t *n = t->data;
    timewheel_advance(&n->wheel, now_sec(n));
}

/* Writes a complete small HTTP response from inside an LWS callback (used to
 * refuse an upgrade). Returns 0 on success. */
static int write_refusal(struct lws *wsi, int status, const char *msg, bool www_auth,
                         int retry_after)
{
    unsigned char buf[LWS_PRE + 1024];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    char body[400], num[16];
    int blen = snprintf(body, sizeof body, "%s\n", msg);
    if (blen < 0 || (size_t)blen >= sizeof body) blen = (int)strlen(body);

    if (lws_add_http_header_status(wsi, (unsigned)status, &p, end)) return -1;
    if (www_auth &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_WWW_AUTHENTICATE,
                                     (const unsigned char *)"Basic realm=\"ampgrid\"", 21, &p, end))
        return -1;
    if (retry_after > 0) {
        int l = snprintf(num, sizeof num, "%d", retry_after);
        if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_RETRY_AFTER,
                                         (const unsigned char *)num, l, &p, end))
            return -1;
    }
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                     (const unsigned char *)"text/plain; charset=utf-8", 25, &p,
                                     end))
        return -1;
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5,
                                     &p, end))
        return -1;
    if (lws_add_http_header_content_length(wsi, (lws_filepos_t)blen, &p, end)) return -1;
    if (lws_finalize_http_header(wsi, &p, end)) return -1;
    if (end - p < blen) return -1;
    memcpy(p, body, (size_t)blen);
    p += blen;
    if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS) < 0) return -1;
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE, 5);
    return 0;
}

static void copy_hdr(struct lws *wsi, enum lws_token_indexes tok, char *dst, int len)
{
    dst[0] = '\0';
    if (lws_hdr_total_length(wsi, tok) > 0 && lws_hdr_copy(wsi, dst, len, tok) < 0) dst[0] = '\0';
}

static int on_confirm_upgrade(net_t *n, listener_t *l, struct lws *wsi)
{
    if (l->kind == L_HTTP) {
        write_refusal(wsi, 400, "WebSocket connections are served on the OCPP port, not the API port",
                      false, 0);
        return 1;
    }
    char path[256], proto[160], auth[400], decoded[300], peer[48];
    copy_hdr(wsi, WSI_TOKEN_GET_URI, path, sizeof path);
    copy_hdr(wsi, WSI_TOKEN_PROTOCOL, proto, sizeof proto);
    copy_hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, auth, sizeof auth);
    peer_address(wsi, peer, sizeof peer);

    net_upgrade_t up = {.path = path, .subprotocols = proto, .peer = peer,
                        .tls = l->kind == L_OCPP_TLS};
    for (char *p = path; *p; p++)
        if (*p == ' ') *p = '+'; /* LWS decodes '+' as a space; '+' is legal in ids */
    const char *prefix = "/ocpp/";
    up.station_id = strncmp(path, prefix, strlen(prefix)) == 0 ? path + strlen(prefix) : "";

    if (strncasecmp(auth, "Basic ", 6) == 0) {
        int dl = lws_b64_decode_string(auth + 6, decoded, sizeof decoded - 1);
        if (dl > 0) {
            decoded[dl] = '\0';
            char *colon = strchr(decoded, ':');
            if (colon && strlen(decoded) == (size_t)dl) {
                *colon = '\0';
                up.auth_user = decoded;
                up.auth_pass = colon + 1;
            }
        }
    }

    net_decision_t d = {0};
    n->cbs.ws_upgrade(n->cbs.ud, &up, &d);
    explicit_bzero(decoded, sizeof decoded); /* no password copies left behind */
    explicit_bzero(auth, sizeof auth);
    if (d.status != 0) {
        n->stats.ws_refused++;
        write_refusal(wsi, d.status, d.message, d.www_authenticate, d.retry_after);
        return 1;
    }
    net_conn_t *c = xcalloc(1, sizeof *c);
    c->net = n;
    c->pending_user = d.conn_user;
    c->tls = up.tls;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    snprintf(c->station_id, sizeof c->station_id, "%s", up.station_id);
    lws_set_opaque_user_data(wsi, c);
    return 0;
}

static void on_established(net_t *n, struct lws *wsi)
{
    net_conn_t *c = lws_get_opaque_user_data(wsi);
    if (!c) return;
    c->wsi = wsi;
    c->established = true;
    const struct lws_protocols *p = lws_get_protocol(wsi);
    c->subprotocol = p ? p->name : NULL;
    c->last_rx = now_sec(n);
    n->stats.ws_open++;
    n->stats.ws_current++;
    if (n->cfg.ping_interval > 0)
        timewheel_add(&n->wheel, &c->ping_te, c->last_rx + (uint64_t)n->cfg.ping_interval + 1,
                      ping_cb);
    void *u = c->pending_user;
    c->pending_user = NULL;
    n->cbs.ws_open(n->cbs.ud, c, u);
}

/* Refuses the connection from inside RECEIVE: LWS sends the Close frame with
 * this code and reason when the callback returns -1. */
static int refuse_rx(net_conn_t *c, struct lws *wsi, int code, const char *reason)
{
    c->closing = true;
    lws_close_reason(wsi, (enum lws_close_status)code, (unsigned char *)reason, strlen(reason));
    return -1;
}

static int on_receive(net_t *n, struct lws *wsi, const char *in, size_t len)
{
    net_conn_t *c = lws_get_opaque_user_data(wsi);
    if (!c) return 0;
    if (c->closing) return -1;
    c->last_rx = now_sec(n);
    c->ping_outstanding = false;
    if (lws_frame_is_binary(wsi)) {
        n->stats.ws_binary++;
        return refuse_rx(c, wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                         "binary frames are not allowed; OCPP-J uses text frames");
    }
    if (c->rx_len + len > n->cfg.max_message) {
        n->stats.ws_oversize++;
        log_warn("message too large", "peer=%s limit=%zu", c->peer, n->cfg.max_message);
        return refuse_rx(c, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
    }
    bool complete = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
    if (complete && c->rx_len == 0) {
        n->cbs.ws_message(n->cbs.ud, c, in, len);
        return 0;
    }
    if ((size_t)c->rx_len + len + 1 > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 2048;
        while (cap < (size_t)c->rx_len + len + 1) cap *= 2;
        c->rx = xrealloc(c->rx, cap);
        c->rx_cap = (uint32_t)cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += (uint32_t)len;
    if (!complete) return 0;
    c->rx[c->rx_len] = '\0';
    size_t total = c->rx_len;
    c->rx_len = 0;
    n->cbs.ws_message(n->cbs.ud, c, c->rx, total);
    /* Given back at once: most connections are idle most of the time. */
    free(c->rx);
    c->rx = NULL;
    c->rx_cap = 0;
    return 0;
}

static int on_ws_writeable(net_t *n, struct lws *wsi)
{
    net_conn_t *c = lws_get_opaque_user_data(wsi);
    if (!c) return 0;
    if (c->closing) {
        /* Returning -1 from WRITEABLE makes LWS treat the socket as failed and
         * drop it without a Close frame; start LWS's own close instead, which
         * sends the reason set here and waits for the peer's Close. */
        const char *why = c->close_reason ? c->close_reason : "";
        lws_close_reason(wsi, (enum lws_close_status)c->close_code, (unsigned char *)why,
                         strlen(why));
        lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_SYNC);
        return 0;
    }
    if (c->ping_due) {
        c->ping_due = false;
        if (write_ping(wsi) < 0) return -1;
        if (c->out.head) lws_callback_on_writable(wsi);
        return 0;
    }
    outmsg_t *m = outq_pop(&c->out);
    if (!m) return 0;
    int r = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
    free(m);
    if (r < 0) return -1;
    if (c->out.head) lws_callback_on_writable(wsi);
    return 0;
}

static void on_ws_closed(net_t *n, struct lws *wsi)
{
    net_conn_t *c = lws_get_opaque_user_data(wsi);
    if (!c) return;
    lws_set_opaque_user_data(wsi, NULL);
    if (c->established) {
        n->stats.ws_closed++;
        n->stats.ws_current--;
        c->wsi = NULL;
        n->cbs.ws_close(n->cbs.ud, c);
    }
    conn_free(c);
}

/* ------------------------------------------------------------------ HTTP */

static void req_free(net_req_t *r)
{
    free(r->path);
    for (int i = 0; i < r->nargs; i++) {
        free(r->arg_names[i]);
        free(r->arg_values[i]);
    }
    for (int i = 0; i < REQ_MAX_HDRS; i++) free(r->hdr_values[i]);
    free(r->body);
    free(r->extra_headers);
    free(r->resp);
    outq_clear(&r->stream);
    if (r->spool_fd >= 0) close(r->spool_fd);
    if (r->spool_path && !r->spool_keep) unlink(r->spool_path);
    free(r->spool_path);
    if (r->file_fd >= 0) close(r->file_fd);
    free(r);
}

const char *net_req_method(const net_req_t *r)
{
    return r->method;
}

const char *net_req_path(const net_req_t *r)
{
    return r->path;
}

const char *net_req_peer(const net_req_t *r)
{
    return r->peer;
}

const char *net_req_query(const net_req_t *r, const char *name)
{
    for (int i = 0; i < r->nargs; i++)
        if (strcmp(r->arg_names[i], name) == 0) return r->arg_values[i];
    return NULL;
}

const char *net_req_header(const net_req_t *r, const char *name)
{
    for (int i = 0; i < REQ_MAX_HDRS; i++)
        if (strcmp(kept_headers[i].name, name) == 0) return r->hdr_values[i];
    return NULL;
}

const char *net_req_body(const net_req_t *r, size_t *len)
{
    if (len) *len = r->body_len;
    return r->body ? r->body : "";
}

void net_req_on_close(net_req_t *r, net_req_close_cb cb, void *ud)
{
    r->close_cb = cb;
    r->close_ud = ud;
}

static void req_read_args(net_req_t *r, struct lws *wsi)
{
    char frag[1024];
    for (int i = 0;; i++) {
        int l = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (l <= 0) break;
        if (r->nargs == REQ_MAX_ARGS) {
            r->reject_status = 400;
            snprintf(r->reject_msg, sizeof r->reject_msg,
                     "too many query parameters (at most %d)", REQ_MAX_ARGS);
            break;
        }
        char *eq = strchr(frag, '=');
        if (eq) *eq = '\0';
        r->arg_names[r->nargs] = xstrdup(frag);
        r->arg_values[r->nargs] = xstrdup(eq ? eq + 1 : "");
        r->nargs++;
    }
}

static void req_read_headers(net_req_t *r, struct lws *wsi)
{
    for (int i = 0; i < REQ_MAX_HDRS; i++) {
        int len;
        if (kept_headers[i].tok == WSI_TOKEN_COUNT) {
            char name[32];
            int nl = snprintf(name, sizeof name, "%s:", kept_headers[i].name);
            len = lws_hdr_custom_length(wsi, name, nl);
            if (len <= 0 || len > 256) continue;
            r->hdr_values[i] = xmalloc((size_t)len + 1);
            if (lws_hdr_custom_copy(wsi, r->hdr_values[i], len + 1, name, nl) < 0) {
                free(r->hdr_values[i]);
                r->hdr_values[i] = NULL;
            }
            continue;
        }
        len = lws_hdr_total_length(wsi, kept_headers[i].tok);
        if (len <= 0) continue;
        r->hdr_values[i] = xmalloc((size_t)len + 1);
        if (lws_hdr_copy(wsi, r->hdr_values[i], len + 1, kept_headers[i].tok) < 0) {
            free(r->hdr_values[i]);
            r->hdr_values[i] = NULL;
        }
    }
}

static const struct {
    enum lws_token_indexes tok;
    const char *name;
} methods[] = {
    {WSI_TOKEN_GET_URI, "GET"},       {WSI_TOKEN_POST_URI, "POST"},
    {WSI_TOKEN_PATCH_URI, "PATCH"},   {WSI_TOKEN_PUT_URI, "PUT"},
    {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
    {WSI_TOKEN_HEAD_URI, "HEAD"},
};

static const char *status_title(int status)
{
    switch (status) {
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 503: return "Service Unavailable";
    default: return "Bad Request";
    }
}

static void req_dispatch(net_req_t *r)
{
    r->state = REQ_HANDLING;
    r->net->stats.http_requests++;
    if (r->reject_status) {
        char msg[400];
        r->close_after = true; /* whatever follows on this connection is suspect */
        snprintf(msg, sizeof msg,
                 "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%d,\"detail\":\"%s\"}",
                 status_title(r->reject_status), r->reject_status, r->reject_msg);
        net_req_respond(r, r->reject_status, "application/problem+json", msg, strlen(msg),
                        r->reject_status == 401
                            ? "WWW-Authenticate: Bearer realm=\"ampgrid\"\r\nConnection: close\r\n"
                            : "Connection: close\r\n");
        return;
    }
    if (r->body_too_big) {
        char msg[160];
        snprintf(msg, sizeof msg,
                 "{\"type\":\"about:blank\",\"title\":\"Payload Too Large\",\"status\":413,"
                 "\"detail\":\"request body exceeds %zu bytes\"}",
                 r->body_limit);
        net_req_respond(r, 413, "application/problem+json", msg, strlen(msg),
                        r->close_after ? "Connection: close\r\n" : NULL);
        return;
    }
    if (r->spool_failed) {
        static const char msg[] = "{\"type\":\"about:blank\",\"title\":\"Service Unavailable\","
                                  "\"status\":503,\"detail\":\"the upload could not be written "
                                  "to disk (full?); retry later\"}";
        r->close_after = true;
        net_req_respond(r, 503, "application/problem+json", msg, strlen(msg),
                        "Connection: close\r\n");
        return;
    }
    r->net->cbs.http_request(r->net->cbs.http_ud, r);
}

/* Refuses what would be misread downstream: LWS decodes the path before we
 * see it, so a %00 or %0d would silently cut it; duplicate or malformed
 * Content-Length and chunked bodies could desynchronise the connection. */
static void check_request(net_req_t *r, struct lws *wsi)
{
    int tok_len = 0;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (lws_hdr_total_length(wsi, methods[i].tok) > 0)
            tok_len = lws_hdr_total_length(wsi, methods[i].tok);
    bool ctrl = tok_len > 0 && strlen(r->path) != (size_t)tok_len;
    for (char *p = r->path; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) ctrl = true;
    if (ctrl && !r->reject_status) {
        r->reject_status = 400;
        snprintf(r->reject_msg, sizeof r->reject_msg,
                 "the request path contains a NUL or control character");
    }
    const char *cl = net_req_header(r, "content-length");
    if (cl) {
        size_t n = strlen(cl);
        bool digits = n > 0 && n < 16 && strspn(cl, "0123456789") == n;
        if (!digits) {
            r->reject_status = 400;
            r->close_after = true;
            snprintf(r->reject_msg, sizeof r->reject_msg,
                     "Content-Length must be one decimal number (sent once)");
        } else {
            r->content_length = strtoul(cl, NULL, 10);
        }
    }
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
        r->reject_status = 411;
        r->close_after = true;
        snprintf(r->reject_msg, sizeof r->reject_msg,
                 "send the body with a Content-Length; chunked transfer encoding is not supported");
    }
}

/* ------------------------------------------------------- spooled bodies */

static int write_headers(net_req_t *r, struct lws *wsi, lws_filepos_t content_len);

static int body_mode(net_t *n, net_req_t *r)
{
    int64_t limit = (int64_t)n->cfg.max_http_body;
    char msg[200] = "";
    int mode = n->cbs.http_body(n->cbs.http_ud, r, &limit, msg, sizeof msg);
    if (mode >= 400) {
        r->reject_status = mode;
        r->close_after = true; /* the body is not read */
        snprintf(r->reject_msg, sizeof r->reject_msg, "%.190s", msg[0] ? msg : "request refused");
        return NET_BODY_BUFFER;
    }
    if (mode == NET_BODY_FILE) {
        if (!n->cfg.spool_dir) return NET_BODY_BUFFER;
        r->body_limit = limit > 0 ? (size_t)limit : 0;
    }
    return mode;
}

static int spool_open(net_req_t *r)
{
    char path[600];
    snprintf(path, sizeof path, "%s/body-XXXXXX", r->net->cfg.spool_dir);
    r->spool_fd = mkostemp(path, O_CLOEXEC);
    if (r->spool_fd < 0) {
        log_error("cannot create an upload file", "dir=%s error=%s", r->net->cfg.spool_dir,
                  strerror(errno));
        return -1;
    }
    r->spool_path = xstrdup(path);
    crypto_hash_sha256_init(&r->spool_sha);
    return 0;
}

static void spool_write(net_req_t *r, const char *in, size_t len)
{
    if (r->spool_failed || r->body_too_big) return;
    if (r->spool_len + len > r->content_length) {
        r->body_too_big = true;
        return;
    }
    crypto_hash_sha256_update(&r->spool_sha, (const unsigned char *)in, len);
    while (len > 0) {
        ssize_t w = write(r->spool_fd, in, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            log_error("cannot write an upload file", "path=%s error=%s", r->spool_path,
                      strerror(errno));
            r->spool_failed = true;
            return;
        }
        in += w;
        len -= (size_t)w;
        r->spool_len += (uint64_t)w;
    }
}

static void spool_finish(net_req_t *r)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&r->spool_sha, digest);
    sodium_bin2hex(r->spool_hex, sizeof r->spool_hex, digest, sizeof digest);
    if (close(r->spool_fd) != 0) r->spool_failed = true;
    r->spool_fd = -1;
    if (r->spool_len != r->content_length) r->spool_failed = true;
}

const char *net_req_body_file(const net_req_t *r, uint64_t *size, const char **sha256_hex)
{
    if (size) *size = r->spool_len;
    if (sha256_hex) *sha256_hex = r->spool_hex;
    return r->spool_path;
}

void net_req_body_file_keep(net_req_t *r)
{
    r->spool_keep = true;
}

/* -------------------------------------------------------- file responses */

bool net_req_respond_file(net_req_t *r, const char *path, const char *content_type,
                          const char *etag, const char *extra_headers)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) return false;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return false;
    }
    uint64_t size = (uint64_t)st.st_size, first = 0, last = 0;
    char tag[100], hdrs[1024];
    if (etag) snprintf(tag, sizeof tag, "%s", etag);
    else snprintf(tag, sizeof tag, "\"%" PRIx64 "-%" PRIx64 "\"", size, (uint64_t)st.st_mtime);
    const char *range = net_req_header(r, "range"), *if_range = net_req_header(r, "if-range");
    if (if_range && strcmp(if_range, tag) != 0) range = NULL; /* changed since: send it all */
    http_range_result_t rr = http_range_parse(range, size, &first, &last);
    int hl = snprintf(hdrs, sizeof hdrs, "ETag: %s\r\nAccept-Ranges: bytes\r\n%s", tag,
                      extra_headers ? extra_headers : "");
    if (rr == HTTP_RANGE_UNSATISFIABLE) {
        close(fd);
        char body[200];
        snprintf(hdrs + hl, sizeof hdrs - (size_t)hl, "Content-Range: bytes */%" PRIu64 "\r\n",
                 size);
        int bl = snprintf(body, sizeof body,
                          "{\"type\":\"about:blank\",\"title\":\"Range Not Satisfiable\","
                          "\"status\":416,\"detail\":\"the file has %" PRIu64 " bytes\"}",
                          size);
        net_req_respond(r, 416, "application/problem+json", body, (size_t)bl, hdrs);
        return true;
    }
    r->status = 200;
    r->file_off = 0;
    r->file_end = size;
    if (rr == HTTP_RANGE_OK) {
        r->status = 206;
        r->file_off = first;
        r->file_end = last + 1;
        snprintf(hdrs + hl, sizeof hdrs - (size_t)hl,
                 "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64 "\r\n", first, last,
                 size);
    }
    r->file_fd = fd;
    snprintf(r->content_type, sizeof r->content_type, "%s",
             content_type ? content_type : "application/octet-stream");
    r->extra_headers = xstrdup(hdrs);
    r->resp = xmalloc(LWS_PRE + FILE_CHUNK);
    r->state = REQ_FILE;
    r->close_cb = NULL;
    lws_callback_on_writable(r->wsi);
    return true;
}

/* One chunk of a file response; 1 when the response is complete, -1 on error. */
static int write_file_chunk(net_req_t *r, struct lws *wsi)
{
    if (!r->headers_sent) {
        if (write_headers(r, wsi, r->file_end - r->file_off) < 0) return -1;
        if (strcmp(r->method, "HEAD") == 0 || r->file_off == r->file_end) return 1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    uint64_t left = r->file_end - r->file_off;
    size_t want = left < FILE_CHUNK ? (size_t)left : FILE_CHUNK;
    ssize_t got = pread(r->file_fd, r->resp + LWS_PRE, want, (off_t)r->file_off);
    if (got <= 0) {
        log_warn("file response cut short", "error=%s", got < 0 ? strerror(errno) : "truncated");
        return -1;
    }
    r->file_off += (uint64_t)got;
    bool last = r->file_off == r->file_end;
    if (lws_write(wsi, (unsigned char *)r->resp + LWS_PRE, (size_t)got,
                  last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < 0)
        return -1;
    if (last) return 1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int on_http(net_t *n, listener_t *l, struct lws *wsi, struct http_pss *pss, const char *uri)
{
    /* Stations download firmware and upload diagnostics on the OCPP ports too
     * (https on the TLS one); everything else HTTP is on the API port. */
    if (l->kind != L_HTTP && (!uri || strncmp(uri, "/transfers/", 11) != 0)) {
        write_refusal(wsi, 426, "this port speaks OCPP over WebSocket: connect to ws(s)://host:port/ocpp/{stationId}",
                      false, 0);
        return 0;
    }
    net_req_t *r = xcalloc(1, sizeof *r);
    r->net = n;
    r->wsi = wsi;
    r->spool_fd = r->file_fd = -1;
    r->body_limit = n->cfg.max_http_body;
    pss->req = r;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (lws_hdr_total_length(wsi, methods[i].tok) > 0) {
            snprintf(r->method, sizeof r->method, "%s", methods[i].name);
            break;
        }
    }
    r->path = xstrdup(uri ? uri : "/");
    peer_address(wsi, r->peer, sizeof r->peer);
    req_read_args(r, wsi);
    req_read_headers(r, wsi);
    check_request(r, wsi);
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    bool body_method = strcmp(r->method, "POST") == 0 || strcmp(r->method, "PATCH") == 0 ||
                       strcmp(r->method, "PUT") == 0;
    int mode = NET_BODY_BUFFER;
    if (body_method && !r->reject_status && n->cbs.http_body)
        mode = body_mode(n, r);
    if (r->reject_status) {
        req_dispatch(r);
        return 0;
    }
    if (r->content_length > r->body_limit) {
        r->body_too_big = true;
        if (mode == NET_BODY_FILE) r->close_after = true; /* do not read a huge body */
    }
    bool has_body = body_method && r->content_length > 0;
    if (mode == NET_BODY_FILE && !r->body_too_big) {
        if (spool_open(r) != 0) r->spool_failed = true;
        else if (has_body) return 0; /* wait for HTTP_BODY_COMPLETION */
        else spool_finish(r);
    } else if (has_body && !r->body_too_big) {
        r->body = xmalloc(r->content_length + 1);
        r->body[0] = '\0';
        return 0; /* wait for HTTP_BODY_COMPLETION */
    }
    req_dispatch(r);
    return 0;
}

static void on_http_body(net_req_t *r, const char *in, size_t len)
{
    if (r && r->state == REQ_READING && r->spool_fd >= 0) {
        spool_write(r, in, len);
        return;
    }
    if (!r || r->state != REQ_READING || !r->body) return;
    if (r->body_len + len > r->content_length) {
        r->body_too_big = true;
        return;
    }
    memcpy(r->body + r->body_len, in, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
}

void net_req_respond(net_req_t *r, int status, const char *content_type, const char *body,
                     size_t len, const char *extra_headers)
{
    r->status = status;
    snprintf(r->content_type, sizeof r->content_type, "%s", content_type ? content_type : "");
    r->extra_headers = extra_headers ? xstrdup(extra_headers) : NULL;
    r->resp = xmalloc(LWS_PRE + len + 1);
    memcpy(r->resp + LWS_PRE, body, len);
    r->resp_len = len;
    if (r->status == 204 || r->status == 304) r->resp_len = 0;
    r->state = REQ_RESPONDING;
    r->close_cb = NULL;
    lws_callback_on_writable(r->wsi);
}

void net_req_stream_start(net_req_t *r, int status, const char *content_type)
{
    r->status = status;
    snprintf(r->content_type, sizeof r->content_type, "%s", content_type);
    r->state = REQ_STREAMING;
    lws_callback_on_writable(r->wsi);
}

bool net_req_stream_write(net_req_t *r, const char *data, size_t len)
{
    if (r->state != REQ_STREAMING || r->stream_ending) return false;
    outq_push(&r->stream, data, len);
    lws_callback_on_writable(r->wsi);
    return true;
}

size_t net_req_stream_queued(const net_req_t *r)
{
    return r->stream.bytes;
}

void net_req_stream_end(net_req_t *r)
{
    r->stream_ending = true;
    r->close_cb = NULL;
    lws_callback_on_writable(r->wsi);
}

static int write_headers(net_req_t *r, struct lws *wsi, lws_filepos_t content_len)
{
    unsigned char buf[LWS_PRE + 2048];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (r->status == 204 || r->status == 304) {
        /* no body, so no Content-Type or Content-Length (RFC 9110) */
        if (lws_add_http_header_status(wsi, (unsigned)r->status, &p, end)) return -1;
    } else if (lws_add_http_common_headers(wsi, (unsigned)r->status, r->content_type, content_len,
                                           &p, end)) {
        return -1;
    }
    if (r->state == REQ_STREAMING) {
        if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
                                         (const unsigned char *)"no-cache", 8, &p, end))
            return -1;
    }
    if (r->extra_headers) {
        size_t el = strlen(r->extra_headers);
        if ((size_t)(end - p) < el + 4) return -1;
        memcpy(p, r->extra_headers, el);
        p += el;
    }
    if (lws_finalize_write_http_header(wsi, start, &p, end)) return -1;
    r->headers_sent = true;
    return 0;
}

/* Returns -1 to close the connection, 0 otherwise. */
static int on_http_writeable(struct lws *wsi, struct http_pss *pss)
{
    net_req_t *r = pss->req;
    if (!r) return 0;
    if (r->state == REQ_RESPONDING) {
        if (!r->headers_sent) {
            if (write_headers(r, wsi, r->resp_len) < 0) return -1;
            if (strcmp(r->method, "HEAD") == 0) r->resp_len = 0; /* headers only */
            if (r->resp_len > 0) {
                lws_callback_on_writable(wsi);
                return 0;
            }
        } else {
            size_t chunk = r->resp_len - r->resp_off;
            if (chunk > 16384) chunk = 16384;
            bool last = r->resp_off + chunk == r->resp_len;
            if (lws_write(wsi, (unsigned char *)r->resp + LWS_PRE + r->resp_off, chunk,
                          last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < 0)
                return -1;
            r->resp_off += chunk;
            if (!last) {
                /* keep LWS_PRE headroom valid: move the remainder to the front */
                memmove(r->resp + LWS_PRE, r->resp + LWS_PRE + r->resp_off,
                        r->resp_len - r->resp_off);
                r->resp_len -= r->resp_off;
                r->resp_off = 0;
                lws_callback_on_writable(wsi);
                return 0;
            }
        }
        bool close = r->close_after;
        req_free(r);
        pss->req = NULL;
        if (close) return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    if (r->state == REQ_FILE) {
        int w = write_file_chunk(r, wsi);
        if (w <= 0) return w;
        bool close = r->close_after;
        req_free(r);
        pss->req = NULL;
        if (close) return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    if (r->state == REQ_STREAMING) {
        if (!r->headers_sent) {
            if (write_headers(r, wsi, LWS_ILLEGAL_HTTP_CONTENT_LEN) < 0) return -1;
            if (r->stream.head || r->stream_ending) lws_callback_on_writable(wsi);
            return 0;
        }
        outmsg_t *m = outq_pop(&r->stream);
        if (m) {
            int w = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_HTTP);
            free(m);
            if (w < 0) return -1;
        }
        if (r->stream.head) lws_callback_on_writable(wsi);
        else if (r->stream_ending) return -1;
    }
    return 0;
}

static void on_http_closed(struct http_pss *pss)
{
    net_req_t *r = pss ? pss->req : NULL;
    if (!r) return;
    pss->req = NULL;
    if (r->close_cb) r->close_cb(r, r->close_ud);
    req_free(r);
}

/* -------------------------------------------------------------- dispatch */

static int load_extra_certs(net_t *n, SSL_CTX *ssl)
{
    SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION);
    /* An idle station's connection then holds no 16 KiB read/write buffers:
     * OpenSSL allocates them per record and frees them when drained. */
    SSL_CTX_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
    /* Session resumption, so a reconnect storm is not one full handshake
     * (a signature here, a certificate check on the station) per station:
     * TLS 1.3 stateless tickets (OpenSSL's default; the key is random per
     * process, so a restart invalidates every ticket), one per handshake
     * instead of two, and for TLS 1.2 stations without tickets a session
     * cache sized for every connection. Lifetime: OpenSSL's 2 hours. */
    SSL_CTX_clear_options(ssl, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ssl, 1);
    SSL_CTX_set_session_cache_mode(ssl, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ssl, n->cfg.fd_limit > 20480 ? n->cfg.fd_limit : 20480);
    if (!n->tls_cert_ecdsa) return 0;
    if (SSL_CTX_use_certificate_chain_file(ssl, n->tls_cert_ecdsa) != 1 ||
        SSL_CTX_use_PrivateKey_file(ssl, n->tls_key_ecdsa, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ssl) != 1) {
        log_error("cannot load the ECDSA certificate or key", "cert=%s key=%s",
                  n->tls_cert_ecdsa, n->tls_key_ecdsa);
        return 1;
    }
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct lws_vhost *vh = lws_get_vhost(wsi);
    listener_t *l = vh ? lws_vhost_user(vh) : NULL;
    if (!l) return lws_callback_http_dummy(wsi, reason, user, in, len);
    net_t *n = l->net;

    switch (reason) {
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
        return load_extra_certs(n, (SSL_CTX *)user);
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return on_confirm_upgrade(n, l, wsi);
    case LWS_CALLBACK_ESTABLISHED:
        on_established(n, wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        return on_receive(n, wsi, in, len);
    case LWS_CALLBACK_RECEIVE_PONG: {
        net_conn_t *c = lws_get_opaque_user_data(wsi);
        if (c) {
            c->last_rx = now_sec(n);
            c->ping_outstanding = false;
        }
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_ws_writeable(n, wsi);
    case LWS_CALLBACK_CLOSED:
        on_ws_closed(n, wsi);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY: {
        net_conn_t *c = lws_get_opaque_user_data(wsi);
        if (c && !c->established) {
            lws_set_opaque_user_data(wsi, NULL);
            conn_free(c);
        }
        break;
    }
    case LWS_CALLBACK_HTTP:
        return on_http(n, l, wsi, user, in);
    case LWS_CALLBACK_HTTP_BODY:
        on_http_body(user ? ((struct http_pss *)user)->req : NULL, in, len);
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: {
        struct http_pss *pss = user;
        if (pss && pss->req && pss->req->state == REQ_READING) {
            if (pss->req->spool_fd >= 0) spool_finish(pss->req);
            req_dispatch(pss->req);
        }
        return 0;
    }
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_http_writeable(wsi, user);
    case LWS_CALLBACK_CLOSED_HTTP:
        on_http_closed(user);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ------------------------------------------------------------- lifecycle */

static const lws_retry_bo_t no_idle_policy = {0};

/* LWS's own messages, as logfmt lines like everything else. */
static void lws_log_cb(int level, const char *line)
{
    char buf[512], q[600];
    snprintf(buf, sizeof buf, "%s", line);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
    /* LWS prefixes "[date] E: "; keep only the message */
    const char *msg = strstr(buf, "] ");
    msg = msg ? msg + 2 : buf;
    if (msg[0] && msg[1] == ':' && msg[2] == ' ') msg += 3;
    log_emit(level == LLL_ERR ? LOG_ERROR : LOG_WARN, "libwebsockets", "detail=%s",
             log_quote(msg, q, sizeof q));
}

static struct lws_vhost *make_vhost(net_t *n, listener_t *l, const char *name, int port,
                                    char *err, size_t err_len)
{
    struct lws_context_creation_info vi;
    memset(&vi, 0, sizeof vi);
    vi.vhost_name = name;
    vi.port = port;
    vi.iface = n->cfg.bind && *n->cfg.bind ? n->cfg.bind : NULL;
    vi.protocols = n->protocols;
    vi.user = l;
    vi.retry_and_idle_policy = &no_idle_policy;
    vi.keepalive_timeout = 60;
    if (l->kind == L_OCPP_TLS) {
        vi.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        vi.ssl_cert_filepath = n->cfg.tls_cert_rsa ? n->cfg.tls_cert_rsa : n->cfg.tls_cert_ecdsa;
        vi.ssl_private_key_filepath =
            n->cfg.tls_cert_rsa ? n->cfg.tls_key_rsa : n->cfg.tls_key_ecdsa;
        vi.ssl_cipher_list = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                             "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
                             "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
        vi.ssl_options_set = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
    }
    struct lws_vhost *vh = lws_create_vhost(n->ctx, &vi);
    if (!vh) snprintf(err, err_len, "cannot listen on port %d for %s (in use, or bad TLS files?)",
                      port, name);
    return vh;
}

static void build_protocols(net_t *n)
{
    size_t count = 0;
    while (n->cfg.subprotocols && n->cfg.subprotocols[count]) count++;
    n->protocols = xcalloc(count + 2, sizeof *n->protocols);
    n->protocols[0].name = "http";
    n->protocols[0].callback = callback;
    n->protocols[0].per_session_data_size = sizeof(struct http_pss);
    n->protocols[0].rx_buffer_size = 2048;
    for (size_t i = 0; i < count; i++) {
        n->protocols[i + 1].name = n->cfg.subprotocols[i];
        n->protocols[i + 1].callback = callback;
        /* LWS keeps this much per connection; a longer message (MeterValues)
         * arrives in pieces, joined in on_receive */
        n->protocols[i + 1].rx_buffer_size = 512;
    }
}

net_t *net_create(uv_loop_t *loop, const net_config_t *cfg, const net_callbacks_t *cbs, char *err,
                  size_t err_len)
{
    net_t *n = xcalloc(1, sizeof *n);
    n->loop = loop;
    n->cfg = *cfg;
    n->cbs = *cbs;
    if (n->cfg.ping_timeout <= 0) n->cfg.ping_timeout = 30;
    n->tls_cert_ecdsa = cfg->tls_cert_rsa ? xstrdup_opt(cfg->tls_cert_ecdsa) : NULL;
    n->tls_key_ecdsa = cfg->tls_cert_rsa ? xstrdup_opt(cfg->tls_key_ecdsa) : NULL;
    build_protocols(n);
    timewheel_init(&n->wheel, now_sec(n));

    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_cb);
    struct lws_context_creation_info ci;
    memset(&ci, 0, sizeof ci);
    void *loops[1] = {loop};
    ci.foreign_loops = loops;
    ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_LIBUV |
                 LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN | LWS_SERVER_OPTION_VALIDATE_UTF8 |
                 LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    ci.fd_limit_per_thread = (unsigned)(cfg->fd_limit > 0 ? cfg->fd_limit : 4096);
    ci.retry_and_idle_policy = &no_idle_policy;
    /* LWS keeps a connection's HTTP headers in a list from accept to upgrade,
     * and unlinks them by walking it: with thousands mid-handshake (a wss
     * storm) that walk was 11 % of the server's CPU. Past this many, new
     * connections wait in the kernel's accept queue instead. */
    ci.max_http_header_pool = NET_HANDSHAKES_AT_ONCE;
    ci.user = n;
    n->ctx = lws_create_context(&ci);
    if (!n->ctx) {
        snprintf(err, err_len, "cannot create the network context");
        goto fail;
    }
    struct {
        enum listener_kind kind;
        const char *name;
        int port;
    } want[] = {{L_OCPP, "ocpp", cfg->ocpp_port},
                {L_OCPP_TLS, "ocpp-tls", cfg->tls_port},
                {L_HTTP, "api", cfg->http_port}};
    for (int i = 0; i < 3; i++) {
        n->listeners[i].net = n;
        n->listeners[i].kind = want[i].kind;
        if (want[i].port <= 0) continue;
        if (want[i].kind == L_OCPP_TLS && !cfg->tls_cert_rsa && !cfg->tls_cert_ecdsa) {
            snprintf(err, err_len, "tls_port is set but no certificate is configured");
            goto fail;
        }
        if (!make_vhost(n, &n->listeners[i], want[i].name, want[i].port, err, err_len)) goto fail;
    }
    uv_timer_init(loop, &n->tick);
    n->tick.data = n;
    uv_timer_start(&n->tick, tick_cb, 1000, 1000);
    return n;
fail:
    if (n->ctx) lws_context_destroy(n->ctx);
    free(n->protocols);
    free(n->tls_cert_ecdsa);
    free(n->tls_key_ecdsa);
    free(n);
    return NULL;
}

const net_stats_t *net_stats(const net_t *n)
{
    return &n->stats;
}

void net_destroy(net_t *n)
{
    if (n->destroying) return;
    n->destroying = true;
    uv_timer_stop(&n->tick);
    uv_close((uv_handle_t *)&n->tick, NULL);
    lws_context_destroy(n->ctx);
}

void net_free(net_t *n)
{
    if (!n) return;
    free(n->protocols);
    free(n->tls_cert_ecdsa);
    free(n->tls_key_ecdsa);
    net_wbuf_free(&n->wbuf);
    free(n);
}
