/*
 * Firmware images and diagnostics requests on the writer thread; see
 * store_files.h. Low traffic: the generic statement runner (store_sql.c)
 * except for the delete, which looks for the campaigns table first.
 */
#include "store/store_files.h"

#include "store/store_internal.h"
#include "store/store_sql.h"
#include "util/alloc.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

#define FW_COLS                                                                                \
    "id,version,vendor,models,filename,size,sha256,signing_certificate,signature,created_at,"  \
    "created_by,deleted_at"
#define DIAG_COLS                                                                              \
    "id,station_id,protocol,requested_by,requested_at,status,start_time,stop_time,retries,"    \
    "file_name,size,sha256,uploaded_at,completed_at,token_used,detail,updated_at"
#define DIAG_FINAL "('uploaded','failed','rejected','timed_out')"

/* Hands the first row of the last step's result (or NOT_FOUND) to cb. */
typedef struct one_row {
    store_json_cb cb;
    void *ctx;
} one_row_t;

static void one_row_done(void *p, store_err_t rc, json_t *res)
{
    one_row_t o = *(one_row_t *)p;
    free(p);
    json_t *steps = res, *row = NULL;
    if (rc == STORE_OK) {
        row = json_array_get(json_array_get(steps, json_array_size(steps) - 1), 0);
        if (!row) rc = STORE_ERR_NOT_FOUND;
    }
    o.cb(o.ctx, rc, row);
}

static void *one_row(store_json_cb cb, void *ctx)
{
    one_row_t *o = xmalloc(sizeof *o);
    o->cb = cb;
    o->ctx = ctx;
    return o;
}

