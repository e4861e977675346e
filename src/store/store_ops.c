/*
 * The store's write operations and start-up loaders. Each operation copies
 * its record when queued (the caller's memory may be gone by the time the
 * writer runs), binds it on the writer thread, and reports back through the
 * caller's callback on the loop thread.
 */
#include "store/store_internal.h"

#include "util/alloc.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

/* A generic op: a record copy plus the caller's callback. */
typedef struct rec_op {
    store_op_t op;
    store_done_cb cb;
    store_tx_cb tx_cb;
    void *ctx;
    union {
        store_station_t station;
        store_connector_t conn;
        store_id_token_t token;
        store_tx_t tx;
    } r;
    char *strs[24]; /* owned copies, freed in done */
    int nstrs;
    int64_t id_out;
    bool existed;
    /* meter values */
    store_sample_t *samples;
    size_t nsamples;
    bool has_progress;
    store_tx_progress_t progress;
    char *key;      /* delete key / event kind */
    char *detail;
} rec_op_t;

static const char *own(rec_op_t *o, const char *s)
{
    if (!s) return NULL;
    char *c = xstrdup(s);
    if (o->nstrs < (int)(sizeof o->strs / sizeof o->strs[0])) o->strs[o->nstrs++] = c;
    else abort();
    return c;
}

static void rec_done(store_op_t *op)
{
    rec_op_t *o = (rec_op_t *)op;
    if (o->cb) o->cb(o->ctx, op->rc);
    if (o->tx_cb) o->tx_cb(o->ctx, op->rc, o->id_out, o->existed);
    for (int i = 0; i < o->nstrs; i++) free(o->strs[i]);
    free(o->samples); /* the samples' strings live in the same block */
    free(o->key);
    free(o->detail);
    free(o);
}

static rec_op_t *rec_new(store_err_t (*exec)(store_t *, store_op_t *), store_done_cb cb, void *ctx)
{
    rec_op_t *o = xcalloc(1, sizeof *o);
    o->op.exec = exec;
    o->op.done = rec_done;
    o->cb = cb;
    o->ctx = ctx;
    return o;
}

static store_err_t step_done(store_t *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    store_err_t e = store_check(s, rc, what);
    sqlite3_reset(st);
    return e;
}

/* ------------------------------------------------------------- stations */

static store_err_t exec_station_save(store_t *s, store_op_t *op)
{
    const store_station_t *r = &((rec_op_t *)op)->r.station;
    sqlite3_stmt *st = store_stmt(s, SQL_STATION_UPSERT);
    const char *texts[] = {r->id, r->password_hash, r->password_hash_prev};
    for (int i = 0; i < 3; i++) store_bind_text(st, i + 1, texts[i]);
    sqlite3_bind_int(st, 4, r->security_profile);
    store_bind_text(st, 5, r->registration_status);
    sqlite3_bind_int(st, 6, r->auto_registered);
    const char *more[] = {r->description,     r->vendor,   r->model,
                          r->serial_number,   r->charge_box_serial, r->firmware_version,
                          r->iccid,           r->imsi,     r->meter_type,
                          r->meter_serial,    r->protocol, r->firmware_status,
                          r->diagnostics_status, r->rotation_status};
    for (int i = 0; i < 14; i++) store_bind_text(st, 7 + i, more[i]);
    sqlite3_bind_int64(st, 21, r->last_boot_at);
    sqlite3_bind_int64(st, 22, r->last_heartbeat_at);
    sqlite3_bind_int64(st, 23, r->created_at);
    sqlite3_bind_int64(st, 24, r->updated_at);
    store_bind_text(st, 25, r->site);
    store_bind_text(st, 26, r->location);
    store_bind_text(st, 27, r->labels);
    return step_done(s, st, "station save");
}

void store_station_save(store_t *s, const store_station_t *st, store_done_cb cb, void *ctx)
{
    rec_op_t *o = rec_new(exec_station_save, cb, ctx);
    store_station_t *r = &o->r.station;
    *r = *st;
    r->id = own(o, st->id);
    r->password_hash = own(o, st->password_hash);
    r->password_hash_prev = own(o, st->password_hash_prev);
    r->registration_status = own(o, st->registration_status);
    r->description = own(o, st->description);
    r->vendor = own(o, st->vendor);
    r->model = own(o, st->model);
    r->serial_number = own(o, st->serial_number);
    r->charge_box_serial = own(o, st->charge_box_serial);
    r->firmware_version = own(o, st->firmware_version);
    r->iccid = own(o, st->iccid);
    r->imsi = own(o, st->imsi);
    r->meter_type = own(o, st->meter_type);
    r->meter_serial = own(o, st->meter_serial);
    r->protocol = own(o, st->protocol);
    r->firmware_status = own(o, st->firmware_status);
    r->diagnostics_status = own(o, st->diagnostics_status);
    r->rotation_status = own(o, st->rotation_status);
    r->site = own(o, st->site);
    r->location = own(o, st->location);
    r->labels = own(o, st->labels);
    store_submit(s, &o->op);
}

