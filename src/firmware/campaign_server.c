/*
 * The campaign engine (see campaign_server.h). Its memory mirrors the rows of
 * the running and paused campaigns; a change is made in memory at once (so
 * the next decision sees it), written as one row, and announced from the
 * write's completion. The store runs operations in the order they were
 * queued, so a station's row and then its campaign's row always land in the
 * order they changed.
 *
 * A station is matched to its campaign by station id among the stations in
 * flight (a station is in flight in one campaign at a time: the engine does
 * not start a station another campaign has in flight), and, for 2.0.1, by
 * the requestId its FirmwareStatusNotification carries when the domain
 * passes it on.
 */
#include "firmware/campaign_server.h"

#include "firmware/firmware_repo.h"
#include "store/store_campaigns.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#define TICK_MS 1000
#define MAX_PICK 256

typedef struct cstation {
    char *id;
    int position;
    campaign_st_t state;
    int attempts, failures;
    int64_t request_id;
    char *error, *last_status;
    int64_t state_at, started_at, finished_at;
} cstation_t;

typedef struct camp {
    int64_t id;
    char *name;
    int64_t image_id;
    char *version, *filename, *signing_certificate, *signature;
    campaign_spec_t spec;
    campaign_state_t state;
    char *paused_reason;
    bool promoted;
    int64_t base_failures, base_attempts, started_at;
    cstation_t *st;
    size_t n;
    struct camp *next;
} camp_t;

struct campaign_server {
    uv_loop_t *loop;
    csms_t *csms;
    store_t *store;
    const firmware_repo_t *repo;
    uv_timer_t tick;
    camp_t *camps;
    int64_t next_request_id;
    bool running;
};

/* ------------------------------------------------------------- helpers */

static void set_str(char **slot, const char *v)
{
    free(*slot);
    *slot = xstrdup_opt(v);
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int64_t jint(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static camp_t *camp_find(campaign_server_t *s, int64_t id)
{
    for (camp_t *c = s->camps; c; c = c->next)
        if (c->id == id) return c;
    return NULL;
}

static cstation_t *station_in(camp_t *c, const char *id)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->st[i].id, id) == 0) return &c->st[i];
    return NULL;
}

static void camp_free(camp_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->st[i].id);
        free(c->st[i].error);
        free(c->st[i].last_status);
    }
    free(c->st);
    free(c->name);
    free(c->version);
    free(c->filename);
    free(c->signing_certificate);
    free(c->signature);
    free(c->paused_reason);
    free(c);
}

static void camp_unlink(campaign_server_t *s, camp_t *c)
{
    for (camp_t **p = &s->camps; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            return;
        }
    }
}

/* Finished attempts and failed ones over the whole campaign. */
static void tally(const camp_t *c, int64_t *failures, int64_t *attempts)
{
    *failures = *attempts = 0;
    for (size_t i = 0; i < c->n; i++) {
        *failures += c->st[i].failures;
        *attempts += c->st[i].failures + (c->st[i].state == CST_SUCCEEDED);
    }
}

static json_t *camp_json(const camp_t *c)
{
    json_t *counts = json_object();
    size_t k[CST_COUNT_] = {0};
    for (size_t i = 0; i < c->n; i++)
        k[c->st[i].state]++;
    for (int i = 0; i < CST_COUNT_; i++)
        if (k[i])
            json_object_set_new(counts, campaign_st_name((campaign_st_t)i),
                                json_integer((json_int_t)k[i]));
    return json_pack("{s:I,s:s,s:s,s:o,s:b,s:I,s:o}", "id", (json_int_t)c->id, "name", c->name,
                     "state", campaign_state_name(c->state), "paused_reason",
                     c->paused_reason ? json_string(c->paused_reason) : json_null(), "promoted",
                     c->promoted, "stations_total", (json_int_t)c->n, "progress", counts);
}

static json_t *station_json(const camp_t *c, const cstation_t *st)
{
    char at[TIME_RFC3339_LEN];
    return json_pack("{s:I,s:s,s:i,s:s,s:i,s:i,s:o,s:o,s:o,s:s}", "campaign_id", (json_int_t)c->id,
                     "station_id", st->id, "position", st->position, "state",
                     campaign_st_name(st->state), "attempts", st->attempts, "failures",
                     st->failures, "request_id",
                     st->request_id ? json_integer(st->request_id) : json_null(), "error",
                     st->error ? json_string(st->error) : json_null(), "last_status",
                     st->last_status ? json_string(st->last_status) : json_null(), "state_at",
                     time_format_rfc3339(st->state_at, at));
}

