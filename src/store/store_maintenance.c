/*
 * Plans and windows on the generic SQL operation (see store_maintenance.h).
 */
#include "store/store_maintenance.h"

#include "store/store_sql.h"
#include "store/store_workorders.h"

#include <stdlib.h>
#include <string.h>

#define PLAN_COLS                                                                                  \
    "id,name,interval_days,task,scope_kind,scope,priority,next_due,enabled,created_by,"            \
    "created_at,updated_at"
#define WINDOW_COLS                                                                                \
    "id,station_id,site,starts_at,ends_at,reason,work_order_id,created_by,created_at,"             \
    "(SELECT json_group_array(exclusion_id) FROM maintenance_window_exclusions"                    \
    " WHERE window_id=maintenance_windows.id) AS exclusion_ids"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *id_param(int64_t id)
{
    return json_pack("[I]", (json_int_t)id);
}

/* ------------------------------------------------------------- plans */

void store_plan_create(store_t *s, const store_plan_t *p, int64_t at, store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[] = {
        {"INSERT INTO maintenance_plans(name,interval_days,task,scope_kind,scope,priority,"
         "next_due,enabled,created_by,created_at,updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,"
         "?10,?10)",
         json_pack("[s,i,s,s,s,s,I,b,s,I]", p->name, p->interval_days, p->task, p->scope_kind,
                   p->scope, p->priority, (json_int_t)p->next_due, p->enabled, p->by,
                   (json_int_t)at),
         0},
        {"SELECT " PLAN_COLS " FROM maintenance_plans WHERE id=last_insert_rowid()", NULL,
         STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 2, cb, ctx);
}

void store_plan_update(store_t *s, int64_t id, const store_plan_t *p, int64_t at, store_json_cb cb,
                       void *ctx)
{
    store_sql_step_t steps[] = {
        {"UPDATE maintenance_plans SET name=?2,interval_days=?3,task=?4,scope_kind=?5,scope=?6,"
         "priority=?7,next_due=?8,enabled=?9,updated_at=?10 WHERE id=?1",
         json_pack("[I,s,i,s,s,s,s,I,b,I]", (json_int_t)id, p->name, p->interval_days, p->task,
                   p->scope_kind, p->scope, p->priority, (json_int_t)p->next_due, p->enabled,
                   (json_int_t)at),
         STORE_SQL_REQUIRE_ROW},
        {"SELECT " PLAN_COLS " FROM maintenance_plans WHERE id=?1", id_param(id),
         STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 2, cb, ctx);
}

void store_plan_delete(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql1(s, "DELETE FROM maintenance_plans WHERE id=?1", id_param(id), STORE_SQL_REQUIRE_ROW,
               cb, ctx);
}

void store_plan_get(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql1(s, "SELECT " PLAN_COLS " FROM maintenance_plans WHERE id=?1", id_param(id),
               STORE_SQL_REQUIRE_ROW, cb, ctx);
}

static const store_sort_t plan_sorts[] = {
    {"id", "id", false, false},
    {"next_due", "next_due", false, false},
    {"name", "name", false, false},
    {NULL, NULL, false, false},
};
static const store_list_t plan_list = {PLAN_COLS, "maintenance_plans", "id", plan_sorts, NULL};

void store_plans_list(store_t *s, const store_page_t *page, store_json_cb cb, void *ctx)
{
    store_page_query(s, &plan_list, NULL, json_array(), page, cb, ctx);
}

void store_plans_due(store_t *s, int64_t now, store_json_cb cb, void *ctx)
{
    store_sql1(s,
               "SELECT " PLAN_COLS " FROM maintenance_plans WHERE enabled<>0 AND next_due<=?1"
               " ORDER BY id",
               json_pack("[I]", (json_int_t)now), 0, cb, ctx);
}

void store_plan_run(store_t *s, int64_t id, int64_t due_at, int64_t next, int64_t now,
                    store_json_cb cb, void *ctx)
{
    json_t *p = json_pack("[I,I,I,I]", (json_int_t)id, (json_int_t)due_at, (json_int_t)next,
                          (json_int_t)now);
    store_sql_step_t steps[] = {
        {"UPDATE maintenance_plans SET next_due=?3,updated_at=?4 WHERE id=?1 AND next_due=?2"
         " AND enabled<>0",
         json_incref(p), STORE_SQL_REQUIRE_ROW},
        {"INSERT OR IGNORE INTO work_orders(title,description,station_id,priority,state,source,"
         "plan_id,due_at,created_by,created_at,updated_at)"
         " SELECT m.name,m.task,s.id,m.priority,'open','plan:'||m.id,m.id,?2,'system',?4,?4"
         " FROM maintenance_plans m JOIN stations s ON (m.scope_kind='station' AND s.id=m.scope)"
         " OR (m.scope_kind='site' AND s.site=m.scope) OR (m.scope_kind='model' AND"
         " s.model=m.scope) WHERE m.id=?1 ORDER BY s.id",
         json_incref(p), 0},
        {"SELECT " STORE_WO_COLS " FROM work_orders WHERE plan_id=?1 AND due_at=?2 ORDER BY id",
         json_incref(p), 0},
    };
    json_decref(p);
    store_sql(s, steps, 3, cb, ctx);
}

/* ----------------------------------------------------------- windows */

void store_window_create(store_t *s, const store_window_t *w, int64_t at, store_json_cb cb,
                         void *ctx)
{
    /* the exclusions carry the window's number in their note, which is how
     * the third step finds exactly the ones the second made */
    store_sql_step_t steps[] = {
        {"INSERT INTO maintenance_windows(station_id,site,starts_at,ends_at,reason,"
         "work_order_id,created_by,created_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
         json_pack("[o,o,I,I,s,o,s,I]", str_or_null(w->station_id), str_or_null(w->site),
                   (json_int_t)w->starts_at, (json_int_t)w->ends_at, w->reason,
                   w->work_order_id > 0 ? json_integer(w->work_order_id) : json_null(), w->by,
                   (json_int_t)at),
         0},
        {"INSERT INTO uptime_exclusions(station_id,evse_id,reason,starts_at,ends_at,note,"
         "created_by,created_at,updated_at) SELECT s.id,NULL,'scheduled_maintenance',w.starts_at,"
         "w.ends_at,'maintenance window #'||w.id,w.created_by,?1,?1 FROM maintenance_windows w"
         " JOIN stations s ON s.id=w.station_id OR s.site=w.site"
         " WHERE w.id=(SELECT max(id) FROM maintenance_windows) ORDER BY s.id",
         json_pack("[I]", (json_int_t)at), 0},
        {"INSERT INTO maintenance_window_exclusions(window_id,exclusion_id)"
         " SELECT w.id,e.id FROM (SELECT max(id) AS id FROM maintenance_windows) w"
         " JOIN uptime_exclusions e ON e.note='maintenance window #'||w.id AND e.created_at=?1"
         " AND e.reason='scheduled_maintenance'",
         json_pack("[I]", (json_int_t)at), 0},
        {"SELECT " WINDOW_COLS " FROM maintenance_windows"
         " WHERE id=(SELECT max(id) FROM maintenance_windows)",
         NULL, STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 4, cb, ctx);
}

void store_window_get(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql1(s, "SELECT " WINDOW_COLS " FROM maintenance_windows WHERE id=?1", id_param(id),
               STORE_SQL_REQUIRE_ROW, cb, ctx);
}

void store_window_delete(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[] = {
        {"DELETE FROM maintenance_windows WHERE id=?1", id_param(id), STORE_SQL_REQUIRE_ROW},
        {"DELETE FROM uptime_exclusions WHERE id IN (SELECT exclusion_id FROM"
         " maintenance_window_exclusions WHERE window_id=?1)",
         id_param(id), 0},
        {"DELETE FROM maintenance_window_exclusions WHERE window_id=?1", id_param(id), 0},
    };
    store_sql(s, steps, 3, cb, ctx);
}

static const store_sort_t window_sorts[] = {
    {"id", "id", false, false},
    {"starts_at", "starts_at", false, false},
    {NULL, NULL, false, false},
};
static const store_list_t window_list = {WINDOW_COLS, "maintenance_windows", "id", window_sorts,
                                         NULL};

void store_windows_list(store_t *s, const char *station_id, const store_page_t *page,
                        store_json_cb cb, void *ctx)
{
    const char *where =
        station_id ? "(station_id=?1 OR site=(SELECT site FROM stations WHERE id=?1))" : NULL;
    store_page_query(s, &window_list, where, json_pack("[o]", str_or_null(station_id)), page, cb,
                     ctx);
}
