/*
 * What stations report: boots, heartbeats, connector status, authorization,
 * transactions and meter samples, notifications. Each call updates live state
 * in memory, hands the change to the store, and answers through its callback
 * only after the store has committed.
 */
#include "csms/csms_internal.h"

#include "util/alloc.h"
#include "util/json_reader.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- boot */

typedef struct boot_ctx {
    csms_boot_cb cb;
    void *ctx;
    csms_boot_result_t r;
    char status[16]; /* a copy: an operator may change the station before the commit */
} boot_ctx_t;

static void boot_persisted(void *p, csms_err_t rc, const char *msg)
{
    boot_ctx_t *b = p;
    b->cb(b->ctx, rc, &b->r);
    free(b);
}

void csms_boot(csms_t *c, csms_station_t *st, const csms_boot_info_t *info, csms_boot_cb cb,
               void *ctx)
{
    csms_set_str(&st->vendor, info->vendor);
    csms_set_str(&st->model, info->model);
    csms_set_str(&st->serial_number, info->serial_number);
    csms_set_str(&st->charge_box_serial, info->charge_box_serial);
    csms_set_str(&st->firmware_version, info->firmware_version);
    csms_set_str(&st->iccid, info->iccid);
    csms_set_str(&st->imsi, info->imsi);
    csms_set_str(&st->meter_type, info->meter_type);
    csms_set_str(&st->meter_serial, info->meter_serial);
    int64_t now = time_now_ms();
    st->last_boot_at = now;
    st->last_heartbeat_at = now;

    boot_ctx_t *b = xcalloc(1, sizeof *b);
    b->cb = cb;
    b->ctx = ctx;
    snprintf(b->status, sizeof b->status, "%s", st->registration_status);
    b->r.status = b->status;
    st->boot_accepted = strcmp(st->registration_status, "Accepted") == 0;
    b->r.interval = st->boot_accepted ? c->cfg.heartbeat_interval : c->cfg.pending_interval;
    b->r.now = now;

    json_t *d = json_object();
    json_object_set_new(d, "station_id", json_string(st->id));
    json_object_set_new(d, "status", json_string(st->registration_status));
    json_object_set_new(d, "vendor", json_string(info->vendor ? info->vendor : ""));
    json_object_set_new(d, "model", json_string(info->model ? info->model : ""));
    if (info->firmware_version)
        json_object_set_new(d, "firmware_version", json_string(info->firmware_version));
    if (info->reason) json_object_set_new(d, "reason", json_string(info->reason));
    csms_emit(c, "station.boot", d);
    csms_station_persist(c, st, boot_persisted, b);
}

void csms_heartbeat(csms_t *c, csms_station_t *st, csms_done_cb cb, void *ctx)
{
    (void)c;
    /* Measured at 19,000 stations: a commit per heartbeat was most of an idle
     * network's CPU. The time is liveness bookkeeping, written in bulk. */
    st->last_heartbeat_at = time_now_ms();
    st->heartbeat_dirty = true;
    if (cb) cb(ctx, CSMS_OK, NULL);
}

size_t csms_flush_heartbeats(csms_t *c, bool all)
{
    size_t n = 0, cap = 0;
    const char **ids = NULL;
    int64_t *at = NULL;
    for (csms_station_t *st = c->stations; st; st = st->hh.next) {
        if (!st->heartbeat_dirty) continue;
        if (!all && st->last_heartbeat_at - st->heartbeat_stored_at < CSMS_HEARTBEAT_STORE_MS)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            ids = xrealloc(ids, cap * sizeof *ids);
            at = xrealloc(at, cap * sizeof *at);
        }
        ids[n] = st->id;
        at[n] = st->last_heartbeat_at;
        n++;
        st->heartbeat_dirty = false;
        st->heartbeat_stored_at = st->last_heartbeat_at;
    }
    if (n > 0) store_station_heartbeats(c->store, ids, at, n, NULL, NULL);
    free(ids);
    free(at);
    return n;
}

/* ----------------------------------------------------------- status */


