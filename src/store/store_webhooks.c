/*
 * Webhook and delivery operations on the writer thread; see store_webhooks.h.
 *
 * Statements are prepared per operation: none of these is on a station's hot
 * path (one delivery insert per webhook event, one claim per batch), and
 * keeping them out of store.c's shared statement table keeps this file
 * self-contained.
 */
#include "store/store_webhooks.h"

#include "store/store_internal.h"
#include "store/store_page.h"
#include "util/alloc.h"
#include "util/log.h"

#include <stdlib.h>
#include <string.h>

typedef struct wh_op {
    store_op_t op;
    store_json_cb jcb;
    store_done_cb dcb;
    store_claim_cb ccb;
    void *ctx;
    json_t *result;
    int64_t id, id2, now, next_due;
    int max;
    bool enabled;
    char *s1, *s2, *s3, *s4, *s5, *s6;
    int64_t *ids;
    size_t n;
    store_delivery_t *claimed;
    size_t nclaimed;
    int status;
    int64_t at, dur;
} wh_op_t;

static void wh_done(store_op_t *op)
{
    wh_op_t *w = (wh_op_t *)op;
    if (w->jcb)
        w->jcb(w->ctx, op->rc, w->result);
    else if (w->dcb)
        w->dcb(w->ctx, op->rc);
    else if (w->ccb)
        w->ccb(w->ctx, op->rc, w->claimed, op->rc == STORE_OK ? w->nclaimed : 0, w->next_due);
    for (size_t i = 0; i < w->nclaimed; i++) {
        free((char *)w->claimed[i].event_type);
        free((char *)w->claimed[i].payload);
    }
    free(w->claimed);
    json_decref(w->result);
    free(w->s1);
    free(w->s2);
    free(w->s3);
    free(w->s4);
    free(w->s5);
    free(w->s6);
    free(w->ids);
    free(w);
}

static wh_op_t *wh_new(store_err_t (*exec)(store_t *, store_op_t *), void *ctx)
{
    wh_op_t *w = xcalloc(1, sizeof *w);
    w->op.exec = exec;
    w->op.done = wh_done;
    w->ctx = ctx;
    return w;
}

static sqlite3_stmt *prep(store_t *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(store_db(s), sql, -1, 0, &st, NULL) != SQLITE_OK) {
        char q[300];
        log_error("cannot prepare statement", "error=%s",
                  log_quote(sqlite3_errmsg(store_db(s)), q, sizeof q));
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* Steps a statement that returns no rows and finalizes it. */
static store_err_t run(store_t *s, sqlite3_stmt *st, const char *what)
{
    if (!st) return STORE_ERR_IO;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return store_check(s, rc, what);
}

/* ------------------------------------------------------------- webhooks */

/* result["pending"] = deliveries not finished (pending or sending), of one
 * webhook or (hook 0) of all. */
static store_err_t count_unfinished(store_t *s, wh_op_t *w, int64_t hook)
{
    sqlite3_stmt *st = prep(s, "SELECT count(*) FROM webhook_deliveries WHERE "
                               "(?1=0 OR webhook_id=?1) AND state IN ('pending','sending')");
    if (!st) return STORE_ERR_IO;
    sqlite3_bind_int64(st, 1, hook);
    int rc = sqlite3_step(st);
    if (!w->result) w->result = json_object();
    json_object_set_new(w->result, "pending", json_integer(sqlite3_column_int64(st, 0)));
    sqlite3_finalize(st);
    return store_check(s, rc, "unfinished deliveries");
}

static store_err_t exec_load(store_t *s, store_op_t *op)
{
    wh_op_t *w = (wh_op_t *)op;
    store_err_t rc = run(s,
                         prep(s, "UPDATE webhook_deliveries SET state='pending' "
                                 "WHERE state='sending'"),
                         "webhook deliveries reset");
    if (rc) return rc;
    sqlite3_stmt *st = prep(s, "SELECT id,url,secret,event_types,enabled,description,created_at,"
                               "updated_at FROM webhooks ORDER BY id");
    if (!st) return STORE_ERR_IO;
    json_t *items = json_array();
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        store_json_col(o, "id", st, 0);
        store_json_col(o, "url", st, 1);
        store_json_col(o, "secret", st, 2);
        store_json_col(o, "event_types", st, 3);
        json_object_set_new(o, "enabled", json_boolean(sqlite3_column_int(st, 4)));
        store_json_col(o, "description", st, 5);
        store_json_col(o, "created_at", st, 6);
        store_json_col(o, "updated_at", st, 7);
        json_array_append_new(items, o);
    }
    sqlite3_finalize(st);
    w->result = json_pack("{s:o}", "items", items);
    rc = store_check(s, src, "webhooks load");
    if (rc) return rc;
    return count_unfinished(s, w, 0);
}