/* ------------------------------------------------------------ persistence */

typedef struct saved {
    campaign_server_t *srv;
    char type[24];
    json_t *event;  /* emitted after the commit */
    json_t *event2; /* a second one (campaign.paused), or NULL */
    campaign_done_cb done;
    void *ctx;
} saved_t;

static void saved_cb(void *ctx, store_err_t rc, json_t *res)
{
    (void)res;
    saved_t *v = ctx;
    if (rc != STORE_OK) {
        log_error("campaign change not stored", "type=%s", v->type);
        json_decref(v->event);
        json_decref(v->event2);
    } else {
        csms_emit(v->srv->csms, v->type, v->event);
        if (v->event2) csms_emit(v->srv->csms, "campaign.paused", v->event2);
    }
    if (v->done)
        v->done(v->ctx, rc == STORE_OK ? CAMPAIGN_OK : CAMPAIGN_ERR_STORE,
                rc == STORE_OK ? NULL : "the change could not be stored; retry");
    free(v);
}

static saved_t *saved_new(campaign_server_t *s, const char *type, json_t *event,
                          campaign_done_cb done, void *ctx)
{
    saved_t *v = xcalloc(1, sizeof *v);
    v->srv = s;
    snprintf(v->type, sizeof v->type, "%s", type);
    v->event = event;
    v->done = done;
    v->ctx = ctx;
    return v;
}

static void save_camp(campaign_server_t *s, camp_t *c, json_t *paused_event, campaign_done_cb done,
                      void *ctx)
{
    store_campaign_run_t r = {
        .id = c->id,
        .state = campaign_state_name(c->state),
        .paused_reason = c->paused_reason,
        .promoted = c->promoted,
        .base_failures = c->base_failures,
        .base_attempts = c->base_attempts,
        .started_at = c->started_at,
        .updated_at = time_now_ms(),
    };
    if (c->state == CAMPAIGN_COMPLETED || c->state == CAMPAIGN_CANCELLED)
        r.finished_at = r.updated_at;
    saved_t *v = saved_new(s, "campaign.updated", camp_json(c), done, ctx);
    v->event2 = paused_event;
    store_campaign_save(s->store, &r, saved_cb, v);
}

static void save_station(campaign_server_t *s, camp_t *c, cstation_t *st, store_json_cb cb,
                         void *cb_ctx)
{
    int64_t now = time_now_ms();
    store_campaign_station_t r = {
        .campaign_id = c->id,
        .station_id = st->id,
        .position = st->position,
        .state = campaign_st_name(st->state),
        .attempts = st->attempts,
        .failures = st->failures,
        .request_id = st->request_id,
        .error = st->error,
        .last_status = st->last_status,
        .state_at = st->state_at,
        .started_at = st->started_at,
        .finished_at = st->finished_at,
        .updated_at = now,
    };
    if (!cb) {
        cb = saved_cb;
        cb_ctx = saved_new(s, "campaign.station", station_json(c, st), NULL, NULL);
    }
    store_campaign_station_save(s->store, &r, cb, cb_ctx);
}

/* ------------------------------------------------------------- decisions */

static void evaluate(campaign_server_t *s, camp_t *c);

static void move(campaign_server_t *s, camp_t *c, cstation_t *st, campaign_st_t to)
{
    st->state = to;
    st->state_at = time_now_ms();
    if (campaign_st_terminal(to)) st->finished_at = st->state_at;
    save_station(s, c, st, NULL, NULL);
}

/* A failed attempt: back to pending while retries are left. */
static void fail(campaign_server_t *s, camp_t *c, cstation_t *st, const char *error)
{
    char q[100];
    log_warn("firmware update failed", "campaign=%lld station=%s error=%s attempt=%d",
             (long long)c->id, log_quote(st->id, q, sizeof q), error, st->attempts);
    st->failures++;
    set_str(&st->error, error);
    move(s, c, st, st->attempts <= c->spec.retries ? CST_PENDING : CST_FAILED);
    evaluate(s, c);
}

