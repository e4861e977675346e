/*
 * Read queries for the API, answered as JSON in the API's shapes. They run on
 * the writer thread in queue order, so a read issued after an acknowledged
 * write always sees that write.
 */
#include "store/store_internal.h"
#include "store/store_page.h"

#include "util/alloc.h"
#include "util/strbuf.h"
#include "util/timefmt.h"

#include <stdlib.h>
#include <string.h>

typedef struct query_op {
    store_op_t op;
    store_json_cb cb;
    void *ctx;
    json_t *result;
    store_session_filter_t f;
    char *s1, *s2, *s3;
    int64_t id;
    int limit;
    store_page_t page; /* lists: their sort and position (sort, after_* owned below) */
    char *sort;
    json_t *after_key, *after_id;
} query_op_t;

static void query_done(store_op_t *op)
{
    query_op_t *q = (query_op_t *)op;
    q->cb(q->ctx, op->rc, q->result);
    json_decref(q->result);
    free(q->s1);
    free(q->s2);
    free(q->s3);
    free(q->sort);
    json_decref(q->after_key);
    json_decref(q->after_id);
    free(q);
}

static query_op_t *query_new(store_err_t (*exec)(store_t *, store_op_t *), store_json_cb cb,
                             void *ctx)
{
    query_op_t *q = xcalloc(1, sizeof *q);
    q->op.exec = exec;
    q->op.done = query_done;
    q->cb = cb;
    q->ctx = ctx;
    return q;
}

#define SESSION_COLS                                                                           \
    "id,tx_id,station_id,evse_id,connector_id,id_token,id_token_type,auth_status,meter_start,"  \
    "meter_stop,started_at,stopped_at,stop_reason,stop_id_token,reservation_id,last_soc,"      \
    "last_energy_wh,charging_needs,ev_schedule"

/* Builds one session object from a row of SESSION_COLS. */
static json_t *session_json(sqlite3_stmt *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
    store_json_col(o, "transaction_id", st, 1);
    store_json_col(o, "station_id", st, 2);
    store_json_col(o, "evse_id", st, 3);
    store_json_col(o, "connector_id", st, 4);
    store_json_col(o, "id_token", st, 5);
    store_json_col(o, "id_token_type", st, 6);
    store_json_col(o, "auth_status", st, 7);
    store_json_col(o, "meter_start_wh", st, 8);
    store_json_col(o, "meter_stop_wh", st, 9);
    store_json_time(o, "started_at", st, 10);
    store_json_time(o, "stopped_at", st, 11);
    store_json_col(o, "stop_reason", st, 12);
    store_json_col(o, "stop_id_token", st, 13);
    store_json_col(o, "reservation_id", st, 14);
    store_json_col(o, "soc_percent", st, 15);
    bool active = sqlite3_column_type(st, 11) == SQLITE_NULL;
    json_object_set_new(o, "active", json_boolean(active));
    int64_t start = sqlite3_column_int64(st, 8);
    json_t *energy = json_null();
    if (sqlite3_column_type(st, 8) == SQLITE_NULL)
        ; /* start reading unknown (a 2.0.1 transaction first seen at its end) */
    else if (sqlite3_column_type(st, 9) != SQLITE_NULL)
        energy = json_integer(sqlite3_column_int64(st, 9) - start);
    else if (sqlite3_column_type(st, 16) != SQLITE_NULL)
        energy = json_integer(sqlite3_column_int64(st, 16) - start);
    json_object_set_new(o, "energy_wh", energy);
    /* what the EV asked for (2.0.1 NotifyEVChargingNeeds / NotifyEVChargingSchedule) */
    const char *const ev_cols[] = {"charging_needs", "ev_charging_schedule"};
    for (int i = 0; i < 2; i++) {
        const char *txt = store_col_text(st, 17 + i);
        json_t *v = txt ? json_loads(txt, 0, NULL) : NULL;
        json_object_set_new(o, ev_cols[i], v ? v : json_null());
    }
    return o;
}

/* The ways a session list may be sorted (see store_page.h). A running
 * session has not stopped yet, so it sorts after every stop time; an energy
 * that is not known yet sorts before every amount. */
static const store_sort_t session_sorts[] = {
    {"id", "id", false, false},
    {"started_at", "started_at", false, false},
    {"stopped_at", "stopped_at", true, true},
    {"energy_wh", "COALESCE(meter_stop,last_energy_wh)-meter_start", true, false},
    {"station_id", "station_id", false, false},
    {NULL, NULL, false, false},
};

static const store_list_t session_list = {
    .cols = SESSION_COLS,
    .from = "transactions",
    .id = "id",
    .sorts = session_sorts,
    .row = session_json,
};