void store_webhooks_load(store_t *s, store_json_cb cb, void *ctx)
{
    wh_op_t *w = wh_new(exec_load, ctx);
    w->jcb = cb;
    store_submit(s, &w->op);
}

static store_err_t exec_save(store_t *s, store_op_t *op)
{
    wh_op_t *w = (wh_op_t *)op;
    sqlite3_stmt *st =
        w->id ? prep(s, "UPDATE webhooks SET url=?2,secret=?3,event_types=?4,enabled=?5,"
                        "description=?6,updated_at=?8 WHERE id=?1")
              : prep(s, "INSERT INTO webhooks(url,secret,event_types,enabled,description,"
                        "created_by,created_at,updated_at) VALUES(?2,?3,?4,?5,?6,?7,?8,?8)");
    if (!st) return STORE_ERR_IO;
    if (w->id) sqlite3_bind_int64(st, 1, w->id);
    store_bind_text(st, 2, w->s1);
    store_bind_text(st, 3, w->s2);
    store_bind_text(st, 4, w->s3);
    sqlite3_bind_int(st, 5, w->enabled);
    store_bind_text(st, 6, w->s4);
    if (!w->id) store_bind_text(st, 7, w->s5);
    sqlite3_bind_int64(st, 8, w->now);
    store_err_t rc = run(s, st, "webhook save");
    if (rc) return rc;
    if (w->id && sqlite3_changes(store_db(s)) == 0) return STORE_ERR_NOT_FOUND;
    int64_t id = w->id ? w->id : sqlite3_last_insert_rowid(store_db(s));
    w->result = json_pack("{s:I}", "id", (json_int_t)id);
    return STORE_OK;
}

void store_webhook_save(store_t *s, const store_webhook_t *wh, store_json_cb cb, void *ctx)
{
    wh_op_t *w = wh_new(exec_save, ctx);
    w->jcb = cb;
    w->id = wh->id;
    w->s1 = xstrdup(wh->url);
    w->s2 = xstrdup(wh->secret);
    w->s3 = xstrdup(wh->event_types);
    w->s4 = xstrdup_opt(wh->description);
    w->s5 = xstrdup_opt(wh->created_by);
    w->enabled = wh->enabled;
    w->now = wh->updated_at;
    store_submit(s, &w->op);
}

static store_err_t exec_delete(store_t *s, store_op_t *op)
{
    wh_op_t *w = (wh_op_t *)op;
    store_err_t rc = count_unfinished(s, w, w->id);
    if (rc) return rc;
    /* explicitly, whether or not foreign keys cascade on this connection */
    sqlite3_stmt *st = prep(s, "DELETE FROM webhook_deliveries WHERE webhook_id=?1");
    if (st) sqlite3_bind_int64(st, 1, w->id);
    rc = run(s, st, "webhook deliveries delete");
    if (rc) return rc;
    st = prep(s, "DELETE FROM webhooks WHERE id=?1");
    if (st) sqlite3_bind_int64(st, 1, w->id);
    rc = run(s, st, "webhook delete");
    if (rc) return rc;
    return sqlite3_changes(store_db(s)) ? STORE_OK : STORE_ERR_NOT_FOUND;
}

void store_webhook_delete(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    wh_op_t *w = wh_new(exec_delete, ctx);
    w->jcb = cb;
    w->id = id;
    store_submit(s, &w->op);
}

/* ----------------------------------------------------------- deliveries */

#define DELIVERY_COLS                                                                              \
    "id,webhook_id,event_type,payload,state,attempts,next_attempt_at,last_status,last_error,"      \
    "last_response,last_attempt_at,last_duration_ms,redelivery_of,created_at,updated_at"

