/*
 * Diagnostics requests: the row first, then the call to the station, then
 * the station's answer and notifications; see diagnostics.h.
 */
#include "service/diagnostics.h"

#include "store/store_files.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

struct diagnostics {
    uv_loop_t *loop;
    csms_t *csms;
    store_t *store;
    diagnostics_config_t cfg;
    char *base_url, *dir;
    bool subscribed;
    uv_timer_t expiry; /* looks for requests that went silent */
    bool expiry_busy;
};

/* One request on its way: the row, then the station's answer. */
typedef struct ask_ctx {
    diagnostics_t *d;
    diagnostics_cb cb;
    void *ctx;
    char station_id[FILE_TOKEN_STATION_MAX + 1];
    char protocol[16];
    int64_t start_time, stop_time, id;
    int retries, retry_interval;
    char answer_detail[160];
} ask_ctx_t;

/* ------------------------------------------------------------- helpers */

static const char *row_str(const json_t *row, const char *k)
{
    return json_string_value(json_object_get(row, k));
}

json_t *diagnostics_view(const json_t *row)
{
    static const char *const times[] = {"requested_at", "start_time", "stop_time", "uploaded_at",
                                        "completed_at", "updated_at", NULL};
    json_t *o = json_deep_copy(row);
    for (const char *const *k = times; *k; k++) {
        json_t *v = json_object_get(o, *k);
        if (!json_is_integer(v) || json_integer_value(v) == 0) {
            json_object_set_new(o, *k, json_null());
            continue;
        }
        char buf[TIME_RFC3339_LEN];
        json_object_set_new(o, *k, json_string(time_format_rfc3339(json_integer_value(v), buf)));
    }
    /* the token state is internal: say whether the file has arrived */
    json_object_del(o, "token_used");
    bool has_file = json_is_string(json_object_get(o, "sha256"));
    json_object_set_new(o, "file_received", json_boolean(has_file));
    if (has_file) {
        char href[80];
        snprintf(href, sizeof href, "/api/v1/diagnostics/%lld/file",
                 (long long)json_integer_value(json_object_get(o, "id")));
        json_object_set_new(o, "download", json_string(href));
    }
    return o;
}

void diagnostics_publish(diagnostics_t *d, const json_t *row)
{
    csms_emit(d->csms, "diagnostics.updated", diagnostics_view(row));
}

void diagnostics_file_path(const diagnostics_t *d, int64_t id, char *out, size_t out_len)
{
    snprintf(out, out_len, "%s/diagnostics/%lld", d->dir, (long long)id);
}

int diagnostics_upload_url(const diagnostics_t *d, int64_t id, const char *station_id, char *out,
                           size_t out_len)
{
    file_token_claims_t c = {.purpose = FILE_TOKEN_DIAGNOSTICS,
                             .object_id = id,
                             .expires_at = (int64_t)time(NULL) + d->cfg.token_ttl};
    char token[FILE_TOKEN_MAX];
    if (strlen(station_id) > FILE_TOKEN_STATION_MAX) return -1;
    memcpy(c.station_id, station_id, strlen(station_id) + 1);
    if (file_token_mint(d->cfg.tokens, &c, token, sizeof token) != 0) return -1;
    int n = snprintf(out, out_len, "%s/transfers/diagnostics/%s", d->base_url, token);
    return n < 0 || (size_t)n >= out_len ? -1 : 0;
}

const diagnostics_config_t *diagnostics_config(const diagnostics_t *d)
{
    return &d->cfg;
}

/* --------------------------------------------------- station's answer */

static void answer_stored(void *p, store_err_t rc, json_t *row)
{
    ask_ctx_t *a = p;
    if (rc == STORE_OK) {
        diagnostics_publish(a->d, row);
        json_t *v = diagnostics_view(row);
        a->cb(a->ctx, 201, NULL, v);
        json_decref(v);
    } else {
        a->cb(a->ctx, 503,
              "the station's answer could not be stored; see GET "
              "/api/v1/diagnostics for the request",
              NULL);
    }
    free(a);
}

/* The station answered (or not): the row says what it said. */
static void answered(void *p, const csms_cmd_result_t *r)
{
    ask_ctx_t *a = p;
    const char *status = "accepted", *detail = NULL;
    char buf[200];
    bool completed = false;
    if (r->status == CSMS_CMD_OK) {
        if (strcmp(a->protocol, "ocpp1.6") == 0) {
            const char *fn = json_string_value(json_object_get(r->payload, "fileName"));
            if (!fn) {
                status = "rejected";
                detail = "the station has no diagnostics to upload (no fileName)";
                completed = true;
            } else {
                snprintf(buf, sizeof buf, "fileName %.150s", fn);
                detail = buf;
            }
        } else {
            const char *s = json_string_value(json_object_get(r->payload, "status"));
            detail = s;
            if (!s || strcmp(s, "Rejected") == 0) {
                status = "rejected";
                completed = true;
            }
        }
    } else {
        status = "failed";
        completed = true;
        snprintf(buf, sizeof buf, "%s",
                 r->status == CSMS_CMD_TIMEOUT        ? "the station did not answer in time"
                 : r->status == CSMS_CMD_DISCONNECTED ? "the station disconnected before answering"
                 : r->status == CSMS_CMD_CALLERROR    ? "the station answered with a CALLERROR"
                                                      : "the station's answer was invalid");
        detail = buf;
    }
    store_diag_status(a->d->store, a->id, a->station_id, a->protocol, status, detail, completed,
                      time_now_ms(), answer_stored, a);
}

