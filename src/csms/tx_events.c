/*
 * Transaction events (OCPP 2.0.1 TransactionEvent) applied to the
 * version-neutral transactions of charging.c.
 *
 * Why a separate path: 1.6 starts and stops a transaction with two messages
 * and the CSMS assigns the id; 2.0.1 streams numbered events for an id the
 * station chose, possibly queued offline and delivered late, out of order or
 * twice. So every event is recorded by (transaction, seqNo): a number already
 * recorded changes nothing; an event for a transaction the server has not seen
 * yet creates it (whatever its type); a Started that arrives after later
 * events corrects the start fields; an event for an ended transaction is kept
 * as history only; and a jump in sequence numbers makes the server ask the
 * station for the transaction's status (GetTransactionStatus), so it delivers
 * what it still holds.
 */
#include "csms/csms_internal.h"

#include "util/alloc.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"Started", "Updated", "Ended"};

/* An event copied for the asynchronous steps, with the bookkeeping. */
typedef struct txe {
    csms_t *c;
    char station_id[64];
    csms_tx_event_t ev;
    store_sample_t *samples;
    char *strs[8];
    json_t *raw;
    csms_tx_event_cb cb;
    void *ctx;
    csms_tx_event_result_t r;
    char status[24], parent[64], parent_type[24];
    int pending;
    bool failed, created;
} txe_t;

static const char *dup_str(txe_t *x, int slot, const char *s)
{
    x->strs[slot] = xstrdup_opt(s);
    return x->strs[slot];
}

static txe_t *txe_new(csms_t *c, csms_station_t *st, const csms_tx_event_t *ev, csms_tx_event_cb cb,
                      void *ctx)
{
    txe_t *x = xcalloc(1, sizeof *x);
    x->c = c;
    snprintf(x->station_id, sizeof x->station_id, "%s", st->id);
    x->ev = *ev;
    x->ev.tx_id = dup_str(x, 0, ev->tx_id);
    x->ev.id_token = dup_str(x, 1, ev->id_token);
    x->ev.id_token_type = dup_str(x, 2, ev->id_token_type);
    x->ev.trigger_reason = dup_str(x, 3, ev->trigger_reason);
    x->ev.charging_state = dup_str(x, 4, ev->charging_state);
    x->ev.stopped_reason = dup_str(x, 5, ev->stopped_reason);
    x->raw = ev->raw ? json_deep_copy(ev->raw) : NULL;
    x->ev.raw = x->raw;
    x->samples = xcalloc(ev->nsamples ? ev->nsamples : 1, sizeof *x->samples);
    for (size_t i = 0; i < ev->nsamples; i++) {
        const store_sample_t *s = &ev->samples[i];
        x->samples[i] = (store_sample_t){
            .timestamp = s->timestamp,
            .value = xstrdup(s->value ? s->value : ""),
            .measurand = xstrdup_opt(s->measurand),
            .phase = xstrdup_opt(s->phase),
            .unit = xstrdup_opt(s->unit),
            .context = xstrdup_opt(s->context),
            .location = xstrdup_opt(s->location),
            .format = xstrdup_opt(s->format),
        };
    }
    x->ev.samples = x->samples;
    x->cb = cb;
    x->ctx = ctx;
    return x;
}

static void txe_free(txe_t *x)
{
    for (size_t i = 0; i < x->ev.nsamples; i++) {
        store_sample_t *s = &x->samples[i];
        free((char *)s->value);
        free((char *)s->measurand);
        free((char *)s->phase);
        free((char *)s->unit);
        free((char *)s->context);
        free((char *)s->location);
        free((char *)s->format);
    }
    free(x->samples);
    for (int i = 0; i < 8; i++) free(x->strs[i]);
    json_decref(x->raw);
    free(x);
}

static void finish(txe_t *x)
{
    x->cb(x->ctx, x->failed ? CSMS_ERR_STORE : CSMS_OK, &x->r);
    txe_free(x);
}

/* One asynchronous part done; the answer goes out when the last one is. */
static void part_done(txe_t *x, bool ok)
{
    if (!ok) x->failed = true;
    if (--x->pending == 0) finish(x);
}

static void part_store_cb(void *p, store_err_t rc)
{
    part_done(p, rc == STORE_OK);
}

static void part_stop_cb(void *p, csms_err_t rc, bool known)
{
    part_done(p, rc == CSMS_OK);
}

static void part_event_cb(void *p, store_err_t rc, bool duplicate)
{
    part_done(p, rc == STORE_OK);
}

csms_tx_t *csms_tx_find_by_txid(csms_t *c, const char *station_id, const char *tx_id)
{
    char key[160];
    snprintf(key, sizeof key, "%s\x1f%s", station_id, tx_id);
    csms_tx_t *t = NULL;
    HASH_FIND(hh_key, c->txs_by_key, key, strlen(key), t);
    return t;
}