static json_t *delivery_json(sqlite3_stmt *st)
{
    json_t *o = json_object();
    store_json_col(o, "id", st, 0);
    store_json_col(o, "webhook_id", st, 1);
    store_json_col(o, "event_type", st, 2);
    const char *state = store_col_text(st, 4);
    json_object_set_new(o, "state", json_string(state ? state : "pending"));
    store_json_col(o, "attempts", st, 5);
    if (state && (strcmp(state, "pending") == 0 || strcmp(state, "sending") == 0))
        store_json_time(o, "next_attempt_at", st, 6);
    else
        json_object_set_new(o, "next_attempt_at", json_null());
    store_json_col(o, "last_status", st, 7);
    store_json_col(o, "last_error", st, 8);
    store_json_col(o, "last_response", st, 9);
    store_json_time(o, "last_attempt_at", st, 10);
    store_json_col(o, "last_duration_ms", st, 11);
    store_json_col(o, "redelivery_of", st, 12);
    store_json_time(o, "created_at", st, 13);
    store_json_time(o, "updated_at", st, 14);
    const char *p = store_col_text(st, 3);
    json_t *data = p ? json_loads(p, 0, NULL) : NULL;
    json_object_set_new(o, "data", data ? data : json_null());
    return o;
}

static store_err_t insert_delivery(store_t *s, int64_t hook, const char *type, const char *payload,
                                   int64_t now, int64_t redelivery_of)
{
    sqlite3_stmt *st = prep(s, "INSERT INTO webhook_deliveries(webhook_id,event_type,payload,"
                               "state,attempts,next_attempt_at,redelivery_of,created_at,"
                               "updated_at) VALUES(?1,?2,?3,'pending',0,?4,?5,?4,?4)");
    if (!st) return STORE_ERR_IO;
    sqlite3_bind_int64(st, 1, hook);
    store_bind_text(st, 2, type);
    store_bind_text(st, 3, payload);
    sqlite3_bind_int64(st, 4, now);
    if (redelivery_of) sqlite3_bind_int64(st, 5, redelivery_of);
    return run(s, st, "webhook delivery insert");
}

/* result = the delivery with this id */
static store_err_t get_delivery(store_t *s, wh_op_t *w, int64_t id)
{
    sqlite3_stmt *st = prep(s, "SELECT " DELIVERY_COLS " FROM webhook_deliveries WHERE id=?1");
    if (!st) return STORE_ERR_IO;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) w->result = delivery_json(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW    ? STORE_OK
           : rc == SQLITE_DONE ? STORE_ERR_NOT_FOUND
                               : store_check(s, rc, "delivery get");
}

static store_err_t exec_add(store_t *s, store_op_t *op)
{
    wh_op_t *w = (wh_op_t *)op;
    for (size_t i = 0; i < w->n; i++) {
        store_err_t rc = insert_delivery(s, w->ids[i], w->s1, w->s2, w->now, 0);
        if (rc) return rc;
    }
    return STORE_OK;
}

void store_deliveries_add(store_t *s, const int64_t *webhook_ids, size_t n, const char *event_type,
                          const char *payload, int64_t now, store_done_cb cb, void *ctx)
{
    wh_op_t *w = wh_new(exec_add, ctx);
    w->dcb = cb;
    w->ids = xmalloc(n * sizeof *w->ids);
    memcpy(w->ids, webhook_ids, n * sizeof *w->ids);
    w->n = n;
    w->s1 = xstrdup(event_type);
    w->s2 = xstrdup(payload);
    w->now = now;
    store_submit(s, &w->op);
}

static store_err_t exec_add_one(store_t *s, store_op_t *op)
{
    wh_op_t *w = (wh_op_t *)op;
    store_err_t rc = insert_delivery(s, w->id, w->s1, w->s2, w->now, 0);
    return rc ? rc : get_delivery(s, w, sqlite3_last_insert_rowid(store_db(s)));
}

void store_delivery_add_one(store_t *s, int64_t webhook_id, const char *event_type,
                            const char *payload, int64_t now, store_json_cb cb, void *ctx)
{
    wh_op_t *w = wh_new(exec_add_one, ctx);
    w->jcb = cb;
    w->id = webhook_id;
    w->s1 = xstrdup(event_type);
    w->s2 = xstrdup(payload);
    w->now = now;
    store_submit(s, &w->op);
}

