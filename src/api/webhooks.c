/*
 * Outbound webhooks: the /api/v1/webhooks resources and the delivery engine.
 *
 * How a delivery flows. A domain event (csms_subscribe) that some enabled
 * webhook wants becomes one row per webhook in webhook_deliveries, state
 * pending, due now; only after that row has committed is anything sent, so a
 * crash loses nothing (rows left "sending" go back to pending at start-up).
 * The database is the queue: each webhook claims up to `concurrency` due rows
 * at a time (pending -> sending), POSTs them through net/http_out (libcurl on
 * this loop, never blocking it), and records each attempt: 2xx = succeeded;
 * otherwise pending again, due after an exponential back-off with jitter, or
 * failed after max_attempts. Nothing is kept in memory per delivery except
 * what is in flight, so a receiver that is down for a day costs disk, not RAM.
 *
 * The webhooks themselves are few and live in memory (loaded at start, changed
 * only through the API after the store has committed), so reads and the event
 * fan-out never wait for the database.
 *
 * Scheduling: each webhook knows when its next pending row is due (next_due,
 * from the claim's answer and from every insert or failed attempt since); one
 * timer wakes the engine at the earliest of them. A sweep every minute
 * re-checks every webhook, so a missed wake-up costs at most a minute, and
 * prunes finished deliveries older than retention_days.
 *
 * Ordering: with concurrency > 1, deliveries of one webhook may arrive out of
 * order (as with every webhook system that retries); receivers order by the
 * payload's created_at and de-duplicate by its id.
 */
#include "api/webhooks.h"

#include "api/api_internal.h"
#include "api/lists.h"
#include "net/http_out.h"
#include "store/store_webhooks.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/password.h"
#include "util/timefmt.h"
#include "util/utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define MAX_WEBHOOKS 100
#define MAX_URL 2048
#define MAX_EVENT_TYPES 16
#define MAX_DESCRIPTION 500
#define MIN_SECRET 16
#define MAX_SECRET 256
#define MAX_BUFFERED 10000 /* events held while the webhooks are still loading */
#define SWEEP_MS 60000
#define PRUNE_EVERY_MS 3600000
#define PRUNE_BATCH 5000

/* ------------------------------------------------------------ event types */

enum {
    EV_ONLINE,
    EV_OFFLINE,
    EV_BOOT,
    EV_CONNECTOR_STATUS,
    EV_CONNECTOR_FAULT,
    EV_SESSION_STARTED,
    EV_SESSION_ENDED,
    EV_ALERT_RAISED,
    EV_ALERT_RESOLVED,
    EV_WORKORDER_CREATED,
    EV_WORKORDER_UPDATED,
    EV_DR_STARTED,
    EV_DR_ENDED,
    EV_CAMPAIGN_UPDATED,
    EV_COUNT_
};
#define EV_ALL ((1u << EV_COUNT_) - 1)

static const char *const ev_names[EV_COUNT_] = {
    [EV_DR_STARTED] = "demand_response.started",
    [EV_DR_ENDED] = "demand_response.ended",
    [EV_CAMPAIGN_UPDATED] = "campaign.updated",
    [EV_ONLINE] = "station.online",
    [EV_OFFLINE] = "station.offline",
    [EV_BOOT] = "station.boot",
    [EV_CONNECTOR_STATUS] = "connector.status",
    [EV_CONNECTOR_FAULT] = "connector.fault",
    [EV_SESSION_STARTED] = "session.started",
    [EV_SESSION_ENDED] = "session.ended",
    [EV_ALERT_RAISED] = "alert.raised",
    [EV_ALERT_RESOLVED] = "alert.resolved",
    [EV_WORKORDER_CREATED] = "workorder.created",
    [EV_WORKORDER_UPDATED] = "workorder.updated",
};

/* Domain event -> webhook event (connector.fault is derived below). */
static const struct {
    const char *domain;
    int ev;
} ev_map[] = {
    {"station.connected", EV_ONLINE},
    {"station.disconnected", EV_OFFLINE},
    {"station.boot", EV_BOOT},
    {"connector.status", EV_CONNECTOR_STATUS},
    {"transaction.started", EV_SESSION_STARTED},
    {"transaction.ended", EV_SESSION_ENDED},
    {"alert.raised", EV_ALERT_RAISED},
    {"alert.resolved", EV_ALERT_RESOLVED},
    {"demand_response.started", EV_DR_STARTED},
    {"demand_response.ended", EV_DR_ENDED},
    {"campaign.updated", EV_CAMPAIGN_UPDATED},
    {"workorder.created", EV_WORKORDER_CREATED},
    {"workorder.updated", EV_WORKORDER_UPDATED},
};

static int ev_parse(const char *s)
{
    for (int i = 0; i < EV_COUNT_; i++)
        if (strcmp(s, ev_names[i]) == 0) return i;
    return -1;
}

bool webhooks_event_type_valid(const char *s)
{
    return s && (strcmp(s, "*") == 0 || ev_parse(s) >= 0);
}

/* ------------------------------------------------------ the wire contract */

int64_t webhooks_backoff_ms(int retry_base, int attempts, int retry_after, uint32_t rnd)
{
    if (retry_base < 1) retry_base = 1;
    if (attempts < 1) attempts = 1;
    int64_t d = (int64_t)retry_base * 1000;
    for (int i = 1; i < attempts && d < WEBHOOKS_MAX_BACKOFF_MS; i++)
        d *= 2;
    if (d > WEBHOOKS_MAX_BACKOFF_MS) d = WEBHOOKS_MAX_BACKOFF_MS;
    /* equal jitter: [d/2, d) spreads a burst of failures without ever
     * retrying much sooner than the schedule says */
    int64_t half = d / 2;
    d = half + (half > 0 ? (int64_t)(rnd % (uint64_t)half) : 0);
    if (retry_after >= 0 && (int64_t)retry_after * 1000 > d) d = (int64_t)retry_after * 1000;
    return d > WEBHOOKS_MAX_BACKOFF_MS ? WEBHOOKS_MAX_BACKOFF_MS : d;
}

