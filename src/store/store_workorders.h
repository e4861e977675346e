/*
 * Work orders on disk (schema 6): the tickets, and what hangs off each one
 * (notes, time entries, parts used, attachments), on the generic SQL
 * operation of store_sql.c. A change that spans tables (a part used on a
 * ticket takes it out of stock) is one operation, so it commits whole or not
 * at all. Rows come back as JSON in the tables' column names, times as Unix
 * milliseconds.
 *
 * work_orders columns: id, title, description, station_id, evse_id,
 * connector_id, priority, state, assignee, source, alert_id, plan_id, due_at,
 * created_by, created_at, updated_at, resolved_at, closed_at.
 */
#ifndef AMPGRID_STORE_STORE_WORKORDERS_H
#define AMPGRID_STORE_STORE_WORKORDERS_H

#include "store/store.h"
#include "store/store_page.h"

#define STORE_WO_COLS                                                                              \
    "id,title,description,station_id,evse_id,connector_id,priority,state,assignee,source,"         \
    "alert_id,plan_id,due_at,created_by,created_at,updated_at,resolved_at,closed_at"

typedef struct store_workorder {
    const char *title, *description, *station_id; /* station_id NULL = none */
    int evse_id, connector_id;                    /* evse_id < 1: the station as a whole */
    const char *priority, *state, *assignee;      /* assignee NULL = nobody */
    const char *source;                           /* "manual", "alert:<id>", "plan:<id>" */
    int64_t alert_id;                             /* 0 = none */
    const char *by;
    int64_t at;
} store_workorder_t;

/* Creates a ticket: [{changes,id}, [row]]. STORE_ERR_CONFLICT when alert_id
 * already has one (a ticket per alert, whatever restarts happen). */
void store_workorder_create(store_t *s, const store_workorder_t *w, store_json_cb cb, void *ctx);
/* A ticket and its lists: [[row], [notes], [time entries], [parts used],
 * [attachments]]; STORE_ERR_NOT_FOUND when there is none. */
void store_workorder_get(store_t *s, int64_t id, store_json_cb cb, void *ctx);

/* Changes title, description, priority, state and assignee (the whole set,
 * as the caller merged it) if the ticket is still in state expect: [..,
 * [row]]; STORE_ERR_NOT_FOUND when it is not (changed meanwhile). Stamps
 * resolved_at/closed_at on entering those states; reopening clears
 * resolved_at. */
void store_workorder_update(store_t *s, int64_t id, const char *expect, const store_workorder_t *w,
                            store_json_cb cb, void *ctx);
/* Appends a note / a time entry; the last result is [row]. NOT_FOUND when
 * there is no such ticket. */
void store_workorder_note(store_t *s, int64_t id, const char *author, const char *text, int64_t at,
                          store_json_cb cb, void *ctx);
void store_workorder_time(store_t *s, int64_t id, const char *technician, int64_t minutes,
                          const char *note, int64_t at, store_json_cb cb, void *ctx);
/* Uses quantity of a part from a depot on a ticket, taking it out of stock
 * in the same transaction: [{..}, {..}, {..}, {..}, [low stock rows],
 * [row]]. STORE_ERR_NOT_FOUND: the depot has no stock row for the part;
 * STORE_ERR_CONFLICT: fewer on hand than quantity (stock never goes below 0). */
void store_workorder_use_part(store_t *s, int64_t id, int64_t part_id, int64_t depot_id,
                              int64_t quantity, const char *by, int64_t at, store_json_cb cb,
                              void *ctx);
/* Records an attachment whose file is already on disk: [{..}, [attachment],
 * [row]]. */
typedef struct store_attachment {
    const char *name, *content_type, *file, *sha256, *by;
    int64_t size, at;
} store_attachment_t;
void store_workorder_attach(store_t *s, int64_t id, const store_attachment_t *a, store_json_cb cb,
                            void *ctx);
/* One attachment of a ticket: [[attachment]] or NOT_FOUND. */
/* Start-up only (before store_start): the stored file name of every
 * attachment, as a JSON object used as a set ({"<file>": true}); 0 or -1. */
int store_attachment_files_sync(store_t *s, json_t **files);
void store_workorder_attachment(store_t *s, int64_t id, int64_t attachment_id, store_json_cb cb,
                                void *ctx);

/* An alert resolved: a note on its ticket; the last result is the ticket's
 * [row] ([] when the alert has no ticket). */
void store_workorder_alert_note(store_t *s, int64_t alert_id, const char *text, int64_t at,
                                store_json_cb cb, void *ctx);

/* Start-up catch-up: a ticket for every open alert of a rule in rules
 * (comma-separated) that has none yet, with the priority priorities (an
 * object rule -> priority) gives its rule. [.., [the new tickets]]. */
void store_workorders_from_open_alerts(store_t *s, const char *rules, const json_t *priorities,
                                       int64_t at, store_json_cb cb, void *ctx);

typedef struct store_workorder_filter {
    const char *states, *priorities;          /* comma-separated, NULL = any */
    const char *assignee, *station_id, *site; /* NULL = any */
    int64_t since;                            /* changed at or after; 0 = any */
} store_workorder_filter_t;
/* A page of tickets, sorted by id, created_at, updated_at or priority. */
void store_workorders_list(store_t *s, const store_workorder_filter_t *f, const store_page_t *page,
                           store_json_cb cb, void *ctx);

/* The rows of stock below its threshold, as store_workorder_use_part gives
 * them (part_id, sku, part_name, depot_id, depot_name, quantity,
 * low_threshold). The SQL, for store_parts.c too. */
extern const char store_low_stock_sql[];

#endif
