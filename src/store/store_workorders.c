/*
 * Work orders on the generic SQL operation (see store_workorders.h). Each
 * change ends by reading the ticket back, so the caller can publish exactly
 * what was committed; the reads of a ticket's lists are one operation, so a
 * page never shows a note without the change that came with it.
 */
#include "store/store_workorders.h"

#include "store/store_sql.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

#define WO_COLS STORE_WO_COLS
#define WO_ROW "SELECT " WO_COLS " FROM work_orders WHERE id=?1"

const char store_low_stock_sql[] =
    "SELECT s.part_id,p.sku,p.name AS part_name,s.depot_id,d.name AS depot_name,s.quantity,"
    "s.low_threshold FROM stock s JOIN parts p ON p.id=s.part_id JOIN depots d ON d.id=s.depot_id"
    " WHERE s.low_threshold>0 AND s.quantity<s.low_threshold ORDER BY s.part_id,s.depot_id";

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *id_param(int64_t id)
{
    return json_pack("[I]", (json_int_t)id);
}

void store_workorder_create(store_t *s, const store_workorder_t *w, store_json_cb cb, void *ctx)
{
    bool conn = w->evse_id > 0;
    store_sql_step_t steps[] = {
        {"INSERT INTO work_orders(title,description,station_id,evse_id,connector_id,priority,"
         "state,assignee,source,alert_id,created_by,created_at,updated_at)"
         " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?12)",
         json_pack("[s,o,o,o,o,s,s,o,s,o,s,I]", w->title, str_or_null(w->description),
                   str_or_null(w->station_id), conn ? json_integer(w->evse_id) : json_null(),
                   conn ? json_integer(w->connector_id) : json_null(), w->priority, w->state,
                   str_or_null(w->assignee), w->source,
                   w->alert_id > 0 ? json_integer(w->alert_id) : json_null(), w->by,
                   (json_int_t)w->at),
         0},
        {"SELECT " WO_COLS " FROM work_orders WHERE id=last_insert_rowid()", NULL,
         STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 2, cb, ctx);
}

void store_workorder_get(store_t *s, int64_t id, store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[] = {
        {WO_ROW, id_param(id), STORE_SQL_REQUIRE_ROW},
        {"SELECT id,author,at,text FROM work_order_notes WHERE work_order_id=?1 ORDER BY id",
         id_param(id), 0},
        {"SELECT id,technician,minutes,note,at FROM work_order_time WHERE work_order_id=?1"
         " ORDER BY id",
         id_param(id), 0},
        {"SELECT u.id,u.part_id,p.sku,p.name AS part_name,u.depot_id,d.name AS depot_name,"
         "u.quantity,u.used_by,u.at FROM work_order_parts u LEFT JOIN parts p ON p.id=u.part_id"
         " LEFT JOIN depots d ON d.id=u.depot_id WHERE u.work_order_id=?1 ORDER BY u.id",
         id_param(id), 0},
        {"SELECT id,name,content_type,size,sha256,uploaded_by,at FROM work_order_attachments"
         " WHERE work_order_id=?1 ORDER BY id",
         id_param(id), 0},
    };
    store_sql(s, steps, 5, cb, ctx);
}

void store_workorder_update(store_t *s, int64_t id, const char *expect, const store_workorder_t *w,
                            store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[] = {
        {"UPDATE work_orders SET title=?2,description=?3,priority=?4,state=?5,assignee=?6,"
         "updated_at=?7,resolved_at=CASE WHEN ?5='resolved' AND state<>'resolved' THEN ?7"
         " WHEN ?5 IN ('open','assigned','in_progress','waiting_for_parts') THEN NULL"
         " ELSE resolved_at END,closed_at=CASE WHEN ?5='closed' THEN coalesce(closed_at,?7)"
         " ELSE closed_at END WHERE id=?1 AND state=?8",
         json_pack("[I,s,o,s,s,o,I,s]", (json_int_t)id, w->title, str_or_null(w->description),
                   w->priority, w->state, str_or_null(w->assignee), (json_int_t)w->at, expect),
         STORE_SQL_REQUIRE_ROW},
        {WO_ROW, id_param(id), STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 2, cb, ctx);
}

static store_sql_step_t touch_step(int64_t id, int64_t at)
{
    store_sql_step_t st = {"UPDATE work_orders SET updated_at=?2 WHERE id=?1",
                           json_pack("[I,I]", (json_int_t)id, (json_int_t)at),
                           STORE_SQL_REQUIRE_ROW};
    return st;
}

void store_workorder_note(store_t *s, int64_t id, const char *author, const char *text, int64_t at,
                          store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[] = {
        touch_step(id, at),
        {"INSERT INTO work_order_notes(work_order_id,author,at,text) VALUES(?1,?2,?3,?4)",
         json_pack("[I,s,I,s]", (json_int_t)id, author, (json_int_t)at, text), 0},
        {WO_ROW, id_param(id), STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 3, cb, ctx);
}

void store_workorder_time(store_t *s, int64_t id, const char *technician, int64_t minutes,
                          const char *note, int64_t at, store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[] = {
        touch_step(id, at),
        {"INSERT INTO work_order_time(work_order_id,technician,minutes,note,at)"
         " VALUES(?1,?2,?3,?4,?5)",
         json_pack("[I,s,I,o,I]", (json_int_t)id, technician, (json_int_t)minutes,
                   str_or_null(note), (json_int_t)at),
         0},
        {WO_ROW, id_param(id), STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 3, cb, ctx);
}

void store_workorder_use_part(store_t *s, int64_t id, int64_t part_id, int64_t depot_id,
                              int64_t quantity, const char *by, int64_t at, store_json_cb cb,
                              void *ctx)
{
    /* the CHECK on stock.quantity refuses going below zero (a conflict),
     * which rolls the whole operation back */
    store_sql_step_t steps[] = {
        {"UPDATE stock SET quantity=quantity-?3,updated_at=?4 WHERE part_id=?1 AND depot_id=?2",
         json_pack("[I,I,I,I]", (json_int_t)part_id, (json_int_t)depot_id, (json_int_t)quantity,
                   (json_int_t)at),
         STORE_SQL_REQUIRE_ROW},
        touch_step(id, at),
        {"INSERT INTO work_order_parts(work_order_id,part_id,depot_id,quantity,used_by,at)"
         " VALUES(?1,?2,?3,?4,?5,?6)",
         json_pack("[I,I,I,I,s,I]", (json_int_t)id, (json_int_t)part_id, (json_int_t)depot_id,
                   (json_int_t)quantity, by, (json_int_t)at),
         0},
        {"INSERT INTO "
         "stock_moves(part_id,depot_id,kind,delta,quantity,work_order_id,note,moved_by,at)"
         " SELECT part_id,depot_id,'use',-?3,quantity,?4,NULL,?5,?6 FROM stock"
         " WHERE part_id=?1 AND depot_id=?2",
         json_pack("[I,I,I,I,s,I]", (json_int_t)part_id, (json_int_t)depot_id, (json_int_t)quantity,
                   (json_int_t)id, by, (json_int_t)at),
         0},
        {store_low_stock_sql, NULL, 0},
        {WO_ROW, id_param(id), STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 6, cb, ctx);
}

void store_workorder_attach(store_t *s, int64_t id, const store_attachment_t *a, store_json_cb cb,
                            void *ctx)
{
    store_sql_step_t steps[] = {
        touch_step(id, a->at),
        {"INSERT INTO work_order_attachments(work_order_id,name,content_type,size,file,sha256,"
         "uploaded_by,at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
         json_pack("[I,s,s,I,s,s,s,I]", (json_int_t)id, a->name, a->content_type,
                   (json_int_t)a->size, a->file, a->sha256, a->by, (json_int_t)a->at),
         0},
        {"SELECT id,name,content_type,size,sha256,uploaded_by,at FROM work_order_attachments"
         " WHERE id=last_insert_rowid()",
         NULL, STORE_SQL_REQUIRE_ROW},
        {WO_ROW, id_param(id), STORE_SQL_REQUIRE_ROW},
    };
    store_sql(s, steps, 4, cb, ctx);
}

void store_workorder_attachment(store_t *s, int64_t id, int64_t attachment_id, store_json_cb cb,
                                void *ctx)
{
    store_sql1(s,
               "SELECT id,name,content_type,size,file,sha256,uploaded_by,at"
               " FROM work_order_attachments WHERE work_order_id=?1 AND id=?2",
               json_pack("[I,I]", (json_int_t)id, (json_int_t)attachment_id), STORE_SQL_REQUIRE_ROW,
               cb, ctx);
}

void store_workorder_alert_note(store_t *s, int64_t alert_id, const char *text, int64_t at,
                                store_json_cb cb, void *ctx)
{
    store_sql_step_t steps[] = {
        {"INSERT INTO work_order_notes(work_order_id,author,at,text)"
         " SELECT id,'system',?2,?3 FROM work_orders WHERE alert_id=?1",
         json_pack("[I,I,s]", (json_int_t)alert_id, (json_int_t)at, text), 0},
        {"UPDATE work_orders SET updated_at=?2 WHERE alert_id=?1",
         json_pack("[I,I]", (json_int_t)alert_id, (json_int_t)at), 0},
        {"SELECT " WO_COLS " FROM work_orders WHERE alert_id=?1", id_param(alert_id), 0},
    };
    store_sql(s, steps, 3, cb, ctx);
}

static const store_sort_t wo_sorts[] = {
    {"id", "id", false, false},
    {"created_at", "created_at", false, false},
    {"updated_at", "updated_at", false, false},
    {"priority",
     "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END", false,
     false},
    {NULL, NULL, false, false},
};
static const store_list_t wo_list = {WO_COLS, "work_orders", "id", wo_sorts, NULL};

void store_workorders_list(store_t *s, const store_workorder_filter_t *f, const store_page_t *page,
                           store_json_cb cb, void *ctx)
{
    strbuf_t w = {0};
    strbuf_printf(&w, "1");
    if (f->states) strbuf_printf(&w, " AND instr(','||?1||',',','||state||',')>0");
    if (f->priorities) strbuf_printf(&w, " AND instr(','||?2||',',','||priority||',')>0");
    if (f->assignee) strbuf_printf(&w, " AND assignee=?3");
    if (f->station_id) strbuf_printf(&w, " AND station_id=?4");
    if (f->site) strbuf_printf(&w, " AND station_id IN (SELECT id FROM stations WHERE site=?5)");
    if (f->since) strbuf_printf(&w, " AND updated_at>=?6");
    json_t *p = json_pack("[o,o,o,o,o,I]", str_or_null(f->states), str_or_null(f->priorities),
                          str_or_null(f->assignee), str_or_null(f->station_id),
                          str_or_null(f->site), (json_int_t)f->since);
    store_page_query(s, &wo_list, w.data, p, page, cb, ctx);
    strbuf_free(&w);
}

void store_workorders_from_open_alerts(store_t *s, const char *rules, const json_t *priorities,
                                       int64_t at, store_json_cb cb, void *ctx)
{
    char *prio = json_dumps(priorities, JSON_COMPACT);
    json_t *p = json_pack("[s,s,I]", rules, prio ? prio : "{}", (json_int_t)at);
    free(prio);
    store_sql_step_t steps[] = {
        {"INSERT OR IGNORE INTO work_orders(title,description,station_id,evse_id,connector_id,"
         "priority,state,source,alert_id,created_by,created_at,updated_at)"
         " SELECT a.title,NULL,nullif(a.station_id,''),a.evse_id,a.connector_id,"
         "coalesce(json_extract(?2,'$.'||a.rule),'normal'),'open','alert:'||a.id,a.id,'system',"
         "?3,?3 FROM alerts a WHERE a.state<>'resolved'"
         " AND instr(','||?1||',',','||a.rule||',')>0"
         " AND NOT EXISTS(SELECT 1 FROM work_orders w WHERE w.alert_id=a.id) ORDER BY a.id",
         json_incref(p), 0},
        {"SELECT " WO_COLS " FROM work_orders WHERE created_at=?3 AND created_by='system'"
         " AND alert_id IS NOT NULL ORDER BY id",
         json_incref(p), 0},
    };
    json_decref(p);
    store_sql(s, steps, 2, cb, ctx);
}

int store_attachment_files_sync(store_t *s, json_t **files)
{
    json_t *rows = NULL;
    *files = NULL;
    if (store_sql_sync(s, "SELECT file FROM work_order_attachments", NULL, &rows) != 0) return -1;
    *files = json_object();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *f = json_string_value(json_object_get(row, "file"));
        if (f) json_object_set_new(*files, f, json_true());
    }
    json_decref(rows);
    return 0;
}