static store_err_t exec_station_delete(store_t *s, store_op_t *op)
{
    rec_op_t *o = (rec_op_t *)op;
    static const char *const cleanup[] = {
        "DELETE FROM connectors WHERE station_id=?1",
    };
    sqlite3_stmt *st = store_stmt(s, SQL_STATION_DELETE);
    store_bind_text(st, 1, o->key);
    store_err_t e = step_done(s, st, "station delete");
    if (e != STORE_OK) return e;
    if (sqlite3_changes(store_db(s)) == 0) return STORE_ERR_NOT_FOUND;
    for (size_t i = 0; i < sizeof cleanup / sizeof cleanup[0]; i++) {
        sqlite3_stmt *c;
        if (sqlite3_prepare_v2(store_db(s), cleanup[i], -1, &c, NULL) != SQLITE_OK)
            return STORE_ERR_IO;
        store_bind_text(c, 1, o->key);
        e = store_check(s, sqlite3_step(c), "station cleanup");
        sqlite3_finalize(c);
        if (e != STORE_OK) return e;
    }
    return STORE_OK;
}

typedef struct heartbeats_op {
    store_op_t op;
    store_done_cb cb;
    void *ctx;
    size_t n;
    int64_t *at;
    char **ids;
} heartbeats_op_t;

static store_err_t exec_station_heartbeats(store_t *s, store_op_t *op)
{
    heartbeats_op_t *o = (heartbeats_op_t *)op;
    for (size_t i = 0; i < o->n; i++) {
        sqlite3_stmt *st = store_stmt(s, SQL_STATION_HEARTBEAT);
        store_bind_text(st, 1, o->ids[i]);
        sqlite3_bind_int64(st, 2, o->at[i]);
        store_err_t e = step_done(s, st, "station heartbeat");
        if (e != STORE_OK && e != STORE_ERR_NOT_FOUND) return e; /* a station deleted meanwhile */
    }
    return STORE_OK;
}

static void heartbeats_done(store_op_t *op)
{
    heartbeats_op_t *o = (heartbeats_op_t *)op;
    if (o->cb) o->cb(o->ctx, op->rc);
    for (size_t i = 0; i < o->n; i++) free(o->ids[i]);
    free(o->ids);
    free(o->at);
    free(o);
}

void store_station_heartbeats(store_t *s, const char *const *ids, const int64_t *at, size_t n,
                              store_done_cb cb, void *ctx)
{
    heartbeats_op_t *o = xcalloc(1, sizeof *o);
    o->op.exec = exec_station_heartbeats;
    o->op.done = heartbeats_done;
    o->cb = cb;
    o->ctx = ctx;
    o->n = n;
    o->ids = xcalloc(n ? n : 1, sizeof *o->ids);
    o->at = xcalloc(n ? n : 1, sizeof *o->at);
    for (size_t i = 0; i < n; i++) {
        o->ids[i] = xstrdup(ids[i]);
        o->at[i] = at[i];
    }
    store_submit(s, &o->op);
}

void store_station_delete(store_t *s, const char *id, store_done_cb cb, void *ctx)
{
    rec_op_t *o = rec_new(exec_station_delete, cb, ctx);
    o->key = xstrdup(id);
    store_submit(s, &o->op);
}

/* ----------------------------------------------------------- connectors */

static void bind_connector(sqlite3_stmt *st, const store_connector_t *c)
{
    store_bind_text(st, 1, c->station_id);
    sqlite3_bind_int(st, 2, c->evse_id);
    sqlite3_bind_int(st, 3, c->connector_id);
    store_bind_text(st, 4, c->status);
    store_bind_text(st, 5, c->error_code);
    store_bind_text(st, 6, c->info);
    store_bind_text(st, 7, c->vendor_id);
    store_bind_text(st, 8, c->vendor_error_code);
    sqlite3_bind_int64(st, 9, c->timestamp);
    sqlite3_bind_int64(st, 10, c->received_at);
}

static store_err_t exec_connector_status(store_t *s, store_op_t *op)
{
    const store_connector_t *c = &((rec_op_t *)op)->r.conn;
    sqlite3_stmt *st;
    if (!c->history_only) {
        st = store_stmt(s, SQL_CONNECTOR_UPSERT);
        bind_connector(st, c);
        store_err_t e = step_done(s, st, "connector upsert");
        if (e != STORE_OK) return e;
    }
    st = store_stmt(s, SQL_STATUS_INSERT);
    bind_connector(st, c);
    return step_done(s, st, "status history");
}

void store_connector_status(store_t *s, const store_connector_t *c, store_done_cb cb, void *ctx)
{
    rec_op_t *o = rec_new(exec_connector_status, cb, ctx);
    store_connector_t *r = &o->r.conn;
    *r = *c;
    r->station_id = own(o, c->station_id);
    r->status = own(o, c->status);
    r->error_code = own(o, c->error_code);
    r->info = own(o, c->info);
    r->vendor_id = own(o, c->vendor_id);
    r->vendor_error_code = own(o, c->vendor_error_code);
    store_submit(s, &o->op);
}

/* ------------------------------------------------------------ id tokens */

static store_err_t exec_id_token_save(store_t *s, store_op_t *op)
{
    const store_id_token_t *t = &((rec_op_t *)op)->r.token;
    sqlite3_stmt *st = store_stmt(s, SQL_ID_TOKEN_UPSERT);
    store_bind_text(st, 1, t->id_token);
    store_bind_text(st, 2, t->type);
    store_bind_text(st, 3, t->status);
    if (t->expiry) sqlite3_bind_int64(st, 4, t->expiry);
    else sqlite3_bind_null(st, 4);
    store_bind_text(st, 5, t->parent_id_token);
    sqlite3_bind_int64(st, 6, t->created_at);
    sqlite3_bind_int64(st, 7, t->updated_at);
    return step_done(s, st, "id token save");
}