static void pause_for_threshold(campaign_server_t *s, camp_t *c, int64_t f, int64_t a)
{
    char reason[200];
    snprintf(reason, sizeof reason,
             "failure threshold passed: %lld of %lld finished attempts failed (more than %d%%)",
             (long long)f, (long long)a, c->spec.failure_threshold);
    log_warn("campaign paused", "campaign=%lld reason=\"%s\"", (long long)c->id, reason);
    c->state = CAMPAIGN_PAUSED;
    set_str(&c->paused_reason, reason);
    json_t *ev = json_pack("{s:I,s:s,s:s,s:I,s:I}", "id", (json_int_t)c->id, "name", c->name,
                           "reason", reason, "failures", (json_int_t)f, "attempts", (json_int_t)a);
    save_camp(s, c, ev, NULL, NULL);
}

/* After any station change: threshold, completion. */
static void evaluate(campaign_server_t *s, camp_t *c)
{
    if (c->state != CAMPAIGN_RUNNING) return;
    int64_t f, a;
    tally(c, &f, &a);
    if (campaign_threshold_passed(&c->spec, f - c->base_failures, a - c->base_attempts)) {
        pause_for_threshold(s, c, f - c->base_failures, a - c->base_attempts);
        return;
    }
    campaign_slot_t *slots = xcalloc(c->n ? c->n : 1, sizeof *slots);
    for (size_t i = 0; i < c->n; i++)
        slots[i].state = c->st[i].state;
    bool done = campaign_all_terminal(slots, c->n);
    free(slots);
    if (!done) return;
    log_info("campaign completed", "campaign=%lld", (long long)c->id);
    c->state = CAMPAIGN_COMPLETED;
    camp_unlink(s, c);
    save_camp(s, c, NULL, NULL, NULL);
    camp_free(c);
}

/* Whether another campaign has this station in flight. */
static bool in_flight_elsewhere(campaign_server_t *s, const camp_t *self, const char *id)
{
    for (camp_t *c = s->camps; c; c = c->next) {
        if (c == self) continue;
        cstation_t *st = station_in((camp_t *)c, id);
        if (st && campaign_st_in_flight(st->state)) return true;
    }
    return false;
}

/* ------------------------------------------------------------ dispatching */

typedef struct send_ctx {
    campaign_server_t *srv;
    int64_t campaign_id, request_id;
    char station_id[64];
} send_ctx_t;

static cstation_t *current(campaign_server_t *s, const send_ctx_t *x, camp_t **out)
{
    camp_t *c = camp_find(s, x->campaign_id);
    cstation_t *st = c ? station_in(c, x->station_id) : NULL;
    if (!st || st->request_id != x->request_id) return NULL;
    *out = c;
    return st;
}

static void answered_cb(void *ctx, const csms_cmd_result_t *r)
{
    send_ctx_t *x = ctx;
    camp_t *c;
    cstation_t *st = current(x->srv, x, &c);
    if (st && st->state == CST_SCHEDULED) {
        const char *status = r->status == CSMS_CMD_OK ? jstr(r->payload, "status") : NULL;
        if (r->status == CSMS_CMD_OK && (!status || strcmp(status, "Accepted") == 0 ||
                                         strcmp(status, "AcceptedCanceled") == 0)) {
            move(x->srv, c, st, CST_SENT);
        } else if (r->status == CSMS_CMD_OK) {
            set_str(&st->last_status, status);
            fail(x->srv, c, st, "rejected");
        } else {
            fail(x->srv, c, st, r->status == CSMS_CMD_TIMEOUT ? "no_answer" : "not_sent");
        }
    }
    free(x);
}

static json_t *update_payload(const camp_t *c, const cstation_t *st, const char *protocol,
                              const char *url)
{
    char now[TIME_RFC3339_LEN];
    time_format_rfc3339(time_now_ms(), now);
    if (!protocol || strcmp(protocol, "ocpp1.6") == 0)
        return json_pack("{s:s,s:s}", "location", url, "retrieveDate", now);
    json_t *fw = json_pack("{s:s,s:s}", "location", url, "retrieveDateTime", now);
    if (c->signing_certificate && c->signing_certificate[0])
        json_object_set_new(fw, "signingCertificate", json_string(c->signing_certificate));
    if (c->signature && c->signature[0])
        json_object_set_new(fw, "signature", json_string(c->signature));
    return json_pack("{s:I,s:o}", "requestId", (json_int_t)st->request_id, "firmware", fw);
}

