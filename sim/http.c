/*
 * The simulator's HTTP client on libcurl's multi-socket interface; see
 * http.h for why it exists and what it allows. The loop plumbing (socket_cb
 * and timer_cb handing control back with curl_multi_socket_action) follows
 * curl's multi-uv example, as net/http_out.c does for the server.
 */
#include "sim/http.h"

#include "util/alloc.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

typedef struct req req_t;
typedef struct sock sock_t;

typedef enum method { M_GET, M_PUT, M_POST } method_t;

static const char *const method_names[] = {"GET", "PUT", "POST"};

struct sim_http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    char *ca_file;
    bool insecure, destroying;
    int connect_timeout_ms;
    req_t *reqs;
    sock_t *socks;
    unsigned nreqs;
};

struct sock {
    uv_poll_t poll;
    sim_http_t *h;
    curl_socket_t fd;
    sock_t *prev, *next;
};

struct req {
    sim_http_t *h;
    CURL *easy;
    struct curl_slist *headers;
    curl_mime *mime;
    method_t method;
    sim_http_cb cb;
    void *ud;
    char *url, *file_name;
    char *body; /* upload: our copy */
    size_t len, sent;
    int timeout_ms;
    uint64_t received, max_bytes;
    bool too_large;
    crypto_hash_sha256_state sha;
    char errbuf[CURL_ERROR_SIZE];
    char blocked[INET6_ADDRSTRLEN]; /* a refused address, "" = none */
    req_t *prev, *next;
};

/* ------------------------------------------------------------- addresses */

static bool addr_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) ==
               127;
    if (sa->sa_family != AF_INET6) return false;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(a)) return true;
    return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
}

static curl_socket_t opensocket_cb(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    req_t *r = ud;
    if (!addr_loopback(&a->addr)) {
        const void *raw = a->family == AF_INET6
                              ? (const void *)&((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr
                              : (const void *)&((struct sockaddr_in *)(void *)&a->addr)->sin_addr;
        if (!inet_ntop(a->family, raw, r->blocked, sizeof r->blocked))
            snprintf(r->blocked, sizeof r->blocked, "?");
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

bool sim_http_url_loopback(const char *url, char *err, size_t err_len)
{
    bool ok = false;
    char *scheme = NULL, *host = NULL;
    CURLU *u = curl_url();
    if (!u) abort();
    if (!url || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        snprintf(err, err_len, "not a valid absolute URL");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        snprintf(err, err_len, "only http:// and https:// URLs");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        snprintf(err, err_len, "the URL names no host");
        goto done;
    }
    struct in_addr a4;
    if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
        (inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127))
        ok = true;
    else
        snprintf(err, err_len, "not a loopback address: the simulator only reaches 127.0.0.0/8");
done:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

/* -------------------------------------------------------------- requests */

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
    req_t *r = ud;
    size_t len = size * n;
    r->received += len;
    if (r->method != M_GET) return len; /* an upload's answer: read and dropped */
    if (r->received > r->max_bytes) {
        r->too_large = true;
        return 0; /* ends the transfer with CURLE_WRITE_ERROR */
    }
    crypto_hash_sha256_update(&r->sha, (const unsigned char *)p, len);
    return len;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *ud)
{
    req_t *r = ud;
    size_t room = size * n, left = r->len - r->sent;
    size_t take = left < room ? left : room;
    memcpy(buf, r->body + r->sent, take);
    r->sent += take;
    return take;
}

static void unlink_req(sim_http_t *h, req_t *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        h->reqs = r->next;
    if (r->next) r->next->prev = r->prev;
    h->nreqs--;
    curl_multi_remove_handle(h->multi, r->easy);
}

static void free_req(req_t *r)
{
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    curl_mime_free(r->mime);
    free(r->url);
    free(r->file_name);
    free(r->body);
    free(r);
}

static int start(sim_http_t *h, req_t *r, char *err, size_t err_len);

/* The receiver refused the PUT with 405: the same file as a form upload. */
static bool retry_as_post(sim_http_t *h, req_t *old)
{
    req_t *r = xcalloc(1, sizeof *r);
    r->h = h;
    r->method = M_POST;
    r->cb = old->cb;
    r->ud = old->ud;
    r->url = xstrdup(old->url);
    r->file_name = xstrdup(old->file_name);
    r->body = old->body; /* handed over */
    r->len = old->len;
    r->timeout_ms = old->timeout_ms;
    old->body = NULL;
    char err[160];
    if (start(h, r, err, sizeof err) == 0) return true;
    old->body = r->body;
    r->body = NULL;
    free_req(r);
    return false;
}

static void complete(req_t *r, CURLcode code, bool cancelled)
{
    sim_http_t *h = r->h;
    unlink_req(h, r);
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (!cancelled && code == CURLE_OK && r->method == M_PUT && status == 405 &&
        retry_as_post(h, r)) {
        free_req(r);
        return;
    }
    sim_http_result_t res = {
        .status = (int)status, .cancelled = cancelled, .method = method_names[r->method]};
    char msg[CURL_ERROR_SIZE + 160];
    if (cancelled) {
        res.error = "cancelled";
    } else if (r->too_large) {
        snprintf(msg, sizeof msg, "the file is larger than %llu bytes",
                 (unsigned long long)r->max_bytes);
        res.error = msg;
    } else if (r->blocked[0]) {
        snprintf(msg, sizeof msg, "refused to connect to %s: not a loopback address", r->blocked);
        res.error = msg;
    } else if (code != CURLE_OK) {
        snprintf(msg, sizeof msg, "%s%s%s", curl_easy_strerror(code), r->errbuf[0] ? ": " : "",
                 r->errbuf);
        res.error = msg;
    }
    if (res.error) res.status = 0;
    if (r->method == M_GET) {
        res.bytes = r->received;
        crypto_hash_sha256_final(&r->sha, res.sha256);
    } else if (!res.error) {
        res.bytes = r->len;
    }
    r->cb(r->ud, &res);
    free_req(r);
}

static void check_done(sim_http_t *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        req_t *r = NULL;
        CURLcode code = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        complete(r, code, false);
    }
}

/* ------------------------------------------------------- loop plumbing */

static void poll_cb(uv_poll_t *p, int status, int events)
{
    sock_t *k = p->data;
    sim_http_t *h = k->h;
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

static void sock_close(sim_http_t *h, sock_t *k)
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
    sim_http_t *h = ud;
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
            return -1;
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
    sim_http_t *h = t->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

/* curl must not be re-entered from here: a zero timeout fires on the next
 * loop iteration instead. */
static int timer_cb(CURLM *m, long timeout_ms, void *ud)
{
    sim_http_t *h = ud;
    if (h->destroying) return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ------------------------------------------------------------------ API */

sim_http_t *sim_http_create(uv_loop_t *loop, const sim_http_config_t *cfg)
{
    static bool global_done;
    if (!global_done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global_done = true;
    }
    sim_http_t *h = xcalloc(1, sizeof *h);
    h->loop = loop;
    h->insecure = cfg->insecure;
    h->ca_file = xstrdup_opt(cfg->ca_file);
    h->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 5000;
    h->multi = curl_multi_init();
    if (!h->multi) abort();
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    uv_unref((uv_handle_t *)&h->timer);
    return h;
}

/* Sets r's easy handle up for its method and adds it to the multi handle. */
static int start(sim_http_t *h, req_t *r, char *err, size_t err_len)
{
    if (!sim_http_url_loopback(r->url, err, err_len)) return -1;
    r->easy = curl_easy_init();
    if (!r->easy) abort();
    CURL *e = r->easy;
    if (curl_easy_setopt(e, CURLOPT_URL, r->url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK) {
        snprintf(err, err_len, "the URL cannot be used");
        return -1;
    }
    r->headers = curl_slist_append(NULL, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "ampgrid-sim/" AMPGRID_VERSION);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)h->connect_timeout_ms);
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
    switch (r->method) {
    case M_GET: /* a download server may redirect (to loopback only: opensocket_cb) */
        crypto_hash_sha256_init(&r->sha);
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, 3L);
        break;
    case M_PUT:
        r->headers = curl_slist_append(r->headers, "Content-Type: text/plain");
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(e, CURLOPT_READDATA, r);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->len);
        break;
    case M_POST: {
        r->mime = curl_mime_init(e);
        curl_mimepart *part = curl_mime_addpart(r->mime);
        curl_mime_name(part, "file");
        curl_mime_filename(part, r->file_name);
        curl_mime_type(part, "text/plain");
        curl_mime_data(part, r->body, r->len);
        curl_easy_setopt(e, CURLOPT_MIMEPOST, r->mime);
        break;
    }
    }
    if (!r->headers) abort();
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        snprintf(err, err_len, "cannot start the transfer");
        return -1;
    }
    r->next = h->reqs;
    if (h->reqs) h->reqs->prev = r;
    h->reqs = r;
    h->nreqs++;
    return 0;
}

