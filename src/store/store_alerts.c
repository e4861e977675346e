/*
 * Alerts on the generic SQL operation of store_sql.c (see store_alerts.h).
 * Alerts are rare next to meter values, so a prepared-per-call upsert is
 * cheap enough, and the whole row in one statement keeps each change one
 * operation whatever it touched.
 */
#include "store/store_alerts.h"

#include "store/store_page.h"
#include "store/store_sql.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

#define ALERT_COLS                                                                                 \
    "id,rule,severity,station_id,evse_id,connector_id,title,details,state,first_seen,"             \
    "last_seen,count,acknowledged_by,acknowledged_at,ack_note,resolved_by,resolved_at,"            \
    "resolve_note,updated_at"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *time_or_null(int64_t ms)
{
    return ms ? json_integer(ms) : json_null();
}

static json_t *json_text(const json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_t *r = json_string(s ? s : "{}");
    free(s);
    return r;
}

void store_alert_save(store_t *s, const store_alert_t *a, store_json_cb cb, void *ctx)
{
    bool station = a->evse_id < 1;
    json_t *p = json_pack(
        "[I,s,s,s,o,o,s,o,s,I,I,I,o,o,o,o,o,o,I]", (json_int_t)a->id, a->rule, a->severity,
        a->station_id, station ? json_null() : json_integer(a->evse_id),
        station ? json_null() : json_integer(a->connector_id), a->title, json_text(a->details),
        a->state, (json_int_t)a->first_seen, (json_int_t)a->last_seen, (json_int_t)a->count,
        str_or_null(a->acknowledged_by), time_or_null(a->acknowledged_at), str_or_null(a->ack_note),
        str_or_null(a->resolved_by), time_or_null(a->resolved_at), str_or_null(a->resolve_note),
        (json_int_t)a->updated_at);
    store_sql1(s,
               "INSERT INTO alerts(" ALERT_COLS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"
               "?13,?14,?15,?16,?17,?18,?19) ON CONFLICT(id) DO UPDATE SET severity=?3,title=?7,"
               "details=?8,state=?9,last_seen=?11,count=?12,acknowledged_by=?13,"
               "acknowledged_at=?14,ack_note=?15,resolved_by=?16,resolved_at=?17,"
               "resolve_note=?18,updated_at=?19",
               p, 0, cb, ctx);
}

void store_alert_get(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql1(s, "SELECT " ALERT_COLS " FROM alerts WHERE id=?1", json_pack("[I]", (json_int_t)id),
               STORE_SQL_REQUIRE_ROW, cb, ctx);
}

static const store_sort_t alert_sorts[] = {
    {"id", "id", false, false},
    {"first_seen", "first_seen", false, false},
    {"last_seen", "last_seen", false, false},
    {"updated_at", "updated_at", false, false},
    {NULL, NULL, false, false},
};
static const store_list_t alert_list = {ALERT_COLS, "alerts", "id", alert_sorts, NULL};

void store_alerts_list(store_t *s, const store_alert_filter_t *f, const store_page_t *page,
                       store_json_cb cb, void *ctx)
{
    /* only the filters that are set, so the planner can use the index that
     * fits them (parameter numbers stay fixed); lists match as ",a,b,"
     * containing ",x," */
    strbuf_t w = {0};
    strbuf_printf(&w, "1");
    if (f->states) strbuf_printf(&w, " AND instr(','||?1||',',','||state||',')>0");
    if (f->severities) strbuf_printf(&w, " AND instr(','||?2||',',','||severity||',')>0");
    if (f->station_id) strbuf_printf(&w, " AND station_id=?3");
    if (f->site) strbuf_printf(&w, " AND station_id IN (SELECT id FROM stations WHERE site=?4)");
    if (f->rule) strbuf_printf(&w, " AND rule=?5");
    if (f->since) strbuf_printf(&w, " AND updated_at>=?6");
    json_t *p = json_pack("[o,o,o,o,o,I]", str_or_null(f->states), str_or_null(f->severities),
                          str_or_null(f->station_id), str_or_null(f->site), str_or_null(f->rule),
                          (json_int_t)f->since);
    store_page_query(s, &alert_list, w.data, p, page, cb, ctx);
    strbuf_free(&w);
}

int store_alerts_load_open_sync(store_t *s, json_t **rows)
{
    *rows = NULL;
    if (store_sql_sync(s, "SELECT " ALERT_COLS " FROM alerts WHERE state<>'resolved' ORDER BY id",
                       NULL, rows) != 0)
        return -1;
    if (!*rows) *rows = json_array();
    return 0;
}

int store_alerts_max_id_sync(store_t *s, int64_t *max_id)
{
    json_t *rows = NULL;
    *max_id = 0;
    if (store_sql_sync(s, "SELECT coalesce(max(id),0) AS n FROM alerts", NULL, &rows) != 0)
        return -1;
    *max_id = json_integer_value(json_object_get(json_array_get(rows, 0), "n"));
    json_decref(rows);
    return 0;
}