void store_id_token_save(store_t *s, const store_id_token_t *t, store_done_cb cb, void *ctx)
{
    rec_op_t *o = rec_new(exec_id_token_save, cb, ctx);
    store_id_token_t *r = &o->r.token;
    *r = *t;
    r->id_token = own(o, t->id_token);
    r->type = own(o, t->type);
    r->status = own(o, t->status);
    r->parent_id_token = own(o, t->parent_id_token);
    store_submit(s, &o->op);
}

static store_err_t exec_id_token_delete(store_t *s, store_op_t *op)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ID_TOKEN_DELETE);
    store_bind_text(st, 1, ((rec_op_t *)op)->key);
    store_err_t e = step_done(s, st, "id token delete");
    if (e == STORE_OK && sqlite3_changes(store_db(s)) == 0) return STORE_ERR_NOT_FOUND;
    return e;
}

void store_id_token_delete(store_t *s, const char *id_token, store_done_cb cb, void *ctx)
{
    rec_op_t *o = rec_new(exec_id_token_delete, cb, ctx);
    o->key = xstrdup(id_token);
    store_submit(s, &o->op);
}

/* --------------------------------------------------------- transactions */

static store_err_t exec_tx_start(store_t *s, store_op_t *op)
{
    rec_op_t *o = (rec_op_t *)op;
    const store_tx_t *t = &o->r.tx;
    sqlite3_stmt *st;
    if (t->tx_id) { /* a station-assigned id (2.0.1) identifies the transaction */
        st = store_stmt(s, SQL_TX_FIND_BY_TXID);
        store_bind_text(st, 1, t->station_id);
        store_bind_text(st, 2, t->tx_id);
        int r = sqlite3_step(st);
        if (r == SQLITE_ROW) {
            o->id_out = sqlite3_column_int64(st, 0);
            o->existed = true;
            sqlite3_reset(st);
            return STORE_OK;
        }
        sqlite3_reset(st);
        if (r != SQLITE_DONE) return store_check(s, r, "tx find by id");
    }
    st = store_stmt(s, SQL_TX_FIND);
    store_bind_text(st, 1, t->station_id);
    sqlite3_bind_int(st, 2, t->connector_id);
    sqlite3_bind_int(st, 3, t->evse_id);
    store_bind_text(st, 4, t->id_token);
    sqlite3_bind_int64(st, 5, t->meter_start);
    sqlite3_bind_int64(st, 6, t->started_at);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        o->id_out = sqlite3_column_int64(st, 0);
        o->existed = true;
        sqlite3_reset(st);
        return STORE_OK;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return store_check(s, rc, "tx find");

    st = store_stmt(s, SQL_TX_INSERT);
    store_bind_text(st, 1, t->tx_id);
    store_bind_text(st, 2, t->station_id);
    sqlite3_bind_int(st, 3, t->evse_id);
    sqlite3_bind_int(st, 4, t->connector_id);
    store_bind_text(st, 5, t->id_token);
    store_bind_text(st, 6, t->id_token_type);
    store_bind_text(st, 7, t->auth_status);
    if (t->meter_start >= 0) sqlite3_bind_int64(st, 8, t->meter_start); /* else unknown */
    sqlite3_bind_int64(st, 9, t->started_at);
    if (t->reservation_id >= 0) sqlite3_bind_int(st, 10, t->reservation_id);
    sqlite3_bind_int64(st, 11, time_now_ms());
    store_err_t e = step_done(s, st, "tx insert");
    if (e != STORE_OK) return e;
    o->id_out = sqlite3_last_insert_rowid(store_db(s));
    if (!t->tx_id) {
        /* 1.6: the protocol id is the database id */
        sqlite3_stmt *u;
        if (sqlite3_prepare_v2(store_db(s), "UPDATE transactions SET tx_id=id WHERE id=?1", -1,
                               &u, NULL) != SQLITE_OK)
            return STORE_ERR_IO;
        sqlite3_bind_int64(u, 1, o->id_out);
        e = store_check(s, sqlite3_step(u), "tx id");
        sqlite3_finalize(u);
    }
    return e;
}

static void copy_tx(rec_op_t *o, const store_tx_t *tx)
{
    store_tx_t *r = &o->r.tx;
    *r = *tx;
    r->tx_id = own(o, tx->tx_id);
    r->station_id = own(o, tx->station_id);
    r->id_token = own(o, tx->id_token);
    r->id_token_type = own(o, tx->id_token_type);
    r->auth_status = own(o, tx->auth_status);
    r->stop_reason = own(o, tx->stop_reason);
    r->stop_id_token = own(o, tx->stop_id_token);
    r->charging_state = own(o, tx->charging_state);
}

void store_tx_start(store_t *s, const store_tx_t *tx, store_tx_cb cb, void *ctx)
{
    rec_op_t *o = rec_new(exec_tx_start, NULL, ctx);
    o->tx_cb = cb;
    copy_tx(o, tx);
    store_submit(s, &o->op);
}

/* A 2.0.1 Started that arrives after later events corrects the start. */
static store_err_t fix_start(store_t *s, const store_tx_t *t)
{
    sqlite3_stmt *st = store_stmt(s, SQL_TX_FIX_START);
    sqlite3_bind_int64(st, 1, t->id);
    sqlite3_bind_int64(st, 2, t->started_at);
    store_bind_text(st, 3, t->id_token);
    if (t->meter_start >= 0) sqlite3_bind_int64(st, 4, t->meter_start);
    store_bind_text(st, 5, t->id_token_type);
    store_bind_text(st, 6, t->auth_status);
    return step_done(s, st, "tx fix start");
}