/* The energy register among samples, in Wh, preferring the given context
 * (only that context when strict); -1 = none. */
static int64_t energy_of(const store_sample_t *s, size_t n, const char *context, bool strict)
{
    int64_t any = -1;
    for (size_t i = 0; i < n; i++) {
        const char *m = s[i].measurand ? s[i].measurand : "Energy.Active.Import.Register";
        if (strcmp(m, "Energy.Active.Import.Register") != 0 || (s[i].phase && *s[i].phase))
            continue;
        char *end;
        double v = strtod(s[i].value, &end);
        if (end == s[i].value || !isfinite(v) || fabs(v) > 1e15) continue;
        if (s[i].unit && strcmp(s[i].unit, "kWh") == 0) v *= 1000.0;
        int64_t wh = (int64_t)llround(v);
        if (s[i].context && context && strcmp(s[i].context, context) == 0) return wh;
        if (!strict) any = wh;
    }
    return any;
}

static void status_answer(void *ctx, const csms_cmd_result_t *r)
{
    char *station = ctx;
    log_info("GetTransactionStatus answered", "station=%s outcome=%d", station, (int)r->status);
    free(station);
}

/* A gap in sequence numbers: ask the station what it still holds. */
static void ask_status(csms_t *c, csms_station_t *st, const char *tx_id)
{
    if (!st->link) return;
    json_t *p = json_pack("{s:s}", "transactionId", tx_id);
    char err[160];
    char *station = xstrdup(st->id);
    if (st->link_ops->send_call(st->link, "GetTransactionStatus", p, status_answer, station, err,
                                sizeof err) != 0)
        free(station);
    json_decref(p);
}

static void emit_event(txe_t *x, const csms_tx_t *t)
{
    json_t *d = csms_tx_event_json(t);
    json_object_set_new(d, "event_type", json_string(kind_names[x->ev.kind]));
    json_object_set_new(d, "seq_no", json_integer(x->ev.seq_no));
    if (x->ev.trigger_reason)
        json_object_set_new(d, "trigger_reason", json_string(x->ev.trigger_reason));
    if (x->ev.charging_state)
        json_object_set_new(d, "charging_state", json_string(x->ev.charging_state));
    json_object_set_new(d, "offline", json_boolean(x->ev.offline));
    csms_emit(x->c, "transaction.event", d);
}

/* The corrected start fields of t, for a store update. */
static void fill_start(const txe_t *x, const csms_tx_t *t, store_tx_t *rec)
{
    rec->fix_start = true;
    rec->started_at = t->started_at;
    rec->id_token = t->id_token;
    rec->id_token_type = t->id_token_type;
    rec->meter_start = t->meter_start;
    rec->auth_status = x->r.has_info ? x->r.info.status : NULL;
}

/* Records the event with its meter values in one store operation (the
 * periodic Updated events are 2.0.1's MeterValues), and hands the samples to
 * the same meter.values event MeterValues raises, so load management, alerts
 * and the event stream see a 2.0.1 car's readings whichever message they
 * came in. The Ended event's samples go with the stop (csms_tx_stop). */
static void record_with_samples(txe_t *x, csms_station_t *st, csms_tx_t *t)
{
    const csms_tx_event_t *ev = &x->ev;
    store_tx_progress_t progress;
    bool has_progress = csms_tx_progress(t, ev->samples, ev->nsamples, &progress);
    store_meter_batch_t mv = {.station_id = st->id,
                              .evse_id = t->evse_id,
                              .connector_id = t->connector_id,
                              .samples = ev->samples,
                              .n = ev->nsamples,
                              .progress = has_progress ? &progress : NULL};
    store_tx_event_samples(x->c->store, t->id, ev->seq_no, kind_names[ev->kind], ev->trigger_reason,
                           ev->timestamp, ev->offline, ev->raw, &mv, part_event_cb, x);
    csms_emit_meter_values(x->c, st->id, t->evse_id, t->connector_id, t->id, ev->samples,
                           ev->nsamples);
}