static req_t *req_new(sim_http_t *h, method_t m, const char *url, int timeout_ms, sim_http_cb cb,
                      void *ud)
{
    req_t *r = xcalloc(1, sizeof *r);
    r->h = h;
    r->method = m;
    r->url = xstrdup(url);
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : 60000;
    r->cb = cb;
    r->ud = ud;
    return r;
}

static int submit(sim_http_t *h, req_t *r, char *err, size_t err_len)
{
    if (h->destroying) {
        snprintf(err, err_len, "shutting down");
        free_req(r);
        return -1;
    }
    if (start(h, r, err, err_len) != 0) {
        free_req(r);
        return -1;
    }
    return 0;
}

int sim_http_get(sim_http_t *h, const char *url, uint64_t max_bytes, int timeout_ms, sim_http_cb cb,
                 void *ud, char *err, size_t err_len)
{
    req_t *r = req_new(h, M_GET, url, timeout_ms, cb, ud);
    r->max_bytes = max_bytes;
    return submit(h, r, err, err_len);
}

int sim_http_upload(sim_http_t *h, const char *url, const char *file_name, const char *body,
                    size_t len, int timeout_ms, sim_http_cb cb, void *ud, char *err, size_t err_len)
{
    req_t *r = req_new(h, M_PUT, url, timeout_ms, cb, ud);
    r->file_name = xstrdup(file_name ? file_name : "upload.log");
    r->body = xmalloc(len ? len : 1);
    memcpy(r->body, body, len);
    r->len = len;
    return submit(h, r, err, err_len);
}

unsigned sim_http_in_flight(const sim_http_t *h)
{
    return h->nreqs;
}

static void timer_closed_cb(uv_handle_t *hd)
{
    free(hd->data);
}

void sim_http_destroy(sim_http_t *h)
{
    if (!h) return;
    h->destroying = true;
    while (h->reqs)
        complete(h->reqs, CURLE_OK, true);
    curl_multi_cleanup(h->multi);
    while (h->socks)
        sock_close(h, h->socks);
    free(h->ca_file);
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, timer_closed_cb);
}