void csms_status(csms_t *c, csms_station_t *st, const csms_status_report_t *r, csms_done_cb cb,
                 void *ctx)
{
    int64_t now = time_now_ms();
    int64_t ts = r->timestamp ? r->timestamp : now;
    csms_connector_t *k = csms_connector_get(st, r->evse_id, r->connector_id);
    /* Offline-queued reports arrive late: keep history, but never let an older
     * report overwrite a newer live status. */
    bool newer = ts >= k->timestamp;
    if (newer) {
        csms_set_str(&k->status, r->status);
        csms_set_str(&k->error_code, r->error_code);
        csms_set_str(&k->info, r->info);
        csms_set_str(&k->vendor_id, r->vendor_id);
        csms_set_str(&k->vendor_error_code, r->vendor_error_code);
        k->timestamp = ts;
    }
    store_connector_t rec = {
        .station_id = st->id,
        .evse_id = r->evse_id,
        .connector_id = r->connector_id,
        .status = r->status,
        .error_code = r->error_code,
        .info = r->info,
        .vendor_id = r->vendor_id,
        .vendor_error_code = r->vendor_error_code,
        .timestamp = ts,
        .received_at = now,
    };
    rec.history_only = !newer; /* a late report joins the history only */
    store_connector_status(c->store, &rec, csms_store_done, csms_done_wrap(cb, ctx));
    json_t *d = json_object();
    char buf[TIME_RFC3339_LEN];
    json_object_set_new(d, "station_id", json_string(st->id));
    json_object_set_new(d, "evse_id", json_integer(r->evse_id));
    json_object_set_new(d, "connector_id", json_integer(r->connector_id));
    json_object_set_new(d, "status", json_string(r->status));
    if (r->error_code) json_object_set_new(d, "error_code", json_string(r->error_code));
    if (r->info) json_object_set_new(d, "info", json_string(r->info));
    if (r->vendor_error_code)
        json_object_set_new(d, "vendor_error_code", json_string(r->vendor_error_code));
    json_object_set_new(d, "timestamp", json_string(time_format_rfc3339(ts, buf)));
    json_object_set_new(d, "current", json_boolean(newer));
    csms_emit(c, "connector.status", d);
}

/* ----------------------------------------------------- authorization */

static bool token_in_active_tx(csms_t *c, const char *id_token)
{
    csms_token_count_t *k = NULL;
    HASH_FIND_STR(c->token_counts, id_token, k);
    return k && k->n > 0;
}

/* How many active transactions use each token (for ConcurrentTx). */
static void token_count(csms_t *c, const char *id_token, int delta)
{
    csms_token_count_t *k = NULL;
    HASH_FIND_STR(c->token_counts, id_token, k);
    if (!k && delta > 0) {
        k = xcalloc(1, sizeof *k);
        k->id_token = xstrdup(id_token);
        HASH_ADD_KEYPTR(hh, c->token_counts, k->id_token, strlen(k->id_token), k);
    }
    if (!k) return;
    k->n += delta;
    if (k->n <= 0) {
        HASH_DEL(c->token_counts, k);
        free(k->id_token);
        free(k);
    }
}

static char *conn_key(const char *station_id, int evse_id, int connector_id)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s\x1f%d\x1f%d", station_id, evse_id, connector_id);
    return xstrdup(buf);
}

void csms_tx_index(csms_t *c, csms_tx_t *t)
{
    HASH_ADD(hh, c->txs, id, sizeof t->id, t);
    if (t->tx_id) {
        char buf[160];
        snprintf(buf, sizeof buf, "%s\x1f%s", t->station_id, t->tx_id);
        t->key = xstrdup(buf);
        csms_tx_t *old = NULL;
        HASH_FIND(hh_key, c->txs_by_key, t->key, strlen(t->key), old);
        if (!old) HASH_ADD_KEYPTR(hh_key, c->txs_by_key, t->key, strlen(t->key), t);
    }
    t->conn_key = conn_key(t->station_id, t->evse_id, t->connector_id);
    csms_tx_t *prev = NULL;
    HASH_FIND(hh_conn, c->txs_by_conn, t->conn_key, strlen(t->conn_key), prev);
    if (prev) HASH_DELETE(hh_conn, c->txs_by_conn, prev);
    HASH_ADD_KEYPTR(hh_conn, c->txs_by_conn, t->conn_key, strlen(t->conn_key), t);
    token_count(c, t->id_token, +1);
}