/* The "scheduled" row committed: now the station may be told. */
static void scheduled_cb(void *ctx, store_err_t rc, json_t *res)
{
    (void)res;
    send_ctx_t *x = ctx;
    campaign_server_t *s = x->srv;
    camp_t *c;
    cstation_t *st = current(s, x, &c);
    if (!st || st->state != CST_SCHEDULED) {
        free(x);
        return;
    }
    if (rc != STORE_OK) { /* not durable: the timeout fails it */
        log_error("campaign station not stored", "campaign=%lld", (long long)c->id);
        free(x);
        return;
    }
    csms_emit(s->csms, "campaign.station", station_json(c, st));
    char url[2048], err[256];
    csms_station_t *cs = csms_station_find(s->csms, st->id);
    const char *proto = cs && cs->link ? cs->link_ops->protocol(cs->link) : NULL;
    if (!s->repo || firmware_repo_download_url(s->repo, c->image_id, c->filename, st->id,
                                               c->spec.url_ttl, url, sizeof url) != 0) {
        free(x);
        fail(s, c, st, "no_download_url");
        return;
    }
    json_t *p = update_payload(c, st, proto, url);
    csms_err_t e =
        csms_command(s->csms, st->id, "UpdateFirmware", p, answered_cb, x, err, sizeof err);
    json_decref(p);
    if (e != CSMS_OK) {
        free(x);
        fail(s, c, st, e == CSMS_ERR_NOT_CONNECTED ? "not_connected" : "not_sent");
    }
}

static void dispatch(campaign_server_t *s, camp_t *c, cstation_t *st)
{
    int64_t now = time_now_ms();
    st->attempts++;
    st->request_id = s->next_request_id++;
    st->started_at = now;
    st->finished_at = 0;
    set_str(&st->last_status, NULL);
    st->state = CST_SCHEDULED;
    st->state_at = now;
    send_ctx_t *x = xcalloc(1, sizeof *x);
    x->srv = s;
    x->campaign_id = c->id;
    x->request_id = st->request_id;
    snprintf(x->station_id, sizeof x->station_id, "%s", st->id);
    save_station(s, c, st, scheduled_cb, x);
}

typedef struct busy_set {
    const char *id;
    UT_hash_handle hh;
} busy_set_t;

static void step(campaign_server_t *s, camp_t *c, int64_t now)
{
    for (size_t i = 0; i < c->n; i++)
        if (campaign_timed_out(&c->spec, c->st[i].state, c->st[i].state_at, now)) {
            fail(s, c, &c->st[i], "timeout");
            if (camp_find(s, c->id) != c) return; /* completed and freed */
        }
    if (c->state != CAMPAIGN_RUNNING) return;
    evaluate(s, c); /* e.g. resumed with every station finished */
    if (camp_find(s, c->id) != c || c->state != CAMPAIGN_RUNNING) return;
    busy_set_t *busy = NULL, *b, *tmp;
    for (csms_tx_t *t = csms_tx_first(s->csms); t; t = t->hh.next) {
        HASH_FIND_STR(busy, t->station_id, b);
        if (b) continue;
        b = xcalloc(1, sizeof *b);
        b->id = t->station_id;
        HASH_ADD_KEYPTR(hh, busy, b->id, strlen(b->id), b);
    }
    campaign_slot_t *slots = xcalloc(c->n ? c->n : 1, sizeof *slots);
    for (size_t i = 0; i < c->n; i++) {
        csms_station_t *cs = csms_station_find(s->csms, c->st[i].id);
        HASH_FIND_STR(busy, c->st[i].id, b);
        slots[i].state = c->st[i].state;
        slots[i].connected = cs && cs->link && csms_station_may_operate(cs) &&
                             !in_flight_elsewhere(s, c, c->st[i].id);
        slots[i].busy = b != NULL;
    }
    HASH_ITER(hh, busy, b, tmp)
    {
        HASH_DEL(busy, b);
        free(b);
    }
    size_t pick[MAX_PICK];
    campaign_plan_t p =
        campaign_plan_next(&c->spec, c->promoted, slots, c->n,
                           campaign_window_open(&c->spec.window, now), pick, MAX_PICK);
    free(slots);
    for (size_t i = 0; i < p.picked; i++)
        dispatch(s, c, &c->st[pick[i]]);
}

