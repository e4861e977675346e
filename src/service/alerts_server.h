/*
 * The alert engine (alerts.h) running inside the server: fed by the domain's
 * events and a one-second libuv timer, every change made durable in the store
 * (one queued upsert) and published only after the commit, as a domain event
 * (alert.raised, alert.updated, alert.acknowledged, alert.resolved) that the
 * event stream and webhooks carry. Open alerts, the stations the domain knows
 * and the sessions it runs are loaded at start, so a restart (even after a
 * kill -9) carries on where the last run left off.
 */
#ifndef AMPGRID_SERVICE_ALERTS_SERVER_H
#define AMPGRID_SERVICE_ALERTS_SERVER_H

#include "csms/csms.h"
#include "service/alerts.h"

#include <uv.h>

typedef struct alerts_server alerts_server_t;

/* Loads open alerts and the domain's live state: call before store_start
 * (it reads the database directly). NULL with a message on failure. */
alerts_server_t *alerts_server_create(uv_loop_t *loop, csms_t *csms, store_t *store,
                                      const alerts_config_t *cfg, char *err, size_t err_len);
/* The engine, for the API (acknowledge, resolve, counts, rules). */
alerts_t *alerts_server_engine(alerts_server_t *s);
/* Stops listening and ticking (shutdown); changes in flight still land. */
void alerts_server_stop(alerts_server_t *s);
/* After store_close. */
void alerts_server_free(alerts_server_t *s);

#endif