void csms_tx_unindex(csms_t *c, csms_tx_t *t)
{
    HASH_DEL(c->txs, t);
    csms_tx_t *x = NULL;
    if (t->key) {
        HASH_FIND(hh_key, c->txs_by_key, t->key, strlen(t->key), x);
        if (x == t) HASH_DELETE(hh_key, c->txs_by_key, t);
    }
    x = NULL;
    if (t->conn_key) {
        HASH_FIND(hh_conn, c->txs_by_conn, t->conn_key, strlen(t->conn_key), x);
        if (x == t) HASH_DELETE(hh_conn, c->txs_by_conn, t);
    }
    token_count(c, t->id_token, -1);
}

void csms_tx_set_token(csms_t *c, csms_tx_t *t, const char *id_token)
{
    token_count(c, t->id_token, -1);
    csms_set_str(&t->id_token, id_token);
    token_count(c, t->id_token, +1);
}

csms_id_token_info_t csms_authorize(csms_t *c, const char *id_token, bool check_concurrent)
{
    csms_id_token_info_t info = {.status = "Invalid"};
    csms_id_token_t *t = csms_id_token_find(c, id_token);
    if (!t) return info;
    info.known = true;
    info.status = t->status;
    info.expiry = t->expiry;
    info.parent_id_token = t->parent_id_token;
    if (t->parent_id_token) {
        csms_id_token_t *p = csms_id_token_find(c, t->parent_id_token);
        info.parent_type = p ? p->type : "Central";
    }
    if (strcmp(t->status, "Accepted") != 0) return info;
    if (t->expiry && t->expiry <= time_now_ms()) {
        info.status = "Expired";
        return info;
    }
    /* A blocked or expired group blocks its members. */
    if (t->parent_id_token) {
        csms_id_token_t *p = csms_id_token_find(c, t->parent_id_token);
        if (p && strcmp(p->status, "Blocked") == 0) {
            info.status = "Blocked";
            return info;
        }
        if (p && (strcmp(p->status, "Expired") == 0 ||
                  (p->expiry && p->expiry <= time_now_ms()))) {
            info.status = "Expired";
            return info;
        }
    }
    if (check_concurrent && token_in_active_tx(c, id_token)) info.status = "ConcurrentTx";
    return info;
}

csms_id_token_info_t csms_authorize_typed(csms_t *c, const char *id_token, const char *type,
                                          bool check_concurrent)
{
    if (type && strcmp(type, "NoAuthorization") == 0)
        return (csms_id_token_info_t){.status = "Accepted", .known = true};
    csms_id_token_t *t = csms_id_token_find(c, id_token);
    if (t && type && t->type && strcmp(t->type, type) != 0)
        return (csms_id_token_info_t){.status = "Invalid"}; /* not this credential */
    return csms_authorize(c, id_token, check_concurrent);
}

/* ------------------------------------------------------ transactions */

csms_tx_t *csms_tx_find(csms_t *c, int64_t id)
{
    csms_tx_t *t = NULL;
    HASH_FIND(hh, c->txs, &id, sizeof id, t);
    return t;
}

csms_tx_t *csms_tx_first(csms_t *c)
{
    return c->txs;
}

unsigned csms_tx_active_count(csms_t *c)
{
    return HASH_COUNT(c->txs);
}

void csms_tx_free(csms_tx_t *t)
{
    free(t->tx_id);
    free(t->station_id);
    free(t->id_token);
    free(t->id_token_type);
    free(t->charging_state);
    free(t->seqs);
    free(t->key);
    free(t->conn_key);
    free(t);
}

bool csms_tx_seq_add(csms_tx_t *t, int seq)
{
    size_t i = 0;
    while (i < t->nseqs && t->seqs[i] < seq) i++;
    if (i < t->nseqs && t->seqs[i] == seq) return false;
    if (t->nseqs == t->seqs_cap) {
        t->seqs_cap = t->seqs_cap ? t->seqs_cap * 2 : 8;
        t->seqs = xrealloc(t->seqs, t->seqs_cap * sizeof *t->seqs);
    }
    memmove(&t->seqs[i + 1], &t->seqs[i], (t->nseqs - i) * sizeof *t->seqs);
    t->seqs[i] = seq;
    t->nseqs++;
    return true;
}

json_t *csms_tx_event_json(const csms_tx_t *t)
{
    char buf[TIME_RFC3339_LEN];
    json_t *d = json_object();
    json_object_set_new(d, "station_id", json_string(t->station_id));
    json_object_set_new(d, "session_id", json_integer(t->id));
    json_object_set_new(d, "transaction_id", json_string(t->tx_id ? t->tx_id : ""));
    json_object_set_new(d, "evse_id", json_integer(t->evse_id));
    json_object_set_new(d, "connector_id", json_integer(t->connector_id));
    json_object_set_new(d, "id_token", json_string(t->id_token));
    json_object_set_new(d, "meter_start_wh", json_integer(t->meter_start));
    json_object_set_new(d, "started_at", json_string(time_format_rfc3339(t->started_at, buf)));
    return d;
}

