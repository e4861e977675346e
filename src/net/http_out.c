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
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
    bool allow_private, loopback_only, insecure;
    char *ca_file;
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
    curl_mime *mime; /* a form upload */
    FILE *file;      /* a body streamed from a file */
    http_out_cb cb;
    http_out_data_cb on_data;
    void *ctx;
    int timeout_ms;
    int64_t started;
    char errbuf[CURL_ERROR_SIZE];
    char body[HTTP_OUT_BODY_KEEP];
    char *big;      /* instead of body when more is kept (http_out_request's keep) */
    size_t big_cap; /* grown as the answer arrives, up to keep */
    size_t keep;    /* bytes of the answer kept */
    size_t body_len;
    uint64_t received, max_bytes;
    bool cut;                       /* the answer was too long and cut off */
    bool too_large;                 /* the answer passed max_bytes (on_data) */
    char blocked[INET6_ADDRSTRLEN]; /* a refused destination address, "" = none */
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

static bool addr_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) ==
               127;
    if (sa->sa_family != AF_INET6) return false;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

/* Whether the client's policy lets it connect to sa. */
static bool addr_allowed(const http_out_t *h, const struct sockaddr *sa)
{
    if (h->loopback_only) return addr_loopback(sa);
    return h->allow_private || addr_public(sa);
}

static curl_socket_t opensocket_cb(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    req_t *r = ud;
    if (!addr_allowed(r->h, &a->addr)) {
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
    if (r->on_data) {
        r->received += len;
        if (r->max_bytes && r->received > r->max_bytes) {
            r->too_large = true;
            return 0; /* ends the transfer with CURLE_WRITE_ERROR */
        }
        r->on_data(r->ctx, p, len);
        return len;
    }
    if (r->body_len < r->keep) {
        size_t take = r->keep - r->body_len;
        if (take > len) take = len;
        char *dst = r->body;
        if (r->keep > sizeof r->body) {
            if (r->body_len + take > r->big_cap) {
                size_t cap = r->big_cap ? r->big_cap : 16384;
                while (cap < r->body_len + take)
                    cap *= 2;
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

static void req_free(req_t *r)
{
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    curl_mime_free(r->mime);
    if (r->file) fclose(r->file);
    free(r->big);
    free(r);
}

/* Why a transfer that got no usable answer failed, into msg. */
static void failure_text(const req_t *r, CURLcode code, int64_t duration_ms, char *msg, size_t len)
{
    if (r->too_large)
        snprintf(msg, len, "the answer is larger than %llu bytes",
                 (unsigned long long)r->max_bytes);
    else if (r->blocked[0] && r->h->loopback_only)
        snprintf(msg, len, "refused to connect to %s: not a loopback address", r->blocked);
    else if (r->blocked[0])
        snprintf(msg, len,
                 "refused to connect to %s: not a public address (see [webhooks] "
                 "allow_private_networks)",
                 r->blocked);
    else if (code == CURLE_OPERATION_TIMEDOUT)
        snprintf(msg, len, "timed out after %lld ms%s%s", (long long)duration_ms,
                 r->errbuf[0] ? ": " : "", r->errbuf);
    else
        snprintf(msg, len, "%s%s%s", curl_easy_strerror(code), r->errbuf[0] ? ": " : "", r->errbuf);
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
        .received = r->received,
    };
    char msg[CURL_ERROR_SIZE + 160];
    if (error) {
        res.error = error;
        res.cancelled = true;
    } else if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && r->cut && status > 0)) {
        res.error = NULL;
    } else {
        failure_text(r, code, res.duration_ms, msg, sizeof msg);
        res.error = msg;
    }
    if (res.error) res.status = 0; /* a half-received answer is no answer */
    r->cb(r->ctx, &res);
    req_free(r);
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
    h->loopback_only = cfg->loopback_only;
    h->insecure = cfg->insecure;
    h->ca_file = xstrdup_opt(cfg->ca_file);
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

/* Checks url as http_out_url_ok does; *host (curl_free it) gets its host. */
static bool url_host(const char *url, char **host, char *err, size_t err_len)
{
    bool ok = false;
    char *scheme = NULL;
    *host = NULL;
    CURLU *u = curl_url();
    if (!u) abort();
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, url ? url : "", CURLU_NON_SUPPORT_SCHEME);
    if (rc != CURLUE_OK) {
        snprintf(err, err_len, "url is not a valid absolute URL (%s)", curl_url_strerror(rc));
        goto done;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        snprintf(err, err_len, "url must start with http:// or https://");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK || !(*host)[0]) {
        snprintf(err, err_len, "url must name a host");
        goto done;
    }
    ok = true;
done:
    curl_free(scheme);
    curl_url_cleanup(u);
    return ok;
}

bool http_out_url_ok(const char *url, char *err, size_t err_len)
{
    char *host;
    bool ok = url_host(url, &host, err, err_len);
    curl_free(host);
    return ok;
}

bool http_out_url_loopback(const char *url, char *err, size_t err_len)
{
    char *host;
    bool ok = url_host(url, &host, err, err_len);
    struct in_addr a4;
    if (ok && strcmp(host, "localhost") != 0 && strcmp(host, "[::1]") != 0 &&
        !(inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127)) {
        snprintf(err, err_len, "not a loopback address: only 127.0.0.0/8, [::1] and localhost");
        ok = false;
    }
    curl_free(host);
    return ok;
}

int http_out_post(http_out_t *h, const char *url, const char *const *headers, const char *body,
                  size_t len, int timeout_ms, http_out_cb cb, void *ctx, char *err, size_t err_len)
{
    http_out_request_t rq = {.method = "POST",
                             .url = url,
                             .headers = headers,
                             .body = body,
                             .len = len,
                             .timeout_ms = timeout_ms};
    return http_out_request(h, &rq, cb, ctx, err, err_len);
}

typedef enum method { M_GET, M_PUT, M_POST } method_t;

static int parse_method(const char *m, method_t *out)
{
    if (!m || strcmp(m, "POST") == 0)
        *out = M_POST;
    else if (strcmp(m, "GET") == 0)
        *out = M_GET;
    else if (strcmp(m, "PUT") == 0)
        *out = M_PUT;
    else
        return -1;
    return 0;
}

/* The request body: from memory, from a file, or as a form part. */
static int set_body(req_t *r, const http_out_request_t *rq, method_t m, char *err, size_t err_len)
{
    CURL *e = r->easy;
    if (m == M_GET) return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) == CURLE_OK ? 0 : -1;
    if (m == M_PUT) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
    if (rq->form_file_name) {
        r->mime = curl_mime_init(e);
        curl_mimepart *part = curl_mime_addpart(r->mime);
        curl_mime_name(part, "file");
        CURLcode rc = rq->body_file ? curl_mime_filedata(part, rq->body_file)
                                    : curl_mime_data(part, rq->body ? rq->body : "", rq->len);
        curl_mime_filename(part, rq->form_file_name);
        curl_mime_type(part, rq->form_type ? rq->form_type : "application/octet-stream");
        if (rc != CURLE_OK) {
            snprintf(err, err_len, "cannot read %s", rq->body_file ? rq->body_file : "the body");
            return -1;
        }
        return curl_easy_setopt(e, CURLOPT_MIMEPOST, r->mime) == CURLE_OK ? 0 : -1;
    }
    if (!rq->body_file) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
        return curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, rq->body ? rq->body : "") == CURLE_OK
                   ? 0
                   : -1;
    }
    struct stat st;
    r->file = fopen(rq->body_file, "rb");
    if (!r->file || fstat(fileno(r->file), &st) != 0) {
        snprintf(err, err_len, "cannot read %s: %s", rq->body_file, strerror(errno));
        return -1;
    }
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_READDATA, r->file); /* curl's own fread */
    return curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)st.st_size) == CURLE_OK
               ? 0
               : -1;
}