void webhooks_sign(const char *secret, int64_t t, const char *body, size_t len, char *out)
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char ts[24], hex[2 * crypto_auth_hmacsha256_BYTES + 1];
    int n = snprintf(ts, sizeof ts, "%" PRId64 ".", t);
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (unsigned long long)n);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(out, WEBHOOKS_SIGNATURE_MAX, "t=%" PRId64 ",v1=%s", t, hex);
    sodium_memzero(&st, sizeof st);
}

/* --------------------------------------------------------------- engine */

typedef struct hook {
    int64_t id;
    char *url, *secret, *description;
    json_t *event_types; /* as given */
    unsigned mask;
    bool enabled;
    int64_t created_at, updated_at;
    unsigned inflight;
    bool claiming;
    int64_t next_due; /* earliest pending row known, INT64_MAX = none */
    struct hook *next;
} hook_t;

typedef struct buffered {
    char *type;
    json_t *data;
    struct buffered *next;
} buffered_t;

struct api_webhooks {
    api_t *api;
    webhooks_config_t cfg;
    http_out_t *http;
    hook_t *hooks; /* by id, ascending */
    bool loaded, subscribed, stopping;
    buffered_t *buf_head, *buf_tail;
    unsigned nbuf;
    uv_timer_t timer, sweep;
    int64_t last_prune;
    bool pruning;
    api_webhook_stats_t stats; /* for /metrics; pending counted from the load on */
};

typedef struct send_ctx {
    api_webhooks_t *wh;
    int64_t hook_id, delivery_id;
    int attempts; /* before this one */
    int64_t started;
} send_ctx_t;

static void schedule(api_webhooks_t *wh);
static void on_event(void *ud, const char *type, const json_t *data);

static hook_t *hook_find(api_webhooks_t *wh, int64_t id)
{
    for (hook_t *h = wh->hooks; h; h = h->next)
        if (h->id == id) return h;
    return NULL;
}

static unsigned mask_of(const json_t *types)
{
    unsigned m = 0;
    size_t i;
    json_t *v;
    json_array_foreach(types, i, v)
    {
        const char *s = json_string_value(v);
        if (!s) continue;
        if (strcmp(s, "*") == 0)
            m |= EV_ALL;
        else if (ev_parse(s) >= 0)
            m |= 1u << ev_parse(s);
    }
    return m;
}

static void hook_free(hook_t *h)
{
    free(h->url);
    if (h->secret) sodium_memzero(h->secret, strlen(h->secret));
    free(h->secret);
    free(h->description);
    json_decref(h->event_types);
    free(h);
}

static void hook_insert(api_webhooks_t *wh, hook_t *h)
{
    hook_t **p = &wh->hooks;
    while (*p && (*p)->id < h->id)
        p = &(*p)->next;
    h->next = *p;
    *p = h;
}

static void hook_remove(api_webhooks_t *wh, hook_t *h)
{
    for (hook_t **p = &wh->hooks; *p; p = &(*p)->next) {
        if (*p == h) {
            *p = h->next;
            return;
        }
    }
}

static void hook_due(api_webhooks_t *wh, hook_t *h, int64_t at)
{
    if (at < h->next_due) h->next_due = at;
}

/* Subscribed to the domain while loading (events are buffered) and while
 * any enabled webhook exists; otherwise the hot paths build no events for us. */
static void update_subscription(api_webhooks_t *wh)
{
    bool want = !wh->stopping && !wh->loaded;
    for (hook_t *h = wh->hooks; h && !want; h = h->next)
        want = h->enabled;
    if (want && !wh->subscribed) csms_subscribe_typed(wh->api->d.csms, on_event, NULL, wh); /* meter.values is never a webhook */
    if (!want && wh->subscribed) csms_unsubscribe(wh->api->d.csms, on_event, wh);
    wh->subscribed = want;
}

