/*
 * Preventive maintenance plans and maintenance windows on disk (schema 6).
 *
 * A plan that falls due creates its tickets and moves its next_due on in one
 * transaction guarded by the next_due it was due at, so a crash or a restart
 * can neither lose the tickets nor create them twice (and a unique index on
 * (plan_id, station_id, due_at) says the same). A window creates one uptime
 * exclusion ("scheduled_maintenance", store_uptime.h's table) per station it
 * covers in the same transaction as itself, and remembers them, so deleting
 * the window deletes exactly those.
 *
 * maintenance_plans columns: id, name, interval_days, task, scope_kind
 * ("station", "site", "model"), scope, priority, next_due, enabled,
 * created_by, created_at, updated_at. maintenance_windows: id, station_id,
 * site, starts_at, ends_at, reason, work_order_id, created_by, created_at.
 */
#ifndef AMPGRID_STORE_STORE_MAINTENANCE_H
#define AMPGRID_STORE_STORE_MAINTENANCE_H

#include "store/store.h"
#include "store/store_page.h"

typedef struct store_plan {
    const char *name, *task, *scope_kind, *scope, *priority;
    int interval_days;
    int64_t next_due;
    bool enabled;
    const char *by;
} store_plan_t;

void store_plan_create(store_t *s, const store_plan_t *p, int64_t at, store_json_cb cb, void *ctx);
void store_plan_update(store_t *s, int64_t id, const store_plan_t *p, int64_t at, store_json_cb cb,
                       void *ctx);                                           /* NOT_FOUND */
void store_plan_delete(store_t *s, int64_t id, store_json_cb cb, void *ctx); /* NOT_FOUND */
void store_plan_get(store_t *s, int64_t id, store_json_cb cb, void *ctx);    /* [[row]] */
void store_plans_list(store_t *s, const store_page_t *page, store_json_cb cb, void *ctx);
/* Enabled plans with next_due <= now: [[rows]]. */
void store_plans_due(store_t *s, int64_t now, store_json_cb cb, void *ctx);
/* Runs a due plan: if it is still due at due_at, moves next_due to next and
 * creates an open ticket per station in its scope. Result: [.., .., [the
 * tickets of this due date]]; NOT_FOUND when it was not due at due_at any
 * more (run already). */
void store_plan_run(store_t *s, int64_t id, int64_t due_at, int64_t next, int64_t now,
                    store_json_cb cb, void *ctx);

typedef struct store_window {
    const char *station_id, *site; /* exactly one */
    int64_t starts_at, ends_at;
    const char *reason;
    int64_t work_order_id; /* 0 = none */
    const char *by;
} store_window_t;

/* [.., .., .., [row with exclusion_ids: a JSON array text]]. */
void store_window_create(store_t *s, const store_window_t *w, int64_t at, store_json_cb cb,
                         void *ctx);
void store_window_get(store_t *s, int64_t id, store_json_cb cb, void *ctx);    /* [[row]] */
void store_window_delete(store_t *s, int64_t id, store_json_cb cb, void *ctx); /* NOT_FOUND */
void store_windows_list(store_t *s, const char *station_id, const store_page_t *page,
                        store_json_cb cb, void *ctx);

#endif
