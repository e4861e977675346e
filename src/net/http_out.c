/*
 * Outbound HTTP on the loop with libcurl's multi-socket interface; see
 * http_out.h for why. The shape follows curl's own multi-uv example: curl
 * asks for sockets to be watched through socket_cb (one uv_poll_t each,
 * remembered with curl_multi_assign) and for a wake-up through timer_cb (one
 * uv_timer_t); both uv callbacks hand control back with
 * curl_multi_socket_action and then collect finished transfers.
 */
#include "net/http_out.h"

#include "util/alloc.h"
#include "util/timefmt.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

/* An answer longer than this is cut off (its status still counts). */
#define DISCARD_MAX (1u << 20)

typedef struct req req_t;
typedef struct sock sock_t;

struct http_out {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    char *user_agent;
    int connect_timeout_ms;
    bool allow_private;
    bool destroying;
    req_t *reqs;   /* in flight */
    sock_t *socks; /* watched */
    unsigned nreqs;
};

struct sock {
    uv_poll_t poll;
    http_out_t *h;
    curl_socket_t fd;
    sock_t *prev, *next;
};

struct req {
    http_out_t *h;
    CURL *easy;
    struct curl_slist *headers;
    http_out_cb cb;
    void *ctx;
    int timeout_ms;
    int64_t started;
    char errbuf[CURL_ERROR_SIZE];
    char body[HTTP_OUT_BODY_KEEP];
    char *big;      /* instead of body when more is kept (http_out_request's keep) */
    size_t big_cap; /* grown as the answer arrives, up to keep */
    size_t keep;    /* bytes of the answer kept */
    size_t body_len, received;
    bool cut;                       /* the answer was too long and cut off */
    char blocked[INET6_ADDRSTRLEN]; /* a refused non-public address, "" = none */
    req_t *prev, *next;
};

/* ------------------------------------------------------------- addresses */

static bool v4_public(uint32_t a)
{
    static const struct {
        uint32_t net, mask;
    } deny[] = {
        {0x00000000, 0xff000000}, /* 0/8 "this network" */
        {0x0a000000, 0xff000000}, /* 10/8 */
        {0x64400000, 0xffc00000}, /* 100.64/10 carrier-grade NAT */
        {0x7f000000, 0xff000000}, /* 127/8 loopback */
        {0xa9fe0000, 0xffff0000}, /* 169.254/16 link-local (cloud metadata) */
        {0xac100000, 0xfff00000}, /* 172.16/12 */
        {0xc0000000, 0xffffff00}, /* 192.0.0/24 */
        {0xc0a80000, 0xffff0000}, /* 192.168/16 */
        {0xc6120000, 0xfffe0000}, /* 198.18/15 benchmarking */
        {0xe0000000, 0xe0000000}, /* 224/3 multicast and reserved */
    };
    for (size_t i = 0; i < sizeof deny / sizeof deny[0]; i++)
        if ((a & deny[i].mask) == deny[i].net) return false;
    return true;
}