static store_err_t exec_sessions(store_t *s, store_op_t *op)
{
    query_op_t *q = (query_op_t *)op;
    const store_session_filter_t *f = &q->f;
    /* only the filters that are set, so the planner can pick the index that
     * fits them and the sort (parameter numbers stay fixed; gaps are fine) */
    strbuf_t w = {0};
    strbuf_printf(&w, "1");
    if (q->s1) strbuf_printf(&w, " AND station_id=?1");
    if (q->s2) strbuf_printf(&w, " AND id_token=?2");
    if (f->active == 1) strbuf_printf(&w, " AND stopped_at IS NULL");
    if (f->active == 0) strbuf_printf(&w, " AND stopped_at IS NOT NULL");
    if (f->from) strbuf_printf(&w, " AND started_at>=?3");
    if (f->to) strbuf_printf(&w, " AND started_at<?4");
    if (q->s3) strbuf_printf(&w, " AND station_id IN (SELECT id FROM stations WHERE site=?5)");
    json_t *params = json_pack("[o,o,I,I,o]", q->s1 ? json_string(q->s1) : json_null(),
                               q->s2 ? json_string(q->s2) : json_null(), (json_int_t)f->from,
                               (json_int_t)f->to, q->s3 ? json_string(q->s3) : json_null());
    q->result = json_array();
    store_err_t rc = store_page_run(s, &session_list, w.data, params, &q->page, q->result);
    json_decref(params);
    strbuf_free(&w);
    return rc;
}

void store_query_sessions(store_t *s, const store_session_filter_t *f, store_json_cb cb,
                          void *ctx)
{
    query_op_t *q = query_new(exec_sessions, cb, ctx);
    q->f = *f;
    q->f.page = NULL;
    q->s1 = xstrdup_opt(f->station_id);
    q->s2 = xstrdup_opt(f->id_token);
    q->s3 = xstrdup_opt(f->site);
    if (f->page) {
        q->page = *f->page;
        q->sort = xstrdup_opt(f->page->sort);
        q->page.sort = q->sort;
        q->after_key = f->page->after_key ? json_deep_copy(f->page->after_key) : NULL;
        q->after_id = f->page->after_id ? json_deep_copy(f->page->after_id) : NULL;
    } else { /* newest first, after before_id */
        q->page = (store_page_t){.sort = "id", .desc = true};
        if (f->before_id > 0) {
            q->after_key = json_integer(f->before_id);
            q->after_id = json_integer(f->before_id);
        }
    }
    q->page.after_key = q->after_key;
    q->page.after_id = q->after_id;
    q->page.limit = f->limit > 0 && f->limit <= 1001 ? f->limit : 100;
    q->page.offset = f->offset > 0 ? f->offset : 0;
    store_submit(s, &q->op);
}

static store_err_t exec_session(store_t *s, store_op_t *op)
{
    query_op_t *q = (query_op_t *)op;
    sqlite3_stmt *st = store_stmt(s, SQL_SESSION_GET);
    sqlite3_bind_int64(st, 1, q->id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? STORE_ERR_NOT_FOUND : store_check(s, rc, "session get");
    }
    q->result = session_json(st);
    sqlite3_reset(st);

    json_t *mv = json_array();
    st = store_stmt(s, SQL_SESSION_METER);
    sqlite3_bind_int64(st, 1, q->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *m = json_object();
        store_json_time(m, "timestamp", st, 0);
        store_json_col(m, "value", st, 1);
        store_json_col(m, "measurand", st, 2);
        store_json_col(m, "phase", st, 3);
        store_json_col(m, "unit", st, 4);
        store_json_col(m, "context", st, 5);
        store_json_col(m, "location", st, 6);
        store_json_col(m, "format", st, 7);
        json_array_append_new(mv, m);
    }
    sqlite3_reset(st);
    json_object_set_new(q->result, "meter_values", mv);
    return store_check(s, rc, "session meter values");
}

void store_query_session(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    query_op_t *q = query_new(exec_session, cb, ctx);
    q->id = id;
    store_submit(s, &q->op);
}

static store_err_t exec_status_history(store_t *s, store_op_t *op)
{
    query_op_t *q = (query_op_t *)op;
    sqlite3_stmt *st = store_stmt(s, SQL_STATUS_HISTORY);
    store_bind_text(st, 1, q->s1);
    sqlite3_bind_int(st, 2, q->limit);
    q->result = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *m = json_object();
        store_json_col(m, "evse_id", st, 0);
        store_json_col(m, "connector_id", st, 1);
        store_json_col(m, "status", st, 2);
        store_json_col(m, "error_code", st, 3);
        store_json_col(m, "info", st, 4);
        store_json_col(m, "vendor_id", st, 5);
        store_json_col(m, "vendor_error_code", st, 6);
        store_json_time(m, "timestamp", st, 7);
        store_json_time(m, "received_at", st, 8);
        json_array_append_new(q->result, m);
    }
    sqlite3_reset(st);
    return store_check(s, rc, "status history");
}

void store_query_status_history(store_t *s, const char *station_id, int limit, store_json_cb cb,
                                void *ctx)
{
    query_op_t *q = query_new(exec_status_history, cb, ctx);
    q->s1 = xstrdup(station_id);
    q->limit = limit > 0 && limit <= 1000 ? limit : 100;
    store_submit(s, &q->op);
}