/* ------------------------------------------------------- the request */

static json_t *command_payload(const ask_ctx_t *a, const char *url)
{
    char b1[TIME_RFC3339_LEN], b2[TIME_RFC3339_LEN];
    json_t *p = json_object();
    if (strcmp(a->protocol, "ocpp1.6") == 0) {
        json_object_set_new(p, "location", json_string(url));
        if (a->start_time)
            json_object_set_new(p, "startTime",
                                json_string(time_format_rfc3339(a->start_time, b1)));
        if (a->stop_time)
            json_object_set_new(p, "stopTime", json_string(time_format_rfc3339(a->stop_time, b2)));
    } else {
        json_t *log = json_pack("{s:s}", "remoteLocation", url);
        if (a->start_time)
            json_object_set_new(log, "oldestTimestamp",
                                json_string(time_format_rfc3339(a->start_time, b1)));
        if (a->stop_time)
            json_object_set_new(log, "latestTimestamp",
                                json_string(time_format_rfc3339(a->stop_time, b2)));
        json_object_set_new(p, "log", log);
        json_object_set_new(p, "logType", json_string("DiagnosticsLog"));
        json_object_set_new(p, "requestId", json_integer(a->id));
    }
    if (a->retries >= 0) json_object_set_new(p, "retries", json_integer(a->retries));
    if (a->retry_interval >= 0)
        json_object_set_new(p, "retryInterval", json_integer(a->retry_interval));
    return p;
}

static void row_created(void *p, store_err_t rc, json_t *row)
{
    ask_ctx_t *a = p;
    if (rc != STORE_OK) {
        a->cb(a->ctx, 503, "the request could not be stored; retry", NULL);
        free(a);
        return;
    }
    a->id = json_integer_value(json_object_get(row, "id"));
    diagnostics_publish(a->d, row);
    char url[512], err[300];
    if (diagnostics_upload_url(a->d, a->id, a->station_id, url, sizeof url) != 0) {
        snprintf(err, sizeof err, "the upload URL does not fit");
        goto fail;
    }
    const char *action = strcmp(a->protocol, "ocpp1.6") == 0 ? "GetDiagnostics" : "GetLog";
    json_t *payload = command_payload(a, url);
    csms_err_t e =
        csms_command(a->d->csms, a->station_id, action, payload, answered, a, err, sizeof err);
    json_decref(payload);
    if (e == CSMS_OK) return;
fail:
    log_warn("diagnostics request not sent", "station=%s error=%s", a->station_id, err);
    /* the row records the failure; the caller hears the reason */
    snprintf(a->answer_detail, sizeof a->answer_detail, "%.150s", err);
    store_diag_status(a->d->store, a->id, a->station_id, a->protocol, "failed", a->answer_detail,
                      true, time_now_ms(), answer_stored, a);
}

int diagnostics_request(diagnostics_t *d, const diagnostics_ask_t *ask, diagnostics_cb cb,
                        void *ctx, char *err, size_t err_len)
{
    csms_station_t *st = csms_station_find(d->csms, ask->station_id);
    if (!st) {
        snprintf(err, err_len, "no station %.64s", ask->station_id);
        return 404;
    }
    if (!st->link || !st->link_ops) {
        snprintf(err, err_len, "station %.64s is not connected", ask->station_id);
        return 409;
    }
    if (strlen(st->id) > FILE_TOKEN_STATION_MAX) {
        snprintf(err, err_len, "station ids longer than %d characters cannot get upload links",
                 FILE_TOKEN_STATION_MAX);
        return 409;
    }
    ask_ctx_t *a = xcalloc(1, sizeof *a);
    a->d = d;
    a->cb = cb;
    a->ctx = ctx;
    snprintf(a->station_id, sizeof a->station_id, "%s", st->id);
    snprintf(a->protocol, sizeof a->protocol, "%s", st->link_ops->protocol(st->link));
    a->start_time = ask->start_time;
    a->stop_time = ask->stop_time;
    a->retries = ask->retries;
    a->retry_interval = ask->retry_interval;
    store_diag_new_t row = {.station_id = a->station_id,
                            .protocol = a->protocol,
                            .requested_by = ask->requested_by,
                            .requested_at = time_now_ms(),
                            .start_time = ask->start_time,
                            .stop_time = ask->stop_time,
                            .retries = ask->retries};
    store_diag_insert(d->store, &row, row_created, a);
    return 0;
}

/* ------------------------------------------------- station notifications */