static void tick_cb(uv_timer_t *t)
{
    campaign_server_t *s = t->data;
    int64_t now = time_now_ms();
    for (camp_t *c = s->camps, *next; c; c = next) {
        next = c->next;
        step(s, c, now);
    }
}

/* ------------------------------------------------------------ the station */

/* The campaign station in flight for this station (matching the request id
 * when there is one). */
static cstation_t *in_flight(campaign_server_t *s, const char *id, int64_t request_id, camp_t **out)
{
    for (camp_t *c = s->camps; c; c = c->next) {
        cstation_t *st = station_in(c, id);
        if (!st || !campaign_st_in_flight(st->state)) continue;
        if (request_id > 0 && st->request_id != request_id) continue;
        *out = c;
        return st;
    }
    return NULL;
}

static void on_firmware_status(campaign_server_t *s, const char *id, const json_t *detail)
{
    const char *status = jstr(detail, "status");
    json_t *rq = json_object_get(detail, "request_id");
    camp_t *c;
    cstation_t *st = in_flight(s, id, json_is_integer(rq) ? json_integer_value(rq) : 0, &c);
    if (!st || !status) return;
    bool failure;
    int to = campaign_st_of_status(status, &failure);
    if (to < 0) return;
    set_str(&st->last_status, status);
    if (failure) {
        fail(s, c, st, status);
        return;
    }
    if ((campaign_st_t)to == st->state) {
        save_station(s, c, st, NULL, NULL);
        return;
    }
    move(s, c, st, (campaign_st_t)to);
}

static void on_boot(campaign_server_t *s, const char *id, const char *version)
{
    camp_t *c;
    cstation_t *st = in_flight(s, id, 0, &c);
    if (!st || !c->version) return;
    if (version && strcmp(version, c->version) == 0) {
        set_str(&st->error, NULL);
        move(s, c, st, CST_SUCCEEDED);
        log_info("firmware update confirmed", "campaign=%lld version=%s", (long long)c->id,
                 version);
        evaluate(s, c);
    } else if (st->state >= CST_INSTALLING) {
        fail(s, c, st, "version_mismatch");
    }
}

static void on_event(void *ud, const char *type, const json_t *data)
{
    campaign_server_t *s = ud;
    if (!s->camps) return;
    const char *id = jstr(data, "station_id");
    if (!id) return;
    if (strcmp(type, "station.notification") == 0) {
        const char *kind = jstr(data, "kind");
        if (kind && strcmp(kind, "firmware_status") == 0)
            on_firmware_status(s, id, json_object_get(data, "detail"));
    } else if (strcmp(type, "station.boot") == 0) {
        on_boot(s, id, jstr(data, "firmware_version"));
    }
}

/* ---------------------------------------------------------------- loading */

static void load_station(cstation_t *st, const json_t *row)
{
    st->id = xstrdup(jstr(row, "station_id"));
    st->position = (int)jint(row, "position");
    int k = campaign_st_parse(jstr(row, "state"));
    st->state = k < 0 ? CST_PENDING : (campaign_st_t)k;
    st->attempts = (int)jint(row, "attempts");
    st->failures = (int)jint(row, "failures");
    st->request_id = jint(row, "request_id");
    st->error = xstrdup_opt(jstr(row, "error"));
    st->last_status = xstrdup_opt(jstr(row, "last_status"));
    st->state_at = jint(row, "state_at");
    st->started_at = jint(row, "started_at");
    st->finished_at = jint(row, "finished_at");
}