static store_err_t exec_tx_update(store_t *s, store_op_t *op)
{
    const store_tx_t *t = &((rec_op_t *)op)->r.tx;
    if (t->fix_start) {
        store_err_t e = fix_start(s, t);
        if (e != STORE_OK) return e;
        if (sqlite3_changes(store_db(s)) == 0) return STORE_ERR_NOT_FOUND;
        if (t->start_only) return STORE_OK;
    }
    sqlite3_stmt *st = store_stmt(s, SQL_TX_UPDATE);
    sqlite3_bind_int64(st, 1, t->id);
    store_bind_text(st, 2, t->tx_id);
    if (t->meter_stop >= 0) sqlite3_bind_int64(st, 3, t->meter_stop);
    if (t->stopped_at) sqlite3_bind_int64(st, 4, t->stopped_at);
    store_bind_text(st, 5, t->stop_reason);
    store_bind_text(st, 6, t->stop_id_token);
    if (t->last_soc >= 0) sqlite3_bind_double(st, 7, t->last_soc);
    if (t->last_energy_wh >= 0) sqlite3_bind_int64(st, 8, t->last_energy_wh);
    sqlite3_bind_int64(st, 9, t->last_soc_at);
    sqlite3_bind_int64(st, 10, t->last_energy_at);
    store_bind_text(st, 11, t->charging_state);
    store_err_t e = step_done(s, st, "tx update");
    if (e == STORE_OK && sqlite3_changes(store_db(s)) == 0) return STORE_ERR_NOT_FOUND;
    return e;
}

void store_tx_update(store_t *s, const store_tx_t *tx, store_done_cb cb, void *ctx)
{
    rec_op_t *o = rec_new(exec_tx_update, cb, ctx);
    copy_tx(o, tx);
    store_submit(s, &o->op);
}

/* ---------------------------------------------------------- meter values */

/* One reading's samples (those from `from` sharing its timestamp) as the
 * JSON array meter_readings keeps; returns the index after them. */
static size_t pack_reading(strbuf_t *b, const store_sample_t *sm, size_t from, size_t n)
{
    static const char *const keys[] = {"\"v\":", "\"m\":", "\"p\":", "\"u\":",
                                       "\"c\":", "\"l\":", "\"f\":"};
    b->len = 0;
    strbuf_append(b, "[", 1);
    size_t i = from;
    for (; i < n && sm[i].timestamp == sm[from].timestamp; i++) {
        const char *f[] = {sm[i].value ? sm[i].value : "", sm[i].measurand, sm[i].phase,
                           sm[i].unit, sm[i].context, sm[i].location, sm[i].format};
        strbuf_append(b, i == from ? "{" : ",{", i == from ? 1 : 2);
        bool first = true;
        for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
            if (!f[k]) continue;
            if (!first) strbuf_append(b, ",", 1);
            strbuf_append(b, keys[k], 4);
            strbuf_json_string(b, f[k]);
            first = false;
        }
        strbuf_append(b, "}", 1);
    }
    strbuf_append(b, "]", 1);
    return i;
}

/* Widens the transaction's reading bounds to [from, to] (see
 * STORE_SQL_TX_READINGS; none: from > to) and, when the op carries it,
 * records its progress, in one row write. */
static store_err_t tx_readings_update(store_t *s, const rec_op_t *o, int64_t from, int64_t to)
{
    sqlite3_stmt *st;
    if (o->has_progress) {
        const store_tx_progress_t *p = &o->progress;
        st = store_stmt(s, SQL_TX_PROGRESS);
        if (p->last_soc >= 0) sqlite3_bind_double(st, 2, p->last_soc);
        if (p->last_energy_wh >= 0) sqlite3_bind_int64(st, 3, p->last_energy_wh);
        sqlite3_bind_int64(st, 4, p->last_soc_at);
        sqlite3_bind_int64(st, 5, p->last_energy_at);
        if (from <= to) {
            sqlite3_bind_int64(st, 6, from);
            sqlite3_bind_int64(st, 7, to);
        }
    } else {
        st = store_stmt(s, SQL_TX_READINGS);
        sqlite3_bind_int64(st, 2, from);
        sqlite3_bind_int64(st, 3, to);
    }
    sqlite3_bind_int64(st, 1, o->id_out);
    return step_done(s, st, "tx progress");
}

static store_err_t exec_meter_values(store_t *s, store_op_t *op)
{
    rec_op_t *o = (rec_op_t *)op;
    const store_connector_t *c = &o->r.conn;
    strbuf_t b = {0};
    int64_t from = INT64_MAX, to = INT64_MIN;
    for (size_t i = 0; i < o->nsamples;) {
        int64_t at = o->samples[i].timestamp;
        if (at < from) from = at;
        if (at > to) to = at;
        i = pack_reading(&b, o->samples, i, o->nsamples);
        sqlite3_stmt *st = store_stmt(s, SQL_METER_INSERT);
        store_bind_text_static(st, 1, c->station_id);
        sqlite3_bind_int(st, 2, c->evse_id);
        sqlite3_bind_int(st, 3, c->connector_id);
        if (o->id_out > 0) sqlite3_bind_int64(st, 4, o->id_out);
        sqlite3_bind_int64(st, 5, at);
        sqlite3_bind_text(st, 6, b.data, (int)b.len, SQLITE_STATIC);
        store_err_t e = step_done(s, st, "meter value");
        if (e != STORE_OK) {
            strbuf_free(&b);
            return e;
        }
    }
    strbuf_free(&b);
    if (o->id_out <= 0 || (o->nsamples == 0 && !o->has_progress)) return STORE_OK;
    return tx_readings_update(s, o, from, to);
}

