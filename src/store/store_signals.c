/*
 * Grid signals (see store_signals.h) on the generic SQL operation. A whole
 * OpenADR event's rows are replaced in one savepoint: the rows go in as one
 * JSON array through json_each, so any number of intervals is one statement.
 */
#include "store/store_signals.h"

#include "store/store_sql.h"

#include <stdlib.h>
#include <string.h>

#define DR_COLS                                                                                    \
    "id,site,start_s,end_s,limit_kw,phase_a,source,reason,external_id,created_by,created_at,"      \
    "updated_at"
#define PRICE_COLS "id,site,body,source,external_id,created_by,created_at,updated_at"

int store_signals_load_sync(store_t *s, int64_t since_s, json_t **dr_rows, json_t **price_rows)
{
    *dr_rows = *price_rows = NULL;
    if (store_sql_sync(s, "SELECT " DR_COLS " FROM smart_dr_events WHERE end_s>=?1 ORDER BY id",
                       json_pack("[I]", (json_int_t)since_s), dr_rows))
        return -1;
    if (store_sql_sync(s, "SELECT " PRICE_COLS " FROM smart_prices ORDER BY id", NULL,
                       price_rows)) {
        json_decref(*dr_rows);
        *dr_rows = NULL;
        return -1;
    }
    return 0;
}

static json_t *get(const json_t *row, const char *k)
{
    json_t *v = json_object_get(row, k);
    return v ? json_incref(v) : json_null();
}

void store_dr_save(store_t *s, const json_t *row, store_json_cb cb, void *ctx)
{
    json_t *id = json_object_get(row, "id");
    json_t *p =
        json_pack("[o,o,o,o,o,o,o,o,o,o,o,o]", get(row, "site"), get(row, "start_s"),
                  get(row, "end_s"), get(row, "limit_kw"), get(row, "phase_a"), get(row, "source"),
                  get(row, "reason"), get(row, "external_id"), get(row, "created_by"),
                  get(row, "created_at"), get(row, "updated_at"), get(row, "id"));
    if (id && json_integer_value(id) > 0)
        store_sql1(s,
                   "UPDATE smart_dr_events SET site=?1,start_s=?2,end_s=?3,limit_kw=?4,"
                   "phase_a=?5,source=?6,reason=?7,external_id=?8,updated_at=?11 WHERE id=?12 "
                   "RETURNING id",
                   p, STORE_SQL_REQUIRE_ROW, cb, ctx);
    else
        store_sql1(s,
                   "INSERT INTO smart_dr_events(site,start_s,end_s,limit_kw,phase_a,source,"
                   "reason,external_id,created_by,created_at,updated_at) "
                   "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) RETURNING id",
                   p, STORE_SQL_REQUIRE_ROW, cb, ctx);
}

void store_dr_delete(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql1(s, "DELETE FROM smart_dr_events WHERE id=?1", json_pack("[I]", (json_int_t)id),
               STORE_SQL_REQUIRE_ROW, cb, ctx);
}

void store_prices_save(store_t *s, const json_t *row, store_json_cb cb, void *ctx)
{
    json_t *id = json_object_get(row, "id");
    json_t *p = json_pack("[o,o,o,o,o,o,o,o]", get(row, "site"), get(row, "body"),
                          get(row, "source"), get(row, "external_id"), get(row, "created_by"),
                          get(row, "created_at"), get(row, "updated_at"), get(row, "id"));
    if (id && json_integer_value(id) > 0)
        store_sql1(s,
                   "UPDATE smart_prices SET site=?1,body=?2,source=?3,external_id=?4,"
                   "updated_at=?7 WHERE id=?8 RETURNING id",
                   p, STORE_SQL_REQUIRE_ROW, cb, ctx);
    else
        store_sql1(s,
                   "INSERT INTO smart_prices(site,body,source,external_id,created_by,created_at,"
                   "updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7) RETURNING id",
                   p, STORE_SQL_REQUIRE_ROW, cb, ctx);
}

void store_prices_delete(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql1(s, "DELETE FROM smart_prices WHERE id=?1", json_pack("[I]", (json_int_t)id),
               STORE_SQL_REQUIRE_ROW, cb, ctx);
}

void store_signals_replace(store_t *s, const char *prefix, const json_t *dr_rows,
                           const json_t *price_rows, store_json_cb cb, void *ctx)
{
    char *dr = json_dumps(dr_rows, JSON_COMPACT), *pr = json_dumps(price_rows, JSON_COMPACT);
    store_sql_step_t steps[] = {
        {"DELETE FROM smart_dr_events WHERE substr(external_id,1,length(?1))=?1;",
         json_pack("[s]", prefix), 0},
        {"INSERT INTO smart_dr_events(site,start_s,end_s,limit_kw,phase_a,source,reason,"
         "external_id,created_by,created_at,updated_at) SELECT value->>'site',"
         "value->>'start_s',value->>'end_s',value->>'limit_kw',value->>'phase_a',"
         "value->>'source',coalesce(value->>'reason',''),value->>'external_id',"
         "value->>'created_by',value->>'created_at',value->>'updated_at' FROM json_each(?1)",
         json_pack("[s]", dr ? dr : "[]"), 0},
        {"DELETE FROM smart_prices WHERE substr(external_id,1,length(?1))=?1",
         json_pack("[s]", prefix), 0},
        {"INSERT INTO smart_prices(site,body,source,external_id,created_by,created_at,"
         "updated_at) SELECT coalesce(value->>'site',''),value->>'body',value->>'source',"
         "value->>'external_id',value->>'created_by',value->>'created_at',"
         "value->>'updated_at' FROM json_each(?1)",
         json_pack("[s]", pr ? pr : "[]"), 0},
    };
    free(dr);
    free(pr);
    store_sql(s, steps, 4, cb, ctx);
}

void store_signals_external(store_t *s, const char *prefix, store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[] = {
        {"SELECT " DR_COLS " FROM smart_dr_events WHERE substr(external_id,1,length(?1))=?1 "
         "ORDER BY id",
         json_pack("[s]", prefix), 0},
        {"SELECT " PRICE_COLS " FROM smart_prices WHERE substr(external_id,1,length(?1))=?1 "
         "ORDER BY id",
         json_pack("[s]", prefix), 0},
    };
    store_sql(s, steps, 2, cb, ctx);
}