typedef struct start_ctx {
    csms_t *c;
    csms_tx_start_cb cb;
    void *ctx;
    csms_tx_t *pending; /* becomes active on commit */
    csms_tx_started_t r;
    char status[16];
    char parent[64];
    bool has_parent;
} start_ctx_t;

static void tx_started(void *p, store_err_t rc, int64_t id, bool existed)
{
    start_ctx_t *s = p;
    csms_tx_t *t = s->pending;
    if (rc != STORE_OK) {
        s->cb(s->ctx, CSMS_ERR_STORE, NULL);
        csms_tx_free(t);
        free(s);
        return;
    }
    s->r.id = id;
    s->r.info.status = s->status;
    s->r.info.parent_id_token = s->has_parent ? s->parent : NULL;
    if (!existed && !csms_tx_find(s->c, id)) {
        t->id = id;
        if (!t->tx_id) {
            char buf[24];
            snprintf(buf, sizeof buf, "%lld", (long long)id);
            t->tx_id = xstrdup(buf);
        }
        csms_tx_index(s->c, t);
        csms_emit(s->c, "transaction.started", csms_tx_event_json(t));
    } else {
        csms_tx_free(t); /* a replay: the first start already stands */
    }
    s->cb(s->ctx, CSMS_OK, &s->r);
    free(s);
}

void csms_tx_start(csms_t *c, csms_station_t *st, const csms_tx_start_t *in, csms_tx_start_cb cb,
                   void *ctx)
{
    /* A replay of a start that is still active returns the same transaction
     * (older replays are found by the store). */
    char *ck = conn_key(st->id, in->evse_id, in->connector_id);
    csms_tx_t *t = NULL;
    HASH_FIND(hh_conn, c->txs_by_conn, ck, strlen(ck), t);
    free(ck);
    if (t && strcmp(t->id_token, in->id_token) == 0 && t->meter_start == in->meter_start &&
        t->started_at == in->timestamp &&
        (!in->tx_id || (t->tx_id && strcmp(t->tx_id, in->tx_id) == 0))) {
        csms_tx_started_t r = {.id = t->id, .info = csms_authorize(c, in->id_token, false)};
        cb(ctx, CSMS_OK, &r);
        return;
    }
    csms_id_token_info_t info = csms_authorize(c, in->id_token, true);
    start_ctx_t *s = xcalloc(1, sizeof *s);
    s->c = c;
    s->cb = cb;
    s->ctx = ctx;
    snprintf(s->status, sizeof s->status, "%s", info.status);
    s->r.info.expiry = info.expiry;
    if (info.parent_id_token) {
        snprintf(s->parent, sizeof s->parent, "%s", info.parent_id_token);
        s->has_parent = true;
    }
    t = xcalloc(1, sizeof *t);
    t->tx_id = xstrdup_opt(in->tx_id);
    t->station_id = xstrdup(st->id);
    t->id_token = xstrdup(in->id_token);
    t->id_token_type = xstrdup_opt(in->id_token_type);
    t->evse_id = in->evse_id;
    t->connector_id = in->connector_id;
    t->meter_start = in->meter_start;
    t->started_at = in->timestamp;
    t->reservation_id = in->reservation_id;
    t->last_soc = -1;
    t->last_energy_wh = -1;
    s->pending = t;
    store_tx_t rec = {
        .tx_id = in->tx_id,
        .station_id = st->id,
        .evse_id = in->evse_id,
        .connector_id = in->connector_id,
        .id_token = in->id_token,
        .id_token_type = in->id_token_type,
        .auth_status = info.status,
        .meter_start = in->meter_start,
        .meter_stop = -1,
        .started_at = in->timestamp,
        .reservation_id = in->reservation_id,
        .last_soc = -1,
        .last_energy_wh = -1,
    };
    store_tx_start(c->store, &rec, tx_started, s);
}

typedef struct stop_ctx {
    csms_tx_stop_cb cb;
    void *ctx;
    int pending;
    bool failed, known;
} stop_ctx_t;