void store_meter_values(store_t *s, const char *station_id, int evse_id, int connector_id,
                        int64_t tx_db_id, const store_sample_t *samples, size_t n,
                        store_done_cb cb, void *ctx)
{
    store_meter_values_tx(s, station_id, evse_id, connector_id, tx_db_id, samples, n, NULL, cb,
                          ctx);
}

/* The op of store_meter_values_tx, not yet submitted: store_tx_event_samples
 * runs it inside its own. */
static rec_op_t *meter_op_new(const char *station_id, int evse_id, int connector_id,
                              int64_t tx_db_id, const store_sample_t *samples, size_t n,
                              const store_tx_progress_t *progress, store_done_cb cb, void *ctx)
{
    rec_op_t *o = rec_new(exec_meter_values, cb, ctx);
    if (progress) {
        o->has_progress = true;
        o->progress = *progress;
    }
    o->r.conn.station_id = own(o, station_id);
    o->r.conn.evse_id = evse_id;
    o->r.conn.connector_id = connector_id;
    o->id_out = tx_db_id;
    /* One block holds the samples and all their strings: a meter value of a
     * three-phase charger has ~60 of them, and this runs for every message. */
    size_t bytes = (n ? n : 1) * sizeof *o->samples;
    for (size_t i = 0; i < n; i++) {
        const store_sample_t *in = &samples[i];
        const char *f[] = {in->value ? in->value : "", in->measurand, in->phase, in->unit,
                           in->context, in->location, in->format};
        for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
            if (f[k]) bytes += strlen(f[k]) + 1;
    }
    o->samples = xcalloc(1, bytes);
    o->nsamples = n;
    char *p = (char *)(o->samples + (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        const store_sample_t *in = &samples[i];
        store_sample_t *out = &o->samples[i];
        out->timestamp = in->timestamp;
        const char *src[] = {in->value ? in->value : "", in->measurand, in->phase, in->unit,
                             in->context, in->location, in->format};
        const char **dst[] = {&out->value, &out->measurand, &out->phase, &out->unit,
                              &out->context, &out->location, &out->format};
        for (size_t k = 0; k < sizeof src / sizeof src[0]; k++) {
            if (!src[k]) continue;
            size_t len = strlen(src[k]) + 1;
            memcpy(p, src[k], len);
            *dst[k] = p;
            p += len;
        }
    }
    return o;
}

void store_meter_values_tx(store_t *s, const char *station_id, int evse_id, int connector_id,
                           int64_t tx_db_id, const store_sample_t *samples, size_t n,
                           const store_tx_progress_t *progress, store_done_cb cb, void *ctx)
{
    rec_op_t *o = meter_op_new(station_id, evse_id, connector_id, tx_db_id, samples, n, progress,
                               cb, ctx);
    store_submit(s, &o->op);
}

/* -------------------------------------------------------- station events */

static store_err_t exec_station_event(store_t *s, store_op_t *op)
{
    rec_op_t *o = (rec_op_t *)op;
    sqlite3_stmt *st = store_stmt(s, SQL_EVENT_INSERT);
    store_bind_text(st, 1, o->r.conn.station_id);
    store_bind_text(st, 2, o->key);
    store_bind_text(st, 3, o->detail);
    sqlite3_bind_int64(st, 4, time_now_ms());
    return step_done(s, st, "station event");
}

void store_station_event(store_t *s, const char *station_id, const char *kind,
                         const json_t *detail, store_done_cb cb, void *ctx)
{
    rec_op_t *o = rec_new(exec_station_event, cb, ctx);
    o->r.conn.station_id = own(o, station_id);
    o->key = xstrdup(kind);
    o->detail = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    store_submit(s, &o->op);
}

/* ------------------------------------------------------------ start-up */

static int load_rows(store_t *s, const char *sql, void (*row)(sqlite3_stmt *, void *, void *),
                     void *cb, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK) return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) row(st, cb, ctx);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void station_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    store_station_t r = {
        .id = store_col_text(st, 0),
        .password_hash = store_col_text(st, 1),
        .password_hash_prev = store_col_text(st, 2),
        .security_profile = sqlite3_column_int(st, 3),
        .registration_status = store_col_text(st, 4),
        .auto_registered = sqlite3_column_int(st, 5) != 0,
        .description = store_col_text(st, 6),
        .vendor = store_col_text(st, 7),
        .model = store_col_text(st, 8),
        .serial_number = store_col_text(st, 9),
        .charge_box_serial = store_col_text(st, 10),
        .firmware_version = store_col_text(st, 11),
        .iccid = store_col_text(st, 12),
        .imsi = store_col_text(st, 13),
        .meter_type = store_col_text(st, 14),
        .meter_serial = store_col_text(st, 15),
        .protocol = store_col_text(st, 16),
        .firmware_status = store_col_text(st, 17),
        .diagnostics_status = store_col_text(st, 18),
        .rotation_status = store_col_text(st, 19),
        .last_boot_at = sqlite3_column_int64(st, 20),
        .last_heartbeat_at = sqlite3_column_int64(st, 21),
        .created_at = sqlite3_column_int64(st, 22),
        .updated_at = sqlite3_column_int64(st, 23),
        .site = store_col_text(st, 24),
        .location = store_col_text(st, 25),
        .labels = store_col_text(st, 26),
    };
    ((store_station_row_cb)cb)(ctx, &r);
}