/* Records one attempt's outcome; the row was "sending". */
static void record_attempt(api_webhooks_t *wh, hook_t *h, const send_ctx_t *s, int status,
                           const char *error, const char *resp, size_t resp_len, int retry_after,
                           int64_t duration)
{
    int attempts = s->attempts + 1;
    bool ok = !error && status >= 200 && status < 300;
    const char *state = ok ? "succeeded" : attempts >= wh->cfg.max_attempts ? "failed" : "pending";
    if (state[0] == 'p') {
        wh->stats.retried++;
    } else {
        if (ok) wh->stats.succeeded++;
        else wh->stats.failed++;
        if (wh->stats.pending > 0) wh->stats.pending--;
    }
    int64_t now = time_now_ms(), next = 0;
    if (!ok && attempts < wh->cfg.max_attempts) {
        int ra = (status == 429 || status == 503) ? retry_after : -1;
        next = now + webhooks_backoff_ms(wh->cfg.retry_base, attempts, ra, randombytes_random());
        if (h) hook_due(wh, h, next);
    }
    char body[HTTP_OUT_BODY_KEEP + 1];
    size_t n = resp_len < HTTP_OUT_BODY_KEEP ? resp_len : HTTP_OUT_BODY_KEEP;
    if (resp) memcpy(body, resp, n);
    body[resp ? n : 0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (body[i] == '\0') body[i] = '?';
    utf8_sanitize(body);
    char errbuf[512] = "";
    if (!ok && !error) snprintf(errbuf, sizeof errbuf, "the receiver answered HTTP %d", status);
    store_attempt_t a = {
        .delivery_id = s->delivery_id,
        .state = state,
        .next_attempt_at = next,
        .status = status,
        .error = error       ? error
                 : errbuf[0] ? errbuf
                             : NULL,
        .response = resp ? body : NULL,
        .at = s->started,
        .duration_ms = duration,
    };
    if (ok)
        log_debug("webhook delivered", "webhook=%" PRId64 " delivery=%" PRId64 " status=%d",
                  s->hook_id, s->delivery_id, status);
    else {
        char q[600];
        log_emit(next ? LOG_INFO : LOG_WARN,
                 next ? "webhook delivery failed, will retry" : "webhook delivery failed for good",
                 "webhook=%" PRId64 " delivery=%" PRId64 " attempt=%d status=%d error=%s",
                 s->hook_id, s->delivery_id, attempts, status,
                 log_quote(a.error ? a.error : "", q, sizeof q));
    }
    store_delivery_attempt(wh->api->d.store, &a, NULL, NULL);
}

static void sent_cb(void *ctx, const http_out_result_t *r)
{
    send_ctx_t *s = ctx;
    api_webhooks_t *wh = s->wh;
    hook_t *h = hook_find(wh, s->hook_id);
    if (h && h->inflight) h->inflight--;
    if (r->cancelled) {
        store_delivery_unclaim(wh->api->d.store, s->delivery_id, NULL, NULL);
    } else {
        record_attempt(wh, h, s, r->status, r->error, r->body, r->body_len, r->retry_after,
                       r->duration_ms);
        schedule(wh);
    }
    free(s);
}

/* The body sent: the envelope around the event's data. Caller frees. */
static char *delivery_body(const store_delivery_t *d)
{
    char id[24], ts[TIME_RFC3339_LEN];
    snprintf(id, sizeof id, "%" PRId64, d->id);
    json_t *data = json_loads(d->payload, 0, NULL);
    json_t *env =
        json_pack("{s:s,s:s,s:s,s:o}", "id", id, "type", d->event_type, "created_at",
                  time_format_rfc3339(d->created_at, ts), "data", data ? data : json_null());
    char *body = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    return body ? body : xstrdup("{}");
}

static void send_one(api_webhooks_t *wh, hook_t *h, const store_delivery_t *d)
{
    char *body = delivery_body(d);
    size_t len = strlen(body);
    char sig[WEBHOOKS_SIGNATURE_MAX], h_event[128], h_id[64], h_sig[160];
    int64_t now = time_now_ms();
    webhooks_sign(h->secret, now / 1000, body, len, sig);
    snprintf(h_event, sizeof h_event, "X-Ampgrid-Event: %s", d->event_type);
    snprintf(h_id, sizeof h_id, "X-Ampgrid-Delivery: %" PRId64, d->id);
    snprintf(h_sig, sizeof h_sig, "X-Ampgrid-Signature: %s", sig);
    const char *headers[] = {"Content-Type: application/json", h_event, h_id, h_sig, NULL};
    send_ctx_t *s = xcalloc(1, sizeof *s);
    s->wh = wh;
    s->hook_id = h->id;
    s->delivery_id = d->id;
    s->attempts = d->attempts;
    s->started = now;
    char err[256];
    if (http_out_post(wh->http, h->url, headers, body, len, wh->cfg.timeout * 1000, sent_cb, s, err,
                      sizeof err) != 0) {
        record_attempt(wh, h, s, 0, err, NULL, 0, -1, 0);
        free(s);
    } else {
        h->inflight++;
    }
    free(body);
}

typedef struct claim_ctx {
    api_webhooks_t *wh;
    int64_t hook_id;
} claim_ctx_t;

static void claimed_cb(void *ctx, store_err_t rc, const store_delivery_t *d, size_t n,
                       int64_t next_due)
{
    claim_ctx_t *cc = ctx;
    api_webhooks_t *wh = cc->wh;
    hook_t *h = hook_find(wh, cc->hook_id);
    free(cc);
    if (!h) return; /* deleted meanwhile, and its deliveries with it */
    h->claiming = false;
    if (rc != STORE_OK) {
        hook_due(wh, h, time_now_ms() + 5000); /* the store failed: try again soon */
        schedule(wh);
        return;
    }
    hook_due(wh, h, next_due);
    for (size_t i = 0; i < n; i++) {
        if (wh->stopping || !h->enabled)
            store_delivery_unclaim(wh->api->d.store, d[i].id, NULL, NULL);
        else
            send_one(wh, h, &d[i]);
    }
    if (!h->enabled && n) hook_due(wh, h, time_now_ms());
    schedule(wh);
}

static void claim(api_webhooks_t *wh, hook_t *h, int64_t now)
{
    h->claiming = true;
    /* what the claim answers replaces what we knew; anything learnt while
     * it runs is merged in (hook_due) */
    h->next_due = INT64_MAX;
    claim_ctx_t *cc = xmalloc(sizeof *cc);
    cc->wh = wh;
    cc->hook_id = h->id;
    store_deliveries_claim(wh->api->d.store, h->id, wh->cfg.concurrency - (int)h->inflight, now,
                           claimed_cb, cc);
}

static void timer_cb(uv_timer_t *t)
{
    schedule(t->data);
}

/* Claims for every webhook with due work and a free slot; arms the timer for
 * the earliest future due time. */
static void schedule(api_webhooks_t *wh)
{
    if (!wh->loaded || wh->stopping) return;
    int64_t now = time_now_ms(), next = INT64_MAX;
    for (hook_t *h = wh->hooks; h; h = h->next) {
        if (!h->enabled || h->claiming || h->inflight >= (unsigned)wh->cfg.concurrency) continue;
        if (h->next_due <= now)
            claim(wh, h, now);
        else if (h->next_due < next)
            next = h->next_due;
    }
    if (next == INT64_MAX)
        uv_timer_stop(&wh->timer);
    else
        uv_timer_start(&wh->timer, timer_cb, (uint64_t)(next - now), 0);
}

typedef struct added_ctx {
    api_webhooks_t *wh;
    size_t n;
    int64_t ids[];
} added_ctx_t;

static void added_cb(void *ctx, store_err_t rc)
{
    added_ctx_t *ac = ctx;
    api_webhooks_t *wh = ac->wh;
    if (rc != STORE_OK) log_error("webhook deliveries could not be stored", "count=%zu", ac->n);
    else wh->stats.pending += (int64_t)ac->n;
    int64_t now = time_now_ms();
    for (size_t i = 0; i < ac->n; i++) {
        hook_t *h = hook_find(wh, ac->ids[i]);
        if (h) hook_due(wh, h, now);
    }
    free(ac);
    schedule(wh);
}

/* Queues deliveries of one webhook event for every enabled webhook that wants it. */
static void fan_out(api_webhooks_t *wh, int ev, const json_t *data)
{
    size_t n = 0;
    for (hook_t *h = wh->hooks; h; h = h->next)
        if (h->enabled && (h->mask & (1u << ev))) n++;
    if (!n) return;
    added_ctx_t *ac = xmalloc(sizeof *ac + n * sizeof ac->ids[0]);
    ac->wh = wh;
    ac->n = 0;
    for (hook_t *h = wh->hooks; h; h = h->next)
        if (h->enabled && (h->mask & (1u << ev))) ac->ids[ac->n++] = h->id;
    char *payload = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
    store_deliveries_add(wh->api->d.store, ac->ids, ac->n, ev_names[ev], payload ? payload : "{}",
                         time_now_ms(), added_cb, ac);
    free(payload);
}

static void handle_event(api_webhooks_t *wh, const char *type, const json_t *data)
{
    for (size_t i = 0; i < sizeof ev_map / sizeof ev_map[0]; i++) {
        if (strcmp(type, ev_map[i].domain) != 0) continue;
        fan_out(wh, ev_map[i].ev, data);
        if (ev_map[i].ev == EV_CONNECTOR_STATUS) {
            const char *st = json_string_value(json_object_get(data, "status"));
            json_t *cur = json_object_get(data, "current");
            if (st && strcmp(st, "Faulted") == 0 && !json_is_false(cur))
                fan_out(wh, EV_CONNECTOR_FAULT, data);
        }
        return;
    }
}

static void on_event(void *ud, const char *type, const json_t *data)
{
    api_webhooks_t *wh = ud;
    if (wh->loaded) {
        handle_event(wh, type, data);
        return;
    }
    bool wanted = false;
    for (size_t i = 0; i < sizeof ev_map / sizeof ev_map[0]; i++)
        wanted |= strcmp(type, ev_map[i].domain) == 0;
    if (!wanted) return;
    if (wh->nbuf >= MAX_BUFFERED) {
        log_warn("webhook event dropped: webhooks not loaded yet", "type=%s", type);
        return;
    }
    buffered_t *b = xcalloc(1, sizeof *b);
    b->type = xstrdup(type);
    b->data = json_deep_copy(data);
    if (wh->buf_tail)
        wh->buf_tail->next = b;
    else
        wh->buf_head = b;
    wh->buf_tail = b;
    wh->nbuf++;
}

static void free_buffer(api_webhooks_t *wh)
{
    while (wh->buf_head) {
        buffered_t *b = wh->buf_head;
        wh->buf_head = b->next;
        free(b->type);
        json_decref(b->data);
        free(b);
    }
    wh->buf_tail = NULL;
    wh->nbuf = 0;
}

static hook_t *hook_from_json(const json_t *o)
{
    hook_t *h = xcalloc(1, sizeof *h);
    h->id = json_integer_value(json_object_get(o, "id"));
    h->url = xstrdup(json_string_value(json_object_get(o, "url")));
    h->secret = xstrdup(json_string_value(json_object_get(o, "secret")));
    h->description = xstrdup_opt(json_string_value(json_object_get(o, "description")));
    const char *types = json_string_value(json_object_get(o, "event_types"));
    h->event_types = types ? json_loads(types, 0, NULL) : NULL;
    if (!json_is_array(h->event_types)) {
        json_decref(h->event_types);
        h->event_types = json_array();
    }
    h->mask = mask_of(h->event_types);
    h->enabled = json_is_true(json_object_get(o, "enabled"));
    h->created_at = json_integer_value(json_object_get(o, "created_at"));
    h->updated_at = json_integer_value(json_object_get(o, "updated_at"));
    h->next_due = 0; /* resume whatever was pending */
    return h;
}

static void prune_cb(void *ctx, store_err_t rc, json_t *res)
{
    api_webhooks_t *wh = ctx;
    wh->pruning = false;
    json_int_t n = json_integer_value(json_object_get(res, "deleted"));
    if (rc == STORE_OK && n > 0)
        log_info("pruned webhook deliveries", "deleted=%lld", (long long)n);
    /* a full batch: more to go, in another transaction so stations never wait long */
    if (rc == STORE_OK && n >= PRUNE_BATCH && !wh->stopping) {
        wh->pruning = true;
        store_deliveries_prune(wh->api->d.store,
                               time_now_ms() - (int64_t)wh->cfg.retention_days * 86400000,
                               PRUNE_BATCH, prune_cb, wh);
    }
}

static void prune(api_webhooks_t *wh)
{
    if (wh->pruning || wh->stopping) return;
    wh->pruning = true;
    wh->last_prune = time_now_ms();
    store_deliveries_prune(wh->api->d.store,
                           wh->last_prune - (int64_t)wh->cfg.retention_days * 86400000, PRUNE_BATCH,
                           prune_cb, wh);
}

static void sweep_cb(uv_timer_t *t)
{
    api_webhooks_t *wh = t->data;
    if (!wh->loaded) return;
    int64_t now = time_now_ms();
    for (hook_t *h = wh->hooks; h; h = h->next)
        hook_due(wh, h, now);
    schedule(wh);
    if (now - wh->last_prune >= PRUNE_EVERY_MS) prune(wh);
}

static void loaded_cb(void *ctx, store_err_t rc, json_t *res)
{
    api_webhooks_t *wh = ctx;
    if (wh->stopping) return;
    if (rc != STORE_OK) {
        log_error("cannot load webhooks; deliveries are off until restart", NULL);
        free_buffer(wh);
        wh->loaded = true;
        update_subscription(wh);
        return;
    }
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(res, "items"), i, o) hook_insert(wh, hook_from_json(o));
    wh->stats.pending = json_integer_value(json_object_get(res, "pending"));
    wh->loaded = true;
    for (buffered_t *b = wh->buf_head; b; b = b->next)
        handle_event(wh, b->type, b->data);
    free_buffer(wh);
    update_subscription(wh);
    prune(wh);
    schedule(wh);
}