/* Applies a new (not duplicate) event to an active transaction. */
static void apply(txe_t *x, csms_station_t *st, csms_tx_t *t)
{
    csms_t *c = x->c;
    const csms_tx_event_t *ev = &x->ev;
    int max = t->nseqs ? t->seqs[t->nseqs - 1] : -1;
    x->r.session_id = t->id;
    if (!csms_tx_seq_add(t, ev->seq_no)) {
        x->r.duplicate = true;
        finish(x);
        return;
    }
    if (ev->seq_no > max + 1) ask_status(c, st, t->tx_id); /* events are missing */
    emit_event(x, t);
    x->pending = 1; /* held until every part is queued */
    x->pending++;
    if (ev->nsamples && ev->kind != CSMS_TXE_ENDED) {
        record_with_samples(x, st, t);
    } else {
        store_tx_event(c->store, t->id, ev->seq_no, kind_names[ev->kind], ev->trigger_reason,
                       ev->timestamp, ev->offline, ev->raw, part_event_cb, x);
    }

    bool rewrite = false;
    if (ev->kind == CSMS_TXE_STARTED && !t->started_seen && !x->created) {
        /* the real start arrived after later events: it is authoritative */
        int64_t begin = energy_of(ev->samples, ev->nsamples, "Transaction.Begin", true);
        if (begin >= 0) t->meter_start = begin;
        t->started_at = ev->timestamp;
        if (ev->id_token) csms_tx_set_token(c, t, ev->id_token);
        if (ev->id_token_type) csms_set_str(&t->id_token_type, ev->id_token_type);
        rewrite = true;
    }
    if (ev->kind == CSMS_TXE_STARTED) t->started_seen = true;
    if (ev->charging_state &&
        (!t->charging_state || strcmp(t->charging_state, ev->charging_state) != 0)) {
        csms_set_str(&t->charging_state, ev->charging_state);
        rewrite = true;
    }
    if (ev->kind == CSMS_TXE_ENDED) {
        csms_track_samples(t, ev->samples, ev->nsamples);
        int64_t stop = energy_of(ev->samples, ev->nsamples, "Transaction.End", false);
        if (stop < 0) stop = t->last_energy_wh >= 0 ? t->last_energy_wh : t->meter_start;
        if (rewrite) {
            store_tx_t rec = csms_tx_record(t);
            fill_start(x, t, &rec);
            rec.charging_state = t->charging_state;
            x->pending++;
            store_tx_update(c->store, &rec, part_store_cb, x);
        }
        csms_tx_stop_t stp = {.id = t->id,
                              .meter_stop = stop,
                              .timestamp = ev->timestamp,
                              .reason = ev->stopped_reason ? ev->stopped_reason : "Local",
                              .id_token = ev->id_token,
                              .samples = ev->samples,
                              .nsamples = ev->nsamples};
        x->pending++;
        csms_tx_stop(c, st, &stp, part_stop_cb, x); /* frees t */
        part_done(x, true);
        return;
    }
    if (rewrite) {
        store_tx_t rec = csms_tx_record(t);
        rec.charging_state = t->charging_state;
        fill_start(x, t, &rec);
        x->pending++;
        store_tx_update(c->store, &rec, part_store_cb, x);
    }
    part_done(x, true);
}

static void started_cb(void *p, csms_err_t rc, const csms_tx_started_t *r)
{
    txe_t *x = p;
    csms_station_t *st = csms_station_find(x->c, x->station_id);
    csms_tx_t *t = rc == CSMS_OK ? csms_tx_find(x->c, r->id) : NULL;
    if (!st || !t) {
        x->failed = rc != CSMS_OK || !st;
        if (rc == CSMS_OK) x->r.session_id = r->id;
        finish(x);
        return;
    }
    x->created = true;
    if (x->ev.kind == CSMS_TXE_STARTED) t->started_seen = true;
    apply(x, st, t);
}

static void found_cb(void *p, store_err_t rc, const store_tx_t *found)
{
    txe_t *x = p;
    csms_station_t *st = csms_station_find(x->c, x->station_id);
    if (rc != STORE_OK || !st) {
        x->failed = true;
        finish(x);
        return;
    }
    if (found) {
        /* ended already: the event is history, except that the Started of a
         * transaction first seen at its end still supplies the start fields */
        x->r.session_id = found->id;
        x->pending = 1;
        store_tx_event(x->c->store, found->id, x->ev.seq_no, kind_names[x->ev.kind],
                       x->ev.trigger_reason, x->ev.timestamp, x->ev.offline, x->ev.raw,
                       part_event_cb, x);
        if (x->ev.kind == CSMS_TXE_STARTED && !found->started_event) {
            store_tx_t rec = {.id = found->id,
                              .meter_stop = -1,
                              .last_soc = -1,
                              .last_energy_wh = -1,
                              .reservation_id = -1,
                              .fix_start = true,
                              .started_at = x->ev.timestamp,
                              .id_token = x->ev.id_token,
                              .id_token_type = x->ev.id_token_type,
                              .auth_status = x->r.has_info ? x->r.info.status : NULL,
                              .meter_start = energy_of(x->ev.samples, x->ev.nsamples,
                                                       "Transaction.Begin", true)};
            rec.start_only = true; /* the stop fields stand */
            x->pending++;
            store_tx_update(x->c->store, &rec, part_store_cb, x);
        }
        return;
    }
    /* First news of this transaction: create it from what this event says. An
     * end reading is never a start reading: then the start stays unknown. */
    int64_t begin = energy_of(x->ev.samples, x->ev.nsamples, "Transaction.Begin",
                              x->ev.kind == CSMS_TXE_ENDED);
    csms_tx_start_t start = {
        .evse_id = x->ev.evse_id,
        .connector_id = x->ev.connector_id ? x->ev.connector_id : 1,
        .id_token = x->ev.id_token ? x->ev.id_token : "",
        .id_token_type = x->ev.id_token_type,
        .meter_start = begin,
        .timestamp = x->ev.timestamp,
        .reservation_id = x->ev.reservation_id,
        .tx_id = x->ev.tx_id,
    };
    csms_tx_start(x->c, st, &start, started_cb, x);
}