int store_load_stations(store_t *s, store_station_row_cb cb, void *ctx)
{
    return load_rows(s,
                     "SELECT id,password_hash,password_hash_prev,security_profile,"
                     "registration_status,auto_registered,description,vendor,model,serial_number,"
                     "charge_box_serial,firmware_version,iccid,imsi,meter_type,meter_serial,"
                     "protocol,firmware_status,diagnostics_status,rotation_status,last_boot_at,"
                     "last_heartbeat_at,created_at,updated_at,site,location,labels FROM stations",
                     station_row, (void *)cb, ctx);
}

static void connector_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    store_connector_t r = {
        .station_id = store_col_text(st, 0),
        .evse_id = sqlite3_column_int(st, 1),
        .connector_id = sqlite3_column_int(st, 2),
        .status = store_col_text(st, 3),
        .error_code = store_col_text(st, 4),
        .info = store_col_text(st, 5),
        .vendor_id = store_col_text(st, 6),
        .vendor_error_code = store_col_text(st, 7),
        .timestamp = sqlite3_column_int64(st, 8),
        .received_at = sqlite3_column_int64(st, 9),
    };
    ((store_connector_row_cb)cb)(ctx, &r);
}

int store_load_connectors(store_t *s, store_connector_row_cb cb, void *ctx)
{
    return load_rows(s,
                     "SELECT station_id,evse_id,connector_id,status,error_code,info,vendor_id,"
                     "vendor_error_code,timestamp,received_at FROM connectors "
                     "ORDER BY station_id,evse_id,connector_id",
                     connector_row, (void *)cb, ctx);
}

static void id_token_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    store_id_token_t r = {
        .id_token = store_col_text(st, 0),
        .type = store_col_text(st, 1),
        .status = store_col_text(st, 2),
        .expiry = sqlite3_column_int64(st, 3),
        .parent_id_token = store_col_text(st, 4),
        .created_at = sqlite3_column_int64(st, 5),
        .updated_at = sqlite3_column_int64(st, 6),
    };
    ((store_id_token_row_cb)cb)(ctx, &r);
}

int store_load_id_tokens(store_t *s, store_id_token_row_cb cb, void *ctx)
{
    return load_rows(s,
                     "SELECT id_token,type,status,expiry,parent_id_token,created_at,updated_at "
                     "FROM id_tokens",
                     id_token_row, (void *)cb, ctx);
}

static void tx_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    store_tx_t r = {
        .id = sqlite3_column_int64(st, 0),
        .tx_id = store_col_text(st, 1),
        .station_id = store_col_text(st, 2),
        .evse_id = sqlite3_column_int(st, 3),
        .connector_id = sqlite3_column_int(st, 4),
        .id_token = store_col_text(st, 5),
        .id_token_type = store_col_text(st, 6),
        .auth_status = store_col_text(st, 7),
        .meter_start = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 8),
        .meter_stop = -1,
        .started_at = sqlite3_column_int64(st, 9),
        .reservation_id = sqlite3_column_type(st, 10) == SQLITE_NULL ? -1
                                                                      : sqlite3_column_int(st, 10),
        .last_soc = sqlite3_column_type(st, 11) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 11),
        .last_energy_wh =
            sqlite3_column_type(st, 12) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 12),
        .last_soc_at = sqlite3_column_int64(st, 13),
        .last_energy_at = sqlite3_column_int64(st, 14),
    };
    ((store_tx_row_cb)cb)(ctx, &r);
}

int store_load_active_txs(store_t *s, store_tx_row_cb cb, void *ctx)
{
    return load_rows(s,
                     "SELECT id,tx_id,station_id,evse_id,connector_id,id_token,id_token_type,"
                     "auth_status,meter_start,started_at,reservation_id,last_soc,last_energy_wh,"
                     "last_soc_at,last_energy_at FROM transactions WHERE stopped_at IS NULL",
                     tx_row, (void *)cb, ctx);
}

/* ------------------------------------------------------------ API tokens */

int store_api_token_create_sync(store_t *s, const char *name, const char *role,
                                const char *token_hash, int64_t expires_at, char *err,
                                size_t err_len)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s),
                           "INSERT INTO api_tokens(name,role,token_hash,created_at,expires_at) "
                           "VALUES(?1,?2,?3,?4,?5)",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    store_bind_text(st, 1, name);
    store_bind_text(st, 2, role);
    store_bind_text(st, 3, token_hash);
    sqlite3_bind_int64(st, 4, time_now_ms());
    if (expires_at) sqlite3_bind_int64(st, 5, expires_at);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) goto fail;
    return 0;
fail:
    snprintf(err, err_len, "cannot store the token: %s", sqlite3_errmsg(store_db(s)));
    return -1;
}