static camp_t *camp_of_row(const json_t *row, const json_t *stations)
{
    camp_t *c = xcalloc(1, sizeof *c);
    c->id = jint(row, "id");
    c->name = xstrdup_opt(jstr(row, "name"));
    if (!c->name) c->name = xstrdup("");
    c->image_id = jint(row, "image_id");
    c->version = xstrdup_opt(jstr(row, "version"));
    c->filename = xstrdup_opt(jstr(row, "filename"));
    c->signing_certificate = xstrdup_opt(jstr(row, "signing_certificate"));
    c->signature = xstrdup_opt(jstr(row, "signature"));
    campaign_spec_default(&c->spec);
    json_t *settings = json_loads(jstr(row, "settings") ? jstr(row, "settings") : "{}", 0, NULL);
    char err[200];
    if (campaign_spec_apply(&c->spec, settings, err, sizeof err) != 0)
        log_warn("campaign settings not understood", "campaign=%lld error=\"%s\"", (long long)c->id,
                 err);
    json_decref(settings);
    int k = campaign_state_parse(jstr(row, "state"));
    c->state = k < 0 ? CAMPAIGN_PAUSED : (campaign_state_t)k;
    c->paused_reason = xstrdup_opt(jstr(row, "paused_reason"));
    c->promoted = jint(row, "promoted") != 0;
    c->base_failures = jint(row, "base_failures");
    c->base_attempts = jint(row, "base_attempts");
    c->started_at = jint(row, "started_at");
    c->n = json_array_size(stations);
    c->st = xcalloc(c->n ? c->n : 1, sizeof *c->st);
    for (size_t i = 0; i < c->n; i++)
        load_station(&c->st[i], json_array_get(stations, i));
    return c;
}

static int load(campaign_server_t *s, char *err, size_t err_len)
{
    json_t *rows = NULL;
    int64_t max_rq = 0;
    if (store_campaigns_load_sync(s->store, &rows, &max_rq) != 0) {
        snprintf(err, err_len, "cannot load the firmware campaigns from the database");
        return -1;
    }
    s->next_request_id = max_rq + 1;
    camp_t **tail = &s->camps;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        *tail = camp_of_row(row, json_object_get(row, "stations"));
        tail = &(*tail)->next;
    }
    if (json_array_size(rows))
        log_info("firmware campaigns resumed", "count=%zu", json_array_size(rows));
    json_decref(rows);
    return 0;
}

campaign_server_t *campaign_server_create(uv_loop_t *loop, csms_t *csms, store_t *store,
                                          const struct firmware_repo *repo, char *err,
                                          size_t err_len)
{
    campaign_server_t *s = xcalloc(1, sizeof *s);
    s->loop = loop;
    s->csms = csms;
    s->store = store;
    s->repo = repo;
    if (load(s, err, err_len) != 0) {
        free(s);
        return NULL;
    }
    uv_timer_init(loop, &s->tick);
    s->tick.data = s;
    uv_timer_start(&s->tick, tick_cb, TICK_MS, TICK_MS);
    csms_subscribe_typed(csms, on_event, NULL, s); /* no meter.values */
    s->running = true;
    return s;
}

void campaign_server_stop(campaign_server_t *s)
{
    if (!s || !s->running) return;
    s->running = false;
    csms_unsubscribe(s->csms, on_event, s);
    uv_timer_stop(&s->tick);
    uv_close((uv_handle_t *)&s->tick, NULL);
}

void campaign_server_free(campaign_server_t *s)
{
    if (!s) return;
    while (s->camps) {
        camp_t *c = s->camps;
        s->camps = c->next;
        camp_free(c);
    }
    free(s);
}

/* ------------------------------------------------------ operator actions */

typedef struct start_ctx {
    campaign_server_t *srv;
    int64_t id;
    json_t *row;   /* the campaign's row */
    json_t *image; /* its image's row */
    json_t *ids;
    campaign_done_cb done;
    void *ctx;
} start_ctx_t;

static void start_free(start_ctx_t *x)
{
    json_decref(x->row);
    json_decref(x->image);
    json_decref(x->ids);
    free(x);
}

static void started_cb(void *ctx, store_err_t rc, json_t *res)
{
    (void)res;
    start_ctx_t *x = ctx;
    campaign_server_t *s = x->srv;
    if (rc == STORE_ERR_NOT_FOUND) {
        x->done(x->ctx, CAMPAIGN_ERR_CONFLICT, "the campaign is no longer a draft");
        start_free(x);
        return;
    }
    if (rc != STORE_OK) {
        x->done(x->ctx, CAMPAIGN_ERR_STORE, "the change could not be stored; retry");
        start_free(x);
        return;
    }
    json_t *stations = json_array();
    size_t i;
    json_t *v;
    int64_t now = time_now_ms();
    json_array_foreach(x->ids, i, v) json_array_append_new(
        stations, json_pack("{s:s,s:I,s:s,s:I}", "station_id", json_string_value(v), "position",
                            (json_int_t)i, "state", "pending", "state_at", (json_int_t)now));
    json_object_set_new(x->row, "state", json_string("running"));
    json_object_set_new(x->row, "started_at", json_integer(now));
    const char *keys[] = {"version", "filename", "signing_certificate", "signature"};
    for (size_t k = 0; k < 4; k++)
        json_object_set(x->row, keys[k], json_object_get(x->image, keys[k]));
    camp_t *c = camp_of_row(x->row, stations);
    json_decref(stations);
    c->next = s->camps;
    s->camps = c;
    log_info("campaign started", "campaign=%lld stations=%zu version=%s", (long long)c->id, c->n,
             c->version ? c->version : "?");
    csms_emit(s->csms, "campaign.updated", camp_json(c));
    x->done(x->ctx, CAMPAIGN_OK, NULL);
    start_free(x);
    if (s->running) step(s, c, time_now_ms());
}