static void stop_part_done(void *p, store_err_t rc)
{
    stop_ctx_t *s = p;
    if (rc != STORE_OK) s->failed = true;
    if (--s->pending > 0) return;
    s->cb(s->ctx, s->failed ? CSMS_ERR_STORE : CSMS_OK, s->known);
    free(s);
}

/* Folds energy and state of charge from samples into the transaction. */
void csms_track_samples(csms_tx_t *t, const store_sample_t *sm, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *m = sm[i].measurand ? sm[i].measurand : "Energy.Active.Import.Register";
        if (sm[i].format && strcmp(sm[i].format, "SignedData") == 0) continue;
        char *end;
        double v = strtod(sm[i].value, &end);
        if (end == sm[i].value || !isfinite(v) || fabs(v) > 1e15) continue; /* not a meter */
        if (strcmp(m, "SoC") == 0) {
            if (sm[i].timestamp < t->last_soc_at) continue; /* an older, late reading */
            t->last_soc_at = sm[i].timestamp;
            t->last_soc = v;
        } else if (strcmp(m, "Energy.Active.Import.Register") == 0 &&
                   (!sm[i].phase || !*sm[i].phase)) {
            if (sm[i].timestamp < t->last_energy_at) continue; /* an older, late reading */
            t->last_energy_at = sm[i].timestamp;
            if (sm[i].unit && strcmp(sm[i].unit, "kWh") == 0) v *= 1000.0;
            t->last_energy_wh = (int64_t)llround(v);
        }
    }
}

store_tx_t csms_tx_record(const csms_tx_t *t)
{
    return (store_tx_t){.id = t->id,
                        .tx_id = t->tx_id,
                        .station_id = t->station_id,
                        .meter_stop = -1,
                        .last_soc = t->last_soc,
                        .last_energy_wh = t->last_energy_wh,
                        .last_soc_at = t->last_soc_at,
                        .last_energy_at = t->last_energy_at,
                        .reservation_id = -1};
}

void csms_tx_stop(csms_t *c, csms_station_t *st, const csms_tx_stop_t *in, csms_tx_stop_cb cb,
                  void *ctx)
{
    csms_tx_t *t = csms_tx_find(c, in->id);
    if (!t || strcmp(t->station_id, st->id) != 0) {
        /* Unknown or already stopped: answer, change nothing, keep a note. */
        json_t *d = json_object();
        json_object_set_new(d, "transaction_id", json_integer(in->id));
        json_object_set_new(d, "meter_stop_wh", json_integer(in->meter_stop));
        log_info("stop for unknown or ended transaction", "station=%s transaction=%lld", st->id,
                 (long long)in->id);
        stop_ctx_t *s = xcalloc(1, sizeof *s);
        s->cb = cb;
        s->ctx = ctx;
        s->pending = 1;
        store_station_event(c->store, st->id, "unknown_stop", d, stop_part_done, s);
        json_decref(d);
        return;
    }
    csms_track_samples(t, in->samples, in->nsamples);
    stop_ctx_t *s = xcalloc(1, sizeof *s);
    s->cb = cb;
    s->ctx = ctx;
    s->known = true;
    s->pending = in->nsamples ? 2 : 1;
    if (in->nsamples)
        store_meter_values(c->store, st->id, t->evse_id, t->connector_id, t->id, in->samples,
                           in->nsamples, stop_part_done, s);
    store_tx_t rec = csms_tx_record(t);
    rec.meter_stop = in->meter_stop;
    rec.stopped_at = in->timestamp ? in->timestamp : time_now_ms();
    rec.stop_reason = in->reason ? in->reason : "Local";
    rec.stop_id_token = in->id_token;
    store_tx_update(c->store, &rec, stop_part_done, s);

    if (in->nsamples) /* the final readings, before the session is gone */
        csms_emit_meter_values(c, st->id, t->evse_id, t->connector_id, t->id, in->samples,
                               in->nsamples);
    json_t *d = csms_tx_event_json(t);
    char buf[TIME_RFC3339_LEN];
    json_object_set_new(d, "meter_stop_wh", json_integer(in->meter_stop));
    json_object_set_new(d, "energy_wh", t->meter_start >= 0
                                            ? json_integer(in->meter_stop - t->meter_start)
                                            : json_null());
    json_object_set_new(d, "stopped_at",
                        json_string(time_format_rfc3339(rec.stopped_at, buf)));
    json_object_set_new(d, "stop_reason", json_string(rec.stop_reason));
    csms_tx_unindex(c, t);
    csms_emit(c, "transaction.ended", d);
    csms_tx_free(t);
}