int store_api_token_count_sync(store_t *s)
{
    sqlite3_stmt *st;
    int n = -1;
    if (sqlite3_prepare_v2(store_db(s), "SELECT count(*) FROM api_tokens WHERE revoked=0", -1, &st,
                           NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* -------------------------------------------------- OCPP 2.0.1 additions */

typedef struct find_op {
    store_op_t op;
    char *station_id, *tx_id;
    store_tx_found_cb cb;
    void *ctx;
    bool found;
    store_tx_t rec;
    char *strs[6];
} find_op_t;

static store_err_t exec_tx_find(store_t *s, store_op_t *op)
{
    find_op_t *f = (find_op_t *)op;
    sqlite3_stmt *st = store_stmt(s, SQL_TX_FIND_BY_TXID);
    store_bind_text(st, 1, f->station_id);
    store_bind_text(st, 2, f->tx_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        f->found = true;
        const int text_cols[] = {1, 2, 5, 6, 7};
        for (int i = 0; i < 5; i++) f->strs[i] = xstrdup_opt(store_col_text(st, text_cols[i]));
        f->rec = (store_tx_t){
            .id = sqlite3_column_int64(st, 0),
            .tx_id = f->strs[0],
            .station_id = f->strs[1],
            .evse_id = sqlite3_column_int(st, 3),
            .connector_id = sqlite3_column_int(st, 4),
            .id_token = f->strs[2],
            .id_token_type = f->strs[3],
            .auth_status = f->strs[4],
            .meter_start =
                sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 8),
            .started_at = sqlite3_column_int64(st, 9),
            .stopped_at = sqlite3_column_int64(st, 10),
            .started_event = sqlite3_column_int(st, 11) != 0,
            .meter_stop = -1,
            .reservation_id = -1,
            .last_soc = -1,
            .last_energy_wh = -1,
        };
        rc = SQLITE_DONE;
    }
    sqlite3_reset(st);
    return store_check(s, rc, "tx find");
}

static void tx_find_done(store_op_t *op)
{
    find_op_t *f = (find_op_t *)op;
    f->cb(f->ctx, op->rc, f->found ? &f->rec : NULL);
    for (int i = 0; i < 6; i++) free(f->strs[i]);
    free(f->station_id);
    free(f->tx_id);
    free(f);
}

void store_tx_find(store_t *s, const char *station_id, const char *tx_id, store_tx_found_cb cb,
                   void *ctx)
{
    find_op_t *f = xcalloc(1, sizeof *f);
    f->op.exec = exec_tx_find;
    f->op.done = tx_find_done;
    f->station_id = xstrdup(station_id);
    f->tx_id = xstrdup(tx_id);
    f->cb = cb;
    f->ctx = ctx;
    store_submit(s, &f->op);
}

typedef struct event_op {
    store_op_t op;
    int64_t tx;
    int seq;
    char *type, *trigger, *detail;
    int64_t ts;
    bool offline, duplicate;
    rec_op_t *samples; /* store_tx_event_samples: written with the event, or NULL */
    store_dup_cb cb;
    void *ctx;
} event_op_t;

static store_err_t exec_tx_event(store_t *s, store_op_t *op)
{
    event_op_t *e = (event_op_t *)op;
    sqlite3_stmt *st = store_stmt(s, SQL_TX_EVENT_INSERT);
    sqlite3_bind_int64(st, 1, e->tx);
    sqlite3_bind_int(st, 2, e->seq);
    store_bind_text(st, 3, e->type);
    store_bind_text(st, 4, e->trigger);
    sqlite3_bind_int64(st, 5, e->ts);
    sqlite3_bind_int(st, 6, e->offline);
    store_bind_text(st, 7, e->detail);
    sqlite3_bind_int64(st, 8, time_now_ms());
    store_err_t r = step_done(s, st, "tx event");
    if (r == STORE_OK) e->duplicate = sqlite3_changes(store_db(s)) == 0;
    /* a duplicate's samples were written with its first delivery */
    if (r == STORE_OK && !e->duplicate && e->samples) r = exec_meter_values(s, &e->samples->op);
    return r;
}

static void tx_event_done(store_op_t *op)
{
    event_op_t *e = (event_op_t *)op;
    if (e->cb) e->cb(e->ctx, op->rc, e->duplicate);
    if (e->samples) rec_done(&e->samples->op); /* no callback of its own: frees */
    free(e->type);
    free(e->trigger);
    free(e->detail);
    free(e);
}

static event_op_t *event_op_new(int64_t tx_db_id, int seq_no, const char *event_type,
                                const char *trigger_reason, int64_t timestamp, bool offline,
                                const json_t *detail, store_dup_cb cb, void *ctx)
{
    event_op_t *e = xcalloc(1, sizeof *e);
    e->op.exec = exec_tx_event;
    e->op.done = tx_event_done;
    e->tx = tx_db_id;
    e->seq = seq_no;
    e->type = xstrdup(event_type);
    e->trigger = xstrdup_opt(trigger_reason);
    e->detail = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    e->ts = timestamp;
    e->offline = offline;
    e->cb = cb;
    e->ctx = ctx;
    return e;
}

void store_tx_event(store_t *s, int64_t tx_db_id, int seq_no, const char *event_type,
                    const char *trigger_reason, int64_t timestamp, bool offline,
                    const json_t *detail, store_dup_cb cb, void *ctx)
{
    event_op_t *e = event_op_new(tx_db_id, seq_no, event_type, trigger_reason, timestamp, offline,
                                 detail, cb, ctx);
    store_submit(s, &e->op);
}

void store_tx_event_samples(store_t *s, int64_t tx_db_id, int seq_no, const char *event_type,
                            const char *trigger_reason, int64_t timestamp, bool offline,
                            const json_t *detail, const store_meter_batch_t *mv, store_dup_cb cb,
                            void *ctx)
{
    event_op_t *e = event_op_new(tx_db_id, seq_no, event_type, trigger_reason, timestamp, offline,
                                 detail, cb, ctx);
    e->samples = meter_op_new(mv->station_id, mv->evse_id, mv->connector_id, tx_db_id, mv->samples,
                              mv->n, mv->progress, NULL, NULL);
    store_submit(s, &e->op);
}

static void seq_row(sqlite3_stmt *st, void *cb, void *ctx)
{
    ((store_seq_row_cb)cb)(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1));
}

int store_load_tx_seqs(store_t *s, store_seq_row_cb cb, void *ctx)
{
    return load_rows(s,
                     "SELECT e.transaction_id, e.seq_no FROM tx_events e JOIN transactions t "
                     "ON t.id = e.transaction_id WHERE t.stopped_at IS NULL ORDER BY 1, 2",
                     seq_row, (void *)cb, ctx);
}

typedef struct vars_op {
    store_op_t op;
    char *station_id;
    store_variable_t *rows;
    size_t n;
    store_done_cb cb;
    void *ctx;
} vars_op_t;

static void bind_opt_int(sqlite3_stmt *st, int idx, int v)
{
    if (v >= 0) sqlite3_bind_int(st, idx, v);
}

static store_err_t exec_variables(store_t *s, store_op_t *op)
{
    vars_op_t *v = (vars_op_t *)op;
    int64_t now = time_now_ms();
    for (size_t i = 0; i < v->n; i++) {
        const store_variable_t *r = &v->rows[i];
        sqlite3_stmt *st = store_stmt(s, SQL_VARIABLE_UPSERT);
        store_bind_text(st, 1, v->station_id);
        store_bind_text(st, 2, r->component);
        store_bind_text(st, 3, r->component_instance ? r->component_instance : "");
        sqlite3_bind_int(st, 4, r->evse_id);
        sqlite3_bind_int(st, 5, r->connector_id);
        store_bind_text(st, 6, r->variable);
        store_bind_text(st, 7, r->variable_instance ? r->variable_instance : "");
        store_bind_text(st, 8, r->attribute_type ? r->attribute_type : "Actual");
        store_bind_text(st, 9, r->value);
        store_bind_text(st, 10, r->mutability);
        bind_opt_int(st, 11, r->persistent);
        bind_opt_int(st, 12, r->constant);
        store_bind_text(st, 13, r->data_type);
        store_bind_text(st, 14, r->unit);
        store_bind_text(st, 15, r->values_list);
        if (r->has_min) sqlite3_bind_double(st, 16, r->min_limit);
        if (r->has_max) sqlite3_bind_double(st, 17, r->max_limit);
        bind_opt_int(st, 18, r->supports_monitoring);
        sqlite3_bind_int64(st, 19, now);
        store_err_t e = step_done(s, st, "variable upsert");
        if (e != STORE_OK) return e;
    }
    return STORE_OK;
}

static void variables_done(store_op_t *op)
{
    vars_op_t *v = (vars_op_t *)op;
    if (v->cb) v->cb(v->ctx, op->rc);
    for (size_t i = 0; i < v->n; i++) {
        store_variable_t *r = &v->rows[i];
        const char *strs[] = {r->component,      r->component_instance, r->variable,
                              r->variable_instance, r->attribute_type,  r->value,
                              r->mutability,     r->data_type,          r->unit,
                              r->values_list};
        for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++) free((char *)strs[k]);
    }
    free(v->rows);
    free(v->station_id);
    free(v);
}