static void start_got_cb(void *ctx, store_err_t rc, json_t *res)
{
    start_ctx_t *x = ctx;
    campaign_server_t *s = x->srv;
    json_t *row = json_array_get(json_array_get(res, 0), 0);
    json_t *image = json_array_get(json_array_get(res, 2), 0);
    if (rc == STORE_ERR_NOT_FOUND || (rc == STORE_OK && !row)) {
        x->done(x->ctx, CAMPAIGN_ERR_NOT_FOUND, "no such campaign");
        start_free(x);
        return;
    }
    if (rc != STORE_OK) {
        x->done(x->ctx, CAMPAIGN_ERR_STORE, "the database could not answer; retry");
        start_free(x);
        return;
    }
    char msg[200];
    if (strcmp(jstr(row, "state"), "draft") != 0) {
        snprintf(msg, sizeof msg, "the campaign is %s: only a draft can be started",
                 jstr(row, "state"));
        x->done(x->ctx, CAMPAIGN_ERR_CONFLICT, msg);
        start_free(x);
        return;
    }
    if (!image || !json_is_null(json_object_get(image, "deleted_at")) ||
        json_is_null(json_object_get(image, "version"))) {
        x->done(x->ctx, CAMPAIGN_ERR_CONFLICT,
                "the campaign's firmware image is not in the "
                "repository (deleted?)");
        start_free(x);
        return;
    }
    json_t *target = json_loads(jstr(row, "target") ? jstr(row, "target") : "{}", 0, NULL);
    x->ids = json_array();
    /* in id order, so positions (and the canary group) are predictable */
    size_t n = csms_station_count(s->csms), k = 0;
    const char **ids = xcalloc(n ? n : 1, sizeof *ids);
    for (csms_station_t *st = csms_station_first(s->csms); st && k < n; st = csms_station_next(st))
        if (campaign_target_match(target, st->id, st->site, st->model, st->firmware_version,
                                  st->labels))
            ids[k++] = st->id;
    json_decref(target);
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && strcmp(ids[j - 1], ids[j]) > 0; j--) {
            const char *t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
        }
    for (size_t i = 0; i < k; i++)
        json_array_append_new(x->ids, json_string(ids[i]));
    free(ids);
    if (k == 0) {
        x->done(x->ctx, CAMPAIGN_ERR_CONFLICT, "the target matches no station");
        start_free(x);
        return;
    }
    x->row = json_incref(row);
    x->image = json_incref(image);
    store_campaign_start(s->store, x->id, x->ids, time_now_ms(), started_cb, x);
}

void campaign_server_start(campaign_server_t *s, int64_t id, campaign_done_cb done, void *ctx)
{
    if (camp_find(s, id)) {
        done(ctx, CAMPAIGN_ERR_CONFLICT, "the campaign has already started");
        return;
    }
    start_ctx_t *x = xcalloc(1, sizeof *x);
    x->srv = s;
    x->id = id;
    x->done = done;
    x->ctx = ctx;
    store_campaign_get(s->store, id, start_got_cb, x);
}

/* The campaign in memory, or an answer saying why not. */
static camp_t *live(campaign_server_t *s, int64_t id, campaign_done_cb done, void *ctx)
{
    camp_t *c = camp_find(s, id);
    if (!c) done(ctx, CAMPAIGN_ERR_CONFLICT, "the campaign is not running or paused");
    return c;
}

