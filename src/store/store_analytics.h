/*
 * Analytics and exports: reads that aggregate history (energy delivered,
 * sessions, utilization from status history) and the CSV exports of sessions
 * and meter values.
 *
 * Like every read they run on the store's writer thread, so each is bounded:
 * analytics at most ANALYTICS_MAX_BUCKETS buckets and STORE_ANALYTICS_MAX_CELLS
 * group-bucket cells; exports in chunks of at most STORE_EXPORT_CHUNK rows
 * (the caller asks for the next chunk from the completion), walking an index
 * with a keyset cursor so every chunk costs the same.
 *
 * Energy attribution: a session's energy register is a curve through its
 * start reading, every Energy.Active.Import.Register sample stored for it
 * (no phase, Wh or kWh, not signed data) and its stop reading, linear in
 * between. A bucket gets the rise of that curve over the part of the session
 * inside it; without samples this is pro rata over the session's time.
 * See analytics_math.h.
 */
#ifndef AMPGRID_STORE_STORE_ANALYTICS_H
#define AMPGRID_STORE_STORE_ANALYTICS_H

#include "store/analytics_math.h"
#include "store/store.h"

#define STORE_ANALYTICS_MAX_CELLS 200000
#define STORE_EXPORT_CHUNK 2000

typedef enum store_group {
    STORE_GROUP_NETWORK,
    STORE_GROUP_SITE,
    STORE_GROUP_STATION,
    STORE_GROUP_CONNECTOR,
} store_group_t;

typedef struct store_analytics_query {
    int64_t from, to;          /* [from, to) */
    int64_t now;               /* status intervals end here (no extrapolation) */
    analytics_bucket_t bucket; /* NONE: no series */
    int offset_min;            /* local time of the buckets and of the hours */
    const char *station_id;    /* filters; NULL = any */
    const char *site;
    store_group_t group_by;
} store_analytics_query_t;

/* Results are JSON objects handed to cb (owned by the store, valid during the
 * callback). When a request is too big for the limits the result is
 * {"error": "<why>"} with STORE_OK, for the caller to answer 400. */

/* {"series":[{start,end,energy_wh,sessions,completed_sessions,avg_session_s}],
 *  "totals":{energy_wh,sessions,completed_sessions,avg_session_s}} */
void store_analytics_energy(store_t *s, const store_analytics_query_t *q, store_json_cb cb,
                            void *ctx);
/* {"groups":[{"group":{...},"connectors":n,"totals":{...},"series":[...]}]}
 * with period_s, charging_s, occupied_s (charging included), available_s,
 * reserved_s, unavailable_s, faulted_s, unknown_s, charging_share,
 * occupied_share per totals and per bucket. */
void store_analytics_utilization(store_t *s, const store_analytics_query_t *q, store_json_cb cb,
                                 void *ctx);
/* {"hours":[{hour,sessions,completed_sessions,avg_session_s,energy_wh} x 24],"totals":{...}}:
 * sessions started in the range by local hour of their start. */
void store_analytics_sessions_by_hour(store_t *s, const store_analytics_query_t *q,
                                      store_json_cb cb, void *ctx);
/* {"groups":[{"group":{...},"stations","connectors","energy_wh","sessions",
 *  "completed_sessions","avg_session_s","charging_share","occupied_share"}]} */
void store_analytics_summary(store_t *s, const store_analytics_query_t *q, store_json_cb cb,
                             void *ctx);

/* ----------------------------------------------------------------- exports */

typedef enum store_export_kind {
    STORE_EXPORT_SESSIONS,     /* started in [from, to), by station/site */
    STORE_EXPORT_METER_VALUES, /* of one session, or of one station in [from, to) */
} store_export_kind_t;

typedef struct store_export_query {
    store_export_kind_t kind;
    int64_t from, to; /* 0 = open */
    const char *station_id, *site;
    int64_t session_id; /* meter values: 0 = by station */
    /* keyset cursor: rows after (after_t, after_id) in (time, id) order;
     * the first chunk passes has_cursor = false */
    bool has_cursor;
    int64_t after_t, after_id;
    bool count; /* also count every matching row */
} store_export_query_t;

typedef struct store_csv_chunk {
    const char *data; /* CSV records (no header), CRLF-terminated */
    size_t len;
    int rows;                /* < STORE_EXPORT_CHUNK: this was the last chunk */
    int64_t last_t, last_id; /* the cursor for the next chunk */
    int64_t total;           /* when count was asked; -1 otherwise */
} store_csv_chunk_t;

/* chunk is valid during the callback. NOT_FOUND: the session does not exist. */
typedef void (*store_csv_cb)(void *ctx, store_err_t rc, const store_csv_chunk_t *chunk);
void store_export_csv(store_t *s, const store_export_query_t *q, store_csv_cb cb, void *ctx);
/* The header record of an export (CRLF-terminated). */
const char *store_export_header(store_export_kind_t kind);

#endif
