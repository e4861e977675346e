/*
 * Durable storage. One writer thread owns the database; callers on the event
 * loop hand it operations and get a completion back on the loop after the
 * operation's transaction has committed. Only then may a station or API client
 * be told that something succeeded ("nothing acknowledged is ever lost").
 *
 * Why group commit: SQLite does tens of thousands of inserts a second but only
 * dozens of fsync'd commits. The writer takes every queued operation, runs
 * them in one transaction (each inside its own savepoint, so one failing
 * operation does not sink the others) and commits once.
 *
 * Reads for the API also run on the writer thread, in queue order, so a read
 * after an acknowledged write always sees it.
 *
 * Records below are plain data; the store copies what it is given, and result
 * records handed to callbacks are valid only during the callback.
 * Times are Unix milliseconds (UTC); 0 = unknown.
 */
#ifndef AMPGRID_STORE_STORE_H
#define AMPGRID_STORE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct store store_t;
typedef struct uv_loop_s uv_loop_t;

typedef enum store_err {
    STORE_OK = 0,
    STORE_ERR_IO,        /* the database failed (disk full, corrupt, ...) */
    STORE_ERR_NOT_FOUND,
    STORE_ERR_CONFLICT,  /* unique constraint */
    STORE_ERR_SCHEMA,    /* schema newer than this build */
} store_err_t;

#define STORE_SCHEMA_VERSION 12

typedef struct store_station {
    const char *id;
    const char *password_hash;      /* argon2id string, NULL = none */
    const char *password_hash_prev; /* still accepted during a rotation */
    int security_profile;
    const char *registration_status; /* Accepted | Pending | Rejected */
    bool auto_registered;
    const char *description;
    const char *vendor, *model, *serial_number, *charge_box_serial, *firmware_version;
    const char *iccid, *imsi, *meter_type, *meter_serial;
    const char *protocol;           /* last negotiated subprotocol */
    const char *firmware_status, *diagnostics_status;
    const char *rotation_status;    /* outcome of the last password rotation */
    const char *site;               /* free-form site name, NULL = none */
    const char *location, *labels;  /* JSON object texts, NULL = none */
    int64_t last_boot_at, last_heartbeat_at, created_at, updated_at;
} store_station_t;

typedef struct store_connector {
    const char *station_id;
    int evse_id, connector_id;      /* 1.6 connector N is evse N, connector 1; station = 0/0 */
    const char *status, *error_code, *info, *vendor_id, *vendor_error_code;
    int64_t timestamp;              /* as the station reported it */
    int64_t received_at;
    bool history_only;              /* a late report: history, not the current status */
} store_connector_t;

typedef struct store_id_token {
    const char *id_token;
    const char *type;               /* ISO14443, ISO15693, eMAID, Central, ... */
    const char *status;             /* Accepted | Blocked | Expired | Invalid */
    int64_t expiry;                 /* 0 = none */
    const char *parent_id_token;
    int64_t created_at, updated_at;
} store_id_token_t;

typedef struct store_tx {
    int64_t id;                     /* database id; 0 on insert */
    const char *tx_id;              /* protocol transaction id as a string */
    const char *station_id;
    int evse_id, connector_id;
    const char *id_token, *id_token_type;
    const char *auth_status;        /* id token status answered at start */
    int64_t meter_start, meter_stop; /* Wh; -1 = unknown / none */
    int64_t started_at, stopped_at; /* station timestamps; stopped_at 0 = active */
    const char *stop_reason, *stop_id_token;
    int reservation_id;             /* -1 = none */
    double last_soc;                /* -1 = unknown */
    int64_t last_energy_wh;         /* latest energy register seen, -1 = none */
    int64_t last_soc_at, last_energy_at; /* station timestamps of those readings */
    const char *charging_state;     /* 2.0.1 chargingState, NULL = keep */
    bool fix_start;                 /* store_tx_update: also rewrite the start fields
                                     * (started_at, id_token, id_token_type, auth_status,
                                     * meter_start when >= 0) */
    bool start_only;                /* store_tx_update: only the start fields (fix_start) */
    bool started_event;             /* store_tx_find: a 2.0.1 Started event is recorded */
} store_tx_t;

/* One attribute of one variable of a station's device model (OCPP 2.0.1). */
typedef struct store_variable {
    const char *component, *component_instance; /* instance "" = none */
    int evse_id, connector_id;                  /* -1 = not on an EVSE/connector */
    const char *variable, *variable_instance;
    const char *attribute_type;                 /* Actual, Target, MinSet, MaxSet */
    const char *value, *mutability;
    int persistent, constant;                   /* -1 unknown, 0, 1 */
    const char *data_type, *unit, *values_list;
    bool has_min, has_max;
    double min_limit, max_limit;
    int supports_monitoring;                    /* -1 unknown */
} store_variable_t;