void api_webhooks_init(api_t *a, const webhooks_config_t *cfg)
{
    api_webhooks_t *wh = xcalloc(1, sizeof *wh);
    wh->api = a;
    wh->cfg = *cfg;
#define DEF(f, d)                                                                                  \
    if (wh->cfg.f <= 0) wh->cfg.f = d
    DEF(timeout, WEBHOOKS_DEFAULT_TIMEOUT);
    DEF(connect_timeout, WEBHOOKS_DEFAULT_CONNECT_TIMEOUT);
    DEF(retry_base, WEBHOOKS_DEFAULT_RETRY_BASE);
    DEF(max_attempts, WEBHOOKS_DEFAULT_MAX_ATTEMPTS);
    DEF(concurrency, WEBHOOKS_DEFAULT_CONCURRENCY);
    DEF(retention_days, WEBHOOKS_DEFAULT_RETENTION_DAYS);
#undef DEF
    http_out_config_t hc = {
        .user_agent = "ampgrid/" AMPGRID_VERSION,
        .connect_timeout_ms = wh->cfg.connect_timeout * 1000,
        .allow_private = wh->cfg.allow_private,
    };
    wh->http = http_out_create(a->loop, &hc);
    uv_timer_init(a->loop, &wh->timer);
    wh->timer.data = wh;
    uv_unref((uv_handle_t *)&wh->timer);
    uv_timer_init(a->loop, &wh->sweep);
    wh->sweep.data = wh;
    uv_unref((uv_handle_t *)&wh->sweep);
    uv_timer_start(&wh->sweep, sweep_cb, SWEEP_MS, SWEEP_MS);
    a->webhooks = wh;
    update_subscription(wh); /* buffer events until the webhooks are loaded */
    store_webhooks_load(a->d.store, loaded_cb, wh);
}