static store_err_t exec_redeliver(store_t *s, store_op_t *op)
{
    wh_op_t *w = (wh_op_t *)op;
    sqlite3_stmt *st =
        prep(s, "SELECT event_type,payload FROM webhook_deliveries WHERE id=?1 AND webhook_id=?2");
    if (!st) return STORE_ERR_IO;
    sqlite3_bind_int64(st, 1, w->id2);
    sqlite3_bind_int64(st, 2, w->id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? STORE_ERR_NOT_FOUND : store_check(s, rc, "redeliver");
    }
    char *type = xstrdup(store_col_text(st, 0)), *payload = xstrdup(store_col_text(st, 1));
    sqlite3_finalize(st);
    store_err_t e = insert_delivery(s, w->id, type, payload, w->now, w->id2);
    free(type);
    free(payload);
    return e ? e : get_delivery(s, w, sqlite3_last_insert_rowid(store_db(s)));
}

void store_delivery_redeliver(store_t *s, int64_t webhook_id, int64_t delivery_id, int64_t now,
                              store_json_cb cb, void *ctx)
{
    wh_op_t *w = wh_new(exec_redeliver, ctx);
    w->jcb = cb;
    w->id = webhook_id;
    w->id2 = delivery_id;
    w->now = now;
    store_submit(s, &w->op);
}

static store_err_t exec_claim(store_t *s, store_op_t *op)
{
    wh_op_t *w = (wh_op_t *)op;
    sqlite3_stmt *st = prep(s, "SELECT id,event_type,payload,attempts,created_at FROM "
                               "webhook_deliveries WHERE webhook_id=?1 AND state='pending' AND "
                               "next_attempt_at<=?2 ORDER BY next_attempt_at,id LIMIT ?3");
    if (!st) return STORE_ERR_IO;
    sqlite3_bind_int64(st, 1, w->id);
    sqlite3_bind_int64(st, 2, w->now);
    sqlite3_bind_int(st, 3, w->max);
    w->claimed = xcalloc((size_t)w->max, sizeof *w->claimed);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && w->nclaimed < (size_t)w->max) {
        store_delivery_t *d = &w->claimed[w->nclaimed++];
        d->id = sqlite3_column_int64(st, 0);
        d->webhook_id = w->id;
        d->event_type = xstrdup(store_col_text(st, 1) ? store_col_text(st, 1) : "");
        d->payload = xstrdup(store_col_text(st, 2) ? store_col_text(st, 2) : "null");
        d->attempts = sqlite3_column_int(st, 3);
        d->created_at = sqlite3_column_int64(st, 4);
    }
    sqlite3_finalize(st);
    store_err_t e = store_check(s, rc, "deliveries claim");
    if (e) return e;
    for (size_t i = 0; i < w->nclaimed; i++) {
        st = prep(s, "UPDATE webhook_deliveries SET state='sending' WHERE id=?1");
        if (st) sqlite3_bind_int64(st, 1, w->claimed[i].id);
        if ((e = run(s, st, "delivery claim"))) return e;
    }
    st = prep(s, "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE webhook_id=?1 AND "
                 "state='pending'");
    if (!st) return STORE_ERR_IO;
    sqlite3_bind_int64(st, 1, w->id);
    w->next_due = INT64_MAX;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        w->next_due = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return store_check(s, rc, "deliveries next due");
}

void store_deliveries_claim(store_t *s, int64_t webhook_id, int max, int64_t now, store_claim_cb cb,
                            void *ctx)
{
    wh_op_t *w = wh_new(exec_claim, ctx);
    w->ccb = cb;
    w->id = webhook_id;
    w->max = max > 0 ? max : 1;
    w->now = now;
    store_submit(s, &w->op);
}

static store_err_t exec_attempt(store_t *s, store_op_t *op)
{
    wh_op_t *w = (wh_op_t *)op;
    sqlite3_stmt *st = prep(s, "UPDATE webhook_deliveries SET state=?2,attempts=attempts+1,"
                               "next_attempt_at=?3,last_status=?4,last_error=?5,last_response=?6,"
                               "last_attempt_at=?7,last_duration_ms=?8,updated_at=?9 WHERE id=?1");
    if (!st) return STORE_ERR_IO;
    sqlite3_bind_int64(st, 1, w->id);
    store_bind_text(st, 2, w->s1);
    if (strcmp(w->s1, "pending") == 0) sqlite3_bind_int64(st, 3, w->now);
    if (w->status) sqlite3_bind_int(st, 4, w->status);
    store_bind_text(st, 5, w->s2);
    store_bind_text(st, 6, w->s3);
    sqlite3_bind_int64(st, 7, w->at);
    sqlite3_bind_int64(st, 8, w->dur);
    sqlite3_bind_int64(st, 9, w->at + w->dur);
    return run(s, st, "delivery attempt");
}

