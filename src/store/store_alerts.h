/*
 * Alerts on disk (the alerts table, schema 4): every change of an alert is one
 * upsert of its whole row, so a raise, a repeat, an acknowledgement and a
 * resolution each cost one queued operation. Rows come back as JSON in the
 * table's column names, times as Unix milliseconds.
 *
 * Columns: id, rule, severity, station_id, evse_id, connector_id (NULL for
 * the station as a whole), title, details (JSON text), state, first_seen,
 * last_seen, count, acknowledged_by, acknowledged_at, ack_note, resolved_by,
 * resolved_at, resolve_note, updated_at.
 */
#ifndef AMPGRID_STORE_STORE_ALERTS_H
#define AMPGRID_STORE_STORE_ALERTS_H

#include "store/store.h"
#include "store/store_page.h"

typedef struct store_alert {
    int64_t id;
    const char *rule, *severity, *station_id;
    int evse_id, connector_id; /* evse_id < 1: the station (stored as NULL) */
    const char *title;
    const json_t *details; /* stored as JSON text */
    const char *state;
    int64_t first_seen, last_seen, count;
    const char *acknowledged_by, *ack_note;
    int64_t acknowledged_at; /* 0 = not */
    const char *resolved_by, *resolve_note;
    int64_t resolved_at; /* 0 = not */
    int64_t updated_at;
} store_alert_t;

/* Inserts or replaces the alert's row; cb (may be NULL) after the commit. */
void store_alert_save(store_t *s, const store_alert_t *a, store_json_cb cb, void *ctx);
/* One alert: the result is [[row]], or STORE_ERR_NOT_FOUND. */
void store_alert_get(store_t *s, int64_t id, store_json_cb cb, void *ctx);

typedef struct store_alert_filter {
    const char *states;                   /* comma-separated, NULL = any */
    const char *severities;               /* comma-separated, NULL = any */
    const char *station_id, *site, *rule; /* NULL = any */
    int64_t since;                        /* changed at or after; 0 = any time */
} store_alert_filter_t;
/* A page of alerts (store_page.h: an array of rows with sort_key and
 * sort_id), sorted by id, first_seen, last_seen or updated_at. */
void store_alerts_list(store_t *s, const store_alert_filter_t *f, const store_page_t *page,
                       store_json_cb cb, void *ctx);

/* Synchronous, for start-up only (before store_start): the open (not
 * resolved) alerts' rows into *rows, and the highest id ever given (0 when
 * none). Return 0, or -1 on a database error. */
int store_alerts_load_open_sync(store_t *s, json_t **rows);
int store_alerts_max_id_sync(store_t *s, int64_t *max_id);

#endif