/* Whether a destination address is on the public internet. */
static bool addr_public(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return v4_public(ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
    if (sa->sa_family != AF_INET6) return false;
    const unsigned char *b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return v4_public((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 |
                         b[15]);
    static const unsigned char zero[15] = {0};
    if (memcmp(b, zero, 15) == 0) return false;              /* :: and ::1 */
    if ((b[0] & 0xfe) == 0xfc) return false;                 /* fc00::/7 unique local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return false; /* fe80::/10 link-local */
    if (b[0] == 0xff) return false;                          /* multicast */
    return true;
}

static curl_socket_t opensocket_cb(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    req_t *r = ud;
    if (!r->h->allow_private && !addr_public(&a->addr)) {
        const void *raw = a->family == AF_INET6
                              ? (const void *)&((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr
                              : (const void *)&((struct sockaddr_in *)(void *)&a->addr)->sin_addr;
        if (!inet_ntop(a->family, raw, r->blocked, sizeof r->blocked))
            snprintf(r->blocked, sizeof r->blocked, "?");
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* -------------------------------------------------------------- requests */

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
    req_t *r = ud;
    size_t len = size * n;
    if (r->body_len < r->keep) {
        size_t take = r->keep - r->body_len;
        if (take > len) take = len;
        char *dst = r->body;
        if (r->keep > sizeof r->body) {
            if (r->body_len + take > r->big_cap) {
                size_t cap = r->big_cap ? r->big_cap : 16384;
                while (cap < r->body_len + take) cap *= 2;
                r->big_cap = cap < r->keep ? cap : r->keep;
                r->big = xrealloc(r->big, r->big_cap);
            }
            dst = r->big;
        }
        memcpy(dst + r->body_len, p, take);
        r->body_len += take;
    }
    r->received += len;
    if (r->received > DISCARD_MAX) {
        r->cut = true;
        return 0; /* ends the transfer with CURLE_WRITE_ERROR */
    }
    return len;
}

static int retry_after(CURL *e)
{
    struct curl_header *hh;
    if (curl_easy_header(e, "Retry-After", 0, CURLH_HEADER, -1, &hh) != CURLHE_OK) return -1;
    char *end;
    long v = strtol(hh->value, &end, 10);
    if (end == hh->value || *end || v < 0) return -1; /* an HTTP date: ignored */
    return v > 86400 ? 86400 : (int)v;
}

/* Unlinks r, runs its callback and frees it. error NULL = use curl's outcome. */
static void complete(req_t *r, CURLcode code, const char *error)
{
    http_out_t *h = r->h;
    if (r->prev)
        r->prev->next = r->next;
    else
        h->reqs = r->next;
    if (r->next) r->next->prev = r->prev;
    h->nreqs--;
    curl_multi_remove_handle(h->multi, r->easy);

    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    http_out_result_t res = {
        .status = (int)status,
        .body = r->big ? r->big : r->body,
        .body_len = r->body_len,
        .truncated = r->received > r->body_len,
        .duration_ms = time_now_ms() - r->started,
        .retry_after = status ? retry_after(r->easy) : -1,
    };
    char msg[CURL_ERROR_SIZE + 160];
    if (error) {
        res.error = error;
        res.cancelled = true;
    } else if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && r->cut && status > 0)) {
        res.error = NULL;
    } else if (r->blocked[0]) {
        snprintf(msg, sizeof msg,
                 "refused to connect to %s: not a public address (see [webhooks] "
                 "allow_private_networks)",
                 r->blocked);
        res.error = msg;
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
        snprintf(msg, sizeof msg, "timed out after %lld ms%s%s", (long long)res.duration_ms,
                 r->errbuf[0] ? ": " : "", r->errbuf);
        res.error = msg;
    } else {
        snprintf(msg, sizeof msg, "%s%s%s", curl_easy_strerror(code), r->errbuf[0] ? ": " : "",
                 r->errbuf);
        res.error = msg;
    }
    if (res.error) res.status = 0; /* a half-received answer is no answer */
    r->cb(r->ctx, &res);
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    free(r->big);
    free(r);
}

static void check_done(http_out_t *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        req_t *r = NULL;
        CURLcode code = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        complete(r, code, NULL);
    }
}

/* ------------------------------------------------------- loop plumbing */

static void poll_cb(uv_poll_t *p, int status, int events)
{
    sock_t *k = p->data;
    http_out_t *h = k->h;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    }
    int running;
    curl_multi_socket_action(h->multi, k->fd, flags, &running);
    check_done(h);
}

static void sock_closed_cb(uv_handle_t *hd)
{
    free(hd->data);
}

static void sock_close(http_out_t *h, sock_t *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        h->socks = k->next;
    if (k->next) k->next->prev = k->prev;
    uv_poll_stop(&k->poll);
    uv_close((uv_handle_t *)&k->poll, sock_closed_cb);
}

static int socket_cb(CURL *e, curl_socket_t fd, int what, void *ud, void *sockp)
{
    http_out_t *h = ud;
    sock_t *k = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (k) {
            curl_multi_assign(h->multi, fd, NULL);
            sock_close(h, k);
        }
        return 0;
    }
    if (!k) {
        k = xcalloc(1, sizeof *k);
        k->h = h;
        k->fd = fd;
        if (uv_poll_init_socket(h->loop, &k->poll, fd) != 0) {
            free(k);
            return -1; /* curl fails the transfer */
        }
        k->poll.data = k;
        k->next = h->socks;
        if (h->socks) h->socks->prev = k;
        h->socks = k;
        curl_multi_assign(h->multi, fd, k);
    }
    int ev = 0;
    if (what & CURL_POLL_IN) ev |= UV_READABLE;
    if (what & CURL_POLL_OUT) ev |= UV_WRITABLE;
    uv_poll_start(&k->poll, ev, poll_cb);
    return 0;
}