void store_delivery_attempt(store_t *s, const store_attempt_t *a, store_done_cb cb, void *ctx)
{
    wh_op_t *w = wh_new(exec_attempt, ctx);
    w->dcb = cb;
    w->id = a->delivery_id;
    w->s1 = xstrdup(a->state);
    w->now = a->next_attempt_at;
    w->status = a->status;
    w->s2 = xstrdup_opt(a->error);
    w->s3 = xstrdup_opt(a->response);
    w->at = a->at;
    w->dur = a->duration_ms;
    store_submit(s, &w->op);
}

static store_err_t exec_unclaim(store_t *s, store_op_t *op)
{
    wh_op_t *w = (wh_op_t *)op;
    sqlite3_stmt *st =
        prep(s, "UPDATE webhook_deliveries SET state='pending' WHERE id=?1 AND state='sending'");
    if (st) sqlite3_bind_int64(st, 1, w->id);
    return run(s, st, "delivery unclaim");
}

void store_delivery_unclaim(store_t *s, int64_t delivery_id, store_done_cb cb, void *ctx)
{
    wh_op_t *w = wh_new(exec_unclaim, ctx);
    w->dcb = cb;
    w->id = delivery_id;
    store_submit(s, &w->op);
}

/* A delivery never attempted sorts before every attempt time. */
static const store_sort_t delivery_sorts[] = {
    {"id", "id", false, false},
    {"created_at", "created_at", false, false},
    {"last_attempt_at", "last_attempt_at", true, false},
    {"attempts", "attempts", false, false},
    {NULL, NULL, false, false},
};
static const store_list_t delivery_list = {DELIVERY_COLS, "webhook_deliveries", "id",
                                           delivery_sorts, delivery_json};

void store_deliveries_query(store_t *s, int64_t webhook_id, const char *state,
                            const store_page_t *p, store_json_cb cb, void *ctx)
{
    json_t *params = json_pack("[I,o]", (json_int_t)webhook_id,
                               state ? json_string(state) : json_null());
    store_page_query(s, &delivery_list, state ? "webhook_id=?1 AND state=?2" : "webhook_id=?1",
                     params, p, cb, ctx);
}

static store_err_t exec_get(store_t *s, store_op_t *op)
{
    wh_op_t *w = (wh_op_t *)op;
    store_err_t rc = get_delivery(s, w, w->id2);
    if (rc == STORE_OK &&
        json_integer_value(json_object_get(w->result, "webhook_id")) != (json_int_t)w->id)
        rc = STORE_ERR_NOT_FOUND; /* another webhook's */
    return rc;
}

void store_delivery_get(store_t *s, int64_t webhook_id, int64_t delivery_id, store_json_cb cb,
                        void *ctx)
{
    wh_op_t *w = wh_new(exec_get, ctx);
    w->jcb = cb;
    w->id = webhook_id;
    w->id2 = delivery_id;
    store_submit(s, &w->op);
}

static store_err_t exec_prune(store_t *s, store_op_t *op)
{
    wh_op_t *w = (wh_op_t *)op;
    sqlite3_stmt *st = prep(s, "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM "
                               "webhook_deliveries WHERE created_at<?1 AND state IN "
                               "('succeeded','failed') ORDER BY id LIMIT ?2)");
    if (!st) return STORE_ERR_IO;
    sqlite3_bind_int64(st, 1, w->now);
    sqlite3_bind_int(st, 2, w->max);
    store_err_t rc = run(s, st, "deliveries prune");
    if (rc) return rc;
    w->result = json_pack("{s:i}", "deleted", sqlite3_changes(store_db(s)));
    return STORE_OK;
}

void store_deliveries_prune(store_t *s, int64_t before, int max, store_json_cb cb, void *ctx)
{
    wh_op_t *w = wh_new(exec_prune, ctx);
    w->jcb = cb;
    w->now = before;
    w->max = max;
    store_submit(s, &w->op);
}
