/*
 * Uptime reports: the numbers of 23 CFR 680.116(b) per port, and summed per
 * station, site and network, over a period, from the history the store keeps
 * (store/store_uptime.h) and the arithmetic of uptime.h.
 *
 * Each port is computed over [max(from, its first status), min(to, now)):
 * time before a port first reported is not in service, and time to come is
 * not yet known. Stations, sites and the network sum their ports'
 * port-minutes: µ = (Σ period − Σ (outage − excluded)) / Σ period × 100.
 *
 * Reports are built on the store's writer thread, a chunk of stations per
 * operation (see store_uptime_scan), and answered on the loop.
 */
#ifndef AMPGRID_SERVICE_UPTIME_REPORT_H
#define AMPGRID_SERVICE_UPTIME_REPORT_H

#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct uptime_report_query {
    int64_t from, to;              /* the period, [from, to) */
    int64_t now;                   /* nothing is counted after it */
    const char *station_id, *site; /* filters, NULL = any */
    int evse_id;                   /* with station_id: one port; 0 = every port */
    bool outages;                  /* list each port's outages */
    bool usage;                    /* the NEVI usage fields per port */
} uptime_report_query_t;

/* The report:
 *   {"ports":    [{station_id, site, evse_id, from, to, period_minutes,
 *                  outage_minutes, excluded_minutes, counted_outage_minutes,
 *                  uptime_pct, outage_count,
 *                  outages: [{start, end, minutes, excluded_minutes, causes,
 *                             detail, ongoing}]            (with outages)
 *                  sessions, energy_kwh, peak_kw, failed_sessions,
 *                  failed_session_errors: [{at, kind, reason, error_code,
 *                                           session_id}]}], (with usage)
 *    "stations": [{station_id, site, ports, <the same sums>}],
 *    "sites":    [{site, stations, ports, <sums>}],
 *    "network":  {stations, ports, <sums>}}
 * report is owned by the callee and valid during the callback; NULL when
 * rc is not STORE_OK. */
typedef void (*uptime_report_cb)(void *ctx, store_err_t rc, json_t *report);
void uptime_report_run(store_t *s, const uptime_report_query_t *q, uptime_report_cb cb, void *ctx);

#endif