/* ------------------------------------------------------ meter values */

static json_t *shared_string(const char *s)
{
    return s ? json_reader_string(s, strlen(s)) : NULL; /* setting NULL sets nothing */
}

bool csms_tx_progress(csms_tx_t *t, const store_sample_t *samples, size_t n,
                      store_tx_progress_t *out)
{
    double soc = t->last_soc;
    int64_t energy = t->last_energy_wh;
    csms_track_samples(t, samples, n);
    if (soc == t->last_soc && energy == t->last_energy_wh) return false;
    *out = (store_tx_progress_t){.last_soc = t->last_soc,
                                 .last_energy_wh = t->last_energy_wh,
                                 .last_soc_at = t->last_soc_at,
                                 .last_energy_at = t->last_energy_at};
    return true;
}

json_t *csms_meter_event_json(const csms_meter_event_t *m)
{
    json_t *d = json_object();
    json_object_set_new(d, "station_id", json_string(m->station_id));
    json_object_set_new(d, "evse_id", json_integer(m->evse_id));
    json_object_set_new(d, "connector_id", json_integer(m->connector_id));
    if (m->session_id) json_object_set_new(d, "session_id", json_integer(m->session_id));
    json_t *arr = json_array();
    char buf[TIME_RFC3339_LEN];
    /* strings through the reader's shared table: measurands, units and the
     * message's one timestamp repeat in every sample */
    for (size_t i = 0; i < m->n && i < 64; i++) {
        const store_sample_t *sm = &m->samples[i];
        json_t *o = json_object();
        const char *ts = time_format_rfc3339(sm->timestamp, buf);
        json_object_set_new_nocheck(o, "timestamp", json_reader_string(ts, strlen(ts)));
        json_object_set_new_nocheck(o, "value", shared_string(sm->value));
        if (sm->measurand)
            json_object_set_new_nocheck(o, "measurand", shared_string(sm->measurand));
        if (sm->phase) json_object_set_new_nocheck(o, "phase", shared_string(sm->phase));
        if (sm->unit) json_object_set_new_nocheck(o, "unit", shared_string(sm->unit));
        json_array_append_new(arr, o);
    }
    json_object_set_new(d, "samples", arr);
    json_object_set_new(d, "time", json_string(time_format_rfc3339(m->time_ms, buf)));
    return d;
}

csms_meter_event_t *csms_meter_event_copy(const csms_meter_event_t *m)
{
    size_t n = m->n < 64 ? m->n : 64; /* as many as the JSON shows */
    size_t bytes = sizeof *m + n * sizeof *m->samples + strlen(m->station_id) + 1;
    for (size_t i = 0; i < n; i++) {
        const store_sample_t *sm = &m->samples[i];
        const char *f[] = {sm->value, sm->measurand, sm->phase, sm->unit};
        for (size_t k = 0; k < 4; k++)
            if (f[k]) bytes += strlen(f[k]) + 1;
    }
    csms_meter_event_t *out = xmalloc(bytes);
    store_sample_t *samples = (store_sample_t *)(out + 1);
    char *p = (char *)(samples + n);
    *out = *m;
    out->samples = samples;
    out->n = n;
    size_t len = strlen(m->station_id) + 1;
    out->station_id = memcpy(p, m->station_id, len);
    p += len;
    for (size_t i = 0; i < n; i++) {
        const store_sample_t *in = &m->samples[i];
        samples[i] = (store_sample_t){.timestamp = in->timestamp};
        const char *src[] = {in->value, in->measurand, in->phase, in->unit};
        const char **dst[] = {&samples[i].value, &samples[i].measurand, &samples[i].phase,
                              &samples[i].unit};
        for (size_t k = 0; k < 4; k++) {
            if (!src[k]) continue;
            len = strlen(src[k]) + 1;
            *dst[k] = memcpy(p, src[k], len);
            p += len;
        }
    }
    return out;
}