static void on_timer(uv_timer_t *t)
{
    http_out_t *h = t->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

/* curl must not be re-entered from here: a zero timeout fires on the next
 * loop iteration instead. */
static int timer_cb(CURLM *m, long timeout_ms, void *ud)
{
    http_out_t *h = ud;
    if (h->destroying) return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ------------------------------------------------------------------ API */

http_out_t *http_out_create(uv_loop_t *loop, const http_out_config_t *cfg)
{
    static bool global_done;
    if (!global_done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global_done = true;
    }
    http_out_t *h = xcalloc(1, sizeof *h);
    h->loop = loop;
    h->user_agent = xstrdup(cfg->user_agent ? cfg->user_agent : "ampgrid");
    h->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 10000;
    h->allow_private = cfg->allow_private;
    h->multi = curl_multi_init();
    if (!h->multi) abort(); /* out of memory */
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    uv_unref((uv_handle_t *)&h->timer); /* work in flight must not keep a stopping server up */
    return h;
}

bool http_out_url_ok(const char *url, char *err, size_t err_len)
{
    bool ok = false;
    char *scheme = NULL, *host = NULL;
    CURLU *u = curl_url();
    if (!u) abort();
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (rc != CURLUE_OK) {
        snprintf(err, err_len, "url is not a valid absolute URL (%s)", curl_url_strerror(rc));
        goto done;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        snprintf(err, err_len, "url must start with http:// or https://");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
        snprintf(err, err_len, "url must name a host");
        goto done;
    }
    ok = true;
done:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

int http_out_post(http_out_t *h, const char *url, const char *const *headers, const char *body,
                  size_t len, int timeout_ms, http_out_cb cb, void *ctx, char *err, size_t err_len)
{
    http_out_request_t rq = {.method = "POST", .url = url, .headers = headers, .body = body,
                             .len = len, .timeout_ms = timeout_ms};
    return http_out_request(h, &rq, cb, ctx, err, err_len);
}

int http_out_request(http_out_t *h, const http_out_request_t *rq, http_out_cb cb, void *ctx,
                     char *err, size_t err_len)
{
    const char *url = rq->url, *body = rq->body;
    const char *const *headers = rq->headers;
    size_t len = rq->len;
    int timeout_ms = rq->timeout_ms;
    bool get = rq->method && strcmp(rq->method, "GET") == 0;
    if (rq->method && !get && strcmp(rq->method, "POST") != 0) {
        snprintf(err, err_len, "method %s is not supported", rq->method);
        return -1;
    }
    if (h->destroying) {
        snprintf(err, err_len, "shutting down");
        return -1;
    }
    req_t *r = xcalloc(1, sizeof *r);
    r->h = h;
    r->cb = cb;
    r->ctx = ctx;
    r->timeout_ms = timeout_ms;
    r->started = time_now_ms();
    r->keep = sizeof r->body;
    if (rq->keep > sizeof r->body)
        r->keep = rq->keep < HTTP_OUT_KEEP_MAX ? rq->keep : HTTP_OUT_KEEP_MAX;
    r->easy = curl_easy_init();
    if (!r->easy) abort();
    CURL *e = r->easy;
    for (const char *const *p = headers; p && *p; p++)
        r->headers = curl_slist_append(r->headers, *p);
    /* no "Expect: 100-continue" round trip for larger bodies */
    r->headers = curl_slist_append(r->headers, "Expect:");
    if (!r->headers) abort();
    int connect_ms = h->connect_timeout_ms < timeout_ms ? h->connect_timeout_ms : timeout_ms;
    if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK) {
        snprintf(err, err_len, "url cannot be used");
        goto fail;
    }
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    if (get) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body ? body : "");
    }
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, opensocket_cb);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r);
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        snprintf(err, err_len, "cannot start the request");
        goto fail;
    }
    r->next = h->reqs;
    if (h->reqs) h->reqs->prev = r;
    h->reqs = r;
    h->nreqs++;
    return 0;
fail:
    curl_easy_cleanup(e);
    curl_slist_free_all(r->headers);
    free(r->big);
    free(r);
    return -1;
}

unsigned http_out_in_flight(const http_out_t *h)
{
    return h->nreqs;
}

static void timer_closed_cb(uv_handle_t *hd)
{
    free(hd->data);
}

void http_out_destroy(http_out_t *h)
{
    if (!h) return;
    h->destroying = true;
    while (h->reqs)
        complete(h->reqs, CURLE_OK, "cancelled");
    curl_multi_cleanup(h->multi);
    while (h->socks)
        sock_close(h, h->socks);
    free(h->user_agent);
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, timer_closed_cb);
}