typedef struct store_sample {
    int64_t timestamp;
    const char *value;              /* as sent */
    const char *measurand, *phase, *unit, *context, *location, *format;
} store_sample_t;

typedef struct store_session_filter {
    const char *station_id, *id_token;
    int active;                     /* -1 any, 0 ended, 1 active */
    int64_t from, to;               /* started_at range, 0 = open */
    int limit, offset;
    int64_t before_id;              /* cursor: sessions with a smaller id, 0 = newest */
    const char *site;               /* stations of this site, NULL = any */
    const struct store_page *page;  /* sort and position (store_page.h); NULL = newest
                                     * first from before_id. limit/offset apply either way */
} store_session_filter_t;

typedef struct store_stats {
    unsigned queue_depth;
    uint64_t commits, ops, failures;
    uint64_t commit_us_buckets[12]; /* histogram, see store_commit_bucket_bounds_us */
    uint64_t commit_us_sum;
    uint64_t checkpoints;           /* background WAL checkpoints run */
    uint64_t wal_restarts;          /* times the writer caught up so the WAL started over */
} store_stats_t;

extern const double store_commit_bucket_bounds_us[12];

typedef void (*store_done_cb)(void *ctx, store_err_t rc);
typedef void (*store_tx_cb)(void *ctx, store_err_t rc, int64_t id, bool existed);
/* result is owned by the callee and freed after the callback returns */
typedef void (*store_json_cb)(void *ctx, store_err_t rc, json_t *result);

/* Opens (creating if needed) the database under dir/ampgrid.db and migrates
 * it. Synchronous; call before the loop runs. */
store_t *store_open(const char *dir, bool sync_full, char *err, size_t err_len);
/* Starts the writer thread; completions run on `loop`. */
void store_start(store_t *s, uv_loop_t *loop);
/* True when no operation is queued, running or waiting for its completion. */
bool store_idle(store_t *s);
/* Finishes queued work, stops the thread, runs pending completions, closes.
 * Call after the loop has stopped (the completion handle does not keep the
 * loop alive). */
void store_close(store_t *s);
void store_get_stats(store_t *s, store_stats_t *out);

/* Loading at start-up (synchronous, before store_start). */
typedef void (*store_station_row_cb)(void *ctx, const store_station_t *st);
typedef void (*store_connector_row_cb)(void *ctx, const store_connector_t *c);
typedef void (*store_id_token_row_cb)(void *ctx, const store_id_token_t *t);
typedef void (*store_tx_row_cb)(void *ctx, const store_tx_t *tx);
int store_load_stations(store_t *s, store_station_row_cb cb, void *ctx);
int store_load_connectors(store_t *s, store_connector_row_cb cb, void *ctx);
int store_load_id_tokens(store_t *s, store_id_token_row_cb cb, void *ctx);
int store_load_active_txs(store_t *s, store_tx_row_cb cb, void *ctx);

/* Asynchronous operations; cb may be NULL. Records are copied. */
void store_station_save(store_t *s, const store_station_t *st, store_done_cb cb, void *ctx);
void store_station_delete(store_t *s, const char *id, store_done_cb cb, void *ctx);
/* Records heartbeat times: only last_heartbeat_at changes, for n stations in one operation
 * (the hot path of an idle network is batched in memory, see csms_flush_heartbeats). */
void store_station_heartbeats(store_t *s, const char *const *ids, const int64_t *at, size_t n,
                              store_done_cb cb, void *ctx);
void store_connector_status(store_t *s, const store_connector_t *c, store_done_cb cb, void *ctx);
void store_id_token_save(store_t *s, const store_id_token_t *t, store_done_cb cb, void *ctx);
void store_id_token_delete(store_t *s, const char *id_token, store_done_cb cb, void *ctx);
/* Inserts a transaction; when an identical start exists (same station,
 * connector, id token, meter start and start time) returns its id with existed=true. */
void store_tx_start(store_t *s, const store_tx_t *tx, store_tx_cb cb, void *ctx);
/* Finds a transaction by its protocol id on a station. found is NULL when
 * there is none; the record is valid during the callback only. */
typedef void (*store_tx_found_cb)(void *ctx, store_err_t rc, const store_tx_t *found);
void store_tx_find(store_t *s, const char *station_id, const char *tx_id, store_tx_found_cb cb,
                   void *ctx);