static store_err_t exec_station_events(store_t *s, store_op_t *op)
{
    query_op_t *q = (query_op_t *)op;
    sqlite3_stmt *st = store_stmt(s, SQL_STATION_EVENTS);
    store_bind_text(st, 1, q->s1);
    sqlite3_bind_int(st, 2, q->limit);
    q->result = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *m = json_object();
        store_json_col(m, "id", st, 0);
        store_json_col(m, "kind", st, 1);
        const char *d = store_col_text(st, 2);
        json_t *detail = d ? json_loads(d, 0, NULL) : NULL;
        json_object_set_new(m, "detail", detail ? detail : json_null());
        store_json_time(m, "created_at", st, 3);
        json_array_append_new(q->result, m);
    }
    sqlite3_reset(st);
    return store_check(s, rc, "station events");
}

void store_query_station_events(store_t *s, const char *station_id, int limit, store_json_cb cb,
                                void *ctx)
{
    query_op_t *q = query_new(exec_station_events, cb, ctx);
    q->s1 = xstrdup(station_id);
    q->limit = limit > 0 && limit <= 1000 ? limit : 100;
    store_submit(s, &q->op);
}

static store_err_t exec_api_token_lookup(store_t *s, store_op_t *op)
{
    query_op_t *q = (query_op_t *)op;
    sqlite3_stmt *st = store_stmt(s, SQL_API_TOKEN_LOOKUP);
    store_bind_text(st, 1, q->s1);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? STORE_ERR_NOT_FOUND : store_check(s, rc, "token lookup");
    }
    if (sqlite3_column_int(st, 3)) {
        sqlite3_reset(st);
        return STORE_ERR_NOT_FOUND; /* revoked */
    }
    q->result = json_object();
    store_json_col(q->result, "name", st, 0);
    store_json_col(q->result, "role", st, 1);
    json_object_set_new(q->result, "expires_at", json_integer(sqlite3_column_int64(st, 2)));
    sqlite3_reset(st);
    return STORE_OK;
}

void store_api_token_lookup(store_t *s, const char *token_hash, store_json_cb cb, void *ctx)
{
    query_op_t *q = query_new(exec_api_token_lookup, cb, ctx);
    q->s1 = xstrdup(token_hash);
    store_submit(s, &q->op);
}

static store_err_t exec_variables(store_t *s, store_op_t *op)
{
    query_op_t *q = (query_op_t *)op;
    sqlite3_stmt *st;
    const char *sql =
        "SELECT component,component_instance,evse_id,connector_id,variable,variable_instance,"
        "attribute_type,value,mutability,persistent,constant,data_type,unit,values_list,"
        "min_limit,max_limit,supports_monitoring,updated_at FROM device_variables "
        "WHERE station_id=?1 AND (?2 IS NULL OR component=?2) AND (?3 IS NULL OR variable=?3) "
        "ORDER BY component,component_instance,evse_id,connector_id,variable,variable_instance,"
        "attribute_type LIMIT 10000";
    if (sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL) != SQLITE_OK) return STORE_ERR_IO;
    store_bind_text(st, 1, q->f.station_id);
    store_bind_text(st, 2, q->s1);
    store_bind_text(st, 3, q->s2);
    q->result = json_array();
    int rc;
    static const char *const keys[] = {"component", "component_instance", "evse_id",
                                       "connector_id", "variable", "variable_instance",
                                       "attribute_type", "value", "mutability", "persistent",
                                       "constant", "data_type", "unit", "values_list",
                                       "min_limit", "max_limit", "supports_monitoring"};
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *m = json_object();
        for (int i = 0; i < 17; i++) store_json_col(m, keys[i], st, i);
        /* "" and -1 mean "none" in the key columns */
        const char *const none_str[] = {"component_instance", "variable_instance"};
        for (int i = 0; i < 2; i++) {
            const char *v = json_string_value(json_object_get(m, none_str[i]));
            if (v && !*v) json_object_set_new(m, none_str[i], json_null());
        }
        const char *const none_int[] = {"evse_id", "connector_id"};
        for (int i = 0; i < 2; i++)
            if (json_integer_value(json_object_get(m, none_int[i])) < 0)
                json_object_set_new(m, none_int[i], json_null());
        const char *const bools[] = {"persistent", "constant", "supports_monitoring"};
        for (int i = 0; i < 3; i++) {
            json_t *b = json_object_get(m, bools[i]);
            if (json_is_integer(b)) json_object_set_new(m, bools[i], json_boolean(json_integer_value(b)));
        }
        store_json_time(m, "updated_at", st, 17);
        json_array_append_new(q->result, m);
    }
    sqlite3_finalize(st);
    return store_check(s, rc, "variables query");
}

void store_query_variables(store_t *s, const char *station_id, const char *component,
                           const char *variable, store_json_cb cb, void *ctx)
{
    query_op_t *q = query_new(exec_variables, cb, ctx);
    q->s1 = xstrdup_opt(component);
    q->s2 = xstrdup_opt(variable);
    q->f.station_id = q->s3 = xstrdup(station_id);
    store_submit(s, &q->op);
}