/* Everything but the body: where, how long, what is allowed, where the answer goes. */
static int set_common(http_out_t *h, req_t *r, const http_out_request_t *rq)
{
    CURL *e = r->easy;
    if (curl_easy_setopt(e, CURLOPT_URL, rq->url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK)
        return -1;
    int timeout_ms = rq->timeout_ms;
    int connect_ms = h->connect_timeout_ms < timeout_ms ? h->connect_timeout_ms : timeout_ms;
    int redirects =
        rq->max_redirects < HTTP_OUT_MAX_REDIRECTS ? rq->max_redirects : HTTP_OUT_MAX_REDIRECTS;
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, redirects > 0 ? 1L : 0L);
    if (redirects > 0) curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)redirects);
    curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, opensocket_cb);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r);
    if (h->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (h->ca_file) {
        curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
    }
    return 0;
}

static req_t *req_new(http_out_t *h, const http_out_request_t *rq, http_out_cb cb, void *ctx)
{
    req_t *r = xcalloc(1, sizeof *r);
    r->h = h;
    r->cb = cb;
    r->ctx = ctx;
    r->on_data = rq->on_data;
    r->max_bytes = rq->max_bytes;
    r->timeout_ms = rq->timeout_ms;
    r->started = time_now_ms();
    r->keep = sizeof r->body;
    if (rq->keep > sizeof r->body)
        r->keep = rq->keep < HTTP_OUT_KEEP_MAX ? rq->keep : HTTP_OUT_KEEP_MAX;
    r->easy = curl_easy_init();
    if (!r->easy) abort();
    for (const char *const *p = rq->headers; p && *p; p++)
        r->headers = curl_slist_append(r->headers, *p);
    /* no "Expect: 100-continue" round trip for larger bodies */
    r->headers = curl_slist_append(r->headers, "Expect:");
    if (!r->headers) abort();
    return r;
}

int http_out_request(http_out_t *h, const http_out_request_t *rq, http_out_cb cb, void *ctx,
                     char *err, size_t err_len)
{
    method_t m;
    if (parse_method(rq->method, &m) != 0) {
        snprintf(err, err_len, "method %s is not supported", rq->method);
        return -1;
    }
    if (h->destroying) {
        snprintf(err, err_len, "shutting down");
        return -1;
    }
    if (h->loopback_only && !http_out_url_loopback(rq->url, err, err_len)) return -1;
    req_t *r = req_new(h, rq, cb, ctx);
    if (set_common(h, r, rq) != 0) {
        snprintf(err, err_len, "url cannot be used");
        goto fail;
    }
    if (err_len) err[0] = '\0';
    if (set_body(r, rq, m, err, err_len) != 0) {
        if (err_len && !err[0]) snprintf(err, err_len, "the request body cannot be used");
        goto fail;
    }
    if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK) {
        snprintf(err, err_len, "cannot start the request");
        goto fail;
    }
    r->next = h->reqs;
    if (h->reqs) h->reqs->prev = r;
    h->reqs = r;
    h->nreqs++;
    return 0;
fail:
    req_free(r);
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
    free(h->ca_file);
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, timer_closed_cb);
}