static void status_stored(void *p, store_err_t rc, json_t *row)
{
    diagnostics_t *d = p;
    if (rc == STORE_OK) diagnostics_publish(d, row);
}

/* The station's own status word as the request's state, NULL to ignore. */
static const char *state_of(const char *s, bool *completed)
{
    *completed = false;
    if (!s || strcmp(s, "Idle") == 0) return NULL; /* says nothing about a request */
    if (strcmp(s, "Uploading") == 0) return "uploading";
    *completed = true;
    if (strcmp(s, "Uploaded") == 0) return "uploaded";
    return "failed"; /* UploadFailed, UploadFailure, BadMessage, PermissionDenied, ... */
}

static void on_event(void *ud, const char *type, const json_t *data)
{
    diagnostics_t *d = ud;
    if (strcmp(type, "station.notification") != 0) return;
    const char *kind = row_str(data, "kind");
    bool log = kind && strcmp(kind, "log_status") == 0;
    if (!kind || (!log && strcmp(kind, "diagnostics_status") != 0)) return;
    const char *station = row_str(data, "station_id");
    const json_t *detail = json_object_get(data, "detail");
    const char *status = row_str(detail, "status");
    json_t *rid = json_object_get(detail, log ? "requestId" : "request_id");
    bool completed;
    const char *state = state_of(status, &completed);
    csms_station_t *st = station ? csms_station_find(d->csms, station) : NULL;
    if (!state || !st) return;
    const char *proto = st->protocol ? st->protocol : "ocpp1.6";
    int64_t id = json_is_integer(rid) ? json_integer_value(rid) : 0;
    if (id <= 0 && strcmp(proto, "ocpp1.6") != 0) return; /* 2.0.1 always says which request */
    store_diag_status(d->store, id, station, proto, state, status, completed, time_now_ms(),
                      status_stored, d);
}

/* ------------------------------------------------------------- timeouts */

static void timed_out(void *p, store_err_t rc, json_t *rows)
{
    diagnostics_t *d = p;
    d->expiry_busy = false;
    if (rc != STORE_OK) {
        log_error("diagnostics timeouts not stored", NULL);
        return;
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char q[100];
        log_info("diagnostics request timed out", "id=%lld station=%s status=%s",
                 (long long)json_integer_value(json_object_get(row, "id")),
                 log_quote(row_str(row, "station_id"), q, sizeof q), row_str(row, "status"));
        diagnostics_publish(d, row);
    }
}

static void expiry_cb(uv_timer_t *t)
{
    diagnostics_t *d = t->data;
    if (d->expiry_busy || !d->subscribed) return;
    d->expiry_busy = true;
    int64_t now = time_now_ms();
    store_diag_time_out(d->store, now, now - d->cfg.timeout * 1000LL, timed_out, d);
}

/* ------------------------------------------------------------ lifecycle */

diagnostics_t *diagnostics_create(uv_loop_t *loop, csms_t *csms, store_t *store,
                                  const diagnostics_config_t *cfg, char *err, size_t err_len)
{
    char path[700];
    snprintf(path, sizeof path, "%s/diagnostics", cfg->dir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "cannot create directory %s: %s", path, strerror(errno));
        return NULL;
    }
    /* an upload a crash interrupted claimed its link but never used it: give it back */
    if (store_diag_release_all_sync(store) != 0) {
        snprintf(err, err_len, "cannot read the diagnostics requests");
        return NULL;
    }
    diagnostics_t *d = xcalloc(1, sizeof *d);
    d->loop = loop;
    d->csms = csms;
    d->store = store;
    d->cfg = *cfg;
    d->base_url = xstrdup(cfg->base_url);
    size_t n = strlen(d->base_url);
    while (n > 0 && d->base_url[n - 1] == '/')
        d->base_url[--n] = '\0';
    d->dir = xstrdup(cfg->dir);
    d->cfg.base_url = d->base_url;
    d->cfg.dir = d->dir;
    csms_subscribe_typed(csms, on_event, NULL, d); /* no meter.values */
    d->subscribed = true;
    /* a request times out within half its timeout after it is due (at
     * least every minute); the first look also ends what a restart left */
    if (d->cfg.timeout < 1) d->cfg.timeout = 3600;
    int64_t every = d->cfg.timeout * 500LL;
    every = every < 500 ? 500 : every > 60000 ? 60000 : every;
    uv_timer_init(loop, &d->expiry);
    d->expiry.data = d;
    uv_timer_start(&d->expiry, expiry_cb, (uint64_t)every, (uint64_t)every);
    return d;
}

void diagnostics_stop(diagnostics_t *d)
{
    if (!d || !d->subscribed) return;
    csms_unsubscribe(d->csms, on_event, d);
    d->subscribed = false;
    uv_timer_stop(&d->expiry);
    uv_close((uv_handle_t *)&d->expiry, NULL);
}

void diagnostics_free(diagnostics_t *d)
{
    if (!d) return;
    diagnostics_stop(d);
    free(d->base_url);
    free(d->dir);
    free(d);
}
