/*
 * A small generic operation for the store's less frequent tables (users,
 * sessions, API tokens, the audit log): up to a few SQL statements run in
 * one savepoint on the writer thread, parameters bound from a JSON array,
 * rows answered as JSON objects keyed by column name. The hot paths (OCPP
 * messages) keep their hand-bound prepared statements in store_ops.c. The
 * operations' statements are kept prepared by their text (store_stmt_cached:
 * the uptime recorder writes two per connect and per disconnect, which a
 * reconnect storm makes thousands a second); the synchronous form, used at
 * start-up, prepares per call.
 */
#include "store/store_sql.h"

#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct sql_op {
    store_op_t op;
    store_json_cb cb;
    void *ctx;
    int n;
    store_sql_step_t steps[STORE_SQL_MAX_STEPS];
    json_t *result;
} sql_op_t;

static void bind_json(sqlite3_stmt *st, int idx, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        sqlite3_bind_text(st, idx, json_string_value(v), (int)json_string_length(v),
                          SQLITE_TRANSIENT);
        break;
    case JSON_INTEGER: sqlite3_bind_int64(st, idx, json_integer_value(v)); break;
    case JSON_REAL: sqlite3_bind_double(st, idx, json_real_value(v)); break;
    case JSON_TRUE: sqlite3_bind_int(st, idx, 1); break;
    case JSON_FALSE: sqlite3_bind_int(st, idx, 0); break;
    default: sqlite3_bind_null(st, idx); break; /* null; objects are stored as text by callers */
    }
}

/* cached: the statement comes from (and stays in) the store's cache, which
 * only the writer thread may use. */
static store_err_t run_step(store_t *s, const store_sql_step_t *step, bool cached, json_t **out)
{
    sqlite3_stmt *st = NULL;
    store_err_t rc = STORE_OK;
    int src;
    if (cached) st = store_stmt_cached(s, step->sql, &src);
    else src = sqlite3_prepare_v2(store_db(s), step->sql, -1, &st, NULL);
    if (src != SQLITE_OK) return store_check(s, src, step->sql);
    size_t i;
    json_t *v;
    json_array_foreach(step->params, i, v) bind_json(st, (int)i + 1, v);
    json_t *rows = NULL;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (!rows) rows = json_array();
        json_t *row = json_object();
        for (int c = 0; c < sqlite3_column_count(st); c++)
            store_json_col(row, sqlite3_column_name(st, c), st, c);
        json_array_append_new(rows, row);
    }
    if (src != SQLITE_DONE) {
        rc = store_check(s, src, step->sql);
        json_decref(rows);
        goto done;
    }
    if (sqlite3_column_count(st) > 0) {
        *out = rows ? rows : json_array();
        if (step->flags & STORE_SQL_REQUIRE_ROW && json_array_size(*out) == 0)
            rc = STORE_ERR_NOT_FOUND;
    } else {
        int changes = sqlite3_changes(store_db(s));
        *out = json_pack("{s:i,s:I}", "changes", changes, "id",
                         (json_int_t)sqlite3_last_insert_rowid(store_db(s)));
        if (step->flags & STORE_SQL_REQUIRE_ROW && changes == 0) rc = STORE_ERR_NOT_FOUND;
    }
done:
    if (cached) {
        sqlite3_reset(st); /* ends its read, if any */
        sqlite3_clear_bindings(st); /* and keeps no copy of the values */
    } else {
        sqlite3_finalize(st);
    }
    return rc;
}

static store_err_t exec_sql(store_t *s, store_op_t *op)
{
    sql_op_t *q = (sql_op_t *)op;
    q->result = json_array();
    for (int i = 0; i < q->n; i++) {
        json_t *r = NULL;
        store_err_t rc = run_step(s, &q->steps[i], true, &r);
        if (rc != STORE_OK) {
            json_decref(r);
            return rc;
        }
        json_array_append_new(q->result, r);
    }
    return STORE_OK;
}

static void sql_done(store_op_t *op)
{
    sql_op_t *q = (sql_op_t *)op;
    if (q->cb) q->cb(q->ctx, op->rc, op->rc == STORE_OK ? q->result : NULL);
    json_decref(q->result);
    for (int i = 0; i < q->n; i++) json_decref(q->steps[i].params);
    free(q);
}

void store_sql(store_t *s, const store_sql_step_t *steps, int n, store_json_cb cb, void *ctx)
{
    sql_op_t *q = xcalloc(1, sizeof *q);
    q->op.exec = exec_sql;
    q->op.done = sql_done;
    q->cb = cb;
    q->ctx = ctx;
    q->n = n < STORE_SQL_MAX_STEPS ? n : STORE_SQL_MAX_STEPS;
    for (int i = 0; i < q->n; i++) {
        q->steps[i] = steps[i];
        /* the caller's reference is stolen */
        if (!q->steps[i].params) q->steps[i].params = json_array();
    }
    store_submit(s, &q->op);
}

void store_sql1(store_t *s, const char *sql, json_t *params, unsigned flags, store_json_cb cb,
                void *ctx)
{
    store_sql_step_t step = {sql, params, flags};
    store_sql(s, &step, 1, cb, ctx);
}

int store_sql_sync(store_t *s, const char *sql, json_t *params, json_t **rows)
{
    store_sql_step_t step = {sql, params ? params : json_array(), 0};
    json_t *out = NULL;
    store_err_t rc = run_step(s, &step, false, &out);
    json_decref(step.params);
    if (rows) *rows = out;
    else json_decref(out);
    return rc == STORE_OK ? 0 : -1;
}