void api_webhooks_shutdown(api_t *a)
{
    api_webhooks_t *wh = a->webhooks;
    if (!wh || wh->stopping) return;
    wh->stopping = true;
    update_subscription(wh);
    uv_timer_stop(&wh->timer);
    uv_timer_stop(&wh->sweep);
    uv_close((uv_handle_t *)&wh->timer, NULL);
    uv_close((uv_handle_t *)&wh->sweep, NULL);
    http_out_destroy(wh->http); /* in-flight attempts go back to pending, untried */
    wh->http = NULL;
}

void api_webhooks_stats(const api_t *a, api_webhook_stats_t *out)
{
    const api_webhooks_t *wh = a->webhooks;
    *out = wh ? wh->stats : (api_webhook_stats_t){0};
}

void api_webhooks_free(api_t *a)
{
    api_webhooks_t *wh = a->webhooks;
    if (!wh) return;
    while (wh->hooks) {
        hook_t *h = wh->hooks;
        wh->hooks = h->next;
        hook_free(h);
    }
    free_buffer(wh);
    free(wh);
    a->webhooks = NULL;
}

/* ------------------------------------------------------------------ API */

static json_t *hook_json(const hook_t *h, bool with_secret)
{
    char c[TIME_RFC3339_LEN], u[TIME_RFC3339_LEN];
    json_t *o = json_pack("{s:I,s:s,s:O,s:b,s:s?,s:s,s:s}", "id", (json_int_t)h->id, "url", h->url,
                          "event_types", h->event_types, "enabled", h->enabled, "description",
                          h->description, "created_at", time_format_rfc3339(h->created_at, c),
                          "updated_at", time_format_rfc3339(h->updated_at, u));
    if (with_secret) json_object_set_new(o, "secret", json_string(h->secret));
    return o;
}

/* Parses a positive decimal id from a path parameter; 0 when it is not one. */
static int64_t parse_id(const char *s)
{
    if (!*s || strlen(s) > 18) return 0;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9') return 0;
    return (int64_t)strtoll(s, NULL, 10);
}

static hook_t *find_or_404(api_call_t *c)
{
    api_webhooks_t *wh = c->api->webhooks;
    hook_t *h = wh && wh->loaded ? hook_find(wh, parse_id(c->params[0])) : NULL;
    if (!h) {
        if (wh && !wh->loaded)
            api_problem(c, 503, "Service Unavailable", "webhooks are still loading; retry");
        else
            api_problem(c, 404, "Not Found", "no webhook with id '%.64s'", c->params[0]);
    }
    return h;
}

/* The fields a create or patch may set, checked. NULL/absent = unchanged. */
typedef struct hook_spec {
    const char *url, *secret, *description;
    bool has_description;
    json_t *event_types; /* borrowed */
    int enabled;         /* -1 = unchanged */
} hook_spec_t;

