/*
 * Sorted keyset pages; see store_page.h. The SQL is assembled from the list's
 * fixed fragments (never from request text), so each run can use the index
 * that fits its key; the position and the filters are bound parameters.
 */
#include "store/store_page.h"

#include "store/store_internal.h"
#include "util/alloc.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

const store_sort_t *store_sort_find(const store_sort_t *sorts, const char *name)
{
    if (!name) return sorts;
    for (const store_sort_t *k = sorts; k->name; k++)
        if (strcmp(k->name, name) == 0) return k;
    return NULL;
}

static void bind_json(sqlite3_stmt *st, int idx, const json_t *v)
{
    if (idx <= 0) return;
    switch (json_typeof(v)) {
    case JSON_STRING:
        sqlite3_bind_text(st, idx, json_string_value(v), (int)json_string_length(v),
                          SQLITE_TRANSIENT);
        break;
    case JSON_INTEGER:
        sqlite3_bind_int64(st, idx, json_integer_value(v));
        break;
    case JSON_REAL:
        sqlite3_bind_double(st, idx, json_real_value(v));
        break;
    case JSON_TRUE:
        sqlite3_bind_int(st, idx, 1);
        break;
    case JSON_FALSE:
        sqlite3_bind_int(st, idx, 0);
        break;
    default:
        sqlite3_bind_null(st, idx);
        break;
    }
}

/* One run: the rows whose key is NULL (nulls) or not, in the page's order,
 * after the position when `resume` is set. */
static void run_sql(strbuf_t *b, const store_list_t *l, const store_sort_t *k, const char *where,
                    bool desc, bool nulls, bool resume)
{
    const char *dir = desc ? "DESC" : "ASC", *cmp = desc ? "<" : ">";
    strbuf_printf(b, "SELECT %s,(%s) AS sort_key,(%s) AS sort_id FROM %s WHERE (%s)", l->cols,
                  k->expr, l->id, l->from, where ? where : "1");
    if (nulls) {
        strbuf_printf(b, " AND (%s) IS NULL", k->expr);
        if (resume) strbuf_printf(b, " AND (%s)%s:i", l->id, cmp);
        strbuf_printf(b, " ORDER BY (%s) %s", l->id, dir);
    } else {
        if (k->nullable) strbuf_printf(b, " AND (%s) IS NOT NULL", k->expr);
        if (resume) strbuf_printf(b, " AND ((%s),(%s))%s(:k,:i)", k->expr, l->id, cmp);
        strbuf_printf(b, " ORDER BY (%s) %s,(%s) %s", k->expr, dir, l->id, dir);
    }
    strbuf_printf(b, " LIMIT :n");
}

typedef struct run_state {
    int skip, want; /* rows still to skip, rows still wanted */
} run_state_t;

static store_err_t run_one(store_t *s, const store_list_t *l, const store_sort_t *k,
                           const char *where, const json_t *params, const store_page_t *p,
                           bool nulls, bool resume, run_state_t *rs, json_t *out)
{
    strbuf_t sql = {0};
    run_sql(&sql, l, k, where, p->desc, nulls, resume);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(store_db(s), sql.data, -1, &st, NULL);
    strbuf_free(&sql);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return store_check(s, rc, "list query");
    }
    size_t i;
    json_t *v;
    json_array_foreach(params, i, v) bind_json(st, (int)i + 1, v);
    if (resume) {
        bind_json(st, sqlite3_bind_parameter_index(st, ":k"), p->after_key);
        bind_json(st, sqlite3_bind_parameter_index(st, ":i"), p->after_id);
    }
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":n"),
                       (sqlite3_int64)rs->skip + rs->want);
    int ncols = sqlite3_column_count(st) - 2;
    while (rs->want > 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (rs->skip > 0) {
            rs->skip--;
            continue;
        }
        json_t *o;
        if (l->row) {
            o = l->row(st);
        } else {
            o = json_object();
            for (int c = 0; c < ncols; c++)
                store_json_col(o, sqlite3_column_name(st, c), st, c);
        }
        store_json_col(o, "sort_key", st, ncols);
        store_json_col(o, "sort_id", st, ncols + 1);
        json_array_append_new(out, o);
        rs->want--;
    }
    if (rs->want == 0) rc = SQLITE_DONE;
    sqlite3_finalize(st);
    return store_check(s, rc, "list query");
}

store_err_t store_page_run(store_t *s, const store_list_t *l, const char *where,
                           const json_t *params, const store_page_t *p, json_t *out)
{
    const store_sort_t *k = store_sort_find(l->sorts, p->sort);
    if (!k) return STORE_ERR_NOT_FOUND;
    /* the runs in the page's order: NULLs come first when they sort low
     * ascending or high descending */
    bool nulls_first = k->nulls_high == p->desc;
    bool order[2] = {nulls_first, !nulls_first};
    int nruns = k->nullable ? 2 : 1;
    if (!k->nullable) order[0] = false;
    /* where the previous page ended: in the NULL run or the other one */
    bool resume = p->after_id != NULL;
    bool in_nulls = resume && (!p->after_key || json_is_null(p->after_key));
    int first = 0;
    if (resume && nruns == 2 && order[1] == in_nulls) first = 1;
    if (resume && nruns == 1 && in_nulls) return STORE_OK; /* no NULL run: nothing after it */
    run_state_t rs = {.skip = p->offset > 0 ? p->offset : 0, .want = p->limit > 0 ? p->limit : 1};
    for (int r = first; r < nruns && rs.want > 0; r++) {
        store_err_t e =
            run_one(s, l, k, where, params, p, order[r], resume && r == first, &rs, out);
        if (e != STORE_OK) return e;
    }
    return STORE_OK;
}

/* ----------------------------------------------------------- as an op */

typedef struct page_op {
    store_op_t op;
    const store_list_t *list;
    char *where;
    json_t *params, *after_key, *after_id, *result;
    char *sort;
    store_page_t page;
    store_json_cb cb;
    void *ctx;
} page_op_t;

static store_err_t exec_page(store_t *s, store_op_t *op)
{
    page_op_t *q = (page_op_t *)op;
    q->result = json_array();
    return store_page_run(s, q->list, q->where, q->params, &q->page, q->result);
}

static void page_done(store_op_t *op)
{
    page_op_t *q = (page_op_t *)op;
    q->cb(q->ctx, op->rc, op->rc == STORE_OK ? q->result : NULL);
    json_decref(q->result);
    json_decref(q->params);
    json_decref(q->after_key);
    json_decref(q->after_id);
    free(q->sort);
    free(q->where);
    free(q);
}

void store_page_query(store_t *s, const store_list_t *l, const char *where, json_t *params,
                      const store_page_t *p, store_json_cb cb, void *ctx)
{
    page_op_t *q = xcalloc(1, sizeof *q);
    q->op.exec = exec_page;
    q->op.done = page_done;
    q->list = l;
    q->where = xstrdup_opt(where);
    q->params = params ? params : json_array();
    q->page = *p;
    q->sort = xstrdup_opt(p->sort);
    q->page.sort = q->sort;
    /* copies: the op is read on the writer thread */
    q->after_key = p->after_key ? json_deep_copy(p->after_key) : NULL;
    q->after_id = p->after_id ? json_deep_copy(p->after_id) : NULL;
    q->page.after_key = q->after_key;
    q->page.after_id = q->after_id;
    q->cb = cb;
    q->ctx = ctx;
    store_submit(s, &q->op);
}