void store_variables_save(store_t *s, const char *station_id, const store_variable_t *rows,
                          size_t n, store_done_cb cb, void *ctx)
{
    vars_op_t *v = xcalloc(1, sizeof *v);
    v->op.exec = exec_variables;
    v->op.done = variables_done;
    v->station_id = xstrdup(station_id);
    v->rows = xcalloc(n ? n : 1, sizeof *v->rows);
    v->n = n;
    for (size_t i = 0; i < n; i++) {
        store_variable_t *r = &v->rows[i];
        *r = rows[i];
        r->component = xstrdup_opt(rows[i].component);
        r->component_instance = xstrdup_opt(rows[i].component_instance);
        r->variable = xstrdup_opt(rows[i].variable);
        r->variable_instance = xstrdup_opt(rows[i].variable_instance);
        r->attribute_type = xstrdup_opt(rows[i].attribute_type);
        r->value = xstrdup_opt(rows[i].value);
        r->mutability = xstrdup_opt(rows[i].mutability);
        r->data_type = xstrdup_opt(rows[i].data_type);
        r->unit = xstrdup_opt(rows[i].unit);
        r->values_list = xstrdup_opt(rows[i].values_list);
    }
    v->cb = cb;
    v->ctx = ctx;
    store_submit(s, &v->op);
}

static store_err_t exec_tx_ev_info(store_t *s, store_op_t *op)
{
    rec_op_t *o = (rec_op_t *)op;
    sqlite3_stmt *st = store_stmt(s, SQL_TX_EV_INFO);
    sqlite3_bind_int64(st, 1, o->id_out);
    store_bind_text(st, 2, o->key);
    store_bind_text(st, 3, o->detail);
    return step_done(s, st, "tx ev info");
}

void store_tx_ev_info(store_t *s, int64_t tx_db_id, const json_t *needs, const json_t *schedule,
                      store_done_cb cb, void *ctx)
{
    rec_op_t *o = rec_new(exec_tx_ev_info, cb, ctx);
    o->id_out = tx_db_id;
    o->key = needs ? json_dumps(needs, JSON_COMPACT) : NULL;
    o->detail = schedule ? json_dumps(schedule, JSON_COMPACT) : NULL;
    store_submit(s, &o->op);
}