/* Records one transaction event (2.0.1 TransactionEvent) by sequence number;
 * duplicate is true when that sequence number was already recorded. */
typedef void (*store_dup_cb)(void *ctx, store_err_t rc, bool duplicate);
void store_tx_event(store_t *s, int64_t tx_db_id, int seq_no, const char *event_type,
                    const char *trigger_reason, int64_t timestamp, bool offline,
                    const json_t *detail, store_dup_cb cb, void *ctx);
/* The samples of one message, for store_tx_event_samples (borrowed; copied). */
typedef struct store_meter_batch {
    const char *station_id;
    int evse_id, connector_id;
    const store_sample_t *samples;
    size_t n;
    const struct store_tx_progress *progress; /* the session's latest readings, or NULL */
} store_meter_batch_t;
/* store_tx_event and store_meter_values_tx in one operation (one per
 * TransactionEvent carrying meter values); the samples are not written again
 * when the event is a duplicate. */
void store_tx_event_samples(store_t *s, int64_t tx_db_id, int seq_no, const char *event_type,
                            const char *trigger_reason, int64_t timestamp, bool offline,
                            const json_t *detail, const store_meter_batch_t *mv, store_dup_cb cb,
                            void *ctx);
/* Keeps what the EV asked for with its transaction (NULL = unchanged). */
void store_tx_ev_info(store_t *s, int64_t tx_db_id, const json_t *needs, const json_t *schedule,
                      store_done_cb cb, void *ctx);
/* Start-up: the sequence numbers already recorded for active transactions. */
typedef void (*store_seq_row_cb)(void *ctx, int64_t tx_db_id, int seq_no);
int store_load_tx_seqs(store_t *s, store_seq_row_cb cb, void *ctx);
/* Upserts device-model rows for a station (copied). */
void store_variables_save(store_t *s, const char *station_id, const store_variable_t *rows,
                          size_t n, store_done_cb cb, void *ctx);
/* Device model as {"items":[...]}; component/variable filters may be NULL. */
void store_query_variables(store_t *s, const char *station_id, const char *component,
                           const char *variable, store_json_cb cb, void *ctx);

/* Saves the stop fields and last_soc/last_energy of an existing transaction;
 * with fix_start also its start fields (started_at, id_token, meter_start),
 * for a 2.0.1 Started event that arrives after a later event. */
void store_tx_update(store_t *s, const store_tx_t *tx, store_done_cb cb, void *ctx);
void store_meter_values(store_t *s, const char *station_id, int evse_id, int connector_id,
                        int64_t tx_db_id, const store_sample_t *samples, size_t n,
                        store_done_cb cb, void *ctx);
/* A session's latest readings, written with its meter values in the same operation. */
typedef struct store_tx_progress {
    double last_soc;                /* < 0 = none */
    int64_t last_energy_wh;         /* < 0 = none */
    int64_t last_soc_at, last_energy_at;
} store_tx_progress_t;
/* store_meter_values that also updates transaction tx_db_id's latest readings. */
void store_meter_values_tx(store_t *s, const char *station_id, int evse_id, int connector_id,
                           int64_t tx_db_id, const store_sample_t *samples, size_t n,
                           const store_tx_progress_t *progress, store_done_cb cb, void *ctx);
/* Appends to a station's event log (data transfers, firmware/diagnostics status,
 * command outcomes). detail is copied (serialized). */
void store_station_event(store_t *s, const char *station_id, const char *kind,
                         const json_t *detail, store_done_cb cb, void *ctx);

/* Queries answered as JSON (API shapes). A page of sessions: an array of
 * them, each with sort_key and sort_id (store_page.h); sorts by id, started_at,
 * stopped_at, energy_wh, station_id. */
void store_query_sessions(store_t *s, const store_session_filter_t *f, store_json_cb cb,
                          void *ctx);
/* A session with its meter values; NOT_FOUND when absent. */
void store_query_session(store_t *s, int64_t id, store_json_cb cb, void *ctx);
void store_query_status_history(store_t *s, const char *station_id, int limit, store_json_cb cb,
                                void *ctx);
void store_query_station_events(store_t *s, const char *station_id, int limit, store_json_cb cb,
                                void *ctx);

/* API tokens: only a hash of each token is stored. */
int store_api_token_create_sync(store_t *s, const char *name, const char *role,
                                const char *token_hash, int64_t expires_at, char *err,
                                size_t err_len);
int store_api_token_count_sync(store_t *s);
/* result: {"name":..., "role":..., "expires_at":...} or NOT_FOUND */
void store_api_token_lookup(store_t *s, const char *token_hash, store_json_cb cb, void *ctx);

#endif
