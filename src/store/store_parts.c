/*
 * Parts, depots and stock on the generic SQL operation (see store_parts.h).
 * An adjustment writes its ledger row before it changes the count, reading
 * the count it changes in the same statement, so the ledger's delta is
 * always against what was really there.
 */
#include "store/store_parts.h"

#include "store/store_sql.h"
#include "store/store_workorders.h"

#include <stdlib.h>
#include <string.h>

#define PART_COLS "id,sku,name,description,models,unit,created_at,updated_at"
#define DEPOT_COLS "id,name,location,created_at,updated_at"
#define STOCK_SELECT                                                                               \
    "SELECT s.part_id,p.sku,p.name AS part_name,p.unit,s.depot_id,d.name AS depot_name,"           \
    "s.quantity,s.low_threshold,s.updated_at FROM stock s JOIN parts p ON p.id=s.part_id"          \
    " JOIN depots d ON d.id=s.depot_id"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *json_text(const json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_t *r = json_string(s ? s : "[]");
    free(s);
    return r;
}

/* ------------------------------------------------------------- parts */

void store_part_create(store_t *s, const store_part_t *p, int64_t at, store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[] = {
        {"INSERT INTO parts(sku,name,description,models,unit,created_at,updated_at)"
         " VALUES(?1,?2,?3,?4,?5,?6,?6)",
         json_pack("[s,s,o,o,s,I]", p->sku, p->name, str_or_null(p->description),
                   json_text(p->models), p->unit, (json_int_t)at),
         0},
        {"SELECT " PART_COLS " FROM parts WHERE id=last_insert_rowid()", NULL,
         STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 2, cb, ctx);
}

void store_part_update(store_t *s, int64_t id, const store_part_t *p, int64_t at, store_json_cb cb,
                       void *ctx)
{
    store_sql_step_t steps[] = {
        {"UPDATE parts SET sku=?2,name=?3,description=?4,models=?5,unit=?6,updated_at=?7"
         " WHERE id=?1",
         json_pack("[I,s,s,o,o,s,I]", (json_int_t)id, p->sku, p->name, str_or_null(p->description),
                   json_text(p->models), p->unit, (json_int_t)at),
         STORE_SQL_REQUIRE_ROW},
        {"SELECT " PART_COLS " FROM parts WHERE id=?1", json_pack("[I]", (json_int_t)id),
         STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 2, cb, ctx);
}

void store_part_get(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql1(s, "SELECT " PART_COLS " FROM parts WHERE id=?1", json_pack("[I]", (json_int_t)id),
               STORE_SQL_REQUIRE_ROW, cb, ctx);
}

static const store_sort_t part_sorts[] = {
    {"id", "id", false, false},
    {"sku", "sku", false, false},
    {"name", "name", false, false},
    {NULL, NULL, false, false},
};
static const store_list_t part_list = {PART_COLS, "parts", "id", part_sorts, NULL};

void store_parts_list(store_t *s, const char *model, const store_page_t *page, store_json_cb cb,
                      void *ctx)
{
    /* models is a JSON array: match an element exactly */
    const char *where = model ? "EXISTS(SELECT 1 FROM json_each(models) WHERE value=?1)" : NULL;
    store_page_query(s, &part_list, where, json_pack("[o]", str_or_null(model)), page, cb, ctx);
}

/* ------------------------------------------------------------ depots */

void store_depot_create(store_t *s, const char *name, const char *location, int64_t at,
                        store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[] = {
        {"INSERT INTO depots(name,location,created_at,updated_at) VALUES(?1,?2,?3,?3)",
         json_pack("[s,o,I]", name, str_or_null(location), (json_int_t)at), 0},
        {"SELECT " DEPOT_COLS " FROM depots WHERE id=last_insert_rowid()", NULL,
         STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 2, cb, ctx);
}

void store_depot_update(store_t *s, int64_t id, const char *name, const char *location, int64_t at,
                        store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[] = {
        {"UPDATE depots SET name=?2,location=?3,updated_at=?4 WHERE id=?1",
         json_pack("[I,s,o,I]", (json_int_t)id, name, str_or_null(location), (json_int_t)at),
         STORE_SQL_REQUIRE_ROW},
        {"SELECT " DEPOT_COLS " FROM depots WHERE id=?1", json_pack("[I]", (json_int_t)id),
         STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 2, cb, ctx);
}

void store_depot_get(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql1(s, "SELECT " DEPOT_COLS " FROM depots WHERE id=?1", json_pack("[I]", (json_int_t)id),
               STORE_SQL_REQUIRE_ROW, cb, ctx);
}

static const store_sort_t depot_sorts[] = {
    {"id", "id", false, false},
    {"name", "name", false, false},
    {NULL, NULL, false, false},
};
static const store_list_t depot_list = {DEPOT_COLS, "depots", "id", depot_sorts, NULL};

void store_depots_list(store_t *s, const store_page_t *page, store_json_cb cb, void *ctx)
{
    store_page_query(s, &depot_list, NULL, json_array(), page, cb, ctx);
}

/* ------------------------------------------------------------- stock */

void store_stock_list(store_t *s, int64_t part_id, int64_t depot_id, bool low_only, int limit,
                      store_json_cb cb, void *ctx)
{
    store_sql1(s,
               STOCK_SELECT " WHERE (?1=0 OR s.part_id=?1) AND (?2=0 OR s.depot_id=?2) AND"
                            " (?3=0 OR (s.low_threshold>0 AND s.quantity<s.low_threshold))"
                            " ORDER BY s.part_id,s.depot_id LIMIT ?4",
               json_pack("[I,I,b,i]", (json_int_t)part_id, (json_int_t)depot_id, low_only, limit),
               0, cb, ctx);
}

void store_stock_adjust(store_t *s, int64_t part_id, int64_t depot_id, const char *kind,
                        int64_t quantity, int64_t low_threshold, const char *note, const char *by,
                        int64_t at, store_json_cb cb, void *ctx)
{
    json_t *th = low_threshold >= 0 ? json_integer(low_threshold) : json_null();
    store_sql_step_t steps[] = {
        /* the row on first use, only for a part and a depot that exist */
        {"INSERT OR IGNORE INTO stock(part_id,depot_id,quantity,low_threshold,updated_at)"
         " SELECT ?1,?2,0,0,?3 WHERE EXISTS(SELECT 1 FROM parts WHERE id=?1)"
         " AND EXISTS(SELECT 1 FROM depots WHERE id=?2)",
         json_pack("[I,I,I]", (json_int_t)part_id, (json_int_t)depot_id, (json_int_t)at), 0},
        {"INSERT INTO "
         "stock_moves(part_id,depot_id,kind,delta,quantity,work_order_id,note,moved_by,at)"
         " SELECT part_id,depot_id,?3,CASE ?3 WHEN 'receive' THEN ?4 ELSE ?4-quantity END,"
         "CASE ?3 WHEN 'receive' THEN quantity+?4 ELSE ?4 END,NULL,?5,?6,?7 FROM stock"
         " WHERE part_id=?1 AND depot_id=?2",
         json_pack("[I,I,s,I,o,s,I]", (json_int_t)part_id, (json_int_t)depot_id, kind,
                   (json_int_t)quantity, str_or_null(note), by, (json_int_t)at),
         STORE_SQL_REQUIRE_ROW},
        {"UPDATE stock SET quantity=CASE ?3 WHEN 'receive' THEN quantity+?4 ELSE ?4 END,"
         "low_threshold=coalesce(?5,low_threshold),updated_at=?6 WHERE part_id=?1 AND depot_id=?2",
         json_pack("[I,I,s,I,o,I]", (json_int_t)part_id, (json_int_t)depot_id, kind,
                   (json_int_t)quantity, th, (json_int_t)at),
         STORE_SQL_REQUIRE_ROW},
        {STOCK_SELECT " WHERE s.part_id=?1 AND s.depot_id=?2",
         json_pack("[I,I]", (json_int_t)part_id, (json_int_t)depot_id), STORE_SQL_REQUIRE_ROW},
        {store_low_stock_sql, NULL, 0},
    };
    store_sql(s, steps, 5, cb, ctx);
}

void store_stock_low(store_t *s, store_json_cb cb, void *ctx)
{
    store_sql1(s, store_low_stock_sql, NULL, 0, cb, ctx);
}
