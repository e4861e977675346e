/*
 * What uptime is computed from, durably: when each station was connected
 * (station_connectivity), when the server was last known alive (so that a
 * crash bounds how long a station can have been counted as connected),
 * failed session starts per port (failed_starts, open until the port
 * recovers), and the time operators exclude from outages
 * (uptime_exclusions). The status history itself is status_history.
 *
 * Reports read it all back through store_uptime_scan(), which hands one
 * station's history at a time to a visitor ON THE WRITER THREAD: a year of
 * status changes is folded into numbers as it streams past and never becomes
 * JSON. The visitor must touch nothing but its own context (the context is
 * handed to the writer with the operation and back to the loop with its
 * completion, so no lock is needed). A scan covers at most max_stations
 * stations per operation; the caller asks for the next chunk from the
 * completion, so the writer is never held for long.
 *
 * Times are Unix ms (UTC).
 */
#ifndef AMPGRID_STORE_STORE_UPTIME_H
#define AMPGRID_STORE_STORE_UPTIME_H

#include "store/store.h"

/* ---------------------------------------------------- the recorder */

/* Start-up, before store_start: connections a previous process left open
 * end at the last moment it was known alive (a crash, or a stop that could
 * not write them), then this start is marked alive. 0 or -1. */
int store_uptime_startup_sync(store_t *s, int64_t now);
/* Start-up, before store_start: every port with a failed start not yet
 * recovered. */
typedef void (*store_port_row_cb)(void *ctx, const char *station_id, int evse_id);
int store_uptime_open_failures_sync(store_t *s, store_port_row_cb cb, void *ctx);

/* The server is alive at `now` (a periodic mark). */
void store_uptime_alive(store_t *s, int64_t now);
/* A station connected at `at` (nothing when a connection is already open)
 * or disconnected (the open connection ends; reason e.g. "disconnected",
 * "deleted"). Both also mark the server alive. */
void store_uptime_connected(store_t *s, const char *station_id, int64_t at);
void store_uptime_disconnected(store_t *s, const char *station_id, int64_t at, const char *reason);

typedef struct store_failed_start {
    const char *station_id;
    int evse_id, connector_id;
    int64_t at;
    const char *kind;       /* "rejected" (a remote start refused) or "failed_session" */
    const char *reason;     /* "Rejected", a stop reason */
    const char *error_code; /* the port's error code then, NULL = none */
    int64_t session_id;     /* 0 = none */
} store_failed_start_t;
void store_uptime_failed_start(store_t *s, const store_failed_start_t *f);
/* Ends the port's open failed starts that began at or before `at` (evse_id
 * 0: every port of the station). by: "session", "boot", "status". */
void store_uptime_recovered(store_t *s, const char *station_id, int evse_id, int64_t at,
                            const char *by);

/* ------------------------------------------------------ exclusions */

/* Rows: id, station_id, evse_id (null = every port), reason, starts_at,
 * ends_at, note, created_by, created_at, updated_by, updated_at. */
typedef struct store_exclusion {
    const char *station_id;
    int evse_id; /* 0 = every port */
    const char *reason, *note;
    int64_t starts_at, ends_at;
    const char *by; /* who records it */
} store_exclusion_t;
void store_exclusion_create(store_t *s, const store_exclusion_t *e, store_json_cb cb, void *ctx);
/* The row as it was is result[0][0], as it is now result[2][0]; NOT_FOUND
 * when there is no such row. Every field of e is written (read the row
 * first to keep one). */
void store_exclusion_update(store_t *s, int64_t id, const store_exclusion_t *e, store_json_cb cb,
                            void *ctx);
/* result[0][0] is the row deleted; NOT_FOUND when there is none. */
void store_exclusion_delete(store_t *s, int64_t id, store_json_cb cb, void *ctx);
void store_exclusion_get(store_t *s, int64_t id, store_json_cb cb, void *ctx); /* rows */

typedef struct store_exclusion_filter {
    const char *station_id; /* NULL = any */
    int64_t from, to;       /* overlapping [from, to); 0 = open */
} store_exclusion_filter_t;
/* A sorted page (store_page.h; sorts "from", "to", "id", "created_at") of
 * rows, each with sort_key and sort_id. */
struct store_page;
void store_exclusions_list(store_t *s, const store_exclusion_filter_t *f,
                           const struct store_page *p, store_json_cb cb, void *ctx);

/* ------------------------------------------------------------ scans */

typedef struct store_uptime_status {
    int evse_id, connector_id;
    int64_t at; /* the station's timestamp, never later than when it arrived */
    const char *status, *error_code;
} store_uptime_status_t;

typedef struct store_uptime_connector {
    int evse_id, connector_id; /* 0/0: the station itself (OCPP 1.6 connector 0) */
    int64_t first_at;          /* its first status ever */
} store_uptime_connector_t;

/* A connection, a failed start or an exclusion. */
typedef struct store_uptime_interval {
    int64_t id;
    int evse_id, connector_id; /* exclusions: evse 0 = every port */
    int64_t from, to;          /* to 0: still open */
    const char *kind, *reason, *error_code;
    int64_t session_id;
} store_uptime_interval_t;

/* What a port delivered in the period (with usage). */
typedef struct store_uptime_usage {
    int evse_id;
    int64_t sessions;  /* started in the period */
    int64_t energy_wh; /* of those sessions, register at stop (or latest) minus start */
    bool has_peak;
    double peak_w; /* highest Power.Active.Import sample (phases summed) */
} store_uptime_usage_t;

/* One station's history for [from, to). Everything is valid during the
 * visit only. */
typedef struct store_uptime_history {
    const char *station_id, *site;
    const store_uptime_connector_t *connectors; /* by evse, connector */
    size_t nconnectors;
    /* by evse, connector, then time: each connector's last status at or
     * before from (when there is one), then every status inside */
    const store_uptime_status_t *statuses;
    size_t nstatuses;
    const store_uptime_interval_t *links; /* connections overlapping the period */
    size_t nlinks;
    int64_t tracked_since;                 /* the first connection recorded, 0 = none */
    const store_uptime_interval_t *failed; /* failed starts overlapping the period */
    size_t nfailed;
    const store_uptime_interval_t *exclusions; /* overlapping the period */
    size_t nexclusions;
    const store_uptime_usage_t *usage; /* by evse; with usage only */
    size_t nusage;
} store_uptime_history_t;

typedef struct store_uptime_scan {
    int64_t from, to;
    const char *station_id, *site; /* NULL = any */
    bool usage;                    /* also sessions, energy and peak power per port */
    const char *after;             /* stations with a greater id; NULL = from the first */
    int max_stations;
} store_uptime_scan_t;

/* Runs on the writer thread, once per station (see the top of this file). */
typedef void (*store_uptime_visit_cb)(void *ctx, const store_uptime_history_t *h);
/* On the loop, after the chunk: next is the id to continue after when the
 * chunk was full (more stations may follow), NULL when the scan is done.
 * next is valid during the callback only. */
typedef void (*store_uptime_done_cb)(void *ctx, store_err_t rc, const char *next);
void store_uptime_scan(store_t *s, const store_uptime_scan_t *q, store_uptime_visit_cb visit,
                       store_uptime_done_cb done, void *ctx);

#endif