/* Hands the last step's rows to cb (lists). */
static void rows_done(void *p, store_err_t rc, json_t *res)
{
    one_row_t o = *(one_row_t *)p;
    free(p);
    o.cb(o.ctx, rc, rc == STORE_OK ? json_array_get(res, 0) : NULL);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* ------------------------------------------------------------ firmware */

void store_firmware_insert(store_t *s, const store_firmware_new_t *f, store_json_cb cb,
                           void *ctx)
{
    json_t *p = json_pack("[s,o,o,s,I,s,I,o]", f->version, str_or_null(f->vendor),
                          str_or_null(f->models_json), f->filename, (json_int_t)f->size,
                          f->sha256, (json_int_t)f->created_at, str_or_null(f->created_by));
    store_sql1(s,
               "INSERT INTO firmware_images(version,vendor,models,filename,size,sha256,"
               "created_at,created_by) VALUES(?1,?2,?3,?4,?5,?6,?7,?8) RETURNING " FW_COLS,
               p, STORE_SQL_REQUIRE_ROW, one_row_done, one_row(cb, ctx));
}

void store_firmware_get(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql1(s, "SELECT " FW_COLS " FROM firmware_images WHERE id=?1",
               json_pack("[I]", (json_int_t)id), 0, one_row_done, one_row(cb, ctx));
}

static const store_sort_t fw_sorts[] = {
    {"id", "id", false, false},
    {"created_at", "created_at", false, false},
    {"version", "version", false, false},
    {"size", "size", false, false},
    {NULL, NULL, false, false},
};
static const store_list_t fw_list = {FW_COLS, "firmware_images", "id", fw_sorts, NULL};

void store_firmware_list(store_t *s, const char *vendor, const char *version, const char *model,
                         const store_page_t *p, store_json_cb cb, void *ctx)
{
    strbuf_t w = {0};
    strbuf_printf(&w, "deleted_at IS NULL");
    if (vendor) strbuf_printf(&w, " AND vendor=?1");
    if (version) strbuf_printf(&w, " AND version=?2");
    if (model) strbuf_printf(&w, " AND EXISTS(SELECT 1 FROM json_each(models) WHERE value=?3)");
    json_t *params = json_pack("[o,o,o]", str_or_null(vendor), str_or_null(version),
                               str_or_null(model));
    store_page_query(s, &fw_list, w.data, params, p, cb, ctx);
    strbuf_free(&w);
}

void store_firmware_update(store_t *s, int64_t id, const json_t *fields, store_json_cb cb,
                           void *ctx)
{
    static const char *const cols[] = {"version",  "vendor",   "models", "filename",
                                       "signing_certificate", "signature", NULL};
    json_t *p = json_pack("[I]", (json_int_t)id);
    json_int_t set = 0; /* bit i: cols[i] is changed */
    for (int i = 0; cols[i]; i++) {
        json_t *v = json_object_get(fields, cols[i]);
        json_array_append(p, v ? v : json_null());
        if (v) set |= (json_int_t)1 << i;
    }
    json_array_append_new(p, json_integer(set));
    store_sql1(s,
               "UPDATE firmware_images SET version=CASE WHEN ?8&1 THEN ?2 ELSE version END,"
               "vendor=CASE WHEN ?8&2 THEN ?3 ELSE vendor END,"
               "models=CASE WHEN ?8&4 THEN ?4 ELSE models END,"
               "filename=CASE WHEN ?8&8 THEN ?5 ELSE filename END,"
               "signing_certificate=CASE WHEN ?8&16 THEN ?6 ELSE signing_certificate END,"
               "signature=CASE WHEN ?8&32 THEN ?7 ELSE signature END "
               "WHERE id=?1 AND deleted_at IS NULL RETURNING " FW_COLS,
               p, STORE_SQL_REQUIRE_ROW, one_row_done, one_row(cb, ctx));
}

typedef struct fw_delete_op {
    store_op_t op;
    int64_t id, now;
    store_json_cb cb;
    void *ctx;
    json_t *result;
} fw_delete_op_t;

static store_err_t step_int(store_t *s, const char *sql, int64_t a, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return store_check(s, rc, sql);
    sqlite3_bind_int64(st, 1, a);
    rc = sqlite3_step(st);
    if (out) *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_check(s, rc, sql);
}

static store_err_t fw_delete_exec(store_t *s, store_op_t *op)
{
    fw_delete_op_t *d = (fw_delete_op_t *)op;
    int64_t n = 0, live = 0;
    store_err_t rc = step_int(s, "SELECT count(*) FROM firmware_images WHERE id=?1 AND "
                                 "deleted_at IS NULL", d->id, &live);
    if (rc != STORE_OK) return rc;
    if (!live) return STORE_ERR_NOT_FOUND;
    rc = step_int(s, "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                     "name='firmware_campaigns' AND ?1=?1", 0, &n);
    if (rc != STORE_OK) return rc;
    if (n) {
        rc = step_int(s, "SELECT count(*) FROM firmware_campaigns WHERE image_id=?1", d->id, &n);
        if (rc != STORE_OK) return rc;
        if (n) return STORE_ERR_CONFLICT;
    }
    sqlite3_stmt *st = NULL;
    const char *sql = "UPDATE firmware_images SET deleted_at=?2 WHERE id=?1 RETURNING sha256,"
                      "(SELECT count(*) FROM firmware_images o WHERE o.sha256="
                      "firmware_images.sha256 AND o.deleted_at IS NULL AND o.id<>?1)";
    int src = sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL);
    if (src != SQLITE_OK) return store_check(s, src, sql);
    sqlite3_bind_int64(st, 1, d->id);
    sqlite3_bind_int64(st, 2, d->now);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        d->result = json_pack("{s:s,s:I}", "sha256", (const char *)sqlite3_column_text(st, 0),
                              "still_used", (json_int_t)sqlite3_column_int64(st, 1));
        src = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (src != SQLITE_DONE) return store_check(s, src, sql);
    return d->result ? STORE_OK : STORE_ERR_NOT_FOUND;
}

static void fw_delete_done(store_op_t *op)
{
    fw_delete_op_t *d = (fw_delete_op_t *)op;
    d->cb(d->ctx, op->rc, op->rc == STORE_OK ? d->result : NULL);
    json_decref(d->result);
    free(d);
}

void store_firmware_delete(store_t *s, int64_t id, int64_t now, store_json_cb cb, void *ctx)
{
    fw_delete_op_t *d = xcalloc(1, sizeof *d);
    d->op.exec = fw_delete_exec;
    d->op.done = fw_delete_done;
    d->id = id;
    d->now = now;
    d->cb = cb;
    d->ctx = ctx;
    store_submit(s, &d->op);
}

/* --------------------------------------------------------- diagnostics */

void store_diag_insert(store_t *s, const store_diag_new_t *d, store_json_cb cb, void *ctx)
{
    json_t *p = json_pack("[s,s,o,I,o,o,o]", d->station_id, d->protocol,
                          str_or_null(d->requested_by), (json_int_t)d->requested_at,
                          d->start_time ? json_integer(d->start_time) : json_null(),
                          d->stop_time ? json_integer(d->stop_time) : json_null(),
                          d->retries >= 0 ? json_integer(d->retries) : json_null());
    store_sql1(s,
               "INSERT INTO diagnostics_requests(station_id,protocol,requested_by,requested_at,"
               "status,start_time,stop_time,retries,updated_at) "
               "VALUES(?1,?2,?3,?4,'pending',?5,?6,?7,?4) RETURNING " DIAG_COLS,
               p, STORE_SQL_REQUIRE_ROW, one_row_done, one_row(cb, ctx));
}

void store_diag_get(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql1(s, "SELECT " DIAG_COLS " FROM diagnostics_requests WHERE id=?1",
               json_pack("[I]", (json_int_t)id), 0, one_row_done, one_row(cb, ctx));
}

static const store_sort_t diag_sorts[] = {
    {"id", "id", false, false},
    {"requested_at", "requested_at", false, false},
    {"updated_at", "updated_at", false, false},
    {NULL, NULL, false, false},
};
static const store_list_t diag_list = {DIAG_COLS, "diagnostics_requests", "id", diag_sorts,
                                       NULL};

void store_diag_list(store_t *s, const char *station_id, const char *status,
                     const store_page_t *p, store_json_cb cb, void *ctx)
{
    strbuf_t w = {0};
    strbuf_printf(&w, "1");
    if (station_id) strbuf_printf(&w, " AND station_id=?1");
    if (status) strbuf_printf(&w, " AND status=?2");
    json_t *params = json_pack("[o,o]", str_or_null(station_id), str_or_null(status));
    store_page_query(s, &diag_list, w.data, params, p, cb, ctx);
    strbuf_free(&w);
}

void store_diag_status(store_t *s, int64_t id, const char *station_id, const char *protocol,
                       const char *status, const char *detail, bool completed, int64_t now,
                       store_json_cb cb, void *ctx)
{
    json_t *p = json_pack("[s,o,I,b,I,s,s]", status, str_or_null(detail), (json_int_t)now,
                          completed, (json_int_t)id, station_id, protocol);
    store_sql1(s,
               "UPDATE diagnostics_requests SET status=?1,detail=?2,updated_at=?3,"
               "completed_at=CASE WHEN ?4 THEN ?3 ELSE completed_at END "
               "WHERE station_id=?6 AND status NOT IN " DIAG_FINAL " AND id=CASE WHEN ?5>0 "
               "THEN ?5 ELSE (SELECT max(id) FROM diagnostics_requests WHERE station_id=?6 AND "
               "protocol=?7 AND status NOT IN " DIAG_FINAL ") END RETURNING " DIAG_COLS,
               p, STORE_SQL_REQUIRE_ROW, one_row_done, one_row(cb, ctx));
}

void store_diag_claim(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql1(s,
               "UPDATE diagnostics_requests SET token_used=2 WHERE id=?1 AND token_used=0 "
               "AND status<>'timed_out' RETURNING " DIAG_COLS,
               json_pack("[I]", (json_int_t)id), STORE_SQL_REQUIRE_ROW, one_row_done,
               one_row(cb, ctx));
}

void store_diag_release(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql1(s, "UPDATE diagnostics_requests SET token_used=0 WHERE id=?1 AND token_used=2",
               json_pack("[I]", (json_int_t)id), 0, rows_done, one_row(cb, ctx));
}

void store_diag_time_out(store_t *s, int64_t now, int64_t silent_since, store_json_cb cb, void *ctx)
{
    json_t *p = json_pack("[I,I,s,s]", (json_int_t)now, (json_int_t)silent_since,
                          "no status or upload from the station in time: ask again",
                          "the file arrived; the station never reported Uploaded");
    store_sql1(s,
               "UPDATE diagnostics_requests SET "
               "status=CASE WHEN sha256 IS NULL THEN 'timed_out' ELSE 'uploaded' END,"
               "detail=CASE WHEN sha256 IS NULL THEN ?3 ELSE ?4 END,"
               "completed_at=?1,updated_at=?1 WHERE status NOT IN " DIAG_FINAL
               " AND token_used<>2 AND updated_at<=?2 RETURNING " DIAG_COLS,
               p, 0, rows_done, one_row(cb, ctx));
}

int store_diag_release_all_sync(store_t *s)
{
    return store_sql_sync(s, "UPDATE diagnostics_requests SET token_used=0 WHERE token_used=2",
                          NULL, NULL);
}

void store_diag_uploaded(store_t *s, int64_t id, const char *file_name, int64_t size,
                         const char *sha256, int64_t now, store_json_cb cb, void *ctx)
{
    json_t *p = json_pack("[I,s,I,s,I]", (json_int_t)id, file_name, (json_int_t)size, sha256,
                          (json_int_t)now);
    store_sql1(s,
               "UPDATE diagnostics_requests SET token_used=1,file_name=?2,size=?3,sha256=?4,"
               "uploaded_at=?5,updated_at=?5 WHERE id=?1 AND token_used<>1 RETURNING " DIAG_COLS,
               p, STORE_SQL_REQUIRE_ROW, one_row_done, one_row(cb, ctx));
}