static bool read_spec(api_call_t *c, hook_spec_t *sp, bool create)
{
    static const char *const keys[] = {"url",         "event_types", "enabled",
                                       "description", "secret",      NULL};
    const char *k;
    json_t *v;
    memset(sp, 0, sizeof *sp);
    sp->enabled = -1;
    json_object_foreach(c->body, k, v)
    {
        bool known = false;
        for (const char *const *p = keys; *p; p++)
            known |= strcmp(*p, k) == 0;
        if (!known || (!create && strcmp(k, "secret") == 0)) {
            api_problem(c, 400, "Bad Request", "unknown field '%.64s'%s", k,
                        known ? " (change the secret with POST .../rotate-secret)" : "");
            return false;
        }
    }
    char err[256];
    json_t *url = json_object_get(c->body, "url");
    if (url) {
        if (!json_is_string(url)) {
            api_problem(c, 400, "Bad Request", "url must be a string");
            return false;
        }
        sp->url = json_string_value(url);
        if (strlen(sp->url) > MAX_URL) {
            api_problem(c, 400, "Bad Request", "url is longer than %d characters", MAX_URL);
            return false;
        }
        if (!http_out_url_ok(sp->url, err, sizeof err)) {
            api_problem(c, 400, "Bad Request", "%s", err);
            return false;
        }
    } else if (create) {
        api_problem(c, 400, "Bad Request", "url is required (an http:// or https:// URL)");
        return false;
    }
    json_t *types = json_object_get(c->body, "event_types");
    if (types) {
        if (!json_is_array(types) || json_array_size(types) == 0 ||
            json_array_size(types) > MAX_EVENT_TYPES) {
            api_problem(c, 400, "Bad Request",
                        "event_types must be a list of 1 to %d event types, e.g. "
                        "[\"session.started\", \"connector.fault\"] or [\"*\"]",
                        MAX_EVENT_TYPES);
            return false;
        }
        size_t i, j;
        json_t *t, *u;
        json_array_foreach(types, i, t)
        {
            if (!webhooks_event_type_valid(json_string_value(t))) {
                char list[256] = "*";
                for (int e = 0; e < EV_COUNT_; e++)
                    snprintf(list + strlen(list), sizeof list - strlen(list), ", %s", ev_names[e]);
                api_problem(c, 400, "Bad Request",
                            "event_types[%zu] is not an event type a webhook can subscribe to "
                            "(use %s)",
                            i, list);
                return false;
            }
            json_array_foreach(types, j, u)
            {
                if (j < i && json_equal(t, u)) {
                    api_problem(c, 400, "Bad Request", "event_types lists '%s' twice",
                                json_string_value(t));
                    return false;
                }
            }
        }
        sp->event_types = types;
    } else if (create) {
        api_problem(c, 400, "Bad Request",
                    "event_types is required, e.g. [\"session.started\"] or [\"*\"]");
        return false;
    }
    json_t *en = json_object_get(c->body, "enabled");
    if (en) {
        if (!json_is_boolean(en)) {
            api_problem(c, 400, "Bad Request", "enabled must be true or false");
            return false;
        }
        sp->enabled = json_is_true(en);
    }
    json_t *d = json_object_get(c->body, "description");
    if (d) {
        sp->has_description = true;
        if (!json_is_null(d) && !json_is_string(d)) {
            api_problem(c, 400, "Bad Request", "description must be a string or null");
            return false;
        }
        sp->description = json_string_value(d);
        if (sp->description && strlen(sp->description) > MAX_DESCRIPTION) {
            api_problem(c, 400, "Bad Request", "description is longer than %d characters",
                        MAX_DESCRIPTION);
            return false;
        }
    }
    json_t *sec = json_object_get(c->body, "secret");
    if (sec && !json_is_null(sec)) {
        if (!json_is_string(sec)) {
            api_problem(c, 400, "Bad Request", "secret must be a string");
            return false;
        }
        sp->secret = json_string_value(sec);
        size_t n = strlen(sp->secret);
        bool printable = true;
        for (const char *p = sp->secret; *p; p++)
            printable &= *p > 0x20 && *p < 0x7f;
        if (n < MIN_SECRET || n > MAX_SECRET || !printable) {
            api_problem(c, 400, "Bad Request",
                        "secret must be %d to %d printable ASCII characters without spaces "
                        "(or leave it out and one is generated)",
                        MIN_SECRET, MAX_SECRET);
            return false;
        }
    }
    return true;
}

/* An operation in flight: the call, and the webhook as it will be. */
typedef struct change {
    api_call_t *call;
    hook_t *next; /* the new state (owned until applied) */
    json_t *before;
    const char *action;
    bool with_secret;
} change_t;

static void change_free(change_t *ch)
{
    if (ch->next) hook_free(ch->next);
    json_decref(ch->before);
    free(ch);
}

static void saved_cb(void *ctx, store_err_t rc, json_t *res)
{
    change_t *ch = ctx;
    api_call_t *c = ch->call;
    api_webhooks_t *wh = c->api->webhooks;
    if (rc != STORE_OK) {
        if (api_alive(c)) {
            if (rc == STORE_ERR_NOT_FOUND)
                api_problem(c, 404, "Not Found", "the webhook was deleted meanwhile");
            else
                api_problem(c, 503, "Service Unavailable", "the change could not be stored; retry");
        }
        change_free(ch);
        return;
    }
    hook_t *n = ch->next;
    ch->next = NULL;
    bool created = n->id == 0;
    if (created) n->id = json_integer_value(json_object_get(res, "id"));
    hook_t *old = hook_find(wh, n->id);
    bool was_enabled = old && old->enabled;
    if (old) {
        n->inflight = old->inflight;
        n->claiming = old->claiming;
        n->next_due = old->next_due;
        hook_remove(wh, old);
        hook_free(old);
    }
    if (n->enabled && !was_enabled) n->next_due = 0; /* resume what waited */
    hook_insert(wh, n);
    update_subscription(wh);
    schedule(wh);
    char idstr[24];
    snprintf(idstr, sizeof idstr, "%" PRId64, n->id);
    json_t *after = hook_json(n, false);
    if (api_alive(c)) {
        api_audit(c, ch->action, "webhook", idstr, ch->before, after);
        json_t *out = hook_json(n, ch->with_secret);
        api_json(c, created ? 201 : 200, out);
    }
    json_decref(after);
    change_free(ch);
}