void csms_emit_meter_values(csms_t *c, const char *station_id, int evse_id, int connector_id,
                            int64_t session_id, const store_sample_t *samples, size_t n)
{
    if (!c->subs) return;
    csms_meter_event_t m = {station_id, evse_id,   connector_id,   session_id,
                            samples,    n,         time_now_ms()};
    json_t *d = NULL; /* made for the first subscriber that wants JSON */
    for (csms_sub_t *s = c->subs, *next; s; s = next) {
        next = s->next; /* a subscriber may unsubscribe itself */
        if (s->typed) {
            if (s->meter_cb) s->meter_cb(s->ud, &m);
            continue;
        }
        if (!d) d = csms_meter_event_json(&m);
        s->cb(s->ud, "meter.values", d);
    }
    json_decref(d);
}

void csms_meter_values(csms_t *c, csms_station_t *st, int evse_id, int connector_id, int64_t tx_id,
                       const store_sample_t *samples, size_t n, csms_done_cb cb, void *ctx)
{
    csms_tx_t *t = tx_id ? csms_tx_find(c, tx_id) : NULL;
    if (t && strcmp(t->station_id, st->id) != 0) t = NULL;
    store_tx_progress_t progress;
    bool has_progress = t && csms_tx_progress(t, samples, n, &progress);
    /* Samples for an unknown transaction are kept too, without the link. The
     * session's latest readings go in the same operation (one op per message). */
    store_meter_values_tx(c->store, st->id, evse_id, connector_id, t ? t->id : 0, samples, n,
                          has_progress ? &progress : NULL, csms_store_done,
                          csms_done_wrap(cb, ctx));
    csms_emit_meter_values(c, st->id, evse_id, connector_id, t ? t->id : 0, samples, n);
}

/* ------------------------------------------------------ notifications */

void csms_station_note(csms_t *c, csms_station_t *st, const char *kind, const json_t *detail,
                       csms_done_cb cb, void *ctx)
{
    store_station_event(c->store, st->id, kind, detail, csms_store_done, csms_done_wrap(cb, ctx));
    json_t *d = json_object();
    json_object_set_new(d, "station_id", json_string(st->id));
    json_object_set_new(d, "kind", json_string(kind));
    json_object_set(d, "detail", (json_t *)detail);
    csms_emit(c, "station.notification", d);
}

static bool in_list(const char *s, const char *const *list)
{
    for (; s && *list; list++)
        if (strcmp(s, *list) == 0) return true;
    return false;
}

/* TriggerMessage answers Idle when nothing is going on: that says nothing
 * about how the last install or upload ended, so a final status stays. */
static void set_status(csms_t *c, csms_station_t *st, char **slot, const char *status,
                       const char *const *finals)
{
    if (status && strcmp(status, "Idle") == 0 && in_list(*slot, finals)) return;
    csms_set_str(slot, status);
    csms_station_persist(c, st, NULL, NULL);
}

static void status_note(csms_t *c, csms_station_t *st, char **slot, const char *kind,
                        const char *status, int64_t request_id, const char *const *finals,
                        csms_done_cb cb, void *ctx)
{
    set_status(c, st, slot, status, finals);
    json_t *d = json_object();
    json_object_set_new(d, "status", json_string(status));
    if (request_id >= 0) json_object_set_new(d, "request_id", json_integer(request_id));
    csms_station_note(c, st, kind, d, cb, ctx);
    json_decref(d);
}

static const char *const diag_finals[] = {"Uploaded",   "UploadFailed",          "UploadFailure",
                                          "BadMessage", "NotSupportedOperation", "PermissionDenied",
                                          NULL};

void csms_firmware_status(csms_t *c, csms_station_t *st, const char *status, int64_t request_id,
                          csms_done_cb cb, void *ctx)
{
    static const char *const finals[] = {"Installed",         "InstallationFailed",
                                         "DownloadFailed",    "InvalidSignature",
                                         "InstallVerificationFailed", NULL};
    status_note(c, st, &st->firmware_status, "firmware_status", status, request_id, finals, cb,
                ctx);
}

void csms_diagnostics_status(csms_t *c, csms_station_t *st, const char *status,
                             int64_t request_id, csms_done_cb cb, void *ctx)
{
    status_note(c, st, &st->diagnostics_status, "diagnostics_status", status, request_id,
                diag_finals, cb, ctx);
}

void csms_log_status(csms_t *c, csms_station_t *st, const json_t *payload, csms_done_cb cb,
                     void *ctx)
{
    set_status(c, st, &st->diagnostics_status,
               json_string_value(json_object_get(payload, "status")), diag_finals);
    csms_station_note(c, st, "log_status", payload, cb, ctx);
}