static void authorize_into(txe_t *x, bool concurrent)
{
    if (!x->ev.id_token) return;
    csms_id_token_info_t i;
    if (x->ev.id_token_type && strcmp(x->ev.id_token_type, "NoAuthorization") == 0) {
        i = (csms_id_token_info_t){.status = "Accepted", .known = true};
    } else {
        i = csms_authorize_typed(x->c, x->ev.id_token, x->ev.id_token_type, concurrent);
    }
    snprintf(x->status, sizeof x->status, "%s", i.status);
    x->r.info = i;
    x->r.info.status = x->status;
    if (i.parent_id_token) {
        snprintf(x->parent, sizeof x->parent, "%s", i.parent_id_token);
        snprintf(x->parent_type, sizeof x->parent_type, "%s",
                 i.parent_type ? i.parent_type : "Central");
        x->r.info.parent_id_token = x->parent;
        x->r.info.parent_type = x->parent_type;
    }
    x->r.has_info = true;
}

void csms_tx_event(csms_t *c, csms_station_t *st, const csms_tx_event_t *ev,
                   csms_tx_event_cb cb, void *ctx)
{
    txe_t *x = txe_new(c, st, ev, cb, ctx);
    csms_tx_t *t = csms_tx_find_by_txid(c, st->id, ev->tx_id);
    authorize_into(x, ev->kind == CSMS_TXE_STARTED && !t);
    if (t) {
        apply(x, st, t);
        return;
    }
    store_tx_find(c->store, st->id, ev->tx_id, found_cb, x);
}

/* ------------------------------------------------------------ device model */

void csms_device_report(csms_t *c, csms_station_t *st, int request_id, int seq_no, bool tbc,
                        const store_variable_t *rows, size_t n, csms_done_cb cb, void *ctx)
{
    store_variables_save(c->store, st->id, rows, n, csms_store_done, csms_done_wrap(cb, ctx));
    json_t *d = json_object();
    json_object_set_new(d, "station_id", json_string(st->id));
    json_object_set_new(d, "request_id", json_integer(request_id));
    json_object_set_new(d, "seq_no", json_integer(seq_no));
    json_object_set_new(d, "tbc", json_boolean(tbc));
    json_object_set_new(d, "variables", json_integer((json_int_t)n));
    csms_emit(c, tbc ? "station.report_part" : "station.report_complete", d);
}

/* ------------------------------------------------------- EV charging info */

typedef struct ev_info {
    csms_done_cb cb;
    void *ctx;
    int pending;
    bool failed;
} ev_info_t;

static void ev_info_part(ev_info_t *e, bool ok)
{
    if (!ok) e->failed = true;
    if (--e->pending > 0) return;
    e->cb(e->ctx, e->failed ? CSMS_ERR_STORE : CSMS_OK, NULL);
    free(e);
}

static void ev_info_store_cb(void *p, store_err_t rc)
{
    ev_info_part(p, rc == STORE_OK);
}

static void ev_info_note_cb(void *p, csms_err_t rc, const char *msg)
{
    ev_info_part(p, rc == CSMS_OK);
}

void csms_ev_charging_info(csms_t *c, csms_station_t *st, int evse_id, const char *kind,
                           const json_t *payload, const json_t *needs, const json_t *schedule,
                           csms_done_cb cb, void *ctx)
{
    ev_info_t *e = xcalloc(1, sizeof *e);
    e->cb = cb;
    e->ctx = ctx;
    e->pending = 1;
    csms_tx_t *t, *tmp, *found = NULL;
    // cppcheck-suppress uninitvar ; uthash iteration initialises it
    HASH_ITER(hh, c->txs, t, tmp) { /* rare message: a scan is fine */
        // cppcheck-suppress uninitvar ; uthash iteration initialises it
        if (t->evse_id == evse_id && strcmp(t->station_id, st->id) == 0) found = t;
    }
    if (found) {
        e->pending++;
        store_tx_ev_info(c->store, found->id, needs, schedule, ev_info_store_cb, e);
    }
    csms_station_note(c, st, kind, payload, ev_info_note_cb, e);
}