static void save(api_call_t *c, change_t *ch)
{
    hook_t *n = ch->next;
    json_t *types = n->event_types;
    char *types_s = json_dumps(types, JSON_COMPACT);
    store_webhook_t w = {
        .id = n->id,
        .url = n->url,
        .secret = n->secret,
        .event_types = types_s,
        .enabled = n->enabled,
        .description = n->description,
        .created_by = c->token_name,
        .created_at = n->created_at,
        .updated_at = n->updated_at,
    };
    api_hold(c);
    store_webhook_save(c->api->d.store, &w, saved_cb, ch);
    free(types_s);
}

static char *new_secret(void)
{
    char hex[65];
    password_random_hex(32, hex);
    char *s = xmalloc(72);
    snprintf(s, 72, "whsec_%s", hex);
    return s;
}

void api_webhooks_list(api_call_t *c)
{
    api_webhooks_t *wh = c->api->webhooks;
    if (!wh->loaded) {
        api_problem(c, 503, "Service Unavailable", "webhooks are still loading; retry");
        return;
    }
    json_t *items = json_array();
    for (hook_t *h = wh->hooks; h; h = h->next)
        json_array_append_new(items, hook_json(h, false));
    api_json(c, 200, json_pack("{s:o}", "items", items));
}

void api_webhooks_create(api_call_t *c)
{
    api_webhooks_t *wh = c->api->webhooks;
    hook_spec_t sp;
    if (!read_spec(c, &sp, true)) return;
    if (!wh->loaded) {
        api_problem(c, 503, "Service Unavailable", "webhooks are still loading; retry");
        return;
    }
    unsigned count = 0;
    for (hook_t *h = wh->hooks; h; h = h->next)
        count++;
    if (count >= MAX_WEBHOOKS) {
        api_problem(c, 400, "Bad Request", "there are already %d webhooks, the most allowed",
                    MAX_WEBHOOKS);
        return;
    }
    hook_t *n = xcalloc(1, sizeof *n);
    n->url = xstrdup(sp.url);
    n->secret = sp.secret ? xstrdup(sp.secret) : new_secret();
    n->description = xstrdup_opt(sp.description);
    n->event_types = json_deep_copy(sp.event_types);
    n->mask = mask_of(n->event_types);
    n->enabled = sp.enabled != 0;
    n->created_at = n->updated_at = time_now_ms();
    n->next_due = INT64_MAX;
    change_t *ch = xcalloc(1, sizeof *ch);
    ch->call = c;
    ch->next = n;
    ch->action = "webhook.create";
    ch->with_secret = true;
    save(c, ch);
}

void api_webhooks_get(api_call_t *c)
{
    hook_t *h = find_or_404(c);
    if (h) api_json(c, 200, hook_json(h, false));
}

static hook_t *hook_copy(const hook_t *h)
{
    hook_t *n = xcalloc(1, sizeof *n);
    n->id = h->id;
    n->url = xstrdup(h->url);
    n->secret = xstrdup(h->secret);
    n->description = xstrdup_opt(h->description);
    n->event_types = json_deep_copy(h->event_types);
    n->mask = h->mask;
    n->enabled = h->enabled;
    n->created_at = h->created_at;
    n->updated_at = time_now_ms();
    n->next_due = h->next_due;
    return n;
}

void api_webhooks_patch(api_call_t *c)
{
    hook_spec_t sp;
    if (!read_spec(c, &sp, false)) return;
    hook_t *h = find_or_404(c);
    if (!h) return;
    hook_t *n = hook_copy(h);
    if (sp.url) {
        free(n->url);
        n->url = xstrdup(sp.url);
    }
    if (sp.event_types) {
        json_decref(n->event_types);
        n->event_types = json_deep_copy(sp.event_types);
        n->mask = mask_of(n->event_types);
    }
    if (sp.enabled >= 0) n->enabled = sp.enabled;
    if (sp.has_description) {
        free(n->description);
        n->description = xstrdup_opt(sp.description);
    }
    change_t *ch = xcalloc(1, sizeof *ch);
    ch->call = c;
    ch->next = n;
    ch->before = hook_json(h, false);
    ch->action = "webhook.update";
    save(c, ch);
}

void api_webhooks_rotate_secret(api_call_t *c)
{
    hook_t *h = find_or_404(c);
    if (!h) return;
    hook_t *n = hook_copy(h);
    if (n->secret) sodium_memzero(n->secret, strlen(n->secret));
    free(n->secret);
    n->secret = new_secret();
    change_t *ch = xcalloc(1, sizeof *ch);
    ch->call = c;
    ch->next = n;
    ch->before = hook_json(h, false);
    ch->action = "webhook.rotate_secret";
    ch->with_secret = true;
    save(c, ch);
}

typedef struct del_ctx {
    api_call_t *call;
    int64_t id;
    json_t *before;
} del_ctx_t;

