/*
 * Work orders inside the server: what creates tickets by itself and what a
 * ticket's change tells the rest of the program.
 *
 * - Alerts: alert.raised of a rule listed in [workorders] auto_create opens
 *   one ticket for that alert (a unique index on alert_id makes it one, also
 *   across restarts; at start, open alerts without their ticket get one, for
 *   a process that died between the alert and its ticket). alert.resolved
 *   adds a note to the alert's ticket; a technician closes it.
 * - Preventive plans: a timer on the loop (at start, then hourly, and right
 *   after a plan is created or changed) runs every due plan through the
 *   store (store_plan_run), which creates the tickets and moves next_due on
 *   in one transaction.
 * - Stock: after every stock change the caller hands over the rows below
 *   their threshold; the parts_low_stock alert (one for the network, listing
 *   them) is raised, updated or resolved to match.
 * - Every ticket created or changed is published as workorder.created /
 *   workorder.updated (the event stream and webhooks) after its commit.
 *
 * Everything runs on the event loop; the store is only called
 * asynchronously.
 */
#ifndef AMPGRID_SERVICE_WORKORDERS_SERVER_H
#define AMPGRID_SERVICE_WORKORDERS_SERVER_H

#include "csms/csms.h"
#include "service/alerts.h"
#include "service/workorders.h"

#include <uv.h>

typedef struct workorders_server workorders_server_t;

/* alerts may be NULL (no low-stock alerts). data_dir: attachments go under
 * <data_dir>/attachments (created here). NULL with a message on failure. */
workorders_server_t *workorders_server_create(uv_loop_t *loop, csms_t *csms, store_t *store,
                                              alerts_t *alerts, const workorders_config_t *cfg,
                                              const char *data_dir, char *err, size_t err_len);
/* After store_start: the start-up catch-up (open alerts, due plans, stock). */
void workorders_server_start(workorders_server_t *s);
void workorders_server_stop(workorders_server_t *s);
void workorders_server_free(workorders_server_t *s);

const workorders_config_t *workorders_server_config(const workorders_server_t *s);
/* "<data_dir>/attachments" */
const char *workorders_server_attachments_dir(const workorders_server_t *s);

/* Runs the due plans now (after a plan was created or changed). */
void workorders_server_check_plans(workorders_server_t *s);
/* The stock below threshold after a change (an array of store rows). */
void workorders_server_stock_low(workorders_server_t *s, const json_t *rows);
/* Publishes a ticket row (store_workorders.h) as type. */
void workorders_server_emit(workorders_server_t *s, const char *type, const json_t *row);

/* The API's view of a ticket row: times RFC 3339, connector an object or
 * null. A new reference. */
json_t *workorders_row_json(const json_t *row);

#endif
