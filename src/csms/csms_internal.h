/*
 * The domain's private state, shared by the files of csms/. Not for use
 * outside csms/.
 */
#ifndef AMPGRID_CSMS_INTERNAL_H
#define AMPGRID_CSMS_INTERNAL_H

#include "csms/csms.h"

typedef struct csms_sub {
    csms_event_cb cb;
    csms_meter_cb meter_cb;
    bool typed; /* meter.values goes to meter_cb (if any), never to cb */
    void *ud;
    struct csms_sub *next;
} csms_sub_t;

typedef struct csms_fail {
    char key[80];
    int count;
    int64_t window_start;
    UT_hash_handle hh;
} csms_fail_t;

typedef struct csms_token_count {
    char *id_token;
    int n;                      /* active transactions with this token */
    UT_hash_handle hh;
} csms_token_count_t;

struct csms {
    store_t *store;
    csms_config_t cfg;
    csms_station_t *stations;   /* uthash by id */
    csms_id_token_t *tokens;    /* uthash by id_token */
    csms_tx_t *txs;             /* uthash by id: active transactions */
    csms_tx_t *txs_by_key;      /* the same, by station and protocol id (hh_key) */
    csms_tx_t *txs_by_conn;     /* the latest per connector (hh_conn) */
    csms_token_count_t *token_counts; /* for ConcurrentTx without scanning */
    csms_sub_t *subs;
    csms_fail_t *fails;         /* failed logins by "ip:..." and "id:..." */
    unsigned connected;
};

/* Adapts a domain completion to a store completion: pass csms_store_done as
 * the store callback and csms_done_wrap(cb, ctx) as its context (freed by it). */
void *csms_done_wrap(csms_done_cb cb, void *ctx);
void csms_store_done(void *wrapped, store_err_t rc);

/* Snapshot of a station for the store (strings borrowed from st). */
store_station_t csms_station_record(const csms_station_t *st);
/* Saves the station; cb runs after commit. */
void csms_station_persist(csms_t *c, csms_station_t *st, csms_done_cb cb, void *ctx);
/* Replaces *slot with a copy of v (NULL allowed). */
void csms_set_str(char **slot, const char *v);
void csms_station_free(csms_station_t *st);
csms_station_t *csms_station_new(const char *id);
csms_connector_t *csms_connector_get(csms_station_t *st, int evse_id, int connector_id);

/* Transactions (charging.c), shared with tx_events.c. */
void csms_tx_free(csms_tx_t *t);
void csms_track_samples(csms_tx_t *t, const store_sample_t *sm, size_t n);
/* Folds samples into t; true, with the session's latest readings in *out,
 * when they changed (for the store op that writes the samples). */
bool csms_tx_progress(csms_tx_t *t, const store_sample_t *samples, size_t n,
                      store_tx_progress_t *out);
/* The meter.values event (only built when someone listens): MeterValues and
 * the meterValue of TransactionEvent and StopTransaction all go through it.
 * session_id 0 = none. */
void csms_emit_meter_values(csms_t *c, const char *station_id, int evse_id, int connector_id,
                            int64_t session_id, const store_sample_t *samples, size_t n);
store_tx_t csms_tx_record(const csms_tx_t *t);
json_t *csms_tx_event_json(const csms_tx_t *t);
/* Puts an active transaction into (or takes it out of) every index. */
void csms_tx_index(csms_t *c, csms_tx_t *t);
void csms_tx_unindex(csms_t *c, csms_tx_t *t);
/* Changes an active transaction's id token, keeping the token index right. */
void csms_tx_set_token(csms_t *c, csms_tx_t *t, const char *id_token);
/* Adds a sequence number to t's sorted set; false when it was already there. */
bool csms_tx_seq_add(csms_tx_t *t, int seq);

#endif