static void deleted_cb(void *ctx, store_err_t rc, json_t *res)
{
    del_ctx_t *d = ctx;
    api_call_t *c = d->call;
    api_webhooks_t *wh = c->api->webhooks;
    if (rc == STORE_OK) {
        wh->stats.pending -= json_integer_value(json_object_get(res, "pending"));
        if (wh->stats.pending < 0) wh->stats.pending = 0;
    }
    if (rc == STORE_OK || rc == STORE_ERR_NOT_FOUND) {
        hook_t *h = hook_find(wh, d->id);
        if (h) {
            hook_remove(wh, h);
            hook_free(h);
        }
        update_subscription(wh);
    }
    if (api_alive(c)) {
        if (rc == STORE_OK) {
            api_audit(c, "webhook.delete", "webhook", c->params[0], d->before, NULL);
            api_no_content(c);
        } else if (rc == STORE_ERR_NOT_FOUND) {
            api_problem(c, 404, "Not Found", "no webhook with id '%.64s'", c->params[0]);
        } else {
            api_problem(c, 503, "Service Unavailable", "the change could not be stored; retry");
        }
    }
    json_decref(d->before);
    free(d);
}

void api_webhooks_delete(api_call_t *c)
{
    hook_t *h = find_or_404(c);
    if (!h) return;
    del_ctx_t *d = xcalloc(1, sizeof *d);
    d->call = c;
    d->id = h->id;
    d->before = hook_json(h, false);
    api_hold(c);
    store_webhook_delete(c->api->d.store, h->id, deleted_cb, d);
}

typedef struct queued_ctx {
    api_call_t *call;
    int64_t hook_id;
    const char *action;
} queued_ctx_t;

static void queued_cb(void *ctx, store_err_t rc, json_t *res)
{
    queued_ctx_t *q = ctx;
    api_call_t *c = q->call;
    api_webhooks_t *wh = c->api->webhooks;
    hook_t *h = hook_find(wh, q->hook_id);
    if (rc == STORE_OK) wh->stats.pending++;
    if (rc == STORE_OK && h) {
        hook_due(wh, h, time_now_ms());
        schedule(wh);
    }
    if (api_alive(c)) {
        if (rc == STORE_OK) {
            api_audit(c, q->action, "webhook", c->params[0], NULL, res);
            api_json(c, 202, json_incref(res));
        } else if (rc == STORE_ERR_NOT_FOUND) {
            api_problem(c, 404, "Not Found", "webhook %.64s has no delivery '%.64s'", c->params[0],
                        c->params[1]);
        } else {
            api_problem(c, 503, "Service Unavailable", "the delivery could not be stored; retry");
        }
    }
    free(q);
}

void api_webhooks_test(api_call_t *c)
{
    hook_t *h = find_or_404(c);
    if (!h) return;
    queued_ctx_t *q = xcalloc(1, sizeof *q);
    q->call = c;
    q->hook_id = h->id;
    q->action = "webhook.test";
    json_t *data = json_pack("{s:I,s:s}", "webhook_id", (json_int_t)h->id, "message",
                             "a test delivery requested through the API");
    char *payload = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    api_hold(c);
    store_delivery_add_one(c->api->d.store, h->id, "ping", payload, time_now_ms(), queued_cb, q);
    free(payload);
}

void api_webhooks_redeliver(api_call_t *c)
{
    hook_t *h = find_or_404(c);
    if (!h) return;
    int64_t did = parse_id(c->params[1]);
    if (!did) {
        api_problem(c, 404, "Not Found", "webhook %.64s has no delivery '%.64s'", c->params[0],
                    c->params[1]);
        return;
    }
    queued_ctx_t *q = xcalloc(1, sizeof *q);
    q->call = c;
    q->hook_id = h->id;
    q->action = "webhook.redeliver";
    api_hold(c);
    store_delivery_redeliver(c->api->d.store, h->id, did, time_now_ms(), queued_cb, q);
}

/* A delivery never attempted sorts before every attempt time. */
static const api_sort_field_t delivery_sorts[] = {
    {"id", false, NULL},
    {"created_at", false, NULL},
    {"last_attempt_at", false, NULL},
    {"attempts", false, NULL},
    {NULL, false, NULL},
};
static const api_list_t delivery_list = {delivery_sorts, "-id", false, 50, 500};

void api_webhooks_deliveries(api_call_t *c)
{
    const char *state = api_query(c, "state");
    if (state && strcmp(state, "pending") && strcmp(state, "sending") &&
        strcmp(state, "succeeded") && strcmp(state, "failed")) {
        api_problem(c, 400, "Bad Request", "state must be pending, sending, succeeded or failed");
        return;
    }
    api_page_t page;
    if (!api_page_read(c, &delivery_list, &page)) return;
    hook_t *h = find_or_404(c);
    if (!h) {
        api_page_clear(&page);
        return;
    }
    store_page_t sp = api_page_store(&page);
    store_deliveries_query(c->api->d.store, h->id, state, &sp, api_page_done,
                           api_page_hold(c, &page, NULL));
}

static void delivery_cb(void *ctx, store_err_t rc, json_t *res)
{
    api_call_t *c = ctx;
    if (!api_alive(c)) return;
    if (rc == STORE_ERR_NOT_FOUND)
        api_problem(c, 404, "Not Found", "webhook %.64s has no delivery '%.64s'", c->params[0],
                    c->params[1]);
    else if (rc != STORE_OK)
        api_problem(c, 503, "Service Unavailable", "the delivery could not be read; retry");
    else
        api_json(c, 200, json_incref(res));
}

void api_webhooks_delivery_get(api_call_t *c)
{
    hook_t *h = find_or_404(c);
    if (!h) return;
    int64_t did = parse_id(c->params[1]);
    if (!did) {
        api_problem(c, 404, "Not Found", "webhook %.64s has no delivery '%.64s'", c->params[0],
                    c->params[1]);
        return;
    }
    api_hold(c);
    store_delivery_get(c->api->d.store, h->id, did, delivery_cb, c);
}
