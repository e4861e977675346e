/*
 * Grid signals on disk (schema 9): demand-response events (smart_dr_events)
 * and price schedules (smart_prices), as JSON rows in the tables' column
 * names. smart/signals.c turns them into its structures; store/ knows
 * nothing of smart/.
 *
 * smart_dr_events: id, site, start_s, end_s, limit_kw, phase_a (JSON text
 * [a,b,c] or NULL), source, reason, external_id, created_by, created_at,
 * updated_at (ms). smart_prices: id, site ("" = default), body (JSON text:
 * currency and intervals or time_of_use), source, external_id, created_by,
 * created_at, updated_at.
 */
#ifndef AMPGRID_STORE_STORE_SIGNALS_H
#define AMPGRID_STORE_STORE_SIGNALS_H

#include "store/store.h"

/* Start-up (before store_start): events ending at or after since_s, and
 * every price schedule. Returns 0, or -1 on a database error. */
int store_signals_load_sync(store_t *s, int64_t since_s, json_t **dr_rows, json_t **price_rows);

/* Inserts (row has no "id") or updates a row of smart_dr_events (row's keys
 * are its columns; id, created_at and created_by are kept on update).
 * Result {"id": n}; NOT_FOUND when updating a missing id. row is borrowed. */
void store_dr_save(store_t *s, const json_t *row, store_json_cb cb, void *ctx);
void store_dr_delete(store_t *s, int64_t id, store_json_cb cb, void *ctx);
void store_prices_save(store_t *s, const json_t *row, store_json_cb cb, void *ctx);
void store_prices_delete(store_t *s, int64_t id, store_json_cb cb, void *ctx);

/* In one transaction, replaces every row of both tables whose external_id
 * starts with prefix by the given rows (arrays of row objects, borrowed).
 * Rows are objects with the columns but id; reason may be absent. */
void store_signals_replace(store_t *s, const char *prefix, const json_t *dr_rows,
                           const json_t *price_rows, store_json_cb cb, void *ctx);
/* The rows whose external_id starts with prefix: [[dr rows], [price rows]]. */
void store_signals_external(store_t *s, const char *prefix, store_json_cb cb, void *ctx);

#endif