void campaign_server_pause(campaign_server_t *s, int64_t id, const char *actor,
                           campaign_done_cb done, void *ctx)
{
    camp_t *c = live(s, id, done, ctx);
    if (!c) return;
    if (c->state != CAMPAIGN_RUNNING) {
        done(ctx, CAMPAIGN_ERR_CONFLICT, "the campaign is already paused");
        return;
    }
    char reason[128];
    snprintf(reason, sizeof reason, "paused by %s", actor ? actor : "an operator");
    c->state = CAMPAIGN_PAUSED;
    set_str(&c->paused_reason, reason);
    json_t *ev =
        json_pack("{s:I,s:s,s:s}", "id", (json_int_t)c->id, "name", c->name, "reason", reason);
    save_camp(s, c, ev, done, ctx);
}

void campaign_server_resume(campaign_server_t *s, int64_t id, campaign_done_cb done, void *ctx)
{
    camp_t *c = live(s, id, done, ctx);
    if (!c) return;
    if (c->state != CAMPAIGN_PAUSED) {
        done(ctx, CAMPAIGN_ERR_CONFLICT, "the campaign is not paused");
        return;
    }
    /* the failures so far were seen by whoever resumed: count afresh */
    tally(c, &c->base_failures, &c->base_attempts);
    c->state = CAMPAIGN_RUNNING;
    set_str(&c->paused_reason, NULL);
    save_camp(s, c, NULL, done, ctx);
}

void campaign_server_promote(campaign_server_t *s, int64_t id, campaign_done_cb done, void *ctx)
{
    camp_t *c = live(s, id, done, ctx);
    if (!c) return;
    if (c->promoted || c->spec.canary == 0) {
        done(ctx, CAMPAIGN_ERR_CONFLICT,
             c->promoted ? "the campaign was already promoted"
                         : "the campaign has no canary group");
        return;
    }
    c->promoted = true;
    save_camp(s, c, NULL, done, ctx);
}

void campaign_server_retry(campaign_server_t *s, int64_t id, const char *station_id,
                           campaign_done_cb done, void *ctx)
{
    camp_t *c = live(s, id, done, ctx);
    if (!c) return;
    cstation_t *st = station_in(c, station_id);
    if (!st) {
        done(ctx, CAMPAIGN_ERR_NOT_FOUND, "the station is not part of this campaign");
        return;
    }
    if (st->state != CST_FAILED) {
        done(ctx, CAMPAIGN_ERR_CONFLICT, "only a failed station can be retried");
        return;
    }
    st->state = CST_PENDING;
    st->state_at = time_now_ms();
    st->finished_at = 0;
    saved_t *v = saved_new(s, "campaign.station", station_json(c, st), done, ctx);
    save_station(s, c, st, saved_cb, v);
}

typedef struct cancel_ctx {
    campaign_server_t *srv;
    int64_t id;
    campaign_state_t was; /* restored when the cancellation cannot be stored */
    campaign_done_cb done;
    void *ctx;
} cancel_ctx_t;

static void cancelled_cb(void *ctx, store_err_t rc, json_t *res)
{
    (void)res;
    cancel_ctx_t *x = ctx;
    camp_t *c = camp_find(x->srv, x->id);
    if (rc == STORE_OK) {
        if (c) {
            camp_unlink(x->srv, c);
            camp_free(c);
        }
        log_info("campaign cancelled", "campaign=%lld", (long long)x->id);
        csms_emit(x->srv->csms, "campaign.updated",
                  json_pack("{s:I,s:s}", "id", (json_int_t)x->id, "state", "cancelled"));
        x->done(x->ctx, CAMPAIGN_OK, NULL);
    } else if (rc == STORE_ERR_NOT_FOUND) {
        x->done(x->ctx, CAMPAIGN_ERR_CONFLICT, "the campaign has already finished");
    } else {
        if (c) c->state = x->was;
        x->done(x->ctx, CAMPAIGN_ERR_STORE, "the change could not be stored; retry");
    }
    free(x);
}

void campaign_server_cancel(campaign_server_t *s, int64_t id, campaign_done_cb done, void *ctx)
{
    camp_t *c = camp_find(s, id);
    cancel_ctx_t *x = xcalloc(1, sizeof *x);
    /* no more stations start while the cancellation commits */
    if (c) {
        x->was = c->state;
        c->state = CAMPAIGN_CANCELLED;
    }
    x->srv = s;
    x->id = id;
    x->done = done;
    x->ctx = ctx;
    store_campaign_cancel(s->store, id, time_now_ms(), cancelled_cb, x);
}
